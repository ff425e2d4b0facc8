//! Kusto's checks of a built-in function's argument types, from the parameter kinds of its
//! signatures in Kusto's catalog (`data/kusto-functions.json`): `sqrt('a')` is KS137 ("The
//! expression value must be a number."), `startofday(1)` KS107 ("A value of type datetime
//! expected."), `abs(dynamic(1))` KS127 (no signature takes a dynamic). Without these, such a
//! call reached the function's body and failed at run time, or answered nonsense.
//!
//! The checks follow Kusto.Language's: the signatures that take as many arguments as the call
//! has are the candidates; with one candidate, each argument that does not fit its parameter is
//! an error at the argument; with several, a call that fits none is KS127 at the function's name.
//! Only the parameter kinds whose rule is plain are checked (declared types, numbers, integers);
//! the others (common types, orderables, summables...) accept every argument.

use crate::binder::Bound;
use crate::error::KqlError;
use crate::schema::KqlType;
use kql_parser::Span;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What one parameter accepts.
#[derive(Debug, Clone, PartialEq)]
enum Accepts {
    /// One of these declared types (Kusto's implicit conversions apply).
    Declared(Vec<KqlType>),
    /// int, long, real or decimal.
    Number,
    /// int or long (and, as Kusto's engine takes them, real and decimal).
    Integer,
    /// Anything this module does not check.
    Any,
}

/// One signature: its parameters, and how many of them a call must give.
#[derive(Debug, Clone)]
struct Signature {
    params: Vec<Accepts>,
    required: usize,
}

fn signatures() -> &'static HashMap<String, Vec<Signature>> {
    static S: OnceLock<HashMap<String, Vec<Signature>>> = OnceLock::new();
    S.get_or_init(|| {
        let v = super::catalog::raw();
        let mut out = HashMap::new();
        for f in v["functions"].as_array().into_iter().flatten() {
            if f["kind"].as_str() != Some("scalar") {
                continue;
            }
            let Some(name) = f["name"].as_str() else { continue };
            let mut sigs = Vec::new();
            'sig: for s in f["signatures"].as_array().into_iter().flatten() {
                let mut params = Vec::new();
                let mut required = 0;
                for p in s["params"].as_array().into_iter().flatten() {
                    // a repeated parameter (`strcat(a, ...)`): not checked
                    if p["max"].as_u64() != Some(1) {
                        continue 'sig;
                    }
                    if p["min"].as_u64() == Some(1) {
                        required += 1;
                    }
                    params.push(accepts(p));
                }
                sigs.push(Signature { params, required });
            }
            // a function with a repeated parameter in any signature is left unchecked
            if sigs.len() == f["signatures"].as_array().map_or(0, |a| a.len()) && !sigs.is_empty() {
                out.insert(name.to_string(), sigs.clone());
                for alt in f["alt_names"].as_array().into_iter().flatten() {
                    if let Some(a) = alt.as_str() {
                        out.entry(a.to_string()).or_insert_with(|| sigs.clone());
                    }
                }
            }
        }
        out
    })
}

fn accepts(p: &serde_json::Value) -> Accepts {
    match p["type_kind"].as_str() {
        Some("Number") => Accepts::Number,
        Some("Integer") => Accepts::Integer,
        Some("Declared") => {
            let mut types = Vec::new();
            for t in p["types"].as_array().into_iter().flatten() {
                match t.as_str().and_then(KqlType::parse) {
                    Some(t) => types.push(t),
                    // `type` markers and anything unknown: not checked
                    None => return Accepts::Any,
                }
            }
            if types.is_empty() {
                Accepts::Any
            } else {
                Accepts::Declared(types)
            }
        }
        _ => Accepts::Any,
    }
}

fn numeric(t: KqlType) -> bool {
    matches!(t, KqlType::Int | KqlType::Long | KqlType::Real | KqlType::Decimal)
}

/// Whether an argument of type `arg` may be passed where `want` is declared.
fn converts(arg: KqlType, want: KqlType) -> bool {
    arg == want
        || want == KqlType::Dynamic
        || (want == KqlType::String && arg == KqlType::Dynamic)
        || (numeric(want) && numeric(arg))
}

/// Why an argument does not fit a parameter (Kusto's code and message), or `None`.
fn misfit(a: &Accepts, arg: KqlType) -> Option<(&'static str, String)> {
    match a {
        Accepts::Any => None,
        Accepts::Number if numeric(arg) => None,
        Accepts::Number => Some(("KS137", "The expression value must be a number.".into())),
        // Kusto's analyzer also refuses a real here, but its engine takes one (the docs'
        // `make_timespan(1, 12, 30, 55.123)` answers `1.12:30:55.1230000`): only a
        // non-number is refused.
        Accepts::Integer if numeric(arg) => None,
        Accepts::Integer => Some(("KS134", "The expression value must be an integer.".into())),
        Accepts::Declared(ts) if ts.iter().any(|t| converts(arg, *t)) => None,
        Accepts::Declared(ts) => {
            let names: Vec<&str> = ts.iter().map(|t| t.name()).collect();
            Some(match names.as_slice() {
                [one] => ("KS107", format!("A value of type {one} expected.")),
                _ => ("KS141", format!("The expression must have one of the types: {}.", names.join(" or "))),
            })
        }
    }
}

/// The argument type errors of a call of the built-in scalar function `name`: empty when the
/// call fits one of its signatures (or the function is not checked). `checked[i]` is false for
/// an argument whose type is not known (a name that did not resolve), which fits anything.
pub fn check(name: &str, name_span: Span, args: &[Bound], arg_spans: &[Span], checked: &[bool]) -> Vec<KqlError> {
    let Some(sigs) = signatures().get(name) else { return Vec::new() };
    let candidates: Vec<&Signature> =
        sigs.iter().filter(|s| args.len() >= s.required && args.len() <= s.params.len()).collect();
    let fits =
        |s: &Signature| args.iter().zip(&s.params).zip(checked).all(|((b, p), c)| !c || misfit(p, b.ty).is_none());
    match candidates.as_slice() {
        [] => Vec::new(),
        [one] => args
            .iter()
            .zip(&one.params)
            .zip(arg_spans)
            .zip(checked)
            .filter(|(_, c)| **c)
            .filter_map(|(((b, p), span), _)| misfit(p, b.ty).map(|(code, msg)| KqlError::new(code, msg, *span)))
            .collect(),
        many if many.iter().any(|s| fits(s)) => Vec::new(),
        _ => {
            let types: Vec<&str> = args.iter().map(|b| b.ty.name()).collect();
            vec![KqlError::new(
                "KS127",
                format!("The function '{name}' is not compatible with arguments ({})", types.join(", ")),
                name_span,
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::lit;

    fn b(t: KqlType) -> Bound {
        Bound::new(lit(1), t)
    }

    fn codes(name: &str, tys: &[KqlType]) -> Vec<&'static str> {
        let args: Vec<Bound> = tys.iter().map(|t| b(*t)).collect();
        let spans = vec![Span::default(); tys.len()];
        let checked = vec![true; tys.len()];
        check(name, Span::default(), &args, &spans, &checked).into_iter().map(|e| e.code).collect()
    }

    #[test]
    fn kusto_verdicts_on_argument_types() {
        use KqlType::*;
        assert_eq!(codes("sqrt", &[String]), ["KS137"]);
        assert_eq!(codes("sqrt", &[Long]), Vec::<&str>::new());
        assert_eq!(codes("startofday", &[Long]), ["KS107"]);
        assert_eq!(codes("startofday", &[DateTime, Int]), Vec::<&str>::new());
        assert_eq!(codes("abs", &[Dynamic]), ["KS127"]);
        assert_eq!(codes("abs", &[TimeSpan]), Vec::<&str>::new());
        assert_eq!(codes("bin", &[DateTime, Long]), ["KS127"]);
        assert_eq!(codes("bin", &[DateTime, TimeSpan]), Vec::<&str>::new());
        assert_eq!(codes("substring", &[String, Bool]), ["KS134"]);
        assert!(codes("make_timespan", &[Int, Int, Int, Real]).is_empty());
        assert_eq!(codes("geo_s2cell_neighbors", &[Dynamic]), Vec::<&str>::new());
        assert_eq!(codes("replace_string", &[Long, String, String]), ["KS107"]);
        assert_eq!(codes("iff", &[Long, Long, Long]), ["KS107"]);
        // unknown functions and repeated parameters are not checked
        assert!(codes("strcat", &[Dynamic, Bool]).is_empty());
        assert!(codes("no_such_function", &[Bool]).is_empty());
    }
}
