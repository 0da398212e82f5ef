"""Edge-pair relations: the machinery under width, space, separation, enclosure and overlap.

Semantics are KLayout's edge relation checks (0.30) with the Euclidean metric,
`whole_edges` off, `ignore_angle` 90, `shielded` on and zero-distance mode
`IncludeZeroDistanceWhenTouching`; docs/semantics.md has the details and the reasons.

* Each edge is directed with the polygon interior on its right. A relation names, for
  each of the two edges, the side on which the other edge must lie: ``inside`` (towards
  the polygon's interior) or ``outside``. Edges are first normalized so that the named
  side is on the right (an ``outside`` edge is reversed).
* The two normalized edges must face each other: their directions make an angle of more
  than 90 degrees (scalar product < 0). So the two edges at a convex 90-degree corner,
  collinear pieces of one straight side and the edges at an obtuse (e.g. 135-degree)
  bend are never a pair; the edges of an acute corner are.
* Each edge is clipped to the other edge's named side: the open half-plane, or the
  closed one when the two edges touch (share a point) without being consecutive edges
  of one contour. So a via flush with its pad's edge (enclosure 0), shapes abutting on
  another layer (separation 0) and shapes meeting only at a corner (space 0) are pairs.
* The reported edge pair is the part of each clipped edge that lies closer than the
  limit to the other (whole) edge, on the grid as KLayout's output edges are (offsets
  from the edge's start rounded half away from zero); its value is the exact Euclidean
  distance between the two parts before rounding. A value exactly at the limit passes
  (see `pkgdrc.units.EPS_DBU`).
* Shielding (`pkgdrc.geometry.shielding`): a pair is dropped when another edge cuts
  through the space between its two edges: it is the nearer feature that is measured.
  Shields are, as in KLayout, any edge of the layer (space), of the same
  shape (width), or of the first edge's own shape and any shape of the second layer
  (two-layer checks: other shapes of the first layer do not shield).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from pkgdrc.geometry.edges import EdgeIndex, Edges, box_pairs
from pkgdrc.geometry.edges import cross as _cross
from pkgdrc.geometry.edges import dot as _dot
from pkgdrc.geometry.shielding import shielded as shielded_pairs
from pkgdrc.units import EPS_DBU, round_half_away

Side = Literal["inside", "outside"]


@dataclass
class EdgePairs:
    """(N, 2, 2, 2) edge pairs, their distances, and the indices of the source edges."""

    pairs: np.ndarray
    distance: np.ndarray
    ia: np.ndarray
    ib: np.ndarray

    def __len__(self) -> int:
        return len(self.distance)


# How far beyond a rule's distance, in dbu, a shape can still change a pair: pairs are
# rounded to the grid before shields are tested on them (half a dbu each way). The one pad
# every engine adds to an interaction distance (`pkgdrc.reach.interaction_dbu`, repeats).
REACH_PAD_DBU = 2.0

CHUNK_PAIRS = 1 << 18  # candidate pairs measured at once: bounds relate's temporaries (about 60 arrays of them)


def candidate_chunks(a: Edges, b: Edges, d: float, size: int | None = None):
    """Index pairs (ia, ib) whose bounding boxes, grown by d, meet (bulk `EdgeIndex` queries),
    in chunks of at most `size` pairs (`CHUNK_PAIRS`), in the order of one whole query (by ia).
    Each chunk is measured, shielded and reduced to its pairs before the next is made,
    so memory stays bounded whatever the distance."""
    if len(a) == 0 or len(b) == 0:
        return
    yield from box_pairs(b.index(), np.minimum(a.p1, a.p2) - d, np.maximum(a.p1, a.p2) + d, size or CHUNK_PAIRS)


def _linear_interval(c0, c1, lo, hi):
    """t-interval where lo < c0 + t*c1 < hi (empty as lo > hi)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = (lo - c0) / c1
        tb = (hi - c0) / c1
    t0 = np.minimum(ta, tb)
    t1 = np.maximum(ta, tb)
    flat = c1 == 0
    inside = (c0 > lo) & (c0 < hi)
    t0 = np.where(flat, np.where(inside, -np.inf, np.inf), t0)
    t1 = np.where(flat, np.where(inside, np.inf, -np.inf), t1)
    return t0, t1


def near_interval(p1, p2, q1, q2, d):
    """Parameter interval [t0, t1] of segment p1->p2 lying closer than d to segment q1->q2.

    The distance from a point moving along a line to a segment is convex, so the set is
    one interval: the union of the two end-point disks and the segment's strip.
    """
    u = p2 - p1
    uu = _dot(u, u)
    t0 = np.full(len(p1), np.inf)
    t1 = np.full(len(p1), -np.inf)
    for c in (q1, q2):
        w = p1 - c
        bq = _dot(u, w)
        disc = bq * bq - uu * (_dot(w, w) - d * d)
        ok = (disc > 0) & (uu > 0)
        root = np.sqrt(np.where(ok, disc, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = (-bq - root) / uu
            hi = (-bq + root) / uu
        t0 = np.where(ok, np.minimum(t0, lo), t0)
        t1 = np.where(ok, np.maximum(t1, hi), t1)
    v = q2 - q1
    vv = _dot(v, v)
    w = p1 - q1
    half = d * np.sqrt(vv)
    f0, f1 = _linear_interval(_cross(v, w), _cross(v, u), -half, half)
    g0, g1 = _linear_interval(_dot(w, v), _dot(u, v), -EPS_DBU, vv + EPS_DBU)
    s0, s1 = np.maximum(f0, g0), np.minimum(f1, g1)
    strip = (vv > 0) & (s0 < s1)
    t0 = np.where(strip, np.minimum(t0, s0), t0)
    t1 = np.where(strip, np.maximum(t1, s1), t1)
    near = t0 < t1
    # A segment clipped down to one point: near when the point is.
    point = np.flatnonzero(uu == 0)
    if len(point):
        near[point] = _point_segment_distance(p1[point], q1[point], q2[point]) < d
        t0[point], t1[point] = 0.0, 0.0
    return np.clip(t0, 0.0, 1.0), np.clip(t1, 0.0, 1.0), near


def _point_segment_distance(p, s1, s2):
    v = s2 - s1
    vv = _dot(v, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(vv > 0, _dot(p - s1, v) / vv, 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(*(p - (s1 + t[:, None] * v)).T)


def segment_distance(a1, a2, b1, b2) -> np.ndarray:
    """Euclidean distance between segments a1-a2 and b1-b2 (0 where they cross or touch)."""
    da = a2 - a1
    db = b2 - b1
    o1 = np.sign(_cross(da, b1 - a1))
    o2 = np.sign(_cross(da, b2 - a1))
    o3 = np.sign(_cross(db, a1 - b1))
    o4 = np.sign(_cross(db, a2 - b1))
    crossing = (o1 * o2 < 0) & (o3 * o4 < 0)
    dist = np.minimum.reduce(
        [
            _point_segment_distance(a1, b1, b2),
            _point_segment_distance(a2, b1, b2),
            _point_segment_distance(b1, a1, a2),
            _point_segment_distance(b2, a1, a2),
        ]
    )
    return np.where(crossing, 0.0, dist)


def _segments_touch(a1, a2, b1, b2) -> np.ndarray:
    """True where closed segments a1-a2 and b1-b2 share at least one point."""
    da, db = a2 - a1, b2 - b1
    o1 = np.sign(_cross(da, b1 - a1))
    o2 = np.sign(_cross(da, b2 - a1))
    o3 = np.sign(_cross(db, a1 - b1))
    o4 = np.sign(_cross(db, a2 - b1))
    lo_a, hi_a = np.minimum(a1, a2), np.maximum(a1, a2)
    lo_b, hi_b = np.minimum(b1, b2), np.maximum(b1, b2)
    boxes = np.all((lo_a <= hi_b) & (lo_b <= hi_a), axis=1)
    return (o1 * o2 <= 0) & (o3 * o4 <= 0) & boxes


def _zero_distance_allowed(e1, e2, g1, g2) -> np.ndarray:
    """KLayout's IncludeZeroDistanceWhenTouching for edge g seen from edge e.

    Points of g on e's line count as being on e's side when g is collinear with e, or
    has one end on e's line, and the two touch, unless they are consecutive edges
    (e ends where g starts or the reverse).
    """
    d = e2 - e1
    s1 = _cross(d, g1 - e1) == 0
    s2 = _cross(d, g2 - e1) == 0
    chained = np.all(e1 == g2, axis=1) | np.all(e2 == g1, axis=1)
    collinear = s1 & s2
    one_end = (s1 | s2) & ~collinear & ~chained
    out = collinear | one_end
    idx = np.flatnonzero(out)  # few rows: touching is tested on those alone
    out[idx] = _segments_touch(e1[idx], e2[idx], g1[idx], g2[idx])
    return out


def _clip_right(e1, e2, g1, g2, closed):
    """Clip g1->g2 to the half-plane right of e1->e2 (closed where `closed`); (g1', g2', non-empty)."""
    d = e2 - e1
    r1 = -_cross(d, g1 - e1)
    r2 = -_cross(d, g2 - e1)
    top = np.maximum(r1, r2)
    keep = np.where(closed, top >= 0, top > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tc = r1 / (r1 - r2)
    cut = g1 + tc[:, None] * (g2 - g1)
    n1 = np.where((r1 < 0)[:, None], cut, g1)
    n2 = np.where((r2 < 0)[:, None], cut, g2)
    return n1, n2, keep


def _flip(p1, p2, flip: bool):
    return (p2, p1) if flip else (p1, p2)


def relate(
    a: Edges, b: Edges | None, d: float, side_a: Side, side_b: Side, same_shape: bool = False, shielded: bool = True
) -> EdgePairs:
    """Edge pairs of `a` and `b` (or of `a` with itself when `b` is None) closer than d.

    side_a: where b must lie seen from a; side_b: where a must lie seen from b.
    same_shape: only pairs of edges of the same shape (width).
    shielded: drop pairs with another edge of a or b between them (KLayout's default).
    Candidates are measured in chunks (`candidate_chunks`), so memory stays bounded.
    """
    symmetric = b is None
    b = a if b is None else b
    shared: list | None = None
    if shielded:
        if symmetric:
            pool, off, own = a, 0, np.full(len(a), same_shape)
        else:
            pool = Edges(
                np.concatenate([a.p1, b.p1]),
                np.concatenate([a.p2, b.p2]),
                np.concatenate([a.shape, b.shape]),
                np.concatenate([a.polygon, b.polygon]),
            )
            off, own = len(a), np.arange(len(a) + len(b)) < len(a)
        shared = [pool, off, own, a.index() if symmetric else None]  # a two-layer pool's index: built on first use
    parts = [
        _relate_chunk(a, b, ia, ib, d, side_a, side_b, symmetric, same_shape, shared)
        for ia, ib in candidate_chunks(a, b, d)
    ]
    if not parts:
        return EdgePairs(np.empty((0, 2, 2, 2)), np.empty(0), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    found = EdgePairs(*(np.concatenate(x) for x in zip(*parts)))
    return _first_edge_smaller(found) if symmetric else found


def _first_edge_smaller(ep: EdgePairs) -> EdgePairs:
    """A pair of one layer's edges, its smaller edge first (x1, y1, x2, y2 compared in order).

    Which edge of such a pair comes first carries no meaning; without this it would follow
    the order of the shapes, and the same pair would print differently in a flat run and a
    cell-by-cell one.
    """
    first, second = ep.pairs[:, 0].reshape(-1, 4), ep.pairs[:, 1].reshape(-1, 4)
    differ = first != second
    k = np.argmax(differ, axis=1)
    rows = np.arange(len(first))
    swap = differ[rows, k] & (first[rows, k] > second[rows, k])
    if not swap.any():
        return ep
    pairs, ia, ib = ep.pairs.copy(), ep.ia.copy(), ep.ib.copy()
    pairs[swap] = pairs[swap][:, ::-1]
    ia[swap], ib[swap] = ep.ib[swap], ep.ia[swap]
    return EdgePairs(pairs, ep.distance, ia, ib)


def _relate_chunk(a: Edges, b: Edges, ia, ib, d, side_a, side_b, symmetric, same_shape, pool):
    """`relate` on the candidate pairs (ia, ib): (pairs, distance, ia, ib) of the pairs kept."""
    keep = ia < ib if symmetric else np.ones(len(ia), bool)
    if same_shape:
        keep &= a.shape[ia] == b.shape[ib]
    flip_a, flip_b = side_a == "outside", side_b == "outside"
    # Normalized (the other edge belongs on the right), the two edges must face each other;
    # a flip reverses one direction, so it flips the sign of the scalar product.
    sign = -1.0 if flip_a != flip_b else 1.0
    keep &= sign * _dot(a.p2[ia] - a.p1[ia], b.p2[ib] - b.p1[ib]) < 0
    ia, ib = ia[keep], ib[keep]
    an1, an2 = _flip(a.p1[ia], a.p2[ia], flip_a)
    bn1, bn2 = _flip(b.p1[ib], b.p2[ib], flip_b)
    # Parallel edges give 0/0 in the clip; such rows are masked out by `ok`.
    with np.errstate(divide="ignore", invalid="ignore"):
        cb1, cb2, ok_b = _clip_right(an1, an2, bn1, bn2, _zero_distance_allowed(an1, an2, bn1, bn2))
        ca1, ca2, ok_a = _clip_right(bn1, bn2, an1, an2, _zero_distance_allowed(bn1, bn2, an1, an2))
        r = np.flatnonzero(ok_a & ok_b)
        ia, ib, an1, an2, bn1, bn2, ca1, ca2, cb1, cb2 = (
            x[r] for x in (ia, ib, an1, an2, bn1, bn2, ca1, ca2, cb1, cb2)
        )
        # Each clipped edge is measured against the whole other edge, as KLayout does.
        ta0, ta1, near_a = near_interval(ca1, ca2, bn1, bn2, d)
        tb0, tb1, near_b = near_interval(cb1, cb2, an1, an2, d)
    ok = near_a & near_b
    va, vb = ca2 - ca1, cb2 - cb1
    pa1, pa2 = _flip(ca1 + ta0[:, None] * va, ca1 + ta1[:, None] * va, flip_a)
    pb1, pb2 = _flip(cb1 + tb0[:, None] * vb, cb1 + tb1[:, None] * vb, flip_b)
    dist = segment_distance(pa1, pa2, pb1, pb2)
    ok &= dist < d - EPS_DBU
    # Parallel edges: KLayout gates them by the distance between their lines rounded to
    # whole dbu (`Edge::distance`), so a slanted gap less than half a dbu under the limit passes.
    ua = an2 - an1
    parallel = np.flatnonzero(ok & (_cross(ua, bn2 - bn1) == 0))
    if len(parallel):
        u = ua[parallel]
        line = np.abs(_cross(u, bn1[parallel] - an1[parallel])) / np.sqrt(_dot(u, u))
        ok[parallel] = round_half_away(line) < d - EPS_DBU
    sel = np.flatnonzero(ok)
    pa1, pa2, pb1, pb2, dist, ia, ib = (x[sel] for x in (pa1, pa2, pb1, pb2, dist, ia, ib))
    # The pair on the grid, as KLayout's output edges are: offsets from the (normalized)
    # source edge's start, rounded half away from zero. Shields are tested on it, and it is
    # the marker; the distance stays the exact one.
    ra, rb = an1[sel], bn1[sel]
    pa1, pa2, pb1, pb2 = (
        start + round_half_away(x - start) for start, x in ((ra, pa1), (ra, pa2), (rb, pb1), (rb, pb2))
    )
    if pool is not None and len(sel):
        if pool[3] is None:
            pool[3] = EdgeIndex(pool[0])
        edges, off, own, index = pool
        drop = shielded_pairs(pa1, pa2, pb1, pb2, a.take(ia), b.take(ib), edges, ia, ib + off, d, own, index)
        pa1, pa2, pb1, pb2, dist, ia, ib = (x[~drop] for x in (pa1, pa2, pb1, pb2, dist, ia, ib))
    pairs = np.stack([np.stack([pa1, pa2], 1), np.stack([pb1, pb2], 1)], 1)
    return pairs, dist, ia, ib
