"""Reading a GDSII file structure by structure through the cache (issue 18) gives the cells the
whole-file read gives: the same cells in the same order, the same polygons vertex for vertex,
labels, placements, repair counts, unmapped layers and shape hashes; and a structure whose
bytes did not change is not read again (the store's hits and misses say which were)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import gdstk
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pkgdrc
from pkgdrc import layout as layout_module
from pkgdrc.cache.store import Store
from pkgdrc.decks import load_deck
from pkgdrc.gdsii import segments
from pkgdrc.layout import Layout, read_layout
from pkgdrc.report import json_report

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DECK = load_deck("fowlp-2l")
LAYERS = {"A": (1, 0), "B": (2, 0)}
LABELS = {"A": (1, 0)}


def assert_same(a: Layout, b: Layout) -> None:
    """Two reads of one file hold the same cells, vertex for vertex."""
    assert (a.top, a.repaired, a.dropped, a.unmapped, a.grid.dbu_um) == (
        b.top,
        b.repaired,
        b.dropped,
        b.unmapped,
        b.grid.dbu_um,
    )
    assert a.tree is not None and b.tree is not None
    assert list(a.tree.cells) == list(b.tree.cells)
    for name, ca in a.tree.cells.items():
        cb = b.tree.cells[name]
        assert list(ca.polygons) == list(cb.polygons)
        for layer in ca.polygons:
            pa, pb = ca.polygons[layer], cb.polygons[layer]
            assert len(pa) == len(pb) and shapely.equals_exact(pa, pb, tolerance=0).all(), (name, layer)
            (ha, ba), (hb, bb) = ca.own_state(layer), cb.own_state(layer)
            assert np.array_equal(ha, hb) and np.array_equal(ba, bb)
        assert ca.labels == cb.labels
        assert [(p.cell, p.matrix, p.offsets.tolist()) for p in ca.placements] == [
            (p.cell, p.matrix, p.offsets.tolist()) for p in cb.placements
        ]


def read_both(path: Path, store: Store, layers=LAYERS, labels=LABELS) -> tuple[Layout, Layout]:
    return read_layout(path, layers, label_map=labels), read_layout(path, layers, label_map=labels, cache=store)


@pytest.mark.parametrize("name", ["demo_fowlp.gds", "fowlp-metal_fail_all.gds", "angle_cases.gds", "fc-heatsink.gds"])
def test_fixture_cold_and_warm_read_equal_whole_read(name, tmp_path):
    path = FIXTURES / name
    store = Store(tmp_path / "cache")
    n = len(segments.split_buffer(path.read_bytes()).structures)
    whole, cold = read_both(path, store, DECK.layers, DECK.labels)
    assert_same(whole, cold)
    assert (store.hits, store.misses) == (0, n)
    warm = read_layout(path, DECK.layers, label_map=DECK.labels, cache=store)
    assert_same(whole, warm)
    assert (store.hits, store.misses) == (n, n)


def test_a_cold_read_in_parts_equals_the_whole_read(tmp_path, monkeypatch):
    """A large file's structures are read in parts of at most `PART_BYTES` (one child each, so
    that gdstk never holds the whole library): here every structure in a part of its own."""
    monkeypatch.setattr(layout_module, "PART_BYTES", 1)
    store = Store(tmp_path / "cache")
    path = FIXTURES / "demo_fowlp.gds"
    assert_same(*read_both(path, store, DECK.layers, DECK.labels))
    assert (store.hits, store.misses) == (0, 7)


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_file_larger_than_a_part_is_read_in_parts_without_cache_too(monkeypatch, jobs):
    """Parts are read one after the other, or `jobs` at once: the same cells."""
    path = FIXTURES / "demo_fowlp.gds"
    whole = read_layout(path, DECK.layers, label_map=DECK.labels)
    monkeypatch.setattr(layout_module, "PART_BYTES", 1)
    calls = []
    monkeypatch.setattr(layout_module, "_read_structures", _counting(layout_module._read_structures, calls))
    parts = read_layout(path, DECK.layers, label_map=DECK.labels, jobs=jobs)
    assert_same(whole, parts)
    assert sorted(calls) == [[0], [1], [2], [3], [4], [5], [6]]


def _counting(read, calls):
    def counted(path, data, found, which, *args):
        calls.append(which)
        return read(path, data, found, which, *args)

    return counted


def test_warm_read_decodes_no_polygon_for_counts_boxes_and_state(tmp_path):
    """Counting, content boxes and shape hashes come from the compact cells: no cell is decoded."""
    store = Store(tmp_path / "cache")
    path = FIXTURES / "demo_fowlp.gds"
    read_layout(path, DECK.layers, label_map=DECK.labels, cache=store)
    layout = read_layout(path, DECK.layers, label_map=DECK.labels, cache=store)
    tree = layout.tree
    assert tree is not None
    assert layout.shape_count == tree.flat_count() > tree.drawn_count() > 0
    assert tree.repeated() and tree.top in tree.content_boxes()
    for cell in tree.cells.values():
        for layer in DECK.layers:
            cell.own_state(layer)
    assert all(not cell.polygons._decoded for cell in tree.cells.values())
    assert len(tree.cells[tree.top].polygons["RDL1"]) == tree.cells[tree.top].count("RDL1")


def test_check_with_cache_reports_what_the_whole_read_reports(tmp_path):
    path = FIXTURES / "demo_fowlp.gds"
    plain = json.loads(json_report.dumps(pkgdrc.check(path, "fowlp-2l")))
    store = Store(tmp_path / "cache")
    for _ in range(2):  # cold, then every structure from the cache
        cached = json.loads(json_report.dumps(pkgdrc.check(path, "fowlp-2l", cache=store)))
        assert [r["violations"] for r in cached["rules"]] == [r["violations"] for r in plain["rules"]]
        fields = ("violations", "shapes", "repaired", "dropped", "empty_layers", "unmapped", "warnings")
        assert [cached["summary"][f] for f in fields] == [plain["summary"][f] for f in fields]
    assert sum(r["violations"] != [] for r in plain["rules"]) > 0


def _library() -> gdstk.Library:
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    leaf = lib.new_cell("LEAF")
    leaf.add(gdstk.rectangle((0, 0), (2, 1), layer=1), gdstk.rectangle((0, 0), (1, 3), layer=2))
    leaf.add(gdstk.Polygon([(0, 0), (4, 4), (4, 0), (0, 4)], layer=1))  # a bow-tie: repaired
    leaf.add(gdstk.Label("n1", (1, 0.5), layer=1))
    mid = lib.new_cell("MID")
    mid.add(gdstk.Reference(leaf, (10, 0), rotation=math.pi / 2, x_reflection=True))
    mid.add(gdstk.Reference(leaf, (0, 20), columns=3, rows=2, spacing=(5, 7)))
    mid.add(gdstk.rectangle((0, 0), (30, 1), layer=2), gdstk.rectangle((50, 0), (51, 1), layer=9))
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(mid, (0, 0)), gdstk.Reference(mid, (200, 0), rotation=math.pi))
    top.add(gdstk.Reference(leaf, (-40, 0)))
    top.add(gdstk.rectangle((-50, -50), (300, -49), layer=1))
    return lib


def _write(lib: gdstk.Library, path: Path) -> Path:
    lib.write_gds(str(path))
    return path


def _edit(lib: gdstk.Library, change: str) -> None:
    cells = {c.name: c for c in lib.cells}
    if change == "shape":
        cells["LEAF"].add(gdstk.rectangle((5, 5), (6, 6), layer=1))
    elif change == "rename":
        cells["MID"].name = "MIDDLE"
    elif change == "add":
        extra = lib.new_cell("EXTRA")
        extra.add(gdstk.rectangle((0, 0), (1, 1), layer=2))
        cells["TOP"].add(gdstk.Reference(extra, (-80, 0), columns=2, rows=1, spacing=(3, 0)))
    elif change == "remove":  # MID and its placements go; LEAF stays (TOP places it)
        top = cells["TOP"]
        top.remove(*[r for r in top.references if r.cell.name == "MID"])
        lib.remove(cells["MID"])
    elif change == "placement":
        ref = next(r for r in cells["TOP"].references if r.cell.name == "LEAF")
        ref.origin = (-45, 3)
        ref.rotation = math.pi * 1.5


@pytest.mark.parametrize(
    ("change", "misses"), [("shape", 1), ("rename", 2), ("add", 2), ("remove", 1), ("placement", 1), ("none", 0)]
)
def test_after_an_edit_only_the_changed_structures_are_read(tmp_path, change, misses):
    """A structure is read again when its bytes changed (a renamed cell changes its own STRNAME
    and the SNAME of every reference to it), never otherwise; the cells equal the whole read."""
    store = Store(tmp_path / "cache")
    lib = _library()
    path = _write(lib, tmp_path / "a.gds")
    assert_same(*read_both(path, store))
    before = store.misses
    _edit(lib, change)
    _write(lib, path)
    assert_same(*read_both(path, store))
    assert store.misses - before == misses


def test_a_changed_layer_map_reads_every_structure_again(tmp_path):
    store = Store(tmp_path / "cache")
    path = _write(_library(), tmp_path / "a.gds")
    assert_same(*read_both(path, store))
    other = {"A": (1, 0), "B": (9, 0)}
    assert_same(*read_both(path, store, other))
    assert (store.hits, store.misses) == (0, 6)  # LEAF, MID, TOP: cold twice
    # layer 2: LEAF 1 shape; MID 1 + 7 LEAF copies; TOP 2 MID copies + 1 LEAF copy
    assert read_layout(path, other, label_map=LABELS, cache=store).unmapped == [(2, 0, 17)]
    assert (store.hits, store.misses) == (3, 6)


def test_a_reference_off_the_grid_reads_the_whole_file(tmp_path):
    """gdstk flattens a reference that is not exact on the grid into its parent, which then
    depends on the placed cell's shapes: such a file is read whole, with the same cells."""
    lib = _library()
    top = next(c for c in lib.cells if c.name == "TOP")
    top.add(gdstk.Reference(next(c for c in lib.cells if c.name == "LEAF"), (0, 0), rotation=math.pi / 6))
    path = _write(lib, tmp_path / "a.gds")
    store = Store(tmp_path / "cache")
    for _ in range(2):
        assert_same(*read_both(path, store))


@st.composite
def hierarchies(draw) -> gdstk.Library:
    """Random cells (rectangles on layers 1, 2, 3 and labels) placing cells made before them,
    turned by multiples of 90 degrees, mirrored, in arrays; several top cells joined under TOP."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    made: list[gdstk.Cell] = []
    for k in range(draw(st.integers(1, 5))):
        cell = lib.new_cell(f"C{k}")
        for _ in range(draw(st.integers(0, 4))):
            x, y = draw(st.integers(-20, 20)), draw(st.integers(-20, 20))
            w, h = draw(st.integers(1, 9)), draw(st.integers(1, 9))
            cell.add(gdstk.rectangle((x, y), (x + w, y + h), layer=draw(st.sampled_from([1, 2, 3]))))
        if draw(st.booleans()):
            cell.add(gdstk.Label(f"t{k}", (draw(st.integers(-5, 5)), 0), layer=1))
        for child in draw(st.lists(st.sampled_from(made), max_size=3)) if made else []:
            cols, rows = draw(st.integers(1, 3)), draw(st.integers(1, 2))
            cell.add(
                gdstk.Reference(
                    child,
                    (draw(st.integers(-50, 50)), draw(st.integers(-50, 50))),
                    rotation=draw(st.sampled_from([0, 1, 2, 3])) * math.pi / 2,
                    x_reflection=draw(st.booleans()),
                    columns=cols,
                    rows=rows,
                    spacing=(30, 40),
                )
            )
        made.append(cell)
    top = lib.new_cell("TOP")
    top.add(*[gdstk.Reference(c) for c in lib.top_level() if c is not top])
    return lib


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lib=hierarchies(), edit=st.integers(0, 4))
def test_random_hierarchies_cached_equal_whole(tmp_path_factory, lib, edit):
    folder = tmp_path_factory.mktemp("h")
    store = Store(folder / "cache")
    path = _write(lib, folder / "h.gds")
    assert_same(*read_both(path, store))
    cells = [c for c in lib.cells if c.name != "TOP"]
    cells[edit % len(cells)].add(gdstk.rectangle((100, 100), (101, 102), layer=2))
    _write(lib, path)
    assert_same(*read_both(path, store))
    assert_same(*read_both(path, store))


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_parts_share_the_bytes_among_the_readers(jobs):
    """With `jobs` readers, no part holds more than a `jobs`-th of the bytes (unless one
    structure alone is larger), and every structure is in one part, in file order."""
    data = (FIXTURES / "demo_fowlp.gds").read_bytes()
    found = segments.split_buffer(data)
    which = list(range(len(found.structures)))
    parts = layout_module._parts(found, which, jobs)
    assert [i for part in parts for i in part] == which
    size = [s.end - s.start for s in found.structures]
    most = -(-sum(size) // jobs)
    assert all(sum(size[i] for i in part) <= most or len(part) == 1 for part in parts)
    assert len(parts) >= jobs or len(parts) == len(which)
