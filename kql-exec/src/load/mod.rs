//! Loading exported logs into typed Arrow tables.
//!
//! - [`json`]: JSON lines and JSON documents (gzip or not);
//! - [`csv`]: CSV with a header row (including the portal's "Export to CSV");
//! - [`parquet`]: Parquet, read and written (`kql convert`), with KQL types in field metadata;
//! - [`export`]: export layouts (Log Analytics data export `am-<table>` containers, Defender XDR
//!   and diagnostic-settings `insights-logs-<category>` containers) and time pruning of their
//!   `y=/m=/d=/h=/m=` folders;
//! - [`xdr`]: Defender XDR streaming-export records (`properties` is the row);
//! - [`diagnostics`]: diagnostic-settings records mapped to `AzureDiagnostics` (or to a
//!   resource-specific table such as `SigninLogs`);
//! - [`convert`]: JSON / text values to KQL-typed Arrow columns;
//! - [`externaldata`]: the `externaldata` operator, served from local files.
//!
//! Table names come from file and folder names, export containers and XDR categories, matched
//! to the real table name through the schema catalog (`signinlogs.jsonl` is `SigninLogs`,
//! `am-containerlogv2` is `ContainerLogV2`).
//!
//! Bad input never stops a load by default: unreadable records are skipped, values that do not
//! convert to their column's type become null, and both are counted in the [`LoadReport`] with
//! the first few `file:line` locations; with [`LoadOptions::strict`] each is an error.

pub mod convert;
pub mod csv;
pub mod diagnostics;
pub mod export;
pub mod externaldata;
pub mod json;
pub mod lines;
pub mod memory;
pub mod parquet;
pub mod paths;
pub mod scan;
pub mod timefmt;
pub mod watchlist;
pub mod xdr;

use crate::binder::Col;
use crate::error::{KqlError, Result};
use crate::schema::{KqlType, SchemaCatalog, TableSchema};
use crate::types::arrow_type;
use datafusion::arrow::array::{new_null_array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many problem locations a report keeps.
pub const MAX_PROBLEMS: usize = 5;

/// What a load read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Rows read.
    pub rows: usize,
    /// Records skipped (unreadable).
    pub skipped: usize,
    /// Values that did not convert to their column's type (loaded as null).
    pub bad_values: usize,
    /// Field names seen in records that are not columns of the table (their values are not
    /// loaded; see [`lines`]).
    pub ignored_fields: usize,
    /// Fields that appear twice in a record: the last value is loaded (as JSON parsers and
    /// Kusto do), the earlier ones are not.
    pub duplicate_fields: usize,
    /// Files read.
    pub files: usize,
    /// Bytes read (uncompressed, for text formats).
    pub bytes: u64,
    /// The first few problems: `file:line: reason`.
    pub problems: Vec<String>,
    /// What a user must know about how values were read, though nothing was lost (an ambiguous
    /// date order, local times read as UTC): `file: what`.
    pub warnings: Vec<String>,
    /// Columns whose CSV header said `[Local Time]`, by file (see [`timefmt`]).
    pub local_time: Vec<(Arc<Path>, String)>,
}

impl LoadReport {
    /// Note a skipped record.
    pub fn skip(&mut self, file: &Path, line: usize, reason: impl std::fmt::Display) {
        self.skipped += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(format!("{}:{line}: {reason}", file.display()));
        }
    }

    /// Note a value loaded as null because it did not convert.
    pub fn bad_value(&mut self, at: Option<&json::Loc>, reason: impl std::fmt::Display) {
        self.bad_values += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(match at {
                Some(l) => format!("{l}: {reason}"),
                None => reason.to_string(),
            });
        }
    }

    /// Note a field that is not loaded, with where it was first seen.
    pub fn note(&mut self, msg: impl std::fmt::Display) {
        self.ignored_fields += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(msg.to_string());
        }
    }

    /// Note a field repeated in a record (its earlier value is not loaded).
    pub fn duplicate(&mut self, at: &json::Loc, field: &str) {
        self.duplicate_fields += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems
                .push(format!("{at}: duplicate field `{field}`: the last value is loaded, the earlier one is not"));
        }
    }

    /// Note how values were read (see [`LoadReport::warnings`]); at most a few are kept.
    pub fn warn(&mut self, msg: impl std::fmt::Display) {
        if self.warnings.len() < MAX_PROBLEMS {
            self.warnings.push(msg.to_string());
        }
    }

    /// Add another report.
    pub fn merge(&mut self, other: LoadReport) {
        for w in other.warnings {
            self.warn(w);
        }
        self.local_time.extend(other.local_time);
        self.rows += other.rows;
        self.skipped += other.skipped;
        self.bad_values += other.bad_values;
        self.ignored_fields += other.ignored_fields;
        self.duplicate_fields += other.duplicate_fields;
        self.files += other.files;
        self.bytes += other.bytes;
        for p in other.problems {
            if self.problems.len() < MAX_PROBLEMS {
                self.problems.push(p);
            }
        }
    }

    /// True when something was skipped or nulled, or there is a warning.
    pub fn has_problems(&self) -> bool {
        self.skipped > 0
            || self.bad_values > 0
            || self.ignored_fields > 0
            || self.duplicate_fields > 0
            || !self.warnings.is_empty()
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "read {} row(s) from {} file(s)", self.rows, self.files)?;
        if self.skipped > 0 {
            write!(f, ", skipped {} record(s)", self.skipped)?;
        }
        if self.bad_values > 0 {
            write!(f, ", {} value(s) of the wrong type loaded as null", self.bad_values)?;
        }
        if self.ignored_fields > 0 {
            write!(f, ", {} field(s) not loaded", self.ignored_fields)?;
        }
        if self.duplicate_fields > 0 {
            write!(f, ", {} duplicate field(s) (the last value loaded)", self.duplicate_fields)?;
        }
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        let more = (self.skipped + self.bad_values + self.ignored_fields + self.duplicate_fields)
            .saturating_sub(self.problems.len());
        if more > 0 && !self.problems.is_empty() {
            write!(f, "\n  ... and {more} more")?;
        }
        for w in &self.warnings {
            write!(f, "\n  note: {w}")?;
        }
        Ok(())
    }
}

/// A loaded table.
pub struct LoadedTable {
    /// The table name.
    pub name: String,
    /// Its columns.
    pub cols: Vec<Col>,
    /// Its rows.
    pub batches: Vec<RecordBatch>,
    /// What was read and skipped.
    pub report: LoadReport,
}

/// A progress callback: `(bytes done, bytes in all)` of a table's files, called after each file.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(u64, u64) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Options for loading.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Called as files are read (the CLI draws a progress bar from it).
    pub progress: Option<Progress>,
    /// Any unreadable record or unconvertible value is an error.
    pub strict: bool,
    /// The longest line (record) read, in bytes; longer ones are skipped without being held in
    /// memory. Default: [`DEFAULT_MAX_LINE_BYTES`].
    pub max_line_bytes: Option<usize>,
    /// The offset from UTC, in minutes, of the times in CSV columns headed `[Local Time]`
    /// (`--tz`); `None` reads them as UTC, with a warning.
    pub local_offset_minutes: Option<i64>,
}

/// The default longest line: 64 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;

impl LoadOptions {
    /// The longest line read.
    pub fn max_line_bytes(&self) -> usize {
        self.max_line_bytes.unwrap_or(DEFAULT_MAX_LINE_BYTES)
    }
}

/// Find the data files of `path` and the table each belongs to.
///
/// - a file is one table, named after its stem, or after its export container for export blobs
///   (`.../am-containerlogv2/.../PT05M.json` is `ContainerLogV2`);
/// - an export container (`am-<table>`, `insights-logs-<category>`), a folder inside one, or a
///   partition folder (`y=2025`) is one table;
/// - any other folder holds one table per file, or per subfolder (named after the subfolder, or
///   the container it is); folders that name the same table are merged (several
///   diagnostic-settings categories all go to `AzureDiagnostics`).
pub fn discover(path: &Path, schemas: &SchemaCatalog) -> Result<Vec<(String, Vec<PathBuf>)>> {
    if !path.exists() {
        return Err(KqlError::general("KQL100", format!("{}: no such file or directory", path.display())));
    }
    let mut out: Vec<(String, Vec<PathBuf>)> = Vec::new();
    let mut add = |name: String, files: Vec<PathBuf>| match out.iter_mut().find(|(n, _)| *n == name) {
        Some((_, fs)) => fs.extend(files),
        None => out.push((name, files)),
    };
    if path.is_file() {
        add(table_name_for(path, schemas), vec![path.to_path_buf()]);
        return Ok(out);
    }
    if let Some(name) = export::table_of_export_dir(path, schemas) {
        let mut files = Vec::new();
        collect_files(path, &mut files);
        files.sort();
        add(name, files);
        return Ok(out);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| KqlError::general("KQL101", format!("{}: {e}", path.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            let mut files = Vec::new();
            collect_files(&p, &mut files);
            if !files.is_empty() {
                files.sort();
                add(table_name_for(&p, schemas), files);
            }
        } else if is_data_file(&p) {
            add(table_name_for(&p, schemas), vec![p]);
        }
    }
    Ok(out)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else if is_data_file(&p) {
            out.push(p);
        }
    }
}

/// True for the file types the loaders read.
pub fn is_data_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_lowercase();
    if name.starts_with('.') {
        return false;
    }
    if crate::schema::schema_csv_table(p).is_some() {
        return false; // a custom table's schema (`<Table>_Schema.csv`), not rows
    }
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".json")
        || name.ends_with(".jsonl")
        || name.ends_with(".ndjson")
        || name.ends_with(".csv")
        || name.ends_with(".parquet")
}

/// The table a file or folder holds: its export container's table, or its stem matched to a
/// known table name.
pub fn table_name_for(p: &Path, schemas: &SchemaCatalog) -> String {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("table");
    if let Some(t) = export::container_table(name, schemas) {
        return t;
    }
    let mut stem = name;
    for ext in [".gz", ".jsonl", ".ndjson", ".json", ".csv", ".parquet"] {
        if let Some(s) = stem.strip_suffix(ext) {
            stem = s;
        }
    }
    if p.is_file() && (export::is_blob_name(stem) || export::in_partition(p)) {
        if let Some(t) = export::table_of_export_dir(p, schemas) {
            return t;
        }
    }
    if let Some(t) = schemas.resolve_table_name(stem) {
        return t.to_string();
    }
    // an export named after what it holds (`Cisco_Meraki_Authentication_IngestedLogs.csv`):
    // Log Analytics writes the table's name in every row's `Type`
    if p.is_file() {
        if let Some(t) = type_column_of(p) {
            return schemas.resolve_table_name(&t).map(|s| s.to_string()).unwrap_or(t);
        }
    }
    stem.to_string()
}

/// The `Type` of the first record of a CSV or JSON-lines file (the table Log Analytics wrote it
/// from), when it has one that can name a table.
pub fn type_column_of(p: &Path) -> Option<String> {
    use std::io::{BufRead, Read};
    let value = if is_csv(p) {
        let mut rdr = ::csv::ReaderBuilder::new().flexible(true).from_reader(json::open(p).ok()?);
        let at = rdr.headers().ok()?.iter().position(|h| csv::clean_header(h) == "Type")?;
        let rec = rdr.records().next()?.ok()?;
        rec.get(at)?.trim().to_string()
    } else {
        let mut line = String::new();
        std::io::BufReader::new(json::open(p).ok()?).take(1 << 20).read_line(&mut line).ok()?;
        match serde_json::from_str::<serde_json::Value>(line.trim()).ok()? {
            serde_json::Value::Object(m) => m.get("Type")?.as_str()?.trim().to_string(),
            _ => return None,
        }
    };
    let ok = !value.is_empty() && value.len() <= 128 && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(value)
}

fn is_parquet(p: &Path) -> bool {
    p.to_string_lossy().to_lowercase().ends_with(".parquet")
}

fn is_csv(p: &Path) -> bool {
    let n = p.to_string_lossy().to_lowercase();
    n.ends_with(".csv") || n.ends_with(".csv.gz")
}

/// Load one table from its files (any mix of formats).
pub fn load_table(
    name: &str,
    files: &[PathBuf],
    schema: Option<&TableSchema>,
    opts: &LoadOptions,
) -> Result<LoadedTable> {
    let text_files: Vec<PathBuf> = files.iter().filter(|f| !is_parquet(f)).cloned().collect();
    if let Some(layout) = lines::plan(name, &text_files, schema, opts) {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let (batches, mut report) = lines::load_all(&layout, opts, threads)?;
        let cols = layout.cols.clone();
        let pq: Vec<PathBuf> = files.iter().filter(|f| is_parquet(f)).cloned().collect();
        if pq.is_empty() {
            return Ok(LoadedTable { name: name.to_string(), cols, batches, report });
        }
        let rest = load_table(name, &pq, schema, opts)?;
        report.merge(rest.report);
        let (cols, batches) = union_tables(cols, batches, rest.cols, rest.batches)?;
        return Ok(LoadedTable { name: name.to_string(), cols, batches, report });
    }
    let mut records: Vec<json::Record> = Vec::new();
    let mut report = LoadReport::default();
    let size = |f: &PathBuf| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
    let total: u64 = if opts.progress.is_some() { files.iter().map(size).sum() } else { 0 };
    let mut done = 0u64;
    let mut tick = |f: &PathBuf| {
        if let Some(p) = &opts.progress {
            done += size(f);
            (p.0)(done, total);
        }
    };
    for f in files.iter().filter(|f| !is_parquet(f)) {
        if is_csv(f) {
            csv::read_records(f, &mut records, &mut report, opts)?;
        } else {
            json::read_records(f, &mut records, &mut report, opts)?;
        }
        tick(f);
    }
    let shaped = shape_records(name, schema, &mut records);
    // a table without a known schema still has Log Analytics' standard columns
    let standard = schema.is_none().then(|| {
        let mut t = TableSchema::new(name, Vec::new());
        t.add_standard_columns();
        t
    });
    let schema = shaped.as_ref().or(schema);
    let (mut cols, mut batches) = convert::to_batches(&records, schema.or(standard.as_ref()), &mut report, opts)?;
    report.rows = records.len();
    drop(records);
    let pq: Vec<&PathBuf> = files.iter().filter(|f| is_parquet(f)).collect();
    if !pq.is_empty() {
        let mut first = report.files == 0;
        for f in pq {
            let (pcols, pbatches) = parquet::read_table(f, schema, &mut report, opts)?;
            tick(f);
            report.files += 1;
            report.rows += pbatches.iter().map(|b| b.num_rows()).sum::<usize>();
            if first {
                first = false;
                cols = pcols;
                batches = pbatches;
            } else {
                (cols, batches) = union_tables(cols, batches, pcols, pbatches)?;
            }
        }
    }
    Ok(LoadedTable { name: name.to_string(), cols, batches, report })
}

/// Apply the export shapes: Defender XDR records become their `properties`, diagnostic-settings
/// records are mapped to their table's columns, `TimeGenerated` is filled from `Timestamp`.
/// Returns the schema extended with the columns the mapping gives types to, when it does.
fn shape_records(name: &str, schema: Option<&TableSchema>, records: &mut [json::Record]) -> Option<TableSchema> {
    let azure_diag = name.eq_ignore_ascii_case(diagnostics::AZURE_DIAGNOSTICS);
    let mut last_file: Option<(*const Path, bool)> = None;
    let mut any_diag = false;
    // diagnostic-settings records copied out of their container: mapped when the table's schema
    // has no columns of the envelope's shape
    let envelope_is_foreign = schema.is_some_and(|s| s.column("properties").is_none() && s.column("time").is_none());
    for r in records.iter_mut() {
        if r.text {
            continue;
        }
        if xdr::is_xdr(&r.fields) {
            xdr::unwrap(r, name, schema);
            continue;
        }
        if !diagnostics::is_envelope(&r.fields) {
            continue;
        }
        let from_diag_container = match &r.loc {
            Some(l) => {
                let ptr: *const Path = Arc::as_ptr(&l.file);
                match last_file {
                    Some((p, v)) if std::ptr::eq(p, ptr) => v,
                    _ => {
                        let v = export::in_diagnostics_container(&l.file);
                        last_file = Some((ptr, v));
                        v
                    }
                }
            }
            None => false,
        };
        if azure_diag {
            diagnostics::to_azure_diagnostics(r);
            any_diag = true;
        } else if from_diag_container || envelope_is_foreign {
            diagnostics::to_resource_specific(r, name, schema);
        }
    }
    if let Some(s) = schema {
        if s.column("TimeGenerated").is_some() && s.column("Timestamp").is_some() {
            for r in records.iter_mut() {
                xdr::fill_time_generated(&mut r.fields);
            }
        }
    }
    if any_diag {
        Some(diagnostics::extend_schema(name, schema, records))
    } else {
        None
    }
}

/// Two tables' rows under the union of their columns (the first table's types win; the other's
/// columns are cast, and missing columns are null, or `""` for strings).
fn union_tables(
    a_cols: Vec<Col>,
    a: Vec<RecordBatch>,
    b_cols: Vec<Col>,
    b: Vec<RecordBatch>,
) -> Result<(Vec<Col>, Vec<RecordBatch>)> {
    let mut cols = a_cols.clone();
    for c in &b_cols {
        if !cols.iter().any(|x| x.name == c.name) {
            cols.push(c.clone());
        }
    }
    let schema =
        Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    let mut out = Vec::new();
    for (src_cols, batches) in [(&a_cols, a), (&b_cols, b)] {
        for batch in batches {
            let n = batch.num_rows();
            let arrays = cols
                .iter()
                .map(|c| match src_cols.iter().position(|x| x.name == c.name) {
                    Some(i) => {
                        let arr = batch.column(i);
                        if arr.data_type() == &arrow_type(c.ty) {
                            Ok(arr.clone())
                        } else {
                            datafusion::arrow::compute::cast(arr, &arrow_type(c.ty))
                                .map_err(|e| KqlError::general("KQL109", format!("column `{}`: {e}", c.name)))
                        }
                    }
                    None => Ok(missing_column(c.ty, n)),
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(
                RecordBatch::try_new(schema.clone(), arrays).map_err(|e| KqlError::general("KQL109", e.to_string()))?,
            );
        }
    }
    Ok((cols, out))
}

/// A column absent from the input: null, or `""` for strings (KQL strings are never null).
pub fn missing_column(ty: KqlType, n: usize) -> ArrayRef {
    match ty {
        KqlType::String | KqlType::Guid => Arc::new(StringArray::from(vec![""; n])),
        t => new_null_array(&arrow_type(t), n),
    }
}

#[cfg(test)]
mod tests;
