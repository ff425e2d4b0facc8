//! Go to definition, find references and rename of `let` names and function parameters, within
//! a query and across the workspace: a `let` at the top of a function file (a document of only
//! `let`s, or one under the project's `functions` paths) is the stored function that other
//! documents call, and a call no `let` of its own document defines goes to it, or to the
//! stored function's file of the project. Stored functions are found in the open documents and
//! in the `.kql` and rule YAML files of the project's folder that are not open (read from disk,
//! parsed for their names only), so a rename reaches every file that calls one.

use crate::documents::{DocKind, Document};
use crate::scopes::{DefKind, Scopes};
use crate::workspace::{Analysis, Workspace};
use lsp_types::{Location, Position, TextEdit, Url, WorkspaceEdit};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

/// At most this many files of a project's folder are read for references.
const MAX_FOLDER_FILES: usize = 5000;

/// The `.kql` and YAML files under `dir` (hidden folders, `target` and `node_modules` skipped),
/// at most [`MAX_FOLDER_FILES`], sorted.
fn query_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                if name != "target" && name != "node_modules" {
                    stack.push(p);
                }
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("kql" | "csl" | "yaml" | "yml")) {
                out.push(p);
                if out.len() >= MAX_FOLDER_FILES {
                    out.sort();
                    return out;
                }
            }
        }
    }
    out.sort();
    out
}

/// The files of `uri`'s project folder (its `kql.toml`'s folder, else its own folder) that are
/// not open, each analysed for its names only: parsed and scoped, not checked.
fn unopened(ws: &Workspace, uri: &Url) -> Vec<(Url, Analysis)> {
    let Some(a) = ws.analyses.get(uri) else { return vec![] };
    let dir = match &a.project {
        Some(project_file) => project_file.parent().map(Path::to_path_buf),
        None => uri.to_file_path().ok().and_then(|p| p.parent().map(Path::to_path_buf)),
    };
    let Some(dir) = dir else { return vec![] };
    let mut out = Vec::new();
    for path in query_files(&dir) {
        let Ok(u) = Url::from_file_path(&path) else { continue };
        if ws.docs.contains_key(&u) {
            continue;
        }
        // large files are data, not rules
        if std::fs::metadata(&path).map(|m| m.len() > 1 << 20).unwrap_or(true) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let doc = Document::new(u.clone(), DocKind::of(&u, ""), 0, text);
        let query = doc.query();
        let (script, scopes) = match &query {
            Ok(q) => {
                let (script, _) = kql_parser::parse_recovering(&q.text);
                let scopes = script.as_ref().map(|s| Scopes::of(s, &q.text)).unwrap_or_default();
                (script, scopes)
            }
            Err(_) => continue,
        };
        let analysis = Analysis {
            query,
            tokens: vec![],
            script,
            errors: vec![],
            warnings: vec![],
            scopes,
            project: a.project.clone(),
            version: 0,
        };
        out.push((u, analysis));
    }
    out
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
    // a stored function: its definitions in function files, its calls everywhere else (the
    // open documents, then the project's files that are not open)
    let mut uris = uris;
    uris.sort();
    let closed = unopened(ws, uri);
    let docs = uris
        .iter()
        .filter_map(|u| ws.analyses.get(u).map(|a| (u, a)))
        .chain(closed.iter().map(|(u, a)| (u, a)))
        .collect::<Vec<_>>();
    // definitions first (go to definition takes the first)
    for &(u, a) in &docs {
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
    }
    for &(u, a) in &docs {
        for us in a.scopes.uses.iter().filter(|us| us.def.is_none() && us.name == name) {
            if let Some(l) = location(u, a, us.span) {
                if !out.contains(&l) {
                    out.push(l);
                }
            }
        }
    }
    // only a name that some document defines is a name of ours (else a column or a table)
    let defined = docs
        .iter()
        .any(|&(u, a)| is_function_file(ws, u, a) && a.scopes.defs.iter().any(|d| d.top_level && d.name == name));
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
