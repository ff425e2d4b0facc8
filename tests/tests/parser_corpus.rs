//! The parser against Microsoft's own: on the Sentinel corpus, the seed queries and the
//! documentation examples, every query the analyzer parses we parse, and every query it
//! rejects for syntax we reject at the same line:col. Also the printer round trip.

use crate::common::{data_dir, read_jsonl};
use std::collections::HashMap;

/// Kusto.Language codes that are syntax (not semantic) errors.
fn is_syntax_code(code: &str) -> bool {
    let n: u32 = code.trim_start_matches("KS").parse().unwrap_or(999);
    n < 100 || matches!(n, 176 | 198)
}

fn oracle_syntax(path: &str) -> HashMap<String, Option<(u64, u64)>> {
    read_jsonl(path)
        .into_iter()
        .map(|v| {
            let id = v["id"].as_str().unwrap().to_string();
            let first = v["errors"].as_array().unwrap().iter().find(|e| is_syntax_code(e[0].as_str().unwrap()));
            (id, first.map(|e| (e[1].as_u64().unwrap(), e[2].as_u64().unwrap())))
        })
        .collect()
}

fn roundtrip(q: &str) -> Result<(), String> {
    let a = kql_parser::parse(q).map_err(|e| e.to_string())?;
    let printed = kql_parser::printer::print_script(&a);
    let b = kql_parser::parse(&printed).map_err(|e| format!("printed text does not parse: {e}\n{printed}"))?;
    if a != b {
        return Err(format!("AST differs after printing:\n{printed}"));
    }
    Ok(())
}

fn agreement(corpus: &str, field: &str, oracle: &str) {
    let verdicts = oracle_syntax(oracle);
    let (mut agree, mut disagree) = (0, Vec::new());
    let mut rt_fail = Vec::new();
    for v in read_jsonl(corpus) {
        let id = v["id"].as_str().unwrap();
        let q = v[field].as_str().unwrap();
        let expected = verdicts.get(id).unwrap_or_else(|| panic!("no oracle verdict for {id}"));
        let ours = kql_parser::parse(q).err().map(|e| (e.line as u64, e.col as u64));
        if &ours == expected {
            agree += 1;
        } else {
            disagree.push(format!("{id}: oracle {expected:?}, ours {ours:?}"));
        }
        if ours.is_none() {
            if let Err(e) = roundtrip(q) {
                rt_fail.push(format!("{id}: {e}"));
            }
        }
    }
    crate::common::report(&format!(
        "{corpus}: parser agrees with Kusto.Language on {agree} of {} queries",
        agree + disagree.len()
    ));
    assert!(disagree.is_empty(), "disagreements:\n{}", disagree.join("\n"));
    assert!(rt_fail.is_empty(), "round-trip failures:\n{}", rt_fail.join("\n"));
}

#[test]
fn sentinel_corpus_parses_like_kusto() {
    agreement("corpus/sentinel.jsonl", "query", "corpus/oracle-sentinel.jsonl");
}

#[test]
fn conformance_examples_parse_like_kusto() {
    // `make-graph` / `graph-match` (graph semantics) are not supported yet.
    let verdicts = oracle_syntax("conformance/oracle-kusto-docs.jsonl");
    let mut bad = Vec::new();
    for v in read_jsonl("conformance/kusto-docs.jsonl") {
        let id = v["id"].as_str().unwrap();
        let q = v["kql"].as_str().unwrap();
        if q.contains("make-graph") || q.contains("graph-match") {
            continue;
        }
        let ours = kql_parser::parse(q).err().map(|e| (e.line as u64, e.col as u64));
        if &ours != verdicts.get(id).unwrap() {
            bad.push(format!("{id}: oracle {:?}, ours {ours:?}", verdicts[id]));
        }
        if ours.is_none() {
            if let Err(e) = roundtrip(q) {
                bad.push(format!("{id}: {e}"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn parser_functions_parse() {
    let mut bad = Vec::new();
    for v in read_jsonl("corpus/parsers.jsonl") {
        let path = v["path"].as_str().unwrap();
        let q = v["query"].as_str().unwrap();
        match kql_parser::parse(q) {
            Ok(_) => {
                if let Err(e) = roundtrip(q) {
                    bad.push(format!("{path}: {e}"));
                }
            }
            // This one has an unterminated string; Kusto reports it at 9:113 too.
            Err(e) if path.ends_with("ASimUserManagement/Parsers/ASimUserManagement.yaml") => {
                assert_eq!((e.line, e.col), (9, 113));
            }
            Err(e) => bad.push(format!("{path}: {e}")),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn seed_queries_parse_except_the_stray_l() {
    let dir = data_dir().join("seed-queries");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("kql") {
            continue;
        }
        n += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        match kql_parser::parse(&text) {
            Ok(_) => assert_ne!(name, "corr1_failed_genai_and_signin.kql", "the stray `l` must be rejected"),
            Err(e) => {
                assert_eq!(name, "corr1_failed_genai_and_signin.kql", "{name}: {e}");
                assert_eq!((e.line, e.col), (1, 3), "Kusto reports the stray `l` at 1:3");
                assert_eq!(e.code, "KS005");
                assert!(e.message.starts_with("Expected: ;"), "{}", e.message);
            }
        }
    }
    assert_eq!(n, 26);
}

#[test]
fn a_one_megabyte_query_parses() {
    // within the documented limits (`kql_parser::lex`): about 1,400 tabular operators with long
    // literals, rather than 12,000 short ones (past `MAX_PIPE_OPERATORS`)
    let mut q = String::from("let x = 1;\nT\n");
    let cond = "(a + b * (c - 1)) > 5 and Name has \"x\" or tostring(d.e[0]) in (\"a\", \"b\")";
    let assigns = "y = iff(isnotempty(f), strcat(g, \"-\", h), \"none\"), z = ((((1))))";
    while q.len() < 1_000_000 {
        q.push_str(&format!("| where {cond} or Message has \"{}\"\n", "long text ".repeat(60)));
        q.push_str(&format!("| extend {assigns}, w = \"{}\"\n", "more text ".repeat(50)));
    }
    let start = std::time::Instant::now();
    let script = kql_parser::parse(&q).expect("parses");
    crate::common::report(&format!("1 MB query parsed in {:?}", start.elapsed()));
    assert_eq!(script.statements.len(), 2);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let q = format!("print {}1{}", "(".repeat(5000), ")".repeat(5000));
    let err = kql_parser::parse(&q).unwrap_err();
    assert!(err.message.contains("nests"), "{}", err.message);
}
