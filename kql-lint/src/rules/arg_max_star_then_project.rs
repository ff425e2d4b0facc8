//! KQLW009 `arg-max-star-then-project`: `arg_max(x, *)` keeps every column, then a `project`
//! keeps a few.

use super::call_name;
use crate::registry::{Check, Lint};
use crate::Finding;
use kql_parser::ast::{Expr, ExprKind, OperatorKind, Script};
use kql_parser::visit;

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW009",
    name: "arg-max-star-then-project",
    summary: "`arg_max(..., *)` carries every column through the aggregation, then `project` keeps a few",
    cost: 3,
    why: "`summarize arg_max(TimeGenerated, *) by Key` keeps, for every group, every column of \
the row with the largest value: on wide tables (`SecurityEvent`, `AzureDiagnostics`, hundreds \
of columns) the aggregation holds and moves all of them. When a later `project` keeps only \
some, name those in the aggregation instead.",
    example: "SigninLogs\n| where TimeGenerated > ago(1d)\n| summarize arg_max(TimeGenerated, *) by UserPrincipalName\n| project UserPrincipalName, IPAddress, ResultType",
    fixed: "SigninLogs\n| where TimeGenerated > ago(1d)\n| summarize arg_max(TimeGenerated, IPAddress, ResultType) by UserPrincipalName\n| project UserPrincipalName, IPAddress, ResultType",
    check: Check::Syntax(check),
};

/// The `arg_max(..., *)` / `arg_min(..., *)` call in an aggregation.
fn star_arg_extreme(e: &Expr) -> Option<String> {
    let name = call_name(e)?;
    let ExprKind::Call { args, .. } = &e.kind else { return None };
    let star = args.iter().skip(1).any(|a| matches!(a.expr().kind, ExprKind::Star));
    (matches!(name.as_str(), "arg_max" | "arg_min") && star).then_some(name)
}

fn check(script: &Script) -> Vec<Finding> {
    let mut out = Vec::new();
    for ops in visit::pipelines(&visit::all_exprs(script)) {
        for (i, op) in ops.iter().enumerate() {
            let OperatorKind::Summarize { aggs, .. } = &op.kind else { continue };
            let Some((agg, name)) = aggs.iter().find_map(|a| star_arg_extreme(&a.expr).map(|n| (a, n))) else {
                continue;
            };
            // the first later `project` of plain columns
            let kept = ops[i + 1..].iter().find_map(|later| match &later.kind {
                OperatorKind::Project(cols)
                    if cols.iter().all(|c| !matches!(c.expr.kind, ExprKind::Star | ExprKind::Wildcard(_))) =>
                {
                    Some(cols.len())
                }
                _ => None,
            });
            if let Some(kept) = kept {
                out.push(
                    Finding::new(
                        LINT.code,
                        format!(
                            "`{name}(..., *)` keeps every column of each group's row; a later `project` keeps {kept}"
                        ),
                        agg.expr.span,
                    )
                    .help(format!("name the columns the query uses: `{name}(Column, A, B, ...)`")),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    fn n(q: &str) -> usize {
        super::check(&kql_parser::parse(q).unwrap()).len()
    }

    #[test]
    fn a_star_projected_later_is_found() {
        assert_eq!(n("T | summarize arg_max(t, *) by k | project k, a"), 1);
        assert_eq!(n("T | summarize x = arg_min(t, *) by k | where a > 1 | project k, a"), 1);
        assert_eq!(n("T | summarize arg_max(t, *) by k"), 0, "every column is the output");
        assert_eq!(n("T | summarize arg_max(t, a, b) by k | project k, a"), 0);
        assert_eq!(n("T | summarize arg_max(t, *) by k | project-away b"), 0);
    }
}
