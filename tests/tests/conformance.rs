//! Kusto conformance cases, in two sources, compared the way the README prescribes: names and
//! order of columns exactly, types by the .NET mapping, rows as a multiset unless the query ends
//! in sort/order/top, reals within 1e-9 relative, datetimes and timespans as values, dynamic
//! values structurally.
//!
//! - `kusto-docs.jsonl`: documentation examples with results recorded from the real engine
//!   (ratchet `passing.txt`, failures in `FAILING.md`);
//! - `docs-pages.jsonl`: the examples of the reference pages themselves with the output the page
//!   prints (`scripts/docs-conformance.py` makes it from `docs-pages.md`; ratchet
//!   `passing-docs-pages.txt`, failures in `FAILING-docs-pages.md`). The pages print reals rounded
//!   (`0.84` for 0.8414709848078965): a real printed with fewer than 15 significant digits is
//!   compared within half a unit of its last printed digit, everywhere in that source.
//!
//! Each prints `<source>: N passed, M failed` and fails when a case of its ratchet stops passing.
//! `KQL_BLESS_CONFORMANCE=1` rewrites the ratchets and failure lists from the current results.
//! `KQL_CONFORMANCE_FILTER=text` runs only the cases whose id contains `text` (with
//! `KQL_CONFORMANCE_VERBOSE=1` to see why they fail); `KQL_CONFORMANCE_CASES=file.jsonl` runs
//! the cases of another file in place of kusto-docs.jsonl, and `KQL_CONFORMANCE_PAGES=file.jsonl`
//! in place of docs-pages.jsonl; none of them blesses, and with any of them the
//! test fails after printing its figures (a partial run is not a result). A missing ratchet
//! fails, and so does a listed case that is no longer run. `NOT_COUNTED` cases are left out of
//! the figures, and the output says which and why.

use crate::common::{data_dir, num, read_jsonl, real_eq};
use kql_exec::schema::KqlType;
use kql_exec::session::{Catalog, Session, SessionOptions};
use kql_parser::ast::{ExprKind, OperatorKind, StatementKind};
use serde_json::Value;
use std::collections::BTreeMap;

fn dotnet(t: KqlType) -> &'static str {
    t.dotnet_name()
}

/// Whether the query's result order is defined (ends in sort/order/top, possibly followed by
/// order-keeping operators).
fn is_ordered(kql: &str) -> bool {
    let Ok(script) = kql_parser::parse(kql) else { return false };
    let Some(StatementKind::Query(e)) = script.statements.last().map(|s| &s.kind) else { return false };
    let ExprKind::Pipe { ops, .. } = &e.kind else { return false };
    for op in ops.iter().rev() {
        match &op.kind {
            OperatorKind::Sort { .. } | OperatorKind::Top { .. } => return true,
            OperatorKind::Project(_)
            | OperatorKind::Extend(_)
            | OperatorKind::ProjectAway(_)
            | OperatorKind::ProjectKeep(_)
            | OperatorKind::ProjectRename(_)
            | OperatorKind::ProjectReorder(_)
            | OperatorKind::Where(_)
            | OperatorKind::Take(_)
            | OperatorKind::Serialize(_)
            | OperatorKind::Render { .. } => continue,
            _ => return false,
        }
    }
    false
}

/// How the reals of a source compare.
#[derive(Clone, Copy)]
enum Reals {
    /// within 1e-9 relative (recorded results carry every digit)
    Exact,
    /// within half a unit of the last digit the expected value is printed with, when it is
    /// printed with fewer than 15 significant digits (documentation tables round)
    AsPrinted,
}

/// Half a unit of the last digit of `x` as printed (shortest round-trip form), when the print
/// has a decimal point and fewer than 15 significant digits.
fn printed_half_unit(x: f64) -> Option<f64> {
    let s = format!("{x:?}");
    let (mantissa, exp) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().ok()?),
        None => (s.clone(), 0),
    };
    let (int, frac) = mantissa.trim_start_matches('-').split_once('.')?;
    let digits = format!("{int}{frac}").trim_start_matches('0').len();
    if frac == "0" && exp == 0 || digits >= 15 {
        return None;
    }
    let decimals = if frac == "0" { 0 } else { frac.len() as i32 } - exp;
    Some(0.5 * 10f64.powi(-decimals))
}

fn real_match(e: f64, a: f64, reals: Reals) -> bool {
    real_eq(e, a)
        || matches!(reals, Reals::AsPrinted) && printed_half_unit(e).is_some_and(|h| (e - a).abs() <= h * (1.0 + 1e-9))
}

fn dyn_match(e: &Value, a: &Value, reals: Reals) -> bool {
    match (e, a) {
        (Value::Number(_), Value::Number(_)) => real_match(num(e).unwrap_or(0.0), num(a).unwrap_or(0.0), reals),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| dyn_match(p, q, reals))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| dyn_match(v, w, reals)))
        }
        _ => e == a,
    }
}

fn cell_match(e: &Value, a: &Value, ty: &str, reals: Reals) -> bool {
    match ty {
        _ if e.is_null() || a.is_null() => e.is_null() && a.is_null(),
        "Double" => matches!((num(e), num(a)), (Some(x), Some(y)) if real_match(x, y, reals)),
        "Object" => dyn_match(e, a, reals),
        _ => crate::common::cell_eq(e, a, ty),
    }
}

fn row_match(e: &[Value], a: &[Value], types: &[String], reals: Reals) -> bool {
    e.len() == a.len() && e.iter().zip(a).zip(types).all(|((x, y), t)| cell_match(x, y, t, reals))
}

/// Compare one case; `Err` says why it failed.
fn check_case(session: &Session, case: &Value, reals: Reals) -> Result<(), String> {
    let kql = case["kql"].as_str().unwrap();
    let expected = &case["expected"];
    let r = session.query(kql).map_err(|e| format!("error: {e}"))?;
    let names: Vec<&str> = expected["columns"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let types: Vec<String> =
        expected["column_types"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let our_names: Vec<&str> = r.cols.iter().map(|c| c.name.as_str()).collect();
    if names != our_names {
        return Err(format!("columns: expected {names:?}, got {our_names:?}"));
    }
    let our_types: Vec<&str> = r.cols.iter().map(|c| dotnet(c.ty)).collect();
    if types.iter().map(|s| s.as_str()).collect::<Vec<_>>() != our_types {
        return Err(format!("types: expected {types:?}, got {our_types:?}"));
    }
    let exp_rows: Vec<Vec<Value>> =
        expected["rows"].as_array().unwrap().iter().map(|r| r.as_array().cloned().unwrap_or_default()).collect();
    let our_rows = kql_exec::output::rows_json(&r);
    if exp_rows.len() != our_rows.len() {
        return Err(format!("rows: expected {}, got {}", exp_rows.len(), our_rows.len()));
    }
    if is_ordered(kql) {
        for (i, (e, a)) in exp_rows.iter().zip(&our_rows).enumerate() {
            if !row_match(e, a, &types, reals) {
                return Err(format!("row {i}: expected {e:?}, got {a:?}"));
            }
        }
    } else {
        let mut used = vec![false; our_rows.len()];
        for e in &exp_rows {
            match our_rows.iter().enumerate().position(|(k, a)| !used[k] && row_match(e, a, &types, reals)) {
                Some(k) => used[k] = true,
                None => return Err(format!("row {e:?} not found in result {our_rows:?}")),
            }
        }
    }
    Ok(())
}

/// The family of a case: its id without the trailing number.
fn family(id: &str) -> String {
    id.rsplit_once('-').map(|(f, _)| f.to_string()).unwrap_or_else(|| id.to_string())
}

/// Cases run by neither source's figure, with why: their passing would not show that the
/// engine is right.
const NOT_COUNTED: &[(&str, &str)] =
    &[("geo-info-from-ip-address-function-01", "the sample geo database was built from this case's expected answer")];

/// One source of cases: its file, ratchet and failure list (under `tests/data/conformance`).
struct Source {
    name: &'static str,
    cases: &'static str,
    passing: &'static str,
    failing: &'static str,
    reals: Reals,
}

#[test]
fn kusto_documentation_examples() {
    run_source(&Source {
        name: "kusto-docs",
        cases: "kusto-docs.jsonl",
        passing: "passing.txt",
        failing: "FAILING.md",
        reals: Reals::Exact,
    });
}

#[test]
fn kusto_documentation_pages() {
    run_source(&Source {
        name: "docs-pages",
        cases: "docs-pages.jsonl",
        passing: "passing-docs-pages.txt",
        failing: "FAILING-docs-pages.md",
        reals: Reals::AsPrinted,
    });
}

fn run_source(src: &Source) {
    // `KQL_CONFORMANCE_CASES=/path/cases.jsonl` runs the cases of another file in place of
    // kusto-docs.jsonl (compared exactly), `KQL_CONFORMANCE_PAGES=/path/cases.jsonl` in place of
    // docs-pages.jsonl (reals as the pages print them); neither blesses
    let var = if src.name == "kusto-docs" { "KQL_CONFORMANCE_CASES" } else { "KQL_CONFORMANCE_PAGES" };
    let other = std::env::var(var).ok();
    let cases: Vec<Value> = match &other {
        Some(path) => std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("valid JSON line"))
            .collect(),
        None => read_jsonl(&format!("conformance/{}", src.cases)),
    };
    // geo_info_from_ip_address reads a MaxMind database: the session's own (never the process's
    // KQL_GEOIP_DB, which tests running in parallel would share), the test one built from our
    // samples
    let geoip = std::env::temp_dir().join(format!("kql-conformance-geoip-{}-{}.mmdb", std::process::id(), src.name));
    std::fs::write(&geoip, kql_exec::functions::ipfn::mmdb::sample_city_db()).unwrap();
    let mut catalog = Catalog::default();
    catalog.set_geoip(geoip);
    let now = kql_exec::value::datetime::parse_datetime("2025-01-01T00:00:00Z");
    let session =
        Session::new(catalog, SessionOptions { now, threads: Some(2), ..Default::default() }).expect("session");
    let mut passed = Vec::new();
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    let mut not_counted = Vec::new();
    // `KQL_CONFORMANCE_FILTER=geo-` runs (and reports) only the cases whose id contains it
    let filter = std::env::var("KQL_CONFORMANCE_FILTER").ok().or(other.as_ref().map(|_| String::new()));
    for case in &cases {
        let id = case["id"].as_str().unwrap().to_string();
        if filter.as_deref().is_some_and(|f| !id.contains(f)) {
            continue;
        }
        if let Some((_, why)) = NOT_COUNTED.iter().find(|(c, _)| *c == id) {
            not_counted.push(format!("{id} ({why})"));
            continue;
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_case(&session, case, src.reals)));
        match outcome {
            Ok(Ok(())) => passed.push(id),
            Ok(Err(why)) => {
                failed.insert(id, why);
            }
            Err(_) => {
                failed.insert(id, "panic".into());
            }
        }
    }
    crate::common::report(&format!(
        "conformance {}: {} passed, {} failed{}",
        src.name,
        passed.len(),
        failed.len(),
        if not_counted.is_empty() {
            String::new()
        } else {
            format!("; {} not counted: {}", not_counted.len(), not_counted.join(", "))
        }
    ));
    if std::env::var("KQL_CONFORMANCE_VERBOSE").is_ok() {
        for (id, why) in &failed {
            let w: String = why.chars().take(if filter.is_some() { 5000 } else { 300 }).collect();
            crate::common::report(&format!("FAIL {id}: {w}"));
        }
    }
    let list_path = data_dir().join("conformance").join(src.passing);
    // a run of some of the cases is not a conformance result: it fails, after the figures
    assert!(
        filter.is_none(),
        "{}: KQL_CONFORMANCE_FILTER or KQL_CONFORMANCE_CASES is set: only {} case(s) ran, the ratchet was not checked",
        src.name,
        passed.len() + failed.len()
    );
    if std::env::var("KQL_BLESS_CONFORMANCE").is_ok() {
        std::fs::write(&list_path, passed.join("\n") + "\n").unwrap();
        // the remaining failures with their reasons, by family
        let mut text = format!(
            "# Conformance cases of {} that do not pass yet\n\nGenerated by `KQL_BLESS_CONFORMANCE=1 cargo test --workspace --test all kusto_documentation`.\n\n| family | failing | first reason |\n|---|---|---|\n",
            src.cases
        );
        let mut fams: BTreeMap<String, Vec<&String>> = BTreeMap::new();
        for (id, why) in &failed {
            fams.entry(family(id)).or_default().push(why);
        }
        for (f, whys) in &fams {
            let w: String = whys[0].chars().take(140).collect::<String>().replace('|', "\\|").replace('\n', " ");
            text.push_str(&format!("| {f} | {} | {w} |\n", whys.len()));
        }
        text.push_str("\n## Every failing case\n\n");
        for (id, why) in &failed {
            let w: String = why.chars().take(200).collect::<String>().replace('\n', " ");
            text.push_str(&format!("- `{id}`: {w}\n"));
        }
        std::fs::write(data_dir().join("conformance").join(src.failing), text).unwrap();
        return;
    }
    let before: Vec<String> = std::fs::read_to_string(&list_path)
        .unwrap_or_else(|e| {
            panic!("{}: {e} (the ratchet of passing cases; KQL_BLESS_CONFORMANCE=1 writes it)", list_path.display())
        })
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect();
    assert!(!before.is_empty(), "{}: no passing cases listed", list_path.display());
    // every case of the ratchet ran and passed (one that no longer exists, or is not counted,
    // does not pass by being absent)
    let regressions: Vec<String> = before
        .iter()
        .filter(|id| !passed.contains(id))
        .map(|id| {
            format!("{id}: {}", failed.get(id).map(|s| s.as_str()).unwrap_or("not run (no such case, or not counted)"))
        })
        .collect();
    assert!(regressions.is_empty(), "{}: cases that passed before now fail:\n{}", src.name, regressions.join("\n"));
}
