//! Tables opened on first use (`kql_exec::session::lazy`): a query opens the tables it reads,
//! whichever way it names them, and no other; an opened table stays open.
//!
//! The folder holds small JSON-lines tables and `Broken`, whose only file is not Parquet
//! although it says so: opening it fails (loads are strict here), so a query that does not fail
//! never read it, and one that fails with "cannot open table `Broken`" did.

use kql_exec::load;
use kql_exec::schema::TableSchema;
use kql_exec::session::{Catalog, MemoryLoader, Open, Session, SessionOptions, TableEntry, TableLoader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A loader that records the tables it opens.
struct Recording {
    inner: MemoryLoader,
    opened: Mutex<Vec<String>>,
}

impl TableLoader for Recording {
    fn load(&self, name: &str, files: &[PathBuf], schema: Option<&TableSchema>) -> kql_exec::Result<TableEntry> {
        self.opened.lock().unwrap().push(name.to_string());
        self.inner.load(name, files, schema)
    }
}

impl Recording {
    fn opened(&self) -> Vec<String> {
        self.opened.lock().unwrap().clone()
    }
}

fn rows(times: &[&str], msg: &str) -> String {
    times.iter().map(|t| format!("{{\"TimeGenerated\":\"{t}\",\"Msg\":\"{msg}\",\"N\":1}}\n")).collect()
}

/// A fresh folder `name` under the temporary folder with the test tables; `broken` adds
/// `Broken.parquet`.
fn folder(name: &str, broken: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kql-lazy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let w = |f: &str, text: &str| std::fs::write(dir.join(f), text).unwrap();
    w("Alpha.jsonl", &rows(&["2025-10-21T10:00:00Z", "2025-10-21T12:00:00Z", "2025-10-21T14:00:00Z"], "alpha"));
    w("SecA.jsonl", &rows(&["2025-10-21T10:00:00Z"], "hello a"));
    w("SecB.jsonl", &rows(&["2025-10-21T11:00:00Z", "2025-10-21T11:30:00Z"], "hello b"));
    // a table whose schema the catalog knows
    w(
        "SigninLogs.jsonl",
        "{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"UserPrincipalName\":\"a@contoso.com\",\"Extra\":\"x\"}\n",
    );
    if broken {
        w("Broken.parquet", "this is not a parquet file\n");
    }
    dir
}

fn session_over(dir: &Path) -> (Session, Arc<Recording>) {
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z");
    let mut session =
        Session::new(Catalog::with_builtin_schemas(), SessionOptions { now, threads: Some(2), ..Default::default() })
            .unwrap();
    // strict: an unreadable file fails the load instead of being skipped with a warning
    let options = load::LoadOptions { strict: true, ..Default::default() };
    let loader = Arc::new(Recording { inner: MemoryLoader { options }, opened: Mutex::new(vec![]) });
    for (name, files) in load::discover(dir, session.catalog.schemas()).unwrap() {
        session.catalog.add_pending_table(&name, files, loader.clone());
    }
    session
        .add_functions_text(
            "let AlphaCount = () { Alpha | count };\n\
             let BrokenCount = () { Broken | count };\n\
             let Either = (t:string) { table(t) | count };",
        )
        .unwrap();
    (session, loader)
}

fn count(session: &Session, q: &str) -> i64 {
    let r = session.query(q).unwrap_or_else(|e| panic!("{q}: {}", e.message));
    let v = kql_exec::output::rows_json(&r);
    v[0][0].as_i64().unwrap_or_else(|| panic!("{q}: {v:?}"))
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_query_opens_the_tables_it_reads_and_no_other() {
    let dir = folder("only", true);
    let (session, loader) = session_over(&dir);
    // nothing is read to learn what the folder holds, nor by queries that read no table
    assert_eq!(count(&session, "print 1"), 1);
    assert_eq!(count(&session, "range x from 1 to 3 step 1 | count"), 3);
    assert!(loader.opened().is_empty(), "{:?}", loader.opened());
    assert_eq!(session.catalog.pending_tables(), names(&["Alpha", "Broken", "SecA", "SecB", "SigninLogs"]));

    assert_eq!(count(&session, "Alpha | count"), 3);
    assert_eq!(loader.opened(), names(&["Alpha"]));
    // open once, then reused
    assert_eq!(count(&session, "Alpha | where Msg == 'alpha' | count"), 3);
    assert_eq!(count(&session, "AlphaCount()"), 3);
    assert_eq!(loader.opened(), names(&["Alpha"]));
    assert_eq!(session.catalog.loaded_tables().len(), 1);

    // a `let` of the same name shadows the table: not opened
    assert_eq!(count(&session, "let Broken = datatable(x:long)[1, 2]; Broken | count"), 2);
    assert_eq!(count(&session, "let SecA = view () { print 1 }; SecA | count"), 1);
    // wildcards open what they match, and only that
    assert_eq!(count(&session, "union Sec* | count"), 3);
    assert_eq!(count(&session, "search in (Sec*) 'hello' | count"), 3);
    assert_eq!(count(&session, "Either('SecA')"), 1);
    assert_eq!(loader.opened(), names(&["Alpha", "SecA", "SecB"]));
    assert!(session.catalog.pending_tables().contains(&"Broken".to_string()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_way_of_naming_a_table_opens_it() {
    let dir = folder("every", true);
    let (session, loader) = session_over(&dir);
    for q in [
        "Broken | count",
        "BrokenCount()",
        "Either('Broken')",
        "table('Broken') | count",
        "union Bro* | count",
        "union * | count",
        "union withsource=T Alpha, Broken | count",
        "search 'hello' | count",
        "search in (Broken) 'hello' | count",
        "print toscalar(Broken | count)",
        "let n = toscalar(Broken | count); print n",
        "Alpha | join (Broken) on N",
        "Alpha | where Msg in (Broken | project Msg)",
    ] {
        let err = match session.query(q) {
            Ok(_) => panic!("{q}: must open Broken, which cannot be read"),
            Err(e) => e,
        };
        assert!(err.message.contains("cannot open table `Broken`"), "{q}: {}", err.message);
        assert!(err.span.is_some(), "{q}: the error points at the table's name");
        assert_eq!(loader.opened().last().map(String::as_str), Some("Broken"), "{q}");
    }
    // a failed open leaves the table pending, and the others usable
    assert!(session.catalog.pending_tables().contains(&"Broken".to_string()));
    assert_eq!(count(&session, "Alpha | count"), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn union_star_opens_every_table_of_the_folder() {
    let dir = folder("star", false);
    let (session, loader) = session_over(&dir);
    assert_eq!(count(&session, "union * | count"), 7);
    assert_eq!(loader.opened(), names(&["Alpha", "SecA", "SecB", "SigninLogs"]));
    assert!(session.catalog.pending_tables().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn binding_only_to_check_or_for_time_bounds_reads_no_data() {
    let dir = folder("check", true);
    let (session, loader) = session_over(&dir);
    let at = |s: &str| kql_exec::value::datetime::parse_datetime(s).unwrap();
    let bounds = session.time_bounds("SigninLogs | where TimeGenerated > ago(1h) | union Broken").unwrap();
    assert_eq!(bounds.get("SigninLogs"), Some(&Some((at("2025-10-21T14:00:00Z"), i64::MAX))));
    assert!(loader.opened().is_empty(), "{:?}", loader.opened());
    // a check binds a table of known schema by its schema...
    let script = kql_parser::parse("SigninLogs | project UserPrincipalName").unwrap();
    let outcome = session.check_script(&script);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(loader.opened().is_empty(), "{:?}", loader.opened());
    // ...and opens one without, to learn its columns
    let script = kql_parser::parse("Alpha | project Msg").unwrap();
    let outcome = session.check_script(&script);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(loader.opened(), names(&["Alpha"]));
    assert_eq!(session.catalog.open_table("SigninLogs", Open::Never).unwrap().map(|t| t.cols.len() > 2), Some(true));
    // a query opens it: the data's own column is there
    assert_eq!(count(&session, "SigninLogs | where Extra == 'x' | count"), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_time_windowed_catalog_narrows_tables_opened_after_it() {
    // what a scheduled rule sees (`kql run`): the catalog is narrowed before the query opens
    // the table, and the full table stays open for the next run
    let dir = folder("window", false);
    let (mut session, loader) = session_over(&dir);
    let t = |s: &str| kql_exec::value::datetime::parse_datetime(s).unwrap();
    let full = session.catalog.clone();
    session.catalog = full.time_window(t("2025-10-21T11:00:00Z"), t("2025-10-21T13:00:00Z")).unwrap();
    assert_eq!(count(&session, "Alpha | count"), 1);
    assert_eq!(count(&session, "Alpha | union Alpha | count"), 2);
    session.catalog = full;
    assert_eq!(count(&session, "Alpha | count"), 3);
    assert_eq!(loader.opened(), names(&["Alpha"]));
    let _ = std::fs::remove_dir_all(&dir);
}
