//! The query generator: random KQL built operator by operator. Each operator is proposed, then
//! the query so far is bound in check mode (no data read); an operator the binder refuses is
//! dropped and another one tried, and the binder's answer gives the columns and their types
//! that the next operator works with. So queries stay well typed (and the typing of every
//! operator is the engine's own), whatever the functions and operators return.
//!
//! Scalar expressions are built by type: columns, literals with the edge values, operators,
//! dynamic paths, `let` scalars and functions, `toscalar` subqueries, and every scalar function
//! of Kusto's catalog (`kql-exec/data/kusto-functions.json`) with arguments of the types its
//! signature declares (constant arguments as literals, enumerated ones from the catalog's
//! values).

use super::rng::Rng;
use super::tables::{STRINGS, TABLES};
use kql_exec::schema::KqlType;
use kql_parser::printer::{ident, string_lit};
use serde_json::Value;
use std::collections::HashMap;

/// A column: name and type.
pub type Cols = Vec<(String, KqlType)>;

/// What a parameter of a catalog function accepts.
#[derive(Clone, Debug)]
struct Param {
    types: Vec<KqlType>,
    /// Takes a type shared by the other `common` parameters (and maybe the result).
    common: bool,
    constant: bool,
    values: Vec<String>,
    name: String,
    min: usize,
    max: usize,
}

#[derive(Clone, Debug)]
enum Ret {
    Fixed(KqlType),
    /// The type of the first argument.
    Param0,
    /// The common type of the `common` parameters.
    Common,
    /// Known only by binding.
    Unknown,
}

#[derive(Clone, Debug)]
struct Sig {
    name: String,
    ret: Ret,
    params: Vec<Param>,
}

/// Scalar functions never generated: their value changes from run to run, or they read
/// the row order or the environment.
const SKIP: &[&str] = &[
    "rand",
    "new_guid",
    "ingestion_time",
    "cursor_after",
    "cursor_before_or_at",
    "cursor_current",
    "current_cluster_endpoint",
    "current_database",
    "current_principal",
    "current_principal_details",
    "current_principal_is_member_of",
    "extent_id",
    "extent_tags",
    "row_number",
    "row_cumsum",
    "row_rank_dense",
    "row_rank_min",
    "row_window_session",
    "prev",
    "next",
    "toscalar",
    "materialize",
    "table",
    "column_ifexists",
    "assert",
    "external_table",
    "database",
    "cluster",
    "geo_info_from_ip_address",
    "getschema",
    "estimate_data_size",
];

fn type_kinds(kind: &str, declared: &[Value]) -> Option<(Vec<KqlType>, bool)> {
    use KqlType::*;
    let v = match kind {
        "Declared" => {
            let ts: Vec<KqlType> = declared.iter().filter_map(|t| t.as_str().and_then(KqlType::parse)).collect();
            if ts.is_empty() || ts.len() != declared.len() {
                return None;
            }
            ts
        }
        "Number" => vec![Int, Long, Real],
        "Integer" => vec![Int, Long],
        "Summable" => vec![Int, Long, Real, TimeSpan],
        "Scalar" | "Any" => vec![Bool, Int, Long, Real, DateTime, TimeSpan, String, Guid, Dynamic],
        "NotDynamic" => vec![Bool, Int, Long, Real, DateTime, TimeSpan, String, Guid],
        "StringOrDynamic" | "StringOrArray" => vec![String, Dynamic],
        "DynamicArray" | "DynamicBag" => vec![Dynamic],
        "Orderable" => vec![Long, Real, DateTime, TimeSpan, String],
        "NumberOrBool" => vec![Long, Real, Bool],
        "NotRealOrBool" => vec![Long, String, DateTime],
        "IntegerOrArray" => vec![Long, Dynamic],
        "CommonScalarOrDynamic" => return Some((vec![Bool, Long, Real, DateTime, TimeSpan, String, Dynamic], true)),
        "CommonScalar" => return Some((vec![Bool, Long, Real, DateTime, TimeSpan, String], true)),
        "CommonOrderable" => return Some((vec![Long, Real, DateTime, TimeSpan, String], true)),
        _ => return None,
    };
    Some((v, false))
}

/// The scalar functions of the catalog the generator calls.
pub struct Catalog {
    sigs: Vec<Sig>,
}

impl Catalog {
    /// Read the scalar functions and their signatures from the catalog file.
    pub fn load() -> Catalog {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../kql-exec/data/kusto-functions.json"))
                .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let mut sigs = Vec::new();
        'f: for f in v["functions"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            if f["kind"] != "scalar"
                || f["hidden"].as_bool() == Some(true)
                || SKIP.contains(&name)
                || name.starts_with('_')
            {
                continue;
            }
            for s in f["signatures"].as_array().unwrap() {
                let ret = match s["return_kind"].as_str().unwrap_or("") {
                    "Declared" => match s["return_type"].as_str().and_then(KqlType::parse) {
                        Some(t) => Ret::Fixed(t),
                        None => continue,
                    },
                    "Parameter0" => Ret::Param0,
                    "Common" | "CommonNonDynamic" | "Widest" => Ret::Common,
                    _ => Ret::Unknown,
                };
                let mut params = Vec::new();
                for p in s["params"].as_array().unwrap() {
                    let Some((types, common)) =
                        type_kinds(p["type_kind"].as_str().unwrap_or(""), p["types"].as_array().map_or(&[][..], |v| v))
                    else {
                        continue 'f;
                    };
                    params.push(Param {
                        types,
                        common,
                        constant: p["constant"].as_bool() == Some(true),
                        values: p["values"]
                            .as_array()
                            .map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                            .unwrap_or_default(),
                        name: p["name"].as_str().unwrap_or("").to_string(),
                        min: p["min"].as_u64().unwrap_or(1) as usize,
                        max: (p["max"].as_u64().unwrap_or(1) as usize).min(3),
                    });
                }
                sigs.push(Sig { name: name.to_string(), ret, params });
            }
        }
        Catalog { sigs }
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        self.sigs.len()
    }
}

const REGEXES: &[&str] = &[r"(\w+)", r"[a-z]+", r"(\d+)\.(\d+)", r"^a", r".*", r"(?i)HELLO", r"([^,]+),"];

/// One query under construction and what it needs to know.
pub struct Gen<'a> {
    /// The query's random numbers (from its seed).
    pub rng: Rng,
    cat: &'a Catalog,
    /// Functions the binder refused every time so far: name → (accepted, refused).
    usage: &'a mut HashMap<String, (u32, u32)>,
    check: &'a mut dyn FnMut(&str) -> Option<Cols>,
    /// `let` statements so far (each ends with `;`).
    lets: Vec<String>,
    scalars: Vec<(String, KqlType)>,
    tabular: Vec<(String, Cols)>,
    /// Scalar functions of `let`: name, parameter type, result type.
    funcs: Vec<(String, KqlType, KqlType)>,
    /// Tabular functions of `let` over one `long` parameter: name and columns.
    tfuncs: Vec<(String, Cols)>,
    fresh: usize,
    /// The rows depend on the order rows arrive in (a `take` of unordered rows, `innerunique`
    /// joins over duplicate keys...): only errors are compared.
    pub nondet: bool,
    /// Operators the binder refused while generating.
    pub refused: u64,
    /// The functions called by the expression being built.
    called: Vec<String>,
}

fn is_num(t: KqlType) -> bool {
    matches!(t, KqlType::Int | KqlType::Long | KqlType::Real)
}

impl<'a> Gen<'a> {
    /// A generator for one query: its seed, the catalog, the functions' record of acceptance,
    /// and the check that binds a query text.
    pub fn new(
        seed: u64,
        cat: &'a Catalog,
        usage: &'a mut HashMap<String, (u32, u32)>,
        check: &'a mut dyn FnMut(&str) -> Option<Cols>,
    ) -> Gen<'a> {
        Gen {
            rng: Rng::new(seed),
            cat,
            usage,
            check,
            lets: Vec::new(),
            scalars: Vec::new(),
            tabular: Vec::new(),
            funcs: Vec::new(),
            tfuncs: Vec::new(),
            fresh: 0,
            nondet: false,
            refused: 0,
            called: Vec::new(),
        }
    }

    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn with_lets(&self, body: &str) -> String {
        let mut s = String::new();
        for l in &self.lets {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str(body);
        s
    }

    /// Bind `body` after the lets: its columns, or `None` when the binder refuses it. The
    /// functions called in it learn whether they were accepted.
    fn try_body(&mut self, body: &str) -> Option<Cols> {
        let text = self.with_lets(body);
        let got = (self.check)(&text);
        for f in std::mem::take(&mut self.called) {
            let u = self.usage.entry(f).or_default();
            if got.is_some() {
                u.0 += 1
            } else {
                u.1 += 1
            }
        }
        if got.is_none() {
            self.refused += 1;
        }
        got
    }

    /// A whole query: some `let` statements, then a tabular expression.
    pub fn query(&mut self) -> String {
        for _ in 0..self.rng.below(3) {
            self.let_statement();
        }
        let depth = self.rng.range(1, 6) as usize;
        let (body, _) = self.pipeline(depth, true);
        self.with_lets(&body)
    }

    fn let_statement(&mut self) {
        match self.rng.below(5) {
            0 | 1 => {
                let ty = self.any_type();
                let e = self.expr(ty, 2, &[]);
                let name = self.name("x");
                let stmt = format!("let {name} = {e};");
                self.lets.push(stmt);
                match self.try_body(&format!("print {name}")) {
                    Some(c) if c.len() == 1 => self.scalars.push((name, c[0].1)),
                    _ => {
                        self.lets.pop();
                    }
                }
            }
            2 => {
                let (body, cols) = self.pipeline(2, false);
                let name = self.name("V");
                let body = if self.rng.chance(20) { format!("materialize({body})") } else { body };
                self.lets.push(format!("let {name} = {body};"));
                self.tabular.push((name, cols));
            }
            3 => {
                // a scalar function of one parameter
                let pt = *self.rng.pick(&[KqlType::Long, KqlType::String, KqlType::Real, KqlType::DateTime]);
                let name = self.name("f");
                let p = self.name("p");
                let cols = vec![(p.clone(), pt)];
                let rt = self.any_type();
                let body = self.expr(rt, 2, &cols);
                let stmt = format!("let {name} = ({p}: {}) {{ {body} }};", pt.name());
                self.lets.push(stmt);
                let arg = self.literal(pt);
                match self.try_body(&format!("print {name}({arg})")) {
                    Some(c) if c.len() == 1 => self.funcs.push((name, pt, c[0].1)),
                    _ => {
                        self.lets.pop();
                    }
                }
            }
            _ => {
                // a tabular function of one `long` parameter
                let name = self.name("tf");
                let p = self.name("p");
                let (t, cols) = self.base_table();
                let c = cols.iter().find(|c| is_num(c.1)).map(|c| c.0.clone()).unwrap_or_else(|| "n".into());
                let stmt = format!("let {name} = ({p}: long) {{ {t} | where {} < {p} }};", ident(&c));
                self.lets.push(stmt);
                match self.try_body(&format!("{name}(3)")) {
                    Some(c) => self.tfuncs.push((name, c)),
                    None => {
                        self.lets.pop();
                    }
                }
            }
        }
    }

    fn base_table(&mut self) -> (String, Cols) {
        let (name, cols) = self.rng.pick(TABLES);
        (name.to_string(), cols.iter().map(|(n, t)| (n.to_string(), *t)).collect())
    }

    /// A source of rows.
    fn source(&mut self, depth: usize) -> (String, Cols) {
        let r = self.rng.below(20);
        if r < 2 && !self.tabular.is_empty() {
            let (n, c) = self.rng.pick(&self.tabular).clone();
            return (n, c);
        }
        if r == 2 && !self.tfuncs.is_empty() {
            let (n, c) = self.rng.pick(&self.tfuncs).clone();
            let arg = self.rng.range(-1, 6);
            return (format!("{n}({arg})"), c);
        }
        if r == 3 && depth > 1 {
            let (a, _) = self.pipeline(depth - 1, false);
            let (b, _) = self.pipeline(depth - 1, false);
            let ws = if self.rng.chance(30) { "withsource=src " } else { "" };
            let kind = if self.rng.chance(20) { "kind=inner " } else { "" };
            let text = format!("union {kind}{ws}({a}), ({b})");
            if let Some(c) = self.try_body(&text) {
                return (text, c);
            }
        }
        if r == 4 {
            let text = format!(
                "range x from {} to {} step {}",
                self.rng.range(-2, 2),
                self.rng.range(-1, 8),
                self.rng.range(1, 3)
            );
            if let Some(c) = self.try_body(&text) {
                return (text, c);
            }
        }
        if r == 5 {
            let n = self.rng.below(3);
            let ty = self.any_type();
            let vals: Vec<String> = (0..n).map(|_| self.literal(ty)).collect();
            let text = format!("datatable(z: {}) [{}]", ty.name(), vals.join(", "));
            if let Some(c) = self.try_body(&text) {
                return (text, c);
            }
        }
        if r == 6 && depth > 1 {
            let (inner, c) = self.pipeline(depth - 1, false);
            return (format!("({inner})"), c);
        }
        self.base_table()
    }

    /// A source and operators after it, each accepted by the binder.
    fn pipeline(&mut self, depth: usize, top: bool) -> (String, Cols) {
        let (mut text, mut cols) = self.source(depth);
        let n = if top { self.rng.range(1, 6) } else { self.rng.range(0, 3) };
        // rows are in a known total order (after a `sort` by every column)
        let mut ordered = false;
        for _ in 0..n {
            for _attempt in 0..4 {
                let nondet_before = self.nondet;
                let (op, keeps_order, orders) = self.operator(&cols, depth, ordered);
                let cand = format!("{text}\n| {op}");
                if let Some(c) = self.try_body(&cand) {
                    text = cand;
                    cols = c;
                    ordered = orders || (ordered && keeps_order);
                    break;
                }
                self.nondet = nondet_before;
            }
        }
        (text, cols)
    }

    fn any_type(&mut self) -> KqlType {
        use KqlType::*;
        *self.rng.pick(&[Bool, Int, Long, Real, DateTime, TimeSpan, String, String, Guid, Dynamic, Dynamic, Long])
    }

    fn col_of(&mut self, cols: &[(String, KqlType)], pred: impl Fn(KqlType) -> bool) -> Option<String> {
        let c: Vec<&(String, KqlType)> = cols.iter().filter(|c| pred(c.1)).collect();
        if c.is_empty() {
            None
        } else {
            Some(ident(&self.rng.pick(&c).0))
        }
    }

    /// An operator over rows of `cols`: its text, whether it keeps the row order, whether it
    /// puts the rows in a total order.
    fn operator(&mut self, cols: &Cols, depth: usize, ordered: bool) -> (String, bool, bool) {
        let names: Vec<String> = cols.iter().map(|c| ident(&c.0)).collect();
        let sortable: Vec<String> = cols.iter().filter(|c| c.1 != KqlType::Dynamic).map(|c| ident(&c.0)).collect();
        let total = sortable.len() == cols.len() && !cols.is_empty();
        match self.rng.below(100) {
            0..=17 => {
                let e = self.expr(KqlType::Bool, 3, cols);
                let kw = if self.rng.chance(10) { "filter" } else { "where" };
                (format!("{kw} {e}"), true, false)
            }
            18..=31 => {
                let n = self.rng.range(1, 3);
                let items: Vec<String> = (0..n).map(|_| self.assignment(cols)).collect();
                (format!("extend {}", items.join(", ")), true, false)
            }
            32..=38 => {
                let mut items: Vec<String> = names.iter().filter(|_| self.rng.chance(60)).cloned().collect();
                if items.is_empty() || self.rng.chance(30) {
                    items.push(self.assignment(cols));
                }
                (format!("project {}", items.join(", ")), true, false)
            }
            39..=41 if !names.is_empty() => {
                let items: Vec<String> = names.iter().filter(|_| self.rng.chance(30)).cloned().collect();
                let items = if items.is_empty() { vec![self.rng.pick(&names).clone()] } else { items };
                let kw = if self.rng.chance(30) { "project-keep" } else { "project-away" };
                (format!("{kw} {}", items.join(", ")), true, false)
            }
            42..=43 if !names.is_empty() => {
                let old = self.rng.pick(&names).clone();
                let new = self.name("rn");
                (format!("project-rename {new} = {old}"), true, false)
            }
            44 if !names.is_empty() => {
                let mut items: Vec<String> = names.iter().filter(|_| self.rng.chance(40)).cloned().collect();
                if items.is_empty() {
                    items.push(self.rng.pick(&names).clone());
                }
                let dir = if self.rng.chance(30) { " desc" } else { "" };
                (format!("project-reorder {}{dir}", items.join(", ")), true, false)
            }
            45..=56 => (self.summarize(cols), false, false),
            57..=61 if !sortable.is_empty() => {
                // sort by every sortable column (a total order when nothing is dynamic), or a few
                let all = self.rng.chance(60);
                let picked: Vec<String> = sortable.iter().filter(|_| all || self.rng.chance(40)).cloned().collect();
                let keys: Vec<String> = picked.iter().map(|k| format!("{k}{}", self.sort_dir())).collect();
                let keys = if keys.is_empty() { vec![sortable[0].clone()] } else { keys };
                let covers = keys.len() == sortable.len() && total;
                let kw = if self.rng.chance(50) { "sort" } else { "order" };
                (format!("{kw} by {}", keys.join(", ")), false, covers)
            }
            62..=64 if !sortable.is_empty() => {
                let keys: Vec<String> = sortable.iter().map(|k| format!("{k}{}", self.sort_dir())).collect();
                let n = self.rng.range(0, 5);
                if !total {
                    self.nondet = true;
                }
                (format!("top {n} by {}", keys.join(", ")), false, total)
            }
            65..=67 => {
                if !ordered {
                    self.nondet = true;
                }
                let kw = if self.rng.chance(50) { "take" } else { "limit" };
                (format!("{kw} {}", self.rng.range(0, 6)), true, false)
            }
            68..=70 => {
                if self.rng.chance(30) || sortable.is_empty() {
                    ("distinct *".into(), false, false)
                } else {
                    let items: Vec<String> = sortable.iter().filter(|_| self.rng.chance(50)).cloned().collect();
                    let items = if items.is_empty() { vec![sortable[0].clone()] } else { items };
                    (format!("distinct {}", items.join(", ")), false, false)
                }
            }
            71 => ("count".into(), false, false),
            72..=78 => (self.join(cols, depth), false, false),
            79..=80 => (self.lookup(cols, depth), false, false),
            81..=83 => {
                let (r, _) = self.pipeline(depth.saturating_sub(1).max(1), false);
                let kind = if self.rng.chance(20) { "kind=inner " } else { "" };
                (format!("union {kind}({r})"), false, false)
            }
            84..=88 => (self.mv_expand(cols), false, false),
            89..=90 => (self.mv_apply(cols), false, false),
            91..=93 => (self.parse(cols), false, false),
            94 => (self.make_series(cols), false, false),
            95 if !names.is_empty() => {
                let k = self.rng.pick(&names).clone();
                // which row of equal maxima is kept is not defined
                self.nondet = true;
                (format!("summarize arg_max({k}, *) by {}", names[0]), false, false)
            }
            96 => {
                self.nondet = true;
                (format!("sample {}", self.rng.range(0, 4)), false, false)
            }
            97 => ("as Q".into(), true, false),
            _ => {
                let e = self.expr(KqlType::Bool, 2, cols);
                (format!("where {e}"), true, false)
            }
        }
    }

    fn sort_dir(&mut self) -> String {
        let d = *self.rng.pick(&["", " asc", " desc"]);
        let n = *self.rng.pick(&["", "", " nulls first", " nulls last"]);
        format!("{d}{n}")
    }

    fn assignment(&mut self, cols: &Cols) -> String {
        let name = if self.rng.chance(15) && !cols.is_empty() { ident(&self.rng.pick(cols).0) } else { self.name("c") };
        let e = if self.rng.chance(25) {
            self.any_call(cols, 2)
        } else {
            let ty = self.any_type();
            self.expr(ty, 3, cols)
        };
        format!("{name} = {e}")
    }

    fn aggregate(&mut self, cols: &Cols) -> String {
        use KqlType::*;
        let num = |s: &mut Self| {
            let t = *s.rng.pick(&[Long, Real, Int]);
            s.expr(t, 2, cols)
        };
        match self.rng.below(22) {
            0 | 1 => "count()".into(),
            2 => format!("countif({})", self.expr(Bool, 2, cols)),
            3 | 4 => format!("sum({})", num(self)),
            5 => format!("sumif({}, {})", num(self), self.expr(Bool, 2, cols)),
            6 => format!("avg({})", num(self)),
            7 => format!("avgif({}, {})", num(self), self.expr(Bool, 2, cols)),
            8 | 9 => {
                let t = *self.rng.pick(&[Long, Real, DateTime, TimeSpan, String, Bool]);
                let f = *self.rng.pick(&["min", "max"]);
                format!("{f}({})", self.expr(t, 2, cols))
            }
            10 => {
                let t = self.any_type();
                format!("dcount({})", self.expr(t, 2, cols))
            }
            11 => {
                let t = self.any_type();
                format!("dcountif({}, {})", self.expr(t, 2, cols), self.expr(Bool, 2, cols))
            }
            12 | 13 => {
                let t = self.any_type();
                let f = *self.rng.pick(&["make_set", "make_list"]);
                // `array_sort_asc` keeps bools, arrays and bags in their list order (as Kusto),
                // which is the rows' arrival order
                self.nondet |= matches!(t, Dynamic | Bool);
                format!("array_sort_asc({f}({}))", self.expr(t, 2, cols))
            }
            14 => {
                let t = self.any_type();
                let f = *self.rng.pick(&["make_set_if", "make_list_if"]);
                self.nondet |= matches!(t, Dynamic | Bool);
                format!("array_sort_asc({f}({}, {}))", self.expr(t, 2, cols), self.expr(Bool, 2, cols))
            }
            15 => format!("{}({})", self.rng.pick(&["stdev", "variance", "stdevp", "variancep"]), num(self)),
            16 => {
                let t = *self.rng.pick(&[Long, Real, DateTime, String]);
                let e = self.expr(t, 2, cols);
                let f = *self.rng.pick(&["arg_max", "arg_min"]);
                // which of equal (or NaN) extremes is kept is not defined, and NaN's place among
                // reals depends on batch boundaries (an open finding, docs/fuzzing.md): compare
                // errors only, or the CI run would fail by timing
                self.nondet = true;
                format!("{f}({e}, {e})")
            }
            17 => {
                self.nondet = true;
                let t = self.any_type();
                format!("take_any({})", self.expr(t, 2, cols))
            }
            18 => format!("{}({})", self.rng.pick(&["countif", "dcount"]), self.expr(Bool, 2, cols)),
            19 => format!("percentile({}, {})", num(self), self.rng.pick(&[0, 50, 90, 100])),
            20 => format!("{}({})", self.rng.pick(&["min", "max", "sum"]), num(self)),
            _ => {
                // which value of a key two bags share `make_bag` keeps, and the order of the types
                // `buildschema` lists for a slot (Kusto's: the order they are first seen), follow
                // the rows' arrival order
                self.nondet = true;
                format!("{}({})", self.rng.pick(&["make_bag", "buildschema"]), self.expr(Dynamic, 2, cols))
            }
        }
    }

    fn group_key(&mut self, cols: &Cols) -> String {
        use KqlType::*;
        match self.rng.below(6) {
            0 => {
                if let Some(c) = self.col_of(cols, |t| t == DateTime) {
                    let span = self.rng.pick(&["1h", "1d", "15m", "7d", "1tick"]).to_string();
                    return format!("bin({c}, {span})");
                }
                self.group_key(cols)
            }
            1 => {
                if let Some(c) = self.col_of(cols, is_num) {
                    return format!("bin({c}, {})", self.rng.pick(&["5", "0.5", "1", "100"]));
                }
                self.group_key(cols)
            }
            2 => {
                let t = self.any_type();
                let e = self.expr(t, 2, cols);
                format!("{} = {e}", self.name("g"))
            }
            _ => match self.col_of(cols, |_| true) {
                Some(c) => c,
                None => {
                    let e = self.expr(String, 1, cols);
                    format!("{} = {e}", self.name("g"))
                }
            },
        }
    }

    fn summarize(&mut self, cols: &Cols) -> String {
        let na = self.rng.range(0, 3);
        let nk = self.rng.range(if na == 0 { 1 } else { 0 }, 2);
        let aggs: Vec<String> = (0..na)
            .map(|_| {
                let a = self.aggregate(cols);
                if self.rng.chance(50) {
                    format!("{} = {a}", self.name("a"))
                } else {
                    a
                }
            })
            .collect();
        let keys: Vec<String> = (0..nk).map(|_| self.group_key(cols)).collect();
        let by = if keys.is_empty() { String::new() } else { format!(" by {}", keys.join(", ")) };
        format!("summarize {}{by}", aggs.join(", "))
    }

    fn join(&mut self, cols: &Cols, depth: usize) -> String {
        let (right, rcols) = self.pipeline(depth.saturating_sub(1).max(1), false);
        let Some(rcols) = self.try_body(&right).or(Some(rcols)) else { unreachable!() };
        let kind = *self.rng.pick(&[
            "",
            "inner",
            "innerunique",
            "leftouter",
            "rightouter",
            "fullouter",
            "leftsemi",
            "leftanti",
            "rightsemi",
            "rightanti",
            "leftantisemi",
            "rightantisemi",
            "anti",
            "semi",
        ]);
        if kind.is_empty() || kind == "innerunique" {
            // which of the left rows of a key is kept is not defined
            self.nondet = true;
        }
        let common: Vec<&(String, KqlType)> =
            cols.iter().filter(|c| c.1 != KqlType::Dynamic && rcols.iter().any(|r| r == *c)).collect();
        let on = if !common.is_empty() && self.rng.chance(70) {
            let keys: Vec<String> = common.iter().filter(|_| self.rng.chance(50)).map(|c| ident(&c.0)).collect();
            if keys.is_empty() {
                ident(&self.rng.pick(&common).0)
            } else {
                keys.join(", ")
            }
        } else {
            // `$left.a == $right.b` over columns of one type
            let pairs: Vec<(String, String)> = cols
                .iter()
                .flat_map(|l| {
                    rcols
                        .iter()
                        .filter(move |r| r.1 == l.1 && l.1 != KqlType::Dynamic)
                        .map(move |r| (l.0.clone(), r.0.clone()))
                })
                .collect();
            if pairs.is_empty() {
                "k".into()
            } else {
                let (l, r) = self.rng.pick(&pairs).clone();
                format!("$left.{} == $right.{}", ident(&l), ident(&r))
            }
        };
        let kind = if kind.is_empty() { String::new() } else { format!("kind={kind} ") };
        format!("join {kind}({right}) on {on}")
    }

    fn lookup(&mut self, cols: &Cols, depth: usize) -> String {
        let (right, rcols) = self.pipeline(depth.saturating_sub(1).max(1), false);
        let common: Vec<&(String, KqlType)> =
            cols.iter().filter(|c| c.1 != KqlType::Dynamic && rcols.iter().any(|r| r == *c)).collect();
        let on = if common.is_empty() { "k".to_string() } else { ident(&self.rng.pick(&common).0) };
        let kind = *self.rng.pick(&["", "kind=leftouter ", "kind=inner "]);
        format!("lookup {kind}({right}) on {on}")
    }

    fn mv_expand(&mut self, cols: &Cols) -> String {
        let target = match self.col_of(cols, |t| t == KqlType::Dynamic) {
            Some(c) if self.rng.chance(70) => c,
            _ => {
                let e = self.expr(KqlType::Dynamic, 2, cols);
                format!("{} = {e}", self.name("m"))
            }
        };
        let kind = *self.rng.pick(&["", "", "kind=bag ", "kind=array "]);
        let idx = if self.rng.chance(20) { format!("with_itemindex={} ", self.name("ix")) } else { String::new() };
        let to = if self.rng.chance(25) {
            format!(" to typeof({})", self.rng.pick(&["long", "string", "real", "bool", "datetime", "dynamic"]))
        } else {
            String::new()
        };
        let limit = if self.rng.chance(15) { format!(" limit {}", self.rng.range(0, 3)) } else { String::new() };
        format!("mv-expand {kind}{idx}{target}{to}{limit}")
    }

    fn mv_apply(&mut self, cols: &Cols) -> String {
        let (item, src) = match self.col_of(cols, |t| t == KqlType::Dynamic) {
            Some(c) if self.rng.chance(60) => (self.name("e"), c),
            _ => (self.name("e"), self.expr(KqlType::Dynamic, 2, cols)),
        };
        let ty = *self.rng.pick(&["long", "string", "real", "dynamic"]);
        let kt = KqlType::parse(ty).unwrap();
        let inner_cols = vec![(item.clone(), kt)];
        let inner = match self.rng.below(4) {
            0 => format!("where {}", self.expr(KqlType::Bool, 2, &inner_cols)),
            1 => format!("summarize {}", self.aggregate(&inner_cols)),
            2 => format!("extend {} = {}", self.name("q"), self.expr(KqlType::String, 2, &inner_cols)),
            _ => format!("top 1 by {}", ident(&item)),
        };
        format!("mv-apply {item} = {src} to typeof({ty}) on ({inner})")
    }

    fn parse(&mut self, cols: &Cols) -> String {
        let src = match self.col_of(cols, |t| t == KqlType::String) {
            Some(c) => c,
            None => self.expr(KqlType::String, 1, cols),
        };
        let a = self.name("pa");
        let b = self.name("pb");
        match self.rng.below(5) {
            0 => format!("parse {src} with {a} \",\" {b}"),
            1 => format!("parse {src} with * \"=\" {a}:long * \"=\" {b}:string"),
            2 => format!("parse kind=regex {src} with \"(\\\\w)\" {a}:string \"[ ,]\" {b}"),
            3 => format!("parse-where {src} with {a}:string \".\" {b}:long"),
            _ => format!("parse kind=relaxed {src} with {a}:long \"-\" {b}:datetime"),
        }
    }

    fn make_series(&mut self, cols: &Cols) -> String {
        let Some(t) = self.col_of(cols, |t| t == KqlType::DateTime) else {
            return "where true".into();
        };
        let agg = match self.rng.below(3) {
            0 => "count()".to_string(),
            1 => match self.col_of(cols, is_num) {
                Some(c) => format!("avg({c})"),
                None => "count()".into(),
            },
            _ => match self.col_of(cols, is_num) {
                Some(c) => format!("sum({c})"),
                None => "count()".into(),
            },
        };
        let by = match self.col_of(cols, |t| t == KqlType::String) {
            Some(c) if self.rng.chance(50) => format!(" by {c}"),
            _ => String::new(),
        };
        let step = *self.rng.pick(&["1d", "6h", "12h"]);
        format!(
            "make-series {} = {agg} default = 0 on {t} from datetime(2025-10-18) to datetime(2025-10-22) step {step}{by}",
            self.name("ms")
        )
    }

    /// A literal of a type, with the edge values.
    pub fn literal(&mut self, ty: KqlType) -> String {
        use KqlType::*;
        let s: &[&str] = match ty {
            Bool => &["true", "false", "bool(null)"],
            Int => &["int(0)", "int(3)", "int(-1)", "int(null)", "int(2147483647)", "int(-2147483648)"],
            Long => &[
                "0",
                "1",
                "2",
                "-1",
                "5",
                "100",
                "long(null)",
                "9223372036854775807",
                "long(-9223372036854775808)",
                "1099511627776",
            ],
            Real => {
                &["0.5", "-2.25", "1.0", "0.0", "real(nan)", "real(+inf)", "real(-inf)", "real(null)", "1e10", "3.75"]
            }
            Decimal => &["decimal(1.5)", "decimal(null)"],
            DateTime => &[
                "datetime(2025-10-20)",
                "datetime(2025-10-21T06:00:00Z)",
                "datetime(null)",
                "datetime(0001-01-01)",
                "datetime(9999-12-31 23:59:59.9999999)",
                "datetime(1601-01-01)",
                "datetime(2025-10-19 12:30)",
            ],
            TimeSpan => &[
                "1h",
                "30m",
                "1d",
                "0s",
                "1tick",
                "timespan(null)",
                "-1h",
                "100ms",
                "7d",
                "time(1.02:03:04)",
                "time(10675199.02:48:05.4775807)",
                "time(-10675199.02:48:05.4775808)",
            ],
            String => {
                let s = *self.rng.pick(STRINGS);
                return string_lit(s);
            }
            Guid => &[
                "guid(00000000-0000-4000-8000-000000000001)",
                "guid(null)",
                "guid(00000001-0000-4000-8000-000000000000)",
            ],
            Dynamic => &[
                "dynamic(null)",
                "dynamic([1, 2, \"a\"])",
                "dynamic({\"a\": 1, \"b\": [1, 2]})",
                "dynamic([])",
                "dynamic({})",
                "dynamic(\"s\")",
                "dynamic(7)",
                "dynamic([[1], {\"a\": {\"b\": null}}])",
            ],
        };
        self.rng.pick(s).to_string()
    }

    /// An expression of type `ty` over `cols`.
    pub fn expr(&mut self, ty: KqlType, depth: usize, cols: &[(String, KqlType)]) -> String {
        use KqlType::*;
        if depth == 0 {
            if let Some(c) = self.col_of(cols, |t| t == ty) {
                if self.rng.chance(70) {
                    return c;
                }
            }
            return self.literal(ty);
        }
        let d = depth - 1;
        let r = self.rng.below(100);
        if r < 25 {
            if let Some(c) = self.col_of(cols, |t| t == ty) {
                return c;
            }
        }
        if r < 35 {
            return self.literal(ty);
        }
        if r < 38 {
            let v: Vec<(std::string::String, KqlType)> = self.scalars.iter().filter(|s| s.1 == ty).cloned().collect();
            if !v.is_empty() {
                return self.rng.pick(&v).0.clone();
            }
            let f: Vec<(std::string::String, KqlType, KqlType)> =
                self.funcs.iter().filter(|s| s.2 == ty).cloned().collect();
            if !f.is_empty() {
                let (n, pt, _) = self.rng.pick(&f).clone();
                let a = self.expr(pt, d, cols);
                return format!("{n}({a})");
            }
        }
        if r < 41 {
            let c = self.expr(Bool, d, cols);
            let a = self.expr(ty, d, cols);
            let b = self.expr(ty, d, cols);
            return if self.rng.chance(70) { format!("iff({c}, {a}, {b})") } else { format!("case({c}, {a}, {b})") };
        }
        if r < 43 && depth >= 2 && ty != Dynamic && ty != Guid {
            // a scalar subquery, run while binding
            let (t, tcols) = self.base_table();
            let e = self.expr(ty, 1, &tcols);
            let f = match ty {
                Long | Int | Real => *self.rng.pick(&["sum", "max", "min"]),
                Bool | String | DateTime | TimeSpan => *self.rng.pick(&["max", "min"]),
                _ => "max",
            };
            return format!("toscalar({t} | summarize {f}({e}))");
        }
        if r < 70 {
            if let Some(e) = self.typed_special(ty, d, cols) {
                return e;
            }
        }
        if let Some(e) = self.catalog_call(ty, d, cols) {
            return e;
        }
        self.literal(ty)
    }

    /// Operators and the forms of the language by type.
    fn typed_special(&mut self, ty: KqlType, d: usize, cols: &[(String, KqlType)]) -> Option<String> {
        use KqlType::*;
        Some(match ty {
            Bool => match self.rng.below(12) {
                0 | 1 => {
                    let t = *self.rng.pick(&[Long, Real, Int, DateTime, TimeSpan, String, Guid, Bool]);
                    let op = *self.rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
                    format!("{} {op} {}", self.expr(t, d, cols), self.expr(t, d, cols))
                }
                2 => {
                    let op = *self.rng.pick(&["and", "or"]);
                    format!("({} {op} {})", self.expr(Bool, d, cols), self.expr(Bool, d, cols))
                }
                3 => format!("not({})", self.expr(Bool, d, cols)),
                4 | 5 => {
                    let op = *self.rng.pick(&[
                        "has",
                        "!has",
                        "contains",
                        "!contains",
                        "startswith",
                        "endswith",
                        "=~",
                        "!~",
                        "hasprefix",
                        "hassuffix",
                        "has_cs",
                        "contains_cs",
                        "startswith_cs",
                        "!startswith",
                    ]);
                    format!("{} {op} {}", self.expr(String, d, cols), self.expr(String, d, cols))
                }
                6 => {
                    let t = *self.rng.pick(&[Long, String, Real, DateTime]);
                    let n = self.rng.range(1, 3);
                    let items: Vec<std::string::String> = (0..n).map(|_| self.expr(t, d.min(1), cols)).collect();
                    let op = *self.rng.pick(&["in", "!in", "in~", "has_any", "has_all"]);
                    let t2 = if op.starts_with("has") || op == "in~" { String } else { t };
                    let items = if t2 != t { (0..n).map(|_| self.literal(String)).collect() } else { items };
                    format!("{} {op} ({})", self.expr(t2, d, cols), items.join(", "))
                }
                7 => {
                    let t = *self.rng.pick(&[Long, Real, DateTime, TimeSpan]);
                    let op = if self.rng.chance(70) { "between" } else { "!between" };
                    format!("{} {op} ({} .. {})", self.expr(t, d, cols), self.expr(t, d, cols), self.expr(t, d, cols))
                }
                8 => {
                    let t = self.any_type();
                    let f = *self.rng.pick(&["isnull", "isnotnull", "isempty", "isnotempty"]);
                    format!("{f}({})", self.expr(t, d, cols))
                }
                9 => format!(
                    "{} matches regex {}",
                    self.expr(String, d, cols),
                    string_lit(self.rng.pick::<&str>(REGEXES))
                ),
                10 => {
                    // a dynamic member compared with a value
                    let p = self.path(cols, d);
                    let t = *self.rng.pick(&[Long, String, Real, Bool]);
                    format!("{p} == {}", self.literal(t))
                }
                _ => {
                    let (t, _) = self.base_table();
                    let c = self.col_of(cols, |t| t == String).unwrap_or_else(|| "\"a\"".into());
                    format!("{c} in (({t} | project k))")
                }
            },
            Long | Int | Real => match self.rng.below(8) {
                0..=2 => {
                    let op = *self.rng.pick(&["+", "-", "*", "/", "%"]);
                    let t2 = *self.rng.pick(&[Long, Int, Real]);
                    let a = self.expr(ty, d, cols);
                    let b = self.expr(if ty == Real { t2 } else { ty }, d, cols);
                    format!("({a} {op} {b})")
                }
                3 => format!("-({})", self.expr(ty, d, cols)),
                4 => {
                    let t = self.any_type();
                    let f = match ty {
                        Long => "tolong",
                        Int => "toint",
                        _ => "todouble",
                    };
                    format!("{f}({})", self.expr(t, d, cols))
                }
                5 => {
                    let p = self.path(cols, d);
                    let f = match ty {
                        Long => "tolong",
                        Int => "toint",
                        _ => "toreal",
                    };
                    format!("{f}({p})")
                }
                6 if ty == Real => format!("({} / {})", self.expr(TimeSpan, d, cols), self.expr(TimeSpan, d, cols)),
                _ => format!("bin({}, {})", self.expr(ty, d, cols), self.literal(ty)),
            },
            DateTime => match self.rng.below(5) {
                0 | 1 => {
                    let op = *self.rng.pick(&["+", "-"]);
                    format!("({} {op} {})", self.expr(DateTime, d, cols), self.expr(TimeSpan, d, cols))
                }
                2 => format!("ago({})", self.expr(TimeSpan, d, cols)),
                3 => format!("todatetime({})", {
                    let t = *self.rng.pick(&[String, Dynamic, Long]);
                    self.expr(t, d, cols)
                }),
                _ => format!("bin({}, {})", self.expr(DateTime, d, cols), self.rng.pick(&["1h", "1d", "7d", "1tick"])),
            },
            TimeSpan => match self.rng.below(4) {
                0 => format!("({} - {})", self.expr(DateTime, d, cols), self.expr(DateTime, d, cols)),
                1 => format!("({} * {})", self.expr(TimeSpan, d, cols), {
                    let t = *self.rng.pick(&[Long, Real]);
                    self.expr(t, d, cols)
                }),
                2 => format!("totimespan({})", {
                    let t = *self.rng.pick(&[String, Long, Dynamic]);
                    self.expr(t, d, cols)
                }),
                _ => {
                    let op = *self.rng.pick(&["+", "-"]);
                    format!("({} {op} {})", self.expr(TimeSpan, d, cols), self.expr(TimeSpan, d, cols))
                }
            },
            String => match self.rng.below(4) {
                0 => {
                    let t = self.any_type();
                    format!("tostring({})", self.expr(t, d, cols))
                }
                1 => format!("tostring({})", self.path(cols, d)),
                2 => {
                    let t = self.any_type();
                    format!("strcat({}, {})", self.expr(String, d, cols), self.expr(t, d, cols))
                }
                _ => return None,
            },
            Dynamic => match self.rng.below(5) {
                0 | 1 => self.path(cols, d),
                2 => {
                    let t = self.any_type();
                    format!("pack_array({}, {})", self.expr(t, d, cols), self.expr(Long, d, cols))
                }
                3 => format!("parse_json({})", self.expr(String, d, cols)),
                _ => {
                    let t = self.any_type();
                    format!("bag_pack(\"a\", {}, \"b\", {})", self.expr(t, d, cols), self.expr(String, d, cols))
                }
            },
            Guid => format!("toguid({})", self.expr(String, d, cols)),
            Decimal => return None,
        })
    }

    /// A dynamic path: a member, an index, a computed key.
    fn path(&mut self, cols: &[(String, KqlType)], d: usize) -> String {
        let mut p = match self.col_of(cols, |t| t == KqlType::Dynamic) {
            Some(c) if self.rng.chance(80) => c,
            _ => format!("({})", self.literal(KqlType::Dynamic)),
        };
        for _ in 0..self.rng.range(1, 4) {
            match self.rng.below(6) {
                0 | 1 => p.push_str(&format!(".{}", self.rng.pick(&["a", "b", "c", "n", "s"]))),
                2 => p.push_str(&format!("[{}]", self.rng.range(-2, 2))),
                3 => p.push_str(&format!("[{}]", string_lit(self.rng.pick::<&str>(&["x y", "a", "b"])))),
                4 => p.push_str(&format!("[{}]", self.expr(KqlType::Long, d.min(1), cols))),
                _ => p.push_str(&format!("[{}]", self.expr(KqlType::String, d.min(1), cols))),
            }
        }
        p
    }

    fn fits(p: &Param, ty: KqlType) -> bool {
        p.types.contains(&ty) || (ty == KqlType::Int && p.types.contains(&KqlType::Long))
    }

    /// A call of a catalog function whose result is `ty`.
    fn catalog_call(&mut self, ty: KqlType, d: usize, cols: &[(String, KqlType)]) -> Option<String> {
        let usage = &*self.usage;
        let cands: Vec<&Sig> = self
            .cat
            .sigs
            .iter()
            .filter(|s| {
                let dead = usage.get(&s.name).is_some_and(|u| u.0 == 0 && u.1 >= 12);
                !dead
                    && match &s.ret {
                        Ret::Fixed(t) => *t == ty,
                        Ret::Param0 => s.params.first().is_some_and(|p| Self::fits(p, ty)),
                        Ret::Common => s.params.iter().any(|p| p.common && Self::fits(p, ty)),
                        Ret::Unknown => false,
                    }
            })
            .collect();
        if cands.is_empty() {
            return None;
        }
        let sig = (*self.rng.pick(&cands)).clone();
        let forced = match sig.ret {
            Ret::Fixed(_) | Ret::Unknown => None,
            _ => Some(ty),
        };
        Some(self.call(&sig, forced, d, cols))
    }

    /// A call of any catalog function (its result type known only by binding).
    fn any_call(&mut self, cols: &[(String, KqlType)], d: usize) -> String {
        let usage = &*self.usage;
        let cands: Vec<&Sig> =
            self.cat.sigs.iter().filter(|s| !usage.get(&s.name).is_some_and(|u| u.0 == 0 && u.1 >= 12)).collect();
        let sig = (*self.rng.pick(&cands)).clone();
        self.call(&sig, None, d, cols)
    }

    fn call(&mut self, sig: &Sig, forced: Option<KqlType>, d: usize, cols: &[(String, KqlType)]) -> String {
        self.called.push(sig.name.clone());
        let common = forced.unwrap_or_else(|| {
            let p = sig.params.iter().find(|p| p.common);
            match p {
                Some(p) => *self.rng.pick(&p.types),
                None => KqlType::Long,
            }
        });
        let mut args = Vec::new();
        for (i, p) in sig.params.iter().enumerate() {
            let n = if p.max > p.min { self.rng.range(p.min as i64, p.max as i64) as usize } else { p.min };
            // optional parameters in the middle cannot be skipped: give them their minimum
            // only at the end
            let n = if p.min == 0 && i + 1 < sig.params.len() && n == 0 { 0 } else { n };
            for _ in 0..n {
                let ty = if p.common || (i == 0 && matches!(sig.ret, Ret::Param0) && forced.is_some()) {
                    if Self::fits(p, common) {
                        common
                    } else {
                        *self.rng.pick(&p.types)
                    }
                } else {
                    *self.rng.pick(&p.types)
                };
                let a = if !p.values.is_empty() {
                    string_lit(&self.rng.pick(&p.values).clone())
                } else if p.name.contains("regex") || p.name == "lookup_regex" {
                    string_lit(self.rng.pick::<&str>(REGEXES))
                } else if p.constant {
                    self.literal(ty)
                } else {
                    self.expr(ty, d, cols)
                };
                args.push(a);
            }
            if p.min == 0 && n == 0 {
                break;
            }
        }
        format!("{}({})", sig.name, args.join(", "))
    }
}
