//! Microsoft's ASIM parsers over Azure-Sentinel's own sample exports (`tests/data/real-samples`,
//! a copy of `../shared/real-samples`), checked as Microsoft's ASIM CI checks them: each parser
//! runs over its sample (a portal CSV export, loaded as `kql query --table T=SAMPLE.csv` loads it,
//! with the `<Table>_Schema.csv` beside it), then `ASimSchemaTester` over its `getschema` and
//! `ASimDataTester` over its rows, with the testers' `externaldata` served from local copies
//! (`ASimTester.csv` and the IANA lists in `iana/`, see `scripts/iana-lists.py`).
//!
//! `expected.tsv` holds what each parser must give: its row count, and every `(0) Error` line
//! its testers report, each with the reason it is the parser's (or the sample's, or the saved
//! tester list's) and not the engine's. The test fails on a parser that stops with an error, a
//! different row count, a value of the sample that could not be read, or a tester error line
//! that is not expected (a regression); an expected line that no longer appears is printed
//! (an improvement to record). `KQL_BLESS_REAL_SAMPLES=1` rewrites the file's lines, keeping the
//! reasons of lines already there.

use kql_exec::load::{self, LoadOptions};
use kql_exec::schema::SchemaCatalog;
use kql_exec::session::{Catalog, FunctionSource, Session, SessionOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    crate::common::data_dir().join("real-samples")
}

const TESTER_CSV: &str =
    "https://raw.githubusercontent.com/Azure/Azure-Sentinel/master/ASIM/dev/ASimTester/ASimTester.csv";
const IANA: [(&str, &str); 3] = [
    ("https://www.iana.org/assignments/protocol-numbers/protocol-numbers-1.csv", "protocol-numbers-1.csv"),
    ("https://www.iana.org/assignments/dns-parameters/dns-parameters-4.csv", "dns-parameters-4.csv"),
    ("https://www.iana.org/assignments/dns-parameters/dns-parameters-6.csv", "dns-parameters-6.csv"),
];

/// One sample: its file, table, ASIM schema and parser files.
struct Sample {
    file: PathBuf,
    table: String,
    schema: String,
    parsers: Vec<PathBuf>,
}

fn samples() -> Vec<Sample> {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("manifest.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for e in manifest.as_array().unwrap() {
        let parsers: Vec<PathBuf> = e["parsers"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p.as_str()).map(|p| root().join("parsers").join(p)).collect())
            .unwrap_or_default();
        if e["kind"] != "sample" || parsers.is_empty() {
            continue;
        }
        out.push(Sample {
            file: root().join(e["file"].as_str().unwrap()),
            table: e["table"].as_str().unwrap().to_string(),
            schema: e["schema"].as_str().unwrap().to_string(),
            parsers,
        });
    }
    out
}

/// Add the functions of a parser/function YAML file, placed in that file for errors.
fn add_yaml_functions(session: &mut Session, path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let kql = rule_pack::parsers::function_from_yaml(path, &text).unwrap().unwrap();
    let source = FunctionSource::embedded(path.display().to_string(), &kql, &text);
    session.add_functions_from(&kql, Some(Arc::new(source))).unwrap_or_else(|e| panic!("{}", e.render("", "")));
}

/// A session as `kql query --table T=SAMPLE --functions ... --externaldata ...` builds it.
fn session_for(sample: &Sample) -> (Session, load::LoadReport) {
    let mut catalog = Catalog::with_builtin_schemas();
    // the `<Table>_Schema.csv` beside the sample, and a `--schema` file where the repository has
    // none (`schemas/`: see the folder's README)
    let given = root().join("schemas").join(format!("{}.json", sample.table));
    let given = given.exists().then_some(given);
    for s in SchemaCatalog::schema_csvs_near(&sample.file).into_iter().chain(given) {
        let mut c = SchemaCatalog::load_path(&s).unwrap();
        c.add_standard_columns();
        catalog.add_schemas(c);
    }
    catalog.add_externaldata(TESTER_CSV, root().join("testers/ASimTester.csv"));
    for (url, file) in IANA {
        catalog.add_externaldata(url, root().join("iana").join(file));
    }
    let schema = catalog.schemas().table(&sample.table).cloned();
    let mut session = Session::new(catalog, SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    let mut dirs = vec![root().join("asim-lib"), root().join("testers")];
    dirs.sort();
    for d in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for f in files {
            add_yaml_functions(&mut session, &f);
        }
    }
    for p in &sample.parsers {
        add_yaml_functions(&mut session, p);
    }
    let t =
        load::load_table(&sample.table, std::slice::from_ref(&sample.file), schema.as_ref(), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", sample.file.display()));
    session.add_batches(&t.name, t.cols, t.batches).unwrap();
    (session, t.report)
}

fn parser_name(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    v["ParserName"].as_str().unwrap().to_string()
}

/// The text cells of a one-column result.
fn lines(session: &Session, q: &str) -> Result<Vec<String>, String> {
    let r = session.query(q).map_err(|e| e.render("<query>", q))?;
    Ok(kql_exec::output::rows_json(&r)
        .into_iter()
        .map(|row| match &row[0] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect())
}

/// `expected.tsv`: `parser<TAB>rows<TAB>` or `parser<TAB>error<TAB>LINE<TAB>REASON`.
/// A tester line with the values it lists (`[...]`, from `make_set`, whose order Kusto leaves
/// open) in sorted order, or elided when it lists only some of them, so that lines compare by
/// what they say.
fn listed_in_order(line: &str) -> String {
    let (Some(start), Some(end)) = (line.find(": [\""), line.rfind("\"]")) else { return line.to_string() };
    if end <= start + 3 {
        return line.to_string();
    }
    let mut items: Vec<&str> = line[start + 4..end].split("\",\"").collect();
    // when there are more invalid values than the tester lists, which ones it lists is open too
    let count = line.split_once(" invalid value").and_then(|(head, _)| head.rsplit(' ').next()?.parse::<usize>().ok());
    if count.is_some_and(|n| n > items.len()) {
        return format!("{}…{}", &line[..start + 4], &line[end..]);
    }
    items.sort_unstable();
    format!("{}{}{}", &line[..start + 4], items.join("\",\""), &line[end..])
}

#[derive(Default)]
struct Expected {
    rows: BTreeMap<String, usize>,
    row_reasons: BTreeMap<String, String>,
    errors: BTreeMap<(String, String), String>,
}

fn read_expected() -> Expected {
    let mut e = Expected::default();
    let text = std::fs::read_to_string(root().join("expected.tsv")).unwrap_or_default();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            [p, "rows", n, reason @ ..] => {
                let n: usize = n.parse().unwrap();
                assert!(n > 0 || reason.iter().any(|r| !r.is_empty()), "expected.tsv: {p} gives no rows: say why");
                e.rows.insert(p.to_string(), n);
                e.row_reasons.insert(p.to_string(), reason.join("\t"));
            }
            [p, "error", l, reason] => {
                e.errors.insert((p.to_string(), listed_in_order(l)), reason.to_string());
            }
            _ => panic!("expected.tsv: bad line {line:?}"),
        }
    }
    e
}

#[test]
fn asim_parsers_and_testers_over_real_samples() {
    let expected = read_expected();
    let (mut parsers_run, mut parsers_failed, mut values_lost) = (0usize, Vec::new(), 0usize);
    let (mut tester_runs, mut tester_errors) = (0usize, 0usize);
    let mut got_rows: BTreeMap<String, usize> = BTreeMap::new();
    let mut got_errors: BTreeSet<(String, String)> = BTreeSet::new();
    let mut problems = Vec::new();
    for sample in samples() {
        let (session, report) = session_for(&sample);
        let lost = report.bad_values + report.skipped;
        values_lost += lost;
        if lost > 0 {
            problems.push(format!("{}: values lost: {report}", sample.file.display()));
        }
        for p in &sample.parsers {
            let name = parser_name(p);
            let count = match lines(&session, &format!("{name} | count")) {
                Ok(v) => v[0].parse::<usize>().unwrap(),
                Err(e) => {
                    parsers_failed.push(format!("{name}:\n{e}"));
                    continue;
                }
            };
            parsers_run += 1;
            got_rows.insert(name.clone(), count);
            let schema = &sample.schema;
            for q in [
                format!("{name} | getschema | invoke ASimSchemaTester('{schema}')"),
                format!("{name} | invoke ASimDataTester('{schema}')"),
            ] {
                match lines(&session, &q) {
                    Ok(results) => {
                        tester_runs += 1;
                        for r in results.into_iter().filter(|r| r.starts_with("(0) Error")) {
                            tester_errors += 1;
                            got_errors.insert((name.clone(), listed_in_order(&r)));
                        }
                    }
                    Err(e) => parsers_failed.push(format!("{name} (tester):\n{e}")),
                }
            }
        }
    }
    crate::common::report(&format!(
        "real samples: {parsers_run} parser(s) ran, {} failed; {tester_runs} tester run(s), {tester_errors} `(0) Error` \
         line(s); {values_lost} value(s) lost",
        parsers_failed.len()
    ));
    if std::env::var_os("KQL_BLESS_REAL_SAMPLES").is_some() {
        let mut out = String::from(
            "# What each ASIM parser gives over its real sample (see tests/tests/real_samples.rs).\n\
             # parser<TAB>rows<TAB>N<TAB>reason when 0\n# parser<TAB>error<TAB>tester line<TAB>why it is not the engine's\n",
        );
        for (p, n) in &got_rows {
            let reason = expected.row_reasons.get(p).cloned().unwrap_or_default();
            out.push_str(&format!("{p}\trows\t{n}\t{reason}\n"));
        }
        for (p, l) in &got_errors {
            let reason = expected.errors.get(&(p.clone(), l.clone())).cloned().unwrap_or_else(|| "TODO".into());
            out.push_str(&format!("{p}\terror\t{l}\t{reason}\n"));
        }
        std::fs::write(root().join("expected.tsv"), out).unwrap();
    }
    for (p, n) in &got_rows {
        match expected.rows.get(p) {
            Some(e) if e == n => {}
            e => problems.push(format!("{p}: {n} row(s), expected {e:?}")),
        }
    }
    for (p, l) in &got_errors {
        if !expected.errors.contains_key(&(p.clone(), l.clone())) {
            problems.push(format!("{p}: new tester error: {l}"));
        }
    }
    for ((p, l), _) in expected.errors.iter().filter(|k| !got_errors.contains(k.0)) {
        crate::common::report(&format!("real samples: no longer reported ({p}): {l}"));
    }
    for reason in expected.errors.values() {
        assert!(reason != "TODO" && !reason.is_empty(), "expected.tsv has an error line without a reason");
    }
    problems.extend(parsers_failed);
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

/// Every corpus rule whose data connectors' tables are all among the samples' tables, run as the
/// scheduler would over the samples (all of a table's samples loaded together), with the corpus
/// parsers loaded. None may fail with an internal error, and the number that run is held where it
/// was measured (a ratchet). The rest stop with a clear error, printed by kind; at the last
/// count: a column that Microsoft's parsers read but the published table reference lacks
/// (`W3CIISLog.ReportReferenceLink`), columns made from the data by `bag_unpack`/`pivot` over
/// samples without such rows (an error in Kusto too), and plugins not implemented yet.
#[test]
fn corpus_rules_over_real_samples() {
    let mut by_table: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for s in samples() {
        by_table.entry(s.table.clone()).or_default().push(s.file.clone());
    }
    let mut catalog = Catalog::with_builtin_schemas();
    for files in by_table.values() {
        for s in SchemaCatalog::schema_csvs_near(&files[0]) {
            let mut c = SchemaCatalog::load_path(&s).unwrap();
            c.add_standard_columns();
            catalog.add_schemas(c);
        }
    }
    let given = root().join("schemas");
    let mut c = SchemaCatalog::load_path(&given).unwrap();
    c.add_standard_columns();
    catalog.add_schemas(c);
    let schemas = catalog.schemas().clone();
    let mut session = Session::new(catalog, SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    assert!(crate::common::add_corpus_parsers(&mut session) > 500);
    let mut lost = 0;
    for (table, files) in &by_table {
        let t = load::load_table(table, files, schemas.table(table), &LoadOptions::default()).unwrap();
        lost += t.report.bad_values + t.report.skipped;
        session.add_batches(&t.name, t.cols, t.batches).unwrap();
    }
    assert_eq!(lost, 0, "values of the samples could not be read");
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z").unwrap();
    let (mut ran, mut external, mut total) = (0usize, 0usize, 0usize);
    let mut failures: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut internal = Vec::new();
    for v in crate::common::read_jsonl("corpus/sentinel.jsonl") {
        let types: Vec<String> = v["requiredDataConnectors"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["dataTypes"].as_array().cloned().unwrap_or_default())
            .filter_map(|d| d.as_str().map(str::to_string))
            .collect();
        if types.is_empty() || !types.iter().all(|t| by_table.contains_key(t)) {
            continue;
        }
        total += 1;
        let rule = match crate::common::corpus_rule(v) {
            Ok(r) => r,
            Err(e) => {
                failures.entry("rule file").or_default().push(e);
                continue;
            }
        };
        let path = rule.path.display().to_string();
        match rule_pack::runner::run_rule(&mut session, &rule, now) {
            Ok(_) => ran += 1,
            Err(e) if e.code == "KQL111" && e.message.contains("externaldata") => external += 1,
            Err(e) if matches!(e.code, "KQL998" | "KQL999") => internal.push(format!("{path}: {e}")),
            Err(e) => failures.entry(e.code).or_default().push(format!("{path}: {}", e.message)),
        }
    }
    crate::common::report(&format!(
        "real samples: {ran}/{total} corpus rules over the samples' tables ran; {external} need an externaldata file; \
         {} stopped with an error, {} with an internal error",
        failures.values().map(Vec::len).sum::<usize>(),
        internal.len()
    ));
    for (code, list) in &failures {
        crate::common::report(&format!("  {code}: {} (e.g. {})", list.len(), list[0]));
        if std::env::var_os("KQL_REAL_SAMPLES_VERBOSE").is_some() {
            for f in list {
                println!("    {f}");
            }
        }
    }
    assert!(total > 400, "only {total} corpus rules read the samples' tables");
    assert!(internal.is_empty(), "internal errors:\n{}", internal.join("\n"));
    assert!(ran >= RULES_THAT_RUN, "{ran} rules ran, fewer than the {RULES_THAT_RUN} measured");
    assert!(external <= 12, "{external} rules need an externaldata file, more than the 12 measured");
}

/// The corpus rules over the samples' tables that run (measured; raise it when more do).
const RULES_THAT_RUN: usize = 462;
