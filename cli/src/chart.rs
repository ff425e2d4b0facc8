//! Charts for `render`: the result of a query with a trailing `render` drawn as SVG and PNG.
//!
//! Which columns become the axes and the series follows Kusto's render operator: the x axis is
//! the `xcolumn` property, else the first column (the first datetime column for `timechart` and
//! `anomalychart`; the first text column for `piechart`); the y axes are the `ycolumns`, else every
//! numeric column that is not the x column; the series are the `series` columns, else every
//! remaining text column, their values combined per row. `make-series` results (dynamic arrays of
//! x and y values) are expanded. Supported properties: `title`, `xcolumn`, `ycolumns`, `series`,
//! `kind` (`stacked`, `stacked100`, `unstacked`, `default`), `xtitle`, `ytitle`, `legend`
//! (`visible`/`hidden`), `ymin`, `ymax`, `accumulate`, `anomalycolumns`.

use kql_exec::binder::RenderSpec;
use kql_exec::schema::KqlType;
use kql_exec::session::QueryResult;
use kql_exec::value::datetime as dt;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, KeyPointWeight, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Chart size in pixels.
pub const SIZE: (u32, u32) = (1000, 560);

/// The visualizations drawn; `table` (and unknown ones) draw nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Line graph over a datetime x axis.
    Time,
    /// Line graph.
    Line,
    /// Area graph.
    Area,
    /// Vertical bars.
    Column,
    /// Horizontal bars.
    Bar,
    /// Pie.
    Pie,
    /// Points.
    Scatter,
    /// A time chart with anomalies marked.
    Anomaly,
}

impl Kind {
    /// The kind of a `render` visualization name; `None` for `table` and those not drawn.
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "timechart" => Kind::Time,
            "linechart" => Kind::Line,
            "areachart" | "stackedareachart" => Kind::Area,
            "columnchart" => Kind::Column,
            "barchart" => Kind::Bar,
            "piechart" => Kind::Pie,
            "scatterchart" => Kind::Scatter,
            "anomalychart" => Kind::Anomaly,
            _ => return None,
        })
    }
}

/// `with (...)` properties.
#[derive(Debug, Clone, Default)]
pub struct Props {
    /// Chart title.
    pub title: Option<String>,
    /// The x column.
    pub xcolumn: Option<String>,
    /// The y columns.
    pub ycolumns: Vec<String>,
    /// Series columns.
    pub series: Vec<String>,
    /// `stacked`, `stacked100`, `unstacked`, `default`.
    pub kind: Option<String>,
    /// X axis title.
    pub xtitle: Option<String>,
    /// Y axis title.
    pub ytitle: Option<String>,
    /// Show the legend (`legend=hidden` hides it).
    pub legend: bool,
    /// Y axis minimum.
    pub ymin: Option<f64>,
    /// Y axis maximum.
    pub ymax: Option<f64>,
    /// Running totals.
    pub accumulate: bool,
    /// Columns of anomaly flags (anomalychart).
    pub anomalycolumns: Vec<String>,
}

/// Text of a property value: quotes and `['...']` removed.
fn unquote(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix('@').unwrap_or(s);
    if s.len() >= 2 && (s.starts_with('"') && s.ends_with('"') || s.starts_with('\'') && s.ends_with('\'')) {
        return s[1..s.len() - 1].replace("\\\"", "\"").replace("\\'", "'").replace("\\\\", "\\");
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return unquote(inner);
    }
    s.to_string()
}

/// Names in a list-valued property (`ycolumns=a, b` or `ycolumns=(a, b)`).
fn name_list(vals: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for v in vals {
        let v = v.trim();
        let v = v.strip_prefix('(').and_then(|x| x.strip_suffix(')')).unwrap_or(v);
        for part in split_top(v) {
            let n = unquote(&part);
            if !n.is_empty() {
                out.push(n);
            }
        }
    }
    out
}

/// Split on commas outside quotes and brackets.
fn split_top(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let (mut depth, mut quote) = (0i32, None::<char>);
    for c in s.chars() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                cur.push(c);
            }
            None => match c {
                '"' | '\'' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '(' | '[' => {
                    depth += 1;
                    cur.push(c);
                }
                ')' | ']' => {
                    depth -= 1;
                    cur.push(c);
                }
                ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            },
        }
    }
    parts.push(cur);
    parts.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
}

impl Props {
    /// Read the properties of a `render`.
    pub fn from_spec(spec: &RenderSpec) -> Props {
        let mut p = Props { legend: true, ..Default::default() };
        for (name, vals) in &spec.props {
            let one = || vals.first().map(|v| unquote(v));
            let num = || one().and_then(|v| v.parse::<f64>().ok());
            match name.to_ascii_lowercase().as_str() {
                "title" => p.title = one(),
                "xcolumn" => p.xcolumn = one(),
                "ycolumns" => p.ycolumns = name_list(vals),
                "series" => p.series = name_list(vals),
                "kind" => p.kind = one().map(|k| k.to_ascii_lowercase()),
                "xtitle" => p.xtitle = one(),
                "ytitle" => p.ytitle = one(),
                "legend" => p.legend = one().is_none_or(|v| !v.eq_ignore_ascii_case("hidden")),
                "ymin" => p.ymin = num(),
                "ymax" => p.ymax = num(),
                "accumulate" => p.accumulate = one().is_some_and(|v| v.eq_ignore_ascii_case("true")),
                "anomalycolumns" => p.anomalycolumns = name_list(vals),
                _ => {}
            }
        }
        if spec.chart.eq_ignore_ascii_case("stackedareachart") && p.kind.is_none() {
            p.kind = Some("stacked".into());
        }
        p
    }

    fn stacked(&self) -> bool {
        matches!(self.kind.as_deref(), Some("stacked") | Some("stacked100"))
    }

    fn stacked100(&self) -> bool {
        self.kind.as_deref() == Some("stacked100")
    }
}

/// What the x axis holds.
#[derive(Debug, Clone, PartialEq)]
pub enum XAxis {
    /// Seconds since 1970 (UTC).
    Time,
    /// Numbers.
    Num,
    /// Categories, in order; x values are indexes.
    Cat(Vec<String>),
}

/// One series: (x, y) points.
#[derive(Debug, Clone)]
pub struct Series {
    /// The legend name.
    pub name: String,
    /// Points, in x order for time and number axes.
    pub points: Vec<(f64, f64)>,
}

/// A chart ready to draw.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The visualization.
    pub kind: Kind,
    /// Properties.
    pub props: Props,
    /// The x axis.
    pub x: XAxis,
    /// The x axis title.
    pub xtitle: String,
    /// The y axis title.
    pub ytitle: String,
    /// The series.
    pub series: Vec<Series>,
    /// Anomalies (anomalychart): points marked on the chart.
    pub anomalies: Vec<(f64, f64)>,
}

/// A cell as the chart sees it.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Num(f64),
    Time(f64),
    Text(String),
    Array(Vec<serde_json::Value>),
}

fn is_numeric(ty: KqlType) -> bool {
    matches!(ty, KqlType::Int | KqlType::Long | KqlType::Real | KqlType::Decimal | KqlType::TimeSpan)
}

fn read_cells(r: &QueryResult) -> Vec<Vec<Cell>> {
    let rows = kql_exec::output::rows_json(r);
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .zip(&r.cols)
                .map(|(v, c)| match (v, c.ty) {
                    (serde_json::Value::Null, _) => Cell::Null,
                    (serde_json::Value::String(s), KqlType::DateTime) => {
                        dt::parse_datetime(&s).map(|t| Cell::Time(t as f64 / 1e7)).unwrap_or(Cell::Null)
                    }
                    (serde_json::Value::String(s), KqlType::TimeSpan) => {
                        dt::parse_timespan(&s).map(|t| Cell::Num(t as f64 / 1e7)).unwrap_or(Cell::Null)
                    }
                    (serde_json::Value::Number(n), _) => n.as_f64().map(Cell::Num).unwrap_or(Cell::Null),
                    (serde_json::Value::Bool(b), _) => Cell::Text(b.to_string()),
                    (serde_json::Value::Array(a), _) => Cell::Array(a),
                    (serde_json::Value::String(s), KqlType::Real | KqlType::Decimal) => {
                        s.parse::<f64>().map(Cell::Num).unwrap_or(Cell::Null)
                    }
                    (serde_json::Value::String(s), _) => Cell::Text(s),
                    (v, _) => Cell::Text(v.to_string()),
                })
                .collect()
        })
        .collect()
}

fn json_num(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Bool(b) => Some(*b as i64 as f64),
        _ => None,
    }
}

fn json_time(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::String(s) => dt::parse_datetime(s).map(|t| t as f64 / 1e7),
        _ => None,
    }
}

fn cell_label(c: &Cell) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Num(n) => format_num(*n),
        Cell::Time(t) => {
            let p = dt::to_parts((*t * 1e7).round() as i64);
            let month = MONTHS[(p.month as usize).clamp(1, 12) - 1];
            if p.hour == 0 && p.minute == 0 && p.second == 0 {
                format!("{month} {}", p.day)
            } else {
                format!("{month} {} {:02}:{:02}", p.day, p.hour, p.minute)
            }
        }
        Cell::Text(s) => s.clone(),
        Cell::Array(a) => serde_json::Value::Array(a.clone()).to_string(),
    }
}

/// Build a chart from a result; `Ok(None)` for `render table` and visualizations not drawn.
pub fn build(r: &QueryResult, spec: &RenderSpec) -> Result<Option<Chart>, String> {
    let Some(kind) = Kind::from_name(&spec.chart) else {
        return Ok(None);
    };
    let props = Props::from_spec(spec);
    let cols = &r.cols;
    let find = |n: &str| {
        cols.iter()
            .position(|c| c.name == n)
            .ok_or_else(|| format!("render {}: no column `{n}` in the result", spec.chart))
    };
    let cells = read_cells(r);
    // make-series results: arrays in the x column
    let is_array = |k: usize| cells.iter().any(|row| matches!(row[k], Cell::Array(_)));
    let x = match &props.xcolumn {
        Some(n) => find(n)?,
        None => {
            let first_dt = cols.iter().position(|c| c.ty == KqlType::DateTime);
            let first_text = cols.iter().position(|c| matches!(c.ty, KqlType::String | KqlType::Guid | KqlType::Bool));
            let first_array_dt = (0..cols.len()).find(|&k| {
                cols[k].ty == KqlType::Dynamic
                    && cells
                        .iter()
                        .any(|row| matches!(&row[k], Cell::Array(a) if a.first().and_then(json_time).is_some()))
            });
            match kind {
                Kind::Time | Kind::Anomaly => first_dt.or(first_array_dt).unwrap_or(0),
                Kind::Pie => first_text.unwrap_or(0),
                _ => {
                    if cols.is_empty() {
                        0
                    } else {
                        first_array_dt.unwrap_or(0)
                    }
                }
            }
        }
    };
    if cols.is_empty() {
        return Err(format!("render {}: the result has no columns", spec.chart));
    }
    let expanded = is_array(x);
    let series_cols: Vec<usize> = if !props.series.is_empty() {
        props.series.iter().map(|n| find(n)).collect::<Result<_, _>>()?
    } else {
        (0..cols.len())
            .filter(|&k| {
                k != x
                    && !props.ycolumns.contains(&cols[k].name)
                    && matches!(cols[k].ty, KqlType::String | KqlType::Guid | KqlType::Bool)
            })
            .collect()
    };
    let anomaly_cols: Vec<usize> = props.anomalycolumns.iter().map(|n| find(n)).collect::<Result<_, _>>()?;
    let y_cols: Vec<usize> = if !props.ycolumns.is_empty() {
        props.ycolumns.iter().map(|n| find(n)).collect::<Result<_, _>>()?
    } else {
        (0..cols.len())
            .filter(|&k| {
                k != x
                    && !series_cols.contains(&k)
                    && !anomaly_cols.contains(&k)
                    && if expanded { cols[k].ty == KqlType::Dynamic && is_array(k) } else { is_numeric(cols[k].ty) }
            })
            .collect()
    };
    if y_cols.is_empty() {
        return Err(format!(
            "render {}: no numeric column to plot (columns: {})",
            spec.chart,
            cols.iter().map(|c| format!("{}:{}", c.name, c.ty.name())).collect::<Vec<_>>().join(", ")
        ));
    }
    // the x axis kind
    let x_ty = cols[x].ty;
    let categorical = matches!(kind, Kind::Column | Kind::Bar | Kind::Pie);
    let x_is_time = if expanded {
        cells.iter().any(|row| matches!(&row[x], Cell::Array(a) if a.first().and_then(json_time).is_some()))
    } else {
        x_ty == KqlType::DateTime
    };
    let mut xaxis = if categorical {
        XAxis::Cat(Vec::new())
    } else if x_is_time {
        XAxis::Time
    } else if expanded || is_numeric(x_ty) {
        XAxis::Num
    } else {
        XAxis::Cat(Vec::new())
    };
    let mut cat_index: HashMap<String, usize> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut map: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
    let mut anomalies = Vec::new();
    let multi_y = y_cols.len() > 1;
    let mut add = |name: String, xv: f64, yv: f64, map: &mut HashMap<String, Vec<(f64, f64)>>| {
        if !map.contains_key(&name) {
            order.push(name.clone());
        }
        map.entry(name).or_default().push((xv, yv));
    };
    for row in &cells {
        let key: Vec<String> = series_cols.iter().map(|&k| cell_label(&row[k])).collect();
        let key = key.join(", ");
        let series_name = |yk: usize| -> String {
            match (key.is_empty(), multi_y || series_cols.is_empty()) {
                (true, _) => cols[yk].name.clone(),
                (false, true) => format!("{}:{}", cols[yk].name, key),
                (false, false) => key.clone(),
            }
        };
        // the x values of this row (one, or an array)
        let xs: Vec<Option<f64>> = if expanded {
            match &row[x] {
                Cell::Array(a) => a.iter().map(|v| if x_is_time { json_time(v) } else { json_num(v) }).collect(),
                _ => vec![],
            }
        } else {
            let v = match (&row[x], &mut xaxis) {
                (c, XAxis::Cat(labels)) => {
                    let l = cell_label(c);
                    let n = labels.len();
                    let i = *cat_index.entry(l.clone()).or_insert_with(|| {
                        labels.push(l);
                        n
                    });
                    Some(i as f64)
                }
                (Cell::Time(t), _) | (Cell::Num(t), _) => Some(*t),
                _ => None,
            };
            vec![v]
        };
        for &yk in &y_cols {
            let ys: Vec<Option<f64>> = if expanded {
                match &row[yk] {
                    Cell::Array(a) => a.iter().map(json_num).collect(),
                    _ => vec![],
                }
            } else {
                vec![match &row[yk] {
                    Cell::Num(n) | Cell::Time(n) => Some(*n),
                    Cell::Text(s) => s.parse().ok(),
                    _ => None,
                }]
            };
            let name = series_name(yk);
            for (i, (xv, yv)) in xs.iter().zip(ys.iter()).enumerate() {
                if let (Some(xv), Some(yv)) = (xv, yv) {
                    if yv.is_finite() && xv.is_finite() {
                        add(name.clone(), *xv, *yv, &mut map);
                        // anomaly flags on the same row and position
                        for &ak in &anomaly_cols {
                            let flag = match &row[ak] {
                                Cell::Array(a) if expanded => a.get(i).and_then(json_num),
                                Cell::Num(n) => Some(*n),
                                _ => None,
                            };
                            if flag.is_some_and(|f| f != 0.0) {
                                anomalies.push((*xv, *yv));
                            }
                        }
                    }
                }
            }
        }
    }
    let mut series: Vec<Series> =
        order.into_iter().map(|name| Series { points: map.remove(&name).unwrap_or_default(), name }).collect();
    if !matches!(xaxis, XAxis::Cat(_)) {
        for s in &mut series {
            s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
    }
    if props.accumulate {
        for s in &mut series {
            let mut acc = 0.0;
            for p in &mut s.points {
                acc += p.1;
                p.1 = acc;
            }
        }
    }
    let xtitle = props.xtitle.clone().unwrap_or_else(|| cols[x].name.clone());
    let ytitle = props.ytitle.clone().unwrap_or_else(|| {
        if y_cols.len() == 1 {
            cols[y_cols[0]].name.clone()
        } else {
            String::new()
        }
    });
    Ok(Some(Chart { kind, props, x: xaxis, xtitle, ytitle, series, anomalies }))
}

// ---------------------------------------------------------------------------------------------
// Axes

/// A linear axis whose tick marks are chosen for its content: round numbers, calendar-aligned
/// times, or one per category.
#[derive(Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    kind: AxisKind,
}

#[derive(Clone, Copy, PartialEq)]
enum AxisKind {
    Num,
    Time,
    Cat(usize),
}

fn nice_step(span: f64, max: usize) -> f64 {
    let raw = span / max.max(1) as f64;
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= raw {
            return m * mag;
        }
    }
    10.0 * mag
}

const TIME_STEPS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
    43200.0, 86400.0, 172800.0, 345600.0, 604800.0, 1209600.0, 2592000.0, 7776000.0, 31536000.0,
];

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let f = if span > 0.0 { (v - self.lo) / span } else { 0.5 };
        limit.0 + (f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if matches!(hint.weight(), KeyPointWeight::Any) {
            return vec![]; // no light grid lines
        }
        let max = hint.max_num_points().max(1);
        let span = self.hi - self.lo;
        match self.kind {
            AxisKind::Cat(n) => {
                let every = n.div_ceil(max).max(1);
                (0..n).step_by(every).map(|i| i as f64).collect()
            }
            AxisKind::Num => {
                let step = nice_step(span, max);
                let mut v = (self.lo / step).ceil() * step;
                let mut out = Vec::new();
                while v <= self.hi + step * 1e-9 && out.len() <= max {
                    out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
                    v += step;
                }
                out
            }
            AxisKind::Time => {
                let step = TIME_STEPS.iter().copied().find(|s| span / s <= max as f64).unwrap_or_else(|| {
                    let years = (span / 31536000.0 / max as f64).ceil();
                    years * 31536000.0
                });
                // weeks start on Monday (1970-01-05)
                let offset = if step == 604800.0 || step == 1209600.0 { 4.0 * 86400.0 } else { 0.0 };
                let mut v = ((self.lo - offset) / step).ceil() * step + offset;
                let mut out = Vec::new();
                while v <= self.hi && out.len() <= max {
                    out.push(v);
                    v += step;
                }
                out
            }
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A time tick label: dates for ticks at midnight, times of day otherwise.
fn time_label(secs: f64, span: f64) -> String {
    let p = dt::to_parts((secs * 1e7).round() as i64);
    let month = MONTHS[(p.month as usize).clamp(1, 12) - 1];
    let midnight = p.hour == 0 && p.minute == 0 && p.second == 0;
    if span > 400.0 * 86400.0 {
        format!("{month} {}", p.year)
    } else if midnight {
        format!("{month} {}", p.day)
    } else if span < 600.0 {
        format!("{:02}:{:02}:{:02}", p.hour, p.minute, p.second)
    } else if span > 3.0 * 86400.0 {
        format!("{month} {} {:02}:{:02}", p.day, p.hour, p.minute)
    } else {
        format!("{:02}:{:02}", p.hour, p.minute)
    }
}

/// A number for an axis or a label: `12`, `0.25`, `1.5K`, `3M`.
pub fn format_num(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if a >= 1e9 {
        format!("{}B", trim(format!("{:.2}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}K", trim(format!("{:.1}", v / 1e3)))
    } else if a == a.trunc() {
        format!("{}", v as i64)
    } else if a >= 1.0 {
        trim(format!("{:.2}", v))
    } else {
        trim(format!("{:.4}", v))
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const FONT: &str = "sans-serif";
const GRID: RGBColor = RGBColor(225, 225, 225);
const TEXT: RGBColor = RGBColor(50, 50, 50);

fn cut_label(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

type DResult<T> = Result<T, String>;

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

/// Draw the chart on a drawing area.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &Chart) -> DResult<()> {
    root.fill(&WHITE).map_err(e)?;
    let area = match &c.props.title {
        Some(t) if !t.is_empty() => root.titled(t, (FONT, 22).into_font().color(&TEXT)).map_err(e)?,
        _ => root.margin(8, 0, 0, 0),
    };
    let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
    let show_legend = c.props.legend && (!names.is_empty());
    let (w, _) = area.dim_in_pixel();
    let (plot, legend) = if show_legend && c.kind != Kind::Pie {
        let longest = names.iter().map(|n| n.chars().count().min(28)).max().unwrap_or(0) as u32;
        let lw = (longest * 8 + 44).clamp(90, 280);
        let (a, b) = area.split_horizontally(w.saturating_sub(lw));
        (a, Some(b))
    } else if c.kind == Kind::Pie {
        let (a, b) = area.split_horizontally(w.saturating_sub(280));
        (a, if c.props.legend { Some(b) } else { None })
    } else {
        (area.clone(), None)
    };
    match c.kind {
        Kind::Pie => draw_pie(&plot, c)?,
        Kind::Column | Kind::Bar => draw_bars(&plot, c)?,
        _ => draw_xy(&plot, c)?,
    }
    if let Some(l) = legend {
        let labels: Vec<String> = match (&c.kind, &c.x) {
            (Kind::Pie, XAxis::Cat(labels)) => labels.clone(),
            _ => names.iter().map(|s| s.to_string()).collect(),
        };
        draw_legend(&l, &labels)?;
    }
    root.present().map_err(e)?;
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, names: &[String]) -> DResult<()> {
    let (_, h) = area.dim_in_pixel();
    let line = 22i32;
    let fits = ((h as i32 - 40) / line).max(1) as usize;
    let style = (FONT, 14).into_font().color(&TEXT);
    for (i, n) in names.iter().enumerate() {
        let y = 30 + i as i32 * line;
        if i + 1 == fits && names.len() > fits {
            area.draw(&Text::new(format!("… {} more", names.len() - i), (10, y), style.clone())).map_err(e)?;
            break;
        }
        area.draw(&Rectangle::new([(10, y + 2), (22, y + 14)], color(i).filled())).map_err(e)?;
        area.draw(&Text::new(cut_label(n, 28), (30, y), style.clone())).map_err(e)?;
    }
    Ok(())
}

fn y_range(c: &Chart, values: impl Iterator<Item = f64>, force_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if force_zero || (lo >= 0.0 && lo <= hi * 0.5) {
        lo = lo.min(0.0);
    }
    if hi <= 0.0 && force_zero {
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.06;
    let (mut lo2, mut hi2) = (if lo == 0.0 { 0.0 } else { lo - pad }, hi + pad);
    if lo >= 0.0 && lo2 < 0.0 {
        lo2 = 0.0;
    }
    if let Some(m) = c.props.ymin {
        lo2 = m;
    }
    if let Some(m) = c.props.ymax {
        hi2 = m;
    }
    if hi2 <= lo2 {
        hi2 = lo2 + 1.0;
    }
    (lo2, hi2)
}

fn y_label_width(lo: f64, hi: f64) -> u32 {
    let w = format_num(lo).len().max(format_num(hi).len()).max(format_num((lo + hi) / 2.0).len()) as u32;
    w * 8 + 16
}

/// Stacked values: for each series, the (x, lower, upper) triples.
fn stack(series: &[Series], pct: bool) -> Vec<Vec<(f64, f64, f64)>> {
    let mut xs: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    xs.sort_by(|a, b| a.total_cmp(b));
    xs.dedup();
    let pos: HashMap<u64, usize> = xs.iter().enumerate().map(|(i, x)| (x.to_bits(), i)).collect();
    let mut totals = vec![0.0; xs.len()];
    for s in series {
        for p in &s.points {
            totals[pos[&p.0.to_bits()]] += p.1;
        }
    }
    let mut base = vec![0.0; xs.len()];
    series
        .iter()
        .map(|s| {
            let mut vals = vec![0.0; xs.len()];
            for p in &s.points {
                vals[pos[&p.0.to_bits()]] += p.1;
            }
            xs.iter()
                .enumerate()
                .map(|(i, &x)| {
                    let v = if pct && totals[i] != 0.0 { vals[i] / totals[i] * 100.0 } else { vals[i] };
                    let lo = base[i];
                    base[i] += v;
                    (x, lo, base[i])
                })
                .collect()
        })
        .collect()
}

fn draw_xy<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Chart) -> DResult<()> {
    let stacked = c.kind == Kind::Area && c.props.stacked();
    let stacks = if stacked { stack(&c.series, c.props.stacked100()) } else { vec![] };
    let all = c.series.iter().flat_map(|s| s.points.iter());
    let (mut xlo, mut xhi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in all.clone() {
        xlo = xlo.min(p.0);
        xhi = xhi.max(p.0);
    }
    if !xlo.is_finite() {
        (xlo, xhi) = (0.0, 1.0);
    }
    let (xkind, xlo, xhi) = match &c.x {
        XAxis::Cat(l) => (AxisKind::Cat(l.len()), -0.5, l.len() as f64 - 0.5),
        XAxis::Time => {
            let pad = if xhi > xlo { 0.0 } else { 3600.0 };
            (AxisKind::Time, xlo - pad, xhi + pad)
        }
        XAxis::Num => {
            let pad = if xhi > xlo { (xhi - xlo) * 0.02 } else { 1.0 };
            (AxisKind::Num, xlo - pad, xhi + pad)
        }
    };
    let (ylo, yhi) = if stacked {
        y_range(c, stacks.iter().flat_map(|s| s.iter().map(|t| t.2)), true)
    } else {
        y_range(c, all.map(|p| p.1), c.kind == Kind::Area)
    };
    let xspan = xhi - xlo;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(if c.xtitle.is_empty() { 30 } else { 50 })
        .y_label_area_size(y_label_width(ylo, yhi) + if c.ytitle.is_empty() { 0 } else { 24 })
        .build_cartesian_2d(Axis { lo: xlo, hi: xhi, kind: xkind }, Axis { lo: ylo, hi: yhi, kind: AxisKind::Num })
        .map_err(e)?;
    let xfmt = |v: &f64| match &c.x {
        XAxis::Time => time_label(*v, xspan),
        XAxis::Num => format_num(*v),
        XAxis::Cat(l) => l.get(v.round() as usize).map(|s| cut_label(s, 16)).unwrap_or_default(),
    };
    let yfmt = |v: &f64| format_num(*v);
    chart
        .configure_mesh()
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_desc(c.xtitle.as_str())
        .y_desc(c.ytitle.as_str())
        .label_style((FONT, 13).into_font().color(&TEXT))
        .axis_desc_style((FONT, 15).into_font().color(&TEXT))
        .bold_line_style(GRID)
        .axis_style(RGBColor(160, 160, 160))
        .draw()
        .map_err(e)?;
    let markers = c.series.iter().map(|s| s.points.len()).max().unwrap_or(0) <= 60;
    for (i, s) in c.series.iter().enumerate() {
        let col = color(i);
        match c.kind {
            Kind::Scatter => {
                chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 4, col.mix(0.8).filled()))).map_err(e)?;
            }
            Kind::Area if stacked => {
                let st = &stacks[i];
                let mut poly: Vec<(f64, f64)> = st.iter().map(|t| (t.0, t.2)).collect();
                poly.extend(st.iter().rev().map(|t| (t.0, t.1)));
                chart.draw_series(std::iter::once(Polygon::new(poly, col.mix(0.45).filled()))).map_err(e)?;
                chart.draw_series(LineSeries::new(st.iter().map(|t| (t.0, t.2)), col.stroke_width(2))).map_err(e)?;
            }
            Kind::Area => {
                chart
                    .draw_series(
                        AreaSeries::new(s.points.iter().copied(), ylo.max(0.0).min(yhi), col.mix(0.25))
                            .border_style(col.stroke_width(2)),
                    )
                    .map_err(e)?;
            }
            _ => {
                chart.draw_series(LineSeries::new(s.points.iter().copied(), col.stroke_width(2))).map_err(e)?;
                if markers {
                    chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, col.filled()))).map_err(e)?;
                }
            }
        }
    }
    if !c.anomalies.is_empty() {
        let red = RGBColor(220, 20, 60);
        chart.draw_series(c.anomalies.iter().map(|&p| Circle::new(p, 6, red.stroke_width(2)))).map_err(e)?;
    }
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Chart) -> DResult<()> {
    let labels = match &c.x {
        XAxis::Cat(l) => l.clone(),
        _ => vec![],
    };
    let n = labels.len().max(1);
    let horizontal = c.kind == Kind::Bar;
    let stacked = c.props.stacked();
    let k = c.series.len().max(1);
    // bars: (category index, series index, low, high)
    let mut bars: Vec<(f64, usize, f64, f64)> = Vec::new();
    if stacked {
        for (si, st) in stack(&c.series, c.props.stacked100()).iter().enumerate() {
            for &(x, lo, hi) in st {
                bars.push((x, si, lo, hi));
            }
        }
    } else {
        for (si, s) in c.series.iter().enumerate() {
            for &(x, y) in &s.points {
                bars.push((x, si, 0.0f64.min(y), 0.0f64.max(y)));
            }
        }
    }
    let (vlo, vhi) = y_range(c, bars.iter().flat_map(|b| [b.2, b.3]), true);
    // in a horizontal bar chart the first row is at the top
    let pos = |i: f64| if horizontal { (n - 1) as f64 - i } else { i };
    let cat_axis = Axis { lo: -0.5, hi: n as f64 - 0.5, kind: AxisKind::Cat(n) };
    let val_axis = Axis { lo: vlo, hi: vhi, kind: AxisKind::Num };
    let cat_fmt = |v: &f64| {
        let i = v.round() as i64;
        let i = if horizontal { n as i64 - 1 - i } else { i };
        labels.get(i.max(0) as usize).map(|s| cut_label(s, 28)).unwrap_or_default()
    };
    let val_fmt = |v: &f64| format_num(*v);
    let band = 0.8;
    let width_of = |si: usize| {
        if stacked {
            (-band / 2.0, band / 2.0)
        } else {
            let w = band / k as f64;
            (-band / 2.0 + w * si as f64, -band / 2.0 + w * (si + 1) as f64)
        }
    };
    let label_style = (FONT, 13).into_font().color(&TEXT);
    let desc_style = (FONT, 15).into_font().color(&TEXT);
    if horizontal {
        let longest = labels.iter().map(|l| l.chars().count().min(28)).max().unwrap_or(4) as u32;
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(if c.ytitle.is_empty() { 30 } else { 50 })
            .y_label_area_size(longest * 7 + 20 + if c.xtitle.is_empty() { 0 } else { 24 })
            .build_cartesian_2d(val_axis, cat_axis)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(n.min(40))
            .x_label_formatter(&val_fmt)
            .y_label_formatter(&cat_fmt)
            .x_desc(c.ytitle.as_str())
            .y_desc(c.xtitle.as_str())
            .label_style(label_style)
            .axis_desc_style(desc_style)
            .bold_line_style(GRID)
            .disable_y_mesh()
            .axis_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(bars.iter().map(|&(x, si, lo, hi)| {
                let (a, b) = width_of(si);
                let y = pos(x);
                Rectangle::new([(lo, y + a), (hi, y + b)], color(si).filled())
            }))
            .map_err(e)?;
    } else {
        let (w, _) = area.dim_in_pixel();
        let per = (w as usize).saturating_sub(100) / n;
        let chars = (per / 7).clamp(3, 24);
        let cat_fmt_v = |v: &f64| {
            let i = v.round() as i64;
            labels.get(i.max(0) as usize).map(|s| cut_label(s, chars)).unwrap_or_default()
        };
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(if c.xtitle.is_empty() { 30 } else { 50 })
            .y_label_area_size(y_label_width(vlo, vhi) + if c.ytitle.is_empty() { 0 } else { 24 })
            .build_cartesian_2d(cat_axis, val_axis)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_labels(n.min(40))
            .y_labels(8)
            .x_label_formatter(&cat_fmt_v)
            .y_label_formatter(&val_fmt)
            .x_desc(c.xtitle.as_str())
            .y_desc(c.ytitle.as_str())
            .label_style(label_style)
            .axis_desc_style(desc_style)
            .bold_line_style(GRID)
            .disable_x_mesh()
            .axis_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(bars.iter().map(|&(x, si, lo, hi)| {
                let (a, b) = width_of(si);
                Rectangle::new([(x + a, lo), (x + b, hi)], color(si).filled())
            }))
            .map_err(e)?;
    }
    Ok(())
}

fn draw_pie<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Chart) -> DResult<()> {
    let Some(s) = c.series.first() else {
        return Ok(());
    };
    let vals: Vec<f64> = s.points.iter().map(|p| p.1.max(0.0)).collect();
    let total: f64 = vals.iter().sum();
    if total <= 0.0 {
        return Ok(());
    }
    let colors: Vec<RGBColor> = (0..vals.len()).map(color).collect();
    let labels: Vec<String> = vec![String::new(); vals.len()];
    let (w, h) = area.dim_in_pixel();
    let center = (w as i32 / 2, h as i32 / 2);
    let radius = (w.min(h) as f64 / 2.0 - 30.0).max(20.0);
    let mut pie = Pie::new(&center, &radius, &vals, &colors, &labels);
    pie.start_angle(-90.0);
    pie.percentages((FONT, 14).into_font().color(&WHITE));
    area.draw(&pie).map_err(e)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Files

static FONT_STATE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();

/// Where a sans-serif TrueType font may be found (`KQL_CHART_FONT` first).
fn font_candidates() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    if let Ok(p) = std::env::var("KQL_CHART_FONT") {
        v.push(p.into());
    }
    for p in [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/noto/NotoSans-Regular.ttf",
        "/Library/Fonts/Arial.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:\\Windows\\Fonts\\arial.ttf",
        "C:\\Windows\\Fonts\\segoeui.ttf",
    ] {
        v.push(p.into());
    }
    v
}

/// Register a font for the chart text (once).
fn ensure_font() -> Result<(), String> {
    FONT_STATE
        .get_or_init(|| {
            for p in font_candidates() {
                if let Ok(bytes) = std::fs::read(&p) {
                    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                    if plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_ok() {
                        return Ok(());
                    }
                }
            }
            Err("no TrueType font found for chart text: install fonts-dejavu-core (or set KQL_CHART_FONT to a .ttf file)"
                .to_string())
        })
        .clone()
}

/// The SVG and PNG paths for an output base (`x`, `x.svg` or `x.png` all give `x.svg` and
/// `x.png`).
pub fn output_paths(base: &Path) -> (PathBuf, PathBuf) {
    let stem = match base.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("svg") || ext.eq_ignore_ascii_case("png") => base.with_extension(""),
        _ => base.to_path_buf(),
    };
    let mut svg = stem.clone().into_os_string();
    svg.push(".svg");
    let mut png = stem.into_os_string();
    png.push(".png");
    (svg.into(), png.into())
}

/// Draw a chart into `svg` and `png` files.
pub fn write_files(c: &Chart, svg: &Path, png: &Path) -> Result<(), String> {
    ensure_font()?;
    for p in [svg, png] {
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
        }
    }
    {
        let root = SVGBackend::new(svg, SIZE).into_drawing_area();
        draw(&root, c).map_err(|err| format!("{}: {err}", svg.display()))?;
    }
    let root = BitMapBackend::new(png, SIZE).into_drawing_area();
    draw(&root, c).map_err(|err| format!("{}: {err}", png.display()))?;
    Ok(())
}

/// Draw the chart a result asks for (if any) at `base` (see [`output_paths`]); returns the
/// paths written, or `None` when the result asks for no chart (`render table`, or no `render`).
pub fn render_result(r: &QueryResult, base: &Path) -> Result<Option<(PathBuf, PathBuf)>, String> {
    let Some(spec) = &r.render else {
        return Ok(None);
    };
    let Some(chart) = build(r, spec)? else {
        return Ok(None);
    };
    let (svg, png) = output_paths(base);
    write_files(&chart, &svg, &png)?;
    Ok(Some((svg, png)))
}

/// The default place for a chart: `<temp>/kql-charts/<name>`.
pub fn default_base(name: &str) -> PathBuf {
    std::env::temp_dir().join("kql-charts").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn props_are_read() {
        let spec = RenderSpec {
            chart: "columnchart".into(),
            props: vec![
                ("title".into(), vec!["\"Fails by day\"".into()]),
                ("ycolumns".into(), vec!["a".into(), "['b c']".into()]),
                ("kind".into(), vec!["stacked".into()]),
                ("legend".into(), vec!["hidden".into()]),
                ("ymax".into(), vec!["100".into()]),
            ],
        };
        let p = Props::from_spec(&spec);
        assert_eq!(p.title.as_deref(), Some("Fails by day"));
        assert_eq!(p.ycolumns, vec!["a", "b c"]);
        assert!(p.stacked() && !p.legend);
        assert_eq!(p.ymax, Some(100.0));
    }

    #[test]
    fn numbers_and_times_format() {
        assert_eq!(format_num(12.0), "12");
        assert_eq!(format_num(0.25), "0.25");
        assert_eq!(format_num(15000.0), "15K");
        assert_eq!(format_num(2_500_000.0), "2.5M");
        // 2025-10-14T00:00:00Z
        let t = 1760400000.0;
        assert_eq!(time_label(t, 14.0 * 86400.0), "Oct 14");
        assert_eq!(time_label(t + 3600.0 * 6.0, 86400.0), "06:00");
    }

    #[test]
    fn time_ticks_are_calendar_aligned() {
        let a = Axis { lo: 1760400000.0 + 1234.0, hi: 1760400000.0 + 14.0 * 86400.0, kind: AxisKind::Time };
        let ks = a.key_points(plotters::coord::ranged1d::BoldPoints(10));
        assert!(!ks.is_empty());
        for k in ks {
            assert_eq!(k % 86400.0, 0.0);
        }
    }

    #[test]
    fn output_paths_pair() {
        let (s, p) = output_paths(Path::new("out/c.png"));
        assert_eq!(s, PathBuf::from("out/c.svg"));
        assert_eq!(p, PathBuf::from("out/c.png"));
    }
}
