// A 200-line rule: lets, extends, filters, a summarize and a join. Included by
// `examples/latency.rs` and by `tests/tests/lsp.rs` (its latency test), so both measure the same
// text.

/// The rule's text, 200 lines.
fn rule_of_200_lines() -> String {
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
