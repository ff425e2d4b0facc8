//! Streaming tables: JSON-lines files read each time a query scans them, never held in memory.
//!
//! A [`StreamedTable`] is a DataFusion table whose scan decodes the files with the line decoder
//! of [`super::lines`], only the columns the query uses (projection pushdown), one partition per
//! core over pieces of the files dealt out in turn (`lines::split_interleaved`), batches flowing as they are decoded. An aggregation over an
//! export larger than memory therefore keeps only what the aggregation keeps. `kql query` uses it
//! for one-shot queries; sessions that run many queries over the same data (the REPL, rule runs)
//! load tables into memory instead.
//!
//! What each scan read and skipped is added to the table's [`LoadReport`] ([`StreamedTable::report`]),
//! for the caller to show after the query.

use super::lines::{self, LineDecoder, LineLayout, ReadProgress, RowFilter};
use super::{LoadOptions, LoadReport};
use crate::schema::KqlType;
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session as DfSession;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::{BinaryExpr, Operator, TableProviderFilterPushDown};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SendableRecordBatchStream,
};
use datafusion::scalar::ScalarValue;
use std::sync::{Arc, Mutex};

/// A table read from JSON-lines files at scan time.
#[derive(Debug)]
pub struct StreamedTable {
    layout: Arc<LineLayout>,
    schema: SchemaRef,
    opts: LoadOptions,
    report: Arc<Mutex<LoadReport>>,
    progress: Arc<ReadProgress>,
    parts: usize,
    /// Per column: the only members of its objects to keep (see [`super::paths`]).
    members: Arc<Vec<Option<Vec<String>>>>,
}

impl StreamedTable {
    /// A streamed table over a planned layout (see [`lines::plan`]), decoded by up to `parts`
    /// threads.
    pub fn new(layout: LineLayout, opts: LoadOptions, parts: usize) -> StreamedTable {
        let schema = layout.arrow_schema();
        StreamedTable {
            layout: Arc::new(layout),
            schema,
            opts,
            report: Arc::default(),
            progress: Arc::default(),
            parts: parts.max(1),
            members: Arc::default(),
        }
    }

    /// The same table (sharing its report and progress) whose scans keep, in each column given
    /// `Some(keys)`, only the object members with those keys (a path pushdown, see
    /// [`super::paths`]).
    pub fn with_members(&self, members: Vec<Option<Vec<String>>>) -> StreamedTable {
        StreamedTable {
            layout: self.layout.clone(),
            schema: self.schema.clone(),
            opts: self.opts.clone(),
            report: self.report.clone(),
            progress: self.progress.clone(),
            parts: self.parts,
            members: Arc::new(members),
        }
    }

    /// Per column, the only object members its scans keep (`None`: the whole value).
    pub fn members(&self) -> &[Option<Vec<String>>] {
        &self.members
    }

    /// The table's layout (columns and files).
    pub fn layout(&self) -> &LineLayout {
        &self.layout
    }

    /// What the scans so far read and skipped.
    pub fn report(&self) -> LoadReport {
        self.report.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Bytes its scans have read so far (for a progress display while a query runs).
    pub fn progress_handle(&self) -> Arc<ReadProgress> {
        self.progress.clone()
    }

    /// A handle to the report that stays valid after the table is handed to a session.
    pub fn report_handle(&self) -> Arc<Mutex<LoadReport>> {
        self.report.clone()
    }
}

#[async_trait]
impl TableProvider for StreamedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // time comparisons are applied while decoding (rows that fail them are not built);
        // DataFusion applies every filter again above the scan
        Ok(filters
            .iter()
            .map(|f| match time_bound(&self.layout, f) {
                Some(_) => TableProviderFilterPushDown::Inexact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        // the decoder applies one window: the first datetime column's
        let row_filter =
            RowFilter::windows(filters.iter().filter_map(|f| time_bound(&self.layout, f))).into_iter().next();
        let projection: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.layout.cols.len()).collect(),
        };
        let schema = Arc::new(self.schema.project(&projection)?);
        let pieces = lines::split_interleaved(&self.layout, self.parts);
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(pieces.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Arc::new(LinesScanExec {
            layout: self.layout.clone(),
            opts: self.opts.clone(),
            report: self.report.clone(),
            projection,
            schema,
            pieces: Arc::new(pieces),
            limit,
            row_filter,
            members: self.members.clone(),
            progress: self.progress.clone(),
            props: Arc::new(props),
        }))
    }
}

/// The physical scan of a [`StreamedTable`]: one partition per list of pieces.
#[derive(Debug)]
pub struct LinesScanExec {
    layout: Arc<LineLayout>,
    opts: LoadOptions,
    report: Arc<Mutex<LoadReport>>,
    projection: Vec<usize>,
    schema: SchemaRef,
    pieces: Arc<Vec<Vec<lines::Piece>>>,
    limit: Option<usize>,
    row_filter: Option<RowFilter>,
    members: Arc<Vec<Option<Vec<String>>>>,
    progress: Arc<ReadProgress>,
    props: Arc<PlanProperties>,
}

impl std::fmt::Debug for ReadProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadProgress")
    }
}

impl DisplayAs for LinesScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let names: Vec<&str> = self.projection.iter().map(|&c| self.layout.cols[c].name.as_str()).collect();
        write!(
            f,
            "LinesScanExec: table={}, files={}, partitions={}, projection=[{}]",
            self.layout.name,
            self.layout.files.len(),
            self.pieces.len(),
            names.join(", ")
        )?;
        if let Some(l) = self.limit {
            write!(f, ", limit={l}")?;
        }
        let kept: Vec<String> = self
            .projection
            .iter()
            .filter_map(|&c| {
                let keys = self.members.get(c)?.as_ref()?;
                Some(format!("{}{{{}}}", self.layout.cols[c].name, keys.join(",")))
            })
            .collect();
        if !kept.is_empty() {
            write!(f, ", members=[{}]", kept.join(", "))?;
        }
        if let Some(rf) = &self.row_filter {
            write!(f, ", time_filter={}:{:?}..{:?}", self.layout.cols[rf.col].name, rf.lo, rf.hi)?;
        }
        Ok(())
    }
}

impl ExecutionPlan for LinesScanExec {
    fn name(&self) -> &str {
        "LinesScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal("LinesScanExec has no children".into()))
        }
    }

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> DfResult<SendableRecordBatchStream> {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let layout = self.layout.clone();
        let pieces = self.pieces.clone();
        let projection = self.projection.clone();
        let opts = self.opts.clone();
        let report = self.report.clone();
        let limit = self.limit;
        let row_filter = self.row_filter.clone();
        let progress = self.progress.clone();
        let members = self.members.clone();
        builder.spawn_blocking(move || {
            let Some(part) = pieces.get(partition) else { return Ok(()) };
            let mut dec = LineDecoder::new(&layout, Some(&projection))
                .with_limit(limit)
                .with_row_filter(row_filter)
                .with_members(&members);
            let mut rep = LoadReport::default();
            let res = lines::decode_part(&layout, part, &mut dec, &mut rep, &opts, &progress, &mut |b| {
                tx.blocking_send(Ok(b)).is_ok()
            });
            if let Ok(mut r) = report.lock() {
                r.merge(rep);
            }
            res.map_err(|e| DataFusionError::External(Box::new(e)))
        });
        Ok(builder.build())
    }
}

/// A constant 64-bit integer: a literal, or `+`/`-` of constants (time literals arrive as
/// `now - 1d` before constant folding).
fn const_i64(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), _) => Some(*v),
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Plus, right }) => {
            const_i64(left)?.checked_add(const_i64(right)?)
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Minus, right }) => {
            const_i64(left)?.checked_sub(const_i64(right)?)
        }
        _ => None,
    }
}

/// `col > t`, `col >= t`, `col < t`, `col <= t` (either way round) with `t` a 64-bit integer
/// constant: the column (as `position` finds it by name, `None` for columns that do not take
/// part) and the bound.
pub(crate) fn int_bound(e: &Expr, position: impl Fn(&str) -> Option<usize>) -> Option<(usize, (Operator, i64))> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = e else { return None };
    let (c, op, v) = match (left.as_ref(), right.as_ref()) {
        (Expr::Column(c), r) => (c, *op, const_i64(r)?),
        (l, Expr::Column(c)) => (c, op.swap()?, const_i64(l)?),
        _ => return None,
    };
    if !matches!(op, Operator::Gt | Operator::GtEq | Operator::Lt | Operator::LtEq) {
        return None;
    }
    Some((position(&c.name)?, (op, v)))
}

/// [`int_bound`] on a datetime column of the table.
fn time_bound(layout: &LineLayout, e: &Expr) -> Option<(usize, (Operator, i64))> {
    int_bound(e, |name| layout.cols.iter().position(|x| x.name == name && x.ty == KqlType::DateTime))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::SchemaCatalog;
    use crate::session::{Catalog, Session, SessionOptions};

    fn bad_file() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kql-scan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("Heartbeat.jsonl");
        std::fs::write(
            &p,
            "{\"TimeGenerated\":\"2025-01-01T00:00:00Z\",\"Computer\":\"a\"}\n{bad\n{\"Computer\":\"b\"}\n{\"Computer\":\"b\"}\n",
        )
        .unwrap();
        p
    }

    fn session_with(opts: LoadOptions) -> (Session, Arc<Mutex<LoadReport>>) {
        let f = bad_file();
        let layout = lines::plan("Heartbeat", &[f], SchemaCatalog::builtin().table("Heartbeat"), &opts).unwrap();
        let mut s = Session::new(Catalog::with_builtin_schemas(), SessionOptions::default()).unwrap();
        let report = s.add_streamed(StreamedTable::new(layout, opts, 2));
        (s, report)
    }

    #[test]
    fn a_streamed_table_answers_and_reports_what_it_skipped() {
        let (s, report) = session_with(LoadOptions::default());
        let r = s.query("Heartbeat | summarize n = count() by Computer | order by Computer asc").unwrap();
        let rows = crate::output::rows_json(&r);
        assert_eq!(
            rows,
            vec![
                vec![serde_json::json!("a"), serde_json::json!(1)],
                vec![serde_json::json!("b"), serde_json::json!(2)]
            ]
        );
        let rep = report.lock().unwrap().clone();
        assert_eq!((rep.rows, rep.skipped), (3, 1));
        assert!(
            rep.problems[0].ends_with("Heartbeat.jsonl:2: invalid JSON: key must be a string at line 1 column 2"),
            "{rep}"
        );
        // a `take` stops the read early
        let r = s.query("Heartbeat | take 1").unwrap();
        assert_eq!(r.num_rows(), 1);
    }

    #[test]
    fn strict_streamed_reads_fail_with_the_load_error() {
        let (s, _) = session_with(LoadOptions { strict: true, ..Default::default() });
        let e = s.query("Heartbeat | count").err().unwrap();
        assert_eq!(e.code, "KQL104", "{e}");
        assert!(e.message.contains("Heartbeat.jsonl:2: invalid JSON"), "{e}");
    }

    #[test]
    fn time_filters_pushed_into_the_scan_keep_the_same_rows() {
        let dir = std::env::temp_dir().join(format!("kql-scan-time-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("AlertEvidence.jsonl");
        let mut text = String::new();
        for h in 0..48 {
            let t = format!("2025-10-{:02}T{:02}:30:00Z", 20 + h / 24, h % 24);
            // every third row has only Timestamp: TimeGenerated is filled from it
            if h % 3 == 0 {
                text.push_str(&format!("{{\"Timestamp\":\"{t}\",\"Title\":\"a{h}\"}}\n"));
            } else {
                text.push_str(&format!("{{\"TimeGenerated\":\"{t}\",\"Timestamp\":\"{t}\",\"Title\":\"a{h}\"}}\n"));
            }
        }
        text.push_str("{\"Title\":\"no time\"}\n");
        // malformed after the time: outside every window below (not read past the time), and inside
        text.push_str("{\"TimeGenerated\":\"2025-10-01T00:00:00Z\",\"Title\":\"old\",\"bad\":tru}\n");
        text.push_str("{\"TimeGenerated\":\"2025-10-21T02:00:00Z\",\"Title\":\"new\",\"bad\":tru}\n");
        std::fs::write(&p, text).unwrap();
        let opts = LoadOptions::default();
        let schema = SchemaCatalog::builtin().table("AlertEvidence");
        let layout = lines::plan("AlertEvidence", std::slice::from_ref(&p), schema, &opts).unwrap();
        let now = crate::value::datetime::parse_datetime("2025-10-21T12:00:00Z");
        let mut streamed =
            Session::new(Catalog::with_builtin_schemas(), SessionOptions { now, ..Default::default() }).unwrap();
        streamed.add_streamed(StreamedTable::new(layout, opts.clone(), 2));
        let mut memory =
            Session::new(Catalog::with_builtin_schemas(), SessionOptions { now, ..Default::default() }).unwrap();
        let t = super::super::load_table("AlertEvidence", &[p], schema, &opts).unwrap();
        memory.add_batches(&t.name, t.cols, t.batches).unwrap();
        for q in [
            "AlertEvidence | where TimeGenerated > ago(6h) | project Title",
            "AlertEvidence | where TimeGenerated >= datetime(2025-10-20T05:30:00Z) and TimeGenerated < datetime(2025-10-20T09:30:00Z) | project Title",
            "AlertEvidence | where TimeGenerated between (datetime(2025-10-21T01:00) .. datetime(2025-10-21T03:30)) | project Title",
            "AlertEvidence | where datetime(2025-10-21T20:00) <= TimeGenerated | project Title",
            "AlertEvidence | where Timestamp > ago(2h) | project Title, TimeGenerated",
            "AlertEvidence | where isnull(TimeGenerated) | project Title",
        ] {
            let a = crate::output::rows_json(&streamed.query(q).unwrap());
            let b = crate::output::rows_json(&memory.query(q).unwrap());
            assert_eq!(a, b, "{q}");
            assert!(!a.is_empty(), "{q}");
        }
    }
    #[test]
    fn lines_outside_the_window_are_dropped_by_their_first_member() {
        let dir = std::env::temp_dir().join(format!("kql-scan-early-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("AlertEvidence.jsonl");
        let mut bytes: Vec<u8> = Vec::new();
        for h in 0..48 {
            let t = format!("2025-10-{:02}T{:02}:30:00Z", 20 + h / 24, h % 24);
            bytes.extend_from_slice(format!("{{\"TimeGenerated\":\"{t}\",\"Title\":\"a{h}\"}}\n").as_bytes());
        }
        let outside: &[u8] = b"{\"TimeGenerated\":\"2025-10-01T00:00:00Z\",\"Title\":\"\xff\"}";
        let inside: &[u8] = b"{\"TimeGenerated\":\"2025-10-21T11:00:00Z\",\"Title\":\"\xff\"}";
        // first members the early check leaves to the scanner
        let left: [&[u8]; 5] = [
            b"{\"TimeGenerated\":\" \",\"Timestamp\":\"2025-10-21T10:00:00Z\",\"Title\":\"blank\"}",
            b"{\"TimeGenerated\":\"2025-10-21T09:00:00\\u005a\",\"Title\":\"escaped\"}",
            b"{ \"TimeGenerated\": \"2025-10-21T08:00:00Z\",\"Title\":\"spaced\"}",
            b"{\"Title\":\"title first\",\"TimeGenerated\":\"2025-10-21T07:00:00Z\"}",
            b"{\"TimeGenerated\":\"2025-10-01T00:00:00Z\t\",\"Title\":\"control\"}",
        ];
        for l in [outside, inside].iter().chain(left.iter()) {
            bytes.extend_from_slice(l);
            bytes.push(b'\n');
        }
        std::fs::write(&p, &bytes).unwrap();
        let opts = LoadOptions::default();
        let schema = SchemaCatalog::builtin().table("AlertEvidence");
        let layout = lines::plan("AlertEvidence", std::slice::from_ref(&p), schema, &opts).unwrap();
        let col = layout.cols.iter().position(|c| c.name == "TimeGenerated").unwrap();
        let lo = crate::value::datetime::parse_datetime("2025-10-21T06:00:00Z").unwrap();
        let dec =
            LineDecoder::new(&layout, None).with_row_filter(Some(RowFilter { col, lo: Some((lo, false)), hi: None }));
        assert!(dec.rejects_early(outside));
        assert!(dec.rejects_early(b"{\"TimeGenerated\":\"2025-10-21T06:00:00Z\"}"));
        assert!(!dec.rejects_early(inside));
        for l in left {
            assert!(!dec.rejects_early(l), "{}", String::from_utf8_lossy(l));
        }
        // the same rows as the general loader; the line inside the window is reported, the one
        // outside is not read past its time (as a malformed line outside the window)
        let now = crate::value::datetime::parse_datetime("2025-10-21T12:00:00Z");
        let mut streamed =
            Session::new(Catalog::with_builtin_schemas(), SessionOptions { now, ..Default::default() }).unwrap();
        let report = streamed.add_streamed(StreamedTable::new(layout, opts.clone(), 2));
        let mut memory =
            Session::new(Catalog::with_builtin_schemas(), SessionOptions { now, ..Default::default() }).unwrap();
        let t = super::super::load_table("AlertEvidence", &[p], schema, &opts).unwrap();
        memory.add_batches(&t.name, t.cols, t.batches).unwrap();
        let q =
            "AlertEvidence | where TimeGenerated > ago(6h) | project Title, TimeGenerated | order by TimeGenerated asc";
        let a = crate::output::rows_json(&streamed.query(q).unwrap());
        let b = crate::output::rows_json(&memory.query(q).unwrap());
        assert_eq!(a, b);
        let titles: Vec<&str> = a.iter().filter_map(|r| r[0].as_str()).collect();
        for t in ["blank", "escaped", "spaced", "title first"] {
            assert!(titles.contains(&t), "{titles:?}");
        }
        let rep = report.lock().unwrap().clone();
        assert_eq!(rep.skipped, 2, "{rep}");
        assert!(rep.problems.iter().any(|p| p.contains(".jsonl:50: invalid UTF-8")), "{rep}");
    }
}
