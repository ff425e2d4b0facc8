//! `parse`, `parse-where` and `parse-kv`.
//!
//! `parse` turns its pattern into one regular expression (compiled once, at bind time) with a
//! capture group per extracted column; a UDF returns a struct of the typed columns (and a
//! `matched` flag for `parse-where`), which a projection spreads into columns.
//!
//! - `kind=simple` (default): literals match literally, `*` skips as little as possible, a
//!   string column takes text up to the first occurrence of what follows it (the rest of the
//!   text when it ends the pattern); typed columns match their type's lexical form. The whole
//!   text must match and every typed value must convert, or all columns are empty.
//! - `kind=regex [flags=...]`: literals are regular expressions; string columns are greedy
//!   (`(.*)`), as in Kusto.
//! - `kind=relaxed`: as simple, but a typed value that does not convert only empties its own
//!   column.

use super::super::scalar::column;
use super::super::{Binder, Bound, Col, Rel};
use super::{extend_cols, mk_rel, name_text, param};
use crate::error::{KqlError, Result};
use crate::functions::convert::{parse_scalar_string, ParsedScalar};
use crate::functions::udf::udf;
use crate::schema::KqlType;
use crate::types::arrow_type;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder, StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::DataFusionError;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use kql_parser::ast::{self, ParsePart};
use kql_parser::Span;
use std::sync::Arc;

type R<T> = std::result::Result<T, DataFusionError>;

/// A column builder for one extracted column of a KQL type.
pub(crate) enum ColOut {
    Str(StringBuilder, bool),
    I64(Int64Builder),
    I32(Int32Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
}

impl ColOut {
    pub(crate) fn new(ty: KqlType) -> ColOut {
        match ty {
            KqlType::String => ColOut::Str(StringBuilder::new(), true),
            KqlType::Guid | KqlType::Dynamic => ColOut::Str(StringBuilder::new(), false),
            KqlType::Long | KqlType::DateTime | KqlType::TimeSpan => ColOut::I64(Int64Builder::new()),
            KqlType::Int => ColOut::I32(Int32Builder::new()),
            KqlType::Real | KqlType::Decimal => ColOut::F64(Float64Builder::new()),
            KqlType::Bool => ColOut::Bool(BooleanBuilder::new()),
        }
    }

    /// Append the empty value of the column's type.
    pub(crate) fn empty(&mut self) {
        match self {
            ColOut::Str(b, true) => b.append_value(""),
            ColOut::Str(b, false) => b.append_null(),
            ColOut::I64(b) => b.append_null(),
            ColOut::I32(b) => b.append_null(),
            ColOut::F64(b) => b.append_null(),
            ColOut::Bool(b) => b.append_null(),
        }
    }

    pub(crate) fn push(&mut self, v: Converted) {
        match (self, v) {
            (ColOut::Str(b, _), Converted::Str(s)) => b.append_value(s),
            (ColOut::I64(b), Converted::Scalar(ParsedScalar::I64(x))) => b.append_value(x),
            (ColOut::I32(b), Converted::Scalar(ParsedScalar::I32(x))) => b.append_value(x),
            (ColOut::F64(b), Converted::Scalar(ParsedScalar::F64(x))) => b.append_value(x),
            (ColOut::Bool(b), Converted::Scalar(ParsedScalar::Bool(x))) => b.append_value(x),
            (c, _) => c.empty(),
        }
    }

    pub(crate) fn finish(&mut self) -> ArrayRef {
        match self {
            ColOut::Str(b, _) => Arc::new(b.finish()),
            ColOut::I64(b) => Arc::new(b.finish()),
            ColOut::I32(b) => Arc::new(b.finish()),
            ColOut::F64(b) => Arc::new(b.finish()),
            ColOut::Bool(b) => Arc::new(b.finish()),
        }
    }
}

/// A converted value.
pub(crate) enum Converted {
    Str(String),
    Scalar(ParsedScalar),
}

/// Convert extracted text to a KQL type (None when it does not convert).
pub(crate) fn convert_text(s: &str, ty: KqlType) -> Option<Converted> {
    match ty {
        KqlType::String => Some(Converted::Str(s.to_string())),
        KqlType::Guid => {
            let t = s.trim();
            let hex: String = t.chars().filter(|c| *c != '-' && *c != '{' && *c != '}').collect();
            if hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                Some(Converted::Str(t.trim_matches(|c| c == '{' || c == '}').to_lowercase()))
            } else {
                None
            }
        }
        KqlType::Dynamic => Some(Converted::Str(dj::parse_json(s).unwrap_or_else(|| dj::json_string(s)))),
        _ => parse_scalar_string(s, ty).map(Converted::Scalar),
    }
}

fn struct_fields(cols: &[Col]) -> Fields {
    let mut f: Vec<Field> =
        cols.iter().enumerate().map(|(i, c)| Field::new(format!("c{i}"), arrow_type(c.ty), true)).collect();
    f.push(Field::new("ok", DataType::Boolean, true));
    Fields::from(f)
}

/// Build the struct UDF output from per-row extraction results.
pub(crate) fn struct_udf_expr(
    name: &str,
    cols: Vec<Col>,
    input: Vec<Expr>,
    extract: Arc<dyn Fn(&[ArrayRef], usize, &mut [ColOut]) -> bool + Send + Sync>,
) -> Expr {
    let fields = struct_fields(&cols);
    let ret = DataType::Struct(fields.clone());
    let body = Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let mut outs: Vec<ColOut> = cols.iter().map(|c| ColOut::new(c.ty)).collect();
        let mut ok = BooleanBuilder::with_capacity(rows);
        for i in 0..rows {
            ok.append_value(extract(args, i, &mut outs));
        }
        let mut arrays: Vec<ArrayRef> = outs.iter_mut().map(|o| o.finish()).collect();
        arrays.push(Arc::new(ok.finish()));
        Ok(Arc::new(StructArray::try_new(fields.clone(), arrays, None)?) as ArrayRef)
    });
    udf(name, ret, false, body).call(input)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Simple,
    Regex,
    Relaxed,
}

fn type_regex(ty: KqlType) -> Option<&'static str> {
    match ty {
        KqlType::Long | KqlType::Int => Some(r"[\-+]?\d+"),
        KqlType::Real | KqlType::Decimal => Some(r"[\-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][\-+]?\d+)?"),
        KqlType::Bool => Some(r"(?i:true|false)"),
        _ => None,
    }
}

impl Binder<'_> {
    /// The parsed value as a string expression.
    fn parse_source(&mut self, rel: &Rel, source: &ast::Expr) -> Result<Expr> {
        let b = self.bind_scalar(source, rel)?;
        Ok(if b.ty == KqlType::Dynamic {
            crate::functions::dynfn::tostring(b.expr)
        } else {
            self.coerce(b, KqlType::String).expr
        })
    }

    /// `parse` / `parse-where`.
    pub(crate) fn bind_parse(
        &mut self,
        rel: Rel,
        is_where: bool,
        params: &[ast::NamedArg],
        source: &ast::Expr,
        pattern: &[ParsePart],
        span: Span,
    ) -> Result<Rel> {
        let kind = match param(params, "kind").and_then(name_text).map(|s| s.to_lowercase()).as_deref() {
            None | Some("simple") => Kind::Simple,
            Some("regex") => Kind::Regex,
            Some("relaxed") => Kind::Relaxed,
            Some(other) => {
                return Err(KqlError::new("KQL100", format!("unknown parse kind `{other}`"), span)
                    .with_help("use kind=simple, kind=regex or kind=relaxed"))
            }
        };
        let flags = param(params, "flags").and_then(name_text).unwrap_or_default();
        if !flags.is_empty() && kind != Kind::Regex {
            return Err(KqlError::new("KQL101", "regex flags are only allowed with kind=regex", span));
        }
        let src = self.parse_source(&rel, source)?;
        // the regex
        let mut re = String::new();
        if kind == Kind::Regex {
            if !flags.is_empty() {
                let ok = flags.chars().all(|c| matches!(c, 'i' | 'm' | 's' | 'U' | 'x'));
                if !ok {
                    return Err(KqlError::new("KQL102", format!("unsupported regex flags `{flags}`"), span)
                        .with_help("use a combination of i, m, s and U"));
                }
                re.push_str(&format!("(?{flags})"));
            }
        } else {
            re.push_str("(?s)");
        }
        re.push_str(r"\A");
        let mut cols: Vec<Col> = Vec::new();
        let mut prev_col = false;
        for (k, part) in pattern.iter().enumerate() {
            let last = k + 1 == pattern.len();
            match part {
                ParsePart::Star => {
                    re.push_str(if last { "(?:.*)" } else { "(?:.*?)" });
                    prev_col = false;
                }
                ParsePart::Literal(s) => {
                    if kind == Kind::Regex {
                        re.push_str(&format!("(?:{s})"));
                    } else {
                        re.push_str(&regex::escape(s));
                    }
                    prev_col = false;
                }
                ParsePart::Column(id, ty) => {
                    if prev_col {
                        return Err(KqlError::new("KS101", "The column name must follow a string literal", id.span));
                    }
                    prev_col = true;
                    let t = ty.as_ref().map(super::super::tabular::type_of).unwrap_or(KqlType::String);
                    let g = cols.len();
                    let any = if kind == Kind::Regex || last { ".*" } else { ".*?" };
                    let body = match (kind, type_regex(t)) {
                        (Kind::Relaxed, Some(tr)) => format!("{tr}|{any}"),
                        (_, Some(tr)) => tr.to_string(),
                        (_, None) => any.to_string(),
                    };
                    re.push_str(&format!("(?P<c{g}>{body})"));
                    if let Some(i) = cols.iter().position(|c| c.name == id.name) {
                        cols[i].ty = t;
                    } else {
                        cols.push(Col::new(&id.name, t));
                    }
                }
            }
        }
        re.push_str(r"\z");
        let regex = crate::value::re2::compile(&re)
            .map_err(|e| KqlError::new("KQL103", format!("invalid parse pattern: {e}"), span))?;
        // group index per column (a repeated column name keeps its last group)
        let mut group_of: Vec<usize> = vec![0; cols.len()];
        {
            let mut g = 0;
            for part in pattern {
                if let ParsePart::Column(id, _) = part {
                    let i = cols.iter().position(|c| c.name == id.name).unwrap_or(0);
                    group_of[i] = g;
                    g += 1;
                }
            }
        }
        let types: Vec<KqlType> = cols.iter().map(|c| c.ty).collect();
        let strict = kind != Kind::Relaxed;
        let extract = Arc::new(move |args: &[ArrayRef], i: usize, outs: &mut [ColOut]| -> bool {
            let s = args[0].as_string::<i32>();
            let caps = if s.is_null(i) { None } else { regex.captures(s.value(i)) };
            let Some(caps) = caps else {
                outs.iter_mut().for_each(|o| o.empty());
                return false;
            };
            let mut vals: Vec<Option<Converted>> = Vec::with_capacity(types.len());
            for (c, ty) in types.iter().enumerate() {
                let text = caps.name(&format!("c{}", group_of[c])).map(|m| m.as_str()).unwrap_or("");
                let v = convert_text(text, *ty);
                if v.is_none() && strict {
                    outs.iter_mut().for_each(|o| o.empty());
                    return false;
                }
                vals.push(v);
            }
            for (o, v) in outs.iter_mut().zip(vals) {
                match v {
                    Some(v) => o.push(v),
                    None => o.empty(),
                }
            }
            true
        });
        self.apply_struct_extract(rel, "kql_parse", cols, vec![src], extract, is_where)
    }

    /// Apply a struct-returning extraction and spread it into columns (replacing same-named
    /// columns in place); with `filter`, drop the rows where it did not match.
    pub(crate) fn apply_struct_extract(
        &mut self,
        rel: Rel,
        name: &str,
        cols: Vec<Col>,
        input: Vec<Expr>,
        extract: Arc<dyn Fn(&[ArrayRef], usize, &mut [ColOut]) -> bool + Send + Sync>,
        filter: bool,
    ) -> Result<Rel> {
        let tmp = self.fresh_alias("parsed");
        // Each parse has its own pattern: give its function a name of its own, so nothing that
        // identifies expressions by their printed form can take one parse for another.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        let name = format!("{name}_{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let e = struct_udf_expr(&name, cols.clone(), input, extract);
        let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        exprs.push(e.alias(&tmp));
        let mut b = LogicalPlanBuilder::from(rel.plan).project(exprs)?;
        if filter {
            b = b.filter(datafusion::functions::core::expr_fn::get_field(column(&tmp), "ok").is_true())?;
        }
        let plan = b.build()?;
        let staged = mk_rel(plan, rel.cols.clone());
        let new: Vec<(String, KqlType, Expr)> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (c.name.clone(), c.ty, datafusion::functions::core::expr_fn::get_field(column(&tmp), format!("c{i}")))
            })
            .collect();
        // extend_cols keeps every input column; the temporary struct is not among them
        extend_cols(staged, new)
    }

    /// `parse-kv expr as (cols) [with (props)]`.
    pub(crate) fn bind_parse_kv(
        &mut self,
        rel: Rel,
        source: &ast::Expr,
        columns: &[ast::ColumnDecl],
        props: &[ast::NamedArg],
        span: Span,
    ) -> Result<Rel> {
        let src = self.parse_source(&rel, source)?;
        let mut opts = KvOptions::default();
        for p in props {
            let name = p.name.name.to_lowercase();
            let v = self.bind_constant(&p.value)?;
            let text = const_text(self, v, p.value.span)?;
            match name.as_str() {
                "pair_delimiter" => opts.pair = Some(text),
                "kv_delimiter" => opts.kv = Some(text),
                "quote" => {
                    let cs: Vec<char> = text.chars().collect();
                    match cs.len() {
                        1 => opts.quotes.push((cs[0], cs[0])),
                        2 => opts.quotes.push((cs[0], cs[1])),
                        _ => return Err(KqlError::new("KQL104", "quote is one or two characters", p.value.span)),
                    }
                }
                "escape" => opts.escapes.extend(text.chars().take(1)),
                "greedy" => opts.greedy = text.eq_ignore_ascii_case("true"),
                "regex" => {
                    opts.regex =
                        Some(crate::value::re2::compile(&text).map_err(|e| {
                            KqlError::new("KQL105", format!("invalid parse-kv regex: {e}"), p.value.span)
                        })?)
                }
                other => {
                    return Err(KqlError::new("KQL106", format!("unknown parse-kv property `{other}`"), p.name.span))
                }
            }
        }
        if opts.pair.is_some() != opts.kv.is_some() {
            return Err(KqlError::new("KQL107", "parse-kv needs both pair_delimiter and kv_delimiter", span));
        }
        let cols: Vec<Col> =
            columns.iter().map(|c| Col::new(&c.name.name, super::super::tabular::type_of(&c.ty))).collect();
        let keys: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
        let types: Vec<KqlType> = cols.iter().map(|c| c.ty).collect();
        let opts = Arc::new(opts);
        let extract = Arc::new(move |args: &[ArrayRef], i: usize, outs: &mut [ColOut]| -> bool {
            let s = args[0].as_string::<i32>();
            if s.is_null(i) {
                outs.iter_mut().for_each(|o| o.empty());
                return false;
            }
            let found = kv_extract(s.value(i), &opts, &keys);
            for ((o, v), ty) in outs.iter_mut().zip(found).zip(&types) {
                match v.and_then(|v| convert_text(&v, *ty)) {
                    Some(c) => o.push(c),
                    None => o.empty(),
                }
            }
            true
        });
        self.apply_struct_extract(rel, "kql_parse_kv", cols, vec![src], extract, false)
    }
}

fn const_text(b: &Binder, v: Bound, span: Span) -> Result<String> {
    let ty = v.ty;
    let sv = b.const_value(b.coerce(v, KqlType::String).expr, KqlType::String, span)?;
    let _ = ty;
    match sv {
        datafusion::common::ScalarValue::Utf8(Some(s)) => Ok(s),
        _ => Err(KqlError::new("KQL108", "expected a constant string", span)),
    }
}

#[derive(Default)]
struct KvOptions {
    pair: Option<String>,
    kv: Option<String>,
    quotes: Vec<(char, char)>,
    escapes: Vec<char>,
    greedy: bool,
    regex: Option<regex::Regex>,
}

/// Read a quoted value starting at the opening quote; returns (value, bytes consumed).
fn read_quoted(text: &str, open: char, close: char, escapes: &[char]) -> (String, usize) {
    let mut out = String::new();
    let mut it = text.char_indices();
    it.next(); // the opening quote
    let mut escaped = false;
    for (i, c) in it {
        if escaped {
            out.push(c);
            escaped = false;
            continue;
        }
        if escapes.contains(&c) {
            escaped = true;
            continue;
        }
        if c == close {
            return (out, i + c.len_utf8());
        }
        out.push(c);
    }
    let _ = open;
    (out, text.len())
}

fn unquote(s: &str, opts: &KvOptions) -> String {
    let t = s.trim();
    for (o, c) in &opts.quotes {
        if t.starts_with(*o) {
            return read_quoted(t, *o, *c, &opts.escapes).0;
        }
    }
    t.to_string()
}

/// Split on a delimiter outside quotes.
fn split_outside_quotes<'t>(text: &'t str, delim: &str, opts: &KvOptions) -> Vec<&'t str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    let mut in_quote: Option<char> = None;
    let mut escaped = false;
    while i < text.len() {
        let c = text[i..].chars().next().unwrap_or(' ');
        if let Some(close) = in_quote {
            if escaped {
                escaped = false;
            } else if opts.escapes.contains(&c) {
                escaped = true;
            } else if c == close {
                in_quote = None;
            }
            i += c.len_utf8();
            continue;
        }
        if let Some((_, close)) = opts.quotes.iter().find(|(o, _)| *o == c) {
            in_quote = Some(*close);
            i += c.len_utf8();
            continue;
        }
        if !delim.is_empty() && bytes[i..].starts_with(delim.as_bytes()) {
            parts.push(&text[start..i]);
            i += delim.len();
            start = i;
            continue;
        }
        i += c.len_utf8();
    }
    parts.push(&text[start..]);
    parts
}

fn kv_extract(text: &str, opts: &KvOptions, keys: &[String]) -> Vec<Option<String>> {
    let mut found: Vec<Option<String>> = vec![None; keys.len()];
    let set = |k: &str, v: String, found: &mut Vec<Option<String>>| {
        if let Some(i) = keys.iter().position(|x| x == k) {
            if found[i].is_none() {
                found[i] = Some(v);
            }
        }
    };
    if let Some(re) = &opts.regex {
        for caps in re.captures_iter(text) {
            let k = caps.get(1).map(|m| m.as_str().trim()).unwrap_or("");
            let v = caps.get(2).map(|m| m.as_str().trim()).unwrap_or("");
            set(k, v.to_string(), &mut found);
        }
        return found;
    }
    match (&opts.pair, &opts.kv) {
        (Some(pd), Some(kd)) if opts.greedy => {
            // every kv delimiter outside quotes, with the key before it
            let segs = split_outside_quotes(text, kd, opts);
            // segs[0] = key1; segs[i] = value_i + pd + key_{i+1}; last = value_n
            let mut key = unquote(segs[0].rsplit(pd.as_str()).next().unwrap_or(""), opts);
            for (j, seg) in segs.iter().enumerate().skip(1) {
                let (value, next_key) = if j + 1 == segs.len() {
                    (seg.to_string(), String::new())
                } else {
                    match seg.rfind(pd.as_str()) {
                        Some(p) => (seg[..p].to_string(), seg[p + pd.len()..].to_string()),
                        None => (seg.to_string(), String::new()),
                    }
                };
                set(&key, unquote(&value, opts), &mut found);
                key = unquote(&next_key, opts);
            }
        }
        (Some(pd), Some(kd)) => {
            for pair in split_outside_quotes(text, pd, opts) {
                let kv = split_outside_quotes(pair, kd, opts);
                if kv.len() < 2 {
                    continue;
                }
                let k = unquote(kv[0], opts);
                let rest = &pair[kv[0].len() + kd.len()..];
                set(&k, unquote(rest, opts), &mut found);
            }
        }
        _ => {
            // no delimiters: any non-alphanumeric character delimits
            let chars: Vec<(usize, char)> = text.char_indices().collect();
            let is_word = |c: char| c.is_alphanumeric() || c == '_';
            let mut p = 0;
            while p < chars.len() {
                let (start, c) = chars[p];
                let quoted = opts.quotes.iter().find(|(o, _)| *o == c).copied();
                let (token, next) = if let Some((o, cl)) = quoted {
                    let (v, used) = read_quoted(&text[start..], o, cl, &opts.escapes);
                    let end = start + used;
                    (Some(v), chars.iter().position(|(i, _)| *i >= end).unwrap_or(chars.len()))
                } else if is_word(c) {
                    let mut q = p;
                    while q < chars.len() && is_word(chars[q].1) {
                        q += 1;
                    }
                    let end = chars.get(q).map(|x| x.0).unwrap_or(text.len());
                    (Some(text[start..end].to_string()), q)
                } else {
                    (None, p + 1)
                };
                p = next;
                let Some(key) = token else { continue };
                if !keys.contains(&key) {
                    continue;
                }
                // the key is followed by one delimiter (with blanks), then the value
                let mut q = p;
                while q < chars.len() && chars[q].1 == ' ' {
                    q += 1;
                }
                if q >= chars.len() || is_word(chars[q].1) {
                    continue;
                }
                q += 1;
                while q < chars.len() && chars[q].1 == ' ' {
                    q += 1;
                }
                if q >= chars.len() {
                    continue;
                }
                let (vs, vc) = chars[q];
                if let Some((o, cl)) = opts.quotes.iter().find(|(o, _)| *o == vc).copied() {
                    let (v, used) = read_quoted(&text[vs..], o, cl, &opts.escapes);
                    set(&key, v, &mut found);
                    let end = vs + used;
                    p = chars.iter().position(|(i, _)| *i >= end).unwrap_or(chars.len());
                } else if is_word(vc) {
                    let mut r = q;
                    while r < chars.len() && is_word(chars[r].1) {
                        r += 1;
                    }
                    let end = chars.get(r).map(|x| x.0).unwrap_or(text.len());
                    set(&key, text[vs..end].to_string(), &mut found);
                    p = r;
                }
            }
        }
    }
    found
}
