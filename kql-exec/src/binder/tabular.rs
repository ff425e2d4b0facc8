//! Binding tabular expressions and operators to DataFusion plans, one function per operator.

use super::naming::{next_column_name, unique};
use super::scalar::{column, empty_value, typed_null};
use super::{wide, Binder, Binding, Bound, Col, NameHint, Rel, RenderSpec};
use crate::error::{KqlError, Result};
use crate::functions::{self, aggregate, dynfn};
use crate::schema::KqlType;
use crate::types::arrow_type;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::{Column, JoinType, ScalarValue, TableReference};
use datafusion::datasource::{provider_as_source, MemTable};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{lit, Expr, LogicalPlanBuilder, SortExpr};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use kql_parser::ast::{self, ExprKind, OperatorKind};
use kql_parser::Span;
use std::sync::Arc;

impl Binder<'_> {
    /// Bind a tabular expression.
    pub fn bind_tabular(&mut self, e: &ast::Expr) -> Result<Rel> {
        kql_parser::with_stack(|| self.bind_tabular_inner(e))
    }

    fn bind_tabular_inner(&mut self, e: &ast::Expr) -> Result<Rel> {
        if let Some((name, args, path)) = self.pattern_ref(e) {
            return self.bind_pattern(name, args, path, e.span);
        }
        match &e.kind {
            ExprKind::Paren(inner) => self.bind_tabular(inner),
            ExprKind::Pipe { source: Some(src), ops } => {
                let mut rel = self.bind_tabular(src)?;
                for op in ops {
                    rel = self.bind_operator(rel, op)?;
                }
                Ok(rel)
            }
            ExprKind::Pipe { source: None, .. } => {
                Err(KqlError::new("KQL040", "this pipeline has no input table", e.span))
            }
            ExprKind::Name(id) => match self.scope.get(&id.name).cloned() {
                Some(Binding::Tabular(r)) => Ok(r),
                Some(Binding::Function(_, _)) => functions::call_user_tabular(self, &id.name, &[], e.span),
                None if !self.catalog.has_table(&id.name)
                    && (self.catalog.function(&id.name).is_some()
                        || self.catalog.schemas().function(&id.name).is_some()) =>
                {
                    functions::call_user_tabular(self, &id.name, &[], e.span)
                }
                Some(Binding::Scalar(_)) => {
                    Err(KqlError::new("KQL041", format!("`{}` is a scalar value, not a table", id.name), id.span))
                }
                None => self.bind_table(id),
            },
            ExprKind::Call { target: None, name, args } => match name.name.as_str() {
                "materialize" => self.bind_materialize(args, e.span),
                "table" => {
                    let n = match args.first().map(|a| &a.expr().kind) {
                        Some(ExprKind::Literal(ast::Literal::String(s))) => s.clone(),
                        Some(_) => {
                            // a name computed from a parameter: evaluate it
                            let b = self.bind_constant(args[0].expr())?;
                            match &b.expr {
                                Expr::Literal(ScalarValue::Utf8(Some(s)), _) => s.clone(),
                                _ if self.options.check_only => return self.open_placeholder(vec![]),
                                _ => {
                                    return Err(KqlError::new("KQL042", "table() takes a constant table name", e.span))
                                }
                            }
                        }
                        None => return Err(KqlError::new("KQL042", "table() takes a table name string", e.span)),
                    };
                    match self.scope.get(&n).cloned() {
                        Some(Binding::Tabular(r)) => Ok(r),
                        _ => self.bind_table(&ast::Ident::new(n, e.span)),
                    }
                }
                "view" => Err(KqlError::new("KQL043", "`view` is only allowed in a let statement", e.span)),
                "_GetWatchlist" if self.scope.get("_GetWatchlist").is_none() => self.bind_watchlist(args, e.span),
                n if self.scope.get(n).is_none() && self.catalog.function(n).is_none() => {
                    match functions::cluster_only::function_reason(n) {
                        Some(why) => Err(functions::cluster_only::error(n, why, e.span)),
                        None => functions::call_user_tabular(self, n, args, e.span),
                    }
                }
                _ => functions::call_user_tabular(self, &name.name, args, e.span),
            },
            ExprKind::Call { target: Some(_), name, .. } | ExprKind::Member { name, .. } => Err(KqlError::new(
                "KQL044",
                format!("cross-cluster/database reference `{}` is not available locally", name.name),
                e.span,
            )
            .with_help("load the table's data with --data and refer to it by name")),
            ExprKind::Source(op) => self.bind_source_operator(op),
            ExprKind::Datatable { columns, values } => self.bind_datatable(columns, values, e.span),
            ExprKind::ExternalData { columns, urls, props } => {
                crate::load::externaldata::bind(self, columns, urls, props, e.span)
            }
            _ => Err(KqlError::new("KQL045", "expected a tabular expression here", e.span)),
        }
    }

    /// `e` as an invocation of a declared pattern: its name, arguments and path.
    fn pattern_ref<'e>(&self, e: &'e ast::Expr) -> Option<(&'e str, &'e [ast::Arg], Option<&'e str>)> {
        let (call, path) = match &e.kind {
            ExprKind::Member { target, name } => (&**target, Some(name.name.as_str())),
            _ => (e, None),
        };
        match &call.kind {
            ExprKind::Call { target: None, name, args } if self.patterns.contains_key(&name.name) => {
                Some((name.name.as_str(), args.as_slice(), path))
            }
            _ => None,
        }
    }

    /// Invoke pattern `name(args)[.path]`: the body of the mapping whose values (and path)
    /// equal the constant string arguments; an error naming the reference when none does.
    fn bind_pattern(&mut self, name: &str, args: &[ast::Arg], path: Option<&str>, span: Span) -> Result<Rel> {
        let Some(decl) = self.patterns.get(name).cloned() else {
            return Err(KqlError::new(
                "KS204",
                format!("The name '{name}' does not refer to any known pattern."),
                span,
            ));
        };
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            let b = self.bind_constant(a.expr())?;
            let b = self.coerce(b, KqlType::String);
            match self.const_value(b.expr, KqlType::String, a.expr().span)? {
                ScalarValue::Utf8(Some(s)) => values.push(s),
                _ => values.push(String::new()),
            }
        }
        let found = decl.cases.iter().find(|c| c.values == values && c.path.as_deref() == path);
        let Some(case) = found else {
            let quoted: Vec<String> = values.iter().map(|v| format!("'{}'", v.replace('\'', "\\'"))).collect();
            let mut reference = format!("{name}({})", quoted.join(","));
            if let Some(p) = path {
                reference.push_str(&format!(".['{}']", p.replace('\'', "\\'")));
            }
            return Err(KqlError::new(
                "SEM0036",
                format!(
                    "One or more pattern references were not declared. Detected pattern references: [\"{reference}\"]"
                ),
                span,
            ));
        };
        if self.call_depth > 64 {
            return Err(KqlError::new("KQL075", "pattern invocations nest too deeply (recursion?)", span));
        }
        let saved = self.scope.clone();
        self.call_depth += 1;
        let result = (|| {
            let mut last = None;
            for st in &case.body {
                match &st.kind {
                    ast::StatementKind::Let { name, value } => self.bind_let(name, value)?,
                    ast::StatementKind::Query(e) => last = Some(e),
                    _ => {}
                }
            }
            match last {
                Some(e) => self.bind_tabular(e),
                None => Err(KqlError::new("KQL072", format!("pattern `{name}` has no result expression"), span)),
            }
        })();
        self.call_depth -= 1;
        self.scope = saved;
        result
    }

    /// The `Watchlist` table, as Sentinel keeps the items of every watchlist (`_GetWatchlist` reads
    /// it; so do Microsoft's ASIM helpers `_ASIM_GetWatchlistsRaw` and
    /// `_ASIM_GetSourceBySourceType`, directly): one current row per item of each watchlist
    /// loaded with `--watchlist`, its alias as given (the `_DTItemId` prefix).
    fn bind_watchlist_table(&mut self, tables: &[&String], span: kql_parser::Span) -> Result<Rel> {
        let legs: Vec<String> = tables
            .iter()
            .map(|t| {
                format!(
                    "(table('{t}') | project TimeGenerated = LastUpdatedTimeUTC, _DTItemType = 'watchlist-item', \
                     WatchlistAlias = extract(@'^(.*)-[0-9]+$', 1, _DTItemId), SearchKey, _DTItemId, \
                     _DTTimestamp = LastUpdatedTimeUTC, _DTItemStatus = 'Create', LastUpdatedTimeUTC, WatchlistItem)"
                )
            })
            .collect();
        let text = format!("union {}", legs.join(", "));
        let script = kql_parser::parse(&text)
            .map_err(|e| KqlError::new("KQL998", format!("the Watchlist table: {}", e.message), span))?;
        let Some(ast::StatementKind::Query(q)) = script.statements.first().map(|s| &s.kind) else {
            return Err(KqlError::new("KQL998", "the Watchlist table: no query", span));
        };
        let rel = self.bind_tabular(q).map_err(|mut e| {
            e.span = Some(span);
            e
        })?;
        Ok(Rel { name: Some("Watchlist".into()), ..rel })
    }

    /// `_GetWatchlist('alias')`: a watchlist loaded with `--watchlist` (see
    /// [`crate::load::watchlist`]).
    fn bind_watchlist(&mut self, args: &[ast::Arg], span: kql_parser::Span) -> Result<Rel> {
        let alias = match args {
            [a] => match &self.bind_constant(a.expr())?.expr {
                Expr::Literal(ScalarValue::Utf8(Some(s)), _) => s.clone(),
                _ => return Err(KqlError::new("KQL046", "_GetWatchlist takes the watchlist alias as a string", span)),
            },
            _ => return Err(KqlError::new("KQL046", "_GetWatchlist takes one argument: the watchlist alias", span)),
        };
        let name = crate::load::watchlist::table_name(&alias);
        if self.catalog.table(&name).is_some() {
            let rel = self.bind_table(&ast::Ident::new(name, span))?;
            return Ok(Rel { name: None, ..rel });
        }
        let help = format!(
            "pass the watchlist's CSV: --watchlist '{alias}=PATH.csv' (its first column is the SearchKey; \
             '{alias}:Column=PATH.csv' picks another)"
        );
        if self.options.check_only {
            // `kql check` knows no watchlist's columns: as Kusto's analyzer without the workspace,
            // the call is where the query cannot be checked
            return Err(KqlError::new("KS211", format!("the watchlist `{alias}` is not loaded"), span).with_help(help));
        }
        // as in a workspace without that watchlist: no items (parsers such as ASIM's
        // `_ASIM_GetSourceBySourceType` read optional watchlists), with one warning
        if !self.warnings.iter().any(|w| w.code == "KQLW005" && w.message.contains(&format!("`{alias}`"))) {
            self.warnings.push(
                KqlError::new("KQLW005", format!("the watchlist `{alias}` is not loaded: it reads as empty"), span)
                    .with_help(help),
            );
        }
        let cols = crate::load::watchlist::FIXED_COLUMNS.iter().map(|(n, t)| Col::new(*n, *t)).collect();
        self.rel_from_batches(cols, vec![])
    }

    /// A table of the catalog by name.
    pub fn bind_table(&mut self, id: &ast::Ident) -> Result<Rel> {
        if id.name == "Watchlist" {
            let names = self.catalog.data_table_names();
            let lists: Vec<&String> = names.iter().filter(|n| n.starts_with("_Watchlist:")).collect();
            if !lists.is_empty() && !names.iter().any(|n| n == "Watchlist") {
                return self.bind_watchlist_table(&lists, id.span);
            }
        }
        let opened = self.catalog.open_table(&id.name, self.options.open).map_err(|mut e| {
            e.span = e.span.or(Some(id.span));
            e
        })?;
        match opened {
            Some(t) => {
                self.scan_windows.push((id.name.clone(), None));
                let alias = id.name.clone();
                let plan = LogicalPlanBuilder::scan(
                    TableReference::bare(alias),
                    provider_as_source(t.provider.clone()),
                    None,
                )?
                .build()?;
                if t.cols
                    .iter()
                    .any(|c| c.ty == KqlType::DateTime && (c.name == "TimeGenerated" || c.name == "Timestamp"))
                {
                    self.time_scans.push((id.name.clone(), id.span));
                }
                Ok(Rel { plan, cols: t.cols.clone(), render: None, name: Some(id.name.clone()), open: false })
            }
            None => {
                let mut err = KqlError::new(
                    "KS204",
                    format!("The name '{}' does not refer to any known table, tabular variable or function.", id.name),
                    id.span,
                );
                if let Some(s) = super::suggest(&id.name, self.catalog.table_names().iter().map(String::as_str)) {
                    err = err.with_help(format!("did you mean `{s}`?"));
                } else {
                    err = err.with_help("load its data with --data PATH or --table NAME=PATH");
                }
                self.recover(err)?;
                self.open_placeholder(vec![])
            }
        }
    }

    /// Part `k` of a tuple assignment `(a, b) = f(...)` whose function does not return several
    /// values: an error (recovered with a null placeholder in check mode).
    fn tuple_part(&mut self, b: &Bound, k: usize, span: Span) -> Result<(Expr, KqlType)> {
        if k == 0 {
            self.recover(KqlError::new(
                "KQL062",
                "this expression returns one value: it cannot be assigned to several columns",
                span,
            ))?;
        }
        Ok((typed_null(b.ty), b.ty))
    }

    /// A relation of unknown shape standing in for one that failed to bind (check mode):
    /// names resolve against it without further errors.
    pub fn open_placeholder(&mut self, cols: Vec<Col>) -> Result<Rel> {
        let r = self.rel_from_batches(cols, vec![])?;
        Ok(Rel { open: true, ..r })
    }

    fn bind_materialize(&mut self, args: &[ast::Arg], span: Span) -> Result<Rel> {
        let Some(a) = args.first() else {
            return Err(KqlError::new("KS119", "materialize() expects 1 argument", span));
        };
        let rel = self.bind_tabular(a.expr())?;
        if self.options.check_only {
            return Ok(rel);
        }
        let batches = self.runner.run(rel.plan.clone())?;
        self.rel_from_batches(rel.cols, batches)
    }

    /// A relation over in-memory batches.
    pub fn rel_from_batches(&mut self, cols: Vec<Col>, batches: Vec<RecordBatch>) -> Result<Rel> {
        let schema =
            Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
        let batches = batches
            .into_iter()
            .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| KqlError::general("KQL046", e.to_string()))?;
        let table = MemTable::try_new(schema, vec![batches])?;
        let alias = self.fresh_alias("mem");
        let plan = LogicalPlanBuilder::scan(TableReference::bare(alias), provider_as_source(Arc::new(table)), None)?
            .build()?;
        Ok(Rel { plan, cols, render: None, name: None, open: false })
    }

    fn bind_datatable(&mut self, columns: &[ast::ColumnDecl], values: &[ast::Expr], span: Span) -> Result<Rel> {
        if columns.is_empty() {
            return Err(KqlError::new("KQL047", "datatable needs at least one column", span));
        }
        if !values.len().is_multiple_of(columns.len()) {
            return Err(KqlError::new(
                "KQL048",
                format!(
                    "datatable has {} values for {} columns: not a whole number of rows",
                    values.len(),
                    columns.len()
                ),
                span,
            ));
        }
        let cols: Vec<Col> = columns.iter().map(|c| Col::new(&c.name.name, type_of(&c.ty))).collect();
        let mut per_col: Vec<Vec<ScalarValue>> = vec![Vec::new(); cols.len()];
        for (i, v) in values.iter().enumerate() {
            let c = &cols[i % cols.len()];
            let b = self.bind_constant(v)?;
            let b = self.coerce(b, c.ty);
            per_col[i % cols.len()].push(self.const_value(b.expr, c.ty, v.span)?);
        }
        let arrays: Vec<ArrayRef> = per_col
            .into_iter()
            .zip(&cols)
            .map(|(vals, c)| {
                if vals.is_empty() {
                    Ok(datafusion::arrow::array::new_empty_array(&arrow_type(c.ty)))
                } else {
                    ScalarValue::iter_to_array(vals)
                }
            })
            .collect::<datafusion::common::Result<_>>()?;
        let schema =
            Arc::new(Schema::new(cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
        let batch = RecordBatch::try_new(schema, arrays).map_err(|e| KqlError::new("KQL049", e.to_string(), span))?;
        self.rel_from_batches(cols, vec![batch])
    }

    /// Evaluate a constant expression to a value.
    pub fn const_value(&self, e: Expr, ty: KqlType, span: Span) -> Result<ScalarValue> {
        // a literal is its own value (datatables are thousands of them: no plan per cell)
        let mut inner = &e;
        while let Expr::Alias(a) = inner {
            inner = &a.expr;
        }
        let want = arrow_type(ty);
        // anything else folded in place, as the optimizer would fold it in a plan (`ago(1d)`,
        // `now() - 1h`: each query has a few); what does not fold to a literal of the type (or
        // fails to) runs as a plan, which also words the errors
        let folded = match inner {
            Expr::Literal(v, _) => Some(v.clone()),
            _ => match ExprSimplifier::new(SimplifyContext::default()).simplify(inner.clone()) {
                Ok(Expr::Literal(v, _)) => Some(v),
                _ => None,
            },
        };
        if let Some(v) = folded {
            if v.data_type() == want {
                return Ok(v);
            }
            if let Ok(c) = v.cast_to(&want) {
                return Ok(c);
            }
        }
        let plan = LogicalPlanBuilder::empty(true).project(vec![e.alias("v")])?.build()?;
        let batches = self.runner.run(plan)?;
        let b = batches.iter().find(|b| b.num_rows() > 0).ok_or_else(|| KqlError::new("KQL050", "no value", span))?;
        let v = ScalarValue::try_from_array(b.column(0), 0)?;
        if v.data_type() != want {
            return Ok(v.cast_to(&want)?);
        }
        Ok(v)
    }

    fn bind_source_operator(&mut self, op: &ast::Operator) -> Result<Rel> {
        match &op.kind {
            OperatorKind::Print(items) => {
                let empty = self.empty_rel()?;
                let mut exprs = Vec::new();
                let mut cols: Vec<Col> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let b = self.bind_scalar(&item.expr, &empty)?;
                    if let Some(parts) = crate::functions::series::expand_multi(item, &b) {
                        for (name, e, ty) in parts {
                            exprs.push(e.alias(&name));
                            cols.push(Col::new(name, ty));
                        }
                        continue;
                    }
                    let taken: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
                    let name = match item.names.first() {
                        Some(n) => n.name.clone(),
                        None => unique(&format!("print_{i}"), &taken),
                    };
                    exprs.push(b.expr.alias(&name));
                    cols.push(Col::new(name, b.ty));
                }
                let plan = LogicalPlanBuilder::empty(true).project(exprs)?.build()?;
                Ok(Rel { plan, cols, render: None, name: None, open: false })
            }
            OperatorKind::Range { name, from, to, step } => self.bind_range(name, from, to, step, op.span),
            OperatorKind::Union { params, tables } => self.bind_union(None, params, tables, op.span),
            _ => self.bind_extra_source(op),
        }
    }

    fn bind_range(
        &mut self,
        name: &ast::Ident,
        from: &ast::Expr,
        to: &ast::Expr,
        step: &ast::Expr,
        span: Span,
    ) -> Result<Rel> {
        let f = self.bind_constant(from)?;
        let t = self.bind_constant(to)?;
        let s = self.bind_constant(step)?;
        let ty = if f.ty == KqlType::Real || t.ty == KqlType::Real || s.ty == KqlType::Real {
            KqlType::Real
        } else if f.ty == KqlType::DateTime {
            KqlType::DateTime
        } else if f.ty == KqlType::TimeSpan {
            KqlType::TimeSpan
        } else {
            KqlType::Long
        };
        let step_ty = if ty == KqlType::DateTime { KqlType::TimeSpan } else { ty };
        let fv = self.const_value(self.coerce(f, ty).expr, ty, from.span)?;
        let tv = self.const_value(self.coerce(t, ty).expr, ty, to.span)?;
        let sv = self.const_value(self.coerce(s, step_ty).expr, step_ty, step.span)?;
        let spec = match (fv, tv, sv) {
            (ScalarValue::Float64(Some(a)), ScalarValue::Float64(Some(b)), ScalarValue::Float64(Some(st))) => {
                if st == 0.0 || !st.is_finite() {
                    return Err(KqlError::new("KQL052", "range step must be a number other than zero", span));
                }
                super::range_source::RangeSpec::Real { from: a, to: b, step: st }
            }
            (ScalarValue::Int64(Some(a)), ScalarValue::Int64(Some(b)), ScalarValue::Int64(Some(st))) => {
                if st == 0 {
                    return Err(KqlError::new("KQL052", "range step must not be zero", span));
                }
                super::range_source::RangeSpec::Long { from: a, to: b, step: st }
            }
            _ => return self.rel_from_batches(vec![Col::new(&name.name, ty)], vec![]),
        };
        let schema = Arc::new(Schema::new(vec![Field::new(&name.name, arrow_type(ty), true)]));
        let table = super::range_source::RangeTable::new(schema, spec);
        let alias = self.fresh_alias("range");
        let plan = LogicalPlanBuilder::scan(TableReference::bare(alias), provider_as_source(Arc::new(table)), None)?
            .build()?;
        Ok(Rel { plan, cols: vec![Col::new(&name.name, ty)], render: None, name: None, open: false })
    }

    /// Apply one tabular operator.
    pub fn bind_operator(&mut self, rel: Rel, op: &ast::Operator) -> Result<Rel> {
        let was_open = rel.open;
        let out = kql_parser::with_stack(|| self.bind_operator_inner(rel, op))?;
        // a value of unknown shape stays so through the pipeline
        Ok(if was_open { Rel { open: true, ..out } } else { out })
    }

    fn bind_operator_inner(&mut self, rel: Rel, op: &ast::Operator) -> Result<Rel> {
        let render = rel.render.clone();
        let out = match &op.kind {
            OperatorKind::Where(pred) => {
                if mentions_datetime_column(pred, &rel) {
                    self.time_filtered = true;
                }
                if let Some(w) = wide::WideUnion::of(&rel.plan) {
                    if let Some(out) = self.bind_where_wide(&rel, &w, pred)? {
                        return Ok(out);
                    }
                }
                // Right after an innerunique join, a filter on left-side columns only applies
                // to the left side before its de-duplication (Kusto's optimizer pushes it there,
                // and the documented results depend on it).
                if let Some(j) = self.last_innerunique.take().filter(|j| j.output == rel.plan) {
                    // the predicate must bind over the left side alone
                    let errors_before = self.errors.len();
                    let left_only = self.bind_scalar(pred, &j.left).is_ok() && self.errors.len() == errors_before;
                    self.errors.truncate(errors_before);
                    if left_only && !j.left.open {
                        let filtered = self.bind_operator(
                            j.left.clone(),
                            &ast::Operator { kind: OperatorKind::Where(pred.clone()), span: op.span },
                        )?;
                        let out = self.bind_join(filtered, &j.params, &j.right, &j.on, false, j.span)?;
                        self.last_innerunique =
                            Some(Box::new(super::InneruniqueJoin { output: out.plan.clone(), ..*j }));
                        return Ok(out);
                    }
                }
                let b = self.bind_scalar(pred, &rel)?;
                // a filter takes a bool (a dynamic value is read as one, as its type is known
                // only per row)
                if !matches!(b.ty, KqlType::Bool | KqlType::Dynamic) {
                    return Err(KqlError::new("KS141", "The expression must have the type bool.", pred.span));
                }
                let p = self.as_bool(b, pred.span)?;
                self.note_time_filter(&rel.plan, &p);
                let plan = crate::functions::series::filter_with_windows(self, rel.plan, p)?;
                Rel { plan, cols: rel.cols, render: None, name: None, open: false }
            }
            OperatorKind::Extend(items) => self.bind_extend(rel, items)?,
            OperatorKind::Project(items) => self.bind_project(rel, items)?,
            OperatorKind::ProjectAway(pats) => {
                let drop = self.match_patterns(&rel, pats)?;
                let keep: Vec<String> =
                    rel.cols.iter().filter(|c| !drop.contains(&c.name)).map(|c| c.name.clone()).collect();
                self.select(rel, &keep)?
            }
            OperatorKind::ProjectKeep(pats) => {
                let keep_set = self.match_patterns(&rel, pats)?;
                let keep: Vec<String> =
                    rel.cols.iter().filter(|c| keep_set.contains(&c.name)).map(|c| c.name.clone()).collect();
                self.select(rel, &keep)?
            }
            OperatorKind::ProjectRename(pairs) => {
                let mut cols = rel.cols.clone();
                let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
                let mut named: Vec<&str> = Vec::new();
                for (new, old) in pairs {
                    // Kusto does not rename onto a column of the input (itself included, and
                    // one this operator renames away: `c = a, a = b` is KS171 too) nor onto a
                    // name given earlier in the operator
                    if rel.cols.iter().any(|c| c.name == new.name) || named.contains(&new.name.as_str()) {
                        return Err(KqlError::new(
                            "KS171",
                            format!("A column with the name '{}' is already declared.", new.name),
                            new.span,
                        )
                        .with_help(format!(
                            "drop or rename the existing `{}` first (project-away {}), or pick another name",
                            new.name, new.name
                        )));
                    }
                    named.push(&new.name);
                    let Some(i) = cols.iter().position(|c| c.name == old.name) else {
                        return Err(self.unknown_column(&rel, old));
                    };
                    exprs[i] = column(&rel.cols[i].name).alias(&new.name);
                    cols[i].name = new.name.clone();
                }
                let exprs: Vec<Expr> = exprs
                    .into_iter()
                    .zip(&cols)
                    .map(|(e, c)| if matches!(e, Expr::Alias(_)) { e } else { e.alias(&c.name) })
                    .collect();
                let plan = super::projection::project(rel.plan, exprs)?;
                Rel { plan, cols, render: None, name: None, open: false }
            }
            OperatorKind::ProjectReorder(items) => {
                let mut order: Vec<String> = Vec::new();
                for (p, dir) in items {
                    let mut matched = self.match_patterns(&rel, std::slice::from_ref(p))?;
                    match dir.as_deref() {
                        Some("asc") | Some("granny-asc") => matched.sort(),
                        Some("desc") | Some("granny-desc") => {
                            matched.sort();
                            matched.reverse();
                        }
                        _ => {}
                    }
                    for m in matched {
                        if !order.contains(&m) {
                            order.push(m);
                        }
                    }
                }
                for c in &rel.cols {
                    if !order.contains(&c.name) {
                        order.push(c.name.clone());
                    }
                }
                self.select(rel, &order)?
            }
            OperatorKind::Summarize { aggs, by, .. } => aggregate::bind_summarize(self, rel, aggs, by, op.span)?,
            OperatorKind::Count(name) => {
                let n = name.as_ref().map(|n| n.name.clone()).unwrap_or_else(|| "Count".to_string());
                let plan = LogicalPlanBuilder::from(rel.plan)
                    .aggregate(
                        Vec::<Expr>::new(),
                        vec![datafusion::functions_aggregate::expr_fn::count(lit(1i64)).alias(&n)],
                    )?
                    .build()?;
                Rel { plan, cols: vec![Col::new(n, KqlType::Long)], render: None, name: None, open: false }
            }
            OperatorKind::Distinct { columns, .. } => {
                if columns.len() == 1 && matches!(columns[0].expr.kind, ExprKind::Star) {
                    let plan = LogicalPlanBuilder::from(rel.plan).distinct()?.build()?;
                    Rel { plan, cols: rel.cols, render: None, name: None, open: false }
                } else {
                    let projected = self.bind_project(rel, columns)?;
                    let plan = LogicalPlanBuilder::from(projected.plan).distinct()?.build()?;
                    Rel { plan, cols: projected.cols, render: None, name: None, open: false }
                }
            }
            OperatorKind::Take(n) => {
                let count = self.const_count(n)?;
                let plan = LogicalPlanBuilder::from(rel.plan).limit(0, Some(count))?.build()?;
                Rel { plan, cols: rel.cols, render: None, name: None, open: false }
            }
            OperatorKind::Top { count, by } => {
                let n = self.const_count(count)?;
                let key = self.sort_expr(&rel, by)?;
                let plan = crate::binder::operators::sorted_limit(rel.plan, vec![key], n)?;
                Rel { plan, cols: rel.cols, render: None, name: None, open: false }
            }
            OperatorKind::Sort { keys, .. } => {
                let mut sorts = Vec::new();
                for k in keys {
                    sorts.push(self.sort_expr(&rel, k)?);
                }
                let plan = LogicalPlanBuilder::from(rel.plan).sort(sorts)?.build()?;
                Rel { plan, cols: rel.cols, render: None, name: None, open: false }
            }
            OperatorKind::Join { params, right, on } => {
                let innerunique = params.iter().all(|p| {
                    p.name.name != "kind"
                        || matches!(&p.value.kind, ExprKind::Name(n) if n.name.eq_ignore_ascii_case("innerunique"))
                });
                let left = rel.clone();
                let out = self.bind_join(rel, params, right, on, false, op.span)?;
                self.last_innerunique = innerunique.then(|| {
                    Box::new(super::InneruniqueJoin {
                        output: out.plan.clone(),
                        left,
                        params: params.clone(),
                        right: (*right).clone(),
                        on: on.clone(),
                        span: op.span,
                    })
                });
                out
            }
            OperatorKind::Lookup { params, right, on } => self.bind_join(rel, params, right, on, true, op.span)?,
            OperatorKind::Union { params, tables } => self.bind_union(Some(rel), params, tables, op.span)?,
            OperatorKind::MvExpand { params, items, limit } => {
                self.bind_mv_expand(rel, params, items, limit.as_ref(), op.span)?
            }
            OperatorKind::Render { chart, props } => {
                let props = props
                    .iter()
                    .map(|(n, vs)| (n.name.clone(), vs.iter().map(kql_parser::printer::print_expr).collect()))
                    .collect();
                return Ok(Rel { render: Some(RenderSpec { chart: chart.name.clone(), props }), ..rel });
            }
            OperatorKind::As { name, .. } => {
                let rel = Rel { name: Some(name.name.clone()), ..rel };
                self.scope = self.scope.with(&name.name, Binding::Tabular(rel.clone()));
                return Ok(rel);
            }
            OperatorKind::Serialize(items) => {
                if items.is_empty() {
                    rel
                } else {
                    self.bind_extend(rel, items)?
                }
            }
            OperatorKind::GetSchema => self.bind_getschema(&rel)?,
            OperatorKind::Invoke(call) => match &call.kind {
                ExprKind::Call { name, args, .. } => functions::invoke(self, rel, name, args, call.span)?,
                _ => return Err(KqlError::new("KQL054", "invoke needs a function call", call.span)),
            },
            _ => {
                let input_cols = rel.cols.clone();
                match self.bind_extra_operator(rel, op) {
                    Ok(r) => r,
                    // Kusto accepts it; we cannot say its shape yet: go on with an open value
                    Err(e) if self.options.check_only && matches!(e.code, "KQL055" | "KQL051" | "KQL092") => {
                        self.not_runnable.push(e);
                        self.open_placeholder(input_cols)?
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let _ = render;
        Ok(out)
    }

    fn unknown_column(&self, rel: &Rel, id: &ast::Ident) -> KqlError {
        let mut err = KqlError::new(
            "KS142",
            format!("The name '{}' does not refer to any known column, table, variable or function.", id.name),
            id.span,
        );
        if let Some(s) = super::suggest(&id.name, rel.cols.iter().map(|c| c.name.as_str())) {
            err = err.with_help(format!("did you mean `{s}`?"));
        }
        err
    }

    /// Keep the named columns, in the given order.
    pub fn select(&mut self, rel: Rel, names: &[String]) -> Result<Rel> {
        let cols: Vec<Col> = names.iter().filter_map(|n| rel.col(n).cloned()).collect();
        let exprs: Vec<Expr> = cols.iter().map(|c| column(&c.name)).collect();
        let plan = super::projection::project(rel.plan, exprs)?;
        Ok(Rel { plan, cols, render: None, name: None, open: false })
    }

    fn match_patterns(&self, rel: &Rel, pats: &[ast::Expr]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for p in pats {
            match &p.kind {
                ExprKind::Name(id) => {
                    if rel.col(&id.name).is_none() {
                        return Err(self.unknown_column(rel, id));
                    }
                    out.push(id.name.clone());
                }
                ExprKind::Wildcard(w) => {
                    for c in &rel.cols {
                        if wildcard_match(w, &c.name) && !out.contains(&c.name) {
                            out.push(c.name.clone());
                        }
                    }
                }
                _ => return Err(KqlError::new("KQL056", "expected a column name or a wildcard pattern", p.span)),
            }
        }
        Ok(out)
    }

    pub(crate) fn const_count(&mut self, e: &ast::Expr) -> Result<usize> {
        let b = self.bind_constant(e)?;
        let v = self.const_value(self.coerce(b, KqlType::Long).expr, KqlType::Long, e.span)?;
        match v {
            ScalarValue::Int64(Some(n)) if n >= 0 => Ok(n as usize),
            _ => Err(KqlError::new("KQL057", "expected a non-negative whole number of rows", e.span)),
        }
    }

    pub(crate) fn sort_expr(&mut self, rel: &Rel, k: &ast::SortKey) -> Result<SortExpr> {
        let b = self.bind_scalar(&k.expr, rel)?;
        let b = if b.ty == KqlType::Dynamic { self.coerce(b, KqlType::String) } else { b };
        let asc = matches!(k.order, Some(ast::SortOrder::Asc));
        let nulls_first = match k.nulls {
            Some(ast::NullsPosition::First) => true,
            Some(ast::NullsPosition::Last) => false,
            None => asc,
        };
        Ok(b.expr.sort(asc, nulls_first))
    }

    /// `extend`: new columns at the end; an existing name is replaced in place.
    fn bind_extend(&mut self, rel: Rel, items: &[ast::ColumnAssign]) -> Result<Rel> {
        let mut cols = rel.cols.clone();
        let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        for item in items {
            // Every item reads the extend's input, not the items before it: Kusto's analyzer
            // refuses `extend a = x + 1, b = a * 2` (KS142 at `a`), and a replaced column is
            // read as it was (`extend d = "x", y = d.a` reads the input's `d`)
            let cur = Rel { plan: rel.plan.clone(), cols: rel.cols.clone(), render: None, name: None, open: rel.open };
            let b = self.bind_scalar(&item.expr, &cur)?;
            if let Some(parts) = crate::functions::series::expand_multi(item, &b) {
                for (name, e, ty) in parts {
                    super::operators::set_column(&mut cols, &mut exprs, name, ty, e);
                }
                continue;
            }
            let names = self.assign_names(item, &b, &cols, "Column")?;
            if let Some(p) = super::producer_of(&item.expr) {
                for n in &names {
                    self.producer_keys.insert(n.clone(), p);
                }
            }
            for (k, name) in names.into_iter().enumerate() {
                let (e, ty) =
                    if item.names.len() > 1 { self.tuple_part(&b, k, item.span)? } else { (b.expr.clone(), b.ty) };
                super::operators::set_column(&mut cols, &mut exprs, name, ty, e);
            }
        }
        let exprs = exprs.into_iter().zip(&cols).map(|(e, c)| ensure_alias(e, &c.name)).collect::<Vec<_>>();
        let (plan, exprs) = crate::functions::series::lift_windows(self, rel.plan, exprs)?;
        let plan = super::projection::project(plan, exprs)?;
        Ok(Rel { plan, cols, render: None, name: None, open: false })
    }

    /// The output names of an assignment item.
    fn assign_names(
        &mut self,
        item: &ast::ColumnAssign,
        b: &Bound,
        cols: &[Col],
        default: &str,
    ) -> Result<Vec<String>> {
        if !item.names.is_empty() {
            return Ok(item.names.iter().map(|n| n.name.clone()).collect());
        }
        let taken: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
        Ok(vec![match &b.hint {
            NameHint::Name(n) => n.clone(),
            NameHint::None if default == "Column" => next_column_name(&taken),
            NameHint::None => unique(default, &taken),
        }])
    }

    /// `project`: exactly the listed columns.
    fn bind_project(&mut self, rel: Rel, items: &[ast::ColumnAssign]) -> Result<Rel> {
        let mut cols: Vec<Col> = Vec::new();
        let mut exprs: Vec<Expr> = Vec::new();
        for item in items {
            let b = self.bind_scalar(&item.expr, &rel)?;
            if let Some(parts) = crate::functions::series::expand_multi(item, &b) {
                for (name, e, ty) in parts {
                    exprs.push(e.alias(&name));
                    cols.push(Col::new(name, ty));
                }
                continue;
            }
            let names = self.assign_names(item, &b, &cols, "Column")?;
            if let Some(p) = super::producer_of(&item.expr) {
                for n in &names {
                    self.producer_keys.insert(n.clone(), p);
                }
            }
            for (k, name) in names.into_iter().enumerate() {
                let (e, ty) =
                    if item.names.len() > 1 { self.tuple_part(&b, k, item.span)? } else { (b.expr.clone(), b.ty) };
                if let Some(i) = cols.iter().position(|c| c.name == name) {
                    if item.names.is_empty() {
                        // an unnamed duplicate gets a suffix
                        let taken: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
                        let n2 = unique(&name, &taken);
                        exprs.push(e.alias(&n2));
                        cols.push(Col::new(n2, ty));
                    } else {
                        return Err(KqlError::new(
                            "KS125",
                            format!("A column named '{}' is already defined (column {}).", name, i + 1),
                            item.span,
                        ));
                    }
                } else {
                    exprs.push(e.alias(&name));
                    cols.push(Col::new(name, ty));
                }
            }
        }
        let (plan, exprs) = crate::functions::series::lift_windows(self, rel.plan, exprs)?;
        let plan = super::projection::project(plan, exprs)?;
        Ok(Rel { plan, cols, render: None, name: None, open: false })
    }

    fn bind_getschema(&mut self, rel: &Rel) -> Result<Rel> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("ColumnName", arrow_type(KqlType::String), true),
            Field::new("ColumnOrdinal", arrow_type(KqlType::Int), true),
            Field::new("DataType", arrow_type(KqlType::String), true),
            Field::new("ColumnType", arrow_type(KqlType::String), true),
        ]));
        use datafusion::arrow::array::{Int32Array, StringArray};
        let names = StringArray::from(rel.cols.iter().map(|c| c.name.clone()).collect::<Vec<_>>());
        let ords = Int32Array::from((0..rel.cols.len() as i32).collect::<Vec<_>>());
        let dts =
            StringArray::from(rel.cols.iter().map(|c| format!("System.{}", c.ty.dotnet_name())).collect::<Vec<_>>());
        let tys = StringArray::from(rel.cols.iter().map(|c| c.ty.name().to_string()).collect::<Vec<_>>());
        let batch = RecordBatch::try_new(schema, vec![Arc::new(names), Arc::new(ords), Arc::new(dts), Arc::new(tys)])
            .map_err(|e| KqlError::general("KQL049", e.to_string()))?;
        self.rel_from_batches(
            vec![
                Col::new("ColumnName", KqlType::String),
                Col::new("ColumnOrdinal", KqlType::Int),
                Col::new("DataType", KqlType::String),
                Col::new("ColumnType", KqlType::String),
            ],
            vec![batch],
        )
    }

    /// `union`: columns merged by name in order of first appearance; missing ones are empty.
    fn bind_union(
        &mut self,
        first: Option<Rel>,
        params: &[ast::NamedArg],
        tables: &[ast::Expr],
        span: Span,
    ) -> Result<Rel> {
        let mut kind_inner = false;
        let mut withsource: Option<String> = None;
        let mut fuzzy = false;
        for p in params {
            match p.name.name.as_str() {
                "kind" => kind_inner = matches!(&p.value.kind, ExprKind::Name(n) if n.name == "inner"),
                "withsource" => {
                    if let ExprKind::Name(n) = &p.value.kind {
                        withsource = Some(n.name.clone());
                    }
                }
                "isfuzzy" => fuzzy = matches!(p.value.kind, ExprKind::Literal(ast::Literal::Bool(Some(true)))),
                _ => {}
            }
        }
        let mut inputs: Vec<(String, Rel)> = Vec::new();
        if let Some(f) = first {
            inputs.push((f.name.clone().unwrap_or_else(|| "union_arg0".to_string()), f));
        }
        for t in tables {
            match &t.kind {
                ExprKind::Wildcard(w) => {
                    // views in scope, then loaded tables
                    let mut views: Vec<String> = self
                        .scope
                        .names()
                        .filter(|n| wildcard_match(w, n))
                        .filter(|n| matches!(self.scope.get(n), Some(Binding::Function(f, _)) if f.is_view && f.params.is_empty()))
                        .cloned()
                        .collect();
                    views.sort();
                    for n in views {
                        let r = functions::call_user_tabular(self, &n, &[], t.span)?;
                        inputs.push((n, r));
                    }
                    // which tables match depends on what is loaded: no time bound can be known
                    self.scan_windows.push(("*".into(), None));
                    let names: Vec<String> =
                        self.catalog.data_table_names().into_iter().filter(|n| wildcard_match(w, n)).collect();
                    for n in names {
                        let r = self.bind_table(&ast::Ident::new(n.clone(), t.span))?;
                        inputs.push((n, r));
                    }
                }
                _ => {
                    let label = match &t.kind {
                        ExprKind::Name(n) => n.name.clone(),
                        _ => format!("union_arg{}", inputs.len()),
                    };
                    match self.bind_tabular(t) {
                        Ok(r) => {
                            let label =
                                r.name.clone().filter(|_| !matches!(t.kind, ExprKind::Name(_))).unwrap_or(label);
                            inputs.push((label, r))
                        }
                        Err(e) if fuzzy && e.code == "KS204" => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        if inputs.is_empty() {
            // checking without data: a wildcard stands for tables not known here (a workspace
            // has many more than a schema folder names), so any column may follow
            if self.options.check_only && tables.iter().any(|t| matches!(t.kind, ExprKind::Wildcard(_))) {
                let cols = withsource.iter().map(|w| Col::new(w.clone(), KqlType::String)).collect();
                return self.open_placeholder(cols);
            }
            return Err(KqlError::new("KQL058", "union has no tables to combine", span));
        }
        self.union_by_name(inputs, withsource.as_deref(), kind_inner)
    }

    /// [`Binder::union_by_name`]'s check-mode retyping of the unknown (dynamic) columns of open
    /// inputs.
    fn retype_open_inputs(&mut self, inputs: Vec<(String, Rel)>) -> Result<Vec<(String, Rel)>> {
        use std::collections::HashMap;
        if !inputs.iter().any(|(_, r)| r.open) {
            return Ok(inputs);
        }
        let mut known: HashMap<String, Vec<KqlType>> = HashMap::new();
        for (_, r) in inputs.iter().filter(|(_, r)| !r.open) {
            for c in &r.cols {
                let e = known.entry(c.name.clone()).or_default();
                if !e.contains(&c.ty) {
                    e.push(c.ty);
                }
            }
        }
        let mut out = Vec::with_capacity(inputs.len());
        for (name, r) in inputs {
            let target = |c: &Col| match known.get(&c.name).map(Vec::as_slice) {
                Some([t]) if c.ty == KqlType::Dynamic && *t != KqlType::Dynamic => Some(*t),
                _ => None,
            };
            if !r.open || !r.cols.iter().any(|c| target(c).is_some()) {
                out.push((name, r));
                continue;
            }
            let mut cols = Vec::with_capacity(r.cols.len());
            let mut exprs = Vec::with_capacity(r.cols.len());
            for c in &r.cols {
                match target(c) {
                    Some(t) => {
                        let b = self.coerce(Bound::new(column(&c.name), c.ty), t);
                        exprs.push(b.expr.alias(&c.name));
                        cols.push(Col::new(&c.name, t));
                    }
                    None => {
                        exprs.push(column(&c.name));
                        cols.push(c.clone());
                    }
                }
            }
            let plan = super::projection::project(r.plan, exprs)?;
            out.push((name, Rel { plan, cols, render: r.render, name: r.name, open: true }));
        }
        Ok(out)
    }

    /// The union by name of `inputs` (label, value): columns in order of first appearance, a name
    /// that arrives with several types split into `name_type` columns (all of them kept with
    /// `inner`, only those every input has), `withsource` first holding each row's label; a
    /// column an input lacks is empty in its rows. Columns are merged once, through maps by name,
    /// and many inputs make one [`wide::WideUnion`] table instead of a DataFusion `Union` of
    /// inputs projected to every column.
    ///
    /// While checking, a dynamic column of an input of unknown shape (after `bag_unpack` or
    /// `pivot`) is a column whose type is not known: it takes the one type the other inputs
    /// give that name, as Kusto's analyzer types it, instead of splitting the name in two.
    pub(crate) fn union_by_name(
        &mut self,
        inputs: Vec<(String, Rel)>,
        withsource: Option<&str>,
        kind_inner: bool,
    ) -> Result<Rel> {
        use std::collections::{HashMap, HashSet};
        let inputs = if self.options.check_only { self.retype_open_inputs(inputs)? } else { inputs };
        // the types each name arrives with
        let mut types_of: HashMap<&str, Vec<KqlType>> = HashMap::new();
        for (_, r) in &inputs {
            for c in &r.cols {
                let e = types_of.entry(c.name.as_str()).or_default();
                if !e.contains(&c.ty) {
                    e.push(c.ty);
                }
            }
        }
        // names that arrive with several types become `name_type` columns, as in Kusto; a
        // `name_type` that is also some input's own column name gets a number (`x_long1`)
        let kept: HashSet<&str> =
            types_of.iter().filter(|(_, t)| kind_inner || t.len() == 1).map(|(n, _)| *n).collect();
        let mut renamed: HashMap<(&str, KqlType), String> = HashMap::new();
        let mut taken: HashSet<String> = HashSet::new();
        for (_, r) in &inputs {
            for c in &r.cols {
                if kept.contains(c.name.as_str()) || renamed.contains_key(&(c.name.as_str(), c.ty)) {
                    continue;
                }
                let base = format!("{}_{}", c.name, c.ty.name());
                let mut name = base.clone();
                let mut k = 1;
                while kept.contains(name.as_str()) || taken.contains(&name) {
                    name = format!("{base}{k}");
                    k += 1;
                }
                taken.insert(name.clone());
                renamed.insert((c.name.as_str(), c.ty), name);
            }
        }
        let out_name =
            |c: &Col| -> String { renamed.get(&(c.name.as_str(), c.ty)).cloned().unwrap_or_else(|| c.name.clone()) };
        // the union's columns, and for each input the union column of each of its own
        let mut all: Vec<Col> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        if let Some(ws) = withsource {
            index.insert(ws.to_string(), 0);
            all.push(Col::new(ws, KqlType::String));
        }
        let mut targets: Vec<Vec<usize>> = Vec::with_capacity(inputs.len());
        for (_, r) in &inputs {
            let mut t = Vec::with_capacity(r.cols.len());
            for c in &r.cols {
                let n = out_name(c);
                let i = *index.entry(n.clone()).or_insert_with(|| {
                    all.push(Col::new(n, c.ty));
                    all.len() - 1
                });
                t.push(i);
            }
            targets.push(t);
        }
        drop(renamed);
        // with `inner`, only the columns every input has (and `withsource`)
        let mut keep = vec![true; all.len()];
        if kind_inner {
            let mut seen = vec![0usize; all.len()];
            for t in &targets {
                for &i in t.iter().collect::<HashSet<_>>() {
                    seen[i] += 1;
                }
            }
            for (i, k) in keep.iter_mut().enumerate() {
                *k = seen[i] == inputs.len() || (withsource.is_some() && i == 0);
            }
        }
        // each input with its own (kept) columns under the union's names and types
        let mut narrow: Vec<wide::WideInput> = Vec::with_capacity(inputs.len());
        for ((label, r), t) in inputs.into_iter().zip(&targets) {
            let mut exprs: Vec<Expr> = Vec::new();
            let mut cols: Vec<Col> = Vec::new();
            if let Some(ws) = withsource {
                exprs.push(lit(label.clone()).alias(ws));
                cols.push(Col::new(ws, KqlType::String));
            }
            let mut done: HashSet<usize> = HashSet::new();
            for (rc, &i) in r.cols.iter().zip(t) {
                if !keep[i] || (withsource.is_some() && i == 0) || !done.insert(i) {
                    continue;
                }
                let c = &all[i];
                let e = if rc.ty == c.ty {
                    column(&rc.name)
                } else {
                    self.coerce(Bound::new(column(&rc.name), rc.ty), c.ty).expr
                };
                exprs.push(e.alias(&c.name));
                cols.push(c.clone());
            }
            let plan = super::projection::project(r.plan, exprs)?;
            narrow.push(wide::WideInput { plan, cols });
        }
        let all: Vec<Col> = all.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(c, _)| c).collect();
        combine(all, narrow)
    }
}

/// The union of `inputs`, each with some of the columns `all` (same names and types), in order:
/// a [`wide::WideUnion`] for many inputs, else a DataFusion union of the inputs projected to
/// every column (empty values for those an input lacks).
pub(crate) fn combine(all: Vec<Col>, narrow: Vec<wide::WideInput>) -> Result<Rel> {
    if narrow.len() >= wide::WIDE_UNION_INPUTS {
        let table = Arc::new(wide::WideUnion::new(all.clone(), narrow));
        let plan = LogicalPlanBuilder::scan("union", provider_as_source(table), None)?.build()?;
        return Ok(Rel { plan, cols: all, render: None, name: None, open: false });
    }
    // few inputs: a DataFusion union of the inputs projected to every column
    let mut plan: Option<LogicalPlanBuilder> = None;
    for input in narrow {
        let has: std::collections::HashSet<&str> = input.cols.iter().map(|c| c.name.as_str()).collect();
        let exprs: Vec<Expr> = all
            .iter()
            .map(|c| if has.contains(c.name.as_str()) { column(&c.name) } else { empty_value(c.ty).alias(&c.name) })
            .collect();
        let p = super::projection::project(input.plan, exprs)?;
        plan = Some(match plan {
            None => LogicalPlanBuilder::from(p),
            Some(b) => b.union(p)?,
        });
    }
    let plan = plan.expect("non-empty").build()?;
    Ok(Rel { plan, cols: all, render: None, name: None, open: false })
}

impl Binder<'_> {
    /// `where` with `*` right after a wide union (see [`wide`]): the predicate bound over each
    /// input's own columns (with those it names that the input lacks, empty), inputs where it is
    /// false whatever the row dropped; `None` when that does not apply (no `*`: DataFusion
    /// pushes the filter into the union's scan, which drops inputs the same way).
    fn bind_where_wide(&mut self, rel: &Rel, w: &wide::WideUnion, pred: &ast::Expr) -> Result<Option<Rel>> {
        let printed = kql_parser::printer::print_expr(pred);
        // binding it again for each input must not run anything (a subquery) nor be needed
        if !printed.contains('*') || printed.contains('|') || printed.contains("toscalar") {
            return Ok(None);
        }
        // the errors and warnings of the first input's binding stand for all (binding it over
        // the whole union, thousands of columns, would cost more than all the inputs together)
        let before = (self.errors.len(), self.warnings.len());
        let mut warnings = None;
        let names = pred.free_names();
        let named: Vec<&Col> = w.cols().iter().filter(|c| names.iter().any(|n| n.name == c.name)).collect();
        let mut inputs = Vec::with_capacity(w.inputs().len());
        for input in w.inputs() {
            let has: std::collections::HashSet<&str> = input.cols.iter().map(|c| c.name.as_str()).collect();
            let missing: Vec<&&Col> = named.iter().filter(|c| !has.contains(c.name.as_str())).collect();
            let mut cols = input.cols.clone();
            let mut plan = input.plan.clone();
            if !missing.is_empty() {
                let mut exprs: Vec<Expr> = cols.iter().map(|c| column(&c.name)).collect();
                for c in missing {
                    exprs.push(empty_value(c.ty).alias(&c.name));
                    cols.push((*c).clone());
                }
                plan = super::projection::project(plan, exprs)?;
            }
            let r = Rel { plan, cols, render: None, name: None, open: false };
            let bound = self.bind_scalar(pred, &r).and_then(|b| self.as_bool(b, pred.span));
            let p = match bound {
                Ok(p) if self.errors.len() == before.0 => p,
                _ => {
                    // the usual way then, which reports what is wrong
                    self.errors.truncate(before.0);
                    self.warnings.truncate(before.1);
                    return Ok(None);
                }
            };
            match warnings {
                None => warnings = Some(self.warnings.len()),
                Some(n) => self.warnings.truncate(n),
            }
            let context = SimplifyContext::builder().with_schema(r.plan.schema().clone()).build();
            let p = ExprSimplifier::new(context).simplify(p.clone()).unwrap_or(p);
            if wide::is_false(&p) {
                continue;
            }
            let plan = crate::functions::series::filter_with_windows(self, r.plan, p)?;
            inputs.push(wide::WideInput { plan, cols: r.cols });
        }
        let table = Arc::new(w.with_inputs(inputs));
        let plan = LogicalPlanBuilder::scan("union", provider_as_source(table), None)?.build()?;
        Ok(Some(Rel { plan, cols: rel.cols.clone(), render: None, name: None, open: false }))
    }

    /// `join` and `lookup`.
    fn bind_join(
        &mut self,
        left: Rel,
        params: &[ast::NamedArg],
        right: &ast::Expr,
        on: &[ast::Expr],
        is_lookup: bool,
        span: Span,
    ) -> Result<Rel> {
        let right = self.bind_tabular(right)?;
        let mut kind = if is_lookup { "leftouter".to_string() } else { "innerunique".to_string() };
        for p in params {
            if p.name.name == "kind" {
                if let ExprKind::Name(n) = &p.value.kind {
                    kind = n.name.to_lowercase();
                }
            }
        }
        // key pairs
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut key_errors = Vec::new();
        for cond in on {
            collect_join_keys(cond, &mut pairs, &left, &right, &mut key_errors);
        }
        if left.open || right.open {
            key_errors.retain(|e: &KqlError| e.code != "KS142" && e.code != "KS145");
        }
        if !key_errors.is_empty() || left.open || right.open {
            for e in key_errors {
                self.recover(e)?;
            }
            // go on with the shape the join would have
            let mut cols = left.cols.clone();
            for c in &right.cols {
                if is_lookup && pairs.iter().any(|p| p.1 == c.name) {
                    continue;
                }
                let taken: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
                cols.push(Col::new(unique(&c.name, &taken), c.ty));
            }
            let open = left.open || right.open;
            let r = self.open_placeholder(cols)?;
            return Ok(Rel { open, ..r });
        }
        if pairs.is_empty() {
            return Err(KqlError::new("KS006", "Missing join on condition clause", span));
        }
        let (lalias, ralias) = (self.fresh_alias("l"), self.fresh_alias("r"));
        let mut lplan = left.plan.clone();
        if kind == "innerunique" {
            lplan = dedupe_by(lplan, &pairs.iter().map(|p| p.0.clone()).collect::<Vec<_>>())?;
        }
        let lb = LogicalPlanBuilder::from(lplan).alias(lalias.as_str())?;
        let rb = LogicalPlanBuilder::from(right.plan.clone()).alias(ralias.as_str())?.build()?;
        let jt = match kind.as_str() {
            "inner" | "innerunique" => JoinType::Inner,
            "leftouter" => JoinType::Left,
            "rightouter" => JoinType::Right,
            "fullouter" => JoinType::Full,
            "leftsemi" => JoinType::LeftSemi,
            "leftanti" | "anti" | "leftantisemi" => JoinType::LeftAnti,
            "rightsemi" => JoinType::RightSemi,
            "rightanti" | "rightantisemi" => JoinType::RightAnti,
            other => return Err(KqlError::new("KQL059", format!("unknown join kind `{other}`"), span).with_help(
                "use inner, innerunique, leftouter, rightouter, fullouter, leftsemi, leftanti, rightsemi or rightanti",
            )),
        };
        // keys of different types: compare on a common type via extra key columns
        // A real key is compared as `key + 0.0`: -0.0 == 0.0, but a hash join hashes their bits,
        // so which rows matched depended on which side the hash table was built from.
        let key = |alias: &str, name: &str, ty: Option<KqlType>| {
            let c = Expr::Column(Column::new(Some(alias), name));
            if ty == Some(KqlType::Real) {
                c + lit(0.0f64)
            } else {
                c
            }
        };
        let lkeys: Vec<Expr> = pairs.iter().map(|p| key(&lalias, &p.0, left.col(&p.0).map(|c| c.ty))).collect();
        let rkeys: Vec<Expr> = pairs.iter().map(|p| key(&ralias, &p.1, right.col(&p.1).map(|c| c.ty))).collect();
        let joined = lb.join_with_expr_keys(rb, jt, (lkeys, rkeys), None)?.build()?;
        // output columns
        let lref = |n: &str| Expr::Column(Column::new(Some(lalias.as_str()), n));
        let rref = |n: &str| Expr::Column(Column::new(Some(ralias.as_str()), n));
        let mut cols: Vec<Col> = Vec::new();
        let mut exprs: Vec<Expr> = Vec::new();
        let left_nullable = matches!(jt, JoinType::Right | JoinType::Full);
        let right_nullable = matches!(jt, JoinType::Left | JoinType::Full);
        let fill = |e: Expr, ty: KqlType, nullable: bool| -> Expr {
            if nullable && ty == KqlType::String {
                functions::logical::coalesce(vec![e, lit("")])
            } else {
                e
            }
        };
        match jt {
            JoinType::LeftSemi | JoinType::LeftAnti => {
                for c in &left.cols {
                    exprs.push(lref(&c.name).alias(&c.name));
                    cols.push(c.clone());
                }
            }
            JoinType::RightSemi | JoinType::RightAnti => {
                for c in &right.cols {
                    exprs.push(rref(&c.name).alias(&c.name));
                    cols.push(c.clone());
                }
            }
            _ => {
                for c in &left.cols {
                    exprs.push(fill(lref(&c.name), c.ty, left_nullable).alias(&c.name));
                    cols.push(c.clone());
                }
                for c in &right.cols {
                    if is_lookup && pairs.iter().any(|p| p.1 == c.name) {
                        continue;
                    }
                    let taken: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
                    let name = unique(&c.name, &taken);
                    exprs.push(fill(rref(&c.name), c.ty, right_nullable).alias(&name));
                    cols.push(Col::new(name, c.ty));
                }
            }
        }
        let plan = super::projection::project(joined, exprs)?;
        Ok(Rel { plan, cols, render: None, name: None, open: false })
    }

    fn bind_mv_expand(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        items: &[ast::MvItem],
        limit: Option<&ast::Expr>,
        span: Span,
    ) -> Result<Rel> {
        let _ = span;
        let bag_as_array = params.iter().any(|p| {
            // `kind=` is the legacy spelling of `bagexpansion=`
            matches!(p.name.name.as_str(), "bagexpansion" | "kind")
                && matches!(&p.value.kind, ExprKind::Name(n) if n.name == "array")
        });
        let with_index = params.iter().find(|p| p.name.name == "with_itemindex").and_then(|p| match &p.value.kind {
            ExprKind::Name(n) => Some(n.name.clone()),
            _ => None,
        });
        let lim = match limit {
            Some(l) => Some(self.const_count(l)?),
            None => None,
        };
        // 1. a list column of elements per item, 2. unnest them together (zipped, padded with
        // nulls, as Kusto expands several arrays in parallel), 3. convert and rename.
        let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        let mut lists: Vec<(String, String, KqlType)> = Vec::new();
        for item in items {
            let b = self.bind_scalar(&item.column.expr, &rel)?;
            let b = self.coerce(b, KqlType::Dynamic);
            let taken: Vec<String> = rel.cols.iter().map(|c| c.name.clone()).collect();
            let name = match (item.column.names.first(), &b.hint) {
                (Some(n), _) => n.name.clone(),
                (None, NameHint::Name(n)) => n.clone(),
                (None, NameHint::None) => next_column_name(&taken),
            };
            let out_ty = item.to_type.as_ref().map(type_of).unwrap_or(KqlType::Dynamic);
            let list_name = self.fresh_alias("mvlist");
            exprs.push(dynfn::mv_items(b.expr, bag_as_array, with_index.is_some(), lim).alias(&list_name));
            lists.push((list_name, name, out_ty));
        }
        let cols_to_unnest: Vec<Column> = lists.iter().map(|(l, _, _)| Column::from_name(l)).collect();
        let plan = LogicalPlanBuilder::from(rel.plan)
            .project(exprs)?
            .unnest_columns_with_options(cols_to_unnest, datafusion::common::UnnestOptions::default())?
            .build()?;
        let mut cols = rel.cols.clone();
        let mut out: Vec<Expr> = cols.iter().map(|c| column(&c.name)).collect();
        for (list_name, name, out_ty) in &lists {
            let value = dynfn::mv_item_value(column(list_name));
            let value = self.coerce(Bound::new(value, KqlType::Dynamic), *out_ty).expr;
            if let Some(i) = cols.iter().position(|c| &c.name == name) {
                out[i] = value.alias(name);
                cols[i].ty = *out_ty;
            } else {
                out.push(value.alias(name));
                cols.push(Col::new(name, *out_ty));
            }
        }
        if let Some(ix) = with_index {
            let idx: Vec<Expr> = lists.iter().map(|(l, _, _)| dynfn::mv_item_index(column(l))).collect();
            out.push(functions::logical::coalesce(idx).alias(&ix));
            cols.push(Col::new(ix, KqlType::Long));
        }
        let out = out.into_iter().zip(&cols).map(|(e, c)| ensure_alias(e, &c.name)).collect::<Vec<_>>();
        let plan = super::projection::project(plan, out)?;
        Ok(Rel { plan, cols, render: None, name: None, open: false })
    }
}

/// Whether a predicate refers to a datetime column of `rel` (a time filter).
fn mentions_datetime_column(e: &ast::Expr, rel: &Rel) -> bool {
    let names = e.free_names();
    rel.cols.iter().filter(|c| c.ty == KqlType::DateTime).any(|c| names.iter().any(|n| n.name == c.name))
}

/// Keep one row per distinct key (the left side of `innerunique`).
fn dedupe_by(
    plan: datafusion::logical_expr::LogicalPlan,
    keys: &[String],
) -> Result<datafusion::logical_expr::LogicalPlan> {
    use datafusion::logical_expr::ExprFunctionExt;
    let rn = datafusion::functions_window::expr_fn::row_number()
        .partition_by(keys.iter().map(|k| column(k)).collect())
        .build()?
        .alias("__rn");
    let names: Vec<Expr> = plan.schema().fields().iter().map(|f| column(f.name())).collect();
    let plan = LogicalPlanBuilder::from(plan)
        .window(vec![rn])?
        .filter(column("__rn").eq(lit(1u64)))?
        .project(names)?
        .build()?;
    Ok(plan)
}

fn collect_join_keys(
    cond: &ast::Expr,
    pairs: &mut Vec<(String, String)>,
    left: &Rel,
    right: &Rel,
    errors: &mut Vec<KqlError>,
) {
    use kql_parser::ast::BinaryOp;
    let unknown = |id: &ast::Ident| {
        KqlError::new(
            "KS142",
            format!("The name '{}' does not refer to any known column, table, variable or function.", id.name),
            id.span,
        )
    };
    match &cond.kind {
        ExprKind::Name(id) => {
            if left.col(&id.name).is_none() || right.col(&id.name).is_none() {
                errors.push(KqlError::new(
                    "KS145",
                    format!("The column '{}' must exist on both sides of the join.", id.name),
                    id.span,
                ));
                return;
            }
            let (lt, rt) = (left.col(&id.name).map(|c| c.ty), right.col(&id.name).map(|c| c.ty));
            if lt != rt && !left.open && !right.open {
                errors.push(
                    KqlError::new(
                        "KS227",
                        format!("The common column '{}' must have the same type on both sides of the join.", id.name),
                        id.span,
                    )
                    .with_help(format!(
                        "it is {} on the left and {} on the right: convert one side (e.g. `extend {} = to{}({})`) before the join",
                        lt.map(|t| t.name()).unwrap_or("?"),
                        rt.map(|t| t.name()).unwrap_or("?"),
                        id.name,
                        lt.map(|t| t.name()).unwrap_or("string"),
                        id.name
                    )),
                );
                return;
            }
            pairs.push((id.name.clone(), id.name.clone()));
        }
        ExprKind::Binary { op: BinaryOp::And, left: l, right: r } => {
            collect_join_keys(l, pairs, left, right, errors);
            collect_join_keys(r, pairs, left, right, errors);
        }
        ExprKind::Binary { op: BinaryOp::Eq, left: l, right: r } => {
            let side = |e: &ast::Expr| -> Option<(String, ast::Ident)> {
                if let ExprKind::Member { target, name } = &e.kind {
                    if let ExprKind::JoinSide(s) = &target.kind {
                        return Some((s.name.clone(), name.clone()));
                    }
                }
                None
            };
            match (side(l), side(r)) {
                (Some((s1, a)), Some((s2, c))) => {
                    let (lcol, rcol, lspan, rspan) = if s1 == "$left" && s2 == "$right" {
                        (a, c, l.span, r.span)
                    } else if s1 == "$right" && s2 == "$left" {
                        (c, a, r.span, l.span)
                    } else {
                        errors.push(KqlError::new(
                            "KQL060",
                            "a join condition compares `$left.x == $right.y`",
                            cond.span,
                        ));
                        return;
                    };
                    let mut ok = true;
                    if left.col(&lcol.name).is_none() {
                        let mut e = unknown(&lcol);
                        if right.col(&lcol.name).is_some() {
                            e = e.with_help(format!(
                                "`{}` is a column of the right side: the keys look swapped; write `$left.{} == $right.{}`",
                                lcol.name, rcol.name, lcol.name
                            ));
                        }
                        errors.push(e);
                        ok = false;
                    }
                    if right.col(&rcol.name).is_none() {
                        let mut e = unknown(&rcol);
                        if left.col(&rcol.name).is_some() {
                            e = e.with_help(format!(
                                "`{}` is a column of the left side: the keys look swapped",
                                rcol.name
                            ));
                        }
                        errors.push(e);
                        ok = false;
                    }
                    if ok && !left.open && !right.open {
                        if let Err(e) = join_key_types(left, (&lcol, lspan), right, (&rcol, rspan), cond.span) {
                            errors.push(e);
                            ok = false;
                        }
                    }
                    if ok {
                        pairs.push((lcol.name.clone(), rcol.name.clone()));
                    }
                }
                _ => errors.push(KqlError::new(
                    "KQL061",
                    "only equality conditions `$left.a == $right.b` and column names are supported in `on`",
                    cond.span,
                )),
            }
        }
        _ => errors.push(KqlError::new("KQL061", "unsupported join condition", cond.span)),
    }
}

/// Kusto's rule for the key pair `$left.a == $right.b`: the same type on both sides (an `int`
/// may meet a `long`), and a `dynamic` key only against a `dynamic` one.
fn join_key_types(left: &Rel, l: (&ast::Ident, Span), right: &Rel, r: (&ast::Ident, Span), span: Span) -> Result<()> {
    let ((l, lspan), (r, rspan)) = (l, r);
    let (Some(lt), Some(rt)) = (left.col(&l.name).map(|c| c.ty), right.col(&r.name).map(|c| c.ty)) else {
        return Ok(());
    };
    let integral = |t: KqlType| matches!(t, KqlType::Int | KqlType::Long);
    if lt == rt || (integral(lt) && integral(rt)) {
        return Ok(());
    }
    if lt == KqlType::Dynamic || rt == KqlType::Dynamic {
        let at = if lt == KqlType::Dynamic { lspan } else { rspan };
        return Err(KqlError::new("KS241", "Join keys cannot be dynamic", at).with_help(
            "convert the dynamic key to the other key's type (e.g. `tostring(...)`) in an `extend` before the join",
        ));
    }
    Err(KqlError::new("KS242", format!("Inconsistent data types for join keys: ({}, {})", lt.name(), rt.name()), span)
        .with_help(format!(
            "convert one key to the other's type in an `extend` before the join (e.g. `to{}(...)`)",
            lt.name()
        )))
}

/// The KQL type of a declared type name.
pub fn type_of(t: &ast::TypeName) -> KqlType {
    KqlType::parse(&t.name).unwrap_or(KqlType::Dynamic)
}

/// Match a name against a `*` wildcard pattern (case-sensitive).
pub fn wildcard_match(pat: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pat.as_bytes(), name.as_bytes())
}

fn ensure_alias(e: Expr, name: &str) -> Expr {
    match &e {
        Expr::Alias(a) if a.name == name => e,
        Expr::Column(c) if c.name == name && c.relation.is_none() => e,
        _ => e.alias(name),
    }
}

/// The keyword of an operator, for messages.
pub fn operator_name(k: &OperatorKind) -> &'static str {
    match k {
        OperatorKind::TopNested(_) => "top-nested",
        OperatorKind::TopHitters { .. } => "top-hitters",
        OperatorKind::MvApply { .. } => "mv-apply",
        OperatorKind::Parse { is_where: false, .. } => "parse",
        OperatorKind::Parse { is_where: true, .. } => "parse-where",
        OperatorKind::ParseKv { .. } => "parse-kv",
        OperatorKind::MakeSeries { .. } => "make-series",
        OperatorKind::Evaluate { .. } => "evaluate",
        OperatorKind::Sample(_) => "sample",
        OperatorKind::SampleDistinct { .. } => "sample-distinct",
        OperatorKind::Search { .. } => "search",
        OperatorKind::Find { .. } => "find",
        OperatorKind::Partition { .. } => "partition",
        OperatorKind::Scan { .. } => "scan",
        OperatorKind::Fork(_) => "fork",
        OperatorKind::Facet { .. } => "facet",
        OperatorKind::Reduce { .. } => "reduce",
        OperatorKind::MakeGraph { .. } => "make-graph",
        OperatorKind::GraphToTable(_) => "graph-to-table",
        OperatorKind::GraphMarkComponents(_) => "graph-mark-components",
        OperatorKind::GraphMatch(g) => {
            if g.shortest {
                "graph-shortest-paths"
            } else {
                "graph-match"
            }
        }
        OperatorKind::Consume => "consume",
        OperatorKind::Print(_) => "print",
        OperatorKind::Range { .. } => "range",
        _ => "this",
    }
}
