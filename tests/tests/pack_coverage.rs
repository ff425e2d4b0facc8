//! `kql coverage`: tactics and techniques of a pack's detections and hunting queries, the
//! tables each rule reads against its `requiredDataConnectors`, tests per rule, and the ATT&CK
//! Navigator layer.

use crate::common::{kql_run, temp_dir};
use std::time::Duration;

const RULE: &str = "id: 0b0b6c1d-7e6f-4c43-8f8e-5f3c5d3b8f1a
name: Sign-ins then audit changes
description: x
severity: Medium
requiredDataConnectors:
  - connectorId: AzureActiveDirectory
    dataTypes:
      - SigninLogs
queryFrequency: 1h
queryPeriod: 1d
triggerOperator: gt
triggerThreshold: 0
tactics:
  - InitialAccess
  - Persistence
relevantTechniques:
  - T1078.004
  - T1098
query: |
  SigninLogs
  | join kind=inner (AuditLogs | project CorrelationId) on CorrelationId
kind: Scheduled
";

const HUNT: &str = "id: 1b0b6c1d-7e6f-4c43-8f8e-5f3c5d3b8f1a
name: Rare processes
description: x
tactics:
  - Execution
relevantTechniques:
  - T1059
query: |
  SecurityEvent | where EventID == 4688 | summarize count() by Process
";

fn pack() -> std::path::PathBuf {
    let dir = temp_dir("coverage");
    for d in ["detections", "hunting", "tests", "workbooks"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("detections/signin_audit.yaml"), RULE).unwrap();
    std::fs::write(dir.join("hunting/rare_processes.yaml"), HUNT).unwrap();
    std::fs::write(dir.join("workbooks/tile.kql"), "SigninLogs | count").unwrap();
    std::fs::write(
        dir.join("detections/legacy.kql"),
        "// name: Legacy\n// tactics: CredentialAccess\n// techniques: T1110\nSigninLogs | where ResultType != '0'\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("tests/signin_audit.test.yaml"),
        "rule: ../detections/signin_audit.yaml\nnow: 2025-10-21T15:00:00Z\ncases:\n  - name: quiet\n    tables: { SigninLogs: [], AuditLogs: [] }\n    expect: { alerts: 0 }\n  - name: quiet again\n    tables: { SigninLogs: [], AuditLogs: [] }\n    expect: { alerts: 0 }\n",
    )
    .unwrap();
    dir
}

#[test]
fn coverage_of_a_pack() {
    let dir = pack();
    let r = kql_run(&["coverage", ".", "--layer", "layer.json"], Some(&dir), &[], Duration::from_secs(60));
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let out = &r.out;
    assert!(out.contains("2 detections, 1 hunting queries, 1 with tests"), "{out}");
    assert!(out.contains("Tactics: 3 of 14 ATT&CK Enterprise tactics have a detection"), "{out}");
    assert!(out.contains("no detection: Reconnaissance, ResourceDevelopment, Execution,"), "{out}");
    assert!(out.contains("Execution") && out.contains("1 hunting query"), "{out}");
    assert!(out.contains("T1078.004") && out.contains("T1110") && out.contains("T1059"), "{out}");
    assert!(out.contains("Sign-ins then audit changes [detection, 2 test cases]"), "{out}");
    assert!(out.contains("reads AuditLogs, SigninLogs"), "{out}");
    assert!(out.contains("not provided by its requiredDataConnectors (SigninLogs): AuditLogs"), "{out}");
    assert!(out.contains("Legacy [detection, no tests]"), "{out}");
    assert!(!out.contains("tile"), "workbook queries are not rules: {out}");

    let layer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("layer.json")).unwrap()).unwrap();
    assert_eq!(layer["domain"], "enterprise-attack");
    assert_eq!(layer["versions"]["layer"], "4.5");
    let techniques = layer["techniques"].as_array().unwrap();
    let ids: Vec<&str> = techniques.iter().map(|t| t["techniqueID"].as_str().unwrap()).collect();
    assert_eq!(ids, ["T1059", "T1078.004", "T1098", "T1110"]);
    // score: detections; a hunting query's technique scores 0 and is named in the comment
    assert_eq!(techniques[0]["score"], 0);
    assert_eq!(techniques[0]["comment"], "Rare processes (hunting)");
    assert_eq!(techniques[1]["score"], 1);

    let r = kql_run(&["coverage", "--format", "json", "."], Some(&dir), &[], Duration::from_secs(60));
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    let rule = v["rules"].as_array().unwrap().iter().find(|r| r["name"] == "Sign-ins then audit changes").unwrap();
    assert_eq!(rule["unlisted_tables"], serde_json::json!(["AuditLogs"]));
    assert_eq!(rule["tests"], 2);
    assert_eq!(v["techniques"]["T1110"], serde_json::json!(["Legacy"]));
}

#[test]
fn coverage_of_the_bundled_pack() {
    let r = kql_run(&["coverage", "rule-pack/packs/genai-security"], None, &[], Duration::from_secs(60));
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    // every bundled detection has a test
    assert!(r.out.contains("8 detections, 3 hunting queries, 11 with tests"), "{}", r.out);
    assert!(!r.out.contains("no tests"), "{}", r.out);
    assert!(!r.out.contains("tables unknown"), "{}", r.out);
}

#[test]
fn coverage_of_a_missing_path_is_a_usage_error() {
    let r = kql_run(&["coverage", "no-such-pack"], None, &[], Duration::from_secs(60));
    assert_eq!(r.code, 2);
    assert!(r.err.contains("no-such-pack: no such file or directory"), "{}", r.err);
}
