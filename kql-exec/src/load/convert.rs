//! JSON and text values to KQL-typed Arrow columns, with schema types when known and
//! consistent inference (widening across rows) when not.

use super::json::Record;
use crate::binder::Col;
use crate::error::{KqlError, Result};
use crate::schema::{KqlType, TableSchema};
use crate::types::arrow_type;
use crate::value::datetime as dt;
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
            } else if looks_like_datetime(s) || dt::parse_datetime(s).is_some() && s.contains(':') && s.contains('/') {
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

/// Build typed columns and batches from records.
pub fn to_batches(records: &[Record], schema: Option<&TableSchema>) -> Result<(Vec<Col>, Vec<RecordBatch>)> {
    let mut cols: Vec<Col> =
        schema.map(|s| s.columns.iter().map(|(n, t)| Col::new(n, *t)).collect()).unwrap_or_default();
    let known = cols.len();
    // extra columns, in first-seen order, with inferred and widened types
    let mut extra: Vec<(String, Option<KqlType>)> = Vec::new();
    for r in records {
        for (k, v) in &r.fields {
            if cols[..known].iter().any(|c| &c.name == k) {
                continue;
            }
            let t = value_type(v, r.text);
            match extra.iter_mut().find(|(n, _)| n == k) {
                Some((_, cur)) => {
                    *cur = match (*cur, t) {
                        (Some(a), Some(b)) => Some(widen(a, b)),
                        (a, b) => a.or(b),
                    }
                }
                None => extra.push((k.clone(), t)),
            }
        }
    }
    for (n, t) in extra {
        cols.push(Col::new(n, t.unwrap_or(KqlType::String)));
    }
    let schema_ref =
        Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    let mut batches = Vec::new();
    for chunk in records.chunks(BATCH_ROWS) {
        let arrays: Vec<ArrayRef> = cols.iter().map(|c| build_column(chunk, c)).collect();
        batches.push(
            RecordBatch::try_new(schema_ref.clone(), arrays)
                .map_err(|e| KqlError::general("KQL109", format!("building a batch: {e}")))?,
        );
    }
    Ok((cols, batches))
}

fn get<'a>(r: &'a Record, name: &str) -> Option<&'a Value> {
    r.fields.get(name)
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
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => {
                let t = s.trim();
                t.parse::<i64>().ok().or_else(|| t.parse::<f64>().ok().map(|f| f as i64))
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
        KqlType::Dynamic => Converted::Json(match v {
            Value::Null => None,
            Value::String(s) if text => {
                if s.is_empty() {
                    None
                } else {
                    dj::parse_json(s)
                }
            }
            other => Some(other.to_string()),
        }),
    }
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

fn build_column(rows: &[Record], c: &Col) -> ArrayRef {
    match c.ty {
        KqlType::String | KqlType::Guid => {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
            for r in rows {
                match get(r, &c.name).map(|v| convert_value(v, c.ty, r.text)) {
                    Some(Converted::Str(s)) => b.append_value(s),
                    _ => b.append_value(""),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Dynamic => {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 32);
            for r in rows {
                match get(r, &c.name).map(|v| convert_value(v, c.ty, r.text)) {
                    Some(Converted::Json(Some(s))) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Int => {
            let mut b = Int32Builder::with_capacity(rows.len());
            for r in rows {
                match get(r, &c.name).map(|v| convert_value(v, c.ty, r.text)) {
                    Some(Converted::I64(Some(x))) => b.append_option(i32::try_from(x).ok()),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Long | KqlType::DateTime | KqlType::TimeSpan => {
            let mut b = Int64Builder::with_capacity(rows.len());
            for r in rows {
                match get(r, &c.name).map(|v| convert_value(v, c.ty, r.text)) {
                    Some(Converted::I64(x)) => b.append_option(x),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Real | KqlType::Decimal => {
            let mut b = Float64Builder::with_capacity(rows.len());
            for r in rows {
                match get(r, &c.name).map(|v| convert_value(v, c.ty, r.text)) {
                    Some(Converted::F64(x)) => b.append_option(x),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KqlType::Bool => {
            let mut b = BooleanBuilder::with_capacity(rows.len());
            for r in rows {
                match get(r, &c.name).map(|v| convert_value(v, c.ty, r.text)) {
                    Some(Converted::Bool(x)) => b.append_option(x),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
    }
}
