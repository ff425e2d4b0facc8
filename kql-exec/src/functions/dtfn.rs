//! Dates and times: `ago`, `now`, `datetime_diff`, `datetime_add`, `startof*`/`endof*`,
//! `dayofweek` and friends, `format_datetime`, `format_timespan`, `make_datetime`,
//! `unixtime_*_todatetime`, `datetime_local_to_utc` / `datetime_utc_to_local`
//! (chrono-tz). The calendar logic is in [`crate::value::datetime`].

use super::array::{row_call, Out, V};
use super::udf::{udf, Body};
use super::{arg_str_const, BindCtx};
use crate::binder::Bound;
use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use crate::value::datetime as dt;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::DataFusionError;
use datafusion::logical_expr::{lit, Expr};
use std::sync::Arc;

type R<T> = std::result::Result<T, DataFusionError>;

fn i64_fn(name: &str, f: Arc<dyn Fn(&[Option<i64>]) -> Option<i64> + Send + Sync>, args: Vec<Expr>) -> Expr {
    let body: Body = Arc::new(move |a: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let cols: Vec<_> = a.iter().map(|x| x.as_primitive::<Int64Type>()).collect();
        let mut vals = vec![None; cols.len()];
        let out: Int64Array = (0..rows)
            .map(|i| {
                for (k, c) in cols.iter().enumerate() {
                    vals[k] = if c.is_null(i) { None } else { Some(c.value(i)) };
                }
                f(&vals)
            })
            .collect();
        Ok(Arc::new(out))
    });
    udf(name, DataType::Int64, false, body).call(args)
}

fn string_of_ticks(name: &str, f: Arc<dyn Fn(i64) -> Option<String> + Send + Sync>, arg: Expr) -> Expr {
    let body: Body = Arc::new(move |a: &[ArrayRef], rows: usize| -> R<ArrayRef> {
        let c = a[0].as_primitive::<Int64Type>();
        let mut b = StringBuilder::with_capacity(rows, rows * 16);
        for i in 0..rows {
            b.append_value(if c.is_null(i) { String::new() } else { f(c.value(i)).unwrap_or_default() });
        }
        Ok(Arc::new(b.finish()))
    });
    udf(name, DataType::Utf8, false, body).call(vec![arg])
}

/// Kusto's `make_timespan(days, hours, minutes, seconds)` in ticks: hours 0-23, minutes 0-59
/// and seconds in [0, 60) (fractions kept to the tick), days any whole number; null otherwise.
pub fn make_timespan(days: f64, hours: f64, minutes: f64, seconds: f64) -> Option<i64> {
    let whole = |v: f64| v.is_finite() && v.fract() == 0.0;
    if !(whole(days) && whole(hours) && whole(minutes) && seconds.is_finite()) {
        return None;
    }
    if !(0.0..24.0).contains(&hours) || !(0.0..60.0).contains(&minutes) || !(0.0..60.0).contains(&seconds) {
        return None;
    }
    let ticks = days * dt::TICKS_PER_DAY as f64
        + hours * dt::TICKS_PER_HOUR as f64
        + minutes * dt::TICKS_PER_MINUTE as f64
        + (seconds * dt::TICKS_PER_SECOND as f64).round();
    (ticks.abs() < i64::MAX as f64).then_some(ticks as i64)
}

fn f_make_timespan(a: &[super::array::V]) -> super::array::Out {
    let v: Option<Vec<f64>> = a.iter().map(|x| x.f()).collect();
    let Some(v) = v else { return super::array::Out::Null };
    make_timespan(v[0], v[1], v[2], v[3]).into()
}

/// Bind the datetime family.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    let span = ctx.span;
    let now = b.now;
    let l = |k: usize| b.coerce(args[k].clone(), KqlType::Long).expr;
    let d = |k: usize| b.coerce(args[k].clone(), KqlType::DateTime).expr;
    let n = args.len();
    let part = |k: usize| -> Result<String> {
        arg_str_const(&args[k]).ok_or_else(|| {
            KqlError::new("KQL080", format!("the first argument of {name} must be a constant string"), span)
        })
    };
    let out = match (name, n) {
        ("datetime_local_to_utc", 2) => {
            let z = b.coerce(args[1].clone(), KqlType::String).expr;
            row_call("kql_datetime_local_to_utc", KqlType::DateTime, f_local_to_utc, vec![d(0), z])
        }
        ("datetime_utc_to_local", 2) => {
            let z = b.coerce(args[1].clone(), KqlType::String).expr;
            row_call("kql_datetime_utc_to_local", KqlType::DateTime, f_utc_to_local, vec![d(0), z])
        }
        ("datetime_list_timezones", 0) => Bound::new(lit(list_timezones()), KqlType::Dynamic),
        ("now", 0) => Bound::new(lit(now), KqlType::DateTime),
        ("now", 1) => Bound::new(lit(now) + b.coerce(args[0].clone(), KqlType::TimeSpan).expr, KqlType::DateTime),
        ("ago", 1) => Bound::new(lit(now) - b.coerce(args[0].clone(), KqlType::TimeSpan).expr, KqlType::DateTime),
        ("datetime_diff", 3) => {
            let p = match part(0) {
                Ok(p) => p,
                Err(e) => return Some(Err(e)),
            };
            if dt::datetime_diff(&p, 0, 0).is_none() {
                return Some(Err(KqlError::new("KQL081", format!("unknown datetime part `{p}`"), span)));
            }
            let is_week = p.eq_ignore_ascii_case("week");
            let f = Arc::new(move |v: &[Option<i64>]| dt::datetime_diff(&p, v[0]?, v[1]?));
            let e = i64_fn(
                &format!("kql_datetime_diff_{}", arg_str_const(&args[0]).unwrap_or_default()),
                f,
                vec![d(1), d(2)],
            );
            // the real engine returns `week` differences as real
            if is_week {
                Bound::new(datafusion::logical_expr::cast(e, DataType::Float64), KqlType::Real)
            } else {
                Bound::new(e, KqlType::Long)
            }
        }
        ("datetime_add", 3) => {
            let p = match part(0) {
                Ok(p) => p,
                Err(e) => return Some(Err(e)),
            };
            let f = Arc::new(move |v: &[Option<i64>]| dt::datetime_add(&p, v[0]?, v[1]?));
            Bound::new(
                i64_fn(
                    &format!("kql_datetime_add_{}", arg_str_const(&args[0]).unwrap_or_default()),
                    f,
                    vec![l(1), d(2)],
                ),
                KqlType::DateTime,
            )
        }
        ("datetime_part" | "datepart", 2) => {
            let p = match part(0) {
                Ok(p) => p,
                Err(e) => return Some(Err(e)),
            };
            let f = Arc::new(move |v: &[Option<i64>]| dt::datetime_part(&p, v[0]?));
            Bound::new(
                i64_fn(&format!("kql_datetime_part_{}", arg_str_const(&args[0]).unwrap_or_default()), f, vec![d(1)]),
                KqlType::Long,
            )
        }
        (
            "startofday" | "startofweek" | "startofmonth" | "startofyear" | "endofday" | "endofweek" | "endofmonth"
            | "endofyear",
            1 | 2,
        ) => {
            let g: fn(i64, i64) -> Option<i64> = match name {
                "startofday" => dt::start_of_day,
                "startofweek" => dt::start_of_week,
                "startofmonth" => dt::start_of_month,
                "startofyear" => dt::start_of_year,
                "endofday" => dt::end_of_day,
                "endofweek" => dt::end_of_week,
                "endofmonth" => dt::end_of_month,
                _ => dt::end_of_year,
            };
            let mut a = vec![d(0)];
            if n == 2 {
                a.push(l(1));
            }
            let f = Arc::new(move |v: &[Option<i64>]| g(v[0]?, v.get(1).copied().flatten().unwrap_or(0)));
            Bound::new(i64_fn(&format!("kql_{name}"), f, a), KqlType::DateTime)
        }
        ("dayofweek", 1) => Bound::new(
            i64_fn("kql_dayofweek", Arc::new(|v| Some(dt::day_of_week(v[0]?))), vec![d(0)]),
            KqlType::TimeSpan,
        ),
        ("dayofmonth", 1) => int_of(i64_fn("kql_dayofmonth", Arc::new(|v| Some(dt::day_of_month(v[0]?))), vec![d(0)])),
        ("dayofyear", 1) => int_of(i64_fn("kql_dayofyear", Arc::new(|v| Some(dt::day_of_year(v[0]?))), vec![d(0)])),
        ("weekofyear" | "week_of_year", 1) => {
            int_of(i64_fn("kql_weekofyear", Arc::new(|v| Some(dt::week_of_year(v[0]?))), vec![d(0)]))
        }
        ("monthofyear" | "getmonth", 1) => {
            int_of(i64_fn("kql_monthofyear", Arc::new(|v| Some(dt::month_of_year(v[0]?))), vec![d(0)]))
        }
        ("getyear", 1) => int_of(i64_fn("kql_getyear", Arc::new(|v| Some(dt::get_year(v[0]?))), vec![d(0)])),
        ("hourofday", 1) => int_of(i64_fn("kql_hourofday", Arc::new(|v| Some(dt::hour_of_day(v[0]?))), vec![d(0)])),
        ("format_datetime", 2) => {
            let p = match arg_str_const(&args[1]) {
                Some(p) => p,
                None => return Some(Err(KqlError::new("KQL082", "format_datetime needs a constant format", span))),
            };
            Bound::new(
                string_of_ticks("kql_format_datetime", Arc::new(move |t| dt::format_datetime(t, &p)), d(0)),
                KqlType::String,
            )
        }
        ("format_timespan", 2) => {
            let p = match arg_str_const(&args[1]) {
                Some(p) => p,
                None => return Some(Err(KqlError::new("KQL082", "format_timespan needs a constant format", span))),
            };
            let t = b.coerce(args[0].clone(), KqlType::TimeSpan).expr;
            Bound::new(
                string_of_ticks("kql_format_timespan", Arc::new(move |x| dt::format_timespan_pattern(x, &p)), t),
                KqlType::String,
            )
        }
        ("make_timespan", 1) => b.coerce(args[0].clone(), KqlType::TimeSpan),
        ("make_timespan", 2..=4) => {
            let mut a: Vec<Expr> = (0..n).map(|k| b.coerce(args[k].clone(), KqlType::Real).expr).collect();
            if n == 2 {
                a.push(lit(0.0));
            }
            if n < 4 {
                a.insert(0, lit(0.0));
            }
            super::array::row_call("kql_make_timespan", KqlType::TimeSpan, f_make_timespan, a)
        }
        ("make_datetime", 1..=7) => {
            let reals: Vec<Expr> = (0..n).map(|k| b.coerce(args[k].clone(), KqlType::Real).expr).collect();
            let body: Body = Arc::new(move |a: &[ArrayRef], rows: usize| -> R<ArrayRef> {
                let cols: Vec<_> = a.iter().map(|x| x.as_primitive::<Float64Type>()).collect();
                let out: Int64Array = (0..rows)
                    .map(|i| {
                        let v: Vec<Option<f64>> =
                            cols.iter().map(|c| if c.is_null(i) { None } else { Some(c.value(i)) }).collect();
                        if v.iter().any(|x| x.is_none()) {
                            return None;
                        }
                        let g = |k: usize, dflt: f64| v.get(k).copied().flatten().unwrap_or(dflt);
                        dt::make_datetime(
                            g(0, 1.0) as i64,
                            g(1, 1.0) as i64,
                            g(2, 1.0) as i64,
                            g(3, 0.0) as i64,
                            g(4, 0.0) as i64,
                            g(5, 0.0),
                        )
                    })
                    .collect();
                Ok(Arc::new(out))
            });
            Bound::new(udf("kql_make_datetime", DataType::Int64, false, body).call(reals), KqlType::DateTime)
        }
        (
            "unixtime_seconds_todatetime"
            | "unixtime_milliseconds_todatetime"
            | "unixtime_microseconds_todatetime"
            | "unixtime_nanoseconds_todatetime",
            1,
        ) => {
            let g: fn(f64) -> Option<i64> = match name {
                "unixtime_seconds_todatetime" => dt::from_unix_seconds,
                "unixtime_milliseconds_todatetime" => dt::from_unix_milliseconds,
                "unixtime_microseconds_todatetime" => dt::from_unix_microseconds,
                _ => dt::from_unix_nanoseconds,
            };
            let x = b.coerce(args[0].clone(), KqlType::Real).expr;
            let body: Body = Arc::new(move |a: &[ArrayRef], rows: usize| -> R<ArrayRef> {
                let c = a[0].as_primitive::<Float64Type>();
                let out: Int64Array = (0..rows).map(|i| if c.is_null(i) { None } else { g(c.value(i)) }).collect();
                Ok(Arc::new(out))
            });
            Bound::new(udf(&format!("kql_{name}"), DataType::Int64, false, body).call(vec![x]), KqlType::DateTime)
        }
        _ => return None,
    };
    Some(Ok(out))
}

/// Date parts are `long` in results of the real engine (Kusto.Language declares `int`).
fn int_of(e: Expr) -> Bound {
    Bound::new(e, KqlType::Long)
}

// ---------------------------------------------------------------------------------------------
// time zones
// ---------------------------------------------------------------------------------------------

fn tz(name: &str) -> Option<chrono_tz::Tz> {
    name.parse().ok()
}

fn naive(t: i64) -> Option<chrono::NaiveDateTime> {
    let secs = t.div_euclid(dt::TICKS_PER_SECOND);
    let nanos = (t.rem_euclid(dt::TICKS_PER_SECOND) * 100) as u32;
    chrono::DateTime::from_timestamp(secs, nanos).map(|d| d.naive_utc())
}

fn offset_ticks<O: chrono::Offset>(o: &O) -> i64 {
    o.fix().local_minus_utc() as i64 * dt::TICKS_PER_SECOND
}

/// `datetime_utc_to_local(t, tz)`: the wall-clock time in `tz` at UTC instant `t` (null for an
/// unknown zone).
pub(crate) fn utc_to_local(t: i64, zone: &str) -> Option<i64> {
    use chrono::TimeZone;
    let z = tz(zone)?;
    let off = z.offset_from_utc_datetime(&naive(t)?);
    let r = t.checked_add(offset_ticks(&off))?;
    dt::is_valid_datetime(r).then_some(r)
}

/// `datetime_local_to_utc(t, tz)`: the UTC instant of wall-clock time `t` in `tz`. A time that
/// repeats when clocks go back is read as standard time (the later instant); a time skipped
/// when clocks go forward takes the offset in force after the jump (Kusto: Brussels
/// 2022-03-27 02:00 is 00:00 UTC).
pub(crate) fn local_to_utc(t: i64, zone: &str) -> Option<i64> {
    use chrono::{LocalResult, TimeZone};
    let z = tz(zone)?;
    let local = naive(t)?;
    let off = match z.offset_from_local_datetime(&local) {
        LocalResult::Single(o) => offset_ticks(&o),
        LocalResult::Ambiguous(a, b) => offset_ticks(&a).min(offset_ticks(&b)),
        LocalResult::None => {
            // in a gap: the first valid wall-clock time after it carries the new offset
            let mut found = None;
            for h in 1..=48 {
                let later = local + chrono::Duration::minutes(30 * h);
                if let Some(o) = z.offset_from_local_datetime(&later).earliest() {
                    found = Some(offset_ticks(&o));
                    break;
                }
            }
            found?
        }
    };
    let r = t.checked_sub(off)?;
    dt::is_valid_datetime(r).then_some(r)
}

fn f_local_to_utc(a: &[V]) -> Out {
    match (a[0], a[1].s()) {
        (V::I(t), Some(z)) => local_to_utc(t, z).into(),
        _ => Out::Null,
    }
}

fn f_utc_to_local(a: &[V]) -> Out {
    match (a[0], a[1].s()) {
        (V::I(t), Some(z)) => utc_to_local(t, z).into(),
        _ => Out::Null,
    }
}

/// `datetime_list_timezones()`: the IANA zone names, sorted.
pub(crate) fn list_timezones() -> String {
    let mut names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    names.sort_unstable();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timezone_doc_examples() {
        let p = |s: &str| dt::parse_datetime(s).unwrap();
        let l = p("2020-02-02 20:02:20");
        assert_eq!(local_to_utc(l, "US/Pacific"), Some(p("2020-02-03 04:02:20")));
        assert_eq!(local_to_utc(l, "America/Chicago"), Some(p("2020-02-03 02:02:20")));
        assert_eq!(local_to_utc(l, "Europe/Paris"), Some(p("2020-02-02 19:02:20")));
        // Brussels springs forward at 02:00 on 2022-03-27
        let b = "Europe/Brussels";
        assert_eq!(local_to_utc(p("2022-03-27 01:00"), b), Some(p("2022-03-27 00:00")));
        assert_eq!(local_to_utc(p("2022-03-27 02:00"), b), Some(p("2022-03-27 00:00")));
        assert_eq!(local_to_utc(p("2022-03-27 03:00"), b), Some(p("2022-03-27 01:00")));
        assert_eq!(utc_to_local(p("2022-03-27 00:00"), b), Some(p("2022-03-27 01:00")));
        assert_eq!(utc_to_local(p("2022-03-27 01:00"), b), Some(p("2022-03-27 03:00")));
        // falls back at 03:00 on 2022-10-30: 02:30 is read as standard time
        assert_eq!(local_to_utc(p("2022-10-30 02:30"), b), Some(p("2022-10-30 01:30")));
        assert_eq!(local_to_utc(l, "No/Such_Zone"), None);
        assert_eq!(utc_to_local(l, ""), None);
        assert_eq!(utc_to_local(dt::MAX_DATETIME, "Asia/Tokyo"), None);
        assert_eq!(f_local_to_utc(&[V::Null, V::S("UTC")]), Out::Null);
        assert_eq!(f_utc_to_local(&[V::I(l), V::Null]), Out::Null);
        assert!(list_timezones().contains("\"Europe/Brussels\""));
    }

    #[test]
    fn make_timespan_forms() {
        let ts = |d, h, m, s| make_timespan(d, h, m, s).map(dt::format_timespan);
        assert_eq!(ts(1.0, 12.0, 30.0, 55.123).as_deref(), Some("1.12:30:55.1230000"));
        assert_eq!(ts(0.0, 1.0, 0.0, 0.0).as_deref(), Some("01:00:00"));
        assert_eq!(ts(0.0, 1.0, 2.0, 3.0).as_deref(), Some("01:02:03"));
        assert_eq!(ts(-2.0, 0.0, 0.0, 0.0).as_deref(), Some("-2.00:00:00"));
        assert_eq!(make_timespan(0.0, 24.0, 0.0, 0.0), None);
        assert_eq!(make_timespan(0.0, 0.0, 60.0, 0.0), None);
        assert_eq!(make_timespan(0.0, 0.0, 0.0, 60.0), None);
        assert_eq!(make_timespan(0.0, -1.0, 0.0, 0.0), None);
        assert_eq!(make_timespan(0.0, 1.5, 0.0, 0.0), None);
        assert_eq!(make_timespan(f64::NAN, 0.0, 0.0, 0.0), None);
        assert_eq!(make_timespan(1e300, 0.0, 0.0, 0.0), None);
        assert_eq!(f_make_timespan(&[super::super::array::V::Null; 4]), super::super::array::Out::Null);
    }
}
