//! The rule model: a `.kql` file (the query, with optional metadata in a `//` comment header)
//! or a Sentinel analytic-rule YAML file with all its fields.

use crate::source::{document_with, SourceError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MINUTE: i64 = 600_000_000;

/// How the trigger compares the result count with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum TriggerOperator {
    /// count > threshold (Sentinel's default).
    #[default]
    #[serde(alias = "GreaterThan", alias = "gt")]
    Gt,
    /// count < threshold
    #[serde(alias = "LessThan", alias = "lt")]
    Lt,
    /// count == threshold
    #[serde(alias = "Equal", alias = "eq")]
    Eq,
    /// count != threshold
    #[serde(alias = "NotEqual", alias = "ne")]
    Ne,
}

impl TriggerOperator {
    /// Does `count` fire against `threshold`?
    pub fn fires(self, count: u64, threshold: u64) -> bool {
        match self {
            TriggerOperator::Gt => count > threshold,
            TriggerOperator::Lt => count < threshold,
            TriggerOperator::Eq => count == threshold,
            TriggerOperator::Ne => count != threshold,
        }
    }
}

/// A key written with no value (`entityMappings:` followed by nothing, common in published
/// rules) means the empty list or map, as Sentinel reads it.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One field of an entity mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMapping {
    /// The entity identifier (`Name`, `Address`, `FullName`...).
    pub identifier: String,
    /// The result column it comes from.
    pub column_name: String,
}

/// An entity mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityMapping {
    /// `Account`, `IP`, `Host`...
    pub entity_type: String,
    /// Its fields.
    #[serde(default, deserialize_with = "null_as_default")]
    pub field_mappings: Vec<FieldMapping>,
}

/// `alertDetailsOverride`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AlertDetailsOverride {
    /// Display name with `{{Column}}` placeholders.
    pub alert_display_name_format: Option<String>,
    /// Description with `{{Column}}` placeholders.
    pub alert_description_format: Option<String>,
    /// Severity taken from a column.
    pub alert_severity_column_name: Option<String>,
    /// Tactics taken from a column.
    pub alert_tactics_column_name: Option<String>,
}

/// `eventGroupingSettings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EventGrouping {
    /// `SingleAlert` (default) or `AlertPerResult`.
    pub aggregation_kind: Option<String>,
}

/// `incidentConfiguration.groupingConfiguration`: how alerts of a rule are grouped into
/// incidents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupingConfiguration {
    /// Group alerts into incidents at all (when false, every alert opens its own incident).
    #[serde(default, deserialize_with = "null_as_default")]
    pub enabled: bool,
    /// Reopen a closed incident when a matching alert arrives, instead of opening a new one
    /// (incidents close in a local run only with `RunOptions::close_incidents_after`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub reopen_closed_incident: bool,
    /// How far back an incident takes new alerts (default 5h).
    #[serde(default)]
    pub lookback_duration: Option<String>,
    /// `AllEntities` (default), `AnyAlert` or `Selected`.
    #[serde(default)]
    pub matching_method: Option<String>,
    /// With `Selected`: the entity types that must match.
    #[serde(default, deserialize_with = "null_as_default")]
    pub group_by_entities: Vec<String>,
    /// With `Selected`: `DisplayName` and/or `Severity`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub group_by_alert_details: Vec<String>,
    /// With `Selected`: custom-detail keys whose values must match.
    #[serde(default, deserialize_with = "null_as_default")]
    pub group_by_custom_details: Vec<String>,
}

/// `incidentConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentConfiguration {
    /// Whether alerts open incidents at all (default true).
    #[serde(default = "yes")]
    pub create_incident: bool,
    /// Alert grouping.
    #[serde(default)]
    pub grouping_configuration: Option<GroupingConfiguration>,
}

fn yes() -> bool {
    true
}

/// A duration as rule files write it: a KQL timespan (`5h`, `1d`, `00:30:00`) or ISO 8601
/// (`PT5H`, `P1D`, `PT30M`, as the Sentinel API and ARM templates write it), in ticks.
pub fn parse_duration(s: &str) -> Option<i64> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    if let Some(rest) = upper.strip_prefix('P') {
        const TICKS: [(char, i64); 5] = [
            ('W', 7 * 864_000_000_000),
            ('D', 864_000_000_000),
            ('H', 36_000_000_000),
            ('M', 600_000_000),
            ('S', 10_000_000),
        ];
        let mut total = 0i64;
        let mut in_time = false;
        let mut num = String::new();
        let mut any = false;
        for c in rest.chars() {
            match c {
                'T' if num.is_empty() => in_time = true,
                '0'..='9' | '.' => num.push(c),
                _ => {
                    let n: f64 = num.parse().ok()?;
                    num.clear();
                    any = true;
                    let unit = match (c, in_time) {
                        ('M', false) => return None, // months have no fixed length
                        (c, _) => TICKS.iter().find(|(u, _)| *u == c)?.1,
                    };
                    total = total.checked_add((n * unit as f64) as i64)?;
                }
            }
        }
        return (num.is_empty() && any).then_some(total);
    }
    kql_exec::value::datetime::parse_timespan(t)
}

/// A data connector a rule needs (`requiredDataConnectors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DataConnector {
    /// The connector (`AzureActiveDirectory`, `CEF`...).
    pub connector_id: String,
    /// The tables (or ASIM functions) it provides.
    pub data_types: Vec<String>,
}

/// `requiredDataConnectors` as published rules write it, read leniently: a connector's id and
/// its data types where they are text (the field only informs coverage; `kql check` reports a
/// malformed one).
fn lenient_connectors<'de, D>(d: D) -> Result<Vec<DataConnector>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let v = Option::<serde_yaml::Value>::deserialize(d)?.unwrap_or_default();
    let text = |v: Option<&serde_yaml::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    Ok(v.as_sequence()
        .map(|items| {
            items
                .iter()
                .map(|c| DataConnector {
                    connector_id: text(c.get("connectorId")).unwrap_or_default(),
                    data_types: match c.get("dataTypes") {
                        Some(serde_yaml::Value::Sequence(ts)) => ts.iter().filter_map(|t| text(Some(t))).collect(),
                        Some(t) => text(Some(t)).into_iter().collect(),
                        None => vec![],
                    },
                })
                .collect()
        })
        .unwrap_or_default())
}

/// A detection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Rule id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Display name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    /// Severity (Informational, Low, Medium, High).
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: String,
    /// `Scheduled` or `NRT`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub kind: String,
    /// The KQL query.
    #[serde(default, deserialize_with = "null_as_default")]
    pub query: String,
    /// How often the scheduler runs it (e.g. `1h`).
    #[serde(default)]
    pub query_frequency: Option<String>,
    /// How far back each run looks (e.g. `1d`).
    #[serde(default)]
    pub query_period: Option<String>,
    /// Trigger operator.
    #[serde(default, deserialize_with = "null_as_default")]
    pub trigger_operator: TriggerOperator,
    /// Trigger threshold.
    #[serde(default, deserialize_with = "null_as_default")]
    pub trigger_threshold: u64,
    /// MITRE tactics.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tactics: Vec<String>,
    /// MITRE techniques.
    #[serde(default, deserialize_with = "null_as_default")]
    pub relevant_techniques: Vec<String>,
    /// Entity mappings.
    #[serde(default, deserialize_with = "null_as_default")]
    pub entity_mappings: Vec<EntityMapping>,
    /// Custom details: key to column.
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_details: BTreeMap<String, String>,
    /// Display overrides.
    #[serde(default)]
    pub alert_details_override: Option<AlertDetailsOverride>,
    /// Alert grouping.
    #[serde(default)]
    pub event_grouping_settings: Option<EventGrouping>,
    /// Stop running the rule for `suppressionDuration` after it raised an alert.
    #[serde(default, deserialize_with = "null_as_default")]
    pub suppression_enabled: bool,
    /// How long suppression lasts (e.g. `5h`).
    #[serde(default)]
    pub suppression_duration: Option<String>,
    /// Incident creation and alert grouping.
    #[serde(default)]
    pub incident_configuration: Option<IncidentConfiguration>,
    /// Rule version.
    #[serde(default)]
    pub version: Option<String>,
    /// The data connectors the rule needs, with the tables each provides.
    #[serde(default, deserialize_with = "lenient_connectors")]
    pub required_data_connectors: Vec<DataConnector>,
    /// The file it was read from.
    #[serde(skip)]
    pub path: PathBuf,
    /// 0-based line of the query's first line in the file.
    #[serde(skip)]
    pub query_line: usize,
    /// Indentation of the query in the file.
    #[serde(skip)]
    pub query_col: usize,
}

impl Rule {
    /// The query period as ticks (`queryPeriod`; an NRT rule looks back one minute, the time
    /// since its previous run).
    pub fn period_ticks(&self) -> Option<i64> {
        match self.query_period.as_deref().and_then(parse_duration) {
            Some(p) => Some(p),
            None if self.is_nrt() => Some(MINUTE),
            None => None,
        }
    }

    /// The query frequency as ticks (an NRT rule runs every minute).
    pub fn frequency_ticks(&self) -> Option<i64> {
        if self.is_nrt() {
            return Some(MINUTE);
        }
        self.query_frequency.as_deref().and_then(parse_duration)
    }

    /// A near-real-time rule (`kind: NRT`)?
    pub fn is_nrt(&self) -> bool {
        self.kind.eq_ignore_ascii_case("NRT")
    }

    /// How long the rule is suppressed after an alert, when suppression is on.
    pub fn suppression_ticks(&self) -> Option<i64> {
        if !self.suppression_enabled {
            return None;
        }
        Some(self.suppression_duration.as_deref().and_then(parse_duration).unwrap_or(5 * 36_000_000_000))
    }

    /// Whether alerts open incidents (Sentinel's default: yes).
    pub fn creates_incidents(&self) -> bool {
        self.incident_configuration.as_ref().is_none_or(|c| c.create_incident)
    }

    /// The alert grouping, when enabled.
    pub fn grouping(&self) -> Option<&GroupingConfiguration> {
        self.incident_configuration.as_ref()?.grouping_configuration.as_ref().filter(|g| g.enabled)
    }

    /// One alert per result row?
    pub fn alert_per_result(&self) -> bool {
        self.event_grouping_settings
            .as_ref()
            .and_then(|g| g.aggregation_kind.as_deref())
            .is_some_and(|k| k.eq_ignore_ascii_case("AlertPerResult"))
    }
}

/// The 1-based line and column of the first `key:` in a YAML text (1:1 when absent).
fn key_position(text: &str, key: &str) -> (usize, usize) {
    let pat = format!("{key}:");
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with(&pat) || t.strip_prefix("- ").is_some_and(|r| r.starts_with(&pat)) {
            return (n + 1, line.len() - t.len() + 1);
        }
    }
    (1, 1)
}

impl Rule {
    /// The scheduling fields Sentinel interprets, checked: durations that read as durations,
    /// known event-grouping kinds and matching methods. `Err((field, message))`.
    pub fn check_scheduling(&self) -> Result<(), (&'static str, String)> {
        let duration = |field: &'static str, v: &Option<String>| match v {
            Some(d) if parse_duration(d).is_none() => {
                Err((field, format!("{field}: `{d}` is not a duration (write e.g. 5m, 1h, 1d, or PT5H as ISO 8601)")))
            }
            _ => Ok(()),
        };
        duration("queryFrequency", &self.query_frequency)?;
        duration("queryPeriod", &self.query_period)?;
        if self.suppression_enabled {
            duration("suppressionDuration", &self.suppression_duration)?;
        }
        if let Some(k) = self.event_grouping_settings.as_ref().and_then(|g| g.aggregation_kind.as_deref()) {
            if !["SingleAlert", "AlertPerResult"].iter().any(|x| x.eq_ignore_ascii_case(k)) {
                return Err((
                    "aggregationKind",
                    format!("eventGroupingSettings.aggregationKind: `{k}` is not one of SingleAlert, AlertPerResult"),
                ));
            }
        }
        if let Some(g) = self.incident_configuration.as_ref().and_then(|c| c.grouping_configuration.as_ref()) {
            duration("lookbackDuration", &g.lookback_duration)?;
            if let Some(m) = g.matching_method.as_deref() {
                if !["AllEntities", "AnyAlert", "Selected"].iter().any(|x| x.eq_ignore_ascii_case(m)) {
                    return Err((
                        "matchingMethod",
                        format!(
                            "incidentConfiguration.groupingConfiguration.matchingMethod: `{m}` is not one of AllEntities, AnyAlert, Selected"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Read a rule from a `.kql` or `.yaml` file.
pub fn load_rule(path: &Path) -> Result<Rule, SourceError> {
    let src = crate::source::read_query(path)?;
    let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    if is_yaml {
        let text =
            std::fs::read_to_string(path).map_err(|e| SourceError::Io { path: path.to_path_buf(), source: e })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let (index, value) = document_with(path, text, "query")?;
        // Deserialize the document again from the text, so a bad field is reported with its
        // path and line (a `Value` has no positions).
        let doc = serde_yaml::Deserializer::from_str(text).nth(index);
        let parsed = match doc {
            Some(doc) => serde_path_to_error::deserialize::<_, Rule>(doc).map_err(|e| {
                let field = e.path().to_string();
                let inner = e.into_inner();
                let (line, col) = inner.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
                let message = strip_location(&inner.to_string()).to_string();
                let message =
                    if field == "." || message.starts_with(&field) { message } else { format!("{field}: {message}") };
                (line, col, message)
            }),
            None => serde_yaml::from_value(value).map_err(|e| (1, 1, e.to_string())),
        };
        let mut rule = parsed.map_err(|(line, col, message)| SourceError::InvalidRule {
            path: path.to_path_buf(),
            line,
            col,
            message,
        })?;
        rule.path = path.to_path_buf();
        rule.query_line = src.line_offset;
        rule.query_col = src.col_offset;
        if rule.name.is_empty() {
            rule.name = stem(path);
        }
        if let Err((key, message)) = rule.check_scheduling() {
            let (line, col) = key_position(text, key);
            return Err(SourceError::InvalidRule { path: path.to_path_buf(), line, col, message });
        }
        return Ok(rule);
    }
    Ok(rule_from_kql(path, &src.query))
}

/// serde_yaml's message without its trailing " at line L column C" (the error carries those).
fn strip_location(m: &str) -> &str {
    match m.rfind(" at line ") {
        Some(i) => &m[..i],
        None => m,
    }
}

/// A rule's default name: its file's stem (`x.corrected.kql` is `x (corrected)`).
fn stem(p: &Path) -> String {
    let s = p.file_stem().and_then(|s| s.to_str()).unwrap_or("rule");
    match s.strip_suffix(".corrected") {
        Some(base) => format!("{base} (corrected)"),
        None => s.to_string(),
    }
}

/// A `.kql` rule: metadata from a leading comment header of `// key: value` lines
/// (name, id, description, severity, kind, frequency, period, trigger, threshold, tactics,
/// techniques, grouping, suppression).
pub fn rule_from_kql(path: &Path, text: &str) -> Rule {
    let mut rule = Rule {
        id: String::new(),
        name: stem(path),
        description: String::new(),
        severity: "Medium".into(),
        kind: "Scheduled".into(),
        query: text.to_string(),
        query_frequency: None,
        query_period: None,
        trigger_operator: TriggerOperator::Gt,
        trigger_threshold: 0,
        tactics: vec![],
        relevant_techniques: vec![],
        entity_mappings: vec![],
        custom_details: BTreeMap::new(),
        alert_details_override: None,
        event_grouping_settings: None,
        suppression_enabled: false,
        suppression_duration: None,
        incident_configuration: None,
        version: None,
        required_data_connectors: vec![],
        path: path.to_path_buf(),
        query_line: 0,
        query_col: 0,
    };
    for line in text.lines() {
        let t = line.trim();
        let Some(c) = t.strip_prefix("//") else { break };
        let Some((k, v)) = c.split_once(':') else { continue };
        let v = v.trim().to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => rule.name = v,
            "id" => rule.id = v,
            "description" => rule.description = v,
            "severity" => rule.severity = v,
            "frequency" | "queryfrequency" => rule.query_frequency = Some(v),
            "period" | "queryperiod" => rule.query_period = Some(v),
            "threshold" | "triggerthreshold" => rule.trigger_threshold = v.parse().unwrap_or(0),
            "trigger" | "triggeroperator" => {
                rule.trigger_operator = match v.to_ascii_lowercase().as_str() {
                    "lt" | "lessthan" => TriggerOperator::Lt,
                    "eq" | "equal" => TriggerOperator::Eq,
                    "ne" | "notequal" => TriggerOperator::Ne,
                    _ => TriggerOperator::Gt,
                }
            }
            "tactics" => rule.tactics = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            "techniques" | "relevanttechniques" => {
                rule.relevant_techniques =
                    v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
            }
            "kind" => rule.kind = v,
            "suppression" | "suppressionduration" => {
                rule.suppression_enabled = true;
                rule.suppression_duration = Some(v);
            }
            "grouping" => {
                rule.event_grouping_settings = Some(EventGrouping { aggregation_kind: Some(v) });
            }
            _ => {}
        }
    }
    rule
}
