//! Syntax errors: where, what was expected, and rustc-style rendering.

use crate::span::Span;
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
        Diagnostic::new("error", self.code, &self.message).at(Place::new(path, text, self.span)).render()
    }
}

/// One place in one file that a diagnostic points at.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The file, as shown to the user.
    pub path: &'a str,
    /// The text the span is in (a whole file, or a query read out of one).
    pub text: &'a str,
    /// Where in `text`.
    pub span: Span,
    /// The line of the file that `text`'s first line is (1 for a whole file; more for a query
    /// read out of a YAML rule), so the line numbers shown are the file's.
    pub first_line: usize,
    /// How many columns in from the file's left edge `text`'s lines sit (a YAML block's
    /// indentation), so the column shown is the file's.
    pub indent: usize,
}

impl<'a> Place<'a> {
    /// A place in a whole file (or a text that is not in a file).
    pub fn new(path: &'a str, text: &'a str, span: Span) -> Self {
        Place { path, text, span, first_line: 1, indent: 0 }
    }

    /// A place in a text read out of a file: its first line is line `first_line` of the file and
    /// its lines sit `indent` columns in (a YAML block scalar).
    pub fn in_file(path: &'a str, text: &'a str, span: Span, first_line: usize, indent: usize) -> Self {
        Place { path, text, span, first_line, indent }
    }
}

/// A diagnostic to render as rustc does (`error[KS142]: ...`, the source line, a caret under
/// the span), drawn by `annotate-snippets`: long lines are cut around the span, tabs and wide
/// characters line up, help lines follow, and notes can point into other files (an error
/// inside a stored function: the function's line, then the user's call).
#[derive(Debug, Clone)]
pub struct Diagnostic<'a> {
    severity: &'a str,
    code: &'a str,
    message: &'a str,
    place: Option<Place<'a>>,
    file: Option<&'a str>,
    label: Option<String>,
    helps: Vec<String>,
    notes: Vec<(String, Place<'a>)>,
}

impl<'a> Diagnostic<'a> {
    /// A diagnostic of `severity` (`"error"` or `"warning"`) with a code and a message.
    pub fn new(severity: &'a str, code: &'a str, message: &'a str) -> Self {
        Diagnostic {
            severity,
            code,
            message,
            place: None,
            file: None,
            label: None,
            helps: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Where it is.
    pub fn at(mut self, place: Place<'a>) -> Self {
        self.place = Some(place);
        self
    }

    /// The file it is about, when there is no place in it to show (`--> path` alone).
    pub fn in_file(mut self, path: &'a str) -> Self {
        self.file = Some(path);
        self
    }

    /// A label written beside the caret.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// A `= help:` line (a "did you mean", a fix).
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.helps.push(help.into());
        self
    }

    /// A note pointing at a second place, possibly in another file.
    pub fn note_at(mut self, note: impl Into<String>, place: Place<'a>) -> Self {
        self.notes.push((note.into(), place));
        self
    }

    /// Render as plain text (no colours), ending with a line break.
    pub fn render(&self) -> String {
        self.render_with(false)
    }

    /// Render with terminal colours (ANSI escapes) as rustc does, for a terminal.
    pub fn render_styled(&self) -> String {
        self.render_with(true)
    }

    fn render_with(&self, styled: bool) -> String {
        use annotate_snippets::{AnnotationKind, Element, Group, Level, Origin, Renderer, Snippet};
        let level = if self.severity == "warning" { Level::WARNING } else { Level::ERROR };
        let title = level.primary_title(self.message).id(self.code);
        let mut elements: Vec<Element> = Vec::new();
        if let Some(p) = &self.place {
            let (text, range) = clamp(p.text, p.span);
            let mut ann = AnnotationKind::Primary.span(range);
            if let Some(l) = &self.label {
                ann = ann.label(l.as_str());
            }
            elements.push(Snippet::source(text).path(p.path).line_start(p.first_line).annotation(ann).into());
        } else if let Some(f) = self.file.filter(|f| !f.is_empty()) {
            elements.push(Origin::path(f).into());
        }
        elements.extend(self.helps.iter().map(|h| Element::from(Level::HELP.message(h.as_str()))));
        let mut report = vec![Group::with_title(title).elements(elements)];
        for (note, p) in &self.notes {
            let (text, range) = clamp(p.text, p.span);
            report.push(
                Group::with_title(Level::NOTE.secondary_title(note.as_str())).element(
                    Snippet::source(text)
                        .path(p.path)
                        .line_start(p.first_line)
                        .annotation(AnnotationKind::Primary.span(range)),
                ),
            );
        }
        let renderer = if styled { Renderer::styled() } else { Renderer::plain() };
        let mut out = renderer.render(&report);
        // the columns of the ` --> path:line:col` headers, in the order of their places
        let places = self.place.iter().chain(self.notes.iter().map(|(_, p)| p));
        let mut from = 0;
        for p in places {
            let Some(at) = out[from..].find("--> ").map(|k| from + k) else { break };
            let end = out[at..].find('\n').map_or(out.len(), |k| at + k);
            from = end;
            if p.indent == 0 {
                continue;
            }
            let header = &out[at..end];
            if let Some(colon) = header.rfind(':') {
                let digits = header[colon + 1..].bytes().take_while(u8::is_ascii_digit).count();
                if let Ok(col) = header[colon + 1..colon + 1 + digits].parse::<usize>() {
                    let shifted = format!("{}{}", &header[..colon + 1], col + p.indent);
                    out.replace_range(at..at + colon + 1 + digits, &shifted);
                    from = at + shifted.len();
                }
            }
        }
        out.push('\n');
        out
    }
}

/// The span made safe for rendering: inside the text, on character boundaries, and on one line
/// (the renderer shows the first line of a multi-line span).
fn clamp(text: &str, span: Span) -> (&str, std::ops::Range<usize>) {
    let floor = |mut n: usize| {
        n = n.min(text.len());
        while !text.is_char_boundary(n) {
            n -= 1;
        }
        n
    };
    let start = floor(span.start);
    let line_end = text[start..].find('\n').map(|k| start + k).unwrap_or(text.len());
    let end = floor(span.end.max(start)).min(line_end);
    (text, start..end)
}

/// A note under a diagnostic, pointing at a second place (possibly in another file), rendered
/// on its own: see [`Diagnostic::note_at`] to render it with its diagnostic.
pub fn render_note(label: &str, path: &str, text: &str, span: Span) -> String {
    let (text, range) = clamp(text, span);
    use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
    let report = [Group::with_title(Level::NOTE.secondary_title(label))
        .element(Snippet::source(text).path(path).annotation(AnnotationKind::Primary.span(range)))];
    let mut out = Renderer::plain().render(&report);
    out.push('\n');
    out
}

/// Render a diagnostic in rustc's style with the source line, a caret underline and an
/// optional help line (see [`Diagnostic`] for more: labels, several helps, notes in other files).
pub fn render_diagnostic(
    severity: &str,
    code: &str,
    message: &str,
    path: &str,
    text: &str,
    span: Span,
    help: Option<&str>,
) -> String {
    let mut d = Diagnostic::new(severity, code, message).at(Place::new(path, text, span));
    if let Some(h) = help {
        d = d.help(h);
    }
    d.render()
}
