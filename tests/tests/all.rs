//! The one integration-test binary: every cross-crate, corpus and conformance test.

mod asim_watchlists;
mod bad_input;
mod check_corpus;
mod cli_commands;
mod common;
mod conformance;
mod corpus_runs;
mod deep_queries;
mod diagnostic_snapshots;
mod find_operator;
mod fmt_corpus;
mod formats;
mod function_calls;
mod functions_page;
mod fuzz;
mod lazy_tables;
mod limits;
mod parser_corpus;
mod real_samples;
mod repl;
mod rule_alerts;
mod rule_isolation;
mod rule_pack;
mod seed_queries;
mod seed_runs;
mod wide_union;
