"""Shapes touching at one corner, for every package check (issue 15 item 1).

Merged polygons that touch at a corner are one *shape* (`Edges.shape`, KLayout's merge
keeps them as one polygon) but two *polygons* (`Edges.polygon`); per-polygon arrays (a
via's landing, a die's name, a net) are indexed with the polygon. Each case has the
exact markers: rule, layer, place (bounding box), value, message.
"""

from __future__ import annotations

from pathlib import Path

import gdstk
import pytest

import pkgdrc

LAYERS = (
    "{PKG: 0/0, DIE: 1/0, DIE_PAD: 2/0, DIE_METAL: 3/0, VIA1: 10/0, RDL1: 11/0, VIA2: 12/0, RDL2: 13/0, "
    "PO: 20/0, UBM: 21/0, PASSIVE: 50/0}"
)
CONNECT = "connect: ['DIE_PAD - VIA1 - RDL1', 'RDL1 - VIA2 - RDL2', 'RDL2 - PO - UBM']\n"


def check(
    tmp_path: Path, rects: dict[int, list[tuple]], rules: list[str], connect: str = "", mirror_y: bool = False
) -> list[tuple]:
    """Markers (rule, layer, bbox, value, message) of `rules` on rectangles {gds layer: [(x0, y0, x1, y1)]}."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = lib.new_cell("TOP")
    s = -1 if mirror_y else 1
    for layer, boxes in rects.items():
        cell.add(*[gdstk.rectangle((x0, s * y0), (x1, s * y1), layer=layer) for x0, y0, x1, y1 in boxes])
    lib.write_gds(str(tmp_path / "t.gds"))
    (tmp_path / "d.yaml").write_text(f"layers: {LAYERS}\n{connect}rules:\n" + "".join(f"  {r}\n" for r in rules))
    report = pkgdrc.check(tmp_path / "t.gds", tmp_path / "d.yaml")
    return [(r.id, m.layer, m.bbox, m.value, m.message) for r in report.rules for m in r.markers]


# Via A partly landed, via B wholly landed with enclosures 1 (bottom) and 0 (right), A's lower
# right corner on B's upper left corner; DIE_PAD 0..20 x 0..13, limit 3 um.
PAD, VIA_A, VIA_B = (0, 0, 20, 13), (4, 10, 10, 16), (10, 1, 20, 10)


@pytest.mark.parametrize("mirror_y", [False, True])
def test_via_landing_measures_the_landed_via_touching_a_partly_landed_one(tmp_path, mirror_y):
    rects = {2: [PAD], 10: [VIA_A, VIA_B], 11: [(-50, -50, 50, 50)]}
    found = check(
        tmp_path,
        rects,
        [
            "V: {check: via_landing, layer: VIA1, below: DIE_PAD, above: RDL1, below_enclosure: 3}",
            "E: {check: enclosure, layer: VIA1, by: DIE_PAD, min: 3}",
        ],
        mirror_y=mirror_y,
    )
    y = (lambda b: (b[0], -b[3], b[2], -b[1])) if mirror_y else (lambda b: b)
    # The landed via's two pairs, as `enclosure` reports them; the partly landed via once.
    assert found == sorted(
        [
            ("V", "VIA1", y((4.0, 13.0, 10.0, 16.0)), None, "partly landed: off DIE_PAD"),
            ("V", "VIA1", y((7.172, 0.0, 20.0, 1.0)), 1.0, "DIE_PAD enclosure"),
            ("V", "VIA1", y((20.0, 0.0, 20.0, 13.0)), 0.0, "DIE_PAD enclosure"),
            ("E", "VIA1", y((4.0, 13.0, 10.0, 16.0)), None, "not covered by DIE_PAD"),
            ("E", "VIA1", y((7.172, 0.0, 20.0, 1.0)), 1.0, ""),
            ("E", "VIA1", y((20.0, 0.0, 20.0, 13.0)), 0.0, ""),
        ],
        key=lambda m: (m[0] != "V", m[2]),
    )


def test_via_landing_capture_and_space_of_vias_touching_at_a_corner(tmp_path):
    # The same two vias under RDL1 (above) cut like the pad: capture measured via by via;
    # the vias' space is 0 at the touching corner (two pairs on the sides meeting there, as `space`).
    rects = {2: [(-50, -50, 50, 50)], 10: [VIA_A, VIA_B], 11: [PAD]}
    rule = "V: {check: via_landing, layer: VIA1, below: DIE_PAD, above: RDL1, above_enclosure: 3, space: 2}"
    found = check(tmp_path, rects, [rule], mirror_y=True)
    assert found == [
        ("V", "VIA1", (4.0, -16.0, 10.0, -13.0), None, "partly captured: off RDL1"),
        ("V", "VIA1", (7.172, -1.0, 20.0, 0.0), 1.0, "RDL1 capture enclosure"),
        ("V", "VIA1", (8.0, -10.0, 12.0, -10.0), 0.0, "via space"),
        ("V", "VIA1", (10.0, -12.0, 10.0, -8.0), 0.0, "via space"),
        ("V", "VIA1", (20.0, -13.0, 20.0, 0.0), 0.0, "RDL1 capture enclosure"),
    ]


def test_passivation_pad_enclosure_of_an_opening_touching_one_on_a_pad_edge(tmp_path):
    rects = {13: [PAD], 20: [VIA_A, VIA_B]}
    found = check(tmp_path, rects, ["P: {check: passivation, layer: PO, metal: RDL2, pad_enclosure: 3}"], mirror_y=True)
    assert found == [
        ("P", "PO", (4.0, -16.0, 10.0, -10.0), None, "exposes the edge of a pad"),
        ("P", "PO", (7.172, -1.0, 20.0, 0.0), 1.0, "RDL2 pad enclosure"),
        ("P", "PO", (20.0, -13.0, 20.0, 0.0), 0.0, "RDL2 pad enclosure"),
    ]


def test_passivation_ubm_enclosure_of_openings_touching_at_a_corner(tmp_path):
    rects = {13: [(-50, -50, 50, 50)], 20: [VIA_A, VIA_B], 21: [PAD]}
    found = check(tmp_path, rects, ["P: {check: passivation, layer: PO, ubm: UBM, ubm_enclosure: 3}"], mirror_y=True)
    assert found == [
        ("P", "PO", (0.0, -13.0, 20.0, 0.0), None, "UBM holds 2 openings"),
        ("P", "PO", (4.0, -16.0, 10.0, -13.0), None, "opening not covered by UBM"),
        ("P", "PO", (7.172, -1.0, 20.0, 0.0), 1.0, "UBM enclosure"),
        ("P", "PO", (20.0, -13.0, 20.0, 0.0), 0.0, "UBM enclosure"),
    ]


def test_trace_width_vs_die_per_net_with_traces_touching_at_corners(tmp_path):
    # Two nets, each: two on-die traces touching at a corner (2 um wide on the first net,
    # 8 um on the second), a pad, a via and two 6 um RDL1 traces touching at a corner.
    rects = {
        3: [(0, 0, 20, 2), (20, 2, 40, 4), (0, 100, 20, 108), (20, 108, 40, 116)],
        2: [(30, -5, 50, 10), (30, 95, 50, 120)],
        10: [(35, 0, 45, 3), (35, 100, 45, 105)],
        11: [(35, 0, 80, 6), (80, 6, 120, 12), (35, 100, 80, 106), (80, 106, 120, 112)],
    }
    found = check(
        tmp_path,
        rects,
        ["T: {check: trace_width_vs_die, layer: RDL1, die_metal: DIE_METAL}"],
        connect="connect: ['DIE_METAL - DIE_PAD', 'DIE_PAD - VIA1 - RDL1']\n",
    )
    narrow = "narrower than 1 x the {} um on-die trace of net DIE_METAL@({})"
    # The 6 um traces fail the 8 um net only; the touching corners are width 0 (as `width`).
    assert found == [
        ("T", "RDL1", (35.0, 100.0, 80.0, 106.0), 6.0, narrow.format(8, "10,104")),
        ("T", "RDL1", (72.0, 6.0, 88.0, 6.0), 0.0, narrow.format(2, "10,1")),
        ("T", "RDL1", (72.0, 106.0, 88.0, 106.0), 0.0, narrow.format(8, "10,104")),
        ("T", "RDL1", (80.0, 0.0, 80.0, 12.0), 0.0, narrow.format(2, "10,1")),
        ("T", "RDL1", (80.0, 100.0, 80.0, 112.0), 0.0, narrow.format(8, "10,104")),
        ("T", "RDL1", (80.0, 106.0, 120.0, 112.0), 6.0, narrow.format(8, "10,104")),
    ]


def test_fanout_names_two_dies_touching_at_a_corner_apart(tmp_path):
    rects = {0: [(0, 0, 1000, 1000)], 1: [(100, 100, 300, 300), (300, 300, 500, 500), (700, 700, 990, 990)]}
    rule = "F: {check: fanout, layer: RDL1, outline: PKG, die: DIE, die_spacing: 50, die_clearance: 20}"
    found = check(tmp_path, rects, [rule])
    spacing = "die spacing between DIE@(200,200) and DIE@(400,400)"
    assert found == [
        ("F", "RDL1", (250.0, 300.0, 350.0, 300.0), 0.0, spacing),
        ("F", "RDL1", (300.0, 250.0, 300.0, 350.0), 0.0, spacing),
        (
            "F",
            "RDL1",
            (700.0, 700.0, 990.0, 990.0),
            None,
            "die outside PKG less 20 um die clearance, die DIE@(845,845)",
        ),
    ]


def test_connectivity_marks_each_die_pad_of_a_corner_touching_pair(tmp_path):
    # Two pairs of die pads touching at a corner (one net each); the first reaches PO.
    rects = {
        2: [(0, 0, 10, 10), (10, 10, 20, 20), (100, 0, 110, 10), (110, 10, 120, 20)],
        10: [(2, 2, 8, 8)],
        11: [(0, 0, 50, 8)],
        12: [(40, 2, 46, 6)],
        13: [(38, 0, 60, 8)],
        20: [(50, 2, 58, 6)],
    }
    found = check(tmp_path, rects, ["C: {check: connectivity, layer: DIE_PAD, bond: [PO]}"], connect=CONNECT)
    assert found == [
        ("C", "DIE_PAD", (100.0, 0.0, 110.0, 10.0), None, "open: net DIE_PAD@(105,5) reaches no bond pad (PO)"),
        ("C", "DIE_PAD", (110.0, 10.0, 120.0, 20.0), None, "open: net DIE_PAD@(105,5) reaches no bond pad (PO)"),
    ]


def test_keepout_and_one_to_one_judge_each_polygon_of_a_corner_touching_pair(tmp_path):
    rects = {
        1: [(0, 0, 100, 100), (202, 2, 208, 8), (212, 12, 214, 14), (215, 15, 218, 18)],
        50: [(110, 0, 120, 10), (120, 10, 130, 20)],
        20: [(200, 0, 210, 10), (210, 10, 220, 20)],
    }
    found = check(
        tmp_path,
        rects,
        [
            "K: {check: keepout, layer: PASSIVE, other: DIE, min: 15}",
            "O: {check: one_to_one, layer: PO, other: DIE, reverse: false}",
        ],
    )
    assert found == [
        ("K", "PASSIVE", (110.0, 0.0, 120.0, 10.0), 10.0, "closer than 15 um to DIE"),
        ("O", "PO", (210.0, 10.0, 220.0, 20.0), 2.0, "holds 2 DIE, expected 1"),
    ]


def test_covers_and_pitch_judge_each_polygon_of_a_corner_touching_pair(tmp_path):
    rects = {
        0: [(0, 0, 100, 100)],
        1: [(10, 10, 20, 20), (20, 20, 30, 30)],
        50: [(200, 0, 210, 10), (210, 10, 220, 20), (240, 0, 250, 10)],
    }
    found = check(
        tmp_path,
        rects,
        [
            "C: {check: covers, layer: DIE, by: PKG, margin: 15}",
            "B: {check: pitch, layer: PASSIVE, pitch: 25, of: PKG}",
        ],
    )
    assert found == [
        ("C", "DIE", (10.0, 10.0, 20.0, 20.0), 10.0, "margin to PKG below 15 um"),
        ("B", "PASSIVE", (200.0, 0.0, 210.0, 10.0), None, "not inside PKG"),
        ("B", "PASSIVE", (205.0, 5.0, 215.0, 15.0), 14.142136, "centres closer than the 25 um pitch"),
        ("B", "PASSIVE", (210.0, 10.0, 220.0, 20.0), None, "not inside PKG"),
        ("B", "PASSIVE", (240.0, 0.0, 250.0, 10.0), None, "not inside PKG"),
    ]
