"""Minimum area of each merged shape, in um2.

What it checks: the layer is merged; each merged polygon (holes subtracted) whose area
is less than `min` is a polygon marker with its area as the value. An area exactly
`min` passes. Same as KLayout `with_area(0, min)` on the merged layer.

Why it matters: tiny islands of metal or polymer lift off or do not develop.

Example: `RDL1.A: {check: area, layer: RDL1, min: 25}`.
"""

from __future__ import annotations

import shapely

from pkgdrc.checks.common import LAYERS
from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations

PARAMS = {"layer": LAYERS, "min": Param("area", "minimum area in um2")}


def limit(p: dict) -> float:
    return p["min"]


def run(layers, layer: str, p: dict):
    merged = layers.merged(layer)
    areas = shapely.area(merged)
    min_dbu2 = p["min"] / layers.grid.dbu_um**2
    bad = areas < min_dbu2 * (1 - 1e-12)
    return [Violations.polygons(merged[bad], areas[bad], "area", "area below minimum")]
