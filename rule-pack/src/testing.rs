//! Tests for rules, in a `NAME.test.yaml` beside a rule: the rule, the instant to run at, the
//! input (fixture folders, or rows written in the test, typed by the built-in table schemas),
//! and what to expect: a golden result file, an alert count, rows (exact or contained),
//! entities, display names, severity, custom details, incidents, or an error (for a query that
//! must be rejected). A file may hold several named cases (fires / stays quiet). `--bless`
//! writes golden files.
//!
//! ```yaml
//! rule: ../detections/genai-jailbreak-per-user.yaml
//! now: 2025-10-21T15:00:00Z
//! cases:
//!   - name: fires on three blocked prompts
//!     tables:
//!       ContainerLogV2:
//!         - { TimeGenerated: 2025-10-21T14:10:00Z, LogMessage: { security_check_passed: FAIL, end_user_id: u1 } }
//!     expect:
//!       alerts: 1
//!       display_name: 3 content-safety failures by u1 on app
//!       rows: { contains: [ { end_user_id: u1, Failures: 3 } ] }
//!       entities: [ { type: Account, Name: u1 } ]
//!       custom_details: { Failures: "3" }
//!       incidents: 1
//!   - name: stays quiet on two
//!     tables: { ContainerLogV2: [] }
//!     expect: { alerts: 0 }
//! ```
//!
//! The older single-case form (`data:` folders, `expect:` at the top) still works, and so do
//! golden files (`expect: { golden: FILE }`).

use crate::rule::{load_rule, Rule};
use crate::runner::{Alert, RuleRun, RunOptions};
use crate::scheduler::Scheduler;
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
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Golden result file, relative to the test file.
    pub golden: Option<String>,
    /// Expected number of alerts.
    pub alerts: Option<usize>,
    /// Expected first error.
    pub error: Option<ExpectedError>,
    /// Expected result rows: a list (exactly these rows, in any order, compared on the columns
    /// each row names), or `{exact: [...], contains: [...], count: N}`.
    pub rows: Option<Value>,
    /// Entities some alert must carry: `{type: Account, Name: u1}` (the identifiers given must
    /// match; others may be present).
    pub entities: Option<Vec<serde_json::Map<String, Value>>>,
    /// Some alert has this display name.
    pub display_name: Option<String>,
    /// The display names of all alerts (in any order).
    pub display_names: Option<Vec<String>>,
    /// Every alert has this severity.
    pub severity: Option<String>,
    /// Custom details some alert must carry: key to a value or a list of values (contained in
    /// the alert's values of that key).
    pub custom_details: Option<BTreeMap<String, Value>>,
    /// Expected number of incidents the alerts open.
    pub incidents: Option<usize>,
}

/// Inline input rows: table name to rows (objects of column to value).
pub type InlineTables = BTreeMap<String, Vec<serde_json::Map<String, Value>>>;

/// One named case of a test file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the case shows (`fires on ...`, `stays quiet when ...`).
    pub name: String,
    /// When to run (default: the file's `now`).
    #[serde(default)]
    pub now: Option<String>,
    /// Input rows of this case; a table named here replaces the file's rows of that table.
    #[serde(default)]
    pub tables: InlineTables,
    /// Expectations.
    #[serde(default)]
    pub expect: Expect,
}

/// A test specification.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    /// The rule file, relative to the test file.
    pub rule: String,
    /// When to run (ISO 8601); cases may set their own.
    #[serde(default)]
    pub now: Option<String>,
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
    /// Input rows shared by the cases (typed by the built-in schemas).
    #[serde(default)]
    pub tables: InlineTables,
    /// Expectations (of the file's single case, when it has no `cases`).
    #[serde(default)]
    pub expect: Expect,
    /// Named cases.
    #[serde(default)]
    pub cases: Vec<TestCase>,
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

/// Run one test file, all its cases folded into one outcome (failures joined).
pub fn run_test(path: &Path, bless: bool) -> TestOutcome {
    let start = std::time::Instant::now();
    let cases = run_test_cases(path, bless);
    let failures: Vec<String> =
        cases.iter().filter_map(|c| c.failure.as_ref().map(|f| format!("case `{}`: {f}", c.name))).collect();
    TestOutcome {
        name: test_name(path),
        path: path.to_path_buf(),
        failure: (!failures.is_empty()).then(|| failures.join("\n")),
        blessed: cases.iter().any(|c| c.blessed),
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn test_name(path: &Path) -> String {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("test").trim_end_matches(".test.yaml").to_string()
}

/// How `kql test` runs tests.
#[derive(Debug, Clone, Default)]
pub struct TestRunOptions {
    /// Write or update golden files from the current results.
    pub bless: bool,
    /// The most one case's query may take (a case past it fails with KQL901).
    pub timeout: Option<std::time::Duration>,
    /// The memory one case's query may use (DataFusion's pool: joins, sorts and aggregations
    /// spill or fail past it).
    pub memory_limit: Option<usize>,
    /// Extra table schemas (JSON files or folders; from `kql.toml`).
    pub schemas: Vec<PathBuf>,
    /// Stored functions (files or folders; from `kql.toml`).
    pub functions: Vec<PathBuf>,
}

/// Run one test file: an outcome per case (`file` for a file without cases, `file / case`
/// otherwise). A file that cannot be read or understood is one failed outcome.
pub fn run_test_cases(path: &Path, bless: bool) -> Vec<TestOutcome> {
    run_test_cases_with(path, &TestRunOptions { bless, ..Default::default() })
}

/// [`run_test_cases`] with options: a case that panics, runs past the timeout or exceeds the
/// memory limit fails with its reason, and the other cases still run.
pub fn run_test_cases_with(path: &Path, opts: &TestRunOptions) -> Vec<TestOutcome> {
    let start = std::time::Instant::now();
    let name = test_name(path);
    let fail = |failure: String| {
        vec![TestOutcome {
            name: name.clone(),
            path: path.to_path_buf(),
            failure: Some(failure),
            blessed: false,
            seconds: start.elapsed().as_secs_f64(),
        }]
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return fail(format!("{}: cannot read: {e}", path.display())),
    };
    let spec: TestSpec = match serde_yaml::from_str(&text) {
        Ok(s) => s,
        Err(e) => {
            let loc = e.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default();
            let msg = e.to_string();
            let msg = msg.rfind(" at line ").map(|i| msg[..i].to_string()).unwrap_or(msg);
            return fail(format!(
                "{}{loc}: invalid test file: {msg}\n  (a test has `rule`, `now`, `data`, `tables`, `externaldata`, `geoip`, `watchlists`, `expect` and `cases`; see `kql test --new RULE`)",
                path.display()
            ));
        }
    };
    let rule = match crate::pack::load_pack_rule(&dir.join(&spec.rule)) {
        Ok(r) => r,
        Err(e) => return fail(format!("{}: `rule: {}`: {e}", path.display(), spec.rule)),
    };
    let cases: Vec<TestCase> = if spec.cases.is_empty() {
        vec![TestCase { name: String::new(), now: None, tables: InlineTables::new(), expect: spec.expect.clone() }]
    } else {
        spec.cases.clone()
    };
    let mut out = Vec::new();
    for case in &cases {
        let t0 = std::time::Instant::now();
        // a bug hit by one case fails that case; the other cases and test files still run
        let outcome =
            kql_exec::session::guard::catch("running the test", || Ok(run_case(path, dir, &spec, &rule, case, opts)))
                .unwrap_or_else(|e| Err(format!("{}: {}", e.code, e.message)));
        let (failure, blessed) = match outcome {
            Ok(b) => (None, b),
            Err(e) => (Some(e), false),
        };
        let cname = if case.name.is_empty() { name.clone() } else { format!("{name} / {}", case.name) };
        out.push(TestOutcome {
            name: cname,
            path: path.to_path_buf(),
            failure,
            blessed,
            seconds: t0.elapsed().as_secs_f64(),
        });
    }
    out
}

/// The first error of a query (syntax or semantic), as code and position.
fn first_error(rule: &Rule) -> Result<Option<(ExpectedError, String)>, String> {
    let (script, syntax) = kql_parser::parse_recovering(&rule.query);
    let mut errors: Vec<kql_exec::KqlError> = syntax.into_iter().map(Into::into).collect();
    if let Some(script) = script {
        let s =
            Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() })
                .map_err(|e| e.to_string())?;
        errors.extend(s.check_script(&script).errors);
    }
    errors.sort_by_key(|e| e.span.map(|s| s.start).unwrap_or(0));
    let idx = kql_parser::LineIndex::new(&rule.query);
    Ok(errors.first().map(|e| {
        let (line, col) = e.span.map(|s| idx.line_col(&rule.query, s.start)).unwrap_or((0, 0));
        (ExpectedError { code: e.code.to_string(), line, col }, e.message.clone())
    }))
}

/// Typed batches from inline rows: columns and types of the table's built-in schema (a table
/// without one gets its types from the values); a column the schema does not have, or a value
/// that does not convert to its column's type, is an error naming the row.
pub fn add_inline_table(
    session: &mut Session,
    table: &str,
    rows: &[serde_json::Map<String, Value>],
) -> Result<(), String> {
    let schema = session.catalog.schemas().table(table).cloned();
    let schema = schema.as_ref();
    if let Some(s) = schema {
        for (k, row) in rows.iter().enumerate() {
            for col in row.keys() {
                if !s.columns.iter().any(|(n, _)| n == col) {
                    let hint = kql_exec::binder::suggest(col, s.columns.iter().map(|(n, _)| n.as_str()))
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    return Err(format!(
                        "table `{table}`, row {}: `{table}` has no column `{col}`{hint} (columns come from the built-in schema of `{table}`)",
                        k + 1
                    ));
                }
            }
        }
    }
    // columns in the schema's order (the first record names them all), as in a real table
    let records: Vec<load::json::Record> = rows
        .iter()
        .enumerate()
        .map(|(k, r)| match schema {
            Some(s) => load::json::Record::json(
                s.columns
                    .iter()
                    .filter_map(|(n, _)| match r.get(n) {
                        Some(v) => Some((n.clone(), v.clone())),
                        None => (k == 0).then(|| (n.clone(), Value::Null)),
                    })
                    .collect(),
            ),
            None => load::json::Record::json(r.clone()),
        })
        .collect();
    let mut report = load::LoadReport::default();
    let opts = LoadOptions { strict: true, ..Default::default() };
    let (cols, batches) = load::convert::to_batches(&records, schema, &mut report, &opts)
        .map_err(|e| format!("table `{table}`: {}", e.message))?;
    session.add_batches(table, cols, batches).map_err(|e| format!("table `{table}`: {e}"))
}

fn run_case(
    path: &Path,
    dir: &Path,
    spec: &TestSpec,
    rule: &Rule,
    case: &TestCase,
    opts: &TestRunOptions,
) -> Result<bool, String> {
    let bless = opts.bless;
    let now_text = case.now.as_ref().or(spec.now.as_ref()).ok_or_else(|| {
        format!(
            "{}: no `now:` (when to run the rule, e.g. `now: 2025-10-21T15:00:00Z`), at the top or in the case",
            path.display()
        )
    })?;
    let now = kql_exec::value::datetime::parse_datetime(now_text).ok_or_else(|| {
        format!("{}: `now: {now_text}` is not a datetime (write e.g. 2025-10-21T15:00:00Z)", path.display())
    })?;
    let want = &case.expect;
    // expected error: check the query without data
    if let Some(want) = &want.error {
        return match first_error(rule)? {
            Some((f, _)) if &f == want => Ok(false),
            Some((f, message)) => Err(format!(
                "expected error {} at {}:{}, got {} at {}:{} ({message})",
                want.code, want.line, want.col, f.code, f.line, f.col
            )),
            None => {
                Err(format!("expected error {} at {}:{}, but the query is accepted", want.code, want.line, want.col))
            }
        };
    }
    let mut catalog = Catalog::with_builtin_schemas();
    for s in &opts.schemas {
        let mut c = kql_exec::schema::SchemaCatalog::load_path(s).map_err(|e| format!("schemas: {e}"))?;
        c.add_standard_columns();
        catalog.add_schemas(c);
    }
    for (url, file) in &spec.externaldata {
        catalog.add_externaldata(url, dir.join(file));
    }
    if let Some(g) = &spec.geoip {
        catalog.set_geoip(dir.join(g));
    }
    let options =
        SessionOptions { threads: Some(1), now: Some(now), timeout: opts.timeout, memory_limit: opts.memory_limit };
    let mut session = Session::new(catalog, options).map_err(|e| e.to_string())?;
    for f in &opts.functions {
        let (_, errors) = crate::parsers::load_function_files(&mut session, f)?;
        if let Some(first) = errors.first() {
            return Err(format!("{} function file(s) could not be loaded; first: {first}", errors.len()));
        }
    }
    for (spec_name, file) in &spec.watchlists {
        let (alias, key) = load::watchlist::parse_spec(spec_name);
        let t = load::watchlist::load_watchlist(alias, &dir.join(file), key, now).map_err(|e| e.message)?;
        session.add_batches(&t.name, t.cols, t.batches).map_err(|e| e.to_string())?;
    }
    // inline rows: the case's tables replace the file's tables of the same name
    let mut tables = spec.tables.clone();
    for (k, v) in &case.tables {
        tables.insert(k.clone(), v.clone());
    }
    for (name, rows) in &tables {
        add_inline_table(&mut session, name, rows)?;
    }
    // fixtures are read when the rule's query uses them
    let loader: Arc<dyn TableLoader> = Arc::new(MemoryLoader { options: LoadOptions::default() });
    for d in &spec.data {
        let p = dir.join(d);
        for (table, files) in load::discover(&p, session.catalog.schemas()).map_err(|e| e.to_string())? {
            if table == "externaldata" || table == "expected" || tables.contains_key(&table) {
                continue;
            }
            session.catalog.add_pending_table(&table, files, loader.clone());
        }
    }
    let mut sched = Scheduler::new(RunOptions::default());
    let run = sched
        .run(&mut session, rule, now)
        .map_err(|e| {
            let shown = e.render_in_file(
                "error",
                &rule.path.display().to_string(),
                &rule.query,
                rule.query_line + 1,
                rule.query_col,
            );
            format!("{}: {shown}", rule.name)
        })?
        .ok_or_else(|| format!("{}: suppressed", rule.name))?;
    let mut problems = check_expectations(want, &run, sched.incidents.len());
    let mut blessed = false;
    if let Some(g) = &want.golden {
        match check_golden(rule, &run, &dir.join(g), bless) {
            Ok(b) => blessed = b,
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(blessed)
    } else {
        Err(problems.join("\n"))
    }
}

fn check_golden(rule: &Rule, run: &RuleRun, gpath: &Path, bless: bool) -> Result<bool, String> {
    let cols: Vec<(String, String)> =
        run.result.cols.iter().map(|c| (c.name.clone(), c.ty.name().to_string())).collect();
    let rows = kql_exec::output::rows_json(&run.result);
    if bless {
        let new = golden_json(&cols, &rows);
        let old = std::fs::read_to_string(gpath).unwrap_or_default();
        if old != new {
            // a new golden file may be the first of its folder
            if let Some(dir) = gpath.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(gpath, new).map_err(|e| format!("{}: {e}", gpath.display()))?;
            return Ok(true);
        }
        return Ok(false);
    }
    let gtext = std::fs::read_to_string(gpath)
        .map_err(|_| format!("{}: golden file missing: run `kql test --bless` to create it", gpath.display()))?;
    let golden: Value = serde_json::from_str(&gtext).map_err(|e| format!("{}: {e}", gpath.display()))?;
    let gcols: Vec<(String, String)> = golden["columns"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| (c["name"].as_str().unwrap_or("").to_string(), c["type"].as_str().unwrap_or("").to_string()))
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
    Ok(false)
}

/// Does an actual cell match an expected value written in a test? Numbers by value, datetimes
/// and timespans by the instant or length they denote (`2025-10-21T14:00:00Z` matches
/// `2025-10-21T14:00:00.0000000Z`), a scalar written as text matches its text, dynamic values
/// structurally.
pub fn value_matches(expected: &Value, actual: &Value) -> bool {
    use kql_exec::value::datetime::{parse_datetime, parse_timespan};
    if cell_eq(expected, actual) {
        return true;
    }
    match (expected, actual) {
        (Value::String(e), Value::String(a)) => {
            let dt = |s: &str| (s.len() >= 10 && s.as_bytes()[4] == b'-').then(|| parse_datetime(s)).flatten();
            if let (Some(x), Some(y)) = (dt(e), dt(a)) {
                return x == y;
            }
            if a.contains(':') {
                if let (Some(x), Some(y)) = (parse_timespan(e), parse_timespan(a)) {
                    return x == y;
                }
            }
            false
        }
        (Value::String(e), Value::Number(_) | Value::Bool(_)) => e == &actual.to_string(),
        (Value::Number(_) | Value::Bool(_), Value::String(a)) => a == &expected.to_string(),
        (Value::Object(e), Value::Object(a)) => {
            e.iter().all(|(k, v)| a.get(k).is_some_and(|w| value_matches(v, w))) && e.len() == a.len()
        }
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(x, y)| value_matches(x, y)),
        _ => false,
    }
}

fn row_matches(expected: &serde_json::Map<String, Value>, actual: &serde_json::Map<String, Value>) -> bool {
    expected.iter().all(|(k, v)| actual.get(k).is_some_and(|a| value_matches(v, a)))
}

fn row_text(r: &serde_json::Map<String, Value>) -> String {
    Value::Object(r.clone()).to_string()
}

/// The result rows as objects.
fn result_rows(run: &RuleRun) -> Vec<serde_json::Map<String, Value>> {
    let names: Vec<String> = run.result.cols.iter().map(|c| c.name.clone()).collect();
    kql_exec::output::rows_json(&run.result).into_iter().map(|r| names.iter().cloned().zip(r).collect()).collect()
}

/// Actual rows cut to the columns the expected rows name (for diffs).
fn projected(actual: &[serde_json::Map<String, Value>], cols: &[String]) -> Vec<serde_json::Map<String, Value>> {
    actual.iter().map(|r| cols.iter().filter_map(|c| r.get(c).map(|v| (c.clone(), v.clone()))).collect()).collect()
}

fn parse_rows(v: &Value, what: &str) -> Result<Rows, String> {
    let Some(a) = v.as_array() else {
        return Err(format!("`expect.rows.{what}` must be a list of rows (objects of column: value)"));
    };
    a.iter()
        .enumerate()
        .map(|(k, r)| {
            r.as_object().cloned().ok_or_else(|| {
                format!("`expect.rows.{what}` row {}: a row is an object of column: value, got {r}", k + 1)
            })
        })
        .collect()
}

/// Compare rows as multisets: each expected row takes the first unused actual row it matches.
fn rows_diff(
    expected: &[serde_json::Map<String, Value>],
    actual: &[serde_json::Map<String, Value>],
    exact: bool,
) -> Option<String> {
    let mut used = vec![false; actual.len()];
    let mut missing = Vec::new();
    for e in expected {
        match (0..actual.len()).find(|&k| !used[k] && row_matches(e, &actual[k])) {
            Some(k) => used[k] = true,
            None => missing.push(e),
        }
    }
    let extra: Vec<usize> = if exact { (0..actual.len()).filter(|&k| !used[k]).collect() } else { Vec::new() };
    if missing.is_empty() && extra.is_empty() {
        return None;
    }
    let mut cols: Vec<String> = Vec::new();
    for e in expected {
        for k in e.keys() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    let shown = projected(actual, &cols);
    let mut msg = String::new();
    msg.push_str(if exact {
        "rows differ (- expected but missing, + returned but not expected):\n"
    } else {
        "rows missing from the result (- expected, not found):\n"
    });
    for e in &missing {
        msg.push_str(&format!("  - {}\n", row_text(e)));
    }
    for &k in &extra {
        msg.push_str(&format!("  + {}\n", row_text(&shown[k])));
    }
    if !exact {
        msg.push_str(&format!("  the result has {} row(s):\n", actual.len()));
        for r in shown.iter().take(10) {
            msg.push_str(&format!("    {}\n", row_text(r)));
        }
        if actual.len() > 10 {
            msg.push_str(&format!("    ... {} more\n", actual.len() - 10));
        }
    }
    Some(msg.trim_end().to_string())
}

fn alerts_summary(alerts: &[Alert]) -> String {
    if alerts.is_empty() {
        return "  (no alerts)".into();
    }
    alerts
        .iter()
        .map(|a| {
            let ents: Vec<String> = a
                .entities
                .iter()
                .map(|e| {
                    let f: Vec<String> = e.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    format!("{{type: {}, {}}}", e.entity_type, f.join(", "))
                })
                .collect();
            format!("  alert \"{}\" [{}] rows={} entities=[{}]", a.display_name, a.severity, a.rows, ents.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Rows written in a test.
type Rows = Vec<serde_json::Map<String, Value>>;

/// `expect.rows`, read.
struct RowsSpec {
    exact: Option<Rows>,
    contains: Option<Rows>,
    count: Option<usize>,
}

fn parse_rows_spec(rows: &Value) -> Result<RowsSpec, String> {
    match rows {
        Value::Array(_) => Ok(RowsSpec { exact: Some(parse_rows(rows, "exact")?), contains: None, count: None }),
        Value::Object(m) => {
            if let Some(k) = m.keys().find(|k| !["exact", "contains", "count"].contains(&k.as_str())) {
                return Err(format!("`expect.rows` has an unknown key `{k}` (use `exact`, `contains` or `count`)"));
            }
            let exact = m.get("exact").map(|v| parse_rows(v, "exact")).transpose()?;
            let contains = m.get("contains").map(|v| parse_rows(v, "contains")).transpose()?;
            let count = match m.get("count") {
                None => None,
                Some(c) => Some(c.as_u64().ok_or("`expect.rows.count` must be a number")? as usize),
            };
            Ok(RowsSpec { exact, contains, count })
        }
        other => Err(format!("`expect.rows` must be a list of rows or {{exact, contains, count}}, got {other}")),
    }
}

/// Every expectation of `want` that `run` does not meet, described.
pub fn check_expectations(want: &Expect, run: &RuleRun, incidents: usize) -> Vec<String> {
    let mut problems = Vec::new();
    let alerts = &run.alerts;
    if let Some(n) = want.alerts {
        if alerts.len() != n {
            problems.push(format!(
                "expected {n} alert(s), got {} (the query returned {} row(s){})\n{}",
                alerts.len(),
                run.rows,
                if run.fired { "" } else { ", the trigger did not fire" },
                alerts_summary(alerts)
            ));
        }
    }
    if let Some(n) = want.incidents {
        if incidents != n {
            problems.push(format!("expected {n} incident(s), got {incidents}"));
        }
    }
    if let Some(rows) = &want.rows {
        let actual = result_rows(run);
        let spec = parse_rows_spec(rows);
        match spec {
            Err(e) => problems.push(e),
            Ok(RowsSpec { exact, contains, count }) => {
                if let Some(n) = count {
                    if actual.len() != n {
                        problems.push(format!("expected {n} result row(s), got {}", actual.len()));
                    }
                }
                if let Some(d) = exact.and_then(|e| rows_diff(&e, &actual, true)) {
                    problems.push(d);
                }
                if let Some(d) = contains.and_then(|c| rows_diff(&c, &actual, false)) {
                    problems.push(d);
                }
            }
        }
    }
    if let Some(ents) = &want.entities {
        for e in ents {
            let ty = e.get("type").and_then(|t| t.as_str()).unwrap_or("");
            let found = alerts.iter().flat_map(|a| &a.entities).any(|x| {
                (ty.is_empty() || x.entity_type.eq_ignore_ascii_case(ty))
                    && e.iter()
                        .filter(|(k, _)| k.as_str() != "type")
                        .all(|(k, v)| x.fields.get(k).is_some_and(|a| value_matches(v, &Value::String(a.clone()))))
            });
            if !found {
                problems.push(format!(
                    "no alert has the entity {}; the alerts:\n{}",
                    Value::Object(e.clone()),
                    alerts_summary(alerts)
                ));
            }
        }
    }
    if let Some(n) = &want.display_name {
        if !alerts.iter().any(|a| &a.display_name == n) {
            let names: Vec<String> = alerts.iter().map(|a| format!("  \"{}\"", a.display_name)).collect();
            problems.push(format!(
                "no alert is named \"{n}\"; the alerts' display names:\n{}",
                if names.is_empty() { "  (no alerts)".into() } else { names.join("\n") }
            ));
        }
    }
    if let Some(ns) = &want.display_names {
        let mut want_names = ns.clone();
        let mut got: Vec<String> = alerts.iter().map(|a| a.display_name.clone()).collect();
        want_names.sort();
        got.sort();
        if want_names != got {
            problems.push(format!("display names differ\n  expected {want_names:?}\n  got      {got:?}"));
        }
    }
    if let Some(s) = &want.severity {
        for a in alerts.iter().filter(|a| !a.severity.eq_ignore_ascii_case(s)) {
            problems.push(format!("alert \"{}\" has severity {}, expected {s}", a.display_name, a.severity));
        }
    }
    if let Some(cd) = &want.custom_details {
        for (key, v) in cd {
            let wanted: Vec<Value> = match v {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            let ok = alerts.iter().any(|a| {
                a.custom_details.get(key).is_some_and(|vals| {
                    wanted.iter().all(|w| vals.iter().any(|x| value_matches(w, &Value::String(x.clone()))))
                })
            });
            if !ok {
                let got: Vec<String> = alerts
                    .iter()
                    .map(|a| format!("  {:?}", a.custom_details.get(key).cloned().unwrap_or_default()))
                    .collect();
                problems.push(format!(
                    "no alert has custom detail {key} = {v}; the alerts' values of {key}:\n{}",
                    if got.is_empty() { "  (no alerts)".into() } else { got.join("\n") }
                ));
            }
        }
    }
    problems
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

/// A starter test for the rule at `rule_path` (`kql test --new RULE`): two cases over one
/// inline row per table the query reads (the columns of the table's schema that the query
/// names, with placeholder values of their types), one expecting an alert, one expecting none.
/// Returns the path to write it to (beside the rule) and the text.
pub fn starter_test(rule_path: &Path, now: i64) -> Result<(PathBuf, String), String> {
    use kql_exec::schema::KqlType;
    let rule = load_rule(rule_path).map_err(|e| e.to_string())?;
    let session =
        Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() })
            .map_err(|e| e.to_string())?;
    let bounds = session.time_bounds_at(&rule.query, now).map_err(|e| {
        let path = rule_path.display().to_string();
        format!("{path}: {}", e.render_in_file("error", &path, &rule.query, rule.query_line + 1, rule.query_col))
    })?;
    let tables: Vec<String> =
        bounds.keys().filter(|t| t.as_str() != "*" && session.catalog.schemas().table(t).is_some()).cloned().collect();
    if tables.is_empty() {
        return Err(format!(
            "{}: the query reads no table with a known schema, so there is no row to start from; write the test's `tables:` by hand",
            rule_path.display()
        ));
    }
    let iso = kql_exec::value::datetime::format_datetime_iso;
    let event_time = now - rule.period_ticks().map(|p| p / 2).unwrap_or(6_000_000_000).min(6_000_000_000);
    let words: std::collections::HashSet<&str> =
        rule.query.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    let stem = rule_path.file_name().and_then(|n| n.to_str()).unwrap_or("rule");
    let base = stem.rsplit_once('.').map(|(b, _)| b).unwrap_or(stem);
    let mut y = String::new();
    y.push_str(&format!("# A test of {stem}: `kql test {base}.test.yaml`.\n"));
    y.push_str(&format!("rule: {stem}\nnow: {}\n", iso(now)));
    y.push_str("cases:\n  - name: fires on matching events\n    # edit these rows (and add more) so that the rule fires\n    tables:\n");
    for t in &tables {
        let schema = session.catalog.schemas().table(t).expect("filtered above");
        y.push_str(&format!("      {t}:\n"));
        let mut fields = Vec::new();
        let mut columns: Vec<&(String, KqlType)> =
            schema.columns.iter().filter(|(n, _)| n == "TimeGenerated").collect();
        columns.extend(schema.columns.iter().filter(|(n, _)| n != "TimeGenerated" && words.contains(n.as_str())));
        for (name, ty) in columns {
            let v = match ty {
                _ if name == "TimeGenerated" => iso(event_time),
                KqlType::DateTime => iso(event_time),
                KqlType::Bool => "false".into(),
                KqlType::Int | KqlType::Long => "0".into(),
                KqlType::Real | KqlType::Decimal => "0.0".into(),
                KqlType::TimeSpan => "\"00:00:00\"".into(),
                KqlType::Dynamic => {
                    // the keys the query reads (`Column.key`), as placeholders
                    let keys = dynamic_keys(&rule.query, name);
                    let kv: Vec<String> = keys.iter().map(|k| format!("{k}: \"example\"")).collect();
                    if kv.is_empty() {
                        "{}".into()
                    } else {
                        format!("{{ {} }}", kv.join(", "))
                    }
                }
                KqlType::Guid => "\"00000000-0000-0000-0000-000000000000\"".into(),
                KqlType::String => "\"example\"".into(),
            };
            fields.push(format!("{name}: {v}"));
        }
        y.push_str(&format!("        - {{ {} }}\n", fields.join(", ")));
    }
    y.push_str("    expect:\n      alerts: 1\n");
    y.push_str(
        "      # also: rows: { contains: [ { Column: value } ] }, entities: [ { type: Account, Name: someone } ],\n",
    );
    y.push_str("      # display_name: \"...\", severity: High, custom_details: { Key: value }, incidents: 1\n");
    y.push_str("  - name: stays quiet without events\n    tables:\n");
    for t in &tables {
        y.push_str(&format!("      {t}: []\n"));
    }
    y.push_str("    expect:\n      alerts: 0\n");
    let dir = rule_path.parent().unwrap_or(Path::new("."));
    Ok((dir.join(format!("{base}.test.yaml")), y))
}

/// The keys read from dynamic column `col` in `query` as `col.key` or `col["key"]`, in order.
fn dynamic_keys(query: &str, col: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let bytes = query.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut from = 0;
    while let Some(i) = query[from..].find(col) {
        let start = from + i;
        let end = start + col.len();
        from = end;
        if start > 0 && is_ident(bytes[start - 1]) {
            continue;
        }
        let rest = &query[end..];
        let key: String = if let Some(r) = rest.strip_prefix('.') {
            r.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
        } else if let Some(r) = rest.strip_prefix("[\"").or_else(|| rest.strip_prefix("['")) {
            r.chars().take_while(|c| *c != '"' && *c != '\'').collect()
        } else {
            continue;
        };
        if !key.is_empty() && !out.contains(&key) {
            out.push(key);
        }
    }
    out
}
