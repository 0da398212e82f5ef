"""The XML reports stay well-formed and complete (issue 15 items 16, 17, 21).

- Control characters in a cell name or rule id (XML 1.0 cannot hold them, not even as
  character references) are written as visible escapes, `\\x01`: the files load.
- lyrdb text values are quoted as KLayout's writer quotes them: the whole message loads.
- JUnit: each testcase's time is the rule's seconds; the file validates against the
  Jenkins JUnit schema (xunit-plugin's junit-10.xsd) when it is at $PKGDRC_JUNIT_XSD.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import gdstk
import pytest
import xmlschema
from click.testing import CliRunner
from junitparser import JUnitXml
from klayout import rdb

import pkgdrc
from pkgdrc.cli import main
from pkgdrc.report import junit, lyrdb
from pkgdrc.report.files import write_atomic
from signoff import write_signoff_deck, write_signoff_layout

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo_fowlp.gds"
# Not shipped here (a third party's file): point this at a copy of junit-10.xsd to validate.
JUNIT_XSD = os.environ.get("PKGDRC_JUNIT_XSD")


@pytest.fixture
def control_chars(tmp_path):
    """A top cell named 'TOP\\x01' with an RDL1 line too narrow for rule 'RDL1\\x07W'."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.new_cell("TOP\x01").add(gdstk.rectangle((0, 0), (1.5, 100), layer=11))
    lib.write_gds(str(tmp_path / "c.gds"))
    (tmp_path / "c.yaml").write_text(
        "name: c\nunits: um\nlayers: {RDL1: 11/0}\nrules:\n"
        '  "RDL1\\x07W": {check: width, layer: RDL1, min: 2.0, doc: "bell\\x07"}\n'
    )
    return tmp_path / "c.gds", tmp_path / "c.yaml"


def _check(layout, deck, *args):
    result = CliRunner().invoke(main, ["check", str(layout), "-d", str(deck), "-q", *args])
    assert (result.exit_code, result.stderr) == (1, "")
    return result


def test_control_characters_in_cell_and_rule_leave_a_lyrdb_klayout_loads(tmp_path, control_chars):
    _check(*control_chars, "--lyrdb", str(tmp_path / "c.lyrdb"))
    db = rdb.ReportDatabase("")
    db.load(str(tmp_path / "c.lyrdb"))  # KLayout refused the file before: "invalid character"
    assert db.top_cell_name == "TOP\\x01"
    assert [(c.name(), c.description) for c in db.each_category()] == [("RDL1\\x07W", "bell\\x07")]
    (item,) = db.each_item()
    assert (db.category_by_id(item.category_id()).name(), db.cell_by_id(item.cell_id()).name()) == (
        "RDL1\\x07W",
        "TOP\\x01",
    )
    assert [str(v) for v in item.each_value()] == ["edge-pair: (0,0;0,100)/(1.5,100;1.5,0)", "float: 1.5"]


def test_control_characters_in_cell_and_rule_leave_a_well_formed_junit(tmp_path, control_chars):
    _check(*control_chars, "--junit", str(tmp_path / "c.xml"))
    ET.parse(tmp_path / "c.xml")  # well-formed XML (raised "not well-formed (invalid token)" before)
    (suite,) = JUnitXml.fromfile(str(tmp_path / "c.xml"))
    (case,) = suite
    assert (case.name, case.result[0].message) == ("RDL1\\x07W", "1 violation, worst 1.5, limit 2")
    assert {p.name: p.value for p in suite.properties()}["top"] == "TOP\\x01"


def test_lyrdb_messages_load_whole_in_klayout(tmp_path):
    out = tmp_path / "d.lyrdb"
    result = CliRunner().invoke(
        main, ["check", str(DEMO), "--rule", "CONN.1", "--rule", "PO.4", "--rule", "TW.1", "--lyrdb", str(out), "-q"]
    )
    assert (result.exit_code, result.stderr) == (1, "")
    db = rdb.ReportDatabase("")
    db.load(str(out))
    texts = [v.string() for it in db.each_item() for v in it.each_value() if v.is_string()]
    assert texts == [  # KLayout kept "short:" of the first before
        "short: nets R01 and R02 meet",
        "open: net R05 reaches no bond pad (PO, UBM)",
        "UBM on buried metal: no opening",
        "UBM enclosure",
        "UBM holds 2 openings",
        "narrower than 1 x the 12 um on-die trace of net R09",
        "narrower than 1 x the 12 um on-die trace of net R09",
    ]
    assert "<value>text: 'short: nets R01 and R02 meet'</value>" in out.read_text()


@pytest.mark.parametrize("message", ["it's a \\ path", "tab\there\nand a line", "µm ✓", "bell\x07", "R01", ""])
def test_lyrdb_text_is_quoted_as_klayout_writes_it(tmp_path, message):
    """Our value string equals the one KLayout's own writer makes for the same text."""
    theirs = rdb.ReportDatabase("k")
    item = theirs.create_item(theirs.create_cell("T").rdb_id(), theirs.create_category("C").rdb_id())
    item.add_value(message)
    theirs.save(str(tmp_path / "k.lyrdb"))
    written = ET.parse(tmp_path / "k.lyrdb").getroot().find("items/item/values/value").text
    assert "text: " + lyrdb.klayout_quoted(message) == written


def _timed_report():
    report = pkgdrc.check(write_signoff_layout(Path("a.gds")), write_signoff_deck(Path("d.yaml")))
    for r, s in zip(report.rules, [0.25, 1.5, 0.00004, 12.3456, 0.0, 3.0]):
        r.seconds = s
    report.seconds = 17.25
    return report


def test_junit_testcase_time_is_the_rule_seconds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = _timed_report()
    write_atomic("j.xml", lambda out: junit.write([report], out))
    (suite,) = JUnitXml.fromfile("j.xml")
    assert [(c.name, c.time) for c in suite] == [
        ("RDL1.W", 0.25),
        ("RDL2.W", 1.5),
        ("RDL1.S", 0.0),
        ("RDL2.S", 12.346),
        ("FO.1", 0.0),
        ("ANG.1", 3.0),
    ]
    root = ET.parse("j.xml").getroot()
    assert (root.get("time"), root.find("testsuite").get("time")) == ("17.25", "17.25")  # the run, not the sum


@pytest.mark.skipif(JUNIT_XSD is None, reason="set PKGDRC_JUNIT_XSD to the Jenkins junit-10.xsd (xunit-plugin)")
def test_junit_validates_against_the_jenkins_schema(tmp_path, monkeypatch, control_chars):
    schema = xmlschema.XMLSchema(JUNIT_XSD)
    monkeypatch.chdir(tmp_path)
    write_atomic("timed.xml", lambda out: junit.write([_timed_report()], out))
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "- rule: RDL2.W\n  cell: LOGO\n  reason: logo\n- rule: RDL1.W\n  box: [0, 0, 1, 1]\n  reason: stale\n"
    )
    _check("a.gds", "d.yaml", "--junit", "waived.xml", "--waivers", str(waivers))  # failure, skipped, system-out
    _check(*control_chars, "--junit", "control.xml")
    result = CliRunner().invoke(main, ["check", str(DEMO), "-d", "fc-heatsink", "-q", "--junit", "empty.xml"])
    assert result.exit_code == 1
    for name in ("timed.xml", "waived.xml", "control.xml", "empty.xml"):
        schema.validate(name)  # raises XMLSchemaValidationError with the place
