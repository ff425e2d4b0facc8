//! Random tables with the edge values, and the same rows in three representations: a session
//! over in-memory batches (`MemoryTable`, cut into sliced batches of random sizes, some empty),
//! a session over streamed JSON-lines files (`StreamedTable`, several parts), and a session over
//! plain DataFusion `MemTable`s (random partitions), which none of our rewrites touch.

use super::rng::Rng;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::datasource::MemTable;
use kql_exec::binder::Col;
use kql_exec::load::{lines, load_table, scan::StreamedTable, LoadOptions};
use kql_exec::schema::{KqlType, TableSchema};
use kql_exec::session::{Catalog, Session, SessionOptions, TableEntry};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The tables every case can query: name and columns.
pub const TABLES: &[(&str, &[(&str, KqlType)])] = &[
    (
        "T",
        &[
            ("TimeGenerated", KqlType::DateTime),
            ("k", KqlType::String),
            ("n", KqlType::Long),
            ("i", KqlType::Int),
            ("r", KqlType::Real),
            ("b", KqlType::Bool),
            ("ts", KqlType::TimeSpan),
            ("s", KqlType::String),
            ("g", KqlType::Guid),
            ("d", KqlType::Dynamic),
        ],
    ),
    (
        "U",
        &[
            ("TimeGenerated", KqlType::DateTime),
            ("k", KqlType::String),
            ("n", KqlType::Long),
            ("v", KqlType::Real),
            ("e", KqlType::String),
            ("d2", KqlType::Dynamic),
        ],
    ),
];

/// `now()` of every session: 2025-10-21T12:00:00Z in ticks.
pub const NOW: i64 = 1_761_048_000 * 10_000_000;

/// Strings the tables and the literals take: empty, non-ASCII, quotes, escapes, numbers and
/// JSON as text, addresses.
pub const STRINGS: &[&str] = &[
    "",
    "a",
    "b",
    "hello world",
    "a,b;c",
    "x=1 y=2",
    "Ünïcödé ☃",
    "quote\"s'",
    "back\\slash",
    "line\nbreak",
    "192.168.1.10",
    "10.0.0.0/8",
    "http://ex.com/p?q=1&r=2",
    "2024-01-01T00:00:00Z",
    "42",
    "-3.5",
    "  spaced  ",
    "null",
    "{\"a\":1}",
    "[1,2]",
    "A",
    "abc-DEF_123",
];

const KEYS: &[&str] = &["a", "b", "c", "", "A"];
const DATETIMES_EDGE: &[&str] = &[
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.9999999Z",
    "1601-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2025-10-21T00:00:00.0000001Z",
    "2262-04-11T23:47:16Z",
    "1677-09-21T00:12:43Z",
];
const TIMESPANS: &[&str] = &[
    "00:00:00",
    "01:00:00",
    "-00:30:00",
    "1.00:00:00",
    "00:00:00.0000001",
    "10675199.02:48:05.4775807",
    "-10675199.02:48:05.4775808",
    "00:05:00",
    "2.03:04:05.5",
];

/// A random JSON value for a dynamic column; `depth` bounds nesting (sometimes deep).
pub fn dynamic_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 6 } else { 10 }) {
        0 => Value::Null,
        1 => json!(rng.range(-5, 5)),
        2 => json!(*rng.pick(&[0.5, -2.25, 1e10, 3.0])),
        3 => json!(*rng.pick(STRINGS)),
        4 => json!(rng.chance(50)),
        5 => json!(*rng.pick(&[i64::MAX, i64::MIN, 0, 1 << 40])),
        6 | 7 => {
            let n = rng.below(4);
            Value::Array((0..n).map(|_| dynamic_value(rng, depth - 1)).collect())
        }
        _ => {
            let n = rng.below(4);
            let mut m = Map::new();
            for _ in 0..n {
                let k = *rng.pick(&["a", "b", "c", "x y", "n", "s"]);
                m.insert(k.to_string(), dynamic_value(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

fn deep(rng: &mut Rng, levels: usize) -> Value {
    let mut v = json!(rng.range(0, 9));
    for i in 0..levels {
        v = if i % 2 == 0 { json!([v]) } else { json!({ "a": v }) };
    }
    v
}

fn value(rng: &mut Rng, ty: KqlType, name: &str) -> Value {
    match ty {
        KqlType::DateTime => {
            if rng.chance(10) {
                json!(*rng.pick(DATETIMES_EDGE))
            } else {
                json!(format!(
                    "2025-10-{:02}T{:02}:{:02}:{:02}Z",
                    rng.range(18, 21),
                    rng.range(0, 23),
                    rng.pick(&[0, 15, 30, 59]),
                    rng.pick(&[0, 1, 30])
                ))
            }
        }
        KqlType::String if name == "k" => json!(*rng.pick(KEYS)),
        KqlType::String => {
            if rng.chance(3) {
                json!("x".repeat(rng.range(100, 400) as usize))
            } else {
                json!(*rng.pick(STRINGS))
            }
        }
        KqlType::Long => {
            if rng.chance(8) {
                json!(*rng.pick(&[i64::MIN, i64::MAX, 1 << 40, -(1 << 33)]))
            } else {
                json!(rng.range(-3, 10))
            }
        }
        KqlType::Int => {
            if rng.chance(8) {
                json!(*rng.pick(&[i32::MIN, i32::MAX]))
            } else {
                json!(rng.range(-3, 10))
            }
        }
        KqlType::Real => {
            if rng.chance(10) {
                json!(*rng.pick(&["NaN", "inf", "-inf", "-0.0"]))
            } else if rng.chance(5) {
                json!(*rng.pick(&[1e10, 0.0009765625, 1e15]))
            } else {
                json!(rng.range(-40, 40) as f64 / 4.0)
            }
        }
        KqlType::Bool => json!(rng.chance(50)),
        KqlType::TimeSpan => json!(*rng.pick(TIMESPANS)),
        KqlType::Guid => {
            if rng.chance(20) {
                json!("")
            } else {
                json!(format!("{:08x}-0000-4000-8000-{:012x}", rng.below(4), rng.below(3)))
            }
        }
        KqlType::Dynamic => {
            if rng.chance(4) {
                let levels = rng.range(10, 60) as usize;
                deep(rng, levels)
            } else {
                dynamic_value(rng, 3)
            }
        }
        _ => Value::Null,
    }
}

/// The rows of one table as JSON objects, with nulls (JSON null or a missing key), columns all
/// null, and the other edge values.
fn rows(rng: &mut Rng, cols: &[(&str, KqlType)]) -> Vec<Map<String, Value>> {
    let n = match rng.below(10) {
        0 => 0,
        1 => 1,
        2 | 3 => rng.range(2, 6) as usize,
        4 if rng.chance(10) => rng.range(8190, 8200) as usize,
        _ => rng.range(10, 120) as usize,
    };
    let all_null: Vec<bool> = cols.iter().map(|_| rng.chance(8)).collect();
    let null_rate = *rng.pick(&[0u32, 5, 20]);
    (0..n)
        .map(|_| {
            let mut m = Map::new();
            for (c, (name, ty)) in cols.iter().enumerate() {
                if all_null[c] || rng.chance(null_rate) {
                    if rng.chance(50) {
                        m.insert(name.to_string(), Value::Null);
                    }
                    continue;
                }
                m.insert(name.to_string(), value(rng, *ty, name));
            }
            m
        })
        .collect()
}

/// The three sessions over one set of random tables, and where their files are.
pub struct Sessions {
    /// Over in-memory batches.
    pub memory: Session,
    /// Over JSON-lines files read on each scan.
    pub streamed: Session,
    /// Over plain DataFusion `MemTable`s.
    pub plain: Session,
    /// The folder of the files (removed on drop).
    pub dir: PathBuf,
    /// Row count of each table (for the report).
    pub rows: Vec<usize>,
}

impl Drop for Sessions {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn options() -> SessionOptions {
    SessionOptions {
        now: Some(NOW),
        timeout: Some(std::time::Duration::from_secs(20)),
        threads: Some(2),
        // a query that asks for more than this ends with KQL900 (counted, not a finding) before
        // the process's watchdog (`KQL_FUZZ_MAX_RSS`) has to end the whole run
        memory_limit: Some(1 << 30),
    }
}

fn write_files(dir: &Path, name: &str, rows: &[Map<String, Value>], rng: &mut Rng) -> Vec<PathBuf> {
    // one or two files (the streamed scan reads each as pieces of its own)
    let cut = if rows.len() > 1 && rng.chance(40) { rng.below(rows.len()) } else { rows.len() };
    let mut files = Vec::new();
    for (i, part) in [&rows[..cut], &rows[cut..]].iter().enumerate() {
        if i == 1 && part.is_empty() {
            continue;
        }
        let p = dir.join(format!("{name}_{i}.jsonl"));
        let mut text = String::new();
        for r in part.iter() {
            text.push_str(&Value::Object(r.clone()).to_string());
            text.push('\n');
        }
        std::fs::write(&p, text).unwrap();
        files.push(p);
    }
    files
}

/// Batches cut into random slices (sliced arrays, some of no rows).
fn reslice(rng: &mut Rng, batches: &[RecordBatch]) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    for b in batches {
        let mut at = 0;
        while at < b.num_rows() {
            let len = match rng.below(4) {
                0 => 0,
                1 => 1,
                2 => rng.range(1, 50) as usize,
                _ => b.num_rows() - at,
            }
            .min(b.num_rows() - at);
            out.push(b.slice(at, len));
            at += len;
        }
        if rng.chance(20) {
            out.push(b.slice(0, 0));
        }
    }
    out
}

/// Build the three sessions over fresh random tables.
pub fn sessions(rng: &mut Rng, dir: &Path) -> Sessions {
    std::fs::create_dir_all(dir).unwrap();
    let opts = LoadOptions::default();
    let mut memory = Catalog::default();
    let mut streamed = Catalog::default();
    let mut plain = Catalog::default();
    let mut counts = Vec::new();
    for (name, cols) in TABLES {
        let rows = rows(rng, cols);
        counts.push(rows.len());
        let schema = TableSchema::new(*name, cols.iter().map(|(n, t)| (n.to_string(), *t)).collect());
        let (kcols, batches): (Vec<Col>, _) = if rows.is_empty() {
            (cols.iter().map(|(n, t)| Col::new(*n, *t)).collect(), vec![])
        } else {
            let files = write_files(dir, name, &rows, rng);
            let layout = lines::plan(name, &files, Some(&schema), &opts).expect("a JSON-lines layout");
            let parts = rng.range(1, 3) as usize;
            streamed
                .add_table(name, kql_exec::session::streamed_entry(StreamedTable::new(layout, opts.clone(), parts)).0);
            let t = load_table(name, &files, Some(&schema), &opts).unwrap();
            (t.cols, t.batches)
        };
        let sliced = reslice(rng, &batches);
        memory.add_table(name, kql_exec::session::memory_entry(kcols.clone(), sliced.clone()).unwrap());
        if rows.is_empty() {
            streamed.add_table(name, kql_exec::session::memory_entry(kcols.clone(), vec![]).unwrap());
        }
        let fields: Vec<_> =
            kcols.iter().map(|c| Field::new(&c.name, kql_exec::types::arrow_type(c.ty), true)).collect();
        // Empty tables too are served in several partitions: DataFusion 55 plans `sort |
        // summarize | sort` over one into a plan its own sanity check rejects
        // (apache/datafusion#18989, open), which `kql_exec::physical_rules` repairs.
        let nparts = rng.range(1, 3) as usize;
        let mut partitions = vec![Vec::new(); nparts];
        for (i, b) in sliced.into_iter().enumerate() {
            partitions[i % nparts].push(b);
        }
        let table = MemTable::try_new(Arc::new(Schema::new(fields)), partitions).unwrap();
        plain.add_table(name, TableEntry { cols: kcols, provider: Arc::new(table), batches: None });
    }
    Sessions {
        memory: Session::new(memory, options()).unwrap(),
        streamed: Session::new(streamed, options()).unwrap(),
        plain: Session::new(plain, options()).unwrap(),
        dir: dir.to_path_buf(),
        rows: counts,
    }
}
