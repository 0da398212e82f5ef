"""The text summary on stdout: one line per rule, then the first markers of failed rules."""

from __future__ import annotations

from pkgdrc.markers import Marker
from pkgdrc.result import Report, RuleResult
from pkgdrc.units import Grid

FIRST_MARKERS = 3


def num(v: float, decimals: int = 6) -> str:
    """A number with at most `decimals` places and no trailing zeros (never %g's 6 digits)."""
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{v:.0f}"


def _limit(r: RuleResult) -> str:
    if isinstance(r.limit, str):  # a relation (stack), printed as written
        return r.limit
    if isinstance(r.limit, list):
        return "[" + ", ".join(num(v) for v in r.limit) + "]"
    return num(r.limit)


def _place(m: Marker, grid: Grid) -> str:
    x0, y0, x1, y1 = m.bbox
    c = grid.decimals + 1  # a centre may fall on a half grid step
    at = f"({num((x0 + x1) / 2, c)}, {num((y0 + y1) / 2, c)})"
    box = ", ".join(num(v, grid.decimals) for v in m.bbox)
    value = f" value {num(m.value)}" if m.value is not None else ""
    msg = f" {m.message}" if m.message else ""
    return f"      at {at} um bbox [{box}] on {m.layer}{value}{msg}"


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
            lines.append(f"  ok    {r.id:<{width}}  {r.check} {_limit(r)}")
            continue
        worst = f", worst {num(r.worst)} vs limit {_limit(r)}" if r.worst is not None else f", limit {_limit(r)}"
        lines.append(f"  FAIL  {r.id:<{width}}  {r.check}: {len(r.markers)} violation"
                     f"{'s' if len(r.markers) != 1 else ''}{worst}")
        lines.extend(_place(m, grid) for m in r.markers[:FIRST_MARKERS])
        if len(r.markers) > FIRST_MARKERS:
            lines.append(f"      ... and {len(r.markers) - FIRST_MARKERS} more")
    verdict = "clean" if report.violations == 0 else f"{report.violations} violations in {len(report.failed)} rules"
    lines.append(f"{verdict} ({len(report.rules)} rules, {report.shapes} shapes, {report.seconds:.2f} s)")
    return "\n".join(lines) + "\n"
