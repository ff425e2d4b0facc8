//! Literals: strings in all their forms, numbers, timespans, and the typed literals
//! `datetime(...)`, `dynamic(...)`, `guid(...)`, `time(...)`, `int(null)` and friends.

use crate::ast::{DynValue, Literal};
use crate::lex::{fail, fatal, is_ident_char, pos, ws, In, PResult};
use crate::span::Span;

/// Ticks (100 ns) per unit.
pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// One string literal (without concatenation), unescaped. Starts at `i` exactly.
pub fn string_literal(i: In) -> PResult<String> {
    let i = ws(i);
    // `h"..."` (obfuscated) strings have the same value as plain ones
    let rest = match i.as_bytes().first() {
        Some(b'h') | Some(b'H') if matches!(i.as_bytes().get(1), Some(b'"' | b'\'' | b'@')) => &i[1..],
        _ => i,
    };
    if let Some(r) = rest.strip_prefix('@') {
        let q = match r.chars().next() {
            Some(c @ ('"' | '\'')) => c,
            _ => return fail(i, "string"),
        };
        return verbatim(&r[1..], q);
    }
    if let Some(r) = rest.strip_prefix("```") {
        return match r.find("```") {
            Some(n) => Ok((&r[n + 3..], r[..n].to_string())),
            None => fatal(&r[r.len()..], "Missing: ```"),
        };
    }
    if let Some(r) = rest.strip_prefix("~~~") {
        return match r.find("~~~") {
            Some(n) => Ok((&r[n + 3..], r[..n].to_string())),
            None => fatal(&r[r.len()..], "Missing: ~~~"),
        };
    }
    match rest.chars().next() {
        Some(q @ ('"' | '\'')) => escaped(&rest[1..], q),
        _ => fail(i, "string"),
    }
}

fn verbatim(i: In, q: char) -> PResult<String> {
    let mut out = String::new();
    let mut chars = i.char_indices().peekable();
    while let Some((n, c)) = chars.next() {
        if c == q {
            if let Some((_, c2)) = chars.peek() {
                if *c2 == q {
                    out.push(q);
                    chars.next();
                    continue;
                }
            }
            return Ok((&i[n + 1..], out));
        }
        if c == '\n' {
            return fatal(&i[n..], format!("Missing: {q}"));
        }
        out.push(c);
    }
    fatal(&i[i.len()..], format!("Missing: {q}"))
}

fn escaped(i: In, q: char) -> PResult<String> {
    let mut out = String::new();
    let mut chars = i.char_indices();
    while let Some((n, c)) = chars.next() {
        if c == q {
            return Ok((&i[n + 1..], out));
        }
        if c == '\n' {
            return fatal(&i[n..], format!("Missing: {q}"));
        }
        if c == '\\' {
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, '0')) => out.push('\0'),
                Some((_, 'a')) => out.push('\u{7}'),
                Some((_, 'b')) => out.push('\u{8}'),
                Some((_, 'f')) => out.push('\u{c}'),
                Some((_, 'v')) => out.push('\u{b}'),
                Some((m, 'u')) => {
                    let hex = i.get(m + 1..m + 5).unwrap_or("");
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) if hex.len() == 4 => {
                            out.push(ch);
                            for _ in 0..4 {
                                chars.next();
                            }
                        }
                        _ => out.push('u'),
                    }
                }
                Some((m, 'x')) => {
                    let hex = i.get(m + 1..m + 3).unwrap_or("");
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) if hex.len() == 2 => {
                            out.push(ch);
                            chars.next();
                            chars.next();
                        }
                        _ => out.push('x'),
                    }
                }
                Some((_, c2)) => out.push(c2),
                None => break,
            }
            continue;
        }
        out.push(c);
    }
    fatal(&i[i.len()..], format!("Missing: {q}"))
}

/// True if `i` (after whitespace) starts a string literal.
pub fn starts_string(i: In) -> bool {
    let i = ws(i);
    let b = i.as_bytes();
    match b.first() {
        Some(b'"' | b'\'') => true,
        Some(b'@') => matches!(b.get(1), Some(b'"' | b'\'')),
        Some(b'h' | b'H') => match b.get(1) {
            Some(b'"' | b'\'') => true,
            Some(b'@') => matches!(b.get(2), Some(b'"' | b'\'')),
            _ => false,
        },
        Some(b'`') => i.starts_with("```"),
        Some(b'~') => i.starts_with("~~~"),
        _ => false,
    }
}

/// One or more adjacent string literals, concatenated.
pub fn string_concat(i: In) -> PResult<(String, Span)> {
    let i = ws(i);
    let start = pos(i);
    let (mut rest, mut s) = string_literal(i)?;
    while starts_string(rest) {
        let (r, more) = string_literal(rest)?;
        s.push_str(&more);
        rest = r;
    }
    Ok((rest, (s, Span::new(start, pos(rest)))))
}

/// Timespan unit suffixes and their length in ticks, longest first within a prefix family.
const UNITS: &[(&str, i64)] = &[
    ("microseconds", 10),
    ("microsecond", 10),
    ("milliseconds", 10_000),
    ("millisecond", 10_000),
    ("minutes", 600_000_000),
    ("minute", 600_000_000),
    ("seconds", TICKS_PER_SECOND),
    ("second", TICKS_PER_SECOND),
    ("millis", 10_000),
    ("milli", 10_000),
    ("micros", 10),
    ("micro", 10),
    ("hours", 36_000_000_000),
    ("hour", 36_000_000_000),
    ("ticks", 1),
    ("tick", 1),
    ("days", 864_000_000_000),
    ("day", 864_000_000_000),
    ("hrs", 36_000_000_000),
    ("hr", 36_000_000_000),
    ("min", 600_000_000),
    ("sec", TICKS_PER_SECOND),
    ("ms", 10_000),
    ("d", 864_000_000_000),
    ("h", 36_000_000_000),
    ("m", 600_000_000),
    ("s", TICKS_PER_SECOND),
];

/// What a numeric token turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberToken {
    /// A literal.
    Lit(Literal),
    /// Digits followed by letters that are not a unit: Kusto reads this as a name (`1abc`).
    Name(String),
}

/// A number, a timespan such as `1.5h`, or a digit-led name. Starts at `i` (after whitespace).
pub fn number(i: In) -> PResult<(NumberToken, Span)> {
    let i = ws(i);
    let start = pos(i);
    let b = i.as_bytes();
    if b.first().is_none_or(|c| !c.is_ascii_digit()) {
        return fail(i, "number");
    }
    if (i.starts_with("0x") || i.starts_with("0X")) && b.get(2).is_some_and(|c| c.is_ascii_hexdigit()) {
        let end = 2 + i[2..].bytes().take_while(|c| c.is_ascii_hexdigit()).count();
        let v = i64::from_str_radix(&i[2..end], 16).or_else(|_| u64::from_str_radix(&i[2..end], 16).map(|u| u as i64));
        return match v {
            Ok(v) => Ok((&i[end..], (NumberToken::Lit(Literal::Long(Some(v))), Span::new(start, start + end)))),
            Err(_) => fatal(i, "hexadecimal literal out of range"),
        };
    }
    let mut n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut is_real = false;
    if b.get(n) == Some(&b'.') && b.get(n + 1).is_some_and(|c| c.is_ascii_digit()) {
        is_real = true;
        n += 1;
        n += b[n..].iter().take_while(|c| c.is_ascii_digit()).count();
    } else if b.get(n) == Some(&b'.')
        && !b.get(n + 1).is_some_and(|c| is_ident_char(*c as char) || *c == b'.' || *c == b'[' || *c == b'$')
    {
        // `1.` is a real
        is_real = true;
        n += 1;
    }
    if matches!(b.get(n), Some(b'e' | b'E')) {
        let mut m = n + 1;
        if matches!(b.get(m), Some(b'+' | b'-')) {
            m += 1;
        }
        if b.get(m).is_some_and(|c| c.is_ascii_digit()) {
            m += b[m..].iter().take_while(|c| c.is_ascii_digit()).count();
            is_real = true;
            n = m;
        }
    }
    let text = &i[..n];
    let rest = &i[n..];
    // Unit suffix?
    let word_len = rest.char_indices().find(|(_, c)| !is_ident_char(*c)).map(|(k, _)| k).unwrap_or(rest.len());
    if word_len > 0 {
        let word = &rest[..word_len];
        if let Some((_, ticks)) = UNITS.iter().find(|(u, _)| *u == word) {
            let v: f64 = text.parse().unwrap_or(0.0);
            let t = (v * *ticks as f64).round() as i64;
            let t = if !is_real { text.parse::<i64>().map(|x| x.saturating_mul(*ticks)).unwrap_or(t) } else { t };
            let end = n + word_len;
            return Ok((&i[end..], (NumberToken::Lit(Literal::TimeSpan(Some(t))), Span::new(start, start + end))));
        }
        let end = n + word_len;
        return Ok((&i[end..], (NumberToken::Name(i[..end].to_string()), Span::new(start, start + end))));
    }
    let lit = if is_real {
        Literal::Real(Some(text.parse().unwrap_or(f64::NAN)))
    } else {
        match text.parse::<i64>() {
            Ok(v) => Literal::Long(Some(v)),
            Err(_) => Literal::Real(Some(text.parse().unwrap_or(f64::INFINITY))),
        }
    };
    Ok((rest, (NumberToken::Lit(lit), Span::new(start, start + n))))
}

/// The raw text between the `(` at the start of `i` and its matching `)`, respecting quotes.
pub fn paren_content(i: In<'_>) -> PResult<'_, &str> {
    let i0 = ws(i);
    if !i0.starts_with('(') {
        return fail(i0, "(");
    }
    let body = &i0[1..];
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut verbatim = false;
    let mut prev = ' ';
    let mut iter = body.char_indices();
    while let Some((n, c)) = iter.next() {
        if let Some(q) = quote {
            if c == '\\' && !verbatim {
                iter.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        let was = prev;
        prev = c;
        if c == '/' && body[n + 1..].starts_with('/') {
            // a comment: skip to the end of the line
            let skip = body[n..].find('\n').unwrap_or(body.len() - n);
            for _ in 0..body[n..n + skip].chars().count() - 1 {
                iter.next();
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                verbatim = was == '@';
            }
            '(' => depth += 1,
            ')' if depth == 0 => return Ok((&body[n + 1..], &body[..n])),
            ')' => depth -= 1,
            _ => {}
        }
    }
    fatal(&body[body.len()..], "Missing: )")
}

/// Parse Kusto's timespan text (`1.02:03:04.5`, `02:03`, `15 seconds`, `2`, `1d`) into ticks.
pub fn parse_timespan_text(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r.trim_start()),
        None => (false, t),
    };
    // computed wide: the 64-bit range of ticks ends at 10675199.02:48:05.4775807 and starts
    // one tick further on the negative side; anything past it is not a timespan
    let v = parse_timespan_abs(t)?;
    i64::try_from(if neg { -v } else { v }).ok()
}

fn parse_timespan_abs(t: &str) -> Option<i128> {
    // "15 seconds", "1.5 hours"
    if let Some((num, unit)) = t.split_once(char::is_whitespace) {
        let unit = unit.trim();
        let (_, ticks) = UNITS.iter().find(|(u, _)| *u == unit)?;
        let v: f64 = num.parse().ok()?;
        return Some((v * *ticks as f64).round() as i128);
    }
    // "1d", "10ms"
    let digits = t.bytes().take_while(|c| c.is_ascii_digit() || *c == b'.').count();
    if digits > 0 && digits < t.len() && t.as_bytes()[digits].is_ascii_alphabetic() {
        let (_, ticks) = UNITS.iter().find(|(u, _)| *u == &t[digits..])?;
        let v: f64 = t[..digits].parse().ok()?;
        return Some((v * *ticks as f64).round() as i128);
    }
    if !t.contains(':') {
        // a bare number means days
        let v: f64 = t.parse().ok()?;
        return Some((v * 864_000_000_000f64).round() as i128);
    }
    // [d.]hh:mm[:ss[.fffffff]]
    let (days, clock) = match t.split_once(':') {
        Some((head, _)) if head.contains('.') => {
            let (d, _) = head.split_once('.')?;
            (d.parse::<i128>().ok()?, &t[d.len() + 1..])
        }
        _ => (0, t),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let h: i128 = parts[0].parse().ok()?;
    let m: i128 = parts[1].parse().ok()?;
    let (s, frac) = match parts.get(2) {
        Some(sec) => match sec.split_once('.') {
            Some((s, f)) => (s.parse::<i128>().ok()?, f),
            None => (sec.parse::<i128>().ok()?, ""),
        },
        None => (0, ""),
    };
    if !frac.bytes().all(|c| c.is_ascii_digit()) || frac.len() > 7 {
        return None;
    }
    let frac_ticks = if frac.is_empty() { 0 } else { format!("{frac:0<7}").parse::<i128>().ok()? };
    // digits past i128 are not a timespan either
    let secs =
        days.checked_mul(24)?.checked_add(h)?.checked_mul(3600)?.checked_add(m.checked_mul(60)?)?.checked_add(s)?;
    secs.checked_mul(TICKS_PER_SECOND as i128)?.checked_add(frac_ticks)
}

/// The content of a typed literal such as `int(...)`, `real(...)`, `bool(...)`.
pub fn typed_literal(type_name: &str, content: &str) -> Option<Literal> {
    let c = content.trim();
    let is_null = c == "null";
    Some(match type_name {
        "bool" | "boolean" => Literal::Bool(if is_null {
            None
        } else {
            Some(match c {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return None,
            })
        }),
        "int" => Literal::Int(if is_null { None } else { Some(parse_int_text(c)? as i32) }),
        "long" => Literal::Long(if is_null { None } else { Some(parse_int_text(c)?) }),
        "real" | "double" => Literal::Real(if is_null {
            None
        } else {
            Some(match c {
                "nan" | "NaN" => f64::NAN,
                "inf" | "+inf" | "Infinity" | "+Infinity" => f64::INFINITY,
                "-inf" | "-Infinity" => f64::NEG_INFINITY,
                _ => c.replace(' ', "").parse().ok()?,
            })
        }),
        "decimal" => Literal::Decimal(if is_null { None } else { Some(c.to_string()) }),
        "datetime" | "date" => Literal::DateTime(if is_null { None } else { Some(c.to_string()) }),
        "time" | "timespan" => Literal::TimeSpan(if is_null { None } else { Some(parse_timespan_text(c)?) }),
        "guid" | "uniqueid" => Literal::Guid(if is_null { None } else { Some(c.to_string()) }),
        "string" if is_null => Literal::StringNull,
        _ => return None,
    })
}

fn parse_int_text(c: &str) -> Option<i64> {
    let c = c.replace(' ', "");
    if let Some(h) = c.strip_prefix("0x") {
        return i64::from_str_radix(h, 16).ok();
    }
    c.parse().ok()
}

/// Parse the content of `dynamic(...)`.
pub fn parse_dynamic(content: &str) -> Result<DynValue, String> {
    let mut p = DynParser { s: content, i: 0 };
    p.skip_ws();
    if p.i == p.s.len() {
        return Ok(DynValue::Null);
    }
    let v = p.value(0)?;
    p.skip_ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected `{}` in dynamic literal", &p.s[p.i..]));
    }
    Ok(v)
}

struct DynParser<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> DynParser<'a> {
    fn skip_ws(&mut self) {
        let rest = crate::lex::ws(&self.s[self.i..]);
        self.i = self.s.len() - rest.len();
    }
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }
    fn value(&mut self, depth: usize) -> Result<DynValue, String> {
        if depth > 200 {
            return Err("dynamic literal nested too deeply".into());
        }
        self.skip_ws();
        let rest = self.rest();
        if rest.starts_with('[') {
            self.i += 1;
            let mut items = Vec::new();
            loop {
                self.skip_ws();
                if self.rest().starts_with(']') {
                    self.i += 1;
                    return Ok(DynValue::Array(items));
                }
                items.push(self.value(depth + 1)?);
                self.skip_ws();
                if self.rest().starts_with(',') {
                    self.i += 1;
                } else if !self.rest().starts_with(']') {
                    return Err("expected `,` or `]` in dynamic array".into());
                }
            }
        }
        if rest.starts_with('{') {
            self.i += 1;
            let mut items = Vec::new();
            loop {
                self.skip_ws();
                if self.rest().starts_with('}') {
                    self.i += 1;
                    return Ok(DynValue::Object(items));
                }
                let key = if starts_string(self.rest()) {
                    let r = self.rest();
                    let (after, k) = string_literal(r).map_err(|_| "bad key in dynamic object".to_string())?;
                    self.i += r.len() - after.len();
                    k
                } else {
                    let r = self.rest();
                    let n = r.char_indices().find(|(_, c)| !is_ident_char(*c)).map(|(k, _)| k).unwrap_or(r.len());
                    if n == 0 {
                        return Err("expected a key in dynamic object".into());
                    }
                    self.i += n;
                    r[..n].to_string()
                };
                self.skip_ws();
                if !self.rest().starts_with(':') {
                    return Err("expected `:` in dynamic object".into());
                }
                self.i += 1;
                let v = self.value(depth + 1)?;
                items.push((key, v));
                self.skip_ws();
                if self.rest().starts_with(',') {
                    self.i += 1;
                } else if !self.rest().starts_with('}') {
                    return Err("expected `,` or `}` in dynamic object".into());
                }
            }
        }
        if starts_string(rest) {
            let (after, (s, _)) =
                string_concat(rest).map_err(|_| "unterminated string in dynamic literal".to_string())?;
            self.i += rest.len() - after.len();
            return Ok(DynValue::String(s));
        }
        // words and numbers
        let word_len = rest
            .char_indices()
            .find(|(_, c)| !(is_ident_char(*c) || *c == '.' || *c == '-' || *c == '+'))
            .map(|(k, _)| k)
            .unwrap_or(rest.len());
        let word = &rest[..word_len];
        // typed literal inside dynamic: datetime(...), timespan(...), guid(...)
        if rest[word_len..].starts_with('(') {
            let (after, content) =
                paren_content(&rest[word_len..]).map_err(|_| "missing `)` in dynamic literal".to_string())?;
            self.i += rest.len() - after.len();
            if word == "dynamic" {
                return parse_dynamic(content);
            }
            return match typed_literal(word, content) {
                Some(Literal::DateTime(Some(t))) => Ok(DynValue::DateTime(t)),
                Some(Literal::TimeSpan(Some(t))) => Ok(DynValue::TimeSpan(t)),
                Some(Literal::Guid(Some(g))) => Ok(DynValue::Guid(g)),
                Some(Literal::Long(Some(v))) => Ok(DynValue::Long(v)),
                Some(Literal::Int(Some(v))) => Ok(DynValue::Long(v as i64)),
                Some(Literal::Real(Some(v))) => Ok(DynValue::Real(v)),
                Some(Literal::Bool(Some(v))) => Ok(DynValue::Bool(v)),
                Some(_) => Ok(DynValue::Null),
                None => Err(format!("`{word}(...)` is not allowed in a dynamic literal")),
            };
        }
        self.i += word_len;
        match word {
            "null" => return Ok(DynValue::Null),
            "true" => return Ok(DynValue::Bool(true)),
            "false" => return Ok(DynValue::Bool(false)),
            "" => return Err("expected a value in dynamic literal".into()),
            _ => {}
        }
        if let Ok(v) = word.parse::<i64>() {
            return Ok(DynValue::Long(v));
        }
        if let Ok(v) = word.parse::<f64>() {
            if word.bytes().any(|c| c.is_ascii_digit()) {
                return Ok(DynValue::Real(v));
            }
        }
        if let Some(t) = parse_timespan_text(word) {
            if word.bytes().next().is_some_and(|c| c.is_ascii_digit() || c == b'-') {
                return Ok(DynValue::TimeSpan(t));
            }
        }
        Err(format!("unexpected `{word}` in dynamic literal"))
    }
}
