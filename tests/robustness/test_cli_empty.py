"""Issue 15 item 2: a rule whose input layer has no shape is EMPTY, never `ok`, and a run that
could not check what it was asked to check never exits 0.

Exit codes: 1 with violations; 2 when no violations but rules were EMPTY (unless
--allow-empty); with --strict (or `strict = true`), 2 whenever a rule had an empty input.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gdstk

import pkgdrc
from pkgdrc.report import text

DECK = (
    "name: t\nunits: um\nlayers:\n  RDL1: {rdl1}\n  PKG: 0/0\nrules:\n"
    "  RDL1.W: {{check: width, layer: RDL1, min: 2}}\n"
    "  PKG.A: {{check: area, layer: PKG, min: 10}}\n"
)


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def _layout(tmp_path: Path, trace_width: float = 3.0) -> Path:
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((0, 0), (1000, 1000), layer=0))
    top.add(gdstk.rectangle((100, 100), (200, 100 + trace_width), layer=11))
    path = tmp_path / "chip.gds"
    lib.write_gds(str(path))
    return path


def _deck(tmp_path: Path, rdl1: str = "11/0") -> Path:
    path = tmp_path / "deck.yaml"
    path.write_text(DECK.format(rdl1=rdl1))
    return path


def test_a_deck_mapping_a_layer_the_layout_does_not_have_is_not_clean(tmp_path):
    """RDL1 mapped to 111/0 on a layout whose RDL is on 11/0: `ok` and exit 0 before."""
    p = _cli(_layout(tmp_path), "--deck", _deck(tmp_path, "111/0"))
    assert p.returncode == 2
    assert p.stderr == (
        "pkgdrc: error: 1 rule could not check: empty input (no shape on RDL1 for RDL1.W); "
        "the run is not clean (--allow-empty accepts empty layers)\n"
    )
    assert "  EMPTY RDL1.W  width 2: no shape on RDL1, nothing checked\n" in p.stdout
    assert "  ok    PKG.A   area 10\n" in p.stdout
    assert p.stdout.splitlines()[-1].startswith("no violations; 1 rule could not check: empty input (2 rules, ")


def test_a_selected_rule_on_an_empty_layer_is_not_clean(tmp_path):
    p = _cli(_layout(tmp_path), "--deck", _deck(tmp_path, "111/0"), "--rule", "RDL1.W")
    assert p.returncode == 2
    assert p.stderr == (
        "pkgdrc: error: 1 rule could not check: empty input (no shape on RDL1 for RDL1.W); "
        "the run is not clean (--allow-empty accepts empty layers)\n"
    )


def test_a_deck_whose_layers_are_all_empty_but_one(tmp_path):
    """fc-heatsink on a layout with only SUBSTRATE: six of eight rules checked nothing."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.new_cell("TOP").add(gdstk.rectangle((0, 0), (100, 100), layer=31))
    path = tmp_path / "sub.gds"
    lib.write_gds(str(path))
    p = _cli(path, "--deck", "fc-heatsink")
    assert p.returncode == 2
    assert p.stderr == (
        "pkgdrc: error: 6 rules could not check: empty input (no shape on DIE, HEATSINK for HS.1; no shape on "
        "HEATSINK, STANDOFF for HS.2; no shape on DIE, STANDOFF for HS.3; no shape on BUMP, DIE for BUMP.1; "
        "no shape on BALL for BGA.1; no shape on HEATSINK, PASSIVE for PAS.1); the run is not clean "
        "(--allow-empty accepts empty layers)\n"
    )
    assert (
        "  EMPTY BGA.1   pitch pitch 1000, min_size 550, max_size 650, clearance 500: no shape on BALL, "
        "nothing checked\n" in p.stdout
    )
    assert "  ok    ST.2    stack 100 <= SUBSTRATE <= 500\n" in p.stdout


def test_allow_empty_accepts_empty_rules_but_never_says_clean(tmp_path):
    p = _cli(_layout(tmp_path), "--deck", _deck(tmp_path, "111/0"), "--allow-empty")
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout.splitlines()[-1].startswith("no violations; 1 rule could not check: empty input (2 rules, ")


def test_violations_with_empty_rules_exit_1(tmp_path):
    deck = tmp_path / "deck.yaml"
    deck.write_text(DECK.format(rdl1="11/0") + "  V.W: {check: width, layer: VIA, min: 1}\n")
    deck.write_text(deck.read_text().replace("  PKG: 0/0\n", "  PKG: 0/0\n  VIA: 10/0\n"))
    p = _cli(_layout(tmp_path, trace_width=1.5), "--deck", deck)
    assert (p.returncode, p.stderr) == (1, "")
    assert p.stdout.splitlines()[-1].startswith("1 violation in 1 rule; 1 rule could not check: empty input (3 rules, ")


def test_strict_exits_2_on_an_empty_rule_even_with_violations(tmp_path):
    deck = tmp_path / "deck.yaml"
    deck.write_text(
        DECK.format(rdl1="11/0").replace("  PKG: 0/0\n", "  PKG: 0/0\n  VIA: 10/0\n")
        + "  V.W: {check: width, layer: VIA, min: 1}\n"
    )
    p = _cli(_layout(tmp_path, trace_width=1.5), "--deck", deck, "--strict")
    assert p.returncode == 2
    assert p.stderr == (
        "pkgdrc: error: 1 rule had an empty input layer (no shape on VIA for V.W) and --strict is set\n"
    )


def test_strict_from_the_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.pkgdrc]\nstrict = true\ndeck = "deck.yaml"\n')
    _deck(tmp_path, "111/0")
    p = _cli(_layout(tmp_path), "--allow-empty", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr == (
        "pkgdrc: error: --strict and --allow-empty (or strict and allow-empty in the config) "
        "contradict each other: choose one\n"
    )
    p = _cli(_layout(tmp_path), cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr == (
        "pkgdrc: error: 1 rule had an empty input layer (no shape on RDL1 for RDL1.W) and --strict is set\n"
    )
    p = _cli(_layout(tmp_path), "--no-strict", "--allow-empty", cwd=tmp_path)
    assert (p.returncode, p.stderr) == (0, "")


def test_a_config_flag_must_be_true_or_false(tmp_path):
    (tmp_path / "pkgdrc.toml").write_text('strict = "yes"\n')
    p = _cli(_layout(tmp_path), cwd=tmp_path)
    assert (p.returncode, p.stderr) == (
        2,
        f"pkgdrc: error: {tmp_path / 'pkgdrc.toml'}: pkgdrc.toml strict must be true or false, got 'yes'\n",
    )


def test_a_deck_without_rules_checks_nothing(tmp_path):
    deck = tmp_path / "deck.yaml"
    deck.write_text("name: t\nunits: um\nlayers:\n  RDL1: 11/0\nrules: {}\n")
    p = _cli(tmp_path / "not-read.gds", "--deck", deck)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr == f"pkgdrc: error: {deck}: deck t has no rules: the run would check nothing\n"


def test_a_selection_of_no_rule_checks_nothing(tmp_path):
    deck = _deck(tmp_path)
    try:
        pkgdrc.check(_layout(tmp_path), deck, rules=[])
    except pkgdrc.PkgdrcError as e:
        assert str(e) == f"{deck}: no rule of deck t selected: the run would check nothing"
    else:
        raise AssertionError("an empty selection ran")


def test_every_rule_passed_is_clean(tmp_path):
    p = _cli(_layout(tmp_path), "--deck", _deck(tmp_path))
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout.splitlines()[-1].startswith("clean (2 rules, 2 shapes, ")


def test_unmapped_layers_are_listed(tmp_path):
    """The layout's layer/datatype pairs no deck layer maps (Layout.unmapped, filled by the reader)."""
    report = pkgdrc.check(_layout(tmp_path), _deck(tmp_path, "111/0"))
    report.unmapped = [(11, 0, 1), (200, 5, 3)]
    assert (
        "  note: layout layers with shapes that no deck layer maps: 11/0 (1 shape), 200/5 (3 shapes)\n"
        in text.render(report)
    )
