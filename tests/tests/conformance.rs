//! The Kusto documentation examples with results recorded from the real engine
//! (`tests/data/conformance/kusto-docs.jsonl`), compared the way the README prescribes:
//! names and order of columns exactly, types by the .NET mapping, rows as a multiset unless
//! the query ends in sort/order/top, reals within 1e-9 relative, datetimes and timespans as
//! values, dynamic values structurally.
//!
//! Prints `N passed, M failed` and fails when a case listed in
//! `tests/data/conformance/passing.txt` stops passing. `KQL_BLESS_CONFORMANCE=1` rewrites that
//! list from the current results. `KQL_CONFORMANCE_CASE=id[,id...]` runs only the cases whose
//! ids contain one of the given substrings and prints why each one fails (nothing is blessed or
//! checked for regressions then).

use crate::common::{data_dir, read_jsonl, row_eq};
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

/// Compare one case; `Err` says why it failed.
fn check_case(session: &Session, case: &Value) -> Result<(), String> {
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
            if !row_eq(e, a, &types) {
                return Err(format!("row {i}: expected {e:?}, got {a:?}"));
            }
        }
    } else {
        let mut used = vec![false; our_rows.len()];
        for e in &exp_rows {
            match our_rows.iter().enumerate().position(|(k, a)| !used[k] && row_eq(e, a, &types)) {
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

#[test]
fn kusto_documentation_examples() {
    let mut cases = read_jsonl("conformance/kusto-docs.jsonl");
    let only: Option<Vec<String>> = std::env::var("KQL_CONFORMANCE_CASE")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    if let Some(only) = &only {
        cases.retain(|c| only.iter().any(|o| c["id"].as_str().unwrap_or("").contains(o.as_str())));
    }
    // geo_info_from_ip_address reads a MaxMind database: use the test one built from our samples
    let geoip = std::env::temp_dir().join(format!("kql-conformance-geoip-{}.mmdb", std::process::id()));
    std::fs::write(&geoip, kql_exec::functions::ipfn::mmdb::sample_city_db()).unwrap();
    // SAFETY: set once, before any query of this test runs
    unsafe { std::env::set_var("KQL_GEOIP_DB", &geoip) };
    let now = kql_exec::value::datetime::parse_datetime("2025-01-01T00:00:00Z");
    let session = Session::new(Catalog::default(), SessionOptions { now, threads: Some(2), ..Default::default() })
        .expect("session");
    let mut passed = Vec::new();
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap().to_string();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_case(&session, case)));
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
    println!("conformance: {} passed, {} failed ({} cases)", passed.len(), failed.len(), cases.len());
    let mut by_family: BTreeMap<String, usize> = BTreeMap::new();
    for id in failed.keys() {
        *by_family.entry(family(id)).or_default() += 1;
    }
    if std::env::var("KQL_CONFORMANCE_VERBOSE").is_ok() || only.is_some() {
        for (id, why) in &failed {
            let w: String = why.chars().take(300).collect();
            println!("FAIL {id}: {w}");
        }
    }
    if only.is_some() {
        for id in &passed {
            println!("PASS {id}");
        }
        return;
    }
    let list_path = data_dir().join("conformance/passing.txt");
    if std::env::var("KQL_BLESS_CONFORMANCE").is_ok() {
        std::fs::write(&list_path, passed.join("\n") + "\n").unwrap();
        // the remaining failures with their reasons, by family
        let mut text = String::from(
            "# Conformance cases that do not pass yet\n\nGenerated by `KQL_BLESS_CONFORMANCE=1 cargo test -p kql-tests --test all kusto_documentation`.\n\n| family | failing | first reason |\n|---|---|---|\n",
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
        std::fs::write(data_dir().join("conformance/FAILING.md"), text).unwrap();
        return;
    }
    let before: Vec<String> = std::fs::read_to_string(&list_path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect();
    let regressions: Vec<String> =
        before.iter().filter(|id| failed.contains_key(*id)).map(|id| format!("{id}: {}", failed[id])).collect();
    assert!(regressions.is_empty(), "cases that passed before now fail:\n{}", regressions.join("\n"));
}
