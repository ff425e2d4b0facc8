//! One lint per file, each with its documentation; helpers they share are here.

pub mod arg_max_star_then_project;
pub mod case_converted_comparison;
pub mod contains_where_has_works;
pub mod in_first_column;
pub mod join_without_kind;
pub mod late_time_filter;
pub mod missing_key;
pub mod no_time_filter;
pub mod search_everything;
pub mod suppression_without_reason;
pub mod tabular_let_used_twice;
pub mod text_comparison;
pub mod unused_suppression;
pub mod watchlist_not_loaded;

use kql_parser::ast::{Expr, ExprKind, Literal, NamedArg};

/// The text of a string literal.
pub(crate) fn string_literal(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Literal(Literal::String(s)) => Some(s),
        ExprKind::Paren(inner) => string_literal(inner),
        _ => None,
    }
}

/// The name a call calls, lower-cased, when `e` is a plain call.
pub(crate) fn call_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Call { target: None, name, .. } => Some(name.name.to_ascii_lowercase()),
        _ => None,
    }
}

/// The parameter `name` (case-insensitive) among an operator's parameters.
pub(crate) fn param<'a>(params: &'a [NamedArg], name: &str) -> Option<&'a NamedArg> {
    params.iter().find(|p| p.name.name.eq_ignore_ascii_case(name))
}

/// The time columns of Log Analytics (`TimeGenerated`) and Defender XDR (`Timestamp`) tables.
pub(crate) fn is_time_column(name: &str) -> bool {
    name == "TimeGenerated" || name == "Timestamp"
}
