"""A rule whose input layer has no shape is "empty", not passed (issue 15 item 2: the data)."""

from pathlib import Path

import pkgdrc

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_rules_with_an_empty_input_layer_are_empty_not_passed():
    report = pkgdrc.check(FIXTURES / "demo_fowlp.gds", "fc-heatsink")
    by_id = {r.id: r for r in report.rules}
    # HS.3 reads STANDOFF only, which the demo does not have: nothing was checked.
    assert by_id["HS.3"].status == "empty" and by_id["HS.3"].empty_inputs == ["STANDOFF"]
    assert by_id["HS.3"] in report.empty and by_id["HS.3"] not in report.failed
    # HS.1 reads an empty HEATSINK too, but found markers: it failed.
    assert by_id["HS.1"].status == "failed" and by_id["HS.1"].empty_inputs == ["HEATSINK"]


def test_rules_on_a_full_layout_pass_or_fail():
    report = pkgdrc.check(FIXTURES / "demo_fowlp.gds")
    assert {r.status for r in report.rules} == {"passed", "failed"}
    assert all(r.empty_inputs == [] for r in report.rules)
