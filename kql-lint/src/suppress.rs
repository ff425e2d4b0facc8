//! Inline suppressions: `// kql: allow(KQLW008) because ...` silences findings of those codes on
//! its line (a comment after code) or on the next line of code (a comment on its own line); before
//! the query's first token it covers the whole query. The older `// kql-ignore: CODE` form is still
//! read (on its line and the next, no reason needed).
//!
//! A suppression without a reason silences nothing and is reported (KQLW013); one that silences
//! nothing is reported too (KQLW014).

use crate::Finding;
use kql_parser::format::token::{tokenize, Kind};
use kql_parser::{LineIndex, Span};

/// What a suppression covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole query (the comment is before its first token).
    Query,
    /// These lines (1-based, inclusive) of the query text.
    Lines(usize, usize),
}

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The codes it names, upper-cased; `*` for every warning (the bare `// kql-ignore`).
    pub codes: Vec<String>,
    /// Why, as written after the codes (`because` dropped); `None` when missing.
    pub reason: Option<String>,
    /// The comment.
    pub span: Span,
    /// What it covers.
    pub scope: Scope,
    /// The older `// kql-ignore` form.
    pub legacy: bool,
}

/// The suppression comments of a query text.
pub fn suppressions(query: &str) -> Vec<Suppression> {
    let (tokens, _) = tokenize(query);
    let idx = LineIndex::new(query);
    let offset = |t: &str| t.as_ptr() as usize - query.as_ptr() as usize;
    let line_of = |at: usize| idx.line_col(query, at).0;
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Comment {
            continue;
        }
        let start = offset(t.text);
        let span = Span { start, end: start + t.text.len() };
        let Some((codes, reason, legacy)) = parse_comment(t.text) else { continue };
        let line = line_of(start);
        let code_before = tokens[..i].iter().rposition(|x| x.kind != Kind::Comment);
        let scope = match code_before {
            None => Scope::Query,
            Some(b) if line_of(offset(tokens[b].text)) == line => {
                Scope::Lines(line, if legacy { line + 1 } else { line })
            }
            Some(_) => {
                let next = tokens[i + 1..].iter().find(|x| x.kind != Kind::Comment).map(|x| line_of(offset(x.text)));
                match next {
                    Some(n) if legacy => Scope::Lines(line, n.max(line + 1)),
                    Some(n) => Scope::Lines(n, n),
                    None => Scope::Lines(line, line),
                }
            }
        };
        out.push(Suppression { codes, reason, span, scope, legacy });
    }
    out
}

/// The codes and reason of a suppression comment (`// kql: allow(A, B) because why`), or the
/// codes of the older `// kql-ignore: A, B`; `None` for other comments.
fn parse_comment(comment: &str) -> Option<(Vec<String>, Option<String>, bool)> {
    let body = comment.strip_prefix("//")?.trim();
    let codes = |list: &str| -> Vec<String> {
        list.split([',', ' ']).map(str::trim).filter(|c| !c.is_empty()).map(str::to_ascii_uppercase).collect()
    };
    if let Some(rest) = body.strip_prefix("kql-ignore") {
        let rest = rest.trim_start_matches(':').trim();
        let mut cs = codes(rest);
        if cs.is_empty() {
            cs.push("*".into());
        }
        return Some((cs, Some("kql-ignore".into()), true));
    }
    let rest = body.strip_prefix("kql:")?.trim_start();
    let rest = rest.strip_prefix("allow")?.trim_start();
    let rest = rest.strip_prefix('(')?;
    let close = rest.find(')')?;
    let cs = codes(&rest[..close]);
    let why = rest[close + 1..].trim().trim_start_matches(['-', ':', ',']).trim();
    let why = why.strip_prefix("because").map(str::trim).unwrap_or(why);
    let reason = (!why.is_empty()).then(|| why.to_string());
    Some((cs, reason, false))
}

/// A finding to be checked against the suppressions: its code and where it starts.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The code.
    pub code: &'a str,
    /// Its start in the query text, if it has a place.
    pub at: Option<usize>,
}

/// Which candidates the suppressions of `query` silence (one flag per candidate), and the
/// suppressions' own findings (KQLW013, KQLW014).
pub fn apply(query: &str, candidates: &[Candidate<'_>]) -> (Vec<bool>, Vec<Finding>) {
    let idx = LineIndex::new(query);
    let mut silenced = vec![false; candidates.len()];
    let mut findings = Vec::new();
    for s in suppressions(query) {
        if !s.legacy && s.reason.is_none() {
            findings.push(
                Finding::new(
                    crate::rules::suppression_without_reason::LINT.code,
                    "this suppression gives no reason, so it silences nothing",
                    s.span,
                )
                .help(format!("say why: `// kql: allow({}) because ...`", s.codes.join(", "))),
            );
            continue;
        }
        let mut used = false;
        for (c, flag) in candidates.iter().zip(silenced.iter_mut()) {
            // errors are never silenced, nor the suppressions' own findings
            let silenceable = c.code.starts_with("KQLW") && !matches!(c.code, "KQLW013" | "KQLW014");
            let named = s.codes.iter().any(|x| x == "*" || x.eq_ignore_ascii_case(c.code));
            let inside = match (s.scope, c.at) {
                (Scope::Query, _) => true,
                (Scope::Lines(a, b), Some(at)) => (a..=b).contains(&idx.line_col(query, at).0),
                (Scope::Lines(..), None) => false,
            };
            if silenceable && named && inside {
                *flag = true;
                used = true;
            }
        }
        if !used && !s.legacy {
            let not_lints: Vec<&String> = s.codes.iter().filter(|c| crate::find(c).is_none()).collect();
            let message = if not_lints.is_empty() {
                format!("this suppression of {} silences nothing here", s.codes.join(", "))
            } else {
                format!(
                    "this suppression names {}, which {} not a lint code (errors cannot be silenced)",
                    not_lints.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
                    if not_lints.len() == 1 { "is" } else { "are" }
                )
            };
            findings.push(
                Finding::new(crate::rules::unused_suppression::LINT.code, message, s.span)
                    .help("remove it, or move it to the line of the finding it is for"),
            );
        }
    }
    (silenced, findings)
}

/// `items` without those the suppressions of `query` silence, and the suppressions' own
/// findings: [`apply`] for any finding type, `candidate` telling each one's code and place.
pub fn filter<T>(query: &str, items: Vec<T>, candidate: impl Fn(&T) -> Candidate<'_>) -> (Vec<T>, Vec<Finding>) {
    let (silenced, findings) = {
        let candidates: Vec<Candidate<'_>> = items.iter().map(&candidate).collect();
        apply(query, &candidates)
    };
    let kept = items.into_iter().zip(silenced).filter(|(_, s)| !s).map(|(i, _)| i).collect();
    (kept, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str, at: usize) -> Candidate<'_> {
        Candidate { code, at: Some(at) }
    }

    #[test]
    fn comments_are_read_with_their_codes_reasons_and_scopes() {
        let q = "// kql: allow(KQLW004) because scheduled\nT\n| where a contains \"xyz\" // kql: allow(kqlw007, KQLW010): terms\n// kql: allow(KQLW008)\n| join (U) on k";
        let s = suppressions(q);
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].codes.clone(), s[0].reason.as_deref(), s[0].scope),
            (vec!["KQLW004".to_string()], Some("scheduled"), Scope::Query)
        );
        assert_eq!(
            (s[1].codes.clone(), s[1].reason.as_deref(), s[1].scope),
            (vec!["KQLW007".to_string(), "KQLW010".into()], Some("terms"), Scope::Lines(3, 3))
        );
        assert_eq!((s[2].reason.as_deref(), s[2].scope), (None, Scope::Lines(5, 5)));
    }

    #[test]
    fn a_suppression_silences_its_code_on_its_line_only() {
        let q = "T\n// kql: allow(KQLW008) because one row per key\n| join (U) on k\n| join (V) on k";
        let j1 = q.find("join").unwrap();
        let j2 = q.rfind("join").unwrap();
        let (silenced, findings) = apply(q, &[c("KQLW008", j1), c("KQLW008", j2), c("KQLW007", j1), c("KQL001", j1)]);
        assert_eq!(silenced, [true, false, false, false]);
        assert!(findings.is_empty());
    }

    #[test]
    fn without_a_reason_nothing_is_silenced_and_it_is_reported() {
        let q = "T\n| join (U) on k // kql: allow(KQLW008)";
        let (silenced, findings) = apply(q, &[c("KQLW008", 4)]);
        assert_eq!(silenced, [false]);
        assert_eq!(findings.iter().map(|f| f.code).collect::<Vec<_>>(), ["KQLW013"]);
    }

    #[test]
    fn an_unused_or_unknown_suppression_is_reported() {
        let q = "T // kql: allow(KQLW008) because x\n| take 1 // kql: allow(KQL005) because y";
        let (_, findings) = apply(q, &[]);
        assert_eq!(findings.len(), 2);
        assert!(findings[0].message.contains("silences nothing"));
        assert!(findings[1].message.contains("not a lint code"), "{}", findings[1].message);
    }

    #[test]
    fn the_older_kql_ignore_form_covers_its_line_and_the_next() {
        let q = "T\n| where a != 0 // kql-ignore: KQLW001\n| where b != 0\n| where c != 0";
        let at = |s: &str| q.find(s).unwrap();
        let (silenced, findings) =
            apply(q, &[c("KQLW001", at("a !=")), c("KQLW001", at("b !=")), c("KQLW001", at("c !="))]);
        assert_eq!(silenced, [true, true, false]);
        assert!(findings.is_empty());
        let (silenced, _) = apply("// kql-ignore\nT | where a != 0", &[c("KQLW001", 20)]);
        assert_eq!(silenced, [true]);
    }

    #[test]
    fn comment_text_inside_strings_is_not_a_suppression() {
        assert!(suppressions("T | where a == \"// kql: allow(KQLW007) because x\"").is_empty());
    }
}
