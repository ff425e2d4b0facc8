//! Conversions: `tostring`, `toint`, `tolong`, `todouble`/`toreal`, `tobool`, `toguid`,
//! `todatetime`, `totimespan`, `todecimal`, `tohex`, and the string parsing behind them.

use super::array::{row_call, Out, V};
use super::udf::{udf, Body};
use super::{dynfn, BindCtx};
use crate::binder::Bound;
use crate::error::Result;
use crate::schema::KqlType;
use crate::types::arrow_type;
use crate::value::datetime as dt;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int32Array, Int64Array};
use datafusion::common::DataFusionError;
use datafusion::logical_expr::{Expr, ScalarUDF};
use std::sync::{Arc, OnceLock};

type R<T> = std::result::Result<T, DataFusionError>;

/// Parse a string into a KQL scalar (null when it does not parse).
pub fn parse_scalar_string(s: &str, to: KqlType) -> Option<ParsedScalar> {
    let t = s.trim();
    Some(match to {
        KqlType::Long => ParsedScalar::I64(parse_long(t)?),
        KqlType::Int => ParsedScalar::I32(parse_long(t).and_then(|v| i32::try_from(v).ok())?),
        KqlType::Real | KqlType::Decimal => ParsedScalar::F64(parse_real(t)?),
        KqlType::Bool => ParsedScalar::Bool(match t.to_ascii_lowercase().as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return None,
        }),
        KqlType::DateTime => ParsedScalar::I64(dt::parse_datetime(t)?),
        KqlType::TimeSpan => ParsedScalar::I64(dt::parse_timespan(t)?),
        _ => return None,
    })
}

/// A parsed scalar value.
pub enum ParsedScalar {
    /// long, datetime, timespan
    I64(i64),
    /// int
    I32(i32),
    /// real
    F64(f64),
    /// bool
    Bool(bool),
}

fn parse_long(t: &str) -> Option<i64> {
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    // Kusto's tolong("1.5") is 1
    t.parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| f as i64)
}

fn parse_real(t: &str) -> Option<f64> {
    match t {
        "NaN" | "nan" => return Some(f64::NAN),
        "Infinity" | "inf" | "+inf" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" | "-inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    t.parse::<f64>().ok()
}

fn from_string_body(to: KqlType) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let s = args[0].as_string::<i32>();
        let get = |i: usize| if s.is_null(i) { None } else { parse_scalar_string(s.value(i), to) };
        let out: ArrayRef = match to {
            KqlType::Bool => Arc::new(
                (0..rows)
                    .map(|i| get(i).and_then(|p| if let ParsedScalar::Bool(b) = p { Some(b) } else { None }))
                    .collect::<BooleanArray>(),
            ),
            KqlType::Int => Arc::new(
                (0..rows)
                    .map(|i| get(i).and_then(|p| if let ParsedScalar::I32(b) = p { Some(b) } else { None }))
                    .collect::<Int32Array>(),
            ),
            KqlType::Real | KqlType::Decimal => Arc::new(
                (0..rows)
                    .map(|i| get(i).and_then(|p| if let ParsedScalar::F64(b) = p { Some(b) } else { None }))
                    .collect::<Float64Array>(),
            ),
            _ => Arc::new(
                (0..rows)
                    .map(|i| get(i).and_then(|p| if let ParsedScalar::I64(b) = p { Some(b) } else { None }))
                    .collect::<Int64Array>(),
            ),
        };
        Ok(out)
    })
}

/// Convert a string expression to another KQL type.
pub fn from_string(e: Expr, to: KqlType) -> Expr {
    static UDFS: OnceLock<Vec<(KqlType, Arc<ScalarUDF>)>> = OnceLock::new();
    let all = UDFS.get_or_init(|| {
        use KqlType::*;
        [Bool, Int, Long, Real, Decimal, DateTime, TimeSpan]
            .into_iter()
            .map(|t| (t, udf(&format!("kql_parse_{}", t.name()), arrow_type(t), false, from_string_body(t))))
            .collect()
    });
    match to {
        KqlType::Dynamic => dynfn::to_dynamic(e, KqlType::String),
        KqlType::String => e,
        KqlType::Guid => row_call("kql_parse_guid", KqlType::Guid, f_parse_guid, vec![e]).expr,
        _ => match all.iter().find(|(t, _)| *t == to) {
            Some((_, u)) => u.call(vec![e]),
            None => e,
        },
    }
}

/// Kusto's reading of a string as a guid (`toguid`): the first 32 hex digits, hyphens allowed
/// only where a guid has them (after digits 8, 12, 16 and 20), the rest of the string ignored;
/// the canonical lowercase `8-4-4-4-12` form, or `None` when there are not 32 such digits.
pub fn parse_guid(s: &str) -> Option<String> {
    let mut digits = String::with_capacity(32);
    let mut hyphen_ok = false;
    for c in s.trim().chars() {
        if digits.len() == 32 {
            break;
        }
        if c.is_ascii_hexdigit() {
            digits.push(c.to_ascii_lowercase());
            hyphen_ok = matches!(digits.len(), 8 | 12 | 16 | 20);
        } else if c == '-' && hyphen_ok {
            hyphen_ok = false;
        } else {
            return None;
        }
    }
    (digits.len() == 32).then(|| {
        format!("{}-{}-{}-{}-{}", &digits[..8], &digits[8..12], &digits[12..16], &digits[16..20], &digits[20..])
    })
}

fn f_parse_guid(a: &[V]) -> Out {
    a[0].s().and_then(parse_guid).into()
}

/// Kusto's `tohex(value, min_length)`: lowercase hex of the two's complement of `value` in
/// `bits` (32 for int, 64 for long), left-padded with zeros to `min_length` (at most 16).
pub fn tohex(value: i64, bits: u32, min_length: Option<i64>) -> String {
    let hex = if bits == 32 { format!("{:x}", value as i32 as u32) } else { format!("{:x}", value as u64) };
    let width = min_length.unwrap_or(0).clamp(0, 16) as usize;
    format!("{hex:0>width$}")
}

fn tohex_row(a: &[V], bits: u32) -> Out {
    let Some(v) = a[0].i() else { return Out::Null };
    Out::S(tohex(v, bits, a.get(1).and_then(|m| m.i())))
}

fn f_tohex_int(a: &[V]) -> Out {
    tohex_row(a, 32)
}

fn f_tohex_long(a: &[V]) -> Out {
    tohex_row(a, 64)
}

/// Bind the conversion family.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    if name == "tohex" && matches!(args.len(), 1 | 2) {
        let b = &*ctx.binder;
        let mut a: Vec<Expr> = vec![match args[0].ty {
            KqlType::Int => args[0].expr.clone(),
            _ => b.coerce(args[0].clone(), KqlType::Long).expr,
        }];
        if let Some(m) = args.get(1) {
            a.push(b.coerce(m.clone(), KqlType::Long).expr);
        }
        let (f, tag): (super::array::RowFn, &str) =
            if args[0].ty == KqlType::Int { (f_tohex_int, "int") } else { (f_tohex_long, "long") };
        return Some(Ok(row_call(&format!("kql_tohex_{tag}"), KqlType::String, f, a)));
    }
    let target = match (name, args.len()) {
        ("tostring", 1) => KqlType::String,
        ("toint", 1) => KqlType::Int,
        ("tolong", 1) => KqlType::Long,
        ("todouble" | "toreal", 1) => KqlType::Real,
        ("todecimal", 1) => KqlType::Decimal,
        ("tobool" | "toboolean", 1) => KqlType::Bool,
        ("toguid", 1) => KqlType::Guid,
        ("todatetime", 1) => KqlType::DateTime,
        ("totimespan" | "time", 1) => KqlType::TimeSpan,
        _ => return None,
    };
    let b = &*ctx.binder;
    let a = args[0].clone();
    if target == KqlType::String && a.ty == KqlType::Dynamic {
        return Some(Ok(Bound::new(dynfn::tostring(a.expr), KqlType::String)));
    }
    let out = b.coerce(a, target);
    let expr = if target == KqlType::String {
        super::logical::coalesce(vec![out.expr, datafusion::logical_expr::lit("")])
    } else if matches!(target, KqlType::Int | KqlType::Long) && args[0].ty == KqlType::Real {
        // truncated toward zero; NaN, the infinities and reals past the type's range are null
        datafusion::logical_expr::try_cast(
            datafusion::functions::math::expr_fn::trunc(vec![args[0].expr.clone()]),
            arrow_type(target),
        )
    } else {
        out.expr
    };
    Some(Ok(Bound::new(expr, target)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_from_string() {
        let g = Some("01234567-89ab-cdef-0123-456789abcdef".to_string());
        assert_eq!(parse_guid("0123456789abcdef0123456789abcdef"), g);
        assert_eq!(parse_guid("0123456789ab-cdef-0123-456789abcdef"), g);
        assert_eq!(parse_guid("0123456789ABCDEF0123456789abcdef and more"), g);
        assert_eq!(parse_guid("a string that is not a guid"), None);
        assert_eq!(parse_guid("0123-456789abcdef0123456789abcdef"), None);
    }

    #[test]
    fn tohex_doc_examples() {
        assert_eq!(tohex(256, 64, None), "100");
        assert_eq!(tohex(-256, 64, None), "ffffffffffffff00");
        assert_eq!(tohex(-256, 32, Some(8)), "ffffff00");
        assert_eq!(tohex(256, 64, Some(8)), "00000100");
        assert_eq!(tohex(256, 64, Some(2)), "100");
    }

    #[test]
    fn tohex_edges() {
        assert_eq!(tohex(255, 64, Some(40)), "00000000000000ff");
        assert_eq!(tohex(0, 64, None), "0");
        assert_eq!(tohex(-1, 32, Some(-3)), "ffffffff");
        assert_eq!(tohex(i64::MIN, 64, None), "8000000000000000");
        assert_eq!(f_tohex_long(&[V::Null]), Out::Null);
        assert_eq!(f_tohex_long(&[V::I(10), V::Null]), Out::S("a".into()));
    }
}
