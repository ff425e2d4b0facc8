//! Numbers: arithmetic with Kusto's null-on-error rules, `round`, `floor`/`bin`, `abs`,
//! `ceiling`, `sqrt`, `pow`, `log`, `exp`, `min_of`/`max_of`.

use super::udf::{cached, udf, Body, UdfCache};
use super::BindCtx;
use crate::binder::Bound;
use crate::error::Result;
use crate::schema::KqlType;
use crate::types::{arrow_type, is_numeric};
use crate::value::datetime as dt;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::DataFusionError;
use datafusion::logical_expr::{cast, lit, try_cast, Expr, ScalarUDF};
use std::sync::{Arc, OnceLock};

type R<T> = std::result::Result<T, DataFusionError>;

macro_rules! math_udf {
    ($fn_name:ident, $name:expr, $ret:expr, $body:expr) => {
        fn $fn_name() -> &'static Arc<ScalarUDF> {
            static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
            U.get_or_init(|| udf($name, $ret, false, Arc::new($body) as Body))
        }
    };
}

fn i64s(a: &ArrayRef) -> &datafusion::arrow::array::PrimitiveArray<Int64Type> {
    a.as_primitive::<Int64Type>()
}
/// The value every row of `a` holds, when there is one (a literal argument, expanded).
fn constant(a: &datafusion::arrow::array::PrimitiveArray<Int64Type>) -> Option<i64> {
    if a.is_empty() || a.null_count() > 0 {
        return None;
    }
    let v = a.value(0);
    a.values().iter().all(|x| *x == v).then_some(v)
}
fn f64s(a: &ArrayRef) -> &datafusion::arrow::array::PrimitiveArray<Float64Type> {
    a.as_primitive::<Float64Type>()
}

math_udf!(div_long_udf, "kql_div_long", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (a, b) = (i64s(&args[0]), i64s(&args[1]));
    let out: Int64Array = (0..rows)
        .map(|i| if a.is_null(i) || b.is_null(i) { None } else { a.value(i).checked_div(b.value(i)) })
        .collect();
    Ok(Arc::new(out))
});

math_udf!(mod_long_udf, "kql_mod_long", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (a, b) = (i64s(&args[0]), i64s(&args[1]));
    let out: Int64Array = (0..rows)
        .map(|i| if a.is_null(i) || b.is_null(i) { None } else { a.value(i).checked_rem_euclid(b.value(i)) })
        .collect();
    Ok(Arc::new(out))
});

math_udf!(mod_real_udf, "kql_mod_real", DataType::Float64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (a, b) = (f64s(&args[0]), f64s(&args[1]));
    let out: Float64Array = (0..rows)
        .map(|i| if a.is_null(i) || b.is_null(i) { None } else { Some(a.value(i).rem_euclid(b.value(i))) })
        .collect();
    Ok(Arc::new(out))
});

/// Real remainder, as Kusto's: never negative, `0 <= x % d < abs(d)` (`-14.5 % 12` is 9.5);
/// NaN on division by zero.
pub fn mod_real(a: Expr, b: Expr) -> Expr {
    mod_real_udf().call(vec![a, b])
}

/// Integer division: null on division by zero.
pub fn div_long(a: Expr, b: Expr) -> Expr {
    div_long_udf().call(vec![a, b])
}

/// Integer remainder, as Kusto's: never negative, `0 <= n % d < abs(d)` (`-14 % 12` is 10,
/// not -2); null on division by zero.
pub fn mod_long(a: Expr, b: Expr) -> Expr {
    mod_long_udf().call(vec![a, b])
}

/// Real division (IEEE: x/0 is ±infinity or NaN).
pub fn div_real(a: Expr, b: Expr) -> Expr {
    datafusion::logical_expr::binary_expr(a, datafusion::logical_expr::Operator::Divide, b)
}

// `pow(x, y)` as IEEE 754 has it: `pow(0, -1)` is infinity, as in Kusto (DataFusion's `power`
// fails the query on a zero base with a negative exponent).
math_udf!(pow_udf, "kql_pow", DataType::Float64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (x, y) = (f64s(&args[0]), f64s(&args[1]));
    let out: Float64Array = (0..rows)
        .map(|i| if x.is_null(i) || y.is_null(i) { None } else { Some(x.value(i).powf(y.value(i))) })
        .collect();
    Ok(Arc::new(out))
});

math_udf!(round_udf, "kql_round", DataType::Float64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let x = f64s(&args[0]);
    let p = i64s(&args[1]);
    let out: Float64Array = (0..rows)
        .map(|i| {
            if x.is_null(i) || p.is_null(i) {
                return None;
            }
            let m = 10f64.powi(p.value(i) as i32);
            // half away from zero, as .NET Math.Round(x, n, MidpointRounding.AwayFromZero)
            let v = x.value(i) * m;
            let r = v.round();
            // correct binary representation artifacts like 2.675 * 100 = 267.49999
            let r = if (v - v.trunc()).abs() > 0.4999999999 && (v - v.trunc()).abs() < 0.5 {
                v.trunc() + v.signum()
            } else {
                r
            };
            Some(r / m)
        })
        .collect();
    Ok(Arc::new(out))
});

math_udf!(bin_long_udf, "kql_bin_long", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (x, s) = (i64s(&args[0]), i64s(&args[1]));
    // the usual call, `bin(TimeGenerated, 1h)`: one size for every row, a vectorized loop
    if let Some(size) = constant(s) {
        return Ok(Arc::new(x.unary_opt::<_, Int64Type>(|v| dt::bin_ticks(v, size))));
    }
    let out: Int64Array = (0..rows)
        .map(|i| if x.is_null(i) || s.is_null(i) { None } else { dt::bin_ticks(x.value(i), s.value(i)) })
        .collect();
    Ok(Arc::new(out))
});

math_udf!(bin_real_udf, "kql_bin_real", DataType::Float64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (x, s) = (f64s(&args[0]), f64s(&args[1]));
    let out: Float64Array = (0..rows)
        .map(|i| {
            if x.is_null(i) || s.is_null(i) || s.value(i) <= 0.0 {
                None
            } else {
                Some((x.value(i) / s.value(i)).floor() * s.value(i))
            }
        })
        .collect();
    Ok(Arc::new(out))
});

math_udf!(bin_at_udf, "kql_bin_at_long", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (x, s, f) = (i64s(&args[0]), i64s(&args[1]), i64s(&args[2]));
    let out: Int64Array = (0..rows)
        .map(|i| {
            if x.is_null(i) || s.is_null(i) || f.is_null(i) {
                None
            } else {
                dt::bin_at_ticks(x.value(i), s.value(i), f.value(i))
            }
        })
        .collect();
    Ok(Arc::new(out))
});

/// `bin(x, size)` for any binnable type.
pub fn bin(b: &crate::binder::Binder, x: Bound, size: Bound) -> Bound {
    match x.ty {
        KqlType::Real | KqlType::Decimal => {
            let e = bin_real_udf().call(vec![x.expr, b.coerce(size, KqlType::Real).expr]);
            Bound::new(e, KqlType::Real)
        }
        KqlType::DateTime | KqlType::TimeSpan | KqlType::Long | KqlType::Int => {
            if x.ty != KqlType::Int && matches!(size.ty, KqlType::Real) {
                // a bin past the range of a long (of `long`'s maximum by 0.5) is null
                let e =
                    try_cast(bin_real_udf().call(vec![cast(x.expr, DataType::Float64), size.expr]), DataType::Int64);
                return Bound::new(e, if x.ty == KqlType::Int { KqlType::Long } else { x.ty });
            }
            let t = if x.ty == KqlType::Int { KqlType::Long } else { x.ty };
            let e = bin_long_udf().call(vec![b.coerce(x, KqlType::Long).expr, b.coerce(size, KqlType::Long).expr]);
            Bound::new(e, t)
        }
        _ => Bound::new(crate::binder::scalar::typed_null(x.ty), x.ty),
    }
}

fn unary_real(name: &str, f: fn(f64) -> f64, x: Expr) -> Expr {
    static CACHE: UdfCache<String> = OnceLock::new();
    let u = cached(&CACHE, name.to_string(), || {
        udf(
            &format!("kql_{name}"),
            DataType::Float64,
            false,
            Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
                let a = f64s(&args[0]);
                let out: Float64Array =
                    (0..rows).map(|i| if a.is_null(i) { None } else { Some(f(a.value(i))) }).collect();
                Ok(Arc::new(out))
            }),
        )
    });
    u.call(vec![x])
}

/// Bind the math family.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    let r = |k: usize| b.coerce(args[k].clone(), KqlType::Real).expr;
    let n = args.len();
    let out = match (name, n) {
        ("round", 1 | 2) => {
            let p = if n == 2 { b.coerce(args[1].clone(), KqlType::Long).expr } else { lit(0i64) };
            let e = round_udf().call(vec![r(0), p]);
            if is_numeric(args[0].ty) && !matches!(args[0].ty, KqlType::Real | KqlType::Decimal) {
                // rounded past the type's range (an int's smallest to tens): null
                Bound::new(try_cast(e, arrow_type(args[0].ty)), args[0].ty)
            } else {
                Bound::new(e, KqlType::Real)
            }
        }
        ("floor" | "bin", 2) => bin(b, args[0].clone(), args[1].clone()),
        ("bin_auto", 1) => {
            // bin_at(x, size, at) with the query's `set query_bin_auto_size` / `query_bin_auto_at`
            let Some(size) = b.query_options.get("query_bin_auto_size").cloned() else {
                if b.options.check_only {
                    // the size may come as a client request property: not an error to check
                    let ty = args[0].ty;
                    return Some(Ok(Bound::new(crate::binder::scalar::typed_null(ty), ty)));
                }
                return Some(Err(crate::KqlError::new(
                    "KQL081",
                    "bin_auto needs the bin size: add `set query_bin_auto_size = 1h;` before the query",
                    ctx.span,
                )));
            };
            let mut with = vec![args[0].clone(), size];
            if let Some(at) = b.query_options.get("query_bin_auto_at").cloned() {
                with.push(at);
                return bind(ctx, "bin_at", &with);
            }
            return bind(ctx, "bin", &with);
        }
        ("bin_at", 3) => {
            let t = if args[0].ty == KqlType::Int { KqlType::Long } else { args[0].ty };
            if matches!(t, KqlType::Real | KqlType::Decimal) {
                let x = r(0);
                let (s, f) = (r(1), r(2));
                let e = datafusion::logical_expr::binary_expr(
                    bin_real_udf().call(vec![x - f.clone(), s]),
                    datafusion::logical_expr::Operator::Plus,
                    f,
                );
                Bound::new(e, KqlType::Real)
            } else {
                let e = bin_at_udf().call(vec![
                    b.coerce(args[0].clone(), KqlType::Long).expr,
                    b.coerce(args[1].clone(), KqlType::Long).expr,
                    b.coerce(args[2].clone(), KqlType::Long).expr,
                ]);
                Bound::new(e, t)
            }
        }
        ("abs", 1) => match args[0].ty {
            KqlType::Real | KqlType::Decimal => {
                Bound::new(datafusion::functions::math::expr_fn::abs(r(0)), KqlType::Real)
            }
            t => {
                // `abs` of the smallest integer wraps to itself, as `-x` does (DataFusion's
                // `abs` fails on it)
                let x = args[0].expr.clone();
                let zero = cast(lit(0i64), arrow_type(t));
                let neg = zero.clone() - x.clone();
                match datafusion::logical_expr::when(x.clone().lt(zero), neg).otherwise(x) {
                    Ok(e) => Bound::new(e, t),
                    Err(e) => return Some(Err(e.into())),
                }
            }
        },
        ("ceiling", 1) => Bound::new(unary_real("ceiling", f64::ceil, r(0)), KqlType::Real),
        ("sqrt", 1) => Bound::new(unary_real("sqrt", f64::sqrt, r(0)), KqlType::Real),
        ("exp", 1) => Bound::new(unary_real("exp", f64::exp, r(0)), KqlType::Real),
        ("exp2", 1) => Bound::new(unary_real("exp2", f64::exp2, r(0)), KqlType::Real),
        ("exp10", 1) => Bound::new(unary_real("exp10", |x| 10f64.powf(x), r(0)), KqlType::Real),
        ("log", 1) => Bound::new(unary_real("log", f64::ln, r(0)), KqlType::Real),
        ("log2", 1) => Bound::new(unary_real("log2", f64::log2, r(0)), KqlType::Real),
        ("log10", 1) => Bound::new(unary_real("log10", f64::log10, r(0)), KqlType::Real),
        ("pow", 2) => Bound::new(pow_udf().call(vec![r(0), r(1)]), KqlType::Real),
        ("sign", 1) => Bound::new(
            unary_real(
                "sign",
                |x| {
                    if x > 0.0 {
                        1.0
                    } else if x < 0.0 {
                        -1.0
                    } else {
                        0.0
                    }
                },
                r(0),
            ),
            KqlType::Real,
        ),
        ("isnan", 1) => Bound::new(datafusion::functions::math::expr_fn::isnan(r(0)), KqlType::Bool),
        ("isinf", 1) => {
            Bound::new(datafusion::functions::math::expr_fn::abs(r(0)).eq(lit(f64::INFINITY)), KqlType::Bool)
        }
        ("isfinite", 1) => {
            let x = r(0);
            Bound::new(
                datafusion::functions::math::expr_fn::abs(x.clone())
                    .not_eq(lit(f64::INFINITY))
                    .and(Expr::Not(Box::new(datafusion::functions::math::expr_fn::isnan(x)))),
                KqlType::Bool,
            )
        }
        ("max_of" | "min_of", _) if n >= 1 => {
            let t = super::logical::common_type(&args.iter().map(|a| a.ty).collect::<Vec<_>>());
            let exprs: Vec<Expr> = args.iter().map(|a| b.coerce(a.clone(), t).expr).collect();
            let e = if name == "max_of" {
                datafusion::functions::core::expr_fn::greatest(exprs)
            } else {
                datafusion::functions::core::expr_fn::least(exprs)
            };
            Bound::new(e, t)
        }
        _ => return None,
    };
    Some(Ok(out))
}
