"""Repetition (pkgdrc/geometry/repeats.py): checking each distinct neighbourhood once
gives exactly the markers of checking every shape, and it really checks fewer edges."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gdstk
import pytest

import pkgdrc
from pkgdrc.geometry import repeats

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
DECK_2L = ROOT / "rules" / "fowlp-2l.yaml"
PAIR_RULES = ["RDL2.W", "RDL2.S", "PO.1", "PO.2", "PO.3"]


def _plus_zero(x):
    """-0.0 as 0.0: a coordinate rounded from -1e-12 (flat) or from exactly 0 (translated) is the same place."""
    if isinstance(x, float):
        return x + 0.0
    if isinstance(x, (list, tuple)):
        return [_plus_zero(v) for v in x]
    if isinstance(x, dict):
        return {k: _plus_zero(v) for k, v in x.items()}
    return x


def _markers(path, deck, top=None, rules=None) -> dict[str, list[str]]:
    """Every marker of every rule, in report order, geometry included (flat run: repeats.py is its dedup)."""
    report = pkgdrc.check(path, deck=deck, top=top, rules=rules, jobs=1, hierarchy="flat")  # the flat engine's repeats
    return {r.id: [json.dumps(_plus_zero(m.to_dict()), sort_keys=True) for m in r.markers] for r in report.rules}


def _both(monkeypatch, path, deck, top=None, rules=None, force=False):
    """(markers with repetition exploited, markers without, edges related with, edges related without)."""
    related: list[int] = []

    def counting(a, b, *args, **kw):
        related.append(len(a) + (0 if b is None else len(b)))
        return relate(a, b, *args, **kw)

    relate = repeats.relate
    monkeypatch.setattr(repeats, "relate", counting)
    if force:
        monkeypatch.setattr(repeats, "MIN_SHAPES", 0)
        monkeypatch.setattr(repeats, "MAX_DISTINCT", 1.0)
    on = _markers(path, deck, top, rules)
    n_on = sum(related)
    related.clear()
    monkeypatch.setattr(repeats, "MAX_DISTINCT", -1.0)
    off = _markers(path, deck, top, rules)
    return on, off, n_on, sum(related)


def test_bumps_layout_checks_the_pad_once(monkeypatch, tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import bumps_layout

    path = bumps_layout(30, tmp_path)
    on, off, n_on, n_off = _both(monkeypatch, path, DECK_2L, rules=PAIR_RULES)
    assert on == off
    # 900 placed pads: RDL2.W, RDL2.S, PO.1, PO.2, PO.3 relate one pad's edges (plus the
    # pads of the array's border rows, whose neighbourhoods differ), not 900. PO.1 relates
    # the opening's 8 edges and the pad's 4 diagonal ones: the pad's straight edges lie
    # 10 um out, beyond 5 um of the opening's box, and are not looked at.
    assert n_off == 900 * (8 + 8 + (8 + 4) + 8 + 8)
    assert n_on < n_off / 20


def _pads(lib: gdstk.Library, cell: gdstk.Cell, po_shift: float = 0.0) -> None:
    cell.add(gdstk.rectangle((0, 0), (60, 60), layer=13))  # RDL2 pad
    cell.add(gdstk.rectangle((10 + po_shift, 10), (50 + po_shift, 50), layer=20))  # PO, 10 um inside


def _array_with_odd_ones(lib: gdstk.Library, top: gdstk.Cell) -> None:
    pad = lib.new_cell("PAD")
    _pads(lib, pad)
    shifted = lib.new_cell("PAD_SHIFTED")
    _pads(lib, shifted, po_shift=8.0)  # PO 2 um from the pad's right edge: PO.1 fails
    top.add(gdstk.Reference(pad, (0, 0), columns=12, rows=12, spacing=(100, 100)))
    top.add(gdstk.Reference(shifted, (0, 1300), columns=3, rows=1, spacing=(100, 100)))
    top.add(gdstk.rectangle((1300, 0), (1301.8, 60), layer=13))  # a pad drawn narrower: RDL2.W 1.8
    top.add(gdstk.rectangle((561, 500), (570, 560), layer=13))  # 1 um from pad (5, 5): RDL2.S 1.0


def test_array_with_instances_that_differ(monkeypatch, gds):
    path = gds(_array_with_odd_ones)
    on, off, n_on, n_off = _both(monkeypatch, path, DECK_2L, rules=PAIR_RULES)
    assert on == off
    assert n_on < n_off / 4
    values = {rule: sorted(json.loads(m)["value"] for m in ms) for rule, ms in on.items()}
    assert values["RDL2.W"] == [1.8]
    assert values["RDL2.S"] == [1.0]
    assert values["PO.1"] == [2.0, 2.0, 2.0]
    assert values["PO.2"] == values["PO.3"] == []
    ((po1, *_),) = [[json.loads(m) for m in on["PO.1"]]]
    assert po1["bbox"] == [58.0, 1305.417, 60.0, 1354.583]  # Euclidean: 5 um from the PO corner


def _corpus_cases():
    sys.path.insert(0, str(ROOT / "tests" / "crosscheck"))
    from corpus import CASES

    return CASES


@pytest.mark.parametrize("case", _corpus_cases(), ids=lambda c: c["name"])
def test_crosscheck_corpus_unchanged(case, monkeypatch, tmp_path):
    from klayout_ref import deck_text, write_gds

    path = write_gds(case, tmp_path)
    deck = tmp_path / "deck.yaml"
    deck.write_text(deck_text(case))
    on, off, _, _ = _both(monkeypatch, path, deck, top="TOP", force=True)
    assert on == off


def _fixture_runs():
    runs = []
    for p in sorted(FIXTURES.glob("*.expected.json")):
        spec = json.loads(p.read_text())
        runs.append((spec["layout"], ROOT / "rules" / f"{spec['deck']}.yaml", spec.get("top")))
    for p in sorted(FIXTURES.glob("*_fail_all.gds")):
        runs.append((p.name, ROOT / "rules" / f"{p.name[: -len('_fail_all.gds')]}.yaml", None))
    runs += [(p.name, FIXTURES / "pkg_deck.yaml", None) for p in sorted(FIXTURES.glob("pkg_*.gds"))]
    return runs


@pytest.mark.parametrize("layout, deck, top", _fixture_runs(), ids=lambda x: str(x) if isinstance(x, str) else None)
def test_fixtures_unchanged(layout, deck, top, monkeypatch):
    on, off, _, _ = _both(monkeypatch, FIXTURES / layout, deck, top=top, force=True)
    assert on == off


def _close_array(lib: gdstk.Library, top: gdstk.Cell) -> None:
    """RDL2 pads 1 um apart (every pair of neighbours violates RDL2.S), VIA2 on each, one via off-centre."""
    pad = lib.new_cell("PAD")
    pad.add(gdstk.rectangle((0, 0), (60, 60), layer=13))
    pad.add(gdstk.rectangle((25, 25), (35, 35), layer=12))
    top.add(gdstk.Reference(pad, (0, 0), columns=15, rows=15, spacing=(61, 61)))
    top.add(gdstk.rectangle((2000, 0), (2060, 60), layer=13))
    top.add(gdstk.rectangle((2001, 20), (2011, 30), layer=12))


def _rows(ep):
    """Edge pairs sorted by their source edges (one pair per two edges): (ia, ib) and (distance, geometry)."""
    import numpy as np

    order = np.lexsort((ep.ib, ep.ia))
    return np.column_stack([ep.ia, ep.ib])[order], np.column_stack([ep.distance, ep.pairs.reshape(len(ep), 8)])[order]


@pytest.mark.parametrize("kind", ["width", "space", "enclosure", "separation"])
def test_pairs_and_source_edges_equal_relate(kind, gds):
    """relate_repeated returns relate's pairs, distances and source edges (ia, ib), as a multiset."""
    from pkgdrc.decks import load_deck
    from pkgdrc.geometry.edges import subject_edges
    from pkgdrc.geometry.pairs import relate
    from pkgdrc.layers import LayerSet
    from pkgdrc.layout import read_layout

    deck = load_deck(DECK_2L)
    layers = LayerSet(read_layout(gds(_close_array), deck.layers), deck)
    args = {
        "width": (layers.edges("RDL2"), None, 61000.0, "inside", "inside", True),
        "space": (layers.edges("RDL2"), None, 2000.0, "outside", "outside", False),
        "enclosure": (subject_edges(layers.merged("VIA2")), layers.edges("RDL2"), 1500.0, "outside", "inside", False),
        "separation": (
            subject_edges(layers.merged("RDL2")),
            layers.edges("VIA2"),
            30000.0,
            "outside",
            "outside",
            False,
        ),
    }[kind]
    flat = relate(*args[:5], same_shape=args[5])
    # width: every 60 um pad under 61 um, both ways; space: 2 * 14 * 15 facing neighbours
    # and 2 pairs per diagonal neighbour (corner to corner 1.41 um); one via 1 um from its pad's
    # edge; separation: each pad edge and the facing edge of the neighbour's via, 26 um away.
    assert (
        len(flat)
        == {"width": 2 * 226, "space": 2 * 14 * 15 + 2 * 2 * 14 * 14, "enclosure": 1, "separation": 2 * 2 * 14 * 15}[
            kind
        ]
    )
    (src, geo), (src_flat, geo_flat) = _rows(repeats.relate_repeated(*args[:5], same_shape=args[5])), _rows(flat)
    assert src.tolist() == src_flat.tolist()
    # Off-grid points (corner distances) computed at another place differ in the last bit;
    # markers are rounded to the grid (Grid.to_um), where they are equal.
    assert abs(geo - geo_flat).max(initial=0.0) < 1e-9


@pytest.mark.parametrize("sampled", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_random_arrays_with_perturbed_instances(seed, sampled, monkeypatch):
    """A random cell of boxes (some touching, some 45-degree cut) on a random pitch, a few
    instances moved by 1 dbu or missing a box: every relation equals the flat one."""
    import numpy as np
    import shapely

    from pkgdrc.geometry.edges import polygon_edges, subject_edges
    from pkgdrc.geometry.pairs import relate
    from pkgdrc.geometry.polygons import merge

    monkeypatch.setattr(repeats, "MIN_SHAPES", 0)
    monkeypatch.setattr(repeats, "MAX_DISTINCT", 1.0)
    monkeypatch.setattr(repeats, "SAMPLE_MIN", 0)  # the sampled pass runs first, on part of the shapes
    # Sampled: neighbours are looked up among the whole layer; not: among the crowded shapes only.
    monkeypatch.setattr(repeats, "SAMPLE_BELOW", 0.0 if sampled else 1.0)
    rng = np.random.default_rng(seed)

    def cell(n):
        lo = rng.integers(0, 4000, (n, 2))
        boxes = shapely.box(*lo.T, *(lo + rng.integers(300, 2500, (n, 2))).T)
        cut = shapely.Polygon([(0, 0), (1500, 0), (0, 1500)])  # a 45-degree corner off some boxes
        return np.array(
            [
                shapely.difference(b, shapely.affinity.translate(cut, *shapely.get_coordinates(b).min(0)))
                if rng.random() < 0.3
                else b
                for b in boxes
            ]
        )

    a_cell, b_cell = cell(3), cell(2)
    pitch = rng.integers(4500, 7000, 2)
    offsets = np.stack(np.meshgrid(np.arange(8), np.arange(8)), -1).reshape(-1, 2) * pitch
    odd = rng.choice(len(offsets), 4, replace=False)
    a_polys, b_polys = [], []
    for k, (dx, dy) in enumerate(offsets):
        move = 1 if k == odd[0] else 0
        a_polys += [
            shapely.affinity.translate(p, dx + move, dy) for j, p in enumerate(a_cell) if not (k == odd[1] and j == 0)
        ]
        b_polys += [shapely.affinity.translate(p, dx, dy) for j, p in enumerate(b_cell) if not (k == odd[2] and j == 1)]
    a_merged, b_merged = merge(np.array(a_polys)), merge(np.array(b_polys))
    a, b, sub = polygon_edges(a_merged), polygon_edges(b_merged), subject_edges(a_merged)
    for args in (
        (a, None, 700.0, "inside", "inside", True),
        (a, None, 900.0, "outside", "outside", False),
        (sub, b, 800.0, "outside", "inside", False),
        (sub, b, 800.0, "outside", "outside", False),
        (sub, b, 800.0, "inside", "inside", False),
    ):
        (src, geo), (src_flat, geo_flat) = (
            _rows(f(*args[:5], same_shape=args[5])) for f in (repeats.relate_repeated, relate)
        )
        assert src.tolist() == src_flat.tolist()
        assert abs(geo - geo_flat).max(initial=0.0) < 1e-9


def test_unique_neighbourhoods_skip_the_full_pass(monkeypatch):
    """Fill squares repeated alone but each with its own neighbour (a bar at a random
    offset): the sample shows the contexts unique, the full pass is skipped, and the
    pairs are `relate`'s."""
    import numpy as np
    import shapely

    from pkgdrc.geometry.edges import polygon_edges
    from pkgdrc.geometry.pairs import relate
    from pkgdrc.geometry.polygons import merge

    monkeypatch.setattr(repeats, "SAMPLE_MIN", 0)
    monkeypatch.setattr(repeats, "SAMPLE_BELOW", 0.0)
    passes = []
    contexts = repeats._contexts
    monkeypatch.setattr(
        repeats, "_contexts", lambda *a, **k: passes.append((a[5] is None, len(a) > 6)) or contexts(*a, **k)
    )
    rng = np.random.default_rng(1)
    lo = np.stack(np.meshgrid(np.arange(20), np.arange(20)), -1).reshape(-1, 2) * 10000
    bars = lo + [3000, 0] + np.c_[rng.integers(0, 400, len(lo)), rng.integers(0, 1500, len(lo))]
    polys = merge(np.r_[shapely.box(*lo.T, *(lo + 2000).T), shapely.box(*bars.T, *(bars + [500, 4000]).T)])
    e = polygon_edges(polys)
    args = (e, None, 1500.0, "outside", "outside")
    got, want = repeats.relate_repeated(*args), relate(*args)
    assert passes == [(True, False), (False, True)]  # alone, then the sample: no full pass
    assert len(np.unique(np.r_[e.shape[want.ia], e.shape[want.ib]])) == 800  # each square 1000-1400 dbu from its bar
    assert sorted(map(tuple, got.pairs.reshape(-1, 8).tolist())) == sorted(
        map(tuple, want.pairs.reshape(-1, 8).tolist())
    )


def test_shapes_far_apart_need_no_neighbour_query(monkeypatch):
    """Space among round openings farther apart than the distance: no shape is crowded, the
    contexts are the shapes alone (one pass), and the pairs are `relate`'s (a pair of
    openings brought within the distance gives its markers)."""
    import numpy as np
    import shapely

    from pkgdrc.geometry.edges import polygon_edges
    from pkgdrc.geometry.pairs import relate
    from pkgdrc.geometry.polygons import merge

    passes = []
    contexts = repeats._contexts
    monkeypatch.setattr(repeats, "_contexts", lambda *a, **k: passes.append(a[5] is None) or contexts(*a, **k))
    centres = np.stack(np.meshgrid(np.arange(15), np.arange(15)), -1).reshape(-1, 2) * 100_000.0
    disc = lambda c: shapely.set_precision(shapely.Point(*c).buffer(20_000, 16), 1.0)  # noqa: E731
    far = polygon_edges(merge(np.array([disc(c) for c in centres], dtype=object)))
    args = (far, None, 20_000.0, "outside", "outside")
    assert len(repeats.relate_repeated(*args)) == 0 == len(relate(*args))
    assert passes == [True]
    passes.clear()
    near = polygon_edges(merge(np.array([disc(c) for c in centres] + [disc((0, 55_000))], dtype=object)))
    args = (near, None, 20_000.0, "outside", "outside")
    got, want = repeats.relate_repeated(*args), relate(*args)
    assert passes == [True, False]  # alone, then the crowded shapes' neighbourhoods
    assert len(want) > 0
    key = lambda ep: sorted(map(tuple, ep.pairs.reshape(-1, 8).tolist()))  # noqa: E731
    assert key(got) == key(want)
    np.testing.assert_allclose(sorted(got.distance), sorted(want.distance))


def test_two_layer_checks_look_only_at_the_other_layer_near_the_first(monkeypatch):
    """Enclosure of vias by pads: of the pads' layer, only edges whose boxes come within the
    distance of a via's box (or of an edge of a sprawling shape) are related (a pad edge 1 um
    from its via), a polygon of more than `SMALL_POLYGON` edges near a via whole (a round
    plane), nothing of far fill; the pairs and source edges are `relate`'s on the whole layer."""
    import numpy as np
    import shapely

    from pkgdrc.geometry.edges import polygon_edges, subject_edges
    from pkgdrc.geometry.pairs import relate
    from pkgdrc.geometry.polygons import merge

    um = 1000.0
    vias = shapely.box(*np.array([[25, 25, 35, 35], [101, 20, 111, 30], [290, 25, 300, 35]]).T * um)
    # An L-shaped trace looks around edge by edge: a square in its box, far from both arms, is not looked at.
    trace = shapely.union(shapely.box(400 * um, 0, 600 * um, 5 * um), shapely.box(595 * um, 0, 600 * um, 200 * um))
    inside_l = shapely.box(420 * um, 150 * um, 430 * um, 160 * um)
    disc = shapely.set_precision(shapely.Point(300 * um, 30 * um).buffer(25 * um, 75), 1.0)  # 300 edges
    fill = shapely.box(*np.array([[1000 + 20 * k, 0, 1010 + 20 * k, 10] for k in range(20)]).T * um)
    pads = shapely.box(*np.array([[0, 0, 60, 60], [100, 0, 160, 60]]).T * um)
    a, b = subject_edges(merge(np.r_[vias, [trace]])), polygon_edges(merge(np.r_[pads, [disc], fill, [inside_l]]))
    related = []
    monkeypatch.setattr(repeats, "relate", lambda a, b, *args, **kw: related.append(b) or relate(a, b, *args, **kw))
    got, want = repeats.relate_repeated(a, b, 1500.0, "outside", "inside"), relate(a, b, 1500.0, "outside", "inside")
    (near,) = related
    assert len(b) == 4 + 4 + 300 + 20 * 4 + 4
    assert len(near) == 1 + 300
    assert ((near.p1[:, 0] == 100 * um) & (near.p2[:, 0] == 100 * um)).sum() == 1  # 1 um from the second via
    assert got.distance.tolist() == want.distance.tolist() == [1000.0]
    assert (got.ia.tolist(), got.ib.tolist()) == (want.ia.tolist(), want.ib.tolist())
    assert np.array_equal(got.pairs, want.pairs)


def test_space_looks_for_neighbours_among_crowded_shapes_only(monkeypatch):
    """Space on pairs of squares 500 dbu apart and squares standing alone: the neighbours
    of the pairs are looked for among the pairs' edges only (a shape near a crowded shape
    is crowded itself), and the pairs are `relate`'s."""
    import numpy as np
    import shapely

    from pkgdrc.geometry.edges import polygon_edges
    from pkgdrc.geometry.pairs import relate
    from pkgdrc.geometry.polygons import merge

    searched = []
    neighbours = repeats._neighbours
    monkeypatch.setattr(repeats, "_neighbours", lambda *a: searched.append(neighbours(*a)) or searched[-1])
    lo = np.stack(np.meshgrid(np.arange(15), np.arange(10)), -1).reshape(-1, 2) * 20000
    squares = [lo, lo + [2500, 0], lo + [0, 10000]]  # a pair 500 dbu apart, and one alone
    e = polygon_edges(merge(np.concatenate([shapely.box(*p.T, *(p + 2000).T) for p in squares])))
    args = (e, None, 900.0, "outside", "outside")
    got, want = repeats.relate_repeated(*args), relate(*args)
    ((near, indexed),) = searched
    assert len(e) == 3 * 150 * 4 and len(near) == len(indexed) == 2 * 150 * 4
    assert len(want) == 150 and sorted(map(tuple, got.pairs.reshape(-1, 8).tolist())) == sorted(
        map(tuple, want.pairs.reshape(-1, 8).tolist())
    )
    assert got.distance.tolist() == want.distance.tolist() == [500.0] * 150
