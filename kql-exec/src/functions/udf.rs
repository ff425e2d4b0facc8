//! One generic DataFusion scalar UDF that runs a Rust closure over Arrow arrays, so each KQL
//! function is a small closure next to its signature and docs.

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

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
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = args.args.iter().map(|a| a.to_array(rows)).collect::<DfResult<Vec<_>>>()?;
        // DataFusion's optimizer probes predicates with untyped (`Null`) columns to learn whether
        // they reject nulls; bodies expect their declared types, so decline (the optimizer then
        // just skips that inference).
        if arrays.iter().any(|a| a.data_type() == &DataType::Null) {
            return datafusion::common::exec_err!("{}: untyped null argument", self.name);
        }
        // A bug in one function body must fail the query, not the process.
        let out =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.body)(&arrays, rows))).map_err(|_| {
                datafusion::common::DataFusionError::Execution(format!("internal error in {}", self.name))
            })??;
        if all_scalar && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
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
