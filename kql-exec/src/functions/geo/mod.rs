//! The `geo` function family: distances, lines and polygons on the sphere (as Kusto, which
//! uses the S2 library: great-circle edges, Earth radius 6,371,010 m), geohash, S2 and H3
//! cells, and WKT.
//!
//! Geometries are GeoJSON dynamic values; an invalid argument gives null (an empty string for
//! string results).

pub mod cells;
pub mod shapes;
pub mod sphere;

use super::array::{row_call, Out, V};
use super::BindCtx;
use crate::binder::Bound;
use crate::error::Result;
use crate::schema::KqlType;
use datafusion::logical_expr::Expr;
use shapes::{lines, point_json, polys, valid_arg, Line, Poly};
use sphere::{angle, to_ll, to_p, EARTH_RADIUS, LL, P};

/// Bind the functions of this family; `None` when `name` is not one of them.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    if !name.starts_with("geo_") {
        return None;
    }
    let b = &*ctx.binder;
    let n = args.len();
    let r = |k: usize| b.coerce(args[k].clone(), KqlType::Real).expr;
    let l = |k: usize| b.coerce(args[k].clone(), KqlType::Long).expr;
    let d = |k: usize| b.coerce(args[k].clone(), KqlType::Dynamic).expr;
    let s = |k: usize| b.coerce(args[k].clone(), KqlType::String).expr;
    let reals = |m: usize| (0..m).map(r).collect::<Vec<Expr>>();
    use KqlType::{Bool, Dynamic, Int, Real, String as Str};
    let call = |f: fn(&[V]) -> Out, ret: KqlType, a: Vec<Expr>| row_call(&format!("kql_{name}"), ret, f, a);
    let out = match (name, n) {
        ("geo_distance_2points", 4) => call(f_distance_2points, Real, reals(4)),
        ("geo_point_in_circle", 5) => call(f_point_in_circle, Bool, reals(5)),
        ("geo_angle", 6) => call(f_angle, Real, reals(6)),
        ("geo_azimuth", 4) => call(f_azimuth, Real, reals(4)),
        ("geo_distance_point_to_line", 3) => call(f_dist_point_line, Real, vec![r(0), r(1), d(2)]),
        ("geo_distance_point_to_polygon", 3) => call(f_dist_point_poly, Real, vec![r(0), r(1), d(2)]),
        ("geo_closest_point_on_line", 3) => call(f_closest_line, Dynamic, vec![r(0), r(1), d(2)]),
        ("geo_closest_point_on_polygon", 3) => call(f_closest_poly, Dynamic, vec![r(0), r(1), d(2)]),
        ("geo_point_in_polygon", 3) => call(f_point_in_poly, Bool, vec![r(0), r(1), d(2)]),
        ("geo_line_length", 1) => call(f_line_length, Real, vec![d(0)]),
        ("geo_polygon_perimeter", 1) => call(f_poly_perimeter, Real, vec![d(0)]),
        ("geo_polygon_area", 1) => call(f_poly_area, Real, vec![d(0)]),
        ("geo_line_centroid", 1) => call(f_line_centroid, Dynamic, vec![d(0)]),
        ("geo_polygon_centroid", 1) => call(f_poly_centroid, Dynamic, vec![d(0)]),
        ("geo_line_interpolate_point", 2) => call(f_line_interpolate, Dynamic, vec![d(0), r(1)]),
        ("geo_line_locate_point", 3) => call(f_line_locate, Real, vec![d(0), r(1), r(2)]),
        ("geo_intersects_2lines", 2) => call(f_intersects_2lines, Bool, vec![d(0), d(1)]),
        ("geo_intersection_2lines", 2) => call(f_intersection_2lines, Dynamic, vec![d(0), d(1)]),
        ("geo_line_densify", 1..=3) => {
            let mut a = vec![d(0)];
            a.extend((1..n).map(|k| if k == 1 { r(k) } else { b.coerce(args[k].clone(), Bool).expr }));
            call(f_line_densify, Dynamic, a)
        }
        ("geo_polygon_densify", 1..=3) => {
            let mut a = vec![d(0)];
            a.extend((1..n).map(|k| if k == 1 { r(k) } else { b.coerce(args[k].clone(), Bool).expr }));
            call(f_poly_densify, Dynamic, a)
        }
        ("geo_intersects_2polygons", 2) => call(f_intersects_2polys, Bool, vec![d(0), d(1)]),
        ("geo_intersects_line_with_polygon", 2) => call(f_intersects_line_poly, Bool, vec![d(0), d(1)]),
        ("geo_line_simplify", 1 | 2) => {
            call(f_line_simplify, Dynamic, (0..n).map(|k| if k == 0 { d(k) } else { r(k) }).collect())
        }
        ("geo_polygon_simplify", 1 | 2) => {
            call(f_poly_simplify, Dynamic, (0..n).map(|k| if k == 0 { d(k) } else { r(k) }).collect())
        }
        ("geo_from_wkt", 1) => call(f_from_wkt, Dynamic, vec![s(0)]),
        ("geo_point_to_geohash", 2 | 3) => {
            let mut a = reals(2);
            if n == 3 {
                a.push(l(2));
            }
            call(f_point_to_geohash, Str, a)
        }
        ("geo_geohash_to_central_point", 1) => call(f_geohash_center, Dynamic, vec![s(0)]),
        ("geo_geohash_to_polygon", 1) => call(f_geohash_polygon, Dynamic, vec![s(0)]),
        ("geo_geohash_neighbors", 1) => call(f_geohash_neighbors, Dynamic, vec![s(0)]),
        ("geo_point_to_s2cell", 2 | 3) => {
            let mut a = reals(2);
            if n == 3 {
                a.push(l(2));
            }
            call(f_point_to_s2, Str, a)
        }
        ("geo_s2cell_to_central_point", 1) => call(f_s2_center, Dynamic, vec![s(0)]),
        ("geo_s2cell_to_polygon", 1) => call(f_s2_polygon, Dynamic, vec![s(0)]),
        ("geo_s2cell_neighbors", 1) => call(f_s2_neighbors, Dynamic, vec![s(0)]),
        ("geo_point_to_h3cell", 2 | 3) => {
            let mut a = reals(2);
            if n == 3 {
                a.push(l(2));
            }
            call(f_point_to_h3, Str, a)
        }
        ("geo_h3cell_to_central_point", 1) => call(f_h3_center, Dynamic, vec![s(0)]),
        ("geo_h3cell_to_polygon", 1) => call(f_h3_polygon, Dynamic, vec![s(0)]),
        ("geo_h3cell_level", 1) => call(f_h3_level, Int, vec![s(0)]),
        ("geo_h3cell_parent", 1 | 2) => {
            let mut a = vec![s(0)];
            if n == 2 {
                a.push(l(1));
            }
            call(f_h3_parent, Str, a)
        }
        ("geo_h3cell_children", 1 | 2) => {
            let mut a = vec![s(0)];
            if n == 2 {
                a.push(l(1));
            }
            call(f_h3_children, Dynamic, a)
        }
        ("geo_h3cell_neighbors", 1) => call(f_h3_neighbors, Dynamic, vec![s(0)]),
        ("geo_h3cell_rings", 2) => call(f_h3_rings, Dynamic, vec![s(0), l(1)]),
        _ => return None,
    };
    Some(Ok(out))
}

// ---------------------------------------------------------------------------------------------
// argument helpers
// ---------------------------------------------------------------------------------------------

fn pt(a: &[V], k: usize) -> Option<P> {
    let (lng, lat) = (a.get(k)?.f()?, a.get(k + 1)?.f()?);
    valid_arg(lng, lat).then(|| to_p((lng, lat)))
}

fn ps(l: &[LL]) -> Vec<P> {
    l.iter().map(|&x| to_p(x)).collect()
}

fn json_of<'a>(a: &[V<'a>], k: usize) -> &'a str {
    a.get(k).map_or("null", |v| v.json())
}

fn text<'a>(a: &[V<'a>], k: usize) -> Option<&'a str> {
    a.get(k).and_then(|v| v.s())
}

fn dyn_out(v: Option<String>) -> Out {
    Out::from(v)
}

fn pt_out(p: P) -> String {
    point_json(to_ll(p))
}

/// A polygon's loops as points without the closing vertex, each oriented so that the shell
/// is counterclockwise around the smaller region and holes are clockwise.
fn loops(p: &Poly) -> Vec<Vec<P>> {
    p.iter()
        .enumerate()
        .map(|(i, r)| {
            let mut v = ps(&r[..r.len() - 1]);
            let a = sphere::loop_signed_area(&v);
            if (i == 0 && a < 0.0) || (i > 0 && a > 0.0) {
                v.reverse();
            }
            v
        })
        .collect()
}

fn edges(v: &[P], closed: bool) -> impl Iterator<Item = (P, P)> + '_ {
    let n = if closed { v.len() } else { v.len().saturating_sub(1) };
    (0..n).map(move |i| (v[i], v[(i + 1) % v.len()]))
}

fn poly_contains(p: &Poly, x: P) -> bool {
    let ls = loops(p);
    let mut rev = ls[0].clone();
    rev.reverse();
    if !sphere::loop_contains(&ls[0], x) {
        return false;
    }
    !ls[1..].iter().any(|h| {
        let mut h = h.clone();
        h.reverse();
        sphere::loop_contains(&h, x)
    })
}

fn closest_on(ls: impl Iterator<Item = (P, P)>, x: P) -> Option<(f64, P)> {
    let mut best: Option<(f64, P)> = None;
    for (a, b) in ls {
        let q = sphere::project(x, a, b);
        let dd = angle(x, q);
        if best.is_none_or(|(bd, _)| dd < bd) {
            best = Some((dd, q));
        }
    }
    best
}

// ---------------------------------------------------------------------------------------------
// row functions
// ---------------------------------------------------------------------------------------------

fn f_distance_2points(a: &[V]) -> Out {
    Out::from((|| Some(angle(pt(a, 0)?, pt(a, 2)?) * EARTH_RADIUS))())
}

fn f_point_in_circle(a: &[V]) -> Out {
    Out::from((|| {
        let r = a[4].f()?;
        if !(r.is_finite() && r >= 0.0) {
            return None;
        }
        Some(angle(pt(a, 0)?, pt(a, 2)?) * EARTH_RADIUS <= r)
    })())
}

/// The azimuth (clockwise from north, radians in [0, 2pi)) from `p` toward `q`.
fn azimuth(p: P, q: P) -> Option<f64> {
    if angle(p, q) == 0.0 {
        return None;
    }
    let (lng1, lat1) = to_ll(p);
    let (lng2, lat2) = to_ll(q);
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lng2 - lng1).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    let t = y.atan2(x);
    Some(if t < 0.0 { t + 2.0 * std::f64::consts::PI } else { t })
}

fn f_azimuth(a: &[V]) -> Out {
    Out::from((|| azimuth(pt(a, 0)?, pt(a, 2)?))())
}

fn f_angle(a: &[V]) -> Out {
    Out::from((|| {
        let (p1, p2, p3) = (pt(a, 0)?, pt(a, 2)?, pt(a, 4)?);
        let t = azimuth(p2, p3)? - azimuth(p2, p1)?;
        Some(if t < 0.0 { t + 2.0 * std::f64::consts::PI } else { t })
    })())
}

fn line_edges(ls: &[Line]) -> Vec<(P, P)> {
    ls.iter().flat_map(|l| edges(&ps(l), false).collect::<Vec<_>>()).collect()
}

fn poly_edges(p: &Poly) -> Vec<(P, P)> {
    loops(p).iter().flat_map(|v| edges(v, true).collect::<Vec<_>>()).collect()
}

fn f_dist_point_line(a: &[V]) -> Out {
    Out::from((|| {
        let x = pt(a, 0)?;
        let ls = lines(json_of(a, 2))?;
        Some(closest_on(line_edges(&ls).into_iter(), x)?.0 * EARTH_RADIUS)
    })())
}

fn f_dist_point_poly(a: &[V]) -> Out {
    Out::from((|| {
        let x = pt(a, 0)?;
        let pp = polys(json_of(a, 2))?;
        if pp.iter().any(|p| poly_contains(p, x)) {
            return Some(0.0);
        }
        let es: Vec<_> = pp.iter().flat_map(poly_edges).collect();
        Some(closest_on(es.into_iter(), x)?.0 * EARTH_RADIUS)
    })())
}

fn f_closest_line(a: &[V]) -> Out {
    dyn_out((|| {
        let x = pt(a, 0)?;
        let ls = lines(json_of(a, 2))?;
        Some(pt_out(closest_on(line_edges(&ls).into_iter(), x)?.1))
    })())
}

fn f_closest_poly(a: &[V]) -> Out {
    dyn_out((|| {
        let x = pt(a, 0)?;
        let pp = polys(json_of(a, 2))?;
        if pp.iter().any(|p| poly_contains(p, x)) {
            return Some(pt_out(x));
        }
        let es: Vec<_> = pp.iter().flat_map(poly_edges).collect();
        Some(pt_out(closest_on(es.into_iter(), x)?.1))
    })())
}

fn f_point_in_poly(a: &[V]) -> Out {
    Out::from((|| {
        let x = pt(a, 0)?;
        let pp = polys(json_of(a, 2))?;
        Some(pp.iter().any(|p| poly_contains(p, x)))
    })())
}

fn f_line_length(a: &[V]) -> Out {
    Out::from((|| {
        let ls = lines(json_of(a, 0))?;
        Some(line_edges(&ls).iter().map(|&(p, q)| angle(p, q)).sum::<f64>() * EARTH_RADIUS)
    })())
}

fn f_poly_perimeter(a: &[V]) -> Out {
    Out::from((|| {
        let pp = polys(json_of(a, 0))?;
        Some(pp.iter().flat_map(poly_edges).map(|(p, q)| angle(p, q)).sum::<f64>() * EARTH_RADIUS)
    })())
}

fn f_poly_area(a: &[V]) -> Out {
    Out::from((|| {
        let pp = polys(json_of(a, 0))?;
        let mut s = 0.0;
        for p in &pp {
            for v in loops(p) {
                s += sphere::loop_signed_area(&v);
            }
        }
        Some(s * EARTH_RADIUS * EARTH_RADIUS)
    })())
}

fn f_line_centroid(a: &[V]) -> Out {
    dyn_out((|| {
        let ls = lines(json_of(a, 0))?;
        let mut c = [0.0; 3];
        for (p, q) in line_edges(&ls) {
            c = sphere::add(c, sphere::edge_centroid(p, q));
        }
        (sphere::norm2(c) > 0.0).then(|| pt_out(sphere::normalize(c)))
    })())
}

fn f_poly_centroid(a: &[V]) -> Out {
    dyn_out((|| {
        let pp = polys(json_of(a, 0))?;
        let mut c = [0.0; 3];
        for p in &pp {
            for v in loops(p) {
                c = sphere::add(c, sphere::loop_centroid(&v));
            }
        }
        (sphere::norm2(c) > 0.0).then(|| pt_out(sphere::normalize(c)))
    })())
}

fn single_line(raw: &str) -> Option<Vec<P>> {
    let ls = lines(raw)?;
    if ls.len() != 1 {
        return None;
    }
    Some(ps(&ls[0]))
}

fn f_line_interpolate(a: &[V]) -> Out {
    dyn_out((|| {
        let v = single_line(json_of(a, 0))?;
        let f = a[1].f()?;
        if !(0.0..=1.0).contains(&f) {
            return None;
        }
        let lens: Vec<f64> = edges(&v, false).map(|(p, q)| angle(p, q)).collect();
        let total: f64 = lens.iter().sum();
        if f == 0.0 {
            return Some(pt_out(v[0]));
        }
        let mut target = f * total;
        for (i, &len) in lens.iter().enumerate() {
            if target < len {
                return Some(pt_out(sphere::point_on_line(v[i], v[i + 1], target)));
            }
            target -= len;
        }
        Some(pt_out(*v.last()?))
    })())
}

fn f_line_locate(a: &[V]) -> Out {
    Out::from((|| {
        let v = single_line(json_of(a, 0))?;
        let x = pt(a, 1)?;
        let lens: Vec<f64> = edges(&v, false).map(|(p, q)| angle(p, q)).collect();
        let total: f64 = lens.iter().sum();
        if total == 0.0 {
            return None;
        }
        let mut best: Option<(f64, usize, P)> = None;
        for (i, (p, q)) in edges(&v, false).enumerate() {
            let c = sphere::project(x, p, q);
            let dd = angle(x, c);
            if best.is_none_or(|(bd, _, _)| dd < bd) {
                best = Some((dd, i, c));
            }
        }
        let (_, i, c) = best?;
        let before: f64 = lens[..i].iter().sum();
        Some(((before + angle(v[i], c)) / total).min(1.0))
    })())
}

fn f_intersects_2lines(a: &[V]) -> Out {
    Out::from((|| {
        let e1 = line_edges(&lines(json_of(a, 0))?);
        let e2 = line_edges(&lines(json_of(a, 1))?);
        Some(e1.iter().any(|&(p, q)| e2.iter().any(|&(r, s)| sphere::edge_intersection(p, q, r, s).is_some())))
    })())
}

fn f_intersection_2lines(a: &[V]) -> Out {
    dyn_out((|| {
        let e1 = line_edges(&lines(json_of(a, 0))?);
        let e2 = line_edges(&lines(json_of(a, 1))?);
        let mut pts: Vec<P> = Vec::new();
        for &(p, q) in &e1 {
            for &(r, s) in &e2 {
                if let Some(x) = sphere::edge_intersection(p, q, r, s) {
                    if !pts.iter().any(|&y| angle(x, y) < 1e-15) {
                        pts.push(x);
                    }
                }
            }
        }
        Some(match pts.len() {
            0 => shapes::empty_json(),
            1 => pt_out(pts[0]),
            _ => {
                let c: Vec<String> = pts
                    .iter()
                    .map(|&p| {
                        let (x, y) = to_ll(p);
                        format!(
                            "[{},{}]",
                            crate::value::dynamic::json_from_f64(x),
                            crate::value::dynamic::json_from_f64(y)
                        )
                    })
                    .collect();
                format!("{{\"type\":\"MultiPoint\",\"coordinates\":[{}]}}", c.join(","))
            }
        })
    })())
}

// ---------------------------------------------------------------------------------------------
// densify (S2EdgeTessellator: planar lng/lat edges to geodesic chains)
// ---------------------------------------------------------------------------------------------

const INTERP_FRACTION: f64 = 0.312_156_910_822_483_15;

fn unproject((x, y): LL) -> P {
    to_p((x, y))
}

fn lerp(t: f64, a: LL, b: LL) -> LL {
    ((1.0 - t) * a.0 + t * b.0, (1.0 - t) * a.1 + t * b.1)
}

fn max_error(pa: LL, a: P, pb: LL, b: P) -> f64 {
    if dot3(a, b) < -1e-14 {
        return f64::INFINITY;
    }
    let t1 = INTERP_FRACTION;
    let t2 = 1.0 - INTERP_FRACTION;
    let mid1 = sphere::interpolate(a, b, t1);
    let mid2 = sphere::interpolate(a, b, t2);
    let pmid1 = unproject(lerp(t1, pa, pb));
    let pmid2 = unproject(lerp(t2, pa, pb));
    sphere::norm2(sphere::sub(mid1, pmid1)).max(sphere::norm2(sphere::sub(mid2, pmid2)))
}

fn dot3(a: P, b: P) -> f64 {
    sphere::dot(a, b)
}

fn tessellate(pa: LL, a: P, pb: LL, b: P, tol2: f64, out: &mut Vec<P>, depth: u32) {
    if depth > 30 || max_error(pa, a, pb, b) <= tol2 {
        out.push(b);
        return;
    }
    let pm = lerp(0.5, pa, pb);
    let m = unproject(pm);
    tessellate(pa, a, pm, m, tol2, out, depth + 1);
    tessellate(pm, m, pb, b, tol2, out, depth + 1);
}

fn densify_chain(l: &[LL], tol2: f64) -> Vec<P> {
    let mut out = vec![unproject(l[0])];
    for w in l.windows(2) {
        tessellate(w[0], unproject(w[0]), w[1], unproject(w[1]), tol2, &mut out, 0);
    }
    out
}

fn tolerance(a: &[V]) -> Option<f64> {
    let t = match a.get(1) {
        None | Some(V::Null) => 10.0,
        Some(v) => v.f()?,
    };
    if !(0.1..=10_000.0).contains(&t) {
        return None;
    }
    let ang = t / EARTH_RADIUS;
    let chord = 2.0 * (0.5 * ang).sin();
    Some(chord * chord)
}

/// Split a chain of points at the antimeridian into `(lng, lat)` parts.
fn split_antimeridian(v: &[P]) -> Vec<Line> {
    let mut parts: Vec<Line> = vec![vec![to_ll(v[0])]];
    for w in v.windows(2) {
        let (p, q) = (to_ll(w[0]), to_ll(w[1]));
        if (p.0 - q.0).abs() > 180.0 {
            // the crossing of the great circle pq with the antimeridian half plane
            let n = sphere::cross(w[0], w[1]);
            // plane y = 0 (normal [0,1,0]); direction of intersection line
            let d = sphere::normalize(sphere::cross(n, [0.0, 1.0, 0.0]));
            let x = if d[0] < 0.0 { d } else { sphere::mul(d, -1.0) };
            let lat = to_ll(x).1;
            let eps = 1e-12;
            let (e1, e2) = if p.0 < 0.0 { (-180.0 + eps, 180.0 - eps) } else { (180.0 - eps, -180.0 + eps) };
            parts.last_mut().expect("part").push((e1, lat));
            parts.push(vec![(e2, lat), q]);
        } else {
            parts.last_mut().expect("part").push(q);
        }
    }
    parts
}

fn f_line_densify(a: &[V]) -> Out {
    dyn_out((|| {
        let ls = lines(json_of(a, 0))?;
        let tol2 = tolerance(a)?;
        let mut parts: Vec<Line> = Vec::new();
        for l in &ls {
            parts.extend(split_antimeridian(&densify_chain(l, tol2)));
        }
        Some(if parts.len() == 1 { shapes::line_json(&parts[0]) } else { shapes::multiline_json(&parts) })
    })())
}

fn f_poly_densify(a: &[V]) -> Out {
    dyn_out((|| {
        let pp = polys(json_of(a, 0))?;
        let tol2 = tolerance(a)?;
        let mut out: Vec<Poly> = Vec::new();
        for p in &pp {
            let mut rings = Vec::new();
            for (i, r) in p.iter().enumerate() {
                let mut lls: Vec<LL> = r[..r.len() - 1].to_vec();
                let area = sphere::loop_signed_area(&ps(&lls));
                if (i == 0 && area < 0.0) || (i > 0 && area > 0.0) {
                    lls.reverse();
                }
                lls.push(lls[0]);
                let d = densify_chain(&lls, tol2);
                rings.push(d.iter().map(|&x| to_ll(x)).collect::<Vec<_>>());
            }
            out.push(rings);
        }
        Some(if out.len() == 1 { shapes::polygon_json(&out[0]) } else { shapes::multipolygon_json(&out) })
    })())
}

// ---------------------------------------------------------------------------------------------
// WKT and cells
// ---------------------------------------------------------------------------------------------

fn f_from_wkt(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(shapes::from_wkt))
}

fn level_arg(a: &[V], k: usize, default: i64) -> Option<i64> {
    match a.get(k) {
        None => Some(default),
        Some(v) => v.i(),
    }
}

fn str_out(v: Option<String>) -> Out {
    Out::S(v.unwrap_or_default())
}

fn f_point_to_geohash(a: &[V]) -> Out {
    str_out((|| cells::geohash_encode(a[0].f()?, a[1].f()?, level_arg(a, 2, 5)?))())
}

fn f_geohash_center(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(cells::geohash_center))
}

fn f_geohash_polygon(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(cells::geohash_polygon))
}

fn f_geohash_neighbors(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(cells::geohash_neighbors))
}

fn f_point_to_s2(a: &[V]) -> Out {
    str_out((|| cells::s2_from_point(a[0].f()?, a[1].f()?, level_arg(a, 2, 11)?))())
}

fn f_s2_center(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(cells::s2_center))
}

fn f_s2_polygon(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(cells::s2_polygon))
}

fn f_s2_neighbors(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(cells::s2_neighbors))
}

fn f_point_to_h3(a: &[V]) -> Out {
    str_out((|| cells::h3_from_point(a[0].f()?, a[1].f()?, level_arg(a, 2, 6)?))())
}

fn f_h3_center(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(cells::h3_center))
}

fn f_h3_polygon(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(cells::h3_polygon))
}

fn f_h3_level(a: &[V]) -> Out {
    Out::from(text(a, 0).and_then(cells::h3_level))
}

fn f_h3_parent(a: &[V]) -> Out {
    str_out((|| {
        let r = match a.get(1) {
            None => None,
            Some(v) => Some(v.i()?),
        };
        cells::h3_parent(text(a, 0)?, r)
    })())
}

fn f_h3_children(a: &[V]) -> Out {
    dyn_out((|| {
        let r = match a.get(1) {
            None => None,
            Some(v) => Some(v.i()?),
        };
        cells::h3_children(text(a, 0)?, r)
    })())
}

fn f_h3_neighbors(a: &[V]) -> Out {
    dyn_out(text(a, 0).and_then(cells::h3_neighbors))
}

fn f_h3_rings(a: &[V]) -> Out {
    dyn_out((|| cells::h3_rings(text(a, 0)?, a[1].i()?))())
}

// ---------------------------------------------------------------------------------------------
// polygon predicates and simplification (Douglas-Peucker)
// ---------------------------------------------------------------------------------------------

fn edges_cross(e1: &[(P, P)], e2: &[(P, P)]) -> bool {
    e1.iter().any(|&(p, q)| e2.iter().any(|&(r, s)| sphere::edge_intersection(p, q, r, s).is_some()))
}

fn f_intersects_2polys(a: &[V]) -> Out {
    Out::from((|| {
        let p1 = polys(json_of(a, 0))?;
        let p2 = polys(json_of(a, 1))?;
        let e1: Vec<_> = p1.iter().flat_map(poly_edges).collect();
        let e2: Vec<_> = p2.iter().flat_map(poly_edges).collect();
        if edges_cross(&e1, &e2) {
            return Some(true);
        }
        let inside = |ps: &[Poly], qs: &[Poly]| ps.iter().any(|p| qs.iter().any(|q| poly_contains(q, to_p(p[0][0]))));
        Some(inside(&p1, &p2) || inside(&p2, &p1))
    })())
}

fn f_intersects_line_poly(a: &[V]) -> Out {
    Out::from((|| {
        let ls = lines(json_of(a, 0))?;
        let pp = polys(json_of(a, 1))?;
        let e1 = line_edges(&ls);
        let e2: Vec<_> = pp.iter().flat_map(poly_edges).collect();
        if edges_cross(&e1, &e2) {
            return Some(true);
        }
        Some(ls.iter().any(|l| pp.iter().any(|p| poly_contains(p, to_p(l[0])))))
    })())
}

fn simplify_tolerance(a: &[V]) -> Option<f64> {
    let t = match a.get(1) {
        None | Some(V::Null) => 10.0,
        Some(v) => v.f()?,
    };
    (t.is_finite() && t >= 0.0).then_some(t / EARTH_RADIUS)
}

/// Douglas-Peucker on a chain of points: the indexes kept.
fn dp(v: &[P], tol: f64, lo: usize, hi: usize, keep: &mut Vec<bool>) {
    if hi <= lo + 1 {
        return;
    }
    let mut best = (0.0, lo);
    for (i, &x) in v.iter().enumerate().take(hi).skip(lo + 1) {
        let dd = sphere::dist_to_edge(x, v[lo], v[hi]);
        if dd > best.0 {
            best = (dd, i);
        }
    }
    if best.0 > tol {
        keep[best.1] = true;
        dp(v, tol, lo, best.1, keep);
        dp(v, tol, best.1, hi, keep);
    }
}

fn simplify_chain(l: &[LL], tol: f64) -> Vec<LL> {
    let v = ps(l);
    let mut keep = vec![false; v.len()];
    keep[0] = true;
    keep[v.len() - 1] = true;
    dp(&v, tol, 0, v.len() - 1, &mut keep);
    l.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

fn f_line_simplify(a: &[V]) -> Out {
    dyn_out((|| {
        let ls = lines(json_of(a, 0))?;
        let tol = simplify_tolerance(a)?;
        let out: Vec<Line> = ls.iter().map(|l| simplify_chain(l, tol)).collect();
        Some(if out.len() == 1 { shapes::line_json(&out[0]) } else { shapes::multiline_json(&out) })
    })())
}

fn f_poly_simplify(a: &[V]) -> Out {
    dyn_out((|| {
        let pp = polys(json_of(a, 0))?;
        let tol = simplify_tolerance(a)?;
        let mut out: Vec<Poly> = Vec::new();
        for p in &pp {
            let mut rings = Vec::new();
            for r in p {
                // split the closed ring at its vertex farthest from the first one
                let v = ps(r);
                let far =
                    (1..v.len() - 1).max_by(|&i, &j| angle(v[0], v[i]).total_cmp(&angle(v[0], v[j]))).unwrap_or(0);
                let mut s = simplify_chain(&r[..=far], tol);
                let t = simplify_chain(&r[far..], tol);
                s.extend_from_slice(&t[1..]);
                let mut distinct: Vec<LL> = Vec::new();
                for x in &s[..s.len() - 1] {
                    if !distinct.contains(x) {
                        distinct.push(*x);
                    }
                }
                if distinct.len() < 3 {
                    return None;
                }
                rings.push(s);
            }
            out.push(rings);
        }
        Some(if out.len() == 1 { shapes::polygon_json(&out[0]) } else { shapes::multipolygon_json(&out) })
    })())
}
