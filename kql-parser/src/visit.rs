//! Walking a syntax tree: every expression of a script, and the expressions inside each tabular
//! operator, without recursion (chains of thousands of `or`s are fine).
//!
//! Lints and editor features read the tree through these instead of matching every node kind
//! themselves: `all_exprs` yields pipelines (`ExprKind::Pipe`), operators in source position
//! (`ExprKind::Source`), calls and comparisons alike, wherever they are (in `let` values, function
//! bodies, subqueries of `join`, `union`, `mv-apply`, `toscalar(...)`...).

use crate::ast::*;

/// Every expression of `script`, each once, a parent before its children, statements in order.
pub fn all_exprs(script: &Script) -> Vec<&Expr> {
    statement_exprs(&script.statements)
}

/// Every expression of `statements` (and of the function bodies and pattern cases they define),
/// a parent before its children.
pub fn statement_exprs(statements: &[Statement]) -> Vec<&Expr> {
    let mut roots: Vec<&Expr> = Vec::new();
    let mut pending: Vec<&Statement> = statements.iter().rev().collect();
    while let Some(s) = pending.pop() {
        match &s.kind {
            StatementKind::Let { value: LetValue::Expr(e), .. } | StatementKind::Query(e) => roots.push(e),
            StatementKind::Let { value: LetValue::Function(f), .. } => {
                roots.extend(f.params.iter().filter_map(|p| p.default.as_ref()));
                pending.extend(f.body.iter().rev());
            }
            StatementKind::Set { value, .. } => roots.extend(value.as_ref()),
            StatementKind::DeclareQueryParameters(ps) => roots.extend(ps.iter().filter_map(|p| p.default.as_ref())),
            StatementKind::DeclarePattern(p) => {
                for case in p.cases.iter().rev() {
                    pending.extend(case.body.iter().rev());
                }
            }
            StatementKind::Other(_) => {}
        }
    }
    let mut out = Vec::new();
    for root in roots {
        let mut stack = vec![root];
        while let Some(e) = stack.pop() {
            out.push(e);
            let mut kids = children(e);
            kids.reverse();
            stack.extend(kids);
        }
    }
    out
}

/// The direct sub-expressions of `e`, in source order (a pipeline's source, then the
/// expressions of each operator).
pub fn children(e: &Expr) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = Vec::new();
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::Name(_) | ExprKind::Wildcard(_) | ExprKind::Star | ExprKind::JoinSide(_) => {}
        ExprKind::Member { target, .. } => out.push(target),
        ExprKind::Index { target, index } => out.extend([&**target, &**index]),
        ExprKind::Call { target, args, .. } => {
            out.extend(target.as_deref());
            out.extend(args.iter().map(Arg::expr));
        }
        ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) | ExprKind::Braced(operand) => out.push(operand),
        ExprKind::Binary { left, right, .. } => out.extend([&**left, &**right]),
        ExprKind::InList { expr, list, .. } => {
            out.push(expr);
            out.extend(list.iter());
        }
        ExprKind::Between { expr, low, high, .. } => out.extend([&**expr, &**low, &**high]),
        ExprKind::Pipe { source, ops } => {
            out.extend(source.as_deref());
            for op in ops {
                out.extend(operator_exprs(op));
            }
        }
        ExprKind::Source(op) => out.extend(operator_exprs(op)),
        ExprKind::Datatable { values, .. } => out.extend(values.iter()),
        ExprKind::ExternalData { urls, props, .. } => {
            out.extend(urls.iter());
            out.extend(props.iter().map(|p| &p.value));
        }
    }
    out
}

/// The expressions written inside one tabular operator, in source order (its parameters'
/// values, predicates, assigned values, subqueries).
pub fn operator_exprs(op: &Operator) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = Vec::new();
    match &op.kind {
        OperatorKind::Where(e) | OperatorKind::Take(e) | OperatorKind::Invoke(e) | OperatorKind::Sample(e) => {
            out.push(e)
        }
        OperatorKind::Extend(cs)
        | OperatorKind::Project(cs)
        | OperatorKind::Serialize(cs)
        | OperatorKind::Print(cs) => out.extend(assigned(cs)),
        OperatorKind::ProjectAway(es) | OperatorKind::ProjectKeep(es) => out.extend(es.iter()),
        OperatorKind::ProjectRename(_) | OperatorKind::Count(_) | OperatorKind::GetSchema | OperatorKind::Consume => {}
        OperatorKind::ProjectReorder(es) => out.extend(es.iter().map(|(e, _)| e)),
        OperatorKind::Summarize { params, aggs, by } => {
            out.extend(named(params));
            out.extend(assigned(aggs));
            out.extend(assigned(by));
        }
        OperatorKind::Distinct { params, columns } => {
            out.extend(named(params));
            out.extend(assigned(columns));
        }
        OperatorKind::Top { count, by } => out.extend([count, &by.expr]),
        OperatorKind::TopNested(clauses) => {
            for c in clauses {
                out.extend(c.count.as_ref());
                out.push(&c.of.expr);
                out.extend(c.others.as_ref());
                out.push(&c.by.expr);
            }
        }
        OperatorKind::TopHitters { count, of, by } => {
            out.extend([count, of]);
            out.extend(by.as_ref());
        }
        OperatorKind::Sort { params, keys } => {
            out.extend(named(params));
            out.extend(keys.iter().map(|k| &k.expr));
        }
        OperatorKind::Join { params, right, on } | OperatorKind::Lookup { params, right, on } => {
            out.extend(named(params));
            out.push(right);
            out.extend(on.iter());
        }
        OperatorKind::Union { params, tables } => {
            out.extend(named(params));
            out.extend(tables.iter());
        }
        OperatorKind::MvExpand { params, items, limit } => {
            out.extend(named(params));
            out.extend(items.iter().map(|i| &i.column.expr));
            out.extend(limit.as_ref());
        }
        OperatorKind::MvApply { params, items, limit, id, subquery } => {
            out.extend(named(params));
            out.extend(items.iter().map(|i| &i.column.expr));
            out.extend(limit.as_ref());
            out.extend(id.as_ref());
            out.push(subquery);
        }
        OperatorKind::Parse { params, source, .. } => {
            out.extend(named(params));
            out.push(source);
        }
        OperatorKind::ParseKv { source, props, .. } => {
            out.push(source);
            out.extend(named(props));
        }
        OperatorKind::MakeSeries { params, aggs, on, from, to, step, by } => {
            out.extend(named(params));
            for (a, default) in aggs {
                out.push(&a.expr);
                out.extend(default.as_ref());
            }
            out.push(on);
            out.extend(from.as_ref());
            out.extend(to.as_ref());
            out.push(step);
            out.extend(assigned(by));
        }
        OperatorKind::Evaluate { params, call, .. } => {
            out.extend(named(params));
            out.push(call);
        }
        OperatorKind::Render { props, .. } => out.extend(props.iter().flat_map(|(_, es)| es.iter())),
        OperatorKind::As { params, .. } => out.extend(named(params)),
        OperatorKind::SampleDistinct { count, of } => out.extend([count, of]),
        OperatorKind::Search { params, tables, predicate } => {
            out.extend(named(params));
            out.extend(tables.iter());
            out.push(predicate);
        }
        OperatorKind::Find { params, tables, predicate, project } => {
            out.extend(named(params));
            out.extend(tables.iter());
            out.push(predicate);
            out.extend(project.iter().flatten());
        }
        OperatorKind::Partition { params, by, subquery } => {
            out.extend(named(params));
            out.extend([by, subquery]);
        }
        OperatorKind::Scan { params, declare, steps } => {
            out.extend(named(params));
            out.extend(declare.iter().filter_map(|(_, d)| d.as_ref()));
            for s in steps {
                out.push(&s.condition);
                out.extend(assigned(&s.assignments));
            }
        }
        OperatorKind::Fork(branches) => out.extend(branches.iter().map(|(e, _)| e)),
        OperatorKind::Facet { by, with } => {
            out.extend(by.iter());
            out.extend(with.as_ref());
        }
        OperatorKind::Range { from, to, step, .. } => out.extend([from, to, step]),
        OperatorKind::Reduce { params, by, props } => {
            out.extend(named(params));
            out.push(by);
            out.extend(named(props));
        }
        OperatorKind::MakeGraph { params, nodes, .. } => {
            out.extend(named(params));
            out.extend(nodes.iter().map(|(e, _)| e));
        }
        OperatorKind::GraphToTable(exports) => {
            out.extend(exports.iter().flat_map(|x| x.params.iter().map(|p| &p.value)))
        }
        OperatorKind::GraphMarkComponents(params) => out.extend(named(params)),
        OperatorKind::GraphMatch(g) => {
            out.extend(named(&g.params));
            out.extend(g.constraints.as_ref());
            out.extend(assigned(&g.project));
        }
        OperatorKind::Other(_) => {}
    }
    out
}

/// The values of named parameters.
fn named(ps: &[NamedArg]) -> impl Iterator<Item = &Expr> {
    ps.iter().map(|p| &p.value)
}

/// The values of column assignments.
fn assigned(cs: &[ColumnAssign]) -> impl Iterator<Item = &Expr> {
    cs.iter().map(|c| &c.expr)
}

/// The tabular operators of every pipeline in `exprs`: for each pipeline (or operator in source
/// position), its operators in order. Operators in source position (`union`, `search`...) come
/// as a pipeline of one.
pub fn pipelines<'a>(exprs: &[&'a Expr]) -> Vec<Vec<&'a Operator>> {
    let mut out = Vec::new();
    for e in exprs {
        match &e.kind {
            ExprKind::Pipe { source, ops } => {
                let mut chain: Vec<&Operator> = Vec::new();
                if let Some(ExprKind::Source(op)) = source.as_deref().map(|s| &s.kind) {
                    chain.push(op);
                }
                chain.extend(ops.iter());
                out.push(chain);
            }
            ExprKind::Source(_) => {}
            _ => {}
        }
    }
    // operators in source position that do not start a pipeline (`union *` alone)
    for e in exprs {
        if let ExprKind::Source(op) = &e.kind {
            let starts_pipe = exprs
                .iter()
                .any(|p| matches!(&p.kind, ExprKind::Pipe { source: Some(s), .. } if std::ptr::eq(&**s, *e)));
            if !starts_pipe {
                out.push(vec![&**op]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expression_is_visited_once_in_order() {
        let s = crate::parse(
            "let T = S | where a > 1; T | join kind=inner (U | where b == 2) on k | project c = tolower(d)",
        )
        .unwrap();
        let names: Vec<String> = all_exprs(&s)
            .iter()
            .filter_map(|e| match &e.kind {
                ExprKind::Name(i) => Some(i.name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["S", "a", "T", "inner", "U", "b", "k", "d"]);
    }

    #[test]
    fn a_deep_chain_is_walked_without_recursion() {
        let q = format!("print {}", vec!["x == 1"; 5000].join(" or "));
        let s = crate::parse(&q).unwrap();
        assert!(all_exprs(&s).len() > 15_000);
    }

    #[test]
    fn pipelines_list_their_operators_with_the_source_operator_first() {
        let s = crate::parse("union * | where x > 1 | take 5; search \"a\"").unwrap();
        let p = pipelines(&all_exprs(&s));
        let kinds: Vec<Vec<&str>> = p
            .iter()
            .map(|ops| {
                ops.iter()
                    .map(|o| match o.kind {
                        OperatorKind::Union { .. } => "union",
                        OperatorKind::Where(_) => "where",
                        OperatorKind::Take(_) => "take",
                        OperatorKind::Search { .. } => "search",
                        _ => "?",
                    })
                    .collect()
            })
            .collect();
        assert_eq!(kinds, vec![vec!["union", "where", "take"], vec!["search"]]);
    }
}
