//! `kql query`: run one query and print its result.

use crate::data::{build_session_with, DataArgs};
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Result formats.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// A table (on a terminal) .
    Table,
    /// CSV with a header.
    Csv,
    /// Kusto's JSON: {"tables":[{"name","columns","rows"}]}.
    Json,
    /// One JSON object per row.
    Jsonl,
}

/// Arguments of `kql query`.
#[derive(Args)]
pub struct QueryArgs {
    /// The query text (or use -f, or stdin).
    query: Option<String>,
    /// Read the query from a file.
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Output format (default: table on a terminal, csv when piped).
    #[arg(long)]
    format: Option<Format>,
    /// Write the result to a file.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Where to write the chart of a query ending in `render`: PATH.svg and PATH.png
    /// (default: kql-charts/<query file name> in the temporary folder).
    #[arg(long = "chart-out", value_name = "PATH")]
    chart_out: Option<PathBuf>,
    /// Load every table into memory before the query runs (by default, JSON-lines tables of a
    /// known schema are read while it runs: only the columns it uses, in bounded memory).
    #[arg(long = "in-memory")]
    in_memory: bool,
}

/// Run `kql query`.
pub fn run(args: QueryArgs) -> ExitCode {
    let (text, path) = match (&args.query, &args.file) {
        (Some(q), None) => (q.clone(), "<query>".to_string()),
        (None, Some(f)) => match std::fs::read_to_string(f) {
            Ok(t) => (t, f.display().to_string()),
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                return ExitCode::from(2);
            }
        },
        (None, None) => {
            let mut s = String::new();
            if std::io::stdin().is_terminal() || std::io::stdin().read_to_string(&mut s).is_err() {
                eprintln!("error: no query: pass it as an argument, with -f FILE, or on stdin");
                return ExitCode::from(2);
            }
            (s, "<stdin>".to_string())
        }
        (Some(_), Some(_)) => {
            eprintln!("error: give the query as an argument or with -f, not both");
            return ExitCode::from(2);
        }
    };
    let bounds_of = |s: &kql_exec::Session| s.time_bounds(&text).unwrap_or_default();
    let (session, loads) = match build_session_with(&args.data, Some(&bounds_of), !args.in_memory) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    // the tables the query uses open while it binds, under the spinner
    let spinner = (!args.data.quiet && std::io::stderr().is_terminal()).then(|| {
        loads.set_spinner(true);
        let shown = loads.clone();
        crate::progress::Spinner::start_with("running", Some(Box::new(move || shown.detail())))
    });
    let result = session.query(&text);
    drop(spinner);
    loads.print_streamed_reports(args.data.quiet);
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            eprint!("{}", e.render(&path, &text));
            return ExitCode::from(1);
        }
    };
    let elapsed = started.elapsed();
    for w in &result.warnings {
        eprint!("{}", w.render_with("warning", &path, &text, 1));
    }
    if result.render.is_some() {
        let base = args.chart_out.clone().unwrap_or_else(|| {
            let name = args.file.as_ref().and_then(|f| f.file_stem()).and_then(|s| s.to_str()).unwrap_or("chart");
            crate::chart::default_base(name)
        });
        match crate::chart::render_result(&result, &base) {
            Ok(Some((svg, png))) => eprintln!("chart: {} {}", svg.display(), png.display()),
            Ok(None) => {}
            Err(e) => eprintln!("warning: no chart: {e}"),
        }
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal { Format::Table } else { Format::Csv });
    let out = match format {
        Format::Table => {
            let options = kql_exec::output::TableOptions {
                max_rows: if to_terminal { 200 } else { usize::MAX },
                width: if to_terminal { terminal_width() } else { None },
                elapsed: if to_terminal { Some(elapsed) } else { None },
                ..Default::default()
            };
            kql_exec::output::to_table_with(&result, &options)
        }
        Format::Csv => kql_exec::output::to_csv(&result),
        Format::Json => kql_exec::output::to_json(&result) + "\n",
        Format::Jsonl => kql_exec::output::to_jsonl(&result),
    };
    match &args.output {
        Some(p) => {
            if let Err(e) = std::fs::write(p, out) {
                eprintln!("error: {}: {e}", p.display());
                return ExitCode::from(2);
            }
        }
        None => {
            let _ = std::io::stdout().lock().write_all(out.as_bytes());
        }
    }
    ExitCode::SUCCESS
}

/// The terminal's width: `COLUMNS`, else the size of the terminal on stdout.
pub fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&w: &u16| w > 0)
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| w.0).filter(|&w| w > 0))
}
