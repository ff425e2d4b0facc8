//! Spherical geometry the way Kusto computes it (it uses the S2 geometry library): points are
//! unit vectors, edges are great-circle arcs, lengths are angles times the S2 Earth radius
//! (6,371,010 m).

/// The Earth radius Kusto (S2) uses for measurements, in meters.
pub const EARTH_RADIUS: f64 = 6_371_010.0;

/// A point on the unit sphere.
pub type P = [f64; 3];

/// A `(longitude, latitude)` pair in degrees.
pub type LL = (f64, f64);

pub fn add(a: P, b: P) -> P {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
pub fn sub(a: P, b: P) -> P {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
pub fn mul(a: P, k: f64) -> P {
    [a[0] * k, a[1] * k, a[2] * k]
}
pub fn dot(a: P, b: P) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
pub fn cross(a: P, b: P) -> P {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
pub fn norm2(a: P) -> f64 {
    dot(a, a)
}
pub fn norm(a: P) -> f64 {
    norm2(a).sqrt()
}
pub fn normalize(a: P) -> P {
    let n = norm(a);
    if n == 0.0 {
        a
    } else {
        mul(a, 1.0 / n)
    }
}

/// S2's `RobustCrossProd`, simplified: `(b + a) x (b - a)` (twice `a x b`, more accurate for
/// close points).
pub fn robust_cross(a: P, b: P) -> P {
    let c = cross(add(b, a), sub(b, a));
    if norm2(c) > 0.0 {
        return c;
    }
    // a and b equal or antipodal: any vector orthogonal to a
    ortho(a)
}

fn ortho(a: P) -> P {
    let k = if a[0].abs() <= a[1].abs() && a[0].abs() <= a[2].abs() {
        [1.0, 0.0, 0.0]
    } else if a[1].abs() <= a[2].abs() {
        [0.0, 1.0, 0.0]
    } else {
        [0.0, 0.0, 1.0]
    };
    normalize(cross(a, k))
}

/// The unit vector of a `(lng, lat)` in degrees.
pub fn to_p((lng, lat): LL) -> P {
    let phi = lat * (std::f64::consts::PI / 180.0);
    let theta = lng * (std::f64::consts::PI / 180.0);
    let c = phi.cos();
    [theta.cos() * c, theta.sin() * c, phi.sin()]
}

/// The `(lng, lat)` in degrees of a point.
pub fn to_ll(p: P) -> LL {
    let lat = p[2].atan2((p[0] * p[0] + p[1] * p[1]).sqrt());
    let lng = p[1].atan2(p[0]);
    (lng * (180.0 / std::f64::consts::PI), lat * (180.0 / std::f64::consts::PI))
}

/// The angle between two points, in radians.
pub fn angle(a: P, b: P) -> f64 {
    norm(cross(a, b)).atan2(dot(a, b))
}

fn simple_ccw(a: P, b: P, c: P) -> bool {
    dot(cross(c, a), b) > 0.0
}

/// The point of edge `ab` closest to `x` (S2's `Project`).
pub fn project(x: P, a: P, b: P) -> P {
    let n = robust_cross(a, b);
    let p = sub(x, mul(n, dot(x, n) / norm2(n)));
    if simple_ccw(n, a, p) && simple_ccw(p, b, n) {
        return normalize(p);
    }
    if norm2(sub(x, a)) <= norm2(sub(x, b)) {
        a
    } else {
        b
    }
}

/// The point at angle `r` from `a` toward `b`.
pub fn point_on_line(a: P, b: P, r: f64) -> P {
    let dir = normalize(cross(robust_cross(a, b), a));
    normalize(add(mul(a, r.cos()), mul(dir, r.sin())))
}

/// S2's `Interpolate(a, b, t)`: the point a fraction `t` of the way from `a` to `b`.
pub fn interpolate(a: P, b: P, t: f64) -> P {
    if t == 0.0 {
        return a;
    }
    if t == 1.0 {
        return b;
    }
    point_on_line(a, b, t * angle(a, b))
}

/// The true centroid of edge `ab`, scaled by its length.
pub fn edge_centroid(a: P, b: P) -> P {
    let vdiff = sub(a, b);
    let vsum = add(a, b);
    let sin2 = norm2(vdiff);
    let cos2 = norm2(vsum);
    if cos2 == 0.0 {
        return [0.0; 3];
    }
    mul(vsum, (sin2 / cos2).sqrt())
}

/// The true centroid of triangle `abc`, scaled by its signed area (S2's `TrueCentroid`).
pub fn triangle_centroid(a: P, b: P, c: P) -> P {
    let aa = angle(b, c);
    let ab = angle(c, a);
    let ac = angle(a, b);
    let f = |t: f64| if t == 0.0 { 1.0 } else { t / t.sin() };
    let (ra, rb, rc) = (f(aa), f(ab), f(ac));
    let x = [a[0], b[0] - a[0], c[0] - a[0]];
    let y = [a[1], b[1] - a[1], c[1] - a[1]];
    let z = [a[2], b[2] - a[2], c[2] - a[2]];
    let r = [ra, rb - ra, rc - ra];
    mul([dot(cross(y, z), r), dot(cross(r, z), x), dot(cross(r, x), y)], 0.5)
}

/// The unsigned area of triangle `abc` (l'Huilier / Girard, as S2).
pub fn triangle_area(a: P, b: P, c: P) -> f64 {
    let sa = angle(b, c);
    let sb = angle(c, a);
    let sc = angle(a, b);
    let s = 0.5 * (sa + sb + sc);
    if s >= 3e-4 {
        let s2 = s * s;
        let dmin = s - sa.max(sb).max(sc);
        if dmin < 1e-2 * s * s2 * s2 {
            // Girard
            let ab = robust_cross(a, b);
            let bc = robust_cross(b, c);
            let ac = robust_cross(a, c);
            let t = angle(ab, ac) - angle(ab, bc) + angle(bc, ac);
            return t.max(0.0);
        }
    }
    4.0 * ((0.5 * s).tan() * (0.5 * (s - sa)).tan() * (0.5 * (s - sb)).tan() * (0.5 * (s - sc)).tan())
        .max(0.0)
        .sqrt()
        .atan()
}

fn sign(a: P, b: P, c: P) -> f64 {
    if dot(cross(a, b), c) >= 0.0 {
        1.0
    } else {
        -1.0
    }
}

/// The signed area of a loop (vertices without the closing repeat): positive when
/// counterclockwise.
pub fn loop_signed_area(v: &[P]) -> f64 {
    let mut s = 0.0;
    for i in 1..v.len().saturating_sub(1) {
        s += sign(v[0], v[i], v[i + 1]) * triangle_area(v[0], v[i], v[i + 1]);
    }
    s
}

/// The area-weighted centroid of a loop (vertices without the closing repeat).
pub fn loop_centroid(v: &[P]) -> P {
    let mut s = [0.0; 3];
    for i in 1..v.len().saturating_sub(1) {
        s = add(s, triangle_centroid(v[0], v[i], v[i + 1]));
    }
    s
}

/// Whether loop `v` (without the closing repeat, counterclockwise) contains `p`, by the
/// winding number of the loop around `p`.
pub fn loop_contains(v: &[P], p: P) -> bool {
    let mut total = 0.0;
    for i in 0..v.len() {
        let a = v[i];
        let b = v[(i + 1) % v.len()];
        let na = cross(p, a);
        let nb = cross(p, b);
        total += dot(cross(na, nb), p).atan2(dot(na, nb));
    }
    total > std::f64::consts::PI
}

/// Whether edges `ab` and `cd` cross or touch, and where (the first point of contact).
pub fn edge_intersection(a: P, b: P, c: P, d: P) -> Option<P> {
    let n1 = robust_cross(a, b);
    let n2 = robust_cross(c, d);
    let on = |x: P, p: P, q: P, n: P| -> bool {
        // x on the great circle of pq (normal n): within the arc?
        simple_ccw_eq(n, p, x) && simple_ccw_eq(x, q, n)
    };
    let mut x = cross(n1, n2);
    if norm2(x) < 1e-30 {
        // same great circle: overlapping endpoints
        for p in [c, d] {
            if dist_to_edge(p, a, b) < 1e-15 {
                return Some(p);
            }
        }
        for p in [a, b] {
            if dist_to_edge(p, c, d) < 1e-15 {
                return Some(p);
            }
        }
        return None;
    }
    x = normalize(x);
    for cand in [x, mul(x, -1.0)] {
        if on(cand, a, b, n1) && on(cand, c, d, n2) {
            return Some(cand);
        }
    }
    // touching at endpoints
    for p in [a, b] {
        if dist_to_edge(p, c, d) < 1e-15 {
            return Some(p);
        }
    }
    [c, d].into_iter().find(|&p| dist_to_edge(p, a, b) < 1e-15)
}

fn simple_ccw_eq(a: P, b: P, c: P) -> bool {
    dot(cross(c, a), b) >= -1e-15
}

/// The angular distance from `x` to edge `ab`.
pub fn dist_to_edge(x: P, a: P, b: P) -> f64 {
    angle(x, project(x, a, b))
}

/// S2's `Ortho(a)`: a unit vector orthogonal to `a`, chosen the way S2 does (it fixes, for
/// example, where Kusto's point buffers start).
pub fn s2_ortho(a: P) -> P {
    let m = [a[0].abs(), a[1].abs(), a[2].abs()];
    let largest = if m[0] > m[1] {
        if m[0] > m[2] {
            0
        } else {
            2
        }
    } else if m[1] > m[2] {
        1
    } else {
        2
    };
    let k = if largest == 0 { 2 } else { largest - 1 };
    let mut t = [0.012, 0.0053, 0.00457];
    t[k] = 1.0;
    normalize(cross(a, t))
}
