//! The 26 published queries against what real Kusto says about each
//! (`tests/data/seed-queries/README.md`): rejected ones get Kusto's errors at the same
//! line:col; accepted ones have exactly the listed result columns (names, order, types).

use crate::common::data_dir;
use kql_exec::session::{Catalog, Session, SessionOptions};

struct Expectation {
    file: String,
    runs: bool,
    errors: Vec<(String, usize, usize)>,
    columns: Vec<(String, String)>,
}

fn expectations() -> Vec<Expectation> {
    let text = std::fs::read_to_string(data_dir().join("seed-queries/README.md")).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(|c| c.trim()).collect();
        if cells.len() < 5 || !cells[1].ends_with(".kql") {
            continue;
        }
        let errors = if cells[3] == "—" {
            vec![]
        } else {
            cells[3]
                .split("; KS")
                .map(|e| {
                    let e = e.trim_start_matches("KS");
                    let mut parts = e.splitn(3, ' ');
                    let code = format!("KS{}", parts.next().unwrap());
                    let pos = parts.next().unwrap();
                    let (l, c) = pos.split_once(':').unwrap();
                    (code, l.parse().unwrap(), c.parse().unwrap())
                })
                .collect()
        };
        let columns = cells[4]
            .split(", ")
            .map(|c| {
                let (n, t) = c.rsplit_once(':').unwrap();
                (n.to_string(), t.to_string())
            })
            .collect();
        out.push(Expectation { file: cells[1].to_string(), runs: cells[2] == "runs", errors, columns });
    }
    out
}

#[test]
fn seed_queries_check_like_kusto() {
    let exps = expectations();
    assert_eq!(exps.len(), 26, "README lists 26 queries");
    let session =
        Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() })
            .expect("session");
    let mut problems = Vec::new();
    for e in &exps {
        let text = std::fs::read_to_string(data_dir().join("seed-queries").join(&e.file)).unwrap();
        let (script, syntax) = kql_parser::parse_recovering(&text);
        let mut errors: Vec<(String, usize, usize)> =
            syntax.iter().map(|s| (s.code.to_string(), s.line, s.col)).collect();
        let mut cols = Vec::new();
        if let Some(script) = script {
            let outcome = session.check_script(&script);
            let idx = kql_parser::LineIndex::new(&text);
            for err in &outcome.errors {
                let (l, c) = err.span.map(|s| idx.line_col(&text, s.start)).unwrap_or((0, 0));
                errors.push((err.code.to_string(), l, c));
            }
            cols = outcome.cols.iter().map(|c| (c.name.clone(), c.ty.name().to_string())).collect();
        }
        errors.sort_by_key(|e| (e.1, e.2));
        let mut expected_errors = e.errors.clone();
        expected_errors.sort_by_key(|e| (e.1, e.2));
        if e.runs {
            if !errors.is_empty() {
                problems.push(format!("{}: Kusto accepts it, we report {errors:?}", e.file));
            } else if cols != e.columns {
                problems.push(format!("{}: columns {cols:?}, Kusto: {:?}", e.file, e.columns));
            }
        } else if errors != expected_errors {
            problems.push(format!("{}: errors {errors:?}, Kusto: {expected_errors:?}", e.file));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The four queries Kusto accepts but that are quietly wrong get their warnings.
#[test]
fn quietly_wrong_queries_get_warnings() {
    let session =
        Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() })
            .expect("session");
    let cases = [
        ("corr3_threat_intel_ip.kql", "KQLW001"),
        ("corr1_failed_genai_and_signin.kql", "KQLW001"),
        ("hunt_suspicious_prompts_externaldata.kql", "KQLW002"),
        ("wb_geo_threat_map.kql", "KQLW003"),
    ];
    for (file, code) in cases {
        let text = std::fs::read_to_string(data_dir().join("seed-queries").join(file)).unwrap();
        let (script, _) = kql_parser::parse_recovering(&text);
        let outcome = session.check_script(&script.expect("a script"));
        assert!(
            outcome.warnings.iter().any(|w| w.code == code),
            "{file}: expected {code}, got {:?}",
            outcome.warnings.iter().map(|w| w.code).collect::<Vec<_>>()
        );
    }
}
