//! Shared helpers: locating test data and reading JSON lines.

use serde_json::Value;
use std::path::PathBuf;

/// The `tests/data` folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Read a JSON-lines file of `tests/data` into values.
pub fn read_jsonl(rel: &str) -> Vec<serde_json::Value> {
    let path = data_dir().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("valid JSON line")).collect()
}

/// Load the corpus's ASIM and solution parser functions (`corpus/parsers.jsonl`, each in the
/// shape of a solution function YAML: JSON is YAML) into a session; returns how many loaded.
pub fn add_corpus_parsers(session: &mut kql_exec::session::Session) -> usize {
    let mut loaded = 0;
    for p in read_jsonl("corpus/parsers.jsonl") {
        let yaml = serde_json::json!({
            "FunctionName": p["name"],
            "FunctionAlias": p["builtin_alias"],
            "FunctionParams": p["params"],
            "FunctionQuery": p["query"],
        });
        let path = p["path"].as_str().unwrap_or("parser.yaml");
        if let Ok(Some(kql)) = rule_pack::parsers::function_from_yaml(std::path::Path::new(path), &yaml.to_string()) {
            if session.add_functions_text(&kql).is_ok() {
                loaded += 1;
            }
        }
    }
    loaded
}

/// A corpus entry (`corpus/sentinel.jsonl`: the JSON carries every YAML field) as a rule, with
/// its path; `Err` says why it is not one (`path: reason`).
pub fn corpus_rule(v: serde_json::Value) -> Result<rule_pack::rule::Rule, String> {
    let path = v["path"].as_str().unwrap_or("?").to_string();
    let mut rule: rule_pack::rule::Rule = serde_json::from_value(v).map_err(|e| format!("{path}: {e}"))?;
    rule.path = path.into();
    Ok(rule)
}

/// Value comparison with the conformance rules: reals within 1e-9 relative, datetimes and
/// timespans as values, dynamic structurally; `ty` is the .NET type name of the column.
pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

pub fn real_eq(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let d = (a - b).abs();
    d <= 1e-9 * a.abs().max(b.abs()) || d < 1e-12
}

pub fn dyn_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => real_eq(num(a).unwrap_or(0.0), num(b).unwrap_or(0.0)),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| dyn_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| dyn_eq(v, w)))
        }
        _ => a == b,
    }
}

pub fn cell_eq(expected: &Value, actual: &Value, ty: &str) -> bool {
    if expected.is_null() || actual.is_null() {
        return expected.is_null() && actual.is_null();
    }
    match ty {
        // Kusto's JSON writes decimals as strings ("5"); this engine carries them as reals
        "SqlDecimal" => {
            let dec = |v: &Value| num(v).or_else(|| v.as_str().and_then(|s| s.parse::<f64>().ok()));
            matches!((dec(expected), dec(actual)), (Some(a), Some(b)) if real_eq(a, b))
        }
        "Double" => match (num(expected), num(actual)) {
            (Some(a), Some(b)) => real_eq(a, b),
            _ => false,
        },
        "DateTime" => {
            let p = |v: &Value| v.as_str().and_then(kql_exec::value::datetime::parse_datetime);
            p(expected).is_some() && p(expected) == p(actual)
        }
        "TimeSpan" => {
            let p = |v: &Value| v.as_str().and_then(kql_exec::value::datetime::parse_timespan);
            p(expected).is_some() && p(expected) == p(actual)
        }
        "Object" => dyn_eq(expected, actual),
        _ => expected == actual || num(expected).zip(num(actual)).is_some_and(|(a, b)| a == b),
    }
}

pub fn row_eq(e: &[Value], a: &[Value], types: &[String]) -> bool {
    e.len() == a.len() && e.iter().zip(a).zip(types).all(|((x, y), t)| cell_eq(x, y, t))
}

/// Print a figure of a suite where the CI log shows it: written to the process's stderr
/// directly, which the test harness does not capture (it captures `print!` and `eprint!`).
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
