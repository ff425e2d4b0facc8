//! (being written) the tabular operators beyond the core: `parse`, `parse-where`, `parse-kv`,
//! `make-series`, `mv-apply`, `top-nested`, `evaluate` plugins, `search`, `scan`...

use super::{Binder, Rel};
use crate::error::{KqlError, Result};
use kql_parser::ast;

impl Binder<'_> {
    /// Operators not handled by the core binder.
    pub fn bind_extra_operator(&mut self, rel: Rel, op: &ast::Operator) -> Result<Rel> {
        let _ = rel;
        Err(KqlError::new(
            "KQL055",
            format!("the `{}` operator is not supported yet", super::tabular::operator_name(&op.kind)),
            op.span,
        ))
    }

    /// Source operators not handled by the core binder (`search`, `find`, `evaluate` without input).
    pub fn bind_extra_source(&mut self, op: &ast::Operator) -> Result<Rel> {
        Err(KqlError::new("KQL051", "this operator is not supported yet", op.span))
    }
}
