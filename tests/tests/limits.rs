//! Limits that hold (issue 22, item 5): under `--memory-limit`, joins, sorts and aggregations
//! over more data than the limit spill to disk and answer; what cannot spill fails with KQL900
//! naming the operator; a table too big to load into memory under the limit is refused with
//! its name; `--timeout` covers every plan a query runs, subqueries included.
//! Measurements at a larger scale are in `docs/limits.md`.

use crate::common::{kql_run, temp_dir};
use std::time::Duration;

/// `kql ARGS`, the binary of this build (`common::kql_bin`).
fn kql(args: &[&str]) -> (i32, String, String) {
    let r = kql_run(args, None, &[], Duration::from_secs(600));
    (r.code, r.out, r.err)
}

/// A million-row join on text keys needs far more than 24 MB held at once (its two sides are
/// some 60 MB): it sorts, spills and merges, and the answer is exact.
#[test]
fn a_join_bigger_than_the_limit_spills_and_answers() {
    let q = "range x from 1 to 1000000 step 1 | extend k = strcat('key-', (x * 7919) % 1000000)\n\
             | join kind=inner (range y from 1 to 1000000 step 1 | extend k = strcat('key-', y)) on k\n\
             | summarize count(), sum(x)";
    let (code, out, err) = kql(&["query", "--memory-limit", "24M", q]);
    assert_eq!(code, 0, "{err}");
    // x = 1000000 maps to key-0, which the right side lacks
    assert_eq!(out.trim(), "count_,sum_x\n999999,499999500000", "{err}");
}

#[test]
fn an_aggregation_bigger_than_the_limit_spills_and_answers() {
    let q = "range x from 1 to 1000000 step 1 | summarize c = count() by k = strcat('k', x % 400000)\n\
             | summarize count(), sum(c)";
    let (code, out, err) = kql(&["query", "--memory-limit", "24M", q]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "count_,sum_c\n400000,1000000", "{err}");
}

#[test]
fn what_cannot_fit_fails_with_kql900_naming_the_operator() {
    let q = "range x from 1 to 2000000 step 1 | summarize make_set(strcat('abcdefgh', x))";
    let (code, _, err) = kql(&["query", "--memory-limit", "16M", q]);
    assert_eq!(code, 1);
    assert!(err.contains("error[KQL900]") && err.contains("memory limit (16.0 MB)"), "{err}");
    assert!(err.contains("an aggregation"), "the operator is named in KQL's terms: {err}");
    assert!(!err.contains("datafusion."), "no DataFusion config keys: {err}");
}

#[test]
fn a_table_too_big_to_load_under_the_limit_is_refused_by_name() {
    let d = temp_dir("limits-load");
    let mut csv = String::from("TimeGenerated [UTC],Computer,SyslogMessage\n");
    for i in 0..40_000 {
        csv.push_str(&format!("2025-10-21T10:00:00Z,host{},message number {i} with padding\n", i % 50));
    }
    std::fs::write(d.join("Syslog.csv"), csv).unwrap();
    let dir = d.to_string_lossy().into_owned();
    // 2.3 MB on disk: refused before it is read
    let (code, _, err) = kql(&["query", "--data", &dir, "--memory-limit", "1M", "Syslog | count"]);
    assert_eq!(code, 1);
    assert!(err.contains("error[KQL900]") && err.contains("table Syslog does not fit --memory-limit"), "{err}");
    assert!(err.contains("its files are 2."), "{err}");
    // under a limit it fits, it loads
    let (code, out, err) = kql(&["query", "--data", &dir, "--memory-limit", "256M", "Syslog | count"]);
    assert_eq!((code, out.trim()), (0, "Count\n40000"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_timeout_covers_subqueries_too() {
    let q = "let n = toscalar(range x from 1 to 100000000000 step 1 | count); print n";
    let started = std::time::Instant::now();
    let (code, _, err) = kql(&["query", "--timeout", "2", q]);
    assert_eq!(code, 1);
    assert!(err.contains("error[KQL901]") && err.contains("within 2s"), "{err}");
    // a hang would be minutes; this bound only catches a timeout that does not fire
    assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());
}

/// A huge value on every row of a batch (a constant `repeat` of a million elements over 5,000
/// rows is 40 GB of text) fails the query with KQL904 instead of a panic in Arrow ("offset
/// overflow") or the process growing without bound.
#[test]
fn a_batch_of_values_past_arrow_s_limits_fails_with_kql904() {
    let q = "range i from 1 to 5000 step 1 | extend r = repeat(123456789, 1048576) | summarize sum(array_length(r))";
    let (code, _, err) = kql(&["query", q]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("error[KQL904]"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Kusto's result truncation: at most 500,000 records (and 64 MB) unless the query lifts it
/// with `set notruncation;` or sets its own maximum; the limit stops the query while it runs.
#[test]
fn results_past_kusto_s_truncation_limits_fail_with_kql084_unless_lifted() {
    let (code, _, err) = kql(&["query", "range x from 1 to 500001 step 1"]);
    assert_ne!(code, 0);
    assert!(err.contains("KQL084") && err.contains("record count limit 500000"), "{err}");
    let (code, out, err) = kql(&["query", "range x from 1 to 500000 step 1 | where x > 499998"]);
    assert_eq!((code, out.trim()), (0, "x\n499999\n500000"), "{err}");
    let (code, out, err) = kql(&["query", "--format", "csv", "set notruncation;\nrange x from 1 to 600000 step 1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 600_001);
    // a maximum set wins over notruncation, and applies to data size too
    let (code, _, err) =
        kql(&["query", "set notruncation;\nset truncationmaxrecords = 10;\nrange x from 1 to 11 step 1"]);
    assert!(code != 0 && err.contains("record count limit 10"), "{err}");
    let (code, _, err) =
        kql(&["query", "set truncationmaxsize = 1000;\nrange x from 1 to 200 step 1 | extend s = strrep('a', 10)"]);
    assert!(code != 0 && err.contains("data size limit 1000"), "{err}");
}
