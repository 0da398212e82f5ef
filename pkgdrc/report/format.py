"""How numbers, limits and marker places read in every human-facing report."""

from __future__ import annotations

from pkgdrc.markers import Marker
from pkgdrc.result import RuleResult
from pkgdrc.units import Grid


def num(v: float, decimals: int = 6) -> str:
    """A number with at most `decimals` places and no trailing zeros (never %g's 6 digits)."""
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{v:.0f}"


def limit_text(r: RuleResult) -> str:
    """A rule's limit: a number, a list of numbers, or a relation (stack) as written."""
    if isinstance(r.limit, str):
        return r.limit
    if isinstance(r.limit, list):
        return "[" + ", ".join(num(v) for v in r.limit) + "]"
    return num(r.limit)


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
