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

/// How [`to_table_with`] lays out a terminal table.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// At most this many rows are printed; a note tells how many were left out.
    pub max_rows: usize,
    /// The terminal width: columns are narrowed (cells cut with `…`) and, when even that is not
    /// enough, columns at the end are left out, so that the table fits.
    pub width: Option<u16>,
    /// The widest a cell may be before it is cut, in characters.
    pub max_cell: usize,
    /// Shown under the table with the row count.
    pub elapsed: Option<std::time::Duration>,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions { max_rows: usize::MAX, width: None, max_cell: 60, elapsed: None }
    }
}

/// A table for the terminal: names and types in the header, long cells cut, at most
/// `max_rows` rows, fitted to `width` columns.
pub fn to_table(r: &QueryResult, max_rows: usize, width: Option<u16>) -> String {
    to_table_with(r, &TableOptions { max_rows, width, ..Default::default() })
}

fn cut(s: &str, width: usize) -> String {
    // one line per cell: control characters would break the grid
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.chars().count() <= width {
        clean
    } else {
        let mut t: String = clean.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A terminal table (see [`TableOptions`]), with the row count (and the elapsed time) under it.
pub fn to_table_with(r: &QueryResult, o: &TableOptions) -> String {
    let max_cell = o.max_cell.max(4);
    // the cells that will be shown, uncut
    let mut rows: Vec<Vec<String>> = Vec::new();
    'outer: for b in &r.batches {
        for i in 0..b.num_rows() {
            if rows.len() >= o.max_rows {
                break 'outer;
            }
            rows.push(r.cols.iter().enumerate().map(|(k, c)| cell_text(b.column(k), i, c.ty)).collect());
        }
    }
    let ncols = r.cols.len();
    // natural widths, capped
    let mut widths: Vec<usize> =
        r.cols.iter().map(|c: &Col| c.name.chars().count().max(c.ty.name().len()).min(max_cell)).collect();
    for row in &rows {
        for (k, cell) in row.iter().enumerate() {
            widths[k] = widths[k].max(cell.chars().count().min(max_cell));
        }
    }
    // fit: each column costs its width + 3 (padding and border), plus one border
    let mut shown_cols = ncols;
    if let Some(w) = o.width {
        let avail = (w as usize).max(20);
        let total = |ws: &[usize], n: usize| ws[..n].iter().map(|x| x + 3).sum::<usize>() + 1;
        const MIN: usize = 10;
        while total(&widths, shown_cols) > avail {
            // narrow the widest column that is still wider than MIN
            let widest = (0..shown_cols).filter(|&k| widths[k] > MIN).max_by_key(|&k| widths[k]);
            match widest {
                Some(k) => widths[k] -= 1,
                None => {
                    if shown_cols <= 1 {
                        break;
                    }
                    shown_cols -= 1;
                    // room for the "…" column that says columns were left out
                    while shown_cols > 1 && total(&widths, shown_cols) + 4 > avail {
                        shown_cols -= 1;
                    }
                    break;
                }
            }
        }
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
    let mut header: Vec<String> = r.cols[..shown_cols]
        .iter()
        .zip(&widths)
        .map(|(c, &w)| format!("{}\n{}", cut(&c.name, w), cut(c.ty.name(), w)))
        .collect();
    if shown_cols < ncols {
        header.push("…".to_string());
    }
    t.set_header(header);
    for row in &rows {
        let mut cells: Vec<String> = row[..shown_cols].iter().zip(&widths).map(|(s, &w)| cut(s, w)).collect();
        if shown_cols < ncols {
            cells.push("…".to_string());
        }
        t.add_row(cells);
    }
    let total = r.num_rows();
    let shown = rows.len();
    let mut s = if ncols > 0 { t.to_string() + "\n" } else { String::new() };
    let mut note = if total > shown {
        format!("{total} rows ({} not shown)", total - shown)
    } else {
        format!("{total} row{}", if total == 1 { "" } else { "s" })
    };
    if shown_cols < ncols {
        let left: Vec<&str> = r.cols[shown_cols..].iter().map(|c| c.name.as_str()).collect();
        note.push_str(&format!("; {} column(s) not shown: {}", ncols - shown_cols, cut(&left.join(", "), 80)));
    }
    if let Some(e) = o.elapsed {
        note.push_str(&format!(" in {}", format_elapsed(e)));
    }
    s.push_str(&note);
    s.push('\n');
    s
}

/// An elapsed time for people: `850 ms`, `1.24 s`, `2 min 5 s`.
pub fn format_elapsed(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{:.2} ms", ms)
    } else if ms < 1000.0 {
        format!("{:.0} ms", ms)
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let s = d.as_secs();
        format!("{} min {} s", s / 60, s % 60)
    }
}
