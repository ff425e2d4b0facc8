//! `mv-apply`.

use super::super::{Binder, Rel};
use crate::error::{KqlError, Result};
use kql_parser::ast;
use kql_parser::Span;

impl Binder<'_> {
    /// `mv-apply items on (subquery)`.
    pub(crate) fn bind_mv_apply(
        &mut self,
        rel: Rel,
        params: &[ast::NamedArg],
        items: &[ast::MvItem],
        limit: Option<&ast::Expr>,
        subquery: &ast::Expr,
        span: Span,
    ) -> Result<Rel> {
        let _ = (rel, params, items, limit, subquery);
        Err(KqlError::new("KQL055", "the `mv-apply` operator is not supported yet", span))
    }
}
