"""The markers of a rule are a set (issue 15 item 23): KLayout writes an edge pair once.

Two squares whose corners are d apart diagonally, with a limit less than a third of a dbu
above d, meet in one point pair, found from both facing sides (top/bottom and
right/left); a via array spaced like sky130's VIA2 (0.2 um vias, 0.2 um apart, space rule
0.283 um) has such a pair at every diagonal neighbour. Both are compared with klayout.db.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crosscheck"))
from corpus import box
from klayout_ref import klayout_result, pkgdrc_result, write_gds


def _pairs(result: dict) -> Counter:
    """Edge pairs as a multiset, each pair's two edges in one order (dbu)."""
    return Counter(tuple(sorted(tuple(map(tuple, e)) for e in (e1, e2))) for e1, e2, _ in result["edge_pairs"])


def test_corner_to_corner_point_pair_is_one_marker(tmp_path):
    # Corners (10000, 10000) and (13000, 14001): 5000.8 dbu apart; limit 5001.
    case = {
        "name": "corner",
        "check": "space",
        "params": {"min": 5001},
        "layers": {"A": [box(0, 0, 10000, 10000), box(13000, 14001, 23000, 24000)]},
    }
    gds = write_gds(case, tmp_path)
    ours, theirs = pkgdrc_result(gds, case), klayout_result(gds, case)
    assert ours["edge_pairs"] == [[[[10000, 10000], [10000, 10000]], [[13000, 14001], [13000, 14001]], 5000.8]]
    assert _pairs(ours) == _pairs(theirs)


def test_via_array_at_sky130_via2_space_has_klayouts_count(tmp_path):
    n = 12
    vias = [box(400 * i, 400 * j, 400 * i + 200, 400 * j + 200) for i in range(n) for j in range(n)]
    case = {"name": "via2", "check": "space", "params": {"min": 283}, "layers": {"A": vias}}
    gds = write_gds(case, tmp_path)
    ours, theirs = pkgdrc_result(gds, case), klayout_result(gds, case)
    # One side pair per orthogonal neighbour (value 200), one point pair per diagonal one (282.843).
    assert len(ours["edge_pairs"]) == len(theirs["edge_pairs"]) == 2 * n * (n - 1) + 2 * (n - 1) ** 2
    assert _pairs(ours) == _pairs(theirs)
    assert Counter(round(v, 3) for *_, v in ours["edge_pairs"]) == {200.0: 2 * n * (n - 1), 282.843: 2 * (n - 1) ** 2}
