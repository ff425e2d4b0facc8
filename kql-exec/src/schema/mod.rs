//! Table schemas: the built-in catalog and user schema files (placeholder until written).
