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
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
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
    /// Extra table schemas: a JSON file or folder (repeatable).
    #[arg(long = "schema", value_name = "PATH")]
    pub(crate) schemas: Vec<PathBuf>,
    /// Stored functions: .kql files of `let` definitions (repeatable).
    #[arg(long = "functions", value_name = "PATH")]
    pub(crate) functions: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
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
    let data = crate::data::DataArgs {
        schemas: args.schemas.clone(),
        functions: args.functions.clone(),
        quiet: true,
        ..Default::default()
    };
    // Files are checked on every core, each thread with its own session (a session is not
    // `Send`), and reported in their order.
    let threads =
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(files.len().div_ceil(64)).max(1);
    let stdout = std::io::stdout();
    let color = stdout.is_terminal();
    let checked: Result<Vec<Vec<Checked>>, String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (files, data, args) = (&files, &data, &args);
                scope.spawn(move || -> Result<Vec<Checked>, String> {
                    let session = crate::data::build_session(data)?;
                    Ok(files
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, path)| {
                            let (report, text) = check_file(&session, path, args, color);
                            (i, report, text)
                        })
                        .collect())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a checking thread failed".into()))).collect()
    });
    let mut checked: Vec<Checked> = match checked {
        Ok(parts) => parts.into_iter().flatten().collect(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    checked.sort_by_key(|c| c.0);
    let mut out = stdout.lock();
    let (mut n_ok, mut n_bad) = (0usize, 0usize);
    let mut reports: Vec<FileReport> = Vec::new();
    for (_, report, text) in checked {
        let _ = write!(out, "{text}");
        if report.ok {
            n_ok += 1;
        } else {
            n_bad += 1;
        }
        if args.format == CheckFormat::Json {
            let _ = writeln!(out, "{}", serde_json::to_string(&report).unwrap_or_default());
        }
        reports.push(report);
    }
    if args.format == CheckFormat::Sarif {
        let _ = writeln!(out, "{}", sarif(&reports));
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

/// A checked file: its index in the file list, its report, its rendered diagnostics.
type Checked = (usize, FileReport, String);

/// Check one file: its report, and (for the human format) the rendered diagnostics.
fn check_file(
    session: &kql_exec::Session,
    path: &std::path::Path,
    args: &CheckArgs,
    color: bool,
) -> (FileReport, String) {
    let mut out: Vec<u8> = Vec::new();
    let display = path.display().to_string();
    let report = match read_query(path) {
        Err(e) => {
            let (line, col) = match &e {
                rule_pack::source::SourceError::Yaml { line, col, .. }
                | rule_pack::source::SourceError::InvalidRule { line, col, .. } => (*line, *col),
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
        Ok(src) => {
            let (script, syntax) = kql_parser::parse_recovering(&src.query);
            let mut errors: Vec<kql_exec::KqlError> = syntax.into_iter().map(Into::into).collect();
            let mut warnings = Vec::new();
            if let (Some(script), false) = (&script, args.syntax_only) {
                let outcome = session.check_script(script);
                errors.extend(outcome.errors);
                warnings = outcome.warnings;
            }
            // `// kql-ignore: KQLW001` on a line (or the line before) silences that warning there
            let idx = kql_parser::LineIndex::new(&src.query);
            warnings.retain(|w| {
                let Some(sp) = w.span else { return true };
                let (line, _) = idx.line_col(&src.query, sp.start);
                let silenced = |l: usize| {
                    l >= 1 && {
                        let t = idx.line_text(&src.query, l);
                        t.find("kql-ignore").is_some_and(|k| {
                            let rest = &t[k + "kql-ignore".len()..];
                            let rest = rest.trim_start_matches(':').trim();
                            rest.is_empty() || rest.split([',', ' ']).any(|c| c.trim() == w.code)
                        })
                    }
                };
                !(silenced(line) || silenced(line - 1))
            });
            errors.sort_by_key(|e| e.span.map(|s| s.start).unwrap_or(usize::MAX));
            let mut diags = Vec::new();
            for (sev, e) in errors.iter().map(|e| ("error", e)).chain(warnings.iter().map(|w| ("warning", w))) {
                let (qline, qcol) = e
                    .span
                    .map(|sp| kql_parser::LineIndex::new(&src.query).line_col(&src.query, sp.start))
                    .unwrap_or((1, 1));
                let (line, col) = src.file_position(qline, qcol);
                if args.format == CheckFormat::Human {
                    let text = match e.span {
                        Some(sp) => {
                            render_diagnostic(sev, e.code, &e.message, &display, &src.query, sp, e.help.as_deref())
                        }
                        None => format!("{sev}[{}]: {}\n", e.code, e.message),
                    };
                    let text =
                        text.replacen(&format!("{display}:{qline}:{qcol}"), &format!("{display}:{line}:{col}"), 1);
                    let _ = write!(out, "{}", paint(&text, color));
                }
                diags.push(Diagnostic {
                    severity: sev,
                    code: e.code.into(),
                    line,
                    col,
                    message: match &e.help {
                        Some(h) if args.format == CheckFormat::Sarif => format!("{} ({h})", e.message),
                        _ => e.message.clone(),
                    },
                });
            }
            let ok = errors.is_empty() && (!args.deny_warnings || warnings.is_empty());
            FileReport { path: display, ok, diagnostics: diags }
        }
    };
    (report, String::from_utf8_lossy(&out).into_owned())
}

/// SARIF 2.1.0 for GitHub code scanning.
fn sarif(reports: &[FileReport]) -> String {
    let mut rules: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for r in reports {
        for d in &r.diagnostics {
            if !rules.contains(&d.code) {
                rules.push(d.code.clone());
            }
            results.push(serde_json::json!({
                "ruleId": d.code,
                "level": if d.severity == "error" { "error" } else { "warning" },
                "message": {"text": d.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": r.path.trim_start_matches("./")},
                    "region": {"startLine": d.line, "startColumn": d.col}
                }}]
            }));
        }
    }
    let rules: Vec<serde_json::Value> =
        rules.iter().map(|c| serde_json::json!({"id": c, "name": c, "shortDescription": {"text": c}})).collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kql", "informationUri": "https://github.com/", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results
        }]
    })
    .to_string()
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
