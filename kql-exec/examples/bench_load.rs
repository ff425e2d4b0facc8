//! Load throughput: `cargo run --release -p kql-exec --example bench_load -- FILE.jsonl`, over a
//! ContainerLogV2 JSON lines file, e.g. from the repo's generator:
//! `cargo run --release -p kql-tests --bin kql-datagen -- --out DIR --rows 1000000 --no-expected`.
//!
//! It times, median of 3 runs each:
//! - the raw parse of the same file with the JSON parser the loader uses (serde_json into a
//!   `Value`, line by line: the floor for a loader that builds typed columns from it);
//! - `load_table` of the JSON lines (parse, type by the built-in schema, build Arrow columns);
//! - `load_table` of the same table written as typed Parquet (`kql convert`).
//!
//! It prints MB/s and rows/s for each, and the loader's time as a ratio of the raw parse.

use kql_exec::load::{self, parquet, LoadOptions};
use kql_exec::schema::SchemaCatalog;
use std::io::BufRead;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn timed(runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f();
        times.push(t.elapsed().as_secs_f64());
    }
    (median(times), n)
}

fn report(what: &str, secs: f64, bytes: u64, rows: usize) {
    println!(
        "{what:<28} {secs:>8.3} s {:>9.1} MB/s {:>12.0} rows/s",
        bytes as f64 / (1 << 20) as f64 / secs,
        rows as f64 / secs
    );
}

fn main() {
    let Some(jsonl) = std::env::args().nth(1).map(std::path::PathBuf::from) else {
        eprintln!("usage: bench_load ContainerLogV2.jsonl");
        std::process::exit(2);
    };
    let dir = std::env::temp_dir();
    let bytes = std::fs::metadata(&jsonl).expect("data file").len();
    let schema = SchemaCatalog::builtin().table("ContainerLogV2").cloned();
    println!(
        "ContainerLogV2.jsonl: {:.1} MB ({} cores)",
        bytes as f64 / (1 << 20) as f64,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );

    let (raw, n) = timed(3, || {
        let f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&jsonl).expect("open"));
        let mut n = 0;
        for line in f.lines() {
            let line = line.expect("read");
            if serde_json::from_str::<serde_json::Value>(&line).is_ok() {
                n += 1;
            }
        }
        n
    });
    report("raw parse (serde_json)", raw, bytes, n);

    let files = vec![jsonl.clone()];
    let (load_s, n) = timed(3, || {
        load::load_table("ContainerLogV2", &files, schema.as_ref(), &LoadOptions::default()).expect("load").report.rows
    });
    report("load JSON lines", load_s, bytes, n);

    let pq = dir.join("kql-bench-load-ContainerLogV2.parquet");
    {
        let t = load::load_table("ContainerLogV2", &files, schema.as_ref(), &LoadOptions::default()).expect("load");
        parquet::write_table(&pq, &t.cols, &t.batches).expect("write parquet");
    }
    let pq_bytes = std::fs::metadata(&pq).expect("parquet").len();
    let pq_files = vec![pq.clone()];
    let (pq_s, n) = timed(3, || {
        let t = load::load_table("ContainerLogV2", &pq_files, None, &LoadOptions::default()).expect("load parquet");
        t.batches.iter().map(|b| b.num_rows()).sum()
    });
    report("load Parquet", pq_s, pq_bytes, n);
    println!("load JSON lines / raw parse: {:.2}x", load_s / raw);
}
