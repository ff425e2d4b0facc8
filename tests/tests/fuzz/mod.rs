//! The differential query fuzzer (`docs/fuzzing.md`): random, well-typed KQL ([`gen`]) over
//! random tables with the edge values ([`tables`]), each query run on three sessions holding
//! the same rows in different representations. A finding is a panic, a stack overflow (the
//! process dies: the last query is printed first), an internal error (KQL998/KQL999), a query
//! that hangs, sessions that disagree (one answers, another fails, or the rows or columns
//! differ), or a printer round trip that changes the syntax tree. KQL errors the binder or the
//! functions report with a code of Kusto's or ours are counted, not findings.
//!
//! CI runs a fixed number of cases (1,200: the same queries on every machine, whatever its speed;
//! a 600 s cap only guards against a hang); the long mode is the
//! same test with `KQL_FUZZ_CASES=1000000 KQL_FUZZ_SECS=36000 KQL_FUZZ_SEED=7 cargo test --test
//! all fuzz::fuzz_queries`, and `KQL_FUZZ_QUERY` with `KQL_FUZZ_TABLES` replays one query over
//! the tables of a finding (`docs/fuzzing.md`).

mod gen;
mod regressions;
mod rng;
mod tables;

use kql_exec::session::Session;
use kql_exec::QueryResult;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Cases per set of tables.
const CASES_PER_TABLES: u64 = 40;

/// What one session answered.
enum Outcome {
    Rows(QueryResult),
    Error(&'static str, String),
    Panic(String),
}

fn run(session: &Session, q: &str) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| session.query(q))) {
        Ok(Ok(r)) => Outcome::Rows(r),
        Ok(Err(e)) => Outcome::Error(e.code, e.message.clone()),
        Err(p) => Outcome::Panic(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
    }
}

/// A value as comparable text: reals to 9 significant digits (sums of reals may be added in
/// another order), dynamic values structurally. A real below 1e-20 in magnitude reads as zero:
/// the variance of equal reals is 0 summed in one order and 1e-32 in another.
fn canon(v: &Value, out: &mut String) {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap();
            if f.abs() < 1e-20 {
                out.push('0');
            } else {
                out.push_str(&format!("{f:.8e}"));
            }
        }
        Value::Array(a) => {
            out.push('[');
            for x in a {
                canon(x, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canon(&m[k], out);
                out.push(',');
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The rows as sorted comparable texts, with the columns.
fn rows_of(r: &QueryResult) -> (String, Vec<String>) {
    let cols: Vec<String> = r.cols.iter().map(|c| format!("{}:{}", c.name, c.ty.name())).collect();
    let mut rows: Vec<String> = kql_exec::output::rows_json(r)
        .iter()
        .map(|row| {
            let mut s = String::new();
            for v in row {
                canon(v, &mut s);
                s.push('|');
            }
            s
        })
        .collect();
    rows.sort();
    (cols.join(", "), rows)
}

/// The codes of a query stopped by a limit (`KQL900` memory, `KQL901` time), not by its meaning.
fn is_limit(code: &str) -> bool {
    matches!(code, "KQL900" | "KQL901")
}

fn is_internal(code: &str) -> bool {
    matches!(code, "KQL996" | "KQL997" | "KQL998" | "KQL999")
}

/// Counts and findings of a run.
#[derive(Default)]
pub struct Report {
    /// Queries run.
    pub cases: u64,
    /// Queries every session answered with rows.
    pub answered: u64,
    /// KQL errors at run time (not findings), by code.
    pub errors: BTreeMap<String, u64>,
    /// Operators the binder refused while generating (never run).
    pub refused: u64,
    /// Queries whose rows depend on the row order (compared only for errors and columns).
    pub nondet: u64,
    /// Printed forms of queries run again and compared.
    pub printed_reruns: u64,
    /// Rows compared between sessions.
    pub rows_compared: u64,
    /// Queries a session stopped at its memory or time limit (counted with the errors too).
    pub limits: u64,
    /// Queries whose sessions' sums of reals differ in rounding only (see `sums_reals`).
    pub float_order: u64,
    /// The findings (one example of each kind).
    pub findings: Vec<String>,
    /// Signatures of catalog functions the generator calls.
    pub signatures: usize,
    /// Finding kinds already reported (one example each).
    seen: HashMap<String, u64>,
}

impl Report {
    fn finding(&mut self, kind: String, detail: String) {
        let n = self.seen.entry(kind.clone()).or_default();
        *n += 1;
        if *n == 1 {
            say(&format!("FINDING {kind}\n{detail}\n"));
            self.findings.push(format!("{kind}\n{detail}"));
        }
    }
}

/// One query against the three sessions (and its printed form against one).
fn check_case(s: &tables::Sessions, q: &str, nondet: bool, rerun_printed: bool, tseed: u64, report: &mut Report) {
    let ctx = |what: &str| format!("tables {tseed} (rows {:?}): {what}\n{q}", s.rows);
    // the printer's round trip
    match kql_parser::parse(q) {
        Ok(a) => {
            let printed = kql_parser::printer::print_script(&a);
            match kql_parser::parse(&printed) {
                Ok(b) if a == b => {
                    if rerun_printed {
                        report.printed_reruns += 1;
                        let (x, y) = (run(&s.memory, q), run(&s.memory, &printed));
                        if let (Outcome::Rows(x), Outcome::Rows(y)) = (&x, &y) {
                            if !nondet && rows_of(x) != rows_of(y) {
                                report.finding("printed query answers differently".into(), ctx(&printed));
                            }
                        }
                    }
                }
                Ok(_) => report.finding("printer changes the syntax tree".into(), ctx(&printed)),
                Err(e) => report.finding("printed query does not parse".into(), ctx(&format!("{e}\n{printed}"))),
            }
        }
        Err(e) => report.finding("generated query does not parse".into(), ctx(&e.to_string())),
    }
    let outs = [("memory", run(&s.memory, q)), ("streamed", run(&s.streamed, q)), ("plain", run(&s.plain, q))];
    let mut first: Option<(&str, (String, Vec<String>))> = None;
    let mut err_codes = Vec::new();
    for (name, o) in &outs {
        match o {
            Outcome::Panic(m) => report.finding(format!("panic: {}", first_line(m)), ctx(&format!("{name}: {m}"))),
            Outcome::Error(code, m) if is_internal(code) => {
                report.finding(format!("{code}: {}", signature(m)), ctx(&format!("{name}: {code} {m}")))
            }
            Outcome::Error(code, m) => err_codes.push((*name, *code, m.clone())),
            Outcome::Rows(r) => {
                let got = rows_of(r);
                report.rows_compared += got.1.len() as u64;
                match &first {
                    None => first = Some((name, got)),
                    Some((fname, want)) => {
                        if want.0 != got.0 {
                            report.finding(
                                format!("columns differ: {fname} vs {name}"),
                                ctx(&format!("{fname}: {}\n{name}: {}", want.0, got.0)),
                            );
                        } else if !nondet && want.1 != got.1 {
                            if sums_reals(q) && only_numbers_differ(&want.1, &got.1) {
                                // reals added in another order round differently
                                report.float_order += 1;
                            } else {
                                let diff = first_difference(&want.1, &got.1);
                                report.finding(format!("rows differ: {fname} vs {name}"), ctx(&diff));
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some((name, code, m)) = err_codes.first() {
        if err_codes.iter().any(|e| is_limit(e.1)) {
            // a session that ran out of time or memory while another answered (or failed
            // otherwise) met a limit, not a wrong answer: how close a query comes to a limit
            // depends on how its rows are split into batches and partitions
            *report.errors.entry(code.to_string()).or_default() += 1;
            report.limits += 1;
        } else if let Some((fname, _)) = &first {
            report.finding(format!("{fname} answers, {name} fails with {code}"), ctx(&format!("{name}: {code} {m}")));
        } else {
            *report.errors.entry(code.to_string()).or_default() += 1;
        }
        if !err_codes.iter().any(|e| is_limit(e.1)) && err_codes.iter().any(|e| e.1 != *code) {
            report.finding("sessions fail with different codes".into(), ctx(&format!("{err_codes:?}")));
        }
    } else if first.is_some() {
        report.answered += 1;
    }
}

/// A line for the log, written to the process's stderr itself: the test harness captures what
/// `println!` and `eprintln!` print in a passing test, and the figures belong in the CI log.
fn say(text: &str) {
    let mut line = text.to_string();
    if !line.ends_with('\n') {
        line.push('\n');
    }
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

fn first_line(m: &str) -> String {
    m.lines().next().unwrap_or("").chars().take(120).collect()
}

/// An error message without its specifics (numbers, quoted names): one finding per kind.
fn signature(m: &str) -> String {
    let l = first_line(m);
    let mut out = String::new();
    let mut in_quote = false;
    for c in l.chars() {
        if c == '"' || c == '`' {
            in_quote = !in_quote;
            out.push(c);
        } else if !in_quote && !c.is_ascii_digit() {
            out.push(c);
        }
    }
    out.chars().take(80).collect()
}

/// Whether a query adds reals up (sums, averages, variances, series): their last digits depend
/// on the order the rows arrive in, which differs between sessions (`9.2e18 + 22 - 9.2e18` is 0
/// or 22), as it does between runs of Kusto.
fn sums_reals(q: &str) -> bool {
    ["sum", "avg", "stdev", "variance", "make-series", "series_", "percentile", "tdigest"].iter().any(|f| q.contains(f))
}

/// Whether two row sets are the same but for numbers: the rows with every number replaced by
/// `#` are the same multiset.
fn only_numbers_differ(a: &[String], b: &[String]) -> bool {
    fn skeleton(row: &str) -> String {
        let mut out = String::new();
        let mut in_number = false;
        for c in row.chars() {
            let numeric = c.is_ascii_digit() || (in_number && matches!(c, '.' | 'e' | 'E' | '-' | '+'));
            if numeric {
                if !in_number {
                    out.push('#');
                }
            } else {
                out.push(c);
            }
            in_number = numeric;
        }
        out
    }
    let mut x: Vec<String> = a.iter().map(|r| skeleton(r)).collect();
    let mut y: Vec<String> = b.iter().map(|r| skeleton(r)).collect();
    x.sort();
    y.sort();
    x == y
}

fn first_difference(a: &[String], b: &[String]) -> String {
    let only_a: Vec<&String> = a.iter().filter(|x| !b.contains(x)).take(3).collect();
    let only_b: Vec<&String> = b.iter().filter(|x| !a.contains(x)).take(3).collect();
    format!("{} vs {} rows; only in the first: {only_a:?}; only in the second: {only_b:?}", a.len(), b.len())
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The check the generator binds each step with: the columns, or `None` on any error.
fn checker<'a>(session: &'a Session, current: &'a Mutex<String>) -> impl FnMut(&str) -> Option<gen::Cols> + 'a {
    move |text: &str| {
        *current.lock().unwrap() = format!("checking while generating:\n{text}");
        let script = kql_parser::parse(text).ok()?;
        let out = catch_unwind(AssertUnwindSafe(|| session.check_script(&script))).ok()?;
        if !out.errors.is_empty() {
            return None;
        }
        Some(out.cols.into_iter().map(|c| (c.name, c.ty)).collect())
    }
}

/// Run `cases` cases from `seed` (stopping after `secs`), on a thread with a big stack,
/// watched for hangs.
pub fn fuzz(seed: u64, cases: u64, secs: u64) -> Report {
    let progress = Arc::new(AtomicU64::new(0));
    let current = Arc::new(Mutex::new(String::new()));
    let (p, c) = (progress.clone(), current.clone());
    let worker = std::thread::Builder::new()
        .name("fuzz".into())
        .stack_size(256 << 20)
        .spawn(move || {
            let cat = gen::Catalog::load();
            let mut usage = HashMap::new();
            let mut report = Report { signatures: cat.len(), ..Default::default() };
            let start = Instant::now();
            let dir = std::env::temp_dir().join(format!("kql-fuzz-{}", std::process::id()));
            let mut case = 0;
            'outer: while case < cases {
                let tseed = seed.wrapping_mul(1_000_003).wrapping_add(case / CASES_PER_TABLES);
                let mut trng = rng::Rng::new(tseed);
                let sessions = tables::sessions(&mut trng, &dir.join(tseed.to_string()));
                for _ in 0..CASES_PER_TABLES {
                    if case >= cases || start.elapsed().as_secs() >= secs {
                        break 'outer;
                    }
                    let qseed = seed.wrapping_mul(0x9E37_79B9).wrapping_add(case);
                    let mut check = checker(&sessions.memory, &c);
                    let mut g = gen::Gen::new(qseed, &cat, &mut usage, &mut check);
                    let q = g.query();
                    let (nondet, refused) = (g.nondet, g.refused);
                    drop(check);
                    report.refused += refused;
                    report.nondet += nondet as u64;
                    *c.lock().unwrap() = format!("tables {tseed}, case {case}:\n{q}");
                    check_case(&sessions, &q, nondet, case % 4 == 0, tseed, &mut report);
                    case += 1;
                    report.cases = case;
                    p.store(case, Ordering::SeqCst);
                    if case % 10_000 == 0 {
                        say(&format!(
                            "fuzz: {case} queries in {:.0} s, {} findings",
                            start.elapsed().as_secs_f64(),
                            report.findings.len()
                        ));
                    }
                }
            }
            let _ = std::fs::remove_dir_all(&dir);
            report
        })
        .unwrap();
    // the watchdog: a case that makes no progress for five minutes is a hang (each of its up to
    // five runs ends at the sessions' 20 s timeout, KQL901, a clear error); one that makes
    // the process hold more than `KQL_FUZZ_MAX_RSS` bytes ends it before the system does
    let max_rss = env_u64("KQL_FUZZ_MAX_RSS").unwrap_or(6 << 30);
    let mut last = (0, Instant::now());
    loop {
        if worker.is_finished() {
            return worker.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
        std::thread::sleep(Duration::from_millis(200));
        if let Some(rss) = rss_bytes().filter(|r| *r > max_rss) {
            let msg = format!(
                "FINDING memory: the process holds {} MB (KQL_FUZZ_MAX_RSS)\n{}\n",
                rss >> 20,
                current.lock().unwrap()
            );
            say(&msg);
            std::process::exit(101);
        }
        let now = progress.load(Ordering::SeqCst);
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(300) {
            let mut report = Report { cases: now, ..Default::default() };
            // (the findings before it were printed as they were found)
            report.finding("hang: no answer for 300 s".into(), current.lock().unwrap().clone());
            return report;
        }
    }
}

/// The resident memory of this process (Linux).
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Replay one query (`KQL_FUZZ_QUERY`) over the tables of a seed (`KQL_FUZZ_TABLES`).
fn replay(q: &str, tseed: u64) -> Report {
    let mut report = Report::default();
    let dir = std::env::temp_dir().join(format!("kql-fuzz-replay-{}", std::process::id()));
    let sessions = tables::sessions(&mut rng::Rng::new(tseed), &dir);
    for (name, s) in [("memory", &sessions.memory), ("streamed", &sessions.streamed), ("plain", &sessions.plain)] {
        match run(s, q) {
            Outcome::Rows(r) => say(&format!("{name}: {} rows\n{}", r.num_rows(), kql_exec::output::to_json(&r))),
            Outcome::Error(c, m) => say(&format!("{name}: {c} {m}")),
            Outcome::Panic(m) => say(&format!("{name}: panic {m}")),
        }
    }
    check_case(&sessions, q, false, true, tseed, &mut report);
    report
}

#[test]
fn fuzz_queries() {
    let seed = env_u64("KQL_FUZZ_SEED").unwrap_or(20_251_021);
    let start = Instant::now();
    let report = if let Ok(q) = std::env::var("KQL_FUZZ_QUERY") {
        kql_parser::on_big_stack(|| replay(&q, env_u64("KQL_FUZZ_TABLES").unwrap_or(0)))
    } else {
        fuzz(seed, env_u64("KQL_FUZZ_CASES").unwrap_or(1_200), env_u64("KQL_FUZZ_SECS").unwrap_or(600))
    };
    let secs = start.elapsed().as_secs_f64();
    let summary = format!(
        "fuzz: seed {seed}: {} queries in {secs:.1} s ({:.0}/s): {} answered on all three sessions ({} compared \
         only for errors: row order matters), {} KQL errors {:?}, {} operators refused while generating, \
         {} stopped by a memory or time limit, {} with sums of reals rounded apart, {} printed queries rerun, {} rows compared, {} function \
         signatures; {} findings\n",
        report.cases,
        report.cases as f64 / secs,
        report.answered,
        report.nondet,
        report.errors.values().sum::<u64>(),
        report.errors,
        report.refused,
        report.limits,
        report.float_order,
        report.printed_reruns,
        report.rows_compared,
        report.signatures,
        report.findings.len()
    );
    say(&summary);
    assert!(report.findings.is_empty(), "{} findings:\n\n{}", report.findings.len(), report.findings.join("\n\n"));
}
