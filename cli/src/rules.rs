//! `kql run`, `kql replay` and `kql test`: detections as code.

use crate::data::{build_session_for, DataArgs};
use clap::{Args, ValueEnum};
use kql_exec::binder::time_bounds::{self, TimeBounds};
use rule_pack::pack::{load_pack, pack_of, runnable, Pack};
use rule_pack::rule::Rule;
use rule_pack::runner::{replay_rule_in, Replay, RuleRun, RunOptions};
use rule_pack::scheduler::Scheduler;
use rule_pack::source::collect_rule_files;
use rule_pack::testing::{find_tests, junit, run_test_cases_with, starter_test, TestRunOptions};
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
    pub(crate) data: DataArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: RunFormat,
    /// Exit with 3 when any rule fired (for CI gates).
    #[arg(long)]
    fail_on_alert: bool,
    #[command(flatten)]
    alerts: AlertArgs,
}

/// What alerts carry and where they are written (`run` and `replay`).
#[derive(Args, Clone, Default)]
pub struct AlertArgs {
    /// Keep at most N result rows (events) per alert; the alert still says how many it covers
    /// (default: all of them for `run`, none for `replay`).
    #[arg(long, value_name = "N")]
    events: Option<usize>,
    /// Write the alerts as Sentinel `SecurityAlert` records (JSON lines) to FILE, e.g. for
    /// `kql query --table SecurityAlert=FILE`.
    #[arg(long = "alerts-out", value_name = "FILE")]
    alerts_out: Option<PathBuf>,
    /// Write the incidents the alerts opened as Sentinel `SecurityIncident` records (JSON lines).
    #[arg(long = "incidents-out", value_name = "FILE")]
    incidents_out: Option<PathBuf>,
    /// How long rows take to reach the workspace (e.g. 2m): a run does not see rows whose
    /// TimeGenerated is within this of the run time (default: none). `TABLE=TIMESPAN` sets one
    /// table's delay (each data source has its own); repeatable.
    #[arg(long = "ingestion-delay", value_name = "[TABLE=]TIMESPAN")]
    ingestion_delay: Vec<String>,
    /// Assume analysts close each incident this long after its last alert (e.g. 4h): a later
    /// matching alert then reopens it (rules with reopenClosedIncident) or opens a new one
    /// (default: incidents stay open).
    #[arg(long = "close-incidents-after", value_name = "TIMESPAN")]
    close_incidents_after: Option<String>,
}

impl AlertArgs {
    /// The run options these arguments ask for (`default_events` when `--events` is not given).
    fn run_options(&self, default_events: Option<usize>) -> Result<RunOptions, String> {
        let mut opts = RunOptions { max_events: self.events.or(default_events), ..Default::default() };
        for arg in &self.ingestion_delay {
            let (table, d) = match arg.split_once('=') {
                Some((t, d)) => (Some(t.trim()), d.trim()),
                None => (None, arg.trim()),
            };
            let ticks = rule_pack::rule::parse_duration(d)
                .filter(|t| *t >= 0)
                .ok_or_else(|| format!("--ingestion-delay {arg}: not a duration (write e.g. 2m, 90s, PT5M)"))?;
            match table {
                Some("") => return Err(format!("--ingestion-delay {arg}: no table name before `=`")),
                Some(t) => {
                    opts.table_delays.insert(t.to_string(), ticks);
                }
                None => opts.ingestion_delay = ticks,
            }
        }
        if let Some(d) = &self.close_incidents_after {
            opts.close_incidents_after =
                Some(rule_pack::rule::parse_duration(d).filter(|t| *t > 0).ok_or_else(|| {
                    format!("--close-incidents-after {d}: not a positive duration (write e.g. 4h, 1d)")
                })?);
        }
        Ok(opts)
    }
}

/// Collects `SecurityAlert` records as runs complete, and writes them and the incidents.
struct AlertSink {
    alerts: Vec<serde_json::Map<String, serde_json::Value>>,
    args: AlertArgs,
}

impl AlertSink {
    fn new(args: &AlertArgs) -> Self {
        AlertSink { alerts: Vec::new(), args: args.clone() }
    }

    fn add(&mut self, rule: &Rule, run: &RuleRun) {
        if self.args.alerts_out.is_some() {
            self.alerts.extend(run.alerts.iter().map(|a| rule_pack::records::security_alert(rule, run, a)));
        }
    }

    /// Write the files; a message on failure.
    fn finish(&self, incidents: &[rule_pack::scheduler::Incident]) -> Result<(), String> {
        let write = |path: &PathBuf, rows: Vec<serde_json::Map<String, serde_json::Value>>, what: &str| {
            let mut text = String::new();
            for r in &rows {
                text.push_str(&serde_json::Value::Object(r.clone()).to_string());
                text.push('\n');
            }
            std::fs::write(path, text).map_err(|e| format!("cannot write {what} to {}: {e}", path.display()))?;
            eprintln!("{} {what} written to {}", rows.len(), path.display());
            Ok::<(), String>(())
        };
        if let Some(p) = &self.args.alerts_out {
            write(p, self.alerts.clone(), "SecurityAlert record(s)")?;
        }
        if let Some(p) = &self.args.incidents_out {
            let rows = incidents.iter().map(rule_pack::records::security_incident).collect();
            write(p, rows, "SecurityIncident record(s)")?;
        }
        Ok(())
    }
}

/// Arguments of `kql replay`.
#[derive(Args)]
pub struct ReplayArgs {
    /// Rule files or folders.
    #[arg(required = true)]
    rules: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Start of the replayed window (ISO 8601).
    #[arg(long)]
    from: String,
    /// End of the replayed window (ISO 8601).
    #[arg(long)]
    to: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: RunFormat,
    /// Where to write the timeline chart (alerts and new incidents per run, per rule): PATH.svg and
    /// PATH.png (default: kql-charts/replay in the temporary folder).
    #[arg(long = "chart-out", value_name = "PATH")]
    chart_out: Option<PathBuf>,
    /// Do not draw the timeline chart.
    #[arg(long)]
    no_chart: bool,
    /// Compute every run from the tables, instead of computing the row-local start of each
    /// rule's query (its leading filters and computed columns) once for all runs. Same answers,
    /// slower: for comparison.
    #[arg(long)]
    separate_runs: bool,
    #[command(flatten)]
    alerts: AlertArgs,
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
    /// Write a starter test for RULE (RULE's folder, NAME.test.yaml): inline rows of the tables
    /// the rule reads, a case that must fire and one that must stay quiet.
    #[arg(long = "new", value_name = "RULE", conflicts_with_all = ["bless", "filter", "junit"])]
    new: Option<PathBuf>,
    /// The most one case's query may run, in seconds (a case past it fails; the others run).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// The memory one case's query may use, e.g. 512MB (joins, sorts and aggregations spill
    /// to disk or fail past it).
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<String>,
}

/// The rules under `paths`, and the packs among them. A folder with a `pack.yaml` is a pack:
/// its detections run, with its settings (which also apply to folders and files inside it). A published query with a corrected version beside
/// it (`NAME.corrected.kql`) is left out. A rule file that cannot be read is reported and
/// skipped (the others still run); the flag says whether any was.
fn load_rules(paths: &[PathBuf]) -> Result<(Vec<Rule>, Vec<Pack>, bool), String> {
    let mut packs = Vec::new();
    let mut expanded = Vec::new();
    for p in paths {
        match load_pack(p)? {
            Some(pack) => {
                expanded.push(pack.detections_dir());
                packs.push(pack);
            }
            None => {
                // a folder or file inside a pack runs with the pack's settings
                if let Some(pack) = pack_of(p)? {
                    if !packs.iter().any(|k: &Pack| k.dir == pack.dir) {
                        packs.push(pack);
                    }
                }
                expanded.push(p.clone());
            }
        }
    }
    let files = runnable(collect_rule_files(&expanded).map_err(|e| e.to_string())?);
    let mut rules = Vec::new();
    let mut bad = false;
    for f in files {
        if rule_pack::source::is_support_file(&f) {
            continue;
        }
        match rule_pack::pack::load_pack_rule(&f) {
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
    Ok((rules, packs, bad))
}

/// The data options with the packs' settings added (externaldata files, geo-IP database,
/// watchlists); options given on the command line win.
fn with_pack_settings(data: &DataArgs, packs: &[Pack]) -> DataArgs {
    let mut d = data.clone();
    for p in packs {
        for (url, file) in p.externaldata_files() {
            if !d.externaldata.iter().any(|e| e.starts_with(&format!("{url}="))) {
                d.externaldata.push(format!("{url}={}", file.display()));
            }
        }
        if d.geoip.is_none() {
            d.geoip = p.geoip_file();
        }
        for (alias, file) in p.watchlist_files() {
            d.watchlists.push(format!("{alias}={}", file.display()));
        }
    }
    d
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

/// Events shown under each alert in the table format unless `--events` says otherwise.
const TABLE_EVENTS: usize = 10;

fn print_run(run: &RuleRun, format: RunFormat, events: Option<usize>) {
    match format {
        RunFormat::Table => {
            println!(
                "{}  {}  rows={}  {}",
                kql_exec::value::datetime::format_datetime_iso(run.now),
                run.rule,
                run.rows,
                if run.fired { format!("FIRED ({} alert(s))", run.alerts.len()) } else { "quiet".into() }
            );
            let width = terminal_size::terminal_size().map(|(w, _)| w.0.saturating_sub(6)).or(Some(114));
            for a in &run.alerts {
                let ents: Vec<String> = a
                    .entities
                    .iter()
                    .map(|e| format!("{}:{}", e.entity_type, e.fields.values().cloned().collect::<Vec<_>>().join("/")))
                    .collect();
                let incident = a.incident.map(|n| format!(" incident #{n}")).unwrap_or_default();
                // at most 8 entities on the line; the rest counted
                let more =
                    if ents.len() > 8 { format!(" and {} more entities", ents.len() - 8) } else { String::new() };
                let ents = if ents.is_empty() {
                    String::new()
                } else {
                    format!(" {}{more}", ents[..ents.len().min(8)].join(", "))
                };
                println!("    alert: {} [{}] rows={}{incident}{ents}", a.display_name, a.severity, a.rows);
                let shown = a.events.len().min(events.unwrap_or(TABLE_EVENTS));
                if shown > 0 {
                    let rows = run.result.take_rows(&a.row_indices[..shown]);
                    let o = kql_exec::output::TableOptions { width, max_cell: 40, ..Default::default() };
                    let mut table = kql_exec::output::to_table_with(&rows, &o);
                    if shown < a.rows {
                        // replace the row-count line
                        let body = table.trim_end_matches('\n');
                        let body = body.rfind('\n').map(|i| &body[..=i]).unwrap_or("");
                        table = format!("{body}first {shown} of {} events (--events N shows more)\n", a.rows);
                    }
                    for line in table.lines() {
                        println!("      {line}");
                    }
                }
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
    let (rules, packs, bad_files) = match load_rules(&args.rules) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let data = with_pack_settings(&args.data, &packs);
    let bounds_of = |s: &kql_exec::Session| rule_bounds(s, &rules, s.now(), s.now());
    let mut session = match build_session_for(&data, Some(&bounds_of)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let now = session.now();
    let (mut fired, mut failed) = (false, bad_files);
    let opts = match args.alerts.run_options(None) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sched = Scheduler::new(opts);
    let mut sink = AlertSink::new(&args.alerts);
    for rule in &rules {
        match sched.run(&mut session, rule, now) {
            Ok(Some(r)) => {
                fired |= r.fired;
                print_run(&r, args.format, args.alerts.events);
                sink.add(rule, &r);
            }
            Ok(None) => {}
            Err(e) => {
                failed = true;
                eprint!(
                    "{}",
                    e.render_in_file(
                        "error",
                        &rule.path.display().to_string(),
                        &rule.query,
                        rule.query_line + 1,
                        rule.query_col
                    )
                );
            }
        }
    }
    if let Err(e) = sink.finish(&sched.incidents) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
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
    let (rules, packs, bad_files) = match load_rules(&args.rules) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let data = with_pack_settings(&args.data, &packs);
    // every run lies in (from, to]
    let bounds_of = |s: &kql_exec::Session| rule_bounds(s, &rules, from, to);
    let mut session = match build_session_for(&data, Some(&bounds_of)) {
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
    let opts = match args.alerts.run_options(Some(0)) {
        Ok(o) => RunOptions { separate_runs: args.separate_runs, ..o },
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sink = AlertSink::new(&args.alerts);
    let mut sched = Scheduler::new(opts);
    for rule in &rules {
        let result = replay_rule_in(&mut sched, &mut session, rule, from, to, |r| {
            if r.fired {
                print_run(r, args.format, args.alerts.events);
            }
            sink.add(rule, r);
        });
        match result {
            Ok(rep) => {
                if args.format == RunFormat::Table {
                    print_replay_summary(&rep);
                }
                replays.push(rep);
            }
            Err(e) => {
                failed = true;
                eprint!(
                    "{}",
                    e.render_in_file(
                        "error",
                        &rule.path.display().to_string(),
                        &rule.query,
                        rule.query_line + 1,
                        rule.query_col
                    )
                );
            }
        }
    }
    if let Err(e) = sink.finish(&sched.incidents) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
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

/// A rule's replay totals, its timeline and a line per day.
fn print_replay_summary(rep: &Replay) {
    let suppressed = rep.suppressed();
    let executed = rep.runs.len() - suppressed;
    let supp = if suppressed > 0 { format!(" ({suppressed} suppressed)") } else { String::new() };
    let reopened: u32 = rep.incidents.iter().map(|i| i.reopened).sum();
    let reopened = if reopened > 0 { format!(" ({reopened} reopenings)") } else { String::new() };
    println!(
        "{}: {executed} runs{supp}, {} fired, {} alerts, {} incidents{reopened}",
        rep.rule,
        rep.fired(),
        rep.alerts(),
        rep.incidents.len()
    );
    if rep.runs.is_empty() {
        return;
    }
    println!("  timeline: {}", timeline_text(rep));
    for (day, runs, alerts, incidents) in rep.per_day() {
        println!("  {day}: {runs} runs, {alerts} alerts, {incidents} incidents");
    }
}

/// One character per run: `.` quiet, `1`..`9` alerts, `+` ten or more, `-` suppressed.
fn timeline_text(rep: &Replay) -> String {
    rep.runs
        .iter()
        .map(|r| match r.alerts {
            _ if r.suppressed => '-',
            0 if r.fired => '*',
            0 => '.',
            n @ 1..=9 => char::from(b'0' + n as u8),
            _ => '+',
        })
        .collect()
}

/// The replay timeline as a time chart: alerts and new incidents per run, two series per rule.
fn timeline_chart(replays: &[Replay]) -> crate::chart::Chart {
    use crate::chart::{Chart, Kind, Props, Series, XAxis};
    let mut series = Vec::new();
    for r in replays.iter().filter(|r| !r.runs.is_empty()) {
        series.push(Series {
            name: format!("alerts: {}", r.rule),
            points: r.runs.iter().map(|x| (x.now as f64 / 1e7, x.alerts as f64)).collect(),
        });
        series.push(Series {
            name: format!("incidents: {}", r.rule),
            points: r.runs.iter().map(|x| (x.now as f64 / 1e7, x.incidents as f64)).collect(),
        });
    }
    Chart {
        kind: Kind::Time,
        props: Props {
            title: Some("Alerts and incidents per scheduled run".into()),
            legend: true,
            ymin: Some(0.0),
            ..Default::default()
        },
        x: XAxis::Time,
        xtitle: "run time (UTC)".into(),
        ytitle: "alerts / new incidents".into(),
        series,
        anomalies: Vec::new(),
    }
}

/// `kql test`.
pub fn test(args: TestArgs, project: Option<&rule_pack::project::Project>) -> ExitCode {
    if let Some(rule) = &args.new {
        return new_test(rule);
    }
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut tests = find_tests(&paths);
    if let Some(f) = &args.filter {
        tests.retain(|t| t.to_string_lossy().contains(f.as_str()));
    }
    if tests.is_empty() {
        eprintln!("error: no tests (*.test.yaml) found");
        return ExitCode::from(2);
    }
    let memory_limit = match args.memory_limit.as_deref().map(crate::data::parse_size).transpose() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: --memory-limit: {e}");
            return ExitCode::from(2);
        }
    };
    let timeout = match args.timeout.map(crate::data::parse_timeout).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = TestRunOptions {
        bless: args.bless,
        timeout,
        memory_limit,
        schemas: project.map(|p| p.schemas.clone()).unwrap_or_default(),
        functions: project.map(|p| p.functions.clone()).unwrap_or_default(),
    };
    let mut outcomes = Vec::new();
    for t in &tests {
        for o in run_test_cases_with(t, &opts) {
            match &o.failure {
                None if o.blessed => println!("blessed {}", o.name),
                None => println!("ok      {}", o.name),
                Some(f) => {
                    println!("FAILED  {}", o.name);
                    for line in f.lines() {
                        println!("    {line}");
                    }
                }
            }
            outcomes.push(o);
        }
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

/// `kql test --new RULE`.
fn new_test(rule: &std::path::Path) -> ExitCode {
    // a whole hour close to the wall clock
    let hour = 36_000_000_000;
    let now = kql_exec::value::datetime::now_ticks() / hour * hour;
    let (path, text) = match starter_test(rule, now) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if path.exists() {
        eprintln!("error: {} exists already: edit it, or move it away to write a new one", path.display());
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    println!("wrote {}: fill in rows that make the rule fire, then run `kql test {}`", path.display(), path.display());
    ExitCode::SUCCESS
}
