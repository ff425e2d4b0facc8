//! KQLW008 `join-without-kind`: a `join` that relies on the default kind, `innerunique`.

use super::param;
use crate::registry::{Check, Lint};
use crate::Finding;
use kql_parser::ast::{OperatorKind, Script};
use kql_parser::visit;

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW008",
    name: "join-without-kind",
    summary: "a `join` without `kind=`: Kusto's default `innerunique` drops duplicate left keys",
    cost: 1,
    why: "Without `kind=`, Kusto joins as `innerunique`: it keeps one arbitrary left row per key \
before joining. Most people expect SQL's inner join; with several left rows per key the \
results silently lose rows (and which row is kept can differ between runs). Write the kind you \
mean.",
    example: "SigninLogs\n| where TimeGenerated > ago(1d)\n| join (AuditLogs | where TimeGenerated > ago(1d)) on CorrelationId",
    fixed: "SigninLogs\n| where TimeGenerated > ago(1d)\n| join kind=inner (AuditLogs | where TimeGenerated > ago(1d)) on CorrelationId",
    check: Check::Syntax(check),
};

fn check(script: &Script) -> Vec<Finding> {
    let mut out = Vec::new();
    for ops in visit::pipelines(&visit::all_exprs(script)) {
        for op in ops {
            if let OperatorKind::Join { params, .. } = &op.kind {
                if param(params, "kind").is_none() {
                    let at = kql_parser::Span { start: op.span.start, end: op.span.start + "join".len() };
                    out.push(
                        Finding::new(LINT.code, "`join` without `kind=` is an `innerunique` join: one left row per key is kept", at)
                            .help("write `join kind=inner` for every match, or `join kind=innerunique` to keep the default on purpose"),
                    );
                }
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
    fn only_joins_without_a_kind_are_found() {
        assert_eq!(n("T | join (U) on k"), 1);
        assert_eq!(n("T | join kind=innerunique (U) on k"), 0);
        assert_eq!(n("T | join kind=leftouter (U | join (V) on k) on k"), 1, "the inner one");
        assert_eq!(n("T | lookup (U) on k"), 0, "lookup's default is leftouter, as documented");
    }
}
