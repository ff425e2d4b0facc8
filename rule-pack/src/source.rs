//! Reading query text out of rule files: `.kql` files as they are, and the `query:` field of
//! Sentinel analytic-rule / hunting-query YAML, with the offsets needed to report positions
//! in the YAML file itself.

use std::path::{Path, PathBuf};

/// A query read from a file, with where it sits in that file.
#[derive(Debug, Clone)]
pub struct QuerySource {
    /// The file.
    pub path: PathBuf,
    /// The query text.
    pub query: String,
    /// 0-based line in the file where the query's first line is.
    pub line_offset: usize,
    /// Columns to add to positions on every query line (block-scalar indentation).
    pub col_offset: usize,
}

impl QuerySource {
    /// Map a 1-based line:col in the query to a 1-based line:col in the file.
    pub fn file_position(&self, line: usize, col: usize) -> (usize, usize) {
        (line + self.line_offset, col + self.col_offset)
    }
}

/// Errors reading a rule file.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The YAML is malformed.
    #[error("{path}:{line}:{col}: invalid YAML: {message}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// The YAML is well formed but a rule field has the wrong shape (e.g. a list where
    /// Sentinel expects a string).
    #[error("{path}:{line}:{col}: invalid rule: {message}")]
    InvalidRule {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The field and what is wrong with it.
        message: String,
    },
    /// The YAML has no `query` field.
    #[error("{path}: no `query` field (a Sentinel rule keeps its KQL under `query:`)")]
    NoQuery {
        /// The file.
        path: PathBuf,
    },
}

/// True for file extensions this tool reads as rules.
pub fn is_rule_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("kql" | "yaml" | "yml" | "csl"))
}

/// Files in rule folders that are not rules: tests (`*.test.yaml`) and pack files
/// (`pack.yaml`).
pub fn is_support_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".test.yaml") || name == crate::pack::PACK_FILE
}

/// Expand files and directories (recursively, sorted) into rule files.
pub fn collect_rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SourceError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| SourceError::Io { path: p.clone(), source: e })?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if is_rule_file(&p) && !is_support_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Read the query of a `.kql` or rule `.yaml` file.
pub fn read_query(path: &Path) -> Result<QuerySource, SourceError> {
    let text = std::fs::read_to_string(path).map_err(|e| SourceError::Io { path: path.to_path_buf(), source: e })?;
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    if !is_yaml {
        return Ok(QuerySource { path: path.to_path_buf(), query: text, line_offset: 0, col_offset: 0 });
    }
    query_from_yaml(path, &text)
}

/// Extract the `query` field of a YAML document and locate it in the text.
pub fn query_from_yaml(path: &Path, text: &str) -> Result<QuerySource, SourceError> {
    let value = first_document_with(path, text, "query")?;
    let query = value
        .get("query")
        .and_then(|q| q.as_str())
        .ok_or_else(|| SourceError::NoQuery { path: path.to_path_buf() })?
        .to_string();
    let (line_offset, col_offset) = locate_block(text, "query");
    Ok(QuerySource { path: path.to_path_buf(), query, line_offset, col_offset })
}

/// Parse a YAML text (possibly several `---` documents) and return the first document that
/// has `key`, or the first document.
pub fn first_document_with(path: &Path, text: &str, key: &str) -> Result<serde_yaml::Value, SourceError> {
    Ok(document_with(path, text, key)?.1)
}

/// Like [`first_document_with`], also giving the document's index in the stream (so it can be
/// deserialized again with positions in errors).
pub fn document_with(path: &Path, text: &str, key: &str) -> Result<(usize, serde_yaml::Value), SourceError> {
    use serde::Deserialize;
    let mut first = None;
    for (index, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = serde_yaml::Value::deserialize(doc).map_err(|e| {
            let (line, col) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
            SourceError::Yaml { path: path.to_path_buf(), line, col, message: e.to_string() }
        })?;
        if value.get(key).is_some() {
            return Ok((index, value));
        }
        if first.is_none() {
            first = Some((index, value));
        }
    }
    Ok(first.unwrap_or((0, serde_yaml::Value::Null)))
}

/// Where the value of top-level key `key` starts: for a block scalar (`key: |`), the next
/// line and its indentation; for an inline value, the key's line and the value's column.
fn locate_block(text: &str, key: &str) -> (usize, usize) {
    let prefix = format!("{key}:");
    for (n, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix(&prefix) {
            let v = rest.trim();
            if v.starts_with('|') || v.starts_with('>') || v.is_empty() {
                let indent = text
                    .lines()
                    .skip(n + 1)
                    .find(|l| !l.trim().is_empty())
                    .map(|l| l.len() - l.trim_start().len())
                    .unwrap_or(0);
                return (n + 1, indent);
            }
            let col = line.len() - rest.trim_start().len();
            let quoted = v.starts_with('"') || v.starts_with('\'');
            return (n, col + usize::from(quoted));
        }
    }
    (0, 0)
}
