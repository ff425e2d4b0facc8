//! KQL-specific rules added to DataFusion's logical optimizer.
//!
//! KQL queries filter in steps (`where TimeGenerated > ago(1d) | where isnotempty(x) | where
//! tostring(d.k) == "v"`), and DataFusion merges consecutive filters into one conjunction whose
//! order does not follow the query. It evaluates the conjuncts of a filter in order, and once the
//! rows left are few it evaluates the next ones only on those rows, so the order matters:
//! [`CheapPredicatesFirst`] puts comparisons of plain columns first, then comparisons of text
//! columns, then anything that calls a function (most KQL functions run row by row).
//!
//! [`TextEqualityInFilters`] compares text with a constant by machine words in filters.
//!
//! [`DictionaryArguments`] hands the dictionary-encoded member columns of tables in memory to
//! the functions that read them (`tostring(LogMessage.app)`, `isnotempty(...)`, a text equality)
//! as they are: each distinct value is then processed once, not each row.
//!
//! [`DynamicTextComparisons`] turns `tostring(d) == "text"` into one comparison of `d`'s JSON
//! text (see [`dynfn::string_comparison`]). It runs as an optimizer rule, after DataFusion has
//! moved filters through projections, so it also catches the comparisons that only appear once
//! an `extend` is inlined (`extend x = tostring(d.k) | where x == "v"`). DataFusion does not
//! inline an `extend` into a `summarize`, so the rule does that itself for comparisons inside
//! aggregates (`countif(x == "PASS")` over `extend x = tostring(d.k)`): the aggregate then
//! compares the JSON text, and the conversion of every row is not needed any more.

use crate::functions::{dynfn, udf};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, ExprSchema, Result};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::{conjunction, split_conjunction_owned};
use datafusion::logical_expr::{Aggregate, BinaryExpr, Expr, ExprSchemable, Filter, LogicalPlan, Operator, Projection};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use datafusion::scalar::ScalarValue;
use std::sync::Arc;

/// The `OptimizerRule` of a rule that DataFusion applies to every node, bottom up, through the
/// type's own `rewrite_node`: the rules of this module differ only in that and their name.
macro_rules! bottom_up_rule {
    ($rule:ty, $name:literal) => {
        impl OptimizerRule for $rule {
            fn name(&self) -> &str {
                $name
            }

            fn apply_order(&self) -> Option<ApplyOrder> {
                Some(ApplyOrder::BottomUp)
            }

            fn supports_rewrite(&self) -> bool {
                true
            }

            fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
                self.rewrite_node(plan)
            }
        }
    };
}

/// Orders the conjuncts of every filter by their cost: plain-column comparisons, then text
/// comparisons, then function calls; the query's order within each class (see the module docs).
#[derive(Debug, Default)]
pub struct CheapPredicatesFirst;

/// 0: only non-text columns and literals; 1: text columns (or `text_eq`); 2: calls a function or a subquery.
fn cost(e: &Expr, schema: &DFSchema) -> u8 {
    let mut cost = 0;
    let _ = e.apply(|x| {
        match x {
            // a byte comparison of a text column, as cheap as Arrow's own
            Expr::ScalarFunction(f) if f.name() == crate::functions::texteq::TEXT_EQ => {
                cost = cost.max(1);
            }
            Expr::ScalarFunction(_)
            | Expr::ScalarSubquery(_)
            | Expr::Exists(_)
            | Expr::InSubquery(_)
            | Expr::Like(_)
            | Expr::SimilarTo(_) => {
                cost = 2;
                return Ok(TreeNodeRecursion::Stop);
            }
            Expr::Column(c) => {
                if let Ok(f) = schema.field_from_column(c) {
                    if matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
                        cost = cost.max(1);
                    }
                }
            }
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    });
    cost
}

bottom_up_rule!(CheapPredicatesFirst, "kql_cheap_predicates_first");

impl CheapPredicatesFirst {
    /// The rule on one node of the plan.
    fn rewrite_node(&self, plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
        rewrite_conjuncts(plan, |parts, schema| {
            let costs: Vec<u8> = parts.iter().map(|e| cost(e, schema)).collect();
            if costs.windows(2).all(|w| w[0] <= w[1]) {
                return None;
            }
            let mut ranked: Vec<(u8, Expr)> = costs.into_iter().zip(parts.iter().cloned()).collect();
            ranked.sort_by_key(|(c, _)| *c); // stable: the query's order within a class
            Some(ranked.into_iter().map(|(_, e)| e).collect())
        })
    }
}

/// For a filter: its conjuncts as `f` rewrites them (`None`: unchanged), joined again.
fn rewrite_conjuncts(
    plan: LogicalPlan,
    f: impl FnOnce(&[Expr], &DFSchema) -> Option<Vec<Expr>>,
) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Filter(filter) = plan else { return Ok(Transformed::no(plan)) };
    let parts = split_conjunction_owned(filter.predicate.clone());
    let Some(predicate) = f(&parts, filter.input.schema()).and_then(conjunction) else {
        return Ok(Transformed::no(LogicalPlan::Filter(filter)));
    };
    Ok(Transformed::yes(LogicalPlan::Filter(Filter::try_new(predicate, filter.input)?)))
}

/// In filters, a conjunct `text == "literal"` becomes `text_eq(text, "literal")`
/// ([`crate::functions::texteq`]): lengths from the offsets and machine words, where Arrow's
/// equality calls `memcmp` for every row. Only as a whole conjunct of a filter, where a null
/// comparison and a false one both drop the row (`text_eq` of a null is false, not null).
#[derive(Debug, Default)]
pub struct TextEqualityInFilters;

bottom_up_rule!(TextEqualityInFilters, "kql_text_equality_in_filters");

impl TextEqualityInFilters {
    /// The rule on one node of the plan.
    fn rewrite_node(&self, plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
        rewrite_conjuncts(plan, |parts, schema| {
            let rewritten: Vec<Option<Expr>> = parts.iter().map(|p| text_equality(p, schema)).collect();
            rewritten
                .iter()
                .any(Option::is_some)
                .then(|| rewritten.into_iter().zip(parts).map(|(r, p)| r.unwrap_or_else(|| p.clone())).collect())
        })
    }
}

/// `text_eq(e, "literal")` for `e == "literal"` (either way round) where `e` is text and not a
/// literal itself.
fn text_equality(part: &Expr, schema: &DFSchema) -> Option<Expr> {
    let Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) = part else { return None };
    let (e, text) = match (&**left, &**right) {
        (e, Expr::Literal(ScalarValue::Utf8(Some(t)), _)) | (Expr::Literal(ScalarValue::Utf8(Some(t)), _), e) => (e, t),
        _ => return None,
    };
    if matches!(e, Expr::Literal(..)) || e.get_type(schema).ok()? != DataType::Utf8 {
        return None;
    }
    Some(crate::functions::texteq::text_eq(e.clone(), text))
}

/// Rewrites `tostring(d) == "text"` and `!=` in every expression of the plan into a comparison
/// of `d`'s JSON text (see the module docs), keeping the expressions' names.
#[derive(Debug, Default)]
pub struct DynamicTextComparisons;

bottom_up_rule!(DynamicTextComparisons, "kql_dynamic_text_comparisons");

impl DynamicTextComparisons {
    /// The rule on one node of the plan.
    fn rewrite_node(&self, plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
        let t = inline_text_comparisons(plan)?;
        if t.transformed {
            return Ok(t);
        }
        let plan = t.data;
        let names = NamePreserver::new(&plan);
        let t = plan.map_expressions(|e| {
            let saved = names.save(&e);
            let t = e.transform_up(|x| {
                let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &x else { return Ok(Transformed::no(x)) };
                Ok(match dynfn::string_comparison(left, *op, right) {
                    Some(rewritten) => Transformed::yes(rewritten),
                    None => Transformed::no(x),
                })
            })?;
            Ok(t.update_data(|e| saved.restore(e)))
        })?;
        if !t.transformed {
            return Ok(t);
        }
        // the comparisons are boolean either way; only their nullability may change
        t.map_data(|p| p.recompute_schema())
    }
}

/// An aggregate or a projection over a projection that converts dynamic values to text
/// (`extend x = tostring(d.k) | summarize countif(x == "PASS")`): comparisons of such a column
/// with a text in the aggregates (or the outer projection) become comparisons of the dynamic
/// value's JSON text, and the inner projection passes on the dynamic column they read (the
/// conversion is then dropped by DataFusion's projection pruning when nothing else uses it).
fn inline_text_comparisons(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let (exprs, input) = match &plan {
        LogicalPlan::Aggregate(a) => (&a.aggr_expr, &a.input),
        LogicalPlan::Projection(p) => (&p.expr, &p.input),
        _ => return Ok(Transformed::no(plan)),
    };
    let LogicalPlan::Projection(inner) = input.as_ref() else { return Ok(Transformed::no(plan)) };
    let Some((rewritten, inner)) = compare_text_of(exprs, inner)? else { return Ok(Transformed::no(plan)) };
    let names = NamePreserver::new_for_projection();
    let rewritten: Vec<Expr> = exprs.iter().zip(rewritten).map(|(old, new)| names.save(old).restore(new)).collect();
    let input = Arc::new(LogicalPlan::Projection(inner));
    Ok(Transformed::yes(match plan {
        LogicalPlan::Aggregate(a) => LogicalPlan::Aggregate(Aggregate::try_new(input, a.group_expr, rewritten)?),
        _ => LogicalPlan::Projection(Projection::try_new(rewritten, input)?),
    }))
}

/// `exprs` (over the output of `inner`) with comparisons of `inner`'s text conversions rewritten
/// by [`dynfn::string_comparison`], and `inner` passing on the columns they read now; `None`
/// when there is nothing to rewrite, or the columns cannot be passed on.
fn compare_text_of(exprs: &[Expr], inner: &Projection) -> Result<Option<(Vec<Expr>, Projection)>> {
    let conversion = |c: &Column| -> Option<Expr> {
        let e = inner.expr.get(inner.schema.maybe_index_of_column(c)?)?.clone().unalias_nested().data;
        let Expr::ScalarFunction(f) = &e else { return None };
        (dynfn::is_text_conversion(f) && matches!(f.args.first(), Some(Expr::Column(_)))).then_some(e)
    };
    let mut read: Vec<Column> = Vec::new();
    let mut changed = false;
    let mut out = Vec::with_capacity(exprs.len());
    for e in exprs {
        let t = e.clone().transform_up(|x| {
            let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &x else { return Ok(Transformed::no(x)) };
            let (c, text) = match (left.as_ref(), right.as_ref()) {
                (Expr::Column(c), t @ Expr::Literal(ScalarValue::Utf8(Some(_)), _))
                | (t @ Expr::Literal(ScalarValue::Utf8(Some(_)), _), Expr::Column(c)) => (c, t),
                _ => return Ok(Transformed::no(x)),
            };
            let Some(conv) = conversion(c) else { return Ok(Transformed::no(x)) };
            match dynfn::string_comparison(&conv, *op, text) {
                Some(rewritten) => {
                    read.extend(rewritten.column_refs().into_iter().cloned());
                    Ok(Transformed::yes(rewritten))
                }
                None => Ok(Transformed::no(x)),
            }
        })?;
        changed |= t.transformed;
        out.push(t.data);
    }
    if !changed {
        return Ok(None);
    }
    // (unless the projection already outputs a different value under one of their names)
    let mut pass = inner.expr.clone();
    for c in read {
        match inner.schema.maybe_index_of_column(&c) {
            Some(i) if pass[i] == Expr::Column(c.clone()) => {}
            Some(_) => return Ok(None),
            None if !pass.contains(&Expr::Column(c.clone())) => pass.push(Expr::Column(c)),
            None => {}
        }
    }
    Ok(Some((out, Projection::try_new(pass, inner.input.clone())?)))
}

/// Gives the functions that take dictionary-encoded text ([`udf::takes_dictionaries`]) the
/// dictionary-encoded member columns of tables in memory directly, where [`crate::load::paths`]
/// reads them through a conversion to text: `tostring(CAST(m AS Utf8))` becomes `tostring(m)`.
/// Elsewhere (an operator, a DataFusion function, the output) the conversion stays.
#[derive(Debug, Default)]
pub struct DictionaryArguments;

bottom_up_rule!(DictionaryArguments, "kql_dictionary_arguments");

impl DictionaryArguments {
    /// The rule on one node of the plan.
    fn rewrite_node(&self, plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
        let inputs: Vec<Arc<DFSchema>> = plan.inputs().iter().map(|i| i.schema().clone()).collect();
        let is_dictionary_text = |e: &Expr| -> bool {
            let Expr::Cast(c) = e else { return false };
            let Expr::Column(col) = c.expr.as_ref() else { return false };
            c.field.data_type() == &DataType::Utf8
                && inputs
                    .iter()
                    .any(|s| s.field_from_column(col).is_ok_and(|f| crate::types::is_dictionary_text(f.data_type())))
        };
        let names = NamePreserver::new(&plan);
        plan.map_expressions(|e| {
            let saved = names.save(&e);
            let t = e.transform_up(|x| match x {
                Expr::ScalarFunction(mut f)
                    if udf::takes_dictionaries(&f.func) && f.args.iter().any(is_dictionary_text) =>
                {
                    for a in f.args.iter_mut() {
                        let column = match &*a {
                            Expr::Cast(c) if is_dictionary_text(a) => Some(c.expr.as_ref().clone()),
                            _ => None,
                        };
                        if let Some(column) = column {
                            *a = column;
                        }
                    }
                    Ok(Transformed::yes(Expr::ScalarFunction(f)))
                }
                other => Ok(Transformed::no(other)),
            })?;
            Ok(t.update_data(|e| saved.restore(e)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::datasource::{provider_as_source, MemTable};
    use datafusion::logical_expr::{ident, lit, LogicalPlanBuilder};
    use datafusion::optimizer::OptimizerContext;
    use std::sync::Arc;

    #[test]
    fn function_calls_go_after_column_comparisons() {
        let schema =
            Arc::new(Schema::new(vec![Field::new("t", DataType::Int64, true), Field::new("s", DataType::Utf8, true)]));
        let table = MemTable::try_new(schema, vec![vec![]]).unwrap();
        let call = datafusion::functions::expr_fn::upper(ident("s")).eq(lit("X"));
        let text = ident("s").eq(lit("y"));
        let time = ident("t").gt(lit(5i64));
        let plan = LogicalPlanBuilder::scan("T", provider_as_source(Arc::new(table)), None)
            .unwrap()
            .filter(call.clone().and(text.clone()).and(time.clone()))
            .unwrap()
            .build()
            .unwrap();
        let out = CheapPredicatesFirst.rewrite(plan, &OptimizerContext::new()).unwrap();
        assert!(out.transformed);
        let LogicalPlan::Filter(f) = out.data else { panic!("a filter") };
        let got: Vec<String> = split_conjunction_owned(f.predicate).iter().map(|e| e.to_string()).collect();
        let want: Vec<String> = [time, text, call].iter().map(|e| e.to_string()).collect();
        assert_eq!(got.len(), 3);
        for (g, w) in got.iter().zip(&want) {
            // the plan's columns are qualified by the table
            assert_eq!(g.replace("t.", ""), w.replace("t.", ""), "{got:?}");
        }
    }
}
