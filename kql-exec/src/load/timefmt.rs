//! Times as Log Analytics and the Azure portal export them into text files (CSV), read per file:
//!
//! - **Locale order.** The portal writes times in the exporting browser's locale:
//!   `7/28/2023, 8:07:14.552 PM` (en-US) or `21/04/2025, 09:45:54.000` (day-first locales), with
//!   or without milliseconds, 12- or 24-hour; `15-01-2025 12:00` also occurs. Every numeric date of
//!   a file has the same order, decided from the file's values: a first number above 12 means
//!   day-first, a second above 12 month-first; failing those, 12-hour times (`AM`/`PM`) mean the
//!   en-US format, month-first (the day-first locales the portal offers write 24-hour times). A
//!   file whose dates never tell (every day ≤ 12, 24-hour times) is read month-first, Kusto's own
//!   reading, and the load report says so; a file whose dates
//!   contradict each other is read value by value, and the report says that too.
//! - **`[Local Time]` headers.** `TimeGenerated [Local Time]` means the values are in the
//!   exporting browser's time zone, not UTC. With `--tz` (an offset such as `+02:00`) they are
//!   converted to UTC; without it they are read as UTC and the report warns once per file.
//! - **Spreadsheet serial numbers.** A sample saved again by a spreadsheet holds times as OLE
//!   Automation dates (`45804.23612`); in a datetime column they are read as such, and the report
//!   says how many.
//!
//! ISO 8601 values read the same in every file.

use super::json::Record;
use super::LoadReport;
use crate::value::datetime::{self as dt, DateOrder};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// How one file's times are read.
#[derive(Clone, Debug, Default)]
struct FileTimes {
    order: DateOrder,
    /// The order is contradicted by some values: read each value in the order it allows.
    mixed: bool,
    /// Columns whose header said `[Local Time]`.
    local: Vec<String>,
}

/// How the time columns of a set of records are read, per file.
#[derive(Default)]
pub struct TimeReading {
    files: HashMap<Arc<Path>, FileTimes>,
    /// The offset of `[Local Time]` values from UTC, in minutes (`--tz`).
    local_offset_minutes: Option<i64>,
    ole_dates: HashMap<(Arc<Path>, String), usize>,
}

impl TimeReading {
    /// Decide each file's date order from the values of the `datetime` columns `time_cols` (text
    /// records only), and note in `report` what a user must know (ambiguous or mixed orders,
    /// local times without `--tz`).
    pub fn new(
        records: &[Record],
        time_cols: &[&str],
        local_offset_minutes: Option<i64>,
        report: &mut LoadReport,
    ) -> TimeReading {
        // per file: (day-first evidence, month-first evidence, numeric dates seen, an example,
        // 12-hour times seen)
        let mut evidence: HashMap<Arc<Path>, (usize, usize, usize, String, usize)> = HashMap::new();
        for r in records.iter().filter(|r| r.text) {
            let Some(loc) = &r.loc else { continue };
            for c in time_cols {
                let Some(serde_json::Value::String(s)) = r.fields.get(*c) else { continue };
                let Some((a, b)) = dt::numeric_date_fields(s) else { continue };
                let e = evidence.entry(loc.file.clone()).or_default();
                e.2 += 1;
                if a > 12 && b <= 12 {
                    e.0 += 1;
                } else if b > 12 && a <= 12 {
                    e.1 += 1;
                }
                if e.3.is_empty() {
                    e.3 = s.clone();
                }
                let t = s.trim_end().to_ascii_uppercase();
                if t.ends_with("AM") || t.ends_with("PM") {
                    e.4 += 1;
                }
            }
        }
        let mut files: HashMap<Arc<Path>, FileTimes> = HashMap::new();
        for (file, (day_first, month_first, seen, example, twelve_hour)) in evidence {
            let name = file.display();
            let ft = files.entry(file.clone()).or_default();
            match (day_first > 0, month_first > 0) {
                (true, false) => ft.order = DateOrder::DayFirst,
                (false, true) => {}
                (true, true) => {
                    ft.mixed = true;
                    report.warn(format!(
                        "{name}: {day_first} date(s) can only be day-first and {month_first} only month-first; \
                         each was read in the order it allows, the {} ambiguous one(s) month-first",
                        seen - day_first - month_first
                    ));
                }
                (false, false) if twelve_hour > 0 => {}
                (false, false) => report.warn(format!(
                    "{name}: the order of day and month is ambiguous in all {seen} date(s) (e.g. `{example}`): \
                     read month-first (M/d/yyyy), as Kusto reads them"
                )),
            }
        }
        for (file, col) in report.local_time.clone() {
            files.entry(file.clone()).or_default().local.push(col.clone());
            if local_offset_minutes.is_none() {
                report.warn(format!(
                    "{}: `{col} [Local Time]` holds the exporting browser's local times; they were read as UTC \
                     (give their offset with --tz, e.g. --tz +02:00)",
                    file.display()
                ));
            }
        }
        TimeReading { files, local_offset_minutes, ole_dates: HashMap::new() }
    }

    /// The UTC time of a text value of column `col` of record `r`, or `None` when it is not a time.
    pub fn parse(&mut self, r: &Record, col: &str, s: &str) -> Option<i64> {
        let ft = r.loc.as_ref().and_then(|l| self.files.get(&l.file));
        let t = match ft {
            Some(ft) if ft.mixed => dt::parse_export_datetime(s, DateOrder::MonthFirst)
                .or_else(|| dt::parse_export_datetime(s, DateOrder::DayFirst)),
            Some(ft) => dt::parse_export_datetime(s, ft.order),
            None => dt::parse_datetime(s),
        };
        let t = match t {
            Some(t) => t,
            None => {
                let t = dt::from_ole_automation_date(s)?;
                if let Some(l) = &r.loc {
                    *self.ole_dates.entry((l.file.clone(), col.to_string())).or_default() += 1;
                }
                t
            }
        };
        match (ft, self.local_offset_minutes) {
            (Some(ft), Some(offset)) if ft.local.iter().any(|c| c == col) => {
                let t = i128::from(t) - i128::from(offset) * i128::from(dt::TICKS_PER_MINUTE);
                i64::try_from(t).ok().filter(|t| dt::is_valid_datetime(*t))
            }
            _ => Some(t),
        }
    }

    /// Note in `report` the spreadsheet serial numbers read as times.
    pub fn finish(self, report: &mut LoadReport) {
        let mut ole: Vec<_> = self.ole_dates.into_iter().collect();
        ole.sort();
        for ((file, col), n) in ole {
            report.warn(format!(
                "{}: column `{col}`: {n} value(s) are spreadsheet serial numbers (days since 1899-12-30), \
                 read as such",
                file.display()
            ));
        }
    }
}

/// Reads a `--tz` offset: `UTC`, `Z`, `+02:00`, `-0530`, `+2`.
pub fn parse_offset(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let t = t.strip_prefix("UTC").or_else(|| t.strip_prefix("utc")).unwrap_or(t);
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60 && !rest.is_empty()).then_some(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::json::Loc;
    use serde_json::{Map, Value};

    fn rec(file: &Arc<Path>, line: usize, col: &str, v: &str) -> Record {
        let mut m = Map::new();
        m.insert(col.to_string(), Value::String(v.to_string()));
        Record { fields: m, text: true, loc: Some(Loc { file: file.clone(), line }) }
    }

    fn iso(t: i64) -> String {
        dt::format_datetime_iso(t)
    }

    #[test]
    fn decides_the_order_per_file() {
        let gb: Arc<Path> = Arc::from(Path::new("gb.csv"));
        let us: Arc<Path> = Arc::from(Path::new("us.csv"));
        let records = vec![
            rec(&gb, 2, "T", "04/05/2025, 09:45:54.000"),
            rec(&gb, 3, "T", "21/04/2025, 09:45:54.000"),
            rec(&us, 2, "T", "04/05/2025, 9:45:54 AM"),
            rec(&us, 3, "T", "4/21/2025, 9:45:54 PM"),
        ];
        let mut report = LoadReport::default();
        let mut tr = TimeReading::new(&records, &["T"], None, &mut report);
        let got: Vec<String> =
            records.iter().map(|r| iso(tr.parse(r, "T", r.fields["T"].as_str().unwrap()).unwrap())).collect();
        assert_eq!(
            got,
            [
                "2025-05-04T09:45:54.0000000Z",
                "2025-04-21T09:45:54.0000000Z",
                "2025-04-05T09:45:54.0000000Z",
                "2025-04-21T21:45:54.0000000Z"
            ]
        );
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }

    #[test]
    fn twelve_hour_times_are_en_us() {
        let f: Arc<Path> = Arc::from(Path::new("a.csv"));
        let records = vec![rec(&f, 2, "T", "8/3/2023, 7:10:06.840 AM")];
        let mut report = LoadReport::default();
        let mut tr = TimeReading::new(&records, &["T"], None, &mut report);
        let t = tr.parse(&records[0], "T", "8/3/2023, 7:10:06.840 AM").unwrap();
        assert_eq!(iso(t), "2023-08-03T07:10:06.8400000Z");
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }

    #[test]
    fn ambiguous_and_mixed_files_are_reported() {
        let f: Arc<Path> = Arc::from(Path::new("a.csv"));
        let records = vec![rec(&f, 2, "T", "1/2/2025 10:00"), rec(&f, 3, "T", "3/4/2025 10:00")];
        let mut report = LoadReport::default();
        let mut tr = TimeReading::new(&records, &["T"], None, &mut report);
        assert_eq!(iso(tr.parse(&records[0], "T", "1/2/2025 10:00").unwrap()), "2025-01-02T10:00:00.0000000Z");
        assert!(report.warnings[0].contains("ambiguous in all 2 date(s)"), "{:?}", report.warnings);

        let records = vec![rec(&f, 2, "T", "13/2/2025 10:00"), rec(&f, 3, "T", "2/13/2025 10:00")];
        let mut report = LoadReport::default();
        let mut tr = TimeReading::new(&records, &["T"], None, &mut report);
        assert_eq!(iso(tr.parse(&records[0], "T", "13/2/2025 10:00").unwrap()), "2025-02-13T10:00:00.0000000Z");
        assert_eq!(iso(tr.parse(&records[1], "T", "2/13/2025 10:00").unwrap()), "2025-02-13T10:00:00.0000000Z");
        assert!(report.warnings[0].contains("only month-first"), "{:?}", report.warnings);
    }

    #[test]
    fn dashes_dots_iso_and_serial_numbers() {
        let f: Arc<Path> = Arc::from(Path::new("a.csv"));
        let records = vec![rec(&f, 2, "T", "15-01-2025 12:00"), rec(&f, 3, "T", "16.01.2025 12:00")];
        let mut report = LoadReport::default();
        let mut tr = TimeReading::new(&records, &["T"], None, &mut report);
        assert_eq!(iso(tr.parse(&records[0], "T", "15-01-2025 12:00").unwrap()), "2025-01-15T12:00:00.0000000Z");
        assert_eq!(iso(tr.parse(&records[1], "T", "16.01.2025 12:00").unwrap()), "2025-01-16T12:00:00.0000000Z");
        assert_eq!(
            iso(tr.parse(&records[0], "T", "2025-11-27T10:15:30.123Z").unwrap()),
            "2025-11-27T10:15:30.1230000Z"
        );
        assert_eq!(iso(tr.parse(&records[0], "T", "45804.5").unwrap()), "2025-05-27T12:00:00.0000000Z");
        assert_eq!(tr.parse(&records[0], "T", "hello"), None);
        tr.finish(&mut report);
        assert!(report.warnings.iter().any(|w| w.contains("1 value(s) are spreadsheet serial numbers")));
    }

    #[test]
    fn local_time_columns_take_the_offset() {
        let f: Arc<Path> = Arc::from(Path::new("a.csv"));
        let records = vec![rec(&f, 2, "TimeGenerated", "2025-01-15T12:00:00Z")];
        let mut report = LoadReport::default();
        report.local_time.push((f.clone(), "TimeGenerated".into()));
        let mut tr = TimeReading::new(&records, &["TimeGenerated"], Some(120), &mut report);
        let t = tr.parse(&records[0], "TimeGenerated", "2025-01-15T12:00:00Z").unwrap();
        assert_eq!(iso(t), "2025-01-15T10:00:00.0000000Z");
        assert!(report.warnings.is_empty());
        let mut report = LoadReport::default();
        report.local_time.push((f.clone(), "TimeGenerated".into()));
        TimeReading::new(&records, &["TimeGenerated"], None, &mut report);
        assert!(report.warnings[0].contains("--tz"), "{:?}", report.warnings);
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+02:00"), Some(120));
        assert_eq!(parse_offset("-0530"), Some(-330));
        assert_eq!(parse_offset("+2"), Some(120));
        assert_eq!(parse_offset("UTC"), Some(0));
        assert_eq!(parse_offset("UTC+01:00"), Some(60));
        assert_eq!(parse_offset("Europe/Paris"), None);
        assert_eq!(parse_offset("+25:00"), None);
    }
}
