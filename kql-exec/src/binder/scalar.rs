//! Binding scalar expressions: names, literals, paths into dynamic values, operators with
//! KQL's typing and null rules, `in`/`between`, and function calls.

use super::{naming, suggest, Binder, Binding, Bound, NameHint, Rel};
use crate::error::{KqlError, Result};
use crate::functions::{self, dynfn, strfn};
use crate::schema::KqlType;
use crate::types::{arith_result, arrow_type, is_numeric, numeric_common, Arith};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{cast, lit, try_cast, Expr, Operator as DfOp};
use kql_parser::ast::{self, BinaryOp, ExprKind, ListOp, Literal, StrOpKind};
use kql_parser::Span;

/// A reference to a column by its exact (unqualified) name.
pub fn column(name: &str) -> Expr {
    Expr::Column(Column::from_name(name))
}

/// A typed null of a KQL type.
pub fn typed_null(t: KqlType) -> Expr {
    match arrow_type(t) {
        DataType::Boolean => lit(ScalarValue::Boolean(None)),
        DataType::Int32 => lit(ScalarValue::Int32(None)),
        DataType::Int64 => lit(ScalarValue::Int64(None)),
        DataType::Float64 => lit(ScalarValue::Float64(None)),
        _ => lit(ScalarValue::Utf8(None)),
    }
}

/// The empty value Kusto uses for a type: `""` for strings, null otherwise.
pub fn empty_value(t: KqlType) -> Expr {
    match t {
        KqlType::String => lit(""),
        _ => typed_null(t),
    }
}

fn binop(l: Expr, op: DfOp, r: Expr) -> Expr {
    datafusion::logical_expr::binary_expr(l, op, r)
}

/// The chain `first op1 x1 op2 x2 ...` that the parser builds left-deep from `l op r` (at
/// `span`), following left operands while `same` holds of their operator: `first`, then each
/// operator with its right operand and the span of the node it makes. A loop, not recursion,
/// so a chain of any length is walked in constant stack.
fn left_spine<'e>(
    op: BinaryOp,
    l: &'e ast::Expr,
    r: &'e ast::Expr,
    span: Span,
    same: impl Fn(BinaryOp) -> bool,
) -> (&'e ast::Expr, Vec<(BinaryOp, &'e ast::Expr, Span)>) {
    let mut steps = vec![(op, r, span)];
    let mut first = l;
    while let ExprKind::Binary { op, left, right } = &first.kind {
        if !same(*op) {
            break;
        }
        steps.push((*op, right, first.span));
        first = left;
    }
    steps.reverse();
    (first, steps)
}

/// `parts` joined with the associative `op`, in order, as a balanced tree (depth log2 n).
pub(crate) fn balanced(mut parts: Vec<Expr>, op: DfOp) -> Expr {
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut it = parts.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => binop(a, op, b),
                None => a,
            });
        }
        parts = next;
    }
    parts.pop().unwrap_or_else(|| lit(true))
}

impl Binder<'_> {
    /// Bind a scalar expression in the row context of `rel`.
    pub fn bind_scalar(&mut self, e: &ast::Expr, rel: &Rel) -> Result<Bound> {
        // a deep tree (a long `or` chain) grows the stack instead of overflowing it
        kql_parser::with_stack(|| self.bind_scalar_inner(e, rel))
    }

    fn bind_scalar_inner(&mut self, e: &ast::Expr, rel: &Rel) -> Result<Bound> {
        match &e.kind {
            ExprKind::Literal(l) => literal(l, e.span),
            ExprKind::Name(id) => self.bind_name(id, rel),
            ExprKind::Paren(inner) => {
                if self.is_tabular(inner) {
                    return self.scalar_subquery(inner, e.span);
                }
                self.bind_scalar(inner, rel)
            }
            ExprKind::Member { .. } | ExprKind::Index { .. } => self.bind_path(e, rel),
            ExprKind::Call { target: None, name, args } => functions::bind_call(self, name, args, rel, e.span),
            ExprKind::Call { target: Some(_), name, .. } => {
                Err(KqlError::new("KQL020", format!("`.{}(...)` is not a scalar function call", name.name), e.span))
            }
            ExprKind::Unary { op, operand } => {
                let b = self.bind_scalar(operand, rel)?;
                match op {
                    ast::UnaryOp::Plus => Ok(b),
                    ast::UnaryOp::Neg => {
                        let t = match b.ty {
                            KqlType::Int => KqlType::Long,
                            t if is_numeric(t) || t == KqlType::TimeSpan => t,
                            t => {
                                return Err(KqlError::new(
                                    "KS106",
                                    format!("The operator '-' is not defined for type {}", t.name()),
                                    e.span,
                                ))
                            }
                        };
                        let x = self.coerce(b, t);
                        // on 64-bit integers and ticks `-x` wraps like `+`, `-` and `*` (`0 - x`:
                        // DataFusion's negation fails on the smallest long); reals negate
                        let e = if t == KqlType::Real || t == KqlType::Decimal {
                            Expr::Negative(Box::new(x.expr))
                        } else {
                            binop(cast(lit(0i64), arrow_type(t)), DfOp::Minus, x.expr)
                        };
                        Ok(Bound::new(e, t))
                    }
                }
            }
            ExprKind::Binary { op, left, right } => self.bind_binary(*op, left, right, rel, e.span),
            ExprKind::InList { op, expr, list } => self.bind_in(*op, expr, list, rel, e.span),
            ExprKind::Between { negated, expr, low, high } => {
                let x = self.bind_scalar(expr, rel)?;
                let lo = self.bind_scalar(low, rel)?;
                let hi = self.bind_scalar(high, rel)?;
                let ge = self.compare(x.clone(), DfOp::GtEq, lo, e.span)?;
                let le = self.compare(x, DfOp::LtEq, hi, e.span)?;
                let both = ge.and(le);
                Ok(Bound::new(if *negated { Expr::Not(Box::new(both)) } else { both }, KqlType::Bool))
            }
            ExprKind::Star => Err(KqlError::new("KQL021", "`*` is only allowed as a function argument", e.span)),
            // `$table` names the column `search` writes the table name to
            ExprKind::JoinSide(id) if rel.col(&id.name).is_some() => {
                let c = rel.col(&id.name).expect("checked");
                Ok(Bound::new(column(&c.name), c.ty).named(&c.name))
            }
            ExprKind::JoinSide(id) => {
                Err(KqlError::new("KQL022", format!("`{}` is only allowed in a join's `on` clause", id.name), e.span))
            }
            ExprKind::Wildcard(w) => {
                Err(KqlError::new("KQL023", format!("wildcard `{w}` is not allowed in an expression"), e.span))
            }
            _ => {
                if self.is_tabular(e) {
                    return self.scalar_subquery(e, e.span);
                }
                Err(KqlError::new("KQL024", "a tabular expression is not allowed here", e.span))
            }
        }
    }

    /// `(T | ...)` in scalar position: Kusto takes the first column of the first row.
    fn scalar_subquery(&mut self, e: &ast::Expr, span: Span) -> Result<Bound> {
        let rel = self.bind_tabular(e)?;
        self.toscalar(rel, span)
    }

    /// Evaluate a tabular value to its first cell (the `toscalar` semantics).
    pub fn toscalar(&mut self, rel: Rel, span: Span) -> Result<Bound> {
        let Some(first) = rel.cols.first().cloned() else {
            return Err(KqlError::new("KQL025", "the subquery has no columns", span));
        };
        if self.options.check_only {
            return Ok(Bound::new(typed_null(first.ty), first.ty));
        }
        let plan = datafusion::logical_expr::LogicalPlanBuilder::from(rel.plan).limit(0, Some(1))?.build()?;
        let batches = self.runner.run(plan)?;
        let value = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .map(|b| ScalarValue::try_from_array(b.column(0), 0))
            .transpose()?;
        Ok(Bound::new(
            match value {
                Some(v) => lit(v),
                None => empty_value(first.ty),
            },
            first.ty,
        ))
    }

    fn bind_name(&mut self, id: &ast::Ident, rel: &Rel) -> Result<Bound> {
        if let Some(c) = rel.col(&id.name) {
            return Ok(Bound::new(column(&c.name), c.ty).named(&c.name));
        }
        match self.scope.get(&id.name).cloned() {
            Some(Binding::Scalar(b)) => return Ok(Bound { hint: NameHint::Name(id.name.clone()), ..b }),
            Some(Binding::Tabular(r)) => return self.toscalar(r, id.span),
            Some(Binding::Function(f, _)) if f.params.is_empty() => {
                return functions::call_user_function(self, &id.name, &[], rel, id.span)
            }
            _ => {}
        }
        if self.catalog.has_table(&id.name) {
            let r = self.bind_table(id)?;
            return self.toscalar(r, id.span);
        }
        if rel.open {
            return Ok(Bound::new(typed_null(KqlType::Dynamic), KqlType::Dynamic).named(&id.name));
        }
        let mut err = KqlError::new(
            "KS142",
            format!("The name '{}' does not refer to any known column, table, variable or function.", id.name),
            id.span,
        );
        let candidates: Vec<String> =
            rel.cols.iter().map(|c| c.name.clone()).chain(self.scope.names().cloned()).collect();
        if let Some((_, actual)) = self.renamed_aggregates.iter().find(|(d, _)| *d == id.name) {
            err = err.with_help(format!(
                "`{}` does not exist here: the `summarize` before names this aggregate `{actual}`; write `{actual}`",
                id.name
            ));
        } else if let Some(s) = suggest(&id.name, candidates.iter().map(|s| s.as_str())) {
            err = err.with_help(format!("did you mean `{s}`?"));
        }
        self.recover(err)?;
        Ok(Bound::new(typed_null(KqlType::Dynamic), KqlType::Dynamic).named(&id.name))
    }

    /// Member and index chains: `a.b['c'][0]`. On a dynamic root the whole path is read in
    /// one call.
    fn bind_path(&mut self, e: &ast::Expr, rel: &Rel) -> Result<Bound> {
        let mut elems: Vec<PathPart> = Vec::new();
        let mut cur = e;
        // the access next to the root: a member's name, or an index's brackets (where Kusto's
        // analyzer reports an access to a value that is not dynamic)
        let mut first: Option<(Option<String>, Span)> = None;
        loop {
            match &cur.kind {
                ExprKind::Member { target, name } => {
                    first = Some((Some(name.name.clone()), name.span));
                    elems.push(PathPart::Key(name.name.clone()));
                    cur = target;
                }
                ExprKind::Index { target, index } => {
                    first = Some((None, Span::new(target.span.end, cur.span.end)));
                    match &index.kind {
                        ExprKind::Literal(Literal::String(s)) => elems.push(PathPart::Key(s.clone())),
                        ExprKind::Literal(Literal::Long(Some(n))) => elems.push(PathPart::Index(*n)),
                        ExprKind::Unary { op: ast::UnaryOp::Neg, operand } => match &operand.kind {
                            ExprKind::Literal(Literal::Long(Some(n))) => elems.push(PathPart::Index(-n)),
                            _ => elems.push(PathPart::Expr((**index).clone())),
                        },
                        _ => elems.push(PathPart::Expr((**index).clone())),
                    }
                    cur = target;
                }
                _ => break,
            }
        }
        elems.reverse();
        let producer = match &cur.kind {
            ExprKind::Name(n) if rel.col(&n.name).is_some() => self.producer_keys.get(&n.name).copied(),
            _ => super::producer_of(cur),
        };
        if let (Some((fname, keys)), Some(PathPart::Key(k))) = (producer, elems.first()) {
            if !keys.contains(&k.as_str()) {
                let mut w = KqlError::new(
                    "KQLW003",
                    format!("the value of {fname}() never has a key `{k}`: this always reads null"),
                    e.span,
                );
                if let Some(s) = suggest(k, keys.iter().copied()) {
                    w = w.with_help(format!("did you mean `{s}`?"));
                } else {
                    w = w.with_help(format!("its keys are: {}", keys.join(", ")));
                }
                self.warnings.push(w);
            }
        }
        // `database("x").T` style references are not scalar.
        let root = self.bind_scalar(cur, rel)?;
        let root_name = match &root.hint {
            NameHint::Name(n) => Some(n.clone()),
            NameHint::None => None,
        };
        // Kusto's analyzer refuses a member or an index of a value that is not dynamic (a
        // string included); running, a string is read as JSON (exports often type as text a
        // column that holds JSON)
        if self.options.check_only && root.ty != KqlType::Dynamic {
            if let Some((member, at)) = &first {
                let err = match member {
                    Some(m) => KqlError::new(
                        "KS142",
                        format!("The name '{m}' does not refer to any known column, table, variable or function."),
                        *at,
                    ),
                    None => {
                        KqlError::new("KS147", "The element access operator [] is not allowed in this context.", *at)
                    }
                }
                .with_help(format!(
                    "the value is a {}: read it as JSON first, e.g. `parse_json(x).key`",
                    root.ty.name()
                ));
                self.recover(err)?;
                return Ok(Bound::new(typed_null(KqlType::Dynamic), KqlType::Dynamic));
            }
        }
        let root = if root.ty == KqlType::String {
            let hint = root.hint.clone();
            Bound { hint, ..Bound::new(crate::functions::dynfn::parse_json(root.expr), KqlType::Dynamic) }
        } else {
            root
        };
        if root.ty != KqlType::Dynamic {
            return Err(KqlError::new(
                "KS147",
                format!(
                    "The element access operator is not allowed on a value of type {} (only on dynamic)",
                    root.ty.name()
                ),
                e.span,
            )
            .with_help("convert it first, e.g. `parse_json(x).key`"));
        }
        let mut expr = root.expr;
        let mut consts: Vec<PathPart> = Vec::new();
        let mut name_parts: Vec<String> = root_name.into_iter().collect();
        for p in elems {
            match p {
                PathPart::Expr(ix) => {
                    if !consts.is_empty() {
                        expr = dynfn::path(expr, &consts);
                        consts.clear();
                    }
                    let ib = self.bind_scalar(&ix, rel)?;
                    if !matches!(ib.ty, KqlType::Int | KqlType::Long | KqlType::String | KqlType::Dynamic) {
                        self.recover(
                            KqlError::new(
                                "KS141",
                                "The expression must have one of the types: int, long or string.",
                                ix.span,
                            )
                            .with_help(format!(
                                "this index is a {}: convert it, e.g. `tolong(...)` for a position or `tostring(...)` for a key",
                                ib.ty.name()
                            )),
                        )?;
                    }
                    expr = dynfn::index(expr, ib.expr, ib.ty);
                }
                PathPart::Key(k) => {
                    name_parts.push(k.clone());
                    consts.push(PathPart::Key(k));
                }
                PathPart::Index(i) => {
                    name_parts.push(i.to_string());
                    consts.push(PathPart::Index(i));
                }
            }
        }
        if !consts.is_empty() {
            expr = dynfn::path(expr, &consts);
        }
        Ok(Bound { expr, ty: KqlType::Dynamic, hint: NameHint::Name(naming::path_name(&name_parts)) })
    }

    /// Convert a bound expression to another KQL type with Kusto's conversion rules.
    pub fn coerce(&self, b: Bound, to: KqlType) -> Bound {
        if b.ty == to {
            return b;
        }
        let hint = b.hint.clone();
        let expr = match (b.ty, to) {
            (KqlType::Dynamic, _) => dynfn::from_dynamic(b.expr, to),
            (_, KqlType::Dynamic) => dynfn::to_dynamic(b.expr, b.ty),
            (_, KqlType::String) => strfn::to_string(b.expr, b.ty),
            (KqlType::String, _) => functions::convert::from_string(b.expr, to),
            // a real past the range of the integer type (NaN, infinities, 1e19), or a long past
            // an int's, converts to null, not to a failed query
            (f, t) if is_numeric(f) && is_numeric(t) && narrows(f, t) => try_cast(b.expr, arrow_type(t)),
            (f, t) if is_numeric(f) && is_numeric(t) => cast(b.expr, arrow_type(t)),
            (KqlType::Bool, t) if is_numeric(t) => cast(cast(b.expr, DataType::Int64), arrow_type(t)),
            (f, KqlType::Bool) if is_numeric(f) => binop(b.expr, DfOp::NotEq, cast(lit(0i64), arrow_type(f))),
            (KqlType::DateTime | KqlType::TimeSpan, KqlType::Long) => b.expr,
            (KqlType::Long, KqlType::DateTime | KqlType::TimeSpan) => b.expr,
            (KqlType::DateTime | KqlType::TimeSpan, KqlType::Real) => cast(b.expr, DataType::Float64),
            (KqlType::Int, KqlType::DateTime | KqlType::TimeSpan) => cast(b.expr, DataType::Int64),
            _ => typed_null(to),
        };
        Bound { expr, ty: to, hint }
    }

    fn bind_binary(&mut self, op: BinaryOp, l: &ast::Expr, r: &ast::Expr, rel: &Rel, span: Span) -> Result<Bound> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                // `a or b or c ...` (generated rules `or` thousands of tests): bound operand by
                // operand, then grouped as a balanced tree, which means the same (both are
                // associative) but is only log2(n) deep, so DataFusion's recursive passes (some
                // of them quadratic in the depth) stay fast
                let (first, steps) = left_spine(op, l, r, span, |o| o == op);
                let mut parts = Vec::with_capacity(steps.len() + 1);
                for x in std::iter::once(first).chain(steps.iter().map(|s| s.1)) {
                    let b = self.bind_scalar(x, rel)?;
                    parts.push(self.as_bool(b, x.span)?);
                }
                Ok(Bound::new(balanced(parts, if op == BinaryOp::And { DfOp::And } else { DfOp::Or }), KqlType::Bool))
            }
            BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
                let a = self.bind_scalar(l, rel)?;
                let b = self.bind_scalar(r, rel)?;
                let dop = match op {
                    BinaryOp::Eq => DfOp::Eq,
                    BinaryOp::NotEq => DfOp::NotEq,
                    BinaryOp::Lt => DfOp::Lt,
                    BinaryOp::LtEq => DfOp::LtEq,
                    BinaryOp::Gt => DfOp::Gt,
                    _ => DfOp::GtEq,
                };
                Ok(Bound::new(self.compare(a, dop, b, span)?, KqlType::Bool))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                // a chain at one precedence level (`a + b - c + ...`), bound operand by operand
                // from the left, as Kusto evaluates it
                let additive = |o: BinaryOp| matches!(o, BinaryOp::Add | BinaryOp::Sub);
                let level = additive(op);
                let (first, steps) = left_spine(op, l, r, span, |o| {
                    additive(o) == level
                        && matches!(o, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod)
                });
                let mut acc = self.bind_scalar(first, rel)?;
                // On integers, datetimes and timespans (64-bit ticks), `+`, `-` and `*` wrap,
                // so a long chain of them can be regrouped: `a - b + c - d` as `(a + c) - (b +
                // d)`, each side a balanced tree (see `And | Or`). Reals are summed in order.
                let ticks = |b: &Bound, op: BinaryOp| match op {
                    BinaryOp::Mul => matches!(b.ty, KqlType::Int | KqlType::Long),
                    _ => matches!(b.ty, KqlType::Int | KqlType::Long | KqlType::DateTime | KqlType::TimeSpan),
                };
                let mut regroup: Option<(Vec<Bound>, Vec<Bound>)> =
                    (steps.len() >= 8 && ticks(&acc, op)).then(|| (vec![acc.clone()], vec![]));
                for (step_op, x, span) in steps {
                    let b = self.bind_scalar(x, rel)?;
                    if let Some((plus, minus)) = &mut regroup {
                        match step_op {
                            BinaryOp::Add if op != BinaryOp::Mul && ticks(&b, step_op) => plus.push(b.clone()),
                            BinaryOp::Sub if op != BinaryOp::Mul && ticks(&b, step_op) => minus.push(b.clone()),
                            BinaryOp::Mul if op == BinaryOp::Mul && ticks(&b, step_op) => plus.push(b.clone()),
                            _ => regroup = None,
                        }
                    }
                    let aop = match step_op {
                        BinaryOp::Add => Arith::Add,
                        BinaryOp::Sub => Arith::Sub,
                        BinaryOp::Mul => Arith::Mul,
                        BinaryOp::Div => Arith::Div,
                        _ => Arith::Mod,
                    };
                    acc = self.arith(aop, acc, b, span)?;
                }
                if let Some((plus, minus)) = regroup {
                    let longs = |v: Vec<Bound>| v.into_iter().map(|p| self.coerce(p, KqlType::Long).expr).collect();
                    let expr = if op == BinaryOp::Mul {
                        balanced(longs(plus), DfOp::Multiply)
                    } else if minus.is_empty() {
                        balanced(longs(plus), DfOp::Plus)
                    } else {
                        binop(balanced(longs(plus), DfOp::Plus), DfOp::Minus, balanced(longs(minus), DfOp::Plus))
                    };
                    return Ok(Bound { expr, ..acc });
                }
                Ok(acc)
            }
            BinaryOp::Str(s) if matches!(l.kind, ExprKind::Star) => {
                // `* has "x"`: some column (as text) has it
                let b = self.bind_scalar(r, rel)?;
                let needle = self.coerce(b, KqlType::String).expr;
                let e = self.any_column_test(rel, s.kind, s.case_sensitive, needle);
                Ok(Bound::new(if s.negated { Expr::Not(Box::new(e)) } else { e }, KqlType::Bool))
            }
            BinaryOp::Str(s) => {
                let a = self.bind_scalar(l, rel)?;
                let b = self.bind_scalar(r, rel)?;
                let a = self.coerce(a, KqlType::String);
                let b = self.coerce(b, KqlType::String);
                let e = strfn::string_op(s.kind, s.case_sensitive, a.expr, b.expr);
                let e = if s.kind == StrOpKind::MatchesRegex {
                    e
                } else if s.negated {
                    Expr::Not(Box::new(e))
                } else {
                    e
                };
                Ok(Bound::new(e, KqlType::Bool))
            }
        }
    }

    /// Whether some column of `rel`, as text, satisfies the string predicate `kind` with
    /// `needle` (`* has "x"`, `search "x"`): one call over the columns' texts (see
    /// [`strfn::any_string_op`]), leaving out the columns whose type cannot print the needle's
    /// characters when it is a constant. Never null.
    pub(crate) fn any_column_test(&self, rel: &Rel, kind: StrOpKind, cs: bool, needle: Expr) -> Expr {
        let constant = match &needle {
            Expr::Literal(ScalarValue::Utf8(Some(t)), _) => Some(t.clone()),
            _ => None,
        };
        let texts: Vec<Expr> = rel
            .cols
            .iter()
            .filter(|c| constant.as_deref().is_none_or(|t| strfn::text_may_match(c.ty, kind, cs, t)))
            .map(|c| match c.ty {
                KqlType::Dynamic => dynfn::tostring(column(&c.name)),
                _ => self.coerce(Bound::new(column(&c.name), c.ty), KqlType::String).expr,
            })
            .collect();
        strfn::any_string_op(kind, cs, needle, texts)
    }

    /// A boolean operand; dynamic and numbers convert.
    pub fn as_bool(&self, b: Bound, span: Span) -> Result<Expr> {
        match b.ty {
            KqlType::Bool => Ok(b.expr),
            KqlType::Dynamic | KqlType::Long | KqlType::Int | KqlType::String => Ok(self.coerce(b, KqlType::Bool).expr),
            t => Err(KqlError::new("KS107", format!("A value of type bool expected, found {}.", t.name()), span)),
        }
    }

    /// A comparison with KQL's coercions (numbers widen, dynamic converts to the other side).
    pub fn compare(&mut self, a: Bound, op: DfOp, b: Bound, span: Span) -> Result<Expr> {
        use KqlType::*;
        let (a, b) = match (a.ty, b.ty) {
            (x, y) if x == y => (a, b),
            (x, y) if is_numeric(x) && is_numeric(y) => {
                let t = numeric_common(x, y);
                (self.coerce(a, t), self.coerce(b, t))
            }
            (Dynamic, y) => (self.coerce(a, y), b),
            (x, Dynamic) => {
                let b = self.coerce(b, x);
                (a, b)
            }
            (String, _) | (_, String) | (Guid, _) | (_, Guid) => {
                if !matches!((a.ty, b.ty), (String, Guid) | (Guid, String)) {
                    let (s, other) = if a.ty == String || a.ty == Guid { (&a, &b) } else { (&b, &a) };
                    let _ = s;
                    self.warnings.push(
                        KqlError::new(
                            "KQLW001",
                            format!(
                                "comparing a {} with a {}: the values are compared as text",
                                a.ty.name(),
                                b.ty.name()
                            ),
                            span,
                        )
                        .with_help(match other.ty {
                            Bool => "compare with a bool literal (true/false), or convert explicitly with tostring()"
                                .to_string(),
                            t if is_numeric(t) => {
                                "compare with a string literal (e.g. \"0\"), or convert with toint()/tolong()"
                                    .to_string()
                            }
                            _ => "convert one side explicitly".to_string(),
                        }),
                    );
                }
                (self.coerce(a, KqlType::String), self.coerce(b, KqlType::String))
            }
            (DateTime | TimeSpan, Long | Int)
            | (Long | Int, DateTime | TimeSpan)
            | (DateTime, TimeSpan)
            | (TimeSpan, DateTime) => (self.coerce(a, Long), self.coerce(b, Long)),
            (Bool, y) if is_numeric(y) => (self.coerce(a, Long), self.coerce(b, Long)),
            (x, Bool) if is_numeric(x) => (self.coerce(a, Long), self.coerce(b, Long)),
            (x, y) => {
                return Err(KqlError::new(
                    "KS106",
                    format!("Cannot compare values of types {} and {}.", x.name(), y.name()),
                    span,
                ))
            }
        };
        // (`tostring(d) == "text"` becomes a comparison of JSON text in the optimizer:
        // `optimize::DynamicTextComparisons`)
        Ok(binop(a.expr, op, b.expr))
    }

    /// Arithmetic with KQL's result types.
    pub fn arith(&self, op: Arith, a: Bound, b: Bound, span: Span) -> Result<Bound> {
        let (a, b) = (self.dyn_to_number(a), self.dyn_to_number(b));
        let Some(t) = arith_result(op, a.ty, b.ty) else {
            return Err(KqlError::new(
                "KS106",
                format!(
                    "The operator '{}' is not defined for types {} and {}.",
                    match op {
                        Arith::Add => "+",
                        Arith::Sub => "-",
                        Arith::Mul => "*",
                        Arith::Div => "/",
                        Arith::Mod => "%",
                    },
                    a.ty.name(),
                    b.ty.name()
                ),
                span,
            ));
        };
        // datetimes and timespans compute on their ticks; a real factor stays real (1h * 1.5)
        let ticks_result = matches!(t, KqlType::TimeSpan | KqlType::DateTime);
        let operand_ty = |x: KqlType| -> KqlType {
            match x {
                KqlType::DateTime | KqlType::TimeSpan => KqlType::Long,
                _ if t == KqlType::Real => KqlType::Real,
                KqlType::Real | KqlType::Decimal if ticks_result => KqlType::Real,
                _ if is_numeric(x) => KqlType::Long,
                other => other,
            }
        };
        let (ta, tb) = (operand_ty(a.ty), operand_ty(b.ty));
        // Where a datetime is read as a number (`d / 1h`, `d % 1d`, `d * 2`, `d1 + d2`), Kusto
        // reads its ticks since 0001-01-01 (ours count from 1970): shift it there, and a
        // datetime result back
        let as_ticks = matches!(op, Arith::Mul | Arith::Div | Arith::Mod)
            || (op == Arith::Add && a.ty == KqlType::DateTime && b.ty == KqlType::DateTime)
            || (op == Arith::Sub && a.ty == KqlType::TimeSpan && b.ty == KqlType::DateTime);
        let shift = |was: KqlType, x: Bound| -> Bound {
            if as_ticks && was == KqlType::DateTime {
                Bound { expr: binop(x.expr, DfOp::Plus, lit(crate::value::datetime::UNIX_EPOCH_DOTNET_TICKS)), ..x }
            } else {
                x
            }
        };
        let (a_ty, b_ty) = (a.ty, b.ty);
        let a2 = shift(a_ty, self.coerce(a, ta));
        let b2 = shift(b_ty, self.coerce(b, tb));
        let expr = match op {
            Arith::Add => binop(a2.expr, DfOp::Plus, b2.expr),
            Arith::Sub => binop(a2.expr, DfOp::Minus, b2.expr),
            Arith::Mul => {
                if ticks_result && (ta == KqlType::Real || tb == KqlType::Real) {
                    // ticks times a real: null past a timespan's range (NaN, infinities)
                    try_cast(
                        binop(cast(a2.expr, DataType::Float64), DfOp::Multiply, cast(b2.expr, DataType::Float64)),
                        DataType::Int64,
                    )
                } else {
                    binop(a2.expr, DfOp::Multiply, b2.expr)
                }
            }
            Arith::Div => {
                if t == KqlType::Real {
                    functions::math::div_real(cast(a2.expr, DataType::Float64), cast(b2.expr, DataType::Float64))
                } else if ticks_result && tb == KqlType::Real {
                    try_cast(
                        functions::math::div_real(cast(a2.expr, DataType::Float64), cast(b2.expr, DataType::Float64)),
                        DataType::Int64,
                    )
                } else {
                    functions::math::div_long(a2.expr, b2.expr)
                }
            }
            Arith::Mod => {
                if ticks_result && tb == KqlType::Real {
                    try_cast(
                        functions::math::mod_real(cast(a2.expr, DataType::Float64), cast(b2.expr, DataType::Float64)),
                        DataType::Int64,
                    )
                } else if t == KqlType::Real {
                    functions::math::mod_real(cast(a2.expr, DataType::Float64), cast(b2.expr, DataType::Float64))
                } else {
                    functions::math::mod_long(a2.expr, b2.expr)
                }
            }
        };
        let expr = if as_ticks && t == KqlType::DateTime {
            binop(expr, DfOp::Minus, lit(crate::value::datetime::UNIX_EPOCH_DOTNET_TICKS))
        } else {
            expr
        };
        Ok(Bound::new(expr, t))
    }

    fn dyn_to_number(&self, b: Bound) -> Bound {
        if b.ty == KqlType::Dynamic {
            self.coerce(b, KqlType::Real)
        } else {
            b
        }
    }

    fn bind_in(&mut self, op: ListOp, x: &ast::Expr, list: &[ast::Expr], rel: &Rel, span: Span) -> Result<Bound> {
        let xb = self.bind_scalar(x, rel)?;
        // Collect candidate values: literals, scalar lets, dynamic arrays, tabular first columns.
        let mut values: Vec<Bound> = Vec::new();
        let mut dyn_arrays: Vec<Bound> = Vec::new();
        for item in list {
            if self.is_tabular(item) {
                let r = self.bind_tabular(item)?;
                let Some(first) = r.cols.first().cloned() else { continue };
                if r.cols.len() > 1 {
                    self.warnings.push(
                        KqlError::new(
                            "KQLW002",
                            format!(
                                "`in` over a table with {} columns uses only its first column `{}` ({})",
                                r.cols.len(),
                                first.name,
                                first.ty.name()
                            ),
                            item.span,
                        )
                        .with_help(format!("project the column you mean: `(T | project {})`", first.name)),
                    );
                }
                if self.options.check_only {
                    continue;
                }
                let plan = datafusion::logical_expr::LogicalPlanBuilder::from(r.plan)
                    .project(vec![column(&first.name)])?
                    .build()?;
                for batch in self.runner.run(plan)? {
                    let col = batch.column(0);
                    for i in 0..batch.num_rows() {
                        let v = ScalarValue::try_from_array(col, i)?;
                        values.push(Bound::new(lit(v), first.ty));
                    }
                }
                continue;
            }
            let b = self.bind_scalar(item, rel)?;
            if b.ty == KqlType::Dynamic {
                dyn_arrays.push(b);
            } else {
                values.push(b);
            }
        }
        let (cs, negated) = match op {
            ListOp::In => (true, false),
            ListOp::NotIn => (true, true),
            ListOp::InCi => (false, false),
            ListOp::NotInCi => (false, true),
            ListOp::HasAny | ListOp::HasAll => {
                return strfn::has_any_all(self, op == ListOp::HasAll, xb, values, dyn_arrays, span);
            }
        };
        let mut parts: Vec<Expr> = Vec::new();
        // Compare on the candidate's type; strings case-insensitively for in~.
        if !values.is_empty() {
            let target = if xb.ty == KqlType::Dynamic { values[0].ty } else { xb.ty };
            let xv = self.coerce(xb.clone(), target);
            let mut list_exprs = Vec::new();
            for v in values {
                let v = self.coerce(v, target);
                list_exprs.push(v.expr);
            }
            if cs || target != KqlType::String {
                parts.push(xv.expr.in_list(list_exprs, false));
            } else {
                let lower = |e: Expr| strfn::lower(e);
                parts.push(lower(xv.expr).in_list(list_exprs.into_iter().map(lower).collect(), false));
            }
        }
        for arr in dyn_arrays {
            parts.push(dynfn::array_contains(arr.expr, self.coerce(xb.clone(), KqlType::Dynamic).expr, cs));
        }
        let any = parts.into_iter().reduce(|a, b| a.or(b)).unwrap_or(lit(false));
        // a null tested value is never in the list
        let e = if negated {
            Expr::Not(Box::new(functions::logical::null_false(any)))
        } else {
            functions::logical::null_false(any)
        };
        Ok(Bound::new(e, KqlType::Bool))
    }
}

/// One step of a path.
#[derive(Debug, Clone)]
pub enum PathPart {
    /// `.key` or `['key']`
    Key(String),
    /// `[n]`
    Index(i64),
    /// `[expr]`
    Expr(ast::Expr),
}

/// The text of a `datetime(...)` literal: quotes and stray spaces (`2017 - 08 - 01`) are allowed.
pub fn parse_datetime_literal(text: &str) -> Option<i64> {
    use crate::value::datetime::parse_datetime;
    let t = text.trim();
    let t = t
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| t.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(t);
    parse_datetime(t)
        .or_else(|| parse_datetime(&t.replace(" - ", "-").replace(" : ", ":")))
        .or_else(|| datetime_from_parts(t))
}

/// `datetime(2025, 6, 14)`: the literal's parts as numbers, `year, month, day[, hour, minute,
/// second[, fraction of a second in 100ns ticks]]` (the order of .NET's `DateTime`
/// constructor, which Kusto's literal parser accepts).
fn datetime_from_parts(t: &str) -> Option<i64> {
    let parts: Vec<i64> = t.split(',').map(|p| p.trim().parse::<i64>().ok()).collect::<Option<_>>()?;
    if !(3..=7).contains(&parts.len()) || parts.len() == 4 {
        return None;
    }
    let get = |i: usize| parts.get(i).copied().unwrap_or(0);
    let (y, mo, d, h, mi, s, f) = (get(0), get(1), get(2), get(3), get(4), get(5), get(6));
    if !(1..=9999).contains(&y) || !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..60).contains(&s) {
        return None;
    }
    if !(0..10_000_000).contains(&f) {
        return None;
    }
    let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
    // the date must exist (the ISO parser checks month and day)
    crate::value::datetime::parse_datetime(&text).map(|t| t + f)
}

/// `datetime(now)` (Kusto reads the literal word `now` as the query's current time).
pub fn is_now_literal(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("now")
}

thread_local! {
    static LITERAL_NOW: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Set the instant `datetime(now)` stands for while binding a query.
pub fn set_now_for_literals(now: i64) {
    LITERAL_NOW.with(|n| n.set(now));
}

fn now_for_literals() -> i64 {
    LITERAL_NOW.with(|n| n.get())
}

/// A time of day, `H:MM[:SS[.fffffff]]` with an optional `AM`/`PM`, as ticks since midnight.
fn time_of_day(text: &str) -> Option<i64> {
    let t = text.trim().trim_matches(|c| c == '"' || c == '\'');
    let upper = t.to_ascii_uppercase();
    let (clock, pm) = match upper.strip_suffix("AM").or_else(|| upper.strip_suffix("PM")) {
        Some(c) => (c.trim().to_string(), Some(upper.ends_with("PM"))),
        None => (upper.clone(), None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let h: i64 = parts[0].parse().ok()?;
    let m: i64 = parts[1].parse().ok()?;
    let secs: f64 = match parts.get(2) {
        Some(s) => s.parse().ok()?,
        None => 0.0,
    };
    let h = match pm {
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(true) if h != 12 => h + 12,
        Some(false) if h == 12 => 0,
        _ => h,
    };
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0.0..60.0).contains(&secs) {
        return None;
    }
    Some((h * 3600 + m * 60) * 10_000_000 + (secs * 1e7).round() as i64)
}

/// Bind a literal.
pub fn literal(l: &Literal, span: Span) -> Result<Bound> {
    let (e, t) = match l {
        Literal::Bool(v) => (lit(ScalarValue::Boolean(*v)), KqlType::Bool),
        Literal::Int(v) => (lit(ScalarValue::Int32(*v)), KqlType::Int),
        Literal::Long(v) => (lit(ScalarValue::Int64(*v)), KqlType::Long),
        Literal::Real(v) => (lit(ScalarValue::Float64(*v)), KqlType::Real),
        Literal::Decimal(v) => {
            (lit(ScalarValue::Float64(v.as_ref().and_then(|s| s.trim().parse().ok()))), KqlType::Decimal)
        }
        Literal::String(s) => (lit(s.as_str()), KqlType::String),
        Literal::StringNull => (lit(""), KqlType::String),
        Literal::DateTime(None) => (lit(ScalarValue::Int64(None)), KqlType::DateTime),
        Literal::DateTime(Some(text)) if is_now_literal(text) => {
            return Ok(Bound::new(lit(now_for_literals()), KqlType::DateTime))
        }
        Literal::DateTime(Some(text)) => match parse_datetime_literal(text) {
            Some(t) => (lit(t), KqlType::DateTime),
            // a time of day alone (`datetime("8:00:00 AM")`) is that time today (UTC)
            None if time_of_day(text).is_some() => {
                let day = 864_000_000_000i64;
                let today = now_for_literals().div_euclid(day) * day;
                (lit(today + time_of_day(text).unwrap_or(0)), KqlType::DateTime)
            }
            None => {
                return Err(KqlError::new("KQL030", format!("`{text}` is not a valid datetime literal"), span)
                    .with_help("write it as ISO 8601, e.g. datetime(2025-10-21T14:32:17Z)"))
            }
        },
        Literal::TimeSpan(v) => (lit(ScalarValue::Int64(*v)), KqlType::TimeSpan),
        Literal::Guid(v) => (lit(ScalarValue::Utf8(v.as_ref().map(|g| g.trim().to_lowercase()))), KqlType::Guid),
        Literal::Dynamic(d) => {
            let text = dynfn::literal_json(d);
            (lit(ScalarValue::Utf8(text)), KqlType::Dynamic)
        }
    };
    Ok(Bound::new(e, t))
}

/// Whether converting a number of type `from` to `to` can fall outside `to`'s range.
pub(crate) fn narrows(from: KqlType, to: KqlType) -> bool {
    matches!(
        (from, to),
        (KqlType::Real | KqlType::Decimal, KqlType::Int | KqlType::Long) | (KqlType::Long, KqlType::Int)
    )
}
