"""Edge-pair relations: the machinery under width, space, separation, enclosure and overlap.

Semantics follow KLayout's edge relation checks with the Euclidean metric:

* Each edge is directed with the polygon interior on its right. A relation names, for
  each of the two edges, the side on which the other edge must lie: ``inside`` (towards
  the polygon's interior) or ``outside``.
* The two edges must face each other: after turning each edge so that its named side is
  on its left, their directions must make an angle of more than 90 degrees (scalar
  product < 0). So the two edges at a convex 90-degree corner, collinear pieces of one
  straight side and the edges at an obtuse (e.g. 135-degree) bend are never a pair;
  the edges of an acute corner are.
* Each edge is clipped to the closed half-plane on the other edge's named side (an
  edge lying wholly on the other's line is not a pair). The reported edge pair is the
  part of each clipped edge that lies closer than the limit to the other clipped edge.
* The measured value is the Euclidean distance between the two reported edges; a pair
  is a violation when that value is strictly less than the limit (a value exactly at
  the limit passes; see `pkgdrc.units.EPS_DBU`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely

from pkgdrc.geometry.edges import Edges
from pkgdrc.units import EPS_DBU

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


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]


def _dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", u, v)


def candidate_pairs(a: Edges, b: Edges, d: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (ia, ib) whose bounding boxes, grown by d, meet (bulk STRtree query)."""
    if len(a) == 0 or len(b) == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e
    tree = shapely.STRtree(b.lines())
    lo = np.minimum(a.p1, a.p2) - d
    hi = np.maximum(a.p1, a.p2) + d
    ia, ib = tree.query(shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]))
    return ia, ib


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
    return np.clip(t0, 0.0, 1.0), np.clip(t1, 0.0, 1.0), t0 < t1


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
    dist = np.minimum.reduce([
        _point_segment_distance(a1, b1, b2), _point_segment_distance(a2, b1, b2),
        _point_segment_distance(b1, a1, a2), _point_segment_distance(b2, a1, a2),
    ])
    return np.where(crossing, 0.0, dist)


def _clip_to_side(p1, p2, q1, q2, sign):
    """Clip q1->q2 to the closed half-plane left of sign*(p2-p1); (q1', q2', non-empty)."""
    u = (p2 - p1) * sign[:, None]
    origin = np.where(sign[:, None] > 0, p1, p2)
    s0 = _cross(u, q1 - origin)
    s1 = _cross(u, q2 - origin)
    keep = np.maximum(s0, s1) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        tc = s0 / (s0 - s1)
    v = q2 - q1
    cut = q1 + tc[:, None] * v
    n1 = np.where((s0 < 0)[:, None], cut, q1)
    n2 = np.where((s1 < 0)[:, None], cut, q2)
    return n1, n2, keep


def relate(a: Edges, b: Edges | None, d: float, side_a: Side, side_b: Side,
           same_owner: bool = False) -> EdgePairs:
    """Edge pairs of `a` and `b` (or of `a` with itself when `b` is None) closer than d.

    side_a: where b must lie seen from a; side_b: where a must lie seen from b.
    same_owner: only pairs of edges of the same polygon (width).
    """
    symmetric = b is None
    b = a if b is None else b
    ia, ib = candidate_pairs(a, b, d)
    keep = ia < ib if symmetric else np.ones(len(ia), bool)
    if same_owner:
        keep &= a.owner[ia] == b.owner[ib]
    ia, ib = ia[keep], ib[keep]
    sa = np.full(len(ia), 1.0 if side_a == "outside" else -1.0)
    sb = np.full(len(ia), 1.0 if side_b == "outside" else -1.0)
    a1, a2 = a.p1[ia], a.p2[ia]
    b1, b2 = b.p1[ib], b.p2[ib]
    facing = _dot((a2 - a1) * sa[:, None], (b2 - b1) * sb[:, None]) < 0
    # Parallel edges give 0/0 in the clip; such rows are masked out by `ok`.
    with np.errstate(divide="ignore", invalid="ignore"):
        cb1, cb2, ok_b = _clip_to_side(a1, a2, b1, b2, sa)
        ca1, ca2, ok_a = _clip_to_side(b1, b2, a1, a2, sb)
        ok = facing & ok_a & ok_b
        ca1, ca2, cb1, cb2 = (np.where(ok[:, None], x, 0.0) for x in (ca1, ca2, cb1, cb2))
        ta0, ta1, near_a = near_interval(ca1, ca2, cb1, cb2, d)
        tb0, tb1, near_b = near_interval(cb1, cb2, ca1, ca2, d)
    ok &= near_a & near_b
    va, vb = ca2 - ca1, cb2 - cb1
    pa1, pa2 = ca1 + ta0[:, None] * va, ca1 + ta1[:, None] * va
    pb1, pb2 = cb1 + tb0[:, None] * vb, cb1 + tb1[:, None] * vb
    dist = segment_distance(pa1, pa2, pb1, pb2)
    ok &= dist < d - EPS_DBU
    pairs = np.stack([np.stack([pa1, pa2], 1), np.stack([pb1, pb2], 1)], 1)[ok]
    return EdgePairs(pairs, dist[ok], ia[ok], ib[ok])
