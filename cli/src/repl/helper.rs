//! The line editor's helper: when Enter runs the input, completion, highlighting and hints.

use super::State;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// A token of the simple lexer used for highlighting and for finding the shape of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// A name or keyword (hyphenated operator names included).
    Word,
    /// A number literal (with a timespan suffix, if any).
    Number,
    /// A string literal; `open` when it is not closed yet.
    Str {
        /// Not closed.
        open: bool,
    },
    /// `// ...`
    Comment,
    /// One punctuation character.
    Punct(char),
    /// Spaces and newlines.
    Space,
}

/// A token: its kind and byte range.
#[derive(Debug, Clone, Copy)]
pub struct Tok {
    /// Kind.
    pub kind: TokKind,
    /// Start (bytes).
    pub start: usize,
    /// End (bytes).
    pub end: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Split KQL text into tokens (enough of KQL for colors and brackets).
pub fn lex(s: &str) -> Vec<Tok> {
    let b: Vec<(usize, char)> = s.char_indices().collect();
    let n = b.len();
    let at = |i: usize| if i < n { b[i].0 } else { s.len() };
    let mut toks = Vec::new();
    let mut i = 0;
    while i < n {
        let (start, c) = b[i];
        let next = if i + 1 < n { Some(b[i + 1].1) } else { None };
        let kind;
        if c.is_whitespace() {
            while i < n && b[i].1.is_whitespace() {
                i += 1;
            }
            kind = TokKind::Space;
        } else if c == '/' && next == Some('/') {
            while i < n && b[i].1 != '\n' {
                i += 1;
            }
            kind = TokKind::Comment;
        } else if c == '`' && s[start..].starts_with("```") {
            i += 3;
            let mut open = true;
            while i < n {
                if s[at(i)..].starts_with("```") {
                    i += 3;
                    open = false;
                    break;
                }
                i += 1;
            }
            kind = TokKind::Str { open };
        } else if c == '"' || c == '\'' || ((c == '@' || c == 'h' || c == 'H') && matches!(next, Some('"' | '\''))) {
            let verbatim = c == '@';
            if c != '"' && c != '\'' {
                i += 1;
            }
            let q = b[i].1;
            i += 1;
            let mut open = true;
            while i < n {
                let ch = b[i].1;
                if ch == '\\' && !verbatim {
                    i += 2;
                    continue;
                }
                i += 1;
                if ch == q {
                    if verbatim && i < n && b[i].1 == q {
                        i += 1;
                        continue;
                    }
                    open = false;
                    break;
                }
                if ch == '\n' {
                    break;
                }
            }
            i = i.min(n);
            kind = TokKind::Str { open };
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|d| d.is_ascii_digit())) {
            while i < n && (b[i].1.is_ascii_alphanumeric() || b[i].1 == '.') {
                i += 1;
            }
            kind = TokKind::Number;
        } else if is_word_char(c) || c == '$' {
            while i < n
                && (is_word_char(b[i].1)
                    || b[i].1 == '$'
                    || (b[i].1 == '-'
                        && i + 1 < n
                        && b[i + 1].1.is_alphabetic()
                        && is_operator_prefix(&s[start..at(i)])))
            {
                i += 1;
            }
            kind = TokKind::Word;
        } else {
            i += 1;
            kind = TokKind::Punct(c);
        }
        toks.push(Tok { kind, start, end: at(i) });
    }
    toks
}

/// `project` in `project-away`: words that take a hyphenated suffix.
fn is_operator_prefix(w: &str) -> bool {
    matches!(w, "project" | "mv" | "top" | "make" | "parse" | "partition" | "evaluate" | "as")
        || kql_parser::ops::OPERATOR_KEYWORDS.iter().any(|k| k.starts_with(&format!("{w}-")))
}

/// Words shown as keywords besides the operators.
const KEYWORDS: &[&str] = &[
    "by",
    "and",
    "or",
    "not",
    "let",
    "with",
    "on",
    "kind",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "true",
    "false",
    "in",
    "has",
    "contains",
    "startswith",
    "endswith",
    "matches",
    "regex",
    "between",
    "to",
    "step",
    "from",
    "of",
    "set",
    "declare",
    "query_parameters",
    "materialize",
    "toscalar",
    "inner",
    "leftouter",
    "rightouter",
    "fullouter",
    "leftanti",
    "rightanti",
    "leftsemi",
    "rightsemi",
    "innerunique",
    "typeof",
    "dynamic",
    "datetime",
    "timespan",
    "bool",
    "int",
    "long",
    "real",
    "string",
    "guid",
    "decimal",
    "null",
    "like",
    "has_any",
    "has_all",
    "hasprefix",
    "hassuffix",
    "withsource",
    "isfuzzy",
    "bin",
    "over",
    "default",
];

/// Statements that end with `;` and are followed by more of the query.
const STATEMENT_WORDS: &[&str] = &["let", "set", "declare", "alias", "pattern", "restrict"];

/// Whether Enter runs the input: brackets and strings closed, the last line not ending with
/// `|`, and a trailing `;` not ending a `let`; an empty last line always runs it.
pub fn is_complete(input: &str) -> bool {
    let t = input.trim_end_matches([' ', '\t']);
    if t.trim().is_empty() || t.trim_start().starts_with('.') {
        return true;
    }
    if t.ends_with('\n') {
        // Enter on an empty line
        return true;
    }
    let toks = lex(input);
    let mut depth = 0i32;
    for tk in &toks {
        match tk.kind {
            TokKind::Punct('(' | '[' | '{') => depth += 1,
            TokKind::Punct(')' | ']' | '}') => depth -= 1,
            TokKind::Str { open: true } => return false,
            _ => {}
        }
    }
    if depth > 0 {
        return false;
    }
    let significant: Vec<&Tok> = toks.iter().filter(|t| !matches!(t.kind, TokKind::Space | TokKind::Comment)).collect();
    match significant.last() {
        Some(t) if t.kind == TokKind::Punct('|') => false,
        Some(t) if t.kind == TokKind::Punct(';') => {
            // the statement this `;` ends
            let before = &significant[..significant.len() - 1];
            let start = before.iter().rposition(|t| t.kind == TokKind::Punct(';')).map(|p| p + 1).unwrap_or(0);
            let first = before.get(start).map(|t| &input[t.start..t.end]).unwrap_or("");
            !STATEMENT_WORDS.contains(&first)
        }
        _ => true,
    }
}

/// What is being completed at the cursor.
#[derive(Debug, PartialEq)]
pub enum Want {
    /// A table (or function) at the start of a pipeline.
    Source,
    /// An operator name after `|`.
    Operator,
    /// A column (or function) inside an operator; the text that binds the input.
    Column(String),
    /// A function (no columns in scope).
    Function,
    /// Nothing (inside a string or comment, after `.`).
    Nothing,
}

/// Decide what the word ending at `pos` should complete to; returns the word's start too.
pub fn context(line: &str, pos: usize) -> (usize, Want) {
    let prefix = &line[..pos];
    let toks = lex(prefix);
    // the word being typed
    let mut start = pos;
    if let Some(t) = toks.last() {
        match t.kind {
            TokKind::Word if t.end == pos => start = t.start,
            TokKind::Str { .. } | TokKind::Comment if t.end == pos => return (pos, Want::Nothing),
            TokKind::Number if t.end == pos => return (pos, Want::Nothing),
            _ => {}
        }
    }
    let before: Vec<&Tok> =
        toks.iter().filter(|t| t.end <= start && !matches!(t.kind, TokKind::Space | TokKind::Comment)).collect();
    if let Some(t) = before.last() {
        if t.kind == TokKind::Punct('.') && t.end == start {
            return (start, Want::Nothing);
        }
    }
    // walk the tokens: bracket frames, each with its last pipe
    struct Frame {
        start: usize,
        pipe: Option<usize>,
        call: bool,
        first: bool,
    }
    let mut frames = vec![Frame { start: 0, pipe: None, call: false, first: true }];
    let mut stmt_start = 0usize;
    let mut prev_word = false;
    for t in &before {
        match t.kind {
            TokKind::Punct('(' | '[' | '{') => {
                if let Some(f) = frames.last_mut() {
                    f.first = false;
                }
                frames.push(Frame { start: t.end, pipe: None, call: prev_word, first: true });
            }
            TokKind::Punct(')' | ']' | '}') if frames.len() > 1 => {
                frames.pop();
            }
            TokKind::Punct(';') if frames.len() == 1 => {
                stmt_start = t.end;
                frames[0] = Frame { start: t.end, pipe: None, call: false, first: true };
            }
            TokKind::Punct('|') => {
                if let Some(f) = frames.last_mut() {
                    f.pipe = Some(t.start);
                    f.first = false;
                }
            }
            _ => {
                if let Some(f) = frames.last_mut() {
                    f.first = false;
                }
            }
        }
        prev_word = t.kind == TokKind::Word;
    }
    if before.last().map(|t| t.kind) == Some(TokKind::Punct('|')) {
        return (start, Want::Operator);
    }
    if let Some(f) = frames.iter().rev().find(|f| f.pipe.is_some()) {
        let p = f.pipe.unwrap_or(0);
        let text = if f.start <= stmt_start {
            line[..p].to_string()
        } else {
            format!("{}{}", &line[..stmt_start], &line[f.start..p])
        };
        return (start, Want::Column(text));
    }
    let top = frames.last().expect("base frame");
    if top.first && !top.call {
        (start, Want::Source)
    } else {
        (start, Want::Function)
    }
}

/// The rustyline helper.
pub struct KqlHelper {
    pub(super) state: Rc<RefCell<State>>,
    files: FilenameCompleter,
    hinter: HistoryHinter,
}

impl KqlHelper {
    pub(super) fn new(state: Rc<RefCell<State>>) -> Self {
        KqlHelper { state, files: FilenameCompleter::new(), hinter: HistoryHinter::new() }
    }
}

impl Helper for KqlHelper {}

fn quote_name(n: &str) -> String {
    let plain = n.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') && n.chars().all(is_word_char);
    if plain {
        n.to_string()
    } else {
        format!("['{}']", n.replace('\'', "\\'"))
    }
}

fn matches_prefix(cand: &str, word: &str) -> bool {
    cand.len() >= word.len() && cand.get(..word.len()).is_some_and(|p| p.eq_ignore_ascii_case(word))
}

/// Dot-commands and their argument help (shown by completion and `.help`).
pub const DOT_COMMANDS: &[(&str, &str, &str)] = &[
    (".help", "", "this help"),
    (".tables", "", "loaded tables, with row and column counts"),
    (".schema", "TABLE", "the columns of a table"),
    (".load", "PATH [as NAME]", "load a file or folder as table(s)"),
    (".set", "now ISO|wall | timeout SECS|off", "the time now() is, or a query timeout"),
    (".format", "table|csv|json|jsonl", "how results print"),
    (".output", "[FILE]", "write results to FILE (no FILE: back to the terminal)"),
    (".rows", "N", "print at most N rows of a table"),
    (".timing", "on|off", "show how long queries take"),
    (".chart", "[DIR]", "where charts of `render` are written"),
    (".functions", "[PREFIX]", "stored and built-in functions"),
    (".quit", "", "leave (or Ctrl-D)"),
];

impl Completer for KqlHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let trimmed = line.trim_start();
        if trimmed.starts_with('.') {
            let indent = line.len() - trimmed.len();
            let Some(sp) = trimmed.find(' ') else {
                let word = &line[indent..pos];
                let c = DOT_COMMANDS
                    .iter()
                    .filter(|(n, ..)| n.starts_with(word))
                    .map(|(n, ..)| Pair { display: n.to_string(), replacement: format!("{n} ") })
                    .collect();
                return Ok((indent, c));
            };
            let cmd = &trimmed[..sp];
            match cmd {
                ".load" | ".output" => return self.files.complete(line, pos, ctx),
                ".schema" => {
                    let (start, _) = context(line, pos);
                    let word = &line[start..pos];
                    let st = self.state.borrow();
                    let c = st
                        .table_names()
                        .into_iter()
                        .filter(|n| matches_prefix(n, word))
                        .map(|n| Pair { display: n.clone(), replacement: n })
                        .collect();
                    return Ok((start, c));
                }
                _ => return Ok((pos, vec![])),
            }
        }
        let (start, want) = context(line, pos);
        let word = &line[start..pos];
        let st = self.state.borrow();
        let mut out: Vec<Pair> = Vec::new();
        let mut push = |display: String, replacement: String| {
            if matches_prefix(&display, word) && !out.iter().any(|p| p.display == display) {
                out.push(Pair { display, replacement });
            }
        };
        let functions = |push: &mut dyn FnMut(String, String)| {
            for f in st.function_names() {
                push(format!("{f}()"), format!("{f}("));
            }
        };
        match want {
            Want::Nothing => {}
            Want::Operator => {
                for k in kql_parser::ops::OPERATOR_KEYWORDS {
                    push(k.to_string(), format!("{k} "));
                }
            }
            Want::Source => {
                for t in st.table_names() {
                    push(t.clone(), quote_name(&t));
                }
                for k in ["let", "print", "range", "datatable", "union", "search", "find", "evaluate", "set"] {
                    push(k.to_string(), format!("{k} "));
                }
                functions(&mut push);
            }
            Want::Column(text) => {
                for c in st.columns_of(&text, Duration::from_secs(3)) {
                    push(c.clone(), quote_name(&c));
                }
                functions(&mut push);
                for k in KEYWORDS {
                    push(k.to_string(), format!("{k} "));
                }
            }
            Want::Function => functions(&mut push),
        }
        // exact-case matches first, keeping the order within each group
        out.sort_by_key(|p| !p.display.starts_with(word));
        Ok((start, out))
    }
}

impl Hinter for KqlHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        if line.trim_start().starts_with('.') && !line.contains(' ') && pos == line.len() && line.len() > 1 {
            let (name, args, _) = DOT_COMMANDS.iter().find(|(n, ..)| n.starts_with(line.trim_start()))?;
            let rest = &name[line.trim_start().len()..];
            return Some(if args.is_empty() { rest.to_string() } else { format!("{rest} {args}") });
        }
        self.hinter.hint(line, pos, ctx)
    }
}

const RESET: &str = "\x1b[0m";

fn word_color(w: &str, next_is_paren: bool) -> Option<&'static str> {
    if kql_parser::ops::OPERATOR_KEYWORDS.contains(&w) {
        Some("\x1b[1;34m")
    } else if next_is_paren {
        Some("\x1b[36m")
    } else if KEYWORDS.contains(&w) {
        Some("\x1b[34m")
    } else {
        None
    }
}

/// KQL with terminal colors: keywords, functions, strings, numbers, comments.
pub fn highlight_kql(line: &str) -> String {
    if line.trim_start().starts_with('.') {
        return format!("\x1b[35m{line}{RESET}");
    }
    let toks = lex(line);
    let mut s = String::with_capacity(line.len() + 32);
    for (i, t) in toks.iter().enumerate() {
        let text = &line[t.start..t.end];
        let color = match t.kind {
            TokKind::Word => {
                let next_paren = toks[i + 1..]
                    .iter()
                    .find(|t| t.kind != TokKind::Space)
                    .is_some_and(|t| t.kind == TokKind::Punct('('));
                word_color(text, next_paren)
            }
            TokKind::Number => Some("\x1b[33m"),
            TokKind::Str { .. } => Some("\x1b[32m"),
            TokKind::Comment => Some("\x1b[90m"),
            TokKind::Punct('|') => Some("\x1b[1m"),
            _ => None,
        };
        match color {
            Some(c) => {
                s.push_str(c);
                s.push_str(text);
                s.push_str(RESET);
            }
            None => s.push_str(text),
        }
    }
    s
}

impl Highlighter for KqlHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.state.borrow().color {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight_kql(line))
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if !self.state.borrow().color {
            return Cow::Borrowed(hint);
        }
        Cow::Owned(format!("\x1b[90m{hint}{RESET}"))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.state.borrow().color
    }
}

impl Validator for KqlHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_complete(ctx.input()) { ValidationResult::Valid(None) } else { ValidationResult::Incomplete })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_runs_or_continues() {
        assert!(is_complete("T | take 3"));
        assert!(!is_complete("T |"));
        assert!(!is_complete("T | where x in ("));
        assert!(!is_complete("print 'abc"));
        assert!(!is_complete("let x = 5;"));
        assert!(is_complete("T | take 3;"));
        assert!(is_complete("T |\n"));
        assert!(is_complete(".tables"));
        assert!(is_complete("let x = 5;\nprint x"));
        assert!(!is_complete("T\n| where a == 'x' |"));
    }

    #[test]
    fn completion_context() {
        let (s, w) = context("ContainerLogV2 | where Log", 26);
        assert_eq!(s, 23);
        assert_eq!(w, Want::Column("ContainerLogV2 ".into()));
        let (_, w) = context("ContainerLogV2 | ", 17);
        assert_eq!(w, Want::Operator);
        let (s, w) = context("Cont", 4);
        assert_eq!((s, w), (0, Want::Source));
        let l = "let x = 5; T | extend y = 1 | summarize count() by bin(Ti";
        let (_, w) = context(l, l.len());
        assert_eq!(w, Want::Column("let x = 5; T | extend y = 1 ".into()));
        let l = "T | where a in ((U | where b == 1 | project c)) | where ";
        let (_, w) = context(l, l.len());
        assert_eq!(w, Want::Column("T | where a in ((U | where b == 1 | project c)) ".into()));
        let l = "T | where x.ab";
        assert_eq!(context(l, l.len()).1, Want::Nothing);
        let l = "print strl";
        assert_eq!(context(l, l.len()).1, Want::Function);
    }

    #[test]
    fn lexes_hyphenated_operators_and_strings() {
        let t = lex("T | project-away a, 'x|y'");
        let words: Vec<&str> = t
            .iter()
            .filter(|t| t.kind == TokKind::Word)
            .map(|t| &"T | project-away a, 'x|y'"[t.start..t.end])
            .collect();
        assert_eq!(words, vec!["T", "project-away", "a"]);
        assert!(t.iter().any(|t| t.kind == TokKind::Str { open: false }));
    }
}
