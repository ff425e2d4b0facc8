//! JSON lines and JSON arrays (optionally gzip-compressed) into records.

use super::{LoadOptions, LoadReport};
use crate::error::{KqlError, Result};
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// One input record: field name to value; `text` when the values are raw text (CSV).
#[derive(Debug, Clone)]
pub struct Record {
    /// The fields.
    pub fields: Map<String, Value>,
    /// True when string values are unparsed text from a text format.
    pub text: bool,
}

/// Open a file, decompressing `.gz`.
pub fn open(path: &Path) -> Result<Box<dyn Read>> {
    let f = std::fs::File::open(path).map_err(|e| KqlError::general("KQL102", format!("{}: {e}", path.display())))?;
    if path.to_string_lossy().to_lowercase().ends_with(".gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(f)))
    } else {
        Ok(Box::new(f))
    }
}

/// Read the records of a JSON-lines or JSON-array file. Malformed lines are skipped and
/// reported (an error with `strict`).
pub fn read_records(path: &Path, out: &mut Vec<Record>, report: &mut LoadReport, opts: &LoadOptions) -> Result<()> {
    let mut reader = BufReader::new(open(path)?);
    // Peek at the first non-space byte: `[` means a JSON array document, `{"records":` an envelope.
    let first = {
        let buf = reader.fill_buf().map_err(|e| KqlError::general("KQL103", format!("{}: {e}", path.display())))?;
        buf.iter().find(|b| !b.is_ascii_whitespace()).copied()
    };
    if first == Some(b'[') {
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|e| KqlError::general("KQL103", format!("{}: {e}", path.display())))?;
        return match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    push_value(item, path, i + 1, out, report, opts)?;
                }
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                if opts.strict {
                    return Err(KqlError::general("KQL104", format!("{}: invalid JSON: {e}", path.display())));
                }
                report.skip(path, e.line(), format!("invalid JSON array: {e}"));
                Ok(())
            }
        };
    }
    let mut line_no = 0usize;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = match reader.read_until(b'\n', &mut buf) {
            Ok(n) => n,
            Err(e) => {
                if opts.strict {
                    return Err(KqlError::general("KQL103", format!("{}: {e}", path.display())));
                }
                report.skip(path, line_no + 1, format!("read error: {e}"));
                break;
            }
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = match std::str::from_utf8(&buf) {
            Ok(s) => s.trim(),
            Err(_) => {
                if opts.strict {
                    return Err(KqlError::general("KQL105", format!("{}:{line_no}: invalid UTF-8", path.display())));
                }
                report.skip(path, line_no, "invalid UTF-8");
                continue;
            }
        };
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v) => push_value(v, path, line_no, out, report, opts)?,
            Err(e) => {
                if opts.strict {
                    return Err(KqlError::general(
                        "KQL104",
                        format!("{}:{line_no}: invalid JSON: {e}", path.display()),
                    ));
                }
                report.skip(path, line_no, format!("invalid JSON: {e}"));
            }
        }
    }
    Ok(())
}

fn push_value(
    v: Value,
    path: &Path,
    line: usize,
    out: &mut Vec<Record>,
    report: &mut LoadReport,
    opts: &LoadOptions,
) -> Result<()> {
    match v {
        Value::Object(mut m) => {
            // diagnostic-settings envelope: {"records": [...]}
            if m.len() == 1 {
                if let Some(Value::Array(items)) = m.get_mut("records") {
                    for item in std::mem::take(items) {
                        push_value(item, path, line, out, report, opts)?;
                    }
                    return Ok(());
                }
            }
            out.push(Record { fields: m, text: false });
            Ok(())
        }
        other => {
            if opts.strict {
                return Err(KqlError::general(
                    "KQL106",
                    format!("{}:{line}: expected a JSON object, found {}", path.display(), kind(&other)),
                ));
            }
            report.skip(path, line, format!("expected a JSON object, found {}", kind(&other)));
            Ok(())
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
