//! One rule never stops the others (issue 22, item 4): in `kql run`, `kql replay` and
//! `kql test`, a rule that panics, runs past `--timeout`, exceeds `--memory-limit` or is
//! thousands of terms deep is reported as failed with its reason, and every other rule still
//! runs and reports.
//!
//! The panic is injected: debug builds of `kql` panic on a query whose text contains the value
//! of `KQL_DEBUG_PANIC_ON`, where a bug in the binder would (`kql-exec/src/session.rs`).

use crate::common::{kql_run, temp_dir};
use std::path::PathBuf;
use std::time::Duration;

/// `kql ARGS` (the binary of this build, see `common::kql_bin`; fault injection exists only in
/// debug builds, which the test profile is), with the injected panic's marker set.
fn kql(args: &[&str]) -> (i32, String, String) {
    let r = kql_run(args, None, &[("KQL_DEBUG_PANIC_ON", "INJECT_PANIC_HERE")], Duration::from_secs(600));
    (r.code, r.out, r.err)
}

/// A folder of rules, in run order: healthy ones around each kind of failure.
fn rules_folder(name: &str) -> PathBuf {
    let d = temp_dir(name);
    let deep_sum = format!("print x = {}", vec!["1"; 5000].join(" + "));
    let deep_or = format!(
        "range x from 1 to 100 step 1 | where {} | count",
        (0..2000).map(|i| format!("x == {i}")).collect::<Vec<_>>().join(" or ")
    );
    let files = [
        ("01_healthy.kql", "print first = 1".to_string()),
        ("02_panics.kql", "// INJECT_PANIC_HERE\nprint second = 2".to_string()),
        ("03_slow.kql", "range x from 1 to 100000000000 step 1 | summarize count(), sum(x)".to_string()),
        ("04_deep_sum.kql", deep_sum),
        ("05_deep_or.kql", deep_or),
        // one set of two million strings: an aggregation state that cannot spill
        ("06_memory.kql", "range x from 1 to 2000000 step 1 | summarize make_set(strcat('abcdefgh', x))".to_string()),
        ("07_healthy.kql", "print last = 7".to_string()),
    ];
    for (f, text) in files {
        std::fs::write(d.join(f), text).unwrap();
    }
    d
}

/// The rule names with an alert in `kql run --format jsonl` output.
fn alerted_rules(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["rule"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn run_reports_each_failing_rule_and_runs_the_rest() {
    let d = rules_folder("isolation-run");
    let dir = d.to_string_lossy().into_owned();
    let args =
        ["run", &dir, "--format", "jsonl", "--timeout", "10", "--memory-limit", "16M", "--now", "2025-10-21T15:00:00Z"];
    let (code, out, err) = kql(&args);
    assert_eq!(code, 1, "failed rules make the exit code 1\nstdout:\n{out}\nstderr:\n{err}");
    assert_eq!(
        alerted_rules(&out),
        ["01_healthy", "04_deep_sum", "05_deep_or", "07_healthy"],
        "every healthy rule runs, before and after the failures\nstderr:\n{err}"
    );
    assert!(out.contains(r#""events":[{"x":5000}]"#), "the 5,000-term sum is computed: {out}");
    // each failure is named with its rule file and its reason
    let failure = |file: &str, code: &str| {
        let at = err.find(&format!("{dir}/{file}")).unwrap_or_else(|| panic!("{file} is not reported:\n{err}"));
        let before = &err[..at];
        let start = before.rfind("error[").unwrap_or(0);
        assert!(err[start..at].contains(&format!("error[{code}]")), "{file} should fail with {code}:\n{err}");
    };
    failure("02_panics.kql", "KQL998");
    failure("03_slow.kql", "KQL901");
    failure("06_memory.kql", "KQL900");
    assert!(err.contains("fault injected by KQL_DEBUG_PANIC_ON"), "the panic's message is shown: {err}");
    assert!(!err.contains("stack backtrace") && !err.contains("panicked at"), "no backtrace on stderr: {err}");
    assert_eq!(err.matches("error[").count(), 3, "exactly the three failures:\n{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn replay_goes_on_past_a_rule_that_panics() {
    let d = temp_dir("isolation-replay");
    std::fs::write(d.join("a_panics.kql"), "// INJECT_PANIC_HERE\nprint a = 1").unwrap();
    std::fs::write(d.join("b_healthy.kql"), "print b = 1").unwrap();
    let dir = d.to_string_lossy().into_owned();
    let args = [
        "replay",
        &dir,
        "--from",
        "2025-10-21T00:00:00Z",
        "--to",
        "2025-10-21T03:00:00Z",
        "--format",
        "jsonl",
        "--no-chart",
    ];
    let (code, out, err) = kql(&args);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("error[KQL998]") && err.contains("a_panics.kql"), "{err}");
    // the healthy rule ran every hour of the window: three alerts
    assert_eq!(alerted_rules(&out), ["b_healthy"; 3], "stderr:\n{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn test_runner_fails_the_case_that_panics_or_times_out_and_runs_the_others() {
    let d = temp_dir("isolation-test");
    std::fs::write(d.join("panics.kql"), "// INJECT_PANIC_HERE\nprint a = 1").unwrap();
    std::fs::write(d.join("slow.kql"), "range x from 1 to 100000000000 step 1 | summarize dcount(x % 1000003)")
        .unwrap();
    std::fs::write(d.join("healthy.kql"), "print b = 1").unwrap();
    for rule in ["panics", "slow", "healthy"] {
        let test = format!("rule: {rule}.kql\nnow: 2025-10-21T15:00:00Z\nexpect:\n  alerts: 1\n");
        std::fs::write(d.join(format!("{rule}.test.yaml")), test).unwrap();
    }
    let dir = d.to_string_lossy().into_owned();
    let (code, out, err) = kql(&["test", &dir, "--timeout", "2"]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("ok      healthy"), "{out}");
    let after =
        |name: &str| out[out.find(&format!("FAILED  {name}")).unwrap_or_else(|| panic!("{name}: {out}"))..].to_string();
    assert!(after("panics").contains("KQL998"), "{out}");
    assert!(after("slow").contains("did not finish within 2s"), "{out}");
    assert!(out.contains("3 tests: 1 passed, 2 failed"), "{out}");
    assert!(!err.contains("panicked at"), "no backtrace: {err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_limits_are_refused_with_a_message() {
    for (flag, value) in [("--timeout", "-1"), ("--timeout", "inf"), ("--timeout", "0"), ("--memory-limit", "lots")] {
        let (code, out, err) = kql(&["query", &format!("{flag}={value}"), "print 1"]);
        assert_eq!(code, 2, "{flag} {value}: stdout {out} stderr {err}");
        assert!(err.contains(flag) || err.contains("invalid size"), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{flag} {value}: {err}");
    }
    let (code, out, err) = kql(&["query", "--memory-limit", "512MB", "print 1"]);
    assert_eq!((code, out.trim()), (0, "print_0\n1"), "512MB is a size: {err}");
}

/// A bug in a row function's body (made to panic in a debug build by
/// `KQL_DEBUG_PANIC_IN_UDF`) fails the query with KQL998 naming the function, the panic's
/// message and where it happened, without a backtrace, whether DataFusion folds the call while
/// planning or runs it over rows.
#[test]
fn a_panicking_row_function_fails_the_query_with_kql998() {
    if !cfg!(debug_assertions) {
        return; // the fault injection exists in debug builds only (what CI builds)
    }
    for q in [
        "print a = array_concat(dynamic([1]), dynamic([2]))",
        "range x from 1 to 3 step 1 | extend a = array_concat(pack_array(x), dynamic([2]))",
    ] {
        let r =
            kql_run(&["query", q], None, &[("KQL_DEBUG_PANIC_IN_UDF", "kql_array_concat")], Duration::from_secs(120));
        assert_eq!(r.code, 1, "{q}: {}{}", r.out, r.err);
        assert!(r.err.contains("error[KQL998]: internal error while evaluating kql_array_concat"), "{q}: {}", r.err);
        assert!(r.err.contains("fault injected by KQL_DEBUG_PANIC_IN_UDF") && r.err.contains("udf.rs:"), "{}", r.err);
        assert!(!r.err.contains("stack backtrace") && !r.err.contains("panicked at"), "{}", r.err);
    }
}
