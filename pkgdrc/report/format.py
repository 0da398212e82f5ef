"""How numbers, limits and marker places read in every human-facing report."""

from __future__ import annotations

import re

from pkgdrc.markers import Marker
from pkgdrc.result import Report, RuleResult
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


def empty_reason(r: RuleResult) -> str:
    """Why a rule without markers checked nothing: its input layers without shapes."""
    several = len(r.empty_inputs) != 1
    return (
        f"not checked: input layer{'s' * several} {', '.join(r.empty_inputs)} "
        f"{'have' if several else 'has'} no shapes in this layout"
    )


def unmapped_text(report: Report) -> str:
    """The layout's layers with shapes that no deck layer maps, as LAYER/DATATYPE (N shapes)."""
    return ", ".join(f"{layer}/{datatype} ({n} shape{'s' * (n != 1)})" for layer, datatype, n in report.unmapped)


# Characters XML 1.0 cannot hold, not even as character references: C0 controls other than
# tab, LF and CR; lone surrogates (names read with surrogateescape); U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(s: str) -> str:
    """`s` with every character XML 1.0 cannot hold written as a visible escape (\\x01,
    \\udc80, \\ufffe), so that a control character in a cell name or rule id still leaves a
    well-formed file and shows where it was.

    >>> xml_text("TOP\\x01A")
    'TOP\\\\x01A'
    """
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", s)
