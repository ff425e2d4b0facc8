//! Diagnostic-settings records (`insights-logs-<category>/resourceId=/.../PT1H.json`, as JSON lines
//! or the older `{"records": [...]}` envelope) mapped to Log Analytics columns.
//!
//! **`AzureDiagnostics`** (the "Azure diagnostics" collection mode), as Log Analytics maps them:
//!
//! | record field | column(s) |
//! |---|---|
//! | `time` | `TimeGenerated` |
//! | `resourceId` | `ResourceId` (upper case, as Log Analytics writes it), `_ResourceId` (lower case), and from its segments `SubscriptionId`, `ResourceGroup`, `ResourceProvider`, `ResourceType`, `Resource` (upper case) |
//! | `category` | `Category` |
//! | `operationName` | `OperationName` |
//! | `operationVersion` | `OperationVersion` |
//! | `resultType`, `resultSignature`, `resultDescription` | `ResultType`, `ResultSignature`, `ResultDescription` |
//! | `durationMs` | `DurationMs` |
//! | `callerIpAddress` | `CallerIPAddress` |
//! | `correlationId` | `CorrelationId` |
//! | `level` | `Level` |
//! | `properties.<name>` and any other field | `<name>_<suffix>`, nested objects flattened with `_` (`identity.claim.appid` is `identity_claim_appid_g`), other characters than letters, digits and `_` written `_` |
//! | | `SourceSystem` = `Azure`, `Type` = `AzureDiagnostics` |
//!
//! Suffixes give the type: `_s` string (also arrays, as JSON text), `_d` real (any number),
//! `_b` bool, `_g` guid (a string in GUID form), `_t` datetime (a string in ISO 8601 form).
//! Field names match case-insensitively (`Level` and `level`, `resourceId` and `ResourceId`).
//!
//! **Resource-specific tables.** A category that is itself a table name (Entra ID exports
//! `SignInLogs`, `AuditLogs`, `NonInteractiveUserSignInLogs`, ... to `insights-logs-signinlogs`,
//! ...) maps to that table: `time` is `TimeGenerated`, then each top-level field and each
//! `properties` field goes to the schema column of the same name ignoring case (`userPrincipalName`
//! is `UserPrincipalName`; a top-level field wins over a `properties` one), unknown names kept as
//! they are.

use super::json::Record;
use crate::schema::{KqlType, TableSchema};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The table of diagnostic-settings records.
pub const AZURE_DIAGNOSTICS: &str = "AzureDiagnostics";

fn get_ci<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// True for a diagnostic-settings record: `time` and `category` or `operationName`, with
/// `resourceId` or `properties`, and no `TimeGenerated`.
pub fn is_envelope(fields: &Map<String, Value>) -> bool {
    !fields.contains_key("TimeGenerated")
        && get_ci(fields, "time").is_some()
        && (get_ci(fields, "category").is_some() || get_ci(fields, "operationName").is_some())
        && (get_ci(fields, "resourceId").is_some() || matches!(get_ci(fields, "properties"), Some(Value::Object(_))))
}

/// The fixed columns of the envelope, by lower-case field name.
const FIXED: [(&str, &str); 11] = [
    ("category", "Category"),
    ("operationname", "OperationName"),
    ("operationversion", "OperationVersion"),
    ("resulttype", "ResultType"),
    ("resultsignature", "ResultSignature"),
    ("resultdescription", "ResultDescription"),
    ("durationms", "DurationMs"),
    ("calleripaddress", "CallerIPAddress"),
    ("correlationid", "CorrelationId"),
    ("level", "Level"),
    ("time", "TimeGenerated"),
];

/// Map a record to `AzureDiagnostics` columns.
pub fn to_azure_diagnostics(r: &mut Record) {
    let env = std::mem::take(&mut r.fields);
    let mut out = Map::new();
    let mut props = None;
    for (k, v) in env {
        let lower = k.to_ascii_lowercase();
        if lower == "properties" {
            props = Some(v);
            continue;
        }
        if lower == "resourceid" {
            if let Value::String(id) = &v {
                resource_columns(id, &mut out);
            }
            continue;
        }
        if let Some((_, col)) = FIXED.iter().find(|(f, _)| *f == lower) {
            let v = match (*col, v) {
                // Log Analytics writes these as text
                ("ResultType" | "ResultSignature" | "Level", Value::Number(n)) => Value::String(n.to_string()),
                (_, v) => v,
            };
            out.insert(col.to_string(), v);
            continue;
        }
        flatten(&sanitize(&k), v, &mut out);
    }
    match props {
        Some(Value::Object(p)) => {
            for (k, v) in p {
                flatten(&sanitize(&k), v, &mut out);
            }
        }
        // some services write `properties` as JSON text
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(p)) => {
                for (k, v) in p {
                    flatten(&sanitize(&k), v, &mut out);
                }
            }
            _ => {
                out.insert("properties_s".into(), Value::String(s));
            }
        },
        Some(Value::Null) | None => {}
        Some(other) => flatten("properties", other, &mut out),
    }
    out.insert("SourceSystem".into(), Value::String("Azure".into()));
    out.insert("Type".into(), Value::String(AZURE_DIAGNOSTICS.into()));
    r.fields = out;
}

fn resource_columns(id: &str, out: &mut Map<String, Value>) {
    out.insert("ResourceId".into(), Value::String(id.to_uppercase()));
    out.insert("_ResourceId".into(), Value::String(id.to_lowercase()));
    let segs: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let after = |key: &str| {
        segs.iter().position(|s| s.eq_ignore_ascii_case(key)).and_then(|i| segs.get(i + 1)).map(|s| s.to_string())
    };
    if let Some(s) = after("subscriptions") {
        out.insert("SubscriptionId".into(), Value::String(s.to_lowercase()));
    }
    if let Some(s) = after("resourcegroups") {
        out.insert("ResourceGroup".into(), Value::String(s.to_uppercase()));
    }
    if let Some(i) = segs.iter().position(|s| s.eq_ignore_ascii_case("providers")) {
        if let Some(p) = segs.get(i + 1) {
            out.insert("ResourceProvider".into(), Value::String(p.to_uppercase()));
        }
        // type/name pairs after the provider: the last pair is the resource
        let rest = &segs[(i + 2).min(segs.len())..];
        if rest.len() >= 2 {
            let n = rest.len() - rest.len() % 2;
            out.insert("ResourceType".into(), Value::String(rest[n - 2].to_uppercase()));
            out.insert("Resource".into(), Value::String(rest[n - 1].to_uppercase()));
        }
    }
}

fn sanitize(k: &str) -> String {
    k.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

fn is_iso_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && crate::value::datetime::parse_datetime(s).is_some()
}

fn flatten(prefix: &str, v: Value, out: &mut Map<String, Value>) {
    match v {
        Value::Null => {}
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&format!("{prefix}_{}", sanitize(&k)), v, out);
            }
        }
        Value::Array(_) => {
            out.insert(format!("{prefix}_s"), Value::String(v.to_string()));
        }
        Value::Bool(_) => {
            out.insert(format!("{prefix}_b"), v);
        }
        Value::Number(_) => {
            out.insert(format!("{prefix}_d"), v);
        }
        Value::String(s) => {
            let suffix = if is_guid(&s) {
                "g"
            } else if is_iso_datetime(&s) {
                "t"
            } else {
                "s"
            };
            out.insert(format!("{prefix}_{suffix}"), Value::String(s));
        }
    }
}

/// The type a column suffix gives.
pub fn suffix_type(name: &str) -> Option<KqlType> {
    let (_, suffix) = name.rsplit_once('_')?;
    Some(match suffix {
        "s" => KqlType::String,
        "d" => KqlType::Real,
        "b" => KqlType::Bool,
        "g" => KqlType::Guid,
        "t" => KqlType::DateTime,
        _ => return None,
    })
}

/// The schema extended with the suffix-typed columns the records have and it lacks.
pub fn extend_schema(name: &str, schema: Option<&TableSchema>, records: &[Record]) -> TableSchema {
    let mut s = schema.cloned().unwrap_or_else(|| TableSchema::new(name, vec![]));
    let mut seen: std::collections::HashSet<String> = s.columns.iter().map(|(c, _)| c.clone()).collect();
    for r in records {
        for k in r.fields.keys() {
            if !seen.contains(k) {
                if let Some(t) = suffix_type(k) {
                    s.columns.push((k.clone(), t));
                }
                seen.insert(k.clone());
            }
        }
    }
    s
}

/// Map a record to a resource-specific table (`SigninLogs`, ...): see the module documentation.
pub fn to_resource_specific(r: &mut Record, _table: &str, schema: Option<&TableSchema>) {
    let index: HashMap<String, &str> = schema
        .map(|s| s.columns.iter().map(|(c, _)| (c.to_ascii_lowercase(), c.as_str())).collect())
        .unwrap_or_default();
    let name_of = |k: &str| -> String {
        if k.eq_ignore_ascii_case("time") {
            return "TimeGenerated".into();
        }
        index.get(&k.to_ascii_lowercase()).map(|s| s.to_string()).unwrap_or_else(|| k.to_string())
    };
    let env = std::mem::take(&mut r.fields);
    let mut out = Map::new();
    let mut props = None;
    for (k, v) in env {
        if k.eq_ignore_ascii_case("properties") && v.is_object() {
            props = Some(v);
            continue;
        }
        out.insert(name_of(&k), v);
    }
    if let Some(Value::Object(p)) = props {
        for (k, v) in p {
            let n = name_of(&k);
            if !out.contains_key(&n) {
                out.insert(n, v);
            }
        }
    }
    r.fields = out;
}
