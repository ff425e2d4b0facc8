//! CSV with a header row into records of text values, including the portal's "Export to CSV"
//! (`TimeGenerated [UTC]` headers).

use super::json::{open, Record};
use super::{LoadOptions, LoadReport};
use crate::error::{KqlError, Result};
use serde_json::{Map, Value};
use std::path::Path;

/// Clean a portal header: `TimeGenerated [UTC]` is `TimeGenerated`.
pub fn clean_header(h: &str) -> String {
    let h = h.trim().trim_start_matches('\u{feff}');
    match h.strip_suffix(" [UTC]").or_else(|| h.strip_suffix("[UTC]")) {
        Some(s) => s.trim().to_string(),
        None => h.to_string(),
    }
}

/// Read the records of a CSV file with a header row.
pub fn read_records(path: &Path, out: &mut Vec<Record>, report: &mut LoadReport, opts: &LoadOptions) -> Result<()> {
    let mut rdr = ::csv::ReaderBuilder::new().flexible(true).from_reader(open(path)?);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| KqlError::general("KQL107", format!("{}: cannot read the CSV header: {e}", path.display())))?
        .iter()
        .map(clean_header)
        .collect();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        match rec {
            Ok(r) => {
                let mut m = Map::new();
                for (k, v) in headers.iter().zip(r.iter()) {
                    m.insert(k.clone(), Value::String(v.to_string()));
                }
                out.push(Record { fields: m, text: true });
            }
            Err(e) => {
                if opts.strict {
                    return Err(KqlError::general("KQL108", format!("{}:{line}: {e}", path.display())));
                }
                report.skip(path, line, e);
            }
        }
    }
    Ok(())
}

/// Read a CSV file into rows of text (no header handling), for `externaldata`.
pub fn read_rows(path: &Path, has_header: bool) -> Result<Vec<Vec<String>>> {
    let mut rdr = ::csv::ReaderBuilder::new().flexible(true).has_headers(has_header).from_reader(open(path)?);
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let r = rec.map_err(|e| KqlError::general("KQL108", format!("{}: {e}", path.display())))?;
        rows.push(r.iter().map(|s| s.to_string()).collect());
    }
    Ok(rows)
}
