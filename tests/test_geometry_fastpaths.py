"""The geometry fast paths give exactly the slow paths' results.

relate measures candidate pairs in chunks (bounded memory): any chunk size gives the
same edge pairs, in the same order. EdgeIndex finds the same candidates as an STRtree of
one LineString per edge. boolean_not trusts merged inputs and drops shapes
lying within one shape of b without a GEOS difference.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from tests.conftest import DECK_2L, FIXTURES

from pkgdrc.decks import load_deck
from pkgdrc.geometry import edges as edges_mod
from pkgdrc.geometry import pairs
from pkgdrc.geometry.booleans import boolean_not
from pkgdrc.geometry.edges import EdgeIndex, polygon_edges
from pkgdrc.geometry.pairs import relate
from pkgdrc.geometry.polygons import merge
from pkgdrc.layers import LayerSet
from pkgdrc.layout import read_layout


@pytest.fixture(scope="module")
def layers() -> LayerSet:
    deck = load_deck(DECK_2L)
    return LayerSet(read_layout(FIXTURES / "demo_fowlp.gds", deck.layers), deck)


@pytest.mark.parametrize("how", ["space", "width", "enclosure"])
def test_relate_chunks_change_nothing(layers, monkeypatch, how):
    e, by = layers.edges("RDL1"), layers.edges("VIA1")
    d = 15_000.0  # 15 um: many candidates per edge, so small chunks split them
    args = {
        "space": (e, None, d, "outside", "outside"),
        "width": (e, None, d, "inside", "inside", True),
        "enclosure": (by, e, d, "outside", "inside"),
    }[how]
    whole = relate(*args)
    monkeypatch.setattr(pairs, "CHUNK_PAIRS", 97)
    chunked = relate(*args)
    assert len(whole) > 20
    for name in ("pairs", "distance", "ia", "ib"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))


def _all_box_pairs(e, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(i, j) rows, sorted: box i meets edge j's box (an STRtree of one LineString per edge)."""
    ja, jb = shapely.STRtree(e.lines()).query(shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]))
    return np.unique(np.column_stack([ja, jb]), axis=0)


def test_candidate_chunks_bounded_and_complete(layers):
    e = layers.edges("RDL1")
    chunks = list(pairs.candidate_chunks(e, e, 15_000.0, size=50))
    assert max(len(ia) for ia, _ in chunks) <= 50
    ia = np.concatenate([c[0] for c in chunks])
    ib = np.concatenate([c[1] for c in chunks])
    assert np.all(np.diff(ia) >= 0)  # in order of the first edge
    got = np.column_stack([ia, ib])
    assert len(np.unique(got, axis=0)) == len(got)
    lo, hi = np.minimum(e.p1, e.p2) - 15_000.0, np.maximum(e.p1, e.p2) + 15_000.0
    np.testing.assert_array_equal(np.unique(got, axis=0), _all_box_pairs(e, lo, hi))


@pytest.mark.parametrize("small", [0, 4, 256])
def test_edge_index_finds_every_meeting_box(small, monkeypatch):
    """Compact polygons found through their runs' boxes, the others edge by edge, or any mix:
    the same (box, edge) pairs as one LineString per edge, touching boxes included."""
    monkeypatch.setattr(edges_mod, "SMALL_POLYGON", small)
    monkeypatch.setattr(edges_mod, "GROUPED_SHARE", 0.0)
    box = shapely.box
    hole = [(100, 100), (200, 100), (200, 200), (100, 200)]
    plane = shapely.Polygon([(0, 0), (0, 900), (900, 900), (900, 0)], [hole])
    trace = shapely.Polygon([(1000, 0), (1000, 10), (1800, 810), (1810, 800), (1010, 0)])
    polys = merge(np.array([plane, trace, box(950, 950, 960, 960), box(300, 300, 310, 340)], dtype=object))
    e = polygon_edges(polys)
    rng = np.random.default_rng(3)
    lo = rng.integers(-50, 1900, (400, 2)).astype(float)
    hi = lo + rng.integers(0, 120, (400, 2))
    lo[0], hi[0] = (960, 960), (1000, 1000)  # touches the small box's corner only
    i, j = EdgeIndex(e).query(lo, hi)
    assert np.all(np.diff(i) >= 0)
    got = np.unique(np.column_stack([i, j]), axis=0)
    assert len(got) == len(i)
    np.testing.assert_array_equal(got, _all_box_pairs(e, lo, hi))
    assert 0 in i


def test_boolean_not_within_untouched_and_cut():
    box = shapely.box
    a = merge(
        np.array([box(10, 10, 20, 20), box(0, 0, 100, 5), box(200, 200, 210, 210), box(20, 30, 40, 40)], dtype=object)
    )
    b = merge(np.array([box(0, 0, 50, 50), box(60, 0, 70, 10)], dtype=object))
    out = boolean_not(a, b)
    # Within one b: gone (the two squares); meeting no b: untouched; the long bar: cut
    # into 50..60 and 70..100.
    got = sorted(tuple(shapely.bounds(p)) for p in out)
    assert got == [(50.0, 0.0, 60.0, 5.0), (70.0, 0.0, 100.0, 5.0), (200.0, 200.0, 210.0, 210.0)]
    assert shapely.area(out).sum() == 10 * 5 + 30 * 5 + 100


def _same_partition(x: np.ndarray, y: np.ndarray) -> bool:
    """Two labellings group the same items together."""
    return len(np.unique(x)) == len(np.unique(np.stack([x, y], 1), axis=0)) == len(np.unique(y))


def test_corner_groups_are_the_touching_clusters(layers):
    """Shared vertices group merged polygons exactly as the STRtree intersects clusters do:
    on every layer of the demo, and on squares meeting at corners, a diamond whose corner
    touches a square's side, and a diamond in a hole touching its rim with a corner."""
    from pkgdrc.geometry.edges import corner_groups
    from pkgdrc.geometry.polygons import clusters

    frame = shapely.Polygon([(0, 0), (90, 0), (90, 90), (0, 90)], [[(30, 30), (30, 60), (60, 60), (60, 30)]])
    drawn = np.array(
        [
            shapely.box(100, 0, 110, 10),
            shapely.box(110, 10, 120, 20),
            shapely.box(120, 0, 130, 10),
            shapely.box(200, 0, 220, 10),
            shapely.Polygon([(210, 10), (215, 15), (210, 20), (205, 15)]),
            frame,
            shapely.Polygon([(45, 50), (50, 55), (45, 60), (40, 55)]),  # corner on the hole's rim
            shapely.box(300, 0, 301, 1),
        ]
    )
    for polys in [merge(drawn)] + [layers.merged(n) for n in layers.deck.layers]:
        got = corner_groups(polys)
        assert _same_partition(got, clusters(polys))
    assert len(np.unique(corner_groups(merge(drawn)))) == 4  # corner squares, square + diamond, frame + diamond, lone


def test_covered_area_equals_the_exact_booleans():
    """Covered whole (prepared covers), partly, touching only, off, split across two covers."""
    from pkgdrc.checks.pkg_shapes import covered_area, landing

    outer = merge(
        np.array([shapely.box(0, 0, 100, 100), shapely.box(100, 100, 200, 200), shapely.box(300, 0, 310, 10)])
    )
    inner = np.array(
        [
            shapely.box(10, 10, 20, 20),
            shapely.box(95, 10, 105, 20),
            shapely.box(100, 0, 110, 10),
            shapely.box(500, 500, 510, 510),
            shapely.box(90, 90, 110, 110),
            shapely.box(0, 0, 100, 100),
        ]
    )
    exact = np.array([sum(shapely.area(shapely.intersection(s, o, grid_size=1.0)) for o in outer) for s in inner])
    assert covered_area(inner, outer).tolist() == exact.tolist() == [100, 50, 0, 0, 200, 10000]
    off, partly = landing(inner, outer)
    assert off.tolist() == [False, False, True, True, False, False]
    assert partly.tolist() == [False, True, False, False, True, False]
