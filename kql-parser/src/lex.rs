//! Lexical primitives on top of `nom`: whitespace and comments, keywords, symbols, names,
//! and the furthest-failure tracking that makes syntax errors point at the right token.
//!
//! Every primitive skips leading whitespace and comments itself, so a span always starts at
//! the first byte of its token. When a primitive fails it records the position and what it
//! expected; the error reported for a query is the furthest position any primitive failed at
//! (the usual PEG error heuristic), which is where Kusto reports it too.

use crate::ast::Ident;
use crate::span::Span;
use nom::error::{ErrorKind, ParseError};
use std::cell::RefCell;

/// Parser input: the unparsed rest of the query text.
pub type In<'a> = &'a str;

/// Result of a parser function.
pub type PResult<'a, T> = nom::IResult<In<'a>, T, PError>;

/// The internal nom error: how much input remained where it happened, and for fatal errors
/// (unterminated literals) a message.
#[derive(Debug, Clone)]
pub struct PError {
    /// Bytes of input left at the failure.
    pub rem: usize,
    /// A message for fatal errors.
    pub message: Option<String>,
}

impl<'a> ParseError<In<'a>> for PError {
    fn from_error_kind(input: In<'a>, _kind: ErrorKind) -> Self {
        PError { rem: input.len(), message: None }
    }
    fn append(_input: In<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }
    fn or(self, other: Self) -> Self {
        if other.rem <= self.rem {
            other
        } else {
            self
        }
    }
}

/// Per-parse state: the length of the whole text (to turn remaining lengths into offsets) and
/// the furthest failure seen so far.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    pub base_len: usize,
    pub furthest_rem: usize,
    pub expected: Vec<&'static str>,
    pub depth: usize,
    pub operators: usize,
    pub pipe_operators: usize,
}

thread_local! {
    pub(crate) static TRACKER: RefCell<Tracker> = RefCell::new(Tracker::default());
}

thread_local! {
    /// Errors the parser recovered from: (remaining length, message).
    pub(crate) static RECOVERED: RefCell<Vec<(usize, &'static str)>> = const { RefCell::new(Vec::new()) };
}

/// Record an error the parser recovers from.
pub fn record_recovered(at: In, message: &'static str) {
    RECOVERED.with(|r| r.borrow_mut().push((at.len(), message)));
}

/// Maximum nesting of expressions before the parser gives up (protects the stack).
pub const MAX_DEPTH: usize = 400;

/// Maximum number of operators in one query text: binary operators (`+`, `or`, `==`...), `in`
/// and `between` tests, member accesses and indexing (`a.b[0]`) and pipe operators (`| where`).
/// Each can make the syntax tree (and the plan built from it) one level deeper, so this bounds
/// the stack that dropping or comparing them needs; past it the parser stops with an error at
/// the operator. Generated rules with thousands of `or`ed comparisons stay well below it.
pub const MAX_OPERATORS: usize = 100_000;

/// Maximum number of tabular operators (`| where`, `| extend`...) in one query text. Each is one
/// level of the plan, and DataFusion's optimizer slows down sharply on plans thousands of levels
/// deep (20,000 `| where` take minutes); real rules have at most a few hundred.
pub const MAX_PIPE_OPERATORS: usize = 2_000;

/// Reset the tracker for a new text of `len` bytes.
pub(crate) fn reset(len: usize) {
    RECOVERED.with(|r| r.borrow_mut().clear());
    TRACKER.with(|t| {
        let mut t = t.borrow_mut();
        t.base_len = len;
        t.furthest_rem = usize::MAX;
        t.expected.clear();
        t.depth = 0;
        t.operators = 0;
        t.pipe_operators = 0;
    });
}

/// Byte offset of the start of `i` in the whole text.
pub fn pos(i: In) -> usize {
    TRACKER.with(|t| t.borrow().base_len.saturating_sub(i.len()))
}

/// Record that `what` was expected at `i`.
pub fn expect_at(i: In, what: &'static str) {
    TRACKER.with(|t| {
        let mut t = t.borrow_mut();
        let rem = i.len();
        if rem < t.furthest_rem {
            t.furthest_rem = rem;
            t.expected.clear();
            t.expected.push(what);
        } else if rem == t.furthest_rem && !t.expected.contains(&what) {
            t.expected.push(what);
        }
    });
}

/// A recoverable failure at `i`, recording what was expected.
pub fn fail<'a, T>(i: In<'a>, what: &'static str) -> PResult<'a, T> {
    expect_at(i, what);
    Err(nom::Err::Error(PError { rem: i.len(), message: None }))
}

/// A fatal failure (no alternative can succeed) at `i` with `message`.
pub fn fatal<'a, T>(i: In<'a>, message: impl Into<String>) -> PResult<'a, T> {
    Err(nom::Err::Failure(PError { rem: i.len(), message: Some(message.into()) }))
}

/// Enter one level of nesting; fails fatally past [`MAX_DEPTH`].
pub fn enter(i: In) -> Result<(), nom::Err<PError>> {
    let too_deep = TRACKER.with(|t| {
        let mut t = t.borrow_mut();
        t.depth += 1;
        t.depth > MAX_DEPTH
    });
    if too_deep {
        leave();
        return Err(nom::Err::Failure(PError {
            rem: i.len(),
            message: Some(format!(
                "the query nests more than {MAX_DEPTH} levels deep (parentheses, calls, unary signs and \
                 subqueries); flatten it, e.g. name inner parts with `let`"
            )),
        }));
    }
    Ok(())
}

/// Count one operator (see [`MAX_OPERATORS`]) at `i`; fails fatally past the limit.
pub fn count_operator(i: In) -> Result<(), nom::Err<PError>> {
    let too_many = TRACKER.with(|t| {
        let mut t = t.borrow_mut();
        t.operators += 1;
        t.operators > MAX_OPERATORS
    });
    if too_many {
        return Err(nom::Err::Failure(PError {
            rem: i.len(),
            message: Some(format!(
                "the query has more than {MAX_OPERATORS} operators; split it into several queries, or test \
                 many values at once with `in (...)` or `has_any (...)`"
            )),
        }));
    }
    Ok(())
}

/// Count one tabular operator (see [`MAX_PIPE_OPERATORS`]) at `i`, which is also an operator
/// (see [`count_operator`]); fails fatally past either limit.
pub fn count_pipe_operator(i: In) -> Result<(), nom::Err<PError>> {
    count_operator(i)?;
    let too_many = TRACKER.with(|t| {
        let mut t = t.borrow_mut();
        t.pipe_operators += 1;
        t.pipe_operators > MAX_PIPE_OPERATORS
    });
    if too_many {
        return Err(nom::Err::Failure(PError {
            rem: i.len(),
            message: Some(format!(
                "the query has more than {MAX_PIPE_OPERATORS} tabular operators (`| ...`); split it into \
                 several queries, or merge consecutive `where` filters with `and`"
            )),
        }));
    }
    Ok(())
}

/// Leave one level of nesting.
pub fn leave() {
    TRACKER.with(|t| t.borrow_mut().depth -= 1);
}

/// Skip whitespace and `//` comments.
pub fn ws(mut i: In) -> In {
    loop {
        let t = i.trim_start();
        if let Some(rest) = t.strip_prefix("//") {
            i = match rest.find('\n') {
                Some(n) => &rest[n + 1..],
                None => &rest[rest.len()..],
            };
        } else {
            return t;
        }
    }
}

/// True for characters that may continue an identifier.
pub fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True for characters that may start an identifier.
pub fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// Match the exact symbol `s` (punctuation such as `|`, `==`, `(`).
pub fn sym<'a>(s: &'static str) -> impl Fn(In<'a>) -> PResult<'a, Span> {
    move |i: In<'a>| {
        let i = ws(i);
        match i.strip_prefix(s) {
            Some(rest) => {
                let p = pos(i);
                Ok((rest, Span::new(p, p + s.len())))
            }
            None => fail(i, s),
        }
    }
}

/// True if `i` (after whitespace) starts with symbol `s`.
pub fn peek_sym(i: In, s: &str) -> bool {
    ws(i).starts_with(s)
}

/// Length of the keyword `k` at the start of `i` if it is there as a whole word.
/// Keywords may contain `-` (`project-away`); a keyword is never followed by an identifier
/// character or, unless it ends a hyphenated keyword, by `-` and a letter.
fn keyword_len(i: In, k: &str) -> Option<usize> {
    if !i.starts_with(k) {
        return None;
    }
    let rest = &i[k.len()..];
    match rest.chars().next() {
        Some(c) if is_ident_char(c) => None,
        Some('-') if rest[1..].starts_with(|c: char| c.is_alphabetic()) && !k.starts_with('!') => {
            // `project-away` must not match `project`
            let word: String = rest[1..].chars().take_while(|c| is_ident_char(*c)).collect();
            if HYPHEN_SUFFIXES.contains(&word.as_str()) {
                None
            } else {
                Some(k.len())
            }
        }
        _ => Some(k.len()),
    }
}

/// Second halves of hyphenated operator keywords.
pub(crate) const HYPHEN_SUFFIXES: &[&str] = &[
    "away", "keep", "rename", "reorder", "smart", "expand", "apply", "where", "kv", "series", "nested", "hitters",
    "distinct", "and", "cache", "graph", "match",
];

/// Match the keyword `k` (case-sensitive, whole word).
pub fn kw<'a>(k: &'static str) -> impl Fn(In<'a>) -> PResult<'a, Span> {
    move |i: In<'a>| {
        let i = ws(i);
        match keyword_len(i, k) {
            Some(n) => {
                let p = pos(i);
                Ok((&i[n..], Span::new(p, p + n)))
            }
            None => fail(i, k),
        }
    }
}

/// True if `i` (after whitespace) starts with keyword `k`.
pub fn peek_kw(i: In, k: &str) -> bool {
    keyword_len(ws(i), k).is_some()
}

/// A plain identifier (letters, digits, `_`; not starting with a digit).
pub fn plain_ident(i: In) -> PResult<Ident> {
    let i = ws(i);
    let mut chars = i.char_indices();
    match chars.next() {
        Some((_, c)) if is_ident_start(c) => {}
        Some((_, c)) if c.is_ascii_digit() => {
            // Kusto reads `3plogTime` as a name
            if let Ok((r, (crate::literal::NumberToken::Name(n), sp))) = crate::literal::number(i) {
                return Ok((r, Ident::new(n, sp)));
            }
            return fail(i, "name");
        }
        _ => return fail(i, "name"),
    }
    let end = i.char_indices().find(|(_, c)| !is_ident_char(*c)).map(|(n, _)| n).unwrap_or(i.len());
    let p = pos(i);
    Ok((&i[end..], Ident::new(&i[..end], Span::new(p, p + end))))
}

/// A name: a plain identifier or a bracketed one (`['a b']`, `["x"]`).
pub fn name(i: In) -> PResult<Ident> {
    let i0 = ws(i);
    if i0.starts_with("['") || i0.starts_with("[\"") || i0.starts_with("[@") {
        let start = pos(i0);
        let (rest, s) = crate::literal::string_literal(&i0[1..])?;
        let (rest, end) = sym("]")(rest)?;
        return Ok((rest, Ident::new(s, Span::new(start, end.end))));
    }
    plain_ident(i0)
}

/// A name, possibly dotted (`hint.strategy`, `a.b.c`) with no spaces around the dots.
pub fn dotted_name(i: In) -> PResult<Ident> {
    let (mut rest, first) = plain_ident(i)?;
    let mut id = first;
    while rest.starts_with('.') && rest[1..].starts_with(is_ident_start) {
        let (r, next) = plain_ident(&rest[1..])?;
        id.name.push('.');
        id.name.push_str(&next.name);
        id.span.end = next.span.end;
        rest = r;
    }
    Ok((rest, id))
}

/// True when only whitespace and comments remain.
pub fn at_end(i: In) -> bool {
    ws(i).is_empty()
}
