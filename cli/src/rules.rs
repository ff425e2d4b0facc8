//! `kql run`, `kql replay` and `kql test`: detections as code.

use crate::data::{build_session, DataArgs};
use clap::{Args, ValueEnum};
use rule_pack::rule::{load_rule, Rule};
use rule_pack::runner::{run_rule, schedule, RuleRun};
use rule_pack::source::collect_rule_files;
use rule_pack::testing::{find_tests, junit, run_test};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of `run` and `replay`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum RunFormat {
    /// A line per rule run and per alert.
    Table,
    /// One JSON object per alert.
    Jsonl,
}

/// Arguments of `kql run`.
#[derive(Args)]
pub struct RunArgs {
    /// Rule files or folders (.kql, Sentinel .yaml).
    #[arg(required = true)]
    rules: Vec<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: RunFormat,
    /// Exit with 3 when any rule fired (for CI gates).
    #[arg(long)]
    fail_on_alert: bool,
}

/// Arguments of `kql replay`.
#[derive(Args)]
pub struct ReplayArgs {
    /// Rule files or folders.
    #[arg(required = true)]
    rules: Vec<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    /// Start of the replayed window (ISO 8601).
    #[arg(long)]
    from: String,
    /// End of the replayed window (ISO 8601).
    #[arg(long)]
    to: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: RunFormat,
}

/// Arguments of `kql test`.
#[derive(Args)]
pub struct TestArgs {
    /// Test files (*.test.yaml) or folders (default: the current folder).
    paths: Vec<PathBuf>,
    /// Write or update golden files from the current results.
    #[arg(long)]
    bless: bool,
    /// Only tests whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

fn load_rules(paths: &[PathBuf]) -> Result<Vec<Rule>, String> {
    let files = collect_rule_files(paths).map_err(|e| e.to_string())?;
    let mut rules = Vec::new();
    for f in files {
        if f.to_string_lossy().ends_with(".test.yaml") {
            continue;
        }
        rules.push(load_rule(&f).map_err(|e| e.to_string())?);
    }
    if rules.is_empty() {
        return Err("no rule files (.kql, .yaml) found".into());
    }
    Ok(rules)
}

fn print_run(run: &RuleRun, format: RunFormat) {
    match format {
        RunFormat::Table => {
            println!(
                "{}  {}  rows={}  {}",
                kql_exec::value::datetime::format_datetime_iso(run.now),
                run.rule,
                run.rows,
                if run.fired { format!("FIRED ({} alert(s))", run.alerts.len()) } else { "quiet".into() }
            );
            for a in &run.alerts {
                let ents: Vec<String> = a
                    .entities
                    .iter()
                    .map(|e| format!("{}:{}", e.entity_type, e.fields.values().cloned().collect::<Vec<_>>().join("/")))
                    .collect();
                println!("    alert: {} [{}] rows={} {}", a.display_name, a.severity, a.rows, ents.join(", "));
            }
        }
        RunFormat::Jsonl => {
            for a in &run.alerts {
                println!("{}", serde_json::to_string(a).unwrap_or_default());
            }
        }
    }
}

/// `kql run`.
pub fn run(args: RunArgs) -> ExitCode {
    let rules = match load_rules(&args.rules) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut session = match build_session(&args.data) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let now = session.now();
    let (mut fired, mut failed) = (false, false);
    for rule in &rules {
        match run_rule(&mut session, rule, now) {
            Ok(r) => {
                fired |= r.fired;
                print_run(&r, args.format);
            }
            Err(e) => {
                failed = true;
                eprint!("{}", e.render(&rule.path.display().to_string(), &rule.query));
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else if fired && args.fail_on_alert {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// `kql replay`.
pub fn replay(args: ReplayArgs) -> ExitCode {
    let (Some(from), Some(to)) =
        (kql_exec::value::datetime::parse_datetime(&args.from), kql_exec::value::datetime::parse_datetime(&args.to))
    else {
        eprintln!("error: --from and --to must be datetimes (ISO 8601)");
        return ExitCode::from(2);
    };
    let rules = match load_rules(&args.rules) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut session = match build_session(&args.data) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    for rule in &rules {
        let (mut runs, mut fired, mut alerts) = (0, 0, 0);
        let mut timeline: Vec<(i64, usize)> = Vec::new();
        for t in schedule(rule, from, to) {
            match run_rule(&mut session, rule, t) {
                Ok(r) => {
                    runs += 1;
                    if r.fired {
                        fired += 1;
                        alerts += r.alerts.len();
                        print_run(&r, args.format);
                    }
                    timeline.push((t, r.alerts.len()));
                }
                Err(e) => {
                    failed = true;
                    eprint!("{}", e.render(&rule.path.display().to_string(), &rule.query));
                    break;
                }
            }
        }
        if args.format == RunFormat::Table {
            println!("{}: {runs} runs, {fired} fired, {alerts} alerts", rule.name);
            let line: String = timeline
                .iter()
                .map(|(_, n)| {
                    if *n == 0 {
                        '.'
                    } else if *n < 10 {
                        char::from(b'0' + *n as u8)
                    } else {
                        '+'
                    }
                })
                .collect();
            if !line.is_empty() {
                println!("  timeline: {line}");
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `kql test`.
pub fn test(args: TestArgs) -> ExitCode {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut tests = find_tests(&paths);
    if let Some(f) = &args.filter {
        tests.retain(|t| t.to_string_lossy().contains(f.as_str()));
    }
    if tests.is_empty() {
        eprintln!("error: no tests (*.test.yaml) found");
        return ExitCode::from(2);
    }
    let mut outcomes = Vec::new();
    for t in &tests {
        let o = run_test(t, args.bless);
        match &o.failure {
            None if o.blessed => println!("blessed {}", o.name),
            None => println!("ok      {}", o.name),
            Some(f) => println!("FAILED  {}\n{f}", o.name),
        }
        outcomes.push(o);
    }
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    println!("{} tests: {} passed, {failed} failed", outcomes.len(), outcomes.len() - failed);
    if let Some(j) = &args.junit {
        if let Err(e) = std::fs::write(j, junit(&outcomes)) {
            eprintln!("error: {}: {e}", j.display());
            return ExitCode::from(2);
        }
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
