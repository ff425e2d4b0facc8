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

/// Open a file, decompressing `.gz`; a byte-order mark at its start is not part of the data.
pub fn open(path: &Path) -> Result<Box<dyn Read>> {
    let f = std::fs::File::open(path).map_err(|e| cannot_read(path, &e))?;
    let f = std::io::BufReader::with_capacity(256 * 1024, f);
    let inner: Box<dyn BufRead> = if path.to_string_lossy().to_lowercase().ends_with(".gz") {
        Box::new(BufReader::with_capacity(64 * 1024, flate2::bufread::MultiGzDecoder::new(f)))
    } else {
        Box::new(f)
    };
    Ok(Box::new(SkipBom { inner, checked: false }))
}

/// The error for a data file that cannot be opened: which file, why, and what to do.
pub fn cannot_read(path: &Path, e: &std::io::Error) -> KqlError {
    let fix = match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "give the user running kql read permission on it (chmod +r), or move it out of the data folder"
        }
        std::io::ErrorKind::NotFound => {
            "it is gone, or a link to a file that is gone: restore it, or remove it from the data folder"
        }
        _ => "check the file, or move it out of the data folder",
    };
    KqlError::general("KQL102", format!("cannot read {}: {e}; {fix}", path.display()))
}

/// The UTF-8 byte-order mark.
pub(crate) const BOM: &[u8] = b"\xef\xbb\xbf";

/// A reader that drops a byte-order mark at the start of its input.
struct SkipBom {
    inner: Box<dyn BufRead>,
    checked: bool,
}

impl SkipBom {
    fn check(&mut self) -> std::io::Result<()> {
        if !self.checked {
            self.checked = true;
            if self.inner.fill_buf()?.starts_with(BOM) {
                self.inner.consume(BOM.len());
            }
        }
        Ok(())
    }
}

impl Read for SkipBom {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.check()?;
        self.inner.read(buf)
    }
}

impl BufRead for SkipBom {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.check()?;
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.inner.consume(n)
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
        match parse_text(line) {
            Ok(p) => {
                p.report(&file, line_no, report);
                push_value(p.value, &file, line_no, out, report, opts)?
            }
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
    let parsed = match std::str::from_utf8(&bytes) {
        Ok(text) => parse_text(text).map(|p| {
            p.report(file, line, report);
            p.value
        }),
        Err(_) => serde_json::from_slice::<Value>(&bytes),
    };
    match parsed {
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

/// A JSON text read as a record: its value, with what was not loaded as it is.
struct Parsed {
    value: Value,
    /// Top-level fields the text has more than once (the last value is kept).
    dups: Vec<String>,
    /// Numbers out of the range of a real, read as null: `(line within the text, number)`.
    nulled: Vec<(usize, String)>,
}

impl Parsed {
    /// Count and report what was not loaded, at `line` of `file` (the text's first line).
    fn report(&self, file: &Arc<Path>, line: usize, report: &mut LoadReport) {
        for k in &self.dups {
            report.duplicate(&Loc { file: file.clone(), line }, k);
        }
        for (l, n) in &self.nulled {
            let at = Loc { file: file.clone(), line: line + l - 1 };
            report.bad_value(Some(&at), format!("the number {} is out of the range of a real (null)", snippet(n)));
        }
    }
}

fn snippet(s: &str) -> String {
    if s.len() <= 40 {
        s.to_string()
    } else {
        format!("{}... ({} characters)", &s[..20], s.len())
    }
}

/// The most out-of-range numbers read as null in one text; past it, the text is an error.
const MAX_NULLED_NUMBERS: usize = 100;

/// Parse a JSON text (a line, or a whole document). Unlike `serde_json::from_str`, a number out
/// of the range of a real (`1e400`) is read as null instead of failing the whole record, and
/// the top-level fields an object has twice are listed (serde_json keeps the last silently).
/// Nesting deeper than serde_json's limit (128) is an error, never a deep recursion.
fn parse_text(text: &str) -> std::result::Result<Parsed, serde_json::Error> {
    let mut nulled = Vec::new();
    let mut owned: Option<String> = None;
    loop {
        let t = owned.as_deref().unwrap_or(text);
        match parse_top(t) {
            Ok((value, dups)) => return Ok(Parsed { value, dups, nulled }),
            Err(e) if e.to_string().starts_with("number out of range") && nulled.len() < MAX_NULLED_NUMBERS => {
                let Some((start, end)) = number_at(t, e.line(), e.column()) else { return Err(e) };
                nulled.push((e.line(), t[start..end].to_string()));
                let mut next = String::with_capacity(t.len());
                next.push_str(&t[..start]);
                next.push_str("null");
                next.push_str(&t[end..]);
                owned = Some(next);
            }
            Err(e) => return Err(e),
        }
    }
}

/// The byte range of the number token at or just before serde_json's error position.
fn number_at(t: &str, line: usize, column: usize) -> Option<(usize, usize)> {
    let line_start = if line <= 1 { 0 } else { t.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)? };
    let b = t.as_bytes();
    let is_num = |c: u8| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E');
    let mut i = (line_start + column.saturating_sub(1)).min(b.len().saturating_sub(1));
    while i > line_start && !is_num(b[i]) {
        i -= 1;
    }
    if !is_num(*b.get(i)?) {
        return None;
    }
    let (mut start, mut end) = (i, i + 1);
    while start > 0 && is_num(b[start - 1]) {
        start -= 1;
    }
    while end < b.len() && is_num(b[end]) {
        end += 1;
    }
    Some((start, end))
}

/// A JSON text as a value; for an object, the keys it has twice.
fn parse_top(t: &str) -> std::result::Result<(Value, Vec<String>), serde_json::Error> {
    if !t.trim_start().starts_with('{') {
        return serde_json::from_str(t).map(|v| (v, Vec::new()));
    }
    let mut dups = Vec::new();
    let mut de = serde_json::Deserializer::from_str(t);
    let m = serde::Deserializer::deserialize_map(&mut de, TopObject(&mut dups))?;
    de.end()?;
    Ok((Value::Object(m), dups))
}

/// Reads a top-level object, noting the keys it has twice.
struct TopObject<'a>(&'a mut Vec<String>);

impl<'de> serde::de::Visitor<'de> for TopObject<'_> {
    type Value = Map<String, Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v: Value = map.next_value()?;
            if m.insert(k.clone(), v).is_some() && !self.0.contains(&k) {
                self.0.push(k);
            }
        }
        Ok(m)
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
