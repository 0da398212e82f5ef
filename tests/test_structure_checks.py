"""The structure check kinds (covers, one_to_one, pitch, keepout, stack) on small layouts
with the exact markers (layer, place, value, message); deck errors of `repeat:` and of
stack rules; and the passive-device exemption of the fowlp-organic deck."""

from __future__ import annotations

import math
from pathlib import Path

import gdstk
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

import pkgdrc
from pkgdrc.cli import main
from pkgdrc.decks import load_deck
from pkgdrc.errors import PkgdrcError

ROOT = Path(__file__).resolve().parents[1]


def markers(report, rule_id):
    """(layer, bbox, value, message) of a rule's markers, in report order."""
    (rule,) = [r for r in report.rules if r.id == rule_id]
    return [(m.layer, m.bbox, m.value, m.message) for m in rule.markers]


def rect(cell, x0, y0, x1, y1, layer=1):
    cell.add(gdstk.rectangle((x0, y0), (x1, y1), layer=layer))


def square(cell, cx, cy, w, h=None, layer=1):
    h = w if h is None else h
    rect(cell, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, layer)


# --- covers ---------------------------------------------------------------------------


def _covers_layout(lib, c):
    rect(c, 0, 0, 100, 100, 2)  # cover holding a die 20 um in and one 5 um in
    rect(c, 20, 20, 40, 40)
    rect(c, 5, 50, 15, 60)
    rect(c, 90, 70, 110, 80)  # half outside
    rect(c, 200, 0, 230, 30, 2)  # 5 um margin, 2.25 x the area
    rect(c, 205, 5, 225, 25)
    rect(c, 300, 0, 340, 40, 2)  # exactly 10 um margin, 4 x the area
    rect(c, 310, 10, 330, 30)
    rect(c, 500, 0, 520, 20)  # no cover at all


def test_covers_margin_not_covered_and_area_ratio(gds, deck):
    r = pkgdrc.check(
        gds(_covers_layout), deck=deck("C: {check: covers, layer: A, by: B, margin: 10, min_area_ratio: 3}")
    )
    assert markers(r, "C") == [
        ("A", (5.0, 50.0, 15.0, 60.0), 5.0, "margin to B below 10 um"),
        ("A", (90.0, 70.0, 110.0, 80.0), None, "not inside one B shape"),
        ("A", (200.0, 0.0, 230.0, 30.0), 2.25, "B area under 3 x the A it covers"),
        ("A", (205.0, 5.0, 225.0, 25.0), 5.0, "margin to B below 10 um"),
        ("A", (500.0, 0.0, 520.0, 20.0), None, "not inside one B shape"),
    ]


def test_covers_margin_is_euclidean_to_a_hole_of_the_cover(gds, deck):
    def build(lib, c):
        c.add(
            gdstk.Polygon(
                [(0, 0), (100, 0), (100, 100), (0, 100), (0, 0), (60, 60), (60, 80), (80, 80), (80, 60), (60, 60)],
                layer=2,
            )
        )  # keyhole = hole
        rect(c, 40, 40, 50, 50)  # corner to corner 10 * sqrt(2) from the hole

    r = pkgdrc.check(gds(build), deck=deck("C: {check: covers, layer: A, by: B, margin: 15}"))
    assert markers(r, "C") == [("A", (40.0, 40.0, 50.0, 50.0), round(10 * math.sqrt(2), 6), "margin to B below 15 um")]


# --- one_to_one -----------------------------------------------------------------------


def _one_to_one_layout(lib, c):
    rect(c, 0, 0, 100, 100)  # holds one: fine
    rect(c, 10, 10, 20, 20, 2)
    rect(c, 100, 40, 110, 50, 2)  # touches it from outside: held by none
    rect(c, 200, 0, 300, 100)  # holds two
    rect(c, 210, 10, 220, 20, 2)
    rect(c, 250, 10, 260, 20, 2)
    rect(c, 400, 0, 500, 100)  # holds none
    rect(c, 600, 0, 650, 100)  # one B straddles two A
    rect(c, 660, 0, 710, 100)
    rect(c, 640, 40, 670, 60, 2)


def test_one_to_one_both_ways(gds, deck):
    r = pkgdrc.check(gds(_one_to_one_layout), deck=deck("O: {check: one_to_one, layer: A, other: B}"))
    assert markers(r, "O") == [  # sorted by place
        ("A", (100.0, 40.0, 110.0, 50.0), None, "B in 0 A shapes, expected 1"),
        ("A", (200.0, 0.0, 300.0, 100.0), 2.0, "holds 2 B, expected 1"),
        ("A", (400.0, 0.0, 500.0, 100.0), 0.0, "holds 0 B, expected 1"),
        ("A", (640.0, 40.0, 670.0, 60.0), None, "B in 2 A shapes, expected 1"),
    ]


def test_one_to_one_count_and_no_reverse(gds, deck):
    r = pkgdrc.check(
        gds(_one_to_one_layout), deck=deck("O: {check: one_to_one, layer: A, other: B, count: 2, reverse: false}")
    )
    assert [m[1:] for m in markers(r, "O")] == [
        ((0.0, 0.0, 100.0, 100.0), 1.0, "holds 1 B, expected 2"),
        ((400.0, 0.0, 500.0, 100.0), 0.0, "holds 0 B, expected 2"),
        ((600.0, 0.0, 650.0, 100.0), 1.0, "holds 1 B, expected 2"),
        ((660.0, 0.0, 710.0, 100.0), 1.0, "holds 1 B, expected 2"),
    ]


# --- pitch ----------------------------------------------------------------------------


def _pitch_layout(lib, c):
    rect(c, 0, 0, 1000, 1000, 2)  # the outline
    for cx in (100, 200, 290):  # 100 apart (passes), then 90
        square(c, cx, 100, 50)
    square(c, 500, 500, 30)  # too small
    square(c, 700, 500, 70, 50)  # too large one way
    square(c, 100, 960, 50)  # 15 um from the outline's top edge
    square(c, 1000, 500, 50)  # straddles the outline


def test_pitch_size_and_edge_clearance(gds, deck):
    r = pkgdrc.check(
        gds(_pitch_layout),
        deck=deck("P: {check: pitch, layer: A, pitch: 100, min_size: 40, max_size: 60, of: B, clearance: 20}"),
    )
    assert markers(r, "P") == [
        ("A", (75.0, 935.0, 125.0, 985.0), 15.0, "closer than 20 um to the edge of B"),
        ("A", (200.0, 100.0, 290.0, 100.0), 90.0, "centres closer than the 100 um pitch"),
        ("A", (485.0, 485.0, 515.0, 515.0), 30.0, "smaller than 40 um"),
        ("A", (665.0, 475.0, 735.0, 525.0), 70.0, "larger than 60 um"),
        ("A", (975.0, 475.0, 1025.0, 525.0), None, "not inside B"),
    ]
    (pair,) = [m for m in r.rules[0].markers if m.edge is not None]
    assert pair.edge == ((200.0, 100.0), (290.0, 100.0))  # centre to centre


def test_pitch_is_measured_between_centroids_of_round_balls(gds, deck):
    def build(lib, c):
        for cx, cy in ((0, 0), (60, 80)):  # 100 apart exactly: passes; then 99.999
            c.add(gdstk.ellipse((cx, cy), 20, tolerance=1e-3, layer=1))
        c.add(gdstk.ellipse((300, 0), 20, tolerance=1e-3, layer=1))
        c.add(gdstk.ellipse((399.999, 0), 20, tolerance=1e-3, layer=1))

    r = pkgdrc.check(gds(build), deck=deck("P: {check: pitch, layer: A, pitch: 100}"))
    ((layer, bbox, value, _),) = markers(r, "P")
    assert bbox == pytest.approx((300.0, 0.0, 399.999, 0.0), abs=1e-3)
    assert value == pytest.approx(99.999, abs=1e-3)


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 2, 1, 0), (2, 0, 3, 1)])
def test_pitch_marker_runs_from_the_smaller_centre_whatever_the_drawing_order(gds, deck, order):
    """A column pair and a row pair, the shapes drawn in several orders: each marker starts
    at the centre with the smaller x, then the smaller y."""
    centres = [(100, 300), (100, 220), (400, 100), (330, 100)]

    def build(lib, c):
        for k in order:
            square(c, *centres[k], 40)

    r = pkgdrc.check(gds(build), deck=deck("P: {check: pitch, layer: A, pitch: 100}"))
    assert [m.edge for m in r.rules[0].markers] == [((100.0, 220.0), (100.0, 300.0)), ((330.0, 100.0), (400.0, 100.0))]


# --- keepout --------------------------------------------------------------------------


def test_keepout_distance_overlap_and_nearest_other(gds, deck):
    def build(lib, c):
        rect(c, 0, 0, 100, 100, 2)
        rect(c, 300, 0, 400, 100, 2)
        rect(c, 150, 0, 200, 50)  # exactly 50 away: passes
        rect(c, 120, 200, 140, 220)  # far from both
        rect(c, 40, 40, 60, 60)  # inside B: 0
        rect(c, 90, 150, 110, 170)  # above B, 50 um: passes
        rect(c, 130, 130, 150, 150)  # corner to corner: 30 * sqrt(2)
        rect(c, 230, 60, 260, 80)  # 130 from one B, 40 from the other

    r = pkgdrc.check(gds(build), deck=deck("K: {check: keepout, layer: A, other: B, min: 50}"))
    assert markers(r, "K") == [
        ("A", (40.0, 40.0, 60.0, 60.0), 0.0, "closer than 50 um to B"),
        ("A", (130.0, 130.0, 150.0, 150.0), round(30 * math.sqrt(2), 6), "closer than 50 um to B"),
        ("A", (230.0, 60.0, 260.0, 80.0), 40.0, "closer than 50 um to B"),
    ]


# --- stack ----------------------------------------------------------------------------

STACK_DECK = """name: s
units: um
layers:
  A: 1/0
  B: 2/0
stack:
  A: 100
  B: 150
  SUB: 600
rules:
  S1: {check: stack, relation: A > B}
  S2: {check: stack, relation: 100 <= B <= 120}
  S3: {check: stack, relation: 2 * A == B, tolerance: 50}
  S4: {check: stack, relation: 2 * A == B, tolerance: 10}
  S5: {check: stack, relation: SUB <= 500}
  S6: {check: stack, relation: A < B}
"""


def test_stack_relations_name_their_numbers(tmp_path, gds):
    deck = tmp_path / "s.yaml"
    deck.write_text(STACK_DECK)

    def build(lib, c):
        rect(c, 0, 0, 10, 10)
        rect(c, 50, 20, 60, 40, 2)
        rect(c, -30, -30, -20, -20, 2)

    r = pkgdrc.check(gds(build), deck=deck)
    got = {rule.id: markers(r, rule.id) for rule in r.rules}
    assert got == {
        "S1": [("stack", (-30.0, -30.0, 60.0, 40.0), None, "A 100 um > B 150 um does not hold")],
        "S2": [("stack", (-30.0, -30.0, 60.0, 40.0), None, "B 150 um <= 120 does not hold")],
        "S3": [],
        "S4": [
            ("stack", (-30.0, -30.0, 60.0, 40.0), None, "2 * A = 200 um == B 150 um does not hold (tolerance 10 um)")
        ],
        # SUB names no layer: the marker covers every layer's shapes
        "S5": [("stack", (-30.0, -30.0, 60.0, 40.0), None, "SUB 600 um <= 500 does not hold")],
        "S6": [],
    }
    assert {rule.id: rule.limit for rule in r.rules}["S4"] == "2 * A == B (tolerance 10 um)"


def test_stack_marker_is_on_the_named_layers_only(tmp_path, gds):
    deck = tmp_path / "s.yaml"
    deck.write_text(STACK_DECK.replace("relation: A > B", "relation: A > 200"))
    r = pkgdrc.check(gds(lambda lib, c: (rect(c, 0, 0, 10, 10), rect(c, 50, 20, 60, 40, 2))), deck=deck, rules=["S1"])
    assert markers(r, "S1") == [("stack", (0.0, 0.0, 10.0, 10.0), None, "A 100 um > 200 does not hold")]


def test_stack_failure_reads_well_in_the_text_report(tmp_path, gds):
    deck = tmp_path / "s.yaml"
    deck.write_text(STACK_DECK)
    path = gds(lambda lib, c: rect(c, 0, 0, 10, 10))
    out = CliRunner().invoke(main, ["check", str(path), "--deck", str(deck), "--rule", "S1"])
    assert out.exit_code == 1, out.output
    assert "FAIL  S1  stack: 1 violation, limit A > B\n" in out.output
    assert "at (5, 5) um bbox [0, 0, 10, 10] on stack A 100 um > B 150 um does not hold\n" in out.output


@pytest.mark.parametrize(
    "rule, line, message",
    [
        ("S: {check: stack, relation: A > C}", 9, "rule S: 'C' is not declared in stack:"),
        ("S: {check: stack, relation: A >> B}", 9, "rule S: cannot read term '' in 'A >> B'"),
        ("S: {check: stack, relation: A}", 9, "rule S: no comparison in 'A'"),
        ("S: {check: stack, relation: A > B, tolerance: -1}", 9, "rule S: tolerance:"),
    ],
)
def test_stack_rule_errors_name_file_and_line(tmp_path, gds, rule, line, message):
    deck = tmp_path / "s.yaml"
    deck.write_text("name: s\nunits: um\nlayers:\n  A: 1/0\nstack:\n  A: 1\n  B: 2\nrules:\n  " + rule + "\n")
    with pytest.raises(PkgdrcError) as e:
        load_deck(deck)
    assert str(e.value).startswith(f"{deck}:{line}: {message}"), str(e.value)
    out = CliRunner().invoke(main, ["check", str(gds(lambda lib, c: rect(c, 0, 0, 1, 1))), "--deck", str(deck)])
    assert out.exit_code == 2 and f"{deck}:{line}:" in out.output


# --- repeat: errors -------------------------------------------------------------------

REPEAT_BASE = """name: r
units: um
repeat:
  n: [1, 2]
  below: [A, RDL1]
layers:
  A: 1/0
  RDL$n: $n/0
rules:
  RDL$n.W: {check: width, layer: RDL$n, min: 2}
"""


@pytest.mark.parametrize(
    "edit, line, message",
    [
        (("below: [A, RDL1]", "below: [A]"), 3, "repeat lists must have equal lengths (n: 2, below: 1)"),
        (("layer: RDL$n, min", "layer: RDL$m, min"), 10, "unknown repeat variable $m (repeat declares $n, $below)"),
        (("  n: [1, 2]\n", "  N: [1, 2]\n"), 4, "repeat variable 'N' must be a lower-case name"),
        (("  n: [1, 2]\n", "  n: []\n"), 4, "repeat variable n: expected a non-empty list"),
        (("  A: 1/0\n", "  RDL1: 1/0\n"), 8, "layers entry 'RDL1' is defined twice (first on line 7)"),
        (
            ("repeat:\n  n: [1, 2]\n  below: [A, RDL1]\n", ""),
            5,
            "layers entry 'RDL$n' uses $n but the deck has no repeat",
        ),
    ],
)
def test_repeat_errors_name_file_and_line(tmp_path, edit, line, message):
    deck = tmp_path / "r.yaml"
    deck.write_text(REPEAT_BASE.replace(*edit))
    with pytest.raises(PkgdrcError) as e:
        load_deck(deck)
    assert str(e.value).startswith(f"{deck}:{line}: {message}"), str(e.value)


def test_repeat_expands_numbers_and_names(tmp_path):
    deck = tmp_path / "r.yaml"
    deck.write_text(REPEAT_BASE + "  VIA$n.EN: {check: enclosure, layer: RDL$n, by: $below, min: 1}\n")
    d = load_deck(deck)
    assert d.layers == {"A": (1, 0), "RDL1": (1, 0), "RDL2": (2, 0)}
    assert [(r.id, r.params.get("by"), r.line) for r in d.rules] == [
        ("RDL1.W", None, 10),
        ("RDL2.W", None, 10),
        ("VIA1.EN", "A", 11),
        ("VIA2.EN", "RDL1", 11),
    ]


# --- passive devices: exempt from the trace rules, held to their own ----------------------


def _passives(lib, c):
    """On RDL3 inside PASSIVE: a round 300-degree loop inductor 12 um wide with straight
    leads (legal as a passive, off-angle as a trace) and a comb capacitor with 8 um
    fingers (legal as a trace, too narrow as a passive)."""
    arc = [(1000 + 150 * math.cos(a), 1000 + 150 * math.sin(a)) for a in np.radians(np.linspace(30, 330, 41))]
    arc = [(1180, arc[0][1])] + arc + [(1180, arc[-1][1])]  # horizontal leads: square ends on the grid
    loop = shapely.buffer(shapely.LineString(arc), 6, cap_style="flat", join_style="mitre")
    c.add(gdstk.Polygon(np.round(shapely.get_coordinates(loop.exterior)[:-1], 3), layer=15))
    for x in (1300, 1340, 1380):
        rect(c, x, 900, x + 8, 1060, 15)  # fingers
    rect(c, 1300, 880, 1388, 900, 15)  # spine
    rect(c, 800, 800, 1450, 1200, 50)  # PASSIVE marker over both


def test_passive_devices_are_held_to_their_own_rules(tmp_path, gds):
    deck = tmp_path / "org.yaml"
    deck.write_text(
        (ROOT / "rules" / "fowlp-organic.yaml")
        .read_text()
        .replace(
            "rules:\n",
            "rules:\n  RAW.ANG: {check: angle, layer: RDL3, allowed: [0, 45, 90, 135]}\n"
            "  RAW.W: {check: width, layer: RDL3, min: 10}\n",
            1,
        )
    )
    path = gds(_passives)
    r = pkgdrc.check(path, deck=deck, rules=["RAW.ANG", "RAW.W", "RDL3.ANG", "RDL3.W", "RDL3.S", "PAS.W", "PAS.S"])
    loop = [p for p in gdstk.read_gds(str(path)).top_level()[0].polygons if len(p.points) > 8][0].points
    d = np.diff(np.vstack([loop, loop[:1]]), axis=0)
    angle = np.mod(np.degrees(np.arctan2(d[:, 1], d[:, 0])), 180)
    off = np.min(np.abs(angle[:, None] - [0, 45, 90, 135, 180]), axis=1) > 1e-6
    # the raw layer: every off-angle edge of the inductor, and each capacitor finger
    assert len(markers(r, "RAW.ANG")) == off.sum() > 70
    assert all(m[1][0] >= 840 and m[1][2] <= 1160 for m in markers(r, "RAW.ANG"))
    # an outer finger's outer edge runs on down the spine: its part within 10 um of the
    # other edge's end reaches 900 - sqrt(10**2 - 8**2) = 894
    fingers = [
        ("RDL3_PAS", (x, y, x + 8, 1060.0), 8.0, "") for x, y in ((1300.0, 894.0), (1340.0, 900.0), (1380.0, 894.0))
    ]
    assert markers(r, "RAW.W") == [("RDL3", b, v, m) for _, b, v, m in fingers]
    # the deck: trace rules see neither device, passive rules see the narrow fingers only
    assert markers(r, "RDL3.ANG") == markers(r, "RDL3.W") == markers(r, "RDL3.S") == []
    assert markers(r, "PAS.W") == fingers
    assert markers(r, "PAS.S") == []


def test_stack_marker_is_the_same_in_a_tiled_run(tmp_path, gds, monkeypatch):
    """A tile sees only part of a layer; stack rules therefore run unsplit (WHOLE_LAYOUT)."""
    from pkgdrc import tiles

    monkeypatch.setattr(tiles, "MIN_SHAPES_PER_JOB", 1)
    deck = tmp_path / "s.yaml"
    deck.write_text(STACK_DECK + "  W: {check: width, layer: A, min: 20}\n")
    path = gds(lambda lib, c: [rect(c, 100 * i, 0, 100 * i + 10, 10) for i in range(60)])
    one = pkgdrc.check(path, deck=deck, rules=["S1", "W", "S6"])
    three = pkgdrc.check(path, deck=deck, jobs=3, rules=["S1", "W", "S6"])
    assert [x.id for x in three.rules] == ["S1", "W", "S6"]  # the deck's order, not the run's
    assert markers(three, "S1") == [("stack", (0.0, 0.0, 5910.0, 10.0), None, "A 100 um > B 150 um does not hold")]
    assert markers(three, "W") == markers(one, "W") and len(markers(one, "W")) == 120
