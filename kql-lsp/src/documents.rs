//! Open documents and positions: the text of each document the editor has open (kept in step
//! with its full and incremental changes), the query inside it (a `.kql` file is its query; a
//! Sentinel rule YAML holds it under `query:`), and the mapping between LSP positions (line and
//! UTF-16 column of the file) and byte offsets of the query.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Url};

/// Byte offsets of line starts of one text, for conversions to and from LSP positions.
#[derive(Debug, Clone)]
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    /// Index the lines of `text`.
    pub fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    /// The number of lines (a text ending in a newline has an empty last line).
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True for no lines (never: an empty text has one empty line).
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The byte range of 0-based `line` without its line terminator.
    pub fn line_range(&self, text: &str, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line)?;
        let end = self.starts.get(line + 1).map(|n| n - 1).unwrap_or(text.len());
        let end = if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') { end - 1 } else { end };
        Some((start, end.max(start)))
    }

    /// 0-based line and UTF-16 column of byte `offset` (clamped to the text, and back to a
    /// character boundary).
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l - 1,
        };
        let col: usize = text[self.starts[line]..offset].chars().map(char::len_utf16).sum();
        (line as u32, col as u32)
    }

    /// The byte offset of 0-based `line` and UTF-16 `col`; a column past the line's end is its
    /// end, a line past the text's end is the text's end.
    pub fn offset(&self, text: &str, line: u32, col: u32) -> usize {
        let Some((start, end)) = self.line_range(text, line as usize) else { return text.len() };
        let mut units = 0usize;
        for (i, c) in text[start..end].char_indices() {
            // a column inside a character (half of a surrogate pair) is the character's start
            if units + c.len_utf16() > col as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }
}

/// What kind of file a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// A `.kql` (or `.csl`) file: the whole text is the query.
    Kql,
    /// A Sentinel rule (or hunting query, parser) YAML: the query is under `query:`.
    Yaml,
}

impl DocKind {
    /// The kind of a document from its URI and language id.
    pub fn of(uri: &Url, language_id: &str) -> DocKind {
        let path = uri.path().to_ascii_lowercase();
        if language_id == "yaml" || path.ends_with(".yaml") || path.ends_with(".yml") {
            DocKind::Yaml
        } else {
            DocKind::Kql
        }
    }
}

/// The query of a document and where it sits in the file.
#[derive(Debug, Clone)]
pub struct QueryText {
    /// The query text.
    pub text: String,
    /// Its lines.
    pub lines: Lines,
    /// The file line of the query's first line.
    pub line_offset: u32,
    /// Columns added to every query line in the file (the block's indentation).
    pub col_offset: u32,
}

impl QueryText {
    /// A query at `line_offset`, indented by `col_offset`.
    pub fn new(text: String, line_offset: u32, col_offset: u32) -> QueryText {
        let lines = Lines::new(&text);
        QueryText { text, lines, line_offset, col_offset }
    }

    /// The file position of query byte `offset`.
    pub fn position(&self, offset: usize) -> Position {
        let (line, col) = self.lines.position(&self.text, offset);
        Position::new(line + self.line_offset, col + self.col_offset)
    }

    /// The file range of a query byte range.
    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end.max(start)))
    }

    /// The query byte offset of a file position; `None` outside the query's lines.
    pub fn offset(&self, pos: Position) -> Option<usize> {
        let line = pos.line.checked_sub(self.line_offset)?;
        if line as usize >= self.lines.len() {
            return None;
        }
        Some(self.lines.offset(&self.text, line, pos.character.saturating_sub(self.col_offset)))
    }
}

/// An open document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Its URI.
    pub uri: Url,
    /// What kind of file it is.
    pub kind: DocKind,
    /// The editor's version.
    pub version: i32,
    /// The whole text of the file.
    pub text: String,
}

impl Document {
    /// A document opened with `text`.
    pub fn new(uri: Url, kind: DocKind, version: i32, text: String) -> Document {
        Document { uri, kind, version, text }
    }

    /// Apply the editor's changes (full texts, or ranges in UTF-16 positions) in order.
    pub fn apply_changes(&mut self, version: i32, changes: Vec<TextDocumentContentChangeEvent>) {
        for c in changes {
            match c.range {
                None => self.text = c.text,
                Some(r) => {
                    let lines = Lines::new(&self.text);
                    let start = lines.offset(&self.text, r.start.line, r.start.character);
                    let end = lines.offset(&self.text, r.end.line, r.end.character).max(start);
                    self.text.replace_range(start..end, &c.text);
                }
            }
        }
        self.version = version;
    }

    /// The file's path, for `file:` URIs.
    pub fn path(&self) -> Option<std::path::PathBuf> {
        self.uri.to_file_path().ok()
    }

    /// The query of the document, or why it cannot be read: a YAML error with its 0-based
    /// file line and column; an empty message for a YAML file without a `query` (a workflow, a
    /// test or pack file: not a rule, nothing to report).
    pub fn query(&self) -> Result<QueryText, (u32, u32, String)> {
        match self.kind {
            DocKind::Kql => {
                // a byte-order mark is not text (editors do not count it in positions)
                let text = self.text.strip_prefix('\u{feff}').unwrap_or(&self.text).to_string();
                Ok(QueryText::new(text, 0, 0))
            }
            DocKind::Yaml => {
                let path = self.path().unwrap_or_else(|| self.uri.path().into());
                match rule_pack::source::query_from_yaml(&path, &self.text) {
                    Ok(q) => Ok(QueryText::new(q.query, q.line_offset as u32, q.col_offset as u32)),
                    Err(rule_pack::source::SourceError::Yaml { line, col, message, .. })
                    | Err(rule_pack::source::SourceError::InvalidRule { line, col, message, .. }) => Err((
                        line.saturating_sub(1) as u32,
                        col.saturating_sub(1) as u32,
                        format!("invalid YAML: {message}"),
                    )),
                    Err(rule_pack::source::SourceError::NoQuery { .. }) => Err((0, 0, String::new())),
                    Err(e) => Err((0, 0, e.to_string())),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip() {
        let text = "let s = \"é😀x\";\nT | where a\r\n";
        let lines = Lines::new(text);
        let x = text.find('x').unwrap();
        // é is one UTF-16 unit, 😀 two
        assert_eq!(lines.position(text, x), (0, 12));
        assert_eq!(lines.offset(text, 0, 12), x);
        // inside a surrogate pair: the character's start
        assert_eq!(lines.offset(text, 0, 11), text.find('😀').unwrap());
        // past the end of a line: its end (before \r\n); past the last line: the text's end
        assert_eq!(lines.offset(text, 1, 99), text.find('\r').unwrap());
        assert_eq!(lines.offset(text, 9, 0), text.len());
        // an offset inside a character is moved back to its start
        assert_eq!(lines.position(text, x - 1), (0, 10));
    }

    #[test]
    fn incremental_changes() {
        let uri = Url::parse("file:///r.kql").unwrap();
        let mut d = Document::new(uri, DocKind::Kql, 1, "T\n| where x\n".into());
        let change = |l1, c1, l2, c2, t: &str| TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: t.into(),
        };
        d.apply_changes(2, vec![change(1, 8, 1, 9, "Name"), change(0, 0, 0, 1, "SigninLogs")]);
        assert_eq!(d.text, "SigninLogs\n| where Name\n");
        // ranges past the end are clamped, never a panic
        d.apply_changes(3, vec![change(7, 3, 2, 0, "!")]);
        assert_eq!(d.version, 3);
    }

    #[test]
    fn yaml_query_positions_map_into_the_file() {
        let text = "id: x\nquery: |\n  SigninLogs\n  | where Foo > 1\nseverity: Low\n";
        let uri = Url::parse("file:///r.yaml").unwrap();
        let d = Document::new(uri, DocKind::Yaml, 1, text.into());
        let q = d.query().unwrap();
        assert_eq!(q.text, "SigninLogs\n| where Foo > 1\n");
        let foo = q.text.find("Foo").unwrap();
        assert_eq!(q.position(foo), Position::new(3, 10));
        assert_eq!(q.offset(Position::new(3, 10)), Some(foo));
        assert_eq!(q.offset(Position::new(0, 0)), None);
    }
}
