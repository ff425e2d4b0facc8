//! `top-nested`, `sample`, `sample-distinct`, `search`, `scan`, `reduce`, and errors for the
//! operators not supported yet (`find`, `partition`, `top-hitters`, `facet`, `fork`).

use super::super::naming::unique;
use super::super::scalar::{column, typed_null};
use super::super::{Binder, Binding, Bound, Col, NameHint, Rel};
use super::evaluate::{rows_of, Cell};
use super::{extend_cols, mk_rel, name_text, param};
use crate::error::{KqlError, Result};
use crate::functions::logical;
use crate::schema::KqlType;
use datafusion::common::{Column, JoinType};
use datafusion::logical_expr::{lit, Expr, ExprFunctionExt, LogicalPlanBuilder};
use kql_parser::ast::{self, ExprKind, StrOpKind};
use kql_parser::Span;

fn unsupported(name: &str, span: Span) -> KqlError {
    KqlError::new("KQL055", format!("the `{name}` operator is not supported yet"), span)
}

/// Rewrite every sub-expression of an AST expression bottom-up.
pub(crate) fn rewrite_ast(e: &ast::Expr, f: &dyn Fn(&ast::Expr) -> Option<ast::Expr>) -> ast::Expr {
    if let Some(r) = f(e) {
        return r;
    }
    let go = |x: &ast::Expr| Box::new(rewrite_ast(x, f));
    let kind = match &e.kind {
        ExprKind::Member { target, name } => ExprKind::Member { target: go(target), name: name.clone() },
        ExprKind::Index { target, index } => ExprKind::Index { target: go(target), index: go(index) },
        ExprKind::Call { target, name, args } => ExprKind::Call {
            target: target.clone(),
            name: name.clone(),
            args: args
                .iter()
                .map(|a| match a {
                    ast::Arg::Positional(x) => ast::Arg::Positional(rewrite_ast(x, f)),
                    ast::Arg::Named(n) => {
                        ast::Arg::Named(ast::NamedArg { name: n.name.clone(), value: rewrite_ast(&n.value, f) })
                    }
                })
                .collect(),
        },
        ExprKind::Unary { op, operand } => ExprKind::Unary { op: *op, operand: go(operand) },
        ExprKind::Binary { op, left, right } => ExprKind::Binary { op: *op, left: go(left), right: go(right) },
        ExprKind::InList { op, expr, list } => {
            ExprKind::InList { op: *op, expr: go(expr), list: list.iter().map(|x| rewrite_ast(x, f)).collect() }
        }
        ExprKind::Between { negated, expr, low, high } => {
            ExprKind::Between { negated: *negated, expr: go(expr), low: go(low), high: go(high) }
        }
        ExprKind::Paren(x) => ExprKind::Paren(go(x)),
        other => other.clone(),
    };
    ast::Expr::new(kind, e.span)
}

impl Binder<'_> {
    // -----------------------------------------------------------------------------------
    // top-nested
    // -----------------------------------------------------------------------------------

    pub(crate) fn bind_top_nested(&mut self, rel: Rel, clauses: &[ast::TopNestedClause], span: Span) -> Result<Rel> {
        if let Some(c) = clauses.iter().find(|c| c.others.is_some()) {
            return Err(KqlError::new("KQL140", "top-nested `with others` is not supported yet", c.of.span));
        }
        // the `of` values as columns
        let mut of_names: Vec<String> = Vec::new();
        let mut new: Vec<(String, KqlType, Expr)> = Vec::new();
        for (k, c) in clauses.iter().enumerate() {
            let b = self.bind_scalar(&c.of.expr, &rel)?;
            let name = match (c.of.names.first(), &b.hint) {
                (Some(n), _) => n.name.clone(),
                (None, NameHint::Name(n)) => n.clone(),
                (None, NameHint::None) => format!("Column{}", k + 1),
            };
            let name = unique(&name, &of_names);
            if !(matches!(&b.expr, Expr::Column(col) if col.name == name)) {
                new.push((name.clone(), b.ty, b.expr));
            }
            of_names.push(name);
        }
        let base = extend_cols(rel, new)?;
        let mut cumulative: Option<Rel> = None;
        let mut taken: Vec<String> = Vec::new();
        for (k, c) in clauses.iter().enumerate() {
            let agg_name = match c.by.names.first() {
                Some(n) => n.name.clone(),
                None => format!("aggregated_{}", of_names[k]),
            };
            taken.push(of_names[k].clone());
            let agg_name = unique(&agg_name, &taken);
            taken.push(agg_name.clone());
            let by: Vec<ast::ColumnAssign> = of_names[..=k]
                .iter()
                .map(|n| ast::ColumnAssign {
                    names: vec![],
                    expr: ast::Expr::new(ExprKind::Name(ast::Ident::new(n.clone(), span)), span),
                    span,
                })
                .collect();
            let aggs = vec![ast::ColumnAssign {
                names: vec![ast::Ident::new(agg_name.clone(), span)],
                expr: c.by.expr.clone(),
                span: c.by.span,
            }];
            let level = crate::functions::aggregate::bind_summarize(self, base.clone(), &aggs, &by, span)?;
            // keep the top N per parent
            let level = match &c.count {
                Some(n) => {
                    let n = self.const_count(n)?;
                    let asc = matches!(c.order, Some(ast::SortOrder::Asc));
                    let rn_name = self.fresh_alias("rn");
                    let rn = datafusion::functions_window::expr_fn::row_number()
                        .partition_by(of_names[..k].iter().map(|n| column(n)).collect())
                        .order_by(vec![column(&agg_name).sort(asc, false)])
                        .build()?
                        .alias(&rn_name);
                    let names: Vec<Expr> = level.cols.iter().map(|c| column(&c.name)).collect();
                    let plan = LogicalPlanBuilder::from(level.plan)
                        .window(vec![rn])?
                        .filter(column(&rn_name).lt_eq(lit(n as u64)))?
                        .project(names)?
                        .build()?;
                    mk_rel(plan, level.cols)
                }
                None => level,
            };
            cumulative = Some(match cumulative {
                None => level,
                Some(prev) => {
                    let (la, ra) = (self.fresh_alias("l"), self.fresh_alias("r"));
                    let keys_l: Vec<Column> = of_names[..k].iter().map(|n| Column::new(Some(la.as_str()), n)).collect();
                    let keys_r: Vec<Column> = of_names[..k].iter().map(|n| Column::new(Some(ra.as_str()), n)).collect();
                    let right = LogicalPlanBuilder::from(level.plan.clone()).alias(ra.as_str())?.build()?;
                    let joined = LogicalPlanBuilder::from(prev.plan)
                        .alias(la.as_str())?
                        .join_detailed(
                            right,
                            JoinType::Inner,
                            (keys_l, keys_r),
                            None,
                            datafusion::common::NullEquality::NullEqualsNull,
                        )?
                        .build()?;
                    let mut exprs: Vec<Expr> = prev
                        .cols
                        .iter()
                        .map(|c| Expr::Column(Column::new(Some(la.as_str()), &c.name)).alias(&c.name))
                        .collect();
                    let mut cols = prev.cols.clone();
                    for c in level.cols.iter().skip(k) {
                        exprs.push(Expr::Column(Column::new(Some(ra.as_str()), &c.name)).alias(&c.name));
                        cols.push(c.clone());
                    }
                    let plan = crate::binder::projection::project(joined, exprs)?;
                    mk_rel(plan, cols)
                }
            });
        }
        cumulative.ok_or_else(|| KqlError::new("KQL141", "top-nested needs at least one clause", span))
    }

    // -----------------------------------------------------------------------------------
    // sample / sample-distinct
    // -----------------------------------------------------------------------------------

    pub(crate) fn bind_sample(&mut self, rel: Rel, n: &ast::Expr) -> Result<Rel> {
        let n = self.const_count(n)?;
        // the random key is a column of its own while sorting: sorted as an expression, a
        // `count` after the sample left DataFusion's top-k with no column and a batch it could
        // not build ("must either specify a row count or at least one column")
        let names: Vec<String> = rel.cols.iter().map(|c| c.name.clone()).collect();
        let key = unique("__sample_key", &names);
        let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        exprs.push(datafusion::functions::math::expr_fn::random().alias(&key));
        let plan = crate::binder::projection::project(rel.plan, exprs)?;
        let plan = crate::binder::operators::sorted_limit(plan, vec![column(&key).sort(true, false)], n)?;
        let plan = crate::binder::projection::project(plan, rel.cols.iter().map(|c| column(&c.name)))?;
        Ok(mk_rel(plan, rel.cols))
    }

    pub(crate) fn bind_sample_distinct(&mut self, rel: Rel, count: &ast::Expr, of: &ast::Expr) -> Result<Rel> {
        let n = self.const_count(count)?;
        let b = self.bind_scalar(of, &rel)?;
        let name = match &b.hint {
            NameHint::Name(s) => s.clone(),
            NameHint::None => "Column1".to_string(),
        };
        let plan = LogicalPlanBuilder::from(rel.plan)
            .project(vec![b.expr.alias(&name)])?
            .distinct()?
            .limit(0, Some(n))?
            .build()?;
        Ok(mk_rel(plan, vec![Col::new(name, b.ty)]))
    }

    // -----------------------------------------------------------------------------------
    // search
    // -----------------------------------------------------------------------------------

    /// The search predicate over one table: bare string literals search every column.
    fn search_predicate(&mut self, rel: &Rel, p: &ast::Expr, cs: bool) -> Result<Expr> {
        match &p.kind {
            ExprKind::Literal(ast::Literal::String(term)) => {
                let (kind, needle) = match (term.starts_with('*'), term.ends_with('*') && term.len() > 1) {
                    (true, true) => (StrOpKind::Contains, term.trim_matches('*')),
                    (true, false) => (StrOpKind::HasSuffix, term.trim_start_matches('*')),
                    (false, true) => (StrOpKind::HasPrefix, term.trim_end_matches('*')),
                    (false, false) => (StrOpKind::Has, term.as_str()),
                };
                Ok(self.any_column_test(rel, kind, cs, lit(needle.to_string())))
            }
            ExprKind::Binary { op: op @ (ast::BinaryOp::And | ast::BinaryOp::Or), left, right } => {
                let l = self.search_predicate(rel, left, cs)?;
                let r = self.search_predicate(rel, right, cs)?;
                Ok(if *op == ast::BinaryOp::And { l.and(r) } else { l.or(r) })
            }
            ExprKind::Paren(x) => self.search_predicate(rel, x, cs),
            ExprKind::Call { target: None, name, args } if name.name == "not" && args.len() == 1 => {
                let x = self.search_predicate(rel, args[0].expr(), cs)?;
                Ok(Expr::Not(Box::new(x)))
            }
            _ => {
                let b = self.bind_scalar(p, rel)?;
                Ok(logical::null_false(self.as_bool(b, p.span)?))
            }
        }
    }

    /// The tables `search` and `find` look in: those `in (...)` names (names or wildcards of
    /// tables and parameterless views), or every table; each with its name.
    fn search_inputs(&mut self, op: &str, tables: &[ast::Expr], span: Span) -> Result<Vec<(String, Rel)>> {
        let mut inputs: Vec<(String, Rel)> = Vec::new();
        let pats: Vec<String> = if tables.is_empty() {
            vec!["*".to_string()]
        } else {
            tables
                .iter()
                .map(|t| match &t.kind {
                    ExprKind::Wildcard(w) => Ok(w.clone()),
                    ExprKind::Name(n) => Ok(n.name.clone()),
                    _ => Err(KqlError::new("KQL142", format!("{op} in (...) takes table names"), t.span)),
                })
                .collect::<Result<_>>()?
        };
        for pat in pats {
            let wild = pat.contains('*');
            let mut views: Vec<String> = self
                .scope
                .names()
                .filter(|n| super::super::tabular::wildcard_match(&pat, n))
                .filter(|n| match self.scope.get(n) {
                    Some(Binding::Function(f, _)) => f.is_view && f.params.is_empty(),
                    Some(Binding::Tabular(_)) => !wild,
                    _ => false,
                })
                .cloned()
                .collect();
            views.sort();
            for n in views {
                let r = self.bind_tabular(&ast::Expr::new(ExprKind::Name(ast::Ident::new(n.clone(), span)), span))?;
                inputs.push((n, r));
            }
            self.scan_windows.push(("*".into(), None));
            let names: Vec<String> = self
                .catalog
                .data_table_names()
                .into_iter()
                .filter(|n| super::super::tabular::wildcard_match(&pat, n))
                .collect();
            for n in names {
                if inputs.iter().any(|(l, _)| *l == n) {
                    continue;
                }
                let r = self.bind_table(&ast::Ident::new(n.clone(), span))?;
                inputs.push((n, r));
            }
        }
        Ok(inputs)
    }

    /// Each input filtered by a `search`/`find` predicate; inputs where it does not bind (a
    /// column it names is missing) are left out, unless there is only one.
    fn filter_inputs(
        &mut self,
        inputs: Vec<(String, Rel)>,
        predicate: &ast::Expr,
        cs: bool,
    ) -> Result<Vec<(String, Rel)>> {
        let mut filtered: Vec<(String, Rel)> = Vec::new();
        let single = inputs.len() == 1;
        for (label, r) in inputs {
            let saved = self.errors.len();
            match self.search_predicate(&r, predicate, cs) {
                Ok(p) if self.errors.len() == saved => {
                    let plan = LogicalPlanBuilder::from(r.plan).filter(p)?.build()?;
                    filtered.push((label, mk_rel(plan, r.cols)));
                }
                Ok(_) => self.errors.truncate(saved),
                Err(e) if single => return Err(e),
                Err(_) => {}
            }
        }
        Ok(filtered)
    }

    /// `find`'s filter: a table that has none of the columns the predicate names is left out;
    /// one that has some sees the others as nulls (typed as the tables that have them type
    /// them). A predicate that names no column (a term, `* has`) applies to every table.
    fn find_filter(&mut self, inputs: Vec<(String, Rel)>, predicate: &ast::Expr) -> Result<Vec<(String, Rel)>> {
        let names: Vec<&str> = predicate.free_names().into_iter().map(|n| n.name.as_str()).collect();
        let mut named: Vec<Col> = Vec::new();
        for (_, r) in &inputs {
            for c in &r.cols {
                if names.contains(&c.name.as_str()) {
                    match named.iter_mut().find(|n| n.name == c.name) {
                        Some(n) if n.ty != c.ty => n.ty = KqlType::Dynamic,
                        Some(_) => {}
                        None => named.push(c.clone()),
                    }
                }
            }
        }
        let mut out = Vec::new();
        let single = inputs.len() == 1;
        for (label, r) in inputs {
            let missing: Vec<&Col> = named.iter().filter(|n| !r.cols.iter().any(|c| c.name == n.name)).collect();
            if !named.is_empty() && missing.len() == named.len() {
                continue;
            }
            // the input with a null column for each one it lacks, filtered, then as it was
            let mut exprs: Vec<Expr> = r.cols.iter().map(|c| column(&c.name)).collect();
            let mut cols = r.cols.clone();
            for m in &missing {
                exprs.push(typed_null(m.ty).alias(&m.name));
                cols.push((*m).clone());
            }
            let widened = mk_rel(crate::binder::projection::project(r.plan.clone(), exprs)?, cols);
            let saved = self.errors.len();
            match self.search_predicate(&widened, predicate, false) {
                Ok(p) if self.errors.len() == saved => {
                    let back: Vec<Expr> = r.cols.iter().map(|c| column(&c.name)).collect();
                    let plan = LogicalPlanBuilder::from(widened.plan).filter(p)?.project(back)?.build()?;
                    out.push((label, mk_rel(plan, r.cols)));
                }
                Ok(_) => self.errors.truncate(saved),
                Err(e) if single => return Err(e),
                Err(_) => {}
            }
        }
        Ok(out)
    }

    pub(crate) fn bind_search(
        &mut self,
        rel: Option<Rel>,
        params: &[ast::NamedArg],
        tables: &[ast::Expr],
        predicate: &ast::Expr,
        span: Span,
    ) -> Result<Rel> {
        let cs = param(params, "kind").and_then(name_text).is_some_and(|k| k.eq_ignore_ascii_case("case_sensitive"));
        let mut inputs: Vec<(String, Rel)> = Vec::new();
        if let Some(r) = rel {
            inputs.push((r.name.clone().unwrap_or_default(), r));
        } else {
            inputs = self.search_inputs("search", tables, span)?;
        }
        let filtered = self.filter_inputs(inputs, predicate, cs)?;
        // union by name, `$table` first; a name keeps the type it first arrives with
        let mut all: Vec<Col> = vec![Col::new("$table", KqlType::String)];
        let mut index: std::collections::HashMap<String, usize> = [("$table".to_string(), 0)].into();
        for (_, r) in &filtered {
            for c in &r.cols {
                if !index.contains_key(&c.name) {
                    index.insert(c.name.clone(), all.len());
                    all.push(c.clone());
                }
            }
        }
        if filtered.is_empty() {
            return self.rel_from_cells(all, &[]);
        }
        let mut narrow: Vec<super::super::wide::WideInput> = Vec::with_capacity(filtered.len());
        for (label, r) in filtered {
            let mut exprs: Vec<Expr> = vec![lit(label).alias("$table")];
            let mut cols: Vec<Col> = vec![all[0].clone()];
            for rc in r.cols.iter().filter(|c| c.name != "$table") {
                let c = &all[index[&rc.name]];
                let e = if rc.ty == c.ty {
                    column(&rc.name)
                } else {
                    self.coerce(Bound::new(column(&rc.name), rc.ty), c.ty).expr
                };
                exprs.push(e.alias(&c.name));
                cols.push(c.clone());
            }
            let plan = crate::binder::projection::project(r.plan, exprs)?;
            narrow.push(super::super::wide::WideInput { plan, cols });
        }
        super::super::tabular::combine(all, narrow)
    }

    pub(crate) fn bind_find(
        &mut self,
        params: &[ast::NamedArg],
        tables: &[ast::Expr],
        predicate: &ast::Expr,
        project: Option<&Vec<ast::Expr>>,
        span: Span,
    ) -> Result<Rel> {
        let source = param(params, "withsource").and_then(name_text).unwrap_or_else(|| "source_".to_string());
        let inputs = self.search_inputs("find", tables, span)?;
        let filtered = self.find_filter(inputs, predicate)?;
        // the type a column has in the output: its type where every table that has it agrees,
        // else dynamic
        let type_of = |name: &str| -> Option<KqlType> {
            let mut types = filtered.iter().filter_map(|(_, r)| r.cols.iter().find(|c| c.name == name).map(|c| c.ty));
            let first = types.next()?;
            Some(if types.all(|t| t == first) { first } else { KqlType::Dynamic })
        };
        let mut out: Vec<Col> = Vec::new();
        let mut pack_all = false;
        match project.filter(|p| !p.is_empty()) {
            // `project` names the columns (null where a table lacks one), `pack_all()` adds a
            // bag of each row's columns
            Some(items) => {
                for item in items {
                    match &item.kind {
                        ExprKind::Name(n) => {
                            let ty = type_of(&n.name).ok_or_else(|| {
                                KqlError::new(
                                    "KS142",
                                    format!(
                                        "The name '{}' does not refer to any known column, table, variable or function.",
                                        n.name
                                    ),
                                    item.span,
                                )
                            })?;
                            if !out.iter().any(|c| c.name == n.name) {
                                out.push(Col::new(n.name.clone(), ty));
                            }
                        }
                        ExprKind::Call { target: None, name, args } if name.name == "pack_all" && args.is_empty() => {
                            pack_all = true
                        }
                        _ => {
                            return Err(KqlError::new(
                                "KS109",
                                "find ... project takes column names and pack_all()",
                                item.span,
                            ))
                        }
                    }
                }
            }
            // project-smart: the columns every table has (in the first table's order), then the
            // columns the predicate names (in the order it names them); the rest go to `pack_`
            None => {
                if let Some((_, first)) = filtered.first() {
                    for c in &first.cols {
                        if filtered.iter().all(|(_, r)| r.cols.iter().any(|x| x.name == c.name)) {
                            out.push(Col::new(c.name.clone(), type_of(&c.name).unwrap_or(c.ty)));
                        }
                    }
                }
                // the names in the order the predicate first names them
                let names: Vec<&str> = predicate.free_names().into_iter().map(|n| n.name.as_str()).collect();
                let mut named: Vec<(usize, String)> = Vec::new();
                for (_, r) in &filtered {
                    for c in &r.cols {
                        if out.iter().any(|o| o.name == c.name) || named.iter().any(|(_, n)| *n == c.name) {
                            continue;
                        }
                        if let Some(at) = names.iter().position(|n| *n == c.name) {
                            named.push((at, c.name.clone()));
                        }
                    }
                }
                named.sort();
                for (_, n) in named {
                    let ty = type_of(&n).unwrap_or(KqlType::Dynamic);
                    out.push(Col::new(n, ty));
                }
                pack_all = filtered.iter().any(|(_, r)| r.cols.iter().any(|c| !out.iter().any(|o| o.name == c.name)));
            }
        }
        let mut all: Vec<Col> = vec![Col::new(source.clone(), KqlType::String)];
        all.extend(out.iter().cloned());
        if pack_all {
            all.push(Col::new("pack_", KqlType::Dynamic));
        }
        if filtered.is_empty() {
            return self.rel_from_cells(all, &[]);
        }
        let mut narrow: Vec<super::super::wide::WideInput> = Vec::with_capacity(filtered.len());
        for (label, r) in filtered {
            let mut exprs: Vec<Expr> = vec![lit(label).alias(&source)];
            let mut cols: Vec<Col> = vec![all[0].clone()];
            for c in &out {
                if let Some(rc) = r.cols.iter().find(|x| x.name == c.name) {
                    exprs.push(self.coerce(Bound::new(column(&rc.name), rc.ty), c.ty).expr.alias(&c.name));
                    cols.push(c.clone());
                }
            }
            if pack_all {
                // the columns left out of the output, by name (Kusto's docs: `project a,
                // pack_all()` packs the others; `project pack_all()` packs them all)
                let packed: Vec<Col> =
                    r.cols.iter().filter(|c| !out.iter().any(|o| o.name == c.name)).cloned().collect();
                exprs.push(crate::functions::dynfn::pack_all(self, &packed, true).expr.alias("pack_"));
                cols.push(Col::new("pack_", KqlType::Dynamic));
            }
            let plan = crate::binder::projection::project(r.plan, exprs)?;
            narrow.push(super::super::wide::WideInput { plan, cols });
        }
        super::super::tabular::combine(all, narrow)
    }

    pub(crate) fn bind_reduce(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        by: &ast::Expr,
        props: &[ast::NamedArg],
        span: Span,
    ) -> Result<Rel> {
        let kind = param(params, "kind").and_then(name_text);
        let source = match kind.as_deref() {
            None => false,
            Some(k) if k.eq_ignore_ascii_case("source") => true,
            Some(k) => return Err(KqlError::new("KQL056", format!("reduce: unknown kind `{k}`"), span)),
        };
        let mut threshold = 0.1;
        let mut characters: Option<String> = None;
        for p in props {
            let (c, _) = self.const_cell(&p.value)?;
            match p.name.name.to_ascii_lowercase().as_str() {
                "threshold" => match c.f() {
                    Some(t) if (0.0..=1.0).contains(&t) => threshold = t,
                    _ => {
                        return Err(KqlError::new("KQL056", "reduce: threshold must be a real in [0, 1]", p.value.span))
                    }
                },
                "characters" => match c {
                    Cell::S(s) => characters = Some(s),
                    _ => return Err(KqlError::new("KQL056", "reduce: characters must be a string", p.value.span)),
                },
                other => {
                    return Err(KqlError::new("KQL056", format!("reduce: unknown property `{other}`"), p.name.span))
                }
            }
        }
        let b = self.bind_scalar(by, &rel)?;
        let value = self.coerce(b, KqlType::String).expr;
        // kind=source: the input columns, then each row's cluster (as Kusto.Language types it)
        let cluster_cols = [
            Col::new("Pattern", KqlType::String),
            Col::new("Count", KqlType::Long),
            Col::new("Representative", KqlType::String),
        ];
        let out_cols: Vec<Col> = if source {
            rel.cols.iter().cloned().chain(cluster_cols.iter().cloned()).collect()
        } else {
            cluster_cols.to_vec()
        };
        if self.options.check_only {
            return self.rel_from_cells(out_cols, &[]);
        }
        // the input with the reduced value last
        let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        exprs.push(value.alias("__reduce_value"));
        let plan = crate::binder::projection::project(rel.plan, exprs)?;
        let batches = self.runner.run(plan)?;
        let mut rows = rows_of(&batches);
        let values: Vec<String> = rows
            .iter_mut()
            .map(|r| match r.pop() {
                Some(Cell::S(s)) => s,
                _ => String::new(),
            })
            .collect();
        let (of_row, clusters) = reduce_patterns(&values, threshold, characters.as_deref());
        let others = of_row.iter().filter(|c| c.is_none()).count();
        if source {
            for (r, c) in rows.iter_mut().zip(&of_row) {
                match c.and_then(|k| clusters.get(k)) {
                    Some((p, n, first)) => {
                        r.extend([Cell::S(p.clone()), Cell::I(*n as i64), Cell::S(values[*first].clone())])
                    }
                    None => r.extend([Cell::S("others".into()), Cell::I(others as i64), Cell::S(String::new())]),
                }
            }
            return self.rel_from_cells(out_cols, &rows);
        }
        let mut out: Vec<Vec<Cell>> = clusters
            .iter()
            .map(|(p, n, first)| vec![Cell::S(p.clone()), Cell::I(*n as i64), Cell::S(values[*first].clone())])
            .collect();
        if others > 0 {
            out.push(vec![Cell::S("others".into()), Cell::I(others as i64), Cell::S(String::new())]);
        }
        self.rel_from_cells(out_cols, &out)
    }

    // -----------------------------------------------------------------------------------
    // scan
    // -----------------------------------------------------------------------------------

    /// `scan ... with (step ...)`: each step's `output` (`all`, `last`, `none`) decides which of
    /// its matches are output (see [`StepOutput`]).
    pub(crate) fn bind_scan(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        declare: &[(ast::ColumnDecl, Option<ast::Expr>)],
        steps: &[ast::ScanStep],
        span: Span,
    ) -> Result<Rel> {
        self.bind_scan_in(rel, params, declare, steps, span, None)
    }

    /// `scan` run separately over the rows of each value of column `partition` (inside
    /// `partition by`: each subtable has its own state and match ids), or over all rows.
    pub(crate) fn bind_scan_in(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        declare: &[(ast::ColumnDecl, Option<ast::Expr>)],
        steps: &[ast::ScanStep],
        span: Span,
        partition: Option<&str>,
    ) -> Result<Rel> {
        let part_idx = partition.and_then(|p| rel.cols.iter().position(|c| c.name == p));
        let _ = span;
        let match_id = param(params, "with_match_id").and_then(name_text);
        // extended columns: input, then declared
        let mut ext: Vec<Col> = rel.cols.clone();
        let mut defaults: Vec<Expr> = Vec::new();
        for (d, dv) in declare {
            let ty = super::super::tabular::type_of(&d.ty);
            let e = match dv {
                Some(v) => {
                    let b = self.bind_constant(v)?;
                    self.coerce(b, ty).expr
                }
                None => typed_null(ty),
            };
            defaults.push(e);
            ext.push(Col::new(&d.name.name, ty));
        }
        let nin = rel.cols.len();
        // the context schema: extended columns, then each step's state columns
        let state_name = |k: usize, c: &str| format!("__scan{k}_{c}");
        let mut ctx_cols: Vec<Col> = ext.clone();
        for k in 0..steps.len() {
            for c in &ext {
                ctx_cols.push(Col::new(state_name(k, &c.name), c.ty));
            }
        }
        let ctx_schema_rel = self.rel_from_cells(ctx_cols.clone(), &[])?;
        let step_names: Vec<String> = steps.iter().map(|s| s.name.name.clone()).collect();
        let rewrite = |e: &ast::Expr| {
            rewrite_ast(e, &|x: &ast::Expr| {
                if let ExprKind::Member { target, name } = &x.kind {
                    if let ExprKind::Name(t) = &target.kind {
                        if let Some(k) = step_names.iter().position(|s| *s == t.name) {
                            return Some(ast::Expr::new(
                                ExprKind::Name(ast::Ident::new(state_name(k, &name.name), name.span)),
                                x.span,
                            ));
                        }
                    }
                }
                None
            })
        };
        // per step: condition and assignments, bound once
        let mut exprs: Vec<Expr> = Vec::new();
        let mut assign_idx: Vec<Vec<(usize, usize)>> = Vec::new(); // (ext column, expr index)
        let mut cond_idx: Vec<usize> = Vec::new();
        for s in steps {
            let b = self.bind_scalar(&rewrite(&s.condition), &ctx_schema_rel)?;
            let p = logical::null_false(self.as_bool(b, s.condition.span)?);
            cond_idx.push(exprs.len());
            exprs.push(p);
            let mut a_idx = Vec::new();
            for a in &s.assignments {
                let Some(n) = a.names.first() else {
                    return Err(KqlError::new("KQL143", "a scan assignment needs a column name", a.span));
                };
                let Some(ci) = ext.iter().position(|c| c.name == n.name) else {
                    return Err(KqlError::new(
                        "KQL144",
                        format!("`{}` is not a declared column of the scan", n.name),
                        n.span,
                    ));
                };
                let b = self.bind_scalar(&rewrite(&a.expr), &ctx_schema_rel)?;
                let b = self.coerce(b, ext[ci].ty);
                a_idx.push((ci, exprs.len()));
                exprs.push(b.expr);
            }
            assign_idx.push(a_idx);
        }
        let mut out_cols = ext.clone();
        if let Some(m) = &match_id {
            out_cols.push(Col::new(m, KqlType::Long));
        }
        if self.options.check_only {
            return self.rel_from_cells(out_cols, &[]);
        }
        // defaults as cells
        let dplan = LogicalPlanBuilder::empty(true)
            .project(defaults.iter().enumerate().map(|(i, e)| e.clone().alias(format!("d{i}"))).collect::<Vec<_>>())?
            .build()?;
        let drow: Vec<Cell> = if defaults.is_empty() {
            vec![]
        } else {
            rows_of(&self.runner.run(dplan)?).into_iter().next().unwrap_or_default()
        };
        let input = rows_of(&self.runner.run(rel.plan.clone())?);
        let n = steps.len();
        // state[k]: per step j <= k, the extended record; and the match id
        type State = (Vec<Option<Vec<Cell>>>, i64);
        let mut state: Vec<Option<State>> = vec![None; n];
        let mut next_id: i64 = 0;
        // the output records (None: withdrawn by a later match of an `output=last` step)
        let mut out: Vec<Option<Vec<Cell>>> = Vec::new();
        let outputs: Vec<StepOutput> = steps
            .iter()
            .map(|s| match s.output.as_deref() {
                Some("none") => StepOutput::None,
                Some("last") => StepOutput::Last,
                _ => StepOutput::All,
            })
            .collect();
        // per step, where its last output record of the current series of matches is
        let mut last_out: Vec<Option<usize>> = vec![None; n];
        let named: Vec<Expr> = exprs.iter().enumerate().map(|(i, e)| e.clone().alias(format!("e{i}"))).collect();
        // the state of the other partitions, by the partition value
        type Saved = (Vec<Option<State>>, i64, Vec<Option<usize>>);
        let mut saved: std::collections::HashMap<String, Saved> = std::collections::HashMap::new();
        let mut current: Option<String> = None;
        for row in input {
            if let Some(pi) = part_idx {
                let key = format!("{:?}", row[pi]);
                if current.as_ref() != Some(&key) {
                    let fresh = (vec![None; n], 0, vec![None; n]);
                    let (st, id, lo) = saved.remove(&key).unwrap_or(fresh);
                    let old = (std::mem::replace(&mut state, st), next_id, std::mem::replace(&mut last_out, lo));
                    next_id = id;
                    if let Some(c) = current.replace(key) {
                        saved.insert(c, old);
                    }
                }
            }
            let mut base: Vec<Cell> = row.clone();
            base.extend(drow.iter().cloned());
            // contexts: state[0..n], then the empty state
            let mut ctx_rows: Vec<Vec<Cell>> = Vec::new();
            for k in 0..=n {
                let mut r = base.clone();
                let st = state.get(k).and_then(|s| s.as_ref());
                for j in 0..n {
                    let vals = st.and_then(|s| s.0[j].clone());
                    match vals {
                        Some(v) => r.extend(v),
                        None => {
                            // an empty state holds the declared defaults
                            r.extend(std::iter::repeat_n(Cell::Null, nin));
                            r.extend(drow.iter().cloned());
                        }
                    }
                }
                ctx_rows.push(r);
            }
            let crel = self.rel_from_cells(ctx_cols.clone(), &ctx_rows)?;
            let plan = crate::binder::projection::project(crel.plan, named.clone())?;
            let res = rows_of(&self.runner.run(plan)?);
            let eval_ext = |k: usize, ctx: usize| -> Vec<Cell> {
                let mut r = base.clone();
                for (ci, ei) in &assign_idx[k] {
                    r[*ci] = res[ctx][*ei].clone();
                }
                r
            };
            let holds = |k: usize, ctx: usize| matches!(res[ctx][cond_idx[k]], Cell::B(true));
            // (step, a repeated match of the step, the output record)
            let mut emitted: Vec<(usize, bool, Vec<Cell>)> = Vec::new();
            for k in (0..n).rev() {
                let mut matched = false;
                if k > 0 && state[k - 1].is_some() && holds(k, k - 1) {
                    let mut st = state[k - 1].take().expect("state");
                    let e = eval_ext(k, k - 1);
                    st.0[k] = Some(e.clone());
                    let id = st.1;
                    state[k] = Some(st);
                    // the previous step's series of matches ends; this step's begins
                    last_out[k - 1] = None;
                    emitted.push((k, false, with_id(e, id, match_id.is_some())));
                    matched = true;
                }
                if !matched {
                    let active = state[k].is_some();
                    let ctx = if active { k } else { n };
                    if (active || k == 0) && holds(k, ctx) {
                        let e = eval_ext(k, ctx);
                        // a match of the first step with no active sequence begins a new one
                        // (a new match id); with one, it continues it
                        let id = if k == 0 && !active {
                            next_id += 1;
                            next_id - 1
                        } else {
                            state[k].as_ref().map(|s| s.1).unwrap_or(0)
                        };
                        let st = state[k].get_or_insert_with(|| (vec![None; n], id));
                        st.0[k] = Some(e.clone());
                        st.1 = id;
                        emitted.push((k, active, with_id(e, id, match_id.is_some())));
                    }
                }
            }
            // a record matching several steps is output once per step, first step first; a step
            // with `output=none` outputs nothing, one with `output=last` only the last record of
            // a series of repeated matches
            emitted.reverse();
            for (k, repeat, e) in emitted {
                match outputs[k] {
                    StepOutput::None => {}
                    StepOutput::All => out.push(Some(e)),
                    StepOutput::Last => {
                        if let (true, Some(i)) = (repeat, last_out[k]) {
                            out[i] = None;
                        }
                        last_out[k] = Some(out.len());
                        out.push(Some(e));
                    }
                }
            }
        }
        let _ = nin;
        let out: Vec<Vec<Cell>> = out.into_iter().flatten().collect();
        self.rel_from_cells(out_cols, &out)
    }

    /// `partition by Col (subquery)`: the subquery applied to the rows of each value of `Col`
    /// (bound with the per-row machinery of `mv-apply`, keyed on the partition value).
    pub(crate) fn bind_partition(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        by: &ast::Expr,
        subquery: &ast::Expr,
        span: Span,
    ) -> Result<Rel> {
        let _ = params;
        let ExprKind::Name(key) = &by.kind else {
            return Err(KqlError::new("KQL145", "partition by takes a column name", by.span));
        };
        if rel.col(&key.name).is_none() {
            return Err(KqlError::new(
                "KS142",
                format!("The name '{}' does not refer to any known column, table, variable or function.", key.name),
                key.span,
            ));
        }
        let inner = match &subquery.kind {
            ExprKind::Braced(x) | ExprKind::Paren(x) => x.as_ref(),
            _ => subquery,
        };
        let ExprKind::Pipe { source: None, ops } = &inner.kind else {
            return self.bind_partition_sourced(rel, key, inner, span);
        };
        let ctx_name = self.fresh_alias(super::mvapply::CTX);
        let ctx_name = ctx_name.as_str();
        let ctx = datafusion::functions::core::expr_fn::named_struct(vec![lit("__rid"), column(&key.name)]);
        let mut cols = rel.cols.clone();
        let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        exprs.push(ctx.alias(ctx_name));
        cols.push(Col::new(ctx_name, KqlType::String));
        let plan = crate::binder::projection::project(rel.plan, exprs)?;
        let mut sub = mk_rel(plan, cols);
        let mut order = Vec::new();
        for op in ops {
            sub = self.bind_per_row(sub, op, ctx_name, &mut order)?;
            if sub.col(ctx_name).is_none() {
                return Err(KqlError::new(
                    "KQL114",
                    format!(
                        "the `{}` operator is not supported inside partition yet",
                        super::super::tabular::operator_name(&op.kind)
                    ),
                    op.span,
                ));
            }
        }
        let keep: Vec<Col> = sub.cols.iter().filter(|c| c.name != ctx_name).cloned().collect();
        let plan = LogicalPlanBuilder::from(sub.plan)
            .project(keep.iter().map(|c| column(&c.name)).collect::<Vec<_>>())?
            .build()?;
        Ok(mk_rel(plan, keep))
    }

    /// `partition by Col { T | ... }`: the subquery, which has its own source, bound once per
    /// value of `Col` with that value as a scalar named `Col`; the results are combined.
    fn bind_partition_sourced(&mut self, rel: Rel, key: &ast::Ident, q: &ast::Expr, span: Span) -> Result<Rel> {
        let kty = rel.col(&key.name).map(|c| c.ty).unwrap_or(KqlType::String);
        let values: Vec<Expr> = if self.options.check_only {
            vec![typed_null(kty)]
        } else {
            let probe =
                LogicalPlanBuilder::from(rel.plan.clone()).project(vec![column(&key.name)])?.distinct()?.build()?;
            let batches = self.runner.run(probe)?;
            let mut v = Vec::new();
            for b in &batches {
                for i in 0..b.num_rows() {
                    v.push(lit(datafusion::common::ScalarValue::try_from_array(b.column(0), i)?));
                }
            }
            v
        };
        let saved = self.scope.clone();
        let mut parts: Vec<Rel> = Vec::new();
        for v in values {
            self.scope = saved.with(&key.name, Binding::Scalar(Bound::new(v, kty)));
            let r = self.bind_tabular(q);
            self.scope = saved.clone();
            parts.push(r?);
        }
        let Some(first) = parts.first() else {
            // no partitions: the shape of the subquery over a null key
            self.scope = saved.with(&key.name, Binding::Scalar(Bound::new(typed_null(kty), kty)));
            let r = self.bind_tabular(q);
            self.scope = saved;
            let r = r?;
            let plan = LogicalPlanBuilder::from(r.plan).limit(0, Some(0))?.build()?;
            return Ok(mk_rel(plan, r.cols));
        };
        let cols = first.cols.clone();
        let mut plan: Option<LogicalPlanBuilder> = None;
        for p in parts {
            if p.cols.iter().map(|c| &c.name).ne(cols.iter().map(|c| &c.name)) {
                return Err(KqlError::new("KQL146", "the partitions' results have different columns", span));
            }
            plan = Some(match plan {
                None => LogicalPlanBuilder::from(p.plan),
                Some(b) => b.union(p.plan)?,
            });
        }
        Ok(mk_rel(plan.expect("partitions").build()?, cols))
    }

    pub(crate) fn bind_top_hitters(
        &mut self,
        rel: Rel,
        count: &ast::Expr,
        of: &ast::Expr,
        by: Option<&ast::Expr>,
        span: Span,
    ) -> Result<Rel> {
        // Kusto's approximation (a count-min sketch) returns the exact answer on data of this
        // size; the documented equivalent is computed exactly: `summarize C = count() by V | top N by C`
        // (`sum(S)` with `by S`), named `approximate_count_V` / `approximate_sum_S`.
        let ExprKind::Name(value) = &of.kind else {
            return Err(KqlError::new("KS109", "Column name expected.", of.span)
                .with_help("top-hitters counts the values of a column: extend the expression as a column first"));
        };
        let n = self.const_count(count)?;
        let ident = |name: &str| ast::Ident { name: name.to_string(), span };
        let call = |name: &str, args: Vec<ast::Arg>| ast::Expr {
            kind: ExprKind::Call { target: None, name: ident(name), args },
            span,
        };
        let (agg_name, agg) = match by {
            None => (format!("approximate_count_{}", value.name), call("count", vec![])),
            Some(e) => {
                let named = match &e.kind {
                    ExprKind::Name(c) => c.name.as_str(),
                    _ => "",
                };
                (format!("approximate_sum_{named}"), call("sum", vec![ast::Arg::Positional(e.clone())]))
            }
        };
        let aggs = [ast::ColumnAssign { names: vec![ident(&agg_name)], expr: agg, span }];
        let keys = [ast::ColumnAssign { names: vec![], expr: of.clone(), span: of.span }];
        let grouped = crate::functions::aggregate::bind_summarize(self, rel, &aggs, &keys, span)?;
        let key = column(&agg_name).sort(false, false);
        let plan = crate::binder::operators::sorted_limit(grouped.plan, vec![key], n)?;
        Ok(mk_rel(plan, grouped.cols))
    }

    pub(crate) fn bind_facet(
        &mut self,
        rel: Rel,
        by: &[ast::Expr],
        with: Option<&ast::Expr>,
        span: Span,
    ) -> Result<Rel> {
        let _ = (rel, by, with);
        Err(unsupported("facet", span))
    }

    pub(crate) fn bind_fork(
        &mut self,
        rel: Rel,
        branches: &[(ast::Expr, Option<ast::Ident>)],
        span: Span,
    ) -> Result<Rel> {
        let _ = (rel, branches);
        Err(unsupported("fork", span))
    }
}

fn with_id(mut e: Vec<Cell>, id: i64, want: bool) -> Vec<Cell> {
    if want {
        e.push(Cell::I(id));
    }
    e
}

/// The terms of a value for `reduce`: its whitespace-separated words, each cut before every
/// separator character (`characters`, or by default every character that is not an ASCII
/// letter or digit), the separator starting the next term.
fn reduce_terms(s: &str, characters: Option<&str>) -> Vec<Vec<String>> {
    let is_sep = |c: char| match characters {
        Some(set) => set.contains(c),
        None => !c.is_ascii_alphanumeric(),
    };
    s.split_whitespace()
        .map(|w| {
            let mut terms: Vec<String> = Vec::new();
            for c in w.chars() {
                match terms.last_mut() {
                    Some(t) if !is_sep(c) => t.push(c),
                    _ => terms.push(c.to_string()),
                }
            }
            terms
        })
        .collect()
}

/// `reduce`'s clustering, after Vaarandi's SLCT (which Kusto's documentation names): a term
/// (at its word and term position) is frequent when more than `threshold` of the rows have
/// it; a row's pattern keeps its frequent terms and puts `*` for each run of others (words
/// joined by one space); a pattern is a cluster when more than `threshold` of the rows have
/// it. Returns each row's cluster (`None`: one of the `others`) and the clusters as
/// (pattern, count, first row), largest first.
pub(crate) fn reduce_patterns(
    values: &[String],
    threshold: f64,
    characters: Option<&str>,
) -> (Vec<Option<usize>>, Vec<(String, usize, usize)>) {
    use std::collections::HashMap;
    let support = threshold * values.len() as f64;
    let terms: Vec<Vec<Vec<String>>> = values.iter().map(|v| reduce_terms(v, characters)).collect();
    let mut freq: HashMap<(usize, usize, &str), usize> = HashMap::new();
    for words in &terms {
        for (wi, w) in words.iter().enumerate() {
            for (ti, t) in w.iter().enumerate() {
                *freq.entry((wi, ti, t.as_str())).or_default() += 1;
            }
        }
    }
    let frequent = |wi: usize, ti: usize, t: &str| freq.get(&(wi, ti, t)).is_some_and(|n| *n as f64 > support);
    let templates: Vec<Option<String>> = terms
        .iter()
        .map(|words| {
            let mut any = false;
            let parts: Vec<String> = words
                .iter()
                .enumerate()
                .map(|(wi, w)| {
                    let mut out = String::new();
                    for (ti, t) in w.iter().enumerate() {
                        if frequent(wi, ti, t) {
                            any = true;
                            out.push_str(t);
                        } else if !out.ends_with('*') {
                            out.push('*');
                        }
                    }
                    out
                })
                .collect();
            any.then(|| parts.join(" "))
        })
        .collect();
    let mut by_template: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, t) in templates.iter().enumerate() {
        if let Some(t) = t {
            by_template.entry(t.as_str()).or_insert((0, i)).0 += 1;
        }
    }
    let mut clusters: Vec<(String, usize, usize)> = by_template
        .into_iter()
        .filter(|(_, (n, _))| *n as f64 > support)
        .map(|(t, (n, first))| (t.to_string(), n, first))
        .collect();
    clusters.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let index: HashMap<&str, usize> = clusters.iter().enumerate().map(|(k, c)| (c.0.as_str(), k)).collect();
    let of_row = templates.iter().map(|t| t.as_deref().and_then(|t| index.get(t).copied())).collect();
    (of_row, clusters)
}

#[cfg(test)]
mod reduce_tests {
    use super::*;

    fn vals(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn terms_start_at_separators() {
        assert_eq!(reduce_terms("fooZ1 a", Some("Z")), [vec!["foo".to_string(), "Z1".into()], vec!["a".into()]]);
        assert_eq!(reduce_terms("One -on- One", None)[1], ["-on", "-"]);
    }

    #[test]
    fn kusto_doc_examples() {
        let v: Vec<String> = (1..=10).map(|x| format!("fooZ{x}")).collect();
        let (rows, clusters) = reduce_patterns(&v, 0.1, None);
        assert!(clusters.is_empty() && rows.iter().all(Option::is_none));
        let (rows, clusters) = reduce_patterns(&v, 0.1, Some("Z"));
        assert_eq!(clusters, [("foo*".to_string(), 10, 0)]);
        assert!(rows.iter().all(|r| *r == Some(0)));
    }

    #[test]
    fn frequent_words_stay_and_rare_ones_become_stars() {
        let mut v =
            vals(&["San Bernard", "San Diego", "San Jose", "Moscow", "Moscow", "Alice -on- Bob", "Carol -on- Dan"]);
        v.extend(vals(&["Eve -on- Mallory", "Paris", "Paris", "Lyon"]));
        let (rows, clusters) = reduce_patterns(&v, 0.1, None);
        let pats: Vec<(&str, usize)> = clusters.iter().map(|c| (c.0.as_str(), c.1)).collect();
        assert_eq!(pats, [("San *", 3), ("* -on- *", 3), ("Moscow", 2), ("Paris", 2)]);
        assert_eq!(rows[10], None);
        assert_eq!(reduce_patterns(&[], 0.1, None).1, []);
    }
}

/// Which matches of a `scan` step are output.
#[derive(Clone, Copy)]
enum StepOutput {
    /// every match (the default)
    All,
    /// only the last of a series of repeated matches
    Last,
    /// none
    None,
}
