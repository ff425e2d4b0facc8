//! The `geo` function family: distances, lines and polygons on the sphere (as Kusto, which
//! uses the S2 library: great-circle edges, Earth radius 6,371,010 m), geohash, S2 and H3
//! cells, and WKT.
//!
//! Geometries are GeoJSON dynamic values; an invalid argument gives null (an empty string for
//! string results).

pub mod cells;
pub mod overlay;
pub mod shapes;
pub mod sphere;

use super::array::{row_call, Out, V};
use super::BindCtx;
use crate::binder::Bound;
use crate::error::Result;
use crate::schema::KqlType;
use datafusion::logical_expr::Expr;
use overlay::Shapes;
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
        ("geo_union_polygons_array", 1) => call(f_union_polys_array, Dynamic, vec![d(0)]),
        ("geo_union_lines_array", 1) => call(f_union_lines_array, Dynamic, vec![d(0)]),
        ("geo_intersection_2polygons", 2) => call(f_intersection_2polys, Dynamic, vec![d(0), d(1)]),
        ("geo_intersection_line_with_polygon", 2) => call(f_intersection_line_poly, Dynamic, vec![d(0), d(1)]),
        ("geo_simplify_polygons_array", 1 | 2) => {
            call(f_simplify_polys_array, Dynamic, (0..n).map(|k| if k == 0 { d(k) } else { r(k) }).collect())
        }
        ("geo_point_buffer", 3 | 4) => call(f_point_buffer, Dynamic, reals(n)),
        ("geo_polygon_buffer", 2 | 3) => {
            call(f_polygon_buffer, Dynamic, (0..n).map(|k| if k == 0 { d(k) } else { r(k) }).collect())
        }
        ("geo_line_buffer", 2 | 3) => {
            call(f_line_buffer, Dynamic, (0..n).map(|k| if k == 0 { d(k) } else { r(k) }).collect())
        }
        ("geo_polygon_to_s2cells", 1 | 2) => {
            call(f_poly_to_s2cells, Dynamic, (0..n).map(|k| if k == 0 { d(k) } else { l(k) }).collect())
        }
        ("geo_line_to_s2cells", 1 | 2) => {
            call(f_line_to_s2cells, Dynamic, (0..n).map(|k| if k == 0 { d(k) } else { l(k) }).collect())
        }
        ("geo_polygon_to_h3cells", 1 | 2) => {
            call(f_poly_to_h3cells, Dynamic, (0..n).map(|k| if k == 0 { d(k) } else { l(k) }).collect())
        }
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
        let ls = region_loops(&polys(json_of(a, 0))?);
        Some(ls.iter().flat_map(|v| edges(v, true)).map(|(p, q)| angle(p, q)).sum::<f64>() * EARTH_RADIUS)
    })())
}

fn f_poly_area(a: &[V]) -> Out {
    Out::from((|| {
        let mut s = 0.0;
        for v in region_loops(&polys(json_of(a, 0))?) {
            s += sphere::loop_signed_area(&v);
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
        let mut c = [0.0; 3];
        for v in region_loops(&polys(json_of(a, 0))?) {
            c = sphere::add(c, sphere::loop_centroid(&v));
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

/// The stretch two edges share when they lie on one great circle and overlap by more than a
/// point: its ends, in the first edge's direction.
fn shared_stretch(p: P, q: P, r: P, s: P) -> Option<(P, P)> {
    let (n1, n2) = (sphere::normalize(sphere::cross(p, q)), sphere::normalize(sphere::cross(r, s)));
    if sphere::norm(sphere::cross(n1, n2)) > 1e-12 {
        return None;
    }
    let on = |x: P, a: P, b: P| (angle(a, x) + angle(x, b) - angle(a, b)).abs() < 1e-12;
    let mut ends: Vec<P> = Vec::new();
    for x in [p, q] {
        if on(x, r, s) {
            ends.push(x);
        }
    }
    for x in [r, s] {
        if on(x, p, q) && !ends.iter().any(|&y| angle(x, y) < 1e-15) {
            ends.push(x);
        }
    }
    if ends.len() < 2 {
        return None;
    }
    // the two ends farthest apart, ordered from p
    ends.sort_by(|a, b| angle(p, *a).total_cmp(&angle(p, *b)));
    let (a, b) = (ends[0], ends[ends.len() - 1]);
    (angle(a, b) > 1e-15).then_some((a, b))
}

fn f_intersection_2lines(a: &[V]) -> Out {
    dyn_out((|| {
        let (l1, l2) = (lines(json_of(a, 0))?, lines(json_of(a, 1))?);
        let (e1, e2) = (line_edges(&l1), line_edges(&l2));
        // a shared stretch ends at input points: written as they were given
        let given: Vec<(P, LL)> = l1.iter().chain(&l2).flatten().map(|&ll| (to_p(ll), ll)).collect();
        let ll_of = |x: P| given.iter().find(|(p, _)| *p == x).map_or_else(|| to_ll(x), |(_, ll)| *ll);
        let mut pts: Vec<P> = Vec::new();
        let mut segments: Vec<(P, P)> = Vec::new();
        for &(p, q) in &e1 {
            for &(r, s) in &e2 {
                // edges along one great circle meet in the stretch they share (the docs: a line
                // with itself "the result is a line")
                if let Some(seg) = shared_stretch(p, q, r, s) {
                    segments.push(seg);
                    continue;
                }
                if let Some(x) = sphere::edge_intersection(p, q, r, s) {
                    if !pts.iter().any(|&y| angle(x, y) < 1e-15) {
                        pts.push(x);
                    }
                }
            }
        }
        if !segments.is_empty() {
            // points on a shared stretch are part of it
            pts.retain(|&x| !segments.iter().any(|&(a, b)| sphere::dist_to_edge(x, a, b) < 1e-12));
            let line = |(a, b): (P, P)| shapes::line_json(&[ll_of(a), ll_of(b)]);
            let lines_out = if segments.len() == 1 {
                line(segments[0])
            } else {
                shapes::multiline_json(&segments.iter().map(|&(a, b)| vec![ll_of(a), ll_of(b)]).collect::<Vec<_>>())
            };
            return Some(if pts.is_empty() {
                lines_out
            } else {
                let mut parts: Vec<String> = pts.iter().map(|&x| pt_out(x)).collect();
                parts.push(lines_out);
                format!("{{\"type\":\"GeometryCollection\",\"geometries\":[{}]}}", parts.join(","))
            });
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
        // a line no longer than the tolerance disappears (Kusto: "high tolerance may cause
        // small line to disappear"), and the value is null when every line has
        let out: Vec<Line> = ls
            .iter()
            .map(|l| simplify_chain(l, tol))
            .filter(|s| !(s.len() == 2 && angle(to_p(s[0]), to_p(s[1])) <= tol && tol > 0.0))
            .collect();
        if out.is_empty() {
            return None;
        }
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
                let (s, enough) = simplify_closed(r, farthest_from_first(r), tol);
                if !enough {
                    return None;
                }
                rings.push(s);
            }
            out.push(rings);
        }
        Some(if out.len() == 1 { shapes::polygon_json(&out[0]) } else { shapes::multipolygon_json(&out) })
    })())
}

// ---------------------------------------------------------------------------------------------
// boolean operations (unions, intersections), buffers and coverings
// ---------------------------------------------------------------------------------------------

/// A polygon or multipolygon as one region: the polygons of a multipolygon are united (as
/// Kusto does: overlapping parts count once).
fn region(pp: &[Poly]) -> Shapes {
    let mut parts: Vec<Shapes> = pp.iter().map(|p| Shapes { polygons: vec![loops(p)], ..Default::default() }).collect();
    if parts.len() == 1 {
        return parts.pop().unwrap_or_default();
    }
    overlay::union_all(parts)
}

/// The loops of a polygon or multipolygon region.
fn region_loops(pp: &[Poly]) -> Vec<Vec<P>> {
    if pp.len() == 1 {
        return loops(&pp[0]);
    }
    region(pp).loops()
}

fn ring_ll(l: &[P]) -> Vec<LL> {
    let mut r: Vec<LL> = l.iter().map(|&p| to_ll(p)).collect();
    if let Some(&f) = r.first() {
        r.push(f);
    }
    r
}

/// The GeoJSON of a result: a point, line or polygon (or their multi forms) when it has one
/// kind of part, a geometry collection otherwise (empty when there is nothing).
fn shapes_json(s: &Shapes) -> String {
    let mut parts: Vec<String> = Vec::new();
    match s.points.len() {
        0 => {}
        1 => parts.push(pt_out(s.points[0])),
        _ => {
            let c: Vec<String> = s
                .points
                .iter()
                .map(|&p| {
                    let (x, y) = to_ll(p);
                    format!("[{},{}]", crate::value::dynamic::json_from_f64(x), crate::value::dynamic::json_from_f64(y))
                })
                .collect();
            parts.push(format!("{{\"type\":\"MultiPoint\",\"coordinates\":[{}]}}", c.join(",")));
        }
    }
    let ls: Vec<Line> = s.lines.iter().map(|l| l.iter().map(|&p| to_ll(p)).collect()).collect();
    match ls.len() {
        0 => {}
        1 => parts.push(shapes::line_json(&ls[0])),
        _ => parts.push(shapes::multiline_json(&ls)),
    }
    let pp: Vec<Poly> = s.polygons.iter().map(|p| p.iter().map(|l| ring_ll(l)).collect()).collect();
    match pp.len() {
        0 => {}
        1 => parts.push(shapes::polygon_json(&pp[0])),
        _ => parts.push(shapes::multipolygon_json(&pp)),
    }
    match parts.len() {
        0 => shapes::empty_json(),
        1 => parts.pop().unwrap_or_default(),
        _ => format!("{{\"type\":\"GeometryCollection\",\"geometries\":[{}]}}", parts.join(",")),
    }
}

/// The elements of a dynamic array argument, each parsed by `f`; `None` when the argument is
/// not an array or any element is invalid.
fn each_element<T>(a: &[V], k: usize, f: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    crate::value::dynamic::array_elements(json_of(a, k))?.into_iter().map(f).collect()
}

/// `geo_union_polygons_array(polygons)`: the union of an array of polygons and multipolygons
/// (S2's `DestructiveUnion`: the two smallest are united first), as a polygon or multipolygon;
/// null when any element is invalid.
fn f_union_polys_array(a: &[V]) -> Out {
    dyn_out((|| {
        let parts = each_element(a, 0, |e| polys(e).map(|pp| region(&pp)))?;
        Some(shapes_json(&overlay::union_all(parts)))
    })())
}

/// `geo_union_lines_array(lines)`: the union of an array of lines and multilines: shared edges
/// count once and the edges are chained into the longest lines; null when any element is
/// invalid.
fn f_union_lines_array(a: &[V]) -> Out {
    dyn_out((|| {
        let all = each_element(a, 0, lines)?;
        let chains: Vec<Vec<P>> = all.iter().flatten().map(|l| ps(l)).collect();
        Some(shapes_json(&Shapes { lines: overlay::union_lines(&chains), ..Default::default() }))
    })())
}

/// `geo_intersection_2polygons(p1, p2)`: the intersection of two polygons or multipolygons
/// (closed: touching boundaries give points or lines; nothing gives an empty collection).
fn f_intersection_2polys(a: &[V]) -> Out {
    dyn_out((|| {
        let p1 = region(&polys(json_of(a, 0))?);
        let p2 = region(&polys(json_of(a, 1))?);
        Some(shapes_json(&overlay::polygons(&p1.loops(), &p2.loops(), overlay::Op::Intersection)))
    })())
}

/// `geo_intersection_line_with_polygon(line, polygon)`: the parts of a line or multiline inside
/// a polygon or multipolygon (its boundary included).
fn f_intersection_line_poly(a: &[V]) -> Out {
    dyn_out((|| {
        let ls = lines(json_of(a, 0))?;
        let p = region(&polys(json_of(a, 1))?);
        let chains: Vec<Vec<P>> = ls.iter().map(|l| ps(l)).collect();
        Some(shapes_json(&overlay::clip_lines(&chains, &p.loops())))
    })())
}

/// `geo_simplify_polygons_array(polygons [, tolerance])`: the union of the polygons, each loop
/// simplified (Douglas-Peucker, tolerance in meters, default 10); null when an element or the
/// tolerance is invalid or nothing is left.
fn f_simplify_polys_array(a: &[V]) -> Out {
    dyn_out((|| {
        let tol = simplify_tolerance(a)?;
        let parts = each_element(a, 0, |e| polys(e).map(|pp| region(&pp)))?;
        let u = overlay::union_all(parts);
        let mut out = Shapes::default();
        for p in &u.polygons {
            let mut rings = Vec::new();
            for (i, l) in p.iter().enumerate() {
                let r = simplify_ring(&ring_ll(l), tol)?;
                match r {
                    Some(r) => rings.push(ps(&r[..r.len() - 1])),
                    None if i == 0 => break,
                    None => {}
                }
            }
            if !rings.is_empty() {
                out.polygons.push(rings);
            }
        }
        if out.polygons.is_empty() {
            return None;
        }
        Some(shapes_json(&out))
    })())
}

/// A closed ring simplified as `geo_polygon_simplify` does; `Some(None)` when it collapses.
fn simplify_ring(r: &[LL], tol: f64) -> Option<Option<Vec<LL>>> {
    let far = farthest_from_first(r);
    if far == 0 {
        return Some(None);
    }
    let (s, enough) = simplify_closed(r, far, tol);
    Some(enough.then_some(s))
}

/// The vertex of a closed ring farthest from its first one (0 for degenerate rings).
fn farthest_from_first(r: &[LL]) -> usize {
    let v = ps(r);
    (1..v.len() - 1).max_by(|&i, &j| angle(v[0], v[i]).total_cmp(&angle(v[0], v[j]))).unwrap_or(0)
}

/// A closed ring split at vertex `far` and each half simplified (Douglas-Peucker with `tol`),
/// and whether at least three distinct vertices remain.
fn simplify_closed(r: &[LL], far: usize, tol: f64) -> (Vec<LL>, bool) {
    let mut s = simplify_chain(&r[..=far], tol);
    let t = simplify_chain(&r[far..], tol);
    s.extend_from_slice(&t[1..]);
    let mut distinct: Vec<LL> = Vec::new();
    for x in &s[..s.len() - 1] {
        if !distinct.contains(x) {
            distinct.push(*x);
        }
    }
    let enough = distinct.len() >= 3;
    (s, enough)
}

/// The vertices of Kusto's point buffer: a regular polygon inscribed in the circle of
/// `radius` meters (S2's `MakeRegularLoop`, starting toward `S2::Ortho(center)`), with as few
/// vertices as keep each edge within `tolerance` meters of the circle.
fn circle(center: P, radius: f64, tolerance: f64) -> Option<Vec<P>> {
    if !(radius.is_finite() && radius > 0.0 && tolerance.is_finite() && tolerance > 0.0) {
        return None;
    }
    if radius > std::f64::consts::PI * EARTH_RADIUS || tolerance < radius * 1e-6 {
        return None;
    }
    let t = (tolerance / radius).min(1.0);
    let n = ((std::f64::consts::PI / (1.0 - t).acos()).ceil() as usize).max(3);
    if n > 1_000_000 {
        return None;
    }
    let x = sphere::s2_ortho(center);
    let y = sphere::cross(center, x);
    let r = radius / EARTH_RADIUS;
    let (sr, cr) = (r.sin(), r.cos());
    Some(
        (0..n)
            .map(|i| {
                let t = i as f64 * 2.0 * std::f64::consts::PI / n as f64;
                let u = sphere::add(sphere::mul(x, t.cos()), sphere::mul(y, t.sin()));
                sphere::normalize(sphere::add(sphere::mul(u, sr), sphere::mul(center, cr)))
            })
            .collect(),
    )
}

/// `geo_point_buffer(lng, lat, radius [, tolerance])`: the polygon of the points within
/// `radius` meters (tolerance in meters, default 10); null for an invalid point or radius.
fn f_point_buffer(a: &[V]) -> Out {
    dyn_out((|| {
        let c = pt(a, 0)?;
        let radius = a[2].f()?;
        let tolerance = match a.get(3) {
            None | Some(V::Null) => 10.0,
            Some(v) => v.f()?,
        };
        let l = circle(c, radius, tolerance)?;
        Some(shapes_json(&Shapes { polygons: vec![vec![l]], ..Default::default() }))
    })())
}

/// The radius and tolerance arguments of a shape buffer (`k` and `k + 1`).
fn buffer_args(a: &[V], k: usize) -> Option<(f64, f64)> {
    let radius = a.get(k)?.f()?;
    let tolerance = match a.get(k + 1) {
        None | Some(V::Null) => 10.0,
        Some(v) => v.f()?,
    };
    Some((radius, tolerance))
}

/// The pieces whose union is the buffer of edges: a circle around each vertex and a band on
/// both sides of each edge (its long sides split so that they stay within the tolerance of
/// the true offset curve).
fn edge_buffers(chains: &[(Vec<P>, bool)], radius: f64, tolerance: f64) -> Option<Vec<Shapes>> {
    let shape = |l: Vec<P>| Shapes { polygons: vec![vec![l]], ..Default::default() };
    let rho = radius / EARTH_RADIUS;
    let mut parts = Vec::new();
    for (c, closed) in chains {
        for &v in c {
            parts.push(shape(circle(v, radius, tolerance)?));
        }
        let m = if *closed { c.len() } else { c.len().saturating_sub(1) };
        for i in 0..m {
            let (a, b) = (c[i], c[(i + 1) % c.len()]);
            let len = angle(a, b);
            if len == 0.0 {
                continue;
            }
            // a geodesic between offset points sags toward the edge by about len^2/8 tan(rho)
            let sag = |k: f64| (len / k).powi(2) / 8.0 * rho.tan() * EARTH_RADIUS;
            let mut k = 1.0;
            while sag(k) > tolerance / 2.0 && k < 1024.0 {
                k *= 2.0;
            }
            let n = sphere::normalize(sphere::robust_cross(a, b));
            let off = |p: P, sgn: f64| {
                sphere::normalize(sphere::add(sphere::mul(p, rho.cos()), sphere::mul(n, sgn * rho.sin())))
            };
            let steps = k as usize;
            let along: Vec<P> = (0..=steps).map(|j| sphere::interpolate(a, b, j as f64 / k)).collect();
            let mut band: Vec<P> = along.iter().map(|&p| off(p, -1.0)).collect();
            band.extend(along.iter().rev().map(|&p| off(p, 1.0)));
            parts.push(shape(band));
        }
    }
    Some(parts)
}

/// `geo_polygon_buffer(polygon, radius [, tolerance])`: the polygon or multipolygon of the
/// points within `radius` meters of a polygon or multipolygon; null when invalid.
fn f_polygon_buffer(a: &[V]) -> Out {
    dyn_out((|| {
        let pp = polys(json_of(a, 0))?;
        let (radius, tolerance) = buffer_args(a, 1)?;
        let base = region(&pp);
        let chains: Vec<(Vec<P>, bool)> = base.loops().into_iter().map(|l| (l, true)).collect();
        let mut parts = vec![base];
        parts.extend(edge_buffers(&chains, radius, tolerance)?);
        Some(shapes_json(&overlay::union_all(parts)))
    })())
}

/// `geo_line_buffer(line, radius [, tolerance])`: the polygon or multipolygon of the points
/// within `radius` meters of a line or multiline; null when invalid.
fn f_line_buffer(a: &[V]) -> Out {
    dyn_out((|| {
        let ls = lines(json_of(a, 0))?;
        let (radius, tolerance) = buffer_args(a, 1)?;
        let chains: Vec<(Vec<P>, bool)> = ls.iter().map(|l| (ps(l), false)).collect();
        Some(shapes_json(&overlay::union_all(edge_buffers(&chains, radius, tolerance)?)))
    })())
}

/// The most cells a covering may have.
const MAX_S2_CELLS: usize = 65_536;

fn s2_level_arg(a: &[V], k: usize) -> Option<u64> {
    let l = match a.get(k) {
        None | Some(V::Null) => 11,
        Some(v) => v.i()?,
    };
    (0..=30).contains(&l).then_some(l as u64)
}

/// `geo_polygon_to_s2cells(polygon [, level])`: the S2 cells of `level` (default 11) that cover
/// a polygon or multipolygon, as sorted tokens; null when invalid or more than 65,536 cells.
fn f_poly_to_s2cells(a: &[V]) -> Out {
    dyn_out((|| {
        let level = s2_level_arg(a, 1)?;
        let ls = region_loops(&polys(json_of(a, 0))?);
        let cells = cells::s2_covering(level, MAX_S2_CELLS, &|c| cells::cell_meets_region(c, &ls))?;
        Some(cells::tokens_json(&cells))
    })())
}

/// `geo_line_to_s2cells(line [, level])`: the S2 cells of `level` (default 11) that a line or
/// multiline crosses, as sorted tokens; null when invalid or more than 65,536 cells.
fn f_line_to_s2cells(a: &[V]) -> Out {
    dyn_out((|| {
        let level = s2_level_arg(a, 1)?;
        let chains: Vec<Vec<P>> = lines(json_of(a, 0))?.iter().map(|l| ps(l)).collect();
        let cells = cells::s2_covering(level, MAX_S2_CELLS, &|c| cells::cell_meets_lines(c, &chains))?;
        Some(cells::tokens_json(&cells))
    })())
}

/// `geo_polygon_to_h3cells(polygon [, resolution])`: the H3 cells of `resolution` (default 6)
/// whose centers lie in a polygon or multipolygon; null when invalid or more than 61,680
/// cells.
fn f_poly_to_h3cells(a: &[V]) -> Out {
    dyn_out((|| {
        let res = match a.get(1) {
            None | Some(V::Null) => 6,
            Some(v) => v.i()?,
        };
        let ls = region_loops(&polys(json_of(a, 0))?);
        cells::h3_polyfill(&ls, res)
    })())
}

// ---------------------------------------------------------------------------------------------
// shapes for the geo_polygon_lookup and geo_line_lookup plugins
// ---------------------------------------------------------------------------------------------

/// A lookup shape: a polygonal region or a set of lines.
pub enum LookupShape {
    Region(Vec<Vec<P>>),
    Lines(Vec<(P, P)>),
}

impl LookupShape {
    /// A polygon or multipolygon (`lines == false`) or a line or multiline from GeoJSON.
    pub fn parse(raw: &str, lines_wanted: bool) -> Option<LookupShape> {
        if lines_wanted {
            Some(LookupShape::Lines(line_edges(&lines(raw)?)))
        } else {
            Some(LookupShape::Region(region_loops(&polys(raw)?)))
        }
    }

    /// The distance in meters from a point to the shape (0 inside a region); `None` for an
    /// invalid point.
    pub fn distance(&self, lng: f64, lat: f64) -> Option<f64> {
        if !valid_arg(lng, lat) {
            return None;
        }
        let x = to_p((lng, lat));
        let es: Vec<(P, P)> = match self {
            LookupShape::Region(ls) => {
                if overlay::region_contains(ls, x) {
                    return Some(0.0);
                }
                ls.iter().flat_map(|v| edges(v, true).collect::<Vec<_>>()).collect()
            }
            LookupShape::Lines(es) => es.clone(),
        };
        Some(closest_on(es.into_iter(), x)?.0 * EARTH_RADIUS)
    }

    /// Whether a region contains the point (lines contain nothing).
    pub fn contains(&self, lng: f64, lat: f64) -> bool {
        match self {
            LookupShape::Region(ls) => valid_arg(lng, lat) && overlay::region_contains(ls, to_p((lng, lat))),
            LookupShape::Lines(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::output::rows_json;
    use crate::session::{Catalog, Session, SessionOptions};
    use serde_json::{json, Value};

    fn run(q: &str) -> Vec<Vec<Value>> {
        let s = Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
        let r = s.query(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        rows_json(&r)
    }

    fn one(q: &str) -> Value {
        run(q)[0][0].clone()
    }

    const SQ1: &str = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#;
    const SQ2: &str = r#"{"type":"Polygon","coordinates":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}"#;
    const SQ3: &str = r#"{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,2],[1,1]]]}"#;

    #[test]
    fn union_polygons_array() {
        let u = one(&format!("print geo_union_polygons_array(dynamic([{SQ1}, {SQ2}]))"));
        assert_eq!(u["type"], "Polygon");
        assert_eq!(u["coordinates"][0].as_array().unwrap().len(), 7);
        let u = one(&format!("print geo_union_polygons_array(dynamic([{SQ1}, {SQ3}, {SQ2}]))"));
        assert_eq!(u["type"], "Polygon");
        let far = r#"{"type":"Polygon","coordinates":[[[10,10],[11,10],[11,11],[10,10]]]}"#;
        let u = one(&format!("print geo_union_polygons_array(dynamic([{SQ1}, {far}]))"));
        assert_eq!(u["type"], "MultiPolygon");
        let bad = r#"{"type":"Polygon","coordinates":[[[1,1]]]}"#;
        assert_eq!(one(&format!("print geo_union_polygons_array(dynamic([{SQ1}, {bad}]))")), Value::Null);
    }

    #[test]
    fn intersection_of_polygons_is_closed() {
        let q = |a: &str, b: &str| one(&format!("print geo_intersection_2polygons(dynamic({a}), dynamic({b}))"));
        let p = q(SQ1, SQ3);
        assert_eq!(p["type"], "Point");
        assert!((p["coordinates"][0].as_f64().unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(q(SQ1, SQ2)["type"], "LineString");
        let inner = r#"{"type":"Polygon","coordinates":[[[0.5,0.5],[3,0.5],[3,3],[0.5,3],[0.5,0.5]]]}"#;
        let r = q(SQ1, inner);
        assert_eq!(r["type"], "Polygon");
        assert_eq!(r["coordinates"][0].as_array().unwrap().len(), 5);
        let far = r#"{"type":"Polygon","coordinates":[[[10,10],[11,10],[11,11],[10,10]]]}"#;
        assert_eq!(q(SQ1, far), json!({"type": "GeometryCollection", "geometries": []}));
        assert_eq!(q(SQ1, r#"{"type":"Polygon"}"#), Value::Null);
    }

    #[test]
    fn intersection_of_a_line_with_a_polygon() {
        let line = r#"{"type":"LineString","coordinates":[[-1,0.5],[0.5,0.5]]}"#;
        let r = one(&format!("print geo_intersection_line_with_polygon(dynamic({line}), dynamic({SQ1}))"));
        assert_eq!(r["type"], "LineString");
        let c = r["coordinates"].as_array().unwrap();
        assert!((c[0][0].as_f64().unwrap()).abs() < 1e-9 && (c[1][0].as_f64().unwrap() - 0.5).abs() < 1e-9);
        let away = r#"{"type":"LineString","coordinates":[[5,5],[6,6]]}"#;
        let r = one(&format!("print geo_intersection_line_with_polygon(dynamic({away}), dynamic({SQ1}))"));
        assert_eq!(r, json!({"type": "GeometryCollection", "geometries": []}));
    }

    #[test]
    fn union_lines_array() {
        let r = one(r#"print geo_union_lines_array(dynamic([{"type":"LineString","coordinates":[[0,0],[1,0],[2,0]]},
                {"type":"LineString","coordinates":[[1,0],[2,0],[3,0]]}]))"#);
        assert_eq!(r["type"], "LineString");
        assert_eq!(r["coordinates"].as_array().unwrap().len(), 4);
        let r = one(r#"print isnull(geo_union_lines_array(dynamic([{"type":"LineString","coordinates":[[1,1]]}])))"#);
        assert_eq!(r, json!(true));
    }

    #[test]
    fn simplify_polygons_array() {
        let r = one(&format!("print geo_simplify_polygons_array(dynamic([{SQ1}, {SQ2}]), 10)"));
        assert_eq!(r["type"], "Polygon");
        assert_eq!(one(&format!("print isnull(geo_simplify_polygons_array(dynamic([{SQ1}]), -1))")), json!(true));
        // a tolerance larger than the polygon makes it disappear
        assert_eq!(one(&format!("print isnull(geo_simplify_polygons_array(dynamic([{SQ1}]), 1000000))")), json!(true));
    }

    #[test]
    fn point_buffer_is_a_regular_polygon() {
        let r = one("print geo_point_buffer(-115.1745008278, 36.1497251277, 20000)");
        let ring = r["coordinates"][0].as_array().unwrap();
        // 100 vertices keep each edge within 10 m of the 20 km circle; the first repeats
        assert_eq!(ring.len(), 101);
        assert_eq!(ring[0], ring[100]);
        let d =
            one(&format!("print geo_distance_2points(-115.1745008278, 36.1497251277, {}, {})", ring[7][0], ring[7][1]));
        assert!((d.as_f64().unwrap() - 20000.0).abs() < 1e-6);
        assert_eq!(
            run("print geo_point_buffer(10, 10, 1000, 1)")[0][0]["coordinates"][0].as_array().unwrap().len(),
            72
        );
        assert_eq!(one("print isnull(geo_point_buffer(10, 10, -1))"), json!(true));
        assert_eq!(one("print isnull(geo_point_buffer(200, 1, 0.1))"), json!(true));
    }

    #[test]
    fn polygon_and_line_buffers() {
        let r = one(&format!("print geo_polygon_buffer(dynamic({SQ1}), 10000)"));
        assert_eq!(r["type"], "Polygon");
        let ring = r["coordinates"][0].as_array().unwrap();
        // every vertex is about 10 km away from the square
        for v in ring {
            let d = one(&format!("print geo_distance_point_to_polygon({}, {}, dynamic({SQ1}))", v[0], v[1]));
            assert!((d.as_f64().unwrap() - 10000.0).abs() < 20.0, "{v}: {d}");
        }
        assert_eq!(one(r#"print isnull(geo_polygon_buffer(dynamic({"type":"p"}), 1))"#), json!(true));
        assert_eq!(one(&format!("print isnull(geo_polygon_buffer(dynamic({SQ1}), 0))")), json!(true));
        let line = r#"{"type":"LineString","coordinates":[[0,0],[1,0]]}"#;
        let r = one(&format!("print geo_line_buffer(dynamic({line}), 1000)"));
        assert_eq!(r["type"], "Polygon");
        assert_eq!(
            one(&format!("print geo_point_in_polygon(0.5, 0.005, geo_line_buffer(dynamic({line}), 1000))")),
            json!(true)
        );
        assert_eq!(
            one(&format!("print geo_point_in_polygon(0.5, 0.02, geo_line_buffer(dynamic({line}), 1000))")),
            json!(false)
        );
    }

    #[test]
    fn coverings_with_cells() {
        // Kusto's documented count for this triangle at level 5
        let tri = r#"{"type":"Polygon","coordinates":[[[0,0],[0,50],[100,50],[0,0]]]}"#;
        assert_eq!(one(&format!("print array_length(geo_polygon_to_s2cells(dynamic({tri}), 5))")), json!(286));
        assert_eq!(one(&format!("print isnull(geo_polygon_to_s2cells(dynamic({tri}), 30))")), json!(true));
        let cells = one(&format!("print geo_polygon_to_s2cells(dynamic({SQ1}), 6)"));
        let cells: Vec<&str> = cells.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        let mut sorted = cells.clone();
        sorted.sort();
        assert_eq!(cells, sorted);
        let line = r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#;
        assert!(one(&format!("print array_length(geo_line_to_s2cells(dynamic({line}), 8))")).as_i64().unwrap() > 1);
        let bad = r#"{"type":"LineString","coordinates":[[[0,0],[0,0]]]}"#;
        assert_eq!(one(&format!("print isnull(geo_line_to_s2cells(dynamic({bad})))")), json!(true));
        // the H3 cells whose centers are inside (Kusto's documented example, as a set)
        let madrid = r#"{"type":"Polygon","coordinates":[[[-3.659,40.553],[-3.913,40.409],[-3.729,40.273],[-3.524,40.440],[-3.659,40.553]]]}"#;
        let h3 = one(&format!("print geo_polygon_to_h3cells(dynamic({madrid}))"));
        let mut got: Vec<&str> = h3.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        got.sort();
        let mut want = vec![
            "86390cb57ffffff",
            "86390cb0fffffff",
            "86390ca27ffffff",
            "86390cb87ffffff",
            "86390cb07ffffff",
            "86390ca2fffffff",
            "86390ca37ffffff",
            "86390cb17ffffff",
            "86390cb1fffffff",
            "86390cb8fffffff",
            "86390cba7ffffff",
            "86390ca07ffffff",
            "86390cbafffffff",
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn multipolygons_measure_their_union() {
        let mp = r#"{"type":"MultiPolygon","coordinates":[[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]],[[[-73.94262313842773,40.775991804565585],[-73.98107528686523,40.791849155467695],[-73.99600982666016,40.77092185281977],[-73.96150588989258,40.75609977566361],[-73.94262313842773,40.775991804565585]]]]}"#;
        let p = one(&format!("print geo_polygon_perimeter(dynamic({mp}))")).as_f64().unwrap();
        assert!((p - 15943.538457874043).abs() < 1e-6);
        // two disjoint squares: the sum
        let two = r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,6],[5,5]]]]}"#;
        let a = one(&format!("print geo_polygon_area(dynamic({two})) - geo_polygon_area(dynamic({SQ1})) - geo_polygon_area(dynamic({{\"type\":\"Polygon\",\"coordinates\":[[[5,5],[6,5],[6,6],[5,6],[5,5]]]}}))"));
        assert!(a.as_f64().unwrap().abs() < 1e-3);
    }

    #[test]
    fn lookup_plugins() {
        let rows = run(&format!(
            r#"let shapes = datatable(name:string, shape:dynamic)['one', dynamic({SQ1}), 'three', dynamic({SQ3})];
            datatable(p:string, lng:real, lat:real)['a', 0.5, 0.5, 'b', 1.5, 1.5, 'c', 5.0, 5.0]
            | evaluate geo_polygon_lookup(shapes, shape, lng, lat, return_unmatched = true)
            | order by p asc"#
        ));
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], [json!("a"), json!(0.5), json!(0.5), json!("one")]);
        assert_eq!(rows[1][3], json!("three"));
        assert_eq!(rows[2][3], json!(""));
        let rows = run(
            r#"let roads = datatable(name:string, road:dynamic)['r', dynamic({"type":"LineString","coordinates":[[0,0],[0,1]]})];
            datatable(p:string, lng:real, lat:real)['near', 0.001, 0.5, 'far', 1.0, 0.5]
            | evaluate geo_line_lookup(roads, road, lng, lat, 500, return_lookup_key = true)"#,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], json!("near"));
        assert_eq!(rows[0][4]["type"], json!("LineString"));
    }

    #[test]
    fn lines_sharing_a_stretch_meet_in_it() {
        let l = r#"{"type":"LineString","coordinates":[[0,0],[2,0]]}"#;
        let m = r#"{"type":"LineString","coordinates":[[1,0],[3,0]]}"#;
        assert_eq!(
            one(&format!("print geo_intersection_2lines(dynamic({l}), dynamic({m}))")),
            serde_json::json!({"type": "LineString", "coordinates": [[1.0, 0.0], [2.0, 0.0]]})
        );
        // crossing lines still meet in a point
        let x = r#"{"type":"LineString","coordinates":[[1,-1],[1,1]]}"#;
        assert_eq!(one(&format!("print geo_intersection_2lines(dynamic({l}), dynamic({x}))"))["type"], "Point");
    }

    #[test]
    fn wkt_geometry_collections_and_lines_shorter_than_the_tolerance() {
        let g = one("print geo_from_wkt('GEOMETRYCOLLECTION (POINT (1 1), LINESTRING (2 2, 3 3))')");
        assert_eq!(g["type"], "GeometryCollection");
        assert_eq!(g["geometries"][1]["coordinates"], serde_json::json!([[2.0, 2.0], [3.0, 3.0]]));
        assert_eq!(one("print geo_from_wkt('GEOMETRYCOLLECTION (POINT (1 1)')"), Value::Null);
        let short = r#"{"type":"LineString","coordinates":[[1.1,1.1],[1.2,1.2]]}"#;
        assert_eq!(one(&format!("print isnull(geo_line_simplify(dynamic({short}), 100000))")), serde_json::json!(true));
        assert_eq!(one(&format!("print isnull(geo_line_simplify(dynamic({short}), 10))")), serde_json::json!(false));
    }
}
