//! The `find` operator: the examples of its documentation page (`find-operator.md`), over the
//! page's two tables, with the page's output; and the output schema Microsoft's analyzer gives
//! for `project-smart` (the columns every table has, then those the predicate names, then
//! `pack_` for the rest when anything is left).

use kql_exec::session::{Catalog, Session, SessionOptions};

const T1: &str = "datatable(Session_Id:string, Level:string, EventText:string, Version:string) [
    'acbd207d-51aa-4df7-bfa7-be70eb68f04e', 'Information', 'Some Text1', 'v1.0.0',
    'acbd207d-51aa-4df7-bfa7-be70eb68f04e', 'Error', 'Some Text2', 'v1.0.0',
    '28b8e46e-3c31-43cf-83cb-48921c3986fc', 'Error', 'Some Text3', 'v1.0.1',
    '8f057b11-3281-45c3-a856-05ebb18a3c59', 'Information', 'Some Text4', 'v1.1.0']";
const T2: &str = "datatable(Session_Id:string, Level:string, EventText:string, EventName:string) [
    'f7d5f95f-f580-4ea6-830b-5776c8d64fdd', 'Information', 'Some Other Text1', 'Event1',
    'acbd207d-51aa-4df7-bfa7-be70eb68f04e', 'Information', 'Some Other Text2', 'Event2',
    'acbd207d-51aa-4df7-bfa7-be70eb68f04e', 'Error', 'Some Other Text3', 'Event3',
    '15eaeab5-8576-4b58-8fc6-478f75d8fee4', 'Error', 'Some Other Text4', 'Event4']";

fn session() -> Session {
    let mut s = Session::new(Catalog::default(), SessionOptions { threads: Some(2), ..Default::default() }).unwrap();
    for (name, q) in [("EventsTable1", T1), ("EventsTable2", T2)] {
        let r = s.query(q).unwrap();
        s.add_batches(name, r.cols, r.batches).unwrap();
    }
    s
}

/// Column names, then each row as JSON, sorted (find's row order is the tables' order).
fn answer(s: &Session, q: &str) -> (Vec<String>, Vec<String>) {
    let r = s.query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    let cols = r.cols.iter().map(|c| c.name.clone()).collect();
    let rows = kql_exec::output::rows_json(&r);
    let mut rows: Vec<String> = rows.iter().map(|row| serde_json::to_string(row).unwrap()).collect();
    rows.sort();
    (cols, rows)
}

#[test]
fn common_and_uncommon_columns_and_the_rest_packed() {
    let (cols, rows) = answer(
        &session(),
        "find in (EventsTable1, EventsTable2)
             where Session_Id == 'acbd207d-51aa-4df7-bfa7-be70eb68f04e' and Level == 'Error'
             project EventText, Version, EventName, pack_all()",
    );
    assert_eq!(cols, ["source_", "EventText", "Version", "EventName", "pack_"]);
    assert_eq!(
        rows,
        [
            r#"["EventsTable1","Some Text2","v1.0.0","",{"Session_Id":"acbd207d-51aa-4df7-bfa7-be70eb68f04e","Level":"Error"}]"#,
            r#"["EventsTable2","Some Other Text3","","Event3",{"Session_Id":"acbd207d-51aa-4df7-bfa7-be70eb68f04e","Level":"Error"}]"#,
        ]
    );
}

#[test]
fn each_table_filtered_by_the_columns_it_has() {
    let (cols, rows) = answer(
        &session(),
        "find Version == 'v1.0.0' or EventName == 'Event1' project Session_Id, EventText, Version, EventName",
    );
    assert_eq!(cols, ["source_", "Session_Id", "EventText", "Version", "EventName"]);
    assert_eq!(
        rows,
        [
            r#"["EventsTable1","acbd207d-51aa-4df7-bfa7-be70eb68f04e","Some Text1","v1.0.0",""]"#,
            r#"["EventsTable1","acbd207d-51aa-4df7-bfa7-be70eb68f04e","Some Text2","v1.0.0",""]"#,
            r#"["EventsTable2","f7d5f95f-f580-4ea6-830b-5776c8d64fdd","Some Other Text1","","Event1"]"#,
        ]
    );
}

#[test]
fn abbreviated_notation_packs_what_is_not_common() {
    let (cols, rows) = answer(&session(), "find Session_Id == 'acbd207d-51aa-4df7-bfa7-be70eb68f04e'");
    assert_eq!(cols, ["source_", "Session_Id", "Level", "EventText", "pack_"]);
    assert_eq!(rows.len(), 4);
    assert!(rows.contains(
        &r#"["EventsTable1","acbd207d-51aa-4df7-bfa7-be70eb68f04e","Error","Some Text2",{"Version":"v1.0.0"}]"#
            .to_string()
    ));
    assert!(rows.contains(
        &r#"["EventsTable2","acbd207d-51aa-4df7-bfa7-be70eb68f04e","Information","Some Other Text2",{"EventName":"Event2"}]"#
            .to_string()
    ));
}

#[test]
fn each_row_as_a_property_bag() {
    let (cols, rows) =
        answer(&session(), "find Session_Id == 'acbd207d-51aa-4df7-bfa7-be70eb68f04e' project pack_all()");
    assert_eq!(cols, ["source_", "pack_"]);
    assert!(rows.contains(
        &r#"["EventsTable2",{"Session_Id":"acbd207d-51aa-4df7-bfa7-be70eb68f04e","Level":"Error","EventText":"Some Other Text3","EventName":"Event3"}]"#
            .to_string()
    ));
}

/// Microsoft's analyzer, for tables T(a:string, n:long, z:datetime, c:string) and
/// U(c:string, m:long, n:string, a:string): common columns in the first table's order (`n`,
/// typed differently, is dynamic), then the predicate's columns in its order, `pack_` only when
/// a column is left; a term looks in every table; `withsource` names the source column.
#[test]
fn project_smart_schema_as_microsoft_s_analyzer_gives_it() {
    let mut s = Session::new(Catalog::default(), SessionOptions::default()).unwrap();
    for (name, q) in [
        ("T", "datatable(a:string, n:long, z:datetime, c:string) ['x', 1, datetime(2025-01-01), 'q']"),
        ("U", "datatable(c:string, m:long, n:string, a:string) ['x', 2, 's', 'y']"),
    ] {
        let r = s.query(q).unwrap();
        s.add_batches(name, r.cols, r.batches).unwrap();
    }
    let schema = |q: &str| {
        let r = s.query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        r.cols.iter().map(|c| format!("{}:{}", c.name, c.ty.name())).collect::<Vec<_>>().join(", ")
    };
    assert_eq!(schema("find in (T,U) where a has 'x'"), "source_:string, a:string, n:dynamic, c:string, pack_:dynamic");
    assert_eq!(
        schema("find in (U,T) where isnotempty(c)"),
        "source_:string, c:string, n:dynamic, a:string, pack_:dynamic"
    );
    assert_eq!(
        schema("find in (T,U) where m == 1 or z > datetime(2020-01-01)"),
        "source_:string, a:string, n:dynamic, c:string, m:long, z:datetime"
    );
    assert_eq!(schema("find withsource=S in (T) where a == 'x'"), "S:string, a:string, n:long, z:datetime, c:string");
    // a table with some of the predicate's columns sees the others as null
    let r = s
        .query("find in (T,U) where m == 2 or z == datetime(2025-01-01) | project source_ | order by source_")
        .unwrap();
    assert_eq!(kql_exec::output::rows_json(&r).len(), 2);
}

/// The columns a predicate names are its column references, not words that happen to appear in
/// it: a string literal `"EventName"` names no column, so the output has no `EventName` column
/// (before, a word match put one there).
#[test]
fn names_in_string_literals_are_not_columns() {
    let s = session();
    let (cols, rows) =
        answer(&s, "find in (EventsTable1, EventsTable2) where Level == 'EventName' or Version == 'v1.0.0'");
    assert_eq!(cols, ["source_", "Session_Id", "Level", "EventText", "Version", "pack_"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
}

/// `search` writes each row's table to the column `$table`, which later operators name as it is
/// written (`by $table`), not only a join's `on`.
#[test]
fn search_results_are_grouped_by_their_table() {
    let s = session();
    let (cols, rows) = answer(&s, "search 'Error' | summarize n = count() by $table | order by ['$table'] asc");
    assert_eq!(cols, ["$table", "n"]);
    assert_eq!(rows, [r#"["EventsTable1",2]"#, r#"["EventsTable2",2]"#]);
}
