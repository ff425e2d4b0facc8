//! Sentinel parser and function YAML (`ParserName`/`ParserParams`/`ParserQuery` for ASIM,
//! `FunctionName`/`FunctionParams`/`FunctionQuery` for solution parsers) as KQL `let`
//! definitions, callable by their name and by their built-in alias
//! (`EquivalentBuiltInParser`, `EquivalentBuiltInFunction`, `FunctionAlias`).

use std::path::Path;

fn param_type(t: &str) -> String {
    let t = t.trim();
    if t.starts_with("table") {
        // `table:(*)` and similar tabular parameters
        return t.trim_start_matches("table").trim_start_matches(':').to_string().replace(' ', "").to_string();
    }
    t.to_string()
}

fn default_text(v: &serde_yaml::Value, ty: &str) -> Option<String> {
    let lit = match v {
        serde_yaml::Value::Null => return None,
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::String(s) => {
            let t = s.trim();
            match ty {
                "string" => {
                    if (t.starts_with('\'') && t.ends_with('\'') && t.len() >= 2)
                        || (t.starts_with('"') && t.ends_with('"') && t.len() >= 2)
                    {
                        t.to_string()
                    } else {
                        format!("{:?}", s)
                    }
                }
                _ => t.to_string(),
            }
        }
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
    };
    Some(lit)
}

/// The KQL `let` definitions of a parser/function YAML file, or `None` when the file is not one.
pub fn function_from_yaml(path: &Path, text: &str) -> Result<Option<String>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let v: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| format!("{}: invalid YAML: {e}", path.display()))?;
    let get = |k: &str| v.get(k).and_then(|x| x.as_str()).map(|s| s.to_string());
    let (name, query, params, aliases) = if let Some(n) = get("ParserName") {
        (n, get("ParserQuery"), v.get("ParserParams"), vec![get("EquivalentBuiltInParser")])
    } else if let Some(n) = get("FunctionName") {
        (n, get("FunctionQuery"), v.get("FunctionParams"), vec![get("EquivalentBuiltInFunction"), get("FunctionAlias")])
    } else {
        return Ok(None);
    };
    let Some(query) = query else {
        return Err(format!("{}: `{name}` has no query", path.display()));
    };
    let mut ps = Vec::new();
    for p in params.and_then(|p| p.as_sequence()).into_iter().flatten() {
        let pname = p.get("Name").and_then(|x| x.as_str()).unwrap_or("");
        let ty = param_type(p.get("Type").and_then(|x| x.as_str()).unwrap_or("string"));
        let default = p.get("Default").or_else(|| p.get("DefaultValue")).and_then(|d| default_text(d, &ty));
        match default {
            Some(d) if !ty.starts_with('(') => ps.push(format!("{pname}:{ty} = {d}")),
            _ => ps.push(format!("{pname}:{ty}")),
        }
    }
    let params = ps.join(", ");
    let body = query.trim().trim_end_matches(';');
    let mut out = format!("let {name} = ({params}) {{\n{body}\n}};\n");
    for a in aliases.into_iter().flatten() {
        if !a.is_empty() && a != name {
            out.push_str(&format!("let {a} = ({params}) {{\n{body}\n}};\n"));
        }
    }
    Ok(Some(out))
}
