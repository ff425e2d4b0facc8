//! The formatter behind `kql fmt` and the language server's formatting request: one
//! canonical layout for a query text that keeps every comment and never changes what the
//! query means.
//!
//! It works on tokens rather than on the syntax tree ([`token`] keeps comments and the
//! whitespace between tokens, [`layout`] rewrites only that whitespace), so every comment
//! stays where it was and every token is written back byte for byte. Whether it kept the
//! meaning is then checked, not assumed: the text is parsed before and after, and the two
//! syntax trees (compared without their positions) and the two lists of comments must be
//! equal, or [`format_query`] returns [`FormatError::Changed`] and the caller keeps the text
//! as it was.

pub mod layout;
pub mod token;

use crate::error::SyntaxError;
use std::fmt;

/// Why a text was not formatted.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatError {
    /// The text does not parse; formatting leaves it as it is.
    Syntax(SyntaxError),
    /// The laid-out text would not parse to the same syntax tree or would lose a comment (a
    /// formatter bug: the text is left as it is). Holds what went wrong.
    Changed(String),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Syntax(e) => write!(f, "{e}"),
            FormatError::Changed(why) => write!(f, "the formatter would change the query ({why}); left as it is"),
        }
    }
}

impl std::error::Error for FormatError {}

impl From<SyntaxError> for FormatError {
    fn from(e: SyntaxError) -> Self {
        FormatError::Syntax(e)
    }
}

/// Format a whole query text (statements, comments and all) in the canonical layout.
///
/// The result ends with one line break. Formatting a formatted text returns it unchanged.
///
/// ```
/// let out = kql_parser::format_query("T|where x>1 // big\n|take 5").unwrap();
/// assert_eq!(out, "T\n| where x > 1 // big\n| take 5\n");
/// ```
pub fn format_query(text: &str) -> Result<String, FormatError> {
    crate::on_big_stack(|| {
        let before = crate::parse(text)?;
        let out = layout_text(text);
        let after = crate::parse(&out).map_err(|e| FormatError::Changed(format!("the result does not parse: {e}")))?;
        if before != after {
            return Err(FormatError::Changed("the result parses to a different syntax tree".into()));
        }
        if comments(text) != comments(&out) {
            return Err(FormatError::Changed("a comment would be lost or changed".into()));
        }
        Ok(out)
    })
}

/// Lay out `text` without checking the result: the tokens of `text` with canonical whitespace.
/// Never fails; [`format_query`] is the checked entry point.
pub fn layout_text(text: &str) -> String {
    let (toks, _) = token::tokenize(text);
    if toks.is_empty() {
        return String::new();
    }
    layout::layout(&toks)
}

/// The comments of `text`, in order, without trailing whitespace.
pub fn comments(text: &str) -> Vec<&str> {
    token::tokenize(text).0.into_iter().filter(|t| t.kind == token::Kind::Comment).map(|t| t.text).collect()
}

#[cfg(test)]
mod tests;
