//! `kql.toml` through the binary: found from the working directory upward, its schemas,
//! functions and data used by `check`, `query` and `test`, command-line flags added to it, and
//! a clear error naming the file, line and key for a key it does not have.

use crate::common;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(120);

/// A project: a custom table's schema, a stored function over it, data for it, a rule, and
/// `kql.toml` naming them; the rule sits in a subfolder.
fn project(name: &str) -> std::path::PathBuf {
    let dir = common::temp_dir(name);
    let w = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "schemas/Gadget_CL.json",
        r#"{"Name": "Gadget_CL", "Properties": [{"Name": "TimeGenerated", "Type": "DateTime"}, {"Name": "Owner_s", "Type": "String"}, {"Name": "Count_d", "Type": "Double"}]}"#,
    );
    w("functions/gadgets.kql", "let BigGadgets = (min:double) { Gadget_CL | where Count_d >= min };\n");
    w(
        "logs/Gadget_CL.jsonl",
        "{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"Owner_s\":\"a\",\"Count_d\":5}\n\
         {\"TimeGenerated\":\"2025-10-21T11:00:00Z\",\"Owner_s\":\"b\",\"Count_d\":50}\n",
    );
    w("rules/big.kql", "BigGadgets(10)\n| summarize sum(Count_d) by Owner_s\n");
    w("kql.toml", "schemas = [\"schemas\"]\nfunctions = [\"functions\"]\ndata = [\"logs\"]\n\n[lint]\n");
    dir
}

#[test]
fn project_file_is_found_upward_and_used_by_check_and_query() {
    let dir = project("toml-used");
    let rules = dir.join("rules");
    // from the rules folder: kql.toml of the folder above
    let r = common::kql_run(&["check", "big.kql"], Some(&rules), &[], WAIT);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let r = common::kql_run(&["query", "BigGadgets(10) | project Owner_s"], Some(&rules), &[], WAIT);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains('b') && !r.out.contains(" a "), "{}", r.out);
    // without it, the stored function is unknown
    std::fs::remove_file(dir.join("kql.toml")).unwrap();
    let r = common::kql_run(&["check", "big.kql"], Some(&rules), &[], WAIT);
    assert_eq!(r.code, 1, "{}", r.out);
    // flags add to the file: the function from --functions, the schema from the file
    std::fs::write(dir.join("kql.toml"), "schemas = [\"schemas\"]\n").unwrap();
    let r = common::kql_run(&["check", "big.kql", "--functions", "../functions"], Some(&rules), &[], WAIT);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn project_file_errors_name_the_file_and_key() {
    let dir = project("toml-bad");
    std::fs::write(dir.join("kql.toml"), "schemas = [\"schemas\"]\nschema = [\"x\"]\n").unwrap();
    let toml = dir.join("kql.toml");
    for args in [&["check", "rules"][..], &["query", "print 1"], &["test", "rules"]] {
        let r = common::kql_run(args, Some(&dir), &[], WAIT);
        assert_eq!(r.code, 2, "{args:?}: {}", r.err);
        let want = format!("error: {}:2:1: invalid project file: unknown field `schema`", toml.display());
        assert!(r.err.starts_with(&want), "{args:?}: {}", r.err);
    }
    std::fs::write(dir.join("kql.toml"), "data = \"logs\"\n").unwrap();
    let r = common::kql_run(&["check", "rules"], Some(&dir), &[], WAIT);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("kql.toml:1:8: invalid project file:"), "{}", r.err);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn project_file_reaches_kql_test() {
    let dir = project("toml-test");
    let test = "rule: big.kql\nnow: 2025-10-21T15:00:00Z\ntables:\n  Gadget_CL:\n    \
                - { TimeGenerated: 2025-10-21T14:00:00Z, Owner_s: z, Count_d: 12 }\n\
                cases:\n  - name: sums the big gadgets\n    expect: { rows: [ { Owner_s: z } ] }\n";
    std::fs::write(dir.join("rules/big.test.yaml"), test).unwrap();
    let r = common::kql_run(&["test", "rules"], Some(&dir), &[], WAIT);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("1 passed"), "{}", r.out);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The paths of `kql.toml` are relative to the file, not to where `kql` runs.
#[test]
fn project_paths_are_relative_to_the_file() {
    let dir = project("toml-relative");
    let elsewhere = dir.join("rules");
    let r = common::kql_run(&["check", &dir.join("rules/big.kql").display().to_string()], Some(&elsewhere), &[], WAIT);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(Path::new(&dir.join("kql.toml")).is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
