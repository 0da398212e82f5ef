"""Allowed edge directions: every edge of the merged layer must run at an `allowed` angle.

What it checks: the direction of each edge of the merged layer, in degrees measured
counter-clockwise from the x axis, modulo 180 (an edge and its reverse are the same
direction). An edge whose direction differs from every allowed angle by more than
1e-6 degrees is one edge marker; the value is its direction in [0, 180).
Merging first means a seam between two touching shapes is not an edge, and a straight
side is one edge even where another shape touches it at a point.
Like KLayout's edge angle filters (`edges.without_angle(...)`) on merged edges.

Why it matters: RDL routing is 0/45/90/135 degrees; any other angle is a drawing error
and a mask-writing cost.

Example: `ANG.1: {check: angle, layer: [RDL1, RDL2], allowed: [0, 45, 90, 135]}`.
"""

from __future__ import annotations

import numpy as np

from pkgdrc.checks.common import LAYERS
from pkgdrc.checks.kind import CheckKind, checked_layers
from pkgdrc.deck.params import Param
from pkgdrc.geometry.edges import polygon_edges
from pkgdrc.markers import Violations

PARAMS = {"layer": LAYERS, "allowed": Param("angles", "allowed edge directions in degrees (taken mod 180)")}
TOLERANCE_DEG = 1e-6


def limit(p: dict) -> list[float]:
    return p["allowed"]


def run(layers, layer: str, p: dict):
    e = polygon_edges(layers.merged(layer), straight=True)
    d = e.direction
    angle = np.mod(np.degrees(np.arctan2(d[:, 1], d[:, 0])), 180.0)
    allowed = np.asarray(p["allowed"], dtype=float)
    diff = np.abs(angle[:, None] - allowed[None, :])
    diff = np.minimum(diff, 180.0 - diff)
    bad = np.all(diff > TOLERANCE_DEG, axis=1)
    return [Violations("edge", e.segments()[bad], angle[bad], "none", "edge at a disallowed angle")]


KIND = CheckKind(
    "angle",
    __doc__,
    PARAMS,
    run,
    limit,
    cover_layers=checked_layers,
    local=True,
    example={"layer": ["A", "B"], "allowed": [0, 90]},
)
