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
    /// Analytic-rule settings of the pack's `.kql` detections, by file stem (`NAME` for
    /// `NAME.kql` and `NAME.corrected.kql`): what a Sentinel rule file carries around its query,
    /// kept apart so the published query text stays as published.
    #[serde(default)]
    pub detections: BTreeMap<String, DetectionSettings>,
    /// The pack's folder.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The settings of a detection (the fields of a Sentinel analytic rule besides its query and
/// lookback, which stay with the query).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DetectionSettings {
    /// Display name.
    pub name: Option<String>,
    /// Rule id.
    pub id: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Severity.
    pub severity: Option<String>,
    /// How often it runs.
    pub query_frequency: Option<String>,
    /// MITRE tactics.
    pub tactics: Option<Vec<String>>,
    /// MITRE techniques.
    pub relevant_techniques: Option<Vec<String>>,
    /// Entity mappings.
    pub entity_mappings: Option<Vec<crate::rule::EntityMapping>>,
    /// Custom details.
    pub custom_details: Option<BTreeMap<String, String>>,
    /// Display overrides.
    pub alert_details_override: Option<crate::rule::AlertDetailsOverride>,
    /// Event grouping.
    pub event_grouping_settings: Option<crate::rule::EventGrouping>,
    /// Incident settings.
    pub incident_configuration: Option<crate::rule::IncidentConfiguration>,
    /// Suppression.
    pub suppression_enabled: Option<bool>,
    /// Suppression length.
    pub suppression_duration: Option<String>,
}

impl DetectionSettings {
    /// Apply to a rule read from its `.kql` file.
    pub fn apply(&self, r: &mut crate::rule::Rule) {
        fn set<T: Clone>(dst: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                *dst = v.clone();
            }
        }
        set(&mut r.name, &self.name);
        set(&mut r.id, &self.id);
        set(&mut r.description, &self.description);
        set(&mut r.severity, &self.severity);
        set(&mut r.tactics, &self.tactics);
        set(&mut r.relevant_techniques, &self.relevant_techniques);
        set(&mut r.entity_mappings, &self.entity_mappings);
        set(&mut r.custom_details, &self.custom_details);
        set(&mut r.suppression_enabled, &self.suppression_enabled);
        if self.query_frequency.is_some() {
            r.query_frequency = self.query_frequency.clone();
        }
        if self.alert_details_override.is_some() {
            r.alert_details_override = self.alert_details_override.clone();
        }
        if self.event_grouping_settings.is_some() {
            r.event_grouping_settings = self.event_grouping_settings.clone();
        }
        if self.incident_configuration.is_some() {
            r.incident_configuration = self.incident_configuration.clone();
        }
        if self.suppression_duration.is_some() {
            r.suppression_duration = self.suppression_duration.clone();
        }
    }
}

/// Read a rule; a `.kql` detection of a pack gets the pack's settings for it
/// (`detections:` in `pack.yaml`).
pub fn load_pack_rule(path: &Path) -> Result<crate::rule::Rule, String> {
    let mut rule = crate::rule::load_rule(path).map_err(|e| e.to_string())?;
    let is_kql = path.extension().and_then(|e| e.to_str()) == Some("kql");
    if !is_kql || path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()) != Some("detections") {
        return Ok(rule);
    }
    let Some(pack) = pack_of(path)? else { return Ok(rule) };
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let stem = stem.strip_suffix(".corrected").unwrap_or(stem);
    if let Some(settings) = pack.detections.get(stem) {
        let corrected = rule.name.ends_with(" (corrected)");
        settings.apply(&mut rule);
        if corrected && settings.name.is_some() {
            rule.name.push_str(" (corrected)");
        }
        if let Err((key, message)) = rule.check_scheduling() {
            return Err(format!("{}: detections.{stem}.{key}: {message}", pack.dir.join(PACK_FILE).display()));
        }
    }
    Ok(rule)
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

/// The pack a file or folder belongs to: the nearest folder at or above it with a `pack.yaml`.
pub fn pack_of(path: &Path) -> Result<Option<Pack>, String> {
    let start = if path.is_dir() { Some(path) } else { path.parent() };
    for dir in start.into_iter().flat_map(|d| d.ancestors()) {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if let Some(p) = load_pack(dir)? {
            return Ok(Some(p));
        }
    }
    Ok(None)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kql-pack-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("detections")).unwrap();
        d
    }

    #[test]
    fn corrected_versions_run_in_place_of_the_published_ones() {
        let files: Vec<PathBuf> =
            ["d/a.kql", "d/a.corrected.kql", "d/b.kql", "e/a.kql"].iter().map(PathBuf::from).collect();
        let kept = runnable(files);
        assert_eq!(kept, ["d/a.corrected.kql", "d/b.kql", "e/a.kql"].iter().map(PathBuf::from).collect::<Vec<_>>());
        assert!(is_corrected(Path::new("x/y.corrected.kql")));
        assert!(!is_corrected(Path::new("x/y.kql")));
    }

    #[test]
    fn a_pack_file_is_found_from_inside_the_pack_and_checked() {
        let d = temp("ok");
        std::fs::write(d.join("list.csv"), "a\n").unwrap();
        std::fs::write(d.join(PACK_FILE), "name: P\nexternaldata: { \"https://x/list.csv\": list.csv }\n").unwrap();
        std::fs::write(d.join("detections/r.kql"), "print 1").unwrap();
        let p = pack_of(&d.join("detections/r.kql")).unwrap().expect("found from a rule file");
        assert_eq!(p.name, "P");
        assert_eq!(p.externaldata_files(), vec![("https://x/list.csv".to_string(), d.join("list.csv"))]);
        assert!(pack_of(&std::env::temp_dir()).unwrap().is_none());
        // a missing file and an unknown key are errors naming the file
        std::fs::write(d.join(PACK_FILE), "geoip: nowhere.mmdb\n").unwrap();
        let e = load_pack(&d).unwrap_err();
        assert!(e.contains("pack.yaml: geoip: no file") && e.contains("nowhere.mmdb"), "{e}");
        std::fs::write(d.join(PACK_FILE), "name: P\ngeo_ip: x\n").unwrap();
        let e = load_pack(&d).unwrap_err();
        assert!(e.contains("pack.yaml:2:1: invalid pack file") && e.contains("unknown field `geo_ip`"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
