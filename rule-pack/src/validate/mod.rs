//! Validation of Sentinel analytic-rule YAML as Azure-Sentinel's own content CI validates it
//! (its detection template schema tests): required fields, GUID ids, kinds and severities,
//! period and frequency bounds, trigger bounds, ATT&CK tactics and techniques, entity
//! mappings, custom details, alert detail overrides, versions. Each finding has a code
//! (`KQLR0xx`, listed in [`CODES`]) and the line and column of the field in the file.

pub mod attack;
pub mod entities;
pub mod locate;

use locate::{locate, Seg};
use serde_yaml::Value;

/// A problem with a rule file's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `KQLR0xx`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is a likely fix.
    pub help: Option<String>,
    /// 1-based line in the file.
    pub line: usize,
    /// 1-based column in the file.
    pub col: usize,
    /// Byte offset of the field in the file text.
    pub offset: usize,
    /// Byte length of the field's key or value in the file text (at least 1).
    pub len: usize,
}

/// Every code this module reports, with a one-line summary (for `kql explain` and the docs).
pub const CODES: &[(&str, &str)] = &[
    ("KQLR001", "a field Sentinel requires is missing"),
    ("KQLR002", "the rule id is not a GUID"),
    ("KQLR003", "two rules of a pack have the same id"),
    ("KQLR004", "a field has a value Sentinel does not know (kind, severity, trigger operator, event grouping)"),
    ("KQLR005", "a text field is empty or longer than Sentinel allows"),
    ("KQLR006", "queryFrequency or queryPeriod is not a duration between 5 minutes and 14 days"),
    (
        "KQLR007",
        "queryPeriod is shorter than queryFrequency, or a period of 2 days or more runs more often than hourly",
    ),
    ("KQLR008", "triggerThreshold is not a whole number between 0 and 10000"),
    ("KQLR009", "a tactic is not one of ATT&CK's tactic names as Sentinel writes them"),
    ("KQLR010", "a technique is not written as T1234 or T1234.001"),
    ("KQLR011", "a technique has none of its tactics in the rule's tactics"),
    ("KQLR012", "an entity mapping is invalid (type, identifiers, column names, counts)"),
    ("KQLR013", "the query projects a legacy *CustomEntity column no entity mapping uses"),
    ("KQLR014", "custom details are invalid (count, key or column names)"),
    ("KQLR015", "an alert details override is invalid (empty, too long, too many placeholders)"),
    ("KQLR016", "version is not written as X.Y.Z"),
    ("KQLR017", "a required data connector has no dataTypes"),
];

/// Is this YAML document an analytic rule (rather than a hunting query, a workbook query or a
/// parser)? A file under a folder named for hunting queries or workbooks is not, whatever
/// fields it carries (some published hunting queries keep fields of the rule they came
/// from); otherwise a document with a rule kind, a frequency or a trigger is.
pub fn is_analytic_rule(path: &std::path::Path, doc: &Value) -> bool {
    let elsewhere = path.parent().into_iter().flat_map(|p| p.components()).any(|c| {
        let c = c.as_os_str().to_string_lossy().to_ascii_lowercase();
        c.contains("hunting") || c.contains("workbook") || c.contains("parser")
    });
    !elsewhere && ["kind", "queryFrequency", "triggerOperator"].iter().any(|k| field(doc, k).is_some())
}

/// The value of `key` in a mapping (exact name first, then case-insensitively, as Sentinel's
/// JSON reader matches property names).
fn field<'v>(doc: &'v Value, key: &str) -> Option<&'v Value> {
    let map = doc.as_mapping()?;
    map.get(key)
        .or_else(|| map.iter().find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(key))).map(|(_, v)| v))
}

/// A scalar as text (numbers and booleans as YAML writes them).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Collects findings with their positions.
struct Checker<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
    findings: Vec<Finding>,
}

impl<'t> Checker<'t> {
    fn new(text: &'t str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Checker { text, line_starts, findings: Vec::new() }
    }

    fn report(&mut self, code: &'static str, path: &[Seg<'_>], message: String, help: Option<String>) {
        let (line, col) = locate(self.text, path);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let offset = (start + col - 1).min(self.text.len());
        let rest = &self.text[offset..];
        let line_len = rest.find(['\n', '\r']).unwrap_or(rest.len());
        // a key: underline the key; a list item: its value
        let len = match path.last() {
            Some(Seg::Key(k)) if rest.starts_with(k) => k.len(),
            _ => rest[..line_len].trim_end().len(),
        }
        .clamp(1, 200);
        let len = (0..=len).rev().find(|&l| rest.is_char_boundary(l)).unwrap_or(0).max(1);
        self.findings.push(Finding { code, message, help, line, col, offset, len });
    }

    /// Like [`Checker::report`], pointing at the key's value rather than at the key.
    fn report_value(&mut self, code: &'static str, path: &[Seg<'_>], message: String, help: Option<String>) {
        self.report(code, path, message, help);
        let Some(f) = self.findings.last_mut() else { return };
        let rest = &self.text[f.offset..];
        let line = &rest[..rest.find(['\n', '\r']).unwrap_or(rest.len())];
        let Some(colon) = line.find(':') else { return };
        let value = line[colon + 1..].trim_start();
        let value = value.split(" #").next().unwrap_or(value).trim_end();
        if value.is_empty() || value.starts_with(['|', '>']) {
            return;
        }
        let skip = line.len() - line[colon + 1..].trim_start().len();
        f.offset += skip;
        f.col += line[..skip].chars().count();
        f.len = value.len();
    }
}

/// Check the rule document `doc` of the file `path`, written as `text`, as Sentinel's content
/// CI checks analytic rules. Documents that are not analytic rules ([`is_analytic_rule`]:
/// hunting queries, workbook queries, parsers) have no findings: that CI does not check them.
pub fn check_rule(path: &std::path::Path, text: &str, doc: &Value) -> Vec<Finding> {
    if !is_analytic_rule(path, doc) {
        return Vec::new();
    }
    let mut c = Checker::new(text);
    check_common(&mut c, doc);
    check_attack(&mut c, doc);
    check_entities(&mut c, doc);
    check_details(&mut c, doc);
    c.findings.sort_by_key(|f| (f.line, f.col));
    c.findings
}

fn required<'v>(c: &mut Checker<'_>, doc: &'v Value, key: &'static str) -> Option<&'v Value> {
    match field(doc, key) {
        Some(Value::Null) | None => {
            c.report("KQLR001", &[], format!("the rule has no `{key}`, which Sentinel requires"), None);
            None
        }
        Some(v) => Some(v),
    }
}

fn text_field(c: &mut Checker<'_>, doc: &Value, key: &'static str, max: usize) {
    let Some(v) = required(c, doc, key) else { return };
    let Some(s) = scalar(v) else {
        c.report("KQLR005", &[Seg::Key(key)], format!("`{key}` must be text"), None);
        return;
    };
    let n = s.chars().count();
    if n == 0 || n > max {
        c.report("KQLR005", &[Seg::Key(key)], format!("`{key}` has {n} characters; Sentinel allows 1 to {max}"), None);
    }
}

/// A GUID as Sentinel parses rule ids: 32 hex digits, in 8-4-4-4-12 groups (braces allowed).
pub fn is_guid(s: &str) -> bool {
    let s = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')).unwrap_or(s);
    let groups: Vec<&str> = s.split('-').collect();
    let hex = |g: &str| g.bytes().all(|b| b.is_ascii_hexdigit());
    (groups.len() == 5 && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]) && groups.iter().all(|g| hex(g)))
        || (s.len() == 32 && hex(s))
}

/// A duration as Sentinel's template reader takes `queryFrequency`/`queryPeriod`: a .NET
/// TimeSpan (`d.hh:mm:ss`, `hh:mm:ss`, `hh:mm`, a whole number of days) or a whole number
/// followed by `m`, `h` or `d`. In minutes.
pub fn template_duration_minutes(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(last) = s.chars().last() {
        if matches!(last, 'm' | 'h' | 'd') {
            let n: i64 = s[..s.len() - 1].parse().ok()?;
            return Some(match last {
                'm' => n,
                'h' => n * 60,
                _ => n * 1440,
            });
        }
    }
    if let Ok(days) = s.parse::<i64>() {
        return Some(days * 1440);
    }
    let (days, clock) = match s.split_once('.') {
        Some((d, rest)) if rest.contains(':') && d.bytes().all(|b| b.is_ascii_digit()) => {
            (d.parse::<i64>().ok()?, rest)
        }
        _ => (0, s),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let num = |p: &str| p.split('.').next().and_then(|p| p.parse::<i64>().ok());
    let (h, m) = (num(parts[0])?, num(parts[1])?);
    let sec = if parts.len() == 3 { num(parts[2])? } else { 0 };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some(days * 1440 + h * 60 + m + sec / 60)
}

fn check_common(c: &mut Checker<'_>, doc: &Value) {
    if let Some(v) = required(c, doc, "id") {
        let id = scalar(v).unwrap_or_default();
        if !is_guid(&id) {
            c.report_value(
                "KQLR002",
                &[Seg::Key("id")],
                format!("the id `{id}` is not a GUID"),
                Some("give the rule a new GUID, e.g. from `uuidgen`".into()),
            );
        }
    }
    let kind = required(c, doc, "kind").and_then(scalar);
    let nrt = match kind.as_deref() {
        Some(k) if k.eq_ignore_ascii_case("NRT") => true,
        Some(k) if k.eq_ignore_ascii_case("Scheduled") => false,
        Some(k) => {
            c.report_value(
                "KQLR004",
                &[Seg::Key("kind")],
                format!("`{k}` is not a rule kind: Sentinel's templates are Scheduled or NRT"),
                None,
            );
            return;
        }
        None => false,
    };
    text_field(c, doc, "name", 256);
    text_field(c, doc, "description", 5000);
    text_field(c, doc, "query", 10000);
    if let Some(v) = required(c, doc, "severity") {
        let s = scalar(v).unwrap_or_default();
        if !["Informational", "Low", "Medium", "High"].iter().any(|x| x.eq_ignore_ascii_case(&s)) {
            c.report_value(
                "KQLR004",
                &[Seg::Key("severity")],
                format!("`{s}` is not a severity: Sentinel's are Informational, Low, Medium, High"),
                None,
            );
        }
    }
    if let Some(v) = field(doc, "version").filter(|v| !v.is_null()) {
        let s = scalar(v).unwrap_or_default();
        let parts: Vec<&str> = s.split('.').collect();
        if s.len() > 20
            || parts.len() != 3
            || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            c.report_value(
                "KQLR016",
                &[Seg::Key("version")],
                format!("version `{s}` is not written as X.Y.Z (three numbers)"),
                Some("e.g. `version: 1.0.0`".into()),
            );
        }
    }
    if let Some(list) = field(doc, "requiredDataConnectors").and_then(Value::as_sequence) {
        for (i, conn) in list.iter().enumerate() {
            if field(conn, "dataTypes").is_none_or(Value::is_null) {
                c.report(
                    "KQLR017",
                    &[Seg::Key("requiredDataConnectors"), Seg::Index(i)],
                    "this data connector has no `dataTypes` (the tables it provides)".into(),
                    None,
                );
            }
        }
    }
    if let Some(v) = field(doc, "eventGroupingSettings").and_then(|g| field(g, "aggregationKind")) {
        let k = scalar(v).unwrap_or_default();
        if !["SingleAlert", "AlertPerResult"].iter().any(|x| x.eq_ignore_ascii_case(&k)) {
            c.report_value(
                "KQLR004",
                &[Seg::Key("eventGroupingSettings"), Seg::Key("aggregationKind")],
                format!("`{k}` is not an event grouping: Sentinel's are SingleAlert, AlertPerResult"),
                None,
            );
        }
    }
    if nrt {
        return;
    }
    required(c, doc, "requiredDataConnectors");
    let duration = |c: &mut Checker<'_>, key: &'static str| {
        let v = required(c, doc, key)?;
        let s = scalar(v).unwrap_or_default();
        match template_duration_minutes(&s) {
            None => {
                c.report_value(
                    "KQLR006",
                    &[Seg::Key(key)],
                    format!("`{key}: {s}` is not a duration Sentinel reads"),
                    Some("write a whole number and m, h or d: 5m, 1h, 14d".into()),
                );
                None
            }
            Some(m) if !(5..=14 * 1440).contains(&m) => {
                c.report_value(
                    "KQLR006",
                    &[Seg::Key(key)],
                    format!("`{key}: {s}` is outside what Sentinel allows: 5 minutes to 14 days"),
                    None,
                );
                None
            }
            Some(m) => Some(m),
        }
    };
    let frequency = duration(c, "queryFrequency");
    let period = duration(c, "queryPeriod");
    if let (Some(f), Some(p)) = (frequency, period) {
        if p < f {
            c.report(
                "KQLR007",
                &[Seg::Key("queryPeriod")],
                "queryPeriod is shorter than queryFrequency: some events would never be queried".into(),
                Some("make queryPeriod at least queryFrequency".into()),
            );
        } else if p >= 2 * 1440 && f < 60 {
            c.report(
                "KQLR007",
                &[Seg::Key("queryFrequency")],
                "a queryPeriod of 2 days or more needs a queryFrequency of at least 1 hour".into(),
                None,
            );
        }
    }
    if let Some(v) = required(c, doc, "triggerOperator") {
        let s = scalar(v).unwrap_or_default();
        let ok = ["gt", "lt", "eq", "ne", "GreaterThan", "LessThan", "Equal", "NotEqual"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&s));
        if !ok {
            c.report_value(
                "KQLR004",
                &[Seg::Key("triggerOperator")],
                format!("`{s}` is not a trigger operator: gt, lt, eq or ne"),
                None,
            );
        }
    }
    if let Some(v) = required(c, doc, "triggerThreshold") {
        let ok = v.as_i64().is_some_and(|n| (0..=10000).contains(&n));
        if !ok {
            c.report_value(
                "KQLR008",
                &[Seg::Key("triggerThreshold")],
                format!("triggerThreshold `{}` is not a whole number from 0 to 10000", scalar(v).unwrap_or_default()),
                None,
            );
        }
    }
}

fn check_attack(c: &mut Checker<'_>, doc: &Value) {
    let tactics: Vec<String> = field(doc, "tactics")
        .and_then(Value::as_sequence)
        .map(|s| s.iter().map(|t| scalar(t).unwrap_or_default()).collect())
        .unwrap_or_default();
    let mut known = Vec::new();
    for (i, t) in tactics.iter().enumerate() {
        match attack::tactic(t) {
            Some(k) => known.push(k),
            None => {
                // a tactic written ATT&CK's way still counts for its techniques (one finding,
                // not a cascade)
                known.extend(attack::tactic_suggestion(t));
                let help = match attack::tactic_suggestion(t) {
                    Some(s) => format!("Sentinel writes it `{s}`"),
                    None => format!("Sentinel's tactics are {}", attack::TACTICS.join(", ")),
                };
                c.report(
                    "KQLR009",
                    &[Seg::Key("tactics"), Seg::Index(i)],
                    format!("`{t}` is not a tactic Sentinel knows"),
                    Some(help),
                );
            }
        }
    }
    let Some(techniques) = field(doc, "relevantTechniques").and_then(Value::as_sequence) else { return };
    for (i, t) in techniques.iter().enumerate() {
        let t = scalar(t).unwrap_or_default();
        let at = [Seg::Key("relevantTechniques"), Seg::Index(i)];
        if !attack::is_technique_id(&t) {
            c.report(
                "KQLR010",
                &at,
                format!("`{t}` is not an ATT&CK technique id"),
                Some("write T1234, or T1234.001 for a sub-technique".into()),
            );
            continue;
        }
        let of = attack::tactics_of(&t);
        if !of.iter().any(|x| known.contains(x)) {
            let help = if of.is_empty() {
                "Sentinel's validation maps no tactic to this technique; check the id".to_string()
            } else {
                format!("add one of its tactics to `tactics`: {}", of.join(", "))
            };
            c.report(
                "KQLR011",
                &at,
                format!("technique {t} has none of its tactics in the rule's tactics"),
                Some(help),
            );
        }
    }
}

/// `^[a-zA-Z_]+\w*$`: a Log Analytics column name as entity mappings and custom details
/// reference it (`letters_first` false also allows a leading underscore... as Sentinel's
/// patterns do for values but not for custom-detail keys).
fn is_column_name(s: &str, underscore_first: bool) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else { return false };
    (first.is_ascii_alphabetic() || (underscore_first && first == '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_entities(c: &mut Checker<'_>, doc: &Value) {
    let mappings = field(doc, "entityMappings").and_then(Value::as_sequence);
    let query = field(doc, "query").and_then(scalar).unwrap_or_default();
    for legacy in entities::LEGACY_ENTITY_COLUMNS {
        let used = mappings.is_some_and(|m| {
            m.iter().any(|e| {
                field(e, "fieldMappings").and_then(Value::as_sequence).is_some_and(|f| {
                    f.iter().any(|f| field(f, "columnName").and_then(scalar).as_deref() == Some(legacy))
                })
            })
        });
        if query.contains(legacy) && !used {
            c.report(
                "KQLR013",
                &[Seg::Key("query")],
                format!("the query uses the legacy entity column `{legacy}`, and no entity mapping maps it"),
                Some(format!("add an `entityMappings` entry with `columnName: {legacy}`")),
            );
        }
    }
    let Some(mappings) = mappings else { return };
    let em = Seg::Key("entityMappings");
    if mappings.is_empty() || mappings.len() > 5 {
        c.report("KQLR012", &[em], format!("{} entity mappings: Sentinel allows 1 to 5", mappings.len()), None);
    }
    for (i, m) in mappings.iter().enumerate() {
        let ty = field(m, "entityType").and_then(scalar).unwrap_or_default();
        let Some(et) = entities::entity_type(&ty) else {
            let names: Vec<&str> = entities::ENTITY_TYPES.iter().map(|t| t.name).collect();
            c.report_value(
                "KQLR012",
                &[em, Seg::Index(i), Seg::Key("entityType")],
                format!("`{ty}` is not an entity type"),
                Some(format!("Sentinel's entity types are {}", names.join(", "))),
            );
            continue;
        };
        let fields = field(m, "fieldMappings").and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or(&[]);
        if fields.is_empty() || fields.len() > 3 {
            c.report(
                "KQLR012",
                &[em, Seg::Index(i), Seg::Key("fieldMappings")],
                format!("{} field mappings for one {} entity: Sentinel allows 1 to 3", fields.len(), et.name),
                None,
            );
            continue;
        }
        let mut used: Vec<&str> = Vec::new();
        for (j, f) in fields.iter().enumerate() {
            let ident = field(f, "identifier").and_then(scalar).unwrap_or_default();
            let column = field(f, "columnName").and_then(scalar).unwrap_or_default();
            let at = |k| [em, Seg::Index(i), Seg::Key("fieldMappings"), Seg::Index(j), Seg::Key(k)];
            let Some(known) = et.identifiers.iter().copied().find(|x| *x == ident) else {
                let close = et.identifiers.iter().find(|x| x.eq_ignore_ascii_case(&ident));
                let help = match close {
                    Some(x) => format!("identifiers are case-sensitive: write `{x}`"),
                    None => format!("{}'s identifiers are {}", et.name, et.identifiers.join(", ")),
                };
                c.report_value(
                    "KQLR012",
                    &at("identifier"),
                    format!("`{ident}` is not an identifier of the {} entity", et.name),
                    Some(help),
                );
                continue;
            };
            if used.contains(&known) {
                c.report_value(
                    "KQLR012",
                    &at("identifier"),
                    format!("identifier `{ident}` is mapped twice in one {} entity", et.name),
                    None,
                );
                continue;
            }
            if column.chars().count() > 500 || !is_column_name(&column, true) {
                c.report_value("KQLR012", &at("columnName"), format!("`{column}` is not a column name Sentinel can map (a letter or _ first, then letters, digits, _; at most 500)"), None);
                continue;
            }
            used.push(known);
        }
        if used.len() == fields.len() && !et.required.iter().any(|set| set.iter().all(|x| used.contains(x))) {
            let sets: Vec<String> = et.required.iter().map(|s| s.join(" + ")).collect();
            c.report(
                "KQLR012",
                &[em, Seg::Index(i)],
                format!("this {} mapping has none of the identifiers that identify a {}", et.name, et.name),
                Some(format!("map one of: {}", sets.join("; "))),
            );
        }
    }
}

fn check_details(c: &mut Checker<'_>, doc: &Value) {
    if let Some(details) = field(doc, "customDetails").and_then(Value::as_mapping) {
        let cd = Seg::Key("customDetails");
        if details.len() > 20 {
            c.report("KQLR014", &[cd], format!("{} custom details: Sentinel allows at most 20", details.len()), None);
        }
        for (k, v) in details {
            let key = scalar(k).unwrap_or_default();
            let value = scalar(v).unwrap_or_default();
            let key_ref: &str = &key;
            // the key's own line: keys are unique, so find it under customDetails
            if key.chars().count() > 20 || !is_column_name(&key, false) {
                c.report("KQLR014", &[cd, Seg::Key(key_ref)], format!("custom detail key `{key}` must start with a letter, hold only letters, digits and _, and be at most 20 characters"), None);
            } else if value.chars().count() > 500 || !is_column_name(&value, true) {
                c.report("KQLR014", &[cd, Seg::Key(key_ref)], format!("custom detail `{key}` names `{value}`, which is not a column name (a letter or _ first, then letters, digits, _)"), None);
            }
        }
    }
    if let Some(o) = field(doc, "alertDetailsOverride").filter(|o| o.is_mapping()) {
        for (key, max) in [("alertDisplayNameFormat", 256), ("alertDescriptionFormat", 5000)] {
            let Some(v) = field(o, key).filter(|v| !v.is_null()) else { continue };
            let s = scalar(v).unwrap_or_default();
            let at = [Seg::Key("alertDetailsOverride"), Seg::Key(key)];
            let n = s.chars().count();
            if s.trim().is_empty() || n > max {
                c.report(
                    "KQLR015",
                    &at,
                    format!("`{key}` has {n} characters; Sentinel allows 1 to {max}, not blank"),
                    None,
                );
                continue;
            }
            let placeholders = placeholders(&s);
            if placeholders > 3 {
                c.report(
                    "KQLR015",
                    &at,
                    format!("`{key}` has {placeholders} {{{{Column}}}} placeholders; Sentinel allows at most 3"),
                    None,
                );
            }
        }
    }
}

/// `{{...}}` placeholders in an alert format (`{{([^{}]*)}}`).
fn placeholders(s: &str) -> usize {
    let b = s.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'{' && b[i + 1] == b'{' {
            if let Some(end) = s[i + 2..].find("}}") {
                let inner = &s[i + 2..i + 2 + end];
                if !inner.contains(['{', '}']) {
                    n += 1;
                    i += 2 + end + 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    n
}

/// The rule's id, for the pack-wide check that ids are unique.
pub fn rule_id(doc: &Value) -> Option<String> {
    field(doc, "id").and_then(scalar).filter(|s| !s.is_empty())
}

/// A finding for a rule whose id another rule of the pack already has.
pub fn duplicate_id(text: &str, id: &str, first: &str) -> Finding {
    let mut c = Checker::new(text);
    c.report_value(
        "KQLR003",
        &[Seg::Key("id")],
        format!("id `{id}` is already the id of {first}"),
        Some("give one of the rules a new GUID".into()),
    );
    c.findings.remove(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Vec<(&'static str, usize)> {
        let doc: Value = serde_yaml::from_str(text).unwrap();
        check_rule(std::path::Path::new("detections/r.yaml"), text, &doc)
            .into_iter()
            .map(|f| (f.code, f.line))
            .collect()
    }

    const GOOD: &str = "id: 0b0b6c1d-7e6f-4c43-8f8e-5f3c5d3b8f1a
name: Test rule
description: Something happened.
severity: Medium
requiredDataConnectors:
  - connectorId: AzureActiveDirectory
    dataTypes:
      - SigninLogs
queryFrequency: 1h
queryPeriod: 1d
triggerOperator: gt
triggerThreshold: 0
tactics:
  - InitialAccess
relevantTechniques:
  - T1078.004
query: |
  SigninLogs | where ResultType == 0
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
customDetails:
  AppName: AppDisplayName
version: 1.0.0
kind: Scheduled
";

    #[test]
    fn a_valid_rule_has_no_findings() {
        assert_eq!(check(GOOD), vec![]);
    }

    #[test]
    fn each_rule_of_sentinels_ci_is_checked() {
        let bad = GOOD
            .replace("0b0b6c1d-7e6f-4c43-8f8e-5f3c5d3b8f1a", "not-a-guid")
            .replace("queryPeriod: 1d", "queryPeriod: 30m")
            .replace("  - InitialAccess", "  - Initial Access")
            .replace("identifier: FullName", "identifier: Fullname")
            .replace("version: 1.0.0", "version: 1.0");
        assert_eq!(
            check(&bad),
            vec![("KQLR002", 1), ("KQLR007", 10), ("KQLR009", 14), ("KQLR012", 22), ("KQLR016", 26)]
        );
        let bad = GOOD
            .replace("queryFrequency: 1h", "queryFrequency: 2m")
            .replace("triggerThreshold: 0", "triggerThreshold: 20000");
        assert_eq!(check(&bad), vec![("KQLR006", 9), ("KQLR008", 12)]);
        let bad =
            GOOD.replace("queryPeriod: 1d", "queryPeriod: 3d").replace("queryFrequency: 1h", "queryFrequency: 30m");
        assert_eq!(check(&bad), vec![("KQLR007", 9)]);
        let bad = GOOD
            .replace("severity: Medium\n", "")
            .replace("SigninLogs | where", "SigninLogs | extend AccountCustomEntity = 1 | where");
        assert_eq!(check(&bad), vec![("KQLR001", 1), ("KQLR013", 16)]);
        let bad = GOOD.replace("AppName: AppDisplayName", "1App: AppDisplayName");
        assert_eq!(check(&bad), vec![("KQLR014", 25)]);
        let bad = GOOD.replace("entityType: Account", "entityType: Acount");
        assert_eq!(check(&bad), vec![("KQLR012", 20)]);
        let bad = GOOD.replace("identifier: FullName", "identifier: DisplayName");
        assert_eq!(check(&bad), vec![("KQLR012", 20)]);
    }

    #[test]
    fn hunting_queries_are_not_checked_as_rules() {
        let doc: Value = serde_yaml::from_str(GOOD).unwrap();
        let bad = GOOD.replace("0b0b6c1d-7e6f-4c43-8f8e-5f3c5d3b8f1a", "x");
        let bad_doc: Value = serde_yaml::from_str(&bad).unwrap();
        assert!(check_rule(std::path::Path::new("pack/Hunting Queries/r.yaml"), &bad, &bad_doc).is_empty());
        assert!(!is_analytic_rule(std::path::Path::new("pack/hunting/r.yaml"), &doc));
        assert!(is_analytic_rule(std::path::Path::new("r.yaml"), &doc));
    }

    #[test]
    fn durations_and_ids() {
        assert_eq!(template_duration_minutes("5m"), Some(5));
        assert_eq!(template_duration_minutes("14d"), Some(14 * 1440));
        assert_eq!(template_duration_minutes("01:30:00"), Some(90));
        assert_eq!(template_duration_minutes("1.00:00:00"), Some(1440));
        assert_eq!(template_duration_minutes("PT1H"), None);
        assert!(is_guid("0B0B6C1D-7E6F-4C43-8F8E-5F3C5D3B8F1A"));
        assert!(!is_guid("0b0b6c1d-7e6f-4c43-8f8e"));
        assert_eq!(placeholders("{{A}} and {{B}} {{C}} {{D}}"), 4);
    }
}
