//! Unions of many tables (`union *`, `search`, `union T*`): one DataFusion table over the inputs.
//!
//! A workspace holds hundreds of tables whose columns differ; their union has every column of
//! every table (the 1,408 built-in schemas merge into some 17,500 columns). A DataFusion `Union`
//! needs every input projected to all of those columns, most of them empty: a plan of inputs
//! times columns expressions that takes longer to build and optimize than the data takes to read.
//! A [`WideUnion`] keeps each input as it is (its own columns, under the union's names and
//! types) and is planned as one table scan:
//!
//! - the scan reads only the columns the query uses (DataFusion's projection pushdown), from
//!   each input only those it has;
//! - a filter DataFusion pushes into the scan is applied to each input with the columns that
//!   input lacks replaced by their empty value (Kusto's rule for a union member without the
//!   column); an input where the filter then folds to false is dropped at planning, never read;
//! - `where` right after the union is bound over each input separately by the binder
//!   ([`super::Binder::bind_where_wide`]), so `where * has "x"` is a predicate over each table's
//!   own columns, not over every column of the workspace;
//! - rows are widened to the union's columns as they stream out ([`WideUnionExec`]): a column an
//!   input lacks is an array of empty values built only for the rows that come out;
//! - each input that is projections and filters over a table (what `union`, `search` and
//!   `where *` make) is planned directly, without DataFusion's analyzer and optimizer, whose fixed
//!   cost per plan would add up over hundreds of tables (`direct_plan`).

use super::Col;
use crate::schema::KqlType;
use crate::types::arrow_type;
use async_trait::async_trait;
use datafusion::arrow::array::{new_null_array, ArrayRef, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::catalog::Session as DfSession;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::execution::session_state::SessionState;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, TableProviderFilterPushDown};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SendableRecordBatchStream,
};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;

/// A union with at least this many inputs is planned as a [`WideUnion`]; fewer stay a DataFusion
/// `Union` (whose optimizer then sees into each input).
pub(crate) const WIDE_UNION_INPUTS: usize = 8;

/// A filter over more columns than this is not pushed into the inputs (rewriting it for each
/// input would cost columns times inputs); DataFusion applies it above the scan.
const MAX_PUSHED_FILTER_COLUMNS: usize = 64;

/// One input of a [`WideUnion`]: a plan whose fields are `cols`, each one of the union's columns
/// (same name, same KQL type).
#[derive(Debug, Clone)]
pub(crate) struct WideInput {
    /// The plan.
    pub plan: LogicalPlan,
    /// Its columns.
    pub cols: Vec<Col>,
}

/// The union by name of many inputs, as one table (see the module docs).
#[derive(Debug)]
pub(crate) struct WideUnion {
    schema: SchemaRef,
    cols: Vec<Col>,
    index: HashMap<String, usize>,
    inputs: Vec<WideInput>,
}

impl WideUnion {
    /// The union of `inputs` with columns `cols` (every input column is one of them).
    pub(crate) fn new(cols: Vec<Col>, inputs: Vec<WideInput>) -> Self {
        let schema =
            Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
        let index = cols.iter().enumerate().map(|(i, c)| (c.name.clone(), i)).collect();
        WideUnion { schema, cols, index, inputs }
    }

    /// The union's columns.
    pub(crate) fn cols(&self) -> &[Col] {
        &self.cols
    }

    /// The inputs.
    pub(crate) fn inputs(&self) -> &[WideInput] {
        &self.inputs
    }

    /// The same union over other inputs.
    pub(crate) fn with_inputs(&self, inputs: Vec<WideInput>) -> Self {
        WideUnion { schema: self.schema.clone(), cols: self.cols.clone(), index: self.index.clone(), inputs }
    }

    /// The union's column named `name`.
    pub(crate) fn col(&self, name: &str) -> Option<&Col> {
        self.index.get(name).map(|&i| &self.cols[i])
    }

    /// The union a plan scans, when it is a bare scan of one (no projection or filter pushed).
    pub(crate) fn of(plan: &LogicalPlan) -> Option<Arc<WideUnion>> {
        let LogicalPlan::TableScan(scan) = plan else { return None };
        if scan.projection.is_some() || !scan.filters.is_empty() || scan.fetch.is_some() {
            return None;
        }
        let provider = datafusion::datasource::source_as_provider(&scan.source).ok()?;
        let any: Arc<dyn std::any::Any + Send + Sync> = provider.clone();
        any.downcast::<WideUnion>().ok()
    }

    /// `filter` (over the union's columns) over `input`: the columns the input lacks replaced
    /// by their empty value, simplified; `None` when it is false (or null) for every row.
    fn filter_for(&self, input: &WideInput, filter: &Expr) -> DfResult<Option<Expr>> {
        let has: std::collections::HashSet<&str> = input.cols.iter().map(|c| c.name.as_str()).collect();
        let mut replaced = false;
        let rewritten = filter
            .clone()
            .transform(|e| {
                Ok(match &e {
                    Expr::Column(c) if has.contains(c.name.as_str()) => {
                        Transformed::yes(Expr::Column(Column::from_name(c.name.clone())))
                    }
                    Expr::Column(c) => match self.col(&c.name) {
                        Some(col) => {
                            replaced = true;
                            Transformed::yes(super::scalar::empty_value(col.ty))
                        }
                        None => Transformed::no(e),
                    },
                    _ => Transformed::no(e),
                })
            })?
            .data;
        if !replaced {
            // the input has every column the filter reads: nothing to fold
            return Ok(Some(rewritten));
        }
        let context = SimplifyContext::builder().with_schema(input.plan.schema().clone()).build();
        let simple = ExprSimplifier::new(context).simplify(rewritten)?;
        Ok((!is_false(&simple)).then_some(simple))
    }
}

/// Whether a predicate is false (or null) whatever the row.
pub(crate) fn is_false(e: &Expr) -> bool {
    matches!(e, Expr::Literal(ScalarValue::Boolean(Some(false)), _)) || matches!(e, Expr::Literal(v, _) if v.is_null())
}

#[async_trait]
impl TableProvider for WideUnion {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // applied to each input at planning (dropping inputs where they are false); DataFusion
        // applies them again above the scan
        Ok(filters
            .iter()
            .map(|f| {
                if f.column_refs().len() <= MAX_PUSHED_FILTER_COLUMNS {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.cols.len()).collect(),
        };
        let schema = Arc::new(self.schema.project(&projection)?);
        let types: Vec<KqlType> = projection.iter().map(|&i| self.cols[i].ty).collect();
        // where each union column goes in the output (a query reading every column of a
        // workspace projects some 17,500: nothing here may cost inputs times that)
        let mut out_pos: Vec<Vec<usize>> = vec![Vec::new(); self.cols.len()];
        for (k, &i) in projection.iter().enumerate() {
            out_pos[i].push(k);
        }
        let mut plans: Vec<(LogicalPlan, Slots)> = Vec::new();
        'inputs: for input in &self.inputs {
            let mut plan = LogicalPlanBuilder::from(input.plan.clone());
            for f in filters {
                match self.filter_for(input, f)? {
                    None => continue 'inputs,
                    Some(f) => plan = plan.filter(f)?,
                }
            }
            // the input's columns the scan outputs, in the input's order, and where each goes
            let mut kept: Vec<&Col> = Vec::new();
            let mut slots: Slots = Vec::new();
            for c in &input.cols {
                let outs = &out_pos[self.index[&c.name]];
                if !outs.is_empty() {
                    slots.extend(outs.iter().map(|&o| (o, kept.len())));
                    kept.push(c);
                }
            }
            let plan = plan.project(kept.iter().map(|c| Expr::Column(Column::from_name(c.name.clone()))))?.build()?;
            plans.push((plan, slots));
        }
        let inputs = physical_plans(state, plans).await?;
        let parts = state.config().target_partitions().clamp(1, inputs.len().max(1));
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(parts),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Arc::new(WideUnionExec { inputs: Arc::new(inputs), schema, types, parts, props: Arc::new(props) }))
    }
}

/// The physical plans of the inputs: built directly when an input is a chain of projections and
/// filters over a table scan (what `union`, `search` and `where *` make of a table; see
/// [`direct_plan`]), else planned and optimized by DataFusion each on its own, on every core
/// when the session is DataFusion's own (a fixed cost per input, which adds up over a workspace).
async fn physical_plans(state: &dyn DfSession, plans: Vec<(LogicalPlan, Slots)>) -> DfResult<Vec<ExecInput>> {
    let mut out: Vec<Option<ExecInput>> = Vec::with_capacity(plans.len());
    let mut rest: Vec<(usize, LogicalPlan, Slots)> = Vec::new();
    for (plan, slots) in plans {
        match direct_plan(state, &plan).await {
            Ok(Some(p)) => out.push(Some(ExecInput { plan: p, slots })),
            // anything else (or a direct plan that failed) is left to DataFusion's planner
            _ => {
                rest.push((out.len(), plan, slots));
                out.push(None);
            }
        }
    }
    for (i, input) in planned(state, rest).await? {
        out[i] = Some(input);
    }
    Ok(out.into_iter().map(|x| x.expect("every input planned")).collect())
}

/// `plans` planned by DataFusion (analyzer, optimizer, physical planner), each with its index.
async fn planned(state: &dyn DfSession, plans: Vec<(usize, LogicalPlan, Slots)>) -> DfResult<Vec<(usize, ExecInput)>> {
    let threads = state.config().target_partitions().max(1);
    let Some(session) = state.as_any().downcast_ref::<SessionState>().filter(|_| threads > 1 && plans.len() > 1) else {
        let mut out = Vec::with_capacity(plans.len());
        for (i, plan, slots) in plans {
            out.push((i, ExecInput { plan: state.create_physical_plan(&plan).await?, slots }));
        }
        return Ok(out);
    };
    let chunk = plans.len().div_ceil(threads);
    let mut tasks: Vec<tokio::task::JoinHandle<DfResult<Vec<(usize, ExecInput)>>>> = Vec::new();
    let mut plans = plans.into_iter();
    loop {
        let part: Vec<_> = plans.by_ref().take(chunk).collect();
        if part.is_empty() {
            break;
        }
        let session = session.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(part.len());
            for (i, plan, slots) in part {
                out.push((i, ExecInput { plan: session.create_physical_plan(&plan).await?, slots }));
            }
            DfResult::Ok(out)
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        let part = t.await.map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))??;
        out.extend(part);
    }
    Ok(out)
}

/// The physical plan of `plan` built without DataFusion's analyzer and optimizer, when it is a
/// projection over a chain of projections and filters over a bare table scan: each projected
/// column and each filter rewritten over the table's own columns, the table scanned for the
/// columns they use with the filters it takes pushed into it, then one filter and one projection.
/// That is what the optimizer would make of such a chain, at a small fraction of its cost (which
/// is a fixed cost per input: a workspace has hundreds of tables). `None` for other plans
/// (joins, aggregates, windows, subqueries, volatile functions...).
async fn direct_plan(state: &dyn DfSession, plan: &LogicalPlan) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
    let LogicalPlan::Projection(top) = plan else { return Ok(None) };
    let mut chain: Vec<&LogicalPlan> = Vec::new();
    let mut node = plan;
    let scan = loop {
        match node {
            LogicalPlan::Projection(p) => {
                chain.push(node);
                node = p.input.as_ref();
            }
            LogicalPlan::Filter(f) => {
                chain.push(node);
                node = f.input.as_ref();
            }
            LogicalPlan::TableScan(s) if s.projection.is_none() && s.filters.is_empty() && s.fetch.is_none() => {
                break s
            }
            _ => return Ok(None),
        }
    };
    let provider = datafusion::datasource::source_as_provider(&scan.source)?;
    let table = provider.schema();
    // each column of the current level as an expression over the table's columns
    let mut env: HashMap<String, Expr> =
        table.fields().iter().map(|f| (f.name().clone(), Expr::Column(Column::from_name(f.name())))).collect();
    let mut conjuncts: Vec<Expr> = Vec::new();
    let mut outputs: Vec<(Expr, String)> = Vec::new();
    for node in chain.iter().rev() {
        match node {
            LogicalPlan::Filter(f) => {
                let Some(p) = inline(&f.predicate, &env)? else { return Ok(None) };
                conjuncts.extend(datafusion::logical_expr::utils::split_conjunction_owned(p));
            }
            LogicalPlan::Projection(p) => {
                outputs = Vec::with_capacity(p.expr.len());
                for (e, (_, field)) in p.expr.iter().zip(p.schema.iter()) {
                    let Some(x) = inline(e, &env)? else { return Ok(None) };
                    outputs.push((x, field.name().clone()));
                }
                env = outputs.iter().map(|(e, n)| (n.clone(), e.clone())).collect();
                if env.len() < outputs.len() {
                    // two columns of one name: not a chain this can follow by name
                    return Ok(None);
                }
            }
            _ => return Ok(None),
        }
    }
    debug_assert_eq!(outputs.len(), top.expr.len());
    // the table's columns the filters and the outputs read
    let mut used: Vec<usize> = Vec::new();
    for e in conjuncts.iter().chain(outputs.iter().map(|(e, _)| e)) {
        for c in e.column_refs() {
            let Ok(i) = table.index_of(&c.name) else { return Ok(None) };
            used.push(i);
        }
    }
    used.sort_unstable();
    used.dedup();
    let refs: Vec<&Expr> = conjuncts.iter().collect();
    let pushed: Vec<Expr> = if refs.is_empty() {
        Vec::new()
    } else {
        let support = provider.supports_filters_pushdown(&refs)?;
        conjuncts
            .iter()
            .zip(support)
            .filter(|(_, s)| *s != TableProviderFilterPushDown::Unsupported)
            .map(|(e, _)| e.clone())
            .collect()
    };
    let mut exec = provider.scan(state, Some(&used), &pushed, None).await?;
    let schema = Arc::new(datafusion::common::DFSchema::try_from(exec.schema().as_ref().clone())?);
    // simplified as the optimizer would (some functions, such as `coalesce`, only run once the
    // simplifier has rewritten them)
    let simplifier = ExprSimplifier::new(SimplifyContext::builder().with_schema(schema.clone()).build());
    // every filter is applied (again) above the scan, as DataFusion does for inexact pushdowns
    if let Some(p) = datafusion::logical_expr::utils::conjunction(conjuncts) {
        let p = state.create_physical_expr(simplifier.simplify(p)?, &schema)?;
        exec = Arc::new(datafusion::physical_plan::filter::FilterExec::try_new(p, exec)?);
    }
    let exprs = outputs
        .into_iter()
        .map(|(e, n)| Ok((state.create_physical_expr(simplifier.simplify(e)?, &schema)?, n)))
        .collect::<DfResult<Vec<_>>>()?;
    Ok(Some(Arc::new(datafusion::physical_plan::projection::ProjectionExec::try_new(exprs, exec)?)))
}

/// `e` with each column replaced by its expression in `env` (aliases dropped); `None` when it
/// names a column `env` lacks or holds what [`direct_plan`] does not follow (subqueries,
/// aggregates, windows, volatile functions).
fn inline(e: &Expr, env: &HashMap<String, Expr>) -> DfResult<Option<Expr>> {
    let unsupported = e.exists(|x| {
        Ok(x.is_volatile_node()
            || matches!(
                x,
                Expr::ScalarSubquery(_)
                    | Expr::Exists(_)
                    | Expr::InSubquery(_)
                    | Expr::OuterReferenceColumn(..)
                    | Expr::Placeholder(_)
                    | Expr::AggregateFunction(_)
                    | Expr::WindowFunction(_)
            ))
    })?;
    if unsupported {
        return Ok(None);
    }
    let mut missing = false;
    let out = e
        .clone()
        .unalias_nested()
        .data
        .transform_up(|x| {
            Ok(match &x {
                Expr::Column(c) => match env.get(c.name.as_str()) {
                    Some(v) => Transformed::yes(v.clone()),
                    None => {
                        missing = true;
                        Transformed::no(x)
                    }
                },
                _ => Transformed::no(x),
            })
        })?
        .data;
    Ok((!missing).then_some(out))
}

/// Where an input's columns go: (output column, input column) pairs; the output columns not
/// listed are empty in its rows.
type Slots = Vec<(usize, usize)>;

/// An input as [`WideUnionExec`] runs it: its physical plan, and where its columns go.
#[derive(Debug)]
struct ExecInput {
    plan: Arc<dyn ExecutionPlan>,
    slots: Slots,
}

/// The physical scan of a [`WideUnion`]: the inputs dealt out in order, a run of consecutive ones
/// to each partition (so that the partitions, read in order, give the inputs in the order they
/// were written, as a `union` does), each partition running its inputs one after the other and
/// widening their batches to the union's columns.
#[derive(Debug)]
pub(crate) struct WideUnionExec {
    inputs: Arc<Vec<ExecInput>>,
    schema: SchemaRef,
    types: Vec<KqlType>,
    parts: usize,
    props: Arc<PlanProperties>,
}

impl DisplayAs for WideUnionExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "WideUnionExec: inputs={}, columns={}", self.inputs.len(), self.schema.fields().len())
    }
}

impl ExecutionPlan for WideUnionExec {
    fn name(&self) -> &str {
        "WideUnionExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        // the inputs were planned (and optimized) on their own when the scan was
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(datafusion::error::DataFusionError::Internal("WideUnionExec has no children".into()))
        }
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> DfResult<SendableRecordBatchStream> {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let inputs = self.inputs.clone();
        let schema = self.schema.clone();
        let types = self.types.clone();
        let parts = self.parts;
        let (from, to) = (partition * inputs.len() / parts, (partition + 1) * inputs.len() / parts);
        builder.spawn(async move {
            for input in &inputs[from..to] {
                for part in 0..input.plan.properties().partitioning.partition_count() {
                    let mut stream = input.plan.execute(part, context.clone())?;
                    while let Some(batch) = stream.next().await {
                        let batch = batch?;
                        if batch.num_rows() == 0 {
                            continue;
                        }
                        let wide = widen(&batch, &input.slots, &schema, &types)?;
                        if tx.send(Ok(wide)).await.is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            Ok(())
        });
        Ok(builder.build())
    }
}

/// `batch` with the union's columns: the input's own (cast to the union's type when stored
/// otherwise, e.g. dictionary-encoded text), the empty value of the type for the others (one
/// array per type, shared by the columns that need it).
fn widen(
    batch: &RecordBatch,
    slots: &[(usize, usize)],
    schema: &SchemaRef,
    types: &[KqlType],
) -> DfResult<RecordBatch> {
    let n = batch.num_rows();
    let mut columns: Vec<Option<ArrayRef>> = vec![None; schema.fields().len()];
    for &(o, k) in slots {
        let c = batch.column(k);
        let f = schema.field(o);
        columns[o] = Some(if c.data_type() == f.data_type() { c.clone() } else { cast(c, f.data_type())? });
    }
    let mut empty_text: Option<ArrayRef> = None;
    let mut nulls: HashMap<datafusion::arrow::datatypes::DataType, ArrayRef> = HashMap::new();
    let columns = columns
        .into_iter()
        .zip(schema.fields())
        .zip(types)
        .map(|((c, f), ty)| match c {
            Some(c) => c,
            None if *ty == KqlType::String => {
                empty_text.get_or_insert_with(|| Arc::new(StringArray::from(vec![""; n])) as ArrayRef).clone()
            }
            None => nulls.entry(f.data_type().clone()).or_insert_with(|| new_null_array(f.data_type(), n)).clone(),
        })
        .collect::<Vec<_>>();
    let options = RecordBatchOptions::new().with_row_count(Some(n));
    Ok(RecordBatch::try_new_with_options(schema.clone(), columns, &options)?)
}
