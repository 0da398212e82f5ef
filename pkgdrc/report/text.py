"""The text summary on stdout: one line per rule, then the first markers of failed rules.

A rule is `ok` (checked, no marker), `FAIL` (markers) or `EMPTY` (no marker, and a drawn
layer it reads has no shape: it checked nothing there). The last line says `clean` only
when every rule passed.
"""

from __future__ import annotations

from pkgdrc.report.format import limit_text, num, place_text
from pkgdrc.result import Report, RuleResult
from pkgdrc.units import Grid

FIRST_MARKERS = 3


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def unmapped_text(report: Report) -> str:
    """The layout's layer/datatype pairs with shapes that no deck layer maps: `11/0 (3 shapes), ...`."""
    return ", ".join(f"{layer}/{datatype} ({_plural(n, 'shape')})" for layer, datatype, n in report.unmapped)


def empty_inputs_text(rules: list[RuleResult]) -> str:
    """Rules with empty input layers, grouped: `no shape on RDL2 for RDL2.W, RDL2.S; no shape on VIA2 for V.1`."""
    groups: dict[str, list[str]] = {}
    for r in rules:
        groups.setdefault(", ".join(r.empty_inputs), []).append(r.id)
    return "; ".join(f"no shape on {layers} for {', '.join(ids)}" for layers, ids in groups.items())


def verdict(report: Report) -> str:
    """`clean`, `N violations in M rules`, or either followed by how many rules could not check."""
    found = (
        f"{_plural(report.violations, 'violation')} in {_plural(len(report.failed), 'rule')}"
        if report.violations
        else "clean"
    )
    if report.empty:
        found = "no violations" if found == "clean" else found
        found += f"; {_plural(len(report.empty), 'rule')} could not check: empty input"
    return found


def render(report: Report, verbose: bool = False) -> str:
    """The summary; `verbose` adds the engine that ran each rule (`[cellwise]`)."""
    lines = [f"pkgdrc {report.version}: {report.layout} (top {report.top}) against deck {report.deck}"]
    for name in report.empty_layers:
        lines.append(f"  note: layer {name} is empty in this layout")
    if report.unmapped:
        lines.append(f"  note: layout layers with shapes that no deck layer maps: {unmapped_text(report)}")
    for w in report.warnings:
        lines.append(f"  warning: {w}")
    if report.repaired or report.dropped:
        lines.append(f"  note: {report.repaired} invalid polygons repaired, {report.dropped} degenerate dropped")
    grid = Grid(report.dbu_um)
    width = max((len(r.id) for r in report.rules), default=4)
    for r in report.rules:
        engine = f"  [{r.engine}]" if verbose and r.engine else ""
        if r.status == "passed":
            lines.append(f"  ok    {r.id:<{width}}  {r.check} {limit_text(r)}{engine}")
            continue
        if r.status == "empty":
            lines.append(
                f"  EMPTY {r.id:<{width}}  {r.check} {limit_text(r)}: no shape on "
                f"{', '.join(r.empty_inputs)}, nothing checked{engine}"
            )
            continue
        worst = (
            f", worst {num(r.worst)} vs limit {limit_text(r)}" if r.worst is not None else f", limit {limit_text(r)}"
        )
        empty = f" (no shape on {', '.join(r.empty_inputs)})" if r.empty_inputs else ""
        lines.append(
            f"  FAIL  {r.id:<{width}}  {r.check}: {_plural(len(r.markers), 'violation')}{worst}{empty}{engine}"
        )
        lines.extend("      " + place_text(m, grid) for m in r.markers[:FIRST_MARKERS])
        if len(r.markers) > FIRST_MARKERS:
            lines.append(f"      ... and {len(r.markers) - FIRST_MARKERS} more")
    if report.cached:
        lines.append(
            f"  cache: {report.from_cache} of {_plural(len(report.rules), 'rule result')} from the cache "
            f"({report.updated} updated)"
        )
    lines.append(
        f"{verdict(report)} ({_plural(len(report.rules), 'rule')}, {_plural(report.shapes, 'shape')}, "
        f"{report.seconds:.2f} s)"
    )
    return "\n".join(lines) + "\n"
