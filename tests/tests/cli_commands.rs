//! The `kql` commands as a CI job uses them, through the binary of this build: `check`'s exit
//! codes and SARIF, `convert` to Parquet and back, `test` with `--bless` and `--junit`, and
//! `run`'s exit codes (0 clean, 1 a rule failed or could not be read, 2 a usage error, 3 a
//! rule fired with `--fail-on-alert`).

use crate::common::{kql_run, temp_dir, Run};
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(300);

fn kql(args: &[&str], dir: &Path) -> Run {
    kql_run(args, Some(dir), &[], T)
}

fn show(r: &Run) -> String {
    format!("exit {}\nstdout:\n{}\nstderr:\n{}", r.code, r.out, r.err)
}

#[test]
fn check_exit_codes_and_sarif() {
    let dir = temp_dir("cli-check");
    std::fs::write(dir.join("good.kql"), "print x = 1\n").unwrap();
    // the error is on line 2, column 16: `strlen(1,,)` has an empty argument
    std::fs::write(dir.join("bad.kql"), "// a rule\nprint x = strlen(1,,)\n").unwrap();
    let r = kql(&["check", "good.kql"], &dir);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.out.contains("1 file(s) checked: 1 ok, 0 with errors"), "{}", show(&r));
    let r = kql(&["check", "."], &dir);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.out.contains("2 file(s) checked: 1 ok, 1 with errors"), "{}", show(&r));
    let r = kql(&["check", "no-such-file.kql"], &dir);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.err.contains("no-such-file.kql"), "{}", show(&r));

    let r = kql(&["check", "--format", "sarif", "."], &dir);
    assert_eq!(r.code, 1, "{}", show(&r));
    let sarif: serde_json::Value = serde_json::from_str(r.out.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.out));
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "kql");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{sarif}");
    let res = &results[0];
    let rule_id = res["ruleId"].as_str().unwrap();
    assert!(rule_id.starts_with("KS") || rule_id.starts_with("KQL"), "{res}");
    assert_eq!(res["level"], "error");
    let loc = &res["locations"][0]["physicalLocation"];
    assert!(loc["artifactLocation"]["uri"].as_str().unwrap().ends_with("bad.kql"), "{res}");
    assert_eq!(loc["region"]["startLine"], 2, "{res}");
    assert_eq!(loc["region"]["startColumn"], 20, "{res}");
    // every rule a result names is described
    let ids: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&rule_id), "{sarif}");

    // a clean folder is an empty SARIF run, exit 0
    let r = kql(&["check", "--format", "sarif", "good.kql"], &dir);
    assert_eq!(r.code, 0, "{}", show(&r));
    let sarif: serde_json::Value = serde_json::from_str(r.out.trim()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0);
}

/// `--schema-only` checks against exactly the schemas given (a built-in table is unknown, a
/// standard column is not added); `--runnable` also reports what Kusto accepts but this engine
/// cannot run yet.
#[test]
fn check_schema_only_and_runnable() {
    let dir = temp_dir("cli-check-modes");
    std::fs::write(
        dir.join("schema.json"),
        r#"{"tables": {"MyTable_CL": {"TimeGenerated": "datetime", "a": "long"}}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("mine.kql"), "MyTable_CL | where a > 1 | project TimeGenerated\n").unwrap();
    std::fs::write(dir.join("builtin.kql"), "SigninLogs | take 1\n").unwrap();
    std::fs::write(dir.join("standard.kql"), "MyTable_CL | project _ItemId\n").unwrap();
    let r = kql(&["check", "--schema", "schema.json", "."], &dir);
    assert!(r.out.contains("3 file(s) checked: 3 ok, 0 with errors"), "{}", show(&r));
    let r = kql(&["check", "--schema-only", "--schema", "schema.json", "."], &dir);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.out.contains("3 file(s) checked: 1 ok, 2 with errors"), "{}", show(&r));
    assert!(r.out.contains("KS204") && r.out.contains("'SigninLogs'") && r.out.contains("_ItemId"), "{}", show(&r));
    let r = kql(&["check", "--schema-only", "."], &dir);
    assert_eq!(r.code, 2, "--schema-only needs --schema: {}", show(&r));

    let rd = temp_dir("cli-check-runnable");
    std::fs::write(rd.join("plugin.kql"), "datatable(a: long) [1]\n| evaluate autocluster()\n").unwrap();
    let r = kql(&["check", "plugin.kql"], &rd);
    assert_eq!(r.code, 0, "Kusto accepts it: {}", show(&r));
    let r = kql(&["check", "--runnable", "plugin.kql"], &rd);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.out.contains("KQL055") && r.out.contains("plugin.kql:2:3"), "{}", show(&r));
}

#[test]
fn convert_writes_parquet_that_queries_back_the_same() {
    let dir = temp_dir("cli-convert");
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!(
            "{{\"TimeGenerated\":\"2025-10-21T10:{:02}:00Z\",\"Computer\":\"host{}\",\"CounterValue\":{i}.25,\"SampleCount\":{i}}}\n",
            i % 60,
            i % 7
        ));
    }
    std::fs::write(dir.join("Perf.jsonl"), &text).unwrap();
    let q = "Perf | summarize n = count(), v = sum(CounterValue), s = sum(SampleCount), h = dcount(Computer), t = max(TimeGenerated)";
    let before = kql(&["query", "--format", "csv", "--table", "Perf=Perf.jsonl", q], &dir);
    assert_eq!(before.code, 0, "{}", show(&before));
    let r = kql(&["convert", "Perf.jsonl", "-o", "out"], &dir);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.err.contains("Perf: 100 row(s)"), "{}", show(&r));
    assert!(dir.join("out/Perf.parquet").is_file());
    let after = kql(&["query", "--format", "csv", "--table", "Perf=out/Perf.parquet", q], &dir);
    assert_eq!(after.code, 0, "{}", show(&after));
    assert_eq!(after.out, before.out);
    assert_eq!(before.out.lines().nth(1).unwrap(), "100,4975,4950,7,2025-10-21T10:59:00.0000000Z", "{}", before.out);
    // the column types survive (a real stays real, an int stays int)
    let types = kql(
        &[
            "query",
            "--format",
            "csv",
            "--table",
            "Perf=out/Perf.parquet",
            "Perf | getschema | where ColumnName in ('CounterValue', 'SampleCount') | project ColumnName, ColumnType",
        ],
        &dir,
    );
    assert!(types.out.contains("CounterValue,real") && types.out.contains("SampleCount,int"), "{}", show(&types));
    // no input: a usage error
    let r = kql(&["convert", "-o", "out2"], &dir);
    assert_eq!(r.code, 2, "{}", show(&r));
    // one .parquet file for two tables: refused, saying why
    std::fs::write(dir.join("Other.jsonl"), "{\"a\":1}\n").unwrap();
    let r = kql(&["convert", "Perf.jsonl", "Other.jsonl", "-o", "both.parquet"], &dir);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.err.contains("2 tables"), "{}", show(&r));
}

#[test]
fn test_bless_golden_and_junit() {
    let dir = temp_dir("cli-test");
    std::fs::write(
        dir.join("many.kql"),
        "// name: many events\nContainerLogV2 | where LogLevel == 'ERROR' | summarize n = count() by Computer | order by Computer asc\n",
    )
    .unwrap();
    let row =
        |c: &str, l: &str| format!("    - {{ TimeGenerated: 2025-10-21T14:05:00Z, Computer: {c}, LogLevel: {l} }}\n");
    let spec = format!(
        "rule: many.kql\nnow: 2025-10-21T15:00:00Z\ntables:\n  ContainerLogV2:\n{}{}{}{}cases:\n  - name: counts by computer\n    expect: {{ golden: golden/many.json }}\n",
        row("a", "ERROR"),
        row("b", "ERROR"),
        row("b", "ERROR"),
        row("c", "INFO")
    );
    std::fs::write(dir.join("many.test.yaml"), spec).unwrap();
    // no golden file yet: the test fails and says how to make it
    let r = kql(&["test", "."], &dir);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.out.contains("golden file missing") && r.out.contains("--bless"), "{}", show(&r));
    // --bless writes it
    let r = kql(&["test", "--bless", "."], &dir);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.out.contains("blessed"), "{}", show(&r));
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("golden/many.json")).unwrap()).unwrap();
    assert_eq!(golden["rows"], serde_json::json!([["a", 1], ["b", 2]]), "{golden}");
    let r = kql(&["test", "."], &dir);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.out.contains("1 tests: 1 passed, 0 failed"), "{}", show(&r));
    // a changed value fails with a diff, and the JUnit report says so
    let changed = std::fs::read_to_string(dir.join("golden/many.json")).unwrap().replacen('2', "3", 1);
    std::fs::write(dir.join("golden/many.json"), changed).unwrap();
    let r = kql(&["test", "--junit", "junit.xml", "."], &dir);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.out.contains("FAILED") && r.out.contains("expected 3, got 2"), "{}", show(&r));
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(xml.starts_with("<?xml") && xml.contains("tests=\"1\" failures=\"1\""), "{xml}");
    assert!(xml.contains("<testcase name=") && xml.contains("<failure message="), "{xml}");
    // nothing to test: a usage error
    let empty = temp_dir("cli-test-empty");
    let r = kql(&["test", "."], &empty);
    assert_eq!(r.code, 2, "{}", show(&r));
}

#[test]
fn run_exit_codes() {
    let dir = temp_dir("cli-run");
    std::fs::write(dir.join("fires.kql"), "print x = 1\n").unwrap();
    std::fs::write(dir.join("quiet.kql"), "print x = 1 | where x > 1\n").unwrap();
    std::fs::write(dir.join("broken.kql"), "print x = strlen(1,,)\n").unwrap();
    let now = "--now=2025-10-21T15:00:00Z";
    let r = kql(&["run", "quiet.kql", now], &dir);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = kql(&["run", "fires.kql", now], &dir);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = kql(&["run", "fires.kql", "--fail-on-alert", now], &dir);
    assert_eq!(r.code, 3, "{}", show(&r));
    let r = kql(&["run", "quiet.kql", "--fail-on-alert", now], &dir);
    assert_eq!(r.code, 0, "{}", show(&r));
    // a rule that fails: 1, and the others still run
    let r = kql(&["run", "broken.kql", "fires.kql", now], &dir);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.err.contains("broken.kql"), "{}", show(&r));
    assert!(r.out.contains("fires"), "{}", show(&r));
    // a rule file that cannot be read is a failed rule (reported, the others run): 1
    let r = kql(&["run", "no-such-rule.kql", "fires.kql", now], &dir);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.err.contains("no-such-rule.kql") && r.out.contains("fires"), "{}", show(&r));
    // bad options: 2
    let r = kql(&["run", "fires.kql", "--now", "not a time"], &dir);
    assert_eq!(r.code, 2, "{}", show(&r));
    // ingestion delays: a default and per table
    let r = kql(&["run", "fires.kql", now, "--ingestion-delay", "2m", "--ingestion-delay", "SigninLogs=10m"], &dir);
    assert_eq!(r.code, 0, "{}", show(&r));
    for bad in ["=2m", "SigninLogs=soon", "-5m"] {
        let r = kql(&["run", "fires.kql", now, &format!("--ingestion-delay={bad}")], &dir);
        assert_eq!(r.code, 2, "{}", show(&r));
        assert!(r.err.contains(&format!("--ingestion-delay {bad}")), "{}", show(&r));
    }
}
