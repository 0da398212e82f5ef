"""Minimum width: inside-facing edge pairs of one merged shape closer than `min`.

What it checks: the layer is merged first (overlapping or touching shapes are one
shape). Two edges of the same merged shape violate when each lies on the interior side
of the other, they face each other (angle between them over 90 degrees) and their
Euclidean distance is less than `min`. The marker is the part of each edge closer than
`min` to the other; the value is their distance.

Corners: the two edges of a convex 90-degree corner and the edges of a 135-degree bend
never pair; an acute corner always narrows below any width and is flagged at its tip.
Shapes touching only at a corner are one shape, as in KLayout's merge: the kissing
corner is a width of 0. A pair with another edge of the shape between its two edges
is not reported (shielding). A trace exactly `min` wide passes; one database unit
narrower fails. Same as KLayout `width_check(min)` with its 0.30 defaults (Euclidean,
shielded, zero distance counted where edges touch); see docs/semantics.md.

Why it matters: a trace narrower than the process can pattern opens or burns out.

Example: `RDL1.W: {check: width, layer: RDL1, min: 2.0}` flags a 1.6 um trace segment
with value 1.6 over the length where it is narrow.
"""

from __future__ import annotations

from pkgdrc.checks.common import LAYERS, edge_pair_violations
from pkgdrc.checks.kind import CheckKind, checked_layers
from pkgdrc.deck.params import Param
from pkgdrc.geometry.repeats import relate_repeated

PARAMS = {"layer": LAYERS, "min": Param("distance", "minimum width in um")}


def limit(p: dict) -> float:
    return p["min"]


def run(layers, layer: str, p: dict):
    d = layers.grid.to_dbu(p["min"])
    return [edge_pair_violations(relate_repeated(layers.edges(layer), None, d, "inside", "inside", same_shape=True))]


KIND = CheckKind(
    "width", __doc__, PARAMS, run, limit, cover_layers=checked_layers, local=True, example={"layer": "A", "min": 1.0}
)
