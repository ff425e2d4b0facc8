//! `top-nested`, `sample`, `sample-distinct`, `search`, `find`, `reduce`, `scan`,
//! `partition`, `top-hitters`, `facet`, `fork`.

use super::super::{Binder, Rel};
use crate::error::{KqlError, Result};
use kql_parser::ast;
use kql_parser::Span;

fn unsupported(name: &str, span: Span) -> KqlError {
    KqlError::new("KQL055", format!("the `{name}` operator is not supported yet"), span)
}

impl Binder<'_> {
    pub(crate) fn bind_top_nested(&mut self, rel: Rel, clauses: &[ast::TopNestedClause], span: Span) -> Result<Rel> {
        let _ = (rel, clauses);
        Err(unsupported("top-nested", span))
    }
    pub(crate) fn bind_sample(&mut self, rel: Rel, n: &ast::Expr) -> Result<Rel> {
        let _ = rel;
        Err(unsupported("sample", n.span))
    }
    pub(crate) fn bind_sample_distinct(&mut self, rel: Rel, count: &ast::Expr, of: &ast::Expr) -> Result<Rel> {
        let _ = (rel, of);
        Err(unsupported("sample-distinct", count.span))
    }
    pub(crate) fn bind_search(
        &mut self,
        rel: Option<Rel>,
        params: &[ast::NamedArg],
        tables: &[ast::Expr],
        predicate: &ast::Expr,
        span: Span,
    ) -> Result<Rel> {
        let _ = (rel, params, tables, predicate);
        Err(unsupported("search", span))
    }
    pub(crate) fn bind_find(
        &mut self,
        params: &[ast::NamedArg],
        tables: &[ast::Expr],
        predicate: &ast::Expr,
        project: Option<&Vec<ast::Expr>>,
        span: Span,
    ) -> Result<Rel> {
        let _ = (params, tables, predicate, project);
        Err(unsupported("find", span))
    }
    pub(crate) fn bind_reduce(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        by: &ast::Expr,
        props: &[ast::NamedArg],
        span: Span,
    ) -> Result<Rel> {
        let _ = (rel, params, by, props);
        Err(unsupported("reduce", span))
    }
    pub(crate) fn bind_scan(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        declare: &[(ast::ColumnDecl, Option<ast::Expr>)],
        steps: &[ast::ScanStep],
        span: Span,
    ) -> Result<Rel> {
        let _ = (rel, params, declare, steps);
        Err(unsupported("scan", span))
    }
    pub(crate) fn bind_partition(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        by: &ast::Expr,
        subquery: &ast::Expr,
        span: Span,
    ) -> Result<Rel> {
        let _ = (rel, params, by, subquery);
        Err(unsupported("partition", span))
    }
    pub(crate) fn bind_top_hitters(
        &mut self,
        rel: Rel,
        count: &ast::Expr,
        of: &ast::Expr,
        by: Option<&ast::Expr>,
        span: Span,
    ) -> Result<Rel> {
        let _ = (rel, count, of, by);
        Err(unsupported("top-hitters", span))
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
