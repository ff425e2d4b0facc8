//! Kusto's own catalog of built-in functions (extracted from Kusto.Language into
//! `data/kusto-functions.json` by `scripts/dump-kusto-functions.js`): names, arity, return
//! types and the rule that names an unnamed call's result column.

use crate::binder::{Bound, NameHint};
use crate::schema::KqlType;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What the catalog knows of one function.
#[derive(Debug, Clone)]
pub struct FnInfo {
    /// `scalar`, `window`, `aggregate` or `plugin`.
    pub kind: String,
    /// Kusto's ResultNameKind.
    pub result_name_kind: String,
    /// The prefix for Prefix* naming kinds.
    pub prefix: Option<String>,
    /// Minimum argument count.
    pub min_args: usize,
    /// Maximum argument count (large = unbounded).
    pub max_args: usize,
    /// Declared return type of the first signature, or its kind (`Parameter0`...).
    pub return_type: String,
    /// For an obsolete name, the function that replaces it (`toobject` -> `todynamic`).
    pub alternative: Option<String>,
}

struct Catalog {
    scalar: HashMap<String, FnInfo>,
    aggregate: HashMap<String, FnInfo>,
    plugin: HashMap<String, FnInfo>,
}

/// The catalog file, parsed once for every reader (this module, `arg_types`).
pub fn raw() -> &'static serde_json::Value {
    static V: OnceLock<serde_json::Value> = OnceLock::new();
    V.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/kusto-functions.json")).unwrap_or(serde_json::Value::Null)
    })
}

fn load() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        let v = raw();
        let mut c = Catalog { scalar: HashMap::new(), aggregate: HashMap::new(), plugin: HashMap::new() };
        for f in v["functions"].as_array().into_iter().flatten() {
            let Some(name) = f["name"].as_str() else { continue };
            let kind = f["kind"].as_str().unwrap_or("scalar").to_string();
            let sig = &f["signatures"][0];
            let info = FnInfo {
                kind: kind.clone(),
                result_name_kind: f["result_name_kind"].as_str().unwrap_or("None").to_string(),
                prefix: f["result_name_prefix"].as_str().map(|s| s.to_string()),
                min_args: f["min_args"].as_u64().unwrap_or(0) as usize,
                max_args: f["max_args"].as_u64().unwrap_or(64) as usize,
                return_type: sig["return_type"].as_str().unwrap_or("").to_string(),
                alternative: f["alternative"].as_str().filter(|a| *a != name).map(str::to_string),
            };
            let map = match kind.as_str() {
                "aggregate" => &mut c.aggregate,
                "plugin" => &mut c.plugin,
                _ => &mut c.scalar,
            };
            map.insert(name.to_string(), info.clone());
            for alt in f["alt_names"].as_array().into_iter().flatten() {
                if let Some(a) = alt.as_str() {
                    map.entry(a.to_string()).or_insert_with(|| info.clone());
                }
            }
        }
        c
    })
}

/// A scalar (or window) function by name.
pub fn get(name: &str) -> Option<&'static FnInfo> {
    load().scalar.get(name)
}

/// An aggregate function by name.
pub fn aggregate(name: &str) -> Option<&'static FnInfo> {
    load().aggregate.get(name)
}

/// An `evaluate` plugin by name.
pub fn plugin(name: &str) -> Option<&'static FnInfo> {
    load().plugin.get(name)
}

/// The current name of an obsolete scalar function (`notnull` -> `isnotnull`), or `name`.
pub fn canonical(name: &str) -> &str {
    match get(name).and_then(|f| f.alternative.as_deref()) {
        Some(a) if get(a).is_some() => a,
        _ => name,
    }
}

/// True if `name` is a scalar function.
pub fn is_scalar(name: &str) -> bool {
    load().scalar.contains_key(name)
}

/// All scalar function names (for suggestions).
pub fn names() -> impl Iterator<Item = &'static str> {
    load().scalar.keys().map(|s| s.as_str())
}

/// The natural name of an argument: a column's name, a path's `a_b`, a nested call's result name.
pub fn arg_name(b: &Bound) -> Option<String> {
    match &b.hint {
        NameHint::Name(n) => Some(n.clone()),
        NameHint::None => None,
    }
}

/// The result name of an unnamed call of scalar or aggregate `name` with `args`.
pub fn result_name_with(info: Option<&FnInfo>, name: &str, args: &[Bound]) -> NameHint {
    let Some(info) = info else { return NameHint::None };
    let first = args.first().and_then(arg_name);
    let prefix = info.prefix.clone().unwrap_or_else(|| name.to_string());
    match info.result_name_kind.as_str() {
        "NameAndFirstArgument" => NameHint::Name(format!("{name}_{}", first.unwrap_or_default())),
        "PrefixAndFirstArgument" => NameHint::Name(format!("{prefix}_{}", first.unwrap_or_default())),
        "FirstArgument" => first.map(NameHint::Name).unwrap_or(NameHint::None),
        "OnlyArgument" if args.len() == 1 => first.map(NameHint::Name).unwrap_or(NameHint::None),
        "PrefixOnly" => NameHint::Name(prefix),
        "FirstArgumentValueIfColumn" => NameHint::None,
        _ => NameHint::None,
    }
}

/// The result name of an unnamed scalar call.
pub fn result_name(name: &str, args: &[Bound]) -> NameHint {
    // A conversion that does not change a column's type keeps its name.
    result_name_with(get(name), name, args)
}

/// The declared return type of a scalar function, when fixed or derived from the first argument.
pub fn return_type(name: &str, args: &[Bound]) -> Option<KqlType> {
    let info = get(name)?;
    match info.return_type.as_str() {
        "Parameter0" | "Common" | "Widest" => args.first().map(|a| a.ty),
        t => KqlType::parse(t),
    }
}
