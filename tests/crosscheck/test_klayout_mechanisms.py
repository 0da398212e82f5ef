"""KLayout behaviours that docs/semantics.md names as the cause of a recorded difference.

Each test pins the mechanism with klayout.db itself, so a KLayout upgrade that changes it
fails here and the difference is looked at again.
"""

from __future__ import annotations

import klayout.db as kdb
from corpus import box
from klayout_ref import _two_layer_options

TRACE = [[4600, 5500], [4900, 5500], [10100, 10700], [9800, 10700]]  # corner (10100, 10700) on BOX's side
BOX = box(10100, 6300, 12500, 11200)
POINT_PAIR = "(10100,10700;8262,8862)|(10100,10700;10100,10700)"


def _region(*shapes) -> kdb.Region:
    region = kdb.Region()
    for pts in shapes:
        region.insert(kdb.Polygon([kdb.Point(x, y) for x, y in pts]))
    return region.merged(False, 0)


def _pairs(region, limit=2600) -> set[str]:
    return {str(ep).replace(" props={}", "") for ep in region.space_check(limit, **_two_layer_options()).each()}


def _far_square(gap_x, gap_y):
    """A 100-dbu square beyond the top-right corner (12500, 11200) of the shape's bounding box."""
    x, y = 12500 + gap_x, 11200 + gap_y
    return box(x, y, x + 100, y + 100)


def test_kissing_corner_point_pair_exists_only_without_an_intruder():
    assert POINT_PAIR in _pairs(_region(TRACE, BOX))
    # An intruder: bounding boxes closer than the limit in x and in y (the square is
    # 2599 * sqrt(2) = 3676 dbu from the shape, out of reach of every edge).
    assert POINT_PAIR not in _pairs(_region(TRACE, BOX, _far_square(2599, 2599)))
    assert POINT_PAIR in _pairs(_region(TRACE, BOX, _far_square(2600, 2599)))
    assert POINT_PAIR in _pairs(_region(TRACE, BOX, _far_square(2599, 2600)))


def test_with_an_intruder_the_split_side_is_one_edge_again():
    # What KLayout then measures is the shape's edges merged (the box side through the
    # touching point as one edge), checked as edges.
    with_intruder = _pairs(_region(TRACE, BOX, _far_square(2599, 2599)))
    edges = kdb.Edges([e for e in _region(TRACE, BOX).edges().each()]).merged()
    assert "(10100,6300;10100,11200)" in {str(e).replace(" props={}", "") for e in edges.each()}
    as_edges = {
        str(ep).replace(" props={}", "").replace("/", "|")
        for ep in edges.space_check(2600, False, kdb.Metrics.Euclidian, 90, None, None).each()
    }
    assert with_intruder == as_edges == {"(10100,7023;10100,10700)|(10100,10700;7500,8100)"}
