"""GitHub Actions workflow commands: one annotation per violated rule.

    ::error file=LAYOUT,title=RULE::COUNT violations, worst V (limit L), first marker at X,Y um

A pull request then shows the failures without opening an artifact. A rule that checked
nothing (an input layer without shapes) is a `::warning` naming the empty layers, as are
the layout's layers that no deck layer maps, and stale and expired waivers. Values are
escaped as the workflow-command syntax requires (% CR LF in messages; also : and , in properties).
"""

from __future__ import annotations

from pkgdrc.report.format import (
    centre_text,
    empty_reason,
    limit_text,
    num,
    unmapped_text,
)
from pkgdrc.result import Report
from pkgdrc.units import Grid


def _data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    lines = []
    grid = Grid(report.dbu_um)
    for r in report.failed:
        n = len(r.markers)
        worst = f"worst {num(r.worst)} (limit {limit_text(r)})" if r.worst is not None else f"limit {limit_text(r)}"
        first = centre_text(r.markers[0], grid, sep=",")
        msg = f"{n} violation{'s' if n != 1 else ''}, {worst}, first marker at {first} um"
        if r.waived:
            msg += f" ({len(r.waived)} more waived)"
        lines.append(f"::error file={_prop(report.layout)},title={_prop(r.id)}::{_data(msg)}")
    for r in report.empty:
        lines.append(f"::warning file={_prop(report.layout)},title={_prop(r.id)}::{_data(empty_reason(r))}")
    if report.unmapped:
        lines.append(
            f"::warning file={_prop(report.layout)},title=unmapped layers::"
            f"{_data('layers with shapes that no deck layer maps: ' + unmapped_text(report))}"
        )
    for w in report.stale_waivers:
        lines.append(f"::warning file={_prop(report.layout)},title=stale waiver::{_data(w)}")
    for w in report.expired_waivers:
        lines.append(f"::warning file={_prop(report.layout)},title=expired waiver::{_data(w)}")
    return "".join(line + "\n" for line in lines)
