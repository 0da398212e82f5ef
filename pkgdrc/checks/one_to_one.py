"""One to one: each shape of `layer` holds exactly `count` shapes of `other`, and each of those lies in exactly one.

What it checks, on merged layers: a shape of `layer` holds a shape of `other` when
their interiors overlap (touching along an edge or at a corner does not count).
1. Each shape of `layer` holding a number of `other` shapes different from `count` is
   one polygon marker (the `layer` shape), value = the number it holds.
2. With `reverse: true` (the default), each shape of `other` that lies in no `layer`
   shape or in more than one is one polygon marker (the `other` shape); the message
   gives the number of `layer` shapes it overlaps. No value: that number is not the
   quantity `count` limits, and a rule's values (its worst) are one quantity.
KLayout spells the first half `layer.interacting(other, count)` inverted
(`not_interacting` with min/max counts); the reverse half is the same check swapped.

Why it matters: one chip per stiffener opening (an empty opening is a dead unit and a
weak spot), one passivation opening per UBM, one solder ball per pad: two balls on a
pad bridge, a pad without a ball is an open.

Example: `ST.3: {check: one_to_one, layer: STIFFENER_OPENING, other: DIE, count: 1}`.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations

PARAMS = {
    "layer": LAYERS,
    "other": Param("layer", "the layer whose shapes are counted"),
    "count": Param("number", "how many `other` shapes each `layer` shape holds", required=False, default=1.0),
    "reverse": Param(
        "bool", "also require each `other` shape to lie in exactly one `layer` shape", required=False, default=True
    ),
}


def validate(p: dict) -> str | None:
    c = p["count"]
    return None if c >= 0 and c == int(c) else f"count must be a whole number >= 0, got {c:g}"


def limit(p: dict) -> float:
    return p["count"]


def holding_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ia, ib) for shapes of a and b whose interiors overlap (one bulk STRtree query)."""
    if len(a) == 0 or len(b) == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e
    ia, ib = shapely.STRtree(b).query(a, predicate="intersects")
    keep = ~shapely.touches(a[ia], b[ib])
    return ia[keep], ib[keep]


def run(layers, layer: str, p: dict):
    a, b = layers.merged(layer), layers.merged(p["other"])
    ia, ib = holding_pairs(a, b)
    held = np.bincount(ia, minlength=len(a))
    wrong = held != int(p["count"])
    out = [
        Violations.polygons(
            a[wrong],
            held[wrong],
            "none",
            np.array([f"holds {n} {p['other']}, expected {int(p['count'])}" for n in held[wrong]], dtype=object),
        )
    ]
    if p["reverse"]:
        inside = np.bincount(ib, minlength=len(b))
        stray = inside != 1
        msgs = np.array([f"{p['other']} in {n} {layer} shapes, expected 1" for n in inside[stray]], dtype=object)
        out.append(Violations.polygons(b[stray], messages=msgs))
    return out


KIND = CheckKind(
    "one_to_one", __doc__, PARAMS, run, limit, validate=validate, local=True, example={"layer": "B", "other": "A"}
)
