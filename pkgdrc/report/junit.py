"""JUnit XML, as CI systems read it (GitLab, Jenkins, GitHub test reporters).

One <testsuite> per layout (name = layout path), one <testcase> per rule (classname =
deck name, name = rule id). A violated rule has a <failure> whose message gives the
count, worst value and limit, and whose text lists the first markers with their place
in um. A rule whose markers are all waived is <skipped> with the waiver reasons; waived
and stale-waiver counts are suite properties, the stale waivers listed in system-out.
"""

from __future__ import annotations

from typing import TextIO

from junitparser import Failure, JUnitXml, Skipped, SystemOut, TestCase, TestSuite

from pkgdrc.report.format import limit_text, num, place_text
from pkgdrc.result import Report, RuleResult
from pkgdrc.units import Grid

LISTED = 20  # markers listed in a failure's text


def _failure(r: RuleResult, grid: Grid) -> Failure:
    worst = f", worst {num(r.worst)}" if r.worst is not None else ""
    n = len(r.markers)
    f = Failure(f"{n} violation{'s' if n != 1 else ''}{worst}, limit {limit_text(r)}", r.check)
    lines = [place_text(m, grid) for m in r.markers[:LISTED]]
    if n > LISTED:
        lines.append(f"... and {n - LISTED} more")
    f.text = "\n".join(lines)
    return f


def _case(report: Report, r: RuleResult) -> TestCase:
    grid = Grid(report.dbu_um)
    case = TestCase(r.id, classname=report.deck)
    if r.markers:
        case.result = [_failure(r, grid)]
    elif r.waived:
        reasons = sorted({w.reason for w in r.waived})
        s = Skipped(f"{len(r.waived)} waived: {'; '.join(reasons)}", "waived")
        s.text = "\n".join(f"{place_text(w.marker, grid)} waived by {w.waiver}" for w in r.waived[:LISTED])
        case.result = [s]
    if r.markers and r.waived:
        case.system_out = f"{len(r.waived)} more markers waived"
    return case


def suite(report: Report) -> TestSuite:
    s = TestSuite(report.layout)
    s.add_property("deck", report.deck)
    s.add_property("top", report.top)
    s.add_property("waived", str(report.waived))
    s.add_property("stale_waivers", str(len(report.stale_waivers)))
    s.add_property("expired_waivers", str(len(report.expired_waivers)))
    for r in report.rules:
        s.add_testcase(_case(report, r))
    notes = [f"stale waiver: {w}" for w in report.stale_waivers]
    notes += [f"expired waiver: {w}" for w in report.expired_waivers]
    if notes:
        s.append(SystemOut("\n".join(notes)))
    s.update_statistics()
    s.time = report.seconds
    return s


def dumps(reports: list[Report]) -> str:
    """One JUnit document with a testsuite per layout."""
    xml = JUnitXml("pkgdrc")
    for report in reports:
        xml.add_testsuite(suite(report))
    xml.update_statistics()
    return '<?xml version="1.0" encoding="utf-8"?>\n' + xml.tostring().decode("utf-8") + "\n"


def write(reports: list[Report], out: TextIO) -> None:
    """Write the document to a text stream."""
    out.write(dumps(reports))
