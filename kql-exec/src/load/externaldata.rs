//! `externaldata`: rows from a URL, served offline from local files the user maps to URLs
//! (`--externaldata URL=PATH`, or a cache folder with a `manifest.json` of `{url: file}`).

use crate::binder::tabular::type_of;
use crate::binder::{Binder, Col, Rel};
use crate::error::{KqlError, Result};
use crate::load::convert::{convert_value, Converted};
use crate::types::arrow_type;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{Field, Schema};
use kql_parser::ast::{self, ExprKind, Literal};
use kql_parser::Span;
use std::sync::Arc;

/// Bind an `externaldata` expression.
pub fn bind(
    b: &mut Binder,
    columns: &[ast::ColumnDecl],
    urls: &[ast::Expr],
    props: &[ast::NamedArg],
    span: Span,
) -> Result<Rel> {
    let cols: Vec<Col> = columns.iter().map(|c| Col::new(&c.name.name, type_of(&c.ty))).collect();
    if b.options.check_only {
        return b.rel_from_batches(cols, vec![]);
    }
    let prop = |name: &str| -> Option<String> {
        props.iter().find(|p| p.name.name.eq_ignore_ascii_case(name)).and_then(|p| match &p.value.kind {
            ExprKind::Literal(Literal::String(s)) => Some(s.clone()),
            ExprKind::Literal(Literal::Bool(Some(v))) => Some(v.to_string()),
            ExprKind::Name(n) => Some(n.name.clone()),
            _ => None,
        })
    };
    let format = prop("format").unwrap_or_else(|| "csv".into()).to_lowercase();
    let skip_first = prop("ignoreFirstRecord").is_some_and(|v| v == "true");
    let has_header = prop("has_header_row").is_some_and(|v| v == "true");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for u in urls {
        let url = match &u.kind {
            ExprKind::Literal(Literal::String(s)) => s.clone(),
            _ => return Err(KqlError::new("KQL110", "externaldata URLs must be string literals", u.span)),
        };
        let Some(path) = b.catalog.externaldata_path(&url) else {
            return Err(KqlError::new(
                "KQL111",
                format!("externaldata `{url}` is not available offline"),
                u.span,
            )
            .with_help(format!("download it and map it: --externaldata '{url}=PATH' (or put it in an --externaldata-dir folder with a manifest.json)")));
        };
        match format.as_str() {
            "csv" | "txt" | "tsv" | "psv" => {
                let mut r = crate::load::csv::read_rows(&path, false)?;
                if (skip_first || has_header) && !r.is_empty() {
                    r.remove(0);
                }
                rows.extend(r);
            }
            other => {
                return Err(KqlError::new("KQL112", format!("externaldata format `{other}` is not supported"), span))
            }
        }
    }
    let schema =
        Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    let arrays: Vec<ArrayRef> = cols
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let vals = rows.iter().map(|r| {
                let v = serde_json::Value::String(r.get(k).cloned().unwrap_or_default());
                convert_value(&v, c.ty, true)
            });
            build(vals, c.ty, rows.len())
        })
        .collect();
    let batch = RecordBatch::try_new(schema, arrays).map_err(|e| KqlError::new("KQL113", e.to_string(), span))?;
    b.rel_from_batches(cols, vec![batch])
}

/// An Arrow column of converted values of type `ty`.
pub(crate) fn build(vals: impl Iterator<Item = Converted>, ty: crate::schema::KqlType, n: usize) -> ArrayRef {
    use crate::schema::KqlType as T;
    match ty {
        T::Int => {
            let mut b = Int32Builder::with_capacity(n);
            for v in vals {
                b.append_option(if let Converted::I64(x) = v { x.and_then(|x| i32::try_from(x).ok()) } else { None });
            }
            Arc::new(b.finish())
        }
        T::Long | T::DateTime | T::TimeSpan => {
            let mut b = Int64Builder::with_capacity(n);
            for v in vals {
                b.append_option(if let Converted::I64(x) = v { x } else { None });
            }
            Arc::new(b.finish())
        }
        T::Real | T::Decimal => {
            let mut b = Float64Builder::with_capacity(n);
            for v in vals {
                b.append_option(if let Converted::F64(x) = v { x } else { None });
            }
            Arc::new(b.finish())
        }
        T::Bool => {
            let mut b = BooleanBuilder::with_capacity(n);
            for v in vals {
                b.append_option(if let Converted::Bool(x) = v { x } else { None });
            }
            Arc::new(b.finish())
        }
        T::Dynamic => {
            let mut b = StringBuilder::new();
            for v in vals {
                match v {
                    Converted::Json(Some(s)) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        T::String | T::Guid => {
            let mut b = StringBuilder::new();
            for v in vals {
                match v {
                    Converted::Str(s) => b.append_value(s),
                    _ => b.append_value(""),
                }
            }
            Arc::new(b.finish())
        }
    }
}
