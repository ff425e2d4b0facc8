//! The time from an edit to its diagnostics for a 200-line rule, by stage (parse, check,
//! names, diagnostics), as the server spends it: `cargo run --release -p kql-lsp --example
//! latency [FILE]` (a generated 200-line rule without FILE).

use kql_lsp::documents::{DocKind, Document};
use kql_lsp::workspace::{analyse, ProjectSession};
use std::time::Instant;

include!("shared/long_rule.rs");

fn main() {
    let text = match std::env::args().nth(1) {
        Some(f) => std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{f}: {e}")),
        None => rule_of_200_lines(),
    };
    let ps = ProjectSession::new(None, None).expect("a session");
    let uri = lsp_types::Url::parse("file:///rule.kql").expect("a URI");
    let doc = Document::new(uri, DocKind::Kql, 1, text.clone());
    let _ = analyse(&ps.session, &doc, None); // first use: catalogs load
    let runs = 20;
    let (mut parse, mut check, mut names, mut total) = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..runs {
        let t0 = Instant::now();
        let (script, _) = kql_parser::parse_recovering(&text);
        let t1 = Instant::now();
        let script = script.expect("the rule parses");
        let _ = ps.session.check_script(&script);
        let t2 = Instant::now();
        let _ = kql_lsp::scopes::Scopes::of(&script, &text);
        let t3 = Instant::now();
        let a = analyse(&ps.session, &doc, None);
        let _ = kql_lsp::diagnostics::diagnostics(&a, Some(&ps));
        let t4 = Instant::now();
        parse += (t1 - t0).as_secs_f64();
        check += (t2 - t1).as_secs_f64();
        names += (t3 - t2).as_secs_f64();
        total += (t4 - t3).as_secs_f64();
    }
    let ms = |s: f64| s * 1e3 / runs as f64;
    println!(
        "{} lines: parse {:.1} ms, check {:.1} ms, names {:.1} ms; analysis with diagnostics {:.1} ms ({} build)",
        text.lines().count(),
        ms(parse),
        ms(check),
        ms(names),
        ms(total),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
}
