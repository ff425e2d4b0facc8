//! `make-series aggs [default=v] on axis [from a] [to b] step s [by keys]`.
//!
//! 1. rows outside `[from, to)` are dropped and each row gets its bin index
//!    `(axis - start) / step`;
//! 2. the aggregations are computed per (keys, bin) with the ordinary `summarize`;
//! 3. per key, the (bin, value) pairs are collected and spread into dense arrays, absent bins
//!    holding the default (0 unless given); the axis column becomes the array of bin starts.
//!
//! A missing `from`/`to` is taken from the data (the first / last bin that has rows).

use super::super::scalar::column;
use super::super::{Binder, Bound, Col, NameHint, Rel};
use super::{extend_cols, mk_rel, name_text, param};
use crate::error::{KqlError, Result};
use crate::functions::dynfn;
use crate::functions::udf::udf;
use crate::schema::KqlType;
use crate::value::datetime as dt;
use crate::value::dynamic as dj;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::functions::core::expr_fn::named_struct;
use datafusion::logical_expr::{cast, lit, Expr, LogicalPlanBuilder};
use kql_parser::ast;
use kql_parser::Span;
use std::sync::Arc;

type R<T> = std::result::Result<T, DataFusionError>;

const MAX_POINTS: i64 = 1 << 20;

/// Spread a list of `{i, v}` structs into a dense JSON array of `n` values.
fn densify(list: Expr, n: i64, default_json: String) -> Expr {
    let body = Arc::new(move |args: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let lists = args[0].as_list::<i32>();
        let mut b = StringBuilder::with_capacity(rows, rows * 16);
        for r in 0..rows {
            let mut vals: Vec<Option<String>> = vec![None; n.max(0) as usize];
            if !lists.is_null(r) {
                let items = lists.value(r);
                let st = items.as_struct();
                let ix = st.column(0).as_primitive::<Int64Type>();
                let vs = st.column(1).as_string::<i32>();
                for k in 0..st.len() {
                    if ix.is_null(k) {
                        continue;
                    }
                    let i = ix.value(k);
                    if i >= 0 && i < n {
                        vals[i as usize] =
                            Some(if vs.is_null(k) { "null".to_string() } else { vs.value(k).to_string() });
                    }
                }
            }
            let items: Vec<&str> = vals.iter().map(|v| v.as_deref().unwrap_or(default_json.as_str())).collect();
            b.append_value(dj::build_array(&items));
        }
        Ok(Arc::new(b.finish()))
    });
    udf("kql_series_densify", DataType::Utf8, false, body).call(vec![list])
}

/// Axis arithmetic: on ticks/integers or on reals.
#[derive(Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::I(v) => v as f64,
            Num::F(v) => v,
        }
    }
}

impl Binder<'_> {
    fn const_num(&mut self, e: &ast::Expr, ty: KqlType) -> Result<Option<Num>> {
        let b = self.bind_constant(e)?;
        let v = self.const_value(self.coerce(b, ty).expr, ty, e.span)?;
        Ok(match v {
            ScalarValue::Int64(Some(x)) => Some(Num::I(x)),
            ScalarValue::Int32(Some(x)) => Some(Num::I(x as i64)),
            ScalarValue::Float64(Some(x)) => Some(Num::F(x)),
            _ => None,
        })
    }

    /// `make-series`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn bind_make_series(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        aggs: &[(ast::ColumnAssign, Option<ast::Expr>)],
        on: &ast::Expr,
        from: Option<&ast::Expr>,
        to: Option<&ast::Expr>,
        step: &ast::Expr,
        by: &[ast::ColumnAssign],
        span: Span,
    ) -> Result<Rel> {
        let nonempty = param(params, "kind").and_then(name_text).is_some_and(|k| k.eq_ignore_ascii_case("nonempty"));
        let axis = self.bind_scalar(on, &rel)?;
        let axis_name = match &axis.hint {
            NameHint::Name(n) => n.clone(),
            NameHint::None => "Column1".to_string(),
        };
        let axis_ty = match axis.ty {
            KqlType::Int => KqlType::Long,
            KqlType::Decimal => KqlType::Real,
            t @ (KqlType::DateTime | KqlType::TimeSpan | KqlType::Long | KqlType::Real) => t,
            t => {
                return Err(KqlError::new(
                    "KQL083",
                    format!("the make-series axis must be numeric, datetime or timespan, not {}", t.name()),
                    on.span,
                ))
            }
        };
        let axis_e = self.coerce(axis, axis_ty).expr;
        let step_ty = if axis_ty == KqlType::DateTime { KqlType::TimeSpan } else { axis_ty };
        let step_v = self.const_num(step, step_ty)?;
        let step_v = match step_v {
            Some(s) if s.f() > 0.0 => s,
            _ => return Err(KqlError::new("KQL121", "make-series step must be a positive constant", step.span)),
        };
        let mut start = match from {
            Some(f) => self.const_num(f, axis_ty)?,
            None => None,
        };
        let end = match to {
            Some(t) => self.const_num(t, axis_ty)?,
            None => None,
        };
        let lit_num = |n: Num| match n {
            Num::I(v) => lit(v),
            Num::F(v) => lit(v),
        };
        // rows in range
        let mut pred: Option<Expr> = Some(axis_e.clone().is_not_null());
        if let Some(s) = start {
            pred = pred.map(|p| p.and(axis_e.clone().gt_eq(lit_num(s))));
        }
        if let Some(e) = end {
            pred = pred.map(|p| p.and(axis_e.clone().lt(lit_num(e))));
        }
        let filtered = LogicalPlanBuilder::from(rel.plan.clone()).filter(pred.expect("predicate"))?.build()?;
        let rel_f = mk_rel(filtered, rel.cols.clone());
        // a missing start or end comes from the data
        let mut data_max: Option<Num> = None;
        if (start.is_none() || end.is_none()) && !self.options.check_only {
            use datafusion::functions_aggregate::expr_fn::{max, min};
            let plan = LogicalPlanBuilder::from(rel_f.plan.clone())
                .aggregate(Vec::<Expr>::new(), vec![min(axis_e.clone()).alias("lo"), max(axis_e.clone()).alias("hi")])?
                .build()?;
            let batches = self.runner.run(plan)?;
            if let Some(b) = batches.iter().find(|b| b.num_rows() > 0) {
                let get = |k: usize| -> Option<Num> {
                    match ScalarValue::try_from_array(b.column(k), 0).ok()? {
                        ScalarValue::Int64(Some(x)) => Some(Num::I(x)),
                        ScalarValue::Float64(Some(x)) => Some(Num::F(x)),
                        _ => None,
                    }
                };
                if start.is_none() {
                    start = get(0).map(|lo| match (lo, step_v) {
                        (Num::I(l), Num::I(s)) => Num::I(l.div_euclid(s) * s),
                        (l, s) => Num::F((l.f() / s.f()).floor() * s.f()),
                    });
                }
                data_max = get(1);
            }
        }
        let start_v = start.unwrap_or(match axis_ty {
            KqlType::Real => Num::F(0.0),
            _ => Num::I(0),
        });
        // number of points
        let npoints: i64 = match (end, data_max) {
            (Some(e), _) => match (e, start_v, step_v) {
                (Num::I(e), Num::I(s), Num::I(st)) => {
                    if e > s {
                        (e - s + st - 1) / st
                    } else {
                        0
                    }
                }
                (e, s, st) => ((e.f() - s.f()) / st.f()).ceil().max(0.0) as i64,
            },
            (None, Some(m)) => match (m, start_v, step_v) {
                (Num::I(m), Num::I(s), Num::I(st)) => (m - s) / st + 1,
                (m, s, st) => ((m.f() - s.f()) / st.f()).floor() as i64 + 1,
            },
            (None, None) => 0,
        };
        if npoints > MAX_POINTS {
            return Err(KqlError::new(
                "KQL122",
                format!("make-series would produce {npoints} points per series (the limit is {MAX_POINTS})"),
                span,
            ));
        }
        // 1. bin index per row
        let idx_name = "__ms_idx";
        let idx = match (start_v, step_v) {
            (Num::I(s), Num::I(st)) => (axis_e.clone() - lit(s)) / lit(st),
            (s, st) => cast(
                datafusion::functions::math::expr_fn::floor(
                    (cast(axis_e.clone(), DataType::Float64) - lit(s.f())) / lit(st.f()),
                ),
                DataType::Int64,
            ),
        };
        let with_idx = extend_cols(rel_f, vec![(idx_name.to_string(), KqlType::Long, idx)])?;
        // 2. aggregates per (keys, bin)
        let mut by2: Vec<ast::ColumnAssign> = by.to_vec();
        by2.push(ast::ColumnAssign {
            names: vec![],
            expr: ast::Expr::new(ast::ExprKind::Name(ast::Ident::new(idx_name, span)), span),
            span,
        });
        let agg_items: Vec<ast::ColumnAssign> = aggs.iter().map(|(a, _)| a.clone()).collect();
        let stage1 = crate::functions::aggregate::bind_summarize(self, with_idx, &agg_items, &by2, span)?;
        let nkeys = by.len();
        let key_cols: Vec<Col> = stage1.cols[..nkeys].to_vec();
        let agg_cols: Vec<Col> = stage1.cols[nkeys + 1..].to_vec();
        // defaults, as JSON
        let mut defaults: Vec<String> = Vec::new();
        for (k, c) in agg_cols.iter().enumerate() {
            let d = aggs.get(k).and_then(|(_, d)| d.as_ref());
            let b = match d {
                Some(d) => self.bind_constant(d)?,
                None => Bound::new(lit(0i64), KqlType::Long),
            };
            let json = if matches!(&b.expr, Expr::Literal(v, _) if v.is_null()) {
                "null".to_string()
            } else {
                let target = if c.ty == KqlType::Dynamic { b.ty } else { c.ty };
                let conv = self.coerce(b, target);
                let e = dynfn::to_dynamic(conv.expr, target);
                match self.const_value(e, KqlType::String, span)? {
                    ScalarValue::Utf8(Some(s)) => s,
                    _ => "null".to_string(),
                }
            };
            defaults.push(json);
        }
        // 3. per key: dense arrays
        use datafusion::functions_aggregate::expr_fn::{array_agg, count};
        let mut agg_exprs: Vec<Expr> = Vec::new();
        for (k, c) in agg_cols.iter().enumerate() {
            let v = dynfn::to_dynamic(column(&c.name), c.ty);
            let pair = named_struct(vec![lit("i"), column(idx_name), lit("v"), v]);
            agg_exprs.push(array_agg(pair).alias(format!("__ms_list{k}")));
        }
        agg_exprs.push(count(lit(1i64)).alias("__ms_n"));
        let keys: Vec<Expr> = key_cols.iter().map(|c| column(&c.name)).collect();
        let mut b2 = LogicalPlanBuilder::from(stage1.plan).aggregate(keys, agg_exprs)?;
        if !nonempty {
            b2 = b2.filter(column("__ms_n").gt(lit(0i64)))?;
        }
        let mut out_cols: Vec<Col> = key_cols.clone();
        let mut exprs: Vec<Expr> = key_cols.iter().map(|c| column(&c.name)).collect();
        for (k, c) in agg_cols.iter().enumerate() {
            exprs.push(densify(column(&format!("__ms_list{k}")), npoints, defaults[k].clone()).alias(&c.name));
            out_cols.push(Col::new(&c.name, KqlType::Dynamic));
        }
        // the axis
        let mut axis_items: Vec<String> = Vec::new();
        for k in 0..npoints {
            axis_items.push(match (start_v, step_v, axis_ty) {
                (Num::I(s), Num::I(st), KqlType::DateTime) => dj::json_string(&dt::format_datetime_iso(s + k * st)),
                (Num::I(s), Num::I(st), KqlType::TimeSpan) => dj::json_string(&dt::format_timespan(s + k * st)),
                (Num::I(s), Num::I(st), _) => (s + k * st).to_string(),
                (s, st, _) => dj::json_from_f64(s.f() + k as f64 * st.f()),
            });
        }
        let axis_refs: Vec<&str> = axis_items.iter().map(|s| s.as_str()).collect();
        let taken: Vec<String> = out_cols.iter().map(|c| c.name.clone()).collect();
        let axis_out = super::super::naming::unique(&axis_name, &taken);
        exprs.push(lit(dj::build_array(&axis_refs)).alias(&axis_out));
        out_cols.push(Col::new(axis_out, KqlType::Dynamic));
        let plan = b2.project(exprs)?.build()?;
        Ok(mk_rel(plan, out_cols))
    }
}
