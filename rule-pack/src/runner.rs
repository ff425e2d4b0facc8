//! Running rules as Sentinel's scheduler would: at an instant `now`, over the lookback window
//! `queryPeriod`, comparing the result count with the trigger, and building alerts with
//! entities, custom details and display overrides.

use crate::rule::Rule;
use kql_exec::output::rows_json;
use kql_exec::session::{QueryResult, Session};
use kql_exec::KqlError;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// An entity of an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    /// `Account`, `IP`, `Host`...
    #[serde(rename = "type")]
    pub entity_type: String,
    /// Identifier to value.
    pub fields: BTreeMap<String, String>,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The rule name.
    pub rule: String,
    /// The rule id (`id:` of the rule file; empty when it has none).
    pub rule_id: String,
    /// The alert's id (`SystemAlertId`): a GUID derived from the rule, the run time and the
    /// alert's place in the run, so the same run gives the same ids.
    pub alert_id: String,
    /// Display name (after `{{Column}}` substitution).
    pub display_name: String,
    /// Description (after substitution).
    pub description: String,
    /// Severity.
    pub severity: String,
    /// Tactics.
    pub tactics: Vec<String>,
    /// Techniques.
    pub techniques: Vec<String>,
    /// When the rule ran (ISO 8601).
    pub time: String,
    /// Start of the alert's activity: the earliest `TimeGenerated` of its events, else the
    /// start of the query window (ISO 8601).
    pub start_time: String,
    /// End of the alert's activity: the latest `TimeGenerated` of its events, else the run time.
    pub end_time: String,
    /// Entities, de-duplicated.
    pub entities: Vec<Entity>,
    /// Custom details: key to the distinct values of its column.
    pub custom_details: BTreeMap<String, Vec<String>>,
    /// How many result rows this alert covers.
    pub rows: usize,
    /// The result rows of this alert (all, or the first N of `rows` with `--events N`), as
    /// objects of column name to value, in the result's column order.
    pub events: Vec<serde_json::Map<String, Value>>,
    /// True when `events` holds fewer rows than `rows`.
    pub events_truncated: bool,
    /// The incident the alert was put in (its `IncidentNumber`), if it opened or joined one.
    pub incident: Option<u64>,
    /// Indices of the alert's rows in the run's result.
    #[serde(skip)]
    pub row_indices: Vec<usize>,
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Keep at most this many events per alert (all when `None`).
    pub max_events: Option<usize>,
    /// Ingestion delay in ticks: a row reaches the workspace this long after its
    /// `TimeGenerated`, so a run at `now` sees only rows up to `now - delay` (the rule's window
    /// still ends at `now`). Zero: rows are visible at once.
    pub ingestion_delay: i64,
    /// Ingestion delays of particular tables (ticks), in place of `ingestion_delay` for them:
    /// each data source arrives with its own delay.
    pub table_delays: std::collections::BTreeMap<String, i64>,
    /// How long after an incident's last alert analysts close it (ticks; `None`: never, as
    /// nobody works the incidents of a local run). Decides what `reopenClosedIncident` does.
    pub close_incidents_after: Option<i64>,
    /// In a replay, compute every run from the tables themselves, instead of computing the
    /// row-local start of the rule's query once for all runs ([`crate::shared_prefix`]). The
    /// answers are the same; this is the slower path, kept to compare with.
    pub separate_runs: bool,
}

/// The outcome of one scheduled run of a rule.
#[derive(Debug, Clone)]
pub struct RuleRun {
    /// The rule name.
    pub rule: String,
    /// When it ran (ticks).
    pub now: i64,
    /// Rows the query returned.
    pub rows: usize,
    /// Whether the trigger fired.
    pub fired: bool,
    /// The alerts.
    pub alerts: Vec<Alert>,
    /// The query result.
    pub result: QueryResult,
    /// Numbers of the incidents this run's alerts opened (set by [`crate::scheduler::Scheduler`]).
    pub new_incidents: Vec<u64>,
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replace `{{Column}}` with the column's value in `row`.
pub fn substitute(template: &str, names: &[String], row: &[Value]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find("}}") {
            Some(j) => {
                let col = after[..j].trim();
                match names.iter().position(|n| n == col) {
                    Some(k) => out.push_str(&cell_text(&row[k])),
                    None => out.push_str(&rest[i..i + 2 + j + 2]),
                }
                rest = &after[j + 2..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The most alerts one run of a rule raises with `AlertPerResult`: past it, the last alert
/// carries all the remaining rows (Sentinel's limit).
pub const MAX_ALERTS_PER_RUN: usize = 150;

/// Run `rule` at `now` over the session's data (the session's catalog is narrowed to the
/// rule's lookback window for the run), keeping every event of every alert.
pub fn run_rule(session: &mut Session, rule: &Rule, now: i64) -> Result<RuleRun, KqlError> {
    run_rule_with(session, rule, now, &RunOptions::default())
}

/// [`run_rule`] with options.
pub fn run_rule_with(session: &mut Session, rule: &Rule, now: i64, opts: &RunOptions) -> Result<RuleRun, KqlError> {
    // A rule that declares its lookback sees only that window; a bare query sees everything
    // up to `now` (its own `ago()` filters decide the rest).
    let full = session.catalog.clone();
    let window_start = rule.period_ticks().map(|p| now - p);
    // nothing after `now` exists yet (matters for replay), nor what is still being ingested
    let visible = now - opts.ingestion_delay.max(0);
    // tables with their own delay end at their own instant
    let ends: std::collections::HashMap<String, i64> =
        opts.table_delays.iter().map(|(t, d)| (t.clone(), now - (*d).max(0))).collect();
    session.catalog = full.time_window_ending(window_start.unwrap_or(i64::MIN), visible, &ends)?;
    let saved_now = session.options.now;
    session.options.now = Some(now);
    let result = session.query(&rule.query);
    session.catalog = full;
    session.options.now = saved_now;
    // a bug past the query (in making the alerts) fails this rule's run, not the whole run
    kql_exec::session::guard::catch("making the alerts", || alerts_of(rule, now, window_start, opts, result?))
}

/// The run's alerts from the query's result.
fn alerts_of(
    rule: &Rule,
    now: i64,
    window_start: Option<i64>,
    opts: &RunOptions,
    result: kql_exec::QueryResult,
) -> Result<RuleRun, KqlError> {
    let rows = result.num_rows();
    let fired = rule.trigger_operator.fires(rows as u64, rule.trigger_threshold);
    let names: Vec<String> = result.cols.iter().map(|c| c.name.clone()).collect();
    let time_col =
        result.cols.iter().position(|c| c.name == "TimeGenerated" && c.ty == kql_exec::schema::KqlType::DateTime);
    let all_rows = rows_json(&result);
    let mut alerts = Vec::new();
    if fired {
        let groups: Vec<Vec<usize>> = if rule.alert_per_result() {
            let mut g: Vec<Vec<usize>> = (0..all_rows.len()).map(|i| vec![i]).collect();
            if g.len() > MAX_ALERTS_PER_RUN {
                let rest: Vec<usize> = g.drain(MAX_ALERTS_PER_RUN - 1..).flatten().collect();
                g.push(rest);
            }
            g
        } else {
            vec![(0..all_rows.len()).collect()]
        };
        let ctx = AlertContext { rule, names: &names, time_col, now, window_start, opts };
        for (k, g) in groups.into_iter().enumerate() {
            alerts.push(make_alert(&ctx, &all_rows, g, k));
        }
    }
    Ok(RuleRun { rule: rule.name.clone(), now, rows, fired, alerts, result, new_incidents: Vec::new() })
}

struct AlertContext<'a> {
    rule: &'a Rule,
    names: &'a [String],
    time_col: Option<usize>,
    now: i64,
    window_start: Option<i64>,
    opts: &'a RunOptions,
}

/// A GUID-shaped id from text (two FNV-1a hashes): stable across runs and platforms.
pub fn stable_guid(text: &str) -> String {
    let fnv = |seed: u64| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    let (a, b) = (fnv(0), fnv(0x9e37_79b9_7f4a_7c15));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        (a & 0x0fff) | 0x4000,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn make_alert(ctx: &AlertContext, all_rows: &[Vec<Value>], indices: Vec<usize>, index: usize) -> Alert {
    let rule = ctx.rule;
    let names = ctx.names;
    let rows: Vec<&Vec<Value>> = indices.iter().map(|&i| &all_rows[i]).collect();
    let first: Vec<Value> = rows.first().map(|r| (*r).clone()).unwrap_or_default();
    let ov = rule.alert_details_override.clone().unwrap_or_default();
    let display_name = match &ov.alert_display_name_format {
        Some(f) if !first.is_empty() => substitute(f, names, &first),
        _ => rule.name.clone(),
    };
    let description = match &ov.alert_description_format {
        Some(f) if !first.is_empty() => substitute(f, names, &first),
        _ => rule.description.trim().to_string(),
    };
    let col = |c: &str| names.iter().position(|n| n == c);
    let severity = ov
        .alert_severity_column_name
        .as_deref()
        .and_then(col)
        .map(|k| cell_text(&first[k]))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| rule.severity.clone());
    let tactics = ov
        .alert_tactics_column_name
        .as_deref()
        .and_then(col)
        .map(|k| cell_text(&first[k]))
        .filter(|s| !s.is_empty())
        .map(|s| s.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect())
        .unwrap_or_else(|| rule.tactics.clone());
    let mut entities: Vec<Entity> = Vec::new();
    for r in &rows {
        for m in &rule.entity_mappings {
            let mut fields = BTreeMap::new();
            for f in &m.field_mappings {
                if let Some(k) = col(&f.column_name) {
                    let v = cell_text(&r[k]);
                    if !v.is_empty() {
                        fields.insert(f.identifier.clone(), v);
                    }
                }
            }
            if !fields.is_empty() {
                let e = Entity { entity_type: m.entity_type.clone(), fields };
                if !entities.contains(&e) {
                    entities.push(e);
                }
            }
        }
    }
    let mut custom_details = BTreeMap::new();
    for (key, column) in &rule.custom_details {
        if let Some(k) = col(column) {
            let mut vals: Vec<String> = Vec::new();
            for r in &rows {
                let v = cell_text(&r[k]);
                if !vals.contains(&v) {
                    vals.push(v);
                }
            }
            custom_details.insert(key.clone(), vals);
        }
    }
    let times: Vec<i64> = match ctx.time_col {
        Some(k) => {
            rows.iter().filter_map(|r| r[k].as_str().and_then(kql_exec::value::datetime::parse_datetime)).collect()
        }
        None => Vec::new(),
    };
    let iso = kql_exec::value::datetime::format_datetime_iso;
    let start = times.iter().min().copied().or(ctx.window_start).unwrap_or(ctx.now);
    let end = times.iter().max().copied().unwrap_or(ctx.now);
    let keep = ctx.opts.max_events.unwrap_or(usize::MAX).min(rows.len());
    let events = rows[..keep]
        .iter()
        .map(|r| names.iter().cloned().zip(r.iter().cloned()).collect::<serde_json::Map<_, _>>())
        .collect();
    let key = if rule.id.is_empty() { rule.path.display().to_string() } else { rule.id.clone() };
    Alert {
        rule: rule.name.clone(),
        rule_id: rule.id.clone(),
        alert_id: stable_guid(&format!("{key}|{}|{index}", ctx.now)),
        display_name,
        description,
        severity,
        tactics,
        techniques: rule.relevant_techniques.clone(),
        time: iso(ctx.now),
        start_time: iso(start),
        end_time: iso(end),
        entities,
        custom_details,
        rows: rows.len(),
        events,
        events_truncated: keep < rows.len(),
        incident: None,
        row_indices: indices,
    }
}

/// One rule replayed over a window: what each scheduled run returned, and the incidents its
/// alerts opened.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The rule name.
    pub rule: String,
    /// Every scheduled run, in time order (suppressed runs included, marked).
    pub runs: Vec<ReplayRun>,
    /// The incidents the rule's alerts opened, in the state they reached by the end.
    pub incidents: Vec<crate::scheduler::Incident>,
}

/// What one scheduled run of a replay produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayRun {
    /// When it ran (ticks).
    pub now: i64,
    /// Rows the query returned.
    pub rows: usize,
    /// Whether the trigger fired.
    pub fired: bool,
    /// Alerts raised.
    pub alerts: usize,
    /// Incidents this run's alerts opened (alerts that joined an open incident open none).
    pub incidents: usize,
    /// The run was skipped: the rule was suppressed after an earlier alert.
    pub suppressed: bool,
}

impl Replay {
    /// Runs whose trigger fired.
    pub fn fired(&self) -> usize {
        self.runs.iter().filter(|r| r.fired).count()
    }

    /// Alerts over all runs.
    pub fn alerts(&self) -> usize {
        self.runs.iter().map(|r| r.alerts).sum()
    }

    /// Runs skipped by suppression.
    pub fn suppressed(&self) -> usize {
        self.runs.iter().filter(|r| r.suppressed).count()
    }

    /// Per UTC day: (day as `YYYY-MM-DD`, runs executed, alerts, incidents opened).
    pub fn per_day(&self) -> Vec<(String, usize, usize, usize)> {
        let mut out: Vec<(String, usize, usize, usize)> = Vec::new();
        for r in &self.runs {
            let day = kql_exec::value::datetime::format_datetime_iso(r.now)[..10].to_string();
            if out.last().is_none_or(|l| l.0 != day) {
                out.push((day, 0, 0, 0));
            }
            if let Some(l) = out.last_mut() {
                l.1 += usize::from(!r.suppressed);
                l.2 += r.alerts;
                l.3 += r.incidents;
            }
        }
        out
    }
}

/// Run `rule` at every scheduled instant in `[from, to]` (see [`schedule`]), as the scheduler
/// would have: suppression skips runs after an alert, alerts open or join incidents;
/// `on_run` sees each executed run as it completes (to print alerts as they come). Stops at
/// the first run that fails.
pub fn replay_rule(
    session: &mut Session,
    rule: &Rule,
    from: i64,
    to: i64,
    on_run: impl FnMut(&RuleRun),
) -> Result<Replay, KqlError> {
    replay_rule_with(session, rule, from, to, &RunOptions { max_events: Some(0), ..Default::default() }, on_run)
}

/// [`replay_rule`] with run options (how many events alerts keep).
pub fn replay_rule_with(
    session: &mut Session,
    rule: &Rule,
    from: i64,
    to: i64,
    opts: &RunOptions,
    on_run: impl FnMut(&RuleRun),
) -> Result<Replay, KqlError> {
    let mut sched = crate::scheduler::Scheduler::new(opts.clone());
    replay_rule_in(&mut sched, session, rule, from, to, on_run)
}

/// [`replay_rule`] with a scheduler shared by several rules (incident numbers run across them).
pub fn replay_rule_in(
    sched: &mut crate::scheduler::Scheduler,
    session: &mut Session,
    rule: &Rule,
    from: i64,
    to: i64,
    mut on_run: impl FnMut(&RuleRun),
) -> Result<Replay, KqlError> {
    let mut out = Replay { rule: rule.name.clone(), ..Default::default() };
    let shared = if sched.options.separate_runs { None } else { SharedStart::compute(session, rule, from, to) };
    // the shared start's rows arrive as late as its table's
    let saved_delays = sched.options.table_delays.clone();
    if let Some(d) = shared.as_ref().and_then(|sh| sched.options.table_delays.get(&sh.source).copied()) {
        sched.options.table_delays.insert(SharedStart::TABLE.to_string(), d);
    }
    let result = replay_runs(sched, session, rule, shared.as_ref(), &schedule(rule, from, to), &mut out, &mut on_run);
    sched.options.table_delays = saved_delays;
    if let Some(sh) = &shared {
        session.catalog.remove_table(&sh.table);
    }
    result?;
    out.incidents = sched.incidents_of(rule).cloned().collect();
    Ok(out)
}

/// The start of a rule's query computed once for a whole replay (see [`crate::shared_prefix`]):
/// the table holding it and the rule that reads the rest from it.
struct SharedStart {
    table: String,
    /// The table it is computed from.
    source: String,
    rule: Rule,
}

impl SharedStart {
    /// The table name the shared start is registered under while a replay runs.
    const TABLE: &'static str = "__kql_replay_shared";

    /// Compute the row-local start of `rule`'s query over every window of a replay from `from`
    /// to `to`, and register it. `None` when the query has no such start, or computing it
    /// fails (the replay then computes each run from the tables, and reports any error
    /// there, against the rule's own text).
    fn compute(session: &mut Session, rule: &Rule, from: i64, to: i64) -> Option<SharedStart> {
        let catalog = &session.catalog;
        let split = crate::shared_prefix::split(
            &rule.query,
            Self::TABLE,
            |t| catalog.has_table(t),
            |f| catalog.function(f).is_some(),
        )?;
        // every run's window lies in [from - period, to]
        let start = rule.period_ticks().map(|p| from.saturating_sub(p)).unwrap_or(i64::MIN);
        let full = session.catalog.clone();
        session.catalog = full.time_window(start, to).ok()?;
        let saved_now = session.options.now;
        session.options.now = Some(to);
        // the shared start is an intermediate table, not a result: Kusto's result truncation
        // (500,000 records) does not apply to it
        let result = session.query(&format!("set notruncation;\n{}", split.prefix));
        session.catalog = full;
        session.options.now = saved_now;
        let result = result.ok()?;
        let batches = kql_exec::session::normalize_batches(&result.cols, result.batches).ok()?;
        let entry = kql_exec::session::memory_entry(result.cols, batches).ok()?;
        session.catalog.add_table(Self::TABLE, entry);
        Some(SharedStart {
            table: Self::TABLE.to_string(),
            source: split.table,
            rule: Rule { query: split.rest, ..rule.clone() },
        })
    }
}

/// The runs of a replay, over the shared start when there is one.
fn replay_runs(
    sched: &mut crate::scheduler::Scheduler,
    session: &mut Session,
    rule: &Rule,
    shared: Option<&SharedStart>,
    times: &[i64],
    out: &mut Replay,
    on_run: &mut impl FnMut(&RuleRun),
) -> Result<(), KqlError> {
    for &t in times {
        let run = match shared {
            // a run that fails over the shared start runs again from the tables, so its error
            // is the rule's own
            Some(sh) => match sched.run(session, &sh.rule, t) {
                Ok(r) => Ok(r.map(|mut r| {
                    r.rule = rule.name.clone();
                    r
                })),
                Err(_) => sched.run(session, rule, t),
            },
            None => sched.run(session, rule, t),
        };
        match run? {
            Some(r) => {
                on_run(&r);
                let incidents = r.new_incidents.len();
                out.runs.push(ReplayRun {
                    now: t,
                    rows: r.rows,
                    fired: r.fired,
                    alerts: r.alerts.len(),
                    incidents,
                    suppressed: false,
                });
            }
            None => {
                out.runs.push(ReplayRun { now: t, rows: 0, fired: false, alerts: 0, incidents: 0, suppressed: true })
            }
        }
    }
    Ok(())
}

/// The instants at which the scheduler runs a rule in `[from, to]`: every `queryFrequency`
/// (default: 1 hour; an NRT rule every minute) starting at `from + frequency`.
pub fn schedule(rule: &Rule, from: i64, to: i64) -> Vec<i64> {
    let step = rule.frequency_ticks().filter(|s| *s > 0).unwrap_or(36_000_000_000);
    let mut out = Vec::new();
    let mut t = from + step;
    while t <= to && out.len() < 1_000_000 {
        out.push(t);
        t += step;
    }
    out
}
