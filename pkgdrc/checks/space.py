"""Minimum space: outside-facing edge pairs closer than `min`, between shapes and notches.

What it checks: the layer is merged first, so shapes that overlap or touch along an
edge are one shape and have no space between them. Two edges violate when each lies on
the exterior side of the other, they face each other (angle over 90 degrees) and their
Euclidean distance is less than `min`: between different shapes, and between two edges
of one shape (a notch, or the slot of a U). Corner-to-corner spacing is measured
diagonally (Euclidean), and yields one edge pair per facing pair of edges.

Shapes that touch only at a corner are a space of 0 (two edge pairs on the collinear
edges at the kissing corner). Of three parallel bars, the outer two are not measured
against each other: the middle one is between them (shielding). A gap exactly `min`
passes; one database unit less fails. Same as KLayout `space_check(min)` (which
includes notches) with its 0.30 defaults; see docs/semantics.md.

Why it matters: metal closer than the process resolves bridges into shorts.

Example: `RDL1.S: {check: space, layer: RDL1, min: 2.0}` flags two traces 1.5 um apart.
"""

from __future__ import annotations

from pkgdrc.checks.common import LAYERS, edge_pair_violations
from pkgdrc.checks.kind import CheckKind, checked_layers
from pkgdrc.deck.params import Param
from pkgdrc.geometry.repeats import relate_repeated

PARAMS = {"layer": LAYERS, "min": Param("distance", "minimum space in um")}


def limit(p: dict) -> float:
    return p["min"]


def run(layers, layer: str, p: dict):
    d = layers.grid.to_dbu(p["min"])
    return [edge_pair_violations(relate_repeated(layers.edges(layer), None, d, "outside", "outside"))]


KIND = CheckKind(
    "space", __doc__, PARAMS, run, limit, cover_layers=checked_layers, local=True, example={"layer": "A", "min": 1.0}
)
