//! Shared helpers: locating test data and reading JSON lines.

use std::path::PathBuf;

/// The `tests/data` folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Read a JSON-lines file of `tests/data` into values.
pub fn read_jsonl(rel: &str) -> Vec<serde_json::Value> {
    let path = data_dir().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("valid JSON line")).collect()
}
