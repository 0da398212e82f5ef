"""Stack across parts: the heights of the assembly and of its parts satisfy `relation`.

What it checks: a comparison chained like Python's (`A == B`, `100 <= A <= 500`) whose
sides are sums of terms: a number (um), a height name, or `NUMBER * NAME`. Names are the
assembly's `stack:` names and each part's heights as `PART.NAME` (its deck's `stack:`
and its own `stack:` in the assembly file). `==` holds when the sides differ by at most
`tolerance` um. Each comparison that does not hold is one marker, without value, whose
message gives both sides; it lies on the extent of the placed layers the assembly's
rules read of the parts the relation names (`pkgdrc explain stack` for one layout).

Why it matters: heights live in different parts' files: a cavity as deep as the die it
holds is thick, a heat sink's standoffs as tall as the die plus its bumps.

Example: `ST.1: {check: stack, relation: sink.STANDOFF == die.THICKNESS + BUMP, tolerance: 5}`.
"""

from __future__ import annotations

import re

import numpy as np
import shapely

from pkgdrc.assembly.kinds.kind import AssemblyKind
from pkgdrc.checks import stack
from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations

PARAMS = {
    "relation": Param("text", "comparison of sums of heights, e.g. 'sink.STANDOFF == die.THICKNESS + BUMP'"),
    "tolerance": Param("distance", "allowed difference for ==, in um", required=False, default=0.0),
}
_OP = r"(<=|>=|==|<|>)"
Side = list[tuple[float, str | None]]


def parse(relation: str) -> tuple[list[Side], list[str]]:
    """Sides (each a list of (factor, name or None)) and the operators between them."""
    pieces = re.split(_OP, relation)
    sides: list[Side] = []
    for text in pieces[0::2]:
        side = []
        for term in text.split("+"):
            m = re.fullmatch(stack._TERM, term)
            if not m:
                raise ValueError(
                    f"cannot read term {term.strip()!r} in {relation!r}: expected a number, a "
                    "height name or NUMBER * NAME, joined by +"
                )
            side.append(
                (float(m["k"]), m["kn"]) if m["kn"] else (float(m["num"]), None) if m["num"] else (1.0, m["name"])
            )
        sides.append(side)
    if len(sides) < 2:
        raise ValueError(f"no comparison in {relation!r}: expected e.g. 'carrier.CAVITY == die.THICKNESS'")
    return sides, pieces[1::2]


def validate(p: dict) -> str | None:
    try:
        parse(p["relation"])
    except ValueError as e:
        return str(e)
    return None


def stack_names(p: dict) -> list[str]:
    try:
        sides = parse(p["relation"])[0]
    except ValueError:
        return []
    return [name for side in sides for _, name in side if name is not None]


limit = stack.limit


def _text(side: Side, heights: dict[str, float]) -> tuple[float, str]:
    values = [f * (heights[n] if n is not None else 1.0) for f, n in side]
    words = [
        f"{v:g}" if n is None else f"{n} {v:g} um" if f == 1.0 else f"{f:g} * {n} = {v:g} um"
        for (f, n), v in zip(side, values)
    ]
    total = sum(values)
    return total, " + ".join(words) + (f" = {total:g} um" if len(side) > 1 else "")


def run(ctx, p: dict) -> list[tuple[str, Violations]]:
    sides, ops = parse(p["relation"])
    texts = [_text(side, ctx.assembly.stack) for side in sides]
    messages = []
    for (a, ta), op, (b, tb) in zip(texts, ops, texts[1:]):
        ok = abs(a - b) <= p["tolerance"] + 1e-9 if op == "==" else stack._OPS[op](a, b)
        if not ok:
            tol = f" (tolerance {p['tolerance']:g} um)" if op == "==" else ""
            messages.append(f"{ta} {op} {tb} does not hold{tol}")
    if not messages:
        return []
    parts = {n.split(".", 1)[0] for n in stack_names(p) if "." in n}
    each = [ctx.placed(ref) for ref in ctx.layers.deck.layers if ref.split(".", 1)[0] in parts]
    placed = np.concatenate([a for a in each if len(a)] or [np.empty(0, dtype=object)])
    box = shapely.box(*shapely.total_bounds(placed)) if len(placed) else shapely.box(0, 0, 0, 0)
    return [
        (
            "stack",
            Violations.polygons(
                np.array([box] * len(messages), dtype=object), messages=np.array(messages, dtype=object)
            ),
        )
    ]


KIND = AssemblyKind("stack", __doc__, PARAMS, run, limit, validate=validate, stack_names=stack_names)
