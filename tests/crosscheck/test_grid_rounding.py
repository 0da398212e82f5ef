"""New vertices of merges and booleans are rounded to the grid as KLayout rounds them.

KLayout's edge processor takes a crossing from `Edge::intersect_point` and rounds it with
`div_exact` (dbEdge.cc): to the nearest grid point, a tie (exactly x.5) towards -infinity.
GEOS computes the crossing in floating point; `on_grid` decides the near-ties exactly.
"""

from __future__ import annotations

import klayout.db as kdb
import numpy as np
import pytest
import shapely

from pkgdrc.geometry.booleans import boolean_and, boolean_not
from pkgdrc.geometry.polygons import merge


def _klayout(op: str, a: list, b: list) -> shapely.Geometry:
    ra = kdb.Region(kdb.Polygon([kdb.Point(x, y) for x, y in a]))
    rb = kdb.Region(kdb.Polygon([kdb.Point(x, y) for x, y in b]))
    out = {"or": (ra + rb).merged(), "and": ra & rb, "not": ra - rb}[op]
    polys = [shapely.Polygon([(q.x, q.y) for q in p.each_point_hull()]) for p in out.each()]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def _pkgdrc(op: str, a: list, b: list) -> shapely.Geometry:
    pa, pb = np.array([shapely.Polygon(a)], dtype=object), np.array([shapely.Polygon(b)], dtype=object)
    out = {
        "or": lambda: merge(np.concatenate([pa, pb])),
        "and": lambda: boolean_and(pa, pb),
        "not": lambda: boolean_not(pa, pb),
    }[op]()
    return shapely.union_all(out)


def _diamond(cx, cy, r):
    return [[cx - r, cy], [cx, cy - r], [cx + r, cy], [cx, cy + r]]


# Two 45-degree diamonds, sides x + y = cx + cy + 1001 and x - y = cx - cy, cross half-way
# between grid points at (cx + 500.5, cy +- 500.5), in each quadrant; and the bar/octagon
# crossing of the corpus, (4886.5, -4386.5).
CENTRES = [(0, 0), (7000, -9000), (-7000, 9000), (-7000, -9000)]
TIES = [(_diamond(cx, cy, 1001), _diamond(cx + 1000, cy, 1000)) for cx, cy in CENTRES] + [
    (
        [[-4000, 4500], [4500, -4000], [6000, -2500], [-2500, 6000]],
        [[4000, -6000], [9273, -6000 + 5273], [8000, 0], [2000, -6000]],
    ),
]


@pytest.mark.parametrize("op", ["or", "and", "not"])
@pytest.mark.parametrize("a,b", TIES)
def test_half_grid_crossings_round_towards_minus_infinity_as_in_klayout(op, a, b):
    ours, theirs = _pkgdrc(op, a, b), _klayout(op, a, b)
    assert ours.symmetric_difference(theirs).area == 0, (ours.wkt, theirs.wkt)


@pytest.mark.parametrize("cx,cy", CENTRES)
def test_a_tie_goes_towards_minus_infinity(cx, cy):
    # (cx + 500.5, cy + 500.5) -> (cx + 500, cy + 500); (cx + 500.5, cy - 500.5) -> (cx + 500, cy - 501)
    for op in ("or", "and", "not"):
        coords = shapely.get_coordinates(_pkgdrc(op, _diamond(cx, cy, 1001), _diamond(cx + 1000, cy, 1000)))
        assert {(cx + 500, cy + 500), (cx + 500, cy - 501)} <= set(map(tuple, coords.astype(int).tolist()))
        assert np.array_equal(coords, np.rint(coords))


def test_near_tie_that_is_not_a_tie_rounds_to_nearest():
    # A slanted side (0, 0)-(20000001, 20000000) crosses y = 10000001 at
    # x = 10000001.50000005: within GEOS' float noise of a tie, but above it (-> ...02).
    a = [[0, 0], [20000001, 20000000], [0, 20000000]]
    b = [[-5, 10000001], [30000000, 10000001], [30000000, 10000010], [-5, 10000010]]
    for op in ("and", "not", "or"):
        ours, theirs = _pkgdrc(op, a, b), _klayout(op, a, b)
        assert ours.symmetric_difference(theirs).area == 0, (op, ours.wkt, theirs.wkt)
    coords = set(map(tuple, shapely.get_coordinates(_pkgdrc("and", a, b)).astype(int).tolist()))
    assert (10000002, 10000001) in coords
