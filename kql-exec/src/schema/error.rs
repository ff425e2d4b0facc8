//! [`SchemaError`]: why a schema file or catalog could not be read. Every variant names its file.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// An error reading a schema file, a schema folder or a catalog in the compact TSV format.
#[derive(Debug)]
pub enum SchemaError {
    /// The file or folder could not be read.
    Io { path: PathBuf, source: io::Error },
    /// The file is not JSON (after trailing commas are removed). `line` and `column` are 1-based.
    Json { path: PathBuf, line: usize, column: usize, message: String },
    /// The file is JSON but not a schema: `message` says where (`tables.T`, `[2].Properties`, ...) and what.
    Format { path: PathBuf, message: String },
    /// A line of a catalog in the compact TSV format is malformed (`line` is 1-based).
    Tsv { path: PathBuf, line: usize, message: String },
}

impl SchemaError {
    /// The file (or folder) the error is about.
    pub fn path(&self) -> &Path {
        match self {
            SchemaError::Io { path, .. }
            | SchemaError::Json { path, .. }
            | SchemaError::Format { path, .. }
            | SchemaError::Tsv { path, .. } => path,
        }
    }

    pub(crate) fn format(path: &Path, message: impl Into<String>) -> SchemaError {
        SchemaError::Format { path: path.to_path_buf(), message: message.into() }
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::Io { path, source } => write!(f, "{}: cannot read schema: {source}", path.display()),
            SchemaError::Json { path, line, column, message } => {
                write!(f, "{}:{line}:{column}: invalid JSON in schema file: {message}", path.display())
            }
            SchemaError::Format { path, message } => write!(f, "{}: not a schema file: {message}", path.display()),
            SchemaError::Tsv { path, line, message } => {
                write!(f, "{}:{line}: bad catalog line: {message}", path.display())
            }
        }
    }
}

impl Error for SchemaError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            SchemaError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
