//! Equality of a text column with one constant text, as bytes: the comparison the optimizer
//! puts in place of `tostring(d) == "text"` (see [`super::dynfn::string_comparison`]).
//!
//! Arrow's string equality calls `memcmp` for every row, which costs more than the comparison
//! itself for the short values logs are full of (`"FAIL"`, user ids). [`text_eq`] compares the
//! lengths from the offsets and, for texts of up to sixteen bytes, two machine words per row.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::{Arc, OnceLock};

/// The name of the function [`text_eq`] calls.
pub const TEXT_EQ: &str = "kql_text_eq";

/// `text_eq(s, "t")`: whether `s` is the text `t`; a null is not (never null itself).
pub fn text_eq(s: Expr, text: &str) -> Expr {
    static U: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    U.get_or_init(|| Arc::new(ScalarUDF::new_from_impl(TextEq { signature: Signature::any(2, Volatility::Immutable) })))
        .call(vec![s, datafusion::logical_expr::lit(text)])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TextEq {
    signature: Signature,
}

impl ScalarUDFImpl for TextEq {
    fn name(&self) -> &str {
        TEXT_EQ
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ColumnarValue::Scalar(ScalarValue::Utf8(Some(needle))) = &args.args[1] else {
            return exec_err!("{TEXT_EQ}: the text must be a constant");
        };
        match &args.args[0] {
            ColumnarValue::Scalar(ScalarValue::Utf8(v)) => {
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(Some(v.as_deref() == Some(needle.as_str())))))
            }
            ColumnarValue::Array(a) if a.data_type() == &DataType::Utf8 => {
                Ok(ColumnarValue::Array(Arc::new(equal(a, needle.as_bytes()))))
            }
            other => exec_err!("{TEXT_EQ}: a text argument expected, not {}", other.data_type()),
        }
    }
}

/// Row by row, whether the text array `a` holds `needle` (nulls do not).
fn equal(a: &ArrayRef, needle: &[u8]) -> BooleanArray {
    let a = a.as_string::<i32>();
    let (offsets, bytes) = (a.value_offsets(), a.value_data());
    let n = needle.len();
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    let eq = if (8..=16).contains(&n) {
        let (first, last) = (word(needle, 0), word(needle, n - 8));
        BooleanBuffer::collect_bool(a.len(), |i| {
            let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
            e - s == n && word(bytes, s) == first && word(bytes, e - 8) == last
        })
    } else if (1..8).contains(&n) {
        // the needle's bytes as the low bytes of a word; a value's first eight bytes (fewer at the
        // very end of the data) masked to its length
        let mask = u64::MAX >> (8 * (8 - n));
        let mut padded = [0u8; 8];
        padded[..n].copy_from_slice(needle);
        let want = u64::from_le_bytes(padded);
        BooleanBuffer::collect_bool(a.len(), |i| {
            let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
            e - s == n
                && match bytes.get(s..s + 8) {
                    Some(w) => u64::from_le_bytes(w.try_into().unwrap_or([0; 8])) & mask == want,
                    None => &bytes[s..e] == needle,
                }
        })
    } else {
        BooleanBuffer::collect_bool(a.len(), |i| {
            let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
            e - s == n && &bytes[s..e] == needle
        })
    };
    let eq = match a.nulls() {
        Some(valid) => &eq & valid.inner(),
        None => eq,
    };
    BooleanArray::new(eq, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    #[test]
    fn equal_agrees_with_comparing_strings() {
        let values: Vec<Option<&str>> = vec![
            Some("FAIL"),
            Some("\"FAIL\""),
            None,
            Some(""),
            Some("\"user_34419aa2\""),
            Some("\"user_34419aa3\""),
            Some("\"user_3441\""),
            Some("a long text, more than sixteen bytes"),
            Some("a long text, more than sixteen bytez"),
            Some("\"FAI\""),
            Some("x"),
        ];
        let a: ArrayRef = Arc::new(StringArray::from(values.clone()));
        // a slice starts at an offset other than zero
        let sliced = a.slice(1, values.len() - 1);
        for needle in
            ["FAIL", "\"FAIL\"", "", "\"user_34419aa2\"", "\"user_3441\"", "a long text, more than sixteen bytes", "x"]
        {
            let got = equal(&a, needle.as_bytes());
            let want: Vec<bool> = values.iter().map(|v| *v == Some(needle)).collect();
            assert_eq!(got.values().iter().collect::<Vec<_>>(), want, "{needle:?}");
            assert_eq!(got.null_count(), 0);
            let got = equal(&sliced, needle.as_bytes());
            assert_eq!(got.values().iter().collect::<Vec<_>>(), want[1..], "sliced, {needle:?}");
        }
    }
}
