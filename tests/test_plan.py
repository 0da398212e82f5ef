"""The planner (pkgdrc/plan.py): which engine runs each rule, and that reports say so.

A layout whose cell repeats 16 times, the deck of every kind's example rule
(tests/test_check_kinds.py): `plan` puts local kinds cell by cell unless `hierarchy="flat"`,
whole-layout kinds (stack) always flat, the rest in tiles or on Dask when the run is split;
`pkgdrc check -v` prints the engine per rule and the JSON report has it per rule, with the
seconds the run spent on it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gdstk
import junitparser
import pytest
from click.testing import CliRunner
from tests.test_check_kinds import deck_text

import pkgdrc
from pkgdrc import cellwise, tiles
from pkgdrc.checks import CHECKS
from pkgdrc.cli import main
from pkgdrc.decks import load_deck
from pkgdrc.flat import rule_result
from pkgdrc.layout import read_layout
from pkgdrc.plan import SMALL_RULE, Options, plan, plan_work


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    where = tmp_path_factory.mktemp("plan")
    (where / "kinds.yaml").write_text(deck_text())
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = lib.new_cell("CELL")
    cell.add(
        gdstk.rectangle((0, 0), (0.9, 6), layer=1),
        gdstk.rectangle((2, 0), (4, 3), layer=1),
        gdstk.rectangle((3.5, 1), (4.1, 1.6), layer=2),
        gdstk.rectangle((3, 2), (5, 4), layer=3),
    )
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(cell, (0, 0), columns=4, rows=4, spacing=(20, 20)))
    top.add(gdstk.rectangle((-5, -5), (85, 85), layer=4))
    lib.write_gds(str(where / "t.gds"))
    return where / "t.gds", where / "kinds.yaml"


def test_plan_puts_each_rule_on_its_engine(case):
    path, deck_path = case
    deck = load_deck(deck_path)
    layout = read_layout(path, deck.layers, label_map=deck.labels)
    local = {r.id for r in deck.rules if CHECKS[r.check].local}
    assert local and local != {r.id for r in deck.rules}
    assert set(plan(deck.rules, layout, Options("flat")).values()) == {"flat"}
    closed = {r.id for r in deck.rules if not CHECKS[r.check].local and CHECKS[r.check].closed(r.params)}
    # the fanout example names nearest dies (edge clearance): not closed; its nets-only form is
    assert closed == {"R.connectivity", "R.trace_width_vs_die", "R.fanout.reach", "R.connectivity.floating"}
    cells = plan(deck.rules, layout, Options("cellwise"), deck)
    assert {k for k, v in cells.items() if v == "cellwise"} == local | closed
    assert cells["R.stack"] == "flat"
    split = plan(deck.rules, layout, Options("flat", jobs=2))
    assert split["R.stack"] == "flat" and split["R.fanout"] == "tiles" and split["R.width"] == "tiles"
    dask = plan(deck.rules, layout, Options("cellwise", jobs=2, dask_scheduler="tcp://h:8786"))
    assert dask["R.fanout"] == "dask" and dask["R.width"] == "cellwise" and dask["R.stack"] == "flat"


def test_each_result_records_its_engine(case):
    path, deck_path = case
    report = pkgdrc.check(path, str(deck_path), hierarchy="cellwise", allow_empty=True)
    engines = {r.id: r.engine for r in report.rules}
    assert engines["R.width"] == "cellwise" and engines["R.stack"] == "flat" and engines["R.fanout"] == "flat"
    flat = pkgdrc.check(path, str(deck_path), hierarchy="flat", allow_empty=True)
    assert {r.engine for r in flat.rules} == {"flat"}
    with pytest.raises(pkgdrc.PkgdrcError, match="hierarchy must be one of auto, cellwise, flat, got 'deep'"):
        pkgdrc.check(path, str(deck_path), hierarchy="deep")


def test_cli_verbose_and_json_name_the_engine(case, tmp_path):
    path, deck_path = case
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pkgdrc",
            "check",
            str(path),
            "-d",
            str(deck_path),
            "-v",
            "--hierarchy",
            "cellwise",
            "--allow-empty",
            "--json",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    lines = {
        line.split()[1]: line
        for line in out.stdout.splitlines()
        if line.startswith("  ") and line.split()[0] in ("ok", "FAIL", "EMPTY")
    }
    assert lines["R.width"].endswith("[cellwise]") and lines["R.stack"].endswith("[flat]")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert {r["id"]: r["engine"] for r in doc["rules"]}["R.width"] == "cellwise"
    quiet = subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", str(path), "-d", str(deck_path), "--flat", "--allow-empty"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "[flat]" not in quiet.stdout and quiet.returncode == 1


def test_cli_flat_and_another_hierarchy_contradict(case):
    path, deck_path = case
    out = subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", str(path), "-d", str(deck_path), "--flat", "--hierarchy", "cellwise"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert out.stderr == "pkgdrc: error: --flat and --hierarchy cellwise contradict each other: choose one\n"


def panel(where: Path, gap: float) -> Path:
    """Eight packages, each its own cell placed once, 50 um apart (PKG0-2 `gap` um apart)."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    for k in range(8):
        cell = lib.new_cell(f"PKG{k}")
        cell.add(gdstk.rectangle((0, 0), (2 + k, 6), layer=1), gdstk.rectangle((1, 1), (3, 3), layer=3))
        top.add(gdstk.Reference(cell, (50 * k if k > 2 else (10 + gap) * k, 0)))
    path = where / f"panel{gap}.gds"
    lib.write_gds(str(path))
    return path


def test_auto_on_several_jobs_takes_isolated_unique_cells_cell_by_cell(case, tmp_path):
    """Eight packages, each its own cell placed once, far apart: no cell repeats, but each
    placement is a unit of work, so with 2 jobs `auto` runs local and closed rules cell by cell
    (the rest in tiles); with one job, or with three packages overlapping so that one unit holds
    3/8 of the work (over 1 / (2 jobs)), it does not."""
    _, deck_path = case
    deck = load_deck(deck_path)
    layout = read_layout(panel(tmp_path, 100), deck.layers, label_map=deck.labels)
    assert not layout.tree.repeated()
    by_cell = {r.id for r in deck.rules if CHECKS[r.check].local or CHECKS[r.check].closed(r.params)}
    two = plan(deck.rules, layout, Options("auto", jobs=2), deck)
    assert {k for k, v in two.items() if v == "cellwise"} == by_cell
    assert two["R.stack"] == "flat" and two["R.fanout"] == "tiles"
    assert "cellwise" not in plan(deck.rules, layout, Options("auto", jobs=1), deck).values()
    crowded = read_layout(panel(tmp_path, -8), deck.layers, label_map=deck.labels)  # PKG0-2 overlap: 3/8 in one unit
    assert "cellwise" not in plan(deck.rules, crowded, Options("auto", jobs=2), deck).values()


def test_the_run_reuses_the_units_the_planner_built(case, tmp_path, monkeypatch):
    """`plan_work` returns the units of work it built to weigh the split (one per package plus
    the top's rest); `cellwise.run_rules` given them plans nothing again and finds the same
    markers as when it plans them itself."""
    _, deck_path = case
    deck = load_deck(deck_path)
    layout = read_layout(panel(tmp_path, 100), deck.layers, label_map=deck.labels)
    engines, work = plan_work(deck.rules, layout, Options("auto", jobs=2), deck)
    rules = [r for r in deck.rules if engines[r.id] == "cellwise"]
    assert work is not None and work.for_rules(rules)
    assert len(work.units) == 9 and all(part[0] == "flat" for _, part in work.units[-1])
    fresh = cellwise.run_rules(layout, deck, rules, jobs=2)
    planned = []
    monkeypatch.setattr(cellwise.Work, "plan", lambda *a: planned.append(a))
    reused = cellwise.run_rules(layout, deck, rules, jobs=2, work=work)
    assert planned == []

    def found(per_rule):
        return [[m.to_dict() for m in rule_result(r, f, layout.grid).markers] for r, f in zip(rules, per_rule)]

    assert found(reused) == found(fresh)
    assert sum(map(len, found(fresh))) > 0


def test_auto_checks_a_rule_on_few_shapes_flat(tmp_path):
    """`auto` on one job: a rule whose drawn layers hold fewer than SMALL_RULE flattened shapes
    runs flat (each cell's group has a set-up cost of its own), one on more runs cell by cell;
    `cellwise` runs both cell by cell. Same markers either way."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    via, pad = lib.new_cell("VIA"), lib.new_cell("PAD")
    via.add(gdstk.rectangle((0, 0), (1, 1), layer=1))
    pad.add(gdstk.rectangle((0, 0), (0.5, 2), layer=2))
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(via, (0, 0), columns=10, rows=10, spacing=(3, 3)))
    top.add(gdstk.Reference(pad, (0, 0), columns=100, rows=SMALL_RULE // 100, spacing=(3, 3)))
    top.add(gdstk.rectangle((-5, -5), (-4.8, -3), layer=2))
    path = tmp_path / "vias.gds"
    lib.write_gds(str(path))
    deck_path = tmp_path / "deck.yaml"
    deck_path.write_text(
        "name: vias\nunits: um\nlayers: {V: 1/0, M: 2/0}\n"
        "rules:\n  V.W: {check: width, layer: V, min: 0.8}\n  M.W: {check: width, layer: M, min: 0.8}\n"
    )
    deck = load_deck(deck_path)
    layout = read_layout(path, deck.layers)
    assert layout.count("V") == 100 and layout.count("M") == SMALL_RULE + 1
    engines = plan(deck.rules, layout, Options("auto"), deck)
    assert engines == {"V.W": "flat", "M.W": "cellwise"}
    assert set(plan(deck.rules, layout, Options("cellwise"), deck).values()) == {"cellwise"}
    auto = pkgdrc.check(path, str(deck_path))
    by_cell = pkgdrc.check(path, str(deck_path), hierarchy="cellwise")
    assert [r.engine for r in auto.rules] == ["flat", "cellwise"]
    assert [len(r.markers) for r in auto.rules] == [0, SMALL_RULE + 1]
    assert [r.markers for r in auto.rules] == [r.markers for r in by_cell.rules]


def test_json_gives_each_rule_its_engine_and_seconds(case, tmp_path, monkeypatch):
    """Two jobs on the panel of eight packages: rules cell by cell in units, in tiles and flat.
    Each rule of the JSON report has its engine and its seconds (3 decimals, >= 0, the same
    as its JUnit testcase's time); together they are no more than the run's seconds, whose
    phases (reading, each engine's) they share."""
    _, deck_path = case
    monkeypatch.setattr(tiles, "MIN_SHAPES_PER_JOB", 1)  # two jobs on a small layout
    path = panel(tmp_path, 100)
    args = ["check", str(path), "-d", str(deck_path), "--jobs", "2", "-q", "--allow-empty", "--no-cache"]
    res = CliRunner().invoke(main, [*args, "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml")])
    assert res.exit_code == 1, res.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert {r["engine"] for r in doc["rules"]} == {"cellwise", "tiles", "flat"}
    seconds = {r["id"]: r["seconds"] for r in doc["rules"]}
    assert all(isinstance(s, float) and s >= 0 and round(s, 3) == s for s in seconds.values())
    assert sum(s > 0 for s in seconds.values()) > len(seconds) // 2
    assert sum(seconds.values()) <= doc["summary"]["seconds"] + 0.001 * len(seconds)
    suite = next(iter(junitparser.JUnitXml.fromfile(str(tmp_path / "r.xml"))))
    assert {case.name: case.time for case in suite} == seconds
