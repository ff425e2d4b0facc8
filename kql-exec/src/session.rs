//! A session: loaded tables, stored functions, the schema catalog, the clock, and a DataFusion
//! runtime; `query` parses, binds, plans and runs a KQL text.

use crate::binder::{BindOptions, Binder, Bound0, Col, Provider, Rel, RenderSpec, SubqueryRunner};
use crate::error::{KqlError, Result};
use crate::schema::{KqlType, SchemaCatalog};
use crate::types::arrow_type;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use kql_parser::ast;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// A table the session can scan.
#[derive(Clone)]
pub struct TableEntry {
    /// KQL columns.
    pub cols: Vec<Col>,
    /// Where the rows are.
    pub provider: Provider,
    /// The rows, for in-memory tables (used to derive time-windowed views).
    pub batches: Option<Arc<Vec<RecordBatch>>>,
}

/// A stored function (`--functions`).
#[derive(Clone)]
pub struct StoredFunction {
    /// The definition.
    pub def: Rc<ast::FunctionDef>,
    /// Whether it returns a table.
    pub is_tabular: bool,
    /// The file it was defined in, to show errors inside it there.
    pub source: Option<Arc<FunctionSource>>,
}

/// The file a stored function's text came from: a `.kql` file, or the query of a parser YAML
/// file, whose lines sit indented inside the YAML (errors inside the function are shown at
/// the file's own line and column).
#[derive(Debug)]
pub struct FunctionSource {
    /// The file, as the user named it.
    pub path: String,
    /// The KQL text the session parsed (its spans are offsets in it).
    pub kql: String,
    /// The file's text.
    pub file: Arc<str>,
    /// For each line of `kql`, the byte offset in `file` where the same text starts.
    line_starts: Vec<Option<usize>>,
}

impl FunctionSource {
    /// A source whose KQL text is the file's text (a `.kql` file).
    pub fn plain(path: impl Into<String>, text: &str) -> FunctionSource {
        let mut starts = vec![Some(0)];
        starts.extend(text.match_indices('\n').map(|(i, _)| Some(i + 1)));
        FunctionSource { path: path.into(), kql: text.to_string(), file: Arc::from(text), line_starts: starts }
    }

    /// A source whose KQL text was taken out of `file` (a YAML block) and wrapped: each KQL line
    /// is found in the file (in order, as the indented text of a line); lines that are not
    /// there (the added `let ... {` wrapper) map nowhere.
    pub fn embedded(path: impl Into<String>, kql: &str, file: &str) -> FunctionSource {
        let file_lines: Vec<(usize, &str)> = {
            let mut start = 0;
            file.split('\n')
                .map(|l| {
                    let at = start;
                    start += l.len() + 1;
                    (at, l.trim_end())
                })
                .collect()
        };
        let find = |from: usize, line: &str| {
            (from..file_lines.len()).find_map(|i| {
                let (at, fl) = file_lines[i];
                let indent = fl.len().checked_sub(line.len())?;
                (fl.ends_with(line) && fl[..indent].chars().all(char::is_whitespace)).then_some((i, at + indent))
            })
        };
        let mut cursor = 0;
        let mut starts = Vec::new();
        for line in kql.split('\n') {
            let line = line.trim_end();
            if line.trim().is_empty() {
                starts.push(None);
                continue;
            }
            // in order from the last match; from the top again for a body the text repeats
            // (a parser's alias is defined with the same body)
            match find(cursor, line).or_else(|| find(0, line)) {
                Some((i, at)) => {
                    cursor = i + 1;
                    starts.push(Some(at));
                }
                None => starts.push(None),
            }
        }
        FunctionSource { path: path.into(), kql: kql.to_string(), file: Arc::from(file), line_starts: starts }
    }

    /// The place in the file of a span of the KQL text, when its line is one of the file's.
    pub fn file_span(&self, span: kql_parser::Span) -> Option<kql_parser::Span> {
        let line = self.kql.get(..span.start)?.matches('\n').count();
        let line_start = self.kql[..span.start].rfind('\n').map_or(0, |i| i + 1);
        let at = (*self.line_starts.get(line)?)? + (span.start - line_start);
        let len = span.end.saturating_sub(span.start);
        (at <= self.file.len()).then(|| kql_parser::Span::new(at, (at + len).min(self.file.len())))
    }
}

pub mod guard;
pub mod lazy;
pub mod truncation;

pub use lazy::{MemoryLoader, Open, TableLoader};

/// Tables, stored functions and known schemas.
///
/// Tables are either open (registered with [`Catalog::add_table`]: in memory or streamed) or
/// pending ([`Catalog::add_pending_table`]: files not read until a query scans the table; see
/// [`lazy`]). Copies of a catalog share its pending tables, opened or not.
#[derive(Clone, Default)]
pub struct Catalog {
    tables: BTreeMap<String, TableEntry>,
    lazy: Arc<lazy::LazyTables>,
    /// The rows a scheduled rule sees (`time_window`): pending tables opened later are
    /// narrowed to it too, once each (`windowed`).
    window: Option<(i64, i64)>,
    /// Tables whose window ends earlier than `window`'s end (rows still being ingested:
    /// [`Catalog::time_window_ending`]).
    window_ends: Arc<HashMap<String, i64>>,
    windowed: Arc<std::sync::Mutex<HashMap<String, TableEntry>>>,
    functions: HashMap<String, StoredFunction>,
    schemas: SchemaCatalog,
    externaldata: HashMap<String, std::path::PathBuf>,
    geoip: Option<std::path::PathBuf>,
    /// When true, tables known only by schema exist (empty). `kql check` and runs both use it.
    pub schema_tables_exist: bool,
}

impl Catalog {
    /// An empty catalog whose known schemas are the built-in ones.
    pub fn with_builtin_schemas() -> Self {
        Catalog { schemas: SchemaCatalog::builtin().clone(), schema_tables_exist: true, ..Default::default() }
    }

    /// A catalog whose tables are only the schemas added later ([`Catalog::add_schemas`]): no
    /// built-in Log Analytics tables (`kql check --schema-only`).
    pub fn with_schemas_only() -> Self {
        Catalog { schema_tables_exist: true, ..Default::default() }
    }

    /// Add schemas (user `--schema` files).
    pub fn add_schemas(&mut self, s: SchemaCatalog) {
        self.schemas.merge(s);
    }

    /// The schema catalog.
    pub fn schemas(&self) -> &SchemaCatalog {
        &self.schemas
    }

    /// Register an open table under `name` (replacing a table of that name).
    pub fn add_table(&mut self, name: &str, entry: TableEntry) {
        self.tables.insert(name.to_string(), entry);
    }

    /// Forget the open table `name` (pending tables and schemas stay).
    pub fn remove_table(&mut self, name: &str) {
        self.tables.remove(name);
    }

    /// Register table `name`, read from `files` by `loader` when a query first scans it
    /// (replacing a table of that name). Nothing is read now.
    pub fn add_pending_table(&mut self, name: &str, files: Vec<std::path::PathBuf>, loader: Arc<dyn TableLoader>) {
        self.tables.remove(name);
        self.lazy.add(name, files, loader);
    }

    /// Register a stored function.
    pub fn add_function(&mut self, name: &str, f: StoredFunction) {
        self.functions.insert(name.to_string(), f);
    }

    /// Open tables (including pending tables a query has opened), by name.
    pub fn loaded_tables(&self) -> Vec<(String, TableEntry)> {
        let mut out: BTreeMap<String, TableEntry> = BTreeMap::new();
        for name in self.lazy.names() {
            if let Some(e) = self.lazy.opened(&name) {
                out.insert(name, e);
            }
        }
        for (n, e) in &self.tables {
            out.insert(n.clone(), e.clone());
        }
        out.into_iter().collect()
    }

    /// Pending tables no query has opened yet, by name.
    pub fn pending_tables(&self) -> Vec<String> {
        self.lazy
            .names()
            .into_iter()
            .filter(|n| !self.tables.contains_key(n) && self.lazy.opened(n).is_none())
            .collect()
    }

    /// The files of pending table `name` (opened or not).
    pub fn pending_files(&self, name: &str) -> Option<Vec<std::path::PathBuf>> {
        self.lazy.files(name)
    }

    /// Names of the tables that have data, open or pending, sorted: what a wildcard (`union
    /// T*`, `search`) ranges over.
    pub fn data_table_names(&self) -> Vec<String> {
        let mut names = self.lazy.names();
        names.extend(self.tables.keys().cloned());
        names.sort();
        names.dedup();
        names
    }

    /// Whether `name` is a table (open, pending or known by schema).
    pub fn has_table(&self, name: &str) -> bool {
        self.tables.contains_key(name)
            || self.lazy.contains(name)
            || (self.schema_tables_exist && self.schemas.table(name).is_some())
    }

    /// A table by name, without reading any data: open tables as they are, pending tables once
    /// opened, else (pending or not) an empty table of the known schema.
    pub fn table(&self, name: &str) -> Option<TableEntry> {
        // cannot fail: nothing is opened
        self.open_table(name, Open::Never).ok().flatten()
    }

    /// A table by name, opening a pending table as `open` allows (see [`lazy`]); tables known
    /// only by schema are empty. An error when opening fails (the table stays pending).
    pub fn open_table(&self, name: &str, open: Open) -> Result<Option<TableEntry>> {
        if let Some(t) = self.tables.get(name) {
            return Ok(Some(t.clone()));
        }
        let schema = self.schemas.table(name);
        if self.lazy.contains(name) {
            let entry = match open {
                Open::Always => self.lazy.open(name, schema)?,
                Open::WhenSchemaUnknown if schema.is_none() => self.lazy.open(name, schema)?,
                _ => self.lazy.opened(name),
            };
            if let Some(e) = entry {
                return self.narrowed(name, e).map(Some);
            }
            if let Some(s) = schema {
                return Ok(Some(schema_entry(s)));
            }
            return Ok(None);
        }
        if !self.schema_tables_exist {
            return Ok(None);
        }
        Ok(schema.map(schema_entry))
    }

    /// A pending table's entry narrowed to the catalog's time window, if it has one.
    fn narrowed(&self, name: &str, entry: TableEntry) -> Result<TableEntry> {
        let Some((from, to)) = self.window else { return Ok(entry) };
        let mut cache = self.windowed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = cache.get(name) {
            return Ok(e.clone());
        }
        let to = self.window_ends.get(name).copied().unwrap_or(to);
        let e = window_entry(&entry, from, to)?.unwrap_or(entry);
        cache.insert(name.to_string(), e.clone());
        Ok(e)
    }

    /// Names of all tables (with data first, then those known only by schema).
    pub fn table_names(&self) -> Vec<String> {
        let mut names = self.data_table_names();
        if self.schema_tables_exist {
            names.extend(self.schemas.table_names().filter(|n| !self.has_data(n)).map(str::to_string));
        }
        names
    }

    fn has_data(&self, name: &str) -> bool {
        self.tables.contains_key(name) || self.lazy.contains(name)
    }

    /// A stored function.
    pub fn function(&self, name: &str) -> Option<&StoredFunction> {
        self.functions.get(name)
    }

    /// The same catalog where every in-memory table with a `TimeGenerated` (or `Timestamp`)
    /// column holds only rows with `from <= time <= to`: what a scheduled rule sees. Pending
    /// tables are narrowed when a query opens them.
    pub fn time_window(&self, from: i64, to: i64) -> Result<Catalog> {
        self.time_window_ending(from, to, &HashMap::new())
    }

    /// [`Catalog::time_window`] where the tables named in `ends` end at their own instant
    /// instead of `to` (what a scheduled run sees of tables whose rows arrive with different
    /// delays). A catalog already narrowed stays within its earlier window.
    pub fn time_window_ending(&self, from: i64, to: i64, ends: &HashMap<String, i64>) -> Result<Catalog> {
        let mut out = self.clone();
        let (from, to) = match self.window {
            Some((a, b)) => (a.max(from), b.min(to)),
            None => (from, to),
        };
        // each table's end: its own, within what it saw before
        let end_of = |name: &str| {
            let own = ends.get(name).copied().unwrap_or(to);
            match (self.window, self.window_ends.get(name)) {
                (_, Some(&before)) => own.min(before),
                (Some((_, b)), None) => own.min(b),
                (None, None) => own,
            }
        };
        for (name, t) in self.tables.iter() {
            if let Some(e) = window_entry(t, from, end_of(name))? {
                out.tables.insert(name.clone(), e);
            }
        }
        let mut all_ends: HashMap<String, i64> = self.window_ends.as_ref().clone();
        for name in ends.keys() {
            all_ends.insert(name.clone(), end_of(name));
        }
        out.window_ends = Arc::new(all_ends);
        out.window = Some((from, to));
        out.windowed = Default::default();
        Ok(out)
    }

    /// Map an `externaldata` URL to a local file.
    pub fn add_externaldata(&mut self, url: &str, path: std::path::PathBuf) {
        self.externaldata.insert(url.to_string(), path);
    }

    /// Use the MaxMind-format database at `path` for `geo_info_from_ip_address` (else the
    /// `KQL_GEOIP_DB` environment variable decides).
    pub fn set_geoip(&mut self, path: std::path::PathBuf) {
        self.geoip = Some(path);
    }

    /// The geo-IP database chosen with [`Catalog::set_geoip`].
    pub fn geoip(&self) -> Option<&std::path::Path> {
        self.geoip.as_deref()
    }

    /// The local file for an `externaldata` URL.
    pub fn externaldata_path(&self, url: &str) -> Option<std::path::PathBuf> {
        self.externaldata.get(url).cloned()
    }

    /// Names of stored functions.
    pub fn function_names(&self) -> impl Iterator<Item = &String> {
        self.functions.keys()
    }
}

/// An empty table of a known schema.
fn schema_entry(s: &crate::schema::TableSchema) -> TableEntry {
    let cols: Vec<Col> = s.columns.iter().map(|(n, t)| Col::new(n, *t)).collect();
    TableEntry { provider: empty_provider(&cols), cols, batches: None }
}

/// `t` holding only the rows with `from <= time <= to` of its `TimeGenerated` (or `Timestamp`)
/// column; `None` when it is not in memory or has no such column.
fn window_entry(t: &TableEntry, from: i64, to: i64) -> Result<Option<TableEntry>> {
    use datafusion::arrow::array::{AsArray, BooleanArray};
    use datafusion::arrow::datatypes::Int64Type;
    let Some(batches) = &t.batches else { return Ok(None) };
    let Some(idx) = t
        .cols
        .iter()
        .position(|c| c.ty == KqlType::DateTime && c.name == "TimeGenerated")
        .or_else(|| t.cols.iter().position(|c| c.ty == KqlType::DateTime && c.name == "Timestamp"))
    else {
        return Ok(None);
    };
    let mut kept = Vec::new();
    for b in batches.iter() {
        let times = b.column(idx).as_primitive::<Int64Type>();
        let mask: BooleanArray = times.iter().map(|v| Some(v.is_some_and(|v| v >= from && v <= to))).collect();
        kept.push(
            datafusion::arrow::compute::filter_record_batch(b, &mask)
                .map_err(|e| KqlError::general("KQL120", e.to_string()))?,
        );
    }
    let schema =
        Arc::new(Schema::new(t.cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    let table = MemTable::try_new(schema, vec![kept.clone()])?;
    Ok(Some(TableEntry { cols: t.cols.clone(), provider: Arc::new(table), batches: Some(Arc::new(kept)) }))
}

/// An in-memory table of these columns and rows (a [`crate::load::memory::MemoryTable`]).
pub fn memory_entry(cols: Vec<Col>, batches: Vec<RecordBatch>) -> Result<TableEntry> {
    let schema =
        Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    let batches = Arc::new(batches);
    let table = crate::load::memory::MemoryTable::try_new(schema, cols.clone(), batches.clone())?;
    Ok(TableEntry { cols, provider: Arc::new(table), batches: Some(batches) })
}

/// A table read from its files each time a query scans it (see [`crate::load::scan`]), and
/// the handle of its load report.
pub fn streamed_entry(
    table: crate::load::scan::StreamedTable,
) -> (TableEntry, Arc<std::sync::Mutex<crate::load::LoadReport>>) {
    let report = table.report_handle();
    let cols = table.layout().cols.clone();
    (TableEntry { cols, provider: Arc::new(table), batches: None }, report)
}

/// An empty table with these columns.
pub fn empty_provider(cols: &[Col]) -> Provider {
    let schema =
        Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    Arc::new(MemTable::try_new(schema, vec![vec![]]).expect("empty table"))
}

/// A query's result: columns with KQL types, rows as Arrow batches, and an optional chart.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// Result columns.
    pub cols: Vec<Col>,
    /// The rows.
    pub batches: Vec<RecordBatch>,
    /// A `render` request.
    pub render: Option<RenderSpec>,
    /// Warnings found while binding.
    pub warnings: Vec<KqlError>,
}

impl QueryResult {
    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// The same result with only the given rows (0-based, in that order); indices past the end
    /// are left out.
    pub fn take_rows(&self, rows: &[usize]) -> QueryResult {
        use datafusion::arrow::array::UInt32Array;
        use datafusion::arrow::compute;
        let mut out = QueryResult { cols: self.cols.clone(), batches: Vec::new(), render: None, warnings: Vec::new() };
        let n = self.num_rows();
        let keep: Vec<u32> = rows.iter().filter(|&&i| i < n).map(|&i| i as u32).collect();
        let Some(first) = self.batches.first() else { return out };
        let taken = compute::concat_batches(&first.schema(), &self.batches)
            .and_then(|all| compute::take_record_batch(&all, &UInt32Array::from(keep)));
        if let Ok(b) = taken {
            out.batches.push(b);
        }
        out
    }
}

/// What a semantic check found.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// Result columns (as far as they could be computed).
    pub cols: Vec<Col>,
    /// Errors, in source order.
    pub errors: Vec<KqlError>,
    /// Warnings.
    pub warnings: Vec<KqlError>,
    /// What Kusto accepts but this engine cannot run yet, in source order.
    pub not_runnable: Vec<KqlError>,
}

/// Options of a session.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// `now()` in ticks; the wall clock when `None` (fixed per query).
    pub now: Option<i64>,
    /// Memory limit in bytes for query execution.
    pub memory_limit: Option<usize>,
    /// Timeout per query.
    pub timeout: Option<Duration>,
    /// Threads (DataFusion partitions); default: the machine's cores.
    pub threads: Option<usize>,
}

/// Cancels the query a [`Session`] is running, from another thread (Ctrl-C in the REPL). The
/// query's execution is dropped where it stands and the query fails with KQL903; the session and
/// its tables stay usable. A cancel that arrives between queries is forgotten when the next one
/// starts.
#[derive(Clone, Default)]
pub struct CancelHandle(Arc<CancelState>);

#[derive(Default)]
struct CancelState {
    cancelled: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl CancelHandle {
    /// Cancel the running query.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, std::sync::atomic::Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    fn reset(&self) {
        self.0.cancelled.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves once [`CancelHandle::cancel`] is called (at once if it already was).
    async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// A KQL session.
pub struct Session {
    /// Tables, functions and schemas.
    pub catalog: Catalog,
    /// Options.
    pub options: SessionOptions,
    ctx: SessionContext,
    rt: std::mem::ManuallyDrop<tokio::runtime::Runtime>,
    cancel: CancelHandle,
}

impl Drop for Session {
    fn drop(&mut self) {
        // A cancelled or timed-out query may still be unwinding on a worker thread: do not wait
        // for it (the process or the next session should not pay for it).
        // SAFETY: `rt` is taken exactly once, here, and never used after.
        let rt = unsafe { std::mem::ManuallyDrop::take(&mut self.rt) };
        rt.shutdown_background();
    }
}

/// Stack size of the threads that plan and run queries: see [`Session::new`].
pub const WORKER_STACK: usize = 256 * 1024 * 1024;

struct Runner<'a> {
    ctx: &'a SessionContext,
    rt: &'a tokio::runtime::Runtime,
    /// The query's `--timeout` and when it ends: every plan the query runs (its subqueries,
    /// `toscalar`, `materialize`, the main plan) shares the one budget.
    timeout: Option<(Duration, std::time::Instant)>,
    cancel: &'a CancelHandle,
}

impl SubqueryRunner for Runner<'_> {
    fn run(&self, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
        self.run_limited(plan, None)
    }
}

/// Read every partition of `plan` to its end, the partitions side by side, stopping with
/// KQL084 when the rows read so far pass `limits`.
async fn collect_limited(
    df: datafusion::dataframe::DataFrame,
    limits: truncation::ResultLimits,
) -> datafusion::error::Result<Vec<RecordBatch>> {
    use futures::StreamExt;
    use std::sync::atomic::{AtomicU64, Ordering};
    let task_ctx = Arc::new(df.task_ctx());
    let physical = df.create_physical_plan().await?;
    let streams = datafusion::physical_plan::execute_stream_partitioned(physical, task_ctx)?;
    let counted = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    // a JoinSet: the partitions' tasks end with it when the query is cancelled or fails
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut stream) in streams.into_iter().enumerate() {
        let counted = counted.clone();
        tasks.spawn(async move {
            let mut out = Vec::new();
            while let Some(b) = stream.next().await {
                let b = b?;
                let (n, size) = (b.num_rows() as u64, truncation::batch_bytes(&b));
                let rows = counted.0.fetch_add(n, Ordering::SeqCst) + n;
                let bytes = counted.1.fetch_add(size, Ordering::SeqCst) + size;
                limits.check(rows, bytes).map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
                out.push(b);
            }
            Ok::<_, datafusion::error::DataFusionError>((i, out))
        });
    }
    let mut parts: Vec<Vec<RecordBatch>> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (i, out) = match joined {
            Ok(r) => r?,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => return Err(datafusion::error::DataFusionError::External(Box::new(e))),
        };
        if parts.len() <= i {
            parts.resize_with(i + 1, Vec::new);
        }
        parts[i] = out;
    }
    Ok(parts.into_iter().flatten().collect())
}

impl Runner<'_> {
    /// Run `plan` to its end, its result held to `limits` (Kusto's result truncation) when given.
    fn run_limited(&self, plan: LogicalPlan, limits: Option<truncation::ResultLimits>) -> Result<Vec<RecordBatch>> {
        let explain = std::env::var_os("KQL_EXPLAIN").is_some();
        let ctx = self.ctx.clone();
        let plan = crate::load::paths::push_paths(plan);
        let fut = async move {
            if explain {
                eprintln!("-- logical plan --\n{}", plan.display_indent_schema());
            }
            let df = ctx.execute_logical_plan(plan).await?;
            if explain {
                let physical = df.clone().create_physical_plan().await?;
                let shown = datafusion::physical_plan::displayable(physical.as_ref()).indent(true);
                eprintln!("-- physical plan --\n{shown}");
            }
            // Partitions in order, not interleaved as they finish: a `union`'s inputs then come
            // out in the order they were written, as in Kusto, and results are repeatable.
            match limits {
                Some(limits) => collect_limited(df, limits).await,
                None => df.collect_partitioned().await.map(|parts| parts.into_iter().flatten().collect::<Vec<_>>()),
            }
        };
        // The query runs as its own task, so that a cancel or a timeout returns at once (the
        // task is aborted at its next yield), and a panic inside an operator or a function (a
        // bug) fails the query, not the whole session or a CI run over hundreds of rules.
        let task = self.rt.spawn(fut);
        let abort = task.abort_handle();
        let outcome = self.rt.block_on(async {
            let limited = async {
                match self.timeout {
                    Some((t, end)) => tokio::time::timeout_at(end.into(), task).await.map_err(|_| timed_out(t)),
                    None => Ok(task.await),
                }
            };
            tokio::select! {
                r = limited => r,
                _ = self.cancel.cancelled() => Err(KqlError::general("KQL903", "the query was cancelled")),
            }
        });
        let joined = match outcome {
            Ok(j) => j,
            Err(e) => {
                abort.abort();
                return Err(e);
            }
        };
        match joined {
            Ok(r) => Ok(r?),
            Err(e) if e.is_panic() => Err(guard::panic_error("running the query", e.into_panic().as_ref())),
            Err(e) => Err(KqlError::general("KQL903", format!("the query was stopped: {e}"))),
        }
    }
}

/// KQL901: the query ran past `--timeout`.
fn timed_out(t: Duration) -> KqlError {
    KqlError::general("KQL901", format!("the query did not finish within {t:?}"))
        .with_help("raise --timeout or narrow the query")
}

impl Session {
    /// A session over `catalog`.
    pub fn new(catalog: Catalog, options: SessionOptions) -> Result<Self> {
        let threads =
            options.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
        let mut rtb = RuntimeEnvBuilder::new();
        if let Some(limit) = options.memory_limit {
            // Fair, not greedy: under a greedy pool one sort that has not yet spilled can hold
            // most of the limit, and a sort of another partition that spilled then cannot take
            // back the bytes it keeps to merge its runs (a 24 MB join failed one run in four).
            // A fair pool caps each operator that can spill at its share, so what one frees by
            // spilling stays free for what cannot spill. The top five holders are named when
            // the limit is hit.
            use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
            let pool =
                TrackConsumersPool::new(FairSpillPool::new(limit), std::num::NonZeroUsize::MIN.saturating_add(4));
            rtb = rtb.with_memory_pool(Arc::new(pool));
            // A sort merging its spilled runs reserves a batch or two of each run it reads at
            // once, as much as the pool has (and merges that cannot spill come first in a fair
            // pool): with every run at once, four sorts of a join under 24 MB left no room for
            // the others. A bounded fan-in merges in more passes, each within its share.
            let fan_in = (limit / (16 << 20)).clamp(4, 32);
            rtb = rtb.with_disk_manager_builder(
                datafusion::execution::disk_manager::DiskManagerBuilder::default().with_max_spill_merge_fan_in(fan_in),
            );
        }
        let runtime = rtb.build_arc()?;
        let mut config = SessionConfig::new().with_target_partitions(threads).with_information_schema(false);
        if options.memory_limit.is_some() {
            // under a memory limit, joins sort and merge (and spill to disk when a side does not
            // fit) instead of building a hash table of one side in memory
            config.options_mut().optimizer.prefer_hash_join = false;
        }
        if let Some(limit) = options.memory_limit {
            // each sort keeps this much back to merge its spilled runs (DataFusion's default,
            // 10 MB, is most of a small limit: two sorts under 24 MB could not start)
            let keep = (limit / 8).clamp(256 << 10, 10 << 20);
            config.options_mut().execution.sort_spill_reservation_bytes = keep;
        }
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        // These rules (new in DataFusion 55) move struct field accesses (`parse` results) down
        // the plan, keyed by their printed form; on KQL plans with several `parse` operators and
        // joins or unions they fail ("Field c2 not found in struct", "ambiguous field").
        ctx.remove_optimizer_rule("extract_leaf_expressions");
        ctx.remove_optimizer_rule("push_down_leaf_projections");
        ctx.add_optimizer_rule(Arc::new(crate::optimize::DynamicTextComparisons));
        ctx.add_optimizer_rule(Arc::new(crate::optimize::TextEqualityInFilters));
        ctx.add_optimizer_rule(Arc::new(crate::optimize::CheapPredicatesFirst));
        // before DataFusion's common-subexpression elimination, which would otherwise compute a
        // conversion of an encoded member used twice (`isnotempty(d.k) and tostring(d.k) == "v"`)
        // once, as a column of text, where the functions can read the member as it is
        let mut rules = ctx.state().optimizers().to_vec();
        let at = rules.iter().position(|r| r.name() == "common_sub_expression_eliminate").unwrap_or(rules.len());
        rules.insert(at, Arc::new(crate::optimize::DictionaryArguments));
        let physical = crate::physical_rules::session_rules(ctx.state().physical_optimizers());
        let ctx = SessionContext::new_with_state(
            datafusion::execution::SessionStateBuilder::new_from_existing(ctx.state())
                .with_optimizer_rules(rules)
                .with_physical_optimizer_rules(physical)
                .build(),
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            // DataFusion plans, optimizes and evaluates expressions recursively; with its
            // `recursive_protection` most walks grow the stack as they go, the rest (evaluating,
            // hashing, dropping a 10,000-deep `or` chain) need room (committed only as used)
            .thread_stack_size(WORKER_STACK)
            // a panic in a query's task fails that query (see `Runner::run`): keep it quiet
            .on_thread_start(guard::mark_worker_thread)
            .enable_all()
            .build()
            .map_err(|e| KqlError::general("KQL902", format!("cannot start the runtime: {e}")))?;
        Ok(Session { catalog, options, ctx, rt: std::mem::ManuallyDrop::new(rt), cancel: CancelHandle::default() })
    }

    /// A handle that cancels this session's running query from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// `now` for the next query.
    pub fn now(&self) -> i64 {
        self.options.now.unwrap_or_else(crate::value::datetime::now_ticks)
    }

    /// What runs the plans of this session's queries (and of their subqueries while binding).
    fn runner(&self) -> Runner<'_> {
        let timeout = self.options.timeout.map(|t| (t, std::time::Instant::now() + t));
        Runner { ctx: &self.ctx, rt: &self.rt, timeout, cancel: &self.cancel }
    }

    /// Parse, bind and run a query text.
    pub fn query(&self, text: &str) -> Result<QueryResult> {
        // parsing, binding, planning and dropping a deep query (thousands of `or`ed
        // comparisons) recurse: all of it runs on a big stack
        kql_parser::on_big_stack(|| {
            guard::catch("running the query", || {
                #[cfg(debug_assertions)]
                inject_fault(text);
                let script = kql_parser::parse(text)?;
                self.run_script_here(&script)
            })
        })
    }

    /// Bind and run a parsed script.
    pub fn run_script(&self, script: &ast::Script) -> Result<QueryResult> {
        kql_parser::on_big_stack(|| guard::catch("running the query", || self.run_script_here(script)))
    }

    fn run_script_here(&self, script: &ast::Script) -> Result<QueryResult> {
        self.cancel.reset();
        let runner = self.runner();
        let mut binder = Binder::new(&self.catalog, self.now(), &runner, BindOptions::default());
        let bound = binder.bind_script(script)?;
        let warnings = std::mem::take(&mut binder.warnings);
        let limits = truncation::ResultLimits::from_options(&binder.query_options);
        let rel = match bound {
            Bound0::Tabular(r) => r,
            Bound0::Scalar(s) => {
                let plan = LogicalPlanBuilder::empty(true).project(vec![s.expr.alias("print_0")])?.build()?;
                Rel { plan, cols: vec![Col::new("print_0", s.ty)], render: None, name: None, open: false }
            }
        };
        let batches = runner.run_limited(rel.plan, limits)?;
        let batches = normalize_batches(&rel.cols, batches)?;
        Ok(QueryResult { cols: rel.cols, batches, render: rel.render, warnings })
    }

    /// The DataFusion plan a query runs, after the optimizer (what `KQL_EXPLAIN=1` prints as the
    /// physical plan's source): for tests of the planner's rewrites.
    pub fn optimized_plan(&self, text: &str) -> Result<LogicalPlan> {
        kql_parser::on_big_stack(|| guard::catch("planning the query", || self.optimized_plan_here(text)))
    }

    fn optimized_plan_here(&self, text: &str) -> Result<LogicalPlan> {
        let script = kql_parser::parse(text)?;
        let runner = self.runner();
        let mut binder = Binder::new(&self.catalog, self.now(), &runner, BindOptions::default());
        let Bound0::Tabular(rel) = binder.bind_script(&script)? else {
            return Err(KqlError::general("KQL050", "the query is not tabular"));
        };
        let plan = crate::load::paths::push_paths(rel.plan);
        Ok(self.ctx.state().optimize(&plan)?)
    }

    /// The span of time `text` reads from each table, found by binding it against the catalog
    /// (no data needed): see [`crate::binder::time_bounds`]. Loaders read only the export
    /// folders that can hold rows of that span.
    pub fn time_bounds(&self, text: &str) -> Result<crate::binder::time_bounds::TimeBounds> {
        self.time_bounds_at(text, self.now())
    }

    /// [`Session::time_bounds`] for a run at `now` (ticks).
    pub fn time_bounds_at(&self, text: &str, now: i64) -> Result<crate::binder::time_bounds::TimeBounds> {
        kql_parser::on_big_stack(|| guard::catch("binding the query", || self.time_bounds_here(text, now)))
    }

    fn time_bounds_here(&self, text: &str, now: i64) -> Result<crate::binder::time_bounds::TimeBounds> {
        let script = kql_parser::parse(text)?;
        let runner = self.runner();
        let mut binder = Binder::new(&self.catalog, now, &runner, BindOptions { check_only: true, open: Open::Never });
        if binder.bind_script(&script).is_err() {
            // what the query reads cannot be known (the run will report the error): read all
            return Ok(crate::binder::time_bounds::TimeBounds::from([("*".to_string(), None)]));
        }
        Ok(binder.time_bounds())
    }

    /// Bind without running (the semantic check): result columns, errors (all of them, in
    /// source order) and warnings.
    pub fn check_script(&self, script: &ast::Script) -> CheckOutcome {
        kql_parser::on_big_stack(|| {
            guard::catch("checking the query", || Ok(self.check_script_here(script))).unwrap_or_else(|e| CheckOutcome {
                cols: vec![],
                errors: vec![e],
                warnings: vec![],
                not_runnable: vec![],
            })
        })
    }

    fn check_script_here(&self, script: &ast::Script) -> CheckOutcome {
        let runner = self.runner();
        let options = BindOptions { check_only: true, open: Open::WhenSchemaUnknown };
        let mut binder = Binder::new(&self.catalog, self.now(), &runner, options);
        let bound = binder.bind_script(script);
        let mut errors = std::mem::take(&mut binder.errors);
        let cols = match bound {
            Ok(Bound0::Tabular(r)) => r.cols,
            Ok(Bound0::Scalar(s)) => vec![Col::new("print_0", s.ty)],
            Err(e) => {
                errors.push(e);
                vec![]
            }
        };
        errors.sort_by_key(|e| e.span.map(|s| s.start).unwrap_or(usize::MAX));
        errors.dedup_by(|a, b| a.span.map(|s| s.start) == b.span.map(|s| s.start) && a.code == b.code);
        let mut not_runnable = std::mem::take(&mut binder.not_runnable);
        not_runnable.sort_by_key(|e| e.span.map(|s| s.start).unwrap_or(usize::MAX));
        not_runnable.dedup_by(|a, b| a.span.map(|s| s.start) == b.span.map(|s| s.start) && a.code == b.code);
        CheckOutcome { cols, errors, warnings: binder.warnings, not_runnable }
    }

    /// Register in-memory batches as a table.
    pub fn add_batches(&mut self, name: &str, cols: Vec<Col>, batches: Vec<RecordBatch>) -> Result<()> {
        self.catalog.add_table(name, memory_entry(cols, batches)?);
        Ok(())
    }

    /// Register a table read from its files each time a query scans it (see
    /// [`crate::load::scan`]); returns the handle of its load report.
    pub fn add_streamed(
        &mut self,
        table: crate::load::scan::StreamedTable,
    ) -> Arc<std::sync::Mutex<crate::load::LoadReport>> {
        let name = table.layout().name.clone();
        let (entry, report) = streamed_entry(table);
        self.catalog.add_table(&name, entry);
        report
    }

    /// Load stored functions from a KQL text of `let` definitions.
    pub fn add_functions_text(&mut self, text: &str) -> Result<usize> {
        self.add_functions_from(text, None)
    }

    /// [`Session::add_functions_text`], remembering the file the text came from: errors inside
    /// these functions are then shown in that file.
    pub fn add_functions_from(&mut self, text: &str, source: Option<Arc<FunctionSource>>) -> Result<usize> {
        kql_parser::on_big_stack(|| guard::catch("reading stored functions", || self.add_functions_here(text, source)))
    }

    fn add_functions_here(&mut self, text: &str, source: Option<Arc<FunctionSource>>) -> Result<usize> {
        let script = kql_parser::parse(text).map_err(|e| {
            let mut err = KqlError::from(e);
            if let Some(src) = &source {
                if let Some(at) = err.span.and_then(|sp| src.file_span(sp)) {
                    err.origin = Some(Box::new(crate::error::ErrorOrigin {
                        path: src.path.clone(),
                        text: src.file.clone(),
                        span: at,
                        function: String::new(),
                    }));
                    err.span = None; // the error is in the file, not in a query
                }
            }
            err
        })?;
        let mut n = 0;
        for st in &script.statements {
            if let ast::StatementKind::Let { name, value: ast::LetValue::Function(f) } = &st.kind {
                let probe_runner = Runner { ctx: &self.ctx, rt: &self.rt, timeout: None, cancel: &self.cancel };
                let probe =
                    Binder::new(&self.catalog, 0, &probe_runner, BindOptions { check_only: true, open: Open::Never });
                let is_tabular = probe.function_is_tabular(f);
                let source = source.clone();
                self.catalog.add_function(&name.name, StoredFunction { def: Rc::new(f.clone()), is_tabular, source });
                n += 1;
            }
        }
        Ok(n)
    }
}

/// Fault injection for the tests of isolation (debug builds only): a query whose text contains
/// the value of `KQL_DEBUG_PANIC_ON` panics before it is parsed, as a bug in the binder would.
#[cfg(debug_assertions)]
fn inject_fault(text: &str) {
    if let Some(marker) = std::env::var_os("KQL_DEBUG_PANIC_ON") {
        let marker = marker.to_string_lossy();
        if !marker.is_empty() && text.contains(marker.as_ref()) {
            panic!("fault injected by KQL_DEBUG_PANIC_ON={marker}");
        }
    }
}

/// Make every column exactly the Arrow type of its KQL type (DataFusion may hand back
/// equivalent encodings such as string views), with the result's column names.
pub fn normalize_batches(cols: &[Col], batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    let schema =
        Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    batches
        .into_iter()
        .map(|b| {
            if b.num_columns() != cols.len() {
                return Err(KqlError::general(
                    "KQL998",
                    format!(
                        "internal error: the plan produced {} columns for {} result columns",
                        b.num_columns(),
                        cols.len()
                    ),
                ));
            }
            let arrays = b
                .columns()
                .iter()
                .zip(cols)
                .map(|(a, c)| {
                    let want = arrow_type(c.ty);
                    if a.data_type() == &want {
                        Ok(a.clone())
                    } else {
                        datafusion::arrow::compute::cast(a, &want).map_err(|e| {
                            KqlError::general(
                                "KQL997",
                                format!("internal error: column `{}` has type {}: {e}", c.name, a.data_type()),
                            )
                        })
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            // with the row count: a result may have no column left (`project-away` of all of
            // them) and still its rows
            let options = datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
            RecordBatch::try_new_with_options(schema.clone(), arrays, &options)
                .map_err(|e| KqlError::general("KQL996", e.to_string()))
        })
        .collect()
}

/// Convenience: the KQL type of a column by name in a result.
pub fn column_type(cols: &[Col], name: &str) -> Option<KqlType> {
    cols.iter().find(|c| c.name == name).map(|c| c.ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_query_stops_and_the_session_goes_on() {
        let session =
            Session::new(Catalog::default(), SessionOptions { threads: Some(2), ..Default::default() }).unwrap();
        let handle = session.cancel_handle();
        // a stale cancel (no query running) is forgotten by the next query
        handle.cancel();
        assert_eq!(session.query("print x = 1").unwrap().num_rows(), 1);
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            handle.cancel();
        });
        let started = std::time::Instant::now();
        let outcome = session.query(
            "range x from 1 to 10000 step 1 | extend k = 1 \
             | join kind=inner (range y from 1 to 10000 step 1 | extend k = 1) on k \
             | summarize count() by x % 7",
        );
        let Err(err) = outcome else { panic!("the query must be cancelled long before it could finish") };
        canceller.join().unwrap();
        assert_eq!(err.code, "KQL903");
        assert!(started.elapsed() < Duration::from_secs(4), "cancelling took {:?}", started.elapsed());
        assert_eq!(session.query("print y = 2").unwrap().num_rows(), 1);
    }

    #[test]
    fn timespans_and_datetimes_scale_by_reals_on_their_ticks() {
        let session =
            Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
        let r = session
            .query(
                "print a = 1h * 1.5, b = 1h / 2.5, c = 2 * 1h, d = 90m % 1h, \
                 e = datetime(1970-01-01T00:00:10Z) / 2, f = 1.5 * 1h",
            )
            .unwrap();
        let row = &crate::output::rows_json(&r)[0];
        let text: Vec<String> = row.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect();
        // a datetime read as a number is its ticks since 0001-01-01 (the datetime type's page):
        // halving 1970-01-01 00:00:10 gives the middle of the year 985
        assert_eq!(text, ["01:30:00", "00:24:00", "02:00:00", "00:30:00", "0985-07-02T00:00:05.0000000Z", "01:30:00"]);
    }

    #[test]
    fn take_any_of_many_columns_keeps_their_names() {
        let session =
            Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
        let names = |q: &str| -> Vec<String> { session.query(q).unwrap().cols.into_iter().map(|c| c.name).collect() };
        assert_eq!(names("print a=1, b=2, c='x' | summarize take_any(*) by a"), ["a", "b", "c"]);
        assert_eq!(names("print a=1, b=2, c='x' | summarize take_any(b, c), take_any(b) by a"), ["a", "b", "c", "b1"]);
        assert_eq!(names("print a=1, b=2, c='x' | summarize any(*) by a"), ["a", "any_b", "any_c"]);
        let r = session
            .query("datatable(k:long, v:string, w:long)[1,'p',10, 1,'p',10] | summarize take_any(*) by k")
            .unwrap();
        assert_eq!(
            crate::output::rows_json(&r),
            vec![vec![serde_json::json!(1), serde_json::json!("p"), serde_json::json!(10)]]
        );
    }

    #[test]
    fn a_time_of_day_literal_is_that_time_today() {
        let now = crate::value::datetime::parse_datetime("2025-10-21T15:00:00Z");
        let session =
            Session::new(Catalog::default(), SessionOptions { now, threads: Some(1), ..Default::default() }).unwrap();
        let r = session
            .query(r#"print a = datetime("8:00:00 AM"), b = datetime("5:00:00 PM"), c = datetime("12:00 AM")"#)
            .unwrap();
        let row: Vec<String> =
            crate::output::rows_json(&r)[0].iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect();
        assert_eq!(
            row,
            ["2025-10-21T08:00:00.0000000Z", "2025-10-21T17:00:00.0000000Z", "2025-10-21T00:00:00.0000000Z"]
        );
        assert_eq!(session.query(r#"print datetime("13:00 PM")"#).err().map(|e| e.code), Some("KQL030"));
    }

    /// A warning raised inside a stored function (a parser loaded with `--functions`) is placed
    /// in the function's file and reached from the call, as its errors are; raised at the same
    /// place more than once, it is reported once.
    #[test]
    fn warnings_inside_stored_functions_are_placed_in_their_file() {
        let mut session =
            Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
        let file = "// parser\nlet P = () {\n  datatable(id:string)['113005']\n  | where id == 113005\n  | where id != 2\n};\n";
        let src = Arc::new(FunctionSource::plain("p.kql", file));
        session.add_functions_from(file, Some(src)).unwrap();
        let q = "union P, P | count";
        let r = session.query(q).unwrap();
        assert_eq!(r.warnings.len(), 2, "{:#?}", r.warnings);
        let w = &r.warnings[0];
        assert_eq!(r.warnings[1].origin.as_ref().map(|o| &file[o.span.start..o.span.end]), Some("id != 2"));
        let o = w.origin.as_ref().expect("placed in the function's file");
        assert_eq!((o.path.as_str(), o.function.as_str()), ("p.kql", "P"));
        assert!(file[o.span.start..o.span.end].contains("113005"), "{:?}", &file[o.span.start..o.span.end]);
        let shown = w.render("<query>", q);
        assert!(shown.contains("p.kql:4:"), "{shown}");
        assert!(shown.contains("in this call of `P`"), "{shown}");
    }

    #[test]
    fn errors_inside_a_yaml_parser_are_placed_at_the_yaml_line() {
        // the query sits indented in a YAML block; the session parses a `let` wrapper around it
        let yaml = "ParserName: P\nParserQuery: |\n  let x = 1;\n  print a = 1\n  | extend b = nosuch + x\n";
        let kql = "let P = () {\nlet x = 1;\nprint a = 1\n| extend b = nosuch + x\n};\n";
        let src = Arc::new(FunctionSource::embedded("p.yaml", kql, yaml));
        // a span of the KQL text maps to the same text in the file, lines found in order
        let at = kql.find("nosuch").unwrap();
        let f = src.file_span(kql_parser::Span::new(at, at + 6)).unwrap();
        assert_eq!(&yaml[f.start..f.end], "nosuch");
        // the wrapper line is not in the file
        assert_eq!(src.file_span(kql_parser::Span::new(0, 3)), None);
        let mut session =
            Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
        session.add_functions_from(kql, Some(src)).unwrap();
        let q = "P | take 1";
        let e = session.query(q).unwrap_err();
        let shown = e.render("<query>", q);
        assert!(shown.contains("--> p.yaml:5:16"), "{shown}");
        assert!(shown.contains("  | extend b = nosuch + x"), "{shown}");
        assert!(shown.contains("in this call of `P`") && shown.contains("--> <query>:1:1"), "{shown}");
    }
}
