//! Which span of time a query reads from each table, for time pruning of export trees.
//!
//! While binding, every table scan is recorded ([`Binder::scan_windows`]), and a `where` bound
//! right over a scan (possibly after other `where`s) narrows that scan's window by its
//! conjuncts that compare `TimeGenerated` (or `Timestamp`) with a constant: `>`, `>=`, `<`, `<=`,
//! `==`, and `between` (which binds to a pair of them). `ago()`, `now()` and `let` values are
//! constants by then. A table's window is the hull of its scans' windows, and unbounded when any
//! scan is unfiltered; a table the query never scans directly is absent. A scan of tables by
//! wildcard (`union T*`, `search`, `find`) records `"*"`: then nothing can be pruned.

use super::Binder;
use crate::schema::KqlType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{BinaryExpr, Expr, LogicalPlan, Operator};
use std::collections::BTreeMap;

/// Per table: `Some((from, to))` (ticks, inclusive) when every scan of it is bounded by a time
/// filter, `None` when some scan reads all of it.
pub type TimeBounds = BTreeMap<String, Option<(i64, i64)>>;

fn is_time_column(e: &Expr) -> bool {
    matches!(e, Expr::Column(c) if c.name == "TimeGenerated" || c.name == "Timestamp")
}

impl Binder<'_> {
    /// A `where` with predicate `pred` is being applied to `input`: when `input` is a table scan
    /// (under other filters only), narrow the scan's window by the predicate's time conjuncts.
    pub(crate) fn note_time_filter(&mut self, input: &LogicalPlan, pred: &Expr) {
        let mut node = input;
        let table = loop {
            match node {
                LogicalPlan::Filter(f) => node = &f.input,
                LogicalPlan::TableScan(t) => break t.table_name.table().to_string(),
                _ => return,
            }
        };
        let Some(window) = self.window_of(pred) else { return };
        if let Some(entry) = self.scan_windows.iter_mut().rev().find(|(t, _)| *t == table) {
            let (from, to) = entry.1.unwrap_or((i64::MIN, i64::MAX));
            entry.1 = Some((from.max(window.0), to.min(window.1)));
        }
    }

    /// The time window a predicate's conjuncts impose, if any of them bounds a time column.
    fn window_of(&self, pred: &Expr) -> Option<(i64, i64)> {
        let (mut from, mut to) = (i64::MIN, i64::MAX);
        let mut bounded = false;
        for c in split_conjunction(pred) {
            let Expr::BinaryExpr(BinaryExpr { left, op, right }) = c else { continue };
            let (value, op) = if is_time_column(left) && right.column_refs().is_empty() {
                (right.as_ref(), *op)
            } else if is_time_column(right) && left.column_refs().is_empty() {
                match op.swap() {
                    Some(o) => (left.as_ref(), o),
                    None => continue,
                }
            } else {
                continue;
            };
            let Ok(ScalarValue::Int64(Some(v))) =
                self.const_value(value.clone(), KqlType::DateTime, Default::default())
            else {
                continue;
            };
            match op {
                Operator::Gt | Operator::GtEq => from = from.max(v),
                Operator::Lt | Operator::LtEq => to = to.min(v),
                Operator::Eq => {
                    from = from.max(v);
                    to = to.min(v);
                }
                _ => continue,
            }
            bounded = true;
        }
        bounded.then_some((from, to))
    }

    /// The windows of all scans so far, per table (see [`TimeBounds`]).
    pub fn time_bounds(&self) -> TimeBounds {
        let mut out = TimeBounds::new();
        for (table, w) in &self.scan_windows {
            widen(&mut out, table, *w);
        }
        out
    }
}

/// Widen `table`'s window in `out` to take in `w` (the hull; unbounded stays unbounded).
fn widen(out: &mut TimeBounds, table: &str, w: Option<(i64, i64)>) {
    let merged = match (out.get(table), w) {
        (None, w) => w,
        (Some(None), _) | (_, None) => None,
        (Some(Some(a)), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
    };
    out.insert(table.to_string(), merged);
}

/// The bounds of several queries run over the same data (a rule set): per table, the hull of
/// the windows of the queries that scan it (unbounded when one of them reads all of it);
/// `"*"` when one of them scans by wildcard.
pub fn merge(all: &[TimeBounds]) -> TimeBounds {
    let mut out = TimeBounds::new();
    for b in all {
        if b.contains_key("*") {
            return TimeBounds::from([("*".to_string(), None)]);
        }
        for (table, w) in b {
            widen(&mut out, table, *w);
        }
    }
    out
}

/// `bounds` narrowed to `[from, to]` (a rule's lookback window): every table it scans,
/// bounded or not, is read over that window at most.
pub fn clip(bounds: &TimeBounds, from: i64, to: i64) -> TimeBounds {
    bounds
        .iter()
        .map(|(t, w)| {
            if t == "*" {
                return (t.clone(), None);
            }
            let (a, b) = w.unwrap_or((i64::MIN, i64::MAX));
            (t.clone(), Some((a.max(from), b.min(to))))
        })
        .collect()
}
