//! Semantic analysis and planning in one pass: the binder resolves every name in its scope,
//! types every expression with KQL's rules, applies Kusto's output-naming rules, and lowers
//! the query to a DataFusion [`LogicalPlan`].
//!
//! - [`scalar`]: scalar expressions (names, literals, paths into dynamic, operators, calls);
//! - [`tabular`]: tabular operators, one function per operator;
//! - [`naming`]: Kusto's rules for the names of unnamed and clashing columns;
//! - [`range_source`]: the rows of `range`, made as they are read.
//!
//! `kql check` runs the same binder over empty tables that only carry schemas, so the errors
//! of a check and of a run are the same errors.

pub mod naming;
pub mod operators;
pub mod projection;
pub mod range_source;
pub mod scalar;
pub mod tabular;
pub mod time_bounds;
pub(crate) mod wide;

use crate::error::{KqlError, Result};
use crate::schema::KqlType;
use crate::session::Catalog;
use datafusion::logical_expr::{Expr, LogicalPlan};
use kql_parser::ast;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// A column of a tabular value: its KQL name and type. The DataFusion field of the plan has
/// exactly this name.
#[derive(Debug, Clone, PartialEq)]
pub struct Col {
    /// Column name.
    pub name: String,
    /// KQL type.
    pub ty: KqlType,
}

impl Col {
    /// A column.
    pub fn new(name: impl Into<String>, ty: KqlType) -> Self {
        Col { name: name.into(), ty }
    }
}

/// A bound tabular expression: a plan and its KQL columns (in order).
#[derive(Debug, Clone)]
pub struct Rel {
    /// The DataFusion plan.
    pub plan: LogicalPlan,
    /// The columns, in the plan's field order.
    pub cols: Vec<Col>,
    /// Chart requested by a trailing `render`.
    pub render: Option<RenderSpec>,
    /// The table or `as` name this value came from (for `union withsource`).
    pub name: Option<String>,
    /// True for a placeholder of unknown shape (after an error): any column name resolves.
    pub open: bool,
}

impl Rel {
    /// Find a column by exact name.
    pub fn col(&self, name: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.name == name)
    }
}

/// A `render` request kept as metadata on the result.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSpec {
    /// The visualization (`timechart`, `barchart`...).
    pub chart: String,
    /// `with (...)` properties as text.
    pub props: Vec<(String, Vec<String>)>,
}

/// How an unnamed expression would be named by Kusto.
#[derive(Debug, Clone, PartialEq)]
pub enum NameHint {
    /// No natural name: `ColumnN` (or `print_N`).
    None,
    /// A name derived from the expression (`x`, `d_x`, `strlen_b`).
    Name(String),
}

/// A bound scalar expression: a DataFusion expression and its KQL type.
#[derive(Debug, Clone)]
pub struct Bound {
    /// The expression.
    pub expr: Expr,
    /// Its KQL type.
    pub ty: KqlType,
    /// Its natural output name.
    pub hint: NameHint,
}

impl Bound {
    /// A bound expression without a natural name.
    pub fn new(expr: Expr, ty: KqlType) -> Self {
        Bound { expr, ty, hint: NameHint::None }
    }

    /// With a natural name.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.hint = NameHint::Name(name.into());
        self
    }
}

/// What a `let` name stands for.
#[derive(Debug, Clone)]
pub enum Binding {
    /// A scalar value (a constant expression).
    Scalar(Bound),
    /// A tabular value.
    Tabular(Rel),
    /// A user-defined function, with the scope it was defined in.
    Function(Rc<ast::FunctionDef>, Scope),
}

/// Names visible at a point of the query: innermost binding wins.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    vars: Rc<HashMap<String, Binding>>,
}

impl Scope {
    /// Look a name up.
    pub fn get(&self, name: &str) -> Option<&Binding> {
        self.vars.get(name)
    }

    /// A new scope with `name` bound (copy-on-write).
    pub fn with(&self, name: &str, b: Binding) -> Scope {
        let mut vars = (*self.vars).clone();
        vars.insert(name.to_string(), b);
        Scope { vars: Rc::new(vars) }
    }

    /// All names (for "did you mean" suggestions).
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.vars.keys()
    }
}

/// Options that change how the binder behaves.
#[derive(Debug, Clone, Default)]
pub struct BindOptions {
    /// Check only: do not execute subqueries (`toscalar`, `in (T)`, `materialize`); use typed
    /// placeholders instead.
    pub check_only: bool,
    /// Whether a pending table a query scans is opened (read) now: see
    /// [`crate::session::lazy`].
    pub open: crate::session::Open,
}

/// Runs subqueries the binder needs the values of (`toscalar`, `materialize`, `in (T)`).
pub trait SubqueryRunner {
    /// Execute a plan and return its batches.
    fn run(&self, plan: LogicalPlan) -> Result<Vec<datafusion::arrow::array::RecordBatch>>;
}

/// The binder of one query.
pub struct Binder<'a> {
    /// Tables and stored functions.
    pub catalog: &'a Catalog,
    /// `now()` for this query, in ticks.
    pub now: i64,
    /// Subquery execution.
    pub runner: &'a dyn SubqueryRunner,
    /// Options.
    pub options: BindOptions,
    /// Current `let` scope.
    pub scope: Scope,
    /// Depth of user-function calls (recursion guard).
    pub call_depth: usize,
    /// Counter for unique plan aliases.
    pub alias_counter: usize,
    /// Warnings found while binding.
    pub warnings: Vec<KqlError>,
    /// Errors recovered from in check mode (binding goes on with a placeholder).
    pub errors: Vec<KqlError>,
    /// What Kusto accepts but this engine cannot run yet (a function, aggregation, plugin or
    /// operator not implemented), found in check mode: `kql check --runnable` reports them.
    pub not_runnable: Vec<KqlError>,
    /// Default names of aggregates the last `summarize` renamed (`count_` -> `requests`).
    pub renamed_aggregates: Vec<(String, String)>,
    /// Tables scanned that have a time column, with where they are read (for KQLW004).
    pub time_scans: Vec<(String, kql_parser::Span)>,
    /// Whether some `where` filters on a datetime column.
    pub time_filtered: bool,
    /// Every table scan, in binding order, with the `TimeGenerated`/`Timestamp` window that the
    /// `where` operators right after it impose (`None`: unfiltered). Loaders use it to read only
    /// the export folders a query can see (see [`Binder::time_bounds`]).
    pub scan_windows: Vec<(String, Option<(i64, i64)>)>,
    /// Columns holding values of a producer with a known set of keys (`geo_info_from_ip_address`).
    pub producer_keys: std::collections::HashMap<String, (&'static str, &'static [&'static str])>,
    /// The last `innerunique` join bound: its output plan and what it was built from, so that a
    /// `where` right after it on left-side columns can filter the left side before the
    /// de-duplication, as Kusto's optimizer does.
    pub last_innerunique: Option<Box<InneruniqueJoin>>,
    /// Query options from `set name = value` statements (lower-case names), e.g.
    /// `query_bin_auto_size` for `bin_auto()`.
    pub query_options: std::collections::HashMap<String, Bound>,
    /// Patterns from `declare pattern` statements, by name.
    pub patterns: std::collections::HashMap<String, Rc<ast::PatternDecl>>,
    /// Graphs built by `make-graph`, by the internal name of the relation that carries them.
    pub graphs: std::collections::HashMap<String, Rc<operators::graph::GraphInfo>>,
}

/// The ingredients of an `innerunique` join (see [`Binder::last_innerunique`]).
#[derive(Clone)]
pub struct InneruniqueJoin {
    /// The join's output plan.
    pub output: datafusion::logical_expr::LogicalPlan,
    /// Its left input.
    pub left: Rel,
    /// Its parameters, right side and conditions, as written.
    pub params: Vec<ast::NamedArg>,
    /// The right side.
    pub right: ast::Expr,
    /// The `on` conditions.
    pub on: Vec<ast::Expr>,
    /// Where the join operator is.
    pub span: kql_parser::Span,
}

/// Statements bound: the final tabular result or scalar.
pub enum Bound0 {
    /// A tabular result.
    Tabular(Rel),
    /// A scalar result (a query that is a scalar expression, e.g. `1 + 1`).
    Scalar(Bound),
}

impl<'a> Binder<'a> {
    /// A binder over `catalog`, with `now` in ticks.
    pub fn new(catalog: &'a Catalog, now: i64, runner: &'a dyn SubqueryRunner, options: BindOptions) -> Self {
        Binder {
            catalog,
            now,
            runner,
            options,
            scope: Scope::default(),
            call_depth: 0,
            alias_counter: 0,
            warnings: Vec::new(),
            not_runnable: Vec::new(),
            errors: Vec::new(),
            renamed_aggregates: Vec::new(),
            time_scans: Vec::new(),
            time_filtered: false,
            scan_windows: Vec::new(),
            producer_keys: Default::default(),
            last_innerunique: None,
            query_options: Default::default(),
            patterns: Default::default(),
            graphs: Default::default(),
        }
    }

    /// Report an error: in check mode it is recorded and binding goes on (so that every
    /// error of a query is found); otherwise it is returned.
    pub fn recover(&mut self, e: KqlError) -> Result<()> {
        if self.options.check_only {
            self.errors.push(e);
            Ok(())
        } else {
            Err(e)
        }
    }

    /// A fresh alias for a subplan.
    pub fn fresh_alias(&mut self, prefix: &str) -> String {
        self.alias_counter += 1;
        format!("__{prefix}{}", self.alias_counter)
    }

    /// Bind a whole script: `let` statements extend the scope, the last query is the result.
    pub fn bind_script(&mut self, script: &ast::Script) -> Result<Bound0> {
        scalar::set_now_for_literals(self.now);
        let mut result = None;
        for st in &script.statements {
            match &st.kind {
                ast::StatementKind::Let { name, value } => self.bind_let(name, value)?,
                ast::StatementKind::Query(e) => {
                    result = Some(self.bind_query_expr(e)?);
                }
                ast::StatementKind::Set { name, value: Some(v) } => {
                    // a value that is not a constant only matters to a cluster: ignore it
                    if let Ok(b) = self.bind_constant(v) {
                        self.query_options.insert(name.name.to_ascii_lowercase(), b);
                    }
                }
                ast::StatementKind::Set { name, value: None } => {
                    // `set notruncation;`: a flag, true
                    self.query_options.insert(
                        name.name.to_ascii_lowercase(),
                        Bound::new(datafusion::logical_expr::lit(true), crate::schema::KqlType::Bool),
                    );
                }
                ast::StatementKind::Other(_) => {}
                ast::StatementKind::DeclarePattern(d) => {
                    self.patterns.insert(d.name.name.clone(), Rc::new(d.clone()));
                }
                ast::StatementKind::DeclareQueryParameters(params) => {
                    for p in params {
                        let b = match &p.default {
                            Some(d) => self.bind_constant(d)?,
                            None => {
                                return Err(KqlError::new(
                                    "KQL010",
                                    format!("query parameter `{}` has no value", p.name.name),
                                    p.name.span,
                                )
                                .with_help("give it a default (`name:type = value`)"));
                            }
                        };
                        self.scope = self.scope.with(&p.name.name, Binding::Scalar(b));
                    }
                }
            }
        }
        if self.options.check_only && !self.time_filtered {
            if let Some((t, span)) = self.time_scans.first().cloned() {
                self.warnings.push(
                    KqlError::new(
                        "KQLW004",
                        format!("`{t}` is read without a time filter: the query scans the whole retention"),
                        span,
                    )
                    .with_help(
                        "filter early, e.g. `| where TimeGenerated > ago(1d)` (or silence it: `// kql: allow(KQLW004) because ...`)",
                    ),
                );
            }
        }
        match result {
            Some(r) => Ok(r),
            None if self.options.check_only => Ok(Bound0::Tabular(self.empty_rel()?)),
            None => Err(KqlError::new("KQL011", "the query has no tabular or scalar expression to run", script.span)),
        }
    }

    /// Bind `let name = value`.
    pub fn bind_let(&mut self, name: &ast::Ident, value: &ast::LetValue) -> Result<()> {
        let b = match value {
            ast::LetValue::Function(f) => Binding::Function(Rc::new(f.clone()), self.scope.clone()),
            ast::LetValue::Expr(e) => match self.bind_query_expr(e)? {
                Bound0::Tabular(r) => Binding::Tabular(r),
                Bound0::Scalar(s) => Binding::Scalar(s),
            },
        };
        self.scope = self.scope.with(&name.name, b);
        Ok(())
    }

    /// Bind an expression that may be tabular or scalar.
    pub fn bind_query_expr(&mut self, e: &ast::Expr) -> Result<Bound0> {
        if self.is_tabular(e) {
            Ok(Bound0::Tabular(self.bind_tabular(e)?))
        } else {
            let empty = self.empty_rel()?;
            Ok(Bound0::Scalar(self.bind_scalar(e, &empty)?))
        }
    }

    /// Bind a constant scalar expression (no row context).
    pub fn bind_constant(&mut self, e: &ast::Expr) -> Result<Bound> {
        let empty = self.empty_rel()?;
        self.bind_scalar(e, &empty)
    }

    /// A relation with one row and no columns (the row context of constants).
    pub fn empty_rel(&self) -> Result<Rel> {
        let plan = datafusion::logical_expr::LogicalPlanBuilder::empty(true).build()?;
        Ok(Rel { plan, cols: vec![], render: None, name: None, open: false })
    }

    /// Whether an expression denotes a tabular value (decided syntactically and by scope).
    pub fn is_tabular(&self, e: &ast::Expr) -> bool {
        kql_parser::with_stack(|| self.is_tabular_inner(e))
    }

    fn is_tabular_inner(&self, e: &ast::Expr) -> bool {
        use ast::ExprKind as K;
        match &e.kind {
            K::Pipe { .. } | K::Source(_) | K::Datatable { .. } | K::ExternalData { .. } => true,
            K::Paren(inner) => self.is_tabular(inner),
            K::Name(n) => match self.scope.get(&n.name) {
                Some(Binding::Tabular(_)) => true,
                Some(Binding::Scalar(_)) => false,
                // a function every parameter of which has a default is called by its bare name
                // (`let T = ASimDnsAZFW;`, as Microsoft's ASIM testers are invoked)
                Some(Binding::Function(f, _)) => callable_without_args(f) && self.function_is_tabular(f),
                None => {
                    self.catalog.has_table(&n.name)
                        || self.catalog.schemas().function(&n.name).is_some()
                        || self.catalog.function(&n.name).is_some_and(|f| f.is_tabular && callable_without_args(&f.def))
                }
            },
            K::Member { target, .. } => {
                matches!(&target.kind, K::Call { target: None, name, .. } if self.patterns.contains_key(&name.name))
            }
            K::Call { name, target, .. } => {
                if target.is_some() || self.patterns.contains_key(&name.name) {
                    return true;
                }
                match self.scope.get(&name.name) {
                    Some(Binding::Function(f, _)) => self.function_is_tabular(f),
                    Some(_) => false,
                    None => {
                        matches!(
                            name.name.as_str(),
                            "materialize" | "table" | "view" | "database" | "cluster" | "_GetWatchlist"
                        ) || self.catalog.function(&name.name).is_some_and(|f| f.is_tabular)
                            || self.catalog.schemas().function(&name.name).is_some_and(|f| !f.columns.is_empty())
                    }
                }
            }
            _ => false,
        }
    }

    /// Whether a user function returns a table (its last statement is tabular).
    ///
    /// See also [`callable_without_args`].
    pub fn function_is_tabular(&self, f: &ast::FunctionDef) -> bool {
        let mut probe = Binder {
            catalog: self.catalog,
            now: self.now,
            runner: self.runner,
            options: self.options.clone(),
            scope: self.scope.clone(),
            call_depth: self.call_depth + 1,
            alias_counter: 0,
            warnings: vec![],
            not_runnable: vec![],
            errors: vec![],
            renamed_aggregates: vec![],
            time_scans: vec![],
            time_filtered: false,
            scan_windows: vec![],
            producer_keys: Default::default(),
            last_innerunique: None,
            query_options: self.query_options.clone(),
            patterns: self.patterns.clone(),
            graphs: self.graphs.clone(),
        };
        if probe.call_depth > 50 {
            return false;
        }
        for p in &f.params {
            let b = match p.ty {
                ast::ParamType::Tabular(_) => placeholder_tabular(),
                ast::ParamType::Scalar(_) => placeholder_scalar(),
            };
            probe.scope = probe.scope.with(&p.name.name, b);
        }
        let mut last = false;
        for s in &f.body {
            match &s.kind {
                ast::StatementKind::Let { name, value } => {
                    let b = match value {
                        ast::LetValue::Function(f2) => Binding::Function(Rc::new(f2.clone()), probe.scope.clone()),
                        ast::LetValue::Expr(e) if probe.is_tabular(e) => placeholder_tabular(),
                        ast::LetValue::Expr(_) => placeholder_scalar(),
                    };
                    probe.scope = probe.scope.with(&name.name, b);
                }
                ast::StatementKind::Query(e) => last = probe.is_tabular(e),
                _ => {}
            }
        }
        last
    }
}

fn placeholder_tabular() -> Binding {
    Binding::Tabular(Rel { plan: dummy_plan(), cols: vec![], render: None, name: None, open: false })
}

fn placeholder_scalar() -> Binding {
    Binding::Scalar(Bound::new(datafusion::prelude::lit(0i64), KqlType::Long))
}

fn dummy_plan() -> LogicalPlan {
    datafusion::logical_expr::LogicalPlanBuilder::empty(false).build().expect("empty plan")
}

/// Functions whose dynamic result always has the same keys.
pub const PRODUCERS: &[(&str, &[&str])] = &[
    ("geo_info_from_ip_address", &["country", "state", "city", "latitude", "longitude"]),
    ("parse_url", &["Scheme", "Host", "Port", "Path", "Username", "Password", "Query Parameters", "Fragment"]),
    (
        "parse_path",
        &["Scheme", "RootPath", "DirectoryPath", "DirectoryName", "Filename", "Extension", "AlternateDataStreamName"],
    ),
];

/// The known keys of a producer call expression, if it is one.
pub fn producer_of(e: &ast::Expr) -> Option<(&'static str, &'static [&'static str])> {
    if let ast::ExprKind::Call { target: None, name, .. } = &e.kind {
        return PRODUCERS.iter().find(|(n, _)| *n == name.name).map(|(n, k)| (*n, *k));
    }
    None
}

/// Suggest the closest of `candidates` to `name` (for "did you mean").
pub fn suggest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&lower, &c.to_lowercase());
        let limit = (name.len().max(3) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Shared handle type for table providers.
pub type Provider = Arc<dyn datafusion::catalog::TableProvider>;

/// True when a function can be called with no arguments: every parameter has a default value.
pub fn callable_without_args(f: &ast::FunctionDef) -> bool {
    f.params.iter().all(|p| p.default.is_some())
}
