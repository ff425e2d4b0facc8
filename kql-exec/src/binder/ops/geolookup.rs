//! `evaluate geo_polygon_lookup(LookupTable, LookupPolygonKey, SourceLongitude, SourceLatitude
//! [, radius] [, return_unmatched] [, return_lookup_key])` and `geo_line_lookup(LookupTable,
//! LookupLineKey, SourceLongitude, SourceLatitude, max_distance [, return_unmatched]
//! [, return_lookup_key])`: a join on "the source point lies in the lookup row's polygon" (or
//! within `radius` meters of it) or "within `max_distance` meters of the lookup row's line".
//! Kusto's newer argument order, with the key after the coordinates, is read as well.
//!
//! The lookup table is small by design: it is materialized, its shapes parsed once, and each
//! source row gets the index of its match (the first polygon in lookup order holding the
//! point; the nearest line in reach). The join is then an equi-join on that index, left outer
//! when `return_unmatched` is true. The result is the source columns, then the lookup columns
//! (the key column only with `return_lookup_key = true`), as with the `lookup` operator.

use super::super::scalar::column;
use super::super::{Binder, Col, Rel};
use crate::error::{KqlError, Result};
use crate::functions::geo::LookupShape;
use crate::functions::udf::udf;
use crate::schema::KqlType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::logical_expr::cast;
use kql_parser::ast;
use kql_parser::Span;
use std::sync::Arc;

/// The lookup shapes with their rows, and how a point matches them.
struct Shapes {
    shapes: Vec<(LookupShape, i64)>,
    lines: bool,
    /// polygons: the radius (meters) around them that matches too; lines: the reach
    reach: Option<f64>,
}

impl Shapes {
    fn find(&self, lng: f64, lat: f64) -> Option<i64> {
        if self.lines {
            let reach = self.reach?;
            let mut best: Option<(f64, i64)> = None;
            for (s, row) in &self.shapes {
                if let Some(d) = s.distance(lng, lat) {
                    if d <= reach && best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, *row));
                    }
                }
            }
            return best.map(|b| b.1);
        }
        self.shapes.iter().find_map(|(s, row)| {
            let hit = match self.reach {
                None => s.contains(lng, lat),
                Some(r) => s.distance(lng, lat).is_some_and(|d| d <= r),
            };
            hit.then_some(*row)
        })
    }
}

impl Binder<'_> {
    /// `geo_polygon_lookup` (`lines == false`) and `geo_line_lookup`.
    pub(crate) fn plugin_geo_lookup(&mut self, rel: Rel, args: &[ast::Arg], lines: bool, span: Span) -> Result<Rel> {
        let plugin = if lines { "geo_line_lookup" } else { "geo_polygon_lookup" };
        let err = |m: String| KqlError::new("KQL130", format!("{plugin}: {m}"), span);
        let mut positional: Vec<&ast::Expr> = Vec::new();
        let (mut unmatched, mut with_key, mut reach) = (None, None, None);
        for a in args {
            match a {
                ast::Arg::Named(n) => match n.name.name.to_ascii_lowercase().as_str() {
                    "return_unmatched" => unmatched = Some(&n.value),
                    "return_lookup_key" => with_key = Some(&n.value),
                    "radius" | "max_distance" => reach = Some(&n.value),
                    // hints that change only how the match is found
                    "join_hint" | "lookup_area_radius" => {}
                    other => return Err(err(format!("unknown argument `{other}`"))),
                },
                a => positional.push(a.expr()),
            }
        }
        if positional.len() < 4 {
            return Err(err("expects (LookupTable, LookupKey, SourceLongitude, SourceLatitude, ...)".into()));
        }
        let name_of = |e: &ast::Expr| match &e.kind {
            ast::ExprKind::Name(id) => Some(id.name.clone()),
            _ => None,
        };
        let lookup = self.bind_tabular(positional[0])?;
        // the key is the argument naming a lookup column: second (the examples) or fourth
        let key_first = name_of(positional[1]).is_some_and(|n| lookup.col(&n).is_some() && rel.col(&n).is_none());
        let (key_e, lng_e, lat_e) = if key_first {
            (positional[1], positional[2], positional[3])
        } else {
            (positional[3], positional[1], positional[2])
        };
        let key = name_of(key_e).ok_or_else(|| err("the lookup key must be a column of the lookup table".into()))?;
        let lng = name_of(lng_e).ok_or_else(|| err("the longitude must be a column of the input".into()))?;
        let lat = name_of(lat_e).ok_or_else(|| err("the latitude must be a column of the input".into()))?;
        for (n, e, side) in [(&key, key_e, &lookup), (&lng, lng_e, &rel), (&lat, lat_e, &rel)] {
            if side.col(n).is_none() {
                return Err(KqlError::new(
                    "KS142",
                    format!("The name '{n}' does not refer to any known column, table, variable or function."),
                    e.span,
                ));
            }
        }
        // the optional positional arguments: the distance, then the flags
        let mut rest = positional[4..].iter();
        if reach.is_none() {
            reach = rest.next().copied();
        }
        if unmatched.is_none() {
            unmatched = rest.next().copied();
        }
        if with_key.is_none() {
            with_key = rest.next().copied();
        }
        let mut flag = |e: Option<&ast::Expr>, what: &str| -> Result<bool> {
            match e {
                None => Ok(false),
                Some(e) => match self.const_cell(e)?.0 {
                    super::evaluate::Cell::B(b) => Ok(b),
                    super::evaluate::Cell::Null => Ok(false),
                    _ => Err(err(format!("{what} must be a constant bool"))),
                },
            }
        };
        let return_unmatched = flag(unmatched, "return_unmatched")?;
        let return_key = flag(with_key, "return_lookup_key")?;
        let reach = match reach {
            None => None,
            Some(e) => match self.const_cell(e)?.0 {
                super::evaluate::Cell::I(i) => Some(i as f64),
                super::evaluate::Cell::F(f) => Some(f),
                super::evaluate::Cell::Null => None,
                _ => return Err(err("the distance must be a constant number".into())),
            },
        };
        if lines && reach.is_none() {
            return Err(err("max_distance is required".into()));
        }
        if reach.is_some_and(|r| !(r.is_finite() && r >= 0.0)) {
            return Err(err("the distance must be a non-negative number".into()));
        }

        // output: the input's columns, then the lookup table's (its key only if asked for)
        let mut cols: Vec<Col> = rel.cols.clone();
        let mut lk_out: Vec<(String, KqlType)> = Vec::new();
        for c in &lookup.cols {
            if c.name == key && !return_key {
                continue;
            }
            let taken: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
            let name = super::super::naming::unique(&c.name, &taken);
            lk_out.push((c.name.clone(), c.ty));
            cols.push(Col::new(name, c.ty));
        }
        if self.options.check_only {
            return self.open_placeholder(cols).map(|r| Rel { open: rel.open || lookup.open, ..r });
        }

        // materialize the lookup table and parse its shapes
        let key_idx = lookup.cols.iter().position(|c| c.name == key).unwrap_or(0);
        let key_is_text = lookup.cols[key_idx].ty == KqlType::Dynamic || lookup.cols[key_idx].ty == KqlType::String;
        if !key_is_text {
            return Err(err("the lookup key must be a dynamic column".into()));
        }
        let mut shapes = Vec::new();
        let (lrel, row_col) = self.numbered_lookup(&lookup, key_idx, span, |key, row| {
            if let Some(s) = LookupShape::parse(key, lines) {
                shapes.push((s, row));
            }
        })?;
        let index = Arc::new(Shapes { shapes, lines, reach });

        // the source side: the matching lookup row of each point
        let find = udf(
            &format!("kql_{plugin}_match"),
            DataType::Int64,
            false,
            Arc::new(move |args: &[ArrayRef], rows: usize| {
                let x = args[0].as_primitive::<Float64Type>();
                let y = args[1].as_primitive::<Float64Type>();
                let mut b = Int64Builder::with_capacity(rows);
                for i in 0..rows {
                    let m = (!x.is_null(i) && !y.is_null(i)).then(|| index.find(x.value(i), y.value(i))).flatten();
                    b.append_option(m);
                }
                Ok(Arc::new(b.finish()) as ArrayRef)
            }),
        );
        let real = |n: &str| cast(column(n), DataType::Float64);
        let find = find.call(vec![real(&lng), real(&lat)]);
        let mut order: Vec<(bool, String, String, KqlType)> =
            rel.cols.iter().map(|c| (true, c.name.clone(), c.name.clone(), c.ty)).collect();
        for ((src, ty), c) in lk_out.iter().zip(&cols[rel.cols.len()..]) {
            order.push((false, src.clone(), c.name.clone(), *ty));
        }
        let join = super::iplookup::LookupJoin { find, extra: Vec::new(), order, cols, return_unmatched };
        self.join_lookup_matches(rel, lrel, &row_col, join)
    }
}
