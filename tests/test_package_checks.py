"""Package checks end to end on the pkg_* fixtures: exact markers (rule, layer, bbox, value, message).

The fixtures and their expected markers are made by fixtures/make_package_fixtures.py
from how each defect is drawn; pkg_clean is the package structure with fill and must
give nothing, against the fixture deck and against the shipped fowlp-2l deck.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gdstk
import pytest

import pkgdrc
from pkgdrc.checks import CHECKS
from pkgdrc.errors import PkgdrcError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DECK = FIXTURES / "pkg_deck.yaml"
KINDS = ["via_landing", "fanout", "trace_width_vs_die", "passivation", "connectivity", "density"]


def _markers(report) -> list[dict]:
    return sorted(
        (
            {"rule": r.id, "layer": m.layer, "bbox": list(m.bbox), "value": m.value, "message": m.message}
            for r in report.rules
            for m in r.markers
        ),
        key=lambda m: (m["rule"], m["bbox"], m["message"]),
    )


@pytest.mark.parametrize("name", sorted(p.name.split(".")[0] for p in FIXTURES.glob("pkg_*.markers.json")))
def test_fixture_gives_exactly_its_planted_markers(name):
    spec = json.loads((FIXTURES / f"{name}.markers.json").read_text())
    report = pkgdrc.check(FIXTURES / spec["layout"], FIXTURES / spec["deck"], rules=spec["rules"])
    assert _markers(report) == spec["markers"]


def test_every_failure_mode_has_a_fixture_marker():
    messages = " | ".join(
        m["message"] for p in FIXTURES.glob("pkg_*.markers.json") for m in json.loads(p.read_text())["markers"]
    )
    for part in [
        "unlanded",
        "partly landed",
        "no capture pad",
        "partly captured",
        "size: via",
        "via space",
        "stacked",
        "die shift",
        "edge clearance",
        "die clearance",
        "die spacing",
        "over max_reach",
        "narrower than",
        "exposes dielectric",
        "exposes a trace",
        "exposes the edge of a pad",
        "pad enclosure",
        "size: opening",
        "opening space",
        "buried metal",
        "holds 2 openings",
        "UBM enclosure",
        "not covered by UBM",
        "open:",
        "short:",
        "floating:",
        "below min",
        "above max",
    ]:
        assert part in messages, part


def test_clean_package_passes_the_shipped_deck():
    report = pkgdrc.check(FIXTURES / "pkg_clean.gds", "fowlp-2l")
    assert {r.check for r in report.rules} >= set(KINDS)
    assert [(r.id, len(r.markers)) for r in report.failed] == []


def test_cli_text_and_json_reports_carry_the_markers(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pkgdrc",
            "check",
            FIXTURES / "pkg_connectivity.gds",
            "--deck",
            DECK,
            "--rule",
            "CONN.1",
            "--json",
            tmp_path / "r.json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    assert "open: net A_S reaches no bond pad (PO, UBM)" in out.stdout
    (rule,) = json.loads((tmp_path / "r.json").read_text())["rules"]
    assert [(m["bbox"], m["message"]) for m in rule["violations"]] == [
        ([770.0, 610.0, 830.0, 670.0], "open: net A_S reaches no bond pad (PO, UBM)"),
        ([2695.0, 1495.0, 2705.0, 1505.0], "short: nets B_E and B_N meet"),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_explain_prints_the_kind_docstring(kind):
    out = subprocess.run([sys.executable, "-m", "pkgdrc", "explain", kind], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip().splitlines()[0] == CHECKS[kind].doc.strip().splitlines()[0]
    assert "Why it matters" in out.stdout and "Example" in out.stdout


def _deck(
    tmp_path, body: str, connect: str = "connect: ['DIE_PAD - VIA1 - RDL1', 'RDL1 - VIA2 - RDL2', 'RDL2 - PO - UBM']\n"
) -> Path:
    p = tmp_path / "d.yaml"
    p.write_text(
        "layers: {PKG: 0/0, DIE: 1/0, DIE_PAD: 2/0, DIE_METAL: 3/0, VIA1: 10/0, RDL1: 11/0, VIA2: 12/0, "
        "RDL2: 13/0, PO: 20/0, UBM: 21/0}\n" + connect + "rules:\n" + body
    )
    return p


def test_require_ubm_flags_an_opening_without_ubm(gds, tmp_path):
    def build(lib, c):
        c.add(gdstk.rectangle((0, 0), (60, 60), layer=13), gdstk.rectangle((10, 10), (50, 50), layer=20))
        c.add(
            gdstk.rectangle((100, 0), (160, 60), layer=13),
            gdstk.rectangle((110, 10), (150, 50), layer=20),
            gdstk.rectangle((105, 5), (155, 55), layer=21),
        )

    deck = _deck(
        tmp_path,
        "  P: {check: passivation, layer: PO, ubm: UBM, require_ubm: true}\n"
        "  Q: {check: passivation, layer: PO, ubm: UBM}\n",
    )
    report = pkgdrc.check(gds(build), deck)
    assert [(m["rule"], m["bbox"], m["message"]) for m in _markers(report)] == [
        ("P", [10.0, 10.0, 50.0, 50.0], "no UBM over the opening")
    ]


def test_density_exactly_at_the_bound_passes(gds, tmp_path):
    def build(lib, c):
        c.add(gdstk.rectangle((0, 0), (100, 100), layer=0), gdstk.rectangle((0, 0), (100, 10), layer=11))

    deck = _deck(
        tmp_path,
        "  D: {check: density, layer: RDL1, outline: PKG, window: 100, step: 100, min: 0.1}\n"
        "  E: {check: density, layer: RDL1, outline: PKG, window: 100, step: 100, max: 0.0999}\n",
    )
    report = pkgdrc.check(gds(build), deck)
    assert [(m["rule"], m["value"], m["message"]) for m in _markers(report)] == [("E", 0.1, "density above max 0.0999")]


@pytest.mark.parametrize(
    "body, connect, error",
    [
        (
            "  C: {check: connectivity, layer: DIE_PAD, bond: [PO]}\n",
            "",
            "d.yaml:3: rule C: check connectivity needs nets; declare the deck's connect: section",
        ),
        (
            "  V: {check: via_landing, layer: VIA1, below: DIE_PAD, above: RDL1, stacking: forbidden}\n",
            None,
            "d.yaml:4: rule V: stacking: forbidden needs next_via",
        ),
        (
            "  V: {check: via_landing, layer: VIA1, below: DIE_PAD, above: RDL1, size: {min: 30, max: 10}}\n",
            None,
            "d.yaml:4: rule V: size: expected a distance in um, or {min: A, max: B}",
        ),
        (
            "  D: {check: density, layer: RDL1, outline: PKG, window: 500, step: 250, min: 0.9, max: 0.1}\n",
            None,
            "d.yaml:4: rule D: expected 0 <= min <= max <= 1, got min 0.9, max 0.1",
        ),
        (
            "  W: {check: width, layer: RDL1, min: 2}\n",
            "connect: ['DIE_PAD - VIA1 - RDL3']\n",
            "d.yaml:2: connect: unknown layer 'RDL3' in 'DIE_PAD - VIA1 - RDL3' (did you mean 'RDL2'?)",
        ),
        (
            "  W: {check: width, layer: RDL1, min: 2}\n",
            "connect: ['DIE_PAD-VIA1']\n",
            "d.yaml:2: connect: expected a chain of layer names joined by ' - '",
        ),
        (
            "  W: {check: width, layer: RDL1, min: 2}\n",
            "connect: ['DIE_PAD - VIA1']\nlabels: {RDL2: 2/0}\n",
            "d.yaml:3: labels: layer 'RDL2' is not in the connect: section",
        ),
        (
            "  W: {check: width, layer: RDL1, min: 2}\n",
            "connect: ['DIE_PAD - VIA1']\nlabels: {DIE_PAD: 2/x}\n",
            "d.yaml:3: labels: DIE_PAD: expected layer/datatype like 11/0",
        ),
    ],
)
def test_deck_errors_name_file_line_and_what_is_expected(tmp_path, body, connect, error):
    deck = _deck(tmp_path, body) if connect is None else _deck(tmp_path, body, connect)
    with pytest.raises(PkgdrcError) as e:
        pkgdrc.decks.load_deck(deck)
    assert error in str(e.value)


def test_net_check_on_a_layer_outside_connect_is_a_user_error(gds, tmp_path):
    deck = _deck(tmp_path, "  T: {check: trace_width_vs_die, layer: RDL1, die_metal: DIE_METAL}\n")
    with pytest.raises(PkgdrcError, match="layer DIE_METAL is not in the deck's connect: section"):
        pkgdrc.check(gds(lambda lib, c: c.add(gdstk.rectangle((0, 0), (10, 10), layer=11))), deck)
