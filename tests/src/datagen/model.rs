//! Records of the generated tables.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde_json::Value;

/// A cheap-to-clone string: static text or a shared allocation.
#[derive(Clone)]
pub enum Str {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Str::Static(s) => s,
            Str::Shared(s) => s,
        }
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl From<&'static str> for Str {
    fn from(s: &'static str) -> Self {
        Str::Static(s)
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Str::Shared(Arc::from(s))
    }
}

impl From<Arc<str>> for Str {
    fn from(s: Arc<str>) -> Self {
        Str::Shared(s)
    }
}

/// A value inside `LogMessage` (a dynamic JSON object).
#[derive(Clone, Debug, PartialEq)]
pub enum MVal {
    Str(Str),
    Int(i64),
    Null,
}

impl MVal {
    pub fn s(v: impl Into<Str>) -> Option<MVal> {
        Some(MVal::Str(v.into()))
    }

    pub fn to_json(&self) -> Value {
        match self {
            MVal::Str(s) => Value::String(s.to_string()),
            MVal::Int(i) => Value::from(*i),
            MVal::Null => Value::Null,
        }
    }
}

/// Keys of `LogMessage`, in the order they are written.
pub const MSG_KEYS: [&str; 14] = [
    "timestamp",
    "level",
    "message",
    "request_id",
    "session_id",
    "prompt_hash",
    "security_check_passed",
    "source_ip",
    "end_user_id",
    "application_name",
    "model_deployment",
    "full_prompt_sample",
    "latency_ms",
    "completion_tokens",
];

/// The structured log line of a GenAI app (`ContainerLogV2.LogMessage`). `None` = key absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogMessage {
    pub timestamp: Option<MVal>,
    pub level: Option<MVal>,
    pub message: Option<MVal>,
    pub request_id: Option<MVal>,
    pub session_id: Option<MVal>,
    pub prompt_hash: Option<MVal>,
    pub security_check_passed: Option<MVal>,
    pub source_ip: Option<MVal>,
    pub end_user_id: Option<MVal>,
    pub application_name: Option<MVal>,
    pub model_deployment: Option<MVal>,
    pub full_prompt_sample: Option<MVal>,
    pub latency_ms: Option<MVal>,
    pub completion_tokens: Option<MVal>,
}

impl LogMessage {
    /// The entries in [`MSG_KEYS`] order.
    pub fn entries(&self) -> [(&'static str, &Option<MVal>); 14] {
        [
            (MSG_KEYS[0], &self.timestamp),
            (MSG_KEYS[1], &self.level),
            (MSG_KEYS[2], &self.message),
            (MSG_KEYS[3], &self.request_id),
            (MSG_KEYS[4], &self.session_id),
            (MSG_KEYS[5], &self.prompt_hash),
            (MSG_KEYS[6], &self.security_check_passed),
            (MSG_KEYS[7], &self.source_ip),
            (MSG_KEYS[8], &self.end_user_id),
            (MSG_KEYS[9], &self.application_name),
            (MSG_KEYS[10], &self.model_deployment),
            (MSG_KEYS[11], &self.full_prompt_sample),
            (MSG_KEYS[12], &self.latency_ms),
            (MSG_KEYS[13], &self.completion_tokens),
        ]
    }

    pub fn get(&self, key: &str) -> Option<&MVal> {
        self.entries().into_iter().find(|(k, _)| *k == key).and_then(|(_, v)| v.as_ref())
    }
}

/// `ContainerLogV2.LogMessage`: a JSON object, or plain text when the line was not JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    Json(Box<LogMessage>),
    Text(Str),
}

/// One `ContainerLogV2` row. The pod (index into the world's pods) supplies Computer,
/// ContainerId, ContainerName, PodName, PodNamespace, KubernetesMetadata and the constant columns.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow {
    pub time: i64,
    pub pod: usize,
    pub log_source: &'static str,
    pub log_level: &'static str,
    pub msg: Msg,
}

impl LogRow {
    pub fn json(&self) -> Option<&LogMessage> {
        match &self.msg {
            Msg::Json(m) => Some(m),
            Msg::Text(_) => None,
        }
    }

    /// `LogMessage.<key>` (None: absent key, or the message is not an object).
    pub fn field(&self, key: &str) -> Option<&MVal> {
        self.json().and_then(|m| m.get(key))
    }

    /// `tostring(LogMessage.<key>)`.
    pub fn tostring(&self, key: &str) -> std::borrow::Cow<'_, str> {
        match self.field(key) {
            Some(MVal::Str(s)) => std::borrow::Cow::Borrowed(&**s),
            Some(MVal::Int(i)) => std::borrow::Cow::Owned(i.to_string()),
            _ => std::borrow::Cow::Borrowed(""),
        }
    }

    /// `isnotempty(LogMessage.<key>)`.
    pub fn notempty(&self, key: &str) -> bool {
        match self.field(key) {
            Some(MVal::Str(s)) => !s.is_empty(),
            Some(MVal::Int(_)) => true,
            _ => false,
        }
    }

    /// `LogMessage.<key>` as a dynamic JSON value.
    pub fn dynamic(&self, key: &str) -> Value {
        self.field(key).map(MVal::to_json).unwrap_or(Value::Null)
    }

    /// The whole `LogMessage` as JSON.
    pub fn message_json(&self) -> Value {
        match &self.msg {
            Msg::Text(t) => Value::String(t.to_string()),
            Msg::Json(m) => {
                let mut o = serde_json::Map::new();
                for (k, v) in m.entries() {
                    if let Some(v) = v {
                        o.insert(k.to_string(), v.to_json());
                    }
                }
                Value::Object(o)
            }
        }
    }
}

/// A cell of the smaller tables.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Str(String),
    Time(i64),
    Int(i64),
    Real(f64),
    Bool(bool),
    Dyn(Value),
    Null,
}

impl Cell {
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Str(s) => Value::String(s.clone()),
            Cell::Time(t) => Value::String(super::time::iso(*t)),
            Cell::Int(i) => Value::from(*i),
            Cell::Real(r) => serde_json::Number::from_f64(*r).map(Value::Number).unwrap_or(Value::Null),
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Dyn(v) => v.clone(),
            Cell::Null => Value::Null,
        }
    }
}

/// A row of one of the smaller tables: (column, value) pairs; absent columns are null.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record(pub Vec<(&'static str, Cell)>);

impl Record {
    pub fn new() -> Self {
        Record(Vec::with_capacity(24))
    }

    pub fn set(&mut self, col: &'static str, v: Cell) -> &mut Self {
        if let Some(slot) = self.0.iter_mut().find(|(c, _)| *c == col) {
            slot.1 = v;
        } else {
            self.0.push((col, v));
        }
        self
    }

    pub fn s(&mut self, col: &'static str, v: impl Into<String>) -> &mut Self {
        self.set(col, Cell::Str(v.into()))
    }

    pub fn t(&mut self, col: &'static str, v: i64) -> &mut Self {
        self.set(col, Cell::Time(v))
    }

    pub fn i(&mut self, col: &'static str, v: i64) -> &mut Self {
        self.set(col, Cell::Int(v))
    }

    pub fn r(&mut self, col: &'static str, v: f64) -> &mut Self {
        self.set(col, Cell::Real(v))
    }

    pub fn b(&mut self, col: &'static str, v: bool) -> &mut Self {
        self.set(col, Cell::Bool(v))
    }

    pub fn d(&mut self, col: &'static str, v: Value) -> &mut Self {
        self.set(col, Cell::Dyn(v))
    }

    pub fn get(&self, col: &str) -> Option<&Cell> {
        self.0.iter().find(|(c, _)| *c == col).map(|(_, v)| v)
    }

    /// A string column as Kusto sees it (absent/null is the empty string).
    pub fn str(&self, col: &str) -> &str {
        match self.get(col) {
            Some(Cell::Str(s)) => s,
            _ => "",
        }
    }

    pub fn time(&self, col: &str) -> Option<i64> {
        match self.get(col) {
            Some(Cell::Time(t)) => Some(*t),
            _ => None,
        }
    }

    pub fn int(&self, col: &str) -> Option<i64> {
        match self.get(col) {
            Some(Cell::Int(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn boolean(&self, col: &str) -> Option<bool> {
        match self.get(col) {
            Some(Cell::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn dynamic(&self, col: &str) -> Value {
        match self.get(col) {
            Some(c) => c.to_json(),
            None => Value::Null,
        }
    }
}
