//! The time from an edit to its diagnostics for a 200-line rule, by stage (parse, check,
//! names, diagnostics), as the server spends it: `cargo run --release -p kql-lsp --example
//! latency [FILE]` (a generated 200-line rule without FILE).

use kql_lsp::documents::{DocKind, Document};
use kql_lsp::workspace::{analyse, ProjectSession};
use std::time::Instant;

/// A 200-line rule: lets, extends, filters, a summarize and a join (the shape of
/// `tests/tests/lsp.rs`'s latency test).
fn rule() -> String {
    let mut s = String::from("// a long detection\nlet lookback = 1d;\nlet threshold = 5;\n");
    for i in 0..40 {
        s.push_str(&format!("let watched{i} = dynamic([\"user{i}@contoso.com\", \"admin{i}@contoso.com\"]);\n"));
    }
    s.push_str("SigninLogs\n| where TimeGenerated > ago(lookback)\n");
    for i in 0..60 {
        s.push_str(&format!(
            "| extend c{i} = iff(UserPrincipalName in (watched{}), strcat(\"w\", tostring({i})), \"\")\n",
            i % 40
        ));
    }
    for i in 0..60 {
        s.push_str(&format!("| where isnotempty(c{i}) or ResultType != \"{i}\"\n"));
    }
    s.push_str("| summarize Failures = count(), Apps = make_set(AppDisplayName) by UserPrincipalName, IPAddress\n");
    s.push_str("| where Failures > threshold\n");
    s.push_str("| join kind=leftouter (AADNonInteractiveUserSignInLogs | summarize NonInteractive = count() by UserPrincipalName) on UserPrincipalName\n");
    while s.lines().count() < 199 {
        s.push_str("| where Failures >= 0\n");
    }
    s.push_str("| project UserPrincipalName, IPAddress, Failures, Apps, NonInteractive\n");
    s
}

fn main() {
    let text = match std::env::args().nth(1) {
        Some(f) => std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{f}: {e}")),
        None => rule(),
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
