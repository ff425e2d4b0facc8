//! The compact TSV format of the embedded catalog (`kql-exec/data/*.tsv`, written by
//! `scripts/gen-schema-catalog.py`), one record per line, `#` lines are comments:
//!
//! ```text
//! Table<TAB>Col[:type],Col[:type],...
//! Function<TAB>param:type[?|=default],...<TAB>Col[:type],...
//! ```
//!
//! A column without `:type` is a string. A parameter type is a KQL scalar type, `(*)` for any table
//! or `(Col:type,...)`; `?` marks an optional parameter, `=text` one with a default value. A name or
//! default that is empty, has surrounding blanks, starts with `#` or contains one of
//! `\t \n \r , : " \ ( ) = ?` is written as a JSON string literal.

use std::path::Path;

use super::catalog::{FunctionParameter, FunctionSchema, ParamType, SchemaCatalog, TableSchema};
use super::error::SchemaError;
use super::types::KqlType;

pub(crate) const BUILTIN_TABLES: &str = include_str!("../../data/schema-catalog.tsv");
pub(crate) const BUILTIN_FUNCTIONS: &str = include_str!("../../data/function-catalog.tsv");

/// Reads table lines (one tab) and function lines (two tabs).
pub(crate) fn parse_catalog(text: &str, origin: &Path) -> Result<SchemaCatalog, SchemaError> {
    let mut catalog = SchemaCatalog::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let error = |message: String| SchemaError::Tsv { path: origin.to_path_buf(), line: n + 1, message };
        let mut cur = Cursor { s: line, pos: 0 };
        let name = cur.name().map_err(error)?;
        cur.expect('\t').map_err(error)?;
        let first = cur.list().map_err(error)?;
        if cur.eat('\t') {
            let columns = cur.columns().map_err(error)?;
            cur.end().map_err(error)?;
            let parameters = first.into_iter().map(Item::into_parameter).collect();
            catalog.add_function(FunctionSchema { name, parameters, columns });
        } else {
            cur.end().map_err(error)?;
            let columns = first.into_iter().map(Item::into_column).collect::<Result<_, _>>().map_err(error)?;
            catalog.add_table(TableSchema { name, columns });
        }
    }
    Ok(catalog)
}

/// The lines of an embedded table catalog: each table's name and its column list, unparsed.
pub(crate) fn table_lines<'a>(
    text: &'static str,
    origin: &'a Path,
) -> impl Iterator<Item = Result<(String, &'static str), SchemaError>> + 'a {
    text.lines().enumerate().filter(|(_, line)| !line.is_empty() && !line.starts_with('#')).map(move |(n, line)| {
        let error = |message: String| SchemaError::Tsv { path: origin.to_path_buf(), line: n + 1, message };
        let mut cur = Cursor { s: line, pos: 0 };
        let name = cur.name().map_err(error)?;
        cur.expect('\t').map_err(error)?;
        Ok((name, &line[cur.pos..]))
    })
}

/// A column list: `Col[:type],...`.
pub(crate) fn parse_columns(text: &str) -> Result<Vec<(String, KqlType)>, String> {
    let mut cur = Cursor { s: text, pos: 0 };
    let columns = cur.columns()?;
    cur.end()?;
    Ok(columns)
}

/// A column or parameter: `name[:type][?|=default]`.
struct Item {
    name: String,
    ty: ParamType,
    optional: bool,
    default: Option<String>,
}

impl Item {
    fn into_column(self) -> Result<(String, KqlType), String> {
        match self.ty {
            ParamType::Scalar(ty) if !self.optional => Ok((self.name, ty)),
            _ => Err(format!("column {:?}: a table type, `?` or `=` belongs to function parameters", self.name)),
        }
    }

    fn into_parameter(self) -> FunctionParameter {
        FunctionParameter { name: self.name, ty: self.ty, optional: self.optional, default: self.default }
    }
}

const SPECIAL: &[u8] = b"\t\n\r,:\"\\()=?";

/// `SPECIAL` as a table, for the parser's inner loop.
const IS_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < SPECIAL.len() {
        table[SPECIAL[i] as usize] = true;
        i += 1;
    }
    table
};

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c as u8) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected {c:?} at byte {}", self.pos + 1))
        }
    }

    fn end(&self) -> Result<(), String> {
        match self.pos == self.s.len() {
            true => Ok(()),
            false => Err(format!("unexpected {:?} at byte {}", &self.s[self.pos..], self.pos + 1)),
        }
    }

    /// A bare name (up to a special character) or a JSON string literal.
    fn name(&mut self) -> Result<String, String> {
        let bytes = self.s.as_bytes();
        let start = self.pos;
        if self.peek() == Some(b'"') {
            let mut i = start + 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            if i >= bytes.len() {
                return Err(format!("unterminated string at byte {}", start + 1));
            }
            self.pos = i + 1;
            return serde_json::from_str(&self.s[start..self.pos])
                .map_err(|e| format!("bad string at byte {}: {e}", start + 1));
        }
        while self.pos < bytes.len() && !IS_SPECIAL[bytes[self.pos] as usize] {
            self.pos += 1;
        }
        Ok(self.s[start..self.pos].to_string())
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.') {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// `item,item,...` up to a tab, `)` or the end.
    fn list(&mut self) -> Result<Vec<Item>, String> {
        let mut items = Vec::new();
        if matches!(self.peek(), None | Some(b'\t' | b')')) {
            return Ok(items);
        }
        loop {
            items.push(self.item()?);
            if !self.eat(',') {
                return Ok(items);
            }
        }
    }

    fn columns(&mut self) -> Result<Vec<(String, KqlType)>, String> {
        self.list()?.into_iter().map(Item::into_column).collect()
    }

    fn item(&mut self) -> Result<Item, String> {
        let name = self.name()?;
        let mut ty = ParamType::Scalar(KqlType::String);
        if self.eat(':') {
            if self.eat('(') {
                let columns = if self.eat('*') { Vec::new() } else { self.columns()? };
                self.expect(')')?;
                ty = ParamType::Tabular(columns);
            } else {
                let at = self.pos;
                let word = self.word();
                let scalar = KqlType::from_kql_name(word)
                    .or_else(|| KqlType::parse(word))
                    .ok_or_else(|| format!("unknown type {word:?} at byte {}", at + 1))?;
                ty = ParamType::Scalar(scalar);
            }
        }
        let (optional, default) = if self.eat('?') {
            (true, None)
        } else if self.eat('=') {
            (true, Some(self.name()?))
        } else {
            (false, None)
        };
        Ok(Item { name, ty, optional, default })
    }
}

fn quote(name: &str, out: &mut String) {
    let plain = !name.is_empty()
        && name.trim() == name
        && !name.starts_with('#')
        && !name.bytes().any(|b| b < 0x20 || SPECIAL.contains(&b));
    if plain {
        out.push_str(name);
    } else {
        out.push_str(&serde_json::to_string(name).unwrap_or_default());
    }
}

fn write_columns(columns: &[(String, KqlType)], out: &mut String) {
    for (i, (name, ty)) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        quote(name, out);
        if *ty != KqlType::String {
            out.push(':');
            out.push_str(ty.name());
        }
    }
}

pub(crate) fn write_tables<'a>(tables: impl Iterator<Item = &'a TableSchema>) -> String {
    let mut out = String::new();
    for t in tables {
        quote(&t.name, &mut out);
        out.push('\t');
        write_columns(&t.columns, &mut out);
        out.push('\n');
    }
    out
}

pub(crate) fn write_functions(functions: &[FunctionSchema]) -> String {
    let mut out = String::new();
    for f in functions {
        quote(&f.name, &mut out);
        out.push('\t');
        for (i, p) in f.parameters.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            quote(&p.name, &mut out);
            out.push(':');
            match &p.ty {
                ParamType::Scalar(t) => out.push_str(t.name()),
                ParamType::Tabular(columns) if columns.is_empty() => out.push_str("(*)"),
                ParamType::Tabular(columns) => {
                    out.push('(');
                    write_columns(columns, &mut out);
                    out.push(')');
                }
            }
            match &p.default {
                Some(d) => {
                    out.push('=');
                    quote(d, &mut out);
                }
                None if p.optional => out.push('?'),
                None => {}
            }
        }
        out.push('\t');
        write_columns(&f.columns, &mut out);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use KqlType::*;

    #[test]
    fn round_trip() {
        let text = concat!(
            "# comment\n",
            "T\ta,b:long,\"c,d:e\":dynamic,\" padded \",\"#x\"\n",
            "\"Syslog (Digital Guardian)\"\tTimeGenerated:datetime\n",
            "Empty\t\n",
            "F\tt:(*),u:(x:int,y)?,s:string=\"a,b\",d:datetime?,n:long=5\tx:real,y\n",
            "G\t\t\n",
        );
        let cat = SchemaCatalog::from_tsv(text, "test.tsv").unwrap();
        let t = cat.table("T").unwrap();
        assert_eq!(t.column("b"), Some(Long));
        assert_eq!(t.column("c,d:e"), Some(Dynamic));
        assert_eq!(t.column(" padded "), Some(String));
        assert_eq!(t.column("#x"), Some(String));
        assert!(cat.table("Syslog (Digital Guardian)").is_some());
        assert!(cat.table("Empty").unwrap().columns.is_empty());
        let f = cat.function("F").unwrap();
        assert_eq!(f.parameters[0].ty, ParamType::Tabular(vec![]));
        assert_eq!(f.parameters[1].ty, ParamType::Tabular(vec![("x".into(), Int), ("y".into(), String)]));
        assert!(f.parameters[1].optional && !f.parameters[0].optional);
        assert_eq!(f.parameters[2].default.as_deref(), Some("a,b"));
        assert_eq!(f.parameters[4].default.as_deref(), Some("5"));
        assert_eq!(f.columns, vec![("x".into(), Real), ("y".into(), String)]);
        assert!(cat.function("G").unwrap().parameters.is_empty());
        let again = format!("{}{}", cat.tables_tsv(), cat.functions_tsv());
        let body: std::string::String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
        assert_eq!(again, body);
    }

    #[test]
    fn builtin_round_trips() {
        let cat = SchemaCatalog::from_tsv(BUILTIN_TABLES, "schema-catalog.tsv").unwrap();
        let body: std::string::String =
            BUILTIN_TABLES.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
        assert_eq!(cat.tables_tsv(), body);
        let cat = SchemaCatalog::from_tsv(BUILTIN_FUNCTIONS, "function-catalog.tsv").unwrap();
        let body: std::string::String =
            BUILTIN_FUNCTIONS.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
        assert_eq!(cat.functions_tsv(), body);
    }

    #[test]
    fn errors_name_file_and_line() {
        for bad in ["T\ta:nosuchtype\n", "T\n", "T\t\"open\n", "T\ta,b)\n", "F\tp:(x\t\n"] {
            let err = SchemaCatalog::from_tsv(bad, "my.tsv").unwrap_err();
            let msg = err.to_string();
            assert!(msg.starts_with("my.tsv:1: bad catalog line"), "{bad:?}: {msg}");
        }
    }
}
