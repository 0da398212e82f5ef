"""How numbers, limits and marker places read in every human-facing report."""

from __future__ import annotations

from pkgdrc.markers import Marker
from pkgdrc.result import RuleResult
from pkgdrc.units import Grid


def num(v: float, decimals: int = 6) -> str:
    """A number with at most `decimals` places and no trailing zeros (never %g's 6 digits)."""
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{v:.0f}"


def _limit(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return ", ".join(f"{k} {_limit(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_limit(x) for x in v) + "]"
    if isinstance(v, bool):
        return str(v).lower()
    return num(v)


def limit_text(r: RuleResult) -> str:
    """A rule's limit: a number, a list, named limits (checks that test several things),
    or a relation (stack) as written."""
    return _limit(r.limit)


def centre_text(m: Marker, grid: Grid, sep: str = ", ") -> str:
    """The centre of a marker's bbox in um (one place finer than the grid: it may fall on a half step)."""
    c = grid.decimals + 1
    return f"{num((m.bbox[0] + m.bbox[2]) / 2, c)}{sep}{num((m.bbox[1] + m.bbox[3]) / 2, c)}"


def place_text(m: Marker, grid: Grid) -> str:
    """One marker on one line: centre, bbox, layer, value and message."""
    box = ", ".join(num(v, grid.decimals) for v in m.bbox)
    value = f" value {num(m.value)}" if m.value is not None else ""
    msg = f" {m.message}" if m.message else ""
    return f"at ({centre_text(m, grid)}) um bbox [{box}] on {m.layer}{value}{msg}"
