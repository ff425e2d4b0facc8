//! Dev helper: parse every query of a JSONL file (`query` or `kql` field) and print failures.
use std::io::BufRead;
fn main() {
    let path = std::env::args().nth(1).expect("path");
    let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let (mut ok, mut bad) = (0, 0);
    for line in f.lines() {
        let line = line.unwrap();
        let q = extract(&line, "\"query\": \"").or_else(|| extract(&line, "\"kql\": \"")).unwrap_or_default();
        let id = extract(&line, "\"id\": \"").or_else(|| extract(&line, "\"path\": \"")).unwrap_or_default();
        match kql_parser::parse(&q) {
            Ok(_) => {
                ok += 1;
                if std::env::var("RT").is_ok() {
                    if let Err(e) = roundtrip(&q) {
                        println!("RT {id}: {e}");
                    }
                }
            }
            Err(e) => {
                bad += 1;
                println!("{id}\t{}:{}\t{}", e.line, e.col, e.message);
            }
        }
    }
    println!("ok {ok} bad {bad}");
}
fn extract(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let mut out = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let h: String = chars.by_ref().take(4).collect();
                    let v = u32::from_str_radix(&h, 16).ok()?;
                    if (0xD800..0xDC00).contains(&v) {
                        let _ = chars.next();
                        let _ = chars.next();
                        let h2: String = chars.by_ref().take(4).collect();
                        let lo = u32::from_str_radix(&h2, 16).ok()?;
                        out.push(char::from_u32(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or('?'));
                    } else {
                        out.push(char::from_u32(v).unwrap_or('?'));
                    }
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}
#[allow(dead_code)]
fn roundtrip(q: &str) -> Result<(), String> {
    let a = kql_parser::parse(q).map_err(|e| e.to_string())?;
    let printed = kql_parser::printer::print_script(&a);
    let b = kql_parser::parse(&printed).map_err(|e| format!("reparse: {e}\n{printed}"))?;
    if a != b {
        let (da, db) = (nospan(&format!("{a:?}")), nospan(&format!("{b:?}")));
        let n = da.bytes().zip(db.bytes()).take_while(|(x, y)| x == y).count();
        let lo = n.saturating_sub(150);
        return Err(format!(
            "AST differs after print:\n{}\n---\n{}",
            &da[lo..(n + 100).min(da.len())],
            &db[lo..(n + 100).min(db.len())]
        ));
    }
    Ok(())
}

fn nospan(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("span: Span {") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap();
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}
