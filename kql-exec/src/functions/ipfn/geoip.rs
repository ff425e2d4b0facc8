//! `geo_info_from_ip_address()` over a MaxMind-format database (GeoLite2-City, DB-IP City Lite
//! or any GeoIP2-City-compatible `.mmdb`), memory-mapped, opened once per path, with decoded
//! records cached by their data-section offset.

use super::addr;
use maxminddb::{path, Reader};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// The environment variable naming the database (the CLI's `--geoip PATH` sets it).
pub const ENV_VAR: &str = "KQL_GEOIP_DB";

/// How to get a database, for the error when none is configured.
pub const HOW_TO_GET: &str = "get a MaxMind-format city database (.mmdb): \
GeoLite2-City from https://dev.maxmind.com/geoip/geolite2-free-geolocation-data (free account) \
or DB-IP City Lite from https://db-ip.com/db/download/ip-to-city-lite (no account), then pass \
--geoip PATH or set KQL_GEOIP_DB=PATH";

/// The bytes of a database: a memory map of a file, or a buffer (tests).
pub struct Bytes(Box<dyn AsRef<[u8]> + Send + Sync>);

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

/// An open database and its record cache.
pub struct GeoDb {
    reader: Reader<Bytes>,
    cache: RwLock<HashMap<usize, Arc<str>>>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GeoDb({})", self.reader.metadata().database_type)
    }
}

const EMPTY_BAG: &str = "{}";

impl GeoDb {
    /// A database from its bytes.
    pub fn from_bytes(buf: Vec<u8>) -> Result<GeoDb, String> {
        let reader = Reader::from_source(Bytes(Box::new(buf))).map_err(|e| e.to_string())?;
        Ok(GeoDb { reader, cache: RwLock::new(HashMap::new()) })
    }

    /// A database file, memory-mapped.
    pub fn open(path: &Path) -> Result<GeoDb, String> {
        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        // SAFETY: the map is read-only; the database file must not be truncated or rewritten
        // while the engine runs (databases are replaced by writing a new file and renaming).
        let map = unsafe { maxminddb::Mmap::map(&file) }.map_err(|e| e.to_string())?;
        let reader = Reader::from_source(Bytes(Box::new(map))).map_err(|e| e.to_string())?;
        Ok(GeoDb { reader, cache: RwLock::new(HashMap::new()) })
    }

    /// The database type from its metadata (`GeoLite2-City`, `DBIP-City-Lite`...).
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// Kusto's value for the text `ip`: `None` (null) when it is not an IP address, `{}` when
    /// the database has nothing for it (private and reserved ranges included), otherwise
    /// `{"country", "state", "city", "latitude", "longitude"}` (strings empty when unknown,
    /// coordinates left out when unknown).
    pub fn lookup_text(&self, ip: &str) -> Option<Arc<str>> {
        let ip = parse_ip(ip)?;
        Some(self.lookup(ip))
    }

    /// The value for an address (see [`GeoDb::lookup_text`]).
    pub fn lookup(&self, ip: IpAddr) -> Arc<str> {
        let Ok(found) = self.reader.lookup(ip) else { return Arc::from(EMPTY_BAG) };
        let Some(offset) = found.offset() else { return Arc::from(EMPTY_BAG) };
        if let Some(v) = self.cache.read().ok().and_then(|c| c.get(&offset).cloned()) {
            return v;
        }
        let s = |p: &[maxminddb::PathElement]| found.decode_path::<String>(p).ok().flatten().unwrap_or_default();
        let f = |p: &[maxminddb::PathElement]| found.decode_path::<f64>(p).ok().flatten();
        let country = s(&path!["country", "names", "en"]);
        let state = s(&path!["subdivisions", 0, "names", "en"]);
        let city = s(&path!["city", "names", "en"]);
        let lat = f(&path!["location", "latitude"]);
        let lon = f(&path!["location", "longitude"]);
        let mut out = String::with_capacity(96);
        out.push_str("{\"country\":");
        out.push_str(&crate::value::dynamic::json_string(&country));
        out.push_str(",\"state\":");
        out.push_str(&crate::value::dynamic::json_string(&state));
        out.push_str(",\"city\":");
        out.push_str(&crate::value::dynamic::json_string(&city));
        for (k, v) in [("latitude", lat), ("longitude", lon)] {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                out.push_str(&format!(
                    ",\"{k}\":{}",
                    serde_json::Number::from_f64(v).map(|n| n.to_string()).unwrap_or_default()
                ));
            }
        }
        out.push('}');
        let v: Arc<str> = Arc::from(out);
        if let Ok(mut c) = self.cache.write() {
            if c.len() < 1_000_000 {
                c.insert(offset, v.clone());
            }
        }
        v
    }
}

/// An IP address as `geo_info_from_ip_address` reads it: IPv4, IPv6, IPv4-mapped IPv6 (looked
/// up as IPv4); a `/prefix` is ignored (the network's address is looked up).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let v = addr::parse_v6(s)?;
    let a = v.masked();
    if a >> 32 == 0xffff {
        return Some(IpAddr::V4(Ipv4Addr::from(a as u32)));
    }
    Some(IpAddr::V6(Ipv6Addr::from(a)))
}

/// The database at `path`, opened once per process.
pub fn open_cached(path: &Path) -> Result<Arc<GeoDb>, String> {
    static DBS: OnceLock<Mutex<HashMap<PathBuf, Arc<GeoDb>>>> = OnceLock::new();
    let dbs = DBS.get_or_init(Default::default);
    let mut m = dbs.lock().map_err(|_| "geoip cache poisoned".to_string())?;
    if let Some(db) = m.get(path) {
        return Ok(db.clone());
    }
    let db = Arc::new(GeoDb::open(path)?);
    m.insert(path.to_path_buf(), db.clone());
    Ok(db)
}

/// The configured database: `chosen` (a session's `--geoip`), else [`ENV_VAR`]; `Ok(None)`
/// when neither names one.
pub fn configured(chosen: Option<&Path>) -> Result<Option<Arc<GeoDb>>, String> {
    let path = chosen.map(Path::to_path_buf).or_else(|| std::env::var_os(ENV_VAR).map(PathBuf::from));
    match path {
        Some(path) if !path.as_os_str().is_empty() => {
            open_cached(&path).map(Some).map_err(|e| format!("cannot open the geoip database {}: {e}", path.display()))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::super::mmdb;
    use super::*;

    #[test]
    fn lookups_from_a_written_database() {
        let db = GeoDb::from_bytes(mmdb::sample_city_db()).expect("db");
        assert_eq!(db.database_type(), "GeoLite2-City");
        assert_eq!(
            db.lookup_text("20.53.203.50").as_deref(),
            Some(
                r#"{"country":"Australia","state":"New South Wales","city":"Sydney","latitude":-33.8715,"longitude":151.2006}"#
            )
        );
        assert_eq!(
            db.lookup_text("2a03:2880:f12c:83:face:b00c::25de").as_deref(),
            Some(
                r#"{"country":"United States","state":"Florida","city":"Miami","latitude":25.7701,"longitude":-80.1928}"#
            )
        );
        // IPv4-mapped IPv6 is looked up as IPv4; a second lookup comes from the cache
        let a = db.lookup_text("::ffff:20.53.203.1").expect("value");
        let b = db.lookup_text("20.53.203.2").expect("value");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(db.lookup_text("10.1.2.3").as_deref(), Some("{}"));
        assert_eq!(db.lookup_text("20.53.204.1").as_deref(), Some("{}"));
        assert_eq!(db.lookup_text("::1").as_deref(), Some("{}"));
        assert_eq!(db.lookup_text("not an ip"), None);
        assert_eq!(db.lookup_text(""), None);
        assert_eq!(db.lookup_text("192.0.2.7").as_deref(), Some(r#"{"country":"Iran","state":"","city":""}"#));
    }

    #[test]
    fn nested_networks_and_v6() {
        let recs = vec![
            ("10.0.0.0/8", mmdb::CityRecord::new("A", "AA", "s", "c1", 1.0, 2.0)),
            ("10.1.0.0/16", mmdb::CityRecord::new("B", "BB", "s", "c2", 1.5, 2.5)),
            ("2001:db8::/32", mmdb::CityRecord::new("C", "CC", "s", "c3", 3.0, 4.0)),
        ];
        let db = GeoDb::from_bytes(mmdb::write_city(&recs)).expect("db");
        assert!(db.lookup_text("10.2.3.4").unwrap().contains("\"c1\""));
        assert!(db.lookup_text("10.1.3.4").unwrap().contains("\"c2\""));
        assert!(db.lookup_text("2001:db8:1::5").unwrap().contains("\"c3\""));
        assert_eq!(db.lookup_text("2001:db9::5").as_deref(), Some("{}"));
        assert_eq!(db.lookup_text("11.0.0.1").as_deref(), Some("{}"));
    }

    /// Writes the sample database to `$KQL_GEOIP_SAMPLE_OUT` (for manual runs:
    /// `KQL_GEOIP_SAMPLE_OUT=/tmp/city.mmdb cargo test -p kql-exec write_sample_geoip_db -- --ignored`).
    #[test]
    #[ignore]
    fn write_sample_geoip_db() {
        if let Some(p) = std::env::var_os("KQL_GEOIP_SAMPLE_OUT") {
            std::fs::write(p, mmdb::sample_city_db()).expect("write");
        }
    }

    #[test]
    fn opens_a_file_by_memory_map() {
        let dir = std::env::temp_dir().join(format!("kql-geoip-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("city.mmdb");
        std::fs::write(&p, mmdb::sample_city_db()).expect("write");
        let db = open_cached(&p).expect("open");
        assert!(db.lookup_text("8.8.8.8").unwrap().contains("Mountain View"));
        assert!(Arc::ptr_eq(&db, &open_cached(&p).expect("again")));
        assert!(open_cached(&dir.join("missing.mmdb")).is_err());
    }
}
