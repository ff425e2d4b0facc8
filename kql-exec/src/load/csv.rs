//! CSV with a header row into records of text values, including the portal's "Export to CSV"
//! (`TimeGenerated [UTC]` headers, US-locale datetimes such as `2/25/2025, 9:19:25.391 AM`,
//! dynamic values as JSON text). Values are typed later, by the table's schema
//! ([`super::convert`]): an empty field is null (or `""` in a string column).

use super::json::{open, Loc, Record};
use super::{LoadOptions, LoadReport};
use crate::error::{KqlError, Result};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

/// Clean a portal header: `TimeGenerated [UTC]` and `TimeGenerated [Local Time]` are
/// `TimeGenerated`.
pub fn clean_header(h: &str) -> String {
    header_and_zone(h).0
}

/// A portal header's column name, and whether its values are the exporter's local times
/// (`[Local Time]`) rather than UTC (`[UTC]`, or no suffix).
pub fn header_and_zone(h: &str) -> (String, bool) {
    let h = h.trim().trim_start_matches('\u{feff}');
    if let Some(s) = h.strip_suffix("[UTC]") {
        return (s.trim().to_string(), false);
    }
    match h.strip_suffix("[Local Time]") {
        Some(s) => (s.trim().to_string(), true),
        None => (h.to_string(), false),
    }
}

/// Read the records of a CSV file with a header row.
pub fn read_records(path: &Path, out: &mut Vec<Record>, report: &mut LoadReport, opts: &LoadOptions) -> Result<()> {
    let file: Arc<Path> = Arc::from(path);
    report.files += 1;
    let mut rdr = ::csv::ReaderBuilder::new().flexible(true).from_reader(open(path)?);
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h
            .iter()
            .map(|h| {
                let (name, local) = header_and_zone(h);
                if local {
                    report.local_time.push((file.clone(), name.clone()));
                }
                name
            })
            .collect(),
        Err(e) => {
            let msg = format!("cannot read the CSV header: {e}");
            if opts.strict {
                return Err(KqlError::general("KQL107", format!("{}:1: {msg}", path.display())));
            }
            report.skip(path, 1, msg);
            return Ok(());
        }
    };
    let cap = opts.max_line_bytes();
    let mut rec = ::csv::ByteRecord::new();
    loop {
        let line = rdr.position().line() as usize;
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let line = rec.position().map(|p| p.line() as usize).unwrap_or(line);
                if rec.as_slice().len() > cap {
                    let msg =
                        format!("record of {} bytes is longer than the limit of {cap} bytes", rec.as_slice().len());
                    skip_or_fail(opts, report, path, line, msg)?;
                    continue;
                }
                let mut m = Map::new();
                let mut bad = None;
                for (k, v) in headers.iter().zip(rec.iter()) {
                    match std::str::from_utf8(v) {
                        Ok(s) => {
                            m.insert(k.clone(), Value::String(s.to_string()));
                        }
                        Err(e) => {
                            bad = Some(format!("invalid UTF-8 in field `{k}`: {e}"));
                            break;
                        }
                    }
                }
                if let Some(msg) = bad {
                    skip_or_fail(opts, report, path, line, msg)?;
                    continue;
                }
                out.push(Record { fields: m, text: true, loc: Some(Loc { file: file.clone(), line }) });
            }
            Err(e) => {
                let io = matches!(e.kind(), ::csv::ErrorKind::Io(_));
                let line = e.position().map(|p| p.line() as usize).unwrap_or(line.max(1));
                let msg = if io { format!("read error (truncated or corrupt file?): {e}") } else { e.to_string() };
                skip_or_fail(opts, report, path, line, msg)?;
                if io {
                    break;
                }
            }
        }
    }
    report.bytes += rdr.position().byte();
    Ok(())
}

fn skip_or_fail(opts: &LoadOptions, report: &mut LoadReport, path: &Path, line: usize, msg: String) -> Result<()> {
    if opts.strict {
        return Err(KqlError::general("KQL108", format!("{}:{line}: {msg}", path.display())));
    }
    report.skip(path, line, msg);
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
