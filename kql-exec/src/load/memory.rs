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
//! object again.

use super::paths::member_column;
use crate::binder::Col;
use crate::schema::KqlType;
use crate::value::dynamic as dj;
use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session as DfSession;
use datafusion::datasource::{MemTable, TableProvider, TableType};
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
    inner: MemTable,
    cols: Vec<Col>,
    batches: Arc<Vec<RecordBatch>>,
    /// Members extracted so far, by (column index, key).
    members: Mutex<HashMap<(usize, String), MemberArrays>>,
}

impl MemoryTable {
    /// A table of `batches` (already in the schema of `cols`).
    pub fn try_new(schema: SchemaRef, cols: Vec<Col>, batches: Arc<Vec<RecordBatch>>) -> DfResult<MemoryTable> {
        let inner = MemTable::try_new(schema, vec![batches.to_vec()])?;
        Ok(MemoryTable { inner, cols, batches, members: Mutex::default() })
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
    /// not extracted yet are extracted now, one pass per column, and kept.
    pub fn with_members(&self, wanted: &[(usize, Vec<String>)]) -> DfResult<MemTable> {
        let mut fields: Vec<Field> = self.inner.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut extra: Vec<MemberArrays> = Vec::new();
        let mut cache = self.members.lock().unwrap_or_else(|p| p.into_inner());
        for (c, keys) in wanted {
            let Some(col) = self.cols.get(*c).filter(|col| col.ty == KqlType::Dynamic) else { continue };
            let missing: Vec<&String> = keys.iter().filter(|k| !cache.contains_key(&(*c, (*k).clone()))).collect();
            if !missing.is_empty() {
                for (k, arrays) in missing.iter().zip(self.extract(*c, &missing)) {
                    cache.insert((*c, (*k).clone()), Arc::new(arrays));
                }
            }
            for k in keys {
                if let Some(arrays) = cache.get(&(*c, k.clone())) {
                    fields.push(Field::new(member_column(&col.name, k), DataType::Utf8, true));
                    extra.push(arrays.clone());
                }
            }
        }
        drop(cache);
        let schema = Arc::new(Schema::new(fields));
        let batches = self
            .batches
            .iter()
            .enumerate()
            .map(|(b, batch)| {
                let mut columns = batch.columns().to_vec();
                columns.extend(extra.iter().map(|arrays| arrays[b].clone()));
                RecordBatch::try_new(schema.clone(), columns)
            })
            .collect::<Result<Vec<_>, _>>()?;
        MemTable::try_new(schema, vec![batches])
    }

    /// The members `keys` of column `c`, per key one array per batch, in one pass over the column.
    fn extract(&self, c: usize, keys: &[&String]) -> Vec<Vec<ArrayRef>> {
        let paths: Vec<[dj::PathElem; 1]> = keys.iter().map(|k| [dj::PathElem::Key(k.as_str())]).collect();
        let path_refs: Vec<&[dj::PathElem]> = paths.iter().map(|p| &p[..]).collect();
        let mut out: Vec<Vec<ArrayRef>> = vec![Vec::with_capacity(self.batches.len()); keys.len()];
        let mut found = vec![None; keys.len()];
        for batch in self.batches.iter() {
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
}

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
