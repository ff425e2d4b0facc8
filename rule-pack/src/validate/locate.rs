//! Where a field of a YAML rule is written: a best-effort path lookup over the text of
//! block-style YAML (what rule files use), so a finding points at its line and column.
//! Flow-style values (`tactics: [A, B]`) resolve to the key that holds them.

/// One step of a path into a YAML document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A sequence index (0-based).
    Index(usize),
}

/// A line of the text: its indentation, its content after the indentation (and after any
/// `- ` list markers, whose width is added to the indentation), and whether it opened a list
/// item.
struct Line<'t> {
    raw_indent: usize,
    indent: usize,
    content: &'t str,
    dash: bool,
}

fn lines(text: &str) -> Vec<Option<Line<'_>>> {
    text.lines()
        .map(|l| {
            let trimmed = l.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                return None;
            }
            let raw_indent = l.len() - trimmed.len();
            let (mut indent, mut content, mut dash) = (raw_indent, trimmed, false);
            while let Some(rest) = content.strip_prefix('-').filter(|r| r.is_empty() || r.starts_with(' ')) {
                let after = rest.trim_start();
                indent += content.len() - after.len();
                content = after;
                dash = true;
            }
            Some(Line { raw_indent, indent, content, dash })
        })
        .collect()
}

/// The 1-based line and column of the node at `path` (or of the deepest part of it that
/// could be found; 1:1 when not even the first key is written).
pub fn locate(text: &str, path: &[Seg<'_>]) -> (usize, usize) {
    let ls = lines(text);
    let mut range = 0..ls.len();
    let mut found = (1, 1);
    for (depth, seg) in path.iter().enumerate() {
        match *seg {
            Seg::Key(key) => {
                // keys of this mapping sit at the smallest indentation in the range
                let Some(indent) = range.clone().filter_map(|i| ls[i].as_ref()).map(|l| l.indent).min() else {
                    return found;
                };
                let hit = range
                    .clone()
                    .find(|&i| ls[i].as_ref().is_some_and(|l| l.indent == indent && is_key(l.content, key)));
                let Some(i) = hit else { return found };
                let l = ls[i].as_ref().expect("hit is a line");
                found = (i + 1, l.indent + 1);
                // the value: following lines indented deeper, or a list at the key's own
                // indentation
                let key_indent = l.indent;
                let mut end = i + 1;
                while end < range.end {
                    match &ls[end] {
                        None => end += 1,
                        Some(n) if n.raw_indent > key_indent || (n.raw_indent == key_indent && n.dash) => end += 1,
                        Some(_) => break,
                    }
                }
                let inline = value_after_key(l.content);
                if !inline.is_empty() && path.get(depth + 1).is_some() {
                    // a flow value on the key's line: point at the key
                    return found;
                }
                range = i + 1..end;
            }
            Seg::Index(n) => {
                let Some(dash_indent) =
                    range.clone().filter_map(|i| ls[i].as_ref()).find(|l| l.dash).map(|l| l.raw_indent)
                else {
                    return found;
                };
                let items: Vec<usize> = range
                    .clone()
                    .filter(|&i| ls[i].as_ref().is_some_and(|l| l.dash && l.raw_indent == dash_indent))
                    .collect();
                let Some(&start) = items.get(n) else { return found };
                let end = items.get(n + 1).copied().unwrap_or(range.end);
                let l = ls[start].as_ref().expect("item is a line");
                found = (start + 1, dash_indent + 1);
                if path.get(depth + 1).is_none() {
                    found = (start + 1, l.indent + 1);
                }
                range = start..end;
            }
        }
    }
    found
}

fn is_key(content: &str, key: &str) -> bool {
    let unquoted = content
        .strip_prefix('"')
        .and_then(|c| c.strip_prefix(key))
        .and_then(|c| c.strip_prefix('"'))
        .or_else(|| content.strip_prefix('\'').and_then(|c| c.strip_prefix(key)).and_then(|c| c.strip_prefix('\'')))
        .or_else(|| content.strip_prefix(key));
    unquoted.is_some_and(|rest| rest.trim_start().starts_with(':'))
}

fn value_after_key(content: &str) -> &str {
    match content.find(':') {
        Some(i) => {
            let v = content[i + 1..].trim();
            if v.starts_with('#') {
                ""
            } else {
                v
            }
        }
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::{locate, Seg::*};

    const TEXT: &str = "id: 1\nname: x\ntactics:\n  - InitialAccess\n  - Bad\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: FullName\n        columnName: A\n  - entityType: IP\n    fieldMappings:\n      - identifier: Address\n        columnName: B\nflow: [a, b]\n";

    #[test]
    fn finds_keys_items_and_nested_fields() {
        assert_eq!(locate(TEXT, &[Key("name")]), (2, 1));
        assert_eq!(locate(TEXT, &[Key("tactics"), Index(1)]), (5, 5));
        assert_eq!(locate(TEXT, &[Key("entityMappings"), Index(1), Key("entityType")]), (11, 5));
        assert_eq!(
            locate(TEXT, &[Key("entityMappings"), Index(1), Key("fieldMappings"), Index(0), Key("columnName")]),
            (14, 9)
        );
        assert_eq!(
            locate(TEXT, &[Key("entityMappings"), Index(0), Key("fieldMappings"), Index(0), Key("identifier")]),
            (9, 9)
        );
        // flow style: the key
        assert_eq!(locate(TEXT, &[Key("flow"), Index(1)]), (15, 1));
        // absent: the deepest found part
        assert_eq!(locate(TEXT, &[Key("entityMappings"), Index(7)]), (6, 1));
        assert_eq!(locate(TEXT, &[Key("nope")]), (1, 1));
    }

    #[test]
    fn lists_at_the_key_indentation() {
        let t = "tactics:\n- A\n- B\nname: x\n";
        assert_eq!(locate(t, &[Key("tactics"), Index(1)]), (3, 3));
        assert_eq!(locate(t, &[Key("name")]), (4, 1));
    }
}
