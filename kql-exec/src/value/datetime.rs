//! Datetime and timespan values (placeholder until written).
