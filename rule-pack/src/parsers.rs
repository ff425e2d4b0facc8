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

/// Load the stored functions of `path` (a `.kql`/`.csl` file of `let` definitions, a parser or
/// function YAML, or a folder of them, searched recursively, in name order) into `session`.
/// Returns the files read and the errors of files that could not be loaded (rendered, placed
/// in their file), which do not stop the others; `Err` when `path` cannot be read at all.
pub fn load_function_files(
    session: &mut kql_exec::Session,
    path: &Path,
) -> Result<(Vec<std::path::PathBuf>, Vec<String>), String> {
    let mut files = Vec::new();
    collect_function_files(path, &mut files).map_err(|e| format!("--functions {}: {e}", path.display()))?;
    files.sort();
    let mut errors = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("--functions {}: {e}", f.display()))?;
        let is_yaml = matches!(f.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
        let shown = f.display().to_string();
        let kql = if is_yaml {
            match function_from_yaml(f, &text) {
                Ok(Some(k)) => k,
                Ok(None) => continue,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            }
        } else {
            text.clone()
        };
        let source = if is_yaml {
            kql_exec::session::FunctionSource::embedded(shown.clone(), &kql, &text)
        } else {
            kql_exec::session::FunctionSource::plain(shown.clone(), &kql)
        };
        if let Err(e) = session.add_functions_from(&kql, Some(std::sync::Arc::new(source))) {
            // placed in the file when the error's line is one of the file's; else in the text
            // made from it (the `let` wrapper of a YAML query)
            errors.push(e.render(&shown, &kql));
        }
    }
    Ok((files, errors))
}

fn collect_function_files(p: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    if p.is_dir() {
        for e in std::fs::read_dir(p)? {
            collect_function_files(&e?.path(), out)?;
        }
    } else if p.extension().is_some_and(|e| e == "kql" || e == "csl" || e == "yaml" || e == "yml") {
        out.push(p.to_path_buf());
    }
    Ok(())
}
