"""The shielding primitives (pkgdrc/geometry/shielding.py) against klayout.db's own.

KLayout drops an edge pair when a shield meets both joining lines of the normalized pair
at distinct points (or off their ends): `Edge::intersect_point`, `Edge::contains` and
`EdgePair::normalize` decide it, on integers, with their own ties. These tests compare
the vectorized port with klayout.db's `Edge.intersection_point`, `Edge.contains` and
`EdgePair.normalized` row by row, on random edges from a few dbu long (where the ties
are) to tens of millions of dbu (where the products need more than 64 bits).
"""

from __future__ import annotations

import klayout.db as kdb
import numpy as np
import pytest

from pkgdrc.geometry import shielding as S


def _edges(seed: int, n: int, span: int, offset=(0, 0)):
    """n random (a1, a2, b1, b2) rows: degenerate edges, 1-dbu slants and shared ends included."""
    rng = np.random.default_rng(seed)
    a1 = rng.integers(-span, span + 1, (n, 2))
    a2 = a1 + rng.integers(-span, span + 1, (n, 2))
    b1 = rng.integers(-span, span + 1, (n, 2))
    b2 = b1 + rng.integers(-span, span + 1, (n, 2))
    point_a, point_b = rng.random(n) < 0.1, rng.random(n) < 0.1
    a2[point_a], b2[point_b] = a1[point_a], b1[point_b]
    slant = rng.random(n) < 0.2
    a2[slant, 0] = a1[slant, 0] + rng.integers(-1, 2, slant.sum())
    shared = rng.random(n) < 0.2
    b1[shared] = a1[shared]
    return [(x + np.asarray(offset)).astype(float) for x in (a1, a2, b1, b2)]


def _kedge(p, q, i) -> kdb.Edge:
    return kdb.Edge(int(p[i, 0]), int(p[i, 1]), int(q[i, 0]), int(q[i, 1]))


SPANS = [(3, (0, 0)), (12, (0, 0)), (1000, (0, 0)), (6, (30_000_000, -20_000_000)), (40_000_000, (0, 0))]


@pytest.mark.parametrize("span,offset", SPANS)
def test_intersect_point_and_contains_are_klayouts(span, offset):
    a1, a2, b1, b2 = _edges(span, 3000, span, offset)
    ok, pt = S.intersect_point(a1, a2, b1, b2)
    inside = S._contains(a1, a2, b1)
    for i in range(len(a1)):
        e, q = _kedge(a1, a2, i), _kedge(b1, b2, i)
        hit = e.intersection_point(q)
        expected = None if hit is None else (hit.x, hit.y)
        assert (tuple(pt[i].astype(int)) if ok[i] else None) == expected, (str(e), str(q))
        assert bool(inside[i]) == e.contains(q.p1), (str(e), str(q.p1))


@pytest.mark.parametrize("span", [3, 12, 1000, 40_000_000])
def test_normalize_and_shielding_predicate_are_klayouts(span):
    f1, f2, s1, s2 = _edges(span + 1, 3000, span)
    rng = np.random.default_rng(span)
    q1 = rng.integers(-span, span + 1, (len(f1), 2)).astype(float)
    q2 = q1 + rng.integers(-span, span + 1, (len(f1), 2))
    n1, n2, m1, m2 = S.normalize(f1, f2, s1, s2)
    ok1, ip1 = S.intersect_point(n1, m2, q1, q2)
    ok2, ip2 = S.intersect_point(m1, n2, q1, q2)
    off = (S._side(n1, m2, q1) != 0) & (S._side(m1, n2, q2) != 0)
    ours = ok1 & ok2 & (np.any(ip1 != ip2, axis=1) | off)
    for i in range(len(f1)):
        ep = kdb.EdgePair(_kedge(f1, f2, i), _kedge(s1, s2, i)).normalized()
        assert [tuple(x[i].astype(int)) for x in (n1, n2, m1, m2)] == [
            (ep.first.p1.x, ep.first.p1.y),
            (ep.first.p2.x, ep.first.p2.y),
            (ep.second.p1.x, ep.second.p1.y),
            (ep.second.p2.x, ep.second.p2.y),
        ]
        # Edge2EdgeCheckBase's shields(): both joining lines met, at distinct points or
        # with the shield's start off the first and its end off the second.
        q = _kedge(q1, q2, i)
        pe1, pe2 = kdb.Edge(ep.first.p1, ep.second.p2), kdb.Edge(ep.second.p1, ep.first.p2)
        h1, h2 = pe1.intersection_point(q), pe2.intersection_point(q)
        theirs = h1 is not None and h2 is not None and (h1 != h2 or (pe1.side_of(q.p1) != 0 and pe2.side_of(q.p2) != 0))
        assert bool(ours[i]) == theirs, (str(ep), str(q))


def test_a_shield_end_within_half_a_dbu_of_a_joining_line_is_on_it():
    # The corpus case regression_overlap_point_pair_shielded_within_half_dbu: the joining
    # line (7000, 0)-(7001, 2800) passes 0.21 dbu from the shield's end (7000, 600).
    line = np.array([[7000.0, 0.0]]), np.array([[7001.0, 2800.0]])
    shield = np.array([[7000.0, 600.0]]), np.array([[7000.0, 0.0]])
    ok, pt = S.intersect_point(*line, *shield)
    assert ok[0] and pt[0].tolist() == [7000, 600]


def test_an_intersection_half_way_between_grid_points_rounds_down():
    # (0, 0)-(1, 2) crosses y = 1 at x = 0.5; (0, 0)-(-1, -2) crosses y = -1 at x = -0.5.
    a1, a2 = np.array([[0.0, 0.0], [0.0, 0.0]]), np.array([[1.0, 2.0], [-1.0, -2.0]])
    b1, b2 = np.array([[-3.0, 1.0], [3.0, -1.0]]), np.array([[3.0, 1.0], [-3.0, -1.0]])
    ok, pt = S.intersect_point(a1, a2, b1, b2)
    assert ok.all()
    # KLayout's div_exact rounds the offset from the line's start half towards -infinity.
    assert pt.tolist() == [[0, 1], [-1, -1]]
    for i in range(2):
        hit = _kedge(a1, a2, i).intersection_point(_kedge(b1, b2, i))
        assert [hit.x, hit.y] == pt[i].tolist()
