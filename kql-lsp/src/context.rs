//! Where the cursor is in a query: the name being typed, the token before it, the operator of
//! the pipeline segment it is in, and the columns in scope there: the binder's output schema of
//! the pipeline before that operator (so columns made by earlier `extend`s and `summarize`s are
//! in it), with the `let` statements before it.

use crate::tokens::{Tok, Token};
use kql_exec::binder::Col;
use kql_exec::Session;

/// The cursor's place in a query.
#[derive(Debug, Clone, Default)]
pub struct Place {
    /// The byte range of the name under or just before the cursor (empty at the cursor when none).
    pub word: (usize, usize),
    /// The index of the last token before the word (comments skipped), if any.
    pub prev: Option<usize>,
    /// The byte offset of the `|` that starts the cursor's operator, if any.
    pub pipe: Option<usize>,
    /// The byte offset where the cursor's pipeline starts (after a `(`, `{`, `;` or `let x =`).
    pub start: usize,
    /// The byte offset where the cursor's top-level statement starts.
    pub stmt_start: usize,
    /// The operator after `pipe` (`where`, `summarize`...), or the source operator (`union`...).
    pub operator: Option<String>,
    /// True when the cursor is inside a string or a comment.
    pub in_literal: bool,
}

/// Find the cursor's place at byte `offset` of `text` (tokens from [`crate::tokens::tokenize`]).
pub fn place(text: &str, tokens: &[Token], offset: usize) -> Place {
    let mut p = Place { word: (offset, offset), ..Default::default() };
    // the token under the cursor
    let mut n = tokens
        .iter()
        .position(|t| t.end >= offset && t.start < offset)
        .or_else(|| tokens.iter().position(|t| t.start >= offset))
        .unwrap_or(tokens.len());
    if let Some(t) = tokens.get(n) {
        if t.start < offset && t.end >= offset {
            match t.kind {
                Tok::Ident => p.word = (t.start, t.end.max(offset)),
                Tok::Str | Tok::Comment if offset < t.end || !closed(t, text) => p.in_literal = true,
                _ if t.end == offset => n += 1,
                _ => {}
            }
        }
    }
    let before = &tokens[..n.min(tokens.len())];
    p.prev = before.iter().rposition(|t| t.kind != Tok::Comment);
    // top-level statement start
    let mut depth = 0i32;
    for t in before {
        match t.text(text) {
            "(" | "[" | "{" if t.kind == Tok::Punct => depth += 1,
            ")" | "]" | "}" if t.kind == Tok::Punct => depth -= 1,
            ";" if t.kind == Tok::Punct && depth <= 0 => {
                p.stmt_start = t.end;
                depth = 0;
            }
            _ => {}
        }
    }
    // back to the start of the pipeline, noting the last `|`
    let mut depth = 0i32;
    p.start = p.stmt_start;
    let mut first_after = None;
    for (i, t) in before.iter().enumerate().rev() {
        if t.kind != Tok::Punct {
            if t.kind == Tok::Ident && depth == 0 {
                first_after = Some(i);
            }
            continue;
        }
        match t.text(text) {
            ")" | "]" | "}" => depth += 1,
            "(" | "[" | "{" => {
                if depth == 0 {
                    p.start = t.end;
                    break;
                }
                depth -= 1;
            }
            "|" if depth == 0 && p.pipe.is_none() => {
                p.pipe = Some(t.start);
                p.operator = first_after.map(|i| before[i].text(text).to_string());
            }
            ";" if depth == 0 => {
                p.start = t.end;
                break;
            }
            "=" if depth == 0 && i >= 2 && before[i - 2].kind == Tok::Ident && before[i - 2].text(text) == "let" => {
                p.start = t.end;
                break;
            }
            _ => {}
        }
    }
    if p.pipe.is_none() {
        // a source operator (`union`, `print`, `search`...)
        p.operator = before
            .iter()
            .find(|t| t.start >= p.start && t.kind == Tok::Ident)
            .map(|t| t.text(text).to_string())
            .filter(|o| matches!(o.as_str(), "union" | "print" | "search" | "find" | "range" | "evaluate"));
    }
    p
}

fn closed(t: &Token, text: &str) -> bool {
    let s = t.text(text);
    match t.kind {
        Tok::Comment => false,
        _ => s.len() >= 2 && s.chars().last() == s.chars().find(|c| *c == '"' || *c == '\'' || *c == '`' || *c == '~'),
    }
}

/// The query text whose result is the input of the cursor's operator: the statements before
/// the cursor's statement, then its pipeline up to the `|` (`None` outside an operator).
pub fn input_text(text: &str, p: &Place) -> Option<String> {
    let pipe = p.pipe?;
    let lets = text.get(..p.stmt_start.min(p.start))?;
    let lets = if lets.trim_end().is_empty() || lets.trim_end().ends_with(';') {
        lets.to_string()
    } else {
        format!("{lets};")
    };
    Some(format!("{lets}\n{}", text.get(p.start..pipe)?))
}

/// The query text whose result is the output of the cursor's operator (up to the next `|` or
/// the end of its pipeline).
pub fn output_text(text: &str, tokens: &[Token], p: &Place) -> Option<String> {
    let mut depth = 0i32;
    let mut end = text.len();
    for t in tokens.iter().filter(|t| t.start >= p.word.1 && t.kind == Tok::Punct) {
        match t.text(text) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" if depth == 0 => {
                end = t.start;
                break;
            }
            ")" | "]" | "}" => depth -= 1,
            "|" | ";" if depth == 0 => {
                end = t.start;
                break;
            }
            _ => {}
        }
    }
    let lets = text.get(..p.stmt_start.min(p.start))?;
    let lets = if lets.trim_end().is_empty() || lets.trim_end().ends_with(';') {
        lets.to_string()
    } else {
        format!("{lets};")
    };
    Some(format!("{lets}\n{}", text.get(p.start..end)?))
}

/// The result columns of a query text checked with `session` (empty when it does not parse).
pub fn columns_of(session: &Session, text: &str) -> Vec<Col> {
    let (script, _) = kql_parser::parse_recovering(text);
    match script {
        Some(s) if s.query().is_some() => session.check_script(&s).cols,
        _ => vec![],
    }
}

/// The `let` names defined before byte `offset` (by their tokens: works while the text does
/// not parse), with the byte offset of each name.
pub fn let_names_before(text: &str, tokens: &[Token], offset: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for w in tokens.windows(2) {
        if w[1].end <= offset && w[0].kind == Tok::Ident && w[0].text(text) == "let" && w[1].kind == Tok::Ident {
            out.push((w[1].text(text).to_string(), w[1].start));
        }
    }
    out
}

/// Where column `name` of the cursor's input comes from: the operator before the cursor that
/// assigns it (`extend`, `summarize`, `project`...), or the pipeline's source table.
pub fn column_origin(text: &str, tokens: &[Token], p: &Place, name: &str) -> Option<String> {
    let pipe = p.pipe?;
    let span: Vec<&Token> = tokens.iter().filter(|t| t.start >= p.start && t.end <= pipe).collect();
    let mut op: Option<&str> = None;
    let mut found = None;
    for (i, t) in span.iter().enumerate() {
        if i > 0 && span[i - 1].is_punct(text, "|") && t.kind == Tok::Ident {
            op = Some(t.text(text));
        }
        if t.kind == Tok::Ident && t.text(text) == name && span.get(i + 1).is_some_and(|n| n.is_punct(text, "=")) {
            if let Some(o) = op {
                let line = text[..t.start].matches('\n').count() + 1;
                found = Some(format!("made by `{o}` on line {line} of the query"));
            }
        }
    }
    found.or_else(|| {
        span.first()
            .filter(|t| t.kind == Tok::Ident && span.get(1).is_none_or(|n| n.is_punct(text, "|")))
            .map(|t| format!("a column of `{}`", t.text(text)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::tokenize;

    fn at(text: &str) -> (String, Place) {
        let offset = text.find('^').unwrap();
        let text = text.replacen('^', "", 1);
        let p = place(&text, &tokenize(&text), offset);
        (text, p)
    }

    #[test]
    fn finds_the_operator_and_its_input() {
        let (t, p) = at("let x = 1;\nT | extend a = 1 | where a^");
        assert_eq!(p.operator.as_deref(), Some("where"));
        assert_eq!(&t[p.word.0..p.word.1], "a");
        assert_eq!(input_text(&t, &p).unwrap(), "let x = 1;\n\nT | extend a = 1 ");
        let (t, p) = at("T | join kind=inner (U | summarize by ^) on a");
        assert_eq!(p.operator.as_deref(), Some("summarize"));
        assert_eq!(input_text(&t, &p).unwrap(), "\nU ");
        let (t, p) = at("let q = T | project ^");
        assert_eq!(input_text(&t, &p).unwrap(), "\n T ");
        let (_, p) = at("T | where s == \"ab^c\"");
        assert!(p.in_literal);
        let (t, p) = at("T | join kind=^");
        let toks = tokenize(&t);
        assert_eq!(toks[p.prev.unwrap()].text(&t), "=");
        assert_eq!(p.operator.as_deref(), Some("join"));
    }
}
