//! The project file `kql.toml`: what every `kql` subcommand and the language server need to know
//! about a folder of rules (table schemas, stored functions, data, watchlists, `externaldata`
//! files, lint settings), found from the working directory (or the opened file) upward, as
//! `Cargo.toml` or `ruff.toml` are. Paths in it are relative to the file.
//!
//! ```toml
//! schemas = ["schemas"]            # extra table schemas (JSON files or folders)
//! functions = ["parsers"]          # stored functions (.kql of `let`s, parser YAML)
//! data = ["logs"]                  # data files or folders (query, run, replay, repl)
//! geoip = "GeoLite2-City.mmdb"     # for geo_info_from_ip_address
//!
//! [watchlists]                     # _GetWatchlist('ALIAS'); `ALIAS:Column` sets the key
//! HighValueAssets = "watchlists/hva.csv"
//!
//! [externaldata]                   # an externaldata URL served from a local file
//! "https://example.com/tor-exits.csv" = "data/tor-exits.csv"
//!
//! [lint]                           # kql check's lint settings (flags override them)
//! max-cost = 10                    # fail a query whose findings weigh more (--max-cost)
//! baseline = "kql-baseline.json"   # report only findings not recorded there (--baseline)
//! disable = ["KQLW008"]            # codes not reported (--disable)
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The project file's name.
pub const PROJECT_FILE: &str = "kql.toml";

/// A parsed `kql.toml`, its paths made absolute (joined to the file's folder).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Project {
    /// The file itself.
    pub file: PathBuf,
    /// Extra table schemas: JSON files or folders.
    pub schemas: Vec<PathBuf>,
    /// Stored functions: `.kql` files of `let` definitions, parser YAML, or folders of them.
    pub functions: Vec<PathBuf>,
    /// Data files or folders.
    pub data: Vec<PathBuf>,
    /// A MaxMind-format city database.
    pub geoip: Option<PathBuf>,
    /// Watchlists: `ALIAS` (or `ALIAS:KeyColumn`) to a CSV file.
    pub watchlists: BTreeMap<String, PathBuf>,
    /// `externaldata` URL to a local file.
    pub externaldata: BTreeMap<String, PathBuf>,
    /// The `[lint]` settings.
    pub lint: LintSettings,
}

/// The `[lint]` table of `kql.toml`: `kql check`'s lint settings (its flags override them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LintSettings {
    /// Fail a query whose findings weigh more than this (`--max-cost`).
    #[serde(default)]
    pub max_cost: Option<u32>,
    /// A baseline file (relative to kql.toml when read; made absolute by [`Project::parse`]).
    #[serde(default)]
    pub baseline: Option<PathBuf>,
    /// Codes not reported (`--disable`).
    #[serde(default)]
    pub disable: Vec<String>,
}

/// The file as written (relative paths).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    #[serde(default)]
    schemas: Vec<String>,
    #[serde(default)]
    functions: Vec<String>,
    #[serde(default)]
    data: Vec<String>,
    #[serde(default)]
    geoip: Option<String>,
    #[serde(default)]
    watchlists: BTreeMap<String, String>,
    #[serde(default)]
    externaldata: BTreeMap<String, String>,
    #[serde(default)]
    lint: LintSettings,
}

impl Project {
    /// The nearest `kql.toml` in `start` (a folder, or a file whose folder is used) or one of
    /// its ancestors, parsed; `Ok(None)` when there is none.
    pub fn find(start: &Path) -> Result<Option<Project>, String> {
        match find_file(start) {
            Some(f) => Project::load(&f).map(Some),
            None => Ok(None),
        }
    }

    /// Parse the project file `file`. Errors name the file, and the line and key at fault.
    pub fn load(file: &Path) -> Result<Project, String> {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
        Project::parse(file, &text)
    }

    /// Parse the text of the project file `file` (paths are joined to its folder).
    pub fn parse(file: &Path, text: &str) -> Result<Project, String> {
        let raw: RawProject = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
                    format!(":{line}:{col}")
                })
                .unwrap_or_default();
            let msg = e.message().trim().to_string();
            let hint = if msg.starts_with("unknown field") {
                " (kql.toml has `schemas`, `functions`, `data`, `geoip`, `watchlists`, `externaldata` and `[lint]`)"
            } else {
                ""
            };
            format!("{}{at}: invalid project file: {msg}{hint}", file.display())
        })?;
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let join = |p: &String| dir.join(p);
        Ok(Project {
            file: file.to_path_buf(),
            schemas: raw.schemas.iter().map(join).collect(),
            functions: raw.functions.iter().map(join).collect(),
            data: raw.data.iter().map(join).collect(),
            geoip: raw.geoip.as_ref().map(join),
            watchlists: raw.watchlists.iter().map(|(k, v)| (k.clone(), join(v))).collect(),
            externaldata: raw.externaldata.iter().map(|(k, v)| (k.clone(), join(v))).collect(),
            lint: LintSettings { baseline: raw.lint.baseline.as_ref().map(|b| dir.join(b)), ..raw.lint },
        })
    }

    /// The folder the project file is in.
    pub fn dir(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new("."))
    }
}

/// The nearest `kql.toml` at or above `start` (a folder, or a file whose folder is used).
pub fn find_file(start: &Path) -> Option<PathBuf> {
    let start = if start.is_file() { start.parent()? } else { start };
    let start = std::path::absolute(start).ok()?;
    start.ancestors().map(|d| d.join(PROJECT_FILE)).find(|f| f.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_file() {
        let text = "schemas = [\"s\"]\nfunctions = [\"f\", \"g.kql\"]\ndata = [\"d\"]\ngeoip = \"x.mmdb\"\n\
                    [watchlists]\nHVA = \"w.csv\"\n[externaldata]\n\"https://e/x.csv\" = \"x.csv\"\n[lint]\nmax-cost = 5\nbaseline = \"b.json\"\ndisable = [\"KQLW008\"]\n";
        let p = Project::parse(Path::new("/p/kql.toml"), text).unwrap();
        assert_eq!(p.schemas, [PathBuf::from("/p/s")]);
        assert_eq!(p.functions, [PathBuf::from("/p/f"), PathBuf::from("/p/g.kql")]);
        assert_eq!(p.data, [PathBuf::from("/p/d")]);
        assert_eq!(p.geoip, Some(PathBuf::from("/p/x.mmdb")));
        assert_eq!(p.watchlists["HVA"], PathBuf::from("/p/w.csv"));
        assert_eq!(p.externaldata["https://e/x.csv"], PathBuf::from("/p/x.csv"));
        assert_eq!(p.lint.max_cost, Some(5));
        assert_eq!(p.lint.baseline, Some(PathBuf::from("/p/b.json")));
        assert_eq!(p.lint.disable, ["KQLW008"]);
        let e = Project::parse(Path::new("/p/kql.toml"), "[lint]\nmax_cost = 5\n").unwrap_err();
        assert!(e.contains("unknown field `max_cost`"), "{e}");
    }

    #[test]
    fn unknown_keys_name_the_file_line_and_key() {
        let e = Project::parse(Path::new("/p/kql.toml"), "schemas = []\nschema = [\"x\"]\n").unwrap_err();
        assert!(e.starts_with("/p/kql.toml:2:1: invalid project file: unknown field `schema`"), "{e}");
        let e = Project::parse(Path::new("/p/kql.toml"), "schemas = \"x\"\n").unwrap_err();
        assert!(e.starts_with("/p/kql.toml:1:11: invalid project file:"), "{e}");
    }
}
