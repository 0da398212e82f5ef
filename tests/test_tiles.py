"""--jobs: a run split into tiles finds exactly the markers of one process.

The layout is a row of repeated groups with violations of every check kind of the
fowlp-2l deck, plus violations that run the whole length of the row (close and narrow
traces), so that tile cut lines fall through markers, not only between them.
"""

from __future__ import annotations

import json

import gdstk
import pytest
from click.testing import CliRunner
from tests.conftest import DECK_2L

from pkgdrc import tiles
from pkgdrc.cli import main
from pkgdrc.decks import load_deck
from pkgdrc.layout import read_layout
from pkgdrc.reach import halo_um
from pkgdrc.run import check

PKG, DIE, DIE_PAD, VIA1, RDL1, VIA2, RDL2, PO, UBM = (
    (0, 0),
    (1, 0),
    (2, 0),
    (10, 0),
    (11, 0),
    (12, 0),
    (13, 0),
    (20, 0),
    (21, 0),
)
PACKAGES = 5
PKG_PITCH = 1200.0  # 1000 um packages, 200 um saw street


def _rect(cell: gdstk.Cell, x0: float, y0: float, x1: float, y1: float, ld: tuple[int, int]) -> None:
    cell.add(gdstk.rectangle((x0, y0), (x1, y1), layer=ld[0], datatype=ld[1]))


def build_row(lib: gdstk.Library, top: gdstk.Cell) -> None:
    """A row of packages, each with violations of every core kind, some 900 um long."""
    for p in range(PACKAGES):
        px = p * PKG_PITCH
        _rect(top, px, -200, px + 1000, 900, PKG)
        # Traces drawn as chains of overlapping 150 um pieces: their merged polygons and
        # markers run across the package, through any tile cut that falls inside it.
        for x in range(60, 800, 140):
            _rect(top, px + x, 100, px + x + 150, 103, RDL1)  # two traces 1.5 um apart
            _rect(top, px + x, 104.5, px + x + 150, 107.5, RDL1)
            _rect(top, px + x, 200, px + x + 150, 201.6, RDL2)  # a 1.6 um trace
        for x in (px + 100, px + 500):
            _rect(top, x, 0, x + 330, 60, DIE)  # dies 70 um apart: FO.3
            _rect(top, x + 10, 10, x + 40, 40, DIE_PAD)
            _rect(top, x + 5, 5, x + 45, 45, RDL1)
            _rect(top, x + 12, 12, x + 20, 20, VIA1)  # landed
            _rect(top, x + 38, 20, x + 46, 28, VIA1)  # off the pad and the RDL1 pad
            _rect(top, x + 95, 145, x + 113, 163, RDL1)
            _rect(top, x + 100, 150, x + 108, 158, VIA2)  # 5 um in RDL1, only 1 um in RDL2
            _rect(top, x + 99, 149, x + 109, 159, RDL2)
            top.add(
                gdstk.Polygon(
                    [(x + 200, 150), (x + 220, 150), (x + 220, 160), (x + 208, 160), (x + 200, 155)], layer=RDL1[0]
                )
            )  # a 32-degree edge: ANG.1
            _rect(top, x + 245, 225, x + 275, 255, RDL2)
            _rect(top, x + 250, 230, x + 265, 250, PO)  # 15 um wide: PO.2
            _rect(top, x + 282, 230, x + 300, 250, PO)  # 17 um from the other: PO.3, PO.1
            _rect(top, x + 100, 860, x + 130, 890, UBM)  # in the saw-street keep-out: FO.1
        _rect(top, px + 20, 300, px + 80, 400, DIE)  # 20 um from the outline: FO.2


@pytest.fixture(scope="module")
def row(tmp_path_factory):
    from tests.conftest import write_gds

    path = write_gds(tmp_path_factory.mktemp("tiles") / "row.gds", build_row)
    deck = load_deck(DECK_2L)
    return path, deck, read_layout(path, deck.layers)


def _dicts(results):
    return {r.id: [m.to_dict() for m in r.markers] for r in results}


def test_row_has_every_core_kind(row):
    path, deck, layout = row
    single = check(layout, deck)
    failed = {r.check for r in single.rules if r.markers}
    assert {"width", "space", "enclosure", "inside", "angle"} <= failed


def _core(deck):
    """The deck's rules of the core kinds: a 100 um halo, so windows are narrower than the row."""
    return [r for r in deck.rules if r.check in ("width", "space", "enclosure", "inside", "angle")]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_same_markers_for_one_and_n_jobs(row, n):
    path, deck, layout = row
    rules = _core(deck)
    single = _dicts(check(layout, deck, rules=[r.id for r in rules]).rules)
    plan = tiles.plan_tiles(layout, tiles.deck_halo_dbu(layout, deck, rules), n)
    assert len(plan) == n
    for t in plan[1:]:
        # The cuts fall through markers: a marker of the long traces spans each cut ...
        spanning = [
            m
            for r in check(layout, deck, rules=["RDL1.S", "RDL2.W"]).rules
            for m in r.markers
            if m.bbox[0] < t.lo < m.bbox[2]
        ]
        assert spanning
    # ... and the windows are narrower than the row, so tiles do see partial layouts.
    assert all(t.window[2] - t.window[0] < 0.9 * PACKAGES * PKG_PITCH / layout.grid.dbu_um for t in plan)
    assert _dicts(tiles.run_local(layout, deck, rules, n)) == single


def test_same_markers_for_the_whole_deck(row):
    path, deck, layout = row
    assert _dicts(tiles.run_local(layout, deck, deck.rules, 3)) == _dicts(check(layout, deck).rules)


def test_markers_owned_once(row):
    path, deck, layout = row
    plan = tiles.plan_tiles(layout, tiles.deck_halo_dbu(layout, deck, deck.rules), 4)
    markers = [m for r in check(layout, deck).rules for m in r.markers]
    owners = [sum(tiles.owns(t, m) for t in plan) for m in markers]
    assert owners == [1] * len(markers)


def test_halo_is_the_largest_distance(row):
    _, deck, _ = row
    core = [r for r in deck.rules if r.check in ("width", "space", "enclosure", "inside", "angle")]
    assert halo_um(deck, core) == 100.0  # FO.2 clearance and FO.3 space
    assert halo_um(deck, [deck.rule("RDL1.W")]) == 2.0


def test_cli_jobs_gives_the_same_json(row, tmp_path, monkeypatch):
    path, _, _ = row
    monkeypatch.setattr(tiles, "MIN_SHAPES_PER_JOB", 1)
    out = {}
    for jobs in (1, 3):
        target = tmp_path / f"j{jobs}.json"
        res = CliRunner().invoke(
            main,
            [
                "check",
                str(path),
                "--deck",
                str(DECK_2L),
                "--jobs",
                str(jobs),
                "--json",
                str(target),
                "-q",
                "--no-cache",
            ],
        )
        assert res.exit_code == 1, res.output
        data = json.loads(target.read_text())
        data["summary"].pop("seconds")
        engines = {r["id"]: r.pop("engine") for r in data["rules"]}
        assert all(r.pop("seconds") >= 0 for r in data["rules"])
        assert set(engines.values()) <= ({"flat"} if jobs == 1 else {"tiles", "flat"})
        out[jobs] = data
    assert out[1] == out[3]  # the same markers, whichever engine ran the rules


def test_halo_of_a_kind_with_its_own_reach(row, tmp_path):
    deck_path = tmp_path / "reach.yaml"
    deck_path.write_text(
        "name: reach\nunits: um\nlayers: {VIA1: 10/0, PAD: 2/0, RDL1: 11/0, PKG: 0/0, DIE: 1/0}\n"
        "connect: [PAD - VIA1 - RDL1]\nrules:\n"
        "  L: {check: via_landing, layer: VIA1, below: PAD, above: RDL1, below_enclosure: 2, die_shift: 5}\n"
        "  F: {check: fanout, layer: RDL1, outline: PKG, die: DIE, pads: PAD, max_reach: 3000, edge_clearance: 40}\n"
    )
    deck = load_deck(deck_path)
    # via_landing measures the landing enclosure with the die shift added (2 + 5), not the
    # largest parameter (5); fanout's max_reach follows whole nets and leaves the halo alone.
    assert halo_um(deck, [deck.rule("L")]) == 7.0
    assert halo_um(deck, [deck.rule("F")]) == 40.0


def test_progress_reaches_every_rule_in_tiles(row, monkeypatch):
    path, deck, layout = row
    monkeypatch.setattr(tiles, "MIN_SHAPES_PER_JOB", 1)
    started = []
    report = check(layout, deck, jobs=3, on_rule=lambda rule: started.append(rule.id))
    assert sorted(started) == sorted(r.id for r in deck.rules)
    assert len(report.rules) == len(deck.rules)
