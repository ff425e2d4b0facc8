//! Document formatting with `kql fmt`'s formatter ([`kql_parser::format_query`]): the server
//! announces the `formatting` capability and answers `textDocument/formatting` with one edit
//! replacing the query (the whole `.kql` file, or the `query:` block of a rule YAML, re-indented
//! to the block's indentation). A query that does not parse, or that the formatter will not
//! change safely, gets no edit.

use crate::documents::{DocKind, Document};
use lsp_types::{Range, TextEdit};

/// A formatter: a query's text to its canonical layout, or why it cannot be formatted.
pub type Formatter = fn(&str) -> Result<String, String>;

/// The formatter the server uses (`None` would turn the capability off).
pub const FORMATTER: Option<Formatter> = Some(kql_fmt);

/// `kql fmt`'s layout of a query.
fn kql_fmt(text: &str) -> Result<String, String> {
    kql_parser::format_query(text).map_err(|e| e.to_string())
}

/// The edits that format `doc` with `format`: the query replaced by its formatted text.
pub fn format_document(doc: &Document, format: Formatter) -> Result<Vec<TextEdit>, String> {
    let q = doc.query().map_err(|(_, _, m)| m)?;
    let formatted = format(&q.text)?;
    if formatted == q.text {
        return Ok(vec![]);
    }
    let new_text = match doc.kind {
        DocKind::Kql => formatted,
        DocKind::Yaml => {
            let indent = " ".repeat(q.col_offset as usize);
            formatted
                .lines()
                .map(|l| if l.is_empty() { String::new() } else { format!("{indent}{l}") })
                .collect::<Vec<_>>()
                .join("\n")
                .trim_start()
                .to_string()
        }
    };
    // the whole `.kql` file; in YAML, the block's text up to its last non-blank character
    let end = match doc.kind {
        DocKind::Kql => q.text.len(),
        DocKind::Yaml => q.text.trim_end().len(),
    };
    let range = Range::new(q.position(0), q.position(end));
    let new_text = if doc.kind == DocKind::Yaml { new_text.trim_end().to_string() } else { new_text };
    Ok(vec![TextEdit { range, new_text }])
}
