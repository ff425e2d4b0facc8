//! Datetimes as ticks (100 ns) since 1970-01-01T00:00:00Z, and their ISO-8601 text.

pub const TICK: i64 = 1;
pub const MILLI: i64 = 10_000;
pub const SECOND: i64 = 10_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// `bin(t, unit)`: floor to a multiple of `unit` (Kusto's epoch 0001-01-01 aligns with 1970 for units up to a day).
pub fn floor(t: i64, unit: i64) -> i64 {
    t.div_euclid(unit) * unit
}

/// `datetime_diff(part, a, b)` for fixed-size parts: boundaries of `unit` crossed going from `b` to `a`.
pub fn diff(a: i64, b: i64, unit: i64) -> i64 {
    a.div_euclid(unit) - b.div_euclid(unit)
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Day of the week, 0 = Sunday.
pub fn weekday(t: i64) -> u32 {
    (t.div_euclid(DAY) + 4).rem_euclid(7) as u32
}

/// Hour of the day (UTC).
pub fn hour_of_day(t: i64) -> u32 {
    (t.rem_euclid(DAY) / HOUR) as u32
}

fn push_num(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut v = v;
    let mut i = 20;
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let digits = 20 - i;
    for _ in digits..width {
        out.push(b'0');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Append `2025-10-21T14:32:17.2340000Z` (7 fractional digits).
pub fn push_iso(out: &mut Vec<u8>, t: i64) {
    push_iso_frac(out, t, 7);
}

/// Append ISO text with `digits` fractional digits (3 for milliseconds, 7 for ticks).
pub fn push_iso_frac(out: &mut Vec<u8>, t: i64, digits: u32) {
    let days = t.div_euclid(DAY);
    let rem = t.rem_euclid(DAY);
    let (y, mo, d) = civil_from_days(days);
    push_num(out, y as u64, 4);
    out.push(b'-');
    push_num(out, u64::from(mo), 2);
    out.push(b'-');
    push_num(out, u64::from(d), 2);
    out.push(b'T');
    push_num(out, (rem / HOUR) as u64, 2);
    out.push(b':');
    push_num(out, (rem % HOUR / MINUTE) as u64, 2);
    out.push(b':');
    push_num(out, (rem % MINUTE / SECOND) as u64, 2);
    if digits > 0 {
        out.push(b'.');
        let frac = (rem % SECOND) as u64 / 10u64.pow(7 - digits);
        push_num(out, frac, digits as usize);
    }
    out.push(b'Z');
}

/// `2025-10-21T14:32:17.2340000Z`.
pub fn iso(t: i64) -> String {
    let mut v = Vec::with_capacity(28);
    push_iso(&mut v, t);
    String::from_utf8(v).expect("ascii")
}

/// `2025-10-21T14:32:17.234Z` (milliseconds, as applications log it).
pub fn iso_ms(t: i64) -> String {
    let mut v = Vec::with_capacity(24);
    push_iso_frac(&mut v, t, 3);
    String::from_utf8(v).expect("ascii")
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.f{1,7}][Z]` (UTC).
pub fn parse(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')).unwrap_or(s);
    let (date, clock) = s.split_once(['T', 't', ' '])?;
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let mo: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if dp.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (hms, frac) = match clock.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (clock, None),
    };
    let mut cp = hms.split(':');
    let h: i64 = cp.next()?.parse().ok()?;
    let mi: i64 = cp.next()?.parse().ok()?;
    let se: i64 = cp.next().unwrap_or("0").parse().ok()?;
    if cp.next().is_some() || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let mut ticks = 0i64;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 7 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        ticks = f.parse::<i64>().ok()? * 10i64.pow(7 - f.len() as u32);
    }
    Some(days_from_civil(y, mo, d) * DAY + h * HOUR + mi * MINUTE + se * SECOND + ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let t = parse("2025-10-21T14:32:17.234Z").unwrap();
        assert_eq!(iso(t), "2025-10-21T14:32:17.2340000Z");
        assert_eq!(iso_ms(t), "2025-10-21T14:32:17.234Z");
        assert_eq!(parse(&iso(t + 7)).unwrap(), t + 7);
        assert_eq!(iso(0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(iso(parse("2024-02-29T23:59:59.9999999Z").unwrap() + 1), "2024-03-01T00:00:00.0000000Z");
        assert_eq!(weekday(parse("2025-10-21T00:00:00Z").unwrap()), 2);
        assert!(parse("2025-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn calendar_diff() {
        let a = parse("2025-10-21T15:00:00Z").unwrap();
        let b = parse("2025-10-20T15:59:59.9999999Z").unwrap();
        assert_eq!(diff(a, b, HOUR), 24);
        assert_eq!(diff(a, a - 1, MINUTE), 1);
        assert_eq!(floor(a - 1, HOUR), a - HOUR);
    }
}
