"""Awkward geometry: results stay exact, and every repaired or dropped shape is counted.

Repair rule (pkgdrc/layout.py `to_shapely`): an invalid polygon (self-intersecting,
bow-tie) is replaced by `shapely.make_valid` of it and counted in `repaired`; a polygon
with fewer than 3 distinct vertices or no area is dropped and counted in `dropped`.
"""

from __future__ import annotations

import gdstk
import numpy as np
import shapely

import pkgdrc
from pkgdrc.layout import read_layout

LAYERS = {"A": (1, 0)}
WIDTH = "A.W: {check: width, layer: A, min: 2.5}"
AREA = "A.AR: {check: area, layer: A, min: 1000}"


def one_layer(tmp_path, polygons, name="g.gds", oasis=False):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.new_cell("TOP").add(*[gdstk.Polygon(p, layer=1) for p in polygons])
    path = tmp_path / name
    lib.write_oas(str(path)) if oasis else lib.write_gds(str(path))
    return path


def markers(report, rule):
    (result,) = [r for r in report.rules if r.id == rule]
    return [(m.bbox, m.value) for m in result.markers]


def test_self_intersecting_bow_tie_is_repaired_and_counted(tmp_path, deck):
    path = one_layer(tmp_path, [[(0, 0), (10, 2), (10, 0), (0, 2)]])
    layout = read_layout(path, LAYERS)
    assert (layout.repaired, layout.dropped) == (1, 0)
    # make_valid: the two triangles that meet at (5, 1), 5 um2 each
    assert sorted(shapely.area(layout.polygons["A"]) / 1e6) == [5.0, 5.0]
    report = pkgdrc.check(path, deck(WIDTH))
    assert (report.repaired, report.dropped) == (1, 0)


def test_zero_area_shapes_are_dropped_and_counted(tmp_path):
    path = one_layer(
        tmp_path,
        [
            [(0, 0), (10, 0), (20, 0)],  # collinear: no area
            [(0, 5), (1, 5), (1, 5), (0, 5)],  # two distinct points
            [(0, 9), (4, 9), (4, 11), (0, 11)],
        ],
    )  # a real one
    layout = read_layout(path, LAYERS)
    # the collinear one is an invalid ring (repaired, then empty: dropped); the other never becomes a ring
    assert (layout.repaired, layout.dropped) == (1, 2)
    assert [p.bounds for p in layout.polygons["A"]] == [(0.0, 9000.0, 4000.0, 11000.0)]


def test_duplicate_vertices_change_nothing(tmp_path, deck):
    path = one_layer(tmp_path, [[(0, 0), (0, 0), (10, 0), (10, 2), (10, 2), (10, 2), (0, 2)]])
    layout = read_layout(path, LAYERS)
    assert (layout.repaired, layout.dropped) == (0, 0)
    report = pkgdrc.check(path, deck(WIDTH))
    assert markers(report, "A.W") == [((0.0, 0.0, 10.0, 2.0), 2.0)]


def test_shapes_exactly_on_top_of_each_other_are_one_shape(tmp_path, deck):
    rect = [(0, 0), (10, 0), (10, 2), (0, 2)]
    report = pkgdrc.check(one_layer(tmp_path, [rect, rect, rect]), deck(WIDTH))
    assert report.shapes == 3 and (report.repaired, report.dropped) == (0, 0)
    assert markers(report, "A.W") == [((0.0, 0.0, 10.0, 2.0), 2.0)]


def test_coordinates_near_the_32_bit_limit(tmp_path, deck):
    """GDSII coordinates are int32: 2147483647 dbu = 2147483.647 um on a 1 nm grid."""
    x1, y1 = 2147483.647, 2147483.647
    path = one_layer(
        tmp_path,
        [
            [(x1 - 30, y1 - 2), (x1, y1 - 2), (x1, y1), (x1 - 30, y1)],
            [(-x1 - 0.001, -y1 - 0.001), (-x1 + 30, -y1 - 0.001), (-x1 + 30, -y1 + 3), (-x1 - 0.001, -y1 + 3)],
        ],
    )
    layout = read_layout(path, LAYERS)
    assert sorted(p.bounds for p in layout.polygons["A"]) == [
        (-2147483648.0, -2147483648.0, -2147453647.0, -2147480647.0),
        (2147453647.0, 2147481647.0, 2147483647.0, 2147483647.0),
    ]
    report = pkgdrc.check(path, deck(WIDTH))
    assert markers(report, "A.W") == [((2147453.647, 2147481.647, 2147483.647, 2147483.647), 2.0)]


def test_a_million_vertex_polygon(tmp_path, deck):
    """OASIS has no vertex limit per polygon (GDSII's is 8191): a 1,000,000-vertex comb."""
    teeth = 250_000  # 4 vertices per tooth
    x = np.arange(teeth, dtype=float) * 4.0
    # teeth of width 2 um and gaps of 2 um above a 1 um thick spine: rise, top, fall, gap
    xs = np.repeat(x, 4) + np.tile([0.0, 0.0, 2.0, 2.0], teeth)
    ys = np.tile([1.0, 10.0, 10.0, 1.0], teeth)
    ring = np.column_stack([xs, ys])
    ring = np.vstack([ring, [(x[-1] + 4.0, 1.0), (x[-1] + 4.0, 0.0), (0.0, 0.0)]])
    path = one_layer(tmp_path, [ring], name="comb.oas", oasis=True)
    layout = read_layout(path, LAYERS)
    assert (layout.repaired, layout.dropped) == (0, 0)
    (comb,) = layout.polygons["A"]
    assert shapely.get_num_coordinates(comb) == 4 * teeth + 3 + 1
    area = teeth * 2 * 9 + (4 * teeth) * 1  # um2: the teeth, then the spine
    assert shapely.area(comb) == area * 1e6
    report = pkgdrc.check(layout, deck(f"A.AR: {{check: area, layer: A, min: {area}}}"))  # exactly at the limit
    assert markers(report, "A.AR") == []


def test_rings_of_fewer_than_three_distinct_vertices_are_dropped():
    """Found by benchmarks/safe_read.py: [A, B, B, A] made GEOS raise 'Invalid number of points in LinearRing'."""
    from pkgdrc.layout import to_shapely

    polygons = [
        [(0, 0), (5, 0), (5, 0), (0, 0)],
        [(0, 0), (5, 0), (0, 0)],
        [(7, 7)] * 5,
        [],
        [(0, 0), (4, 0), (4, 0), (4, 3), (0, 0)],
    ]
    coords = np.array([p for poly in polygons for p in poly], dtype=float)
    parts, repaired, dropped = to_shapely(coords, np.array([len(p) for p in polygons]))
    assert (repaired, dropped) == (0, 4)
    assert [shapely.get_num_coordinates(p) for p in parts] == [4] and shapely.area(parts[0]) == 6.0
    # found by tests/fuzz: a polygon with no vertices at all, alone
    parts, repaired, dropped = to_shapely(np.empty((0, 2)), np.array([0]))
    assert (len(parts), repaired, dropped) == (0, 0, 1)


def test_fuzzer_found_two_point_ring():
    """Found by tests/fuzz: a mutated OASIS polygon whose vertices collapse to two points."""
    from pathlib import Path

    layers = {"DIE": (1, 0), "DIE_PAD": (2, 0), "VIA1": (10, 0), "RDL1": (11, 0), "RDL2": (13, 0), "PKG": (0, 0)}
    layout = read_layout(Path(__file__).parent / "data" / "two-point-ring.oas", layers)
    assert (layout.repaired, layout.dropped) == (0, 2)  # the die outline, placed twice, is now a line
    assert {k: len(v) for k, v in layout.polygons.items()} == {
        "DIE": 0,
        "DIE_PAD": 26,
        "VIA1": 26,
        "RDL1": 1,
        "RDL2": 1,
        "PKG": 1,
    }


def test_fuzzer_found_polygons_without_vertices():
    """Found by tests/fuzz: a bit flip left the pad polygons with no vertices (IndexError in to_shapely).

    The flip made a LAYER record 134 bytes long: the GDSII record grammar check refuses the
    file now, as KLayout does; a polygon without vertices is still dropped by to_shapely.
    """
    from pathlib import Path

    import pytest

    from pkgdrc.errors import PkgdrcError
    from pkgdrc.layout import to_shapely

    path = Path(__file__).parent / "data" / "empty-polygon.gds"
    with pytest.raises(PkgdrcError) as e:
        read_layout(path, {"DIE_PAD": (2, 0)})
    assert str(e.value) == f"{path}: LAYER record at byte 106 is 134 bytes long, expected 6"
    polygons, repaired, dropped = to_shapely(np.array([[0, 0], [10, 0], [10, 10]], dtype=float), np.array([0, 3]))
    assert (len(polygons), repaired, dropped) == (1, 0, 1)
