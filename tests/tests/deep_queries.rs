//! Deep and long queries never overflow the stack: long `+` and `or` chains, deep parentheses
//! and nested calls either answer correctly or stop with a syntax error at the place of the
//! documented limit (`kql_parser::lex::MAX_DEPTH`, `MAX_OPERATORS`, `MAX_PIPE_OPERATORS`), for
//! `query` (parse, bind, plan, optimize, run) and `check` (parse on a checking thread, bind).
//!
//! Each case also runs on a thread with a 2 MB stack (what `kql check` and test threads have), and
//! must stay fast in the dev profile.

use kql_exec::session::{Catalog, Session, SessionOptions};
use std::time::{Duration, Instant};

fn session() -> Session {
    Session::new(Catalog::with_builtin_schemas(), SessionOptions { threads: Some(2), ..Default::default() }).unwrap()
}

/// The single value of a one-row, one-column result, as JSON text.
fn answer(s: &Session, q: &str) -> Result<String, kql_exec::KqlError> {
    let r = s.query(q)?;
    let rows = kql_exec::output::rows_json(&r);
    assert_eq!(rows.len(), 1, "one row expected");
    Ok(rows[0].last().unwrap().to_string())
}

/// Run `f` on a thread with a 2 MB stack, as `kql check` runs its files.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().expect("the thread must not panic")
}

/// What `kql check` does with a text: syntax errors, then the semantic check; the error codes
/// and the offset of the first error.
fn check(text: String) -> (Vec<&'static str>, Option<usize>) {
    on_small_stack(move || {
        let (script, syntax) = kql_parser::parse_recovering(&text);
        let mut errors: Vec<kql_exec::KqlError> = syntax.into_iter().map(Into::into).collect();
        if let Some(script) = script {
            errors.extend(session().check_script(&script).errors);
        }
        (errors.iter().map(|e| e.code).collect(), errors.first().and_then(|e| e.span).map(|s| s.start))
    })
}

fn timed<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    crate::common::report(&format!("{what}: {took:?}"));
    assert!(took < limit, "{what} took {took:?}");
    out
}

fn plus_chain(n: usize) -> String {
    format!("print x = {}", vec!["1"; n].join(" + "))
}

fn or_chain(n: usize) -> String {
    let tests: Vec<String> = (0..n).map(|k| format!("s == \"v{k}\"")).collect();
    format!("range i from 0 to 9 step 1 | extend s = strcat('v', i * 7) | where {} | count", tests.join(" or "))
}

#[test]
fn long_sums_answer() {
    let s = session();
    for n in [1_000, 10_000] {
        let q = plus_chain(n);
        let got = timed(&format!("query {n}-term sum"), Duration::from_secs(20), || answer(&s, &q).unwrap());
        assert_eq!(got, n.to_string());
        let (errors, _) = timed(&format!("check {n}-term sum"), Duration::from_secs(20), || check(q));
        assert!(errors.is_empty(), "{errors:?}");
    }
    // subtraction and datetimes regroup the same way; reals add up in order
    let q = format!("print x = 100 - {}", vec!["1"; 2_000].join(" - "));
    assert_eq!(answer(&s, &q).unwrap(), "-1900");
    let q = format!("print x = datetime(2020-01-01) + {}", vec!["1d"; 1_000].join(" - "));
    assert_eq!(answer(&s, &q).unwrap(), "\"2017-04-08T00:00:00.0000000Z\"");
    let q = format!("print x = {}", vec!["0.5"; 300].join(" + "));
    assert_eq!(answer(&s, &q).unwrap(), "150.0");
    // a type error inside a long chain is still reported at its operator
    let q = format!("print x = {} + 'a'", vec!["1"; 50].join(" + "));
    let err = s.query(&q).unwrap_err();
    assert_eq!(err.code, "KS106");
    assert_eq!(err.span.map(|sp| (sp.start, sp.end)), Some((10, q.len())));
}

#[test]
fn long_or_chains_answer() {
    let s = session();
    for n in [2_000, 5_000] {
        let q = or_chain(n);
        // i * 7 for i in 0..9 is below 2,000: every row matches
        let got = timed(&format!("query {n} ored comparisons"), Duration::from_secs(30), || answer(&s, &q).unwrap());
        assert_eq!(got, "10");
        let (errors, _) = timed(&format!("check {n} ored comparisons"), Duration::from_secs(20), || check(q));
        assert!(errors.is_empty(), "{errors:?}");
    }
    // and-chains too, in `where` (where DataFusion splits and rejoins conjunctions)
    let tests: Vec<String> = (1..3_000).map(|k| format!("i != {}", k * 10)).collect();
    let q = format!("range i from 1 to 25 step 1 | where {} | count", tests.join(" and "));
    assert_eq!(answer(&s, &q).unwrap(), "23");
}

#[test]
fn deep_nesting_answers_up_to_the_limit_and_errs_past_it() {
    let s = session();
    let parens = |n: usize| format!("print x = {}1{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(timed("query 390 parentheses", Duration::from_secs(20), || answer(&s, &parens(390)).unwrap()), "1");
    let calls = |n: usize| format!("print x = {}'a'{}", "strcat(".repeat(n), ")".repeat(n));
    assert_eq!(timed("query 100 nested calls", Duration::from_secs(20), || answer(&s, &calls(100)).unwrap()), "\"a\"");
    let negs = |n: usize| format!("print x = {}1", "-(".repeat(n)) + &")".repeat(n);
    assert_eq!(answer(&s, &negs(150)).unwrap(), "1");
    for (what, q) in [("500 parentheses", parens(500)), ("500 nested calls", calls(500)), ("500 signs", negs(500))] {
        let err = timed(&format!("query {what}"), Duration::from_secs(10), || s.query(&q).unwrap_err());
        assert_eq!(err.code, "KS005", "{what}: {err}");
        assert!(err.message.contains("nests more than 400 levels"), "{what}: {}", err.message);
        let at = err.span.unwrap().start;
        assert!(at > 400 && !q[..at].contains(')'), "{what}: the error points inside the nesting, at {at}");
        let (errors, first) = check(q);
        assert_eq!(errors, ["KS005"], "{what}");
        assert_eq!(first, Some(at), "{what}");
    }
}

#[test]
fn too_many_operators_is_a_syntax_error_at_the_operator() {
    let s = session();
    // 100,001 operands are 100,000 operators: the limit
    let at_limit = format!("print x = {}", vec!["true"; 100_001].join(" or "));
    assert_eq!(timed("query 100,000 ors", Duration::from_secs(60), || answer(&s, &at_limit).unwrap()), "true");
    let past = format!("{at_limit} or false");
    let err = s.query(&past).unwrap_err();
    assert_eq!(err.code, "KS005");
    assert!(err.message.contains("more than 100000 operators"), "{}", err.message);
    assert_eq!(err.span.unwrap().start, at_limit.len() + 1);
    let (errors, first) = check(past);
    assert_eq!((errors, first), (vec!["KS005"], Some(at_limit.len() + 1)));
    // a member chain as long as the limit
    let members = format!("print d = dynamic({{'a': 1}}) | extend y = d{}", ".a".repeat(50_000));
    assert_eq!(answer(&s, &members).unwrap(), "null");
    // pipe operators have a limit of their own
    let pipes = |n: usize| format!("range i from 1 to 3 step 1{} | count", " | where i > 0".repeat(n));
    assert_eq!(
        timed("query 1,999 pipe operators", Duration::from_secs(30), || answer(&s, &pipes(1_999)).unwrap()),
        "3"
    );
    let err = s.query(&pipes(2_000)).unwrap_err();
    assert_eq!(err.code, "KS005");
    assert!(err.message.contains("more than 2000 tabular operators"), "{}", err.message);
    let (errors, _) = check(pipes(2_000));
    assert_eq!(errors, ["KS005"]);
}
