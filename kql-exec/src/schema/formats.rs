//! User schema files, read as kusto-oracle reads them (`--schema`):
//!
//! - `{"tables": {"T": {"Col": "type"}}, "functions": {"F": {"parameters": [{"name", "type",
//!   "optional"}], "columns": {"Col": "type"}}}}`; `tables` and `functions` may also be arrays of
//!   the objects below, and columns may be `[{"Name","Type"}]`, `[["Col","type"]]` or
//!   `"(Col:type, ...)"`;
//! - Azure-Sentinel's KQL validation test files: `CustomTables/*.json` (`{"Name": "T",
//!   "Properties": [{"Name": "Col", "Type": "String"}]}`) and `CustomFunctions/*.json`
//!   (`FunctionName`, `FunctionParameters` with `IsRequired`, `FunctionResultColumns`);
//! - a top-level array of any of these;
//! - `<Table>_Schema.csv`, the `getschema` output Azure-Sentinel ships beside a custom table's
//!   sample export (`ColumnName,ColumnOrdinal,DataType,ColumnType` or `ColumnName,ColumnType`):
//!   the table is named by the file, its columns come in `ColumnOrdinal` order (file order without
//!   one), typed by `ColumnType` (the KQL name; `DataType`, the .NET name, where it is absent).
//!
//! Keys are matched ignoring case. Type names may be KQL or .NET names
//! ([`KqlType::parse_schema_type`]); an unknown type name reads as `dynamic`, as in the oracle.
//! Trailing commas and a byte-order mark are accepted. A column named twice in one definition keeps
//! its first type; later definitions of a table (in a later file, or later in the same file) are
//! merged column by column.

use std::fs;
use std::path::{Path, PathBuf};

use super::catalog::{FunctionParameter, FunctionSchema, ParamType, SchemaCatalog, TableSchema};
use super::error::SchemaError;
use super::json::{self, Json};
use super::types::KqlType;

impl SchemaCatalog {
    /// Reads a schema file, or every `*.json` file under a folder (recursively, in name order,
    /// later files merged over earlier ones). Fails on the first file that cannot be read.
    pub fn load_path(path: impl AsRef<Path>) -> Result<SchemaCatalog, SchemaError> {
        let mut catalog = SchemaCatalog::new();
        for file in schema_files(path.as_ref())? {
            catalog.merge(load_file(&file)?);
        }
        Ok(catalog)
    }

    /// Like [`SchemaCatalog::load_path`], but skips the files of a folder that cannot be read and
    /// returns their errors with the catalog (kusto-oracle warns and skips them). A path that
    /// cannot be read at all, or a single file that is bad, is still an error.
    pub fn load_path_lenient(path: impl AsRef<Path>) -> Result<(SchemaCatalog, Vec<SchemaError>), SchemaError> {
        let path = path.as_ref();
        let files = schema_files(path)?;
        if !path.is_dir() {
            return Ok((SchemaCatalog::load_path(path)?, Vec::new()));
        }
        let mut catalog = SchemaCatalog::new();
        let mut skipped = Vec::new();
        for file in files {
            match load_file(&file) {
                Ok(c) => catalog.merge(c),
                Err(e) => skipped.push(e),
            }
        }
        Ok((catalog, skipped))
    }

    /// The `<Table>_Schema.csv` files that go with data at `path`: under a folder (recursively),
    /// or beside a file. Azure-Sentinel ships a custom table's schema this way next to its sample
    /// export.
    pub fn schema_csvs_near(path: &Path) -> Vec<PathBuf> {
        fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
            let Ok(rd) = fs::read_dir(dir) else { return };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() && depth > 0 {
                    walk(&p, depth - 1, out);
                } else if p.is_file() && schema_csv_table(&p).is_some() {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        match (path.is_dir(), path.parent()) {
            (true, _) => walk(path, 8, &mut out),
            (false, Some(parent)) => {
                walk(if parent.as_os_str().is_empty() { Path::new(".") } else { parent }, 0, &mut out)
            }
            _ => {}
        }
        out.sort();
        out
    }

    /// Reads the text of one schema file; `origin` names it in errors.
    pub fn from_json_str(text: &str, origin: impl AsRef<Path>) -> Result<SchemaCatalog, SchemaError> {
        let origin = origin.as_ref();
        let value = json::parse(text).map_err(|(line, column, message)| SchemaError::Json {
            path: origin.to_path_buf(),
            line,
            column,
            message,
        })?;
        let mut catalog = SchemaCatalog::new();
        add_object(&mut catalog, &value, "", origin)?;
        Ok(catalog)
    }
}

/// The file itself, or the `*.json` files under a folder: entries sorted by name ignoring case, and a
/// sub-folder's files where the sub-folder sorts.
fn schema_files(path: &Path) -> Result<Vec<PathBuf>, SchemaError> {
    let io = |source| SchemaError::Io { path: path.to_path_buf(), source };
    let meta = fs::metadata(path).map_err(io)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut entries: Vec<(String, PathBuf)> = fs::read_dir(path)
        .map_err(io)?
        .map(|e| e.map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by(|(a, _), (b, _)| a.to_lowercase().cmp(&b.to_lowercase()).then_with(|| a.cmp(b)));
    let mut files = Vec::new();
    for (name, entry) in entries {
        if entry.is_dir() {
            files.extend(schema_files(&entry)?);
        } else if (name.to_ascii_lowercase().ends_with(".json") || schema_csv_table(&entry).is_some())
            && entry.is_file()
        {
            files.push(entry);
        }
    }
    Ok(files)
}

fn load_file(path: &Path) -> Result<SchemaCatalog, SchemaError> {
    let text = fs::read_to_string(path).map_err(|source| SchemaError::Io { path: path.to_path_buf(), source })?;
    if let Some(table) = schema_csv_table(path) {
        let mut catalog = SchemaCatalog::new();
        catalog.add_table(schema_csv(&table, &text, path)?);
        return Ok(catalog);
    }
    SchemaCatalog::from_json_str(&text, path)
}

/// The table a `<Table>_Schema.csv` file describes (`None` for any other file name).
pub fn schema_csv_table(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name.len().checked_sub("_schema.csv".len()).filter(|&n| n > 0)?;
    name[stem..].eq_ignore_ascii_case("_schema.csv").then(|| name[..stem].to_string())
}

/// A `<Table>_Schema.csv` file (see the module docs); a repeated column keeps its first type.
fn schema_csv(table: &str, text: &str, path: &Path) -> Result<TableSchema, SchemaError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| SchemaError::format(path, format!("line 1: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let at = |h: &str| headers.iter().position(|x| x == h);
    let name_at = at("columnname").ok_or_else(|| {
        SchemaError::format(path, "line 1: no `ColumnName` column (expected the header of a `getschema` export)")
    })?;
    let (kql_at, net_at, ordinal_at) = (at("columntype"), at("datatype"), at("columnordinal"));
    if kql_at.is_none() && net_at.is_none() {
        return Err(SchemaError::format(path, "line 1: no `ColumnType` or `DataType` column"));
    }
    let mut rows: Vec<(i64, usize, String, KqlType)> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| SchemaError::format(path, format!("line {line}: {e}")))?;
        let field = |j: Option<usize>| j.and_then(|j| rec.get(j)).map(str::trim).filter(|s| !s.is_empty());
        let Some(name) = field(Some(name_at)) else {
            return Err(SchemaError::format(path, format!("line {line}: a column without a name")));
        };
        let ty_text = field(kql_at).or_else(|| field(net_at));
        let ty = ty_text.and_then(KqlType::parse_schema_type).ok_or_else(|| {
            SchemaError::format(path, format!("line {line}: column `{name}` has no known type ({ty_text:?})"))
        })?;
        let ordinal = match field(ordinal_at) {
            Some(o) => o
                .parse::<i64>()
                .map_err(|_| SchemaError::format(path, format!("line {line}: ColumnOrdinal `{o}` is not a number")))?,
            None => i as i64,
        };
        rows.push((ordinal, i, name.to_string(), ty));
    }
    rows.sort_by_key(|&(ordinal, i, _, _)| (ordinal, i));
    let mut seen = std::collections::HashSet::new();
    let columns = rows.into_iter().filter(|(_, _, n, _)| seen.insert(n.clone())).map(|(_, _, n, t)| (n, t)).collect();
    Ok(TableSchema::new(table, columns))
}

/// `at` locates `value` in the file, for error messages (`tables[2]`, `tables.T`).
fn add_object(catalog: &mut SchemaCatalog, value: &Json, at: &str, path: &Path) -> Result<(), SchemaError> {
    let here = |what: &str| if at.is_empty() { what.to_string() } else { format!("{at}.{what}") };
    match value {
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                add_object(catalog, item, &format!("{at}[{i}]"), path)?;
            }
            return Ok(());
        }
        Json::Object(_) => {}
        other => {
            return Err(SchemaError::format(path, format!("{}: expected an object, found {}", loc(at), other.kind())))
        }
    }
    let mut recognised = false;
    if let Some(tables) = value.get(&["tables"]).filter(|v| v.truthy()) {
        recognised = true;
        match tables {
            Json::Object(pairs) => {
                for (name, columns) in pairs {
                    let at = here(&format!("tables.{name}"));
                    catalog.add_table(TableSchema::new(name.clone(), typed_columns(columns, &at, path)?));
                }
            }
            other => add_list(catalog, other, &here("tables"), path)?,
        }
    }
    if let Some(functions) = value.get(&["functions"]).filter(|v| v.truthy()) {
        recognised = true;
        match functions {
            Json::Object(pairs) => {
                for (name, spec) in pairs {
                    catalog.add_function(function(name, spec, &here(&format!("functions.{name}")), path)?);
                }
            }
            other => add_list(catalog, other, &here("functions"), path)?,
        }
    }
    if !recognised {
        let name = value.get(&["Name", "TableName"]).filter(|v| v.truthy()).and_then(Json::as_text);
        let columns = value.get(&["Properties", "Columns"]).filter(|v| !matches!(v, Json::Null));
        if let (Some(name), Some(columns)) = (name, columns) {
            recognised = true;
            let columns = typed_columns(columns, &here(&name), path)?;
            catalog.add_table(TableSchema::new(name, columns));
        }
    }
    if !recognised {
        if let Some(name) = value.get(&["FunctionName"]).filter(|v| v.truthy()).and_then(Json::as_text) {
            recognised = true;
            catalog.add_function(function(&name, value, &here(&name), path)?);
        }
    }
    if recognised {
        Ok(())
    } else {
        Err(SchemaError::format(
            path,
            format!(
                r#"{}: unrecognised schema format (expected {{"tables": {{...}}}}, {{"Name", "Properties"}} or {{"FunctionName", ...}})"#,
                loc(at)
            ),
        ))
    }
}

fn add_list(catalog: &mut SchemaCatalog, value: &Json, at: &str, path: &Path) -> Result<(), SchemaError> {
    match value {
        Json::Array(_) => add_object(catalog, value, at, path),
        other => {
            Err(SchemaError::format(path, format!("{at}: expected an object or an array, found {}", other.kind())))
        }
    }
}

fn loc(at: &str) -> &str {
    if at.is_empty() {
        "top level"
    } else {
        at
    }
}

fn function(name: &str, spec: &Json, at: &str, path: &Path) -> Result<FunctionSchema, SchemaError> {
    let mut parameters = Vec::new();
    match spec.get(&["parameters", "FunctionParameters"]) {
        None | Some(Json::Null) => {}
        Some(Json::Array(items)) => {
            for (i, p) in items.iter().enumerate() {
                let p_at = format!("{at}.parameters[{i}]");
                let Some(p_name) = p.get(&["Name"]).and_then(Json::as_text) else {
                    return Err(SchemaError::format(path, format!("{p_at}: parameter without a name")));
                };
                let ty_text = p.get(&["Type"]).and_then(Json::as_text).filter(|t| !t.is_empty());
                let ty = param_type(ty_text.as_deref().unwrap_or("dynamic"), &p_at, path)?;
                let default = p.get(&["default"]);
                let optional = matches!(p.get(&["IsRequired", "required"]), Some(Json::Bool(false)))
                    || matches!(p.get(&["optional"]), Some(Json::Bool(true)))
                    || default.is_some();
                let default = default.and_then(Json::as_text);
                parameters.push(FunctionParameter { name: p_name, ty, optional, default });
            }
        }
        Some(other) => {
            return Err(SchemaError::format(
                path,
                format!("{at}.parameters: expected an array, found {}", other.kind()),
            ))
        }
    }
    let columns = match spec.get(&["columns", "FunctionResultColumns", "resultColumns"]).filter(|v| v.truthy()) {
        Some(columns) => typed_columns(columns, &format!("{at}.columns"), path)?,
        None => Vec::new(),
    };
    Ok(FunctionSchema { name: name.to_string(), parameters, columns })
}

/// A parameter type: a scalar type name, or a table: `(*)`, `*`, `table...` or `(Col:type, ...)`.
fn param_type(text: &str, at: &str, path: &Path) -> Result<ParamType, SchemaError> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if lower.starts_with('(') {
        let spaceless: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
        if spaceless == "(*)" {
            return Ok(ParamType::Tabular(Vec::new()));
        }
        return Ok(ParamType::Tabular(typed_columns(&Json::String(t.to_string()), at, path)?));
    }
    if lower.starts_with("table") || lower == "*" {
        return Ok(ParamType::Tabular(Vec::new()));
    }
    Ok(ParamType::Scalar(schema_type(Some(t))))
}

fn schema_type(text: Option<&str>) -> KqlType {
    text.and_then(KqlType::parse_schema_type).unwrap_or(KqlType::Dynamic)
}

/// Columns in any of the accepted forms, typed; a repeated column keeps its first type.
fn typed_columns(value: &Json, at: &str, path: &Path) -> Result<Vec<(String, KqlType)>, SchemaError> {
    let mut out: Vec<(String, KqlType)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |name: String, ty: Option<&str>| {
        if seen.insert(name.clone()) {
            out.push((name, schema_type(ty)));
        }
    };
    match value {
        Json::Object(pairs) => {
            for (name, ty) in pairs {
                push(name.clone(), ty.as_text().as_deref());
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Json::Object(_) => {
                        let Some(name) = item.get(&["Name", "ColumnName"]).and_then(Json::as_text) else {
                            return Err(SchemaError::format(path, format!("{at}[{i}]: column without a name")));
                        };
                        let ty = item.get(&["Type", "CslType", "ColumnType", "DataType"]).and_then(Json::as_text);
                        push(name, Some(ty.as_deref().filter(|t| !t.is_empty()).unwrap_or("dynamic")));
                    }
                    Json::Array(pair) if !pair.is_empty() => {
                        let name = pair[0].as_text().unwrap_or_default();
                        let ty = pair.get(1).map_or(Some("dynamic".to_string()), Json::as_text);
                        push(name, ty.as_deref());
                    }
                    _ => {}
                }
            }
        }
        Json::String(spec) => {
            let inner = spec.trim();
            let inner = inner.strip_prefix('(').unwrap_or(inner);
            let inner = inner.strip_suffix(')').unwrap_or(inner);
            for part in inner.split(',').filter(|p| !p.trim().is_empty()) {
                let Some((name, ty)) = part.rsplit_once(':') else {
                    return Err(SchemaError::format(
                        path,
                        format!("{at}: bad column spec {:?} (expected Col:type)", part.trim()),
                    ));
                };
                let name = name.trim().trim_matches(|c| matches!(c, '[' | ']' | '\'' | '"'));
                push(name.to_string(), Some(ty.trim()));
            }
        }
        other => {
            return Err(SchemaError::format(path, format!("{at}: cannot read columns from {}", other.kind())));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use KqlType::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("kql-schema-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn names(t: &TableSchema) -> Vec<&str> {
        t.columns.iter().map(|(c, _)| c.as_str()).collect()
    }

    #[test]
    fn folder_with_both_formats() {
        let dir = TempDir::new("both");
        dir.write(
            "a-tables.json",
            r#"{"tables": {"MyTable": {"TimeGenerated": "datetime", "Count": "long", "Props": "dynamic"}},
                "functions": {"MyFunc": {"parameters": [{"name": "t", "type": "(*)"}, {"name": "n", "type": "long", "optional": true}],
                                         "columns": {"x": "string"}}}}"#,
        );
        dir.write(
            "CustomTables/MyTable.json",
            r#"{"Name": "MyTable", "Properties": [{"Name": "Count", "Type": "Int32"}, {"Name": "Extra", "Type": "Boolean"}]}"#,
        );
        dir.write(
            "CustomTables/Other.json",
            r#"{"name": "Other_CL", "properties": [{"name": "Host_s", "type": "String"}, {"name": "Host_s", "type": "Int64"},
               {"name": "Ratio_d", "type": "Double"}, {"name": "Id_g", "type": "Guid"}, {"name": "Took", "type": "TimeSpan"}]}"#,
        );
        dir.write(
            "CustomFunctions/_Im_Test.json",
            r#"{"FunctionName": "_Im_Test", "FunctionParameters": [{"Name": "starttime", "Type": "datetime", "IsRequired": false},
                {"Name": "pack", "Type": "bool", "IsRequired": true}],
               "FunctionResultColumns": [{"Name": "EventCount", "Type": "int"}, {"Name": "SrcIpAddr", "Type": "String"}]}"#,
        );
        dir.write("notes.txt", "not a schema");
        let cat = SchemaCatalog::load_path(&dir.0).unwrap();
        let t = cat.table("MyTable").unwrap();
        assert_eq!(names(t), ["TimeGenerated", "Count", "Props", "Extra"]);
        assert_eq!(t.column("Count"), Some(Int), "later definitions win, column by column");
        assert_eq!(t.column("Extra"), Some(Bool));
        let o = cat.table("Other_CL").unwrap();
        assert_eq!(
            o.columns,
            [("Host_s".into(), String), ("Ratio_d".into(), Real), ("Id_g".into(), Guid), ("Took".into(), TimeSpan)]
        );
        let f = cat.function("MyFunc").unwrap();
        assert_eq!(f.parameters[0].ty, ParamType::Tabular(vec![]));
        assert!(!f.parameters[0].optional && f.parameters[1].optional);
        let f = cat.function("_Im_Test").unwrap();
        assert_eq!(f.parameters[0].ty, ParamType::Scalar(DateTime));
        assert!(f.parameters[0].optional && !f.parameters[1].optional);
        assert_eq!(f.columns, [("EventCount".into(), Int), ("SrcIpAddr".into(), String)]);
        assert_eq!(cat.table_count(), 2);
        assert_eq!(cat.function_count(), 2);

        // a single file, and merging a user catalog over the built-in one
        let one = SchemaCatalog::load_path(dir.0.join("CustomTables/Other.json")).unwrap();
        assert_eq!(one.tables().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["Other_CL"]);
        let mut merged = SchemaCatalog::builtin().clone();
        merged.merge(cat);
        assert_eq!(merged.table("MyTable").unwrap().column("Extra"), Some(Bool));
        assert_eq!(merged.resolve_table_name("am-other-cl"), Some("Other_CL"));
        assert!(merged.table("SigninLogs").is_some());
    }

    #[test]
    fn trailing_commas_and_odd_types() {
        let text = "\u{feff}{\n  \"Name\": \"GitLab\",\n  \"Properties\": [\n    {\"Name\": \"a\", \"Type\": \"string,\"},\n    {\"Name\": \"b\", \"Type\": \"DateTime\",},\n    {\"Name\": \"c\", \"Type\": \"timetamp\"},\n    {\"Name\": \"d\", \"Type\": \"\"},\n    {\"Name\": \"e\"},\n  ],\n}\n";
        let cat = SchemaCatalog::from_json_str(text, "GitLab.json").unwrap();
        let t = cat.table("GitLab").unwrap();
        assert_eq!(
            t.columns,
            [
                ("a".into(), String),
                ("b".into(), DateTime),
                ("c".into(), Dynamic),
                ("d".into(), Dynamic),
                ("e".into(), Dynamic)
            ]
        );
    }

    #[test]
    fn other_column_forms() {
        let text = r#"{"Tables": [{"TableName": "A", "Columns": [["x", "long"], ["y", "System.String"]]}],
                       "tables2": 1}"#;
        let cat = SchemaCatalog::from_json_str(text, "a.json").unwrap();
        assert_eq!(cat.table("A").unwrap().columns, [("x".into(), Long), ("y".into(), String)]);
        let text = r#"[{"tables": {"B": "(['my col']:string, n:int)"}},
                       {"functions": {"F": {"parameters": [{"name": "T", "type": "(a:string, b:long)"}, {"name": "k", "type": "string", "default": "x"}]}}}]"#;
        let cat = SchemaCatalog::from_json_str(text, "b.json").unwrap();
        assert_eq!(cat.table("B").unwrap().columns, [("my col".into(), String), ("n".into(), Int)]);
        let f = cat.function("F").unwrap();
        assert_eq!(f.parameters[0].ty, ParamType::Tabular(vec![("a".into(), String), ("b".into(), Long)]));
        assert_eq!(f.parameters[1].default.as_deref(), Some("x"));
        assert!(f.parameters[1].optional && f.columns.is_empty());
    }

    #[test]
    fn bad_files_are_named() {
        let dir = TempDir::new("bad");
        dir.write("good.json", r#"{"tables": {"T": {"a": "long"}}}"#);
        let broken = dir.write("broken.json", "{\"tables\": {\"T\": {\"a\": \"long\"}\n");
        let err = SchemaCatalog::load_path(&broken).unwrap_err();
        assert!(matches!(err, SchemaError::Json { line: 2, .. }), "{err:?}");
        assert_eq!(err.path(), broken);
        assert!(err.to_string().contains("broken.json:2:"), "{err}");

        let err = SchemaCatalog::load_path(&dir.0).unwrap_err();
        assert_eq!(err.path(), broken, "a folder load fails on the bad file");

        let (cat, skipped) = SchemaCatalog::load_path_lenient(&dir.0).unwrap();
        assert!(cat.table("T").is_some());
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].path(), broken);

        let odd = dir.write("odd.json", r#"{"hello": "world"}"#);
        let err = SchemaCatalog::load_path(&odd).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, SchemaError::Format { .. }) && msg.contains("odd.json") && msg.contains("unrecognised"),
            "{msg}"
        );

        let err =
            SchemaCatalog::from_json_str(r#"{"Name": "T", "Properties": [{"Type": "string"}]}"#, "t.json").unwrap_err();
        assert_eq!(err.to_string(), "t.json: not a schema file: T[0]: column without a name");
        let err = SchemaCatalog::from_json_str(r#"{"tables": {"T": 5}}"#, "n.json").unwrap_err();
        assert_eq!(err.to_string(), "n.json: not a schema file: tables.T: cannot read columns from a number");

        let missing = dir.0.join("missing.json");
        let err = SchemaCatalog::load_path(&missing).unwrap_err();
        assert!(matches!(err, SchemaError::Io { .. }) && err.to_string().contains("missing.json"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
