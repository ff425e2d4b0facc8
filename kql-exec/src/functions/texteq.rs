//! Equality of a text column with one constant text, as bytes: the comparison the optimizer
//! puts in place of `tostring(d) == "text"` (see [`super::dynfn::string_comparison`]).
//!
//! Arrow's string equality calls `memcmp` for every row, which costs more than the comparison
//! itself for the short values logs are full of (`"FAIL"`, user ids). [`text_eq`] compares the
//! lengths from the offsets and, for texts of up to sixteen bytes, one or two machine words per
//! row, without a branch.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::{DataType, Int32Type};
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
            ColumnarValue::Array(a) if crate::types::is_dictionary_text(a.data_type()) => {
                Ok(ColumnarValue::Array(Arc::new(equal_dictionary(a, needle.as_bytes()))))
            }
            other => exec_err!("{TEXT_EQ}: a text argument expected, not {}", other.data_type()),
        }
    }
}

/// Row by row, whether the text array `a` holds `needle` (nulls do not).
///
/// The comparisons are branch-free: the values of a log column (`"PASS"`, `"FAIL"`, null) come
/// in no order a branch predictor could learn, and a mispredicted branch per row costs more than
/// the comparison. A value of another length is compared at a dummy position and then ruled out
/// by its length.
fn equal(a: &ArrayRef, needle: &[u8]) -> BooleanArray {
    let a = a.as_string::<i32>();
    let (offsets, bytes) = (a.value_offsets(), a.value_data());
    let n = needle.len();
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    let eq = if (8..=16).contains(&n) && bytes.len() >= n {
        let (first, last) = (word(needle, 0), word(needle, n - 8));
        BooleanBuffer::collect_bool(a.len(), |i| {
            let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
            let same_len = e - s == n;
            // `base + n` is within the data: at `s` when the length fits, else at 0
            let base = if same_len { s } else { 0 };
            same_len & (word(bytes, base) == first) & (word(bytes, base + n - 8) == last)
        })
    } else if (1..8).contains(&n) && bytes.len() >= 8 {
        // the needle's bytes as the low bytes of a word; a value's first eight bytes masked to its
        // length (the word ending at the data's end, shifted, for a value in the last eight bytes)
        let mask = u64::MAX >> (8 * (8 - n));
        let mut padded = [0u8; 8];
        padded[..n].copy_from_slice(needle);
        let want = u64::from_le_bytes(padded);
        let last = bytes.len() - 8;
        BooleanBuffer::collect_bool(a.len(), |i| {
            let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
            let same_len = e - s == n;
            // with the length right, `s + n` is within the data, so `s - at` is under 8
            let base = if same_len { s } else { 0 };
            let at = base.min(last);
            same_len & ((word(bytes, at) >> (8 * (base - at))) & mask == want)
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

/// [`equal`] of a dictionary-encoded text array: each distinct value is compared once, and each
/// row looks its key up.
fn equal_dictionary(a: &ArrayRef, needle: &[u8]) -> BooleanArray {
    let d = a.as_any_dictionary();
    let hits = equal(d.values(), needle);
    let eq = if hits.is_empty() {
        BooleanBuffer::new_unset(a.len())
    } else if let Some(keys) = d.keys().as_primitive_opt::<Int32Type>() {
        // (a null's key may be anything: kept in range here, and the null masked out below)
        let (keys, last) = (keys.values(), hits.len() - 1);
        let hits: Vec<bool> = hits.values().iter().collect();
        BooleanBuffer::collect_bool(a.len(), |i| hits[(keys[i] as u32 as usize).min(last)])
    } else {
        let keys = d.normalized_keys();
        BooleanBuffer::collect_bool(a.len(), |i| hits.value(keys[i]))
    };
    let eq = match d.keys().logical_nulls() {
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

    #[test]
    fn equal_agrees_at_every_position_and_length() {
        // values of every length from 0 to 20 around each needle, in an order that puts each at
        // the very end of the data in turn, and arrays with fewer than eight bytes of data
        let longer = "x".repeat(17);
        let needles =
            ["a", "FAIL", "\"FAIL\"", "1234567", "12345678", "\"user_3441\"", "0123456789abcdef", longer.as_str()];
        for needle in needles {
            let mut values: Vec<String> =
                (0..=20).map(|l| needle.bytes().cycle().take(l).map(char::from).collect()).collect();
            values.extend((0..=20).map(|l| "z".repeat(l)));
            for last in 0..values.len() {
                let mut order = values.clone();
                let v = order.remove(last);
                order.push(v);
                let a: ArrayRef = Arc::new(StringArray::from(order.clone()));
                let want: Vec<bool> = order.iter().map(|v| v == needle).collect();
                assert_eq!(equal(&a, needle.as_bytes()).values().iter().collect::<Vec<_>>(), want, "{needle:?}");
            }
            for v in ["", "a", "ab", needle] {
                let a: ArrayRef = Arc::new(StringArray::from(vec![Some(v), None, Some(v)]));
                let got = equal(&a, needle.as_bytes()).values().iter().collect::<Vec<_>>();
                assert_eq!(got, [v == needle, false, v == needle], "{needle:?} in {v:?}");
            }
        }
    }

    #[test]
    fn a_dictionary_compares_like_its_texts() {
        use datafusion::arrow::array::{DictionaryArray, Int32Array, Int8Array};
        let values: ArrayRef = Arc::new(StringArray::from(vec![Some("\"FAIL\""), Some("\"PASS\""), None, Some("")]));
        // a null key (whose slot holds an out-of-range key) and keys to a null and an empty value
        let keys = Int32Array::from(vec![Some(0), Some(1), None, Some(2), Some(3), Some(0), Some(1), Some(0)]);
        let keys = Int32Array::new(
            keys.values().iter().enumerate().map(|(i, k)| if i == 2 { 99 } else { *k }).collect(),
            keys.nulls().cloned(),
        );
        let dict: ArrayRef = Arc::new(DictionaryArray::new(keys, values.clone()));
        let narrow: ArrayRef =
            Arc::new(DictionaryArray::new(Int8Array::from(vec![Some(1), None, Some(0), Some(2)]), values));
        let empty: ArrayRef = Arc::new(DictionaryArray::new(
            Int32Array::from(vec![None::<i32>, None]),
            Arc::new(StringArray::from(Vec::<&str>::new())) as ArrayRef,
        ));
        for d in [dict.clone(), dict.slice(2, 5), narrow, empty] {
            let texts = datafusion::arrow::compute::cast(&d, &DataType::Utf8).unwrap();
            for needle in ["\"FAIL\"", "\"PASS\"", "", "x"] {
                assert_eq!(equal_dictionary(&d, needle.as_bytes()), equal(&texts, needle.as_bytes()), "{needle:?}");
            }
        }
    }
}
