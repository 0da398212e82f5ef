"""Keep-out: each shape of `layer` stays at least `min` from every shape of `other`, overlap included.

What it checks, on merged layers: the Euclidean distance between each shape of `layer`
and each shape of `other` (0 when they touch or overlap). Each `layer` shape closer
than `min` to some `other` shape is one polygon marker (the `layer` shape), value = its
smallest distance to `other`. A distance exactly `min` passes.
Unlike `separation` (outside-facing edge pairs only), a shape overlapping or lying
inside `other` is a violation here, with value 0. KLayout's nearest is
`layer.interacting(other.sized(min))` with a round sizing.

Why it matters: passive components on a carrier must stay clear of the die and the heat
sink footprint (assembly, underfill flow, eddy-current losses of inductors over
silicon); everything in a unit must stay clear of the dicing lanes, or the saw cuts it.

Example: `KO.1: {check: keepout, layer: PASSIVE, other: DIE, min: 200}`.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations
from pkgdrc.units import EPS_DBU

PARAMS = {
    "layer": LAYERS,
    "other": Param("layer", "the layer to keep away from"),
    "min": Param("distance", "minimum distance in um (overlap is distance 0)"),
}


def limit(p: dict) -> float:
    return p["min"]


def run(layers, layer: str, p: dict):
    a, b = layers.merged(layer), layers.merged(p["other"])
    d = layers.grid.to_dbu(p["min"])
    if len(a) == 0 or len(b) == 0 or d <= 0:
        return []
    ia, ib = shapely.STRtree(b).query(a, predicate="dwithin", distance=d)
    dist = shapely.distance(a[ia], b[ib])
    near = dist < d - EPS_DBU
    nearest = np.full(len(a), np.inf)
    np.minimum.at(nearest, ia[near], dist[near])
    bad = np.isfinite(nearest)
    return [Violations.polygons(a[bad], nearest[bad], "length", f"closer than {p['min']:g} um to {p['other']}")]


KIND = CheckKind("keepout", __doc__, PARAMS, run, limit, local=True, example={"layer": "A", "other": "C", "min": 1.0})
