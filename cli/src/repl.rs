//! `kql repl`: an interactive shell over loaded tables.
//!
//! Enter runs the input unless a line ends with `|`, a bracket or string is open, or a `let`
//! statement just ended with `;` (an empty line always runs it). Tab completes tables, operators,
//! the columns in scope (the pipeline typed so far is bound to find them) and functions. Ctrl-C
//! at the prompt clears the line; during a query it cancels the query; Ctrl-D leaves.

mod helper;
mod worker;

use crate::data::{build_session_with, DataArgs, Loads};
use clap::Args;
use helper::{is_complete, KqlHelper, DOT_COMMANDS};
use kql_exec::output::{self, TableOptions};
use kql_exec::session::{Catalog, QueryResult, SessionOptions, TableEntry};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, EditMode, Editor};
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use worker::{exclusive_copy, fresh_session, Worker};

/// Arguments of `kql repl`.
#[derive(Args)]
pub struct ReplArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// The history file (default: $XDG_DATA_HOME/kql/history, or KQL_HISTORY).
    #[arg(long, value_name = "PATH")]
    history: Option<PathBuf>,
    /// Keep no history.
    #[arg(long = "no-history")]
    no_history: bool,
}

/// How results print.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fmt {
    Table,
    Csv,
    Json,
    Jsonl,
}

/// What the prompt thread knows: the master catalog (tables and functions), the options, and
/// the worker that owns the live session.
pub struct State {
    master: Catalog,
    options: SessionOptions,
    worker: Worker,
    format: Fmt,
    output: Option<PathBuf>,
    timing: bool,
    max_rows: usize,
    chart_dir: PathBuf,
    charts: usize,
    color: bool,
    builtin_functions: Vec<String>,
    /// Tables opening (shown by the spinner while a query waits for them).
    loads: Loads,
}

/// Set by the Ctrl-C handler while a query runs.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

impl State {
    /// Table names for completion: tables with data first (open or not), then those known by
    /// schema.
    fn table_names(&self) -> Vec<String> {
        self.master.table_names()
    }

    /// Function names for completion: stored ones first.
    fn function_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.master.function_names().cloned().collect();
        v.sort();
        v.extend(self.builtin_functions.iter().cloned());
        v
    }

    /// The columns of the pipeline `text` (bound, not run).
    fn columns_of(&self, text: &str, wait: Duration) -> Vec<String> {
        let Ok(script) = kql_parser::parse(text) else {
            return vec![];
        };
        drop(script);
        let text = text.to_string();
        let rx = self.worker.call(move |s| match kql_parser::parse(&text) {
            Ok(script) => s.check_script(&script).cols.into_iter().map(|c| c.name).collect(),
            Err(_) => vec![],
        });
        rx.recv_timeout(wait).unwrap_or_default()
    }

    /// Start over on a new session (after a cancelled query or a crash).
    fn respawn(&mut self) -> Result<(), String> {
        self.worker = Worker::spawn(fresh_session(&self.master, &self.options)?);
        Ok(())
    }
}

fn history_path(args: &ReplArgs) -> Option<PathBuf> {
    if args.no_history {
        return None;
    }
    if let Some(p) = &args.history {
        return Some(p.clone());
    }
    if let Some(p) = std::env::var_os("KQL_HISTORY").filter(|p| !p.is_empty()) {
        return Some(p.into());
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("share")));
    match data {
        Some(d) => Some(d.join("kql").join("history")),
        None => std::env::var_os("USERPROFILE").map(|h| PathBuf::from(h).join(".kql_history")),
    }
}

/// Run `kql repl`.
pub fn run(args: ReplArgs) -> ExitCode {
    let (session, loads) = match build_session_with(&args.data, None, false) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let master = exclusive_copy(&session.catalog);
    let options = session.options.clone();
    let interactive = std::io::stdin().is_terminal();
    let state = Rc::new(RefCell::new(State {
        master,
        options,
        worker: Worker::spawn(session),
        format: Fmt::Table,
        output: None,
        timing: true,
        max_rows: 100,
        chart_dir: std::env::temp_dir().join("kql-charts"),
        charts: 0,
        color: interactive && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        builtin_functions: {
            let mut v: Vec<String> = kql_exec::functions::catalog::names().map(|s| s.to_string()).collect();
            v.sort();
            v
        },
        loads,
    }));
    // queries wait under `wait_for`'s spinner, which shows the progress of tables opening
    state.borrow().loads.set_spinner(true);
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    if !interactive {
        return run_piped(&state);
    }
    {
        let st = state.borrow();
        let n = st.master.data_table_names().len();
        println!(
            "kql {} — {n} table(s) found, each read when a query first uses it. Type .help for commands; \
             Tab completes; Ctrl-D leaves.",
            env!("CARGO_PKG_VERSION")
        );
    }
    let config = Config::builder()
        .history_ignore_space(true)
        .history_ignore_dups(true)
        .unwrap_or_else(|_| Config::builder())
        .completion_type(CompletionType::List)
        .edit_mode(EditMode::Emacs)
        .max_history_size(5000)
        .unwrap_or_else(|_| Config::builder())
        .auto_add_history(false)
        .build();
    let mut rl: Editor<KqlHelper, FileHistory> = match Editor::with_config(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return ExitCode::from(2);
        }
    };
    rl.set_helper(Some(KqlHelper::new(state.clone())));
    let history = history_path(&args);
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.load_history(h);
    }
    loop {
        match rl.readline("kql> ") {
            Ok(input) => {
                if input.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(input.trim_end());
                if let Some(h) = &history {
                    let _ = rl.save_history(h);
                }
                if !handle_input(&state, &input) {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    ExitCode::SUCCESS
}

/// Standard input is not a terminal: read inputs the way Enter would split them.
fn run_piped(state: &Rc<RefCell<State>>) -> ExitCode {
    let mut buf = String::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if buf.is_empty() && line.trim().is_empty() {
            continue;
        }
        buf.push_str(&line);
        if is_complete(&buf) {
            if !handle_input(state, &buf) {
                return ExitCode::SUCCESS;
            }
            buf.clear();
        } else {
            buf.push('\n');
        }
    }
    if !buf.trim().is_empty() {
        handle_input(state, &buf);
    }
    ExitCode::SUCCESS
}

/// Handle one input; false to leave.
fn handle_input(state: &Rc<RefCell<State>>, input: &str) -> bool {
    let text = input.trim();
    if text.starts_with('.') {
        return dot_command(state, text);
    }
    let text = text.strip_suffix(';').unwrap_or(text).to_string();
    run_query(state, &text);
    true
}

/// Wait for a job, cancelling on Ctrl-C and showing a spinner after a second; `None` when
/// cancelled or when the worker died (the session is then replaced).
fn wait_for<R>(state: &Rc<RefCell<State>>, rx: Receiver<R>, what: &str) -> Option<R> {
    let started = Instant::now();
    let spinner = std::io::stderr().is_terminal();
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let mut shown = false;
    let clear = |shown: bool| {
        if shown {
            eprint!("\r\x1b[K");
        }
    };
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(r) => {
                clear(shown);
                return Some(r);
            }
            Err(RecvTimeoutError::Timeout) => {
                if INTERRUPTED.swap(false, Ordering::SeqCst) {
                    clear(shown);
                    // stop the running plan; if the worker does not come back promptly (stuck
                    // outside the engine), give up on it and start a fresh session
                    state.borrow().worker.cancel.cancel();
                    if rx.recv_timeout(Duration::from_secs(3)).is_err() {
                        if let Err(e) = state.borrow_mut().respawn() {
                            eprintln!("error: {e}");
                        }
                    }
                    eprintln!("^C {what} cancelled; the session and its tables are kept");
                    return None;
                }
                let el = started.elapsed();
                if spinner && el > Duration::from_secs(1) {
                    let frame = frames[(el.as_millis() / 100) as usize % frames.len()];
                    let detail = state.borrow().loads.detail();
                    eprint!("\r\x1b[K{frame} {what}… {:.1} s{detail} (Ctrl-C cancels)", el.as_secs_f64());
                    shown = true;
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                clear(shown);
                eprintln!("error: the {what} failed unexpectedly; starting a new session (tables are kept)");
                if let Err(e) = state.borrow_mut().respawn() {
                    eprintln!("error: {e}");
                }
                return None;
            }
        }
    }
}

fn run_query(state: &Rc<RefCell<State>>, text: &str) {
    INTERRUPTED.store(false, Ordering::SeqCst);
    let rx = {
        let st = state.borrow();
        let q = text.to_string();
        st.worker.call(move |s| {
            let t = Instant::now();
            let r = s.query(&q);
            (r, t.elapsed())
        })
    };
    let Some((result, elapsed)) = wait_for(state, rx, "query") else {
        return;
    };
    match result {
        Ok(r) => {
            for w in &r.warnings {
                eprint!("{}", w.render_with("warning", "input", text, 1));
            }
            show_result(state, &r, elapsed);
        }
        Err(e) => eprint!("{}", e.render("input", text)),
    }
}

fn show_result(state: &Rc<RefCell<State>>, r: &QueryResult, elapsed: Duration) {
    let mut st = state.borrow_mut();
    let to_file = st.output.is_some();
    let text = match st.format {
        Fmt::Table => output::to_table_with(
            r,
            &TableOptions {
                max_rows: if to_file { usize::MAX } else { st.max_rows },
                width: if to_file { None } else { crate::query::terminal_width().or(Some(100)) },
                elapsed: if st.timing { Some(elapsed) } else { None },
                ..Default::default()
            },
        ),
        Fmt::Csv => output::to_csv(r),
        Fmt::Json => output::to_json(r) + "\n",
        Fmt::Jsonl => output::to_jsonl(r),
    };
    match &st.output {
        Some(p) => {
            let res = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .and_then(|mut f| f.write_all(text.as_bytes()));
            match res {
                Ok(()) => eprintln!("{} row(s) written to {}", r.num_rows(), p.display()),
                Err(e) => eprintln!("error: {}: {e}", p.display()),
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
    if st.timing && st.format != Fmt::Table {
        eprintln!("{} row(s) in {}", r.num_rows(), output::format_elapsed(elapsed));
    }
    if r.render.is_some() {
        st.charts += 1;
        let base = st.chart_dir.join(format!("chart-{}-{}", std::process::id(), st.charts));
        match crate::chart::render_result(r, &base) {
            Ok(Some((svg, png))) => eprintln!("chart: {} {}", svg.display(), png.display()),
            Ok(None) => {}
            Err(e) => eprintln!("warning: no chart: {e}"),
        }
    }
}

fn help() -> String {
    let mut s = String::from(
        "Type a KQL query and press Enter. A line ending in `|`, or with a bracket or string still open,\n\
         continues on the next line; an empty line runs what was typed. Tab completes tables, operators,\n\
         columns and functions; Ctrl-C cancels a running query; Ctrl-D leaves.\n\nCommands:\n",
    );
    for (n, a, d) in DOT_COMMANDS {
        s.push_str(&format!("  {:<44} {d}\n", format!("{n} {a}")));
    }
    s
}

fn rows_of(e: &TableEntry) -> Option<usize> {
    e.batches.as_ref().map(|b| b.iter().map(|b| b.num_rows()).sum())
}

/// A dot-command; false to leave.
fn dot_command(state: &Rc<RefCell<State>>, text: &str) -> bool {
    let (cmd, rest) = match text.split_once(char::is_whitespace) {
        Some((c, r)) => (c, r.trim()),
        None => (text, ""),
    };
    match cmd {
        ".quit" | ".exit" | ".q" => return false,
        ".help" | ".h" => print!("{}", help()),
        ".tables" => {
            let st = state.borrow();
            let mut n = 0;
            for (name, e) in st.master.loaded_tables() {
                let rows = rows_of(&e).map(|r| r.to_string()).unwrap_or_else(|| "-".into());
                println!("  {name:<32} {rows:>10} rows  {:>4} columns", e.cols.len());
                n += 1;
            }
            for name in st.master.pending_tables() {
                let files = st.master.pending_files(&name).map(|f| f.len()).unwrap_or(0);
                println!("  {name:<32} {:>10}       not read yet ({files} file(s))", "-");
                n += 1;
            }
            if n == 0 {
                println!("  no tables loaded (use .load PATH)");
            }
        }
        ".schema" => {
            if rest.is_empty() {
                eprintln!("usage: .schema TABLE");
                return true;
            }
            let st = state.borrow();
            let pending = st.master.pending_tables().iter().any(|p| p == rest);
            if pending && st.master.schemas().table(rest).is_none() {
                println!("  (not read yet: its columns are known once a query uses it)");
                return true;
            }
            match st.master.table(rest) {
                Some(e) => {
                    let w = e.cols.iter().map(|c| c.name.chars().count()).max().unwrap_or(0);
                    for c in &e.cols {
                        println!("  {:<w$}  {}", c.name, c.ty.name());
                    }
                    match rows_of(&e) {
                        Some(r) => println!("  ({} columns, {r} rows)", e.cols.len()),
                        None if pending => println!("  ({} columns by its schema; not read yet)", e.cols.len()),
                        None => println!("  ({} columns; known by schema, not loaded)", e.cols.len()),
                    }
                }
                None => eprintln!("error: no table `{rest}`"),
            }
        }
        ".load" => load(state, rest),
        ".set" => set(state, rest),
        ".format" => {
            let f = match rest {
                "table" => Fmt::Table,
                "csv" => Fmt::Csv,
                "json" => Fmt::Json,
                "jsonl" => Fmt::Jsonl,
                "" => {
                    println!("{:?}", state.borrow().format);
                    return true;
                }
                _ => {
                    eprintln!("usage: .format table|csv|json|jsonl");
                    return true;
                }
            };
            state.borrow_mut().format = f;
        }
        ".output" => {
            let mut st = state.borrow_mut();
            if rest.is_empty() || rest == "stdout" {
                st.output = None;
                println!("results print here");
            } else {
                let p = PathBuf::from(rest);
                match std::fs::File::create(&p) {
                    Ok(_) => {
                        println!("results are written to {}", p.display());
                        st.output = Some(p);
                    }
                    Err(e) => eprintln!("error: {rest}: {e}"),
                }
            }
        }
        ".timing" => match rest {
            "on" => state.borrow_mut().timing = true,
            "off" => state.borrow_mut().timing = false,
            _ => eprintln!("usage: .timing on|off"),
        },
        ".rows" => match rest.parse::<usize>() {
            Ok(n) if n > 0 => state.borrow_mut().max_rows = n,
            _ => eprintln!("usage: .rows N"),
        },
        ".chart" => {
            let mut st = state.borrow_mut();
            if !rest.is_empty() {
                st.chart_dir = PathBuf::from(rest);
            }
            println!("charts are written to {}", st.chart_dir.display());
        }
        ".functions" => {
            let st = state.borrow();
            let mut stored: Vec<&String> = st.master.function_names().collect();
            stored.sort();
            if !stored.is_empty() {
                println!("stored functions:");
                for f in stored.iter().filter(|f| f.starts_with(rest)) {
                    let tab = st.master.function(f).is_some_and(|f| f.is_tabular);
                    println!("  {f}{}", if tab { "  (tabular)" } else { "" });
                }
            }
            let names: Vec<&String> = st.builtin_functions.iter().filter(|f| f.starts_with(rest)).collect();
            println!("built-in functions ({}):", names.len());
            let width = crate::query::terminal_width().unwrap_or(100) as usize;
            let cell = names.iter().map(|n| n.len()).max().unwrap_or(0) + 2;
            let per = (width.saturating_sub(2) / cell.max(1)).max(1);
            for chunk in names.chunks(per) {
                let line: String = chunk.iter().map(|n| format!("{n:<cell$}")).collect();
                println!("  {}", line.trim_end());
            }
        }
        _ => eprintln!("unknown command {cmd}: try .help"),
    }
    true
}

fn load(state: &Rc<RefCell<State>>, rest: &str) {
    let (path, name) = match rest.rsplit_once(" as ") {
        Some((p, n)) => (p.trim(), Some(n.trim().to_string())),
        None => (rest.trim(), None),
    };
    if path.is_empty() {
        eprintln!("usage: .load PATH [as NAME]");
        return;
    }
    let path = PathBuf::from(path);
    INTERRUPTED.store(false, Ordering::SeqCst);
    let rx = state.borrow().worker.call(move |s| -> Result<Vec<(String, TableEntry, String)>, String> {
        let mut specs = kql_exec::load::discover(&path, s.catalog.schemas()).map_err(|e| e.to_string())?;
        if let Some(n) = &name {
            let files: Vec<PathBuf> = specs.drain(..).flat_map(|(_, f)| f).collect();
            specs.push((n.clone(), files));
        }
        let mut out = Vec::new();
        for (tname, files) in specs {
            let schema = s.catalog.schemas().table(&tname).cloned();
            let opts = kql_exec::load::LoadOptions::default();
            let t = kql_exec::load::load_table(&tname, &files, schema.as_ref(), &opts).map_err(|e| e.to_string())?;
            let mut note = format!("{}: {} rows, {} columns", t.name, t.report.rows, t.cols.len());
            if t.report.skipped > 0 {
                note.push_str(&format!(" ({} unreadable record(s) skipped)", t.report.skipped));
            }
            s.add_batches(&t.name, t.cols, t.batches).map_err(|e| e.to_string())?;
            if let Some(entry) = s.catalog.table(&t.name) {
                out.push((t.name, entry, note));
            }
        }
        Ok(out)
    });
    match wait_for(state, rx, "load") {
        Some(Ok(tables)) => {
            let mut st = state.borrow_mut();
            for (n, entry, note) in tables {
                st.master.add_table(&n, entry);
                println!("loaded {note}");
            }
        }
        Some(Err(e)) => eprintln!("error: {e}"),
        None => {}
    }
}

fn set(state: &Rc<RefCell<State>>, rest: &str) {
    let (what, value) = match rest.split_once(char::is_whitespace) {
        Some((w, v)) => (w, v.trim()),
        None => (rest, ""),
    };
    let mut st = state.borrow_mut();
    match what {
        "now" => {
            let now = if value.is_empty() || value == "wall" || value == "off" {
                None
            } else {
                match kql_exec::value::datetime::parse_datetime(value) {
                    Some(t) => Some(t),
                    None => {
                        eprintln!("error: `{value}` is not a datetime (use ISO 8601, e.g. 2025-10-21T15:00:00Z)");
                        return;
                    }
                }
            };
            st.options.now = now;
            let _ = st.worker.call(move |s| s.options.now = now);
            match now {
                Some(t) => println!("now() is {}", kql_exec::value::datetime::format_datetime_iso(t)),
                None => println!("now() is the wall clock"),
            }
        }
        "timeout" => {
            let t = if value.is_empty() || value == "off" {
                None
            } else {
                match value.trim_end_matches('s').parse::<f64>().map(crate::data::parse_timeout) {
                    Ok(Ok(t)) => Some(t),
                    _ => {
                        eprintln!("error: `{value}` is not a number of seconds");
                        return;
                    }
                }
            };
            st.options.timeout = t;
            let _ = st.worker.call(move |s| s.options.timeout = t);
        }
        _ => eprintln!("usage: .set now ISO|wall, or .set timeout SECONDS|off"),
    }
}
