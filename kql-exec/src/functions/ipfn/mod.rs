//! IPv4/IPv6 and geo-IP functions: `parse_ipv4`, `ipv4_compare`, `ipv4_is_in_range`,
//! `ipv4_is_private`, `format_ipv4`, `parse_ipv6`, `ipv6_compare`, `has_ipv4`,
//! `has_any_ipv4_prefix`, `ipv4_range_to_cidr_list`... with Kusto's semantics (malformed
//! input gives null, `""` or false, never an error), and `geo_info_from_ip_address` over a
//! MaxMind-format database ([`geoip`]). The pure logic is in [`addr`]; [`mmdb`] writes small
//! databases for tests and samples.

pub mod addr;
pub mod geoip;
pub mod mmdb;

use super::udf::{udf, Body};
use super::BindCtx;
use crate::binder::Bound;
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder, Int64Array, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::DataFusionError;
use datafusion::logical_expr::{Expr, ScalarUDF};
use std::sync::{Arc, OnceLock};

type R<T> = std::result::Result<T, DataFusionError>;

fn strs(a: &ArrayRef) -> &StringArray {
    a.as_string::<i32>()
}

fn longs(a: &ArrayRef) -> &Int64Array {
    a.as_primitive::<Int64Type>()
}

fn str_at(a: &StringArray, i: usize) -> Option<&str> {
    (!a.is_null(i)).then(|| a.value(i))
}

fn long_at(a: &Int64Array, i: usize) -> Option<i64> {
    (!a.is_null(i)).then(|| a.value(i))
}

macro_rules! cached_udf {
    ($fn_name:ident, $name:expr, $ret:expr, $body:expr) => {
        fn $fn_name() -> &'static Arc<ScalarUDF> {
            static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
            U.get_or_init(|| udf($name, $ret, false, Arc::new($body) as Body))
        }
    };
}

/// A long-valued function of one string.
fn long_of_str(args: &[ArrayRef], rows: usize, f: impl Fn(&str) -> Option<i64>) -> R<ArrayRef> {
    let a = strs(&args[0]);
    let out: Int64Array = (0..rows).map(|i| str_at(a, i).and_then(&f)).collect();
    Ok(Arc::new(out))
}

/// A bool-valued function of one string.
fn bool_of_str(args: &[ArrayRef], rows: usize, f: impl Fn(&str) -> Option<bool>) -> R<ArrayRef> {
    let a = strs(&args[0]);
    let mut b = BooleanBuilder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(str_at(a, i).and_then(&f));
    }
    Ok(Arc::new(b.finish()))
}

/// A string-valued function of a string and a long (`""` for `None`).
fn str_of_str_long(args: &[ArrayRef], rows: usize, f: impl Fn(&str, i64) -> Option<String>) -> R<ArrayRef> {
    let a = strs(&args[0]);
    let p = longs(&args[1]);
    let mut b = StringBuilder::with_capacity(rows, rows * 40);
    for i in 0..rows {
        match (str_at(a, i), long_at(p, i)) {
            (Some(s), Some(n)) => b.append_value(f(s, n).unwrap_or_default()),
            _ => b.append_value(""),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// A compare of two strings with an optional third long argument.
fn compare_body(args: &[ArrayRef], rows: usize, f: fn(&str, &str, Option<i64>) -> Option<i64>) -> Vec<Option<i64>> {
    let a = strs(&args[0]);
    let b = strs(&args[1]);
    let p = args.get(2).map(longs);
    (0..rows)
        .map(|i| {
            let prefix = match p {
                Some(p) => Some(long_at(p, i)?),
                None => None,
            };
            f(str_at(a, i)?, str_at(b, i)?, prefix)
        })
        .collect()
}

cached_udf!(parse_ipv4_udf, "kql_parse_ipv4", DataType::Int64, |args: &[ArrayRef], rows: usize| {
    long_of_str(args, rows, addr::parse_ipv4)
});

cached_udf!(parse_ipv4_mask_udf, "kql_parse_ipv4_mask", DataType::Int64, |args: &[ArrayRef],
                                                                          rows: usize|
 -> R<ArrayRef> {
    let a = strs(&args[0]);
    let p = longs(&args[1]);
    let out: Int64Array = (0..rows).map(|i| addr::parse_ipv4_mask(str_at(a, i)?, long_at(p, i)?)).collect();
    Ok(Arc::new(out))
});

cached_udf!(ipv4_netmask_suffix_udf, "kql_ipv4_netmask_suffix", DataType::Int64, |args: &[ArrayRef], rows: usize| {
    long_of_str(args, rows, |s| addr::parse_v4(s).map(|v| v.prefix as i64))
});

cached_udf!(ipv4_is_private_udf, "kql_ipv4_is_private", DataType::Boolean, |args: &[ArrayRef], rows: usize| {
    bool_of_str(args, rows, addr::ipv4_is_private)
});

cached_udf!(ipv4_compare_udf, "kql_ipv4_compare", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    Ok(Arc::new(Int64Array::from(compare_body(args, rows, addr::ipv4_compare))))
});

cached_udf!(ipv6_compare_udf, "kql_ipv6_compare", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    Ok(Arc::new(Int64Array::from(compare_body(args, rows, addr::ipv6_compare))))
});

fn is_match(args: &[ArrayRef], rows: usize, f: fn(&str, &str, Option<i64>) -> Option<i64>) -> R<ArrayRef> {
    let mut b = BooleanBuilder::with_capacity(rows);
    for v in compare_body(args, rows, f) {
        b.append_option(v.map(|c| c == 0));
    }
    Ok(Arc::new(b.finish()))
}

cached_udf!(ipv4_is_match_udf, "kql_ipv4_is_match", DataType::Boolean, |args: &[ArrayRef], rows: usize| {
    is_match(args, rows, addr::ipv4_compare)
});

cached_udf!(ipv6_is_match_udf, "kql_ipv6_is_match", DataType::Boolean, |args: &[ArrayRef], rows: usize| {
    is_match(args, rows, addr::ipv6_compare)
});

cached_udf!(parse_ipv6_udf, "kql_parse_ipv6", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let a = strs(&args[0]);
    let mut b = StringBuilder::with_capacity(rows, rows * 40);
    for i in 0..rows {
        b.append_value(str_at(a, i).and_then(|s| addr::parse_ipv6_mask(s, 128)).unwrap_or_default());
    }
    Ok(Arc::new(b.finish()))
});

cached_udf!(parse_ipv6_mask_udf, "kql_parse_ipv6_mask", DataType::Utf8, |args: &[ArrayRef], rows: usize| {
    str_of_str_long(args, rows, addr::parse_ipv6_mask)
});

fn format_ipv4_body(with_mask: bool, numeric: bool) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let p = args.get(1).map(longs);
        let mut b = StringBuilder::with_capacity(rows, rows * 18);
        for i in 0..rows {
            let v = if numeric {
                long_at(longs(&args[0]), i).and_then(addr::v4_from_number).map(|a| addr::V4 { addr: a, prefix: 32 })
            } else {
                str_at(strs(&args[0]), i).and_then(|s| {
                    let t = s.trim();
                    if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) {
                        t.parse::<i64>().ok().and_then(addr::v4_from_number).map(|a| addr::V4 { addr: a, prefix: 32 })
                    } else {
                        addr::parse_v4(s)
                    }
                })
            };
            let prefix = match p {
                Some(p) => long_at(p, i),
                None => Some(32),
            };
            let out = match (v, prefix) {
                (Some(v), Some(prefix)) => addr::format_ipv4(v, prefix, with_mask),
                _ => None,
            };
            b.append_value(out.unwrap_or_default());
        }
        Ok(Arc::new(b.finish()))
    })
}

fn format_ipv4_udf(with_mask: bool, numeric: bool) -> Arc<ScalarUDF> {
    static U: OnceLock<Vec<Arc<ScalarUDF>>> = OnceLock::new();
    let all = U.get_or_init(|| {
        let mut v = Vec::new();
        for m in [false, true] {
            for n in [false, true] {
                let name = format!("kql_format_ipv4{}{}", if m { "_mask" } else { "" }, if n { "_long" } else { "" });
                v.push(udf(&name, DataType::Utf8, false, format_ipv4_body(m, n)));
            }
        }
        v
    });
    all[(with_mask as usize) * 2 + numeric as usize].clone()
}

fn in_range_body(v6: bool) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let a = strs(&args[0]);
        let r = strs(&args[1]);
        let mut b = BooleanBuilder::with_capacity(rows);
        for i in 0..rows {
            let v = (|| {
                let (ip, range) = (str_at(a, i)?, str_at(r, i)?);
                if v6 {
                    Some(addr::v6_in_range(&addr::parse_v6(ip)?, &addr::parse_v6(range)?))
                } else {
                    Some(addr::v4_in_range(&addr::parse_v4(ip)?, &addr::parse_v4(range)?))
                }
            })();
            b.append_option(v);
        }
        Ok(Arc::new(b.finish()))
    })
}

fn ipv4_in_range_udf() -> &'static Arc<ScalarUDF> {
    static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    U.get_or_init(|| udf("kql_ipv4_is_in_range", DataType::Boolean, false, in_range_body(false)))
}

fn ipv6_in_range_udf() -> &'static Arc<ScalarUDF> {
    static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    U.get_or_init(|| udf("kql_ipv6_is_in_range", DataType::Boolean, false, in_range_body(true)))
}

/// The string items of list arguments that are strings or dynamic arrays of strings, parsed with
/// `parse` (`None` for an item that does not parse), re-parsed only when the arguments change.
struct ListCache<T> {
    key: Vec<Option<String>>,
    items: Vec<Option<T>>,
}

impl<T: Copy> ListCache<T> {
    fn new() -> Self {
        ListCache { key: vec![None], items: Vec::new() }
    }

    fn get(&mut self, lists: &[(&StringArray, bool)], i: usize, parse: impl Fn(&str) -> Option<T>) -> &[Option<T>] {
        let same = self.key.len() == lists.len()
            && lists.iter().zip(&self.key).all(|((a, _), k)| str_at(a, i) == k.as_deref());
        if !same {
            self.key = lists.iter().map(|(a, _)| str_at(a, i).map(|s| s.to_string())).collect();
            self.items.clear();
            for (a, is_dyn) in lists {
                let Some(raw) = str_at(a, i) else { continue };
                if !is_dyn {
                    self.items.push(parse(raw));
                } else if let Some(els) = dj::array_elements(raw) {
                    for e in els {
                        self.items.push(dj::scalar_string(e).and_then(|s| parse(&s)));
                    }
                } else if let Some(s) = dj::scalar_string(raw) {
                    self.items.push(parse(&s));
                }
            }
        }
        &self.items
    }
}

fn list_args<'a>(args: &'a [ArrayRef], kinds: &[bool]) -> Vec<(&'a StringArray, bool)> {
    args[1..].iter().zip(kinds).map(|(a, k)| (strs(a), *k)).collect()
}

fn in_any_range_body(v6: bool, kinds: Vec<bool>) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let a = strs(&args[0]);
        let lists = list_args(args, &kinds);
        let mut b = BooleanBuilder::with_capacity(rows);
        if v6 {
            let mut cache = ListCache::<addr::V6>::new();
            for i in 0..rows {
                let ranges = cache.get(&lists, i, addr::parse_v6);
                let ip = str_at(a, i).and_then(addr::parse_v6);
                b.append_option(ip.map(|ip| ranges.iter().flatten().any(|r| addr::v6_in_range(&ip, r))));
            }
        } else {
            let mut cache = ListCache::<addr::V4>::new();
            for i in 0..rows {
                let ranges = cache.get(&lists, i, addr::parse_v4);
                let ip = str_at(a, i).and_then(addr::parse_v4);
                b.append_option(ip.map(|ip| ranges.iter().flatten().any(|r| addr::v4_in_range(&ip, r))));
            }
        }
        Ok(Arc::new(b.finish()))
    })
}

fn has_any_body(prefix: bool, kinds: Vec<bool>) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let text = strs(&args[0]);
        let lists = list_args(args, &kinds);
        let mut b = BooleanBuilder::with_capacity(rows);
        let mut cache = ListCache::<(u32, u8)>::new();
        let parse = move |s: &str| {
            if prefix {
                addr::parse_v4_text_prefix(s)
            } else {
                addr::parse_dotted(s.trim()).map(|a| (a, 4))
            }
        };
        for i in 0..rows {
            let needles = cache.get(&lists, i, parse);
            let found = match str_at(text, i) {
                Some(t) if needles.iter().any(|n| n.is_some()) => addr::ipv4s_in_text(t)
                    .into_iter()
                    .any(|a| needles.iter().flatten().any(|n| addr::v4_has_prefix(a, *n))),
                _ => false,
            };
            b.append_value(found);
        }
        Ok(Arc::new(b.finish()))
    })
}

cached_udf!(range_to_cidr_udf, "kql_ipv4_range_to_cidr_list", DataType::Utf8, |args: &[ArrayRef],
                                                                               rows: usize|
 -> R<ArrayRef> {
    let s = strs(&args[0]);
    let e = strs(&args[1]);
    let mut b = StringBuilder::with_capacity(rows, rows * 24);
    for i in 0..rows {
        match str_at(s, i).zip(str_at(e, i)).and_then(|(s, e)| addr::range_to_cidrs(s, e)) {
            Some(list) => {
                let items: Vec<String> = list.iter().map(|c| dj::json_string(c)).collect();
                let refs: Vec<&str> = items.iter().map(|s| s.as_str()).collect();
                b.append_value(dj::build_array(&refs));
            }
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
});

fn geo_info_body(db: Arc<geoip::GeoDb>) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let a = strs(&args[0]);
        let mut b = StringBuilder::with_capacity(rows, rows * 96);
        // repeated addresses in a batch are looked up once
        let mut seen: std::collections::HashMap<&str, Option<Arc<str>>> = std::collections::HashMap::new();
        for i in 0..rows {
            let Some(ip) = str_at(a, i) else {
                b.append_null();
                continue;
            };
            let v = seen.entry(ip).or_insert_with(|| db.lookup_text(ip));
            match v {
                Some(v) => b.append_value(&**v),
                None => b.append_null(),
            }
        }
        Ok(Arc::new(b.finish()))
    })
}

/// `geo_info_from_ip_address(ip)` with the configured database; an error (raised once, at bind
/// time) when none is configured or it cannot be opened.
fn geo_info(ctx: &BindCtx, ip: Expr) -> Result<Bound> {
    match geoip::configured(ctx.binder.catalog.geoip()) {
        Ok(Some(db)) => {
            let u = udf("kql_geo_info_from_ip_address", DataType::Utf8, false, geo_info_body(db));
            Ok(Bound::new(u.call(vec![ip]), KqlType::Dynamic))
        }
        Ok(None) if ctx.binder.options.check_only => {
            Ok(Bound::new(crate::binder::scalar::typed_null(KqlType::Dynamic), KqlType::Dynamic))
        }
        Ok(None) => Err(KqlError::new(
            "KQL140",
            "geo_info_from_ip_address needs a geo-IP database, and none is configured",
            ctx.span,
        )
        .with_help(geoip::HOW_TO_GET)),
        Err(e) => Err(KqlError::new("KQL141", e, ctx.span).with_help(geoip::HOW_TO_GET)),
    }
}

/// Bind the functions of this family; `None` when `name` is not one of them.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    let s = |k: usize| b.coerce(args[k].clone(), KqlType::String).expr;
    let l = |k: usize| b.coerce(args[k].clone(), KqlType::Long).expr;
    let n = args.len();
    let long = |e: Expr| Bound::new(e, KqlType::Long);
    let boolean = |e: Expr| Bound::new(e, KqlType::Bool);
    let string = |e: Expr| Bound::new(e, KqlType::String);
    // list arguments: each a string or a dynamic array of strings
    let lists = |from: usize| -> (Vec<Expr>, Vec<bool>) {
        let mut exprs = vec![s(0)];
        let mut kinds = Vec::new();
        for a in &args[from..] {
            if a.ty == KqlType::Dynamic {
                exprs.push(a.expr.clone());
                kinds.push(true);
            } else {
                exprs.push(b.coerce(a.clone(), KqlType::String).expr);
                kinds.push(false);
            }
        }
        (exprs, kinds)
    };
    let kinds_name = |kinds: &[bool]| kinds.iter().map(|k| if *k { 'd' } else { 's' }).collect::<String>();
    let out = match (name, n) {
        ("parse_ipv4", 1) => long(parse_ipv4_udf().call(vec![s(0)])),
        ("parse_ipv4_mask", 2) => long(parse_ipv4_mask_udf().call(vec![s(0), l(1)])),
        ("ipv4_netmask_suffix", 1) => long(ipv4_netmask_suffix_udf().call(vec![s(0)])),
        ("ipv4_is_private", 1) => boolean(ipv4_is_private_udf().call(vec![s(0)])),
        ("ipv4_compare", 2) => long(ipv4_compare_udf().call(vec![s(0), s(1)])),
        ("ipv4_compare", 3) => long(ipv4_compare_udf().call(vec![s(0), s(1), l(2)])),
        ("ipv6_compare", 2) => long(ipv6_compare_udf().call(vec![s(0), s(1)])),
        ("ipv6_compare", 3) => long(ipv6_compare_udf().call(vec![s(0), s(1), l(2)])),
        ("ipv4_is_match", 2) => boolean(ipv4_is_match_udf().call(vec![s(0), s(1)])),
        ("ipv4_is_match", 3) => boolean(ipv4_is_match_udf().call(vec![s(0), s(1), l(2)])),
        ("ipv6_is_match", 2) => boolean(ipv6_is_match_udf().call(vec![s(0), s(1)])),
        ("ipv6_is_match", 3) => boolean(ipv6_is_match_udf().call(vec![s(0), s(1), l(2)])),
        ("ipv4_is_in_range", 2) => boolean(ipv4_in_range_udf().call(vec![s(0), s(1)])),
        ("ipv6_is_in_range", 2) => boolean(ipv6_in_range_udf().call(vec![s(0), s(1)])),
        ("ipv4_is_in_any_range" | "ipv6_is_in_any_range", _) if n >= 2 => {
            let v6 = name.starts_with("ipv6");
            let (exprs, kinds) = lists(1);
            let u = udf(
                &format!("kql_{name}_{}", kinds_name(&kinds)),
                DataType::Boolean,
                false,
                in_any_range_body(v6, kinds),
            );
            boolean(u.call(exprs))
        }
        ("has_ipv4" | "has_ipv4_prefix", 2) | ("has_any_ipv4" | "has_any_ipv4_prefix", _) if n >= 2 => {
            let prefix = name.ends_with("prefix");
            let (exprs, kinds) = lists(1);
            let u = udf(
                &format!("kql_{name}_{}", kinds_name(&kinds)),
                DataType::Boolean,
                false,
                has_any_body(prefix, kinds),
            );
            boolean(u.call(exprs))
        }
        ("format_ipv4" | "format_ipv4_mask", 1 | 2) => {
            let numeric = matches!(args[0].ty, KqlType::Int | KqlType::Long | KqlType::Real | KqlType::Decimal);
            let mut a = vec![if numeric { l(0) } else { s(0) }];
            if n == 2 {
                a.push(l(1));
            }
            string(format_ipv4_udf(name == "format_ipv4_mask", numeric).call(a))
        }
        ("parse_ipv6", 1) => string(parse_ipv6_udf().call(vec![s(0)])),
        ("parse_ipv6_mask", 2) => string(parse_ipv6_mask_udf().call(vec![s(0), l(1)])),
        ("ipv4_range_to_cidr_list", 2) => Bound::new(range_to_cidr_udf().call(vec![s(0), s(1)]), KqlType::Dynamic),
        ("geo_info_from_ip_address", 1) => return Some(geo_info(ctx, s(0))),
        _ => return None,
    };
    Some(Ok(out))
}
