//! The physical optimizer rules a session runs: DataFusion's own, minus one that is wrong for
//! KQL's plans, plus a guard after them for another (both DataFusion 55 bugs, found by the
//! query fuzzer; see `docs/fuzzing.md`).
//!
//! - `aggregate_statistics` answers `count()`/`min`/`max` from the input's statistics; over an
//!   input its statistics call empty, an aggregate with a FILTER (`countif`) is rewritten into a
//!   projection of the wrong schema, an internal error (`make-series` over no rows, then
//!   `summarize countif(...)`). It is left out: counting a table in memory is cheap without it.
//! - `LimitedDistinctAggregation` gives a `distinct ... | take N` aggregation a row limit, so
//!   that it stops after N groups. It checks that the aggregation is unordered when it runs, but
//!   later rules may give the aggregation an output ordering, and an ordered aggregation with a
//!   limit and no sort direction fails at execution ("Ordering direction required for DISTINCT
//!   with limit"). [`UnorderedDistinctLimit`] runs last and takes the limit back from those,
//!   and from top-k aggregations on a real key (`summarize by v | top 1 by v`): the top-k hash
//!   table looks a key up again by `==`, which a NaN never equals ("entered unreachable code").
//! - `EnforceSorting` may remove a sort that made its input one partition (a `sort` before a
//!   `distinct`) and leave the operator above it, planned for one partition, over several
//!   (apache/datafusion#18989): `SanityCheckPlan` then refuses the plan. [`SatisfyDistribution`]
//!   runs just before the check and puts back the coalesce or hash repartition a one-input
//!   operator needs.
//! - A sort over a `union` whose branch lacks some sort keys (the union fills them with NULL):
//!   `EnforceSorting` sorts that branch by the keys before them only, a constant needing no
//!   sort, but the union's output ordering is what its branches share, which loses the
//!   constant, and `SanityCheckPlan` refuses the merge above the union (`union (T), (T | join
//!   (T) on n) | sort by t desc, n1 asc`). Sorting that branch again does not help (its ordering
//!   is normalized the same way): [`SortUnionBranches`] replaces such a merge by a sort of the
//!   union's rows, which requires no order of its input.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{
    ChildSatisfactionOptions, Distribution, ExecutionPlan, ExecutionPlanProperties, Partitioning,
};
use std::sync::Arc;

/// The physical optimizer rules for a session whose current rules are `rules`.
pub fn session_rules(
    rules: &[Arc<dyn PhysicalOptimizerRule + Send + Sync>],
) -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut out: Vec<_> = rules.iter().filter(|r| r.name() != "aggregate_statistics").cloned().collect();
    let check = out.iter().position(|r| r.name() == "SanityCheckPlan").unwrap_or(out.len());
    out.insert(check, Arc::new(SatisfyDistribution));
    out.insert(check, Arc::new(SortUnionBranches));
    out.insert(check, Arc::new(UnorderedDistinctLimit));
    out
}

/// Removes the row limit of a limited distinct aggregation that is no longer unordered (see the
/// module's documentation).
#[derive(Debug, Default)]
pub struct UnorderedDistinctLimit;

impl PhysicalOptimizerRule for UnorderedDistinctLimit {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(agg) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            let Some(limit) = agg.limit_options() else {
                return Ok(Transformed::no(node));
            };
            // a distinct limit (no direction) on an aggregation that no longer qualifies
            let unqualified = limit.descending.is_none() && !agg.is_unordered_unfiltered_group_by_distinct();
            // the top-k hash table finds a float key again by `==`, which NaN never is
            let input = agg.input().schema();
            let float_key = agg.group_expr().expr().iter().any(|(e, _)| {
                e.data_type(&input)
                    .is_ok_and(|t| matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64))
            });
            if unqualified || float_key {
                Ok(Transformed::yes(Arc::new(agg.with_new_limit_options(None)) as Arc<dyn ExecutionPlan>))
            } else {
                Ok(Transformed::no(node))
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "kql_unordered_distinct_limit"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Gives a one-input operator the partitioning it requires when its input no longer has it:
/// one partition (a coalesce) or partitions by its keys (a hash repartition). Inputs whose order
/// the operator also requires are left alone (moving rows between partitions would lose it).
#[derive(Debug, Default)]
pub struct SatisfyDistribution;

impl PhysicalOptimizerRule for SatisfyDistribution {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let children = node.children();
            if children.len() != 1 || node.required_input_ordering().first().is_some_and(|o| o.is_some()) {
                return Ok(Transformed::no(node));
            }
            let child = Arc::clone(children[0]);
            let requirements = node.input_distribution_requirements();
            let options = ChildSatisfactionOptions::new().with_allow_subset(true);
            if requirements.child_satisfaction(0, child.as_ref(), options)?.is_satisfied() {
                return Ok(Transformed::no(node));
            }
            let fixed: Arc<dyn ExecutionPlan> = match requirements.child_distribution(0) {
                Some(Distribution::SinglePartition) => Arc::new(CoalescePartitionsExec::new(child)),
                Some(Distribution::KeyPartitioned(keys)) => {
                    let n = child.output_partitioning().partition_count().max(1);
                    Arc::new(RepartitionExec::try_new(child, Partitioning::Hash(keys.clone(), n))?)
                }
                _ => return Ok(Transformed::no(node)),
            };
            Ok(Transformed::yes(datafusion::physical_plan::execution_plan::replace_children_if_necessary(
                node,
                vec![fixed],
            )?))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "kql_satisfy_distribution"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Replaces a merge of a `union`'s sorted branches by a sort of all its rows when the union's own
/// ordering does not satisfy the merge (see the module's documentation).
#[derive(Debug, Default)]
pub struct SortUnionBranches;

impl PhysicalOptimizerRule for SortUnionBranches {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        use datafusion::physical_plan::sorts::sort::SortExec;
        use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
        use datafusion::physical_plan::union::UnionExec;
        plan.transform_up(|node| {
            let Some(merge) = node.downcast_ref::<SortPreservingMergeExec>() else { return Ok(Transformed::no(node)) };
            let union = Arc::clone(merge.input());
            if union.downcast_ref::<UnionExec>().is_none() {
                return Ok(Transformed::no(node));
            }
            let ordering = merge.expr().clone();
            if union.equivalence_properties().ordering_satisfy(ordering.clone())? {
                return Ok(Transformed::no(node));
            }
            // the union's rows gathered and sorted whole: a sort needs no order from its input
            let sorted =
                SortExec::new(ordering, Arc::new(CoalescePartitionsExec::new(union))).with_fetch(merge.fetch());
            Ok(Transformed::yes(Arc::new(sorted) as Arc<dyn ExecutionPlan>))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "kql_sort_union_branches"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
