//! Alerts with their events, `SecurityAlert`/`SecurityIncident` records, incidents and
//! suppression, tests written inline (`cases`, `tables`), starter tests, and packs laid out as
//! Sentinel content.

use rule_pack::rule::Rule;
use rule_pack::runner::{run_rule_with, RunOptions};
use rule_pack::scheduler::Scheduler;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn ts(s: &str) -> i64 {
    kql_exec::value::datetime::parse_datetime(s).unwrap()
}

const HOUR: i64 = 36_000_000_000;

fn session() -> kql_exec::Session {
    use kql_exec::session::{Catalog, Session, SessionOptions};
    Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap()
}

/// A blocked prompt of `user` from `ip` at `time`, as a ContainerLogV2 row.
fn blocked(time: &str, user: &str, ip: &str) -> serde_json::Map<String, Value> {
    json!({
        "TimeGenerated": time,
        "Computer": "aks-node-1",
        "LogMessage": {
            "security_check_passed": "FAIL",
            "end_user_id": user,
            "source_ip": ip,
            "application_name": "support-bot"
        }
    })
    .as_object()
    .unwrap()
    .clone()
}

fn example_rule() -> Rule {
    rule_pack::rule::load_rule(&root().join("examples/rules/genai-jailbreak-per-user.yaml")).unwrap()
}

/// Rows: u1 blocked 4 times at 14:0x from one IP, u2 3 times, u3 twice (below the rule's 3).
fn three_users() -> Vec<serde_json::Map<String, Value>> {
    let mut rows = Vec::new();
    for m in 0..4 {
        rows.push(blocked(&format!("2025-10-21T14:0{m}:00Z"), "u1", "198.51.100.1"));
    }
    for m in 0..3 {
        rows.push(blocked(&format!("2025-10-21T14:1{m}:00Z"), "u2", "198.51.100.2"));
    }
    for m in 0..2 {
        rows.push(blocked(&format!("2025-10-21T14:2{m}:00Z"), "u3", "198.51.100.3"));
    }
    rows
}

#[test]
fn every_alert_carries_its_events() {
    let mut s = session();
    rule_pack::testing::add_inline_table(&mut s, "ContainerLogV2", &three_users()).unwrap();
    let rule = example_rule();
    let run = run_rule_with(&mut s, &rule, ts("2025-10-21T15:00:00Z"), &RunOptions::default()).unwrap();
    // AlertPerResult: one alert per result row, each with that row as its event
    assert_eq!(run.rows, 2);
    assert_eq!(run.alerts.len(), 2);
    let mut seen = Vec::new();
    for a in &run.alerts {
        assert_eq!(a.rows, 1);
        assert_eq!(a.events.len(), 1);
        assert!(!a.events_truncated);
        let e = &a.events[0];
        let user = e["end_user_id"].as_str().unwrap().to_string();
        assert_eq!(a.display_name, format!("{} content-safety failures by {user} on support-bot", e["Failures"]));
        assert_eq!(a.custom_details["Failures"], vec![e["Failures"].to_string()]);
        // the alert's activity spans its events' window (the bin start is TimeGenerated)
        assert_eq!(a.start_time, "2025-10-21T14:00:00.0000000Z");
        seen.push((user, e["Failures"].as_i64().unwrap()));
    }
    seen.sort();
    assert_eq!(seen, [("u1".to_string(), 4), ("u2".to_string(), 3)]);

    // one alert for all rows, its events cut to the first N, with the count kept
    let mut single = rule.clone();
    single.event_grouping_settings = None;
    let run = run_rule_with(
        &mut s,
        &single,
        ts("2025-10-21T15:00:00Z"),
        &RunOptions { max_events: Some(1), ..Default::default() },
    )
    .unwrap();
    assert_eq!(run.alerts.len(), 1);
    let a = &run.alerts[0];
    assert_eq!((a.rows, a.events.len(), a.events_truncated), (2, 1, true));
    assert_eq!(a.entities.len(), 4, "both users' accounts and IPs: {:?}", a.entities);
    let j = serde_json::to_value(a).unwrap();
    assert_eq!(j["events"].as_array().unwrap().len(), 1);
    assert_eq!(j["rows"], 2);
    assert_eq!(j["events_truncated"], true);
    // the event keeps the result's column order
    let cols: Vec<&String> = a.events[0].keys().collect();
    assert_eq!(
        cols,
        ["end_user_id", "source_ip", "application_name", "TimeGenerated", "Failures", "FirstSeen", "LastSeen"]
    );
}

#[test]
fn alerts_per_result_stop_at_150_with_the_rest_in_the_last() {
    let mut s = session();
    let rows: Vec<_> = (0..160)
        .flat_map(|k| (0..3).map(move |m| blocked(&format!("2025-10-21T14:0{m}:00Z"), &format!("user{k}"), "10.0.0.1")))
        .collect();
    rule_pack::testing::add_inline_table(&mut s, "ContainerLogV2", &rows).unwrap();
    let run = run_rule_with(&mut s, &example_rule(), ts("2025-10-21T15:00:00Z"), &RunOptions::default()).unwrap();
    assert_eq!(run.rows, 160);
    assert_eq!(run.alerts.len(), 150);
    assert!(run.alerts[..149].iter().all(|a| a.rows == 1));
    assert_eq!(run.alerts[149].rows, 11);
}

/// Alerts written as `SecurityAlert` and incidents as `SecurityIncident` rows load under the
/// built-in schemas of those tables and answer queries the way Sentinel's own rows would.
#[test]
fn alert_and_incident_records_query_back() {
    let mut s = session();
    rule_pack::testing::add_inline_table(&mut s, "ContainerLogV2", &three_users()).unwrap();
    let rule = example_rule();
    let mut sched = Scheduler::new(RunOptions::default());
    let run = sched.run(&mut s, &rule, ts("2025-10-21T15:00:00Z")).unwrap().unwrap();
    assert_eq!(sched.incidents.len(), 2, "grouping off: an incident per alert");
    let dir = std::env::temp_dir().join(format!("kql-alert-records-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let alerts: String = run
        .alerts
        .iter()
        .map(|a| Value::Object(rule_pack::records::security_alert(&rule, &run, a)).to_string() + "\n")
        .collect();
    let incidents: String = sched
        .incidents
        .iter()
        .map(|i| Value::Object(rule_pack::records::security_incident(i)).to_string() + "\n")
        .collect();
    std::fs::write(dir.join("SecurityAlert.jsonl"), alerts).unwrap();
    std::fs::write(dir.join("SecurityIncident.jsonl"), incidents).unwrap();
    let mut q = session();
    for t in ["SecurityAlert", "SecurityIncident"] {
        let schema = q.catalog.schemas().table(t).cloned().unwrap();
        // every column written is a column of the published schema
        let text = std::fs::read_to_string(dir.join(format!("{t}.jsonl"))).unwrap();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            for k in v.as_object().unwrap().keys() {
                assert!(schema.columns.iter().any(|(n, _)| n == k), "{t} has no column {k}");
            }
        }
        let loaded = kql_exec::load::load_table(
            t,
            &[dir.join(format!("{t}.jsonl"))],
            Some(&schema),
            &kql_exec::load::LoadOptions { strict: true, ..Default::default() },
        )
        .unwrap();
        assert_eq!(loaded.report.bad_values, 0);
        q.add_batches(t, loaded.cols, loaded.batches).unwrap();
    }
    let r = q
        .query(
            "SecurityAlert
             | extend P = parse_json(ExtendedProperties), E = parse_json(Entities), D = parse_json(tostring(parse_json(ExtendedProperties)['Custom Details']))
             | project AlertName, AlertSeverity, ProviderName, Rule = tostring(P['Analytic Rule Name']),
                 Count = toint(P['Search Query Results Overall Count']), Account = tostring(E[0].Name), AccountType = tostring(E[0].Type),
                 Failures = tostring(D.Failures[0]), Tactics, Techniques = tostring(parse_json(Techniques)[0]), StartTime
             | order by AlertName asc",
        )
        .unwrap();
    let rows = kql_exec::output::rows_json(&r);
    assert_eq!(
        rows[0],
        vec![
            json!("3 content-safety failures by u2 on support-bot"),
            json!("Medium"),
            json!("ASI Scheduled Alerts"),
            json!("GenAI content-safety failures by user"),
            json!(2),
            json!("u2"),
            json!("account"),
            json!("3"),
            json!("InitialAccess"),
            json!("T1190"),
            json!("2025-10-21T14:00:00.0000000Z"),
        ]
    );
    assert_eq!(rows.len(), 2);
    // each incident lists its alert, by SystemAlertId
    let r = q
        .query(
            "SecurityIncident | mv-expand AlertId = AlertIds to typeof(string)
             | join kind=inner (SecurityAlert) on $left.AlertId == $right.SystemAlertId
             | project IncidentNumber, Title, AlertName | order by IncidentNumber asc",
        )
        .unwrap();
    let rows = kql_exec::output::rows_json(&r);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[1] == r[2]), "{rows:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The example rule with another incident configuration (YAML as published rules write it).
fn rule_with(extra: &str) -> Rule {
    let text = std::fs::read_to_string(root().join("examples/rules/genai-jailbreak-per-user.yaml")).unwrap();
    // without the example's own incident configuration (it comes last)
    let base = text.split("incidentConfiguration:").next().unwrap();
    let dir = std::env::temp_dir().join(format!("kql-rule-{}-{}", std::process::id(), extra.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("rule.yaml");
    std::fs::write(&p, format!("{base}{extra}")).unwrap();
    let r = rule_pack::rule::load_rule(&p).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// Hourly runs over 6 hours in which u1 fails every hour and u2 in hours 1 and 4: the incidents
/// opened under each grouping setting, counted by hand from Microsoft's description.
#[test]
fn alert_grouping_into_incidents() {
    let mut rows = Vec::new();
    for h in 0..6 {
        for m in 0..3 {
            rows.push(blocked(&format!("2025-10-21T0{h}:1{m}:00Z"), "u1", "198.51.100.1"));
            if h == 1 || h == 4 {
                rows.push(blocked(&format!("2025-10-21T0{h}:2{m}:00Z"), "u2", "198.51.100.2"));
            }
        }
    }
    let incidents = |extra: &str| {
        let mut rule = rule_with(extra);
        // each run sees the last hour only
        rule.query_period = Some("1h".into());
        let mut s = session();
        rule_pack::testing::add_inline_table(&mut s, "ContainerLogV2", &rows).unwrap();
        let replay = rule_pack::runner::replay_rule(
            &mut s,
            &rule,
            ts("2025-10-21T00:00:00Z"),
            ts("2025-10-21T06:00:00Z"),
            |_| {},
        )
        .unwrap();
        assert_eq!(replay.alerts(), 8, "{extra}");
        // alerts per incident, largest first (alerts of one run come in no set order)
        let mut sizes: Vec<usize> = replay.incidents.iter().map(|i| i.alert_ids.len()).collect();
        sizes.sort_by(|a, b| b.cmp(a));
        sizes
    };
    // no configuration: an incident per alert
    assert_eq!(incidents(""), vec![1; 8]);
    // grouping off
    let off = "incidentConfiguration:\n  createIncident: true\n  groupingConfiguration:\n    enabled: false\n";
    assert_eq!(incidents(off), vec![1; 8]);
    // no incidents at all
    assert!(incidents("incidentConfiguration:\n  createIncident: false\n").is_empty());
    let grouping = |method: &str, lookback: &str, more: &str| {
        format!(
            "incidentConfiguration:\n  createIncident: true\n  groupingConfiguration:\n    enabled: true\n    reopenClosedIncident: false\n    lookbackDuration: {lookback}\n    matchingMethod: {method}\n{more}"
        )
    };
    // every alert of the rule less than 5h after the incident opened: u1 at 1..5h and u2 at 2h,
    // 5h join the incident opened at 1h; u1 at 6h (5h after) opens another
    assert_eq!(incidents(&grouping("AnyAlert", "5h", "")), vec![7, 1]);
    // all entities must match: u1 (1h..5h), u1 at 6h, u2 (2h, 5h)
    assert_eq!(incidents(&grouping("AllEntities", "5h", "")), vec![5, 2, 1]);
    // a 2-hour lookback: u1 at 1-2h, 3-4h, 5-6h; u2 at 2h; u2 at 5h
    assert_eq!(incidents(&grouping("AllEntities", "PT2H", "")), vec![2, 2, 2, 1, 1]);
    // selected: the alert's display name (it names the user and the count; u1's count is 3)
    let sel = grouping("Selected", "1d", "    groupByEntities: []\n    groupByAlertDetails:\n    - DisplayName\n");
    assert_eq!(incidents(&sel), vec![6, 2]);
    // selected: a custom detail shared by all alerts
    let sel = grouping("Selected", "1d", "    groupByCustomDetails:\n    - Application\n");
    assert_eq!(incidents(&sel), vec![8]);
    // selected: the IP entity only
    let sel = grouping("Selected", "1d", "    groupByEntities:\n    - IP\n");
    assert_eq!(incidents(&sel), vec![6, 2]);
}

/// Analysts close incidents (`close_incidents_after`): a later matching alert reopens the
/// closed incident when the rule says `reopenClosedIncident: true`, and opens a new incident
/// when it does not. u1 alerts every hour (its incident never stays quiet long enough to
/// close), u2 at 2h and 5h.
#[test]
fn closed_incidents_reopen_or_not() {
    let mut rows = Vec::new();
    for h in 0..6 {
        for m in 0..3 {
            rows.push(blocked(&format!("2025-10-21T0{h}:1{m}:00Z"), "u1", "198.51.100.1"));
            if h == 1 || h == 4 {
                rows.push(blocked(&format!("2025-10-21T0{h}:2{m}:00Z"), "u2", "198.51.100.2"));
            }
        }
    }
    let incidents = |reopen: bool, close_after_minutes: Option<i64>| {
        let mut rule = rule_with(&format!(
            "incidentConfiguration:\n  createIncident: true\n  groupingConfiguration:\n    enabled: true\n    reopenClosedIncident: {reopen}\n    lookbackDuration: 1d\n    matchingMethod: AllEntities\n"
        ));
        rule.query_period = Some("1h".into());
        let mut s = session();
        rule_pack::testing::add_inline_table(&mut s, "ContainerLogV2", &rows).unwrap();
        let opts =
            RunOptions { close_incidents_after: close_after_minutes.map(|m| m * 600_000_000), ..Default::default() };
        let replay = rule_pack::runner::replay_rule_with(
            &mut s,
            &rule,
            ts("2025-10-21T00:00:00Z"),
            ts("2025-10-21T06:00:00Z"),
            &opts,
            |_| {},
        )
        .unwrap();
        assert_eq!(replay.alerts(), 8);
        let mut sizes: Vec<usize> = replay.incidents.iter().map(|i| i.alert_ids.len()).collect();
        sizes.sort_by(|a, b| b.cmp(a));
        let reopened: u32 = replay.incidents.iter().map(|i| i.reopened).sum();
        (sizes, reopened)
    };
    // nobody closes incidents: the setting changes nothing
    assert_eq!(incidents(false, None), (vec![6, 2], 0));
    assert_eq!(incidents(true, None), (vec![6, 2], 0));
    // closed 2h after their last alert: u2's incident is closed when u2 alerts again at 5h
    assert_eq!(incidents(false, Some(120)), (vec![6, 1, 1], 0));
    assert_eq!(incidents(true, Some(120)), (vec![6, 2], 1));
    // closed after 30 minutes: every later alert finds its incident closed
    assert_eq!(incidents(false, Some(30)), (vec![1; 8], 0));
    assert_eq!(incidents(true, Some(30)), (vec![6, 2], 6));
}

#[test]
fn suppression_skips_runs_after_an_alert() {
    let mut rows = Vec::new();
    for h in 0..6 {
        for m in 0..3 {
            rows.push(blocked(&format!("2025-10-21T0{h}:1{m}:00Z"), "u1", "198.51.100.1"));
        }
    }
    let mut rule = rule_with("suppressionEnabled: true\nsuppressionDuration: PT2H30M\n");
    rule.query_period = Some("1h".into());
    assert_eq!(rule.suppression_ticks(), Some(25 * HOUR / 10));
    let mut s = session();
    rule_pack::testing::add_inline_table(&mut s, "ContainerLogV2", &rows).unwrap();
    let replay =
        rule_pack::runner::replay_rule(&mut s, &rule, ts("2025-10-21T00:00:00Z"), ts("2025-10-21T06:00:00Z"), |_| {})
            .unwrap();
    // runs at 1..6h: alert at 1h, suppressed until 3:30 (2h, 3h skipped), alert at 4h, 5h and 6h skipped
    let pattern: Vec<char> = replay
        .runs
        .iter()
        .map(|r| {
            if r.suppressed {
                '-'
            } else if r.alerts > 0 {
                'A'
            } else {
                '.'
            }
        })
        .collect();
    assert_eq!(pattern.iter().collect::<String>(), "A--A--");
    assert_eq!(replay.suppressed(), 4);
    assert_eq!(replay.per_day(), vec![("2025-10-21".to_string(), 2, 2, 2)]);
}

/// Microsoft's ingestion-delay example: a rule running every 5 minutes over the last 5 misses an
/// event that arrives 2 minutes late (not there yet at the first run, outside the window at the
/// next); looking back 5 + 2 minutes catches it.
#[test]
fn ingestion_delay_hides_late_rows_until_the_window_covers_them() {
    let rows = vec![blocked("2025-10-21T00:09:00Z", "u1", "198.51.100.1")];
    let alerts_with = |period: &str, opts: RunOptions| {
        let text = format!(
            "// name: blocked prompt\n// frequency: 5m\n// period: {period}\nContainerLogV2 | where LogMessage.security_check_passed == 'FAIL'"
        );
        let rule = rule_pack::rule::rule_from_kql(Path::new("blocked.kql"), &text);
        let mut s = session();
        rule_pack::testing::add_inline_table(&mut s, "ContainerLogV2", &rows).unwrap();
        let replay = rule_pack::runner::replay_rule_with(
            &mut s,
            &rule,
            ts("2025-10-21T00:00:00Z"),
            ts("2025-10-21T00:30:00Z"),
            &opts,
            |_| {},
        )
        .unwrap();
        replay
            .runs
            .iter()
            .filter(|r| r.alerts > 0)
            .map(|r| kql_exec::value::datetime::format_datetime_iso(r.now))
            .collect::<Vec<_>>()
    };
    let alerts = |period: &str, delay_minutes: i64| {
        alerts_with(period, RunOptions { ingestion_delay: delay_minutes * 600_000_000, ..Default::default() })
    };
    assert_eq!(alerts("5m", 0), ["2025-10-21T00:10:00.0000000Z"]);
    assert!(alerts("5m", 2).is_empty());
    assert_eq!(alerts("7m", 2), ["2025-10-21T00:15:00.0000000Z"]);
    // each data source has its own delay: the rule's table's delay counts, another's does not
    let table_delay = |table: &str| {
        let mut o = RunOptions::default();
        o.table_delays.insert(table.to_string(), 2 * 600_000_000);
        o
    };
    assert!(alerts_with("5m", table_delay("ContainerLogV2")).is_empty());
    assert_eq!(alerts_with("7m", table_delay("ContainerLogV2")), ["2025-10-21T00:15:00.0000000Z"]);
    assert_eq!(alerts_with("5m", table_delay("SigninLogs")), ["2025-10-21T00:10:00.0000000Z"]);
    // a table's own delay replaces the default one
    let mut o = table_delay("ContainerLogV2");
    o.table_delays.insert("ContainerLogV2".into(), 0);
    o.ingestion_delay = 2 * 600_000_000;
    assert_eq!(alerts_with("5m", o), ["2025-10-21T00:10:00.0000000Z"]);
}

#[test]
fn nrt_rules_run_every_minute_over_the_last_minute() {
    let rule = rule_with("");
    let mut nrt = rule.clone();
    nrt.kind = "NRT".into();
    nrt.query_frequency = None;
    nrt.query_period = None;
    assert_eq!(nrt.frequency_ticks(), Some(600_000_000));
    assert_eq!(nrt.period_ticks(), Some(600_000_000));
    assert_eq!(rule_pack::runner::schedule(&nrt, 0, 3_600_000_000).len(), 6);
}

#[test]
fn durations_read_kql_and_iso_8601() {
    use rule_pack::rule::parse_duration;
    assert_eq!(parse_duration("5h"), Some(5 * HOUR));
    assert_eq!(parse_duration("PT5H"), Some(5 * HOUR));
    assert_eq!(parse_duration("P1D"), Some(24 * HOUR));
    assert_eq!(parse_duration("PT1H30M"), Some(15 * HOUR / 10));
    assert_eq!(parse_duration("P1DT2H"), Some(26 * HOUR));
    assert_eq!(parse_duration("P1M"), None);
    assert_eq!(parse_duration("PT"), None);
    assert_eq!(parse_duration("soon"), None);
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kql-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A test written in minutes: the rule, rows inline, named cases with expectations.
const INLINE_TEST: &str = r#"
rule: rule.yaml
now: 2025-10-21T15:00:00Z
tables:
  ContainerLogV2:
    - { TimeGenerated: 2025-10-21T14:01:00Z, LogMessage: { security_check_passed: FAIL, end_user_id: u1, source_ip: 198.51.100.1, application_name: bot } }
    - { TimeGenerated: 2025-10-21T14:02:00Z, LogMessage: { security_check_passed: FAIL, end_user_id: u1, source_ip: 198.51.100.1, application_name: bot } }
    - { TimeGenerated: 2025-10-21T14:03:00Z, LogMessage: { security_check_passed: FAIL, end_user_id: u1, source_ip: 198.51.100.1, application_name: bot } }
cases:
  - name: fires on three blocked prompts
    expect:
      alerts: 1
      incidents: 1
      display_name: 3 content-safety failures by u1 on bot
      severity: Medium
      rows:
        exact:
          - { end_user_id: u1, Failures: 3, FirstSeen: 2025-10-21T14:01:00Z, TimeGenerated: 2025-10-21T14:00:00Z }
      entities:
        - { type: Account, Name: u1 }
        - { type: IP, Address: 198.51.100.1 }
      custom_details: { Application: bot, Failures: 3 }
  - name: stays quiet on two
    tables:
      ContainerLogV2:
        - { TimeGenerated: 2025-10-21T14:01:00Z, LogMessage: { security_check_passed: FAIL, end_user_id: u1 } }
        - { TimeGenerated: 2025-10-21T14:02:00Z, LogMessage: { security_check_passed: FAIL, end_user_id: u1 } }
    expect:
      alerts: 0
      rows: { count: 0 }
  - name: a day later the prompts are out of the window
    now: 2025-10-22T15:00:00Z
    expect: { alerts: 0 }
"#;

fn write_inline_test(name: &str, text: &str) -> PathBuf {
    let d = temp_dir(name);
    std::fs::copy(root().join("examples/rules/genai-jailbreak-per-user.yaml"), d.join("rule.yaml")).unwrap();
    let p = d.join("rule.test.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn inline_tests_with_named_cases_pass() {
    let p = write_inline_test("inline-pass", INLINE_TEST);
    let outcomes = rule_pack::testing::run_test_cases(&p, false);
    let names: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rule / fires on three blocked prompts",
            "rule / stays quiet on two",
            "rule / a day later the prompts are out of the window"
        ]
    );
    for o in &outcomes {
        assert!(o.failure.is_none(), "{}: {}", o.name, o.failure.clone().unwrap_or_default());
    }
}

#[test]
fn failing_inline_expectations_show_a_readable_diff() {
    let text = INLINE_TEST
        .replace("alerts: 1\n", "alerts: 2\n")
        .replace("Failures: 3, FirstSeen", "Failures: 4, FirstSeen")
        .replace("Name: u1 }", "Name: u9 }")
        .replace("on bot\n", "on the bot\n")
        .replace("custom_details: { Application: bot, Failures: 3 }", "custom_details: { Application: chat }");
    let p = write_inline_test("inline-fail", &text);
    let outcomes = rule_pack::testing::run_test_cases(&p, false);
    let f = outcomes[0].failure.clone().expect("fails");
    assert!(f.contains("expected 2 alert(s), got 1"), "{f}");
    assert!(f.contains("alert \"3 content-safety failures by u1 on bot\" [Medium] rows=1"), "{f}");
    assert!(
        f.contains("  - {\"end_user_id\":\"u1\",\"Failures\":4,\"FirstSeen\":\"2025-10-21T14:01:00Z\""),
        "the expected row, marked missing: {f}"
    );
    assert!(
        f.contains("  + {\"end_user_id\":\"u1\",\"Failures\":3,\"FirstSeen\":\"2025-10-21T14:01:00.0000000Z\""),
        "the returned row, on the expected row's columns: {f}"
    );
    assert!(f.contains("no alert has the entity {\"type\":\"Account\",\"Name\":\"u9\"}"), "{f}");
    assert!(f.contains("no alert is named \"3 content-safety failures by u1 on the bot\""), "{f}");
    assert!(f.contains("no alert has custom detail Application = \"chat\""), "{f}");
    assert!(outcomes[1].failure.is_none());
}

#[test]
fn bad_inline_input_is_a_clear_error() {
    // a column the table does not have
    let p = write_inline_test(
        "inline-badcol",
        &INLINE_TEST.replace(
            "LogMessage: { security_check_passed: FAIL, end_user_id: u1, source",
            "LogMesage: { security_check_passed: FAIL, end_user_id: u1, source",
        ),
    );
    let f = rule_pack::testing::run_test_cases(&p, false)[0].failure.clone().unwrap();
    assert!(
        f.contains(
            "table `ContainerLogV2`, row 1: `ContainerLogV2` has no column `LogMesage`; did you mean `LogMessage`?"
        ),
        "{f}"
    );
    // a value of the wrong type
    let p = write_inline_test(
        "inline-badval",
        &INLINE_TEST.replacen("TimeGenerated: 2025-10-21T14:01:00Z", "TimeGenerated: yesterday", 1),
    );
    let f = rule_pack::testing::run_test_cases(&p, false)[0].failure.clone().unwrap();
    assert!(f.contains("ContainerLogV2") && f.contains("yesterday"), "{f}");
    // a misspelt expectation
    let p = write_inline_test("inline-badkey", &INLINE_TEST.replace("      incidents: 1\n", "      incident: 1\n"));
    let f = rule_pack::testing::run_test_cases(&p, false)[0].failure.clone().unwrap();
    assert!(f.contains("invalid test file") && f.contains("unknown field `incident`") && f.contains(":13:"), "{f}");
}

#[test]
fn a_starter_test_is_written_from_the_rule() {
    let d = temp_dir("starter");
    let rule = d.join("jailbreak.yaml");
    std::fs::copy(root().join("examples/rules/genai-jailbreak-per-user.yaml"), &rule).unwrap();
    let (path, text) = rule_pack::testing::starter_test(&rule, ts("2025-10-21T15:00:00Z")).unwrap();
    assert_eq!(path, d.join("jailbreak.test.yaml"));
    assert!(text.contains("rule: jailbreak.yaml\nnow: 2025-10-21T15:00:00.0000000Z\n"), "{text}");
    assert!(text.contains("      ContainerLogV2:\n        - { "), "{text}");
    assert!(
        text.contains(
            "        - { TimeGenerated: 2025-10-21T14:50:00.0000000Z, LogMessage: { security_check_passed: \"example\", end_user_id: \"example\", source_ip: \"example\", application_name: \"example\" } }"
        ),
        "{text}"
    );
    assert!(text.contains("      ContainerLogV2: []\n"), "{text}");
    std::fs::write(&path, &text).unwrap();
    let outcomes = rule_pack::testing::run_test_cases(&path, false);
    assert_eq!(outcomes.len(), 2);
    // the placeholder row does not fire: the first case says so until its rows are filled in
    assert!(
        outcomes[0].failure.as_deref().unwrap_or("").contains("expected 1 alert(s), got 0"),
        "{:?}",
        outcomes[0].failure
    );
    assert!(outcomes[1].failure.is_none(), "{:?}", outcomes[1].failure);
}

fn pack() -> rule_pack::pack::Pack {
    rule_pack::pack::load_pack(&root().join("rule-pack/packs/genai-security")).unwrap().expect("a pack")
}

#[test]
fn the_pack_is_laid_out_as_sentinel_content_with_its_settings() {
    let p = pack();
    assert_eq!(p.name, "GenAI security");
    assert!(p.geoip_file().unwrap().is_file());
    assert_eq!(p.externaldata_files().len(), 1);
    let files = rule_pack::source::collect_rule_files(&[p.detections_dir()]).unwrap();
    let runnable = rule_pack::pack::runnable(files.clone());
    let names =
        |v: &[PathBuf]| v.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect::<Vec<_>>();
    assert_eq!(files.len(), 11);
    assert_eq!(
        names(&runnable),
        [
            "corr1_failed_genai_and_signin.corrected.kql",
            "corr2_applogs_and_defender_alerts.kql",
            "corr3_threat_intel_ip.kql",
            "rule1_prompt_injection.kql",
            "rule2_content_safety.kql",
            "rule3_rate_limit_abuse.corrected.kql",
            "rule4_anomalous_source_ip.corrected.kql",
            "rule5_coordinated_attack.kql",
        ]
    );
    // the whole pack: 26 published queries, 6 corrected versions, and no other rule files
    let all = rule_pack::source::collect_rule_files(std::slice::from_ref(&p.dir)).unwrap();
    assert_eq!(all.len(), 32, "{:?}", names(&all));
    assert_eq!(all.iter().filter(|f| rule_pack::pack::is_corrected(f)).count(), 6);
}

/// `kql ARGS` in the workspace root, with the binary of this build (never skipped: see
/// [`crate::common::kql_bin`]).
fn kql(args: &[&str]) -> Option<(i32, String, String)> {
    let bin = crate::common::kql_bin();
    let out = std::process::Command::new(bin).args(args).current_dir(root()).output().unwrap();
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// The README's first command: the pack's detections over the example logs, cleanly (no
/// errors, no warnings), each firing detection with its alert and events; the alerts written
/// as SecurityAlert records query back with `--table SecurityAlert=FILE`.
#[test]
fn the_readme_first_command_runs_the_pack_cleanly() {
    let d = temp_dir("readme-run");
    let alerts = d.join("alerts.jsonl");
    let incidents = d.join("incidents.jsonl");
    let a = alerts.to_string_lossy().into_owned();
    let i = incidents.to_string_lossy().into_owned();
    let args = [
        "run",
        "rule-pack/packs/genai-security",
        "examples/rules",
        "--data",
        "examples/data",
        "--now",
        "2025-10-21T15:00:00Z",
        "--alerts-out",
        &a,
        "--incidents-out",
        &i,
    ];
    let Some((code, out, err)) = kql(&args) else { return };
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("error") && !err.contains("warning"), "{err}");
    // 8 pack detections and the example rule, each run once
    assert_eq!(out.lines().filter(|l| l.starts_with("2025-10-21T15:00:00.0000000Z  ")).count(), 9, "{out}");
    // the detections carry the pack's settings: names, severities, entities, display names
    assert!(out.contains("Rate-limit abuse of the OpenAI endpoint (corrected)  rows=25"), "{out}");
    assert!(out.contains("    alert: 4 prompt-injection attempts from 203.0.113.190 [High] rows=1"), "{out}");
    assert!(out.contains("Account:user_2a29c87f, IP:10.30.4.1"), "{out}");
    assert!(out.contains("    alert: "), "{out}");
    assert!(out.contains("events (--events N shows more)") || out.contains(" row"), "{out}");
    let n_alerts = out.lines().filter(|l| l.starts_with("    alert: ")).count();
    let Some((code, out, err)) = kql(&[
        "query",
        "--table",
        &format!("SecurityAlert={a}"),
        "--format",
        "csv",
        "SecurityAlert | summarize count(), dcount(SystemAlertId), countif(ProductName == 'Azure Sentinel')",
    ]) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().nth(1).unwrap(), format!("{n_alerts},{n_alerts},{n_alerts}"), "{out}");
    let Some((code, out, err)) = kql(&[
        "query",
        "--table",
        &format!("SecurityIncident={i}"),
        "--format",
        "csv",
        "SecurityIncident | summarize sum(array_length(AlertIds))",
    ]) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().nth(1).unwrap(), n_alerts.to_string(), "{out}");
    let _ = std::fs::remove_dir_all(&d);
}

/// `--format jsonl`: a line per alert, each with its events.
#[test]
fn jsonl_alerts_carry_events() {
    let Some((code, out, err)) = kql(&[
        "run",
        "examples/rules",
        "--data",
        "examples/data",
        "--now",
        "2025-10-21T15:00:00Z",
        "--format",
        "jsonl",
        "--events",
        "1",
    ]) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty());
    for a in &lines {
        assert_eq!(a["events"].as_array().unwrap().len(), 1, "{a}");
        assert_eq!(a["rows"], 1);
        assert!(a["events"][0]["end_user_id"].is_string());
    }
}

/// `kql check` on the pack shows the published queries Kusto rejects, and only those.
#[test]
fn check_shows_the_rejected_originals() {
    let Some((code, out, _)) = kql(&["check", "rule-pack/packs/genai-security"]) else { return };
    assert_eq!(code, 1);
    // the file of each error (the ` --> ` line after it)
    let lines: Vec<&str> = out.lines().collect();
    let mut files: Vec<String> = lines
        .windows(2)
        .filter(|w| w[0].starts_with("error["))
        .map(|w| {
            w[1].trim()
                .trim_start_matches("--> ")
                .split(".kql:")
                .next()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    files.sort();
    files.dedup();
    assert_eq!(
        files,
        [
            "corr1_failed_genai_and_signin",
            "hunt_high_volume",
            "rule3_rate_limit_abuse",
            "rule4_anomalous_source_ip",
            "wb_geo_threat_map",
            "wb_user_sessions"
        ]
    );
    assert!(files.iter().all(|f| !f.ends_with(".corrected")), "{files:?}");
    assert!(out.contains("32 file(s) checked: 26 ok, 6 with errors"), "{out}");
}

/// The README's inline-fixture test passes, case by case.
#[test]
fn the_example_inline_test_passes() {
    let tests = rule_pack::testing::find_tests(&[root().join("examples/rules")]);
    assert_eq!(tests.len(), 1);
    let outcomes = rule_pack::testing::run_test_cases(&tests[0], false);
    assert_eq!(outcomes.len(), 3);
    for o in &outcomes {
        assert!(o.failure.is_none(), "{}: {}", o.name, o.failure.clone().unwrap_or_default());
    }
}

/// A folder inside a pack runs with the pack's settings: the hunting query that reads an
/// `externaldata` URL gets the pack's file, the corrected hunting query runs in place of the
/// rejected one, with no flags.
#[test]
fn a_folder_inside_a_pack_runs_with_the_pack_settings() {
    let Some((code, out, err)) = kql(&[
        "run",
        "rule-pack/packs/genai-security/hunting",
        "--data",
        "examples/data",
        "--now",
        "2025-10-21T15:00:00Z",
        "--events",
        "0",
    ]) else {
        return;
    };
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("error"), "{err}");
    let runs: Vec<&str> = out.lines().filter(|l| l.starts_with("2025-10-21T15:00:00.0000000Z  ")).collect();
    assert_eq!(runs.len(), 3, "{out}");
    assert!(out.contains("hunt_suspicious_prompts_externaldata  rows="), "{out}");
    assert!(out.contains("hunt_high_volume (corrected)  rows="), "{out}");
}

/// Scheduling fields Sentinel interprets are checked when a rule is read, with the field's line.
#[test]
fn bad_scheduling_fields_are_errors_at_their_line() {
    let d = temp_dir("bad-sched");
    let base = std::fs::read_to_string(root().join("examples/rules/genai-jailbreak-per-user.yaml")).unwrap();
    let cases = [
        (
            "matchingMethod: AllEntities",
            "matchingMethod: SameUser",
            "matchingMethod: `SameUser` is not one of AllEntities, AnyAlert, Selected",
        ),
        ("lookbackDuration: 1d", "lookbackDuration: a while", "lookbackDuration: `a while` is not a duration"),
        (
            "aggregationKind: AlertPerResult",
            "aggregationKind: PerRow",
            "aggregationKind: `PerRow` is not one of SingleAlert, AlertPerResult",
        ),
        ("queryPeriod: 1d", "queryPeriod: daily", "queryPeriod: `daily` is not a duration"),
    ];
    for (from, to, want) in cases {
        let text = base.replace(from, to);
        let line = text.lines().position(|l| l.contains(to)).unwrap() + 1;
        let p = d.join("rule.yaml");
        std::fs::write(&p, &text).unwrap();
        let e = rule_pack::rule::load_rule(&p).unwrap_err().to_string();
        assert!(e.contains(&format!("rule.yaml:{line}:")) && e.contains(want), "{e}");
    }
}

/// `kql replay`: totals, a line per day that adds up to them, the chart of alerts and incidents,
/// and the SecurityAlert/SecurityIncident records of every run.
#[test]
fn replay_reports_runs_alerts_and_incidents_per_day() {
    let d = temp_dir("replay-cli");
    let (a, i, c) = (d.join("alerts.jsonl"), d.join("incidents.jsonl"), d.join("chart"));
    let (a, i, c) =
        (a.to_string_lossy().into_owned(), i.to_string_lossy().into_owned(), c.to_string_lossy().into_owned());
    let Some((code, out, err)) = kql(&[
        "replay",
        "examples/rules",
        "--data",
        "examples/data",
        "--from",
        "2025-10-19T15:00:00Z",
        "--to",
        "2025-10-21T15:00:00Z",
        "--alerts-out",
        &a,
        "--incidents-out",
        &i,
        "--chart-out",
        &c,
    ]) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    let total = out.lines().find(|l| l.starts_with("GenAI content-safety failures by user: ")).expect(&out);
    let nums: Vec<usize> = total.split([' ', ',']).filter_map(|w| w.parse().ok()).collect();
    let [runs, fired, alerts, incidents] = nums[..] else { panic!("{total}") };
    assert_eq!((runs, fired), (48, 24), "{total}");
    assert!(incidents > 0 && incidents < alerts, "grouping by entities within a day: {total}");
    let days: Vec<Vec<usize>> = out
        .lines()
        .filter(|l| l.starts_with("  2025-10-"))
        .map(|l| l.split([' ', ',', ':']).filter_map(|w| w.parse().ok()).collect())
        .collect();
    assert_eq!(days.len(), 3, "{out}");
    assert_eq!(days.iter().map(|d| d[0]).sum::<usize>(), runs);
    assert_eq!(days.iter().map(|d| d[1]).sum::<usize>(), alerts);
    assert_eq!(days.iter().map(|d| d[2]).sum::<usize>(), incidents);
    assert_eq!(std::fs::read_to_string(&a).unwrap().lines().count(), alerts);
    let inc: Vec<Value> =
        std::fs::read_to_string(&i).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(inc.len(), incidents);
    assert_eq!(inc.iter().map(|x| x["AlertIds"].as_array().unwrap().len()).sum::<usize>(), alerts);
    let svg = std::fs::read_to_string(format!("{c}.svg")).unwrap();
    assert!(svg.contains("incidents: GenAI") && svg.contains("alerts: GenAI"), "both series in the chart");
    let _ = std::fs::remove_dir_all(&d);
}

/// A pack's `.kql` detections get the analytic-rule settings of `pack.yaml` (their text stays
/// as published); the same settings apply to the corrected version, named as such.
#[test]
fn pack_detections_carry_the_pack_settings() {
    let dir = root().join("rule-pack/packs/genai-security/detections");
    let r = rule_pack::pack::load_pack_rule(&dir.join("rule2_content_safety.kql")).unwrap();
    assert_eq!(r.name, "Repeated content-safety failures");
    assert_eq!(r.entity_mappings.len(), 3);
    assert!(r.alert_per_result());
    assert_eq!(r.grouping().and_then(|g| g.matching_method.clone()).as_deref(), Some("Selected"));
    // the query is the file's, unchanged
    assert_eq!(r.query, std::fs::read_to_string(dir.join("rule2_content_safety.kql")).unwrap());
    let c = rule_pack::pack::load_pack_rule(&dir.join("rule3_rate_limit_abuse.corrected.kql")).unwrap();
    assert_eq!(c.name, "Rate-limit abuse of the OpenAI endpoint (corrected)");
    // outside a pack's detections, a rule is read as it is
    let h =
        rule_pack::pack::load_pack_rule(&root().join("rule-pack/packs/genai-security/hunting/hunt_rare_failures.kql"))
            .unwrap();
    assert_eq!(h.name, "hunt_rare_failures");
    // a misspelt setting is an error naming the pack file
    let d = temp_dir("pack-settings");
    std::fs::create_dir_all(d.join("detections")).unwrap();
    std::fs::write(d.join("detections/r.kql"), "print 1").unwrap();
    std::fs::write(d.join("pack.yaml"), "detections:\n  r:\n    severity: High\n    sevrity: Low\n").unwrap();
    let e = rule_pack::pack::load_pack_rule(&d.join("detections/r.kql")).unwrap_err();
    assert!(e.contains("pack.yaml:4:5: invalid pack file") && e.contains("unknown field `sevrity`"), "{e}");
}
