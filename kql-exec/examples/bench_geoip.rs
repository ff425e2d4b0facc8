//! Geo-IP lookups per second on a million addresses:
//! `cargo run --release -p kql-exec --example bench_geoip [-- --geoip PATH.mmdb] [--rows N]`.
//!
//! Without `--geoip` it uses the repo's sample database (a few networks: most addresses miss);
//! with a real GeoLite2-City or DB-IP City Lite file it measures the realistic case. It reports
//! the raw lookup (`GeoDb::lookup_text`, one address at a time) and `geo_info_from_ip_address`
//! through the engine over an in-memory table (with its per-batch cache of repeated addresses),
//! both for all-distinct addresses and for a realistic log mix where addresses repeat.

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use kql_exec::binder::Col;
use kql_exec::functions::ipfn::{geoip, mmdb};
use kql_exec::schema::KqlType;
use kql_exec::session::{Catalog, Session, SessionOptions};
use std::sync::Arc;
use std::time::Instant;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// `n` addresses: all distinct-ish (random over the IPv4 space, a quarter inside the sample
/// database's networks), or drawn from a pool of 5,000 as in a day of real logs.
fn addresses(n: usize, repeat: bool) -> Vec<String> {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let known = ["20.53.203", "8.8.8", "1.1.1", "185.220.101", "45.155.205", "103.75.201", "89.248.165"];
    let make = |r: &mut Rng| {
        let x = r.next();
        if x.is_multiple_of(4) {
            format!("{}.{}", known[(x >> 8) as usize % known.len()], (x >> 16) % 256)
        } else {
            let a = (x >> 32) as u32;
            format!("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
        }
    };
    if repeat {
        let pool: Vec<String> = (0..5000).map(|_| make(&mut r)).collect();
        (0..n).map(|_| pool[(r.next() % pool.len() as u64) as usize].clone()).collect()
    } else {
        (0..n).map(|_| make(&mut r)).collect()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let rows: usize = opt("--rows").and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let path = match opt("--geoip") {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let p = std::env::temp_dir().join("kql-bench-sample-city.mmdb");
            std::fs::write(&p, mmdb::sample_city_db()).expect("write the sample database");
            p
        }
    };
    let db = geoip::open_cached(&path).expect("open the database");
    println!("database: {} ({})", path.display(), db.database_type());
    for repeat in [false, true] {
        let ips = addresses(rows, repeat);
        let label = if repeat { "5,000 distinct, repeated" } else { "all distinct" };

        let t = Instant::now();
        let mut found = 0usize;
        for ip in &ips {
            if db.lookup_text(ip).is_some_and(|v| v.len() > 2) {
                found += 1;
            }
        }
        let raw = t.elapsed().as_secs_f64();
        println!(
            "{label:>26}: raw lookup    {:>12.0} lookups/s ({rows} in {raw:.3} s, {found} found)",
            rows as f64 / raw
        );

        let mut catalog = Catalog::default();
        catalog.set_geoip(path.clone());
        let mut session = Session::new(catalog, SessionOptions::default()).expect("session");
        let schema = Arc::new(Schema::new(vec![Field::new("ip", DataType::Utf8, true)]));
        let batches: Vec<RecordBatch> = ips
            .chunks(8192)
            .map(|c| {
                let a = StringArray::from(c.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>());
                RecordBatch::try_new(schema.clone(), vec![Arc::new(a)]).expect("batch")
            })
            .collect();
        session.add_batches("T", vec![Col::new("ip", KqlType::String)], batches).expect("table");
        let q = "T | extend g = geo_info_from_ip_address(ip) | summarize count() by country = tostring(g.country)";
        let t = Instant::now();
        let r = session.query(q).expect("query");
        let eng = t.elapsed().as_secs_f64();
        println!(
            "{label:>26}: engine query  {:>12.0} lookups/s ({rows} in {eng:.3} s, {} countries)",
            rows as f64 / eng,
            r.num_rows()
        );
    }
}
