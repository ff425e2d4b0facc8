//! GeoJSON (and WKT) in and out: lines and polygons as coordinate lists.

use super::sphere::LL;
use crate::value::dynamic as dj;
use serde_json::Value;

/// A line string: its `(lng, lat)` vertices.
pub type Line = Vec<LL>;
/// A polygon: its rings (shell first), each closed (last vertex repeats the first).
pub type Poly = Vec<Vec<LL>>;

fn valid_point((lng, lat): LL) -> bool {
    lng.is_finite() && lat.is_finite() && (-90.0..=90.0).contains(&lat)
}

/// Whether `(lng, lat)` is a valid point argument (longitude in [-180, 180]).
pub fn valid_arg(lng: f64, lat: f64) -> bool {
    lng.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat)
}

fn coord(v: &Value) -> Option<LL> {
    let a = v.as_array()?;
    if a.len() < 2 || a.len() > 3 {
        return None;
    }
    let p = (a[0].as_f64()?, a[1].as_f64()?);
    valid_point(p).then_some(p)
}

fn coords(v: &Value) -> Option<Line> {
    v.as_array()?.iter().map(coord).collect()
}

fn parse(raw: &str) -> Option<(String, Value)> {
    let v: Value = serde_json::from_str(raw).ok()?;
    let t = v.get("type")?.as_str()?.to_string();
    let c = v.get("coordinates")?.clone();
    Some((t, c))
}

fn line(v: &Value) -> Option<Line> {
    let l = coords(v)?;
    (l.len() >= 2).then_some(l)
}

/// The line strings of a `LineString` or `MultiLineString`.
pub fn lines(raw: &str) -> Option<Vec<Line>> {
    let (t, c) = parse(raw)?;
    match t.as_str() {
        "LineString" => Some(vec![line(&c)?]),
        "MultiLineString" => {
            let ls = c.as_array()?.iter().map(line).collect::<Option<Vec<_>>>()?;
            (!ls.is_empty()).then_some(ls)
        }
        _ => None,
    }
}

fn distinct(ring: &[LL]) -> usize {
    let mut n = 0;
    for (i, p) in ring.iter().enumerate() {
        if !ring[..i].contains(p) {
            n += 1;
        }
    }
    n
}

fn ring(v: &Value) -> Option<Vec<LL>> {
    let r = coords(v)?;
    if r.len() < 4 || r.first() != r.last() || distinct(&r) < 3 {
        return None;
    }
    Some(r)
}

fn poly(v: &Value) -> Option<Poly> {
    let rs = v.as_array()?.iter().map(ring).collect::<Option<Vec<_>>>()?;
    (!rs.is_empty()).then_some(rs)
}

/// The polygons of a `Polygon` or `MultiPolygon`.
pub fn polys(raw: &str) -> Option<Vec<Poly>> {
    let (t, c) = parse(raw)?;
    let ps = match t.as_str() {
        "Polygon" => vec![poly(&c)?],
        "MultiPolygon" => c.as_array()?.iter().map(poly).collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    // a polygon of zero area (all vertices on one great circle) is invalid
    for p in &ps {
        let v: Vec<_> = p[0][..p[0].len() - 1].iter().map(|&x| super::sphere::to_p(x)).collect();
        if super::sphere::loop_signed_area(&v) == 0.0 {
            return None;
        }
    }
    (!ps.is_empty()).then_some(ps)
}

fn num(x: f64) -> String {
    dj::json_from_f64(x)
}

fn pt_json((lng, lat): LL) -> String {
    format!("[{},{}]", num(lng), num(lat))
}

fn list_json(l: &[LL]) -> String {
    format!("[{}]", l.iter().map(|&p| pt_json(p)).collect::<Vec<_>>().join(","))
}

/// A GeoJSON point.
pub fn point_json(p: LL) -> String {
    format!("{{\"type\":\"Point\",\"coordinates\":{}}}", pt_json(p))
}

/// A GeoJSON line string.
pub fn line_json(l: &[LL]) -> String {
    format!("{{\"type\":\"LineString\",\"coordinates\":{}}}", list_json(l))
}

/// A GeoJSON multi line string.
pub fn multiline_json(ls: &[Line]) -> String {
    let parts: Vec<String> = ls.iter().map(|l| list_json(l)).collect();
    format!("{{\"type\":\"MultiLineString\",\"coordinates\":[{}]}}", parts.join(","))
}

fn poly_coords(p: &Poly) -> String {
    format!("[{}]", p.iter().map(|r| list_json(r)).collect::<Vec<_>>().join(","))
}

/// A GeoJSON polygon.
pub fn polygon_json(p: &Poly) -> String {
    format!("{{\"type\":\"Polygon\",\"coordinates\":{}}}", poly_coords(p))
}

/// A GeoJSON multi polygon.
pub fn multipolygon_json(ps: &[Poly]) -> String {
    let parts: Vec<String> = ps.iter().map(poly_coords).collect();
    format!("{{\"type\":\"MultiPolygon\",\"coordinates\":[{}]}}", parts.join(","))
}

/// An empty geometry collection.
pub fn empty_json() -> String {
    "{\"type\":\"GeometryCollection\",\"geometries\":[]}".to_string()
}

// ---------------------------------------------------------------------------------------------
// WKT
// ---------------------------------------------------------------------------------------------

struct Wkt<'a> {
    s: &'a [u8],
    i: usize,
}

impl Wkt<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn word(&mut self) -> String {
        self.ws();
        let st = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_alphabetic() {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[st..self.i]).to_ascii_uppercase()
    }
    fn number(&mut self) -> Option<f64> {
        self.ws();
        let st = self.i;
        while self.i < self.s.len() && matches!(self.s[self.i], b'0'..=b'9' | b'.' | b'-' | b'+' | b'e' | b'E') {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[st..self.i]).ok()?.parse().ok()
    }
    fn point(&mut self) -> Option<LL> {
        let x = self.number()?;
        let y = self.number()?;
        // an optional z
        self.ws();
        if matches!(self.s.get(self.i), Some(b'0'..=b'9' | b'-' | b'.')) {
            self.number()?;
        }
        valid_point((x, y)).then_some((x, y))
    }
    fn list<T>(&mut self, mut f: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        if !self.eat(b'(') {
            return None;
        }
        let mut v = vec![f(self)?];
        while self.eat(b',') {
            v.push(f(self)?);
        }
        self.eat(b')').then_some(v)
    }
}

/// `geo_from_wkt`: the GeoJSON of a WKT geometry.
pub fn from_wkt(s: &str) -> Option<String> {
    let mut w = Wkt { s: s.as_bytes(), i: 0 };
    let out = wkt_geometry(&mut w)?;
    w.ws();
    (w.i == w.s.len()).then_some(out)
}

/// One WKT geometry at `w`'s position, as GeoJSON; a `GEOMETRYCOLLECTION` holds others.
fn wkt_geometry(w: &mut Wkt) -> Option<String> {
    let kind = w.word();
    let out = match kind.as_str() {
        "POINT" => {
            let p = w.list(|w| w.point())?;
            if p.len() != 1 {
                return None;
            }
            point_json(p[0])
        }
        "LINESTRING" => {
            let l = w.list(|w| w.point())?;
            if l.len() < 2 {
                return None;
            }
            line_json(&l)
        }
        "MULTIPOINT" => {
            let ps = w.list(|w| {
                if w.eat(b'(') {
                    let p = w.point();
                    w.eat(b')').then_some(())?;
                    p
                } else {
                    w.point()
                }
            })?;
            format!("{{\"type\":\"MultiPoint\",\"coordinates\":{}}}", list_json(&ps))
        }
        "MULTILINESTRING" => {
            let ls = w.list(|w| w.list(|w| w.point()).filter(|l| l.len() >= 2))?;
            multiline_json(&ls)
        }
        "POLYGON" => {
            let p = w.list(|w| w.list(|w| w.point()).filter(|r| r.len() >= 4 && r.first() == r.last()))?;
            polygon_json(&p)
        }
        "MULTIPOLYGON" => {
            let ps = w.list(|w| w.list(|w| w.list(|w| w.point()).filter(|r| r.len() >= 4 && r.first() == r.last())))?;
            multipolygon_json(&ps)
        }
        "GEOMETRYCOLLECTION" => {
            let gs = w.list(wkt_geometry)?;
            format!("{{\"type\":\"GeometryCollection\",\"geometries\":[{}]}}", gs.join(","))
        }
        _ => return None,
    };
    Some(out)
}
