"""JUnit XML: read back with junitparser and with ElementTree as GitLab and Jenkins read it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner
from junitparser import Failure, JUnitXml, Skipped, SystemOut

from pkgdrc.cli import main
from signoff import RULES, write_signoff_deck, write_signoff_layout


def _run(*args: str) -> int:
    deck = write_signoff_deck(Path(args[0]).parent / "signoff.yaml")
    return CliRunner().invoke(main, ["check", *args, "-d", str(deck), "--quiet"]).exit_code


def test_one_testsuite_per_layout_one_testcase_per_rule(tmp_path):
    a = write_signoff_layout(tmp_path / "a.gds")
    b = write_signoff_layout(tmp_path / "b.gds", fixed=True)
    out = tmp_path / "junit.xml"
    assert _run(str(a), str(b), "--junit", str(out)) == 1
    xml = JUnitXml.fromfile(str(out))
    suites = list(xml)
    assert [s.name for s in suites] == [str(a), str(b)]
    assert (suites[0].tests, suites[0].failures, suites[0].errors, suites[0].skipped) == (RULES, 3, 0, 0)
    assert (suites[1].tests, suites[1].failures) == (RULES, 0)
    cases = {c.name: c for c in suites[0]}
    assert {c.classname for c in cases.values()} == {"signoff"}
    assert [name for name, c in cases.items() if not c.is_passed] == ["RDL1.W", "RDL2.W", "RDL1.S"]
    (fail,) = cases["RDL2.W"].result
    assert isinstance(fail, Failure)
    assert fail.message == "2 violations, worst 1, limit 2"
    assert fail.type == "width"
    assert fail.text.splitlines() == [
        "at (600.5, 610) um bbox [600, 600, 601, 620] on RDL2 value 1",
        "at (690, 600.5) um bbox [680, 600, 700, 601] on RDL2 value 1",
    ]
    assert cases["RDL1.W"].result[0].message == "1 violation, worst 1.5, limit 2"


def test_structure_gitlab_and_jenkins_read(tmp_path):
    """testsuites > testsuite > testcase(classname, name) > failure(message) + text."""
    a = write_signoff_layout(tmp_path / "a.gds")
    out = tmp_path / "junit.xml"
    _run(str(a), "--junit", str(out))
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("tests") == str(RULES) and suite.get("failures") == "3"
    failed = [
        (tc.get("classname"), tc.get("name"), tc.find("failure").get("message"))
        for tc in suite.findall("testcase")
        if tc.find("failure") is not None
    ]
    assert failed == [
        ("signoff", "RDL1.W", "1 violation, worst 1.5, limit 2"),
        ("signoff", "RDL2.W", "2 violations, worst 1, limit 2"),
        ("signoff", "RDL1.S", "1 violation, worst 1.5, limit 2"),
    ]
    assert "bbox [100, 103, 300, 104.5]" in suite.find("testcase[@name='RDL1.S']/failure").text


def test_waived_rule_is_skipped_with_reason(tmp_path):
    a = write_signoff_layout(tmp_path / "a.gds")
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "- rule: RDL2.W\n  cell: LOGO\n  reason: logo artwork\n"
        "- rule: RDL1.S\n  box: [0, 0, 10, 10]\n  reason: nothing there\n"
    )
    out = tmp_path / "junit.xml"
    assert _run(str(a), "--junit", str(out), "--waivers", str(waivers)) == 1
    (suite,) = JUnitXml.fromfile(str(out))
    cases = {c.name: c for c in suite}
    (skip,) = cases["RDL2.W"].result
    assert isinstance(skip, Skipped)
    assert skip.message == "2 waived: logo artwork"
    assert (suite.failures, suite.skipped) == (2, 1)
    props = {p.name: p.value for p in suite.properties()}
    assert (props["waived"], props["stale_waivers"]) == ("2", "1")
    assert suite.child(SystemOut).text == f"stale waiver: {waivers}:4: RDL1.S box [0, 0, 10, 10] (nothing there)"
