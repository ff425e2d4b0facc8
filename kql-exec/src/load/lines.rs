//! Typed JSON-lines decoding: each line is parsed once, straight into the Arrow builders of the
//! columns wanted, in parallel over byte ranges of the files.
//!
//! This is the loader's fast path for the common case: JSON-lines files (gzip or not) of a table
//! whose schema is known, holding plain records (not Defender XDR or diagnostic-settings
//! envelopes, which need reshaping first and go through [`super::json`]). [`plan`] decides whether
//! a table qualifies and fixes its columns: the schema's, then any other field seen in the first
//! records (typed by the same inference as the general path). A field first seen later is not a
//! column; it is reported once per name (nothing is dropped silently).
//!
//! A line is read by the validating scanner of [`crate::value::dynamic`] ([`dj::Members`]: string
//! ends found sixteen bytes at a time) into borrowed raw slices, one per wanted column; the fields
//! not wanted are validated and skipped without building anything. When the scanner is unsure
//! (or the line is invalid), serde_json decides and words the error. Each raw value is then
//! converted to its column's type with exactly the rules of [`super::convert::convert_value`]
//! (dynamic values take the canonical text of [`crate::value::dynamic::parse_json`]; whether a
//! value is canonical already is found while it is scanned). For a streamed scan, a dynamic
//! column read only through constant paths keeps just the members those paths need
//! ([`LineDecoder::with_members`], see [`super::paths`]), and a row whose time falls outside a
//! pushed-down window is dropped as soon as its time field is read, the rest of the line unread
//! (as export files outside the window are never opened).
//!
//! Work is split into [`Piece`]s: contiguous byte ranges of uncompressed files (a range owns the
//! lines that start in it) and whole compressed files, assigned to `n` parts by position so that
//! concatenating the parts in order gives the rows in file order. The same decoding serves a
//! full load ([`load_all`], one thread per part) and the streaming scan of
//! [`super::scan`] (one DataFusion partition per part, for larger-than-memory inputs).

use super::json::{read_line_capped, Loc};
use super::{convert, LoadOptions, LoadReport};
use crate::binder::Col;
use crate::error::{KqlError, Result};
use crate::schema::{KqlType, TableSchema};
use crate::types::arrow_type;
use crate::value::datetime as dt;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Records looked at in the first file to find fields beyond the schema.
const SAMPLE_LINES: usize = 1000;

/// A first file larger than this is also sampled at [`SPREAD_SAMPLES`] places through it: a
/// wide, sparse table (AzureDiagnostics, where each resource type fills columns of its own) can
/// have fields that its first lines lack.
const SPREAD_SAMPLE_MIN_BYTES: u64 = 1 << 20;

/// How many places through a big first file are sampled, and lines at each.
const SPREAD_SAMPLES: (u64, usize) = (16, 16);

/// Rows per batch produced.
pub const LINE_BATCH_ROWS: usize = 8192;

/// Smallest byte range worth giving to a part of its own.
const MIN_PIECE_BYTES: u64 = 4 << 20;

/// The columns of a JSON-lines table and how record fields map to them.
#[derive(Debug)]
pub struct LineLayout {
    /// The table name.
    pub name: String,
    /// All columns, in order.
    pub cols: Vec<Col>,
    /// The files, in order, with their sizes.
    pub files: Vec<(PathBuf, u64)>,
    index: HashMap<Box<str>, usize>,
    /// `(TimeGenerated, Timestamp)`: fill the first from the second when a row lacks it.
    time_fill: Option<(usize, usize)>,
}

impl LineLayout {
    /// The Arrow schema of all columns.
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(self.cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()))
    }

    /// Total bytes of the files (compressed size for `.gz`).
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|(_, n)| n).sum()
    }
}

fn is_gz(p: &Path) -> bool {
    p.to_string_lossy().to_lowercase().ends_with(".gz")
}

fn is_json_lines_name(p: &Path) -> bool {
    let n = p.to_string_lossy().to_lowercase();
    let n = n.strip_suffix(".gz").unwrap_or(&n);
    n.ends_with(".json") || n.ends_with(".jsonl") || n.ends_with(".ndjson")
}

/// Decide whether `files` can be read by the line decoder, and with which columns: every file
/// is JSON lines whose first record is a plain object (not an XDR or diagnostic-settings
/// envelope), and the table's schema is known. `None` sends the table to the general loader.
pub fn plan(name: &str, files: &[PathBuf], schema: Option<&TableSchema>, opts: &LoadOptions) -> Option<LineLayout> {
    let schema = schema?;
    if files.is_empty() {
        return None;
    }
    let mut sample: Vec<super::json::Record> = Vec::new();
    let mut sized = Vec::with_capacity(files.len());
    let known: std::collections::HashSet<&str> = schema.columns.iter().map(|(n, _)| n.as_str()).collect();
    for (i, f) in files.iter().enumerate() {
        if !is_json_lines_name(f) {
            return None;
        }
        let size = std::fs::metadata(f).ok()?.len();
        sized.push((f.clone(), size));
        let want = if i == 0 { SAMPLE_LINES } else { 1 };
        let mut got = sample_records(f, want, opts.max_line_bytes(), &known)?;
        if i == 0 && got.len() == want && !is_gz(f) && size > SPREAD_SAMPLE_MIN_BYTES {
            got.extend(spread_records(f, size, opts.max_line_bytes(), &known));
        }
        for m in got {
            if super::xdr::is_xdr(&m) || super::diagnostics::is_envelope(&m) {
                return None;
            }
            sample.push(super::json::Record::json(m));
        }
    }
    let cols = convert::infer_columns(&sample, Some(schema));
    let index: HashMap<Box<str>, usize> = cols.iter().enumerate().map(|(i, c)| (c.name.as_str().into(), i)).collect();
    let pos = |n: &str| cols.iter().position(|c| c.name == n);
    let time_fill = match (pos("TimeGenerated"), pos("Timestamp")) {
        (Some(a), Some(b)) if schema.column("TimeGenerated").is_some() && schema.column("Timestamp").is_some() => {
            Some((a, b))
        }
        _ => None,
    };
    Some(LineLayout { name: name.to_string(), cols, files: sized, index, time_fill })
}

/// The first `n` records of a file, or `None` when its first record is not a one-line JSON
/// object (a JSON array, a pretty-printed document, or not JSON: left to the general loader).
fn sample_records(
    path: &Path,
    n: usize,
    cap: usize,
    known: &std::collections::HashSet<&str>,
) -> Option<Vec<serde_json::Map<String, serde_json::Value>>> {
    let mut r = BufReader::with_capacity(64 * 1024, super::json::open(path).ok()?);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut first = true;
    while out.len() < n {
        buf.clear();
        let (read, too_long) = match read_line_capped(&mut r, &mut buf, cap) {
            Ok(x) => x,
            Err(_) if !first => break,
            Err(_) => return None,
        };
        if read == 0 {
            break;
        }
        if too_long {
            continue;
        }
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let fields = sample_fields(line, known).map(serde_json::Value::Object).ok_or(()).or_else(|_| {
            // the scanner is unsure (or the line is not an object): serde_json decides
            serde_json::from_slice::<serde_json::Value>(line).map_err(|_| ())
        });
        match fields {
            Ok(serde_json::Value::Object(m)) => {
                // a lone `{"records": [...]}` envelope needs the general loader
                if m.len() == 1 && m.contains_key("records") {
                    return None;
                }
                out.push(m)
            }
            _ if first => return None,
            _ => {}
        }
        first = false;
    }
    if first {
        // an empty file: nothing to decide by, but nothing to mis-read either
        return Some(out);
    }
    Some(out)
}

/// Records read at [`SPREAD_SAMPLES`] places through an uncompressed file of `size` bytes (each
/// after the line the place falls in); lines that do not parse as objects are left out.
fn spread_records(
    path: &Path,
    size: u64,
    cap: usize,
    known: &std::collections::HashSet<&str>,
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let (places, lines) = SPREAD_SAMPLES;
    let mut out = Vec::new();
    let Ok(file) = std::fs::File::open(path) else { return out };
    let mut r = BufReader::with_capacity(64 * 1024, file);
    let mut buf = Vec::new();
    for k in 1..places {
        if r.seek(SeekFrom::Start(size * k / places)).is_err() {
            break;
        }
        buf.clear();
        // the rest of the line the place falls in
        if read_line_capped(&mut r, &mut buf, 0).is_err() {
            break;
        }
        for _ in 0..lines {
            buf.clear();
            match read_line_capped(&mut r, &mut buf, cap) {
                Ok((0, _)) | Err(_) => break,
                Ok((_, true)) => continue,
                Ok(_) => {}
            }
            let line = buf.trim_ascii();
            let fields = sample_fields(line, known).or_else(|| match serde_json::from_slice(line) {
                Ok(serde_json::Value::Object(m)) => Some(m),
                _ => None,
            });
            out.extend(fields);
        }
    }
    out
}

/// The fields of the top-level names that export envelopes are recognized by (see
/// [`super::xdr::is_xdr`], [`super::diagnostics::is_envelope`]), in lower case.
const ENVELOPE_FIELDS: [&str; 7] =
    ["properties", "category", "time", "resourceid", "operationname", "records", "timegenerated"];

/// A sampled line's fields as [`plan`] needs them, read by the line scanner: the values of the
/// schema's columns (`known`) are not built (their type is the schema's), except those of the
/// fields export envelopes are recognized by; the others are parsed to infer their type. `None`
/// when the line is not a valid JSON object (or the scanner is unsure).
fn sample_fields(
    line: &[u8],
    known: &std::collections::HashSet<&str>,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let text = simdutf8::basic::from_utf8(line).ok()?;
    let mut m = dj::Members::new(text)?;
    let mut out = serde_json::Map::new();
    while let Some((k, esc)) = m.next_key()? {
        let key = if esc { dj::member_key(k, true)?.into_owned() } else { k.to_string() };
        let raw = m.value()?;
        let value = if known.contains(key.as_str()) && !ENVELOPE_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(&key)) {
            serde_json::Value::Null
        } else {
            serde_json::from_str(raw).ok()?
        };
        out.insert(key, value);
    }
    m.finish()?;
    Some(out)
}

/// A piece of work: lines starting in `[start, end)` of a file (the whole file for `.gz`).
#[derive(Debug, Clone)]
pub struct Piece {
    /// Index of the file in [`LineLayout::files`].
    pub file: usize,
    /// First byte (0 for a whole file).
    pub start: u64,
    /// End byte (exclusive); `u64::MAX` for a whole compressed file.
    pub end: u64,
}

/// Split the files into at most `n` parts of about equal bytes, each a list of pieces, such that
/// the parts in order cover the files in order.
pub fn split(layout: &LineLayout, n: usize) -> Vec<Vec<Piece>> {
    let n = n.max(1);
    let total = layout.total_bytes().max(1);
    let per = total.div_ceil(n as u64).max(MIN_PIECE_BYTES);
    let mut parts: Vec<Vec<Piece>> = vec![Vec::new()];
    let mut filled = 0u64; // bytes in the current part
    for (i, (path, size)) in layout.files.iter().enumerate() {
        if is_gz(path) || *size == 0 {
            if filled >= per && parts.len() < n {
                parts.push(Vec::new());
                filled = 0;
            }
            parts.last_mut().expect("a part").push(Piece { file: i, start: 0, end: u64::MAX });
            filled += size;
            continue;
        }
        let mut at = 0u64;
        while at < *size {
            if filled >= per && parts.len() < n {
                parts.push(Vec::new());
                filled = 0;
            }
            let room = if parts.len() < n { per - filled } else { u64::MAX };
            let take = room.min(size - at);
            parts.last_mut().expect("a part").push(Piece { file: i, start: at, end: at + take });
            at += take;
            filled += take;
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// The size of the pieces [`split_interleaved`] deals out.
const INTERLEAVED_PIECE_BYTES: u64 = 32 << 20;

/// Split the files into at most `n` parts for a parallel scan: pieces of about 32 MB dealt out
/// in turn (piece `k` to part `k % n`; a compressed file is one piece). Logs are written in time
/// order, so the rows of the stretch of time a query reads lie together; dealt out this way they
/// are spread over every part, and no core idles while another decodes the last day alone. The
/// parts in order do not cover the files in order (see [`split`] for that).
pub fn split_interleaved(layout: &LineLayout, n: usize) -> Vec<Vec<Piece>> {
    let n = n.max(1);
    let mut pieces = Vec::new();
    for (i, (path, size)) in layout.files.iter().enumerate() {
        if is_gz(path) || *size == 0 {
            pieces.push(Piece { file: i, start: 0, end: u64::MAX });
            continue;
        }
        let mut at = 0u64;
        while at < *size {
            let take = INTERLEAVED_PIECE_BYTES.min(size - at);
            pieces.push(Piece { file: i, start: at, end: at + take });
            at += take;
        }
    }
    let mut parts: Vec<Vec<Piece>> = vec![Vec::new(); n.min(pieces.len()).max(1)];
    let count = parts.len();
    for (k, piece) in pieces.into_iter().enumerate() {
        parts[k % count].push(piece);
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// Where a field goes while a line is read: a slot of the wanted columns, skipped, or unknown.
#[derive(Clone, Copy)]
enum Target {
    Slot(u32),
    Skip,
    Unknown,
}

/// Finds where a field goes. Records of a table nearly always list their fields in the same
/// order, so the `i`-th key of a line is first compared with the `i`-th key of the previous line
/// (`order`), and looked up in the index only when that guess fails.
struct KeySeed<'a> {
    layout: &'a LineLayout,
    slot_of: &'a [u32],
    order: &'a mut Vec<Seen>,
    i: usize,
}

const NO_SLOT: u32 = u32::MAX;

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = (Target, Option<Box<str>>);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = (Target, Option<Box<str>>);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: serde::de::Error>(self, k: &str) -> std::result::Result<Self::Value, E> {
        let target = target_of(self.layout, self.slot_of, self.order, self.i, k);
        Ok((target, matches!(target, Target::Unknown).then(|| k.into())))
    }
}

/// Where the `i`-th field of a line, named `k`, goes (see [`KeySeed`] for the order guess).
#[inline]
fn target_of(layout: &LineLayout, slot_of: &[u32], order: &mut Vec<Seen>, i: usize, k: &str) -> Target {
    if let Some(seen) = order.get(i) {
        if dj::same_key(&seen.name, k) {
            return seen.target;
        }
    }
    let target = match layout.index.get(k) {
        Some(&c) if slot_of[c] != NO_SLOT => Target::Slot(slot_of[c]),
        Some(_) => Target::Skip,
        None => Target::Unknown,
    };
    if i < 256 {
        order.truncate(i);
        order.push(Seen { name: k.into(), target, plain: dj::is_plain_key(k) });
    }
    target
}

/// A field of the previous line (see [`KeySeed`]): its name, where it went, and whether the name
/// is plain (has no character JSON escapes), so that the next line's raw key can be matched with
/// it byte for byte ([`dj::Members::next_key_hinted`]).
struct Seen {
    name: Box<str>,
    target: Target,
    plain: bool,
}

/// Remembers an unknown field's name (the first 64 distinct names).
fn note_unknown(unknown: &mut Vec<Box<str>>, k: &str) {
    if unknown.len() < 64 && !unknown.iter().any(|u| **u == *k) {
        unknown.push(k.into());
    }
}

/// Reads one line's fields into `ranges` (byte ranges of the raw values within the line).
struct LineSeed<'a> {
    layout: &'a LineLayout,
    slot_of: &'a [u32],
    order: &'a mut Vec<Seen>,
    base: usize,
    ranges: &'a mut [(u32, u32)],
    unknown: &'a mut Vec<Box<str>>,
    dups: &'a mut Vec<u32>,
}

const ABSENT: (u32, u32) = (0, 0);

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut i = 0;
        while let Some((target, name)) =
            map.next_key_seed(KeySeed { layout: self.layout, slot_of: self.slot_of, order: &mut *self.order, i })?
        {
            i += 1;
            match target {
                Target::Slot(s) => {
                    let raw: &'de RawValue = map.next_value()?;
                    let start = raw.get().as_ptr() as usize - self.base;
                    if self.ranges[s as usize] != ABSENT {
                        self.dups.push(s);
                    }
                    self.ranges[s as usize] = (start as u32, raw.get().len() as u32);
                }
                Target::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
                Target::Unknown => {
                    map.next_value::<IgnoredAny>()?;
                    if let Some(n) = name {
                        note_unknown(self.unknown, &n);
                    }
                }
            }
        }
        Ok(())
    }
}

enum Builder {
    Str(StringBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
}

impl Builder {
    fn new(ty: KqlType) -> Builder {
        let n = LINE_BATCH_ROWS;
        match ty {
            KqlType::String | KqlType::Guid | KqlType::Dynamic => Builder::Str(StringBuilder::with_capacity(n, n * 16)),
            KqlType::Int => Builder::I32(Int32Builder::with_capacity(n)),
            KqlType::Long | KqlType::DateTime | KqlType::TimeSpan => Builder::I64(Int64Builder::with_capacity(n)),
            KqlType::Real | KqlType::Decimal => Builder::F64(Float64Builder::with_capacity(n)),
            KqlType::Bool => Builder::Bool(BooleanBuilder::with_capacity(n)),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Str(b) => {
                // the next batch is sized like this one: no regrowing (and copying) as it fills
                let bytes = b.values_slice().len();
                let a = Arc::new(b.finish());
                *b = StringBuilder::with_capacity(LINE_BATCH_ROWS, bytes + bytes / 8);
                a
            }
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

/// A time window rows must fall in to be built (filters pushed into a streamed scan); rows
/// outside it, or without a value, are skipped after parsing. Bounds are `(value, inclusive)`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFilter {
    /// The datetime column (index in the table's columns).
    pub col: usize,
    /// Lower bound.
    pub lo: Option<(i64, bool)>,
    /// Upper bound.
    pub hi: Option<(i64, bool)>,
}

impl RowFilter {
    /// Narrow by a comparison `col <op> value` (`>`, `>=`, `<`, `<=`).
    pub fn add(&mut self, (op, v): (datafusion::logical_expr::Operator, i64)) {
        use datafusion::logical_expr::Operator;
        let tighter_lo = |cur: Option<(i64, bool)>, new: (i64, bool)| match cur {
            Some(c) if c.0 > new.0 || (c.0 == new.0 && !c.1) => Some(c),
            _ => Some(new),
        };
        let tighter_hi = |cur: Option<(i64, bool)>, new: (i64, bool)| match cur {
            Some(c) if c.0 < new.0 || (c.0 == new.0 && !c.1) => Some(c),
            _ => Some(new),
        };
        match op {
            Operator::Gt => self.lo = tighter_lo(self.lo, (v, false)),
            Operator::GtEq => self.lo = tighter_lo(self.lo, (v, true)),
            Operator::Lt => self.hi = tighter_hi(self.hi, (v, false)),
            Operator::LtEq => self.hi = tighter_hi(self.hi, (v, true)),
            _ => {}
        }
    }

    /// Whether some value in `min..=max` passes (for skipping whole batches by their range).
    #[inline]
    pub fn overlaps(&self, min: i64, max: i64) -> bool {
        let lo_ok = match self.lo {
            Some((b, true)) => max >= b,
            Some((b, false)) => max > b,
            None => true,
        };
        let hi_ok = match self.hi {
            Some((b, true)) => min <= b,
            Some((b, false)) => min < b,
            None => true,
        };
        lo_ok && hi_ok
    }

    /// Whether a value passes.
    #[inline]
    pub fn keeps(&self, v: Option<i64>) -> bool {
        v.is_some_and(|v| self.overlaps(v, v))
    }

    /// The windows that comparisons `(column, (op, value))` leave, one per column, in the order
    /// the columns first appear.
    pub fn windows(
        bounds: impl IntoIterator<Item = (usize, (datafusion::logical_expr::Operator, i64))>,
    ) -> Vec<RowFilter> {
        let mut windows: Vec<RowFilter> = Vec::new();
        for (col, bound) in bounds {
            match windows.iter_mut().find(|w| w.col == col) {
                Some(w) => w.add(bound),
                None => {
                    let mut w = RowFilter { col, lo: None, hi: None };
                    w.add(bound);
                    windows.push(w);
                }
            }
        }
        windows
    }
}

/// Decodes lines into batches of chosen columns.
pub struct LineDecoder<'l> {
    layout: &'l LineLayout,
    /// Table column of each output column.
    out: Vec<usize>,
    /// Slot of each table column (`NO_SLOT` when not read).
    slot_of: Vec<u32>,
    ranges: Vec<(u32, u32)>,
    builders: Vec<Builder>,
    /// Rows appended to each builder in the batch so far: a column whose value is absent from a
    /// line is not appended to, but filled up to the row of its next value, or to the end of the
    /// batch when it is finished (wide tables fill few of their columns: AzureDiagnostics).
    filled: Vec<usize>,
    /// The slots the line being decoded set, in the order it set them (see `dense`).
    present: Vec<u32>,
    /// Whether serde_json read the line (the scanner was unsure): `present` is not known, so
    /// every slot is looked at.
    dense: bool,
    /// The output column of each slot (`NO_SLOT`: none), so that a line commits only the
    /// columns it has; `None` when some slot feeds several output columns, or `TimeGenerated` is
    /// filled from `Timestamp` (every column is looked at then).
    out_of_slot: Option<Vec<u32>>,
    /// All-empty arrays, by type and rows, shared by every column empty for a whole batch.
    empties: HashMap<(KqlType, usize), ArrayRef>,
    schema: SchemaRef,
    rows: usize,
    unknown: Vec<Box<str>>,
    reported_unknown: usize,
    /// The fields of the previous line, in order, with where each went.
    order: Vec<Seen>,
    /// Slot of `(TimeGenerated, Timestamp)` when the first is wanted and filled from the second.
    time_fill: Option<(u32, u32)>,
    /// Stop after this many rows.
    limit: Option<usize>,
    /// Rows outside this window are not built.
    row_filter: Option<RowFilter>,
    /// Per slot: keep only these members of its objects (see [`super::paths`]).
    members: Vec<Option<Vec<String>>>,
    /// Per slot: the pruned object of the line, when `pruned` says there is one (and whether its
    /// text is canonical already).
    subsets: Vec<String>,
    pruned: Vec<Option<bool>>,
    /// Per slot: whether it holds a dynamic column (checked for canonical text while scanned).
    dynamic: Vec<bool>,
    /// Per slot: whether the line's value was found canonical while scanned (`None`: not checked).
    canonical: Vec<Option<bool>>,
    /// Scratch space of the canonical check.
    keys: Vec<(usize, usize)>,
    /// Slot of the row filter's column, whose value is checked as soon as it is read.
    filter_slot: Option<usize>,
    /// The line being scanned was found outside the row filter's window (the rest of it was not
    /// read).
    rejected: bool,
    /// The line's value of the row filter's column, parsed while scanning (when present).
    filter_time: Option<Option<i64>>,
    /// Slots whose field the line has more than once (the last value is kept), to report.
    dups: Vec<u32>,
    /// `{"<column>":"`: how a line starts whose first member is the row filter's column, as a
    /// string (see [`LineDecoder::rejects_early`]); `None` when the name needs escapes.
    filter_prefix: Option<Box<[u8]>>,
}

impl<'l> LineDecoder<'l> {
    /// A decoder producing the table columns `projection` (all when `None`), in that order.
    pub fn new(layout: &'l LineLayout, projection: Option<&[usize]>) -> LineDecoder<'l> {
        let out: Vec<usize> = match projection {
            Some(p) => p.to_vec(),
            None => (0..layout.cols.len()).collect(),
        };
        let mut slot_of = vec![NO_SLOT; layout.cols.len()];
        let mut slots = 0u32;
        let mut want = |c: usize, slot_of: &mut Vec<u32>| {
            if slot_of[c] == NO_SLOT {
                slot_of[c] = slots;
                slots += 1;
            }
        };
        for &c in &out {
            want(c, &mut slot_of);
        }
        let mut time_fill = None;
        if let Some((tg, ts)) = layout.time_fill {
            if slot_of[tg] != NO_SLOT {
                want(ts, &mut slot_of);
                time_fill = Some((slot_of[tg], slot_of[ts]));
            }
        }
        let schema = Arc::new(Schema::new(
            out.iter()
                .map(|&c| Field::new(&layout.cols[c].name, arrow_type(layout.cols[c].ty), true))
                .collect::<Vec<_>>(),
        ));
        let builders = out.iter().map(|&c| Builder::new(layout.cols[c].ty)).collect();
        let filled = vec![0; out.len()];
        let mut out_of_slot = vec![NO_SLOT; slots as usize];
        let mut one_each = time_fill.is_none();
        for (j, &c) in out.iter().enumerate() {
            let s = slot_of[c] as usize;
            one_each &= out_of_slot[s] == NO_SLOT;
            out_of_slot[s] = j as u32;
        }
        let mut dynamic = vec![false; slots as usize];
        for (c, &slot) in slot_of.iter().enumerate() {
            if slot != NO_SLOT && layout.cols[c].ty == KqlType::Dynamic {
                dynamic[slot as usize] = true;
            }
        }
        LineDecoder {
            layout,
            out,
            ranges: vec![ABSENT; slots as usize],
            slot_of,
            builders,
            filled,
            present: Vec::new(),
            dense: false,
            out_of_slot: one_each.then_some(out_of_slot),
            empties: HashMap::new(),
            schema,
            rows: 0,
            unknown: Vec::new(),
            reported_unknown: 0,
            order: Vec::new(),
            time_fill,
            limit: None,
            row_filter: None,
            members: Vec::new(),
            subsets: Vec::new(),
            pruned: Vec::new(),
            dynamic,
            canonical: Vec::new(),
            keys: Vec::new(),
            filter_slot: None,
            rejected: false,
            filter_time: None,
            dups: Vec::new(),
            filter_prefix: None,
        }
    }

    /// In the dynamic columns given `Some(keys)` (indexed by table column), keep only the object
    /// members with those keys (a path pushdown, see [`super::paths`]); other values are whole.
    pub fn with_members(mut self, members: &[Option<Vec<String>>]) -> Self {
        let slots = self.ranges.len();
        self.members = vec![None; slots];
        for &c in &self.out {
            if let Some(Some(keys)) = members.get(c) {
                if self.layout.cols[c].ty == KqlType::Dynamic {
                    self.members[self.slot_of[c] as usize] = Some(keys.clone());
                }
            }
        }
        self.subsets = vec![String::new(); slots];
        self.pruned = vec![None; slots];
        self
    }

    /// Build only rows whose datetime column passes `filter` (see [`RowFilter`]).
    pub fn with_row_filter(mut self, filter: Option<RowFilter>) -> Self {
        if let Some(f) = &filter {
            if self.slot_of[f.col] == NO_SLOT {
                self.slot_of[f.col] = self.ranges.len() as u32;
                self.ranges.push(ABSENT);
            }
            // the filtered column may be filled from Timestamp
            if let Some((tg, ts)) = self.layout.time_fill {
                if tg == f.col && self.slot_of[ts] == NO_SLOT {
                    self.slot_of[ts] = self.ranges.len() as u32;
                    self.ranges.push(ABSENT);
                }
            }
        }
        self.filter_slot = filter.as_ref().map(|f| self.slot_of[f.col] as usize);
        self.filter_prefix = filter.as_ref().and_then(|f| {
            let name = self.layout.cols[f.col].name.as_str();
            (dj::is_plain_key(name) && self.layout.index.get(name) == Some(&f.col))
                .then(|| format!("{{\"{name}\":\"").into_bytes().into_boxed_slice())
        });
        self.row_filter = filter;
        self
    }

    /// Whether a line falls outside the row filter's window by its first member alone: it starts
    /// `{"<column>":"<time>"` (the name and the time without escapes, the time not blank) and
    /// that time fails the window. The scanner would drop such a line after that member too
    /// (`scan_line`); this is the same decision before the line's UTF-8 is checked, so the
    /// rest of a line outside the window is not read at all.
    #[inline]
    pub fn rejects_early(&self, line: &[u8]) -> bool {
        let (Some(f), Some(prefix)) = (&self.row_filter, &self.filter_prefix) else { return false };
        let Some(rest) = line.strip_prefix(&prefix[..]) else { return false };
        let Some(end) = memchr::memchr2(b'"', b'\\', rest) else { return false };
        // a control character is invalid JSON: the scanner reports the line
        if rest[end] != b'"' || rest[..end].iter().any(|&b| b < 0x20) {
            return false;
        }
        let Ok(time) = std::str::from_utf8(&rest[..end]) else { return false };
        // a blank value is absent (`present_raw`): the scanner may fill the time from elsewhere
        if time.trim().is_empty() {
            return false;
        }
        !f.keeps(dt::parse_datetime(time))
    }

    /// Whether the decoded line passes the row filter (always, without one).
    fn keeps_row(&self, text: &str) -> bool {
        let Some(f) = &self.row_filter else { return true };
        if self.rejected {
            return false;
        }
        if let Some(t) = self.filter_time {
            return f.keeps(t);
        }
        let mut raw = raw_at(text, self.ranges[self.slot_of[f.col] as usize]);
        if let Some((tg, ts)) = self.layout.time_fill {
            if tg == f.col && !present_raw(raw) {
                raw = raw_at(text, self.ranges[self.slot_of[ts] as usize]);
            }
        }
        f.keeps(raw.and_then(time_of))
    }

    /// Stop after `limit` rows (a `take` pushed into the scan).
    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        self.limit = limit;
        self
    }

    /// The schema of the batches produced.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows decoded and not yet taken by [`LineDecoder::finish_batch`].
    pub fn pending_rows(&self) -> usize {
        self.rows
    }

    /// Decode one line (without its newline) into the raw-value ranges; returns the line as text,
    /// or `None` when it is not a JSON object (`err` says why).
    fn decode<'t>(&mut self, line: &'t [u8], err: &mut String) -> Option<&'t str> {
        let text = match simdutf8::basic::from_utf8(line) {
            Ok(t) => t,
            Err(_) => {
                let e = std::str::from_utf8(line).err().map(|e| e.to_string()).unwrap_or_default();
                *err = format!("invalid UTF-8: {e}");
                return None;
            }
        };
        if self.dense || self.canonical.len() != self.ranges.len() {
            self.ranges.fill(ABSENT);
            self.pruned.fill(None);
            self.canonical.clear();
            self.canonical.resize(self.ranges.len(), None);
        } else {
            // only what the previous line set
            for &s in &self.present {
                let s = s as usize;
                self.ranges[s] = ABSENT;
                self.canonical[s] = None;
                if let Some(p) = self.pruned.get_mut(s) {
                    *p = None;
                }
            }
        }
        self.present.clear();
        self.dups.clear();
        self.dense = false;
        self.rejected = false;
        self.filter_time = None;
        if self.scan_line(text).is_some() {
            return Some(text);
        }
        // the scanner said no: serde_json decides (and words the error); the next line resets
        // and the commit looks at every slot
        self.dense = true;
        self.ranges.fill(ABSENT);
        self.dups.clear();
        let mut de = serde_json::Deserializer::from_str(text);
        let seed = LineSeed {
            layout: self.layout,
            slot_of: &self.slot_of,
            order: &mut self.order,
            base: text.as_ptr() as usize,
            ranges: &mut self.ranges,
            unknown: &mut self.unknown,
            dups: &mut self.dups,
        };
        if seed.deserialize(&mut de).and_then(|_| de.end()).is_err() {
            *err = match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => format!("expected a JSON object, found {}", super::json::kind(&v)),
                Err(e) => format!("invalid JSON: {e}"),
            };
            return None;
        }
        Some(text)
    }

    /// The fast path of [`LineDecoder::decode`]: the validating scanner of `value::dynamic`,
    /// fields matched in place, pruned objects written while they are read. `None` when the line
    /// is not a valid JSON object (or the scanner is unsure: serde_json then decides).
    #[inline]
    fn scan_line(&mut self, text: &str) -> Option<()> {
        let base = text.as_ptr() as usize;
        let mut m = dj::Members::new(text)?;
        let mut i = 0;
        loop {
            // the key the previous line had here, matched in place when it is the same
            let hint = self.order.get(i).filter(|seen| seen.plain).map(|seen| &*seen.name);
            let (target, key) = match m.next_key_hinted(hint)? {
                None => break,
                Some(dj::MemberKey::Hinted) => (self.order[i].target, None),
                Some(dj::MemberKey::Raw(k, esc)) => {
                    let key = if esc { dj::member_key(k, true)? } else { Cow::Borrowed(k) };
                    (target_of(self.layout, &self.slot_of, &mut self.order, i, &key), Some(key))
                }
            };
            match target {
                Target::Slot(s) => {
                    let s = s as usize;
                    let v = match self.members.get(s).and_then(Option::as_ref) {
                        Some(keys) => {
                            let (v, pruned) = m.value_subset(keys, &mut self.subsets[s], &mut self.keys)?;
                            self.pruned[s] = pruned;
                            v
                        }
                        None if self.dynamic.get(s) == Some(&true) => {
                            let (v, canonical) = m.value_canonical(&mut self.keys)?;
                            self.canonical[s] = Some(canonical);
                            v
                        }
                        None => m.value()?,
                    };
                    if self.ranges[s] == ABSENT {
                        self.present.push(s as u32);
                    } else {
                        self.dups.push(s as u32);
                    }
                    self.ranges[s] = ((v.as_ptr() as usize - base) as u32, v.len() as u32);
                    // a row outside the time window is dropped here: the rest of the line is
                    // neither read nor validated (as files outside the window are not opened)
                    if self.filter_slot == Some(s) && present_raw(Some(v)) {
                        if let Some(f) = &self.row_filter {
                            let t = time_of(v);
                            self.filter_time = Some(t);
                            if !f.keeps(t) {
                                self.rejected = true;
                                return Some(());
                            }
                        }
                    }
                }
                Target::Skip => {
                    m.value()?;
                }
                Target::Unknown => {
                    m.value()?;
                    note_unknown(&mut self.unknown, key.as_deref().unwrap_or(&self.order[i].name));
                }
            }
            i += 1;
        }
        m.finish()
    }

    /// Append the decoded line's values to the builders; values that do not convert are null
    /// and reported (an error with `strict`).
    fn commit(
        &mut self,
        text: &str,
        base: &mut LineBase,
        line_no: usize,
        report: &mut LoadReport,
        strict: bool,
    ) -> Result<()> {
        if let (false, Some(_)) = (self.dense, &self.out_of_slot) {
            // only the columns the line has (a wide table's line fills few of them), in column
            // order
            self.present.sort_unstable();
            for k in 0..self.present.len() {
                let slot = self.present[k] as usize;
                let j = self.out_of_slot.as_ref().and_then(|m| m.get(slot).copied()).unwrap_or(NO_SLOT);
                if j != NO_SLOT {
                    self.commit_column(j as usize, text, base, line_no, report, strict)?;
                }
            }
        } else {
            for j in 0..self.out.len() {
                self.commit_column(j, text, base, line_no, report, strict)?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// [`LineDecoder::commit`] of output column `j`.
    #[inline]
    fn commit_column(
        &mut self,
        j: usize,
        text: &str,
        base: &mut LineBase,
        line_no: usize,
        report: &mut LoadReport,
        strict: bool,
    ) -> Result<()> {
        let c = self.out[j];
        let slot = self.slot_of[c] as usize;
        let mut range = self.ranges[slot];
        if let Some((tg, ts)) = self.time_fill {
            if tg as usize == slot && !present_raw(raw_at(text, range)) {
                range = self.ranges[ts as usize];
            }
        }
        let mut raw = raw_at(text, range);
        if raw.is_none() {
            // filled in when the column's next value comes, or the batch ends
            return Ok(());
        }
        let builder = &mut self.builders[j];
        fill(builder, self.layout.cols[c].ty, self.rows - self.filled[j]);
        self.filled[j] = self.rows + 1;
        let mut canonical = if self.dense {
            // serde_json read the line (the scanner was unsure, or the line nests deeper than
            // the scanner's limit): a dynamic value is parsed again, which checks its depth
            Some(false)
        } else if range == self.ranges[slot] {
            self.canonical.get(slot).copied().flatten()
        } else {
            None
        };
        if let (Some(Some(keys)), Some(r)) = (self.members.get(slot), raw) {
            let pruned = if let Some(canonical) = self.pruned[slot] {
                dj::finish_subset(&mut self.subsets[slot], canonical)
            } else {
                r.starts_with('{') && dj::object_subset(r, keys, &mut self.subsets[slot])
            };
            if pruned {
                // a finished subset is canonical
                raw = Some(self.subsets[slot].as_str());
                canonical = Some(true);
            }
        }
        let col = &self.layout.cols[c];
        // the filter's datetime, parsed already while scanning (a value that did not parse
        // takes the general path below, which reports it)
        if let (Some(Some(t)), Builder::I64(x)) = (self.filter_time, &mut *builder) {
            if self.filter_slot == Some(slot) && range == self.ranges[slot] {
                x.append_value(t);
                return Ok(());
            }
        }
        if !append_known(builder, col.ty, raw, canonical) {
            let msg = format!(
                "column `{}`: {} is not a {} (null)",
                col.name,
                convert::snippet_text(raw.unwrap_or("")),
                col.ty
            );
            let at = base.line(line_no);
            if strict {
                return Err(KqlError::general("KQL109", format!("{at}: {msg}")));
            }
            report.bad_value(Some(&at), msg);
        }
        Ok(())
    }

    /// Take the rows decoded so far as a batch.
    pub fn finish_batch(&mut self) -> Result<RecordBatch> {
        let n = self.rows;
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.builders.len());
        for (j, b) in self.builders.iter_mut().enumerate() {
            let ty = self.layout.cols[self.out[j]].ty;
            if self.filled[j] == 0 && n > 0 {
                // no line of the batch has it: one shared array
                let a = self.empties.entry((ty, n)).or_insert_with(|| super::missing_column(ty, n));
                arrays.push(a.clone());
                continue;
            }
            fill(b, ty, n - self.filled[j]);
            self.filled[j] = 0;
            arrays.push(b.finish());
        }
        self.rows = 0;
        let opts = datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(n));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &opts)
            .map_err(|e| KqlError::general("KQL109", format!("building a batch: {e}")))
    }

    /// Report the fields the line just committed has more than once.
    fn report_dups(&mut self, report: &mut LoadReport, at: &Loc) {
        for s in self.dups.drain(..) {
            if let Some(c) = self.slot_of.iter().position(|&x| x == s) {
                report.duplicate(at, &self.layout.cols[c].name);
            }
        }
    }

    /// Report fields seen that are not columns of the table (once per name).
    fn report_unknown(&mut self, report: &mut LoadReport, at: &Loc) {
        while self.reported_unknown < self.unknown.len() {
            let n = &self.unknown[self.reported_unknown];
            report.note(format!(
                "{at}: field `{n}` is not a column of {} (not in its schema nor in the first records); its values are not loaded",
                self.layout.name
            ));
            self.reported_unknown += 1;
        }
    }
}

fn raw_at(text: &str, (start, len): (u32, u32)) -> Option<&str> {
    if len == 0 {
        None
    } else {
        Some(&text[start as usize..(start + len) as usize])
    }
}

/// True when a raw value is present: not null and not an empty string.
fn present_raw(raw: Option<&str>) -> bool {
    match raw {
        None | Some("null") => false,
        Some(r) => !(r.starts_with('"') && r[1..r.len() - 1].trim().is_empty()),
    }
}

/// The datetime a raw JSON value holds (a string in any format Kusto reads).
fn time_of(raw: &str) -> Option<i64> {
    string_of(raw).and_then(|s| dt::parse_datetime(&s))
}

/// The text of a raw JSON string token (`"..."`), unescaped.
fn string_of(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.starts_with('"') {
        return None;
    }
    let inner = &raw[1..raw.len() - 1];
    if memchr::memchr(b'\\', inner.as_bytes()).is_none() {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

/// Append `n` absent values (empty text, else null) of type `ty`.
fn fill(b: &mut Builder, ty: KqlType, n: usize) {
    if n == 0 {
        return;
    }
    match b {
        Builder::Str(s) if ty != KqlType::Dynamic => {
            for _ in 0..n {
                s.append_value("");
            }
        }
        Builder::Str(s) => s.append_nulls(n),
        Builder::I32(x) => x.append_nulls(n),
        Builder::I64(x) => x.append_nulls(n),
        Builder::F64(x) => x.append_nulls(n),
        Builder::Bool(x) => x.append_nulls(n),
    }
}

/// Append a raw value converted to `ty`; false when a present value did not convert (null was
/// appended). Mirrors [`convert::convert_value`] on the parsed value.
#[cfg(test)]
fn append(b: &mut Builder, ty: KqlType, raw: Option<&str>) -> bool {
    append_known(b, ty, raw, None)
}

/// [`append`], told whether a dynamic value's text is already canonical when the scan found out
/// (`None`: check it here).
fn append_known(b: &mut Builder, ty: KqlType, raw: Option<&str>, canonical: Option<bool>) -> bool {
    let Some(raw) = raw else {
        match b {
            Builder::Str(s) if ty != KqlType::Dynamic => s.append_value(""),
            Builder::Str(s) => s.append_null(),
            Builder::I32(x) => x.append_null(),
            Builder::I64(x) => x.append_null(),
            Builder::F64(x) => x.append_null(),
            Builder::Bool(x) => x.append_null(),
        }
        return true;
    };
    let first = raw.as_bytes()[0];
    let is_null = raw == "null";
    match b {
        Builder::Str(s) if ty == KqlType::Dynamic => {
            match first {
                // already canonical (the common case): stored as it is
                b'{' | b'[' if canonical.unwrap_or_else(|| dj::is_canonical(raw)) => s.append_value(raw),
                _ => match dynamic_of(raw, first) {
                    Some(v) => s.append_value(v),
                    None => {
                        s.append_null();
                        // null and "" are null; anything else did not convert
                        return is_null || string_of(raw).is_some_and(|t| t.is_empty());
                    }
                },
            }
            true
        }
        Builder::Str(s) => {
            match (first, string_of(raw)) {
                (_, Some(t)) if ty == KqlType::Guid => s.append_value(t.to_lowercase()),
                (_, Some(t)) => s.append_value(t),
                (b'n', None) => s.append_value(""),
                // numbers, booleans, objects, arrays: their JSON text
                _ => s.append_value(reserialized(raw)),
            }
            true
        }
        Builder::I64(x) => {
            let v = match ty {
                KqlType::DateTime => time_of(raw),
                KqlType::TimeSpan => match string_of(raw) {
                    Some(s) => dt::parse_timespan(&s),
                    None => number_i64(raw, first).filter(|_| !raw.contains(['.', 'e', 'E'])),
                },
                _ => long_of(raw, first),
            };
            x.append_option(v);
            v.is_some() || !present_raw(Some(raw)) || is_null
        }
        Builder::I32(x) => {
            let v = long_of(raw, first);
            let v32 = v.and_then(|v| i32::try_from(v).ok());
            x.append_option(v32);
            v32.is_some() || !present_raw(Some(raw))
        }
        Builder::F64(x) => {
            let v = match first {
                b'-' | b'0'..=b'9' => serde_json::from_str::<f64>(raw).ok(),
                b'"' => string_of(raw).and_then(|s| s.trim().parse::<f64>().ok()),
                _ => None,
            };
            x.append_option(v);
            v.is_some() || !present_raw(Some(raw))
        }
        Builder::Bool(x) => {
            let v = match first {
                b't' => Some(true),
                b'f' => Some(false),
                b'-' | b'0'..=b'9' => serde_json::from_str::<f64>(raw).ok().map(|f| f != 0.0),
                b'"' => string_of(raw).and_then(|s| match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" => Some(true),
                    "false" | "0" => Some(false),
                    _ => None,
                }),
                _ => None,
            };
            x.append_option(v);
            v.is_some() || !present_raw(Some(raw))
        }
    }
}

/// A JSON number token as an integer (truncating reals), like serde_json's `as_i64` or `as_f64`.
fn number_i64(raw: &str, first: u8) -> Option<i64> {
    if !matches!(first, b'-' | b'0'..=b'9') {
        return None;
    }
    raw.parse::<i64>().ok().or_else(|| serde_json::from_str::<f64>(raw).ok().and_then(convert::real_to_long))
}

fn long_of(raw: &str, first: u8) -> Option<i64> {
    match first {
        b'-' | b'0'..=b'9' => number_i64(raw, first),
        b'"' => string_of(raw).and_then(|s| {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| t.parse::<f64>().ok().and_then(convert::real_to_long))
        }),
        b't' => Some(1),
        b'f' => Some(0),
        _ => None,
    }
}

/// The JSON text serde_json prints for a raw value (numbers normalized).
fn reserialized(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw).map(|v| v.to_string()).unwrap_or_else(|_| raw.to_string())
}

/// A dynamic value from a raw JSON value: null and `""` are null; a string holding a JSON object
/// or array is that value (as XDR exports write them); anything else is itself.
fn dynamic_of(raw: &str, first: u8) -> Option<String> {
    match first {
        b'n' => None,
        b'"' => {
            let s = string_of(raw)?;
            if s.is_empty() {
                return None;
            }
            let t = s.trim();
            if (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']')) {
                if let Some(v) = dj::parse_json(t).filter(|v| !v.starts_with('"')) {
                    return Some(v);
                }
            }
            Some(dj::json_string(&s))
        }
        _ => dj::parse_json(raw),
    }
}

/// Where a piece's lines are numbered from, found only when a problem needs a location.
struct LineBase {
    path: Arc<Path>,
    start: u64,
    known: Option<usize>,
}

impl LineBase {
    fn line(&mut self, within: usize) -> Loc {
        let base = *self.known.get_or_insert_with(|| count_lines_before(&self.path, self.start));
        Loc { file: self.path.clone(), line: base + within }
    }
}

fn count_lines_before(path: &Path, end: u64) -> usize {
    if end == 0 {
        return 0;
    }
    let Ok(f) = std::fs::File::open(path) else { return 0 };
    let mut r = BufReader::with_capacity(1 << 20, f.take(end));
    let mut n = 0;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) if !b.is_empty() => b,
            _ => break,
        };
        n += memchr::memchr_iter(b'\n', buf).count();
        let len = buf.len();
        r.consume(len);
    }
    n
}

/// Shared progress of a read: bytes done, for the progress callback.
#[derive(Default)]
pub struct ReadProgress {
    done: AtomicU64,
}

impl ReadProgress {
    /// Bytes read so far (compressed bytes for `.gz` files, counted when each is done).
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    fn add(&self, n: u64, total: u64, opts: &LoadOptions) {
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        if let Some(p) = &opts.progress {
            // call about every 8 MB
            if (before + n) >> 23 != before >> 23 || before + n >= total {
                (p.0)((before + n).min(total), total);
            }
        }
    }
}

/// What to do after a line.
enum Flow {
    Next,
    Stop,
}

/// Files modified this recently are read with `read`, never mapped (see [`map_file`]).
const SETTLED: std::time::Duration = std::time::Duration::from_secs(10);

/// The file mapped into memory, or `None` when it is read with `read` instead.
///
/// Lines are then decoded straight from the page cache: `read` copies every byte into the
/// process first, which costs a tenth of a streamed scan. The map is only read. A file that
/// another process truncates while it is mapped ends this process with a bus error (as with
/// ripgrep's maps); an exported archive is not truncated, but a live log rotated with
/// `copytruncate` can be, so a file modified in the last [`SETTLED`] seconds is not mapped.
fn map_file(file: &std::fs::File) -> Option<memmap2::Mmap> {
    let meta = file.metadata().ok()?;
    let age = meta.modified().ok()?.elapsed().ok()?;
    if !meta.is_file() || meta.len() == 0 || age < SETTLED {
        return None;
    }
    // SAFETY: a read-only map, only read; see above for a file truncated meanwhile.
    unsafe { memmap2::Mmap::map(file) }.ok()
}

/// Drops the pages of `map` before `pos` from the process once 8 MiB have been read since the last
/// time (`released` is where that stopped). The pages stay in the page cache; without this, the
/// process's resident memory would grow by the size of every piece read.
fn release_read(map: &memmap2::Mmap, released: &mut usize, pos: u64) {
    let end = (pos as usize).min(map.len()) & !0xFFFF;
    if end >= *released + (8 << 20) {
        // SAFETY: the map is a read-only map of a file: a later read of these pages (there is
        // none) would fault them in again from the file, with the same bytes.
        let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, *released, end - *released) };
        *released = end;
    }
}

/// Decode the pieces of one part, giving each full batch to `emit` (which returns false to
/// stop). Stops after the decoder's limit ([`LineDecoder::with_limit`]). Problems are added to `report`.
pub fn decode_part(
    layout: &LineLayout,
    pieces: &[Piece],
    dec: &mut LineDecoder,
    report: &mut LoadReport,
    opts: &LoadOptions,
    progress: &ReadProgress,
    emit: &mut dyn FnMut(RecordBatch) -> bool,
) -> Result<()> {
    let limit = dec.limit;
    let mut produced = 0usize;
    let total = layout.total_bytes();
    for piece in pieces {
        let (path, size) = &layout.files[piece.file];
        let path: Arc<Path> = Arc::from(path.as_path());
        let whole = piece.end == u64::MAX;
        if piece.start == 0 {
            report.files += 1;
        }
        let mut base = LineBase { path: path.clone(), start: piece.start, known: whole.then_some(0) };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => return Err(super::json::cannot_read(&path, &e)),
        };
        let gz = whole && is_gz(&path);
        let mapped = if gz { None } else { map_file(&file) };
        let mut reader: Box<dyn BufRead> = if gz {
            Box::new(BufReader::with_capacity(
                256 * 1024,
                flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, file)),
            ))
        } else if let Some(map) = &mapped {
            // the line that straddles `start` belongs to the previous piece (as below)
            let mut c = std::io::Cursor::new(&map[..]);
            c.set_position(piece.start.saturating_sub(1));
            Box::new(c)
        } else {
            let mut f = file;
            if piece.start > 0 {
                // the line that straddles `start` belongs to the previous piece
                f.seek(SeekFrom::Start(piece.start - 1))
                    .map_err(|e| KqlError::general("KQL103", format!("{}: {e}", path.display())))?;
            }
            Box::new(BufReader::with_capacity(256 * 1024, f))
        };
        let mut released = (piece.start.saturating_sub(1) as usize) & !0xFFFF;
        let mut pos = piece.start;
        if piece.start > 0 {
            let mut skip = Vec::new();
            let (n, _) = read_line_capped(&mut reader, &mut skip, 0).unwrap_or((0, false));
            pos = piece.start - 1 + n as u64;
            // the skipped part was counted by the previous piece; `base` counts lines before `pos`
            base.start = pos;
        }
        let end = if whole { u64::MAX } else { piece.end.min(*size) };
        let cap = opts.max_line_bytes();
        let mut buf = Vec::new();
        let mut err = String::new();
        let mut line_no = 0usize; // lines read in this piece
        let mut since_progress = 0u64;
        let mut eof = false;
        while pos < end {
            // a line wholly in the reader's buffer is decoded in place; others are copied
            let in_place = match reader.fill_buf() {
                Ok(avail) => memchr::memchr(b'\n', avail).map(|i| i + 1).filter(|&k| k <= cap),
                Err(_) => None,
            };
            let (n, too_long) = match in_place {
                Some(k) => (k, false),
                None => {
                    buf.clear();
                    match read_line_capped(&mut reader, &mut buf, cap) {
                        Ok(r) => r,
                        Err(e) => {
                            let at = base.line(line_no + 1);
                            let msg = format!("read error (truncated or corrupt file?): {e}");
                            if opts.strict {
                                return Err(KqlError::general("KQL103", format!("{at}: {msg}")));
                            }
                            report.skip(&at.file, at.line, msg);
                            break;
                        }
                    }
                }
            };
            if n == 0 {
                eof = true;
                break;
            }
            pos += n as u64;
            line_no += 1;
            report.bytes += n as u64;
            since_progress += n as u64;
            if since_progress >= 1 << 20 {
                progress.add(if whole { 0 } else { since_progress }, total, opts);
                since_progress = 0;
                if let Some(map) = &mapped {
                    release_read(map, &mut released, pos);
                }
            }
            let flow: Flow = 'line: {
                if too_long {
                    let at = base.line(line_no);
                    let msg = format!("line of {n} bytes is longer than the limit of {cap} bytes");
                    if opts.strict {
                        return Err(KqlError::general("KQL107", format!("{at}: {msg}")));
                    }
                    report.skip(&at.file, at.line, msg);
                    break 'line Flow::Next;
                }
                let raw: &[u8] = match in_place {
                    Some(k) => match reader.fill_buf() {
                        Ok(avail) => &avail[..k],
                        Err(_) => &[],
                    },
                    None => &buf,
                };
                let mut line = raw.trim_ascii();
                if piece.start == 0 && line_no == 1 {
                    // a byte-order mark is not part of the first record
                    line = line.strip_prefix(super::json::BOM).unwrap_or(line);
                }
                if line.is_empty() {
                    break 'line Flow::Next;
                }
                if dec.rejects_early(line) {
                    report.rows += 1;
                    break 'line Flow::Next;
                }
                let Some(text) = dec.decode(line, &mut err) else {
                    let at = base.line(line_no);
                    let code = if err.starts_with("invalid UTF-8") {
                        "KQL105"
                    } else if err.starts_with("expected") {
                        "KQL106"
                    } else {
                        "KQL104"
                    };
                    if opts.strict {
                        return Err(KqlError::general(code, format!("{at}: {err}")));
                    }
                    report.skip(&at.file, at.line, &err);
                    break 'line Flow::Next;
                };
                if !dec.keeps_row(text) {
                    report.rows += 1;
                    break 'line Flow::Next;
                }
                dec.commit(text, &mut base, line_no, report, opts.strict)?;
                if !dec.dups.is_empty() {
                    let at = base.line(line_no);
                    dec.report_dups(report, &at);
                }
                if dec.unknown.len() > dec.reported_unknown {
                    let at = base.line(line_no);
                    dec.report_unknown(report, &at);
                }
                report.rows += 1;
                produced += 1;
                if dec.rows >= LINE_BATCH_ROWS && !emit(dec.finish_batch()?) {
                    return Ok(());
                }
                if limit.is_some_and(|l| produced >= l) {
                    break 'line Flow::Stop;
                }
                Flow::Next
            };
            if in_place.is_some() {
                reader.consume(n);
            }
            if matches!(flow, Flow::Stop) {
                break;
            }
        }
        if eof && !whole && pos < end {
            // the file is shorter than when the table was opened: it was truncated while it was
            // read. Reported once, by the piece the new end falls in.
            let now = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if piece.start <= now {
                let at = base.line(line_no + 1);
                let msg = format!(
                    "the file ends at byte {pos}, but had {size} bytes when the table was opened: it was truncated while it was read (what it held past byte {pos} is not loaded)"
                );
                if opts.strict {
                    return Err(KqlError::general("KQL103", format!("{at}: {msg}")));
                }
                report.skip(&at.file, at.line, msg);
            }
        }
        progress.add(if whole { *size } else { since_progress }, total, opts);
        if limit.is_some_and(|l| produced >= l) {
            break;
        }
    }
    if dec.rows > 0 {
        emit(dec.finish_batch()?);
    }
    Ok(())
}

/// Load every column of a planned table, decoding on `threads` threads; the rows come out in
/// file order.
pub fn load_all(layout: &LineLayout, opts: &LoadOptions, threads: usize) -> Result<(Vec<RecordBatch>, LoadReport)> {
    let parts = split(layout, threads);
    let progress = ReadProgress::default();
    let results: Vec<Result<(Vec<RecordBatch>, LoadReport)>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|pieces| {
                let progress = &progress;
                s.spawn(move || {
                    let mut dec = LineDecoder::new(layout, None);
                    let mut report = LoadReport::default();
                    let mut batches = Vec::new();
                    decode_part(layout, pieces, &mut dec, &mut report, opts, progress, &mut |b| {
                        batches.push(b);
                        true
                    })?;
                    Ok((batches, report))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(KqlError::general("KQL998", "a load thread panicked"))))
            .collect()
    });
    let mut batches = Vec::new();
    let mut report = LoadReport::default();
    for r in results {
        let (b, rep) = r?;
        batches.extend(b);
        report.merge(rep);
    }
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(layout.arrow_schema()));
    }
    Ok((batches, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::SchemaCatalog;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn split_covers_the_files_in_order() {
        let dir = tempdir();
        let big = "x".repeat(9 << 20);
        let a = write(dir.path(), "a.jsonl", &big);
        let b = write(dir.path(), "b.jsonl", "{}\n");
        let layout = LineLayout {
            name: "T".into(),
            cols: vec![],
            files: vec![(a, 9 << 20), (b, 3)],
            index: HashMap::new(),
            time_fill: None,
        };
        let parts = split(&layout, 2);
        assert_eq!(parts.len(), 2);
        let flat: Vec<(usize, u64, u64)> = parts.iter().flatten().map(|p| (p.file, p.start, p.end)).collect();
        assert_eq!(flat[0], (0, 0, flat[0].2));
        assert_eq!(flat[1].1, flat[0].2, "ranges are contiguous");
        assert_eq!(flat.last().unwrap().0, 1);
    }

    /// A directory of its own for one test, removed when the test ends.
    fn tempdir() -> tempfile::TempDir {
        tempfile::Builder::new().prefix("kql-lines-").tempdir().unwrap()
    }

    #[test]
    fn ranges_split_mid_line_lose_and_repeat_nothing() {
        let dir = tempdir();
        let mut text = String::new();
        for i in 0..200_000 {
            text.push_str(&format!("{{\"TimeGenerated\":\"2025-01-01T00:00:00Z\",\"Computer\":\"host{i}\"}}\n"));
        }
        let f = write(dir.path(), "Heartbeat.jsonl", &text);
        let cat = SchemaCatalog::builtin();
        let layout = plan("Heartbeat", &[f], cat.table("Heartbeat"), &LoadOptions::default()).unwrap();
        let c = layout.cols.iter().position(|c| c.name == "Computer").unwrap();
        // first read with `read` (the file was just written), then from a map (an old file)
        assert!(map_file(&std::fs::File::open(&layout.files[0].0).unwrap()).is_none());
        let settled = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let cases = [1, 2, 3, 7].into_iter().map(|t| (t, false)).chain([1, 2, 3, 7].into_iter().map(|t| (t, true)));
        for (threads, mapped) in cases {
            if mapped {
                std::fs::File::options().write(true).open(&layout.files[0].0).unwrap().set_modified(settled).unwrap();
                assert!(map_file(&std::fs::File::open(&layout.files[0].0).unwrap()).is_some());
            }
            let parts = split(&layout, threads);
            let mut names = Vec::new();
            for p in &parts {
                let mut dec = LineDecoder::new(&layout, Some(&[c]));
                let mut rep = LoadReport::default();
                decode_part(
                    &layout,
                    p,
                    &mut dec,
                    &mut rep,
                    &LoadOptions::default(),
                    &ReadProgress::default(),
                    &mut |b| {
                        let a = b
                            .column(0)
                            .as_any()
                            .downcast_ref::<datafusion::arrow::array::StringArray>()
                            .unwrap()
                            .clone();
                        names.extend(a.iter().map(|s| s.unwrap().to_string()));
                        true
                    },
                )
                .unwrap();
            }
            assert_eq!(names.len(), 200_000, "{threads} threads, mapped: {mapped}");
            assert!(names.iter().enumerate().all(|(i, n)| *n == format!("host{i}")), "{threads} threads: order");
        }
    }

    #[test]
    fn raw_values_convert_like_the_general_loader() {
        use serde_json::Value;
        let cases: &[(&str, KqlType)] = &[
            ("\"abc\"", KqlType::String),
            ("\"a\\\"b\\u00e9\"", KqlType::String),
            ("12", KqlType::String),
            ("1.50", KqlType::String),
            ("{\"b\":1,\"a\":[1,2]}", KqlType::String),
            ("null", KqlType::String),
            ("\"ABC-def\"", KqlType::Guid),
            ("12", KqlType::Long),
            ("-3.7", KqlType::Long),
            ("\" 42 \"", KqlType::Long),
            ("true", KqlType::Long),
            ("\"x\"", KqlType::Long),
            ("99999999999", KqlType::Int),
            ("7", KqlType::Int),
            ("1.25", KqlType::Real),
            ("\"2.5\"", KqlType::Real),
            ("1", KqlType::Bool),
            ("\"False\"", KqlType::Bool),
            ("\"2025-02-25T09:19:25.391Z\"", KqlType::DateTime),
            ("\"soon\"", KqlType::DateTime),
            ("\"01:02:03\"", KqlType::TimeSpan),
            ("{\"b\":1,\"a\":2}", KqlType::Dynamic),
            ("[1, 2 ,3]", KqlType::Dynamic),
            ("\"{\\\"x\\\": [1]}\"", KqlType::Dynamic),
            ("\"plain\"", KqlType::Dynamic),
            ("\"\"", KqlType::Dynamic),
            ("5", KqlType::Dynamic),
        ];
        for (raw, ty) in cases {
            let mut b = Builder::new(*ty);
            append(&mut b, *ty, Some(raw));
            let fast = b.finish();
            let v: Value = serde_json::from_str(raw).unwrap();
            let expected = convert::convert_value(&v, *ty, false);
            let shown = datafusion::arrow::util::display::ArrayFormatter::try_new(
                fast.as_ref(),
                &datafusion::arrow::util::display::FormatOptions::default().with_null("<null>"),
            )
            .unwrap()
            .value(0)
            .to_string();
            let want = match expected {
                convert::Converted::Str(s) => s,
                convert::Converted::I64(x) if *ty == KqlType::Int => {
                    x.and_then(|x| i32::try_from(x).ok()).map(|x| x.to_string()).unwrap_or("<null>".into())
                }
                convert::Converted::I64(x) => x.map(|x| x.to_string()).unwrap_or("<null>".into()),
                convert::Converted::F64(x) => x.map(|x| x.to_string()).unwrap_or("<null>".into()),
                convert::Converted::Bool(x) => x.map(|x| x.to_string()).unwrap_or("<null>".into()),
                convert::Converted::Json(x) => x.unwrap_or("<null>".into()),
            };
            assert_eq!(shown, want, "{raw} as {ty}");
        }
    }

    #[test]
    fn interleaved_parts_cover_every_byte_once_and_share_each_stretch() {
        let dir = tempdir();
        let f = write(dir.path(), "Heartbeat.jsonl", "{\"TimeGenerated\":\"2025-01-01T00:00:00Z\"}\n");
        let mut layout = plan(
            "Heartbeat",
            std::slice::from_ref(&f),
            SchemaCatalog::builtin().table("Heartbeat"),
            &LoadOptions::default(),
        )
        .unwrap();
        let mb = 1u64 << 20;
        layout.files = vec![
            (f.clone(), 640 * mb + 7),
            (dir.path().join("b.jsonl.gz"), 50 * mb),
            (f, 0),
            (dir.path().join("c.jsonl"), mb),
        ];
        for n in [1, 2, 3, 64] {
            let parts = split_interleaved(&layout, n);
            assert_eq!(parts.len(), n.min(24), "{n} parts");
            let mut pieces: Vec<&Piece> = parts.iter().flatten().collect();
            pieces.sort_by_key(|p| (p.file, p.start));
            // per file, the pieces follow each other from 0 to the end (a whole .gz or empty file is one piece)
            for (file, (_, size)) in layout.files.iter().enumerate() {
                let mine: Vec<&&Piece> = pieces.iter().filter(|p| p.file == file).collect();
                if mine.len() == 1 && mine[0].end == u64::MAX {
                    continue;
                }
                assert_eq!(mine.first().map(|p| p.start), Some(0));
                assert_eq!(mine.last().map(|p| p.end), Some(*size));
                assert!(mine.windows(2).all(|w| w[0].end == w[1].start));
            }
            // the last ten pieces of the big file (its last stretch of time) go to every part
            let last: std::collections::HashSet<usize> = parts
                .iter()
                .enumerate()
                .filter(|(_, p)| p.iter().any(|x| x.file == 0 && x.start >= 32 * mb * 11))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(last.len(), n.min(10), "{n} parts");
        }
    }

    #[test]
    fn problems_in_a_later_range_have_their_file_line_and_late_fields_are_reported() {
        let dir = tempdir();
        let mut text = String::new();
        for i in 1..=100_000 {
            let line = match i {
                1200 => "{\"TimeGenerated\":\"2025-01-01T00:00:00Z\",\"Computer\":\"h\",\"Zed\":1}".to_string(),
                90_000 => "{\"TimeGenerated\": oops}".to_string(),
                95_000 => "{\"TimeGenerated\":\"not a time\",\"Computer\":\"h\"}".to_string(),
                _ => format!("{{\"TimeGenerated\":\"2025-01-01T00:00:00Z\",\"Computer\":\"host{i}\",\"Category\":\"Direct Agent\"}}"),
            };
            text.push_str(&line);
            text.push('\n');
        }
        let f = write(dir.path(), "Heartbeat.jsonl", &text);
        let cat = SchemaCatalog::builtin();
        let layout = plan("Heartbeat", &[f], cat.table("Heartbeat"), &LoadOptions::default()).unwrap();
        assert!(!layout.cols.iter().any(|c| c.name == "Zed"), "Zed is not in the sample");
        assert!(split(&layout, 2).len() == 2, "the file is split");
        let (batches, report) = load_all(&layout, &LoadOptions::default(), 2).unwrap();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 99_999);
        assert_eq!(report.rows, 99_999);
        assert_eq!(report.skipped, 1);
        assert_eq!(report.bad_values, 1);
        assert_eq!(report.ignored_fields, 1);
        assert_eq!(report.files, 1);
        let all = report.problems.join("\n");
        assert!(all.contains("Heartbeat.jsonl:1200: field `Zed` is not a column of Heartbeat"), "{all}");
        assert!(all.contains("Heartbeat.jsonl:90000: invalid JSON"), "{all}");
        assert!(
            all.contains("Heartbeat.jsonl:95000: column `TimeGenerated`: \"not a time\" is not a datetime"),
            "{all}"
        );
        let strict = LoadOptions { strict: true, ..Default::default() };
        let e = load_all(&layout, &strict, 2).err().unwrap();
        assert!(e.to_string().contains(":90000: invalid JSON"), "{e}");
    }

    /// Lines whose fields change order, gain and lose unknown fields, spell a key with an escape
    /// or put spaces around the colon: every value lands in its column (the scanner matches each
    /// key with the previous line's key at that place first).
    #[test]
    fn sparse_columns_are_filled_across_batches_and_empty_ones_shared() {
        use datafusion::arrow::array::Array;
        // AzureDiagnostics-like: each line fills few columns; `Resource` only on line 5,
        // `DurationMs` only on line 9000 (the second batch), `Category` on every line
        let dir = tempdir();
        let mut text = String::new();
        for i in 0..10_000 {
            text.push_str(&format!("{{\"TimeGenerated\":\"2025-01-01T00:00:00Z\",\"Category\":\"c{i}\""));
            if i == 5 {
                text.push_str(",\"Resource\":\"r5\"");
            }
            if i == 9000 {
                text.push_str(",\"DurationMs\":9000");
            }
            text.push_str("}\n");
        }
        let f = write(dir.path(), "AzureDiagnostics.jsonl", &text);
        let cat = SchemaCatalog::builtin();
        let layout = plan("AzureDiagnostics", &[f], cat.table("AzureDiagnostics"), &LoadOptions::default()).unwrap();
        let (batches, report) = load_all(&layout, &LoadOptions::default(), 1).unwrap();
        assert_eq!((report.rows, report.bad_values), (10_000, 0));
        assert_eq!(
            batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
            [LINE_BATCH_ROWS, 10_000 - LINE_BATCH_ROWS]
        );
        let all = datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        let col = |name: &str| all.column(all.schema().index_of(name).unwrap()).clone();
        let resource = col("Resource");
        let resource = resource.as_any().downcast_ref::<datafusion::arrow::array::StringArray>().unwrap();
        assert_eq!(resource.null_count(), 0, "a missing string is empty, not null");
        assert!((0..10_000).all(|i| resource.value(i) == if i == 5 { "r5" } else { "" }));
        let duration = col("DurationMs");
        let duration = duration.as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().unwrap();
        assert_eq!(duration.null_count(), 9_999);
        assert_eq!(duration.value(9000), 9000);
        let category = col("Category");
        let category = category.as_any().downcast_ref::<datafusion::arrow::array::StringArray>().unwrap();
        assert_eq!((category.value(0), category.value(9999)), ("c0", "c9999"));
        // the second batch has no `Resource`, nor any of the other absent text columns: one
        // shared array serves them all
        let b = &batches[1];
        let (r, other) = (b.schema().index_of("Resource").unwrap(), b.schema().index_of("OperationName").unwrap());
        assert!(Arc::ptr_eq(b.column(r), b.column(other)));
        assert!(!Arc::ptr_eq(batches[0].column(r), b.column(r)));
    }

    #[test]
    fn fields_out_of_the_previous_lines_order_land_in_their_columns() {
        let dir = tempdir();
        let lines = [
            r#"{"Computer":"a","TimeGenerated":"2025-01-01T00:00:00Z","Category":"c1"}"#,
            r#"{"TimeGenerated":"2025-01-02T00:00:00Z","Computer":"b"}"#,
            r#"{"Computer":"c","Zed":2,"TimeGenerated":"2025-01-03T00:00:00Z"}"#,
            r#"{"Computer":"d","TimeGenerated":"2025-01-04T00:00:00Z","Category":"c4"}"#,
            r#"{"Computer" : "e","TimeGenerated":"2025-01-05T00:00:00Z"}"#,
            r#"{"Computer":"f","TimeGenerated":"2025-01-06T00:00:00Z","Zed":3,"Category":"c6"}"#,
            r#"{"Computer":"g","Zed":{"Computer":"no"}}"#,
            r#"{"Computer":"h","TimeGenerated":"2025-01-08T00:00:00Z","Category":"c8"}"#,
        ];
        let f = write(dir.path(), "Heartbeat.jsonl", &(lines.join("\n") + "\n"));
        let cat = SchemaCatalog::builtin();
        let layout = plan("Heartbeat", &[f], cat.table("Heartbeat"), &LoadOptions::default()).unwrap();
        let (batches, report) = load_all(&layout, &LoadOptions::default(), 1).unwrap();
        let batch = datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        let shown = |name: &str| -> Vec<String> {
            let col = batch.column(batch.schema().index_of(name).unwrap());
            let fmt = datafusion::arrow::util::display::ArrayFormatter::try_new(
                col.as_ref(),
                &datafusion::arrow::util::display::FormatOptions::default().with_null("-"),
            )
            .unwrap();
            (0..batch.num_rows()).map(|i| fmt.value(i).to_string()).collect()
        };
        assert_eq!(shown("Computer"), ["a", "b", "c", "d", "e", "f", "g", "h"]);
        assert_eq!(shown("Category"), ["c1", "", "", "c4", "", "c6", "", "c8"], "a missing string is empty");
        // datetimes are 100-nanosecond ticks since 1970; 2025-01-01 is day 20089
        let days: Vec<String> = shown("TimeGenerated")
            .iter()
            .map(|t| t.parse::<i64>().map_or("-".into(), |n| (n / 864_000_000_000 - 20088).to_string()))
            .collect();
        assert_eq!(days, ["1", "2", "3", "4", "5", "6", "-", "8"]);
        // `Zed` is in the first lines, so the sample made it a column
        let zed = shown("Zed");
        assert_eq!(
            (&zed[2], &zed[5], &zed[6]),
            (&"2".to_string(), &"3".to_string(), &r#"{"Computer":"no"}"#.to_string())
        );
        assert_eq!((report.rows, report.skipped, report.bad_values), (8, 0, 0), "{:?}", report.problems);
    }

    #[test]
    fn a_limit_stops_the_read_early() {
        let dir = tempdir();
        let text: String = (0..50_000).map(|i| format!("{{\"Computer\":\"h{i}\"}}\n")).collect();
        let f = write(dir.path(), "Heartbeat.jsonl", &text);
        let layout =
            plan("Heartbeat", &[f], SchemaCatalog::builtin().table("Heartbeat"), &LoadOptions::default()).unwrap();
        let mut dec = LineDecoder::new(&layout, Some(&[0])).with_limit(Some(10));
        let mut rep = LoadReport::default();
        let mut n = 0;
        let parts = split(&layout, 1);
        decode_part(
            &layout,
            &parts[0],
            &mut dec,
            &mut rep,
            &LoadOptions::default(),
            &ReadProgress::default(),
            &mut |b| {
                n += b.num_rows();
                true
            },
        )
        .unwrap();
        assert_eq!(n, 10);
        assert_eq!(rep.rows, 10);
    }
}
