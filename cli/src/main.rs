//! `kql`: run KQL queries and detection rules locally over exported logs.

mod chart;
mod check;
mod convert;
mod coverage;
mod data;
mod explain;
mod fmt;
mod progress;
mod project;
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
    /// Explain a lint: what it catches, why, an example and the fix (--list: every lint).
    Explain(explain::ExplainArgs),
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
    /// A language server over stdin/stdout (LSP) for editors: diagnostics, completion, hover,
    /// navigation and rename in .kql files and the queries of Sentinel rule YAML.
    Lsp,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // the language server finds each document's kql.toml itself; `convert` needs none
    let project = match &cli.command {
        Command::Convert(_) | Command::Lsp | Command::Explain(_) => None,
        _ => match project::current() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let project = project.as_ref();
    match cli.command {
        Command::Check(mut args) => {
            if let Some(p) = project {
                project::apply_check(&mut args.schemas, &mut args.functions, p);
                args.apply_lint_settings(&p.lint);
            }
            check::run(args)
        }
        Command::Query(mut args) => {
            if let Some(p) = project {
                project::apply_data(&mut args.data, p);
            }
            query::run(*args)
        }
        Command::Run(mut args) => {
            if let Some(p) = project {
                project::apply_data(&mut args.data, p);
            }
            rules::run(*args)
        }
        Command::Replay(mut args) => {
            if let Some(p) = project {
                project::apply_data(&mut args.data, p);
            }
            rules::replay(*args)
        }
        Command::Test(args) => rules::test(args, project),
        Command::Fmt(args) => fmt::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Coverage(mut args) => {
            if let Some(p) = project {
                project::apply_check(&mut args.schemas, &mut args.functions, p);
            }
            coverage::run(args)
        }
        Command::Convert(args) => convert::run(args),
        Command::Repl(mut args) => {
            if let Some(p) = project {
                project::apply_data(&mut args.data, p);
            }
            repl::run(*args)
        }
        Command::Lsp => match kql_lsp::run_stdio() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: kql lsp: {e}");
                ExitCode::from(2)
            }
        },
    }
}
