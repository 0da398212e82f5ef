"""Minimum area of each merged shape, in um2.

What it checks: the layer is merged; each merged shape (holes subtracted) whose area
is less than `min` is marked, with its area as the value. Polygons that touch only at
a corner are one shape, as in KLayout's merge (each of its polygons is a marker carrying
the shape's area). An area exactly `min` passes. Same as KLayout `with_area(nil, min)`
on the merged layer.

Why it matters: tiny islands of metal or polymer lift off or do not develop.

Example: `RDL1.A: {check: area, layer: RDL1, min: 25}`.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS
from pkgdrc.checks.kind import CheckKind, checked_layers
from pkgdrc.deck.params import Param
from pkgdrc.geometry.polygons import clusters
from pkgdrc.markers import Violations

PARAMS = {"layer": LAYERS, "min": Param("area", "minimum area in um2")}


def limit(p: dict) -> float:
    return p["min"]


def run(layers, layer: str, p: dict):
    merged = layers.merged(layer)
    if len(merged) == 0:
        return []
    shape = clusters(merged)
    areas = np.bincount(shape, weights=shapely.area(merged))[shape]
    min_dbu2 = p["min"] / layers.grid.dbu_um**2
    bad = areas < min_dbu2 * (1 - 1e-12)
    return [Violations.polygons(merged[bad], areas[bad], "area", "area below minimum")]


KIND = CheckKind(
    "area", __doc__, PARAMS, run, limit, cover_layers=checked_layers, local=True, example={"layer": "A", "min": 4.0}
)
