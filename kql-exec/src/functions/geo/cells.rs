//! Grid cells: geohash, S2 and H3.

use super::shapes::{point_json, polygon_json, valid_arg};
use super::sphere::LL;
use crate::value::dynamic as dj;

const B32: &[u8] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// The geohash of a point with `accuracy` characters (1 to 18).
pub fn geohash_encode(lng: f64, lat: f64, accuracy: i64) -> Option<String> {
    if !valid_arg(lng, lat) || !(1..=18).contains(&accuracy) {
        return None;
    }
    let (mut lo, mut la) = ([-180.0f64, 180.0f64], [-90.0f64, 90.0f64]);
    let mut even = true;
    let mut out = String::new();
    for _ in 0..accuracy {
        let mut v = 0usize;
        for _ in 0..5 {
            let (r, x) = if even { (&mut lo, lng) } else { (&mut la, lat) };
            let m = (r[0] + r[1]) / 2.0;
            v <<= 1;
            if x >= m {
                v |= 1;
                r[0] = m;
            } else {
                r[1] = m;
            }
            even = !even;
        }
        out.push(B32[v] as char);
    }
    Some(out)
}

/// The box of a geohash: `([lng_min, lng_max], [lat_min, lat_max])`.
pub fn geohash_decode(h: &str) -> Option<([f64; 2], [f64; 2])> {
    if h.is_empty() || h.len() > 18 {
        return None;
    }
    let (mut lo, mut la) = ([-180.0f64, 180.0f64], [-90.0f64, 90.0f64]);
    let mut even = true;
    for c in h.bytes() {
        let v = B32.iter().position(|&b| b == c.to_ascii_lowercase())?;
        for k in (0..5).rev() {
            let r = if even { &mut lo } else { &mut la };
            let m = (r[0] + r[1]) / 2.0;
            if (v >> k) & 1 == 1 {
                r[0] = m;
            } else {
                r[1] = m;
            }
            even = !even;
        }
    }
    Some((lo, la))
}

pub fn geohash_center(h: &str) -> Option<String> {
    let (lo, la) = geohash_decode(h)?;
    Some(point_json(((lo[0] + lo[1]) / 2.0, (la[0] + la[1]) / 2.0)))
}

pub fn geohash_polygon(h: &str) -> Option<String> {
    let (lo, la) = geohash_decode(h)?;
    let ring = vec![(lo[0], la[0]), (lo[1], la[0]), (lo[1], la[1]), (lo[0], la[1]), (lo[0], la[0])];
    Some(polygon_json(&vec![ring]))
}

pub fn geohash_neighbors(h: &str) -> Option<String> {
    let (lo, la) = geohash_decode(h)?;
    let (w, ht) = (lo[1] - lo[0], la[1] - la[0]);
    let (cx, cy) = ((lo[0] + lo[1]) / 2.0, (la[0] + la[1]) / 2.0);
    let mut out: Vec<String> = Vec::new();
    for (dx, dy) in [(-1, 0), (-1, -1), (0, -1), (1, -1), (1, 1), (1, 0), (0, 1), (-1, 1)] {
        let y = cy + dy as f64 * ht;
        if !(-90.0..=90.0).contains(&y) {
            continue;
        }
        let mut x = cx + dx as f64 * w;
        if x > 180.0 {
            x -= 360.0;
        } else if x < -180.0 {
            x += 360.0;
        }
        if let Some(n) = geohash_encode(x, y, h.len() as i64) {
            if n != h && !out.contains(&n) {
                out.push(n);
            }
        }
    }
    Some(strings_json(&out))
}

fn strings_json(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| dj::json_string(s)).collect();
    dj::build_array(&items.iter().map(String::as_str).collect::<Vec<_>>())
}

// ---------------------------------------------------------------------------------------------
// S2
// ---------------------------------------------------------------------------------------------

use s2::cellid::CellID;

fn s2_ll(p: &s2::point::Point) -> LL {
    super::sphere::to_ll([p.0.x, p.0.y, p.0.z])
}

fn s2_cell(token: &str) -> Option<CellID> {
    if token.is_empty() || token.len() > 16 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let c = CellID::from_token(token);
    // `CellID::is_valid` negates the id as an i64, which overflows on `8000000000000000`:
    // the same test (a face below 6, the lowest set bit at an even position) without it.
    let lsb = c.0 & c.0.wrapping_neg();
    (c.0 != 0 && (c.0 >> 61) < 6 && lsb & 0x1555_5555_5555_5555 != 0).then_some(c)
}

pub fn s2_from_point(lng: f64, lat: f64, level: i64) -> Option<String> {
    if !valid_arg(lng, lat) || !(0..=30).contains(&level) {
        return None;
    }
    let p = s2::point::Point({
        let q = super::sphere::to_p((lng, lat));
        s2::r3::vector::Vector::new(q[0], q[1], q[2])
    });
    let c = CellID::from(&p).parent(level as u64);
    Some(c.to_token())
}

pub fn s2_center(token: &str) -> Option<String> {
    let c = s2_cell(token)?;
    Some(point_json(s2_ll(&s2::point::Point::from(c))))
}

pub fn s2_polygon(token: &str) -> Option<String> {
    let c = s2::cell::Cell::from(s2_cell(token)?);
    let mut ring: Vec<LL> = (0..4).map(|k| s2_ll(&c.vertex(k))).collect();
    ring.push(ring[0]);
    Some(polygon_json(&vec![ring]))
}

pub fn s2_neighbors(token: &str) -> Option<String> {
    let c = s2_cell(token)?;
    let ns: Vec<String> = c.all_neighbors(c.level()).iter().map(|n| n.to_token()).collect();
    Some(strings_json(&ns))
}

// ---------------------------------------------------------------------------------------------
// H3
// ---------------------------------------------------------------------------------------------

use h3o::{CellIndex, LatLng, Resolution};

fn h3_cell(s: &str) -> Option<CellIndex> {
    s.parse::<CellIndex>().ok()
}

fn res(r: i64) -> Option<Resolution> {
    Resolution::try_from(u8::try_from(r).ok()?).ok()
}

pub fn h3_from_point(lng: f64, lat: f64, r: i64) -> Option<String> {
    if !valid_arg(lng, lat) {
        return None;
    }
    let ll = LatLng::new(lat, lng).ok()?;
    Some(ll.to_cell(res(r)?).to_string())
}

fn h3_ll(ll: LatLng) -> LL {
    (ll.lng(), ll.lat())
}

pub fn h3_center(s: &str) -> Option<String> {
    Some(point_json(h3_ll(LatLng::from(h3_cell(s)?))))
}

pub fn h3_polygon_ring(c: CellIndex) -> Vec<LL> {
    let mut ring: Vec<LL> = c.boundary().iter().map(|&ll| h3_ll(ll)).collect();
    if let Some(&f) = ring.first() {
        ring.push(f);
    }
    ring
}

pub fn h3_polygon(s: &str) -> Option<String> {
    Some(polygon_json(&vec![h3_polygon_ring(h3_cell(s)?)]))
}

pub fn h3_level(s: &str) -> Option<i64> {
    Some(u8::from(h3_cell(s)?.resolution()) as i64)
}

pub fn h3_parent(s: &str, r: Option<i64>) -> Option<String> {
    let c = h3_cell(s)?;
    let r = match r {
        None | Some(-1) => u8::from(c.resolution()) as i64 - 1,
        Some(r) => r,
    };
    if r >= u8::from(c.resolution()) as i64 {
        return None;
    }
    Some(c.parent(res(r)?)?.to_string())
}

pub fn h3_children(s: &str, r: Option<i64>) -> Option<String> {
    let c = h3_cell(s)?;
    let r = match r {
        None | Some(-1) => u8::from(c.resolution()) as i64 + 1,
        Some(r) => r,
    };
    let cur = u8::from(c.resolution()) as i64;
    if r < cur || r > cur + 5 {
        return None;
    }
    let ch: Vec<String> = c.children(res(r)?).map(|x| x.to_string()).collect();
    Some(strings_json(&ch))
}

pub fn h3_neighbors(s: &str) -> Option<String> {
    let c = h3_cell(s)?;
    let ns: Vec<String> = c.grid_disk::<Vec<_>>(1).into_iter().filter(|&x| x != c).map(|x| x.to_string()).collect();
    Some(strings_json(&ns))
}

pub fn h3_rings(s: &str, k: i64) -> Option<String> {
    let c = h3_cell(s)?;
    if !(0..=142).contains(&k) {
        return None;
    }
    let mut rings: Vec<Vec<String>> = vec![Vec::new(); k as usize + 1];
    for (cell, d) in c.grid_disk_distances::<Vec<_>>(k as u32) {
        rings[d as usize].push(cell.to_string());
    }
    let parts: Vec<String> = rings.iter().map(|r| strings_json(r)).collect();
    Some(dj::build_array(&parts.iter().map(String::as_str).collect::<Vec<_>>()))
}

// ---------------------------------------------------------------------------------------------
// coverings
// ---------------------------------------------------------------------------------------------

use super::overlay;
use super::sphere::P;

fn s2_p(p: &s2::point::Point) -> P {
    [p.0.x, p.0.y, p.0.z]
}

fn cell_loop(c: &s2::cell::Cell) -> Vec<P> {
    (0..4).map(|k| s2_p(&c.vertex(k))).collect()
}

fn cell_contains(c: &s2::cell::Cell, p: P) -> bool {
    c.contains_point(&s2::point::Point(s2::r3::vector::Vector::new(p[0], p[1], p[2])))
}

fn edges_meet(a: &[P], a_closed: bool, b: &[P]) -> bool {
    let na = if a_closed { a.len() } else { a.len().saturating_sub(1) };
    (0..na).any(|i| {
        let (p, q) = (a[i], a[(i + 1) % a.len()]);
        (0..b.len()).any(|j| super::sphere::edge_intersection(p, q, b[j], b[(j + 1) % b.len()]).is_some())
    })
}

/// Whether an S2 cell and a region (loops, interior on the left) share a point.
pub fn cell_meets_region(cell: CellID, loops: &[Vec<P>]) -> bool {
    let c = s2::cell::Cell::from(cell);
    let cl = cell_loop(&c);
    if cl.iter().any(|&v| overlay::region_contains(loops, v)) {
        return true;
    }
    if loops.iter().flatten().any(|&v| cell_contains(&c, v)) {
        return true;
    }
    loops.iter().any(|l| edges_meet(l, true, &cl))
}

/// Whether an S2 cell and polylines share a point.
pub fn cell_meets_lines(cell: CellID, lines: &[Vec<P>]) -> bool {
    let c = s2::cell::Cell::from(cell);
    let cl = cell_loop(&c);
    lines.iter().flatten().any(|&v| cell_contains(&c, v)) || lines.iter().any(|l| edges_meet(l, false, &cl))
}

/// The cells of `level` that meet a shape, sorted; `None` when there are more than `max`.
pub fn s2_covering(level: u64, max: usize, meets: &dyn Fn(CellID) -> bool) -> Option<Vec<CellID>> {
    let mut cur: Vec<CellID> = (0..6u64).map(CellID::from_face).filter(|&c| meets(c)).collect();
    for _ in 0..level {
        let mut next = Vec::new();
        for c in &cur {
            for ch in c.children() {
                if meets(ch) {
                    next.push(ch);
                }
            }
            if next.len() > max {
                return None;
            }
        }
        cur = next;
    }
    cur.sort_by_key(|c| c.0);
    Some(cur)
}

/// S2 cells as a JSON array of tokens.
pub fn tokens_json(cells: &[CellID]) -> String {
    strings_json(&cells.iter().map(|c| c.to_token()).collect::<Vec<_>>())
}

/// The most cells `geo_polygon_to_h3cells` returns.
const MAX_H3_CELLS: usize = 61_680;

/// The H3 cells of resolution `r` whose centers lie in a region, as a JSON array (sorted);
/// `None` for an invalid resolution or more than 61,680 cells.
pub fn h3_polyfill(loops: &[Vec<P>], r: i64) -> Option<String> {
    let res = res(r)?;
    let to_ll = |p: P| {
        let (lng, lat) = super::sphere::to_ll(p);
        LatLng::new(lat, lng).ok()
    };
    // cells within this angle of the boundary may hold boundary crossings: explore them
    let reach = res.edge_length_rads() * 2.0;
    let edges: Vec<(P, P)> =
        loops.iter().flat_map(|l| (0..l.len()).map(move |i| (l[i], l[(i + 1) % l.len()]))).collect();
    let near_boundary = |p: P| edges.iter().any(|&(a, b)| super::sphere::dist_to_edge(p, a, b) < reach);
    let mut seen: std::collections::HashSet<CellIndex> = std::collections::HashSet::new();
    let mut queue: Vec<CellIndex> = Vec::new();
    for &v in loops.iter().flatten() {
        let c = to_ll(v)?.to_cell(res);
        if seen.insert(c) {
            queue.push(c);
        }
    }
    let mut out: Vec<CellIndex> = Vec::new();
    while let Some(c) = queue.pop() {
        let ll = LatLng::from(c);
        let p = super::sphere::to_p((ll.lng(), ll.lat()));
        let inside = overlay::region_contains(loops, p);
        if inside {
            out.push(c);
            if out.len() > MAX_H3_CELLS {
                return None;
            }
        }
        if inside || near_boundary(p) {
            for n in c.grid_disk::<Vec<_>>(1) {
                if seen.insert(n) {
                    queue.push(n);
                }
            }
        }
        if seen.len() > 20 * MAX_H3_CELLS {
            return None;
        }
    }
    out.sort();
    Some(strings_json(&out.iter().map(|c| c.to_string()).collect::<Vec<_>>()))
}
