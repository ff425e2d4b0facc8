//! The one integration-test binary: every cross-crate, corpus and conformance test.

mod common;
mod conformance;
mod parser_corpus;
