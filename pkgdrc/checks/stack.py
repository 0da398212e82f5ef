"""Layer-stack relation: thicknesses and depths the deck declares in `stack:` must satisfy `relation`.

What it checks: `relation` is a comparison of terms, chained like Python's
(`100 <= SUBSTRATE <= 500` is two comparisons). A term is a number (um), a name
declared in the deck's `stack:` section, or `NUMBER * NAME`; operators are
`<`, `<=`, `==`, `>=`, `>`. `==` holds when the two sides differ by at most
`tolerance` um (default 0). Each comparison that does not hold is one marker on the
pseudo-layer `stack`, without a value: its message names both numbers. The rule's limit
(what reports print beside it) is the relation itself.
Nothing is measured from the layout and no 3D geometry is invented: the check reads
the numbers the deck declares. The marker is the bounding box of the shapes on the
layers the relation names (a thickness belongs to a whole layer, not to one shape);
when none of them is drawn, the bounding box of every deck layer's shapes.
There is no KLayout equivalent (KLayout's DRC is 2D).

Why it matters: several structural properties are thicknesses, not shapes: a cavity
as deep as the die is thick (so the die's face is planar with the filling layer), RDL
copper thicker than the on-die metal it continues, a via hole deeper than the stacked
module is tall, a substrate between 0.1 and 0.5 mm.

Example:
    stack: {DIE: 120, CAVITY: 120, RDL1: 5, DIE_METAL: 1, SUBSTRATE: 300}
    rules:
      ST.1: {check: stack, relation: CAVITY == DIE, tolerance: 5, doc: die face planar with the fill}
      ST.2: {check: stack, relation: RDL1 > DIE_METAL}
      ST.3: {check: stack, relation: 100 <= SUBSTRATE <= 500}
"""

from __future__ import annotations

import operator
import re

import numpy as np
import shapely

from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations

PARAMS = {
    "relation": Param(
        "text", "comparison of stack names and numbers, e.g. 'CAVITY == DIE' or '100 <= SUBSTRATE <= 500'"
    ),
    "tolerance": Param("distance", "allowed difference for ==, in um", required=False, default=0.0),
}

_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt}
_NUMBER, _NAME = r"\d+(?:\.\d*)?", r"[A-Za-z_][A-Za-z0-9_.]*"
_TERM = rf"\s*(?:(?P<k>{_NUMBER})\s*\*\s*(?P<kn>{_NAME})|(?P<num>{_NUMBER})|(?P<name>{_NAME}))\s*"
_OP = r"(<=|>=|==|<|>)"


def parse(relation: str) -> tuple[list[tuple[float, str | None]], list[str]]:
    """Terms as (factor, name or None: factor is the number) and the operators between them."""
    parts = re.split(_OP, relation)
    terms, ops = [], parts[1::2]
    for text in parts[0::2]:
        m = re.fullmatch(_TERM, text)
        if not m:
            raise ValueError(
                f"cannot read term {text.strip()!r} in {relation!r}: expected a number, a stack name or NUMBER * NAME"
            )
        if m["name"]:
            terms.append((1.0, m["name"]))
        elif m["kn"]:
            terms.append((float(m["k"]), m["kn"]))
        else:
            terms.append((float(m["num"]), None))
    if not ops:
        raise ValueError(f"no comparison in {relation!r}: expected e.g. 'CAVITY == DIE'")
    return terms, ops


def validate(p: dict) -> str | None:
    try:
        parse(p["relation"])
    except ValueError as e:
        return str(e)
    return None


def stack_names(p: dict) -> list[str]:
    """The stack names the relation reads (the deck checks they are declared); none if it
    cannot be read (`validate` says why)."""
    try:
        terms = parse(p["relation"])[0]
    except ValueError:
        return []
    return [name for _, name in terms if name is not None]


def limit(p: dict) -> str:
    tol = f" (tolerance {p['tolerance']:g} um)" if p["tolerance"] and "==" in p["relation"] else ""
    return " ".join(p["relation"].split()) + tol


def _text(term: tuple[float, str | None], value: float) -> str:
    factor, name = term
    if name is None:
        return f"{value:g}"
    return f"{name} {value:g} um" if factor == 1.0 else f"{factor:g} * {name} = {value:g} um"


def _place(layers, names: list[str]) -> np.ndarray:
    """Bounding box of the named layers' shapes (all deck layers when none is drawn)."""
    known = [n for n in names if n in layers.deck.layers or n in layers.deck.derived]
    drawn = [layers.merged(n) for n in known]
    if not any(len(p) for p in drawn):
        drawn = [layers.merged(n) for n in layers.deck.layers]
    polys = np.concatenate(drawn) if drawn else np.empty(0, dtype=object)
    if not len(polys):
        return shapely.box(0, 0, 0, 0)
    b = shapely.total_bounds(polys)
    return shapely.box(*b)


def run(layers, layer, p: dict):
    stack = layers.deck.stack
    terms, ops = parse(p["relation"])
    values = [factor * (stack[name] if name is not None else 1.0) for factor, name in terms]
    failed, messages = [], []
    for i, op in enumerate(ops):  # one comparison per operator: a handful per rule, not per shape
        a, b = values[i], values[i + 1]
        ok = abs(a - b) <= p["tolerance"] + 1e-9 if op == "==" else _OPS[op](a, b)
        if not ok:
            tol = f" (tolerance {p['tolerance']:g} um)" if op == "==" else ""
            messages.append(f"{_text(terms[i], a)} {op} {_text(terms[i + 1], b)} does not hold{tol}")
            failed.append(i)
    if not failed:
        return []
    box = _place(layers, [n for _, n in terms if n is not None])
    return [Violations.polygons(np.array([box] * len(failed), dtype=object), messages=np.array(messages, dtype=object))]


KIND = CheckKind(
    "stack",
    __doc__,
    PARAMS,
    run,
    limit,
    validate=validate,
    stack_names=stack_names,
    scope="per_rule",
    whole_layout=True,
    example={"relation": "T1 <= T2"},
)
