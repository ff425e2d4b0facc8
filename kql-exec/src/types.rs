//! KQL types on Arrow, and the typing rules of KQL's operators.

use crate::schema::KqlType;
use datafusion::arrow::datatypes::DataType;

/// The Arrow type that holds values of a KQL type (see [`crate::value`] for the encoding).
pub fn arrow_type(t: KqlType) -> DataType {
    match t {
        KqlType::Bool => DataType::Boolean,
        KqlType::Int => DataType::Int32,
        KqlType::Long | KqlType::DateTime | KqlType::TimeSpan => DataType::Int64,
        KqlType::Real | KqlType::Decimal => DataType::Float64,
        KqlType::String | KqlType::Guid | KqlType::Dynamic => DataType::Utf8,
    }
}

/// Whether `t` is dictionary-encoded text (the member columns of tables in memory with few
/// distinct values, see [`crate::load::memory`]).
pub fn is_dictionary_text(t: &DataType) -> bool {
    matches!(t, DataType::Dictionary(_, v) if **v == DataType::Utf8)
}

/// True for int, long, real and decimal.
pub fn is_numeric(t: KqlType) -> bool {
    matches!(t, KqlType::Int | KqlType::Long | KqlType::Real | KqlType::Decimal)
}

/// The common numeric type of two numeric types (int+int is long in Kusto arithmetic).
pub fn numeric_common(a: KqlType, b: KqlType) -> KqlType {
    if matches!(a, KqlType::Real | KqlType::Decimal) || matches!(b, KqlType::Real | KqlType::Decimal) {
        KqlType::Real
    } else {
        KqlType::Long
    }
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

/// The result type of `a op b`, or `None` when Kusto does not define it.
pub fn arith_result(op: Arith, a: KqlType, b: KqlType) -> Option<KqlType> {
    use Arith::*;
    use KqlType::*;
    if a == Dynamic || b == Dynamic {
        return None;
    }
    match (op, a, b) {
        (_, x, y) if is_numeric(x) && is_numeric(y) => Some(numeric_common(x, y)),
        (Sub, DateTime, DateTime) => Some(TimeSpan),
        (Add | Sub, DateTime, TimeSpan) => Some(DateTime),
        (Add, TimeSpan, DateTime) => Some(DateTime),
        (Add | Sub, TimeSpan, TimeSpan) => Some(TimeSpan),
        (Mul, TimeSpan, x) | (Mul, x, TimeSpan) if is_numeric(x) => Some(TimeSpan),
        (Div, TimeSpan, TimeSpan) => Some(Real),
        (Div | Mod, TimeSpan, x) if is_numeric(x) => Some(TimeSpan),
        (Mod, TimeSpan, TimeSpan) => Some(TimeSpan),
        // on the datetime's ticks (since 0001-01-01), as Kusto.Language types them
        // (`datetime / 1000`, `starttime / 1h`, `d1 + d2`)
        (Mul | Div | Mod, DateTime, x) if is_numeric(x) => Some(DateTime),
        (Mul, x, DateTime) if is_numeric(x) => Some(DateTime),
        (Add, DateTime, DateTime) => Some(DateTime),
        (Div, DateTime, DateTime | TimeSpan) => Some(Real),
        (Mod, DateTime, DateTime | TimeSpan) => Some(TimeSpan),
        (Sub, TimeSpan, DateTime) => Some(DateTime),
        (Mul, TimeSpan, TimeSpan) => Some(TimeSpan),
        _ => None,
    }
}
