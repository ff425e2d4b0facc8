//! `rule-pack`: detection rules as code.
//!
//! - [`source`]: reading query text from `.kql` files and Sentinel rule YAML.

pub mod source;
