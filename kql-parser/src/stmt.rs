//! Statements and whole scripts: `let`, `set`, `declare query_parameters`, query statements,
//! separated by `;`.

use crate::ast::*;
use crate::expr::{expr, pipe_expr, type_name};
use crate::lex::*;
use crate::span::Span;

/// A whole script: statements separated by `;` up to the end of the text.
pub fn script(i: In) -> PResult<Script> {
    let start = pos(i);
    let mut statements = Vec::new();
    let mut rest = i;
    loop {
        while let Ok((r, _)) = sym(";")(rest) {
            rest = r;
        }
        if at_end(rest) {
            expect_at(ws(rest), "end of query");
            break;
        }
        let (r, s) = statement(rest)?;
        statements.push(s);
        rest = r;
        if at_end(rest) {
            break;
        }
        match sym(";")(rest) {
            Ok((r, _)) => rest = r,
            Err(e) => {
                // Recover like Kusto: a missing `;` before something that starts a statement
                // is reported, and parsing goes on from there.
                let at = ws(rest);
                let starts_statement = peek_kw(at, "let") || peek_kw(at, "set") || peek_kw(at, "declare");
                // a `let`, `set` or `declare` always ends with `;`: whatever follows is the next
                // statement
                let after_declaration = matches!(
                    statements.last().map(|s: &Statement| &s.kind),
                    Some(
                        StatementKind::Let { .. }
                            | StatementKind::Set { .. }
                            | StatementKind::DeclareQueryParameters(_)
                    )
                );
                if starts_statement || (after_declaration && statement(at).is_ok()) {
                    // Kusto reports it right after a declaration (where its `;` belongs), and
                    // at the next statement after a query
                    record_recovered(if after_declaration { rest } else { at }, "Expected: ;");
                    rest = at;
                    continue;
                }
                return Err(e);
            }
        }
    }
    let end = pos(ws(rest));
    Ok((ws(rest), Script { statements, span: Span::new(start, end) }))
}

/// One statement.
pub fn statement(i: In) -> PResult<Statement> {
    let i = ws(i);
    let start = pos(i);
    if peek_kw(i, "let") {
        let (r, _) = kw("let")(i)?;
        let (r, n) = name(r)?;
        let (r, _) = sym("=")(r)?;
        let (r, value) = let_value(r)?;
        let end = pos(r);
        return Ok((r, Statement { kind: StatementKind::Let { name: n, value }, span: Span::new(start, end) }));
    }
    if peek_kw(i, "set") && !peek_sym(&ws(i)[3..], "=") {
        let (r, _) = kw("set")(i)?;
        let (r, n) = dotted_name(r)?;
        let (r, value) = if peek_sym(r, "=") && !peek_sym(r, "==") {
            let (r2, _) = sym("=")(r)?;
            let (r2, v) = expr(r2)?;
            (r2, Some(v))
        } else {
            (r, None)
        };
        let end = pos(r);
        return Ok((r, Statement { kind: StatementKind::Set { name: n, value }, span: Span::new(start, end) }));
    }
    if peek_kw(i, "declare") && peek_kw(&ws(i)[7..], "pattern") {
        let (r, decl) = pattern_decl(i)?;
        let end = pos(r);
        return Ok((r, Statement { kind: StatementKind::DeclarePattern(decl), span: Span::new(start, end) }));
    }
    if peek_kw(i, "declare") {
        let (r, _) = kw("declare")(i)?;
        let (r, _) = kw("query_parameters")(r)?;
        let (r, params) = param_list(r)?;
        let end = pos(r);
        return Ok((r, Statement { kind: StatementKind::DeclareQueryParameters(params), span: Span::new(start, end) }));
    }
    if peek_kw(i, "alias") || peek_kw(i, "restrict") || peek_kw(i, "pattern") {
        return other_statement(i);
    }
    let (r, e) = pipe_expr(i)?;
    let span = e.span;
    Ok((r, Statement { kind: StatementKind::Query(e), span }))
}

/// `declare pattern name [= (a: string, ...) [[p: string]] { ("v", ...) [.["pv"]] = { body }; ... }]`
fn pattern_decl(i: In) -> PResult<PatternDecl> {
    let (r, _) = kw("declare")(i)?;
    let (r, _) = kw("pattern")(r)?;
    let (r, n) = name(r)?;
    let mut decl = PatternDecl { name: n, params: Vec::new(), path: None, cases: Vec::new() };
    if !peek_sym(r, "=") {
        return Ok((r, decl));
    }
    let (r, _) = sym("=")(r)?;
    let (mut r, params) = param_list(r)?;
    decl.params = params;
    if peek_sym(r, "[") {
        let (r2, _) = sym("[")(r)?;
        let (r2, pn) = name(r2)?;
        let (r2, _) = sym(":")(r2)?;
        let (r2, t) = type_name(r2)?;
        let (r2, _) = sym("]")(r2)?;
        decl.path = Some(Param { name: pn, ty: ParamType::Scalar(t), default: None });
        r = r2;
    }
    let (mut r, _) = sym("{")(r)?;
    loop {
        while let Ok((r2, _)) = sym(";")(r) {
            r = r2;
        }
        if let Ok((r2, _)) = sym("}")(r) {
            return Ok((r2, decl));
        }
        // (values)
        let (mut r2, _) = sym("(")(r)?;
        let mut values = Vec::new();
        loop {
            let (r3, v) = crate::literal::string_literal(ws(r2))?;
            values.push(v);
            if let Ok((r4, _)) = sym(",")(r3) {
                r2 = r4;
                continue;
            }
            let (r4, _) = sym(")")(r3)?;
            r2 = r4;
            break;
        }
        // [.[path]] or [.path]
        let mut path = None;
        if let Ok((r3, _)) = sym(".")(r2) {
            if let Ok((r4, _)) = sym("[")(r3) {
                let (r4, v) = crate::literal::string_literal(ws(r4))?;
                let (r4, _) = sym("]")(r4)?;
                path = Some(v);
                r2 = r4;
            } else {
                let (r4, id) = name(r3)?;
                path = Some(id.name);
                r2 = r4;
            }
        }
        let (r2, _) = sym("=")(r2)?;
        let (r2, b) = body(r2)?;
        decl.cases.push(PatternCase { values, path, body: b });
        r = r2;
    }
}

/// A cluster-level statement (`alias`, `restrict`, `pattern`) kept as
/// text up to the `;` that ends it (braces may hold nested `;`).
fn other_statement(i: In) -> PResult<Statement> {
    let start = pos(i);
    let mut depth = 0i32;
    let mut n = i.len();
    for (k, c) in i.char_indices() {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth -= 1,
            ';' if depth <= 0 => {
                n = k;
                break;
            }
            _ => {}
        }
    }
    let text = i[..n].trim_end().to_string();
    Ok((&i[n..], Statement { kind: StatementKind::Other(text), span: Span::new(start, start + n) }))
}

fn let_value(i: In) -> PResult<LetValue> {
    let t = ws(i);
    let start = pos(t);
    if peek_kw(t, "view") {
        let (r, _) = kw("view")(t)?;
        let (r, params) = param_list(r)?;
        let (r, body) = body(r)?;
        let end = pos(r);
        return Ok((r, LetValue::Function(FunctionDef { is_view: true, params, body, span: Span::new(start, end) })));
    }
    if t.starts_with('(') {
        if let Ok((r, params)) = param_list(t) {
            if peek_sym(r, "{") {
                let (r, body) = body(r)?;
                let end = pos(r);
                return Ok((
                    r,
                    LetValue::Function(FunctionDef { is_view: false, params, body, span: Span::new(start, end) }),
                ));
            }
        }
    }
    let (r, e) = pipe_expr(t)?;
    Ok((r, LetValue::Expr(e)))
}

/// `{ statements }` of a function body.
fn body(i: In) -> PResult<Vec<Statement>> {
    let (mut r, _) = sym("{")(i)?;
    let mut statements = Vec::new();
    loop {
        while let Ok((r2, _)) = sym(";")(r) {
            r = r2;
        }
        if let Ok((r2, _)) = sym("}")(r) {
            return Ok((r2, statements));
        }
        let (r2, s) = statement(r)?;
        statements.push(s);
        r = r2;
        if let Ok((r2, _)) = sym("}")(r) {
            return Ok((r2, statements));
        }
        let (r2, _) = sym(";")(r)?;
        r = r2;
    }
}

/// `( name: type [= default], name: (*), ... )`
pub fn param_list(i: In) -> PResult<Vec<Param>> {
    let (mut r, _) = sym("(")(i)?;
    let mut params = Vec::new();
    if let Ok((r2, _)) = sym(")")(r) {
        return Ok((r2, params));
    }
    loop {
        let (r2, n) = name(r)?;
        let (r2, _) = sym(":")(r2)?;
        let (r2, ty) = if peek_sym(r2, "(") {
            if let Ok((r3, _)) = (|i| {
                let (i, _) = sym("(")(i)?;
                let (i, _) = sym("*")(i)?;
                sym(")")(i)
            })(r2)
            {
                (r3, ParamType::Tabular(None))
            } else {
                let (r3, cols) = crate::ops::column_decls_star(r2)?;
                (r3, ParamType::Tabular(Some(cols)))
            }
        } else {
            let (r3, t) = type_name(r2)?;
            (r3, ParamType::Scalar(t))
        };
        let (r2, default) = if peek_sym(r2, "=") {
            let (r3, _) = sym("=")(r2)?;
            let (r3, d) = expr(r3)?;
            (r3, Some(d))
        } else {
            (r2, None)
        };
        params.push(Param { name: n, ty, default });
        if let Ok((r3, _)) = sym(",")(r2) {
            r = r3;
            continue;
        }
        let (r3, _) = sym(")")(r2)?;
        return Ok((r3, params));
    }
}
