//! JSON lines and JSON documents (arrays, `{"records":[...]}` envelopes, a single pretty-printed
//! object), optionally gzip-compressed, into records.
//!
//! Lines are read with a cap ([`LoadOptions::max_line_bytes`]): a longer line is skipped and
//! reported while it is read, without holding it in memory. Invalid UTF-8, malformed JSON and a
//! truncated gzip stream are reported with their `file:line` and reading goes on (or stops, for a
//! truncated stream, after keeping what was read); with `strict` each is an error.

use super::{LoadOptions, LoadReport};
use crate::error::{KqlError, Result};
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

/// Where a record comes from.
#[derive(Debug, Clone)]
pub struct Loc {
    /// The file.
    pub file: Arc<Path>,
    /// The 1-based line (the line of the document start for multi-line documents).
    pub line: usize,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One input record: field name to value; `text` when the values are raw text (CSV).
#[derive(Debug, Clone)]
pub struct Record {
    /// The fields.
    pub fields: Map<String, Value>,
    /// True when string values are unparsed text from a text format.
    pub text: bool,
    /// Where it was read, when known.
    pub loc: Option<Loc>,
}

impl Record {
    /// A record of JSON values.
    pub fn json(fields: Map<String, Value>) -> Record {
        Record { fields, text: false, loc: None }
    }
}

/// Open a file, decompressing `.gz`.
pub fn open(path: &Path) -> Result<Box<dyn Read>> {
    let f = std::fs::File::open(path).map_err(|e| KqlError::general("KQL102", format!("{}: {e}", path.display())))?;
    let f = std::io::BufReader::with_capacity(256 * 1024, f);
    if path.to_string_lossy().to_lowercase().ends_with(".gz") {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(f)))
    } else {
        Ok(Box::new(f))
    }
}

/// Read one line (through `\n`) into `buf`, at most `cap` bytes of it: a longer line is consumed
/// but not kept (`buf` is left empty). Returns the bytes consumed and whether the line was too long.
pub(crate) fn read_line_capped<R: BufRead + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<(usize, bool)> {
    let mut total = 0usize;
    let mut too_long = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok((total, too_long));
        }
        let (n, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !too_long {
            if buf.len() + n > cap {
                too_long = true;
                buf.clear();
                buf.shrink_to(64 * 1024);
            } else {
                buf.extend_from_slice(&avail[..n]);
            }
        }
        r.consume(n);
        total += n;
        if done {
            return Ok((total, too_long));
        }
    }
}

fn fail(
    opts: &LoadOptions,
    report: &mut LoadReport,
    path: &Path,
    line: usize,
    code: &'static str,
    msg: String,
) -> Result<()> {
    if opts.strict {
        return Err(KqlError::general(code, format!("{}:{line}: {msg}", path.display())));
    }
    report.skip(path, line, msg);
    Ok(())
}

/// Read the records of a JSON-lines or JSON document file. Malformed lines are skipped and
/// reported (an error with `strict`).
pub fn read_records(path: &Path, out: &mut Vec<Record>, report: &mut LoadReport, opts: &LoadOptions) -> Result<()> {
    let file: Arc<Path> = Arc::from(path);
    let mut reader = BufReader::with_capacity(256 * 1024, open(path)?);
    report.files += 1;
    // Peek at the first non-space byte: `[` means a JSON array document.
    let first = match reader.fill_buf() {
        Ok(buf) => buf.iter().find(|b| !b.is_ascii_whitespace()).copied(),
        Err(e) => return fail(opts, report, path, 1, "KQL103", format!("read error: {e}")),
    };
    if first == Some(b'[') {
        return read_document(reader, &file, 1, out, report, opts);
    }
    let cap = opts.max_line_bytes();
    let mut line_no = 0usize;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let (n, too_long) = match read_line_capped(&mut reader, &mut buf, cap) {
            Ok(r) => r,
            Err(e) => {
                return fail(
                    opts,
                    report,
                    path,
                    line_no + 1,
                    "KQL103",
                    format!("read error (truncated or corrupt file?): {e}"),
                );
            }
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        report.bytes += n as u64;
        if too_long {
            fail(
                opts,
                report,
                path,
                line_no,
                "KQL107",
                format!("line of {n} bytes is longer than the limit of {cap} bytes"),
            )?;
            continue;
        }
        let line = match std::str::from_utf8(&buf) {
            Ok(s) => s.trim(),
            Err(e) => {
                fail(opts, report, path, line_no, "KQL105", format!("invalid UTF-8: {e}"))?;
                continue;
            }
        };
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v) => push_value(v, &file, line_no, out, report, opts)?,
            Err(e) if line_no == 1 && e.is_eof() && line.starts_with('{') => {
                // a pretty-printed document (`{"records": [` over many lines): read it whole
                let mut rest = std::mem::take(&mut buf);
                if let Err(e) = reader.read_to_end(&mut rest) {
                    return fail(
                        opts,
                        report,
                        path,
                        1,
                        "KQL103",
                        format!("read error (truncated or corrupt file?): {e}"),
                    );
                }
                report.bytes += (rest.len() - n) as u64;
                return read_document(std::io::Cursor::new(rest), &file, 1, out, report, opts);
            }
            Err(e) => fail(opts, report, path, line_no, "KQL104", format!("invalid JSON: {e}"))?,
        }
    }
    Ok(())
}

fn read_document(
    mut reader: impl Read,
    file: &Arc<Path>,
    line: usize,
    out: &mut Vec<Record>,
    report: &mut LoadReport,
    opts: &LoadOptions,
) -> Result<()> {
    let path: &Path = file;
    let mut bytes = Vec::new();
    if let Err(e) = reader.read_to_end(&mut bytes) {
        return fail(opts, report, path, line, "KQL103", format!("read error (truncated or corrupt file?): {e}"));
    }
    report.bytes += bytes.len() as u64;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(items)) => {
            for item in items {
                push_value(item, file, line, out, report, opts)?;
            }
            Ok(())
        }
        Ok(v) => push_value(v, file, line, out, report, opts),
        Err(e) => {
            let msg = match std::str::from_utf8(&bytes) {
                Err(u) => format!("invalid UTF-8: {u}"),
                Ok(_) => format!("invalid JSON document: {e}"),
            };
            fail(opts, report, path, e.line().max(line), "KQL104", msg)
        }
    }
}

fn push_value(
    v: Value,
    file: &Arc<Path>,
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
                        push_value(item, file, line, out, report, opts)?;
                    }
                    return Ok(());
                }
            }
            out.push(Record { fields: m, text: false, loc: Some(Loc { file: file.clone(), line }) });
            Ok(())
        }
        other => {
            let msg = format!("expected a JSON object, found {}", kind(&other));
            fail(opts, report, file, line, "KQL106", msg)
        }
    }
}

/// What a JSON value is, for messages ("an array", ...).
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
