//! Defender XDR streaming export (Event Hubs or storage `insights-logs-advancedhunting-<table>`):
//! each record is `{"time", "tenantId", "operationName", "category": "AdvancedHunting-<Table>",
//! "properties": {...}}` and the row is `properties`. Its dynamic columns (`AdditionalFields`,
//! ...) arrive as JSON text and become dynamic values by the table's schema
//! ([`super::convert::convert_value`] parses JSON text in dynamic columns). As in Sentinel,
//! `TimeGenerated` is filled from `Timestamp` (or the record's `time`), `TenantId` from
//! `tenantId` and `Type` is the table name, when the schema has those columns and the row lacks them.

use super::json::Record;
use crate::schema::TableSchema;
use serde_json::{Map, Value};

/// True for a Defender XDR streaming-export record.
pub fn is_xdr(fields: &Map<String, Value>) -> bool {
    matches!(fields.get("properties"), Some(Value::Object(_)))
        && matches!(fields.get("category"), Some(Value::String(c)) if c.len() > 15 && c.as_bytes()[..15].eq_ignore_ascii_case(b"advancedhunting"))
}

/// The table an XDR record's category names (`AdvancedHunting-DeviceProcessEvents` is
/// `DeviceProcessEvents`).
pub fn category_table(fields: &Map<String, Value>) -> Option<&str> {
    match fields.get("category") {
        Some(Value::String(c)) => c.get(16..).filter(|_| c.len() > 16),
        _ => None,
    }
}

/// Replace an XDR record by its row.
pub fn unwrap(r: &mut Record, table: &str, schema: Option<&TableSchema>) {
    let mut env = std::mem::take(&mut r.fields);
    let Some(Value::Object(mut row)) = env.remove("properties") else { return };
    let has = |c: &str| schema.is_none_or(|s| s.column(c).is_some());
    if has("TimeGenerated") && !present(row.get("TimeGenerated")) {
        if let Some(t) = row.get("Timestamp").filter(|v| present(Some(v))).or_else(|| env.get("time")) {
            row.insert("TimeGenerated".into(), t.clone());
        }
    }
    if schema.is_some_and(|s| s.column("TenantId").is_some()) && !present(row.get("TenantId")) {
        if let Some(t) = env.get("tenantId") {
            row.insert("TenantId".into(), t.clone());
        }
    }
    if schema.is_some_and(|s| s.column("Type").is_some()) && !present(row.get("Type")) {
        row.insert("Type".into(), Value::String(schema.map(|s| s.name.clone()).unwrap_or_else(|| table.to_string())));
    }
    r.fields = row;
}

fn present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// Fill `TimeGenerated` from `Timestamp` when a row has only the latter.
pub fn fill_time_generated(fields: &mut Map<String, Value>) {
    if !present(fields.get("TimeGenerated")) {
        if let Some(t) = fields.get("Timestamp").filter(|v| present(Some(v))).cloned() {
            fields.insert("TimeGenerated".into(), t);
        }
    }
}
