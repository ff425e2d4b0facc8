//! `make-series`.

use super::super::{Binder, Rel};
use crate::error::{KqlError, Result};
use kql_parser::ast;
use kql_parser::Span;

impl Binder<'_> {
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
        let _ = (rel, params, aggs, on, from, to, step, by);
        Err(KqlError::new("KQL055", "the `make-series` operator is not supported yet", span))
    }
}
