//! Sentinel watchlists: a CSV file served as `_GetWatchlist('alias')`.
//!
//! In Sentinel a watchlist is a CSV uploaded with one column chosen as its search key;
//! `_GetWatchlist(alias)` returns one row per item with the columns `_DTItemId`,
//! `LastUpdatedTimeUTC`, `SearchKey`, `WatchlistItem` (the whole item as a dynamic bag) and then
//! every column of the CSV, all strings. Locally the CSV is the watchlist export (or the file
//! that was uploaded); the search key is its first column unless another is named.

use crate::load::{Col, LoadedTable};
use crate::schema::KqlType;
use crate::types::arrow_type;
use crate::value::dynamic::json_string;
use crate::KqlError;
use datafusion::arrow::array::{ArrayRef, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use std::path::Path;
use std::sync::Arc;

/// The internal table name under which watchlist `alias` is registered.
pub fn table_name(alias: &str) -> String {
    format!("_Watchlist:{}", alias.to_ascii_lowercase())
}

/// `alias` or `alias:SearchKeyColumn`, as `--watchlist` and test files write it.
pub fn parse_spec(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once(':') {
        Some((alias, key)) => (alias, Some(key)),
        None => (spec, None),
    }
}

/// The leading columns of every watchlist, before the CSV's own.
pub const FIXED_COLUMNS: [(&str, KqlType); 4] = [
    ("_DTItemId", KqlType::String),
    ("LastUpdatedTimeUTC", KqlType::DateTime),
    ("SearchKey", KqlType::String),
    ("WatchlistItem", KqlType::Dynamic),
];

/// Read watchlist `alias` from the CSV at `path` (header row first); `search_key` names the
/// search-key column (default: the first). `updated` is the `LastUpdatedTimeUTC` of every item
/// (ticks; the file's modification time is a good choice).
pub fn load_watchlist(
    alias: &str,
    path: &Path,
    search_key: Option<&str>,
    updated: i64,
) -> Result<LoadedTable, KqlError> {
    let fail = |m: String| KqlError::general("KQL120", format!("watchlist `{alias}`: {}: {m}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> =
        reader.headers().map_err(|e| fail(e.to_string()))?.iter().map(|h| h.trim().to_string()).collect();
    if header.is_empty() || header.iter().all(|h| h.is_empty()) {
        return Err(fail("no header row (the first line names the columns)".into()));
    }
    let key = match search_key {
        None => 0,
        Some(k) => header.iter().position(|h| h.eq_ignore_ascii_case(k)).ok_or_else(|| {
            fail(format!("no column `{k}` to use as the search key (columns: {})", header.join(", ")))
        })?,
    };
    let mut cols: Vec<Col> = FIXED_COLUMNS.iter().map(|(n, t)| Col::new(*n, *t)).collect();
    for h in &header {
        if cols.iter().any(|c| c.name == *h) {
            return Err(fail(format!("column `{h}` appears twice or clashes with a watchlist column")));
        }
        cols.push(Col::new(h.clone(), KqlType::String));
    }
    let mut ids = StringBuilder::new();
    let mut times = Int64Builder::new();
    let mut keys = StringBuilder::new();
    let mut items = StringBuilder::new();
    let mut values: Vec<StringBuilder> = header.iter().map(|_| StringBuilder::new()).collect();
    let mut rows = 0usize;
    for (n, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| fail(format!("line {}: {e}", n + 2)))?;
        if rec.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        rows += 1;
        ids.append_value(format!("{alias}-{rows:06}"));
        times.append_value(updated);
        keys.append_value(rec.get(key).unwrap_or(""));
        let mut bag = String::from("{");
        for (i, h) in header.iter().enumerate() {
            let v = rec.get(i).unwrap_or("");
            if i > 0 {
                bag.push(',');
            }
            bag.push_str(&json_string(h));
            bag.push(':');
            bag.push_str(&json_string(v));
            values[i].append_value(v);
        }
        bag.push('}');
        items.append_value(bag);
    }
    let mut arrays: Vec<ArrayRef> =
        vec![Arc::new(ids.finish()), Arc::new(times.finish()), Arc::new(keys.finish()), Arc::new(items.finish())];
    arrays.extend(values.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    let schema =
        Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    let batch = RecordBatch::try_new(schema, arrays).map_err(|e| fail(e.to_string()))?;
    let report = crate::load::LoadReport { rows, files: 1, bytes: text.len() as u64, ..Default::default() };
    Ok(LoadedTable { name: table_name(alias), cols, batches: vec![batch], report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watchlist_has_the_sentinel_columns_then_its_own() {
        let dir = std::env::temp_dir().join(format!("kql-watchlist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("vip.csv");
        std::fs::write(&p, "\u{feff}User,Department\nalice@contoso.com,Finance\n\nbob@contoso.com,\"R&D, Labs\"\n")
            .unwrap();
        let t = load_watchlist("VIPUsers", &p, Some("user"), 7).unwrap();
        let names: Vec<&str> = t.cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["_DTItemId", "LastUpdatedTimeUTC", "SearchKey", "WatchlistItem", "User", "Department"]);
        assert_eq!(t.report.rows, 2);
        let b = &t.batches[0];
        let s = |c: usize, r: usize| {
            b.column(c).as_any().downcast_ref::<datafusion::arrow::array::StringArray>().unwrap().value(r).to_string()
        };
        assert_eq!(s(2, 1), "bob@contoso.com");
        assert_eq!(s(3, 1), r#"{"User":"bob@contoso.com","Department":"R&D, Labs"}"#);
        match load_watchlist("VIPUsers", &p, Some("Nope"), 7) {
            Err(e) => assert!(e.message.contains("Department"), "{}", e.message),
            Ok(_) => panic!("a missing search-key column must be an error"),
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
