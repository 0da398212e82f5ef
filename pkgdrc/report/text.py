"""The text summary on stdout: one line per rule, then the first markers of failed rules."""

from __future__ import annotations

from pkgdrc.report.format import limit_text, num, place_text
from pkgdrc.result import Report
from pkgdrc.units import Grid

FIRST_MARKERS = 3


def render(report: Report) -> str:
    lines = [f"pkgdrc {report.version}: {report.layout} (top {report.top}) against deck {report.deck}"]
    for name in report.empty_layers:
        lines.append(f"  note: layer {name} is empty in this layout")
    for w in report.warnings:
        lines.append(f"  warning: {w}")
    if report.repaired or report.dropped:
        lines.append(f"  note: {report.repaired} invalid polygons repaired, {report.dropped} degenerate dropped")
    grid = Grid(report.dbu_um)
    width = max((len(r.id) for r in report.rules), default=4)
    for r in report.rules:
        if not r.markers:
            lines.append(f"  ok    {r.id:<{width}}  {r.check} {limit_text(r)}")
            continue
        worst = f", worst {num(r.worst)} vs limit {limit_text(r)}" if r.worst is not None else f", limit {limit_text(r)}"
        lines.append(f"  FAIL  {r.id:<{width}}  {r.check}: {len(r.markers)} violation"
                     f"{'s' if len(r.markers) != 1 else ''}{worst}")
        lines.extend("      " + place_text(m, grid) for m in r.markers[:FIRST_MARKERS])
        if len(r.markers) > FIRST_MARKERS:
            lines.append(f"      ... and {len(r.markers) - FIRST_MARKERS} more")
    verdict = "clean" if report.violations == 0 else f"{report.violations} violations in {len(report.failed)} rules"
    lines.append(f"{verdict} ({len(report.rules)} rules, {report.shapes} shapes, {report.seconds:.2f} s)")
    return "\n".join(lines) + "\n"
