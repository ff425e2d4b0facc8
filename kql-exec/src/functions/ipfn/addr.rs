//! Pure IPv4/IPv6 logic with Kusto's rules: IP-prefix notation (`a.b.c.d/n`), IPv4 addresses
//! seen as IPv4-mapped IPv6 (`::ffff:a.b.c.d`, their prefix counted from bit 96), masked
//! comparison, the canonical IPv6 text, and the search for delimited IPv4 addresses in text.
//! Everything returns `None` for malformed input: callers turn that into null, `""` or false.

use std::net::Ipv6Addr;

/// An IPv4 address with its prefix length (32 when the text had none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V4 {
    /// The address as written (not masked).
    pub addr: u32,
    /// The prefix length, 0 to 32.
    pub prefix: u8,
}

impl V4 {
    /// The address with the bits past the prefix cleared.
    pub fn masked(&self) -> u32 {
        self.addr & mask4(self.prefix)
    }
}

/// An IPv6 address (IPv4 as IPv4-mapped) with its prefix length (128 when the text had none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V6 {
    /// The address as written (not masked).
    pub addr: u128,
    /// The prefix length, 0 to 128.
    pub prefix: u8,
}

impl V6 {
    /// The address with the bits past the prefix cleared.
    pub fn masked(&self) -> u128 {
        self.addr & mask6(self.prefix)
    }
}

/// The netmask of an IPv4 prefix length (0..=32).
pub fn mask4(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    }
}

/// The netmask of an IPv6 prefix length (0..=128).
pub fn mask6(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix.min(128))
    }
}

const MAPPED: u128 = 0xffff_u128 << 32;

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// A prefix length written after `/`: decimal digits only, at most `max`.
fn parse_prefix(s: &str, max: u8) -> Option<u8> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u16 = s.parse().ok()?;
    (v <= max as u16).then_some(v as u8)
}

/// A dotted-quad IPv4 address without prefix: four decimal octets (1 to 3 digits, at most 255).
pub fn parse_dotted(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    let mut out: u32 = 0;
    let mut i = 0;
    for k in 0..4 {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v: u32 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            v = v * 10 + (b[i] - b'0') as u32;
            i += 1;
        }
        if i == start || v > 255 {
            return None;
        }
        out = (out << 8) | v;
    }
    (i == b.len()).then_some(out)
}

/// An IPv4 address in IP-prefix notation (`192.168.1.1` or `192.168.1.1/24`).
pub fn parse_v4(s: &str) -> Option<V4> {
    let s = trim(s);
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr = parse_dotted(a)?;
    let prefix = match p {
        Some(p) => parse_prefix(p, 32)?,
        None => 32,
    };
    Some(V4 { addr, prefix })
}

/// An IPv4 address given as a number (big-endian, 0 to 2^32-1).
pub fn v4_from_number(n: i64) -> Option<u32> {
    u32::try_from(n).ok()
}

/// An IPv6 or IPv4 address in IP-prefix notation. IPv4 (`a.b.c.d`, `::a.b.c.d`,
/// `::ffff:a.b.c.d`) becomes IPv4-mapped IPv6 and its prefix counts the IPv4 bits (`/24` is
/// `/120`).
pub fn parse_v6(s: &str) -> Option<V6> {
    let s = trim(s);
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    if let Some(v4) = parse_dotted(a) {
        let prefix = match p {
            Some(p) => 96 + parse_prefix(p, 32)?,
            None => 128,
        };
        return Some(V6 { addr: MAPPED | v4 as u128, prefix });
    }
    if !a.contains(':') {
        return None;
    }
    let ip: Ipv6Addr = a.parse().ok()?;
    let mut addr = u128::from(ip);
    let embedded_v4 = a.contains('.') && (addr >> 32 == 0 || addr >> 32 == 0xffff);
    if embedded_v4 {
        addr = MAPPED | (addr & 0xffff_ffff);
    }
    let prefix = match p {
        // an IPv4 prefix (`::a.b.c.d/24` is `/120`); a longer one can only be an IPv6 prefix
        Some(p) if embedded_v4 => match parse_prefix(p, 128)? {
            v @ 0..=32 => 96 + v,
            v => v,
        },
        Some(p) => parse_prefix(p, 128)?,
        None => 128,
    };
    Some(V6 { addr, prefix })
}

/// Dotted-quad text of an IPv4 address.
pub fn format_v4(a: u32) -> String {
    let o = a.to_be_bytes();
    format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])
}

/// Kusto's canonical IPv6 text: eight groups of four lower-case hex digits.
pub fn format_v6(a: u128) -> String {
    let mut out = String::with_capacity(39);
    for k in 0..8 {
        if k > 0 {
            out.push(':');
        }
        let g = (a >> (112 - 16 * k)) as u16;
        out.push_str(&format!("{g:04x}"));
    }
    out
}

/// `parse_ipv4(s)`: the masked address as a long.
pub fn parse_ipv4(s: &str) -> Option<i64> {
    parse_v4(s).map(|v| v.masked() as i64)
}

/// `parse_ipv4_mask(s, prefix)`.
pub fn parse_ipv4_mask(s: &str, prefix: i64) -> Option<i64> {
    let v = parse_v4(s)?;
    let p = arg_prefix(prefix, 32)?;
    Some((v.addr & mask4(v.prefix.min(p))) as i64)
}

/// A prefix argument in `0..=max`.
pub fn arg_prefix(p: i64, max: u8) -> Option<u8> {
    (0..=max as i64).contains(&p).then_some(p as u8)
}

/// `ipv4_compare(a, b [, prefix])`: -1, 0 or 1 over the combined mask.
pub fn ipv4_compare(a: &str, b: &str, prefix: Option<i64>) -> Option<i64> {
    let (a, b) = (parse_v4(a)?, parse_v4(b)?);
    let p = match prefix {
        Some(p) => arg_prefix(p, 32)?,
        None => 32,
    };
    let m = mask4(a.prefix.min(b.prefix).min(p));
    Some(((a.addr & m).cmp(&(b.addr & m))) as i64)
}

/// `ipv6_compare(a, b [, prefix])`: -1, 0 or 1 over the combined mask.
pub fn ipv6_compare(a: &str, b: &str, prefix: Option<i64>) -> Option<i64> {
    let (a, b) = (parse_v6(a)?, parse_v6(b)?);
    let p = match prefix {
        Some(p) => arg_prefix(p, 128)?,
        None => 128,
    };
    let m = mask6(a.prefix.min(b.prefix).min(p));
    Some(((a.addr & m).cmp(&(b.addr & m))) as i64)
}

/// True if IPv4 `ip` (masked by its own prefix) is in `range`.
pub fn v4_in_range(ip: &V4, range: &V4) -> bool {
    let m = mask4(range.prefix);
    ip.masked() & m == range.addr & m
}

/// True if IPv6 `ip` (masked by its own prefix) is in `range`.
pub fn v6_in_range(ip: &V6, range: &V6) -> bool {
    let m = mask6(range.prefix);
    ip.masked() & m == range.addr & m
}

/// `ipv4_is_private(s)`: in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.
pub fn ipv4_is_private(s: &str) -> Option<bool> {
    let v = parse_v4(s)?;
    let a = v.masked();
    Some(a >> 24 == 10 || a >> 20 == 0xac1 || a >> 16 == 0xc0a8)
}

/// `format_ipv4(ip, prefix)` / `format_ipv4_mask(ip, prefix)` of a parsed address: `None` for an
/// invalid prefix.
pub fn format_ipv4(v: V4, prefix: i64, with_mask: bool) -> Option<String> {
    let p = v.prefix.min(arg_prefix(prefix, 32)?);
    let a = format_v4(v.addr & mask4(p));
    Some(if with_mask { format!("{a}/{p}") } else { a })
}

/// `parse_ipv6_mask(s, prefix)` (`parse_ipv6(s)` is `prefix` 128).
pub fn parse_ipv6_mask(s: &str, prefix: i64) -> Option<String> {
    let v = parse_v6(s)?;
    let p = v.prefix.min(arg_prefix(prefix, 128)?);
    Some(format_v6(v.addr & mask6(p)))
}

/// `ipv4_range_to_cidr_list(start, end)`: the fewest CIDR blocks covering the range.
pub fn range_to_cidrs(start: &str, end: &str) -> Option<Vec<String>> {
    let s = parse_v4(start)?.masked() as u64;
    let e = parse_v4(end)?.masked() as u64;
    let mut out = Vec::new();
    let mut cur = s;
    while cur <= e {
        let align = if cur == 0 { 32 } else { cur.trailing_zeros().min(32) };
        let mut size = align;
        while size > 0 && cur + (1u64 << size) - 1 > e {
            size -= 1;
        }
        out.push(format!("{}/{}", format_v4(cur as u32), 32 - size));
        cur += 1u64 << size;
    }
    Some(out)
}

/// An IPv4 prefix for `has_ipv4_prefix`: a whole address, or one to three octets each followed
/// by a dot (`192.`, `192.168.`, `192.168.1.`). Returns the value in the top octets and the
/// number of octets.
pub fn parse_v4_text_prefix(s: &str) -> Option<(u32, u8)> {
    let s = trim(s);
    if let Some(a) = parse_dotted(s) {
        return Some((a, 4));
    }
    let body = s.strip_suffix('.')?;
    let parts: Vec<&str> = body.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut v: u32 = 0;
    for p in &parts {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let o: u32 = p.parse().ok()?;
        if o > 255 {
            return None;
        }
        v = (v << 8) | o;
    }
    let n = parts.len() as u8;
    Some((v << (8 * (4 - n as u32)), n))
}

/// True if IPv4 address `a` starts with the text prefix `(value, octets)`.
pub fn v4_has_prefix(a: u32, prefix: (u32, u8)) -> bool {
    let m = mask4(prefix.1 * 8);
    a & m == prefix.0 & m
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Every IPv4 address in `text` delimited by non-alphanumeric characters, in order. A dotted
/// number sequence longer than four parts (a version string, an OID) holds no address.
pub fn ipv4s_in_text(text: &str) -> Vec<u32> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        // the end of this run of digits and dots
        let mut end = i;
        while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'.') {
            end += 1;
        }
        let before_ok = start == 0 || {
            let prev = text[..start].chars().next_back().unwrap_or(' ');
            !is_word_char(prev)
        };
        let after_ok = end == b.len() || !text[end..].chars().next().is_some_and(is_word_char);
        if before_ok && after_ok {
            // a trailing dot (end of a sentence) is not part of the address
            let run = text[start..end].trim_end_matches('.');
            if let Some(a) = parse_dotted(run) {
                out.push(a);
            }
        }
        i = end.max(start + 1);
    }
    out
}

/// `has_ipv4(text, ip)`.
pub fn has_ipv4(text: &str, ip: &str) -> bool {
    match parse_dotted(trim(ip)) {
        Some(a) => ipv4s_in_text(text).contains(&a),
        None => false,
    }
}

/// `has_ipv4_prefix(text, prefix)`.
pub fn has_ipv4_prefix(text: &str, prefix: &str) -> bool {
    match parse_v4_text_prefix(prefix) {
        Some(p) => ipv4s_in_text(text).into_iter().any(|a| v4_has_prefix(a, p)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_ipv4_cases() {
        assert_eq!(parse_ipv4("192.168.1.1"), Some(3232235777));
        assert_eq!(parse_ipv4("192.168.1.1/24"), Some(3232235776));
        assert_eq!(parse_ipv4("255.255.255.255/31"), Some(4294967294));
        assert_eq!(parse_ipv4("127.0.0.256"), None);
        assert_eq!(parse_ipv4("1.2.3"), None);
        assert_eq!(parse_ipv4("1.2.3.4/33"), None);
        assert_eq!(parse_ipv4("1.2.3.4/"), None);
        assert_eq!(parse_ipv4("abc"), None);
        assert_eq!(parse_ipv4(""), None);
        assert_eq!(parse_ipv4("1.2.3.4.5"), None);
        assert_eq!(parse_ipv4_mask("127.0.0.1", 24), Some(2130706432));
        assert_eq!(parse_ipv4_mask("127.0.0.1", 33), None);
        assert_eq!(parse_ipv4_mask("127.0.0.1", -1), None);
    }

    #[test]
    fn compare_and_match() {
        assert_eq!(ipv4_compare("192.168.1.1", "192.168.1.0", Some(31)), Some(0));
        assert_eq!(ipv4_compare("192.168.1.1/24", "192.168.1.255", Some(31)), Some(0));
        assert_eq!(ipv4_compare("192.168.1.1", "192.168.1.255", None), Some(-1));
        assert_eq!(ipv4_compare("192.168.1.2", "192.168.1.1", None), Some(1));
        assert_eq!(ipv4_compare("192.168.1.1/30", "192.168.1.255/24", None), Some(0));
        assert_eq!(ipv4_compare("x", "192.168.1.255/24", None), None);
        assert_eq!(ipv6_compare("192.168.1.1", "::ffff:c0a8:0101", None), Some(0));
        assert_eq!(ipv6_compare("::192.168.1.1/30", "192.168.1.255/24", None), Some(0));
        assert_eq!(ipv6_compare("fe80::85d:e82c:9446:7994/120", "fe80::85d:e82c:9446:7998", Some(127)), Some(0));
        assert_eq!(ipv6_compare("fe80::85d:e82c:9446:7994", "fe80::85d:e82c:9446:7998", None), Some(-1));
        assert_eq!(ipv6_compare("fe80::1", "fe80::2", Some(129)), None);
    }

    #[test]
    fn ranges_and_private() {
        let r = |a: &str, r: &str| v4_in_range(&parse_v4(a).unwrap(), &parse_v4(r).unwrap());
        assert!(r("192.168.1.1", "192.168.1.1"));
        assert!(r("192.168.1.1", "192.168.1.255/24"));
        assert!(!r("192.168.2.1", "192.168.1.255/24"));
        let r6 = |a: &str, r: &str| v6_in_range(&parse_v6(a).unwrap(), &parse_v6(r).unwrap());
        assert!(r6("a5e:f127:8a9d:146d:e102:b5d3:c755:abcd", "a5e:f127:8a9d:146d:e102:b5d3:c755:0000/112"));
        assert!(!r6("a5e:f127:8a9d:146d:e102:b5d3:c755:abcd", "0:0:0:0:0:ffff:c0a8:ac/60"));
        assert_eq!(ipv4_is_private("10.1.2.3"), Some(true));
        assert_eq!(ipv4_is_private("172.31.255.1"), Some(true));
        assert_eq!(ipv4_is_private("172.32.0.1"), Some(false));
        assert_eq!(ipv4_is_private("192.168.1.1/24"), Some(true));
        assert_eq!(ipv4_is_private("127.0.0.1"), Some(false));
        assert_eq!(ipv4_is_private("nope"), None);
    }

    #[test]
    fn formatting() {
        let f = |a: &str, p: i64, m: bool| format_ipv4(parse_v4(a).unwrap(), p, m);
        assert_eq!(f("192.168.1.1", 24, false).as_deref(), Some("192.168.1.0"));
        assert_eq!(f("192.168.1.1", 32, true).as_deref(), Some("192.168.1.1/32"));
        assert_eq!(f("192.168.1.1/24", 32, true).as_deref(), Some("192.168.1.0/24"));
        assert_eq!(f("192.168.1.1/24", -1, true), None);
        assert_eq!(parse_ipv6_mask("192.168.255.255", 128).as_deref(), Some("0000:0000:0000:0000:0000:ffff:c0a8:ffff"));
        assert_eq!(
            parse_ipv6_mask("192.168.255.255/24", 128).as_deref(),
            Some("0000:0000:0000:0000:0000:ffff:c0a8:ff00")
        );
        assert_eq!(parse_ipv6_mask("192.168.255.255", 120).as_deref(), Some("0000:0000:0000:0000:0000:ffff:c0a8:ff00"));
        assert_eq!(
            parse_ipv6_mask("fe80::85d:e82c:9446:7994", 128).as_deref(),
            Some("fe80:0000:0000:0000:085d:e82c:9446:7994")
        );
        assert_eq!(
            parse_ipv6_mask("fe80::85d:e82c:9446:7994/120", 124).as_deref(),
            Some("fe80:0000:0000:0000:085d:e82c:9446:7900")
        );
        assert_eq!(
            parse_ipv6_mask("::192.168.255.255", 128).as_deref(),
            Some("0000:0000:0000:0000:0000:ffff:c0a8:ffff")
        );
        assert_eq!(
            parse_ipv6_mask("::192.168.255.255/24", 128).as_deref(),
            Some("0000:0000:0000:0000:0000:ffff:c0a8:ff00")
        );
        assert_eq!(
            parse_ipv6_mask("::ffff:10.1.2.3/104", 128).as_deref(),
            Some("0000:0000:0000:0000:0000:ffff:0a00:0000")
        );
        assert_eq!(parse_ipv6_mask("fe80::1%eth0", 128), None);
        assert_eq!(parse_ipv6_mask("fe80::1/129", 128), None);
        assert_eq!(parse_ipv6_mask("", 128), None);
    }

    #[test]
    fn cidr_list() {
        assert_eq!(
            range_to_cidrs("1.1.128.0", "1.1.140.255").unwrap(),
            vec!["1.1.128.0/21", "1.1.136.0/22", "1.1.140.0/24"]
        );
        assert_eq!(range_to_cidrs("0.0.0.0", "255.255.255.255").unwrap(), vec!["0.0.0.0/0"]);
        assert_eq!(range_to_cidrs("10.0.0.1", "10.0.0.1").unwrap(), vec!["10.0.0.1/32"]);
        assert!(range_to_cidrs("10.0.0.2", "10.0.0.1").unwrap().is_empty());
    }

    #[test]
    fn text_search() {
        let t = "05:04:54 127.0.0.1 GET /favicon.ico 404";
        assert!(has_ipv4(t, "127.0.0.1"));
        assert!(!has_ipv4(t, "127.0.0.2"));
        assert!(!has_ipv4("05:04:54 127.0.0.256 GET", "127.0.0.256"));
        assert!(!has_ipv4("05:04:54127.0.0.1 GET", "127.0.0.1"));
        assert!(has_ipv4("came from: 192.168.1.1, 10.1.1.115 and 10.1.1.201.", "10.1.1.201"));
        assert!(!has_ipv4("version 1.127.0.0.1", "127.0.0.1"));
        assert!(has_ipv4("ip=127.0.0.1", "127.0.0.1"));
        assert!(has_ipv4_prefix(t, "127.0."));
        assert!(has_ipv4_prefix(t, "127."));
        assert!(has_ipv4_prefix(t, "127.0.0.1"));
        assert!(!has_ipv4_prefix(t, "127.0"));
        assert!(!has_ipv4_prefix("05:04:54 127.0.0.256 GET", "127.0."));
        assert!(!has_ipv4_prefix("05:04:54127.0.0.1 GET", "127.0."));
        assert!(!has_ipv4_prefix(t, "192.168."));
    }
}
