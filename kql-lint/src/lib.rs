//! `kql-lint`: lints that catch costly and risky KQL, in the manner of Ruff: one lint per file
//! (`rules/`), each with its code, a cost weight and its documentation beside the check, and the
//! registry ([`LINTS`]) that `kql check`, `kql explain`, the language server and `docs/lints.md`
//! read.
//!
//! Two kinds of lint share the registry and the `KQLW` codes:
//! - syntax lints, checked here on the tree ([`lint`]): `search` over everything, `contains`
//!   where `has` works, joins without a kind, ...;
//! - lints that need types and schemas, emitted by the binder of `kql-exec` during analysis
//!   (comparisons of mixed types, a table read without a time filter, ...): documented here, with
//!   no check of their own.
//!
//! Around the findings: [`suppress`] reads the inline `// kql: allow(CODE) because ...`
//! comments, [`baseline`] keeps the findings recorded earlier out of the report, and [`cost`]
//! adds up a query's weights for `--max-cost`.

pub mod baseline;
pub mod cost;
pub mod registry;
pub mod rules;
pub mod suppress;

pub use registry::{find, Check, Lint, LINTS};

use kql_parser::{Script, Span};

/// What a lint found: a code, where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The lint's code (`KQLW007`).
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where, in the query text.
    pub span: Span,
    /// The fix, when there is one.
    pub help: Option<String>,
}

impl Finding {
    /// A finding of `code` at `span`.
    pub fn new(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Finding { code, message: message.into(), span, help: None }
    }

    /// With a fix.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every syntax lint's findings on `script`, in the order of the query text.
pub fn lint(script: &Script) -> Vec<Finding> {
    let mut out: Vec<Finding> = LINTS.iter().filter_map(Lint::syntax_check).flat_map(|check| check(script)).collect();
    out.sort_by_key(|f| (f.span.start, f.code));
    out
}
