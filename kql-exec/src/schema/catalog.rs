//! [`SchemaCatalog`]: tables and functions by name, the built-in catalog, merging, and name resolution
//! (including the names exports give tables: `am-containerlogv2`, `AdvancedHunting-DeviceProcessEvents`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use super::tsv;
use super::types::KqlType;

/// A table: its name and its columns, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<(String, KqlType)>,
}

impl TableSchema {
    pub fn new(name: impl Into<String>, columns: Vec<(String, KqlType)>) -> TableSchema {
        TableSchema { name: name.into(), columns }
    }

    /// The type of the column named exactly `name` (KQL column names are case-sensitive).
    pub fn column(&self, name: &str) -> Option<KqlType> {
        self.column_index(name).map(|i| self.columns[i].1)
    }

    /// The position of the column named exactly `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(c, _)| c == name)
    }

    /// The column whose name matches `name` ignoring ASCII case, an exact match first (for "did you
    /// mean" hints).
    pub fn column_ignore_case(&self, name: &str) -> Option<(&str, KqlType)> {
        let found =
            self.column_index(name).or_else(|| self.columns.iter().position(|(c, _)| c.eq_ignore_ascii_case(name)));
        found.map(|i| (self.columns[i].0.as_str(), self.columns[i].1))
    }

    /// Appends the standard Log Analytics columns the table lacks
    /// ([`super::standard::add_standard_columns`]).
    pub fn add_standard_columns(&mut self) {
        super::standard::add_standard_columns(&self.name, &mut self.columns);
    }

    /// Merges `columns` in, column by column: a column already present keeps its position and takes
    /// the new type; a new column is appended.
    pub fn merge_columns(&mut self, columns: impl IntoIterator<Item = (String, KqlType)>) {
        let mut index: HashMap<String, usize> =
            self.columns.iter().enumerate().map(|(i, (c, _))| (c.clone(), i)).collect();
        for (name, ty) in columns {
            match index.get(&name) {
                Some(&i) => self.columns[i].1 = ty,
                None => {
                    index.insert(name.clone(), self.columns.len());
                    self.columns.push((name, ty));
                }
            }
        }
    }
}

/// The type of a function parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamType {
    Scalar(KqlType),
    /// A tabular parameter with at least these columns; empty for any table (`(*)`).
    Tabular(Vec<(String, KqlType)>),
}

/// A function parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionParameter {
    pub name: String,
    pub ty: ParamType,
    /// True when the parameter can be left out (it has a default value, given or not).
    pub optional: bool,
    /// The default value's KQL text, when the schema gives one.
    pub default: Option<String>,
}

/// A stored function (a Sentinel parser such as `_Im_Dns`): its parameters and result columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSchema {
    pub name: String,
    pub parameters: Vec<FunctionParameter>,
    /// The result columns; empty when the schema does not give them.
    pub columns: Vec<(String, KqlType)>,
}

/// Tables and functions by name.
#[derive(Clone, Debug, Default)]
pub struct SchemaCatalog {
    tables: Vec<TableEntry>,
    functions: Vec<FunctionSchema>,
    table_index: NameIndex,
    function_index: NameIndex,
}

/// A table; the embedded catalog's tables keep their line's column list unparsed until first used.
#[derive(Clone, Debug)]
struct TableEntry {
    name: String,
    /// The column list in the compact TSV format, when not parsed yet.
    columns: &'static str,
    schema: OnceLock<TableSchema>,
}

impl TableEntry {
    fn parsed(table: TableSchema) -> TableEntry {
        TableEntry { name: table.name.clone(), columns: "", schema: OnceLock::from(table) }
    }

    fn get(&self) -> &TableSchema {
        self.schema.get_or_init(|| {
            let mut columns = tsv::parse_columns(self.columns)
                .unwrap_or_else(|e| panic!("the embedded schema catalog is malformed: table {}: {e}", self.name));
            // the embedded tables are Log Analytics tables: every one has the standard columns
            super::standard::add_standard_columns(&self.name, &mut columns);
            TableSchema { name: self.name.clone(), columns }
        })
    }

    fn get_mut(&mut self) -> &mut TableSchema {
        self.get();
        self.schema.get_mut().expect("parsed above")
    }
}

/// Positions by exact name, by lower-case name (first wins) and by a loose key (letters and digits
/// only, lower-case; `None` when two names share it).
#[derive(Clone, Debug, Default)]
struct NameIndex {
    exact: HashMap<String, usize>,
    lower: HashMap<String, usize>,
    loose: HashMap<String, Option<usize>>,
}

impl NameIndex {
    fn insert(&mut self, name: &str, i: usize) {
        self.exact.insert(name.to_string(), i);
        self.lower.entry(name.to_lowercase()).or_insert(i);
        self.loose.entry(loose_key(name)).and_modify(|e| *e = None).or_insert(Some(i));
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.exact.get(name).or_else(|| self.lower.get(&name.to_lowercase())).copied()
    }

    /// `find`, then with `-` read as `_` (storage container names cannot hold `_`), then by loose key.
    fn find_loose(&self, name: &str) -> Option<usize> {
        self.find(name)
            .or_else(|| self.lower.get(&name.to_lowercase().replace('-', "_")).copied())
            .or_else(|| self.loose.get(&loose_key(name)).copied().flatten())
    }
}

fn loose_key(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Prefixes that exports put before a table's name, longest first: Defender XDR's streaming API
/// (`insights-logs-advancedhunting-deviceprocessevents` containers and Event Hubs, category
/// `AdvancedHunting-DeviceProcessEvents`) and Log Analytics data export (`am-containerlogv2`).
const EXPORT_PREFIXES: [&str; 4] = ["insights-logs-advancedhunting-", "insights-logs-", "advancedhunting-", "am-"];

static BUILTIN: OnceLock<SchemaCatalog> = OnceLock::new();

impl SchemaCatalog {
    /// An empty catalog.
    pub fn new() -> SchemaCatalog {
        SchemaCatalog::default()
    }

    /// The built-in catalog: the Log Analytics tables, the Sentinel test schemas' custom tables and
    /// functions (see `scripts/gen-schema-catalog.py`). Parsed on first use, then shared; clone it
    /// to merge user schemas in.
    pub fn builtin() -> &'static SchemaCatalog {
        BUILTIN.get_or_init(|| {
            fn malformed<T>(e: super::SchemaError) -> T {
                panic!("the embedded schema catalog is malformed: {e}")
            }
            let path = Path::new("kql-exec/data/function-catalog.tsv");
            let mut catalog = tsv::parse_catalog(tsv::BUILTIN_FUNCTIONS, path).unwrap_or_else(malformed);
            let path = Path::new("kql-exec/data/schema-catalog.tsv");
            for line in tsv::table_lines(tsv::BUILTIN_TABLES, path) {
                let (name, columns) = line.unwrap_or_else(malformed);
                catalog.push_entry(TableEntry { name, columns, schema: OnceLock::new() });
            }
            catalog
        })
    }

    /// The table named `name`: the exact name first, then ignoring case.
    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        self.table_index.find(name).map(|i| self.tables[i].get())
    }

    /// True when [`SchemaCatalog::table`] finds `name`.
    pub fn has_table(&self, name: &str) -> bool {
        self.table_index.find(name).is_some()
    }

    /// The table names, in the order the tables were added.
    pub fn table_names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.tables.iter().map(|t| t.name.as_str())
    }

    /// The catalog's name for a table named `name` or for a name an export gives it:
    /// `am-containerlogv2` → `ContainerLogV2`, `AdvancedHunting-DeviceProcessEvents` and
    /// `insights-logs-advancedhunting-deviceprocessevents` → `DeviceProcessEvents`, a file stem such
    /// as `signinlogs` → `SigninLogs`, `am-mytable-cl` → `MyTable_CL`. Tries the exact name, then
    /// ignoring case; then, without each export prefix in turn, the same, with `-` read as `_`, or
    /// ignoring case and every character but letters and digits (when that is unambiguous); last,
    /// the whole name those loose ways.
    pub fn resolve_table_name(&self, name: &str) -> Option<&str> {
        let name = name.trim();
        let found = self.table_index.find(name).or_else(|| {
            let mut candidate = name;
            while let Some(prefix) = EXPORT_PREFIXES.iter().find(|p| {
                candidate.len() > p.len() && candidate.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
            }) {
                candidate = &candidate[prefix.len()..];
                if let Some(i) = self.table_index.find_loose(candidate) {
                    return Some(i);
                }
            }
            self.table_index.find_loose(name)
        });
        found.map(|i| self.tables[i].name.as_str())
    }

    /// The function named `name`: the exact name first, then ignoring case.
    pub fn function(&self, name: &str) -> Option<&FunctionSchema> {
        self.function_index.find(name).map(|i| &self.functions[i])
    }

    /// The tables, in the order they were added.
    pub fn tables(&self) -> impl ExactSizeIterator<Item = &TableSchema> + '_ {
        self.tables.iter().map(TableEntry::get)
    }

    /// The functions, in the order they were added.
    pub fn functions(&self) -> impl ExactSizeIterator<Item = &FunctionSchema> + '_ {
        self.functions.iter()
    }

    pub fn table_count(&self) -> usize {
        self.tables.len()
    }

    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.functions.is_empty()
    }

    /// Adds a table; if one of the same (exact) name exists, merges the columns in, column by column.
    pub fn add_table(&mut self, table: TableSchema) {
        self.push_entry(TableEntry::parsed(table));
    }

    fn push_entry(&mut self, mut entry: TableEntry) {
        match self.table_index.exact.get(&entry.name) {
            Some(&i) => {
                let columns = std::mem::take(&mut entry.get_mut().columns);
                self.tables[i].get_mut().merge_columns(columns);
            }
            None => {
                self.table_index.insert(&entry.name, self.tables.len());
                self.tables.push(entry);
            }
        }
    }

    /// Adds a function, replacing one of the same (exact) name.
    pub fn add_function(&mut self, function: FunctionSchema) {
        match self.function_index.exact.get(&function.name) {
            Some(&i) => self.functions[i] = function,
            None => {
                self.function_index.insert(&function.name, self.functions.len());
                self.functions.push(function);
            }
        }
    }

    /// Appends the standard Log Analytics columns to every table that lacks them (user schemas of
    /// workspace tables, which Log Analytics gives them whether or not the file lists them).
    pub fn add_standard_columns(&mut self) {
        for t in &mut self.tables {
            t.get_mut().add_standard_columns();
        }
    }

    /// Merges `other` in, as later definitions: tables column by column (see
    /// [`TableSchema::merge_columns`]), functions replaced whole.
    pub fn merge(&mut self, other: SchemaCatalog) {
        for entry in other.tables {
            self.push_entry(entry);
        }
        for function in other.functions {
            self.add_function(function);
        }
    }

    /// The tables in the compact TSV format of `kql-exec/data/schema-catalog.tsv`.
    pub fn tables_tsv(&self) -> String {
        tsv::write_tables(self.tables())
    }

    /// The functions in the compact TSV format of `kql-exec/data/function-catalog.tsv`.
    pub fn functions_tsv(&self) -> String {
        tsv::write_functions(&self.functions)
    }

    /// Reads a catalog in the compact TSV format (table lines, function lines or both); `origin`
    /// names it in errors.
    pub fn from_tsv(text: &str, origin: impl AsRef<Path>) -> Result<SchemaCatalog, super::SchemaError> {
        tsv::parse_catalog(text, origin.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use KqlType::{Bool, DateTime, Dynamic, Guid, Int, Long, Real};

    fn cols(spec: &[(&str, KqlType)]) -> Vec<(String, KqlType)> {
        spec.iter().map(|(c, t)| (c.to_string(), *t)).collect()
    }

    #[test]
    fn builtin_tables() {
        let cat = SchemaCatalog::builtin();
        assert!(cat.table_count() > 1400, "{} tables", cat.table_count());
        let t = cat.table("ContainerLogV2").unwrap();
        assert_eq!(t.column("LogMessage"), Some(Dynamic));
        assert_eq!(t.column("TimeGenerated"), Some(DateTime));
        assert_eq!(t.column("logmessage"), None);
        assert_eq!(t.column_ignore_case("logmessage"), Some(("LogMessage", Dynamic)));
        let signin = cat.table("SigninLogs").unwrap();
        assert_eq!(signin.column("UserPrincipalName"), Some(KqlType::String));
        assert_eq!(signin.column("TimeGenerated"), Some(DateTime));
        assert_eq!(cat.table("AzureDiagnostics").unwrap().column("httpstatuscode_s"), Some(KqlType::String));
        assert_eq!(cat.table("SecurityIncident").unwrap().column("IncidentNumber"), Some(Int));
        for t in ["DeviceProcessEvents", "DeviceNetworkEvents", "EmailEvents", "AlertInfo", "IdentityLogonEvents"] {
            let table = cat.table(t).unwrap();
            assert_eq!(table.column("Timestamp"), Some(DateTime), "{t}.Timestamp");
            assert_eq!(table.column("TimeGenerated"), Some(DateTime), "{t}.TimeGenerated");
        }
        assert_eq!(cat.table("resources").unwrap().column("properties"), Some(Dynamic));
        assert_eq!(cat.table("signinlogs").unwrap().name, "SigninLogs");
        assert!(cat.table("NoSuchTable").is_none());
        // a Sentinel custom table and a name that needs quoting in the TSV
        assert!(cat.table("Syslog (Digital Guardian)").is_some());
        assert!(cat.table("GitHubAuditData").is_some(), "a CustomTables file with trailing commas");
    }

    #[test]
    fn builtin_functions() {
        let cat = SchemaCatalog::builtin();
        let f = cat.function("_Im_Dns").unwrap();
        assert_eq!(f.parameters[0].name, "starttime");
        assert_eq!(f.parameters[0].ty, ParamType::Scalar(DateTime));
        assert!(f.parameters.iter().all(|p| p.optional));
        assert!(f.columns.contains(&("EventCount".to_string(), Int)));
        assert!(cat.function("_im_dns").is_some());
        assert!(cat.function_count() > 100);
    }

    #[test]
    fn resolves_export_names() {
        let cat = SchemaCatalog::builtin();
        let cases = [
            ("ContainerLogV2", "ContainerLogV2"),
            ("am-containerlogv2", "ContainerLogV2"),
            ("AM-ContainerLogV2", "ContainerLogV2"),
            ("AdvancedHunting-DeviceProcessEvents", "DeviceProcessEvents"),
            ("advancedhunting-deviceprocessevents", "DeviceProcessEvents"),
            ("insights-logs-advancedhunting-deviceprocessevents", "DeviceProcessEvents"),
            ("insights-logs-signinlogs", "SigninLogs"),
            ("signinlogs", "SigninLogs"),
            (" SigninLogs ", "SigninLogs"),
            ("am-securityincident", "SecurityIncident"),
            ("am-abnormal-cases-cl", "ABNORMAL_CASES_CL"),
            ("am-gcp-iam", "GCP_IAM"),
            ("am-gcpiam", "GCPIAM"),
            ("resources", "resources"),
        ];
        for (name, want) in cases {
            assert_eq!(cat.resolve_table_name(name), Some(want), "{name}");
        }
        for name in ["", "am-", "am-nosuchtable", "advancedhunting-", "DeviceProcess"] {
            assert_eq!(cat.resolve_table_name(name), None, "{name}");
        }
    }

    #[test]
    fn merge_column_by_column() {
        let mut a = SchemaCatalog::new();
        a.add_table(TableSchema::new("T", cols(&[("a", Long), ("b", KqlType::String)])));
        let mut b = SchemaCatalog::new();
        b.add_table(TableSchema::new("T", cols(&[("c", Bool), ("a", Real)])));
        b.add_table(TableSchema::new("U", cols(&[("x", Guid)])));
        b.add_function(FunctionSchema { name: "F".into(), parameters: vec![], columns: cols(&[("x", Int)]) });
        a.merge(b);
        assert_eq!(a.table("T").unwrap().columns, cols(&[("a", Real), ("b", KqlType::String), ("c", Bool)]));
        assert_eq!(a.tables().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["T", "U"]);
        assert_eq!(a.function("f").unwrap().columns, cols(&[("x", Int)]));
        let mut c = SchemaCatalog::new();
        c.add_function(FunctionSchema { name: "F".into(), parameters: vec![], columns: vec![] });
        a.merge(c);
        assert!(a.function("F").unwrap().columns.is_empty(), "functions are replaced whole");
    }

    #[test]
    fn exact_name_wins_over_case_insensitive() {
        let mut a = SchemaCatalog::new();
        a.add_table(TableSchema::new("Events", cols(&[("a", Long)])));
        a.add_table(TableSchema::new("events", cols(&[("b", Long)])));
        assert_eq!(a.table("events").unwrap().columns[0].0, "b");
        assert_eq!(a.table("EVENTS").unwrap().name, "Events");
        assert_eq!(a.resolve_table_name("am-events"), Some("events"));
        assert_eq!(a.resolve_table_name("AM-EVENTS"), Some("Events"));
    }
}
