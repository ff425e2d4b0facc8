//! KQL-specific rules added to DataFusion's logical optimizer.
//!
//! KQL queries filter in steps (`where TimeGenerated > ago(1d) | where isnotempty(x) | where
//! tostring(d.k) == "v"`), and DataFusion merges consecutive filters into one conjunction whose
//! order does not follow the query. It evaluates the conjuncts of a filter in order, and once the
//! rows left are few it evaluates the next ones only on those rows, so the order matters:
//! [`CheapPredicatesFirst`] puts comparisons of plain columns first, then comparisons of text
//! columns, then anything that calls a function (most KQL functions run row by row).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, ExprSchema, Result};
use datafusion::logical_expr::utils::{conjunction, split_conjunction_owned};
use datafusion::logical_expr::{Expr, Filter, LogicalPlan};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

/// Orders the conjuncts of every filter by their cost: plain-column comparisons, then text
/// comparisons, then function calls; the query's order within each class (see the module docs).
#[derive(Debug, Default)]
pub struct CheapPredicatesFirst;

/// 0: only non-text columns and literals; 1: text columns; 2: calls a function or a subquery.
fn cost(e: &Expr, schema: &DFSchema) -> u8 {
    let mut cost = 0;
    let _ = e.apply(|x| {
        match x {
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

impl OptimizerRule for CheapPredicatesFirst {
    fn name(&self) -> &str {
        "kql_cheap_predicates_first"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Filter(filter) = plan else { return Ok(Transformed::no(plan)) };
        let schema = filter.input.schema().clone();
        let parts = split_conjunction_owned(filter.predicate.clone());
        let costs: Vec<u8> = parts.iter().map(|e| cost(e, &schema)).collect();
        if costs.windows(2).all(|w| w[0] <= w[1]) {
            return Ok(Transformed::no(LogicalPlan::Filter(filter)));
        }
        let mut ranked: Vec<(u8, Expr)> = costs.into_iter().zip(parts).collect();
        ranked.sort_by_key(|(c, _)| *c); // stable: the query's order within a class
        let Some(predicate) = conjunction(ranked.into_iter().map(|(_, e)| e)) else {
            return Ok(Transformed::no(LogicalPlan::Filter(filter)));
        };
        Ok(Transformed::yes(LogicalPlan::Filter(Filter::try_new(predicate, filter.input)?)))
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
