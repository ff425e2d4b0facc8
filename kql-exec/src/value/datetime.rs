//! KQL `datetime` and `timespan` values: calendar arithmetic, parsing and formatting.
//!
//! A `datetime` is an `i64` count of 100 ns ticks since 1970-01-01T00:00:00Z (negative before
//! 1970). Valid values lie in [`MIN_DATETIME`]`..=`[`MAX_DATETIME`], i.e. years 0001..=9999 of
//! the proleptic Gregorian calendar, always UTC. A `timespan` is an `i64` count of 100 ns ticks.
//!
//! Every function is pure and total: invalid input, or a result outside the valid range, gives
//! `None`, which callers turn into KQL `null`. The semantics follow the Kusto reference
//! (`learn.microsoft.com/kusto/query/...`); the unit tests cite the page each expectation comes
//! from.

use std::time::{SystemTime, UNIX_EPOCH};

/// Ticks (100 ns) in one microsecond.
pub const TICKS_PER_MICROSECOND: i64 = 10;
/// Ticks (100 ns) in one millisecond.
pub const TICKS_PER_MILLISECOND: i64 = 10_000;
/// Ticks (100 ns) in one second.
pub const TICKS_PER_SECOND: i64 = 10_000_000;
/// Ticks (100 ns) in one minute.
pub const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
/// Ticks (100 ns) in one hour.
pub const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MINUTE;
/// Ticks (100 ns) in one day.
pub const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;
/// Ticks (100 ns) in one week.
pub const TICKS_PER_WEEK: i64 = 7 * TICKS_PER_DAY;

/// The smallest valid `datetime`: 0001-01-01T00:00:00.0000000Z.
pub const MIN_DATETIME: i64 = -621_355_968_000_000_000;
/// The largest valid `datetime`: 9999-12-31T23:59:59.9999999Z.
pub const MAX_DATETIME: i64 = 2_534_023_007_999_999_999;
/// The .NET tick count (ticks since 0001-01-01) of the Unix epoch; Kusto's `tolong(datetime)`
/// returns .NET ticks, i.e. our ticks plus this constant.
pub const UNIX_EPOCH_DOTNET_TICKS: i64 = 621_355_968_000_000_000;

// ---------------------------------------------------------------------------------------------
// Calendar primitives
// ---------------------------------------------------------------------------------------------

/// The calendar fields of a tick count (UTC, proleptic Gregorian calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeParts {
    /// The year (1..=9999 for valid datetimes).
    pub year: i64,
    /// The month, 1..=12.
    pub month: u32,
    /// The day of the month, 1..=31.
    pub day: u32,
    /// The hour, 0..=23.
    pub hour: u32,
    /// The minute, 0..=59.
    pub minute: u32,
    /// The second, 0..=59.
    pub second: u32,
    /// The ticks within the second, 0..=9_999_999.
    pub fraction: u32,
}

/// Whether `t` lies in the valid `datetime` range (years 0001..=9999).
pub fn is_valid_datetime(t: i64) -> bool {
    (MIN_DATETIME..=MAX_DATETIME).contains(&t)
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` (1..=12) of `year`; 0 for an invalid month.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`); no validation.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a count of days since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Splits a tick count into calendar fields. Works for any `i64`, valid range or not.
pub fn to_parts(t: i64) -> DateTimeParts {
    let days = t.div_euclid(TICKS_PER_DAY);
    let tod = t.rem_euclid(TICKS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let secs = tod / TICKS_PER_SECOND;
    DateTimeParts {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: (secs / 60 % 60) as u32,
        second: (secs % 60) as u32,
        fraction: (tod % TICKS_PER_SECOND) as u32,
    }
}

/// Builds a datetime from calendar fields; `None` if any field is out of range or the year is
/// outside 1..=9999. `fraction` is in ticks (0..=9_999_999).
pub fn from_parts(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32, fraction: u32) -> Option<i64> {
    if !(1..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
        || i64::from(fraction) >= TICKS_PER_SECOND
    {
        return None;
    }
    let ticks = days_from_civil(year, month, day) * TICKS_PER_DAY
        + i64::from(hour) * TICKS_PER_HOUR
        + i64::from(minute) * TICKS_PER_MINUTE
        + i64::from(second) * TICKS_PER_SECOND
        + i64::from(fraction);
    Some(ticks)
}

/// `Some(v)` when the wide value is a valid datetime.
fn valid_dt(v: i128) -> Option<i64> {
    i64::try_from(v).ok().filter(|t| is_valid_datetime(*t))
}

/// The current time as a datetime (ticks since the Unix epoch).
pub fn now_ticks() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos() / 100).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos() / 100).map(|t| -t).unwrap_or(i64::MIN),
    }
}

/// Converts a datetime to .NET ticks (since 0001-01-01), what Kusto's `tolong(datetime)` returns.
pub fn to_dotnet_ticks(t: i64) -> Option<i64> {
    t.checked_add(UNIX_EPOCH_DOTNET_TICKS)
}

/// Converts .NET ticks (since 0001-01-01) to a datetime; `None` outside years 0001..=9999.
pub fn from_dotnet_ticks(ticks: i64) -> Option<i64> {
    valid_dt(i128::from(ticks) - i128::from(UNIX_EPOCH_DOTNET_TICKS))
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

/// Formats a datetime the way Kusto prints results: `2025-10-21T14:32:17.2340000Z` (always
/// seven fractional digits and a `Z`).
pub fn format_datetime_iso(t: i64) -> String {
    let p = to_parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        p.year, p.month, p.day, p.hour, p.minute, p.second, p.fraction
    )
}

/// Formats a timespan the way Kusto prints it (.NET's constant format):
/// `[-][d.]hh:mm:ss[.fffffff]`, e.g. `01:00:00`, `1.02:03:04`, `-00:00:01.5000000`.
pub fn format_timespan(t: i64) -> String {
    let u = t.unsigned_abs();
    let tpd = TICKS_PER_DAY as u64;
    let tps = TICKS_PER_SECOND as u64;
    let days = u / tpd;
    let rem = u % tpd;
    let secs = rem / tps;
    let frac = rem % tps;
    let mut out = String::with_capacity(26);
    if t < 0 {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&days.to_string());
        out.push('.');
    }
    out.push_str(&format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60));
    if frac > 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Parsing datetimes
// ---------------------------------------------------------------------------------------------

/// A byte cursor over ASCII-oriented input.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { b: s.as_bytes(), i: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn done(&self) -> bool {
        self.i >= self.b.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_any(&mut self, set: &[u8]) -> Option<u8> {
        let c = self.peek().filter(|c| set.contains(c))?;
        self.i += 1;
        Some(c)
    }

    /// Skips ASCII whitespace; returns how many bytes were skipped.
    fn ws(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
        self.i - start
    }

    /// The maximal run of ASCII digits at the cursor (possibly empty); advances past it.
    fn digit_run(&mut self) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        &self.b[start..self.i]
    }

    /// A run of `min..=max` digits (the whole run must fit); returns its value and length.
    fn num(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let run = self.digit_run();
        if run.len() < min || run.len() > max {
            return None;
        }
        let v = run.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
        Some((v, run.len()))
    }

    /// The maximal run of ASCII letters at the cursor (possibly empty); advances past it.
    fn word(&mut self) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        // Only ASCII letters were consumed, so this is a char boundary.
        std::str::from_utf8(&self.b[start..self.i]).unwrap_or("")
    }
}

/// Fraction digits to ticks: the first seven digits count, later ones are truncated.
fn fraction_ticks(digits: &[u8]) -> u32 {
    let mut v = 0u32;
    for k in 0..7 {
        v = v * 10 + digits.get(k).map_or(0, |d| u32::from(d - b'0'));
    }
    v
}

/// A time of day: `H[H]:mm[:ss[.fffffff]]` optionally followed by `AM`/`PM`.
fn parse_time(c: &mut Cursor) -> Option<(u32, u32, u32, u32)> {
    let (hour, _) = c.num(1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let (minute, _) = c.num(1, 2)?;
    let (mut second, mut fraction) = (0, 0);
    if c.eat(b':') {
        second = c.num(1, 2)?.0;
        if c.eat(b'.') {
            let digits = c.digit_run();
            if digits.is_empty() {
                return None;
            }
            fraction = fraction_ticks(digits);
        }
    }
    let save = c.i;
    c.ws();
    let designator = c.word();
    let hour = if designator.eq_ignore_ascii_case("am") {
        match hour {
            12 => 0,
            0..=11 => hour,
            _ => return None,
        }
    } else if designator.eq_ignore_ascii_case("pm") {
        match hour {
            12 => 12,
            0..=11 => hour + 12,
            _ => return None,
        }
    } else {
        c.i = save;
        hour
    };
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some((hour as u32, minute as u32, second as u32, fraction))
}

/// An optional trailing zone (`Z`, `GMT`, `UTC`, `UT`, US zone names, `+hh:mm`, `+hhmm`, `+hh`)
/// that must end the input. Returns the offset from UTC in minutes (local = UTC + offset).
fn parse_zone(c: &mut Cursor) -> Option<i64> {
    c.ws();
    if c.done() {
        return Some(0);
    }
    let offset = match c.peek()? {
        b'+' | b'-' => {
            let sign = if c.eat(b'-') {
                -1
            } else {
                c.eat(b'+');
                1
            };
            let run = c.digit_run();
            let (hh, mm) = match run.len() {
                1 | 2 => {
                    let hh = run.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0'));
                    let mm = if c.eat(b':') { c.num(2, 2)?.0 } else { 0 };
                    (hh, mm)
                }
                4 => {
                    let v = run.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0'));
                    (v / 100, v % 100)
                }
                _ => return None,
            };
            if hh > 14 || mm > 59 {
                return None;
            }
            sign * (hh * 60 + mm)
        }
        _ => match c.word().to_ascii_uppercase().as_str() {
            "Z" | "GMT" | "UTC" | "UT" => 0,
            "EST" => -5 * 60,
            "EDT" => -4 * 60,
            "CST" => -6 * 60,
            "CDT" => -5 * 60,
            "MST" => -7 * 60,
            "MDT" => -6 * 60,
            "PST" => -8 * 60,
            "PDT" => -7 * 60,
            _ => return None,
        },
    };
    c.ws();
    c.done().then_some(offset)
}

/// Two-digit years follow .NET's default window (`TwoDigitYearMax` = 2049).
fn expand_year(value: i64, digits: usize) -> Option<i64> {
    match digits {
        2 if value <= 49 => Some(2000 + value),
        2 => Some(1900 + value),
        4 => Some(value),
        _ => None,
    }
}

/// A month name (full or three-letter abbreviation, any case) to 1..=12.
fn month_from_name(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let lower = name.to_ascii_lowercase();
    MONTHS.iter().position(|m| lower == *m || (lower.len() == 3 && m.starts_with(&lower))).map(|i| i as u32 + 1)
}

/// Whether `name` is a weekday name (full or three-letter abbreviation, any case).
fn is_weekday_name(name: &str) -> bool {
    const DAYS: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    let lower = name.to_ascii_lowercase();
    DAYS.iter().any(|d| lower == *d || (lower.len() == 3 && d.starts_with(&lower)))
}

/// Assembles parsed fields into UTC ticks.
fn assemble(year: i64, month: i64, day: i64, time: Option<(u32, u32, u32, u32)>, offset_minutes: i64) -> Option<i64> {
    let month = u32::try_from(month).ok()?;
    let day = u32::try_from(day).ok()?;
    let (h, mi, s, f) = time.unwrap_or((0, 0, 0, 0));
    let local = from_parts(year, month, day, h, mi, s, f)?;
    valid_dt(i128::from(local) - i128::from(offset_minutes) * i128::from(TICKS_PER_MINUTE))
}

/// ISO 8601 and sortable: `yyyy-M-d[(T| )H:mm[:ss[.f…]]][zone]` (also with `/` separators).
fn parse_iso(s: &str) -> Option<i64> {
    let mut c = Cursor::new(s);
    let (year, _) = c.num(4, 4)?;
    let sep = c.eat_any(b"-/")?;
    let (month, _) = c.num(1, 2)?;
    if !c.eat(sep) {
        return None;
    }
    let (day, _) = c.num(1, 2)?;
    if c.done() {
        return assemble(year, month, day, None, 0);
    }
    if c.eat_any(b"Tt").is_none() && c.ws() == 0 {
        return None;
    }
    let time = parse_time(&mut c)?;
    let offset = parse_zone(&mut c)?;
    assemble(year, month, day, Some(time), offset)
}

/// RFC 822 / 1123 / 850: `[Weekday, ]d Mon yy[yy] [H:mm[:ss] [zone]]` or `[Weekday, ]dd-Mon-yy …`.
fn parse_rfc(s: &str) -> Option<i64> {
    let mut c = Cursor::new(s);
    if c.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
        if !is_weekday_name(c.word()) {
            return None;
        }
        let comma = c.eat(b',');
        if c.ws() == 0 && !comma {
            return None;
        }
    }
    let (day, _) = c.num(1, 2)?;
    let dashed = c.eat(b'-');
    if !dashed && c.ws() == 0 {
        return None;
    }
    let month = month_from_name(c.word())?;
    if dashed {
        if !c.eat(b'-') {
            return None;
        }
    } else if c.ws() == 0 {
        return None;
    }
    let (y, digits) = c.num(2, 4)?;
    let year = expand_year(y, digits)?;
    if c.done() {
        return assemble(year, i64::from(month), day, None, 0);
    }
    if c.ws() == 0 {
        return None;
    }
    let time = parse_time(&mut c)?;
    let offset = parse_zone(&mut c)?;
    assemble(year, i64::from(month), day, Some(time), offset)
}

/// US style (the Azure portal's format): `M/d/yyyy[,] [h:mm[:ss[.fff]] [AM|PM]]`, also `M-d-yyyy`.
fn parse_us(s: &str) -> Option<i64> {
    parse_numeric_date(s, DateOrder::MonthFirst)
}

/// The order of day and month in a numeric date such as `04/05/2025`, which the exporting
/// browser's locale decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// `M/d/yyyy` (en-US; Kusto's own reading).
    #[default]
    MonthFirst,
    /// `d/M/yyyy` (en-GB, most of Europe), also `d-M-yyyy` and `d.M.yyyy`.
    DayFirst,
}

/// A numeric date `a/b/yyyy[,] [time]` (also with `-`, or `.` when day-first) read in `order`.
fn parse_numeric_date(s: &str, order: DateOrder) -> Option<i64> {
    let mut c = Cursor::new(s);
    let (a, _) = c.num(1, 2)?;
    let seps: &[u8] = if order == DateOrder::DayFirst { b"/-." } else { b"/-" };
    let sep = c.eat_any(seps)?;
    let (b, _) = c.num(1, 2)?;
    if !c.eat(sep) {
        return None;
    }
    let (y, digits) = c.num(2, 4)?;
    let year = expand_year(y, digits)?;
    let (month, day) = match order {
        DateOrder::MonthFirst => (a, b),
        DateOrder::DayFirst => (b, a),
    };
    let comma = c.eat(b',');
    if c.done() {
        return if comma { None } else { assemble(year, month, day, None, 0) };
    }
    if c.ws() == 0 && !comma {
        return None;
    }
    let time = parse_time(&mut c)?;
    let offset = parse_zone(&mut c)?;
    assemble(year, month, day, Some(time), offset)
}

/// The two leading numbers of a numeric date (`21/04/2025, ...` gives `(21, 4)`), for deciding
/// the order of a column's dates; `None` when the text does not start like one.
pub fn numeric_date_fields(s: &str) -> Option<(i64, i64)> {
    let mut c = Cursor::new(s.trim());
    let (a, _) = c.num(1, 2)?;
    let sep = c.eat_any(b"/-.")?;
    let (b, _) = c.num(1, 2)?;
    if !c.eat(sep) {
        return None;
    }
    c.num(2, 4)?;
    Some((a, b))
}

/// A time as Log Analytics and the Azure portal export it: ISO 8601, the portal's locale
/// formats (`7/28/2023, 8:07:14.552 PM`; `21/04/2025, 09:45:54.000` when `order` is day-first;
/// `15-01-2025 12:00`), or anything else [`parse_datetime`] reads.
pub fn parse_export_datetime(s: &str, order: DateOrder) -> Option<i64> {
    match order {
        DateOrder::MonthFirst => parse_datetime(s),
        DateOrder::DayFirst => {
            if let Some(t) = parse_iso_utc_fast(s.as_bytes()) {
                return Some(t);
            }
            let s = s.trim();
            parse_iso(s).or_else(|| parse_numeric_date(s, DateOrder::DayFirst)).or_else(|| parse_rfc(s))
        }
    }
}

/// An OLE Automation date (the serial number a spreadsheet writes for a time: days since
/// 1899-12-30, the fraction the time of day), as in a CSV export saved again by Excel
/// (`45804.23612`). Only numbers in 1..=2958465 (up to 9999-12-31) with at most 10 fraction digits.
pub fn from_ole_automation_date(s: &str) -> Option<i64> {
    let t = s.trim();
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() || int.len() > 7 || frac.len() > 10 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let days: f64 = t.parse().ok()?;
    if !(1.0..2958466.0).contains(&days) {
        return None;
    }
    // 1899-12-30 is 25,569 days before 1970-01-01; round to the millisecond the format keeps
    let ms = ((days - 25_569.0) * 86_400_000.0).round() as i64;
    let t = ms.checked_mul(10_000)?;
    is_valid_datetime(t).then_some(t)
}

/// Parses the text of a `datetime(...)` literal or a `todatetime("...")` argument.
///
/// Accepted (surrounding whitespace is ignored; see the Kusto page *The datetime data type*):
/// * ISO 8601: `2015-12-31`, `2015-12-31T23:59`, `2015-12-31 23:59:59.9999999`, with an
///   optional `Z` or offset (`+02:00`, `+0200`, `-05`); up to 7 fractional digits count, further
///   digits are truncated.
/// * Sortable: `2014-11-08 15:05:25 GMT`, single-digit month/day (`2014-1-8`), `2014/11/08`.
/// * RFC 822 / 1123: `Sat, 8 Nov 14 15:05:02 GMT`, `8 Nov 14 15:05`, `Sat, 08 Nov 2014 …`.
/// * RFC 850: `Saturday, 08-Nov-14 15:05:02 GMT`, `08-Nov-14 15:05`.
/// * US / Azure portal: `2/25/2025, 9:19:25.391 AM`, `2/25/2025 9:19:25 AM`, `12-02-2022`.
///
/// Zones: `Z`, `GMT`, `UTC`, `UT`, `EST/EDT/CST/CDT/MST/MDT/PST/PDT` and numeric offsets; the
/// result is converted to UTC. Two-digit years map to 1950..=2049. A leading weekday name is
/// accepted without checking it against the date. Compact forms such as `20151231` are not
/// documented by Kusto and give `None`, as does anything outside years 0001..=9999.
pub fn parse_datetime(s: &str) -> Option<i64> {
    if let Some(t) = parse_iso_utc_fast(s.as_bytes()) {
        return Some(t);
    }
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    parse_iso(s).or_else(|| parse_us(s)).or_else(|| parse_rfc(s))
}

/// The shape nearly every log timestamp has, `YYYY-MM-DDTHH:MM:SS[.f{1,7}]Z`, read by position
/// (what the loader parses once per row); `None` for anything else, which the general parser
/// then reads. Gives exactly what `parse_iso` gives for these texts.
fn parse_iso_utc_fast(b: &[u8]) -> Option<i64> {
    if b.len() < 20 || b.len() > 28 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let d = |i: usize| -> Option<u32> {
        let c = b[i].wrapping_sub(b'0');
        (c < 10).then_some(c as u32)
    };
    let two = |i: usize| -> Option<u32> { Some(d(i)? * 10 + d(i + 1)?) };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = d(0)? * 1000 + d(1)? * 100 + two(2)?;
    let (month, day, hour, minute, second) = (two(5)?, two(8)?, two(11)?, two(14)?, two(17)?);
    let mut fraction = 0u32;
    match b.len() {
        20 => {}
        n => {
            // `.` and 1 to 7 digits before the `Z`
            if b[19] != b'.' || n < 22 {
                return None;
            }
            let digits = n - 21;
            for i in 20..20 + digits {
                fraction = fraction * 10 + d(i)?;
            }
            fraction *= 10u32.pow(7 - digits as u32);
        }
    }
    from_parts(i64::from(year), month, day, hour, minute, second, fraction)
}

// ---------------------------------------------------------------------------------------------
// Parsing timespans
// ---------------------------------------------------------------------------------------------

/// Nanoseconds per unit of a Kusto timespan-literal suffix (case-insensitive).
fn timespan_unit_nanos(unit: &str) -> Option<i128> {
    const NS_PER_TICK: i128 = 100;
    let ns_per = |ticks: i64| i128::from(ticks) * NS_PER_TICK;
    let u = unit.to_ascii_lowercase();
    Some(match u.as_str() {
        "" | "d" | "day" | "days" => ns_per(TICKS_PER_DAY),
        "h" | "hr" | "hrs" | "hour" | "hours" => ns_per(TICKS_PER_HOUR),
        "m" | "min" | "minute" | "minutes" => ns_per(TICKS_PER_MINUTE),
        "s" | "sec" | "second" | "seconds" => ns_per(TICKS_PER_SECOND),
        "ms" | "milli" | "millis" | "millisec" | "millisecond" | "milliseconds" => ns_per(TICKS_PER_MILLISECOND),
        "micro" | "micros" | "microsec" | "microsecond" | "microseconds" => ns_per(TICKS_PER_MICROSECOND),
        "nano" | "nanos" | "nanosec" | "nanosecond" | "nanoseconds" => 1,
        "tick" | "ticks" => NS_PER_TICK,
        _ => return None,
    })
}

/// All-digit text (1..=max digits) to a number.
fn digits_value(s: &str, max: usize) -> Option<i64> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `number[ ]unit`, e.g. `2d`, `1.5h`, `100ms`, `15 seconds`, `1tick`; a bare number is days.
fn parse_timespan_units(body: &str) -> Option<i128> {
    let num_end = body.find(|ch: char| !(ch.is_ascii_digit() || ch == '.')).unwrap_or(body.len());
    let (num, unit) = (&body[..num_end], body[num_end..].trim_start());
    let (int_part, frac_part) = match num.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (num, None),
    };
    if int_part.is_empty() || int_part.len() > 20 || !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let per_unit = timespan_unit_nanos(unit)?;
    let mut nanos = int_part.parse::<i128>().ok()?.checked_mul(per_unit)?;
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = &frac[..frac.len().min(18)];
        let scale = 10i128.pow(frac.len() as u32);
        nanos += frac.parse::<i128>().ok()? * per_unit / scale;
    }
    Some(nanos / 100)
}

/// `[d.]h:mm[:ss[.fffffff]]` or `d:h:mm:ss[.fffffff]` (.NET `TimeSpan.Parse` shapes).
fn parse_timespan_clock(body: &str) -> Option<i128> {
    let first_colon = body.find(':')?;
    let (days, rest, had_days) = match body[..first_colon].find('.') {
        Some(dot) => (digits_value(&body[..dot], 8)?, &body[dot + 1..], true),
        None => (0, body, false),
    };
    let (clock, frac) = match rest.rfind('.') {
        Some(p) => (&rest[..p], Some(&rest[p + 1..])),
        None => (rest, None),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    let (days, h, m, s) = match fields.as_slice() {
        [h, m] if frac.is_none() => (days, digits_value(h, 2)?, digits_value(m, 2)?, 0),
        [h, m, s] => (days, digits_value(h, 2)?, digits_value(m, 2)?, digits_value(s, 2)?),
        [d, h, m, s] if !had_days => {
            (digits_value(d, 8)?, digits_value(h, 2)?, digits_value(m, 2)?, digits_value(s, 2)?)
        }
        _ => return None,
    };
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let fraction = match frac {
        Some(f) if !f.is_empty() && f.len() <= 7 && f.bytes().all(|b| b.is_ascii_digit()) => {
            i128::from(fraction_ticks(f.as_bytes()))
        }
        Some(_) => return None,
        None => 0,
    };
    Some(
        i128::from(days) * i128::from(TICKS_PER_DAY)
            + i128::from(h) * i128::from(TICKS_PER_HOUR)
            + i128::from(m) * i128::from(TICKS_PER_MINUTE)
            + i128::from(s) * i128::from(TICKS_PER_SECOND)
            + fraction,
    )
}

/// Parses the text of a `timespan(...)` literal or a `totimespan("...")` argument.
///
/// Accepted (surrounding whitespace ignored, optional leading `-`; see the Kusto page *The
/// timespan data type*):
/// * clock forms `[d.]hh:mm[:ss[.fffffff]]` and `d:hh:mm:ss[.fffffff]`: `1.02:03:04.5`,
///   `02:03:04`, `00:01` (one minute), `-1.00:00:00`; hours 0..=23, minutes/seconds 0..=59,
///   at most 7 fractional digits;
/// * a number (optionally with a fraction) and a unit, optionally separated by spaces: `2d`,
///   `1.5h`, `30m`, `10s`, `100ms`, `10microsecond`, `1tick`, `15 seconds`, with the unit
///   spellings of the KQL lexer (`d|day|days`, `h|hr|hrs|hour|hours`, `m|min|minute|minutes`,
///   `s|sec|second|seconds`, `ms|milli[s|sec|second|seconds]`, `micro[...]`, `nano[...]`,
///   `tick|ticks`), any case; sub-tick remainders are truncated;
/// * a bare number, meaning days (`time(2)` is two days).
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() || body.starts_with(|c: char| c.is_whitespace() || c == '-' || c == '+') {
        return None;
    }
    let ticks = if body.contains(':') { parse_timespan_clock(body)? } else { parse_timespan_units(body)? };
    i64::try_from(if negative { -ticks } else { ticks }).ok()
}

// ---------------------------------------------------------------------------------------------
// format_datetime / format_timespan
// ---------------------------------------------------------------------------------------------

/// Whether `c` is one of the delimiters Kusto allows in format strings.
fn is_format_delimiter(c: char) -> bool {
    matches!(c, ' ' | '/' | '-' | ':' | ',' | '.' | '_' | '[' | ']')
}

/// The first `n` (1..=7) digits of a sub-second tick count, for `f…`; `F…` trims trailing
/// zeros (and gives an empty string for zero).
fn push_fraction(out: &mut String, fraction: u32, n: usize, trim: bool) {
    let digits = format!("{fraction:07}");
    let mut s = &digits[..n];
    if trim {
        s = s.trim_end_matches('0');
    }
    out.push_str(s);
}

/// Splits a pattern into runs of one repeated character.
fn pattern_runs(pattern: &str) -> Vec<(char, usize)> {
    let mut runs: Vec<(char, usize)> = Vec::new();
    for c in pattern.chars() {
        match runs.last_mut() {
            Some((prev, n)) if *prev == c => *n += 1,
            _ => runs.push((c, 1)),
        }
    }
    runs
}

/// Kusto's `format_datetime(date, format)`.
///
/// Specifiers (from the Kusto page *format_datetime()*): `d`, `dd` (day), `f`…`fffffff`
/// (fraction digits), `F`…`FFFFFFF` (fraction digits without trailing zeros, nothing when
/// zero; like .NET, a `.` right before an empty `F…` is dropped), `h`, `hh` (12-hour clock),
/// `H`, `HH`, `m`, `mm`, `M`, `MM`, `s`, `ss`, `y` (year % 100), `yy`, `yyyy`, `tt` (`AM`/`PM`);
/// delimiters ` /-:,._[]`. Any other character or run length (e.g. `MMM`, `ddd`, `yyy`, `T`)
/// is not supported and gives `None`.
pub fn format_datetime(t: i64, pattern: &str) -> Option<String> {
    let p = to_parts(t);
    let mut out = String::with_capacity(pattern.len() + 8);
    for (c, n) in pattern_runs(pattern) {
        match (c, n) {
            ('d', 1) => out.push_str(&p.day.to_string()),
            ('d', 2) => out.push_str(&format!("{:02}", p.day)),
            ('f', 1..=7) => push_fraction(&mut out, p.fraction, n, false),
            ('F', 1..=7) => {
                let before = out.len();
                push_fraction(&mut out, p.fraction, n, true);
                if out.len() == before && out.ends_with('.') {
                    out.pop();
                }
            }
            ('h', 1 | 2) => {
                let h12 = match p.hour % 12 {
                    0 => 12,
                    h => h,
                };
                out.push_str(&if n == 1 { h12.to_string() } else { format!("{h12:02}") });
            }
            ('H', 1) => out.push_str(&p.hour.to_string()),
            ('H', 2) => out.push_str(&format!("{:02}", p.hour)),
            ('m', 1) => out.push_str(&p.minute.to_string()),
            ('m', 2) => out.push_str(&format!("{:02}", p.minute)),
            ('M', 1) => out.push_str(&p.month.to_string()),
            ('M', 2) => out.push_str(&format!("{:02}", p.month)),
            ('s', 1) => out.push_str(&p.second.to_string()),
            ('s', 2) => out.push_str(&format!("{:02}", p.second)),
            ('y', 1) => out.push_str(&p.year.rem_euclid(100).to_string()),
            ('y', 2) => out.push_str(&format!("{:02}", p.year.rem_euclid(100))),
            ('y', 4) => out.push_str(&format!("{:04}", p.year)),
            ('t', 2) => out.push_str(if p.hour < 12 { "AM" } else { "PM" }),
            (c, n) if is_format_delimiter(c) => out.extend(std::iter::repeat_n(c, n)),
            _ => return None,
        }
    }
    Some(out)
}

/// Kusto's `format_timespan(timespan, format)`.
///
/// Specifiers (from the Kusto page *format_timespan()*): `d`…`dddddddd` (whole days, zero-padded
/// to the run length), `f`…`fffffff`, `F`…`FFFFFFF` (as in [`format_datetime`], but no `.` is
/// dropped), `h`/`H`, `hh`/`HH` (hours 0..=23), `m`, `mm`, `s`, `ss`; delimiters ` /-:,._[]`.
/// Components are those of the absolute value; a negative timespan gets a leading `-`.
/// Anything else gives `None`.
pub fn format_timespan_pattern(t: i64, pattern: &str) -> Option<String> {
    let u = t.unsigned_abs();
    let days = u / TICKS_PER_DAY as u64;
    let rem = u % TICKS_PER_DAY as u64;
    let secs = rem / TICKS_PER_SECOND as u64;
    let fraction = (rem % TICKS_PER_SECOND as u64) as u32;
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::with_capacity(pattern.len() + 8);
    if t < 0 {
        out.push('-');
    }
    for (c, n) in pattern_runs(pattern) {
        match (c, n) {
            ('d', 1..=8) => out.push_str(&format!("{days:0n$}")),
            ('f', 1..=7) => push_fraction(&mut out, fraction, n, false),
            ('F', 1..=7) => push_fraction(&mut out, fraction, n, true),
            ('h' | 'H', 1) => out.push_str(&hours.to_string()),
            ('h' | 'H', 2) => out.push_str(&format!("{hours:02}")),
            ('m', 1) => out.push_str(&minutes.to_string()),
            ('m', 2) => out.push_str(&format!("{minutes:02}")),
            ('s', 1) => out.push_str(&seconds.to_string()),
            ('s', 2) => out.push_str(&format!("{seconds:02}")),
            (c, n) if is_format_delimiter(c) => out.extend(std::iter::repeat_n(c, n)),
            _ => return None,
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// startof… / endof…
// ---------------------------------------------------------------------------------------------

/// Days since 1970-01-01 of the Sunday starting the week that contains `t`.
fn week_start_day(t: i64) -> i64 {
    let days = t.div_euclid(TICKS_PER_DAY);
    // 1970-01-01 was a Thursday (day 4 counting from Sunday = 0).
    days - (days + 4).rem_euclid(7)
}

/// Ticks of the first instant of the month `offset_months` after the month of `t`; allows the
/// years 0 and 10000 so that `endof…` can step one tick back into the valid range.
fn month_start(t: i64, offset_months: i128) -> Option<i128> {
    let p = to_parts(t);
    let total = i128::from(p.year) * 12 + i128::from(p.month - 1) + offset_months;
    let year = total.div_euclid(12);
    if !(0..=10_000).contains(&year) {
        return None;
    }
    let month = total.rem_euclid(12) as u32 + 1;
    Some(i128::from(days_from_civil(year as i64, month, 1)) * i128::from(TICKS_PER_DAY))
}

/// Kusto's `startofday(date, offset)`: midnight of the day of `t`, shifted by `offset` days.
pub fn start_of_day(t: i64, offset: i64) -> Option<i64> {
    let day = i128::from(t.div_euclid(TICKS_PER_DAY)) + i128::from(offset);
    valid_dt(day * i128::from(TICKS_PER_DAY))
}

/// Kusto's `endofday(date, offset)`: the last tick (`23:59:59.9999999`) of the day of `t`,
/// shifted by `offset` days.
pub fn end_of_day(t: i64, offset: i64) -> Option<i64> {
    let day = i128::from(t.div_euclid(TICKS_PER_DAY)) + i128::from(offset) + 1;
    valid_dt(day * i128::from(TICKS_PER_DAY) - 1)
}

/// Kusto's `startofweek(date, offset)`: midnight of the Sunday starting the week of `t`,
/// shifted by `offset` weeks.
pub fn start_of_week(t: i64, offset: i64) -> Option<i64> {
    let day = i128::from(week_start_day(t)) + 7 * i128::from(offset);
    valid_dt(day * i128::from(TICKS_PER_DAY))
}

/// Kusto's `endofweek(date, offset)`: the last tick of the Saturday ending the week of `t`,
/// shifted by `offset` weeks.
pub fn end_of_week(t: i64, offset: i64) -> Option<i64> {
    let day = i128::from(week_start_day(t)) + 7 * (i128::from(offset) + 1);
    valid_dt(day * i128::from(TICKS_PER_DAY) - 1)
}

/// Kusto's `startofmonth(date, offset)`: the first instant of the month of `t`, shifted by
/// `offset` months.
pub fn start_of_month(t: i64, offset: i64) -> Option<i64> {
    valid_dt(month_start(t, i128::from(offset))?)
}

/// Kusto's `endofmonth(date, offset)`: the last tick of the month of `t`, shifted by `offset`
/// months.
pub fn end_of_month(t: i64, offset: i64) -> Option<i64> {
    valid_dt(month_start(t, i128::from(offset) + 1)? - 1)
}

/// Kusto's `startofyear(date, offset)`: January 1st of the year of `t`, shifted by `offset`
/// years.
pub fn start_of_year(t: i64, offset: i64) -> Option<i64> {
    let back = i128::from(to_parts(t).month - 1);
    valid_dt(month_start(t, 12 * i128::from(offset) - back)?)
}

/// Kusto's `endofyear(date, offset)`: the last tick of December 31st of the year of `t`,
/// shifted by `offset` years.
pub fn end_of_year(t: i64, offset: i64) -> Option<i64> {
    let back = i128::from(to_parts(t).month - 1);
    valid_dt(month_start(t, 12 * (i128::from(offset) + 1) - back)? - 1)
}

// ---------------------------------------------------------------------------------------------
// Parts
// ---------------------------------------------------------------------------------------------

/// Kusto's `dayofweek(date)`: the timespan (in ticks) since midnight of the preceding Sunday,
/// in whole days: Sunday is 0, Monday is `1d`, … Saturday is `6d`.
pub fn day_of_week(t: i64) -> i64 {
    (t.div_euclid(TICKS_PER_DAY) - week_start_day(t)) * TICKS_PER_DAY
}

/// Kusto's `dayofmonth(date)`: 1..=31.
pub fn day_of_month(t: i64) -> i64 {
    i64::from(to_parts(t).day)
}

/// Kusto's `dayofyear(date)`: 1..=366.
pub fn day_of_year(t: i64) -> i64 {
    let p = to_parts(t);
    t.div_euclid(TICKS_PER_DAY) - days_from_civil(p.year, 1, 1) + 1
}

/// Kusto's `week_of_year(date)`: the ISO 8601 week number (weeks start on Monday; week 1 is
/// the week containing the year's first Thursday), 1..=53.
pub fn week_of_year(t: i64) -> i64 {
    let year = to_parts(t).year;
    let iso_weekday = |days: i64| (days + 3).rem_euclid(7) + 1; // Monday = 1 … Sunday = 7
    let weeks_in = |y: i64| {
        let jan1 = iso_weekday(days_from_civil(y, 1, 1));
        if jan1 == 4 || (jan1 == 3 && is_leap_year(y)) {
            53
        } else {
            52
        }
    };
    let days = t.div_euclid(TICKS_PER_DAY);
    let ordinal = days - days_from_civil(year, 1, 1) + 1;
    let week = (ordinal - iso_weekday(days) + 10) / 7;
    if week < 1 {
        weeks_in(year - 1)
    } else if week > weeks_in(year) {
        1
    } else {
        week
    }
}

/// Kusto's `monthofyear(date)` / `getmonth(date)`: 1..=12.
pub fn month_of_year(t: i64) -> i64 {
    i64::from(to_parts(t).month)
}

/// Kusto's `getyear(date)`.
pub fn get_year(t: i64) -> i64 {
    to_parts(t).year
}

/// Kusto's `hourofday(date)`: 0..=23.
pub fn hour_of_day(t: i64) -> i64 {
    i64::from(to_parts(t).hour)
}

/// The minute of the hour, 0..=59 (`datetime_part("minute", date)`).
pub fn minute_of_hour(t: i64) -> i64 {
    i64::from(to_parts(t).minute)
}

/// The second of the minute, 0..=59 (`datetime_part("second", date)`).
pub fn second_of_minute(t: i64) -> i64 {
    i64::from(to_parts(t).second)
}

/// Lower-cases a part name and drops underscores (`week_of_year` = `WeekOfYear`).
fn normalize_part(part: &str) -> String {
    part.chars().filter(|c| *c != '_').map(|c| c.to_ascii_lowercase()).collect()
}

/// Kusto's `datetime_part(part, date)`. Part names are case-insensitive: `Year`, `Quarter`,
/// `Month`, `week_of_year` (also `WeekOfYear`; both give the ISO 8601 week), `Day`,
/// `DayOfYear`, `Hour`, `Minute`, `Second`, `Millisecond`, `Microsecond`, `Nanosecond` (the
/// sub-second parts are the fraction of the current second in that unit). Unknown part: `None`.
pub fn datetime_part(part: &str, t: i64) -> Option<i64> {
    let p = to_parts(t);
    let fraction = i64::from(p.fraction);
    Some(match normalize_part(part).as_str() {
        "year" => p.year,
        "quarter" => i64::from((p.month - 1) / 3 + 1),
        "month" => i64::from(p.month),
        "weekofyear" => week_of_year(t),
        "day" => i64::from(p.day),
        "dayofyear" => day_of_year(t),
        "hour" => i64::from(p.hour),
        "minute" => i64::from(p.minute),
        "second" => i64::from(p.second),
        "millisecond" => fraction / TICKS_PER_MILLISECOND,
        "microsecond" => fraction / TICKS_PER_MICROSECOND,
        "nanosecond" => fraction * 100,
        _ => return None,
    })
}

/// The tick length of a fixed-size period name (already normalized), if it is one.
fn fixed_period_ticks(part: &str) -> Option<i64> {
    Some(match part {
        "week" => TICKS_PER_WEEK,
        "day" => TICKS_PER_DAY,
        "hour" => TICKS_PER_HOUR,
        "minute" => TICKS_PER_MINUTE,
        "second" => TICKS_PER_SECOND,
        "millisecond" => TICKS_PER_MILLISECOND,
        "microsecond" => TICKS_PER_MICROSECOND,
        _ => return None,
    })
}

/// Kusto's `datetime_diff(period, datetime1, datetime2)`: the number of period boundaries
/// crossed going from `b` to `a` (positive when `a` is later). Periods (case-insensitive):
/// `year`, `quarter`, `month`, `week` (weeks start on Sunday), `day`, `hour`, `minute`,
/// `second`, `millisecond`, `microsecond`; `nanosecond` is the exact difference in
/// nanoseconds (`None` if it overflows `i64`). Unknown period: `None`.
pub fn datetime_diff(part: &str, a: i64, b: i64) -> Option<i64> {
    let part = normalize_part(part);
    let (pa, pb) = (to_parts(a), to_parts(b));
    let months = |p: &DateTimeParts| p.year * 12 + i64::from(p.month) - 1;
    match part.as_str() {
        "year" => Some(pa.year - pb.year),
        "quarter" => Some(months(&pa).div_euclid(3) - months(&pb).div_euclid(3)),
        "month" => Some(months(&pa) - months(&pb)),
        "week" => Some((week_start_day(a) - week_start_day(b)) / 7),
        "nanosecond" => i64::try_from((i128::from(a) - i128::from(b)) * 100).ok(),
        other => {
            let unit = fixed_period_ticks(other)?;
            Some(a.div_euclid(unit) - b.div_euclid(unit))
        }
    }
}

/// Adds `months` calendar months to `t`, clamping the day to the end of the target month and
/// keeping the time of day (like .NET `DateTime.AddMonths`).
fn add_months(t: i64, months: i128) -> Option<i64> {
    let p = to_parts(t);
    let total = i128::from(p.year) * 12 + i128::from(p.month - 1) + months;
    let year = total.div_euclid(12);
    if !(1..=9999).contains(&year) {
        return None;
    }
    let year = year as i64;
    let month = total.rem_euclid(12) as u32 + 1;
    let day = p.day.min(days_in_month(year, month));
    let date = i128::from(days_from_civil(year, month, day)) * i128::from(TICKS_PER_DAY);
    valid_dt(date + i128::from(t.rem_euclid(TICKS_PER_DAY)))
}

/// Kusto's `datetime_add(period, amount, datetime)`. Periods (case-insensitive): `year`,
/// `quarter`, `month` (calendar arithmetic; the day is clamped to the end of the target month,
/// like .NET `AddMonths`/`AddYears`), `week`, `day`, `hour`, `minute`, `second`, `millisecond`,
/// `microsecond`, `nanosecond` (truncated to whole ticks). `None` for an unknown period or a
/// result outside years 0001..=9999.
pub fn datetime_add(part: &str, amount: i64, t: i64) -> Option<i64> {
    let amount = i128::from(amount);
    match normalize_part(part).as_str() {
        "year" => add_months(t, amount * 12),
        "quarter" => add_months(t, amount * 3),
        "month" => add_months(t, amount),
        "nanosecond" => valid_dt(i128::from(t) + amount / 100),
        other => valid_dt(i128::from(t) + amount * i128::from(fixed_period_ticks(other)?)),
    }
}

// ---------------------------------------------------------------------------------------------
// Constructors and conversions
// ---------------------------------------------------------------------------------------------

/// Rounds seconds (as a real) to ticks; `None` unless finite and within `0 <= s < 60`.
fn second_ticks(second: f64) -> Option<i64> {
    if !second.is_finite() || !(0.0..60.0).contains(&second) {
        return None;
    }
    Some((second * TICKS_PER_SECOND as f64).round() as i64)
}

/// Kusto's `make_datetime(year, month, day[, hour, minute[, second]])` (pass 0 for omitted
/// parts). Valid ranges: year 1..=9999, month 1..=12, day within the month, hour 0..=23,
/// minute 0..=59, second `0 <= s < 60` (a real; rounded to the nearest tick). Else `None`.
pub fn make_datetime(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: f64) -> Option<i64> {
    let field = |v: i64| u32::try_from(v).ok();
    let base = from_parts(year, field(month)?, field(day)?, field(hour)?, field(minute)?, 0, 0)?;
    valid_dt(i128::from(base) + i128::from(second_ticks(second)?))
}

/// Kusto's `make_timespan(...)`: `make_timespan(h, m)` is `make_timespan(0, h, m, 0.0)`,
/// `make_timespan(h, m, s)` is `make_timespan(0, h, m, s)`. Hours must be 0..=23, minutes
/// 0..=59 and seconds `0 <= s < 60` (a real; rounded to the nearest tick); days are unbounded
/// (may be negative). Else `None`.
pub fn make_timespan(days: i64, hours: i64, minutes: i64, seconds: f64) -> Option<i64> {
    if !(0..=23).contains(&hours) || !(0..=59).contains(&minutes) {
        return None;
    }
    let total = i128::from(days) * i128::from(TICKS_PER_DAY)
        + i128::from(hours) * i128::from(TICKS_PER_HOUR)
        + i128::from(minutes) * i128::from(TICKS_PER_MINUTE)
        + i128::from(second_ticks(seconds)?);
    i64::try_from(total).ok()
}

/// Unix-epoch units to a datetime: `value * num / den` ticks. Integral inputs are converted
/// exactly (the division by `den` truncates toward zero); other inputs round to the nearest tick.
fn from_unix(value: f64, num: i128, den: i128) -> Option<i64> {
    if !value.is_finite() {
        return None;
    }
    if value.fract() == 0.0 && value.abs() < 1e20 {
        return valid_dt(value as i128 * num / den);
    }
    let ticks = (value * num as f64 / den as f64).round();
    if ticks.abs() > 1e19 {
        return None;
    }
    valid_dt(ticks as i128)
}

/// Kusto's `unixtime_seconds_todatetime(seconds)`; `None` outside years 0001..=9999.
pub fn from_unix_seconds(seconds: f64) -> Option<i64> {
    from_unix(seconds, i128::from(TICKS_PER_SECOND), 1)
}

/// Kusto's `unixtime_milliseconds_todatetime(milliseconds)`; `None` outside years 0001..=9999.
pub fn from_unix_milliseconds(milliseconds: f64) -> Option<i64> {
    from_unix(milliseconds, i128::from(TICKS_PER_MILLISECOND), 1)
}

/// Kusto's `unixtime_microseconds_todatetime(microseconds)`; `None` outside years 0001..=9999.
pub fn from_unix_microseconds(microseconds: f64) -> Option<i64> {
    from_unix(microseconds, i128::from(TICKS_PER_MICROSECOND), 1)
}

/// Kusto's `unixtime_nanoseconds_todatetime(nanoseconds)` (sub-tick nanoseconds of an integral
/// input are truncated toward zero); `None` outside years 0001..=9999.
pub fn from_unix_nanoseconds(nanoseconds: f64) -> Option<i64> {
    from_unix(nanoseconds, 1, 100)
}

/// Seconds since the Unix epoch, as a real (`(t - datetime(1970-01-01)) / 1s`).
pub fn to_unix_seconds(t: i64) -> f64 {
    t as f64 / TICKS_PER_SECOND as f64
}

/// Milliseconds since the Unix epoch, as a real.
pub fn to_unix_milliseconds(t: i64) -> f64 {
    t as f64 / TICKS_PER_MILLISECOND as f64
}

/// Microseconds since the Unix epoch, as a real.
pub fn to_unix_microseconds(t: i64) -> f64 {
    t as f64 / TICKS_PER_MICROSECOND as f64
}

/// Nanoseconds since the Unix epoch, as a real.
pub fn to_unix_nanoseconds(t: i64) -> f64 {
    t as f64 * 100.0
}

/// Kusto's `bin(value, roundTo)` on ticks: the largest multiple of `bin` that is `<= value`
/// (floors correctly for negative values). `None` if `bin <= 0` or on overflow.
pub fn bin_ticks(value: i64, bin: i64) -> Option<i64> {
    if bin <= 0 {
        return None;
    }
    value.div_euclid(bin).checked_mul(bin)
}

/// Kusto's `bin_at(value, bin_size, fixed_point)` on ticks: the largest
/// `fixed_point + k * bin` (integer `k`, possibly negative) that is `<= value`. `None` if
/// `bin <= 0` or on overflow.
pub fn bin_at_ticks(value: i64, bin: i64, fixed_point: i64) -> Option<i64> {
    if bin <= 0 {
        return None;
    }
    let (bin, fixed) = (i128::from(bin), i128::from(fixed_point));
    i64::try_from(fixed + (i128::from(value) - fixed).div_euclid(bin) * bin).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fast_iso_path_agrees_with_the_general_parser() {
        for t in [
            "2025-10-01T15:00:00Z",
            "2025-10-01T15:00:00.1Z",
            "2025-10-01T15:00:00.1230000Z",
            "2025-10-01T15:00:00.123Z",
            "2024-02-29T23:59:59.9999999Z",
            "2023-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-10-01T24:00:00Z",
            "2025-10-01T15:00:60Z",
            "2025-10-01T15:00:00.Z",
            "2025-10-01T15:00:00.12345678Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.9999999Z",
            "2025-10-01 15:00:00Z",
            "2025-1a-01T15:00:00Z",
        ] {
            assert_eq!(parse_datetime(t), parse_iso(t.trim()).or_else(|| parse_us(t)).or_else(|| parse_rfc(t)), "{t}");
            if let Some(fast) = parse_iso_utc_fast(t.as_bytes()) {
                assert_eq!(Some(fast), parse_iso(t), "{t}");
            }
        }
    }

    use super::*;

    /// Parses a datetime that must be valid.
    fn dt(s: &str) -> i64 {
        parse_datetime(s).unwrap_or_else(|| panic!("datetime {s:?} did not parse"))
    }

    /// Parses a timespan that must be valid.
    fn ts(s: &str) -> i64 {
        parse_timespan(s).unwrap_or_else(|| panic!("timespan {s:?} did not parse"))
    }

    fn iso(t: Option<i64>) -> String {
        format_datetime_iso(t.expect("a datetime"))
    }

    // --- constants and calendar primitives -----------------------------------------------

    #[test]
    fn constants_match_calendar() {
        assert_eq!(TICKS_PER_DAY, 864_000_000_000);
        assert_eq!(from_parts(1, 1, 1, 0, 0, 0, 0), Some(MIN_DATETIME));
        assert_eq!(from_parts(9999, 12, 31, 23, 59, 59, 9_999_999), Some(MAX_DATETIME));
        assert_eq!(from_parts(1970, 1, 1, 0, 0, 0, 0), Some(0));
        assert_eq!(to_dotnet_ticks(0), Some(UNIX_EPOCH_DOTNET_TICKS));
        assert_eq!(to_dotnet_ticks(MIN_DATETIME), Some(0));
        assert_eq!(from_dotnet_ticks(0), Some(MIN_DATETIME));
        assert_eq!(from_dotnet_ticks(-1), None);
    }

    /// scalar-data-types/datetime.md: "a ticks value of 31241376000000000 represents the date,
    /// Friday, January 01, 0100 12:00:00 midnight".
    #[test]
    fn dotnet_ticks_example_from_datetime_page() {
        let t = from_dotnet_ticks(31_241_376_000_000_000).unwrap();
        assert_eq!(format_datetime_iso(t), "0100-01-01T00:00:00.0000000Z");
        assert_eq!(day_of_week(t), 5 * TICKS_PER_DAY); // Friday
    }

    #[test]
    fn parts_roundtrip_across_range() {
        let samples = [
            MIN_DATETIME,
            MIN_DATETIME + 1,
            -1,
            0,
            1,
            dt("1600-02-29T12:34:56.7890123Z"),
            dt("1601-01-01"),
            dt("1900-03-01"),
            dt("2000-02-29T23:59:59.9999999"),
            MAX_DATETIME,
        ];
        for t in samples {
            let p = to_parts(t);
            assert_eq!(from_parts(p.year, p.month, p.day, p.hour, p.minute, p.second, p.fraction), Some(t), "{p:?}");
        }
        // Every day for ~1200 years around the epoch round-trips and advances by one day.
        let mut prev = to_parts(dt("1500-01-01"));
        for day in days_from_civil(1500, 1, 2)..days_from_civil(2700, 1, 1) {
            let p = to_parts(day * TICKS_PER_DAY);
            assert_eq!(days_from_civil(p.year, p.month, p.day), day);
            assert!(p.day == prev.day + 1 || (p.day == 1 && prev.day == days_in_month(prev.year, prev.month)));
            prev = p;
        }
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2000));
        assert!(is_leap_year(2024));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2023));
        assert!(is_leap_year(1600));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(from_parts(2023, 2, 29, 0, 0, 0, 0), None);
        assert_eq!(from_parts(0, 1, 1, 0, 0, 0, 0), None);
        assert_eq!(from_parts(10_000, 1, 1, 0, 0, 0, 0), None);
    }

    #[test]
    fn now_is_recent() {
        let now = now_ticks();
        assert!(now > dt("2024-01-01") && now < dt("2200-01-01"));
    }

    // --- printing ---------------------------------------------------------------------------

    #[test]
    fn iso_printing() {
        assert_eq!(format_datetime_iso(0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(format_datetime_iso(-1), "1969-12-31T23:59:59.9999999Z");
        assert_eq!(format_datetime_iso(MIN_DATETIME), "0001-01-01T00:00:00.0000000Z");
        assert_eq!(format_datetime_iso(MAX_DATETIME), "9999-12-31T23:59:59.9999999Z");
        assert_eq!(format_datetime_iso(dt("2025-10-21 14:32:17.234")), "2025-10-21T14:32:17.2340000Z");
    }

    /// todynamic/parse_json issue (MicrosoftDocs/dataexplorer-docs#914): a datetime
    /// `2021-11-18T00:03:35` is printed as `2021-11-18T00:03:35.0000000Z`.
    #[test]
    fn iso_printing_matches_kusto_output() {
        assert_eq!(format_datetime_iso(dt("2021-11-18T00:03:35")), "2021-11-18T00:03:35.0000000Z");
    }

    #[test]
    fn timespan_printing() {
        assert_eq!(format_timespan(0), "00:00:00");
        assert_eq!(format_timespan(TICKS_PER_HOUR), "01:00:00");
        assert_eq!(format_timespan(ts("1.02:03:04")), "1.02:03:04");
        assert_eq!(format_timespan(-15 * TICKS_PER_SECOND / 10), "-00:00:01.5000000");
        assert_eq!(format_timespan(1), "00:00:00.0000001");
        assert_eq!(format_timespan(-TICKS_PER_DAY), "-1.00:00:00");
        assert_eq!(format_timespan(i64::MIN), "-10675199.02:48:05.4775808");
        assert_eq!(format_timespan(i64::MAX), "10675199.02:48:05.4775807");
        // make-timespan-function.md: make_timespan(1,12,30,55.123) prints 1.12:30:55.1230000.
        assert_eq!(format_timespan(make_timespan(1, 12, 30, 55.123).unwrap()), "1.12:30:55.1230000");
        // day-of-week-function.md prints dayofweek results as 00:00:00, 1.00:00:00, 2.00:00:00.
        assert_eq!(format_timespan(2 * TICKS_PER_DAY), "2.00:00:00");
    }

    // --- parse_datetime ---------------------------------------------------------------------

    /// scalar-data-types/datetime.md, "Supported formats" → ISO 8601 table.
    #[test]
    fn parse_iso8601_table() {
        assert_eq!(iso(parse_datetime("2014-05-25T08:20:03.123456Z")), "2014-05-25T08:20:03.1234560Z");
        assert_eq!(iso(parse_datetime("2014-05-25T08:20:03.123456")), "2014-05-25T08:20:03.1234560Z");
        assert_eq!(iso(parse_datetime("2014-05-25T08:20")), "2014-05-25T08:20:00.0000000Z");
        assert_eq!(iso(parse_datetime("2014-11-08 15:55:55.123456Z")), "2014-11-08T15:55:55.1234560Z");
        assert_eq!(iso(parse_datetime("2014-11-08 15:55:55")), "2014-11-08T15:55:55.0000000Z");
        assert_eq!(iso(parse_datetime("2014-11-08 15:55")), "2014-11-08T15:55:00.0000000Z");
        assert_eq!(iso(parse_datetime("2014-11-08")), "2014-11-08T00:00:00.0000000Z");
    }

    /// scalar-data-types/datetime.md, "Supported formats" → RFC 822 table (two-digit year 14).
    #[test]
    fn parse_rfc822_table() {
        let secs = "2014-11-08T15:05:02.0000000Z";
        let mins = "2014-11-08T15:05:00.0000000Z";
        assert_eq!(iso(parse_datetime("Sat, 8 Nov 14 15:05:02 GMT")), secs);
        assert_eq!(iso(parse_datetime("Sat, 8 Nov 14 15:05:02")), secs);
        assert_eq!(iso(parse_datetime("Sat, 8 Nov 14 15:05")), mins);
        assert_eq!(iso(parse_datetime("Sat, 8 Nov 14 15:05 GMT")), mins);
        assert_eq!(iso(parse_datetime("8 Nov 14 15:05:02 GMT")), secs);
        assert_eq!(iso(parse_datetime("8 Nov 14 15:05:02")), secs);
        assert_eq!(iso(parse_datetime("8 Nov 14 15:05")), mins);
        assert_eq!(iso(parse_datetime("8 Nov 14 15:05 GMT")), mins);
    }

    /// scalar-data-types/datetime.md, "Supported formats" → RFC 850 table.
    #[test]
    fn parse_rfc850_table() {
        let secs = "2014-11-08T15:05:02.0000000Z";
        let mins = "2014-11-08T15:05:00.0000000Z";
        assert_eq!(iso(parse_datetime("Saturday, 08-Nov-14 15:05:02 GMT")), secs);
        assert_eq!(iso(parse_datetime("Saturday, 08-Nov-14 15:05:02")), secs);
        assert_eq!(iso(parse_datetime("Saturday, 08-Nov-14 15:05 GMT")), mins);
        assert_eq!(iso(parse_datetime("Saturday, 08-Nov-14 15:05")), mins);
        assert_eq!(iso(parse_datetime("08-Nov-14 15:05:02 GMT")), secs);
        assert_eq!(iso(parse_datetime("08-Nov-14 15:05:02")), secs);
        assert_eq!(iso(parse_datetime("08-Nov-14 15:05 GMT")), mins);
        assert_eq!(iso(parse_datetime("08-Nov-14 15:05")), mins);
    }

    /// scalar-data-types/datetime.md, "Supported formats" → Sortable table.
    #[test]
    fn parse_sortable_table() {
        let secs = "2014-11-08T15:05:25.0000000Z";
        let mins = "2014-11-08T15:05:00.0000000Z";
        assert_eq!(iso(parse_datetime("2014-11-08 15:05:25")), secs);
        assert_eq!(iso(parse_datetime("2014-11-08 15:05:25 GMT")), secs);
        assert_eq!(iso(parse_datetime("2014-11-08 15:05")), mins);
        assert_eq!(iso(parse_datetime("2014-11-08 15:05 GMT")), mins);
        assert_eq!(iso(parse_datetime("2014-11-08T15:05:25")), secs);
        assert_eq!(iso(parse_datetime("2014-11-08T15:05:25 GMT")), secs);
        assert_eq!(iso(parse_datetime("2014-11-08T15:05")), mins);
        assert_eq!(iso(parse_datetime("2014-11-08T15:05 GMT")), mins);
        // %n and %e: month and day without leading zeros.
        assert_eq!(iso(parse_datetime("2014-1-8 5:05:25")), "2014-01-08T05:05:25.0000000Z");
    }

    /// scalar-data-types/datetime.md literal examples and todatetime-function.md examples.
    #[test]
    fn parse_doc_literals() {
        assert_eq!(iso(parse_datetime("2015-12-31 23:59:59.9")), "2015-12-31T23:59:59.9000000Z");
        assert_eq!(iso(parse_datetime("2015-12-31")), "2015-12-31T00:00:00.0000000Z");
        // todatetime('12-02-2022') == datetime('12-02-2022'): US month-day-year.
        assert_eq!(iso(parse_datetime("12-02-2022")), "2022-12-02T00:00:00.0000000Z");
    }

    #[test]
    fn parse_iso_variants() {
        assert_eq!(iso(parse_datetime("2015-12-31T23:59:59.9999999Z")), "2015-12-31T23:59:59.9999999Z");
        assert_eq!(iso(parse_datetime("2015-12-31 23:59:59.9999999")), "2015-12-31T23:59:59.9999999Z");
        assert_eq!(iso(parse_datetime("2015-12-31T23:59")), "2015-12-31T23:59:00.0000000Z");
        assert_eq!(iso(parse_datetime("  2015-12-31T23:59:59Z \n")), "2015-12-31T23:59:59.0000000Z");
        assert_eq!(iso(parse_datetime("2015-12-31t23:59:59z")), "2015-12-31T23:59:59.0000000Z");
        // Offsets convert to UTC.
        assert_eq!(iso(parse_datetime("2015-12-31T23:59:59+02:00")), "2015-12-31T21:59:59.0000000Z");
        assert_eq!(iso(parse_datetime("2015-12-31T23:59:59-05:30")), "2016-01-01T05:29:59.0000000Z");
        assert_eq!(iso(parse_datetime("2015-12-31T23:59:59+0200")), "2015-12-31T21:59:59.0000000Z");
        assert_eq!(iso(parse_datetime("2015-12-31T23:59:59-05")), "2016-01-01T04:59:59.0000000Z");
        assert_eq!(iso(parse_datetime("2015-12-31 23:59:59 +01:00")), "2015-12-31T22:59:59.0000000Z");
        // More than seven fractional digits: the extra digits are truncated.
        assert_eq!(iso(parse_datetime("2024-12-26T15:02:18.775485968Z")), "2024-12-26T15:02:18.7754859Z");
        // Slashes.
        assert_eq!(iso(parse_datetime("2021/03/18 10:31:26")), "2021-03-18T10:31:26.0000000Z");
    }

    #[test]
    fn parse_rfc_variants() {
        assert_eq!(iso(parse_datetime("Sat, 08 Nov 2014 15:05:02 GMT")), "2014-11-08T15:05:02.0000000Z");
        assert_eq!(iso(parse_datetime("sat, 8 nov 14 15:05:02 utc")), "2014-11-08T15:05:02.0000000Z");
        assert_eq!(iso(parse_datetime("Sat, 8 November 2014 15:05:02 +0100")), "2014-11-08T14:05:02.0000000Z");
        assert_eq!(iso(parse_datetime("Sat, 8 Nov 14 15:05:02 EST")), "2014-11-08T20:05:02.0000000Z");
        assert_eq!(iso(parse_datetime("Sat, 8 Nov 14 15:05:02 PDT")), "2014-11-08T22:05:02.0000000Z");
        assert_eq!(iso(parse_datetime("8 Nov 14")), "2014-11-08T00:00:00.0000000Z");
        // Two-digit years: 00..=49 → 20xx, 50..=99 → 19xx.
        assert_eq!(iso(parse_datetime("1 Jan 49 00:00")), "2049-01-01T00:00:00.0000000Z");
        assert_eq!(iso(parse_datetime("1 Jan 50 00:00")), "1950-01-01T00:00:00.0000000Z");
        assert_eq!(parse_datetime("Xyz, 8 Nov 14 15:05:02"), None);
        assert_eq!(parse_datetime("8 Foo 14 15:05:02"), None);
        assert_eq!(parse_datetime("8 Nov 14 15:05:02 XYZ"), None);
        assert_eq!(parse_datetime("8 Nov 145 15:05:02"), None);
    }

    #[test]
    fn parse_us_portal_format() {
        assert_eq!(iso(parse_datetime("2/25/2025, 9:19:25.391 AM")), "2025-02-25T09:19:25.3910000Z");
        assert_eq!(iso(parse_datetime("2/25/2025 9:19:25 AM")), "2025-02-25T09:19:25.0000000Z");
        assert_eq!(iso(parse_datetime("2/25/2025 9:19:25 PM")), "2025-02-25T21:19:25.0000000Z");
        assert_eq!(iso(parse_datetime("2/25/2025 12:00:00 AM")), "2025-02-25T00:00:00.0000000Z");
        assert_eq!(iso(parse_datetime("2/25/2025 12:30 PM")), "2025-02-25T12:30:00.0000000Z");
        assert_eq!(iso(parse_datetime("2/25/2025 13:30")), "2025-02-25T13:30:00.0000000Z");
        assert_eq!(iso(parse_datetime("12/31/2025")), "2025-12-31T00:00:00.0000000Z");
        assert_eq!(iso(parse_datetime("2/25/2025 9:19:25pm")), "2025-02-25T21:19:25.0000000Z");
        assert_eq!(parse_datetime("2/25/2025 13:19:25 PM"), None);
        assert_eq!(parse_datetime("13/25/2025"), None);
        assert_eq!(parse_datetime("2/30/2025"), None);
        assert_eq!(parse_datetime("2/25/2025,"), None);
    }

    #[test]
    fn parse_range_edges() {
        assert_eq!(parse_datetime("0001-01-01"), Some(MIN_DATETIME));
        assert_eq!(parse_datetime("9999-12-31T23:59:59.9999999Z"), Some(MAX_DATETIME));
        // Windows FILETIME epoch.
        assert_eq!(parse_datetime("1601-01-01"), Some(-116_444_736_000_000_000));
        assert_eq!(iso(parse_datetime("1601-01-01T00:00:00Z")), "1601-01-01T00:00:00.0000000Z");
        assert_eq!(parse_datetime("1969-12-31T23:59:59.9999999"), Some(-1));
        // Offsets that leave the valid range.
        assert_eq!(parse_datetime("0001-01-01T00:30:00+01:00"), None);
        assert_eq!(parse_datetime("9999-12-31T23:30:00-01:00"), None);
        assert_eq!(parse_datetime("0000-12-31"), None);
    }

    #[test]
    fn parse_leap_days() {
        assert_eq!(iso(parse_datetime("2024-02-29")), "2024-02-29T00:00:00.0000000Z");
        assert_eq!(iso(parse_datetime("2000-02-29")), "2000-02-29T00:00:00.0000000Z");
        assert_eq!(parse_datetime("2023-02-29"), None);
        assert_eq!(parse_datetime("1900-02-29"), None);
    }

    #[test]
    fn parse_rejects_invalid() {
        for s in [
            "",
            "   ",
            "null",
            "hello",
            "20151231",
            "2015-13-01",
            "2015-00-10",
            "2015-12-32",
            "2015-12-31T24:00:00",
            "2015-12-31T23:60:00",
            "2015-12-31T23:59:60",
            "2015-12-31T23",
            "2015-12-31T23:59:59.",
            "2015-12-31T23:59:59Zjunk",
            "2015-12-31T23:59:59+15:00",
            "2015-12-31X23:59:59",
            "2015-12/31",
            "15-12-31",
            "2015-12-31 23:59:59 AM",
            "2015-12-31 00:00:00 PMX",
            "２０１５-12-31",
        ] {
            assert_eq!(parse_datetime(s), None, "{s:?}");
        }
    }

    // --- parse_timespan ---------------------------------------------------------------------

    /// scalar-data-types/timespan.md, "timespan literals" table.
    #[test]
    fn parse_timespan_literal_table() {
        assert_eq!(ts("2d"), 2 * TICKS_PER_DAY);
        assert_eq!(ts("1.5h"), 3 * TICKS_PER_HOUR / 2);
        assert_eq!(ts("30m"), 30 * TICKS_PER_MINUTE);
        assert_eq!(ts("10s"), 10 * TICKS_PER_SECOND);
        assert_eq!(ts("0.1s"), TICKS_PER_SECOND / 10);
        assert_eq!(ts("100ms"), 100 * TICKS_PER_MILLISECOND);
        assert_eq!(ts("10microsecond"), 10 * TICKS_PER_MICROSECOND);
        assert_eq!(ts("1tick"), 1);
        assert_eq!(ts("15 seconds"), 15 * TICKS_PER_SECOND);
        assert_eq!(ts("2"), 2 * TICKS_PER_DAY);
        assert_eq!(ts("0.12:34:56.7"), 12 * TICKS_PER_HOUR + 34 * TICKS_PER_MINUTE + 567 * TICKS_PER_SECOND / 10);
    }

    /// totimespan-function.md: totimespan("0.00:01:00") == time(1min).
    #[test]
    fn parse_timespan_totimespan_example() {
        assert_eq!(ts("0.00:01:00"), ts("1min"));
        assert_eq!(ts("1min"), TICKS_PER_MINUTE);
    }

    #[test]
    fn parse_timespan_clock_forms() {
        assert_eq!(ts("1.02:03:04.5"), TICKS_PER_DAY + 2 * TICKS_PER_HOUR + 3 * TICKS_PER_MINUTE + 45_000_000);
        assert_eq!(ts("02:03:04"), 2 * TICKS_PER_HOUR + 3 * TICKS_PER_MINUTE + 4 * TICKS_PER_SECOND);
        assert_eq!(ts("00:01"), TICKS_PER_MINUTE);
        assert_eq!(ts("-1.00:00:00"), -TICKS_PER_DAY);
        assert_eq!(ts("-00:00:01.5"), -15_000_000);
        assert_eq!(ts("1:02:03:04"), ts("1.02:03:04"));
        assert_eq!(ts("1.02:03"), TICKS_PER_DAY + 2 * TICKS_PER_HOUR + 3 * TICKS_PER_MINUTE);
        assert_eq!(ts("00:00:00.0000001"), 1);
        assert_eq!(ts(" 10675199.02:48:05.4775807 "), i64::MAX);
        for bad in ["24:00:00", "00:60:00", "00:00:60", "1.2.3:00", "00:00:00.12345678", "00:00.5", "1:2:3:4:5", ":"] {
            assert_eq!(parse_timespan(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parse_timespan_units() {
        assert_eq!(ts("1d"), TICKS_PER_DAY);
        assert_eq!(ts("2h"), 2 * TICKS_PER_HOUR);
        assert_eq!(ts("10ms"), 10 * TICKS_PER_MILLISECOND);
        assert_eq!(ts("3hr"), 3 * TICKS_PER_HOUR);
        assert_eq!(ts("3hrs"), 3 * TICKS_PER_HOUR);
        assert_eq!(ts("1day"), TICKS_PER_DAY);
        assert_eq!(ts("1days"), TICKS_PER_DAY);
        assert_eq!(ts("1hour"), TICKS_PER_HOUR);
        assert_eq!(ts("1minute"), TICKS_PER_MINUTE);
        assert_eq!(ts("1minutes"), TICKS_PER_MINUTE);
        assert_eq!(ts("1sec"), TICKS_PER_SECOND);
        assert_eq!(ts("1second"), TICKS_PER_SECOND);
        assert_eq!(ts("1milli"), TICKS_PER_MILLISECOND);
        assert_eq!(ts("1millis"), TICKS_PER_MILLISECOND);
        assert_eq!(ts("1millisec"), TICKS_PER_MILLISECOND);
        assert_eq!(ts("1milliseconds"), TICKS_PER_MILLISECOND);
        assert_eq!(ts("1micro"), TICKS_PER_MICROSECOND);
        assert_eq!(ts("1microseconds"), TICKS_PER_MICROSECOND);
        assert_eq!(ts("300nanos"), 3);
        assert_eq!(ts("350nanoseconds"), 3);
        assert_eq!(ts("5ticks"), 5);
        assert_eq!(ts("-1d"), -TICKS_PER_DAY);
        assert_eq!(ts("1H"), TICKS_PER_HOUR);
        assert_eq!(ts("0.5d"), 12 * TICKS_PER_HOUR);
        for bad in ["", "-", "d", "1x", "1.d", ".5d", "1 d h", "--1d", "1e3s", "1.5.5h", "100000000000000000000000d"] {
            assert_eq!(parse_timespan(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timespan_print_parse_roundtrip() {
        for t in [0, 1, -1, TICKS_PER_DAY * 400 + 12_345, -TICKS_PER_HOUR * 5 - 7, i64::MAX, i64::MIN + 1] {
            assert_eq!(parse_timespan(&format_timespan(t)), Some(t), "{t}");
        }
    }

    // --- format_datetime --------------------------------------------------------------------

    fn fd(s: &str, pattern: &str) -> String {
        format_datetime(dt(s), pattern).unwrap_or_else(|| panic!("pattern {pattern:?} rejected"))
    }

    /// format-datetime-function.md, "Supported format elements" table.
    #[test]
    fn format_datetime_element_table() {
        assert_eq!(fd("2009-06-01T13:45:30", "d"), "1");
        assert_eq!(fd("2009-06-15T13:45:30", "d"), "15");
        assert_eq!(fd("2009-06-01T13:45:30", "dd"), "01");
        assert_eq!(fd("2009-06-15T13:45:30", "dd"), "15");
        assert_eq!(fd("2009-06-15T13:45:30.6170000", "f"), "6");
        assert_eq!(fd("2009-06-15T13:45:30.05", "f"), "0");
        assert_eq!(fd("2009-06-15T13:45:30.6170000", "ff"), "61");
        assert_eq!(fd("2009-06-15T13:45:30.0050000", "ff"), "00");
        assert_eq!(fd("2009-06-15 13:45:30.617", "fff"), "617");
        assert_eq!(fd("2009-06-15 13:45:30.0005", "fff"), "000");
        assert_eq!(fd("2009-06-15T13:45:30.6175000", "ffff"), "6175");
        assert_eq!(fd("2009-06-15T13:45:30.0000500", "ffff"), "0000");
        assert_eq!(fd("2009-06-15T13:45:30.6175400", "fffff"), "61754");
        assert_eq!(fd("2009-06-15T13:45:30.000005", "fffff"), "00000");
        assert_eq!(fd("2009-06-15T13:45:30.6175420", "ffffff"), "617542");
        assert_eq!(fd("2009-06-15T13:45:30.0000005", "ffffff"), "000000");
        assert_eq!(fd("2009-06-15T13:45:30.6175425", "fffffff"), "6175425");
        assert_eq!(fd("2009-06-15T13:45:30.0001150", "fffffff"), "0001150");
        assert_eq!(fd("2009-06-15T13:45:30.6170000", "F"), "6");
        assert_eq!(fd("2009-06-15T13:45:30.0500000", "F"), "");
        assert_eq!(fd("2009-06-15T13:45:30.6170000", "FF"), "61");
        assert_eq!(fd("2009-06-15T13:45:30.0050000", "FF"), "");
        assert_eq!(fd("2009-06-15T13:45:30.6170000", "FFF"), "617");
        assert_eq!(fd("2009-06-15T13:45:30.0005000", "FFF"), "");
        assert_eq!(fd("2009-06-15T13:45:30.5275000", "FFFF"), "5275");
        assert_eq!(fd("2009-06-15T13:45:30.0000500", "FFFF"), "");
        assert_eq!(fd("2009-06-15T13:45:30.6175400", "FFFFF"), "61754");
        assert_eq!(fd("2009-06-15T13:45:30.0000050", "FFFFF"), "");
        assert_eq!(fd("2009-06-15T13:45:30.6175420", "FFFFFF"), "617542");
        assert_eq!(fd("2009-06-15T13:45:30.0000005", "FFFFFF"), "");
        assert_eq!(fd("2009-06-15T13:45:30.6175425", "FFFFFFF"), "6175425");
        assert_eq!(fd("2009-06-15T13:45:30.0001150", "FFFFFFF"), "000115");
        assert_eq!(fd("2009-06-15T01:45:30", "h"), "1");
        assert_eq!(fd("2009-06-15T13:45:30", "h"), "1");
        assert_eq!(fd("2009-06-15T01:45:30", "hh"), "01");
        assert_eq!(fd("2009-06-15T13:45:30", "hh"), "01");
        assert_eq!(fd("2009-06-15T01:45:30", "H"), "1");
        assert_eq!(fd("2009-06-15T13:45:30", "H"), "13");
        assert_eq!(fd("2009-06-15T01:45:30", "HH"), "01");
        assert_eq!(fd("2009-06-15T13:45:30", "HH"), "13");
        assert_eq!(fd("2009-06-15T01:09:30", "m"), "9");
        assert_eq!(fd("2009-06-15T13:29:30", "m"), "29");
        assert_eq!(fd("2009-06-15T01:09:30", "mm"), "09");
        assert_eq!(fd("2009-06-15T01:45:30", "mm"), "45");
        assert_eq!(fd("2009-06-15T13:45:30", "M"), "6");
        assert_eq!(fd("2009-06-15T13:45:30", "MM"), "06");
        assert_eq!(fd("2009-06-15T13:45:09", "s"), "9");
        assert_eq!(fd("2009-06-15T13:45:09", "ss"), "09");
        assert_eq!(fd("0001-01-01T00:00:00", "y"), "1");
        assert_eq!(fd("0900-01-01T00:00:00", "y"), "0");
        assert_eq!(fd("1900-01-01T00:00:00", "y"), "0");
        assert_eq!(fd("2009-06-15T13:45:30", "y"), "9");
        assert_eq!(fd("2019-06-15T13:45:30", "y"), "19");
        assert_eq!(fd("0001-01-01T00:00:00", "yy"), "01");
        assert_eq!(fd("0900-01-01T00:00:00", "yy"), "00");
        assert_eq!(fd("1900-01-01T00:00:00", "yy"), "00");
        assert_eq!(fd("2019-06-15T13:45:30", "yy"), "19");
        assert_eq!(fd("0001-01-01T00:00:00", "yyyy"), "0001");
        assert_eq!(fd("0900-01-01T00:00:00", "yyyy"), "0900");
        assert_eq!(fd("1900-01-01T00:00:00", "yyyy"), "1900");
        assert_eq!(fd("2009-06-15T13:45:30", "yyyy"), "2009");
        assert_eq!(fd("2009-06-15T13:45:09", "tt"), "PM");
    }

    /// format-datetime-function.md, "Examples".
    #[test]
    fn format_datetime_examples() {
        let t = "2017-01-29 09:00:05";
        assert_eq!(fd(t, "yy-MM-dd [HH:mm:ss]"), "17-01-29 [09:00:05]");
        assert_eq!(fd(t, "yyyy-M-dd [H:mm:ss]"), "2017-1-29 [9:00:05]");
        assert_eq!(fd(t, "yy-MM-dd [hh:mm:ss tt]"), "17-01-29 [09:00:05 AM]");
    }

    #[test]
    fn format_datetime_edges() {
        assert_eq!(fd("2009-06-15T00:05:00", "h tt"), "12 AM");
        assert_eq!(fd("2009-06-15T12:05:00", "hh tt"), "12 PM");
        assert_eq!(fd("2009-06-15T13:45:30.0500000", "ss.FFF"), "30.05");
        // Like .NET, a '.' directly before an empty F… is dropped.
        assert_eq!(fd("2009-06-15T13:45:30", "HH:mm:ss.FFFFFFF"), "13:45:30");
        assert_eq!(fd("2009-06-15T13:45:30", "yyyy_MM_dd,HH/mm"), "2009_06_15,13/45");
        assert_eq!(fd("2009-06-15T13:45:30", ""), "");
        assert_eq!(
            format_datetime(MAX_DATETIME, "yyyy-MM-dd HH:mm:ss.fffffff"),
            Some("9999-12-31 23:59:59.9999999".into())
        );
        assert_eq!(format_datetime(dt("1601-01-01"), "yyyy-MM-dd"), Some("1601-01-01".into()));
        for bad in [
            "MMM",
            "ddd",
            "yyy",
            "yyyyy",
            "fffffffff",
            "FFFFFFFF",
            "t",
            "hhh",
            "HHH",
            "T",
            "yyyy-MM-ddTHH",
            "'x'",
            "Z",
            "%d",
        ] {
            assert_eq!(format_datetime(0, bad), None, "{bad:?}");
        }
    }

    // --- format_timespan --------------------------------------------------------------------

    fn ft(s: &str, pattern: &str) -> String {
        format_timespan_pattern(ts(s), pattern).unwrap_or_else(|| panic!("pattern {pattern:?} rejected"))
    }

    /// format-timespan-function.md, "Supported format elements" table.
    #[test]
    fn format_timespan_element_table() {
        assert_eq!(ft("15.13:45:30", "d"), "15");
        assert_eq!(ft("15.13:45:30", "dd"), "15");
        assert_eq!(ft("15.13:45:30", "ddd"), "015");
        assert_eq!(ft("15.13:45:30.6170000", "f"), "6");
        assert_eq!(ft("15.13:45:30.05", "f"), "0");
        assert_eq!(ft("15.13:45:30.6170000", "ff"), "61");
        assert_eq!(ft("15.13:45:30.0050000", "ff"), "00");
        assert_eq!(ft("15.13:45:30.617", "fff"), "617");
        assert_eq!(ft("15.13:45:30.0005", "fff"), "000");
        assert_eq!(ft("15.13:45:30.6175000", "ffff"), "6175");
        assert_eq!(ft("15.13:45:30.0000500", "ffff"), "0000");
        assert_eq!(ft("15.13:45:30.6175400", "fffff"), "61754");
        assert_eq!(ft("15.13:45:30.000005", "fffff"), "00000");
        assert_eq!(ft("15.13:45:30.6175420", "ffffff"), "617542");
        assert_eq!(ft("15.13:45:30.0000005", "ffffff"), "000000");
        assert_eq!(ft("15.13:45:30.6175425", "fffffff"), "6175425");
        assert_eq!(ft("15.13:45:30.0001150", "fffffff"), "0001150");
        assert_eq!(ft("15.13:45:30.6170000", "F"), "6");
        assert_eq!(ft("15.13:45:30.0500000", "F"), "");
        assert_eq!(ft("15.13:45:30.6170000", "FF"), "61");
        assert_eq!(ft("15.13:45:30.0050000", "FF"), "");
        assert_eq!(ft("15.13:45:30.6170000", "FFF"), "617");
        assert_eq!(ft("15.13:45:30.0005000", "FFF"), "");
        assert_eq!(ft("15.13:45:30.5275000", "FFFF"), "5275");
        assert_eq!(ft("15.13:45:30.0000500", "FFFF"), "");
        assert_eq!(ft("15.13:45:30.6175400", "FFFFF"), "61754");
        assert_eq!(ft("15.13:45:30.0000050", "FFFFF"), "");
        assert_eq!(ft("15.13:45:30.6175420", "FFFFFF"), "617542");
        assert_eq!(ft("15.13:45:30.0000005", "FFFFFF"), "");
        assert_eq!(ft("15.13:45:30.6175425", "FFFFFFF"), "6175425");
        assert_eq!(ft("15.13:45:30.0001150", "FFFFFFF"), "000115");
        assert_eq!(ft("15.01:45:30", "H"), "1");
        assert_eq!(ft("15.13:45:30", "H"), "13");
        assert_eq!(ft("15.01:45:30", "HH"), "01");
        assert_eq!(ft("15.13:45:30", "HH"), "13");
        assert_eq!(ft("15.01:09:30", "m"), "9");
        assert_eq!(ft("15.13:29:30", "m"), "29");
        assert_eq!(ft("15.01:09:30", "mm"), "09");
        assert_eq!(ft("15.01:45:30", "mm"), "45");
        assert_eq!(ft("15.13:45:09", "s"), "9");
        assert_eq!(ft("15.13:45:09", "ss"), "09");
    }

    /// format-timespan-function.md, "Examples".
    #[test]
    fn format_timespan_examples() {
        let t = "29.09:00:05.12345";
        assert_eq!(ft(t, "dd.hh:mm:ss:FF"), "29.09:00:05:12");
        assert_eq!(ft(t, "ddd.h:mm:ss [fffffff]"), "029.9:00:05 [1234500]");
    }

    #[test]
    fn format_timespan_edges() {
        assert_eq!(ft("1.00:00:00", "dddddddd"), "00000001");
        assert_eq!(ft("123.00:00:00", "d"), "123");
        assert_eq!(ft("00:00:30", "ss.FFF"), "30.");
        assert_eq!(ft("-1.02:03:04", "d.hh:mm:ss"), "-1.02:03:04");
        for bad in ["ddddddddd", "M", "y", "tt", "hhh", "T"] {
            assert_eq!(format_timespan_pattern(0, bad), None, "{bad:?}");
        }
    }

    // --- startof… / endof… ------------------------------------------------------------------

    fn offsets(f: fn(i64, i64) -> Option<i64>) -> Vec<String> {
        let t = dt("2017-01-01 10:10:17");
        (-1..=1).map(|o| iso(f(t, o))).collect()
    }

    /// startofday-function.md example.
    #[test]
    fn start_of_day_example() {
        assert_eq!(
            offsets(start_of_day),
            ["2016-12-31T00:00:00.0000000Z", "2017-01-01T00:00:00.0000000Z", "2017-01-02T00:00:00.0000000Z"]
        );
    }

    /// endofday-function.md example.
    #[test]
    fn end_of_day_example() {
        assert_eq!(
            offsets(end_of_day),
            ["2016-12-31T23:59:59.9999999Z", "2017-01-01T23:59:59.9999999Z", "2017-01-02T23:59:59.9999999Z"]
        );
    }

    /// startofweek-function.md example.
    #[test]
    fn start_of_week_example() {
        assert_eq!(
            offsets(start_of_week),
            ["2016-12-25T00:00:00.0000000Z", "2017-01-01T00:00:00.0000000Z", "2017-01-08T00:00:00.0000000Z"]
        );
    }

    /// startofweek-function.md, "start of the week from Monday" example:
    /// `datetime_add('day', 1, startofweek(datetime_add('day', -1, d)))`.
    #[test]
    fn start_of_week_from_monday_example() {
        let monday_week = |s: &str| {
            let shifted = datetime_add("day", -1, dt(s)).unwrap();
            iso(datetime_add("day", 1, start_of_week(shifted, 0).unwrap()))
        };
        assert_eq!(monday_week("2025-06-14"), "2025-06-09T00:00:00.0000000Z");
        assert_eq!(monday_week("2025-06-15"), "2025-06-09T00:00:00.0000000Z");
        assert_eq!(monday_week("2025-06-16"), "2025-06-16T00:00:00.0000000Z");
        assert_eq!(monday_week("2025-06-17"), "2025-06-16T00:00:00.0000000Z");
    }

    /// endofweek-function.md example.
    #[test]
    fn end_of_week_example() {
        assert_eq!(
            offsets(end_of_week),
            ["2016-12-31T23:59:59.9999999Z", "2017-01-07T23:59:59.9999999Z", "2017-01-14T23:59:59.9999999Z"]
        );
    }

    /// startofmonth-function.md example.
    #[test]
    fn start_of_month_example() {
        assert_eq!(
            offsets(start_of_month),
            ["2016-12-01T00:00:00.0000000Z", "2017-01-01T00:00:00.0000000Z", "2017-02-01T00:00:00.0000000Z"]
        );
    }

    /// endofmonth-function.md example.
    #[test]
    fn end_of_month_example() {
        assert_eq!(
            offsets(end_of_month),
            ["2016-12-31T23:59:59.9999999Z", "2017-01-31T23:59:59.9999999Z", "2017-02-28T23:59:59.9999999Z"]
        );
    }

    /// startofyear-function.md example.
    #[test]
    fn start_of_year_example() {
        assert_eq!(
            offsets(start_of_year),
            ["2016-01-01T00:00:00.0000000Z", "2017-01-01T00:00:00.0000000Z", "2018-01-01T00:00:00.0000000Z"]
        );
    }

    /// endofyear-function.md example.
    #[test]
    fn end_of_year_example() {
        assert_eq!(
            offsets(end_of_year),
            ["2016-12-31T23:59:59.9999999Z", "2017-12-31T23:59:59.9999999Z", "2018-12-31T23:59:59.9999999Z"]
        );
    }

    #[test]
    fn start_end_edges() {
        // Leap February.
        assert_eq!(iso(end_of_month(dt("2024-02-10"), 0)), "2024-02-29T23:59:59.9999999Z");
        assert_eq!(iso(end_of_month(dt("2023-01-31"), 1)), "2023-02-28T23:59:59.9999999Z");
        assert_eq!(iso(start_of_month(dt("2024-03-31T12:00"), -13)), "2023-02-01T00:00:00.0000000Z");
        // Range ends.
        assert_eq!(end_of_year(dt("9999-06-01"), 0), Some(MAX_DATETIME));
        assert_eq!(end_of_month(dt("9999-12-01"), 0), Some(MAX_DATETIME));
        assert_eq!(end_of_day(MAX_DATETIME, 0), Some(MAX_DATETIME));
        assert_eq!(end_of_day(MAX_DATETIME, 1), None);
        assert_eq!(start_of_year(dt("9999-06-01"), 1), None);
        assert_eq!(start_of_year(dt("0001-06-01"), 0), Some(MIN_DATETIME));
        assert_eq!(start_of_year(dt("0001-06-01"), -1), None);
        assert_eq!(end_of_year(dt("0001-06-01"), -1), None);
        assert_eq!(start_of_day(MIN_DATETIME, 0), Some(MIN_DATETIME));
        assert_eq!(start_of_day(MIN_DATETIME, -1), None);
        // 0001-01-01 was a Monday: its week starts on Sunday 0000-12-31, outside the range.
        assert_eq!(start_of_week(MIN_DATETIME, 0), None);
        assert_eq!(iso(start_of_week(MIN_DATETIME, 1)), "0001-01-07T00:00:00.0000000Z");
        assert_eq!(iso(end_of_week(MIN_DATETIME, 0)), "0001-01-06T23:59:59.9999999Z");
        // 9999-12-31 is a Friday: its week ends on 10000-01-01.
        assert_eq!(end_of_week(MAX_DATETIME, 0), None);
        assert_eq!(start_of_month(0, i64::MAX), None);
        assert_eq!(start_of_day(0, i64::MIN), None);
        assert_eq!(end_of_year(0, i64::MAX), None);
        // Negative ticks (before 1970).
        assert_eq!(iso(start_of_day(-1, 0)), "1969-12-31T00:00:00.0000000Z");
        assert_eq!(iso(start_of_week(-1, 0)), "1969-12-28T00:00:00.0000000Z");
        assert_eq!(iso(start_of_month(-1, 0)), "1969-12-01T00:00:00.0000000Z");
        assert_eq!(iso(end_of_year(-1, 0)), "1969-12-31T23:59:59.9999999Z");
        assert_eq!(iso(start_of_week(dt("1601-01-01"), 0)), "1600-12-31T00:00:00.0000000Z");
    }

    // --- parts ------------------------------------------------------------------------------

    /// datetime-part-function.md example.
    #[test]
    fn datetime_part_example() {
        let t = dt("2017-10-30 01:02:03.7654321");
        let expected = [
            ("year", 2017),
            ("quarter", 4),
            ("month", 10),
            ("week_of_year", 44),
            ("day", 30),
            ("dayOfYear", 303),
            ("hour", 1),
            ("minute", 2),
            ("second", 3),
            ("millisecond", 765),
            ("microsecond", 765_432),
            ("nanosecond", 765_432_100),
        ];
        for (part, value) in expected {
            assert_eq!(datetime_part(part, t), Some(value), "{part}");
        }
        assert_eq!(datetime_part("WeekOfYear", t), Some(44));
        assert_eq!(datetime_part("YEAR", t), Some(2017));
        assert_eq!(datetime_part("DayOfYear", t), Some(303));
        assert_eq!(datetime_part("fortnight", t), None);
        assert_eq!(datetime_part("Quarter", dt("2017-01-01")), Some(1));
        assert_eq!(datetime_part("Quarter", dt("2017-06-30")), Some(2));
        assert_eq!(datetime_part("Quarter", dt("2017-07-01")), Some(3));
    }

    /// week-of-year-function.md examples.
    #[test]
    fn week_of_year_examples() {
        assert_eq!(week_of_year(dt("2020-12-31")), 53);
        assert_eq!(week_of_year(dt("2020-06-15")), 25);
        assert_eq!(week_of_year(dt("1970-01-01")), 1);
        assert_eq!(week_of_year(dt("2000-01-01")), 52);
    }

    #[test]
    fn week_of_year_iso_edges() {
        assert_eq!(week_of_year(dt("2008-12-29")), 1); // Monday of 2009-W01
        assert_eq!(week_of_year(dt("2010-01-03")), 53); // Sunday of 2009-W53
        assert_eq!(week_of_year(dt("2021-01-03")), 53);
        assert_eq!(week_of_year(dt("2021-01-04")), 1);
        assert_eq!(week_of_year(dt("2024-12-30")), 1);
        assert_eq!(week_of_year(dt("2026-12-31")), 53);
        assert_eq!(week_of_year(MIN_DATETIME), 1);
        assert_eq!(week_of_year(MAX_DATETIME), 52);
    }

    /// day-of-week-function.md examples.
    #[test]
    fn day_of_week_examples() {
        assert_eq!(day_of_week(dt("1947-11-30 10:00:05")), 0);
        assert_eq!(day_of_week(dt("1970-05-11")), TICKS_PER_DAY);
        assert_eq!(day_of_week(dt("1970-5-12")), 2 * TICKS_PER_DAY);
        assert_eq!(day_of_week(dt("1970-01-01")), 4 * TICKS_PER_DAY); // Thursday
        assert_eq!(day_of_week(-1), 3 * TICKS_PER_DAY); // Wednesday 1969-12-31
        assert_eq!(day_of_week(dt("2025-06-14 23:59:59")), 6 * TICKS_PER_DAY);
    }

    /// day-of-month-function.md, day-of-year-function.md, monthofyear-function.md,
    /// getyear-function.md and hour-of-day-function.md examples.
    #[test]
    fn simple_part_examples() {
        assert_eq!(day_of_month(dt("2015-12-14")), 14);
        assert_eq!(day_of_year(dt("2015-12-14")), 348);
        assert_eq!(month_of_year(dt("2015-12-14")), 12);
        assert_eq!(get_year(dt("2015-10-12")), 2015);
        assert_eq!(hour_of_day(dt("2015-12-14 18:54")), 18);
        assert_eq!(minute_of_hour(dt("2015-12-14 18:54:07")), 54);
        assert_eq!(second_of_minute(dt("2015-12-14 18:54:07")), 7);
        assert_eq!(day_of_year(dt("2016-12-31")), 366);
        assert_eq!(day_of_year(dt("2015-12-31")), 365);
        assert_eq!(day_of_year(MIN_DATETIME), 1);
        assert_eq!(get_year(MAX_DATETIME), 9999);
        assert_eq!(hour_of_day(-1), 23);
    }

    // --- datetime_diff / datetime_add -------------------------------------------------------

    /// datetime-diff-function.md example.
    #[test]
    fn datetime_diff_example() {
        let d = |part: &str, a: &str, b: &str| datetime_diff(part, dt(a), dt(b));
        assert_eq!(d("year", "2017-01-01", "2000-12-31"), Some(17));
        assert_eq!(d("quarter", "2017-07-01", "2017-03-30"), Some(2));
        assert_eq!(d("month", "2017-01-01", "2015-12-30"), Some(13));
        assert_eq!(d("week", "2017-10-29 00:00", "2017-09-30 23:59"), Some(5));
        assert_eq!(d("day", "2017-10-29 00:00", "2017-09-30 23:59"), Some(29));
        assert_eq!(d("hour", "2017-10-31 01:00", "2017-10-30 23:59"), Some(2));
        assert_eq!(d("minute", "2017-10-30 23:05:01", "2017-10-30 23:00:59"), Some(5));
        assert_eq!(d("second", "2017-10-30 23:00:10.100", "2017-10-30 23:00:00.900"), Some(10));
        assert_eq!(d("millisecond", "2017-10-30 23:00:00.200100", "2017-10-30 23:00:00.100900"), Some(100));
        assert_eq!(d("microsecond", "2017-10-30 23:00:00.1009001", "2017-10-30 23:00:00.1008009"), Some(100));
        assert_eq!(d("nanosecond", "2017-10-30 23:00:00.0000000", "2017-10-30 23:00:00.0000007"), Some(-700));
    }

    #[test]
    fn datetime_diff_boundaries() {
        let d = |part: &str, a: &str, b: &str| datetime_diff(part, dt(a), dt(b));
        assert_eq!(d("year", "2017-01-01", "2016-12-31"), Some(1));
        assert_eq!(d("Year", "2016-12-31", "2017-01-01"), Some(-1));
        assert_eq!(d("YEAR", "2017-12-31", "2017-01-01"), Some(0));
        assert_eq!(d("quarter", "2017-01-01", "2016-12-31"), Some(1));
        assert_eq!(d("month", "2017-03-01", "2017-02-28 23:59:59.9999999"), Some(1));
        assert_eq!(d("week", "2017-10-29", "2017-10-28 23:59"), Some(1)); // Saturday → Sunday
        assert_eq!(d("week", "2017-10-28", "2017-10-22"), Some(0)); // Sunday..Saturday
        assert_eq!(d("day", "1970-01-01", "1969-12-31 23:59:59.9999999"), Some(1));
        assert_eq!(d("hour", "1969-12-31 23:00", "1969-12-31 22:59:59.9999999"), Some(1));
        assert_eq!(d("day", "0001-01-01", "9999-12-31"), Some(-3_652_058));
        assert_eq!(datetime_diff("nanosecond", MAX_DATETIME, MIN_DATETIME), None);
        assert_eq!(datetime_diff("fortnight", 0, 0), None);
    }

    /// datetime-add-function.md, "Period" example.
    #[test]
    fn datetime_add_period_example() {
        let base = make_datetime(2017, 1, 1, 0, 0, 0.0).unwrap();
        let add = |part: &str| iso(datetime_add(part, 1, base));
        assert_eq!(add("year"), "2018-01-01T00:00:00.0000000Z");
        assert_eq!(add("quarter"), "2017-04-01T00:00:00.0000000Z");
        assert_eq!(add("month"), "2017-02-01T00:00:00.0000000Z");
        assert_eq!(add("week"), "2017-01-08T00:00:00.0000000Z");
        assert_eq!(add("day"), "2017-01-02T00:00:00.0000000Z");
        assert_eq!(add("hour"), "2017-01-01T01:00:00.0000000Z");
        assert_eq!(add("minute"), "2017-01-01T00:01:00.0000000Z");
        assert_eq!(add("second"), "2017-01-01T00:00:01.0000000Z");
    }

    /// datetime-add-function.md, "Amount" example.
    #[test]
    fn datetime_add_amount_example() {
        let base = make_datetime(2017, 1, 1, 0, 0, 0.0).unwrap();
        assert_eq!(iso(datetime_add("year", -5, base)), "2012-01-01T00:00:00.0000000Z");
        assert_eq!(iso(datetime_add("quarter", 12, base)), "2020-01-01T00:00:00.0000000Z");
        assert_eq!(iso(datetime_add("month", -15, base)), "2015-10-01T00:00:00.0000000Z");
        assert_eq!(iso(datetime_add("week", 100, base)), "2018-12-02T00:00:00.0000000Z");
    }

    #[test]
    fn datetime_add_clamping_and_edges() {
        assert_eq!(iso(datetime_add("month", 1, dt("2017-01-31 10:00"))), "2017-02-28T10:00:00.0000000Z");
        assert_eq!(iso(datetime_add("month", 1, dt("2016-01-31"))), "2016-02-29T00:00:00.0000000Z");
        assert_eq!(iso(datetime_add("month", -1, dt("2016-03-31"))), "2016-02-29T00:00:00.0000000Z");
        assert_eq!(iso(datetime_add("year", 1, dt("2016-02-29"))), "2017-02-28T00:00:00.0000000Z");
        assert_eq!(iso(datetime_add("year", 4, dt("2016-02-29"))), "2020-02-29T00:00:00.0000000Z");
        assert_eq!(iso(datetime_add("quarter", 1, dt("2016-11-30"))), "2017-02-28T00:00:00.0000000Z");
        assert_eq!(iso(datetime_add("Millisecond", 1, 0)), "1970-01-01T00:00:00.0010000Z");
        assert_eq!(iso(datetime_add("microsecond", -1, 0)), "1969-12-31T23:59:59.9999990Z");
        assert_eq!(iso(datetime_add("nanosecond", 250, 0)), "1970-01-01T00:00:00.0000002Z");
        assert_eq!(datetime_add("year", 1, dt("9999-01-01")), None);
        assert_eq!(datetime_add("day", 1, MAX_DATETIME), None);
        assert_eq!(datetime_add("second", -1, MIN_DATETIME), None);
        assert_eq!(datetime_add("year", i64::MAX, 0), None);
        assert_eq!(datetime_add("week", i64::MIN, 0), None);
        assert_eq!(datetime_add("fortnight", 1, 0), None);
        assert_eq!(iso(datetime_add("year", -368, dt("1969-02-28"))), "1601-02-28T00:00:00.0000000Z");
    }

    // --- constructors and conversions -------------------------------------------------------

    /// make-datetime-function.md examples.
    #[test]
    fn make_datetime_examples() {
        assert_eq!(iso(make_datetime(2017, 10, 1, 0, 0, 0.0)), "2017-10-01T00:00:00.0000000Z");
        assert_eq!(iso(make_datetime(2017, 10, 1, 12, 10, 0.0)), "2017-10-01T12:10:00.0000000Z");
        assert_eq!(iso(make_datetime(2017, 10, 1, 12, 11, 0.1234567)), "2017-10-01T12:11:00.1234567Z");
        assert_eq!(make_datetime(2017, 10, 1, 12, 10, 0.0), parse_datetime("2017-10-01 12:10:00"));
    }

    #[test]
    fn make_datetime_edges() {
        assert_eq!(make_datetime(1, 1, 1, 0, 0, 0.0), Some(MIN_DATETIME));
        assert_eq!(make_datetime(9999, 12, 31, 23, 59, 59.9999999), Some(MAX_DATETIME));
        assert_eq!(make_datetime(2024, 2, 29, 0, 0, 0.0), parse_datetime("2024-02-29"));
        for (y, mo, d, h, mi, s) in [
            (0, 1, 1, 0, 0, 0.0),
            (10_000, 1, 1, 0, 0, 0.0),
            (2023, 2, 29, 0, 0, 0.0),
            (2023, 13, 1, 0, 0, 0.0),
            (2023, 0, 1, 0, 0, 0.0),
            (2023, 1, 0, 0, 0, 0.0),
            (2023, 1, 1, 24, 0, 0.0),
            (2023, 1, 1, -1, 0, 0.0),
            (2023, 1, 1, 0, 60, 0.0),
            (2023, 1, 1, 0, 0, 60.0),
            (2023, 1, 1, 0, 0, -0.5),
            (2023, 1, 1, 0, 0, f64::NAN),
        ] {
            assert_eq!(make_datetime(y, mo, d, h, mi, s), None, "{y}-{mo}-{d} {h}:{mi}:{s}");
        }
    }

    /// make-timespan-function.md example: make_timespan(1,12,30,55.123) = 1.12:30:55.1230000.
    #[test]
    fn make_timespan_example() {
        assert_eq!(make_timespan(1, 12, 30, 55.123), Some(ts("1.12:30:55.123")));
        assert_eq!(make_timespan(0, 1, 30, 0.0), Some(90 * TICKS_PER_MINUTE));
        assert_eq!(make_timespan(0, 24, 0, 0.0), None);
        assert_eq!(make_timespan(0, 0, 60, 0.0), None);
        assert_eq!(make_timespan(0, 0, 0, 60.0), None);
        assert_eq!(make_timespan(-1, 0, 0, 0.0), Some(-TICKS_PER_DAY));
        assert_eq!(make_timespan(i64::MAX, 0, 0, 0.0), None);
    }

    /// unixtime-{seconds,milliseconds,microseconds,nanoseconds}-todatetime-function.md examples:
    /// all give 2019-01-01 00:00:00.0000000.
    #[test]
    fn unixtime_examples() {
        let expected = "2019-01-01T00:00:00.0000000Z";
        assert_eq!(iso(from_unix_seconds(1546300800.0)), expected);
        assert_eq!(iso(from_unix_milliseconds(1546300800000.0)), expected);
        assert_eq!(iso(from_unix_microseconds(1546300800000000.0)), expected);
        assert_eq!(iso(from_unix_nanoseconds(1546300800000000000.0)), expected);
    }

    /// datetime-timespan-arithmetic.md: fromUnixTime(1546897531) = 2019-01-07 21:45:31 and
    /// toUnixTime of it = 1546897531.
    #[test]
    fn unixtime_arithmetic_example() {
        let t = from_unix_seconds(1546897531.0).unwrap();
        assert_eq!(format_datetime_iso(t), "2019-01-07T21:45:31.0000000Z");
        assert_eq!(to_unix_seconds(t), 1546897531.0);
        assert_eq!(to_unix_milliseconds(t), 1546897531000.0);
        assert_eq!(to_unix_microseconds(t), 1546897531000000.0);
        assert_eq!(to_unix_nanoseconds(t), 1546897531000000000.0);
    }

    #[test]
    fn unixtime_edges() {
        assert_eq!(iso(from_unix_seconds(1.1234567)), "1970-01-01T00:00:01.1234567Z");
        assert_eq!(iso(from_unix_seconds(-1.5)), "1969-12-31T23:59:58.5000000Z");
        assert_eq!(iso(from_unix_milliseconds(-1.0)), "1969-12-31T23:59:59.9990000Z");
        assert_eq!(from_unix_nanoseconds(150.0), Some(1));
        assert_eq!(from_unix_nanoseconds(-150.0), Some(-1));
        assert_eq!(iso(from_unix_seconds(-11_644_473_600.0)), "1601-01-01T00:00:00.0000000Z");
        assert_eq!(from_unix_seconds(-62_135_596_800.0), Some(MIN_DATETIME));
        assert_eq!(from_unix_seconds(-62_135_596_801.0), None);
        assert_eq!(from_unix_seconds(253_402_300_800.0), None);
        assert_eq!(from_unix_seconds(f64::NAN), None);
        assert_eq!(from_unix_seconds(f64::INFINITY), None);
        assert_eq!(from_unix_milliseconds(1e300), None);
        assert_eq!(from_unix_microseconds(-1e300), None);
        assert_eq!(from_unix_seconds(0.5e-7), Some(1));
    }

    // --- bin / bin_at -----------------------------------------------------------------------

    /// bin-function.md examples (timespan and datetime bins).
    #[test]
    fn bin_examples() {
        assert_eq!(bin_ticks(ts("16d"), ts("7d")), Some(ts("14d")));
        assert_eq!(iso(bin_ticks(dt("1970-05-11 13:45:07"), ts("1d"))), "1970-05-11T00:00:00.0000000Z");
        assert_eq!(iso(bin_ticks(dt("2007-04-08 17:30"), ts("1d"))), "2007-04-08T00:00:00.0000000Z");
    }

    #[test]
    fn bin_edges() {
        assert_eq!(bin_ticks(-1, TICKS_PER_DAY), Some(-TICKS_PER_DAY));
        assert_eq!(bin_ticks(-TICKS_PER_DAY, TICKS_PER_DAY), Some(-TICKS_PER_DAY));
        assert_eq!(iso(bin_ticks(dt("1601-01-01 13:00"), TICKS_PER_HOUR * 6)), "1601-01-01T12:00:00.0000000Z");
        assert_eq!(bin_ticks(5, 0), None);
        assert_eq!(bin_ticks(5, -1), None);
        assert_eq!(bin_ticks(i64::MIN, 3), None);
        assert_eq!(bin_ticks(i64::MAX, 1), Some(i64::MAX));
    }

    /// bin-at-function.md examples (timespan and datetime).
    #[test]
    fn bin_at_examples() {
        assert_eq!(bin_at_ticks(ts("1h"), ts("1d"), ts("12h")), Some(-ts("12h")));
        assert_eq!(
            iso(bin_at_ticks(dt("2017-05-15 10:20:00.0"), ts("1d"), dt("1970-01-01 12:00:00.0"))),
            "2017-05-14T12:00:00.0000000Z"
        );
        assert_eq!(
            iso(bin_at_ticks(dt("2017-05-17 10:20:00.0"), ts("7d"), dt("2017-06-04 00:00:00.0"))),
            "2017-05-14T00:00:00.0000000Z"
        );
        let fixed = dt("2018-02-24 15:14:00.0000000");
        let bins: Vec<String> =
            ["2018-02-24T15:14", "2018-02-24T15:24", "2018-02-23T16:14", "2018-02-23T17:29", "2018-02-26T15:14"]
                .iter()
                .map(|s| iso(bin_at_ticks(dt(s), ts("1d"), fixed)))
                .collect();
        assert_eq!(
            bins,
            [
                "2018-02-24T15:14:00.0000000Z",
                "2018-02-24T15:14:00.0000000Z",
                "2018-02-23T15:14:00.0000000Z",
                "2018-02-23T15:14:00.0000000Z",
                "2018-02-26T15:14:00.0000000Z",
            ]
        );
        assert_eq!(bin_at_ticks(1, 0, 0), None);
        assert_eq!(bin_at_ticks(i64::MIN, TICKS_PER_DAY, i64::MAX), None);
    }
}
