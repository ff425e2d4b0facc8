//! Series (dynamic arrays of numbers, as `make-series` builds them) and window functions.
//!
//! - element-wise: `series_add`, `series_subtract`, `series_multiply`, `series_divide`,
//!   `series_pow`, comparisons (`series_greater`...), math (`series_abs`, `series_sin`...);
//! - aggregates over one series: `series_sum`, `series_product`, `series_stats(_dynamic)`,
//!   `series_dot_product`, `series_pearson_correlation`, `series_cosine_similarity`;
//! - fills and filters: `series_fill_forward/backward/const/linear`, `series_iir`, `series_fir`;
//! - analysis: `series_outliers`, `series_fit_line(_dynamic)`, `series_fit_2lines(_dynamic)`,
//!   `series_seasonal`, `series_periods_validate`, `series_periods_detect`, `series_decompose`,
//!   `series_decompose_anomalies`, `series_decompose_forecast`;
//! - transforms (`series_fft`, `series_ifft`) and `series_fit_poly`: in [`super::series_transform`].
//!
//! Functions with several results (`series_stats`, `series_fit_line`...) are bound to one dynamic
//! property bag; [`expand_multi`] splits such a call into Kusto's columns
//! (`series_stats_x_min`...) for `extend`/`project`.
//!
//! Window functions (`row_number`, `prev`, `next`, `row_cumsum`, `row_rank_dense`,
//! `row_rank_min`, `row_window_session`) are bound to one DataFusion window UDF evaluated over
//! the whole (serialized) input in its order; [`lift_windows`] moves them out of a projection's
//! expressions into `Window` plan nodes (innermost first, as `row_cumsum(x, a != prev(a))` nests).

use super::array::{row_call, Out, V};
use super::BindCtx;
use crate::binder::{Binder, Bound};
use crate::error::Result;
use crate::schema::KqlType;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    lit, Expr, LogicalPlan, LogicalPlanBuilder, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};
use kql_parser::ast;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// elements
// ---------------------------------------------------------------------------------------------

/// One element of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
enum E {
    Null,
    I(i64),
    F(f64),
}

impl E {
    fn f(self) -> Option<f64> {
        match self {
            E::I(i) => Some(i as f64),
            E::F(f) => Some(f),
            E::Null => None,
        }
    }
    fn json(self) -> String {
        match self {
            E::Null => "null".into(),
            E::I(i) => i.to_string(),
            E::F(f) => dj::json_from_f64(f),
        }
    }
}

fn elem(raw: &str) -> E {
    match dj::kind(raw) {
        Some(dj::JsonKind::Long) => dj::as_i64(raw).map_or(E::Null, E::I),
        Some(dj::JsonKind::Real) => dj::as_f64(raw).map_or(E::Null, E::F),
        Some(dj::JsonKind::String) if matches!(raw, "\"NaN\"" | "\"Infinity\"" | "\"-Infinity\"") => {
            dj::as_f64(raw).map_or(E::Null, E::F)
        }
        _ => E::Null,
    }
}

/// An argument: a series or a scalar (used for every element).
enum Arg {
    Series(Vec<E>),
    Scalar(E),
}

impl Arg {
    fn get(&self, i: usize) -> E {
        match self {
            Arg::Series(v) => v.get(i).copied().unwrap_or(E::Null),
            Arg::Scalar(e) => *e,
        }
    }
    fn len(&self) -> Option<usize> {
        match self {
            Arg::Series(v) => Some(v.len()),
            Arg::Scalar(_) => None,
        }
    }
}

fn arg(v: V) -> Option<Arg> {
    match v {
        V::Null => None,
        V::I(i) => Some(Arg::Scalar(E::I(i))),
        V::F(f) => Some(Arg::Scalar(E::F(f))),
        V::B(b) => Some(Arg::Scalar(E::I(i64::from(b)))),
        V::S(s) => match dj::array_elements(s) {
            Some(items) => Some(Arg::Series(items.into_iter().map(elem).collect())),
            None => match elem(s) {
                E::Null => None,
                e => Some(Arg::Scalar(e)),
            },
        },
    }
}

/// The numbers of a series argument (non-numbers as `None`).
pub(super) fn series(v: V) -> Option<Vec<Option<f64>>> {
    match arg(v)? {
        Arg::Series(s) => Some(s.into_iter().map(E::f).collect()),
        Arg::Scalar(_) => None,
    }
}

fn json_arr<I: IntoIterator<Item = String>>(items: I) -> String {
    let v: Vec<String> = items.into_iter().collect();
    dj::build_array(&v.iter().map(String::as_str).collect::<Vec<_>>())
}

fn f_arr(v: &[Option<f64>]) -> String {
    json_arr(v.iter().map(|x| x.map_or_else(|| "null".to_string(), dj::json_from_f64)))
}

pub(super) fn f_arr_plain(v: &[f64]) -> String {
    json_arr(v.iter().map(|x| dj::json_from_f64(*x)))
}

// ---------------------------------------------------------------------------------------------
// element-wise
// ---------------------------------------------------------------------------------------------

fn binary(a: &[V], op: fn(E, E) -> E) -> Out {
    let (Some(x), Some(y)) = (arg(a[0]), arg(a[1])) else { return Out::Null };
    let n = match (x.len(), y.len()) {
        (Some(p), Some(q)) => p.max(q),
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => 1,
    };
    Out::S(json_arr((0..n).map(|i| match (x.get(i), y.get(i)) {
        (E::Null, _) | (_, E::Null) => "null".to_string(),
        (p, q) => op(p, q).json(),
    })))
}

fn int_or_real(p: E, q: E, fi: fn(i64, i64) -> Option<i64>, ff: fn(f64, f64) -> f64) -> E {
    match (p, q) {
        (E::I(a), E::I(b)) => fi(a, b).map_or(E::Null, E::I),
        _ => match (p.f(), q.f()) {
            (Some(a), Some(b)) => E::F(ff(a, b)),
            _ => E::Null,
        },
    }
}

fn real(p: E, q: E, ff: fn(f64, f64) -> f64) -> E {
    match (p.f(), q.f()) {
        (Some(a), Some(b)) => E::F(ff(a, b)),
        _ => E::Null,
    }
}

fn cmp(p: E, q: E, f: fn(f64, f64) -> bool) -> Option<bool> {
    Some(f(p.f()?, q.f()?))
}

fn cmp_i(a: i64, b: i64, f: fn(f64, f64) -> bool) -> bool {
    // exact for large integers: compare the ordering, not the rounded reals
    let o = a.cmp(&b);
    let (x, y) = match o {
        std::cmp::Ordering::Less => (0.0, 1.0),
        std::cmp::Ordering::Equal => (0.0, 0.0),
        std::cmp::Ordering::Greater => (1.0, 0.0),
    };
    f(x, y)
}

fn compare(a: &[V], f: fn(f64, f64) -> bool) -> Out {
    let (Some(x), Some(y)) = (arg(a[0]), arg(a[1])) else { return Out::Null };
    let n = match (x.len(), y.len()) {
        (Some(p), Some(q)) => p.max(q),
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => 1,
    };
    Out::S(json_arr((0..n).map(|i| match (x.get(i), y.get(i)) {
        (E::I(p), E::I(q)) => dj::json_from_bool(cmp_i(p, q, f)),
        (p, q) => cmp(p, q, f).map_or_else(|| "null".to_string(), dj::json_from_bool),
    })))
}

fn s_add(a: &[V]) -> Out {
    binary(a, |p, q| int_or_real(p, q, i64::checked_add, |x, y| x + y))
}
fn s_sub(a: &[V]) -> Out {
    binary(a, |p, q| int_or_real(p, q, i64::checked_sub, |x, y| x - y))
}
fn s_mul(a: &[V]) -> Out {
    binary(a, |p, q| int_or_real(p, q, i64::checked_mul, |x, y| x * y))
}
fn s_div(a: &[V]) -> Out {
    binary(a, |p, q| real(p, q, |x, y| x / y))
}
fn s_pow(a: &[V]) -> Out {
    binary(a, |p, q| real(p, q, f64::powf))
}
fn s_eq(a: &[V]) -> Out {
    compare(a, |x, y| x == y)
}
fn s_ne(a: &[V]) -> Out {
    compare(a, |x, y| x != y)
}
fn s_gt(a: &[V]) -> Out {
    compare(a, |x, y| x > y)
}
fn s_ge(a: &[V]) -> Out {
    compare(a, |x, y| x >= y)
}
fn s_lt(a: &[V]) -> Out {
    compare(a, |x, y| x < y)
}
fn s_le(a: &[V]) -> Out {
    compare(a, |x, y| x <= y)
}

fn unary(a: &[V], op: fn(E) -> E) -> Out {
    match arg(a[0]) {
        Some(Arg::Series(s)) => Out::S(json_arr(s.into_iter().map(|e| op(e).json()))),
        _ => Out::Null,
    }
}

macro_rules! real_unary {
    ($($name:ident => $f:expr),* $(,)?) => {
        $(fn $name(a: &[V]) -> Out {
            unary(a, |e| match e.f() {
                Some(x) => E::F(($f)(x)),
                None => E::Null,
            })
        })*
    };
}
real_unary!(s_acos => f64::acos, s_asin => f64::asin, s_atan => f64::atan, s_cos => f64::cos,
    s_sin => f64::sin, s_tan => f64::tan, s_exp => f64::exp, s_log => f64::ln, s_sqrt => f64::sqrt,
    s_ceiling => f64::ceil, s_floor => f64::floor, s_log10 => f64::log10, s_log2 => f64::log2,
    s_exp10 => |x: f64| 10f64.powf(x), s_exp2 => f64::exp2);

fn s_abs(a: &[V]) -> Out {
    unary(a, |e| match e {
        E::I(i) => i.checked_abs().map_or(E::Null, E::I),
        E::F(f) => E::F(f.abs()),
        E::Null => E::Null,
    })
}
fn s_sign(a: &[V]) -> Out {
    unary(a, |e| match e {
        E::I(i) => E::I(i.signum()),
        E::F(f) if f.is_nan() => E::F(f),
        E::F(f) => E::F(if f > 0.0 {
            1.0
        } else if f < 0.0 {
            -1.0
        } else {
            0.0
        }),
        E::Null => E::Null,
    })
}

// ---------------------------------------------------------------------------------------------
// aggregates over a series
// ---------------------------------------------------------------------------------------------

fn nums(v: V) -> Option<Vec<f64>> {
    Some(series(v)?.into_iter().flatten().collect())
}

fn s_sum(a: &[V]) -> Out {
    nums(a[0]).map(|v| v.iter().sum::<f64>()).into()
}
fn s_product(a: &[V]) -> Out {
    nums(a[0]).map(|v| v.iter().product::<f64>()).into()
}
fn s_magnitude(a: &[V]) -> Out {
    nums(a[0]).map(|v| v.iter().map(|x| x * x).sum::<f64>().sqrt()).into()
}

fn pairs(a: V, b: V) -> Option<Vec<(f64, f64)>> {
    let x = series(a)?;
    let y = series(b)?;
    Some(x.iter().zip(&y).filter_map(|(p, q)| Some(((*p)?, (*q)?))).collect())
}

fn s_dot(a: &[V]) -> Out {
    pairs(a[0], a[1]).map(|v| v.iter().map(|(x, y)| x * y).sum::<f64>()).into()
}

fn s_pearson(a: &[V]) -> Out {
    (|| {
        let v = pairs(a[0], a[1])?;
        let n = v.len() as f64;
        if v.is_empty() {
            return None;
        }
        let mx = v.iter().map(|p| p.0).sum::<f64>() / n;
        let my = v.iter().map(|p| p.1).sum::<f64>() / n;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (x, y) in &v {
            sxy += (x - mx) * (y - my);
            sxx += (x - mx) * (x - mx);
            syy += (y - my) * (y - my);
        }
        Some(sxy / (sxx * syy).sqrt())
    })()
    .into()
}

fn s_cosine(a: &[V]) -> Out {
    (|| {
        let v = pairs(a[0], a[1])?;
        let dot: f64 = v.iter().map(|(x, y)| x * y).sum();
        let m1 = a.get(2).and_then(|m| m.f()).unwrap_or_else(|| v.iter().map(|p| p.0 * p.0).sum::<f64>().sqrt());
        let m2 = a.get(3).and_then(|m| m.f()).unwrap_or_else(|| v.iter().map(|p| p.1 * p.1).sum::<f64>().sqrt());
        Some(dot / (m1 * m2))
    })()
    .into()
}

/// The fields of `series_stats`.
const STATS: &[(&str, KqlType)] = &[
    ("min", KqlType::Real),
    ("min_idx", KqlType::Long),
    ("max", KqlType::Real),
    ("max_idx", KqlType::Long),
    ("avg", KqlType::Real),
    ("stdev", KqlType::Real),
    ("variance", KqlType::Real),
];

/// The fields of `series_stats_dynamic`: those of `series_stats`, the sum of the values and the
/// length of the input array.
const STATS_DYNAMIC: &[(&str, KqlType)] = &[
    ("min", KqlType::Real),
    ("min_idx", KqlType::Long),
    ("max", KqlType::Real),
    ("max_idx", KqlType::Long),
    ("avg", KqlType::Real),
    ("stdev", KqlType::Real),
    ("variance", KqlType::Real),
    ("sum", KqlType::Real),
    ("len", KqlType::Long),
];

fn stats_json(a: &[V]) -> Option<String> {
    stats_fields(a, false)
}

/// The statistics of the series as a bag: `series_stats`' fields, and with `dynamic` also
/// `sum` and `len`.
fn stats_fields(a: &[V], dynamic: bool) -> Option<String> {
    let s = series(a[0])?;
    let ignore_nonfinite = a.get(1).and_then(|v| v.i()).unwrap_or(0) != 0;
    let vals: Vec<(usize, f64)> = s
        .iter()
        .enumerate()
        .filter_map(|(i, x)| x.map(|x| (i, x)))
        .filter(|(_, x)| !ignore_nonfinite || x.is_finite())
        .collect();
    let num = |x: Option<f64>| x.map_or_else(|| "null".to_string(), dj::json_from_f64);
    let idx = |x: Option<usize>| x.map_or_else(|| "null".to_string(), |i| i.to_string());
    let mut min: Option<(usize, f64)> = None;
    let mut max: Option<(usize, f64)> = None;
    for &(i, x) in &vals {
        if min.is_none_or(|(_, m)| x < m) {
            min = Some((i, x));
        }
        if max.is_none_or(|(_, m)| x > m) {
            max = Some((i, x));
        }
    }
    let n = vals.len() as f64;
    let avg = (!vals.is_empty()).then(|| vals.iter().map(|p| p.1).sum::<f64>() / n);
    let var =
        avg.map(
            |m| {
                if vals.len() < 2 {
                    0.0
                } else {
                    vals.iter().map(|p| (p.1 - m) * (p.1 - m)).sum::<f64>() / (n - 1.0)
                }
            },
        );
    let mut parts = vec![
        num(min.map(|p| p.1)),
        idx(min.map(|p| p.0)),
        num(max.map(|p| p.1)),
        idx(max.map(|p| p.0)),
        num(avg),
        num(var.map(f64::sqrt)),
        num(var),
    ];
    if !dynamic {
        return Some(obj(STATS, &parts));
    }
    parts.push(num(Some(vals.iter().map(|p| p.1).sum::<f64>())));
    parts.push(s.len().to_string());
    Some(obj(STATS_DYNAMIC, &parts))
}

pub(super) fn obj(fields: &[(&str, KqlType)], parts: &[String]) -> String {
    let entries: Vec<(&str, &str)> = fields.iter().zip(parts).map(|((k, _), v)| (*k, v.as_str())).collect();
    dj::build_object(&entries)
}

fn s_stats(a: &[V]) -> Out {
    stats_json(a).into()
}
fn s_stats_dynamic(a: &[V]) -> Out {
    stats_fields(a, true).into()
}

// ---------------------------------------------------------------------------------------------
// fills and filters
// ---------------------------------------------------------------------------------------------

/// The raw elements and a "missing" test (null, or equal to the placeholder).
fn with_missing<'a>(a: &[V<'a>], k: usize) -> Option<(Vec<&'a str>, Vec<bool>)> {
    let items = dj::array_elements(a[0].s()?)?;
    let placeholder: Option<f64> = a.get(k).and_then(|v| v.f());
    let missing = items
        .iter()
        .map(|x| match placeholder {
            None => elem(x) == E::Null,
            Some(p) => elem(x).f().is_some_and(|v| v == p || (v.is_nan() && p.is_nan())),
        })
        .collect();
    Some((items, missing))
}

fn s_fill_forward(a: &[V]) -> Out {
    (|| {
        let (items, miss) = with_missing(a, 1)?;
        let mut last: Option<&str> = None;
        let out: Vec<&str> = items
            .iter()
            .zip(&miss)
            .map(|(x, m)| {
                if *m {
                    last.unwrap_or(x)
                } else {
                    last = Some(x);
                    x
                }
            })
            .collect();
        Some(dj::build_array(&out))
    })()
    .into()
}

fn s_fill_backward(a: &[V]) -> Out {
    (|| {
        let (items, miss) = with_missing(a, 1)?;
        let mut next: Option<&str> = None;
        let mut out: Vec<&str> = items
            .iter()
            .zip(&miss)
            .rev()
            .map(|(x, m)| {
                if *m {
                    next.unwrap_or(x)
                } else {
                    next = Some(x);
                    x
                }
            })
            .collect();
        out.reverse();
        Some(dj::build_array(&out))
    })()
    .into()
}

fn s_fill_const(a: &[V]) -> Out {
    (|| {
        let (items, miss) = with_missing(a, 2)?;
        let c = match a.get(1) {
            Some(V::I(i)) => i.to_string(),
            Some(V::F(f)) => dj::json_from_f64(*f),
            Some(V::S(s)) => s.to_string(),
            _ => "0".to_string(),
        };
        let out: Vec<&str> = items.iter().zip(&miss).map(|(x, m)| if *m { c.as_str() } else { x }).collect();
        Some(dj::build_array(&out))
    })()
    .into()
}

fn s_fill_linear(a: &[V]) -> Out {
    (|| {
        let (items, miss) = with_missing(a, 1)?;
        let fill_edges = a.get(2).is_none_or(|v| !matches!(v, V::B(false)) && v.i() != Some(0));
        let known: Vec<(usize, f64)> =
            items.iter().enumerate().filter(|(i, _)| !miss[*i]).filter_map(|(i, x)| Some((i, elem(x).f()?))).collect();
        if known.is_empty() {
            let c = a.get(3).and_then(|v| v.f());
            let out: Vec<String> = items
                .iter()
                .map(|x| match c {
                    Some(c) => dj::json_from_f64(c),
                    None => x.to_string(),
                })
                .collect();
            return Some(json_arr(out));
        }
        let mut out: Vec<String> = items.iter().map(|x| x.to_string()).collect();
        let (first, last) = (known[0], known[known.len() - 1]);
        for (i, o) in out.iter_mut().enumerate() {
            if !miss[i] {
                continue;
            }
            if i < first.0 {
                if fill_edges {
                    *o = items[first.0].to_string();
                }
            } else if i > last.0 {
                if fill_edges {
                    *o = items[last.0].to_string();
                }
            } else {
                let k = known.partition_point(|p| p.0 < i);
                let (l, r) = (known[k - 1], known[k]);
                let v = l.1 + (r.1 - l.1) * (i - l.0) as f64 / (r.0 - l.0) as f64;
                *o = dj::json_from_f64(v);
            }
        }
        Some(json_arr(out))
    })()
    .into()
}

fn s_iir(a: &[V]) -> Out {
    (|| {
        let x: Vec<f64> = series(a[0])?.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        let b = nums(a[1])?;
        let d = nums(a[2])?;
        let a0 = *d.first()?;
        let mut y = vec![0.0; x.len()];
        for n in 0..x.len() {
            let mut acc = 0.0;
            for (k, bk) in b.iter().enumerate() {
                if k <= n {
                    acc += bk * x[n - k];
                }
            }
            for (k, ak) in d.iter().enumerate().skip(1) {
                if k <= n {
                    acc -= ak * y[n - k];
                }
            }
            y[n] = acc / a0;
        }
        Some(f_arr_plain(&y))
    })()
    .into()
}

fn s_fir(a: &[V]) -> Out {
    (|| {
        let x = series(a[0])?;
        let mut f = nums(a[1])?;
        // by default normalized unless a coefficient is negative; normalizing those gives null
        let negative = f.iter().any(|v| *v < 0.0);
        let normalize = match a.get(2) {
            None | Some(V::Null) => !negative,
            Some(v) => v.i() != Some(0),
        };
        if normalize && negative {
            return None;
        }
        let center = a.get(3).is_some_and(|v| v.i().unwrap_or(0) != 0);
        if normalize {
            let s: f64 = f.iter().sum();
            if s != 0.0 {
                f.iter_mut().for_each(|v| *v /= s);
            }
        }
        let m = f.len();
        let shift = if center { (m as i64 - 1) / 2 } else { 0 };
        let n = x.len() as i64;
        let out: Vec<Option<f64>> = (0..n)
            .map(|i| {
                let mut acc = 0.0;
                for (k, fk) in f.iter().enumerate() {
                    let j = i - k as i64 + shift;
                    if (0..n).contains(&j) {
                        acc += fk * x[j as usize].unwrap_or(0.0);
                    }
                }
                Some(acc)
            })
            .collect();
        Some(f_arr(&out))
    })()
    .into()
}

// ---------------------------------------------------------------------------------------------
// analysis
// ---------------------------------------------------------------------------------------------

/// Percentile with linear interpolation between closest ranks.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // A percentile outside 0..100 (or NaN) reads the nearest end, never past it.
    let last = sorted.len() - 1;
    let r = ((p / 100.0) * last as f64).clamp(0.0, last as f64);
    let r = if r.is_nan() { 0.0 } else { r };
    let lo = (r.floor() as usize).min(last);
    let hi = (r.ceil() as usize).min(last);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (r - lo as f64)
}

fn s_outliers(a: &[V]) -> Out {
    (|| {
        let x = series(a[0])?;
        let kind = a.get(1).and_then(|v| v.s()).map(dj::to_kql_string).unwrap_or_else(|| "ctukey".into());
        let ignore = a.get(2).and_then(|v| v.f());
        let (pl, ph) = if kind == "tukey" {
            (25.0, 75.0)
        } else {
            (a.get(3).and_then(|v| v.f()).unwrap_or(10.0), a.get(4).and_then(|v| v.f()).unwrap_or(90.0))
        };
        let mut vals: Vec<f64> = x.iter().flatten().copied().filter(|v| Some(*v) != ignore).collect();
        vals.sort_by(f64::total_cmp);
        let (q1, q3) = (percentile(&vals, pl), percentile(&vals, ph));
        let iqr = q3 - q1;
        let out: Vec<Option<f64>> = x
            .iter()
            .map(|v| {
                let v = (*v)?;
                if Some(v) == ignore {
                    return Some(0.0);
                }
                Some(if v > q3 {
                    (v - q3) / iqr
                } else if v < q1 {
                    (v - q1) / iqr
                } else {
                    0.0
                })
            })
            .collect();
        Some(f_arr(&out))
    })()
    .into()
}

/// Least squares over x = 1..n: (rsquare, slope, variance, rvariance, interception, fitted).
fn fit_line(y: &[f64], x0: usize) -> (f64, f64, f64, f64, f64, Vec<f64>) {
    let n = y.len() as f64;
    let xs: Vec<f64> = (0..y.len()).map(|i| (i + x0 + 1) as f64).collect();
    let mx = xs.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    let sxy: f64 = xs.iter().zip(y).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = if sxx == 0.0 { 0.0 } else { sxy / sxx };
    let icpt = my - slope * mx;
    let fit: Vec<f64> = xs.iter().map(|x| icpt + slope * x).collect();
    let var = if y.len() > 1 { y.iter().map(|v| (v - my) * (v - my)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    let rvar =
        if y.len() > 1 { y.iter().zip(&fit).map(|(v, f)| (v - f) * (v - f)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    let rsq = if var == 0.0 { 1.0 } else { 1.0 - rvar / var };
    (rsq, slope, var, rvar, icpt, fit)
}

const FIT_LINE: &[(&str, KqlType)] = &[
    ("rsquare", KqlType::Real),
    ("slope", KqlType::Real),
    ("variance", KqlType::Real),
    ("rvariance", KqlType::Real),
    ("interception", KqlType::Real),
    ("line_fit", KqlType::Dynamic),
];

fn s_fit_line(a: &[V]) -> Out {
    (|| {
        let y: Vec<f64> = series(a[0])?.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        if y.is_empty() {
            return None;
        }
        let (r, s, v, rv, i, fit) = fit_line(&y, 0);
        let parts =
            [r, s, v, rv, i].iter().map(|x| dj::json_from_f64(*x)).chain([f_arr_plain(&fit)]).collect::<Vec<_>>();
        Some(obj(FIT_LINE, &parts))
    })()
    .into()
}

const FIT_2LINES: &[(&str, KqlType)] = &[
    ("rsquare", KqlType::Real),
    ("split_idx", KqlType::Long),
    ("variance", KqlType::Real),
    ("rvariance", KqlType::Real),
    ("line_fit", KqlType::Dynamic),
    ("right_rsquare", KqlType::Real),
    ("right_slope", KqlType::Real),
    ("right_interception", KqlType::Real),
    ("right_variance", KqlType::Real),
    ("right_rvariance", KqlType::Real),
    ("left_rsquare", KqlType::Real),
    ("left_slope", KqlType::Real),
    ("left_interception", KqlType::Real),
    ("left_variance", KqlType::Real),
    ("left_rvariance", KqlType::Real),
];

fn s_fit_2lines(a: &[V]) -> Out {
    (|| {
        let y: Vec<f64> = series(a[0])?.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        let n = y.len();
        if n < 4 {
            return None;
        }
        let my = y.iter().sum::<f64>() / n as f64;
        let var = y.iter().map(|v| (v - my) * (v - my)).sum::<f64>() / (n as f64 - 1.0);
        let mut best: Option<(f64, usize)> = None;
        for k in 2..=n - 2 {
            let l = fit_line(&y[..k], 0);
            let r = fit_line(&y[k..], k);
            let sse: f64 = y.iter().zip(l.5.iter().chain(&r.5)).map(|(v, f)| (v - f) * (v - f)).sum();
            if best.is_none_or(|(b, _)| sse < b) {
                best = Some((sse, k));
            }
        }
        let (sse, k) = best?;
        let l = fit_line(&y[..k], 0);
        let r = fit_line(&y[k..], k);
        let rvar = sse / (n as f64 - 1.0);
        let rsq = if var == 0.0 { 1.0 } else { 1.0 - rvar / var };
        let fit: Vec<f64> = l.5.iter().chain(&r.5).copied().collect();
        let j = dj::json_from_f64;
        let parts = vec![
            j(rsq),
            (k - 1).to_string(),
            j(var),
            j(rvar),
            f_arr_plain(&fit),
            j(r.0),
            j(r.1),
            j(r.4),
            j(r.2),
            j(r.3),
            j(l.0),
            j(l.1),
            j(l.4),
            j(l.2),
            j(l.3),
        ];
        Some(obj(FIT_2LINES, &parts))
    })()
    .into()
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The autocorrelation score of period `p` (0 when the series is too short or flat). Kusto's
/// exact scoring is not documented: scores (and so `series_periods_detect/validate`) are an
/// approximation.
fn period_score(y: &[f64], p: usize) -> f64 {
    let n = y.len();
    if p == 0 || p >= n {
        return 0.0;
    }
    let m = y.iter().sum::<f64>() / n as f64;
    let den: f64 = y.iter().map(|v| (v - m) * (v - m)).sum();
    if den == 0.0 {
        return 0.0;
    }
    let num: f64 = (0..n - p).map(|i| (y[i] - m) * (y[i + p] - m)).sum();
    // corrected for the overlap shrinking with the lag
    (num / den * n as f64 / (n - p) as f64).clamp(0.0, 1.0)
}

/// The best periods in [min, max] (at most `k`), each with its score.
fn detect_periods(y: &[f64], min: f64, max: f64, k: usize) -> Vec<(f64, f64)> {
    let lo = min.ceil().max(2.0) as usize;
    let hi = (max.floor() as usize).min(y.len() / 2);
    let mut scored: Vec<(f64, f64)> = (lo..=hi.max(lo))
        .filter(|p| *p <= hi)
        .map(|p| (p as f64, period_score(y, p)))
        .filter(|(_, s)| *s > 0.0)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    // drop multiples of a better period
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (p, s) in scored {
        if out.iter().any(|(q, _)| (p / q).fract() == 0.0) {
            continue;
        }
        out.push((p, s));
        if out.len() >= k {
            break;
        }
    }
    out
}

const PERIODS: &[(&str, KqlType)] = &[("periods", KqlType::Dynamic), ("scores", KqlType::Dynamic)];

fn s_periods_detect(a: &[V]) -> Out {
    (|| {
        let y: Vec<f64> = series(a[0])?.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        let min = a.get(1)?.f()?;
        let max = a.get(2)?.f()?;
        let k = a.get(3)?.i()?.max(0) as usize;
        let found = detect_periods(&y, min, max, k);
        let parts = [
            f_arr_plain(&found.iter().map(|p| p.0).collect::<Vec<_>>()),
            f_arr_plain(&found.iter().map(|p| p.1).collect::<Vec<_>>()),
        ];
        Some(obj(PERIODS, &parts))
    })()
    .into()
}

fn s_periods_validate(a: &[V]) -> Out {
    (|| {
        let y: Vec<f64> = series(a[0])?.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        let ps: Vec<f64> = a[1..].iter().filter_map(|v| v.f()).collect();
        let scores: Vec<f64> =
            ps.iter().map(|p| if p.fract() == 0.0 && *p > 0.0 { period_score(&y, *p as usize) } else { 0.0 }).collect();
        Some(obj(PERIODS, &[f_arr_plain(&ps), f_arr_plain(&scores)]))
    })()
    .into()
}

fn seasonal_of(y: &[f64], period: usize) -> Vec<f64> {
    if period < 2 || period > y.len() {
        return vec![0.0; y.len()];
    }
    let med: Vec<f64> = (0..period)
        .map(|ph| {
            let mut v: Vec<f64> = y.iter().skip(ph).step_by(period).copied().collect();
            median(&mut v)
        })
        .collect();
    (0..y.len()).map(|i| med[i % period]).collect()
}

fn auto_period(y: &[f64]) -> usize {
    // at least three cycles
    detect_periods(y, 4.0, (y.len() / 3) as f64, 1).first().filter(|(_, s)| *s >= 0.7).map_or(0, |(p, _)| *p as usize)
}

fn s_seasonal(a: &[V]) -> Out {
    (|| {
        let y: Vec<f64> = series(a[0])?.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        let p = a.get(1).and_then(|v| v.i()).unwrap_or(-1);
        let p = if p < 0 { auto_period(&y) } else { p as usize };
        Some(f_arr_plain(&seasonal_of(&y, p)))
    })()
    .into()
}

const DECOMPOSE: &[(&str, KqlType)] = &[
    ("baseline", KqlType::Dynamic),
    ("seasonal", KqlType::Dynamic),
    ("trend", KqlType::Dynamic),
    ("residual", KqlType::Dynamic),
];

/// (baseline, seasonal, trend, residual) of `y`; the last `forecast` points are predicted.
fn decompose(y: &[f64], period: i64, trend: &str, forecast: usize) -> [Vec<f64>; 4] {
    let n = y.len();
    let train = &y[..n - forecast.min(n)];
    let p = if period < 0 { auto_period(train) } else { period as usize };
    let tr: Vec<f64> = match trend {
        "none" => vec![0.0; n],
        "avg" => {
            let m = if train.is_empty() { 0.0 } else { train.iter().sum::<f64>() / train.len() as f64 };
            vec![m; n]
        }
        _ if train.is_empty() => vec![0.0; n],
        _ => {
            let (_, s, _, _, i, _) = fit_line(train, 0);
            (0..n).map(|k| i + s * (k + 1) as f64).collect()
        }
    };
    let detrended: Vec<f64> = train.iter().zip(&tr).map(|(v, t)| v - t).collect();
    let s_train = seasonal_of(&detrended, p);
    let seasonal: Vec<f64> =
        (0..n).map(|i| if p >= 2 && p <= detrended.len() { s_train[i % p] } else { 0.0 }).collect();
    let baseline: Vec<f64> = seasonal.iter().zip(&tr).map(|(s, t)| s + t).collect();
    let residual: Vec<f64> = (0..n).map(|i| if i < train.len() { y[i] - baseline[i] } else { 0.0 }).collect();
    [baseline, seasonal, tr, residual]
}

fn trend_arg(v: Option<&V>) -> String {
    v.and_then(|v| v.s()).map(dj::to_kql_string).unwrap_or_else(|| "linefit".into())
}

fn s_decompose(a: &[V]) -> Out {
    (|| {
        let y: Vec<f64> = series(a[0])?.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        let period = a.get(1).and_then(|v| v.i()).unwrap_or(-1);
        let parts = decompose(&y, period, &trend_arg(a.get(2)), 0);
        Some(obj(DECOMPOSE, &parts.iter().map(|v| f_arr_plain(v)).collect::<Vec<_>>()))
    })()
    .into()
}

fn s_decompose_forecast(a: &[V]) -> Out {
    (|| {
        let y: Vec<f64> = series(a[0])?.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        let points = a.get(1).and_then(|v| v.i()).unwrap_or(0).max(0) as usize;
        let period = a.get(2).and_then(|v| v.i()).unwrap_or(-1);
        let parts = decompose(&y, period, &trend_arg(a.get(3)), points);
        Some(obj(DECOMPOSE, &parts.iter().map(|v| f_arr_plain(v)).collect::<Vec<_>>()))
    })()
    .into()
}

const ANOMALIES: &[(&str, KqlType)] =
    &[("ad_flag", KqlType::Dynamic), ("ad_score", KqlType::Dynamic), ("baseline", KqlType::Dynamic)];

fn s_decompose_anomalies(a: &[V]) -> Out {
    (|| {
        let y: Vec<f64> = series(a[0])?.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        let threshold = a.get(1).and_then(|v| v.f()).unwrap_or(1.5);
        let period = a.get(2).and_then(|v| v.i()).unwrap_or(-1);
        let [baseline, _, _, residual] = decompose(&y, period, &trend_arg(a.get(3)), 0);
        let mut r = residual.clone();
        r.sort_by(f64::total_cmp);
        let (q1, q3) = (percentile(&r, 25.0), percentile(&r, 75.0));
        let iqr = q3 - q1;
        let score: Vec<f64> = residual
            .iter()
            .map(|v| {
                if iqr == 0.0 {
                    0.0
                } else if *v > q3 {
                    (v - q3) / iqr
                } else if *v < q1 {
                    (v - q1) / iqr
                } else {
                    0.0
                }
            })
            .collect();
        let flag: Vec<String> = score
            .iter()
            .map(|s| {
                if *s > threshold {
                    "1"
                } else if *s < -threshold {
                    "-1"
                } else {
                    "0"
                }
                .to_string()
            })
            .collect();
        let parts = [json_arr(flag), f_arr_plain(&score), f_arr_plain(&baseline)];
        Some(obj(ANOMALIES, &parts))
    })()
    .into()
}

// ---------------------------------------------------------------------------------------------
// multi-valued results
// ---------------------------------------------------------------------------------------------

/// The fields (column suffixes and types) of a function with several results.
pub fn multi_fields(name: &str) -> Option<&'static [(&'static str, KqlType)]> {
    Some(match name {
        "series_stats" => STATS,
        "series_fit_line" => FIT_LINE,
        "series_fit_2lines" => FIT_2LINES,
        "series_decompose" | "series_decompose_forecast" => DECOMPOSE,
        "series_decompose_anomalies" => ANOMALIES,
        "series_periods_detect" | "series_periods_validate" => PERIODS,
        "series_fft" | "series_ifft" => super::series_transform::FFT,
        "series_fit_poly" => super::series_transform::FIT_POLY,
        _ => return None,
    })
}

/// Split an `extend`/`project` item that calls a function with several results into Kusto's
/// columns: `(name, expression, type)` each. Unnamed: `{function}_{first argument}_{field}`;
/// `(a, b) = f(...)`: the given names first, Kusto's names for the rest. `None` for any other
/// item.
pub fn expand_multi(item: &ast::ColumnAssign, b: &Bound) -> Option<Vec<(String, Expr, KqlType)>> {
    if let Some(parts) = super::array::expand_sort_many(item, b) {
        return Some(parts);
    }
    let ast::ExprKind::Call { target: None, name, args } = &item.expr.kind else { return None };
    let fields = multi_fields(&name.name)?;
    if b.ty != KqlType::Dynamic {
        return None;
    }
    let first = match args.first().map(|a| &a.expr().kind) {
        Some(ast::ExprKind::Name(id)) => id.name.clone(),
        _ => String::new(),
    };
    Some(
        fields
            .iter()
            .enumerate()
            .map(|(k, (field, ty))| {
                let col = match item.names.get(k) {
                    Some(n) => n.name.clone(),
                    None => format!("{}_{first}_{field}", name.name),
                };
                let part = super::dynfn::index(b.expr.clone(), lit(*field), KqlType::String);
                (col, super::dynfn::from_dynamic(part, *ty), *ty)
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// window functions
// ---------------------------------------------------------------------------------------------

/// Which window function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowKind {
    /// `row_number([start [, restart]])`.
    Number,
    /// `prev(x [, offset [, default]])`.
    Prev,
    /// `next(x [, offset [, default]])`.
    Next,
    /// `row_cumsum(x [, restart])`.
    CumSum,
    /// `row_rank_dense(x [, restart])`.
    RankDense,
    /// `row_rank_min(x [, restart])`.
    RankMin,
    /// `row_window_session(t, max_distance, max_gap [, restart])`.
    Session,
}

/// The DataFusion window UDF of a KQL window function.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RowWindow {
    name: String,
    kind: RowKind,
    ret: DataType,
    signature: Signature,
}

impl WindowUDFImpl for RowWindow {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn partition_evaluator(&self, _args: PartitionEvaluatorArgs) -> DfResult<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(RowEval { kind: self.kind, ret: self.ret.clone() }))
    }
    fn field(&self, field_args: WindowUDFFieldArgs) -> DfResult<FieldRef> {
        Ok(Arc::new(Field::new(field_args.name(), self.ret.clone(), true)))
    }
}

#[derive(Debug)]
struct RowEval {
    kind: RowKind,
    ret: DataType,
}

fn restart_at(values: &[ArrayRef], k: usize) -> impl Fn(usize) -> bool + '_ {
    move |i| match values.get(k) {
        Some(a) if a.data_type() == &DataType::Boolean => {
            let b = a.as_boolean();
            !b.is_null(i) && b.value(i)
        }
        _ => false,
    }
}

fn i64_at(values: &[ArrayRef], k: usize, i: usize) -> Option<i64> {
    let a = values.get(k)?;
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(i)),
        DataType::Float64 => Some(a.as_primitive::<Float64Type>().value(i) as i64),
        _ => None,
    }
}

impl PartitionEvaluator for RowEval {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> DfResult<ArrayRef> {
        use datafusion::arrow::compute::{cast, kernels::zip::zip, take};
        let n = num_rows;
        match self.kind {
            RowKind::Number => {
                let restart = restart_at(values, 1);
                let mut out = Vec::with_capacity(n);
                let mut cur = 0i64;
                for i in 0..n {
                    let start = i64_at(values, 0, i).unwrap_or(1);
                    cur = if i == 0 || restart(i) { start } else { cur + 1 };
                    out.push(cur);
                }
                Ok(Arc::new(Int64Array::from(out)))
            }
            RowKind::Prev | RowKind::Next => {
                let x = &values[0];
                let mut idx = Vec::with_capacity(n);
                let mut inside = Vec::with_capacity(n);
                for i in 0..n {
                    let off = i64_at(values, 1, i).unwrap_or(1);
                    let j = if self.kind == RowKind::Prev { i as i64 - off } else { i as i64 + off };
                    let ok = (0..n as i64).contains(&j);
                    idx.push(ok.then_some(j as u64));
                    inside.push(ok);
                }
                let taken = take(x.as_ref(), &UInt64Array::from(idx), None)?;
                match values.get(2) {
                    Some(d) => {
                        let d = if d.data_type() == x.data_type() { d.clone() } else { cast(d, x.data_type())? };
                        Ok(zip(&BooleanArray::from(inside), &taken, &d)?)
                    }
                    None => Ok(taken),
                }
            }
            RowKind::CumSum => {
                let restart = restart_at(values, 1);
                let x = &values[0];
                if matches!(x.data_type(), DataType::Float64) {
                    let a = x.as_primitive::<Float64Type>();
                    let mut s = 0.0;
                    let out: Vec<Option<f64>> = (0..n)
                        .map(|i| {
                            if restart(i) {
                                s = 0.0;
                            }
                            if !a.is_null(i) {
                                s += a.value(i);
                            }
                            Some(s)
                        })
                        .collect();
                    return Ok(Arc::new(datafusion::arrow::array::Float64Array::from(out)));
                }
                let a = cast(x, &DataType::Int64)?;
                let a = a.as_primitive::<Int64Type>();
                let mut s = 0i64;
                let out: Vec<Option<i64>> = (0..n)
                    .map(|i| {
                        if restart(i) {
                            s = 0;
                        }
                        if !a.is_null(i) {
                            s = s.wrapping_add(a.value(i));
                        }
                        Some(s)
                    })
                    .collect();
                let out: ArrayRef = Arc::new(Int64Array::from(out));
                Ok(if &self.ret == out.data_type() { out } else { cast(&out, &self.ret)? })
            }
            RowKind::RankDense | RowKind::RankMin => {
                let restart = restart_at(values, 1);
                let x = &values[0];
                let mut out = Vec::with_capacity(n);
                let mut prev: Option<ScalarValue> = None;
                let (mut rank, mut pos) = (0i64, 0i64);
                for i in 0..n {
                    let v = ScalarValue::try_from_array(x, i)?;
                    if i == 0 || restart(i) {
                        rank = 1;
                        pos = 1;
                    } else {
                        pos += 1;
                        if prev.as_ref() != Some(&v) {
                            rank = if self.kind == RowKind::RankDense { rank + 1 } else { pos };
                        }
                    }
                    out.push(rank);
                    prev = Some(v);
                }
                Ok(Arc::new(Int64Array::from(out)))
            }
            RowKind::Session => {
                let restart = restart_at(values, 3);
                let t = cast(&values[0], &DataType::Int64)?;
                let t = t.as_primitive::<Int64Type>();
                let mut out: Vec<Option<i64>> = Vec::with_capacity(n);
                let mut start: Option<i64> = None;
                let mut last: Option<i64> = None;
                for i in 0..n {
                    if t.is_null(i) {
                        out.push(None);
                        continue;
                    }
                    let v = t.value(i);
                    let dist = i64_at(values, 1, i).unwrap_or(i64::MAX);
                    let gap = i64_at(values, 2, i).unwrap_or(i64::MAX);
                    let new = match (start, last) {
                        (Some(s), Some(l)) => restart(i) || v.saturating_sub(s) > dist || v.saturating_sub(l) > gap,
                        _ => true,
                    };
                    if new {
                        start = Some(v);
                    }
                    last = Some(v);
                    out.push(start);
                }
                let out: ArrayRef = Arc::new(Int64Array::from(out));
                Ok(if &self.ret == out.data_type() { out } else { cast(&out, &self.ret)? })
            }
        }
    }
}

/// A window expression of kind `kind` returning KQL type `ret` over `args`.
fn window_call(kind: RowKind, ret: KqlType, args: Vec<Expr>) -> Bound {
    let w = RowWindow {
        name: format!("kql_{kind:?}").to_lowercase(),
        kind,
        ret: crate::types::arrow_type(ret),
        signature: Signature::variadic_any(Volatility::Immutable),
    };
    Bound::new(WindowUDF::new_from_impl(w).call(args), ret)
}

fn bind_window(b: &Binder, name: &str, args: &[Bound]) -> Option<Bound> {
    let n = args.len();
    let l = |k: usize| b.coerce(args[k].clone(), KqlType::Long).expr;
    let restart = |k: usize| b.coerce(args[k].clone(), KqlType::Bool).expr;
    Some(match (name, n) {
        ("row_number", 0..=2) => {
            let mut a = vec![if n >= 1 { l(0) } else { lit(1i64) }];
            if n == 2 {
                a.push(restart(1));
            }
            window_call(RowKind::Number, KqlType::Long, a)
        }
        ("prev" | "next", 1..=3) => {
            let ty = args[0].ty;
            let mut a = vec![args[0].expr.clone(), if n >= 2 { l(1) } else { lit(1i64) }];
            if n == 3 {
                a.push(b.coerce(args[2].clone(), ty).expr);
            }
            window_call(if name == "prev" { RowKind::Prev } else { RowKind::Next }, ty, a)
        }
        ("row_cumsum", 1 | 2) => {
            let ty = match args[0].ty {
                KqlType::Int | KqlType::Long | KqlType::Real | KqlType::TimeSpan => args[0].ty,
                KqlType::Decimal => KqlType::Real,
                _ => KqlType::Long,
            };
            let mut a = vec![b.coerce(args[0].clone(), ty).expr];
            if n == 2 {
                a.push(restart(1));
            }
            window_call(RowKind::CumSum, ty, a)
        }
        // `row_rank` is Kusto's obsolete name of `row_rank_dense`; its optional second argument
        // is a constant `dense` flag (false: the `row_rank_min` ranking), not a restart.
        ("row_rank", 1) => window_call(RowKind::RankDense, KqlType::Long, vec![args[0].expr.clone()]),
        ("row_rank", 2) => {
            let dense = match &args[1].expr {
                Expr::Literal(datafusion::common::ScalarValue::Boolean(Some(d)), _) => *d,
                _ => return None,
            };
            let k = if dense { RowKind::RankDense } else { RowKind::RankMin };
            window_call(k, KqlType::Long, vec![args[0].expr.clone()])
        }
        ("row_rank_dense" | "row_rank_min", 1 | 2) => {
            let mut a = vec![args[0].expr.clone()];
            if n == 2 {
                a.push(restart(1));
            }
            let k = if name == "row_rank_dense" { RowKind::RankDense } else { RowKind::RankMin };
            window_call(k, KqlType::Long, a)
        }
        ("row_window_session", 3 | 4) => {
            let ty = args[0].ty;
            let mut a = vec![args[0].expr.clone(), l(1), l(2)];
            if n == 4 {
                a.push(restart(3));
            }
            window_call(RowKind::Session, ty, a)
        }
        _ => return None,
    })
}

/// Whether an expression holds a window function call.
pub fn has_window(e: &Expr) -> bool {
    e.exists(|x| Ok(matches!(x, Expr::WindowFunction(_)))).unwrap_or(false)
}

/// Move the window function calls in `exprs` into `Window` nodes over `plan` (innermost calls
/// first, one node per nesting level) and replace them by references to their hidden result
/// columns. The caller then projects `exprs` over the returned plan as before, which drops the
/// hidden columns. Without window calls, returns its inputs unchanged.
pub fn lift_windows(b: &mut Binder, plan: LogicalPlan, exprs: Vec<Expr>) -> Result<(LogicalPlan, Vec<Expr>)> {
    if !exprs.iter().any(has_window) {
        return Ok((plan, exprs));
    }
    let mut plan = plan;
    let mut exprs = exprs;
    for _ in 0..64 {
        let mut level: Vec<(Expr, String)> = Vec::new();
        let mut next = Vec::with_capacity(exprs.len());
        for e in exprs {
            let t = e.transform_up(|x| {
                if let Expr::WindowFunction(_) = &x {
                    // only calls whose arguments hold no window call and no column of this level
                    let nested = x
                        .apply_children(|c| {
                            let deeper = has_window(c)
                                || c.exists(|y| {
                                    Ok(matches!(y, Expr::Column(col) if col.relation.is_none()
                                        && level.iter().any(|(_, n)| *n == col.name)))
                                })?;
                            Ok(if deeper { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
                        })
                        .map(|r| r == TreeNodeRecursion::Stop)?;
                    if !nested {
                        let name = match level.iter().find(|(w, _)| *w == x) {
                            Some((_, n)) => n.clone(),
                            None => {
                                let n = b.fresh_alias("kqlwin");
                                level.push((x.clone(), n.clone()));
                                n
                            }
                        };
                        return Ok(Transformed::yes(crate::binder::scalar::column(&name)));
                    }
                }
                Ok(Transformed::no(x))
            })?;
            next.push(t.data);
        }
        exprs = next;
        if level.is_empty() {
            break;
        }
        let wins: Vec<Expr> = level.into_iter().map(|(w, n)| w.alias(n)).collect();
        plan = LogicalPlanBuilder::from(plan).window(wins)?.build()?;
        if !exprs.iter().any(has_window) {
            break;
        }
    }
    Ok((plan, exprs))
}

/// `where` over a predicate that may hold window calls: the calls are computed first (see
/// [`lift_windows`]), then the filter, then the input's columns are kept.
pub fn filter_with_windows(b: &mut Binder, plan: LogicalPlan, pred: Expr) -> Result<LogicalPlan> {
    if !has_window(&pred) {
        return Ok(LogicalPlanBuilder::from(plan).filter(pred)?.build()?);
    }
    let cols: Vec<Expr> = plan.schema().columns().into_iter().map(Expr::Column).collect();
    let (plan, mut p) = lift_windows(b, plan, vec![pred])?;
    Ok(LogicalPlanBuilder::from(plan).filter(p.remove(0))?.project(cols)?.build()?)
}

// ---------------------------------------------------------------------------------------------
// binding
// ---------------------------------------------------------------------------------------------

/// Bind a series or window function call.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    if let Some(w) = bind_window(b, name, args) {
        return Some(Ok(w));
    }
    if !name.starts_with("series_") {
        return None;
    }
    let n = args.len();
    let d = |k: usize| b.coerce(args[k].clone(), KqlType::Dynamic).expr;
    let raw = |k: usize| args[k].expr.clone();
    use KqlType::{Dynamic, Real};
    let (f, ret): (super::array::RowFn, KqlType) = match (name, n) {
        ("series_add", 2) => (s_add, Dynamic),
        ("series_subtract", 2) => (s_sub, Dynamic),
        ("series_multiply", 2) => (s_mul, Dynamic),
        ("series_divide", 2) => (s_div, Dynamic),
        ("series_pow", 2) => (s_pow, Dynamic),
        ("series_equals", 2) => (s_eq, Dynamic),
        ("series_not_equals", 2) => (s_ne, Dynamic),
        ("series_greater", 2) => (s_gt, Dynamic),
        ("series_greater_equals", 2) => (s_ge, Dynamic),
        ("series_less", 2) => (s_lt, Dynamic),
        ("series_less_equals", 2) => (s_le, Dynamic),
        ("series_abs", 1) => (s_abs, Dynamic),
        ("series_acos", 1) => (s_acos, Dynamic),
        ("series_asin", 1) => (s_asin, Dynamic),
        ("series_atan", 1) => (s_atan, Dynamic),
        ("series_ceiling", 1) => (s_ceiling, Dynamic),
        ("series_cos", 1) => (s_cos, Dynamic),
        ("series_exp", 1) => (s_exp, Dynamic),
        ("series_exp10", 1) => (s_exp10, Dynamic),
        ("series_exp2", 1) => (s_exp2, Dynamic),
        ("series_floor", 1) => (s_floor, Dynamic),
        ("series_log", 1) => (s_log, Dynamic),
        ("series_log10", 1) => (s_log10, Dynamic),
        ("series_log2", 1) => (s_log2, Dynamic),
        ("series_sign", 1) => (s_sign, Dynamic),
        ("series_sin", 1) => (s_sin, Dynamic),
        ("series_sqrt", 1) => (s_sqrt, Dynamic),
        ("series_tan", 1) => (s_tan, Dynamic),
        ("series_sum", 1) => (s_sum, Real),
        ("series_product", 1) => (s_product, Real),
        ("series_magnitude", 1) => (s_magnitude, Real),
        ("series_dot_product", 2) => (s_dot, Real),
        ("series_pearson_correlation", 2) => (s_pearson, Real),
        ("series_cosine_similarity", 2..=4) => (s_cosine, Real),
        ("series_stats", 1 | 2) => (s_stats, Dynamic),
        ("series_stats_dynamic", 1 | 2) => (s_stats_dynamic, Dynamic),
        ("series_fill_forward", 1 | 2) => (s_fill_forward, Dynamic),
        ("series_fill_backward", 1 | 2) => (s_fill_backward, Dynamic),
        ("series_fill_const", 1..=3) => (s_fill_const, Dynamic),
        ("series_fill_linear", 1..=4) => (s_fill_linear, Dynamic),
        ("series_iir", 3) => (s_iir, Dynamic),
        ("series_fir", 2..=4) => (s_fir, Dynamic),
        ("series_outliers", 1..=6) => (s_outliers, Dynamic),
        ("series_fit_line" | "series_fit_line_dynamic", 1) => (s_fit_line, Dynamic),
        ("series_fit_2lines" | "series_fit_2lines_dynamic", 1) => (s_fit_2lines, Dynamic),
        ("series_seasonal", 1..=3) => (s_seasonal, Dynamic),
        ("series_periods_detect", 4) => (s_periods_detect, Dynamic),
        ("series_periods_validate", 2..=17) => (s_periods_validate, Dynamic),
        ("series_decompose", 1..=5) => (s_decompose, Dynamic),
        ("series_decompose_forecast", 2..=5) => (s_decompose_forecast, Dynamic),
        ("series_decompose_anomalies", 1..=7) => (s_decompose_anomalies, Dynamic),
        ("series_fft", 1 | 2) => (super::series_transform::s_fft, Dynamic),
        ("series_ifft", 1 | 2) => (super::series_transform::s_ifft, Dynamic),
        ("series_fit_poly", 1..=3) => (super::series_transform::s_fit_poly, Dynamic),
        _ => return None,
    };
    // series arguments as dynamic; numbers and flags as they are; strings (kinds) as dynamic text
    let a: Vec<Expr> = (0..n)
        .map(|k| match args[k].ty {
            KqlType::Long | KqlType::Int | KqlType::Real | KqlType::Bool if k > 0 => raw(k),
            _ => d(k),
        })
        .collect();
    Some(Ok(row_call(&format!("kql_{name}"), ret, f, a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: super::super::array::RowFn, args: &[V]) -> Out {
        f(args)
    }

    #[test]
    fn element_wise_keeps_longs() {
        assert_eq!(run(s_add, &[V::S("[1,2,4]"), V::S("[4,2,1]")]), Out::S("[5,4,5]".into()));
        assert_eq!(run(s_div, &[V::S("[1,2]"), V::S("[4,2]")]), Out::S("[0.25,1.0]".into()));
        assert_eq!(run(s_gt, &[V::S("[1,2,4]"), V::S("[4,2,1]")]), Out::S("[false,false,true]".into()));
        assert_eq!(run(s_add, &[V::S("[1,null]"), V::I(1)]), Out::S("[2,null]".into()));
    }

    #[test]
    fn fills() {
        assert_eq!(run(s_fill_forward, &[V::S("[null,1,null,3,null]")]), Out::S("[null,1,1,3,3]".into()));
        assert_eq!(run(s_fill_backward, &[V::S("[null,1,null,3,null]")]), Out::S("[1,1,3,3,null]".into()));
        assert_eq!(run(s_fill_linear, &[V::S("[null,1,null,3,null]")]), Out::S("[1,1,2.0,3,3]".into()));
    }

    #[test]
    fn stats_and_fit() {
        let Out::S(j) = run(s_stats, &[V::S("[23,46,23,87,4,8,3,75,2,56,13,75,32,16,29]")]) else { panic!() };
        assert!(j.starts_with(r#"{"min":2.0,"min_idx":8,"max":87.0,"max_idx":3,"avg":32.8"#), "{j}");
        let Out::S(j) = run(s_fit_line, &[V::S("[2,5,6,8,11,15,17,18,25,26,30,30]")]) else { panic!() };
        assert!(j.contains(r#""slope":2.73076923076923"#), "{j}");
    }

    #[test]
    fn seasonal_uses_medians() {
        assert_eq!(
            run(s_seasonal, &[V::S("[1,3,5,1,3,5,2,4,6]"), V::I(3)]),
            Out::S("[1.0,3.0,5.0,1.0,3.0,5.0,1.0,3.0,5.0]".into())
        );
    }
}
