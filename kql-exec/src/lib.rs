//! `kql-exec`: KQL on DataFusion: types, analysis and planning, functions, loaders, sessions.
//!
//! - [`value`]: the physical representation of KQL values and their pure logic;
//! - [`schema`]: KQL types and table schemas (the built-in catalog, user schema files);
//! - [`types`]: KQL types on Arrow and operator typing rules;
//! - [`binder`]: semantic analysis and planning to DataFusion;
//! - [`functions`]: the function library, by family;
//! - [`load`]: reading exported logs;
//! - [`session`]: tables, options and query execution;
//! - [`output`]: result formats (table, CSV, JSON);
//! - [`optimize`], [`physical_rules`]: the optimizer rules a session adds to DataFusion's.

// UDF caches and closures have long but plain types.
#![allow(clippy::type_complexity)]

pub mod binder;
pub mod error;
pub mod functions;
pub mod load;
pub mod optimize;
pub mod output;
pub mod physical_rules;
pub mod schema;
pub mod session;
pub mod types;
pub mod value;

pub use error::{KqlError, Result};
pub use session::{CancelHandle, Catalog, QueryResult, Session, SessionOptions};
