"""Shielding of edge pairs (KLayout's default `shielded` mode): the nearer feature is measured.

An edge pair is dropped when another edge cuts through the space between its two edges:
it meets both "joining lines" of the pair (from the first edge's start to the second
edge's end and from the second edge's start to the first edge's end, after the pair is
normalized to a non-crossing, clockwise quadrangle). When the shield meets both joining
lines at the same point (the two edges touch there), it shields only if it neither
starts on the first joining line nor ends on the second one.

This reproduces KLayout 0.30 (`EdgePair::normalize`, `Edge::intersect_point`,
`shields` in dbRegionCheckUtils.cc), on grid coordinates: the pairs are rounded to the
grid first, as KLayout's output edges are. With KLayout's integer ties:

* `Edge::contains` is to the grid, not exact: a point whose distance to the edge's line
  rounds to 0 (less than half a dbu) and that lies between the perpendiculars through
  the ends is on the edge. intersect_point uses it for point-like edges and where an end
  of one edge is exactly on the other's line, trying the shield's ends first: so the
  "intersection" it returns can be a shield end up to half a dbu off the joining line.
* A crossing point is rounded as `div_exact` rounds its offset from the joining line's
  start: to the nearest grid point, ties towards -infinity.

`tests/crosscheck/test_shielding_port.py` compares these with klayout.db's own.
Everything is vectorized over (pair, shield) rows.
"""

from __future__ import annotations

import numpy as np

from pkgdrc.geometry.edges import EdgeIndex, Edges, box_pairs
from pkgdrc.geometry.edges import cross as _cross
from pkgdrc.geometry.edges import dot as _dot


def _side(p1, p2, x) -> np.ndarray:
    """+1 left of p1->p2, -1 right, 0 on the line or for a point-like edge."""
    return np.sign(_cross(p2 - p1, x - p1))


def _contains(p1, p2, x) -> np.ndarray:
    """KLayout `Edge::contains`: x is on segment p1-p2 *to the grid*, not exactly.

    A point-like edge contains only its point. Otherwise x must lie between the
    perpendiculars through the ends (scalar products >= 0) and its distance to the
    line, `Edge::distance_abs` = |cross| / length rounded half up to whole dbu, must
    be 0: less than half a dbu. So a point up to half a dbu off a slanted edge is "on"
    it. The distance is computed in floating point exactly as KLayout does.
    """
    d = p2 - p1
    with np.errstate(divide="ignore", invalid="ignore"):
        near = np.abs(_cross(d, x - p1)) / np.sqrt(_dot(d, d)) + 0.5 < 1.0
    slab = (_dot(x - p1, d) >= 0) & (_dot(x - p2, d) <= 0)
    point = np.all(p1 == p2, axis=1)
    return np.where(point, np.all(x == p1, axis=1), near & slab)


def _div_exact(a, b, d):
    """KLayout's `div_exact`: a * b / d (b >= 0, d > 0, whole numbers) rounded to the
    nearest integer, ties towards -infinity (x.5 -> x, -x.5 -> -x-1).

    Floating point where the quotient is clearly off a tie; the rows within 1e-6 of one
    are redone exactly with Python integers (object arrays, as KLayout uses 128 bits).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        q = a * b / d
    out = np.floor(q + 0.5)
    near = np.flatnonzero(np.abs(q - np.floor(q) - 0.5) < 1e-6)
    if len(near):
        ai, bi, di = (x[near].astype(np.int64).astype(object) for x in (a, b, d))
        neg = a[near] < 0
        exact = np.where(neg, -((-ai * bi + di // 2) // di), (ai * bi + (di - 1) // 2) // di)
        out[near] = exact.astype(np.float64)
    return out


def _swap(p1, p2, mask):
    m = mask[:, None]
    return np.where(m, p2, p1), np.where(m, p1, p2)


def normalize(f1, f2, s1, s2):
    """KLayout `EdgePair::normalize`: anti-parallel edges forming a clockwise loop."""
    a1 = _cross(f2 - s2, f1 - s1)
    a2 = _cross(f1 - s2, f2 - s1)
    turn = np.abs(a2) > np.abs(a1)
    f1, f2 = _swap(f1, f2, turn)
    a1 = np.where(turn, a2, a1)
    both = a1 < 0
    flat = a1 == 0
    f1, f2 = _swap(f1, f2, flat & (_dot(f2 - f1, s2 - s1) > 0))
    both |= flat & ((_side(f1, f2, s1) > 0) | (_side(s1, s2, f1) > 0))
    f1, f2 = _swap(f1, f2, both)
    s1, s2 = _swap(s1, s2, both)
    return f1, f2, s1, s2


def intersect_point(a1, a2, b1, b2):
    """KLayout `Edge::intersect_point` of segment a with segment b: (found, point)."""
    n = len(a1)
    found = np.zeros(n, bool)
    point = np.zeros((n, 2))
    done = np.zeros(n, bool)

    def settle(mask, ok, pt):
        nonlocal found, point, done
        mask = mask & ~done
        found = np.where(mask, ok, found)
        point = np.where(mask[:, None], pt, point)
        done |= mask

    settle(np.all(a1 == a2, axis=1), _contains(b1, b2, a1), a1)
    settle(np.all(b1 == b2, axis=1), _contains(a1, a2, b1), b1)
    lo_a, hi_a = np.minimum(a1, a2), np.maximum(a1, a2)
    lo_b, hi_b = np.minimum(b1, b2), np.maximum(b1, b2)
    settle(~np.all((lo_a <= hi_b) & (lo_b <= hi_a), axis=1), np.zeros(n, bool), point)
    ortho = lambda p, q: np.any(p == q, axis=1)  # noqa: E731
    settle(ortho(a1, a2) & ortho(b1, b2), np.ones(n, bool), np.maximum(lo_a, lo_b))
    sb1, sb2 = _side(a1, a2, b1), _side(a1, a2, b2)
    settle(~((sb1 * sb2 < 0) | (sb1 == 0) | (sb2 == 0)), np.zeros(n, bool), point)
    va = _cross(b2 - b1, a1 - b1)
    vb = _cross(b2 - b1, a2 - b1)
    on = (va == 0) | (vb == 0)
    ends = [
        (_contains(a1, a2, b1), b1),
        (_contains(a1, a2, b2), b2),
        (_contains(b1, b2, a1), a1),
        (_contains(b1, b2, a2), a2),
    ]
    for ok, pt in ends:
        settle(on & ok, np.ones(n, bool), pt)
    settle(on, np.zeros(n, bool), point)
    crossing = va * vb < 0
    c = np.flatnonzero(crossing & ~done)  # the intersection point, from a1 as KLayout computes it
    den = np.abs(va[c]) + np.abs(vb[c])
    step = np.stack([_div_exact((a2 - a1)[c, k], np.abs(va[c]), den) for k in (0, 1)], 1)
    pt = point.copy()
    pt[c] = a1[c] + step
    settle(crossing, np.ones(n, bool), pt)
    settle(np.ones(n, bool), np.zeros(n, bool), point)
    return found, point


def shielded(
    pa1,
    pa2,
    pb1,
    pb2,
    src_a: Edges,
    src_b: Edges,
    pool: Edges,
    pool_a,
    pool_b,
    d: float,
    own_shape: np.ndarray,
    index: EdgeIndex | None = None,
) -> np.ndarray:
    """True for each pair (pa, pb), on the grid, that an edge of `pool` shields.

    src_a/src_b: each pair's source edges; pool_a/pool_b: their indices in `pool` (they
    never shield their own pair). index: `pool`'s EdgeIndex, when built already.
    own_shape: per pool edge, True when it may shield only
    pairs whose first edge bounds the same shape. A shield must come within d of one of
    the source edges' boxes (KLayout only meets edges that interact).
    """
    n = len(pa1)
    out = np.zeros(n, bool)
    if n == 0 or len(pool) == 0:
        return out
    f1, f2, s1, s2 = normalize(pa1, pa2, pb1, pb2)
    pts = np.stack([f1, f2, s1, s2], 1)
    lo, hi = pts.min(axis=1), pts.max(axis=1)
    index = EdgeIndex(pool) if index is None else index
    # (pair, shield) candidates in bounded chunks: pairs across a wide gap meet many edges.
    for k, q in box_pairs(index, lo, hi):
        out[_shielded_by(k, q, f1, f2, s1, s2, src_a, src_b, pool, pool_a, pool_b, d, own_shape)] = True
    return out


def _shielded_by(
    k, q, f1, f2, s1, s2, src_a: Edges, src_b: Edges, pool: Edges, pool_a, pool_b, d: float, own_shape: np.ndarray
) -> np.ndarray:
    """The pairs k of the (pair k, pool edge q) candidates that an edge q shields."""
    keep = (q != pool_a[k]) & (q != pool_b[k])
    keep &= ~own_shape[q] | (pool.shape[q] == pool.shape[pool_a[k]])
    k, q = k[keep], q[keep]
    q1, q2 = pool.p1[q], pool.p2[q]
    qlo, qhi = np.minimum(q1, q2) - d, np.maximum(q1, q2) + d

    def near(src: Edges):
        return np.all((qlo <= np.maximum(src.p1[k], src.p2[k])) & (np.minimum(src.p1[k], src.p2[k]) <= qhi), axis=1)

    near_either = near(src_a) | near(src_b)
    k, q1, q2 = k[near_either], q1[near_either], q2[near_either]
    # A shield with both ends strictly on one side of a joining line misses it (exact integer
    # sides; a point-like shield or joining line is left to intersect_point's grid test).
    point = np.all(q1 == q2, axis=1)
    misses = np.zeros(len(k), bool)
    for a, b in ((f1, s2), (s1, f2)):
        side = _side(a[k], b[k], q1) * _side(a[k], b[k], q2)
        misses |= (side > 0) & ~point
    k, q1, q2 = k[~misses], q1[~misses], q2[~misses]
    e1a, e1b = f1[k], s2[k]  # first joining line
    e2a, e2b = s1[k], f2[k]  # second joining line
    ok1, ip1 = intersect_point(e1a, e1b, q1, q2)
    ok2, ip2 = intersect_point(e2a, e2b, q1, q2)
    distinct = np.any(ip1 != ip2, axis=1)
    off = (_side(e1a, e1b, q1) != 0) & (_side(e2a, e2b, q2) != 0)
    return k[ok1 & ok2 & (distinct | off)]
