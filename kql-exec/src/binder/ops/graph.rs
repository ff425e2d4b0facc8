//! Graphs: `make-graph` (edges, optionally with node tables) and `graph-to-table`, which
//! exports the graph's nodes or edges back to tables. A node's id is Kusto's `hash()` of its
//! key value (what `with_node_id`, `with_source_id` and `with_target_id` export).
//!
//! A graph flows down the pipeline as its edges relation, named with an internal alias under
//! which the binder keeps the rest of the graph ([`GraphInfo`]).

use super::super::{Binder, Binding, Col, Rel};
use super::evaluate::{rows_of, Cell};
use super::{mk_rel, name_text, param};
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use datafusion::logical_expr::Expr;
use kql_parser::ast::{self, ExprKind};
use kql_parser::Span;
use std::collections::HashMap;
use std::rc::Rc;

/// What `make-graph` built: its edges, their node-id columns, and the node tables.
#[derive(Debug, Clone)]
pub struct GraphInfo {
    /// The edges (one row per edge).
    pub edges: Rel,
    /// The source node id column of the edges.
    pub source: String,
    /// The target node id column of the edges.
    pub target: String,
    /// The node tables, each with its node id column.
    pub nodes: Vec<(Rel, String)>,
    /// `with_node_id=` of `make-graph`: the property holding ids when there are no node tables.
    pub node_id_property: Option<String>,
    /// `graph-mark-components` applied: each a node property (long) holding the node's
    /// component, and whether the components are strongly connected (or weakly).
    pub components: Vec<(String, bool)>,
}

fn graph_err(msg: impl Into<String>, span: Span) -> KqlError {
    KqlError::new("KQL140", msg.into(), span)
}

impl Binder<'_> {
    /// `make-graph Source --> Target [with Nodes on Key, ...]`.
    pub(crate) fn bind_make_graph(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        source: &ast::Ident,
        target: &ast::Ident,
        nodes: &[(ast::Expr, ast::Ident)],
        span: Span,
    ) -> Result<Rel> {
        for c in [source, target] {
            if rel.col(&c.name).is_none() {
                return Err(graph_err(format!("make-graph: the edges have no column `{}`", c.name), c.span));
            }
        }
        let mut node_tables = Vec::new();
        for (t, key) in nodes {
            let r = self.bind_tabular(t)?;
            if r.col(&key.name).is_none() {
                return Err(graph_err(format!("make-graph: the node table has no column `{}`", key.name), key.span));
            }
            node_tables.push((r, key.name.clone()));
        }
        let alias = self.fresh_alias("graph");
        let info = GraphInfo {
            edges: Rel { name: None, ..rel.clone() },
            source: source.name.clone(),
            target: target.name.clone(),
            nodes: node_tables,
            node_id_property: param(params, "with_node_id").and_then(name_text),
            components: Vec::new(),
        };
        self.graphs.insert(alias.clone(), Rc::new(info));
        let _ = span;
        Ok(Rel { name: Some(alias), ..rel })
    }

    /// `graph-mark-components [kind=weak|strong] [with_component_id=Name]`: the graph with each
    /// node's connected component in a new property (`ComponentId` unless named), the
    /// components numbered from 0 in the order of their first node.
    pub(crate) fn bind_graph_mark_components(&mut self, rel: Rel, params: &[ast::NamedArg], span: Span) -> Result<Rel> {
        let Some(info) = rel.name.as_ref().and_then(|n| self.graphs.get(n)).cloned() else {
            return Err(graph_err("graph-mark-components expects a graph: put make-graph before it", span));
        };
        let strong = match param(params, "kind").and_then(name_text).map(|k| k.to_ascii_lowercase()).as_deref() {
            None | Some("weak") => false,
            Some("strong") => true,
            Some(k) => return Err(graph_err(format!("graph-mark-components kind={k}: say weak or strong"), span)),
        };
        let name = param(params, "with_component_id").and_then(name_text).unwrap_or_else(|| "ComponentId".to_string());
        let mut info = (*info).clone();
        info.components.push((name, strong));
        let alias = self.fresh_alias("graph");
        self.graphs.insert(alias.clone(), Rc::new(info));
        Ok(Rel { name: Some(alias), ..rel })
    }

    /// `graph-to-table nodes ... [, edges ...]`: each export named with `as` is bound as a
    /// table for the statements that follow; the operator's result is the first export.
    pub(crate) fn bind_graph_to_table(&mut self, rel: Rel, exports: &[ast::GraphExport], span: Span) -> Result<Rel> {
        let Some(info) = rel.name.as_ref().and_then(|n| self.graphs.get(n)).cloned() else {
            return Err(graph_err("graph-to-table expects a graph: put make-graph before it", span));
        };
        let mut first = None;
        for x in exports {
            let out = if x.edges { self.export_edges(&info, &x.params)? } else { self.export_nodes(&info, &x.params)? };
            if let Some(a) = &x.alias {
                self.scope = self.scope.with(&a.name, Binding::Tabular(out.clone()));
            }
            first.get_or_insert(out);
        }
        first.ok_or_else(|| graph_err("graph-to-table: say `nodes` or `edges`", span))
    }

    /// `hash(column)` over `rel`.
    fn node_hash(&mut self, rel: &Rel, col: &str) -> Result<Expr> {
        let span = Span::new(0, 0);
        let call = ast::Expr::new(
            ExprKind::Call {
                target: None,
                name: ast::Ident::new("hash", span),
                args: vec![ast::Arg::Positional(ast::Expr::new(ExprKind::Name(ast::Ident::new(col, span)), span))],
            },
            span,
        );
        Ok(self.bind_scalar(&call, rel)?.expr)
    }

    fn export_edges(&mut self, info: &GraphInfo, params: &[ast::NamedArg]) -> Result<Rel> {
        let edges = &info.edges;
        let mut cols: Vec<Col> = Vec::new();
        let mut exprs: Vec<Expr> = Vec::new();
        for p in params {
            let Some(name) = name_text(&p.value) else { continue };
            let node_col = match p.name.name.to_ascii_lowercase().as_str() {
                "with_source_id" => info.source.clone(),
                "with_target_id" => info.target.clone(),
                _ => continue,
            };
            exprs.push(self.node_hash(edges, &node_col)?.alias(&name));
            cols.push(Col::new(name, KqlType::Long));
        }
        for c in &edges.cols {
            if cols.iter().any(|k| k.name == c.name) {
                continue;
            }
            exprs.push(super::super::scalar::column(&c.name));
            cols.push(c.clone());
        }
        let plan = crate::binder::projection::project(edges.plan.clone(), exprs)?;
        Ok(mk_rel(plan, cols))
    }

    /// The nodes: each node table's rows (rows of the same id merged, the first non-null value
    /// of each property kept), then the nodes only the edges name, with just their id property.
    fn export_nodes(&mut self, info: &GraphInfo, params: &[ast::NamedArg]) -> Result<Rel> {
        let (props, rows, _, _) = self.graph_nodes(info)?;
        let key_prop = node_key_property(info);
        let nodes = self.rel_from_cells(props.clone(), &rows)?;
        let Some(id_col) = param(params, "with_node_id").and_then(name_text) else { return Ok(nodes) };
        let mut exprs = vec![self.node_hash(&nodes, &key_prop)?.alias(&id_col)];
        let mut cols = vec![Col::new(&id_col, KqlType::Long)];
        for c in &props {
            if c.name != id_col {
                exprs.push(super::super::scalar::column(&c.name));
                cols.push(c.clone());
            }
        }
        let plan = crate::binder::projection::project(nodes.plan, exprs)?;
        Ok(mk_rel(plan, cols))
    }

    /// The graph's nodes: their properties (the node tables' columns by name, in order of
    /// appearance), one row per node (each node table's rows, rows of the same id merged with
    /// the first non-null value of each property kept, then the nodes only the edges name, with
    /// just their id property), each node's row by its id ([`node_key`]), and the edges' rows
    /// (read once, for the nodes they name and for the caller). Empty while checking.
    #[allow(clippy::type_complexity)]
    pub(crate) fn graph_nodes(
        &mut self,
        info: &GraphInfo,
    ) -> Result<(Vec<Col>, Vec<Vec<Cell>>, HashMap<String, usize>, Vec<Vec<Cell>>)> {
        let mut props: Vec<Col> = Vec::new();
        for (t, _) in &info.nodes {
            for c in &t.cols {
                if !props.iter().any(|p| p.name == c.name) {
                    props.push(c.clone());
                }
            }
        }
        let key_prop = node_key_property(info);
        if info.nodes.is_empty() {
            let ty = info.edges.col(&info.source).map_or(KqlType::String, |c| c.ty);
            props.push(Col::new(&key_prop, ty));
        }
        let key_ix = props.iter().position(|p| p.name == key_prop).unwrap_or(0);
        let marks: Vec<usize> = info
            .components
            .iter()
            .map(|(name, _)| match props.iter().position(|p| &p.name == name) {
                Some(i) => {
                    props[i] = Col::new(name, KqlType::Long);
                    i
                }
                None => {
                    props.push(Col::new(name, KqlType::Long));
                    props.len() - 1
                }
            })
            .collect();
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        let mut edge_rows: Vec<Vec<Cell>> = Vec::new();
        if !self.options.check_only {
            for (t, key) in &info.nodes {
                let batches = self.runner.run(t.plan.clone())?;
                let kix = t.cols.iter().position(|c| &c.name == key).unwrap_or(0);
                for r in rows_of(&batches) {
                    let id = node_key(&r[kix]);
                    let ix = *by_id.entry(id).or_insert_with(|| {
                        rows.push(vec![Cell::Null; props.len()]);
                        rows.len() - 1
                    });
                    for (c, v) in t.cols.iter().zip(r) {
                        let Some(p) = props.iter().position(|p| p.name == c.name) else { continue };
                        if rows[ix][p] == Cell::Null {
                            rows[ix][p] = v;
                        }
                    }
                    // a later table's id column fills the id property
                    let own_key = props.iter().position(|p| &p.name == key).unwrap_or(key_ix);
                    if rows[ix][key_ix] == Cell::Null {
                        let v = rows[ix][own_key].clone();
                        rows[ix][key_ix] = v;
                    }
                }
            }
            edge_rows = rows_of(&self.runner.run(info.edges.plan.clone())?);
            let six = info.edges.cols.iter().position(|c| c.name == info.source).unwrap_or(0);
            let tix = info.edges.cols.iter().position(|c| c.name == info.target).unwrap_or(0);
            let mut ends = Vec::new();
            for r in &edge_rows {
                let mut end = [0usize; 2];
                for (k, ix) in [six, tix].into_iter().enumerate() {
                    if r[ix] == Cell::Null {
                        continue;
                    }
                    end[k] = *by_id.entry(node_key(&r[ix])).or_insert_with(|| {
                        let mut row = vec![Cell::Null; props.len()];
                        row[key_ix] = r[ix].clone();
                        rows.push(row);
                        rows.len() - 1
                    });
                }
                if r[six] != Cell::Null && r[tix] != Cell::Null {
                    ends.push((end[0], end[1]));
                }
            }
            for (&at, (_, strong)) in marks.iter().zip(&info.components) {
                let ids =
                    if *strong { strong_components(rows.len(), &ends) } else { weak_components(rows.len(), &ends) };
                for (row, id) in rows.iter_mut().zip(ids) {
                    row[at] = Cell::I(id as i64);
                }
            }
        }
        Ok((props, rows, by_id, edge_rows))
    }
}

/// The property holding a node's id: the first node table's key column, or `with_node_id=`, or
/// `NodeId`.
fn node_key_property(info: &GraphInfo) -> String {
    match info.nodes.first() {
        Some((_, k)) => k.clone(),
        None => info.node_id_property.clone().unwrap_or_else(|| "NodeId".to_string()),
    }
}

/// A node's id as a key: its value, whatever its type.
pub(crate) fn node_key(c: &Cell) -> String {
    format!("{c:?}")
}

/// Each node's weakly connected component (edges read both ways), numbered from 0 in the order
/// of each component's first node.
fn weak_components(n: usize, ends: &[(usize, usize)]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for &(a, b) in ends {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    number_by_first(&(0..n).map(|x| root(&mut parent, x)).collect::<Vec<_>>())
}

/// Each node's strongly connected component (Kosaraju's two passes, without recursion),
/// numbered from 0 in the order of each component's first node.
fn strong_components(n: usize, ends: &[(usize, usize)]) -> Vec<usize> {
    let mut out_adj = vec![Vec::new(); n];
    let mut in_adj = vec![Vec::new(); n];
    for &(a, b) in ends {
        out_adj[a].push(b);
        in_adj[b].push(a);
    }
    // the nodes in order of finishing a depth-first walk of the edges
    let mut seen = vec![false; n];
    let mut finished = Vec::with_capacity(n);
    for s in 0..n {
        if seen[s] {
            continue;
        }
        seen[s] = true;
        let mut stack = vec![(s, 0usize)];
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&w) = out_adj[v].get(*next) {
                *next += 1;
                if !seen[w] {
                    seen[w] = true;
                    stack.push((w, 0));
                }
            } else {
                finished.push(v);
                stack.pop();
            }
        }
    }
    // then the reversed edges, latest finished first: each walk is one component
    let mut comp = vec![usize::MAX; n];
    let mut count = 0;
    for &s in finished.iter().rev() {
        if comp[s] != usize::MAX {
            continue;
        }
        comp[s] = count;
        let mut stack = vec![s];
        while let Some(v) = stack.pop() {
            for &w in &in_adj[v] {
                if comp[w] == usize::MAX {
                    comp[w] = count;
                    stack.push(w);
                }
            }
        }
        count += 1;
    }
    number_by_first(&comp)
}

/// Labels renumbered from 0 in the order they first appear.
fn number_by_first(labels: &[usize]) -> Vec<usize> {
    let mut ids: HashMap<usize, usize> = HashMap::new();
    labels
        .iter()
        .map(|l| {
            let next = ids.len();
            *ids.entry(*l).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_numbered_by_their_first_node() {
        // 0 -> 1 -> 2 -> 0 is one strong component; 3 -> 4 two more; 5 alone
        let ends = [(0, 1), (1, 2), (2, 0), (3, 4), (2, 3)];
        assert_eq!(weak_components(6, &ends), [0, 0, 0, 0, 0, 1]);
        assert_eq!(strong_components(6, &ends), [0, 0, 0, 1, 2, 3]);
        assert_eq!(weak_components(3, &[(2, 1)]), [0, 1, 1]);
    }
}
