//! Tabular operators: everything that follows a `|`, plus the source operators
//! (`print`, `range`, `union`, `search`, `find`, `evaluate`).
//!
//! Each operator has one function here named after it; [`operator`] dispatches on the keyword.

use crate::ast::*;
use crate::expr::{call_args, column_decls, expr, named_prefix, pipe_expr, sourceless_pipe, type_name, with_props};
use crate::lex::*;
use crate::literal::{number, starts_string, string_concat, NumberToken};
use crate::span::Span;

/// Every operator keyword, hyphenated ones included.
pub const OPERATOR_KEYWORDS: &[&str] = &[
    "where",
    "filter",
    "extend",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "summarize",
    "count",
    "distinct",
    "take",
    "limit",
    "top",
    "top-nested",
    "top-hitters",
    "sort",
    "order",
    "join",
    "lookup",
    "union",
    "mv-expand",
    "mvexpand",
    "mv-apply",
    "mvapply",
    "parse",
    "parse-where",
    "parse-kv",
    "make-series",
    "evaluate",
    "render",
    "as",
    "serialize",
    "getschema",
    "invoke",
    "sample",
    "sample-distinct",
    "search",
    "find",
    "partition",
    "scan",
    "fork",
    "facet",
    "print",
    "range",
    "reduce",
    "consume",
    "make-graph",
    "graph-to-table",
    "graph-match",
    "graph-shortest-paths",
    "graph-mark-components",
];

/// Read an operator keyword (letters, `_`, and `-` joining words) at `i` without consuming.
fn keyword_at(i: In<'_>) -> &str {
    let i = ws(i);
    let mut end = 0;
    let b = i.as_bytes();
    loop {
        let n = i[end..].char_indices().find(|(_, c)| !is_ident_char(*c)).map(|(k, _)| k).unwrap_or(i.len() - end);
        end += n;
        if n > 0 && b.get(end) == Some(&b'-') && b.get(end + 1).is_some_and(|c| c.is_ascii_alphabetic()) {
            let word: String = i[end + 1..].chars().take_while(|c| is_ident_char(*c)).collect();
            let cand = format!("{}-{}", &i[..end], word);
            // a keyword or the start of one (`graph-to` of `graph-to-table`)
            let prefix = format!("{cand}-");
            if OPERATOR_KEYWORDS.iter().any(|k| *k == cand || k.starts_with(&prefix)) {
                end += 1;
                continue;
            }
        }
        return &i[..end];
    }
}

/// True when `i` starts with a tabular operator keyword (not a function call of the same name).
pub fn starts_operator(i: In) -> bool {
    let k = keyword_at(i);
    if !OPERATOR_KEYWORDS.contains(&k) || k == "fork" {
        return false;
    }
    let after = ws(&ws(i)[k.len()..]);
    !(after.starts_with('(') && matches!(k, "count" | "range" | "print" | "take" | "sample"))
}

/// One tabular operator.
pub fn operator(i: In) -> PResult<Operator> {
    let i = ws(i);
    let start = pos(i);
    let k = keyword_at(i);
    if !OPERATOR_KEYWORDS.contains(&k) {
        return fail(i, "query operator");
    }
    let r = &i[k.len()..];
    let (r, kind) = match k {
        "where" | "filter" => {
            // Kusto reads `where Name = expr` as a named predicate and ignores the name: the
            // predicate is `expr` (`where x = true` keeps every row)
            let named = named_prefix(r);
            let (r, mut e) = expr(named.as_ref().map_or(r, |(rest, _)| rest))?;
            if let Some((_, n)) = named {
                // the predicate's span covers the name, where Kusto reports it
                e.span = Span::new(n.span.start, e.span.end);
            }
            (r, OperatorKind::Where(e))
        }
        "extend" => {
            let (r, items) = assign_list(r)?;
            (r, OperatorKind::Extend(items))
        }
        "project" => {
            let (r, items) = if ends_operator(r) { (r, vec![]) } else { assign_list(r)? };
            (r, OperatorKind::Project(items))
        }
        "project-away" => {
            let (r, items) = if ends_operator(r) { (r, vec![]) } else { pattern_list(r)? };
            (r, OperatorKind::ProjectAway(items))
        }
        "project-keep" => {
            let (r, items) = if ends_operator(r) { (r, vec![]) } else { pattern_list(r)? };
            (r, OperatorKind::ProjectKeep(items))
        }
        "project-rename" if ends_operator(r) => (r, OperatorKind::ProjectRename(vec![])),
        "project-rename" => project_rename(r)?,
        "project-reorder" if ends_operator(r) => (r, OperatorKind::ProjectReorder(vec![])),
        "project-reorder" => project_reorder(r)?,
        "summarize" => summarize(r)?,
        "count" => {
            if peek_kw(r, "as") {
                let (r, _) = kw("as")(r)?;
                let (r, n) = name(r)?;
                (r, OperatorKind::Count(Some(n)))
            } else {
                (r, OperatorKind::Count(None))
            }
        }
        "distinct" => {
            let (r, params) = params(r, &[])?;
            if peek_sym(r, "*") {
                let (r, sp) = sym("*")(r)?;
                let e = Expr::new(ExprKind::Star, sp);
                (r, OperatorKind::Distinct { params, columns: vec![ColumnAssign { names: vec![], expr: e, span: sp }] })
            } else {
                let (r, columns) = assign_list(r)?;
                (r, OperatorKind::Distinct { params, columns })
            }
        }
        "take" | "limit" => {
            let (r, _) = params(r, &[])?;
            let (r, e) = expr(r)?;
            (r, OperatorKind::Take(e))
        }
        "top" => {
            let (r, _) = params(r, &[])?;
            let (r, count) = expr(r)?;
            let (r, _) = kw("by")(r)?;
            let (r, by) = sort_key(r)?;
            (r, OperatorKind::Top { count, by })
        }
        "top-nested" => top_nested(r)?,
        "top-hitters" => {
            let (r, count) = expr(r)?;
            let (r, _) = kw("of")(r)?;
            let (r, of) = expr(r)?;
            let (r, by) = if peek_kw(r, "by") {
                let (r, _) = kw("by")(r)?;
                let (r, e) = expr(r)?;
                (r, Some(e))
            } else {
                (r, None)
            };
            (r, OperatorKind::TopHitters { count, of, by })
        }
        "sort" | "order" => {
            let (r, params) = params(r, &[])?;
            let (r, _) = kw("by")(r)?;
            let (r, keys) = comma_list(r, sort_key)?;
            (r, OperatorKind::Sort { params, keys })
        }
        "join" => join_or_lookup(i, r, true)?,
        "lookup" => join_or_lookup(i, r, false)?,
        "union" => {
            let (r, params) = params(r, &["kind", "withsource", "isfuzzy"])?;
            let (r, tables) = comma_list(r, table_ref)?;
            (r, OperatorKind::Union { params, tables })
        }
        "mv-expand" | "mvexpand" => {
            let (r, params) = params(r, &["bagexpansion", "with_itemindex", "kind"])?;
            let (r, items) = comma_list(r, mv_item)?;
            let (r, limit) = opt_limit(r)?;
            (r, OperatorKind::MvExpand { params, items, limit })
        }
        "mv-apply" | "mvapply" => mv_apply(r)?,
        "parse" | "parse-where" => parse_op(r, k == "parse-where")?,
        "parse-kv" => {
            let (r, source) = expr(r)?;
            let (r, _) = kw("as")(r)?;
            let (r, columns) = column_decls(r)?;
            let (r, props) = if peek_kw(r, "with") { with_props(r)? } else { (r, vec![]) };
            (r, OperatorKind::ParseKv { source, columns, props })
        }
        "make-series" => make_series(r)?,
        "evaluate" => {
            let (r, params) = params(r, &[])?;
            let (r, call) = plugin_call(r)?;
            // optional output schema: `: (Col:type, ...)`, with `*` for the other columns
            let (r, schema) = if peek_sym(r, ":") {
                let (r, _) = sym(":")(r)?;
                let (r, cols) = schema_decls(r)?;
                (r, Some(cols))
            } else {
                (r, None)
            };
            (r, OperatorKind::Evaluate { params, call, schema })
        }
        "render" => render(r)?,
        "as" => {
            let (r, params) = params(r, &[])?;
            let (r, n) = name(r)?;
            (r, OperatorKind::As { params, name: n })
        }
        "serialize" => {
            if ends_operator(r) {
                (r, OperatorKind::Serialize(vec![]))
            } else {
                let (r, items) = assign_list(r)?;
                (r, OperatorKind::Serialize(items))
            }
        }
        "getschema" => (r, OperatorKind::GetSchema),
        "invoke" => {
            let (r, call) = plugin_call(r)?;
            (r, OperatorKind::Invoke(call))
        }
        "sample" => {
            let (r, _) = params(r, &[])?;
            let (r, e) = expr(r)?;
            (r, OperatorKind::Sample(e))
        }
        "sample-distinct" => {
            let (r, _) = params(r, &[])?;
            let (r, count) = expr(r)?;
            let (r, _) = kw("of")(r)?;
            let (r, of) = expr(r)?;
            (r, OperatorKind::SampleDistinct { count, of })
        }
        "search" => search(r)?,
        "find" => find(r)?,
        "partition" => partition(r)?,
        "scan" => scan(r)?,
        "fork" => fork(r)?,
        "facet" => {
            let (r, _) = kw("by")(r)?;
            let (r, by) = comma_list(r, name_pattern)?;
            let (r, with) = if peek_kw(r, "with") {
                let (r, _) = kw("with")(r)?;
                let (r, _) = sym("(")(r)?;
                let (r, q) = sourceless_pipe(r)?;
                let (r, _) = sym(")")(r)?;
                (r, Some(q))
            } else {
                (r, None)
            };
            (r, OperatorKind::Facet { by, with })
        }
        "print" => {
            if ends_operator(r) {
                (r, OperatorKind::Print(vec![]))
            } else {
                let (r, items) = assign_list(r)?;
                (r, OperatorKind::Print(items))
            }
        }
        "range" => {
            let (r, n) = name(r)?;
            let (r, _) = kw("from")(r)?;
            let (r, from) = expr(r)?;
            let (r, _) = kw("to")(r)?;
            let (r, to) = expr(r)?;
            let (r, _) = kw("step")(r)?;
            let (r, step) = expr(r)?;
            (r, OperatorKind::Range { name: n, from, to, step })
        }
        "reduce" => {
            let (r, params) = params(r, &["kind"])?;
            let (r, _) = kw("by")(r)?;
            let (r, by) = expr(r)?;
            let (r, props) = if peek_kw(r, "with") {
                let (r, _) = kw("with")(r)?;
                comma_list(r, |i| {
                    let (r, n) = dotted_name(i)?;
                    let (r, _) = sym("=")(r)?;
                    let (r, v) = expr(r)?;
                    Ok((r, NamedArg { name: n, value: v }))
                })?
            } else {
                (r, vec![])
            };
            (r, OperatorKind::Reduce { params, by, props })
        }
        "consume" => {
            let (r, _) = params(r, &["decodeblocks"])?;
            (r, OperatorKind::Consume)
        }
        "make-graph" => {
            let (r, mut params) = params(r, &["with_node_id"])?;
            let (r, source) = name(r)?;
            let (r, _) = sym("-->")(r)?;
            let (r, target) = name(r)?;
            // `with_node_id=Name` may also follow the edges' columns
            let (r, after) = self::params(r, &["with_node_id"])?;
            params.extend(after);
            let (r, nodes) = if peek_kw(r, "with") {
                let (r, _) = kw("with")(r)?;
                comma_list(r, |i| {
                    let (r, t) = expr(i)?;
                    let (r, _) = kw("on")(r)?;
                    let (r, key) = name(r)?;
                    Ok((r, (t, key)))
                })?
            } else {
                (r, vec![])
            };
            (r, OperatorKind::MakeGraph { params, source, target, nodes })
        }
        "graph-to-table" => {
            let (r, exports) = comma_list(r, |i| {
                let t = ws(i);
                let (r, edges) =
                    if peek_kw(t, "edges") { (kw("edges")(t)?.0, true) } else { (kw("nodes")(t)?.0, false) };
                let (r, alias) = if peek_kw(r, "as") {
                    let (r, _) = kw("as")(r)?;
                    let (r, n) = name(r)?;
                    (r, Some(n))
                } else {
                    (r, None)
                };
                let allowed: &[&str] = if edges { &["with_source_id", "with_target_id"] } else { &["with_node_id"] };
                let (r, params) = params(r, allowed)?;
                Ok((r, GraphExport { edges, alias, params }))
            })?;
            (r, OperatorKind::GraphToTable(exports))
        }
        "graph-mark-components" => {
            let (r, params) = params(r, &["kind", "with_component_id"])?;
            (r, OperatorKind::GraphMarkComponents(params))
        }
        "graph-match" | "graph-shortest-paths" => {
            let shortest = k == "graph-shortest-paths";
            let (r, params) = params(r, if shortest { &["output"] } else { &["cycles"] })?;
            let (r, patterns) = comma_list(r, graph_pattern)?;
            let (r, constraints) = if peek_kw(r, "where") {
                let (r, _) = kw("where")(r)?;
                let (r, e) = expr(r)?;
                (r, Some(e))
            } else {
                (r, None)
            };
            let (r, project) = if peek_kw(r, "project") {
                let (r, _) = kw("project")(r)?;
                assign_list(r)?
            } else {
                (r, vec![])
            };
            (r, OperatorKind::GraphMatch(GraphMatch { shortest, params, patterns, constraints, project }))
        }
        _ => return fail(i, "query operator"),
    };
    let end = pos(r);
    Ok((r, Operator { kind, span: Span::new(start, end.max(start)) }))
}

/// A pattern of `graph-match`: `(a)-[e]->(b)<--()-[p*1..3]-(c)`.
fn graph_pattern(i: In) -> PResult<GraphPattern> {
    let (mut r, first) = graph_node(i)?;
    let mut steps = Vec::new();
    while ws(r).starts_with('-') || ws(r).starts_with("<-") {
        let (r1, e) = graph_edge(r)?;
        let (r2, n) = graph_node(r1)?;
        steps.push((e, n));
        r = r2;
    }
    Ok((r, GraphPattern { first, steps }))
}

/// `(name)` or `()`.
fn graph_node(i: In) -> PResult<GraphNode> {
    let (r, open) = sym("(")(i)?;
    let (r, name) = if ws(r).starts_with(')') { (r, None) } else { name(r).map(|(r, n)| (r, Some(n)))? };
    let (r, close) = sym(")")(r)?;
    Ok((r, GraphNode { name, span: Span::new(open.start, close.end) }))
}

/// An edge: `-[e]->`, `<-[e]-`, `-[e]-`, `-->`, `<--`, `--`, the brackets optionally holding a
/// length `*min..max` (or `*n`) after the name.
fn graph_edge(i: In) -> PResult<GraphEdge> {
    let t = ws(i);
    let start = pos(t);
    let (left, mut r) = if let Some(rest) = t.strip_prefix("<-") { (true, rest) } else { (false, &t[1..]) };
    let (mut name, mut length) = (None, None);
    if r.starts_with('[') {
        r = &r[1..];
        if !ws(r).starts_with('*') && !ws(r).starts_with(']') {
            let (r1, n) = crate::lex::name(r)?;
            name = Some(n);
            r = r1;
        }
        if ws(r).starts_with('*') {
            let (r1, lo) = edge_count(&ws(r)[1..])?;
            let (r1, hi) = match ws(r1).strip_prefix("..") {
                Some(rest) => edge_count(rest)?,
                None => (r1, lo),
            };
            length = Some((lo, hi));
            r = r1;
        }
        let (r1, _) = sym("]")(r)?;
        r = r1;
    }
    let (right, r) = if let Some(rest) = r.strip_prefix("->") {
        (true, rest)
    } else if let Some(rest) = r.strip_prefix('-') {
        (false, rest)
    } else {
        return fail(r, "`-` or `->` to end the edge");
    };
    let direction = match (left, right) {
        (true, true) => return fail(t, "an edge that points one way (`-->`, `<--` or `--`)"),
        (false, true) => EdgeDirection::Right,
        (true, false) => EdgeDirection::Left,
        (false, false) => EdgeDirection::Any,
    };
    Ok((r, GraphEdge { name, direction, length, span: Span::new(start, pos(r)) }))
}

/// A whole number of a variable length edge's bounds.
fn edge_count(i: In) -> PResult<i64> {
    let t = ws(i);
    let n = t.bytes().take_while(u8::is_ascii_digit).count();
    match t[..n].parse::<i64>() {
        Ok(v) if n > 0 => Ok((&t[n..], v)),
        _ => fail(t, "a whole number of edges"),
    }
}

/// True when the operator's argument list is empty (next is `|`, `)`, `;`, `}` or the end).
fn ends_operator(i: In) -> bool {
    let t = ws(i);
    t.is_empty() || t.starts_with(['|', ')', ';', '}', ']'])
}

/// `item (, item)*`
fn comma_list<'a, T>(i: In<'a>, f: impl Fn(In<'a>) -> PResult<'a, T>) -> PResult<'a, Vec<T>> {
    let (mut rest, first) = f(i)?;
    let mut items = vec![first];
    while let Ok((r, _)) = sym(",")(rest) {
        let (r, item) = f(r)?;
        items.push(item);
        rest = r;
    }
    Ok((rest, items))
}

/// Operator parameters `name = value` before the arguments (`kind=inner`, `hint.strategy=shuffle`).
/// Names are accepted when listed in `allowed` or when they start with `hint.`.
pub fn params<'a>(i: In<'a>, allowed: &[&str]) -> PResult<'a, Vec<NamedArg>> {
    let mut rest = i;
    let mut out = Vec::new();
    loop {
        let Ok((r, n)) = dotted_name(rest) else { return Ok((rest, out)) };
        let ok_name = allowed.contains(&n.name.as_str()) || n.name.starts_with("hint.");
        let t = ws(r);
        if !ok_name || !t.starts_with('=') || t.starts_with("==") || t.starts_with("=~") {
            return Ok((rest, out));
        }
        let (r, v) = param_value(&t[1..])?;
        out.push(NamedArg { name: n, value: v });
        rest = r;
    }
}

/// A single-token parameter value: a name, number, string or boolean.
fn param_value(i: In) -> PResult<Expr> {
    let i = ws(i);
    if starts_string(i) {
        let (r, (s, sp)) = string_concat(i)?;
        return Ok((r, Expr::new(ExprKind::Literal(Literal::String(s)), sp)));
    }
    if i.starts_with(|c: char| c.is_ascii_digit()) {
        let (r, (tok, sp)) = number(i)?;
        let kind = match tok {
            NumberToken::Lit(l) => ExprKind::Literal(l),
            NumberToken::Name(n) => ExprKind::Name(Ident::new(n, sp)),
        };
        return Ok((r, Expr::new(kind, sp)));
    }
    let (r, n) = name(i)?;
    let sp = n.span;
    let kind = match n.name.as_str() {
        "true" => ExprKind::Literal(Literal::Bool(Some(true))),
        "false" => ExprKind::Literal(Literal::Bool(Some(false))),
        _ => ExprKind::Name(n),
    };
    Ok((r, Expr::new(kind, sp)))
}

/// `[Name =] expr`, `(A, B) = expr`.
pub fn column_assign(i: In) -> PResult<ColumnAssign> {
    let i = ws(i);
    let start = pos(i);
    if i.starts_with('(') {
        if let Some((r, names)) = tuple_names(i) {
            let (r, e) = expr(r)?;
            let span = Span::new(start, e.span.end);
            return Ok((r, ColumnAssign { names, expr: e, span }));
        }
    }
    if let Some((r, n)) = named_prefix(i) {
        let (r, e) = expr(r)?;
        let span = Span::new(start, e.span.end);
        return Ok((r, ColumnAssign { names: vec![n], expr: e, span }));
    }
    let (r, e) = expr(i)?;
    let span = e.span;
    Ok((r, ColumnAssign { names: vec![], expr: e, span }))
}

/// `(A, B, ...) =` for tuple assignment.
fn tuple_names(i: In) -> Option<(In, Vec<Ident>)> {
    let (mut r, _) = sym("(")(i).ok()?;
    let mut names = Vec::new();
    loop {
        let (r2, n) = name(r).ok()?;
        names.push(n);
        let t = ws(r2);
        if let Some(t2) = t.strip_prefix(',') {
            r = t2;
            continue;
        }
        let t = ws(t.strip_prefix(')')?);
        if t.starts_with('=') && !t.starts_with("==") && !t.starts_with("=~") {
            return Some((&t[1..], names));
        }
        return None;
    }
}

fn assign_list(i: In) -> PResult<Vec<ColumnAssign>> {
    comma_list(i, column_assign)
}

/// A column name or a wildcard pattern such as `Account*` (for project-away and friends).
pub fn name_pattern(i: In) -> PResult<Expr> {
    let i = ws(i);
    let start = pos(i);
    let n = i.char_indices().find(|(_, c)| !(is_ident_char(*c) || *c == '*')).map(|(k, _)| k).unwrap_or(i.len());
    if n > 0 && i[..n].contains('*') {
        return Ok((&i[n..], Expr::new(ExprKind::Wildcard(i[..n].to_string()), Span::new(start, start + n))));
    }
    let (r, id) = name(i)?;
    let sp = id.span;
    Ok((r, Expr::new(ExprKind::Name(id), sp)))
}

fn pattern_list(i: In) -> PResult<Vec<Expr>> {
    comma_list(i, name_pattern)
}

fn project_rename(i: In) -> PResult<OperatorKind> {
    let (r, pairs) = comma_list(i, |i| {
        let (r, new) = name(i)?;
        let (r, _) = sym("=")(r)?;
        let (r, old) = name(r)?;
        Ok((r, (new, old)))
    })?;
    Ok((r, OperatorKind::ProjectRename(pairs)))
}

fn project_reorder(i: In) -> PResult<OperatorKind> {
    let (r, items) = comma_list(i, |i| {
        let (r, p) = name_pattern(i)?;
        for o in ["granny-asc", "granny-desc", "asc", "desc"] {
            if let Ok((r2, _)) = kw(o)(r) {
                return Ok((r2, (p, Some(o.to_string()))));
            }
        }
        Ok((r, (p, None)))
    })?;
    Ok((r, OperatorKind::ProjectReorder(items)))
}

fn summarize(i: In) -> PResult<OperatorKind> {
    let (r, params) = params(i, &[])?;
    let (r, aggs) = if peek_kw(r, "by") || ends_operator(r) { (r, vec![]) } else { assign_list(r)? };
    let (r, by) = if peek_kw(r, "by") {
        let (r, _) = kw("by")(r)?;
        assign_list(r)?
    } else {
        (r, vec![])
    };
    Ok((r, OperatorKind::Summarize { params, aggs, by }))
}

/// `expr [asc|desc] [nulls first|last]`
pub fn sort_key(i: In) -> PResult<SortKey> {
    let (mut r, e) = expr(i)?;
    let mut order = None;
    if let Ok((r2, _)) = kw("asc")(r) {
        order = Some(SortOrder::Asc);
        r = r2;
    } else if let Ok((r2, _)) = kw("desc")(r) {
        order = Some(SortOrder::Desc);
        r = r2;
    }
    let mut nulls = None;
    if let Ok((r2, _)) = kw("nulls")(r) {
        if let Ok((r3, _)) = kw("first")(r2) {
            nulls = Some(NullsPosition::First);
            r = r3;
        } else {
            let (r3, _) = kw("last")(r2)?;
            nulls = Some(NullsPosition::Last);
            r = r3;
        }
    }
    Ok((r, SortKey { expr: e, order, nulls }))
}

fn top_nested(i: In) -> PResult<OperatorKind> {
    let mut clauses = Vec::new();
    let mut r = i;
    loop {
        let (r1, count) = if peek_kw(r, "of") {
            (r, None)
        } else {
            let (r1, e) = expr(r)?;
            (r1, Some(e))
        };
        let (r1, _) = kw("of")(r1)?;
        let (r1, of) = column_assign(r1)?;
        let (r1, others) = if peek_kw(r1, "with") {
            let (r2, _) = kw("with")(r1)?;
            let (r2, _) = kw("others")(r2)?;
            let (r2, _) = sym("=")(r2)?;
            let (r2, e) = expr(r2)?;
            (r2, Some(e))
        } else {
            (r1, None)
        };
        let (r1, _) = kw("by")(r1)?;
        let (r1, by) = column_assign(r1)?;
        let (mut r1, order) = if let Ok((r2, _)) = kw("asc")(r1) {
            (r2, Some(SortOrder::Asc))
        } else if let Ok((r2, _)) = kw("desc")(r1) {
            (r2, Some(SortOrder::Desc))
        } else {
            (r1, None)
        };
        if let Ok((r2, _)) = kw("nulls")(r1) {
            let (r2, _) = nom::branch::alt((kw("first"), kw("last")))(r2)?;
            r1 = r2;
        }
        clauses.push(TopNestedClause { count, of, others, by, order });
        r = r1;
        if peek_sym(r, ",") {
            let (r2, _) = sym(",")(r)?;
            let (r2, _) = kw("top-nested")(r2)?;
            r = r2;
            continue;
        }
        return Ok((r, OperatorKind::TopNested(clauses)));
    }
}

/// The right side of a join or lookup: a parenthesized query, a name, or a call.
fn join_right(i: In) -> PResult<Expr> {
    let t = ws(i);
    if t.starts_with('(') {
        let start = pos(t);
        let (r, _) = sym("(")(t)?;
        let (r, e) = pipe_expr(r)?;
        let (r, end) = sym(")")(r)?;
        return Ok((r, Expr::new(ExprKind::Paren(Box::new(e)), Span::new(start, end.end))));
    }
    table_ref(t)
}

fn join_or_lookup<'a>(op_start: In<'a>, i: In<'a>, is_join: bool) -> PResult<'a, OperatorKind> {
    let (r, params) = params(i, &["kind", "withsource"])?;
    let (r, right) = join_right(r)?;
    if !peek_kw(r, "on") {
        if is_join && peek_kw(r, "where") {
            let (r2, _) = kw("where")(r)?;
            let (r2, cond) = expr(r2)?;
            return finish_join(r2, params, right, vec![cond], true);
        }
        if is_join {
            expect_at(ws(r), "on");
            return fatal(op_start, "Missing join on condition clause");
        }
        let (r2, _) = kw("on")(r)?;
        return Ok((r2, OperatorKind::Lookup { params, right, on: vec![] }));
    }
    let (r, _) = kw("on")(r)?;
    let (r, on) = comma_list(r, expr)?;
    finish_join(r, params, right, on, is_join)
}

fn finish_join<'a>(
    r: In<'a>,
    params: Vec<NamedArg>,
    right: Expr,
    on: Vec<Expr>,
    is_join: bool,
) -> PResult<'a, OperatorKind> {
    Ok((r, if is_join { OperatorKind::Join { params, right, on } } else { OperatorKind::Lookup { params, right, on } }))
}

/// A table reference in `union`, `join`, `search in`: a subquery, a wildcard pattern, a name
/// or a call such as `database("x").T`.
pub fn table_ref(i: In) -> PResult<Expr> {
    let t = ws(i);
    if t.starts_with('(') {
        let start = pos(t);
        let (r, _) = sym("(")(t)?;
        let (r, e) = pipe_expr(r)?;
        let (r, end) = sym(")")(r)?;
        return Ok((r, Expr::new(ExprKind::Paren(Box::new(e)), Span::new(start, end.end))));
    }
    let n = t.char_indices().find(|(_, c)| !(is_ident_char(*c) || *c == '*')).map(|(k, _)| k).unwrap_or(t.len());
    if n > 0 && t[..n].contains('*') {
        let start = pos(t);
        return Ok((&t[n..], Expr::new(ExprKind::Wildcard(t[..n].to_string()), Span::new(start, start + n))));
    }
    crate::expr::expr(t)
}

fn mv_item(i: In) -> PResult<MvItem> {
    let (r, column) = column_assign(i)?;
    if peek_kw(r, "to") {
        let (r, _) = kw("to")(r)?;
        let (r, _) = kw("typeof")(r)?;
        let (r, _) = sym("(")(r)?;
        let (r, ty) = type_name(r)?;
        let (r, _) = sym(")")(r)?;
        return Ok((r, MvItem { column, to_type: Some(ty) }));
    }
    Ok((r, MvItem { column, to_type: None }))
}

fn opt_limit(i: In) -> PResult<Option<Expr>> {
    if peek_kw(i, "limit") {
        let (r, _) = kw("limit")(i)?;
        let (r, e) = expr(r)?;
        return Ok((r, Some(e)));
    }
    Ok((i, None))
}

fn mv_apply(i: In) -> PResult<OperatorKind> {
    let (r, params) = params(i, &["with_itemindex"])?;
    let (r, items) = comma_list(r, mv_item)?;
    let (r, limit) = opt_limit(r)?;
    let (r, id) = if peek_kw(r, "id") && named_prefix(r).is_some() {
        let (r2, _) = named_prefix(r).expect("checked");
        let (r2, e) = expr(r2)?;
        (r2, Some(e))
    } else {
        (r, None)
    };
    let (r, _) = kw("on")(r)?;
    let (r, _) = sym("(")(r)?;
    let (r, subquery) = sourceless_pipe(r)?;
    let (r, _) = sym(")")(r)?;
    Ok((r, OperatorKind::MvApply { params, items, limit, id, subquery }))
}

fn parse_op(i: In, is_where: bool) -> PResult<OperatorKind> {
    let (r, params) = params(i, &["kind", "flags"])?;
    let (r, source) = expr(r)?;
    let (mut r, _) = kw("with")(r)?;
    let mut pattern = Vec::new();
    loop {
        let t = ws(r);
        if starts_string(t) {
            let (r2, (s, _)) = string_concat(t)?;
            pattern.push(ParsePart::Literal(s));
            r = r2;
        } else if let Some(t2) = t.strip_prefix('*') {
            pattern.push(ParsePart::Star);
            r = t2;
        } else if t.starts_with(is_ident_start) || t.starts_with("['") || t.starts_with("[\"") {
            let (r2, n) = name(t)?;
            if peek_sym(r2, ":") {
                let (r3, _) = sym(":")(r2)?;
                let (r3, ty) = type_name(r3)?;
                pattern.push(ParsePart::Column(n, Some(ty)));
                r = r3;
            } else {
                pattern.push(ParsePart::Column(n, None));
                r = r2;
            }
        } else {
            break;
        }
        // an optional comma between parts is not KQL; stop at anything else
    }
    if pattern.is_empty() {
        return fail(ws(r), "parse pattern");
    }
    Ok((r, OperatorKind::Parse { is_where, params, source, pattern }))
}

fn make_series(i: In) -> PResult<OperatorKind> {
    let (r, params) = params(i, &["kind"])?;
    let (r, aggs) = comma_list(r, |i| {
        let (r, a) = column_assign(i)?;
        if peek_kw(r, "default") {
            let (r2, _) = kw("default")(r)?;
            let (r2, _) = sym("=")(r2)?;
            let (r2, d) = expr(r2)?;
            return Ok((r2, (a, Some(d))));
        }
        Ok((r, (a, None)))
    })?;
    let (r, _) = kw("on")(r)?;
    let (mut r, on) = crate::expr::add_expr(r)?;
    let mut from = None;
    let mut to = None;
    let step;
    if peek_kw(r, "in") {
        // legacy: in range(start, stop, step)
        let (r2, _) = kw("in")(r)?;
        let (r2, _) = kw("range")(r2)?;
        let (r2, (args, _)) = call_args(r2)?;
        let mut it = args.into_iter().map(|a| match a {
            Arg::Positional(e) => e,
            Arg::Named(n) => n.value,
        });
        from = it.next();
        to = it.next();
        step = match it.next() {
            Some(s) => s,
            None => return fail(ws(r2), "step"),
        };
        r = r2;
    } else {
        if peek_kw(r, "from") {
            let (r2, _) = kw("from")(r)?;
            let (r2, e) = expr(r2)?;
            from = Some(e);
            r = r2;
        }
        if peek_kw(r, "to") {
            let (r2, _) = kw("to")(r)?;
            let (r2, e) = expr(r2)?;
            to = Some(e);
            r = r2;
        }
        let (r2, _) = kw("step")(r)?;
        let (r2, e) = expr(r2)?;
        step = e;
        r = r2;
    }
    let (r, by) = if peek_kw(r, "by") {
        let (r2, _) = kw("by")(r)?;
        assign_list(r2)?
    } else {
        (r, vec![])
    };
    Ok((r, OperatorKind::MakeSeries { params, aggs, on, from, to, step, by }))
}

/// `plugin(args)` for evaluate and invoke (a name with arguments, possibly dotted).
fn plugin_call(i: In) -> PResult<Expr> {
    let t = ws(i);
    let (r, e) = expr(t)?;
    match e.kind {
        ExprKind::Call { .. } => Ok((r, e)),
        _ => fail(t, "function call"),
    }
}

fn render(i: In) -> PResult<OperatorKind> {
    let (mut r, chart) = plain_ident(i)?;
    let mut props = Vec::new();
    if peek_kw(r, "with") {
        let (r2, _) = kw("with")(r)?;
        let (mut r2, _) = sym("(")(r2)?;
        if let Ok((r3, _)) = sym(")")(r2) {
            return Ok((r3, OperatorKind::Render { chart, props }));
        }
        loop {
            let (r3, n) = plain_ident(r2)?;
            let (r3, _) = sym("=")(r3)?;
            let (mut r3, v) = expr(r3)?;
            let mut values = vec![v];
            // list values: `ycolumns=a,b` continue until the next `name =`
            while peek_sym(r3, ",") {
                let (r4, _) = sym(",")(r3)?;
                if named_prefix(r4).is_some() {
                    break;
                }
                let (r4, v) = expr(r4)?;
                values.push(v);
                r3 = r4;
            }
            props.push((n, values));
            if let Ok((r4, _)) = sym(",")(r3) {
                r2 = r4;
                continue;
            }
            let (r4, _) = sym(")")(r3)?;
            r = r4;
            break;
        }
    } else {
        // legacy `render chart title="x" kind=stacked`
        while let Some((r2, n)) = named_prefix(r) {
            let (r2, v) = expr(r2)?;
            props.push((n, vec![v]));
            r = r2;
        }
    }
    Ok((r, OperatorKind::Render { chart, props }))
}

/// `(Col:type, ..., *)` where a `*` allows further columns (evaluate output schemas, tabular
/// function parameters).
/// `( [*,] Col:type, ... )` keeping where the `*` stands (`None`).
fn schema_decls(i: In) -> PResult<Vec<Option<ColumnDecl>>> {
    let (mut r, _) = sym("(")(i)?;
    let mut cols = Vec::new();
    loop {
        if let Ok((r2, _)) = sym("*")(r) {
            cols.push(None);
            r = r2;
        } else {
            let (r2, n) = name(r)?;
            let (r2, _) = sym(":")(r2)?;
            let (r2, t) = type_name(r2)?;
            cols.push(Some(ColumnDecl { name: n, ty: t }));
            r = r2;
        }
        if let Ok((r2, _)) = sym(",")(r) {
            r = r2;
            if let Ok((r3, _)) = sym(")")(r) {
                return Ok((r3, cols));
            }
            continue;
        }
        let (r2, _) = sym(")")(r)?;
        return Ok((r2, cols));
    }
}

pub fn column_decls_star(i: In) -> PResult<Vec<ColumnDecl>> {
    let (mut r, _) = sym("(")(i)?;
    let mut cols = Vec::new();
    loop {
        if let Ok((r2, _)) = sym("*")(r) {
            r = r2;
        } else {
            let (r2, n) = name(r)?;
            let (r2, _) = sym(":")(r2)?;
            let (r2, t) = type_name(r2)?;
            cols.push(ColumnDecl { name: n, ty: t });
            r = r2;
        }
        if let Ok((r2, _)) = sym(",")(r) {
            r = r2;
            // a trailing comma before `)` is accepted, as Kusto does
            if let Ok((r3, _)) = sym(")")(r) {
                return Ok((r3, cols));
            }
            continue;
        }
        let (r2, _) = sym(")")(r)?;
        return Ok((r2, cols));
    }
}

fn in_tables(i: In) -> PResult<Vec<Expr>> {
    if peek_kw(i, "in") {
        let (r, _) = kw("in")(i)?;
        let (r, _) = sym("(")(r)?;
        let (r, tables) = comma_list(r, table_ref)?;
        let (r, _) = sym(")")(r)?;
        return Ok((r, tables));
    }
    Ok((i, vec![]))
}

fn search(i: In) -> PResult<OperatorKind> {
    let (r, params) = params(i, &["kind"])?;
    let (r, tables) = in_tables(r)?;
    let (r, predicate) = expr(r)?;
    Ok((r, OperatorKind::Search { params, tables, predicate }))
}

fn find(i: In) -> PResult<OperatorKind> {
    let (r, params) = params(i, &["withsource", "datascope"])?;
    let (r, tables) = in_tables(r)?;
    // `find Predicate` (no `in`) may leave out `where`
    let (r, _) =
        if tables.is_empty() && !peek_kw(r, "where") { (r, ()) } else { kw("where")(r).map(|(r, _)| (r, ()))? };
    let (r, predicate) = expr(r)?;
    let (r, project) = if peek_kw(r, "project-smart") {
        let (r2, _) = kw("project-smart")(r)?;
        (r2, Some(vec![]))
    } else if peek_kw(r, "project") {
        let (r2, _) = kw("project")(r)?;
        let (r2, cols) = comma_list(r2, expr)?;
        (r2, Some(cols))
    } else {
        (r, None)
    };
    Ok((r, OperatorKind::Find { params, tables, predicate, project }))
}

fn partition(i: In) -> PResult<OperatorKind> {
    let (r, params) = params(i, &[])?;
    let (r, _) = kw("by")(r)?;
    let (r, by) = name_pattern(r)?;
    let t = ws(r);
    if t.starts_with('{') {
        let start = pos(t);
        let (r, _) = sym("{")(t)?;
        let (r, q) = pipe_expr(r)?;
        let (r, end) = sym("}")(r)?;
        let subquery = Expr::new(ExprKind::Braced(Box::new(q)), Span::new(start, end.end));
        return Ok((r, OperatorKind::Partition { params, by, subquery }));
    }
    let (r, _) = sym("(")(t)?;
    let (r, subquery) = sourceless_pipe(r)?;
    let (r, _) = sym(")")(r)?;
    Ok((r, OperatorKind::Partition { params, by, subquery }))
}

fn scan(i: In) -> PResult<OperatorKind> {
    let (r, params) = params(i, &["with_match_id"])?;
    let (r, declare) = if peek_kw(r, "declare") {
        let (r2, _) = kw("declare")(r)?;
        let (r2, _) = sym("(")(r2)?;
        let (r2, items) = comma_list(r2, |i| {
            let (r, n) = name(i)?;
            let (r, _) = sym(":")(r)?;
            let (r, ty) = type_name(r)?;
            if peek_sym(r, "=") {
                let (r, _) = sym("=")(r)?;
                let (r, d) = expr(r)?;
                return Ok((r, (ColumnDecl { name: n, ty }, Some(d))));
            }
            Ok((r, (ColumnDecl { name: n, ty }, None)))
        })?;
        let (r2, _) = sym(")")(r2)?;
        (r2, items)
    } else {
        (r, vec![])
    };
    let (r, _) = kw("with")(r)?;
    let (mut r, _) = sym("(")(r)?;
    let mut steps = Vec::new();
    loop {
        if let Ok((r2, _)) = sym(")")(r) {
            return Ok((r2, OperatorKind::Scan { params, declare, steps }));
        }
        let (r2, _) = kw("step")(r)?;
        let (r2, n) = name(r2)?;
        let (r2, optional) = match kw("optional")(r2) {
            Ok((r3, _)) => (r3, true),
            Err(_) => (r2, false),
        };
        // `output = all | last | none`
        let (r2, output) = match kw("output")(r2) {
            Ok((r3, _)) => {
                let (r3, _) = sym("=")(r3)?;
                let (r3, o) = name(r3)?;
                (r3, Some(o.name.to_lowercase()))
            }
            Err(_) => (r2, None),
        };
        let (r2, _) = sym(":")(r2)?;
        let (r2, condition) = expr(r2)?;
        let (r2, assignments) = if peek_sym(r2, "=>") {
            let (r3, _) = sym("=>")(r2)?;
            assign_list(r3)?
        } else {
            (r2, vec![])
        };
        let (r2, _) = sym(";")(r2)?;
        steps.push(ScanStep { name: n, optional, output, condition, assignments });
        r = r2;
    }
}

fn fork(i: In) -> PResult<OperatorKind> {
    let mut r = i;
    let mut branches = Vec::new();
    loop {
        let t = ws(r);
        let t = match named_prefix(t) {
            Some((r2, _)) => r2,
            None => t,
        };
        let Ok((r2, _)) = sym("(")(t) else { break };
        let (r2, q) = sourceless_pipe(r2)?;
        let (r2, _) = sym(")")(r2)?;
        let (r2, alias) = if peek_kw(r2, "as") {
            let (r3, _) = kw("as")(r2)?;
            let (r3, n) = name(r3)?;
            (r3, Some(n))
        } else {
            (r2, None)
        };
        branches.push((q, alias));
        r = r2;
    }
    if branches.is_empty() {
        return fail(ws(r), "(");
    }
    Ok((r, OperatorKind::Fork(branches)))
}
