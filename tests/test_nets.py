"""Net extraction: which shapes join, how nets are named, where shorts are placed."""

from __future__ import annotations

import gdstk
import numpy as np
import pytest
import shapely

from pkgdrc.decks import load_deck
from pkgdrc.errors import PkgdrcError
from pkgdrc.layers import LayerSet
from pkgdrc.layout import read_layout

DECK = """\
layers: {DIE_PAD: 2/0, VIA1: 10/0, RDL1: 11/0, VIA2: 12/0, RDL2: 13/0, PKG: 0/0}
connect:
  - DIE_PAD - VIA1 - RDL1
  - RDL1 - VIA2 - RDL2
labels: {DIE_PAD: 2/0}
rules:
  W: {check: width, layer: RDL1, min: 1}
"""


def _nets(gds, tmp_path, build):
    (tmp_path / "d.yaml").write_text(DECK)
    deck = load_deck(tmp_path / "d.yaml")
    layout = read_layout(gds(build), deck.layers, label_map=deck.labels)
    return LayerSet(layout, deck).nets


def _r(c, layer, x0, y0, x1, y1):
    c.add(gdstk.rectangle((x0, y0), (x1, y1), layer=layer))


def test_a_via_joins_its_neighbours_and_labels_name_the_net(gds, tmp_path):
    def build(lib, c):
        _r(c, 2, 0, 0, 10, 10)  # pad
        _r(c, 10, 2, 2, 8, 8)  # VIA1 on it
        _r(c, 11, 0, 0, 50, 10)  # RDL1 trace
        _r(c, 12, 42, 2, 48, 8)  # VIA2
        _r(c, 13, 40, 0, 100, 10)  # RDL2
        _r(c, 13, 200, 0, 210, 10)  # RDL2 alone: its own net
        _r(c, 11, 300, 0, 310, 10)  # RDL1 under an RDL2 without a via: not joined
        _r(c, 13, 300, 0, 310, 10)
        c.add(gdstk.Label("VDD", (5, 5), layer=2))

    nets = _nets(gds, tmp_path, build)
    rdl2 = nets.of("RDL2")
    assert nets.count == 4
    assert nets.of("DIE_PAD")[0] == nets.of("VIA2")[0] == nets.of("RDL1")[0] == rdl2[0]
    assert sorted(nets.name(n) for n in rdl2) == ["RDL2@(205,5)", "RDL2@(305,5)", "VDD"]
    assert nets.on("RDL1").sum() == 2 and nets.on(["DIE_PAD"]).sum() == 1
    assert nets.shorts == []


def test_touching_shapes_join_corner_touching_too(gds, tmp_path):
    def build(lib, c):
        _r(c, 11, 0, 0, 10, 10)
        _r(c, 11, 10, 0, 20, 10)  # shares an edge: merged into one RDL1 shape
        _r(c, 11, 20, 10, 30, 20)  # touches at a corner: its own merged shape, same net

    nets = _nets(gds, tmp_path, build)
    assert len(nets.of("RDL1")) == 2 and len(set(nets.of("RDL1").tolist())) == 1


def test_a_short_is_placed_where_the_two_labelled_nets_meet(gds, tmp_path):
    def build(lib, c):
        for x, name in ((0, "A"), (1000, "B")):
            _r(c, 2, x, 0, x + 20, 20)
            _r(c, 10, x + 5, 5, x + 15, 15)
            _r(c, 11, x, 0, x + 20, 20)
            c.add(gdstk.Label(name, (x + 10, 10), layer=2))
        _r(c, 11, 20, 5, 400, 15)  # A's trace
        _r(c, 11, 600, 5, 1000, 15)  # B's trace
        _r(c, 11, 390, 0, 610, 20)  # the bridge, overlapping both traces

    nets = _nets(gds, tmp_path, build)
    (short,) = nets.shorts
    assert short.texts == ("A", "B")
    assert nets.name(short.net) == "A+B"
    # Reached from A in 3 steps, from B in 3 too: the bridge is claimed by one of them, and
    # the place is its overlap with the other side's trace.
    assert shapely.bounds(short.place).tolist() in (
        [390.0e3, 5.0e3, 400.0e3, 15.0e3],
        [600.0e3, 5.0e3, 610.0e3, 15.0e3],
    )


def test_two_labels_on_one_shape_short_at_the_shape(gds, tmp_path):
    def build(lib, c):
        _r(c, 2, 0, 0, 20, 20)
        c.add(gdstk.Label("A", (5, 5), layer=2), gdstk.Label("B", (15, 15), layer=2))

    nets = _nets(gds, tmp_path, build)
    (short,) = nets.shorts
    assert short.texts == ("A", "B") and shapely.bounds(short.place).tolist() == [0, 0, 20e3, 20e3]


def test_texts_on_one_shape_short_the_first_by_name_with_each_other(gds, tmp_path):
    """Three texts on one pad, two of them also on a pad beside it: the first text by name
    meets each other one on the pad whose bounds come first (k texts on a shape give k - 1
    shorts there, not every pair)."""

    def build(lib, c):
        _r(c, 2, 0, 0, 20, 20)
        _r(c, 2, 20, 0, 30, 10)
        c.add(gdstk.Label("C", (5, 5), layer=2), gdstk.Label("B", (15, 15), layer=2))
        c.add(gdstk.Label("A", (10, 10), layer=2), gdstk.Label("A", (25, 5), layer=2))
        c.add(gdstk.Label("B", (26, 6), layer=2))

    nets = _nets(gds, tmp_path, build)
    assert [(s.texts, shapely.bounds(s.place).tolist()) for s in nets.shorts] == [
        (("A", "B"), [0.0, 0.0, 20e3, 20e3]),
        (("A", "C"), [0.0, 0.0, 20e3, 20e3]),
    ]


def test_net_of_each_merged_shape_is_aligned_with_the_merged_layer(gds, tmp_path):
    def build(lib, c):
        for k in range(5):
            _r(c, 11, 100 * k, 0, 100 * k + 10, 10)
            _r(c, 11, 100 * k + 5, 0, 100 * k + 20, 10)  # overlapping pieces merge
        _r(c, 12, 302, 2, 308, 8)
        _r(c, 13, 300, 0, 410, 10)  # RDL2 joins merged shapes 3 and 4 (two VIA2)
        _r(c, 12, 402, 2, 408, 8)

    nets = _nets(gds, tmp_path, build)
    from_merged = nets.of("RDL1")
    assert len(from_merged) == 5
    # merged shapes 3 and 4 (by x) share a net through RDL2, the others are alone
    x = shapely.bounds(nets._merged["RDL1"])[:, 0]
    by_x = from_merged[np.argsort(x)]
    assert by_x[3] == by_x[4] and len(set(by_x.tolist())) == 4


def test_a_layer_outside_connect_has_no_nets(gds, tmp_path):
    nets = _nets(gds, tmp_path, lambda lib, c: _r(c, 11, 0, 0, 1, 1))
    with pytest.raises(PkgdrcError, match="layer PKG is not in the deck's connect: section"):
        nets.of("PKG")


def test_shapes_drawn_many_times_at_one_place_are_one_node(gds, tmp_path):
    """A via and its pads drawn 5,000 times over (a bad stream-out): the nets, names and
    short of the shapes drawn once, one node per distinct shape."""

    def build(lib, c):
        for _ in range(5_000):
            _r(c, 2, 0, 0, 10, 10)
            _r(c, 10, 2, 2, 8, 8)
            _r(c, 11, 0, 0, 50, 10)
        _r(c, 2, 40, 0, 50, 10)  # a second pad under the same trace: a short
        _r(c, 10, 42, 2, 48, 8)
        c.add(gdstk.Label("VDD", (5, 5), layer=2), gdstk.Label("VSS", (45, 5), layer=2))

    nets = _nets(gds, tmp_path, build)
    assert len(nets.shapes) == 5
    assert nets.count == 1 and nets.name(0) == "VDD+VSS"
    # the trace is two connections from both labels and goes to VDD, the first by name: the
    # texts meet where it lands on VSS's via
    assert [(s.texts, shapely.bounds(s.place).tolist()) for s in nets.shorts] == [
        (("VDD", "VSS"), [42000.0, 2000.0, 48000.0, 8000.0])
    ]


@pytest.mark.parametrize("seed", range(6))
def test_shorts_do_not_depend_on_the_order_shapes_are_drawn_in(gds, tmp_path, seed):
    """A mesh of touching pads, where most shapes are as near to two labels as to one, with
    labels on pads and on corners shared by four: the same shorts at the same places
    whatever order the pads are drawn in (the engines find shapes in different orders)."""
    rng = np.random.default_rng(seed)
    cells = [(i, j) for i in range(8) for j in range(6)]
    spots = [(10 * i + 5, 10 * j + 5) for i, j in cells] + [(10 * i, 10 * j) for i in range(1, 8) for j in range(1, 6)]
    picked = rng.choice(len(spots), size=5, replace=False)
    labels = [(str(rng.choice(["A", "B", "C"])), spots[k]) for k in picked]

    def drawn(order):
        def build(lib, c):
            for k in order:
                i, j = cells[k]
                _r(c, 2, 10 * i, 10 * j, 10 * i + 10, 10 * j + 10)
            for text, xy in labels:
                c.add(gdstk.Label(text, xy, layer=2))

        return [(s.texts, shapely.normalize(s.place).wkt) for s in _nets(gds, tmp_path, build).shorts]

    first = drawn(range(len(cells)))
    assert len({t for t, _ in labels}) == 1 or first  # texts whose reaches meet: 1 to 3 shorts
    for _ in range(3):
        assert drawn(rng.permutation(len(cells)).tolist()) == first
