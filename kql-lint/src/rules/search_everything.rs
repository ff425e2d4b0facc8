//! KQLW006 `search-everything`: `search`, `union *` and `find` over every table, or a search of
//! every column.

use crate::registry::{Check, Lint};
use crate::Finding;
use kql_parser::ast::{BinaryOp, Expr, ExprKind, Operator, OperatorKind, Script};
use kql_parser::visit;

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW006",
    name: "search-everything",
    summary: "`search`, `union *` or `find` over every table, or a term searched in every column",
    cost: 8,
    why: "`search \"x\"` and `find` without `in (...)` read every table of the workspace, and \
`union *` puts them all together; a term searched without a column (`search \"x\"`, `where * \
has \"x\"`) is a full-text scan of every column. Kusto's best practices: look in a specific \
column of a specific table. In a workspace of hundreds of tables this is the most expensive \
query one can write.",
    example: "search \"203.0.113.7\"",
    fixed: "union SigninLogs, AADNonInteractiveUserSignInLogs\n| where TimeGenerated > ago(1d)\n| where IPAddress == \"203.0.113.7\"",
    check: Check::Syntax(check),
};

fn check(script: &Script) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in visit::all_exprs(script) {
        match &e.kind {
            ExprKind::Source(op) => operator(op, true, &mut out),
            ExprKind::Pipe { ops, .. } => ops.iter().for_each(|op| operator(op, false, &mut out)),
            ExprKind::Binary { op: BinaryOp::Str(_), left, .. } if matches!(left.kind, ExprKind::Star) => {
                out.push(
                    Finding::new(LINT.code, "`*` searches the term in every column of every row", e.span)
                        .help("name the column that holds the value: `where Column has \"...\"`"),
                );
            }
            _ => {}
        }
    }
    out
}

fn every_table(tables: &[Expr]) -> bool {
    tables.is_empty() || tables.iter().any(|t| matches!(&t.kind, ExprKind::Wildcard(w) if w == "*"))
}

fn operator(op: &Operator, at_source: bool, out: &mut Vec<Finding>) {
    match &op.kind {
        OperatorKind::Search { tables, predicate, .. } => {
            if at_source && every_table(tables) {
                out.push(
                    Finding::new(LINT.code, "`search` without `in (...)` reads every table of the workspace", op.span)
                        .help("name the tables: `search in (SigninLogs, AuditLogs) ...`, or query the table that holds the value"),
                );
            } else if matches!(predicate.kind, ExprKind::Literal(_)) {
                out.push(
                    Finding::new(LINT.code, "`search` of a bare term scans every column", op.span)
                        .help("name the column: `search Column has \"...\"`, or `where Column has \"...\"`"),
                );
            }
        }
        OperatorKind::Union { tables, .. }
            if tables.iter().any(|t| matches!(&t.kind, ExprKind::Wildcard(w) if w == "*")) =>
        {
            out.push(
                Finding::new(LINT.code, "`union *` reads every table of the workspace", op.span)
                    .help("list the tables the query needs (`union SigninLogs, AuditLogs`), or a narrower pattern (`union Device*`)"),
            );
        }
        OperatorKind::Find { tables, .. } if every_table(tables) => {
            out.push(
                Finding::new(LINT.code, "`find` without `in (...)` reads every table of the workspace", op.span)
                    .help("name the tables: `find in (SigninLogs, AuditLogs) where ...`"),
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    fn codes(q: &str) -> usize {
        let s = kql_parser::parse(q).unwrap();
        super::check(&s).len()
    }

    #[test]
    fn what_reads_everything_is_found_and_what_is_narrow_is_not() {
        assert_eq!(codes("search \"x\""), 1);
        assert_eq!(codes("search in (SigninLogs) \"x\""), 1, "every column");
        assert_eq!(codes("search in (SigninLogs) UserPrincipalName has \"x\""), 0);
        assert_eq!(codes("SigninLogs | search UserPrincipalName has \"x\""), 0);
        assert_eq!(codes("union * | count"), 1);
        assert_eq!(codes("union withsource=T * | count"), 1);
        assert_eq!(codes("union Device* | count"), 0);
        assert_eq!(codes("union SigninLogs, AuditLogs | count"), 0);
        assert_eq!(codes("find where UserPrincipalName == \"x\""), 1);
        assert_eq!(codes("find in (SigninLogs) where UserPrincipalName == \"x\""), 0);
        assert_eq!(codes("SigninLogs | where * has \"x\""), 1);
    }
}
