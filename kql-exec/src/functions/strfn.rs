//! Strings: conversions to string, the string predicates (`contains`, `has`, `startswith`,
//! `=~`, `matches regex`, `has_any`...) with Kusto's case and term semantics, and the string
//! functions (`strlen`, `substring`, `split`, `extract`, `replace_string`...).

use super::array::{row_call, Out, V};
use super::udf::{cached, udf, Body, UdfCache};
use super::{arg_str_const, BindCtx};
use crate::binder::{Binder, Bound};
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use crate::value::datetime as dt;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Int64Builder, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::common::DataFusionError;
use datafusion::logical_expr::{lit, Expr, ScalarUDF};
use kql_parser::ast::StrOpKind;
use kql_parser::Span;
use std::sync::{Arc, OnceLock};

type R<T> = std::result::Result<T, DataFusionError>;

fn strs(a: &ArrayRef) -> &StringArray {
    a.as_string::<i32>()
}

/// Kusto's text for a real number.
pub fn format_real(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        format!("{f}")
    }
}

fn to_string_body(ty: KqlType) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let a = &args[0];
        let mut b = StringBuilder::with_capacity(rows, rows * 8);
        for i in 0..rows {
            if a.is_null(i) {
                b.append_value("");
                continue;
            }
            match ty {
                KqlType::Bool => b.append_value(if a.as_boolean().value(i) { "true" } else { "false" }),
                KqlType::Int => b.append_value(a.as_primitive::<Int32Type>().value(i).to_string()),
                KqlType::Long => b.append_value(a.as_primitive::<Int64Type>().value(i).to_string()),
                KqlType::Real | KqlType::Decimal => {
                    b.append_value(format_real(a.as_primitive::<Float64Type>().value(i)))
                }
                KqlType::DateTime => b.append_value(dt::format_datetime_iso(a.as_primitive::<Int64Type>().value(i))),
                KqlType::TimeSpan => b.append_value(dt::format_timespan(a.as_primitive::<Int64Type>().value(i))),
                KqlType::String | KqlType::Guid => b.append_value(strs(a).value(i)),
                KqlType::Dynamic => b.append_value(dj::to_kql_string(strs(a).value(i))),
            }
        }
        Ok(Arc::new(b.finish()))
    })
}

/// `tostring(x)` of a scalar of type `ty` (never null).
pub fn to_string(e: Expr, ty: KqlType) -> Expr {
    static UDFS: OnceLock<Vec<(KqlType, Arc<ScalarUDF>)>> = OnceLock::new();
    let all = UDFS.get_or_init(|| {
        use KqlType::*;
        [Bool, Int, Long, Real, Decimal, DateTime, TimeSpan, Guid, Dynamic]
            .into_iter()
            .map(|t| (t, udf(&format!("kql_tostring_{}", t.name()), DataType::Utf8, false, to_string_body(t))))
            .collect()
    });
    match all.iter().find(|(t, _)| *t == ty) {
        Some((_, u)) => u.call(vec![e]),
        None => e,
    }
}

/// Lower-case (Unicode).
pub fn lower(e: Expr) -> Expr {
    datafusion::functions::string::expr_fn::lower(e)
}

fn is_term_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Kusto's `has`: `needle` occurs in `hay` aligned to term boundaries (case-insensitive
/// unless `cs`); `prefix`/`suffix` relax the end/start alignment for hasprefix/hassuffix.
pub fn has_term(hay: &str, needle: &str, cs: bool, need_start: bool, need_end: bool) -> bool {
    if needle.is_empty() {
        return true;
    }
    if !cs && hay.is_ascii() && needle.is_ascii() {
        return has_term_ascii_ci(hay.as_bytes(), needle.as_bytes(), need_start, need_end);
    }
    let (h, n);
    let (hay, needle) = if cs {
        (hay, needle)
    } else {
        h = hay.to_lowercase();
        n = needle.to_lowercase();
        (h.as_str(), n.as_str())
    };
    let first_term = needle.chars().next().is_some_and(is_term_char);
    let last_term = needle.chars().next_back().is_some_and(is_term_char);
    let mut from = 0;
    while let Some(pos) = hay[from..].find(needle) {
        let start = from + pos;
        let end = start + needle.len();
        let ok_start = !need_start || !first_term || hay[..start].chars().next_back().is_none_or(|c| !is_term_char(c));
        let ok_end = !need_end || !last_term || hay[end..].chars().next().is_none_or(|c| !is_term_char(c));
        if ok_start && ok_end {
            return true;
        }
        from = start + hay[start..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
    }
    false
}

/// [`has_term`] case-insensitive over ASCII texts, without lower-casing copies (the terms of
/// ASCII text are its runs of ASCII letters and digits).
fn has_term_ascii_ci(hay: &[u8], needle: &[u8], need_start: bool, need_end: bool) -> bool {
    let n = needle.len();
    if n > hay.len() {
        return false;
    }
    let first_term = needle[0].is_ascii_alphanumeric();
    let last_term = needle[n - 1].is_ascii_alphanumeric();
    let (lo, up) = (needle[0].to_ascii_lowercase(), needle[0].to_ascii_uppercase());
    let mut from = 0;
    while let Some(pos) = memchr::memchr2(lo, up, &hay[from..=hay.len() - n]) {
        let start = from + pos;
        let end = start + n;
        if hay[start..end].eq_ignore_ascii_case(needle) {
            let ok_start = !need_start || !first_term || start == 0 || !hay[start - 1].is_ascii_alphanumeric();
            let ok_end = !need_end || !last_term || end == hay.len() || !hay[end].is_ascii_alphanumeric();
            if ok_start && ok_end {
                return true;
            }
        }
        from = start + 1;
        if from + n > hay.len() {
            break;
        }
    }
    false
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.is_ascii() && needle.is_ascii() {
        let h = hay.as_bytes();
        let n = needle.as_bytes();
        if n.len() > h.len() {
            return false;
        }
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(&needle.to_lowercase())
}

fn starts_ci(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len() && hay.get(..needle.len()).is_some_and(|p| p.eq_ignore_ascii_case(needle))
        || (!hay.is_ascii() && hay.to_lowercase().starts_with(&needle.to_lowercase()))
}

fn ends_ci(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len() && hay.get(hay.len() - needle.len()..).is_some_and(|p| p.eq_ignore_ascii_case(needle))
        || (!hay.is_ascii() && hay.to_lowercase().ends_with(&needle.to_lowercase()))
}

fn string_op_body(kind: StrOpKind, cs: bool) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let hay = strs(&args[0]);
        let needle = strs(&args[1]);
        let mut out = BooleanBuilder::with_capacity(rows);
        let regex = if kind == StrOpKind::MatchesRegex && !needle.is_empty() && !needle.is_null(0) {
            Some(
                crate::value::re2::compile(needle.value(0))
                    .map_err(|e| DataFusionError::Execution(format!("invalid regex: {e}")))?,
            )
        } else {
            None
        };
        for i in 0..rows {
            if hay.is_null(i) || needle.is_null(i) {
                out.append_value(false);
                continue;
            }
            let (h, n) = (hay.value(i), needle.value(i));
            let v = match kind {
                StrOpKind::Equals => {
                    if cs {
                        h == n
                    } else {
                        h.eq_ignore_ascii_case(n) || (!h.is_ascii() && h.to_lowercase() == n.to_lowercase())
                    }
                }
                StrOpKind::Contains => {
                    if cs {
                        h.contains(n)
                    } else {
                        contains_ci(h, n)
                    }
                }
                StrOpKind::Has => has_term(h, n, cs, true, true),
                StrOpKind::HasPrefix => has_term(h, n, cs, true, false),
                StrOpKind::HasSuffix => has_term(h, n, cs, false, true),
                StrOpKind::StartsWith => {
                    if cs {
                        h.starts_with(n)
                    } else {
                        starts_ci(h, n)
                    }
                }
                StrOpKind::EndsWith => {
                    if cs {
                        h.ends_with(n)
                    } else {
                        ends_ci(h, n)
                    }
                }
                StrOpKind::MatchesRegex => match &regex {
                    Some(r) if i == 0 || needle.value(i) == needle.value(0) => r.is_match(h),
                    _ => crate::value::re2::compile(n).map(|r| r.is_match(h)).unwrap_or(false),
                },
                StrOpKind::Like => like(h, n, cs),
            };
            out.append_value(v);
        }
        Ok(Arc::new(out.finish()))
    })
}

fn like(h: &str, pat: &str, cs: bool) -> bool {
    let re = regex::escape(pat).replace('%', ".*").replace('_', ".");
    regex::RegexBuilder::new(&format!("^{re}$")).case_insensitive(!cs).build().map(|r| r.is_match(h)).unwrap_or(false)
}

/// A string predicate as an expression (`negated` forms are wrapped by the caller).
pub fn string_op(kind: StrOpKind, cs: bool, a: Expr, b: Expr) -> Expr {
    static UDFS: UdfCache<(StrOpKind, bool)> = OnceLock::new();
    let u = cached(&UDFS, (kind, cs), || {
        udf(&format!("kql_str_{kind:?}_{cs}").to_lowercase(), DataType::Boolean, false, string_op_body(kind, cs))
    });
    u.call(vec![a, b])
}

/// Whether any of `texts` (string expressions) satisfies the string predicate `kind` with
/// `needle` (never null): `* has "x"` and `search "x"` over a table's columns as one call that
/// tests column after column, instead of one test per column joined by `or` (tables have up to
/// hundreds of columns and a workspace hundreds of tables: typing and simplifying such trees
/// cost far more than running them). False without texts.
pub fn any_string_op(kind: StrOpKind, cs: bool, needle: Expr, texts: Vec<Expr>) -> Expr {
    if texts.is_empty() {
        return lit(false);
    }
    static UDFS: UdfCache<(StrOpKind, bool)> = OnceLock::new();
    let u = cached(&UDFS, (kind, cs), || {
        let test = string_op_body(kind, cs);
        let body: Body = Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
            let needle = &args[0];
            let mut acc: Option<BooleanArray> = None;
            for a in &args[1..] {
                if acc.as_ref().is_some_and(|x| x.true_count() == rows) {
                    break;
                }
                let r = test(&[a.clone(), needle.clone()], rows)?;
                let r = r.as_boolean().clone();
                acc = Some(match acc {
                    None => r,
                    Some(x) => datafusion::arrow::compute::or(&x, &r)?,
                });
            }
            Ok(Arc::new(acc.unwrap_or_else(|| BooleanArray::from(vec![false; rows]))))
        });
        udf(&format!("kql_any_str_{kind:?}_{cs}").to_lowercase(), DataType::Boolean, false, body)
    });
    u.call(std::iter::once(needle).chain(texts).collect())
}

/// Whether the text of a value of type `ty` (as `tostring` prints it) can satisfy the string
/// predicate `kind` with the constant `needle`: false when the needle holds a character no such
/// text has (`has "error"` over a number, a datetime or a bool), so a test of every column
/// (`search`, `* has`) need not convert and test those columns. True when unsure.
pub fn text_may_match(ty: KqlType, kind: StrOpKind, cs: bool, needle: &str) -> bool {
    if needle.is_empty() || !needle.is_ascii() || matches!(kind, StrOpKind::MatchesRegex | StrOpKind::Like) {
        return true;
    }
    // every character of the type's texts (see `to_string_body`, `format_real`)
    let chars: &str = match ty {
        KqlType::Bool => "truefals",
        KqlType::Int | KqlType::Long => "0123456789-",
        KqlType::Real | KqlType::Decimal => "0123456789-.NaInfity",
        KqlType::DateTime => "0123456789-:.TZ",
        KqlType::TimeSpan => "0123456789-:.",
        KqlType::String | KqlType::Guid | KqlType::Dynamic => return true,
    };
    needle.chars().all(|c| if cs { chars.contains(c) } else { chars.chars().any(|x| x.eq_ignore_ascii_case(&c)) })
}

/// `has_any_index(source, values)`: the index of the first element of `values` that `source`
/// has as a term (`has`), -1 if none does or `values` is empty or not an array.
fn f_has_any_index(a: &[V]) -> Out {
    let hay = a[0].s().unwrap_or("");
    let Some(items) = a[1].s().and_then(dj::array_elements) else { return Out::I(-1) };
    let found = items.iter().position(|e| has_term(hay, &dj::to_kql_string(e), false, true, true));
    Out::I(found.map_or(-1, |k| k as i64))
}

/// `has_any` / `has_all` over a list of values and dynamic arrays.
pub fn has_any_all(
    b: &Binder,
    all: bool,
    x: Bound,
    values: Vec<Bound>,
    arrays: Vec<Bound>,
    _span: Span,
) -> Result<Bound> {
    let x = b.coerce(x, KqlType::String).expr;
    let mut parts: Vec<Expr> = values
        .into_iter()
        .map(|v| string_op(StrOpKind::Has, false, x.clone(), b.coerce(v, KqlType::String).expr))
        .collect();
    for a in arrays {
        parts.push(has_array(all, x.clone(), a.expr));
    }
    let e = if all {
        parts.into_iter().reduce(|a, b| a.and(b)).unwrap_or(lit(true))
    } else {
        parts.into_iter().reduce(|a, b| a.or(b)).unwrap_or(lit(false))
    };
    Ok(Bound::new(e, KqlType::Bool))
}

fn has_array(all: bool, x: Expr, arr: Expr) -> Expr {
    static U: OnceLock<[Arc<ScalarUDF>; 2]> = OnceLock::new();
    let us = U.get_or_init(|| {
        let mk = |all: bool| {
            udf(
                if all { "kql_has_all_array" } else { "kql_has_any_array" },
                DataType::Boolean,
                false,
                Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
                    let hay = strs(&args[0]);
                    let arrs = strs(&args[1]);
                    let mut cache: Option<(String, Vec<String>)> = None;
                    let mut out = BooleanBuilder::with_capacity(rows);
                    for i in 0..rows {
                        if hay.is_null(i) || arrs.is_null(i) {
                            out.append_value(false);
                            continue;
                        }
                        let raw = arrs.value(i);
                        if cache.as_ref().is_none_or(|(k, _)| k != raw) {
                            let mut items = Vec::new();
                            super::dynfn::in_list_items(raw, &mut items);
                            let items = items.iter().map(|s| dj::to_kql_string(s)).collect();
                            cache = Some((raw.to_string(), items));
                        }
                        let items = &cache.as_ref().expect("set").1;
                        let h = hay.value(i);
                        let v = if all {
                            items.iter().all(|n| has_term(h, n, false, true, true))
                        } else {
                            items.iter().any(|n| has_term(h, n, false, true, true))
                        };
                        out.append_value(v);
                    }
                    Ok(Arc::new(out.finish()))
                }),
            )
        };
        [mk(false), mk(true)]
    });
    us[usize::from(all)].call(vec![x, arr])
}

macro_rules! str_udf {
    ($fn_name:ident, $name:expr, $ret:expr, $body:expr) => {
        fn $fn_name() -> &'static Arc<ScalarUDF> {
            static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
            U.get_or_init(|| udf($name, $ret, false, Arc::new($body) as Body))
        }
    };
}

str_udf!(strlen_udf, "kql_strlen", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let s = strs(&args[0]);
    let mut b = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_value(if s.is_null(i) { 0 } else { s.value(i).chars().count() as i64 });
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(substring_udf, "kql_substring", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let s = strs(&args[0]);
    let start = args[1].as_primitive::<Int64Type>();
    let len = args.get(2).map(|a| a.as_primitive::<Int64Type>());
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        if s.is_null(i) || start.is_null(i) {
            b.append_value("");
            continue;
        }
        let chars: Vec<char> = s.value(i).chars().collect();
        let n = chars.len() as i64;
        let mut st = start.value(i);
        if st < 0 {
            st = n.saturating_add(st).max(0);
        }
        let st = st.min(n);
        let end = match len {
            Some(l) if !l.is_null(i) => st.saturating_add(l.value(i).max(0)).min(n),
            _ => n,
        };
        b.append_value(chars[st as usize..end.max(st) as usize].iter().collect::<String>());
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(split_udf, "kql_split", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let s = strs(&args[0]);
    let d = strs(&args[1]);
    let ix = args.get(2).map(|a| a.as_primitive::<Int64Type>());
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        let text = if s.is_null(i) { "" } else { s.value(i) };
        let delim = if d.is_null(i) { "" } else { d.value(i) };
        let parts: Vec<&str> = if delim.is_empty() { vec![text] } else { text.split(delim).collect() };
        match ix {
            Some(ix) if !ix.is_null(i) => {
                let k = ix.value(i);
                let k = if k < 0 { parts.len() as i64 + k } else { k };
                match usize::try_from(k).ok().and_then(|k| parts.get(k)) {
                    Some(p) => b.append_value(format!("[{}]", dj::json_string(p))),
                    None => b.append_value("[]"),
                }
            }
            _ => {
                let items: Vec<String> = parts.iter().map(|p| dj::json_string(p)).collect();
                b.append_value(format!("[{}]", items.join(",")));
            }
        }
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(strcat_udf, "kql_strcat", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let cols: Vec<&StringArray> = args.iter().map(strs).collect();
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    let mut buf = String::new();
    for i in 0..rows {
        buf.clear();
        for c in &cols {
            if !c.is_null(i) {
                buf.push_str(c.value(i));
            }
        }
        b.append_value(&buf);
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(replace_string_udf, "kql_replace_string", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (s, f, t) = (strs(&args[0]), strs(&args[1]), strs(&args[2]));
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        let text = if s.is_null(i) { "" } else { s.value(i) };
        let from = if f.is_null(i) { "" } else { f.value(i) };
        let to = if t.is_null(i) { "" } else { t.value(i) };
        b.append_value(if from.is_empty() { text.to_string() } else { text.replace(from, to) });
    }
    Ok(Arc::new(b.finish()))
});

fn regex_cache(cache: &mut Option<(String, regex::Regex)>, pat: &str) -> R<regex::Regex> {
    if let Some((p, r)) = cache {
        if p == pat {
            return Ok(r.clone());
        }
    }
    let r = crate::value::re2::compile(pat)
        .map_err(|e| DataFusionError::Execution(format!("invalid regex `{pat}`: {e}")))?;
    *cache = Some((pat.to_string(), r.clone()));
    Ok(r)
}

/// Kusto (RE2/.NET) replacement syntax `\1` to the regex crate's `${1}`.
fn rewrite_replacement(r: &str) -> String {
    let mut out = String::new();
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(d) = chars.peek().copied().filter(|d| d.is_ascii_digit()) {
                chars.next();
                out.push_str(&format!("${{{d}}}"));
                continue;
            }
        }
        if c == '$' {
            out.push_str("$$");
            continue;
        }
        out.push(c);
    }
    out
}

str_udf!(replace_regex_udf, "kql_replace_regex", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (s, p, t) = (strs(&args[0]), strs(&args[1]), strs(&args[2]));
    let mut cache = None;
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        let text = if s.is_null(i) { "" } else { s.value(i) };
        if p.is_null(i) {
            b.append_value(text);
            continue;
        }
        let re = regex_cache(&mut cache, p.value(i))?;
        let to = rewrite_replacement(if t.is_null(i) { "" } else { t.value(i) });
        b.append_value(re.replace_all(text, to.as_str()));
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(extract_udf, "kql_extract", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (p, g, s) = (strs(&args[0]), args[1].as_primitive::<Int64Type>(), strs(&args[2]));
    let mut cache = None;
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        if p.is_null(i) || s.is_null(i) || g.is_null(i) {
            b.append_value("");
            continue;
        }
        let re = regex_cache(&mut cache, p.value(i))?;
        let v = re.captures(s.value(i)).and_then(|c| c.get(g.value(i) as usize)).map(|m| m.as_str()).unwrap_or("");
        b.append_value(v);
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(extract_all_udf, "kql_extract_all", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (p, s) = (strs(&args[0]), strs(&args[1]));
    let mut cache = None;
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        if p.is_null(i) || s.is_null(i) {
            b.append_null();
            continue;
        }
        let re = regex_cache(&mut cache, p.value(i))?;
        let groups = re.captures_len();
        let mut items = Vec::new();
        for c in re.captures_iter(s.value(i)) {
            if groups <= 2 {
                let m = c.get(if groups == 2 { 1 } else { 0 }).map(|m| m.as_str()).unwrap_or("");
                items.push(dj::json_string(m));
            } else {
                let sub: Vec<String> =
                    (1..groups).map(|k| dj::json_string(c.get(k).map(|m| m.as_str()).unwrap_or(""))).collect();
                items.push(format!("[{}]", sub.join(",")));
            }
        }
        if items.is_empty() {
            b.append_null();
        } else {
            b.append_value(format!("[{}]", items.join(",")));
        }
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(extract_all_groups_udf, "kql_extract_all_groups", DataType::Utf8, |args: &[ArrayRef],
                                                                            rows: usize|
 -> R<ArrayRef> {
    // (regex, captureGroups as JSON, source): the selected groups of every match; one group
    // gives a flat array, several an array per match; no match: null
    let (p, g, s) = (strs(&args[0]), strs(&args[1]), strs(&args[2]));
    let mut cache = None;
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        if p.is_null(i) || s.is_null(i) || g.is_null(i) {
            b.append_null();
            continue;
        }
        let re = regex_cache(&mut cache, p.value(i))?;
        let names: Vec<Option<&str>> = re.capture_names().collect();
        let wanted: Option<Vec<usize>> = serde_json::from_str::<serde_json::Value>(g.value(i))
            .ok()
            .and_then(|v| v.as_array().cloned())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|it| match it {
                        serde_json::Value::Number(n) => {
                            n.as_u64().map(|k| k as usize).filter(|k| *k >= 1 && *k < names.len())
                        }
                        serde_json::Value::String(n) => names.iter().position(|x| *x == Some(n.as_str())),
                        _ => None,
                    })
                    .collect()
            });
        let Some(wanted) = wanted.filter(|w| !w.is_empty()) else {
            b.append_null();
            continue;
        };
        let mut items = Vec::new();
        for c in re.captures_iter(s.value(i)) {
            let sub: Vec<String> =
                wanted.iter().map(|k| dj::json_string(c.get(*k).map(|m| m.as_str()).unwrap_or(""))).collect();
            items.push(if wanted.len() == 1 { sub[0].clone() } else { format!("[{}]", sub.join(",")) });
        }
        if items.is_empty() {
            b.append_null();
        } else {
            b.append_value(format!("[{}]", items.join(",")));
        }
    }
    Ok(Arc::new(b.finish()))
});

/// Kusto's `indexof(source, lookup, start, length, occurrence)` in characters: `start` counts
/// from the end when negative; `length` (-1: unlimited) bounds the positions where a match may
/// *start* (the match itself may run past them, as in Kusto); occurrences may overlap. Null for
/// a start before the beginning, a length below -1 or a negative occurrence; -1 when not found.
pub fn indexof(source: &str, lookup: &str, start: i64, length: i64, occurrence: i64) -> Option<i64> {
    let chars: Vec<char> = source.chars().collect();
    let n = chars.len() as i64;
    let start = if start < 0 { n.saturating_add(start) } else { start };
    if start < 0 || length < -1 || occurrence < 0 {
        return None;
    }
    if occurrence == 0 || start > n {
        return Some(-1);
    }
    let look: Vec<char> = lookup.chars().collect();
    let last_start = if length == -1 { n } else { start.saturating_add(length).min(n) };
    let mut seen = 0;
    let mut p = start;
    while p <= last_start && (p < last_start || look.is_empty() || length == -1) {
        let pu = p as usize;
        if pu + look.len() <= chars.len() && chars[pu..pu + look.len()] == look[..] {
            seen += 1;
            if seen == occurrence {
                return Some(p);
            }
        }
        p += 1;
    }
    Some(-1)
}

fn f_indexof(a: &[V]) -> Out {
    let (Some(s), Some(m)) = (a[0].s(), a[1].s()) else { return Out::Null };
    let arg = |k: usize, d: i64| match a.get(k) {
        None => Some(d),
        Some(v) => v.i(),
    };
    let (Some(start), Some(len), Some(occ)) = (arg(2, 0), arg(3, -1), arg(4, 1)) else { return Out::Null };
    indexof(s, m, start, len, occ).into()
}

/// Kusto's plain `countof`: occurrences of `search` in `text`, overlapping ones included.
pub fn countof_plain(text: &str, search: &str) -> i64 {
    if search.is_empty() {
        return 0;
    }
    let mut count = 0;
    let mut from = 0;
    while let Some(pos) = text[from..].find(search) {
        count += 1;
        let at = from + pos;
        from = at + text[at..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
    }
    count
}

fn f_countof(a: &[V]) -> Out {
    Out::I(countof_plain(a[0].s().unwrap_or(""), a[1].s().unwrap_or("")))
}

fn f_countof_regex(a: &[V]) -> Out {
    thread_local! {
        static CACHE: std::cell::RefCell<Option<(String, Option<regex::Regex>)>> = const { std::cell::RefCell::new(None) };
    }
    let (text, pat) = (a[0].s().unwrap_or(""), a[1].s().unwrap_or(""));
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.as_ref().is_none_or(|(p, _)| p != pat) {
            *c = Some((pat.to_string(), crate::value::re2::compile(pat).ok()));
        }
        match c.as_ref().and_then(|(_, r)| r.as_ref()) {
            Some(r) => Out::I(r.find_iter(text).count() as i64),
            None => Out::Null,
        }
    })
}

fn f_parse_urlquery(a: &[V]) -> Out {
    Out::S(crate::value::url::parse_urlquery_json(a[0].s().unwrap_or("")))
}

/// Kusto repeats a string at most this many times (a larger multiplier counts as this).
const STRREP_MAX: i64 = 1024;

/// `strrep(value, multiplier[, delimiter])`, row by row: the multiplier of each row, capped at
/// [`STRREP_MAX`] as Kusto does (it was once unrolled into a `strcat` of as many arguments as
/// a constant multiplier said, which a multiplier near `long`'s maximum never finished
/// building, and a column multiplier read as 1).
fn f_strrep(a: &[V]) -> Out {
    let Some(times) = a[1].i() else { return Out::Null };
    let value = a[0].s().unwrap_or("");
    let delim = a.get(2).and_then(|d| d.s()).unwrap_or("");
    let times = times.clamp(0, STRREP_MAX) as usize;
    let mut out = String::with_capacity((value.len() + delim.len()) * times);
    for k in 0..times {
        if k > 0 {
            out.push_str(delim);
        }
        out.push_str(value);
    }
    Out::S(out)
}

fn f_parse_xml(a: &[V]) -> Out {
    a[0].s().and_then(crate::value::xml::parse_xml_json).into()
}

/// `regex_quote(s)`: every ASCII character other than a letter, digit or `_` is escaped with a
/// backslash (RE2's QuoteMeta, the engine behind Kusto's regexes); NUL becomes `\x00`.
pub(crate) fn regex_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if c == '\0' {
            out.push_str("\\x00");
        } else if c.is_ascii() && !c.is_ascii_alphanumeric() && c != '_' {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out
}

fn f_regex_quote(a: &[V]) -> Out {
    Out::S(regex_quote(a[0].s().unwrap_or("")))
}

/// `parse_version(v)`: one to four dot-separated parts of 1 to 8 digits each, missing parts
/// trailing zeros; the value is the parts as 8-digit groups (`1.2` = 1_00000002_00000000_00000000).
/// Anything else is null.
pub(crate) fn parse_version(v: &str) -> Option<u128> {
    let parts: Vec<&str> = v.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut acc: u128 = 0;
    for k in 0..4 {
        let n: u128 = match parts.get(k) {
            Some(p) if !p.is_empty() && p.len() <= 8 && p.bytes().all(|c| c.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
            None => 0,
        };
        acc = acc * 100_000_000 + n;
    }
    Some(acc)
}

fn f_parse_version(a: &[V]) -> Out {
    // decimals are carried as reals by this engine
    a[0].s().and_then(parse_version).map_or(Out::Null, |n| Out::F(n as f64))
}

fn f_string_size(a: &[V]) -> Out {
    Out::I(a[0].s().map_or(0, |s| s.len() as i64))
}

str_udf!(trim_udf, "kql_trim", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let (p, s) = (strs(&args[0]), strs(&args[1]));
    let mut cache = None;
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        let text = if s.is_null(i) { "" } else { s.value(i) };
        let re = regex_cache(&mut cache, &format!("^(?:{})+|(?:{})+$", p.value(i), p.value(i)))?;
        b.append_value(re.replace_all(text, ""));
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(sha256_udf, "kql_hash_sha256", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    use datafusion::arrow::array::StringBuilder as SB;
    let s = strs(&args[0]);
    let mut b = SB::with_capacity(rows, rows * 64);
    for i in 0..rows {
        let text = if s.is_null(i) { "" } else { s.value(i) };
        b.append_value(crate::value::hash::sha256_hex(text.as_bytes()));
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(b64dec_udf, "kql_base64_decode_tostring", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let s = strs(&args[0]);
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        let text = if s.is_null(i) { "" } else { s.value(i) };
        match crate::value::hash::base64_decode(text).and_then(|v| String::from_utf8(v).ok()) {
            Some(d) => b.append_value(d),
            None => b.append_value(""),
        }
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(b64enc_udf, "kql_base64_encode_tostring", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let s = strs(&args[0]);
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        let text = if s.is_null(i) { "" } else { s.value(i) };
        b.append_value(crate::value::hash::base64_encode(text.as_bytes()));
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(reverse_udf, "kql_reverse", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let s = strs(&args[0]);
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        b.append_value(if s.is_null(i) { String::new() } else { s.value(i).chars().rev().collect() });
    }
    Ok(Arc::new(b.finish()))
});

str_udf!(parse_url_udf, "kql_parse_url", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let s = strs(&args[0]);
    let mut b = StringBuilder::with_capacity(rows, rows * 64);
    for i in 0..rows {
        let text = if s.is_null(i) { "" } else { s.value(i) };
        b.append_value(crate::value::url::parse_url_json(text));
    }
    Ok(Arc::new(b.finish()))
});

/// Bind the string family.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    let s = |k: usize| b.coerce(args[k].clone(), KqlType::String).expr;
    let l = |k: usize| b.coerce(args[k].clone(), KqlType::Long).expr;
    let n = args.len();
    let out = match (name, n) {
        ("strlen", 1) => Bound::new(strlen_udf().call(vec![s(0)]), KqlType::Long),
        ("substring", 2 | 3) => Bound::new(
            substring_udf().call((0..n).map(|k| if k == 0 { s(0) } else { l(k) }).collect()),
            KqlType::String,
        ),
        ("tolower", 1) => Bound::new(lower(s(0)), KqlType::String),
        ("toupper", 1) => Bound::new(datafusion::functions::string::expr_fn::upper(s(0)), KqlType::String),
        ("strcat", _) if n >= 1 => Bound::new(strcat_udf().call((0..n).map(s).collect()), KqlType::String),
        ("strcat_delim", _) if n >= 2 => {
            let d = s(0);
            let mut parts = Vec::new();
            for k in 1..n {
                if k > 1 {
                    parts.push(d.clone());
                }
                parts.push(s(k));
            }
            Bound::new(strcat_udf().call(parts), KqlType::String)
        }
        ("split", 2 | 3) => {
            let mut a = vec![s(0), s(1)];
            if n == 3 {
                a.push(l(2));
            }
            Bound::new(split_udf().call(a), KqlType::Dynamic)
        }
        ("replace_string", 3) => Bound::new(replace_string_udf().call(vec![s(0), s(1), s(2)]), KqlType::String),
        ("replace_regex", 3) => Bound::new(replace_regex_udf().call(vec![s(0), s(1), s(2)]), KqlType::String),
        ("replace", 3) => Bound::new(replace_regex_udf().call(vec![s(2), s(0), s(1)]), KqlType::String),
        ("extract", 3 | 4) => {
            let e = extract_udf().call(vec![s(0), l(1), s(2)]);
            match args.get(3).map(|t| t.ty) {
                Some(_) => {
                    let target = arg_str_const(&args[3]).and_then(|t| KqlType::parse(&t)).unwrap_or(KqlType::String);
                    let bound = Bound::new(e, KqlType::String);
                    b.coerce(bound, target)
                }
                None => Bound::new(e, KqlType::String),
            }
        }
        ("extract_all", 2) => Bound::new(extract_all_udf().call(vec![s(0), s(1)]), KqlType::Dynamic),
        ("extract_all", 3) => {
            let groups = b.coerce(args[1].clone(), KqlType::Dynamic).expr;
            Bound::new(extract_all_groups_udf().call(vec![s(0), groups, s(2)]), KqlType::Dynamic)
        }
        ("indexof", 2..=5) => {
            row_call("kql_indexof", KqlType::Long, f_indexof, (0..n).map(|k| if k < 2 { s(k) } else { l(k) }).collect())
        }
        ("countof", 2) => row_call("kql_countof", KqlType::Long, f_countof, vec![s(0), s(1)]),
        ("has_any_index", 2) => {
            let d = b.coerce(args[1].clone(), KqlType::Dynamic).expr;
            row_call("kql_has_any_index", KqlType::Long, f_has_any_index, vec![s(0), d])
        }
        ("countof", 3) => match arg_str_const(&args[2]).as_deref() {
            Some("normal") => row_call("kql_countof", KqlType::Long, f_countof, vec![s(0), s(1)]),
            Some("regex") => row_call("kql_countof_regex", KqlType::Long, f_countof_regex, vec![s(0), s(1)]),
            _ => {
                return Some(Err(KqlError::new(
                    "KQL082",
                    "the kind argument of countof must be the constant \"normal\" or \"regex\"",
                    ctx.span,
                )))
            }
        },
        ("regex_quote", 1) => row_call("kql_regex_quote", KqlType::String, f_regex_quote, vec![s(0)]),
        ("parse_version", 1) => row_call("kql_parse_version", KqlType::Decimal, f_parse_version, vec![s(0)]),
        ("string_size", 1) => row_call("kql_string_size", KqlType::Long, f_string_size, vec![s(0)]),
        ("trim", 2) => Bound::new(trim_udf().call(vec![s(0), s(1)]), KqlType::String),
        ("trim_start", 2) => {
            let p = arg_str_const(&args[0]).unwrap_or_default();
            Bound::new(replace_regex_udf().call(vec![s(1), lit(format!("^(?:{p})+")), lit("")]), KqlType::String)
        }
        ("trim_end", 2) => {
            let p = arg_str_const(&args[0]).unwrap_or_default();
            Bound::new(replace_regex_udf().call(vec![s(1), lit(format!("(?:{p})+$")), lit("")]), KqlType::String)
        }
        ("hash_sha256", 1) => Bound::new(sha256_udf().call(vec![s(0)]), KqlType::String),
        ("base64_decode_tostring" | "base64_decodestring", 1) => {
            Bound::new(b64dec_udf().call(vec![s(0)]), KqlType::String)
        }
        ("base64_encode_tostring" | "base64_encodestring", 1) => {
            Bound::new(b64enc_udf().call(vec![s(0)]), KqlType::String)
        }
        ("reverse", 1) => Bound::new(reverse_udf().call(vec![s(0)]), KqlType::String),
        ("parse_url" | "parseurl", 1) => Bound::new(parse_url_udf().call(vec![s(0)]), KqlType::Dynamic),
        ("parse_xml", 1) => row_call("kql_parse_xml", KqlType::Dynamic, f_parse_xml, vec![s(0)]),
        ("parse_urlquery" | "parseurlquery", 1) => {
            row_call("kql_parse_urlquery", KqlType::Dynamic, f_parse_urlquery, vec![s(0)])
        }
        ("isascii", 1) => {
            Bound::new(string_op(StrOpKind::MatchesRegex, true, s(0), lit("^[\\x00-\\x7F]*$")), KqlType::Bool)
        }
        ("strrep", 2 | 3) => {
            let mut a = vec![s(0), l(1)];
            if n == 3 {
                a.push(s(2));
            }
            row_call("kql_strrep", KqlType::String, f_strrep, a)
        }
        ("strcmp", 2) => {
            let (x, y) = (s(0), s(1));
            let e = datafusion::logical_expr::when(x.clone().lt(y.clone()), lit(-1i64))
                .when(x.gt(y), lit(1i64))
                .otherwise(lit(0i64));
            match e {
                Ok(e) => Bound::new(e, KqlType::Long),
                Err(e) => return Some(Err(KqlError::from(e))),
            }
        }
        _ => return None,
    };
    Some(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_quote_doc_example() {
        assert_eq!(regex_quote("(so$me.Te^xt)"), r"\(so\$me\.Te\^xt\)");
        assert_eq!(regex_quote(""), "");
        assert_eq!(regex_quote("a_b 1\\"), r"a_b\ 1\\");
        assert_eq!(regex_quote("é[]"), r"é\[\]");
        assert_eq!(f_regex_quote(&[V::Null]), Out::S(String::new()));
    }

    #[test]
    fn parse_version_doc_examples() {
        assert_eq!(parse_version("0.0.0.5"), Some(5));
        assert_eq!(parse_version("0.0.7.0"), Some(700_000_000));
        assert_eq!(parse_version("0.0.3"), Some(300_000_000));
        assert_eq!(parse_version("0.2"), Some(20_000_000_000_000_000));
        assert_eq!(parse_version("0.1.2.0"), Some(10_000_000_200_000_000));
        assert_eq!(parse_version("1.2.3.4"), Some(1_00000002_00000003_00000004));
        assert_eq!(parse_version("1"), Some(1_00000000_00000000_00000000));
        assert_eq!(parse_version("99999999.99999999.99999999.99999999"), Some(99999999_99999999_99999999_99999999));
        for bad in ["", ".", "1.", "a", "1.2.3.4.5", "123456789", "-1", "1..2", " 1", "1.2x"] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
        assert_eq!(f_parse_version(&[V::Null]), Out::Null);
        assert_eq!(f_parse_version(&[V::S("1.0")]), Out::F(1e24));
    }

    #[test]
    fn indexof_doc_examples() {
        assert_eq!(indexof("abcdefg", "cde", 0, -1, 1), Some(2));
        assert_eq!(indexof("abcdefg", "cde", 1, 4, 1), Some(2));
        // Kusto: the length bounds where a match starts, not where it ends
        assert_eq!(indexof("abcdefg", "cde", 1, 2, 1), Some(2));
        assert_eq!(indexof("abcdefg", "cde", 3, 4, 1), Some(-1));
        assert_eq!(indexof("abcdefg", "cde", -5, -1, 1), Some(2));
        assert_eq!(indexof("1234567", "5", 1, 4, 1), Some(4));
        assert_eq!(indexof("abcdefg", "cde", 2, -1, 1), Some(2));
        assert_eq!(indexof("abcdefgabcdefg", "cde", 1, 10, 2), Some(9));
        assert_eq!(indexof("abcdefgabcdefg", "cde", 1, -1, 3), Some(-1));
    }

    #[test]
    fn indexof_edges() {
        assert_eq!(indexof("abc", "c", -10, -1, 1), None);
        assert_eq!(indexof("abc", "c", 0, -2, 1), None);
        assert_eq!(indexof("abc", "c", 0, -1, -1), None);
        assert_eq!(indexof("abc", "c", 0, -1, 0), Some(-1));
        assert_eq!(indexof("abc", "c", 10, -1, 1), Some(-1));
        assert_eq!(indexof("abc", "", 0, -1, 1), Some(0));
        assert_eq!(indexof("", "", 0, -1, 1), Some(0));
        assert_eq!(indexof("", "a", 0, -1, 1), Some(-1));
        assert_eq!(indexof("aaaa", "aa", 0, -1, 2), Some(1));
        assert_eq!(indexof("äöü", "ü", 0, -1, 1), Some(2));
        assert_eq!(f_indexof(&[V::S("abc"), V::S("b"), V::Null]), Out::Null);
        assert_eq!(f_indexof(&[V::S("abc"), V::S("b")]), Out::I(1));
    }

    #[test]
    fn countof_doc_examples() {
        assert_eq!(countof_plain("aaa", "a"), 3);
        assert_eq!(countof_plain("aaaa", "aa"), 3);
        assert_eq!(countof_plain("ababa", "ab"), 2);
        assert_eq!(countof_plain("ababa", "aba"), 2);
        assert_eq!(f_countof_regex(&[V::S("ababa"), V::S("aba")]), Out::I(1));
        assert_eq!(f_countof_regex(&[V::S("abcabc"), V::S("a.c")]), Out::I(2));
        assert_eq!(f_countof_regex(&[V::S("abc"), V::S("(")]), Out::Null);
        assert_eq!(countof_plain("abc", ""), 0);
        assert_eq!(countof_plain("ééé", "é"), 3);
        assert_eq!(f_countof(&[V::Null, V::S("a")]), Out::I(0));
    }

    #[test]
    fn string_size_bytes() {
        assert_eq!(f_string_size(&[V::S("hello")]), Out::I(5));
        assert_eq!(f_string_size(&[V::S("⒦⒰⒮⒯⒪")]), Out::I(15));
        assert_eq!(f_string_size(&[V::Null]), Out::I(0));
    }
}
