//! Projections built in time proportional to the pipeline, not to its square.
//!
//! DataFusion's `LogicalPlanBuilder::project` normalizes every column of every expression
//! against the input plan, and for each column walks the whole input plan, every expression of
//! every node, to find its `USING` join columns. A KQL pipeline is a chain of projections (each
//! `extend` keeps every column and adds some), so binding a pipeline of `n` operators over a
//! table of `c` columns cost `n` x `c` walks of a plan of `n` nodes: 60 `extend`s over
//! `SigninLogs` took 400 ms to check, which the language server pays at every keystroke.
//! [`project`] walks the input once per projection and normalizes each column against that.

use datafusion::common::Result;
use datafusion::logical_expr::expr_rewriter::normalize_col_with_schemas_and_ambiguity_check;
use datafusion::logical_expr::utils::columnize_expr;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection};
use std::sync::Arc;

/// `LogicalPlanBuilder::from(plan).project(exprs)?.build()`, the same plan, with the input's
/// `USING` columns found once instead of once per column.
pub fn project(plan: LogicalPlan, exprs: impl IntoIterator<Item = impl Into<Expr>>) -> Result<LogicalPlan> {
    let using = plan.using_columns()?;
    let exprs = {
        let schema = plan.schema();
        let fallback = plan.fallback_normalize_schemas();
        let schemas: [&[&datafusion::common::DFSchema]; 2] = [&[schema.as_ref()], &fallback];
        exprs
            .into_iter()
            .map(|e| {
                let e = normalize_col_with_schemas_and_ambiguity_check(e.into(), &schemas, &using)?;
                columnize_expr(e, &plan)
            })
            .collect::<Result<Vec<Expr>>>()?
    };
    Ok(LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(plan))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit, LogicalPlanBuilder};

    #[test]
    fn the_same_plan_as_the_builders() {
        let base = LogicalPlanBuilder::empty(true)
            .project(vec![lit(1).alias("a"), lit("x").alias("b")])
            .unwrap()
            .build()
            .unwrap();
        let exprs = || vec![col("a"), (col("a") + lit(2)).alias("c"), col("b")];
        let ours = project(base.clone(), exprs()).unwrap();
        let theirs = LogicalPlanBuilder::from(base).project(exprs()).unwrap().build().unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(format!("{}", ours.display_indent_schema()), format!("{}", theirs.display_indent_schema()));
    }
}
