//! Golden tests for rules: a `NAME.test.yaml` beside a rule names the rule, the fixture data,
//! the instant to run at, and what to expect: a golden result file, an alert count, or an
//! error (for a query that must be rejected). `--bless` writes the golden files.
//!
//! ```yaml
//! rule: rule2_content_safety.kql
//! now: 2025-10-21T15:00:00Z
//! data: ../fixtures
//! externaldata: { "https://example/list.csv": ../fixtures/list.csv }
//! expect:
//!   golden: rule2_content_safety.golden.json
//!   alerts: 1
//!   error: { code: KS142, line: 9, col: 9 }
//! ```

use crate::rule::load_rule;
use crate::runner::run_rule;
use kql_exec::load::{self, LoadOptions};
use kql_exec::session::{Catalog, MemoryLoader, Session, SessionOptions, TableLoader};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An expected error.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ExpectedError {
    /// Diagnostic code.
    pub code: String,
    /// 1-based line in the rule's query.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

/// What a test expects.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct Expect {
    /// Golden result file, relative to the test file.
    pub golden: Option<String>,
    /// Expected number of alerts.
    pub alerts: Option<usize>,
    /// Expected first error.
    pub error: Option<ExpectedError>,
}

/// A test specification.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TestSpec {
    /// The rule file, relative to the test file.
    pub rule: String,
    /// When to run (ISO 8601).
    pub now: String,
    /// Fixture data: a folder or file, relative to the test file.
    #[serde(default)]
    pub data: Vec<String>,
    /// externaldata URL to local file.
    #[serde(default)]
    pub externaldata: BTreeMap<String, String>,
    /// A MaxMind-format geo-IP database for `geo_info_from_ip_address`, relative to the test
    /// file.
    #[serde(default)]
    pub geoip: Option<String>,
    /// Watchlists for `_GetWatchlist`: alias (or `alias:SearchKeyColumn`) to CSV file.
    #[serde(default)]
    pub watchlists: BTreeMap<String, String>,
    /// Expectations.
    #[serde(default)]
    pub expect: Expect,
}

/// The outcome of one test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// Test name (the test file's stem).
    pub name: String,
    /// The test file.
    pub path: PathBuf,
    /// `None` when it passed, else why not.
    pub failure: Option<String>,
    /// Whether a golden file was written (`--bless`).
    pub blessed: bool,
    /// Seconds taken.
    pub seconds: f64,
}

/// Find `*.test.yaml` files under paths.
pub fn find_tests(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out);
        } else if p.to_string_lossy().ends_with(".test.yaml") {
            out.push(p.clone());
        }
    }
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.to_string_lossy().ends_with(".test.yaml") {
            out.push(p);
        }
    }
}

/// The golden file content for a result.
pub fn golden_json(cols: &[(String, String)], rows: &[Vec<Value>]) -> String {
    let mut s = String::from("{\n  \"columns\": [");
    for (i, (n, t)) in cols.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!("{{\"name\": {}, \"type\": \"{t}\"}}", Value::String(n.clone())));
    }
    s.push_str("],\n  \"rows\": [");
    for (i, r) in rows.iter().enumerate() {
        s.push_str(if i > 0 { ",\n    " } else { "\n    " });
        s.push_str(&Value::Array(r.clone()).to_string());
    }
    if !rows.is_empty() {
        s.push_str("\n  ");
    }
    s.push_str("]\n}\n");
    s
}

fn cell_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            // arrays built by make_set/make_list compare as multisets
            if x.len() != y.len() {
                return false;
            }
            let mut used = vec![false; y.len()];
            x.iter().all(|i| match y.iter().enumerate().position(|(k, j)| !used[k] && cell_eq(i, j)) {
                Some(k) => {
                    used[k] = true;
                    true
                }
                None => false,
            })
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| cell_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Compare result rows with golden rows (as multisets); describe the first difference by
/// row and column.
pub fn diff_rows(names: &[String], expected: &[Vec<Value>], actual: &[Vec<Value>]) -> Option<String> {
    let mut used = vec![false; actual.len()];
    let mut missing = Vec::new();
    for (i, e) in expected.iter().enumerate() {
        match actual
            .iter()
            .enumerate()
            .position(|(k, a)| !used[k] && a.len() == e.len() && a.iter().zip(e).all(|(x, y)| cell_eq(x, y)))
        {
            Some(k) => used[k] = true,
            None => missing.push(i),
        }
    }
    let extra: Vec<usize> = (0..actual.len()).filter(|k| !used[*k]).collect();
    if missing.is_empty() && extra.is_empty() {
        return None;
    }
    let mut msg = String::new();
    for &i in missing.iter().take(5) {
        let e = &expected[i];
        // the closest unmatched actual row
        let best = extra.iter().max_by_key(|&&k| actual[k].iter().zip(e).filter(|(x, y)| cell_eq(x, y)).count());
        match best {
            Some(&k) => {
                let diffs: Vec<String> = names
                    .iter()
                    .enumerate()
                    .filter(|(c, _)| !cell_eq(&e[*c], &actual[k][*c]))
                    .map(|(c, n)| format!("column `{n}`: expected {}, got {}", e[c], actual[k][c]))
                    .collect();
                msg.push_str(&format!("  row {}: {}\n", i + 1, diffs.join("; ")));
            }
            None => msg.push_str(&format!("  row {} missing: {}\n", i + 1, Value::Array(e.clone()))),
        }
    }
    if missing.is_empty() {
        for &k in extra.iter().take(5) {
            msg.push_str(&format!("  unexpected row: {}\n", Value::Array(actual[k].clone())));
        }
    }
    msg.push_str(&format!(
        "  ({} expected rows, {} actual; {} missing, {} unexpected)\n",
        expected.len(),
        actual.len(),
        missing.len(),
        extra.len()
    ));
    Some(msg)
}

/// Run one test file.
pub fn run_test(path: &Path, bless: bool) -> TestOutcome {
    let start = std::time::Instant::now();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("test").trim_end_matches(".test.yaml").to_string();
    let (failure, blessed) = match run_test_inner(path, bless) {
        Ok(b) => (None, b),
        Err(e) => (Some(e), false),
    };
    TestOutcome { name, path: path.to_path_buf(), failure, blessed, seconds: start.elapsed().as_secs_f64() }
}

fn run_test_inner(path: &Path, bless: bool) -> Result<bool, String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec: TestSpec = serde_yaml::from_str(&text).map_err(|e| {
        let loc = e.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default();
        format!("{}{loc}: invalid test file: {e}", path.display())
    })?;
    let rule = load_rule(&dir.join(&spec.rule)).map_err(|e| e.to_string())?;
    let now = kql_exec::value::datetime::parse_datetime(&spec.now)
        .ok_or_else(|| format!("{}: `now: {}` is not a datetime", path.display(), spec.now))?;
    // expected error: check the query without data
    if let Some(want) = &spec.expect.error {
        let (script, syntax) = kql_parser::parse_recovering(&rule.query);
        let mut errors: Vec<kql_exec::KqlError> = syntax.into_iter().map(Into::into).collect();
        if let Some(script) = script {
            let s = Session::new(
                Catalog::with_builtin_schemas(),
                SessionOptions { threads: Some(1), ..Default::default() },
            )
            .map_err(|e| e.to_string())?;
            errors.extend(s.check_script(&script).errors);
        }
        errors.sort_by_key(|e| e.span.map(|s| s.start).unwrap_or(0));
        let idx = kql_parser::LineIndex::new(&rule.query);
        let found: Vec<ExpectedError> = errors
            .iter()
            .map(|e| {
                let (line, col) = e.span.map(|s| idx.line_col(&rule.query, s.start)).unwrap_or((0, 0));
                ExpectedError { code: e.code.to_string(), line, col }
            })
            .collect();
        return match found.first() {
            Some(f) if f == want => Ok(false),
            Some(f) => Err(format!(
                "expected error {} at {}:{}, got {} at {}:{} ({})",
                want.code, want.line, want.col, f.code, f.line, f.col, errors[0].message
            )),
            None => {
                Err(format!("expected error {} at {}:{}, but the query is accepted", want.code, want.line, want.col))
            }
        };
    }
    let mut catalog = Catalog::with_builtin_schemas();
    for (url, file) in &spec.externaldata {
        catalog.add_externaldata(url, dir.join(file));
    }
    if let Some(g) = &spec.geoip {
        catalog.set_geoip(dir.join(g));
    }
    let mut session = Session::new(catalog, SessionOptions { threads: Some(1), now: Some(now), ..Default::default() })
        .map_err(|e| e.to_string())?;
    for (spec_name, file) in &spec.watchlists {
        let (alias, key) = load::watchlist::parse_spec(spec_name);
        let t = load::watchlist::load_watchlist(alias, &dir.join(file), key, now).map_err(|e| e.message)?;
        session.add_batches(&t.name, t.cols, t.batches).map_err(|e| e.to_string())?;
    }
    // fixtures are read when the rule's query uses them
    let loader: Arc<dyn TableLoader> = Arc::new(MemoryLoader { options: LoadOptions::default() });
    for d in &spec.data {
        let p = dir.join(d);
        for (table, files) in load::discover(&p, session.catalog.schemas()).map_err(|e| e.to_string())? {
            if table == "externaldata" || table == "expected" {
                continue;
            }
            session.catalog.add_pending_table(&table, files, loader.clone());
        }
    }
    let run = run_rule(&mut session, &rule, now).map_err(|e| format!("{}: {e}", rule.name))?;
    let mut blessed = false;
    if let Some(want) = spec.expect.alerts {
        if run.alerts.len() != want {
            return Err(format!("{}: expected {want} alert(s), got {}", rule.name, run.alerts.len()));
        }
    }
    if let Some(g) = &spec.expect.golden {
        let gpath = dir.join(g);
        let cols: Vec<(String, String)> =
            run.result.cols.iter().map(|c| (c.name.clone(), c.ty.name().to_string())).collect();
        let rows = kql_exec::output::rows_json(&run.result);
        if bless {
            let new = golden_json(&cols, &rows);
            let old = std::fs::read_to_string(&gpath).unwrap_or_default();
            if old != new {
                std::fs::write(&gpath, new).map_err(|e| format!("{}: {e}", gpath.display()))?;
                blessed = true;
            }
            return Ok(blessed);
        }
        let gtext = std::fs::read_to_string(&gpath)
            .map_err(|_| format!("{}: golden file missing: run `kql test --bless` to create it", gpath.display()))?;
        let golden: Value = serde_json::from_str(&gtext).map_err(|e| format!("{}: {e}", gpath.display()))?;
        let gcols: Vec<(String, String)> = golden["columns"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        (c["name"].as_str().unwrap_or("").to_string(), c["type"].as_str().unwrap_or("").to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        if gcols != cols {
            return Err(format!("{}: columns differ\n  expected {gcols:?}\n  got      {cols:?}", rule.name));
        }
        let grows: Vec<Vec<Value>> = golden["rows"]
            .as_array()
            .map(|a| a.iter().map(|r| r.as_array().cloned().unwrap_or_default()).collect())
            .unwrap_or_default();
        let names: Vec<String> = cols.iter().map(|c| c.0.clone()).collect();
        if let Some(d) = diff_rows(&names, &grows, &rows) {
            return Err(format!("{}: result differs from {}\n{d}", rule.name, gpath.display()));
        }
    }
    Ok(blessed)
}

/// A JUnit XML report of outcomes.
pub fn junit(outcomes: &[TestOutcome]) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let failures = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"kql\" tests=\"{}\" failures=\"{failures}\">\n",
        outcomes.len()
    );
    for o in outcomes {
        s.push_str(&format!(
            "  <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
            esc(&o.name),
            esc(&o.path.display().to_string()),
            o.seconds
        ));
        match &o.failure {
            Some(f) => s.push_str(&format!(
                ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>\n",
                esc(f.lines().next().unwrap_or("")),
                esc(f)
            )),
            None => s.push_str("/>\n"),
        }
    }
    s.push_str("</testsuite>\n");
    s
}
