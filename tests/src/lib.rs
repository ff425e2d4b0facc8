//! Cross-crate tests live in tests/; this library holds what they share: the deterministic
//! test-data generator for the published GenAI-security queries ([`datagen`]).

pub mod datagen;
