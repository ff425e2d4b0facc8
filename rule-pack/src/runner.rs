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
    /// Display name (after `{{Column}}` substitution).
    pub display_name: String,
    /// Description (after substitution).
    pub description: String,
    /// Severity.
    pub severity: String,
    /// Tactics.
    pub tactics: Vec<String>,
    /// When the rule ran (ISO 8601).
    pub time: String,
    /// Entities, de-duplicated.
    pub entities: Vec<Entity>,
    /// Custom details: key to the distinct values of its column.
    pub custom_details: BTreeMap<String, Vec<String>>,
    /// How many result rows this alert covers.
    pub rows: usize,
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

/// Run `rule` at `now` over the session's data (the session's catalog is narrowed to the
/// rule's lookback window for the run).
pub fn run_rule(session: &mut Session, rule: &Rule, now: i64) -> Result<RuleRun, KqlError> {
    // A rule that declares its lookback sees only that window; a bare query sees everything
    // up to `now` (its own `ago()` filters decide the rest).
    let full = session.catalog.clone();
    session.catalog = match rule.period_ticks() {
        Some(period) => full.time_window(now - period, now)?,
        // nothing after `now` exists yet (matters for replay)
        None => full.time_window(i64::MIN, now)?,
    };
    let saved_now = session.options.now;
    session.options.now = Some(now);
    let result = session.query(&rule.query);
    session.catalog = full;
    session.options.now = saved_now;
    let result = result?;
    let rows = result.num_rows();
    let fired = rule.trigger_operator.fires(rows as u64, rule.trigger_threshold);
    let names: Vec<String> = result.cols.iter().map(|c| c.name.clone()).collect();
    let all_rows = rows_json(&result);
    let mut alerts = Vec::new();
    if fired {
        let groups: Vec<Vec<&Vec<Value>>> = if rule.alert_per_result() {
            all_rows.iter().map(|r| vec![r]).collect()
        } else {
            vec![all_rows.iter().collect()]
        };
        for g in groups {
            alerts.push(make_alert(rule, &names, &g, now));
        }
    }
    Ok(RuleRun { rule: rule.name.clone(), now, rows, fired, alerts, result })
}

fn make_alert(rule: &Rule, names: &[String], rows: &[&Vec<Value>], now: i64) -> Alert {
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
    let mut entities: Vec<Entity> = Vec::new();
    for r in rows {
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
            for r in rows {
                let v = cell_text(&r[k]);
                if !vals.contains(&v) {
                    vals.push(v);
                }
            }
            custom_details.insert(key.clone(), vals);
        }
    }
    Alert {
        rule: rule.name.clone(),
        display_name,
        description,
        severity,
        tactics: rule.tactics.clone(),
        time: kql_exec::value::datetime::format_datetime_iso(now),
        entities,
        custom_details,
        rows: rows.len(),
    }
}

/// One rule replayed over a window: what each scheduled run returned.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The rule name.
    pub rule: String,
    /// Every scheduled run, in time order.
    pub runs: Vec<ReplayRun>,
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
}

/// Run `rule` at every scheduled instant in `[from, to]` (see [`schedule`]), as the scheduler
/// would have; `on_run` sees each run as it completes (to print alerts as they come). Stops at
/// the first run that fails.
pub fn replay_rule(
    session: &mut Session,
    rule: &Rule,
    from: i64,
    to: i64,
    mut on_run: impl FnMut(&RuleRun),
) -> Result<Replay, KqlError> {
    let mut out = Replay { rule: rule.name.clone(), runs: Vec::new() };
    for t in schedule(rule, from, to) {
        let r = run_rule(session, rule, t)?;
        on_run(&r);
        out.runs.push(ReplayRun { now: t, rows: r.rows, fired: r.fired, alerts: r.alerts.len() });
    }
    Ok(out)
}

/// The instants at which the scheduler runs a rule in `[from, to]`: every `queryFrequency`
/// (default: 1 hour) starting at `from + frequency`.
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
