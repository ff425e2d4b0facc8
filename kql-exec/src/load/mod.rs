//! Loading exported logs into typed Arrow tables.
//!
//! - [`json`]: JSON lines and JSON arrays (gzip or not);
//! - [`csv`]: CSV with a header row (including the portal's "Export to CSV");
//! - [`convert`]: JSON / text values to KQL-typed Arrow columns;
//! - [`externaldata`]: the `externaldata` operator, served from local files.
//!
//! Table names come from file and folder names, matched to the real table name through the
//! schema catalog (`signinlogs.jsonl` is `SigninLogs`).

pub mod convert;
pub mod csv;
pub mod externaldata;
pub mod json;

use crate::binder::Col;
use crate::error::{KqlError, Result};
use crate::schema::{SchemaCatalog, TableSchema};
use datafusion::arrow::array::RecordBatch;
use std::path::{Path, PathBuf};

/// What a load read and skipped.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Rows read.
    pub rows: usize,
    /// Records skipped.
    pub skipped: usize,
    /// The first few problems: `file:line: reason`.
    pub problems: Vec<String>,
}

impl LoadReport {
    /// Note a skipped record.
    pub fn skip(&mut self, file: &Path, line: usize, reason: impl std::fmt::Display) {
        self.skipped += 1;
        if self.problems.len() < 5 {
            self.problems.push(format!("{}:{line}: {reason}", file.display()));
        }
    }

    /// Add another report.
    pub fn merge(&mut self, other: LoadReport) {
        self.rows += other.rows;
        self.skipped += other.skipped;
        for p in other.problems {
            if self.problems.len() < 5 {
                self.problems.push(p);
            }
        }
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

/// Options for loading.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Any unreadable record is an error.
    pub strict: bool,
}

/// Find the data files of `path` and the table each belongs to: a file is one table named
/// after its stem; a folder holds one table per file, or per subfolder of files.
pub fn discover(path: &Path, schemas: &SchemaCatalog) -> Result<Vec<(String, Vec<PathBuf>)>> {
    if !path.exists() {
        return Err(KqlError::general("KQL100", format!("{}: no such file or directory", path.display())));
    }
    let mut out: Vec<(String, Vec<PathBuf>)> = Vec::new();
    if path.is_file() {
        out.push((table_name_for(path, schemas), vec![path.to_path_buf()]));
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
                out.push((table_name_for(&p, schemas), files));
            }
        } else if is_data_file(&p) {
            let name = table_name_for(&p, schemas);
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some((_, fs)) => fs.push(p),
                None => out.push((name, vec![p])),
            }
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
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".csv")
}

/// The table a file or folder holds: its stem, matched to a known table name.
pub fn table_name_for(p: &Path, schemas: &SchemaCatalog) -> String {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("table");
    let mut stem = name;
    for ext in [".gz", ".jsonl", ".ndjson", ".json", ".csv"] {
        if let Some(s) = stem.strip_suffix(ext) {
            stem = s;
        }
    }
    schemas.resolve_table_name(stem).map(|s| s.to_string()).unwrap_or_else(|| stem.to_string())
}

/// Load one table from its files.
pub fn load_table(
    name: &str,
    files: &[PathBuf],
    schema: Option<&TableSchema>,
    opts: &LoadOptions,
) -> Result<LoadedTable> {
    let csv_files: Vec<&PathBuf> = files.iter().filter(|f| is_csv(f)).collect();
    let json_files: Vec<&PathBuf> = files.iter().filter(|f| !is_csv(f)).collect();
    let mut records: Vec<json::Record> = Vec::new();
    let mut report = LoadReport::default();
    for f in json_files {
        json::read_records(f, &mut records, &mut report, opts)?;
    }
    for f in csv_files {
        csv::read_records(f, &mut records, &mut report, opts)?;
    }
    let (cols, batches) = convert::to_batches(&records, schema)?;
    report.rows = records.len();
    Ok(LoadedTable { name: name.to_string(), cols, batches, report })
}

fn is_csv(p: &Path) -> bool {
    let n = p.to_string_lossy().to_lowercase();
    n.ends_with(".csv") || n.ends_with(".csv.gz")
}
