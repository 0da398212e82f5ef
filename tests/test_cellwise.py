"""Cellwise checking (pkgdrc/cellwalk.py): local rules run down the cell hierarchy give the flat
run's markers, marker for marker (the JSON of every marker, in report order).

Each test runs `pkgdrc.check(path, deck, hierarchy="cellwise")` and `hierarchy="flat"` on a real file and
compares every rule's markers; a spy on `CellwiseRule` proves the cellwise path ran (and,
where placements are isolated, that a cell was checked on its own and not once per copy).

- random hierarchies (hypothesis): a cell with planted violations placed as arrays whose
  gaps sit at, just under and just over each rule's reach, overlapping or abutting,
  turned and mirrored, under a parent with shapes of its own;
- the placements at each side of the reach boundary, one by one;
- every bundled deck on its clean and failing fixtures, placed six times in a new top;
- the benchmark generator's panel with the fowlp-2l deck;
- a 30 x 30 bond-pad array with one pad made different by a shape in the parent.

Budget: PKGDRC_CELLWISE_EXAMPLES (default 60) random layouts, derandomized.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import gdstk
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import pkgdrc
from pkgdrc import cellwalk, plan
from pkgdrc.cellwalk import CellwiseRule
from pkgdrc.layout import read_layout

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
RULES = ROOT / "rules"
UM = 1e-3  # one dbu in um

EXAMPLES = int(os.environ.get("PKGDRC_CELLWISE_EXAMPLES", "60"))


# --- running both ways ----------------------------------------------------------------------


@contextmanager
def spying():
    """Record which rules ran cellwise and which (rule, cell, orientation[, cover]) were checked on their own."""
    seen = {"run": [], "cells": Counter()}
    run, check_cell = CellwiseRule.run, CellwiseRule._check_cell

    def run_spy(self):
        seen["run"].append(self.rule.id)
        return run(self)

    def cell_spy(self, name, m, *args):
        seen["cells"][(self.rule.id, name, m) + tuple(args)] += 1
        return check_cell(self, name, m, *args)

    CellwiseRule.run, CellwiseRule._check_cell = run_spy, cell_spy
    try:
        yield seen
    finally:
        CellwiseRule.run, CellwiseRule._check_cell = run, check_cell


def markers(report) -> dict[str, list[str]]:
    return {r.id: [json.dumps(m.to_dict(), sort_keys=True) for m in r.markers] for r in report.rules}


def both(path, deck, top=None, rules=None):
    """(cellwise markers, flat markers, spy record of the cellwise run)."""
    with spying() as seen:
        cells = markers(pkgdrc.check(path, deck=deck, top=top, rules=rules, hierarchy="cellwise", allow_empty=True))
    with spying() as unused:
        flat = markers(pkgdrc.check(path, deck=deck, top=top, rules=rules, hierarchy="flat", allow_empty=True))
    assert unused["run"] == [], 'hierarchy="flat" must not run cellwise'
    return cells, flat, seen


def local_rules(deck) -> list[str]:
    d = pkgdrc.decks.load_deck(deck) if not hasattr(deck, "rules") else deck
    return [r.id for r in d.rules if cellwalk.by_cell_possible(r)]  # local, or closed per isolated placement


def assert_same(cells: dict, flat: dict) -> None:
    """Every rule's markers equal, JSON for JSON, in order."""
    assert list(cells) == list(flat)
    for rule in flat:
        assert cells[rule] == flat[rule], f"{rule}: cellwise {len(cells[rule])} markers, flat {len(flat[rule])}"


# --- a small deck over three layers ---------------------------------------------------------

DECK = """\
name: cellwise
units: um
layers:
  A: 1/0
  B: 2/0
  C: 3/0
derived:
  AS: shrink(A, 0.2)
  AB: A - B
rules:
  A.W:    {check: width, layer: A, min: 1.0}
  A.S:    {check: space, layer: A, min: 1.5}
  B.S:    {check: space, layer: B, min: 0.5}
  AB.SEP: {check: separation, layer: A, other: B, min: 1.0}
  B.EN:   {check: enclosure, layer: B, by: A, min: 0.3}
  AC.OV:  {check: overlap, layer: A, other: C, min: 1.2}
  B.IN:   {check: inside, layer: B, of: C, clearance: 0.4}
  ANG:    {check: angle, layer: [A, B], allowed: [0, 90]}
  A.AR:   {check: area, layer: A, min: 6.0}
  AS.W:   {check: width, layer: AS, min: 0.8}
  AB.S:   {check: space, layer: AB, min: 1.2}
"""
# Each rule's true reach (its distance, dbu) and the isolation distance the engine uses for
# it (reach + twice the deck's sizing, 0.2 um, + 2 dbu): gaps are drawn at, under and over both.
REACHES = [0, 300, 400, 500, 1000, 1200, 1500] + [402, 702, 802, 902, 1202, 1402, 1602, 1902]
GAPS = sorted({g + d for g in REACHES for d in (-1, 0, 1, 2)} | {-3000, -700, 0, 1, 100, 2500, 5000} - {-1})


@pytest.fixture(scope="module")
def deck_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("deck") / "cellwise.yaml"
    path.write_text(DECK)
    return path


def box(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def octagon(cx, cy, r, cut):
    return [
        (cx - r + cut, cy - r),
        (cx + r - cut, cy - r),
        (cx + r, cy - r + cut),
        (cx + r, cy + r - cut),
        (cx + r - cut, cy + r),
        (cx - r + cut, cy + r),
        (cx - r, cy + r - cut),
        (cx - r, cy - r + cut),
    ]


def diagonal(x, y, w, run, s):
    return [(x, y), (x + w, y), (x + w + s * run, y + run), (x + s * run, y + run)]


# Planted in every cell (dbu): a 0.9 um wide A bar (A.W, A.AR), two A boxes 1.4 um apart
# (A.S), a B box sticking out of A (B.EN, AB.SEP), a B octagon (ANG, B.IN), a C box
# overlapping A by 1.0 um (AC.OV).
PLANTED = [
    (1, box(0, 0, 900, 6000)),
    (1, box(2300, 0, 4300, 3000)),
    (1, box(5700, 0, 7700, 3000)),
    (2, box(4000, 1000, 4600, 1600)),
    (2, octagon(3000, 5000, 600, 200)),
    (3, box(6700, 2000, 9000, 4000)),
]

grid = st.integers(0, 90).map(lambda v: v * 100)
extent = st.integers(3, 40).map(lambda v: v * 100)


@st.composite
def random_shape(draw):
    kind = draw(st.sampled_from(["box", "box", "octagon", "diagonal"]))
    lay = draw(st.sampled_from([1, 1, 2, 3]))
    x, y = draw(grid), draw(grid)
    if kind == "box":
        return lay, box(x, y, x + draw(extent), y + draw(extent))
    if kind == "octagon":
        r = draw(st.integers(3, 15)) * 100
        return lay, octagon(x, y, r, draw(st.integers(1, r // 100 - 1)) * 100)
    return lay, diagonal(x, y, draw(extent), draw(extent), draw(st.sampled_from([1, -1])))


orientation = st.tuples(st.integers(0, 3), st.booleans())


@st.composite
def layouts(draw):
    return {
        "cell": PLANTED + draw(st.lists(random_shape(), min_size=0, max_size=4)),
        "mid": draw(st.booleans()),
        "mid_second": (draw(orientation), draw(st.sampled_from(GAPS)), draw(st.integers(-20, 20)) * 100),
        "array": (
            draw(orientation),
            draw(st.integers(1, 3)),
            draw(st.integers(1, 3)),
            draw(st.sampled_from(GAPS)),
            draw(st.sampled_from(GAPS)),
        ),
        "extra": (draw(orientation), draw(st.sampled_from(GAPS)), draw(st.sampled_from(["right", "above"]))),
        "parent": draw(st.lists(random_shape(), max_size=3)),
        "parent_scale": draw(st.sampled_from([1, 3])),
        "cover": draw(
            st.one_of(
                st.none(),
                st.tuples(st.sampled_from([1, 2, 3]), st.sampled_from(GAPS), st.sampled_from(["array", "extra"])),
            )
        ),
    }


def turned(points, quarter, mirror):
    """GDSII order: mirror y, then turn by quarter * 90 degrees (exact on integers)."""
    out = []
    for x, y in points:
        if mirror:
            y = -y
        for _ in range(quarter):
            x, y = -y, x
        out.append((x, y))
    return out


def bbox(points):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def ref(cell, origin, o, **kw):
    (quarter, mirror) = o
    return gdstk.Reference(
        cell, (origin[0] * UM, origin[1] * UM), rotation=quarter * math.pi / 2, x_reflection=mirror, **kw
    )


def build(spec) -> gdstk.Library:
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = lib.new_cell("CELL")
    for lay, pts in spec["cell"]:
        cell.add(gdstk.Polygon([(x * UM, y * UM) for x, y in pts], layer=lay))
    corners = [p for _, pts in spec["cell"] for p in pts]
    unit, unit_pts = cell, corners
    if spec["mid"]:
        mid = lib.new_cell("MID")
        mid.add(ref(cell, (0, 0), (0, False)))
        o, gap, dy = spec["mid_second"]
        bx0, by0, bx1, by1 = bbox(corners)
        tx0, ty0, _, _ = bbox(turned(corners, *o))
        at = (bx1 + gap - tx0, by0 + dy - ty0)
        mid.add(ref(cell, at, o))
        unit, unit_pts = mid, corners + [(x + at[0], y + at[1]) for x, y in turned(corners, *o)]
    top = lib.new_cell("TOP")
    o, cols, rows, gx, gy = spec["array"]
    ux0, uy0, ux1, uy1 = bbox(turned(unit_pts, *o))
    sx, sy = max(100, ux1 - ux0 + gx), max(100, uy1 - uy0 + gy)
    top.add(ref(unit, (-ux0, -uy0), o, columns=cols, rows=rows, spacing=(sx * UM, sy * UM)))
    ax1, ay1 = (cols - 1) * sx + ux1 - ux0, (rows - 1) * sy + uy1 - uy0  # the array's box is (0, 0, ax1, ay1)
    o2, gap, side = spec["extra"]
    ex0, ey0, _, _ = bbox(turned(unit_pts, *o2))
    at = (ax1 + gap - ex0, -ey0) if side == "right" else (-ex0, ay1 + gap - ey0)
    top.add(ref(unit, at, o2))
    if spec.get("cover"):  # a parent shape around the array or the extra copy, `margin` beyond it
        lay, margin, what = spec["cover"]
        ex0, ey0, ex1, ey1 = bbox([(x + at[0], y + at[1]) for x, y in turned(unit_pts, *o2)])
        x0, y0, x1, y1 = (0, 0, ax1, ay1) if what == "array" else (ex0, ey0, ex1, ey1)
        top.add(
            gdstk.rectangle(
                ((x0 - margin) * UM, (y0 - margin) * UM), ((x1 + margin) * UM, (y1 + margin) * UM), layer=lay
            )
        )
    k = spec["parent_scale"]
    for lay, pts in spec["parent"]:
        top.add(gdstk.Polygon([(x * k * UM, y * k * UM) for x, y in pts], layer=lay))
    return lib


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(spec=layouts())
def test_random_hierarchies_cellwise_equals_flat(spec, deck_path, tmp_path):
    path = tmp_path / "t.gds"
    build(spec).write_gds(str(path))
    assert read_layout(path, {"A": (1, 0)}).tree.repeated()
    cells, flat, seen = both(path, deck_path)
    assert seen["run"] == local_rules(deck_path)  # every rule of this deck ran cellwise
    assert_same(cells, flat)
    assert sum(map(len, flat.values())) > 0  # the planted violations are found
    checked = {key[1] for key in seen["cells"]} - {"TOP"}
    event(f"checked on their own: {', '.join(sorted(checked)) or 'none'}")
    event(f"covered: {any(len(key) > 3 and key[3] for key in seen['cells'])}")


# --- which edge of a pair comes first ------------------------------------------------------


def _two_mids(
    where: Path, deck_text: str, box: float, layer: int, turned_x: float, mid_x: float, cover: tuple | None = None
) -> tuple[Path, Path]:
    """CELL (one `box` um square on `layer`) in MID unturned and again turned 90 degrees at
    x = `turned_x`; MID placed at x 0 and `mid_x`; optionally a `cover` rectangle on layer 2."""
    deck = where / "two_mids.yaml"
    deck.write_text(deck_text)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = lib.new_cell("CELL")
    cell.add(gdstk.rectangle((0, 0), (box, box), layer=layer))
    mid = lib.new_cell("MID")
    mid.add(gdstk.Reference(cell, (0, 0)))
    mid.add(gdstk.Reference(cell, (turned_x, 0), rotation=math.pi / 2))
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(mid, (0, 0)), gdstk.Reference(mid, (mid_x, 0)))
    if cover is not None:
        top.add(gdstk.rectangle(*cover, layer=2))
    path = where / "two_mids.gds"
    lib.write_gds(str(path))
    return path, deck


def _edge_order_case(where: Path) -> tuple[Path, Path]:
    """A 1 um B box, turned copy at x 2..3, MIDs at x 0 and 3.3: MID 1's turned box and MID 2's
    unturned one are 0.3 um apart (B.S 0.5 um)."""
    return _two_mids(
        where,
        "name: t\nunits: um\nlayers:\n  B: 2/0\nrules:\n  B.S: {check: space, layer: B, min: 0.5}\n",
        1,
        2,
        3,
        3.3,
    )


def _hole_order_case(where: Path) -> tuple[Path, Path]:
    """A 2 um C box, turned copy at x 4..6, MIDs at x 0 and 10 under one B box: the B.IN marker
    is the B box with four holes (C less 0.4 um)."""
    return _two_mids(
        where,
        "name: t\nunits: um\nlayers:\n  B: 2/0\n  C: 3/0\n"
        "rules:\n  B.IN: {check: inside, layer: B, of: C, clearance: 0.4}\n",
        2,
        3,
        6,
        10,
        cover=((-1, -1), (17, 3)),
    )


def test_edge_pair_order_follows_the_flattening(tmp_path):
    """Found here: the flat run listed a space pair's edges in the order of the flattened
    shapes, cellwise placement by placement; a one-layer pair now has its smaller edge first."""
    path, deck = _edge_order_case(tmp_path)
    cells, flat, seen = both(path, deck)
    assert seen["run"] == ["B.S"]
    assert [json.loads(m)["value"] for m in flat["B.S"]] == [0.3]
    assert_same(cells, flat)


def test_hole_order_follows_the_flattening(tmp_path):
    """Found here: an inside marker's holes came in the order of the shapes they were cut by;
    marker polygons are now in GEOS' normal form (holes sorted, rings from one vertex)."""
    path, deck = _hole_order_case(tmp_path)
    cells, flat, seen = both(path, deck)
    assert seen["run"] == ["B.IN"]
    (marker,) = [json.loads(m) for m in flat["B.IN"]]
    assert marker["bbox"] == [-1.0, -1.0, 17.0, 3.0] and len(marker["holes"]) == 4
    assert_same(cells, flat)


# --- the reach boundary, one placement at a time --------------------------------------------

# PLANTED with the C box moved inside A's x range: every layer's content spans x 0..7700.
BOUNDARY = PLANTED[:-1] + [(3, box(6700, 2000, 7700, 4000))]


@pytest.mark.parametrize("gap", [1499, 1500, 1501, 1899, 1900, 1901, 1902, 1903, 5000])
def test_isolated_only_beyond_the_reach(gap, deck_path, tmp_path):
    """Two copies of CELL side by side, `gap` dbu apart, and a far copy turned 180 degrees and
    mirrored. A.S (1.5 um) checks CELL on its own only when the gap exceeds its isolation
    distance (1.5 um + 2 x 0.2 um sizing + 2 dbu = 1902 dbu); the markers never change."""
    spec = {
        "cell": BOUNDARY,
        "mid": False,
        "mid_second": None,
        "parent": [],
        "parent_scale": 1,
        "array": ((0, False), 2, 1, gap, 0),
        "extra": ((2, True), 50_000, "above"),
    }
    path = tmp_path / "t.gds"
    build(spec).write_gds(str(path))
    cells, flat, seen = both(path, deck_path)
    assert_same(cells, flat)
    own = {(rule, m) for (rule, name, m, *_) in seen["cells"] if name == "CELL"}
    if gap <= 1900:
        assert ("A.S", (1, 0, 0, 1)) not in own
    if gap >= 1903:
        assert ("A.S", (1, 0, 0, 1)) in own
    assert ("A.S", (-1, 0, 0, 1)) in own  # the far copy (turned 180, mirrored) is isolated at any gap
    assert ("ANG", (1, 0, 0, 1)) in own  # angle's isolation distance is 402 dbu
    # two planted 1.4 um A.S pairs in each of the three copies, and one between the two
    # copies when they are closer than 1.5 um
    values = [json.loads(m)["value"] for m in flat["A.S"]]
    assert sorted(values) == sorted([1.4] * 6 + ([gap / 1000] if gap < 1500 else []))
    # per copy: the 0.9 um bar, a 1.0 x 1.0 um A/C overlap (two pairs), four 45-degree B edges
    assert len(flat["A.W"]) == 3 and len(flat["AC.OV"]) == 6 and len(flat["ANG"]) == 12


@pytest.mark.parametrize("spacing, value", [(6.7, 0.7), (6.999, 0.999), (7.0, None), (7.003, None)])
def test_grown_derived_layer_across_isolated_placements(tmp_path, spacing, value):
    """Found by these tests (fixed in dcda33f): the isolation distance counted a derived grow() once,
    but two shapes grown by 0.5 um come 1.0 um closer: 5x5 um A boxes 1.7 um apart were isolated
    for AG.S and its 0.7 um marker was lost."""
    deck = tmp_path / "grow.yaml"
    deck.write_text(
        "name: t\nunits: um\nlayers:\n  A: 1/0\nderived:\n  AG: grow(A, 0.5)\n"
        "rules:\n  AG.S: {check: space, layer: AG, min: 1.0}\n"
    )
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = lib.new_cell("CELL")
    cell.add(gdstk.rectangle((0, 0), (5, 5), layer=1))
    lib.new_cell("TOP").add(gdstk.Reference(cell, (0, 0), columns=2, rows=1, spacing=(spacing, 0)))
    path = tmp_path / "grow.gds"
    lib.write_gds(str(path))
    cells, flat, seen = both(path, deck)
    assert seen["run"] == ["AG.S"]
    assert [json.loads(m)["value"] for m in flat["AG.S"]] == ([value] if value else [])
    assert cells == flat
    # 2.0 um + 2 dbu apart the copies are isolated: CELL is checked on its own
    assert any(name == "CELL" for (_, name, *_) in seen["cells"]) == (spacing > 7.002)


# --- every bundled deck on its fixtures, placed seven times ---------------------------------

STRUCTURES = ["fowlp-organic", "fowlp-metal", "fc-heatsink", "stiffener", "mcm-stacked"]
DECK_FIXTURES = (
    [(d, f"{d}.gds") for d in STRUCTURES]
    + [(d, f"{d}_fail_all.gds") for d in STRUCTURES]
    + [("fowlp-2l", "hierarchy.gds"), ("fowlp-2l", "pkg_clean.gds")]
)
GAP_UM = 3000.0  # between copies: beyond every local rule's reach in the bundled decks


def wrap(src: Path, dst: Path) -> tuple[Path, str, float]:
    """A new top WRAP placing the fixture's top cell: a 2 x 2 array, a copy turned 90 degrees, a
    mirrored copy (all GAP_UM apart), and two copies overlapping each other. Returns (path, top, step)."""
    lib = gdstk.read_gds(str(src))
    (top,) = lib.top_level()
    (x0, y0), (x1, y1) = top.bounding_box()
    w, h = x1 - x0, y1 - y0
    step = max(w, h) + GAP_UM
    cell = lib.new_cell("WRAP")
    cell.add(gdstk.Reference(top, (0, 0), columns=2, rows=2, spacing=(step, step)))
    cell.add(gdstk.Reference(top, (3 * step, 0), rotation=math.pi / 2))
    cell.add(gdstk.Reference(top, (0, 3 * step), x_reflection=True))
    cell.add(gdstk.Reference(top, (3 * step, 3 * step)))
    cell.add(gdstk.Reference(top, (3 * step + round(w / 3), 3 * step + round(h / 5))))
    lib.write_gds(str(dst))
    return dst, top.name, step


@pytest.mark.parametrize("deck, fixture", DECK_FIXTURES, ids=[f for _, f in DECK_FIXTURES])
def test_bundled_decks_on_wrapped_fixtures(deck, fixture, tmp_path):
    path, inner, _ = wrap(FIXTURES / fixture, tmp_path / fixture)
    # pkg_clean is large: its non-local rules (flat either way) are left out to keep the run short
    rules = local_rules(RULES / f"{deck}.yaml") if fixture == "pkg_clean.gds" else None
    with spying() as seen:
        cells = markers(pkgdrc.check(path, deck=deck, rules=rules, hierarchy="cellwise"))
    flat_report = pkgdrc.check(path, deck=deck, rules=rules, hierarchy="flat")
    flat = markers(flat_report)
    assert_same(cells, flat)
    local = [r for r in local_rules(RULES / f"{deck}.yaml") if rules is None or r in rules]
    assert seen["run"] == local
    # the fixture's top is checked on its own, in the three orientations of its isolated copies
    own = {m for (_, name, m, *_) in seen["cells"] if name == inner}
    assert {(1, 0, 0, 1), (0, -1, 1, 0), (1, 0, 0, -1)} <= own
    # the six copies apart from the overlapping pair each give the fixture's own markers
    alone = {
        r.id: len(r.markers) for r in pkgdrc.check(FIXTURES / fixture, deck=deck, rules=rules, hierarchy="flat").rules
    }
    for rule in local:
        assert len(flat[rule]) >= 6 * alone[rule], rule
    if fixture.endswith("_fail_all.gds"):
        assert all(alone[r] for r in local if r in alone), "every local rule fails in the fixture"


def _two_dies(cell, top: float):
    """Two dies 1.1 mm apart in a package outline reaching `top` um, a pad and VIA1 on each, one
    RDL1 trace over both pads (fowlp-2l's layers)."""
    cell.add(gdstk.rectangle((-1000, -1000), (3000, top), layer=0))  # PKG
    for x in (0, 1500):
        cell.add(gdstk.rectangle((x, -200), (x + 400, 200), layer=1))  # DIE
        cell.add(gdstk.rectangle((x + 300, -20), (x + 340, 20), layer=2))  # DIE_PAD
        cell.add(gdstk.rectangle((x + 310, -10), (x + 330, 10), layer=10))  # VIA1
    cell.add(gdstk.rectangle((305, -15), (1835, 15), layer=11))  # one RDL1 trace over both pads
    return cell


def test_fanout_with_a_trace_on_two_dies_does_not_crash(tmp_path):
    """Found by wrapping demo_fowlp.gds (its overlapping copies put one net on two dies): FO.4's
    max_reach called shapely.intersection_all(..., grid_size=1.0), which shapely 2.2 does not take
    (a TypeError for any net with pads on two dies)."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    _two_dies(lib.new_cell("TOP"), 1000)
    path = tmp_path / "two_dies.gds"
    lib.write_gds(str(path))
    report = pkgdrc.check(path, deck="fowlp-2l", rules=["FO.4"])
    assert [len(r.markers) for r in report.rules] == [0]  # the trace stays within 3 mm of both dies


@pytest.mark.parametrize("hierarchy", ["flat", "cellwise"])
def test_fanout_names_the_same_die_of_two_as_near_in_every_engine(tmp_path, hierarchy):
    """A trace on the pads of two dies, touching both, with a spur beyond max_reach of either:
    the marker names the die whose bounds come first (the left one in the cell), wherever the
    copy lies and however it is turned. Cell by cell and flat once named different dies when
    the dies were found in another order (found by test_check_kinds' property test)."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    pkg = _two_dies(lib.new_cell("PKG"), 5000)
    pkg.add(gdstk.rectangle((900, 0), (960, 4000), layer=11))  # and a spur 3.8 mm up
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(pkg, (0, 0)))
    top.add(gdstk.Reference(pkg, (20000, 20000), rotation=math.pi))  # its dies swap sides
    path = tmp_path / "two_dies.gds"
    lib.write_gds(str(path))
    report = pkgdrc.check(path, deck="fowlp-2l", rules=["FO.4"], hierarchy=hierarchy)
    found = sorted((m.message, m.value) for m in report.rules[0].markers)
    # each copy's spur beyond 3 mm of both dies: 3200..4000 um from the trace. Its farthest
    # vertex is 3800 um from the chosen die's side and 560 um beside the left die (the first
    # copy's choice), 600 um beside the right one (the turned copy's choice: now the left one)
    near, far = round(math.hypot(560, 3800), 6), round(math.hypot(600, 3800), 6)
    assert found == [
        (f"RDL1 reaches {near:g} um from die DIE@(200,0), over max_reach 3000", near),
        (f"RDL1 reaches {far:g} um from die DIE@(18300,20000), over max_reach 3000", far),
    ]


# --- the benchmark generator's panel --------------------------------------------------------


def test_benchmark_panel(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    lib = generate(10_000, seed=1)
    path = tmp_path / "panel.gds"
    lib.write_gds(str(path))
    panel = next(c for c in lib.cells if c.name == "PANEL")
    # variants PKG1, PKG3 carry the planted defects, in each of their four fan-out quadrants
    defective = sum(max(r.repetition.size, 1) for r in panel.references if r.cell.name in ("PKG1", "PKG3"))
    total = sum(max(r.repetition.size, 1) for r in panel.references)
    assert defective >= 1 and total > defective
    rules = local_rules(RULES / "fowlp-2l.yaml")  # the others run flat either way
    cells, flat, seen = both(path, "fowlp-2l", rules=rules)
    assert seen["run"] == rules
    assert_same(cells, flat)
    q = 4 * defective
    values = {r: [json.loads(m)["value"] for m in flat[r]] for r in flat}
    assert values["RDL1.W"] == [1.6] * q  # the 1.6 um stub next to trace k
    assert values["RDL1.S"] == [0.7] * q  # ... 0.7 um from the trace
    assert values["RDL2.W"] == [1.6] * q  # the 1.6 um RDL2 stub
    assert len(values["VIA2.EN.BOT"]) == len(values["VIA2.EN.TOP"]) == q  # the VIA2 on nothing
    assert sorted(values["ANG.1"]) == [32.005383] * (q // 2) + [122.005383] * (q // 2)  # turned quadrants
    assert values["FO.1"] == [None] * defective  # the UBM in the saw-street keep-out
    # the bump array is one cell: checked once per rule and orientation, not per bump
    assert max(n for (_, name, *_), n in seen["cells"].items() if name == "BUMP") == 1


# --- a bond-pad array with one pad made different -------------------------------------------


def _octagon_um(cx, cy, size, layer):
    r = size / 2
    c = r * math.tan(math.pi / 8)
    pts = [(c, r), (r, c), (r, -c), (c, -r), (-c, -r), (-r, -c), (-r, c), (-c, r)]
    return gdstk.Polygon([(cx + x, cy + y) for x, y in pts], layer=layer)


def test_bond_pad_array_checks_the_pad_once(tmp_path):
    """BUMP (60 um RDL2 pad, 40 um PO opening, 50 um UBM, octagons) placed 30 x 30 at 150 um in a
    PKG outline; in the top, a second PO opening 8 um right of pad (17, 12) widens that opening:
    PO 2 um from the pad edge (PO.1, 5 um) and past the UBM (PO.4)."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    bump = lib.new_cell("BUMP")
    for size, layer in ((60.0, 13), (40.0, 20), (50.0, 21)):
        bump.add(_octagon_um(0, 0, size, layer))
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((-150, -150), (30 * 150, 30 * 150), layer=0))
    top.add(gdstk.Reference(bump, (0, 0), columns=30, rows=30, spacing=(150, 150)))
    top.add(_octagon_um(17 * 150 + 8, 12 * 150, 40.0, 20))
    path = tmp_path / "bumps.gds"
    lib.write_gds(str(path))
    assert read_layout(path, {"RDL2": (13, 0)}).tree.copies()["BUMP"] == 900
    cells, flat, seen = both(path, "fowlp-2l")
    assert_same(cells, flat)
    bump_checks = {rule: n for (rule, name, *_), n in seen["cells"].items() if name == "BUMP"}
    # every local rule on BUMP's layers (RDL2, PO, UBM; FO.1 with PKG as its `of`) checks BUMP once;
    # the net rules (closed per isolated placement) check each bump where it lies, once each
    assert bump_checks == {
        r: 1
        for r in ["RDL2.W", "RDL2.S", "VIA2.EN.TOP", "FO.1", "PO.1", "PO.2", "PO.3", "ANG.1", "VIA2.L", "PO.4"]
        + ["TW.1", "CONN.1"]
    }
    in_place = Counter(rule for (rule, name, *_) in seen["cells"] if name == "BUMP" and rule in ("TW.1", "CONN.1"))
    assert in_place == {"TW.1": 899, "CONN.1": 899}  # the odd pad is checked flat with the extra opening
    local = local_rules(RULES / "fowlp-2l.yaml")
    failed = {r: [json.loads(m) for m in ms] for r, ms in flat.items() if ms and r in local}
    assert set(failed) == {"PO.1", "PO.4", "DEN.RDL1"}
    # no RDL1 at all: every density window of the outline is empty (the PKG outline over the
    # pads makes DEN.* check its pads flat with it: PKG is not a layer that covers for density)
    assert {m["value"] for m in failed["DEN.RDL1"]} == {0.0}
    x, y = 17 * 150, 12 * 150

    def on_odd_pad(m):
        x0, y0, x1, y1 = m["bbox"]
        return x - 30 <= x0 <= x1 <= x + 30 and y - 30 <= y0 <= y1 <= y + 30

    assert len(failed["PO.1"]) == 9 and all(map(on_odd_pad, failed["PO.1"]))
    assert sorted(m["value"] for m in failed["PO.1"]) == [2.0] * 3 + [4.34305] * 4 + [4.599583] * 2
    # PO.4: the odd opening sticks out of its UBM; every other pad's UBM holds its opening 5 um
    # off on the 45-degree sides less the octagons' rounding to the grid (4.999952 um), 8 pairs a pad
    # (the 4 pairs of parallel 45-degree sides are gated by their distance rounded to whole dbu,
    # 5000, and pass, as in KLayout: docs/semantics.md)
    odd = [m for m in failed["PO.4"] if on_odd_pad(m)]
    assert [(m["value"], m["message"]) for m in odd] == [(None, "opening not covered by UBM")]
    rest = [m for m in failed["PO.4"] if not on_odd_pad(m)]
    assert len(rest) == 899 * 8 and {m["value"] for m in rest} == {4.999952}


def test_polygon_ring_start_follows_the_flattening(deck_path, tmp_path):
    """Found by a 1,500-example run: the same "not covered" ring started at another vertex."""
    spec = {
        "cell": PLANTED + [(1, octagon(0, 8500, 1500, 100))],
        "mid": True,
        "mid_second": ((3, False), -3000, -1000),
        "array": ((1, False), 2, 1, -3000, -3000),
        "extra": ((0, False), -3000, "right"),
        "parent": [],
        "parent_scale": 1,
        "cover": None,
    }
    path = tmp_path / "t.gds"
    build(spec).write_gds(str(path))
    cells, flat, _ = both(path, deck_path)
    assert len(flat["B.EN"]) == 11
    assert_same(cells, flat)


# --- when a run goes cell by cell by itself --------------------------------------------------


def test_cell_by_cell_only_when_the_hierarchy_halves_the_shapes(tmp_path, monkeypatch):
    """By default (`hierarchy="auto"`) local rules go cell by cell when the flattened top has at least
    twice the shapes the cells draw; a mostly flat layout with one small array stays flat (and
    so keeps --jobs tiles for its bulk). Here the halving alone decides: a rule on fewer than
    `plan.SMALL_RULE` shapes runs flat (tests/test_plan.py), so that floor is 0."""
    monkeypatch.setattr(plan, "SMALL_RULE", 0)

    def layout(n_flat: int) -> Path:
        lib = gdstk.Library(unit=1e-6, precision=1e-9)
        pad = lib.new_cell("PAD")
        pad.add(gdstk.rectangle((0, 0), (5, 5), layer=1))
        top = lib.new_cell("TOP")
        top.add(gdstk.Reference(pad, (0, 0), columns=10, rows=1, spacing=(10, 10)))  # 10 placed
        top.add(*(gdstk.rectangle((10 * k, 100), (10 * k + 5, 105), layer=1) for k in range(n_flat)))
        path = tmp_path / f"mix{n_flat}.gds"
        lib.write_gds(str(path))
        return path

    deck = tmp_path / "w.yaml"
    deck.write_text("name: w\nunits: um\nlayers:\n  A: 1/0\nrules:\n  A.W: {check: width, layer: A, min: 6}\n")
    for n_flat, by_cell in ((5, True), (9, False), (40, False)):  # 15/6, 19/10, 50/41 flat/drawn shapes
        path = layout(n_flat)
        with spying() as seen:
            report = pkgdrc.check(path, deck=deck)
        assert (seen["run"] == ["A.W"]) is by_cell, n_flat
        assert len(report.rules[0].markers) == 2 * (10 + n_flat)  # every 5 um box, across and along
        with spying() as forced:
            pkgdrc.check(path, deck=deck, hierarchy="cellwise")
        assert forced["run"] == ["A.W"]


# --- merging a layer cell by cell (for the rules that run flat) -----------------------------


@settings(
    max_examples=max(20, EXAMPLES // 2),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(spec=layouts())
def test_merged_by_cell_equals_the_flat_merge(spec, tmp_path):
    import shapely

    from pkgdrc.cellmerge import merged_by_cell
    from pkgdrc.geometry.polygons import merge

    path = tmp_path / "t.gds"
    build(spec).write_gds(str(path))
    layout = read_layout(path, {"A": (1, 0), "B": (2, 0), "C": (3, 0)})
    for layer in ("A", "B", "C"):
        by_cell = merged_by_cell(layout.tree, layer)
        flat = merge(layout.polygons[layer])
        assert len(by_cell) == len(flat), layer
        assert sorted(shapely.to_wkt(shapely.normalize(by_cell))) == sorted(shapely.to_wkt(shapely.normalize(flat))), (
            layer
        )
