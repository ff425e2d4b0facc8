//! A forgiving lexer for editor features: the tokens of a query text as it stands while being
//! typed (unterminated strings, half-written operators). The parser reads whole statements and
//! stops at the first error; completion, hover and highlighting need every token before and
//! around the cursor, which this gives without failing on any text.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// A name or keyword (operator names with hyphens, `project-away`, are one token).
    Ident,
    /// A number or timespan literal (`10`, `1.5`, `1h`, `0x1F`).
    Number,
    /// A string literal (any quoting, possibly unterminated).
    Str,
    /// A `//` comment.
    Comment,
    /// Punctuation and operators (`|`, `==`, `(`, ...).
    Punct,
}

/// A token: its kind and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Token {
    /// Its text in `src`.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start..self.end).unwrap_or("")
    }

    /// True for punctuation `p`.
    pub fn is_punct(&self, src: &str, p: &str) -> bool {
        self.kind == Tok::Punct && self.text(src) == p
    }
}

/// Operator names written with hyphens (lexed as one token).
pub const HYPHENATED: &[&str] = &[
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "mv-expand",
    "mv-apply",
    "parse-where",
    "parse-kv",
    "make-series",
    "make-graph",
    "top-nested",
    "top-hitters",
    "sample-distinct",
    "graph-to-table",
    "graph-match",
    "graph-shortest-paths",
    "graph-mark-components",
    "execute-and-cache",
];

const MULTI: &[&str] = &["-->", "<--", "!==", "==", "!=", "<=", ">=", "=~", "!~", "..", "=>", "->", "<|", "--"];

/// True for characters of names.
pub fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The tokens of `src` (comments included), in order. Never fails.
pub fn tokenize(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = src[i..].chars().next().unwrap_or(' ');
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let kind = if src[i..].starts_with("//") {
            i += src[i..].find('\n').unwrap_or(src.len() - i);
            Tok::Comment
        } else if src[i..].starts_with("```") || src[i..].starts_with("~~~") {
            let fence = &src[i..i + 3];
            i += 3;
            i += src[i..].find(fence).map(|n| n + 3).unwrap_or(src.len() - i);
            Tok::Str
        } else if c == '"' || c == '\'' || ((c == '@' || c == 'h' || c == 'H') && quote_follows(b, i)) {
            let verbatim = c == '@' || (b.get(i + 1) == Some(&b'@'));
            while i < b.len() && b[i] != b'"' && b[i] != b'\'' {
                i += 1;
            }
            let q = b.get(i).copied().unwrap_or(b'"');
            i += 1;
            while i < b.len() {
                match b[i] {
                    b'\n' => break,
                    b'\\' if !verbatim => i += 2,
                    x if x == q => {
                        if verbatim && b.get(i + 1) == Some(&q) {
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    _ => i += 1,
                }
            }
            i = i.min(b.len());
            Tok::Str
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                // `1..5`: the range operator ends the number
                if b[i] == b'.' && b.get(i + 1) == Some(&b'.') {
                    break;
                }
                i += 1;
            }
            Tok::Number
        } else if is_ident_char(c) || c == '$' {
            i += c.len_utf8();
            while let Some(d) = src[i..].chars().next() {
                if !is_ident_char(d) {
                    break;
                }
                i += d.len_utf8();
            }
            // `project-away`: one token
            if let Some(h) = HYPHENATED.iter().find(|h| src[start..].starts_with(**h)) {
                let end = start + h.len();
                if !src[end..].chars().next().is_some_and(is_ident_char) {
                    i = end;
                }
            }
            Tok::Ident
        } else {
            match MULTI.iter().find(|m| src[i..].starts_with(**m)) {
                Some(m) => i += m.len(),
                None => i += c.len_utf8(),
            }
            Tok::Punct
        };
        // `i` may land inside a character after an escape at the end of a string
        while i < src.len() && !src.is_char_boundary(i) {
            i += 1;
        }
        out.push(Token { kind, start, end: i.min(src.len()) });
    }
    out
}

/// True when a string starts at `i` with a one-letter prefix (`@"..."`, `h'...'`, `h@'...'`).
fn quote_follows(b: &[u8], i: usize) -> bool {
    let next = b.get(i + 1).copied();
    match b[i] {
        b'@' => matches!(next, Some(b'"' | b'\'')),
        _ => {
            let prev_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
            !prev_ident
                && (matches!(next, Some(b'"' | b'\''))
                    || (next == Some(b'@') && matches!(b.get(i + 2), Some(b'"' | b'\''))))
        }
    }
}

/// The index of the token that contains byte `offset` or ends at it (a name being typed).
pub fn token_at(tokens: &[Token], offset: usize) -> Option<usize> {
    tokens
        .iter()
        .position(|t| t.start <= offset && offset <= t.end && t.kind == Tok::Ident)
        .or_else(|| tokens.iter().position(|t| t.start <= offset && offset < t.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Tok, &str)> {
        tokenize(src).iter().map(|t| (t.kind, t.text(src))).collect()
    }

    #[test]
    fn lexes_operators_strings_and_comments() {
        let src = "T | project-away a // c\n| where b == @'x''y' and c !~ h\"z\" | mv-expand d - e";
        let k = kinds(src);
        assert!(k.contains(&(Tok::Ident, "project-away")));
        assert!(k.contains(&(Tok::Comment, "// c")));
        assert!(k.contains(&(Tok::Str, "@'x''y'")));
        assert!(k.contains(&(Tok::Str, "h\"z\"")));
        assert!(k.contains(&(Tok::Punct, "!~")));
        assert!(k.contains(&(Tok::Ident, "mv-expand")));
        assert!(k.contains(&(Tok::Ident, "d")) && k.contains(&(Tok::Ident, "e")));
    }

    #[test]
    fn never_fails_on_broken_text() {
        for src in ["\"abc", "'\\", "```x", "1..5", "é\"\\é", "h", "@", "a-", "x\u{feff}"] {
            let toks = tokenize(src);
            for t in &toks {
                assert!(src.is_char_boundary(t.start) && src.is_char_boundary(t.end), "{src:?}");
            }
        }
        assert_eq!(kinds("1..5"), [(Tok::Number, "1"), (Tok::Punct, ".."), (Tok::Number, "5")]);
    }
}
