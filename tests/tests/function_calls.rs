//! Every scalar function of Kusto's catalog (`kql-exec/data/kusto-functions.json`), called
//! through real queries with arguments of plausible types (constants, columns, and a column with
//! constants, the shape that broadcasts constants to the batch's length) over an empty table, a
//! batch filtered to no rows, a table of one all-null row and a table of one row of values: each call either returns a column
//! of the declared type or stops with a KQL error; never a panic, nor an internal error (KQL998,
//! KQL999), nor a result of another type.

use kql_exec::schema::KqlType;
use kql_exec::session::{Catalog, Session, SessionOptions};
use serde_json::Value;

/// The test table's columns: name, type, a value, a null of the type.
pub(crate) const COLUMNS: &[(&str, &str, &str, &str)] = &[
    ("cb", "bool", "true", "bool(null)"),
    ("ci", "int", "int(2)", "int(null)"),
    ("cl", "long", "3", "long(null)"),
    ("cr", "real", "1.5", "real(null)"),
    ("cdt", "datetime", "datetime(2024-01-02T03:04:05Z)", "datetime(null)"),
    ("cts", "timespan", "90m", "timespan(null)"),
    ("cs", "string", "'a,b'", "''"),
    ("cg", "guid", "guid(11111111-2222-3333-4444-555555555555)", "guid(null)"),
    ("carr", "dynamic", "dynamic([1, 2])", "dynamic(null)"),
    ("cbag", "dynamic", "dynamic({'a': 1})", "dynamic(null)"),
    ("cdec", "decimal", "decimal(1.5)", "decimal(null)"),
];

/// The column (its index in [`COLUMNS`]) that stands for a parameter of Kusto's catalog.
pub(crate) fn column_for(param: &Value) -> Option<usize> {
    let kind = param["type_kind"].as_str().unwrap_or("");
    let name = match kind {
        "Declared" => match param["types"][0].as_str().unwrap_or("") {
            "bool" => "cb",
            "int" => "ci",
            "long" => "cl",
            "real" => "cr",
            "decimal" => "cdec",
            "datetime" => "cdt",
            "timespan" => "cts",
            "string" => "cs",
            "guid" => "cg",
            "dynamic" => "carr",
            _ => return None,
        },
        "Number" | "Summable" => "cr",
        "Integer"
        | "Orderable"
        | "CommonOrderable"
        | "NumberOrBool"
        | "NotRealOrBool"
        | "IntegerOrArray"
        | "CommonScalar"
        | "CommonScalarOrDynamic" => "cl",
        "DynamicArray" => "carr",
        "DynamicBag" => "cbag",
        "Scalar" | "NotDynamic" | "StringOrDynamic" | "StringOrArray" | "Any" => "cs",
        _ => return None,
    };
    COLUMNS.iter().position(|c| c.0 == name)
}

/// The catalog's scalar functions (not hidden ones, windows or plugins): name, the argument
/// columns of its first signature at its minimum arity (and one more, when allowed), its declared
/// return type when fixed.
pub(crate) fn calls() -> Vec<(String, Vec<usize>, Option<KqlType>)> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../kql-exec/data/kusto-functions.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for f in v["functions"].as_array().unwrap() {
        if f["kind"] != "scalar" || f["hidden"].as_bool() == Some(true) {
            continue;
        }
        let name = f["name"].as_str().unwrap().to_string();
        for sig in f["signatures"].as_array().unwrap().iter().take(3) {
            let ret = match sig["return_kind"].as_str() {
                Some("Declared") => sig["return_type"].as_str().and_then(KqlType::parse),
                _ => None,
            };
            // parameters expanded to the minimum count, then one more of the last repeatable one
            let mut cols = Vec::new();
            let mut ok = true;
            let params = sig["params"].as_array().unwrap();
            for p in params {
                let min = p["min"].as_u64().unwrap_or(1) as usize;
                match column_for(p) {
                    Some(c) => cols.extend(std::iter::repeat_n(c, min)),
                    None if min == 0 => {}
                    None => ok = false,
                }
            }
            if !ok {
                continue;
            }
            out.push((name.clone(), cols.clone(), ret));
            let max = sig["max_args"].as_u64().unwrap_or(0) as usize;
            if let Some(p) = params.iter().rev().find(|p| column_for(p).is_some()) {
                if cols.len() < max {
                    cols.push(column_for(p).unwrap());
                    out.push((name.clone(), cols, ret));
                }
            }
        }
    }
    out.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    out
}

/// A datatable of [`COLUMNS`] with the given rows.
pub(crate) fn table(rows: &str) -> String {
    let decls: Vec<String> = COLUMNS.iter().map(|c| format!("{}:{}", c.0, c.1)).collect();
    format!("datatable({})[{rows}]", decls.join(", "))
}

#[test]
fn every_scalar_function_returns_its_type_or_a_clear_error() {
    let session =
        Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(1), ..Default::default() })
            .unwrap();
    let values: Vec<&str> = COLUMNS.iter().map(|c| c.2).collect();
    let nulls: Vec<&str> = COLUMNS.iter().map(|c| c.3).collect();
    let tables = [
        ("empty", table("")),
        // a batch of no rows (constants broadcast to no rows), not a table without batches
        ("filtered to no rows", format!("{} | where cl < 0", table(&values.join(", ")))),
        ("null row", table(&nulls.join(", "))),
        ("one row", table(&values.join(", "))),
    ];
    let calls = calls();
    assert!(calls.len() > 400, "only {} calls generated", calls.len());
    let (mut ran, mut refused, mut bad) = (0usize, 0usize, Vec::new());
    for (name, cols, ret) in &calls {
        // constants only; columns only; the first argument a column, the others constants
        let shapes: [Vec<String>; 3] = [
            cols.iter().map(|&c| COLUMNS[c].2.to_string()).collect(),
            cols.iter().map(|&c| COLUMNS[c].0.to_string()).collect(),
            cols.iter()
                .enumerate()
                .map(|(k, &c)| if k == 0 { COLUMNS[c].0 } else { COLUMNS[c].2 }.to_string())
                .collect(),
        ];
        for args in shapes.iter() {
            for (what, t) in &tables {
                let q = format!("{t} | extend r = {name}({}) | project r", args.join(", "));
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.query(&q)));
                match outcome {
                    Err(_) => bad.push(format!("{what}: {q}: panicked")),
                    Ok(Err(e)) if matches!(e.code, "KQL998" | "KQL999") || e.code.starts_with("KQL99") => {
                        bad.push(format!("{what}: {q}: {e}"))
                    }
                    Ok(Err(_)) => refused += 1,
                    Ok(Ok(r)) => {
                        ran += 1;
                        let rows = r.num_rows();
                        let want = if what.starts_with("empty") || what.starts_with("filtered") { 0 } else { 1 };
                        if rows != want {
                            bad.push(format!("{what}: {q}: {rows} rows"));
                        }
                        // Kusto.Language's catalog declares `jaccard_index` dynamic; Kusto's
                        // documentation and engine return a real, as we do
                        let ret = if name == "jaccard_index" { &Some(KqlType::Real) } else { ret };
                        if let (Some(ret), Some(col)) = (ret, r.cols.first()) {
                            // int and long are one family in results (Kusto widens freely)
                            let same = col.ty == *ret
                                || matches!(
                                    (col.ty, *ret),
                                    (KqlType::Int, KqlType::Long) | (KqlType::Long, KqlType::Int)
                                )
                                || matches!(
                                    (col.ty, *ret),
                                    (KqlType::Real, KqlType::Decimal) | (KqlType::Decimal, KqlType::Real)
                                );
                            if !same {
                                bad.push(format!("{what}: {q}: returns {:?}, declared {:?}", col.ty, ret));
                            }
                        }
                    }
                }
            }
        }
    }
    crate::common::report(&format!(
        "function calls: {ran} answered, {refused} refused with a KQL error, {} wrong",
        bad.len()
    ));
    // a ratchet at the measured figures: as many answered, no more refused
    assert!(ran >= 5768, "{ran} calls answered, fewer than the 5768 measured");
    assert!(refused <= 664, "{refused} calls refused, more than the 664 measured");
    assert!(bad.is_empty(), "{} calls went wrong:\n{}", bad.len(), bad.join("\n"));
}
