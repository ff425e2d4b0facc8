//! Work a replay does once instead of once per run.
//!
//! A replay runs a rule at every scheduled instant, each run over its own window of the data
//! (`[now - queryPeriod, now]`). With a period longer than the frequency (a day of data every
//! hour) the windows overlap, and every row is filtered and its columns computed again in
//! each run that sees it: 24 times for an hourly rule over a day. But the leading `where` and
//! `extend` of a rule's query are *row-local*: what they make of a row depends on that row
//! alone, not on the run, and they keep `TimeGenerated` as it is. So they commute with the
//! window: filtering a window out of their result once computed over the whole replay is the
//! same as computing them over each window. [`split`] finds that prefix (safe `where`
//! conjuncts and `extend`s up to the first step that depends on the run: `now()`, `ago()`,
//! random values, subqueries, user functions, row order...), and the replay computes it once,
//! registers it as a table, and runs the rest of the query over that table's window.

use kql_parser::ast::{BinaryOp, ExprKind, LetValue, Operator, OperatorKind, Script, StatementKind};
use kql_parser::ast::{Expr, Ident};
use std::collections::HashSet;

/// A rule query split into a run-independent prefix and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The table the prefix reads.
    pub table: String,
    /// The prefix: the query's constant `let`s, the table, its row-local operators.
    pub prefix: String,
    /// The rest of the query, reading the prefix's result from table `shared` (the name given
    /// to [`split`]).
    pub rest: String,
}

/// Functions whose value depends on the run or on other rows, or that read tables.
const RUN_DEPENDENT: &[&str] = &[
    "now",
    "ago",
    "rand",
    "new_guid",
    "toscalar",
    "table",
    "materialize",
    "materialized_view",
    "row_number",
    "row_cumsum",
    "row_rank_dense",
    "row_rank_min",
    "row_window_session",
    "prev",
    "next",
    "bin_auto",
    "getschema",
    "column_names_of",
    "current_principal",
    "current_principal_details",
    "current_principal_is_member_of",
    "current_cluster_endpoint",
    "current_database",
    "cursor_after",
    "cursor_before_or_at",
    "cursor_current",
    "extent_id",
    "extent_tags",
    "ingestion_time",
    "estimate_data_size",
    "assert",
];

/// What the expressions of the prefix may name besides columns: `let`s bound to literals.
struct Names<'a> {
    /// Every `let` name of the script.
    lets: HashSet<String>,
    /// The `let`s bound to a literal (usable in the prefix).
    constants: HashSet<String>,
    /// Tables (never in the prefix: it is computed over a wider window than each run's).
    is_table: &'a dyn Fn(&str) -> bool,
    /// Stored functions (never in the prefix: their bodies may read tables).
    is_stored_function: &'a dyn Fn(&str) -> bool,
}

fn is_literal(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(_) => true,
        ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) => is_literal(operand),
        _ => false,
    }
}

/// Is `e` row-local and run-independent?
fn safe(e: &Expr, names: &Names<'_>) -> bool {
    match &e.kind {
        ExprKind::Literal(_) => true,
        ExprKind::Name(id) => {
            if names.lets.contains(&id.name) {
                names.constants.contains(&id.name)
            } else {
                !(names.is_table)(&id.name)
            }
        }
        ExprKind::Member { target, .. } => safe(target, names),
        ExprKind::Index { target, index } => safe(target, names) && safe(index, names),
        ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) => safe(operand, names),
        ExprKind::Binary { left, right, .. } => safe(left, names) && safe(right, names),
        ExprKind::Between { expr, low, high, .. } => safe(expr, names) && safe(low, names) && safe(high, names),
        ExprKind::InList { expr, list, .. } => safe(expr, names) && list.iter().all(|x| safe(x, names)),
        ExprKind::Call { target: None, name, args } => {
            let n = name.name.as_str();
            !RUN_DEPENDENT.contains(&n.to_ascii_lowercase().as_str())
                && !names.lets.contains(n)
                && !(names.is_stored_function)(n)
                && args.iter().all(|a| safe(a.expr(), names))
        }
        _ => false,
    }
}

/// The conjuncts of `a and b and ...`.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Binary { op: BinaryOp::And, left, right } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        _ => vec![e],
    }
}

fn and_all(parts: Vec<Expr>) -> Option<Expr> {
    let mut parts = parts.into_iter();
    let first = parts.next()?;
    Some(parts.fold(first, |acc, e| {
        let span = acc.span;
        Expr::new(ExprKind::Binary { op: BinaryOp::And, left: Box::new(acc), right: Box::new(e) }, span)
    }))
}

fn op(kind: OperatorKind, like: &Operator) -> Operator {
    Operator { kind, span: like.span }
}

/// Split `query` (a rule's query text) into the row-local prefix of its main pipeline and the
/// rest, which reads the prefix's result as table `shared`. `None` when there is no such
/// prefix: the query does not start from a table (`is_table`), or its first step depends on
/// the run. `is_stored_function` names the session's stored functions.
pub fn split(
    query: &str,
    shared: &str,
    is_table: impl Fn(&str) -> bool,
    is_stored_function: impl Fn(&str) -> bool,
) -> Option<Split> {
    let script = kql_parser::parse(query).ok()?;
    let (qi, q) = script.statements.iter().enumerate().rev().find_map(|(i, s)| match &s.kind {
        StatementKind::Query(e) => Some((i, e)),
        _ => None,
    })?;
    let mut lets = HashSet::new();
    let mut constants = HashSet::new();
    for s in &script.statements {
        if let StatementKind::Let { name, value } = &s.kind {
            lets.insert(name.name.clone());
            match value {
                LetValue::Expr(e) if is_literal(e) => {
                    constants.insert(name.name.clone());
                }
                // a later `let` of the same name shadows a constant
                _ => {
                    constants.remove(&name.name);
                }
            }
        }
    }
    let names = Names { lets, constants, is_table: &is_table, is_stored_function: &is_stored_function };
    let ExprKind::Pipe { source: Some(source), ops } = &q.kind else { return None };
    let ExprKind::Name(table) = &source.kind else { return None };
    if names.lets.contains(&table.name) || !is_table(&table.name) {
        return None;
    }
    let mut prefix_ops: Vec<Operator> = Vec::new();
    let mut deferred: Vec<Expr> = Vec::new(); // where-conjuncts that depend on the run
    let mut taken = 0;
    for o in ops {
        match &o.kind {
            OperatorKind::Where(e) => {
                let (now, later): (Vec<&Expr>, Vec<&Expr>) = conjuncts(e).into_iter().partition(|c| safe(c, &names));
                if let Some(w) = and_all(now.into_iter().cloned().collect()) {
                    prefix_ops.push(op(OperatorKind::Where(w), o));
                }
                deferred.extend(later.into_iter().cloned());
            }
            // an extend moves before a deferred filter only when nothing is deferred yet (it
            // could redefine a column the filter reads); it must keep TimeGenerated as it is
            OperatorKind::Extend(assigns)
                if deferred.is_empty()
                    && assigns.iter().all(|a| {
                        safe(&a.expr, &names)
                            && !a.names.iter().any(|n| n.name == "TimeGenerated" || n.name == "Timestamp")
                    }) =>
            {
                prefix_ops.push(o.clone());
            }
            _ => break,
        }
        taken += 1;
    }
    // only worth it when the prefix filters or computes something
    if prefix_ops.is_empty() {
        return None;
    }
    let constant_lets: Vec<_> = script
        .statements
        .iter()
        .filter(|s| matches!(&s.kind, StatementKind::Let { name, .. } if names.constants.contains(&name.name)))
        .cloned()
        .collect();
    let span = q.span;
    let mut prefix_script = Script { statements: constant_lets, span: script.span };
    prefix_script.statements.push(kql_parser::ast::Statement {
        kind: StatementKind::Query(Expr::new(ExprKind::Pipe { source: Some(source.clone()), ops: prefix_ops }, span)),
        span,
    });
    let mut rest_ops: Vec<Operator> = Vec::new();
    if let Some(w) = and_all(deferred) {
        rest_ops.push(Operator { kind: OperatorKind::Where(w), span });
    }
    rest_ops.extend(ops[taken..].iter().cloned());
    let shared_source = Expr::new(ExprKind::Name(Ident { name: shared.to_string(), span: table.span }), source.span);
    let rest_query = if rest_ops.is_empty() {
        shared_source
    } else {
        Expr::new(ExprKind::Pipe { source: Some(Box::new(shared_source)), ops: rest_ops }, span)
    };
    let mut rest_script = script.clone();
    rest_script.statements[qi] = kql_parser::ast::Statement { kind: StatementKind::Query(rest_query), span };
    Some(Split {
        table: table.name.clone(),
        prefix: kql_parser::printer::print_script(&prefix_script),
        rest: kql_parser::printer::print_script(&rest_script),
    })
}

#[cfg(test)]
mod tests {
    use super::split;

    fn s(q: &str) -> Option<(String, String)> {
        split(q, "__shared", |t| t == "T" || t == "U", |f| f == "Stored").map(|s| (s.prefix, s.rest))
    }

    #[test]
    fn row_local_steps_move_to_the_prefix() {
        let (p, r) = s("T | where A == 1 | extend B = tostring(D.x) | summarize count() by B").unwrap();
        assert_eq!(p, "T\n| where A == 1\n| extend B = tostring(D.x)");
        assert_eq!(r, "__shared\n| summarize count() by B");
        // time filters on now() stay with each run; the rest of the conjunction moves
        let (p, r) =
            s("let n = 3;\nT | where TimeGenerated > ago(1d) and A == n | summarize c = count() | where c > n")
                .unwrap();
        assert_eq!(p, "let n = 3;\nT\n| where A == n");
        assert_eq!(r, "let n = 3;\n__shared\n| where TimeGenerated > ago(864000000000tick)\n| summarize c = count()\n| where c > n");
        // an extend after a deferred filter stays (it could redefine what the filter reads)
        assert_eq!(s("T | where X > ago(1h) | extend X = 1 | where A == 2"), None);
        let (p, r) = s("T | where A == 2 | where X > ago(1h) | extend X = 1 | where B == 3").unwrap();
        assert_eq!(p, "T\n| where A == 2");
        assert_eq!(r, "__shared\n| where X > ago(36000000000tick)\n| extend X = 1\n| where B == 3");
    }

    #[test]
    fn nothing_run_dependent_moves() {
        assert_eq!(s("T | where TimeGenerated > ago(1d) | summarize count()"), None);
        assert_eq!(s("T | extend r = rand() | where r > 0.5"), None);
        assert_eq!(s("T | where A in (U | project A)"), None);
        assert_eq!(s("T | where A in (U)"), None, "a table in a list");
        assert_eq!(s("T | where Stored(A)"), None);
        assert_eq!(s("let f = (x: long) { x + 1 }; T | where f(A) > 2"), None);
        assert_eq!(s("let t = U | project A; T | where A in (t)"), None);
        assert_eq!(s("let start = ago(1d); T | where TimeGenerated > start"), None);
        assert_eq!(s("T | extend TimeGenerated = now()"), None);
        assert_eq!(s("T | extend TimeGenerated = A"), None);
        assert_eq!(s("T | serialize | extend n = row_number()"), None);
        assert_eq!(s("V | where A == 1"), None, "not a table");
        assert_eq!(s("let T = U | where A == 1; T | where B == 2"), None, "a let, not the table");
        assert_eq!(s("print 1"), None);
    }
}
