//! `evaluate` plugins: `bag_unpack`, `pivot`, `narrow`, `rows_near`, `dcount_intersect`, and the analytics
//! plugins (`active_users_count`, `activity_counts_metrics`, `activity_engagement`, `activity_metrics`,
//! `new_activity_metrics`,
//! `funnel_sequence_completion`, `sliding_window_counts`,
//! `session_count`, `rolling_percentile`, `schema_merge`), which run over the materialized
//! input.
//!
//! Plugins whose output columns depend on the data (`bag_unpack`, `pivot`) execute a subplan
//! to discover them; in check mode they return an open placeholder (any column resolves).

use super::super::naming::unique;
use super::super::scalar::column;
use super::super::{Binder, Bound, Col, Rel};
use super::mk_rel;
use crate::error::{KqlError, Result};
use crate::functions::{dynfn, logical};
use crate::schema::KqlType;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{lit, Expr, LogicalPlanBuilder};
use kql_parser::ast::{self, ExprKind};
use kql_parser::Span;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A cell read from an Arrow array as a plain value.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub(crate) enum Cell {
    Null,
    I(i64),
    F(f64),
    B(bool),
    S(String),
}

impl Cell {
    pub(crate) fn i(&self) -> Option<i64> {
        match self {
            Cell::I(v) => Some(*v),
            Cell::F(v) => Some(*v as i64),
            _ => None,
        }
    }
    pub(crate) fn f(&self) -> Option<f64> {
        match self {
            Cell::I(v) => Some(*v as f64),
            Cell::F(v) => Some(*v),
            _ => None,
        }
    }
}

pub(crate) fn cell(a: &ArrayRef, i: usize) -> Cell {
    use datafusion::arrow::datatypes::DataType as D;
    if a.is_null(i) {
        return Cell::Null;
    }
    match a.data_type() {
        D::Int64 => Cell::I(a.as_primitive::<Int64Type>().value(i)),
        D::Int32 => Cell::I(a.as_primitive::<Int32Type>().value(i) as i64),
        D::Float64 => Cell::F(a.as_primitive::<Float64Type>().value(i)),
        D::Boolean => Cell::B(a.as_boolean().value(i)),
        D::Utf8 => Cell::S(a.as_string::<i32>().value(i).to_string()),
        _ => match ScalarValue::try_from_array(a, i) {
            Ok(v) => Cell::S(v.to_string()),
            Err(_) => Cell::Null,
        },
    }
}

/// The rows of batches as cells.
pub(crate) fn rows_of(batches: &[RecordBatch]) -> Vec<Vec<Cell>> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            out.push(b.columns().iter().map(|c| cell(c, i)).collect());
        }
    }
    out
}

/// A column of cells as an Arrow array of a KQL type.
pub(crate) fn cells_to_array(cells: &[Cell], ty: KqlType) -> Result<ArrayRef> {
    let vals: Vec<ScalarValue> = cells
        .iter()
        .map(|c| match (ty, c) {
            (KqlType::Bool, Cell::B(b)) => ScalarValue::Boolean(Some(*b)),
            (KqlType::Bool, _) => ScalarValue::Boolean(None),
            (KqlType::Int, c) => ScalarValue::Int32(c.i().map(|v| v as i32)),
            (KqlType::Long | KqlType::DateTime | KqlType::TimeSpan, c) => ScalarValue::Int64(c.i()),
            (KqlType::Real | KqlType::Decimal, c) => ScalarValue::Float64(c.f()),
            (_, Cell::S(s)) => ScalarValue::Utf8(Some(s.clone())),
            (KqlType::String, Cell::Null) => ScalarValue::Utf8(Some(String::new())),
            (_, Cell::Null) => ScalarValue::Utf8(None),
            (_, Cell::I(v)) => ScalarValue::Utf8(Some(v.to_string())),
            (_, Cell::F(v)) => ScalarValue::Utf8(Some(dj::json_from_f64(*v))),
            (_, Cell::B(v)) => ScalarValue::Utf8(Some(v.to_string())),
        })
        .collect();
    if vals.is_empty() {
        return Ok(datafusion::arrow::array::new_empty_array(&crate::types::arrow_type(ty)));
    }
    Ok(ScalarValue::iter_to_array(vals)?)
}

fn plugin_err(name: &str, msg: impl Into<String>, span: Span) -> KqlError {
    KqlError::new("KQL130", format!("{name}: {}", msg.into()), span)
}

/// The input of the activity plugins: each combination of the dimension columns with its
/// (id, time) pairs sorted by time.
struct Activity {
    time_col: Col,
    dim_cols: Vec<Col>,
    groups: Vec<(Vec<Cell>, Vec<(String, i64)>)>,
}

impl Activity {
    /// The output columns: the time, the dimensions, then `counts` (the order Kusto's
    /// analyzer gives).
    fn columns(&self, counts: &[Col]) -> Vec<Col> {
        let mut cols = vec![self.time_col.clone()];
        cols.extend(self.dim_cols.iter().cloned());
        cols.extend(counts.iter().cloned());
        cols
    }

    /// The analysis range: the given Start and End, else the first and last activity.
    fn range(&self, start: Option<i64>, end: Option<i64>) -> Option<(i64, i64)> {
        let all = || self.groups.iter().flat_map(|(_, v)| v.iter().map(|(_, t)| *t));
        Some((start.or_else(|| all().min())?, end.or_else(|| all().max())?))
    }
}

/// The distinct ids active in `[lo, hi)` of time-sorted activity.
fn ids_in(acts: &[(String, i64)], lo: i64, hi: i64) -> HashSet<&str> {
    let from = acts.partition_point(|(_, t)| *t < lo);
    let to = acts.partition_point(|(_, t)| *t < hi);
    acts[from..to.max(from)].iter().map(|(i, _)| i.as_str()).collect()
}

impl Binder<'_> {
    /// A relation from rows of cells.
    pub(crate) fn rel_from_cells(&mut self, cols: Vec<Col>, rows: &[Vec<Cell>]) -> Result<Rel> {
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (k, c) in cols.iter().enumerate() {
            let column: Vec<Cell> = rows.iter().map(|r| r.get(k).cloned().unwrap_or(Cell::Null)).collect();
            arrays.push(cells_to_array(&column, c.ty)?);
        }
        let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(
            cols.iter()
                .map(|c| datafusion::arrow::datatypes::Field::new(&c.name, crate::types::arrow_type(c.ty), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(schema, arrays).map_err(|e| KqlError::general("KQL049", e.to_string()))?;
        self.rel_from_batches(cols, vec![batch])
    }

    /// `evaluate plugin(args)`.
    pub(crate) fn bind_evaluate(
        &mut self,
        rel: Option<Rel>,
        params: &[ast::NamedArg],
        call: &ast::Expr,
        schema: Option<&[Option<ast::ColumnDecl>]>,
        span: Span,
    ) -> Result<Rel> {
        let _ = params;
        let input_names: Vec<String> =
            rel.as_ref().map(|r| r.cols.iter().map(|c| c.name.clone()).collect()).unwrap_or_default();
        let out = self.bind_plugin(rel, call, span)?;
        match schema {
            Some(schema) if !out.open => self.apply_output_schema(out, &input_names, schema),
            _ => Ok(out),
        }
    }

    /// The plugin's output shaped by the query's output schema (`evaluate p(...) : (*, A:long)`):
    /// the named columns in order, each of its declared type (null where the plugin made no such
    /// column), and at a `*` the input's columns that the plugin passed through and the schema
    /// does not name.
    fn apply_output_schema(&mut self, rel: Rel, input: &[String], schema: &[Option<ast::ColumnDecl>]) -> Result<Rel> {
        let named: HashSet<&str> = schema.iter().flatten().map(|c| c.name.name.as_str()).collect();
        let mut cols = Vec::new();
        let mut exprs = Vec::new();
        for item in schema {
            match item {
                None => {
                    for c in &rel.cols {
                        if input.contains(&c.name) && !named.contains(c.name.as_str()) {
                            exprs.push(column(&c.name));
                            cols.push(c.clone());
                        }
                    }
                }
                Some(d) => {
                    let ty = super::super::tabular::type_of(&d.ty);
                    let name = d.name.name.clone();
                    let v = match rel.col(&name) {
                        Some(c) => self.coerce(Bound::new(column(&c.name), c.ty), ty).expr,
                        None => super::super::scalar::typed_null(ty),
                    };
                    exprs.push(v.alias(&name));
                    cols.push(Col::new(name, ty));
                }
            }
        }
        let plan = crate::binder::projection::project(rel.plan, exprs)?;
        Ok(mk_rel(plan, cols))
    }

    fn bind_plugin(&mut self, rel: Option<Rel>, call: &ast::Expr, span: Span) -> Result<Rel> {
        let ExprKind::Call { name, args, .. } = &call.kind else {
            return Err(KqlError::new("KQL131", "evaluate needs a plugin call", call.span));
        };
        let pname = name.name.to_lowercase();
        let Some(input) = rel else {
            return Err(KqlError::new(
                "KQL055",
                format!("the `{}` plugin is not supported without an input table yet", name.name),
                span,
            ));
        };
        match pname.as_str() {
            "bag_unpack" => self.plugin_bag_unpack(input, args, call.span),
            "pivot" => self.plugin_pivot(input, args, call.span),
            "narrow" => self.plugin_narrow(input, call.span),
            "rows_near" => self.plugin_rows_near(input, args, call.span),
            "dcount_intersect" => self.plugin_dcount_intersect(input, args, call.span),
            "active_users_count" => self.plugin_active_users(input, args, call.span),
            "activity_counts_metrics" => self.plugin_activity_counts(input, args, call.span),
            "activity_engagement" => self.plugin_activity_engagement(input, args, call.span),
            "activity_metrics" => self.plugin_activity_metrics(input, args, call.span),
            "new_activity_metrics" => self.plugin_new_activity_metrics(input, args, call.span),
            "funnel_sequence_completion" => self.plugin_funnel_completion(input, args, call.span),
            "sliding_window_counts" => self.plugin_sliding_window(input, args, call.span),
            "session_count" => self.plugin_session_count(input, args, call.span),
            "rolling_percentile" => self.plugin_rolling_percentile(input, args, call.span),
            "sequence_detect" => self.plugin_sequence_detect(input, args, call.span),
            "schema_merge" => self.plugin_schema_merge(input, args, call.span),
            "ipv4_lookup" => self.plugin_ip_lookup(input, args, false, call.span),
            "ipv6_lookup" => self.plugin_ip_lookup(input, args, true, call.span),
            "geo_polygon_lookup" => self.plugin_geo_lookup(input, args, false, call.span),
            "geo_line_lookup" => self.plugin_geo_lookup(input, args, true, call.span),
            other => match crate::functions::cluster_only::plugin_reason(other) {
                Some(why) => Err(crate::functions::cluster_only::error(&name.name, why, span)),
                None => Err(KqlError::new("KQL055", format!("the `{}` plugin is not supported yet", name.name), span)),
            },
        }
    }

    /// Named (or positional at `pos`) argument.
    fn plugin_arg<'a>(args: &'a [ast::Arg], name: &str, pos: usize) -> Option<&'a ast::Expr> {
        if let Some(a) = args.iter().find_map(|a| match a {
            ast::Arg::Named(n) if n.name.name.eq_ignore_ascii_case(name) => Some(&n.value),
            _ => None,
        }) {
            return Some(a);
        }
        args.iter().filter(|a| matches!(a, ast::Arg::Positional(_))).nth(pos).map(|a| a.expr())
    }

    fn const_string_arg(&mut self, e: &ast::Expr) -> Result<String> {
        let b = self.bind_constant(e)?;
        let ty = b.ty;
        let v = if ty == KqlType::Dynamic {
            self.const_value(dynfn::tostring(b.expr), KqlType::String, e.span)?
        } else {
            self.const_value(self.coerce(b, KqlType::String).expr, KqlType::String, e.span)?
        };
        Ok(match v {
            ScalarValue::Utf8(Some(s)) => s,
            _ => String::new(),
        })
    }

    pub(crate) fn const_cell(&mut self, e: &ast::Expr) -> Result<(Cell, KqlType)> {
        let b = self.bind_constant(e)?;
        let ty = b.ty;
        let v = self.const_value(b.expr, ty, e.span)?;
        let arr = v.to_array()?;
        Ok((cell(&arr, 0), ty))
    }

    // -----------------------------------------------------------------------------------
    // bag_unpack
    // -----------------------------------------------------------------------------------

    fn plugin_bag_unpack(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        let Some(col_e) = args.first().map(|a| a.expr()) else {
            return Err(plugin_err("bag_unpack", "expects the column to unpack", span));
        };
        let b = self.bind_scalar(col_e, &rel)?;
        let src_name = match &col_e.kind {
            ExprKind::Name(n) if rel.col(&n.name).is_some() => Some(n.name.clone()),
            _ => None,
        };
        let bag = self.coerce(b, KqlType::Dynamic).expr;
        let mut prefix = String::new();
        let mut conflict = "error".to_string();
        let mut ignored: HashSet<String> = HashSet::new();
        let mut pos = 0;
        for a in args.iter().skip(1) {
            match a {
                ast::Arg::Named(n) => match n.name.name.to_lowercase().as_str() {
                    "outputcolumnprefix" => prefix = self.const_string_arg(&n.value)?,
                    "columnsconflict" => conflict = self.const_string_arg(&n.value)?.to_lowercase(),
                    "ignoredproperties" => ignored.extend(self.const_string_list(&n.value)?),
                    other => return Err(plugin_err("bag_unpack", format!("unknown argument `{other}`"), span)),
                },
                ast::Arg::Positional(e) => {
                    match pos {
                        0 => prefix = self.const_string_arg(e)?,
                        1 => conflict = self.const_string_arg(e)?.to_lowercase(),
                        _ => ignored.extend(self.const_string_list(e)?),
                    }
                    pos += 1;
                }
            }
        }
        let base: Vec<Col> = rel.cols.iter().filter(|c| Some(&c.name) != src_name.as_ref()).cloned().collect();
        if self.options.check_only {
            return self.open_placeholder(base);
        }
        // discover slots and their types
        let probe = crate::binder::projection::project(rel.plan.clone(), vec![bag.clone().alias("b")])?;
        let batches = self.runner.run(probe)?;
        let mut slots: BTreeMap<String, Option<KqlType>> = BTreeMap::new();
        for batch in &batches {
            let a = batch.column(0).as_string::<i32>();
            for i in 0..a.len() {
                if a.is_null(i) {
                    continue;
                }
                for (k, v) in dj::object_entries(a.value(i)).unwrap_or_default() {
                    if ignored.contains(k.as_ref()) {
                        continue;
                    }
                    let t = match dj::kind(v) {
                        Some(dj::JsonKind::Null) | None => None,
                        Some(dj::JsonKind::Bool) => Some(KqlType::Bool),
                        Some(dj::JsonKind::Long) => Some(KqlType::Long),
                        Some(dj::JsonKind::Real) => Some(KqlType::Real),
                        Some(dj::JsonKind::String) => Some(KqlType::String),
                        Some(_) => Some(KqlType::Dynamic),
                    };
                    let e = slots.entry(k.to_string()).or_insert(None);
                    if let Some(t) = t {
                        *e = match *e {
                            None => Some(t),
                            Some(old) if old == t => Some(old),
                            Some(_) => Some(KqlType::Dynamic),
                        };
                    }
                }
            }
        }
        let mut cols = base.clone();
        let mut exprs: Vec<Expr> = base.iter().map(|c| column(&c.name)).collect();
        for (k, t) in slots {
            let ty = t.unwrap_or(KqlType::Dynamic);
            let name = format!("{prefix}{k}");
            let v = dynfn::path(bag.clone(), &[super::super::scalar::PathPart::Key(k.clone())]);
            let v = self.coerce(Bound::new(v, KqlType::Dynamic), ty).expr;
            let v = if ty == KqlType::String { logical::coalesce(vec![v, lit("")]) } else { v };
            if let Some(i) = cols.iter().position(|c| c.name == name) {
                match conflict.as_str() {
                    "replace_source" => {
                        exprs[i] = v.alias(&name);
                        cols[i].ty = ty;
                    }
                    "keep_source" => {}
                    _ => {
                        return Err(plugin_err(
                            "bag_unpack",
                            format!("the slot `{name}` conflicts with an existing column of the same name"),
                            span,
                        )
                        .with_help("use columnsConflict='replace_source' or 'keep_source', or an OutputColumnPrefix"))
                    }
                }
            } else {
                exprs.push(v.alias(&name));
                cols.push(Col::new(name, ty));
            }
        }
        let plan = crate::binder::projection::project(rel.plan, exprs)?;
        Ok(mk_rel(plan, cols))
    }

    fn const_string_list(&mut self, e: &ast::Expr) -> Result<Vec<String>> {
        let b = self.bind_constant(e)?;
        let b = self.coerce(b, KqlType::Dynamic);
        let v = self.const_value(b.expr, KqlType::Dynamic, e.span)?;
        Ok(match v {
            ScalarValue::Utf8(Some(s)) => match dj::array_elements(&s) {
                Some(items) => items.iter().map(|x| dj::to_kql_string(x)).collect(),
                None => vec![dj::to_kql_string(&s)],
            },
            _ => vec![],
        })
    }

    // -----------------------------------------------------------------------------------
    // pivot / narrow
    // -----------------------------------------------------------------------------------

    fn plugin_pivot(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        let Some(pe) = args.first().map(|a| a.expr()) else {
            return Err(plugin_err("pivot", "expects the pivot column", span));
        };
        let ExprKind::Name(pcol) = &pe.kind else {
            return Err(plugin_err("pivot", "the pivot column must be a column name", pe.span));
        };
        if rel.col(&pcol.name).is_none() {
            return Err(KqlError::new(
                "KS142",
                format!("The name '{}' does not refer to any known column, table, variable or function.", pcol.name),
                pcol.span,
            ));
        }
        // aggregation: the second argument when it is a call of an aggregate
        let mut agg: Option<(String, Vec<ast::Arg>)> = None;
        let mut group: Vec<String> = Vec::new();
        for a in &args[1..] {
            match &a.expr().kind {
                ExprKind::Call { name, args: aargs, .. }
                    if agg.is_none() && crate::functions::aggregate::is_aggregate(&name.name) =>
                {
                    agg = Some((name.name.clone(), aargs.clone()))
                }
                ExprKind::Name(n) => group.push(n.name.clone()),
                _ => return Err(plugin_err("pivot", "unexpected argument", a.expr().span)),
            }
        }
        let (agg_name, agg_args) = agg.unwrap_or_else(|| ("count".to_string(), vec![]));
        if group.is_empty() {
            let agg_cols: Vec<String> = agg_args
                .iter()
                .filter_map(|a| match &a.expr().kind {
                    ExprKind::Name(n) => Some(n.name.clone()),
                    _ => None,
                })
                .collect();
            group = rel
                .cols
                .iter()
                .filter(|c| c.name != pcol.name && !agg_cols.contains(&c.name))
                .map(|c| c.name.clone())
                .collect();
        }
        let group_cols: Vec<Col> = group.iter().filter_map(|g| rel.col(g).cloned()).collect();
        if self.options.check_only {
            return self.open_placeholder(group_cols);
        }
        // the distinct pivot values
        let pty = rel.col(&pcol.name).map(|c| c.ty).unwrap_or(KqlType::String);
        let probe =
            LogicalPlanBuilder::from(rel.plan.clone()).project(vec![column(&pcol.name)])?.distinct()?.build()?;
        let mut values: Vec<Cell> = rows_of(&self.runner.run(probe)?).into_iter().map(|mut r| r.remove(0)).collect();
        values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let if_name = match agg_name.as_str() {
            "count" => "countif",
            "sum" => "sumif",
            "avg" => "avgif",
            "min" => "minif",
            "max" => "maxif",
            "dcount" => "dcountif",
            "take_any" | "any" => "take_anyif",
            "make_list" => "make_list_if",
            "make_set" => "make_set_if",
            "stdev" => "stdevif",
            "variance" => "varianceif",
            other => return Err(plugin_err("pivot", format!("aggregation `{other}` is not supported"), span)),
        };
        let sp = span;
        let mk = |k: ExprKind| ast::Expr::new(k, sp);
        let mut aggs: Vec<ast::ColumnAssign> = Vec::new();
        let mut taken: Vec<String> = group.clone();
        for v in &values {
            let (text, lit_e) = match v {
                Cell::Null => (String::new(), None),
                Cell::I(i) => (
                    if pty == KqlType::DateTime || pty == KqlType::TimeSpan { String::new() } else { i.to_string() },
                    Some(ast::Literal::Long(Some(*i))),
                ),
                Cell::F(f) => (crate::functions::strfn::format_real(*f), Some(ast::Literal::Real(Some(*f)))),
                Cell::B(b) => (b.to_string(), Some(ast::Literal::Bool(Some(*b)))),
                Cell::S(s) => (s.clone(), Some(ast::Literal::String(s.clone()))),
            };
            let pref = mk(ExprKind::Name(pcol.clone()));
            let pred = match lit_e {
                Some(l) if pty != KqlType::DateTime && pty != KqlType::TimeSpan => mk(ExprKind::Binary {
                    op: ast::BinaryOp::Eq,
                    left: Box::new(pref),
                    right: Box::new(mk(ExprKind::Literal(l))),
                }),
                _ => mk(ExprKind::Call {
                    target: None,
                    name: ast::Ident::new("isnull", sp),
                    args: vec![ast::Arg::Positional(pref)],
                }),
            };
            let mut cargs = agg_args.clone();
            cargs.push(ast::Arg::Positional(pred));
            let name = unique(if text.is_empty() { "Column" } else { &text }, &taken);
            taken.push(name.clone());
            aggs.push(ast::ColumnAssign {
                names: vec![ast::Ident::new(name, sp)],
                expr: mk(ExprKind::Call { target: None, name: ast::Ident::new(if_name, sp), args: cargs }),
                span: sp,
            });
        }
        let by: Vec<ast::ColumnAssign> = group
            .iter()
            .map(|g| ast::ColumnAssign {
                names: vec![],
                expr: mk(ExprKind::Name(ast::Ident::new(g.clone(), sp))),
                span: sp,
            })
            .collect();
        crate::functions::aggregate::bind_summarize(self, rel, &aggs, &by, span)
    }

    fn plugin_narrow(&mut self, rel: Rel, span: Span) -> Result<Rel> {
        let _ = span;
        let cols = vec![
            Col::new("Row", KqlType::Int),
            Col::new("Column", KqlType::String),
            Col::new("Value", KqlType::String),
        ];
        if rel.cols.is_empty() {
            return self.rel_from_cells(cols, &[]);
        }
        // one pass over the input (a plan read twice runs twice, and over a join its rows come
        // in another order each run): number the rows, make each a list of (column, value)
        // pairs, and unnest it, row by row
        let rn = datafusion::functions_window::expr_fn::row_number().alias("__row");
        let numbered = LogicalPlanBuilder::from(rel.plan.clone()).window(vec![rn])?.build()?;
        let mut pairs = Vec::with_capacity(rel.cols.len());
        for c in &rel.cols {
            let v = if c.ty == KqlType::Dynamic {
                dynfn::tostring(column(&c.name))
            } else {
                self.coerce(Bound::new(column(&c.name), c.ty), KqlType::String).expr
            };
            pairs.push(datafusion::functions::core::expr_fn::named_struct(vec![
                lit("c"),
                lit(c.name.clone()),
                lit("v"),
                v,
            ]));
        }
        let list = self.fresh_alias("narrow");
        let item = column(&list);
        let plan = LogicalPlanBuilder::from(numbered)
            .project(vec![column("__row"), datafusion::functions_nested::expr_fn::make_array(pairs).alias(&list)])?
            .unnest_column(datafusion::common::Column::from_name(&list))?
            .project(vec![
                datafusion::logical_expr::cast(
                    column("__row") - lit(1u64),
                    datafusion::arrow::datatypes::DataType::Int32,
                )
                .alias("Row"),
                datafusion::functions::core::expr_fn::get_field(item.clone(), "c").alias("Column"),
                datafusion::functions::core::expr_fn::get_field(item, "v").alias("Value"),
            ])?
            .build()?;
        Ok(mk_rel(plan, cols))
    }

    // -----------------------------------------------------------------------------------
    // rows_near
    // -----------------------------------------------------------------------------------

    /// `dcount_intersect(hll_1, hll_2, ...)`: the input with columns `s0`..`s(n-1)`, the
    /// distinct counts of S1, S1 ∩ S2, ..., S1 ∩ ... ∩ Sn of each row's hll sets (2 to 16).
    fn plugin_dcount_intersect(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        if !(2..=16).contains(&args.len()) {
            return Err(plugin_err("dcount_intersect", "expects 2 to 16 hll values", span));
        }
        let mut sets = Vec::new();
        for a in args {
            let b = self.bind_scalar(a.expr(), &rel)?;
            if !matches!(b.ty, KqlType::Dynamic) {
                return Err(plugin_err("dcount_intersect", "expects hll values (dynamic, from hll())", a.expr().span));
            }
            sets.push(b.expr);
        }
        let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        let mut cols = rel.cols.clone();
        for k in 0..sets.len() {
            let name = unique(&format!("s{k}"), &cols.iter().map(|c| c.name.clone()).collect::<Vec<_>>());
            exprs.push(crate::functions::sketch::intersect_count(sets[..=k].to_vec()).expr.alias(&name));
            cols.push(Col::new(name, KqlType::Long));
        }
        let plan = crate::binder::projection::project(rel.plan, exprs)?;
        Ok(mk_rel(plan, cols))
    }

    fn plugin_rows_near(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        let (Some(cond), Some(n)) = (Self::plugin_arg(args, "condition", 0), Self::plugin_arg(args, "NumRows", 1))
        else {
            return Err(plugin_err("rows_near", "expects (condition, NumRows [, RowsAfter])", span));
        };
        let before = self.const_count(n)?;
        let after = match Self::plugin_arg(args, "RowsAfter", 2) {
            Some(a) => self.const_count(a)?,
            None => before,
        };
        let c = self.bind_scalar(cond, &rel)?;
        let c = self.as_bool(c, cond.span)?;
        if self.options.check_only {
            return Ok(rel);
        }
        let with_c = LogicalPlanBuilder::from(rel.plan.clone()).project(
            rel.cols
                .iter()
                .map(|c| column(&c.name))
                .chain(std::iter::once(logical::null_false(c).alias("__cond")))
                .collect::<Vec<_>>(),
        )?;
        let rows = rows_of(&self.runner.run(with_c.build()?)?);
        let n = rows.len();
        let mut keep = vec![false; n];
        for (i, r) in rows.iter().enumerate() {
            if matches!(r.last(), Some(Cell::B(true))) {
                let lo = i.saturating_sub(before);
                let hi = (i + after).min(n.saturating_sub(1));
                for k in keep.iter_mut().take(hi + 1).skip(lo) {
                    *k = true;
                }
            }
        }
        let out: Vec<Vec<Cell>> = rows
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(mut r, _)| {
                r.pop();
                r
            })
            .collect();
        self.rel_from_cells(rel.cols.clone(), &out)
    }

    // -----------------------------------------------------------------------------------
    // the analytics plugins: (id, time) columns over a range of bins
    // -----------------------------------------------------------------------------------

    /// Bind `(id, time)` columns of the input and read them with the constants.
    fn id_time_rows(&mut self, rel: &Rel, id: &ast::Expr, time: &ast::Expr) -> Result<(Vec<(String, i64)>, KqlType)> {
        let idb = self.bind_scalar(id, rel)?;
        let idb = self.coerce(idb, KqlType::String);
        let tb = self.bind_scalar(time, rel)?;
        let tty = tb.ty;
        if self.options.check_only {
            return Ok((vec![], tty));
        }
        let tb = if tty == KqlType::Real { Bound::new(tb.expr, tty) } else { self.coerce(tb, KqlType::Long) };
        let plan = LogicalPlanBuilder::from(rel.plan.clone())
            .project(vec![idb.expr.alias("id"), tb.expr.alias("t")])?
            .build()?;
        let rows = rows_of(&self.runner.run(plan)?);
        let mut out = Vec::new();
        for r in rows {
            let id = match &r[0] {
                Cell::S(s) => s.clone(),
                _ => continue,
            };
            let Some(t) = r[1].i() else { continue };
            out.push((id, t));
        }
        Ok((out, tty))
    }

    pub(crate) fn const_i64(&mut self, e: &ast::Expr, ty: KqlType) -> Result<i64> {
        let b = self.bind_constant(e)?;
        let v = self.const_value(self.coerce(b, ty).expr, ty, e.span)?;
        match v {
            ScalarValue::Int64(Some(x)) => Ok(x),
            ScalarValue::Int32(Some(x)) => Ok(x as i64),
            ScalarValue::Float64(Some(x)) => Ok(x as i64),
            _ => Err(KqlError::new("KQL132", "expected a constant value", e.span)),
        }
    }

    fn args_n<'a>(args: &'a [ast::Arg], n: usize, name: &str, span: Span) -> Result<Vec<&'a ast::Expr>> {
        if args.len() < n {
            return Err(plugin_err(name, format!("expects at least {n} arguments"), span));
        }
        Ok(args.iter().map(|a| a.expr()).collect())
    }

    fn plugin_active_users(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        // (IdColumn, TimelineColumn, Start, End, LookbackWindow, Period, ActivePeriodsCount, Bin [, dim...])
        let a = Self::args_n(args, 8, "active_users_count", span)?;
        let (rows, tty) = self.id_time_rows(&rel, a[0], a[1])?;
        let start = self.const_i64(a[2], KqlType::DateTime)?;
        let end = self.const_i64(a[3], KqlType::DateTime)?;
        let lookback = self.const_i64(a[4], KqlType::TimeSpan)?;
        let period = self.const_i64(a[5], KqlType::TimeSpan)?;
        let active = self.const_i64(a[6], KqlType::Long)?;
        let bin = self.const_i64(a[7], KqlType::TimeSpan)?;
        let tname = column_name(a[1]).unwrap_or_else(|| "Timestamp".into());
        let cols = vec![Col::new(tname, tty), Col::new("dcount", KqlType::Long)];
        if period <= 0 || bin <= 0 {
            return Err(plugin_err("active_users_count", "period and bin must be positive", span));
        }
        // per user: the set of active periods (binned by period, aligned to start)
        let mut periods: HashMap<&str, BTreeSet<i64>> = HashMap::new();
        for (id, t) in &rows {
            periods.entry(id.as_str()).or_default().insert(start + (t - start).div_euclid(period) * period);
        }
        let mut out = Vec::new();
        let mut b = start;
        while b < end {
            let bin_end = (b + bin).min(end);
            // a user counts in a bin if, at some period in it, the periods in the lookback
            // window ending there number at least `active`
            let mut n = 0i64;
            for set in periods.values() {
                let hit = set.range(b..bin_end).any(|p| {
                    let lo = p - lookback + period;
                    set.range(lo..=*p).count() as i64 >= active
                });
                if hit {
                    n += 1;
                }
            }
            if n > 0 {
                out.push(vec![Cell::I(b), Cell::I(n)]);
            }
            b += bin;
        }
        self.rel_from_cells(cols, &out)
    }

    /// `activity_engagement(Id, Time, [Start, End,] Inner, Outer [, dims...])`: for each
    /// inner-window step from Start (or the first activity) to End (or the last), the distinct
    /// ids active in that step, those active in the outer window that ends with it, and their
    /// ratio (DAU/WAU for 1d and 7d), per combination of the dimension columns.
    fn plugin_activity_engagement(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        const NAME: &str = "activity_engagement";
        let a = Self::args_n(args, 4, NAME, span)?;
        let (start, end, first_window) = self.optional_range(&a)?;
        if a.len() < first_window + 2 {
            return Err(plugin_err(
                NAME,
                "expects (Id, Time, [Start, End,] InnerWindow, OuterWindow [, dims...])",
                span,
            ));
        }
        let inner = self.const_i64(a[first_window], KqlType::TimeSpan)?;
        let outer = self.const_i64(a[first_window + 1], KqlType::TimeSpan)?;
        if inner <= 0 || outer <= 0 {
            return Err(plugin_err(NAME, "the windows must be positive", span));
        }
        let act = self.activity(&rel, a[0], a[1], &a[first_window + 2..])?;
        let counts = [
            Col::new("dcount_activities_inner", KqlType::Long),
            Col::new("dcount_activities_outer", KqlType::Long),
            Col::new("activity_ratio", KqlType::Real),
        ];
        let cols = act.columns(&counts);
        let Some((start, end)) = act.range(start, end) else { return self.rel_from_cells(cols, &[]) };
        let mut out = Vec::new();
        for (dims, acts) in &act.groups {
            let mut b = start;
            while b <= end {
                let n_inner = ids_in(acts, b, b + inner).len() as i64;
                let n_outer = ids_in(acts, b + inner - outer, b + inner).len() as i64;
                if n_outer > 0 {
                    let mut row = vec![Cell::I(b)];
                    row.extend(dims.iter().cloned());
                    row.extend([Cell::I(n_inner), Cell::I(n_outer), Cell::F(n_inner as f64 / n_outer as f64)]);
                    out.push(row);
                }
                b += inner;
            }
        }
        self.rel_from_cells(cols, &out)
    }

    /// `activity_metrics(Id, Time, [Start, End,] Window [, dims...])`: per window step, the
    /// distinct ids, those not in the previous window, and the retention (the share of the
    /// previous window's ids seen again) and churn (1 - retention; NaN for the first window).
    fn plugin_activity_metrics(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        const NAME: &str = "activity_metrics";
        let a = Self::args_n(args, 3, NAME, span)?;
        let (start, end, first_window) = self.optional_range(&a)?;
        if a.len() < first_window + 1 {
            return Err(plugin_err(NAME, "expects (Id, Time, [Start, End,] Window [, dims...])", span));
        }
        let window = self.const_i64(a[first_window], KqlType::TimeSpan)?;
        if window <= 0 {
            return Err(plugin_err(NAME, "the window must be a positive timespan", span));
        }
        let act = self.activity(&rel, a[0], a[1], &a[first_window + 1..])?;
        let counts = [
            Col::new("dcount_values", KqlType::Long),
            Col::new("dcount_newvalues", KqlType::Long),
            Col::new("retention_rate", KqlType::Real),
            Col::new("churn_rate", KqlType::Real),
        ];
        let cols = act.columns(&counts);
        let Some((start, end)) = act.range(start, end) else { return self.rel_from_cells(cols, &[]) };
        let mut out = Vec::new();
        for (dims, acts) in &act.groups {
            let mut previous: Option<HashSet<&str>> = None;
            let mut b = start;
            while b <= end {
                let current = ids_in(acts, b, b + window);
                let (new, retention) = match &previous {
                    None => (current.len(), f64::NAN),
                    Some(prev) => {
                        let kept = current.iter().filter(|i| prev.contains(*i)).count();
                        (current.len() - kept, kept as f64 / prev.len() as f64)
                    }
                };
                let mut row = vec![Cell::I(b)];
                row.extend(dims.iter().cloned());
                row.extend([
                    Cell::I(current.len() as i64),
                    Cell::I(new as i64),
                    Cell::F(retention),
                    Cell::F(1.0 - retention),
                ]);
                out.push(row);
                previous = Some(current);
                b += window;
            }
        }
        self.rel_from_cells(cols, &out)
    }

    /// `new_activity_metrics(Id, Time, Start, End, Window [, Cohort] [, dims...] [, Lookback])`:
    /// for each cohort of new ids (first seen in window `from`, after the ids of the Lookback
    /// table) and each later window `to`: the ids in `to` never seen up to `from`, the cohort's
    /// ids seen again in `to` and those not, and their shares of the cohort.
    fn plugin_new_activity_metrics(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        const NAME: &str = "new_activity_metrics";
        let a = Self::args_n(args, 5, NAME, span)?;
        let start = self.const_i64(a[2], KqlType::DateTime)?;
        let end = self.const_i64(a[3], KqlType::DateTime)?;
        let window = self.const_i64(a[4], KqlType::TimeSpan)?;
        if window <= 0 {
            return Err(plugin_err(NAME, "the window must be a positive timespan", span));
        }
        // after the window: a datetime cohort, dimension columns, a lookback table
        let mut cohort = None;
        let mut dims = Vec::new();
        let mut lookback: HashSet<String> = HashSet::new();
        for (k, e) in a[5..].iter().enumerate() {
            if self.is_tabular(e) {
                let t = self.bind_tabular(e)?;
                let id_name = column_name(a[0]).unwrap_or_default();
                if t.col(&id_name).is_none() {
                    return Err(plugin_err(NAME, format!("the lookback table has no `{id_name}` column"), e.span));
                }
                if !self.options.check_only {
                    let idb = self.coerce(
                        Bound::new(column(&id_name), t.col(&id_name).map(|c| c.ty).unwrap_or(KqlType::String)),
                        KqlType::String,
                    );
                    let plan = crate::binder::projection::project(t.plan, vec![idb.expr.alias("__id")])?;
                    for r in rows_of(&self.runner.run(plan)?) {
                        if let Cell::S(id) = &r[0] {
                            lookback.insert(id.clone());
                        }
                    }
                }
            } else if k == 0 && self.bind_constant(e).map(|b| b.ty).ok() == Some(KqlType::DateTime) {
                cohort = Some(self.const_i64(e, KqlType::DateTime)?);
            } else {
                dims.push(*e);
            }
        }
        let act = self.activity(&rel, a[0], a[1], &dims)?;
        let mut cols = vec![
            Col::new(format!("from_{}", act.time_col.name), act.time_col.ty),
            Col::new(format!("to_{}", act.time_col.name), act.time_col.ty),
        ];
        cols.extend(act.dim_cols.iter().cloned());
        cols.extend([
            Col::new("dcount_new_values", KqlType::Long),
            Col::new("dcount_retained_values", KqlType::Long),
            Col::new("dcount_churn_values", KqlType::Long),
            Col::new("retention_rate", KqlType::Real),
            Col::new("churn_rate", KqlType::Real),
        ]);
        let mut bins = Vec::new();
        let mut b = start;
        while b <= end {
            bins.push(b);
            b += window;
        }
        let mut out = Vec::new();
        for (dim_values, acts) in &act.groups {
            let per_bin: Vec<HashSet<&str>> = bins.iter().map(|&b| ids_in(acts, b, b + window)).collect();
            // seen[i]: every id seen in windows 0..=i (and the lookback's)
            let mut seen: Vec<HashSet<&str>> = Vec::new();
            let mut so_far: HashSet<&str> = lookback.iter().map(String::as_str).collect();
            for ids in &per_bin {
                so_far.extend(ids.iter().copied());
                seen.push(so_far.clone());
            }
            for (f, &from) in bins.iter().enumerate() {
                if cohort.is_some_and(|c| c != from) {
                    continue;
                }
                let before: HashSet<&str> =
                    if f == 0 { lookback.iter().map(String::as_str).collect() } else { seen[f - 1].clone() };
                let new_ids: HashSet<&str> = per_bin[f].iter().copied().filter(|i| !before.contains(i)).collect();
                let n = new_ids.len();
                for (t, &to) in bins.iter().enumerate().skip(f) {
                    let fresh = per_bin[t].iter().filter(|i| !seen[f].contains(*i)).count();
                    let fresh = if t == f { n } else { fresh };
                    let retained = new_ids.iter().filter(|i| per_bin[t].contains(*i)).count();
                    let churn = n - retained;
                    let share = |x: usize| if n == 0 { f64::NAN } else { x as f64 / n as f64 };
                    let mut row = vec![Cell::I(from), Cell::I(to)];
                    row.extend(dim_values.iter().cloned());
                    row.extend([
                        Cell::I(fresh as i64),
                        Cell::I(retained as i64),
                        Cell::I(churn as i64),
                        Cell::F(share(retained)),
                        Cell::F(share(churn)),
                    ]);
                    out.push(row);
                }
            }
        }
        self.rel_from_cells(cols, &out)
    }

    /// `[Start, End,]` after the id and time arguments: present when the third argument is a
    /// datetime. (Start, End, index of the next argument).
    fn optional_range(&mut self, a: &[&ast::Expr]) -> Result<(Option<i64>, Option<i64>, usize)> {
        let third = self.bind_constant(a[2]).map(|b| b.ty).unwrap_or(KqlType::TimeSpan);
        if third != KqlType::DateTime {
            return Ok((None, None, 2));
        }
        if a.len() < 4 {
            return Err(KqlError::new("KQL130", "expected Start and End", a[2].span));
        }
        Ok((Some(self.const_i64(a[2], KqlType::DateTime)?), Some(self.const_i64(a[3], KqlType::DateTime)?), 4))
    }

    /// The (id, time) activity of the input per combination of the dimension columns.
    fn activity(&mut self, rel: &Rel, id: &ast::Expr, time: &ast::Expr, dims: &[&ast::Expr]) -> Result<Activity> {
        let idb = self.bind_scalar(id, rel)?;
        let idb = self.coerce(idb, KqlType::String);
        let tb = self.bind_scalar(time, rel)?;
        let time_col = Col::new(column_name(time).unwrap_or_else(|| "Timestamp".into()), tb.ty);
        let tb = self.coerce(tb, KqlType::Long);
        let mut exprs = vec![idb.expr.alias("__id"), tb.expr.alias("__t")];
        let mut dim_cols = Vec::new();
        for (k, d) in dims.iter().enumerate() {
            let b = self.bind_scalar(d, rel)?;
            dim_cols.push(Col::new(column_name(d).unwrap_or_else(|| format!("dim{}", k + 1)), b.ty));
            exprs.push(b.expr.alias(format!("__d{k}")));
        }
        let mut groups: Vec<(Vec<Cell>, Vec<(String, i64)>)> = Vec::new();
        if !self.options.check_only {
            let plan = crate::binder::projection::project(rel.plan.clone(), exprs)?;
            // per dimension combination (in order of first appearance): (id, time) pairs
            let mut index: HashMap<String, usize> = HashMap::new();
            for r in rows_of(&self.runner.run(plan)?) {
                let (Cell::S(id), Some(t)) = (&r[0], r[1].i()) else { continue };
                let dims = r[2..].to_vec();
                let g = *index.entry(format!("{dims:?}")).or_insert_with(|| {
                    groups.push((dims, Vec::new()));
                    groups.len() - 1
                });
                groups[g].1.push((id.clone(), t));
            }
            for (_, acts) in groups.iter_mut() {
                acts.sort_by_key(|(_, t)| *t);
            }
        }
        Ok(Activity { time_col, dim_cols, groups })
    }

    /// A constant dynamic argument, parsed.
    fn const_json(&mut self, e: &ast::Expr) -> Result<serde_json::Value> {
        let b = self.bind_constant(e)?;
        let v = self.const_value(self.coerce(b, KqlType::Dynamic).expr, KqlType::Dynamic, e.span)?;
        match v {
            ScalarValue::Utf8(Some(t)) => serde_json::from_str(&t)
                .map_err(|_| KqlError::new("KQL132", "expected a constant dynamic value", e.span)),
            _ => Err(KqlError::new("KQL132", "expected a constant dynamic value", e.span)),
        }
    }

    /// `funnel_sequence_completion(Id, Time, Start, End, Step, State, Sequence,
    /// MaxSequenceStepWindows)`: for each step-wide bin from Start to End and each window W of
    /// MaxSequenceStepWindows, how many distinct ids starting the sequence in the bin reached
    /// each of its states, each state within W of the one before (rows by window, then state).
    fn plugin_funnel_completion(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        const NAME: &str = "funnel_sequence_completion";
        let a = Self::args_n(args, 8, NAME, span)?;
        let start = self.const_i64(a[2], KqlType::DateTime)?;
        let end = self.const_i64(a[3], KqlType::DateTime)?;
        let step = self.const_i64(a[4], KqlType::TimeSpan)?;
        let sequence: Vec<String> = match self.const_json(a[6])? {
            serde_json::Value::Array(v) => {
                v.iter().map(|x| x.as_str().map(str::to_string).unwrap_or(x.to_string())).collect()
            }
            _ => return Err(plugin_err(NAME, "the sequence must be a dynamic array of states", a[6].span)),
        };
        let windows: Vec<i64> = match self.const_json(a[7])? {
            serde_json::Value::Array(v) => v
                .iter()
                .map(|x| x.as_str().and_then(crate::value::datetime::parse_timespan).or_else(|| x.as_i64()))
                .collect::<Option<_>>()
                .ok_or_else(|| plugin_err(NAME, "the windows must be timespans", a[7].span))?,
            _ => return Err(plugin_err(NAME, "the windows must be a dynamic array of timespans", a[7].span)),
        };
        if step <= 0 || sequence.is_empty() {
            return Err(plugin_err(NAME, "needs a positive step and a sequence of states", span));
        }
        let idb = self.bind_scalar(a[0], &rel)?;
        let idb = self.coerce(idb, KqlType::String);
        let tb = self.bind_scalar(a[1], &rel)?;
        let tty = tb.ty;
        let tb = self.coerce(tb, KqlType::Long);
        let sb = self.bind_scalar(a[5], &rel)?;
        let sb = self.coerce(sb, KqlType::String);
        let cols = vec![
            Col::new(column_name(a[1]).unwrap_or_else(|| "Timestamp".into()), tty),
            Col::new(column_name(a[5]).unwrap_or_else(|| "State".into()), KqlType::String),
            Col::new("Period", KqlType::TimeSpan),
            Col::new("dcount", KqlType::Long),
        ];
        if self.options.check_only {
            return self.rel_from_cells(cols, &[]);
        }
        let plan = LogicalPlanBuilder::from(rel.plan.clone())
            .project(vec![idb.expr.alias("__id"), tb.expr.alias("__t"), sb.expr.alias("__s")])?
            .build()?;
        // per id: the times of each state of the sequence, sorted
        let mut times: HashMap<String, Vec<Vec<i64>>> = HashMap::new();
        for r in rows_of(&self.runner.run(plan)?) {
            let (Cell::S(id), Some(t), Cell::S(state)) = (&r[0], r[1].i(), &r[2]) else { continue };
            let Some(k) = sequence.iter().position(|s| s == state) else { continue };
            times.entry(id.clone()).or_insert_with(|| vec![Vec::new(); sequence.len()])[k].push(t);
        }
        for per_state in times.values_mut() {
            for v in per_state.iter_mut() {
                v.sort_unstable();
            }
        }
        let mut out = Vec::new();
        let mut b = start;
        while b < end {
            let bin_end = (b + step).min(end);
            for &w in &windows {
                // how far each id gets: the times at which it can stand at each state, each
                // after one of the previous state's times and within `w` of it
                let mut reached = vec![0i64; sequence.len()];
                for per_state in times.values() {
                    let mut at: Vec<i64> = per_state[0].iter().copied().filter(|t| *t >= b && *t < bin_end).collect();
                    for (k, state_times) in per_state.iter().enumerate() {
                        if k > 0 {
                            at = state_times
                                .iter()
                                .copied()
                                .filter(|t| {
                                    let i = at.partition_point(|p| p < t);
                                    // the latest earlier time is the closest one
                                    i > 0 && t - at[i - 1] <= w
                                })
                                .collect();
                        }
                        if at.is_empty() {
                            break;
                        }
                        reached[k] += 1;
                    }
                }
                for (k, state) in sequence.iter().enumerate() {
                    out.push(vec![Cell::I(b), Cell::S(state.clone()), Cell::I(w), Cell::I(reached[k])]);
                }
            }
            b += step;
        }
        self.rel_from_cells(cols, &out)
    }

    fn plugin_activity_counts(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        // (IdColumn, TimelineColumn, Start, End, Step [, dim...])
        let a = Self::args_n(args, 5, "activity_counts_metrics", span)?;
        let (rows, tty) = self.id_time_rows(&rel, a[0], a[1])?;
        let start = self.const_i64(a[2], KqlType::DateTime)?;
        let end = self.const_i64(a[3], KqlType::DateTime)?;
        let step = self.const_i64(a[4], KqlType::TimeSpan)?;
        if step <= 0 {
            return Err(plugin_err("activity_counts_metrics", "step must be positive", span));
        }
        let tname = column_name(a[1]).unwrap_or_else(|| "Timestamp".into());
        let cols = vec![
            Col::new(tname, tty),
            Col::new("count", KqlType::Long),
            Col::new("dcount", KqlType::Long),
            Col::new("new_dcount", KqlType::Long),
            Col::new("aggregated_dcount", KqlType::Long),
        ];
        let mut bins: BTreeMap<i64, (i64, BTreeSet<&str>)> = BTreeMap::new();
        for (id, t) in &rows {
            if *t < start || *t > end {
                continue;
            }
            let b = start + (t - start).div_euclid(step) * step;
            let e = bins.entry(b).or_default();
            e.0 += 1;
            e.1.insert(id.as_str());
        }
        let mut seen: HashSet<&str> = HashSet::new();
        let mut out = Vec::new();
        let mut b = start;
        while b <= end {
            let (count, ids) = bins.get(&b).cloned().unwrap_or_default();
            let new = ids.iter().filter(|i| !seen.contains(*i)).count() as i64;
            seen.extend(ids.iter().copied());
            out.push(vec![
                Cell::I(b),
                Cell::I(count),
                Cell::I(ids.len() as i64),
                Cell::I(new),
                Cell::I(seen.len() as i64),
            ]);
            b += step;
        }
        self.rel_from_cells(cols, &out)
    }

    fn plugin_sliding_window(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        // (IdColumn, TimelineColumn, Start, End, LookbackWindow, Bin [, dim...])
        let a = Self::args_n(args, 6, "sliding_window_counts", span)?;
        let (rows, tty) = self.id_time_rows(&rel, a[0], a[1])?;
        let start = self.const_i64(a[2], KqlType::DateTime)?;
        let end = self.const_i64(a[3], KqlType::DateTime)?;
        let lookback = self.const_i64(a[4], KqlType::TimeSpan)?;
        let bin = self.const_i64(a[5], KqlType::TimeSpan)?;
        if bin <= 0 {
            return Err(plugin_err("sliding_window_counts", "bin must be positive", span));
        }
        let tname = column_name(a[1]).unwrap_or_else(|| "Timestamp".into());
        let cols = vec![Col::new(tname, tty), Col::new("Count", KqlType::Long), Col::new("Dcount", KqlType::Long)];
        let mut out = Vec::new();
        let mut b = start;
        while b <= end {
            // the window ends at the end of this bin and reaches back `lookback`
            let hi = b + bin;
            let lo = hi - lookback;
            let mut count = 0i64;
            let mut ids: HashSet<&str> = HashSet::new();
            for (id, t) in &rows {
                if *t >= lo && *t < hi && *t >= start && *t <= end + bin {
                    count += 1;
                    ids.insert(id.as_str());
                }
            }
            out.push(vec![Cell::I(b), Cell::I(count), Cell::I(ids.len() as i64)]);
            b += bin;
        }
        self.rel_from_cells(cols, &out)
    }

    fn plugin_session_count(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        // (IdColumn, TimelineColumn, Start, End, Bin, LookBackWindow [, dim...])
        let a = Self::args_n(args, 6, "session_count", span)?;
        let (rows, tty) = self.id_time_rows(&rel, a[0], a[1])?;
        let ty = if tty == KqlType::DateTime { KqlType::DateTime } else { KqlType::Long };
        let sty = if ty == KqlType::DateTime { KqlType::TimeSpan } else { KqlType::Long };
        let start = self.const_i64(a[2], ty)?;
        let end = self.const_i64(a[3], ty)?;
        let bin = self.const_i64(a[4], sty)?;
        let lookback = self.const_i64(a[5], sty)?;
        if bin <= 0 {
            return Err(plugin_err("session_count", "bin must be positive", span));
        }
        let tname = column_name(a[1]).unwrap_or_else(|| "Timeline".into());
        let cols = vec![Col::new(tname, tty), Col::new("count_sessions", KqlType::Long)];
        // per user, sorted appearances: a new session starts at the first appearance and
        // after every gap of at least `lookback`; each bin counts the sessions started in it
        let mut per: HashMap<&str, Vec<i64>> = HashMap::new();
        for (id, t) in &rows {
            if *t >= start && *t < end {
                per.entry(id.as_str()).or_default().push(*t);
            }
        }
        let first_bin = start.div_euclid(bin) * bin;
        let nbins = if end > first_bin { ((end - first_bin + bin - 1) / bin) as usize } else { 0 };
        let mut counts = vec![0i64; nbins];
        for ts in per.values_mut() {
            ts.sort();
            let mut prev: Option<i64> = None;
            for &t in ts.iter() {
                if prev.is_none_or(|p| t - p >= lookback) {
                    let k = ((t - first_bin) / bin) as usize;
                    if let Some(c) = counts.get_mut(k) {
                        *c += 1;
                    }
                }
                prev = Some(t);
            }
        }
        let out: Vec<Vec<Cell>> =
            counts.iter().enumerate().map(|(k, c)| vec![Cell::I(first_bin + k as i64 * bin), Cell::I(*c)]).collect();
        self.rel_from_cells(cols, &out)
    }

    fn plugin_rolling_percentile(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        // (ValueColumn, Percentile, IndexColumn, BinSize, BinsToTake [, dim...])
        let a = Self::args_n(args, 5, "rolling_percentile", span)?;
        let vb = self.bind_scalar(a[0], &rel)?;
        let vty = vb.ty;
        let tb = self.bind_scalar(a[2], &rel)?;
        let tty = tb.ty;
        let p = {
            let b = self.bind_constant(a[1])?;
            match self.const_value(self.coerce(b, KqlType::Real).expr, KqlType::Real, a[1].span)? {
                ScalarValue::Float64(Some(x)) => x,
                _ => 50.0,
            }
        };
        let bin = self.const_i64(a[3], if tty == KqlType::DateTime { KqlType::TimeSpan } else { KqlType::Long })?;
        let take = self.const_i64(a[4], KqlType::Long)?;
        let vname = column_name(a[0]).unwrap_or_else(|| "value".into());
        let tname = column_name(a[2]).unwrap_or_else(|| "Timestamp".into());
        let out_name =
            format!("rolling_{take}_percentile_{vname}_{}", crate::functions::strfn::format_real(p).replace('.', "_"));
        let cols = vec![Col::new(tname, tty), Col::new(out_name, vty)];
        if self.options.check_only {
            return self.open_placeholder(cols);
        }
        if bin <= 0 {
            return Err(plugin_err("rolling_percentile", "bin size must be positive", span));
        }
        let vexpr = self.coerce(vb, KqlType::Real).expr;
        let texpr = self.coerce(tb, KqlType::Long).expr;
        let plan = crate::binder::projection::project(rel.plan, vec![vexpr.alias("v"), texpr.alias("t")])?;
        let mut bins: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for r in rows_of(&self.runner.run(plan)?) {
            if let (Some(v), Some(t)) = (r[0].f(), r[1].i()) {
                bins.entry(t.div_euclid(bin) * bin).or_default().push(v);
            }
        }
        let mut out = Vec::new();
        for (&b, _) in bins.iter() {
            let lo = b - (take - 1) * bin;
            let mut vals: Vec<f64> = bins.range(lo..=b).flat_map(|(_, v)| v.iter().copied()).collect();
            vals.sort_by(|x, y| x.total_cmp(y));
            let n = vals.len();
            let rank = ((p / 100.0) * n as f64).ceil() as usize;
            let v = vals[rank.clamp(1, n) - 1];
            let vc = if vty == KqlType::Real { Cell::F(v) } else { Cell::I(v as i64) };
            out.push(vec![Cell::I(b), vc]);
        }
        self.rel_from_cells(cols, &out)
    }

    fn plugin_schema_merge(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        let preserve = match Self::plugin_arg(args, "PreserveOrder", 0) {
            Some(e) => {
                let (c, _) = self.const_cell(e)?;
                !matches!(c, Cell::B(false))
            }
            None => true,
        };
        let cols = vec![
            Col::new("ColumnName", KqlType::String),
            Col::new("ColumnOrdinal", KqlType::Long),
            Col::new("DataType", KqlType::String),
            Col::new("ColumnType", KqlType::String),
        ];
        if self.options.check_only {
            return self.open_placeholder(cols);
        }
        let need = ["ColumnName", "ColumnOrdinal", "DataType", "ColumnType"];
        if need.iter().any(|n| rel.col(n).is_none()) {
            return Err(plugin_err("schema_merge", "the input must be the output of getschema", span));
        }
        let plan = crate::binder::projection::project(rel.plan, need.iter().map(|n| column(n)).collect::<Vec<_>>())?;
        let rows = rows_of(&self.runner.run(plan)?);
        // schemas are separated where ordinals restart
        let mut merged: Vec<(String, i64, String, String)> = Vec::new();
        let mut prev_ord: Option<i64> = None;
        let mut last_pos: Option<usize> = None;
        for r in rows {
            let name = match &r[0] {
                Cell::S(s) => s.clone(),
                _ => continue,
            };
            let ord = r[1].i().unwrap_or(0);
            if prev_ord.is_some_and(|p| ord <= p) {
                last_pos = None;
            }
            prev_ord = Some(ord);
            let dt = match &r[2] {
                Cell::S(s) => s.clone(),
                _ => String::new(),
            };
            let ct = match &r[3] {
                Cell::S(s) => s.clone(),
                _ => String::new(),
            };
            match merged.iter().position(|m| m.0 == name) {
                Some(i) => last_pos = Some(i),
                None => {
                    let at = last_pos.map(|p| p + 1).unwrap_or(0).min(merged.len());
                    if preserve {
                        for m in merged.iter_mut().skip(at) {
                            m.1 = -1;
                            m.2 = "ERROR(unknown CSL type:ERROR(columns are out of order))".into();
                            m.3 = "ERROR(columns are out of order)".into();
                        }
                    }
                    merged.insert(at, (name, 0, dt, ct));
                    last_pos = Some(at);
                }
            }
        }
        let mut ord = 0;
        let out: Vec<Vec<Cell>> = merged
            .into_iter()
            .map(|(n, o, d, c)| {
                let o = if o == -1 {
                    -1
                } else {
                    ord += 1;
                    ord - 1
                };
                vec![Cell::S(n), Cell::I(o), Cell::S(d), Cell::S(c)]
            })
            .collect();
        self.rel_from_cells(cols, &out)
    }
}

fn column_name(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(n) => Some(n.name.clone()),
        _ => None,
    }
}
