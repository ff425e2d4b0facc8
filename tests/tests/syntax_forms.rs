//! Forms of the language Kusto accepts that are easy to miss: a named `where` predicate
//! (`where x = true`: the name is ignored, the predicate must be a bool) and datetime literals
//! written as their parts (`datetime(2025, 6, 14)`).

use kql_exec::session::{Catalog, Session, SessionOptions};

fn session() -> Session {
    Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap()
}

fn cells(q: &str) -> Vec<String> {
    let r = session().query(q).unwrap_or_else(|e| panic!("{q}: {}", e.message));
    let rows = kql_exec::output::rows_json(&r);
    rows.iter().flat_map(|row| row.iter().map(|v| v.to_string())).collect()
}

#[test]
fn a_named_where_predicate_ignores_the_name() {
    // Kusto reads `where x = true` as the predicate `true`, named `x`: every row stays
    assert_eq!(cells("print x = false | where x = true"), ["false"]);
    assert_eq!(cells("print x = 1 | where x = false").len(), 0);
    // the predicate must be a bool: KS141 at the named predicate, as Kusto reports it
    let e = session().query("print x = 1 | where x = 1").unwrap_err();
    assert_eq!((e.code, e.span.map(|s| s.start)), ("KS141", Some(20)));
    let e = session().query("print x = 1 | where x").unwrap_err();
    assert_eq!((e.code, e.span.map(|s| s.start)), ("KS141", Some(20)));
    let e = session().query("print x = 'a' | filter x").unwrap_err();
    assert_eq!(e.code, "KS141");
}

#[test]
fn datetime_literals_from_their_parts() {
    assert_eq!(cells("print datetime(2025, 6, 14)"), ["\"2025-06-14T00:00:00.0000000Z\""]);
    assert_eq!(cells("print datetime(2025, 6, 14, 10, 11, 12)"), ["\"2025-06-14T10:11:12.0000000Z\""]);
    assert_eq!(cells("print datetime(2025, 6, 14, 10, 11, 12, 5)"), ["\"2025-06-14T10:11:12.0000005Z\""]);
    for bad in ["datetime(2025, 2, 30)", "datetime(2025, 13, 1)", "datetime(2025, 6, 14, 24, 0, 0)"] {
        let e = session().query(&format!("print {bad}")).unwrap_err();
        assert_eq!(e.code, "KQL030", "{bad}");
    }
}

/// A missing `;` after a `let` is reported where it belongs (right after the declaration, as
/// Kusto does), whatever statement follows; after a query, at the next statement.
#[test]
fn a_missing_semicolon_is_reported_where_kusto_reports_it() {
    let (_, errors) = kql_parser::parse_recovering("let a = 1\nprint a");
    let at: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.col)).collect();
    assert_eq!(at, [(1, 10)]);
    let (_, errors) = kql_parser::parse_recovering("let a = 1 // note\nlet b = 2\nprint a");
    let at: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.col)).collect();
    assert_eq!(at, [(1, 10), (2, 10)]);
    assert!(errors.iter().all(|e| e.code == "KS005" && e.message.starts_with("Expected: ;")));
    let (_, errors) = kql_parser::parse_recovering("l let x = 1;\nprint x");
    assert_eq!((errors[0].line, errors[0].col), (1, 3));
}

/// Checking without data: `union *` stands for the workspace's tables, which a schema folder
/// does not list in full, so the query checks (any column may follow) instead of failing with
/// "union has no tables".
#[test]
fn union_star_checks_without_data() {
    let s = session();
    for q in [
        "union * | where TimeGenerated > ago(1d) | summarize count() by Type",
        "union withsource=T * | summarize count() by T",
        "search 'x' | summarize count() by $table",
    ] {
        let script = kql_parser::parse(q).unwrap();
        let outcome = s.check_script(&script);
        assert!(outcome.errors.is_empty(), "{q}: {:?}", outcome.errors.iter().map(|e| &e.message).collect::<Vec<_>>());
    }
}
