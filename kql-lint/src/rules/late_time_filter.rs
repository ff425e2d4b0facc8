//! KQLW012 `late-time-filter`: the time window is applied after a join or an aggregation.

use super::{call_name, is_time_column};
use crate::registry::{Check, Lint};
use crate::Finding;
use kql_parser::ast::{BinaryOp, Expr, ExprKind, Literal, Operator, OperatorKind, Script};
use kql_parser::visit;

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW012",
    name: "late-time-filter",
    summary: "the time window is applied after a `join`, `lookup`, `summarize`, `mv-expand` or `make-series`",
    cost: 3,
    why: "A `where TimeGenerated > ago(1d)` after a `join` or `summarize` filters the result of \
an operator that has already processed the whole retention. Filter on time first, in each \
table the query reads: Kusto's best practices put the time filter before anything else.",
    example: "SigninLogs\n| summarize n = count() by UserPrincipalName, TimeGenerated\n| where TimeGenerated > ago(1d)",
    fixed: "SigninLogs\n| where TimeGenerated > ago(1d)\n| summarize n = count() by UserPrincipalName, TimeGenerated",
    check: Check::Syntax(check),
};

/// An expression that stands for a point in time: `ago(...)`, `now()`, `startofday(...)`, a
/// `datetime(...)` literal.
fn is_time_point(e: &Expr) -> bool {
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        let point = matches!(&x.kind, ExprKind::Literal(Literal::DateTime(_)))
            || call_name(x).is_some_and(|n| {
                matches!(n.as_str(), "ago" | "now" | "startofday" | "startofweek" | "startofmonth" | "startofyear")
            });
        if point {
            return true;
        }
        stack.extend(visit::children(x));
    }
    false
}

/// Whether `e` bounds a time column by a point in time (`TimeGenerated > ago(1d)`,
/// `Timestamp between (ago(2d) .. now())`).
fn is_time_window(e: &Expr) -> bool {
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        match &x.kind {
            ExprKind::Binary { op: BinaryOp::Gt | BinaryOp::GtEq | BinaryOp::Lt | BinaryOp::LtEq, left, right } => {
                let col = |c: &Expr| matches!(&c.kind, ExprKind::Name(n) if is_time_column(&n.name));
                if (col(left) && is_time_point(right)) || (col(right) && is_time_point(left)) {
                    return true;
                }
            }
            ExprKind::Between { expr, low, high, .. }
                if matches!(&expr.kind, ExprKind::Name(n) if is_time_column(&n.name))
                    && (is_time_point(low) || is_time_point(high)) =>
            {
                return true;
            }
            ExprKind::Binary { op: BinaryOp::And | BinaryOp::Or, left, right } => stack.extend([&**left, &**right]),
            ExprKind::Paren(inner) => stack.push(inner),
            _ => {}
        }
    }
    false
}

/// The name of an operator that processes every row it gets before a later filter can act,
/// for the message.
fn costly(op: &Operator) -> Option<&'static str> {
    Some(match &op.kind {
        OperatorKind::Join { .. } => "join",
        OperatorKind::Lookup { .. } => "lookup",
        OperatorKind::Summarize { .. } => "summarize",
        OperatorKind::MvExpand { .. } => "mv-expand",
        // not `union`: Kusto pushes a filter after a union into each of its tables
        OperatorKind::MakeSeries { .. } => "make-series",
        _ => return None,
    })
}

fn check(script: &Script) -> Vec<Finding> {
    let mut out = Vec::new();
    for ops in visit::pipelines(&visit::all_exprs(script)) {
        let mut before: Option<&'static str> = None;
        for op in ops {
            if let OperatorKind::Where(pred) = &op.kind {
                if is_time_window(pred) {
                    if let Some(costly) = before {
                        out.push(
                            Finding::new(LINT.code, format!("the time window is applied after `{costly}`, which has processed the whole retention"), op.span)
                                .help(format!("filter on time before `{costly}` (and inside the tables it joins or unions)")),
                        );
                    }
                    break;
                }
            }
            if before.is_none() {
                before = costly(op);
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
    fn time_windows_after_costly_operators_are_found() {
        assert_eq!(n("T | summarize count() by TimeGenerated | where TimeGenerated > ago(1d)"), 1);
        assert_eq!(n("T | join kind=inner (U) on k | where TimeGenerated between (ago(2d) .. now())"), 1);
        assert_eq!(
            n("T | where TimeGenerated > ago(1d) | join kind=inner (U) on k | where TimeGenerated > ago(1h)"),
            0
        );
        assert_eq!(
            n("T | join kind=inner (U) on k | where TimeGenerated1 > TimeGenerated"),
            0,
            "a correlation, not a window"
        );
        assert_eq!(n("T | join kind=inner (U) on k | where TimeGenerated > TimeGenerated1 + 1h"), 0);
        assert_eq!(n("T | extend x = 1 | where Timestamp > ago(1d)"), 0);
        assert_eq!(n("union T, U | where Timestamp > ago(1d)"), 0, "pushed into each table");
    }
}
