//! `mv-apply`: a subquery applied to the expansion of each input row.
//!
//! Plan: every input row gets a context column `__ctx`, a struct of a unique row number and
//! the row's columns (computed once, so no self-join is needed). The arrays are expanded in
//! parallel (padded with nulls to the longest), and the subquery is bound over the expansion
//! with per-row semantics: `summarize`, `count`, `distinct` and `project` keep `__ctx` (as an
//! extra group key or column), `take`/`top` become a per-row `row_number` filter. The output
//! is the context columns (subquery columns of the same name replace them in place), then the
//! subquery's other columns.

use super::super::naming::next_column_name;
use super::super::scalar::column;
use super::super::{Binder, Bound, Col, NameHint, Rel};
use super::mk_rel;
use crate::error::{KqlError, Result};
use crate::functions::udf::udf;
use crate::schema::KqlType;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder, ListBuilder, StringBuilder, StructBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Column, DataFusionError};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::{lit, Expr, ExprFunctionExt, LogicalPlanBuilder, SortExpr};
use kql_parser::ast::{self, ExprKind, OperatorKind};
use kql_parser::Span;
use std::sync::Arc;

type R<T> = std::result::Result<T, DataFusionError>;

/// The prefix of the context column's name; each `mv-apply` (and `partition`) has its own
/// (`__mvapply_ctx3`), so that one nested in another, or two in one query, do not clash.
pub(crate) const CTX: &str = "mvapply_ctx";
const RID: &str = "__rid";
/// The rows' arrival order, where `__rid` numbers them by value.
const ORD: &str = "__ord";

fn zip_fields(n: usize) -> Fields {
    let mut f = vec![Field::new("i", DataType::Int64, true)];
    for k in 0..n {
        f.push(Field::new(format!("v{k}"), DataType::Utf8, true));
    }
    Fields::from(f)
}

/// The elements of `n` dynamic values expanded in parallel: a list of `{i, v0..vn}` structs,
/// as long as the longest (bags expand to one-key bags, scalars to themselves, null and
/// empty arrays to nothing).
pub(crate) fn zip_items(args: Vec<Expr>, limit: Option<usize>) -> Expr {
    let n = args.len();
    let fields = zip_fields(n);
    let ret = DataType::List(Arc::new(Field::new_struct("item", fields.clone(), true)));
    let body = Arc::new(move |arrays: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let cols: Vec<_> = arrays.iter().map(|a| a.as_string::<i32>()).collect();
        let sb = StructBuilder::from_fields(fields.clone(), 0);
        let mut lb = ListBuilder::new(sb).with_field(Arc::new(Field::new_struct("item", fields.clone(), true)));
        for i in 0..rows {
            let items: Vec<Vec<String>> = cols
                .iter()
                .map(|c| {
                    if c.is_null(i) {
                        return vec![];
                    }
                    let raw = c.value(i);
                    if let Some(els) = dj::array_elements(raw) {
                        els.into_iter().map(|s| s.to_string()).collect()
                    } else if let Some(entries) = dj::object_entries(raw) {
                        entries.into_iter().map(|(k, v)| format!("{{{}:{}}}", dj::json_string(&k), v)).collect()
                    } else {
                        vec![raw.to_string()]
                    }
                })
                .collect();
            let mut len = items.iter().map(|v| v.len()).max().unwrap_or(0);
            if let Some(l) = limit {
                len = len.min(l);
            }
            let s = lb.values();
            for k in 0..len {
                s.field_builder::<Int64Builder>(0).expect("i").append_value(k as i64);
                for (c, it) in items.iter().enumerate() {
                    let vb = s.field_builder::<StringBuilder>(c + 1).expect("v");
                    match it.get(k) {
                        Some(x) if x != "null" => vb.append_value(x),
                        _ => vb.append_null(),
                    }
                }
                s.append(true);
            }
            lb.append(true);
        }
        Ok(Arc::new(lb.finish()))
    });
    udf("kql_mv_zip", ret, false, body).call(args)
}

impl Binder<'_> {
    /// `mv-apply items on (subquery)`.
    pub(crate) fn bind_mv_apply(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        items: &[ast::MvItem],
        limit: Option<&ast::Expr>,
        subquery: &ast::Expr,
        span: Span,
    ) -> Result<Rel> {
        let with_index = super::param(params, "with_itemindex").and_then(super::name_text);
        let lim = match limit {
            Some(l) => Some(self.const_count(l)?),
            None => None,
        };
        // 1. the expanded items
        let mut arrays: Vec<Expr> = Vec::new();
        let mut names: Vec<(String, KqlType)> = Vec::new();
        for item in items {
            let b = self.bind_scalar(&item.column.expr, &rel)?;
            let b = self.coerce(b, KqlType::Dynamic);
            let taken: Vec<String> =
                rel.cols.iter().map(|c| c.name.clone()).chain(names.iter().map(|n| n.0.clone())).collect();
            let name = match (item.column.names.first(), &b.hint) {
                (Some(n), _) => n.name.clone(),
                (None, NameHint::Name(n)) => n.clone(),
                (None, NameHint::None) => next_column_name(&taken),
            };
            let ty = item.to_type.as_ref().map(super::super::tabular::type_of).unwrap_or(KqlType::Dynamic);
            arrays.push(b.expr);
            names.push((name, ty));
        }
        // 2. context: input columns not replaced by an expansion
        let ctx_cols: Vec<Col> =
            rel.cols.iter().filter(|c| !names.iter().any(|(n, _)| *n == c.name)).cloned().collect();
        let ops: Vec<ast::Operator> = match &strip_paren(subquery).kind {
            ExprKind::Pipe { source: None, ops } => ops.clone(),
            _ => {
                return Err(KqlError::new(
                    "KQL110",
                    "the mv-apply subquery must start with an operator (e.g. `(summarize ...)`)",
                    subquery.span,
                ))
            }
        };
        // A `summarize` without `by` (or `count`) gives one row even over an empty table, so
        // also for a row whose array is empty or missing, or whose items the subquery
        // filtered out: `mv-apply x = d on (summarize make_bag(...))` keeps every row.
        let whole = |op: &ast::Operator| {
            matches!(&op.kind, OperatorKind::Summarize { by, .. } if by.is_empty())
                || matches!(&op.kind, OperatorKind::Count(_))
        };
        // The rows are then numbered in two runs of the input (the expansion, and every row
        // for those the subquery left without a result): over a join or several partitions the
        // rows arrive in another order each time, so they are numbered in the order of their
        // values (rows equal in every column are interchangeable).
        // (Numbering by value sorts the rows: their arrival order is numbered first, `__ord`,
        // and the output is put back in it.)
        let stable = ops.iter().any(whole);
        let with_rid = if stable {
            let ord = datafusion::functions_window::expr_fn::row_number().alias(ORD);
            let numbered = LogicalPlanBuilder::from(rel.plan.clone()).window(vec![ord])?.build()?;
            let rn = super::super::operators::stable_row_number(&rel.cols, RID)?;
            LogicalPlanBuilder::from(numbered).window(vec![rn])?.build()?
        } else {
            let rn = datafusion::functions_window::expr_fn::row_number().alias(RID);
            LogicalPlanBuilder::from(rel.plan.clone()).window(vec![rn])?.build()?
        };
        let mut struct_args: Vec<Expr> = vec![lit(RID), column(RID)];
        if stable {
            struct_args.extend([lit(ORD), column(ORD)]);
        }
        for (k, c) in ctx_cols.iter().enumerate() {
            struct_args.push(lit(format!("f{k}")));
            struct_args.push(column(&c.name));
        }
        let ctx = datafusion::functions::core::expr_fn::named_struct(struct_args);
        let ctx_name = self.fresh_alias(CTX);
        let ctx_name = ctx_name.as_str();
        // every context row, for the subquery's results over an empty expansion (below)
        let all_ctx = crate::binder::projection::project(with_rid.clone(), vec![ctx.clone().alias(ctx_name)])?;
        let list = self.fresh_alias("mvzip");
        let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        exprs.push(ctx.alias(ctx_name));
        exprs.push(zip_items(arrays, lim).alias(&list));
        let plan =
            LogicalPlanBuilder::from(with_rid).project(exprs)?.unnest_column(Column::from_name(&list))?.build()?;
        // 3. the subtable: input columns (expanded names replaced in place), new ones, index
        let item = column(&list);
        let mut cols: Vec<Col> = rel.cols.clone();
        let mut out: Vec<Expr> = cols.iter().map(|c| column(&c.name)).collect();
        for (k, (name, ty)) in names.iter().enumerate() {
            let v = get_field(item.clone(), format!("v{k}"));
            let v = self.coerce(Bound::new(v, KqlType::Dynamic), *ty).expr.alias(name);
            if let Some(i) = cols.iter().position(|c| c.name == *name) {
                out[i] = v;
                cols[i].ty = *ty;
            } else {
                out.push(v);
                cols.push(Col::new(name, *ty));
            }
        }
        if let Some(ix) = &with_index {
            out.push(get_field(item.clone(), "i").alias(ix));
            cols.push(Col::new(ix, KqlType::Long));
        }
        out.push(column(ctx_name));
        cols.push(Col::new(ctx_name, KqlType::String));
        let plan = crate::binder::projection::project(plan, out)?;
        let mut sub = mk_rel(plan, cols);
        // 4. the subquery, per row
        let mut order = Vec::new();
        for op in &ops {
            let input = sub.clone();
            sub = self.bind_per_row(sub, op, ctx_name, &mut order)?;
            if whole(op) && sub.col(ctx_name).is_some() {
                sub = self.add_empty_contexts(sub, input, op, all_ctx.clone(), ctx_name)?;
            }
            if sub.col(ctx_name).is_none() {
                return Err(KqlError::new(
                    "KQL114",
                    format!(
                        "the `{}` operator is not supported inside mv-apply yet",
                        super::super::tabular::operator_name(&op.kind)
                    ),
                    op.span,
                ));
            }
        }
        if stable {
            let plan = LogicalPlanBuilder::from(sub.plan)
                .sort(vec![get_field(column(ctx_name), ORD).sort(true, true)])?
                .build()?;
            sub = mk_rel(plan, sub.cols);
        }
        // 5. output: context columns (overridden by same-named subquery columns), then the rest
        let mut out_cols: Vec<Col> = Vec::new();
        let mut exprs: Vec<Expr> = Vec::new();
        for (k, c) in ctx_cols.iter().enumerate() {
            match sub.col(&c.name) {
                Some(sc) => {
                    exprs.push(column(&sc.name));
                    out_cols.push(sc.clone());
                }
                None => {
                    exprs.push(get_field(column(ctx_name), format!("f{k}")).alias(&c.name));
                    out_cols.push(c.clone());
                }
            }
        }
        for c in &sub.cols {
            if c.name == ctx_name || out_cols.iter().any(|o| o.name == c.name) {
                continue;
            }
            exprs.push(column(&c.name));
            out_cols.push(c.clone());
        }
        let plan = crate::binder::projection::project(sub.plan, exprs)?;
        let _ = span;
        Ok(mk_rel(plan, out_cols))
    }

    /// Bind one subquery operator so that it applies to each context row (in the context column
    /// `ctx`) separately. `order` holds the keys of the subquery's last `sort`, while the rows are
    /// in that order, for a `take` after it.
    pub(crate) fn bind_per_row(
        &mut self,
        rel: Rel,
        op: &ast::Operator,
        ctx: &str,
        order: &mut Vec<SortExpr>,
    ) -> Result<Rel> {
        let ctx_name = || ast::ColumnAssign {
            names: vec![],
            expr: ast::Expr::new(ExprKind::Name(ast::Ident::new(ctx, op.span)), op.span),
            span: op.span,
        };
        let sorted = std::mem::take(order);
        if let OperatorKind::Sort { keys, .. } = &op.kind {
            *order = keys.iter().map(|k| self.sort_expr(&rel, k)).collect::<Result<Vec<_>>>()?;
        } else if matches!(op.kind, OperatorKind::Where(_)) {
            *order = sorted.clone();
        }
        let rewritten = match &op.kind {
            OperatorKind::Project(items) => {
                let mut items = items.clone();
                items.push(ctx_name());
                OperatorKind::Project(items)
            }
            OperatorKind::ProjectKeep(pats) => {
                let mut pats = pats.clone();
                pats.push(ast::Expr::new(ExprKind::Name(ast::Ident::new(ctx, op.span)), op.span));
                OperatorKind::ProjectKeep(pats)
            }
            OperatorKind::Summarize { params, aggs, by } => {
                let mut by = by.clone();
                by.push(ctx_name());
                OperatorKind::Summarize { params: params.clone(), aggs: aggs.clone(), by }
            }
            OperatorKind::Count(name) => {
                let n = name.as_ref().map(|n| n.name.clone()).unwrap_or_else(|| "Count".to_string());
                let call = ast::Expr::new(
                    ExprKind::Call { target: None, name: ast::Ident::new("count", op.span), args: vec![] },
                    op.span,
                );
                OperatorKind::Summarize {
                    params: vec![],
                    aggs: vec![ast::ColumnAssign {
                        names: vec![ast::Ident::new(n, op.span)],
                        expr: call,
                        span: op.span,
                    }],
                    by: vec![ctx_name()],
                }
            }
            OperatorKind::Distinct { params, columns } => {
                if columns.len() == 1 && matches!(columns[0].expr.kind, ExprKind::Star) {
                    op.kind.clone()
                } else {
                    let mut columns = columns.clone();
                    columns.push(ctx_name());
                    OperatorKind::Distinct { params: params.clone(), columns }
                }
            }
            OperatorKind::Take(n) => {
                let n = self.const_count(n)?;
                return self.per_row_limit(rel, ctx, sorted, n);
            }
            OperatorKind::Top { count, by } => {
                let n = self.const_count(count)?;
                let key = self.sort_expr(&rel, by)?;
                return self.per_row_limit(rel, ctx, vec![key], n);
            }
            // a scan per context row: its own state and match ids
            OperatorKind::Scan { params, declare, steps } => {
                return self.bind_scan_in(rel, params, declare, steps, op.span, Some(ctx));
            }
            _ => op.kind.clone(),
        };
        let op2 = ast::Operator { kind: rewritten, span: op.span };
        let mut out = self.bind_operator(rel, &op2)?;
        // the context column of a summarize key keeps its internal name
        if let Some(c) = out.cols.iter_mut().find(|c| c.name == ctx) {
            c.ty = KqlType::String;
        }
        Ok(out)
    }

    /// `agg` (a per-row `summarize` without `by`) plus, for each context row it has no row for,
    /// the aggregates over an empty table (`count()` 0, `make_bag()` `{}`, ...).
    fn add_empty_contexts(
        &mut self,
        agg: Rel,
        input: Rel,
        op: &ast::Operator,
        all_ctx: datafusion::logical_expr::LogicalPlan,
        ctx: &str,
    ) -> Result<Rel> {
        use datafusion::logical_expr::JoinType;
        let empty_in = LogicalPlanBuilder::from(input.plan.clone()).filter(lit(false))?.build()?;
        let empty = self.bind_operator(mk_rel(empty_in, input.cols.clone()), op)?;
        let (all, rid_all, rid_agg) = (self.fresh_alias("ctx"), self.fresh_alias("rid"), self.fresh_alias("rid"));
        let all_plan = LogicalPlanBuilder::from(all_ctx)
            .project(vec![column(ctx).alias(&all), get_field(column(ctx), RID).alias(&rid_all)])?
            .build()?;
        let seen = LogicalPlanBuilder::from(agg.plan.clone())
            .project(vec![get_field(column(ctx), RID).alias(&rid_agg)])?
            .build()?;
        let missing = LogicalPlanBuilder::from(all_plan)
            .join(seen, JoinType::LeftAnti, (vec![rid_all.as_str()], vec![rid_agg.as_str()]), None)?
            .cross_join(empty.plan)?
            .project(
                agg.cols
                    .iter()
                    .map(|c| if c.name == ctx { column(&all).alias(ctx) } else { column(&c.name) })
                    .collect::<Vec<_>>(),
            )?
            .build()?;
        let plan = LogicalPlanBuilder::from(agg.plan).union(missing)?.build()?;
        Ok(mk_rel(plan, agg.cols))
    }

    /// Keep the first `n` rows of each context row (in `order`; in the order they come when it
    /// is empty).
    fn per_row_limit(&mut self, rel: Rel, ctx: &str, order: Vec<SortExpr>, n: usize) -> Result<Rel> {
        let rn_name = self.fresh_alias("rn");
        let rn = datafusion::functions_window::expr_fn::row_number().partition_by(vec![get_field(column(ctx), RID)]);
        // no ORDER BY: a frame over the whole partition (the default frame, up to the current
        // row of an ORDER BY, fails type coercion without one)
        let rn = if order.is_empty() {
            rn.window_frame(datafusion::logical_expr::WindowFrame::new(None))
        } else {
            rn.order_by(order)
        };
        let rn = rn.build()?.alias(&rn_name);
        let names: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        let plan = LogicalPlanBuilder::from(rel.plan)
            .window(vec![rn])?
            .filter(column(&rn_name).lt_eq(lit(n as u64)))?
            .project(names)?
            .build()?;
        Ok(mk_rel(plan, rel.cols))
    }
}

fn strip_paren(e: &ast::Expr) -> &ast::Expr {
    match &e.kind {
        ExprKind::Paren(x) | ExprKind::Braced(x) => strip_paren(x),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use crate::session::{Catalog, Session, SessionOptions};

    fn rows(q: &str) -> Vec<Vec<serde_json::Value>> {
        let s = Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
        let r = s.query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        crate::output::rows_json(&r)
    }

    const T: &str = "datatable(k:long, a:dynamic)[1, dynamic([1, 5, 2]), 2, dynamic([[7, 3], [4]])]";

    #[test]
    fn two_mv_applies_in_one_query_have_their_own_context() {
        let q = format!(
            "{T} | mv-apply x = a on (summarize n = count()) \
             | mv-apply y = a on (summarize m = count()) | project k, n, m"
        );
        assert_eq!(
            rows(&q),
            vec![
                vec![serde_json::json!(1), serde_json::json!(3), serde_json::json!(3)],
                vec![serde_json::json!(2), serde_json::json!(2), serde_json::json!(2)]
            ]
        );
    }

    #[test]
    fn a_nested_mv_apply_applies_per_element() {
        let q = format!(
            "{T} | where k == 2 | mv-apply x = a on (mv-apply y = x to typeof(long) on (summarize s = sum(y))) \
             | project k, s"
        );
        assert_eq!(
            rows(&q),
            vec![vec![serde_json::json!(2), serde_json::json!(10)], vec![serde_json::json!(2), serde_json::json!(4)]]
        );
    }

    #[test]
    fn take_after_sort_keeps_the_first_rows_in_that_order() {
        let q = format!("{T} | where k == 1 | mv-apply x = a to typeof(long) on (sort by x desc | take 2) | project x");
        assert_eq!(rows(&q), vec![vec![serde_json::json!(5)], vec![serde_json::json!(2)]]);
        let q =
            format!("{T} | where k == 1 | mv-apply x = a to typeof(long) on (order by x asc | where x > 1 | take 1) | project x");
        assert_eq!(rows(&q), vec![vec![serde_json::json!(2)]]);
        let q = format!("{T} | where k == 1 | mv-apply x = a to typeof(long) on (take 1) | project x");
        assert_eq!(rows(&q), vec![vec![serde_json::json!(1)]]);
    }
}
