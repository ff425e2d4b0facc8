//! `evaluate` plugins.

use super::super::{Binder, Rel};
use crate::error::{KqlError, Result};
use kql_parser::ast;
use kql_parser::Span;

impl Binder<'_> {
    /// `evaluate plugin(args)`.
    pub(crate) fn bind_evaluate(
        &mut self,
        rel: Option<Rel>,
        params: &[ast::NamedArg],
        call: &ast::Expr,
        span: Span,
    ) -> Result<Rel> {
        let _ = (rel, params, call);
        Err(KqlError::new("KQL055", "the `evaluate` operator is not supported yet", span))
    }
}
