//! The names a query defines (`let` names, function parameters) and every use of them: what go
//! to definition, find references, rename, hover and highlighting of variables read.
//!
//! Definitions and uses come from the syntax tree, read through its serialized form (the AST
//! derives `Serialize`): a use is a bare name (`ExprKind::Name`) or a called name
//! (`ExprKind::Call`), never a column being assigned or a member after a dot. A use refers to
//! the innermost definition of its name in scope: a parameter within its function, a `let`
//! after its statement up to the end of the statement list it is in (a later `let` of the same
//! name hides an earlier one). Names that refer to no definition are columns, tables, built-in
//! or stored functions.

use kql_parser::ast::Script;
use serde_json::Value;

/// What kind of name a definition makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    /// `let name = expression`.
    Let,
    /// `let name = (params) { body }`.
    Function,
    /// A parameter of a function.
    Param,
}

/// A defined name.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The name.
    pub name: String,
    /// What it is.
    pub kind: DefKind,
    /// The byte range of the name where it is defined.
    pub span: (usize, usize),
    /// The byte range of the whole definition (the `let` statement, or the parameter).
    pub full: (usize, usize),
    /// Where uses of it can be: from the end of its definition to the end of its scope.
    pub scope: (usize, usize),
    /// True for a `let` of the script's top level (visible to other documents as a stored
    /// function when the document is a function file).
    pub top_level: bool,
    /// For a function, its parameters as written (`a:string, b:long=1`).
    pub params: Option<String>,
}

/// A use of a name.
#[derive(Debug, Clone)]
pub struct Use {
    /// The name.
    pub name: String,
    /// Its byte range.
    pub span: (usize, usize),
    /// The definition it refers to (an index into [`Scopes::defs`]), if any.
    pub def: Option<usize>,
}

/// The definitions and uses of one query.
#[derive(Debug, Clone, Default)]
pub struct Scopes {
    /// Definitions, in source order.
    pub defs: Vec<Definition>,
    /// Uses of names, in source order.
    pub uses: Vec<Use>,
}

fn span_of(v: &Value) -> Option<(usize, usize)> {
    Some((v.get("start")?.as_u64()? as usize, v.get("end")?.as_u64()? as usize))
}

fn ident(v: &Value) -> Option<(String, (usize, usize))> {
    Some((v.get("name")?.as_str()?.to_string(), span_of(v.get("span")?)?))
}

impl Scopes {
    /// The definitions and uses of `script` (the query `text` it was parsed from gives the
    /// parameter lists of functions).
    pub fn of(script: &Script, text: &str) -> Scopes {
        let tree = kql_parser::on_big_stack(|| serde_json::to_value(script).unwrap_or(Value::Null));
        let mut s = Scopes::default();
        let end = text.len();
        kql_parser::on_big_stack(|| {
            if let Some(stmts) = tree.get("statements") {
                s.statements(stmts, end, true, text);
            }
        });
        for u in &mut s.uses {
            u.def = s
                .defs
                .iter()
                .enumerate()
                .filter(|(_, d)| d.name == u.name && d.scope.0 <= u.span.0 && u.span.1 <= d.scope.1)
                .max_by_key(|(_, d)| d.scope.0)
                .map(|(i, _)| i);
        }
        drop(tree);
        s
    }

    /// A list of statements ending at `end`.
    fn statements(&mut self, stmts: &Value, end: usize, top: bool, text: &str) {
        for st in stmts.as_array().into_iter().flatten() {
            let full = st.get("span").and_then(span_of).unwrap_or((0, 0));
            if let Some(l) = st.get("kind").and_then(|k| k.get("Let")) {
                let value = l.get("value");
                let func = value.and_then(|v| v.get("Function"));
                if let Some((name, span)) = l.get("name").and_then(ident) {
                    let params = func.and_then(|f| f.get("span")).and_then(span_of).and_then(|(a, _)| {
                        let rest = text.get(a..)?;
                        let open = rest.find('(')?;
                        let close = rest.find(')')?;
                        (open < close).then(|| rest[open + 1..close].trim().to_string())
                    });
                    self.defs.push(Definition {
                        name,
                        kind: if func.is_some() { DefKind::Function } else { DefKind::Let },
                        span,
                        full,
                        scope: (full.1, end),
                        top_level: top,
                        params,
                    });
                }
                match func {
                    Some(f) => self.function(f, text),
                    None => {
                        if let Some(v) = value {
                            self.walk(v, text);
                        }
                    }
                }
            } else if let Some(k) = st.get("kind") {
                self.walk(k, text);
            }
        }
    }

    /// A function definition: its parameters are in scope in its body.
    fn function(&mut self, f: &Value, text: &str) {
        let fspan = f.get("span").and_then(span_of).unwrap_or((0, 0));
        for p in f.get("params").and_then(Value::as_array).into_iter().flatten() {
            if let Some((name, span)) = p.get("name").and_then(ident) {
                self.defs.push(Definition {
                    name,
                    kind: DefKind::Param,
                    span,
                    full: span,
                    scope: (span.1, fspan.1),
                    top_level: false,
                    params: None,
                });
            }
            if let Some(d) = p.get("default") {
                self.walk(d, text);
            }
        }
        if let Some(body) = f.get("body") {
            self.statements(body, fspan.1, false, text);
        }
    }

    /// Any other part of the tree: collect uses, enter nested statement lists and functions.
    fn walk(&mut self, v: &Value, text: &str) {
        kql_parser::with_stack(|| match v {
            Value::Object(m) => {
                if let Some(n) = m.get("Name").and_then(ident) {
                    self.uses.push(Use { name: n.0, span: n.1, def: None });
                    return;
                }
                if let Some(c) = m.get("Call") {
                    if let Some(n) = c.get("name").and_then(ident) {
                        self.uses.push(Use { name: n.0, span: n.1, def: None });
                    }
                }
                if let (Some(params), Some(body), Some(_)) = (m.get("params"), m.get("body"), m.get("is_view")) {
                    let _ = (params, body);
                    self.function(v, text);
                    return;
                }
                for (k, child) in m {
                    if k == "span" {
                        continue;
                    }
                    if k == "body" || k == "statements" {
                        if let Some(arr) = child.as_array() {
                            if arr.iter().all(|s| s.get("kind").is_some() && s.get("span").is_some()) {
                                let end = arr.last().and_then(|s| s.get("span")).and_then(span_of).map(|s| s.1);
                                self.statements(child, end.unwrap_or(text.len()), false, text);
                                continue;
                            }
                        }
                    }
                    self.walk(child, text);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.walk(x, text)),
            _ => {}
        })
    }

    /// The definition at or used at byte `offset` (on its name), if any.
    pub fn definition_at(&self, offset: usize) -> Option<usize> {
        let on = |s: (usize, usize)| s.0 <= offset && offset <= s.1;
        self.defs.iter().position(|d| on(d.span)).or_else(|| self.uses.iter().find(|u| on(u.span)).and_then(|u| u.def))
    }

    /// The use at byte `offset` (on its name), if any.
    pub fn use_at(&self, offset: usize) -> Option<&Use> {
        self.uses.iter().find(|u| u.span.0 <= offset && offset <= u.span.1)
    }

    /// The byte ranges of definition `def`'s name and of every use of it.
    pub fn occurrences(&self, def: usize) -> Vec<(usize, usize)> {
        let mut out = vec![self.defs[def].span];
        out.extend(self.uses.iter().filter(|u| u.def == Some(def)).map(|u| u.span));
        out
    }

    /// The definitions visible at byte `offset` (innermost last).
    pub fn visible_at(&self, offset: usize) -> Vec<&Definition> {
        let mut v: Vec<&Definition> = self.defs.iter().filter(|d| d.scope.0 <= offset && offset <= d.scope.1).collect();
        v.sort_by_key(|d| d.scope.0);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(text: &str) -> Scopes {
        Scopes::of(&kql_parser::parse(text).unwrap(), text)
    }

    #[test]
    fn uses_refer_to_the_innermost_definition() {
        let text = "let n = 5;\nlet f = (n:long, t:string) { n + strlen(t) };\nlet n = 6;\nT | where x > n | extend n2 = f(n, \"a\")";
        let s = scopes(text);
        let names: Vec<_> = s.defs.iter().map(|d| (d.name.as_str(), d.kind)).collect();
        assert_eq!(
            names,
            [
                ("n", DefKind::Let),
                ("f", DefKind::Function),
                ("n", DefKind::Param),
                ("t", DefKind::Param),
                ("n", DefKind::Let)
            ]
        );
        assert_eq!(s.defs[1].params.as_deref(), Some("n:long, t:string"));
        let of = |at: usize| s.uses.iter().find(|u| u.span.0 == at).and_then(|u| u.def);
        // `n` in the body is the parameter; the later uses are the second `let n`
        assert_eq!(of(text.find("n + ").unwrap()), Some(2));
        assert_eq!(of(text.find("x > n").unwrap() + 4), Some(4));
        assert_eq!(of(text.find("f(n").unwrap()), Some(1));
        assert_eq!(of(text.find("f(n").unwrap() + 2), Some(4));
        // columns and built-in functions refer to nothing; assigned names are not uses
        assert_eq!(of(text.find("x >").unwrap()), None);
        assert_eq!(of(text.find("strlen").unwrap()), None);
        assert!(s.uses.iter().all(|u| u.name != "n2"));
        assert!(s.defs[0].top_level && !s.defs[2].top_level);
        assert_eq!(s.occurrences(0), [(4, 5)]);
    }
}
