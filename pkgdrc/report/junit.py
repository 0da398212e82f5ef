"""JUnit XML, as CI systems read it (GitLab, Jenkins, GitHub test reporters).

One <testsuite> per layout (name = layout path), one <testcase> per rule (classname =
deck name, name = rule id). A violated rule has a <failure> whose message gives the
count, worst value and limit, and whose text lists the first markers with their place
in um. A rule without markers whose input layer has no shape is <skipped type="empty">
(nothing was checked; the message names the empty layers). A rule whose markers are all
waived is <skipped type="waived"> with the waiver reasons; waived and stale-waiver counts
are suite properties, the stale waivers listed in system-out.

Each testcase's `time` is the rule's check time, each testsuite's the layout's whole run,
in seconds with 3 decimals (never exponent notation: the Jenkins JUnit schema's time is
digits and a point). Characters XML 1.0 cannot hold are written as visible escapes
(`format.xml_text`), so that a control character in a cell name or rule id still gives a
well-formed file.
"""

from __future__ import annotations

from typing import TextIO

from junitparser import Failure, JUnitXml, Skipped, SystemOut, TestCase, TestSuite

from pkgdrc.report.format import (
    empty_reason,
    limit_text,
    num,
    place_text,
    unmapped_text,
)
from pkgdrc.report.format import xml_text as _t
from pkgdrc.result import Report, RuleResult
from pkgdrc.units import Grid

LISTED = 20  # markers listed in a failure's text


def _failure(r: RuleResult, grid: Grid) -> Failure:
    worst = f", worst {num(r.worst)}" if r.worst is not None else ""
    n = len(r.markers)
    f = Failure(_t(f"{n} violation{'s' if n != 1 else ''}{worst}, limit {limit_text(r)}"), r.check)
    lines = [place_text(m, grid) for m in r.markers[:LISTED]]
    if n > LISTED:
        lines.append(f"... and {n - LISTED} more")
    f.text = _t("\n".join(lines))
    return f


def _case(report: Report, r: RuleResult) -> TestCase:
    grid = Grid(report.dbu_um)
    case = TestCase(_t(r.id), classname=_t(report.deck), time=round(r.seconds, 3))
    if r.markers:
        case.result = [_failure(r, grid)]
    elif r.status == "empty":
        waived = f"; {len(r.waived)} markers waived" if r.waived else ""
        case.result = [Skipped(_t(empty_reason(r) + waived), "empty")]
    elif r.waived:
        reasons = sorted({w.reason for w in r.waived})
        s = Skipped(_t(f"{len(r.waived)} waived: {'; '.join(reasons)}"), "waived")
        s.text = _t("\n".join(f"{place_text(w.marker, grid)} waived by {w.waiver}" for w in r.waived[:LISTED]))
        case.result = [s]
    if r.markers and r.waived:
        case.system_out = f"{len(r.waived)} more markers waived"
    return case


def suite(report: Report) -> TestSuite:
    s = TestSuite(_t(report.layout))
    s.add_property("deck", _t(report.deck))
    s.add_property("top", _t(report.top))
    s.add_property("waived", str(report.waived))
    s.add_property("stale_waivers", str(len(report.stale_waivers)))
    s.add_property("expired_waivers", str(len(report.expired_waivers)))
    s.add_property("empty_rules", str(len(report.empty)))
    s.add_property("unmapped_layers", unmapped_text(report) or "none")
    for r in report.rules:
        s.add_testcase(_case(report, r))
    notes = [f"stale waiver: {w}" for w in report.stale_waivers]
    notes += [f"expired waiver: {w}" for w in report.expired_waivers]
    if notes:
        s.append(SystemOut(_t("\n".join(notes))))
    return s


def dumps(reports: list[Report]) -> str:
    """One JUnit document with a testsuite per layout."""
    xml = JUnitXml("pkgdrc")
    suites = [suite(report) for report in reports]
    for s in suites:
        xml.add_testsuite(s)
    xml.update_statistics()  # counts (and times summed over testcases) ...
    for s, report in zip(suites, reports):
        s.time = round(report.seconds, 3)  # ... but a suite's time is its whole run, reading included
    xml.time = round(sum(report.seconds for report in reports), 3)
    # The Jenkins JUnit schema has no `skipped` on <testsuites> (each <testsuite> has its own);
    # junitparser sets it and has no call to drop an attribute.
    xml._elem.attrib.pop("skipped", None)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + xml.tostring().decode("utf-8") + "\n"


def write(reports: list[Report], out: TextIO) -> None:
    """Write the document to a text stream."""
    out.write(dumps(reports))
