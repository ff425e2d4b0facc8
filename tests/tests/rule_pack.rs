//! `kql test rule-pack`: every golden test of the bundled packs passes, and a changed golden
//! value fails with a diff naming the rule, the row and the column.

use std::path::PathBuf;

fn pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rule-pack/packs")
}

/// The runnable version of a pack query: `NAME.corrected.kql` when the published one is
/// rejected, else `NAME.kql`, in whichever of the pack's folders holds it.
fn pack_query(stem: &str) -> PathBuf {
    let pack = pack_dir().join("genai-security");
    for dir in ["detections", "hunting", "workbooks"] {
        let corrected = pack.join(dir).join(format!("{stem}.corrected.kql"));
        if corrected.exists() {
            return corrected;
        }
        let published = pack.join(dir).join(format!("{stem}.kql"));
        if published.exists() {
            return published;
        }
    }
    panic!("{stem}: not in the pack")
}

#[test]
fn bundled_pack_tests_pass() {
    let tests = rule_pack::testing::find_tests(&[pack_dir()]);
    assert!(tests.len() >= 31, "found {} tests", tests.len());
    let failures: Vec<String> = tests
        .iter()
        .map(|t| rule_pack::testing::run_test(t, false))
        .filter_map(|o| o.failure.map(|f| format!("{}: {f}", o.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_changed_golden_value_fails_with_a_row_and_column_diff() {
    let names = vec!["user".to_string(), "count_".to_string()];
    let expected = vec![vec![serde_json::json!("u1"), serde_json::json!(3)]];
    let actual = vec![vec![serde_json::json!("u1"), serde_json::json!(4)]];
    let d = rule_pack::testing::diff_rows(&names, &expected, &actual).expect("differs");
    assert!(d.contains("row 1") && d.contains("column `count_`: expected 3, got 4"), "{d}");
    assert!(rule_pack::testing::diff_rows(&names, &expected, &expected).is_none());
}

/// A session over the pack's fixtures, which were written by
/// `kql-datagen --rows 300 --now 2025-10-21T15:00:00Z` (seed 42).
fn fixture_session() -> kql_exec::session::Session {
    use kql_exec::load::{self, LoadOptions};
    use kql_exec::session::{Catalog, Session, SessionOptions};
    let pack = pack_dir().join("genai-security");
    let mut catalog = Catalog::with_builtin_schemas();
    catalog.add_externaldata(
        "https://raw.githubusercontent.com/verazuo/jailbreak_llms/refs/heads/main/data/forbidden_question/forbidden_question_set.csv",
        pack.join("fixtures/externaldata/forbidden_question_set.csv"),
    );
    let mut session = Session::new(catalog, SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    for (name, files) in load::discover(&pack.join("fixtures"), session.catalog.schemas()).unwrap() {
        if name == "externaldata" {
            continue;
        }
        let schema = session.catalog.schemas().table(&name).cloned();
        let t = load::load_table(&name, &files, schema.as_ref(), &LoadOptions::default()).unwrap();
        session.add_batches(&t.name, t.cols, t.batches).unwrap();
    }
    session
}

/// `kql run` over the pack's fixtures (generated with planted incidents) finds exactly what
/// the generator planted: for every rule, the number of result rows (and so whether it fires)
/// equals the generator's independently computed answer for the same data.
#[test]
fn run_finds_exactly_the_planted_incidents() {
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z").unwrap();
    let ds = kql_tests::datagen::generate(&kql_tests::datagen::Config { now, seed: 42, rows: 300 });
    let mut session = fixture_session();
    let mut checked = 0;
    let mut problems = Vec::new();
    for exp in kql_tests::datagen::expected_all(&ds) {
        let v = exp.to_json();
        let stem = v["query"].as_str().unwrap().to_string();
        let rule = rule_pack::rule::load_rule(&pack_query(&stem)).unwrap();
        let run = match rule_pack::runner::run_rule(&mut session, &rule, now) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{stem}: {e}"));
                continue;
            }
        };
        let want = v["rows"].as_array().unwrap().len();
        if run.rows != want || run.fired != (want > 0) {
            problems.push(format!("{stem}: {} rows (fired: {}), planted: {want}", run.rows, run.fired));
        }
        checked += 1;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 24, "only {checked} rules checked");
}

/// `kql replay` over two days of the fixtures: every hourly run of each rule that reads
/// ContainerLogV2 alone returns exactly as many rows as the generator computes for that instant
/// (only the logs up to the run exist, `ago()` counts back from it), so the replay finds each
/// planted incident in the runs that should see it and nowhere else.
#[test]
fn replay_finds_the_planted_incidents_run_by_run() {
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z").unwrap();
    let ds = kql_tests::datagen::generate(&kql_tests::datagen::Config { now, seed: 42, rows: 300 });
    let mut session = fixture_session();
    let hour = 36_000_000_000i64;
    let stems = [
        "rule2_content_safety",
        "rule3_rate_limit_abuse",
        "rule4_anomalous_source_ip",
        "rule5_coordinated_attack",
        "hunt_high_volume",
    ];
    let rules: Vec<_> = stems.iter().map(|s| rule_pack::rule::load_rule(&pack_query(s)).unwrap()).collect();
    let replays: Vec<_> = rules
        .iter()
        .map(|r| rule_pack::runner::replay_rule(&mut session, r, now - 48 * hour, now, |_| {}).unwrap())
        .collect();
    let mut problems = Vec::new();
    let (mut fired, mut quiet) = (0, 0);
    for (k, stem) in stems.iter().enumerate() {
        assert_eq!(replays[k].runs.len(), 48, "{stem}: hourly runs over two days");
        for run in &replays[k].runs {
            let want = kql_tests::datagen::expected_all_at(&ds, run.now)
                .into_iter()
                .find(|e| e.query == *stem)
                .map(|e| e.rows.len())
                .unwrap();
            if run.rows != want || run.fired != (want > 0) {
                let t = kql_exec::value::datetime::format_datetime_iso(run.now);
                problems.push(format!("{stem} at {t}: {} rows, expected {want}", run.rows));
            }
            if run.fired {
                fired += 1;
            } else {
                quiet += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(fired > 0 && quiet > 0, "the replay must both fire and stay quiet ({fired} fired, {quiet} quiet)");
}

/// The corrected geo threat map over the fixtures and the sample geo-IP database: every failing
/// request of the last day, with the country and city the database records for its network
/// (computed here by CIDR containment over the database's source records, not by reading the
/// `.mmdb`), and nothing for private or unknown addresses.
#[test]
fn geo_threat_map_reports_the_recorded_country_and_city() {
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z").unwrap();
    let ds = kql_tests::datagen::generate(&kql_tests::datagen::Config { now, seed: 42, rows: 300 });
    let pack = pack_dir().join("genai-security");
    let mut session = fixture_session();
    session.catalog.set_geoip(pack.join("geoip/sample-city.mmdb"));
    let rule = rule_pack::rule::load_rule(&pack_query("wb_geo_threat_map")).unwrap();
    let run = rule_pack::runner::run_rule(&mut session, &rule, now).unwrap();
    let names: Vec<&str> = run.result.cols.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["source_ip", "GeoInfo_country", "GeoInfo_city"]);

    let records = kql_exec::functions::ipfn::mmdb::sample_city_records();
    let lookup = |ip: &str| -> (serde_json::Value, serde_json::Value) {
        let Ok(a) = ip.parse::<Ipv4Addr>() else { return (serde_json::Value::Null, serde_json::Value::Null) };
        for (net, rec) in &records {
            let Some((base, bits)) = net.split_once('/') else { continue };
            let (Ok(base), Ok(bits)) = (base.parse::<Ipv4Addr>(), bits.parse::<u32>()) else { continue };
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            if u32::from(a) & mask == u32::from(base) & mask {
                let s = |v: &Option<String>| serde_json::Value::String(v.clone().unwrap_or_default());
                return (s(&rec.country), s(&rec.city));
            }
        }
        (serde_json::Value::Null, serde_json::Value::Null)
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut want: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for row in ds.logs() {
        if row.time <= now - 864_000_000_000 || row.time > now {
            continue;
        }
        let j = ds.log_json(&row);
        let m = &j["LogMessage"];
        let app = text(&m["application_name"]);
        if app.is_empty() || text(&m["security_check_passed"]) != "FAIL" {
            continue;
        }
        let ip = text(&m["source_ip"]);
        let (country, city) = lookup(&ip);
        *want.entry(vec![ip, text(&country), text(&city)]).or_default() += 1;
    }
    let mut got: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for r in kql_exec::output::rows_json(&run.result) {
        *got.entry(r.iter().map(text).collect()).or_default() += 1;
    }
    assert!(want.keys().any(|k| k[2] == "Mumbai") && want.keys().any(|k| k[1].is_empty()), "fixtures cover both cases");
    assert_eq!(got, want);
}

/// A Sentinel analytic rule exactly as published in Azure-Sentinel
/// (`Detections/SigninLogs/AnomolousSingleFactorSignin.yaml`, copied unchanged), run over a small
/// hand-made SigninLogs fixture: of the last day's successful single-factor sign-ins, exactly the
/// two from a location and network not seen in the 7-day baseline fire, as one alert (the rule's
/// default grouping) with the Account and IP entities of its entity mappings.
#[test]
fn a_published_sentinel_rule_runs_unchanged() {
    use kql_exec::load::{self, LoadOptions};
    use kql_exec::session::{Catalog, Session, SessionOptions};
    let dir = crate::common::data_dir().join("rules-yaml");
    let rule = rule_pack::rule::load_rule(&dir.join("AnomolousSingleFactorSignin.yaml")).unwrap();
    assert_eq!(rule.period_ticks(), Some(7 * 864_000_000_000));
    let mut session =
        Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() })
            .unwrap();
    for (name, files) in load::discover(&dir.join("fixtures"), session.catalog.schemas()).unwrap() {
        let schema = session.catalog.schemas().table(&name).cloned();
        let t = load::load_table(&name, &files, schema.as_ref(), &LoadOptions::default()).unwrap();
        session.add_batches(&t.name, t.cols, t.batches).unwrap();
    }
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z").unwrap();
    let run = rule_pack::runner::run_rule(&mut session, &rule, now).unwrap();
    assert_eq!(run.rows, 2);
    assert!(run.fired);
    assert_eq!(run.alerts.len(), 1);
    let a = &run.alerts[0];
    assert_eq!(a.severity, "Low");
    let ents: Vec<String> = a
        .entities
        .iter()
        .map(|e| format!("{}:{}", e.entity_type, e.fields.values().cloned().collect::<String>()))
        .collect();
    assert_eq!(
        ents,
        ["Account:mallory@contoso.com", "IP:45.155.205.7", "Account:frank@contoso.com", "IP:203.0.113.51"]
    );
    // a day later the baseline has moved on: Moscow and Sao Paulo sign-ins are now history
    // (inside the 1-day-ago..7-day-ago baseline), and nothing new happened
    let later = run.now + 2 * 864_000_000_000;
    let quiet = rule_pack::runner::run_rule(&mut session, &rule, later).unwrap();
    assert!(!quiet.fired, "{} rows two days later", quiet.rows);
}

/// A month of hourly runs (720) of the content-safety detection with one alert per result and
/// alerts grouped into incidents by user and IP over a day: the replay's alert and incident
/// counts equal the generator's, which it computes from its own expected results, not by
/// running the query.
#[test]
fn a_month_long_replay_opens_the_incidents_the_generator_expects() {
    use rule_pack::rule::{EntityMapping, EventGrouping, FieldMapping, GroupingConfiguration, IncidentConfiguration};
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z").unwrap();
    let ds = kql_tests::datagen::generate(&kql_tests::datagen::Config { now, seed: 42, rows: 300 });
    let mut session = fixture_session();
    let mut rule = rule_pack::rule::load_rule(&pack_query("rule2_content_safety")).unwrap();
    let map = |ty: &str, id: &str, col: &str| EntityMapping {
        entity_type: ty.into(),
        field_mappings: vec![FieldMapping { identifier: id.into(), column_name: col.into() }],
    };
    rule.entity_mappings = vec![map("Account", "Name", "end_user_id"), map("IP", "Address", "source_ip")];
    rule.event_grouping_settings = Some(EventGrouping { aggregation_kind: Some("AlertPerResult".into()) });
    rule.query_frequency = Some("1h".into());
    rule.incident_configuration = Some(IncidentConfiguration {
        create_incident: true,
        grouping_configuration: Some(GroupingConfiguration {
            enabled: true,
            reopen_closed_incident: false,
            lookback_duration: Some("1d".into()),
            matching_method: Some("AllEntities".into()),
            group_by_entities: vec![],
            group_by_alert_details: vec![],
            group_by_custom_details: vec![],
        }),
    });
    let day = 864_000_000_000i64;
    let replay = rule_pack::runner::replay_rule(&mut session, &rule, now - 30 * day, now, |_| {}).unwrap();
    assert_eq!(replay.runs.len(), 720);
    let runs: Vec<i64> = replay.runs.iter().map(|r| r.now).collect();
    let (alerts, incidents) =
        kql_tests::datagen::expected_incidents(&ds, "rule2_content_safety", &runs, &["end_user_id", "source_ip"], day);
    assert!(alerts > incidents && incidents > 1, "{alerts} alerts, {incidents} incidents: grouping must matter");
    crate::common::report(&format!(
        "month-long replay: {} runs, {alerts} alerts, {incidents} incidents",
        replay.runs.len()
    ));
    assert_eq!((replay.alerts(), replay.incidents.len()), (alerts, incidents));
    // the per-day report adds up
    let per_day = replay.per_day();
    assert_eq!(per_day.len(), 31);
    assert_eq!(per_day.iter().map(|d| d.2).sum::<usize>(), alerts);
    assert_eq!(per_day.iter().map(|d| d.3).sum::<usize>(), incidents);
}

/// The golden files of the pack's tests over its fixtures hold the generator's answers: each
/// golden file was written by the engine (`kql test --bless`), so the golden tests alone only
/// show the engine agrees with itself. Here every golden file of a test over `../fixtures` at
/// the fixtures' instant is compared, value by value, with the result the generator computes
/// directly from the records it wrote (`kql_tests::datagen`, no query engine involved): the
/// same columns, the same rows, and for a query that ends in `order by`/`top` the same order
/// (rows whose sort keys are equal may come in any order among themselves). Reals compare
/// within 1e-9 relative, datetimes as instants, `make_set` arrays as multisets.
#[test]
fn golden_files_hold_the_generators_answers() {
    use serde_json::Value;
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z").unwrap();
    let ds = kql_tests::datagen::generate(&kql_tests::datagen::Config { now, seed: 42, rows: 300 });
    let expected: std::collections::HashMap<String, Value> = kql_tests::datagen::expected_all(&ds)
        .iter()
        .map(|e| e.to_json())
        .map(|v| (v["query"].as_str().unwrap().to_string(), v))
        .collect();
    let tests_dir = pack_dir().join("genai-security/tests");
    let (mut checked, mut cells) = (0usize, 0usize);
    let mut problems = Vec::new();
    let mut unmatched = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&tests_dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for t in files.iter().filter(|p| p.to_string_lossy().ends_with(".test.yaml")) {
        let spec: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(t).unwrap()).unwrap();
        let over_fixtures =
            spec["data"].as_sequence().is_some_and(|d| d.iter().any(|x| x.as_str() == Some("../fixtures")));
        let at_fixture_time = spec["now"].as_str() == Some("2025-10-21T15:00:00Z");
        let Some(golden) = spec["expect"]["golden"].as_str() else { continue };
        if !over_fixtures || !at_fixture_time || spec.get("tables").is_some() {
            continue;
        }
        let rule = spec["rule"].as_str().unwrap();
        let stem = std::path::Path::new(rule)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".corrected.kql", "")
            .replace(".kql", "");
        let Some(want) = expected.get(&stem) else {
            unmatched.push(stem);
            continue;
        };
        let g: Value = serde_json::from_str(&std::fs::read_to_string(tests_dir.join(golden)).unwrap()).unwrap();
        let gcols: Vec<&str> = g["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        let types: Vec<&str> = g["columns"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
        let wcols: Vec<&str> =
            want["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        if gcols != wcols {
            problems.push(format!("{golden}: columns {gcols:?}, the generator's {wcols:?}"));
            continue;
        }
        let grows = g["rows"].as_array().unwrap();
        let wrows = want["rows"].as_array().unwrap();
        if grows.len() != wrows.len() {
            problems.push(format!("{golden}: {} rows, the generator's {}", grows.len(), wrows.len()));
            continue;
        }
        let row_eq = |a: &Value, b: &Value| {
            let (a, b) = (a.as_array().unwrap(), b.as_array().unwrap());
            a.len() == b.len() && a.iter().zip(b).zip(&types).all(|((x, y), t)| golden_cell_eq(x, y, t))
        };
        // groups of rows to compare as multisets: runs of equal sort keys when ordered, else all
        let groups: Vec<std::ops::Range<usize>> = if want["ordered"] == true {
            let keys: Vec<usize> = want["sort_keys"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|k| wcols.iter().position(|c| *c == k["column"].as_str().unwrap()))
                .collect();
            let key_of = |r: &Value| keys.iter().map(|&i| r[i].clone()).collect::<Vec<_>>();
            let mut out = Vec::new();
            let mut start = 0;
            for i in 1..=wrows.len() {
                if i == wrows.len() || key_of(&wrows[i]) != key_of(&wrows[start]) {
                    out.push(start..i);
                    start = i;
                }
            }
            out
        } else {
            let all_rows = 0..wrows.len();
            vec![all_rows]
        };
        for range in groups {
            let mut used = vec![false; range.len()];
            for w in &wrows[range.clone()] {
                match (range.start..range.end).find(|&k| !used[k - range.start] && row_eq(&grows[k], w)) {
                    Some(k) => used[k - range.start] = true,
                    None => {
                        problems.push(format!(
                            "{golden}: the generator's row {w} is not in rows {}..{} of the golden file{}",
                            range.start + 1,
                            range.end,
                            if want["ordered"] == true { " (ordered: it must be at its place)" } else { "" }
                        ));
                        break;
                    }
                }
            }
        }
        checked += 1;
        cells += grows.len() * gcols.len();
    }
    crate::common::report(&format!(
        "rule pack: {checked} golden files over the fixtures hold the generator's answers ({cells} values); \
         {} have no generator answer: {}",
        unmatched.len(),
        unmatched.join(", ")
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 20, "only {checked} golden files checked");
}

/// A golden value against the generator's, for a column of KQL type `ty`.
fn golden_cell_eq(g: &serde_json::Value, w: &serde_json::Value, ty: &str) -> bool {
    use serde_json::Value;
    match ty {
        "datetime" => crate::common::cell_eq(w, g, "DateTime"),
        "timespan" => crate::common::cell_eq(w, g, "TimeSpan"),
        "real" | "decimal" => crate::common::cell_eq(w, g, "Double"),
        "dynamic" => match (g, w) {
            // make_set's order is not defined: arrays compare as multisets
            (Value::Array(a), Value::Array(b)) => {
                let mut used = vec![false; b.len()];
                a.len() == b.len()
                    && a.iter().all(|x| {
                        match b.iter().enumerate().position(|(k, y)| !used[k] && crate::common::dyn_eq(x, y)) {
                            Some(k) => {
                                used[k] = true;
                                true
                            }
                            None => false,
                        }
                    })
            }
            _ => crate::common::dyn_eq(g, w),
        },
        _ => g == w || crate::common::num(g).zip(crate::common::num(w)).is_some_and(|(a, b)| a == b),
    }
}

/// A replay computes the row-local start of a rule's query (its leading filters and computed
/// columns) once for all runs (`rule_pack::shared_prefix`): every detection of the pack, run
/// hourly over three days, gives the same runs, rows, alerts and incidents as computing each
/// run from the tables.
#[test]
fn a_replay_shares_the_start_of_each_query_and_answers_the_same() {
    use rule_pack::runner::{replay_rule_with, RunOptions};
    let mut session = fixture_session();
    let now = kql_exec::value::datetime::parse_datetime("2025-10-21T15:00:00Z").unwrap();
    let day = 864_000_000_000i64;
    let dir = pack_dir().join("genai-security/detections");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    let mut files = rule_pack::pack::runnable(files);
    files.sort();
    let mut shared = 0;
    for f in &files {
        let mut rule = rule_pack::pack::load_pack_rule(f).unwrap();
        rule.query_frequency = Some("1h".into());
        let catalog = session.catalog.clone();
        if rule_pack::shared_prefix::split(
            &rule.query,
            "__s",
            |t| catalog.has_table(t),
            |n| catalog.function(n).is_some(),
        )
        .is_some()
        {
            shared += 1;
        }
        let opts = RunOptions { max_events: Some(0), ..Default::default() };
        let runs = |session: &mut kql_exec::session::Session, separate: bool| {
            let rep = replay_rule_with(
                session,
                &rule,
                now - 3 * day,
                now,
                &RunOptions { separate_runs: separate, ..opts.clone() },
                |_| {},
            )
            .unwrap_or_else(|e| panic!("{}: {}", f.display(), e.message));
            let runs: Vec<(i64, usize, bool, usize, usize)> =
                rep.runs.iter().map(|r| (r.now, r.rows, r.fired, r.alerts, r.incidents)).collect();
            (runs, rep.incidents.len())
        };
        let together = runs(&mut session, false);
        let apart = runs(&mut session, true);
        assert_eq!(together, apart, "{}", f.display());
        assert_eq!(together.0.len(), 72);
        assert!(!session.catalog.has_table("__kql_replay_shared"), "the shared table is dropped after the replay");
    }
    crate::common::report(&format!(
        "replay: {shared} of {} pack detections share the start of their query",
        files.len()
    ));
    assert!(shared >= 4, "{shared}");
}
