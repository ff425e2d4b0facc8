//! The typed, spanned abstract syntax tree of a KQL script.
//!
//! Tabular and scalar expressions share one [`Expr`] type, as in Kusto itself: whether a name
//! is a column, a scalar `let` or a table is decided by semantic analysis, not by the parser.
//! A pipeline `T | where x | take 5` is an [`ExprKind::Pipe`] whose `source` is `T` and whose
//! `ops` are the tabular operators in order.

use crate::span::Span;
use serde::Serialize;

/// A whole query text: statements separated by `;`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Script {
    /// The statements in source order.
    pub statements: Vec<Statement>,
    /// The span of the whole text.
    pub span: Span,
}

impl Script {
    /// The last query (tabular or scalar expression) statement, if any.
    pub fn query(&self) -> Option<&Expr> {
        self.statements.iter().rev().find_map(|s| match &s.kind {
            StatementKind::Query(e) => Some(e),
            _ => None,
        })
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// What kind of statement.
    pub kind: StatementKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of statements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StatementKind {
    /// `let name = value`
    Let {
        /// The bound name.
        name: Ident,
        /// The value: an expression or a function definition.
        value: LetValue,
    },
    /// A query expression (tabular or scalar).
    Query(Expr),
    /// `set name [= value]`: a client request property.
    Set {
        /// The property name (may contain dots).
        name: Ident,
        /// The value, as written.
        value: Option<Expr>,
    },
    /// `declare query_parameters (p:type [= default], ...)`
    DeclareQueryParameters(Vec<Param>),
    /// `declare pattern name [= (params) [[path: type]] { (values) [.[path]] = { body }; ... }]`
    DeclarePattern(PatternDecl),
    /// `alias database name = cluster(...).database(...)` and other statements that
    /// only matter to a cluster; kept as text.
    Other(String),
}

/// `graph-match` or `graph-shortest-paths`: patterns of a graph's nodes and edges, the
/// constraints they meet and the columns each match becomes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphMatch {
    /// `true` for `graph-shortest-paths`.
    pub shortest: bool,
    /// Parameters (`cycles=` of graph-match, `output=` of graph-shortest-paths).
    pub params: Vec<NamedArg>,
    /// The patterns, comma-separated sequences that share node variables.
    pub patterns: Vec<GraphPattern>,
    /// The `where` constraints.
    pub constraints: Option<Expr>,
    /// The `project` items (empty when there is no `project`).
    pub project: Vec<ColumnAssign>,
}

/// A sequence of nodes joined by edges: `(a)-[e]->(b)<--(c)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphPattern {
    /// The first node.
    pub first: GraphNode,
    /// Each edge with the node after it.
    pub steps: Vec<(GraphEdge, GraphNode)>,
}

/// A node of a pattern: `(name)` or `()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphNode {
    /// The variable, when named.
    pub name: Option<Ident>,
    /// The whole `( )`.
    pub span: Span,
}

/// Which way an edge of a pattern points, read left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EdgeDirection {
    /// `-[e]->`, `-->`: from the node before to the node after.
    Right,
    /// `<-[e]-`, `<--`: from the node after to the node before.
    Left,
    /// `-[e]-`, `--`: either way.
    Any,
}

/// An edge of a pattern: `-[name*min..max]->` and the anonymous forms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphEdge {
    /// The variable, when named.
    pub name: Option<Ident>,
    /// Its direction.
    pub direction: EdgeDirection,
    /// `*min..max` of a variable length edge (`*n` is `n..n`).
    pub length: Option<(i64, i64)>,
    /// The whole edge.
    pub span: Span,
}

/// One table exported by `graph-to-table`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphExport {
    /// `true` for `edges`, `false` for `nodes`.
    pub edges: bool,
    /// `as Name`.
    pub alias: Option<Ident>,
    /// `with_node_id=`, `with_source_id=`, `with_target_id=` parameters.
    pub params: Vec<NamedArg>,
}

/// A `declare pattern` statement: string tuples mapped to tabular expressions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternDecl {
    /// The pattern's name.
    pub name: Ident,
    /// The arguments (strings); empty for a declaration without a mapping.
    pub params: Vec<Param>,
    /// The optional path argument `[name: string]`.
    pub path: Option<Param>,
    /// The mapping, in order.
    pub cases: Vec<PatternCase>,
}

/// One mapping of a pattern: `(values) [.[path]] = { body }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternCase {
    /// The argument values.
    pub values: Vec<String>,
    /// The path value, when the pattern has a path.
    pub path: Option<String>,
    /// The body: `let` statements followed by one (tabular) expression.
    pub body: Vec<Statement>,
}

/// The right-hand side of a `let`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum LetValue {
    /// A scalar or tabular expression.
    Expr(Expr),
    /// A user-defined function `(params) { body }` or `view (params) { body }`.
    Function(FunctionDef),
}

/// A function or view definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionDef {
    /// `view` functions take part in `union *` and wildcard searches.
    pub is_view: bool,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// The body: `let` statements followed by one expression.
    pub body: Vec<Statement>,
    /// The span of the definition.
    pub span: Span,
}

/// A function or query parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    /// Parameter name.
    pub name: Ident,
    /// Its declared type.
    pub ty: ParamType,
    /// A default value, making the parameter optional.
    pub default: Option<Expr>,
}

/// The declared type of a parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ParamType {
    /// A scalar type such as `string`.
    Scalar(TypeName),
    /// A tabular parameter: `(*)` (any columns, `None`) or `(Col:type, ...)`.
    Tabular(Option<Vec<ColumnDecl>>),
}

/// A `Name: type` column declaration (datatable, externaldata, parse, tabular params).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDecl {
    /// Column name.
    pub name: Ident,
    /// Column type.
    pub ty: TypeName,
}

/// A scalar type name as written (`string`, `long`, `int`, `real`, `double`, `bool`,
/// `boolean`, `datetime`, `date`, `timespan`, `time`, `guid`, `uniqueid`, `dynamic`, `decimal`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeName {
    /// The type name as written, lower-cased.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A name: a column, table, variable or function, plain or quoted (`['a b']`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ident {
    /// The name without quoting.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

impl Ident {
    /// A name with a span.
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        Ident { name: name.into(), span }
    }
}

/// An expression: scalar or tabular.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

impl Expr {
    /// An expression of `kind` at `span`.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// The bare names the expression reads (columns, scalar `let`s), in source order: `Name`
    /// nodes outside string literals, function names and subqueries (`in (T | ...)` reads its
    /// own columns). Walked without recursion, so chains of any length are fine.
    pub fn free_names(&self) -> Vec<&Ident> {
        let mut out = Vec::new();
        let mut stack: Vec<&Expr> = vec![self];
        while let Some(e) = stack.pop() {
            let mut children: Vec<&Expr> = Vec::new();
            match &e.kind {
                ExprKind::Name(id) => out.push(id),
                ExprKind::Member { target, .. } => children.push(target),
                ExprKind::Index { target, index } => children.extend([&**target, &**index]),
                ExprKind::Call { target, args, .. } => {
                    children.extend(target.as_deref());
                    children.extend(args.iter().map(Arg::expr));
                }
                ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) => children.push(operand),
                ExprKind::Binary { left, right, .. } => children.extend([&**left, &**right]),
                ExprKind::InList { expr, list, .. } => {
                    children.push(expr);
                    children.extend(list.iter());
                }
                ExprKind::Between { expr, low, high, .. } => children.extend([&**expr, &**low, &**high]),
                _ => {}
            }
            // left operands first
            stack.extend(children.into_iter().rev());
        }
        out
    }

    /// Move the operands that chains are made of (binary operands, member and index targets,
    /// tested values) out of `self` into `out`, leaving `*` in their place.
    fn take_chain_operands(&mut self, out: &mut Vec<Expr>) {
        let mut take = |e: &mut Box<Expr>| {
            if !matches!(e.kind, ExprKind::Star) {
                let span = e.span;
                out.push(std::mem::replace(&mut **e, Expr::new(ExprKind::Star, span)));
            }
        };
        match &mut self.kind {
            ExprKind::Binary { left, right, .. } => {
                take(left);
                take(right);
            }
            ExprKind::Member { target, .. } => take(target),
            ExprKind::Index { target, index } => {
                take(target);
                take(index);
            }
            ExprKind::InList { expr, .. } => take(expr),
            ExprKind::Between { expr, .. } => take(expr),
            _ => {}
        }
    }
}

/// Dropping a tree as deep as a chain of thousands of `or`s would recurse once per level and
/// could overflow the stack: the chain operands are moved to a list and dropped one by one.
impl Drop for Expr {
    fn drop(&mut self) {
        let mut pending = Vec::new();
        self.take_chain_operands(&mut pending);
        while let Some(mut e) = pending.pop() {
            e.take_chain_operands(&mut pending);
        }
    }
}

/// The kinds of expressions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    /// A literal value.
    Literal(Literal),
    /// A bare name: column, variable, table or zero-argument reference.
    Name(Ident),
    /// A name pattern with `*` wildcards (in `union`, `search in`, `find in`).
    Wildcard(String),
    /// `*` as a function argument (`arg_max(x, *)`, `count(*)`).
    Star,
    /// `$left` or `$right` (the name includes the `$`).
    JoinSide(Ident),
    /// `target.name`
    Member {
        /// The value whose member is read.
        target: Box<Expr>,
        /// The member name.
        name: Ident,
    },
    /// `target[index]`
    Index {
        /// The indexed value.
        target: Box<Expr>,
        /// The index or key.
        index: Box<Expr>,
    },
    /// A function call `name(args)`, or `target.name(args)` such as `database("x").T`.
    Call {
        /// The receiver for dotted calls (`cluster("c").database("d")`).
        target: Option<Box<Expr>>,
        /// The function name.
        name: Ident,
        /// Arguments in order.
        args: Vec<Arg>,
    },
    /// A unary operator.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// A binary operator.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `expr in (list)`, `!in`, `in~`, `!in~`, `has_any (...)`, `has_all (...)`.
    /// A list of one tabular expression or a dynamic array is a single item.
    InList {
        /// The operator.
        op: ListOp,
        /// The tested value.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
    },
    /// `expr between (low .. high)` or `!between`.
    Between {
        /// True for `!between`.
        negated: bool,
        /// The tested value.
        expr: Box<Expr>,
        /// Lower bound (inclusive).
        low: Box<Expr>,
        /// Upper bound (inclusive).
        high: Box<Expr>,
    },
    /// `(expr)`
    Paren(Box<Expr>),
    /// `source | op | op ...`; `source` is `None` for the subqueries of `mv-apply`,
    /// `partition`, `fork` and `facet`, which start with an operator.
    Pipe {
        /// The input, if any.
        source: Option<Box<Expr>>,
        /// The tabular operators, in order.
        ops: Vec<Operator>,
    },
    /// A tabular operator in source position: `print`, `range`, `union`, `search`, `find`,
    /// `evaluate`.
    Source(Box<Operator>),
    /// `datatable (cols) [values]`
    Datatable {
        /// Column declarations.
        columns: Vec<ColumnDecl>,
        /// Values row after row.
        values: Vec<Expr>,
    },
    /// `externaldata (cols) [urls] [with (props)]`
    ExternalData {
        /// Column declarations.
        columns: Vec<ColumnDecl>,
        /// The storage URLs.
        urls: Vec<Expr>,
        /// `with (...)` properties.
        props: Vec<NamedArg>,
    },
    /// `(a, b, ...)` on the left of `=` is handled by [`ColumnAssign`]; this is a
    /// brace-delimited `{ ... }` subquery body (`partition ... { ... }`).
    Braced(Box<Expr>),
}

/// A function-call argument.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Arg {
    /// A positional argument.
    Positional(Expr),
    /// `name = value`
    Named(NamedArg),
}

impl Arg {
    /// The argument's value.
    pub fn expr(&self) -> &Expr {
        match self {
            Arg::Positional(e) => e,
            Arg::Named(n) => &n.value,
        }
    }
}

/// `name = value` (named arguments, operator parameters such as `kind=inner`, properties).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedArg {
    /// The name; dotted names such as `hint.strategy` are kept whole.
    pub name: Ident,
    /// The value.
    pub value: Expr,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `+x`
    Plus,
}

/// Binary operators, including every string operator and its negated / case-sensitive forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=` or `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// A string operator (`contains`, `has`, `=~`, `matches regex`, ...).
    Str(StrOp),
}

/// The string predicate operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct StrOp {
    /// Which test.
    pub kind: StrOpKind,
    /// True for `!` forms.
    pub negated: bool,
    /// True for `_cs` forms (and `matches regex`, which is always case-sensitive).
    pub case_sensitive: bool,
}

/// The tests of string operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum StrOpKind {
    /// `=~` / `!~` (case-insensitive equality); `==` with strings is plain [`BinaryOp::Eq`].
    Equals,
    /// `contains`
    Contains,
    /// `has` (whole terms)
    Has,
    /// `hasprefix`
    HasPrefix,
    /// `hassuffix`
    HasSuffix,
    /// `startswith`
    StartsWith,
    /// `endswith`
    EndsWith,
    /// `matches regex`
    MatchesRegex,
    /// `like` (not KQL, kept for `notlike` legacy forms)
    Like,
}

/// Operators whose right side is a parenthesized list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ListOp {
    /// `in`
    In,
    /// `!in`
    NotIn,
    /// `in~`
    InCi,
    /// `!in~`
    NotInCi,
    /// `has_any`
    HasAny,
    /// `has_all`
    HasAll,
}

/// A literal value as written.
#[derive(Debug, Clone, Serialize)]
pub enum Literal {
    /// `true`, `false`, `bool(null)`
    Bool(Option<bool>),
    /// `int(5)`, `int(null)`
    Int(Option<i32>),
    /// `123`, `long(null)`, `0x1F`
    Long(Option<i64>),
    /// `1.5`, `1e3`, `real(null)`, `real(nan)`, `real(+inf)`
    Real(Option<f64>),
    /// `decimal(1.5)` as its text.
    Decimal(Option<String>),
    /// A string literal, already unescaped (adjacent literals concatenated).
    String(String),
    /// `datetime(...)` with its text (parsed into an instant by the engine).
    DateTime(Option<String>),
    /// A timespan in ticks of 100 ns: `1d`, `time(1.02:00:00)`, `timespan(null)`.
    TimeSpan(Option<i64>),
    /// `guid(...)` with its text.
    Guid(Option<String>),
    /// `dynamic(...)`
    Dynamic(DynValue),
    /// `string(null)`: Kusto's empty string, written as a typed null.
    StringNull,
}

/// Literals are equal when they are written the same: reals by their bits, so `real(nan)` equals
/// itself (a syntax tree holding one equals its copy) and `0.0` differs from `-0.0`.
impl PartialEq for Literal {
    fn eq(&self, other: &Self) -> bool {
        use Literal::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Long(a), Long(b)) => a == b,
            (Real(a), Real(b)) => a.map(f64::to_bits) == b.map(f64::to_bits),
            (Decimal(a), Decimal(b)) => a == b,
            (String(a), String(b)) => a == b,
            (DateTime(a), DateTime(b)) => a == b,
            (TimeSpan(a), TimeSpan(b)) => a == b,
            (Guid(a), Guid(b)) => a == b,
            (Dynamic(a), Dynamic(b)) => a == b,
            (StringNull, StringNull) => true,
            _ => false,
        }
    }
}

/// The value of a `dynamic(...)` literal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DynValue {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Long(i64),
    /// A real.
    Real(f64),
    /// A string.
    String(String),
    /// `datetime(...)` inside a dynamic literal, as text.
    DateTime(String),
    /// A timespan inside a dynamic literal, in ticks.
    TimeSpan(i64),
    /// `guid(...)` inside a dynamic literal.
    Guid(String),
    /// `[ ... ]`
    Array(Vec<DynValue>),
    /// `{ "k": v, ... }` with keys in source order.
    Object(Vec<(String, DynValue)>),
}

/// `[Name =] expr` or `(A, B) = expr` in extend, project, summarize, print...
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnAssign {
    /// Output names; empty when Kusto derives the name; several for tuple assignment.
    pub names: Vec<Ident>,
    /// The value.
    pub expr: Expr,
    /// The whole item.
    pub span: Span,
}

/// A sort key: `expr [asc|desc] [nulls first|last]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SortKey {
    /// The sorted expression.
    pub expr: Expr,
    /// `asc`/`desc` if written (Kusto's default is descending).
    pub order: Option<SortOrder>,
    /// `nulls first`/`nulls last` if written.
    pub nulls: Option<NullsPosition>,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SortOrder {
    /// `asc`
    Asc,
    /// `desc`
    Desc,
}

/// Where nulls sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NullsPosition {
    /// `nulls first`
    First,
    /// `nulls last`
    Last,
}

/// A tabular operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operator {
    /// Which operator, with its arguments.
    pub kind: OperatorKind,
    /// From the operator keyword to its last token.
    pub span: Span,
}

/// One item of `mv-expand` / `mv-apply`: `[Name =] expr [to typeof(type)]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MvItem {
    /// The expanded column or expression, with an optional new name.
    pub column: ColumnAssign,
    /// The `to typeof(...)` target type.
    pub to_type: Option<TypeName>,
}

/// One element of a `parse` pattern.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ParsePart {
    /// A string literal to match.
    Literal(String),
    /// `*`: skip anything.
    Star,
    /// `Name [: type]`: a column to extract.
    Column(Ident, Option<TypeName>),
}

/// One level of `top-nested`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopNestedClause {
    /// `N` (absent means all).
    pub count: Option<Expr>,
    /// `of [Name =] expr`
    pub of: ColumnAssign,
    /// `with others = value`
    pub others: Option<Expr>,
    /// `by [Name =] aggregate`
    pub by: ColumnAssign,
    /// `asc`/`desc`
    pub order: Option<SortOrder>,
}

/// One `step` of a `scan` operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanStep {
    /// The step name.
    pub name: Ident,
    /// `optional` steps may be skipped.
    pub optional: bool,
    /// `output = all | last | none` (lower-cased), when given.
    pub output: Option<String>,
    /// The condition.
    pub condition: Expr,
    /// `=> Col = expr, ...` assignments.
    pub assignments: Vec<ColumnAssign>,
}

/// The kinds of tabular operators, with their arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum OperatorKind {
    /// `where` / `filter`
    Where(Expr),
    /// `extend`
    Extend(Vec<ColumnAssign>),
    /// `project`
    Project(Vec<ColumnAssign>),
    /// `project-away` (names may hold `*` wildcards)
    ProjectAway(Vec<Expr>),
    /// `project-keep`
    ProjectKeep(Vec<Expr>),
    /// `project-rename New = Old, ...`
    ProjectRename(Vec<(Ident, Ident)>),
    /// `project-reorder Col [asc|desc|granny-asc|granny-desc], ...`
    ProjectReorder(Vec<(Expr, Option<String>)>),
    /// `summarize [hints] aggs [by keys]`
    Summarize {
        /// `hint.*` parameters.
        params: Vec<NamedArg>,
        /// Aggregations.
        aggs: Vec<ColumnAssign>,
        /// Group keys.
        by: Vec<ColumnAssign>,
    },
    /// `count [as Name]`
    Count(Option<Ident>),
    /// `distinct [hints] cols` (`*` for all)
    Distinct {
        /// `hint.*` parameters.
        params: Vec<NamedArg>,
        /// The columns.
        columns: Vec<ColumnAssign>,
    },
    /// `take N` / `limit N`
    Take(Expr),
    /// `top N by expr [asc|desc] [nulls ...]`
    Top {
        /// How many rows.
        count: Expr,
        /// The sort key.
        by: SortKey,
    },
    /// `top-nested ..., top-nested ...`
    TopNested(Vec<TopNestedClause>),
    /// `top-hitters N of expr [by expr]`
    TopHitters {
        /// How many.
        count: Expr,
        /// Of what.
        of: Expr,
        /// Summed by.
        by: Option<Expr>,
    },
    /// `sort by` / `order by`
    Sort {
        /// `hint.*` parameters.
        params: Vec<NamedArg>,
        /// Keys in order.
        keys: Vec<SortKey>,
    },
    /// `join [kind=...] [hints] right on ...`
    Join {
        /// `kind`, `hint.*` and similar parameters.
        params: Vec<NamedArg>,
        /// The right side.
        right: Expr,
        /// The `on` clause: column names or `$left.a == $right.b` conditions.
        on: Vec<Expr>,
    },
    /// `lookup [kind=...] right on ...`
    Lookup {
        /// `kind` and similar parameters.
        params: Vec<NamedArg>,
        /// The right side.
        right: Expr,
        /// The `on` clause.
        on: Vec<Expr>,
    },
    /// `union [params] tables`
    Union {
        /// `kind`, `withsource`, `isfuzzy`, hints.
        params: Vec<NamedArg>,
        /// Tables, wildcard patterns or subqueries.
        tables: Vec<Expr>,
    },
    /// `mv-expand` / `mvexpand`
    MvExpand {
        /// `bagexpansion`, `with_itemindex`, `kind`.
        params: Vec<NamedArg>,
        /// The expanded columns.
        items: Vec<MvItem>,
        /// `limit N`
        limit: Option<Expr>,
    },
    /// `mv-apply items on (subquery)`
    MvApply {
        /// `with_itemindex` and similar parameters.
        params: Vec<NamedArg>,
        /// The expanded columns.
        items: Vec<MvItem>,
        /// `limit N`
        limit: Option<Expr>,
        /// `id = expr` context id.
        id: Option<Expr>,
        /// The subquery applied to each row's expansion.
        subquery: Expr,
    },
    /// `parse` and `parse-where`
    Parse {
        /// True for `parse-where` (drops rows that do not match).
        is_where: bool,
        /// `kind`, `flags`.
        params: Vec<NamedArg>,
        /// The parsed value.
        source: Expr,
        /// The pattern.
        pattern: Vec<ParsePart>,
    },
    /// `parse-kv expr as (cols) [with (props)]`
    ParseKv {
        /// The parsed value.
        source: Expr,
        /// Extracted columns.
        columns: Vec<ColumnDecl>,
        /// `pair_delimiter`, `kv_delimiter`, `quote`, `escape`, `greedy`.
        props: Vec<NamedArg>,
    },
    /// `make-series aggs on axis [from] [to] step s [by keys]`
    MakeSeries {
        /// Hints.
        params: Vec<NamedArg>,
        /// Aggregations with their `default =` values.
        aggs: Vec<(ColumnAssign, Option<Expr>)>,
        /// The axis column.
        on: Expr,
        /// `from`
        from: Option<Expr>,
        /// `to`
        to: Option<Expr>,
        /// `step`
        step: Expr,
        /// Group keys.
        by: Vec<ColumnAssign>,
    },
    /// `evaluate [hints] plugin(args) [: (schema)]`
    Evaluate {
        /// Hints.
        params: Vec<NamedArg>,
        /// The plugin call.
        call: Expr,
        /// The output schema after `:`, if given: its columns in order, `None` for a `*`.
        schema: Option<Vec<Option<ColumnDecl>>>,
    },
    /// `render chart [with (props)]`
    Render {
        /// The visualization.
        chart: Ident,
        /// Properties; list-valued ones (`ycolumns=a,b`) hold a `Paren` of a list.
        props: Vec<(Ident, Vec<Expr>)>,
    },
    /// `as [hints] Name`
    As {
        /// Hints.
        params: Vec<NamedArg>,
        /// The bound name.
        name: Ident,
    },
    /// `serialize [cols]`
    Serialize(Vec<ColumnAssign>),
    /// `getschema`
    GetSchema,
    /// `invoke function(args)`
    Invoke(Expr),
    /// `sample N`
    Sample(Expr),
    /// `sample-distinct N of col`
    SampleDistinct {
        /// How many values.
        count: Expr,
        /// Of which column.
        of: Expr,
    },
    /// `search [kind=...] [in (tables)] predicate`
    Search {
        /// `kind`.
        params: Vec<NamedArg>,
        /// `in (tables)`
        tables: Vec<Expr>,
        /// The predicate.
        predicate: Expr,
    },
    /// `find [withsource=...] [in (tables)] where predicate [project ...]`
    Find {
        /// Parameters.
        params: Vec<NamedArg>,
        /// `in (tables)`
        tables: Vec<Expr>,
        /// The predicate.
        predicate: Expr,
        /// `project` columns; `None` when absent, `Some(empty)` for `project-smart`.
        project: Option<Vec<Expr>>,
    },
    /// `partition [hints] by col (subquery)`
    Partition {
        /// Hints.
        params: Vec<NamedArg>,
        /// The partition key.
        by: Expr,
        /// The subquery.
        subquery: Expr,
    },
    /// `scan [with_match_id=..] [declare (...)] with (steps)`
    Scan {
        /// Parameters.
        params: Vec<NamedArg>,
        /// Declared state columns with defaults.
        declare: Vec<(ColumnDecl, Option<Expr>)>,
        /// The steps.
        steps: Vec<ScanStep>,
    },
    /// `fork (subquery) [as name] ...`
    Fork(Vec<(Expr, Option<Ident>)>),
    /// `facet by cols [with (subquery)]`
    Facet {
        /// Facet columns.
        by: Vec<Expr>,
        /// The `with` subquery.
        with: Option<Expr>,
    },
    /// `print [Name =] expr, ...`
    Print(Vec<ColumnAssign>),
    /// `range Name from a to b step s`
    Range {
        /// The column name.
        name: Ident,
        /// Start.
        from: Expr,
        /// End (inclusive).
        to: Expr,
        /// Step.
        step: Expr,
    },
    /// `reduce [kind=...] by expr [with props]`
    Reduce {
        /// Parameters.
        params: Vec<NamedArg>,
        /// The reduced expression.
        by: Expr,
        /// `with` properties.
        props: Vec<NamedArg>,
    },
    /// `make-graph [with_node_id=Name] Source --> Target [with Nodes1 on Key1 [, Nodes2 on Key2 ...]]`
    MakeGraph {
        /// Parameters (`with_node_id`).
        params: Vec<NamedArg>,
        /// The edges' source node id column.
        source: Ident,
        /// The edges' target node id column.
        target: Ident,
        /// Node tables with their id column.
        nodes: Vec<(Expr, Ident)>,
    },
    /// `graph-to-table nodes [as N] [with_node_id=C] [, edges [as E] [with_source_id=C] [with_target_id=C]]`
    GraphToTable(Vec<GraphExport>),
    /// `graph-match [cycles=...] Pattern [, Pattern ...] [where Constraints] [project Items]`, and
    /// `graph-shortest-paths [output=any|all]` of the same shape.
    GraphMatch(GraphMatch),
    /// `graph-mark-components [kind=weak|strong] [with_component_id=Name]`
    GraphMarkComponents(Vec<NamedArg>),
    /// `consume`
    Consume,
    /// `lookup`-free operators that only a cluster runs (`execute-and-cache` and the like).
    Other(String),
}
