//! Kusto's function catalog (`kql-exec/data/kusto-functions.json`, from Kusto.Language) as the
//! editor shows it: signatures with parameter names and types, a one-line summary, the
//! documentation page, and a snippet that writes a call.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// One parameter of a signature.
#[derive(Debug, Clone)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its type(s) as shown (`string`, `datetime|timespan`, `scalar`...).
    pub ty: String,
    /// May be left out.
    pub optional: bool,
    /// May repeat (`strcat(arg, ...)`).
    pub repeatable: bool,
}

/// One signature of a function.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The parameters.
    pub params: Vec<Param>,
    /// The return type, as the catalog gives it.
    pub returns: String,
}

/// A function of the catalog.
#[derive(Debug, Clone)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// `scalar`, `window`, `aggregate` or `plugin`.
    pub kind: String,
    /// Its visible signatures (hidden and obsolete ones left out).
    pub signatures: Vec<Signature>,
    /// Hidden or obsolete: not offered in completion.
    pub hidden: bool,
}

impl Param {
    fn label(&self) -> String {
        let mut s = format!("{}: {}", self.name, self.ty);
        if self.optional {
            s = format!("[{s}]");
        }
        if self.repeatable {
            s.push_str(", ...");
        }
        s
    }
}

impl Signature {
    /// The parameter labels, in order.
    pub fn param_labels(&self) -> Vec<String> {
        self.params.iter().map(Param::label).collect()
    }
}

impl Function {
    /// `name(p: type, ...): returns` for signature `i`.
    pub fn label(&self, i: usize) -> String {
        match self.signatures.get(i) {
            Some(s) => format!("{}({}): {}", self.name, s.param_labels().join(", "), s.returns),
            None => format!("{}()", self.name),
        }
    }

    /// One line on what the function is.
    pub fn summary(&self) -> String {
        let kind = match self.kind.as_str() {
            "aggregate" => "aggregation function (summarize, make-series)",
            "plugin" => "plugin (evaluate)",
            "window" => "window function (needs serialized rows)",
            _ => "scalar function",
        };
        let returns = self.signatures.first().map(|s| s.returns.as_str()).unwrap_or("");
        if returns.is_empty() {
            format!("Kusto {kind}.")
        } else {
            format!("Kusto {kind}; returns {returns}.")
        }
    }

    /// Its page in Kusto's documentation.
    pub fn doc_url(&self) -> String {
        let page = match self.kind.as_str() {
            "aggregate" => format!("{}-aggregation-function", self.name),
            "plugin" => format!("{}-plugin", self.name.replace('_', "-")),
            _ => format!("{}-function", self.name),
        };
        format!("https://learn.microsoft.com/kusto/query/{page}")
    }

    /// A snippet writing a call with placeholders for the required parameters.
    pub fn snippet(&self) -> String {
        let Some(s) = self.signatures.first() else { return format!("{}($0)", self.name) };
        let required: Vec<String> = s
            .params
            .iter()
            .filter(|p| !p.optional)
            .enumerate()
            .map(|(i, p)| format!("${{{}:{}}}", i + 1, p.name.replace(['}', '$', '\\'], "")))
            .collect();
        if required.is_empty() {
            format!("{}($0)", self.name)
        } else {
            format!("{}({})$0", self.name, required.join(", "))
        }
    }
}

struct Catalog {
    all: Vec<Function>,
    by_name: HashMap<String, usize>,
}

fn param(p: &Value) -> Param {
    let ty = match p["types"].as_array() {
        Some(t) if !t.is_empty() => t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("|"),
        _ => p["type_kind"].as_str().unwrap_or("any").to_ascii_lowercase(),
    };
    Param {
        name: p["name"].as_str().unwrap_or("arg").to_string(),
        ty,
        optional: p["min"].as_u64() == Some(0),
        repeatable: p["repeatable"].as_bool().unwrap_or(false) || p["max"].as_u64().is_some_and(|m| m > 1),
    }
}

fn load() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        let mut c = Catalog { all: Vec::new(), by_name: HashMap::new() };
        for f in kql_exec::functions::catalog::raw()["functions"].as_array().into_iter().flatten() {
            let Some(name) = f["name"].as_str() else { continue };
            let signatures = f["signatures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| !s["hidden"].as_bool().unwrap_or(false) && !s["obsolete"].as_bool().unwrap_or(false))
                .map(|s| Signature {
                    params: s["params"].as_array().into_iter().flatten().map(param).collect(),
                    returns: s["return_type"].as_str().unwrap_or("").to_string(),
                })
                .collect();
            let func = Function {
                name: name.to_string(),
                kind: f["kind"].as_str().unwrap_or("scalar").to_string(),
                signatures,
                hidden: f["hidden"].as_bool().unwrap_or(false) || f["obsolete"].as_bool().unwrap_or(false),
            };
            c.by_name.entry(name.to_string()).or_insert(c.all.len());
            c.all.push(func);
        }
        // alternative names after every primary name (`count` is a name, and another's alternative)
        let raw = kql_exec::functions::catalog::raw()["functions"].as_array().cloned().unwrap_or_default();
        for f in &raw {
            let Some(&i) = f["name"].as_str().and_then(|n| c.by_name.get(n)) else { continue };
            for alt in f["alt_names"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                c.by_name.entry(alt.to_string()).or_insert(i);
            }
        }
        c
    })
}

/// A function by name (or alternative name).
pub fn function(name: &str) -> Option<&'static Function> {
    let c = load();
    c.by_name.get(name).map(|&i| &c.all[i])
}

/// Every function (scalar and window, aggregate, plugin).
pub fn functions() -> &'static [Function] {
    &load().all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_snippets() {
        let f = function("ago").unwrap();
        assert_eq!(f.label(0), "ago(timespan: timespan): datetime");
        assert_eq!(f.snippet(), "ago(${1:timespan})$0");
        assert!(f.summary().contains("returns datetime"));
        let c = function("count").unwrap();
        assert_eq!(c.kind, "aggregate");
        assert_eq!(c.snippet(), "count($0)");
        assert!(function("strcat").unwrap().label(0).contains("..."));
        assert!(function("cnt").is_some(), "alternative names");
    }
}
