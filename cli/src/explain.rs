//! `kql explain CODE`: a lint's page (what, why, an example, the fix), or the list of lints.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `kql explain`.
#[derive(Args)]
pub struct ExplainArgs {
    /// The code (`KQLW007`) or name (`contains-where-has-works`) of a lint.
    #[arg(required_unless_present = "list")]
    code: Option<String>,
    /// List every lint with its code, cost weight and summary.
    #[arg(long)]
    list: bool,
}

/// Run `kql explain`: exit 0 with the page, 2 for a code without one.
pub fn run(args: ExplainArgs) -> ExitCode {
    if args.list {
        let width = kql_lint::LINTS.iter().map(|l| l.name.len()).max().unwrap_or(0);
        println!("{:<8} {:<width$} {:>4}  what", "code", "name", "cost");
        for l in kql_lint::LINTS {
            println!("{:<8} {:<width$} {:>4}  {}", l.code, l.name, l.cost, l.summary);
        }
        return ExitCode::SUCCESS;
    }
    let code = args.code.unwrap_or_default();
    match kql_lint::find(&code) {
        Some(l) => {
            print!("{}", l.page());
            ExitCode::SUCCESS
        }
        None => {
            let what = if code.to_ascii_uppercase().starts_with("KQLR") {
                "it is a check of a rule's YAML fields: docs/rule-checks.md describes each"
            } else if code.to_ascii_uppercase().starts_with("KQL") {
                "it is an error code: its message says what is wrong and its help how to fix it"
            } else {
                "it is not a code kql reports"
            };
            eprintln!("error: no lint `{code}`: {what} (`kql explain --list` lists the lints)");
            ExitCode::from(2)
        }
    }
}
