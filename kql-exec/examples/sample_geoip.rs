//! Write the sample geo-IP database (MaxMind DB format, GeoIP2-City shape) that the tests, the
//! rule pack and the examples use: `cargo run -p kql-exec --example sample_geoip -- PATH`.
//! Its records are `kql_exec::functions::ipfn::mmdb::sample_city_records()`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: sample_geoip PATH.mmdb");
        std::process::exit(2);
    };
    if let Err(e) = std::fs::write(&path, kql_exec::functions::ipfn::mmdb::sample_city_db()) {
        eprintln!("error: {path}: {e}");
        std::process::exit(1);
    }
    println!("wrote {path}");
}
