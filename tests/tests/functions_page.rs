//! `docs/functions.md`: every function of Kusto's catalog (`kql-exec/data/kusto-functions.json`)
//! and every tabular operator of the language, with its status in this engine, generated from the
//! engine itself so that it cannot drift:
//!
//! - a function or plugin that Kusto can only run on a cluster answers with KQL077 and a reason
//!   (`kql_exec::functions::cluster_only`): the page gives that reason;
//! - every other one is called through a real query with arguments of its declared types (the
//!   same calls as `function_calls.rs`); the engine's "not supported yet" errors (KQL071 for a
//!   scalar function, KQL092 for an aggregation, KQL055 for a plugin or operator) mark it as not
//!   yet implemented, any other outcome (a value, or an error about the arguments) as implemented.
//!
//! The test fails when the page is stale; `KQL_BLESS_FUNCTIONS=1` rewrites it.

use crate::function_calls::{calls, table, COLUMNS};
use kql_exec::functions::cluster_only;
use kql_exec::session::{Catalog, Session, SessionOptions};
use serde_json::Value;
use std::collections::BTreeMap;

/// Where a function or operator stands here.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    Implemented,
    ClusterOnly(String),
    NotYet(String),
}

/// The engine's codes for "not supported yet".
const NOT_YET: &[&str] = &["KQL071", "KQL092", "KQL055"];

/// Kusto's tabular operators, each with a query that uses it over `T` (a table with a column of
/// every type, see `function_calls.rs`). Names as the reference writes them.
const OPERATORS: &[(&str, &str)] = &[
    ("as", "T | as X | count"),
    ("consume", "T | consume"),
    ("count", "T | count"),
    ("datatable", "datatable(a:long)[1]"),
    ("distinct", "T | distinct cl"),
    ("evaluate", "T | evaluate bag_unpack(cbag)"),
    ("extend", "T | extend x = 1"),
    ("externaldata", "externaldata(a:string)['missing.csv'] | count"),
    ("facet", "T | facet by cs"),
    ("find", "find in (T) where cl > 0"),
    ("fork", "T | fork (take 1) (count)"),
    ("getschema", "T | getschema"),
    ("graph-mark-components", "T | make-graph cs --> cs | graph-mark-components | graph-to-table nodes"),
    ("graph-match", "T | make-graph cs --> cs | graph-match (a)-->(b) project a"),
    ("graph-shortest-paths", "T | make-graph cs --> cs | graph-shortest-paths (a)-[e*1..3]->(b) project a"),
    ("graph-to-table", "T | make-graph cs --> cs | graph-to-table edges"),
    ("invoke", "let f = (t:(*)) { t | take 1 }; T | invoke f()"),
    ("join", "T | join kind=inner (T) on cl"),
    ("lookup", "T | lookup (T | project cl, y = 1) on cl"),
    ("make-graph", "T | make-graph cs --> cs | graph-to-table edges"),
    ("make-series", "T | make-series count() on cdt step 1h"),
    ("mv-apply", "T | mv-apply e = carr to typeof(long) on (summarize s = sum(e))"),
    ("mv-expand", "T | mv-expand carr"),
    ("parse", "T | parse cs with a ',' b"),
    ("parse-kv", "T | parse-kv cs as (a:string) with (pair_delimiter=',', kv_delimiter='=')"),
    ("parse-where", "T | parse-where cs with a ',' b"),
    ("partition", "T | partition hint.strategy=native by cs (take 1)"),
    ("print", "print 1"),
    ("project", "T | project cl"),
    ("project-away", "T | project-away cl"),
    ("project-keep", "T | project-keep cl"),
    ("project-rename", "T | project-rename x = cl"),
    ("project-reorder", "T | project-reorder cs"),
    ("range", "range x from 1 to 3 step 1"),
    ("reduce", "T | reduce by cs"),
    ("render", "T | render table"),
    ("sample", "T | sample 1"),
    ("sample-distinct", "T | sample-distinct 1 of cs"),
    ("scan", "T | scan with (step s: cl > 0;)"),
    ("search", "T | search 'a'"),
    ("serialize", "T | serialize"),
    ("sort", "T | sort by cl"),
    ("summarize", "T | summarize count() by cs"),
    ("take", "T | take 1"),
    ("top", "T | top 1 by cl"),
    ("top-hitters", "T | top-hitters 1 of cs"),
    ("top-nested", "T | top-nested 1 of cs by count()"),
    ("union", "union T, T"),
    ("where", "T | where cl > 0"),
];

fn session() -> Session {
    Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() })
        .expect("session")
}

/// The status from a query's outcome.
fn status_of(session: &Session, q: &str) -> Status {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.query(q))) {
        Ok(Err(e)) if e.code == "KQL077" => Status::ClusterOnly(e.message.clone()),
        Ok(Err(e)) if NOT_YET.contains(&e.code) => Status::NotYet(e.message.clone()),
        _ => Status::Implemented,
    }
}

/// An operator's status: its probe is a valid Kusto query, so it is implemented only when it
/// runs (or stops only for want of the external file it names, KQL111); any other error, a
/// syntax error included, means not yet.
fn operator_status(session: &Session, q: &str) -> Status {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.query(q))) {
        Ok(Ok(_)) => Status::Implemented,
        Ok(Err(e)) if e.code == "KQL111" => Status::Implemented,
        Ok(Err(e)) if e.code == "KQL077" => Status::ClusterOnly(e.message.clone()),
        Ok(Err(e)) => Status::NotYet(format!("{}: {}", e.code, e.message)),
        Err(_) => Status::NotYet("the probe query panicked".into()),
    }
}

/// The catalog's functions that are not hidden: name, kind, first signature's parameters.
fn catalog() -> Vec<(String, String, Vec<Value>)> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../kql-exec/data/kusto-functions.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["hidden"].as_bool() != Some(true))
        .map(|f| {
            let params = f["signatures"][0]["params"].as_array().cloned().unwrap_or_default();
            (f["name"].as_str().unwrap().to_string(), f["kind"].as_str().unwrap_or("").to_string(), params)
        })
        .collect()
}

/// Arguments for a call: a column of each required parameter's type (`cr` when unknown).
fn arguments(params: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for p in params {
        let min = p["min"].as_u64().unwrap_or(1) as usize;
        let col = crate::function_calls::column_for(p).map_or("cr", |c| COLUMNS[c].0);
        out.extend(std::iter::repeat_n(col.to_string(), min));
    }
    out
}

/// Every function's status, by kind.
fn functions(session: &Session) -> BTreeMap<String, Vec<(String, Status)>> {
    let t = table(&COLUMNS.iter().map(|c| c.2).collect::<Vec<_>>().join(", "));
    let scalar_calls = calls();
    let mut by_kind: BTreeMap<String, Vec<(String, Status)>> = BTreeMap::new();
    for (name, kind, params) in catalog() {
        let reason = match kind.as_str() {
            "plugin" => cluster_only::plugin_reason(&name),
            _ => cluster_only::function_reason(&name),
        };
        let status = if let Some(r) = reason {
            Status::ClusterOnly(r.to_string())
        } else {
            let args = arguments(&params).join(", ");
            let queries: Vec<String> = match kind.as_str() {
                // the graph functions mean something only inside graph-match
                _ if graph_probe(&name).is_some() => vec![graph_probe(&name).unwrap_or_default()],
                "aggregate" => vec![format!("let T = {t}; T | summarize r = {name}({args})")],
                "plugin" => vec![format!("let T = {t}; T | evaluate {name}({args})")],
                "window" => vec![format!("let T = {t}; T | serialize | extend r = {name}({args})")],
                _ => {
                    let mut q: Vec<String> = scalar_calls
                        .iter()
                        .filter(|c| c.0 == name)
                        .map(|(_, cols, _)| {
                            let a: Vec<&str> = cols.iter().map(|&c| COLUMNS[c].0).collect();
                            format!("let T = {t}; T | extend r = {name}({})", a.join(", "))
                        })
                        .collect();
                    q.push(format!("let T = {t}; T | extend r = {name}({args})"));
                    q
                }
            };
            // implemented when any call is; otherwise the first call's reason
            let outcomes: Vec<Status> = queries.iter().map(|q| status_of(session, q)).collect();
            outcomes.iter().find(|s| !matches!(s, Status::NotYet(_))).cloned().unwrap_or_else(|| outcomes[0].clone())
        };
        by_kind.entry(kind).or_default().push((name, status));
    }
    by_kind
}

/// A query calling `name` where it means something: a graph-match for the graph functions,
/// a tabular source for `table`.
fn graph_probe(name: &str) -> Option<String> {
    let call = match name {
        "all" | "any" => format!("{name}(e, w > 0)"),
        "map" => "map(e, w)".to_string(),
        "inner_nodes" => "map(inner_nodes(e), n)".to_string(),
        "labels" | "node_degree_in" | "node_degree_out" | "node_id" => format!("{name}(a)"),
        // a tabular function: the table of that name
        "table" => return Some("let T = datatable(a: long) [1]; table('T') | count".to_string()),
        _ => return None,
    };
    Some(format!(
        "let E = datatable(s: string, t: string, w: long) ['a', 'b', 1]; let N = datatable(n: string) ['a', 'b'];\n\
         E | make-graph s --> t with N on n | graph-match (a)-[e*1..2]->(b) project r = {call}"
    ))
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn render(functions: &BTreeMap<String, Vec<(String, Status)>>, operators: &[(&str, Status)]) -> String {
    let mut out = String::from(
        "# Functions and operators\n\n\
         Every function of Kusto's catalog (`kql-exec/data/kusto-functions.json`, from Kusto.Language) and every\n\
         tabular operator, with its status in `kql`. Generated from the engine by\n\
         `tests/tests/functions_page.rs` (each function is called with arguments of its declared types; a\n\
         \"not supported yet\" error marks it as not yet implemented): do not edit by hand, run\n\
         `KQL_BLESS_FUNCTIONS=1 cargo test -p kql-tests --test all functions_page` to rewrite it.\n\n\
         Statuses: **yes**, implemented; **cluster only**, meaningful only on a Kusto cluster (its data,\n\
         extents, principals, cursors or external services), answered with KQL077 and the reason; **not yet**,\n\
         not implemented yet.\n\n",
    );
    out.push_str("| kind | total | yes | cluster only | not yet |\n|---|---|---|---|---|\n");
    let count = |v: &[&Status]| {
        let yes = v.iter().filter(|s| matches!(s, Status::Implemented)).count();
        let cl = v.iter().filter(|s| matches!(s, Status::ClusterOnly(_))).count();
        (v.len(), yes, cl, v.len() - yes - cl)
    };
    for (kind, list) in functions {
        let (n, y, c, ny) = count(&list.iter().map(|x| &x.1).collect::<Vec<_>>());
        out.push_str(&format!("| {kind} functions | {n} | {y} | {c} | {ny} |\n"));
    }
    let (n, y, c, ny) = count(&operators.iter().map(|x| &x.1).collect::<Vec<_>>());
    out.push_str(&format!("| tabular operators | {n} | {y} | {c} | {ny} |\n"));
    let row = |name: &str, s: &Status| match s {
        Status::Implemented => format!("| `{name}` | yes | |\n"),
        Status::ClusterOnly(r) => format!("| `{name}` | cluster only | {} |\n", cell(r)),
        Status::NotYet(r) => format!("| `{name}` | not yet | {} |\n", cell(r)),
    };
    out.push_str("\n## Tabular operators\n\n| operator | status | note |\n|---|---|---|\n");
    for (name, s) in operators {
        out.push_str(&row(name, s));
    }
    for (kind, list) in functions {
        out.push_str(&format!(
            "\n## {}{} functions\n\n| function | status | note |\n|---|---|---|\n",
            &kind[..1].to_uppercase(),
            &kind[1..]
        ));
        for (name, s) in list {
            out.push_str(&row(name, s));
        }
    }
    out
}

#[test]
fn functions_page_is_current() {
    let session = session();
    let t = table(&COLUMNS.iter().map(|c| c.2).collect::<Vec<_>>().join(", "));
    let functions = functions(&session);
    let operators: Vec<(&str, Status)> =
        OPERATORS.iter().map(|(name, q)| (*name, operator_status(&session, &format!("let T = {t}; {q}")))).collect();
    let page = render(&functions, &operators);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/functions.md");
    let not_yet: Vec<String> = functions
        .values()
        .flatten()
        .map(|(n, s)| (n.as_str(), s))
        .chain(operators.iter().map(|(n, s)| (*n, s)))
        .filter(|(_, s)| matches!(s, Status::NotYet(_)))
        .map(|(n, _)| n.to_string())
        .collect();
    crate::common::report(&format!("functions page: {} not yet implemented: {}", not_yet.len(), not_yet.join(", ")));
    if std::env::var_os("KQL_BLESS_FUNCTIONS").is_some() {
        std::fs::write(path, &page).unwrap();
        return;
    }
    let old = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        old == page,
        "docs/functions.md is stale: rewrite it with KQL_BLESS_FUNCTIONS=1 cargo test -p kql-tests --test all functions_page"
    );
}
