//! Dev tool: load schema files the way kusto-oracle does (lenient) and print them as the
//! catalog TSV, for `tests/data/corpus/oracle-schema-*.tsv`.
//! Usage: cargo run -p kql-exec --example oracle_schema_tsv -- tables|functions PATH...
/// (Files the oracle cannot read as strict JSON, such as ones with trailing commas, are left out by
/// the caller so that the catalog equals what the oracle saw.)
fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().expect("tables|functions");
    let mut cat = kql_exec::schema::SchemaCatalog::new();
    for p in args {
        let (c, errs) = kql_exec::schema::SchemaCatalog::load_path_lenient(&p).expect("load");
        for e in errs {
            eprintln!("skipped: {e}");
        }
        cat.merge(c);
    }
    if what == "tables" {
        print!("{}", cat.tables_tsv());
    } else {
        print!("{}", cat.functions_tsv());
    }
}
