//! The published queries run over generated logs whose expected answers are computed
//! independently by the generator (`kql_tests::datagen`): every accepted query, and the
//! corrected version of the rejected ones, must return exactly the expected rows.

use crate::common::{data_dir, row_eq};
use kql_exec::load::{self, LoadOptions};
use kql_exec::session::{Catalog, Session, SessionOptions};
use kql_tests::datagen;
use serde_json::Value;

fn dotnet_of(kql: &str) -> String {
    kql_exec::schema::KqlType::parse(kql).map(|t| t.dotnet_name().to_string()).unwrap_or_default()
}

#[test]
fn published_queries_return_the_planted_answers() {
    check_published_queries(false);
}

/// The same with the tables streamed from their JSON-lines files while each query runs (as
/// `kql query` reads them): only the columns used, on several partitions.
#[test]
fn published_queries_return_the_planted_answers_from_streamed_files() {
    check_published_queries(true);
}

fn check_published_queries(streamed: bool) {
    let cfg = datagen::Config::default();
    let ds = datagen::generate(&cfg);
    let dir = std::env::temp_dir().join(format!("kql-seed-runs-{}-{streamed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    datagen::write(&ds, &dir).expect("write dataset");
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z");
    let mut catalog = Catalog::with_builtin_schemas();
    catalog.add_externaldata(
        "https://raw.githubusercontent.com/verazuo/jailbreak_llms/refs/heads/main/data/forbidden_question/forbidden_question_set.csv",
        dir.join("externaldata/forbidden_question_set.csv"),
    );
    let mut session = Session::new(catalog, SessionOptions { now, threads: Some(2), ..Default::default() }).unwrap();
    let mut n_streamed = 0;
    for (name, files) in load::discover(&dir, session.catalog.schemas()).unwrap() {
        if name == "expected" || name == "externaldata" || name == "manifest" {
            continue;
        }
        let schema = session.catalog.schemas().table(&name).cloned();
        if streamed {
            if let Some(layout) = load::lines::plan(&name, &files, schema.as_ref(), &LoadOptions::default()) {
                let table = load::scan::StreamedTable::new(layout, LoadOptions::default(), 3);
                session.add_streamed(table);
                n_streamed += 1;
                continue;
            }
        }
        let t = load::load_table(&name, &files, schema.as_ref(), &LoadOptions::default()).unwrap();
        session.add_batches(&t.name, t.cols, t.batches).unwrap();
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for exp in datagen::expected_all(&ds) {
        let v: Value = exp.to_json();
        let stem = v["query"].as_str().unwrap().to_string();
        let text = match v["corrected_query"].as_str() {
            Some(q) => q.to_string(),
            None => std::fs::read_to_string(data_dir().join("seed-queries").join(format!("{stem}.kql"))).unwrap(),
        };
        let result = match session.query(&text) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{stem}: {e}"));
                continue;
            }
        };
        checked += 1;
        let exp_cols: Vec<(String, String)> = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap().to_string(), c["type"].as_str().unwrap().to_string()))
            .collect();
        let cols: Vec<(String, String)> =
            result.cols.iter().map(|c| (c.name.clone(), c.ty.name().to_string())).collect();
        if cols != exp_cols {
            problems.push(format!("{stem}: columns {cols:?}, expected {exp_cols:?}"));
            continue;
        }
        let types: Vec<String> = exp_cols.iter().map(|(_, t)| dotnet_of(t)).collect();
        let ours = kql_exec::output::rows_json(&result);
        let mut want: Vec<Vec<Value>> =
            v["rows"].as_array().unwrap().iter().map(|r| r.as_array().cloned().unwrap_or_default()).collect();
        if ours.len() != want.len() {
            problems.push(format!("{stem}: {} rows, expected {}", ours.len(), want.len()));
            continue;
        }
        // dynamic sets compare as sets: sort array cells on both sides
        let norm = |rows: &mut Vec<Vec<Value>>| {
            for r in rows.iter_mut() {
                for (c, t) in r.iter_mut().zip(&types) {
                    if t == "Object" {
                        if let Value::Array(items) = c {
                            items.sort_by_key(|x| x.to_string());
                        }
                    }
                }
            }
        };
        let mut ours = ours;
        norm(&mut ours);
        norm(&mut want);
        let ordered = v["ordered"].as_bool().unwrap_or(false);
        let sort_keys: Vec<usize> = v["sort_keys"]
            .as_array()
            .map(|k| {
                k.iter()
                    .filter_map(|n| {
                        let name = n["column"].as_str().or(n.as_str());
                        exp_cols.iter().position(|(c, _)| Some(c.as_str()) == name)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut used = vec![false; ours.len()];
        for (i, w) in want.iter().enumerate() {
            let found = ours.iter().enumerate().position(|(k, o)| !used[k] && row_eq(w, o, &types));
            match found {
                Some(k) => {
                    if ordered && k != i {
                        // equal sort keys may come in any order
                        let same_keys = !sort_keys.is_empty() && sort_keys.iter().all(|&c| ours[i].get(c) == w.get(c));
                        if !same_keys {
                            problems.push(format!("{stem}: row {i} is at position {k}: {w:?}"));
                            break;
                        }
                    }
                    used[k] = true;
                }
                None => {
                    problems.push(format!("{stem}: expected row not found: {w:?}"));
                    break;
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    crate::common::report(&format!(
        "published queries (streamed: {streamed}, {n_streamed} tables): {checked} run, {} problems",
        problems.len()
    ));
    if streamed {
        assert!(n_streamed >= 5, "only {n_streamed} tables were streamed");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 25, "{checked} queries ran, fewer than the 25 measured");
}
