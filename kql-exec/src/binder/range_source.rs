//! The rows of a `range` operator, generated batch by batch as the query reads them: memory
//! stays constant however many rows the range has, and a `--timeout` or a cancel stops it
//! between batches (`range x from 1 to 10000000000 step 1 | count` never holds its rows).

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::Result;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::memory::{LazyBatchGenerator, LazyMemoryExec};
use datafusion::physical_plan::ExecutionPlan;
use parking_lot::RwLock;
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// Rows per generated batch.
const BATCH_ROWS: usize = 8192;

/// What a `range` counts: `from`, `from + step`, ... while not past `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeSpec {
    /// Integers (also datetimes and timespans, as ticks).
    Long {
        /// The first value.
        from: i64,
        /// The last value allowed.
        to: i64,
        /// The difference between consecutive values (not zero).
        step: i64,
    },
    /// Reals, each the previous plus `step`.
    Real {
        /// The first value.
        from: f64,
        /// The last value allowed.
        to: f64,
        /// The difference between consecutive values (not zero, finite).
        step: f64,
    },
}

impl RangeSpec {
    /// How many rows an integer range has (`None` for reals: counted as they are made).
    pub fn long_rows(&self) -> Option<u64> {
        match *self {
            RangeSpec::Long { from, to, step } => {
                let (from, to, step) = (from as i128, to as i128, step as i128);
                Some(if (step > 0 && to >= from) || (step < 0 && to <= from) {
                    ((to - from) / step) as u64 + 1
                } else {
                    0
                })
            }
            RangeSpec::Real { .. } => None,
        }
    }
}

/// A table of one column holding a range's values, made as they are read.
#[derive(Debug)]
pub struct RangeTable {
    schema: SchemaRef,
    spec: RangeSpec,
}

impl RangeTable {
    /// The range `spec` as a table with `schema` (one column: Int64 or Float64).
    pub fn new(schema: SchemaRef, spec: RangeSpec) -> Self {
        RangeTable { schema, spec }
    }
}

#[async_trait::async_trait]
impl TableProvider for RangeTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let generator = RangeGenerator::new(self.schema.clone(), self.spec);
        let exec = LazyMemoryExec::try_new(self.schema.clone(), vec![Arc::new(RwLock::new(generator))])?
            .with_projection(projection.cloned());
        Ok(Arc::new(exec))
    }
}

/// Makes a range's batches, one after the other.
#[derive(Debug, Clone)]
struct RangeGenerator {
    schema: SchemaRef,
    spec: RangeSpec,
    /// Rows made so far.
    made: u64,
    /// The next real value (reals accumulate by adding the step, as Kusto's do).
    next_real: f64,
    done: bool,
}

impl RangeGenerator {
    fn new(schema: SchemaRef, spec: RangeSpec) -> Self {
        let next_real = match spec {
            RangeSpec::Real { from, .. } => from,
            RangeSpec::Long { .. } => 0.0,
        };
        RangeGenerator { schema, spec, made: 0, next_real, done: false }
    }
}

impl fmt::Display for RangeGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.spec {
            RangeSpec::Long { from, to, step } => write!(f, "range: from={from}, to={to}, step={step}"),
            RangeSpec::Real { from, to, step } => write!(f, "range: from={from}, to={to}, step={step}"),
        }
    }
}

impl LazyBatchGenerator for RangeGenerator {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn generate_next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.done {
            return Ok(None);
        }
        let column: ArrayRef = match self.spec {
            RangeSpec::Long { from, step, .. } => {
                let total = self.spec.long_rows().unwrap_or(0);
                let n = (total - self.made).min(BATCH_ROWS as u64);
                if n == 0 {
                    self.done = true;
                    return Ok(None);
                }
                // i128 keeps `from + i * step` exact up to the last value, which is within i64
                let start = self.made as i128;
                let values = (0..n as i128).map(|i| (from as i128 + (start + i) * step as i128) as i64);
                self.made += n;
                Arc::new(Int64Array::from_iter_values(values))
            }
            RangeSpec::Real { to, step, .. } => {
                let mut values = Vec::with_capacity(BATCH_ROWS);
                let mut x = self.next_real;
                while values.len() < BATCH_ROWS && ((step > 0.0 && x <= to) || (step < 0.0 && x >= to)) {
                    values.push(x);
                    x += step;
                }
                self.next_real = x;
                if values.is_empty() {
                    self.done = true;
                    return Ok(None);
                }
                self.made += values.len() as u64;
                Arc::new(Float64Array::from(values))
            }
        };
        Ok(Some(RecordBatch::try_new(self.schema.clone(), vec![column])?))
    }

    fn reset_state(&self) -> Arc<RwLock<dyn LazyBatchGenerator>> {
        Arc::new(RwLock::new(RangeGenerator::new(self.schema.clone(), self.spec)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_rows_counts_both_directions_and_extremes() {
        assert_eq!(RangeSpec::Long { from: 1, to: 10, step: 3 }.long_rows(), Some(4));
        assert_eq!(RangeSpec::Long { from: 10, to: 1, step: -3 }.long_rows(), Some(4));
        assert_eq!(RangeSpec::Long { from: 10, to: 1, step: 3 }.long_rows(), Some(0));
        assert_eq!(RangeSpec::Long { from: i64::MIN, to: i64::MAX, step: i64::MAX }.long_rows(), Some(3));
    }

    #[test]
    fn batches_continue_where_the_last_ended() {
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
        let mut g = RangeGenerator::new(schema, RangeSpec::Long { from: 5, to: 5 + 3 * 10_000, step: 3 });
        let mut all = Vec::new();
        while let Some(b) = g.generate_next_batch().unwrap() {
            let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            all.extend(a.values().iter().copied());
        }
        assert_eq!(all.len(), 10_001);
        assert!(all.iter().enumerate().all(|(i, v)| *v == 5 + 3 * i as i64));
    }
}
