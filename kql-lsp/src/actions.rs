//! Code actions: the "did you mean `x`?" (or "write `x`") help of a diagnostic as a quick fix
//! that writes the suggestion in place of the misspelt name.

use lsp_types::{CodeAction, CodeActionKind, Diagnostic, TextEdit, Url, WorkspaceEdit};
use std::collections::HashMap;

/// The suggestion of a help text: the name in backquotes after "did you mean" or "write".
pub fn suggestion(help: &str) -> Option<&str> {
    for cue in ["did you mean `", "write `"] {
        if let Some(i) = help.find(cue) {
            let rest = &help[i + cue.len()..];
            let end = rest.find('`')?;
            return Some(&rest[..end]).filter(|s| !s.is_empty());
        }
    }
    None
}

/// The quick fixes for `diagnostics` (as the server sent them, with `data.help`) of the
/// document `uri` whose text is `text`. `range_text` gives the text a diagnostic's range covers.
pub fn quick_fixes(
    uri: &Url,
    diagnostics: &[Diagnostic],
    range_text: &dyn Fn(&lsp_types::Range) -> Option<String>,
) -> Vec<CodeAction> {
    let mut out = Vec::new();
    for d in diagnostics {
        let help = d.data.as_ref().and_then(|v| v.get("help")).and_then(|h| h.as_str());
        let Some(s) = help.and_then(suggestion) else { continue };
        let Some(covered) = range_text(&d.range) else { continue };
        // the range is the name itself, or holds the misspelt name the message quotes
        let mut range = d.range;
        if !crate::navigation::is_plain_name(covered.trim_matches(|c| c == '\'' || c == '"')) {
            let quoted: Vec<&str> = d.message.split('`').skip(1).step_by(2).collect();
            let Some((at, len)) = quoted.iter().find_map(|w| covered.find(w).map(|at| (at, w.len()))) else { continue };
            if covered[..at].contains('\n') {
                continue;
            }
            let units = |s: &str| s.chars().map(char::len_utf16).sum::<usize>() as u32;
            range.start.character += units(&covered[..at]);
            range.end = range.start;
            range.end.character += units(&covered[at..at + len]);
        } else if covered.starts_with(['\'', '"']) {
            range.start.character += 1;
            range.end.character = range.end.character.saturating_sub(1);
        }
        let edit = TextEdit { range, new_text: s.to_string() };
        out.push(CodeAction {
            title: format!("Replace with `{s}`"),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![d.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                ..Default::default()
            }),
            is_preferred: Some(true),
            ..Default::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_suggestions() {
        assert_eq!(suggestion("did you mean `country`?"), Some("country"));
        assert_eq!(suggestion("`count_` does not exist here: ...; write `requests`"), Some("requests"));
        assert_eq!(suggestion("raise --timeout"), None);
    }
}
