//! Arrays, sets and property bags: `array_slice`, `array_sort_asc`, `array_iff`, `set_union`,
//! `bag_merge`, `bag_set_key`, `zip`, `range()`, `treepath`, `extract_json`...
//!
//! Most functions here are row-wise over dynamic values (compact JSON text), so they share one
//! generic UDF shape ([`row_udf`]): each row's arguments are read as [`V`] values and a plain
//! Rust function returns an [`Out`]. The pure JSON logic is in [`crate::value::dynamic`].

use super::udf::udf;
use super::BindCtx;
use crate::binder::{Bound, NameHint};
use crate::error::Result;
use crate::schema::KqlType;
use crate::value::datetime as dt;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::common::DataFusionError;
use datafusion::logical_expr::{lit, Expr, ScalarUDF};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

type R<T> = std::result::Result<T, DataFusionError>;

/// One argument value of one row, read from its Arrow array.
#[derive(Debug, Clone, Copy)]
pub(crate) enum V<'a> {
    /// Null (dynamic null, or a null scalar).
    Null,
    /// Text: a string, a guid, or a dynamic value's JSON text (the binder decides which).
    S(&'a str),
    /// long, int, datetime or timespan (ticks).
    I(i64),
    /// real.
    F(f64),
    /// bool.
    B(bool),
}

impl<'a> V<'a> {
    /// The text (JSON text for dynamic arguments).
    pub(crate) fn s(self) -> Option<&'a str> {
        match self {
            V::S(s) => Some(s),
            _ => None,
        }
    }
    /// An integer (reals truncated; JSON text read as `tolong`).
    pub(crate) fn i(self) -> Option<i64> {
        match self {
            V::I(i) => Some(i),
            V::F(f) if f.is_finite() => Some(f as i64),
            V::B(b) => Some(i64::from(b)),
            V::S(s) => dj::as_i64(s),
            _ => None,
        }
    }
    /// A real (JSON text read as `todouble`).
    pub(crate) fn f(self) -> Option<f64> {
        match self {
            V::I(i) => Some(i as f64),
            V::F(f) => Some(f),
            V::B(b) => Some(if b { 1.0 } else { 0.0 }),
            V::S(s) => dj::as_f64(s),
            V::Null => None,
        }
    }
    /// The JSON text of a dynamic argument (`null` for null).
    pub(crate) fn json(self) -> &'a str {
        match self {
            V::S(s) => s,
            _ => "null",
        }
    }
}

/// A row's result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    /// Null (`""` for string results).
    Null,
    /// Text (JSON text for dynamic results).
    S(String),
    /// An integer.
    I(i64),
    /// A real.
    F(f64),
    /// A bool.
    B(bool),
}

impl From<Option<String>> for Out {
    fn from(v: Option<String>) -> Self {
        v.map_or(Out::Null, Out::S)
    }
}
impl From<Option<i64>> for Out {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Out::Null, Out::I)
    }
}
impl From<Option<f64>> for Out {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Out::Null, Out::F)
    }
}
impl From<Option<bool>> for Out {
    fn from(v: Option<bool>) -> Self {
        v.map_or(Out::Null, Out::B)
    }
}

/// A row function.
pub(crate) type RowFn = fn(&[V]) -> Out;

fn read<'a>(a: &'a ArrayRef, i: usize) -> V<'a> {
    if a.is_null(i) {
        return V::Null;
    }
    match a.data_type() {
        DataType::Utf8 => V::S(a.as_string::<i32>().value(i)),
        DataType::Int64 => V::I(a.as_primitive::<Int64Type>().value(i)),
        DataType::Int32 => V::I(a.as_primitive::<Int32Type>().value(i) as i64),
        DataType::Float64 => V::F(a.as_primitive::<Float64Type>().value(i)),
        DataType::Boolean => V::B(a.as_boolean().value(i)),
        _ => V::Null,
    }
}

/// The most text a row function builds for one batch of rows: 1 GiB (Arrow's text arrays end
/// at 2 GiB; `repeat(x, 1048576)` over a batch of long values comes near).
pub(crate) const MAX_TEXT_PER_BATCH: usize = 1 << 30;

/// KQL904: a row function built more than [`MAX_TEXT_PER_BATCH`] for one batch.
fn too_much_text(done: usize, rows: usize) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(
        crate::KqlError::general(
            "KQL904",
            format!(
                "a function built more than 1 GB of values for {done} of a batch's {rows} rows \
                 (a `repeat`, `range`, `strrep` or `make_*` of huge arrays or strings?)"
            ),
        )
        .with_help("bound the counts and lengths these functions get, or filter the rows first"),
    ))
}

/// Run `f` over the rows of `args`, building an array of KQL type `ret`.
pub(crate) fn run_rows(args: &[ArrayRef], rows: usize, ret: KqlType, mut f: impl FnMut(&[V]) -> Out) -> R<ArrayRef> {
    let mut vals: Vec<V> = Vec::with_capacity(args.len());
    macro_rules! each {
        ($b:ident, $body:expr) => {{
            for i in 0..rows {
                vals.clear();
                vals.extend(args.iter().map(|a| read(a, i)));
                let o = f(&vals);
                #[allow(clippy::redundant_closure_call)]
                ($body)(&mut $b, o);
            }
            Ok(Arc::new($b.finish()) as ArrayRef)
        }};
    }
    match ret {
        KqlType::String | KqlType::Guid | KqlType::Dynamic => {
            let never_null = ret == KqlType::String;
            let mut b = StringBuilder::with_capacity(rows, rows * 16);
            for i in 0..rows {
                vals.clear();
                vals.extend(args.iter().map(|a| read(a, i)));
                match f(&vals) {
                    Out::S(s) => b.append_value(s),
                    Out::I(v) => b.append_value(v.to_string()),
                    Out::F(v) => b.append_value(dj::json_from_f64(v)),
                    Out::B(v) => b.append_value(if v { "true" } else { "false" }),
                    Out::Null if never_null => b.append_value(""),
                    Out::Null => b.append_null(),
                }
                if b.values_slice().len() > MAX_TEXT_PER_BATCH {
                    return Err(too_much_text(i + 1, rows));
                }
            }
            Ok(Arc::new(b.finish()) as ArrayRef)
        }
        KqlType::Long | KqlType::DateTime | KqlType::TimeSpan => {
            let mut b = Int64Builder::with_capacity(rows);
            each!(b, |b: &mut Int64Builder, o: Out| b.append_option(match o {
                Out::I(v) => Some(v),
                Out::F(v) if v.is_finite() => Some(v as i64),
                Out::B(v) => Some(i64::from(v)),
                _ => None,
            }))
        }
        KqlType::Int => {
            let mut b = Int32Builder::with_capacity(rows);
            each!(b, |b: &mut Int32Builder, o: Out| b.append_option(match o {
                Out::I(v) => Some(v as i32),
                Out::F(v) if v.is_finite() => Some(v as i32),
                Out::B(v) => Some(i32::from(v)),
                _ => None,
            }))
        }
        KqlType::Real | KqlType::Decimal => {
            let mut b = Float64Builder::with_capacity(rows);
            each!(b, |b: &mut Float64Builder, o: Out| b.append_option(match o {
                Out::I(v) => Some(v as f64),
                Out::F(v) => Some(v),
                _ => None,
            }))
        }
        KqlType::Bool => {
            let mut b = BooleanBuilder::with_capacity(rows);
            each!(b, |b: &mut BooleanBuilder, o: Out| b.append_option(match o {
                Out::B(v) => Some(v),
                Out::I(v) => Some(v != 0),
                _ => None,
            }))
        }
    }
}

/// A cached UDF named `name` that applies `f` to each row and returns KQL type `ret`.
pub(crate) fn row_udf(name: &str, ret: KqlType, f: RowFn) -> Arc<ScalarUDF> {
    static CACHE: OnceLock<Mutex<HashMap<(String, KqlType), Arc<ScalarUDF>>>> = OnceLock::new();
    let m = CACHE.get_or_init(Default::default);
    let mut cache = m.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry((name.to_string(), ret))
        .or_insert_with(|| {
            udf(
                name,
                crate::types::arrow_type(ret),
                false,
                Arc::new(move |args: &[ArrayRef], rows: usize| run_rows(args, rows, ret, f)),
            )
        })
        .clone()
}

/// Call the row function `f` (as UDF `name`) on `args`; the result has KQL type `ret`.
pub(crate) fn row_call(name: &str, ret: KqlType, f: RowFn, args: Vec<Expr>) -> Bound {
    Bound::new(row_udf(name, ret, f).call(args), ret)
}

// ---------------------------------------------------------------------------------------------
// pure logic
// ---------------------------------------------------------------------------------------------

fn elems(raw: &str) -> Option<Vec<&str>> {
    dj::array_elements(raw)
}

/// `array_iff(cond, when_true, when_false)`: `when_*` are arrays (element-wise, null past their
/// end) or scalars (used for every element); a condition element that is not a bool or number
/// gives null.
pub(crate) fn array_iff(cond: &str, t: &str, f: &str) -> Option<String> {
    let c = elems(cond)?;
    let ta = elems(t);
    let fa = elems(f);
    let pick = |arr: &Option<Vec<&'_ str>>, scalar: &str, i: usize| -> String {
        match arr {
            Some(a) => a.get(i).copied().unwrap_or("null").to_string(),
            None => scalar.to_string(),
        }
    };
    let items: Vec<String> = c
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let truth = match dj::kind(e) {
                Some(dj::JsonKind::Bool) => dj::as_bool(e),
                Some(dj::JsonKind::Long | dj::JsonKind::Real) => dj::as_f64(e).map(|x| x != 0.0),
                _ => None,
            };
            match truth {
                Some(true) => pick(&ta, t, i),
                Some(false) => pick(&fa, f, i),
                None => "null".to_string(),
            }
        })
        .collect();
    Some(dj::build_array(&items.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// Shift left by `n` (negative: right), filling with `fill`.
pub(crate) fn array_shift(raw: &str, n: i64, fill: Option<&str>) -> Option<String> {
    let e = elems(raw)?;
    let len = e.len() as i64;
    let default = fill.unwrap_or_else(|| match e.first().and_then(|x| dj::kind(x)) {
        Some(dj::JsonKind::String) => "\"\"",
        _ => "null",
    });
    let items: Vec<&str> = (0..len)
        .map(|i| {
            let j = i.saturating_add(n);
            if (0..len).contains(&j) {
                e[j as usize]
            } else {
                default
            }
        })
        .collect();
    Some(dj::build_array(&items))
}

/// Rotate left by `n` (negative: right).
pub(crate) fn array_rotate(raw: &str, n: i64) -> Option<String> {
    let e = elems(raw)?;
    let len = e.len() as i64;
    if len == 0 {
        return Some("[]".into());
    }
    let k = n.rem_euclid(len);
    let items: Vec<&str> = (0..len).map(|i| e[((i + k) % len) as usize]).collect();
    Some(dj::build_array(&items))
}

/// `array_split(array, index or indexes)`.
pub(crate) fn array_split(raw: &str, idx: &str) -> Option<String> {
    let e = elems(raw)?;
    let len = e.len() as i64;
    let list: Vec<i64> = match elems(idx) {
        Some(xs) => xs.iter().map(|x| dj::as_i64(x)).collect::<Option<Vec<_>>>()?,
        None => vec![dj::as_i64(idx)?],
    };
    let mut parts = Vec::new();
    let mut prev = 0i64;
    for i in list {
        let i = if i < 0 { len + i } else { i }.clamp(0, len).max(prev);
        parts.push(dj::build_array(&e[prev as usize..i as usize]));
        prev = i;
    }
    parts.push(dj::build_array(&e[prev as usize..]));
    Some(dj::build_array(&parts.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// `array_sum`: null if an element is not a number.
pub(crate) fn array_sum(raw: &str) -> Option<f64> {
    let mut s = 0.0;
    for x in elems(raw)? {
        match dj::kind(x) {
            Some(dj::JsonKind::Long | dj::JsonKind::Real) => s += dj::as_f64(x)?,
            _ => return None,
        }
    }
    Some(s)
}

/// `array_reverse`.
pub(crate) fn array_reverse(raw: &str) -> Option<String> {
    let mut e = elems(raw)?;
    e.reverse();
    Some(dj::build_array(&e))
}

/// `array_sort_asc/desc(a1, a2, ...)` with several arrays: all reordered by the first's order,
/// returned as an array of the sorted arrays (null for an array of another length).
pub(crate) fn array_sort_many(arrays: &[&str], asc: bool, nulls_last: bool) -> Option<String> {
    let perm = dj::sort_permutation(arrays.first()?, asc, nulls_last)?;
    let sorted: Vec<String> =
        arrays.iter().map(|a| dj::array_permute(a, &perm).unwrap_or_else(|| "null".into())).collect();
    Some(dj::build_array(&sorted.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// The name Kusto gives an argument of `array_sort_asc/desc` in its result columns: a
/// column or variable's name, a path's parts joined with `_` (`d.x` -> `d_x`); `None` for any
/// other expression.
fn sort_arg_name(e: &kql_parser::ast::Expr) -> Option<String> {
    use kql_parser::ast::{ExprKind, Literal};
    match &e.kind {
        ExprKind::Name(id) => Some(id.name.clone()),
        ExprKind::Member { target, name } => Some(format!("{}_{}", sort_arg_name(target)?, name.name)),
        ExprKind::Index { target, index } => match &index.kind {
            ExprKind::Literal(Literal::String(k)) => Some(format!("{}_{k}", sort_arg_name(target)?)),
            _ => None,
        },
        ExprKind::Paren(inner) => sort_arg_name(inner),
        _ => None,
    }
}

/// Split an unnamed (or tuple-named) `array_sort_asc/desc(a1, a2, ...)` with several arrays
/// into one column per array, as Kusto does: `{argument}_sorted` (`array{i}_sorted` for an
/// argument without a name), or the names of `(x, y) = ...` first. `b` is the bound call (an
/// array of the sorted arrays). `None` for any other item.
pub fn expand_sort_many(item: &kql_parser::ast::ColumnAssign, b: &Bound) -> Option<Vec<(String, Expr, KqlType)>> {
    let kql_parser::ast::ExprKind::Call { target: None, name, args } = &item.expr.kind else { return None };
    if !matches!(name.name.as_str(), "array_sort_asc" | "array_sort_desc") || item.names.len() == 1 {
        return None;
    }
    // a trailing bool is `nulls_last`, not an array
    let trailing_bool = args.len() > 1
        && matches!(
            args.last().map(|a| &a.expr().kind),
            Some(kql_parser::ast::ExprKind::Literal(kql_parser::ast::Literal::Bool(Some(_))))
        );
    let arrays = &args[..args.len() - usize::from(trailing_bool)];
    if arrays.len() < 2 || b.ty != KqlType::Dynamic {
        return None;
    }
    let mut out: Vec<(String, Expr, KqlType)> = Vec::with_capacity(arrays.len());
    for (k, a) in arrays.iter().enumerate() {
        let col = match item.names.get(k) {
            Some(n) => n.name.clone(),
            None => {
                let base = sort_arg_name(a.expr()).unwrap_or_else(|| format!("array{k}"));
                let taken: Vec<String> = out.iter().map(|(n, _, _)| n.clone()).collect();
                crate::binder::naming::unique(&format!("{base}_sorted"), &taken)
            }
        };
        let part = super::dynfn::index(b.expr.clone(), lit(k as i64), KqlType::Long);
        out.push((col, part, KqlType::Dynamic));
    }
    Some(out)
}

/// A key or JSONPath as a list of keys (None for paths with indexes or invalid paths).
fn key_path(key: &str) -> Option<Vec<String>> {
    if !key.starts_with('$') {
        return Some(vec![key.to_string()]);
    }
    let p = dj::parse_json_path(key)?;
    let keys = p
        .into_iter()
        .map(|e| match e {
            dj::JsonPathElem::Key(k) => Some(k),
            dj::JsonPathElem::Index(_) => None,
        })
        .collect::<Option<Vec<_>>>()?;
    (!keys.is_empty()).then_some(keys)
}

/// `bag_has_key(bag, key)`: `key` may be a JSONPath.
pub(crate) fn bag_has_key(raw: &str, key: &str) -> Option<bool> {
    dj::object_entries(raw)?;
    let Some(path) = key_path(key) else { return Some(false) };
    let elems: Vec<dj::PathElem> = path.iter().map(|k| dj::PathElem::Key(k)).collect();
    Some(dj::get_path(raw, &elems).is_some())
}

fn set_path(raw: &str, path: &[String], value: &str) -> Option<String> {
    let entries = dj::object_entries(raw)?;
    let (first, rest) = path.split_first()?;
    let mut out: Vec<(String, String)> = Vec::with_capacity(entries.len() + 1);
    let mut found = false;
    for (k, v) in entries {
        if k == first.as_str() && !found {
            found = true;
            let nv = if rest.is_empty() {
                value.to_string()
            } else {
                let base = if dj::object_entries(v).is_some() { v } else { "{}" };
                set_path(base, rest, value)?
            };
            out.push((k.into_owned(), nv));
        } else if k != first.as_str() {
            out.push((k.into_owned(), v.to_string()));
        }
    }
    if !found {
        let nv = if rest.is_empty() { value.to_string() } else { set_path("{}", rest, value)? };
        out.push((first.clone(), nv));
    }
    let pairs: Vec<(&str, &str)> = out.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Some(dj::build_object(&pairs))
}

/// `bag_set_key(bag, key, value)`: `key` may be a JSONPath; missing levels are created.
pub(crate) fn bag_set_key(raw: &str, key: &str, value: &str) -> Option<String> {
    dj::object_entries(raw)?;
    let Some(path) = key_path(key) else { return Some(dj::compact(raw)) };
    set_path(raw, &path, value)
}

/// `bag_zip(keys, values)`: non-string keys are skipped, missing values are null.
pub(crate) fn bag_zip(keys: &str, values: &str) -> Option<String> {
    let k = elems(keys)?;
    // values that are not an array zip as none: every key gets null (only non-array keys give null)
    let v = elems(values).unwrap_or_default();
    let mut names: Vec<(String, &str)> = Vec::new();
    for (i, key) in k.iter().enumerate() {
        if dj::kind(key) != Some(dj::JsonKind::String) {
            continue;
        }
        let Some(name) = dj::scalar_string(key) else { continue };
        names.push((name.into_owned(), v.get(i).copied().unwrap_or("null")));
    }
    let pairs: Vec<(&str, &str)> = names.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    Some(dj::build_object(&pairs))
}

fn treepath_into(raw: &str, prefix: &str, out: &mut Vec<String>, seen: &mut HashSet<String>) {
    if let Some(entries) = dj::object_entries(raw) {
        for (k, v) in entries {
            let p = format!("{prefix}['{k}']");
            if seen.insert(p.clone()) {
                out.push(p.clone());
            }
            treepath_into(v, &p, out, seen);
        }
    } else if let Some(items) = elems(raw) {
        if items.is_empty() {
            return;
        }
        let p = format!("{prefix}[0]");
        if seen.insert(p.clone()) {
            out.push(p.clone());
        }
        for it in items {
            treepath_into(it, &p, out, seen);
        }
    }
}

/// `treepath(dynamic)`: the paths of all slots (array elements collapsed into `[0]`).
pub(crate) fn treepath(raw: &str) -> Option<String> {
    let mut out = Vec::new();
    treepath_into(raw, "", &mut out, &mut HashSet::new());
    let items: Vec<String> = out.iter().map(|s| dj::json_string(s)).collect();
    Some(dj::build_array(&items.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// `jaccard_index(set1, set2)`: |distinct intersection| / |distinct union|.
pub(crate) fn jaccard_index(a: &str, b: &str) -> Option<f64> {
    let sa: HashSet<String> = elems(a)?.into_iter().map(dj::canonical_key).collect();
    let sb: HashSet<String> = elems(b)?.into_iter().map(dj::canonical_key).collect();
    let inter = sa.intersection(&sb).count() as f64;
    let union = sa.union(&sb).count() as f64;
    Some(inter / union)
}

/// The maximum number of values `range()` and `repeat()` produce.
const MAX_RANGE: usize = 1 << 20;

/// `range(start, stop, step)` over longs (`step` 0: null).
pub(crate) fn range_long(start: i64, stop: i64, step: i64, fmt: fn(i64) -> String) -> Option<String> {
    if step == 0 {
        return None;
    }
    let mut items = Vec::new();
    let mut v = start;
    while (step > 0 && v <= stop) || (step < 0 && v >= stop) {
        items.push(fmt(v));
        if items.len() >= MAX_RANGE {
            break;
        }
        match v.checked_add(step) {
            Some(n) => v = n,
            None => break,
        }
    }
    Some(dj::build_array(&items.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// `range(start, stop, step)` over reals.
pub(crate) fn range_real(start: f64, stop: f64, step: f64) -> Option<String> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() {
        return None;
    }
    let mut items = Vec::new();
    let mut k = 0f64;
    loop {
        let v = start + k * step;
        if (step > 0.0 && v > stop) || (step < 0.0 && v < stop) || items.len() >= MAX_RANGE {
            break;
        }
        items.push(dj::json_from_f64(v));
        k += 1.0;
    }
    Some(dj::build_array(&items.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// Kusto's JSON serialization with property-bag keys sorted (`dynamic_to_json`).
pub(crate) fn dynamic_to_json(raw: &str) -> String {
    fn go(raw: &str, out: &mut String) {
        if let Some(mut entries) = dj::object_entries(raw) {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&dj::json_string(k));
                out.push(':');
                go(v, out);
            }
            out.push('}');
        } else if let Some(items) = dj::array_elements(raw) {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go(v, out);
            }
            out.push(']');
        } else {
            out.push_str(&dj::compact(raw));
        }
    }
    let mut s = String::new();
    go(raw, &mut s);
    s
}

/// The value at a Kusto JSONPath in JSON text (`extract_json`); None if absent or unsupported.
pub(crate) fn json_path_get<'j>(path: &str, json: &'j str) -> Option<&'j str> {
    let p = dj::parse_json_path(path.trim())?;
    let elems: Vec<dj::PathElem> = p.iter().map(|e| e.as_path_elem()).collect();
    dj::get_path(json, &elems)
}

/// `gettype()` of a dynamic value.
pub(crate) fn dyn_type_name(raw: Option<&str>) -> &'static str {
    let Some(raw) = raw else { return "null" };
    match dj::kind(raw) {
        Some(dj::JsonKind::Null) | None => "null",
        Some(dj::JsonKind::Bool) => "bool",
        // Kusto's JSON parser keeps an integer that fits 32 bits as an int (gettype(parse_json('1'))
        // is "int"), a larger one as a long
        Some(dj::JsonKind::Long) => match raw.trim().parse::<i64>() {
            Ok(n) if i32::try_from(n).is_ok() => "int",
            _ => "long",
        },
        Some(dj::JsonKind::Real) => "real",
        Some(dj::JsonKind::String) => "string",
        Some(dj::JsonKind::Array) => "array",
        Some(dj::JsonKind::Object) => "dictionary",
    }
}

// ---------------------------------------------------------------------------------------------
// row functions
// ---------------------------------------------------------------------------------------------

fn all_json<'a>(a: &[V<'a>]) -> Option<Vec<&'a str>> {
    a.iter().map(|v| v.s()).collect()
}

fn f_concat(a: &[V]) -> Out {
    all_json(a).and_then(|x| dj::array_concat(&x)).into()
}
fn f_set_union(a: &[V]) -> Out {
    all_json(a).and_then(|x| dj::set_union(&x)).into()
}
fn f_set_intersect(a: &[V]) -> Out {
    all_json(a).and_then(|x| dj::set_intersect(&x)).into()
}
fn f_set_difference(a: &[V]) -> Out {
    all_json(a).and_then(|x| dj::set_difference(&x)).into()
}
fn f_set_equals(a: &[V]) -> Out {
    match (a[0].s(), a[1].s()) {
        (Some(x), Some(y)) => dj::set_equals(x, y).into(),
        _ => Out::Null,
    }
}
fn f_bag_merge(a: &[V]) -> Out {
    // null arguments are skipped
    let bags: Vec<&str> = a.iter().filter_map(|v| v.s()).collect();
    dj::bag_merge(&bags).into()
}
fn f_zip(a: &[V]) -> Out {
    all_json(a).and_then(|x| dj::zip(&x)).into()
}
fn f_slice(a: &[V]) -> Out {
    (|| dj::array_slice(a[0].s()?, a[1].i()?, if a.len() > 2 { a[2].i()? } else { i64::MAX }))().into()
}
fn sort_impl(a: &[V], asc: bool) -> Out {
    let (arrays, nulls_last) = match a.last() {
        Some(V::B(b)) => (&a[..a.len() - 1], *b),
        Some(V::Null) if a.len() > 1 && matches!(a[a.len() - 1], V::Null) => (a, true),
        _ => (a, true),
    };
    let Some(js) = all_json(arrays) else { return Out::Null };
    if js.len() == 1 {
        dj::array_sort_with(js[0], asc, nulls_last).into()
    } else {
        array_sort_many(&js, asc, nulls_last).into()
    }
}
fn f_sort_asc(a: &[V]) -> Out {
    sort_impl(a, true)
}
fn f_sort_desc(a: &[V]) -> Out {
    sort_impl(a, false)
}
fn f_index_of(a: &[V]) -> Out {
    (|| {
        let arr = a[0].s()?;
        let needle = a[1].json();
        let start = a.get(2).map_or(Some(0), |v| v.i())?;
        let len = a.get(3).map_or(Some(-1), |v| v.i())?;
        let occ = a.get(4).map_or(Some(1), |v| v.i())?;
        dj::array_index_of_ext(arr, needle, start, len, occ)
    })()
    .into()
}
fn f_iff(a: &[V]) -> Out {
    (|| array_iff(a[0].s()?, a[1].json(), a[2].json()))().into()
}
fn f_reverse(a: &[V]) -> Out {
    a[0].s().and_then(array_reverse).into()
}
fn f_rotate_left(a: &[V]) -> Out {
    (|| array_rotate(a[0].s()?, a[1].i()?))().into()
}
fn f_rotate_right(a: &[V]) -> Out {
    (|| array_rotate(a[0].s()?, a[1].i()?.checked_neg()?))().into()
}
fn f_shift_left(a: &[V]) -> Out {
    (|| array_shift(a[0].s()?, a[1].i()?, a.get(2).map(|v| v.json())))().into()
}
fn f_shift_right(a: &[V]) -> Out {
    (|| array_shift(a[0].s()?, a[1].i()?.checked_neg()?, a.get(2).map(|v| v.json())))().into()
}
fn f_split(a: &[V]) -> Out {
    (|| array_split(a[0].s()?, a[1].s()?))().into()
}
fn f_sum(a: &[V]) -> Out {
    a[0].s().and_then(array_sum).into()
}
fn f_bag_remove_keys(a: &[V]) -> Out {
    (|| dj::bag_remove_keys(a[0].s()?, a[1].s()?))().into()
}
fn f_bag_has_key(a: &[V]) -> Out {
    (|| bag_has_key(a[0].s()?, a[1].s()?))().into()
}
fn f_bag_set_key(a: &[V]) -> Out {
    (|| bag_set_key(a[0].s()?, a[1].s()?, a[2].json()))().into()
}
fn f_bag_zip(a: &[V]) -> Out {
    (|| bag_zip(a[0].s()?, a[1].s()?))().into()
}
fn f_bag_pack_names(a: &[V]) -> Out {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for p in a.chunks(2) {
        if let [k, v] = p {
            pairs.push((k.s().unwrap_or(""), v.json()));
        }
    }
    Out::S(dj::build_object(&pairs))
}
fn f_treepath(a: &[V]) -> Out {
    a[0].s().and_then(treepath).into()
}
fn f_jaccard(a: &[V]) -> Out {
    (|| jaccard_index(a[0].s()?, a[1].s()?))().into()
}
fn f_repeat(a: &[V]) -> Out {
    let Some(n) = a[1].i() else { return Out::Null };
    let n = n.clamp(0, MAX_RANGE as i64) as usize;
    let v = a[0].json();
    Out::S(dj::build_array(&vec![v; n]))
}
fn f_range_long(a: &[V]) -> Out {
    (|| range_long(a[0].i()?, a[1].i()?, a.get(2).map_or(Some(1), |v| v.i())?, |v| v.to_string()))().into()
}
fn f_range_real(a: &[V]) -> Out {
    (|| range_real(a[0].f()?, a[1].f()?, a.get(2).map_or(Some(1.0), |v| v.f())?))().into()
}
fn f_range_datetime(a: &[V]) -> Out {
    (|| {
        range_long(a[0].i()?, a[1].i()?, a.get(2).map_or(Some(36_000_000_000), |v| v.i())?, |v| {
            dj::json_string(&dt::format_datetime_iso(v))
        })
    })()
    .into()
}
fn f_range_timespan(a: &[V]) -> Out {
    (|| {
        range_long(a[0].i()?, a[1].i()?, a.get(2).map_or(Some(36_000_000_000), |v| v.i())?, |v| {
            dj::json_string(&dt::format_timespan(v))
        })
    })()
    .into()
}
fn f_dynamic_to_json(a: &[V]) -> Out {
    Out::S(dynamic_to_json(a[0].json()))
}
fn f_gettype(a: &[V]) -> Out {
    Out::S(dyn_type_name(a[0].s()).to_string())
}
fn f_extract_json_str(a: &[V]) -> Out {
    (|| Some(dj::to_kql_string(json_path_get(a[0].s()?, a[1].s()?)?)))().into()
}
fn f_extract_json_dyn(a: &[V]) -> Out {
    (|| {
        let v = json_path_get(a[0].s()?, a[1].s()?)?;
        (v != "null").then(|| dj::compact(v))
    })()
    .into()
}

/// Bind the array / set / bag family.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    let n = args.len();
    let d = |k: usize| b.coerce(args[k].clone(), KqlType::Dynamic).expr;
    let l = |k: usize| b.coerce(args[k].clone(), KqlType::Long).expr;
    let s = |k: usize| b.coerce(args[k].clone(), KqlType::String).expr;
    let all_d = || (0..n).map(d).collect::<Vec<_>>();
    use KqlType::{Bool, Dynamic, Long, Real, String as Str};
    let out = match (name, n) {
        ("array_concat", _) if n >= 1 => row_call("kql_array_concat", Dynamic, f_concat, all_d()),
        ("set_union", _) if n >= 2 => row_call("kql_set_union", Dynamic, f_set_union, all_d()),
        ("set_intersect", _) if n >= 2 => row_call("kql_set_intersect", Dynamic, f_set_intersect, all_d()),
        ("set_difference", _) if n >= 2 => row_call("kql_set_difference", Dynamic, f_set_difference, all_d()),
        ("set_equals", 2) => row_call("kql_set_equals", Bool, f_set_equals, all_d()),
        ("bag_merge", _) if n >= 1 => row_call("kql_bag_merge", Dynamic, f_bag_merge, all_d()),
        ("zip", _) if n >= 2 => row_call("kql_zip", Dynamic, f_zip, all_d()),
        ("array_slice", 3) => row_call("kql_array_slice", Dynamic, f_slice, vec![d(0), l(1), l(2)]),
        ("array_sort_asc" | "array_sort_desc", _) if n >= 1 => {
            let mut a: Vec<Expr> = Vec::new();
            for (k, arg) in args.iter().enumerate() {
                if k == n - 1 && k > 0 && arg.ty == Bool {
                    a.push(arg.expr.clone());
                } else {
                    a.push(d(k));
                }
            }
            if name == "array_sort_asc" {
                row_call("kql_array_sort_asc", Dynamic, f_sort_asc, a)
            } else {
                row_call("kql_array_sort_desc", Dynamic, f_sort_desc, a)
            }
        }
        ("array_index_of", 2..=5) => {
            let a = (0..n).map(|k| if k < 2 { d(k) } else { l(k) }).collect();
            row_call("kql_array_index_of", Long, f_index_of, a)
        }
        ("array_iff" | "array_iif", 3) => row_call("kql_array_iff", Dynamic, f_iff, all_d()),
        ("array_reverse", 1) => row_call("kql_array_reverse", Dynamic, f_reverse, all_d()),
        ("array_rotate_left", 2) => row_call("kql_array_rotate_left", Dynamic, f_rotate_left, vec![d(0), l(1)]),
        ("array_rotate_right", 2) => row_call("kql_array_rotate_right", Dynamic, f_rotate_right, vec![d(0), l(1)]),
        ("array_shift_left" | "array_shift_right", 2 | 3) => {
            let mut a = vec![d(0), l(1)];
            if n == 3 {
                a.push(d(2));
            }
            if name == "array_shift_left" {
                row_call("kql_array_shift_left", Dynamic, f_shift_left, a)
            } else {
                row_call("kql_array_shift_right", Dynamic, f_shift_right, a)
            }
        }
        ("array_split", 2) => row_call("kql_array_split", Dynamic, f_split, all_d()),
        ("array_sum", 1) => row_call("kql_array_sum", Real, f_sum, all_d()),
        ("bag_remove_keys", 2) => row_call("kql_bag_remove_keys", Dynamic, f_bag_remove_keys, all_d()),
        ("bag_has_key", 2) => row_call("kql_bag_has_key", Bool, f_bag_has_key, vec![d(0), s(1)]),
        ("bag_set_key", 3) => row_call("kql_bag_set_key", Dynamic, f_bag_set_key, vec![d(0), s(1), d(2)]),
        ("bag_zip", 2) => row_call("kql_bag_zip", Dynamic, f_bag_zip, all_d()),
        ("bag_pack_columns", _) if n >= 1 => {
            let mut a = Vec::new();
            for (k, arg) in args.iter().enumerate() {
                let nm = match &arg.hint {
                    NameHint::Name(s) => s.clone(),
                    NameHint::None => format!("Column{}", k + 1),
                };
                a.push(lit(nm));
                a.push(d(k));
            }
            row_call("kql_bag_pack_columns", Dynamic, f_bag_pack_names, a)
        }
        ("treepath", 1) => row_call("kql_treepath", Dynamic, f_treepath, all_d()),
        ("jaccard_index", 2) => row_call("kql_jaccard_index", Real, f_jaccard, all_d()),
        ("repeat", 2) => row_call("kql_repeat", Dynamic, f_repeat, vec![d(0), l(1)]),
        ("range", 2 | 3) => {
            let t0 = args[0].ty;
            let any_real = args.iter().any(|a| matches!(a.ty, Real | KqlType::Decimal));
            match t0 {
                KqlType::DateTime => {
                    let mut a = vec![l(0), l(1)];
                    if n == 3 {
                        a.push(l(2));
                    }
                    row_call("kql_range_datetime", Dynamic, f_range_datetime, a)
                }
                KqlType::TimeSpan => {
                    let mut a = vec![l(0), l(1)];
                    if n == 3 {
                        a.push(l(2));
                    }
                    row_call("kql_range_timespan", Dynamic, f_range_timespan, a)
                }
                _ if any_real => {
                    let a = (0..n).map(|k| b.coerce(args[k].clone(), Real).expr).collect();
                    row_call("kql_range_real", Dynamic, f_range_real, a)
                }
                _ => row_call("kql_range_long", Dynamic, f_range_long, (0..n).map(l).collect()),
            }
        }
        ("dynamic_to_json", 1) => row_call("kql_dynamic_to_json", Str, f_dynamic_to_json, all_d()),
        ("gettype", 1) => match args[0].ty {
            Dynamic => row_call("kql_gettype", Str, f_gettype, all_d()),
            t => Bound::new(lit(gettype_name(t)), Str),
        },
        ("extract_json" | "extractjson", 2 | 3) => {
            let target = if n == 3 {
                super::arg_str_const(&args[2]).and_then(|t| KqlType::parse(&t)).unwrap_or(Str)
            } else {
                Str
            };
            let a = vec![s(0), s(1)];
            match target {
                Str => row_call("kql_extract_json_str", Str, f_extract_json_str, a),
                t => {
                    let v = row_call("kql_extract_json_dyn", Dynamic, f_extract_json_dyn, a);
                    b.coerce(v, t)
                }
            }
        }
        _ => return None,
    };
    Some(Ok(out))
}

/// Kusto's `gettype()` name of a non-dynamic type.
fn gettype_name(t: KqlType) -> &'static str {
    match t {
        KqlType::Bool => "bool",
        KqlType::Int => "int",
        KqlType::Long => "long",
        KqlType::Real => "real",
        KqlType::Decimal => "decimal",
        KqlType::DateTime => "datetime",
        KqlType::TimeSpan => "timespan",
        KqlType::String => "string",
        KqlType::Guid => "guid",
        KqlType::Dynamic => "dynamic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_and_rotations() {
        assert_eq!(array_shift("[1,2,3,4,5]", 2, None).unwrap(), "[3,4,5,null,null]");
        assert_eq!(array_shift("[1,2,3,4,5]", -2, Some("-1")).unwrap(), "[-1,-1,1,2,3]");
        assert_eq!(array_rotate("[1,2,3,4,5]", -2).unwrap(), "[4,5,1,2,3]");
        assert_eq!(array_rotate("[1,2,3,4,5]", 7).unwrap(), "[3,4,5,1,2]");
        assert_eq!(array_rotate("[]", 3).unwrap(), "[]");
    }

    #[test]
    fn split_sum_iff() {
        assert_eq!(array_split("[1,2,3,4,5]", "2").unwrap(), "[[1,2],[3,4,5]]");
        assert_eq!(array_split("[1,2,3,4,5]", "[1,3]").unwrap(), "[[1],[2,3],[4,5]]");
        assert_eq!(array_split("[1,2,3,4,5]", "-1").unwrap(), "[[1,2,3,4],[5]]");
        assert_eq!(array_sum("[1,2,3,4]"), Some(10.0));
        assert_eq!(array_sum("[1,\"a\"]"), None);
        assert_eq!(array_iff("[true,false,true]", "[1,2,3]", "[4,5,6]").unwrap(), "[1,5,3]");
        assert_eq!(array_iff("[1,0,50]", "\"yes\"", "\"no\"").unwrap(), "[\"yes\",\"no\",\"yes\"]");
        assert_eq!(array_iff("[true,true,true]", "[1,2]", "[3,4]").unwrap(), "[1,2,null]");
    }

    #[test]
    fn bags() {
        assert_eq!(bag_has_key(r#"{"a":{"b":1}}"#, "$.a.b"), Some(true));
        assert_eq!(bag_has_key(r#"{"a":{"b":1}}"#, "b"), Some(false));
        assert_eq!(bag_set_key(r#"{"key1":1,"key3":"abc"}"#, "key3", "3").unwrap(), r#"{"key1":1,"key3":3}"#);
        assert_eq!(bag_set_key(r#"{"a":1}"#, "$.b.c", "2").unwrap(), r#"{"a":1,"b":{"c":2}}"#);
        assert_eq!(bag_zip(r#"["a",8,"b"]"#, r#"[1,"2",2.5]"#).unwrap(), r#"{"a":1,"b":2.5}"#);
        assert_eq!(bag_zip(r#"["a","b","c"]"#, r#"[1]"#).unwrap(), r#"{"a":1,"b":null,"c":null}"#);
        assert_eq!(bag_zip("\"a\"", "[1]"), None);
    }

    #[test]
    fn treepath_and_json() {
        assert_eq!(
            treepath(r#"{"prop1":[1,2,3,4],"prop2":"value2"}"#).unwrap(),
            r#"["['prop1']","['prop1'][0]","['prop2']"]"#
        );
        assert_eq!(
            treepath(r#"{"listProperty":[100,200,300,"abcde",{"x":"y"}]}"#).unwrap(),
            r#"["['listProperty']","['listProperty'][0]","['listProperty'][0]['x']"]"#
        );
        assert_eq!(
            dynamic_to_json(r#"{"b":1,"a":{"d":[1,{"z":1,"y":2}],"c":2}}"#),
            r#"{"a":{"c":2,"d":[1,{"y":2,"z":1}]},"b":1}"#
        );
        assert_eq!(json_path_get("$.name", r#"{"name": "John", "age": 30}"#), Some("\"John\""));
        assert_eq!(jaccard_index("[1,2,3]", "[1,2,3,4]"), Some(0.75));
    }

    #[test]
    fn ranges() {
        assert_eq!(range_long(1, 8, 3, |v| v.to_string()).unwrap(), "[1,4,7]");
        assert_eq!(range_long(5, 1, -2, |v| v.to_string()).unwrap(), "[5,3,1]");
        assert_eq!(range_long(5, 1, 1, |v| v.to_string()).unwrap(), "[]");
        assert_eq!(range_real(1.0, 2.0, 0.5).unwrap(), "[1.0,1.5,2.0]");
        assert_eq!(
            array_sort_many(&["[1,3,2]", "[\"a\",\"b\",\"c\"]"], false, true).unwrap(),
            r#"[[3,2,1],["b","c","a"]]"#
        );
    }
}
