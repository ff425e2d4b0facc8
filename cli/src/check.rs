//! `kql check`: report syntax errors (and, with analysis, semantic errors) of queries and
//! rule files, for people (rustc-style) or tools (JSON).

use clap::{Args, ValueEnum};
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
    /// Check against exactly the `--schema` files given: no built-in Log Analytics tables, and
    /// no standard columns added (as Azure-Sentinel's CI checks a workspace's queries).
    #[arg(long, requires = "schemas")]
    schema_only: bool,
    /// Also report what Kusto accepts but this engine cannot run yet (functions, aggregations,
    /// plugins and operators not implemented: KQL071, KQL092, KQL055, KQL051), so that a CI can
    /// tell "Kusto accepts it" from "kql test can run it".
    #[arg(long)]
    runnable: bool,
    /// Stored functions: .kql files of `let` definitions (repeatable).
    #[arg(long = "functions", value_name = "PATH")]
    pub(crate) functions: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
    /// Fail a query whose findings weigh more than N (each lint's weight: `kql explain --list`;
    /// also `[lint] max-cost` in kql.toml).
    #[arg(long, value_name = "N")]
    pub(crate) max_cost: Option<u32>,
    /// Report only findings not recorded in FILE (made with --write-baseline; also `[lint]
    /// baseline` in kql.toml).
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Record every finding of this run in FILE (commit it: later runs with --baseline FILE
    /// report only new ones).
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,
    /// Do not report this code (repeatable; also `[lint] disable` in kql.toml).
    #[arg(long = "disable", value_name = "CODE")]
    pub(crate) disable: Vec<String>,
}

impl CheckArgs {
    /// Take what the flags leave unset from the project file's `[lint]` table.
    pub(crate) fn apply_lint_settings(&mut self, lint: &rule_pack::project::LintSettings) {
        if self.max_cost.is_none() {
            self.max_cost = lint.max_cost;
        }
        if self.baseline.is_none() && self.write_baseline.is_none() {
            self.baseline = lint.baseline.clone();
        }
        self.disable.extend(lint.disable.iter().cloned());
    }
}

#[derive(Serialize)]
struct FileReport {
    path: String,
    ok: bool,
    diagnostics: Vec<Diagnostic>,
    /// The id of the analytic rule the file holds (ids must be unique in what is checked).
    #[serde(skip)]
    rule_id: Option<String>,
    /// The file's warnings as a baseline records them: code and line text (`--write-baseline`).
    #[serde(skip)]
    recorded: Vec<(String, String)>,
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
    let baseline = match &args.baseline {
        Some(b) => match kql_lint::baseline::Baseline::read(b) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let data = crate::data::DataArgs {
        schemas: args.schemas.clone(),
        functions: args.functions.clone(),
        quiet: true,
        schema_only: args.schema_only,
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
                let (files, data, args, baseline) = (&files, &data, &args, &baseline);
                scope.spawn(move || -> Result<Vec<Checked>, String> {
                    let session = crate::data::build_session(data)?;
                    Ok(files
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, path)| {
                            let (report, text) = check_file(&session, path, args, baseline.as_ref(), color);
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
    if !args.syntax_only {
        report_duplicate_ids(&mut checked, &args, color);
    }
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
    if let Some(file) = &args.write_baseline {
        let b = kql_lint::baseline::Baseline::of(
            reports.iter().flat_map(|r| r.recorded.iter().map(|(c, l)| (r.path.as_str(), c.as_str(), l.as_str()))),
        );
        if let Err(e) = b.write(file) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        let n: usize = b.findings.iter().map(|e| e.count).sum();
        eprintln!("wrote {}: {n} finding(s) recorded", file.display());
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
    baseline: Option<&kql_lint::baseline::Baseline>,
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
                rule_id: None,
                recorded: Vec::new(),
            }
        }
        Ok(src) => {
            let (script, syntax) = kql_parser::parse_recovering(&src.query);
            let mut errors: Vec<kql_exec::KqlError> = syntax.into_iter().map(Into::into).collect();
            let mut warnings = Vec::new();
            if let (Some(script), false) = (&script, args.syntax_only) {
                let outcome = session.check_script(script);
                errors.extend(outcome.errors);
                if args.runnable {
                    errors.extend(outcome.not_runnable);
                    errors.sort_by_key(|e| e.span.map(|s| s.start).unwrap_or(usize::MAX));
                }
                warnings = outcome.warnings;
                warnings.extend(kql_lint::lint(script).into_iter().map(kql_exec::KqlError::from));
            }
            let RuleFields { findings: fields, id: rule_id, scheduled, text: yaml } =
                if args.syntax_only { RuleFields::default() } else { rule_fields(path) };
            // a scheduled rule's query sees only its queryPeriod: no time filter is needed
            if scheduled {
                warnings.retain(|w| w.code != "KQLW004");
            }
            // `// kql: allow(CODE) because ...` (and the older `// kql-ignore: CODE`)
            let (kept, comments) = kql_lint::suppress::filter(&src.query, warnings, |w| {
                kql_lint::suppress::Candidate { code: w.code, at: w.span.map(|s| s.start) }
            });
            warnings = kept;
            warnings.extend(comments.into_iter().map(kql_exec::KqlError::from));
            // after the suppressions, so that one of a disabled code is not reported unused
            warnings.retain(|w| !args.disable.iter().any(|d| d.eq_ignore_ascii_case(w.code)));
            // the baseline records a finding by its line's text
            let idx = kql_parser::LineIndex::new(&src.query);
            let line_text = |w: &kql_exec::KqlError| {
                w.span
                    .map(|sp| idx.line_text(&src.query, idx.line_col(&src.query, sp.start).0).trim().to_string())
                    .unwrap_or_default()
            };
            let recorded: Vec<(String, String)> = warnings.iter().map(|w| (w.code.to_string(), line_text(w))).collect();
            if let Some(b) = baseline {
                let mut m = b.matcher();
                warnings.retain(|w| !m.take(&display, w.code, &line_text(w)));
            }
            warnings.sort_by_key(|w| w.span.map(|s| s.start).unwrap_or(usize::MAX));
            if let Some(max) = args.max_cost {
                let cost = kql_lint::cost::Cost::of(warnings.iter().map(|w| w.code));
                if cost.total > max {
                    errors.push(
                        kql_exec::KqlError::general(
                            "KQL079",
                            format!("the query's cost is {}, over --max-cost {max}: {}", cost.total, cost.explain()),
                        )
                        .with_help(
                            "fix the costly findings reported with it, or silence one with its reason: `// kql: allow(CODE) because ...`",
                        ),
                    );
                }
            }
            errors.sort_by_key(|e| e.span.map(|s| s.start).unwrap_or(usize::MAX));
            let mut diags = Vec::new();
            for (sev, e) in errors.iter().map(|e| ("error", e)).chain(warnings.iter().map(|w| ("warning", w))) {
                let (qline, qcol) = e
                    .span
                    .map(|sp| kql_parser::LineIndex::new(&src.query).line_col(&src.query, sp.start))
                    .unwrap_or((1, 1));
                let (line, col) = src.file_position(qline, qcol);
                if args.format == CheckFormat::Human {
                    // the lines and columns shown are the file's
                    let (first, indent) = (src.line_offset + 1, src.col_offset);
                    let text = if color {
                        e.render_in_file_styled(sev, &display, &src.query, first, indent)
                    } else {
                        e.render_in_file(sev, &display, &src.query, first, indent)
                    };
                    let _ = write!(out, "{text}");
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
            // the rule's own fields, as Azure-Sentinel's content CI checks them

            for f in &fields {
                if args.format == CheckFormat::Human {
                    let _ = write!(out, "{}", render_finding(f, &display, &yaml, color));
                }
                diags.push(Diagnostic {
                    severity: "error",
                    code: f.code.into(),
                    line: f.line,
                    col: f.col,
                    message: finding_message(f, args.format),
                });
            }
            let ok = errors.is_empty() && fields.is_empty() && (!args.deny_warnings || warnings.is_empty());
            FileReport { path: display, ok, diagnostics: diags, rule_id, recorded }
        }
    };
    (report, String::from_utf8_lossy(&out).into_owned())
}

/// What `kql check` takes from a rule YAML's own fields.
#[derive(Default)]
struct RuleFields {
    /// Findings on the fields (none for `.kql` files and files that are not analytic rules).
    findings: Vec<rule_pack::validate::Finding>,
    /// The analytic rule's id.
    id: Option<String>,
    /// A scheduled rule with a `queryPeriod` (its query sees only that window).
    scheduled: bool,
    /// The file's text, read once (findings are rendered against it).
    text: String,
}

fn rule_fields(path: &std::path::Path) -> RuleFields {
    if !matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
        return RuleFields::default();
    }
    let Ok(text) = std::fs::read_to_string(path) else { return RuleFields::default() };
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    match rule_pack::source::document_with(path, &text, "query") {
        Ok((_, doc)) => {
            let analytic = rule_pack::validate::is_analytic_rule(path, &doc);
            RuleFields {
                findings: rule_pack::validate::check_rule(path, &text, &doc),
                id: analytic.then(|| rule_pack::validate::rule_id(&doc)).flatten(),
                scheduled: analytic && doc.get("queryPeriod").is_some(),
                text,
            }
        }
        Err(_) => RuleFields::default(),
    }
}

/// Analytic rules that reuse an id an earlier file already has: an error on the later file.
fn report_duplicate_ids(checked: &mut [Checked], args: &CheckArgs, color: bool) {
    let mut first: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for (_, report, text) in checked.iter_mut() {
        let Some(id) = report.rule_id.clone() else { continue };
        let key = id.to_ascii_lowercase();
        let Some(earlier) = first.get(&key) else {
            first.insert(key, report.path.clone());
            continue;
        };
        let Ok(yaml) = std::fs::read_to_string(&report.path) else { continue };
        let yaml = yaml.strip_prefix('\u{feff}').unwrap_or(&yaml);
        let f = rule_pack::validate::duplicate_id(yaml, &id, earlier);
        if args.format == CheckFormat::Human {
            // before the file's summary lines, after its other diagnostics
            text.push_str(&render_finding(&f, &report.path, yaml, color));
        }
        report.diagnostics.push(Diagnostic {
            severity: "error",
            code: f.code.into(),
            line: f.line,
            col: f.col,
            message: finding_message(&f, args.format),
        });
        report.ok = false;
    }
}

/// A field finding rendered like every other diagnostic, pointing into the YAML `text`.
fn render_finding(f: &rule_pack::validate::Finding, display: &str, text: &str, color: bool) -> String {
    let span = kql_parser::Span { start: f.offset, end: f.offset + f.len };
    let mut d =
        kql_parser::Diagnostic::new("error", f.code, &f.message).at(kql_parser::Place::new(display, text, span));
    if let Some(h) = &f.help {
        d = d.help(h.clone());
    }
    if color {
        d.render_styled()
    } else {
        d.render()
    }
}

fn finding_message(f: &rule_pack::validate::Finding, format: CheckFormat) -> String {
    match &f.help {
        Some(h) if format == CheckFormat::Sarif => format!("{} ({h})", f.message),
        _ => f.message.clone(),
    }
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
