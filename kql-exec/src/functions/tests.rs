//! Whole-query tests of functions that need the binder (`pack_all`, aggregates, window
//! functions, aliases), with Kusto's documented results.

use crate::output::rows_json;
use crate::session::{Catalog, Session, SessionOptions};
use serde_json::{json, Value};

fn run(q: &str) -> (Vec<String>, Vec<Vec<Value>>) {
    let s = Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    let r = s.query(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
    (r.cols.iter().map(|c| c.name.clone()).collect(), rows_json(&r))
}

fn err(q: &str) -> String {
    let s = Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    match s.query(q) {
        Ok(_) => panic!("{q}: expected an error"),
        Err(e) => format!("{e:?}"),
    }
}

#[test]
fn pack_all_doc_example() {
    let (cols, rows) = run(r#"datatable(Source:string,Target:string,CharsCount:long)
        ['555-1234','555-1212',46, '555-1313','',42, '','555-3456',74]
        | extend Packed=pack_all(), PackedIgnoreNullEmpty=pack_all(true)"#);
    assert_eq!(cols, ["Source", "Target", "CharsCount", "Packed", "PackedIgnoreNullEmpty"]);
    assert_eq!(rows[0][3], json!({"Source": "555-1234", "Target": "555-1212", "CharsCount": 46}));
    assert_eq!(rows[1][3], json!({"Source": "555-1313", "Target": "", "CharsCount": 42}));
    assert_eq!(rows[1][4], json!({"Source": "555-1313", "CharsCount": 42}));
    assert_eq!(rows[2][4], json!({"Target": "555-3456", "CharsCount": 74}));
}

#[test]
fn pack_all_nulls_and_scopes() {
    let (_, rows) =
        run("datatable(a:long, b:string)[1, 'x', long(null), ''] | project p = pack_all(), q = pack_all(true)");
    assert_eq!(rows[1][0], json!({"a": null, "b": ""}));
    assert_eq!(rows[1][1], json!({}));
    let (_, rows) = run("print pack_all()");
    assert_eq!(rows[0][0], json!({}));
    let (_, rows) = run("range x from 1 to 2 step 1 | extend y = x * 2 | summarize l = make_list(pack_all())");
    assert_eq!(rows[0][0], json!([{"x": 1, "y": 2}, {"x": 2, "y": 4}]));
    assert!(err("print pack_all(tobool(now() > ago(1d)))").contains("constant"));
}

#[test]
fn percentiles_columns_and_names() {
    let (cols, rows) = run("range x from 1 to 10 step 1 | summarize percentiles(x, 50, 99.9)");
    assert_eq!(cols, ["percentile_x_50", "percentile_x_99_9"]);
    assert_eq!(rows[0], [json!(5), json!(10)]);
    let (cols, rows) = run("range x from 1 to 10 step 1 | summarize percentiles(x, 50)");
    assert_eq!(cols, ["percentile_x_50"]);
    assert_eq!(rows[0], [json!(5)]);
    let (cols, _) =
        run("range x from 1 to 10 step 1 | summarize (p50, p90) = percentiles(x, 50, 90), q = percentiles(x, 5)");
    assert_eq!(cols, ["p50", "p90", "q"]);
    let (_, rows) = run("print toscalar(range f from 1 to 100 step 1 | summarize percentiles(f, 5))");
    assert_eq!(rows[0], [json!(5)]);
}

#[test]
fn percentiles_array() {
    let (cols, rows) = run("datatable(L:long)[10, 20, 30, 40] | summarize percentiles_array(L, 50, 75, 99.9)");
    assert_eq!(cols, ["percentiles_L"]);
    assert_eq!(rows[0], [json!([20, 30, 40])]);
    let (cols, rows) =
        run("range x from 1 to 5 step 1 | summarize p = percentiles_array(x, dynamic([5, 25.5])) by k = 1");
    assert_eq!(cols, ["k", "p"]);
    assert_eq!(rows[0][1], json!([1, 2]));
}

#[test]
fn row_rank_is_row_rank_dense() {
    let q = |f: &str| {
        run(&format!("datatable(v:long)[3, 100, 3, 2, 3] | sort by v asc | extend r = {f} | project r"))
            .1
            .into_iter()
            .map(|r| r[0].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(q("row_rank(v)"), [json!(1), json!(2), json!(2), json!(2), json!(3)]);
    assert_eq!(q("row_rank(v, true)"), q("row_rank_dense(v)"));
    assert_eq!(q("row_rank(v, false)"), q("row_rank_min(v)"));
}

#[test]
fn aliases_and_doc_examples() {
    let (_, rows) = run(r#"print make_string(75, 117, 115, 116, 111), make_string(dynamic([75, 117]), 115),
        make_string(-1), array_strcat(dynamic([1, 2, 3]), "->"), notempty(""), notempty("a"),
        string_size("⒦⒰⒮⒯⒪")"#);
    assert_eq!(
        rows[0],
        [json!("Kusto"), json!("Kus"), json!(""), json!("1->2->3"), json!(false), json!(true), json!(15)]
    );
    let (cols, rows) =
        run("print ['timespan'] = make_timespan(1,12,30,55.123), a = make_timespan(1, 0), b = make_timespan(25, 0)");
    assert_eq!(cols, ["timespan", "a", "b"]);
    assert_eq!(rows[0], [json!("1.12:30:55.1230000"), json!("01:00:00"), Value::Null]);
    let (_, rows) =
        run(r#"print tohex(256), tohex(-256), tohex(toint(-256), 8), tohex(256, 8), tohex(256, 2), tohex(long(null))"#);
    assert_eq!(
        rows[0],
        [json!("100"), json!("ffffffffffffff00"), json!("ffffff00"), json!("00000100"), json!("100"), json!("")]
    );
    let (_, rows) = run(
        r#"print countof("aaaa", "aa"), countof("ababa", "aba", "regex"), countof("abcabc", "a.c", "regex"), countof("a", "(", "regex")"#,
    );
    assert_eq!(rows[0], [json!(3), json!(1), json!(2), Value::Null]);
    assert!(err(r#"print countof("a", "a", "other")"#).contains("normal"));
    let (_, rows) = run(
        r#"print indexof("abcdefg","cde",1,2), indexof(1234567,5,1,4), indexof("abcdefgabcdefg", "cde", 1, 10, 2), indexof("abc", "c", -9)"#,
    );
    assert_eq!(rows[0], [json!(2), json!(4), json!(9), Value::Null]);
}

#[test]
fn parse_urlquery_and_parse_xml() {
    let (_, rows) = run(r#"print Result=parse_urlquery("k1=v1&k2=v2&k3=v3")"#);
    assert_eq!(rows[0][0], json!({"Query Parameters": {"k1": "v1", "k2": "v2", "k3": "v3"}}));
    let (_, rows) = run(r#"let getQueryParamValue = (querystring: string, param: string) {
            let params = parse_urlquery(querystring);
            tostring(params["Query Parameters"].[param])
        };
        print UrlQuery = 'view=vs-2019&preserve-view=true'
        | extend view = getQueryParamValue(UrlQuery, 'view')
        | extend preserve = getQueryParamValue(UrlQuery, 'preserve-view')"#);
    assert_eq!(rows[0], [json!("view=vs-2019&preserve-view=true"), json!("vs-2019"), json!("true")]);
    let (_, rows) = run(r#"print d = parse_xml("<duration><value>118.0</value><min>100.0</min></duration>")
        | extend v = todouble(d.duration.value), m = d["duration"]["min"], bad = parse_xml("<a>"), n = parse_xml("")"#);
    assert_eq!(rows[0][1], json!(118.0));
    assert_eq!(rows[0][2], json!("100.0"));
    assert_eq!(rows[0][3], Value::Null);
    assert_eq!(rows[0][4], Value::Null);
}

#[test]
fn covariance_doc_examples() {
    let t = "datatable(x:real, y:real)[1.0, 14.0, 2.0, 10.0, 3.0, 17.0, 4.0, 20.0, 5.0, 50.0]";
    let (cols, rows) = run(&format!("{t} | summarize covariance(x, y)"));
    assert_eq!(cols, ["covariance_x_y"]);
    assert_eq!(rows[0], [json!(20.5)]);
    let (cols, rows) = run(&format!("{t} | summarize covariancep(x, y)"));
    assert_eq!(cols, ["covariancep_x_y"]);
    assert!((rows[0][0].as_f64().unwrap() - 16.4).abs() < 1e-9);
    let r = "range x from 1 to 100 step 1 | extend y = iff(x % 2 == 0, x * 2, x * 3)";
    let (cols, rows) = run(&format!("{r} | summarize covarianceif(x, y, x % 3 == 0)"));
    assert_eq!(cols, ["covarianceif_x_y"]);
    assert!((rows[0][0].as_f64().unwrap() - 2142.0).abs() < 1e-9);
    let (cols, rows) = run(&format!("{r} | summarize covariancepif(x, y, x % 3 == 0)"));
    assert_eq!(cols, ["covariancepif_x_y"]);
    assert!((rows[0][0].as_f64().unwrap() - 2077.090909090909).abs() < 1e-6);
    // null pairs are skipped; named results keep their name
    let (cols, rows) = run("datatable(x:long, y:long)[1, 2, long(null), 5, 3, 6] | summarize c = covariance(x, y)");
    assert_eq!(cols, ["c"]);
    assert!((rows[0][0].as_f64().unwrap() - 4.0).abs() < 1e-9);
}

#[test]
fn column_names_of_doc_examples() {
    let (cols, rows) = run("let T = datatable(A:string, B:int) [];\nprint Columns=column_names_of(T)");
    assert_eq!(cols, ["Columns"]);
    assert_eq!(rows[0][0], json!(["A", "B"]));
    let (_, rows) = run("let F = (p:int) { print A=\"\", B=p };\nprint c=column_names_of(F(1))");
    assert_eq!(rows[0][0], json!(["A", "B"]));
    let (_, rows) = run("print c=column_names_of(range x from 1 to 2 step 1 | extend y = x | project-away x)");
    assert_eq!(rows[0][0], json!(["y"]));
    assert!(err("print column_names_of()").contains("expects 1 argument"));
}

#[test]
fn make_list_and_make_set_flatten_arrays() {
    // as in Kusto's geo_h3cell_rings example (`mv-apply rings on (summarize make_list(rings))`)
    let (_, rows) = run(
        "datatable(a:dynamic)[dynamic([1, 2]), dynamic(3), dynamic([2, [4]])] | summarize l = make_list(a), s = make_set(a)",
    );
    assert_eq!(rows[0][0], json!([1, 2, 3, 2, [4]]));
    assert_eq!(rows[0][1], json!([1, 2, 3, [4]]));
    let (_, rows) = run("datatable(a:dynamic)[dynamic([1, 2, 3]), dynamic([4])] | summarize l = make_list(a, 2)");
    assert_eq!(rows[0][0], json!([1, 2]));
}

#[test]
fn array_sort_with_several_arrays_gives_one_column_each() {
    let (cols, rows) = run(r#"let array1 = dynamic([1,3,4,5,2]);
        let array2 = dynamic(["a","b","c","d","e"]);
        print array_sort_desc(array1,array2)"#);
    assert_eq!(cols, ["array1_sorted", "array2_sorted"]);
    assert_eq!(rows[0], [json!([5, 4, 3, 2, 1]), json!(["d", "c", "b", "e", "a"])]);
    // unnamed arguments are numbered; a repeated name gets a suffix; a trailing bool is no array
    let (cols, rows) =
        run("print a=dynamic([2,1]), d=dynamic({'x':[1,2]}) | extend array_sort_asc(a, d.x, a, dynamic([7,8]), false)");
    assert_eq!(cols, ["a", "d", "a_sorted", "d_x_sorted", "a_sorted1", "array3_sorted"]);
    assert_eq!(rows[0][2..], [json!([1, 2]), json!([2, 1]), json!([1, 2]), json!([8, 7])]);
    // named: tuple names split, a single name keeps the array of arrays
    let (cols, rows) = run(
        "print a=dynamic([2,1]), b=dynamic([3,4]) | project (x, y) = array_sort_asc(a, b), z = array_sort_asc(a, b)",
    );
    assert_eq!(cols, ["x", "y", "z"]);
    assert_eq!(rows[0], [json!([1, 2]), json!([4, 3]), json!([[1, 2], [4, 3]])]);
    let (cols, rows) = run("print a=dynamic([2,1]), b=dynamic([3,4]) | project array_sort_asc(a, b)[1]");
    assert_eq!(cols.len(), 1);
    assert_eq!(rows[0], [json!([4, 3])]);
}

#[test]
fn estimate_data_size_by_type() {
    let (cols, rows) =
        run("range x from 1 to 10 step 1 | extend Text = '1234567890' | summarize Total=sum(estimate_data_size(*))");
    assert_eq!(cols, ["Total"]);
    assert_eq!(rows[0], [json!(180)]);
    let (_, rows) =
        run("print b=true, i=int(1), s='héllo', e='', n=string(null), g=guid(00000000-0000-0000-0000-000000000000) \
         | extend all = estimate_data_size(*), some = estimate_data_size(b, i, s)");
    assert_eq!(rows[0][6..], [json!(1 + 4 + 6 + 16), json!(1 + 4 + 6)]);
    assert!(err("print estimate_data_size()").contains("KS119"));
}

#[test]
fn weighted_percentiles() {
    let t = "datatable(ReqCount:long, LatencyBucket:long)[8, 10, 6, 20, 3, 30, 1, 40]";
    let (cols, rows) = run(&format!("{t} | summarize percentilesw_array(LatencyBucket, ReqCount, 50, 75, 99.9)"));
    assert_eq!(cols, ["percentiles_LatencyBucket"]);
    assert_eq!(rows[0], [json!([20, 20, 40])]);
    let (cols, rows) = run(&format!(
        "{t} | summarize percentilesw(LatencyBucket, ReqCount, 50, 99.9), p = percentilew(LatencyBucket, ReqCount, 0), \
         a = percentilesw_array(LatencyBucket, ReqCount, dynamic([10, 90]))"
    ));
    assert_eq!(cols, ["percentile_LatencyBucket_50", "percentile_LatencyBucket_99_9", "p", "a"]);
    assert_eq!(rows[0], [json!(20), json!(40), json!(10), json!([10, 30])]);
    // rows with a null or non-positive weight count for nothing
    let (_, rows) =
        run("datatable(x:real, w:long)[1.5, 1, 2.5, long(null), 3.5, -1, 4.5, 1] | summarize percentilew(x, w, 60)");
    assert_eq!(rows[0], [json!(4.5)]);
    assert!(err("datatable(x:real, w:real)[1.0, 1.0] | summarize percentilew(x, w, 50)").contains("integer"));
}

#[test]
fn tdigest_family() {
    let (cols, rows) = run("datatable(V:real, W:long)[1.0, 1, 2.0, 2] | summarize TD=tdigest(V, W) | project P50=percentile_tdigest(TD, 50), TD");
    assert_eq!(cols, ["P50", "TD"]);
    assert_eq!(rows[0], [json!(2.0), json!([[10], [1.0, 2.0], [1, 2]])]);
    let (cols, rows) = run(
        "range x from 1 to 10 step 1 | extend y = x + 10 | summarize tdigestX = tdigest(x), tdigestY = tdigest(y) \
         | project merged = merge_tdigest(tdigestX, tdigestY) | project percentile_tdigest(merged, 100, typeof(long)), \
           percentiles_array_tdigest(merged, 5, 50), rank = rank_tdigest(merged, 15), pr = percentrank_tdigest(merged, 5)",
    );
    assert_eq!(cols[0], "percentile_tdigest_merged");
    assert_eq!(rows[0], [json!(20), json!([1, 10]), json!(15.0), json!(25.0)]);
    // tdigest_merge as an aggregate, over datetimes
    let (_, rows) = run(
        "range d from datetime(2020-01-01) to datetime(2020-01-10) step 1d | summarize t = tdigest(d) by b = dayofmonth(d) % 2 \
         | summarize m = tdigest_merge(t) | project p = percentile_tdigest(m, 50), q = percentile_tdigest(m, 50, typeof(datetime))",
    );
    assert_eq!(rows[0], [json!("2020-01-05T00:00:00.0000000Z"), json!("2020-01-05T00:00:00.0000000Z")]);
    assert!(err("print x = 's' | summarize tdigest(x)").contains("numbers"));
    let (_, rows) = run("print percentile_tdigest(dynamic('bad'), 50), rank_tdigest(dynamic(null), 1)");
    assert_eq!(rows[0], [json!(null), json!(null)]);
}

#[test]
fn hll_family() {
    let (cols, rows) =
        run("range x from 1 to 10 step 1 | extend y = x + 10 | summarize hll_x = hll(x), hll_y = hll(y) \
         | project merged = hll_merge(hll_x, hll_y) | project dcount_hll(merged)");
    assert_eq!(cols, ["dcount_hll_merged"]);
    assert_eq!(rows[0], [json!(20)]);
    let (cols, rows) =
        run("range x from 1 to 30 step 1 | summarize h = hll(x % 7, 2), hi = hll_if(x, x > 25) by b = x % 2 \
         | summarize m = hll_merge(h), mi = hll_merge(hi) | project dcount_hll(m), dcount_hll(mi)");
    assert_eq!(cols, ["dcount_hll_m", "dcount_hll_mi"]);
    assert_eq!(rows[0], [json!(7), json!(5)]);
    assert!(err("range x from 1 to 3 step 1 | summarize hll(x, 9)").contains("accuracy"));
}

#[test]
fn pattern_statements() {
    let (cols, rows) = run(r#"declare pattern map_ip_to_longlat = (address:string)
        {
          ("10.10.10.10") = { print Lat=37.405992, Long=-122.078515 };
        };
        map_ip_to_longlat("10.10.10.10")"#);
    assert_eq!(cols, ["Lat", "Long"]);
    assert_eq!(rows[0], [json!(37.405992), json!(-122.078515)]);
    let country = r#"declare pattern country = (name:string)[state:string]
        {
          ("USA").["New York"] = { print Capital = "Albany" };
          ("USA").["Washington"] = { print Capital = "Olympia" };
          ("Canada").["Alberta"] = { let c = "Edmonton"; print Capital = c };
        };
        "#;
    let (_, rows) = run(&format!("{country} country('Canada').Alberta"));
    assert_eq!(rows[0], [json!("Edmonton")]);
    let (_, rows) = run(&format!(
        "{country} union country('USA').['New York'], country(\"USA\").Washington | order by Capital asc"
    ));
    assert_eq!(rows, [[json!("Albany")], [json!("Olympia")]]);
    let e = err(&format!("{country} country('USA').Texas"));
    assert!(e.contains("SEM0036") && e.contains("country('USA').['Texas']"), "{e}");
    let e = err("declare pattern p; p('x')");
    assert!(e.contains("p('x')"), "{e}");
}

#[test]
fn graph_to_table_exports_edges_and_nodes() {
    let data = r#"let nodes = datatable(name:string, type:string, age:long)
        ["Alice", "Person", 23, "Bob", "Person", 31, "Eve", "Person", 17, "Trent", "System", 99];
        let edges = datatable(source:string, destination:string, edge_type:string)
        ["Alice", "Bob", "communicatesWith", "Alice", "Trent", "trusts", "Bob", "Trent", "hasPermission",
         "Eve", "Alice", "attacks", "Mallory", "Alice", "attacks", "Mallory", "Bob", "attacks"];
        "#;
    let (cols, rows) = run(&format!(
        "{data} edges | make-graph source --> destination with nodes on name \
         | graph-to-table edges with_source_id=SourceId with_target_id=TargetId"
    ));
    assert_eq!(cols, ["SourceId", "TargetId", "source", "destination", "edge_type"]);
    assert_eq!(rows[0][..3], [json!(-3122868243544336885i64), json!(-7133945255344544237i64), json!("Alice")]);
    let (cols, rows) = run(&format!(
        "{data} edges | make-graph source --> destination with nodes on name | graph-to-table nodes with_node_id=NodeId"
    ));
    assert_eq!(cols, ["NodeId", "name", "type", "age"]);
    assert_eq!(rows.len(), 5);
    assert!(rows.contains(&vec![json!(3855580634910899594i64), json!("Mallory"), json!(""), json!(null)]));
    assert!(rows.contains(&vec![json!(-3122868243544336885i64), json!("Alice"), json!("Person"), json!(23)]));
    // both, named: the names are tables for the next statements
    let (cols, rows) = run(&format!(
        "{data} edges | make-graph source --> destination with nodes on name \
         | graph-to-table nodes as N with_node_id=NodeId, edges as E with_source_id=SourceId; E | count"
    ));
    assert_eq!(cols, ["Count"]);
    assert_eq!(rows[0], [json!(6)]);
    assert!(err("print x=1 | graph-to-table edges").contains("make-graph"));
    assert!(err(&format!("{data} edges | make-graph src --> destination")).contains("src"));
}

#[test]
fn reduce_operator() {
    let q = "range x from 1 to 10 step 1 | project str = strcat('foo', 'Z', tostring(x))";
    let (cols, rows) = run(&format!("{q} | reduce by str"));
    assert_eq!(cols, ["Pattern", "Count", "Representative"]);
    assert_eq!(rows, [[json!("others"), json!(10), json!("")]]);
    let (_, rows) = run(&format!("{q} | reduce by str with characters='Z'"));
    assert_eq!(rows, [[json!("foo*"), json!(10), json!("fooZ1")]]);
    let (cols, rows) = run(&format!("{q} | reduce kind=source by str with threshold=0.5, characters='Z'"));
    assert_eq!(cols, ["str", "Pattern", "Count", "Representative"]);
    assert_eq!(rows[3], [json!("fooZ4"), json!("foo*"), json!(10), json!("fooZ1")]);
    assert!(err(&format!("{q} | reduce by str with threshold=2.0")).contains("threshold"));
}

#[test]
fn dynamic_string_comparisons_compare_json_text_like_converted_values() {
    // `tostring(d) == s` is compared as JSON text when only strings can print as `s`; the
    // reference converts through strcat, which no shortcut touches
    let data = r#"datatable(d:dynamic)[
        dynamic("FAIL"), dynamic("fail"), dynamic("a\"b"), dynamic("é ü"), dynamic(1), dynamic(1.50),
        dynamic(true), dynamic(null), dynamic({"a":"FAIL"}), dynamic(["FAIL"]), dynamic(""), dynamic("x\ty")]"#;
    for s in ["FAIL", "a\\\"b", "é ü", "1", "1.50", "true", "", "x\\ty", "{\\\"a\\\":\\\"FAIL\\\"}", "null"] {
        let q = format!(
            r#"{data} | project a = tostring(d) == "{s}", b = d == "{s}", c = tostring(d) != "{s}", d2 = "{s}" == tostring(d),
                ra = strcat(tostring(d)) == "{s}", rb = iff(isnull(d), bool(null), strcat(tostring(d)) == "{s}"), rc = strcat(tostring(d)) != "{s}""#
        );
        let (_, rows) = run(&q);
        for r in &rows {
            assert_eq!(r[0], r[4], "tostring(d) == {s:?}: {rows:?}");
            assert_eq!(r[3], r[4], "{s:?} == tostring(d): {rows:?}");
            assert_eq!(r[2], r[6], "tostring(d) != {s:?}: {rows:?}");
            assert_eq!(r[1], r[5], "d == {s:?}: {rows:?}");
        }
        assert!(rows.iter().any(|r| r[0] == json!(true)) || s == "null" || s == "1.50", "{s:?} matches a row");
    }
}

#[test]
fn text_comparisons_of_extended_columns_compare_json_text_like_converted_values() {
    // the optimizer rewrites comparisons that appear only once an `extend` is inlined: into a
    // `where` (DataFusion moves the filter) and into a `summarize` (the rule inlines it itself)
    let data = r#"datatable(d:dynamic, k:long)[
        dynamic("FAIL"), 1, dynamic("fail"), 1, dynamic("a\"b"), 2, dynamic(1), 2, dynamic(true), 1,
        dynamic(null), 2, dynamic({"a":"FAIL"}), 1, dynamic(""), 2, dynamic("FAIL"), 2]"#;
    for s in ["FAIL", "a\\\"b", "1", "true", "", "null"] {
        let got = run(&format!(
            r#"{data} | extend t = tostring(d) | where t == "{s}" or t != "{s}" and k == 2
                | summarize a = countif(t == "{s}"), b = countif("{s}" != t), n = count() by k | order by k asc"#
        ));
        let want = run(&format!(
            r#"{data} | extend t = strcat(tostring(d)) | where t == "{s}" or t != "{s}" and k == 2
                | summarize a = countif(t == "{s}"), b = countif("{s}" != t), n = count() by k | order by k asc"#
        ));
        assert_eq!(got, want, "{s:?}");
    }
    let s = Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    let plan = s
        .optimized_plan(&format!(
            r#"{data} | extend t = tostring(d) | where t != "x" | summarize a = countif(t == "FAIL") by k"#
        ))
        .unwrap()
        .display_indent()
        .to_string();
    assert!(plan.contains("NOT kql_text_eq") && plan.matches("kql_text_eq(").count() >= 2, "{plan}");
    assert!(!plan.contains("kql_dyn_tostring"), "no conversion left: {plan}");
}

#[test]
fn text_equality_in_filters_keeps_the_rows_string_equality_keeps() {
    // `where s == "lit"` compares with `kql_text_eq` (nulls and empty strings in the data, needles
    // shorter than, as long as, and longer than a machine word); the reference compares through
    // strcat, which the rule does not touch (its conjunct is a call, not a column)
    let data = r#"datatable(s:string, d:dynamic, k:long)[
        "FAIL", dynamic("FAIL"), 1, "fail", dynamic(null), 2, "", dynamic(""), 3, "a much longer text value", dynamic(1), 4,
        "FAIL ", dynamic({"a":1}), 5, "user_34419aa2", dynamic("user_34419aa2"), 6, "x", dynamic("x"), 7]"#;
    for lit in ["FAIL", "", "x", "user_34419aa2", "a much longer text value", "nope"] {
        let got = run(&format!(r#"{data} | where s == "{lit}" and k > 0 | where "{lit}" == s or k < 0 | project k"#));
        let want = run(&format!(r#"{data} | where strcat(s) == "{lit}" and k > 0 | project k"#));
        assert_eq!(got, want, "s == {lit:?}");
        let got = run(&format!(r#"{data} | where d == "{lit}" | project k"#));
        let want =
            run(&format!(r#"{data} | where gettype(d) == "string" and strcat(tostring(d)) == "{lit}" | project k"#));
        assert_eq!(got, want, "d == {lit:?}");
    }
    let s = Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    let plan = s
        .optimized_plan(&format!(r#"{data} | where s == "FAIL" | extend e = s == "x""#))
        .unwrap()
        .display_indent()
        .to_string();
    assert!(plan.contains("Filter: kql_text_eq("), "the filter compares by words: {plan}");
    assert!(plan.contains(".s = Utf8(\"x\") AS e"), "a projection keeps `=` (null stays null): {plan}");
}

#[test]
fn bin_with_one_size_for_every_row_matches_bin_row_by_row() {
    // a literal size takes the vectorized path; a size from a column, the row-by-row one
    let data = r#"datatable(t:datetime, n:long, s:timespan)[
        datetime(2025-10-21T10:29:59Z), 5, 1h, datetime(null), -5, 1h, datetime(1601-01-01T00:00:01Z), -1, 1h,
        datetime(2025-10-21T10:30:00Z), 0, 1h, datetime(2025-10-21T23:59:59.9999999Z), 7, 1h]"#;
    let (_, rows) = run(&format!(
        "{data} | project a = bin(t, 1h), b = bin(t, s), c = bin(n, 2), d = bin(n, n - n + 2), e = bin(t, 0s)"
    ));
    for r in &rows {
        assert_eq!(r[0], r[1], "{rows:?}");
        assert_eq!(r[2], r[3], "{rows:?}");
        assert_eq!(r[4], Value::Null, "{rows:?}");
    }
    assert_eq!(rows[0][0], json!("2025-10-21T10:00:00.0000000Z"));
    assert_eq!(rows[1][0], Value::Null);
    assert_eq!(rows[1][2], json!(-6));
    assert_eq!(rows[2][2], json!(-2));
}

#[test]
fn isempty_of_dynamic_values() {
    // only a null and an empty string are empty; read from the offsets, nulls from the validity
    let (_, rows) = run(r#"datatable(d:dynamic)[dynamic(null), dynamic(""), dynamic(" "), dynamic(0), dynamic([]),
        dynamic({}), dynamic("x"), dynamic(""), dynamic(null), dynamic("ab")]
        | project e = isempty(d), n = isnotempty(d), m = isempty(d.k)"#);
    let got: Vec<(Value, Value, Value)> =
        rows.into_iter().map(|r| (r[0].clone(), r[1].clone(), r[2].clone())).collect();
    let want = [true, true, false, false, false, false, false, true, true, false];
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.clone(), g.1.clone(), g.2.clone()), (json!(w), json!(!w), json!(true)), "{got:?}");
    }
}

/// A dynamic operand of `in`/`has_any` stands for its values: an array's elements (nested arrays
/// flattened, as the `in` operator's reference says: `x in (dynamic([1,[2,3]]))` is
/// `x in (1,2,3)`), and a value that is not an array for itself. ASIM's
/// `_ASIM_GetWatchlistsRaw(watchlists, keys:dynamic)` is called with a string key
/// (`_ASIM_GetSourceBySourceType('CiscoMeraki')`) and filters `SearchKey in (keys)`.
#[test]
fn in_over_a_dynamic_scalar_and_nested_arrays() {
    let (_, rows) = run(r#"print a = "x" in (dynamic("x")), b = "x" in (dynamic("y")), c = "X" in~ (dynamic("x")),
        d = "x" !in (dynamic("x")), e = 2 in (dynamic([1,[2,3]])), f = 4 in (dynamic([1,[2,3]])),
        g = "x" in (dynamic(null)), h = "x" !in (dynamic(null))"#);
    assert_eq!(
        rows[0],
        [json!(true), json!(false), json!(true), json!(false), json!(true), json!(false), json!(false), json!(true)]
    );
    // through a function parameter declared dynamic and given a string, as ASIM does
    let (_, rows) = run(
        r#"let f = (keys:dynamic) { datatable(k:string)['a','b','c'] | where array_length(keys) == 0 or k in (keys) };
        f("b")"#,
    );
    assert_eq!(rows, [[json!("b")]]);
    let (_, rows) =
        run(r#"print a = "alpha beta" has_any (dynamic("beta")), b = "alpha beta" has_any (dynamic(["x", "beta"]))"#);
    assert_eq!(rows[0], [json!(true), json!(true)]);
}

/// `mv-apply` runs its subquery over each row's expansion; a `summarize` without `by` (or
/// `count`) gives one row over an empty table, so a row whose array is empty, missing or not
/// matched by the subquery's filter still gives its row (CyberArk's ASIM parser builds
/// `_Nested = make_bag(...)` with `mv-apply` over a `nested_items` most rows do not have).
#[test]
fn mv_apply_summarize_over_an_empty_expansion_keeps_the_row() {
    let (cols, rows) = run(
        r#"datatable(x:long, d:dynamic)[1, dynamic({"a":1}), 2, dynamic({"nested_items":[{"name":"k","value":2}]}), 3, dynamic(null)]
        | mv-apply i = d.nested_items on (summarize n = make_bag(bag_pack(tostring(i.name), i.value)))
        | order by x asc"#,
    );
    assert_eq!(cols, ["x", "d", "n"]);
    assert_eq!(
        rows.iter().map(|r| (r[0].clone(), r[2].clone())).collect::<Vec<_>>(),
        [(json!(1), json!({})), (json!(2), json!({"k": 2})), (json!(3), json!({}))]
    );
    let (_, rows) = run(r#"datatable(x:long, d:dynamic)[1, dynamic([]), 2, dynamic([1,2]), 3, dynamic([5])]
        | mv-apply e = d to typeof(long) on (where e < 5 | summarize c = count(), s = make_list(e))
        | project x, c, s | order by x asc"#);
    assert_eq!(
        rows,
        [[json!(1), json!(0), json!([])], [json!(2), json!(2), json!([1, 2])], [json!(3), json!(0), json!([])]]
    );
    // with `by`, an empty expansion gives no rows
    let (_, rows) = run(r#"datatable(x:long, d:dynamic)[1, dynamic([]), 2, dynamic([1,2])]
        | mv-apply e = d on (summarize c = count() by tostring(e)) | project x, c"#);
    assert_eq!(rows.len(), 2);
    // `take` inside mv-apply (a window without an order)
    let (_, rows) = run(r#"datatable(x:long, d:dynamic)[1, dynamic([7,8]), 2, dynamic([9])]
        | mv-apply e = d to typeof(long) on (take 1) | project x, e | order by x asc"#);
    assert_eq!(rows.len(), 2);
    assert!(rows[0][1] == json!(7) || rows[0][1] == json!(8), "{rows:?}");
    assert_eq!(rows[1], [json!(2), json!(9)]);
}

/// `project-rename` to a name the input already has is Kusto's KS171 ("A column with the name
/// 'a' is already declared", as Microsoft's analyzer reports it), not a planning failure. An ASIM
/// helper renames `ExtractedHostname` to `DvcHostname`, which a table with ASIM columns already has.
#[test]
fn project_rename_onto_an_existing_column_is_ks171() {
    let e = err("print a = 'x', b = 1 | project-rename a = b");
    assert!(e.contains("KS171") && e.contains("'a' is already declared"), "{e}");
    let e = err("print a = 'x', b = 1, c = 2 | project-rename x = b, x = c");
    assert!(e.contains("KS171") && e.contains("'x'"), "{e}");
    // the analyzer also refuses a name this operator renames away
    let e = err("print a = 'x', b = 1 | project-rename c = a, a = b");
    assert!(e.contains("KS171") && e.contains("'a'"), "{e}");
    let e = err("print a = 'x' | project-rename a = a");
    assert!(e.contains("KS171"), "{e}");
    let (cols, rows) = run("print a = 'x', b = 1 | project-rename c = a, A = b");
    assert_eq!(cols, ["c", "A"]);
    assert_eq!(rows[0], [json!("x"), json!(1)]);
}

#[test]
fn assert_doc_examples_and_constant_rule() {
    let f = "let checkLength = (len:long, s:string) { assert(len > 0, \"Length must be greater than zero\") and strlen(s) > len };
        datatable(input:string) ['123', '4567']";
    assert_eq!(run(&format!("{f} | where checkLength(len=3, input)")).1, vec![vec![json!("4567")]]);
    let e = err(&format!("{f} | where checkLength(len=long(-1), input)"));
    assert!(
        e.contains("KQL078") && e.contains("assert() has failed with message: 'Length must be greater than zero'"),
        "{e}"
    );
    // the condition cannot read a row
    let e = err("datatable(a:long)[1] | where assert(a > 0, 'positive')");
    assert!(e.contains("KQL078") && e.contains("constant"), "{e}");
    assert_eq!(run("print assert(1 < 2, 'fine')").1, vec![vec![json!(true)]]);
}

#[test]
fn iscolumnexists_is_known_at_bind_time() {
    let (_, rows) = run("datatable(a:long)[1] | extend x = iscolumnexists('a'), y = iscolumnexists('b')");
    assert_eq!(rows, vec![vec![json!(1), json!(true), json!(false)]]);
}

#[test]
fn positional_arguments_after_named_ones() {
    let f = "let f = (a:long, b:string) { strcat(b, a) };";
    assert_eq!(run(&format!("{f} print f(a=1, 'x')")).1, vec![vec![json!("x1")]]);
    assert_eq!(run(&format!("{f} print f(b='x', a=2)")).1, vec![vec![json!("x2")]]);
    let e = err(&format!("{f} print f(b='x', 1)"));
    assert!(e.contains("KS195"), "{e}");
}

#[test]
fn binary_all_aggregates_and_exact_distinct_counts() {
    let (_, rows) = run("datatable(num:long)[0x44404440, 0x1E1E1E1E, 0x90ABBA09, 0x000B105A]
        | summarize result = toupper(tohex(binary_all_xor(num)))");
    assert_eq!(rows, vec![vec![json!("CAFEF00D")]]);
    let (cols, rows) = run("datatable(n:long)[12, 10, long(null), 14]
        | summarize binary_all_and(n), binary_all_or(n), count_distinct(n), count_distinctif(n, n > 10)");
    // names as Kusto.Language gives them: the and/or aggregates take their argument's name
    assert_eq!(cols, ["n", "n1", "count_distinct_n", "count_distinctif_n"]);
    assert_eq!(rows, vec![vec![json!(8), json!(14), json!(3), json!(2)]]);
    // the population variance of the values that pass the predicate: 1, 2, 3
    let (_, rows) = run("range x from 1 to 5 step 1 | summarize v = variancepif(x, x < 4)");
    assert_eq!(rows, vec![vec![json!(2.0 / 3.0)]]);
}

/// A small graph: a -> b -> c -> a (a cycle), c -> d, and e alone with an edge to itself.
const GRAPH: &str =
    "let E = datatable(s: string, t: string, w: long) ['a','b',1, 'b','c',2, 'c','a',3, 'c','d',4, 'e','e',5];\n\
                     let N = datatable(n: string, k: long) ['a',10, 'b',20, 'c',30, 'd',40, 'e',50];\n\
                     E | make-graph s --> t with N on n";

#[test]
fn graph_match_directions_lengths_and_cycles() {
    // one edge each way, and either way
    let (cols, rows) = run(&format!("{GRAPH} | graph-match (x)-[e]->(y) where x.n == 'c' project x.n, y.n, e.w"));
    assert_eq!(cols, ["x_n", "y_n", "e_w"]);
    assert_eq!(rows, [[json!("c"), json!("a"), json!(3)], [json!("c"), json!("d"), json!(4)]]);
    let (_, rows) = run(&format!("{GRAPH} | graph-match (x)<--(y) where x.n == 'c' project y = y.n"));
    assert_eq!(rows, [[json!("b")]]);
    let (_, rows) = run(&format!("{GRAPH} | graph-match (x)--(y) where x.n == 'c' project y = y.n | order by y asc"));
    assert_eq!(rows, [[json!("a")], [json!("b")], [json!("d")]]);
    // a variable length edge: shortest first, its properties and path functions in path order
    let (_, rows) = run(&format!(
        "{GRAPH} | graph-match (x)-[p*1..3]->(y) where x.n == 'a' and all(p, w < 4)
         project y = y.n, ws = p.w, via = map(inner_nodes(p), n), big = any(p, w > 1)"
    ));
    assert_eq!(
        rows,
        [
            [json!("b"), json!([1]), json!([]), json!(false)],
            [json!("c"), json!([1, 2]), json!(["b"]), json!(true)],
            // back to a over three distinct edges (cycles=unique_edges, the default)
            [json!("a"), json!([1, 2, 3]), json!(["b", "c"]), json!(true)],
        ]
    );
    // cycles=none never passes a node twice; cycles=all lets a path use an edge again
    let q = |c: &str| format!("{GRAPH} | graph-match {c} (x)-[p*3..4]->(y) where x.n == 'a' project y = y.n, ws = p.w");
    assert_eq!(run(&q("cycles=none")).1, [[json!("d"), json!([1, 2, 4])]]);
    assert_eq!(run(&q("")).1, [[json!("a"), json!([1, 2, 3])], [json!("d"), json!([1, 2, 4])]]);
    assert_eq!(
        run(&format!("{GRAPH} | graph-match cycles=all (x)-[p*2]->(y) where x.n == 'e' project ws = p.w")).1,
        [[json!([5, 5])]]
    );
    // several patterns share a node; constraints across variables run on the matches
    let (_, rows) =
        run(&format!("{GRAPH} | graph-match (x)-->(y), (y)-->(z) where x.k + z.k == 40 project x.n, y.n, z.n"));
    assert_eq!(rows, [[json!("a"), json!("b"), json!("c")]]);
    // the whole element as a bag, and a node's degrees
    let (_, rows) = run(&format!(
        "{GRAPH} | graph-match (x)-[e]->(y) where node_degree_out(x) == 2 project x, e, din = node_degree_in(y)"
    ));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], [json!({"n": "c", "k": 30}), json!({"s": "c", "t": "a", "w": 3}), json!(1)]);
}

#[test]
fn graph_shortest_paths_and_components() {
    let (_, rows) = run(&format!(
        "{GRAPH} | graph-shortest-paths (x)-[p*1..5]->(y) where x.n == 'a' project y = y.n, hops = array_length(p.w) | order by y asc"
    ));
    assert_eq!(rows, [[json!("b"), json!(1)], [json!("c"), json!(2)], [json!("d"), json!(3)]]);
    let (cols, rows) = run(&format!("{GRAPH} | graph-mark-components | graph-to-table nodes | project n, ComponentId"));
    assert_eq!(cols, ["n", "ComponentId"]);
    assert_eq!(rows.iter().map(|r| r[1].as_i64().unwrap()).collect::<Vec<_>>(), [0, 0, 0, 0, 1]);
    let (_, rows) = run(&format!(
        "{GRAPH} | graph-mark-components kind=strong with_component_id=c | graph-to-table nodes | project n, c"
    ));
    assert_eq!(rows.iter().map(|r| r[1].as_i64().unwrap()).collect::<Vec<_>>(), [0, 0, 0, 1, 2]);
}

#[test]
fn graph_match_errors_say_what_to_write() {
    assert!(err(&format!("{GRAPH} | graph-match (x)-->(y)")).contains("needs a `project` clause"));
    assert!(err(&format!("{GRAPH} | graph-match (x)-->(y), (z)-->(w) project x.n")).contains("connected"));
    assert!(err(&format!("{GRAPH} | graph-match (x)-->(y) project x.nope")).contains("has no property `nope`"));
    assert!(err(&format!("{GRAPH} | graph-match (x)-[e]->(y) project m = map(e, w)")).contains("variable length edge"));
    assert!(err("print 1 | graph-match (x)-->(y) project x.n").contains("put make-graph before it"));
}

#[test]
fn modulo_is_never_negative_as_in_kusto() {
    let (_, rows) = run("print a = 14 % 12, b = -14 % 12, c = 14 % -12, d = -14 % -12, e = -14.5 % 12.0, f = 5 % 0");
    assert_eq!(rows[0], [json!(2), json!(10), json!(2), json!(10), json!(9.5), Value::Null]);
}

#[test]
fn aggregates_over_no_rows_without_keys_take_kusto_s_defaults() {
    let (_, rows) = run(
        "datatable(x: long) [] | summarize sum(x), sumif(x, x > 0), avg(x), stdev(x), variance(x), count(), dcount(x), max(x), hll(x), tdigest(x)",
    );
    assert_eq!(
        rows[0],
        [
            json!(0),
            json!(0),
            json!("NaN"),
            json!(0.0),
            json!(0.0),
            json!(0),
            json!(0),
            Value::Null,
            Value::Null,
            Value::Null
        ]
    );
    // with rows, or by keys, the aggregates are DataFusion's own
    assert_eq!(run("datatable(x: long) [2, 4] | summarize sum(x), avg(x)").1[0], [json!(6), json!(3.0)]);
    assert_eq!(run("datatable(x: long) [] | summarize sum(x) by k = x").1.len(), 0);
}

#[test]
fn a_percentage_passed_through_a_real_parameter_is_still_constant() {
    let (_, rows) =
        run("let f = (p: real) { toscalar(range x from 1 to 100 step 1 | summarize percentiles(x, p)) }; print f(99)");
    assert_eq!(rows[0], [json!(99)]);
}

#[test]
fn arg_max_names_its_columns_as_written() {
    let (cols, rows) =
        run("datatable(d:string, t:datetime, c:long)['a', datetime(2020-01-01), 1, 'a', datetime(2021-01-01), 2]
         | summarize m = arg_max(t, cur = c) by d");
    assert_eq!(cols, ["d", "m", "cur"]);
    assert_eq!(rows[0][2], json!(2));
}

#[test]
fn datetimes_read_as_numbers_count_ticks_from_year_one() {
    // the operators Kusto's analyzer accepts on datetimes, computed on ticks since 0001-01-01
    let (_, rows) =
        run("print a = datetime(2020-01-01) / 1h, b = datetime(2020-01-01 10:00) % 1d, c = datetime(2020-01-01) * 1,
               d = datetime(2020-01-02) / datetime(2020-01-01), e = 1h - datetime(0001-01-01) + 1h");
    assert_eq!(rows[0][0], json!(17698176.0));
    assert_eq!(rows[0][1], json!("10:00:00"));
    assert_eq!(rows[0][2], json!("2020-01-01T00:00:00.0000000Z"));
    assert!((rows[0][3].as_f64().unwrap() - 1.0000013).abs() < 1e-6);
    assert_eq!(rows[0][4], json!("0001-01-01T02:00:00.0000000Z"));
}

#[test]
fn checking_a_union_with_an_input_of_unknown_shape_keeps_one_column_per_name() {
    // `pivot`'s columns are unknown while checking: its `X` takes the other input's type
    // instead of splitting into X_string and X_dynamic
    let s = Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    let q = "union (print X = 'a'), (print d = dynamic({}) | evaluate bag_unpack(d) | project X = Y)\n| extend y = strlen(X)";
    let out = s.check_script(&kql_parser::parse(q).unwrap());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["X", "y"]);
}

#[test]
fn a_named_argument_names_a_function_named_after_its_first_argument() {
    let (cols, rows) = run("print x = 1.5 | project round(F = x * 2) | extend y = F");
    assert_eq!(cols, ["F", "y"]);
    assert_eq!(rows[0], [json!(3.0), json!(3.0)]);
}

#[test]
fn extend_items_read_the_input_not_each_other() {
    // Kusto's analyzer: `extend a = x + 1, b = a * 2` is KS142 at `a`; a replaced column is
    // read as the input had it
    assert!(err("print x = 1 | extend a = x + 1, b = a * 2").contains("KS142"));
    let (cols, rows) = run("print d = dynamic({'a': 1}) | extend d = 'x', y = d.a");
    assert_eq!(cols, ["d", "y"]);
    assert_eq!(rows[0], [json!("x"), json!(1)]);
}

#[test]
fn checking_a_member_of_a_value_that_is_not_dynamic_is_an_error_as_in_kusto() {
    let s = Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    let codes = |q: &str| -> Vec<&'static str> {
        s.check_script(&kql_parser::parse(q).unwrap()).errors.iter().map(|e| e.code).collect()
    };
    assert_eq!(codes("print s = 'x' | extend y = s.a"), ["KS142"]);
    assert_eq!(codes("print s = 'x' | extend y = s['a']"), ["KS147"]);
    assert!(codes("print s = dynamic({}) | extend y = s.a").is_empty());
    // running, a string is read as JSON (exports type as text columns that hold JSON)
    assert_eq!(run("print s = '{\"a\": 1}' | extend y = s.a").1[0][1], json!(1));
}
