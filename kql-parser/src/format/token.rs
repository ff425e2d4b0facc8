//! The formatter's tokenizer: the query text as tokens that keep their comments and the
//! whitespace before each token, so layout can be decided token by token and every comment
//! written back.
//!
//! It follows the parser's lexing where lexing depends on context: the content of typed
//! literals (`datetime(2020-01-01 10:00)`, `timespan(1.02:03)`, `guid(...)`) is one raw token
//! kept byte for byte; numbers take their unit (`1d`, `1.5h`, `1e-5`); hyphenated operator
//! names (`mv-expand`, `project-away`) are one word; `!has`, `in~`, `$left` are one word; every
//! string form (`'..'`, `"..."`, `@'..'`, `h'..'`, triple backticks, `~~~`) is one token.
//! It never fails: text it does not know becomes one-character tokens.

use crate::lex::{is_ident_char, is_ident_start, HYPHEN_SUFFIXES};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A name or keyword (`where`, `project-away`, `!has`, `$left`, `in~`).
    Word,
    /// A number, possibly with a unit or letters after it (`1d`, `0x1f`, `3plogTime`).
    Number,
    /// A string literal in any of its forms.
    Str,
    /// A typed literal kept verbatim: `datetime(...)`, `timespan(...)`, `guid(...)`...
    Raw,
    /// A `//` comment, without its line break.
    Comment,
    /// Punctuation or an operator symbol (`|`, `==`, `(`, `..`).
    Punct,
}

/// The whitespace before a token in the source text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gap {
    /// Whether there was any whitespace.
    pub space: bool,
    /// How many line breaks there were.
    pub newlines: usize,
}

/// One token: its kind, its text and the whitespace before it.
#[derive(Debug, Clone, Copy)]
pub struct Token<'a> {
    /// The kind.
    pub kind: Kind,
    /// The text, exactly as in the source (comments without trailing whitespace).
    pub text: &'a str,
    /// The whitespace before it.
    pub gap: Gap,
}

impl Token<'_> {
    /// True for the punctuation `s`.
    pub fn is(&self, s: &str) -> bool {
        self.kind == Kind::Punct && self.text == s
    }
}

/// Multi-character operator symbols, longest first.
const OPERATORS: &[&str] = &["-->", "->", "==", "!=", "<>", "<=", ">=", "=~", "!~", "=>", ".."];

/// Typed literals whose parenthesised content the parser reads as raw text (`dynamic` is not
/// among them: its content is tokenized like any other so it can be laid out).
fn is_raw_literal(word: &str) -> bool {
    word != "dynamic" && crate::expr::TYPED_LITERALS.contains(&word)
}

/// Split `text` into tokens; the whitespace after the last token is returned as the final gap.
pub fn tokenize(text: &str) -> (Vec<Token<'_>>, Gap) {
    let mut toks = Vec::new();
    let mut i = 0;
    let b = text.as_bytes();
    loop {
        // whitespace
        let mut gap = Gap::default();
        while let Some(c) = text[i..].chars().next() {
            if !c.is_whitespace() {
                break;
            }
            gap.space = true;
            if c == '\n' {
                gap.newlines += 1;
            }
            i += c.len_utf8();
        }
        if i >= text.len() {
            return (toks, gap);
        }
        let rest = &text[i..];
        let len = token_len(text, i, &toks);
        let len = len.clamp(1, rest.len());
        // never split a character
        let mut end = i + len;
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let kind = classify(&text[i..end], b[i]);
        let mut tok_text = &text[i..end];
        if kind == Kind::Comment {
            tok_text = tok_text.trim_end();
        }
        toks.push(Token { kind, text: tok_text, gap });
        i = end;
    }
}

fn classify(tok: &str, first: u8) -> Kind {
    if tok.starts_with("//") {
        return Kind::Comment;
    }
    if crate::literal::starts_string(tok) && tok.len() > 1 {
        return Kind::Str;
    }
    if first.is_ascii_digit() {
        return Kind::Number;
    }
    let c = tok.chars().next().unwrap_or(' ');
    if is_ident_start(c) || ((c == '!' || c == '$') && tok.len() > 1) {
        if tok.ends_with(')') && tok.contains('(') {
            return Kind::Raw;
        }
        return Kind::Word;
    }
    Kind::Punct
}

/// Length in bytes of the token starting at byte `i` of `text`.
fn token_len(text: &str, i: usize, prev: &[Token]) -> usize {
    let rest = &text[i..];
    let b = rest.as_bytes();
    if rest.starts_with("//") {
        return rest.find('\n').unwrap_or(rest.len());
    }
    if crate::literal::starts_string(rest) {
        return string_len(rest);
    }
    let c = rest.chars().next().unwrap_or(' ');
    if c.is_ascii_digit() {
        return number_len(rest);
    }
    if is_ident_start(c) {
        let n = word_len(rest);
        let word = &rest[..n];
        let after_dot = prev.last().is_some_and(|t| t.is("."));
        if is_raw_literal(word) && !after_dot {
            let after = rest[n..].trim_start();
            if after.starts_with('(') {
                let open = rest.len() - after.len();
                if let Some(close) = matching_paren(&rest[open..]) {
                    return open + close + 1;
                }
            }
        }
        return n;
    }
    if (c == '!' || c == '$') && rest[1..].starts_with(is_ident_start) {
        return 1 + word_len(&rest[1..]);
    }
    for op in OPERATORS {
        if rest.starts_with(op) {
            return op.len();
        }
    }
    let _ = b;
    c.len_utf8()
}

/// A word with its hyphenated keyword halves (`project-away`) and a trailing `~` (`in~`).
fn word_len(s: &str) -> usize {
    let mut n = s.char_indices().find(|(_, c)| !is_ident_char(*c)).map(|(k, _)| k).unwrap_or(s.len());
    loop {
        let r = &s[n..];
        if let Some(after) = r.strip_prefix('-') {
            let m = after.char_indices().find(|(_, c)| !is_ident_char(*c)).map(|(k, _)| k).unwrap_or(after.len());
            if m > 0 && after.starts_with(|c: char| c.is_alphabetic()) && HYPHEN_SUFFIXES.contains(&&after[..m]) {
                n += 1 + m;
                continue;
            }
        }
        break;
    }
    if s[n..].starts_with('~') && !s[n..].starts_with("~~~") {
        n += 1;
    }
    n
}

/// A number as the parser reads it: digits, a fraction, an exponent, then letters (a unit or a
/// digit-led name).
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut n;
    if (s.starts_with("0x") || s.starts_with("0X")) && b.get(2).is_some_and(|c| c.is_ascii_hexdigit()) {
        n = 2 + b[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
    } else {
        n = b.iter().take_while(|c| c.is_ascii_digit()).count();
        if b.get(n) == Some(&b'.') && b.get(n + 1).is_some_and(|c| c.is_ascii_digit()) {
            n += 1;
            n += b[n..].iter().take_while(|c| c.is_ascii_digit()).count();
        } else if b.get(n) == Some(&b'.')
            && !b.get(n + 1).is_some_and(|c| is_ident_char(*c as char) || *c == b'.' || *c == b'[' || *c == b'$')
        {
            n += 1;
        }
        if matches!(b.get(n), Some(b'e' | b'E')) {
            let mut m = n + 1;
            if matches!(b.get(m), Some(b'+' | b'-')) {
                m += 1;
            }
            if b.get(m).is_some_and(|c| c.is_ascii_digit()) {
                m += b[m..].iter().take_while(|c| c.is_ascii_digit()).count();
                n = m;
            }
        }
    }
    n + s[n..].char_indices().find(|(_, c)| !is_ident_char(*c)).map(|(k, _)| k).unwrap_or(s.len() - n)
}

/// Length of the string literal at the start of `s` (to the end of the line or text when it is
/// not closed).
fn string_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'h' | b'H')) {
        i += 1;
    }
    let verbatim = b.get(i) == Some(&b'@');
    if verbatim {
        i += 1;
    }
    for fence in ["```", "~~~"] {
        if s[i..].starts_with(fence) {
            return match s[i + 3..].find(fence) {
                Some(n) => i + 3 + n + 3,
                None => s.len(),
            };
        }
    }
    let q = match b.get(i) {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => return i.max(1),
    };
    let mut j = i + 1;
    while j < b.len() {
        let c = b[j];
        if c == b'\n' {
            return j;
        }
        if c == q {
            if verbatim && b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        if c == b'\\' && !verbatim && j + 1 < b.len() && b[j + 1] != b'\n' {
            j += 2;
            continue;
        }
        j += 1;
    }
    b.len()
}

/// Offset of the `)` matching the `(` at the start of `s`, skipping strings and comments as
/// the parser's raw-content reader does.
fn matching_paren(s: &str) -> Option<usize> {
    let body = s.strip_prefix('(')?;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut verbatim = false;
    let mut prev = ' ';
    let mut iter = body.char_indices();
    while let Some((n, c)) = iter.next() {
        if let Some(q) = quote {
            if c == '\\' && !verbatim {
                iter.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        let was = prev;
        prev = c;
        if c == '/' && body[n + 1..].starts_with('/') {
            let skip = body[n..].find('\n').unwrap_or(body.len() - n);
            for _ in 0..body[n..n + skip].chars().count().saturating_sub(1) {
                iter.next();
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                verbatim = was == '@';
            }
            '(' => depth += 1,
            ')' if depth == 0 => return Some(n + 1),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        tokenize(s).0.iter().map(|t| t.text).collect()
    }

    #[test]
    fn context_dependent_tokens_stay_whole() {
        assert_eq!(
            texts("T | project-away Foo* | where t > datetime(2020-01-01 10:00) and x !has 'a' and y in~ (1d, 1e-5)"),
            [
                "T",
                "|",
                "project-away",
                "Foo",
                "*",
                "|",
                "where",
                "t",
                ">",
                "datetime(2020-01-01 10:00)",
                "and",
                "x",
                "!has",
                "'a'",
                "and",
                "y",
                "in~",
                "(",
                "1d",
                ",",
                "1e-5",
                ")"
            ]
        );
        assert_eq!(texts("$left.x == h'a' // c "), ["$left", ".", "x", "==", "h'a'", "// c"]);
        assert_eq!(texts("x between (1 .. 10)"), ["x", "between", "(", "1", "..", "10", ")"]);
        assert_eq!(texts("@'a''b' ```x\ny```"), ["@'a''b'", "```x\ny```"]);
    }
}
