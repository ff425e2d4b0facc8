//! The KQL function library, grouped by family, and the dispatch from a call to its family.
//!
//! | family | module |
//! |---|---|
//! | conditionals, null tests, `iff`, `case`, `coalesce` | [`logical`] |
//! | strings and string predicates | [`strfn`] |
//! | `parse_user_agent` (uap-core's rules) | [`useragent`] |
//! | conversions (`tostring`, `toint`, `todatetime`...) | [`convert`] |
//! | numbers (`round`, `floor`, `bin`, arithmetic helpers) | [`math`] |
//! | dates and times (`ago`, `startofday`, `datetime_diff`...) | [`dtfn`] |
//! | dynamic values (`parse_json`, `array_length`, paths) | [`dynfn`] |
//! | arrays, sets and property bags (`array_slice`, `set_union`, `bag_merge`...) | [`array`] |
//! | IPv4/IPv6 and geo-IP (`ipv4_is_private`, `geo_info_from_ip_address`...) | [`ipfn`] |
//! | geospatial (`geo_distance_2points`, H3, S2, geohash...) | [`geo`] |
//! | series (`series_add`, `series_stats`, `series_fit_line`...) and window functions (`prev`, `row_number`...) | [`series`] |
//! | everything else (`hash_*`, `binary_*`, `format_bytes`, unit conversions...) | [`misc`] |
//! | sketches: `tdigest`, `hll` and the functions reading them; weighted percentiles | [`sketch`] |
//! | aggregations in `summarize` | [`aggregate`] |
//!
//! [`catalog`] holds Kusto's own list of functions (names, arity, naming rules), used for
//! output names and for "unknown function" errors.

pub mod aggregate;
pub mod arg_types;
pub mod array;
pub mod buildschema;
pub mod catalog;
pub mod cluster_only;
pub mod convert;
pub mod dtfn;
pub mod dynfn;
pub mod geo;
pub mod hashing;
pub mod idn;
pub mod ipfn;
pub mod logical;
pub mod math;
pub mod misc;
pub mod series;
pub mod series_transform;
pub mod sketch;
pub mod strfn;
pub mod texteq;
pub mod udf;
pub mod useragent;

#[cfg(test)]
mod tests;

use crate::binder::{Binder, Binding, Bound, NameHint, Rel};
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;
use kql_parser::ast;
use kql_parser::Span;

/// What a family's bind function sees.
pub struct BindCtx<'b, 'a> {
    /// The binder (for coercions).
    pub binder: &'b mut Binder<'a>,
    /// The call's span.
    pub span: Span,
}

/// The string value of a constant string argument.
pub fn arg_str_const(b: &Bound) -> Option<String> {
    match &b.expr {
        Expr::Literal(ScalarValue::Utf8(Some(s)), _) => Some(s.clone()),
        _ => None,
    }
}

/// `assert(condition, message)`: the condition is a constant, known when the query is analyzed
/// (Kusto's rule); true gives `true`, anything else fails the query with the message (KQL078).
fn assert_call(b: &mut Binder, args: &[ast::Arg], span: Span) -> Result<Bound> {
    let [cond, msg] = args else {
        return Err(KqlError::new("KS119", "The function 'assert' expects 2 arguments.", span));
    };
    let ast::ExprKind::Literal(ast::Literal::String(message)) = &msg.expr().kind else {
        return Err(KqlError::new("KQL078", "the message of assert() must be a string literal", msg.expr().span)
            .with_help("write the message in quotes: assert(x > 0, \"x must be positive\")"));
    };
    let c = b.bind_constant(cond.expr()).map_err(|e| {
        KqlError::new(
            "KQL078",
            format!("the condition of assert() must be a constant known when the query is analyzed ({})", e.message),
            cond.expr().span,
        )
        .with_help("assert() cannot read a row's columns: test parameters and constants only")
    })?;
    if c.ty != KqlType::Bool {
        return Err(KqlError::new(
            "KS107",
            format!("assert() expects a bool condition, not {}", c.ty.name()),
            cond.expr().span,
        ));
    }
    if !b.options.check_only {
        let v = b.const_value(c.expr, KqlType::Bool, cond.expr().span)?;
        if v != ScalarValue::Boolean(Some(true)) {
            return Err(KqlError::new("KQL078", format!("assert() has failed with message: '{message}'"), span));
        }
    }
    Ok(Bound::new(datafusion::logical_expr::lit(true), KqlType::Bool))
}

/// The integer value of a constant argument.
pub fn arg_i64_const(b: &Bound) -> Option<i64> {
    match &b.expr {
        Expr::Literal(ScalarValue::Int64(Some(v)), _) => Some(*v),
        Expr::Literal(ScalarValue::Int32(Some(v)), _) => Some(*v as i64),
        Expr::Literal(ScalarValue::Float64(Some(v)), _) => Some(*v as i64),
        _ => None,
    }
}

/// Bind a scalar function call.
pub fn bind_call(b: &mut Binder, name: &ast::Ident, args: &[ast::Arg], rel: &Rel, span: Span) -> Result<Bound> {
    let n = name.name.as_str();
    if matches!(b.scope.get(n), Some(Binding::Function(..))) || b.catalog.function(n).is_some() {
        return call_user_function(b, n, args, rel, span);
    }
    match n {
        "toscalar" => {
            let Some(a) = args.first() else {
                return Err(KqlError::new("KS119", "The function 'toscalar' expects 1 argument.", span));
            };
            if !b.is_tabular(a.expr()) {
                let s = b.bind_scalar(a.expr(), rel)?;
                return Ok(Bound { hint: NameHint::None, ..s });
            }
            let r = b.bind_tabular(a.expr())?;
            return b.toscalar(r, span);
        }
        "column_names_of" => {
            // the column names of a tabular expression, known at bind time
            let [a] = args else {
                return Err(KqlError::new("KS119", "The function 'column_names_of' expects 1 argument.", span));
            };
            let r = b.bind_tabular(a.expr())?;
            let names: Vec<&str> = r.cols.iter().map(|c| c.name.as_str()).collect();
            let json = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
            return Ok(Bound::new(datafusion::logical_expr::lit(json), KqlType::Dynamic));
        }
        "ingestion_time" if args.is_empty() => {
            // Exports do not carry the ingestion time. A record's `_TimeReceived` (when the
            // data has it) is when the pipeline received it; otherwise ingestion is taken as
            // immediate, so the record's own time stands in (what a rule's
            // `ingestion_time() > ago(...)` filter means on fixture and exported data).
            // Kusto itself returns null for tables without an ingestion-time policy.
            let pick = ["_TimeReceived", "TimeGenerated", "Timestamp"]
                .into_iter()
                .find(|c| rel.col(c).is_some_and(|c| c.ty == KqlType::DateTime));
            return Ok(match pick {
                Some(c) => Bound::new(crate::binder::scalar::column(c), KqlType::DateTime),
                None => Bound::new(datafusion::logical_expr::lit(ScalarValue::Int64(None)), KqlType::DateTime),
            });
        }
        "column_ifexists" | "columnifexists" => {
            if args.len() != 2 {
                return Err(KqlError::new("KS119", "The function 'column_ifexists' expects 2 arguments.", span));
            }
            let col = match &args[0].expr().kind {
                ast::ExprKind::Literal(ast::Literal::String(s)) => s.clone(),
                _ => {
                    // a name from a parameter or let: evaluate it
                    let c = b.bind_constant(args[0].expr())?;
                    match arg_str_const(&c) {
                        Some(s) => s,
                        None if b.options.check_only => {
                            let d = b.bind_scalar(args[1].expr(), rel)?;
                            return Ok(Bound { hint: NameHint::None, ..d });
                        }
                        None => {
                            return Err(KqlError::new(
                                "KQL070",
                                "column_ifexists takes a constant column name",
                                args[0].expr().span,
                            ))
                        }
                    }
                }
            };
            if let Some(c) = rel.col(&col) {
                return Ok(Bound::new(crate::binder::scalar::column(&c.name), c.ty).named(&c.name));
            }
            let d = b.bind_scalar(args[1].expr(), rel)?;
            return Ok(Bound { hint: NameHint::None, ..d });
        }
        "iscolumnexists" => {
            // whether the row context has a column of that (constant) name, known at bind time
            let [a] = args else {
                return Err(KqlError::new("KS119", "The function 'iscolumnexists' expects 1 argument.", span));
            };
            let c = b.bind_constant(a.expr())?;
            let Some(name) = arg_str_const(&c) else {
                return Err(KqlError::new("KQL070", "iscolumnexists takes a constant column name", a.expr().span));
            };
            return Ok(Bound::new(datafusion::logical_expr::lit(rel.col(&name).is_some()), KqlType::Bool));
        }
        "assert" => return assert_call(b, args, span),
        "estimate_data_size" => return misc::estimate_data_size(b, args, rel, span),
        "pack_all" if args.len() <= 1 => {
            // the columns in scope, expanded at bind time
            let ignore = match args.first() {
                None => false,
                Some(a) => match b.bind_scalar(a.expr(), rel)?.expr {
                    Expr::Literal(ScalarValue::Boolean(v), _) => v.unwrap_or(false),
                    _ => {
                        return Err(KqlError::new(
                            "KQL082",
                            "the argument of pack_all must be a constant bool",
                            a.expr().span,
                        ))
                    }
                },
            };
            let cols = rel.cols.clone();
            return Ok(dynfn::pack_all(b, &cols, ignore));
        }
        _ => {}
    }
    if aggregate::is_aggregate(n) && !catalog::is_scalar(n) {
        return Err(KqlError::new(
            "KS134",
            format!(
                "The function '{n}' is an aggregation: it can only be used in summarize, make-series or top-nested."
            ),
            span,
        ));
    }
    let mut bound = Vec::with_capacity(args.len());
    // whether each argument's type is known (not a type marker, not a name that did not resolve)
    let mut typed = Vec::with_capacity(args.len());
    for a in args {
        if let ast::ExprKind::Call { target: None, name: tn, args: targs } = &a.expr().kind {
            if tn.name == "typeof" && targs.len() == 1 {
                if let ast::ExprKind::Name(t) = &targs[0].expr().kind {
                    // a type marker: the type name as a constant string
                    bound.push(Bound::new(datafusion::logical_expr::lit(t.name.clone()), KqlType::String));
                    typed.push(false);
                    continue;
                }
            }
        }
        let arg = b.bind_scalar(a.expr(), rel)?;
        // `round(F = x * 2)`: a named argument names the value (a function named after its
        // first argument, as Kusto's analyzer names it, gives column `F`)
        let arg = match a {
            ast::Arg::Named(na) => Bound { hint: NameHint::Name(na.name.name.clone()), ..arg },
            ast::Arg::Positional(_) => arg,
        };
        let unknown = arg.ty == KqlType::Dynamic && matches!(arg.expr, Expr::Literal(ScalarValue::Utf8(None), _));
        typed.push(!rel.open && !unknown && !matches!(a, ast::Arg::Named(_)));
        bound.push(arg);
    }
    if let Some(info) = catalog::get(n) {
        if bound.len() < info.min_args || bound.len() > info.max_args {
            return Err(KqlError::new(
                "KS119",
                if info.min_args == info.max_args {
                    format!(
                        "The function '{n}' expects {} argument{}.",
                        info.min_args,
                        if info.min_args == 1 { "" } else { "s" }
                    )
                } else {
                    format!("The function '{n}' expects {} to {} arguments.", info.min_args, info.max_args.min(64))
                },
                span,
            ));
        }
    }
    let spans: Vec<Span> = args.iter().map(|a| a.expr().span).collect();
    for e in arg_types::check(n, name.span, &bound, &spans, &typed) {
        b.recover(e)?;
    }
    let hint = catalog::result_name(n, &bound);
    let mut ctx = BindCtx { binder: b, span };
    let families: [fn(&mut BindCtx, &str, &[Bound]) -> Option<Result<Bound>>; 15] = [
        logical::bind,
        convert::bind,
        strfn::bind,
        math::bind,
        dtfn::bind,
        dynfn::bind,
        array::bind,
        ipfn::bind,
        geo::bind,
        series::bind,
        sketch::bind,
        useragent::bind,
        hashing::bind,
        idn::bind,
        misc::bind,
    ];
    // an obsolete name (`notnull`, `toobject`...) is its replacement's
    let names = [n, catalog::canonical(n)];
    for name in names.iter().take(if names[0] == names[1] { 1 } else { 2 }) {
        for fam in families {
            if let Some(r) = fam(&mut ctx, name, &bound) {
                let mut out = r?;
                out.hint = hint;
                return Ok(out);
            }
        }
    }
    if let Some(why) = cluster_only::function_reason(n) {
        return Err(cluster_only::error(n, why, span));
    }
    if catalog::get(n).is_some() {
        let err = KqlError::new("KQL071", format!("the function '{n}' is not supported yet"), span)
            .with_help("it is part of Kusto's library but not implemented by this engine yet");
        if b.options.check_only {
            b.not_runnable.push(err);
            let ty = catalog::return_type(n, &bound).unwrap_or(KqlType::Dynamic);
            return Ok(Bound { expr: crate::binder::scalar::typed_null(ty), ty, hint });
        }
        return Err(err);
    }
    let mut err = KqlError::new("KS211", format!("The name '{n}' does not refer to any known function."), name.span);
    if let Some(s) = crate::binder::suggest(n, catalog::names()) {
        err = err.with_help(format!("did you mean `{s}`?"));
    }
    b.recover(err)?;
    Ok(Bound::new(crate::binder::scalar::typed_null(KqlType::Dynamic), KqlType::Dynamic))
}

/// Call a user-defined function (from `let` or `--functions`) in scalar position.
pub fn call_user_function(b: &mut Binder, n: &str, args: &[ast::Arg], rel: &Rel, span: Span) -> Result<Bound> {
    let (def, scope, source) = resolve_user_function(b, n, span)?;
    let saved = enter_function(b, &def, scope, args, Some(rel), span)?;
    let first_warning = b.warnings.len();
    let result = (|| {
        let e = body_result(b, &def, n, span)?;
        if b.is_tabular(&e) {
            let r = b.bind_tabular(&e)?;
            return b.toscalar(r, span);
        }
        b.bind_scalar(&e, rel)
    })()
    .map_err(|e| from_function_body(e, n, source.as_ref(), span));
    place_body_warnings(b, first_warning, n, source.as_ref(), span);
    leave_function(b, saved);
    result.map(|r| Bound { hint: NameHint::None, ..r })
}

/// Call a user-defined or stored function in tabular position.
pub fn call_user_tabular(b: &mut Binder, n: &str, args: &[ast::Arg], span: Span) -> Result<Rel> {
    if !matches!(b.scope.get(n), Some(Binding::Function(..))) && b.catalog.function(n).is_none() {
        if let Some(f) = b.catalog.schemas().function(n).cloned() {
            // known by schema only: its result shape is known, its body is not
            let cols: Vec<crate::binder::Col> = f.columns.iter().map(|(c, t)| crate::binder::Col::new(c, *t)).collect();
            if b.options.check_only {
                return b.rel_from_batches(cols, vec![]);
            }
            return Err(KqlError::new(
                "KQL076",
                format!("the function `{n}` is known by its schema, but its definition is not loaded"),
                span,
            )
            .with_help("load its definition with --functions PATH (a .kql file or the Sentinel parser YAML)"));
        }
        if catalog::get(n).is_some() {
            return Err(KqlError::new("KQL073", format!("`{n}` is a scalar function, not a table"), span));
        }
        let mut err = KqlError::new(
            "KS204",
            format!("The name '{n}' does not refer to any known table, tabular variable or function."),
            span,
        );
        if n.starts_with('_') || n.starts_with("im") || n.starts_with("ASim") {
            err = err.with_help("load parser functions with --functions PATH (e.g. the ASIM parsers)");
        }
        return Err(err);
    }
    let (def, scope, source) = resolve_user_function(b, n, span)?;
    let saved = enter_function(b, &def, scope, args, None, span)?;
    let first_warning = b.warnings.len();
    let result = body_result(b, &def, n, span)
        .and_then(|e| b.bind_tabular(&e))
        .map_err(|e| from_function_body(e, n, source.as_ref(), span));
    place_body_warnings(b, first_warning, n, source.as_ref(), span);
    leave_function(b, saved);
    result
}

/// `T | invoke f(args)`: call `f` with `T` as its first (tabular) argument.
pub fn invoke(b: &mut Binder, input: Rel, name: &ast::Ident, args: &[ast::Arg], span: Span) -> Result<Rel> {
    let (def, scope, source) = resolve_user_function(b, &name.name, span)?;
    let Some(first) = def.params.first() else {
        return Err(KqlError::new("KQL074", format!("`{}` takes no table to invoke on", name.name), span));
    };
    let saved_scope = b.scope.clone();
    b.scope = scope.with(&first.name.name, Binding::Tabular(input));
    let rest_def = ast::FunctionDef { params: def.params[1..].to_vec(), ..(*def).clone() };
    let inner_scope = b.scope.clone();
    b.scope = saved_scope.clone();
    let saved = enter_function(b, &rest_def, inner_scope, args, None, span)?;
    let first_warning = b.warnings.len();
    let result = body_result(b, &def, &name.name, span)
        .and_then(|e| b.bind_tabular(&e))
        .map_err(|e| from_function_body(e, &name.name, source.as_ref(), span));
    place_body_warnings(b, first_warning, &name.name, source.as_ref(), span);
    leave_function(b, saved);
    result
}

/// Bind a function body's `let` statements (in the function's scope) and return its result
/// expression.
fn body_result(b: &mut Binder, def: &ast::FunctionDef, n: &str, span: Span) -> Result<ast::Expr> {
    let mut last = None;
    for st in &def.body {
        match &st.kind {
            ast::StatementKind::Let { name, value } => b.bind_let(name, value)?,
            ast::StatementKind::Query(e) => last = Some(e.clone()),
            _ => {}
        }
    }
    last.ok_or_else(|| KqlError::new("KQL072", format!("function `{n}` has no result expression"), span))
}

/// A user function: its definition, the scope it was defined in, and the file it came from
/// (stored functions).
type UserFunction =
    (std::rc::Rc<ast::FunctionDef>, crate::binder::Scope, Option<std::sync::Arc<crate::session::FunctionSource>>);

fn resolve_user_function(b: &Binder, n: &str, span: Span) -> Result<UserFunction> {
    if let Some(Binding::Function(f, s)) = b.scope.get(n) {
        return Ok((f.clone(), s.clone(), None));
    }
    if let Some(f) = b.catalog.function(n) {
        return Ok((f.def.clone(), crate::binder::Scope::default(), f.source.clone()));
    }
    Err(KqlError::new("KS211", format!("The name '{n}' does not refer to any known function."), span))
}

/// An error from binding the body of function `n`, called at `call`: when the function is a
/// stored one, the error is placed in its file (the innermost stored function keeps that place)
/// and reached from `call`.
fn from_function_body(
    err: KqlError,
    n: &str,
    source: Option<&std::sync::Arc<crate::session::FunctionSource>>,
    call: Span,
) -> KqlError {
    let Some(src) = source else { return err };
    let mut err = err;
    if err.origin.is_none() {
        let Some(at) = err.span.and_then(|sp| src.file_span(sp)) else { return err };
        err.origin = Some(Box::new(crate::error::ErrorOrigin {
            path: src.path.clone(),
            text: src.file.clone(),
            span: at,
            function: n.to_string(),
        }));
    } else if let Some(o) = err.origin.as_mut() {
        // reached through this stored function: name the outermost one the user called
        o.function = n.to_string();
    }
    err.span = Some(call);
    err
}

/// The warnings raised while binding the body of function `n` (those from `first` on), placed
/// as its errors are: in a stored function's file, reached from `call` (their spans are offsets
/// in the function's text, not the query's). A warning raised again at the same place (a
/// function bound more than once) is kept once.
fn place_body_warnings(
    b: &mut Binder,
    first: usize,
    n: &str,
    source: Option<&std::sync::Arc<crate::session::FunctionSource>>,
    call: Span,
) {
    if source.is_none() || first >= b.warnings.len() {
        return;
    }
    let new: Vec<KqlError> = b.warnings.drain(first..).collect();
    for w in new {
        let w = from_function_body(w, n, source, call);
        // a place in the function's file is reported once, whichever call reached it
        // (`Span`'s `==` ignores positions, as the AST's does: compare them here)
        let place = |e: &KqlError| match &e.origin {
            Some(o) => (e.code, e.message.clone(), Some((o.path.clone(), o.span.start, o.span.end)), None),
            None => (e.code, e.message.clone(), None, e.span.map(|s| (s.start, s.end))),
        };
        if !b.warnings.iter().any(|x| place(x) == place(&w)) {
            b.warnings.push(w);
        }
    }
}

struct Saved {
    scope: crate::binder::Scope,
}

fn enter_function(
    b: &mut Binder,
    def: &ast::FunctionDef,
    def_scope: crate::binder::Scope,
    args: &[ast::Arg],
    rel: Option<&Rel>,
    span: Span,
) -> Result<Saved> {
    if b.call_depth > 64 {
        return Err(KqlError::new("KQL075", "function calls nest too deeply (recursion?)", span));
    }
    let caller_scope = b.scope.clone();
    let mut scope = def_scope;
    let positional: Vec<&ast::Arg> = args.iter().filter(|a| matches!(a, ast::Arg::Positional(_))).collect();
    if positional.len() > def.params.len() {
        return Err(KqlError::new(
            "KS119",
            format!("The function expects {} argument(s) but got {}.", def.params.len(), positional.len()),
            span,
        ));
    }
    // a named argument out of its parameter's place makes every later argument named (KS195)
    let mut unordered = false;
    for (j, a) in args.iter().enumerate() {
        match a {
            ast::Arg::Named(na) => {
                unordered |= def.params.iter().position(|p| p.name.name == na.name.name) != Some(j);
            }
            ast::Arg::Positional(e) if unordered => {
                return Err(KqlError::new(
                    "KS195",
                    "All arguments after an unordered named argument must be named.",
                    e.span,
                ))
            }
            ast::Arg::Positional(_) => {}
        }
    }
    // named arguments take their parameters; positional ones fill the others, in order
    // (`checkLength(len=3, input)` gives `input` to the second parameter)
    let mut next_positional = positional.iter();
    for p in def.params.iter() {
        let arg = args.iter().find_map(|a| match a {
            ast::Arg::Named(na) if na.name.name == p.name.name => Some(&na.value),
            _ => None,
        });
        let arg = arg.or_else(|| next_positional.next().map(|a| a.expr()));
        let binding = match (&p.ty, arg) {
            (ast::ParamType::Tabular(_), Some(e)) => Binding::Tabular(b.bind_tabular(e)?),
            (ast::ParamType::Scalar(t), Some(e)) => {
                let bound = match rel {
                    Some(r) => b.bind_scalar(e, r)?,
                    None => b.bind_constant(e)?,
                };
                let ty = KqlType::parse(&t.name).unwrap_or(bound.ty);
                Binding::Scalar(if bound.ty == ty { bound } else { b.coerce(bound, ty) })
            }
            (ast::ParamType::Scalar(t), None) => match &p.default {
                Some(d) => {
                    let saved = std::mem::replace(&mut b.scope, scope.clone());
                    let bound = b.bind_constant(d);
                    b.scope = saved;
                    let bound = bound?;
                    let ty = KqlType::parse(&t.name).unwrap_or(bound.ty);
                    Binding::Scalar(b.coerce(bound, ty))
                }
                None => {
                    return Err(KqlError::new(
                        "KS119",
                        format!("missing argument for parameter `{}`", p.name.name),
                        span,
                    ))
                }
            },
            (ast::ParamType::Tabular(_), None) => {
                return Err(KqlError::new("KS119", format!("missing table argument `{}`", p.name.name), span))
            }
        };
        scope = scope.with(&p.name.name, binding);
    }
    b.scope = scope;
    b.call_depth += 1;
    Ok(Saved { scope: caller_scope })
}

fn leave_function(b: &mut Binder, saved: Saved) {
    b.scope = saved.scope;
    b.call_depth -= 1;
}
