//! Path pushdown into streamed scans.
//!
//! Log tables keep most of their content in one dynamic column (`ContainerLogV2.LogMessage`, a
//! JSON object of a dozen fields), and queries read a few fields of it (`LogMessage.end_user_id`).
//! When every use of such a column in a query is a constant path whose first step is a key, the
//! scan of a [`StreamedTable`] keeps, for each row, only the object's members those paths start
//! with: the value is still a dynamic object, and each path the query reads finds exactly what it
//! would find in the whole object, but the scan copies and checks a fraction of the text and
//! every later path access walks a smaller object.
//!
//! Tables in memory ([`MemoryTable`]) go one step further: each member those paths start with
//! becomes a column of its own, extracted once per session and kept, and the paths read it
//! instead of the object (`LogMessage.end_user_id` becomes a plain column reference, converted to
//! text if the member is dictionary-encoded). Those member
//! columns travel next to the dynamic column through the operators it passes (`extend`, `where`,
//! `join`, `as`, ...) and end where it ends; they never reach the output.
//!
//! [`push_paths`] rewrites a logical plan before it runs. It is conservative: a column is pruned
//! only if it is used nowhere else, by name, anywhere in the plan (a bare reference, as in
//! `tostring(LogMessage)`, `project LogMessage`, `LogMessage[k]` or `mv-expand LogMessage`, keeps
//! the whole value), and never when it reaches the query's output or an operator whose use of its
//! input columns is not spelled out in expressions (`distinct *`, extension nodes, unnest).

use super::memory::MemoryTable;
use super::scan::StreamedTable;
use crate::functions::dynfn::is_path_call;
use crate::value::dynamic as dj;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DataFusionError, TableReference};
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::logical_expr::expr::{Cast, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{lit, Expr, LogicalPlan, Projection, TableScan, TableScanBuilder};
use datafusion::scalar::ScalarValue;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// The name of the member column holding member `key` of dynamic column `col` (a name no KQL
/// column can have: it contains the unit separator).
pub fn member_column(col: &str, key: &str) -> String {
    format!("{col}\u{1f}{key}")
}

/// How a query uses columns, by name.
#[derive(Default, Debug)]
struct Uses {
    /// Columns used as whole values somewhere.
    whole: HashSet<String>,
    /// Columns that reach a `union` (its inputs must keep the same columns: no member columns).
    unioned: HashSet<String>,
    /// The first keys of the constant paths read from each column.
    keys: BTreeMap<String, BTreeSet<String>>,
}

impl Uses {
    fn expr(&mut self, e: &Expr) {
        let _ = e.apply(|x| {
            match x {
                Expr::ScalarFunction(f) if is_path_call(f) => {
                    if let (Some(Expr::Column(c)), Some(key)) = (f.args.first(), f.args.get(1).and_then(first_key)) {
                        self.keys.entry(c.name.clone()).or_default().insert(key);
                        // the path's other argument is a literal: nothing more to see below
                        return Ok(TreeNodeRecursion::Jump);
                    }
                }
                Expr::Column(c) => {
                    self.whole.insert(c.name.clone());
                }
                Expr::OuterReferenceColumn(_, c) => {
                    self.whole.insert(c.name.clone());
                }
                _ => {}
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }

    fn node(&mut self, node: &LogicalPlan) {
        let _ = node.apply_expressions(|e| {
            // a projection listing a column under its own name only passes it along (`extend`)
            let passed = matches!((node, e), (LogicalPlan::Projection(_), Expr::Column(_)));
            if !passed {
                self.expr(e);
            }
            Ok(TreeNodeRecursion::Continue)
        });
        // operators that only pass their input columns along, or use them through expressions
        let pass_through = matches!(
            node,
            LogicalPlan::Projection(_)
                | LogicalPlan::Filter(_)
                | LogicalPlan::Aggregate(_)
                | LogicalPlan::Sort(_)
                | LogicalPlan::Limit(_)
                | LogicalPlan::SubqueryAlias(_)
                | LogicalPlan::TableScan(_)
                | LogicalPlan::Window(_)
                | LogicalPlan::Join(_)
                | LogicalPlan::Repartition(_)
                | LogicalPlan::Union(_)
        );
        if let LogicalPlan::Union(_) = node {
            for input in node.inputs() {
                self.unioned.extend(input.schema().fields().iter().map(|f| f.name().clone()));
            }
        }
        if !pass_through {
            for input in node.inputs() {
                self.whole.extend(input.schema().fields().iter().map(|f| f.name().clone()));
            }
            self.whole.extend(node.schema().fields().iter().map(|f| f.name().clone()));
        }
    }
}

/// The first step of a constant path spec (`["a",0]`) when it is a key.
fn first_key(spec: &Expr) -> Option<String> {
    let Expr::Literal(ScalarValue::Utf8(Some(text)), _) = spec else { return None };
    let first = dj::get_path(text, &[dj::PathElem::Index(0)])?;
    dj::scalar_string(first).filter(|_| first.starts_with('"')).map(|k| k.into_owned())
}

/// Rewrites the scans of streamed tables in `plan` so that dynamic columns read only through
/// constant paths keep only the members those paths need (see the module docs). Plans without
/// streamed tables come back unchanged.
pub fn push_paths(plan: LogicalPlan) -> LogicalPlan {
    let mut uses = Uses::default();
    let _ = plan.apply_with_subqueries(|node| {
        uses.node(node);
        Ok(TreeNodeRecursion::Continue)
    });
    uses.whole.extend(plan.schema().fields().iter().map(|f| f.name().clone()));
    let rewritten = plan.clone().transform_up_with_subqueries(|node| {
        let LogicalPlan::TableScan(scan) = &node else { return with_member_columns(node) };
        if let Some(pruned) = pruned_scan(scan, &uses) {
            return Ok(Transformed::yes(LogicalPlan::TableScan(pruned)));
        }
        match member_scan(scan, &uses)? {
            Some(s) => Ok(Transformed::yes(LogicalPlan::TableScan(s))),
            None => Ok(Transformed::no(node)),
        }
    });
    match rewritten {
        Ok(t) => t.data,
        // (a shape the rewrite does not handle: the plan as it was is right, only slower)
        Err(_) => plan,
    }
}

/// Columns a dynamic column of a table should be split into: `(column index, first keys)`.
fn wanted_members(cols: &[crate::binder::Col], uses: &Uses, strict: bool) -> Vec<(usize, Vec<String>)> {
    cols.iter()
        .enumerate()
        .filter(|(_, c)| {
            c.ty == crate::schema::KqlType::Dynamic
                && !uses.whole.contains(&c.name)
                && !(strict && uses.unioned.contains(&c.name))
        })
        .filter_map(|(i, c)| Some((i, uses.keys.get(&c.name)?.iter().cloned().collect())))
        .collect()
}

/// The scan of an in-memory table with member columns for the dynamic columns read only
/// through constant paths, if any.
fn member_scan(scan: &TableScan, uses: &Uses) -> datafusion::error::Result<Option<TableScan>> {
    let Ok(provider) = source_as_provider(&scan.source) else { return Ok(None) };
    let Some(table) = provider.downcast_ref::<MemoryTable>() else { return Ok(None) };
    if scan.projection.is_some() {
        return Ok(None);
    }
    let wanted = wanted_members(table.cols(), uses, true);
    if wanted.is_empty() {
        return Ok(None);
    }
    let view = table.with_members(&wanted)?;
    TableScanBuilder::new(scan.table_name.clone(), provider_as_source(view))
        .with_filters(scan.filters.clone())
        .with_fetch(scan.fetch)
        .build()
        .map(Some)
}

/// A member column in the input of a node.
struct Member {
    /// The qualifier of the dynamic column (and of its member columns).
    qualifier: Option<TableReference>,
    /// The dynamic column.
    column: String,
    /// The member's key.
    key: String,
    /// The member column's name ([`member_column`]).
    name: String,
    /// The member column's type: text, or dictionary-encoded text.
    ty: DataType,
}

/// The member columns in the inputs of a node.
fn members_in(node: &LogicalPlan) -> Vec<Member> {
    let mut out = Vec::new();
    for input in node.inputs() {
        for (q, f) in input.schema().iter() {
            if let Some((col, key)) = f.name().split_once('\u{1f}') {
                out.push(Member {
                    qualifier: q.cloned(),
                    column: col.to_string(),
                    key: key.to_string(),
                    name: f.name().clone(),
                    ty: f.data_type().clone(),
                });
            }
        }
    }
    out
}

/// A node above a scan with member columns: projections that pass the dynamic column along
/// pass its member columns too, and constant paths into it read the member columns.
fn with_member_columns(node: LogicalPlan) -> datafusion::error::Result<Transformed<LogicalPlan>> {
    let members = members_in(&node);
    if members.is_empty() {
        return Ok(Transformed::no(node));
    }
    let matching = |c: &Column| -> Vec<&Member> {
        members.iter().filter(|m| m.column == c.name && (c.relation.is_none() || c.relation == m.qualifier)).collect()
    };
    let node = match node {
        LogicalPlan::Projection(p) => {
            let mut exprs = Vec::with_capacity(p.expr.len());
            for e in p.expr {
                let passed = match &e {
                    Expr::Column(c) => matching(c),
                    _ => Vec::new(),
                };
                exprs.push(e);
                exprs.extend(passed.into_iter().map(|m| Expr::Column(Column::new(m.qualifier.clone(), &m.name))));
            }
            LogicalPlan::Projection(Projection::try_new(exprs, p.input)?)
        }
        other => other,
    };
    let names = NamePreserver::new(&node);
    let t = node.map_expressions(|e| {
        let saved = names.save(&e);
        let t = e.transform_up(|x| {
            let Expr::ScalarFunction(f) = &x else { return Ok(Transformed::no(x)) };
            if !is_path_call(f) {
                return Ok(Transformed::no(x));
            }
            let (Some(Expr::Column(c)), Some(Expr::Literal(ScalarValue::Utf8(Some(spec)), _))) =
                (f.args.first(), f.args.get(1))
            else {
                return Ok(Transformed::no(x));
            };
            let Some(key) = f.args.get(1).and_then(first_key) else { return Ok(Transformed::no(x)) };
            let found: Vec<_> = matching(c).into_iter().filter(|m| m.key == key).collect();
            let [m] = found.as_slice() else {
                if found.len() > 1 {
                    return Err(DataFusionError::Plan(format!("ambiguous member column {key} of {}", c.name)));
                }
                return Ok(Transformed::no(x));
            };
            let mut member = Expr::Column(Column::new(m.qualifier.clone(), &m.name));
            if m.ty != DataType::Utf8 {
                // a dictionary-encoded member reads as text (see `optimize::DictionaryArguments`)
                member = Expr::Cast(Cast::new(Box::new(member), DataType::Utf8));
            }
            let rest = dj::array_elements(spec).unwrap_or_default();
            if rest.len() <= 1 {
                return Ok(Transformed::yes(member));
            }
            let rest_spec = dj::build_array(&rest[1..]);
            Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(
                f.func.clone(),
                vec![member, lit(rest_spec)],
            ))))
        })?;
        Ok(if t.transformed { t.update_data(|e| saved.restore(e)) } else { t })
    })?;
    Ok(Transformed::yes(t.data.recompute_schema()?))
}

/// The scan with its streamed table keeping only the members used, if any column qualifies.
fn pruned_scan(scan: &TableScan, uses: &Uses) -> Option<TableScan> {
    let provider = source_as_provider(&scan.source).ok()?;
    let table = provider.downcast_ref::<StreamedTable>()?;
    let wanted = wanted_members(&table.layout().cols, uses, false);
    if wanted.is_empty() {
        return None;
    }
    let mut members: Vec<Option<Vec<String>>> = vec![None; table.layout().cols.len()];
    for (c, keys) in wanted {
        members[c] = Some(keys);
    }
    let mut pruned = scan.clone();
    pruned.source = provider_as_source(Arc::new(table.with_members(members)));
    Some(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binder::scalar::PathPart;
    use crate::load::{lines, load_table, LoadOptions};
    use crate::schema::SchemaCatalog;
    use crate::session::{Catalog, Session, SessionOptions, TableEntry};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::logical_expr::{ident as col, LogicalPlanBuilder};

    /// Log lines whose `LogMessage` takes every shape a pruned scan must handle, each `copies`
    /// times (with enough copies, members of tables in memory are dictionary-encoded).
    fn log_file(copies: usize) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kql-paths-{}-{copies}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ContainerLogV2.jsonl");
        let messages = [
            r#"{"level":"INFO","user":"u1","n":{"deep":"d1"},"arr":[1,2],"needle":"x"}"#,
            r#"{"level":"WARN","user":"u2","user":"u2-last","n":{"deep":"d2","other":1}}"#,
            r#"{ "level" : "INFO" , "a\u0062" : "escaped key", "user" : "u3 with a longer name than sixteen bytes" }"#,
            r#"{"level":"ERROR","n":{"deep":{"x":[1,{"y":"z"}]}},"arr":[]}"#,
            r#""{\"level\":\"FROM-STRING\",\"user\":\"u5\"}""#,
            r#"[1,2,3]"#,
            r#""plain text""#,
            r#"null"#,
            r#"{}"#,
            r#"{"level":"INFO","user":null,"big":"needle in a haystack"}"#,
        ];
        let mut text = String::new();
        for (i, m) in messages.iter().enumerate().flat_map(|m| std::iter::repeat_n(m, copies)) {
            text.push_str(&format!(
                "{{\"TimeGenerated\":\"2025-10-21T0{}:00:00Z\",\"Computer\":\"c{}\",\"LogMessage\":{m}}}\n",
                i % 10,
                i % 3
            ));
        }
        text.push_str("{\"TimeGenerated\":\"2025-10-21T09:30:00Z\",\"Computer\":\"c9\"}\n");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn pruned_scans_answer_like_tables_in_memory() {
        pruned_scans_and_members_answer_like_plain_tables(1);
    }

    #[test]
    fn dictionary_encoded_members_answer_like_plain_tables() {
        pruned_scans_and_members_answer_like_plain_tables(20);
    }

    fn pruned_scans_and_members_answer_like_plain_tables(copies: usize) {
        let p = log_file(copies);
        let opts = LoadOptions::default();
        let schema = SchemaCatalog::builtin().table("ContainerLogV2");
        let layout = lines::plan("ContainerLogV2", std::slice::from_ref(&p), schema, &opts).unwrap();
        let mut streamed = Session::new(Catalog::with_builtin_schemas(), SessionOptions::default()).unwrap();
        streamed.add_streamed(StreamedTable::new(layout, opts.clone(), 2));
        let mut memory = Session::new(Catalog::with_builtin_schemas(), SessionOptions::default()).unwrap();
        let t = load_table("ContainerLogV2", &[p], schema, &opts).unwrap();
        memory.add_batches(&t.name, t.cols.clone(), t.batches.clone()).unwrap();
        // the reference: a plain DataFusion table, which no rewrite touches
        let mut catalog = Catalog::with_builtin_schemas();
        let fields: Vec<_> = t.cols.iter().map(|c| Field::new(&c.name, crate::types::arrow_type(c.ty), true)).collect();
        let plain = MemTable::try_new(Arc::new(Schema::new(fields)), vec![t.batches.clone()]).unwrap();
        catalog
            .add_table("ContainerLogV2", TableEntry { cols: t.cols.clone(), provider: Arc::new(plain), batches: None });
        let reference = Session::new(catalog, SessionOptions::default()).unwrap();
        for q in [
            "ContainerLogV2 | where tostring(LogMessage.level) == 'INFO' | project Computer, u = LogMessage.user",
            "ContainerLogV2 | extend u = tostring(LogMessage.user) | summarize count() by u, d = tostring(LogMessage.n.deep) | order by u asc, d asc",
            "ContainerLogV2 | project LogMessage",
            "ContainerLogV2 | where Computer == 'c1'",
            "ContainerLogV2 | project m = LogMessage.ab, k = LogMessage['level'], x = LogMessage.n.deep.x[1].y",
            "ContainerLogV2 | summarize s = make_set(LogMessage.user) by Computer | order by Computer asc",
            "ContainerLogV2 | extend M = LogMessage | project M.user, M.needle",
            "ContainerLogV2 | project x = LogMessage.arr[0], y = LogMessage.level, z = LogMessage.arr[-1]",
            "ContainerLogV2 | where LogMessage has 'needle' | count",
            "ContainerLogV2 | where isnotempty(LogMessage) | project tostring(LogMessage.level)",
            "ContainerLogV2 | project Computer, u = tostring(LogMessage.user) | join kind=inner (ContainerLogV2 | project Computer, l = tostring(LogMessage.level)) on Computer | order by Computer asc, u asc, l asc",
            "union ContainerLogV2, ContainerLogV2 | summarize count() by l = tostring(LogMessage.level) | order by l asc",
            "ContainerLogV2 | distinct l = tostring(LogMessage.level) | order by l asc",
            "ContainerLogV2 | mv-expand a = LogMessage.arr | project Computer, a",
            "ContainerLogV2 | extend k = 'user' | project v = LogMessage[k]",
            "ContainerLogV2 | project-away Computer | project tostring(LogMessage.user)",
            "ContainerLogV2 | summarize arg_max(TimeGenerated, LogMessage) by Computer | project Computer, LogMessage.level | order by Computer asc",
            "let T = ContainerLogV2 | where tostring(LogMessage.level) != ''; T | summarize count() by u = tostring(LogMessage.user) | order by u asc",
            "ContainerLogV2 | join kind=leftouter (ContainerLogV2 | project Computer, LogMessage) on Computer | project u = tostring(LogMessage.user), u1 = tostring(LogMessage1.user) | order by u asc, u1 asc",
            "ContainerLogV2 | where TimeGenerated > datetime(2025-10-21T02:00) | summarize n = countif(tostring(LogMessage.level) == 'INFO') by bin(TimeGenerated, 1h) | order by TimeGenerated asc",
            "ContainerLogV2 | extend lvl = LogMessage.level | order by tostring(lvl) asc, Computer asc, TimeGenerated asc | project tostring(lvl), tostring(LogMessage.user)",
            "let n = toscalar(ContainerLogV2 | summarize dcount(tostring(LogMessage.user))); ContainerLogV2 | where isnotempty(tostring(LogMessage.user)) | project Computer, n",
            "ContainerLogV2 | summarize by l = tostring(LogMessage.level), d = tostring(LogMessage.n.deep) | order by l asc, d asc",
            "ContainerLogV2 | project-rename M = LogMessage | project tostring(M.level)",
            "ContainerLogV2 | extend u = LogMessage.user | project-away LogMessage | project tostring(u)",
            "ContainerLogV2 | where LogMessage.level in ('INFO', 'WARN') | summarize count() by l = tostring(LogMessage.level), u = isnull(LogMessage.user) | order by l asc, u asc",
            "ContainerLogV2 | extend x = strcat(LogMessage.user, '-', LogMessage.level) | where LogMessage.level has 'inf' or LogMessage.user startswith 'u' | summarize count() by x | order by x asc",
            "ContainerLogV2 | where LogMessage.level == 'INFO' and isempty(LogMessage.user) | project Computer, toupper(LogMessage.level), LogMessage.user",
            "ContainerLogV2 | where tostring(LogMessage.level) != 'INFO' | summarize n = countif(LogMessage.user == 'u2-last'), d = dcount(tostring(LogMessage.n.deep)) by Computer | order by Computer asc",
        ] {
            let want = crate::output::rows_json(&reference.query(q).unwrap());
            assert!(!want.is_empty(), "{q}");
            assert_eq!(crate::output::rows_json(&streamed.query(q).unwrap()), want, "streamed: {q}");
            assert_eq!(crate::output::rows_json(&memory.query(q).unwrap()), want, "in memory: {q}");
        }
        // the paths were served by member columns
        let entry = memory.catalog.table("ContainerLogV2").unwrap();
        let table = entry.provider.downcast_ref::<MemoryTable>().unwrap();
        assert!(table.extracted() >= 4, "{}", table.extracted());
        if copies >= 20 {
            assert!(table.encoded_members() >= 3, "{}", table.encoded_members());
            // the functions read the encoded members as they are, not through a conversion
            let q = "ContainerLogV2 | where tostring(LogMessage.level) == 'INFO' | where isnotempty(LogMessage.level) | project l = tostring(LogMessage.level)";
            let plan = memory.optimized_plan(q).unwrap().display_indent().to_string();
            assert!(plan.contains("kql_text_eq(") && !plan.contains("CAST("), "{plan}");
        }
    }

    fn scan_of(table: &StreamedTable, project: Vec<Expr>) -> LogicalPlan {
        LogicalPlanBuilder::scan("ContainerLogV2", provider_as_source(Arc::new(table.with_members(vec![]))), None)
            .unwrap()
            .project(project)
            .unwrap()
            .build()
            .unwrap()
    }

    /// The members kept by the (single) streamed scan of a plan.
    fn kept(plan: &LogicalPlan) -> Vec<Option<Vec<String>>> {
        let mut out = Vec::new();
        let _ = plan.apply(|n| {
            if let LogicalPlan::TableScan(s) = n {
                let p = source_as_provider(&s.source).unwrap();
                out = p.downcast_ref::<StreamedTable>().unwrap().members().to_vec();
            }
            Ok(TreeNodeRecursion::Continue)
        });
        out
    }

    #[test]
    fn only_columns_read_through_constant_keys_are_pruned() {
        let p = log_file(1);
        let opts = LoadOptions::default();
        let schema = SchemaCatalog::builtin().table("ContainerLogV2");
        let layout = lines::plan("ContainerLogV2", &[p], schema, &opts).unwrap();
        let lm = layout.cols.iter().position(|c| c.name == "LogMessage").unwrap();
        let table = StreamedTable::new(layout, opts, 1);
        let key = |k: &str| PathPart::Key(k.to_string());
        let path = |parts: &[PathPart]| crate::functions::dynfn::path(col("LogMessage"), parts);

        let plan = scan_of(&table, vec![path(&[key("user")]).alias("u"), path(&[key("n"), key("deep")]).alias("d")]);
        let members = kept(&push_paths(plan));
        assert_eq!(members[lm], Some(vec!["n".to_string(), "user".to_string()]));

        // a bare use anywhere keeps the whole value
        let plan = scan_of(&table, vec![path(&[key("user")]).alias("u"), col("LogMessage").alias("m")]);
        assert!(kept(&push_paths(plan)).iter().all(Option::is_none));
        // so does a path starting with an index, and reaching the output
        let plan = scan_of(&table, vec![path(&[PathPart::Index(0)]).alias("u")]);
        assert!(kept(&push_paths(plan)).iter().all(Option::is_none));
        let plan = scan_of(&table, vec![path(&[key("user")]).alias("u"), col("LogMessage")]);
        assert!(kept(&push_paths(plan)).iter().all(Option::is_none));
    }
}
