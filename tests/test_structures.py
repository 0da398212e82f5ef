"""The five package-structure decks: clean fixtures are clean, failing fixtures give exactly
the planted markers (expected JSON computed by fixtures/make_structure_fixtures.py from
the geometry it draws), stack rules read the deck's numbers, and every rule is listed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import pkgdrc
from pkgdrc.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "fixtures"
STRUCTURES = ["fowlp-organic", "fowlp-metal", "fc-heatsink", "stiffener", "mcm-stacked"]


def _markers(rule):
    return sorted(
        ({"bbox": list(m.bbox), "value": m.value} for m in rule.markers),
        key=lambda m: (m["bbox"], m["value"] is None, m["value"] or 0),
    )


@pytest.mark.parametrize("deck", STRUCTURES)
def test_clean_fixture_is_clean(deck):
    report = pkgdrc.check(FIX / f"{deck}.gds", deck=deck)
    assert {r.id: _markers(r) for r in report.failed} == {}


@pytest.mark.parametrize("deck", STRUCTURES)
def test_failing_fixture_gives_exactly_the_planted_markers(deck):
    expected = json.loads((FIX / f"{deck}_fail_all.json").read_text())
    report = pkgdrc.check(FIX / f"{deck}_fail_all.gds", deck=deck)
    got = {r.id: _markers(r) for r in report.rules if r.check != "stack"}
    assert got == expected
    assert all(expected[r.id] for r in report.rules if r.check != "stack"), "every geometric rule broken once"


def test_stack_rules_name_the_numbers(tmp_path):
    text = (ROOT / "rules" / "mcm-stacked.yaml").read_text().replace("VIA_HOLE1: 400", "VIA_HOLE1: 300")
    deck = tmp_path / "mcm.yaml"
    deck.write_text(text)
    report = pkgdrc.check(FIX / "mcm-stacked.gds", deck=str(deck))
    failed = {r.id: r.markers for r in report.failed}
    assert set(failed) == {"ST.1"}
    (m,) = failed["ST.1"]
    assert m.message == "VIA_HOLE1 300 um > MODULE 350 um does not hold"
    assert (m.value, m.layer) == (None, "stack")
    (rule,) = report.failed
    assert rule.limit == "VIA_HOLE1 > MODULE" and rule.layers == ["stack"]
    assert m.bbox == (1010.0, 1000.0, 4000.0, 3000.0)  # the VIA_HOLE1 and MODULE shapes


def test_stack_chain_and_tolerance(tmp_path):
    text = (ROOT / "rules" / "fowlp-organic.yaml").read_text()
    text = text.replace("  CAVITY: 150\n", "  CAVITY: 156\n").replace("SUBSTRATE: 300", "SUBSTRATE: 600")
    deck = tmp_path / "org.yaml"
    deck.write_text(text)
    report = pkgdrc.check(FIX / "fowlp-metal.gds", deck=str(deck), rules=["ST.CAV", "ST.SUB", "ST.RDL1"])
    msgs = {r.id: [m.message for m in r.markers] for r in report.rules}
    assert msgs == {
        "ST.CAV": ["CAVITY 156 um == DIE 150 um does not hold (tolerance 5 um)"],
        "ST.SUB": ["SUBSTRATE 600 um <= 500 does not hold"],
        "ST.RDL1": [],
    }


@pytest.mark.parametrize("deck", STRUCTURES)
def test_rules_lists_every_rule_with_its_doc(deck):
    out = CliRunner().invoke(main, ["rules", "--deck", deck])
    assert out.exit_code == 0
    d = pkgdrc.decks.load_deck(deck)
    for r in d.rules:
        assert r.doc and r.id in out.output and r.doc in out.output


def test_repeat_writes_one_rule_per_level():
    d = pkgdrc.decks.load_deck("fowlp-organic")
    assert d.layers["VIA3"] == (14, 0) and d.layers["RDL3"] == (15, 0)
    assert d.rule("VIA2.EN.BOT").params["by"] == "RDL1"
    assert d.rule("VIA2.EN.BOT").doc == "VIA2 lands on RDL1"
    assert "RDL3_TRACE" in d.derived and d.stack["RDL2"] == 5.0


def test_pictures_are_drawn_from_the_current_fixtures():
    spec = importlib.util.spec_from_file_location("render", ROOT / "docs" / "structures" / "render.py")
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    for deck in STRUCTURES:
        text = (ROOT / "docs" / "structures" / f"{deck}.svg").read_text()
        assert text == render.svg(deck), f"run python docs/structures/render.py ({deck}.svg is stale)"
        assert len(text) < 40_000
        assert ("<circle" in text) == ("BALL" in pkgdrc.decks.load_deck(deck).layers)  # balls: circles, not 64-gons


@pytest.mark.parametrize("deck", STRUCTURES)
def test_every_stack_rule_can_fail_and_names_its_numbers(deck):
    """Each stack rule of each deck fails when the first name it reads is 0 and the others
    are 10000, or the other way round (or both); the marker's message names the numbers."""
    d = pkgdrc.decks.load_deck(deck)
    rules = [r for r in d.rules if r.check == "stack"]
    assert rules
    for rule in rules:
        names = pkgdrc.checks.stack.stack_names(rule.params)
        messages = []
        for first, rest in ((0.0, 10000.0), (10000.0, 0.0)):
            d.stack = {**d.stack, **{n: rest for n in names}, names[0]: first}
            (r,) = pkgdrc.check(FIX / f"{deck}.gds", deck=d, rules=[rule.id]).rules
            messages += [m.message for m in r.markers if m.layer == "stack"]
        assert messages and all(m.endswith("does not hold") or "does not hold (tolerance" in m for m in messages), (
            rule.id,
            messages,
        )
        assert all(f"{names[0]} 0 um" in m or f"{names[0]} 10000 um" in m for m in messages), messages
