//! `union *` and `search` over a workspace of many tables whose columns differ: planned as one
//! wide table over the inputs (`kql_exec::binder::wide`) once a union has 8 inputs or more. The
//! results must be Kusto's: columns merged by name in order of first appearance, a name that
//! arrives with several types split into `name_type` columns, a column a table lacks empty in
//! its rows (null, or an empty string for text), so that `where TimeGenerated > X` drops a table
//! without `TimeGenerated` but `where isnull(TimeGenerated)` keeps all its rows.
//!
//! The folder holds ten small JSON-lines tables (`Tab0` to `Tab9`, times within the last day of
//! the fixed `now`) and two with conflicting or missing columns: `Odd` (`N` is text there, no
//! `TimeGenerated`) and `Plain` (no `TimeGenerated`).

use kql_exec::load;
use kql_exec::session::{Catalog, MemoryLoader, Session, SessionOptions};
use std::path::PathBuf;
use std::sync::Arc;

const NOW: &str = "2025-10-21T15:00:00Z";

/// A fresh folder `name` under the temporary folder with the test tables.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kql-wide-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let w = |f: &str, text: String| std::fs::write(dir.join(f), text).unwrap();
    for t in 0..10 {
        // table t: t + 1 rows, hours 1..=t+1 before now; even tables have `Computer`, every third
        // one `Extra{t}` of its own
        let mut text = String::new();
        for i in 0..=t {
            let mut row = format!(
                "{{\"TimeGenerated\":\"2025-10-21T{:02}:00:00Z\",\"N\":{},\"Msg\":\"row {i} of tab{t}\"",
                14 - i,
                t * 10 + i
            );
            if t % 2 == 0 {
                row.push_str(&format!(",\"Computer\":\"host-{t}\""));
            }
            if t % 3 == 0 {
                row.push_str(&format!(",\"Extra{t}\":{}", i % 2 == 0));
            }
            text.push_str(&row);
            text.push_str("}\n");
        }
        w(&format!("Tab{t}.jsonl"), text);
    }
    w("Odd.jsonl", "{\"N\":\"seven\",\"Msg\":\"needle here\"}\n{\"N\":\"eight\",\"Msg\":\"no\"}\n".to_string());
    w("Plain.jsonl", "{\"Level\":3}\n{\"Level\":4}\n{\"Level\":5}\n".to_string());
    dir
}

fn session_over(dir: &std::path::Path) -> Session {
    let now = kql_exec::value::datetime::parse_datetime(NOW);
    let mut session =
        Session::new(Catalog::with_builtin_schemas(), SessionOptions { now, threads: Some(2), ..Default::default() })
            .unwrap();
    let loader = Arc::new(MemoryLoader { options: load::LoadOptions { strict: true, ..Default::default() } });
    for (name, files) in load::discover(dir, session.catalog.schemas()).unwrap() {
        session.catalog.add_pending_table(&name, files, loader.clone());
    }
    session
}

/// The result of `q` as CSV (header first).
fn csv(session: &Session, q: &str) -> String {
    let r = session.query(q).unwrap_or_else(|e| panic!("{q}: {}", e.message));
    kql_exec::output::to_csv(&r)
}

fn lines(v: &[&str]) -> String {
    v.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn union_star_merges_columns_by_name_and_type() {
    let dir = folder("schema");
    let s = session_over(&dir);
    // tables in name order: Odd, Plain, Tab0, Tab1, ...; `N` is text in Odd, long elsewhere;
    // the loader adds the standard columns after each table's own
    assert_eq!(
        csv(&s, "union * | getschema | project ColumnName, ColumnType"),
        lines(&[
            "ColumnName,ColumnType",
            "N_string,string",
            "Msg,string",
            // the standard columns every workspace table has
            "Type,string",
            "_ItemId,string",
            "_BilledSize,real",
            "_IsBillable,string",
            "Level,long",
            "TimeGenerated,datetime",
            "N_long,long",
            "Computer,string",
            "Extra0,bool",
            "Extra3,bool",
            "Extra6,bool",
            "Extra9,bool",
        ])
    );
    assert_eq!(
        csv(&s, "union withsource=T * | getschema | project ColumnName | take 2"),
        lines(&["ColumnName", "T", "N_string"])
    );
    // kind=inner: only what every table has (Plain has only Level)
    assert_eq!(
        csv(&s, "union kind=inner Tab* | getschema | project ColumnName"),
        lines(&["ColumnName", "TimeGenerated", "N", "Msg", "Type", "_ItemId", "_BilledSize", "_IsBillable"])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_filter_on_a_column_some_tables_lack() {
    let dir = folder("filter");
    let s = session_over(&dir);
    // 55 rows in Tab0..Tab9 (1 + 2 + ... + 10), 2 in Odd, 3 in Plain
    assert_eq!(csv(&s, "union * | count"), lines(&["Count", "60"]));
    // the tables without TimeGenerated have nulls there: the comparison is false, isnull true
    assert_eq!(csv(&s, "union * | where TimeGenerated > ago(1d) | count"), lines(&["Count", "55"]));
    assert_eq!(csv(&s, "union * | where isnull(TimeGenerated) | count"), lines(&["Count", "5"]));
    assert_eq!(csv(&s, "union * | where TimeGenerated > ago(3h) | count"), lines(&["Count", "19"]));
    // a missing text column is empty, not null
    assert_eq!(csv(&s, "union * | where isempty(Computer) | count"), lines(&["Count", "35"]));
    assert_eq!(csv(&s, "union * | where Computer == '' | count"), lines(&["Count", "35"]));
    assert_eq!(csv(&s, "union * | where isnull(Level) | count"), lines(&["Count", "57"]));
    assert_eq!(
        csv(
            &s,
            "union withsource=TableName * | where TimeGenerated > ago(3h) | summarize count() by TableName \
             | sort by TableName asc"
        ),
        lines(&[
            "TableName,count_",
            "Tab0,1",
            "Tab1,2",
            "Tab2,2",
            "Tab3,2",
            "Tab4,2",
            "Tab5,2",
            "Tab6,2",
            "Tab7,2",
            "Tab8,2",
            "Tab9,2"
        ])
    );
    assert_eq!(
        csv(&s, "union withsource=T * | where Level >= 4 or N_string == 'seven' | project T, Level, N_string, N_long"),
        lines(&["T,Level,N_string,N_long", "Odd,,seven,", "Plain,4,,", "Plain,5,,"])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn where_star_and_search_look_in_every_column_of_each_table() {
    let dir = folder("search");
    let s = session_over(&dir);
    assert_eq!(
        csv(&s, "union withsource=T * | where * has 'needle' | project T, Msg"),
        lines(&["T,Msg", "Odd,needle here"])
    );
    assert_eq!(
        csv(&s, "union withsource=T * | where * has 'host-4' | summarize count() by T"),
        lines(&["T,count_", "Tab4,5"])
    );
    // numbers and booleans are searched as text too
    assert_eq!(csv(&s, "union withsource=T * | where * has '93' | project T, N_long"), lines(&["T,N_long", "Tab9,93"]));
    assert_eq!(csv(&s, "union * | where * !has 'row' | count"), lines(&["Count", "5"]));
    // datetimes and booleans as their text (`2025-10-21T13:00:00.0000000Z`, `true`), case
    // insensitively: the hour-13 row of Tab1..Tab9; the true `Extra{t}` of Tab0, 3, 6, 9
    assert_eq!(csv(&s, "union * | where * contains 't13:00:00.0' | count"), lines(&["Count", "9"]));
    assert_eq!(csv(&s, "union * | where * has 'TRUE' | count"), lines(&["Count", "12"]));
    assert_eq!(csv(&s, "union * | where * has_cs 'TRUE' | count"), lines(&["Count", "0"]));
    assert_eq!(csv(&s, "search kind=case_sensitive 'true' | count"), lines(&["Count", "12"]));
    assert_eq!(csv(&s, "search 'tab7' | summarize count() by ['$table']"), lines(&["$table,count_", "Tab7,8"]));
    assert_eq!(
        csv(&s, "search 'needle' | project ['$table'], N, Msg"),
        lines(&["$table,N,Msg", "Odd,seven,needle here"])
    );
    assert_eq!(csv(&s, "search 'nothing-matches' | count"), lines(&["Count", "0"]));
    assert_eq!(csv(&s, "search in (Tab1, Plain) 'row' | count"), lines(&["Count", "2"]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_wide_union_gives_what_a_union_of_few_tables_gives() {
    // `union *` has 12 inputs (one wide table); the same tables named four at a time, in unions
    // of fewer than 8 inputs, make DataFusion unions: the rows must be the same
    let dir = folder("same");
    let s = session_over(&dir);
    // (not `N`: it is `N_string` and `N_long` in the first part, `N` in the others)
    let agg = "summarize n = count(), e = countif(isempty(Computer)), t = countif(isnotnull(TimeGenerated)), \
               x = countif(Extra3 == true), m = countif(Msg has 'row'), l = sum(Level) by T | sort by T asc";
    let wide = csv(&s, &format!("union withsource=T * | {agg}"));
    let parts = csv(
        &s,
        &format!(
            "union (union withsource=T Odd, Plain, Tab0, Tab1), (union withsource=T Tab2, Tab3, Tab4, Tab5), \
             (union withsource=T Tab6, Tab7, Tab8, Tab9) | {agg}"
        ),
    );
    assert_eq!(wide, parts);
    assert_eq!(wide.lines().count(), 13, "{wide}");
    let _ = std::fs::remove_dir_all(&dir);
}
