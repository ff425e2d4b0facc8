//! Result formats: a terminal table, CSV, Kusto's JSON (`{"tables":[...]}`) and JSON lines.
//! Values print the way Kusto prints them: datetimes as ISO 8601 with 7 fractional digits,
//! timespans as `[-][d.]hh:mm:ss[.fffffff]`, dynamic values as JSON.

use crate::binder::Col;
use crate::functions::strfn::format_real;
use crate::schema::KqlType;
use crate::session::QueryResult;
use crate::value::datetime as dt;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type};
use serde_json::{json, Value};

/// A cell as JSON (Kusto's JSON result conventions).
pub fn cell_json(a: &ArrayRef, i: usize, ty: KqlType) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    match ty {
        KqlType::Bool => Value::Bool(a.as_boolean().value(i)),
        KqlType::Int => json!(a.as_primitive::<Int32Type>().value(i)),
        KqlType::Long => json!(a.as_primitive::<Int64Type>().value(i)),
        KqlType::Real | KqlType::Decimal => {
            let f = a.as_primitive::<Float64Type>().value(i);
            if f.is_finite() {
                json!(f)
            } else {
                Value::String(format_real(f))
            }
        }
        KqlType::DateTime => Value::String(dt::format_datetime_iso(a.as_primitive::<Int64Type>().value(i))),
        KqlType::TimeSpan => Value::String(dt::format_timespan(a.as_primitive::<Int64Type>().value(i))),
        KqlType::String | KqlType::Guid => Value::String(a.as_string::<i32>().value(i).to_string()),
        KqlType::Dynamic => serde_json::from_str(a.as_string::<i32>().value(i)).unwrap_or(Value::Null),
    }
}

/// A cell as text (CSV and tables).
pub fn cell_text(a: &ArrayRef, i: usize, ty: KqlType) -> String {
    if a.is_null(i) {
        return String::new();
    }
    match ty {
        KqlType::Bool => a.as_boolean().value(i).to_string(),
        KqlType::Int => a.as_primitive::<Int32Type>().value(i).to_string(),
        KqlType::Long => a.as_primitive::<Int64Type>().value(i).to_string(),
        KqlType::Real | KqlType::Decimal => format_real(a.as_primitive::<Float64Type>().value(i)),
        KqlType::DateTime => dt::format_datetime_iso(a.as_primitive::<Int64Type>().value(i)),
        KqlType::TimeSpan => dt::format_timespan(a.as_primitive::<Int64Type>().value(i)),
        KqlType::String | KqlType::Guid => a.as_string::<i32>().value(i).to_string(),
        KqlType::Dynamic => crate::value::dynamic::to_kql_string(a.as_string::<i32>().value(i)),
    }
}

/// Iterate rows as vectors of JSON cells.
pub fn rows_json(r: &QueryResult) -> Vec<Vec<Value>> {
    let mut out = Vec::with_capacity(r.num_rows());
    for b in &r.batches {
        for i in 0..b.num_rows() {
            out.push(r.cols.iter().enumerate().map(|(k, c)| cell_json(b.column(k), i, c.ty)).collect());
        }
    }
    out
}

/// Kusto's JSON result document.
pub fn to_json(r: &QueryResult) -> String {
    let cols: Vec<String> = r
        .cols
        .iter()
        .map(|c| format!("{{\"name\":{},\"type\":\"{}\"}}", Value::String(c.name.clone()), c.ty.name()))
        .collect();
    let rows: Vec<String> = rows_json(r).into_iter().map(|row| Value::Array(row).to_string()).collect();
    format!(
        "{{\"tables\":[{{\"name\":\"PrimaryResult\",\"columns\":[{}],\"rows\":[{}]}}]}}",
        cols.join(","),
        rows.join(",")
    )
}

/// One JSON object per row.
pub fn to_jsonl(r: &QueryResult) -> String {
    let mut s = String::new();
    for row in rows_json(r) {
        let obj: serde_json::Map<String, Value> = r.cols.iter().map(|c| c.name.clone()).zip(row).collect();
        s.push_str(&Value::Object(obj).to_string());
        s.push('\n');
    }
    s
}

/// CSV with a header row.
pub fn to_csv(r: &QueryResult) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(r.cols.iter().map(|c| c.name.as_str()));
    for b in &r.batches {
        for i in 0..b.num_rows() {
            let row: Vec<String> = r.cols.iter().enumerate().map(|(k, c)| cell_text(b.column(k), i, c.ty)).collect();
            let _ = w.write_record(&row);
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A table for the terminal: names and types in the header, long cells cut, at most
/// `max_rows` rows, fitted to `width` columns.
pub fn to_table(r: &QueryResult, max_rows: usize, width: Option<u16>) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    if let Some(w) = width {
        t.set_width(w);
    }
    t.set_header(r.cols.iter().map(|c: &Col| format!("{}\n{}", c.name, c.ty.name())));
    let mut shown = 0usize;
    'outer: for b in &r.batches {
        for i in 0..b.num_rows() {
            if shown >= max_rows {
                break 'outer;
            }
            t.add_row(r.cols.iter().enumerate().map(|(k, c)| {
                let s = cell_text(b.column(k), i, c.ty);
                if s.chars().count() > 60 {
                    format!("{}…", s.chars().take(59).collect::<String>())
                } else {
                    s
                }
            }));
            shown += 1;
        }
    }
    let total = r.num_rows();
    let mut s = t.to_string();
    s.push('\n');
    if total > shown {
        s.push_str(&format!("{total} rows ({} not shown)\n", total - shown));
    } else {
        s.push_str(&format!("{total} row{}\n", if total == 1 { "" } else { "s" }));
    }
    s
}
