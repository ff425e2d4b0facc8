//! The canonical pretty-printer: turns an AST back into KQL text that parses to the same AST.
//!
//! Pipelines print one operator per line (`| where ...`); expressions print with single spaces
//! and only the parentheses the tree holds (plus any that precedence requires).

use crate::ast::*;
use std::fmt::Write;

/// Print a whole script.
pub fn print_script(s: &Script) -> String {
    let mut out = String::new();
    for (n, st) in s.statements.iter().enumerate() {
        if n > 0 {
            out.push_str(";\n");
        }
        statement(&mut out, st);
    }
    out
}

/// Print one expression.
pub fn print_expr(e: &Expr) -> String {
    let mut out = String::new();
    expr(&mut out, e);
    out
}

fn statement(out: &mut String, s: &Statement) {
    match &s.kind {
        StatementKind::Let { name: n, value } => {
            let _ = write!(out, "let {} = ", ident(&n.name));
            match value {
                LetValue::Expr(e) => expr(out, e),
                LetValue::Function(f) => function(out, f),
            }
        }
        StatementKind::Query(e) => expr(out, e),
        StatementKind::Set { name: n, value } => {
            let _ = write!(out, "set {}", n.name);
            if let Some(v) = value {
                out.push_str(" = ");
                expr(out, v);
            }
        }
        StatementKind::DeclareQueryParameters(ps) => {
            out.push_str("declare query_parameters");
            params(out, ps);
        }
        StatementKind::DeclarePattern(d) => pattern_decl(out, d),
        StatementKind::Other(t) => out.push_str(t),
    }
}

fn pattern_decl(out: &mut String, d: &PatternDecl) {
    let _ = write!(out, "declare pattern {}", ident(&d.name.name));
    if d.params.is_empty() && d.path.is_none() && d.cases.is_empty() {
        return;
    }
    out.push_str(" = ");
    params(out, &d.params);
    if let Some(p) = &d.path {
        let _ = write!(out, "[{}: ", ident(&p.name.name));
        if let ParamType::Scalar(t) = &p.ty {
            out.push_str(&t.name);
        }
        out.push(']');
    }
    out.push_str(" {\n");
    for c in &d.cases {
        out.push('(');
        let vals: Vec<String> = c.values.iter().map(|v| string_lit(v)).collect();
        out.push_str(&vals.join(", "));
        out.push(')');
        if let Some(p) = &c.path {
            let _ = write!(out, ".[{}]", string_lit(p));
        }
        out.push_str(" = {\n");
        for (n, st) in c.body.iter().enumerate() {
            if n > 0 {
                out.push_str(";\n");
            }
            statement(out, st);
        }
        out.push_str("\n};\n");
    }
    out.push('}');
}

fn function(out: &mut String, f: &FunctionDef) {
    if f.is_view {
        out.push_str("view ");
    }
    params(out, &f.params);
    out.push_str(" {\n");
    for (n, s) in f.body.iter().enumerate() {
        if n > 0 {
            out.push_str(";\n");
        }
        statement(out, s);
    }
    out.push_str("\n}");
}

fn params(out: &mut String, ps: &[Param]) {
    out.push('(');
    for (n, p) in ps.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}: ", ident(&p.name.name));
        match &p.ty {
            ParamType::Scalar(t) => out.push_str(&t.name),
            ParamType::Tabular(None) => out.push_str("(*)"),
            ParamType::Tabular(Some(cols)) => column_decls(out, cols),
        }
        if let Some(d) = &p.default {
            out.push_str(" = ");
            expr(out, d);
        }
    }
    out.push(')');
}

fn column_decls(out: &mut String, cols: &[ColumnDecl]) {
    out.push('(');
    for (n, c) in cols.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}: {}", ident(&c.name.name), c.ty.name);
    }
    out.push(')');
}

/// Words that must be quoted when used as names.
const RESERVED: &[&str] = &[
    "and",
    "or",
    "true",
    "false",
    "True",
    "False",
    "TRUE",
    "FALSE",
    "by",
    "on",
    "with",
    "let",
    "set",
    "declare",
    "in",
    "has",
    "contains",
    "between",
    "of",
    "to",
    "from",
    "step",
    "asc",
    "desc",
    "nulls",
    "limit",
    "default",
    "print",
    "range",
    "union",
    "search",
    "find",
    "evaluate",
    "datatable",
    "externaldata",
    "view",
    "alias",
    "restrict",
    "pattern",
    "typeof",
    "hasprefix",
    "hassuffix",
    "startswith",
    "endswith",
    "matches",
    "like",
];

/// A name as KQL text: plain when possible, otherwise `['...']`.
pub fn ident(name: &str) -> String {
    let mut chars = name.chars();
    let plain = match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => name.chars().all(|c| c.is_alphanumeric() || c == '_'),
        _ => false,
    };
    if plain && !RESERVED.contains(&name) && !crate::ops::OPERATOR_KEYWORDS.contains(&name) {
        name.to_string()
    } else {
        format!("[{}]", string_lit(name))
    }
}

/// A string as a double-quoted KQL literal.
pub fn string_lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn real(v: f64) -> String {
    if v.is_nan() {
        "real(nan)".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "real(+inf)".into()
        } else {
            "real(-inf)".into()
        }
    } else {
        let s = format!("{v:?}");
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    }
}

fn literal(out: &mut String, l: &Literal) {
    let s = match l {
        Literal::Bool(Some(b)) => b.to_string(),
        Literal::Bool(None) => "bool(null)".into(),
        Literal::Int(Some(v)) => format!("int({v})"),
        Literal::Int(None) => "int(null)".into(),
        // `-9223372036854775808` would read as a real: its digits do not fit a long
        Literal::Long(Some(i64::MIN)) => format!("long({})", i64::MIN),
        Literal::Long(Some(v)) => v.to_string(),
        Literal::Long(None) => "long(null)".into(),
        Literal::Real(Some(v)) => real(*v),
        Literal::Real(None) => "real(null)".into(),
        Literal::Decimal(Some(t)) => format!("decimal({t})"),
        Literal::Decimal(None) => "decimal(null)".into(),
        Literal::String(s) => string_lit(s),
        Literal::DateTime(Some(t)) => format!("datetime({t})"),
        Literal::DateTime(None) => "datetime(null)".into(),
        Literal::TimeSpan(Some(i64::MIN)) => "time(-10675199.02:48:05.4775808)".into(),
        Literal::TimeSpan(Some(t)) => format!("{t}tick"),
        Literal::TimeSpan(None) => "time(null)".into(),
        Literal::Guid(Some(g)) => format!("guid({g})"),
        Literal::Guid(None) => "guid(null)".into(),
        Literal::Dynamic(v) => {
            let mut s = String::from("dynamic(");
            dynamic(&mut s, v);
            s.push(')');
            s
        }
        Literal::StringNull => "string(null)".into(),
    };
    out.push_str(&s);
}

fn dynamic(out: &mut String, v: &DynValue) {
    match v {
        DynValue::Null => out.push_str("null"),
        DynValue::Bool(b) => out.push_str(&b.to_string()),
        DynValue::Long(v) => out.push_str(&v.to_string()),
        DynValue::Real(v) => {
            let s = real(*v);
            out.push_str(&s);
        }
        DynValue::String(s) => out.push_str(&string_lit(s)),
        DynValue::DateTime(t) => {
            let _ = write!(out, "datetime({t})");
        }
        DynValue::TimeSpan(t) => {
            let _ = write!(out, "time({t}tick)");
        }
        DynValue::Guid(g) => {
            let _ = write!(out, "guid({g})");
        }
        DynValue::Array(items) => {
            out.push('[');
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                dynamic(out, i);
            }
            out.push(']');
        }
        DynValue::Object(items) => {
            out.push('{');
            for (n, (k, v)) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                out.push_str(&string_lit(k));
                out.push_str(": ");
                dynamic(out, v);
            }
            out.push('}');
        }
    }
}

/// Binding strength of an expression (higher binds tighter).
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Pipe { .. } => 0,
        ExprKind::Binary { op, .. } => op_prec(*op),
        ExprKind::InList { .. } | ExprKind::Between { .. } => 3,
        ExprKind::Unary { .. } => 6,
        ExprKind::Source(_) => 1,
        _ => 7,
    }
}

fn op_prec(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Add | BinaryOp::Sub => 4,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 5,
        _ => 3,
    }
}

fn operand(out: &mut String, e: &Expr, min: u8) {
    if prec(e) < min {
        out.push('(');
        expr(out, e);
        out.push(')');
    } else {
        expr(out, e);
    }
}

/// The text of a binary operator.
pub fn binary_op_text(op: BinaryOp) -> String {
    match op {
        BinaryOp::Or => "or".into(),
        BinaryOp::And => "and".into(),
        BinaryOp::Eq => "==".into(),
        BinaryOp::NotEq => "!=".into(),
        BinaryOp::Lt => "<".into(),
        BinaryOp::LtEq => "<=".into(),
        BinaryOp::Gt => ">".into(),
        BinaryOp::GtEq => ">=".into(),
        BinaryOp::Add => "+".into(),
        BinaryOp::Sub => "-".into(),
        BinaryOp::Mul => "*".into(),
        BinaryOp::Div => "/".into(),
        BinaryOp::Mod => "%".into(),
        BinaryOp::Str(s) => {
            let base = match s.kind {
                StrOpKind::Equals => return if s.negated { "!~".into() } else { "=~".into() },
                StrOpKind::MatchesRegex => return "matches regex".into(),
                StrOpKind::Contains => "contains",
                StrOpKind::Has => "has",
                StrOpKind::HasPrefix => "hasprefix",
                StrOpKind::HasSuffix => "hassuffix",
                StrOpKind::StartsWith => "startswith",
                StrOpKind::EndsWith => "endswith",
                StrOpKind::Like => "like",
            };
            let cs = if s.case_sensitive {
                if s.kind == StrOpKind::Like {
                    "cs"
                } else {
                    "_cs"
                }
            } else {
                ""
            };
            format!("{}{base}{cs}", if s.negated { "!" } else { "" })
        }
    }
}

fn list_op_text(op: ListOp) -> &'static str {
    match op {
        ListOp::In => "in",
        ListOp::NotIn => "!in",
        ListOp::InCi => "in~",
        ListOp::NotInCi => "!in~",
        ListOp::HasAny => "has_any",
        ListOp::HasAll => "has_all",
    }
}

fn comma<T>(out: &mut String, items: &[T], f: impl Fn(&mut String, &T)) {
    for (n, i) in items.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        f(out, i);
    }
}

fn args(out: &mut String, a: &[Arg]) {
    out.push('(');
    comma(out, a, |out, a| match a {
        Arg::Positional(e) => expr(out, e),
        // a call argument's name is a plain name: a dotted one came from `['a.b']`
        Arg::Named(n) => {
            let _ = write!(out, "{}=", ident(&n.name.name));
            expr(out, &n.value);
        }
    });
    out.push(')');
}

fn named(out: &mut String, n: &NamedArg) {
    let dotted_plain = n.name.name.contains('.')
        && n.name.name.split('.').all(|p| {
            p.starts_with(|c: char| c.is_alphabetic() || c == '_') && p.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    let _ = write!(out, "{}=", if dotted_plain { n.name.name.clone() } else { ident(&n.name.name) });
    expr(out, &n.value);
}

fn expr(out: &mut String, e: &Expr) {
    // a deep tree (a long `or` chain) grows the stack instead of overflowing it
    crate::with_stack(|| expr_inner(out, e))
}

fn expr_inner(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Literal(l) => literal(out, l),
        ExprKind::Name(n) => out.push_str(&ident(&n.name)),
        ExprKind::Wildcard(w) => out.push_str(w),
        ExprKind::Star => out.push('*'),
        ExprKind::JoinSide(n) => out.push_str(&n.name),
        ExprKind::Member { target, name } => {
            operand(out, target, 7);
            if name.name.starts_with('$')
                && name.name[1..].starts_with(|c: char| c.is_alphabetic() || c == '_')
                && name.name[1..].chars().all(|c| c.is_alphanumeric() || c == '_')
            {
                let _ = write!(out, ".{}", name.name);
            } else {
                let _ = write!(out, ".{}", ident(&name.name));
            }
        }
        ExprKind::Index { target, index } => {
            operand(out, target, 7);
            out.push('[');
            expr(out, index);
            out.push(']');
        }
        ExprKind::Call { target, name, args: a } => {
            if let Some(t) = target {
                operand(out, t, 7);
                out.push('.');
            }
            if name.name.starts_with(|c: char| c.is_alphabetic() || c == '_')
                && name.name.chars().all(|c| c.is_alphanumeric() || c == '_')
            {
                out.push_str(&name.name);
            } else {
                out.push_str(&ident(&name.name));
            }
            args(out, a);
        }
        ExprKind::Unary { op, operand: o } => {
            out.push(if *op == UnaryOp::Neg { '-' } else { '+' });
            // a space keeps `- 1` from folding into a literal when the tree holds a unary
            if matches!(o.kind, ExprKind::Literal(_) | ExprKind::Unary { .. }) {
                out.push(' ');
                expr(out, o);
            } else {
                operand(out, o, 6);
            }
        }
        ExprKind::Binary { op, left, right } => {
            let p = op_prec(*op);
            operand(out, left, p);
            let _ = write!(out, " {} ", binary_op_text(*op));
            operand(out, right, p + 1);
        }
        ExprKind::InList { op, expr: x, list } => {
            operand(out, x, 3);
            let _ = write!(out, " {} (", list_op_text(*op));
            comma(out, list, expr);
            out.push(')');
        }
        ExprKind::Between { negated, expr: x, low, high } => {
            operand(out, x, 3);
            out.push_str(if *negated { " !between (" } else { " between (" });
            operand(out, low, 4);
            out.push_str(" .. ");
            operand(out, high, 4);
            out.push(')');
        }
        ExprKind::Paren(inner) => {
            out.push('(');
            expr(out, inner);
            out.push(')');
        }
        ExprKind::Pipe { source, ops } => {
            if let Some(s) = source {
                operand(out, s, 1);
            }
            for (n, op) in ops.iter().enumerate() {
                if source.is_some() || n > 0 {
                    out.push_str("\n| ");
                }
                operator(out, op);
            }
        }
        ExprKind::Source(op) => operator(out, op),
        ExprKind::Datatable { columns, values } => {
            out.push_str("datatable");
            column_decls(out, columns);
            out.push_str(" [");
            comma(out, values, expr);
            out.push(']');
        }
        ExprKind::ExternalData { columns, urls, props } => {
            out.push_str("externaldata");
            column_decls(out, columns);
            out.push_str(" [");
            comma(out, urls, expr);
            out.push(']');
            if !props.is_empty() {
                out.push_str(" with (");
                comma(out, props, named);
                out.push(')');
            }
        }
        ExprKind::Braced(inner) => {
            out.push_str("{ ");
            expr(out, inner);
            out.push_str(" }");
        }
    }
}

fn assign(out: &mut String, a: &ColumnAssign) {
    match a.names.len() {
        0 => {}
        1 => {
            let _ = write!(out, "{} = ", ident(&a.names[0].name));
        }
        _ => {
            out.push('(');
            comma(out, &a.names, |out, n| out.push_str(&ident(&n.name)));
            out.push_str(") = ");
        }
    }
    expr(out, &a.expr);
}

fn graph_node(out: &mut String, n: &GraphNode) {
    out.push('(');
    if let Some(name) = &n.name {
        out.push_str(&ident(&name.name));
    }
    out.push(')');
}

fn param_list(out: &mut String, ps: &[NamedArg]) {
    for p in ps {
        out.push(' ');
        named(out, p);
    }
}

fn sort_key(out: &mut String, k: &SortKey) {
    expr(out, &k.expr);
    match k.order {
        Some(SortOrder::Asc) => out.push_str(" asc"),
        Some(SortOrder::Desc) => out.push_str(" desc"),
        None => {}
    }
    match k.nulls {
        Some(NullsPosition::First) => out.push_str(" nulls first"),
        Some(NullsPosition::Last) => out.push_str(" nulls last"),
        None => {}
    }
}

fn mv_items(out: &mut String, items: &[MvItem]) {
    comma(out, items, |out, i| {
        assign(out, &i.column);
        if let Some(t) = &i.to_type {
            let _ = write!(out, " to typeof({})", t.name);
        }
    });
}

fn operator(out: &mut String, op: &Operator) {
    crate::with_stack(|| operator_inner(out, op))
}

fn operator_inner(out: &mut String, op: &Operator) {
    use OperatorKind::*;
    match &op.kind {
        Where(e) => {
            out.push_str("where ");
            expr(out, e);
        }
        Extend(a) => {
            out.push_str("extend ");
            comma(out, a, assign);
        }
        Project(a) => {
            out.push_str("project ");
            comma(out, a, assign);
        }
        ProjectAway(a) => {
            out.push_str("project-away ");
            comma(out, a, expr);
        }
        ProjectKeep(a) => {
            out.push_str("project-keep ");
            comma(out, a, expr);
        }
        ProjectRename(p) => {
            out.push_str("project-rename ");
            comma(out, p, |out, (n, o)| {
                let _ = write!(out, "{} = {}", ident(&n.name), ident(&o.name));
            });
        }
        ProjectReorder(p) => {
            out.push_str("project-reorder ");
            comma(out, p, |out, (e, o)| {
                expr(out, e);
                if let Some(o) = o {
                    let _ = write!(out, " {o}");
                }
            });
        }
        Summarize { params, aggs, by } => {
            out.push_str("summarize");
            param_list(out, params);
            if !aggs.is_empty() {
                out.push(' ');
                comma(out, aggs, assign);
            }
            if !by.is_empty() {
                out.push_str(" by ");
                comma(out, by, assign);
            }
        }
        Count(n) => {
            out.push_str("count");
            if let Some(n) = n {
                let _ = write!(out, " as {}", ident(&n.name));
            }
        }
        Distinct { params, columns } => {
            out.push_str("distinct");
            param_list(out, params);
            out.push(' ');
            comma(out, columns, assign);
        }
        Take(e) => {
            out.push_str("take ");
            expr(out, e);
        }
        Top { count, by } => {
            out.push_str("top ");
            expr(out, count);
            out.push_str(" by ");
            sort_key(out, by);
        }
        TopNested(clauses) => {
            for (n, c) in clauses.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                out.push_str("top-nested ");
                if let Some(cnt) = &c.count {
                    expr(out, cnt);
                    out.push(' ');
                }
                out.push_str("of ");
                assign(out, &c.of);
                if let Some(o) = &c.others {
                    out.push_str(" with others = ");
                    expr(out, o);
                }
                out.push_str(" by ");
                assign(out, &c.by);
                match c.order {
                    Some(SortOrder::Asc) => out.push_str(" asc"),
                    Some(SortOrder::Desc) => out.push_str(" desc"),
                    None => {}
                }
            }
        }
        TopHitters { count, of, by } => {
            out.push_str("top-hitters ");
            expr(out, count);
            out.push_str(" of ");
            expr(out, of);
            if let Some(b) = by {
                out.push_str(" by ");
                expr(out, b);
            }
        }
        Sort { params, keys } => {
            out.push_str("sort");
            param_list(out, params);
            out.push_str(" by ");
            comma(out, keys, sort_key);
        }
        Join { params, right, on } | Lookup { params, right, on } => {
            out.push_str(if matches!(op.kind, Join { .. }) { "join" } else { "lookup" });
            param_list(out, params);
            out.push(' ');
            expr(out, right);
            out.push_str(" on ");
            comma(out, on, expr);
        }
        Union { params, tables } => {
            out.push_str("union");
            param_list(out, params);
            out.push(' ');
            comma(out, tables, expr);
        }
        MvExpand { params, items, limit } => {
            out.push_str("mv-expand");
            param_list(out, params);
            out.push(' ');
            mv_items(out, items);
            if let Some(l) = limit {
                out.push_str(" limit ");
                expr(out, l);
            }
        }
        MvApply { params, items, limit, id, subquery } => {
            out.push_str("mv-apply");
            param_list(out, params);
            out.push(' ');
            mv_items(out, items);
            if let Some(l) = limit {
                out.push_str(" limit ");
                expr(out, l);
            }
            if let Some(i) = id {
                out.push_str(" id = ");
                expr(out, i);
            }
            out.push_str(" on (");
            expr(out, subquery);
            out.push(')');
        }
        Parse { is_where, params, source, pattern } => {
            out.push_str(if *is_where { "parse-where" } else { "parse" });
            param_list(out, params);
            out.push(' ');
            expr(out, source);
            out.push_str(" with");
            for p in pattern {
                out.push(' ');
                match p {
                    ParsePart::Literal(s) => out.push_str(&string_lit(s)),
                    ParsePart::Star => out.push('*'),
                    ParsePart::Column(n, t) => {
                        out.push_str(&ident(&n.name));
                        if let Some(t) = t {
                            let _ = write!(out, ": {}", t.name);
                        }
                    }
                }
            }
        }
        ParseKv { source, columns, props } => {
            out.push_str("parse-kv ");
            expr(out, source);
            out.push_str(" as ");
            column_decls(out, columns);
            if !props.is_empty() {
                out.push_str(" with (");
                comma(out, props, named);
                out.push(')');
            }
        }
        MakeSeries { params, aggs, on, from, to, step, by } => {
            out.push_str("make-series");
            param_list(out, params);
            out.push(' ');
            comma(out, aggs, |out, (a, d)| {
                assign(out, a);
                if let Some(d) = d {
                    out.push_str(" default = ");
                    expr(out, d);
                }
            });
            out.push_str(" on ");
            operand(out, on, 4);
            if let Some(f) = from {
                out.push_str(" from ");
                expr(out, f);
            }
            if let Some(t) = to {
                out.push_str(" to ");
                expr(out, t);
            }
            out.push_str(" step ");
            expr(out, step);
            if !by.is_empty() {
                out.push_str(" by ");
                comma(out, by, assign);
            }
        }
        Evaluate { params, call, schema } => {
            out.push_str("evaluate");
            param_list(out, params);
            out.push(' ');
            expr(out, call);
            if let Some(cols) = schema {
                out.push_str(" : (");
                comma(out, cols, |out, c| match c {
                    Some(c) => {
                        let _ = write!(out, "{}: {}", ident(&c.name.name), c.ty.name);
                    }
                    None => out.push('*'),
                });
                out.push(')');
            }
        }
        Render { chart, props } => {
            let _ = write!(out, "render {}", chart.name);
            if !props.is_empty() {
                out.push_str(" with (");
                comma(out, props, |out, (n, vs)| {
                    let _ = write!(out, "{}=", n.name);
                    comma(out, vs, expr);
                });
                out.push(')');
            }
        }
        As { params, name } => {
            out.push_str("as");
            param_list(out, params);
            let _ = write!(out, " {}", ident(&name.name));
        }
        Serialize(a) => {
            out.push_str("serialize");
            if !a.is_empty() {
                out.push(' ');
                comma(out, a, assign);
            }
        }
        GetSchema => out.push_str("getschema"),
        Invoke(c) => {
            out.push_str("invoke ");
            expr(out, c);
        }
        Sample(e) => {
            out.push_str("sample ");
            expr(out, e);
        }
        SampleDistinct { count, of } => {
            out.push_str("sample-distinct ");
            expr(out, count);
            out.push_str(" of ");
            expr(out, of);
        }
        Search { params, tables, predicate } => {
            out.push_str("search");
            param_list(out, params);
            if !tables.is_empty() {
                out.push_str(" in (");
                comma(out, tables, expr);
                out.push(')');
            }
            out.push(' ');
            expr(out, predicate);
        }
        Find { params, tables, predicate, project } => {
            out.push_str("find");
            param_list(out, params);
            if !tables.is_empty() {
                out.push_str(" in (");
                comma(out, tables, expr);
                out.push(')');
            }
            out.push_str(" where ");
            expr(out, predicate);
            match project {
                Some(p) if p.is_empty() => out.push_str(" project-smart"),
                Some(p) => {
                    out.push_str(" project ");
                    comma(out, p, expr);
                }
                None => {}
            }
        }
        Partition { params, by, subquery } => {
            out.push_str("partition");
            param_list(out, params);
            out.push_str(" by ");
            expr(out, by);
            if matches!(subquery.kind, ExprKind::Braced(_)) {
                out.push(' ');
                expr(out, subquery);
            } else {
                out.push_str(" (");
                expr(out, subquery);
                out.push(')');
            }
        }
        Scan { params, declare, steps } => {
            out.push_str("scan");
            param_list(out, params);
            if !declare.is_empty() {
                out.push_str(" declare (");
                comma(out, declare, |out, (c, d)| {
                    let _ = write!(out, "{}: {}", ident(&c.name.name), c.ty.name);
                    if let Some(d) = d {
                        out.push_str(" = ");
                        expr(out, d);
                    }
                });
                out.push(')');
            }
            out.push_str(" with (");
            for s in steps {
                let _ = write!(out, " step {}{}", ident(&s.name.name), if s.optional { " optional" } else { "" });
                if let Some(o) = &s.output {
                    let _ = write!(out, " output={o}");
                }
                out.push_str(": ");
                expr(out, &s.condition);
                if !s.assignments.is_empty() {
                    out.push_str(" => ");
                    comma(out, &s.assignments, assign);
                }
                out.push(';');
            }
            out.push_str(" )");
        }
        Fork(branches) => {
            out.push_str("fork");
            for (q, alias) in branches {
                out.push_str(" (");
                expr(out, q);
                out.push(')');
                if let Some(a) = alias {
                    let _ = write!(out, " as {}", ident(&a.name));
                }
            }
        }
        Facet { by, with } => {
            out.push_str("facet by ");
            comma(out, by, expr);
            if let Some(w) = with {
                out.push_str(" with (");
                expr(out, w);
                out.push(')');
            }
        }
        Print(a) => {
            out.push_str("print");
            if !a.is_empty() {
                out.push(' ');
                comma(out, a, assign);
            }
        }
        Range { name, from, to, step } => {
            let _ = write!(out, "range {} from ", ident(&name.name));
            expr(out, from);
            out.push_str(" to ");
            expr(out, to);
            out.push_str(" step ");
            expr(out, step);
        }
        Reduce { params, by, props } => {
            out.push_str("reduce");
            param_list(out, params);
            out.push_str(" by ");
            expr(out, by);
            if !props.is_empty() {
                out.push_str(" with ");
                comma(out, props, named);
            }
        }
        MakeGraph { params, source, target, nodes } => {
            out.push_str("make-graph");
            param_list(out, params);
            let _ = write!(out, " {} --> {}", ident(&source.name), ident(&target.name));
            if !nodes.is_empty() {
                out.push_str(" with ");
                for (k, (t, key)) in nodes.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    expr(out, t);
                    let _ = write!(out, " on {}", ident(&key.name));
                }
            }
        }
        GraphToTable(exports) => {
            out.push_str("graph-to-table ");
            for (k, x) in exports.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                out.push_str(if x.edges { "edges" } else { "nodes" });
                if let Some(a) = &x.alias {
                    let _ = write!(out, " as {}", ident(&a.name));
                }
                param_list(out, &x.params);
            }
        }
        GraphMarkComponents(params) => {
            out.push_str("graph-mark-components");
            param_list(out, params);
        }
        GraphMatch(g) => {
            out.push_str(if g.shortest { "graph-shortest-paths" } else { "graph-match" });
            param_list(out, &g.params);
            for (k, p) in g.patterns.iter().enumerate() {
                out.push_str(if k == 0 { " " } else { ", " });
                graph_node(out, &p.first);
                for (e, n) in &p.steps {
                    out.push_str(if e.direction == EdgeDirection::Left { "<-" } else { "-" });
                    if e.name.is_some() || e.length.is_some() {
                        out.push('[');
                        if let Some(n) = &e.name {
                            out.push_str(&ident(&n.name));
                        }
                        if let Some((lo, hi)) = e.length {
                            let _ = write!(out, "*{lo}..{hi}");
                        }
                        out.push(']');
                    }
                    out.push_str(if e.direction == EdgeDirection::Right { "->" } else { "-" });
                    graph_node(out, n);
                }
            }
            if let Some(c) = &g.constraints {
                out.push_str(" where ");
                expr(out, c);
            }
            if !g.project.is_empty() {
                out.push_str(" project ");
                comma(out, &g.project, assign);
            }
        }
        Consume => out.push_str("consume"),
        Other(t) => out.push_str(t),
    }
}
