//! Query time on tables already in memory (what a REPL session's second query costs):
//! `cargo run --release -p kql-exec --example bench_memory -- DIR NOW RUNS QUERY.kql...`
//!
//! Loads every table of the data folder `DIR` (as `kql --data DIR` does), then runs each query
//! file once untimed (what an earlier query of the session would have done: extract the members
//! of dynamic columns it reads) and `RUNS` times timed, with `now()` at `NOW`, and prints one line per query:
//! `name<TAB>median seconds<TAB>rows`. Used by `bench/compare.py`. With `KQL_BENCH_ALL` set, it
//! also prints each run's time and page faults, in order, to stderr; with `KQL_BENCH_RESULTS`
//! set to a folder, it writes each query's result there as `name.csv`.

use kql_exec::load::{self, LoadOptions};
use kql_exec::session::{Catalog, Session, SessionOptions};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: bench_memory DIR NOW RUNS QUERY.kql...");
        std::process::exit(2);
    }
    let dir = PathBuf::from(&args[0]);
    let now = kql_exec::value::datetime::parse_datetime(&args[1]).expect("NOW is a datetime");
    let runs: usize = args[2].parse().expect("RUNS is a number");
    let mut session =
        Session::new(Catalog::with_builtin_schemas(), SessionOptions { now: Some(now), ..Default::default() })
            .expect("session");
    let t = Instant::now();
    for (name, files) in load::discover(&dir, session.catalog.schemas()).expect("data folder") {
        let schema = session.catalog.schemas().table(&name).cloned();
        let t = load::load_table(&name, &files, schema.as_ref(), &LoadOptions::default()).expect("load");
        session.add_batches(&t.name, t.cols, t.batches).expect("add table");
    }
    eprintln!("loaded in {:.2} s", t.elapsed().as_secs_f64());
    let all = std::env::var_os("KQL_BENCH_ALL").is_some();
    let results = std::env::var_os("KQL_BENCH_RESULTS").map(PathBuf::from);
    for q in &args[3..] {
        let text = std::fs::read_to_string(q).expect("query file");
        let name = PathBuf::from(q).file_stem().and_then(|s| s.to_str()).unwrap_or("query").to_string();
        let mut times = Vec::new();
        let mut rows = 0;
        // a session's later query: the first run (untimed) extracts the members of dynamic
        // columns the query reads, as an earlier query of the session would have
        let first = Instant::now();
        if let Err(e) = session.query(&text) {
            eprintln!("{name}: {e}");
            continue;
        }
        let first = first.elapsed();
        let mut faults = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let f0 = if all { minor_faults() } else { 0 };
            let t = Instant::now();
            match session.query(&text) {
                Ok(r) => {
                    rows = r.num_rows();
                    last = Some(r);
                }
                Err(e) => {
                    eprintln!("{name}: {e}");
                    break;
                }
            }
            times.push(t.elapsed().as_secs_f64());
            if all {
                faults.push(minor_faults() - f0);
            }
        }
        if let (Some(dir), Some(r)) = (&results, &last) {
            if let Err(e) = std::fs::write(dir.join(format!("{name}.csv")), kql_exec::output::to_csv(r)) {
                eprintln!("{name}: cannot write its result: {e}");
            }
        }
        if times.is_empty() {
            continue;
        }
        if all {
            let all: Vec<String> = times.iter().map(|t| format!("{:.1}", t * 1e3)).collect();
            eprintln!(
                "{name} (ms, in order, after an untimed first run of {:.1}): {}",
                first.as_secs_f64() * 1e3,
                all.join(" ")
            );
            eprintln!("{name} (minor faults): {faults:?}");
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("{name}\t{:.4}\t{rows}", times[times.len() / 2]);
    }
}

/// The process's minor page faults so far (field 10 of /proc/self/stat), 0 where unknown.
fn minor_faults() -> i64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| s.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(7)).and_then(|f| f.parse().ok()))
        .unwrap_or(0)
}
