"""Bounded memory at scale without changing a marker: two-layer relations in pieces, layers
forgotten after their last rule, passivation overlaps rounded as the booleans round."""

from __future__ import annotations

from pathlib import Path

import gdstk
import numpy as np
import shapely

import pkgdrc
from pkgdrc.decks import load_deck
from pkgdrc.geometry.edges import polygon_edges, subject_edges
from pkgdrc.geometry.pieces import relate_in_pieces, shape_pieces
from pkgdrc.geometry.polygons import merge
from pkgdrc.geometry.repeats import relate_repeated
from pkgdrc.layers import LayerSet
from pkgdrc.layout import read_layout

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _openings_and_ubm(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """n x n round openings, each under an octagonal UBM a little off centre (some closer than
    the enclosure on one side), and one long UBM strip running across all columns."""
    rng = np.random.default_rng(7)
    x, y = np.meshgrid(np.arange(n) * 300.0, np.arange(n) * 300.0)
    centres = np.column_stack([x.ravel(), y.ravel()])
    shift = np.round(rng.uniform(-8, 8, centres.shape))
    po = shapely.buffer(shapely.points(centres), 40.0, quad_segs=16)
    po = shapely.set_precision(po, 1.0)
    ubm = shapely.set_precision(shapely.buffer(shapely.points(centres + shift), 50.0, quad_segs=2), 1.0)
    strip = shapely.box(-100.0, n * 300.0 - 45.0, n * 300.0, n * 300.0 + 200.0)
    return merge(po), merge(np.r_[ubm, strip])


def _sorted(pairs) -> tuple:
    k = np.lexsort((pairs.ib, pairs.ia))
    return pairs.ia[k], pairs.ib[k], pairs.pairs[k], pairs.distance[k]


def test_relate_in_pieces_gives_the_pairs_of_the_whole_layer():
    po, ubm = _openings_and_ubm()
    a, b = subject_edges(po), polygon_edges(ubm)
    whole = relate_repeated(a, b, 12.0, "outside", "inside")
    assert len(whole) > 100  # the shifted UBMs are closer than 12 dbu on one side
    for size in (64, 1000, 5000):
        assert len(shape_pieces(a, size)) > 1
        pieces = relate_in_pieces(a, b, 12.0, "outside", "inside", size=size)
        for x, y in zip(_sorted(whole), _sorted(pieces)):
            np.testing.assert_array_equal(x, y)


def test_shape_pieces_keep_every_shape_whole_and_every_edge_once():
    po, _ = _openings_and_ubm(12)
    a = subject_edges(po)
    pieces = shape_pieces(a, 200)
    assert np.array_equal(np.sort(np.concatenate(pieces)), np.arange(len(a)))
    owners = [set(a.shape[p].tolist()) for p in pieces]
    assert sum(len(o) for o in owners) == len(set().union(*owners))  # no shape in two pieces


def _write(tmp_path, shapes: dict[tuple[int, int], list[np.ndarray]]) -> str:
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    for (layer, datatype), polys in shapes.items():
        for p in polys:
            top.add(gdstk.Polygon(p, layer=layer, datatype=datatype))
    path = str(tmp_path / "t.gds")
    lib.write_gds(path)
    return path


def _box(x0, y0, x1, y1):
    return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=float)


def test_metal_touching_an_opening_does_not_cover_it(tmp_path):
    """A trace crossing an opening, and a pad only touching its right side: the opening
    exposes a trace. GEOS' grid_size=1 intersection kept the touching line, whose bounds
    reached the opening's side, and called it "the edge of a pad"."""
    layout = _write(
        tmp_path,
        {
            (20, 0): [_box(0, 0, 100, 100)],  # the opening
            (13, 0): [_box(40, -50, 60, 150), _box(100, 0, 200, 100)],  # a trace across it; a pad touching it
        },
    )
    deck = tmp_path / "d.yaml"
    deck.write_text(
        "name: t\nunits: um\nlayers: {RDL2: 13/0, PO: 20/0}\n"
        "rules:\n  P: {check: passivation, layer: PO, metal: RDL2}\n"
    )
    (rule,) = pkgdrc.check(layout, deck).rules
    assert [(m.bbox, m.message) for m in rule.markers] == [((0.0, 0.0, 100.0, 100.0), "exposes a trace")]


def test_keep_forgets_what_no_later_rule_reads_and_makes_it_again_the_same():
    deck = load_deck("fowlp-2l")
    layout = read_layout(FIXTURES / "pkg_clean.gds", deck.layers)
    layers = LayerSet(layout, deck)
    rdl = layers.merged("RDL")  # derived: RDL1 | RDL2
    rdl1 = layers.merged("RDL1").copy()
    layers.edges("RDL1")
    layers.keep(["RDL", "PO"], nets=False)
    assert set(layers._merged) == {"RDL"} and not layers._edges  # RDL is made: its operands go
    assert layers.merged("RDL") is rdl
    again = layers.merged("RDL1")
    assert again is not rdl1 and all(shapely.equals_exact(again, rdl1, 0.0))
