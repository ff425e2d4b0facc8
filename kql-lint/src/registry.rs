//! The lints, their codes, cost weights and documentation.

use crate::rules;
use crate::Finding;
use kql_parser::Script;

/// One lint: its code, name, cost weight, documentation, and (for syntax lints) its check.
#[derive(Debug, Clone, Copy)]
pub struct Lint {
    /// The code (`KQLW007`), used in output, suppressions and baselines.
    pub code: &'static str,
    /// A short kebab-case name (`contains-where-has-works`).
    pub name: &'static str,
    /// What it catches, in one line.
    pub summary: &'static str,
    /// How much it weighs in a query's cost (`kql check --max-cost`): 0 for lints about
    /// correctness or suppressions only, up to 10 for reading everything.
    pub cost: u32,
    /// Why it matters (Markdown).
    pub why: &'static str,
    /// A query it fires on.
    pub example: &'static str,
    /// The same query with the fix: the lint stays quiet on it.
    pub fixed: &'static str,
    /// Where it is checked.
    pub check: Check,
}

/// Where a lint is checked.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// On the parsed query, by this function.
    Syntax(fn(&Script) -> Vec<Finding>),
    /// By the binder of `kql-exec` during analysis (it needs types and schemas).
    Analysis,
    /// On the query's suppression comments ([`crate::suppress`]).
    Comments,
}

impl Lint {
    /// The syntax check, for syntax lints.
    pub fn syntax_check(&self) -> Option<fn(&Script) -> Vec<Finding>> {
        match self.check {
            Check::Syntax(f) => Some(f),
            _ => None,
        }
    }
}

/// Every lint, by code.
pub const LINTS: &[Lint] = &[
    rules::text_comparison::LINT,
    rules::in_first_column::LINT,
    rules::missing_key::LINT,
    rules::no_time_filter::LINT,
    rules::watchlist_not_loaded::LINT,
    rules::search_everything::LINT,
    rules::contains_where_has_works::LINT,
    rules::join_without_kind::LINT,
    rules::arg_max_star_then_project::LINT,
    rules::case_converted_comparison::LINT,
    rules::tabular_let_used_twice::LINT,
    rules::late_time_filter::LINT,
    rules::suppression_without_reason::LINT,
    rules::unused_suppression::LINT,
];

/// The lint with `code` (case-insensitive), if there is one.
pub fn find(code: &str) -> Option<&'static Lint> {
    LINTS.iter().find(|l| l.code.eq_ignore_ascii_case(code) || l.name.eq_ignore_ascii_case(code))
}

impl Lint {
    /// The lint's page in Markdown: what, why, an example and the fix.
    pub fn page(&self) -> String {
        let origin = match self.check {
            Check::Syntax(_) => "Checked on the query's syntax.",
            Check::Analysis => "Emitted by semantic analysis (it needs the tables' schemas and the types).",
            Check::Comments => "Checked on the query's `// kql: allow(...)` comments.",
        };
        let cost = match self.cost {
            0 => "Cost weight: 0 (not a cost: a correctness or hygiene finding).".to_string(),
            c => format!("Cost weight: {c} (`kql check --max-cost`)."),
        };
        format!(
            "## {code} `{name}`\n\n{summary}\n\n{why}\n\n{origin} {cost}\n\nExample:\n\n```kql\n{example}\n```\n\nFixed:\n\n```kql\n{fixed}\n```\n\nSilence one finding with a reason: `// kql: allow({code}) because ...`.\n",
            code = self.code,
            name = self.name,
            summary = self.summary,
            why = self.why.trim(),
            example = self.example.trim(),
            fixed = self.fixed.trim(),
        )
    }
}

/// `docs/lints.md`: every lint's page, generated from this registry.
pub fn docs_page() -> String {
    let mut s = String::from(
        "# Lints\n\n<!-- generated from kql-lint/src/rules/*.rs: edit there, then run\n     KQL_BLESS_LINTS=1 cargo test -p kql-lint docs_page -->\n\n\
         `kql check` reports these as warnings (`--deny-warnings` makes them errors), the language\n\
         server shows them as you type, and `kql explain CODE` prints a page. Each has a cost\n\
         weight: `kql check --max-cost N` fails a query whose findings weigh more than N.\n\n\
         Silence a finding with a comment that gives the reason, on its line or the line before\n\
         (before the query's first line, for the whole query):\n\n\
         ```kql\n// kql: allow(KQLW008) because the left side has one row per key\nSigninLogs | join (AADNonInteractiveUserSignInLogs) on UserId\n```\n\n\
         A suppression without a reason is itself a finding (KQLW013), as is one that silences\n\
         nothing (KQLW014). `kql check --write-baseline FILE` records today's findings;\n\
         `kql check --baseline FILE` then reports only new ones.\n\n\
         | code | name | cost | what |\n|---|---|---|---|\n",
    );
    for l in LINTS {
        s.push_str(&format!("| {} | `{}` | {} | {} |\n", l.code, l.name, l.cost, l.summary.replace('|', "\\|")));
    }
    for l in LINTS {
        s.push('\n');
        s.push_str(&l.page());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_in_order() {
        let codes: Vec<&str> = LINTS.iter().map(|l| l.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted, "codes are unique and listed in order");
        let mut names: Vec<&str> = LINTS.iter().map(|l| l.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), LINTS.len());
    }

    /// Each syntax lint fires on its example and is quiet on the fixed query; the examples of
    /// the binder's lints are checked with a session by the integration tests.
    #[test]
    fn every_syntax_lint_fires_on_its_example_and_not_on_its_fix() {
        for l in LINTS {
            let Some(check) = l.syntax_check() else { continue };
            let example = kql_parser::parse(l.example).unwrap_or_else(|e| panic!("{}: example: {e:?}", l.code));
            let fired: Vec<_> = check(&example).into_iter().filter(|f| f.code == l.code).collect();
            assert!(!fired.is_empty(), "{} does not fire on its example", l.code);
            let fixed = kql_parser::parse(l.fixed).unwrap_or_else(|e| panic!("{}: fixed: {e:?}", l.code));
            let fired: Vec<_> = crate::lint(&fixed).into_iter().filter(|f| f.code == l.code).collect();
            assert!(fired.is_empty(), "{} fires on its fix: {fired:?}", l.code);
        }
    }

    #[test]
    fn docs_page() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/lints.md");
        let page = super::docs_page();
        if std::env::var_os("KQL_BLESS_LINTS").is_some() {
            std::fs::write(path, &page).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == page,
            "docs/lints.md is out of date: run KQL_BLESS_LINTS=1 cargo test -p kql-lint docs_page"
        );
    }
}
