//! `kql run`, `kql replay` and `kql test`: detections as code.

use crate::data::{build_session_for, DataArgs};
use clap::{Args, ValueEnum};
use kql_exec::binder::time_bounds::{self, TimeBounds};
use rule_pack::rule::{load_rule, Rule};
use rule_pack::runner::{replay_rule, run_rule, Replay, RuleRun};
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
    /// Where to write the timeline chart (alerts per run, one line per rule): PATH.svg and
    /// PATH.png (default: kql-charts/replay in the temporary folder).
    #[arg(long = "chart-out", value_name = "PATH")]
    chart_out: Option<PathBuf>,
    /// Do not draw the timeline chart.
    #[arg(long)]
    no_chart: bool,
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

/// The rules under `paths`. A rule file that cannot be read is reported and skipped (the
/// others still run); the flag says whether any was.
fn load_rules(paths: &[PathBuf]) -> Result<(Vec<Rule>, bool), String> {
    let files = collect_rule_files(paths).map_err(|e| e.to_string())?;
    let mut rules = Vec::new();
    let mut bad = false;
    for f in files {
        if f.to_string_lossy().ends_with(".test.yaml") {
            continue;
        }
        match load_rule(&f) {
            Ok(r) => rules.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                bad = true;
            }
        }
    }
    if rules.is_empty() && !bad {
        return Err("no rule files (.kql, .yaml) found".into());
    }
    Ok((rules, bad))
}

/// The time each table is read over by `rules` run at every instant from `first` to `last`:
/// per rule, the hull of its query's bounds at the first and the last run (its `ago()` windows
/// move with the run), within its lookback window; a rule whose query does not bind reads all.
fn rule_bounds(session: &kql_exec::Session, rules: &[Rule], first: i64, last: i64) -> TimeBounds {
    let all: Vec<TimeBounds> = rules
        .iter()
        .map(|r| {
            let at = |t: i64| session.time_bounds_at(&r.query, t).ok();
            let (Some(a), Some(b)) = (at(first), at(last)) else {
                return TimeBounds::from([("*".to_string(), None)]);
            };
            let both = time_bounds::merge(&[a, b]);
            match r.period_ticks() {
                Some(p) => time_bounds::clip(&both, first - p, last),
                None => time_bounds::clip(&both, i64::MIN, last),
            }
        })
        .collect();
    time_bounds::merge(&all)
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
    let (rules, bad_files) = match load_rules(&args.rules) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let bounds_of = |s: &kql_exec::Session| rule_bounds(s, &rules, s.now(), s.now());
    let mut session = match build_session_for(&args.data, Some(&bounds_of)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let now = session.now();
    let (mut fired, mut failed) = (false, bad_files);
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
    let (rules, bad_files) = match load_rules(&args.rules) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // every run lies in (from, to]
    let bounds_of = |s: &kql_exec::Session| rule_bounds(s, &rules, from, to);
    let mut session = match build_session_for(&args.data, Some(&bounds_of)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if from >= to {
        eprintln!("error: --from must be before --to");
        return ExitCode::from(2);
    }
    let mut failed = bad_files;
    let mut replays = Vec::new();
    for rule in &rules {
        let result = replay_rule(&mut session, rule, from, to, |r| {
            if r.fired {
                print_run(r, args.format);
            }
        });
        match result {
            Ok(rep) => {
                if args.format == RunFormat::Table {
                    println!("{}: {} runs, {} fired, {} alerts", rep.rule, rep.runs.len(), rep.fired(), rep.alerts());
                    if !rep.runs.is_empty() {
                        println!("  timeline: {}", timeline_text(&rep));
                    }
                }
                replays.push(rep);
            }
            Err(e) => {
                failed = true;
                eprint!("{}", e.render(&rule.path.display().to_string(), &rule.query));
            }
        }
    }
    if !args.no_chart && replays.iter().any(|r| !r.runs.is_empty()) {
        let base = args.chart_out.clone().unwrap_or_else(|| crate::chart::default_base("replay"));
        let (svg, png) = crate::chart::output_paths(&base);
        match crate::chart::write_files(&timeline_chart(&replays), &svg, &png) {
            Ok(()) => eprintln!("chart: {} {}", svg.display(), png.display()),
            Err(e) => eprintln!("warning: no chart: {e}"),
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// One character per run: `.` quiet, `1`..`9` alerts, `+` ten or more.
fn timeline_text(rep: &Replay) -> String {
    rep.runs
        .iter()
        .map(|r| match r.alerts {
            0 if r.fired => '*',
            0 => '.',
            n @ 1..=9 => char::from(b'0' + n as u8),
            _ => '+',
        })
        .collect()
}

/// The replay timeline as a time chart: alerts per run, one series per rule.
fn timeline_chart(replays: &[Replay]) -> crate::chart::Chart {
    use crate::chart::{Chart, Kind, Props, Series, XAxis};
    let series = replays
        .iter()
        .filter(|r| !r.runs.is_empty())
        .map(|r| Series {
            name: r.rule.clone(),
            points: r.runs.iter().map(|x| (x.now as f64 / 1e7, x.alerts as f64)).collect(),
        })
        .collect();
    Chart {
        kind: Kind::Time,
        props: Props {
            title: Some("Alerts per scheduled run".into()),
            legend: true,
            ymin: Some(0.0),
            ..Default::default()
        },
        x: XAxis::Time,
        xtitle: "run time (UTC)".into(),
        ytitle: "alerts".into(),
        series,
        anomalies: Vec::new(),
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
