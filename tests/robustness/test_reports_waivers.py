"""Waivers and `pkgdrc waive` on bad input (issue 15 items 12 and 19): one line, exit 2,
no report written; a waiver that would waive the wrong thing silently is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pkgdrc.cli import main
from signoff import write_signoff_deck, write_signoff_layout


@pytest.fixture(autouse=True)
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_signoff_layout(tmp_path / "a.gds")
    write_signoff_deck(tmp_path / "signoff.yaml")


def _check(waivers: str):
    """`pkgdrc check` with the waiver file `waivers`; the JSON report, if one was written."""
    with open("w.yaml", "w") as f:
        f.write(waivers)
    result = CliRunner().invoke(
        main, ["check", "a.gds", "-d", "signoff.yaml", "--waivers", "w.yaml", "--json", "r.json", "-q"]
    )
    try:
        with open("r.json") as f:
            report = json.load(f)
    except FileNotFoundError:
        report = None
    return result, report


def _waive(report: object):
    with open("r.json", "w") as f:
        json.dump(report, f)
    return CliRunner().invoke(main, ["waive", "r.json", "--reason", "ok", "--waivers", "w.yaml"])


def test_waive_refuses_a_report_whose_rules_are_not_rules():
    result = _waive({"tool": "pkgdrc", "layout": "a.gds", "rules": [1]})  # TypeError before
    assert result.exit_code == 2
    assert (
        result.stderr
        == "pkgdrc: error: r.json: not a pkgdrc JSON report: rules[0]: expected a rule with an id (text)\n"
    )


def test_waive_refuses_a_marker_without_bbox():
    result = _waive(
        {"tool": "pkgdrc", "layout": "a.gds", "rules": [{"id": "RDL1.W", "violations": [{"value": 1.5}]}]}
    )  # KeyError 'bbox' before
    assert result.exit_code == 2
    assert result.stderr == (
        "pkgdrc: error: r.json: not a pkgdrc JSON report: rules[0].violations[0].bbox: "
        "expected [x0, y0, x1, y1] in um with x0 <= x1, y0 <= y1\n"
    )
    assert not Path("w.yaml").exists()  # no waiver file started


def test_waive_refuses_a_report_without_layout():
    result = _waive({"tool": "pkgdrc", "rules": []})
    assert result.exit_code == 2
    assert (
        result.stderr == "pkgdrc: error: r.json: not a pkgdrc JSON report: layout: expected the layout's path (text)\n"
    )


REFUSED = {
    # ValueError traceback before
    "expires on a day that does not exist": (
        "- rule: RDL1.W\n  box: [399, 399, 402, 501]\n  reason: r\n  expires: 2026-02-30\n",
        "w.yaml:4: 2026-02-30 is not a date (day is out of range for month); expected YYYY-MM-DD",
    ),
    # silently ignored before: RDL2.W's markers stayed, unexplained
    "rule the deck lacks": (
        (
            "- rule: RDL1.W\n  box: [399, 399, 402, 501]\n  reason: r\n"
            "- rule: RDL9.W\n  box: [599, 599, 602, 621]\n  reason: typo\n"
        ),
        "w.yaml:4: waiver for rule 'RDL9.W': deck signoff has no such rule (did you mean 'RDL2.W'?)",
    ),
    "rule in the wrong case": (
        "- rule: rdl2.s\n  box: [599, 599, 602, 621]\n  reason: r\n",
        "w.yaml:1: waiver for rule 'rdl2.s': deck signoff has no such rule (did you mean 'RDL2.S'?)",
    ),
    "box holding the whole layout without scope all": (
        "- rule: RDL2.W\n  box: [-5, -5, 2000, 2000]\n  reason: everything\n",
        (
            "w.yaml:1: waiver for RDL2.W: its box holds the whole layout [0, 0, 1000, 1000]; write 'scope: all' in it "
            "to waive RDL2.W everywhere"
        ),
    ),
    "cell waiver naming the top cell without scope all": (
        "- rule: RDL1.S\n  cell: TOP\n  reason: all of it\n",
        (
            "w.yaml:1: waiver for RDL1.S: its cell TOP is the top cell; write 'scope: all' in it to waive RDL1.S "
            "everywhere"
        ),
    ),
    "scope other than all": (
        "- rule: RDL1.S\n  cell: LOGO\n  scope: most\n  reason: r\n",
        "w.yaml:3: scope must be 'all' (the waiver may hold the whole layout), got 'most'",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_waiver_file_refused_with_one_line_and_no_report(case):
    waivers, line = REFUSED[case]
    result, report = _check(waivers)
    assert result.exit_code == 2
    assert result.stderr == f"pkgdrc: error: {line}\n"
    assert report is None


def test_scope_all_waives_the_rule_everywhere():
    result, report = _check("- rule: RDL2.W\n  box: [-5, -5, 2000, 2000]\n  scope: all\n  reason: everything\n")
    assert (result.exit_code, result.stderr) == (1, "")  # RDL1.W and RDL1.S still fail
    (rule,) = [r for r in report["rules"] if r["id"] == "RDL2.W"]
    assert (rule["violations"], [w["bbox"] for w in rule["waived"]]) == (
        [],
        [[600.0, 600.0, 601.0, 620.0], [680.0, 600.0, 700.0, 601.0]],
    )
