//! The same dataset in every input format gives the same answers to the published queries.
//!
//! The generated dataset (`kql_tests::datagen`, JSON lines) is rewritten table by table as
//! gzip-compressed JSON lines, JSON array documents, a Log Analytics workspace-export tree
//! (`am-<table>/WorkspaceResourceId=.../y=/m=/d=/h=/m=/PT05M.json`, one blob per hour), a
//! Defender XDR streaming export for the tables that have `Timestamp` (rows wrapped as
//! `properties`, dynamic columns as JSON text), CSV with a header (dynamic values as JSON text),
//! and typed Parquet; every published query must return the same columns and rows from each
//! as from the JSON lines, whether the tables are loaded or streamed.

use crate::common::data_dir;
use kql_exec::load::{self, LoadOptions};
use kql_exec::schema::{KqlType, SchemaCatalog};
use kql_exec::session::{Catalog, Session, SessionOptions};
use kql_tests::datagen;
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

const EXTERNAL_URL: &str =
    "https://raw.githubusercontent.com/verazuo/jailbreak_llms/refs/heads/main/data/forbidden_question/forbidden_question_set.csv";
const WS: &str = "WorkspaceResourceId=/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/ws";

fn tables(dir: &Path) -> Vec<(String, Vec<Map<String, Value>>)> {
    let mut out = Vec::new();
    for (name, files) in load::discover(dir, SchemaCatalog::builtin()).unwrap() {
        if matches!(name.as_str(), "expected" | "externaldata" | "manifest") {
            continue;
        }
        let mut rows = Vec::new();
        for f in files {
            for line in std::fs::read_to_string(&f).unwrap().lines().filter(|l| !l.trim().is_empty()) {
                match serde_json::from_str::<Value>(line).unwrap() {
                    Value::Object(m) => rows.push(m),
                    other => panic!("{}: not an object: {other}", f.display()),
                }
            }
        }
        out.push((name, rows));
    }
    out
}

fn lines_of(rows: &[Map<String, Value>]) -> String {
    rows.iter().map(|r| Value::Object(r.clone()).to_string() + "\n").collect()
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The hour folder of a row's time (`y=2025/m=10/d=21/h=14/m=00`).
fn hour_folder(row: &Map<String, Value>) -> String {
    let t = row.get("TimeGenerated").or_else(|| row.get("Timestamp")).and_then(|v| v.as_str()).unwrap_or("");
    if t.len() < 13 {
        return "y=2025/m=01/d=01/h=00/m=00".into();
    }
    format!("y={}/m={}/d={}/h={}/m=00", &t[0..4], &t[5..7], &t[8..10], &t[11..13])
}

fn csv_cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn write_format(format: &str, name: &str, rows: &[Map<String, Value>], root: &Path, schemas: &SchemaCatalog) {
    let schema = schemas.table(name);
    std::fs::create_dir_all(root).unwrap();
    match format {
        "gz" => {
            let p = root.join(format!("{name}.jsonl.gz"));
            let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(p).unwrap(), flate2::Compression::fast());
            enc.write_all(lines_of(rows).as_bytes()).unwrap();
            enc.finish().unwrap();
        }
        "array" => {
            let items: Vec<Value> = rows.iter().map(|r| Value::Object(r.clone())).collect();
            write(&root.join(format!("{name}.json")), &serde_json::to_string_pretty(&Value::Array(items)).unwrap());
        }
        "export" => {
            let mut by_hour: std::collections::BTreeMap<String, Vec<Map<String, Value>>> = Default::default();
            for r in rows {
                by_hour.entry(hour_folder(r)).or_default().push(r.clone());
            }
            for (hour, rs) in by_hour {
                let dir = root.join(format!("am-{}", name.to_lowercase())).join(WS).join(hour);
                // a first blob and its continuation
                let half = rs.len() / 2;
                write(&dir.join("PT05M.json"), &lines_of(&rs[..half]));
                write(&dir.join("PT05M_1.json"), &lines_of(&rs[half..]));
            }
        }
        "xdr" => {
            let xdr = schema.is_some_and(|s| s.column("Timestamp").is_some());
            if !xdr {
                write(&root.join(format!("{name}.jsonl")), &lines_of(rows));
                return;
            }
            let mut text = String::new();
            for r in rows {
                let mut props = r.clone();
                // Sentinel fills TimeGenerated from Timestamp: the export carries only the latter
                props.remove("TimeGenerated");
                for (k, v) in props.iter_mut() {
                    let dynamic = schema.and_then(|s| s.column(k)).is_some_and(|t| t == KqlType::Dynamic);
                    if dynamic && (v.is_object() || v.is_array()) {
                        *v = Value::String(v.to_string());
                    }
                }
                let env = serde_json::json!({
                    "time": r.get("Timestamp").cloned().unwrap_or(Value::Null),
                    "tenantId": r.get("TenantId").cloned().unwrap_or(Value::Null),
                    "operationName": "Publish",
                    "category": format!("AdvancedHunting-{name}"),
                    "properties": Value::Object(props),
                });
                text.push_str(&env.to_string());
                text.push('\n');
            }
            let dir = root.join(format!("insights-logs-advancedhunting-{}", name.to_lowercase()));
            write(&dir.join("tenantId=t/y=2025/m=10/d=21/h=00/m=00/PT1H.json"), &text);
        }
        "csv" => {
            let mut cols: Vec<String> = Vec::new();
            for r in rows {
                for k in r.keys() {
                    if !cols.contains(k) {
                        cols.push(k.clone());
                    }
                }
            }
            let mut w = csv::Writer::from_path(root.join(format!("{name}.csv"))).unwrap();
            w.write_record(&cols).unwrap();
            for r in rows {
                w.write_record(cols.iter().map(|c| csv_cell(r.get(c)))).unwrap();
            }
            w.flush().unwrap();
        }
        other => panic!("unknown format {other}"),
    }
}

fn session_over(dir: &Path, externaldata: &Path, streamed: bool) -> Session {
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z");
    let mut catalog = Catalog::with_builtin_schemas();
    catalog.add_externaldata(EXTERNAL_URL, externaldata.to_path_buf());
    let mut session = Session::new(catalog, SessionOptions { now, threads: Some(2), ..Default::default() }).unwrap();
    for (name, files) in load::discover(dir, session.catalog.schemas()).unwrap() {
        if matches!(name.as_str(), "expected" | "externaldata" | "manifest") {
            continue;
        }
        let schema = session.catalog.schemas().table(&name).cloned();
        if streamed {
            if let Some(layout) = load::lines::plan(&name, &files, schema.as_ref(), &LoadOptions::default()) {
                session.add_streamed(load::scan::StreamedTable::new(layout, LoadOptions::default(), 2));
                continue;
            }
        }
        let t = load::load_table(&name, &files, schema.as_ref(), &LoadOptions::default()).unwrap();
        assert!(!t.report.has_problems(), "{}: {name}: {}", dir.display(), t.report);
        session.add_batches(&t.name, t.cols, t.batches).unwrap();
    }
    session
}

/// Every published query's columns and rows (rows sorted, as text), or its error.
fn answers(session: &Session) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stems: Vec<PathBuf> = std::fs::read_dir(data_dir().join("seed-queries"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "kql"))
        .collect();
    stems.sort();
    for p in stems {
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&p).unwrap();
        let answer = match session.query(&text) {
            Ok(r) => {
                let cols: Vec<String> = r.cols.iter().map(|c| format!("{}:{}", c.name, c.ty.name())).collect();
                let mut rows: Vec<String> = kql_exec::output::rows_json(&r)
                    .iter()
                    .map(|row| Value::Array(row.iter().map(elements_sorted).collect()).to_string())
                    .collect();
                rows.sort();
                format!("{}\n{}", cols.join(", "), rows.join("\n"))
            }
            Err(e) => format!("error {}", e.code),
        };
        out.push((stem, answer));
    }
    out
}

/// `v` with the elements of every array in it sorted: the order of `make_set` and `make_list`
/// over unsorted input is undefined in Kusto, and with parallel scans it depends on which part
/// finishes first.
fn elements_sorted(v: &Value) -> Value {
    match v {
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(elements_sorted).collect();
            items.sort_by_cached_key(|x| x.to_string());
            Value::Array(items)
        }
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), elements_sorted(x))).collect()),
        other => other.clone(),
    }
}

#[test]
fn published_queries_agree_across_every_input_format() {
    let ds = datagen::generate(&datagen::Config::default());
    let base = std::env::temp_dir().join(format!("kql-formats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let src = base.join("jsonl");
    datagen::write(&ds, &src).unwrap();
    let externaldata = src.join("externaldata/forbidden_question_set.csv");
    let reference = answers(&session_over(&src, &externaldata, false));
    let ran = reference.iter().filter(|(_, a)| !a.starts_with("error")).count();
    assert!(ran >= 20, "only {ran} published queries ran over the JSON lines");
    let all = tables(&src);
    let schemas = SchemaCatalog::builtin();
    let mut problems = Vec::new();
    for format in ["gz", "array", "export", "xdr", "csv", "parquet"] {
        let root = base.join(format);
        for (name, rows) in &all {
            if format == "parquet" {
                let t = load::load_table(
                    name,
                    &[src.join(format!("{name}.jsonl"))],
                    schemas.table(name),
                    &LoadOptions::default(),
                )
                .unwrap();
                std::fs::create_dir_all(&root).unwrap();
                load::parquet::write_table(&root.join(format!("{name}.parquet")), &t.cols, &t.batches).unwrap();
            } else {
                write_format(format, name, rows, &root, schemas);
            }
        }
        for streamed in [false, true] {
            let got = answers(&session_over(&root, &externaldata, streamed));
            for ((stem, want), (_, have)) in reference.iter().zip(&got) {
                if want != have {
                    let first = want.lines().zip(have.lines()).find(|(a, b)| a != b);
                    problems.push(format!("{format} (streamed: {streamed}): {stem}: first difference {first:?}"));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
