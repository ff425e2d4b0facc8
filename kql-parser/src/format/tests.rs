//! Layout and comment-placement cases of [`format_query`].

use super::{format_query, FormatError};

/// Format, and check the result formats to itself.
fn fmt(s: &str) -> String {
    let out = format_query(s).unwrap_or_else(|e| panic!("{e}\n{s}"));
    assert_eq!(format_query(&out).unwrap(), out, "not idempotent");
    out
}

#[test]
fn pipes_each_on_a_line() {
    assert_eq!(fmt("T|where x>1|project a,b"), "T\n| where x > 1\n| project a, b\n");
    assert_eq!(fmt("T |\nwhere x"), "T\n| where x\n");
}

#[test]
fn let_statements_one_per_line_and_blank_lines_collapsed() {
    assert_eq!(fmt("let a=1;let b=T|take 1;\n\n\n\nb"), "let a = 1;\nlet b = T\n    | take 1;\n\nb\n");
}

#[test]
fn comment_at_end_of_line() {
    assert_eq!(fmt("T   // all of it   \n| take 1 // one"), "T // all of it\n| take 1 // one\n");
}

#[test]
fn comment_on_its_own_line_between_operators() {
    assert_eq!(
        fmt("T\n  // keep failures\n| where x\n// then count\n|count"),
        "T\n// keep failures\n| where x\n// then count\n| count\n"
    );
}

#[test]
fn comment_inside_argument_list() {
    assert_eq!(
        fmt("T | where x in ('a', // first\n 'b' // second\n)"),
        "T\n| where x in ('a', // first\n    'b' // second\n)\n"
    );
    assert_eq!(fmt("T | project a, // a\n b"), "T\n| project a, // a\n    b\n");
}

#[test]
fn comment_at_end_of_file() {
    assert_eq!(fmt("T | take 1\n// done"), "T\n| take 1\n// done\n");
    assert_eq!(fmt("T | take 1 // done\n\n"), "T\n| take 1 // done\n");
}

#[test]
fn comment_in_a_let_body() {
    assert_eq!(
        fmt("let f = (a:string) {\n// the rows of a\nT | where b == a // match\n};\nf('x')"),
        "let f = (a: string) {\n    // the rows of a\n    T\n    | where b == a // match\n};\nf('x')\n"
    );
    assert_eq!(fmt("let x = // why\n  T | take 1;\nx"), "let x = // why\n    T\n    | take 1;\nx\n");
}

#[test]
fn subqueries_and_bodies_are_indented() {
    assert_eq!(
        fmt("T | join kind=leftouter (U | where y) on $left.a == $right.b"),
        "T\n| join kind=leftouter (\n    U\n    | where y\n) on $left.a == $right.b\n"
    );
}

#[test]
fn context_dependent_lexing_is_kept() {
    let q = "T | where t between (datetime(2020-01-01 10:00) .. 1d) and s !has 'x' and u =~ h'y' and v !~ @'c:\\z'\n\
             | project-away Foo*, ['a b'] | mv-expand d = dynamic({\"k\":[1,2]}) | extend n = -1, m = a-1";
    let out = fmt(q);
    assert!(out.contains("datetime(2020-01-01 10:00) .. 1d"), "{out}");
    assert!(out.contains("| project-away Foo*, ['a b']"), "{out}");
    assert!(out.contains("dynamic({\"k\": [1, 2]})"), "{out}");
    assert!(out.contains("n = -1, m = a - 1"), "{out}");
}

#[test]
fn long_lists_break_after_a_comma() {
    let cols: Vec<String> = (0..30).map(|n| format!("Column{n}")).collect();
    let out = fmt(&format!("T | project {}", cols.join(",")));
    assert!(out.lines().all(|l| l.len() <= super::layout::WIDTH), "{out}");
    assert!(out.lines().skip(2).all(|l| l.starts_with("    Column")), "{out}");
}

#[test]
fn syntax_errors_are_returned_not_formatted() {
    assert!(matches!(format_query("T | where"), Err(FormatError::Syntax(_))));
    assert!(matches!(format_query("T | where x ==  'a"), Err(FormatError::Syntax(_))));
}

#[test]
fn empty_and_comment_only_texts() {
    assert_eq!(format_query("").unwrap(), "");
    assert_eq!(format_query("  \n").unwrap(), "");
    assert_eq!(fmt("// only a comment   \n\n"), "// only a comment\n");
}

#[test]
fn strings_and_multiline_literals_are_untouched() {
    let q = "print s = ```a  \n   b```, t = 'x  y'";
    assert_eq!(fmt(q), "print s = ```a  \n   b```, t = 'x  y'\n");
}

#[test]
fn graph_edges_keep_their_shape() {
    let out = layout_only("T | make-graph a --> b | graph-match (x)-[e*1..3]->(y) project x");
    assert!(out.contains("make-graph a --> b"), "{out}");
    assert!(out.contains("(x)-[e*1..3]->(y)"), "{out}");
}

/// The layout without the parse check (for syntax the parser does not read yet).
fn layout_only(s: &str) -> String {
    super::layout_text(s)
}

#[test]
fn calls_lose_the_space_before_their_parenthesis() {
    assert_eq!(
        fmt("T | extend a = tostring (b), c = strcat (d, tolower (e))"),
        "T\n| extend a = tostring(b), c = strcat(d, tolower(e))\n"
    );
    // after a keyword the space stays (`by Col (subquery)` is not a call)
    assert_eq!(
        fmt("T | where x in ('a') | join kind=inner (U) on a"),
        "T\n| where x in ('a')\n| join kind=inner (U) on a\n"
    );
}
