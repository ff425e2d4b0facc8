//! Background `ContainerLogV2` traffic: a streaming, chunked (one chunk per UTC day) generator.
//!
//! Row `i` of `n` gets the time `T((i + j) / n)` where `T` inverts a diurnal/weekly activity
//! curve over the 14 days before `now`, so rows come out in time order, strictly increasing,
//! with tick values ending in 3 (planted rows use other tick values, so no two rows of
//! different origin share a timestamp). Each chunk has its own PRNG stream and a pool of
//! concurrent chat sessions, so any chunk can be regenerated on its own.

use std::sync::Arc;

use super::model::{LogMessage, LogRow, MVal, Msg, Str};
use super::rng::{derive, Rng};
use super::time::{floor, hour_of_day, iso_ms, weekday, DAY, HOUR};
use super::world::{World, APPS};

/// Activity curve over `[start, end)`, in hour slots.
pub struct TimeMap {
    start: i64,
    end: i64,
    cum: Vec<f64>,
}

fn activity(t: i64) -> f64 {
    let h = f64::from(hour_of_day(t)) + 0.5;
    let mut w = 0.35;
    if (7.0..=21.0).contains(&h) {
        w += 0.65 * (std::f64::consts::PI * (h - 7.0) / 14.0).sin();
    }
    let wd = weekday(t);
    if wd == 0 || wd == 6 {
        w *= 0.55;
    }
    w
}

impl TimeMap {
    pub fn new(start: i64, end: i64) -> TimeMap {
        let slots = (end - start + HOUR - 1) / HOUR;
        let mut cum = Vec::with_capacity(slots as usize + 1);
        cum.push(0.0);
        let mut acc = 0.0;
        for k in 0..slots {
            let a = start + k * HOUR;
            let b = (a + HOUR).min(end);
            acc += activity((a + b) / 2) * (b - a) as f64 / HOUR as f64;
            cum.push(acc);
        }
        for c in &mut cum {
            *c /= acc;
        }
        TimeMap { start, end, cum }
    }

    fn bounds(&self, k: usize) -> (i64, i64) {
        let a = self.start + k as i64 * HOUR;
        (a, (a + HOUR).min(self.end))
    }

    /// Share of the traffic before `t`.
    pub fn cdf(&self, t: i64) -> f64 {
        if t <= self.start {
            return 0.0;
        }
        if t >= self.end {
            return 1.0;
        }
        let k = ((t - self.start) / HOUR) as usize;
        let (a, b) = self.bounds(k);
        self.cum[k] + (self.cum[k + 1] - self.cum[k]) * (t - a) as f64 / (b - a) as f64
    }

    /// The time before which a share `u` of the traffic falls.
    pub fn inv(&self, u: f64) -> i64 {
        let slots = self.cum.len() - 1;
        let k = self.cum.partition_point(|&c| c <= u).saturating_sub(1).min(slots - 1);
        let (a, b) = self.bounds(k);
        let span = self.cum[k + 1] - self.cum[k];
        let frac = if span > 0.0 { ((u - self.cum[k]) / span).clamp(0.0, 1.0) } else { 0.0 };
        a + (frac * (b - a) as f64) as i64
    }
}

/// One UTC day of background rows: global row indices `lo..hi`.
#[derive(Clone, Debug)]
pub struct Chunk {
    pub index: usize,
    pub lo: u64,
    pub hi: u64,
    pub start: i64,
    pub end: i64,
}

pub fn chunks(tm: &TimeMap, n: u64) -> Vec<Chunk> {
    let mut bounds = vec![tm.start];
    let mut d = floor(tm.start, DAY) + DAY;
    while d < tm.end {
        bounds.push(d);
        d += DAY;
    }
    bounds.push(tm.end);
    let at = |t: i64| -> u64 { ((n as f64) * tm.cdf(t)).ceil().min(n as f64) as u64 };
    let mut out = Vec::new();
    for (index, w) in bounds.windows(2).enumerate() {
        let lo = at(w[0]);
        let hi = if index + 2 == bounds.len() { n } else { at(w[1]) };
        out.push(Chunk { index, lo, hi, start: w[0], end: w[1] });
    }
    out
}

struct Session {
    user: usize,
    app: usize,
    pod: usize,
    ip: Arc<str>,
    session_id: Arc<str>,
    model: &'static str,
    remaining: u32,
    pending: Option<Arc<str>>,
}

/// Generates the rows of one chunk, in order.
pub struct ChunkGen<'a> {
    world: &'a World,
    tm: &'a TimeMap,
    n: u64,
    i: u64,
    hi: u64,
    rng: Rng,
    sessions: Vec<Session>,
    prev: i64,
    now: i64,
}

const PASS_MSGS: &[(&str, &str)] = &[
    ("LLM Request Received", "INFO"),
    ("WARNING: High token usage detected for session", "WARNING"),
    ("Retrying request after upstream throttling (HTTP 429)", "WARNING"),
];
const FAIL_MSGS: &[&str] = &[
    "WARNING: Content safety check failed - potential jailbreak",
    "Prompt blocked by content filter",
    "WARNING: Prompt injection pattern detected in user input",
];

/// Concurrent sessions per chunk, so a session sees a request every few minutes.
pub fn pool_size(n: u64, hours: f64) -> usize {
    ((n as f64 / hours / 8.0).round() as usize).clamp(2, 4096)
}

impl<'a> ChunkGen<'a> {
    pub fn new(world: &'a World, tm: &'a TimeMap, seed: u64, n: u64, chunk: &Chunk, pool: usize) -> ChunkGen<'a> {
        let mut rng = Rng::new(derive(seed, 1000 + chunk.index as u64));
        let mut sessions = Vec::with_capacity(pool);
        for _ in 0..pool {
            sessions.push(new_session(world, &mut rng));
        }
        ChunkGen { world, tm, n, i: chunk.lo, hi: chunk.hi, rng, sessions, prev: chunk.start, now: tm.end }
    }

    fn time_for(&mut self, i: u64) -> i64 {
        let j = self.rng.f64().max(1e-9);
        let u = (i as f64 + j) / self.n as f64;
        let mut t = self.tm.inv(u);
        t = t - t.rem_euclid(10) + 3;
        if t <= self.prev {
            t = self.prev + 10;
        }
        if t >= self.now {
            t = self.now - 1 - (self.now - 1 - 3).rem_euclid(10);
        }
        self.prev = t;
        t
    }

    fn text_row(&mut self, t: i64) -> LogRow {
        let rng = &mut self.rng;
        let app = rng.index(super::world::BACKGROUND_APPS);
        let pod = self.world.pod_of(app, rng.index(4));
        let r = rng.below(100);
        let (text, level, source) = if r < 85 {
            let s = format!(
                "INFO:     10.244.{}.{}:{} - \"GET /healthz HTTP/1.1\" 200 OK",
                rng.below(4),
                2 + rng.below(250),
                30_000 + rng.below(30_000)
            );
            (s, "INFO", "stdout")
        } else if r < 95 {
            let ts = iso_ms(t);
            let s = format!(
                "{} {} WARNING urllib3.connectionpool: Retrying (Retry(total=2, connect=None, read=None)) after connection broken by 'ReadTimeoutError': /openai/deployments/{}/chat/completions",
                &ts[..10],
                &ts[11..23],
                APPS[app].models[0]
            );
            (s, "WARNING", "stderr")
        } else {
            ("INFO:     Application startup complete.".to_string(), "INFO", "stdout")
        };
        LogRow { time: t, pod, log_source: source, log_level: level, msg: Msg::Text(Str::from(text)) }
    }

    fn next_row(&mut self) -> Option<LogRow> {
        if self.i >= self.hi {
            return None;
        }
        let i = self.i;
        self.i += 1;
        let t = self.time_for(i);
        if self.rng.chance(0.03) {
            return Some(self.text_row(t));
        }
        let k = self.rng.index(self.sessions.len());
        let world = self.world;
        let rng = &mut self.rng;
        let s = &mut self.sessions[k];
        let user = &world.users[s.user];
        let mut m = LogMessage {
            timestamp: MVal::s(iso_ms(t)),
            session_id: MVal::s(s.session_id.clone()),
            end_user_id: MVal::s(user.id.clone()),
            application_name: MVal::s(APPS[s.app].name),
            model_deployment: MVal::s(s.model),
            ..Default::default()
        };
        let (level, source);
        if let Some(req) = s.pending.take() {
            m.level = MVal::s("INFO");
            m.message = MVal::s("LLM Response Sent");
            m.request_id = MVal::s(req);
            if rng.chance(0.98) {
                m.source_ip = MVal::s(s.ip.clone());
            }
            m.latency_ms = Some(MVal::Int(180 + rng.below(4000) as i64));
            m.completion_tokens = Some(MVal::Int(20 + rng.below(900) as i64));
            level = "INFO";
            source = "stdout";
        } else if rng.chance(0.01) {
            m.level = MVal::s("ERROR");
            m.message = MVal::s("Upstream model call failed: 429 Too Many Requests");
            m.request_id = MVal::s(rng.uuid());
            m.source_ip = MVal::s(s.ip.clone());
            level = "ERROR";
            source = "stderr";
        } else {
            let fail = rng.chance(user.fail_rate);
            let request_id: Arc<str> = Arc::from(rng.uuid());
            m.request_id = MVal::s(request_id.clone());
            m.source_ip = MVal::s(s.ip.clone());
            let prompt = if fail && rng.chance(0.8) { rng.pick(&world.malicious) } else { world.pick_benign(rng) };
            m.prompt_hash = MVal::s(prompt.hash.clone());
            if fail {
                let msg = *rng.pick(FAIL_MSGS);
                m.level = MVal::s("WARNING");
                m.message = MVal::s(msg);
                m.security_check_passed = MVal::s("FAIL");
                m.full_prompt_sample = MVal::s(prompt.text.clone());
                level = "WARNING";
            } else {
                let r = rng.below(100);
                let (msg, lv) = if r < 93 {
                    PASS_MSGS[0]
                } else if r < 97 {
                    PASS_MSGS[1]
                } else {
                    PASS_MSGS[2]
                };
                m.level = MVal::s(lv);
                m.message = MVal::s(msg);
                m.security_check_passed = MVal::s("PASS");
                if rng.chance(0.35) {
                    m.full_prompt_sample = MVal::s(prompt.text.clone());
                }
                if rng.chance(0.6) {
                    s.pending = Some(request_id);
                }
                level = lv;
            }
            source = "stdout";
            s.remaining = s.remaining.saturating_sub(1);
        }
        let pod = s.pod;
        if s.remaining == 0 && s.pending.is_none() {
            self.sessions[k] = new_session(world, &mut self.rng);
        }
        Some(LogRow { time: t, pod, log_source: source, log_level: level, msg: Msg::Json(Box::new(m)) })
    }
}

impl Iterator for ChunkGen<'_> {
    type Item = LogRow;
    fn next(&mut self) -> Option<LogRow> {
        self.next_row()
    }
}

fn new_session(world: &World, rng: &mut Rng) -> Session {
    let user = world.pick_user(rng);
    let u = &world.users[user];
    let app = *rng.pick(&u.apps);
    let pod = world.pod_of(app, rng.index(8));
    let r = rng.f64();
    let ip: Arc<str> = if r < 0.85 || u.ips.len() == 1 && r < 0.95 {
        u.ips[0].clone()
    } else if r < 0.95 {
        u.ips[1].clone()
    } else if rng.chance(0.5) {
        Arc::from(format!("198.51.100.{}", 100 + rng.below(50)))
    } else {
        Arc::from(format!("192.0.2.{}", 100 + rng.below(50)))
    };
    let session_id: Arc<str> = Arc::from(rng.uuid());
    let model = *rng.pick(APPS[app].models);
    let remaining = 1 + (-(rng.f64().max(1e-12)).ln() * 5.0) as u32;
    Session { user, app, pod, ip, session_id, model, remaining: remaining.min(40), pending: None }
}

/// Is this a roaming address (a session away from the user's usual IPs)?
pub fn is_roaming_ip(ip: &str) -> bool {
    let last = ip.rsplit('.').next().and_then(|x| x.parse::<u32>().ok()).unwrap_or(0);
    (ip.starts_with("198.51.100.") || ip.starts_with("192.0.2.")) && (100..150).contains(&last)
}
