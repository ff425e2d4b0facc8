//! `kql-parser`: the Kusto Query Language as a typed, spanned AST.
//!
//! ```
//! let script = kql_parser::parse("T | where x > 1 | take 5").unwrap();
//! assert_eq!(script.statements.len(), 1);
//! ```
//!
//! Modules, one concern each:
//! - [`span`]: byte spans and line/column mapping;
//! - [`ast`]: the syntax tree;
//! - [`lex`]: whitespace, comments, keywords, names and error tracking;
//! - [`literal`]: strings, numbers, timespans and typed literals;
//! - [`expr`]: scalar expressions and pipes;
//! - [`ops`]: tabular operators;
//! - [`stmt`]: statements and scripts;
//! - [`printer`]: the canonical pretty-printer;
//! - [`format`]: the comment-keeping formatter behind `kql fmt`;
//! - [`visit`]: walking every expression and operator of a tree (lints, editors);
//! - [`error`]: syntax errors and their rendering.

pub mod ast;
pub mod error;
pub mod expr;
pub mod format;
pub mod lex;
pub mod literal;
pub mod ops;
pub mod printer;
pub mod span;
pub mod stmt;
pub mod visit;

pub use ast::*;
pub use error::{render_diagnostic, render_note, Diagnostic, Place, SyntaxError};
pub use format::{format_query, FormatError};
pub use span::{LineIndex, Span};

/// Stack left (bytes) below which [`with_stack`] moves to a fresh segment.
pub const STACK_RED_ZONE: usize = 1024 * 1024;

/// Size (bytes) of each stack segment [`with_stack`] allocates.
pub const STACK_SEGMENT: usize = 16 * 1024 * 1024;

/// Stack (bytes) that [`on_big_stack`] makes sure of: enough for the walks that cannot grow the
/// stack as they go (dropping, cloning or comparing a syntax tree or a DataFusion expression as
/// deep as [`lex::MAX_OPERATORS`] allows).
pub const BIG_STACK: usize = 512 * 1024 * 1024;

/// Run `f`, first moving to a fresh stack segment (allocated on the heap) when less than
/// [`STACK_RED_ZONE`] of the current stack is left. Every recursive walk over a syntax tree (or
/// over what is built from one) calls this at each level, so a deep query grows the stack
/// instead of overflowing it.
pub fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, f)
}

/// Run `f` with at least [`BIG_STACK`] / 2 bytes of stack (moving to a segment of
/// [`BIG_STACK`] bytes when the current stack has less left; memory is only committed as it is
/// used). Entry points that parse, analyse, plan or drop a whole query run in this.
pub fn on_big_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(BIG_STACK / 2, BIG_STACK, f)
}

/// Parse a whole query text (statements separated by `;`).
pub fn parse(text: &str) -> Result<Script, SyntaxError> {
    let (script, errors) = parse_recovering(text);
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(script.expect("no errors means a script")),
    }
}

/// Parse, recovering where Kusto does (a missing `;` between statements): the script when one
/// could be built, and every syntax error in source order.
pub fn parse_recovering(text: &str) -> (Option<Script>, Vec<SyntaxError>) {
    let result = run(text, stmt::script);
    let recovered: Vec<SyntaxError> = lex::RECOVERED.with(|r| {
        let idx = LineIndex::new(text);
        r.borrow()
            .iter()
            .map(|(rem, msg)| {
                let offset = text.len() - rem;
                let (line, col) = idx.line_col(text, offset);
                // an error between tokens (where a `;` belongs) is empty and names what follows
                let next = offset + (text[offset..].len() - lex::ws(&text[offset..]).len());
                let found = &text[next..next + token_len(&text[next..])];
                let len = if next == offset { found.len() } else { 0 };
                SyntaxError {
                    code: "KS005",
                    message: format!("{msg} (found `{found}`)."),
                    span: Span::new(offset, offset + len),
                    line,
                    col,
                }
            })
            .collect()
    });
    match result {
        Ok(s) => (Some(s), recovered),
        Err(e) => {
            let mut errors = recovered;
            errors.push(e);
            errors.sort_by_key(|e| e.span.start);
            (None, errors)
        }
    }
}

/// Parse a single expression (scalar or tabular), such as a function body or a `where` predicate.
pub fn parse_expr(text: &str) -> Result<Expr, SyntaxError> {
    run(text, |i| {
        let (r, e) = expr::pipe_expr(i)?;
        if !lex::at_end(r) {
            lex::expect_at(lex::ws(r), "end of expression");
            return Err(nom::Err::Error(lex::PError { rem: lex::ws(r).len(), message: None }));
        }
        Ok((r, e))
    })
}

fn run<T>(text: &str, p: impl Fn(&str) -> lex::PResult<T>) -> Result<T, SyntaxError> {
    lex::reset(text.len());
    let result = p(text);
    let (rem, message) = match result {
        Ok((_, v)) => return Ok(v),
        Err(nom::Err::Failure(e)) => (e.rem, e.message),
        Err(nom::Err::Error(e)) => (e.rem, e.message),
        Err(nom::Err::Incomplete(_)) => (0, None),
    };
    if let Some((offset, quote)) = unterminated_string(text) {
        // Kusto's lexer reports an unterminated string before any parse error.
        let idx = LineIndex::new(text);
        let (line, col) = idx.line_col(text, offset);
        return Err(SyntaxError {
            code: "KS001",
            message: format!("Missing: {quote}"),
            span: Span::new(offset, offset),
            line,
            col,
        });
    }
    let (furthest, expected) = lex::TRACKER.with(|t| {
        let t = t.borrow();
        (t.furthest_rem, t.expected.clone())
    });
    let (offset, code, msg) = match message {
        Some(m) => {
            let code = if m.starts_with("Missing:") {
                "KS001"
            } else if m.starts_with("Missing") {
                "KS006"
            } else {
                "KS005"
            };
            (text.len() - rem, code, m)
        }
        None => {
            let rem = rem.min(furthest);
            let offset = text.len() - rem;
            let (code, msg) = describe(&expected, &text[offset..]);
            (offset, code, msg)
        }
    };
    let idx = LineIndex::new(text);
    let (line, col) = idx.line_col(text, offset);
    let tok_len = token_len(&text[offset..]);
    Err(SyntaxError { code, message: msg, span: Span::new(offset, offset + tok_len), line, col })
}

/// Find the first string literal that is not closed; returns where Kusto reports it (the end
/// of its line, or of the text for multi-line literals) and the missing quote.
fn unterminated_string(text: &str) -> Option<(usize, &'static str)> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut prev_ident = false;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            i += text[i..].find('\n').unwrap_or(text.len() - i);
            prev_ident = false;
            continue;
        }
        if c == b'`' && text[i..].starts_with("```") {
            match text[i + 3..].find("```") {
                Some(n) => i += n + 6,
                None => return Some((text.len(), "```")),
            }
            continue;
        }
        if c == b'~' && text[i..].starts_with("~~~") {
            match text[i + 3..].find("~~~") {
                Some(n) => i += n + 6,
                None => return Some((text.len(), "~~~")),
            }
            continue;
        }
        if c == b'"' || c == b'\'' {
            let verbatim = i > 0 && b[i - 1] == b'@';
            let mut j = i + 1;
            loop {
                match b.get(j) {
                    None | Some(b'\n') => {
                        let end = if b.get(j - 1) == Some(&b'\r') { j - 1 } else { j };
                        return Some((end, if c == b'"' { "\"" } else { "'" }));
                    }
                    Some(&d) if d == c => {
                        if verbatim && b.get(j + 1) == Some(&c) {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    // an escape; a backslash that ends the line or the text escapes nothing
                    Some(b'\\') if !verbatim && !matches!(b.get(j + 1), None | Some(b'\n')) => j += 2,
                    _ => j += 1,
                }
            }
            i = j + 1;
            prev_ident = false;
            continue;
        }
        let _ = prev_ident;
        prev_ident = (c as char).is_ascii_alphanumeric() || c == b'_';
        i += 1;
    }
    None
}

fn token_len(s: &str) -> usize {
    let mut it = s.char_indices();
    match it.next() {
        None => 0,
        Some((_, c)) if lex::is_ident_char(c) => {
            s.char_indices().find(|(_, c)| !lex::is_ident_char(*c)).map(|(n, _)| n).unwrap_or(s.len())
        }
        Some((_, c)) => c.len_utf8(),
    }
}

fn describe(expected: &[&'static str], at: &str) -> (&'static str, String) {
    let found = match at.chars().next() {
        None => "the end of the query".to_string(),
        Some(_) => format!("`{}`", &at[..token_len(at)]),
    };
    if expected.contains(&"query operator") {
        return ("KS176", format!("Query operator expected, found {found}."));
    }
    if expected.contains(&"expression") {
        return ("KS006", format!("Missing expression (found {found})."));
    }
    let concrete: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|e| {
            !matches!(
                *e,
                "operator" | "and" | "or" | "|" | "end of query" | "end of expression" | "asc" | "desc" | "nulls"
            )
        })
        .collect();
    match concrete.first() {
        Some(first) => ("KS005", format!("Expected: {first} (found {found}).")),
        None => ("KS005", format!("Unexpected {found}.")),
    }
}
