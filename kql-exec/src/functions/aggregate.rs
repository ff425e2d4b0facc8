//! Aggregations and `summarize`: `count`, `countif`, `dcount`, `sum`, `avg`, `min`, `max`
//! (and their `*if` forms), `make_set`, `make_list`, `make_bag`, `buildschema`, `take_any`, `arg_max`,
//! `arg_min`, `percentile(s)`, `stdev`, `variance`, `covariance(p)(if)`.
//!
//! An aggregate may sit inside a scalar expression (`round(avg(x), 2)`): each aggregate call
//! becomes an internal column of the DataFusion aggregation, and the expression around it is
//! evaluated in a projection after it. Group keys come first in the output, then aggregates.

use super::catalog;
use crate::binder::naming::{next_column_name, unique};
use crate::binder::scalar::column;
use crate::binder::{Binder, Bound, Col, NameHint, Rel};
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use crate::types::arrow_type;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::ExprFunctionExt;
use datafusion::logical_expr::{
    cast, lit, when, Accumulator, AggregateUDF, AggregateUDFImpl, Expr, LogicalPlanBuilder, Signature, Volatility,
};
use kql_parser::ast::{self, ExprKind};
use kql_parser::Span;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

/// Names of the aggregation functions this engine implements.
const AGGREGATES: &[&str] = &[
    "count",
    "countif",
    "dcount",
    "dcountif",
    "sum",
    "sumif",
    "avg",
    "avgif",
    "min",
    "max",
    "minif",
    "maxif",
    "make_set",
    "makeset",
    "make_set_if",
    "make_list",
    "makelist",
    "make_list_if",
    "make_bag",
    "make_bag_if",
    "buildschema",
    "take_any",
    "any",
    "take_anyif",
    "anyif",
    "arg_max",
    "arg_min",
    "argmax",
    "argmin",
    "stdev",
    "stdevp",
    "variance",
    "variancep",
    "variancepif",
    "count_distinct",
    "count_distinctif",
    "binary_all_and",
    "binary_all_or",
    "binary_all_xor",
    "stdevif",
    "varianceif",
    "covariance",
    "covariancep",
    "covarianceif",
    "covariancepif",
    "percentile",
    "percentiles",
    "percentiles_array",
    "percentilew",
    "percentilesw",
    "percentilesw_array",
    "make_list_with_nulls",
    "tdigest",
    "tdigest_merge",
    "merge_tdigest",
    "hll",
    "hll_if",
    "hll_merge",
];

/// True if `name` is an aggregation function (Kusto's or ours).
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name) || catalog::aggregate(name).is_some()
}

/// One DataFusion aggregate computed for the summarize.
struct AggOut {
    expr: Expr,
    name: String,
    ty: KqlType,
    /// Turns the aggregate's value into the column's (the min/max of reals are taken over an
    /// integer key, then decoded).
    finish: Option<fn(Expr) -> Expr>,
    /// Its value over no rows at all (a `summarize` without `by` of an empty input) when that
    /// is not DataFusion's: see [`over_no_rows`].
    empty: Option<Expr>,
}

/// A percentile's percentage when it is a constant: a literal, or an expression of no column
/// that folds to one (`99` passed to a `real` parameter of a function is `real(99)`).
fn constant_percent(b: &Binder, p: &Bound, span: Span) -> Option<f64> {
    if let Some(v) = super::arg_i64_const(p) {
        return Some(v as f64);
    }
    if let Expr::Literal(ScalarValue::Float64(Some(f)), _) = &p.expr {
        return Some(*f);
    }
    if !p.expr.column_refs().is_empty()
        || !matches!(p.ty, KqlType::Real | KqlType::Long | KqlType::Int | KqlType::Decimal)
    {
        return None;
    }
    match b.const_value(p.expr.clone(), KqlType::Real, span).ok()? {
        ScalarValue::Float64(Some(f)) => Some(f),
        _ => None,
    }
}

/// Kusto's value of an aggregate over an empty input without `by` keys, where DataFusion's
/// differs (null): `sum`, `sumif`, `variance(if)` and `stdev(if)` give 0, `avg(if)` NaN (a
/// division by zero), and the sketches `hll` and `tdigest` null (the summarize operator's page,
/// "default values of aggregations").
fn over_no_rows(name: &str, ty: KqlType) -> Option<Expr> {
    match name {
        "sum" | "sumif" => Some(if ty == KqlType::Real { lit(0.0f64) } else { lit(0i64) }),
        "variance" | "varianceif" | "stdev" | "stdevif" => Some(lit(0.0f64)),
        "avg" | "avgif" if ty == KqlType::Real => Some(lit(f64::NAN)),
        "hll" | "hll_if" | "tdigest" => Some(crate::binder::scalar::typed_null(ty)),
        _ => None,
    }
}

struct Collector<'r> {
    input: &'r Rel,
    aggs: Vec<AggOut>,
}

/// Bind `summarize aggs by keys`.
pub fn bind_summarize(
    b: &mut Binder,
    rel: Rel,
    aggs: &[ast::ColumnAssign],
    by: &[ast::ColumnAssign],
    span: Span,
) -> Result<Rel> {
    // 1. group keys
    let mut key_cols: Vec<Col> = Vec::new();
    let mut key_exprs: Vec<Expr> = Vec::new();
    for k in by {
        let bound = b.bind_scalar(&k.expr, &rel)?;
        // Kusto.Language accepts dynamic keys; they group by their JSON text here.
        let taken: Vec<String> = key_cols.iter().map(|c| c.name.clone()).collect();
        let name = match (k.names.first(), &bound.hint) {
            (Some(n), _) => n.name.clone(),
            (None, NameHint::Name(n)) => unique(n, &taken),
            (None, NameHint::None) => next_column_name(&taken),
        };
        key_exprs.push(bound.expr.alias(&name));
        key_cols.push(Col::new(name, bound.ty));
    }
    // 2. aggregates (possibly inside expressions)
    let mut col = Collector { input: &rel, aggs: Vec::new() };
    let mut outputs: Vec<(Vec<String>, ast::Expr, Option<Vec<(String, KqlType)>>)> = Vec::new();
    for item in aggs {
        // arg_max / arg_min expand to several columns
        if let ExprKind::Call { name, args, target: None } = &item.expr.kind {
            if matches!(name.name.as_str(), "arg_max" | "arg_min" | "argmax" | "argmin") {
                let multi = bind_arg_extreme(b, &mut col, &name.name, args, &key_cols, item.expr.span)?;
                outputs.push((item.names.iter().map(|n| n.name.clone()).collect(), item.expr.clone(), Some(multi)));
                continue;
            }
            // take_any(*), take_any(a, b, ...) and any(...) give one column per argument
            let star_or_many = args.len() > 1 || args.iter().any(|a| matches!(a.expr().kind, ExprKind::Star));
            if matches!(name.name.as_str(), "take_any" | "any") && star_or_many && !is_user_function(b, &name.name) {
                let multi = bind_take_any_many(b, &mut col, &name.name, args, &key_cols)?;
                outputs.push((item.names.iter().map(|n| n.name.clone()).collect(), item.expr.clone(), Some(multi)));
                continue;
            }
            // one column per percentile, named by the k-th name of `(a, b) = percentiles(...)`;
            // `percentilesw(x, w, p...)` the same, weighted
            let weighted_many = name.name == "percentilesw";
            let first_p = if weighted_many { 2 } else { 1 };
            if (name.name == "percentiles" || weighted_many) && args.len() > first_p && !is_user_function(b, &name.name)
            {
                for (k, p) in args[first_p..].iter().enumerate() {
                    let call = if weighted_many {
                        percentilew_call(&args[0], &args[1], p.expr().clone(), name.span, item.expr.span)
                    } else {
                        percentile_call(&args[0], p.expr().clone(), name.span, item.expr.span)
                    };
                    let rewritten = rewrite(b, &mut col, &call)?;
                    outputs.push((
                        item.names.get(k).map(|n| vec![n.name.clone()]).unwrap_or_default(),
                        rewritten,
                        None,
                    ));
                }
                continue;
            }
            let weighted = name.name == "percentilesw_array";
            let min_args = if weighted { 3 } else { 2 };
            if (name.name == "percentiles_array" || weighted)
                && args.len() >= min_args
                && !is_user_function(b, &name.name)
            {
                // one internal percentile per value, packed into one dynamic array
                let x = b.bind_scalar(args[0].expr(), &rel)?;
                let mut elems = Vec::new();
                for p in percentile_values(b, &args[min_args - 1..], item.expr.span)? {
                    let lit_p = ast::Expr::new(ExprKind::Literal(ast::Literal::Real(Some(p))), item.expr.span);
                    let call = if weighted {
                        percentilew_call(&args[0], &args[1], lit_p, name.span, item.expr.span)
                    } else {
                        percentile_call(&args[0], lit_p, name.span, item.expr.span)
                    };
                    elems.push(ast::Arg::Positional(rewrite(b, &mut col, &call)?));
                }
                let pack = ast::Expr::new(
                    ExprKind::Call { target: None, name: ast::Ident::new("pack_array", name.span), args: elems },
                    item.expr.span,
                );
                let default = format!("percentiles_{}", catalog::arg_name(&x).unwrap_or_default());
                let names: Vec<String> = item.names.iter().map(|n| n.name.clone()).collect();
                outputs.push((if names.is_empty() { vec![default] } else { names }, pack, None));
                continue;
            }
        }
        let rewritten = rewrite(b, &mut col, &item.expr)?;
        outputs.push((item.names.iter().map(|n| n.name.clone()).collect(), rewritten, None));
    }
    let agg_list = std::mem::take(&mut col.aggs);
    // 3. the DataFusion aggregation; without keys, the rows it read are counted when an
    // aggregate's value over no rows differs from DataFusion's
    const ROWS: &str = "__agg_rows";
    let count_rows = key_exprs.is_empty() && agg_list.iter().any(|a| a.empty.is_some());
    let mut agg_exprs: Vec<Expr> = agg_list.iter().map(|a| a.expr.clone().alias(&a.name)).collect();
    if count_rows {
        agg_exprs.push(agg::count(lit(1i64)).alias(ROWS));
    }
    let mut plan = LogicalPlanBuilder::from(rel.plan.clone()).aggregate(key_exprs, agg_exprs)?.build()?;
    if count_rows || agg_list.iter().any(|a| a.finish.is_some()) {
        let mut exprs: Vec<Expr> = key_cols.iter().map(|c| column(&c.name)).collect();
        for a in &agg_list {
            let v = match a.finish {
                Some(f) => f(column(&a.name)),
                None => column(&a.name),
            };
            let v = match (&a.empty, count_rows) {
                (Some(d), true) => when(column(ROWS).eq(lit(0i64)), d.clone()).otherwise(v)?,
                _ => v,
            };
            exprs.push(v.alias(&a.name));
        }
        plan = LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
    }
    let mut post_cols: Vec<Col> = key_cols.clone();
    for a in &agg_list {
        post_cols.push(Col::new(&a.name, a.ty));
    }
    let post = Rel { plan, cols: post_cols, render: None, name: None, open: false };
    // 4. the projection: keys, then each output
    let mut out_cols: Vec<Col> = key_cols.clone();
    let mut exprs: Vec<Expr> = key_cols.iter().map(|c| column(&c.name)).collect();
    b.renamed_aggregates.clear();
    for (names, e, multi) in outputs {
        if let Some(multi) = multi {
            for (k, (internal, ty)) in multi.into_iter().enumerate() {
                let taken: Vec<String> = out_cols.iter().map(|c| c.name.clone()).collect();
                let base = names.get(k).cloned().unwrap_or_else(|| display_name(&internal));
                let name = unique(&base, &taken);
                exprs.push(column(&internal).alias(&name));
                out_cols.push(Col::new(name, ty));
            }
            continue;
        }
        let bound = b.bind_scalar(&e, &post)?;
        if let (Some(n), NameHint::Name(h)) = (names.first(), &bound.hint) {
            let default = display_name(h);
            if &default != n {
                b.renamed_aggregates.push((default, n.clone()));
            }
        }
        let taken: Vec<String> = out_cols.iter().map(|c| c.name.clone()).collect();
        let name = match (names.first(), &bound.hint) {
            (Some(n), _) => unique(n, &taken),
            (None, NameHint::Name(n)) => unique(&display_name(n), &taken),
            (None, NameHint::None) => next_column_name(&taken),
        };
        exprs.push(bound.expr.alias(&name));
        out_cols.push(Col::new(name, bound.ty));
    }
    let _ = span;
    let plan = LogicalPlanBuilder::from(post.plan).project(exprs)?.build()?;
    Ok(Rel { plan, cols: out_cols, render: None, name: None, open: false })
}

/// `percentile(x, p)` as a call expression.
fn percentile_call(x: &ast::Arg, p: ast::Expr, name_span: Span, span: Span) -> ast::Expr {
    ast::Expr::new(
        ExprKind::Call {
            target: None,
            name: ast::Ident::new("percentile", name_span),
            args: vec![x.clone(), ast::Arg::Positional(p)],
        },
        span,
    )
}

/// `percentilew(x, w, p)` as a call expression.
fn percentilew_call(x: &ast::Arg, w: &ast::Arg, p: ast::Expr, name_span: Span, span: Span) -> ast::Expr {
    ast::Expr::new(
        ExprKind::Call {
            target: None,
            name: ast::Ident::new("percentilew", name_span),
            args: vec![x.clone(), w.clone(), ast::Arg::Positional(p)],
        },
        span,
    )
}

/// The constant percentages of `percentiles_array(x, p1, p2...)` or `percentiles_array(x,
/// dynamic([p1, p2...]))`.
fn percentile_values(b: &mut Binder, args: &[ast::Arg], span: Span) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for a in args {
        let c = b.bind_constant(a.expr())?;
        let v = match (&c.expr, c.ty) {
            (Expr::Literal(ScalarValue::Utf8(Some(t)), _), KqlType::Dynamic) => match dj::array_elements(t) {
                Some(items) => items.into_iter().map(dj::as_f64).collect::<Option<Vec<f64>>>(),
                None => dj::as_f64(t).map(|f| vec![f]),
            },
            (Expr::Literal(ScalarValue::Float64(Some(f)), _), _) => Some(vec![*f]),
            _ => super::arg_i64_const(&c).map(|i| vec![i as f64]),
        };
        match v {
            Some(v) => out.extend(v),
            None => return Err(KqlError::new("KQL091", "percentiles_array needs constant percentages", span)),
        }
    }
    Ok(out)
}

/// Internal aggregate columns carry their Kusto name after a marker.
fn display_name(internal: &str) -> String {
    match internal.split_once("__as__") {
        Some((_, n)) => n.to_string(),
        None => internal.to_string(),
    }
}

/// Replace each aggregate call in `e` by a reference to an internal column.
fn rewrite(b: &mut Binder, col: &mut Collector, e: &ast::Expr) -> Result<ast::Expr> {
    use ExprKind as K;
    let mk = |kind: K| ast::Expr::new(kind, e.span);
    Ok(match &e.kind {
        K::Call { target: None, name, args } if is_aggregate(&name.name) && !is_user_function(b, &name.name) => {
            let internal = bind_aggregate(b, col, &name.name, args, e.span)?;
            mk(K::Name(ast::Ident::new(internal, e.span)))
        }
        K::Call { target, name, args } => {
            let mut new_args = Vec::new();
            for a in args {
                new_args.push(match a {
                    ast::Arg::Positional(x) => ast::Arg::Positional(rewrite(b, col, x)?),
                    ast::Arg::Named(n) => {
                        ast::Arg::Named(ast::NamedArg { name: n.name.clone(), value: rewrite(b, col, &n.value)? })
                    }
                });
            }
            mk(K::Call { target: target.clone(), name: name.clone(), args: new_args })
        }
        K::Binary { op, left, right } => {
            mk(K::Binary { op: *op, left: Box::new(rewrite(b, col, left)?), right: Box::new(rewrite(b, col, right)?) })
        }
        K::Unary { op, operand } => mk(K::Unary { op: *op, operand: Box::new(rewrite(b, col, operand)?) }),
        K::Paren(x) => mk(K::Paren(Box::new(rewrite(b, col, x)?))),
        K::Member { target, name } => mk(K::Member { target: Box::new(rewrite(b, col, target)?), name: name.clone() }),
        K::Index { target, index } => {
            mk(K::Index { target: Box::new(rewrite(b, col, target)?), index: Box::new(rewrite(b, col, index)?) })
        }
        K::Name(id) => {
            // a bare column outside an aggregate is not allowed in summarize
            if col.input.col(&id.name).is_some() && b.scope.get(&id.name).is_none() {
                return Err(KqlError::new(
                    "KQL090",
                    format!("`{}` must be inside an aggregation function (or be a `by` key)", id.name),
                    id.span,
                )
                .with_help(format!("use take_any({}) or add it to `by`", id.name)));
            }
            e.clone()
        }
        _ => e.clone(),
    })
}

fn is_user_function(b: &Binder, n: &str) -> bool {
    matches!(b.scope.get(n), Some(crate::binder::Binding::Function(..))) || b.catalog.function(n).is_some()
}

fn push(col: &mut Collector, expr: Expr, display: String, ty: KqlType) -> String {
    let internal = format!("__agg{}__as__{}", col.aggs.len(), display);
    col.aggs.push(AggOut { expr, name: internal.clone(), ty, finish: None, empty: None });
    internal
}

/// Bind one aggregate call; returns the internal column name (its Kusto display name is
/// encoded after `__as__`).
fn bind_aggregate(b: &mut Binder, col: &mut Collector, name: &str, args: &[ast::Arg], span: Span) -> Result<String> {
    let input = col.input;
    let mut bound: Vec<Bound> = Vec::new();
    for a in args {
        if matches!(a.expr().kind, ExprKind::Star) {
            bound.push(Bound::new(lit(1i64), KqlType::Long));
            continue;
        }
        bound.push(b.bind_scalar(a.expr(), input)?);
    }
    let display = match catalog::result_name_with(catalog::aggregate(name), name, &bound) {
        NameHint::Name(n) => n,
        NameHint::None => format!("{name}_"),
    };
    let display = match name {
        "percentile" | "percentiles" | "percentilew" | "percentilesw"
            if bound.len() == 2 || (name.ends_with('w') && bound.len() == 3) =>
        {
            let p = match &bound[bound.len() - 1].expr {
                Expr::Literal(v, _) => v.to_string().replace('.', "_"),
                _ => String::new(),
            };
            format!("percentile_{}_{p}", catalog::arg_name(&bound[0]).unwrap_or_default())
        }
        // Kusto names an unnamed covariance after both columns: `covariance_x_y`
        "covariance" | "covariancep" | "covarianceif" | "covariancepif" if bound.len() >= 2 => {
            match (catalog::arg_name(&bound[0]), catalog::arg_name(&bound[1])) {
                (Some(x), Some(y)) => format!("{name}_{x}_{y}"),
                _ => display,
            }
        }
        _ => display,
    };
    let pred = |b: &Binder, k: usize| -> Result<Expr> {
        let p =
            bound.get(k).cloned().ok_or_else(|| KqlError::new("KS119", format!("{name}() needs a predicate"), span))?;
        Ok(super::logical::null_false(b.as_bool(p, span)?))
    };
    let arg = |k: usize| -> Result<Bound> {
        bound.get(k).cloned().ok_or_else(|| KqlError::new("KS119", format!("{name}() is missing an argument"), span))
    };
    let only_if = |p: Expr, x: Expr| -> Result<Expr> { Ok(when(p, x).end()?) };
    let (expr, ty) = match name {
        "count" => (agg::count(lit(1i64)), KqlType::Long),
        "countif" => {
            let p = pred(b, 0)?;
            (agg::count(lit(1i64)).filter(p).build()?, KqlType::Long)
        }
        "dcount" => (agg::count_distinct(arg(0)?.expr), KqlType::Long),
        "dcountif" => (agg::count_distinct(arg(0)?.expr).filter(pred(b, 1)?).build()?, KqlType::Long),
        "sum" | "sumif" => {
            let x = arg(0)?;
            let t = sum_type(x.ty);
            let xe = b.coerce(x, if t == KqlType::Real { KqlType::Real } else { KqlType::Long }).expr;
            let xe = if name == "sumif" { only_if(pred(b, 1)?, xe)? } else { xe };
            (agg::sum(xe), t)
        }
        "avg" | "avgif" => {
            let x = arg(0)?;
            let t = if x.ty == KqlType::TimeSpan { KqlType::TimeSpan } else { KqlType::Real };
            let xe = b.coerce(x, KqlType::Real).expr;
            let xe = if name == "avgif" { only_if(pred(b, 1)?, xe)? } else { xe };
            let e = agg::avg(xe);
            (if t == KqlType::TimeSpan { cast(e, DataType::Int64) } else { e }, t)
        }
        "min" | "max" | "minif" | "maxif" => {
            let x = arg(0)?;
            let t = x.ty;
            let xe = if t == KqlType::Dynamic {
                // Kusto's analyzer: KS206 at the argument
                let at = args.first().map_or(span, |a| a.expr().span);
                return Err(KqlError::new(
                    "KS206",
                    "The argument value must be orderable: a number, timespan, datetime, string or boolean.",
                    at,
                ));
            } else {
                x.expr
            };
            // (the key makes every NaN the positive one, as `one_nan` does elsewhere)
            let real = t == KqlType::Real;
            let xe = if real { real_key_udf().call(vec![xe]) } else { xe };
            let xe = if name.ends_with("if") { only_if(pred(b, 1)?, xe)? } else { xe };
            let e = if name.starts_with("min") { agg::min(xe) } else { agg::max(xe) };
            if real {
                // DataFusion's grouped min/max of floats compare with `>`, which a NaN never
                // passes: the answer depended on where the NaN fell. Over the key, the order is
                // total, NaN above every number.
                let internal = format!("__agg{}__as__{}", col.aggs.len(), display);
                col.aggs.push(AggOut {
                    expr: e,
                    name: internal.clone(),
                    ty: t,
                    finish: Some(real_from_key),
                    empty: None,
                });
                return Ok(internal);
            }
            (e, t)
        }
        "take_any" | "any" | "take_anyif" | "anyif" => {
            let x = arg(0)?;
            let t = x.ty;
            let xe = if name.ends_with("if") { only_if(pred(b, 1)?, x.expr)? } else { x.expr };
            let display = if name.starts_with("take") {
                catalog::arg_name(&bound[0]).unwrap_or_else(|| "any_arg0".into())
            } else {
                display.clone()
            };
            let e = agg::first_value(xe, vec![]);
            return Ok(push(col, e, display, t));
        }
        "make_set" | "makeset" | "make_list" | "makelist" | "make_set_if" | "make_list_if" | "make_list_with_nulls" => {
            let x = arg(0)?;
            let is_set = name.contains("set");
            let is_if = name.ends_with("_if");
            let max_ix = if is_if { 2 } else { 1 };
            let limit = match bound.get(max_ix) {
                Some(m) => super::arg_i64_const(m).map(|v| v.max(0) as usize),
                None => None,
            };
            let xe = b.coerce(x, KqlType::Dynamic).expr;
            let xe = if is_if { only_if(pred(b, 1)?, xe)? } else { xe };
            let u = collect_udaf(
                if is_set { CollectKind::Set } else { CollectKind::List },
                limit,
                name == "make_list_with_nulls",
            );
            (u.call(vec![xe]), KqlType::Dynamic)
        }
        "make_bag" | "make_bag_if" => {
            let x = arg(0)?;
            let xe = b.coerce(x, KqlType::Dynamic).expr;
            let xe = if name.ends_with("_if") { only_if(pred(b, 1)?, xe)? } else { xe };
            (collect_udaf(CollectKind::Bag, None, false).call(vec![xe]), KqlType::Dynamic)
        }
        "buildschema" => {
            let xe = b.coerce(arg(0)?, KqlType::Dynamic).expr;
            (super::buildschema::buildschema_udaf().call(vec![xe]), KqlType::Dynamic)
        }
        "stdev" | "stdevif" => {
            let xe = b.coerce(arg(0)?, KqlType::Real).expr;
            let xe = if name.ends_with("if") { only_if(pred(b, 1)?, xe)? } else { xe };
            (agg::stddev(xe), KqlType::Real)
        }
        "stdevp" => (agg::stddev_pop(b.coerce(arg(0)?, KqlType::Real).expr), KqlType::Real),
        "variance" | "varianceif" => {
            let xe = b.coerce(arg(0)?, KqlType::Real).expr;
            let xe = if name.ends_with("if") { only_if(pred(b, 1)?, xe)? } else { xe };
            (agg::var_sample(xe), KqlType::Real)
        }
        "variancep" | "variancepif" => {
            let xe = b.coerce(arg(0)?, KqlType::Real).expr;
            let xe = if name.ends_with("if") { only_if(pred(b, 1)?, xe)? } else { xe };
            (agg::var_pop(xe), KqlType::Real)
        }
        // the exact count of distinct values (dcount's estimate is exact here too)
        "count_distinct" => (agg::count_distinct(arg(0)?.expr), KqlType::Long),
        "count_distinctif" => (agg::count_distinct(arg(0)?.expr).filter(pred(b, 1)?).build()?, KqlType::Long),
        // bitwise and/or/xor of the non-null values (null when there are none)
        "binary_all_and" | "binary_all_or" | "binary_all_xor" => {
            let xe = b.coerce(arg(0)?, KqlType::Long).expr;
            let e = match name {
                "binary_all_and" => agg::bit_and(xe),
                "binary_all_or" => agg::bit_or(xe),
                _ => agg::bit_xor(xe),
            };
            (e, KqlType::Long)
        }
        "covariance" | "covariancep" | "covarianceif" | "covariancepif" => {
            let xe = b.coerce(arg(0)?, KqlType::Real).expr;
            let ye = b.coerce(arg(1)?, KqlType::Real).expr;
            // rows where x or y is null are skipped, as are rows failing the predicate
            let e = if name.starts_with("covariancep") { agg::covar_pop(xe, ye) } else { agg::covar_samp(xe, ye) };
            let e = if name.ends_with("if") { e.filter(pred(b, 2)?).build()? } else { e };
            (e, KqlType::Real)
        }
        // `percentiles` with several percentages only expands at the top of a summarize item
        "percentile" | "percentiles" if name == "percentile" || bound.len() == 2 => {
            let x = arg(0)?;
            let Some(p) = constant_percent(b, &bound[1], span) else {
                return Err(KqlError::new("KQL091", "percentile needs a constant percentage", span));
            };
            let t = x.ty;
            let xe = b.coerce(x, KqlType::Real).expr;
            let e = percentile_udaf(p).call(vec![xe]);
            // (a percentile of longs near the maximum, computed as a real, can fall past it: null)
            let e = if t == KqlType::Real { e } else { datafusion::logical_expr::try_cast(e, arrow_type(t)) };
            (e, t)
        }
        "percentilew" | "percentilesw" if bound.len() == 3 => {
            let Some(p) = constant_percent(b, &bound[2], span) else {
                return Err(KqlError::new("KQL091", "percentilew needs a constant percentage", span));
            };
            super::sketch::weighted_percentile(b, arg(0)?, arg(1)?, p, span)?
        }
        _ if super::sketch::is_sketch_aggregate(name) => super::sketch::bind_aggregate(b, name, &bound, span)?,
        _ => {
            let err = KqlError::new("KQL092", format!("the aggregation '{name}' is not supported yet"), span);
            if b.options.check_only {
                b.not_runnable.push(err);
                return Ok(push(col, agg::count(lit(1i64)), display, KqlType::Dynamic));
            }
            return Err(err);
        }
    };
    let internal = push(col, expr, display, ty);
    if let Some(last) = col.aggs.last_mut() {
        last.empty = over_no_rows(name, ty);
    }
    Ok(internal)
}

fn sum_type(t: KqlType) -> KqlType {
    match t {
        KqlType::Real | KqlType::Decimal | KqlType::Dynamic => KqlType::Real,
        KqlType::TimeSpan => KqlType::TimeSpan,
        _ => KqlType::Long,
    }
}

/// `arg_max(by, cols...)`: for each returned column, its value on the row with the largest `by`.
/// `take_any(*)` / `take_any(a, b, ...)` / `any(...)`: one value per column, from the same
/// row of each group; `take_any` keeps the column names, the legacy `any` prefixes `any_`.
fn bind_take_any_many(
    b: &mut Binder,
    col: &mut Collector,
    name: &str,
    args: &[ast::Arg],
    keys: &[Col],
) -> Result<Vec<(String, KqlType)>> {
    let input = col.input;
    let prefix = if name == "any" { "any_" } else { "" };
    let mut out = Vec::new();
    for a in args {
        if matches!(a.expr().kind, ExprKind::Star) {
            for c in &input.cols {
                if keys.iter().any(|k| k.name == c.name) {
                    continue;
                }
                let e = agg::first_value(column(&c.name), vec![]);
                out.push((push(col, e, format!("{prefix}{}", c.name), c.ty), c.ty));
            }
            continue;
        }
        let x = b.bind_scalar(a.expr(), input)?;
        let display = match catalog::arg_name(&x) {
            Some(n) => format!("{prefix}{n}"),
            None => format!("{name}_arg{}", out.len()),
        };
        let e = agg::first_value(x.expr.clone(), vec![]);
        out.push((push(col, e, display, x.ty), x.ty));
    }
    Ok(out)
}

/// A real with every NaN made the one positive NaN. Arithmetic gives NaNs of either sign, and
/// DataFusion's min/max and orderings place a negative NaN below every number but a positive
/// one above, while some of its kernels treat every NaN alike: without this, which value
/// `min`, `max`, `arg_min` or `arg_max` picks depended on how the rows were cut into batches.
/// With it, NaN orders above every number everywhere.
/// A real as an integer that orders as the reals do (`f64::total_cmp`), every NaN made the
/// positive one first: NaN above +inf, -0 below +0. Its own inverse on the bits.
fn real_key(x: f64) -> i64 {
    let bits = if x.is_nan() { f64::NAN.to_bits() } else { x.to_bits() } as i64;
    if bits < 0 {
        bits ^ i64::MAX
    } else {
        bits
    }
}

/// The real of a [`real_key`].
fn key_real(k: i64) -> f64 {
    f64::from_bits((if k < 0 { k ^ i64::MAX } else { k }) as u64)
}

type Udf = Arc<datafusion::logical_expr::ScalarUDF>;

/// The UDF `name` (made once, kept in `cell`) applying `f` to each value of a primitive
/// column, nulls kept.
fn map_udf<I, O>(cell: &'static OnceLock<Udf>, name: &str, f: fn(I::Native) -> O::Native) -> &'static Udf
where
    I: datafusion::arrow::datatypes::ArrowPrimitiveType,
    O: datafusion::arrow::datatypes::ArrowPrimitiveType,
{
    cell.get_or_init(|| {
        super::udf::udf(
            name,
            O::DATA_TYPE,
            false,
            Arc::new(move |args: &[ArrayRef], _rows: usize| {
                let out: datafusion::arrow::array::PrimitiveArray<O> = args[0].as_primitive::<I>().unary(f);
                Ok(Arc::new(out) as ArrayRef)
            }),
        )
    })
}

fn real_key_udf() -> &'static Udf {
    use datafusion::arrow::datatypes::{Float64Type, Int64Type};
    static U: OnceLock<Udf> = OnceLock::new();
    map_udf::<Float64Type, Int64Type>(&U, "kql_real_order_key", real_key)
}

fn real_from_key(e: Expr) -> Expr {
    use datafusion::arrow::datatypes::{Float64Type, Int64Type};
    static U: OnceLock<Udf> = OnceLock::new();
    map_udf::<Int64Type, Float64Type>(&U, "kql_real_from_order_key", key_real).call(vec![e])
}

fn one_nan(e: Expr, ty: KqlType) -> Expr {
    if ty == KqlType::Real {
        datafusion::functions::math::expr_fn::nanvl(e, lit(f64::NAN))
    } else {
        e
    }
}

fn bind_arg_extreme(
    b: &mut Binder,
    col: &mut Collector,
    name: &str,
    args: &[ast::Arg],
    keys: &[Col],
    span: Span,
) -> Result<Vec<(String, KqlType)>> {
    let input = col.input;
    let Some(first) = args.first() else {
        return Err(KqlError::new("KS119", format!("{name}() needs at least one argument"), span));
    };
    let mut by = b.bind_scalar(first.expr(), input)?;
    by.expr = one_nan(by.expr, by.ty);
    let is_max = name.contains("max");
    let by_name = catalog::arg_name(&by).unwrap_or_else(|| if is_max { "max_".into() } else { "min_".into() });
    let order = vec![by.expr.clone().sort(!is_max, false)];
    let mut out = Vec::new();
    let by_internal =
        push(col, if is_max { agg::max(by.expr.clone()) } else { agg::min(by.expr.clone()) }, by_name.clone(), by.ty);
    out.push((by_internal, by.ty));
    let mut seen: Vec<String> = vec![by_name];
    for a in &args[1..] {
        if matches!(a.expr().kind, ExprKind::Star) {
            for c in &input.cols {
                if seen.contains(&c.name) || keys.iter().any(|k| k.name == c.name) {
                    continue;
                }
                seen.push(c.name.clone());
                let e = agg::first_value(column(&c.name), order.clone());
                let internal = push(col, e, c.name.clone(), c.ty);
                out.push((internal, c.ty));
            }
            continue;
        }
        let x = b.bind_scalar(a.expr(), input)?;
        // `arg_max(t, name = expr)` names its column
        let named = match a {
            ast::Arg::Named(n) => Some(n.name.name.clone()),
            ast::Arg::Positional(_) => None,
        };
        let display = named
            .or_else(|| catalog::arg_name(&x))
            .unwrap_or_else(|| format!("{}_arg{}", if is_max { "max" } else { "min" }, out.len()));
        seen.push(display.clone());
        let e = agg::first_value(x.expr.clone(), order.clone());
        let internal = push(col, e, display, x.ty);
        out.push((internal, x.ty));
    }
    Ok(out)
}

/// Which collection an aggregate builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum CollectKind {
    Set,
    List,
    Bag,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CollectUdaf {
    kind: CollectKind,
    limit: Option<usize>,
    keep_nulls: bool,
    name: String,
    signature: Signature,
}

impl AggregateUDFImpl for CollectUdaf {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }
    fn accumulator(&self, _acc_args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(CollectAcc {
            kind: self.kind,
            limit: self.limit,
            keep_nulls: self.keep_nulls,
            items: vec![],
            seen: HashSet::new(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}_state", args.name), DataType::Utf8, true))])
    }
}

#[derive(Debug)]
struct CollectAcc {
    kind: CollectKind,
    limit: Option<usize>,
    keep_nulls: bool,
    items: Vec<String>,
    seen: HashSet<String>,
}

impl CollectAcc {
    fn add(&mut self, raw: &str) {
        if self.limit.is_some_and(|l| self.items.len() >= l) && self.kind != CollectKind::Bag {
            return;
        }
        match self.kind {
            CollectKind::List => self.items.push(raw.to_string()),
            CollectKind::Set => {
                let key = dj::canonical_key(raw);
                if self.seen.insert(key) {
                    self.items.push(raw.to_string());
                }
            }
            CollectKind::Bag => {
                if let Some(entries) = dj::object_entries(raw) {
                    for (k, v) in entries {
                        if self.seen.insert(k.to_string()) {
                            self.items.push(format!("{}:{}", dj::json_string(&k), v));
                        }
                    }
                }
            }
        }
    }
    /// One input value: as Kusto, `make_list` and `make_set` of an array add its elements (the
    /// array is flattened one level), anything else is added as it is.
    fn add_input(&mut self, raw: &str) {
        if self.kind == CollectKind::Bag || !raw.trim_start().starts_with('[') {
            return self.add(raw);
        }
        match dj::array_elements(raw) {
            Some(items) => {
                for item in items {
                    if item == "null" && self.kind == CollectKind::List {
                        if self.limit.is_none_or(|l| self.items.len() < l) {
                            self.items.push("null".into());
                        }
                    } else {
                        self.add(item);
                    }
                }
            }
            None => self.add(raw),
        }
    }
    fn result(&self) -> String {
        match self.kind {
            CollectKind::Bag => format!("{{{}}}", self.items.join(",")),
            _ => format!("[{}]", self.items.join(",")),
        }
    }
}

impl Accumulator for CollectAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let v = values[0].as_string::<i32>();
        for i in 0..v.len() {
            if v.is_null(i) {
                if self.keep_nulls {
                    self.items.push("null".into());
                }
                continue;
            }
            self.add_input(v.value(i));
        }
        Ok(())
    }
    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(ScalarValue::Utf8(Some(self.result())))
    }
    fn size(&self) -> usize {
        self.items.iter().map(|s| s.len() + 24).sum::<usize>() + self.seen.len() * 32 + 64
    }
    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Utf8(Some(self.result()))])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let v = states[0].as_string::<i32>();
        for i in 0..v.len() {
            if v.is_null(i) {
                continue;
            }
            let raw = v.value(i);
            match self.kind {
                CollectKind::Bag => self.add(raw),
                _ => {
                    for item in dj::array_elements(raw).unwrap_or_default() {
                        if item == "null" && self.kind == CollectKind::List {
                            self.items.push("null".into());
                        } else {
                            self.add(item);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn collect_udaf(kind: CollectKind, limit: Option<usize>, keep_nulls: bool) -> Arc<AggregateUDF> {
    let name = format!("kql_collect_{:?}_{}_{}", kind, limit.map(|l| l.to_string()).unwrap_or_default(), keep_nulls)
        .to_lowercase();
    Arc::new(AggregateUDF::new_from_impl(CollectUdaf {
        kind,
        limit,
        keep_nulls,
        name,
        signature: Signature::any(1, Volatility::Immutable),
    }))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PercentileUdaf {
    p_bits: u64,
    name: String,
    signature: Signature,
}

impl AggregateUDFImpl for PercentileUdaf {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _acc_args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(PercentileAcc { p: f64::from_bits(self.p_bits), values: vec![] }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}_state", args.name), DataType::Utf8, true))])
    }
}

#[derive(Debug)]
struct PercentileAcc {
    p: f64,
    values: Vec<f64>,
}

impl Accumulator for PercentileAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let v = values[0].as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        self.values.extend(v.iter().flatten().filter(|f| !f.is_nan()));
        Ok(())
    }
    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        if self.values.is_empty() {
            return Ok(ScalarValue::Float64(None));
        }
        let mut v = self.values.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        // nearest rank
        let n = v.len();
        let rank = ((self.p / 100.0) * n as f64).ceil() as usize;
        let idx = rank.clamp(1, n) - 1;
        Ok(ScalarValue::Float64(Some(v[idx])))
    }
    fn size(&self) -> usize {
        self.values.len() * 8 + 64
    }
    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let s: Vec<String> = self.values.iter().map(|f| f.to_string()).collect();
        Ok(vec![ScalarValue::Utf8(Some(s.join(",")))])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let v = states[0].as_string::<i32>();
        for i in 0..v.len() {
            if !v.is_null(i) {
                self.values.extend(v.value(i).split(',').filter_map(|x| x.parse::<f64>().ok()));
            }
        }
        Ok(())
    }
}

fn percentile_udaf(p: f64) -> Arc<AggregateUDF> {
    static CACHE: OnceLock<std::sync::Mutex<Vec<(u64, Arc<AggregateUDF>)>>> = OnceLock::new();
    let m = CACHE.get_or_init(Default::default);
    let mut v = m.lock().expect("cache");
    if let Some((_, u)) = v.iter().find(|(b, _)| *b == p.to_bits()) {
        return u.clone();
    }
    let u = Arc::new(AggregateUDF::new_from_impl(PercentileUdaf {
        p_bits: p.to_bits(),
        name: format!("kql_percentile_{p}"),
        signature: Signature::any(1, Volatility::Immutable),
    }));
    v.push((p.to_bits(), u.clone()));
    u
}
