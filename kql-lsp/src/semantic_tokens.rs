//! Semantic tokens: keywords and operators, functions, `let` names and parameters, strings,
//! numbers, comments and type names of a query, in the file's positions (a token across lines,
//! such as a multi-line string, is cut at each line end, for clients without multi-line tokens).

use crate::scopes::DefKind;
use crate::tokens::{Tok, HYPHENATED};
use crate::workspace::Analysis;
use lsp_types::{SemanticToken, SemanticTokenType, SemanticTokensLegend};

/// The token types, in the order of their indices in the legend.
pub const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::PARAMETER,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::TYPE,
];

/// The legend the server announces.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend { token_types: TYPES.to_vec(), token_modifiers: vec![] }
}

const KEYWORDS: &[&str] = &[
    "let",
    "by",
    "on",
    "kind",
    "with",
    "and",
    "or",
    "not",
    "in",
    "between",
    "has",
    "contains",
    "startswith",
    "endswith",
    "matches",
    "regex",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "true",
    "false",
    "view",
    "of",
    "to",
    "step",
    "from",
    "declare",
    "set",
    "typeof",
    "has_any",
    "has_all",
    "hasprefix",
    "hassuffix",
    "like",
    "as",
];

const TYPES_NAMES: &[&str] = &[
    "string", "long", "int", "real", "double", "bool", "boolean", "datetime", "date", "timespan", "time", "guid",
    "uniqueid", "dynamic", "decimal",
];

fn index(t: SemanticTokenType) -> u32 {
    TYPES.iter().position(|x| *x == t).unwrap_or(0) as u32
}

/// The semantic tokens of a document's query (delta-encoded, as LSP sends them).
pub fn tokens(a: &Analysis) -> Vec<SemanticToken> {
    let Ok(q) = &a.query else { return vec![] };
    let text = &q.text;
    let mut raw: Vec<(usize, usize, u32)> = Vec::new();
    for (i, t) in a.tokens.iter().enumerate() {
        let s = t.text(text);
        let prev = i.checked_sub(1).map(|p| a.tokens[p].text(text)).unwrap_or("");
        let next = a.tokens.get(i + 1).map(|n| n.text(text)).unwrap_or("");
        let ty = match t.kind {
            Tok::Comment => SemanticTokenType::COMMENT,
            Tok::Str => SemanticTokenType::STRING,
            Tok::Number => SemanticTokenType::NUMBER,
            Tok::Punct if s == "|" => SemanticTokenType::OPERATOR,
            Tok::Punct => continue,
            Tok::Ident => {
                if prev == "|" || HYPHENATED.contains(&s) || KEYWORDS.contains(&s) {
                    SemanticTokenType::KEYWORD
                } else if prev == ":" && TYPES_NAMES.contains(&s) {
                    SemanticTokenType::TYPE
                } else if let Some(d) = a.scopes.definition_at(t.start) {
                    match a.scopes.defs[d].kind {
                        DefKind::Param => SemanticTokenType::PARAMETER,
                        DefKind::Function => SemanticTokenType::FUNCTION,
                        DefKind::Let => SemanticTokenType::VARIABLE,
                    }
                } else if next == "(" {
                    SemanticTokenType::FUNCTION
                } else {
                    continue;
                }
            }
        };
        raw.push((t.start, t.end, index(ty)));
    }
    // cut at line ends, then encode as deltas of file positions
    let mut out = Vec::new();
    let (mut last_line, mut last_col) = (0u32, 0u32);
    for (start, end, ty) in raw {
        let mut s = start;
        while s < end {
            let line_end = text[s..end].find('\n').map(|n| s + n).unwrap_or(end);
            let piece_end =
                if line_end > s && text.as_bytes()[line_end - 1] == b'\r' { line_end - 1 } else { line_end };
            if piece_end > s {
                let p = q.position(s);
                let e = q.position(piece_end);
                let length = e.character.saturating_sub(p.character);
                let delta_line = p.line - last_line;
                let delta_start = if delta_line == 0 { p.character - last_col } else { p.character };
                out.push(SemanticToken { delta_line, delta_start, length, token_type: ty, token_modifiers_bitset: 0 });
                (last_line, last_col) = (p.line, p.character);
            }
            s = line_end + 1;
        }
    }
    out
}
