//! `buildschema(DynamicExpr)`: the minimal schema that admits every value of a dynamic column.
//!
//! The schema is itself a dynamic value: a primitive value's type name (`"long"`, `"double"`,
//! `"string"`, `"bool"`), an object's properties each with its schema (`{"x": "long"}`), an
//! array's items under the key `` "`indexer`" `` (`` {"`indexer`": "string"} ``), and, where values of
//! different kinds meet, a list of the alternatives in the order they were first seen
//! (`["long", "string"]`). Objects merge property by property and arrays item by item, so at
//! most one object and one array appear among the alternatives. Nulls add nothing.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

/// The key of an array's item schema: `indexer` in backticks, which no property name read from
/// JSON can be confused with.
const INDEXER: &str = "`indexer`";

/// One alternative of a schema.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// A primitive type's name.
    Prim(&'static str),
    /// An object: its properties in the order first seen.
    Obj(Vec<(String, Schema)>),
    /// An array: the schema of its items.
    Arr(Box<Schema>),
}

/// The alternatives a value may take, in the order first seen (empty: nothing seen yet).
#[derive(Debug, Clone, PartialEq, Default)]
struct Schema(Vec<Kind>);

impl Schema {
    /// Widen the schema to admit `v`.
    fn add(&mut self, v: &Value) {
        match v {
            Value::Null => {}
            Value::Bool(_) => self.add_prim("bool"),
            Value::Number(n) if n.is_i64() || n.is_u64() && n.as_u64().is_some_and(|u| u <= i64::MAX as u64) => {
                self.add_prim("long")
            }
            Value::Number(_) => self.add_prim("double"),
            Value::String(_) => self.add_prim("string"),
            Value::Array(items) => {
                let pos = self.0.iter().position(|k| matches!(k, Kind::Arr(_)));
                let i = pos.unwrap_or_else(|| {
                    self.0.push(Kind::Arr(Box::default()));
                    self.0.len() - 1
                });
                if let Kind::Arr(s) = &mut self.0[i] {
                    for item in items {
                        s.add(item);
                    }
                }
            }
            Value::Object(props) => {
                let pos = self.0.iter().position(|k| matches!(k, Kind::Obj(_)));
                let i = pos.unwrap_or_else(|| {
                    self.0.push(Kind::Obj(Vec::new()));
                    self.0.len() - 1
                });
                if let Kind::Obj(fields) = &mut self.0[i] {
                    for (name, value) in props {
                        match fields.iter_mut().find(|(n, _)| n == name) {
                            Some((_, s)) => s.add(value),
                            None => {
                                let mut s = Schema::default();
                                s.add(value);
                                fields.push((name.clone(), s));
                            }
                        }
                    }
                }
            }
        }
    }

    fn add_prim(&mut self, name: &'static str) {
        if !self.0.contains(&Kind::Prim(name)) {
            self.0.push(Kind::Prim(name));
        }
    }

    /// Widen the schema to admit everything `other` admits.
    fn merge(&mut self, other: &Schema) {
        for k in &other.0 {
            match k {
                Kind::Prim(p) => self.add_prim(p),
                Kind::Arr(items) => {
                    match self.0.iter_mut().find_map(|k| match k {
                        Kind::Arr(s) => Some(s),
                        _ => None,
                    }) {
                        Some(s) => s.merge(items),
                        None => self.0.push(Kind::Arr(items.clone())),
                    }
                }
                Kind::Obj(fields) => {
                    let pos = self.0.iter().position(|k| matches!(k, Kind::Obj(_)));
                    let i = pos.unwrap_or_else(|| {
                        self.0.push(Kind::Obj(Vec::new()));
                        self.0.len() - 1
                    });
                    if let Kind::Obj(mine) = &mut self.0[i] {
                        for (name, s) in fields {
                            match mine.iter_mut().find(|(n, _)| n == name) {
                                Some((_, m)) => m.merge(s),
                                None => mine.push((name.clone(), s.clone())),
                            }
                        }
                    }
                }
            }
        }
    }

    /// The schema as Kusto writes it.
    fn to_json(&self) -> Value {
        let one = |k: &Kind| match k {
            Kind::Prim(p) => Value::String((*p).to_string()),
            Kind::Arr(items) => {
                let mut m = Map::new();
                m.insert(INDEXER.into(), items.to_json());
                Value::Object(m)
            }
            Kind::Obj(fields) => Value::Object(fields.iter().map(|(n, s)| (n.clone(), s.to_json())).collect()),
        };
        match self.0.as_slice() {
            [k] => one(k),
            ks => Value::Array(ks.iter().map(one).collect()),
        }
    }

    /// Read a schema written by [`Schema::to_json`] (the state passed between partitions).
    fn from_json(v: &Value) -> Schema {
        let one = |v: &Value| -> Option<Kind> {
            match v {
                Value::String(s) => Some(Kind::Prim(match s.as_str() {
                    "long" => "long",
                    "double" => "double",
                    "bool" => "bool",
                    _ => "string",
                })),
                Value::Object(m) if m.len() == 1 && m.contains_key(INDEXER) => {
                    Some(Kind::Arr(Box::new(Schema::from_json(&m[INDEXER]))))
                }
                Value::Object(m) => Some(Kind::Obj(m.iter().map(|(n, s)| (n.clone(), Schema::from_json(s))).collect())),
                _ => None,
            }
        };
        match v {
            Value::Array(alts) => Schema(alts.iter().filter_map(one).collect()),
            other => Schema(one(other).into_iter().collect()),
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct BuildSchema {
    signature: Signature,
}

impl AggregateUDFImpl for BuildSchema {
    fn name(&self) -> &str {
        "kql_buildschema"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }
    fn accumulator(&self, _acc_args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(BuildSchemaAcc { schema: Schema::default() }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}_state", args.name), DataType::Utf8, true))])
    }
}

#[derive(Debug)]
struct BuildSchemaAcc {
    schema: Schema,
}

impl BuildSchemaAcc {
    fn add_texts(&mut self, a: &ArrayRef, merge: bool) {
        let Some(texts) = a.as_string_opt::<i32>() else { return };
        for i in 0..texts.len() {
            if texts.is_null(i) {
                continue;
            }
            let Ok(v) = serde_json::from_str::<Value>(texts.value(i)) else { continue };
            if merge {
                self.schema.merge(&Schema::from_json(&v));
            } else {
                self.schema.add(&v);
            }
        }
    }
}

impl Accumulator for BuildSchemaAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        self.add_texts(&values[0], false);
        Ok(())
    }
    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        if self.schema.0.is_empty() {
            return Ok(ScalarValue::Utf8(None));
        }
        Ok(ScalarValue::Utf8(Some(self.schema.to_json().to_string())))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + format!("{:?}", self.schema).len()
    }
    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        self.add_texts(&states[0], true);
        Ok(())
    }
}

/// The `buildschema` aggregate (its argument: dynamic values as JSON text).
pub fn buildschema_udaf() -> Arc<AggregateUDF> {
    static U: OnceLock<Arc<AggregateUDF>> = OnceLock::new();
    U.get_or_init(|| {
        Arc::new(AggregateUDF::new_from_impl(BuildSchema { signature: Signature::any(1, Volatility::Immutable) }))
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::Schema;
    use serde_json::json;

    #[test]
    fn the_documented_example() {
        let mut s = Schema::default();
        for v in [
            json!({"x":1, "y":3.5}),
            json!({"x":"somevalue", "z":[1, 2, 3]}),
            json!({"y":{"w":"zzz"}, "t":["aa", "bb"], "z":["foo"]}),
        ] {
            s.add(&v);
        }
        assert_eq!(
            s.to_json().to_string(),
            r#"{"x":["long","string"],"y":["double",{"w":"string"}],"z":{"`indexer`":["long","string"]},"t":{"`indexer`":"string"}}"#
        );
        // merging partial schemas gives the same
        let (mut a, mut b) = (Schema::default(), Schema::default());
        a.add(&json!({"x":1, "y":3.5}));
        b.add(&json!({"x":"somevalue", "z":[1, 2, 3]}));
        b.add(&json!({"y":{"w":"zzz"}, "t":["aa", "bb"], "z":["foo"]}));
        let (a, b) = (Schema::from_json(&a.to_json()), Schema::from_json(&b.to_json()));
        let mut m = Schema::default();
        m.merge(&a);
        m.merge(&b);
        assert_eq!(m, s);
    }
}
