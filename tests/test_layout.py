"""Layout loading: flattening of references, arrays and paths against geometry computed here."""

from __future__ import annotations

import math

import gdstk
import numpy as np
import pytest
import shapely

from pkgdrc.errors import PkgdrcError
from pkgdrc.layout import read_layout

L_SHAPE = [(0, 0), (4, 0), (4, 1), (1, 1), (1, 3), (0, 3)]  # asymmetric: any wrong transform shows


def transform(points, origin=(0, 0), rotation=0.0, magnification=1.0, x_reflection=False):
    """GDSII order: reflect about the x axis, scale, rotate, translate."""
    p = np.asarray(points, dtype=float)
    if x_reflection:
        p = p * [1, -1]
    p = p * magnification
    c, s = math.cos(rotation), math.sin(rotation)
    p = p @ np.array([[c, s], [-s, c]])
    return p + origin


def as_union(polys_um):
    return shapely.union_all([shapely.Polygon(p) for p in polys_um])


def loaded_union(layout, name):
    return shapely.union_all(shapely.transform(layout.polygons[name], lambda c: c * layout.grid.dbu_um))


def same_region(a, b, tol=1e-6):
    return a.symmetric_difference(b).area < tol and abs(a.area - b.area) < tol


def _nested_library():
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    leaf = lib.new_cell("LEAF")
    leaf.add(gdstk.Polygon(L_SHAPE, layer=11))
    mid = lib.new_cell("MID")
    mid.add(gdstk.Reference(leaf, origin=(10, 0), rotation=math.pi / 2, x_reflection=True))
    mid.add(gdstk.Reference(leaf, origin=(0, 20), magnification=2))
    mid.add(gdstk.Reference(leaf, origin=(30, 0), columns=3, rows=2, spacing=(6, 5)))
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(mid, origin=(100, 50), rotation=math.pi, x_reflection=True))
    return lib


def _expected_nested():
    placements = [transform(L_SHAPE, (10, 0), math.pi / 2, 1, True), transform(L_SHAPE, (0, 20), 0, 2)]
    placements += [transform(L_SHAPE, (30 + 6 * i, 5 * j)) for i in range(3) for j in range(2)]
    return [transform(p, (100, 50), math.pi, 1, True) for p in placements]


@pytest.mark.parametrize("suffix", ["gds", "oas"])
def test_flattening_rotation_reflection_magnification_arrays_nested(tmp_path, suffix):
    lib = _nested_library()
    path = tmp_path / f"nested.{suffix}"
    lib.write_gds(str(path)) if suffix == "gds" else lib.write_oas(str(path))
    layout = read_layout(path, {"RDL1": (11, 0)})
    assert layout.top == "TOP"
    assert len(layout.polygons["RDL1"]) == 8
    assert same_region(loaded_union(layout, "RDL1"), as_union(_expected_nested()))


def test_coordinates_are_whole_database_units(tmp_path):
    lib = _nested_library()
    lib.write_gds(str(tmp_path / "n.gds"))
    layout = read_layout(tmp_path / "n.gds", {"RDL1": (11, 0)})
    coords = shapely.get_coordinates(layout.polygons["RDL1"])
    assert np.array_equal(coords, np.rint(coords))
    assert layout.grid.dbu_um == pytest.approx(0.001)


@pytest.mark.parametrize("ends, extra", [("flush", 0.0), ("extended", 1.0)])
def test_paths_become_polygons_with_their_end_type(tmp_path, ends, extra):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    c = lib.new_cell("TOP")
    c.add(gdstk.FlexPath([(0, 0), (10, 0), (10, 10)], 2, ends=ends, layer=11, simple_path=True))
    lib.write_gds(str(tmp_path / "p.gds"))
    got = loaded_union(read_layout(tmp_path / "p.gds", {"RDL1": (11, 0)}), "RDL1")
    expected = shapely.LineString([(0, 0), (10, 0), (10, 10)]).buffer(1, cap_style="flat", join_style="mitre")
    if extra:
        expected = expected.union(shapely.box(-1, -1, 0, 1)).union(shapely.box(9, 10, 11, 11))
    assert same_region(got, expected, tol=1e-3)


def test_round_path_ends(tmp_path):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    c = lib.new_cell("TOP")
    c.add(gdstk.FlexPath([(0, 0), (10, 0)], 2, ends="round", layer=11, simple_path=True))
    lib.write_gds(str(tmp_path / "p.gds"))
    got = loaded_union(read_layout(tmp_path / "p.gds", {"RDL1": (11, 0)}), "RDL1")
    assert got.bounds == pytest.approx((-1, -1, 11, 1), abs=2e-3)  # polygonal arc
    assert got.area == pytest.approx(20 + math.pi, rel=2e-3)


def test_other_database_units(tmp_path):
    lib = gdstk.Library(unit=1e-6, precision=5e-9)  # 5 nm grid
    c = lib.new_cell("TOP")
    c.add(gdstk.rectangle((0, 0), (1.005, 2), layer=11))
    lib.write_gds(str(tmp_path / "g.gds"))
    layout = read_layout(tmp_path / "g.gds", {"RDL1": (11, 0)})
    assert layout.grid.dbu_um == pytest.approx(0.005)
    assert shapely.bounds(layout.polygons["RDL1"][0]).tolist() == [0, 0, 201, 400]


def test_several_top_cells_need_top(tmp_path):
    lib = gdstk.Library()
    lib.new_cell("A").add(gdstk.rectangle((0, 0), (1, 1)))
    lib.new_cell("B").add(gdstk.rectangle((0, 0), (1, 1)))
    lib.write_gds(str(tmp_path / "two.gds"))
    with pytest.raises(PkgdrcError, match=r"several top cells \(A, B\)"):
        read_layout(tmp_path / "two.gds", {"X": (0, 0)})
    assert read_layout(tmp_path / "two.gds", {"X": (0, 0)}, top="B").top == "B"
    with pytest.raises(PkgdrcError, match="top cell 'C' not found"):
        read_layout(tmp_path / "two.gds", {"X": (0, 0)}, top="C")


def test_unmapped_layers_are_ignored_and_missing_layers_are_empty(tmp_path):
    lib = gdstk.Library()
    c = lib.new_cell("TOP")
    c.add(gdstk.rectangle((0, 0), (1, 1), layer=99))
    c.add(gdstk.rectangle((0, 0), (1, 1), layer=11, datatype=1))
    lib.write_gds(str(tmp_path / "u.gds"))
    layout = read_layout(tmp_path / "u.gds", {"RDL1": (11, 0)})
    assert len(layout.polygons["RDL1"]) == 0


def test_rtree_region_query(tmp_path):
    lib = gdstk.Library()
    c = lib.new_cell("TOP")
    for i in range(10):
        c.add(gdstk.rectangle((10 * i, 0), (10 * i + 5, 5), layer=11))
    lib.write_gds(str(tmp_path / "q.gds"))
    layout = read_layout(tmp_path / "q.gds", {"RDL1": (11, 0)})
    found = layout.query("RDL1", (12, 1, 33, 2))
    assert sorted(shapely.bounds(found)[:, 0].tolist()) == [10_000, 20_000, 30_000]


def test_self_intersecting_polygon_is_repaired_and_counted(tmp_path):
    lib = gdstk.Library()
    c = lib.new_cell("TOP")
    c.add(gdstk.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)], layer=11))  # bow-tie
    lib.write_gds(str(tmp_path / "b.gds"))
    layout = read_layout(tmp_path / "b.gds", {"RDL1": (11, 0)})
    assert layout.repaired == 1
    assert sum(g.area for g in layout.polygons["RDL1"]) == pytest.approx(50e6)


def _centroid(g):
    return tuple(round(v, 3) for v in g.centroid.coords[0])


@pytest.mark.parametrize("name", ["hierarchy.gds", "hierarchy.oas"])
def test_hierarchy_fixture_flattens_to_the_independently_computed_polygons(name):
    import json

    from conftest import DECK_2L, FIXTURES
    from pkgdrc.decks import load_deck

    expected = json.loads((FIXTURES / "hierarchy.expected.json").read_text())
    layout = read_layout(FIXTURES / name, load_deck(DECK_2L).layers)
    for layer, polys in expected["polygons"].items():
        got = sorted(shapely.transform(layout.polygons[layer], lambda c: c * layout.grid.dbu_um), key=_centroid)
        want = sorted((shapely.Polygon(p) for p in polys), key=_centroid)
        assert len(got) == len(want), layer
        for g, w in zip(got, want):
            # Exact for every polygon but the round path end (a polygonal arc): 0.05 um2 admits it.
            assert g.symmetric_difference(w).area < 0.05, (layer, g.wkt, w.wkt)
