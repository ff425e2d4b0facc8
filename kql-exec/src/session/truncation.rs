//! Kusto's result truncation: a query's result holds at most 500,000 records and 64 MB, or the
//! query fails with `E_QUERY_RESULT_SET_TOO_LARGE` (here KQL084). The query's `set` statements
//! change it as they do in Kusto: `set notruncation;` lifts it, `set truncationmaxrecords = N;`,
//! `set truncationmaxsize = N;` (bytes) and `set query_take_max_records = N;` set it, and a
//! `notruncation` is ignored when any of these is set.
//!
//! The limit is what keeps a query that multiplies its rows (a `join` on a key with few values,
//! an `mv-expand` of huge arrays) from filling the machine's memory with its result: the
//! result's batches are counted as they arrive and the query stops at the limit.

use crate::binder::Bound;
use crate::error::KqlError;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::logical_expr::Expr;
use datafusion::scalar::ScalarValue;
use std::collections::HashMap;

/// Kusto's default record limit of a result.
pub const DEFAULT_MAX_RECORDS: u64 = 500_000;
/// Kusto's default data size limit of a result: 64 MB.
pub const DEFAULT_MAX_SIZE: u64 = 64 << 20;

/// The most records and bytes a query's result may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultLimits {
    /// Records (rows).
    pub max_records: u64,
    /// Bytes of the result's values.
    pub max_size: u64,
}

impl Default for ResultLimits {
    fn default() -> Self {
        ResultLimits { max_records: DEFAULT_MAX_RECORDS, max_size: DEFAULT_MAX_SIZE }
    }
}

impl ResultLimits {
    /// The limits a query's `set` statements (`query_options`, lower-cased names) leave:
    /// `None` when truncation is off.
    pub fn from_options(options: &HashMap<String, Bound>) -> Option<ResultLimits> {
        let number = |name: &str| options.get(name).and_then(|b| literal_u64(&b.expr));
        let records = [number("truncationmaxrecords"), number("query_take_max_records")].into_iter().flatten().min();
        let size = number("truncationmaxsize");
        let off = options.get("notruncation").is_some_and(|b| literal_bool(&b.expr) != Some(false));
        if off && records.is_none() && size.is_none() {
            return None;
        }
        let d = ResultLimits::default();
        Some(ResultLimits { max_records: records.unwrap_or(d.max_records), max_size: size.unwrap_or(d.max_size) })
    }

    /// KQL084 when `records` and `bytes` (the result so far) are past a limit.
    pub fn check(&self, records: u64, bytes: u64) -> Result<(), KqlError> {
        let (what, limit) = if records > self.max_records {
            ("record count", self.max_records)
        } else if bytes > self.max_size {
            ("data size", self.max_size)
        } else {
            return Ok(());
        };
        Err(KqlError::general(
            "KQL084",
            format!(
                "the query's result set has exceeded the {what} limit {limit} (E_QUERY_RESULT_SET_TOO_LARGE, as Kusto)"
            ),
        )
        .with_help(
            "return less (summarize, take, project only the columns needed), or lift the limit with \
             `set notruncation;` or `set truncationmaxrecords = N;` / `set truncationmaxsize = BYTES;` \
             before the query",
        ))
    }
}

/// The bytes of a batch's values: what its rows hold, not the buffers a slice shares with
/// rows it does not hold, nor a whole dictionary that many batches share (a dictionary column
/// counts its keys and its rows' share of the values).
pub fn batch_bytes(b: &RecordBatch) -> u64 {
    b.columns().iter().map(|c| array_bytes(c.as_ref())).sum()
}

fn array_bytes(a: &dyn Array) -> u64 {
    let slice =
        |a: &dyn Array| a.to_data().get_slice_memory_size().unwrap_or_else(|_| a.get_array_memory_size()) as u64;
    match a.as_any_dictionary_opt() {
        Some(d) => {
            let values = d.values();
            let per_value = slice(values.as_ref()) / values.len().max(1) as u64;
            slice(d.keys()) + per_value * a.len() as u64
        }
        None => slice(a),
    }
}

fn literal_u64(e: &Expr) -> Option<u64> {
    match e {
        Expr::Literal(v, _) => match v {
            ScalarValue::Int64(Some(n)) => u64::try_from(*n).ok(),
            ScalarValue::Int32(Some(n)) => u64::try_from(*n).ok(),
            ScalarValue::Float64(Some(f)) if *f >= 0.0 => Some(*f as u64),
            _ => None,
        },
        Expr::Cast(c) => literal_u64(&c.expr),
        Expr::Alias(a) => literal_u64(&a.expr),
        _ => None,
    }
}

fn literal_bool(e: &Expr) -> Option<bool> {
    match e {
        Expr::Literal(ScalarValue::Boolean(b), _) => *b,
        Expr::Alias(a) => literal_bool(&a.expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::KqlType;
    use datafusion::logical_expr::lit;

    fn opts(pairs: &[(&str, Expr)]) -> HashMap<String, Bound> {
        pairs.iter().map(|(k, e)| (k.to_string(), Bound::new(e.clone(), KqlType::Long))).collect()
    }

    #[test]
    fn kusto_rules_for_the_set_statements() {
        assert_eq!(ResultLimits::from_options(&opts(&[])), Some(ResultLimits::default()));
        assert_eq!(ResultLimits::from_options(&opts(&[("notruncation", lit(true))])), None);
        // a maximum set wins over notruncation; the lower of two record maxima applies
        let l = ResultLimits::from_options(&opts(&[
            ("notruncation", lit(true)),
            ("truncationmaxrecords", lit(1105i64)),
            ("query_take_max_records", lit(2000i64)),
        ]))
        .unwrap();
        assert_eq!(l, ResultLimits { max_records: 1105, max_size: DEFAULT_MAX_SIZE });
        let l = ResultLimits::from_options(&opts(&[("truncationmaxsize", lit(1048576i64))])).unwrap();
        assert_eq!(l.max_size, 1 << 20);
        assert!(l.check(500_000, 1 << 20).is_ok());
        assert_eq!(l.check(500_001, 0).unwrap_err().code, "KQL084");
        assert!(l.check(1, (1 << 20) + 1).unwrap_err().message.contains("data size limit 1048576"));
    }
}
