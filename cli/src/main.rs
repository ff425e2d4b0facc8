//! `kql`: run KQL queries and detection rules locally over exported logs.

mod chart;
mod check;
mod convert;
mod coverage;
mod data;
mod fmt;
mod progress;
mod query;
mod repl;
mod rules;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Run Kusto queries and Sentinel detection rules locally, over exported logs.
#[derive(Parser)]
#[command(name = "kql", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check queries and rule files (.kql, Sentinel .yaml) for errors without running them.
    Check(check::CheckArgs),
    /// Format .kql files and the queries of rule YAML in place (--check: only list them).
    Fmt(fmt::FmtArgs),
    /// Run a query over local data and print the result.
    Query(Box<query::QueryArgs>),
    /// Run detection rules as Sentinel's scheduler would at one instant (--now).
    Run(Box<rules::RunArgs>),
    /// Run rules at every scheduled step over a past window and report alerts.
    Replay(Box<rules::ReplayArgs>),
    /// Run golden tests of rules (*.test.yaml).
    Test(rules::TestArgs),
    /// What a pack covers: ATT&CK tactics and techniques, tables against data connectors, tests.
    Coverage(coverage::CoverageArgs),
    /// Write logs in any supported format as typed Parquet, one file per table.
    Convert(convert::ConvertArgs),
    /// An interactive shell: type queries, see tables and charts.
    Repl(Box<repl::ReplArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Query(args) => query::run(*args),
        Command::Run(args) => rules::run(*args),
        Command::Replay(args) => rules::replay(*args),
        Command::Test(args) => rules::test(args),
        Command::Coverage(args) => coverage::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Repl(args) => repl::run(*args),
    }
}
