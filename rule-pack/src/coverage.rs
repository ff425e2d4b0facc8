//! What a pack covers: the ATT&CK tactics and techniques its detections and hunting queries
//! name, the tables each rule reads against the tables its `requiredDataConnectors` provide,
//! and which rules have tests. `kql coverage` prints it; [`Coverage::layer`] writes it as an
//! ATT&CK Navigator layer.

use crate::rule::Rule;
use crate::validate::attack;
use kql_exec::session::Session;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The 14 tactics of ATT&CK Enterprise, in matrix order (Sentinel's names): the head of
/// [`attack::TACTICS`], which goes on with ICS's tactics and the retired `PreAttack`.
pub const ENTERPRISE_TACTICS: &[&str] = attack::TACTICS.split_at(14).0;

/// What a rule file is in a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An analytic rule (`detections/`, Sentinel's `Analytic Rules/`).
    Detection,
    /// A hunting query.
    Hunting,
}

/// One rule's coverage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleCoverage {
    /// The rule file.
    pub path: PathBuf,
    /// Its display name.
    pub name: String,
    /// Detection or hunting query.
    pub role: Role,
    /// Its tactics, as written.
    pub tactics: Vec<String>,
    /// Its techniques, as written.
    pub techniques: Vec<String>,
    /// The tables its query reads (through stored functions too), or why they are unknown.
    pub tables: Result<Vec<String>, String>,
    /// The tables its `requiredDataConnectors` provide (`None`: it lists no connectors).
    pub connector_tables: Option<Vec<String>>,
    /// Test cases that run it.
    pub tests: usize,
}

impl RuleCoverage {
    /// Tables the rule reads that none of its data connectors provides (empty when it lists no
    /// connectors: nothing to compare with).
    pub fn unlisted_tables(&self) -> Vec<String> {
        let (Ok(tables), Some(listed)) = (&self.tables, &self.connector_tables) else { return vec![] };
        tables.iter().filter(|t| !listed.iter().any(|l| l.eq_ignore_ascii_case(t))).cloned().collect()
    }
}

/// A pack's coverage.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Coverage {
    /// Every detection and hunting query found, in path order.
    pub rules: Vec<RuleCoverage>,
    /// Rule files that could not be read, with why.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Detection or hunting query by where the file sits and what it holds; `None` for workbook
/// queries (they detect nothing).
fn role_of(path: &Path, rule_yaml: Option<&serde_yaml::Value>) -> Option<Role> {
    let dirs: Vec<String> = path
        .parent()
        .into_iter()
        .flat_map(|p| p.components())
        .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
        .collect();
    if dirs.iter().any(|d| d.contains("workbook")) {
        return None;
    }
    if dirs.iter().any(|d| d.contains("hunting")) {
        return Some(Role::Hunting);
    }
    match rule_yaml {
        Some(doc) if !crate::validate::is_analytic_rule(path, doc) => Some(Role::Hunting),
        _ => Some(Role::Detection),
    }
}

/// Test cases per rule file: each `*.test.yaml` under `paths` names its rule (`rule:`,
/// relative to the test) and holds one case, or `cases:`.
pub fn tests_by_rule(paths: &[PathBuf]) -> BTreeMap<PathBuf, usize> {
    let mut out = BTreeMap::new();
    for t in crate::testing::find_tests(paths) {
        let Ok(text) = std::fs::read_to_string(&t) else { continue };
        let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else { continue };
        let Some(rule) = doc.get("rule").and_then(|r| r.as_str()) else { continue };
        let path = t.parent().unwrap_or(Path::new(".")).join(rule);
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let cases = doc.get("cases").and_then(|c| c.as_sequence()).map(|c| c.len()).unwrap_or(1);
        *out.entry(path).or_default() += cases;
    }
    out
}

/// The coverage of the rules under `paths` (files or folders); `session` knows the schemas and
/// stored functions the queries use.
pub fn coverage(paths: &[PathBuf], session: &Session) -> Coverage {
    let mut cov = Coverage::default();
    let files = match crate::source::collect_rule_files(paths) {
        Ok(f) => crate::pack::runnable(f),
        Err(e) => {
            cov.unreadable.push((PathBuf::new(), e.to_string()));
            return cov;
        }
    };
    let tests = tests_by_rule(paths);
    for path in files {
        let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
        let doc = if is_yaml {
            std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| crate::source::first_document_with(&path, &t, "query").ok())
        } else {
            None
        };
        if is_yaml && doc.as_ref().is_none_or(|d| d.get("query").is_none()) {
            continue; // not a rule (a parser, a watchlist...)
        }
        let Some(role) = role_of(&path, doc.as_ref()) else { continue };
        let rule: Rule = match crate::pack::load_pack_rule(&path) {
            Ok(r) => r,
            Err(e) => {
                cov.unreadable.push((path.clone(), e));
                continue;
            }
        };
        let tables = session
            .time_bounds(&rule.query)
            .map(|b| b.into_keys().filter(|t| t != "*").collect::<Vec<_>>())
            .map_err(|e| e.message);
        let connector_tables = (!rule.required_data_connectors.is_empty()).then(|| {
            let set: BTreeSet<String> =
                rule.required_data_connectors.iter().flat_map(|c| c.data_types.iter().cloned()).collect();
            set.into_iter().collect()
        });
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        cov.rules.push(RuleCoverage {
            name: rule.name.clone(),
            role,
            tactics: rule.tactics.clone(),
            techniques: rule.relevant_techniques.clone(),
            tables,
            connector_tables,
            tests: tests.get(&canonical).copied().unwrap_or(0),
            path,
        });
    }
    cov
}

impl Coverage {
    /// Rules (indexes into [`Coverage::rules`]) by tactic, under Sentinel's tactic names;
    /// names Sentinel does not know are kept as written.
    pub fn tactics(&self) -> BTreeMap<String, Vec<usize>> {
        let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in self.rules.iter().enumerate() {
            for t in &r.tactics {
                let name = attack::tactic(t).map(str::to_string).unwrap_or_else(|| t.clone());
                let list = out.entry(name).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        out
    }

    /// Rules by technique id (upper-cased; ids that are not technique ids are left out).
    pub fn techniques(&self) -> BTreeMap<String, Vec<usize>> {
        let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in self.rules.iter().enumerate() {
            for t in &r.techniques {
                let id = t.trim().to_ascii_uppercase();
                if !attack::is_technique_id(&id) {
                    continue;
                }
                let list = out.entry(id).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        out
    }

    /// The ATT&CK Enterprise tactics no detection covers.
    pub fn uncovered_tactics(&self) -> Vec<&'static str> {
        let t = self.tactics();
        ENTERPRISE_TACTICS
            .iter()
            .copied()
            .filter(|x| t.get(*x).is_none_or(|rs| rs.iter().all(|&i| self.rules[i].role != Role::Detection)))
            .collect()
    }

    /// An ATT&CK Navigator layer (format 4.5) of the techniques covered: each technique's
    /// score is its number of detections, its comment names the rules (hunting queries
    /// too).
    pub fn layer(&self, name: &str) -> Value {
        let techniques = self.techniques();
        let max = techniques
            .values()
            .map(|rs| rs.iter().filter(|&&i| self.rules[i].role == Role::Detection).count())
            .max()
            .unwrap_or(0)
            .max(1);
        let entries: Vec<Value> = techniques
            .iter()
            .map(|(id, rs)| {
                let detections = rs.iter().filter(|&&i| self.rules[i].role == Role::Detection).count();
                let names: Vec<String> = rs
                    .iter()
                    .map(|&i| match self.rules[i].role {
                        Role::Detection => self.rules[i].name.clone(),
                        Role::Hunting => format!("{} (hunting)", self.rules[i].name),
                    })
                    .collect();
                json!({
                    "techniqueID": id,
                    "score": detections,
                    "comment": names.join("; "),
                    "enabled": true,
                    "showSubtechniques": id.contains('.'),
                })
            })
            .collect();
        json!({
            "name": name,
            "versions": {"attack": "16", "navigator": "5.1.0", "layer": "4.5"},
            "domain": "enterprise-attack",
            "description": format!(
                "{} detections and {} hunting queries; score: number of detections",
                self.rules.iter().filter(|r| r.role == Role::Detection).count(),
                self.rules.iter().filter(|r| r.role == Role::Hunting).count()
            ),
            "techniques": entries,
            "gradient": {"colors": ["#ffe766ff", "#8ec843ff"], "minValue": 0, "maxValue": max},
            "legendItems": [],
            "metadata": [],
            "showTacticRowBackground": false,
            "selectTechniquesAcrossTactics": true,
            "selectSubtechniquesWithParent": false,
        })
    }
}
