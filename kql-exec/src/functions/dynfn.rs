//! Dynamic-value functions: path access, conversions to and from dynamic, `parse_json`,
//! arrays and property bags. Values are compact JSON text (see [`crate::value`]).

use super::udf::{udf, Body};
use super::BindCtx;
use crate::binder::scalar::{column, PathPart};
use crate::binder::{Binder, Bound, Col};
use crate::error::Result;
use crate::schema::KqlType;
use crate::value::datetime as dt;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Float64Builder, Int32Builder, Int64Array, Int64Builder,
    ListBuilder, StringArray, StringBuilder, StructBuilder,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Float64Type, Int32Type, Int64Type};
use datafusion::common::DataFusionError;
use datafusion::logical_expr::{lit, Expr, ScalarUDF};
use kql_parser::ast::DynValue;
use std::sync::{Arc, OnceLock};

type R<T> = std::result::Result<T, DataFusionError>;

fn strs(a: &ArrayRef) -> &StringArray {
    a.as_string::<i32>()
}

macro_rules! cached_udf {
    ($fn_name:ident, $name:expr, $ret:expr, $body:expr) => {
        fn $fn_name() -> &'static Arc<ScalarUDF> {
            static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
            U.get_or_init(|| udf($name, $ret, false, Arc::new($body) as Body))
        }
    };
}

/// Encode a constant path as the JSON text the path UDF reads.
fn path_spec(parts: &[PathPart]) -> String {
    let items: Vec<String> = parts
        .iter()
        .map(|p| match p {
            PathPart::Key(k) => dj::json_string(k),
            PathPart::Index(i) => i.to_string(),
            PathPart::Expr(_) => "null".to_string(),
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn parse_spec(spec: &str) -> Vec<(Option<String>, i64)> {
    let v: serde_json::Value = serde_json::from_str(spec).unwrap_or(serde_json::Value::Array(vec![]));
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| match x {
                    serde_json::Value::String(s) => (Some(s.clone()), 0),
                    serde_json::Value::Number(n) => (None, n.as_i64().unwrap_or(0)),
                    _ => (None, 0),
                })
                .collect()
        })
        .unwrap_or_default()
}

cached_udf!(path_udf, "kql_dyn_path", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let specs = strs(&args[1]);
    let spec = if specs.is_null(0) { vec![] } else { parse_spec(specs.value(0)) };
    let elems: Vec<dj::PathElem> = spec
        .iter()
        .map(|(k, i)| match k {
            Some(k) => dj::PathElem::Key(k.as_str()),
            None => dj::PathElem::Index(*i),
        })
        .collect();
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        if values.is_null(i) {
            b.append_null();
            continue;
        }
        match dj::get_path(values.value(i), &elems) {
            Some(raw) if raw != "null" => b.append_value(raw),
            _ => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
});

/// Whether a function call is the constant-path access [`path`] binds (its arguments: the
/// dynamic value, then the path as a JSON array literal).
pub fn is_path_call(f: &datafusion::logical_expr::expr::ScalarFunction) -> bool {
    f.func.name() == path_udf().name()
}

/// `dyn.a.b[0]` with a constant path: one pass over each value's text.
pub fn path(e: Expr, parts: &[PathPart]) -> Expr {
    path_udf().call(vec![e, lit(path_spec(parts))])
}

cached_udf!(index_udf, "kql_dyn_index", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let mut b = StringBuilder::new();
    for i in 0..rows {
        if values.is_null(i) || args[1].is_null(i) {
            b.append_null();
            continue;
        }
        let found = match args[1].data_type() {
            DataType::Utf8 => dj::get_path(values.value(i), &[dj::PathElem::Key(strs(&args[1]).value(i))]),
            DataType::Int64 => {
                let ix = args[1].as_primitive::<Int64Type>().value(i);
                dj::get_path(values.value(i), &[dj::PathElem::Index(ix)])
            }
            // `index` converts every other key; a key of another type finds nothing.
            _ => None,
        };
        match found {
            Some(raw) if raw != "null" => b.append_value(raw),
            _ => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
});

fn typed_null_utf8() -> Expr {
    Expr::Literal(datafusion::scalar::ScalarValue::Utf8(None), None)
}

/// `dyn[expr]` with a computed key or index.
pub fn index(e: Expr, ix: Expr, ix_ty: KqlType) -> Expr {
    let ix = match ix_ty {
        KqlType::String => ix,
        KqlType::Long => ix,
        KqlType::Int => datafusion::logical_expr::cast(ix, DataType::Int64),
        // A dynamic key reads the member its string form names.
        KqlType::Dynamic => tostring(ix),
        // The binder refuses other types (KS141); when it goes on (`kql check`), they find nothing.
        _ => typed_null_utf8(),
    };
    index_udf().call(vec![e, ix])
}

/// Kusto's string form of each dynamic value; a null becomes `""` (`tostring`) or stays null
/// (implicit conversions in comparisons).
fn dyn_to_string_body(null_as_empty: bool) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let values = strs(&args[0]);
        let mut b = StringBuilder::with_capacity(rows, rows * 8);
        for i in 0..rows {
            if values.is_null(i) {
                if null_as_empty {
                    b.append_value("");
                } else {
                    b.append_null();
                }
            } else {
                b.append_value(dj::to_kql_str(values.value(i)));
            }
        }
        Ok(Arc::new(b.finish()))
    })
}

fn tostring_udf() -> &'static Arc<ScalarUDF> {
    static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    U.get_or_init(|| udf("kql_dyn_tostring", DataType::Utf8, false, dyn_to_string_body(true)))
}

/// `tostring(dynamic)`: strings unquoted, other values as compact JSON, null as "".
pub fn tostring(e: Expr) -> Expr {
    tostring_udf().call(vec![e])
}

/// `tostring(d) == "text"` and `!=` (also the implicit conversion of `d == "text"`) as one
/// comparison of `d`'s JSON text with the JSON string of the text: Arrow's vectorized string
/// equality, instead of converting every value. Dynamic text is canonical (strings escaped
/// minimally), so two strings are equal exactly when their JSON texts are. Only when no value
/// but a string can print as the text (not empty, not starting like a number, `true`, `false`,
/// `null`, an object or an array); `None` otherwise, and for other shapes.
pub fn string_comparison(a: &Expr, op: datafusion::logical_expr::Operator, b: &Expr) -> Option<Expr> {
    use datafusion::logical_expr::Operator;
    use datafusion::scalar::ScalarValue;
    if !matches!(op, Operator::Eq | Operator::NotEq) {
        return None;
    }
    let (f, text) = match (a, b) {
        (Expr::ScalarFunction(f), Expr::Literal(ScalarValue::Utf8(Some(t)), _))
        | (Expr::Literal(ScalarValue::Utf8(Some(t)), _), Expr::ScalarFunction(f)) => (f, t),
        _ => return None,
    };
    if !is_text_conversion(f) {
        return None;
    }
    let tostring = f.func.name() == tostring_udf().name();
    let first = *text.as_bytes().first()?;
    if matches!(first, b'-' | b'0'..=b'9' | b'{' | b'[' | b't' | b'f' | b'n' | b' ' | b'\t' | b'\n' | b'\r') {
        return None;
    }
    // `tostring` of a null is "", which is never the text: `==` is false and `!=` true, which is
    // what `text_eq` (a null is never equal) and its negation give
    let json = dj::json_string(text);
    Some(match (tostring, op) {
        (true, Operator::Eq) => super::texteq::text_eq(f.args[0].clone(), &json),
        (true, _) => !super::texteq::text_eq(f.args[0].clone(), &json),
        (false, op) => datafusion::logical_expr::binary_expr(f.args[0].clone(), op, lit(json)),
    })
}

/// Whether a call is a conversion of a dynamic value to text (`tostring`, or the implicit one of
/// a comparison), the calls [`string_comparison`] rewrites.
pub fn is_text_conversion(f: &datafusion::logical_expr::expr::ScalarFunction) -> bool {
    // (a call holds its own copy of the function: compared by name)
    f.func.name() == tostring_udf().name() || f.func.name() == to_str_nullable_udf().name()
}

fn to_str_nullable_udf() -> &'static Arc<ScalarUDF> {
    static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    U.get_or_init(|| udf("kql_dyn_as_string", DataType::Utf8, false, dyn_to_string_body(false)))
}

cached_udf!(to_long_udf, "kql_dyn_to_long", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let mut b = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(if values.is_null(i) { None } else { dyn_to_f64(values.value(i)).map(|f| f as i64) });
    }
    Ok(Arc::new(b.finish()))
});

cached_udf!(to_int_udf, "kql_dyn_to_int", DataType::Int32, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let mut b = Int32Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(if values.is_null(i) { None } else { dyn_to_f64(values.value(i)).map(|f| f as i32) });
    }
    Ok(Arc::new(b.finish()))
});

cached_udf!(to_real_udf, "kql_dyn_to_real", DataType::Float64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let mut b = Float64Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(if values.is_null(i) { None } else { dyn_to_f64(values.value(i)) });
    }
    Ok(Arc::new(b.finish()))
});

cached_udf!(to_bool_udf, "kql_dyn_to_bool", DataType::Boolean, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let mut b = BooleanBuilder::with_capacity(rows);
    for i in 0..rows {
        if values.is_null(i) {
            b.append_null();
            continue;
        }
        let raw = values.value(i);
        b.append_option(match raw {
            "true" => Some(true),
            "false" => Some(false),
            _ => match dj::scalar_string(raw) {
                Some(s) if s.eq_ignore_ascii_case("true") => Some(true),
                Some(s) if s.eq_ignore_ascii_case("false") => Some(false),
                _ => dyn_to_f64(raw).map(|f| f != 0.0),
            },
        });
    }
    Ok(Arc::new(b.finish()))
});

cached_udf!(to_datetime_udf, "kql_dyn_to_datetime", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let mut b = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(if values.is_null(i) {
            None
        } else {
            dj::scalar_string(values.value(i)).and_then(|s| dt::parse_datetime(&s))
        });
    }
    Ok(Arc::new(b.finish()))
});

cached_udf!(to_timespan_udf, "kql_dyn_to_timespan", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let mut b = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(if values.is_null(i) {
            None
        } else {
            let raw = values.value(i);
            match dj::scalar_string(raw) {
                Some(s) => dt::parse_timespan(&s),
                None => dj::as_i64(raw),
            }
        });
    }
    Ok(Arc::new(b.finish()))
});

fn dyn_to_f64(raw: &str) -> Option<f64> {
    if let Some(f) = dj::as_f64(raw) {
        return Some(f);
    }
    match raw {
        "true" => return Some(1.0),
        "false" => return Some(0.0),
        _ => {}
    }
    dj::scalar_string(raw).and_then(|s| s.trim().parse::<f64>().ok())
}

/// Convert a dynamic value to a scalar type (null when it does not convert).
pub fn from_dynamic(e: Expr, to: KqlType) -> Expr {
    match to {
        KqlType::String | KqlType::Guid => to_str_nullable_udf().call(vec![e]),
        KqlType::Long => to_long_udf().call(vec![e]),
        KqlType::Int => to_int_udf().call(vec![e]),
        KqlType::Real | KqlType::Decimal => to_real_udf().call(vec![e]),
        KqlType::Bool => to_bool_udf().call(vec![e]),
        KqlType::DateTime => to_datetime_udf().call(vec![e]),
        KqlType::TimeSpan => to_timespan_udf().call(vec![e]),
        KqlType::Dynamic => e,
    }
}

fn scalar_to_json_body(ty: KqlType) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let a = &args[0];
        let mut b = StringBuilder::with_capacity(rows, rows * 8);
        for i in 0..rows {
            if a.is_null(i) {
                b.append_null();
                continue;
            }
            let s = match ty {
                KqlType::Bool => a.as_boolean().value(i).to_string(),
                KqlType::Int => a.as_primitive::<Int32Type>().value(i).to_string(),
                KqlType::Long => a.as_primitive::<Int64Type>().value(i).to_string(),
                KqlType::Real | KqlType::Decimal => dj::json_from_f64(a.as_primitive::<Float64Type>().value(i)),
                KqlType::DateTime => dj::json_string(&dt::format_datetime_iso(a.as_primitive::<Int64Type>().value(i))),
                KqlType::TimeSpan => dj::json_string(&dt::format_timespan(a.as_primitive::<Int64Type>().value(i))),
                KqlType::String | KqlType::Guid => dj::json_string(strs(a).value(i)),
                KqlType::Dynamic => strs(a).value(i).to_string(),
            };
            b.append_value(s);
        }
        Ok(Arc::new(b.finish()))
    })
}

/// Convert a scalar to dynamic (JSON text).
pub fn to_dynamic(e: Expr, from: KqlType) -> Expr {
    static UDFS: OnceLock<Vec<(KqlType, Arc<ScalarUDF>)>> = OnceLock::new();
    let all = UDFS.get_or_init(|| {
        use KqlType::*;
        [Bool, Int, Long, Real, Decimal, DateTime, TimeSpan, String, Guid]
            .into_iter()
            .map(|t| (t, udf(&format!("kql_to_dynamic_{}", t.name()), DataType::Utf8, false, scalar_to_json_body(t))))
            .collect()
    });
    match all.iter().find(|(t, _)| *t == from) {
        Some((_, u)) => u.call(vec![e]),
        None => e,
    }
}

/// The JSON text of a `dynamic(...)` literal (None for `dynamic(null)`).
pub fn literal_json(v: &DynValue) -> Option<String> {
    fn go(v: &DynValue, out: &mut String) {
        match v {
            DynValue::Null => out.push_str("null"),
            DynValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            DynValue::Long(n) => out.push_str(&n.to_string()),
            DynValue::Real(f) => out.push_str(&dj::json_from_f64(*f)),
            DynValue::String(s) => out.push_str(&dj::json_string(s)),
            DynValue::DateTime(t) => {
                let s = dt::parse_datetime(t).map(dt::format_datetime_iso).unwrap_or_else(|| t.clone());
                out.push_str(&dj::json_string(&s))
            }
            DynValue::TimeSpan(t) => out.push_str(&dj::json_string(&dt::format_timespan(*t))),
            DynValue::Guid(g) => out.push_str(&dj::json_string(&g.to_lowercase())),
            DynValue::Array(items) => {
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    go(x, out);
                }
                out.push(']');
            }
            DynValue::Object(items) => {
                out.push('{');
                for (i, (k, x)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&dj::json_string(k));
                    out.push(':');
                    go(x, out);
                }
                out.push('}');
            }
        }
    }
    if *v == DynValue::Null {
        return None;
    }
    let mut s = String::new();
    go(v, &mut s);
    Some(s)
}

cached_udf!(contains_udf, "kql_dyn_array_contains", DataType::Boolean, |args: &[ArrayRef],
                                                                        rows: usize|
 -> R<ArrayRef> {
    let arrs = strs(&args[0]);
    let needles = strs(&args[1]);
    let cs = args[2].as_boolean().value(0);
    let mut b = BooleanBuilder::with_capacity(rows);
    for i in 0..rows {
        if arrs.is_null(i) || needles.is_null(i) {
            b.append_value(false);
            continue;
        }
        let needle = needles.value(i);
        let needle_s = dj::scalar_string(needle).map(|s| s.to_string());
        let mut items = Vec::new();
        in_list_items(arrs.value(i), &mut items);
        let found = {
            items.iter().any(|it| {
                if dj::json_equal(it, needle) {
                    return true;
                }
                match (dj::scalar_string(it), &needle_s) {
                    (Some(a), Some(n)) => {
                        if cs {
                            a == n.as_str()
                        } else {
                            a.to_lowercase() == n.to_lowercase()
                        }
                    }
                    _ => dj::to_kql_string(it) == dj::to_kql_string(needle),
                }
            })
        };
        b.append_value(found);
    }
    Ok(Arc::new(b.finish()))
});

/// The values a dynamic operand of `in` stands for: an array's elements, nested arrays flattened
/// (`x in (dynamic([1,[2,3]]))` is `x in (1,2,3)`), and any other value (a string, a number, a bag)
/// as itself: `x in (dynamic("a"))` is `x in ("a")`. A JSON `null` stands for no value.
pub(crate) fn in_list_items<'a>(raw: &'a str, out: &mut Vec<&'a str>) {
    match dj::array_elements(raw) {
        Some(items) => {
            for it in items {
                in_list_items(it, out);
            }
        }
        None if raw.trim() == "null" => {}
        None => out.push(raw),
    }
}

/// `x in (dynamic_array)`.
pub fn array_contains(arr: Expr, needle_json: Expr, case_sensitive: bool) -> Expr {
    contains_udf().call(vec![arr, needle_json, lit(case_sensitive)])
}

fn mv_struct_fields() -> Fields {
    Fields::from(vec![Field::new("i", DataType::Int64, true), Field::new("v", DataType::Utf8, true)])
}

fn mv_items_body(bag_as_array: bool, limit: Option<usize>) -> Body {
    Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let values = strs(&args[0]);
        let sb = StructBuilder::from_fields(mv_struct_fields(), 0);
        let mut lb = ListBuilder::new(sb).with_field(Arc::new(Field::new_struct("item", mv_struct_fields(), true)));
        for i in 0..rows {
            if values.is_null(i) {
                lb.append_null();
                continue;
            }
            let raw = values.value(i);
            let mut items: Vec<String> = if let Some(els) = dj::array_elements(raw) {
                els.into_iter().map(|s| s.to_string()).collect()
            } else if let Some(entries) = dj::object_entries(raw) {
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        if bag_as_array {
                            format!("[{},{}]", dj::json_string(&k), v)
                        } else {
                            format!("{{{}:{}}}", dj::json_string(&k), v)
                        }
                    })
                    .collect()
            } else {
                vec![raw.to_string()]
            };
            if let Some(l) = limit {
                items.truncate(l);
            }
            {
                let s = lb.values();
                for (k, it) in items.iter().enumerate() {
                    s.field_builder::<Int64Builder>(0).expect("i").append_value(k as i64);
                    let vb = s.field_builder::<StringBuilder>(1).expect("v");
                    if it == "null" {
                        vb.append_null();
                    } else {
                        vb.append_value(it);
                    }
                    s.append(true);
                }
            }
            lb.append(true);
        }
        Ok(Arc::new(lb.finish()))
    })
}

/// The elements of a dynamic array or bag as a list of `{i, v}` structs (for `mv-expand`).
pub fn mv_items(e: Expr, bag_as_array: bool, _with_index: bool, limit: Option<usize>) -> Expr {
    let ret = DataType::List(Arc::new(Field::new_struct("item", mv_struct_fields(), true)));
    let name = format!("kql_mv_items_{}_{}", bag_as_array, limit.map(|l| l.to_string()).unwrap_or_default());
    udf(&name, ret, false, mv_items_body(bag_as_array, limit)).call(vec![e])
}

/// The value of an expanded item.
pub fn mv_item_value(item: Expr) -> Expr {
    datafusion::functions::core::expr_fn::get_field(item, "v")
}

/// The index of an expanded item.
pub fn mv_item_index(item: Expr) -> Expr {
    datafusion::functions::core::expr_fn::get_field(item, "i")
}

cached_udf!(parse_json_udf, "kql_parse_json", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        if values.is_null(i) {
            b.append_null();
            continue;
        }
        match dj::parse_json(values.value(i)) {
            Some(s) => b.append_value(s),
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
});

cached_udf!(array_length_udf, "kql_array_length", DataType::Int64, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let out: Int64Array =
        (0..rows).map(|i| if values.is_null(i) { None } else { dj::array_length(values.value(i)) }).collect();
    Ok(Arc::new(out))
});

cached_udf!(bag_keys_udf, "kql_bag_keys", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let values = strs(&args[0]);
    let out: StringArray =
        (0..rows).map(|i| if values.is_null(i) { None } else { dj::bag_keys(values.value(i)) }).collect();
    Ok(Arc::new(out))
});

cached_udf!(set_has_udf, "kql_set_has_element", DataType::Boolean, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let sets = strs(&args[0]);
    let needles = strs(&args[1]);
    let out: BooleanArray = (0..rows)
        .map(|i| {
            if sets.is_null(i) {
                return None;
            }
            let n = if needles.is_null(i) { "null" } else { needles.value(i) };
            dj::set_has_element(sets.value(i), n)
        })
        .collect();
    Ok(Arc::new(out))
});

cached_udf!(pack_array_udf, "kql_pack_array", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let cols: Vec<&StringArray> = args.iter().map(strs).collect();
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        let items: Vec<&str> = cols.iter().map(|c| if c.is_null(i) { "null" } else { c.value(i) }).collect();
        b.append_value(dj::build_array(&items));
    }
    Ok(Arc::new(b.finish()))
});

cached_udf!(bag_pack_udf, "kql_bag_pack", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let cols: Vec<&StringArray> = args.iter().map(strs).collect();
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        let mut entries: Vec<(String, &str)> = Vec::new();
        for pair in cols.chunks(2) {
            if pair.len() < 2 {
                break;
            }
            let key = if pair[0].is_null(i) { String::new() } else { dj::to_kql_string(pair[0].value(i)) };
            let v = if pair[1].is_null(i) { "null" } else { pair[1].value(i) };
            entries.push((key, v));
        }
        let refs: Vec<(&str, &str)> = entries.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        b.append_value(dj::build_object(&refs));
    }
    Ok(Arc::new(b.finish()))
});

cached_udf!(pack_nonempty_udf, "kql_pack_nonempty", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    // `pack_all(true)`: like bag_pack, without the null and empty-string values
    let cols: Vec<&StringArray> = args.iter().map(strs).collect();
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        let mut entries: Vec<(String, &str)> = Vec::new();
        for pair in cols.chunks(2) {
            if pair.len() < 2 || pair[1].is_null(i) || matches!(pair[1].value(i), "null" | "\"\"" | "") {
                continue;
            }
            let key = if pair[0].is_null(i) { String::new() } else { dj::to_kql_string(pair[0].value(i)) };
            entries.push((key, pair[1].value(i)));
        }
        let refs: Vec<(&str, &str)> = entries.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        b.append_value(dj::build_object(&refs));
    }
    Ok(Arc::new(b.finish()))
});

/// `pack_all([ignore_null_empty])` over the columns in scope: `bag_pack("c1", c1, ...)`, the
/// null and empty values left out when `ignore_null_empty`.
pub fn pack_all(binder: &Binder, cols: &[Col], ignore_null_empty: bool) -> Bound {
    let mut args = Vec::with_capacity(cols.len() * 2);
    for c in cols {
        args.push(to_dynamic(lit(c.name.clone()), KqlType::String));
        args.push(binder.coerce(Bound::new(column(&c.name), c.ty), KqlType::Dynamic).expr);
    }
    if args.is_empty() {
        return Bound::new(parse_json(lit("{}")), KqlType::Dynamic);
    }
    let u = if ignore_null_empty { pack_nonempty_udf() } else { bag_pack_udf() };
    Bound::new(u.call(args), KqlType::Dynamic)
}

cached_udf!(strcat_array_udf, "kql_strcat_array", DataType::Utf8, |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
    let arrs = strs(&args[0]);
    let seps = strs(&args[1]);
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        if arrs.is_null(i) {
            b.append_value("");
            continue;
        }
        let sep = if seps.is_null(i) { "" } else { seps.value(i) };
        let parts: Vec<String> =
            dj::array_elements(arrs.value(i)).unwrap_or_default().iter().map(|x| dj::to_kql_string(x)).collect();
        b.append_value(parts.join(sep));
    }
    Ok(Arc::new(b.finish()))
});

/// `isempty`/`isnotempty` of a dynamic value: null or "" (or an empty string value).
pub fn is_empty(e: Expr) -> Expr {
    static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    let u = U.get_or_init(|| {
        udf(
            "kql_dyn_isempty",
            DataType::Boolean,
            false,
            Arc::new(|args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
                // from the offsets alone, a word of results at a time: no text is read but the
                // two bytes of two-byte values
                let v = strs(&args[0]);
                let (offsets, bytes) = (v.value_offsets(), v.value_data());
                let empty = BooleanBuffer::collect_bool(rows, |i| {
                    let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
                    b == a || (b - a == 2 && bytes[a] == b'"' && bytes[a + 1] == b'"')
                });
                let empty = match v.nulls() {
                    Some(valid) => &empty | &!valid.inner(),
                    None => empty,
                };
                Ok(Arc::new(BooleanArray::new(empty, None)))
            }),
        )
    });
    u.call(vec![e])
}

/// `parse_json(string)`.
pub fn parse_json(e: Expr) -> Expr {
    parse_json_udf().call(vec![e])
}

/// Bind the dynamic family's functions.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    let dynarg = |k: usize| b.coerce(args[k].clone(), KqlType::Dynamic).expr;
    let r = match (name, args.len()) {
        ("parse_json" | "todynamic" | "parsejson" | "todynamic_", 1) => match args[0].ty {
            KqlType::String => Bound::new(parse_json_udf().call(vec![args[0].expr.clone()]), KqlType::Dynamic),
            _ => Bound::new(dynarg(0), KqlType::Dynamic),
        },
        ("array_length" | "arraylength", 1) => Bound::new(array_length_udf().call(vec![dynarg(0)]), KqlType::Long),
        ("bag_keys", 1) => Bound::new(bag_keys_udf().call(vec![dynarg(0)]), KqlType::Dynamic),
        ("set_has_element", 2) => Bound::new(set_has_udf().call(vec![dynarg(0), dynarg(1)]), KqlType::Bool),
        ("pack_array", _) if !args.is_empty() => {
            Bound::new(pack_array_udf().call((0..args.len()).map(dynarg).collect()), KqlType::Dynamic)
        }
        ("bag_pack" | "pack", n) if n % 2 == 0 && n > 0 => {
            Bound::new(bag_pack_udf().call((0..args.len()).map(dynarg).collect()), KqlType::Dynamic)
        }
        ("strcat_array" | "array_strcat", 2) => Bound::new(
            strcat_array_udf().call(vec![dynarg(0), b.coerce(args[1].clone(), KqlType::String).expr]),
            KqlType::String,
        ),
        _ => return None,
    };
    Some(Ok(r))
}
