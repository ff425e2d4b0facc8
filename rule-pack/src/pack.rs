//! Rule packs laid out as Sentinel content: a folder with a `pack.yaml` (name, description and
//! the settings its queries need: `externaldata` URLs served from files in the pack, a geo-IP
//! database, watchlists) and the folders `detections/` (analytic rules, what `kql run` and
//! `kql replay` run), `hunting/` and `workbooks/`. A published query Kusto rejects stays as
//! `NAME.kql`, its corrected version `NAME.corrected.kql` beside it is what runs.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The pack file's name.
pub const PACK_FILE: &str = "pack.yaml";

/// A rule pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// What the pack is.
    #[serde(default)]
    pub description: String,
    /// `externaldata` URL to a file (relative to the pack).
    #[serde(default)]
    pub externaldata: BTreeMap<String, String>,
    /// A MaxMind-format geo-IP database (relative to the pack).
    #[serde(default)]
    pub geoip: Option<String>,
    /// Watchlists: alias (or `alias:SearchKeyColumn`) to CSV file (relative to the pack).
    #[serde(default)]
    pub watchlists: BTreeMap<String, String>,
    /// The pack's folder.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The pack whose folder is `dir` (`None` when `dir` has no `pack.yaml`); an unreadable or
/// malformed pack file is an error naming the file, line and field.
pub fn load_pack(dir: &Path) -> Result<Option<Pack>, String> {
    let file = dir.join(PACK_FILE);
    if !dir.is_dir() || !file.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let mut pack: Pack = serde_yaml::from_str(&text).map_err(|e| {
        let loc = e.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default();
        format!(
            "{}{loc}: invalid pack file: {e} (a pack file has `name`, `description`, `externaldata`, `geoip`, `watchlists`)",
            file.display()
        )
    })?;
    pack.dir = dir.to_path_buf();
    for (url, f) in &pack.externaldata {
        if !pack.dir.join(f).is_file() {
            return Err(format!("{}: externaldata `{url}`: no file {}", file.display(), pack.dir.join(f).display()));
        }
    }
    if let Some(g) = &pack.geoip {
        if !pack.dir.join(g).is_file() {
            return Err(format!("{}: geoip: no file {}", file.display(), pack.dir.join(g).display()));
        }
    }
    Ok(Some(pack))
}

impl Pack {
    /// The folder of detections.
    pub fn detections_dir(&self) -> PathBuf {
        self.dir.join("detections")
    }

    /// `externaldata` URLs with their files.
    pub fn externaldata_files(&self) -> Vec<(String, PathBuf)> {
        self.externaldata.iter().map(|(u, f)| (u.clone(), self.dir.join(f))).collect()
    }

    /// The geo-IP database, if the pack has one.
    pub fn geoip_file(&self) -> Option<PathBuf> {
        self.geoip.as_ref().map(|g| self.dir.join(g))
    }

    /// Watchlists: spec (`alias` or `alias:Column`) and file.
    pub fn watchlist_files(&self) -> Vec<(String, PathBuf)> {
        self.watchlists.iter().map(|(a, f)| (a.clone(), self.dir.join(f))).collect()
    }
}

/// The stem of a corrected query's original: `x.corrected.kql` is `x`.
fn corrected_of(p: &Path) -> Option<String> {
    let name = p.file_name()?.to_str()?;
    let (stem, ext) = name.rsplit_once('.')?;
    stem.strip_suffix(".corrected").map(|s| format!("{s}.{ext}"))
}

/// The files that run: `NAME.kql` is left out when `NAME.corrected.kql` sits beside it.
pub fn runnable(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let superseded: Vec<PathBuf> =
        files.iter().filter_map(|f| corrected_of(f).map(|orig| f.with_file_name(orig))).collect();
    files.into_iter().filter(|f| !superseded.contains(f)).collect()
}

/// Whether `p` is a corrected version of a published query.
pub fn is_corrected(p: &Path) -> bool {
    corrected_of(p).is_some()
}
