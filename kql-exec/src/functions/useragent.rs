//! `parse_user_agent(ua, look_for)`: the browser, operating system and device of a user-agent
//! string, by the rules of the ua-parser project (uap-core's `regexes.yaml`, Apache License
//! 2.0, kept as `data/uap-regexes.json` by `scripts/gen-uap-regexes.py`), as Kusto does.
//!
//! Each list of rules is tried in order and the first regex that matches wins; its
//! `*_replacement` values (with `$1`..`$9` standing for the groups) override the groups taken in
//! order. No match gives the family `Other`. Kusto writes every missing field as `""`.

use super::array::{row_call, Out, V};
use super::BindCtx;
use crate::binder::Bound;
use crate::error::Result;
use crate::schema::KqlType;
use crate::value::dynamic as dj;
use regex::{Captures, Regex};
use std::sync::OnceLock;

/// One rule: its regex (compiled on first use) and its replacements by key.
struct Rule {
    pattern: String,
    case_insensitive: bool,
    replacements: Vec<(String, String)>,
    compiled: OnceLock<Option<Regex>>,
}

impl Rule {
    fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| {
                let p = if self.case_insensitive { format!("(?i){}", self.pattern) } else { self.pattern.clone() };
                Regex::new(&p).ok()
            })
            .as_ref()
    }
    fn replacement(&self, key: &str) -> Option<&str> {
        self.replacements.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

struct Rules {
    user_agent: Vec<Rule>,
    os: Vec<Rule>,
    device: Vec<Rule>,
}

fn rules() -> &'static Rules {
    static R: OnceLock<Rules> = OnceLock::new();
    R.get_or_init(|| {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../data/uap-regexes.json")).unwrap_or(serde_json::Value::Null);
        let list = |section: &str| -> Vec<Rule> {
            v[section]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    let obj = r.as_object()?;
                    Some(Rule {
                        pattern: obj.get("regex")?.as_str()?.to_string(),
                        case_insensitive: obj.get("regex_flag").and_then(|f| f.as_str()) == Some("i"),
                        replacements: obj
                            .iter()
                            .filter(|(k, _)| k.ends_with("_replacement"))
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                            .collect(),
                        compiled: OnceLock::new(),
                    })
                })
                .collect()
        };
        Rules { user_agent: list("user_agent_parsers"), os: list("os_parsers"), device: list("device_parsers") }
    })
}

/// The first rule of `list` that matches `ua`, with its groups.
fn first_match<'r, 'u>(list: &'r [Rule], ua: &'u str) -> Option<(&'r Rule, Captures<'u>)> {
    list.iter().find_map(|r| r.regex().and_then(|re| re.captures(ua)).map(|c| (r, c)))
}

/// `$1`..`$9` in `template` replaced by the groups (missing groups by nothing), trimmed;
/// `None` when that leaves nothing.
fn substitute(template: &str, caps: &Captures) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            if let Some(d) = chars.peek().and_then(|d| d.to_digit(10)).filter(|d| *d >= 1) {
                chars.next();
                out.push_str(caps.get(d as usize).map_or("", |m| m.as_str()));
                continue;
            }
        }
        out.push(c);
    }
    let t = out.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Field `k` (1-based group) of a match: the replacement when the rule has one, else group `k`.
fn field(rule: &Rule, caps: &Captures, key: &str, group: usize) -> Option<String> {
    match rule.replacement(key) {
        Some(t) => substitute(t, caps),
        None => caps.get(group).map(|m| m.as_str().to_string()).filter(|s| !s.is_empty()),
    }
}

/// The browser: family, major, minor, patch.
pub fn browser(ua: &str) -> [Option<String>; 4] {
    match first_match(&rules().user_agent, ua) {
        Some((r, c)) => [
            field(r, &c, "family_replacement", 1),
            field(r, &c, "v1_replacement", 2),
            field(r, &c, "v2_replacement", 3),
            field(r, &c, "v3_replacement", 4),
        ],
        None => [Some("Other".into()), None, None, None],
    }
}

/// The operating system: family, major, minor, patch, patch-minor.
pub fn os(ua: &str) -> [Option<String>; 5] {
    match first_match(&rules().os, ua) {
        Some((r, c)) => [
            field(r, &c, "os_replacement", 1),
            field(r, &c, "os_v1_replacement", 2),
            field(r, &c, "os_v2_replacement", 3),
            field(r, &c, "os_v3_replacement", 4),
            field(r, &c, "os_v4_replacement", 5),
        ],
        None => [Some("Other".into()), None, None, None, None],
    }
}

/// The device: family, brand, model.
pub fn device(ua: &str) -> [Option<String>; 3] {
    match first_match(&rules().device, ua) {
        Some((r, c)) => [
            field(r, &c, "device_replacement", 1),
            r.replacement("brand_replacement").and_then(|t| substitute(t, &c)),
            field(r, &c, "model_replacement", 1),
        ],
        None => [Some("Other".into()), None, None],
    }
}

fn bag(names: &[&str], values: &[Option<String>]) -> String {
    let vals: Vec<String> = values.iter().map(|v| dj::json_string(v.as_deref().unwrap_or(""))).collect();
    let entries: Vec<(&str, &str)> = names.iter().copied().zip(vals.iter().map(String::as_str)).collect();
    dj::build_object(&entries)
}

/// `parse_user_agent(ua, look_for)`: `look_for` is `"browser"`, `"os"` or `"device"`, or a
/// dynamic array of them; the result has a `Browser`, `OperatingSystem` and/or `Device` bag.
/// `None` (null) when `look_for` names nothing known.
pub fn parse_user_agent(ua: &str, look_for: &[String]) -> Option<String> {
    let mut parts: Vec<(&str, String)> = Vec::new();
    for t in look_for {
        match t.to_ascii_lowercase().as_str() {
            "browser" if !parts.iter().any(|(k, _)| *k == "Browser") => {
                parts.push(("Browser", bag(&["Family", "MajorVersion", "MinorVersion", "Patch"], &browser(ua))))
            }
            "os" if !parts.iter().any(|(k, _)| *k == "OperatingSystem") => parts.push((
                "OperatingSystem",
                bag(&["Family", "MajorVersion", "MinorVersion", "Patch", "PatchMinor"], &os(ua)),
            )),
            "device" if !parts.iter().any(|(k, _)| *k == "Device") => {
                parts.push(("Device", bag(&["Family", "Brand", "Model"], &device(ua))))
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        return None;
    }
    let entries: Vec<(&str, &str)> = parts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Some(dj::build_object(&entries))
}

fn f_parse_user_agent(a: &[V]) -> Out {
    (|| {
        let ua = a[0].s()?;
        let raw = a[1].s()?;
        // a dynamic array of targets, or one target (a string arrives as its JSON text)
        let targets: Vec<String> = match dj::array_elements(raw) {
            Some(items) => items.iter().filter_map(|i| dj::scalar_string(i).map(|s| s.into_owned())).collect(),
            None => vec![dj::scalar_string(raw).map_or_else(|| raw.to_string(), |s| s.into_owned())],
        };
        parse_user_agent(ua, &targets)
    })()
    .into()
}

/// Bind `parse_user_agent`.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    if name != "parse_user_agent" || args.len() != 2 {
        return None;
    }
    let b = &*ctx.binder;
    let ua = b.coerce(args[0].clone(), KqlType::String).expr;
    let look_for = b.coerce(args[1].clone(), KqlType::Dynamic).expr;
    Some(Ok(row_call("kql_parse_user_agent", KqlType::Dynamic, f_parse_user_agent, vec![ua, look_for])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kusto_doc_examples() {
        let ua = "Mozilla/5.0 (Windows; U; en-US) AppleWebKit/531.9 (KHTML, like Gecko) AdobeAIR/2.5.1";
        assert_eq!(browser(ua), [Some("AdobeAIR".into()), Some("2".into()), Some("5".into()), Some("1".into())]);
        let ua = "Mozilla/5.0 (SymbianOS/9.2; U; Series60/3.1 NokiaN81-3/10.0.032 Profile/MIDP-2.0 \
                  Configuration/CLDC-1.1 ) AppleWebKit/413 (KHTML, like Gecko) Safari/4";
        assert_eq!(browser(ua), [Some("Nokia OSS Browser".into()), Some("3".into()), Some("1".into()), None]);
        assert_eq!(os(ua), [Some("Symbian OS".into()), Some("9".into()), Some("2".into()), None, None]);
        assert_eq!(device(ua), [Some("Nokia N81".into()), Some("Nokia".into()), Some("N81-3".into())]);
    }

    #[test]
    fn common_agents_and_unknown_ones() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/120.0.6099.130 Safari/537.36";
        assert_eq!(browser(chrome)[0].as_deref(), Some("Chrome"));
        assert_eq!(browser(chrome)[1].as_deref(), Some("120"));
        assert_eq!(os(chrome)[0].as_deref(), Some("Windows"));
        assert_eq!(os(chrome)[1].as_deref(), Some("10"));
        assert_eq!(device(chrome)[0].as_deref(), Some("Other"));
        assert_eq!(browser("zzz")[0].as_deref(), Some("Other"));
        let out = parse_user_agent("zzz", &["os".into()]).unwrap();
        assert_eq!(
            out,
            r#"{"OperatingSystem":{"Family":"Other","MajorVersion":"","MinorVersion":"","Patch":"","PatchMinor":""}}"#
        );
        assert_eq!(parse_user_agent("zzz", &["nothing".into()]), None);
    }

    #[test]
    fn nearly_every_rule_compiles() {
        let r = rules();
        let all: Vec<&Rule> = r.user_agent.iter().chain(&r.os).chain(&r.device).collect();
        assert!(all.len() > 1000);
        let failed: Vec<&str> = all.iter().filter(|r| r.regex().is_none()).map(|r| r.pattern.as_str()).collect();
        assert!(failed.len() <= 5, "{} rules do not compile: {failed:?}", failed.len());
    }
}
