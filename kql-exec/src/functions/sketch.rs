//! Sketches: intermediate aggregation results that are stored, merged across groups and read
//! later. The t-digest family (`tdigest`, `tdigest_merge`/`merge_tdigest`,
//! `percentile_tdigest`, `percentiles_array_tdigest`, `rank_tdigest`, `percentrank_tdigest`),
//! the HyperLogLog family (`hll`, `hll_if`, `hll_merge`, `dcount_hll`, and the intersections of
//! the `dcount_intersect` plugin), and the weighted
//! percentiles (`percentilew`, `percentilesw`, `percentilesw_array`) that share the digest's
//! accumulator.
//!
//! Kusto documents these values as opaque (their binary form may change between versions).
//! Here a digest is `[[code],[v1,v2,...],[w1,w2,...]]` (Kusto's layout: a type code, the
//! centroids' values and their weights), kept without compression: every distinct value is its
//! own centroid, so a percentile read from a digest is exactly `percentile()`/`percentilew()`
//! of the same rows (nearest rank). An hll is `[[accuracy],[h1,h2,...]]`: the distinct 64-bit
//! hashes of the values, so `dcount_hll` of it is `dcount()` of the same rows.

use super::array::{row_call, Out, V};
use super::BindCtx;
use crate::binder::Bound;
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use crate::value::datetime as dt;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int32Type, Int64Type};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{lit, Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, OnceLock};

// ---------------------------------------------------------------------------------------------
// digests
// ---------------------------------------------------------------------------------------------

/// The type of the values a digest holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestKind {
    /// int or long values.
    Long,
    /// real (or decimal) values.
    Real,
    /// datetime values (ticks).
    DateTime,
    /// timespan values (ticks).
    TimeSpan,
}

impl DigestKind {
    /// The digest kind for values of type `t` (`None` for types without an order of numbers).
    pub fn of(t: KqlType) -> Option<DigestKind> {
        match t {
            KqlType::Int | KqlType::Long => Some(DigestKind::Long),
            KqlType::Real | KqlType::Decimal => Some(DigestKind::Real),
            KqlType::DateTime => Some(DigestKind::DateTime),
            KqlType::TimeSpan => Some(DigestKind::TimeSpan),
            _ => None,
        }
    }

    /// The KQL type of the values.
    pub fn ty(self) -> KqlType {
        match self {
            DigestKind::Long => KqlType::Long,
            DigestKind::Real => KqlType::Real,
            DigestKind::DateTime => KqlType::DateTime,
            DigestKind::TimeSpan => KqlType::TimeSpan,
        }
    }

    /// The type code written in the digest (7 is Kusto's code for longs).
    fn code(self) -> i64 {
        match self {
            DigestKind::Long => 7,
            DigestKind::Real => 10,
            DigestKind::DateTime => 12,
            DigestKind::TimeSpan => 13,
        }
    }

    fn from_code(c: i64) -> Option<DigestKind> {
        Some(match c {
            7 => DigestKind::Long,
            10 => DigestKind::Real,
            12 => DigestKind::DateTime,
            13 => DigestKind::TimeSpan,
            _ => return None,
        })
    }
}

/// An order-preserving integer key of a real (the order of `f64::total_cmp`); its own inverse.
fn real_key(k: i64) -> i64 {
    k ^ ((((k >> 63) as u64) >> 1) as i64)
}

/// Weighted values: each distinct value (as an order-preserving key) with its total weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    kind: DigestKind,
    cents: BTreeMap<i64, i64>,
}

impl Digest {
    /// An empty digest of values of `kind`.
    pub fn new(kind: DigestKind) -> Digest {
        Digest { kind, cents: BTreeMap::new() }
    }

    /// The kind of the values.
    pub fn kind(&self) -> DigestKind {
        self.kind
    }

    fn key_of_f64(&self, f: f64) -> i64 {
        match self.kind {
            DigestKind::Real => real_key(f.to_bits() as i64),
            _ => f as i64,
        }
    }

    /// Add a long/datetime/timespan value (as ticks) with weight `w`.
    pub fn add_i64(&mut self, v: i64, w: i64) {
        let k = match self.kind {
            DigestKind::Real => real_key((v as f64).to_bits() as i64),
            _ => v,
        };
        *self.cents.entry(k).or_default() += w;
    }

    /// Add a real value with weight `w` (NaN is ignored).
    pub fn add_f64(&mut self, v: f64, w: i64) {
        if v.is_nan() {
            return;
        }
        let k = self.key_of_f64(v);
        *self.cents.entry(k).or_default() += w;
    }

    /// The value of a key as a real.
    fn value_f64(&self, k: i64) -> f64 {
        match self.kind {
            DigestKind::Real => f64::from_bits(real_key(k) as u64),
            _ => k as f64,
        }
    }

    /// The total weight.
    pub fn total(&self) -> i64 {
        self.cents.values().sum()
    }

    /// The key of the `p`-th percentile by nearest rank (the first value whose cumulative
    /// weight reaches `p`% of the total); `None` for an empty digest or an invalid `p`.
    fn percentile_key(&self, p: f64) -> Option<i64> {
        if !(0.0..=100.0).contains(&p) {
            return None;
        }
        let target = (p / 100.0) * self.total() as f64;
        let mut cum = 0i64;
        let mut last = None;
        for (k, w) in &self.cents {
            cum += w;
            last = Some(*k);
            if cum as f64 >= target {
                return last;
            }
        }
        last
    }

    /// The `p`-th percentile as a value of the digest's type.
    pub fn percentile(&self, p: f64) -> Option<Num> {
        let k = self.percentile_key(p)?;
        Some(match self.kind {
            DigestKind::Real => Num::F(self.value_f64(k)),
            _ => Num::I(k),
        })
    }

    /// The total weight of the values less than or equal to `v`.
    pub fn rank(&self, v: Num) -> i64 {
        let k = match (v, self.kind) {
            (Num::I(i), DigestKind::Real) => self.key_of_f64(i as f64),
            (Num::I(i), _) => i,
            (Num::F(f), DigestKind::Real) => self.key_of_f64(f),
            (Num::F(f), _) => {
                // the integer values not above f
                if f.is_nan() {
                    return 0;
                }
                f.floor().clamp(i64::MIN as f64, i64::MAX as f64) as i64
            }
        };
        self.cents.range(..=k).map(|(_, w)| *w).sum()
    }

    /// Merge another digest in. A digest of longs and one of reals merge as reals; a digest of
    /// another kind (datetimes into longs...) is left out.
    pub fn merge(&mut self, other: &Digest) {
        if other.kind != self.kind {
            if self.kind == DigestKind::Long && other.kind == DigestKind::Real {
                let mut as_real = Digest::new(DigestKind::Real);
                for (k, w) in &self.cents {
                    as_real.add_f64(*k as f64, *w);
                }
                *self = as_real;
            } else if !(self.kind == DigestKind::Real && other.kind == DigestKind::Long) {
                return;
            }
        }
        for (k, w) in &other.cents {
            let v = other.value_f64(*k);
            match (self.kind, other.kind) {
                (a, b) if a == b => *self.cents.entry(*k).or_default() += w,
                _ => self.add_f64(v, *w),
            }
        }
    }

    /// The digest as dynamic JSON: `[[code],[values...],[weights...]]`, values ascending.
    pub fn to_json(&self) -> String {
        let vals: Vec<String> = self
            .cents
            .keys()
            .map(|k| match self.kind {
                DigestKind::Real => dj::json_from_f64(self.value_f64(*k)),
                _ => k.to_string(),
            })
            .collect();
        let ws: Vec<String> = self.cents.values().map(|w| w.to_string()).collect();
        format!("[[{}],[{}],[{}]]", self.kind.code(), vals.join(","), ws.join(","))
    }

    /// Read a digest written by [`Digest::to_json`]; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Digest> {
        let parts = dj::array_elements(raw)?;
        let [head, vals, ws] = parts.as_slice() else { return None };
        let code = dj::array_elements(head)?.first().and_then(|c| dj::as_i64(c))?;
        let mut d = Digest::new(DigestKind::from_code(code)?);
        let vals = dj::array_elements(vals)?;
        let ws = dj::array_elements(ws)?;
        if vals.len() != ws.len() {
            return None;
        }
        for (v, w) in vals.iter().zip(&ws) {
            let w = dj::as_i64(w)?;
            match d.kind {
                DigestKind::Real => d.add_f64(dj::as_f64(v)?, w),
                _ => d.add_i64(dj::as_i64(v)?, w),
            }
        }
        Some(d)
    }
}

/// A number read from or written to a digest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// long, datetime or timespan ticks.
    I(i64),
    /// real.
    F(f64),
}

impl Num {
    fn from_v(v: V) -> Option<Num> {
        match v {
            V::I(i) => Some(Num::I(i)),
            V::F(f) => Some(Num::F(f)),
            V::B(b) => Some(Num::I(i64::from(b))),
            V::S(s) => dj::as_i64(s).map(Num::I).or_else(|| dj::as_f64(s).map(Num::F)),
            V::Null => None,
        }
    }

    /// The value as an output of KQL type `ty` (dynamic: as the digest's `kind` in JSON).
    fn out(self, ty: KqlType, kind: DigestKind) -> Out {
        match ty {
            KqlType::Dynamic => Out::S(match (self, kind) {
                (Num::I(t), DigestKind::DateTime) => dj::json_string(&dt::format_datetime_iso(t)),
                (Num::I(t), DigestKind::TimeSpan) => dj::json_string(&dt::format_timespan(t)),
                (Num::I(i), _) => i.to_string(),
                (Num::F(f), _) => dj::json_from_f64(f),
            }),
            KqlType::Real | KqlType::Decimal => Out::F(match self {
                Num::I(i) => i as f64,
                Num::F(f) => f,
            }),
            _ => match self {
                Num::I(i) => Out::I(i),
                Num::F(f) if f.is_finite() => Out::I(f as i64),
                Num::F(_) => Out::Null,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// hll
// ---------------------------------------------------------------------------------------------

/// The distinct values of a group, as 64-bit hashes, with the accuracy level asked for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hll {
    accuracy: i64,
    hashes: BTreeSet<i64>,
}

impl Hll {
    /// An empty set at accuracy level `accuracy` (Kusto's 0..4, default 1).
    pub fn new(accuracy: i64) -> Hll {
        Hll { accuracy, hashes: BTreeSet::new() }
    }

    /// The number of distinct values.
    pub fn count(&self) -> i64 {
        self.hashes.len() as i64
    }

    /// Merge another set in.
    pub fn merge(&mut self, other: &Hll) {
        self.hashes.extend(other.hashes.iter().copied());
    }

    /// As dynamic JSON: `[[accuracy],[hashes...]]`.
    pub fn to_json(&self) -> String {
        let hs: Vec<String> = self.hashes.iter().map(|h| h.to_string()).collect();
        format!("[[{}],[{}]]", self.accuracy, hs.join(","))
    }

    /// Read a set written by [`Hll::to_json`]; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Hll> {
        let parts = dj::array_elements(raw)?;
        let [head, hs] = parts.as_slice() else { return None };
        let accuracy = dj::array_elements(head)?.first().and_then(|c| dj::as_i64(c))?;
        let hashes = dj::array_elements(hs)?.iter().map(|h| dj::as_i64(h)).collect::<Option<BTreeSet<i64>>>()?;
        Some(Hll { accuracy, hashes })
    }

    /// Add row `i` of `a` (nulls are not counted).
    fn add_row(&mut self, a: &ArrayRef, i: usize) {
        if a.is_null(i) {
            return;
        }
        let mut buf: Vec<u8> = Vec::with_capacity(16);
        match a.data_type() {
            DataType::Int64 => {
                buf.push(b'l');
                buf.extend(a.as_primitive::<Int64Type>().value(i).to_le_bytes());
            }
            DataType::Int32 => {
                buf.push(b'l');
                buf.extend((a.as_primitive::<Int32Type>().value(i) as i64).to_le_bytes());
            }
            DataType::Float64 => {
                buf.push(b'r');
                buf.extend(a.as_primitive::<Float64Type>().value(i).to_bits().to_le_bytes());
            }
            DataType::Boolean => {
                buf.push(b'b');
                buf.push(u8::from(a.as_boolean().value(i)));
            }
            DataType::Utf8 => {
                buf.push(b's');
                buf.extend(a.as_string::<i32>().value(i).as_bytes());
            }
            _ => return,
        }
        self.hashes.insert(super::misc::xxhash64(&buf, 0) as i64);
    }
}

// ---------------------------------------------------------------------------------------------
// aggregates
// ---------------------------------------------------------------------------------------------

/// What a sketch aggregate computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SketchOp {
    /// `tdigest(x [, w])`: the digest.
    Digest(DigestKind),
    /// `percentilew(x, w, p)`: the percentile (`p` as bits).
    Percentile(DigestKind, u64),
    /// `tdigest_merge(d)` / `merge_tdigest(d)`.
    MergeDigests,
    /// `hll(x [, accuracy])` / `hll_if(x, pred [, accuracy])`.
    Hll(i64),
    /// `hll_merge(h)`.
    MergeHll,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SketchUdaf {
    op: SketchOp,
    name: String,
    signature: Signature,
}

impl AggregateUDFImpl for SketchUdaf {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match self.op {
            SketchOp::Percentile(kind, _) => crate::types::arrow_type(kind.ty()),
            _ => DataType::Utf8,
        })
    }
    fn accumulator(&self, _acc_args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(SketchAcc {
            op: self.op,
            digest: match self.op {
                SketchOp::Digest(k) | SketchOp::Percentile(k, _) => Some(Digest::new(k)),
                _ => None,
            },
            hll: match self.op {
                SketchOp::Hll(a) => Some(Hll::new(a)),
                _ => None,
            },
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}_state", args.name), DataType::Utf8, true))])
    }
}

#[derive(Debug)]
struct SketchAcc {
    op: SketchOp,
    digest: Option<Digest>,
    hll: Option<Hll>,
}

impl SketchAcc {
    fn merge_digest(&mut self, d: Digest) {
        match &mut self.digest {
            Some(cur) => cur.merge(&d),
            None => self.digest = Some(d),
        }
    }
    fn merge_hll(&mut self, h: Hll) {
        match &mut self.hll {
            Some(cur) => cur.merge(&h),
            None => self.hll = Some(h),
        }
    }
    fn state_json(&self) -> Option<String> {
        match self.op {
            SketchOp::Hll(_) | SketchOp::MergeHll => self.hll.as_ref().map(Hll::to_json),
            _ => self.digest.as_ref().map(Digest::to_json),
        }
    }
}

/// The weight of row `i` (1 without a weight column; `None` for a null or non-positive one).
fn weight_at(w: Option<&ArrayRef>, i: usize) -> Option<i64> {
    let Some(w) = w else { return Some(1) };
    if w.is_null(i) {
        return None;
    }
    let v = match w.data_type() {
        DataType::Int64 => w.as_primitive::<Int64Type>().value(i),
        DataType::Int32 => w.as_primitive::<Int32Type>().value(i) as i64,
        _ => return None,
    };
    (v > 0).then_some(v)
}

impl Accumulator for SketchAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let x = &values[0];
        match self.op {
            SketchOp::Digest(_) | SketchOp::Percentile(..) => {
                let Some(d) = &mut self.digest else { return Ok(()) };
                let w = values.get(1);
                for i in 0..x.len() {
                    if x.is_null(i) {
                        continue;
                    }
                    let Some(wt) = weight_at(w, i) else { continue };
                    match x.data_type() {
                        DataType::Int64 => d.add_i64(x.as_primitive::<Int64Type>().value(i), wt),
                        DataType::Int32 => d.add_i64(x.as_primitive::<Int32Type>().value(i) as i64, wt),
                        DataType::Float64 => d.add_f64(x.as_primitive::<Float64Type>().value(i), wt),
                        _ => {}
                    }
                }
            }
            SketchOp::Hll(_) => {
                let Some(h) = &mut self.hll else { return Ok(()) };
                // hll_if: the second column is the predicate
                let pred = values.get(1).filter(|p| p.data_type() == &DataType::Boolean).map(|p| p.as_boolean());
                for i in 0..x.len() {
                    if let Some(p) = pred {
                        if p.is_null(i) || !p.value(i) {
                            continue;
                        }
                    }
                    h.add_row(x, i);
                }
            }
            SketchOp::MergeDigests | SketchOp::MergeHll => self.merge_batch(values)?,
        }
        Ok(())
    }
    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        if let SketchOp::Percentile(kind, p) = self.op {
            let v = self.digest.as_ref().and_then(|d| d.percentile(f64::from_bits(p)));
            return Ok(match kind {
                DigestKind::Real => ScalarValue::Float64(v.map(|n| match n {
                    Num::F(f) => f,
                    Num::I(i) => i as f64,
                })),
                _ => ScalarValue::Int64(v.and_then(|n| match n {
                    Num::I(i) => Some(i),
                    Num::F(f) => f.is_finite().then_some(f as i64),
                })),
            });
        }
        Ok(ScalarValue::Utf8(self.state_json()))
    }
    fn size(&self) -> usize {
        self.digest.as_ref().map_or(0, |d| d.cents.len() * 48)
            + self.hll.as_ref().map_or(0, |h| h.hashes.len() * 40)
            + 64
    }
    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Utf8(self.state_json())])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let v = states[0].as_string::<i32>();
        for i in 0..v.len() {
            if v.is_null(i) {
                continue;
            }
            let raw = v.value(i);
            match self.op {
                SketchOp::Hll(_) | SketchOp::MergeHll => {
                    if let Some(h) = Hll::parse(raw) {
                        self.merge_hll(h);
                    }
                }
                _ => {
                    if let Some(d) = Digest::parse(raw) {
                        self.merge_digest(d);
                    }
                }
            }
        }
        Ok(())
    }
}

fn sketch_udaf(op: SketchOp, args: usize) -> Arc<AggregateUDF> {
    static CACHE: OnceLock<Mutex<Vec<((SketchOp, usize), Arc<AggregateUDF>)>>> = OnceLock::new();
    let m = CACHE.get_or_init(Default::default);
    let mut v = m.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, u)) = v.iter().find(|(k, _)| *k == (op, args)) {
        return u.clone();
    }
    let name = format!("kql_sketch_{op:?}_{args}").to_lowercase();
    let u = Arc::new(AggregateUDF::new_from_impl(SketchUdaf {
        op,
        name,
        signature: Signature::any(args, Volatility::Immutable),
    }));
    v.push(((op, args), u.clone()));
    u
}

/// The value argument of a digest aggregate, as ticks/longs or reals.
fn digest_input(b: &crate::binder::Binder, x: Bound, name: &str, span: kql_parser::Span) -> Result<(Expr, DigestKind)> {
    let Some(kind) = DigestKind::of(x.ty) else {
        return Err(KqlError::new(
            "KS107",
            format!("{name}(): the values must be numbers, datetimes or timespans, not {}", x.ty.name()),
            span,
        ));
    };
    let e = match kind {
        DigestKind::Real => b.coerce(x, KqlType::Real).expr,
        DigestKind::Long => b.coerce(x, KqlType::Long).expr,
        _ => x.expr,
    };
    Ok((e, kind))
}

/// The weight argument of a weighted aggregate: an integer.
fn weight_input(b: &crate::binder::Binder, w: Bound, name: &str, span: kql_parser::Span) -> Result<Expr> {
    if !matches!(w.ty, KqlType::Int | KqlType::Long | KqlType::Dynamic) {
        return Err(KqlError::new("KS134", format!("{name}(): the weight must be an integer"), span));
    }
    Ok(b.coerce(w, KqlType::Long).expr)
}

/// True for the aggregates of the sketch family (bound by [`bind_aggregate`]).
pub fn is_sketch_aggregate(name: &str) -> bool {
    matches!(name, "tdigest" | "tdigest_merge" | "merge_tdigest" | "merge_tdigests" | "hll" | "hll_if" | "hll_merge")
}

/// Bind aggregate `name` of the sketch family ([`is_sketch_aggregate`]) over bound arguments:
/// the DataFusion aggregate expression and its KQL type.
pub fn bind_aggregate(
    b: &crate::binder::Binder,
    name: &str,
    args: &[Bound],
    span: kql_parser::Span,
) -> Result<(Expr, KqlType)> {
    let missing = || KqlError::new("KS119", format!("{name}() is missing an argument"), span);
    match name {
        "tdigest" => {
            let x = args.first().cloned().ok_or_else(missing)?;
            let (xe, kind) = digest_input(b, x, name, span)?;
            let mut a = vec![xe];
            if let Some(w) = args.get(1) {
                a.push(weight_input(b, w.clone(), name, span)?);
            }
            Ok((sketch_udaf(SketchOp::Digest(kind), a.len()).call(a), KqlType::Dynamic))
        }
        "tdigest_merge" | "merge_tdigest" | "merge_tdigests" => {
            let d = args.first().cloned().ok_or_else(missing)?;
            let de = b.coerce(d, KqlType::Dynamic).expr;
            Ok((sketch_udaf(SketchOp::MergeDigests, 1).call(vec![de]), KqlType::Dynamic))
        }
        "hll" | "hll_if" => {
            let x = args.first().cloned().ok_or_else(missing)?;
            let is_if = name == "hll_if";
            let acc_ix = if is_if { 2 } else { 1 };
            let accuracy = match args.get(acc_ix) {
                Some(a) => match super::arg_i64_const(a) {
                    Some(v) if (0..=4).contains(&v) => v,
                    _ => {
                        return Err(KqlError::new(
                            "KQL091",
                            format!("{name}(): the accuracy must be a constant between 0 and 4"),
                            span,
                        ))
                    }
                },
                None => 1,
            };
            let mut a = vec![x.expr];
            if is_if {
                let p = args.get(1).cloned().ok_or_else(missing)?;
                a.push(super::logical::null_false(b.as_bool(p, span)?));
            }
            Ok((sketch_udaf(SketchOp::Hll(accuracy), a.len()).call(a), KqlType::Dynamic))
        }
        "hll_merge" => {
            let h = args.first().cloned().ok_or_else(missing)?;
            let he = b.coerce(h, KqlType::Dynamic).expr;
            Ok((sketch_udaf(SketchOp::MergeHll, 1).call(vec![he]), KqlType::Dynamic))
        }
        _ => Err(KqlError::new("KQL092", format!("the aggregation '{name}' is not supported yet"), span)),
    }
}

/// `percentilew(x, w, p)`: the weighted `p`-th percentile of `x` (nearest rank), of `x`'s type.
pub fn weighted_percentile(
    b: &crate::binder::Binder,
    x: Bound,
    w: Bound,
    p: f64,
    span: kql_parser::Span,
) -> Result<(Expr, KqlType)> {
    let ty = x.ty;
    let (xe, kind) = digest_input(b, x, "percentilew", span)?;
    let we = weight_input(b, w, "percentilew", span)?;
    let e = sketch_udaf(SketchOp::Percentile(kind, p.to_bits()), 2).call(vec![xe, we]);
    Ok(match ty {
        KqlType::Int => (datafusion::logical_expr::try_cast(e, DataType::Int32), KqlType::Int),
        KqlType::Decimal => (e, KqlType::Decimal),
        _ => (e, kind.ty()),
    })
}

// ---------------------------------------------------------------------------------------------
// scalar functions
// ---------------------------------------------------------------------------------------------

/// The type named by a trailing `typeof(T)` argument (bound as its name).
fn type_marker(b: &Bound) -> Option<KqlType> {
    super::arg_str_const(b).and_then(|s| KqlType::parse(&s))
}

fn f_merge_digests(a: &[V]) -> Out {
    let mut acc: Option<Digest> = None;
    for v in a {
        let Some(d) = v.s().and_then(Digest::parse) else { continue };
        match &mut acc {
            Some(cur) => cur.merge(&d),
            None => acc = Some(d),
        }
    }
    acc.map(|d| d.to_json()).into()
}

fn f_merge_hll(a: &[V]) -> Out {
    let mut acc: Option<Hll> = None;
    for v in a {
        let Some(h) = v.s().and_then(Hll::parse) else { continue };
        match &mut acc {
            Some(cur) => cur.merge(&h),
            None => acc = Some(h),
        }
    }
    acc.map(|h| h.to_json()).into()
}

/// The number of values in every one of the hll sets `a` (null when one is not an hll).
fn f_intersect_hll(a: &[V]) -> Out {
    (|| {
        let sets: Vec<Hll> = a.iter().map(|v| v.s().and_then(Hll::parse)).collect::<Option<_>>()?;
        let (first, rest) = sets.split_first()?;
        Some(first.hashes.iter().filter(|h| rest.iter().all(|s| s.hashes.contains(h))).count() as i64)
    })()
    .into()
}

/// `dcount_intersect`'s columns: the distinct count of the intersection of the hll sets
/// `sets` (dynamic values), exact since an hll here keeps every distinct value's hash.
pub(crate) fn intersect_count(sets: Vec<Expr>) -> Bound {
    row_call("kql_hll_intersect", KqlType::Long, f_intersect_hll, sets)
}

fn f_dcount_hll(a: &[V]) -> Out {
    a[0].s().and_then(Hll::parse).map(|h| h.count()).into()
}

/// `percentile_tdigest(d, p, type)`: the last argument is the result type's name.
fn f_percentile(a: &[V]) -> Out {
    (|| {
        let d = Digest::parse(a[0].s()?)?;
        let ty = KqlType::parse(a[2].s()?)?;
        Some(d.percentile(a[1].f()?)?.out(ty, d.kind))
    })()
    .unwrap_or(Out::Null)
}

/// `percentiles_array_tdigest(d, p1, p2, ...)` (or one dynamic array of percentages).
fn f_percentiles_array(a: &[V]) -> Out {
    (|| {
        let d = Digest::parse(a[0].s()?)?;
        let mut ps: Vec<f64> = Vec::new();
        for v in &a[1..] {
            match v {
                V::S(s) => ps.extend(dj::array_elements(s)?.into_iter().map(dj::as_f64).collect::<Option<Vec<_>>>()?),
                other => ps.push(other.f()?),
            }
        }
        let items: Vec<String> = ps
            .iter()
            .map(|p| match d.percentile(*p).map(|n| n.out(KqlType::Dynamic, d.kind)) {
                Some(Out::S(s)) => s,
                _ => "null".to_string(),
            })
            .collect();
        Some(format!("[{}]", items.join(",")))
    })()
    .into()
}

fn f_rank(a: &[V]) -> Out {
    (|| {
        let d = Digest::parse(a[0].s()?)?;
        Some(d.rank(Num::from_v(a[1])?) as f64)
    })()
    .into()
}

fn f_percentrank(a: &[V]) -> Out {
    (|| {
        let d = Digest::parse(a[0].s()?)?;
        let total = d.total();
        let v = Num::from_v(a[1])?;
        (total > 0).then(|| d.rank(v) as f64 * 100.0 / total as f64)
    })()
    .into()
}

/// Bind the scalar functions of the sketch family.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    let n = args.len();
    let d = |k: usize| b.coerce(args[k].clone(), KqlType::Dynamic).expr;
    let all_d = || (0..n).map(d).collect::<Vec<_>>();
    use KqlType::{Dynamic, Long, Real};
    let out = match (name, n) {
        ("merge_tdigest" | "tdigest_merge" | "merge_tdigests", 2..) => {
            row_call("kql_merge_tdigest", Dynamic, f_merge_digests, all_d())
        }
        ("hll_merge", 2..) => row_call("kql_hll_merge", Dynamic, f_merge_hll, all_d()),
        ("dcount_hll", 1) => row_call("kql_dcount_hll", Long, f_dcount_hll, all_d()),
        ("percentile_tdigest", 2 | 3) => {
            let ty = match args.get(2) {
                Some(t) => match type_marker(t) {
                    Some(ty) => ty,
                    None => {
                        return Some(Err(KqlError::new(
                            "KQL091",
                            "percentile_tdigest(): the third argument must be typeof(T)",
                            ctx.span,
                        )))
                    }
                },
                None => Dynamic,
            };
            let p = b.coerce(args[1].clone(), Real).expr;
            row_call("kql_percentile_tdigest", ty, f_percentile, vec![d(0), p, lit(ty.name())])
        }
        ("percentiles_array_tdigest", 2..) => {
            // a trailing typeof(T) does not change the array's elements
            let last = if n > 2 && type_marker(&args[n - 1]).is_some() { n - 1 } else { n };
            let mut a = vec![d(0)];
            for arg in &args[1..last] {
                a.push(if arg.ty == Dynamic { arg.expr.clone() } else { b.coerce(arg.clone(), Real).expr });
            }
            row_call("kql_percentiles_array_tdigest", Dynamic, f_percentiles_array, a)
        }
        ("rank_tdigest", 2) => row_call("kql_rank_tdigest", Real, f_rank, vec![d(0), args[1].expr.clone()]),
        ("percentrank_tdigest", 2) => {
            row_call("kql_percentrank_tdigest", Real, f_percentrank, vec![d(0), args[1].expr.clone()])
        }
        _ => return None,
    };
    Some(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_percentiles_are_nearest_rank_by_weight() {
        let mut d = Digest::new(DigestKind::Long);
        for (v, w) in [(10, 8), (20, 6), (30, 3), (40, 1)] {
            d.add_i64(v, w);
        }
        assert_eq!(d.percentile(50.0), Some(Num::I(20)));
        assert_eq!(d.percentile(75.0), Some(Num::I(20)));
        assert_eq!(d.percentile(99.9), Some(Num::I(40)));
        assert_eq!(d.percentile(0.0), Some(Num::I(10)));
        assert_eq!(d.percentile(101.0), None);
        assert_eq!(d.rank(Num::I(25)), 14);
        assert_eq!(d.rank(Num::F(9.5)), 0);
        let back = Digest::parse(&d.to_json()).unwrap();
        assert_eq!(back, d);
        assert_eq!(d.to_json(), "[[7],[10,20,30,40],[8,6,3,1]]");
    }

    #[test]
    fn real_digests_order_negatives_and_merge_longs() {
        let mut d = Digest::new(DigestKind::Real);
        for v in [-2.5, 1.0, -0.5, 3.0] {
            d.add_f64(v, 1);
        }
        d.add_f64(f64::NAN, 1);
        assert_eq!(d.percentile(25.0), Some(Num::F(-2.5)));
        assert_eq!(d.percentile(50.0), Some(Num::F(-0.5)));
        let mut l = Digest::new(DigestKind::Long);
        l.add_i64(2, 1);
        l.merge(&d);
        assert_eq!(l.kind(), DigestKind::Real);
        assert_eq!(l.total(), 5);
        assert_eq!(Digest::parse("[1,2]"), None);
        assert_eq!(Digest::parse("[[99],[1],[1]]"), None);
    }

    #[test]
    fn hll_counts_distinct_hashes_and_merges() {
        let mut h = Hll::new(1);
        let a: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(vec![Some(1), Some(2), Some(1), None]));
        for i in 0..a.len() {
            h.add_row(&a, i);
        }
        assert_eq!(h.count(), 2);
        let back = Hll::parse(&h.to_json()).unwrap();
        assert_eq!(back, h);
        let mut g = Hll::new(1);
        let s: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec!["1", "x"]));
        g.add_row(&s, 0);
        g.add_row(&s, 1);
        g.merge(&h);
        assert_eq!(g.count(), 4);
        assert_eq!(Hll::parse("[[1]]"), None);
    }
}
