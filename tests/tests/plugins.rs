//! `evaluate` plugins checked by hand: `activity_engagement` (DAU/WAU-style ratios per
//! inner-window step, columns as Microsoft's analyzer gives them) and `dcount_intersect`.

use kql_exec::session::{Catalog, Session, SessionOptions};

fn rows(q: &str) -> (Vec<String>, Vec<String>) {
    let s = Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() })
        .unwrap();
    let r = s.query(q).unwrap_or_else(|e| panic!("{q}: {}", e.message));
    let cols = r.cols.iter().map(|c| format!("{}:{}", c.name, c.ty.name())).collect();
    let rows = kql_exec::output::rows_json(&r).iter().map(|row| serde_json::to_string(row).unwrap()).collect();
    (cols, rows)
}

const ACTIVITY: &str = r#"datatable(id:string, t:datetime, g:string) [
    "a", datetime(2017-01-01), "x", "b", datetime(2017-01-01), "x", "a", datetime(2017-01-02), "x",
    "c", datetime(2017-01-03), "y", "a", datetime(2017-01-03), "x"]"#;

#[test]
fn activity_engagement_by_hand() {
    // day 1: {a,b} of {a,b}; day 2: {a} of {a,b} (days 1-2); day 3: {a,c} of {a,c} (days 2-3)
    let (cols, got) = rows(&format!("{ACTIVITY} | evaluate activity_engagement(id, t, 1d, 2d)"));
    assert_eq!(
        cols,
        ["t:datetime", "dcount_activities_inner:long", "dcount_activities_outer:long", "activity_ratio:real"]
    );
    assert_eq!(
        got,
        [
            r#"["2017-01-01T00:00:00.0000000Z",2,2,1.0]"#,
            r#"["2017-01-02T00:00:00.0000000Z",1,2,0.5]"#,
            r#"["2017-01-03T00:00:00.0000000Z",2,2,1.0]"#
        ]
    );
    // with a range and a dimension (right after the time column, as Kusto's analyzer has it)
    let (cols, got) = rows(&format!(
        "{ACTIVITY} | evaluate activity_engagement(id, t, datetime(2017-01-01), datetime(2017-01-04), 1d, 2d, g)"
    ));
    assert_eq!(cols[..2], ["t:datetime".to_string(), "g:string".to_string()]);
    assert_eq!(
        got,
        [
            r#"["2017-01-01T00:00:00.0000000Z","x",2,2,1.0]"#,
            r#"["2017-01-02T00:00:00.0000000Z","x",1,2,0.5]"#,
            r#"["2017-01-03T00:00:00.0000000Z","x",1,1,1.0]"#,
            r#"["2017-01-04T00:00:00.0000000Z","x",0,1,0.0]"#,
            r#"["2017-01-03T00:00:00.0000000Z","y",1,1,1.0]"#,
            r#"["2017-01-04T00:00:00.0000000Z","y",0,1,0.0]"#
        ]
    );
}

#[test]
fn dcount_intersect_keeps_the_input_and_adds_the_intersections() {
    let (cols, got) = rows(
        "range x from 1 to 30 step 1 | summarize a = hll(iif(x % 2 == 0, x, int(null))), b = hll(iif(x % 3 == 0, x, int(null))) \
         | evaluate dcount_intersect(a, b) | project s0, s1",
    );
    assert_eq!(cols, ["s0:long", "s1:long"]);
    assert_eq!(got, ["[15,5]"]);
}

/// a: A at 0:00, B at 0:30, C at 3:00; b: A at 1:00, B at 6:00; c: B alone. Within 1h per
/// step: A 2 (a, b), B 1 (a), C 0 (2.5h after B); within 4h: C 1 (a); b's B is 5h late.
#[test]
fn funnel_sequence_completion_by_hand() {
    let (cols, got) = rows(
        r#"datatable(id:string, t:datetime, s:string) [
            "a", datetime(2017-01-01 00:00), "A", "a", datetime(2017-01-01 00:30), "B", "a", datetime(2017-01-01 03:00), "C",
            "b", datetime(2017-01-01 01:00), "A", "b", datetime(2017-01-01 06:00), "B",
            "c", datetime(2017-01-01 00:00), "B"]
        | evaluate funnel_sequence_completion(id, t, datetime(2017-01-01), datetime(2017-01-02), 1d, s,
            dynamic(["A", "B", "C"]), dynamic([1h, 4h]))"#,
    );
    assert_eq!(cols, ["t:datetime", "s:string", "Period:timespan", "dcount:long"]);
    let got: Vec<String> = got.iter().map(|r| r.replace("\"2017-01-01T00:00:00.0000000Z\",", "")).collect();
    assert_eq!(
        got,
        [
            r#"["A","01:00:00",2]"#,
            r#"["B","01:00:00",1]"#,
            r#"["C","01:00:00",0]"#,
            r#"["A","04:00:00",2]"#,
            r#"["B","04:00:00",1]"#,
            r#"["C","04:00:00",1]"#
        ]
    );
}

/// Day 1: a, b; day 2: b, c; day 3: nobody; day 4: c. Retention is the share of the previous
/// window's ids seen again, churn its complement, NaN without a previous window (or when it
/// was empty).
#[test]
fn activity_metrics_by_hand() {
    let (cols, got) = rows(
        r#"datatable(id:string, t:datetime) [
            "a", datetime(2017-01-01), "b", datetime(2017-01-01), "b", datetime(2017-01-02), "c", datetime(2017-01-02),
            "c", datetime(2017-01-04)]
        | evaluate activity_metrics(id, t, datetime(2017-01-01), datetime(2017-01-04), 1d)"#,
    );
    assert_eq!(
        cols,
        ["t:datetime", "dcount_values:long", "dcount_newvalues:long", "retention_rate:real", "churn_rate:real"]
    );
    assert_eq!(
        got,
        [
            r#"["2017-01-01T00:00:00.0000000Z",2,2,"NaN","NaN"]"#,
            r#"["2017-01-02T00:00:00.0000000Z",2,1,0.5,0.5]"#,
            r#"["2017-01-03T00:00:00.0000000Z",0,0,0.0,1.0]"#,
            r#"["2017-01-04T00:00:00.0000000Z",1,1,"NaN","NaN"]"#
        ]
    );
}

/// The documentation page's example (new-activity-metrics-plugin.md): the `Users` table its
/// per-day sets describe, and the eleven rows the page prints.
#[test]
fn new_activity_metrics_as_documented() {
    let users = [(1, "0,2,3,4"), (2, "0,1,3,4,5"), (3, "0,2,4,5"), (4, "0,1,2,3"), (5, "0,1,2,3,4")];
    let rows_text: Vec<String> =
        users.iter().flat_map(|(d, ids)| ids.split(',').map(move |u| format!("datetime(2019-11-0{d}), {u}"))).collect();
    let q = format!(
        "let Users = datatable(Timestamp:datetime, user:long) [{}];
         let StartDate = datetime(2019-11-01 00:00:00);
         let EndDate = datetime(2019-11-07 00:00:00);
         Users
         | evaluate new_activity_metrics(user, Timestamp, StartDate, EndDate-1tick, 1d)
         | where from_Timestamp < datetime(2019-11-03 00:00:00.0000000)",
        rows_text.join(", ")
    );
    let (cols, got) = rows(&q);
    assert_eq!(
        cols,
        [
            "from_Timestamp:datetime",
            "to_Timestamp:datetime",
            "dcount_new_values:long",
            "dcount_retained_values:long",
            "dcount_churn_values:long",
            "retention_rate:real",
            "churn_rate:real"
        ]
    );
    let expected = [
        (1, 1, 4, 4, 0, 1.0, 0.0),
        (1, 2, 2, 3, 1, 0.75, 0.25),
        (1, 3, 1, 3, 1, 0.75, 0.25),
        (1, 4, 1, 3, 1, 0.75, 0.25),
        (1, 5, 1, 4, 0, 1.0, 0.0),
        (1, 6, 0, 0, 4, 0.0, 1.0),
        (2, 2, 2, 2, 0, 1.0, 0.0),
        (2, 3, 0, 1, 1, 0.5, 0.5),
        (2, 4, 0, 1, 1, 0.5, 0.5),
        (2, 5, 0, 1, 1, 0.5, 0.5),
        (2, 6, 0, 0, 2, 0.0, 1.0),
    ];
    let expected: Vec<String> = expected
        .iter()
        .map(|(f, t, n, r, c, rr, cr)| {
            format!("[\"2019-11-0{f}T00:00:00.0000000Z\",\"2019-11-0{t}T00:00:00.0000000Z\",{n},{r},{c},{rr:?},{cr:?}]")
        })
        .collect();
    assert_eq!(got, expected);
}
