//! Sentinel's scheduler around single runs: suppression (`suppressionEnabled`,
//! `suppressionDuration`: after a run that raised alerts, the rule does not run again until the
//! duration has passed), incident creation (`incidentConfiguration.createIncident`) and alert
//! grouping into incidents (`groupingConfiguration`: all alerts of the rule, alerts whose
//! entities all match, or alerts matching on selected entity types, alert details and custom
//! details, within a lookback; at most 150 alerts per incident).
//!
//! Grouping follows Microsoft's description of the analytics-rule wizard: with grouping off,
//! every alert opens an incident of its own; with it on, an alert joins the most recent incident
//! of the same rule with the same grouping key that was opened less than `lookbackDuration`
//! (default 5 hours) before the alert and holds fewer than 150 alerts, else it opens a new one.
//! Analysts close incidents; a local run has none, so incidents stay open unless the run is told
//! how soon analysts close them (`RunOptions::close_incidents_after`: an incident closes that
//! long after its last alert). Then a matching alert finds the incident closed: with
//! `reopenClosedIncident` it reopens it (counted in `Incident::reopened`), without it opens a new
//! incident, as Sentinel does.

use crate::rule::{parse_duration, GroupingConfiguration, Rule};
use crate::runner::{run_rule_with, stable_guid, Alert, RuleRun, RunOptions};
use kql_exec::session::Session;
use kql_exec::KqlError;
use std::collections::HashMap;

/// Most alerts in one incident; the next matching alert opens a new incident.
pub const MAX_ALERTS_PER_INCIDENT: usize = 150;

const HOUR: i64 = 36_000_000_000;

/// An incident, in the state it reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// `IncidentNumber`: 1, 2, ... in the order incidents were opened.
    pub number: u64,
    /// `IncidentName`: a GUID.
    pub id: String,
    /// The rule's name.
    pub rule: String,
    /// The rule's id.
    pub rule_id: String,
    /// Title: the display name of its first alert.
    pub title: String,
    /// Description: that of its first alert.
    pub description: String,
    /// The highest severity among its alerts.
    pub severity: String,
    /// When it was opened (ticks).
    pub created: i64,
    /// When an alert last joined it (ticks).
    pub last_modified: i64,
    /// Earliest activity of its alerts (ticks).
    pub first_activity: i64,
    /// Latest activity of its alerts (ticks).
    pub last_activity: i64,
    /// The `SystemAlertId`s of its alerts.
    pub alert_ids: Vec<String>,
    /// Tactics of its alerts.
    pub tactics: Vec<String>,
    /// Techniques of its alerts.
    pub techniques: Vec<String>,
    /// The grouping key alerts must share to join it.
    pub key: String,
    /// How many times a matching alert reopened it after analysts closed it.
    pub reopened: u32,
}

impl Incident {
    /// Whether analysts closed it by `now`, when they close incidents `close_after` after
    /// their last alert.
    pub fn closed_at(&self, now: i64, close_after: Option<i64>) -> bool {
        close_after.is_some_and(|d| now - self.last_modified >= d)
    }
}

fn severity_rank(s: &str) -> u8 {
    match s.to_ascii_lowercase().as_str() {
        "high" => 4,
        "medium" => 3,
        "low" => 2,
        "informational" => 1,
        _ => 0,
    }
}

/// The key alerts must share to be grouped into one incident.
pub fn grouping_key(g: &GroupingConfiguration, alert: &Alert) -> String {
    let method = g.matching_method.as_deref().unwrap_or("AllEntities");
    let entity_text = |types: Option<&[String]>| {
        let mut v: Vec<String> = alert
            .entities
            .iter()
            .filter(|e| types.is_none_or(|t| t.iter().any(|x| x.eq_ignore_ascii_case(&e.entity_type))))
            .map(|e| format!("{}:{:?}", e.entity_type.to_ascii_lowercase(), e.fields))
            .collect();
        v.sort();
        v.dedup();
        v.join("|")
    };
    if method.eq_ignore_ascii_case("AnyAlert") {
        String::new()
    } else if method.eq_ignore_ascii_case("Selected") {
        let mut parts = vec![entity_text(Some(&g.group_by_entities))];
        for d in &g.group_by_alert_details {
            if d.eq_ignore_ascii_case("DisplayName") {
                parts.push(format!("name={}", alert.display_name));
            } else if d.eq_ignore_ascii_case("Severity") {
                parts.push(format!("severity={}", alert.severity));
            }
        }
        for c in &g.group_by_custom_details {
            parts.push(format!("{c}={:?}", alert.custom_details.get(c)));
        }
        parts.join("#")
    } else {
        entity_text(None)
    }
}

/// The scheduler's state across runs: open incidents and suppression.
#[derive(Debug, Clone, Default)]
pub struct Scheduler {
    /// Every incident opened so far.
    pub incidents: Vec<Incident>,
    /// Options of each run.
    pub options: RunOptions,
    suppressed_until: HashMap<String, i64>,
}

fn rule_key(rule: &Rule) -> String {
    if rule.id.is_empty() {
        rule.path.display().to_string()
    } else {
        rule.id.clone()
    }
}

impl Scheduler {
    /// A scheduler with no incidents yet.
    pub fn new(options: RunOptions) -> Self {
        Scheduler { options, ..Default::default() }
    }

    /// Whether `rule` is suppressed at `now` (an earlier alert started a suppression that has
    /// not ended).
    pub fn is_suppressed(&self, rule: &Rule, now: i64) -> bool {
        self.suppressed_until.get(&rule_key(rule)).is_some_and(|&until| now < until)
    }

    /// Run `rule` at `now` unless it is suppressed (then `None`); its alerts open or join
    /// incidents (each alert's `incident`, the run's `new_incidents`).
    pub fn run(&mut self, session: &mut Session, rule: &Rule, now: i64) -> Result<Option<RuleRun>, KqlError> {
        if self.is_suppressed(rule, now) {
            return Ok(None);
        }
        let mut run = run_rule_with(session, rule, now, &self.options)?;
        if !run.alerts.is_empty() {
            if let Some(d) = rule.suppression_ticks() {
                self.suppressed_until.insert(rule_key(rule), now + d);
            }
        }
        for a in run.alerts.iter_mut() {
            let (number, new) = match self.assign(rule, a, now) {
                Some(x) => x,
                None => continue,
            };
            a.incident = Some(number);
            if new {
                run.new_incidents.push(number);
            }
        }
        Ok(Some(run))
    }

    /// Put an alert raised at `now` into an incident: (its number, whether it is new), or `None`
    /// when the rule creates no incidents.
    fn assign(&mut self, rule: &Rule, alert: &Alert, now: i64) -> Option<(u64, bool)> {
        if !rule.creates_incidents() {
            return None;
        }
        let parse = kql_exec::value::datetime::parse_datetime;
        let (start, end) = (parse(&alert.start_time).unwrap_or(now), parse(&alert.end_time).unwrap_or(now));
        let rk = rule_key(rule);
        let key = rule.grouping().map(|g| grouping_key(g, alert));
        if let (Some(g), Some(key)) = (rule.grouping(), &key) {
            let lookback = g.lookback_duration.as_deref().and_then(parse_duration).unwrap_or(5 * HOUR);
            let close_after = self.options.close_incidents_after;
            let found = self.incidents.iter_mut().rev().find(|i| {
                i.rule_id == rk
                    && &i.key == key
                    && now - i.created < lookback
                    && i.alert_ids.len() < MAX_ALERTS_PER_INCIDENT
            });
            // a closed incident takes the alert only when the rule reopens closed incidents
            let found = found.filter(|i| !i.closed_at(now, close_after) || g.reopen_closed_incident);
            if let Some(i) = found {
                if i.closed_at(now, close_after) {
                    i.reopened += 1;
                }
                i.alert_ids.push(alert.alert_id.clone());
                i.last_modified = now;
                i.first_activity = i.first_activity.min(start);
                i.last_activity = i.last_activity.max(end);
                if severity_rank(&alert.severity) > severity_rank(&i.severity) {
                    i.severity = alert.severity.clone();
                }
                for t in &alert.tactics {
                    if !i.tactics.contains(t) {
                        i.tactics.push(t.clone());
                    }
                }
                return Some((i.number, false));
            }
        }
        let number = self.incidents.len() as u64 + 1;
        self.incidents.push(Incident {
            number,
            id: stable_guid(&format!("incident|{rk}|{now}|{number}")),
            rule: rule.name.clone(),
            rule_id: rk,
            title: alert.display_name.clone(),
            description: alert.description.clone(),
            severity: alert.severity.clone(),
            created: now,
            last_modified: now,
            first_activity: start,
            last_activity: end,
            alert_ids: vec![alert.alert_id.clone()],
            tactics: alert.tactics.clone(),
            techniques: alert.techniques.clone(),
            key: key.unwrap_or_default(),
            reopened: 0,
        });
        Some((number, true))
    }

    /// The incidents of one rule.
    pub fn incidents_of<'a>(&'a self, rule: &'a Rule) -> impl Iterator<Item = &'a Incident> + 'a {
        let rk = rule_key(rule);
        self.incidents.iter().filter(move |i| i.rule_id == rk)
    }
}
