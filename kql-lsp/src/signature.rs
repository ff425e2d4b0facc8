//! Signature help: inside the parentheses of a call, the function's signatures (Kusto's catalog,
//! a `let` function of the query, or a stored function) with the parameter the cursor is on.

use crate::catalog;
use crate::scopes::DefKind;
use crate::tokens::Tok;
use crate::workspace::{Analysis, ProjectSession};
use lsp_types::{ParameterInformation, ParameterLabel, SignatureHelp, SignatureInformation};

/// The call around byte `offset`: the function name and the index of the argument the cursor
/// is in.
pub fn call_at(text: &str, tokens: &[crate::tokens::Token], offset: usize) -> Option<(String, u32)> {
    let mut depth = 0i32;
    let mut commas = 0u32;
    let before: Vec<_> = tokens.iter().enumerate().filter(|(_, t)| t.end <= offset).collect();
    for (i, t) in before.into_iter().rev() {
        if t.kind != Tok::Punct {
            continue;
        }
        match t.text(text) {
            ")" | "]" | "}" => depth += 1,
            "[" | "{" if depth == 0 => return None,
            "(" if depth == 0 => {
                let f = tokens.get(i.checked_sub(1)?)?;
                return (f.kind == Tok::Ident).then(|| (f.text(text).to_string(), commas));
            }
            "(" | "[" | "{" => depth -= 1,
            "," if depth == 0 => commas += 1,
            "|" | ";" if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

fn signature(label: String, params: Vec<String>) -> SignatureInformation {
    SignatureInformation {
        label,
        documentation: None,
        parameters: Some(
            params
                .into_iter()
                .map(|p| ParameterInformation { label: ParameterLabel::Simple(p), documentation: None })
                .collect(),
        ),
        active_parameter: None,
    }
}

/// Signature help at byte `offset` of the analysed query.
pub fn signature_help(a: &Analysis, ps: &ProjectSession, offset: usize) -> Option<SignatureHelp> {
    let text = a.text();
    let (name, arg) = call_at(text, &a.tokens, offset)?;
    let mut sigs = Vec::new();
    let local = a.scopes.visible_at(offset).into_iter().rev().find(|d| d.name == name && d.kind == DefKind::Function);
    if let Some(d) = local {
        let params: Vec<String> = d
            .params
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        sigs.push(signature(format!("{name}({})", params.join(", ")), params));
    } else if let Some(f) = ps.session.catalog.function(&name) {
        let params: Vec<String> = f.def.params.iter().map(|p| p.name.name.clone()).collect();
        sigs.push(signature(format!("{name}({})", params.join(", ")), params));
    } else if let Some(f) = catalog::function(&name) {
        for (i, s) in f.signatures.iter().enumerate() {
            let mut info = signature(f.label(i), s.param_labels());
            info.documentation = Some(lsp_types::Documentation::String(f.summary()));
            sigs.push(info);
        }
    }
    if sigs.is_empty() {
        return None;
    }
    // the first signature with room for the argument; a repeating last parameter takes the rest
    let active = sigs
        .iter()
        .position(|s| {
            let n = s.parameters.as_ref().map_or(0, Vec::len);
            (arg as usize) < n || s.label.contains("...")
        })
        .unwrap_or(0);
    let n = sigs[active].parameters.as_ref().map_or(0, Vec::len) as u32;
    let param = if n == 0 { 0 } else { arg.min(n - 1) };
    Some(SignatureHelp { signatures: sigs, active_signature: Some(active as u32), active_parameter: Some(param) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::tokenize;

    #[test]
    fn finds_the_call_and_argument() {
        let t = "T | extend x = strcat(a, tolower(b), ";
        assert_eq!(call_at(t, &tokenize(t), t.len()), Some(("strcat".into(), 2)));
        let t = "T | extend x = strcat(a, tolower(b";
        assert_eq!(call_at(t, &tokenize(t), t.len()), Some(("tolower".into(), 0)));
        let t = "T | where (a > 1) | take ";
        assert_eq!(call_at(t, &tokenize(t), t.len()), None);
    }
}
