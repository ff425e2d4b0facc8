//! Baselines: the findings a project has accepted for now, recorded in a file, so that
//! `kql check --baseline FILE` reports only new ones.
//!
//! A finding is recorded by its file, its code and the text of its line (trimmed), with a count,
//! not by line number: lines added above it do not make it new, and changing the line it is on
//! does.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The version written to and expected in baseline files.
pub const VERSION: u32 = 1;

/// One recorded finding, with how many times it occurs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// The file, as given on the command line (forward slashes, no leading `./`).
    pub path: String,
    /// The code.
    pub code: String,
    /// The finding's line of query text, trimmed.
    pub line: String,
    /// How many findings have this path, code and line.
    pub count: usize,
}

/// A baseline file's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// The format's version ([`VERSION`]).
    pub version: u32,
    /// The findings, sorted.
    pub findings: Vec<Entry>,
}

/// Why a baseline could not be read or written.
#[derive(Debug)]
pub enum BaselineError {
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// The file is not a baseline.
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl std::fmt::Display for BaselineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BaselineError::Io { path, error } => write!(f, "baseline {}: {error}", path.display()),
            BaselineError::Format { path, message } => write!(
                f,
                "baseline {}: {message} (write a new one with `kql check --write-baseline {}`)",
                path.display(),
                path.display()
            ),
        }
    }
}

impl std::error::Error for BaselineError {}

/// The key a finding is recorded under.
pub fn normalize_path(path: &str) -> String {
    let p = path.replace('\\', "/");
    p.strip_prefix("./").unwrap_or(&p).to_string()
}

impl Baseline {
    /// A baseline of these findings (path, code, line text), counted.
    pub fn of<'a>(findings: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Self {
        let mut counts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        for (path, code, line) in findings {
            *counts.entry((normalize_path(path), code.to_string(), line.trim().to_string())).or_default() += 1;
        }
        Baseline {
            version: VERSION,
            findings: counts.into_iter().map(|((path, code, line), count)| Entry { path, code, line, count }).collect(),
        }
    }

    /// Read a baseline file.
    pub fn read(path: &Path) -> Result<Self, BaselineError> {
        let text =
            std::fs::read_to_string(path).map_err(|error| BaselineError::Io { path: path.to_path_buf(), error })?;
        let b: Baseline = serde_json::from_str(&text)
            .map_err(|e| BaselineError::Format { path: path.to_path_buf(), message: format!("not a baseline: {e}") })?;
        if b.version != VERSION {
            return Err(BaselineError::Format {
                path: path.to_path_buf(),
                message: format!("version {} (this kql reads version {VERSION})", b.version),
            });
        }
        Ok(b)
    }

    /// Write it as pretty JSON (stable order: it is meant to be committed and diffed).
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let text = serde_json::to_string_pretty(self).expect("a baseline serializes") + "\n";
        std::fs::write(path, text).map_err(|error| BaselineError::Io { path: path.to_path_buf(), error })
    }

    /// A matcher that takes recorded findings one occurrence at a time.
    pub fn matcher(&self) -> Matcher {
        Matcher {
            remaining: self
                .findings
                .iter()
                .map(|e| ((e.path.clone(), e.code.clone(), e.line.clone()), e.count))
                .collect(),
        }
    }
}

/// Takes findings off a baseline: each recorded occurrence matches one finding.
#[derive(Debug, Clone)]
pub struct Matcher {
    remaining: BTreeMap<(String, String, String), usize>,
}

impl Matcher {
    /// Whether this finding is recorded (and not yet taken by an earlier one).
    pub fn take(&mut self, path: &str, code: &str, line: &str) -> bool {
        let key = (normalize_path(path), code.to_string(), line.trim().to_string());
        match self.remaining.get_mut(&key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_findings_match_by_text_and_count_not_line_number() {
        let b = Baseline::of([
            ("./rules/a.kql", "KQLW008", "| join (U) on k"),
            ("rules/a.kql", "KQLW008", "  | join (U) on k  "),
            ("rules/a.kql", "KQLW004", "T"),
        ]);
        assert_eq!(b.findings.len(), 2);
        let mut m = b.matcher();
        assert!(m.take("rules/a.kql", "KQLW008", "| join (U) on k"));
        assert!(m.take("./rules/a.kql", "KQLW008", "| join (U) on k"));
        assert!(!m.take("rules/a.kql", "KQLW008", "| join (U) on k"), "a third is new");
        assert!(!m.take("rules/a.kql", "KQLW008", "| join (V) on k"), "another line is new");
        assert!(m.take("rules/a.kql", "KQLW004", "T"));
    }

    #[test]
    fn a_baseline_round_trips_and_bad_files_are_errors() {
        let dir = std::env::temp_dir().join(format!("kql-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("b.json");
        let b = Baseline::of([("a.kql", "KQLW007", "x")]);
        b.write(&p).unwrap();
        assert_eq!(Baseline::read(&p).unwrap(), b);
        std::fs::write(&p, "[1, 2]").unwrap();
        assert!(Baseline::read(&p).unwrap_err().to_string().contains("not a baseline"));
        std::fs::write(&p, r#"{"version": 9, "findings": []}"#).unwrap();
        assert!(Baseline::read(&p).unwrap_err().to_string().contains("version 9"));
        assert!(matches!(Baseline::read(&dir.join("missing.json")), Err(BaselineError::Io { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
