//! A small writer of the MaxMind DB format (binary search tree, data section, metadata), so the
//! tests and sample data can build a GeoIP2-City-shaped `.mmdb` from their own records without
//! anything from outside. It writes an IPv6 tree (IPv4 networks under `::a.b.c.d/96+n`, where
//! readers look them up) with 32-bit records; it is meant for small databases.

use std::net::IpAddr;

/// A value in the MaxMind DB data section.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// UTF-8 string.
    Str(String),
    /// IEEE double.
    Double(f64),
    /// Unsigned 16-bit integer.
    U16(u16),
    /// Unsigned 32-bit integer.
    U32(u32),
    /// Unsigned 64-bit integer.
    U64(u64),
    /// Boolean.
    Bool(bool),
    /// Map with string keys, in order.
    Map(Vec<(String, Value)>),
    /// Array.
    Array(Vec<Value>),
}

fn str_v(s: &str) -> Value {
    Value::Str(s.to_string())
}

fn names(en: &str) -> Value {
    Value::Map(vec![("names".into(), Value::Map(vec![("en".into(), str_v(en))]))])
}

/// One sample record of a GeoIP2-City-shaped database.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CityRecord {
    /// Country name (English).
    pub country: Option<String>,
    /// ISO country code.
    pub iso_code: Option<String>,
    /// First subdivision (state) name.
    pub state: Option<String>,
    /// City name.
    pub city: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
}

impl CityRecord {
    /// A record with every field.
    pub fn new(country: &str, iso_code: &str, state: &str, city: &str, latitude: f64, longitude: f64) -> Self {
        CityRecord {
            country: Some(country.into()),
            iso_code: Some(iso_code.into()),
            state: Some(state.into()),
            city: Some(city.into()),
            latitude: Some(latitude),
            longitude: Some(longitude),
        }
    }

    /// The record as GeoIP2-City data (`country.names.en`, `subdivisions[0].names.en`,
    /// `city.names.en`, `location.latitude`...).
    pub fn to_value(&self) -> Value {
        let mut m = Vec::new();
        if let Some(c) = &self.city {
            m.push(("city".into(), names(c)));
        }
        if self.country.is_some() || self.iso_code.is_some() {
            let mut c = Vec::new();
            if let Some(i) = &self.iso_code {
                c.push(("iso_code".into(), str_v(i)));
            }
            if let Some(n) = &self.country {
                c.push(("names".into(), Value::Map(vec![("en".into(), str_v(n))])));
            }
            m.push(("country".into(), Value::Map(c)));
        }
        if self.latitude.is_some() || self.longitude.is_some() {
            let mut l = vec![("accuracy_radius".into(), Value::U16(100))];
            if let Some(v) = self.latitude {
                l.push(("latitude".into(), Value::Double(v)));
            }
            if let Some(v) = self.longitude {
                l.push(("longitude".into(), Value::Double(v)));
            }
            m.push(("location".into(), Value::Map(l)));
        }
        if let Some(s) = &self.state {
            m.push(("subdivisions".into(), Value::Array(vec![names(s)])));
        }
        Value::Map(m)
    }
}

fn control(out: &mut Vec<u8>, ty: u8, size: usize) {
    let (first, ext): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65536 {
        let v = size - 285;
        (30, vec![(v >> 8) as u8, v as u8])
    } else {
        let v = size - 65821;
        (31, vec![(v >> 16) as u8, (v >> 8) as u8, v as u8])
    };
    if ty <= 7 {
        out.push((ty << 5) | first);
    } else {
        out.push(first);
        out.push(ty - 7);
    }
    out.extend(ext);
}

fn uint(out: &mut Vec<u8>, ty: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, ty, 8 - skip);
    out.extend(&bytes[skip..]);
}

/// Append the encoding of `v`.
pub fn encode(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => {
            control(out, 2, s.len());
            out.extend(s.as_bytes());
        }
        Value::Double(f) => {
            control(out, 3, 8);
            out.extend(f.to_be_bytes());
        }
        Value::U16(n) => uint(out, 5, *n as u64),
        Value::U32(n) => uint(out, 6, *n as u64),
        Value::U64(n) => uint(out, 9, *n),
        Value::Bool(b) => control(out, 14, *b as usize),
        Value::Map(entries) => {
            control(out, 7, entries.len());
            for (k, v) in entries {
                encode(out, &Value::Str(k.clone()));
                encode(out, v);
            }
        }
        Value::Array(items) => {
            control(out, 11, items.len());
            for it in items {
                encode(out, it);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// Write a database of `networks` (address, prefix length, record). IPv4 networks are placed in
/// the IPv4 part of the IPv6 tree. Overlapping networks: the more specific wins.
pub fn write(database_type: &str, networks: &[(IpAddr, u8, Value)]) -> Vec<u8> {
    let mut nets: Vec<(u128, u8, usize)> = networks
        .iter()
        .enumerate()
        .map(|(i, (ip, p, _))| match ip {
            IpAddr::V4(v4) => (u32::from(*v4) as u128, 96 + (*p).min(32), i),
            IpAddr::V6(v6) => (u128::from(*v6), (*p).min(128), i),
        })
        .collect();
    nets.sort_by_key(|n| n.1);
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    for &(addr, prefix, data) in &nets {
        if prefix == 0 {
            continue;
        }
        let mut node = 0;
        for depth in 0..prefix {
            let bit = ((addr >> (127 - depth)) & 1) as usize;
            if depth + 1 == prefix {
                nodes[node][bit] = Rec::Data(data);
                break;
            }
            node = match nodes[node][bit] {
                Rec::Node(n) => n,
                other => {
                    // split an empty or less specific record into a node
                    let fill = if matches!(other, Rec::Data(_)) { other } else { Rec::Empty };
                    nodes.push([fill, fill]);
                    let n = nodes.len() - 1;
                    nodes[node][bit] = Rec::Node(n);
                    n
                }
            };
        }
    }
    // the data section
    let mut data = Vec::new();
    let mut offsets = Vec::with_capacity(networks.len());
    for (_, _, v) in networks {
        offsets.push(data.len());
        encode(&mut data, v);
    }
    let node_count = nodes.len();
    let mut out = Vec::with_capacity(node_count * 8 + 16 + data.len() + 256);
    for n in &nodes {
        for r in n {
            let v = match *r {
                Rec::Empty => node_count,
                Rec::Node(i) => i,
                Rec::Data(d) => node_count + 16 + offsets[d],
            };
            out.extend((v as u32).to_be_bytes());
        }
    }
    out.extend([0u8; 16]);
    out.extend(&data);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    let meta = Value::Map(vec![
        ("binary_format_major_version".into(), Value::U16(2)),
        ("binary_format_minor_version".into(), Value::U16(0)),
        ("build_epoch".into(), Value::U64(1_700_000_000)),
        ("database_type".into(), str_v(database_type)),
        ("description".into(), Value::Map(vec![("en".into(), str_v("kql test database"))])),
        ("ip_version".into(), Value::U16(6)),
        ("languages".into(), Value::Array(vec![str_v("en")])),
        ("node_count".into(), Value::U32(node_count as u32)),
        ("record_size".into(), Value::U16(32)),
    ]);
    encode(&mut out, &meta);
    out
}

/// A GeoIP2-City-shaped database from `(network, record)` pairs, networks as `a.b.c.d/n` or
/// `x:y::/n` (a bare address is a single host). Panics on a malformed network (test data).
pub fn write_city(records: &[(&str, CityRecord)]) -> Vec<u8> {
    let nets: Vec<(IpAddr, u8, Value)> = records
        .iter()
        .map(|(net, r)| {
            let (a, p) = net.split_once('/').unwrap_or((net, ""));
            let ip: IpAddr = a.parse().expect("network address");
            let p = if p.is_empty() {
                if ip.is_ipv4() {
                    32
                } else {
                    128
                }
            } else {
                p.parse().expect("prefix length")
            };
            (ip, p, r.to_value())
        })
        .collect();
    write("GeoLite2-City", &nets)
}

/// The sample records the tests and examples use: the documentation's examples (as Kusto's
/// recorded results have them) and a few public ranges for security samples. Private and
/// reserved ranges are absent, as in real databases.
pub fn sample_city_records() -> Vec<(&'static str, CityRecord)> {
    vec![
        ("20.53.203.0/24", CityRecord::new("Australia", "AU", "New South Wales", "Sydney", -33.8715, 151.2006)),
        ("2a03:2880:f12c::/48", CityRecord::new("United States", "US", "Florida", "Miami", 25.7701, -80.1928)),
        ("8.8.8.0/24", CityRecord::new("United States", "US", "California", "Mountain View", 37.4056, -122.0775)),
        ("1.1.1.0/24", CityRecord::new("Australia", "AU", "Queensland", "Brisbane", -27.4766, 153.0166)),
        ("185.220.101.0/24", CityRecord::new("Germany", "DE", "Brandenburg", "Brandenburg", 52.4167, 12.55)),
        ("45.155.205.0/24", CityRecord::new("Russia", "RU", "Moscow", "Moscow", 55.7483, 37.6171)),
        ("103.75.201.0/24", CityRecord::new("China", "CN", "Beijing", "Beijing", 39.9143, 116.3861)),
        ("89.248.165.0/24", CityRecord::new("Netherlands", "NL", "North Holland", "Amsterdam", 52.3759, 4.8975)),
        ("203.0.113.0/24", CityRecord::new("Brazil", "BR", "Sao Paulo", "São Paulo", -23.5475, -46.6361)),
        ("198.51.100.0/24", CityRecord::new("India", "IN", "Maharashtra", "Mumbai", 19.0728, 72.8826)),
        (
            "192.0.2.0/24",
            CityRecord { country: Some("Iran".into()), iso_code: Some("IR".into()), ..Default::default() },
        ),
    ]
}

/// [`write_city`] of [`sample_city_records`].
pub fn sample_city_db() -> Vec<u8> {
    write_city(&sample_city_records())
}
