//! `rule-pack`: detection rules as code.
//!
//! - [`source`]: reading query text from `.kql` files and Sentinel rule YAML;
//! - [`rule`]: the rule model (`.kql` with a comment header, Sentinel analytic-rule YAML);
//! - [`runner`]: running a rule as the scheduler would (window, trigger, alerts);
//! - [`testing`]: golden tests beside rules (`*.test.yaml`);
//! - [`parsers`]: Sentinel parser/function YAML as KQL function definitions.

pub mod parsers;
pub mod rule;
pub mod runner;
pub mod source;
pub mod testing;
