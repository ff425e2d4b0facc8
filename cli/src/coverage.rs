//! `kql coverage`: the ATT&CK tactics and techniques a pack's detections and hunting queries
//! cover, the tables each rule reads against its `requiredDataConnectors`, and which rules
//! have tests; `--layer FILE` writes an ATT&CK Navigator layer.

use clap::{Args, ValueEnum};
use rule_pack::coverage::{coverage, Coverage, Role};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of `kql coverage`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CoverageFormat {
    /// Tables for people.
    Human,
    /// One JSON document: every rule with its tactics, techniques, tables and tests.
    Json,
}

/// Arguments of `kql coverage`.
#[derive(Args)]
pub struct CoverageArgs {
    /// Packs, rule folders or rule files (.kql, Sentinel .yaml).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Write an ATT&CK Navigator layer (JSON) of the techniques covered to FILE.
    #[arg(long, value_name = "FILE")]
    layer: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: CoverageFormat,
    /// Extra table schemas: a JSON file or folder (repeatable).
    #[arg(long = "schema", value_name = "PATH")]
    pub(crate) schemas: Vec<PathBuf>,
    /// Stored functions: .kql files of `let` definitions, or Sentinel parser YAML (repeatable).
    #[arg(long = "functions", value_name = "PATH")]
    pub(crate) functions: Vec<PathBuf>,
}

/// Run `kql coverage`: exit 0, 1 when a rule file could not be read, 2 on usage errors.
pub fn run(args: CoverageArgs) -> ExitCode {
    for p in &args.paths {
        if !p.exists() {
            eprintln!("error: {}: no such file or directory", p.display());
            return ExitCode::from(2);
        }
    }
    let data = crate::data::DataArgs {
        schemas: args.schemas.clone(),
        functions: args.functions.clone(),
        quiet: true,
        ..Default::default()
    };
    let session = match crate::data::build_session(&data) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let cov = coverage(&args.paths, &session);
    let name = args
        .paths
        .iter()
        .map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(file) = &args.layer {
        let layer = cov.layer(&format!("kql coverage: {name}"));
        let text = serde_json::to_string_pretty(&layer).unwrap_or_default();
        if let Err(e) = std::fs::write(file, text + "\n") {
            eprintln!("error: {}: cannot write the layer: {e}", file.display());
            return ExitCode::from(2);
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = match args.format {
        CoverageFormat::Json => writeln!(out, "{}", json(&cov)),
        CoverageFormat::Human => write!(out, "{}", human(&cov, &name, args.layer.as_ref())),
    };
    for (path, why) in &cov.unreadable {
        eprintln!("error: {}: {why}", path.display());
    }
    if cov.unreadable.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn json(cov: &Coverage) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = cov
        .rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "path": r.path.display().to_string(),
                "name": r.name,
                "role": r.role,
                "tactics": r.tactics,
                "techniques": r.techniques,
                "tables": r.tables.as_ref().ok(),
                "tables_error": r.tables.as_ref().err(),
                "connector_tables": r.connector_tables,
                "unlisted_tables": r.unlisted_tables(),
                "tests": r.tests,
            })
        })
        .collect();
    let names = |rs: &Vec<usize>| rs.iter().map(|&i| cov.rules[i].name.clone()).collect::<Vec<_>>();
    serde_json::json!({
        "rules": rules,
        "tactics": cov.tactics().iter().map(|(t, rs)| (t.clone(), serde_json::json!(names(rs)))).collect::<serde_json::Map<_, _>>(),
        "techniques": cov.techniques().iter().map(|(t, rs)| (t.clone(), serde_json::json!(names(rs)))).collect::<serde_json::Map<_, _>>(),
        "uncovered_tactics": cov.uncovered_tactics(),
        "unreadable": cov.unreadable.iter().map(|(p, e)| serde_json::json!({"path": p.display().to_string(), "error": e})).collect::<Vec<_>>(),
    })
}

/// "2 detections, 1 hunting query" for a list of rules.
fn counts(cov: &Coverage, rs: &[usize]) -> String {
    let d = rs.iter().filter(|&&i| cov.rules[i].role == Role::Detection).count();
    let h = rs.len() - d;
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} detection{}", if d == 1 { "" } else { "s" }));
    }
    if h > 0 {
        parts.push(format!("{h} hunting quer{}", if h == 1 { "y" } else { "ies" }));
    }
    parts.join(", ")
}

fn human(cov: &Coverage, name: &str, layer: Option<&PathBuf>) -> String {
    let mut s = String::new();
    let detections = cov.rules.iter().filter(|r| r.role == Role::Detection).count();
    let tested = cov.rules.iter().filter(|r| r.tests > 0).count();
    s += &format!(
        "Coverage of {name}: {detections} detections, {} hunting queries, {tested} with tests\n\n",
        cov.rules.len() - detections
    );
    let tactics = cov.tactics();
    let uncovered = cov.uncovered_tactics();
    s += &format!(
        "Tactics: {} of {} ATT&CK Enterprise tactics have a detection\n",
        rule_pack::coverage::ENTERPRISE_TACTICS.len() - uncovered.len(),
        rule_pack::coverage::ENTERPRISE_TACTICS.len()
    );
    let w = tactics.keys().map(|k| k.len()).max().unwrap_or(0);
    for (t, rs) in &tactics {
        let known =
            if rule_pack::validate::attack::tactic(t).is_some() { "" } else { "  (not a tactic Sentinel knows)" };
        s += &format!("  {t:w$}  {}{known}\n", counts(cov, rs));
    }
    if !uncovered.is_empty() {
        s += &format!("  no detection: {}\n", uncovered.join(", "));
    }
    let techniques = cov.techniques();
    s += &format!("\nTechniques: {}\n", techniques.len());
    for (t, rs) in &techniques {
        let names: Vec<&str> = rs.iter().map(|&i| cov.rules[i].name.as_str()).collect();
        s += &format!("  {t:10} {:24} {}\n", counts(cov, rs), names.join(", "));
    }
    s += "\nRules\n";
    for r in &cov.rules {
        let role = match r.role {
            Role::Detection => "detection",
            Role::Hunting => "hunting",
        };
        let tests = match r.tests {
            0 => "no tests".to_string(),
            1 => "1 test case".to_string(),
            n => format!("{n} test cases"),
        };
        s += &format!("  {} [{role}, {tests}]\n", r.name);
        match &r.tables {
            Ok(t) if t.is_empty() => s += "      reads no table\n",
            Ok(t) => s += &format!("      reads {}\n", t.join(", ")),
            Err(e) => s += &format!("      tables unknown: {e}\n"),
        }
        let unlisted = r.unlisted_tables();
        if !unlisted.is_empty() {
            s += &format!(
                "      not provided by its requiredDataConnectors ({}): {}\n",
                r.connector_tables.as_deref().unwrap_or_default().join(", "),
                unlisted.join(", ")
            );
        }
    }
    if let Some(f) = layer {
        s += &format!("\nATT&CK Navigator layer written to {}\n", f.display());
    }
    s
}
