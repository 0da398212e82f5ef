"""A rule that checked nothing is not shown as passed (issue 15 item 2, the writers).

The demo layout against the fc-heatsink deck: HS.1 fails, five rules read a layer the demo
does not have (HEATSINK, STANDOFF, BUMP, BALL, SUBSTRATE, PASSIVE) and checked nothing,
ST.1 and ST.2 pass. Each report says which is which, and why.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from junitparser import Failure, JUnitXml, Skipped

import pkgdrc
from pkgdrc.cli import main
from pkgdrc.report import github, json_report, junit
from pkgdrc.report.files import write_atomic

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo_fowlp.gds"
STATUS = {
    "HS.1": "failed",
    "HS.2": "empty",
    "HS.3": "empty",
    "BUMP.1": "empty",
    "BGA.1": "empty",
    "PAS.1": "empty",
    "ST.1": "passed",
    "ST.2": "passed",
}


def _check(*args: str):
    result = CliRunner().invoke(main, ["check", str(DEMO), "-d", "fc-heatsink", *args])
    assert (result.exit_code, result.stderr) == (1, "")  # HS.1 fails
    return result


def test_json_gives_each_rule_its_status_and_empty_inputs(tmp_path):
    _check("--json", str(tmp_path / "r.json"), "-q")
    data = json.loads((tmp_path / "r.json").read_text())
    assert {r["id"]: r["status"] for r in data["rules"]} == STATUS
    assert {r["id"]: r["empty_inputs"] for r in data["rules"] if r["status"] == "empty"} == {
        "HS.2": ["HEATSINK", "STANDOFF"],
        "HS.3": ["STANDOFF"],
        "BUMP.1": ["BUMP"],
        "BGA.1": ["BALL", "SUBSTRATE"],
        "PAS.1": ["HEATSINK", "PASSIVE"],
    }
    hs1 = data["rules"][0]
    assert (hs1["status"], hs1["empty_inputs"], hs1["count"]) == ("failed", ["HEATSINK"], 2)
    assert data["summary"]["empty_rules"] == 5
    assert data["summary"]["unmapped"] == _unmapped_by_gdstk("fc-heatsink")


def _unmapped_by_gdstk(deck: str) -> list[dict]:
    """The demo's (layer, datatype) pairs the deck does not map, with their flat shape counts, by gdstk."""
    import gdstk

    from pkgdrc.decks import load_deck

    mapped = set(load_deck(deck).layers.values())
    (top,) = gdstk.read_gds(str(DEMO)).top_level()
    counts: dict[tuple[int, int], int] = {}
    for p in top.get_polygons():
        counts[(p.layer, p.datatype)] = counts.get((p.layer, p.datatype), 0) + 1
    return [{"layer": a, "datatype": b, "shapes": n} for (a, b), n in sorted(counts.items()) if (a, b) not in mapped]


def test_junit_skips_an_empty_rule_with_the_reason(tmp_path):
    _check("--junit", str(tmp_path / "j.xml"), "-q")
    (suite,) = JUnitXml.fromfile(str(tmp_path / "j.xml"))
    assert (suite.tests, suite.failures, suite.skipped) == (8, 1, 5)
    results = {c.name: c.result for c in suite}
    assert isinstance(results["HS.1"][0], Failure) and results["ST.1"] == []
    (skip,) = results["BGA.1"]
    assert isinstance(skip, Skipped)
    assert (skip.type, skip.message) == (
        "empty",
        ("not checked: input layers BALL, SUBSTRATE have no shapes in this layout"),
    )
    assert results["HS.3"][0].message == "not checked: input layer STANDOFF has no shapes in this layout"
    assert {p.name: p.value for p in suite.properties()}["empty_rules"] == "5"


def test_github_warns_for_each_empty_rule():
    lines = _check("--format", "github").stdout.splitlines()
    assert lines[0].startswith("::error file=")
    unmapped = ", ".join(
        f"{u['layer']}/{u['datatype']} ({u['shapes']} shape{'s' * (u['shapes'] != 1)})"
        for u in _unmapped_by_gdstk("fc-heatsink")
    )
    assert lines[-1] == (
        f"::warning file={DEMO},title=unmapped layers::layers with shapes that no deck layer maps: {unmapped}"
    )
    assert lines[1:-1] == [
        f"::warning file={DEMO},title=HS.2::not checked: input layers HEATSINK, STANDOFF have no shapes in this layout",
        f"::warning file={DEMO},title=HS.3::not checked: input layer STANDOFF has no shapes in this layout",
        f"::warning file={DEMO},title=BUMP.1::not checked: input layer BUMP has no shapes in this layout",
        f"::warning file={DEMO},title=BGA.1::not checked: input layers BALL, SUBSTRATE have no shapes in this layout",
        f"::warning file={DEMO},title=PAS.1::not checked: input layers HEATSINK, PASSIVE have no shapes in this layout",
    ]


def test_unmapped_layers_are_listed_in_json_junit_and_github(tmp_path):
    report = pkgdrc.check(DEMO, "fc-heatsink")
    report.unmapped = [(11, 0, 120), (99, 5, 1)]  # as the reader lists them (layer, datatype, shapes)
    write_atomic(str(tmp_path / "r.json"), lambda out: json_report.write(report, out))
    write_atomic(str(tmp_path / "j.xml"), lambda out: junit.write([report], out))
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["unmapped"] == [
        {"layer": 11, "datatype": 0, "shapes": 120},
        {"layer": 99, "datatype": 5, "shapes": 1},
    ]
    (suite,) = JUnitXml.fromfile(str(tmp_path / "j.xml"))
    assert {p.name: p.value for p in suite.properties()}["unmapped_layers"] == "11/0 (120 shapes), 99/5 (1 shape)"
    assert github.render(report).splitlines()[-1] == (
        f"::warning file={DEMO},title=unmapped layers::layers with shapes that no deck layer maps: "
        "11/0 (120 shapes), 99/5 (1 shape)"
    )
