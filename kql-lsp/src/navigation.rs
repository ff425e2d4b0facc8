//! Go to definition, find references and rename of `let` names and function parameters, within
//! a query and across the open documents: a `let` at the top of a function file (a document of
//! only `let`s, or one under the project's `functions` paths) is the stored function that other
//! documents call, and a call no `let` of its own document defines goes to it, or to the
//! stored function's file of the project.

use crate::scopes::DefKind;
use crate::workspace::{Analysis, Workspace};
use lsp_types::{Location, Position, TextEdit, Url, WorkspaceEdit};
use std::collections::HashMap;

/// A name at a position: defined in its document, or a stored function by name.
enum Target {
    /// Definition `def` of document `uri`.
    Local(Url, usize),
    /// A name no `let` of the document defines (a stored function, a column or a table).
    Global(String),
}

fn target(ws: &Workspace, uri: &Url, pos: Position) -> Option<Target> {
    let a = ws.analyses.get(uri)?;
    let q = a.query.as_ref().ok()?;
    let offset = q.offset(pos)?;
    if let Some(d) = a.scopes.definition_at(offset) {
        return Some(Target::Local(uri.clone(), d));
    }
    a.scopes.use_at(offset).map(|u| Target::Global(u.name.clone()))
}

/// True when `a`'s top-level `let`s are stored functions for other documents.
fn is_function_file(ws: &Workspace, uri: &Url, a: &Analysis) -> bool {
    if a.script.as_ref().is_some_and(|s| s.query().is_none()) {
        return true;
    }
    let Ok(path) = uri.to_file_path() else { return false };
    let Some(ps) = ws.sessions.get(&a.project) else { return false };
    ps.project.as_ref().is_some_and(|p| p.functions.iter().any(|f| path.starts_with(f)))
}

fn location(uri: &Url, a: &Analysis, span: (usize, usize)) -> Option<Location> {
    let q = a.query.as_ref().ok()?;
    Some(Location::new(uri.clone(), q.range(span.0, span.1)))
}

/// Every occurrence of the name at `pos` (definition first), as locations across documents.
fn occurrences(ws: &mut Workspace, uri: &Url, pos: Position) -> Option<Vec<Location>> {
    let uris: Vec<Url> = ws.docs.keys().cloned().collect();
    for u in &uris {
        let _ = ws.analyse(u);
    }
    let ws = &*ws;
    let mut out = Vec::new();
    let name = match target(ws, uri, pos)? {
        Target::Local(u, d) => {
            let a = ws.analyses.get(&u)?;
            out.extend(a.scopes.occurrences(d).into_iter().filter_map(|s| location(&u, a, s)));
            let def = &a.scopes.defs[d];
            if !(def.top_level && def.kind != DefKind::Param && is_function_file(ws, &u, a)) {
                return Some(out);
            }
            def.name.clone()
        }
        Target::Global(name) => name,
    };
    // a stored function: its definitions in function files, its calls everywhere else
    let mut uris = uris;
    uris.sort();
    for u in &uris {
        let Some(a) = ws.analyses.get(u) else { continue };
        if is_function_file(ws, u, a) {
            for (i, d) in a.scopes.defs.iter().enumerate() {
                if d.top_level && d.name == name {
                    for s in a.scopes.occurrences(i) {
                        if let Some(l) = location(u, a, s) {
                            if !out.contains(&l) {
                                out.push(l);
                            }
                        }
                    }
                }
            }
        }
        for us in a.scopes.uses.iter().filter(|us| us.def.is_none() && us.name == name) {
            if let Some(l) = location(u, a, us.span) {
                if !out.contains(&l) {
                    out.push(l);
                }
            }
        }
    }
    // only a name that some document defines is a name of ours (else a column or a table)
    let defined = uris.iter().any(|u| {
        ws.analyses
            .get(u)
            .is_some_and(|a| is_function_file(ws, u, a) && a.scopes.defs.iter().any(|d| d.top_level && d.name == name))
    });
    defined.then_some(out)
}

/// Where the name at `pos` is defined.
pub fn definition(ws: &mut Workspace, uri: &Url, pos: Position) -> Option<Location> {
    ws.analyse(uri).ok()?;
    match target(ws, uri, pos)? {
        Target::Local(u, d) => {
            let a = ws.analyses.get(&u)?;
            location(&u, a, a.scopes.defs[d].span)
        }
        Target::Global(name) => {
            if let Some(l) = occurrences(ws, uri, pos).and_then(|v| v.into_iter().next()) {
                return Some(l);
            }
            // a stored function of the project's files
            let ps = ws.session_of(uri).ok()?;
            let f = ps.session.catalog.function(&name)?;
            let src = f.source.as_ref()?;
            let span = src.file_span(f.def.span)?;
            let lines = crate::documents::Lines::new(&src.file);
            let (l1, c1) = lines.position(&src.file, span.start);
            let (l2, c2) = lines.position(&src.file, span.end);
            let path = std::path::absolute(&src.path).ok()?;
            let file = Url::from_file_path(path).ok()?;
            Some(Location::new(file, lsp_types::Range::new(Position::new(l1, c1), Position::new(l2, c2))))
        }
    }
}

/// Every reference to the name at `pos` (with its definition when `include_declaration`).
pub fn references(ws: &mut Workspace, uri: &Url, pos: Position, include_declaration: bool) -> Vec<Location> {
    if ws.analyse(uri).is_err() {
        return vec![];
    }
    let mut all = occurrences(ws, uri, pos).unwrap_or_default();
    if !include_declaration {
        let defs: Vec<Location> = definition(ws, uri, pos).into_iter().collect();
        all.retain(|l| !defs.contains(l));
    }
    all
}

/// True for a name that can be written without quoting.
pub fn is_plain_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// The edits renaming the name at `pos` to `new_name` everywhere it is used.
pub fn rename(ws: &mut Workspace, uri: &Url, pos: Position, new_name: &str) -> Result<WorkspaceEdit, String> {
    if !is_plain_name(new_name) {
        return Err(format!("`{new_name}` is not a name (letters, digits and _, not starting with a digit)"));
    }
    ws.analyse(uri)?;
    let locs = occurrences(ws, uri, pos)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| "no `let` name or parameter here: only names a query defines can be renamed".to_string())?;
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    for l in locs {
        changes.entry(l.uri).or_default().push(TextEdit { range: l.range, new_text: new_name.to_string() });
    }
    Ok(WorkspaceEdit { changes: Some(changes), ..Default::default() })
}
