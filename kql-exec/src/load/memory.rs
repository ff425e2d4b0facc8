//! Tables held in memory, with the members of their dynamic columns extracted on demand.
//!
//! A REPL session or a rule run loads each table once and then runs many queries over it, most
//! of which read a few fields of one dynamic column (`LogMessage.end_user_id`). A
//! [`MemoryTable`] serves its batches like DataFusion's `MemTable`, and can also give, for a
//! query whose plan reads a dynamic column only through constant paths (see [`super::paths`]),
//! a view with each member those paths start with as a column of its own: the raw JSON text of
//! `LogMessage.end_user_id`, row by row, exactly what the path would return. The members are
//! extracted in one pass over the column the first time a query needs them and kept for the
//! next queries, so a session's later queries read plain columns instead of walking every
//! object again. A member with few distinct values (an outcome, an application's name) is kept
//! dictionary-encoded, with one dictionary for all batches: the paths read it as text, and the
//! functions that read it directly (see [`crate::optimize::DictionaryArguments`]) work once per
//! distinct value instead of once per row.
//!
//! Both serve their batches through a [`BatchTable`], which skips at scan time the batches that
//! a pushed-down comparison of an integer column (`TimeGenerated > ago(1d)`) rules out by the
//! batch's range of that column, the way a column store's zone maps do: logs arrive roughly in
//! time order, so a query over the last day of a month's table reads a thirtieth of it.

use super::lines::RowFilter;
use super::paths::member_column;
use super::scan::int_bound;
use crate::binder::Col;
use crate::schema::KqlType;
use crate::value::dynamic as dj;
use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, Int32Array, RecordBatch, StringBuilder};
use datafusion::arrow::compute;
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema, SchemaRef};
use datafusion::catalog::Session as DfSession;
use datafusion::datasource::memory::{DataSourceExec, MemorySourceConfig};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The extracted members of one dynamic column: one array per batch.
type MemberArrays = Arc<Vec<ArrayRef>>;

/// An in-memory table whose dynamic columns' members can be served as columns (see the module
/// docs).
#[derive(Debug)]
pub struct MemoryTable {
    inner: BatchTable,
    cols: Vec<Col>,
    /// Members extracted so far, by (column index, key).
    members: Mutex<HashMap<(usize, String), MemberArrays>>,
    /// The views built so far, by the members they add: a session asks for the same ones query
    /// after query, and a view of a big table is thousands of batches to assemble.
    views: Mutex<HashMap<Vec<(usize, Vec<String>)>, Arc<BatchTable>>>,
}

impl MemoryTable {
    /// A table of `batches` (already in the schema of `cols`).
    pub fn try_new(schema: SchemaRef, cols: Vec<Col>, batches: Arc<Vec<RecordBatch>>) -> DfResult<MemoryTable> {
        let inner = BatchTable::try_new(schema, batches, Arc::default())?;
        Ok(MemoryTable { inner, cols, members: Mutex::default(), views: Mutex::default() })
    }

    /// How many of the members extracted so far are dictionary-encoded.
    pub fn encoded_members(&self) -> usize {
        let members = self.members.lock().unwrap_or_else(|p| p.into_inner());
        members.values().filter(|m| m.first().is_some_and(|a| crate::types::is_dictionary_text(a.data_type()))).count()
    }

    /// How many members of dynamic columns have been extracted and kept so far.
    pub fn extracted(&self) -> usize {
        self.members.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// The table's columns.
    pub fn cols(&self) -> &[Col] {
        &self.cols
    }

    /// A view of the table with, after its own columns, one column per `(column, key)` of
    /// `wanted` holding that member of the dynamic column (named by [`member_column`]). Members
    /// not extracted yet are extracted now, one pass per column, and kept; so is the view.
    pub fn with_members(&self, wanted: &[(usize, Vec<String>)]) -> DfResult<Arc<BatchTable>> {
        if let Some(view) = self.views.lock().unwrap_or_else(|p| p.into_inner()).get(wanted) {
            return Ok(view.clone());
        }
        let view = Arc::new(self.build_view(wanted)?);
        self.views.lock().unwrap_or_else(|p| p.into_inner()).insert(wanted.to_vec(), view.clone());
        Ok(view)
    }

    fn build_view(&self, wanted: &[(usize, Vec<String>)]) -> DfResult<BatchTable> {
        let mut fields: Vec<Field> = self.inner.schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut extra: Vec<MemberArrays> = Vec::new();
        let mut cache = self.members.lock().unwrap_or_else(|p| p.into_inner());
        for (c, keys) in wanted {
            let Some(col) = self.cols.get(*c).filter(|col| col.ty == KqlType::Dynamic) else { continue };
            let missing: Vec<&String> = keys.iter().filter(|k| !cache.contains_key(&(*c, (*k).clone()))).collect();
            if !missing.is_empty() {
                for (k, arrays) in missing.iter().zip(self.extract(*c, &missing)?) {
                    cache.insert((*c, (*k).clone()), Arc::new(arrays));
                }
            }
            for k in keys {
                if let Some(arrays) = cache.get(&(*c, k.clone())) {
                    let ty = arrays.first().map_or(DataType::Utf8, |a| a.data_type().clone());
                    fields.push(Field::new(member_column(&col.name, k), ty, true));
                    extra.push(arrays.clone());
                }
            }
        }
        drop(cache);
        let schema = Arc::new(Schema::new(fields));
        let batches = self
            .inner
            .batches
            .iter()
            .enumerate()
            .map(|(b, batch)| {
                let mut columns = batch.columns().to_vec();
                columns.extend(extra.iter().map(|arrays| arrays[b].clone()));
                RecordBatch::try_new(schema.clone(), columns)
            })
            .collect::<Result<Vec<_>, _>>()?;
        // the table's own columns come first, at the same positions: their ranges carry over
        BatchTable::try_new(schema, Arc::new(batches), self.inner.ranges.clone())
    }

    /// The members `keys` of column `c`, per key one array per batch (dictionary-encoded where
    /// that pays, see [`dictionary_encoded`]): one pass over the column, its batches split among
    /// the cores, then each member encoded on a thread of its own.
    fn extract(&self, c: usize, keys: &[&String]) -> DfResult<Vec<Vec<ArrayRef>>> {
        let batches = &self.inner.batches[..];
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = batches.len().div_ceil(threads).max(1);
        let failed = || datafusion::error::DataFusionError::Execution("a thread extracting members panicked".into());
        let parts: Vec<Vec<Vec<ArrayRef>>> = std::thread::scope(|s| {
            let handles: Vec<_> =
                batches.chunks(chunk).map(|part| s.spawn(move || extract_members(part, c, keys))).collect();
            handles.into_iter().map(|h| h.join().map_err(|_| failed())).collect::<DfResult<_>>()
        })?;
        let mut out: Vec<Vec<ArrayRef>> = vec![Vec::with_capacity(batches.len()); keys.len()];
        for part in parts {
            for (o, arrays) in out.iter_mut().zip(part) {
                o.extend(arrays);
            }
        }
        std::thread::scope(|s| {
            let handles: Vec<_> =
                out.into_iter().map(|arrays| s.spawn(move || dictionary_encoded(&arrays).unwrap_or(arrays))).collect();
            handles.into_iter().map(|h| h.join().map_err(|_| failed())).collect()
        })
    }
}

/// The members `keys` of column `c` of `batches`: per key, one text array per batch holding each
/// row's member as raw JSON (null where the row has none, or a JSON null).
fn extract_members(batches: &[RecordBatch], c: usize, keys: &[&String]) -> Vec<Vec<ArrayRef>> {
    let paths: Vec<[dj::PathElem; 1]> = keys.iter().map(|k| [dj::PathElem::Key(k.as_str())]).collect();
    let path_refs: Vec<&[dj::PathElem]> = paths.iter().map(|p| &p[..]).collect();
    let mut out: Vec<Vec<ArrayRef>> = vec![Vec::with_capacity(batches.len()); keys.len()];
    let mut found = vec![None; keys.len()];
    for batch in batches {
        let values = batch.column(c).as_string::<i32>();
        let mut builders: Vec<StringBuilder> =
            keys.iter().map(|_| StringBuilder::with_capacity(values.len(), 0)).collect();
        for i in 0..values.len() {
            if values.is_null(i) {
                builders.iter_mut().for_each(|b| b.append_null());
                continue;
            }
            dj::get_paths_into(values.value(i), &path_refs, &mut found);
            for (b, f) in builders.iter_mut().zip(&found) {
                // as the path function: a JSON null is a dynamic null
                match f {
                    Some(raw) if *raw != "null" => b.append_value(raw),
                    _ => b.append_null(),
                }
            }
        }
        for (o, mut b) in out.iter_mut().zip(builders) {
            o.push(Arc::new(b.finish()) as ArrayRef);
        }
    }
    out
}

/// A member's text arrays (one per batch) dictionary-encoded over one dictionary shared by all
/// batches, when the member has few distinct values (at most one per [`MIN_REPEATS`] values and
/// no more than [`MAX_DICTIONARY`]); `None` otherwise. Log fields such as a check's outcome or an
/// application's name take a handful of values over millions of rows: encoded, a filter reads
/// a 4-byte key per row and compares each distinct text once, and the member takes a fraction
/// of the memory.
fn dictionary_encoded(arrays: &[ArrayRef]) -> Option<Vec<ArrayRef>> {
    let rows: usize = arrays.iter().map(|a| a.len() - a.null_count()).sum();
    let limit = (rows / MIN_REPEATS).min(MAX_DICTIONARY);
    // (DataFusion's hash map: a fast hash, where std's is built to resist adversaries)
    let mut index: datafusion::common::HashMap<&str, i32> = datafusion::common::HashMap::default();
    let mut values = StringBuilder::new();
    let mut keys = Vec::with_capacity(arrays.len());
    for a in arrays {
        let texts = a.as_string_opt::<i32>()?;
        let mut k = Vec::with_capacity(texts.len());
        for t in texts.iter() {
            k.push(match t {
                None => None,
                Some(t) => Some(match index.get(t) {
                    Some(&i) => i,
                    None => {
                        if index.len() >= limit {
                            return None;
                        }
                        let i = index.len() as i32;
                        index.insert(t, i);
                        values.append_value(t);
                        i
                    }
                }),
            });
        }
        keys.push(Int32Array::from(k));
    }
    // a member with no value (all null) stays plain: arrow's kernels assume a dictionary holds
    // at least one value (sorting or interleaving keys over an empty one panics)
    if index.is_empty() {
        return None;
    }
    let values: ArrayRef = Arc::new(values.finish());
    keys.into_iter()
        .map(|k| DictionaryArray::<Int32Type>::try_new(k, values.clone()).ok().map(|d| Arc::new(d) as ArrayRef))
        .collect()
}

/// A member is dictionary-encoded when each of its distinct values occurs this many times on
/// average, at least.
const MIN_REPEATS: usize = 16;

/// The most distinct values a dictionary-encoded member has: a small fraction of a batch's rows,
/// so that a function over a batch works on far fewer values than rows (given a bigger
/// dictionary, it would decode the batch first, a copy of every text it reads).
const MAX_DICTIONARY: usize = 1024;

#[async_trait]
impl TableProvider for MemoryTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.inner.scan(state, projection, filters, limit).await
    }
}

/// Per batch, the range (min, max) of one integer column; `None` for a batch with no value.
type BatchRanges = Arc<Vec<Option<(i64, i64)>>>;

/// The ranges of a table's integer columns, by column index, each computed the first time a
/// scan needs it.
#[derive(Debug, Default)]
pub struct RangeCache(Mutex<HashMap<usize, BatchRanges>>);

impl RangeCache {
    fn of(&self, col: usize, batches: &[RecordBatch]) -> BatchRanges {
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(col)
            .or_insert_with(|| {
                Arc::new(
                    batches
                        .iter()
                        .map(|b| {
                            let values = b.column(col).as_primitive::<Int64Type>();
                            Some((compute::min(values)?, compute::max(values)?))
                        })
                        .collect(),
                )
            })
            .clone()
    }
}

/// Record batches served as a table, one partition, skipping the batches that pushed-down
/// comparisons of an `Int64` column with a constant rule out by the batch's range of that
/// column (see the module docs). DataFusion applies the comparisons again to the rows of the
/// batches kept.
#[derive(Debug)]
pub struct BatchTable {
    schema: SchemaRef,
    batches: Arc<Vec<RecordBatch>>,
    ranges: Arc<RangeCache>,
}

impl BatchTable {
    /// A table of `batches` in `schema`, with the cache of its columns' ranges (shared with the
    /// tables whose leading columns are the same arrays).
    pub fn try_new(schema: SchemaRef, batches: Arc<Vec<RecordBatch>>, ranges: Arc<RangeCache>) -> DfResult<BatchTable> {
        if let Some(b) = batches.iter().find(|b| !b.schema().contains(&schema)) {
            return Err(datafusion::error::DataFusionError::Plan(format!(
                "a batch of schema {} does not fit the table's schema {}",
                b.schema(),
                schema
            )));
        }
        Ok(BatchTable { schema, batches, ranges })
    }

    /// The column a comparison bounds, when it is an `Int64` column of the table.
    fn bound(&self, e: &Expr) -> Option<(usize, (datafusion::logical_expr::Operator, i64))> {
        int_bound(e, |name| {
            let i = self.schema.index_of(name).ok()?;
            (self.schema.field(i).data_type() == &DataType::Int64).then_some(i)
        })
    }

    /// The batches that may hold rows passing every comparison of `filters` it can judge.
    fn batches_for(&self, filters: &[Expr]) -> Vec<RecordBatch> {
        let windows = RowFilter::windows(filters.iter().filter_map(|f| self.bound(f)));
        if windows.is_empty() {
            return self.batches.to_vec();
        }
        let ranges: Vec<BatchRanges> = windows.iter().map(|w| self.ranges.of(w.col, &self.batches)).collect();
        self.batches
            .iter()
            .enumerate()
            .filter(|(b, _)| {
                // a batch without a value in the column has no row a comparison keeps
                windows.iter().zip(&ranges).all(|(w, r)| matches!(r[*b], Some((lo, hi)) if w.overlaps(lo, hi)))
            })
            .map(|(_, batch)| batch.clone())
            .collect()
    }
}

#[async_trait]
impl TableProvider for BatchTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| match self.bound(f) {
                Some(_) => TableProviderFilterPushDown::Inexact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let source =
            MemorySourceConfig::try_new(&[self.batches_for(filters)], self.schema.clone(), projection.cloned())?
                .with_show_sizes(state.config_options().explain.show_sizes);
        Ok(DataSourceExec::from_data_source(source))
    }
}

/// The bytes `batches` hold in memory, each buffer counted once however many columns or
/// batches share it (a column absent from a whole batch is one shared array of nulls).
pub fn batches_size(batches: &[RecordBatch]) -> usize {
    use datafusion::arrow::array::ArrayData;
    fn walk(d: &ArrayData, seen: &mut std::collections::HashSet<usize>, total: &mut usize) {
        for b in d.buffers().iter().chain(d.nulls().map(|n| n.buffer())) {
            if seen.insert(b.as_ptr() as usize) {
                *total += b.capacity();
            }
        }
        for c in d.child_data() {
            walk(c, seen, total);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    for b in batches {
        for c in b.columns() {
            walk(&c.to_data(), &mut seen, &mut total);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Catalog, Session, SessionOptions, TableEntry};
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::datasource::MemTable;
    use datafusion::logical_expr::{ident, lit};

    const HOUR: i64 = 36_000_000_000;

    /// Batches of `n` (long), `t` (datetime: a base time plus `n` hours) and `s` (string): mostly
    /// rising, one batch out of order, one with only nulls, one empty, one with some nulls.
    fn batches() -> (Vec<Col>, SchemaRef, Vec<RecordBatch>) {
        let cols = vec![Col::new("n", KqlType::Long), Col::new("t", KqlType::DateTime), Col::new("s", KqlType::String)];
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, true),
            Field::new("t", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let base = crate::value::datetime::parse_datetime("2025-10-21T00:00:00Z").unwrap();
        let groups: Vec<Vec<Option<i64>>> = vec![
            (0..10).map(Some).collect(),
            (10..20).map(Some).collect(),
            vec![Some(40), Some(5), Some(25)],
            vec![None, None],
            vec![],
            vec![Some(30), None, Some(31), Some(39)],
            (20..30).rev().map(Some).collect(),
        ];
        let batches = groups
            .into_iter()
            .map(|g| {
                let n = Int64Array::from(g.clone());
                let t = Int64Array::from(g.iter().map(|v| v.map(|v| base + v * HOUR)).collect::<Vec<_>>());
                let s = StringArray::from(g.iter().map(|v| v.map(|v| format!("s{v}"))).collect::<Vec<_>>());
                RecordBatch::try_new(schema.clone(), vec![Arc::new(n), Arc::new(t), Arc::new(s)]).unwrap()
            })
            .collect();
        (cols, schema, batches)
    }

    #[test]
    fn members_of_few_values_share_one_dictionary() {
        let texts = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
        let few: Vec<ArrayRef> = (0..4)
            .map(|b| texts((0..20).map(|i| (i % 7 != b).then_some(["\"PASS\"", "\"FAIL\""][i % 2])).collect()))
            .chain([texts(vec![]), texts(vec![None])])
            .collect();
        let encoded = dictionary_encoded(&few).expect("two values over 68 rows are encoded");
        assert_eq!(encoded.len(), few.len());
        let first = encoded[0].as_any_dictionary();
        assert_eq!(first.values().len(), 2);
        for (e, t) in encoded.iter().zip(&few) {
            // one dictionary for every batch, and the same texts and nulls as before
            assert!(Arc::ptr_eq(e.as_any_dictionary().values(), first.values()));
            assert_eq!(compute::cast(e, &DataType::Utf8).unwrap().as_ref(), t.as_ref());
        }
        // values that repeat less than MIN_REPEATS times on average stay text
        let many = vec![texts((0..100).map(|i| Some(["a", "b", "c", "d", "e", "f", "g"][i % 7])).collect())];
        assert!(dictionary_encoded(&many).is_none());
        // a member with no value at all stays text (arrow's kernels assume a dictionary has a value)
        assert!(dictionary_encoded(&[texts(vec![None, None])]).is_none());
    }

    #[test]
    fn batches_a_comparison_rules_out_are_skipped() {
        let (_, schema, batches) = batches();
        let table = BatchTable::try_new(schema, Arc::new(batches), Arc::default()).unwrap();
        let kept = |filters: &[Expr]| table.batches_for(filters).iter().map(|b| b.num_rows()).collect::<Vec<_>>();
        // no comparison it can judge: every batch
        assert_eq!(kept(&[]).len(), 7);
        assert_eq!(kept(&[ident("s").eq(lit("s1"))]).len(), 7);
        // batches whose range of `n` meets the window (null-only and empty batches never do)
        assert_eq!(kept(&[ident("n").gt(lit(29i64))]), [3, 4]);
        assert_eq!(kept(&[ident("n").gt_eq(lit(29i64))]), [3, 4, 10]);
        assert_eq!(kept(&[lit(10i64).gt(ident("n"))]), [10, 3]);
        assert_eq!(kept(&[ident("n").gt_eq(lit(10i64)), ident("n").lt_eq(lit(19i64))]), [10, 3]);
        assert_eq!(kept(&[ident("n").gt(lit(40i64))]), [0usize; 0]);
        // by ranges only: the out-of-order batch (5 to 40) may hold rows in any window inside
        assert_eq!(kept(&[ident("n").gt(lit(19i64)), ident("n").lt(lit(20i64))]), [3]);
        // a comparison of another column narrows on its own
        assert_eq!(kept(&[ident("n").gt(lit(5i64)), ident("t").lt(lit(0i64))]), [0usize; 0]);
    }

    #[test]
    fn skipping_batches_keeps_the_answers_of_a_plain_table() {
        let (cols, schema, batches) = batches();
        let mut memory = Session::new(Catalog::default(), SessionOptions::default()).unwrap();
        memory.add_batches("T", cols.clone(), batches.clone()).unwrap();
        let mut catalog = Catalog::default();
        let plain = MemTable::try_new(schema, vec![batches]).unwrap();
        catalog.add_table("T", TableEntry { cols, provider: Arc::new(plain), batches: None });
        let reference = Session::new(catalog, SessionOptions::default()).unwrap();
        // the comparisons do reach the scan (else the answers below would agree trivially)
        let plan = memory.optimized_plan("T | where n > 29 and s != 'x'").unwrap().display_indent().to_string();
        assert!(plan.contains("partial_filters=[T.n > Int64(29)]"), "{plan}");
        for q in [
            "T | where n > 29",
            "T | where n >= 29 and n < 31",
            "T | where 10 > n",
            "T | where n between (5 .. 25)",
            "T | where t > datetime(2025-10-21T20:00:00Z)",
            "T | where t >= datetime(2025-10-21T05:00:00Z) and t <= datetime(2025-10-22T01:00:00Z) and n != 7",
            "T | where t < datetime(2025-10-21T00:00:00Z)",
            "T | where isnull(n) or n > 35",
            "T | where not(n > 10)",
        ] {
            let q = format!("{q} | order by n asc, s asc");
            let want = crate::output::rows_json(&reference.query(&q).unwrap());
            assert_eq!(crate::output::rows_json(&memory.query(&q).unwrap()), want, "{q}");
        }
        let q = "T | where n > 5 | where s != 's6' | summarize count(), min(t), max(n)";
        let want = crate::output::rows_json(&reference.query(q).unwrap());
        assert_eq!(crate::output::rows_json(&memory.query(q).unwrap()), want, "{q}");
    }
}
