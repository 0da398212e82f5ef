"""Ball and bump arrays: centre-to-centre pitch, ball size, and clearance to the edge of an outline.

What it checks, on the merged layer (one shape per ball or bump):
1. Pitch: the centre of a shape is its centroid. Two shapes whose centres are closer
   than `pitch` are one edge marker (centre to centre), value = their distance. A
   distance exactly `pitch` passes; a depopulated array (missing balls) is fine.
   The marker is the segment between the two centres, from the centre with the smaller x
   (then the smaller y), deliberately: pitch is a
   centre-to-centre quantity, the segment names both balls and has the measured length,
   and an edge is a first-class marker in KLayout's marker browser (lyrdb) and in the
   JSON and HTML reports. Its bounding box has zero height (or width) for balls in one
   row (column); the outlines' own gap, if that is the concern, is a `space` rule.
2. Size, when `min_size` or `max_size` is given: the size of a shape is its bounding-box
   extent in x and y (the diameter of a round ball). A shape whose smaller extent is
   below `min_size`, or whose larger extent is above `max_size`, is one polygon marker,
   value = that extent.
3. Edge clearance, when `of` is given: each shape must lie inside one shape of `of`
   (the substrate or package outline) at least `clearance` from its edge, measured
   Euclidean from the ball's outline. A shape too close is one polygon marker with the
   distance as value; a shape not inside `of` at all is one marker without a value.
No KLayout single equivalent: pitch is a `space` check between ball centres, size is
`with_bbox_width/height`, clearance is `inside` with a sized outline.

Why it matters: JEDEC ball-grid arrays (JEP95/MO-275 pitches of 0.4, 0.5, 0.65, 0.8,
1.0 mm) need every ball at or beyond pitch, a diameter near 0.6 x pitch so neighbours
do not bridge at reflow, and a margin from the package edge for singulation.

Example: `BGA.1: {check: pitch, layer: BALL, pitch: 500, min_size: 280, max_size: 320, of: PKG, clearance: 200}`.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS, limits
from pkgdrc.checks.covers import margins
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations
from pkgdrc.units import EPS_DBU

PARAMS = {
    "layer": LAYERS,
    "pitch": Param("distance", "minimum centre-to-centre distance in um"),
    "min_size": Param("distance", "minimum ball size (bounding-box extent) in um", required=False, default=0.0),
    "max_size": Param(
        "distance", "maximum ball size (bounding-box extent) in um; 0: not checked", required=False, default=0.0
    ),
    "of": Param("layer", "the outline the array must stay inside (substrate, package)", required=False),
    "clearance": Param(
        "distance", "minimum distance from each ball to the edge of `of`, in um", required=False, default=0.0
    ),
}


def validate(p: dict) -> str | None:
    if p["max_size"] and p["max_size"] < p["min_size"]:
        return f"max_size {p['max_size']:g} is below min_size {p['min_size']:g}"
    if p["clearance"] and p["of"] is None:
        return "clearance needs `of`, the outline it is measured to"
    return None


def limit(p: dict):
    return limits(p, "pitch", "min_size", "max_size", "clearance")


def _pitch(balls: np.ndarray, pitch: float, message: str) -> Violations:
    centres = shapely.centroid(balls)
    i, j = shapely.STRtree(centres).query(centres, predicate="dwithin", distance=pitch)
    keep = i < j
    i, j = i[keep], j[keep]
    c = shapely.get_coordinates(centres)
    dist = np.hypot(*(c[i] - c[j]).T)
    close = dist < pitch - EPS_DBU
    first, second = c[i[close]], c[j[close]]
    # From the centre with the smaller x (then y), whatever order the shapes come in; compared
    # rounded, so that a centre computed in a cell and moved compares as computed in place.
    kf, ks = np.round(first, 6), np.round(second, 6)
    swap = ((kf[:, 0] > ks[:, 0]) | ((kf[:, 0] == ks[:, 0]) & (kf[:, 1] > ks[:, 1])))[:, None]
    segments = np.stack([np.where(swap, second, first), np.where(swap, first, second)], axis=1)
    return Violations("edge", segments.reshape(-1, 2, 2), dist[close], "length", message)


def run(layers, layer: str, p: dict):
    g = layers.grid
    balls = layers.merged(layer)
    if len(balls) == 0:
        return []
    out = [_pitch(balls, g.to_dbu(p["pitch"]), f"centres closer than the {p['pitch']:g} um pitch")]
    b = shapely.bounds(balls)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    small, large = np.minimum(w, h), np.maximum(w, h)
    too_small = small < g.to_dbu(p["min_size"]) - EPS_DBU
    out.append(Violations.polygons(balls[too_small], small[too_small], "length", f"smaller than {p['min_size']:g} um"))
    if p["max_size"]:
        too_large = large > g.to_dbu(p["max_size"]) + EPS_DBU
        out.append(
            Violations.polygons(balls[too_large], large[too_large], "length", f"larger than {p['max_size']:g} um")
        )
    if p["of"] is not None:
        i_in, _, edge = margins(balls, layers.merged(p["of"]))
        inside = np.zeros(len(balls), bool)
        inside[i_in] = True
        near = edge < g.to_dbu(p["clearance"]) - EPS_DBU
        out.append(
            Violations.polygons(
                balls[i_in[near]], edge[near], "length", f"closer than {p['clearance']:g} um to the edge of {p['of']}"
            )
        )
        out.append(Violations.polygons(balls[~inside], messages=f"not inside {p['of']}"))
    return out


KIND = CheckKind(
    "pitch", __doc__, PARAMS, run, limit, validate=validate, local=True, example={"layer": "B", "pitch": 3.0}
)
