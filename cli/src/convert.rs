//! `kql convert`: any input `--data` reads (JSON lines, export trees, CSV, Parquet) written as
//! typed Parquet, for fast repeated queries. KQL types are kept in the field metadata, so
//! `--data OUT` reads the tables back exactly.

use clap::Args;
use kql_exec::load::{self, LoadOptions};
use kql_exec::schema::SchemaCatalog;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `kql convert`.
#[derive(Args)]
pub struct ConvertArgs {
    /// Input files or folders: one table per file or subfolder, export containers by their table.
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// A table from a file or folder under an explicit name (repeatable).
    #[arg(long = "table", value_name = "NAME=PATH")]
    tables: Vec<String>,
    /// Where to write: a `.parquet` file (for one table) or a folder (one `<Table>.parquet` per table).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: PathBuf,
    /// Extra table schemas: a JSON file or folder (repeatable).
    #[arg(long = "schema", value_name = "PATH")]
    schemas: Vec<PathBuf>,
    /// Make unreadable input records an error instead of skipping them.
    #[arg(long)]
    strict: bool,
    /// Do not print load reports.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Run `kql convert`.
pub fn run(a: ConvertArgs) -> ExitCode {
    match convert(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn convert(a: &ConvertArgs) -> Result<(), String> {
    let mut schemas = SchemaCatalog::builtin().clone();
    for s in &a.schemas {
        schemas.merge(SchemaCatalog::load_path(s).map_err(|e| format!("--schema: {e}"))?);
    }
    let mut specs: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for p in &a.inputs {
        for (name, files) in load::discover(p, &schemas).map_err(|e| e.to_string())? {
            match specs.iter_mut().find(|(n, _)| *n == name) {
                Some((_, fs)) => fs.extend(files),
                None => specs.push((name, files)),
            }
        }
    }
    for t in &a.tables {
        let (name, path) = t.split_once('=').ok_or_else(|| format!("--table `{t}`: expected NAME=PATH"))?;
        let files = load::discover(Path::new(path), &schemas).map_err(|e| e.to_string())?;
        specs.push((name.to_string(), files.into_iter().flat_map(|(_, f)| f).collect()));
    }
    if specs.is_empty() {
        return Err("no input: give files or folders to convert".into());
    }
    let single = a.output.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if single && specs.len() > 1 {
        let names: Vec<&str> = specs.iter().map(|(n, _)| n.as_str()).collect();
        return Err(format!(
            "{}: the input holds {} tables ({}); give a folder to write one Parquet file per table",
            a.output.display(),
            names.len(),
            names.join(", ")
        ));
    }
    if !single {
        std::fs::create_dir_all(&a.output).map_err(|e| format!("{}: {e}", a.output.display()))?;
    }
    let opts = LoadOptions { strict: a.strict, ..Default::default() };
    for (name, files) in specs {
        let start = Instant::now();
        let schema = schemas.table(&name).cloned();
        let t = load::load_table(&name, &files, schema.as_ref(), &opts).map_err(|e| e.to_string())?;
        if !a.quiet && t.report.has_problems() {
            eprintln!("warning: {}: {}", t.name, t.report);
        }
        let out = if single { a.output.clone() } else { a.output.join(format!("{}.parquet", file_name(&t.name))) };
        let rows = load::parquet::write_table(&out, &t.cols, &t.batches).map_err(|e| e.to_string())?;
        if !a.quiet {
            eprintln!(
                "{}: {rows} row(s), {} column(s) -> {} ({:.1}s)",
                t.name,
                t.cols.len(),
                out.display(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// A table name as a file name (custom table names may hold spaces or parentheses).
fn file_name(table: &str) -> String {
    table
        .chars()
        .map(|c| if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect()
}
