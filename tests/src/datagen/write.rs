//! Writing a data set: `<Table>.jsonl`, `externaldata/forbidden_question_set.csv`,
//! `expected/<query>.json` and `manifest.json`.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use serde_json::{json, Value};

use super::eval::{self, LogEval};
use super::model::{Cell, LogRow, MVal, Msg, Record};
use super::schema;
use super::time::{iso, push_iso};
use super::world::{AKS_RESOURCE_ID, SUBSCRIPTION_ID, WORKSPACE_ID};
use super::Dataset;

/// What to write.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Compute and write `expected/*.json` (one more pass's worth of work, done while writing).
    pub expected: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { expected: true }
    }
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct WriteSummary {
    /// (table, rows).
    pub tables: Vec<(&'static str, u64)>,
    pub expected: Vec<(&'static str, usize)>,
    pub container_log_seconds: f64,
    pub bytes: u64,
}

/// Write everything, with expected results.
pub fn write(ds: &Dataset, dir: &Path) -> io::Result<WriteSummary> {
    write_with(ds, dir, &WriteOptions::default())
}

pub fn write_with(ds: &Dataset, dir: &Path, opts: &WriteOptions) -> io::Result<WriteSummary> {
    fs::create_dir_all(dir)?;
    let mut summary = WriteSummary::default();

    // ContainerLogV2, streamed: a worker thread generates and formats blocks of rows while this
    // thread writes them and feeds the evaluator (which sees the rows in file order).
    let started = Instant::now();
    let ev = opts.expected.then(|| LogEval::new(ds, ds.log_count() <= eval::TIMELINE_LIMIT));
    let file = File::create(dir.join("ContainerLogV2.jsonl"))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let mut rows = 0u64;
    let mut bytes = 0u64;
    let ev = std::thread::scope(|scope| -> io::Result<Option<LogEval<'_>>> {
        const BLOCK: usize = 1 << 20;
        let (tx, rx) = mpsc::sync_channel::<(Vec<u8>, u64)>(4);
        let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
        for _ in 0..6 {
            back_tx.send(Vec::with_capacity(BLOCK + 64 * 1024)).expect("channel");
        }
        let worker = scope.spawn(move || {
            let mut ev = ev;
            let Ok(mut buf) = back_rx.recv() else { return ev };
            let mut count = 0u64;
            for row in ds.logs() {
                log_row_json(&mut buf, ds, &row);
                buf.push(b'\n');
                count += 1;
                if let Some(ev) = &mut ev {
                    ev.feed(&row);
                }
                if buf.len() >= BLOCK {
                    let Ok(mut next) = back_rx.recv() else { return ev };
                    next.clear();
                    std::mem::swap(&mut buf, &mut next);
                    if tx.send((next, count)).is_err() {
                        return ev;
                    }
                    count = 0;
                }
            }
            let _ = tx.send((buf, count));
            ev
        });
        for (buf, count) in rx {
            out.write_all(&buf)?;
            bytes += buf.len() as u64;
            rows += count;
            let _ = back_tx.send(buf);
        }
        Ok(worker.join().expect("generator thread"))
    })?;
    out.flush()?;
    let mut buf = Vec::with_capacity(4096);
    summary.container_log_seconds = started.elapsed().as_secs_f64();
    summary.tables.push(("ContainerLogV2", rows));

    for (name, records) in ds.tables.all() {
        let file = File::create(dir.join(format!("{name}.jsonl")))?;
        let mut out = BufWriter::new(file);
        let sparse = name == "AzureDiagnostics";
        for r in records {
            buf.clear();
            record_json(&mut buf, name, r, sparse);
            buf.push(b'\n');
            out.write_all(&buf)?;
            bytes += buf.len() as u64;
        }
        out.flush()?;
        summary.tables.push((name, records.len() as u64));
    }
    summary.bytes = bytes;

    fs::create_dir_all(dir.join("externaldata"))?;
    fs::write(dir.join("externaldata").join("forbidden_question_set.csv"), ds.forbidden_csv())?;

    let mut skipped: Vec<Value> = eval::NOT_COVERED.iter().map(|(q, why)| json!({"query": q, "reason": why})).collect();
    if let Some(ev) = ev {
        let results = ev.finish();
        let exp = dir.join("expected");
        fs::create_dir_all(&exp)?;
        for r in &results {
            let text = serde_json::to_string_pretty(&r.to_json()).expect("json");
            fs::write(exp.join(format!("{}.json", r.query)), text + "\n")?;
            summary.expected.push((r.query, r.rows.len()));
        }
        for q in eval::QUERIES {
            if !results.iter().any(|r| r.query == *q) {
                skipped.push(
                    json!({"query": q, "reason": format!("more than {} ContainerLogV2 rows", eval::TIMELINE_LIMIT)}),
                );
            }
        }
    }

    let manifest = json!({
        "generator": "kql-datagen",
        "now": iso(ds.config.now),
        "seed": ds.config.seed,
        "rows": ds.config.rows,
        "tables": summary.tables.iter().map(|(n, c)| json!({"name": n, "rows": c})).collect::<Vec<_>>(),
        "externaldata": {"externaldata/forbidden_question_set.csv": "https://raw.githubusercontent.com/verazuo/jailbreak_llms/refs/heads/main/data/forbidden_question/forbidden_question_set.csv"},
        "expected": summary.expected.iter().map(|(q, n)| json!({"query": q, "rows": n})).collect::<Vec<_>>(),
        "not_covered": skipped,
        "incidents": ds.incidents.iter().map(|i| json!({"id": i.id, "queries": i.queries, "fires": i.fires, "description": i.description})).collect::<Vec<_>>(),
        "notes": [
            "Datetimes are UTC with 7 fractional digits.",
            "String columns: null and \"\" are the same value in Kusto.",
            "AzureDiagnostics lines omit null columns (the table has ~200 sparse columns); a missing key is null.",
            "Expected rows of unordered results are in first-appearance order; compare them as multisets, and make_set() arrays as sets.",
            "Ordered results: rows whose sort_keys are equal may come in any order."
        ],
    });
    fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&manifest).expect("json") + "\n")?;
    Ok(summary)
}

/// Append a JSON string literal.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut b = itoa_buf(v);
    out.append(&mut b);
}

fn itoa_buf(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// One ContainerLogV2 line (without the newline).
pub fn log_row_json(out: &mut Vec<u8>, ds: &Dataset, row: &LogRow) {
    let pod = &ds.world.pods[row.pod];
    out.extend_from_slice(b"{\"TimeGenerated\":\"");
    push_iso(out, row.time);
    out.extend_from_slice(b"\",");
    out.extend_from_slice(pod.json_head.as_bytes());
    out.extend_from_slice(b"\"LogSource\":\"");
    out.extend_from_slice(row.log_source.as_bytes());
    out.extend_from_slice(b"\",\"LogLevel\":\"");
    out.extend_from_slice(row.log_level.as_bytes());
    out.extend_from_slice(b"\",\"LogMessage\":");
    let msg_start = out.len();
    match &row.msg {
        Msg::Text(t) => push_json_str(out, t),
        Msg::Json(m) => {
            out.push(b'{');
            let mut first = true;
            for (k, v) in m.entries() {
                let Some(v) = v else { continue };
                if !first {
                    out.push(b',');
                }
                first = false;
                out.push(b'"');
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(b"\":");
                match v {
                    MVal::Str(s) => push_json_str(out, s),
                    MVal::Int(i) => push_int(out, *i),
                    MVal::Null => out.extend_from_slice(b"null"),
                }
            }
            out.push(b'}');
        }
    }
    let billed = (out.len() - msg_start + 180) as i64;
    out.extend_from_slice(b",\"SourceSystem\":\"Container\",\"TenantId\":\"");
    out.extend_from_slice(WORKSPACE_ID.as_bytes());
    out.extend_from_slice(b"\",\"Type\":\"ContainerLogV2\",\"_ResourceId\":\"");
    out.extend_from_slice(AKS_RESOURCE_ID.as_bytes());
    out.extend_from_slice(b"\",\"_SubscriptionId\":\"");
    out.extend_from_slice(SUBSCRIPTION_ID.as_bytes());
    out.extend_from_slice(b"\",\"_IsBillable\":\"True\",\"_BilledSize\":");
    push_int(out, billed);
    out.push(b'}');
}

/// One line of a smaller table: every schema column in schema order (null when absent),
/// or only the present ones when `sparse`.
pub fn record_json(out: &mut Vec<u8>, table: &str, r: &Record, sparse: bool) {
    let columns = schema::columns(table).expect("known table");
    out.push(b'{');
    let mut first = true;
    for (col, _) in columns {
        let cell = r.get(col);
        if sparse && matches!(cell, None | Some(Cell::Null)) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        push_json_str(out, col);
        out.push(b':');
        match cell {
            None => out.extend_from_slice(b"null"),
            Some(c) => serde_json::to_writer(&mut *out, &c.to_json()).expect("json"),
        }
    }
    out.push(b'}');
}
