//! Every diagnostic code the engine emits, rendered: one `insta` snapshot per code
//! (`tests/tests/snapshots/`), made from a query (or a `kql` command) that triggers it. The
//! list of codes is read from the sources of `kql-parser` and `kql-exec`, so a new code without
//! a case here fails [`every_code_has_a_case`].
//!
//! CI runs with `INSTA_UPDATE=no` (`scripts/test`): a rendering that changed fails; run
//! `INSTA_UPDATE=always cargo test -p kql-tests --test all diagnostic_snapshots` and review
//! the diff to accept a change.

use kql_exec::session::{Catalog, Session, SessionOptions};
use std::collections::BTreeSet;

/// How a code is triggered.
enum Case {
    /// A query, checked (`kql check`) and, if checking does not report the code, run.
    Query(&'static str),
    /// Stored functions (a `.kql` file of `let`s, shown as `parsers.kql`) and a query calling
    /// them: the diagnostic points into both.
    WithFunctions(&'static str, &'static str),
    /// Data files (name, bytes) loaded strictly as table `T`; `max_line` caps line length.
    Load(&'static [(&'static str, &'static [u8])], Option<usize>),
    /// A data file (name, bytes) loaded strictly as the built-in table of that name, typed by
    /// its schema.
    LoadTyped(&'static str, &'static [u8]),
    /// A data path that does not exist.
    MissingData,
    /// A watchlist file that does not exist, loaded as `VIPs`.
    MissingWatchlist,
    /// A query whose `externaldata` URL `https://example.com/data.bin` is mapped to a local
    /// file of a few CSV lines.
    WithExternalData(&'static str),
    /// A query run in a session with these options (a memory limit in bytes, a timeout in ms).
    Limited(&'static str, Option<usize>, Option<u64>),
}

/// The case of each code.
const CASES: &[(&str, Case)] = &[
    ("KS001", Case::Query("SigninLogs\n| where UserPrincipalName == 'alice")),
    ("KS005", Case::Query("l let timeframe = 1h;\nSigninLogs")),
    ("KS006", Case::Query("SigninLogs\n| where")),
    ("KS176", Case::Query("SigninLogs\n| wher ResultType == 0")),
    ("KS101", Case::Query("print s = 'a=1'\n| parse s with k: string v: string")),
    ("KS106", Case::Query("print s = 'a'\n| extend n = -s")),
    ("KS107", Case::Query("print x = iff('yes', 1, 2)")),
    ("KS109", Case::Query("find in (SigninLogs) where true project ResultType + 1")),
    ("KS116", Case::Query("datatable(t: datetime, x: long, d: dynamic) [datetime(2020-01-01), 1, dynamic(1)]\n| evaluate sequence_detect(t, 1h, 1h, a = (x == 1), b = (x == 2), d)")),
    ("KS119", Case::Query("let m = materialize();\nm")),
    ("KS125", Case::Query("print a = 1\n| project b = a, b = a + 1")),
    ("KS127", Case::Query("print x = bin('a', 'b')")),
    ("KS134", Case::Query("print x = substring('abc', 'one')")),
    ("KS137", Case::Query("print x = sqrt('four')")),
    ("KS141", Case::Query("print d = dynamic([1, 2])\n| extend x = d[true]")),
    ("KS142", Case::Query("SigninLogs\n| summarize requests = count() by UserPrincipalName\n| where count_ > 10")),
    ("KS145", Case::Query("SigninLogs\n| join kind=inner AuditLogs on NoSuchColumn")),
    ("KS147", Case::Query("print s = 1\n| extend x = s.field")),
    ("KS171", Case::Query("SigninLogs\n| project-rename UserPrincipalName = AppDisplayName")),
    ("KS195", Case::Query("let f = (a: long, b: long) { a + b };\nprint x = f(b = 1, 2)")),
    ("KS204", Case::Query("NoSuchTable_CL\n| take 10")),
    ("KS211", Case::Query("_GetWatchlist('HighValueUsers')\n| take 10")),
    ("KS206", Case::Query("print d = dynamic(1)\n| summarize max(d)")),
    ("KS227", Case::Query("let a = datatable(k: long) [1];\nlet b = datatable(k: string) ['1'];\na\n| join kind=inner b on k")),
    ("KS241", Case::Query("let a = datatable(k: dynamic) [dynamic(1)];\nlet b = datatable(j: long) [1];\na\n| join kind=inner b on $left.k == $right.j")),
    ("KS242", Case::Query("let a = datatable(k: long) [1];\nlet b = datatable(j: string) ['1'];\na\n| join kind=inner b on $left.k == $right.j")),
    ("KQL010", Case::Query("declare query_parameters (p: string);\nprint p")),
    ("KQL011", Case::Query("let x = 1;")),
    ("KQL020", Case::Query("print s = 'a'\n| extend x = s.nosuchmethod()")),
    ("KQL021", Case::Query("print x = *")),
    ("KQL022", Case::Query("print x = $left")),
    ("KQL025", Case::Query("print x = toscalar(SigninLogs | project-away *)")),
    ("KQL030", Case::Query("print t = datetime(2020-13-45)")),
    ("KQL041", Case::Query("let n = 5;\nn\n| take 1")),
    ("KQL042", Case::Query("let t = strcat('Signin', 'Logs');\ntable(t)\n| take 1")),
    ("KQL044", Case::Query("SigninLogs.nosuch()\n| take 1")),
    ("KQL045", Case::Query("print 1\n| union 1 + 1")),
    ("KQL047", Case::Query("datatable() []")),
    ("KQL048", Case::Query("datatable(a: long, b: string) [1, 'x', 2]")),
    ("KQL052", Case::Query("range x from 1 to 10 step 0")),
    ("KQL055", Case::Query("evaluate nosuch_plugin()")),
    ("KQL056", Case::Query("SigninLogs\n| reduce kind=nosuch by ResultDescription")),
    ("KQL057", Case::Query("SigninLogs\n| take -1")),
    ("KQL058", Case::Query("union withsource=T Nosuch*")),
    ("KQL059", Case::Query("SigninLogs\n| join kind=sideways AuditLogs on TenantId")),
    ("KQL060", Case::Query("SigninLogs\n| join kind=inner AuditLogs on $left.TenantId == $left.TenantId")),
    ("KQL061", Case::Query("SigninLogs\n| join kind=inner AuditLogs on $left.TenantId != $right.TenantId")),
    ("KQL062", Case::Query("print s = 'a'\n| extend (x, y) = strlen(s)")),
    ("KQL070", Case::Query("print x = column_ifexists(strcat('a', 'b'), 1)")),
    ("KQL071", Case::Query("print x = node_degree_in()")),
    ("KQL072", Case::Query("declare pattern p = (x: string) { ('a') = { let y = 1; }; };\np('a')")),
    ("KQL073", Case::Query("strlen('a')\n| take 1")),
    ("KQL074", Case::Query("let f = () { print 1 };\nSigninLogs\n| invoke f()")),
    ("KQL075", Case::Query("declare pattern p = (x: string) { ('a') = { p('a') }; };\np('a')")),
    ("KQL077", Case::Query("print x = current_cluster_endpoint()")),
    ("KQL078", Case::Query("let m = 'msg';\nprint x = assert(true, m)")),
    ("KQL080", Case::Query("print p = 'year'\n| extend x = datetime_diff(p, now(), ago(1d))")),
    ("KQL081", Case::Query("print x = datetime_diff('fortnight', now(), ago(1d))")),
    ("KQL082", Case::Query("print x = countof('aaa', 'a', 'fuzzy')")),
    ("KQL090", Case::Query("SigninLogs\n| summarize count() + ResultType by UserPrincipalName")),
    ("KQL091", Case::Query("datatable(u: string) ['a']\n| summarize hll(u, 9)")),
    ("KQL110", Case::Query("externaldata(a: string) [strcat('a', 'b')]")),
    ("KQL111", Case::Query("externaldata(a: string) ['https://example.com/nowhere.csv']")),
    ("KQL121", Case::Query("SigninLogs\n| make-series count() on TimeGenerated step -1h")),
    ("KQL122", Case::Query("range t from datetime(2020-01-01) to datetime(2020-01-02) step 1h\n| make-series count() on t from datetime(2000-01-01) to datetime(2020-01-01) step 1tick")),
    ("KQL132", Case::Query("datatable(t: datetime) [datetime(2020-01-01)]\n| evaluate activity_counts_metrics(t, t, strcat('a'), now(), 1d)")),
    ("KQL140", Case::Query("SigninLogs\n| top-nested 3 of UserPrincipalName with others = 'rest' by count()")),
    ("KQL142", Case::Query("find in (strcat('a', 'b')) where true")),
    ("KQL143", Case::Query("print a = 1\n| scan declare (x: long) with (step s: true => 1;)")),
    ("KQL144", Case::Query("print a = 1\n| scan declare (x: long) with (step s: true => y = 1;)")),
    ("KQL100", Case::MissingData),
    ("KQL103", Case::Load(&[("T.jsonl.gz", b"not gzip at all")], None)),
    ("KQL104", Case::Load(&[("T.jsonl", b"{\"a\": 1}\n{\"a\": oops}\n")], None)),
    ("KQL105", Case::Load(&[("T.jsonl", b"{\"a\": \"\xff\xfe\"}\n")], None)),
    ("KQL106", Case::Load(&[("T.jsonl", b"{\"a\": 1}\n[1, 2]\n")], None)),
    ("KQL107", Case::Load(&[("T.jsonl", b"{\"a\": \"a long value\"}\n")], Some(8))),
    ("KQL108", Case::Load(&[("T.csv", b"a\n\xff\n")], None)),
    ("KQL102", Case::Load(&[("missing:T.jsonl", b"")], None)),
    ("KQL109", Case::LoadTyped("SigninLogs.jsonl", b"{\"TimeGenerated\": \"2025-10-21T10:00:00Z\", \"ResultType\": \"0\"}\n{\"TimeGenerated\": \"yesterday\", \"ResultType\": \"0\"}\n")),
    ("KQL130", Case::Load(&[("T.parquet", b"PAR1 not really parquet")], None)),
    ("KQL900", Case::Limited("range x from 1 to 3000000 step 1\n| summarize s = make_set(tostring(x))", Some(1 << 20), None)),
    ("KQL901", Case::Limited("range x from 1 to 100000000 step 1\n| summarize count() by x % 1000", None, Some(1))),
    ("KQL084", Case::Query("set truncationmaxrecords = 10;\nrange x from 1 to 100 step 1")),
    ("KQL083", Case::Query("datatable(s: string, v: long) ['a', 1]\n| make-series sum(v) on s step 1")),
    ("KQL112", Case::WithExternalData("externaldata (a: string)\n[h@'https://example.com/data.bin']\nwith (format = 'avro')")),
    ("KQL120", Case::MissingWatchlist),
    ("KQLW001", Case::Query("SigninLogs\n| where ResultType != 0")),
    ("KQLW002", Case::Query("SigninLogs\n| where UserPrincipalName in (AuditLogs | project OperationName, Result)")),
    ("KQLW003", Case::Query("SigninLogs\n| extend g = geo_info_from_ip_address(IPAddress)\n| extend c = g.counrty")),
    ("KQLW004", Case::Query("SigninLogs\n| summarize count() by UserPrincipalName")),
    ("KQLW005", Case::WithFunctions("let Users = () { _GetWatchlist('VIPs') | project SearchKey };", "Users\n| take 1")),
    // the lints' own documented examples (kql-lint/src/rules/)
    ("KQLW006", Case::Query(kql_lint::rules::search_everything::LINT.example)),
    ("KQLW007", Case::Query(kql_lint::rules::contains_where_has_works::LINT.example)),
    ("KQLW008", Case::Query(kql_lint::rules::join_without_kind::LINT.example)),
    ("KQLW009", Case::Query(kql_lint::rules::arg_max_star_then_project::LINT.example)),
    ("KQLW010", Case::Query(kql_lint::rules::case_converted_comparison::LINT.example)),
    ("KQLW011", Case::Query(kql_lint::rules::tabular_let_used_twice::LINT.example)),
    ("KQLW012", Case::Query(kql_lint::rules::late_time_filter::LINT.example)),
    ("KQLW013", Case::Query(kql_lint::rules::suppression_without_reason::LINT.example)),
    ("KQLW014", Case::Query(kql_lint::rules::unused_suppression::LINT.example)),
];

fn session() -> Session {
    Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() })
        .expect("session")
}

/// Render the first diagnostic with `code` that `case` produces.
fn render(code: &str, case: &Case) -> Result<String, String> {
    let (functions, q) = match case {
        Case::Query(q) => (None, *q),
        Case::WithFunctions(f, q) => (Some(*f), *q),
        Case::Load(files, max_line) => return render_load(code, files, *max_line, None),
        Case::LoadTyped(file, bytes) => {
            let table = file.split('.').next().unwrap_or(file);
            let catalog = Catalog::with_builtin_schemas();
            let schema = catalog.schemas().table(table).cloned();
            return render_load(code, &[(file, bytes)], None, schema.as_ref().map(|s| (table, s)));
        }
        Case::Limited(q, memory, timeout) => {
            let opts = SessionOptions {
                threads: Some(1),
                memory_limit: *memory,
                timeout: timeout.map(std::time::Duration::from_millis),
                ..Default::default()
            };
            let s = Session::new(Catalog::with_builtin_schemas(), opts).expect("session");
            return match s.query(q) {
                // sizes and times vary from run to run: digits are masked
                Err(e) if e.code == code => {
                    let text = e.render("query.kql", q);
                    let (head, rest) = text.split_once("]: ").unwrap_or(("", &text));
                    Ok(format!("{head}]: {}", rest.replace(|c: char| c.is_ascii_digit(), "#")))
                }
                Err(e) => Err(format!("{code}: got {} {}", e.code, e.message)),
                Ok(_) => Err(format!("{code}: ran without an error")),
            };
        }
        Case::WithExternalData(q) => {
            let dir = crate::common::temp_dir(&format!("diag-{code}"));
            let file = dir.join("data.bin");
            std::fs::write(&file, "a\n1\n").map_err(|e| e.to_string())?;
            let mut catalog = Catalog::with_builtin_schemas();
            catalog.add_externaldata("https://example.com/data.bin", file);
            let s = Session::new(catalog, SessionOptions { threads: Some(1), ..Default::default() }).expect("session");
            let rendered = match s.query(q) {
                Err(e) if e.code == code => Ok(e.render("query.kql", q)),
                Err(e) => Err(format!("{code}: got {} {}", e.code, e.message)),
                Ok(_) => Err(format!("{code}: ran without an error")),
            };
            let _ = std::fs::remove_dir_all(&dir);
            return rendered;
        }
        Case::MissingWatchlist => {
            let e =
                kql_exec::load::watchlist::load_watchlist("VIPs", std::path::Path::new("watchlists/vips.csv"), None, 0)
                    .err();
            return match e {
                Some(e) if e.code == code => Ok(e.render("", "")),
                other => Err(format!("{code}: got {:?}", other.map(|e| e.code))),
            };
        }
        Case::MissingData => {
            let schemas = kql_exec::schema::catalog::SchemaCatalog::default();
            let e = kql_exec::load::discover(std::path::Path::new("logs/nowhere"), &schemas).err();
            return match e {
                Some(e) if e.code == code => Ok(e.render("", "")),
                other => Err(format!("{code}: got {other:?}")),
            };
        }
    };
    let mut s = session();
    if let Some(f) = functions {
        let src = kql_exec::session::FunctionSource::plain("parsers.kql", f);
        s.add_functions_from(f, Some(std::sync::Arc::new(src))).map_err(|e| e.render("parsers.kql", f))?;
    }
    let mut seen = Vec::new();
    let (script, syntax) = kql_parser::parse_recovering(q);
    for e in syntax {
        if e.code == code {
            return Ok(e.render("query.kql", q));
        }
        seen.push(e.code);
    }
    if let Some(script) = script {
        let outcome = s.check_script(&script);
        // the lints' findings and the suppressions', as `kql check` adds them
        let mut warnings = outcome.warnings.clone();
        warnings.extend(kql_lint::lint(&script).into_iter().map(kql_exec::KqlError::from));
        let (_, comments) = kql_lint::suppress::filter(q, warnings.iter().collect(), |w| {
            kql_lint::suppress::Candidate { code: w.code, at: w.span.map(|s| s.start) }
        });
        warnings.extend(comments.into_iter().map(kql_exec::KqlError::from));
        for (sev, e) in outcome.errors.iter().map(|e| ("error", e)).chain(warnings.iter().map(|w| ("warning", w))) {
            if e.code == code {
                return Ok(e.render_with(sev, "query.kql", q, 1));
            }
            seen.push(e.code);
        }
        match s.query(q) {
            Err(e) if e.code == code => return Ok(e.render("query.kql", q)),
            Err(e) => seen.push(e.code),
            Ok(r) => {
                for w in &r.warnings {
                    if w.code == code {
                        return Ok(w.render_with("warning", "query.kql", q, 1));
                    }
                    seen.push(w.code);
                }
            }
        }
    }
    Err(format!("{code}: the case reported {seen:?}"))
}

/// Load `files` strictly as one table and render the error with `code` (the temporary folder
/// shown as `<data>`).
fn render_load(
    code: &str,
    files: &[(&str, &[u8])],
    max_line: Option<usize>,
    typed: Option<(&str, &kql_exec::schema::TableSchema)>,
) -> Result<String, String> {
    let dir = crate::common::temp_dir(&format!("diag-{code}"));
    let mut paths = Vec::new();
    for (name, bytes) in files {
        let p = dir.join(name.trim_start_matches("missing:"));
        if !name.starts_with("missing:") {
            std::fs::write(&p, bytes).map_err(|e| e.to_string())?;
        }
        paths.push(p);
    }
    let opts = kql_exec::load::LoadOptions { strict: true, max_line_bytes: max_line, ..Default::default() };
    let (name, schema) = match typed {
        Some((t, s)) => (t, Some(s)),
        None => ("T", None),
    };
    match kql_exec::load::load_table(name, &paths, schema, &opts) {
        Err(e) if e.code == code => Ok(e.render("", "").replace(&dir.display().to_string(), "<data>")),
        Err(e) => Err(format!("{code}: got {} {}", e.code, e.message)),
        Ok(_) => Err(format!("{code}: loaded without an error")),
    }
}

/// The codes written in the engine's sources (outside their tests).
fn engine_codes() -> BTreeSet<String> {
    let root = crate::common::workspace_root();
    let mut codes = BTreeSet::new();
    let mut stack = vec![root.join("kql-parser/src"), root.join("kql-exec/src"), root.join("kql-lint/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".rs") || name == "tests.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            let text = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or("");
            for (i, _) in text.match_indices("\"K") {
                let rest = &text[i + 1..];
                let end = rest.find('"').unwrap_or(0);
                let code = &rest[..end];
                let is_code = (code.starts_with("KQL") || code.starts_with("KS"))
                    && code.len() >= 5
                    && code
                        .trim_start_matches("KQLW")
                        .trim_start_matches("KQL")
                        .trim_start_matches("KS")
                        .chars()
                        .all(|c| c.is_ascii_digit());
                if is_code {
                    codes.insert(code.to_string());
                }
            }
        }
    }
    codes
}

/// Codes no case triggers, and why: guards behind what the parser already rejects, failures
/// of the machinery underneath (Arrow, DataFusion, the runtime, the file system) that no input
/// is known to reach, and the few that need a setup these tests do not build yet.
const WITHOUT_A_CASE: &[(&str, &str)] = &[
    ("KQL023", "a guard: the parser reads wildcards only where Kusto allows them"),
    ("KQL024", "a guard: every tabular expression in scalar position is bound as a subquery first"),
    ("KQL040", "a guard: the parser never makes a pipeline without a source"),
    ("KQL043", "a guard: the parser reads `view` only in a `let`"),
    ("KQL046", "Arrow failing to build sequence_detect's result"),
    ("KQL049", "Arrow failing to build an evaluate plugin's result"),
    ("KQL050", "a guard: a scalar subquery's batches always hold a row"),
    ("KQL051", "a guard: every source operator the parser reads is bound"),
    ("KQL054", "a guard: the parser reads only a call after `invoke`"),
    ("KQL076", "needs a workspace function known by its schema only (none is built in)"),
    ("KQL092", "every aggregation in Kusto's catalog is implemented today"),
    ("KQL101", "a data folder that cannot be listed (the tests run as a user who can list anything)"),
    ("KQL113", "Arrow failing to build an externaldata batch"),
    ("KQL114", "a guard in mv-apply: the context column is added back before it is checked"),
    ("KQL131", "Arrow failing to cast a Parquet column to long"),
    ("KQL141", "a guard: the parser reads top-nested with at least one clause"),
    ("KQL145", "a guard: the parser reads a name after `partition by`"),
    ("KQL146", "partitions of a legacy partition whose results differ in shape; no query tried reaches it"),
    ("KQL902", "the async runtime failing to start"),
    ("KQL903", "cancellation from another thread (Ctrl-C in the repl)"),
    ("KQL904", "more than 2 GB of text in one Arrow batch"),
    ("KQL996", "DataFusion failing to collect a plan"),
    ("KQL997", "Arrow failing to cast a result column"),
    ("KQL998", "a load thread panicking"),
    ("KQL999", "an execution failure DataFusion does not classify"),
];

#[test]
fn each_code_renders_as_its_snapshot() {
    let mut missing = Vec::new();
    for (code, case) in CASES {
        match render(code, case) {
            Ok(text) => insta::assert_snapshot!(*code, text),
            Err(e) => missing.push(e),
        }
    }
    assert!(missing.is_empty(), "cases that no longer report their code:\n{}", missing.join("\n"));
}

#[test]
fn every_code_has_a_case() {
    let codes = engine_codes();
    let with_case: BTreeSet<&str> = CASES.iter().map(|(c, _)| *c).collect();
    let exempt: BTreeSet<&str> = WITHOUT_A_CASE.iter().map(|(c, _)| *c).collect();
    let uncovered: Vec<&String> =
        codes.iter().filter(|c| !with_case.contains(c.as_str()) && !exempt.contains(c.as_str())).collect();
    assert!(uncovered.is_empty(), "codes without a snapshot case (add one to CASES): {uncovered:?}");
    let stale: Vec<&&str> = with_case.iter().chain(exempt.iter()).filter(|c| !codes.contains(**c)).collect();
    assert!(stale.is_empty(), "codes listed here that the engine no longer emits: {stale:?}");
    let both: Vec<&&str> = with_case.intersection(&exempt).collect();
    assert!(both.is_empty(), "codes both with a case and without: {both:?}");
    // every case has its snapshot committed
    let dir = crate::common::workspace_root().join("tests/tests/snapshots");
    let no_file: Vec<&&str> =
        with_case.iter().filter(|c| !dir.join(format!("all__diagnostic_snapshots__{c}.snap")).exists()).collect();
    assert!(no_file.is_empty(), "cases without a committed snapshot: {no_file:?}");
    crate::common::report(&format!(
        "diagnostic codes: {} in the engine, {} with a snapshot, {} without a case (reasons listed)",
        codes.len(),
        with_case.len(),
        exempt.len()
    ));
}

#[test]
fn a_long_line_is_cut_around_the_span() {
    // a syntax error at the end of a 10,000-character line shows a window around it
    let q = format!("T | where {}x == )", "a == 1 and ".repeat(1000));
    let e = kql_parser::parse(&q).unwrap_err();
    let text = e.render("long.kql", &q);
    assert!(text.lines().all(|l| l.chars().count() < 200), "{text}");
    insta::assert_snapshot!("long_line", text);
}

#[test]
fn tabs_and_wide_characters_line_up() {
    let q = "print a = '日本語'\t, b = nosuch";
    let s = session();
    let e = s.query(q).unwrap_err();
    insta::assert_snapshot!("wide_and_tab", e.render("query.kql", q));
}

#[test]
fn a_query_in_rule_yaml_is_shown_at_the_file_line_and_column() {
    // the query of `query: |` at line 4 of a rule file, indented two columns
    let q = "SigninLogs\n| where ResultTyp == 0";
    let e = session().check_script(&kql_parser::parse(q).unwrap()).errors.remove(0);
    let text = e.render_in_file("error", "rule.yaml", q, 4, 2);
    assert!(text.contains("--> rule.yaml:5:11"), "{text}");
    insta::assert_snapshot!("in_rule_yaml", text);
}
