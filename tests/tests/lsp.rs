//! `kql lsp` driven over JSON-RPC through the `kql` binary, as an editor drives it: diagnostics
//! (the same as `kql check` gives for the file), completion after `| where `, hover, signature
//! help, definition, references and rename of `let`s across documents, positions inside the
//! `query:` block of rule YAML, `kql.toml`, and requests that must not bring the server down.
//! Also the latency of diagnostics after an edit of a 200-line rule.

use crate::common;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long any one answer may take before the test fails (a hang is a failure).
const WAIT: Duration = Duration::from_secs(60);

/// A `kql lsp` process and the messages it sent that nobody has read yet.
pub struct Lsp {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    /// Notifications received while waiting for something else.
    pub notes: Vec<Value>,
    next_id: i64,
}

impl Lsp {
    /// Start `kql lsp` in `dir` and initialize it.
    pub fn start(dir: &Path) -> Lsp {
        let mut child = Command::new(common::kql_bin())
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env_remove("RUST_BACKTRACE")
            .spawn()
            .expect("kql lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                match serde_json::from_slice::<Value>(&body) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                    Err(e) => panic!("the server wrote a message that is not JSON: {e}"),
                }
            }
        });
        let mut lsp = Lsp { child, stdin, rx, notes: Vec::new(), next_id: 0 };
        let root = url(dir);
        let r = lsp.request("initialize", json!({"processId": null, "rootUri": root, "capabilities": {}}));
        assert!(r["result"]["capabilities"]["completionProvider"].is_object(), "{r}");
        lsp.notify("initialized", json!({}));
        lsp
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn recv(&mut self) -> Value {
        match self.rx.recv_timeout(WAIT) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("kql lsp sent nothing within {WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("kql lsp closed its output (it died)"),
        }
    }

    /// Send a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Send a request and wait for its response (the whole message: `result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let v = self.recv();
            if v["id"] == json!(id) && v.get("method").is_none() {
                return v;
            }
            self.notes.push(v);
        }
    }

    /// The next diagnostics published for `uri` (of at least `version`, when given).
    pub fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Vec<Value> {
        let fits = |v: &Value| {
            v["method"] == "textDocument/publishDiagnostics"
                && v["params"]["uri"] == uri
                && version.is_none_or(|n| v["params"]["version"].as_i64().is_some_and(|x| x >= n))
        };
        if let Some(i) = self.notes.iter().position(fits) {
            let v = self.notes.remove(i);
            return v["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
        }
        loop {
            let v = self.recv();
            if fits(&v) {
                return v["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
            self.notes.push(v);
        }
    }

    /// Open a document.
    pub fn open(&mut self, uri: &str, language: &str, text: &str) {
        let doc = json!({"uri": uri, "languageId": language, "version": 1, "text": text});
        self.notify("textDocument/didOpen", json!({ "textDocument": doc }));
    }

    /// Shut the server down and wait for it to exit.
    pub fn stop(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", Value::Null);
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                assert!(s.success(), "kql lsp exited with {s}");
                return;
            }
            if start.elapsed() > WAIT {
                let _ = self.child.kill();
                panic!("kql lsp did not exit after `exit`");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Lsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `file:` URI of a path.
pub fn url(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn pos(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": pos(line, character)})
}

fn labels(r: &Value) -> Vec<String> {
    let items = r["result"]["items"].as_array().or_else(|| r["result"].as_array()).cloned().unwrap_or_default();
    items.iter().filter_map(|i| i["label"].as_str().map(str::to_string)).collect()
}

const RULE: &str = "let threshold = 3;\n\
let window = 1h;\n\
SigninLogs\n\
| where TimeGenerated > ago(window)\n\
| extend Country = tostring(LocationDetails.countryOrRegion)\n\
| summarize Failures = countif(ResultType != \"0\") by UserPrincipalName, Country\n\
| where Failures >= threshold and Contry != \"\"\n";

#[test]
fn lsp_diagnostics_completion_hover_navigation() {
    let dir = common::temp_dir("lsp-kql");
    let file = dir.join("rule.kql");
    std::fs::write(&file, RULE).unwrap();
    let uri = url(&file);
    let mut lsp = Lsp::start(&dir);
    lsp.open(&uri, "kql", RULE);

    // the misspelt column, where `kql check` puts it, with its "did you mean"
    let diags = lsp.diagnostics(&uri, None);
    let check = common::kql_run(&["check", "--format", "json", "rule.kql"], Some(&dir), &[], WAIT);
    let report: Value = serde_json::from_str(check.out.lines().next().unwrap()).unwrap();
    let expected: Vec<(String, u64, u64)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["line"].as_u64().unwrap(), d["col"].as_u64().unwrap()))
        .collect();
    let got: Vec<(String, u64, u64)> = diags
        .iter()
        .map(|d| {
            let s = &d["range"]["start"];
            (
                d["code"].as_str().unwrap().to_string(),
                s["line"].as_u64().unwrap() + 1,
                s["character"].as_u64().unwrap() + 1,
            )
        })
        .collect();
    assert!(!expected.is_empty(), "{}", check.out);
    assert_eq!(got, expected, "the server's diagnostics are those of kql check");
    let contry = diags.iter().find(|d| d["message"].as_str().unwrap().contains("Contry")).expect("Contry is reported");
    assert_eq!(contry["range"]["start"], pos(6, 34));

    // the quick fix writes the suggestion
    let r = lsp.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": contry["range"], "context": {"diagnostics": [contry]}}),
    );
    let action = &r["result"][0];
    assert_eq!(action["title"], "Replace with `Country`", "{r}");
    assert_eq!(action["edit"]["changes"][&uri][0]["newText"], "Country");
    assert_eq!(action["edit"]["changes"][&uri][0]["range"], contry["range"]);

    // completion after `| where `: the columns the `summarize` made, then the let names
    let edited = format!("{RULE}| where ");
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let r = lsp.request("textDocument/completion", at(&uri, 7, 8));
    let l = labels(&r);
    for want in ["Failures", "UserPrincipalName", "Country", "threshold", "window", "strcat"] {
        assert!(l.contains(&want.to_string()), "completion after `| where ` lacks {want}: {l:?}");
    }
    assert!(!l.contains(&"ResultType".to_string()), "a column the summarize dropped is offered");
    let mut first: Vec<&str> = l[..3].iter().map(String::as_str).collect();
    first.sort();
    assert_eq!(first, ["Country", "Failures", "UserPrincipalName"], "the columns come first");
    // after `|`: operators; at the start: tables
    let r = lsp.request("textDocument/completion", at(&uri, 7, 1));
    assert!(labels(&r).contains(&"summarize".to_string()), "{r}");
    let r = lsp.request("textDocument/completion", at(&uri, 2, 3));
    assert!(labels(&r).contains(&"SigninLogs".to_string()), "{r}");
    // `kind=` values of join
    let joined = format!("{RULE}| join kind=");
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": joined}]}),
    );
    let r = lsp.request("textDocument/completion", at(&uri, 7, 12));
    assert!(labels(&r).contains(&"leftouter".to_string()), "{r}");
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": RULE}]}),
    );

    // hover: a function's signature and summary; a column's type and origin; a let
    let r = lsp.request("textDocument/hover", at(&uri, 3, 25));
    let h = r["result"]["contents"]["value"].as_str().unwrap_or_default();
    assert!(h.contains("ago(timespan: timespan): datetime") && h.contains("returns datetime"), "{r}");
    let r = lsp.request("textDocument/hover", at(&uri, 6, 10));
    let h = r["result"]["contents"]["value"].as_str().unwrap_or_default();
    assert!(h.contains("`Failures`: **long**") && h.contains("made by `summarize`"), "{r}");
    let r = lsp.request("textDocument/hover", at(&uri, 6, 24));
    let h = r["result"]["contents"]["value"].as_str().unwrap_or_default();
    assert!(h.contains("(let) `threshold`") && h.contains("let threshold = 3"), "{r}");

    // signature help inside a call
    let r = lsp.request("textDocument/signatureHelp", at(&uri, 4, 28));
    assert_eq!(r["result"]["signatures"][0]["label"], "tostring(value: scalar): string", "{r}");

    // definition, references and rename of a let
    let r = lsp.request("textDocument/definition", at(&uri, 6, 24));
    assert_eq!(r["result"]["range"]["start"], pos(0, 4), "{r}");
    let mut refs = at(&uri, 0, 5);
    refs["context"] = json!({"includeDeclaration": true});
    let r = lsp.request("textDocument/references", refs);
    let starts: Vec<&Value> = r["result"].as_array().unwrap().iter().map(|l| &l["range"]["start"]).collect();
    assert_eq!(starts, [&pos(0, 4), &pos(6, 20)], "{r}");
    let mut rename = at(&uri, 6, 26);
    rename["newName"] = json!("minimum");
    let r = lsp.request("textDocument/rename", rename);
    let edits = r["result"]["changes"][&uri].as_array().cloned().unwrap_or_default();
    assert_eq!(edits.len(), 2, "{r}");
    assert!(edits.iter().all(|e| e["newText"] == "minimum"));
    // a column cannot be renamed; a bad name is refused
    let mut rename = at(&uri, 6, 10);
    rename["newName"] = json!("x");
    assert!(lsp.request("textDocument/rename", rename)["error"]["message"].as_str().unwrap().contains("no `let`"));
    let mut rename = at(&uri, 0, 5);
    rename["newName"] = json!("1x");
    assert!(lsp.request("textDocument/rename", rename)["error"].is_object());

    // document symbols and semantic tokens
    let r = lsp.request("textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}));
    let names: Vec<&str> = r["result"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(&names[..2], ["threshold", "window"], "{r}");
    let r = lsp.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": uri}}));
    let data = r["result"]["data"].as_array().unwrap();
    assert!(data.len().is_multiple_of(5) && data.len() > 50, "{r}");
    // the first token: `let`, a keyword (index 0) at 0:0 of length 3
    assert_eq!(&data[..5], &[json!(0), json!(0), json!(3), json!(0), json!(0)]);
    lsp.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lsp_stored_functions_across_documents() {
    let dir = common::temp_dir("lsp-functions");
    std::fs::create_dir_all(dir.join("functions")).unwrap();
    let fdef = "let FailedSignins = (days:int) {\n    SigninLogs | where TimeGenerated > ago(days * 1d) and ResultType != \"0\"\n};\n";
    std::fs::write(dir.join("functions/failed.kql"), fdef).unwrap();
    std::fs::write(dir.join("kql.toml"), "functions = [\"functions\"]\n").unwrap();
    let rule = "FailedSignins(7)\n| summarize count() by UserPrincipalName\n";
    std::fs::write(dir.join("rule.kql"), rule).unwrap();
    let (furi, ruri) = (url(&dir.join("functions/failed.kql")), url(&dir.join("rule.kql")));
    let mut lsp = Lsp::start(&dir);
    lsp.open(&ruri, "kql", rule);
    // the project's stored function is known: no error
    assert_eq!(lsp.diagnostics(&ruri, None), Vec::<Value>::new());
    // its definition, in its file, before the file is opened
    let r = lsp.request("textDocument/definition", at(&ruri, 0, 3));
    assert_eq!(r["result"]["uri"], json!(furi), "{r}");
    assert_eq!(r["result"]["range"]["start"]["line"], 0, "{r}");
    // with both open, a rename from the call renames the definition too
    lsp.open(&furi, "kql", fdef);
    let mut rename = at(&ruri, 0, 3);
    rename["newName"] = json!("FailedSignIns");
    let r = lsp.request("textDocument/rename", rename);
    let changes = &r["result"]["changes"];
    assert_eq!(changes[&ruri].as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(changes[&furi][0]["range"]["start"], pos(0, 4), "{r}");
    // the parameter: references inside the function only
    let mut refs = at(&furi, 0, 24);
    refs["context"] = json!({"includeDeclaration": true});
    let r = lsp.request("textDocument/references", refs);
    assert_eq!(r["result"].as_array().map(Vec::len), Some(2), "{r}");
    lsp.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// With `data` in kql.toml, completion after `Column.` offers the keys the dynamic column has in
/// the data; references and rename of a stored function reach the project's files that are not
/// open.
#[test]
fn lsp_keys_from_data_and_references_in_unopened_files() {
    let dir = common::temp_dir("lsp-keys");
    for d in ["logs", "functions", "rules"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let mut lines = String::new();
    for i in 0..50 {
        lines.push_str(&format!(
            "{{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"UserPrincipalName\":\"u{i}\",\"LocationDetails\":{{\"city\":\"Oslo\",\"countryOrRegion\":\"NO\",\"geoCoordinates\":{{\"latitude\":59.9}}}}}}\n"
        ));
    }
    std::fs::write(dir.join("logs/SigninLogs.jsonl"), lines).unwrap();
    std::fs::write(dir.join("kql.toml"), "data = [\"logs\"]\nfunctions = [\"functions\"]\n").unwrap();
    std::fs::write(
        dir.join("functions/recent.kql"),
        "let RecentSignins = () { SigninLogs | where isnotempty(UserPrincipalName) };\n",
    )
    .unwrap();
    std::fs::write(dir.join("rules/a.kql"), "RecentSignins()\n| count\n").unwrap();
    std::fs::write(
        dir.join("rules/b.yaml"),
        "id: 3f2b7a1e-0000-4000-8000-000000000002\nname: B\nquery: |\n  RecentSignins()\n  | take 1\n",
    )
    .unwrap();
    let text = "RecentSignins()\n| where LocationDetails.\n";
    let file = dir.join("rules/c.kql");
    std::fs::write(&file, text).unwrap();
    let uri = url(&file);
    let mut lsp = Lsp::start(&dir);
    lsp.open(&uri, "kql", text);
    // the keys of LocationDetails in the data, then of a member of it
    let r = lsp.request("textDocument/completion", at(&uri, 1, 24));
    assert_eq!(labels(&r), ["city", "countryOrRegion", "geoCoordinates"], "{r}");
    let edit = json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "RecentSignins()\n| where LocationDetails.geoCoordinates.\n"}]});
    lsp.notify("textDocument/didChange", edit);
    let r = lsp.request("textDocument/completion", at(&uri, 1, 39));
    assert_eq!(labels(&r), ["latitude"], "{r}");
    // references of the stored function: its definition and the calls in files not open
    let edit = json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": "RecentSignins()\n| where LocationDetails.city == 'Oslo'\n"}]});
    lsp.notify("textDocument/didChange", edit);
    let mut refs = at(&uri, 0, 3);
    refs["context"] = json!({"includeDeclaration": true});
    let r = lsp.request("textDocument/references", refs);
    let mut files: Vec<String> = r["result"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|l| l["uri"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    files.sort();
    assert_eq!(files, ["a.kql", "b.yaml", "c.kql", "recent.kql"], "{r}");
    // go to definition lands on the definition, not on another call
    let r = lsp.request("textDocument/definition", at(&uri, 0, 3));
    assert!(r["result"]["uri"].as_str().unwrap().ends_with("functions/recent.kql"), "{r}");
    // rename edits every file, the YAML at its line in the file
    let mut rename = at(&uri, 0, 3);
    rename["newName"] = json!("RecentSignIns");
    let r = lsp.request("textDocument/rename", rename);
    let changes = r["result"]["changes"].as_object().unwrap();
    assert_eq!(changes.len(), 4, "{r}");
    assert_eq!(changes[&url(&dir.join("rules/b.yaml"))][0]["range"]["start"], pos(3, 2), "{r}");
    lsp.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

const YAML: &str = "id: 3f2b7a1e-0000-4000-8000-000000000001\n\
name: Failures\n\
severity: Low\n\
query: |\n\
\x20 let limit = 5;\n\
\x20 SigninLogs\n\
\x20 | summarize n = count() by UserPrincipalName\n\
\x20 | where n > limit and UserPrincipalNam != \"\"\n\
queryFrequency: 1h\n";

#[test]
fn lsp_positions_in_rule_yaml() {
    let dir = common::temp_dir("lsp-yaml");
    let file = dir.join("rule.yaml");
    std::fs::write(&file, YAML).unwrap();
    let uri = url(&file);
    let mut lsp = Lsp::start(&dir);
    lsp.open(&uri, "yaml", YAML);
    // the error at its place in the YAML file, as `kql check` reports it
    let diags: Vec<Value> = lsp.diagnostics(&uri, None).into_iter().filter(|d| d["severity"] == 1).collect();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["range"]["start"], pos(7, 24));
    let check = common::kql_run(&["check", "--format", "json", "rule.yaml"], Some(&dir), &[], WAIT);
    let report: Value = serde_json::from_str(check.out.lines().next().unwrap()).unwrap();
    assert_eq!(
        (report["diagnostics"][0]["line"].as_u64(), report["diagnostics"][0]["col"].as_u64()),
        (Some(8), Some(25))
    );
    // completion in the block: the columns of the summarize
    let r = lsp.request("textDocument/completion", at(&uri, 7, 26));
    assert!(labels(&r).contains(&"UserPrincipalName".to_string()), "{r}");
    // outside the query: nothing
    let r = lsp.request("textDocument/completion", at(&uri, 1, 3));
    assert!(labels(&r).is_empty(), "{r}");
    // hover and rename in the block
    let r = lsp.request("textDocument/hover", at(&uri, 6, 18));
    assert!(r["result"]["contents"]["value"].as_str().unwrap_or("").contains("count()"), "{r}");
    let mut rename = at(&uri, 7, 15);
    rename["newName"] = json!("maxFailures");
    let r = lsp.request("textDocument/rename", rename);
    let starts: Vec<&Value> =
        r["result"]["changes"][&uri].as_array().unwrap().iter().map(|e| &e["range"]["start"]).collect();
    assert_eq!(starts, [&pos(4, 6), &pos(7, 14)], "{r}");
    // a YAML error is a diagnostic at its line
    let broken = YAML.replace("severity: Low", "severity: [Low");
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": broken}]}),
    );
    let diags = lsp.diagnostics(&uri, Some(2));
    assert!(diags[0]["message"].as_str().unwrap().contains("invalid YAML"), "{diags:?}");
    lsp.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lsp_survives_bad_requests() {
    let dir = common::temp_dir("lsp-bad");
    let uri = url(&dir.join("q.kql"));
    let mut lsp = Lsp::start(&dir);
    lsp.open(&uri, "kql", "T | where \"é😀\" == x | ");
    let _ = lsp.diagnostics(&uri, None);
    // positions past the end, inside surrogate pairs, on unknown documents; bad parameters;
    // unknown methods: each answered, the server alive
    for (method, params) in [
        ("textDocument/completion", at(&uri, 99, 99)),
        ("textDocument/completion", at(&uri, 0, 12)),
        ("textDocument/hover", at(&uri, 0, u32::MAX)),
        ("textDocument/hover", at("file:///nowhere.kql", 0, 0)),
        ("textDocument/definition", at(&uri, 0, 13)),
        ("textDocument/rename", json!({"textDocument": {"uri": uri}, "position": pos(0, 0), "newName": "y"})),
        ("textDocument/signatureHelp", json!({"textDocument": 5})),
        ("textDocument/codeAction", json!({})),
        ("workspace/unknownThing", json!({})),
    ] {
        let r = lsp.request(method, params);
        assert!(r.get("result").is_some() || r.get("error").is_some(), "{method}: {r}");
    }
    // malformed text and changes with ranges past the end
    for (v, text) in [(2, "\"unterminated"), (3, "```"), (4, "let = ;;; | | (((")] {
        lsp.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"text": text}]}),
        );
    }
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 5}, "contentChanges": [
            {"range": {"start": pos(40, 2), "end": pos(0, 1)}, "text": "x"}
        ]}),
    );
    let _ = lsp.diagnostics(&uri, Some(5));
    let r = lsp.request("textDocument/completion", at(&uri, 0, 3));
    assert!(r.get("result").is_some(), "{r}");
    lsp.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

// the rule `kql-lsp/examples/latency.rs` measures
include!("../../kql-lsp/examples/shared/long_rule.rs");

#[test]
fn lsp_diagnostics_latency_on_a_200_line_rule() {
    let dir = common::temp_dir("lsp-latency");
    let file = dir.join("long.kql");
    let text = rule_of_200_lines();
    assert_eq!(text.lines().count(), 200);
    std::fs::write(&file, &text).unwrap();
    let uri = url(&file);
    let mut lsp = Lsp::start(&dir);
    lsp.open(&uri, "kql", &text);
    assert_eq!(lsp.diagnostics(&uri, None), Vec::<Value>::new(), "the long rule checks clean");
    // edits on line 150: a typo (an error appears) and back (it goes), timed from the change
    // sent to the diagnostics received
    let mut times = Vec::new();
    for v in 2..22 {
        let (from, to) = if v % 2 == 0 { ("ResultType", "ResultTyp") } else { ("ResultTyp", "ResultType") };
        let line = text.lines().nth(150).unwrap();
        let col = line.find("ResultType").unwrap() as u32;
        let end = col + from.len() as u32;
        let t0 = Instant::now();
        lsp.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v}, "contentChanges": [
                {"range": {"start": pos(150, col), "end": pos(150, end)}, "text": to}
            ]}),
        );
        let diags = lsp.diagnostics(&uri, Some(v));
        times.push(t0.elapsed());
        assert_eq!(diags.len(), usize::from(v % 2 == 0), "version {v}: {diags:?}");
    }
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    common::report(&format!(
        "lsp: diagnostics of a 200-line rule after an edit: median {:.1} ms, worst {:.1} ms ({} build, {} edits)",
        median.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        if cfg!(debug_assertions) { "debug" } else { "release" },
        times.len()
    ));
    // the goal is 50 ms, met in a release build (about 37 ms, docs/performance.md); on a shared
    // machine a timed test only catches a large regression
    let budget = if cfg!(debug_assertions) { Duration::from_millis(2500) } else { Duration::from_millis(1000) };
    assert!(median < budget, "median {median:?} over the budget {budget:?}");
    lsp.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The VS Code extension's files agree with each other and with the server: the manifest's
/// entry point, grammar and language configuration exist and parse, the client starts
/// `kql lsp`; the GitHub Action runs `kql check --format sarif`, uploads it, and runs `kql test`.
#[test]
fn editor_extension_and_action_files() {
    let root = common::workspace_root();
    let ext = root.join("editors/vscode");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let manifest: Value = serde_json::from_str(&read(&ext.join("package.json"))).unwrap();
    let main = manifest["main"].as_str().unwrap();
    let client = read(&ext.join(main));
    assert!(client.contains("args: ['lsp']") && client.contains("vscode-languageclient/node"), "{client}");
    assert!(manifest["dependencies"]["vscode-languageclient"].is_string());
    let lang = &manifest["contributes"]["languages"][0];
    assert_eq!(lang["id"], "kql");
    assert!(lang["extensions"].as_array().unwrap().contains(&json!(".kql")));
    let _: Value = serde_json::from_str(&read(&ext.join(lang["configuration"].as_str().unwrap()))).unwrap();
    let grammar = &manifest["contributes"]["grammars"][0];
    let g: Value = serde_json::from_str(&read(&ext.join(grammar["path"].as_str().unwrap()))).unwrap();
    assert_eq!(g["scopeName"], grammar["scopeName"]);
    // every `#name` the grammar includes is in its repository
    let text = g.to_string();
    for inc in text.split("\"include\":\"#").skip(1) {
        let name = &inc[..inc.find('"').unwrap()];
        assert!(g["repository"][name].is_object(), "the grammar includes #{name}, which it lacks");
    }
    let action: serde_yaml::Value = serde_yaml::from_str(&read(&root.join("action.yml"))).unwrap();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let steps = serde_yaml::to_string(&action["runs"]["steps"]).unwrap();
    for want in ["kql check --format sarif", "github/codeql-action/upload-sarif", "kql test", "cargo install"] {
        assert!(steps.contains(want), "action.yml lacks `{want}`");
    }
}
