//! `kql-exec`: KQL on DataFusion: types, analysis and planning, functions, loaders, sessions.

pub mod schema;
pub mod value;
