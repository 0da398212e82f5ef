"""Metal density: the share of each `window` x `window` square covered by `layer` stays within [min, max].

What it checks: windows are squares of side `window` placed on a grid stepped by `step`
from the lower-left corner of each shape of `outline` (e.g. PKG), so that they stay
inside its bounding box; when the extent is not a whole number of steps, one more row
or column is placed flush with the far edge, so every point is in some window. Windows
not wholly inside the outline (non-rectangular outlines) are skipped; an outline
smaller than one window gets none. The density of a window is the area of the merged
`layer` inside it divided by the window's area. Each window with a density below `min`
or above `max` is a polygon marker (the window); the value is its density, rounded to
6 digits. A density exactly at a bound passes. Windows overlap when `step` < `window`,
so one sparse region is usually several markers. Like KLayout's tiled density checks.

Why it matters: copper balance drives warpage of fan-out panels and uniformity of
plating and polishing; too little copper in an area needs dummy fill, too much is a
stress and adhesion risk.

Example: `DEN.RDL1: {check: density, layer: RDL1, outline: PKG, window: 500, step: 250,
min: 0.10, max: 0.85}` flags a 500 um window holding 3% RDL1, value 0.03.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS
from pkgdrc.deck.params import Param
from pkgdrc.geometry.polygons import EMPTY
from pkgdrc.markers import Violations

LOCAL = True  # a window lies in its outline shape and counts only the metal inside it (pkgdrc.cellwise)
PARAMS = {
    "layer": LAYERS,
    "outline": Param("layer", "the region windows are placed in, e.g. PKG"),
    "window": Param("distance", "side of the square window in um"),
    "step": Param("distance", "distance between window origins in um"),
    "min": Param("number", "minimum density, a fraction 0..1", required=False, default=0.0),
    "max": Param("number", "maximum density, a fraction 0..1", required=False, default=1.0),
}


def validate(p: dict) -> str | None:
    if p["window"] <= 0 or p["step"] <= 0:
        return "window and step must be greater than 0"
    if not 0.0 <= p["min"] <= p["max"] <= 1.0:
        return f"expected 0 <= min <= max <= 1, got min {p['min']:g}, max {p['max']:g}"
    return None


def reach(p: dict) -> float:
    """Nothing beyond the outline shape matters: windows are placed in a whole merged outline
    shape and count only the metal inside them, so shapes apart from it never change them."""
    return 0.0


def limit(p: dict) -> list[float]:
    return [p["min"], p["max"]]


def _starts(lo: float, hi: float, window: float, step: float) -> np.ndarray:
    """Window origins from lo, stepped, plus one flush with hi when the steps fall short."""
    if hi - lo < window:
        return np.empty(0)
    s = lo + step * np.arange(int(np.floor((hi - lo - window) / step + 1e-9)) + 1)
    return s if s[-1] + window >= hi else np.append(s, hi - window)


def windows(outline: np.ndarray, window: float, step: float) -> np.ndarray:
    """The windows (shapely boxes, dbu) inside each outline shape."""
    boxes = [EMPTY]
    for x0, y0, x1, y1 in shapely.bounds(outline).reshape(-1, 4):  # one per outline, not per shape
        xs, ys = np.meshgrid(_starts(x0, x1, window, step), _starts(y0, y1, window, step))
        xs, ys = xs.ravel(), ys.ravel()
        boxes.append(shapely.box(xs, ys, xs + window, ys + window))
    boxes = np.concatenate(boxes)
    if len(boxes) == 0:
        return EMPTY
    iw, _ = shapely.STRtree(outline).query(boxes, predicate="within")
    return boxes[np.unique(iw)]


def run(layers, layer: str, p: dict):
    w = layers.grid.to_dbu(p["window"])
    boxes = windows(layers.merged(p["outline"]), w, layers.grid.to_dbu(p["step"]))
    metal = layers.merged(layer)
    covered = np.zeros(len(boxes))
    if len(boxes) and len(metal):
        ib, im = shapely.STRtree(metal).query(boxes, predicate="intersects")
        # Metal wholly inside its window counts whole; only the rest is clipped. No grid
        # snapping: clipping on-grid shapes by on-grid boxes needs none for an area.
        mb, wb = shapely.bounds(metal)[im], shapely.bounds(boxes)[ib]
        whole = np.all(mb[:, :2] >= wb[:, :2], axis=1) & np.all(mb[:, 2:] <= wb[:, 2:], axis=1)
        area = shapely.area(metal)[im]
        cut = ~whole
        area[cut] = shapely.area(shapely.intersection(boxes[ib[cut]], metal[im[cut]]))
        np.add.at(covered, ib, area)
    density = covered / (w * w)
    low, high = density < p["min"] - 1e-12, density > p["max"] + 1e-12
    bad = low | high
    msgs = np.where(low[bad], f"density below min {p['min']:g}", f"density above max {p['max']:g}").astype(object)
    return [Violations.polygons(boxes[bad], density[bad], "none", msgs)]
