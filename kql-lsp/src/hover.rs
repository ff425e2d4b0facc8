//! Hover: a function's signatures and one-line summary from Kusto's catalog (or a `let`
//! function's parameters), a `let` name's definition, a column's type and where it comes from
//! (the operator that made it, or the table it is read from), a table's column count.

use crate::catalog;
use crate::context;
use crate::scopes::DefKind;
use crate::tokens::{token_at, Tok};
use crate::workspace::{Analysis, ProjectSession};

/// The hover text (Markdown) at byte `offset` of the analysed query, and the byte range it is
/// about.
pub fn hover(a: &Analysis, ps: &ProjectSession, offset: usize) -> Option<(String, (usize, usize))> {
    let text = a.text();
    let i = token_at(&a.tokens, offset)?;
    let tok = a.tokens[i];
    if tok.kind != Tok::Ident {
        return None;
    }
    let name = tok.text(text);
    let range = (tok.start, tok.end);
    let called = a.tokens.get(i + 1).is_some_and(|t| t.is_punct(text, "("));
    // a name defined in the query
    if let Some(d) = a.scopes.definition_at(offset).map(|d| &a.scopes.defs[d]) {
        let what = match d.kind {
            DefKind::Let => "let",
            DefKind::Function => "function",
            DefKind::Param => "parameter",
        };
        let def_text = text.get(d.full.0..d.full.1).unwrap_or("");
        let first: String = def_text.lines().next().unwrap_or("").chars().take(200).collect();
        let more = if def_text.lines().count() > 1 { "\n..." } else { "" };
        let line = text[..d.span.0].matches('\n').count() + 1;
        return Some((
            format!("({what}) `{name}`, defined on line {line} of the query\n```kql\n{first}{more}\n```"),
            range,
        ));
    }
    if called {
        if let Some(f) = ps.session.catalog.function(name) {
            let params: Vec<String> = f.def.params.iter().map(|p| param_text(text_of(f), p)).collect();
            let from = f.source.as_ref().map(|s| format!("\n\nfrom `{}`", s.path)).unwrap_or_default();
            return Some((format!("```kql\n{name}({})\n```\nstored function{from}", params.join(", ")), range));
        }
        if let Some(f) = catalog::function(name) {
            let sigs: Vec<String> = (0..f.signatures.len().max(1)).map(|i| f.label(i)).collect();
            return Some((
                format!("```kql\n{}\n```\n{}\n\n[documentation]({})", sigs.join("\n"), f.summary(), f.doc_url()),
                range,
            ));
        }
    }
    // a column of the cursor's input (or made by the cursor's operator)
    let p = context::place(text, &a.tokens, offset);
    let input = context::input_text(text, &p).map(|t| context::columns_of(&ps.session, &t)).unwrap_or_default();
    if let Some(c) = input.iter().find(|c| c.name == name) {
        let origin = context::column_origin(text, &a.tokens, &p, name).map(|o| format!(": {o}")).unwrap_or_default();
        return Some((format!("(column) `{name}`: **{}**{origin}", c.ty), range));
    }
    if let Some(out) = context::output_text(text, &a.tokens, &p) {
        if let Some(c) = context::columns_of(&ps.session, &out).into_iter().find(|c| c.name == name) {
            let op = p.operator.as_deref().unwrap_or("this operator");
            return Some((format!("(column) `{name}`: **{}**: made by `{op}`", c.ty), range));
        }
    }
    if let Some(t) = ps.session.catalog.schemas().table(name) {
        return Some((format!("(table) `{name}`: {} columns", t.columns.len()), range));
    }
    None
}

fn text_of(f: &kql_exec::session::StoredFunction) -> &str {
    f.source.as_ref().map(|s| s.kql.as_str()).unwrap_or("")
}

/// A parameter as written in the function's text, or its name.
fn param_text(text: &str, p: &kql_parser::ast::Param) -> String {
    let end = match &p.ty {
        kql_parser::ast::ParamType::Scalar(t) => t.span.end,
        _ => p.name.span.end,
    };
    text.get(p.name.span.start..end).map(str::to_string).unwrap_or_else(|| p.name.name.clone())
}
