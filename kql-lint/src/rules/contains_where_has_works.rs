//! KQLW007 `contains-where-has-works`: `contains` with a whole term, where `has` is faster.

use super::string_literal;
use crate::registry::{Check, Lint};
use crate::Finding;
use kql_parser::ast::{BinaryOp, ExprKind, Script, StrOp, StrOpKind};
use kql_parser::visit;

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW007",
    name: "contains-where-has-works",
    summary: "`contains` of a whole term: `has` finds it through the term index",
    cost: 2,
    why: "`contains` looks for a substring in every value; `has` looks for a whole term (a run of \
letters and digits between other characters) and Kusto answers it from its term index without \
reading the text. Kusto's best practices: when looking for full tokens, use `has`. The two \
differ only where the needle is part of a longer word: `\"sysadmin\" contains \"admin\"` is true, \
`\"sysadmin\" has \"admin\"` is false. Keep `contains` when that is what you mean (and say why in a \
`// kql: allow(KQLW007) because ...`).",
    example: "SecurityEvent\n| where TimeGenerated > ago(1d)\n| where CommandLine contains \"mimikatz\"",
    fixed: "SecurityEvent\n| where TimeGenerated > ago(1d)\n| where CommandLine has \"mimikatz\"",
    check: Check::Syntax(check),
};

/// Whether Kusto's term index can find `needle` whole: three or more letters and digits.
fn is_whole_term(needle: &str) -> bool {
    needle.len() >= 3 && needle.chars().all(|c| c.is_ascii_alphanumeric())
}

fn check(script: &Script) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in visit::all_exprs(script) {
        let ExprKind::Binary { op: BinaryOp::Str(op @ StrOp { kind: StrOpKind::Contains, .. }), right, .. } = &e.kind
        else {
            continue;
        };
        let Some(needle) = string_literal(right) else { continue };
        if !is_whole_term(needle) {
            continue;
        }
        let written =
            format!("{}contains{}", if op.negated { "!" } else { "" }, if op.case_sensitive { "_cs" } else { "" });
        let better = written.replace("contains", "has");
        out.push(
            Finding::new(
                LINT.code,
                format!("`{written} \"{needle}\"` scans every value for a substring; `{better}` finds the whole term through the index"),
                e.span,
            )
            .help(format!(
                "use `{better} \"{needle}\"` if \"{needle}\" stands alone in the text (not inside a longer word)"
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    fn found(q: &str) -> Vec<String> {
        super::check(&kql_parser::parse(q).unwrap()).into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn a_whole_term_is_found_and_a_fragment_is_not() {
        assert_eq!(found("T | where a contains \"mimikatz\"").len(), 1);
        assert!(found("T | where a !contains_cs \"Admin\"")[0].contains("`!has_cs`"));
        assert!(found("T | where a contains \"ab\"").is_empty(), "too short for the index");
        assert!(found("T | where a contains \"-enc \"").is_empty(), "not a term");
        assert!(found("T | where a contains \"evil.com\"").is_empty(), "two terms");
        assert!(found("T | where a has \"mimikatz\"").is_empty());
        assert!(found("T | where a contains b").is_empty(), "not a literal");
    }
}
