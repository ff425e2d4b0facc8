//! Lenient JSON for schema files: a byte-order mark and trailing commas are accepted, and objects keep
//! their key order (column order matters) and repeated keys.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value whose objects are ordered lists of (key, value) pairs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A number, as its text (`5`, `-1`, `2.5`).
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The value of the first of `keys` present in this object; keys are compared case-insensitively.
    pub(crate) fn get(&self, keys: &[&str]) -> Option<&Json> {
        let Json::Object(pairs) = self else { return None };
        keys.iter().find_map(|want| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(want)).map(|(_, v)| v))
    }

    /// A string, number or boolean as text; `None` for null, arrays and objects.
    pub(crate) fn as_text(&self) -> Option<String> {
        match self {
            Json::String(s) | Json::Number(s) => Some(s.clone()),
            Json::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// JavaScript truthiness, as kusto-oracle tests values.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Json::Null => false,
            Json::Bool(b) => *b,
            Json::Number(n) => n.parse::<f64>().is_ok_and(|v| v != 0.0),
            Json::String(s) => !s.is_empty(),
            Json::Array(_) | Json::Object(_) => true,
        }
    }

    /// A short description for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// Parses lenient JSON; on error, returns (line, column, message).
pub(crate) fn parse(text: &str) -> Result<Json, (usize, usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let cleaned = strip_trailing_commas(text);
    serde_json::from_str(&cleaned).map_err(|e| (e.line(), e.column(), e.to_string()))
}

/// Replaces each comma that is followed (after blanks) by `]` or `}` with a space, outside strings,
/// so that error positions stay right.
pub(crate) fn strip_trailing_commas(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b',' {
            let next = bytes[i + 1..].iter().find(|c| !c.is_ascii_whitespace());
            if matches!(next, Some(b']' | b'}')) {
                out.push(b' ');
                continue;
            }
        }
        out.push(b);
    }
    // Only ASCII commas were replaced by ASCII spaces, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut pairs = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            pairs.push((k, v));
        }
        Ok(Json::Object(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_commas_outside_strings() {
        assert_eq!(strip_trailing_commas(r#"{"a": [1, 2,], "b": ",]",}"#), r#"{"a": [1, 2 ], "b": ",]" }"#);
        assert_eq!(
            strip_trailing_commas(
                r#"["x\",", 1,
        ]"#
            ),
            "[\"x\\\",\", 1 \n        ]"
        );
    }

    #[test]
    fn keeps_key_order_and_repeats() {
        let v = parse("\u{feff}{\"z\": 1, \"a\": true, \"z\": [null, 2.5],}").unwrap();
        let Json::Object(pairs) = &v else { panic!() };
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "a", "z"]);
        assert_eq!(v.get(&["Z"]), Some(&Json::Number("1".into())));
        assert_eq!(pairs[2].1, Json::Array(vec![Json::Null, Json::Number("2.5".into())]));
    }

    #[test]
    fn error_position() {
        let (line, column, _) = parse("{\n  \"a\": 1\n  \"b\": 2\n}").unwrap_err();
        assert_eq!((line, column), (3, 3));
    }
}
