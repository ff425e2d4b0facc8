//! `graph-match` and `graph-shortest-paths`: every occurrence of a pattern of nodes and edges in
//! a graph made by `make-graph`, one row each, with the columns of the `project` clause.
//!
//! How it runs: the graph's nodes and edges are read into memory (as `graph-to-table` reads
//! them); each `where` conjunct that names one pattern variable only becomes a filter of that
//! variable's nodes or edges (for a variable length edge, a filter every edge of the path
//! meets, as Kusto says); the matches are then found by walking the graph from the first
//! node of the first pattern, edge by edge, variable length edges shortest first; the remaining
//! conjuncts and the `project` run over a table of the matches whose columns are the
//! properties the query reads, `v.p` (a variable length edge's property is an array, one value
//! per edge of its path, in the pattern's left-to-right order).
//!
//! Cycles (`cycles=`): `unique_edges` (the default) never uses an edge twice in a match, `none`
//! never visits a node twice, `all` allows both. `graph-shortest-paths` keeps, for each binding
//! of the pattern's nodes, the matches of the fewest edges (`output=any`, the default: one of
//! them; `output=all`: all).

use super::super::{Binder, Col, Rel};
use super::evaluate::{rows_of, Cell};
use super::graph::GraphInfo;
use super::misc::rewrite_ast;
use super::name_text;
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use crate::value::{datetime as dt, dynamic as dj};
use kql_parser::ast::{self, EdgeDirection, ExprKind};
use kql_parser::Span;
use std::collections::{HashMap, HashSet};

/// The most matches a graph-match may find before it stops with an error.
const MAX_MATCHES: usize = 5_000_000;
/// The longest variable length edge.
const MAX_PATH: i64 = 64;

fn gm_err(msg: impl Into<String>, span: Span) -> KqlError {
    KqlError::new("KQL140", msg.into(), span)
}

/// The graph functions of Kusto that this engine does not evaluate yet inside graph-match.
const GRAPH_FUNCTIONS: &[&str] = &["labels", "node_id"];

/// The pseudo-properties `node_degree_in(n)` and `node_degree_out(n)` read: how many edges enter
/// and leave the node.
const DEGREE_IN: &str = "#degree_in";
const DEGREE_OUT: &str = "#degree_out";

/// `all(e, condition)`, `any(e, condition)` or `map(e, expression)` over a variable length
/// edge's edges, or over its inner nodes (`all(inner_nodes(e), ...)`): the expression reads the
/// element's properties by their bare names.
#[derive(Debug, Clone)]
struct PathCall {
    /// `all`, `any` or `map`.
    kind: String,
    /// The variable length edge.
    var: String,
    /// Over the inner nodes rather than the edges.
    inner: bool,
    /// The expression evaluated for each element.
    expr: ast::Expr,
    /// The call, which the matches' column `__gm_call<k>` replaces.
    span: Span,
}

/// The column of the matches' table holding the `k`-th path call's value.
fn call_column(k: usize) -> String {
    format!("__gm_call{k}")
}

/// An edge of the pattern between two node slots.
#[derive(Debug, Clone)]
struct PatEdge {
    direction: EdgeDirection,
    /// `(min, max)` of a variable length edge.
    length: Option<(usize, usize)>,
    /// The node slots on its left and right, as written.
    left: usize,
    right: usize,
}

/// What a pattern variable is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Var {
    Node(usize),
    Edge(usize),
}

/// The nodes and edges of a graph, in memory.
struct Data {
    node_cols: Vec<Col>,
    nodes: Vec<Vec<Cell>>,
    edge_cols: Vec<Col>,
    edges: Vec<Vec<Cell>>,
    /// Each edge's source and target node.
    ends: Vec<(usize, usize)>,
    /// Edges leaving and entering each node.
    out_edges: Vec<Vec<usize>>,
    in_edges: Vec<Vec<usize>>,
}

/// One match: a node per slot, and the edges of each pattern edge (one, or a path).
#[derive(Clone)]
struct Match {
    nodes: Vec<usize>,
    edges: Vec<Vec<usize>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Cycles {
    All,
    UniqueEdges,
    None,
}

/// The state of the search for matches.
struct Search<'a> {
    data: &'a Data,
    pat: &'a [PatEdge],
    /// The pattern edges in the order they are walked, each with `true` when walked from its
    /// left node (bound already) to its right.
    order: Vec<(usize, bool)>,
    node_ok: Vec<Option<Vec<bool>>>,
    edge_ok: Vec<Option<Vec<bool>>>,
    cycles: Cycles,
    nodes: Vec<Option<usize>>,
    edges: Vec<Vec<usize>>,
    used_edges: HashSet<usize>,
    used_nodes: HashMap<usize, usize>,
    out: Vec<Match>,
    too_many: bool,
}

impl Search<'_> {
    fn node_allowed(&self, slot: usize, n: usize) -> bool {
        self.node_ok[slot].as_ref().is_none_or(|ok| ok[n])
    }

    fn edge_allowed(&self, pe: usize, e: usize) -> bool {
        self.edge_ok[pe].as_ref().is_none_or(|ok| ok[e])
            && !(self.cycles == Cycles::UniqueEdges && self.used_edges.contains(&e))
    }

    /// Visit node `n` (cycles=none counts visits).
    fn enter_node(&mut self, n: usize) -> bool {
        if self.cycles == Cycles::None {
            let c = self.used_nodes.entry(n).or_default();
            *c += 1;
            if *c > 1 {
                self.leave_node(n);
                return false;
            }
        }
        true
    }

    fn leave_node(&mut self, n: usize) {
        if self.cycles == Cycles::None {
            if let Some(c) = self.used_nodes.get_mut(&n) {
                *c -= 1;
                if *c == 0 {
                    self.used_nodes.remove(&n);
                }
            }
        }
    }

    /// Bind `slot` to `n` (or check it is `n`) and go on with the pattern edge `k` of the order.
    fn bind_and_go(&mut self, slot: usize, n: usize, k: usize) {
        match self.nodes[slot] {
            Some(m) if m == n => self.step(k),
            Some(_) => {}
            None => {
                if !self.node_allowed(slot, n) || !self.enter_node(n) {
                    return;
                }
                self.nodes[slot] = Some(n);
                self.step(k);
                self.nodes[slot] = None;
                self.leave_node(n);
            }
        }
    }

    /// The edges one step from node `n` along pattern edge `pe`, walked forward (left to
    /// right) or back: each with the node it leads to.
    fn neighbours(&self, pe: usize, n: usize, forward: bool) -> Vec<(usize, usize)> {
        let d = self.data;
        let (outs, ins) = match (self.pat[pe].direction, forward) {
            (EdgeDirection::Right, true) | (EdgeDirection::Left, false) => (true, false),
            (EdgeDirection::Right, false) | (EdgeDirection::Left, true) => (false, true),
            (EdgeDirection::Any, _) => (true, true),
        };
        let mut v = Vec::new();
        if outs {
            v.extend(d.out_edges[n].iter().map(|&e| (e, d.ends[e].1)));
        }
        if ins {
            v.extend(
                d.in_edges[n].iter().filter(|&&e| !(outs && d.ends[e].0 == d.ends[e].1)).map(|&e| (e, d.ends[e].0)),
            );
        }
        v
    }

    /// Walk the pattern edge at position `k` of the order, then the rest.
    fn step(&mut self, k: usize) {
        if self.too_many {
            return;
        }
        let Some(&(pe, forward)) = self.order.get(k) else {
            if self.out.len() >= MAX_MATCHES {
                self.too_many = true;
                return;
            }
            self.out
                .push(Match { nodes: self.nodes.iter().map(|n| n.unwrap_or(0)).collect(), edges: self.edges.clone() });
            return;
        };
        let p = &self.pat[pe];
        let (from, to) = if forward { (p.left, p.right) } else { (p.right, p.left) };
        let start = self.nodes[from].expect("walked from a bound node");
        match p.length {
            None => {
                for (e, next) in self.neighbours(pe, start, forward) {
                    if !self.edge_allowed(pe, e) {
                        continue;
                    }
                    self.used_edges.insert(e);
                    self.edges[pe] = vec![e];
                    self.bind_and_go(to, next, k + 1);
                    self.used_edges.remove(&e);
                }
                self.edges[pe].clear();
            }
            Some((lo, hi)) => {
                // shortest paths first
                for len in lo..=hi {
                    let mut path = Vec::new();
                    self.paths(pe, k, forward, to, start, len, &mut path);
                    if self.too_many {
                        return;
                    }
                }
                self.edges[pe].clear();
            }
        }
    }

    /// Every path of exactly `left` more edges from `at`, then the node `to` and the rest.
    #[allow(clippy::too_many_arguments)]
    fn paths(&mut self, pe: usize, k: usize, forward: bool, to: usize, at: usize, left: usize, path: &mut Vec<usize>) {
        if self.too_many {
            return;
        }
        if left == 0 {
            // in the pattern's left-to-right order
            let mut edges = path.clone();
            if !forward {
                edges.reverse();
            }
            self.edges[pe] = edges;
            self.bind_and_go(to, at, k + 1);
            return;
        }
        for (e, next) in self.neighbours(pe, at, forward) {
            if !self.edge_allowed(pe, e) || (self.cycles != Cycles::All && path.contains(&e)) {
                continue;
            }
            // the path's inner nodes are visits too
            let inner = left > 1;
            if inner && !self.enter_node(next) {
                continue;
            }
            self.used_edges.insert(e);
            path.push(e);
            self.paths(pe, k, forward, to, next, left - 1, path);
            path.pop();
            self.used_edges.remove(&e);
            if inner {
                self.leave_node(next);
            }
        }
    }
}

/// The pattern variables a constraint or projection reads: `(variable, property)` pairs.
fn reads(
    e: &ast::Expr,
    vars: &HashMap<String, Var>,
    out: &mut Vec<(String, String)>,
    calls: &mut Vec<PathCall>,
) -> Result<()> {
    match &e.kind {
        ExprKind::Call { target: None, name, args }
            if matches!(name.name.as_str(), "all" | "any" | "map") && args.len() == 2 =>
        {
            let (first, expr) = (args[0].expr(), args[1].expr());
            let (var, inner) = match &first.kind {
                ExprKind::Name(v) => (v, false),
                ExprKind::Call { target: None, name: f, args: a }
                    if f.name == "inner_nodes" && a.len() == 1 && matches!(a[0].expr().kind, ExprKind::Name(_)) =>
                {
                    let ExprKind::Name(v) = &a[0].expr().kind else { unreachable!() };
                    (v, true)
                }
                _ => {
                    return Err(gm_err(
                        format!(
                            "{}() reads a variable length edge or its inner_nodes(): `{}(e, ...)`",
                            name.name, name.name
                        ),
                        first.span,
                    ))
                }
            };
            if !vars.contains_key(&var.name) {
                return Err(gm_err(format!("`{}` is not a variable of the pattern", var.name), var.span));
            }
            calls.push(PathCall {
                kind: name.name.clone(),
                var: var.name.clone(),
                inner,
                expr: expr.clone(),
                span: e.span,
            });
            return Ok(());
        }
        ExprKind::Call { target: None, name, args }
            if matches!(name.name.as_str(), "node_degree_in" | "node_degree_out") =>
        {
            let var = match args.first().map(|a| &a.expr().kind) {
                Some(ExprKind::Name(v)) if args.len() == 1 && matches!(vars.get(&v.name), Some(Var::Node(_))) => v,
                _ => {
                    return Err(gm_err(
                        format!("{}() takes a node variable of the pattern: `{}(n)`", name.name, name.name),
                        e.span,
                    ))
                }
            };
            let prop = if name.name == "node_degree_in" { DEGREE_IN } else { DEGREE_OUT };
            let pair = (var.name.clone(), prop.to_string());
            if !out.contains(&pair) {
                out.push(pair);
            }
            return Ok(());
        }
        ExprKind::Call { target: None, name, .. } if name.name == "inner_nodes" => {
            return Err(gm_err(
                "inner_nodes() is read through all(), any() or map(): `map(inner_nodes(e), Property)`",
                name.span,
            ));
        }
        ExprKind::Member { target, name } => {
            if let ExprKind::Name(v) = &target.kind {
                if vars.contains_key(&v.name) {
                    let pair = (v.name.clone(), name.name.clone());
                    if !out.contains(&pair) {
                        out.push(pair);
                    }
                    return Ok(());
                }
            }
        }
        // the whole element: a property bag of its properties (`project a`, `where a == b`)
        ExprKind::Name(v) if vars.contains_key(&v.name) => {
            let pair = (v.name.clone(), String::new());
            if !out.contains(&pair) {
                out.push(pair);
            }
            return Ok(());
        }
        ExprKind::Call { name, .. } if GRAPH_FUNCTIONS.contains(&name.name.as_str()) => {
            return Err(KqlError::new(
                "KQL055",
                format!("the graph function `{}` is not supported yet", name.name),
                name.span,
            ));
        }
        _ => {}
    }
    for c in kql_parser::visit::children(e) {
        reads(c, vars, out, calls)?;
    }
    Ok(())
}

/// The conjuncts of `a and b and ...`.
fn conjuncts(e: &ast::Expr) -> Vec<&ast::Expr> {
    match &e.kind {
        ExprKind::Binary { op: ast::BinaryOp::And, left, right } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        ExprKind::Paren(x) if matches!(x.kind, ExprKind::Binary { op: ast::BinaryOp::And, .. }) => conjuncts(x),
        _ => vec![e],
    }
}

/// `v.p` read as the column `v.p` of the matches' table (or `p` of a variable's own table).
fn as_columns(e: &ast::Expr, vars: &HashMap<String, Var>, own: bool, calls: &[PathCall]) -> ast::Expr {
    rewrite_ast(e, &|x| match &x.kind {
        ExprKind::Call { .. } if calls.iter().any(|c| same_place(c.span, x.span)) => {
            let k = calls.iter().position(|c| same_place(c.span, x.span)).unwrap_or(0);
            Some(ast::Expr::new(ExprKind::Name(ast::Ident::new(call_column(k), x.span)), x.span))
        }
        ExprKind::Call { target: None, name, args }
            if matches!(name.name.as_str(), "node_degree_in" | "node_degree_out") =>
        {
            let Some(ExprKind::Name(v)) = args.first().map(|a| &a.expr().kind) else { return None };
            let prop = if name.name == "node_degree_in" { DEGREE_IN } else { DEGREE_OUT };
            let col = if own { prop.to_string() } else { format!("{}.{prop}", v.name) };
            Some(ast::Expr::new(ExprKind::Name(ast::Ident::new(&col, x.span)), x.span))
        }
        ExprKind::Member { target, name } => match &target.kind {
            ExprKind::Name(v) if vars.contains_key(&v.name) => {
                let col = if own { name.name.clone() } else { format!("{}.{}", v.name, name.name) };
                Some(ast::Expr::new(ExprKind::Name(ast::Ident::new(&col, x.span)), x.span))
            }
            _ => None,
        },
        _ => None,
    })
}

/// Spans at the same place (`Span`'s `==` is always true: syntax trees compare without them).
fn same_place(a: Span, b: Span) -> bool {
    (a.start, a.end) == (b.start, b.end)
}

/// A cell as a JSON value of a dynamic array.
fn cell_json(c: &Cell, ty: KqlType) -> String {
    match (c, ty) {
        (Cell::Null, _) => "null".into(),
        (Cell::I(v), KqlType::DateTime) => dj::json_string(&dt::format_datetime_iso(*v)),
        (Cell::I(v), KqlType::TimeSpan) => dj::json_string(&dt::format_timespan(*v)),
        (Cell::I(v), _) => v.to_string(),
        (Cell::F(v), _) => dj::json_from_f64(*v),
        (Cell::B(v), _) => v.to_string(),
        (Cell::S(s), KqlType::Dynamic) => s.clone(),
        (Cell::S(s), _) => dj::json_string(s),
    }
}

impl Binder<'_> {
    /// `graph-match` / `graph-shortest-paths` over the graph `rel` carries.
    pub(crate) fn bind_graph_match(&mut self, rel: Rel, g: &ast::GraphMatch, span: Span) -> Result<Rel> {
        let what = if g.shortest { "graph-shortest-paths" } else { "graph-match" };
        let Some(info) = rel.name.as_ref().and_then(|n| self.graphs.get(n)).cloned() else {
            return Err(gm_err(format!("{what} expects a graph: put make-graph before it"), span));
        };
        if g.project.is_empty() {
            return Err(gm_err(format!("{what} needs a `project` clause: the columns each match becomes"), span));
        }
        // the pattern's node slots and edges
        let mut vars: HashMap<String, Var> = HashMap::new();
        let mut slots = 0usize;
        let mut pat: Vec<PatEdge> = Vec::new();
        let mut slot_of = |n: &ast::GraphNode, vars: &mut HashMap<String, Var>| -> Result<usize> {
            match &n.name {
                Some(id) => match vars.get(&id.name) {
                    Some(Var::Node(s)) => Ok(*s),
                    Some(Var::Edge(_)) => Err(gm_err(format!("`{}` names an edge and a node", id.name), id.span)),
                    None => {
                        vars.insert(id.name.clone(), Var::Node(slots));
                        slots += 1;
                        Ok(slots - 1)
                    }
                },
                None => {
                    slots += 1;
                    Ok(slots - 1)
                }
            }
        };
        for p in &g.patterns {
            let mut left = slot_of(&p.first, &mut vars)?;
            for (e, n) in &p.steps {
                let right = slot_of(n, &mut vars)?;
                let length = match e.length {
                    None => None,
                    Some((lo, hi)) if lo >= 0 && lo <= hi && hi <= MAX_PATH => Some((lo as usize, hi as usize)),
                    Some(_) => {
                        return Err(gm_err(
                            format!("a variable length edge needs 0 <= min <= max <= {MAX_PATH} (`*1..5`)"),
                            e.span,
                        ))
                    }
                };
                if let Some(id) = &e.name {
                    if vars.insert(id.name.clone(), Var::Edge(pat.len())).is_some() {
                        return Err(gm_err(
                            format!("`{}` names more than one element of the pattern", id.name),
                            id.span,
                        ));
                    }
                }
                pat.push(PatEdge { direction: e.direction, length, left, right });
                left = right;
            }
        }
        let cycles = match super::param(&g.params, "cycles").and_then(name_text).as_deref().map(str::to_ascii_lowercase)
        {
            // a shortest path never passes a node twice, nor ends where it starts
            None if g.shortest => Cycles::None,
            None => Cycles::UniqueEdges,
            Some(c) if c == "unique_edges" => Cycles::UniqueEdges,
            Some(c) if c == "all" => Cycles::All,
            Some(c) if c == "none" => Cycles::None,
            Some(c) => return Err(gm_err(format!("cycles={c}: say all, none or unique_edges"), span)),
        };
        let all_paths =
            match super::param(&g.params, "output").and_then(name_text).as_deref().map(str::to_ascii_lowercase) {
                None => false,
                Some(o) if o == "any" => false,
                Some(o) if o == "all" => true,
                Some(o) => return Err(gm_err(format!("output={o}: say any or all"), span)),
            };
        // the order the pattern's edges are walked in: from the first node, each next edge one
        // that touches a node bound already
        let mut bound = vec![false; slots];
        bound[0] = true;
        let mut order = Vec::new();
        let mut done = vec![false; pat.len()];
        while order.len() < pat.len() {
            let Some(k) = (0..pat.len()).find(|&k| !done[k] && (bound[pat[k].left] || bound[pat[k].right])) else {
                return Err(gm_err(
                    format!("{what}: the patterns must be connected: share a node variable between them"),
                    span,
                ));
            };
            let forward = bound[pat[k].left];
            done[k] = true;
            bound[pat[k].left] = true;
            bound[pat[k].right] = true;
            order.push((k, forward));
        }
        if bound.iter().any(|b| !b) {
            return Err(gm_err(
                format!("{what}: the patterns must be connected: share a node variable between them"),
                span,
            ));
        }

        // the graph's nodes and edges
        let data = self.graph_data(&info)?;
        let prop_col = |v: Var, p: &str| -> Option<Col> {
            let cols = if matches!(v, Var::Node(_)) { &data.node_cols } else { &data.edge_cols };
            cols.iter().find(|c| c.name == p).cloned()
        };

        // the constraints: one variable's own filters, and the rest
        let mut node_ok: Vec<Option<Vec<bool>>> = vec![None; slots];
        let mut edge_ok: Vec<Option<Vec<bool>>> = vec![None; pat.len()];
        let mut own: HashMap<String, Vec<&ast::Expr>> = HashMap::new();
        let mut rest: Vec<&ast::Expr> = Vec::new();
        let mut read: Vec<(String, String)> = Vec::new();
        let mut calls: Vec<PathCall> = Vec::new();
        if let Some(c) = &g.constraints {
            for part in conjuncts(c) {
                let mut r = Vec::new();
                let before = calls.len();
                reads(part, &vars, &mut r, &mut calls)?;
                let names: HashSet<&String> = r.iter().map(|(v, _)| v).collect();
                if names.len() == 1 && calls.len() == before && r.iter().all(|(_, p)| !p.is_empty()) {
                    own.entry(r[0].0.clone()).or_default().push(part);
                } else {
                    rest.push(part);
                }
                for x in r {
                    if !read.contains(&x) {
                        read.push(x);
                    }
                }
            }
        }
        for it in &g.project {
            reads(&it.expr, &vars, &mut read, &mut calls)?;
        }
        for c in &calls {
            match vars[&c.var] {
                Var::Edge(k) if pat[k].length.is_some() => {}
                _ => {
                    return Err(gm_err(
                        format!("{}() reads a variable length edge (`-[{}*1..3]-`)", c.kind, c.var),
                        c.span,
                    ))
                }
            }
        }
        for (v, p) in &read {
            if !p.is_empty() && prop_col(vars[v], p).is_none() {
                let what_var = if matches!(vars[v], Var::Node(_)) { "node" } else { "edge" };
                return Err(gm_err(format!("the {what_var} `{v}` has no property `{p}`"), span));
            }
        }
        let mut names: Vec<&String> = own.keys().collect();
        names.sort();
        for v in names {
            let parts = &own[v];
            let (cols, rows) = match vars[v] {
                Var::Node(_) => (&data.node_cols, &data.nodes),
                Var::Edge(_) => (&data.edge_cols, &data.edges),
            };
            let ok = self.rows_meeting(cols, rows, parts, &vars)?;
            match vars[v] {
                Var::Node(s) => node_ok[s] = Some(ok),
                Var::Edge(k) => edge_ok[k] = Some(ok),
            }
        }

        // the matches
        let mut search = Search {
            data: &data,
            pat: &pat,
            order,
            node_ok,
            edge_ok,
            cycles,
            nodes: vec![None; slots],
            edges: vec![Vec::new(); pat.len()],
            used_edges: HashSet::new(),
            used_nodes: HashMap::new(),
            out: Vec::new(),
            too_many: false,
        };
        if !self.options.check_only {
            for n in 0..data.nodes.len() {
                search.bind_and_go(0, n, 0);
                if search.too_many {
                    return Err(gm_err(
                        format!("{what} found more than {MAX_MATCHES} matches: constrain the pattern further"),
                        span,
                    ));
                }
            }
        }
        let matches = std::mem::take(&mut search.out);

        // the matches' table: a column per property read, `v.p`
        let mut cols: Vec<Col> = Vec::new();
        for (v, p) in &read {
            if p.is_empty() {
                cols.push(Col::new(v, KqlType::Dynamic));
                continue;
            }
            let c = prop_col(vars[v], p).expect("checked above");
            let ty = match vars[v] {
                Var::Edge(k) if pat[k].length.is_some() => KqlType::Dynamic,
                _ => c.ty,
            };
            cols.push(Col::new(format!("{v}.{p}"), ty));
        }
        let bag = |cols: &[Col], row: &[Cell]| -> String {
            let pairs: Vec<String> = cols
                .iter()
                .zip(row)
                .filter(|(c, _)| !c.name.starts_with('#'))
                .map(|(c, v)| format!("{}:{}", dj::json_string(&c.name), cell_json(v, c.ty)))
                .collect();
            format!("{{{}}}", pairs.join(","))
        };
        let rows: Vec<Vec<Cell>> = matches
            .iter()
            .map(|m| {
                read.iter()
                    .map(|(v, p)| match vars[v] {
                        Var::Node(s) if p.is_empty() => Cell::S(bag(&data.node_cols, &data.nodes[m.nodes[s]])),
                        Var::Edge(k) if p.is_empty() => {
                            let bags: Vec<String> =
                                m.edges[k].iter().map(|&e| bag(&data.edge_cols, &data.edges[e])).collect();
                            match pat[k].length {
                                Some(_) => Cell::S(format!("[{}]", bags.join(","))),
                                None => bags.into_iter().next().map_or(Cell::Null, Cell::S),
                            }
                        }
                        Var::Node(s) => {
                            let i = data.node_cols.iter().position(|c| &c.name == p).unwrap_or(0);
                            data.nodes[m.nodes[s]][i].clone()
                        }
                        Var::Edge(k) => {
                            let i = data.edge_cols.iter().position(|c| &c.name == p).unwrap_or(0);
                            if pat[k].length.is_some() {
                                let ty = data.edge_cols[i].ty;
                                let items: Vec<String> =
                                    m.edges[k].iter().map(|&e| cell_json(&data.edges[e][i], ty)).collect();
                                Cell::S(format!("[{}]", items.join(",")))
                            } else {
                                m.edges[k].first().map_or(Cell::Null, |&e| data.edges[e][i].clone())
                            }
                        }
                    })
                    .collect()
            })
            .collect();
        // the path calls: their expression over every edge (or node), then over each match's path
        let mut rows = rows;
        for (k, c) in calls.iter().enumerate() {
            let (ecols, erows) = if c.inner { (&data.node_cols, &data.nodes) } else { (&data.edge_cols, &data.edges) };
            let (ty, values) = self.each_row(ecols, erows, &c.expr)?;
            let Var::Edge(pe) = vars[&c.var] else { unreachable!("checked above") };
            cols.push(Col::new(call_column(k), if c.kind == "map" { KqlType::Dynamic } else { KqlType::Bool }));
            for (m, row) in matches.iter().zip(rows.iter_mut()) {
                let items: Vec<&Cell> = if c.inner {
                    inner_nodes(&data, m.nodes[pat[pe].left], &m.edges[pe]).into_iter().map(|n| &values[n]).collect()
                } else {
                    m.edges[pe].iter().map(|&e| &values[e]).collect()
                };
                row.push(match c.kind.as_str() {
                    "all" => Cell::B(items.iter().all(|v| **v == Cell::B(true))),
                    "any" => Cell::B(items.iter().any(|v| **v == Cell::B(true))),
                    _ => Cell::S(format!("[{}]", items.iter().map(|v| cell_json(v, ty)).collect::<Vec<_>>().join(","))),
                });
            }
        }
        let pred = (!rest.is_empty()).then(|| {
            let mut pred = as_columns(rest[0], &vars, false, &calls);
            for r in &rest[1..] {
                let right = as_columns(r, &vars, false, &calls);
                pred = ast::Expr::new(
                    ExprKind::Binary { op: ast::BinaryOp::And, left: Box::new(pred), right: Box::new(right) },
                    span,
                );
            }
            pred
        });
        let out = if g.shortest {
            // the shortest of the matches that meet every constraint
            let keep = match pred {
                Some(pred) => self.rows_where(&cols, &rows, pred)?,
                None => vec![true; rows.len()],
            };
            let chosen = shortest(&matches, &keep, all_paths);
            let rows: Vec<Vec<Cell>> = rows.into_iter().zip(chosen).filter(|(_, k)| *k).map(|(r, _)| r).collect();
            self.rel_from_cells(cols, &rows)?
        } else {
            let out = self.rel_from_cells(cols, &rows)?;
            match pred {
                Some(pred) => self.bind_operator(out, &ast::Operator { kind: ast::OperatorKind::Where(pred), span })?,
                None => out,
            }
        };
        let items: Vec<ast::ColumnAssign> = g
            .project
            .iter()
            .map(|it| {
                let mut names = it.names.clone();
                // `project v.p`: the column is named `v_p`, as a property read of a dynamic value
                if names.is_empty() {
                    if let ExprKind::Member { target, name } = &it.expr.kind {
                        if let ExprKind::Name(v) = &target.kind {
                            if vars.contains_key(&v.name) {
                                names.push(ast::Ident::new(format!("{}_{}", v.name, name.name), it.expr.span));
                            }
                        }
                    }
                }
                ast::ColumnAssign { names, expr: as_columns(&it.expr, &vars, false, &calls), span: it.span }
            })
            .collect();
        self.bind_operator(out, &ast::Operator { kind: ast::OperatorKind::Project(items), span })
    }

    /// `expr` over each of `rows` (of `cols`, read by their bare names): its type and values.
    fn each_row(&mut self, cols: &[Col], rows: &[Vec<Cell>], expr: &ast::Expr) -> Result<(KqlType, Vec<Cell>)> {
        let rel = self.rel_from_cells(cols.to_vec(), rows)?;
        let span = expr.span;
        let item = ast::ColumnAssign { names: vec![ast::Ident::new("__gm_value", span)], expr: expr.clone(), span };
        let out = self.bind_operator(rel, &ast::Operator { kind: ast::OperatorKind::Project(vec![item]), span })?;
        let ty = out.cols.first().map_or(KqlType::Dynamic, |c| c.ty);
        if self.options.check_only {
            return Ok((ty, vec![Cell::Null; rows.len()]));
        }
        let values: Vec<Cell> =
            rows_of(&self.runner.run(out.plan)?).into_iter().map(|mut r| r.swap_remove(0)).collect();
        if values.len() != rows.len() {
            return Err(gm_err("a graph function's expression changed the number of elements", span));
        }
        Ok((ty, values))
    }

    /// Which of `rows` (of `cols`) meet every one of `parts`, each reading one variable.
    fn rows_meeting(
        &mut self,
        cols: &[Col],
        rows: &[Vec<Cell>],
        parts: &[&ast::Expr],
        vars: &HashMap<String, Var>,
    ) -> Result<Vec<bool>> {
        let mut pred = as_columns(parts[0], vars, true, &[]);
        for p in &parts[1..] {
            let right = as_columns(p, vars, true, &[]);
            let span = pred.span;
            pred = ast::Expr::new(
                ExprKind::Binary { op: ast::BinaryOp::And, left: Box::new(pred), right: Box::new(right) },
                span,
            );
        }
        self.rows_where(cols, rows, pred)
    }

    /// Which of `rows` (of `cols`) `pred` keeps: the rows numbered, filtered by `pred` as a
    /// `where` over them, and the numbers read back. (While checking there are no rows.)
    fn rows_where(&mut self, cols: &[Col], rows: &[Vec<Cell>], pred: ast::Expr) -> Result<Vec<bool>> {
        let mut cols = cols.to_vec();
        cols.push(Col::new("__gm_row", KqlType::Long));
        let numbered: Vec<Vec<Cell>> =
            rows.iter().enumerate().map(|(i, r)| r.iter().cloned().chain([Cell::I(i as i64)]).collect()).collect();
        let rel = self.rel_from_cells(cols.clone(), &numbered)?;
        let span = pred.span;
        let filtered = self.bind_operator(rel, &ast::Operator { kind: ast::OperatorKind::Where(pred), span })?;
        let mut ok = vec![false; rows.len()];
        if self.options.check_only {
            return Ok(ok);
        }
        let ix = filtered.cols.iter().position(|c| c.name == "__gm_row").unwrap_or(cols.len() - 1);
        for r in rows_of(&self.runner.run(filtered.plan)?) {
            if let Some(i) = r[ix].i() {
                ok[i as usize] = true;
            }
        }
        Ok(ok)
    }

    /// The graph's nodes (as `graph-to-table nodes` exports them) and edges, in memory.
    fn graph_data(&mut self, info: &GraphInfo) -> Result<Data> {
        let (node_cols, nodes, by_id, edges) = self.graph_nodes(info)?;
        let edge_cols = info.edges.cols.clone();
        let six = edge_cols.iter().position(|c| c.name == info.source).unwrap_or(0);
        let tix = edge_cols.iter().position(|c| c.name == info.target).unwrap_or(0);
        let mut kept = Vec::new();
        let mut ends = Vec::new();
        let mut out_edges = vec![Vec::new(); nodes.len()];
        let mut in_edges = vec![Vec::new(); nodes.len()];
        for r in edges {
            let (Some(&s), Some(&t)) =
                (by_id.get(&super::graph::node_key(&r[six])), by_id.get(&super::graph::node_key(&r[tix])))
            else {
                continue;
            };
            out_edges[s].push(kept.len());
            in_edges[t].push(kept.len());
            ends.push((s, t));
            kept.push(r);
        }
        // the degrees, as two more node properties (read by node_degree_in/out)
        let mut node_cols = node_cols;
        let mut nodes = nodes;
        node_cols.push(Col::new(DEGREE_IN, KqlType::Long));
        node_cols.push(Col::new(DEGREE_OUT, KqlType::Long));
        for (i, n) in nodes.iter_mut().enumerate() {
            n.push(Cell::I(in_edges[i].len() as i64));
            n.push(Cell::I(out_edges[i].len() as i64));
        }
        Ok(Data { node_cols, nodes, edge_cols, edges: kept, ends, out_edges, in_edges })
    }
}

/// The nodes a path passes between its ends: walked from `start` along `edges` (in the
/// pattern's left-to-right order), each edge's other end, all but the last.
fn inner_nodes(data: &Data, start: usize, edges: &[usize]) -> Vec<usize> {
    let mut at = start;
    let mut out = Vec::new();
    for &e in edges {
        let (s, t) = data.ends[e];
        at = if s == at { t } else { s };
        out.push(at);
    }
    out.pop();
    out
}

/// `graph-shortest-paths`: for each binding of the pattern's nodes, the matches of the fewest
/// edges (all of them, or the first).
fn shortest(matches: &[Match], keep: &[bool], all: bool) -> Vec<bool> {
    let len = |m: &Match| m.edges.iter().map(Vec::len).sum::<usize>();
    let mut best: HashMap<&[usize], usize> = HashMap::new();
    for (m, _) in matches.iter().zip(keep).filter(|(_, k)| **k) {
        let l = len(m);
        best.entry(&m.nodes).and_modify(|b| *b = (*b).min(l)).or_insert(l);
    }
    let mut seen: HashSet<&[usize]> = HashSet::new();
    matches
        .iter()
        .zip(keep)
        .map(|(m, k)| *k && best.get(m.nodes.as_slice()) == Some(&len(m)) && (all || seen.insert(&m.nodes)))
        .collect()
}
