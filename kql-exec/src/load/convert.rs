//! JSON and text values to KQL-typed Arrow columns, with schema types when known and
//! consistent inference (widening across rows) when not.

use super::json::Record;
use super::timefmt::TimeReading;
use super::{LoadOptions, LoadReport};
use crate::binder::Col;
use crate::error::{KqlError, Result};
use crate::schema::{KqlType, TableSchema};
use crate::types::arrow_type;
use crate::value::datetime::{self as dt, DateOrder};
use crate::value::dynamic as dj;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{Field, Schema};
use serde_json::Value;
use std::sync::Arc;

/// Rows per Arrow batch.
pub const BATCH_ROWS: usize = 64 * 1024;

fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 16
        && b[..4].iter().all(|c| c.is_ascii_digit())
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && dt::parse_datetime(s).is_some()
}

/// The type a value suggests on its own.
fn value_type(v: &Value, text: bool) -> Option<KqlType> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => KqlType::Bool,
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                KqlType::Long
            } else {
                KqlType::Real
            }
        }
        Value::String(s) if text => {
            if s.is_empty() {
                return None;
            }
            if s.parse::<i64>().is_ok() {
                KqlType::Long
            } else if s.parse::<f64>().is_ok() {
                KqlType::Real
            } else if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
                KqlType::Bool
            } else if looks_like_datetime(s)
                || s.contains(':')
                    && (s.contains('/') || s.contains('-') || s.contains('.'))
                    && (dt::parse_datetime(s).is_some() || dt::parse_export_datetime(s, DateOrder::DayFirst).is_some())
            {
                KqlType::DateTime
            } else if (s.starts_with('{') && s.ends_with('}')) || (s.starts_with('[') && s.ends_with(']')) {
                KqlType::Dynamic
            } else {
                KqlType::String
            }
        }
        Value::String(s) => {
            if looks_like_datetime(s) {
                KqlType::DateTime
            } else {
                KqlType::String
            }
        }
        Value::Array(_) | Value::Object(_) => KqlType::Dynamic,
    })
}

/// Widen two inferred types.
fn widen(a: KqlType, b: KqlType) -> KqlType {
    use KqlType::*;
    match (a, b) {
        (x, y) if x == y => x,
        (Long, Real) | (Real, Long) => Real,
        (Dynamic, _) | (_, Dynamic) => Dynamic,
        _ => String,
    }
}

/// Build typed columns and batches from records, with the columns of [`infer_columns`].
/// A value that does not convert to its column's type becomes null and is counted in the report
/// (an error with `strict`).
pub fn to_batches(
    records: &[Record],
    schema: Option<&TableSchema>,
    report: &mut LoadReport,
    opts: &LoadOptions,
) -> Result<(Vec<Col>, Vec<RecordBatch>)> {
    let cols = infer_columns(records, schema);
    let time_cols: Vec<&str> = cols.iter().filter(|c| c.ty == KqlType::DateTime).map(|c| c.name.as_str()).collect();
    let mut times = TimeReading::new(records, &time_cols, opts.local_offset_minutes, report);
    let schema_ref =
        Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    let mut batches = Vec::new();
    for chunk in records.chunks(BATCH_ROWS) {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(cols.len());
        for c in &cols {
            let mut bad = Vec::new();
            arrays.push(build_column(chunk, c, &mut bad, &mut times));
            for i in bad {
                let r = &chunk[i];
                let v = get(r, &c.name).map(snippet).unwrap_or_default();
                let msg = format!("column `{}`: {v} is not a {} (null)", c.name, c.ty);
                if opts.strict {
                    let at = r.loc.as_ref().map(|l| format!("{l}: ")).unwrap_or_default();
                    return Err(KqlError::general("KQL109", format!("{at}{msg}")));
                }
                report.bad_value(r.loc.as_ref(), msg);
            }
        }
        batches.push(
            RecordBatch::try_new(schema_ref.clone(), arrays)
                .map_err(|e| KqlError::general("KQL109", format!("building a batch: {e}")))?,
        );
    }
    times.finish(report);
    Ok((cols, batches))
}

/// The columns of a table, in the table's own order as the data gives it (an export's header, the
/// first-seen key order of JSON records: what Log Analytics shows for `take` or `*`), typed by the
/// schema where it names the column and inferred (widened across rows) where it does not; then the
/// schema's columns the data lacks, in the schema's order (null, or `""` for strings).
pub fn infer_columns(records: &[Record], schema: Option<&TableSchema>) -> Vec<Col> {
    let schema_types: std::collections::HashMap<&str, KqlType> =
        schema.map(|s| s.columns.iter().map(|(n, t)| (n.as_str(), *t)).collect()).unwrap_or_default();
    // every field, in first-seen order, with its inferred and widened type
    let mut seen: Vec<(String, Option<KqlType>)> = Vec::new();
    let mut seen_index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for r in records {
        for (k, v) in &r.fields {
            let known = schema_types.contains_key(k.as_str());
            match seen_index.get(k) {
                Some(&i) => {
                    if !known {
                        let cur = &mut seen[i].1;
                        *cur = match (*cur, value_type(v, r.text)) {
                            (Some(a), Some(b)) => Some(widen(a, b)),
                            (a, b) => a.or(b),
                        }
                    }
                }
                None => {
                    seen_index.insert(k.clone(), seen.len());
                    seen.push((k.clone(), if known { None } else { value_type(v, r.text) }));
                }
            }
        }
    }
    let mut cols: Vec<Col> = seen
        .into_iter()
        .map(|(n, t)| {
            let ty = schema_types.get(n.as_str()).copied().or(t).unwrap_or(KqlType::String);
            Col::new(n, ty)
        })
        .collect();
    if let Some(s) = schema {
        for (n, t) in &s.columns {
            if !seen_index.contains_key(n) {
                cols.push(Col::new(n, *t));
            }
        }
    }
    cols
}

fn snippet(v: &Value) -> String {
    snippet_text(&v.to_string())
}

/// A value's text for a problem report: at most 60 bytes, cut at a character boundary.
pub(crate) fn snippet_text(s: &str) -> String {
    if s.len() > 60 {
        let mut end = 57;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s.to_string()
    }
}

/// True when a value is present: not null, and not empty text.
fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    }
}

/// A dynamic value from JSON text: the parsed value (keys in the same order as JSON input
/// gives them, so that every format agrees), or the text as a JSON string.
pub fn dynamic_from_text(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match dj::parse_json(t) {
        // not JSON: the text itself, untrimmed
        Some(v) if v.starts_with('"') && !t.starts_with('"') => dj::parse_json(s),
        other => other,
    }
}

fn get<'a>(r: &'a Record, name: &str) -> Option<&'a Value> {
    r.fields.get(name)
}

/// A real as a long, truncated, when it is within long's range (a number past it does not
/// convert: it is loaded as null and reported, never clamped to long's limits).
pub fn real_to_long(f: f64) -> Option<i64> {
    // -2^63 is a long; 2^63 is not
    (f.is_finite() && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)).then_some(f as i64)
}

/// Convert one value to a KQL type (as JSON for dynamic).
pub fn convert_value(v: &Value, ty: KqlType, text: bool) -> Converted {
    match ty {
        KqlType::String | KqlType::Guid => Converted::Str(match v {
            Value::Null => String::new(),
            Value::String(s) if ty == KqlType::Guid => s.to_lowercase(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        KqlType::Long | KqlType::Int => Converted::I64(match v {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(real_to_long)),
            Value::String(s) => {
                let t = s.trim();
                t.parse::<i64>().ok().or_else(|| t.parse::<f64>().ok().and_then(real_to_long))
            }
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }),
        KqlType::Real | KqlType::Decimal => Converted::F64(match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }),
        KqlType::Bool => Converted::Bool(match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_f64().map(|f| f != 0.0),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }),
        KqlType::DateTime => Converted::I64(match v {
            Value::String(s) => dt::parse_datetime(s),
            _ => None,
        }),
        KqlType::TimeSpan => Converted::I64(match v {
            Value::String(s) => dt::parse_timespan(s),
            Value::Number(n) => n.as_i64(),
            _ => None,
        }),
        // canonical dynamic text (`dj::parse_json`: key order and number text kept), the same
        // as the JSON-lines fast path (`super::lines`) gives from the raw text
        KqlType::Dynamic => Converted::Json(match v {
            Value::Null => None,
            Value::String(s) if text => dynamic_from_text(s),
            Value::String(s) if s.is_empty() => None,
            // JSON text in a string, as Defender XDR's streaming export writes dynamic columns
            Value::String(s) if looks_like_json_container(s) => {
                match dj::parse_json(s.trim()).filter(|p| !p.starts_with('"')) {
                    Some(p) => Some(p),
                    None => Some(dj::json_string(s)),
                }
            }
            Value::String(s) => Some(dj::json_string(s)),
            other => dj::parse_json(&other.to_string()),
        }),
    }
}

fn looks_like_json_container(s: &str) -> bool {
    let t = s.trim();
    (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'))
}

/// A converted value.
pub enum Converted {
    /// Text (never null).
    Str(String),
    /// Integer-backed types.
    I64(Option<i64>),
    /// Reals.
    F64(Option<f64>),
    /// Booleans.
    Bool(Option<bool>),
    /// Dynamic JSON text.
    Json(Option<String>),
}

fn build_column(rows: &[Record], c: &Col, bad: &mut Vec<usize>, times: &mut TimeReading) -> ArrayRef {
    let mut conv = |i: usize, r: &Record| -> Option<Converted> {
        let v = get(r, &c.name)?;
        let out = match v {
            // exported text: the file's locale order, `[Local Time]`, spreadsheet serial numbers
            Value::String(s) if c.ty == KqlType::DateTime && r.text => Converted::I64(times.parse(r, &c.name, s)),
            _ => convert_value(v, c.ty, r.text),
        };
        let failed = match &out {
            Converted::Str(_) => false,
            Converted::I64(x) => x.is_none() || (c.ty == KqlType::Int && x.is_some_and(|x| i32::try_from(x).is_err())),
            Converted::F64(x) => x.is_none(),
            Converted::Bool(x) => x.is_none(),
            Converted::Json(_) => false,
        };
        if failed && present(v) {
            bad.push(i);
        }
        Some(out)
    };
    match c.ty {
        KqlType::String | KqlType::Guid => {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
            for (i, r) in rows.iter().enumerate() {
                match conv(i, r) {
                    Some(Converted::Str(s)) => b.append_value(s),
                    _ => b.append_value(""),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Dynamic => {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 32);
            for (i, r) in rows.iter().enumerate() {
                match conv(i, r) {
                    Some(Converted::Json(Some(s))) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Int => {
            let mut b = Int32Builder::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                match conv(i, r) {
                    Some(Converted::I64(Some(x))) => b.append_option(i32::try_from(x).ok()),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Long | KqlType::DateTime | KqlType::TimeSpan => {
            let mut b = Int64Builder::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                match conv(i, r) {
                    Some(Converted::I64(x)) => b.append_option(x),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Real | KqlType::Decimal => {
            let mut b = Float64Builder::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                match conv(i, r) {
                    Some(Converted::F64(x)) => b.append_option(x),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Bool => {
            let mut b = BooleanBuilder::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                match conv(i, r) {
                    Some(Converted::Bool(x)) => b.append_option(x),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
    }
}
