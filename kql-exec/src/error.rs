//! Errors of analysis, planning and execution, with Kusto's codes and source spans.

use kql_parser::{Span, SyntaxError};
use std::fmt;

/// An error reported against the query text.
#[derive(Debug, Clone, PartialEq)]
pub struct KqlError {
    /// A diagnostic code: Kusto's where one exists (`KS142` unknown name, `KS204` unknown
    /// table, `KS211` unknown function...), `KQL...` for this engine's own.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Where, when known.
    pub span: Option<Span>,
    /// How to fix it, when we can tell.
    pub help: Option<String>,
    /// When the error is inside a stored function (a parser loaded with `--functions`): where in
    /// that function's file; `span` is then the user's call that reached it.
    pub origin: Option<Box<ErrorOrigin>>,
}

/// Where in a stored function's own file an error is (see [`KqlError::origin`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorOrigin {
    /// The function's file, as the user named it.
    pub path: String,
    /// The file's text.
    pub text: std::sync::Arc<str>,
    /// The place in `text`.
    pub span: Span,
    /// The function's name.
    pub function: String,
}

impl KqlError {
    /// An error with a code and message at a span.
    pub fn new(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        KqlError { code, message: message.into(), span: Some(span), help: None, origin: None }
    }

    /// An error without a position.
    pub fn general(code: &'static str, message: impl Into<String>) -> Self {
        KqlError { code, message: message.into(), span: None, help: None, origin: None }
    }

    /// Add a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Render like rustc against the query text. An error inside a stored function is shown in
    /// the function's file, followed by the user's call that reached it (as rustc shows an error
    /// inside a macro, then "in this macro invocation").
    pub fn render(&self, path: &str, text: &str) -> String {
        self.render_with("error", path, text, 1)
    }

    /// Render as [`KqlError::render`] does, as an error or a warning (`severity`), against a
    /// text whose first line is line `first_line` of the file `path` (a query read out of a
    /// YAML rule), so the lines shown are the file's.
    pub fn render_with(&self, severity: &str, path: &str, text: &str, first_line: usize) -> String {
        self.render_in_file(severity, path, text, first_line, 0)
    }

    /// Render as [`KqlError::render_with`] does, for a query whose lines sit `indent` columns
    /// in from the file's left edge (a YAML block scalar): lines and columns are the file's.
    pub fn render_in_file(&self, severity: &str, path: &str, text: &str, first_line: usize, indent: usize) -> String {
        self.diagnostic(severity, path, text, first_line, indent, |d| d.render())
    }

    /// Render as [`KqlError::render_in_file`] does, with terminal colours.
    pub fn render_in_file_styled(
        &self,
        severity: &str,
        path: &str,
        text: &str,
        first_line: usize,
        indent: usize,
    ) -> String {
        self.diagnostic(severity, path, text, first_line, indent, |d| d.render_styled())
    }

    fn diagnostic(
        &self,
        severity: &str,
        path: &str,
        text: &str,
        first_line: usize,
        indent: usize,
        render: impl Fn(&kql_parser::Diagnostic) -> String,
    ) -> String {
        use kql_parser::{Diagnostic, Place};
        let mut d = Diagnostic::new(severity, self.code, &self.message);
        let call_note;
        if let Some(o) = &self.origin {
            d = d.at(Place::new(&o.path, &o.text, o.span));
            if let Some(call) = self.span {
                call_note = format!("in this call of `{}`", o.function);
                d = d.note_at(call_note.as_str(), Place::in_file(path, text, call, first_line, indent));
            }
        } else if let Some(span) = self.span {
            d = d.at(Place::in_file(path, text, span, first_line, indent));
        } else {
            d = d.in_file(path);
        }
        if let Some(h) = &self.help {
            d = d.help(h.as_str());
        }
        render(&d)
    }
}

impl fmt::Display for KqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)?;
        if let Some(h) = &self.help {
            write!(f, " (help: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for KqlError {}

impl From<SyntaxError> for KqlError {
    fn from(e: SyntaxError) -> Self {
        KqlError { code: e.code, message: e.message, span: Some(e.span), help: None, origin: None }
    }
}

impl From<kql_lint::Finding> for KqlError {
    fn from(f: kql_lint::Finding) -> Self {
        KqlError { code: f.code, message: f.message, span: Some(f.span), help: f.help, origin: None }
    }
}

impl From<datafusion::error::DataFusionError> for KqlError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        // an error of ours raised inside execution (a strict load in a streamed scan, ...)
        if let Some(k) = find_kql_error(&e) {
            return k;
        }
        let msg = e.to_string();
        if msg.contains("Resources exhausted") {
            return KqlError::general("KQL900", memory_message(&msg))
                .with_help("raise --memory-limit, or filter earlier in the query");
        }
        if msg.contains("offset overflow") {
            // Arrow's text and list arrays address at most 2 GB per batch: a huge value
            // broadcast to every row of a batch (a `repeat(x, 1000000)` constant) passes it
            return KqlError::general(
                "KQL904",
                "a column's values passed 2 GB in one batch of rows (a huge constant repeated on every row, \
                 or a `repeat`, `range`, `strrep` or `make_*` of huge arrays or strings?)",
            )
            .with_help("bound the counts and lengths these functions get, or filter the rows first");
        }
        if msg.contains("panicked") {
            return KqlError::general("KQL998", format!("internal error while running the query: {msg}")).with_help(
                "this is a bug in kql: please report it with the query (set KQL_EXPLAIN=1 to see the plans)",
            );
        }
        KqlError::general("KQL999", format!("execution failed: {msg}"))
    }
}

/// KQL900's message from DataFusion's "Resources exhausted" error: which operator of the query
/// wanted how much more, and the limit (DataFusion's own advice names its config keys, which
/// mean nothing to a KQL user; the raw text is kept when it cannot be read).
fn memory_message(msg: &str) -> String {
    let between = |from: &str, to: &str| -> Option<&str> {
        let start = msg.rfind(from)? + from.len();
        let len = msg[start..].find(to)?;
        Some(msg[start..start + len].trim())
    };
    let (Some(amount), Some(op), Some(pool)) = (
        between("Failed to allocate additional ", " for "),
        between("Failed to allocate additional ", " with ").and_then(|s| s.split(" for ").nth(1)),
        between("pool_size: ", ")"),
    ) else {
        return format!("the query ran out of its memory limit: {msg}");
    };
    let op = op.split('[').next().unwrap_or(op);
    let what = match op {
        o if o.starts_with("HashJoin") || o.starts_with("SMJ") || o.contains("Join") => "a join",
        o if o.contains("Sort") => "a sort (order by, top, a sort-merge join or a window)",
        o if o.contains("Aggregate") || o.contains("GroupedHash") => "an aggregation (summarize, distinct)",
        o if o.contains("Repartition") => "a shuffle between threads",
        _ => "an operator",
    };
    format!("the query ran out of its memory limit ({pool}): {what} ({op}) needed {amount} more")
}

/// A [`KqlError`] wrapped in a DataFusion error (as `External`, possibly inside context or
/// shared wrappers).
fn find_kql_error(e: &datafusion::error::DataFusionError) -> Option<KqlError> {
    use datafusion::error::DataFusionError as E;
    match e {
        E::External(inner) => inner.downcast_ref::<KqlError>().cloned(),
        E::Context(_, inner) => find_kql_error(inner),
        E::Shared(inner) => find_kql_error(inner),
        E::ArrowError(inner, _) => match inner.as_ref() {
            datafusion::arrow::error::ArrowError::ExternalError(x) => x.downcast_ref::<KqlError>().cloned(),
            _ => None,
        },
        _ => None,
    }
}

/// Shorthand result type.
pub type Result<T, E = KqlError> = std::result::Result<T, E>;
