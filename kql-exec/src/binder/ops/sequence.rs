//! The `sequence_detect` plugin: occurrences of a sequence of steps (boolean predicates), each
//! within a step window of the one before and all within a span, correlated by dimensions.
//!
//! `T | evaluate sequence_detect(Timeline, MaxStepWindow, MaxSpan, e1=(pred), e2=(pred), ..., Dim1, ...)`
//! gives one row per occurrence: the dimensions, `<step>_<Timeline>` for each step (an unnamed
//! step is `_<Timeline>`, as Kusto names it), and `Duration` (last step's time minus the
//! first's). Every combination of rows that fits the windows is an occurrence, as the
//! documentation's StormEvents example shows (one heat event followed by two wildfires gives
//! two rows).

use super::super::naming::unique;
use super::super::{Binder, Col, Rel};
use super::evaluate::cells_to_array;
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::row::{RowConverter, SortField};
use kql_parser::ast::{self, ExprKind};
use kql_parser::Span;
use std::collections::HashMap;

/// Occurrences past this many stop the plugin with an error rather than exhaust memory.
const MAX_OCCURRENCES: usize = 10_000_000;

fn err(msg: impl Into<String>, span: Span) -> KqlError {
    KqlError::new("KQL130", format!("sequence_detect: {}", msg.into()), span)
}

impl Binder<'_> {
    /// `evaluate sequence_detect(...)`.
    pub(crate) fn plugin_sequence_detect(&mut self, rel: Rel, args: &[ast::Arg], span: Span) -> Result<Rel> {
        if args.len() < 4 {
            return Err(err(
                "expects the timeline column, the step window, the sequence span and at least one step predicate",
                span,
            ));
        }
        let timeline = args[0].expr();
        let ExprKind::Name(tname) = &timeline.kind else {
            return Err(KqlError::new("KS109", "Column name expected.", timeline.span));
        };
        let tb = self.bind_scalar(timeline, &rel)?;
        let tty = tb.ty;
        if !matches!(tty, KqlType::DateTime | KqlType::Long | KqlType::Int) {
            return Err(err(format!("the timeline column must be a datetime, not {tty}"), timeline.span));
        }
        let wty = if tty == KqlType::DateTime { KqlType::TimeSpan } else { KqlType::Long };
        let step_window = self.const_i64(args[1].expr(), wty)?;
        let max_span = self.const_i64(args[2].expr(), wty)?;

        // steps: the named or boolean arguments after the first three; dimensions: the rest
        let mut steps: Vec<String> = Vec::new();
        let mut pred_exprs = Vec::new();
        let mut dims: Vec<(String, KqlType, datafusion::logical_expr::Expr)> = Vec::new();
        for a in &args[3..] {
            let b = self.bind_scalar(a.expr(), &rel)?;
            match a {
                ast::Arg::Named(n) if dims.is_empty() => {
                    let b = self.coerce(b, KqlType::Bool);
                    steps.push(n.name.name.clone());
                    pred_exprs.push(b.expr);
                }
                ast::Arg::Positional(_) if dims.is_empty() && b.ty == KqlType::Bool => {
                    steps.push(String::new());
                    pred_exprs.push(b.expr);
                }
                ast::Arg::Named(n) => {
                    return Err(err("a step predicate cannot follow the dimensions", n.name.span));
                }
                ast::Arg::Positional(e) => {
                    let ExprKind::Name(n) = &e.kind else {
                        return Err(KqlError::new("KS109", "Column name expected.", e.span));
                    };
                    if b.ty == KqlType::Dynamic {
                        return Err(KqlError::new(
                            "KS116",
                            "The value of type 'dynamic' is not allowed in this context.",
                            e.span,
                        ));
                    }
                    dims.push((n.name.clone(), b.ty, b.expr));
                }
            }
        }
        if steps.is_empty() {
            return Err(err("expects at least one step predicate", span));
        }

        let mut cols: Vec<Col> = Vec::new();
        let mut taken: Vec<String> = Vec::new();
        for (name, ty, _) in &dims {
            let n = unique(name, &taken);
            taken.push(n.clone());
            cols.push(Col::new(n, *ty));
        }
        for s in &steps {
            let n = unique(&format!("{s}_{}", tname.name), &taken);
            taken.push(n.clone());
            cols.push(Col::new(n, tty));
        }
        let duration = unique("Duration", &taken);
        cols.push(Col::new(duration, wty));
        if self.options.check_only {
            return self.rel_from_batches(cols, vec![]);
        }
        if step_window < 0 || max_span < 0 {
            return Err(err("the step window and the sequence span must not be negative", span));
        }

        // one table: t, each step's predicate, each dimension
        let tb = self.coerce(tb, KqlType::Long);
        let mut proj = vec![tb.expr.alias("__t")];
        for (k, p) in pred_exprs.into_iter().enumerate() {
            proj.push(p.alias(format!("__p{k}")));
        }
        for (k, (_, _, e)) in dims.iter().enumerate() {
            proj.push(e.clone().alias(format!("__d{k}")));
        }
        let plan = crate::binder::projection::project(rel.plan, proj)?;
        let batches = self.runner.run(plan)?;
        let nsteps = steps.len();
        let (out_rows, input) = if batches.is_empty() {
            (Vec::new(), None)
        } else {
            let all = concat_batches(&batches[0].schema(), &batches)
                .map_err(|e| KqlError::general("KQL046", e.to_string()))?;
            (occurrences(&all, nsteps, dims.len(), step_window, max_span, span)?, Some(all))
        };

        // the output: dimensions taken from each occurrence's first row, then the step times
        let mut arrays: Vec<ArrayRef> = Vec::new();
        let first: UInt32Array = out_rows.iter().map(|o: &Vec<u32>| o[0]).collect();
        let times: Option<&datafusion::arrow::array::Int64Array> =
            input.as_ref().map(|b| b.column(0).as_primitive::<Int64Type>());
        for (k, col) in cols.iter().enumerate().take(dims.len()) {
            let arr = match &input {
                Some(b) => take(b.column(1 + nsteps + k).as_ref(), &first, None)
                    .map_err(|e| KqlError::general("KQL046", e.to_string()))?,
                None => datafusion::arrow::array::new_empty_array(&crate::types::arrow_type(col.ty)),
            };
            arrays.push(cast_to(arr, col.ty)?);
        }
        for s in 0..nsteps {
            let cells: Vec<super::evaluate::Cell> = out_rows
                .iter()
                .map(|o| super::evaluate::Cell::I(times.map_or(0, |t| t.value(o[s] as usize))))
                .collect();
            arrays.push(cells_to_array(&cells, tty)?);
        }
        let durations: Vec<super::evaluate::Cell> = out_rows
            .iter()
            .map(|o| {
                let t = times.expect("rows come from the input");
                super::evaluate::Cell::I(t.value(o[nsteps - 1] as usize) - t.value(o[0] as usize))
            })
            .collect();
        arrays.push(cells_to_array(&durations, wty)?);
        let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(
            cols.iter()
                .map(|c| datafusion::arrow::datatypes::Field::new(&c.name, crate::types::arrow_type(c.ty), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(schema, arrays).map_err(|e| KqlError::general("KQL046", e.to_string()))?;
        self.rel_from_batches(cols, vec![batch])
    }
}

/// A dimension column as the Arrow type of its KQL type (dictionary-encoded text unpacked).
fn cast_to(a: ArrayRef, ty: KqlType) -> Result<ArrayRef> {
    let want = crate::types::arrow_type(ty);
    if a.data_type() == &want {
        return Ok(a);
    }
    datafusion::arrow::compute::cast(&a, &want).map_err(|e| KqlError::general("KQL046", e.to_string()))
}

/// Every occurrence of the sequence in `b` (columns: time, one boolean per step, the
/// dimensions), as the input row of each step, ordered by the steps' times.
fn occurrences(
    b: &RecordBatch,
    nsteps: usize,
    ndims: usize,
    step_window: i64,
    max_span: i64,
    span: Span,
) -> Result<Vec<Vec<u32>>> {
    let times = b.column(0).as_primitive::<Int64Type>();
    let preds: Vec<_> = (0..nsteps).map(|k| b.column(1 + k).as_boolean()).collect();
    // rows grouped by their dimensions (compared as Arrow rows: typed, nulls equal)
    let mut groups: Vec<Vec<u32>> = Vec::new();
    if ndims == 0 {
        groups.push((0..b.num_rows() as u32).collect());
    } else {
        let dim_cols: Vec<ArrayRef> = (0..ndims).map(|k| b.column(1 + nsteps + k).clone()).collect();
        let conv = RowConverter::new(dim_cols.iter().map(|c| SortField::new(c.data_type().clone())).collect())
            .map_err(|e| KqlError::general("KQL046", e.to_string()))?;
        let rows = conv.convert_columns(&dim_cols).map_err(|e| KqlError::general("KQL046", e.to_string()))?;
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        for i in 0..b.num_rows() {
            let g = *index.entry(rows.row(i).as_ref().to_vec()).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(i as u32);
        }
    }
    let mut out: Vec<Vec<u32>> = Vec::new();
    for rows in &mut groups {
        rows.retain(|&i| times.is_valid(i as usize));
        rows.sort_by_key(|&i| times.value(i as usize));
        // for each step, the positions (in time order) of the rows where it holds
        let at: Vec<Vec<usize>> = (0..nsteps)
            .map(|k| {
                (0..rows.len())
                    .filter(|&p| {
                        let i = rows[p] as usize;
                        preds[k].is_valid(i) && preds[k].value(i)
                    })
                    .collect()
            })
            .collect();
        let mut chain: Vec<usize> = Vec::with_capacity(nsteps);
        for &p0 in &at[0] {
            chain.clear();
            chain.push(p0);
            extend(rows, times, &at, &mut chain, step_window, max_span, &mut out);
            if out.len() > MAX_OCCURRENCES {
                return Err(err(
                    format!("more than {MAX_OCCURRENCES} occurrences; narrow the input or the windows"),
                    span,
                ));
            }
        }
    }
    out.sort_by_key(|o| o.iter().map(|&i| times.value(i as usize)).collect::<Vec<_>>());
    Ok(out)
}

/// Extends `chain` (positions in `rows` of the steps so far) by every row that can be the
/// next step, recording each complete chain in `out`.
fn extend(
    rows: &[u32],
    times: &datafusion::arrow::array::Int64Array,
    at: &[Vec<usize>],
    chain: &mut Vec<usize>,
    step_window: i64,
    max_span: i64,
    out: &mut Vec<Vec<u32>>,
) {
    let step = chain.len();
    if step == at.len() {
        out.push(chain.iter().map(|&p| rows[p]).collect());
        return;
    }
    let t = |p: usize| times.value(rows[p] as usize);
    let prev = *chain.last().expect("a chain starts with its first step");
    let (t0, tp) = (t(chain[0]), t(prev));
    // the candidates are in time order: stop at the first beyond either window
    let start = at[step].partition_point(|&p| p <= prev);
    for &p in &at[step][start..] {
        let tn = t(p);
        if tn - tp > step_window || tn - t0 > max_span {
            break;
        }
        chain.push(p);
        extend(rows, times, at, chain, step_window, max_span, out);
        chain.pop();
        if out.len() > MAX_OCCURRENCES {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::output::rows_json;
    use crate::session::{Catalog, Session, SessionOptions};
    use serde_json::{json, Value};

    fn run(q: &str) -> Result<(Vec<String>, Vec<Vec<Value>>), String> {
        let s = Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
        let r = s.query(q).map_err(|e| format!("{} {}", e.code, e.message))?;
        Ok((r.cols.iter().map(|c| c.name.clone()).collect(), rows_json(&r)))
    }

    const STORMS: &str = "datatable(StartTime:datetime, EventType:string, State:string)[
        datetime(2007-05-08), 'Excessive Heat', 'CALIFORNIA',
        datetime(2007-05-08 16:02), 'Wildfire', 'CALIFORNIA',
        datetime(2007-05-10 11:30), 'Wildfire', 'CALIFORNIA',
        datetime(2007-05-20), 'Wildfire', 'CALIFORNIA',
        datetime(2007-08-31 08:00), 'Excessive Heat', 'CALIFORNIA',
        datetime(2007-09-01 11:28), 'Wildfire', 'CALIFORNIA',
        datetime(2007-09-02 12:00), 'Excessive Heat', 'CALIFORNIA',
        datetime(2007-09-02 13:30), 'Wildfire', 'CALIFORNIA',
        datetime(2007-07-23 12:00), 'Excessive Heat', 'SOUTH DAKOTA',
        datetime(2007-07-27 09:00), 'Wildfire', 'SOUTH DAKOTA',
        datetime(2007-07-24), 'Wildfire', 'TEXAS']";

    #[test]
    fn documented_storm_events_shape() {
        // the documentation's example: every heat event followed by a wildfire within 5 days,
        // in the same state; one heat event with two later wildfires gives two rows
        let (cols, rows) = run(&format!(
            "{STORMS} | evaluate sequence_detect(StartTime, 5d, 5d, heat=(EventType == 'Excessive Heat'), wildfire=(EventType == 'Wildfire'), State)"
        ))
        .unwrap();
        assert_eq!(cols, ["State", "heat_StartTime", "wildfire_StartTime", "Duration"]);
        let expect = [
            ("CALIFORNIA", "2007-05-08T00:00:00.0000000Z", "2007-05-08T16:02:00.0000000Z", "16:02:00"),
            ("CALIFORNIA", "2007-05-08T00:00:00.0000000Z", "2007-05-10T11:30:00.0000000Z", "2.11:30:00"),
            ("SOUTH DAKOTA", "2007-07-23T12:00:00.0000000Z", "2007-07-27T09:00:00.0000000Z", "3.21:00:00"),
            ("CALIFORNIA", "2007-08-31T08:00:00.0000000Z", "2007-09-01T11:28:00.0000000Z", "1.03:28:00"),
            ("CALIFORNIA", "2007-08-31T08:00:00.0000000Z", "2007-09-02T13:30:00.0000000Z", "2.05:30:00"),
            ("CALIFORNIA", "2007-09-02T12:00:00.0000000Z", "2007-09-02T13:30:00.0000000Z", "01:30:00"),
        ];
        assert_eq!(rows.len(), expect.len(), "{rows:?}");
        for (r, e) in rows.iter().zip(expect) {
            assert_eq!(r, &vec![json!(e.0), json!(e.1), json!(e.2), json!(e.3)]);
        }
    }

    #[test]
    fn windows_bound_each_step_and_the_whole() {
        // a -> b within 10m each, the whole within 15m: the b at +12m follows the a at +5m only
        let q = "datatable(t:datetime, e:string)[datetime(2020-01-01 00:00), 'a', datetime(2020-01-01 00:05), 'a',
                 datetime(2020-01-01 00:12), 'b', datetime(2020-01-01 00:20), 'c']
                 | evaluate sequence_detect(t, 10m, 15m, s1=(e == 'a'), s2=(e == 'b'), s3=(e == 'c'))";
        let (cols, rows) = run(q).unwrap();
        assert_eq!(cols, ["s1_t", "s2_t", "s3_t", "Duration"]);
        assert_eq!(
            rows,
            vec![vec![
                json!("2020-01-01T00:05:00.0000000Z"),
                json!("2020-01-01T00:12:00.0000000Z"),
                json!("2020-01-01T00:20:00.0000000Z"),
                json!("00:15:00")
            ]]
        );
        // unnamed steps are `_<timeline>`, made unique
        let (cols, _) =
            run("datatable(t:datetime, e:string)[] | evaluate sequence_detect(t, 1m, 1m, e == 'a', e == 'b')").unwrap();
        assert_eq!(cols, ["_t", "_t1", "Duration"]);
    }

    #[test]
    fn dimensions_must_be_plain_non_dynamic_columns() {
        let base = "datatable(t:datetime, e:string, d:dynamic)[] | evaluate sequence_detect(t, 1m, 1m, x=(e == 'a'), ";
        assert!(run(&format!("{base} tostring(d))")).unwrap_err().starts_with("KS109"));
        assert!(run(&format!("{base} d)")).unwrap_err().starts_with("KS116"));
    }
}
