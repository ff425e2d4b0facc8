//! Bad input files and rules (issue 22, item 6), through the real `kql` command: each file is
//! made in a temporary folder here, queried with `kql query` both streamed (the default for
//! JSON-lines tables of a known schema) and loaded into memory (`--in-memory`), and each must
//! end with neither a crash nor a hang; every record or value skipped is counted and reported
//! with its `file:line`; a file that cannot be used at all is a clear error naming it.
//! `docs/bad-input.md` lists the cases and what `kql` does with each.

use crate::common::{kql_run, temp_dir, Run};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(300);

/// A `Perf` record (a table of known schema: `CounterValue` is real, `SampleCount` int).
fn perf(i: usize) -> String {
    format!(
        "{{\"TimeGenerated\":\"2025-10-21T10:{:02}:00Z\",\"Computer\":\"host{i}\",\"CounterName\":\"cpu\",\"CounterValue\":{i}.5,\"SampleCount\":{i}}}\n",
        i % 60
    )
}

fn perf_lines(n: usize) -> String {
    (0..n).map(perf).collect()
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `kql query --format csv` over `data` args, streamed and in memory.
fn query_both(data: &[String], q: &str) -> Vec<(&'static str, Run)> {
    ["streamed", "in-memory"]
        .into_iter()
        .map(|mode| {
            let mut args: Vec<&str> = vec!["query", "--format", "csv"];
            args.extend(data.iter().map(|s| s.as_str()));
            if mode == "in-memory" {
                args.push("--in-memory");
            }
            args.push(q);
            (mode, kql_run(&args, None, &[], TIMEOUT))
        })
        .collect()
}

/// The single value of a one-cell CSV result.
fn cell(r: &Run) -> String {
    r.out.lines().nth(1).unwrap_or_default().trim().to_string()
}

/// The query ran (exit 0), and no panic or internal error shows.
fn ok(mode: &str, r: &Run) {
    assert_eq!(r.code, 0, "[{mode}] exit code {}\nstdout:\n{}\nstderr:\n{}", r.code, r.out, r.err);
    no_crash(mode, r);
}

fn no_crash(mode: &str, r: &Run) {
    for bad in ["panicked", "overflowed its stack", "KQL998", "KQL999", "RUST_BACKTRACE"] {
        assert!(!r.err.contains(bad), "[{mode}] {bad}:\n{}", r.err);
    }
    assert!(r.code >= 0, "[{mode}] killed by a signal:\n{}", r.err);
}

fn data(p: &Path) -> Vec<String> {
    vec!["--data".into(), path_str(p)]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A gzip file cut in the middle: the rows before the cut are kept, and the cut is reported
/// with the file and the line it fell in.
#[test]
fn truncated_gzip() {
    let dir = temp_dir("bad-gzip");
    let z = gzip(perf_lines(20000).as_bytes());
    let f = dir.join("Perf.jsonl.gz");
    std::fs::write(&f, &z[..z.len() / 2]).unwrap();
    for (mode, r) in query_both(&data(&dir), "Perf | count") {
        ok(mode, &r);
        let n: usize = cell(&r).parse().unwrap_or_else(|_| panic!("[{mode}] {}", r.out));
        assert!(n > 0 && n < 20000, "[{mode}] {n} rows");
        let at = format!("{}:{}: ", f.display(), n + 1);
        assert!(
            r.err.contains(&at) && r.err.contains("truncated"),
            "[{mode}] expected `{at}`... truncated:\n{}",
            r.err
        );
        assert!(r.err.contains("skipped 1 record"), "[{mode}] {}", r.err);
    }
    // CSV too
    let mut csv = String::from("Computer,CounterValue\n");
    for i in 0..20000 {
        csv.push_str(&format!("host{i},{i}\n"));
    }
    let z = gzip(csv.as_bytes());
    let f = dir.join("Cut.csv.gz");
    std::fs::write(&f, &z[..z.len() / 2]).unwrap();
    let r = kql_run(
        &["query", "--format", "csv", "--table", &format!("Cut={}", f.display()), "Cut | count"],
        None,
        &[],
        TIMEOUT,
    );
    ok("csv", &r);
    let n: usize = cell(&r).parse().unwrap();
    assert!(n > 0 && n < 20000, "{n}");
    assert!(r.err.contains(&format!("{}:", f.display())) && r.err.contains("truncated"), "{}", r.err);
}

/// Invalid UTF-8 and NUL bytes in JSON lines: a line with invalid UTF-8, or a raw NUL (not
/// allowed in JSON text), is skipped and reported at its line; an escaped NUL (`\u0000`) is a
/// character of the string, loaded.
#[test]
fn invalid_utf8_and_nul_in_json_lines() {
    let dir = temp_dir("bad-utf8-json");
    let f = dir.join("Perf.jsonl");
    let mut bytes = perf_lines(3).into_bytes();
    bytes.extend_from_slice(
        b"{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"Computer\":\"bad\xff\xfe\",\"CounterValue\":1}\n",
    );
    bytes.extend_from_slice(perf(3).as_bytes());
    bytes.extend_from_slice(
        b"{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"Computer\":\"nul\x00here\",\"CounterValue\":1}\n",
    );
    bytes.extend_from_slice(
        b"{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"Computer\":\"esc\\u0000aped\",\"CounterValue\":1}\n",
    );
    bytes.extend_from_slice(b"\x00\x00\x00\n");
    std::fs::write(&f, bytes).unwrap();
    let q = "Perf | summarize n = count(), nul = countif(Computer == strcat('esc', make_string(0), 'aped'))";
    for (mode, r) in query_both(&data(&dir), q) {
        ok(mode, &r);
        assert_eq!(cell(&r), "5,1", "[{mode}] {}\n{}", r.out, r.err);
        for line in [4, 6, 8] {
            assert!(
                r.err.contains(&format!("{}:{line}: ", f.display())),
                "[{mode}] line {line} not reported:\n{}",
                r.err
            );
        }
        assert!(r.err.contains("skipped 3 record(s)"), "[{mode}] {}", r.err);
        assert!(r.err.contains("UTF-8"), "[{mode}] {}", r.err);
    }
}

/// Invalid UTF-8 and NUL bytes in CSV: a record with invalid UTF-8 is skipped and reported at
/// its line; a NUL byte is a character of the field (CSV has no rule against it), loaded.
#[test]
fn invalid_utf8_and_nul_in_csv() {
    let dir = temp_dir("bad-utf8-csv");
    let f = dir.join("Hosts.csv");
    let mut bytes = b"Computer,CounterValue\nh1,1\n".to_vec();
    bytes.extend_from_slice(b"bad\xff\xfe,2\n");
    bytes.extend_from_slice(b"nul\x00here,3\n");
    bytes.extend_from_slice(b"h4,4\n");
    std::fs::write(&f, bytes).unwrap();
    let q = "Hosts | summarize n = count(), nul = countif(Computer == strcat('nul', make_string(0), 'here'))";
    for (mode, r) in query_both(&data(&dir), q) {
        ok(mode, &r);
        assert_eq!(cell(&r), "3,1", "[{mode}] {}\n{}", r.out, r.err);
        assert!(r.err.contains(&format!("{}:3: ", f.display())) && r.err.contains("UTF-8"), "[{mode}] {}", r.err);
        assert!(r.err.contains("skipped 1 record(s)"), "[{mode}] {}", r.err);
    }
}

/// A byte-order mark at the start of a JSON-lines, JSON or CSV file is not part of the data:
/// the first record loads.
#[test]
fn byte_order_mark() {
    let dir = temp_dir("bad-bom");
    let bom = "\u{feff}";
    std::fs::write(dir.join("Perf.jsonl"), format!("{bom}{}", perf_lines(3))).unwrap();
    std::fs::write(dir.join("Doc.json"), format!("{bom}[{{\"a\":1}},{{\"a\":2}}]")).unwrap();
    std::fs::write(dir.join("Hosts.csv"), format!("{bom}Computer,N\nh1,1\nh2,2\n")).unwrap();
    for (mode, r) in query_both(&data(&dir), "print p = toscalar(Perf | count), d = toscalar(Doc | summarize sum(a)), h = toscalar(Hosts | where Computer == 'h1' | count)") {
        ok(mode, &r);
        assert_eq!(cell(&r), "3,3,1", "[{mode}] {}\n{}", r.out, r.err);
        assert!(!r.err.contains("warning"), "[{mode}] {}", r.err);
    }
}

/// A line of 100 MB (past the 64 MiB line limit) is skipped while it is read, without holding
/// it, and reported with its size and line; the lines around it load.
#[test]
fn hundred_megabyte_line() {
    let dir = temp_dir("bad-long-line");
    let f = dir.join("Perf.jsonl");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&f).unwrap());
        w.write_all(perf_lines(2).as_bytes()).unwrap();
        w.write_all(b"{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"Computer\":\"").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            w.write_all(&chunk).unwrap();
        }
        w.write_all(b"\"}\n").unwrap();
        w.write_all(perf(2).as_bytes()).unwrap();
    }
    let csv = dir.join("Wide.csv");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
        w.write_all(b"A,B\n1,x\n2,").unwrap();
        let chunk = vec![b'y'; 1 << 20];
        for _ in 0..100 {
            w.write_all(&chunk).unwrap();
        }
        w.write_all(b"\n3,z\n").unwrap();
    }
    for (mode, r) in query_both(&data(&dir), "print p = toscalar(Perf | count), w = toscalar(Wide | summarize sum(A))")
    {
        ok(mode, &r);
        assert_eq!(cell(&r), "3,4", "[{mode}] {}\n{}", r.out, r.err);
        assert!(
            r.err.contains(&format!("{}:3: ", f.display())) && r.err.contains("longer than the limit"),
            "[{mode}] {}",
            r.err
        );
        assert!(r.err.contains(&format!("{}:3: ", csv.display())), "[{mode}] {}", r.err);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// JSON nested 100,000 deep, never a deep recursion (the parsers stop at a depth limit: 128
/// for serde_json, 200 for the line scanner):
///
/// - in a dynamic column (`SigninLogs.DeviceDetail`): JSON too deep to read is, as `parse_json`
///   makes any text it cannot read, a dynamic string holding the text (loaded, not dropped);
/// - in a string column (`UserPrincipalName`): a string column holds any JSON value as its text,
///   so the text is loaded (200,000 characters);
/// - in a field that is not a column: not loaded, reported as such;
/// - in a table of no schema, or a JSON document: the record (the document) is skipped and
///   reported at its line.
#[test]
fn json_nested_100000_deep() {
    let dir = temp_dir("bad-deep");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let f = dir.join("SigninLogs.jsonl");
    let rec = |field: &str, v: &str| {
        format!("{{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"UserPrincipalName\":\"u\",{field}:{v}}}\n")
    };
    let mut text = rec("\"DeviceDetail\"", "{\"os\":\"Linux\"}");
    text.push_str(&rec("\"DeviceDetail\"", &deep)); // line 2
    text.push_str(&format!("{{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"UserPrincipalName\":{deep_obj}}}\n")); // line 3
    text.push_str(&rec("\"Extra\"", &deep)); // line 4
    text.push_str(&rec("\"DeviceDetail\"", "{\"os\":\"Windows\"}"));
    std::fs::write(&f, text).unwrap();
    let g = dir.join("Deep.jsonl");
    std::fs::write(&g, format!("{{\"a\":1}}\n{{\"a\":{deep}}}\n{{\"a\":2}}\n")).unwrap();
    let doc = dir.join("Doc.json");
    std::fs::write(&doc, format!("[{{\"a\":1}},{{\"a\":{deep}}}]")).unwrap();
    let q = "print s = toscalar(SigninLogs | summarize strcat(count(), '/', countif(isnull(DeviceDetail)), '/', countif(gettype(DeviceDetail) == 'string' and strlen(tostring(DeviceDetail)) == 200000), '/', max(strlen(UserPrincipalName)))), \
             d = toscalar(Deep | count), doc = toscalar(Doc | count)";
    for (mode, r) in query_both(&data(&dir), q) {
        ok(mode, &r);
        // 5 rows; DeviceDetail absent on lines 3 and 4, the text of line 2's; the deep text
        assert_eq!(cell(&r), format!("5/2/1/{},2,0", deep_obj.len()), "[{mode}] {}\n{}", r.out, r.err);
        assert!(r.err.contains(&format!("{}:4: field `Extra`", f.display())), "[{mode}] {}", r.err);
        assert!(
            r.err.contains(&format!("{}:2: ", g.display())) && r.err.contains("recursion limit"),
            "[{mode}] {}",
            r.err
        );
        assert!(r.err.contains(&format!("{}:1: ", doc.display())), "[{mode}] {}", r.err);
    }
}

/// Numbers past the range of long and of real: a value that does not fit its column's type is
/// loaded as null and counted, with its `file:line`; the rest of the record loads. In a real
/// column, an integer past long is a real; `1e400` does not fit a real.
#[test]
fn numbers_past_long_and_real() {
    let dir = temp_dir("bad-numbers");
    let f = dir.join("Perf.jsonl");
    let rec = |v: &str, s: &str| {
        format!("{{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"Computer\":\"n\",\"CounterValue\":{v},\"SampleCount\":{s}}}\n")
    };
    let mut text = perf_lines(1);
    text.push_str(&rec("99999999999999999999999", "1")); // line 2: a real past long
    text.push_str(&rec("1e400", "1")); // line 3: past real
    text.push_str(&rec("-1e400", "1")); // line 4: past real
    text.push_str(&rec("1", "9223372036854775808")); // line 5: past long in an int column
    text.push_str(&rec("1", "99999999999999999999999999")); // line 6
    std::fs::write(&f, text).unwrap();
    let q = "Perf | summarize n = count(), big = countif(CounterValue > todouble('1e22')), nullv = countif(isnull(CounterValue)), nulls = countif(isnull(SampleCount))";
    for (mode, r) in query_both(&data(&dir), q) {
        ok(mode, &r);
        assert_eq!(cell(&r), "6,1,2,2", "[{mode}] {}\n{}", r.out, r.err);
        for line in [3, 4, 5, 6] {
            assert!(r.err.contains(&format!("{}:{line}: ", f.display())), "[{mode}] line {line}:\n{}", r.err);
        }
        assert!(r.err.contains("4 value(s)"), "[{mode}] {}", r.err);
    }
    // in a table of no schema: the column's type comes from the values
    let g = dir.join("Nums.jsonl");
    std::fs::write(&g, "{\"a\":1,\"b\":1.5}\n{\"a\":99999999999999999999999,\"b\":1e400}\n{\"a\":3,\"b\":2.5}\n")
        .unwrap();
    let r = kql_run(
        &[
            "query",
            "--format",
            "csv",
            "--table",
            &format!("Nums={}", g.display()),
            "Nums | summarize n = count(), a = countif(isnull(a)), b = countif(isnull(b))",
        ],
        None,
        &[],
        TIMEOUT,
    );
    ok("no schema", &r);
    let c = cell(&r);
    assert!(c.starts_with("3,"), "{}\n{}", r.out, r.err);
    assert!(r.err.contains(&format!("{}:2: ", g.display())), "{}", r.err);
}

/// A record with the same key twice: the last value is used (as JSON parsers and Kusto do),
/// and the duplicate is reported with its `file:line` (the first value is not loaded).
#[test]
fn duplicate_keys() {
    let dir = temp_dir("bad-dup");
    let f = dir.join("Perf.jsonl");
    let mut text = perf_lines(2);
    text.push_str("{\"TimeGenerated\":\"2025-10-21T10:00:00Z\",\"Computer\":\"first\",\"Computer\":\"second\",\"CounterValue\":1}\n");
    std::fs::write(&f, text).unwrap();
    for (mode, r) in query_both(&data(&dir), "Perf | summarize n = count(), s = countif(Computer == 'second')") {
        ok(mode, &r);
        assert_eq!(cell(&r), "3,1", "[{mode}] {}\n{}", r.out, r.err);
        assert!(r.err.contains(&format!("{}:3: ", f.display())) && r.err.contains("Computer"), "[{mode}] {}", r.err);
        assert!(r.err.contains("duplicate"), "[{mode}] {}", r.err);
    }
}

/// A file cut in the middle of a record (a copy still being written): the partial last line
/// is skipped and reported; the complete lines load.
#[test]
fn truncated_mid_record() {
    let dir = temp_dir("bad-midrecord");
    let f = dir.join("Perf.jsonl");
    let text = perf_lines(5);
    std::fs::write(&f, &text[..text.len() - 20]).unwrap();
    let csv = dir.join("Hosts.csv");
    std::fs::write(&csv, "Computer,Note\nh1,\"ok\"\nh2,\"an open quote that never clo").unwrap();
    for (mode, r) in query_both(&data(&dir), "print p = toscalar(Perf | count), h = toscalar(Hosts | count)") {
        ok(mode, &r);
        let c = cell(&r);
        assert!(c.starts_with("4,"), "[{mode}] {}\n{}", r.out, r.err);
        assert!(r.err.contains(&format!("{}:5: ", f.display())), "[{mode}] {}", r.err);
        // the CSV record with an open quote runs to the end of the file: it is loaded as it is
        // (the csv reader's rule), or reported
        assert!(c == "4,2" || r.err.contains(&format!("{}:3: ", csv.display())), "[{mode}] {c}\n{}", r.err);
    }
}

/// A file that shrinks after the table's layout was planned (truncated while it is read: the
/// scan finds fewer bytes than the file had): what is there is read, nothing crashes, and the
/// shortfall is reported.
#[test]
fn file_truncated_while_read() {
    use kql_exec::load;
    let dir = temp_dir("bad-shrink");
    let f = dir.join("Perf.jsonl");
    let text = perf_lines(50_000);
    std::fs::write(&f, &text).unwrap();
    let catalog = kql_exec::session::Catalog::with_builtin_schemas();
    let schema = catalog.schemas().table("Perf").cloned();
    let opts = load::LoadOptions::default();
    let files = vec![f.clone()];
    let layout = load::lines::plan("Perf", &files, schema.as_ref(), &opts).expect("a JSON-lines layout");
    // now the file loses its second half, mid-line
    let cut = text.len() / 2 + 7;
    std::fs::OpenOptions::new().write(true).open(&f).unwrap().set_len(cut as u64).unwrap();
    let (batches, report) = load::lines::load_all(&layout, &opts, 4).expect("a load of what is there");
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let whole_lines = text[..cut].matches('\n').count();
    assert_eq!(rows, whole_lines, "{report}");
    assert!(report.skipped >= 1, "the cut line and the missing bytes are reported: {report}");
    let shown = report.to_string();
    assert!(shown.contains(&format!("{}:", f.display())), "{shown}");
    // the streamed scan, planned before the cut too
    std::fs::write(&f, &text).unwrap();
    let layout = load::lines::plan("Perf", &files, schema.as_ref(), &opts).unwrap();
    std::fs::OpenOptions::new().write(true).open(&f).unwrap().set_len(cut as u64).unwrap();
    let table = load::scan::StreamedTable::new(layout, opts.clone(), 4);
    let (entry, report) = kql_exec::session::streamed_entry(table);
    let mut session =
        kql_exec::Session::new(kql_exec::session::Catalog::with_builtin_schemas(), Default::default()).unwrap();
    session.catalog.add_table("Perf", entry);
    let r = session.query("Perf | count").unwrap_or_else(|e| panic!("{}", e.message));
    let n = kql_exec::output::to_csv(&r);
    assert_eq!(n.lines().nth(1).unwrap(), whole_lines.to_string(), "{n}");
    let report = report.lock().unwrap();
    assert!(report.skipped >= 1, "{report}");
}

/// A folder with a file that cannot be read: the query that needs its table fails with a
/// clear error that names the file, says why, and says what to do; the other tables of the
/// folder are unaffected. The unreadable file is made twice: a dangling link (unreadable for
/// anyone), and a file without read permission (`chmod 000`; as root, permissions do not stop
/// reading, and that part says so on stderr and checks the file loads instead).
#[test]
fn unreadable_file_in_a_folder() {
    let dir = temp_dir("bad-unreadable");
    std::fs::write(dir.join("Perf.jsonl"), perf_lines(3)).unwrap();
    std::fs::write(dir.join("Hosts.csv"), "Computer\nh1\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("gone.jsonl"), dir.join("Dangling.jsonl")).unwrap();
    let denied = dir.join("Denied.jsonl");
    std::fs::write(&denied, "{\"a\":1}\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&denied, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let as_root = std::fs::File::open(&denied).is_ok();
    for (mode, r) in query_both(&data(&dir), "print p = toscalar(Perf | count), h = toscalar(Hosts | count)") {
        ok(mode, &r);
        assert_eq!(cell(&r), "3,1", "[{mode}] {}\n{}", r.out, r.err);
    }
    for (mode, r) in query_both(&data(&dir), "Dangling | count") {
        no_crash(mode, &r);
        assert_ne!(r.code, 0, "[{mode}] {}", r.out);
        let f = dir.join("Dangling.jsonl");
        assert!(r.err.contains(&f.display().to_string()), "[{mode}] {}", r.err);
        assert!(r.err.contains("cannot read"), "[{mode}] {}", r.err);
        assert!(r.err.contains("No such file"), "[{mode}] {}", r.err);
    }
    for (mode, r) in query_both(&data(&dir), "Denied | count") {
        no_crash(mode, &r);
        if as_root {
            crate::common::report("bad_input: running as root: chmod 000 does not stop reading; the unreadable-file error is checked with a dangling link only");
            assert_eq!(r.code, 0, "[{mode}] {}", r.err);
            assert_eq!(cell(&r), "1");
        } else {
            assert_ne!(r.code, 0, "[{mode}] {}", r.out);
            assert!(
                r.err.contains(&denied.display().to_string()) && r.err.contains("ermission denied"),
                "[{mode}] {}",
                r.err
            );
            assert!(r.err.contains("cannot read"), "[{mode}] {}", r.err);
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&denied, std::fs::Permissions::from_mode(0o644));
    }
}

/// A YAML rule whose anchors expand to gigabytes (billion laughs): refused with an error that
/// names the file, quickly and in little memory.
#[test]
fn yaml_billion_laughs() {
    let dir = temp_dir("bad-yaml");
    let mut y = String::from("name: laughs\nquery: print 1\na0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        y.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(",")));
    }
    let f = dir.join("laughs.yaml");
    std::fs::write(&f, &y).unwrap();
    let start = std::time::Instant::now();
    let r = kql_run(&["check", &path_str(&f)], None, &[], Duration::from_secs(60));
    no_crash("check", &r);
    assert_ne!(r.code, 0, "{}\n{}", r.out, r.err);
    let all = format!("{}{}", r.out, r.err);
    assert!(all.contains(&f.display().to_string()) && all.contains("repetition limit"), "{all}");
    assert!(start.elapsed() < Duration::from_secs(30));
    let r = kql_run(&["run", &path_str(&f)], None, &[], Duration::from_secs(60));
    no_crash("run", &r);
    assert_ne!(r.code, 0, "{}\n{}", r.out, r.err);
}
