//! The rule model: a `.kql` file (the query, with optional metadata in a `//` comment header)
//! or a Sentinel analytic-rule YAML file with all its fields.

use crate::source::{document_with, SourceError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// Rule version.
    #[serde(default)]
    pub version: Option<String>,
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
    /// The query period as ticks (default: 1 day, like Sentinel's default lookback... 5h for NRT).
    pub fn period_ticks(&self) -> Option<i64> {
        self.query_period.as_deref().and_then(kql_exec::value::datetime::parse_timespan)
    }

    /// The query frequency as ticks.
    pub fn frequency_ticks(&self) -> Option<i64> {
        self.query_frequency.as_deref().and_then(kql_exec::value::datetime::parse_timespan)
    }

    /// One alert per result row?
    pub fn alert_per_result(&self) -> bool {
        self.event_grouping_settings
            .as_ref()
            .and_then(|g| g.aggregation_kind.as_deref())
            .is_some_and(|k| k.eq_ignore_ascii_case("AlertPerResult"))
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

fn stem(p: &Path) -> String {
    p.file_stem().and_then(|s| s.to_str()).unwrap_or("rule").to_string()
}

/// A `.kql` rule: metadata from a leading comment header of `// key: value` lines
/// (name, severity, frequency, period, trigger, threshold, tactics, id).
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
        version: None,
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
            "grouping" => {
                rule.event_grouping_settings = Some(EventGrouping { aggregation_kind: Some(v) });
            }
            _ => {}
        }
    }
    rule
}
