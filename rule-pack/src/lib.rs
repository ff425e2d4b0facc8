//! `rule-pack`: detection rules as code.
//!
//! - [`coverage`]: ATT&CK tactics and techniques, tables against data connectors, tests;
//! - [`source`]: reading query text from `.kql` files and Sentinel rule YAML;
//! - [`rule`]: the rule model (`.kql` with a comment header, Sentinel analytic-rule YAML);
//! - [`runner`]: running a rule as the scheduler would (window, trigger, alerts);
//! - [`scheduler`]: suppression, incidents and alert grouping across runs;
//! - [`records`]: alerts and incidents as `SecurityAlert` / `SecurityIncident` rows;
//! - [`testing`]: golden tests beside rules (`*.test.yaml`);
//! - [`pack`]: packs laid out as Sentinel content, with their settings (`pack.yaml`);
//! - [`parsers`]: Sentinel parser/function YAML as KQL function definitions;
//! - [`project`]: the project file `kql.toml` (schemas, functions, data, watchlists, lints);
//! - [`validate`]: rule YAML checked as Azure-Sentinel's content CI checks it.

pub mod coverage;
pub mod pack;
pub mod parsers;
pub mod project;
pub mod records;
pub mod rule;
pub mod runner;
pub mod scheduler;
pub mod shared_prefix;
pub mod source;
pub mod testing;
pub mod validate;
