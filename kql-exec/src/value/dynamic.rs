//! KQL `dynamic` values as compact JSON text.
//!
//! # Representation
//!
//! A `dynamic` value lives in an Arrow `Utf8` column as compact JSON text (no insignificant
//! whitespace); an Arrow null is dynamic `null`. This module is the pure library over such text:
//! `&str` in, borrowed slices or owned `String`s out. The DataFusion wrappers live elsewhere.
//!
//! # Canonical text
//!
//! [`parse_json`] and [`compact`] produce the canonical stored form:
//!
//! * no whitespace outside strings;
//! * strings re-escaped minimally (only `"`, `\` and control characters; everything else, including
//!   non-ASCII and `/`, is raw UTF-8), so two equal strings always have the same text;
//! * numbers keep their source text (`1.0` stays `1.0`, so `gettype` can still tell `real` from `long`);
//! * object keys keep their order; a duplicated key keeps the position of its first occurrence and the
//!   value of its last (like `JSON.parse`, Newtonsoft's default and serde_json), so stored bags never
//!   hold duplicate keys;
//! * nesting deeper than [`MAX_DEPTH`] is rejected (as invalid JSON).
//!
//! JSON is strict RFC 8259 (no comments, single quotes, trailing commas, `NaN`, lone surrogate
//! escapes). A top-level JSON `null` is Kusto's dynamic null: [`parse_json`] returns `None` for it,
//! and callers storing a raw slice (e.g. from [`get_path`]) should store an Arrow null when [`kind`]
//! says [`JsonKind::Null`].
//!
//! # Path access
//!
//! [`get_path`] and [`get_paths`] never build a tree: a hand-written validating scanner walks the
//! text, compares object keys in place (a key is decoded only if it contains a backslash), skips the
//! values it does not need (string ends are found eight bytes at a time) and stops as soon as every
//! requested path is resolved. Only the text read is validated: text after the last value needed is
//! not looked at, and with duplicate keys the *first* occurrence is followed (canonical text has none).
//! A first version on `jiter` 0.11 (`next_key_bytes` / `known_skip`) was 2-4× slower in the same
//! benchmark; the scanner accepts exactly what `jiter` and `serde_json` accept (see the test
//! `differential_validity`).
//!
//! Measured by the ignored test `bench_path_access` (below) on the 407-byte log object of the design
//! note, release build, on a 2-vCPU Xeon VM that was also compiling the workspace (load ≈ 4), so the
//! times are the minimum of 6 runs and likely ~1.5-2× pessimistic; the instruction counts (callgrind)
//! do not depend on load:
//!
//! | operation (per row)                              | ns (min) | instructions |
//! |--------------------------------------------------|---------:|-------------:|
//! | `get_path` `level` (2nd key)                     |       37 |          710 |
//! | `get_path` `source_ip` (8th of 11 keys)          |      135 |        2 700 |
//! | `get_path` last key / missing key (whole object) |      200 |        3 600 |
//! | [`get_paths_into`] 5 keys, one pass              |      280 |        5 500 |
//! | `get_path` × 5 (five passes)                     |      605 |       11 500 |
//! | `serde_json::from_str::<Value>` (one full parse) |    1 600 |       14 800 |
//! | `serde_json::from_str::<Value>` × 5              |    7 600 |  5 × 14 800 |
//! | [`parse_json`] (validate and canonicalize)       |      480 |        8 600 |
//! | [`canonical_key`] (sorted keys)                  |      610 |       10 000 |
//!
//! # Equality and sets
//!
//! [`json_equal`] and [`canonical_key`] treat JSON values structurally: objects are equal regardless
//! of key order, strings by their decoded content, and numbers by numeric value (`1`, `1.0` and `1e0`
//! are equal, as KQL's `1 == 1.0` is true). [`canonical_key`] is a JSON text with object keys sorted
//! (like Kusto's `dynamic_to_json`) and numbers normalized, used to de-duplicate in `make_set`,
//! `set_union`, etc.; the *output* of those functions keeps each element's first original text.
//!
//! # Choices where the Kusto docs are silent
//!
//! * `tolong`/`todouble`/`tobool` of a dynamic string parse the string ([`parse_long_text`] accepts
//!   decimal and `0x` hex, not `"1.5"`); of a real, `tolong` truncates; a bool converts to 1/0.
//! * `tostring` of a number returns its JSON text. Inside arrays and bags this is what Kusto does (it
//!   writes reals with their `.0`: `[[50.0,50.0],...]`, recorded in the conformance data), and
//!   [`json_from_f64`] writes reals that way; for a bare dynamic real Kusto may print `50` like
//!   `tostring(real)` does (unverified). NaN/±∞ are written as the strings `"NaN"`, `"Infinity"`,
//!   `"-Infinity"`.
//! * `parse_json` of an empty/whitespace string or of `null` is null; invalid JSON is the input string.
//! * Set functions, `array_concat`, `zip`, `bag_merge` return `None` (null) if any argument has the
//!   wrong type; `bag_merge` keeps the first bag's value for a shared key (the docs allow any; the
//!   recorded example agrees).
//! * `array_sort_*`: numbers, then strings, then everything else in original order, nulls last (or
//!   first); descending reverses the order within numbers and within strings only.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// The deepest nesting of arrays and objects accepted; deeper text is treated as invalid JSON.
pub const MAX_DEPTH: usize = 200;

/// 2^63: the `f64` bounds of `i64` are `-TWO_POW_63..TWO_POW_63`.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// One step of a dynamic accessor path: `d.key`, `d["key"]` or `d[index]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathElem<'a> {
    /// A property-bag slot (the plain, unescaped key).
    Key(&'a str),
    /// An array index; negative counts from the end (`arr[-1]` is the last element).
    Index(i64),
}

/// An owned path step, as produced by [`parse_json_path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonPathElem {
    /// A property-bag slot.
    Key(String),
    /// An array index (negative counts from the end).
    Index(i64),
}

impl JsonPathElem {
    /// The borrowed form, for [`get_path`].
    pub fn as_path_elem(&self) -> PathElem<'_> {
        match self {
            JsonPathElem::Key(k) => PathElem::Key(k),
            JsonPathElem::Index(i) => PathElem::Index(*i),
        }
    }
}

/// The JSON type of a dynamic value, as far as the text tells (KQL `gettype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool,
    /// A number written without fraction or exponent that fits in an `i64`.
    Long,
    /// Any other number.
    Real,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object (property bag).
    Object,
}

// ---------------------------------------------------------------------------------------------
// the scanner
// ---------------------------------------------------------------------------------------------

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Index of the first `"`, `\` or control character at or after `i` (or `s.len()`).
#[inline]
fn find_string_special(s: &[u8], mut i: usize) -> usize {
    // sixteen bytes at a time with SSE2 (part of every x86-64 CPU), then eight with SWAR
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is enabled (checked by the `cfg` above), and each load reads the sixteen
        // bytes at `i`, inside `s` since `i + 16 <= s.len()` (unaligned loads are allowed).
        unsafe {
            let (quote, backslash, control) =
                (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8), _mm_set1_epi8(0x1f));
            while i + 16 <= s.len() {
                let x = _mm_loadu_si128(s.as_ptr().add(i) as *const __m128i);
                // a byte is a control character when max(byte, 0x1f) == 0x1f (unsigned)
                let m = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                    _mm_cmpeq_epi8(_mm_max_epu8(x, control), control),
                );
                let bits = _mm_movemask_epi8(m);
                if bits != 0 {
                    return i + bits.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }
    while let Some(chunk) = s.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let q = x ^ (LO * b'"' as u64);
        let b = x ^ (LO * b'\\' as u64);
        // SWAR "has zero byte" / "has byte < 0x20": the lowest flagged byte is always a true match.
        let m = ((q.wrapping_sub(LO) & !q) | (b.wrapping_sub(LO) & !b) | (x.wrapping_sub(LO * 0x20) & !x)) & HI;
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = s.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// Whether a key has no character JSON must escape (`"`, `\`, control characters): its raw text
/// in a JSON object is the key itself (see [`Members::next_key_hinted`]).
pub fn is_plain_key(k: &str) -> bool {
    !k.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

/// Byte equality of two short texts (object keys) without a call to `memcmp`: lengths, then
/// eight bytes at a time (the last eight overlapping the word before).
#[inline]
pub fn same_key(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same_key`] of bytes.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a == b;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    if word(a, 0) != word(b, 0) || word(a, n - 8) != word(b, n - 8) {
        return false;
    }
    // longer keys (`KubernetesMetadata`, `security_check_passed`): the words between
    let mut at = 8;
    while at + 8 < n {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    true
}

/// Whether every escape in a valid string's inner text is one canonical text keeps (`\"`, `\\`,
/// `\n`, `\r`, `\t`, `\b`, `\f`; see [`is_canonical`]).
fn minimal_escapes(inner: &[u8]) -> bool {
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &inner[i..]) {
        match inner.get(i + k + 1) {
            Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') => i += k + 2,
            _ => return false,
        }
    }
    true
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in b {
        n = (n << 4) | (c as char).to_digit(16)?;
    }
    Some(n)
}

/// A validating JSON scanner over text; `None` from any method means invalid JSON.
#[derive(Clone)]
struct Scan<'j> {
    src: &'j str,
    s: &'j [u8],
    i: usize,
}

impl<'j> Scan<'j> {
    fn new(src: &'j str) -> Self {
        Scan { src, s: src.as_bytes(), i: 0 }
    }

    /// Skips whitespace and returns the next byte (not consumed).
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.s.get(self.i) {
            if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
                self.i += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    /// Whether only whitespace is left.
    fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// The text between two positions the scanner stopped at: the start and the end of a value
    /// it read, or of a string's inner text.
    #[inline]
    fn slice(&self, a: usize, b: usize) -> Option<&'j str> {
        let bytes = self.s.get(a..b)?;
        debug_assert!(self.src.is_char_boundary(a) && self.src.is_char_boundary(b));
        // SAFETY: `bytes` is part of `src`, valid UTF-8, and both ends are character boundaries:
        // a value starts at an ASCII byte (`"{[tfn-` or a digit) and ends after one (`"}]`, a
        // letter or a digit); a string's inner text starts after its opening quote and ends at its
        // closing one. A byte next to an ASCII byte is never inside a multi-byte character.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// At an opening quote: consumes the string, returning the text between the quotes and whether
    /// it contains escapes.
    #[inline]
    fn string(&mut self) -> Option<(&'j str, bool)> {
        let start = self.i + 1;
        let esc = self.skip_string()?;
        Some((self.slice(start, self.i - 1)?, esc))
    }

    /// At an opening quote: consumes the string; returns whether it contains escapes.
    #[inline]
    fn skip_string(&mut self) -> Option<bool> {
        let mut i = self.i + 1;
        let mut esc = false;
        loop {
            i = find_string_special(self.s, i);
            match *self.s.get(i)? {
                b'"' => {
                    self.i = i + 1;
                    return Some(esc);
                }
                b'\\' => {
                    esc = true;
                    i = self.escape(i)?;
                }
                _ => return None,
            }
        }
    }

    /// Validates the escape at `i` (a backslash); returns the index after it.
    fn escape(&self, i: usize) -> Option<usize> {
        match *self.s.get(i + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(i + 2),
            b'u' => {
                let cp = hex4(self.s.get(i + 2..i + 6)?)?;
                if (0xD800..0xDC00).contains(&cp) {
                    if self.s.get(i + 6..i + 8)? != b"\\u" {
                        return None;
                    }
                    let lo = hex4(self.s.get(i + 8..i + 12)?)?;
                    (0xDC00..0xE000).contains(&lo).then_some(i + 12)
                } else if (0xDC00..0xE000).contains(&cp) {
                    None
                } else {
                    Some(i + 6)
                }
            }
            _ => None,
        }
    }

    /// Consumes a number (RFC 8259 grammar).
    fn number(&mut self) -> Option<()> {
        let s = self.s;
        let mut i = self.i;
        let digits = |mut i: usize| {
            while matches!(s.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            i
        };
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i = digits(i + 1),
            _ => return None,
        }
        if s.get(i) == Some(&b'.') {
            if !matches!(s.get(i + 1), Some(b'0'..=b'9')) {
                return None;
            }
            i = digits(i + 1);
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !matches!(s.get(i), Some(b'0'..=b'9')) {
                return None;
            }
            i = digits(i);
        }
        self.i = i;
        Some(())
    }

    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        (self.s.get(self.i..self.i + lit.len())? == lit).then(|| self.i += lit.len())
    }

    /// Skips one value (after whitespace), validating it.
    fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string().map(drop),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                if self.obj_first()? {
                    loop {
                        self.key()?;
                        self.skip(depth + 1)?;
                        if !self.obj_next()? {
                            break;
                        }
                    }
                }
                Some(())
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                if self.arr_first()? {
                    loop {
                        self.skip(depth + 1)?;
                        if !self.arr_next()? {
                            break;
                        }
                    }
                }
                Some(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// Skips whitespace like [`Scan::peek`], clearing `canon` if there was any.
    #[inline]
    fn peek_canon(&mut self, canon: &mut bool) -> Option<u8> {
        let at = self.i;
        let c = self.peek()?;
        if self.i != at {
            *canon = false;
        }
        Some(c)
    }

    /// After a member or an element: `true` if a comma (consumed) announces another, `false` at
    /// the closing `close` (consumed).
    #[inline]
    fn comma_or(&mut self, close: u8, canon: &mut bool) -> Option<bool> {
        match self.peek_canon(canon)? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// Skips one value, validating it exactly like [`Scan::skip`], and clears `canon` unless its
    /// text is already canonical (the rules of [`is_canonical`], in the same pass). `keys` is
    /// scratch space for the duplicate-key check.
    fn skip_canon(&mut self, depth: usize, keys: &mut Vec<(usize, usize)>, canon: &mut bool) -> Option<()> {
        match self.peek_canon(canon)? {
            b'"' => {
                let start = self.i + 1;
                if self.skip_string()? && !minimal_escapes(&self.s[start..self.i - 1]) {
                    *canon = false;
                }
                Some(())
            }
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                match self.peek_canon(canon)? {
                    b'}' => {
                        self.i += 1;
                        return Some(());
                    }
                    b'"' => {}
                    _ => return None,
                }
                let base = keys.len();
                loop {
                    if self.peek_canon(canon)? != b'"' {
                        return None;
                    }
                    let start = self.i + 1;
                    if self.skip_string()? {
                        *canon = false; // an escaped key: not sure
                    }
                    let key = (start, self.i - 1);
                    let (k, s) = (&self.s[key.0..key.1], self.s);
                    // first and last bytes compared before the rest: most keys differ there
                    let same = |&(a, b): &(usize, usize)| {
                        b - a == k.len()
                            && (k.is_empty() || (s[a] == k[0] && s[b - 1] == k[k.len() - 1]))
                            && s[a..b] == *k
                    };
                    if *canon && keys[base..].iter().any(same) {
                        *canon = false;
                    }
                    keys.push(key);
                    if self.peek_canon(canon)? != b':' {
                        return None;
                    }
                    self.i += 1;
                    self.skip_canon(depth + 1, keys, canon)?;
                    if !self.comma_or(b'}', canon)? {
                        break;
                    }
                }
                keys.truncate(base);
                Some(())
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                if self.peek_canon(canon)? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_canon(depth + 1, keys, canon)?;
                    if !self.comma_or(b']', canon)? {
                        break;
                    }
                }
                Some(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// Skips one value and returns its text.
    #[inline]
    fn raw(&mut self) -> Option<&'j str> {
        self.peek()?;
        let start = self.i;
        self.skip(0)?;
        self.slice(start, self.i)
    }

    /// At `{`: enters the object; `true` if a member follows (positioned at its key), `false` if
    /// the object is empty (and consumed).
    #[inline]
    fn obj_first(&mut self) -> Option<bool> {
        self.i += 1;
        match self.peek()? {
            b'}' => {
                self.i += 1;
                Some(false)
            }
            b'"' => Some(true),
            _ => None,
        }
    }

    /// After a member's value: `true` if another member follows (positioned at its key), `false` at
    /// the end of the object (consumed).
    #[inline]
    fn obj_next(&mut self) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                (self.peek()? == b'"').then_some(true)
            }
            b'}' => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// At a member's opening quote: when its raw key is exactly `plain` (a key with no character
    /// JSON escapes) followed by the closing quote and the colon, consumes them and returns `true`.
    #[inline]
    fn key_is(&mut self, plain: &str) -> bool {
        debug_assert!(is_plain_key(plain), "a plain key");
        let n = plain.len();
        let at = self.i + 1;
        match self.s.get(at..at + n + 2) {
            Some(w) if w[n] == b'"' && w[n + 1] == b':' && same_bytes(&w[..n], plain.as_bytes()) => {
                self.i = at + n + 2;
                true
            }
            _ => false,
        }
    }

    /// At a member: consumes the key and the colon; returns the raw key text and whether it has escapes.
    #[inline]
    fn key(&mut self) -> Option<(&'j str, bool)> {
        if self.peek()? != b'"' {
            return None;
        }
        let k = self.string()?;
        if self.peek()? != b':' {
            return None;
        }
        self.i += 1;
        Some(k)
    }

    /// At `[`: enters the array; `true` if an element follows, `false` if empty (and consumed).
    #[inline]
    fn arr_first(&mut self) -> Option<bool> {
        self.i += 1;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(false);
        }
        Some(true)
    }

    /// After an element: `true` if another follows, `false` at the end of the array (consumed).
    #[inline]
    fn arr_next(&mut self) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            b']' => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// At `[`: the number of elements, without moving.
    fn count_array(&self) -> Option<i64> {
        let mut c = self.clone();
        let mut n = 0;
        if c.arr_first()? {
            loop {
                c.skip(1)?;
                n += 1;
                if !c.arr_next()? {
                    break;
                }
            }
        }
        Some(n)
    }
}

/// The whole text as exactly one value: a scanner positioned at its first byte, and that byte.
fn whole(raw: &str) -> Option<(Scan<'_>, u8)> {
    let mut sc = Scan::new(raw);
    let c = sc.peek()?;
    Some((sc, c))
}

/// The text of the single value `raw` holds (whitespace trimmed); `None` if invalid.
fn whole_raw(raw: &str) -> Option<&str> {
    let mut sc = Scan::new(raw);
    let v = sc.raw()?;
    sc.at_end().then_some(v)
}

// ---------------------------------------------------------------------------------------------
// strings and numbers
// ---------------------------------------------------------------------------------------------

/// Decodes the inside of a JSON string (between the quotes). `None` on an invalid escape.
fn unescape(inner: &str) -> Option<String> {
    let bytes = inner.as_bytes();
    let mut out = String::with_capacity(inner.len());
    let mut i = 0;
    let mut run = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&inner[run..i]);
        let c = *bytes.get(i + 1)?;
        i += 2;
        match c {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = hex4(bytes.get(i..i + 4)?)?;
                i += 4;
                let cp = if (0xD800..0xDC00).contains(&hi) {
                    if bytes.get(i..i + 2)? != b"\\u" {
                        return None;
                    }
                    let lo = hex4(bytes.get(i + 2..i + 6)?)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return None;
                    }
                    i += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                };
                out.push(char::from_u32(cp)?);
            }
            _ => return None,
        }
        run = i;
    }
    out.push_str(&inner[run..]);
    Some(out)
}

/// Decodes a string's inner text (as returned by `Scan::string`); zero-copy without escapes.
#[inline]
fn decode(inner: &str, esc: bool) -> Option<Cow<'_, str>> {
    if esc {
        unescape(inner).map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// Whether a raw (still escaped) key equals the plain key `want`.
#[inline]
fn key_matches(raw: &str, esc: bool, want: &str) -> bool {
    if !esc {
        return raw == want;
    }
    // Escapes only make the raw text longer than what it decodes to.
    raw.len() >= want.len() && unescape(raw).is_some_and(|k| k == want)
}

/// Appends `s` as a JSON string literal with minimal escaping.
fn escape_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut run = 0;
    let mut i = find_string_special(bytes, 0);
    while i < bytes.len() {
        let b = bytes[i];
        out.push_str(&s[run..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
        run = i + 1;
        i = find_string_special(bytes, run);
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Appends the canonical form of a string given its inner text (as returned by `Scan::string`).
#[inline]
fn push_canonical_string(out: &mut String, inner: &str, esc: bool) -> Option<()> {
    if esc {
        escape_into(out, &unescape(inner)?);
    } else {
        // Valid JSON string text without escapes has no quote or control character: already canonical.
        out.push('"');
        out.push_str(inner);
        out.push('"');
    }
    Some(())
}

fn fmt_f64(f: f64) -> String {
    match serde_json::Number::from_f64(f) {
        Some(n) => n.to_string(),
        None => json_from_f64(f),
    }
}

fn is_int_text(text: &str) -> bool {
    !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// The numeric value of a JSON number's text, normalized so that equal numbers have equal text.
fn normalize_number(text: &str) -> Cow<'_, str> {
    if is_int_text(text) && text.parse::<i64>().is_ok() {
        return if text == "-0" { Cow::Borrowed("0") } else { Cow::Borrowed(text) };
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => {
            if f.fract() == 0.0 && f.abs() < TWO_POW_63 {
                Cow::Owned((f as i64).to_string())
            } else {
                Cow::Owned(fmt_f64(f))
            }
        }
        _ => Cow::Borrowed(text),
    }
}

// ---------------------------------------------------------------------------------------------
// path access
// ---------------------------------------------------------------------------------------------

/// The raw JSON text of the value at `path` inside `json`, zero-copy (Kusto `d.a.b[0]`).
///
/// Keys are compared with the decoded object keys; a negative index counts from the end of the
/// array (`arr[-1]`). Returns `None` when a step is missing, has the wrong shape (a key on a
/// non-object, an index on a non-array, an index out of range) or the text read is invalid JSON.
/// A JSON `null` found at the path is returned as `Some("null")`. An empty path returns the whole
/// value. Only the text up to the end of the value found is validated, and with duplicate keys
/// the first occurrence is followed.
pub fn get_path<'j>(json: &'j str, path: &[PathElem]) -> Option<&'j str> {
    let mut sc = Scan::new(json);
    for elem in path {
        match *elem {
            PathElem::Key(want) => {
                if sc.peek()? != b'{' || !sc.obj_first()? {
                    return None;
                }
                loop {
                    let (k, esc) = sc.key()?;
                    if key_matches(k, esc, want) {
                        break;
                    }
                    sc.skip(0)?;
                    if !sc.obj_next()? {
                        return None;
                    }
                }
            }
            PathElem::Index(i) => {
                if sc.peek()? != b'[' {
                    return None;
                }
                let idx = if i < 0 { sc.count_array()? + i } else { i };
                if idx < 0 || !sc.arr_first()? {
                    return None;
                }
                for _ in 0..idx {
                    sc.skip(0)?;
                    if !sc.arr_next()? {
                        return None;
                    }
                }
            }
        }
    }
    sc.raw()
}

/// A key read by [`Members::next_key_hinted`].
pub enum MemberKey<'j> {
    /// The key is the hint.
    Hinted,
    /// The raw key (between its quotes, still escaped) and whether it has escapes.
    Raw(&'j str, bool),
}

/// A reader of the top-level members of a JSON text that must be exactly one object (whitespace
/// around it allowed), validating all of it: the per-line scan of the JSON-lines loader. Values
/// are skipped by the same validating scanner as [`get_path`] (string ends found sixteen bytes at
/// a time), without building anything. Every method returns `None` when the text is not a valid
/// JSON object.
pub struct Members<'j> {
    sc: Scan<'j>,
    /// Whether a member may follow (`false` once the closing brace is consumed).
    open: bool,
    first: bool,
}

impl<'j> Members<'j> {
    /// Starts reading `json`; `None` unless it starts with `{`.
    #[inline]
    pub fn new(json: &'j str) -> Option<Self> {
        let mut sc = Scan::new(json);
        if sc.peek()? != b'{' {
            return None;
        }
        Some(Members { sc, open: true, first: true })
    }

    /// The next member's raw key (between its quotes, still escaped) and whether it has escapes;
    /// `Some(None)` after the last member. Its value must then be read with [`Members::value`] or
    /// [`Members::value_subset`].
    #[inline]
    pub fn next_key(&mut self) -> Option<Option<(&'j str, bool)>> {
        Some(match self.next_key_hinted(None)? {
            Some(MemberKey::Raw(k, esc)) => Some((k, esc)),
            _ => None,
        })
    }

    /// [`Members::next_key`], trying `hint` first: when the raw key is exactly `hint` (a key with
    /// no character JSON escapes) followed by its closing quote and the colon, the key is consumed
    /// with one comparison and [`MemberKey::Hinted`] says so. Lines of a table repeat the keys of
    /// the line before, in the same order.
    #[inline]
    pub fn next_key_hinted(&mut self, hint: Option<&str>) -> Option<Option<MemberKey<'j>>> {
        if !self.open {
            return Some(None);
        }
        let more = if self.first {
            self.first = false;
            self.sc.obj_first()?
        } else {
            self.sc.obj_next()?
        };
        if !more {
            self.open = false;
            return Some(None);
        }
        if hint.is_some_and(|h| self.sc.key_is(h)) {
            return Some(Some(MemberKey::Hinted));
        }
        self.sc.key().map(|(k, esc)| Some(MemberKey::Raw(k, esc)))
    }

    /// The current member's raw value text.
    #[inline]
    pub fn value(&mut self) -> Option<&'j str> {
        self.sc.peek()?;
        let start = self.sc.i;
        self.sc.skip(1)?;
        self.sc.slice(start, self.sc.i)
    }

    /// The current member's raw value text, and whether it is already canonical dynamic text
    /// (what [`is_canonical`] says, found while skipping it). `keys` is scratch space.
    #[inline]
    pub fn value_canonical(&mut self, keys: &mut Vec<(usize, usize)>) -> Option<(&'j str, bool)> {
        self.sc.peek()?;
        let start = self.sc.i;
        let mut canon = true;
        keys.clear();
        self.sc.skip_canon(1, keys, &mut canon)?;
        Some((self.sc.slice(start, self.sc.i)?, canon))
    }

    /// The current member's raw value text; when it is an object, also writes into `out` the
    /// object with only the members whose key is in `keys` (raw, not yet canonical: see
    /// [`finish_subset`]) and returns with it whether that text is known to be canonical already
    /// (`None` when the value is not an object). `scratch` is scratch space.
    pub fn value_subset(
        &mut self,
        keys: &[String],
        out: &mut String,
        scratch: &mut Vec<(usize, usize)>,
    ) -> Option<(&'j str, Option<bool>)> {
        if self.sc.peek()? != b'{' {
            return Some((self.value()?, None));
        }
        let start = self.sc.i;
        let canonical = subset_into(&mut self.sc, keys, out, 2, scratch)?;
        Some((self.sc.slice(start, self.sc.i)?, Some(canonical)))
    }

    /// After the last member: whether only whitespace follows the object.
    #[inline]
    pub fn finish(mut self) -> Option<()> {
        (!self.open && self.sc.at_end()).then_some(())
    }
}

/// Makes the object text written by [`Members::value_subset`] canonical (as [`parse_json`]
/// would), unless `canonical` says it is already; `false` if it is not valid JSON.
pub fn finish_subset(out: &mut String, canonical: bool) -> bool {
    debug_assert!(!canonical || is_canonical(out), "{out:?} was found canonical while written");
    if canonical || is_canonical(out) {
        return true;
    }
    match compact_checked(out) {
        Some(c) => {
            *out = c;
            true
        }
        None => false,
    }
}

/// At `{`: consumes the object, writing into `out` its members whose key is in `keys` (raw text).
/// Returns whether that text is canonical already: its values are (the rules of
/// [`is_canonical`], checked while they are read), no kept key has an escape, and no key was
/// kept twice. `scratch` is scratch space.
fn subset_into(
    sc: &mut Scan<'_>,
    keys: &[String],
    out: &mut String,
    depth: usize,
    scratch: &mut Vec<(usize, usize)>,
) -> Option<bool> {
    out.clear();
    out.push('{');
    let mut canon = true;
    // the entries of `keys` kept so far (the first 64)
    let mut kept = 0u64;
    if sc.obj_first()? {
        loop {
            let (k, esc) = sc.key()?;
            let found = if esc {
                decode(k, true).and_then(|d| keys.iter().position(|w| same_key(w, &d)))
            } else {
                keys.iter().position(|w| same_key(w, k))
            };
            if let Some(j) = found {
                sc.peek()?;
                let v0 = sc.i;
                if canon {
                    scratch.clear();
                    sc.skip_canon(depth, scratch, &mut canon)?;
                    let bit = if j < 64 { 1u64 << j } else { 0 };
                    if esc || bit == 0 || kept & bit != 0 {
                        canon = false;
                    }
                    kept |= bit;
                } else {
                    sc.skip(depth)?;
                }
                if out.len() > 1 {
                    out.push(',');
                }
                out.push('"');
                out.push_str(k);
                out.push_str("\":");
                out.push_str(sc.slice(v0, sc.i)?);
            } else {
                sc.skip(depth)?;
            }
            if !sc.obj_next()? {
                break;
            }
        }
    }
    out.push('}');
    Some(canon)
}

/// The canonical text of the object `raw` with only the members whose key is in `keys`, written
/// into `out`; `false` (and `out` unspecified) when `raw` is not a valid JSON object. Any path
/// that starts with one of `keys` finds the same value in the result as in the whole object
/// (duplicate keys resolve as in [`parse_json`]).
pub fn object_subset(raw: &str, keys: &[String], out: &mut String) -> bool {
    let mut sc = Scan::new(raw);
    if sc.peek() != Some(b'{') {
        return false;
    }
    let Some(canonical) = subset_into(&mut sc, keys, out, 1, &mut Vec::new()) else { return false };
    sc.at_end() && finish_subset(out, canonical)
}

/// The decoded text of a raw key given by [`object_members`] (zero-copy without escapes).
pub fn member_key(raw: &str, esc: bool) -> Option<Cow<'_, str>> {
    decode(raw, esc)
}

/// Extracts several paths from one value in a single pass over the text.
///
/// Equivalent to calling [`get_path`] for each path (same `None` rules, first duplicate key wins),
/// but shared prefixes are walked once and the scan stops when every path is resolved.
pub fn get_paths<'j>(json: &'j str, paths: &[&[PathElem]]) -> Vec<Option<&'j str>> {
    let mut out = vec![None; paths.len()];
    get_paths_into(json, paths, &mut out);
    out
}

/// [`get_paths`] writing into a caller-provided buffer, so a column loop allocates nothing per row.
///
/// # Panics
///
/// If `out.len() != paths.len()`.
pub fn get_paths_into<'j>(json: &'j str, paths: &[&[PathElem]], out: &mut [Option<&'j str>]) {
    assert_eq!(out.len(), paths.len(), "get_paths_into: one output slot per path");
    out.fill(None);
    if paths.is_empty() {
        return;
    }
    if paths.len() > 64 {
        for (o, p) in out.iter_mut().zip(paths) {
            *o = get_path(json, p);
        }
        return;
    }
    let (mut active, mut whole) = (0u64, 0u64);
    for (i, p) in paths.iter().enumerate() {
        if p.is_empty() {
            whole |= 1 << i;
        } else {
            active |= 1 << i;
        }
    }
    let mut sc = Scan::new(json);
    if sc.peek().is_none() {
        return;
    }
    let start = sc.i;
    let mut w = Walker { paths, out };
    let ok = if active != 0 { w.walk(&mut sc, 0, active, whole != 0).is_some() } else { sc.skip(0).is_some() };
    if ok && whole != 0 {
        if let Some(s) = sc.slice(start, sc.i) {
            for_bits(whole, |i| w.out[i] = Some(s));
        }
    }
}

#[inline]
fn for_bits(mut bits: u64, mut f: impl FnMut(usize)) {
    while bits != 0 {
        f(bits.trailing_zeros() as usize);
        bits &= bits - 1;
    }
}

/// A 6-bit signature of a key (a multiplicative hash of its length and first and last bytes), to
/// reject most non-matching keys with one bit test.
#[inline]
fn key_sig(k: &str) -> u32 {
    let b = k.as_bytes();
    let (f, l) = (b.first().copied().unwrap_or(0) as u32, b.last().copied().unwrap_or(0) as u32);
    ((b.len() as u32) | (f << 8) | (l << 16)).wrapping_mul(0x9E37_79B1) >> 26
}

struct Walker<'p, 'a, 'j, 'o> {
    paths: &'p [&'p [PathElem<'a>]],
    out: &'o mut [Option<&'j str>],
}

impl<'j> Walker<'_, '_, 'j, '_> {
    /// Paths in `set` whose step at `depth` satisfies `f`.
    #[inline]
    fn select(&self, set: u64, depth: usize, f: impl Fn(&PathElem) -> bool) -> u64 {
        let mut m = 0;
        for_bits(set, |i| {
            if f(&self.paths[i][depth]) {
                m |= 1 << i;
            }
        });
        m
    }

    /// A bit set of the [`key_sig`]s of the keys the paths in `set` look for at `depth`.
    #[inline]
    fn key_sigs(&self, set: u64, depth: usize) -> u64 {
        let mut m = 0;
        for_bits(set, |i| {
            if let PathElem::Key(w) = self.paths[i][depth] {
                m |= 1 << key_sig(w);
            }
        });
        m
    }

    /// Paths in `set` that end after `depth` steps.
    #[inline]
    fn ending(&self, set: u64, depth: usize) -> u64 {
        let mut m = 0;
        for_bits(set, |i| {
            if self.paths[i].len() == depth {
                m |= 1 << i;
            }
        });
        m
    }

    /// Handles the member or element the scanner is at, selected by the paths in `m` (which have
    /// matched `depth + 1` steps). Returns the paths still pending at this level.
    #[inline]
    fn take(&mut self, sc: &mut Scan<'j>, depth: usize, m: u64, remaining: u64, need_end: bool) -> Option<u64> {
        let remaining = remaining & !m;
        let ends = self.ending(m, depth + 1);
        let deeper = m & !ends;
        let child_need_end = need_end || remaining != 0 || ends != 0;
        sc.peek()?;
        let start = sc.i;
        if deeper != 0 {
            self.walk(sc, depth + 1, deeper, child_need_end)?;
        } else {
            sc.skip(0)?;
        }
        if ends != 0 {
            let s = sc.slice(start, sc.i)?;
            for_bits(ends, |i| self.out[i] = Some(s));
        }
        Some(remaining)
    }

    /// Walks the value at the scanner for the paths in `active`, which have matched `depth` steps
    /// and have more. Consumes the whole value when `need_end`; otherwise may stop as soon as
    /// nothing is pending.
    fn walk(&mut self, sc: &mut Scan<'j>, depth: usize, active: u64, need_end: bool) -> Option<()> {
        let c = sc.peek()?;
        let mut remaining = match c {
            b'{' => self.select(active, depth, |e| matches!(e, PathElem::Key(_))),
            b'[' => self.select(active, depth, |e| matches!(e, PathElem::Index(_))),
            _ => 0,
        };
        if remaining == 0 {
            return if need_end { sc.skip(0) } else { Some(()) };
        }
        if c == b'{' {
            if !sc.obj_first()? {
                return Some(());
            }
            let sigs = self.key_sigs(remaining, depth);
            loop {
                let (k, esc) = sc.key()?;
                // Most keys match no path: reject them by signature before comparing with each path.
                let m = if !esc && sigs & (1 << key_sig(k)) == 0 {
                    0
                } else {
                    self.select(remaining, depth, |e| matches!(e, PathElem::Key(w) if key_matches(k, esc, w)))
                };
                if m == 0 {
                    sc.skip(0)?;
                } else {
                    remaining = self.take(sc, depth, m, remaining, need_end)?;
                    if remaining == 0 && !need_end {
                        return Some(());
                    }
                    // `sigs` keeps the bits of resolved paths: at worst a later key is compared for nothing.
                }
                if !sc.obj_next()? {
                    return Some(());
                }
            }
        } else {
            let len = if self.select(remaining, depth, |e| matches!(e, PathElem::Index(i) if *i < 0)) != 0 {
                sc.count_array()?
            } else {
                i64::MAX
            };
            if !sc.arr_first()? {
                return Some(());
            }
            let mut pos = 0i64;
            loop {
                let m = self.select(remaining, depth, |e| match *e {
                    PathElem::Index(i) => (if i < 0 { len + i } else { i }) == pos,
                    PathElem::Key(_) => false,
                });
                if m == 0 {
                    sc.skip(0)?;
                } else {
                    remaining = self.take(sc, depth, m, remaining, need_end)?;
                    if remaining == 0 && !need_end {
                        return Some(());
                    }
                }
                if !sc.arr_next()? {
                    return Some(());
                }
                pos += 1;
            }
        }
    }
}

/// Parses a Kusto JSONPath (`$.a.b`, `$['a'][0]`, `$["a b"].c`); a text not starting with `$` is
/// one top-level key. Returns `None` for syntax this subset does not support (wildcards, filters,
/// recursive descent).
pub fn parse_json_path(path: &str) -> Option<Vec<JsonPathElem>> {
    let Some(rest) = path.strip_prefix('$') else {
        return Some(vec![JsonPathElem::Key(path.to_string())]);
    };
    let b = rest.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut e = start;
                while e < b.len() && b[e] != b'.' && b[e] != b'[' {
                    e += 1;
                }
                let name = &rest[start..e];
                if name.is_empty() || name == "*" {
                    return None;
                }
                out.push(JsonPathElem::Key(name.to_string()));
                i = e;
            }
            b'[' => {
                let q = *b.get(i + 1)?;
                if q == b'\'' || q == b'"' {
                    let start = i + 2;
                    let close = rest[start..].find(q as char)? + start;
                    if b.get(close + 1) != Some(&b']') {
                        return None;
                    }
                    out.push(JsonPathElem::Key(rest[start..close].to_string()));
                    i = close + 2;
                } else {
                    let close = rest[i..].find(']')? + i;
                    let idx: i64 = rest[i + 1..close].trim().parse().ok()?;
                    out.push(JsonPathElem::Index(idx));
                    i = close + 1;
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// scalars
// ---------------------------------------------------------------------------------------------

/// The JSON type of a raw value, read from its first bytes (cheap; does not validate the rest).
/// `None` for empty or obviously invalid text.
pub fn kind(raw: &str) -> Option<JsonKind> {
    let t = raw.trim_start_matches([' ', '\t', '\n', '\r']);
    Some(match t.as_bytes().first()? {
        b'n' => JsonKind::Null,
        b't' | b'f' => JsonKind::Bool,
        b'"' => JsonKind::String,
        b'[' => JsonKind::Array,
        b'{' => JsonKind::Object,
        b'-' | b'0'..=b'9' => {
            let t = t.trim_end_matches([' ', '\t', '\n', '\r']);
            if is_int_text(t) && t.parse::<i64>().is_ok() {
                JsonKind::Long
            } else {
                JsonKind::Real
            }
        }
        _ => return None,
    })
}

/// Whether `raw` is exactly one valid JSON value (surrounding whitespace allowed).
pub fn is_valid(raw: &str) -> bool {
    whole_raw(raw).is_some()
}

/// The content of a JSON string value, unescaped (zero-copy without escapes); `None` for any other
/// value or invalid text.
pub fn scalar_string(raw: &str) -> Option<Cow<'_, str>> {
    let (mut sc, c) = whole(raw)?;
    if c != b'"' {
        return None;
    }
    let (inner, esc) = sc.string()?;
    if !sc.at_end() {
        return None;
    }
    decode(inner, esc)
}

/// Kusto `tostring(dynamic)`: a string value unquoted and unescaped, a number or bool as its JSON
/// text, an array or object as compact JSON, JSON `null` as `""`. Invalid text is returned as is.
pub fn to_kql_string(raw: &str) -> String {
    to_kql_cow(raw).into_owned()
}

/// [`to_kql_cow`] with a shortcut for the commonest value, a stored JSON string without escapes
/// (`"FAIL"`): its content, found without scanning it byte by byte.
#[inline]
pub fn to_kql_str(raw: &str) -> Cow<'_, str> {
    let b = raw.as_bytes();
    if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
        let inner = &raw[1..raw.len() - 1];
        // valid JSON text: a string without backslashes holds no quote and no control character,
        // so the text between the quotes is the value
        if memchr::memchr2(b'\\', b'"', inner.as_bytes()).is_none() {
            return Cow::Borrowed(inner);
        }
    }
    to_kql_cow(raw)
}

/// [`to_kql_string`] without copying when the result is a slice of `raw` (strings without escapes,
/// numbers, bools, already-compact arrays and objects).
pub fn to_kql_cow(raw: &str) -> Cow<'_, str> {
    let t = raw.trim_matches([' ', '\t', '\n', '\r']);
    match t.as_bytes().first() {
        Some(b'"') => match scalar_string(t) {
            Some(s) => s,
            None => Cow::Borrowed(raw),
        },
        Some(b'n') if t == "null" => Cow::Borrowed(""),
        // stored dynamic text is canonical already: checked without building a copy
        Some(b'[' | b'{') if is_canonical(t) && is_valid(t) => Cow::Borrowed(t),
        Some(b'[' | b'{') => match compact_checked(t) {
            Some(c) if c == t => Cow::Borrowed(t),
            Some(c) => Cow::Owned(c),
            None => Cow::Borrowed(raw),
        },
        _ => Cow::Borrowed(t),
    }
}

/// A scalar's parts: its first byte and its text (for strings, the decoded content).
fn scalar_parts(raw: &str) -> Option<(u8, Cow<'_, str>)> {
    let (mut sc, c) = whole(raw)?;
    let v = if c == b'"' {
        let (inner, esc) = sc.string()?;
        decode(inner, esc)?
    } else {
        Cow::Borrowed(sc.raw()?)
    };
    sc.at_end().then_some((c, v))
}

/// Kusto `tolong(dynamic)`: a JSON integer as is; a real truncated toward zero (`None` out of
/// range); `true`/`false` as 1/0; a string parsed as [`parse_long_text`]; otherwise `None`.
pub fn as_i64(raw: &str) -> Option<i64> {
    let (c, v) = scalar_parts(raw)?;
    match c {
        b't' => Some(1),
        b'f' => Some(0),
        b'"' => parse_long_text(&v),
        b'-' | b'0'..=b'9' => {
            if is_int_text(&v) {
                if let Ok(i) = v.parse::<i64>() {
                    return Some(i);
                }
            }
            f64_to_i64(v.parse::<f64>().ok()?)
        }
        _ => None,
    }
}

fn f64_to_i64(f: f64) -> Option<i64> {
    let t = f.trunc();
    (-TWO_POW_63..TWO_POW_63).contains(&t).then_some(t as i64)
}

/// Kusto `todouble(dynamic)`: a JSON number's value; `true`/`false` as 1/0; a string parsed as
/// [`parse_real_text`]; otherwise `None`.
pub fn as_f64(raw: &str) -> Option<f64> {
    let (c, v) = scalar_parts(raw)?;
    match c {
        b't' => Some(1.0),
        b'f' => Some(0.0),
        b'"' => parse_real_text(&v),
        b'-' | b'0'..=b'9' => v.parse::<f64>().ok(),
        _ => None,
    }
}

/// Kusto `tobool(dynamic)`: a JSON bool as is; a number as `!= 0`; a string parsed as
/// [`parse_bool_text`]; otherwise `None`.
pub fn as_bool(raw: &str) -> Option<bool> {
    let (c, v) = scalar_parts(raw)?;
    match c {
        b't' => Some(true),
        b'f' => Some(false),
        b'"' => parse_bool_text(&v),
        b'-' | b'0'..=b'9' => v.parse::<f64>().ok().map(|f| f != 0.0),
        _ => None,
    }
}

/// Kusto `tolong(string)`: optional surrounding whitespace, an optional sign, then decimal digits
/// or a `0x` hexadecimal number; `None` otherwise (including `"1.5"`) or on overflow.
pub fn parse_long_text(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = u64::from_str_radix(hex, 16).ok()? as i64;
        return Some(if neg { v.wrapping_neg() } else { v });
    }
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i64>().ok()
}

/// Kusto `todouble(string)`: a decimal number with optional exponent (surrounding whitespace
/// allowed), or `NaN` / `Infinity` / `-Infinity` / `inf` spelled in any case; `None` otherwise.
pub fn parse_real_text(s: &str) -> Option<f64> {
    let t = s.trim();
    let (sign, body) = match t.as_bytes().first()? {
        b'-' => (-1.0, &t[1..]),
        b'+' => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    if body.eq_ignore_ascii_case("infinity") || body.eq_ignore_ascii_case("inf") {
        return Some(sign * f64::INFINITY);
    }
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Kusto `tobool(string)`: `true` / `false` in any case (surrounding whitespace allowed), or an
/// integer ([`parse_long_text`]) as `!= 0`; `None` otherwise.
pub fn parse_bool_text(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        parse_long_text(t).map(|v| v != 0)
    }
}

/// A JSON integer.
pub fn json_from_i64(v: i64) -> String {
    v.to_string()
}

/// A JSON number for a KQL `real`, keeping it a real (`1.0`, not `1`, as Kusto writes reals in
/// dynamic values), in shortest round-trip form. JSON has no NaN or infinity: those become the
/// strings `"NaN"`, `"Infinity"` and `"-Infinity"`, which `todouble()` ([`as_f64`]) reads back.
pub fn json_from_f64(v: f64) -> String {
    if v.is_nan() {
        "\"NaN\"".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" }.to_string()
    } else {
        fmt_f64(v)
    }
}

/// `true` or `false`.
pub fn json_from_bool(v: bool) -> String {
    if v { "true" } else { "false" }.to_string()
}

/// A JSON string value (same as [`json_string`]).
pub fn json_from_str(s: &str) -> String {
    json_string(s)
}

/// Quotes and escapes a Rust string as a JSON string literal (minimal escaping: `"`, `\` and
/// control characters).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    escape_into(&mut out, s);
    out
}

// ---------------------------------------------------------------------------------------------
// parsing and canonical forms
// ---------------------------------------------------------------------------------------------

struct Compactor {
    out: String,
    /// Members of the objects being written: (key start, key end, value end) in `out`.
    members: Vec<(usize, usize, usize)>,
}

impl Compactor {
    fn value(&mut self, sc: &mut Scan<'_>, depth: usize) -> Option<()> {
        match sc.peek()? {
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.out.push('[');
                if sc.arr_first()? {
                    loop {
                        self.value(sc, depth + 1)?;
                        if !sc.arr_next()? {
                            break;
                        }
                        self.out.push(',');
                    }
                }
                self.out.push(']');
            }
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.out.push('{');
                let seg = self.out.len();
                let base = self.members.len();
                if sc.obj_first()? {
                    loop {
                        let (k, esc) = sc.key()?;
                        let ks = self.out.len();
                        push_canonical_string(&mut self.out, k, esc)?;
                        let ke = self.out.len();
                        self.out.push(':');
                        self.value(sc, depth + 1)?;
                        self.members.push((ks, ke, self.out.len()));
                        if !sc.obj_next()? {
                            break;
                        }
                        self.out.push(',');
                    }
                }
                self.dedupe(seg, base);
                self.members.truncate(base);
                self.out.push('}');
            }
            b'"' => {
                let (inner, esc) = sc.string()?;
                push_canonical_string(&mut self.out, inner, esc)?;
            }
            // null, true, false and numbers keep their text
            _ => self.out.push_str(sc.raw()?),
        }
        Some(())
    }

    /// Removes duplicate keys from the object members written since `base` (first position, last value).
    fn dedupe(&mut self, seg: usize, base: usize) {
        let members = &self.members[base..];
        if members.len() < 2 {
            return;
        }
        let out = &self.out;
        let key = |m: &(usize, usize, usize)| &out[m.0..m.1];
        let has_dup = if members.len() <= 16 {
            members.iter().enumerate().any(|(i, a)| members[..i].iter().any(|b| key(a) == key(b)))
        } else {
            let mut seen = HashSet::with_capacity(members.len());
            !members.iter().all(|m| seen.insert(key(m)))
        };
        if !has_dup {
            return;
        }
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            last.insert(key(m), i);
        }
        let mut rebuilt = String::with_capacity(out.len() - seg);
        let mut done = HashSet::with_capacity(members.len());
        for m in members {
            let k = key(m);
            if !done.insert(k) {
                continue;
            }
            let v = &members[last[k]];
            if !rebuilt.is_empty() {
                rebuilt.push(',');
            }
            rebuilt.push_str(k);
            rebuilt.push_str(&out[v.1..v.2]);
        }
        self.out.truncate(seg);
        self.out.push_str(&rebuilt);
    }
}

/// Canonical compact text of a valid JSON value; `None` if `raw` is not exactly one valid value.
fn compact_checked(raw: &str) -> Option<String> {
    let mut sc = Scan::new(raw);
    let mut c = Compactor { out: String::with_capacity(raw.len()), members: Vec::new() };
    c.value(&mut sc, 0)?;
    sc.at_end().then_some(c.out)
}

/// Canonical compact text of a JSON value (see the module docs): whitespace removed, strings
/// minimally escaped, key order and number text kept, duplicate keys merged. Text that is not
/// valid JSON is returned unchanged.
pub fn compact(raw: &str) -> String {
    compact_checked(raw).unwrap_or_else(|| raw.to_string())
}

/// True when `raw`, a valid JSON text, is already in the canonical form [`compact`] would give
/// (so it can be stored as it is, without rebuilding it): no whitespace outside strings, strings
/// escaped minimally, no duplicate keys, nesting within
/// [`MAX_DEPTH`]. `false` means "not sure": callers then canonicalize with [`parse_json`]. The
/// answer is meaningless for invalid JSON (check validity first).
pub fn is_canonical(raw: &str) -> bool {
    let b = raw.as_bytes();
    let mut i = 0;
    // per open container: is it an object, and where its keys start in `keys`
    let mut stack: Vec<(bool, usize)> = Vec::new();
    // byte ranges of the keys of the open objects
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut expect_key = false;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH {
                    return false;
                }
                let obj = b[i] == b'{';
                stack.push((obj, keys.len()));
                expect_key = obj;
                i += 1;
            }
            b'}' | b']' => {
                if let Some((_, start)) = stack.pop() {
                    keys.truncate(start);
                }
                expect_key = false;
                i += 1;
            }
            b',' => {
                expect_key = stack.last().is_some_and(|(obj, _)| *obj);
                i += 1;
            }
            b':' => {
                expect_key = false;
                i += 1;
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                // valid JSON has no raw control characters in strings: a quote or a backslash is next
                loop {
                    j = find_string_special(b, j);
                    match b.get(j) {
                        Some(b'"') => break,
                        Some(b'\\') => match b.get(j + 1) {
                            Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') if !expect_key => j += 2,
                            _ => return false,
                        },
                        _ => return false,
                    }
                }
                if expect_key {
                    let key = &b[start..j];
                    let Some(&(_, first)) = stack.last() else { return false };
                    if keys[first..].iter().any(|&(s, e)| e - s == key.len() && &b[s..e] == key) {
                        return false;
                    }
                    keys.push((start, j));
                }
                i = j + 1;
            }
            b'-' | b'0'..=b'9' => {
                // number text is kept as written
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
            }
            b't' | b'f' | b'n' => {
                while i < b.len() && b[i].is_ascii_lowercase() {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
    true
}

/// Kusto `parse_json(string)` / `todynamic(string)`.
///
/// Valid JSON gives its canonical compact text ([`compact`]); a JSON `null` gives `None` (dynamic
/// null). Text that is not valid (strict RFC 8259) JSON gives the input itself as a dynamic string
/// (`parse_json("abc")` is the string `"abc"`), as the Kusto docs specify. An empty or
/// whitespace-only input gives `None` (null). `NaN`/`Infinity` are not JSON, so they come back as
/// strings, which `todouble()` still reads as numbers.
pub fn parse_json(s: &str) -> Option<String> {
    if s.trim_matches([' ', '\t', '\n', '\r']).is_empty() {
        return None;
    }
    match compact_checked(s) {
        Some(c) if c == "null" => None,
        Some(c) => Some(c),
        None => Some(json_string(s)),
    }
}

fn canonical_into(sc: &mut Scan<'_>, out: &mut String, depth: usize) -> Option<()> {
    match sc.peek()? {
        b'[' => {
            if depth >= MAX_DEPTH {
                return None;
            }
            out.push('[');
            if sc.arr_first()? {
                loop {
                    canonical_into(sc, out, depth + 1)?;
                    if !sc.arr_next()? {
                        break;
                    }
                    out.push(',');
                }
            }
            out.push(']');
        }
        b'{' => {
            if depth >= MAX_DEPTH {
                return None;
            }
            out.push('{');
            let seg = out.len();
            // (decoded key, range of `"key":value` in `out`)
            let mut members: Vec<(Cow<str>, usize, usize)> = Vec::new();
            if sc.obj_first()? {
                loop {
                    let (k, esc) = sc.key()?;
                    let start = out.len();
                    push_canonical_string(out, k, esc)?;
                    out.push(':');
                    canonical_into(sc, out, depth + 1)?;
                    members.push((decode(k, esc)?, start, out.len()));
                    if !sc.obj_next()? {
                        break;
                    }
                    out.push(',');
                }
            }
            if !members.windows(2).all(|w| w[0].0 < w[1].0) {
                // Stable sort, then keep the last of equal keys.
                members.sort_by(|a, b| a.0.cmp(&b.0));
                let body = out[seg..].to_string();
                out.truncate(seg);
                for (i, (k, a, b)) in members.iter().enumerate() {
                    if members.get(i + 1).is_some_and(|n| n.0 == *k) {
                        continue;
                    }
                    if out.len() > seg {
                        out.push(',');
                    }
                    out.push_str(&body[a - seg..b - seg]);
                }
            }
            out.push('}');
        }
        b'"' => {
            let (inner, esc) = sc.string()?;
            push_canonical_string(out, inner, esc)?;
        }
        b'-' | b'0'..=b'9' => out.push_str(&normalize_number(sc.raw()?)),
        _ => out.push_str(sc.raw()?),
    }
    Some(())
}

/// A key identifying a JSON value up to structural equality, for hash sets (`make_set`,
/// `set_union`, ...): JSON text with object keys sorted (by code point, duplicates merged last-wins),
/// strings minimally escaped and numbers normalized to their numeric value (`1`, `1.0`, `1e0` and
/// `-0` → `1`/`0`; non-integers in shortest round-trip form). Invalid text is its own key.
pub fn canonical_key(raw: &str) -> String {
    let mut sc = Scan::new(raw);
    let mut out = String::with_capacity(raw.len());
    match canonical_into(&mut sc, &mut out, 0) {
        Some(()) if sc.at_end() => out,
        _ => raw.to_string(),
    }
}

/// Structural equality of two JSON values (see [`canonical_key`]): key order in objects does not
/// matter, numbers compare by value (`1` equals `1.0`), strings by decoded content, types must
/// otherwise agree (`1` is not `"1"`). Invalid text equals only identical text.
pub fn json_equal(a: &str, b: &str) -> bool {
    a == b || canonical_key(a) == canonical_key(b)
}

// ---------------------------------------------------------------------------------------------
// arrays and bags
// ---------------------------------------------------------------------------------------------

/// Kusto `array_length()`: the number of elements, or `None` if the value is not an array (or invalid).
pub fn array_length(raw: &str) -> Option<i64> {
    let (mut sc, c) = whole(raw)?;
    if c != b'[' {
        return None;
    }
    let n = sc.count_array()?;
    sc.skip(0)?;
    sc.at_end().then_some(n)
}

/// The raw text of each element of an array (zero-copy); `None` if not an array or invalid.
pub fn array_elements(raw: &str) -> Option<Vec<&str>> {
    let (mut sc, c) = whole(raw)?;
    if c != b'[' {
        return None;
    }
    let mut out = Vec::new();
    if sc.arr_first()? {
        loop {
            out.push(sc.raw()?);
            if !sc.arr_next()? {
                break;
            }
        }
    }
    sc.at_end().then_some(out)
}

/// The (decoded key, raw value) pairs of a property bag in text order (zero-copy unless a key has
/// escapes); `None` if not an object or invalid. Duplicate keys, which canonical text never has,
/// are returned as they appear.
pub fn object_entries(raw: &str) -> Option<Vec<(Cow<'_, str>, &str)>> {
    let (mut sc, c) = whole(raw)?;
    if c != b'{' {
        return None;
    }
    let mut out = Vec::new();
    if sc.obj_first()? {
        loop {
            let (k, esc) = sc.key()?;
            out.push((decode(k, esc)?, sc.raw()?));
            if !sc.obj_next()? {
                break;
            }
        }
    }
    sc.at_end().then_some(out)
}

/// Kusto `bag_keys()`: a JSON array of the bag's keys in text order (each once); `None` if not a bag.
pub fn bag_keys(raw: &str) -> Option<String> {
    let entries = object_entries(raw)?;
    let mut out = String::from("[");
    let mut seen = HashSet::new();
    for (k, _) in &entries {
        if !seen.insert(k.as_ref()) {
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        escape_into(&mut out, k);
    }
    out.push(']');
    Some(out)
}

/// Kusto `pack_array()` / the `make_list` builder: a JSON array of already-JSON items.
pub fn build_array(items: &[&str]) -> String {
    let mut out = String::with_capacity(2 + items.iter().map(|s| s.len() + 1).sum::<usize>());
    out.push('[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(it);
    }
    out.push(']');
    out
}

/// Kusto `pack_array()`: same as [`build_array`].
pub fn pack_array(items: &[&str]) -> String {
    build_array(items)
}

/// Kusto `bag_pack()` / the `make_bag` builder: a JSON object from plain keys and already-JSON
/// values, in order. A repeated key keeps its first position and its last value.
pub fn build_object(entries: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(2 + entries.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>());
    out.push('{');
    let dup = if entries.len() <= 16 {
        entries.iter().enumerate().any(|(i, a)| entries[..i].iter().any(|b| a.0 == b.0))
    } else {
        let mut seen = HashSet::with_capacity(entries.len());
        !entries.iter().all(|(k, _)| seen.insert(*k))
    };
    let push = |out: &mut String, k: &str, v: &str| {
        if out.len() > 1 {
            out.push(',');
        }
        escape_into(out, k);
        out.push(':');
        out.push_str(v);
    };
    if dup {
        let mut last: HashMap<&str, &str> = HashMap::with_capacity(entries.len());
        for (k, v) in entries {
            last.insert(k, v);
        }
        let mut done = HashSet::with_capacity(entries.len());
        for (k, _) in entries {
            if done.insert(*k) {
                push(&mut out, k, last[k]);
            }
        }
    } else {
        for (k, v) in entries {
            push(&mut out, k, v);
        }
    }
    out.push('}');
    out
}

/// Kusto `array_concat()`: the elements of all arrays in order; `None` if any argument is not an array.
pub fn array_concat(arrays: &[&str]) -> Option<String> {
    let mut items = Vec::new();
    for a in arrays {
        items.extend(array_elements(a)?);
    }
    Some(build_array(&items))
}

/// Distinct elements (by [`canonical_key`]) of an array, first occurrences in order, with their keys.
fn distinct_elements(raw: &str) -> Option<Vec<(&str, String)>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for e in array_elements(raw)? {
        let k = canonical_key(e);
        if seen.insert(k.clone()) {
            out.push((e, k));
        }
    }
    Some(out)
}

fn key_set(raw: &str) -> Option<HashSet<String>> {
    Some(array_elements(raw)?.into_iter().map(canonical_key).collect())
}

/// Kusto `set_union()`: the distinct values of all arrays, in first-seen order; `None` if any
/// argument is not an array.
pub fn set_union(arrays: &[&str]) -> Option<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in arrays {
        for e in array_elements(a)? {
            if seen.insert(canonical_key(e)) {
                out.push(e);
            }
        }
    }
    Some(build_array(&out))
}

/// Kusto `set_intersect()`: the distinct values of the first array that are in every other array,
/// in first-array order; `None` if any argument is not an array.
pub fn set_intersect(arrays: &[&str]) -> Option<String> {
    let (first, rest) = arrays.split_first()?;
    let base = distinct_elements(first)?;
    let others = rest.iter().map(|a| key_set(a)).collect::<Option<Vec<_>>>()?;
    let out: Vec<&str> =
        base.into_iter().filter(|(_, k)| others.iter().all(|s| s.contains(k))).map(|(e, _)| e).collect();
    Some(build_array(&out))
}

/// Kusto `set_difference()`: the distinct values of the first array that are in none of the
/// others, in first-array order; `None` if any argument is not an array.
pub fn set_difference(arrays: &[&str]) -> Option<String> {
    let (first, rest) = arrays.split_first()?;
    let base = distinct_elements(first)?;
    let others = rest.iter().map(|a| key_set(a)).collect::<Option<Vec<_>>>()?;
    let out: Vec<&str> =
        base.into_iter().filter(|(_, k)| !others.iter().any(|s| s.contains(k))).map(|(e, _)| e).collect();
    Some(build_array(&out))
}

/// Kusto `set_equals()`: whether two arrays hold the same distinct values (order and
/// repetition ignored); `None` if an argument is not an array.
pub fn set_equals(a: &str, b: &str) -> Option<bool> {
    Some(key_set(a)? == key_set(b)?)
}

/// Kusto `set_has_element()`: whether an element of the array equals `needle_raw` ([`json_equal`]);
/// `None` if the first argument is not an array.
pub fn set_has_element(raw: &str, needle_raw: &str) -> Option<bool> {
    Some(array_index_of(raw, needle_raw)? >= 0)
}

/// Kusto `array_index_of(array, value)`: the index of the first element equal to `needle_raw`
/// ([`json_equal`]), `-1` if none; `None` if not an array.
pub fn array_index_of(raw: &str, needle_raw: &str) -> Option<i64> {
    array_index_of_ext(raw, needle_raw, 0, -1, 1)
}

/// Kusto `array_index_of(array, value, start, length, occurrence)`: searches `length` elements
/// (`-1`: to the end) from `start` (negative: from the end; clamped to the array) for the
/// `occurrence`-th element equal to `needle_raw`. Returns its index, `-1` if not found, `None` if
/// not an array or for irrelevant inputs (`length < -1`, `occurrence < 1`).
pub fn array_index_of_ext(raw: &str, needle_raw: &str, start: i64, length: i64, occurrence: i64) -> Option<i64> {
    if length < -1 || occurrence < 1 {
        return None;
    }
    let elems = array_elements(raw)?;
    let n = elems.len() as i64;
    let from = if start < 0 { (n + start).max(0) } else { start };
    let to = if length == -1 { n } else { from.saturating_add(length).min(n) };
    let needle = needle_raw.trim_matches([' ', '\t', '\n', '\r']);
    let mut needle_key: Option<String> = None;
    let mut found = 0;
    for i in from..to {
        let e = elems[i as usize];
        let eq = e == needle || {
            // Only values of the same JSON kind can be equal.
            kind_class(e) == kind_class(needle)
                && *needle_key.get_or_insert_with(|| canonical_key(needle)) == canonical_key(e)
        };
        if eq {
            found += 1;
            if found == occurrence {
                return Some(i);
            }
        }
    }
    Some(-1)
}

fn kind_class(raw: &str) -> u8 {
    match kind(raw) {
        Some(JsonKind::Long | JsonKind::Real) => 1,
        Some(k) => k as u8 + 2,
        None => 0,
    }
}

/// Kusto `array_slice(array, start, end)`: elements `start..=end`, negative indexes counting from
/// the end, out-of-range bounds clamped (empty if `start > end`); `None` if not an array.
pub fn array_slice(raw: &str, start: i64, end: i64) -> Option<String> {
    let elems = array_elements(raw)?;
    let n = elems.len() as i64;
    let s = if start < 0 { n + start } else { start }.max(0);
    let e = if end < 0 { n + end } else { end }.min(n - 1);
    if s > e {
        return Some("[]".to_string());
    }
    Some(build_array(&elems[s as usize..=e as usize]))
}

/// Kusto `zip()`: an array of arrays, the i-th holding the i-th element of each input (`null`
/// where an input is shorter); `None` if any argument is not an array.
pub fn zip(arrays: &[&str]) -> Option<String> {
    let lists = arrays.iter().map(|a| array_elements(a)).collect::<Option<Vec<_>>>()?;
    let len = lists.iter().map(Vec::len).max().unwrap_or(0);
    let rows: Vec<String> = (0..len)
        .map(|i| build_array(&lists.iter().map(|l| l.get(i).copied().unwrap_or("null")).collect::<Vec<_>>()))
        .collect();
    Some(build_array(&rows.iter().map(String::as_str).collect::<Vec<_>>()))
}

enum SortKey<'a> {
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Other,
    Null,
}

impl SortKey<'_> {
    fn of(raw: &str) -> SortKey<'_> {
        match kind(raw) {
            Some(JsonKind::Null) | None => SortKey::Null,
            Some(JsonKind::Long) => raw.trim().parse().map_or(SortKey::Other, SortKey::Int),
            Some(JsonKind::Real) => raw.trim().parse().map_or(SortKey::Other, SortKey::Float),
            Some(JsonKind::String) => scalar_string(raw).map_or(SortKey::Other, SortKey::Str),
            Some(_) => SortKey::Other,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Int(_) | SortKey::Float(_) => 0,
            SortKey::Str(_) => 1,
            SortKey::Other => 2,
            SortKey::Null => 3,
        }
    }

    /// Order within the same rank (ascending).
    fn cmp_same(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Int(a), SortKey::Int(b)) => a.cmp(b),
            (SortKey::Int(a), SortKey::Float(b)) => (*a as f64).total_cmp(b),
            (SortKey::Float(a), SortKey::Int(b)) => a.total_cmp(&(*b as f64)),
            (SortKey::Float(a), SortKey::Float(b)) => a.total_cmp(b),
            (SortKey::Str(a), SortKey::Str(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

/// The order `array_sort_asc`/`array_sort_desc` put the array in, as source indexes: numbers
/// first, then strings (ordinal), then all other values (bools, arrays, bags) in their original
/// order; `asc` orders within numbers and strings; nulls go last if `nulls_last`, else first. The
/// sort is stable. `None` if not an array. Use with [`array_permute`] to reorder companion arrays.
pub fn sort_permutation(raw: &str, asc: bool, nulls_last: bool) -> Option<Vec<usize>> {
    let elems = array_elements(raw)?;
    let keys: Vec<SortKey> = elems.iter().map(|e| SortKey::of(e)).collect();
    let mut idx: Vec<usize> = (0..elems.len()).collect();
    idx.sort_by(|&a, &b| {
        let (ka, kb) = (&keys[a], &keys[b]);
        let (ra, rb) = (ka.rank(), kb.rank());
        if ra != rb {
            let null_pos = |r: u8| if r == 3 && !nulls_last { 0 } else { r + 1 };
            return null_pos(ra).cmp(&null_pos(rb));
        }
        let o = ka.cmp_same(kb);
        if asc {
            o
        } else {
            o.reverse()
        }
    });
    Some(idx)
}

/// Reorders an array by `perm` (source indexes, as from [`sort_permutation`]); `None` if not an
/// array or if its length differs from the permutation's (Kusto returns null for such arrays).
pub fn array_permute(raw: &str, perm: &[usize]) -> Option<String> {
    let elems = array_elements(raw)?;
    if elems.len() != perm.len() {
        return None;
    }
    let items = perm.iter().map(|&i| elems.get(i).copied()).collect::<Option<Vec<_>>>()?;
    Some(build_array(&items))
}

/// Kusto `array_sort_asc(array)` (`asc`) / `array_sort_desc(array)` with the default
/// `nulls_last = true`; see [`sort_permutation`].
pub fn array_sort(raw: &str, asc: bool) -> Option<String> {
    array_sort_with(raw, asc, true)
}

/// Kusto `array_sort_asc/desc(array, nulls_last)`; see [`sort_permutation`].
pub fn array_sort_with(raw: &str, asc: bool, nulls_last: bool) -> Option<String> {
    let perm = sort_permutation(raw, asc, nulls_last)?;
    array_permute(raw, &perm)
}

/// Kusto `bag_merge(bag1, bag2, ...)`: all slots of all bags; a key present in several bags keeps
/// the first bag's value (the docs allow any). `None` if any argument is not a property bag.
pub fn bag_merge(bags: &[&str]) -> Option<String> {
    let mut entries: Vec<(Cow<str>, &str)> = Vec::new();
    let mut seen = HashSet::new();
    let all = bags.iter().map(|b| object_entries(b)).collect::<Option<Vec<_>>>()?;
    for list in all {
        for (k, v) in list {
            if seen.insert(k.clone()) {
                entries.push((k, v));
            }
        }
    }
    let pairs: Vec<(&str, &str)> = entries.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
    Some(build_object(&pairs))
}

/// Kusto `bag_remove_keys(bag, keys)`: the bag without the given slots. `keys_raw` is a JSON array
/// of strings, each a top-level key or a JSONPath (`$.a.b`, `$['a']`) naming a nested slot; paths
/// with array indexes, non-string items and missing keys are ignored. `None` if `raw` is not a
/// property bag or `keys_raw` not an array.
pub fn bag_remove_keys(raw: &str, keys_raw: &str) -> Option<String> {
    let mut paths: Vec<Vec<String>> = Vec::new();
    for k in array_elements(keys_raw)? {
        let Some(k) = scalar_string(k) else { continue };
        let Some(p) = parse_json_path(&k) else { continue };
        let keys: Option<Vec<String>> =
            p.into_iter().map(|e| if let JsonPathElem::Key(k) = e { Some(k) } else { None }).collect();
        if let Some(keys) = keys.filter(|k| !k.is_empty()) {
            paths.push(keys);
        }
    }
    let refs: Vec<&[String]> = paths.iter().map(Vec::as_slice).collect();
    remove_paths(raw, &refs)
}

fn remove_paths(raw: &str, paths: &[&[String]]) -> Option<String> {
    let entries = object_entries(raw)?;
    let mut kept: Vec<(&str, Cow<str>)> = Vec::with_capacity(entries.len());
    for (k, v) in &entries {
        if paths.iter().any(|p| p.len() == 1 && p[0] == *k) {
            continue;
        }
        let sub: Vec<&[String]> = paths.iter().filter(|p| p.len() > 1 && p[0] == *k).map(|p| &p[1..]).collect();
        let new = if sub.is_empty() { None } else { remove_paths(v, &sub) };
        kept.push((k, new.map_or(Cow::Borrowed(*v), Cow::Owned)));
    }
    let pairs: Vec<(&str, &str)> = kept.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    Some(build_object(&pairs))
}

#[cfg(test)]
mod tests {
    use super::PathElem::{Index as I, Key as K};
    use super::*;

    // ----- path access -----

    #[test]
    fn get_path_basics() {
        let j = r#"{"a":1,"b":{"c":[10,20,{"d":"x"}]},"e":null,"f":"s"}"#;
        assert_eq!(get_path(j, &[K("a")]), Some("1"));
        assert_eq!(get_path(j, &[K("b"), K("c")]), Some("[10,20,{\"d\":\"x\"}]"));
        assert_eq!(get_path(j, &[K("b"), K("c"), I(0)]), Some("10"));
        assert_eq!(get_path(j, &[K("b"), K("c"), I(2), K("d")]), Some("\"x\""));
        assert_eq!(get_path(j, &[K("b"), K("c"), I(-1), K("d")]), Some("\"x\""));
        assert_eq!(get_path(j, &[K("b"), K("c"), I(-3)]), Some("10"));
        assert_eq!(get_path(j, &[K("b"), K("c"), I(-4)]), None);
        assert_eq!(get_path(j, &[K("b"), K("c"), I(3)]), None);
        assert_eq!(get_path(j, &[K("e")]), Some("null"));
        assert_eq!(get_path(j, &[K("f")]), Some("\"s\""));
        assert_eq!(get_path(j, &[K("zz")]), None);
        assert_eq!(get_path(j, &[]), Some(j));
        // wrong shapes
        assert_eq!(get_path(j, &[I(0)]), None);
        assert_eq!(get_path(j, &[K("a"), K("x")]), None);
        assert_eq!(get_path(j, &[K("b"), K("c"), K("0")]), None);
        assert_eq!(get_path(j, &[K("f"), I(0)]), None);
        assert_eq!(get_path("[]", &[I(0)]), None);
        assert_eq!(get_path("[]", &[I(-1)]), None);
        assert_eq!(get_path("{}", &[K("a")]), None);
        assert_eq!(get_path("5", &[K("a")]), None);
    }

    #[test]
    fn get_path_nested_arrays_and_whitespace() {
        let j = "[[1,[2,3]],[],[[[\"deep\"]]]]";
        assert_eq!(get_path(j, &[I(0), I(1), I(1)]), Some("3"));
        assert_eq!(get_path(j, &[I(2), I(0), I(0), I(0)]), Some("\"deep\""));
        assert_eq!(get_path(j, &[I(-1), I(-1), I(-1), I(-1)]), Some("\"deep\""));
        assert_eq!(get_path(j, &[I(1), I(0)]), None);
        let ws = " { \"a\" : [ 1 , { \"b\" : true } ] } ";
        assert_eq!(get_path(ws, &[K("a"), I(1), K("b")]), Some("true"));
        assert_eq!(get_path(ws, &[K("a"), I(1)]), Some("{ \"b\" : true }"));
    }

    #[test]
    fn get_path_escaped_and_unicode_keys() {
        let j = r#"{"a\"b":1,"\u00e9t\u00e9":2,"été2":3,"x\\y":4,"a.b":5,"\ud83d\ude00":6,"":7}"#;
        assert_eq!(get_path(j, &[K("a\"b")]), Some("1"));
        assert_eq!(get_path(j, &[K("été")]), Some("2"));
        assert_eq!(get_path(j, &[K("été2")]), Some("3"));
        assert_eq!(get_path(j, &[K("x\\y")]), Some("4"));
        assert_eq!(get_path(j, &[K("a.b")]), Some("5"));
        assert_eq!(get_path(j, &[K("😀")]), Some("6"));
        assert_eq!(get_path(j, &[K("")]), Some("7"));
        // the raw escaped spelling is not the key
        assert_eq!(get_path(j, &[K("\\u00e9t\\u00e9")]), None);
        assert_eq!(get_path(j, &[K("x\\\\y")]), None);
    }

    #[test]
    fn get_path_invalid_and_duplicates() {
        assert_eq!(get_path("", &[K("a")]), None);
        assert_eq!(get_path("{\"a\":", &[K("a")]), None);
        assert_eq!(get_path("{\"a\":tru}", &[K("a")]), None);
        assert_eq!(get_path("{\"x\":[1,2,}", &[K("a")]), None);
        assert_eq!(get_path("{'a':1}", &[K("a")]), None);
        assert_eq!(get_path("not json", &[]), None);
        // first duplicate wins (canonical text has none)
        assert_eq!(get_path(r#"{"a":1,"a":2}"#, &[K("a")]), Some("1"));
        // text after the value found is not validated
        assert_eq!(get_path(r#"{"a":1,"b":oops"#, &[K("a")]), Some("1"));
    }

    #[test]
    fn get_paths_matches_get_path() {
        let j = r#"{"a":1,"b":{"c":[10,20,{"d":"x"}],"e":{"f":null}},"g":"s","a":9}"#;
        let paths: Vec<Vec<PathElem>> = vec![
            vec![K("a")],
            vec![K("b"), K("c"), I(-1), K("d")],
            vec![K("b"), K("c"), I(0)],
            vec![K("b"), K("e")],
            vec![K("b"), K("e"), K("f")],
            vec![K("g")],
            vec![K("missing")],
            vec![K("g"), I(0)],
            vec![],
            vec![K("b"), K("c"), I(7)],
            vec![K("b"), K("c"), I(-3)],
            vec![K("b")],
        ];
        let refs: Vec<&[PathElem]> = paths.iter().map(Vec::as_slice).collect();
        let got = get_paths(j, &refs);
        let want: Vec<_> = refs.iter().map(|p| get_path(j, p)).collect();
        assert_eq!(got, want);
        assert_eq!(got[0], Some("1"));
        assert_eq!(got[1], Some("\"x\""));
        assert_eq!(got[4], Some("null"));
        assert_eq!(got[8], Some(j));
        // order of paths does not matter
        let mut rev = refs.clone();
        rev.reverse();
        let mut got_rev = get_paths(j, &rev);
        got_rev.reverse();
        assert_eq!(got_rev, want);
        // each alone
        for p in &refs {
            assert_eq!(get_paths(j, &[p]), vec![get_path(j, p)]);
        }
        assert_eq!(get_paths(j, &[]), Vec::<Option<&str>>::new());
        assert_eq!(get_paths("garbage", &[&[K("a")]]), vec![None]);
    }

    #[test]
    fn get_paths_many_and_arrays() {
        let j = "[0,1,2,3,4,5,6,7,8,9]";
        let paths: Vec<Vec<PathElem>> = (-12..12).map(|i| vec![I(i)]).collect();
        let refs: Vec<&[PathElem]> = paths.iter().map(Vec::as_slice).collect();
        let want: Vec<_> = refs.iter().map(|p| get_path(j, p)).collect();
        assert_eq!(get_paths(j, &refs), want);
        // more than 64 paths falls back to one pass per path
        let many: Vec<Vec<PathElem>> = (0..70).map(|i| vec![I(i % 12)]).collect();
        let refs: Vec<&[PathElem]> = many.iter().map(Vec::as_slice).collect();
        let want: Vec<_> = refs.iter().map(|p| get_path(j, p)).collect();
        assert_eq!(get_paths(j, &refs), want);
    }

    #[test]
    fn json_path_parsing() {
        use JsonPathElem::{Index as PI, Key as PK};
        assert_eq!(parse_json_path("a.b"), Some(vec![PK("a.b".into())]));
        assert_eq!(parse_json_path("$.a.b"), Some(vec![PK("a".into()), PK("b".into())]));
        assert_eq!(
            parse_json_path("$['a b'][\"c\"][0].d[-1]"),
            Some(vec![PK("a b".into()), PK("c".into()), PI(0), PK("d".into()), PI(-1)])
        );
        assert_eq!(parse_json_path("$"), Some(vec![]));
        assert_eq!(parse_json_path("$.*"), None);
        assert_eq!(parse_json_path("$..a"), None);
        assert_eq!(parse_json_path("$x"), None);
        let p = parse_json_path("$.b.c[1]").unwrap();
        let p: Vec<PathElem> = p.iter().map(JsonPathElem::as_path_elem).collect();
        assert_eq!(get_path(r#"{"b":{"c":[1,2]}}"#, &p), Some("2"));
    }

    // ----- scalars -----

    #[test]
    fn tostring_semantics() {
        assert_eq!(to_kql_string("\"abc\""), "abc");
        assert_eq!(to_kql_string(r#""a\"b\\c\nd\u00e9\ud83d\ude00""#), "a\"b\\c\nd\u{e9}😀");
        assert_eq!(to_kql_string("123"), "123");
        assert_eq!(to_kql_string("1.50"), "1.50");
        assert_eq!(to_kql_string("true"), "true");
        assert_eq!(to_kql_string("null"), "");
        assert_eq!(to_kql_string("[1, 2]"), "[1,2]");
        assert_eq!(to_kql_string(r#"{"a":[1,{"b":"x"}]}"#), r#"{"a":[1,{"b":"x"}]}"#);
        assert!(matches!(to_kql_cow("\"abc\""), Cow::Borrowed("abc")));
        assert!(matches!(to_kql_cow("[1,2]"), Cow::Borrowed("[1,2]")));
        assert_eq!(to_kql_string("{bad"), "{bad");
    }

    /// Results recorded from real Kusto (tests/data/conformance/kusto-docs.jsonl).
    #[test]
    fn recorded_kusto_results() {
        // geo-line-densify-function-01: reals keep their `.0` in tostring(dynamic)
        let line = r#"{"type":"LineString","coordinates":[[50.0,50.0],[50.125,50.125],[50.25000000000001,50.25000000000001]]}"#;
        assert_eq!(to_kql_string(line), line);
        let pts: Vec<String> = [50.0, 50.125, 50.25000000000001].iter().map(|&f| json_from_f64(f)).collect();
        assert_eq!(build_array(&pts.iter().map(String::as_str).collect::<Vec<_>>()), "[50.0,50.125,50.25000000000001]");
        // summarize-operator-09: make_set of reals
        assert_eq!(set_union(&[&build_array(&[&json_from_f64(5.0)]), "[]"]).as_deref(), Some("[5.0]"));
        // parse-json-function-02
        let d = parse_json(r#"{"a":123, "b":"{\"c\":456}"}"#).unwrap();
        let b = to_kql_string(get_path(&d, &[K("b")]).unwrap());
        assert_eq!(get_path(&parse_json(&b).unwrap(), &[K("c")]), Some("456"));
        // strcat-array-function-00: elements through tostring
        let parts: Vec<String> = array_elements("[1, 2, 3]").unwrap().into_iter().map(to_kql_string).collect();
        assert_eq!(parts.join("->"), "1->2->3");
        // mv-apply-operator-07: bag_remove_keys with a make_set result
        assert_eq!(
            bag_remove_keys(r#"{"Source":"555-2424","Target":"","Count":null}"#, r#"["Target","Count"]"#).as_deref(),
            Some(r#"{"Source":"555-2424"}"#)
        );
        // mv-expand-operator-01: a bag expands into one-slot bags
        let slots: Vec<String> = object_entries(r#"{"prop1":"a1","prop2":"b1"}"#)
            .unwrap()
            .into_iter()
            .map(|(k, v)| build_object(&[(k.as_ref(), v)]))
            .collect();
        assert_eq!(slots, vec![r#"{"prop1":"a1"}"#, r#"{"prop2":"b1"}"#]);
        // pack-function-00
        let inner = build_object(&[("url", "\"www.bing.com\"")]);
        assert_eq!(
            build_object(&[("Level", "\"Information\""), ("ProcessID", "1234"), ("Data", &inner)]),
            r#"{"Level":"Information","ProcessID":1234,"Data":{"url":"www.bing.com"}}"#
        );
        // dynamic-to-json-function-00: the same bag in two key orders
        let bag1 = r#"{"Y10":{},"X8":{"c3":1,"d8":5,"a4":6},"D1":114,"A1":12,"B1":2,"C1":3,"A14":[15,13,18]}"#;
        let bag2 = r#"{"X8":{"a4":6,"c3":1,"d8":5},"A14":[15,13,18],"C1":3,"B1":2,"Y10":{},"A1":12,"D1":114}"#;
        assert_eq!(
            canonical_key(bag1),
            r#"{"A1":12,"A14":[15,13,18],"B1":2,"C1":3,"D1":114,"X8":{"a4":6,"c3":1,"d8":5},"Y10":{}}"#
        );
        assert!(json_equal(bag1, bag2));
    }

    #[test]
    fn scalar_accessors() {
        assert_eq!(scalar_string("\"x\"").as_deref(), Some("x"));
        assert_eq!(scalar_string(r#""\t""#).as_deref(), Some("\t"));
        assert_eq!(scalar_string("1"), None);
        assert_eq!(scalar_string("\"x\" 1"), None);
        assert_eq!(scalar_string("\"unterminated"), None);

        assert_eq!(as_i64("42"), Some(42));
        assert_eq!(as_i64("-42"), Some(-42));
        assert_eq!(as_i64("1.9"), Some(1));
        assert_eq!(as_i64("-1.9"), Some(-1));
        assert_eq!(as_i64("1e3"), Some(1000));
        assert_eq!(as_i64("1e30"), None);
        assert_eq!(as_i64("9223372036854775807"), Some(i64::MAX));
        assert_eq!(as_i64("true"), Some(1));
        assert_eq!(as_i64("false"), Some(0));
        assert_eq!(as_i64("\"123\""), Some(123));
        assert_eq!(as_i64("\" 123 \""), Some(123));
        assert_eq!(as_i64("\"0xa0\""), Some(160));
        assert_eq!(as_i64("\"1.5\""), None);
        assert_eq!(as_i64("\"abc\""), None);
        assert_eq!(as_i64("null"), None);
        assert_eq!(as_i64("[1]"), None);
        assert_eq!(as_i64("{}"), None);

        assert_eq!(as_f64("1.5"), Some(1.5));
        assert_eq!(as_f64("7"), Some(7.0));
        assert_eq!(as_f64("\"123.4\""), Some(123.4));
        assert!(as_f64("\"NaN\"").unwrap().is_nan());
        assert_eq!(as_f64("\"-Infinity\""), Some(f64::NEG_INFINITY));
        assert_eq!(as_f64("\"abc\""), None);
        assert_eq!(as_f64("true"), Some(1.0));
        assert_eq!(as_f64("[1]"), None);

        assert_eq!(as_bool("true"), Some(true));
        assert_eq!(as_bool("0"), Some(false));
        assert_eq!(as_bool("123"), Some(true));
        assert_eq!(as_bool("0.5"), Some(true));
        assert_eq!(as_bool("\"TRUE\""), Some(true));
        assert_eq!(as_bool("\"false\""), Some(false));
        assert_eq!(as_bool("\"1\""), Some(true));
        assert_eq!(as_bool("\"yes\""), None);
        assert_eq!(as_bool("null"), None);
    }

    #[test]
    fn text_conversions() {
        assert_eq!(parse_long_text("+5"), Some(5));
        assert_eq!(parse_long_text("-0x10"), Some(-16));
        assert_eq!(parse_long_text("99999999999999999999"), None);
        assert_eq!(parse_long_text(""), None);
        assert_eq!(parse_long_text("1 2"), None);
        assert_eq!(parse_real_text("1e-3"), Some(0.001));
        assert_eq!(parse_real_text("inf"), Some(f64::INFINITY));
        assert_eq!(parse_real_text("x1"), None);
        assert_eq!(parse_bool_text(" False "), Some(false));
    }

    #[test]
    fn kinds() {
        assert_eq!(kind("null"), Some(JsonKind::Null));
        assert_eq!(kind("false"), Some(JsonKind::Bool));
        assert_eq!(kind("12"), Some(JsonKind::Long));
        assert_eq!(kind("-12"), Some(JsonKind::Long));
        assert_eq!(kind("12.0"), Some(JsonKind::Real));
        assert_eq!(kind("1e2"), Some(JsonKind::Real));
        assert_eq!(kind("99999999999999999999"), Some(JsonKind::Real));
        assert_eq!(kind("\"s\""), Some(JsonKind::String));
        assert_eq!(kind(" [ ]"), Some(JsonKind::Array));
        assert_eq!(kind("{}"), Some(JsonKind::Object));
        assert_eq!(kind(""), None);
        assert_eq!(kind("abc"), None);
        assert!(is_valid(" [1, {\"a\": null}] "));
        assert!(!is_valid("[1,]"));
        assert!(!is_valid("1 2"));
    }

    #[test]
    fn scalar_builders() {
        assert_eq!(json_from_i64(-5), "-5");
        assert_eq!(json_from_f64(1.0), "1.0");
        assert_eq!(json_from_f64(0.1), "0.1");
        assert_eq!(json_from_f64(-2.5e-7), "-2.5e-7");
        assert_eq!(json_from_f64(1e300), "1e+300");
        for f in [1e20, 1.5e-300, 123456.789, -0.0, f64::MAX, f64::MIN_POSITIVE] {
            let t = json_from_f64(f);
            assert_eq!(t.parse::<f64>().unwrap(), f);
            assert_eq!(kind(&t), Some(JsonKind::Real), "{t}");
        }
        assert_eq!(json_from_f64(f64::NAN), "\"NaN\"");
        assert_eq!(json_from_f64(f64::INFINITY), "\"Infinity\"");
        assert_eq!(json_from_f64(f64::NEG_INFINITY), "\"-Infinity\"");
        assert_eq!(json_from_bool(true), "true");
        assert_eq!(json_from_str("a\"b"), "\"a\\\"b\"");
        assert_eq!(json_string("tab\there\u{1}/é"), "\"tab\\there\\u0001/é\"");
        for s in ["", "plain", "q\"\\\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}é😀/"] {
            let j = json_string(s);
            assert_eq!(serde_json::from_str::<String>(&j).unwrap(), s);
            assert_eq!(scalar_string(&j).unwrap(), s);
            assert_eq!(j, serde_json::to_string(s).unwrap());
        }
    }

    // ----- parse_json / compact / canonical -----

    #[test]
    fn parse_json_semantics() {
        // doc example: the value is parsed; slots accessible
        let d = parse_json(r#"{"duration":{"value":118.0,"count":5.0,"min":100.0}}"#).unwrap();
        assert_eq!(d, r#"{"duration":{"value":118.0,"count":5.0,"min":100.0}}"#);
        assert_eq!(get_path(&d, &[K("duration"), K("min")]), Some("100.0"));
        // nested JSON in a string needs a second parse_json(tostring(...))
        let d = parse_json(r#"{"a":123, "b":"{\"c\":456}"}"#).unwrap();
        assert_eq!(d, r#"{"a":123,"b":"{\"c\":456}"}"#);
        let b = to_kql_string(get_path(&d, &[K("b")]).unwrap());
        assert_eq!(get_path(&parse_json(&b).unwrap(), &[K("c")]), Some("456"));
        // whitespace removed, key order and number text kept
        assert_eq!(parse_json(" { \"z\" : 1E5 , \"a\" : [ -0 , 1.50 ] } ").unwrap(), r#"{"z":1E5,"a":[-0,1.50]}"#);
        assert_eq!(parse_json("[43, 21, 65]").unwrap(), "[43,21,65]");
        assert_eq!(parse_json("21").unwrap(), "21");
        assert_eq!(parse_json("\"21\"").unwrap(), "\"21\"");
        assert_eq!(parse_json("true").unwrap(), "true");
        // invalid JSON: the string itself
        assert_eq!(parse_json("abc").unwrap(), "\"abc\"");
        assert_eq!(parse_json("{'a':1}").unwrap(), r#""{'a':1}""#);
        assert_eq!(parse_json("[1,2,]").unwrap(), "\"[1,2,]\"");
        assert_eq!(parse_json("1 2").unwrap(), "\"1 2\"");
        assert_eq!(parse_json("NaN").unwrap(), "\"NaN\"");
        assert_eq!(parse_json("say \"hi\"").unwrap(), r#""say \"hi\"""#);
        // null / empty
        assert_eq!(parse_json(""), None);
        assert_eq!(parse_json("  "), None);
        assert_eq!(parse_json("null"), None);
        assert_eq!(parse_json("[null]").unwrap(), "[null]");
        // strings re-escaped canonically
        assert_eq!(parse_json(r#"["\u0041\/\u00e9\n\u001F"]"#).unwrap(), "[\"A/é\\n\\u001f\"]");
        assert_eq!(parse_json(r#"{"\u0061":1}"#).unwrap(), r#"{"a":1}"#);
        // lone surrogate is not valid JSON here
        assert_eq!(parse_json(r#""\ud800""#).unwrap(), r#""\"\\ud800\"""#);
    }

    #[test]
    fn duplicate_keys_first_position_last_value() {
        assert_eq!(parse_json(r#"{"a":1,"b":2,"a":3}"#).unwrap(), r#"{"a":3,"b":2}"#);
        assert_eq!(parse_json(r#"{"a":1,"\u0061":{"x":1,"x":[2]}}"#).unwrap(), r#"{"a":{"x":[2]}}"#);
        let big: String = (0..40).map(|i| format!("\"k{}\":{},", i % 20, i)).collect();
        let big = format!("{{{}}}", big.trim_end_matches(','));
        let c = parse_json(&big).unwrap();
        let want: String = (0..20).map(|i| format!("\"k{}\":{},", i, i + 20)).collect();
        assert_eq!(c, format!("{{{}}}", want.trim_end_matches(',')));
        assert_eq!(build_object(&[("a", "1"), ("b", "2"), ("a", "3")]), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn compact_and_depth() {
        assert_eq!(compact("[ 1 ,\n2 ]"), "[1,2]");
        assert_eq!(compact("{bad"), "{bad");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(compact(&ok), ok);
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse_json(&deep).unwrap(), json_string(&deep));
        // agrees with serde_json on values
        let src = r#"{"a":[1,2.5,-3e-2,{"b":null,"c":true}],"d":"x\ty","e":{}}"#;
        let a: serde_json::Value = serde_json::from_str(&compact(src)).unwrap();
        let b: serde_json::Value = serde_json::from_str(src).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn equality_and_canonical_keys() {
        assert!(json_equal(r#"{"a":1,"b":[1,2]}"#, r#"{ "b" : [1,2], "a" : 1 }"#));
        assert!(json_equal("1", "1.0"));
        assert!(json_equal("100", "1e2"));
        assert!(json_equal("0", "-0"));
        assert!(json_equal("0.5", "5e-1"));
        assert!(json_equal(r#""A""#, r#""\u0041""#));
        assert!(!json_equal("1", "\"1\""));
        assert!(!json_equal("[1,2]", "[2,1]"));
        assert!(!json_equal(r#"{"a":1}"#, r#"{"a":1,"b":2}"#));
        assert!(!json_equal("null", "\"\""));
        assert!(!json_equal("true", "1"));
        assert!(json_equal("bad", "bad"));
        assert!(!json_equal("bad", "bad "));
        assert_eq!(canonical_key(r#"{"b":1.0,"a":{"d":[1e0],"c":"\u0041"}}"#), r#"{"a":{"c":"A","d":[1]},"b":1}"#);
        assert_eq!(canonical_key(r#"{"a":1,"a":2}"#), r#"{"a":2}"#);
        assert_eq!(canonical_key("12345678901234567890"), canonical_key("1.2345678901234567e19"));
        assert_eq!(canonical_key("\"x\""), "\"x\"");
        assert_eq!(canonical_key(" 2.50 "), "2.5");
    }

    // ----- arrays and bags -----

    #[test]
    fn array_functions() {
        assert_eq!(array_length(r#"[1, 2, 3, "four"]"#), Some(4));
        assert_eq!(array_length("[]"), Some(0));
        assert_eq!(array_length("{}"), None);
        assert_eq!(array_length("\"[1]\""), None);
        assert_eq!(array_length("[1,"), None);
        assert_eq!(array_elements(r#"[1,"a",[2,3],{"b":4}]"#).unwrap(), vec!["1", "\"a\"", "[2,3]", r#"{"b":4}"#]);
        assert_eq!(array_elements("{}"), None);
        assert_eq!(array_concat(&["[1,2,4]", "[1,2]"]).as_deref(), Some("[1,2,4,1,2]"));
        assert_eq!(array_concat(&["[1]", "[]", "[[2]]"]).as_deref(), Some("[1,[2]]"));
        assert_eq!(array_concat(&["[1]", "2"]), None);
        assert_eq!(pack_array(&["1", "\"2\"", "\"00:00:02\""]), r#"[1,"2","00:00:02"]"#);
        assert_eq!(build_array(&[]), "[]");
    }

    #[test]
    fn slices() {
        assert_eq!(array_slice("[1,2,3]", 1, 2).as_deref(), Some("[2,3]"));
        assert_eq!(array_slice("[1,2,3,4,5]", 2, -1).as_deref(), Some("[3,4,5]"));
        assert_eq!(array_slice("[1,2,3,4,5]", -3, -2).as_deref(), Some("[3,4]"));
        assert_eq!(array_slice("[1,2,3]", -10, 10).as_deref(), Some("[1,2,3]"));
        assert_eq!(array_slice("[1,2,3]", 2, 1).as_deref(), Some("[]"));
        assert_eq!(array_slice("[1,2,3]", 5, 9).as_deref(), Some("[]"));
        assert_eq!(array_slice("[]", 0, 0).as_deref(), Some("[]"));
        assert_eq!(array_slice("{}", 0, 0), None);
    }

    #[test]
    fn index_of_and_has_element() {
        let arr = r#"["this", "is", "an", "example", "an", "example"]"#;
        let an = "\"an\"";
        let ex = "\"example\"";
        let is = "\"is\"";
        assert_eq!(array_index_of(arr, an), Some(2));
        assert_eq!(array_index_of_ext(arr, ex, 1, 3, 1), Some(3));
        assert_eq!(array_index_of_ext(arr, ex, 1, 2, 1), Some(-1));
        assert_eq!(array_index_of_ext(arr, is, 2, 4, 1), Some(-1));
        assert_eq!(array_index_of_ext(arr, ex, 2, -1, 1), Some(3));
        assert_eq!(array_index_of_ext(arr, an, 1, -1, 2), Some(4));
        assert_eq!(array_index_of_ext(arr, an, 1, -1, 3), Some(-1));
        assert_eq!(array_index_of_ext(arr, an, -3, -1, 1), Some(4));
        assert_eq!(array_index_of_ext(arr, is, -4, -1, 1), Some(-1));
        assert_eq!(array_index_of_ext(arr, is, -40, -1, 1), Some(1));
        assert_eq!(array_index_of_ext(arr, is, 40, -1, 1), Some(-1));
        assert_eq!(array_index_of_ext(arr, is, 0, -2, 1), None);
        assert_eq!(array_index_of_ext(arr, is, 0, -1, -1), None);
        assert_eq!(array_index_of("\"x\"", is), None);
        assert_eq!(array_index_of("[1,2.0,3]", "2"), Some(1));
        assert_eq!(array_index_of("[1,\"2\",3]", "2"), Some(-1));
        assert_eq!(array_index_of(r#"[{"a":1,"b":2}]"#, r#"{"b":2,"a":1}"#), Some(0));
        assert_eq!(set_has_element(r#"["this", "is", "an", "example"]"#, ex), Some(true));
        assert_eq!(set_has_element(r#"["this"]"#, ex), Some(false));
        assert_eq!(set_has_element("[]", ex), Some(false));
        assert_eq!(set_has_element("{}", ex), None);
        assert_eq!(set_has_element("[null]", "null"), Some(true));
    }

    #[test]
    fn set_functions() {
        // docs: set_union
        assert_eq!(set_union(&["[1,2,1,4]", "[1,2]", "[8]"]).as_deref(), Some("[1,2,4,8]"));
        assert_eq!(
            set_union(&[r#"["A4","A2","A7","A2"]"#, r#"["A4","A2","A7","A2"]"#]).as_deref(),
            Some(r#"["A4","A2","A7"]"#)
        );
        assert_eq!(
            set_union(&["[1,1.0,{\"a\":1,\"b\":2}]", "[{\"b\":2,\"a\":1}]"]).as_deref(),
            Some("[1,{\"a\":1,\"b\":2}]")
        );
        assert_eq!(set_union(&["[1]", "null"]), None);
        // docs: set_intersect
        assert_eq!(set_intersect(&["[1,2,1,4]", "[1,2]", "[8,1]"]).as_deref(), Some("[1]"));
        assert_eq!(set_intersect(&["[1,2,3]", "[4,5]"]).as_deref(), Some("[]"));
        assert_eq!(set_intersect(&["[3,1,2,3]", "[2,3]"]).as_deref(), Some("[3,2]"));
        // docs: set_difference
        assert_eq!(set_difference(&["[1,2,1,4]", "[1,2]", "[1,2,8]"]).as_deref(), Some("[4]"));
        assert_eq!(set_difference(&["[1,2,3]", "[1,2,3]"]).as_deref(), Some("[]"));
        assert_eq!(set_difference(&["[\"a\",\"b\",\"a\"]", "[]"]).as_deref(), Some("[\"a\",\"b\"]"));
        assert_eq!(set_difference(&["[1]", "{}"]), None);
        assert_eq!(set_difference(&[]), None);
    }

    #[test]
    fn zip_function() {
        assert_eq!(zip(&["[1,3,5]", "[2,4,6]"]).as_deref(), Some("[[1,2],[3,4],[5,6]]"));
        assert_eq!(zip(&[r#"["A", 1, 1.5]"#, r#"[{}, "B"]"#]).as_deref(), Some(r#"[["A",{}],[1,"B"],[1.5,null]]"#));
        assert_eq!(zip(&["[]", "[]"]).as_deref(), Some("[]"));
        assert_eq!(zip(&["[1]", "1"]), None);
    }

    #[test]
    fn sorting() {
        assert_eq!(array_sort("[1,3,4,5,2]", true).as_deref(), Some("[1,2,3,4,5]"));
        assert_eq!(array_sort("[1,3,4,5,2]", false).as_deref(), Some("[5,4,3,2,1]"));
        // companion arrays follow the first
        let perm = sort_permutation("[1,3,4,5,2]", true, true).unwrap();
        assert_eq!(array_permute(r#"["a","b","c","d","e"]"#, &perm).as_deref(), Some(r#"["a","e","b","c","d"]"#));
        let perm = sort_permutation("[1,3,4,5,2]", false, true).unwrap();
        assert_eq!(array_permute(r#"["a","b","c","d","e"]"#, &perm).as_deref(), Some(r#"["d","c","b","e","a"]"#));
        assert_eq!(array_permute("[1,2]", &perm), None);
        // nulls
        let a = r#"[null,"blue","yellow","green",null]"#;
        assert_eq!(array_sort(a, true).as_deref(), Some(r#"["blue","green","yellow",null,null]"#));
        assert_eq!(array_sort_with(a, true, false).as_deref(), Some(r#"[null,null,"blue","green","yellow"]"#));
        assert_eq!(array_sort(a, false).as_deref(), Some(r#"["yellow","green","blue",null,null]"#));
        assert_eq!(array_sort_with(a, false, false).as_deref(), Some(r#"[null,null,"yellow","green","blue"]"#));
        // strings
        assert_eq!(
            array_sort(r#"["John","Paul","George","Ringo"]"#, true).as_deref(),
            Some(r#"["George","John","Paul","Ringo"]"#)
        );
        // mixed types: numbers, strings, others (stable)
        assert_eq!(
            array_sort(r#"[true,"b",{"x":1},2.5,"a",1,[0],10,null]"#, true).as_deref(),
            Some(r#"[1,2.5,10,"a","b",true,{"x":1},[0],null]"#)
        );
        assert_eq!(
            array_sort(r#"[true,"b",2.5,"a",1,null,10]"#, false).as_deref(),
            Some(r#"[10,2.5,1,"b","a",true,null]"#)
        );
        assert_eq!(
            array_sort("[9007199254740993,9007199254740992]", true).as_deref(),
            Some("[9007199254740992,9007199254740993]")
        );
        assert_eq!(array_sort("{}", true), None);
    }

    #[test]
    fn bag_functions() {
        let d = r#"{"a":"b","c":{"d":123}}"#;
        assert_eq!(bag_keys(d).as_deref(), Some(r#"["a","c"]"#));
        assert_eq!(bag_keys("{}").as_deref(), Some("[]"));
        assert_eq!(bag_keys("\"a\"").as_deref(), None);
        assert_eq!(bag_keys("[]").as_deref(), None);
        assert_eq!(bag_keys(r#"{"k\"":1,"k\u0022":2}"#).as_deref(), Some(r#"["k\""]"#));
        let e = object_entries(r#"{"a":1,"b\n":[2]}"#).unwrap();
        assert_eq!(e, vec![(Cow::Borrowed("a"), "1"), (Cow::Owned("b\n".to_string()), "[2]")]);
        assert!(matches!(e[0].0, Cow::Borrowed(_)));
        assert_eq!(object_entries("[1]"), None);

        assert_eq!(
            build_object(&[("Level", "\"Information\""), ("ProcessID", "1234"), ("q\"", "{\"url\":\"x\"}")]),
            r#"{"Level":"Information","ProcessID":1234,"q\"":{"url":"x"}}"#
        );
        assert_eq!(build_object(&[]), "{}");

        // docs: bag_merge (first value wins)
        assert_eq!(
            bag_merge(&[r#"{"A1":12,"B1":2,"C1":3}"#, r#"{"A2":81,"B2":82,"A1":1}"#]).as_deref(),
            Some(r#"{"A1":12,"B1":2,"C1":3,"A2":81,"B2":82}"#)
        );
        assert_eq!(bag_merge(&["{}", "{}"]).as_deref(), Some("{}"));
        assert_eq!(bag_merge(&["{}", "[]"]), None);

        // docs: bag_remove_keys
        assert_eq!(
            bag_remove_keys(r#"{"key1":123,"key2":"abc"}"#, r#"["key2","key4"]"#).as_deref(),
            Some(r#"{"key1":123}"#)
        );
        assert_eq!(
            bag_remove_keys(r#"{"key1":"value","key3":42.0}"#, r#"["key2","key4"]"#).as_deref(),
            Some(r#"{"key1":"value","key3":42.0}"#)
        );
        assert_eq!(
            bag_remove_keys(
                r#"{"key1":123,"key2":{"prop1":"abc","prop2":"xyz"},"key3":[100,200]}"#,
                r#"["$.key2.prop1","key3"]"#
            )
            .as_deref(),
            Some(r#"{"key1":123,"key2":{"prop2":"xyz"}}"#)
        );
        assert_eq!(bag_remove_keys(r#"{"a.b":1,"a":{"b":2}}"#, r#"["a.b"]"#).as_deref(), Some(r#"{"a":{"b":2}}"#));
        assert_eq!(bag_remove_keys(r#"{"a":[{"b":1}]}"#, r#"["$.a[0].b",1]"#).as_deref(), Some(r#"{"a":[{"b":1}]}"#));
        assert_eq!(bag_remove_keys(r#"{"a":{"b":1}}"#, r#"["$['a']['b']"]"#).as_deref(), Some(r#"{"a":{}}"#));
        assert_eq!(bag_remove_keys("[1]", "[\"a\"]"), None);
        assert_eq!(bag_remove_keys("{}", "\"a\""), None);
    }

    // ----- differential tests against serde_json and jiter -----

    /// A tiny deterministic PRNG (xorshift), so the tests need no extra crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn random_value(r: &mut Rng, depth: u32) -> serde_json::Value {
        use serde_json::Value;
        const KEYS: &[&str] = &["a", "b", "source_ip", "é", "k\"q", "back\\slash", "nl\n", "😀", "", "a.b", "\u{1}"];
        match r.below(if depth > 4 { 6 } else { 9 }) {
            0 => Value::Null,
            1 => Value::Bool(r.below(2) == 0),
            2 => Value::from(r.next() as i64 >> r.below(64)),
            3 => Value::from((r.next() as i64 >> 20) as f64 / 1024.0),
            4 | 5 => Value::String(KEYS[r.below(KEYS.len() as u64) as usize].repeat(r.below(3) as usize)),
            6 | 7 => {
                let n = r.below(5);
                Value::Object(
                    (0..n)
                        .map(|_| (KEYS[r.below(KEYS.len() as u64) as usize].to_string(), random_value(r, depth + 1)))
                        .collect(),
                )
            }
            _ => Value::Array((0..r.below(5)).map(|_| random_value(r, depth + 1)).collect()),
        }
    }

    /// Every path to every node of a serde value, with the node.
    fn all_paths(
        v: &serde_json::Value,
        prefix: &mut Vec<JsonPathElem>,
        out: &mut Vec<(Vec<JsonPathElem>, serde_json::Value)>,
    ) {
        out.push((prefix.clone(), v.clone()));
        match v {
            serde_json::Value::Object(m) => {
                for (k, c) in m {
                    prefix.push(JsonPathElem::Key(k.clone()));
                    all_paths(c, prefix, out);
                    prefix.pop();
                }
            }
            serde_json::Value::Array(a) => {
                let n = a.len() as i64;
                for (i, c) in a.iter().enumerate() {
                    let i = i as i64;
                    prefix.push(JsonPathElem::Index(if (i + n) % 2 == 0 { i } else { i - n }));
                    all_paths(c, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    #[test]
    fn differential_paths_and_compact() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..400 {
            // serde_json's default float parsing is not always correctly rounded, so the reference is the
            // value serde_json reads back from the text, not the generated one.
            let v: serde_json::Value = serde_json::from_str(&random_value(&mut r, 0).to_string()).unwrap();
            for text in [serde_json::to_string(&v).unwrap(), serde_json::to_string_pretty(&v).unwrap()] {
                assert!(is_valid(&text), "{text}");
                let c = compact(&text);
                assert_eq!(serde_json::from_str::<serde_json::Value>(&c).unwrap(), v);
                assert_eq!(c, serde_json::to_string(&v).unwrap(), "canonical text is serde_json's compact text");
                let mut paths = Vec::new();
                all_paths(&v, &mut Vec::new(), &mut paths);
                let elems: Vec<Vec<PathElem>> =
                    paths.iter().map(|(p, _)| p.iter().map(JsonPathElem::as_path_elem).collect()).collect();
                for ((_, node), p) in paths.iter().zip(&elems) {
                    let got = get_path(&text, p).unwrap_or_else(|| panic!("{p:?} in {text}"));
                    assert_eq!(&serde_json::from_str::<serde_json::Value>(got).unwrap(), node);
                }
                let refs: Vec<&[PathElem]> = elems.iter().take(64).map(Vec::as_slice).collect();
                let want: Vec<_> = refs.iter().map(|p| get_path(&text, p)).collect();
                assert_eq!(get_paths(&text, &refs), want);
                // missing keys and indexes
                let mut missing = elems[elems.len() - 1].clone();
                missing.push(PathElem::Key("no such key"));
                assert_eq!(get_path(&text, &missing), None);
                missing.pop();
                missing.push(PathElem::Index(99));
                assert_eq!(get_path(&text, &missing), None);
            }
        }
    }

    /// JSON text of a serde value with object keys in reverse order and some whitespace.
    fn reversed_text(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Object(m) => {
                let members: Vec<String> =
                    m.iter().rev().map(|(k, c)| format!("{} : {}", json_string(k), reversed_text(c))).collect();
                format!("{{ {} }}", members.join(" , "))
            }
            serde_json::Value::Array(a) => {
                format!("[ {} ]", a.iter().map(reversed_text).collect::<Vec<_>>().join(" ,\n"))
            }
            other => other.to_string(),
        }
    }

    #[test]
    fn differential_canonical_keys() {
        let mut r = Rng(7);
        for _ in 0..400 {
            let v: serde_json::Value = serde_json::from_str(&random_value(&mut r, 0).to_string()).unwrap();
            let forward = v.to_string();
            let reversed = reversed_text(&v);
            assert_eq!(serde_json::from_str::<serde_json::Value>(&reversed).unwrap(), v);
            let key = canonical_key(&forward);
            assert_eq!(key, canonical_key(&reversed), "{reversed}");
            assert!(json_equal(&forward, &reversed));
            assert_eq!(canonical_key(&key), key, "canonical keys are fixed points");
            // keys sorted like serde_json's BTreeMap: the canonical key reads back as the same value
            // up to number normalization
            let back: serde_json::Value = serde_json::from_str(&key).unwrap();
            assert_eq!(canonical_key(&back.to_string()), key);
        }
    }

    #[test]
    fn is_canonical_agrees_with_compact() {
        let cases = [
            r#"{"a":1,"b":[1,2,{"c":"x"}],"d":null,"e":true,"f":false}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a": 1}"#,
            r#"[1.0]"#,
            r#"[1.5,-0,-2,1e3,1E3,0.1,123456789012345678901234]"#,
            r#"["a\nb","q\"uote","back\\slash","\u00e9","\/","tab\t","\u0001"]"#,
            r#"{"k\n":1}"#,
            r#"{"x":{"a":1},"y":{"a":2}}"#,
            r#""plain""#,
            r#"12"#,
            r#"[]"#,
            r#"{}"#,
            r#"{"level":"INFO","message":"LLM Request Received","latency_ms":123.5,"tokens":42}"#,
            "[\n1]",
        ];
        for raw in cases {
            let canonical = compact(raw);
            if is_canonical(raw) {
                assert_eq!(canonical, raw, "{raw} is said to be canonical");
            }
        }
        assert!(is_canonical(r#"{"a":1,"b":[1,2,{"c":"x"}],"d":null}"#));
        assert!(!is_canonical(r#"{"a":1,"a":2}"#));
        assert!(!is_canonical(r#"{"a": 1}"#));
        assert!(is_canonical(r#"{"x":{"a":1},"y":{"a":2}}"#), "the same key in two objects");
    }

    /// Keys read with hints (right, wrong, prefixes, spaced, escaped) are the keys read without,
    /// and a line invalid after a hinted key is still invalid.
    #[test]
    fn hinted_keys_are_the_keys() {
        let texts = [
            r#"{"ab":1,"abc":"x","a":[1,{"ab":2}],"":null}"#,
            r#"{"abc":1,"ab":"x","a":{},"":true}"#,
            r#"{ "ab" :1, "abc":2 ,"a" : 3}"#,
            r#"{"a\u0062":1,"ab\"":2,"security_check_passed":"PASS"}"#,
            r#"{"security_check_passed":"FAIL","security_check_passe":1}"#,
            r#"{"ab":}"#,
            r#"{"ab":1,"abc"}"#,
            r#"{"ab":1,"abc":2"#,
            r#"{"ab":1}x"#,
            r#"{"ab"1}"#,
        ];
        let read = |t: &str, hints: &[&str]| -> Option<Vec<String>> {
            let mut m = Members::new(t)?;
            let mut keys = Vec::new();
            loop {
                let hint = hints.get(keys.len()).copied();
                let k = match m.next_key_hinted(hint)? {
                    None => break,
                    Some(MemberKey::Hinted) => hint?.to_string(),
                    Some(MemberKey::Raw(k, esc)) => member_key(k, esc)?.into_owned(),
                };
                keys.push(format!("{k}={}", m.value()?));
            }
            m.finish()?;
            Some(keys)
        };
        let hint_sets: Vec<Vec<&str>> = vec![
            vec![],
            vec!["ab", "abc", "a", ""],
            vec!["abc", "ab", "a", ""],
            vec!["a", "ab", "abc"],
            vec!["security_check_passed", "security_check_passe"],
        ];
        for t in texts {
            let plain = read(t, &[]);
            assert_eq!(plain.is_some(), serde_json::from_str::<serde_json::Value>(t).is_ok(), "{t}");
            for h in &hint_sets {
                assert_eq!(read(t, h), plain, "{t} with hints {h:?}");
            }
        }
    }

    #[test]
    fn same_key_is_equality() {
        let texts = [
            "",
            "a",
            "ab",
            "abcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghij",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "abcdefghijklmnopqrstu",
            "abcdefghijklmnopqrstv",
            "bbcdefghijklmnopqrstu",
            "abcdefghijkXmnopqrstu",
            "abcdefghijklmnopqrstuvwxyz0123456789",
            "abcdefghijklmnopqrstuvwXyz0123456789",
            "abcdefghijklmnopqrstuvwxyz01234X6789",
            "é",
            "session_id",
            "request_id",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(same_key(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn differential_validity() {
        let seeds = [
            r#"{"a":[1,-2.5e+3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"],"b":{"c":{}},"d":[]}"#,
            r#"[0,-0,0.5,1E5,1e-5,"",{"":""}]"#,
            "\"plain\"",
            "123",
            // strings longer than the sixteen bytes the scanner reads at a time
            r#"{"message":"a long message, past sixteen bytes \"quoted\" and \u00e9scaped","id":"0318be20956b35191294764edd70e48b","n":{"deep":"another string of some length"},"a":"x","a":"y"}"#,
        ];
        let fixed = [
            "",
            " ",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "0x1",
            "NaN",
            "Infinity",
            "tru",
            "nul",
            "[1,]",
            "[,1]",
            "{\"a\"}",
            "{\"a\":}",
            "{a:1}",
            "{'a':1}",
            "{\"a\":1,}",
            "[1 2]",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"a\u{1}b\"",
            "\"tab\tin\"",
            "[1]]",
            "{}}",
            "\"unterminated",
            "[\"\\\"]",
            "1 2",
            "[] []",
            "// c\n1",
            "[1,/*c*/2]",
            "\u{feff}1",
            "[-01]",
            "[1.e5]",
            "[1e5.0]",
            "{\"a\":1 \"b\":2}",
        ];
        let mut inputs: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        let mut r = Rng(42);
        const CHARS: &[u8] = b"{}[]:,\"\\ 0-1.eEtnu";
        for seed in seeds {
            inputs.push(seed.to_string());
            for _ in 0..3000 {
                let mut b = seed.as_bytes().to_vec();
                for _ in 0..=r.below(2) {
                    let at = r.below(b.len() as u64 + 1) as usize;
                    let ch = CHARS[r.below(CHARS.len() as u64) as usize];
                    match r.below(3) {
                        0 if at < b.len() => drop(b.remove(at)),
                        1 if at < b.len() => b[at] = ch,
                        _ => b.insert(at, ch),
                    }
                }
                if let Ok(s) = String::from_utf8(b) {
                    inputs.push(s);
                }
            }
        }
        let mut valid = 0;
        for s in &inputs {
            let serde = serde_json::from_str::<serde_json::Value>(s);
            if matches!(&serde, Err(e) if e.to_string().contains("out of range")) {
                continue;
            }
            let mut j = jiter::Jiter::new(s.as_bytes());
            let jiter_ok = j.next_skip().is_ok() && j.finish().is_ok();
            assert_eq!(is_valid(s), serde.is_ok(), "is_valid vs serde_json on {s:?}");
            assert_eq!(is_valid(s), jiter_ok, "is_valid vs jiter on {s:?}");
            assert_eq!(compact_checked(s).is_some(), serde.is_ok(), "compact on {s:?}");
            if serde.is_ok() {
                assert_eq!(to_kql_str(s), to_kql_cow(s), "to_kql_str on {s:?}");
            }
            assert_eq!(
                parse_json(s).is_some_and(|p| kind(&p) != Some(JsonKind::String)),
                serde.is_ok() && !s.trim_start().starts_with('"')
            );
            // the canonical check made while skipping agrees with is_canonical
            let wrapped = format!("{{\"v\":{s}}}");
            let mut keys = Vec::new();
            let canon = Members::new(&wrapped).and_then(|mut m| {
                m.next_key()??;
                let (v, c) = m.value_canonical(&mut keys)?;
                m.next_key()?.is_none().then_some((v, c))?;
                m.finish().map(|_| (v, c))
            });
            assert_eq!(canon.is_some(), serde.is_ok(), "value_canonical on {s:?}");
            if let Some((v, c)) = canon {
                assert_eq!(c, is_canonical(v), "value_canonical vs is_canonical on {s:?}");
            }
            let is_object = matches!(&serde, Ok(serde_json::Value::Object(_)));
            let members = Members::new(s).and_then(|mut m| {
                while m.next_key()?.is_some() {
                    m.value()?;
                }
                m.finish()
            });
            assert_eq!(members.is_some(), is_object, "Members on {s:?}");
            let keys = ["message".to_string(), "a".to_string(), "n".to_string(), "".to_string()];
            let mut sub = String::new();
            assert_eq!(object_subset(s, &keys, &mut sub), is_object, "object_subset on {s:?}");
            if is_object {
                let whole = compact(s);
                for k in &keys {
                    let path = [PathElem::Key(k), PathElem::Key("deep")];
                    assert_eq!(get_path(&sub, &path[..1]), get_path(&whole, &path[..1]), "{k} in {s:?}");
                    assert_eq!(get_path(&sub, &path), get_path(&whole, &path), "{k}.deep in {s:?}");
                }
                assert_eq!(sub, compact(&sub), "canonical subset of {s:?}");
            }
            if let Ok(v) = serde {
                valid += 1;
                assert_eq!(serde_json::from_str::<serde_json::Value>(&compact(s)).unwrap(), v);
            }
        }
        assert!(valid > 500, "the mutations should keep some inputs valid ({valid})");
    }

    // ----- benchmark -----

    const LOG: &str = r#"{"timestamp":"2025-10-21T14:32:17.234Z","level":"INFO","message":"LLM Request Received","request_id":"a7c3e9f1-4b2d-4a8e-9c1f-3e5d7a9b2c4f","session_id":"550e8400-e29b-41d4-a716-446655440000","prompt_hash":"d3b07384d113edec49eaa6238ad5ff00","security_check_passed":"PASS","source_ip":"203.0.113.42","end_user_id":"user_550e8400","application_name":"AOAI-Customer-Support-Bot","model_deployment":"gpt-4-turbo"}"#;

    /// `cargo test --release -- --ignored --nocapture bench_path_access`
    #[test]
    #[ignore]
    fn bench_path_access() {
        use std::hint::black_box;
        use std::time::Instant;
        // Distinct row texts so nothing is trivially cached.
        let rows: Vec<String> =
            (0..10_000).map(|i| LOG.replace("203.0.113.42", &format!("10.0.{}.{}", i / 256, i % 256))).collect();
        let avg_len = rows.iter().map(String::len).sum::<usize>() / rows.len();
        // Best of many short batches: the minimum is the least disturbed by other processes.
        let time = |name: &str, f: &dyn Fn(&str) -> usize| {
            let mut best = f64::MAX;
            for _ in 0..60 {
                let t = Instant::now();
                let mut acc = 0usize;
                for r in &rows {
                    acc = acc.wrapping_add(f(black_box(r)));
                }
                black_box(acc);
                best = best.min(t.elapsed().as_nanos() as f64 / rows.len() as f64);
            }
            println!("{name:<48} {best:>8.1} ns/row");
        };
        println!("row length ≈ {avg_len} bytes");
        time("get_path source_ip (8th of 11 keys)", &|r| get_path(r, &[K("source_ip")]).map_or(0, str::len));
        time("get_path level (2nd key)", &|r| get_path(r, &[K("level")]).map_or(0, str::len));
        time("get_path model_deployment (last key)", &|r| get_path(r, &[K("model_deployment")]).map_or(0, str::len));
        time("get_path missing key", &|r| get_path(r, &[K("nope")]).map_or(0, str::len));
        time("get_path + to_kql_cow source_ip", &|r| get_path(r, &[K("source_ip")]).map_or(0, |v| to_kql_cow(v).len()));
        let five: [&[PathElem]; 5] =
            [&[K("level")], &[K("request_id")], &[K("source_ip")], &[K("end_user_id")], &[K("model_deployment")]];
        time("get_paths 5 keys (one pass)", &|r| get_paths(r, &five).iter().flatten().map(|s| s.len()).sum());
        time("get_paths_into 5 keys (no alloc)", &|r| {
            let mut out = [None; 5];
            get_paths_into(r, &five, &mut out);
            out.iter().flatten().map(|s| s.len()).sum()
        });
        time("get_path x5 (five passes)", &|r| five.iter().filter_map(|p| get_path(r, p)).map(str::len).sum());
        time("serde_json::from_str Value (full parse)", &|r| {
            let v: serde_json::Value = serde_json::from_str(r).unwrap();
            v["source_ip"].as_str().map_or(0, str::len)
        });
        time("serde_json::from_str Value x5", &|r| {
            ["level", "request_id", "source_ip", "end_user_id", "model_deployment"]
                .iter()
                .map(|k| {
                    let v: serde_json::Value = serde_json::from_str(r).unwrap();
                    v[k].as_str().map_or(0, str::len)
                })
                .sum()
        });
        time("parse_json (canonicalize row)", &|r| parse_json(r).map_or(0, |s| s.len()));
        time("canonical_key (row)", &|r| canonical_key(r).len());
    }
}
