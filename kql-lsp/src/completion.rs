//! Completion that knows where the cursor is: tables (and tabular `let`s and stored functions)
//! where a statement or subquery starts, operators after `|`, `kind=` values of `join`,
//! `lookup`, `union`, `parse`, `mv-expand`, `search` and `reduce`; after `Column.` the keys a
//! dynamic column has in the project's data ([`crate::keys`]); elsewhere the columns in scope
//! (the binder's output schema of the pipeline before the cursor's operator), `let` names,
//! and functions with their signature as a snippet (aggregations inside `summarize`).

use crate::catalog;
use crate::context::{self, Place};
use crate::tokens::{Tok, Token};
use crate::workspace::ProjectSession;
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionList, CompletionTextEdit, Documentation, InsertTextFormat, TextEdit,
};

/// Tabular operators, offered after `|`.
pub const OPERATORS: &[&str] = &[
    "as",
    "consume",
    "count",
    "distinct",
    "evaluate",
    "extend",
    "facet",
    "fork",
    "getschema",
    "invoke",
    "join",
    "limit",
    "lookup",
    "make-series",
    "mv-apply",
    "mv-expand",
    "order by",
    "parse",
    "parse-kv",
    "parse-where",
    "partition",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "reduce",
    "render",
    "sample",
    "sample-distinct",
    "scan",
    "search",
    "serialize",
    "sort by",
    "summarize",
    "take",
    "top",
    "top-hitters",
    "top-nested",
    "union",
    "where",
];

/// The `kind=` values of an operator.
pub fn kind_values(operator: &str) -> &'static [&'static str] {
    match operator {
        "join" => &[
            "innerunique",
            "inner",
            "leftouter",
            "rightouter",
            "fullouter",
            "leftanti",
            "rightanti",
            "leftsemi",
            "rightsemi",
            "leftantisemi",
            "rightantisemi",
        ],
        "lookup" => &["leftouter", "inner"],
        "union" => &["outer", "inner"],
        "parse" | "parse-where" => &["simple", "regex", "relaxed"],
        "mv-expand" | "mv-apply" => &["bag", "array"],
        "search" => &["case_sensitive", "case_insensitive"],
        "reduce" => &["source"],
        _ => &[],
    }
}

/// Words offered inside an operator besides names.
fn operator_keywords(operator: &str) -> &'static [&'static str] {
    match operator {
        "where" | "filter" => &["and", "or", "not", "has", "contains", "startswith", "in", "between", "isnotempty"],
        "summarize" | "make-series" => &["by"],
        "join" | "lookup" => &["kind", "on"],
        "sort" | "order" | "top" => &["by", "asc", "desc", "nulls first", "nulls last"],
        "parse" | "parse-where" => &["with", "kind"],
        "mv-expand" => &["to typeof", "kind", "limit"],
        _ => &[],
    }
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>, sort: &str) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        sort_text: Some(format!("{sort}{label}")),
        ..Default::default()
    }
}

/// Keep `name` when it matches the word typed so far (its letters in order, any case).
fn matches(name: &str, typed: &str) -> bool {
    let mut it = name.chars().flat_map(char::to_lowercase);
    typed.chars().flat_map(char::to_lowercase).all(|c| it.any(|n| n == c))
}

/// The completions at byte `offset` of `text` (`tokens` its tokens), with `session` for the
/// schemas, tables and stored functions. `edit_range` maps a byte range of the query to the
/// file's range for the text edits.
pub fn complete(
    text: &str,
    tokens: &[Token],
    offset: usize,
    ps: &ProjectSession,
    edit_range: &dyn Fn(usize, usize) -> lsp_types::Range,
) -> CompletionList {
    let p = context::place(text, tokens, offset);
    let mut items = if p.in_literal { vec![] } else { items_at(text, tokens, &p, offset, ps) };
    let typed = text.get(p.word.0..offset.max(p.word.0)).unwrap_or("");
    items.retain(|i| matches(&i.label, typed));
    let range = edit_range(p.word.0, p.word.1.max(offset));
    for i in &mut items {
        let new_text = i.insert_text.take().unwrap_or_else(|| quote_name(&i.label, i.kind));
        i.text_edit = Some(CompletionTextEdit::Edit(TextEdit { range, new_text }));
    }
    let incomplete = items.len() > 400;
    items.truncate(400);
    CompletionList { is_incomplete: incomplete || typed.is_empty(), items }
}

/// A column or table name as written in a query: `['a b']` when it is not a plain name.
fn quote_name(label: &str, kind: Option<CompletionItemKind>) -> String {
    let plain = label.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && label.chars().all(|c| c.is_alphanumeric() || c == '_');
    if plain || !matches!(kind, Some(CompletionItemKind::FIELD) | Some(CompletionItemKind::CLASS)) {
        label.to_string()
    } else {
        format!("['{}']", label.replace('\'', "\\'"))
    }
}

fn items_at(text: &str, tokens: &[Token], p: &Place, offset: usize, ps: &ProjectSession) -> Vec<CompletionItem> {
    let prev = p.prev.map(|i| &tokens[i]);
    let prev_text = prev.map(|t| t.text(text)).unwrap_or("");
    let before_prev = p.prev.and_then(|i| i.checked_sub(1)).map(|i| tokens[i].text(text)).unwrap_or("");
    let operator = p.operator.as_deref().unwrap_or("");
    // `let x` : a new name
    if prev.is_some_and(|t| t.kind == Tok::Ident) && prev_text == "let" {
        return vec![];
    }
    if prev_text == "=" && before_prev == "kind" {
        return kind_values(operator)
            .iter()
            .map(|k| item(k, CompletionItemKind::ENUM_MEMBER, Some(format!("{operator} kind")), "0"))
            .collect();
    }
    if prev_text == "|" {
        return OPERATORS
            .iter()
            .map(|o| {
                let mut i = item(o, CompletionItemKind::KEYWORD, Some("tabular operator".into()), "0");
                i.insert_text = Some(format!("{o} "));
                i
            })
            .collect();
    }
    let at_start =
        prev.is_none() || prev_text == ";" || (prev_text == "=" && before_prev != "kind" && is_let_eq(text, tokens, p));
    let wants_table = at_start
        || prev_text == "("
        || (matches!(operator, "join" | "lookup") && (prev_text == operator || before_prev == "kind"))
        || (operator == "union" && (prev_text == "union" || prev_text == ","));
    let lets = context::let_names_before(text, tokens, offset);
    if wants_table {
        let mut out = tables(ps);
        for (name, _) in &lets {
            out.push(item(name, CompletionItemKind::VARIABLE, Some("let".into()), "0"));
        }
        if at_start {
            for k in ["let", "print", "range", "union", "datatable", "search", "find", "evaluate", "externaldata"] {
                out.push(item(k, CompletionItemKind::KEYWORD, None, "2"));
            }
        }
        return out;
    }
    // `Column.` or `Column.a.`: the keys a dynamic column has in the project's data
    if prev_text == "." {
        if let Some(keys) = member_keys(text, tokens, p, ps) {
            return keys;
        }
    }
    // an expression inside an operator: columns, lets, functions
    let mut out = Vec::new();
    if let Some(input) = context::input_text(text, p) {
        for c in context::columns_of(&ps.session, &input) {
            out.push(item(&c.name, CompletionItemKind::FIELD, Some(c.ty.to_string()), "0"));
        }
    }
    for (name, _) in &lets {
        out.push(item(name, CompletionItemKind::VARIABLE, Some("let".into()), "1"));
    }
    let aggregates = matches!(operator, "summarize" | "make-series" | "top-nested");
    for f in catalog::functions() {
        let ok = match f.kind.as_str() {
            "aggregate" => aggregates,
            "plugin" => operator == "evaluate",
            _ => operator != "evaluate",
        };
        if !ok || f.hidden {
            continue;
        }
        let mut i = item(&f.name, CompletionItemKind::FUNCTION, Some(f.label(0)), "3");
        i.documentation = Some(Documentation::String(f.summary()));
        i.insert_text = Some(f.snippet());
        i.insert_text_format = Some(InsertTextFormat::SNIPPET);
        out.push(i);
    }
    for name in ps.session.catalog.function_names() {
        let mut i = item(name, CompletionItemKind::FUNCTION, Some("stored function".into()), "2");
        i.insert_text = Some(format!("{name}($0)"));
        i.insert_text_format = Some(InsertTextFormat::SNIPPET);
        out.push(i);
    }
    for k in operator_keywords(operator) {
        out.push(item(k, CompletionItemKind::KEYWORD, None, "4"));
    }
    out
}

/// After `Column.` (or `Column.a.b.`) where `Column` is a dynamic column in scope: the keys of
/// that member seen in a sample of the project's data (`None` when it is not such a place or
/// no key is known).
fn member_keys(text: &str, tokens: &[Token], p: &Place, ps: &ProjectSession) -> Option<Vec<CompletionItem>> {
    // the names before the dot, back to the column: `a . b .`
    let dot = p.prev?;
    let mut names: Vec<&str> = Vec::new();
    let mut i = dot;
    loop {
        let name = tokens.get(i.checked_sub(1)?)?;
        if name.kind != Tok::Ident {
            return None;
        }
        names.push(name.text(text));
        match i.checked_sub(2).map(|j| (j, &tokens[j])) {
            Some((j, t)) if t.kind == Tok::Punct && t.text(text) == "." => i = j,
            _ => break,
        }
    }
    names.reverse();
    let input = context::input_text(text, p)?;
    let column = context::columns_of(&ps.session, &input).into_iter().find(|c| c.name == names[0])?;
    if column.ty != kql_exec::schema::KqlType::Dynamic {
        return None;
    }
    let keys = ps.keys.keys(&input, &names.join("."));
    if keys.is_empty() {
        return None;
    }
    let plain = |k: &str| {
        k.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    Some(
        keys.iter()
            .filter(|k| plain(k))
            .map(|k| {
                item(k, CompletionItemKind::PROPERTY, Some(format!("key of {} in the data", names.join("."))), "0")
            })
            .collect(),
    )
}

/// True when the `=` before the cursor is that of `let NAME =`.
fn is_let_eq(text: &str, tokens: &[Token], p: &Place) -> bool {
    p.prev.is_some_and(|i| i >= 2 && tokens[i - 2].kind == Tok::Ident && tokens[i - 2].text(text) == "let")
}

/// Tables of the schemas and data, and the functions of the schema catalog (ASIM parsers...).
fn tables(ps: &ProjectSession) -> Vec<CompletionItem> {
    let schemas = ps.session.catalog.schemas();
    let mut out: Vec<CompletionItem> = ps
        .session
        .catalog
        .table_names()
        .iter()
        .map(|t| {
            let n = schemas.table(t).map(|s| s.columns.len());
            item(t, CompletionItemKind::CLASS, n.map(|n| format!("table, {n} columns")), "1")
        })
        .collect();
    for f in schemas.functions() {
        out.push(item(&f.name, CompletionItemKind::FUNCTION, Some("function (schema catalog)".into()), "1"));
    }
    for name in ps.session.catalog.function_names() {
        out.push(item(name, CompletionItemKind::FUNCTION, Some("stored function".into()), "1"));
    }
    out
}
