//! Conditionals and null tests: `iff`/`iif`, `case`, `coalesce`, `isnull`, `isnotnull`,
//! `isempty`, `isnotempty`, `not`.

use super::{dynfn, BindCtx};
use crate::binder::Bound;
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use crate::types::{is_numeric, numeric_common};
use datafusion::logical_expr::{lit, when, Expr};

/// `coalesce(a, b, ...)`.
pub fn coalesce(args: Vec<Expr>) -> Expr {
    datafusion::functions::core::expr_fn::coalesce(args)
}

/// Turn a null boolean into false (Kusto predicates never yield null).
pub fn null_false(e: Expr) -> Expr {
    coalesce(vec![e, lit(false)])
}

/// The common type of branch values.
pub fn common_type(types: &[KqlType]) -> KqlType {
    let mut t = types[0];
    for &u in &types[1..] {
        if u == t {
            continue;
        }
        t = if is_numeric(t) && is_numeric(u) {
            if t == KqlType::Int && u == KqlType::Int {
                KqlType::Int
            } else {
                numeric_common(t, u)
            }
        } else if t == KqlType::Dynamic || u == KqlType::Dynamic {
            KqlType::Dynamic
        } else {
            KqlType::String
        };
    }
    t
}

/// The type of `iff`/`case`, as Kusto types them: the branches' common type, where a `dynamic`
/// branch takes the type of the others (`case(c, split(h, ".")[0], "")` is a string); branches
/// of types with no common one (`long` and `string`) give `dynamic`.
pub fn branch_type(types: &[KqlType]) -> KqlType {
    let known: Vec<KqlType> = types.iter().copied().filter(|t| *t != KqlType::Dynamic).collect();
    let Some(&first) = known.first() else { return KqlType::Dynamic };
    if known.iter().all(|&t| t == first || (is_numeric(t) && is_numeric(first))) {
        common_type(&known)
    } else {
        KqlType::Dynamic
    }
}

/// Bind the logical family.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    Some(match (name, args.len()) {
        ("iff" | "iif", 3) => (|| {
            let c = b.as_bool(args[0].clone(), ctx.span)?;
            let t = branch_type(&[args[1].ty, args[2].ty]);
            let x = b.coerce(args[1].clone(), t).expr;
            let y = b.coerce(args[2].clone(), t).expr;
            Ok(Bound::new(when(null_false(c), x).otherwise(y)?, t))
        })(),
        ("case", n) if n >= 3 && n % 2 == 1 => (|| {
            let values: Vec<KqlType> = (0..n / 2).map(|k| args[2 * k + 1].ty).chain([args[n - 1].ty]).collect();
            let t = branch_type(&values);
            let mut w = when(null_false(b.as_bool(args[0].clone(), ctx.span)?), b.coerce(args[1].clone(), t).expr);
            for k in 1..n / 2 {
                w = w.when(
                    null_false(b.as_bool(args[2 * k].clone(), ctx.span)?),
                    b.coerce(args[2 * k + 1].clone(), t).expr,
                );
            }
            Ok(Bound::new(w.otherwise(b.coerce(args[n - 1].clone(), t).expr)?, t))
        })(),
        ("coalesce", n) if n >= 1 => {
            // Kusto's engine runs `coalesce(selected_schema, f['EventSchema'], 'Common')` (in
            // Microsoft's ASimDataTester) as a string: a dynamic argument takes the others' type
            let t = branch_type(&args.iter().map(|a| a.ty).collect::<Vec<_>>());
            let exprs: Vec<Expr> = args
                .iter()
                .map(|a| {
                    let e = b.coerce(a.clone(), t).expr;
                    // Kusto's coalesce skips empty strings too
                    if t == KqlType::String {
                        datafusion::functions::core::expr_fn::nullif(e, lit(""))
                    } else {
                        e
                    }
                })
                .collect();
            let e = coalesce(exprs);
            let e = if t == KqlType::String { coalesce(vec![e, lit("")]) } else { e };
            Ok(Bound::new(e, t))
        }
        ("isnull", 1) => Ok(Bound::new(
            match args[0].ty {
                KqlType::String => lit(false),
                _ => args[0].expr.clone().is_null(),
            },
            KqlType::Bool,
        )),
        ("isnotnull", 1) => Ok(Bound::new(
            match args[0].ty {
                KqlType::String => lit(true),
                _ => args[0].expr.clone().is_not_null(),
            },
            KqlType::Bool,
        )),
        ("isempty", 1) => Ok(Bound::new(is_empty(&args[0]), KqlType::Bool)),
        ("isnotempty" | "notempty", 1) => Ok(Bound::new(Expr::Not(Box::new(is_empty(&args[0]))), KqlType::Bool)),
        ("not", 1) => {
            b.as_bool(args[0].clone(), ctx.span).map(|e| Bound::new(Expr::Not(Box::new(null_false(e))), KqlType::Bool))
        }
        ("iff" | "iif" | "not" | "isnull" | "isnotnull" | "isempty" | "isnotempty" | "notempty", n) => {
            Err(KqlError::new("KS119", format!("The function '{name}' does not take {n} arguments."), ctx.span))
        }
        _ => return None,
    })
}

fn is_empty(a: &Bound) -> Expr {
    match a.ty {
        KqlType::String | KqlType::Guid => coalesce(vec![a.expr.clone(), lit("")]).eq(lit("")),
        KqlType::Dynamic => dynfn::is_empty(a.expr.clone()),
        _ => a.expr.clone().is_null(),
    }
}
