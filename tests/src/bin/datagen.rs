//! `kql-datagen`: write deterministic test data and expected results for the seed queries.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use kql_tests::datagen::{self, Config, WriteOptions};

const USAGE: &str =
    "usage: kql-datagen --out DIR [--now 2025-10-21T15:00:00Z] [--seed N] [--rows N] [--no-expected] [--quiet]

Writes DIR/<Table>.jsonl for ContainerLogV2, AlertEvidence, AlertInfo, AzureDiagnostics,
IdentityLogonEvents, SigninLogs, ThreatIntelIndicators, SecurityIncident and resources,
DIR/externaldata/forbidden_question_set.csv, DIR/expected/<query>.json and DIR/manifest.json.
--rows sets the number of background ContainerLogV2 rows (default 5000).";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kql-datagen: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut out: Option<PathBuf> = None;
    let mut cfg = Config::default();
    let mut opts = WriteOptions::default();
    let mut quiet = false;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--now" => cfg.now = Config::new(&value("--now")?)?.now,
            "--seed" => cfg.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--rows" => cfg.rows = value("--rows")?.replace('_', "").parse().map_err(|e| format!("--rows: {e}"))?,
            "--no-expected" => opts.expected = false,
            "--quiet" | "-q" => quiet = true,
            "--profile" => {
                for (what, secs) in datagen::profile(&cfg) {
                    println!("{what:<20} {secs:.3}s");
                }
                return Ok(());
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let out = out.ok_or_else(|| format!("--out is required\n{USAGE}"))?;
    let started = Instant::now();
    let ds = datagen::generate(&cfg);
    let generated = started.elapsed().as_secs_f64();
    let summary = datagen::write_with(&ds, &out, &opts).map_err(|e| format!("{}: {e}", out.display()))?;
    let total = started.elapsed().as_secs_f64();
    if !quiet {
        for (table, rows) in &summary.tables {
            println!("{table:<24} {rows:>10} rows");
        }
        for (query, rows) in &summary.expected {
            println!("expected/{query}.json: {rows} rows");
        }
        let logs = summary.tables[0].1 as f64;
        println!(
            "setup {generated:.2}s, ContainerLogV2 {:.2}s ({:.0} rows/s), total {total:.2}s, {:.1} MB",
            summary.container_log_seconds,
            logs / summary.container_log_seconds.max(1e-9),
            summary.bytes as f64 / 1e6
        );
    }
    Ok(())
}
