//! `kql test rule-pack`: every golden test of the bundled packs passes, and a changed golden
//! value fails with a diff naming the rule, the row and the column.

use std::path::PathBuf;

fn pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rule-pack/packs")
}

#[test]
fn bundled_pack_tests_pass() {
    let tests = rule_pack::testing::find_tests(&[pack_dir()]);
    assert!(tests.len() >= 31, "found {} tests", tests.len());
    let failures: Vec<String> = tests
        .iter()
        .map(|t| rule_pack::testing::run_test(t, false))
        .filter_map(|o| o.failure.map(|f| format!("{}: {f}", o.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_changed_golden_value_fails_with_a_row_and_column_diff() {
    let names = vec!["user".to_string(), "count_".to_string()];
    let expected = vec![vec![serde_json::json!("u1"), serde_json::json!(3)]];
    let actual = vec![vec![serde_json::json!("u1"), serde_json::json!(4)]];
    let d = rule_pack::testing::diff_rows(&names, &expected, &actual).expect("differs");
    assert!(d.contains("row 1") && d.contains("column `count_`: expected 3, got 4"), "{d}");
    assert!(rule_pack::testing::diff_rows(&names, &expected, &expected).is_none());
}
