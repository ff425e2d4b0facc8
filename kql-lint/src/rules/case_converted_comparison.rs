//! KQLW010 `case-converted-comparison`: `tolower(x) == "abc"` where `x =~ "abc"` compares
//! without converting every value.

use super::{call_name, string_literal};
use crate::registry::{Check, Lint};
use crate::Finding;
use kql_parser::ast::{BinaryOp, Expr, ExprKind, ListOp, Script};
use kql_parser::visit;

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW010",
    name: "case-converted-comparison",
    summary: "`tolower(x) == \"abc\"`: `x =~ \"abc\"` compares without converting every value",
    cost: 2,
    why: "Converting a column with `tolower()` or `toupper()` to compare it makes a new string for \
every row and hides the column from the index. Kusto's best practices: use `=~` (and `in~`) \
for case-insensitive comparisons.",
    example: "SigninLogs\n| where TimeGenerated > ago(1d)\n| where tolower(UserPrincipalName) == \"admin@contoso.com\"",
    fixed: "SigninLogs\n| where TimeGenerated > ago(1d)\n| where UserPrincipalName =~ \"admin@contoso.com\"",
    check: Check::Syntax(check),
};

/// `tolower(x)` or `toupper(x)`: the function and the argument's text span.
fn converted(e: &Expr) -> Option<(String, &Expr)> {
    let name = call_name(e)?;
    let ExprKind::Call { args, .. } = &e.kind else { return None };
    match (name.as_str(), args.as_slice()) {
        ("tolower" | "toupper", [arg]) => Some((name, arg.expr())),
        _ => None,
    }
}

/// Whether `text` is already in the case `func` converts to (so the comparison can match).
fn in_case(func: &str, text: &str) -> bool {
    if func == "tolower" {
        text == text.to_lowercase()
    } else {
        text == text.to_uppercase()
    }
}

fn check(script: &Script) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in visit::all_exprs(script) {
        match &e.kind {
            ExprKind::Binary { op: op @ (BinaryOp::Eq | BinaryOp::NotEq), left, right } => {
                let (conv, lit) = match (converted(left), converted(right)) {
                    (Some(c), None) => (c, string_literal(right)),
                    (None, Some(c)) => (c, string_literal(left)),
                    _ => continue,
                };
                let ((func, _), Some(lit)) = (conv, lit) else { continue };
                if !in_case(&func, lit) {
                    continue;
                }
                let better = if *op == BinaryOp::Eq { "=~" } else { "!~" };
                out.push(
                    Finding::new(LINT.code, format!("`{func}()` converts every value to compare it"), e.span)
                        .help(format!("compare the column itself with `{better}`: `Column {better} \"{lit}\"`")),
                );
            }
            ExprKind::InList { op: op @ (ListOp::In | ListOp::NotIn), expr, list } => {
                let Some((func, _)) = converted(expr) else { continue };
                if !list.iter().all(|i| string_literal(i).is_some_and(|t| in_case(&func, t))) || list.is_empty() {
                    continue;
                }
                let better = if *op == ListOp::In { "in~" } else { "!in~" };
                out.push(
                    Finding::new(LINT.code, format!("`{func}()` converts every value to compare it"), e.span)
                        .help(format!("compare the column itself with `{better}`: `Column {better} (...)`")),
                );
            }
            _ => {}
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
    fn conversions_compared_with_literals_are_found() {
        assert_eq!(n("T | where tolower(a) == \"x@y\""), 1);
        assert_eq!(n("T | where \"ADMIN\" != toupper(a)"), 1);
        assert_eq!(n("T | where tolower(a) in (\"a\", \"b\")"), 1);
        assert_eq!(n("T | where tolower(a) == \"Admin\""), 0, "never matches: another finding's business");
        assert_eq!(n("T | where tolower(a) == tolower(b)"), 0);
        assert_eq!(n("T | where tolower(a) in (\"a\", b)"), 0);
        assert_eq!(n("T | where a =~ \"x\""), 0);
    }
}
