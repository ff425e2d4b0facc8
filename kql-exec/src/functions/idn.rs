//! Internationalized domain names: `punycode_domain_to_string()` and
//! `punycode_domain_from_string()`, label by label with the `idna` crate's Punycode (RFC 3492).
//!
//! As Kusto does, letters keep their case (`xn--Ge-mia` decodes to `Gáe`, no UTS #46 mapping),
//! labels are split at `.` and at the ideographic and fullwidth full stops (`。`, `．`, `｡`,
//! which encoding turns into `.`), only labels with non-ASCII characters are encoded, and a
//! value that cannot be encoded or decoded gives an empty string.

use super::array::{row_call, Out, V};
use super::BindCtx;
use crate::binder::Bound;
use crate::error::Result;
use crate::schema::KqlType;

/// The label separators of IDNA (RFC 3490 section 3.1).
fn is_dot(c: char) -> bool {
    matches!(c, '.' | '\u{3002}' | '\u{FF0E}' | '\u{FF61}')
}

/// A domain name in Punycode form (`xn--` labels), or `None` if a label cannot be encoded.
pub fn to_punycode(domain: &str) -> Option<String> {
    let mut out = Vec::new();
    for label in domain.split(is_dot) {
        if label.is_ascii() {
            out.push(label.to_string());
        } else {
            out.push(format!("xn--{}", idna::punycode::encode_str(label)?));
        }
    }
    Some(out.join("."))
}

/// A domain name decoded from Punycode form, or `None` if an `xn--` label is not valid Punycode.
pub fn from_punycode(encoded: &str) -> Option<String> {
    let mut out = Vec::new();
    for label in encoded.split(is_dot) {
        match label.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("xn--") => out.push(idna::punycode::decode_to_string(&label[4..])?),
            _ => out.push(label.to_string()),
        }
    }
    Some(out.join("."))
}

fn f_to(a: &[V]) -> Out {
    Out::S(a[0].s().and_then(to_punycode).unwrap_or_default())
}

fn f_from(a: &[V]) -> Out {
    Out::S(a[0].s().and_then(from_punycode).unwrap_or_default())
}

/// Bind the Punycode functions.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let f: super::array::RowFn = match (name, args.len()) {
        ("punycode_domain_to_string", 1) => f_to,
        ("punycode_domain_from_string", 1) => f_from,
        _ => return None,
    };
    let s = ctx.binder.coerce(args[0].clone(), KqlType::String).expr;
    Some(Ok(row_call(&format!("kql_{name}"), KqlType::String, f, vec![s])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_examples() {
        // the documentation pages' examples
        assert_eq!(from_punycode("xn--Ge-mia.Bulg.edu").unwrap(), "Gáe.Bulg.edu");
        assert_eq!(from_punycode("xn--Lin-8na.Celtchair.org").unwrap(), "Lúin.Celtchair.org");
        assert_eq!(from_punycode("xn--Ry-lja8c.xn--Jng-uta63a.xn--Bng-9ka.com").unwrap(), "Rúyì.Jīngū.Bàng.com");
        assert_eq!(to_punycode("Lê Lợi。Thuận Thiên。com").unwrap(), "xn--L Li-gpa4517b.xn--Thun Thin-s4a7194f.com");
        assert_eq!(to_punycode("Riðill｡Skáldskaparmál｡org").unwrap(), "xn--Riill-jta.xn--Skldskaparml-dbbj.org");
        assert_eq!(to_punycode("Kaledvoulc'h.Artorījos.edu").unwrap(), "Kaledvoulc'h.xn--Artorjos-ejb.edu");
    }

    #[test]
    fn bad_input_is_none() {
        assert_eq!(from_punycode("xn--ab\u{e9}"), None);
        assert_eq!(from_punycode("plain.example").unwrap(), "plain.example");
    }
}
