//! `evaluate ipv4_lookup(LookupTable, SourceKey, LookupKey [, ExtraKey...] [, return_unmatched])`
//! and `ipv6_lookup(...)`: a join on "the source address lies in the lookup row's network".
//!
//! The lookup table (small by design: Kusto's documentation speaks of 100-200K rows) is
//! materialized and indexed by network (a hash map per prefix length, probed longest prefix
//! first, so each source address costs at most one probe per distinct prefix length). Each source
//! row gets the index of its most specific matching network, and the join itself is an equi-join
//! on that index (plus the extra key columns, compared for equality), left outer when
//! `return_unmatched` is true, inner otherwise. The result is the source columns, then the lookup
//! columns (the extra keys only once), as with the `lookup` operator.

use super::super::naming::unique;
use super::super::scalar::column;
use super::super::{Binder, Col, Rel};
use crate::error::{KqlError, Result};
use crate::functions::ipfn::addr;
use crate::functions::logical;
use crate::functions::udf::udf;
use crate::schema::KqlType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, Int64Builder, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Column;
use datafusion::logical_expr::{lit, Expr, JoinType, LogicalPlanBuilder};
use kql_parser::ast;
use kql_parser::Span;
use std::collections::HashMap;
use std::sync::Arc;

/// Networks by prefix length; lookups probe the longest prefixes first.
#[derive(Default)]
struct NetIndex {
    by_prefix: Vec<(u8, HashMap<u128, i64>)>,
}

impl NetIndex {
    fn build(nets: impl Iterator<Item = (addr::V6, i64)>) -> NetIndex {
        let mut maps: HashMap<u8, HashMap<u128, i64>> = HashMap::new();
        for (net, row) in nets {
            // the first row for a network wins, as the first match of a lookup would
            maps.entry(net.prefix).or_default().entry(net.masked()).or_insert(row);
        }
        let mut by_prefix: Vec<(u8, HashMap<u128, i64>)> = maps.into_iter().collect();
        by_prefix.sort_by_key(|b| std::cmp::Reverse(b.0));
        NetIndex { by_prefix }
    }

    /// The row of the most specific network holding `ip` (no wider than `ip`'s own prefix).
    fn find(&self, ip: addr::V6) -> Option<i64> {
        let a = ip.masked();
        self.by_prefix.iter().filter(|(p, _)| *p <= ip.prefix).find_map(|(p, m)| m.get(&(a & addr::mask6(*p))).copied())
    }
}

/// An address as the plugin reads it: IPv4 (as IPv4-mapped IPv6) for `ipv4_lookup`; IPv6 or
/// IPv4 for `ipv6_lookup`. IP-prefix notation gives a network.
fn parse(text: &str, v6: bool) -> Option<addr::V6> {
    if v6 {
        addr::parse_v6(text.trim())
    } else {
        let v = addr::parse_v4(text.trim())?;
        Some(addr::V6 { addr: (0xffffu128 << 32) | v.addr as u128, prefix: v.prefix + 96 })
    }
}

impl Binder<'_> {
    /// `ipv4_lookup` (`v6 == false`) and `ipv6_lookup`.
    pub(crate) fn plugin_ip_lookup(&mut self, rel: Rel, args: &[ast::Arg], v6: bool, span: Span) -> Result<Rel> {
        let plugin = if v6 { "ipv6_lookup" } else { "ipv4_lookup" };
        let err = |m: String| KqlError::new("KQL130", format!("{plugin}: {m}"), span);
        let mut positional: Vec<&ast::Expr> = Vec::new();
        let mut unmatched: Option<&ast::Expr> = None;
        for a in args {
            match a {
                ast::Arg::Named(n) if n.name.name.eq_ignore_ascii_case("return_unmatched") => {
                    unmatched = Some(&n.value)
                }
                ast::Arg::Named(n) => return Err(err(format!("unknown argument `{}`", n.name.name))),
                a => positional.push(a.expr()),
            }
        }
        if positional.len() < 3 {
            return Err(err("expects (LookupTable, SourceKey, LookupKey [, ExtraKey...] [, return_unmatched])".into()));
        }
        // a trailing constant is return_unmatched
        if unmatched.is_none() && positional.len() > 3 {
            let last = positional[positional.len() - 1];
            if matches!(&last.kind, ast::ExprKind::Literal(ast::Literal::Bool(_))) {
                unmatched = positional.pop();
            }
        }
        let return_unmatched = match unmatched {
            Some(e) => match self.const_cell(e)?.0 {
                super::evaluate::Cell::B(b) => b,
                _ => return Err(err("return_unmatched must be a constant bool".into())),
            },
            None => false,
        };
        let name_of = |e: &ast::Expr| match &e.kind {
            ast::ExprKind::Name(id) => Some(id.name.clone()),
            _ => None,
        };
        let lookup = self.bind_tabular(positional[0])?;
        let src_key =
            name_of(positional[1]).ok_or_else(|| err("the source key must be a column of the input".into()))?;
        let lk_key =
            name_of(positional[2]).ok_or_else(|| err("the lookup key must be a column of the lookup table".into()))?;
        let mut extra = Vec::new();
        for e in &positional[3..] {
            let n = name_of(e).ok_or_else(|| err("extra keys must be column names present in both tables".into()))?;
            if rel.col(&n).is_none() || lookup.col(&n).is_none() {
                return Err(KqlError::new(
                    "KS142",
                    format!("{plugin}: extra key `{n}` must be a column of both tables"),
                    e.span,
                ));
            }
            extra.push(n);
        }
        let Some(src_col) = rel.col(&src_key).cloned() else {
            return Err(KqlError::new(
                "KS142",
                format!("The name '{src_key}' does not refer to any known column, table, variable or function."),
                positional[1].span,
            ));
        };
        let Some(lk_col) = lookup.col(&lk_key).cloned() else {
            return Err(KqlError::new(
                "KS142",
                format!("The name '{lk_key}' does not refer to any known column, table, variable or function."),
                positional[2].span,
            ));
        };
        if src_col.ty != KqlType::String || lk_col.ty != KqlType::String {
            return Err(err("the source and lookup keys must be string columns".into()));
        }
        // Output shape. ipv4_lookup gives the input's columns, then the lookup table's (its
        // documentation and Kusto.Language agree); ipv6_lookup the lookup table's first (its
        // documentation and the engine's recorded results agree). The extra keys appear once,
        // from the input; a later name already taken gets a numeric suffix.
        let mut cols: Vec<Col> = Vec::new();
        let mut order: Vec<(bool, String, String, KqlType)> = Vec::new(); // (from input, source, output, type)
        let sides: [(bool, &Rel); 2] =
            if v6 { [(false, &lookup), (true, &rel)] } else { [(true, &rel), (false, &lookup)] };
        for (from_input, side) in sides {
            for c in &side.cols {
                if !from_input && extra.contains(&c.name) {
                    continue;
                }
                let taken: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
                let name = unique(&c.name, &taken);
                order.push((from_input, c.name.clone(), name.clone(), c.ty));
                cols.push(Col::new(name, c.ty));
            }
        }
        if self.options.check_only {
            return self.open_placeholder(cols).map(|r| Rel { open: rel.open || lookup.open, ..r });
        }

        // materialize and index the lookup table
        let key_idx = lookup.cols.iter().position(|c| c.name == lk_key).unwrap_or(0);
        let mut nets = Vec::new();
        let (lrel, row_col) = self.numbered_lookup(&lookup, key_idx, span, |key, row| {
            if let Some(n) = parse(key, v6) {
                nets.push((n, row));
            }
        })?;
        let index = Arc::new(NetIndex::build(nets.into_iter()));

        // the source side: the matching lookup row of each address
        let find = udf(
            &format!("kql_{plugin}_match"),
            DataType::Int64,
            false,
            Arc::new(move |args: &[ArrayRef], rows: usize| {
                let s = args[0].as_string::<i32>();
                let mut b = Int64Builder::with_capacity(rows);
                for i in 0..rows {
                    match (!s.is_null(i)).then(|| parse(s.value(i), v6)).flatten().and_then(|a| index.find(a)) {
                        Some(r) => b.append_value(r),
                        None => b.append_null(),
                    }
                }
                Ok(Arc::new(b.finish()) as ArrayRef)
            }),
        );
        let find = find.call(vec![column(&src_key)]);
        self.join_lookup_matches(rel, lrel, &row_col, LookupJoin { find, extra, order, cols, return_unmatched })
    }
}

/// How a lookup-by-match plugin joins its input to the numbered lookup table (see
/// [`Binder::numbered_lookup`] and [`Binder::join_lookup_matches`]).
pub(super) struct LookupJoin {
    /// The lookup row number matching each input row (null: none), over the input's columns.
    pub find: Expr,
    /// Further equality keys present on both sides.
    pub extra: Vec<String>,
    /// Output columns: (from the input, source name, output name, type).
    pub order: Vec<(bool, String, String, KqlType)>,
    /// The output's columns.
    pub cols: Vec<Col>,
    /// Keep input rows without a match (their lookup columns null, or `""` for strings).
    pub return_unmatched: bool,
}

impl Binder<'_> {
    /// Materialize a lookup table with a row-number column (its name is returned), calling
    /// `each_key` with the text of every non-null key (`key_idx`, a string column) and its row
    /// number: the build side of ipv4/ipv6/geo lookups, which match rows by an index and then
    /// join on the row number.
    pub(super) fn numbered_lookup(
        &mut self,
        lookup: &Rel,
        key_idx: usize,
        span: Span,
        mut each_key: impl FnMut(&str, i64),
    ) -> Result<(Rel, String)> {
        let batches = self.runner.run(lookup.plan.clone())?;
        let mut row = 0i64;
        let mut with_rows = Vec::new();
        for b in &batches {
            let keys = b.column(key_idx).as_string::<i32>();
            for i in 0..b.num_rows() {
                if !keys.is_null(i) {
                    each_key(keys.value(i), row + i as i64);
                }
            }
            let ids: Int64Array = (row..row + b.num_rows() as i64).map(Some).collect();
            row += b.num_rows() as i64;
            let mut columns = b.columns().to_vec();
            columns.push(Arc::new(ids) as ArrayRef);
            with_rows.push(columns);
        }
        let row_col = self.fresh_alias("lookup_row");
        let mut lcols = lookup.cols.clone();
        lcols.push(Col::new(&row_col, KqlType::Long));
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(
            lcols
                .iter()
                .map(|c| datafusion::arrow::datatypes::Field::new(&c.name, crate::types::arrow_type(c.ty), true))
                .collect::<Vec<_>>(),
        ));
        let lbatches = with_rows
            .into_iter()
            .map(|c| RecordBatch::try_new(schema.clone(), c))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| KqlError::new("KQL130", e.to_string(), span))?;
        Ok((self.rel_from_batches(lcols, lbatches)?, row_col))
    }

    /// Join `rel`, extended with the matching lookup row number, to the numbered lookup `lrel`
    /// on it (and on the extra keys). The lookup table is the (small) build side and the input
    /// the probe side, so rows come out in the input's order, as Kusto returns them.
    pub(super) fn join_lookup_matches(&mut self, rel: Rel, lrel: Rel, row_col: &str, j: LookupJoin) -> Result<Rel> {
        let match_col = self.fresh_alias("lookup_match");
        let mut exprs: Vec<Expr> = rel.cols.iter().map(|c| column(&c.name)).collect();
        exprs.push(j.find.alias(&match_col));
        let lplan = crate::binder::projection::project(rel.plan, exprs)?;
        let (la, ra) = (self.fresh_alias("l"), self.fresh_alias("r"));
        let mut lkeys = vec![Column::new(Some(la.as_str()), &match_col)];
        let mut rkeys = vec![Column::new(Some(ra.as_str()), row_col)];
        for k in &j.extra {
            lkeys.push(Column::new(Some(la.as_str()), k));
            rkeys.push(Column::new(Some(ra.as_str()), k));
        }
        let jt = if j.return_unmatched { JoinType::Right } else { JoinType::Inner };
        let joined = LogicalPlanBuilder::from(lrel.plan)
            .alias(ra.as_str())?
            .join(LogicalPlanBuilder::from(lplan).alias(la.as_str())?.build()?, jt, (rkeys, lkeys), None)?
            .build()?;
        let mut out: Vec<Expr> = Vec::new();
        for (from_input, src, name, ty) in &j.order {
            let e = if *from_input {
                Expr::Column(Column::new(Some(la.as_str()), src))
            } else {
                let e = Expr::Column(Column::new(Some(ra.as_str()), src));
                // unmatched rows: strings are empty, other types null (Kusto has no null string)
                if j.return_unmatched && *ty == KqlType::String {
                    logical::coalesce(vec![e, lit("")])
                } else {
                    e
                }
            };
            out.push(e.alias(name));
        }
        let plan = crate::binder::projection::project(joined, out)?;
        Ok(Rel { plan, cols: j.cols, render: None, name: None, open: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_network_wins() {
        let nets = [("10.0.0.0/8", 0), ("10.1.0.0/16", 1), ("10.1.2.3", 2), ("5.8.0.0/19", 3)];
        let idx = NetIndex::build(nets.iter().map(|(t, r)| (parse(t, false).unwrap(), *r)));
        let f = |ip: &str| idx.find(parse(ip, false).unwrap());
        assert_eq!(f("10.9.9.9"), Some(0));
        assert_eq!(f("10.1.9.9"), Some(1));
        assert_eq!(f("10.1.2.3"), Some(2));
        assert_eq!(f("5.8.31.255"), Some(3));
        assert_eq!(f("5.8.32.0"), None);
        // a source network matches only networks at least as wide
        assert_eq!(f("10.1.0.0/12"), Some(0));
        assert_eq!(parse("not an ip", false), None);
    }

    #[test]
    fn ipv6_lookup_reads_both_families() {
        let nets = [("2001:db8::/32", 0), ("192.168.0.0/16", 1)];
        let idx = NetIndex::build(nets.iter().map(|(t, r)| (parse(t, true).unwrap(), *r)));
        assert_eq!(idx.find(parse("2001:db8:1::5", true).unwrap()), Some(0));
        assert_eq!(idx.find(parse("192.168.7.7", true).unwrap()), Some(1));
        assert_eq!(idx.find(parse("2001:db9::1", true).unwrap()), None);
    }
}
