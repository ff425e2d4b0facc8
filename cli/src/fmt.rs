//! `kql fmt`: rewrite `.kql` files and the `query:` blocks of Sentinel rule YAML (and the
//! `ParserQuery:`/`FunctionQuery:` blocks of parser and function YAML) in the
//! canonical layout of [`kql_parser::format_query`] (see `docs/fmt.md`).
//!
//! In YAML only the text of the query block changes: the lines of the `query: |` block scalar
//! are replaced by the formatted query at the block's indentation, and every other byte of the
//! file (other keys, comments, the block's header and chomping, the blank lines after it, line
//! endings) stays as it was. A query written inline or as a folded (`>`) scalar is reported
//! and left as it is, as are files whose query does not parse.

use clap::Args;
use kql_parser::{Diagnostic, FormatError, Place, SyntaxError};
use rule_pack::source::{collect_rule_files, first_document_with};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `kql fmt`.
#[derive(Args)]
pub struct FmtArgs {
    /// Files or directories (.kql, .yaml, .yml); directories are searched recursively.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Rewrite nothing: list the files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    check: bool,
}

/// What formatting one file came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Already formatted.
    Unchanged,
    /// The new text of the file.
    Changed(String),
    /// Nothing to format (a YAML file without a `query:`).
    NotAQuery,
    /// Left as it is, for the reason given (a query written inline or folded).
    Skipped(String),
    /// Left as it is: the query does not parse (the rendered syntax error).
    SyntaxError(String),
}

/// Run `kql fmt`: exit 0 when every file that parses is (now) formatted, 1 when `--check`
/// found files to format or the formatter could not vouch for a result, 2 on usage or I/O
/// errors. A file whose query does not parse is reported and left as it is without changing
/// the exit code (`kql check` is what fails on syntax errors).
pub fn run(args: FmtArgs) -> ExitCode {
    for p in &args.paths {
        if !p.exists() {
            eprintln!("error: {}: no such file or directory", p.display());
            return ExitCode::from(2);
        }
    }
    let files = match collect_rule_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut changed, mut failed, mut not_parsed, mut io_error) = (0usize, 0usize, 0usize, false);
    for path in &files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                io_error = true;
                continue;
            }
        };
        match format_file(path, &text) {
            Ok(Outcome::Changed(new)) => {
                changed += 1;
                if args.check {
                    println!("{}", path.display());
                } else if let Err(e) = std::fs::write(path, new) {
                    eprintln!("error: {}: {e}", path.display());
                    io_error = true;
                } else {
                    println!("formatted {}", path.display());
                }
            }
            Ok(Outcome::Unchanged | Outcome::NotAQuery) => {}
            Ok(Outcome::Skipped(why)) => eprintln!("warning: {}: {why}", path.display()),
            Ok(Outcome::SyntaxError(shown)) => {
                not_parsed += 1;
                eprint!("{shown}");
            }
            Err(e) => {
                failed += 1;
                eprint!("{e}");
            }
        }
    }
    let verb = if args.check { "would be reformatted" } else { "reformatted" };
    let left = failed + not_parsed;
    let errors = if left > 0 { " (errors above)" } else { "" };
    eprintln!("{} file(s): {changed} {verb}, {left} not formatted{errors}", files.len());
    if io_error {
        ExitCode::from(2)
    } else if failed > 0 || (args.check && changed > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Format one file's text: a whole `.kql` file, or the `query:` block of a YAML file. The
/// error is a rendered diagnostic, ready to print.
pub fn format_file(path: &Path, text: &str) -> Result<Outcome, String> {
    let display = path.display().to_string();
    let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    if !is_yaml {
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(b) => ("\u{feff}", b),
            None => ("", text),
        };
        let out = match format(&display, body)? {
            Ok(out) => out,
            Err(e) => return Ok(Outcome::SyntaxError(e.render(&display, body))),
        };
        let new = format!("{bom}{out}");
        return Ok(if new == text { Outcome::Unchanged } else { Outcome::Changed(new) });
    }
    for key in QUERY_KEYS {
        let Ok(doc) = first_document_with(path, text, key) else {
            return Ok(Outcome::NotAQuery);
        };
        let Some(query) = doc.get(*key).and_then(|q| q.as_str()) else { continue };
        let Some(block) = find_query_block(text, key) else {
            return Ok(Outcome::Skipped(format!("`{key}:` is not a `|` block scalar; it is left as it is")));
        };
        let decoded = block.decode(text);
        if decoded.trim_end() != query.trim_end() {
            return Err(format!(
                "error: {display}: could not locate the text of the `{key}:` block; it is left as it is\n"
            ));
        }
        let out = match format(&display, &decoded)? {
            Ok(out) => out,
            Err(e) => {
                // shown at the file's line and column: the block starts at `first_line`, each of
                // its lines indented by the block's indentation
                let first_line = text[..block.start].matches('\n').count() + 1;
                let place = Place::in_file(&display, &decoded, e.span, first_line, block.indent);
                let shown = Diagnostic::new("error", e.code, &e.message).at(place).render();
                return Ok(Outcome::SyntaxError(shown));
            }
        };
        let new = block.replace(text, &out);
        return Ok(if new == text { Outcome::Unchanged } else { Outcome::Changed(new) });
    }
    Ok(Outcome::NotAQuery)
}

/// The keys whose block holds a query: analytic rules and hunting queries, ASIM parsers,
/// solution functions.
const QUERY_KEYS: &[&str] = &["query", "ParserQuery", "FunctionQuery"];

/// Format `query`: `Ok(Err(error))` when it does not parse, `Err(message)` when the formatter
/// could not keep its meaning.
fn format(display: &str, query: &str) -> Result<Result<String, SyntaxError>, String> {
    match kql_parser::format_query(query) {
        Ok(out) => Ok(Ok(out)),
        Err(FormatError::Syntax(e)) => Ok(Err(e)),
        Err(e) => Err(format!("error: {display}: {e}\n")),
    }
}

/// The lines of a `query: |` block scalar in a YAML text.
#[derive(Debug)]
struct Block {
    /// Byte offset where the first content line starts.
    start: usize,
    /// Byte offset just past the last non-blank content line (before its line break).
    end: usize,
    /// The block's indentation in spaces.
    indent: usize,
    /// The line break the file uses.
    newline: &'static str,
}

impl Block {
    /// The query text: the content lines without their indentation.
    fn decode(&self, text: &str) -> String {
        let mut out = String::new();
        for line in text[self.start..self.end].split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            out.push_str(line.get(self.indent..).unwrap_or(""));
            out.push('\n');
        }
        out
    }

    /// `text` with the block's content replaced by `query` (which ends with a line break).
    fn replace(&self, text: &str, query: &str) -> String {
        let pad = " ".repeat(self.indent);
        let lines: Vec<String> = query
            .trim_end_matches('\n')
            .split('\n')
            .map(|l| if l.is_empty() { String::new() } else { format!("{pad}{l}") })
            .collect();
        format!("{}{}{}", &text[..self.start], lines.join(self.newline), &text[self.end..])
    }
}

/// Find the top-level `key:` with a literal block scalar (`|`, `|-`, `|+`, `|2`...).
fn find_query_block(text: &str, key: &str) -> Option<Block> {
    let prefix = format!("{key}:");
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n');
    for line in lines.by_ref() {
        offset += line.len();
        let Some(rest) = line.strip_prefix(prefix.as_str()) else { continue };
        let header = rest.split('#').next().unwrap_or("").trim();
        let indicators = header.strip_prefix('|')?;
        if !indicators.chars().all(|c| c == '-' || c == '+' || c.is_ascii_digit()) {
            return None;
        }
        let explicit: Option<usize> =
            indicators.chars().find(|c| c.is_ascii_digit()).and_then(|c| c.to_digit(10)).map(|d| d as usize);
        let newline = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
        // content lines: blank, or indented at least as much as the block
        let start = offset;
        let mut indent = explicit;
        let mut end = start;
        let mut pos = start;
        for l in lines.by_ref() {
            let body = l.trim_end_matches(['\n', '\r']);
            let lead = body.len() - body.trim_start_matches(' ').len();
            if body.trim().is_empty() {
                pos += l.len();
                continue;
            }
            let ind = *indent.get_or_insert(lead);
            if lead < ind || ind == 0 {
                break;
            }
            pos += l.len();
            end = pos - (l.len() - body.len());
        }
        let indent = indent?;
        if end <= start {
            return None;
        }
        return Some(Block { start, end, indent, newline });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_query_block_changes() {
        let yaml = "id: 1\nquery: |\n  T|where x>1 // c\n\n\n  | take 5\n\n# after\nseverity: High\n";
        let Outcome::Changed(new) = format_file(Path::new("r.yaml"), yaml).unwrap() else { panic!("unchanged") };
        assert_eq!(new, "id: 1\nquery: |\n  T\n  | where x > 1 // c\n\n  | take 5\n\n# after\nseverity: High\n");
        assert_eq!(format_file(Path::new("r.yaml"), &new).unwrap(), Outcome::Unchanged);
    }

    #[test]
    fn crlf_and_strip_chomping_are_kept() {
        let yaml = "query: |-\r\n    T|take 1\r\nname: x\r\n";
        let Outcome::Changed(new) = format_file(Path::new("r.yaml"), yaml).unwrap() else { panic!("unchanged") };
        assert_eq!(new, "query: |-\r\n    T\r\n    | take 1\r\nname: x\r\n");
    }

    #[test]
    fn folded_and_inline_queries_are_left_alone() {
        assert!(matches!(format_file(Path::new("r.yaml"), "query: T|take 1\n"), Ok(Outcome::Skipped(_))));
        assert!(matches!(format_file(Path::new("r.yaml"), "query: >\n  T|take 1\n"), Ok(Outcome::Skipped(_))));
        assert_eq!(format_file(Path::new("r.yaml"), "name: x\n").unwrap(), Outcome::NotAQuery);
    }

    #[test]
    fn a_syntax_error_in_yaml_is_shown_at_the_file_position() {
        let yaml = "id: 1\nquery: |\n  T\n  | where\n";
        let Ok(Outcome::SyntaxError(shown)) = format_file(Path::new("r.yaml"), yaml) else { panic!("parsed") };
        assert!(shown.contains("--> r.yaml:4:11"), "{shown}");
        assert!(shown.contains("4 | | where"), "{shown}");
    }

    #[test]
    fn parser_yaml_formats_its_parser_query() {
        let yaml = "ParserName: P\nParserQuery: |\n  let x=1;\n  T|where a==x\nParserParams: []\n";
        let Outcome::Changed(new) = format_file(Path::new("p.yaml"), yaml).unwrap() else { panic!("unchanged") };
        assert_eq!(new, "ParserName: P\nParserQuery: |\n  let x = 1;\n  T\n  | where a == x\nParserParams: []\n");
    }
}
