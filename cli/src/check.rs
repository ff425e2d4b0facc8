//! `kql check`: report syntax errors (and, with analysis, semantic errors) of queries and
//! rule files, for people (rustc-style) or tools (JSON).

use clap::{Args, ValueEnum};
use kql_parser::render_diagnostic;
use rule_pack::source::{collect_rule_files, read_query};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of `kql check`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    /// rustc-style diagnostics with the source line and a caret.
    Human,
    /// One JSON object per file.
    Json,
}

/// Arguments of `kql check`.
#[derive(Args)]
pub struct CheckArgs {
    /// Files or directories (.kql, .yaml, .yml); directories are searched recursively.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Only check syntax.
    #[arg(long)]
    syntax_only: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: CheckFormat,
}

#[derive(Serialize)]
struct FileReport {
    path: String,
    ok: bool,
    diagnostics: Vec<Diagnostic>,
}

#[derive(Serialize)]
struct Diagnostic {
    severity: &'static str,
    code: String,
    line: usize,
    col: usize,
    message: String,
}

/// Run `kql check`; exit 0 when everything is clean, 1 on any error, 2 on usage errors.
pub fn run(args: CheckArgs) -> ExitCode {
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
    let _ = args.syntax_only;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let color = stdout.is_terminal();
    let (mut n_ok, mut n_bad) = (0usize, 0usize);
    for path in files {
        let display = path.display().to_string();
        let report = match read_query(&path) {
            Err(e) => {
                let (line, col) = match &e {
                    rule_pack::source::SourceError::Yaml { line, col, .. } => (*line, *col),
                    _ => (1, 1),
                };
                if args.format == CheckFormat::Human {
                    let _ = writeln!(out, "error: {e}");
                }
                FileReport {
                    path: display,
                    ok: false,
                    diagnostics: vec![Diagnostic {
                        severity: "error",
                        code: "KQL001".into(),
                        line,
                        col,
                        message: e.to_string(),
                    }],
                }
            }
            Ok(src) => match kql_parser::parse(&src.query) {
                Ok(_) => FileReport { path: display, ok: true, diagnostics: vec![] },
                Err(e) => {
                    let (line, col) = src.file_position(e.line, e.col);
                    if args.format == CheckFormat::Human {
                        let text = render_diagnostic("error", e.code, &e.message, &display, &src.query, e.span, None);
                        // point at the file's own line numbers
                        let text = text.replacen(
                            &format!("{display}:{}:{}", e.line, e.col),
                            &format!("{display}:{line}:{col}"),
                            1,
                        );
                        let _ = write!(out, "{}", paint(&text, color));
                    }
                    FileReport {
                        path: display,
                        ok: false,
                        diagnostics: vec![Diagnostic {
                            severity: "error",
                            code: e.code.into(),
                            line,
                            col,
                            message: e.message,
                        }],
                    }
                }
            },
        };
        if report.ok {
            n_ok += 1;
        } else {
            n_bad += 1;
        }
        if args.format == CheckFormat::Json {
            let _ = writeln!(out, "{}", serde_json::to_string(&report).unwrap_or_default());
        }
    }
    if args.format == CheckFormat::Human {
        let _ = writeln!(out, "{} file(s) checked: {n_ok} ok, {n_bad} with errors", n_ok + n_bad);
    }
    if n_bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Colour the severity word and carets on a terminal.
fn paint(text: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    text.lines()
        .map(|l| {
            if let Some(rest) = l.strip_prefix("error") {
                format!("\x1b[1;31merror\x1b[0m\x1b[1m{rest}\x1b[0m")
            } else if l.trim_start().starts_with('|') && l.contains('^') && !l.contains(|c: char| c.is_alphanumeric()) {
                format!("\x1b[1;31m{l}\x1b[0m")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
