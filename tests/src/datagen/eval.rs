//! Expected results of the seed queries, computed directly from the generated records with
//! Kusto's semantics (no query engine involved).
//!
//! Conventions: string columns are never null (absent = ""); `tostring()` of an absent or null
//! dynamic value is ""; `isnotempty()` of a dynamic value is false for absent, null and "";
//! `==`, `in`, `!in`, join keys and `dcount`/`make_set` are case-sensitive; `contains` and
//! `startswith` are not; `bin()` floors; `datetime_diff()` counts calendar boundaries; `avg`
//! of longs is `sum / count` in doubles; `round(x, 2)` rounds half away from zero (midpoints
//! are avoided and reported in `notes`). Rows of unordered results are listed in the order of
//! first appearance in the scan (ContainerLogV2.jsonl order); `make_set` lists values in that
//! order too, but tests should compare sets as multisets.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Value};

use super::model::{LogRow, Record};
use super::tables::{Tables, DFAI};
use super::time::{diff, floor, iso, DAY, HOUR, MINUTE, SECOND};
use super::Dataset;

/// A result column: name and KQL type.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: &'static str,
    pub ty: &'static str,
}

/// One key of the final `order by` / `top` (for comparing results with ties).
#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub column: &'static str,
    pub descending: bool,
    /// The sort expression when it is not the bare column.
    pub expr: Option<&'static str>,
}

/// The expected result of one query.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedResult {
    pub query: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    /// The query ends with order/sort/top: rows are in Kusto's order (rows with equal sort keys
    /// may come in any order).
    pub ordered: bool,
    pub sort_keys: Vec<SortKey>,
    /// For queries Kusto rejects: the corrected text these results are for.
    pub corrected_query: Option<String>,
    pub notes: Vec<String>,
}

impl ExpectedResult {
    pub fn to_json(&self) -> Value {
        let mut o = json!({
            "query": self.query,
            "columns": self.columns.iter().map(|c| json!({"name": c.name, "type": c.ty})).collect::<Vec<_>>(),
            "rows": self.rows,
            "ordered": self.ordered,
        });
        if self.ordered {
            o["sort_keys"] = self
                .sort_keys
                .iter()
                .map(|k| {
                    let mut v = json!({"column": k.column, "descending": k.descending});
                    if let Some(e) = k.expr {
                        v["expr"] = json!(e);
                    }
                    v
                })
                .collect();
        }
        if let Some(q) = &self.corrected_query {
            o["corrected_query"] = json!(q);
        }
        if !self.notes.is_empty() {
            o["notes"] = json!(self.notes);
        }
        o
    }

    /// Index of a column by name.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// Query stems with expected results (the 20 Kusto accepts and 5 corrected ones).
pub const QUERIES: &[&str] = &[
    "arg_duplicate_connectors",
    "corr1_failed_genai_and_signin",
    "corr2_applogs_and_defender_alerts",
    "corr3_threat_intel_ip",
    "hunt_high_volume",
    "hunt_rare_failures",
    "hunt_suspicious_prompts_externaldata",
    "kpi_mttd",
    "kpi_mttr",
    "kpi_threat_detection_rate",
    "rule1_prompt_injection",
    "rule2_content_safety",
    "rule3_rate_limit_abuse",
    "rule4_anomalous_source_ip",
    "rule5_coordinated_attack",
    "wb_alerts_color_coded",
    "wb_exec_status_tiles",
    "wb_failed_requests_per_session",
    "wb_prompt_patterns",
    "wb_session_duration",
    "wb_top_apps_failures",
    "wb_top_users_failures",
    "wb_trend_pass_fail",
    "wb_user_activity_timeline",
    "wb_user_sessions",
];

/// Seed queries without expected results, and why.
pub const NOT_COVERED: &[(&str, &str)] =
    &[("wb_geo_threat_map", "rejected by Kusto; a fix needs a geo-IP database (geo_info_from_ip_address)")];

/// Queries Kusto rejects whose expected results are for a corrected text: (stem, original, fixes).
pub fn corrected_query(stem: &str) -> Option<String> {
    let (text, fixes): (&str, &[(&str, &str)]) = match stem {
        "corr1_failed_genai_and_signin" => (
            include_str!("../../data/seed-queries/corr1_failed_genai_and_signin.kql"),
            &[
                ("l let timeframe", "let timeframe"),
                (", full_prompt_sample, prompt_hash, message", ", full_prompt_sample, message"),
            ],
        ),
        "hunt_high_volume" => (
            include_str!("../../data/seed-queries/hunt_high_volume.kql"),
            &[("count_ >= threshold", "requests >= threshold")],
        ),
        "rule3_rate_limit_abuse" => (
            include_str!("../../data/seed-queries/rule3_rate_limit_abuse.kql"),
            &[("count_ >= threshold", "requests >= threshold")],
        ),
        "rule4_anomalous_source_ip" => (
            include_str!("../../data/seed-queries/rule4_anomalous_source_ip.kql"),
            &[
                ("$left.AccountUpn == $right.end_user_id", "$left.end_user_id == $right.AccountUpn"),
                ("IPAddress !in (knownIPs)", "source_ip !in (knownIPs)"),
            ],
        ),
        "wb_user_sessions" => {
            (include_str!("../../data/seed-queries/wb_user_sessions.kql"), &[("tostri1ng", "tostring")])
        }
        _ => return None,
    };
    let mut q = text.to_string();
    for (from, to) in fixes {
        assert!(q.contains(from), "{stem}: '{from}' not found");
        q = q.replacen(from, to, 1);
    }
    Some(q)
}

fn cols(spec: &[(&'static str, &'static str)]) -> Vec<Column> {
    spec.iter().map(|&(name, ty)| Column { name, ty }).collect()
}

fn dt(t: i64) -> Value {
    Value::String(iso(t))
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn real(x: f64) -> Value {
    serde_json::Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null)
}

/// `round(x, 2)`.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Does `round(sum / n, 2)` hit an exact midpoint (where rounding conventions differ)?
fn is_midpoint(sum: i64, n: i64) -> bool {
    let num = 200 * sum;
    num % n == 0 && (num / n) % 2 != 0
}

fn ci_contains(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

fn ci_starts(hay: &str, prefix: &str) -> bool {
    hay.len() >= prefix.len() && hay.is_char_boundary(prefix.len()) && hay[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Groups keyed by a string built from the key parts; entries kept in first-appearance order.
struct Groups<V> {
    index: HashMap<String, usize>,
    entries: Vec<V>,
}

impl<V> Groups<V> {
    fn new() -> Self {
        Groups { index: HashMap::new(), entries: Vec::new() }
    }

    fn entry(&mut self, key: &str, init: impl FnOnce() -> V) -> &mut V {
        if let Some(&i) = self.index.get(key) {
            return &mut self.entries[i];
        }
        self.index.insert(key.to_string(), self.entries.len());
        self.entries.push(init());
        self.entries.last_mut().expect("just pushed")
    }
}

fn key(buf: &mut String, parts: &[&str]) {
    buf.clear();
    for p in parts {
        buf.push_str(p);
        buf.push('\u{1f}');
    }
}

struct CorrLeft {
    t: i64,
    ip: String,
    user: String,
    app: String,
    prompt: String,
    message: String,
    spc: String,
}

struct Rule2 {
    bin: i64,
    ip: String,
    user: String,
    session: String,
    computer: String,
    app: String,
    spc: String,
    count: i64,
}

struct Rule5 {
    hash: String,
    bin: i64,
    users: Vec<String>,
    ips: Vec<String>,
    count: i64,
}

struct Duration {
    user: String,
    session: String,
    ip: String,
    app: String,
    start: i64,
    end: i64,
    count: i64,
}

struct Rule4Row {
    t: i64,
    ip: String,
    user: String,
    session: String,
    computer: String,
    app: String,
    spc: String,
    prompt: String,
}

/// Above this many ContainerLogV2 rows the (unwindowed, unaggregated) activity timeline is not kept.
pub const TIMELINE_LIMIT: u64 = 1_000_000;

/// Streaming evaluation of the ContainerLogV2 queries; feed every row in file order.
pub struct LogEval<'a> {
    ds: &'a Dataset,
    now: i64,
    buf: String,
    rows_seen: u64,
    corr_left: Vec<CorrLeft>,
    corr3_left: Vec<Vec<Value>>,
    corr3_ips: Vec<String>,
    rare: Groups<(String, i64, i64, i64)>,
    ext_set: HashSet<String>,
    extdata: Vec<Vec<Value>>,
    mttd_keys: HashSet<String>,
    applog: Groups<(String, String, String, String, i64)>,
    rate: Groups<(i64, i64, i64)>,
    rule2: Groups<Rule2>,
    rule4: Vec<Rule4Row>,
    rule5: Groups<Rule5>,
    failed_sessions: Groups<(String, String, i64)>,
    prompts: Groups<(String, String, i64)>,
    duration: Groups<Duration>,
    top_apps: Groups<(String, i64)>,
    top_users: Groups<(String, i64)>,
    trend: BTreeMap<i64, (i64, i64)>,
    timeline: Option<Vec<(String, i64, Vec<Value>)>>,
    user_sessions: Vec<Vec<Value>>,
}

impl<'a> LogEval<'a> {
    pub fn new(ds: &'a Dataset, keep_timeline: bool) -> Self {
        let mut mttd_keys = HashSet::new();
        let mut buf = String::new();
        for r in &ds.tables.alert_evidence {
            if r.str("DetectionSource") == DFAI {
                let user = dyn_tostring(&r.dynamic("AdditionalFields")["AadUserId"]);
                key(&mut buf, &[r.str("CloudResource"), &user, r.str("RemoteIP")]);
                mttd_keys.insert(buf.clone());
            }
        }
        let ext_set = super::planted::FORBIDDEN_QUESTIONS.iter().map(|q| q.0.to_string()).collect();
        LogEval {
            ds,
            now: ds.config.now,
            buf,
            rows_seen: 0,
            corr_left: Vec::new(),
            corr3_left: Vec::new(),
            corr3_ips: Vec::new(),
            rare: Groups::new(),
            ext_set,
            extdata: Vec::new(),
            mttd_keys,
            applog: Groups::new(),
            rate: Groups::new(),
            rule2: Groups::new(),
            rule4: Vec::new(),
            rule5: Groups::new(),
            failed_sessions: Groups::new(),
            prompts: Groups::new(),
            duration: Groups::new(),
            top_apps: Groups::new(),
            top_users: Groups::new(),
            trend: BTreeMap::new(),
            timeline: if keep_timeline { Some(Vec::new()) } else { None },
            user_sessions: Vec::new(),
        }
    }

    /// Evaluate as of `now` instead of the data set's `now` (feed only rows up to it).
    pub fn at(mut self, now: i64) -> Self {
        self.now = now;
        self
    }

    pub fn feed(&mut self, row: &LogRow) {
        self.rows_seen += 1;
        let n = self.now;
        let t = row.time;
        let spc = row.tostring("security_check_passed");
        let user = row.tostring("end_user_id");
        let app = row.tostring("application_name");
        let ip = row.tostring("source_ip");
        let session = row.tostring("session_id");
        let ds = self.ds;
        let computer = &ds.world.pods[row.pod].computer;
        let is_fail = spc == "FAIL";
        let is_pass = spc == "PASS";
        let user_ne = row.notempty("end_user_id");
        let ip_ne = row.notempty("source_ip");

        // corr1 / corr2 left side.
        if t >= n - HOUR && ip_ne {
            let message = row.tostring("message");
            if is_fail || ci_contains(&message, "WARNING") {
                self.corr_left.push(CorrLeft {
                    t,
                    ip: ip.to_string(),
                    user: user.to_string(),
                    app: app.to_string(),
                    prompt: row.tostring("full_prompt_sample").into_owned(),
                    message: message.into_owned(),
                    spc: spc.to_string(),
                });
            }
        }
        // corr3 left side.
        if t >= n - 10 * MINUTE && ip_ne {
            self.corr3_ips.push(ip.to_string());
            self.corr3_left.push(vec![
                dt(t),
                s(&ip),
                s(&user),
                s(&app),
                s(&row.tostring("full_prompt_sample")),
                s(&spc),
            ]);
        }
        // hunt_rare_failures.
        if t >= n - DAY && row.notempty("security_check_passed") && is_fail {
            key(&mut self.buf, &[&app]);
            let g = self.rare.entry(&self.buf, || (app.to_string(), 0, t, t));
            g.1 += 1;
            g.2 = g.2.min(t);
            g.3 = g.3.max(t);
        }
        // hunt_suspicious_prompts_externaldata.
        if t > n - 14 * DAY && row.notempty("full_prompt_sample") {
            let prompt = row.tostring("full_prompt_sample");
            if self.ext_set.contains(prompt.as_ref()) {
                self.extdata.push(vec![dt(t), s(&session), s(&user), s(&ip), s(&app), s(&prompt)]);
            }
        }
        // kpi_mttd AppLog (only the groups that can join an alert).
        if is_fail {
            key(&mut self.buf, &[&app, &user, &ip]);
            if self.mttd_keys.contains(&self.buf) {
                key(&mut self.buf, &[&app, &session, &user, &ip]);
                let g = self
                    .applog
                    .entry(&self.buf, || (app.to_string(), session.to_string(), user.to_string(), ip.to_string(), t));
                g.4 = g.4.min(t);
            }
        }
        // The last-day queries.
        if t > n - DAY {
            let bin = floor(t, HOUR);
            let g = self.rate.entry(&bin.to_string(), || (bin, 0, 0));
            g.1 += i64::from(is_pass);
            g.2 += i64::from(is_fail);
            if is_fail {
                key(&mut self.buf, &[&user, &session]);
                self.failed_sessions.entry(&self.buf, || (user.to_string(), session.to_string(), 0)).2 += 1;
                if row.notempty("application_name") {
                    key(&mut self.buf, &[&app]);
                    self.top_apps.entry(&self.buf, || (app.to_string(), 0)).1 += 1;
                }
                if user_ne {
                    key(&mut self.buf, &[&user]);
                    self.top_users.entry(&self.buf, || (user.to_string(), 0)).1 += 1;
                }
            }
            if is_pass && row.notempty("session_id") {
                key(&mut self.buf, &[&user, &session, &ip, &app]);
                let g = self.duration.entry(&self.buf, || Duration {
                    user: user.to_string(),
                    session: session.to_string(),
                    ip: ip.to_string(),
                    app: app.to_string(),
                    start: t,
                    end: t,
                    count: 0,
                });
                g.start = g.start.min(t);
                g.end = g.end.max(t);
                g.count += 1;
            }
            if user_ne && user == "<username>" {
                self.user_sessions.push(vec![dt(t), s(&session), s(&user), s(&app), s(&spc)]);
            }
        }
        // rule2_content_safety.
        if t >= n - DAY && user_ne && is_fail {
            let bin = floor(t, HOUR);
            let bin_s = bin.to_string();
            key(&mut self.buf, &[&bin_s, &ip, &user, &session, computer, &app, &spc]);
            self.rule2
                .entry(&self.buf, || Rule2 {
                    bin,
                    ip: ip.to_string(),
                    user: user.to_string(),
                    session: session.to_string(),
                    computer: computer.clone(),
                    app: app.to_string(),
                    spc: spc.to_string(),
                    count: 0,
                })
                .count += 1;
        }
        // rule4 (corrected) left side.
        if t >= n - HOUR && ip_ne {
            self.rule4.push(Rule4Row {
                t,
                ip: ip.to_string(),
                user: user.to_string(),
                session: session.to_string(),
                computer: computer.clone(),
                app: app.to_string(),
                spc: spc.to_string(),
                prompt: row.tostring("full_prompt_sample").into_owned(),
            });
        }
        // rule5_coordinated_attack.
        if t >= n - HOUR && row.notempty("prompt_hash") && user_ne {
            let hash = row.tostring("prompt_hash");
            let bin = floor(t, HOUR);
            let bin_s = bin.to_string();
            key(&mut self.buf, &[&hash, &bin_s]);
            let g = self.rule5.entry(&self.buf, || Rule5 {
                hash: hash.to_string(),
                bin,
                users: Vec::new(),
                ips: Vec::new(),
                count: 0,
            });
            g.count += 1;
            if !g.users.iter().any(|u| *u == user) {
                g.users.push(user.to_string());
            }
            if !g.ips.iter().any(|u| *u == ip) {
                g.ips.push(ip.to_string());
            }
        }
        // The 14-day queries.
        if t > n - 14 * DAY {
            if row.notempty("prompt_hash") && row.notempty("full_prompt_sample") {
                let hash = row.tostring("prompt_hash");
                let prompt = row.tostring("full_prompt_sample");
                key(&mut self.buf, &[&hash, &prompt]);
                self.prompts.entry(&self.buf, || (hash.to_string(), prompt.to_string(), 0)).2 += 1;
            }
            let g = self.trend.entry(floor(t, DAY)).or_insert((0, 0));
            g.0 += i64::from(is_pass);
            g.1 += i64::from(is_fail);
        }
        // wb_user_activity_timeline (no time filter).
        if let Some(tl) = &mut self.timeline {
            if user_ne {
                tl.push((
                    user.to_string(),
                    t,
                    vec![
                        dt(t),
                        row.dynamic("source_ip"),
                        row.dynamic("end_user_id"),
                        row.dynamic("session_id"),
                        s(computer),
                        row.dynamic("application_name"),
                        row.dynamic("request_id"),
                        row.dynamic("message"),
                        row.dynamic("full_prompt_sample"),
                    ],
                ));
            }
        }
    }

    /// The expected results of all covered queries.
    pub fn finish(self) -> Vec<ExpectedResult> {
        let ds = self.ds;
        let t = &ds.tables;
        let n = self.now;
        let mut out = Vec::new();
        let mk = |query: &'static str, spec: &[(&'static str, &'static str)], rows: Vec<Vec<Value>>| ExpectedResult {
            query,
            columns: cols(spec),
            rows,
            ordered: false,
            sort_keys: Vec::new(),
            corrected_query: corrected_query(query),
            notes: Vec::new(),
        };
        let key_desc = |column: &'static str| SortKey { column, descending: true, expr: None };

        out.push(mk("arg_duplicate_connectors", ARG_COLS, arg_duplicate_connectors(t)));

        // corr1 (corrected): failed sign-ins joined on end_user_id == UserPrincipalName.
        let failed: Vec<&Record> = t.signin_logs.iter().filter(|r| result_type_nonzero(r.str("ResultType"))).collect();
        let mut rows = Vec::new();
        for l in &self.corr_left {
            for _ in failed.iter().filter(|r| r.str("UserPrincipalName") == l.user) {
                rows.push(vec![dt(l.t), s(&l.ip), s(&l.user), s(&l.app), s(&l.prompt), s(&l.message), s(&l.spc)]);
            }
        }
        out.push(mk("corr1_failed_genai_and_signin", CORR1_COLS, rows));

        // corr2: alerts of the last hour on the app as impacted asset.
        let alerts: Vec<&Record> = t
            .alert_evidence
            .iter()
            .filter(|r| {
                r.time("TimeGenerated").is_some_and(|x| x >= n - HOUR)
                    && r.dynamic("AdditionalFields")["Asset"] == json!("true")
                    && r.str("DetectionSource") == DFAI
            })
            .collect();
        let mut rows = Vec::new();
        for l in &self.corr_left {
            for a in alerts.iter().filter(|a| a.str("CloudResource") == l.app) {
                rows.push(vec![dt(l.t), s(&l.app), s(&l.user), s(&l.ip), s(a.str("Title"))]);
            }
        }
        out.push(mk("corr2_applogs_and_defender_alerts", CORR2_COLS, rows));

        // corr3: active IP indicators.
        let iocs: Vec<&str> = t
            .threat_intel_indicators
            .iter()
            .filter(|r| {
                r.boolean("IsActive") == Some(true)
                    && (ci_starts(r.str("ObservableKey"), "ipv4-addr")
                        || ci_starts(r.str("ObservableKey"), "network-traffic"))
            })
            .map(|r| r.str("ObservableValue"))
            .collect();
        let mut rows = Vec::new();
        for (l, ip) in self.corr3_left.iter().zip(&self.corr3_ips) {
            for _ in iocs.iter().filter(|v| **v == ip) {
                rows.push(l.clone());
            }
        }
        out.push(mk("corr3_threat_intel_ip", CORR3_COLS, rows));

        let (high, mut notes) = aoai(t, true, n);
        let mut r = mk("hunt_high_volume", HIGH_VOLUME_COLS, high);
        r.notes.append(&mut notes);
        out.push(r);

        let rows = self
            .rare
            .entries
            .iter()
            .filter_map(|(app, count, first, last)| {
                let hours = diff(*last, *first, HOUR);
                (hours >= 24 && *count >= 10).then(|| vec![s(app), dt(*first), dt(*last), json!(hours), json!(count)])
            })
            .collect();
        out.push(mk("hunt_rare_failures", RARE_COLS, rows));

        out.push(mk("hunt_suspicious_prompts_externaldata", EXT_COLS, self.extdata));

        // kpi_mttd.
        let mut alert_groups: Groups<(String, String, String, String, String, i64)> = Groups::new();
        let mut buf = String::new();
        for r in t.alert_evidence.iter().filter(|r| r.str("DetectionSource") == DFAI) {
            let user = dyn_tostring(&r.dynamic("AdditionalFields")["AadUserId"]);
            let time = r.time("TimeGenerated").expect("time");
            key(&mut buf, &[r.str("AlertId"), r.str("Title"), r.str("CloudResource"), &user, r.str("RemoteIP")]);
            let g = alert_groups.entry(&buf, || {
                let f = |c: &str| r.str(c).to_string();
                (f("AlertId"), f("Title"), f("CloudResource"), user.clone(), f("RemoteIP"), time)
            });
            g.5 = g.5.min(time);
        }
        let mut by_alert: Groups<(String, String, i64, i64)> = Groups::new();
        for a in &alert_groups.entries {
            for l in self.applog.entries.iter().filter(|l| l.0 == a.2 && l.2 == a.3 && l.3 == a.4) {
                let d = diff(a.5, l.4, MINUTE);
                key(&mut buf, &[&a.0, &a.1]);
                let g = by_alert.entry(&buf, || (a.0.clone(), a.1.clone(), 0, 0));
                g.2 += d;
                g.3 += 1;
            }
        }
        let mut r = mk("kpi_mttd", MTTD_COLS, Vec::new());
        for (id, title, sum, count) in &by_alert.entries {
            if is_midpoint(*sum, *count) {
                r.notes.push(format!("{id}: avg {sum}/{count} is a rounding midpoint"));
            }
            r.rows.push(vec![s(id), s(title), real(round2(*sum as f64 / *count as f64))]);
        }
        out.push(r);

        out.push(kpi_mttr(t, n));

        // kpi_threat_detection_rate / wb_exec_status_tiles.
        for query in ["kpi_threat_detection_rate", "wb_exec_status_tiles"] {
            let mut bins: Vec<(f64, Vec<Value>)> = self
                .rate
                .entries
                .iter()
                .map(|&(bin, pass, fail)| {
                    let total = pass + fail;
                    let rate = pass as f64 / total as f64 * 100.0;
                    (rate, vec![dt(bin), json!(pass), json!(fail), json!(total), real(rate)])
                })
                .collect();
            bins.sort_by(|a, b| b.0.total_cmp(&a.0));
            let mut r = mk(query, RATE_COLS, bins.into_iter().map(|b| b.1).collect());
            if r.rows.iter().any(|row| row[4].is_null()) {
                r.notes.push("a bin has TotalRequests 0: SuccessRate is NaN".into());
            }
            r.ordered = true;
            r.sort_keys = vec![key_desc("SuccessRate")];
            out.push(r);
        }

        out.push(mk("rule1_prompt_injection", RULE1_COLS, rule1(t, n)));

        let rows = self
            .rule2
            .entries
            .iter()
            .filter(|g| g.count >= 3)
            .map(|g| {
                vec![
                    dt(g.bin),
                    s(&g.ip),
                    s(&g.user),
                    s(&g.session),
                    s(&g.computer),
                    s(&g.app),
                    s(&g.spc),
                    json!(g.count),
                ]
            })
            .collect();
        out.push(mk("rule2_content_safety", RULE2_COLS, rows));

        let (rate, mut notes) = aoai(t, false, n);
        let mut r = mk("rule3_rate_limit_abuse", RULE3_COLS, rate);
        r.notes.append(&mut notes);
        out.push(r);

        // rule4 (corrected).
        let lo = n - 7 * DAY - HOUR;
        let hi = n - HOUR;
        let mut baseline: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in &t.identity_logon_events {
            let ts = r.time("Timestamp").expect("Timestamp");
            let ip = r.str("IPAddress");
            if ts >= lo && ts <= hi && !ip.is_empty() {
                let set = baseline.entry(r.str("AccountUpn")).or_default();
                if !set.contains(&ip) {
                    set.push(ip);
                }
            }
        }
        let rows = self
            .rule4
            .iter()
            .filter(|l| match baseline.get(l.user.as_str()) {
                None => true,
                Some(known) => !known.contains(&l.ip.as_str()),
            })
            .map(|l| {
                vec![dt(l.t), s(&l.ip), s(&l.user), s(&l.session), s(&l.computer), s(&l.app), s(&l.spc), s(&l.prompt)]
            })
            .collect();
        out.push(mk("rule4_anomalous_source_ip", RULE4_COLS, rows));

        let rows = self
            .rule5
            .entries
            .iter()
            .filter(|g| g.users.len() >= 5)
            .map(|g| vec![s(&g.hash), dt(g.bin), json!(g.users.len()), json!(g.count), json!(g.users), json!(g.ips)])
            .collect();
        let mut r = mk("rule5_coordinated_attack", RULE5_COLS, rows);
        r.notes.push("Users and IpAddress are make_set() results: compare them as sets".into());
        out.push(r);

        out.push(mk("wb_alerts_color_coded", COLOR_COLS, alerts_color(t)));

        let mut rows: Vec<(i64, Vec<Value>)> =
            self.failed_sessions.entries.iter().map(|(u, sess, c)| (*c, vec![s(u), s(sess), json!(c)])).collect();
        rows.sort_by_key(|x| std::cmp::Reverse(x.0));
        let mut r = mk("wb_failed_requests_per_session", FAILED_SESSIONS_COLS, rows.into_iter().map(|x| x.1).collect());
        r.ordered = true;
        r.sort_keys = vec![key_desc("Failed_Sessions")];
        out.push(r);

        let mut rows: Vec<(i64, Vec<Value>)> =
            self.prompts.entries.iter().map(|(h, p, c)| (*c, vec![s(h), s(p), json!(c)])).collect();
        rows.sort_by_key(|x| std::cmp::Reverse(x.0));
        let mut r = mk("wb_prompt_patterns", PROMPT_COLS, rows.into_iter().map(|x| x.1).collect());
        r.ordered = true;
        r.sort_keys = vec![key_desc("count_")];
        out.push(r);

        let rows = self
            .duration
            .entries
            .iter()
            .map(|g| {
                vec![
                    s(&g.user),
                    s(&g.session),
                    s(&g.ip),
                    s(&g.app),
                    dt(g.start),
                    dt(g.end),
                    json!(g.count),
                    json!(diff(g.end, g.start, SECOND)),
                ]
            })
            .collect();
        out.push(mk("wb_session_duration", DURATION_COLS, rows));

        for (query, spec, groups) in [
            ("wb_top_apps_failures", TOP_APPS_COLS, &self.top_apps),
            ("wb_top_users_failures", TOP_USERS_COLS, &self.top_users),
        ] {
            let mut rows: Vec<(i64, Vec<Value>)> =
                groups.entries.iter().map(|(k, c)| (*c, vec![s(k), json!(c)])).collect();
            rows.sort_by_key(|x| std::cmp::Reverse(x.0));
            let mut r = mk(query, spec, Vec::new());
            if rows.len() > 20 && rows[19].0 == rows[20].0 {
                r.notes
                    .push(format!("tie at the top-20 boundary (count {}): the set of rows is ambiguous", rows[19].0));
            }
            r.rows = rows.into_iter().take(20).map(|x| x.1).collect();
            r.ordered = true;
            r.sort_keys = vec![key_desc("FailureCount")];
            out.push(r);
        }

        let rows = self.trend.iter().map(|(bin, (p, f))| vec![dt(*bin), json!(p), json!(f)]).collect();
        out.push(mk("wb_trend_pass_fail", TREND_COLS, rows));

        if let Some(mut tl) = self.timeline {
            tl.sort_by(|a, b| b.0.as_bytes().cmp(a.0.as_bytes()).then(b.1.cmp(&a.1)));
            let mut r = mk("wb_user_activity_timeline", TIMELINE_COLS, tl.into_iter().map(|x| x.2).collect());
            r.ordered = true;
            r.sort_keys = vec![
                SortKey {
                    column: "LogMessage_end_user_id",
                    descending: true,
                    expr: Some("tostring(LogMessage_end_user_id)"),
                },
                key_desc("TimeGenerated"),
            ];
            r.notes.push("strings sort ordinally (byte order)".into());
            out.push(r);
        }

        out.push(mk("wb_user_sessions", USER_SESSIONS_COLS, self.user_sessions));
        out.sort_by_key(|r| QUERIES.iter().position(|q| *q == r.query));
        out
    }
}

/// `tostring()` of a dynamic value.
fn dyn_tostring(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `ResultType != 0` on the string column: numeric comparison of the text (as Sentinel rules rely on).
fn result_type_nonzero(v: &str) -> bool {
    v.trim().parse::<i64>().map(|x| x != 0).unwrap_or(true)
}

fn arg_duplicate_connectors(t: &Tables) -> Vec<Vec<Value>> {
    t.resources
        .iter()
        .filter(|r| r.str("type") == "microsoft.security/securityconnectors")
        .map(|r| {
            vec![
                s(r.str("name")),
                s(r.str("location")),
                r.dynamic("properties").get("hierarchyIdentifier").cloned().unwrap_or(Value::Null),
                s(r.str("tenantId")),
                s(r.str("subscriptionId")),
            ]
        })
        .collect()
}

/// hunt_high_volume (per hour and caller, >= 50) or rule3 (per hour, >= 5), corrected.
/// Only rows up to `now` exist (a run at an earlier instant sees less).
fn aoai(t: &Tables, per_caller: bool, now: i64) -> (Vec<Vec<Value>>, Vec<String>) {
    struct G {
        bin: i64,
        ip: String,
        tokens: f64,
        any_tokens: bool,
        requests: i64,
        throttled: i64,
    }
    let mut groups: Groups<G> = Groups::new();
    let mut buf = String::new();
    for r in &t.azure_diagnostics {
        let op = r.str("OperationName");
        if r.str("ResourceProvider") != "MICROSOFT.COGNITIVESERVICES"
            || !(op == "Completions" || ci_contains(op, "ChatCompletions"))
        {
            continue;
        }
        let time = r.time("TimeGenerated").expect("time");
        if time > now {
            continue;
        }
        let bin = floor(time, HOUR);
        let ip = if per_caller { r.str("CallerIPAddress") } else { "" };
        key(&mut buf, &[&bin.to_string(), ip]);
        let g = groups.entry(&buf, || G {
            bin,
            ip: ip.to_string(),
            tokens: 0.0,
            any_tokens: false,
            requests: 0,
            throttled: 0,
        });
        if let Some(x) = tokens_used(r.str("properties_s")) {
            g.tokens += x;
            g.any_tokens = true;
        }
        g.requests += 1;
        g.throttled += i64::from(r.str("httpstatuscode_s") == "429");
    }
    let mut notes = Vec::new();
    let threshold = if per_caller { 50 } else { 5 };
    let rows = groups
        .entries
        .iter()
        .filter(|g| g.requests >= threshold)
        .map(|g| {
            if !g.any_tokens {
                notes.push(format!("{} {}: sum() over only nulls", iso(g.bin), g.ip));
            }
            if per_caller {
                vec![dt(g.bin), s(&g.ip), real(g.tokens), json!(g.requests)]
            } else {
                vec![dt(g.bin), real(g.tokens), json!(g.requests), json!(g.throttled)]
            }
        })
        .collect();
    (rows, notes)
}

/// `todouble(parse_json(properties_s).usage.total_tokens)`.
pub fn tokens_used(properties: &str) -> Option<f64> {
    let v: Value = serde_json::from_str(properties).ok()?;
    match &v["usage"]["total_tokens"] {
        Value::Number(x) => x.as_f64(),
        Value::String(x) => x.trim().parse().ok(),
        _ => None,
    }
}

fn kpi_mttr(t: &Tables, n: i64) -> ExpectedResult {
    let mut groups: Groups<(i64, i64, i64, i64)> = Groups::new();
    let mut notes = Vec::new();
    for r in &t.security_incident {
        let status = r.str("Status");
        let created = r.time("CreatedTime").expect("CreatedTime");
        if !(status == "New" || status == "Active") || created < n - 14 * DAY {
            continue;
        }
        let number = r.int("IncidentNumber").expect("IncidentNumber");
        let delay =
            diff(r.time("LastActivityTime").expect("last"), r.time("FirstActivityTime").expect("first"), MINUTE);
        let g = groups.entry(&format!("{created}/{number}"), || (created, number, 0, 0));
        g.2 += delay;
        g.3 += 1;
    }
    let mut rows: Vec<&(i64, i64, i64, i64)> = groups.entries.iter().collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let rows = rows
        .into_iter()
        .map(|&(created, number, sum, count)| {
            if is_midpoint(sum, count) {
                notes.push(format!("incident {number}: avg {sum}/{count} is a rounding midpoint"));
            }
            vec![dt(created), json!(number), real(round2(sum as f64 / count as f64))]
        })
        .collect();
    ExpectedResult {
        query: "kpi_mttr",
        columns: cols(MTTR_COLS),
        rows,
        ordered: true,
        sort_keys: vec![
            SortKey { column: "CreatedTime", descending: true, expr: None },
            SortKey { column: "IncidentNumber", descending: false, expr: None },
        ],
        corrected_query: None,
        notes,
    }
}

fn rule1(t: &Tables, n: i64) -> Vec<Vec<Value>> {
    let mut groups: Groups<(i64, String, i64)> = Groups::new();
    for r in &t.alert_evidence {
        let time = r.time("TimeGenerated").expect("time");
        let title = r.str("Title");
        if time >= n - DAY
            && r.str("EntityType") == "Ip"
            && r.str("DetectionSource") == DFAI
            && (ci_contains(title, "jailbreak") || ci_contains(title, "prompt injection"))
        {
            let bin = floor(time, DAY);
            groups.entry(&format!("{bin}/{}", r.str("RemoteIP")), || (bin, r.str("RemoteIP").to_string(), 0)).2 += 1;
        }
    }
    groups.entries.iter().filter(|g| g.2 >= 3).map(|(bin, ip, c)| vec![dt(*bin), s(ip), json!(c)]).collect()
}

fn alerts_color(t: &Tables) -> Vec<Vec<Value>> {
    t.alert_info
        .iter()
        .filter(|r| r.str("DetectionSource") == DFAI)
        .map(|r| {
            let color = match r.str("Severity") {
                "High" => "🔴 High",
                "Medium" => "🟠 Medium",
                "Low" => "🟢 Low",
                _ => "⚪ Unknown",
            };
            vec![
                dt(r.time("TimeGenerated").expect("time")),
                s(r.str("AlertId")),
                s(r.str("Title")),
                s(r.str("Category")),
                s(r.str("Severity")),
                s(color),
            ]
        })
        .collect()
}

type Spec = &'static [(&'static str, &'static str)];

const ARG_COLS: Spec = &[
    ("name", "string"),
    ("location", "string"),
    ("properties_hierarchyIdentifier", "dynamic"),
    ("tenantId", "string"),
    ("subscriptionId", "string"),
];
const CORR1_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("source_ip", "string"),
    ("end_user_id", "string"),
    ("application_name", "string"),
    ("full_prompt_sample", "string"),
    ("message", "string"),
    ("security_check_passed", "string"),
];
const CORR2_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("application_name", "string"),
    ("end_user_id", "string"),
    ("source_ip", "string"),
    ("Title", "string"),
];
const CORR3_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("source_ip", "string"),
    ("end_user_id", "string"),
    ("application_name", "string"),
    ("full_prompt_sample", "string"),
    ("security_check_passed", "string"),
];
const HIGH_VOLUME_COLS: Spec =
    &[("TimeGenerated", "datetime"), ("CallerIPAddress", "string"), ("totalTokens", "real"), ("requests", "long")];
const RARE_COLS: Spec = &[
    ("application_name", "string"),
    ("FirstAttempt", "datetime"),
    ("LastAttempt", "datetime"),
    ("DurationHours", "long"),
    ("FailedAttempts", "long"),
];
const EXT_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("session_id", "string"),
    ("end_user_id", "string"),
    ("source_ip", "string"),
    ("application_name", "string"),
    ("full_prompt_sample", "string"),
];
const MTTD_COLS: Spec = &[("AlertId", "string"), ("Title", "string"), ("MTTD_Minutes", "real")];
const MTTR_COLS: Spec = &[("CreatedTime", "datetime"), ("IncidentNumber", "int"), ("MTTR_Minutes", "real")];
const RATE_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("SuccessCount", "long"),
    ("FailedCount", "long"),
    ("TotalRequests", "long"),
    ("SuccessRate", "real"),
];
const RULE1_COLS: Spec = &[("TimeGenerated", "datetime"), ("RemoteIP", "string"), ("count_", "long")];
const RULE2_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("source_ip", "string"),
    ("end_user_id", "string"),
    ("session_id", "string"),
    ("Computer", "string"),
    ("application_name", "string"),
    ("security_check_passed", "string"),
    ("count_", "long"),
];
const RULE3_COLS: Spec =
    &[("TimeGenerated", "datetime"), ("totalTokens", "real"), ("requests", "long"), ("rateLimitErrors", "long")];
const RULE4_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("source_ip", "string"),
    ("end_user_id", "string"),
    ("session_id", "string"),
    ("Computer", "string"),
    ("application_name", "string"),
    ("security_check_passed", "string"),
    ("full_prompt_sample", "string"),
];
const RULE5_COLS: Spec = &[
    ("prompt_hash", "string"),
    ("TimeGenerated", "datetime"),
    ("DistinctUsers", "long"),
    ("Attempts", "long"),
    ("Users", "dynamic"),
    ("IpAddress", "dynamic"),
];
const COLOR_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("AlertId", "string"),
    ("Title", "string"),
    ("Category", "string"),
    ("Severity", "string"),
    ("SeverityColor", "string"),
];
const FAILED_SESSIONS_COLS: Spec = &[("end_user_id", "string"), ("session_id", "string"), ("Failed_Sessions", "long")];
const PROMPT_COLS: Spec = &[("prompt_hash", "string"), ("full_prompt_sample", "string"), ("count_", "long")];
const DURATION_COLS: Spec = &[
    ("end_user_id", "string"),
    ("session_id", "string"),
    ("source_ip", "string"),
    ("application_name", "string"),
    ("Start", "datetime"),
    ("End", "datetime"),
    ("count_", "long"),
    ("DurationSeconds", "long"),
];
const TOP_APPS_COLS: Spec = &[("application_name", "string"), ("FailureCount", "long")];
const TOP_USERS_COLS: Spec = &[("end_user_id", "string"), ("FailureCount", "long")];
const TREND_COLS: Spec = &[("TimeGenerated", "datetime"), ("SuccessCount", "long"), ("FailedCount", "long")];
const TIMELINE_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("LogMessage_source_ip", "dynamic"),
    ("LogMessage_end_user_id", "dynamic"),
    ("LogMessage_session_id", "dynamic"),
    ("Computer", "string"),
    ("LogMessage_application_name", "dynamic"),
    ("LogMessage_request_id", "dynamic"),
    ("LogMessage_message", "dynamic"),
    ("LogMessage_full_prompt_sample", "dynamic"),
];
const USER_SESSIONS_COLS: Spec = &[
    ("TimeGenerated", "datetime"),
    ("session_id", "string"),
    ("end_user_id", "string"),
    ("application_name", "string"),
    ("security_check_passed", "string"),
];
