"""The text summary on stdout: one line per rule, then the first markers of failed rules."""

from __future__ import annotations

from pkgdrc.markers import Marker
from pkgdrc.result import Report, RuleResult

FIRST_MARKERS = 3


def _limit(r: RuleResult) -> str:
    if isinstance(r.limit, list):
        return "[" + ", ".join(f"{v:g}" for v in r.limit) + "]"
    return f"{r.limit:g}"


def _place(m: Marker) -> str:
    x0, y0, x1, y1 = m.bbox
    at = f"({(x0 + x1) / 2:g}, {(y0 + y1) / 2:g})"
    value = f" value {m.value:g}" if m.value is not None else ""
    msg = f" {m.message}" if m.message else ""
    return f"      at {at} um bbox [{x0:g}, {y0:g}, {x1:g}, {y1:g}] on {m.layer}{value}{msg}"


def render(report: Report) -> str:
    lines = [f"pkgdrc {report.version}: {report.layout} (top {report.top}) against deck {report.deck}"]
    for name in report.empty_layers:
        lines.append(f"  note: layer {name} is empty in this layout")
    for w in report.warnings:
        lines.append(f"  warning: {w}")
    if report.repaired or report.dropped:
        lines.append(f"  note: {report.repaired} invalid polygons repaired, {report.dropped} degenerate dropped")
    width = max((len(r.id) for r in report.rules), default=4)
    for r in report.rules:
        if not r.markers:
            lines.append(f"  ok    {r.id:<{width}}  {r.check} {_limit(r)}")
            continue
        worst = f", worst {r.worst:g} vs limit {_limit(r)}" if r.worst is not None else f", limit {_limit(r)}"
        lines.append(f"  FAIL  {r.id:<{width}}  {r.check}: {len(r.markers)} violation"
                     f"{'s' if len(r.markers) != 1 else ''}{worst}")
        lines.extend(_place(m) for m in r.markers[:FIRST_MARKERS])
        if len(r.markers) > FIRST_MARKERS:
            lines.append(f"      ... and {len(r.markers) - FIRST_MARKERS} more")
    verdict = "clean" if report.violations == 0 else f"{report.violations} violations in {len(report.failed)} rules"
    lines.append(f"{verdict} ({len(report.rules)} rules, {report.shapes} shapes, {report.seconds:.2f} s)")
    return "\n".join(lines) + "\n"
