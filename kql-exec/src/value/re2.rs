//! Kusto's regular expressions are RE2's (the Kusto page *RE2 syntax*); the engine runs them on
//! Rust's `regex` crate, which reads some RE2 text differently or rejects it. [`compile`] is the
//! one way the engine builds a regex from a KQL pattern (`matches regex`, `extract`,
//! `extract_all`, `replace_regex`, `parse kind=regex`, `parse-kv ... with (regex=...)`,
//! `countof(..., "regex")`, `split` and `trim` by regex...): it translates the pattern
//! ([`translate`]) and builds it with RE2's options.
//!
//! What differs, and how it is translated (from RE2's syntax table):
//!
//! | RE2 | meaning in RE2 | Rust `regex` | translated to |
//! |---|---|---|---|
//! | `{` not starting `{n}`, `{n,}`, `{n,m}` (`{?`, `{,3}`, `a{x}`) | a literal brace | an error | `\{` |
//! | `\d` `\D` | ASCII `[0-9]` | Unicode digits | `[0-9]`, `[^0-9]` |
//! | `\w` `\W` | ASCII `[0-9A-Za-z_]` | Unicode word characters | the ASCII class |
//! | `\s` `\S` | ASCII `[\t\n\f\r ]` | Unicode white space (also `\v`) | the ASCII class |
//! | `\b` `\B` | ASCII word boundary | Unicode word boundary | `(?-u:\b)`, `(?-u:\B)` |
//! | `[` inside a class (not `[:alpha:]`) | a literal `[` | opens a nested class | `\[` |
//! | `&&`, `--`, `~~` inside a class | literal characters | class intersection, difference, symmetric difference | escaped |
//! | `\Q...\E` | literal text | an error | each character escaped |
//! | `\123`, `\0` | octal character code | an error | `\x{53}`, `\x{0}` |
//! | `\C` | any byte | an error | `(?s:.)` (any character: a `str` has no lone bytes) |
//!
//! Everything else (`(?i)`, `(?P<name>...)`, `\pL`, `[[:alpha:]]`, `\A`, `\z`, lazy
//! repetitions, `(?s)`, `(?m)`, `(?U)`) means the same in both and is copied. What RE2 rejects
//! (back-references, look-around) the `regex` crate rejects too.

use std::borrow::Cow;

/// An RE2 pattern in the syntax of Rust's `regex` crate, meaning the same (see the module docs).
/// Patterns without anything to translate are returned as they are.
pub fn translate(pattern: &str) -> Cow<'_, str> {
    if !pattern.bytes().any(|b| matches!(b, b'{' | b'\\' | b'[')) {
        return Cow::Borrowed(pattern);
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    // inside a character class: the position just after its `[` (and `^`), to know whether a
    // `]` is the class's first character (a literal in both dialects)
    let mut class_start: Option<usize> = None;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() => {
                let e = chars[i + 1];
                i += 2;
                let inside = class_start.is_some();
                match e {
                    'd' => out.push_str(if inside { "0-9" } else { "[0-9]" }),
                    'D' => out.push_str("[^0-9]"),
                    'w' => out.push_str(if inside { "0-9A-Za-z_" } else { "[0-9A-Za-z_]" }),
                    'W' => out.push_str("[^0-9A-Za-z_]"),
                    's' => out.push_str(if inside { r"\t\n\f\r " } else { r"[\t\n\f\r ]" }),
                    'S' => out.push_str(r"[^\t\n\f\r ]"),
                    'b' if !inside => out.push_str(r"(?-u:\b)"),
                    'B' if !inside => out.push_str(r"(?-u:\B)"),
                    'C' if !inside => out.push_str("(?s:.)"),
                    'Q' => {
                        // literal text up to `\E` or the end
                        while i < chars.len() {
                            if chars[i] == '\\' && chars.get(i + 1) == Some(&'E') {
                                i += 2;
                                break;
                            }
                            push_literal(&mut out, chars[i]);
                            i += 1;
                        }
                    }
                    'E' => {} // a stray `\E` ends nothing: RE2 ignores it
                    // octal: `\0`, `\0dd`, or a non-zero digit followed by an octal digit
                    // (`\123`); a lone `\1`..`\9` is a back-reference, which RE2 rejects, and so
                    // does the `regex` crate when it is copied
                    '0'..='7' if e == '0' || chars.get(i).is_some_and(|d| ('0'..='7').contains(d)) => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        let mut n = 1;
                        while n < 3 && chars.get(i).is_some_and(|d| ('0'..='7').contains(d)) {
                            v = v * 8 + chars[i].to_digit(8).unwrap_or(0);
                            i += 1;
                            n += 1;
                        }
                        out.push_str(&format!("\\x{{{v:X}}}"));
                    }
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if class_start.is_none() => {
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = Some(i);
                // a `]` first in the class is a literal
                if chars.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            '[' => {
                // `[:alpha:]` inside a class is a POSIX class; any other `[` a literal
                if chars[i + 1..].starts_with(&[':']) {
                    if let Some(end) = find_posix_end(&chars, i + 2) {
                        out.extend(&chars[i..=end]);
                        i = end + 1;
                        continue;
                    }
                }
                out.push_str(r"\[");
                i += 1;
            }
            ']' if class_start.is_some() => {
                out.push(']');
                class_start = None;
                i += 1;
            }
            '&' | '~' if class_start.is_some() => {
                out.push('\\');
                out.push(c);
                i += 1;
            }
            '-' if class_start.is_some() && chars.get(i + 1) == Some(&'-') => {
                // `--` is a class difference in Rust: the first `-` closes a range or is literal
                out.push_str(r"\-");
                i += 1;
            }
            '{' if class_start.is_none() => match repetition_end(&chars, i) {
                Some(end) => {
                    out.extend(&chars[i..=end]);
                    i = end + 1;
                }
                None => {
                    out.push_str(r"\{");
                    i += 1;
                }
            },
            '}' if class_start.is_none() => {
                out.push_str(r"\}");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// A character as a literal of Rust's syntax.
fn push_literal(out: &mut String, c: char) {
    if regex_syntax_is_meta(c) {
        out.push('\\');
    }
    out.push(c);
}

fn regex_syntax_is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' | '#' | '&' | '-' | '~'
    )
}

/// The index of the `]` closing a POSIX class name that starts at `from` (`alpha:]`).
fn find_posix_end(chars: &[char], from: usize) -> Option<usize> {
    let mut j = from;
    if chars.get(j) == Some(&'^') {
        j += 1;
    }
    let name_start = j;
    while j < chars.len() && chars[j].is_ascii_alphabetic() {
        j += 1;
    }
    (j > name_start && chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&']')).then_some(j + 1)
}

/// The index of the `}` ending a repetition `{n}`, `{n,}` or `{n,m}` that starts at `start`.
fn repetition_end(chars: &[char], start: usize) -> Option<usize> {
    let mut j = start + 1;
    let digits = |j: &mut usize| {
        let from = *j;
        while *j < chars.len() && chars[*j].is_ascii_digit() {
            *j += 1;
        }
        *j > from
    };
    if !digits(&mut j) {
        return None;
    }
    if chars.get(j) == Some(&',') {
        j += 1;
        digits(&mut j);
    }
    (chars.get(j) == Some(&'}')).then_some(j)
}

/// Builds a KQL (RE2) pattern as a Rust regex, [`translate`]d.
/// `case_insensitive` is for the callers that match ignoring case (`matches regex` has no
/// such form; `like`-style operators do).
pub fn compile_with(pattern: &str, case_insensitive: bool) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(&translate(pattern)).case_insensitive(case_insensitive).build()
}

/// [`compile_with`], matching case.
pub fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    compile_with(pattern, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, text: &str) -> bool {
        compile(p).unwrap_or_else(|e| panic!("{p}: {e}")).is_match(text)
    }

    fn find<'a>(p: &str, text: &'a str) -> Option<&'a str> {
        compile(p).unwrap_or_else(|e| panic!("{p}: {e}")).find(text).map(|x| x.as_str())
    }

    #[test]
    fn braces_that_are_not_repetitions_are_literal() {
        // the ASIM SecurityEvent parser's parse-kv regex
        let re = compile(r#"<Data Name="(\w+)">{?([^<]*?)}?</Data>"#).unwrap();
        let c = re.captures(r#"<Data Name="SubjectUserSid">{S-1-5-18}</Data>"#).unwrap();
        assert_eq!(&c[1], "SubjectUserSid");
        assert_eq!(&c[2], "S-1-5-18");
        let c = re.captures(r#"<Data Name="X">plain</Data>"#).unwrap();
        assert_eq!(&c[2], "plain");
        assert!(m("a{,3}", "a{,3}"));
        assert!(m("a{x}", "a{x}"));
        assert!(m("^{$", "{"));
        assert!(m("^}$", "}"));
        // real repetitions stay repetitions
        assert_eq!(find("a{2}", "aaa"), Some("aa"));
        assert_eq!(find("a{2,}", "aaaa"), Some("aaaa"));
        assert_eq!(find("a{1,2}", "aaa"), Some("aa"));
        assert_eq!(find(r"\d{3}", "ab1234"), Some("123"));
    }

    #[test]
    fn perl_classes_are_ascii() {
        // RE2: \d is [0-9], \w is [0-9A-Za-z_], \s is [\t\n\f\r ]
        assert!(!m(r"^\d$", "٣")); // ARABIC-INDIC DIGIT THREE
        assert!(m(r"^\D$", "٣"));
        assert!(!m(r"^\w$", "é"));
        assert!(m(r"^\W$", "é"));
        assert!(!m(r"^\s$", "\u{a0}"));
        assert!(!m(r"^\s$", "\u{b}")); // \v is not in RE2's \s
        assert!(m(r"^\s$", "\u{c}"));
        assert!(m(r"^[\d\s]+$", "1 2\t3"));
        assert!(!m(r"^[\w]$", "é"));
        assert!(m(r"^[^\d]$", "x"));
        assert!(m(r"^[\D]$", "x"));
        assert!(!m(r"^[\D]$", "5"));
        // ASCII word boundaries: é is not a word character
        assert_eq!(find(r"\bcafé", "xcafé"), None);
        assert_eq!(find(r"caf\b", "café"), Some("caf"));
    }

    #[test]
    fn brackets_inside_classes_are_literal() {
        assert!(m(r"^[a[]+$", "a[a"));
        assert!(m(r"^[]a]+$", "]a"));
        assert!(m(r"^[^]a]$", "b"));
        assert!(m(r"^[[:alpha:]]+$", "abc"));
        assert!(!m(r"^[[:digit:]]+$", "abc"));
        assert!(m(r"^[[:^digit:]]+$", "abc"));
        assert!(m(r"^[a&&b]+$", "a&b"));
        assert!(m(r"^[a~~b]+$", "~"));
        assert!(m(r"^[a--]+$", "-"));
        assert!(m(r"^[0-9-]+$", "1-2"));
    }

    #[test]
    fn quoted_text_octal_and_any_byte() {
        assert!(m(r"^\Qa.b*c\E$", "a.b*c"));
        assert!(!m(r"^\Qa.b\E$", "axb"));
        assert!(m(r"^\Q(unterminated", "(unterminated"));
        assert!(m(r"^\101$", "A"));
        assert!(m(r"^a\0b$", "a\0b"));
        assert!(m(r"^\12$", "\n"));
        assert!(m(r"^a\Cb$", "a\nb"));
    }

    #[test]
    fn same_meaning_is_copied() {
        for p in [r"(?i)abc", r"(?P<n>x)", r"\pL+", r"\A\z", r"a+?", "plain text", r"\x{41}", r"\.", r"[a-z]"] {
            assert_eq!(translate(p).replace(r"\Q", ""), p.to_string(), "{p}");
        }
        assert!(matches!(translate("abc"), Cow::Borrowed(_)));
    }

    #[test]
    fn what_re2_rejects_stays_rejected() {
        assert!(compile(r"(a)\1").is_err());
        assert!(compile(r"a(?=b)").is_err());
        assert!(compile(r"(unclosed").is_err());
    }
}
