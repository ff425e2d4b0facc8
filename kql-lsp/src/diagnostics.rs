//! Diagnostics as `kql check` gives them: syntax errors, then the binder's errors and warnings
//! against the project's schemas and stored functions and the lints' findings, with
//! `// kql: allow(CODE) because ...` silencing a warning where it applies (`kql_lint::suppress`). Each carries its code, and its help text in
//! `data.help` (the "did you mean" that code actions offer as a fix).

use crate::workspace::{Analysis, ProjectSession};
use kql_exec::KqlError;
use lsp_types::{Diagnostic, DiagnosticSeverity, NumberOrString, Position, Range};

/// The diagnostics of a document's analysis (positions in the file).
pub fn diagnostics(a: &Analysis, session: Option<&ProjectSession>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(s) = session {
        if let Some(e) = &s.error {
            out.push(plain(DiagnosticSeverity::ERROR, "KQL002", e.clone()));
        }
        if let Some(first) = s.function_errors.first() {
            let msg = format!("{} function file(s) could not be loaded; first: {first}", s.function_errors.len());
            out.push(plain(DiagnosticSeverity::WARNING, "KQL003", msg));
        }
    }
    let q = match &a.query {
        Ok(q) => q,
        // a YAML file that is not a rule
        Err((_, _, message)) if message.is_empty() => return out,
        Err((line, col, message)) => {
            let at = Position::new(*line, *col);
            let mut d = plain(DiagnosticSeverity::ERROR, "KQL001", message.clone());
            d.range = Range::new(at, Position::new(*line, col + 1));
            out.push(d);
            return out;
        }
    };
    let errors = a.errors.iter().map(|e| (DiagnosticSeverity::ERROR, e));
    let (kept, comments) = kql_lint::suppress::filter(&q.text, a.warnings.iter().collect(), |w| {
        kql_lint::suppress::Candidate { code: w.code, at: w.span.map(|s| s.start) }
    });
    let comments: Vec<KqlError> = comments.into_iter().map(KqlError::from).collect();
    let warnings = kept.into_iter().chain(comments.iter()).map(|w| (DiagnosticSeverity::WARNING, w));
    for (severity, e) in errors.chain(warnings) {
        let range = match e.span {
            Some(sp) => {
                // an empty span (a missing token) still shows: one character, or the line end
                let end = if sp.end > sp.start {
                    sp.end
                } else {
                    q.text[sp.start.min(q.text.len())..].chars().next().map_or(sp.start, |c| sp.start + c.len_utf8())
                };
                q.range(sp.start, end)
            }
            None => Range::new(q.position(0), q.position(0)),
        };
        out.push(Diagnostic {
            range,
            severity: Some(severity),
            code: Some(NumberOrString::String(e.code.to_string())),
            source: Some("kql".into()),
            message: e.message.clone(),
            data: e.help.as_ref().map(|h| serde_json::json!({ "help": h })),
            related_information: None,
            code_description: None,
            tags: None,
        });
        if let Some(h) = &e.help {
            if let Some(last) = out.last_mut() {
                last.message = format!("{}\nhelp: {h}", last.message);
            }
        }
    }
    out
}

fn plain(severity: DiagnosticSeverity, code: &str, message: String) -> Diagnostic {
    Diagnostic {
        range: Range::default(),
        severity: Some(severity),
        code: Some(NumberOrString::String(code.into())),
        source: Some("kql".into()),
        message,
        ..Default::default()
    }
}
