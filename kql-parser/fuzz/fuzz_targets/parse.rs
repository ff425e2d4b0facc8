//! Fuzz target: any bytes, as UTF-8 text, must parse or fail with a syntax error, and a
//! parsed script must print and re-parse.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(script) = kql_parser::parse(text) {
            let printed = kql_parser::printer::print_script(&script);
            let again = kql_parser::parse(&printed).expect("printed text parses");
            assert_eq!(script, again);
        }
    }
});
