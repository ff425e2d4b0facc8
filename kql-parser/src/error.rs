//! Syntax errors: where, what was expected, and rustc-style rendering.

use crate::span::{LineIndex, Span};
use serde::Serialize;
use std::fmt;

/// A syntax error in a query text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyntaxError {
    /// Kusto's diagnostic code (`KS005` expected token, `KS001` unterminated literal,
    /// `KS006` missing expression or clause, `KS176` query operator expected).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Where: an empty span at the point of failure, or the offending construct.
    pub span: Span,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {} [{}]", self.line, self.col, self.message, self.code)
    }
}

impl std::error::Error for SyntaxError {}

impl SyntaxError {
    /// Render like rustc: a header, the source line, and a caret under the offending token.
    pub fn render(&self, path: &str, text: &str) -> String {
        render_diagnostic("error", self.code, &self.message, path, text, self.span, None)
    }
}

/// A note under a diagnostic, pointing at a second place (possibly in another file):
///
/// ```text
///   = note: in this call of `vimDnsAZFW`
///  --> query.kql:3:1
///   |
/// 3 | vimDnsAZFW | take 5
///   | ^^^^^^^^^^
/// ```
pub fn render_note(label: &str, path: &str, text: &str, span: Span) -> String {
    let idx = LineIndex::new(text);
    let (line, col) = idx.line_col(text, span.start);
    let src = idx.line_text(text, line);
    let gutter = line.to_string().len();
    let pad = " ".repeat(gutter);
    let line_end = idx.line_start(line) + src.len();
    let end = span.end.min(line_end).max(span.start);
    let width = text.get(span.start..end).map(|s| s.chars().count()).unwrap_or(0).max(1);
    let prefix: String = src.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    format!(
        "{pad} = note: {label}\n{pad}--> {path}:{line}:{col}\n{pad} |\n{line} | {src}\n{pad} | {prefix}{}\n",
        "^".repeat(width)
    )
}

/// Render a diagnostic in rustc's style with the source line, a caret underline and an
/// optional help line.
pub fn render_diagnostic(
    severity: &str,
    code: &str,
    message: &str,
    path: &str,
    text: &str,
    span: Span,
    help: Option<&str>,
) -> String {
    let idx = LineIndex::new(text);
    let (line, col) = idx.line_col(text, span.start);
    let src = idx.line_text(text, line);
    let gutter = line.to_string().len();
    let pad = " ".repeat(gutter);
    let line_start = idx.line_start(line);
    let line_end = line_start + src.len();
    let end = span.end.min(line_end).max(span.start);
    let width = text.get(span.start..end).map(|s| s.chars().count()).unwrap_or(0).max(1);
    let prefix: String = src.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    let mut out = format!("{severity}[{code}]: {message}\n{pad}--> {path}:{line}:{col}\n{pad} |\n");
    out.push_str(&format!("{line} | {src}\n"));
    out.push_str(&format!("{pad} | {prefix}{}\n", "^".repeat(width)));
    if let Some(h) = help {
        out.push_str(&format!("{pad} = help: {h}\n"));
    }
    out
}
