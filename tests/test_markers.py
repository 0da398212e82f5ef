"""to_markers: violations in dbu become markers in um, once each, already in `Marker.sort_key` order."""

import gc

import numpy as np
import shapely

from pkgdrc.markers import Marker, Violations, merge_sorted, to_markers
from pkgdrc.units import Grid

GRID = Grid(0.001)


def edge_pair(x0, y0, x1, y1, x2, y2, x3, y3):
    return [[[x0, y0], [x1, y1]], [[x2, y2], [x3, y3]]]


def test_edge_pairs_come_out_sorted_by_place_then_value_then_geometry():
    pairs = np.array(
        [
            edge_pair(5000, 0, 5000, 1000, 5200, 0, 5200, 1000),  # right of the others
            edge_pair(0, 0, 0, 1000, 200, 0, 200, 1000),
            edge_pair(0, 1000, 0, 0, 200, 0, 200, 1000),  # same box and value, other geometry
            edge_pair(0, 0, 0, 1000, 200, 0, 200, 1000),  # a repeat, with a smaller value
            edge_pair(0, 0, 0, 900, 200, 0, 200, 1000),  # same box, larger value
        ],
        float,
    )
    v = Violations("edge_pair", pairs, np.array([200.0, 200.0, 200.0, 150.0, 210.0]))
    markers = to_markers(v, "M1", GRID)
    assert [(m.bbox, m.value, m.edge_pair) for m in markers] == [
        ((0.0, 0.0, 0.2, 1.0), 0.15, (((0.0, 0.0), (0.0, 1.0)), ((0.2, 0.0), (0.2, 1.0)))),
        ((0.0, 0.0, 0.2, 1.0), 0.2, (((0.0, 1.0), (0.0, 0.0)), ((0.2, 0.0), (0.2, 1.0)))),
        ((0.0, 0.0, 0.2, 1.0), 0.21, (((0.0, 0.0), (0.0, 0.9)), ((0.2, 0.0), (0.2, 1.0)))),
        ((5.0, 0.0, 5.2, 1.0), 0.2, (((5.0, 0.0), (5.0, 1.0)), ((5.2, 0.0), (5.2, 1.0)))),
    ]
    assert markers == sorted(markers, key=Marker.sort_key)


def test_a_marker_without_value_and_messages_sort_as_sort_key_says():
    edges = np.array([[[0, 0], [0, 1000]]] * 3, float)
    edges[1, 1, 1] = 2000  # a longer edge: another box
    v = Violations("edge", edges, np.array([np.nan, 7.0, 7.0]), "none", np.array(["b", "a", "a"], dtype=object))
    markers = to_markers(v, "M1", GRID)
    assert [(m.bbox, m.value, m.message) for m in markers] == [
        ((0.0, 0.0, 0.0, 1.0), 7.0, "a"),  # a value before none at the same place
        ((0.0, 0.0, 0.0, 1.0), None, "b"),
        ((0.0, 0.0, 0.0, 2.0), 7.0, "a"),
    ]


def test_polygons_alike_but_for_their_vertices_sort_by_vertices():
    # Same bounding box, no value, one message: only the vertices tell them apart.
    notch_top = shapely.Polygon(
        [(0, 0), (1000, 0), (1000, 1000), (600, 1000), (600, 800), (400, 800), (400, 1000), (0, 1000)]
    )
    notch_bottom = shapely.Polygon(
        [(0, 0), (400, 0), (400, 200), (600, 200), (600, 0), (1000, 0), (1000, 1000), (0, 1000)]
    )
    square = shapely.box(0, 0, 1000, 1000)
    far = shapely.box(-3000, 0, -2000, 1000)
    v = Violations.polygons(np.array([square, notch_top, far, notch_bottom], dtype=object), messages="outside")
    markers = to_markers(v, "M1", GRID)
    assert markers == sorted(markers, key=Marker.sort_key)
    assert markers[0].bbox == (-3.0, 0.0, -2.0, 1.0)
    assert sorted(m.polygon for m in markers[1:]) == [m.polygon for m in markers[1:]]
    assert len({m.polygon for m in markers[1:]}) == 3


def test_merge_sorted_keeps_one_chunk_and_sorts_several():
    a = to_markers(Violations("edge", np.array([[[0, 0], [0, 1000]]], float), np.array([1.0])), "A", GRID)
    b = to_markers(Violations("edge", np.array([[[-5, 0], [-5, 1000]]], float), np.array([1.0])), "B", GRID)
    assert merge_sorted([a, []]) is a
    assert [m.layer for m in merge_sorted([a, b])] == ["B", "A"]
    assert merge_sorted([]) == []


def test_to_markers_leaves_garbage_collection_as_it_found_it():
    v = Violations("edge", np.array([[[0, 0], [0, 1000]]], float), np.array([1.0]))
    assert gc.isenabled()
    to_markers(v, "A", GRID)
    assert gc.isenabled()
    gc.disable()
    try:
        to_markers(v, "A", GRID)
        assert not gc.isenabled()
    finally:
        gc.enable()
