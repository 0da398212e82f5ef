"""Each check kind on small layouts, with the exact markers a user would check."""

from __future__ import annotations

import gdstk
import pytest

import pkgdrc


def markers(report, rule_id):
    (rule,) = [r for r in report.rules if r.id == rule_id]
    return [(m.layer, m.bbox, m.value) for m in rule.markers]


def rect(cell, x0, y0, x1, y1, layer=1):
    cell.add(gdstk.rectangle((x0, y0), (x1, y1), layer=layer))


def run(gds, deck, build, rules, **kw):
    return pkgdrc.check(gds(build), deck=deck(rules, **kw))


# --- width -----------------------------------------------------------------------------


def test_width_narrow_trace_is_one_marker_over_its_length(gds, deck):
    r = run(gds, deck, lambda lib, c: rect(c, 0, 0, 10, 1.6), "W: {check: width, layer: A, min: 2.0}")
    assert markers(r, "W") == [("A", (0.0, 0.0, 10.0, 1.6), 1.6)]


@pytest.mark.parametrize("height, expected", [(2.0, []), (1.999, [("A", (0.0, 0.0, 10.0, 1.999), 1.999)]), (2.001, [])])
def test_width_exactly_at_the_limit_passes_one_dbu_under_fails(gds, deck, height, expected):
    r = run(gds, deck, lambda lib, c: rect(c, 0, 0, 10, height), "W: {check: width, layer: A, min: 2.0}")
    assert markers(r, "W") == expected


def test_width_convex_corner_of_an_l_is_not_a_violation(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 20, 2)
        rect(c, 0, 0, 2, 20)

    r = run(gds, deck, build, "W: {check: width, layer: A, min: 2.0}")
    assert markers(r, "W") == []


def test_width_45_degree_jog_is_not_a_violation(gds, deck):
    # 3 um tall horizontal runs joined by a 45-degree run 3/sqrt(2) = 2.12 um wide.
    jog = [(0, 0), (10, 0), (20, 10), (30, 10), (30, 13), (20, 13), (10, 3), (0, 3)]
    r = run(gds, deck, lambda lib, c: c.add(gdstk.Polygon(jog, layer=1)), "W: {check: width, layer: A, min: 2.0}")
    assert markers(r, "W") == []


def test_width_of_a_45_degree_run_narrower_than_the_limit(gds, deck):
    # The same jog 2 um tall: its diagonal run is 2/sqrt(2) = 1.414 um wide.
    jog = [(0, 0), (10, 0), (20, 10), (30, 10), (30, 12), (20, 12), (10, 2), (0, 2)]
    r = run(gds, deck, lambda lib, c: c.add(gdstk.Polygon(jog, layer=1)), "W: {check: width, layer: A, min: 2.0}")
    values = sorted(v for _, _, v in markers(r, "W"))
    assert values and values[0] == pytest.approx(2**0.5, abs=1e-6)
    # Every marker lies on the diagonal run or its two bends, never on the straight runs.
    for _, (x0, _y0, x1, _y1), _ in markers(r, "W"):
        assert 8.5 <= x0 and x1 <= 21.5


def test_width_of_a_gds_path(gds, deck):
    def build(lib, c):
        c.add(gdstk.FlexPath([(0, 0), (20, 0)], 1.5, layer=1, simple_path=True))

    r = run(gds, deck, build, "W: {check: width, layer: A, min: 2.0}")
    assert markers(r, "W") == [("A", (0.0, -0.75, 20.0, 0.75), 1.5)]


def test_width_acute_tip_is_flagged(gds, deck):
    tri = [(0, 0), (10, 0), (10, 1)]
    r = run(gds, deck, lambda lib, c: c.add(gdstk.Polygon(tri, layer=1)), "W: {check: width, layer: A, min: 2.0}")
    assert [v for _, _, v in markers(r, "W")] == [0.0, 0.0]


def test_width_merges_overlapping_shapes_first(gds, deck):
    # Two 1.5 um bars overlapping into one 2.5 um bar: no width error.
    def build(lib, c):
        rect(c, 0, 0, 10, 1.5)
        rect(c, 0, 1.0, 10, 2.5)

    r = run(gds, deck, build, "W: {check: width, layer: A, min: 2.0}")
    assert markers(r, "W") == []


# --- space -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gap, expected",
    [(1.5, [("A", (10.0, 0.0, 11.5, 5.0), 1.5)]), (2.0, []), (1.999, [("A", (10.0, 0.0, 11.999, 5.0), 1.999)])],
)
def test_space_between_two_shapes(gds, deck, gap, expected):
    def build(lib, c):
        rect(c, 0, 0, 10, 5)
        rect(c, 10 + gap, 0, 20, 5)

    r = run(gds, deck, build, "S: {check: space, layer: A, min: 2.0}")
    assert markers(r, "S") == expected


def test_space_notch_inside_one_shape(gds, deck):
    u = [(0, 0), (10, 0), (10, 10), (6, 10), (6, 2), (4.5, 2), (4.5, 10), (0, 10)]
    r = run(gds, deck, lambda lib, c: c.add(gdstk.Polygon(u, layer=1)), "S: {check: space, layer: A, min: 2.0}")
    assert markers(r, "S") == [("A", (4.5, 2.0, 6.0, 10.0), 1.5)]


def test_space_shapes_touching_along_an_edge_merge(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 10, 5)
        rect(c, 10, 0, 20, 5)

    r = run(gds, deck, build, "S: {check: space, layer: A, min: 2.0}")
    assert markers(r, "S") == []


def test_space_diagonal_corner_to_corner_is_euclidean(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 10, 10)
        rect(c, 11, 11, 20, 20)  # dx = dy = 1: distance sqrt(2)

    r = run(gds, deck, build, "S: {check: space, layer: A, min: 2.0}")
    found = markers(r, "S")
    assert len(found) == 2
    assert all(v == pytest.approx(2**0.5, abs=1e-6) for _, _, v in found)
    for _, (x0, y0, x1, y1), _ in found:
        assert 8.5 < x0 and x1 < 12.5 and 8.5 < y0 and y1 < 12.5
    # Diagonal distance 2.121 > 2: clean although both projections are closer than 2.
    r = run(
        gds,
        deck,
        lambda lib, c: (rect(c, 0, 0, 10, 10), rect(c, 11.5, 11.5, 20, 20)),
        "S: {check: space, layer: A, min: 2.0}",
    )
    assert markers(r, "S") == []


# --- enclosure -------------------------------------------------------------------------

ENC = "E: {check: enclosure, layer: A, by: B, min: 1.0}"


def test_enclosure_exactly_at_the_limit_passes(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 20, 20, layer=1)
        rect(c, -1, -1, 21, 21, layer=2)

    assert markers(run(gds, deck, build, ENC), "E") == []


def test_enclosure_short_on_one_side(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 20, 20, layer=1)
        rect(c, -0.8, -5, 25, 25, layer=2)

    # The pad edge's part within 1.0 of the via edge reaches sqrt(1 - 0.64) = 0.6 past its ends.
    assert markers(run(gds, deck, build, ENC), "E") == [("A", (-0.8, -0.6, 0.0, 20.6), 0.8)]


def test_enclosure_partly_landed_via_marks_the_uncovered_part(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 20, 20, layer=1)
        rect(c, -5, -5, 10, 25, layer=2)

    r = run(gds, deck, build, ENC)
    (rule,) = [x for x in r.rules if x.id == "E"]
    assert [(m.bbox, m.value, m.message) for m in rule.markers] == [((10.0, 0.0, 20.0, 20.0), None, "not covered by B")]
    assert set(rule.markers[0].polygon) == {(10.0, 0.0), (10.0, 20.0), (20.0, 20.0), (20.0, 0.0)}


def test_enclosure_unlanded_via_is_marked_whole(gds, deck):
    r = run(gds, deck, lambda lib, c: rect(c, 0, 0, 20, 20, layer=1), ENC)
    assert markers(r, "E") == [("A", (0.0, 0.0, 20.0, 20.0), None)]


# --- separation, overlap ---------------------------------------------------------------


def test_separation_between_layers(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 10, 10, layer=1)
        rect(c, 13, 0, 20, 10, layer=2)  # 3 um away
        rect(c, 0, 20, 10, 30, layer=1)
        rect(c, 15, 20, 20, 30, layer=2)  # 5 um away: fine

    r = run(gds, deck, build, "SEP: {check: separation, layer: A, other: B, min: 4}")
    assert markers(r, "SEP") == [("A", (10.0, 0.0, 13.0, 10.0), 3.0)]


def test_overlap_narrower_than_min(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 10, 10, layer=1)
        rect(c, 8, 0, 20, 10, layer=2)  # overlap 2 wide
        rect(c, 0, 20, 10, 30, layer=1)
        rect(c, 5, 20, 20, 30, layer=2)  # overlap 5 wide: fine

    r = run(gds, deck, build, "OV: {check: overlap, layer: A, other: B, min: 3}")
    assert markers(r, "OV") == [("A", (8.0, 0.0, 10.0, 10.0), 2.0)]


# --- inside, angle, area ---------------------------------------------------------------


def test_inside_with_clearance_marks_the_part_outside(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 1000, 1000, layer=2)
        rect(c, 20, 100, 80, 200, layer=1)  # 30 um of it within 50 of the left edge
        rect(c, 500, 500, 600, 600, layer=1)  # fine
        rect(c, 900, 950, 960, 960, layer=1)  # 10 um inside the top clearance and 10 um right

    r = run(gds, deck, build, "IN: {check: inside, layer: A, of: B, clearance: 50}")
    assert markers(r, "IN") == [("A", (20.0, 100.0, 50.0, 200.0), None), ("A", (900.0, 950.0, 960.0, 960.0), None)]


def test_angle_off_grid_direction(gds, deck):
    def build(lib, c):
        c.add(gdstk.Polygon([(0, 0), (10, 0), (10, 10)], layer=1))  # 45 degrees: fine
        c.add(gdstk.Polygon([(20, 0), (30, 0), (20, 10)], layer=1))  # 135 degrees: fine
        c.add(gdstk.Polygon([(40, 0), (50, 0), (50, 5)], layer=1))  # atan(0.5) = 26.565 degrees

    r = run(gds, deck, build, "ANG: {check: angle, layer: A, allowed: [0, 45, 90, 135]}")
    assert markers(r, "ANG") == [("A", (40.0, 0.0, 50.0, 5.0), 26.565051)]


def test_area_below_min(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 4, 4)  # 16 um2
        rect(c, 10, 0, 15, 5)  # 25 um2: exactly the limit
        rect(c, 20, 0, 30, 1)  # 10 um2

    r = run(gds, deck, build, "AR: {check: area, layer: A, min: 25}")
    assert markers(r, "AR") == [("A", (0.0, 0.0, 4.0, 4.0), 16.0), ("A", (20.0, 0.0, 30.0, 1.0), 10.0)]


# --- lists of layers and derived layers ------------------------------------------------


def test_a_list_of_layers_runs_on_each_separately(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 10, 1.5, layer=1)
        rect(c, 0, 1.5, 10, 3, layer=2)  # touches A, but each layer is checked alone

    r = run(gds, deck, build, "W: {check: width, layer: [A, B], min: 2.0}")
    assert markers(r, "W") == [("A", (0.0, 0.0, 10.0, 1.5), 1.5), ("B", (0.0, 1.5, 10.0, 3.0), 1.5)]


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("A | B", []),  # 3 um tall together
        ("A & B", [("AB", (0.0, 1.0, 10.0, 1.5), 0.5)]),  # the 0.5 um overlap
        ("A - B", [("AB", (0.0, 0.0, 10.0, 1.0), 1.0)]),
        ("A ^ B", [("AB", (0.0, 0.0, 10.0, 1.0), 1.0), ("AB", (0.0, 1.5, 10.0, 3.0), 1.5)]),
        ("grow(A, 0.25)", []),  # 2.0 tall: at the limit
        ("shrink(A | B, 0.6)", [("AB", (0.6, 0.6, 9.4, 2.4), 1.8)]),
    ],
)
def test_derived_layers(gds, deck, expr, expected):
    def build(lib, c):
        rect(c, 0, 0, 10, 1.5, layer=1)
        rect(c, 0, 1.0, 10, 3, layer=2)

    r = run(gds, deck, build, "W: {check: width, layer: AB, min: 2.0}", derived=f"AB: {expr}")
    assert markers(r, "W") == expected


def test_markers_at_the_same_place_with_and_without_a_value_sort():
    from pkgdrc.markers import Marker

    box = (0.0, 0.0, 10.0, 10.0)
    found = sorted([Marker(box, None, "A", "not covered by B"), Marker(box, 0.5, "A"), Marker(box, 0.0, "A")])
    assert [m.value for m in found] == [0.0, 0.5, None]


def test_hierarchy_fixture_runs_the_whole_deck():
    # Its via over a pad edge gives a polygon and edge pairs with one bounding box.
    from conftest import FIXTURES

    report = pkgdrc.check(FIXTURES / "hierarchy.gds")
    assert report.violations > 0


def test_coordinates_never_print_as_negative_zero():
    import json

    import numpy as np

    from pkgdrc.units import Grid

    assert json.dumps(Grid(0.001).to_um(np.array([-0.0, -0.0004, 0.0])).tolist()) == "[0.0, 0.0, 0.0]"
