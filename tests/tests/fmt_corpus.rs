//! `kql fmt` over the whole corpus: every Sentinel rule, hunting query and ASIM/solution
//! parser query that parses formats, formats again to the same text, parses to the same
//! syntax tree (compared without positions) and keeps all its comments. Queries that do not
//! parse to begin with are skipped and counted. Also: formatting random slices of corpus
//! queries never panics.

use crate::common::{read_jsonl, report};

/// Format `q` and check the formatter's promises; `Ok(None)` when `q` does not parse.
fn check_one(q: &str) -> Result<Option<()>, String> {
    let out = match kql_parser::format_query(q) {
        Ok(out) => out,
        Err(kql_parser::FormatError::Syntax(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let again =
        kql_parser::format_query(&out).map_err(|e| format!("the formatted text does not format: {e}\n{out}"))?;
    if again != out {
        return Err(format!("not idempotent:\n--- once\n{out}\n--- twice\n{again}"));
    }
    let (a, b) =
        (kql_parser::parse(q).map_err(|e| e.to_string())?, kql_parser::parse(&out).map_err(|e| e.to_string())?);
    if a != b {
        return Err(format!("AST differs:\n{out}"));
    }
    if out.lines().any(|l| l.ends_with(' ') || l.ends_with('\t')) && !out.contains("```") {
        return Err(format!("trailing whitespace:\n{out}"));
    }
    Ok(Some(()))
}

#[test]
fn the_whole_corpus_formats_idempotently_and_keeps_its_meaning() {
    let mut queries: Vec<(String, String)> = Vec::new();
    for v in read_jsonl("corpus/sentinel.jsonl") {
        queries.push((v["path"].as_str().unwrap_or("?").to_string(), v["query"].as_str().unwrap_or("").to_string()));
    }
    for v in read_jsonl("corpus/parsers.jsonl") {
        queries.push((v["path"].as_str().unwrap_or("?").to_string(), v["query"].as_str().unwrap_or("").to_string()));
    }
    let (mut formatted, mut skipped, mut changed) = (0, 0, 0);
    let mut failures = Vec::new();
    for (path, q) in &queries {
        match check_one(q) {
            Ok(Some(())) => {
                formatted += 1;
                if kql_parser::format_query(q).map(|o| &o != q).unwrap_or(false) {
                    changed += 1;
                }
            }
            Ok(None) => skipped += 1,
            Err(e) => failures.push(format!("{path}: {e}")),
        }
    }
    report(&format!(
        "fmt corpus: {} queries, {formatted} formatted ({changed} changed by it), {skipped} skipped (do not parse), {} failures",
        queries.len(),
        failures.len()
    ));
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.iter().take(200).cloned().collect::<Vec<_>>().join("\n\n")
    );
}

#[test]
fn formatting_random_slices_of_corpus_queries_never_panics() {
    // A small deterministic generator (no dependency): slices at arbitrary byte offsets
    // (snapped to character boundaries) of every 7th corpus query, each formatted; any
    // result is fine but a panic, and a formatted result must format to itself.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut tried, mut formatted) = (0, 0);
    let mut bad = Vec::new();
    for v in read_jsonl("corpus/sentinel.jsonl").into_iter().step_by(7) {
        let q = v["query"].as_str().unwrap_or("");
        if q.is_empty() {
            continue;
        }
        for _ in 0..4 {
            let mut a = (next() as usize) % q.len();
            let mut b = a + (next() as usize) % (q.len() - a + 1);
            while !q.is_char_boundary(a) {
                a -= 1;
            }
            while !q.is_char_boundary(b) {
                b -= 1;
            }
            let slice = &q[a..b.max(a)];
            tried += 1;
            let r = std::panic::catch_unwind(|| kql_parser::format_query(slice));
            match r {
                Err(_) => bad.push(format!("panic on {slice:?}")),
                Ok(Ok(out)) => {
                    formatted += 1;
                    if kql_parser::format_query(&out).ok().as_ref() != Some(&out) {
                        bad.push(format!("not idempotent on {slice:?}"));
                    }
                }
                Ok(Err(kql_parser::FormatError::Changed(e))) => bad.push(format!("{e} on {slice:?}")),
                Ok(Err(_)) => {}
            }
        }
    }
    report(&format!("fmt fuzz: {tried} random slices, {formatted} parsed and formatted, {} problems", bad.len()));
    assert!(bad.is_empty(), "{}", bad.iter().take(10).cloned().collect::<Vec<_>>().join("\n"));
}

#[test]
fn kql_fmt_rewrites_checks_and_reports() {
    use crate::common::{kql_run, temp_dir};
    use std::time::Duration;
    let dir = temp_dir("kql-fmt");
    let ugly = "T|where x>1 // big ones\n|take 5\n";
    let yaml = "id: 1\nname: r # a comment\nquery: |\n  T|where x>1\n\n# kept\nseverity: High\n";
    std::fs::write(dir.join("a.kql"), ugly).unwrap();
    std::fs::write(dir.join("b.kql"), "T\n| take 1\n").unwrap();
    std::fs::write(dir.join("bad.kql"), "T | where\n").unwrap();
    std::fs::write(dir.join("r.yaml"), yaml).unwrap();
    let t = Duration::from_secs(120);
    let d = dir.to_str().unwrap();

    let check = kql_run(&["fmt", "--check", d], None, &[], t);
    assert_eq!(check.code, 1, "{}", check.err);
    assert!(
        check.out.contains("a.kql") && check.out.contains("r.yaml") && !check.out.contains("b.kql"),
        "{}",
        check.out
    );
    assert!(check.err.contains("error[KS006]") && check.err.contains("bad.kql:1:"), "{}", check.err);
    assert_eq!(std::fs::read_to_string(dir.join("a.kql")).unwrap(), ugly, "--check rewrote a file");

    let fix = kql_run(&["fmt", d], None, &[], t);
    assert_eq!(fix.code, 0, "{}", fix.err);
    assert_eq!(std::fs::read_to_string(dir.join("a.kql")).unwrap(), "T\n| where x > 1 // big ones\n| take 5\n");
    assert_eq!(
        std::fs::read_to_string(dir.join("r.yaml")).unwrap(),
        "id: 1\nname: r # a comment\nquery: |\n  T\n  | where x > 1\n\n# kept\nseverity: High\n"
    );
    assert_eq!(std::fs::read_to_string(dir.join("bad.kql")).unwrap(), "T | where\n");

    let again = kql_run(&["fmt", "--check", d], None, &[], t);
    assert_eq!(again.code, 0, "{}\n{}", again.out, again.err);
    assert!(again.out.is_empty(), "{}", again.out);

    let missing = kql_run(&["fmt", "--check", "no/such/folder"], None, &[], t);
    assert_eq!(missing.code, 2, "{}", missing.err);
}
