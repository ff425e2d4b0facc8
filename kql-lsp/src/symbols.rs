//! Document symbols: the `let` statements of a query (functions with their parameters, nested
//! `let`s of function bodies inside them) and its query statements, as an outline.

use crate::scopes::DefKind;
use crate::workspace::Analysis;
use lsp_types::{DocumentSymbol, SymbolKind};

/// The outline of the analysed query.
#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written
pub fn symbols(a: &Analysis) -> Vec<DocumentSymbol> {
    let Ok(q) = &a.query else { return vec![] };
    let mut flat: Vec<(DocumentSymbol, (usize, usize))> = Vec::new();
    for d in &a.scopes.defs {
        let kind = match d.kind {
            DefKind::Let => SymbolKind::VARIABLE,
            DefKind::Function => SymbolKind::FUNCTION,
            DefKind::Param => SymbolKind::TYPE_PARAMETER,
        };
        let detail = match d.kind {
            DefKind::Function => Some(format!("({})", d.params.as_deref().unwrap_or(""))),
            _ => None,
        };
        let sym = DocumentSymbol {
            name: d.name.clone(),
            detail,
            kind,
            tags: None,
            deprecated: None,
            range: q.range(d.full.0, d.full.1),
            selection_range: q.range(d.span.0, d.span.1),
            children: None,
        };
        flat.push((sym, d.full));
    }
    if let Some(s) = &a.script {
        for st in &s.statements {
            if let kql_parser::ast::StatementKind::Query(e) = &st.kind {
                let first: String = q.text.get(e.span.start..e.span.end).unwrap_or("").chars().take(40).collect();
                let name = first.lines().next().unwrap_or("query").trim().to_string();
                flat.push((
                    DocumentSymbol {
                        name: if name.is_empty() { "query".into() } else { name },
                        detail: Some("query".into()),
                        kind: SymbolKind::EVENT,
                        tags: None,
                        deprecated: None,
                        range: q.range(st.span.start, st.span.end),
                        selection_range: q.range(e.span.start, e.span.start),
                        children: None,
                    },
                    (st.span.start, st.span.end),
                ));
            }
        }
    }
    nest(flat)
}

/// Put each symbol under the top-level symbol that contains it (a function's parameters and
/// the `let`s of its body are listed under it, one level deep).
fn nest(mut flat: Vec<(DocumentSymbol, (usize, usize))>) -> Vec<DocumentSymbol> {
    flat.sort_by_key(|(_, s)| (s.0, std::cmp::Reverse(s.1)));
    let mut roots: Vec<(DocumentSymbol, (usize, usize))> = Vec::new();
    for (sym, span) in flat {
        match roots.last_mut() {
            Some((parent, p)) if p.0 <= span.0 && span.1 <= p.1 => {
                parent.children.get_or_insert_with(Vec::new).push(sym)
            }
            _ => roots.push((sym, span)),
        }
    }
    roots.into_iter().map(|(s, _)| s).collect()
}
