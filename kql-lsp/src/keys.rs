//! Keys of dynamic columns seen in the project's data: after `Column.` (or `Column.a.`) where
//! `Column` is dynamic, completion offers the keys its values have in a sample of the data, when
//! `kql.toml` names data folders (`data = [...]`).
//!
//! The sample is the first whole lines (at most [`SAMPLE_BYTES`]) of up to three files of each
//! table, copied to a temporary folder and loaded into a session of its own the first time a
//! key is asked for; the cursor's pipeline runs over it with the member's keys listed. Each
//! pipeline and path is asked once; a failure (no data, the pipeline does not run yet) gives
//! no keys.

use kql_exec::load::{self, LoadOptions};
use kql_exec::session::{Catalog, MemoryLoader, Session, SessionOptions};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How much of each data file the sample takes.
pub const SAMPLE_BYTES: u64 = 256 << 10;

/// The keys of dynamic columns in a sample of a project's data.
pub struct KeySampler {
    data: Vec<PathBuf>,
    functions: Vec<PathBuf>,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// The sample's session (made on first use), or why it could not be.
    session: Option<Result<Session, String>>,
    /// The folder holding the sampled files.
    dir: Option<PathBuf>,
    /// Keys by pipeline and path.
    cache: HashMap<(String, String), Vec<String>>,
}

impl KeySampler {
    /// A sampler of the data folders `data` (none: no keys are ever offered), with the stored
    /// functions of `functions` (the pipelines may call them).
    pub fn new(data: Vec<PathBuf>, functions: Vec<PathBuf>) -> KeySampler {
        KeySampler { data, functions, state: RefCell::new(State::default()) }
    }

    /// The keys of `path` (`Column` or `Column.a.b`) in the rows `input` (a query text) gives
    /// over the sample, sorted.
    pub fn keys(&self, input: &str, path: &str) -> Vec<String> {
        if self.data.is_empty() {
            return vec![];
        }
        let mut state = self.state.borrow_mut();
        let key = (input.to_string(), path.to_string());
        if let Some(k) = state.cache.get(&key) {
            return k.clone();
        }
        if state.session.is_none() {
            let dir = std::env::temp_dir().join(format!("kql-lsp-sample-{}-{:p}", std::process::id(), self));
            state.session = Some(sample_session(&self.data, &self.functions, &dir));
            state.dir = Some(dir);
        }
        let keys = match state.session.as_ref() {
            Some(Ok(session)) => {
                let q = format!(
                    "{input}\n| take 1000\n| project __kql_value = {path}\n| mv-expand __kql_key = bag_keys(__kql_value)\n\
                     | summarize by __kql_key = tostring(__kql_key)\n| order by __kql_key asc"
                );
                match session.query(&q) {
                    Ok(r) => kql_exec::output::rows_json(&r)
                        .into_iter()
                        .filter_map(|row| row.first().and_then(|v| v.as_str()).map(str::to_string))
                        .filter(|k| !k.is_empty())
                        .collect(),
                    Err(_) => vec![],
                }
            }
            _ => vec![],
        };
        state.cache.insert(key, keys.clone());
        keys
    }
}

impl Drop for KeySampler {
    fn drop(&mut self) {
        if let Some(dir) = &self.state.borrow().dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A session over samples of the tables in `data`, their files copied under `dir`, with the
/// stored functions of `functions`.
fn sample_session(data: &[PathBuf], functions: &[PathBuf], dir: &Path) -> Result<Session, String> {
    let options = SessionOptions { threads: Some(1), timeout: Some(Duration::from_secs(2)), ..Default::default() };
    let mut session = Session::new(Catalog::with_builtin_schemas(), options).map_err(|e| e.to_string())?;
    for f in functions {
        // a function file that does not load only costs the pipelines that call it their keys
        let _ = rule_pack::parsers::load_function_files(&mut session, f);
    }
    let loader = Arc::new(MemoryLoader { options: LoadOptions::default() });
    for d in data {
        let tables = load::discover(d, session.catalog.schemas()).map_err(|e| e.to_string())?;
        for (name, files) in tables {
            let folder = dir.join(&name);
            let sampled: Vec<PathBuf> =
                files.iter().take(3).enumerate().filter_map(|(i, f)| sample_file(f, &folder, i)).collect();
            if !sampled.is_empty() {
                session.catalog.add_pending_table(&name, sampled, loader.clone());
            }
        }
    }
    Ok(session)
}

/// The first whole lines of a text data file (at most [`SAMPLE_BYTES`]; a CSV keeps its
/// header line) copied into `dir`; `None` for compressed and binary files, and for a JSON
/// array too large to cut.
fn sample_file(f: &Path, dir: &Path, i: usize) -> Option<PathBuf> {
    let name = f.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if ![".jsonl", ".ndjson", ".json", ".csv"].iter().any(|x| lower.ends_with(x)) {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(f).ok()?.take(SAMPLE_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > SAMPLE_BYTES {
        // a JSON array cannot be cut at a line
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return None;
        }
        let end = bytes[..SAMPLE_BYTES as usize].iter().rposition(|b| *b == b'\n')? + 1;
        bytes.truncate(end);
    }
    std::fs::create_dir_all(dir).ok()?;
    let out = dir.join(format!("{i}-{name}"));
    std::fs::write(&out, bytes).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_sample_of_the_data() {
        let dir = std::env::temp_dir().join(format!("kql-lsp-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let mut lines = String::new();
        for i in 0..20_000 {
            lines.push_str(&format!(
                "{{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"Props\":{{\"user\":\"u{i}\",\"ip\":\"10.0.0.1\",\"geo\":{{\"city\":\"x\"}}}}}}\n"
            ));
        }
        // a key only past the sample is not seen
        lines.push_str("{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"Props\":{\"late\":1}}\n");
        std::fs::write(dir.join("logs/Custom_CL.jsonl"), lines).unwrap();
        let s = KeySampler::new(vec![dir.join("logs")], vec![]);
        assert_eq!(s.keys("Custom_CL", "Props"), ["geo", "ip", "user"]);
        assert_eq!(s.keys("Custom_CL | where Props.user == 'u1'", "Props.geo"), ["city"]);
        assert!(s.keys("Custom_CL", "NoSuchColumn").is_empty());
        assert!(KeySampler::new(vec![], vec![]).keys("Custom_CL", "Props").is_empty());
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
