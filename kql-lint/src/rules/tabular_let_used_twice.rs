//! KQLW011 `tabular-let-used-twice`: a computed `let` table used twice without `materialize()`.

use super::call_name;
use crate::registry::{Check, Lint};
use crate::Finding;
use kql_parser::ast::{ExprKind, LetValue, Script, Statement, StatementKind};
use kql_parser::visit;

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW011",
    name: "tabular-let-used-twice",
    summary: "a `let` of a computed table used more than once: Kusto computes it at each use",
    cost: 4,
    why: "A `let` names an expression; it does not store its result. A tabular `let` used twice \
(a self-join, a `union` of two views of it, a `toscalar` and a `join`) is computed twice, \
reading its tables twice. `materialize()` computes it once for the whole query (Kusto's best \
practices: use `materialize()` for a `let` used more than once).",
    example: "let failures = SigninLogs\n    | where TimeGenerated > ago(1d)\n    | where ResultType != \"0\";\nfailures\n| join kind=inner (failures | summarize n = count() by UserPrincipalName) on UserPrincipalName",
    fixed: "let failures = materialize(SigninLogs\n    | where TimeGenerated > ago(1d)\n    | where ResultType != \"0\");\nfailures\n| join kind=inner (failures | summarize n = count() by UserPrincipalName) on UserPrincipalName",
    check: Check::Syntax(check),
};

fn check(script: &Script) -> Vec<Finding> {
    let mut out = Vec::new();
    scope(&script.statements, &mut out);
    out
}

/// The statements of one scope (the script, or a function's body).
fn scope(statements: &[Statement], out: &mut Vec<Finding>) {
    for (i, s) in statements.iter().enumerate() {
        let StatementKind::Let { name, value } = &s.kind else { continue };
        let e = match value {
            LetValue::Function(f) => {
                scope(&f.body, out);
                continue;
            }
            LetValue::Expr(e) => e,
        };
        // computed: a pipeline with operators (a bare table name is not computed)
        let computed = matches!(&e.kind, ExprKind::Pipe { source: Some(_), ops } if !ops.is_empty());
        if !computed || call_name(e).as_deref() == Some("materialize") {
            continue;
        }
        // its uses, up to a `let` that binds the name again
        let rest = &statements[i + 1..];
        let until = rest
            .iter()
            .position(|r| matches!(&r.kind, StatementKind::Let { name: n, .. } if n.name == name.name))
            .map_or(rest.len(), |p| p + 1);
        let uses = visit::statement_exprs(&rest[..until])
            .iter()
            .filter(|x| matches!(&x.kind, ExprKind::Name(n) if n.name == name.name))
            .count();
        if uses >= 2 {
            out.push(
                Finding::new(
                    LINT.code,
                    format!("`{}` is computed again at each of its {uses} uses", name.name),
                    name.span,
                )
                .help(format!("compute it once: `let {} = materialize(...)`", name.name)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    fn n(q: &str) -> usize {
        super::check(&kql_parser::parse(q).unwrap()).len()
    }

    #[test]
    fn computed_tables_used_twice_are_found() {
        assert_eq!(n("let a = T | where x > 1; a | join kind=inner (a) on k"), 1);
        assert_eq!(n("let a = T | where x > 1; a | count"), 0, "once");
        assert_eq!(n("let a = T; a | join kind=inner (a) on k"), 0, "not computed");
        assert_eq!(n("let a = materialize(T | where x > 1); a | join kind=inner (a) on k"), 0);
        assert_eq!(n("let f = () { let a = T | take 1; a | union a }; f()"), 1, "in a function body");
        assert_eq!(n("let a = T | where x > 1; let a = U | where y > 1; a | union (a | take 1)"), 1, "the second");
    }
}
