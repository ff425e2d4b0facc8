//! Boolean operations on spherical polygons and polylines (union, intersection, difference),
//! the way Kusto computes them with S2's `S2BooleanOperation` and `S2Builder`: edges are
//! great-circle arcs, input edges are split where they cross or touch, the pieces that bound
//! the result are assembled into loops turning left at shared vertices, and each loop starts
//! so that the piece of the highest-numbered input edge comes last (S2's
//! `CanonicalizeLoopOrder`); loops are ordered by their first input edge. Polygons use the
//! closed model: boundaries shared by both operands of an intersection give points or lines.

use super::sphere::{self, add, cross, dot, mul, norm2, normalize, sub, P};
use std::collections::HashMap;

/// A loop: its vertices without the closing repeat, the interior on its left (shells
/// counterclockwise, holes clockwise).
pub type Loop = Vec<P>;

/// Points closer than this (radians, about 0.6 micrometers on Earth) are the same vertex.
const MERGE: f64 = 1e-13;

/// A boolean operation on two regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Union,
    Intersection,
    Difference,
}

impl Op {
    fn apply(self, a: bool, b: bool) -> bool {
        match self {
            Op::Union => a || b,
            Op::Intersection => a && b,
            Op::Difference => a && !b,
        }
    }
}

/// The signed angle `a` and `b` subtend at `q` (positive counterclockwise).
fn subtended(q: P, a: P, b: P) -> f64 {
    let na = cross(q, a);
    let nb = cross(q, b);
    dot(cross(na, nb), q).atan2(dot(na, nb))
}

/// How many times the loops wind around `q` (counterclockwise positive).
pub fn winding(loops: &[Loop], q: P) -> i64 {
    let mut total = 0.0;
    for l in loops {
        for i in 0..l.len() {
            total += subtended(q, l[i], l[(i + 1) % l.len()]);
        }
    }
    (total / (2.0 * std::f64::consts::PI)).round() as i64
}

/// Whether a region (loops, interior on the left; overlapping shells allowed) contains `q`.
pub fn region_contains(loops: &[Loop], q: P) -> bool {
    winding(loops, q) >= 1
}

/// S2's `Sign(a, b, c)`: the orientation of the triangle.
fn orient(a: P, b: P, c: P) -> i32 {
    let d = dot(cross(a, b), c);
    if d > 0.0 {
        1
    } else if d < 0.0 {
        -1
    } else {
        0
    }
}

/// Where edges `ab` and `cd` cross at a point interior to both (S2's `CrossingSign` > 0).
fn crossing(a: P, b: P, c: P, d: P) -> Option<P> {
    let acb = -orient(a, b, c);
    let bda = orient(a, b, d);
    if acb == 0 || bda != acb {
        return None;
    }
    let cbd = -orient(c, d, b);
    let dac = orient(c, d, a);
    if cbd != acb || dac != acb {
        return None;
    }
    let x = normalize(cross(sphere::robust_cross(a, b), sphere::robust_cross(c, d)));
    Some(if dot(x, add(add(a, b), add(c, d))) < 0.0 { mul(x, -1.0) } else { x })
}

/// The merged vertices of a graph.
#[derive(Default)]
struct Verts {
    pts: Vec<P>,
    grid: HashMap<(i64, i64, i64), Vec<usize>>,
}

impl Verts {
    fn key(p: P) -> (i64, i64, i64) {
        let s = 1.0 / (MERGE * 16.0);
        ((p[0] * s).floor() as i64, (p[1] * s).floor() as i64, (p[2] * s).floor() as i64)
    }
    /// The id of `p`, merging it with a vertex closer than `MERGE`.
    fn id(&mut self, p: P) -> usize {
        let (x, y, z) = Self::key(p);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(ids) = self.grid.get(&(x + dx, y + dy, z + dz)) {
                        for &i in ids {
                            if norm2(sub(self.pts[i], p)) < MERGE * MERGE {
                                return i;
                            }
                        }
                    }
                }
            }
        }
        self.pts.push(p);
        self.grid.entry((x, y, z)).or_default().push(self.pts.len() - 1);
        self.pts.len() - 1
    }
}

/// An input edge: its region (0 or 1), its end vertices and its S2 input edge id.
#[derive(Clone, Copy)]
struct InEdge {
    region: usize,
    a: usize,
    b: usize,
    id: usize,
}

/// The input edges of polygons and polylines with their crossings and touching vertices,
/// split into pieces `(from, to, input edge index)`.
struct Arrangement {
    v: Verts,
    edges: Vec<InEdge>,
    pieces: Vec<(usize, usize, usize)>,
}

impl Arrangement {
    /// `chains`: per region, its chains of points and whether each is closed (a loop).
    fn new(chains: [&[(Vec<P>, bool)]; 2]) -> Arrangement {
        let mut v = Verts::default();
        let mut edges = Vec::new();
        let mut id = 0;
        for (region, cs) in chains.iter().enumerate() {
            for (c, closed) in cs.iter() {
                let n = c.len();
                let m = if *closed { n } else { n.saturating_sub(1) };
                for i in 0..m {
                    let (a, b) = (v.id(c[i]), v.id(c[(i + 1) % n]));
                    if a != b {
                        edges.push(InEdge { region, a, b, id });
                    }
                    id += 1;
                }
            }
        }
        // the points on each edge: crossings and vertices lying on it
        let mut on: Vec<Vec<usize>> = vec![Vec::new(); edges.len()];
        for i in 0..edges.len() {
            for j in i + 1..edges.len() {
                let (e, f) = (edges[i], edges[j]);
                if e.a == f.a || e.a == f.b || e.b == f.a || e.b == f.b {
                    continue;
                }
                let (a, b, c, d) = (v.pts[e.a], v.pts[e.b], v.pts[f.a], v.pts[f.b]);
                if let Some(x) = crossing(a, b, c, d) {
                    let k = v.id(x);
                    on[i].push(k);
                    on[j].push(k);
                }
            }
        }
        for (i, e) in edges.iter().enumerate() {
            let (a, b) = (v.pts[e.a], v.pts[e.b]);
            for k in 0..v.pts.len() {
                if k != e.a && k != e.b && !on[i].contains(&k) && sphere::dist_to_edge(v.pts[k], a, b) < MERGE {
                    on[i].push(k);
                }
            }
        }
        let mut pieces = Vec::new();
        for (i, e) in edges.iter().enumerate() {
            let a = v.pts[e.a];
            let mut pts = on[i].clone();
            pts.sort_by(|&x, &y| sphere::angle(a, v.pts[x]).total_cmp(&sphere::angle(a, v.pts[y])));
            pts.dedup();
            let mut prev = e.a;
            for k in pts.into_iter().chain(std::iter::once(e.b)) {
                if k != prev {
                    pieces.push((prev, k, i));
                    prev = k;
                }
            }
        }
        Arrangement { v, edges, pieces }
    }

    /// Points just left and right of the middle of piece `(u, w)`.
    fn sides(&self, u: usize, w: usize) -> (P, P) {
        let (a, b) = (self.v.pts[u], self.v.pts[w]);
        let m = normalize(add(a, b));
        let n = normalize(sphere::robust_cross(a, b));
        let delta = (sphere::angle(a, b) * 1e-3).min(1e-9);
        (normalize(add(m, mul(n, delta))), normalize(sub(m, mul(n, delta))))
    }

    fn mid(&self, u: usize, w: usize) -> P {
        normalize(add(self.v.pts[u], self.v.pts[w]))
    }
}

/// A directed edge of a result: its vertices and the smallest input edge id it came from.
type OutEdge = (usize, usize, usize);

/// S2's `CanonicalizeLoopOrder`: rotate the loop so that the edge with the highest input id
/// comes last (the last of a run of equal ids).
fn canonicalize(ids: &[usize]) -> usize {
    let mut pos = 0;
    let mut saw_gap = false;
    for i in 1..ids.len() {
        if ids[i] < ids[pos] {
            saw_gap = true;
        } else if ids[i] > ids[pos] || !saw_gap {
            pos = i;
            saw_gap = false;
        }
    }
    (pos + 1) % ids.len()
}

/// Assemble directed edges into simple loops, turning left as much as possible at shared
/// vertices (S2Builder's `GetDirectedLoops` with simple loops).
fn assemble_loops(pts: &[P], edges: &[OutEdge]) -> Vec<Vec<OutEdge>> {
    let mut out_of: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut in_of: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, e) in edges.iter().enumerate() {
        out_of.entry(e.0).or_default().push(k);
        in_of.entry(e.1).or_default().push(k);
    }
    // the left-turn map: each incoming edge is matched with the outgoing edge that turns
    // most to the left
    let mut next: Vec<Option<usize>> = vec![None; edges.len()];
    for (v, ins) in &in_of {
        let Some(outs) = out_of.get(v) else { continue };
        let mut taken = vec![false; outs.len()];
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for &i in ins {
            for (j, &o) in outs.iter().enumerate() {
                pairs.push((turn(pts, edges[i].0, *v, edges[o].1), i, j));
            }
        }
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
        for (_, i, j) in pairs {
            if next[i].is_none() && !taken[j] {
                next[i] = Some(outs[j]);
                taken[j] = true;
            }
        }
    }
    let mut used = vec![false; edges.len()];
    let mut order: Vec<usize> = (0..edges.len()).collect();
    order.sort_by_key(|&k| (edges[k].2, edges[k].0, edges[k].1));
    let mut loops: Vec<Vec<OutEdge>> = Vec::new();
    for start in order {
        let mut path: Vec<usize> = Vec::new();
        let mut index: HashMap<usize, usize> = HashMap::new();
        let mut e = start;
        while !used[e] {
            used[e] = true;
            index.insert(edges[e].0, path.len());
            path.push(e);
            let Some(n) = next[e] else { break };
            if let Some(&at) = index.get(&edges[n].0) {
                let lp: Vec<usize> = path.drain(at..).collect();
                for &x in &lp {
                    index.remove(&edges[x].0);
                }
                loops.push(lp.iter().map(|&x| edges[x]).collect());
            }
            e = n;
        }
    }
    for l in &mut loops {
        let ids: Vec<usize> = l.iter().map(|e| e.2).collect();
        let r = canonicalize(&ids);
        l.rotate_left(r);
    }
    loops.sort_by_key(|l| l[0].2);
    loops
}

/// The clockwise angle at `v` from the direction back to `u` to the direction toward `w`: the
/// smallest is the sharpest left turn.
fn turn(pts: &[P], u: usize, v: usize, w: usize) -> f64 {
    let (pu, pv, pw) = (pts[u], pts[v], pts[w]);
    let tu = sub(pu, mul(pv, dot(pu, pv)));
    let tw = sub(pw, mul(pv, dot(pw, pv)));
    let ccw = dot(pv, cross(tu, tw)).atan2(dot(tu, tw));
    let cw = -ccw;
    if cw <= 0.0 {
        cw + 2.0 * std::f64::consts::PI
    } else {
        cw
    }
}

/// The result of an operation: polygons (each a shell and its holes), polylines and points.
#[derive(Debug, Default, Clone)]
pub struct Shapes {
    pub polygons: Vec<Vec<Loop>>,
    pub lines: Vec<Vec<P>>,
    pub points: Vec<P>,
}

impl Shapes {
    /// The loops of all polygons, as one region.
    pub fn loops(&self) -> Vec<Loop> {
        self.polygons.iter().flatten().cloned().collect()
    }
    pub fn num_vertices(&self) -> usize {
        self.polygons.iter().flatten().map(|l| l.len()).sum()
    }
}

/// Group loops into polygons: counterclockwise loops are shells, each clockwise loop is a hole
/// of the smallest shell containing it (S2Polygon's nesting, in the loops' order).
fn nest(loops: Vec<Loop>) -> Vec<Vec<Loop>> {
    let area = |l: &Loop| sphere::loop_signed_area(l);
    let mut shells: Vec<(Vec<Loop>, f64)> = Vec::new();
    let mut holes: Vec<Loop> = Vec::new();
    for l in loops {
        let a = area(&l);
        if a >= 0.0 {
            shells.push((vec![l], a));
        } else {
            holes.push(l);
        }
    }
    for h in holes {
        // a point just inside the hole: right of its first edge
        let (a, b) = (h[0], h[1 % h.len()]);
        let m = normalize(add(a, b));
        let n = normalize(sphere::robust_cross(a, b));
        let q = normalize(sub(m, mul(n, (sphere::angle(a, b) * 1e-3).min(1e-9))));
        let best = shells
            .iter()
            .enumerate()
            .filter(|(_, (s, _))| region_contains(&s[..1], q))
            .min_by(|x, y| x.1 .1.total_cmp(&y.1 .1))
            .map(|(i, _)| i);
        match best {
            Some(i) => shells[i].0.push(h),
            // a hole without a shell: the complement of the hole (larger than a hemisphere)
            None => shells.push((vec![h], 0.0)),
        }
    }
    shells.into_iter().map(|(s, _)| s).collect()
}

/// `a op b` for two polygonal regions (loops with their interior on the left).
pub fn polygons(a: &[Loop], b: &[Loop], op: Op) -> Shapes {
    let ca: Vec<(Vec<P>, bool)> = a.iter().map(|l| (l.clone(), true)).collect();
    let cb: Vec<(Vec<P>, bool)> = b.iter().map(|l| (l.clone(), true)).collect();
    let g = Arrangement::new([&ca, &cb]);
    let inside = |q: P| op.apply(region_contains(a, q), region_contains(b, q));
    let mut kept: HashMap<(usize, usize), usize> = HashMap::new();
    // boundary pieces of each operand, to find shared boundaries (closed model)
    let mut on_b: HashMap<(usize, usize), ()> = HashMap::new();
    for &(u, w, ei) in &g.pieces {
        let e = g.edges[ei];
        let key = (u.min(w), u.max(w));
        if e.region == 1 {
            on_b.insert(key, ());
        }
        let (l, r) = g.sides(u, w);
        let (il, ir) = (inside(l), inside(r));
        if il == ir {
            continue;
        }
        let d = if il { (u, w) } else { (w, u) };
        let slot = kept.entry(d).or_insert(e.id);
        *slot = (*slot).min(e.id);
    }
    let edges: Vec<OutEdge> = kept.iter().map(|(&(u, w), &id)| (u, w, id)).collect();
    let loops = assemble_loops(&g.v.pts, &edges);
    let mut used_verts: Vec<bool> = vec![false; g.v.pts.len()];
    for &(u, w, _) in &edges {
        used_verts[u] = true;
        used_verts[w] = true;
    }
    let polys = nest(loops.iter().map(|l| l.iter().map(|e| g.v.pts[e.0]).collect()).collect());
    let mut out = Shapes { polygons: polys, ..Default::default() };
    if op == Op::Intersection {
        // shared boundaries outside the polygonal result: lines and points
        let mut shared: Vec<(usize, usize, usize)> = Vec::new();
        for &(u, w, ei) in &g.pieces {
            let key = (u.min(w), u.max(w));
            if g.edges[ei].region == 0
                && on_b.contains_key(&key)
                && !kept.contains_key(&(u, w))
                && !kept.contains_key(&(w, u))
                && !shared.iter().any(|s| (s.0.min(s.1), s.0.max(s.1)) == key)
            {
                shared.push((u, w, g.edges[ei].id));
            }
        }
        for &(u, w, _) in &shared {
            used_verts[u] = true;
            used_verts[w] = true;
        }
        out.lines = chain_lines(&g.v.pts, &shared);
        let mut verts_a = vec![false; g.v.pts.len()];
        for &(u, w, ei) in &g.pieces {
            if g.edges[ei].region == 0 {
                verts_a[u] = true;
                verts_a[w] = true;
            }
        }
        let mut seen = vec![false; g.v.pts.len()];
        for &(u, w, ei) in &g.pieces {
            if g.edges[ei].region != 1 {
                continue;
            }
            for k in [u, w] {
                if verts_a[k] && !used_verts[k] && !seen[k] {
                    seen[k] = true;
                    out.points.push(g.v.pts[k]);
                }
            }
        }
    }
    out
}

/// Chain directed edges into maximal polylines (in the order of their input edge ids).
fn chain_lines(pts: &[P], edges: &[OutEdge]) -> Vec<Vec<P>> {
    let mut order: Vec<usize> = (0..edges.len()).collect();
    order.sort_by_key(|&k| edges[k].2);
    let mut indeg: HashMap<usize, usize> = HashMap::new();
    let mut outs: HashMap<usize, Vec<usize>> = HashMap::new();
    for &k in &order {
        *indeg.entry(edges[k].1).or_default() += 1;
        outs.entry(edges[k].0).or_default().push(k);
    }
    let mut used = vec![false; edges.len()];
    let mut lines = Vec::new();
    // first the chains starting where more edges leave than arrive, then the cycles
    for pass in 0..2 {
        for &k in &order {
            if used[k] {
                continue;
            }
            let s = edges[k].0;
            let excess = outs.get(&s).map_or(0, |o| o.len()) > indeg.get(&s).copied().unwrap_or(0);
            if pass == 0 && !excess {
                continue;
            }
            let mut line = vec![pts[s]];
            let mut e = k;
            loop {
                used[e] = true;
                line.push(pts[edges[e].1]);
                let next = outs.get(&edges[e].1).and_then(|o| o.iter().copied().find(|&x| !used[x]));
                match next {
                    Some(x) => e = x,
                    None => break,
                }
            }
            lines.push(line);
        }
    }
    lines
}

/// The parts of polylines inside a region (boundary included).
pub fn clip_lines(lines: &[Vec<P>], region: &[Loop]) -> Shapes {
    let cl: Vec<(Vec<P>, bool)> = lines.iter().map(|l| (l.clone(), false)).collect();
    let cr: Vec<(Vec<P>, bool)> = region.iter().map(|l| (l.clone(), true)).collect();
    let g = Arrangement::new([&cl, &cr]);
    let boundary: Vec<(P, P)> =
        g.pieces.iter().filter(|p| g.edges[p.2].region == 1).map(|p| (g.v.pts[p.0], g.v.pts[p.1])).collect();
    let on_boundary = |q: P| boundary.iter().any(|&(a, b)| sphere::dist_to_edge(q, a, b) < MERGE);
    let mut kept: Vec<OutEdge> = Vec::new();
    let mut touched: Vec<usize> = Vec::new();
    let boundary_verts: Vec<usize> =
        g.pieces.iter().filter(|p| g.edges[p.2].region == 1).flat_map(|p| [p.0, p.1]).collect();
    for &(u, w, ei) in &g.pieces {
        let e = g.edges[ei];
        if e.region != 0 {
            continue;
        }
        let m = g.mid(u, w);
        if region_contains(region, m) || on_boundary(m) {
            kept.push((u, w, e.id));
        } else {
            for k in [u, w] {
                if boundary_verts.contains(&k) || region_contains(region, g.v.pts[k]) {
                    touched.push(k);
                }
            }
        }
    }
    let mut out = Shapes { lines: chain_lines(&g.v.pts, &kept), ..Default::default() };
    for k in touched {
        if !kept.iter().any(|e| e.0 == k || e.1 == k) && !out.points.contains(&g.v.pts[k]) {
            out.points.push(g.v.pts[k]);
        }
    }
    out
}

/// The union of polylines: duplicate edges (either direction) merged, chained into maximal
/// polylines.
pub fn union_lines(lines: &[Vec<P>]) -> Vec<Vec<P>> {
    let mut v = Verts::default();
    let mut edges: Vec<OutEdge> = Vec::new();
    let mut id = 0;
    for l in lines {
        for w in l.windows(2) {
            let (a, b) = (v.id(w[0]), v.id(w[1]));
            if a != b && !edges.iter().any(|e| (e.0 == a && e.1 == b) || (e.0 == b && e.1 == a)) {
                edges.push((a, b, id));
            }
            id += 1;
        }
    }
    chain_lines(&v.pts, &edges)
}

/// The union of many polygonal regions as S2's `DestructiveUnion`: repeatedly unite the two
/// with the fewest vertices (counting a union as the sum of its operands).
pub fn union_all(regions: Vec<Shapes>) -> Shapes {
    let mut queue: Vec<(usize, Shapes)> = regions.into_iter().map(|s| (s.num_vertices(), s)).collect();
    // stable: equal sizes keep their order, a new union goes after the equal ones
    queue.sort_by_key(|x| x.0);
    while queue.len() > 1 {
        let (na, a) = queue.remove(0);
        let (nb, b) = queue.remove(0);
        let u = polygons(&a.loops(), &b.loops(), Op::Union);
        let n = na + nb;
        let at = queue.iter().position(|x| x.0 > n).unwrap_or(queue.len());
        queue.insert(at, (n, Shapes { polygons: u.polygons, ..Default::default() }));
    }
    queue.pop().map(|x| x.1).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::geo::sphere::{to_ll, to_p};

    fn sq(x0: f64, y0: f64, s: f64) -> Loop {
        [(x0, y0), (x0 + s, y0), (x0 + s, y0 + s), (x0, y0 + s)].iter().map(|&p| to_p(p)).collect()
    }

    fn lls(l: &[P]) -> Vec<(f64, f64)> {
        l.iter().map(|&p| to_ll(p)).map(|(x, y)| ((x * 1e9).round() / 1e9, (y * 1e9).round() / 1e9)).collect()
    }

    #[test]
    fn union_of_adjacent_squares_drops_the_shared_edge() {
        let u = polygons(&[sq(0.0, 0.0, 1.0)], &[sq(1.0, 0.0, 1.0)], Op::Union);
        assert_eq!(u.polygons.len(), 1);
        assert_eq!(u.polygons[0].len(), 1);
        // 6 vertices, starting after the highest input edge kept (the second square's top)
        let l = lls(&u.polygons[0][0]);
        assert_eq!(l.len(), 6);
        assert_eq!(l[0], (1.0, 1.0));
        assert_eq!(l[5], (2.0, 1.0));
        assert!(l.contains(&(2.0, 1.0)) && l.contains(&(1.0, 1.0)));
    }

    #[test]
    fn intersection_of_overlapping_squares() {
        let r = polygons(&[sq(0.0, 0.0, 2.0)], &[sq(1.0, 1.0, 2.0)], Op::Intersection);
        assert_eq!(r.polygons.len(), 1);
        let mut l = lls(&r.polygons[0][0]);
        l.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(l.len(), 4);
        assert_eq!(l[0], (1.0, 1.0));
        assert!(r.points.is_empty() && r.lines.is_empty());
    }

    #[test]
    fn touching_squares_intersect_in_a_point_or_a_line() {
        let r = polygons(&[sq(0.0, 0.0, 1.0)], &[sq(1.0, 1.0, 1.0)], Op::Intersection);
        assert!(r.polygons.is_empty());
        assert_eq!(lls(&r.points), vec![(1.0, 1.0)]);
        let r = polygons(&[sq(0.0, 0.0, 1.0)], &[sq(1.0, 0.0, 1.0)], Op::Intersection);
        assert!(r.polygons.is_empty() && r.points.is_empty());
        assert_eq!(r.lines.len(), 1);
        let r = polygons(&[sq(0.0, 0.0, 1.0)], &[sq(5.0, 5.0, 1.0)], Op::Intersection);
        assert!(r.polygons.is_empty() && r.points.is_empty() && r.lines.is_empty());
    }

    #[test]
    fn union_with_a_hole_and_difference() {
        let d = polygons(&[sq(0.0, 0.0, 4.0)], &[sq(1.0, 1.0, 1.0)], Op::Difference);
        assert_eq!(d.polygons.len(), 1);
        assert_eq!(d.polygons[0].len(), 2);
        assert!(sphere::loop_signed_area(&d.polygons[0][1]) < 0.0);
        // a ring of four squares around a gap: one shell with one hole
        let ring = vec![
            Shapes { polygons: vec![vec![sq(0.0, 0.0, 3.0)]], ..Default::default() },
            Shapes { polygons: vec![vec![sq(10.0, 0.0, 1.0)]], ..Default::default() },
        ];
        let u = union_all(ring);
        assert_eq!(u.polygons.len(), 2);
    }

    #[test]
    fn clipping_and_uniting_lines() {
        let line = vec![to_p((-1.0, 0.5)), to_p((0.5, 0.5))];
        let r = clip_lines(&[line], &[sq(0.0, 0.0, 1.0)]);
        assert_eq!(r.lines.len(), 1);
        // the edge is a great circle: it meets the meridian a little north of 0.5
        let l = lls(&r.lines[0]);
        assert_eq!(l.len(), 2);
        assert!(l[0].0.abs() < 1e-9 && (l[0].1 - 0.500038078).abs() < 1e-9);
        assert_eq!(l[1], (0.5, 0.5));
        let a = vec![to_p((0.0, 0.0)), to_p((1.0, 0.0)), to_p((2.0, 0.0))];
        let b = vec![to_p((1.0, 0.0)), to_p((2.0, 0.0)), to_p((3.0, 0.0))];
        let u = union_lines(&[a, b]);
        assert_eq!(u.len(), 1);
        assert_eq!(lls(&u[0]), vec![(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)]);
    }
}
