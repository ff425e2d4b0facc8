//! The tabular operators beyond the core: `parse`, `parse-where`, `parse-kv`, `make-series`,
//! `mv-apply`, `top-nested`, `evaluate` plugins, `search`, `scan`, `sample`, `reduce`, graphs...
//!
//! Each family lives in a file under `ops/`; this module dispatches and holds shared helpers.

#[path = "ops/evaluate.rs"]
mod evaluate;
#[path = "ops/geolookup.rs"]
mod geolookup;
#[path = "ops/graph.rs"]
pub mod graph;
#[path = "ops/graph_match.rs"]
mod graph_match;
#[path = "ops/iplookup.rs"]
mod iplookup;
#[path = "ops/makeseries.rs"]
mod makeseries;
#[path = "ops/misc.rs"]
mod misc;
#[path = "ops/mvapply.rs"]
mod mvapply;
#[path = "ops/parse.rs"]
mod parse;
#[path = "ops/sequence.rs"]
mod sequence;

use super::scalar::column;
use super::{Binder, Col, Rel};
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use kql_parser::ast::{self, OperatorKind};

impl Binder<'_> {
    /// Operators not handled by the core binder.
    pub fn bind_extra_operator(&mut self, rel: Rel, op: &ast::Operator) -> Result<Rel> {
        match &op.kind {
            OperatorKind::Parse { is_where, params, source, pattern } => {
                self.bind_parse(rel, *is_where, params, source, pattern, op.span)
            }
            OperatorKind::ParseKv { source, columns, props } => {
                self.bind_parse_kv(rel, source, columns, props, op.span)
            }
            OperatorKind::MvApply { params, items, limit, id, subquery } => {
                let _ = id;
                self.bind_mv_apply(rel, params, items, limit.as_ref(), subquery, op.span)
            }
            OperatorKind::MakeSeries { params, aggs, on, from, to, step, by } => {
                self.bind_make_series(rel, params, aggs, on, from.as_ref(), to.as_ref(), step, by, op.span)
            }
            OperatorKind::Evaluate { params, call, schema } => {
                self.bind_evaluate(Some(rel), params, call, schema.as_deref(), op.span)
            }
            OperatorKind::TopNested(clauses) => self.bind_top_nested(rel, clauses, op.span),
            OperatorKind::Sample(n) => self.bind_sample(rel, n),
            OperatorKind::SampleDistinct { count, of } => self.bind_sample_distinct(rel, count, of),
            OperatorKind::Search { params, tables, predicate } => {
                self.bind_search(Some(rel), params, tables, predicate, op.span)
            }
            OperatorKind::Reduce { params, by, props } => self.bind_reduce(rel, params, by, props, op.span),
            OperatorKind::Scan { params, declare, steps } => self.bind_scan(rel, params, declare, steps, op.span),
            OperatorKind::Partition { params, by, subquery } => self.bind_partition(rel, params, by, subquery, op.span),
            OperatorKind::TopHitters { count, of, by } => self.bind_top_hitters(rel, count, of, by.as_ref(), op.span),
            OperatorKind::Facet { by, with } => self.bind_facet(rel, by, with.as_ref(), op.span),
            OperatorKind::Fork(branches) => self.bind_fork(rel, branches, op.span),
            OperatorKind::MakeGraph { params, source, target, nodes } => {
                self.bind_make_graph(rel, params, source, target, nodes, op.span)
            }
            OperatorKind::GraphToTable(exports) => self.bind_graph_to_table(rel, exports, op.span),
            OperatorKind::GraphMatch(g) => self.bind_graph_match(rel, g, op.span),
            OperatorKind::GraphMarkComponents(params) => self.bind_graph_mark_components(rel, params, op.span),
            OperatorKind::Consume => {
                let plan = LogicalPlanBuilder::from(rel.plan).limit(0, Some(0))?.build()?;
                Ok(mk_rel(plan, rel.cols))
            }
            _ => Err(KqlError::new(
                "KQL055",
                format!("the `{}` operator is not supported yet", super::tabular::operator_name(&op.kind)),
                op.span,
            )),
        }
    }

    /// Source operators not handled by the core binder (`search`, `find`, `evaluate` without input).
    pub fn bind_extra_source(&mut self, op: &ast::Operator) -> Result<Rel> {
        match &op.kind {
            OperatorKind::Search { params, tables, predicate } => {
                self.bind_search(None, params, tables, predicate, op.span)
            }
            OperatorKind::Evaluate { params, call, schema } => {
                self.bind_evaluate(None, params, call, schema.as_deref(), op.span)
            }
            OperatorKind::Find { params, tables, predicate, project } => {
                self.bind_find(params, tables, predicate, project.as_ref(), op.span)
            }
            _ => Err(KqlError::new(
                "KQL051",
                format!("the `{}` operator is not supported yet", super::tabular::operator_name(&op.kind)),
                op.span,
            )),
        }
    }
}

/// `extend`-like placement: each new column replaces a same-named column in place, or is
/// Set column `name` of a projection to `e` (replacing it in place when it exists, else
/// appending it), keeping `cols` and `exprs` in step.
pub(crate) fn set_column(cols: &mut Vec<Col>, exprs: &mut Vec<Expr>, name: String, ty: KqlType, e: Expr) {
    if let Some(i) = cols.iter().position(|c| c.name == name) {
        exprs[i] = e.alias(&name);
        cols[i].ty = ty;
    } else {
        exprs.push(e.alias(&name));
        cols.push(Col::new(name, ty));
    }
}

/// appended at the end.
pub(crate) fn extend_cols(rel: Rel, new: Vec<(String, KqlType, Expr)>) -> Result<Rel> {
    let open = rel.open;
    let mut cols = rel.cols.clone();
    let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
    for (name, ty, e) in new {
        set_column(&mut cols, &mut exprs, name, ty, e);
    }
    let plan = super::projection::project(rel.plan, exprs)?;
    Ok(Rel { open, ..mk_rel(plan, cols) })
}

/// The text of a name-like expression (`kind=regex`, `flags=Ui`, `'x'`).
pub(crate) fn name_text(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ast::ExprKind::Name(n) => Some(n.name.clone()),
        ast::ExprKind::Literal(ast::Literal::String(s)) => Some(s.clone()),
        ast::ExprKind::Paren(x) => name_text(x),
        _ => None,
    }
}

/// The value of a named parameter, by case-insensitive name.
pub(crate) fn param<'p>(params: &'p [ast::NamedArg], name: &str) -> Option<&'p ast::Expr> {
    params.iter().find(|p| p.name.name.eq_ignore_ascii_case(name)).map(|p| &p.value)
}

/// A relation over a plan with its columns.
/// The first `n` rows of `plan` in the order of `keys` (`top`, `sample`). `n == 0` is an empty
/// result without a sort (DataFusion's top-k operator requires at least one row).
pub(crate) fn sorted_limit(
    plan: datafusion::logical_expr::LogicalPlan,
    keys: Vec<datafusion::logical_expr::SortExpr>,
    n: usize,
) -> datafusion::common::Result<datafusion::logical_expr::LogicalPlan> {
    let builder = datafusion::logical_expr::LogicalPlanBuilder::from(plan);
    if n == 0 {
        builder.limit(0, Some(0))?.build()
    } else {
        builder.sort_with_limit(keys, Some(n))?.build()
    }
}

pub(crate) fn mk_rel(plan: datafusion::logical_expr::LogicalPlan, cols: Vec<Col>) -> Rel {
    Rel { plan, cols, render: None, name: None, open: false }
}

/// `row_number()` in the order of the rows' values (every column of `cols`, nulls first): the
/// same number for the same row each time the plan runs. For a plan that reads its numbered
/// input more than once (DataFusion runs each use again): over a join or several partitions the
/// rows arrive in another order each run, and a plain `row_number()` would pair one run's row
/// with another's. Rows equal in every column are interchangeable.
pub(crate) fn stable_row_number(cols: &[Col], alias: &str) -> Result<Expr> {
    use datafusion::logical_expr::ExprFunctionExt;
    let mut by: Vec<datafusion::logical_expr::SortExpr> =
        cols.iter().map(|c| column(&c.name).sort(true, true)).collect();
    if by.is_empty() {
        // rows without columns are all alike: any numbering is stable (DataFusion refuses an
        // empty ORDER BY)
        by.push(datafusion::logical_expr::lit(0i64).sort(true, true));
    }
    Ok(datafusion::functions_window::expr_fn::row_number().order_by(by).build()?.alias(alias))
}
