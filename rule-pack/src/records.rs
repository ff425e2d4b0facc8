//! Alerts and incidents as the rows Sentinel writes for them: `SecurityAlert` and
//! `SecurityIncident` records with the columns of the published table schemas (JSON-lines
//! objects), so a pack's own alerts can be queried (`kql query --table SecurityAlert=FILE`) and
//! fed to correlation rules.
//!
//! Shapes follow Sentinel's scheduled-rule alerts: `ProductName` "Azure Sentinel",
//! `ProviderName` "ASI Scheduled Alerts", `AlertType` the rule id, `Entities` a JSON array of
//! entity objects (`$id`, `Type` in lower case, the mapped identifiers), `ExtendedProperties` a
//! JSON object of strings (`Query`, `Query Period`, `Trigger Operator`, `Trigger Threshold`,
//! `Search Query Results Overall Count`, `Query Start Time UTC`, `Query End Time UTC`,
//! `Analytic Rule Ids`, `Analytic Rule Name`, `Event Grouping`, `Custom Details`...),
//! `Tactics` a comma-separated list and `Techniques` a JSON array. An incident is written once,
//! in its final state.

use crate::rule::Rule;
use crate::runner::{Alert, RuleRun};
use crate::scheduler::Incident;
use kql_exec::value::datetime::format_datetime_iso;
use serde_json::{json, Map, Value};

/// The entity type as Sentinel writes it in `Entities` (`Account` is `account`, `RegistryKey`
/// is `registry-key`...).
pub fn entity_type_name(t: &str) -> String {
    match t.to_ascii_lowercase().as_str() {
        "registrykey" => "registry-key".into(),
        "registryvalue" => "registry-value".into(),
        "securitygroup" => "security-group".into(),
        other => other.to_string(),
    }
}

/// The `Entities` array of an alert.
pub fn entities_json(alert: &Alert) -> Value {
    let mut out = Vec::new();
    for (k, e) in alert.entities.iter().enumerate() {
        let mut m = Map::new();
        m.insert("$id".into(), Value::String((k + 2).to_string()));
        for (id, v) in &e.fields {
            m.insert(id.clone(), Value::String(v.clone()));
        }
        m.insert("Type".into(), Value::String(entity_type_name(&e.entity_type)));
        out.push(Value::Object(m));
    }
    Value::Array(out)
}

/// A `SecurityAlert` row for one alert of `run`.
pub fn security_alert(rule: &Rule, run: &RuleRun, alert: &Alert) -> Map<String, Value> {
    let now = format_datetime_iso(run.now);
    let window_start = rule.period_ticks().map(|p| format_datetime_iso(run.now - p)).unwrap_or_default();
    let mut ext = Map::new();
    let mut put = |k: &str, v: String| {
        ext.insert(k.into(), Value::String(v));
    };
    put("Query", rule.query.clone());
    put("Query Period", rule.query_period.clone().unwrap_or_default());
    put(
        "Trigger Operator",
        match rule.trigger_operator {
            crate::rule::TriggerOperator::Gt => "GreaterThan",
            crate::rule::TriggerOperator::Lt => "LessThan",
            crate::rule::TriggerOperator::Eq => "Equal",
            crate::rule::TriggerOperator::Ne => "NotEqual",
        }
        .into(),
    );
    put("Trigger Threshold", rule.trigger_threshold.to_string());
    put("Search Query Results Overall Count", run.rows.to_string());
    put("Query Start Time UTC", window_start.clone());
    put("Query End Time UTC", now.clone());
    put("Analytic Rule Ids", json!([rule.id]).to_string());
    put("Analytic Rule Name", rule.name.clone());
    put("Event Grouping", if rule.alert_per_result() { "AlertPerResult" } else { "SingleAlert" }.into());
    put("Correlation Id", alert.alert_id.clone());
    put("ProcessedBySentinel", "True".into());
    put("Alert generation status", "Full alert created".into());
    if !alert.custom_details.is_empty() {
        put("Custom Details", serde_json::to_string(&alert.custom_details).unwrap_or_default());
    }
    let compromised = alert.entities.first().and_then(|e| e.fields.values().next().cloned()).unwrap_or_default();
    let mut m = Map::new();
    let mut s = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    let str_ = |v: &str| Value::String(v.to_string());
    s("TimeGenerated", str_(&now));
    s("AlertName", str_(&alert.display_name));
    s("AlertSeverity", str_(&alert.severity));
    s("AlertType", str_(&rule.id));
    s("CompromisedEntity", str_(&compromised));
    s("ConfidenceLevel", str_(""));
    s("Description", str_(&alert.description));
    s("DisplayName", str_(&alert.display_name));
    s("EndTime", str_(&alert.end_time));
    s("Entities", Value::String(entities_json(alert).to_string()));
    s("ExtendedLinks", str_(""));
    s("ExtendedProperties", Value::String(Value::Object(ext).to_string()));
    s("IsIncident", Value::Bool(false));
    s("ProcessingEndTime", str_(&now));
    s("ProductComponentName", str_("Scheduled Alerts"));
    s("ProductName", str_("Azure Sentinel"));
    s("ProviderName", str_("ASI Scheduled Alerts"));
    s("RemediationSteps", str_(""));
    s("ResourceId", str_(""));
    s("SourceComputerId", str_(""));
    s("StartTime", str_(&alert.start_time));
    s("Status", str_("New"));
    s("SubTechniques", str_(""));
    s("SystemAlertId", str_(&alert.alert_id));
    s("Tactics", Value::String(alert.tactics.join(", ")));
    s("Techniques", Value::String(json!(alert.techniques).to_string()));
    s("Type", str_("SecurityAlert"));
    s("VendorName", str_("Microsoft"));
    s("VendorOriginalId", str_(&alert.alert_id));
    s("WorkspaceResourceGroup", str_(""));
    s("WorkspaceSubscriptionId", str_(""));
    m
}

/// A `SecurityIncident` row for an incident (its final state).
pub fn security_incident(i: &Incident) -> Map<String, Value> {
    let t = |x: i64| Value::String(format_datetime_iso(x));
    let str_ = |v: &str| Value::String(v.to_string());
    let mut m = Map::new();
    let mut s = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    s("TimeGenerated", t(i.last_modified));
    s("IncidentName", str_(&i.id));
    s("IncidentNumber", json!(i.number));
    s("Title", str_(&i.title));
    s("Description", str_(&i.description));
    s("Severity", str_(&i.severity));
    s("Status", str_("New"));
    s("Classification", str_(""));
    s("ClassificationComment", str_(""));
    s("ClassificationReason", str_(""));
    s("Owner", json!({"objectId": null, "email": null, "assignedTo": null, "userPrincipalName": null}));
    s("ProviderName", str_("Azure Sentinel"));
    s("ProviderIncidentId", Value::String(i.number.to_string()));
    s("CreatedTime", t(i.created));
    s("FirstModifiedTime", t(i.created));
    s("LastModifiedTime", t(i.last_modified));
    s("FirstActivityTime", t(i.first_activity));
    s("LastActivityTime", t(i.last_activity));
    s("ClosedTime", Value::Null);
    s("AlertIds", json!(i.alert_ids));
    s("BookmarkIds", json!([]));
    s("Comments", json!([]));
    s("Tasks", json!([]));
    s("Labels", json!([]));
    s("RelatedAnalyticRuleIds", json!([i.rule_id]));
    s(
        "AdditionalData",
        json!({
            "alertsCount": i.alert_ids.len(),
            "bookmarksCount": 0,
            "commentsCount": 0,
            "alertProductNames": ["Azure Sentinel"],
            "tactics": i.tactics,
            "techniques": i.techniques,
        }),
    );
    s("IncidentUrl", str_(""));
    s("ModifiedBy", str_("Alert aggregation"));
    s("SourceSystem", str_("Azure"));
    s("TenantId", str_(""));
    s("Type", str_("SecurityIncident"));
    m
}
