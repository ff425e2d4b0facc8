//! Shared helpers: locating test data and reading JSON lines.

use serde_json::Value;
use std::path::PathBuf;

/// The `tests/data` folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Read a JSON-lines file of `tests/data` into values.
pub fn read_jsonl(rel: &str) -> Vec<serde_json::Value> {
    let path = data_dir().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("valid JSON line")).collect()
}

/// Load the corpus's ASIM and solution parser functions (`corpus/parsers.jsonl`, each in the
/// shape of a solution function YAML: JSON is YAML) into a session; returns how many loaded.
pub fn add_corpus_parsers(session: &mut kql_exec::session::Session) -> usize {
    let mut loaded = 0;
    for p in read_jsonl("corpus/parsers.jsonl") {
        let yaml = serde_json::json!({
            "FunctionName": p["name"],
            "FunctionAlias": p["builtin_alias"],
            "FunctionParams": p["params"],
            "FunctionQuery": p["query"],
        });
        let path = p["path"].as_str().unwrap_or("parser.yaml");
        if let Ok(Some(kql)) = rule_pack::parsers::function_from_yaml(std::path::Path::new(path), &yaml.to_string()) {
            if session.add_functions_text(&kql).is_ok() {
                loaded += 1;
            }
        }
    }
    loaded
}

/// A corpus entry (`corpus/sentinel.jsonl`: the JSON carries every YAML field) as a rule, with
/// its path; `Err` says why it is not one (`path: reason`).
pub fn corpus_rule(v: serde_json::Value) -> Result<rule_pack::rule::Rule, String> {
    let path = v["path"].as_str().unwrap_or("?").to_string();
    let mut rule: rule_pack::rule::Rule = serde_json::from_value(v).map_err(|e| format!("{path}: {e}"))?;
    rule.path = path.into();
    Ok(rule)
}

/// Value comparison with the conformance rules: reals within 1e-9 relative, datetimes and
/// timespans as values, dynamic structurally; `ty` is the .NET type name of the column.
pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

pub fn real_eq(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let d = (a - b).abs();
    d <= 1e-9 * a.abs().max(b.abs()) || d < 1e-12
}

pub fn dyn_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => real_eq(num(a).unwrap_or(0.0), num(b).unwrap_or(0.0)),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| dyn_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| dyn_eq(v, w)))
        }
        _ => a == b,
    }
}

pub fn cell_eq(expected: &Value, actual: &Value, ty: &str) -> bool {
    if expected.is_null() || actual.is_null() {
        return expected.is_null() && actual.is_null();
    }
    match ty {
        // Kusto's JSON writes decimals as strings ("5"); this engine carries them as reals
        "SqlDecimal" => {
            let dec = |v: &Value| num(v).or_else(|| v.as_str().and_then(|s| s.parse::<f64>().ok()));
            matches!((dec(expected), dec(actual)), (Some(a), Some(b)) if real_eq(a, b))
        }
        "Double" => match (num(expected), num(actual)) {
            (Some(a), Some(b)) => real_eq(a, b),
            _ => false,
        },
        "DateTime" => {
            let p = |v: &Value| v.as_str().and_then(kql_exec::value::datetime::parse_datetime);
            p(expected).is_some() && p(expected) == p(actual)
        }
        "TimeSpan" => {
            let p = |v: &Value| v.as_str().and_then(kql_exec::value::datetime::parse_timespan);
            p(expected).is_some() && p(expected) == p(actual)
        }
        "Object" => dyn_eq(expected, actual),
        _ => expected == actual || num(expected).zip(num(actual)).is_some_and(|(a, b)| a == b),
    }
}

pub fn row_eq(e: &[Value], a: &[Value], types: &[String]) -> bool {
    e.len() == a.len() && e.iter().zip(a).zip(types).all(|((x, y), t)| cell_eq(x, y, t))
}

/// Print a figure of a suite where the CI log shows it: written to the process's stderr
/// directly, which the test harness does not capture (it captures `print!` and `eprint!`).
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The `kql` binary of this build: `target/<profile>/kql`, beside this test binary
/// (`target/<profile>/deps/all-*`), in the same target folder and profile. When it is missing,
/// or older than a source file of the crates it is built from, it is built first (`cargo build
/// -p kql-cli`, once per test process); when it still is not there and current, the test fails
/// saying so. A test that needs the binary never passes without running it, nor runs a stale one.
pub fn kql_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| format!("the test binary's path: {e}"))?;
        let profile_dir = exe.parent().and_then(|d| d.parent()).ok_or("no profile folder")?.to_path_buf();
        let bin = profile_dir.join(if cfg!(windows) { "kql.exe" } else { "kql" });
        if let Err(why) = current(&bin) {
            let target = profile_dir.parent().ok_or("no target folder")?.to_path_buf();
            let profile = profile_dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug").to_string();
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut cmd = std::process::Command::new(cargo);
            cmd.args(["build", "--quiet", "-p", "kql-cli", "--bin", "kql"]);
            match profile.as_str() {
                "debug" => {}
                "release" => {
                    cmd.arg("--release");
                }
                p => {
                    cmd.args(["--profile", p]);
                }
            }
            cmd.env("CARGO_TARGET_DIR", &target).current_dir(workspace_root());
            let out = cmd.output().map_err(|e| format!("{why}; running cargo to build it: {e}"))?;
            if !out.status.success() {
                return Err(format!("{why}; cargo build -p kql-cli failed:\n{}", String::from_utf8_lossy(&out.stderr)));
            }
            current(&bin).map_err(|e| format!("{e}, after cargo build -p kql-cli"))?;
        }
        Ok(bin)
    })
    .clone()
    .unwrap_or_else(|e| {
        panic!("the kql binary is needed: {e} (build it with `cargo build -p kql-cli`, or run ./scripts/test)")
    })
}

/// `Ok` when `bin` exists and is newer than every source file of the crates it is built from.
fn current(bin: &std::path::Path) -> Result<(), String> {
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).map_err(|e| format!("{}: {e}", bin.display()))?;
    let root = workspace_root();
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    let mut stack: Vec<PathBuf> = ["cli", "kql-exec", "kql-parser", "rule-pack", "kql-lsp"]
        .iter()
        .flat_map(|c| [root.join(c).join("src"), root.join(c).join("data"), root.join(c).join("Cargo.toml")])
        .chain([root.join("Cargo.lock")])
        .collect();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else { continue };
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&p).into_iter().flatten().flatten().map(|e| e.path()));
        } else if let Ok(m) = meta.modified() {
            if newest.as_ref().is_none_or(|(t, _)| m > *t) {
                newest = Some((m, p));
            }
        }
    }
    match newest {
        Some((t, p)) if t > built => Err(format!("{} is older than {}", bin.display(), p.display())),
        _ => Ok(()),
    }
}

/// The result of a `kql` command: exit code (-1 when killed by a signal), stdout, stderr.
pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

/// Run the current `kql` binary with `args` in `dir` (the workspace root when `None`), with
/// extra environment `env`; killed, and the test failed, after `timeout` (a hang is a failure).
pub fn kql_run(
    args: &[&str],
    dir: Option<&std::path::Path>,
    env: &[(&str, &str)],
    timeout: std::time::Duration,
) -> Run {
    use std::io::Read;
    let bin = kql_bin();
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(args)
        .current_dir(dir.map(|d| d.to_path_buf()).unwrap_or_else(workspace_root))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .env_remove("KQL_GEOIP_DB")
        // what a user sees: a developer's RUST_BACKTRACE would add backtraces to caught panics
        .env_remove("RUST_BACKTRACE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = so.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = se.read_to_end(&mut s);
        s
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kql {args:?} did not finish within {timeout:?} (a hang)");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let out = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let err = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    Run { code: status.code().unwrap_or(-1), out, err }
}

/// A fresh, empty folder under the temporary folder, unique to this process and `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kql-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
