//! Combined hashes: `hash_combine(h1, h2, ...)` and `hash_many(v1, v2, ...)`.
//!
//! `hash_many` hashes each value as `hash()` does (xxhash64 of the value's bytes) and combines
//! the hashes as `hash_combine` does. Kusto does not publish how it combines hashes, and its
//! documentation warns that the algorithm may change and that combined hashes should only be
//! compared within one query. The combination here is the 64-bit `hash_combine` of Boost
//! (`seed ^ (h + 0x9e3779b97f4a7c15 + (seed << 6) + (seed >> 2))`, folded from the left): the
//! same inputs always give the same value, the order of the inputs matters, but the values
//! differ from Kusto's.

use super::array::{row_call, Out, V};
use super::BindCtx;
use crate::binder::Bound;
use crate::error::Result;
use crate::schema::KqlType;

/// Boost's 64-bit combination of a running hash with the next one.
fn combine(seed: u64, h: u64) -> u64 {
    seed ^ h.wrapping_add(0x9e37_79b9_7f4a_7c15).wrapping_add(seed << 6).wrapping_add(seed >> 2)
}

/// The combination of the row's hashes (a null hash counts as 0; all null gives null).
fn f_combine(a: &[V]) -> Out {
    if a.iter().all(|v| matches!(v, V::Null)) {
        return Out::Null;
    }
    let mut it = a.iter().map(|v| v.i().unwrap_or(0) as u64);
    let first = it.next().unwrap_or(0);
    Out::I(it.fold(first, combine) as i64)
}

/// Bind `hash_combine` and `hash_many`.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let n = args.len();
    match (name, n) {
        ("hash_combine", 2..) => {
            let b = &*ctx.binder;
            let longs = args.iter().map(|a| b.coerce(a.clone(), KqlType::Long).expr).collect();
            Some(Ok(row_call("kql_hash_combine", KqlType::Long, f_combine, longs)))
        }
        ("hash_many", 1..) => {
            let mut hashes = Vec::with_capacity(n);
            for a in args {
                match super::misc::bind(ctx, "hash", std::slice::from_ref(a))? {
                    Ok(h) => hashes.push(h.expr),
                    Err(e) => return Some(Err(e)),
                }
            }
            Some(Ok(row_call("kql_hash_combine", KqlType::Long, f_combine, hashes)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combination_is_ordered_and_deterministic() {
        let (a, b) = (753694413698530628i64, 1846988464401551951i64);
        let ab = f_combine(&[V::I(a), V::I(b)]);
        assert_eq!(ab, f_combine(&[V::I(a), V::I(b)]));
        assert_ne!(ab, f_combine(&[V::I(b), V::I(a)]));
        assert_eq!(f_combine(&[V::Null, V::Null]), Out::Null);
    }
}
