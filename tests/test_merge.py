"""Merging (`geometry/polygons.py merge`, scanline union in `geometry/union.py`) gives KLayout's merge.

Reference: klayout.db's `Region.merge` of the same integer polygons. Its polygons keep
shapes touching at a point as one polygon touching itself; pkgdrc keeps them apart, each
with a vertex at the point, so the comparison is of the covered area (XOR empty) and of
the vertex sets (every vertex where KLayout has one, crossings rounded alike).
"""

from __future__ import annotations

import gdstk
import klayout.db as kdb
import numpy as np
import pytest
import shapely

import pkgdrc
from pkgdrc.geometry import union
from pkgdrc.geometry.polygons import merge, unique_polygons


def _region(polys) -> kdb.Region:
    region = kdb.Region()
    for g in polys:
        shell = [kdb.Point(int(x), int(y)) for x, y in shapely.get_coordinates(g.exterior)[:-1]]
        p = kdb.Polygon(shell)
        for hole in g.interiors:
            p.insert_hole([kdb.Point(int(x), int(y)) for x, y in shapely.get_coordinates(hole)[:-1]])
        region.insert(p)
    return region


def _vertices_klayout(region: kdb.Region) -> set:
    out = set()
    for p in region.each_merged():
        out |= {(q.x, q.y) for q in p.each_point_hull()}
        for h in range(p.holes()):
            out |= {(q.x, q.y) for q in p.each_point_hole(h)}
    return out


def assert_klayout_merge(shapes) -> np.ndarray:
    shapes = np.asarray(shapes, dtype=object)
    ours = merge(shapes)
    theirs = _region(shapes)
    assert (_region(ours) ^ theirs).is_empty()
    assert set(map(tuple, shapely.get_coordinates(ours).astype(int).tolist())) == _vertices_klayout(theirs)
    assert shapely.is_valid(ours).all()
    return ours


def _ngon(cx: float, cy: float, r: float, n: int = 64):
    a = (np.arange(n) + 0.5) * 2 * np.pi / n
    return shapely.Polygon(np.round(np.c_[cx + r * np.cos(a), cy + r * np.sin(a)]))


def _trace(points, width: float):
    """A trace with square ends, on the grid (45-degree sides land on half-grid crossings)."""
    line = shapely.LineString(points)
    return shapely.set_precision(shapely.buffer(line, width / 2, cap_style="square", join_style="mitre"), 1.0)


@pytest.mark.parametrize("seed", range(6))
def test_round_pads_and_45_degree_traces_merge_as_in_klayout(seed):
    rng = np.random.default_rng(seed)
    off = rng.integers(-20_000, 20_000, 2)  # negative and positive coordinates
    pads = [_ngon(off[0] + x, off[1] + y, rng.integers(900, 1500)) for x in (0, 4000, 8000) for y in (0, 4000)]
    traces = []
    for _ in range(12):
        x, y = off + rng.integers(-500, 8500, 2)
        d = rng.integers(500, 4000)
        sx, sy = rng.choice([-1, 1], 2)
        traces.append(
            _trace([(x, y), (x + sx * d, y + sy * d), (x + sx * d, y + sy * d + 1500)], int(rng.integers(101, 401)))
        )
    assert_klayout_merge(pads + traces)


def test_rows_of_abutting_boxes_and_a_frame_drawn_in_pieces_merge_as_in_klayout():
    """Clipper's horizontal joins are quadratic in the edges along one line, so such batches
    go to it sheared (all edges horizontal or vertical) or turned (others): a bus drawn as
    3,000 abutting pieces, a frame of 4 x 500 pieces around a hole, steps whose tops share
    lines, the bus ending in a 45-degree jog and a round pad: merged as KLayout merges them."""
    x = np.arange(3000) * 10
    bus = list(shapely.box(x, 0, x + 10, 10))
    s = np.arange(500) * 40
    frame = [shapely.box(*b) for b in np.r_[np.c_[s, s * 0 + 100, s + 40, s * 0 + 120]]]
    frame += [shapely.box(*b) for b in np.c_[s, s * 0 + 20100, s + 40, s * 0 + 20120]]
    frame += [shapely.box(*b) for b in np.c_[s * 0, s + 100, s * 0 + 20, s + 140]]
    frame += [shapely.box(*b) for b in np.c_[s * 0 + 19980, s + 100, s * 0 + 20000, s + 140]]
    steps = [shapely.box(k * 7, 200 + (k % 3) * 5, k * 7 + 9, 230) for k in range(400)]
    merged = assert_klayout_merge(bus + frame + steps)  # the steps run into the frame's left side
    assert sorted(shapely.get_num_interior_rings(merged).tolist()) == [0, 1]
    # the bus ending in a 45-degree jog and a 64-gon pad: turned a quarter, not sheared
    jog = shapely.Polygon([(30000, 0), (30010, 0), (30110, 100), (30100, 110), (30000, 10)])
    (merged,) = assert_klayout_merge(bus + [jog, _ngon(30100, 100, 40)])
    assert shapely.bounds(merged).tolist() == [0, 0, 30140, 140]


def test_lattice_of_crossing_traces_each_crossing_rounded_as_klayout():
    # Each trace crosses many others: most crossings have crossings for neighbours on
    # the contour, so their second edge is found by the reversed-Z scanline.
    a = [_trace([(x, 0), (x + 20_000, 20_000)], 301) for x in range(0, 20_000, 1_001)]
    b = [_trace([(x + 20_000, 0), (x, 20_000)], 300) for x in range(0, 20_000, 1_003)]
    assert_klayout_merge(a + b)


def test_tie_crossings_round_towards_minus_infinity():
    # Edges y = x and y = 1 - x cross at (0.5, 0.5); Clipper would truncate or round
    # away from zero, KLayout rounds a tie down: (0, 0), and (-100, -100) below zero.
    for o in (0, 100, -100):
        a = shapely.Polygon([(o - 20, o - 20), (o + 20, o + 20), (o + 20, o - 20)])
        b = shapely.Polygon([(o - 20, o + 21), (o + 20, o - 19), (o - 20, o - 19)])
        (m,) = assert_klayout_merge([a, b])
        assert (o, o) in set(map(tuple, shapely.get_coordinates(m).tolist()))
    # y = x and y = 2 - 2x cross at (2/3, 2/3): the nearest grid point is (1, 1).
    a = shapely.Polygon([(-20, -20), (20, 20), (20, -20)])
    b = shapely.Polygon([(-20, 42), (20, -38), (-20, -38)])
    (m,) = assert_klayout_merge([a, b])
    assert (1, 1) in set(map(tuple, shapely.get_coordinates(m).tolist()))


def test_touching_shapes():
    box = shapely.box
    corner = merge(np.array([box(0, 0, 10, 10), box(10, 10, 20, 20)], dtype=object))
    assert sorted(shapely.normalize(corner).tolist(), key=str) == sorted(
        [shapely.normalize(box(0, 0, 10, 10)), shapely.normalize(box(10, 10, 20, 20))], key=str
    )
    # A ring of four boxes around a square hole, and an island in the hole touching it
    # at a corner: the ring keeps its hole (with a vertex at the touching point), the
    # island is a polygon of its own.
    ring = [box(0, 0, 30, 10), box(0, 20, 30, 30), box(0, 10, 10, 20), box(20, 10, 30, 20)]
    island = shapely.Polygon([(15, 10), (18, 13), (15, 16), (12, 13)])
    out = assert_klayout_merge([*ring, island])
    assert sorted(shapely.get_num_interior_rings(out).tolist()) == [0, 1]
    assert (15.0, 10.0) in [c for g in out for h in g.interiors for c in h.coords]
    # Edge to edge: one rectangle, no vertex left where they met.
    (one,) = merge(np.array([box(0, 0, 10, 10), box(10, 0, 20, 10)], dtype=object))
    assert shapely.equals_exact(shapely.normalize(one), shapely.normalize(box(0, 0, 20, 10)), 0)
    assert shapely.get_num_coordinates(one) == 5


def test_plane_with_holes_and_traces_over_it():
    holes = [_ngon(x, y, 800, 32).exterior.coords for x in range(2_000, 40_000, 4_000) for y in (3_000, 7_000)]
    plane = shapely.Polygon([(0, 0), (40_000, 0), (40_000, 10_000), (0, 10_000)], holes=holes)
    traces = [_trace([(x, -3_000), (x, 1_000), (x + 2_000, 3_001)], 300) for x in range(500, 40_000, 2_500)]
    out = assert_klayout_merge([plane, *traces])
    assert len(out) == 1 and len(out[0].interiors) == 20


def test_batches_change_nothing(monkeypatch):
    rng = np.random.default_rng(7)
    shapes = [_ngon(x, y, 700) for x, y in rng.integers(0, 30_000, (60, 2))]
    shapes += [_trace([(x, y), (x + 3_000, y + 3_000)], 201) for x, y in rng.integers(0, 30_000, (60, 2))]
    shapes = np.array(shapes, dtype=object)
    whole = shapely.normalize(merge(shapes))
    monkeypatch.setattr(union, "BATCH_VERTICES", 1)  # every cluster its own scanline
    one_by_one = shapely.normalize(merge(shapes))
    assert sorted(shapely.to_wkb(whole)) == sorted(shapely.to_wkb(one_by_one))


def test_exact_repeats_are_one_shape():
    box = shapely.box(0, 0, 1000, 2000)
    turned = shapely.Polygon([(1000, 2000), (0, 2000), (0, 0), (1000, 0)])  # other start, other way round
    other = shapely.box(0, 0, 1000, 2001)
    shapes = np.array([box] * 5 + [turned, other], dtype=object)
    assert unique_polygons(shapes).tolist() == [box, other]


def test_ten_thousand_stacked_boxes_give_the_markers_of_one(tmp_path, deck):
    """10,000 identical boxes at one place (and a second stack touching the first) are one
    shape: the markers are those of the two boxes drawn once."""

    def layout(copies: int):
        lib = gdstk.Library(unit=1e-6, precision=1e-9)
        cell = lib.new_cell("TOP")
        for _ in range(copies):
            cell.add(gdstk.rectangle((0, 0), (1.5, 10), layer=1), gdstk.rectangle((1.5, 0), (3, 1), layer=1))
        cell.add(gdstk.rectangle((4, 0), (5, 1), layer=1))
        path = tmp_path / f"stack{copies}.gds"
        lib.write_gds(str(path))
        return path

    rules = deck(
        "A.W: {check: width, layer: A, min: 2}\n  A.S: {check: space, layer: A, min: 2}\n"
        "  A.AR: {check: area, layer: A, min: 20}"
    )
    got = {}
    for copies in (1, 10_000):
        report = pkgdrc.check(layout(copies), rules)
        got[copies] = {r.id: [(m.bbox, m.value) for m in r.markers] for r in report.rules}
    assert got[10_000] == got[1]
    assert got[1] == {
        "A.W": [
            ((0.0, 0.0, 1.5, 10.0), 1.5),
            ((0.0, 0.0, 3.0, 1.0), 1.0),
            ((4.0, 0.0, 5.0, 1.0), 1.0),
            ((4.0, 0.0, 5.0, 1.0), 1.0),
        ],  # the square: both ways
        "A.S": [((3.0, 0.0, 4.0, 1.0), 1.0)],
        "A.AR": [((0.0, 0.0, 3.0, 10.0), 16.5), ((4.0, 0.0, 5.0, 1.0), 1.0)],
    }


@pytest.mark.parametrize("small_cluster", [0, 16])
def test_crossing_inside_a_third_shape_of_its_cluster(monkeypatch, small_cluster):
    # A crossing of the edges of shapes 0 and 1 is not a vertex of the union when shape 2
    # of the same cluster covers it; one on shape 2's edge, or in another cluster, is.
    # Clusters of at most SMALL_CLUSTER shapes are searched in numpy, larger by an STRtree.
    monkeypatch.setattr(union, "SMALL_CLUSTER", small_cluster)
    box = shapely.box
    polys = np.array(
        [box(0, 0, 10, 10), box(5, 5, 15, 15), box(4, 4, 12, 12), box(100, 0, 110, 10), box(105, 5, 115, 15)],
        dtype=object,
    )
    labels = np.array([0, 0, 0, 1, 1])
    owner = np.array([0, 1, 3, 4])  # edge k belongs to polygon owner[k]
    exact = np.array([[5, 10, 0, 1], [10, 5, 0, 1], [12, 6, 0, 1], [105, 10, 2, 3]], dtype=float)
    assert union._inside_another(exact, polys, owner, labels).tolist() == [True, True, False, False]


def test_cluster_search_by_boxes_or_tree_unions_alike(monkeypatch):
    rng = np.random.default_rng(3)
    shapes = [_trace([(x, 0), (x + 20_000, 20_000)], 301) for x in range(0, 20_000, 1_001)]
    shapes += [_trace([(x + 20_000, 0), (x, 20_000)], 300) for x in range(0, 20_000, 1_003)]  # one large cluster
    shapes += [_ngon(x, y, 700) for x, y in rng.integers(25_000, 60_000, (40, 2))]
    shapes += [_trace([(x, y), (x + 3_000, y + 3_000)], 201) for x, y in rng.integers(25_000, 60_000, (40, 2))]
    shapes = np.array(shapes, dtype=object)
    got = []
    for small in (0, 16, 1_000):
        monkeypatch.setattr(union, "SMALL_CLUSTER", small)
        got.append(sorted(shapely.to_wkb(shapely.normalize(merge(shapes)))))
    assert got[0] == got[1] == got[2]
