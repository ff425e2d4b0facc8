//! `kql repl` driven through a pseudo-terminal (util-linux `script` makes the terminal): load
//! the example data, complete a column after `| where `, run a multi-line query, show an error
//! with a caret, cancel a long query with Ctrl-C and run another one.
//!
//! Uses the `kql` binary of this build (built first if it is not, see
//! [`crate::common::kql_bin`]); fails, saying what to install, when `script` is missing.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::workspace_root;

/// A program on a pseudo-terminal: what it prints is collected; terminal queries for the cursor
/// position are answered as a terminal would.
struct Pty {
    child: Child,
    input: Arc<Mutex<ChildStdin>>,
    out: Arc<Mutex<Vec<u8>>>,
    seen: usize,
}

/// Terminal output without escape sequences and carriage returns.
fn plain(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\x1b' => {
                if it.peek() == Some(&'[') {
                    it.next();
                    for d in it.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                } else {
                    it.next();
                }
            }
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}

impl Pty {
    fn spawn(command: &str) -> Pty {
        let mut child = Command::new("script")
            .args(["-qfec", command, "/dev/null"])
            .env("TERM", "xterm-256color")
            .env("COLUMNS", "120")
            .env_remove("NO_COLOR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn script");
        let input = Arc::new(Mutex::new(child.stdin.take().expect("stdin")));
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().expect("stdout");
        let (o, i) = (out.clone(), input.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let chunk = &buf[..n];
                        // the line editor asks where the cursor is: answer "column 1"
                        if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                            let _ = i.lock().unwrap().write_all(b"\x1b[1;1R");
                        }
                        o.lock().unwrap().extend_from_slice(chunk);
                    }
                }
            }
        });
        Pty { child, input, out, seen: 0 }
    }

    fn send(&self, s: &str) {
        let mut i = self.input.lock().unwrap();
        i.write_all(s.as_bytes()).expect("write to the terminal");
        i.flush().unwrap();
    }

    /// Wait for `needle` in the output after what earlier expects consumed; returns the text
    /// up to and including it.
    fn expect(&mut self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let text = plain(&self.out.lock().unwrap());
            if let Some(p) = text[self.seen.min(text.len())..].find(needle) {
                let end = self.seen + p + needle.len();
                let got = text[self.seen..end].to_string();
                self.seen = end;
                return got;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {needle:?}; the terminal shows:\n{}", &text[self.seen.min(text.len())..]);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Wait for the prompt to settle before typing.
    fn prompt(&mut self) {
        self.expect("kql> ", Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(150));
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn repl_in_a_terminal() {
    let kql = crate::common::kql_bin();
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "repl_in_a_terminal needs `script` (util-linux) to give the repl a terminal: install util-linux"
    );
    let data = workspace_root().join("examples/data");
    let cmd = format!("{} repl --no-history --data {} --now 2025-10-21T15:00:00Z", kql.display(), data.display());
    let mut t = Pty::spawn(&cmd);
    t.expect("table(s) found", Duration::from_secs(60));
    t.prompt();
    // tables are read when a query first uses them
    t.send(".tables\r");
    // (the listing is sorted, `resources` last)
    let tables = t.expect("resources", Duration::from_secs(10));
    let line = tables.lines().find(|l| l.contains("ContainerLogV2")).unwrap_or_default().to_string();
    assert!(line.contains("not read yet"), "{tables}");
    t.prompt();

    // completion of a column after `| where `
    t.send("ContainerLogV2 | where LogL\t");
    t.expect("LogLevel", Duration::from_secs(10));
    // a multi-line query: the line ends with `|`, so Enter continues
    t.send(" == 'WARNING' |\r");
    std::thread::sleep(Duration::from_millis(200));
    t.send("summarize n = count() by LogSource\r");
    let shown = t.expect("rows in", Duration::from_secs(30));
    assert!(shown.contains("LogSource") && shown.contains("string") && shown.contains("stdout"), "{shown}");
    t.prompt();

    // an error with a caret under the source
    t.send("print strlen(1,,)\r");
    let err = t.expect("^", Duration::from_secs(10));
    assert!(err.contains("error[") && err.contains("print strlen(1,,)"), "{err}");
    t.prompt();

    // a long query, cancelled with Ctrl-C; the session stays
    t.send("range x from 1 to 30000 step 1 | extend k = 1 | join kind=inner (range y from 1 to 30000 step 1 | extend k = 1) on k | count\r");
    std::thread::sleep(Duration::from_millis(1500));
    t.send("\x03");
    t.expect("cancelled", Duration::from_secs(10));
    t.prompt();
    t.send("ContainerLogV2 | where LogLevel == 'WARNING' | count | extend answer = 40 + 2\r");
    let again = t.expect("1 row in", Duration::from_secs(30));
    assert!(again.contains("42"), "{again}");
    t.prompt();
    // the table read by the first query stays loaded; the others are still not read
    t.send(".tables\r");
    let tables = t.expect("resources", Duration::from_secs(10));
    let line = tables.lines().find(|l| l.contains("ContainerLogV2")).unwrap_or_default().to_string();
    assert!(line.contains(" rows ") && !line.contains("not read yet"), "{tables}");
    assert!(tables.contains("not read yet"), "{tables}");
    t.prompt();

    // Ctrl-D leaves
    t.send("\x04");
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = t.child.try_wait() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the repl did not leave on Ctrl-D");
        std::thread::sleep(Duration::from_millis(50));
    }
}
