//! Scalar and tabular expressions with Kusto's operator precedence, from lowest to highest:
//! `|` (pipe), `or`, `and`, comparisons and string / list / range predicates, `+ -`, `* / %`,
//! unary `- +`, then postfix member access, indexing and calls.

use crate::ast::*;
use crate::lex::*;
use crate::literal::{number, paren_content, parse_dynamic, starts_string, string_concat, typed_literal, NumberToken};
use crate::span::Span;

/// A pipe expression: an expression followed by any number of `| operator`.
pub fn pipe_expr(i: In) -> PResult<Expr> {
    pipe_expr_at(i, false)
}

/// [`pipe_expr`]; `nested` when the caller has already entered a nesting level (and grown
/// the stack) for it, as a parenthesis does, so that `(x)` counts one level, not two.
fn pipe_expr_at(i: In, nested: bool) -> PResult<Expr> {
    let (mut rest, source) = match source_operator(i) {
        Some(r) => r?,
        None if nested => or_expr(i)?,
        None => expr(i)?,
    };
    let start = source.span;
    let mut ops = Vec::new();
    while peek_sym(rest, "|") && !peek_sym(rest, "||") {
        count_pipe_operator(ws(rest))?;
        let (r, _) = sym("|")(rest)?;
        let (r, op) = crate::ops::operator(r)?;
        ops.push(op);
        rest = r;
    }
    if ops.is_empty() {
        return Ok((rest, source));
    }
    let end = ops.last().map(|o| o.span).unwrap_or(start);
    Ok((rest, Expr::new(ExprKind::Pipe { source: Some(Box::new(source)), ops }, start.to(end))))
}

/// A pipeline without a source, as in `mv-apply ... on (summarize ...)`: `op (| op)*`.
/// Falls back to a full pipe expression when the text does not start with an operator.
pub fn sourceless_pipe(i: In) -> PResult<Expr> {
    let i = ws(i);
    if crate::ops::starts_operator(i) {
        let start = pos(i);
        let (mut rest, first) = crate::ops::operator(i)?;
        let mut ops = vec![first];
        while peek_sym(rest, "|") {
            count_pipe_operator(ws(rest))?;
            let (r, _) = sym("|")(rest)?;
            let (r, op) = crate::ops::operator(r)?;
            ops.push(op);
            rest = r;
        }
        let end = ops.last().map(|o| o.span.end).unwrap_or(start);
        return Ok((rest, Expr::new(ExprKind::Pipe { source: None, ops }, Span::new(start, end))));
    }
    pipe_expr(i)
}

/// A scalar-level expression (no top-level pipe).
pub fn expr(i: In) -> PResult<Expr> {
    enter(i)?;
    // deep nesting must end in an error, never in a stack overflow
    let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || or_expr(i));
    leave();
    r
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    Expr::new(ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, span)
}

fn or_expr(i: In) -> PResult<Expr> {
    let (mut rest, mut left) = and_expr(i)?;
    loop {
        match kw("or")(rest) {
            Ok((r, _)) => {
                count_operator(ws(rest))?;
                let (r, right) = and_expr(r)?;
                left = binary(BinaryOp::Or, left, right);
                rest = r;
            }
            Err(_) => return Ok((rest, left)),
        }
    }
}

fn and_expr(i: In) -> PResult<Expr> {
    let (mut rest, mut left) = cmp_expr(i)?;
    loop {
        match kw("and")(rest) {
            Ok((r, _)) => {
                count_operator(ws(rest))?;
                let (r, right) = cmp_expr(r)?;
                left = binary(BinaryOp::And, left, right);
                rest = r;
            }
            Err(_) => return Ok((rest, left)),
        }
    }
}

/// The operators at comparison level.
enum CmpOp {
    Bin(BinaryOp),
    List(ListOp),
    Between(bool),
}

const SYMBOL_OPS: &[(&str, BinaryOp)] = &[
    ("==", BinaryOp::Eq),
    ("!=", BinaryOp::NotEq),
    ("<>", BinaryOp::NotEq),
    ("<=", BinaryOp::LtEq),
    (">=", BinaryOp::GtEq),
    ("=~", BinaryOp::Str(StrOp { kind: StrOpKind::Equals, negated: false, case_sensitive: false })),
    ("!~", BinaryOp::Str(StrOp { kind: StrOpKind::Equals, negated: true, case_sensitive: false })),
    ("<", BinaryOp::Lt),
    (">", BinaryOp::Gt),
];

fn str_op(kind: StrOpKind, negated: bool, case_sensitive: bool) -> CmpOp {
    CmpOp::Bin(BinaryOp::Str(StrOp { kind, negated, case_sensitive }))
}

/// Word operators at comparison level, longest spellings first where one is a prefix.
fn word_op(word: &str) -> Option<CmpOp> {
    use StrOpKind::*;
    let (neg, w) = match word.strip_prefix('!') {
        Some(w) => (true, w),
        None => match word.strip_prefix("not") {
            Some(w)
                if matches!(
                    w,
                    "contains"
                        | "containscs"
                        | "has"
                        | "hascs"
                        | "startswith"
                        | "endswith"
                        | "between"
                        | "in"
                        | "like"
                        | "likecs"
                ) =>
            {
                (true, w)
            }
            _ => (false, word),
        },
    };
    Some(match w {
        "contains" => str_op(Contains, neg, false),
        "contains_cs" | "containscs" => str_op(Contains, neg, true),
        "has" => str_op(Has, neg, false),
        "has_cs" | "hascs" => str_op(Has, neg, true),
        "hasprefix" => str_op(HasPrefix, neg, false),
        "hasprefix_cs" => str_op(HasPrefix, neg, true),
        "hassuffix" => str_op(HasSuffix, neg, false),
        "hassuffix_cs" => str_op(HasSuffix, neg, true),
        "startswith" => str_op(StartsWith, neg, false),
        "startswith_cs" => str_op(StartsWith, neg, true),
        "endswith" => str_op(EndsWith, neg, false),
        "endswith_cs" => str_op(EndsWith, neg, true),
        "like" => str_op(Like, neg, false),
        "likecs" => str_op(Like, neg, true),
        "in" => CmpOp::List(if neg { ListOp::NotIn } else { ListOp::In }),
        "in~" => CmpOp::List(if neg { ListOp::NotInCi } else { ListOp::InCi }),
        "has_any" if !neg => CmpOp::List(ListOp::HasAny),
        "has_all" if !neg => CmpOp::List(ListOp::HasAll),
        "between" => CmpOp::Between(neg),
        _ => return None,
    })
}

/// Try to read a comparison-level operator at `i`.
fn cmp_operator(i: In) -> Option<(In, CmpOp)> {
    let i = ws(i);
    // word operators, possibly with `!`
    let (bang, body) = match i.strip_prefix('!') {
        Some(b) => (1, b),
        None => (0, i),
    };
    if body.starts_with(is_ident_start) {
        let mut n = body.char_indices().find(|(_, c)| !is_ident_char(*c)).map(|(k, _)| k).unwrap_or(body.len());
        let word = &body[..n];
        if word == "in" && body[n..].starts_with('~') {
            n += 1;
        }
        if word == "matches" && bang == 0 {
            if let Ok((r, _)) = kw("regex")(&body[n..]) {
                return Some((r, str_op(StrOpKind::MatchesRegex, false, true)));
            }
            return None;
        }
        let spelled = format!("{}{}", if bang == 1 { "!" } else { "" }, &body[..n]);
        return word_op(&spelled).map(|op| (&body[n..], op));
    }
    for (s, op) in SYMBOL_OPS {
        if let Some(r) = i.strip_prefix(s) {
            // `<|` and `=>` are not comparison operators
            return Some((r, CmpOp::Bin(*op)));
        }
    }
    None
}

fn cmp_expr(i: In) -> PResult<Expr> {
    let (mut rest, mut left) = add_expr(i)?;
    loop {
        let Some((r, op)) = cmp_operator(rest) else {
            expect_at(ws(rest), "operator");
            return Ok((rest, left));
        };
        count_operator(ws(rest))?;
        match op {
            CmpOp::Bin(op) => {
                let (r, right) = add_expr(r)?;
                left = binary(op, left, right);
                rest = r;
            }
            CmpOp::List(op) => {
                let (r, (list, end)) = paren_list(r)?;
                let span = left.span.to(end);
                left = Expr::new(ExprKind::InList { op, expr: Box::new(left), list }, span);
                rest = r;
            }
            CmpOp::Between(negated) => {
                let (r, _) = sym("(")(r)?;
                let (r, low) = add_expr(r)?;
                let (r, _) = sym("..")(r)?;
                let (r, high) = add_expr(r)?;
                let (r, end) = sym(")")(r)?;
                let span = left.span.to(end);
                left = Expr::new(
                    ExprKind::Between { negated, expr: Box::new(left), low: Box::new(low), high: Box::new(high) },
                    span,
                );
                rest = r;
            }
        }
    }
}

/// `( pipe_expr, ... )`, returning the items and the span of the closing paren.
pub fn paren_list(i: In) -> PResult<(Vec<Expr>, Span)> {
    let (mut rest, _) = sym("(")(i)?;
    let mut items = Vec::new();
    if let Ok((r, end)) = sym(")")(rest) {
        return Ok((r, (items, end)));
    }
    loop {
        let (r, e) = pipe_expr(rest)?;
        items.push(e);
        if let Ok((r2, _)) = sym(",")(r) {
            rest = r2;
            continue;
        }
        let (r, end) = sym(")")(r)?;
        return Ok((r, (items, end)));
    }
}

/// An additive-level expression (no comparisons): used where `in` is a keyword, as in
/// `make-series ... on T in range(...)`.
pub fn add_expr(i: In) -> PResult<Expr> {
    let (mut rest, mut left) = mul_expr(i)?;
    loop {
        let t = ws(rest);
        let op = if t.starts_with('+') {
            BinaryOp::Add
        } else if t.starts_with('-') && !t.starts_with("->") {
            BinaryOp::Sub
        } else {
            expect_at(t, "operator");
            return Ok((rest, left));
        };
        count_operator(t)?;
        let (r, right) = mul_expr(&t[1..])?;
        left = binary(op, left, right);
        rest = r;
    }
}

fn mul_expr(i: In) -> PResult<Expr> {
    let (mut rest, mut left) = unary_expr(i)?;
    loop {
        let t = ws(rest);
        let op = match t.as_bytes().first() {
            Some(b'*') => BinaryOp::Mul,
            Some(b'/') if !t.starts_with("//") => BinaryOp::Div,
            Some(b'%') => BinaryOp::Mod,
            _ => {
                expect_at(t, "operator");
                return Ok((rest, left));
            }
        };
        count_operator(t)?;
        let (r, right) = unary_expr(&t[1..])?;
        left = binary(op, left, right);
        rest = r;
    }
}

fn unary_expr(i: In) -> PResult<Expr> {
    let t = ws(i);
    let op = match t.as_bytes().first() {
        Some(b'-') => Some(UnaryOp::Neg),
        Some(b'+') => Some(UnaryOp::Plus),
        _ => None,
    };
    if let Some(op) = op {
        let start = pos(t);
        enter(t)?;
        let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || unary_expr(&t[1..]));
        leave();
        let (r, operand) = r?;
        // fold negative numeric literals
        if op == UnaryOp::Neg {
            if let ExprKind::Literal(lit) = &operand.kind {
                let folded = match lit {
                    Literal::Long(Some(v)) => Some(Literal::Long(Some(v.wrapping_neg()))),
                    Literal::Real(Some(v)) => Some(Literal::Real(Some(-v))),
                    Literal::TimeSpan(Some(v)) => Some(Literal::TimeSpan(Some(-v))),
                    _ => None,
                };
                if let Some(l) = folded {
                    if operand.span.start == start + 1 {
                        return Ok((r, Expr::new(ExprKind::Literal(l), Span::new(start, operand.span.end))));
                    }
                }
            }
        }
        let span = Span::new(start, operand.span.end);
        return Ok((r, Expr::new(ExprKind::Unary { op, operand: Box::new(operand) }, span)));
    }
    postfix_expr(t)
}

fn postfix_expr(i: In) -> PResult<Expr> {
    let (mut rest, mut e) = primary(i)?;
    loop {
        let t = ws(rest);
        if (t.starts_with('.') && !t.starts_with("..")) || t.starts_with('[') {
            count_operator(t)?;
        }
        if t.starts_with('.') && !t.starts_with("..") {
            let after = ws(&t[1..]);
            if after.starts_with('[') {
                // a.['b'] and a.[0]
                let (r, _) = sym("[")(after)?;
                let (r, mut index) = expr(r)?;
                let (r, end) = sym("]")(r)?;
                let span = e.span.to(end);
                e = match std::mem::replace(&mut index.kind, ExprKind::Star) {
                    ExprKind::Literal(Literal::String(s)) if peek_sym(r, "(") => {
                        // a quoted method name: target.['name'](args)
                        let (r2, (args, end)) = call_args(r)?;
                        let span = e.span.to(end);
                        rest = r2;
                        e = Expr::new(
                            ExprKind::Call { target: Some(Box::new(e)), name: Ident::new(s, index.span), args },
                            span,
                        );
                        continue;
                    }
                    ExprKind::Literal(Literal::String(s)) => {
                        Expr::new(ExprKind::Member { target: Box::new(e), name: Ident::new(s, index.span) }, span)
                    }
                    other => {
                        index.kind = other;
                        Expr::new(ExprKind::Index { target: Box::new(e), index: Box::new(index) }, span)
                    }
                };
                rest = r;
                continue;
            }
            if after.starts_with('$') && after[1..].starts_with(is_ident_start) {
                let (r, n) = plain_ident(&after[1..])?;
                let n = Ident::new(format!("${}", n.name), Span::new(n.span.start - 1, n.span.end));
                let span = e.span.to(n.span);
                e = Expr::new(ExprKind::Member { target: Box::new(e), name: n }, span);
                rest = r;
                continue;
            }
            let (r, n) = match plain_ident(after) {
                Ok(x) => x,
                Err(_) => {
                    // digits after a dot: `a.0`
                    if let Ok((r, (NumberToken::Lit(Literal::Long(Some(v))), sp))) = number(after) {
                        (r, Ident::new(v.to_string(), sp))
                    } else {
                        return fail(after, "name");
                    }
                }
            };
            if peek_sym(r, "(") {
                let (r2, (args, end)) = call_args(r)?;
                let span = e.span.to(end);
                e = Expr::new(ExprKind::Call { target: Some(Box::new(e)), name: n, args }, span);
                rest = r2;
                continue;
            }
            let span = e.span.to(n.span);
            e = Expr::new(ExprKind::Member { target: Box::new(e), name: n }, span);
            rest = r;
            continue;
        }
        if t.starts_with('[') {
            let (r, _) = sym("[")(t)?;
            let (r, index) = expr(r)?;
            let (r, end) = sym("]")(r)?;
            let span = e.span.to(end);
            e = Expr::new(ExprKind::Index { target: Box::new(e), index: Box::new(index) }, span);
            rest = r;
            continue;
        }
        return Ok((rest, e));
    }
}

/// `( args )` of a call, returning the arguments and the span of `)`.
pub fn call_args(i: In) -> PResult<(Vec<Arg>, Span)> {
    let (mut rest, _) = sym("(")(i)?;
    let mut args = Vec::new();
    if let Ok((r, end)) = sym(")")(rest) {
        return Ok((r, (args, end)));
    }
    loop {
        let (r, a) = arg(rest)?;
        args.push(a);
        if let Ok((r2, _)) = sym(",")(r) {
            rest = r2;
            continue;
        }
        let (r, end) = sym(")")(r)?;
        return Ok((r, (args, end)));
    }
}

/// `name = value` where `=` is not `==` or `=~` or `=>`.
pub fn named_prefix(i: In) -> Option<(In, Ident)> {
    let (r, n) = name(i).ok()?;
    let t = ws(r);
    if t.starts_with('=') && !t.starts_with("==") && !t.starts_with("=~") && !t.starts_with("=>") {
        Some((&t[1..], n))
    } else {
        None
    }
}

fn arg(i: In) -> PResult<Arg> {
    if let Some((r, n)) = named_prefix(i) {
        let (r, value) = pipe_expr(r)?;
        return Ok((r, Arg::Named(NamedArg { name: n, value })));
    }
    let (r, e) = pipe_expr(i)?;
    Ok((r, Arg::Positional(e)))
}

pub(crate) const TYPED_LITERALS: &[&str] = &[
    "datetime", "date", "dynamic", "guid", "uniqueid", "time", "timespan", "int", "long", "real", "double", "bool",
    "boolean", "decimal", "string",
];

/// Words that begin a tabular operator usable as a query source.
const SOURCE_OPS: &[&str] = &["print", "range", "union", "search", "find", "evaluate"];

fn lit(l: Literal, span: Span) -> Expr {
    Expr::new(ExprKind::Literal(l), span)
}

fn primary(i: In) -> PResult<Expr> {
    let i = ws(i);
    let start = pos(i);
    let Some(c) = i.chars().next() else {
        return fail(i, "expression");
    };
    if c == '(' {
        enter(i)?;
        let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            let (r, _) = sym("(")(i)?;
            let (r, e) = pipe_expr_at(r, true)?;
            let (r, end) = sym(")")(r)?;
            Ok((r, Expr::new(ExprKind::Paren(Box::new(e)), Span::new(start, end.end))))
        });
        leave();
        return r;
    }
    if starts_string(i) {
        let (r, (s, span)) = string_concat(i)?;
        return Ok((r, lit(Literal::String(s), span)));
    }
    if c.is_ascii_digit() {
        let (r, (tok, span)) = number(i)?;
        return Ok((
            r,
            match tok {
                NumberToken::Lit(l) => lit(l, span),
                NumberToken::Name(n) => Expr::new(ExprKind::Name(Ident::new(n, span)), span),
            },
        ));
    }
    if c == '*' {
        return Ok((&i[1..], Expr::new(ExprKind::Star, Span::new(start, start + 1))));
    }
    if c == '$' {
        let (r, id) = plain_ident(&i[1..])?;
        let span = Span::new(start, id.span.end);
        return Ok((r, Expr::new(ExprKind::JoinSide(Ident::new(format!("${}", id.name), span)), span)));
    }
    if c == '[' {
        let (r, id) = name(i)?;
        if peek_sym(r, "(") {
            // a quoted function name: ['name'](args)
            let (r2, (args, end)) = call_args(r)?;
            return Ok((r2, Expr::new(ExprKind::Call { target: None, name: id, args }, Span::new(start, end.end))));
        }
        let span = id.span;
        return Ok((r, Expr::new(ExprKind::Name(id), span)));
    }
    if !is_ident_start(c) {
        return fail(i, "expression");
    }
    let (r, id) = plain_ident(i)?;
    let word = id.name.as_str();
    let after = ws(r);
    match word {
        "true" | "True" | "TRUE" => return Ok((r, lit(Literal::Bool(Some(true)), id.span))),
        "false" | "False" | "FALSE" => return Ok((r, lit(Literal::Bool(Some(false)), id.span))),
        _ => {}
    }
    if after.starts_with('(') && TYPED_LITERALS.contains(&word) {
        let (r2, content) = paren_content(after)?;
        let span = Span::new(start, pos(r2));
        if word == "dynamic" {
            return match parse_dynamic(content) {
                Ok(v) => Ok((r2, lit(Literal::Dynamic(v), span))),
                Err(m) => fatal(after, format!("invalid dynamic literal: {m}")),
            };
        }
        if let Some(l) = typed_literal(word, content) {
            return Ok((r2, lit(l, span)));
        }
        if word == "string" || word == "date" {
            // not a literal: treat as an ordinary call
        } else {
            return fatal(after, format!("invalid {word} literal `{}`", content.trim()));
        }
    }
    if word == "datatable" && after.starts_with('(') {
        return datatable(i);
    }
    if word == "externaldata" && (after.starts_with('(') || after.starts_with("with")) {
        return externaldata(i);
    }
    if after.starts_with('(') {
        let (r2, (args, end)) = call_args(r)?;
        return Ok((r2, Expr::new(ExprKind::Call { target: None, name: id, args }, Span::new(start, end.end))));
    }
    let span = id.span;
    Ok((r, Expr::new(ExprKind::Name(id), span)))
}

/// A source operator (`print`, `range`, `union`...) where a query can start; `None` when the
/// text there does not start one.
fn source_operator(i: In) -> Option<PResult<Expr>> {
    let t = ws(i);
    let (r, id) = plain_ident(t).ok()?;
    let word = id.name.as_str();
    if SOURCE_OPS.contains(&word) && starts_source_operand(word, ws(r)) {
        return Some(crate::ops::operator(t).map(|(r2, op)| {
            let span = op.span;
            (r2, Expr::new(ExprKind::Source(Box::new(op)), span))
        }));
    }
    None
}

/// Whether `word` (a source operator keyword) followed by `after` starts that operator rather
/// than naming a column or calling a function.
fn starts_source_operand(word: &str, after: &str) -> bool {
    let Some(c) = after.chars().next() else {
        return word == "print";
    };
    match word {
        "range" => is_ident_start(c) || c == '[',
        "print" => !matches!(c, ',' | ')' | ']' | '.' | '=') || after.starts_with("=="),
        "evaluate" => is_ident_start(c),
        "union" | "search" | "find" => is_ident_start(c) || matches!(c, '(' | '"' | '\'' | '*' | '[' | '@'),
        _ => false,
    }
}

/// `Name: type, ...` between parentheses.
pub fn column_decls(i: In) -> PResult<Vec<ColumnDecl>> {
    let (mut rest, _) = sym("(")(i)?;
    let mut cols = Vec::new();
    if let Ok((r, _)) = sym(")")(rest) {
        return Ok((r, cols));
    }
    loop {
        let (r, n) = name(rest)?;
        let (r, _) = sym(":")(r)?;
        let (r, ty) = type_name(r)?;
        cols.push(ColumnDecl { name: n, ty });
        if let Ok((r2, _)) = sym(",")(r) {
            rest = r2;
            if let Ok((r3, _)) = sym(")")(rest) {
                return Ok((r3, cols));
            }
            continue;
        }
        let (r, _) = sym(")")(r)?;
        return Ok((r, cols));
    }
}

/// The scalar type names Kusto knows.
pub const TYPE_NAMES: &[&str] = &[
    "bool", "boolean", "int", "int32", "long", "int64", "real", "double", "decimal", "datetime", "date", "timespan",
    "time", "string", "guid", "uniqueid", "dynamic",
];

/// A scalar type name.
pub fn type_name(i: In) -> PResult<TypeName> {
    let i = ws(i);
    let (r, id) = match plain_ident(i) {
        Ok(x) => x,
        Err(_) => return fail(i, "type name"),
    };
    let lower = id.name.to_ascii_lowercase();
    if !TYPE_NAMES.contains(&lower.as_str()) {
        return fail(i, "type name");
    }
    Ok((r, TypeName { name: lower, span: id.span }))
}

fn datatable(i: In) -> PResult<Expr> {
    let i = ws(i);
    let start = pos(i);
    let (r, _) = kw("datatable")(i)?;
    let (r, columns) = column_decls(r)?;
    let (mut rest, _) = sym("[")(r)?;
    let mut values = Vec::new();
    loop {
        while let Ok((r, _)) = sym(",")(rest) {
            rest = r;
        }
        if let Ok((r, end)) = sym("]")(rest) {
            return Ok((r, Expr::new(ExprKind::Datatable { columns, values }, Span::new(start, end.end))));
        }
        let (r, v) = expr(rest)?;
        values.push(v);
        if let Ok((r2, _)) = sym(",")(r) {
            rest = r2;
            continue;
        }
        let (r, end) = sym("]")(r)?;
        return Ok((r, Expr::new(ExprKind::Datatable { columns, values }, Span::new(start, end.end))));
    }
}

/// `with (name = value, ...)` properties.
pub fn with_props(i: In) -> PResult<Vec<NamedArg>> {
    let (r, _) = kw("with")(i)?;
    props_in_parens(r)
}

/// `(name = value, ...)`.
pub fn props_in_parens(i: In) -> PResult<Vec<NamedArg>> {
    let (mut rest, _) = sym("(")(i)?;
    let mut props = Vec::new();
    if let Ok((r, _)) = sym(")")(rest) {
        return Ok((r, props));
    }
    loop {
        let (r, n) = dotted_name(rest)?;
        let (r, _) = sym("=")(r)?;
        let (r, v) = expr(r)?;
        props.push(NamedArg { name: n, value: v });
        if let Ok((r2, _)) = sym(",")(r) {
            rest = r2;
            continue;
        }
        let (r, _) = sym(")")(r)?;
        return Ok((r, props));
    }
}

fn externaldata(i: In) -> PResult<Expr> {
    let i = ws(i);
    let start = pos(i);
    let (r, _) = kw("externaldata")(i)?;
    let (r, columns) = column_decls(r)?;
    let (mut rest, _) = sym("[")(r)?;
    let mut urls = Vec::new();
    loop {
        let (r, u) = expr(rest)?;
        urls.push(u);
        if let Ok((r2, _)) = sym(",")(r) {
            rest = r2;
            continue;
        }
        let (r, end) = sym("]")(r)?;
        rest = r;
        let mut props = Vec::new();
        let mut end = end.end;
        if peek_kw(rest, "with") {
            let (r, p) = with_props(rest)?;
            props = p;
            end = pos(r);
            rest = r;
        }
        return Ok((rest, Expr::new(ExprKind::ExternalData { columns, urls, props }, Span::new(start, end))));
    }
}

/// Parse a `dynamic` literal's text on its own (used by tests and tools).
pub fn dynamic_value(text: &str) -> Result<DynValue, String> {
    parse_dynamic(text)
}
