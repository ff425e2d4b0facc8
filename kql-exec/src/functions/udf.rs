//! One generic DataFusion scalar UDF that runs a Rust closure over Arrow arrays, so each KQL
//! function is a small closure next to its signature and docs.

use datafusion::arrow::array::{new_null_array, Array, ArrayRef, AsArray, UInt32Array};
use datafusion::arrow::compute::{cast, concat, take};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

/// The body of a KQL scalar function: arguments as arrays of equal length (`rows`), result
/// array of that length.
pub type Body = Arc<dyn Fn(&[ArrayRef], usize) -> DfResult<ArrayRef> + Send + Sync>;

/// A KQL scalar function as a DataFusion UDF. Argument types are fixed by the binder (which
/// inserts casts), so the signature accepts anything and the return type is given.
pub struct KqlUdf {
    name: String,
    signature: Signature,
    ret: DataType,
    body: Body,
}

impl fmt::Debug for KqlUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KqlUdf({} -> {})", self.name, self.ret)
    }
}

impl PartialEq for KqlUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.ret == other.ret && Arc::ptr_eq(&self.body, &other.body)
    }
}
impl Eq for KqlUdf {}
impl Hash for KqlUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for KqlUdf {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.ret.clone())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let args = match self.over_dictionary_values(args)? {
            Ok(out) => return Ok(out),
            Err(args) => args,
        };
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        if rows == 0 {
            // an empty batch: bodies may read a constant argument's first row, which a
            // constant broadcast to no rows does not have
            return Ok(ColumnarValue::Array(datafusion::arrow::array::new_empty_array(&self.ret)));
        }
        let arrays = args.args.iter().map(|a| a.to_array(rows).and_then(unpacked)).collect::<DfResult<Vec<_>>>()?;
        // DataFusion's optimizer probes predicates with untyped (`Null`) columns to learn whether
        // they reject nulls; bodies expect their declared types, so decline (the optimizer then
        // just skips that inference).
        if arrays.iter().any(|a| a.data_type() == &DataType::Null) {
            return datafusion::common::exec_err!("{}: untyped null argument", self.name);
        }
        let out = self.run_body(&arrays, rows)?;
        if all_scalar && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// Debug builds: `KQL_DEBUG_PANIC_IN_UDF=NAME` makes the row function `NAME` panic when it runs,
/// as a bug in its body would (the tests of how such a bug is reported use it).
fn debug_panic(name: &str) {
    #[cfg(debug_assertions)]
    {
        static TARGET: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        if TARGET.get_or_init(|| std::env::var("KQL_DEBUG_PANIC_IN_UDF").ok()).as_deref() == Some(name) {
            panic!("fault injected by KQL_DEBUG_PANIC_IN_UDF={name}");
        }
    }
    let _ = name;
}

impl KqlUdf {
    /// The body over `arrays` of `rows` rows. A bug in one function body must fail the query, not
    /// the process.
    fn run_body(&self, arrays: &[ArrayRef], rows: usize) -> DfResult<ArrayRef> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            debug_panic(&self.name);
            (self.body)(arrays, rows)
        }))
        .map_err(|payload| {
            // KQL998 with the panic's message and place, carried through DataFusion as itself
            let e = crate::session::guard::panic_error(&format!("evaluating {}", self.name), payload.as_ref());
            datafusion::common::DataFusionError::External(Box::new(e))
        })?
    }

    /// The call over a dictionary-encoded argument (a member column of a table in memory, see
    /// [`crate::load::memory`]) whose other arguments are constants: the body runs once per
    /// distinct value (and once for a null), and each row takes its value's result. `Err` gives
    /// the arguments back for a call of another shape, a volatile function, an untyped null
    /// argument, or a dictionary with as many values as the batch has rows or more.
    fn over_dictionary_values(&self, args: ScalarFunctionArgs) -> DfResult<Result<ColumnarValue, ScalarFunctionArgs>> {
        let mut arrays = args.args.iter().filter_map(|a| match a {
            ColumnarValue::Array(a) => Some(a),
            ColumnarValue::Scalar(_) => None,
        });
        let (Some(dict), None) = (arrays.next().and_then(|a| a.as_any_dictionary_opt()), arrays.next()) else {
            return Ok(Err(args));
        };
        let rows = dict.keys().len();
        let untyped = args.args.iter().any(|a| a.data_type() == DataType::Null);
        if self.signature.volatility == Volatility::Volatile || dict.values().len() >= rows || untyped {
            return Ok(Err(args));
        }
        // the distinct values, then a null: a function need not give null for a null
        let values = dict.values();
        let with_null = concat(&[values.as_ref(), new_null_array(values.data_type(), 1).as_ref()])?;
        let n = with_null.len();
        let inputs = args
            .args
            .iter()
            .map(|a| match a {
                ColumnarValue::Array(_) => Ok(with_null.clone()),
                ColumnarValue::Scalar(s) => s.to_array_of_size(n),
            })
            .collect::<DfResult<Vec<_>>>()?;
        let out = self.run_body(&inputs, n)?;
        let nulls = dict.keys().logical_nulls();
        let null_at = (n - 1) as u32;
        let indices: UInt32Array = dict
            .normalized_keys()
            .into_iter()
            .enumerate()
            .map(|(i, k)| if nulls.as_ref().is_some_and(|v| v.is_null(i)) { null_at } else { k as u32 })
            .collect();
        Ok(Ok(ColumnarValue::Array(take(out.as_ref(), &indices, None)?)))
    }
}

/// Whether `f` can be given a dictionary-encoded text argument directly: the functions built by
/// [`udf`] (see [`KqlUdf::over_dictionary_values`]) and [`super::texteq`]'s comparison.
pub fn takes_dictionaries(f: &ScalarUDF) -> bool {
    let any: &dyn std::any::Any = f.inner().as_ref();
    any.is::<KqlUdf>() || f.name() == super::texteq::TEXT_EQ
}

/// An argument array as the bodies expect it: a dictionary-encoded one decoded to its values'
/// type.
fn unpacked(a: ArrayRef) -> DfResult<ArrayRef> {
    match a.data_type() {
        DataType::Dictionary(_, value) => Ok(cast(&a, value)?),
        _ => Ok(a),
    }
}

/// Build a UDF named `name` returning `ret`.
pub fn udf(name: &str, ret: DataType, volatile: bool, body: Body) -> Arc<ScalarUDF> {
    let vol = if volatile { Volatility::Volatile } else { Volatility::Immutable };
    Arc::new(ScalarUDF::new_from_impl(KqlUdf {
        name: name.to_string(),
        signature: Signature::variadic_any(vol),
        ret,
        body,
    }))
}

/// Call a UDF built by [`udf`] on arguments.
pub fn call(u: &Arc<ScalarUDF>, args: Vec<Expr>) -> Expr {
    u.call(args)
}

/// Length check helper used by bodies.
pub fn same_len(arrays: &[ArrayRef], rows: usize) -> bool {
    arrays.iter().all(|a| a.len() == rows)
}

/// A cache of UDFs built from a small key (a string predicate's kind, a function's name): the
/// same key gives the same UDF, built by `make` on its first use.
pub type UdfCache<K> = OnceLock<Mutex<Vec<(K, Arc<ScalarUDF>)>>>;

/// The UDF of `key` in `cache`, built by `make` if it is not there yet.
pub fn cached<K: PartialEq>(
    cache: &'static UdfCache<K>,
    key: K,
    make: impl FnOnce() -> Arc<ScalarUDF>,
) -> Arc<ScalarUDF> {
    let mut v = cache.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, u)) = v.iter().find(|(k, _)| *k == key) {
        return u.clone();
    }
    let u = make();
    v.push((key, u.clone()));
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{DictionaryArray, Int32Array, StringArray};
    use datafusion::arrow::datatypes::Field;
    use datafusion::common::config::ConfigOptions;

    /// `f(values, constant)` through DataFusion's call interface.
    fn invoke(f: &ScalarUDF, args: Vec<ColumnarValue>, rows: usize) -> ArrayRef {
        let arg_fields = args.iter().map(|a| Arc::new(Field::new("a", a.data_type(), true))).collect::<Vec<_>>();
        let args = ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows: rows,
            return_field: Arc::new(Field::new("r", f.return_type(&[]).unwrap(), true)),
            config_options: Arc::new(ConfigOptions::default()),
        };
        f.invoke_with_args(args).unwrap().to_array(rows).unwrap()
    }

    #[test]
    fn a_dictionary_argument_gives_what_its_texts_give() {
        // a body that tells a null from a text and reads its constant argument
        let f = udf(
            "t",
            DataType::Utf8,
            false,
            Arc::new(|args: &[ArrayRef], rows: usize| {
                let (v, suffix) = (args[0].as_string::<i32>(), args[1].as_string::<i32>());
                let out: StringArray = (0..rows)
                    .map(|i| Some(format!("{}{}", if v.is_valid(i) { v.value(i) } else { "<null>" }, suffix.value(i))))
                    .collect();
                Ok(Arc::new(out) as ArrayRef)
            }),
        );
        let values: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("b")]));
        let keys = Int32Array::from(vec![Some(0), None, Some(2), Some(1), Some(0), Some(2), None, Some(0)]);
        let dict: ArrayRef = Arc::new(DictionaryArray::new(keys, values));
        let suffix = ColumnarValue::Scalar(ScalarValue::Utf8(Some("!".into())));
        // more rows than values (each value once), fewer (decoded first), and a slice
        for d in [dict.clone(), dict.slice(0, 2), dict.slice(3, 5)] {
            let texts = cast(&d, &DataType::Utf8).unwrap();
            let want = invoke(&f, vec![ColumnarValue::Array(texts.clone()), suffix.clone()], d.len());
            let got = invoke(&f, vec![ColumnarValue::Array(d.clone()), suffix.clone()], d.len());
            assert_eq!(got.as_ref(), want.as_ref());
            // two array arguments: both decoded
            let got = invoke(&f, vec![ColumnarValue::Array(d.clone()), ColumnarValue::Array(texts.clone())], d.len());
            let want = invoke(&f, vec![ColumnarValue::Array(texts.clone()), ColumnarValue::Array(texts)], d.len());
            assert_eq!(got.as_ref(), want.as_ref());
        }
    }

    /// An empty batch gives an empty result without running the body: bodies read a constant
    /// argument's first element (`dynamic_path(d, spec)` reads `spec.value(0)`), which an empty
    /// batch does not have (a panic, reported as "internal error in kql_dyn_path", when a
    /// filter left a batch empty).
    #[test]
    fn an_empty_batch_gives_an_empty_result() {
        let f = udf(
            "first_of_constant",
            DataType::Utf8,
            false,
            Arc::new(|args: &[ArrayRef], rows: usize| {
                let c = args[1].as_string::<i32>().value(0).to_string();
                Ok(Arc::new((0..rows).map(|_| Some(c.clone())).collect::<StringArray>()) as ArrayRef)
            }),
        );
        let empty: ArrayRef = Arc::new(StringArray::from(Vec::<Option<&str>>::new()));
        let spec = ColumnarValue::Scalar(ScalarValue::Utf8(Some("k".into())));
        let out = invoke(&f, vec![ColumnarValue::Array(empty), spec], 0);
        assert_eq!((out.len(), out.data_type()), (0, &DataType::Utf8));
    }
}
