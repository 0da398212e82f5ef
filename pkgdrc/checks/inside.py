"""Inside with clearance: every part of `layer` must lie within `of` shrunk by `clearance`.

What it checks: `of` is merged and shrunk by `clearance` (mitred corners, so a
rectangle stays a rectangle); each part of the merged `layer` outside that region is
one polygon marker (no value). Only the shapes of `layer` not within the region are
merged for it: the others add nothing outside the region. A shape exactly `clearance` from the edge of `of` passes.
Equivalent to KLayout `layer.not_inside(of.sized(-clearance))` for whole shapes, but
pkgdrc marks only the offending part (`layer - of.sized(-clearance)`).

Why it matters: fan-out metal must stay clear of the saw street; dies must sit inside
the package outline.

Example: `FO.1: {check: inside, layer: [RDL1, RDL2, UBM, PO], of: PKG, clearance: 50}`.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.geometry.booleans import boolean_not, sized
from pkgdrc.geometry.polygons import merge, prepare_busy
from pkgdrc.markers import Violations

PARAMS = {
    "layer": LAYERS,
    "of": Param("layer", "the containing layer, e.g. the package outline"),
    "clearance": Param("distance", "distance to keep from the edge of `of`, in um", required=False, default=0.0),
}


def cover_layers(p: dict) -> list[str]:
    """A placement deep inside `of` is inside it, whatever the rest of `of` looks like."""
    return [p["of"]]


def limit(p: dict) -> float:
    return p["clearance"]


def run(layers, layer: str, p: dict):
    region = sized(layers.merged(p["of"]), -layers.grid.to_dbu(p["clearance"]))
    outside = boolean_not(_merged_outside(layers, layer, region), region)
    return [Violations.polygons(outside, messages=f"outside {p['of']} less {p['clearance']:g} um clearance")]


def _merged_outside(layers, layer: str, region: np.ndarray) -> np.ndarray:
    """The shapes of `layer` (as drawn or derived) not within one `region` polygon, merged.

    Minus the region, they cover what the whole merged layer does (a shape within the
    region adds nothing outside it), and a layout inside its outline has few of them: the
    layer is not merged as a whole for this check.
    """
    if len(region) == 0:
        return layers.merged(layer)
    shapes = layers.polygons(layer)
    ishape, iregion = shapely.STRtree(region).query(shapes)
    fresh = prepare_busy(region, iregion)  # an outline holds many shapes: prepared once
    within = ishape[shapely.contains(region[iregion], shapes[ishape])]
    shapely.destroy_prepared(fresh)
    rest = np.ones(len(shapes), bool)
    rest[within] = False
    return merge(shapes[rest])


KIND = CheckKind(
    "inside",
    __doc__,
    PARAMS,
    run,
    limit,
    cover_layers=cover_layers,
    local=True,
    example={"layer": "A", "of": "D", "clearance": 1.0},
)
