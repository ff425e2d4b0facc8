//! `parse_xml`: XML text to a dynamic value, in Kusto's XML-to-JSON convention: an element is
//! `{name: value}`; an empty `<e/>` is null; an element with only text is that text (a string:
//! no number inference); attributes are `"@name"` keys and text beside attributes or child
//! elements is `"#text"`; repeated child names become arrays. Only elements, attributes and
//! text (CDATA included) are kept: declarations, comments and processing instructions are
//! skipped. Invalid XML, an empty input or one over 1 MB gives null.

use super::dynamic::json_string;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Inputs longer than this (in bytes) give null, as in Kusto.
const MAX_INPUT: usize = 1_048_576;

enum Node {
    Null,
    Text(String),
    Obj(Vec<(String, Node)>),
    Arr(Vec<Node>),
}

impl Node {
    fn write(&self, out: &mut String) {
        match self {
            Node::Null => out.push_str("null"),
            Node::Text(s) => out.push_str(&json_string(s)),
            Node::Arr(items) => {
                out.push('[');
                for (k, x) in items.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    x.write(out);
                }
                out.push(']');
            }
            Node::Obj(entries) => {
                out.push('{');
                for (k, (name, x)) in entries.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(&json_string(name));
                    out.push(':');
                    x.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// An element being read.
struct Frame {
    name: String,
    attrs: Vec<(String, String)>,
    /// Child elements and text nodes, in document order (text under `#text`).
    children: Vec<(String, Node)>,
}

impl Frame {
    fn open(e: &BytesStart) -> Option<Frame> {
        let name = std::str::from_utf8(e.name().as_ref()).ok()?.to_string();
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.ok()?;
            let key = std::str::from_utf8(a.key.as_ref()).ok()?.to_string();
            attrs.push((key, a.unescape_value().ok()?.into_owned()));
        }
        Some(Frame { name, attrs, children: Vec::new() })
    }

    fn close(self, self_closing: bool) -> (String, Node) {
        let has_elements = self.children.iter().any(|(n, _)| n != "#text");
        if self.attrs.is_empty() && !has_elements {
            let texts: Vec<String> = self
                .children
                .into_iter()
                .filter_map(|(_, n)| match n {
                    Node::Text(t) => Some(t),
                    _ => None,
                })
                .collect();
            let node = match (texts.is_empty(), self_closing) {
                (true, true) => Node::Null,
                _ => Node::Text(texts.concat()),
            };
            return (self.name, node);
        }
        let mut entries: Vec<(String, Node)> =
            self.attrs.into_iter().map(|(k, v)| (format!("@{k}"), Node::Text(v))).collect();
        for (name, node) in self.children {
            // text beside elements or attributes is trimmed (it is mostly indentation)
            let node = match node {
                Node::Text(t) if name == "#text" => Node::Text(t.trim().to_string()),
                other => other,
            };
            match entries.iter_mut().find(|(k, _)| *k == name) {
                Some((_, Node::Arr(items))) => items.push(node),
                Some((_, slot)) => {
                    let first = std::mem::replace(slot, Node::Null);
                    *slot = Node::Arr(vec![first, node]);
                }
                None => entries.push((name, node)),
            }
        }
        (self.name, Node::Obj(entries))
    }
}

/// Attach a finished element to its parent, or make it the document's root (a second root is
/// invalid).
fn attach(stack: &mut [Frame], root: &mut Option<(String, Node)>, el: (String, Node)) -> Option<()> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return None,
    }
    Some(())
}

fn add_text(stack: &mut [Frame], text: String) -> Option<()> {
    let blank = text.chars().all(char::is_whitespace);
    match stack.last_mut() {
        Some(top) if !blank => top.children.push(("#text".to_string(), Node::Text(text))),
        Some(_) => {}
        // text outside the root element
        None if !blank => return None,
        None => {}
    }
    Some(())
}

/// Kusto's `parse_xml` result as JSON text; `None` (null) for invalid XML.
pub fn parse_xml_json(text: &str) -> Option<String> {
    if text.len() > MAX_INPUT {
        return None;
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<(String, Node)> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => stack.push(Frame::open(&e)?),
            Event::Empty(e) => {
                let el = Frame::open(&e)?.close(true);
                attach(&mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                let el = stack.pop()?.close(false);
                attach(&mut stack, &mut root, el)?;
            }
            Event::Text(t) => add_text(&mut stack, t.unescape().ok()?.into_owned())?,
            Event::CData(c) => {
                let s = std::str::from_utf8(&c).ok()?.to_string();
                match stack.last_mut() {
                    Some(top) => top.children.push(("#text".to_string(), Node::Text(s))),
                    None => return None,
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return None;
    }
    let (name, node) = root?;
    let mut out = String::new();
    Node::Obj(vec![(name, node)]).write(&mut out);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        parse_xml_json(s)
    }

    #[test]
    fn doc_conversion_table() {
        assert_eq!(p("<e/>").as_deref(), Some(r#"{"e":null}"#));
        assert_eq!(p("<e>text</e>").as_deref(), Some(r#"{"e":"text"}"#));
        assert_eq!(p(r#"<e name="value" />"#).as_deref(), Some(r#"{"e":{"@name":"value"}}"#));
        assert_eq!(p(r#"<e name="value">text</e>"#).as_deref(), Some(r##"{"e":{"@name":"value","#text":"text"}}"##));
        assert_eq!(p("<e> <a>text</a> <b>text</b> </e>").as_deref(), Some(r#"{"e":{"a":"text","b":"text"}}"#));
        assert_eq!(p("<e> <a>text</a> <a>text</a> </e>").as_deref(), Some(r#"{"e":{"a":["text","text"]}}"#));
        assert_eq!(p("<e> text <a>text</a> </e>").as_deref(), Some(r##"{"e":{"#text":"text","a":"text"}}"##));
    }

    #[test]
    fn doc_example() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<duration>
    <value>118.0</value>
    <count>5.0</count>
    <min>100.0</min>
    <max>150.0</max>
    <stdDev>0.0</stdDev>
    <sampledValue>118.0</sampledValue>
    <sum>118.0</sum>
</duration>"#;
        assert_eq!(
            p(xml).as_deref(),
            Some(
                r#"{"duration":{"value":"118.0","count":"5.0","min":"100.0","max":"150.0","stdDev":"0.0","sampledValue":"118.0","sum":"118.0"}}"#
            )
        );
    }

    #[test]
    fn windows_event_data() {
        let xml = r#"<DataItem type="System.XmlData" time="2020-01-01T00:00:00Z"><EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><Data Name="RuleName">-</Data><Data Name="Image">C:\a &amp; b.exe</Data><Data Name="Empty"></Data><Data Name="Null" /></EventData></DataItem>"#;
        assert_eq!(
            p(xml).as_deref(),
            Some(
                r##"{"DataItem":{"@type":"System.XmlData","@time":"2020-01-01T00:00:00Z","EventData":{"@xmlns":"http://schemas.microsoft.com/win/2004/08/events/event","Data":[{"@Name":"RuleName","#text":"-"},{"@Name":"Image","#text":"C:\\a & b.exe"},{"@Name":"Empty"},{"@Name":"Null"}]}}}"##
            )
        );
    }

    #[test]
    fn edges() {
        assert_eq!(p("<e></e>").as_deref(), Some(r#"{"e":""}"#));
        assert_eq!(p("<e>  a b  </e>").as_deref(), Some(r#"{"e":"  a b  "}"#));
        assert_eq!(p("<e><![CDATA[<x>]]></e>").as_deref(), Some(r#"{"e":"<x>"}"#));
        assert_eq!(p("<e><!-- c --><a/></e>").as_deref(), Some(r#"{"e":{"a":null}}"#));
        assert_eq!(p("<a:e xmlns:a=\"u\"/>").as_deref(), Some(r#"{"a:e":{"@xmlns:a":"u"}}"#));
        assert_eq!(p("\u{feff}<e/>").as_deref(), Some(r#"{"e":null}"#));
        assert_eq!(p("<e>&#65;&lt;</e>").as_deref(), Some(r#"{"e":"A<"}"#));
    }

    #[test]
    fn invalid_is_null() {
        for bad in
            ["", "   ", "not xml", "<e>", "<e></f>", "<a/><b/>", "x<e/>", "<e a='1' a='2'/>", "<e>&bogus;</e>", "</e>"]
        {
            assert_eq!(p(bad), None, "{bad}");
        }
        assert_eq!(p(&format!("<e>{}</e>", "x".repeat(MAX_INPUT))), None);
    }
}
