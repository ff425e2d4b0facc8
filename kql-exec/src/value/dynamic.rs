//! Dynamic values as JSON text (placeholder until written).
