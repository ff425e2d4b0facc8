//! Lints (issue 25, item 4) through `kql check` as a user runs it: every lint fires on its
//! documented example and is quiet on the documented fix (syntax lints, the binder's lints and
//! the suppression lints alike), suppressions with reasons, `--max-cost`, baselines, the project
//! file's `[lint]` table, and `kql explain`.

use crate::common::{kql_run, temp_dir};
use std::path::Path;
use std::time::Duration;

fn kql(args: &[&str], dir: Option<&Path>) -> (i32, String, String) {
    let r = kql_run(args, dir, &[], Duration::from_secs(300));
    (r.code, r.out, r.err)
}

/// The codes `kql check --format json` reports for `query` (written to a `.kql` file in `dir`).
fn codes(dir: &Path, name: &str, query: &str, extra: &[&str]) -> Vec<String> {
    let file = dir.join(name);
    std::fs::write(&file, query).unwrap();
    let f = file.to_string_lossy().into_owned();
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&f);
    let (_, out, err) = kql(&args, Some(dir));
    let report: serde_json::Value = serde_json::from_str(out.lines().next().unwrap_or("")).unwrap_or_else(|e| {
        panic!("kql check --format json: {e}\n{out}\n{err}");
    });
    report["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn every_lint_fires_on_its_example_and_not_on_its_fix() {
    let dir = temp_dir("lint-examples");
    let mut checked = 0;
    for l in kql_lint::LINTS {
        // a watchlist read by a stored function: the snapshot test's case loads one
        if l.code == "KQLW005" {
            continue;
        }
        let found = codes(&dir, "example.kql", l.example, &[]);
        assert!(found.iter().any(|c| c == l.code), "{} does not fire on its example: {found:?}\n{}", l.code, l.example);
        let found = codes(&dir, "fixed.kql", l.fixed, &[]);
        assert!(!found.iter().any(|c| c == l.code), "{} fires on its fix: {found:?}\n{}", l.code, l.fixed);
        checked += 1;
    }
    crate::common::report(&format!("lints: {checked} fire on their example and not on their fix"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_suppression_with_a_reason_silences_its_line_only() {
    let dir = temp_dir("lint-suppress");
    let q =
        "SigninLogs\n| where TimeGenerated > ago(1d)\n// kql: allow(KQLW008) because AuditLogs has one row per id\n\
             | join (AuditLogs | where TimeGenerated > ago(1d)) on CorrelationId\n\
             | join (AuditLogs | where TimeGenerated > ago(1d)) on CorrelationId";
    assert_eq!(codes(&dir, "a.kql", q, &[]), ["KQLW008"], "the second join is still reported");
    let no_reason = q.replace(" because AuditLogs has one row per id", "");
    let found = codes(&dir, "b.kql", &no_reason, &[]);
    assert_eq!(found, ["KQLW013", "KQLW008", "KQLW008"], "without a reason nothing is silenced");
    // --disable drops a code everywhere
    assert!(codes(&dir, "c.kql", q, &["--disable", "kqlw008"]).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn max_cost_fails_a_costly_query_and_says_what_it_is_made_of() {
    let dir = temp_dir("lint-cost");
    let q = "SecurityEvent\n| where CommandLine contains \"mimikatz\" or CommandLine contains \"sekurlsa\"";
    std::fs::write(dir.join("q.kql"), q).unwrap();
    // KQLW004 (5) + 2 x KQLW007 (2) = 9
    let (code, out, _) = kql(&["check", "--max-cost", "8", "q.kql"], Some(&dir));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[KQL079]: the query's cost is 9, over --max-cost 8: KQLW004 (5) + 2 x KQLW007 (2)"),
        "{out}"
    );
    let (code, out, _) = kql(&["check", "--max-cost", "9", "q.kql"], Some(&dir));
    assert_eq!(code, 0, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_baseline_keeps_known_findings_out_and_new_ones_in() {
    let dir = temp_dir("lint-baseline");
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    let q = "SigninLogs\n| where TimeGenerated > ago(1d)\n| join (AuditLogs | where TimeGenerated > ago(1d)) on CorrelationId";
    std::fs::write(dir.join("rules/r.kql"), q).unwrap();
    let (code, _, err) = kql(&["check", "--write-baseline", "baseline.json", "rules"], Some(&dir));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 finding(s) recorded"), "{err}");
    let (code, out, _) = kql(&["check", "--deny-warnings", "--baseline", "baseline.json", "rules"], Some(&dir));
    assert_eq!(code, 0, "the recorded finding is not reported: {out}");
    assert!(!out.contains("KQLW008"), "{out}");
    // lines added above it do not make it new; a new finding is reported
    let q2 = format!("// the failed sign-ins\n{q}\n| where Resource contains \"graph\"");
    std::fs::write(dir.join("rules/r.kql"), q2).unwrap();
    let (code, out, _) = kql(&["check", "--deny-warnings", "--baseline", "baseline.json", "rules"], Some(&dir));
    assert_eq!(code, 1);
    assert!(out.contains("KQLW007") && !out.contains("KQLW008"), "{out}");
    // the project file names the baseline
    std::fs::write(dir.join("kql.toml"), "[lint]\nbaseline = \"baseline.json\"\ndisable = [\"KQLW007\"]\n").unwrap();
    let (code, out, _) = kql(&["check", "--deny-warnings", "rules"], Some(&dir));
    assert_eq!(code, 0, "{out}");
    // a bad baseline is a usage error, named
    std::fs::write(dir.join("bad.json"), "{}").unwrap();
    let (code, _, err) = kql(&["check", "--baseline", "bad.json", "rules"], Some(&dir));
    assert_eq!(code, 2);
    assert!(err.contains("baseline bad.json: not a baseline"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_prints_a_lints_page_and_lists_them() {
    let (code, out, _) = kql(&["explain", "KQLW007"], None);
    assert_eq!(code, 0);
    assert!(out.starts_with("## KQLW007 `contains-where-has-works`"), "{out}");
    assert!(out.contains("Example:") && out.contains("Fixed:") && out.contains("Cost weight: 2"), "{out}");
    let (code, by_name, _) = kql(&["explain", "contains-where-has-works"], None);
    assert_eq!((code, by_name), (0, out));
    let (code, out, _) = kql(&["explain", "--list"], None);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), kql_lint::LINTS.len() + 1, "{out}");
    let (code, _, err) = kql(&["explain", "KQL042"], None);
    assert_eq!(code, 2);
    assert!(err.contains("no lint `KQL042`: it is an error code"), "{err}");
}
