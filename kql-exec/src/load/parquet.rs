//! Parquet: reading (DataFusion's Parquet reader) into KQL-typed columns, and writing typed Parquet
//! (`kql convert`) that reads back exactly.
//!
//! **Reading.** Columns are typed by the table's schema when it has one, else by the field's
//! `kql_type` metadata (written by [`write_table`]), else by the Arrow type: booleans are `bool`,
//! 8- to 32-bit integers `int`, wider ones `long`, floats and decimals `real`, timestamps and dates
//! `datetime` (converted to ticks), durations `timespan`, text `string`, lists, structs and maps
//! `dynamic` (as JSON). Text in `datetime`, `timespan`, number and `dynamic` columns is parsed;
//! a value that does not convert is null and counted in the report.
//!
//! **Writing.** Every column carries its KQL type in the field metadata key [`KQL_TYPE_KEY`];
//! `datetime` columns are Parquet timestamps (nanoseconds, UTC) when every value fits (years
//! 1678..2261), else 64-bit ticks; `timespan` is 64-bit ticks; `dynamic` is JSON text.

use super::convert::{convert_value, dynamic_from_text, Converted, BATCH_ROWS};
use super::{LoadOptions, LoadReport};
use crate::binder::Col;
use crate::error::{KqlError, Result};
use crate::schema::{KqlType, TableSchema};
use crate::types::arrow_type;
use crate::value::datetime as dt;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The field metadata key holding a column's KQL type.
pub const KQL_TYPE_KEY: &str = "kql_type";

const TICKS_PER_SECOND: i64 = 10_000_000;
const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;

fn err(path: &Path, e: impl std::fmt::Display) -> KqlError {
    KqlError::general("KQL130", format!("{}: {e}", path.display()))
}

/// The KQL type of a Parquet (Arrow) field when no schema gives one.
pub fn field_type(f: &Field) -> KqlType {
    if let Some(t) = f.metadata().get(KQL_TYPE_KEY).and_then(|t| KqlType::parse(t)) {
        return t;
    }
    arrow_to_kql(f.data_type())
}

fn arrow_to_kql(t: &DataType) -> KqlType {
    use DataType::*;
    match t {
        Boolean => KqlType::Bool,
        Int8 | Int16 | Int32 | UInt8 | UInt16 => KqlType::Int,
        Int64 | UInt32 | UInt64 => KqlType::Long,
        Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => KqlType::Real,
        Timestamp(..) | Date32 | Date64 => KqlType::DateTime,
        Duration(_) => KqlType::TimeSpan,
        List(_) | LargeList(_) | FixedSizeList(..) | ListView(_) | LargeListView(_) | Struct(_) | Map(..) => {
            KqlType::Dynamic
        }
        Dictionary(_, v) => arrow_to_kql(v),
        _ => KqlType::String,
    }
}

/// Read a Parquet file as a table: the schema's columns (absent ones null, or `""`), then the
/// file's other columns.
pub fn read_table(
    path: &Path,
    schema: Option<&TableSchema>,
    report: &mut LoadReport,
    opts: &LoadOptions,
) -> Result<(Vec<Col>, Vec<RecordBatch>)> {
    let file = std::fs::File::open(path).map_err(|e| err(path, e))?;
    let builder = match ParquetRecordBatchReaderBuilder::try_new(file) {
        Ok(b) => b,
        Err(e) => {
            if opts.strict {
                return Err(err(path, format!("not a readable Parquet file: {e}")));
            }
            report.skip(path, 0, format!("not a readable Parquet file: {e}"));
            let cols: Vec<Col> =
                schema.map(|s| s.columns.iter().map(|(n, t)| Col::new(n, *t)).collect()).unwrap_or_default();
            return Ok((cols, vec![]));
        }
    };
    let file_schema = builder.schema().clone();
    let mut cols: Vec<Col> =
        schema.map(|s| s.columns.iter().map(|(n, t)| Col::new(n, *t)).collect()).unwrap_or_default();
    for f in file_schema.fields() {
        if !cols.iter().any(|c| &c.name == f.name()) {
            cols.push(Col::new(f.name(), field_type(f)));
        }
    }
    let src: Vec<Option<usize>> = cols.iter().map(|c| file_schema.index_of(&c.name).ok()).collect();
    let out_schema =
        Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(|e| err(path, e))?;
    let mut batches = Vec::new();
    let mut row0 = 0usize;
    for batch in reader {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                if opts.strict {
                    return Err(err(path, e));
                }
                report.skip(path, row0 + 1, format!("unreadable row group: {e}"));
                break;
            }
        };
        let n = batch.num_rows();
        let mut arrays = Vec::with_capacity(cols.len());
        for (c, s) in cols.iter().zip(&src) {
            let a = match s {
                Some(i) => {
                    let mut bad = Vec::new();
                    let a = to_kql(batch.column(*i), file_schema.field(*i), c.ty, &mut bad)?;
                    for (row, v) in bad {
                        let msg = format!("column `{}`: {v} is not a {} (null)", c.name, c.ty);
                        let loc = super::json::Loc { file: Arc::from(path), line: row0 + row + 1 };
                        if opts.strict {
                            return Err(KqlError::general("KQL109", format!("{loc} (row): {msg}")));
                        }
                        report.bad_value(Some(&loc), msg);
                    }
                    a
                }
                None => super::missing_column(c.ty, n),
            };
            arrays.push(a);
        }
        batches.push(RecordBatch::try_new(out_schema.clone(), arrays).map_err(|e| err(path, e))?);
        row0 += n;
    }
    Ok((cols, batches))
}

fn ticks_from(values: &Int64Array, mul: i64, div: i64) -> ArrayRef {
    Arc::new(
        values.iter().map(|v| v.and_then(|v| v.checked_mul(mul)).map(|v| v.div_euclid(div))).collect::<Int64Array>(),
    )
}

fn unit_factor(u: &TimeUnit) -> (i64, i64) {
    match u {
        TimeUnit::Second => (TICKS_PER_SECOND, 1),
        TimeUnit::Millisecond => (10_000, 1),
        TimeUnit::Microsecond => (10, 1),
        TimeUnit::Nanosecond => (1, 100),
    }
}

fn as_i64(a: &ArrayRef) -> Result<Int64Array> {
    Ok(cast(a, &DataType::Int64).map_err(|e| KqlError::general("KQL131", e.to_string()))?.as_primitive().clone())
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Convert one Arrow column to the Arrow form of KQL type `ty`; `bad` gets the rows (and
/// values) that did not convert.
pub fn to_kql(a: &ArrayRef, field: &Field, ty: KqlType, bad: &mut Vec<(usize, String)>) -> Result<ArrayRef> {
    let meta = field.metadata().get(KQL_TYPE_KEY).and_then(|t| KqlType::parse(t));
    let dtype = a.data_type();
    if let DataType::Dictionary(_, v) = dtype {
        let plain = cast(a, v).map_err(|e| KqlError::general("KQL131", e.to_string()))?;
        let f = Field::new(field.name(), (**v).clone(), true).with_metadata(field.metadata().clone());
        return to_kql(&plain, &f, ty, bad);
    }
    let want = arrow_type(ty);
    match (ty, dtype) {
        // exact: written by `kql convert`, or already the KQL encoding of a compatible type
        (_, t) if meta == Some(ty) && t == &want => Ok(a.clone()),
        (KqlType::DateTime | KqlType::TimeSpan, DataType::Timestamp(u, _) | DataType::Duration(u)) => {
            let (mul, div) = unit_factor(u);
            Ok(ticks_from(&as_i64(a)?, mul, div))
        }
        (KqlType::DateTime, DataType::Date32) => Ok(ticks_from(&as_i64(a)?, TICKS_PER_DAY, 1)),
        (KqlType::DateTime, DataType::Date64) => Ok(ticks_from(&as_i64(a)?, 10_000, 1)),
        (KqlType::String | KqlType::Guid, t) if is_text(t) => {
            let s = cast(a, &DataType::Utf8).map_err(|e| KqlError::general("KQL131", e.to_string()))?;
            let s = s.as_string::<i32>();
            if s.null_count() == 0 && ty == KqlType::String {
                return Ok(Arc::new(s.clone()));
            }
            Ok(Arc::new(
                s.iter()
                    .map(|v| {
                        let v = v.unwrap_or("");
                        Some(if ty == KqlType::Guid { v.to_lowercase() } else { v.to_string() })
                    })
                    .collect::<StringArray>(),
            ))
        }
        (KqlType::Dynamic, t) if is_text(t) => {
            let s = cast(a, &DataType::Utf8).map_err(|e| KqlError::general("KQL131", e.to_string()))?;
            Ok(Arc::new(s.as_string::<i32>().iter().map(|v| v.and_then(dynamic_from_text)).collect::<StringArray>()))
        }
        (KqlType::Long | KqlType::Int | KqlType::Real | KqlType::Decimal | KqlType::Bool, t)
            if t.is_numeric() || t == &DataType::Boolean =>
        {
            let out = cast(a, &want).map_err(|e| KqlError::general("KQL131", e.to_string()))?;
            for i in 0..a.len() {
                if out.is_null(i) && !a.is_null(i) {
                    bad.push((i, value_at(a, i).to_string()));
                }
            }
            Ok(out)
        }
        _ => {
            // value by value, as JSON values convert
            let text = is_text(dtype);
            let vals: Vec<Converted> = (0..a.len())
                .map(|i| {
                    let v = value_at(a, i);
                    let c = convert_value(&v, ty, text);
                    let failed = match &c {
                        Converted::I64(x) => x.is_none(),
                        Converted::F64(x) => x.is_none(),
                        Converted::Bool(x) => x.is_none(),
                        _ => false,
                    };
                    let present = match &v {
                        Value::Null => false,
                        Value::String(s) => !s.trim().is_empty(),
                        _ => true,
                    };
                    if failed && present {
                        bad.push((i, v.to_string()));
                    }
                    c
                })
                .collect();
            Ok(super::externaldata::build(vals.into_iter(), ty, a.len()))
        }
    }
}

/// The value at row `i` of an Arrow array, as JSON (timestamps as ISO 8601 text).
pub fn value_at(a: &ArrayRef, i: usize) -> Value {
    use datafusion::arrow::datatypes::*;
    if a.is_null(i) {
        return Value::Null;
    }
    let num = |f: f64| Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null);
    match a.data_type() {
        DataType::Boolean => Value::Bool(a.as_boolean().value(i)),
        DataType::Int8 => Value::from(a.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => Value::from(a.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => Value::from(a.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => Value::from(a.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => Value::from(a.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => Value::from(a.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => Value::from(a.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => Value::from(a.as_primitive::<UInt64Type>().value(i)),
        DataType::Float32 => num(f64::from(a.as_primitive::<Float32Type>().value(i))),
        DataType::Float64 => num(a.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => Value::String(a.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Value::String(a.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Value::String(a.as_string_view().value(i).to_string()),
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
            let mut bad = Vec::new();
            let f = Field::new("", a.data_type().clone(), true);
            match to_kql(&a.slice(i, 1), &f, KqlType::DateTime, &mut bad) {
                Ok(t) => {
                    let t = t.as_primitive::<Int64Type>();
                    if t.is_null(0) {
                        Value::Null
                    } else {
                        Value::String(dt::format_datetime_iso(t.value(0)))
                    }
                }
                Err(_) => Value::Null,
            }
        }
        DataType::Duration(u) => {
            let (mul, div) = unit_factor(u);
            let v = cast(a, &DataType::Int64).ok().map(|x| x.as_primitive::<Int64Type>().value(i));
            match v.and_then(|v| v.checked_mul(mul)) {
                Some(t) => Value::String(dt::format_timespan(t.div_euclid(div))),
                None => Value::Null,
            }
        }
        DataType::List(_) => list_value(&a.as_list::<i32>().value(i)),
        DataType::LargeList(_) => list_value(&a.as_list::<i64>().value(i)),
        DataType::FixedSizeList(..) => list_value(&a.as_fixed_size_list().value(i)),
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut m = Map::new();
            for (k, f) in fields.iter().enumerate() {
                m.insert(f.name().clone(), value_at(s.column(k), i));
            }
            Value::Object(m)
        }
        DataType::Map(..) => {
            let m = a.as_map();
            let entries = m.value(i);
            let (keys, vals) = (entries.column(0), entries.column(1));
            let mut out = Map::new();
            for k in 0..entries.len() {
                let key = match value_at(keys, k) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(key, value_at(vals, k));
            }
            Value::Object(out)
        }
        DataType::Dictionary(_, v) => match cast(&a.slice(i, 1), v) {
            Ok(p) => value_at(&p, 0),
            Err(_) => Value::Null,
        },
        _ => match datafusion::arrow::util::display::array_value_to_string(a, i) {
            Ok(s) => match a.data_type() {
                t if t.is_numeric() => s.parse::<f64>().map(num).unwrap_or(Value::String(s)),
                _ => Value::String(s),
            },
            Err(_) => Value::Null,
        },
    }
}

fn list_value(a: &ArrayRef) -> Value {
    Value::Array((0..a.len()).map(|i| value_at(a, i)).collect())
}

/// The largest tick count (in magnitude) that fits a nanosecond timestamp.
const MAX_NS_TICKS: i64 = i64::MAX / 100;

/// Write a table as typed Parquet (see the module documentation). Returns the rows written.
pub fn write_table(path: &Path, cols: &[Col], batches: &[RecordBatch]) -> Result<usize> {
    // datetime columns whose values all fit nanoseconds are written as timestamps
    let as_timestamp: Vec<bool> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.ty == KqlType::DateTime
                && batches.iter().all(|b| {
                    let a = b.column(i).as_primitive::<datafusion::arrow::datatypes::Int64Type>();
                    a.iter().flatten().all(|v| (-MAX_NS_TICKS..=MAX_NS_TICKS).contains(&v))
                })
        })
        .collect();
    let fields: Vec<Field> = cols
        .iter()
        .zip(&as_timestamp)
        .map(|(c, ts)| {
            let t = if *ts { DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())) } else { arrow_type(c.ty) };
            let meta: HashMap<String, String> = [(KQL_TYPE_KEY.to_string(), c.ty.name().to_string())].into();
            Field::new(&c.name, t, true).with_metadata(meta)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let file = std::fs::File::create(path).map_err(|e| err(path, e))?;
    let props = WriterProperties::builder().set_compression(Compression::ZSTD(Default::default())).build();
    let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| err(path, e))?;
    let mut rows = 0;
    for b in batches {
        let arrays = b
            .columns()
            .iter()
            .zip(&as_timestamp)
            .map(|(a, ts)| {
                if *ts {
                    let ns: Int64Array = a
                        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                        .iter()
                        .map(|v| v.map(|v| v * 100))
                        .collect();
                    cast(&(Arc::new(ns) as ArrayRef), &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())))
                        .map_err(|e| err(path, e))
                } else {
                    Ok(a.clone())
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| err(path, e))?;
        rows += batch.num_rows();
        w.write(&batch).map_err(|e| err(path, e))?;
    }
    w.close().map_err(|e| err(path, e))?;
    Ok(rows)
}
