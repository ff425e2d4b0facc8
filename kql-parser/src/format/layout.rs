//! The layout: decides, between every two tokens, whether to write nothing, one space, or a
//! line break and how far to indent, and writes the tokens themselves unchanged.
//!
//! Rules (documented for users in `docs/fmt.md`):
//! - statements (`let`, `set`, the query) start at the left of their block, one per line, a
//!   `;` ends the line; at most one blank line is kept wherever the source had blank lines;
//! - every `|` of a pipeline starts a line: at the statement's indentation for a query, four
//!   further in for a `let`; a parenthesised subquery (`join (...)`, `union (...)`,
//!   `toscalar(...)`) opens with `(` at the end of the line, its pipeline four further in, and
//!   closes with `)` at the indentation of the line that opened it; function bodies `{ ... }`
//!   likewise;
//! - line breaks the source has inside an operator are kept (a `,` that starts a line moves to
//!   the end of the line before; a `|` that ends a line moves to the start of the next) and
//!   continuation lines are indented four past their operator or at their bracket's content;
//!   after a `,` a line that would pass [`WIDTH`] columns is broken;
//! - one space around comparison, arithmetic and assignment operators and after `,` and `:`;
//!   none inside brackets; operator options (`kind=inner`, `hint.strategy=shuffle`), `.`,
//!   `..`, `*` (a wildcard or a product) and unary signs keep the spacing they had;
//! - comments stay where they were: at the end of their line, or on their own line indented as
//!   the code after them; trailing whitespace is removed and the text ends with one line break.

use super::token::{Kind, Token};

/// Lines longer than this are broken after a `,` where possible.
pub const WIDTH: usize = 100;

/// Indentation step.
const STEP: usize = 4;

/// Operator options written `name=value` (kept as written).
const OPTIONS: &[&str] =
    &["kind", "withsource", "isfuzzy", "bagexpansion", "with_itemindex", "flags", "datascope", "with_source"];

/// Words after which a `-` or `+` is a sign rather than a binary operator.
const NOT_OPERANDS: &[&str] = &[
    "and",
    "or",
    "not",
    "by",
    "where",
    "print",
    "extend",
    "project",
    "on",
    "in",
    "has",
    "between",
    "return",
    "let",
    "summarize",
    "take",
    "limit",
    "top",
    "step",
    "from",
    "to",
    "with",
    "range",
    "set",
    "if",
    "then",
    "else",
    "when",
    "case",
    "asc",
    "desc",
    "contains",
    "startswith",
    "endswith",
    "matches",
    "regex",
    "sort",
    "order",
    "default",
];

/// Comparison, arithmetic and other binary operators that get one space on each side.
const SPACED: &[&str] = &["==", "!=", "<>", "<=", ">=", "=~", "!~", "<", ">", "/", "%", "=>"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    /// The whole text or a `{ ... }` body: holds statements.
    Statements,
    /// Parentheses or brackets.
    Group,
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    /// Index of the closing token, if any.
    close: Option<usize>,
    /// Indentation of the line the opening token was on.
    open_indent: usize,
    /// Indentation of the frame's content.
    content: usize,
    /// The group holds a pipeline (`|` directly inside it).
    has_pipe: bool,
    /// A statement (or the group's content) has begun.
    started: bool,
    /// The current statement is a `let`.
    is_let: bool,
    /// Indentation of the line the current operator (or statement) started on.
    item: usize,
}

impl Frame {
    fn pipe_indent(&self) -> usize {
        match self.kind {
            FrameKind::Statements if self.is_let => self.content + STEP,
            _ => self.content,
        }
    }
    fn holds_pipeline(&self) -> bool {
        self.kind == FrameKind::Statements || self.has_pipe
    }
    fn continuation(&self) -> usize {
        if self.holds_pipeline() {
            self.item + STEP
        } else {
            self.content
        }
    }
}

/// Structure found before layout: matching brackets and which open a block or a pipeline.
struct Structure {
    /// For each token, the index of its matching close (on openers).
    close_of: Vec<Option<usize>>,
    /// For each opener, whether it opens a `{}` block of statements.
    block: Vec<bool>,
    /// For each opener, whether a `|` sits directly inside.
    has_pipe: Vec<bool>,
}

fn analyse(toks: &[Token]) -> Structure {
    let n = toks.len();
    let mut close_of = vec![None; n];
    let mut block = vec![false; n];
    let mut has_pipe = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut prev_code: Option<&Token> = None;
    for (i, t) in toks.iter().enumerate() {
        if t.kind == Kind::Punct {
            match t.text {
                "(" | "[" => stack.push(i),
                "{" => {
                    block[i] = prev_code.is_some_and(|p| p.is(")") || p.is("]") || p.is("="));
                    stack.push(i)
                }
                ")" | "]" | "}" => {
                    let want = match t.text {
                        ")" => "(",
                        "]" => "[",
                        _ => "{",
                    };
                    if stack.last().is_some_and(|&o| toks[o].text == want) {
                        let o = stack.pop().unwrap_or_default();
                        close_of[o] = Some(i);
                    }
                }
                "|" => {
                    if let Some(&o) = stack.last() {
                        has_pipe[o] = true;
                    }
                }
                _ => {}
            }
        }
        if t.kind != Kind::Comment {
            prev_code = Some(t);
        }
    }
    Structure { close_of, block, has_pipe }
}

/// Lay out `toks` (the final gap is the whitespace after the last token, ignored).
pub fn layout(toks: &[Token]) -> String {
    let st = analyse(toks);
    let mut out = String::new();
    let mut frames = vec![Frame {
        kind: FrameKind::Statements,
        close: None,
        open_indent: 0,
        content: 0,
        has_pipe: false,
        started: false,
        is_let: false,
        item: 0,
    }];
    let mut line_indent = 0usize;
    let mut line_start = 0usize; // byte offset in `out` of the current line
                                 // a line break carried over a `,` or `;` that started a line: (blank lines before it)
    let mut carried: Option<usize> = None;
    // for each `=`/sign, whether it is written with spaces
    let spaced_op: Vec<bool> = (0..toks.len())
        .map(|i| (toks[i].is("=") || toks[i].is("-") || toks[i].is("+")) && op_is_spaced(toks, i))
        .collect();
    // how many frames were open where the current line started
    let mut line_depth = 1usize;
    for (i, t) in toks.iter().enumerate() {
        let prev = if i > 0 { Some(&toks[i - 1]) } else { None };
        let frame = frames.last().expect("the outer frame is never popped");
        let closes_frame = frame.close == Some(i);
        let is_pipe = t.is("|") && frame.holds_pipeline() && frame.started;

        // --- line break or not
        let mut newline = false;
        let mut blank = t.gap.newlines >= 2;
        if let Some(b) = carried.take() {
            newline = true;
            blank |= b >= 2;
        }
        if let Some(p) = prev {
            let prev_frame_opened = frame.close.is_some() && p.kind == Kind::Punct && matches!(p.text, "(" | "[" | "{");
            if p.kind == Kind::Comment {
                newline = true;
            } else if t.gap.newlines > 0 {
                let moves_up = t.kind == Kind::Punct && matches!(t.text, "," | ";");
                let after_pipe = p.is("|") && t.kind != Kind::Comment;
                // a function body's `{` stays on the line of its parameters
                let body_brace = t.is("{") && st.block[i] && p.kind != Kind::Comment;
                if moves_up {
                    carried = Some(t.gap.newlines);
                } else if !after_pipe && !body_brace {
                    newline = true;
                }
            }
            if is_pipe || (closes_frame && frame.kind == FrameKind::Statements) {
                newline = true;
            }
            if closes_frame && frame.has_pipe && !prev_frame_opened {
                newline = true;
            }
            if prev_frame_opened && (frame.kind == FrameKind::Statements || frame.has_pipe) && !closes_frame {
                let trailing_comment = t.kind == Kind::Comment && t.gap.newlines == 0;
                if !trailing_comment {
                    newline = true;
                }
            }
            if p.is(";") && frame.kind == FrameKind::Statements {
                let trailing_comment = t.kind == Kind::Comment && t.gap.newlines == 0;
                if !trailing_comment {
                    newline = true;
                }
            }
        } else {
            blank = false;
        }
        if carried.is_some() {
            // this `,`/`;` moves up to the line before; the break goes after it
            newline = false;
        }
        if newline && prev.is_some_and(|p| p.kind == Kind::Punct && matches!(p.text, "(" | "[" | "{")) {
            blank = false;
        }
        if newline && closes_frame {
            blank = false;
        }

        // --- width: break after a `,` when the next item does not fit
        if !newline && prev.is_some_and(|p| p.is(",")) && t.kind != Kind::Comment && frames.len() <= line_depth + 1 {
            let col = out[line_start..].chars().count();
            let need = item_width(toks, i, &spaced_op);
            if col + 1 + need > WIDTH && col > line_indent + 1 {
                newline = true;
                blank = false;
            }
        }

        if newline {
            // trailing spaces
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
            if blank {
                out.push('\n');
            }
            let indent = if closes_frame {
                frame.open_indent
            } else if t.kind == Kind::Comment {
                comment_indent(toks, i, frame)
            } else if is_pipe {
                frame.pipe_indent()
            } else if !frame.started {
                frame.content
            } else {
                frame.continuation()
            };
            line_start = out.len();
            line_indent = indent;
            line_depth = frames.len();
            for _ in 0..indent {
                out.push(' ');
            }
        } else if prev.is_some() {
            let sp = space_between(toks, i, &spaced_op);
            if sp {
                out.push(' ');
            }
        }
        if newline || prev.is_none() {
            let frame = frames.last_mut().expect("outer frame");
            if is_pipe || !frame.started {
                frame.item = line_indent;
            }
        }

        // --- write the token
        out.push_str(t.text);
        if let Some(n) = t.text.rfind('\n') {
            // a multi-line string: the line now is its last line
            line_start = out.len() - (t.text.len() - n - 1);
            line_indent = 0;
        }

        // --- update frames
        let frame = frames.last_mut().expect("outer frame");
        if t.kind != Kind::Comment && !closes_frame {
            if !frame.started && frame.kind == FrameKind::Statements {
                frame.is_let = t.kind == Kind::Word && t.text == "let";
            }
            frame.started = true;
        }
        if t.is(";") && frame.kind == FrameKind::Statements {
            frame.started = false;
            frame.is_let = false;
        }
        if closes_frame && frames.len() > 1 {
            frames.pop();
        } else if t.kind == Kind::Punct && matches!(t.text, "(" | "[" | "{") {
            if let Some(close) = st.close_of[i] {
                let kind = if st.block[i] { FrameKind::Statements } else { FrameKind::Group };
                let content = line_indent + STEP;
                frames.push(Frame {
                    kind,
                    close: Some(close),
                    open_indent: line_indent,
                    content,
                    has_pipe: st.has_pipe[i],
                    started: false,
                    is_let: false,
                    item: content,
                });
            }
        }
    }
    while out.ends_with([' ', '\n']) {
        out.pop();
    }
    out.push('\n');
    out
}

/// The indentation of a comment on its own line: that of the code after it.
fn comment_indent(toks: &[Token], i: usize, frame: &Frame) -> usize {
    let next = toks[i..].iter().position(|t| t.kind != Kind::Comment).map(|k| i + k);
    match next {
        Some(j) if frame.close == Some(j) => frame.content,
        Some(j) if toks[j].is("|") && frame.holds_pipeline() && frame.started => frame.pipe_indent(),
        _ if !frame.started => frame.content,
        Some(_) => frame.continuation(),
        None => frame.content,
    }
}

/// Width of the item starting at token `i`: up to the next `,` or `|` at its level or the close
/// of its group, written on one line.
fn item_width(toks: &[Token], i: usize, spaced_op: &[bool]) -> usize {
    let mut depth = 0i32;
    let mut w = 0;
    for (k, t) in toks[i..].iter().enumerate() {
        if t.kind == Kind::Punct {
            match t.text {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth -= 1;
                    if depth < 0 {
                        return w + 1;
                    }
                }
                "," | ";" | "|" if depth == 0 => return w + 1,
                _ => {}
            }
        }
        if t.kind == Kind::Comment {
            return w;
        }
        if k > 0 {
            if t.gap.newlines > 0 {
                return w;
            }
            if space_between(toks, i + k, spaced_op) {
                w += 1;
            }
        }
        w += t.text.chars().count();
        if w > WIDTH {
            return w;
        }
    }
    w
}

fn is_operand(t: &Token) -> bool {
    match t.kind {
        Kind::Number | Kind::Str | Kind::Raw => true,
        Kind::Word => !NOT_OPERANDS.contains(&t.text),
        Kind::Punct => matches!(t.text, ")" | "]"),
        Kind::Comment => false,
    }
}

/// Whether the `=`, `-` or `+` at `i` is written with one space on each side (otherwise it
/// keeps the spacing it had).
fn op_is_spaced(toks: &[Token], i: usize) -> bool {
    let t = &toks[i];
    let Some(p) = i.checked_sub(1).map(|k| &toks[k]) else { return false };
    let after = toks.get(i + 1).map(|n| n.gap).unwrap_or_default();
    if t.is("=") {
        let option = (p.kind == Kind::Word && OPTIONS.contains(&p.text)) || (i >= 2 && toks[i - 2].is("."));
        return !option;
    }
    // a sign, an operator written with spacing on one side only, or a graph edge `-[e]->`
    // keeps its spacing
    let edge = toks.get(i + 1).is_some_and(|n| n.is("[") && !n.gap.space);
    !edge && is_operand(p) && t.gap.space == after.space && after.newlines == 0
}

/// Whether to write one space between token `i - 1` and token `i` (on the same line).
fn space_between(toks: &[Token], i: usize, spaced_op: &[bool]) -> bool {
    let p = &toks[i - 1];
    let t = &toks[i];
    let orig = t.gap.space;
    let punct = |x: &Token, s: &[&str]| x.kind == Kind::Punct && s.contains(&x.text);
    if t.kind == Kind::Comment {
        return true;
    }
    if punct(p, &["(", "[", "{"]) || punct(t, &[")", "]", "}"]) {
        return false;
    }
    if punct(t, &[",", ";", ":"]) {
        return false;
    }
    if punct(p, &[",", ":", ";", "|"]) || t.is("|") {
        return true;
    }
    if punct(p, &[".", ".."]) || punct(t, &[".", ".."]) || p.is("*") || t.is("*") {
        return orig;
    }
    if t.is("=") || t.is("-") || t.is("+") {
        return if op_is_spaced(toks, i) { true } else { orig };
    }
    if p.is("=") || p.is("-") || p.is("+") {
        return if spaced_op[i - 1] { true } else { orig };
    }
    if punct(t, SPACED) || punct(p, SPACED) {
        return true;
    }
    if t.is("(") && p.kind == Kind::Word && i >= 2 && in_expression(&toks[i - 2], spaced_op[i - 2]) {
        // a function call: `tostring (x)` is `tostring(x)`
        return false;
    }
    if punct(t, &["(", "["]) {
        return orig;
    }
    let wordish = |x: &Token| matches!(x.kind, Kind::Word | Kind::Number | Kind::Str | Kind::Raw);
    if (wordish(p) || punct(p, &[")", "]", "}"])) && wordish(t) {
        return true;
    }
    orig
}

/// Whether a name after token `p` is in expression position, where `name (` can only be a
/// call: after an opening bracket, a `,`, an assignment or a binary operator (not after a
/// keyword such as `by`, where `by Col (take 1)` is a column and a subquery).
fn in_expression(p: &Token, spaced_assignment: bool) -> bool {
    p.kind == Kind::Punct
        && (matches!(p.text, "(" | "[" | "," | "+" | "-" | "*")
            || SPACED.contains(&p.text)
            || (p.text == "=" && spaced_assignment))
}
