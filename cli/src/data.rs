//! Building a session from the data options shared by `query`, `run`, `test` and `repl`.

use clap::Args;
use kql_exec::binder::time_bounds::TimeBounds;
use kql_exec::load::{self, LoadOptions, LoadReport};
use kql_exec::schema::{SchemaCatalog, TableSchema};
use kql_exec::session::{memory_entry, streamed_entry, Catalog, Session, SessionOptions, TableEntry};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the data, schemas and functions come from.
#[derive(Args, Clone, Default)]
pub struct DataArgs {
    /// A data file or folder (repeatable): one table per file, or per subfolder.
    #[arg(long = "data", value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// A table from a file or folder under an explicit name (repeatable).
    #[arg(long = "table", value_name = "NAME=PATH")]
    pub tables: Vec<String>,
    /// Extra table schemas: a JSON file or folder (repeatable).
    #[arg(long = "schema", value_name = "PATH")]
    pub schemas: Vec<PathBuf>,
    /// Stored functions: a .kql file of `let` definitions, or a folder of them (repeatable).
    #[arg(long = "functions", value_name = "PATH")]
    pub functions: Vec<PathBuf>,
    /// A Sentinel watchlist for `_GetWatchlist('ALIAS')` from a CSV file (repeatable); the
    /// search key is the first column, or COLUMN with ALIAS:COLUMN=PATH.
    #[arg(long = "watchlist", value_name = "ALIAS[:COLUMN]=PATH")]
    pub watchlists: Vec<String>,
    /// Serve an externaldata URL from a local file (repeatable).
    #[arg(long = "externaldata", value_name = "URL=PATH")]
    pub externaldata: Vec<String>,
    /// The time `now()` and `ago()` are relative to (ISO 8601); default: the wall clock.
    #[arg(long)]
    pub now: Option<String>,
    /// Stop a query after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Memory limit for a query, e.g. 2G or 512M.
    #[arg(long = "memory-limit", value_name = "BYTES")]
    pub memory_limit: Option<String>,
    /// The UTC offset of times in CSV columns headed `[Local Time]` (a portal export in the
    /// browser's time zone), e.g. +02:00 or -05:00; without it they are read as UTC, with a warning.
    #[arg(long, value_name = "OFFSET")]
    pub tz: Option<String>,
    /// Only the schemas given (`--schema`): no built-in tables, no standard columns added
    /// (`kql check --schema-only`).
    #[arg(skip)]
    pub schema_only: bool,
    /// Make unreadable input records an error instead of skipping them.
    #[arg(long)]
    pub strict: bool,
    /// A MaxMind-format city database (.mmdb) for geo_info_from_ip_address (or KQL_GEOIP_DB).
    #[arg(long, value_name = "PATH")]
    pub geoip: Option<PathBuf>,
    /// Do not print load reports.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// A size such as `512M`, `512MB`, `2G`, `1.5GiB` or `1000000` (bytes).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_uppercase();
    let t = t.strip_suffix("IB").or_else(|| t.strip_suffix('B')).unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1usize << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    match num.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 1.0 / mult as f64 => Ok((n * mult as f64) as usize),
        _ => Err(format!("invalid size `{s}` (use e.g. 512M or 2G)")),
    }
}

/// A timeout in seconds: positive and finite.
pub fn parse_timeout(secs: f64) -> Result<Duration, String> {
    if secs > 0.0 && secs.is_finite() && secs < 1e9 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!("--timeout {secs}: give a positive number of seconds"))
    }
}

/// Build a session: schemas, functions and the tables of the data options (opened when a query
/// first uses them). Errors are user-facing messages.
pub fn build_session(a: &DataArgs) -> Result<Session, String> {
    build_session_for(a, None)
}

/// What the session will be used for, so that loads can skip export folders no query reads:
/// given the session (schemas and functions in place, no tables opened), the time span each
/// table is read over.
pub type BoundsOf<'a> = &'a dyn Fn(&Session) -> TimeBounds;

/// [`build_session`], reading from export trees only the folders that `bounds` says can matter.
pub fn build_session_for(a: &DataArgs, bounds: Option<BoundsOf>) -> Result<Session, String> {
    build_session_with(a, bounds, false).map(|(s, _)| s)
}

/// A table read while queries run: its name, load report and bytes read so far, and the
/// bytes of its files.
pub struct StreamedReport {
    /// The table.
    pub name: String,
    /// What its scans read and skipped.
    pub report: Arc<Mutex<LoadReport>>,
    /// Bytes read so far.
    pub progress: Arc<load::lines::ReadProgress>,
    /// Bytes of its files.
    pub total: u64,
}

/// What the tables of a session are doing, shared with the code that shows it: the streamed
/// tables opened so far (their reports are shown after each query) and the table being loaded
/// into memory right now, if any (shown by a spinner: while one runs, loads draw no bar of
/// their own).
#[derive(Clone, Default)]
pub struct Loads {
    streamed: Arc<Mutex<Vec<StreamedReport>>>,
    current: Arc<Mutex<Option<(String, u64, u64)>>>,
    spinner: Arc<std::sync::atomic::AtomicBool>,
}

impl Loads {
    /// Say whether a spinner shows load progress from now on (loads then draw no bar).
    pub fn set_spinner(&self, on: bool) {
        self.spinner.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// The number of tables streamed so far.
    #[cfg(test)]
    fn streamed_count(&self) -> usize {
        self.streamed.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Text for a spinner: the table loading now, or how much of the streamed tables' files
    /// the query has read (empty when neither).
    pub fn detail(&self) -> String {
        let mb = |b: u64| b as f64 / (1 << 20) as f64;
        if let Ok(c) = self.current.lock() {
            if let Some((name, done, total)) = c.as_ref() {
                return format!(", loading {name} {:.0} of {:.0} MB", mb(*done.min(total)), mb(*total));
            }
        }
        let Ok(s) = self.streamed.lock() else { return String::new() };
        if s.is_empty() {
            return String::new();
        }
        let done: u64 = s.iter().map(|r| r.progress.done()).sum();
        let total: u64 = s.iter().map(|r| r.total).sum();
        format!(", read {:.0} of {:.0} MB", mb(done.min(total)), mb(total))
    }

    /// Print the load reports of streamed tables that had problems (unless `quiet`).
    pub fn print_streamed_reports(&self, quiet: bool) {
        if quiet {
            return;
        }
        let Ok(s) = self.streamed.lock() else { return };
        for t in s.iter() {
            if let Ok(r) = t.report.lock() {
                if r.has_problems() {
                    eprintln!("warning: {}: {r}", t.name);
                }
            }
        }
    }
}

/// Print a line on stderr, first erasing a spinner's line on a terminal (tables open while a
/// query runs, under its spinner).
fn note(msg: &str) {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
    eprintln!("{msg}");
}

/// How the CLI opens a table of `--data`/`--table` when a query first uses it: export files
/// outside the time the queries read are skipped, JSON-lines tables of a known schema are
/// streamed (with `stream`), others are loaded into memory under a progress bar; notes and load
/// warnings are printed as the table opens.
struct CliLoader {
    opts: LoadOptions,
    stream: bool,
    quiet: bool,
    /// `--memory-limit`: a table loaded into memory may not take more.
    memory_limit: Option<usize>,
    bounds: Option<TimeBounds>,
    loads: Loads,
}

impl kql_exec::session::TableLoader for CliLoader {
    fn load(&self, name: &str, files: &[PathBuf], schema: Option<&TableSchema>) -> kql_exec::Result<TableEntry> {
        let files = match &self.bounds {
            Some(b) => {
                let kept = load::export::prune_for_bounds(name, files, b);
                if kept.len() < files.len() && !self.quiet {
                    note(&format!(
                        "note: {name}: reading {} of {} export files (the rest lie outside the time the queries read)",
                        kept.len(),
                        files.len()
                    ));
                }
                kept
            }
            None => files.to_vec(),
        };
        if self.stream {
            if let Some(layout) = load::lines::plan(name, &files, schema, &self.opts) {
                let parts = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
                let total = layout.total_bytes();
                let table = load::scan::StreamedTable::new(layout, self.opts.clone(), parts);
                let progress = table.progress_handle();
                let (entry, report) = streamed_entry(table);
                if let Ok(mut s) = self.loads.streamed.lock() {
                    s.push(StreamedReport { name: name.to_string(), report, progress, total });
                }
                return Ok(entry);
            }
        }
        // a table loaded into memory must fit the limit: refuse files that are bigger on disk
        // than the limit before reading them (they take at least as much loaded)
        if let Some(limit) = self.memory_limit {
            let bytes: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
            if bytes > limit as u64 {
                return Err(over_limit(name, "its files are", bytes as usize, limit));
            }
        }
        let mut opts = self.opts.clone();
        let spinner = self.loads.spinner.load(std::sync::atomic::Ordering::SeqCst);
        let bar = (!self.quiet && !spinner && std::io::stderr().is_terminal())
            .then(|| crate::progress::ProgressLine::new(name));
        let current = self.loads.current.clone();
        let table_name = name.to_string();
        let shown = bar.clone();
        opts.progress = Some(load::Progress(Arc::new(move |done, total| {
            if let Some(bar) = &shown {
                bar.draw(done, total);
            }
            if let Ok(mut c) = current.lock() {
                *c = Some((table_name.clone(), done, total));
            }
        })));
        let t = load::load_table(name, &files, schema, &opts);
        if let Some(bar) = &bar {
            bar.clear();
        }
        if let Ok(mut c) = self.loads.current.lock() {
            *c = None;
        }
        let t = t?;
        if let Some(limit) = self.memory_limit {
            let bytes = kql_exec::load::memory::batches_size(&t.batches);
            if bytes > limit {
                return Err(over_limit(name, "loaded, it takes", bytes, limit));
            }
        }
        if !self.quiet && t.report.has_problems() {
            note(&format!("warning: {}: {}", t.name, t.report));
        }
        memory_entry(t.cols, t.batches)
    }
}

/// KQL900 for a table that does not fit `--memory-limit` in memory.
fn over_limit(name: &str, what: &str, bytes: usize, limit: usize) -> kql_exec::KqlError {
    let mb = |b: usize| b as f64 / (1 << 20) as f64;
    kql_exec::KqlError::general(
        "KQL900",
        format!(
            "table {name} does not fit --memory-limit in memory: {what} {:.1} MB, the limit is {:.1} MB",
            mb(bytes),
            mb(limit)
        ),
    )
    .with_help(
        "raise --memory-limit; JSON-lines files of a known table schema are read as a query scans them, \
         instead of loaded whole",
    )
}

/// [`build_session_for`]; with `stream`, JSON-lines tables of known schema are not loaded but
/// read while each query runs (only the columns it uses, on every core, in bounded memory).
/// Tables open when a query first uses them; the returned [`Loads`] follows them (the reports
/// of streamed tables, to show once a query has run; progress, for a spinner).
pub fn build_session_with(a: &DataArgs, bounds: Option<BoundsOf>, stream: bool) -> Result<(Session, Loads), String> {
    if let Some(g) = &a.geoip {
        if !g.exists() {
            return Err(format!("--geoip {}: no such file", g.display()));
        }
    }
    let mut catalog = if a.schema_only { Catalog::with_schemas_only() } else { Catalog::with_builtin_schemas() };
    if let Some(g) = &a.geoip {
        catalog.set_geoip(g.clone());
    }
    // `<Table>_Schema.csv` beside the data (Azure-Sentinel's custom-table samples), then
    // `--schema` files over them; each table gets the standard columns every workspace table has
    let near = a.data.iter().cloned().chain(a.tables.iter().filter_map(|t| t.split_once('=').map(|(_, p)| p.into())));
    for s in near.flat_map(|p: PathBuf| SchemaCatalog::schema_csvs_near(&p)).chain(a.schemas.iter().cloned()) {
        let mut c = SchemaCatalog::load_path(&s).map_err(|e| format!("--schema: {e}"))?;
        if !a.schema_only {
            c.add_standard_columns();
        }
        catalog.add_schemas(c);
    }
    for m in &a.externaldata {
        let (url, path) = m.split_once('=').ok_or_else(|| format!("--externaldata `{m}`: expected URL=PATH"))?;
        if !PathBuf::from(path).exists() {
            return Err(format!("--externaldata: {path}: no such file"));
        }
        catalog.add_externaldata(url, PathBuf::from(path));
    }
    let now = match &a.now {
        Some(t) => Some(
            kql_exec::value::datetime::parse_datetime(t)
                .ok_or_else(|| format!("--now `{t}` is not a datetime (use ISO 8601, e.g. 2025-10-21T15:00:00Z)"))?,
        ),
        None => None,
    };
    let options = SessionOptions {
        now,
        memory_limit: a.memory_limit.as_deref().map(parse_size).transpose()?,
        timeout: a.timeout.map(parse_timeout).transpose()?,
        threads: None,
    };
    let mut session = Session::new(catalog, options).map_err(|e| e.to_string())?;
    for w in &a.watchlists {
        let (spec, path) = w.split_once('=').ok_or_else(|| format!("--watchlist `{w}`: expected ALIAS=PATH"))?;
        let (alias, key) = load::watchlist::parse_spec(spec);
        let path = PathBuf::from(path);
        let updated = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i64 / 100)
            .unwrap_or(0);
        let t = load::watchlist::load_watchlist(alias, &path, key, updated).map_err(|e| e.message)?;
        session.add_batches(&t.name, t.cols, t.batches).map_err(|e| e.to_string())?;
    }
    for f in &a.functions {
        load_functions(&mut session, f)?;
    }
    let local_offset_minutes = match &a.tz {
        Some(t) => Some(
            load::timefmt::parse_offset(t)
                .ok_or_else(|| format!("--tz `{t}` is not a UTC offset (use e.g. +02:00, -0530 or UTC)"))?,
        ),
        None => None,
    };
    let opts = LoadOptions { strict: a.strict, local_offset_minutes, ..Default::default() };
    // only names are read here: a table's files are opened when a query first uses it
    let mut specs: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for d in &a.data {
        specs.extend(load::discover(d, session.catalog.schemas()).map_err(|e| e.to_string())?);
    }
    for t in &a.tables {
        let (name, path) = t.split_once('=').ok_or_else(|| format!("--table `{t}`: expected NAME=PATH"))?;
        let p = PathBuf::from(path);
        let files = if p.is_dir() {
            load::discover(&p, session.catalog.schemas())
                .map_err(|e| e.to_string())?
                .into_iter()
                .flat_map(|(_, f)| f)
                .collect()
        } else if p.exists() {
            vec![p]
        } else {
            return Err(format!("--table {name}: {path}: no such file or directory"));
        };
        specs.push((name.to_string(), files));
    }
    let loads = Loads::default();
    let loader = Arc::new(CliLoader {
        opts,
        stream,
        quiet: a.quiet,
        memory_limit: session.options.memory_limit,
        bounds: bounds.map(|f| f(&session)),
        loads: loads.clone(),
    });
    for (name, files) in specs {
        session.catalog.add_pending_table(&name, files, loader.clone());
    }
    Ok((session, loads))
}

fn load_functions(session: &mut Session, path: &std::path::Path) -> Result<(), String> {
    let (_, errors) = rule_pack::parsers::load_function_files(session, path)?;
    if let Some(first) = errors.first() {
        // one bad parser file should not hide the others: report, keep the rest
        eprintln!("warning: {} function file(s) could not be loaded; first: {first}", errors.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str =
        "WorkspaceResourceId=/subscriptions/s/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/ws";

    /// A folder with a JSON-lines table of known schema (streamed by `kql query`), one of
    /// unknown schema (loaded into memory), a Log Analytics export tree of two hours, and
    /// `Broken`, which cannot be read.
    fn folder(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kql-cli-lazy-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let w = |rel: &str, text: &str| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        w(
            "SigninLogs.jsonl",
            "{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"UserPrincipalName\":\"a\"}\n\
             {\"TimeGenerated\":\"2025-10-21T11:00:00Z\",\"UserPrincipalName\":\"b\"}\n",
        );
        w("Custom.jsonl", "{\"x\":1}\n{\"x\":2}\n{\"x\":3}\n");
        w("Broken.parquet", "not parquet\n");
        for (day, hour, n) in [("20", "10", 4), ("21", "14", 2)] {
            let rows: String = (0..n)
                .map(|i| format!("{{\"TimeGenerated\":\"2025-10-{day}T{hour}:0{i}:00Z\",\"Computer\":\"c{i}\"}}\n"))
                .collect();
            w(&format!("am-heartbeat/{WS}/y=2025/m=10/d={day}/h={hour}/m=00/PT05M.json"), &rows);
        }
        dir
    }

    fn args(dir: &std::path::Path) -> DataArgs {
        // strict: `Broken` fails to open instead of being skipped with a warning
        DataArgs {
            data: vec![dir.to_path_buf()],
            now: Some("2025-10-21T15:00:00Z".into()),
            quiet: true,
            strict: true,
            ..Default::default()
        }
    }

    fn first_long(s: &Session, q: &str) -> i64 {
        let r = s.query(q).unwrap_or_else(|e| panic!("{q}: {}", e.message));
        kql_exec::output::rows_json(&r)[0][0].as_i64().unwrap_or_else(|| panic!("{q}"))
    }

    #[test]
    fn tables_open_when_a_query_first_uses_them() {
        let dir = folder("open");
        let (s, loads) = build_session_with(&args(&dir), None, true).unwrap();
        assert_eq!(s.catalog.pending_tables(), ["Broken", "Custom", "Heartbeat", "SigninLogs"]);
        assert_eq!(first_long(&s, "print 1"), 1);
        assert_eq!(loads.streamed_count(), 0);
        assert!(s.catalog.loaded_tables().is_empty());
        // streamed (JSON lines of a known schema)
        assert_eq!(first_long(&s, "SigninLogs | count"), 2);
        assert_eq!(loads.streamed_count(), 1);
        assert!(s.catalog.loaded_tables()[0].1.batches.is_none(), "streamed, not in memory");
        // in memory (no schema known)
        assert_eq!(first_long(&s, "Custom | summarize sum(x)"), 6);
        assert_eq!(first_long(&s, "Custom | count"), 3);
        assert_eq!(loads.streamed_count(), 1);
        assert_eq!(s.catalog.pending_tables(), ["Broken", "Heartbeat"]);
        let err = s.query("Custom | union Broken").expect_err("Broken cannot be read");
        assert!(err.message.contains("cannot open table `Broken`"), "{}", err.message);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn export_trees_are_pruned_by_the_time_the_queries_read() {
        let dir = folder("prune");
        let q = "Heartbeat | where TimeGenerated > ago(2h) | count";
        let bounds_of = |s: &Session| s.time_bounds(q).unwrap_or_default();
        // in memory: only the folder of the last hours is read (the other hour's rows would pass
        // the filter if they were read: the count is over the table as loaded)
        let (s, _) = build_session_with(&args(&dir), Some(&bounds_of), false).unwrap();
        assert_eq!(first_long(&s, q), 2);
        assert_eq!(first_long(&s, "Heartbeat | count"), 2, "only the pruned files were opened");
        // without bounds, every file
        let (s, _) = build_session_with(&args(&dir), None, false).unwrap();
        assert_eq!(first_long(&s, "Heartbeat | count"), 6);
        // streamed, with bounds
        let (s, loads) = build_session_with(&args(&dir), Some(&bounds_of), true).unwrap();
        assert_eq!(first_long(&s, "Heartbeat | count"), 2);
        assert_eq!(loads.streamed_count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
