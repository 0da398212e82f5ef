"""Covered with margin: each shape of `layer` lies inside one shape of `by`, at least `margin` from its edge.

What it checks, on merged layers, shape by shape:
1. Each shape of `layer` must lie within a single merged shape of `by` (touching its
   edge from inside counts as within). A shape that is not is one polygon marker (the
   whole shape, no value, message "not inside one BY shape"): partly covered, uncovered,
   or spread over two `by` shapes.
2. For a covered shape, the margin is the Euclidean distance from the shape to the
   boundary of its cover (holes included). A margin less than `margin` is one polygon
   marker (the shape) with the margin as value. Exactly `margin` passes.
3. With `min_area_ratio` > 0: each `by` shape that covers some `layer` shapes must have
   at least that many times their total area; otherwise the `by` shape is the marker
   (reported under the rule's `layer`, its message naming `by`), with the ratio as value.
Unlike `enclosure` (edge pairs of the merged layers) this judges whole shapes and reports
one marker per shape with its measured margin; KLayout's nearest is
`layer.not_inside(by.sized(-margin))`, which gives the same shapes without the margin.

Why it matters: a heat sink must overhang every die it cools by a margin (thermal
spreading, assembly tolerance), with more area than the chips; each stiffener opening
must surround its chip with clearance so the stiffener never presses on it.

Example: `HS.1: {check: covers, layer: DIE, by: HEATSINK, margin: 300, min_area_ratio: 1.5}`.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS, limits
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations
from pkgdrc.units import EPS_DBU

PARAMS = {
    "layer": LAYERS,
    "by": Param("layer", "the covering layer (heat sink, stiffener opening)"),
    "margin": Param(
        "distance",
        "minimum distance from each covered shape to the edge of its cover, in um",
        required=False,
        default=0.0,
    ),
    "min_area_ratio": Param(
        "number",
        "minimum area of a cover over the total area of the shapes it covers (0: not checked)",
        required=False,
        default=0.0,
    ),
}


def limit(p: dict):
    return limits(p, "margin", "min_area_ratio")


def margins(inner: np.ndarray, cover: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i_inner, i_cover, margin) for each inner shape within a cover shape; margin = distance to its boundary."""
    if len(inner) == 0 or len(cover) == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e, np.empty(0)
    i_in, i_cov = shapely.STRtree(cover).query(inner, predicate="within")
    return i_in, i_cov, shapely.distance(inner[i_in], shapely.boundary(cover[i_cov]))


def run(layers, layer: str, p: dict):
    inner, cover = layers.merged(layer), layers.merged(p["by"])
    i_in, i_cov, margin = margins(inner, cover)
    covered = np.zeros(len(inner), bool)
    covered[i_in] = True
    out = [Violations.polygons(inner[~covered], messages=f"not inside one {p['by']} shape")]
    thin = margin < layers.grid.to_dbu(p["margin"]) - EPS_DBU
    out.append(
        Violations.polygons(inner[i_in[thin]], margin[thin], "length", f"margin to {p['by']} below {p['margin']:g} um")
    )
    if p["min_area_ratio"] > 0 and len(i_in):
        held = np.bincount(i_cov, weights=shapely.area(inner[i_in]), minlength=len(cover))
        used = np.flatnonzero(held > 0)
        ratio = shapely.area(cover[used]) / held[used]
        small = ratio < p["min_area_ratio"] - 1e-9
        out.append(
            Violations.polygons(
                cover[used[small]],
                ratio[small],
                "none",
                f"{p['by']} area under {p['min_area_ratio']:g} x the {layer} it covers",
            )
        )
    return out


KIND = CheckKind("covers", __doc__, PARAMS, run, limit, local=True, example={"layer": "B", "by": "A", "margin": 0.5})
