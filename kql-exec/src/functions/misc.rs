//! (being written) the `misc` function family.

use super::BindCtx;
use crate::binder::Bound;
use crate::error::Result;

/// Bind the functions of this family; `None` when `name` is not one of them.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let _ = (ctx, name, args);
    None
}
