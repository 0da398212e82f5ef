"""The geometry fast paths give exactly the slow paths' results.

relate measures candidate pairs in chunks (bounded memory): any chunk size gives the
same edge pairs, in the same order. boolean_not trusts merged inputs and drops shapes
lying within one shape of b without a GEOS difference.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from pkgdrc.decks import load_deck
from pkgdrc.geometry import pairs
from pkgdrc.geometry.booleans import boolean_not
from pkgdrc.geometry.pairs import relate
from pkgdrc.geometry.polygons import merge
from pkgdrc.layers import LayerSet
from pkgdrc.layout import read_layout
from tests.conftest import DECK_2L, FIXTURES


@pytest.fixture(scope="module")
def layers() -> LayerSet:
    deck = load_deck(DECK_2L)
    return LayerSet(read_layout(FIXTURES / "demo_fowlp.gds", deck.layers), deck)


@pytest.mark.parametrize("how", ["space", "width", "enclosure"])
def test_relate_chunks_change_nothing(layers, monkeypatch, how):
    e, by = layers.edges("RDL1"), layers.edges("VIA1")
    d = 15_000.0  # 15 um: many candidates per edge, so small chunks split them
    args = {"space": (e, None, d, "outside", "outside"), "width": (e, None, d, "inside", "inside", True),
            "enclosure": (by, e, d, "outside", "inside")}[how]
    whole = relate(*args)
    monkeypatch.setattr(pairs, "CHUNK_PAIRS", 97)
    chunked = relate(*args)
    assert len(whole) > 20
    for name in ("pairs", "distance", "ia", "ib"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))


def test_candidate_chunks_bounded_and_complete(layers):
    e = layers.edges("RDL1")
    chunks = list(pairs.candidate_chunks(e, e, 15_000.0, size=50))
    assert max(len(ia) for ia, _ in chunks) <= 50
    ia = np.concatenate([c[0] for c in chunks])
    ib = np.concatenate([c[1] for c in chunks])
    tree = shapely.STRtree(e.lines())
    lo, hi = np.minimum(e.p1, e.p2) - 15_000.0, np.maximum(e.p1, e.p2) + 15_000.0
    ja, jb = tree.query(shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]))
    np.testing.assert_array_equal(ia, ja)
    np.testing.assert_array_equal(ib, jb)


def test_boolean_not_within_untouched_and_cut():
    box = shapely.box
    a = merge(np.array([box(10, 10, 20, 20), box(0, 0, 100, 5), box(200, 200, 210, 210), box(20, 30, 40, 40)],
                       dtype=object))
    b = merge(np.array([box(0, 0, 50, 50), box(60, 0, 70, 10)], dtype=object))
    out = boolean_not(a, b)
    # Within one b: gone (the two squares); meeting no b: untouched; the long bar: cut
    # into 50..60 and 70..100.
    got = sorted(tuple(shapely.bounds(p)) for p in out)
    assert got == [(50.0, 0.0, 60.0, 5.0), (70.0, 0.0, 100.0, 5.0), (200.0, 200.0, 210.0, 210.0)]
    assert shapely.area(out).sum() == 10 * 5 + 30 * 5 + 100
