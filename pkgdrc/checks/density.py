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

How: the window edges cut each outline's bounding box into a grid of cells; the metal
area of every cell is computed once, from the metal's edges cut at the grid lines, and a
window's area is a sum over its cells (prefix sums along rows, then along columns). At most
`MAX_WINDOWS` windows: more (a window far too small for the
outline, a layout in the wrong units) is refused before anything is allocated.

Example: `DEN.RDL1: {check: density, layer: RDL1, outline: PKG, window: 500, step: 250,
min: 0.10, max: 0.85}` flags a 500 um window holding 3% RDL1, value 0.03.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.errors import PkgdrcError
from pkgdrc.geometry.polygons import EMPTY
from pkgdrc.markers import Violations

PARAMS = {
    "layer": LAYERS,
    "outline": Param("layer", "the region windows are placed in, e.g. PKG"),
    "window": Param("distance", "side of the square window in um"),
    "step": Param("distance", "distance between window origins in um"),
    "min": Param("number", "minimum density, a fraction 0..1", required=False, default=0.0),
    "max": Param("number", "maximum density, a fraction 0..1", required=False, default=1.0),
}


MAX_WINDOWS = 10_000_000  # per rule; 10 million windows take about 1 GB
MAX_OVERLAP = 100  # window / step: each point in at most 100 x 100 windows


def validate(p: dict) -> str | None:
    if p["window"] <= 0 or p["step"] <= 0:
        return "window and step must be greater than 0"
    if p["window"] > MAX_OVERLAP * p["step"]:
        return (
            f"window {p['window']:g} um is more than {MAX_OVERLAP} steps ({p['step']:g} um): each point "
            f"would lie in {(p['window'] / p['step']) ** 2:,.0f} windows; expected step >= window / {MAX_OVERLAP}"
        )
    if not 0.0 <= p["min"] <= p["max"] <= 1.0:
        return f"expected 0 <= min <= max <= 1, got min {p['min']:g}, max {p['max']:g}"
    return None


def reach(p: dict) -> float:
    """Nothing beyond the outline shape matters: windows are placed in a whole merged outline
    shape and count only the metal inside them, so shapes apart from it never change them."""
    return 0.0


def limit(p: dict) -> list[float]:
    return [p["min"], p["max"]]


def _count(lo: float, hi: float, window: float, step: float) -> int:
    """How many window origins `_starts` places from lo to hi."""
    if hi - lo < window:
        return 0
    n = int(np.floor((hi - lo - window) / step + 1e-9)) + 1
    return n if lo + step * (n - 1) + window >= hi else n + 1


def _starts(lo: float, hi: float, window: float, step: float) -> np.ndarray:
    """Window origins from lo, stepped, plus one flush with hi when the steps fall short."""
    if hi - lo < window:
        return np.empty(0)
    s = lo + step * np.arange(int(np.floor((hi - lo - window) / step + 1e-9)) + 1)
    return s if s[-1] + window >= hi else np.append(s, hi - window)


def window_count(outline: np.ndarray, window: float, step: float) -> int:
    """How many windows the outline shapes' bounding boxes hold (before any is made)."""
    return sum(
        _count(x0, x1, window, step) * _count(y0, y1, window, step)
        for x0, y0, x1, y1 in shapely.bounds(outline).reshape(-1, 4)
    )


def _pieces(p: np.ndarray, q: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments p -> q cut where they cross the lines x = xs and y = ys: (starts, ends).

    Cut points lie exactly on their line (the other coordinate is interpolated).
    """
    lo, hi = np.minimum(p, q), np.maximum(p, q)
    kx = np.searchsorted(xs, hi[:, 0], "left") - np.searchsorted(xs, lo[:, 0], "right")
    ky = np.searchsorted(ys, hi[:, 1], "left") - np.searchsorted(ys, lo[:, 1], "right")
    kx, ky = np.maximum(kx, 0), np.maximum(ky, 0)

    def cuts(k: np.ndarray, lines: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        seg = np.repeat(np.arange(len(p)), k)
        first = np.searchsorted(lines, lo[seg, axis], "right")
        at = lines[first + np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)]
        t = (at - p[seg, axis]) / (q[seg, axis] - p[seg, axis])
        pt = p[seg] + t[:, None] * (q[seg] - p[seg])
        pt[:, axis] = at
        return seg, t, pt

    sx, tx, px = cuts(kx, xs, 0)
    sy, ty, py = cuts(ky, ys, 1)
    n = np.arange(len(p))
    seg = np.r_[n, sx, sy]
    t = np.r_[np.zeros(len(p)), tx, ty]
    pts = np.concatenate([p, px, py])
    order = np.lexsort((t, seg))
    seg, pts = seg[order], pts[order]
    last = np.r_[seg[1:] != seg[:-1], True]
    ends = np.concatenate([pts[1:], pts[-1:]])
    ends[last] = q[seg[last]]
    return pts, ends


def _cell_areas(metal: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Metal area in each cell of the grid with lines `xs` (columns) and `ys` (rows): (rows, columns).

    Exact coverage from the contours, as a rasteriser's: the area of a shape in a column,
    between heights a and b, is minus the sum over its (counter-clockwise) edges of the
    integral of clamp(y, a, b) - a along x. So every edge is cut at the grid lines; each
    piece adds its trapezoid above its row's bottom line to its cell, and its full width
    times the row height to every cell below it in its column.
    """
    rows, cols = len(ys) - 1, len(xs) - 1
    areas = np.zeros((rows, cols))
    if len(metal) == 0:
        return areas
    rings = shapely.get_rings(shapely.orient_polygons(metal))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    p, q = xy[:-1][same], xy[1:][same]
    slanted = p[:, 0] != q[:, 0]  # vertical edges add nothing
    a, b = _pieces(p[slanted], q[slanted], xs, ys)
    dx = b[:, 0] - a[:, 0]
    mx, my = (a[:, 0] + b[:, 0]) / 2, (a[:, 1] + b[:, 1]) / 2
    col = np.searchsorted(xs, mx, "right") - 1
    row = np.searchsorted(ys, my, "right") - 1  # -1: below the grid, rows: above it
    use = (col >= 0) & (col < cols) & (row >= 0)
    dx, my, col, row = dx[use], my[use], col[use], row[use]
    part = row < rows
    np.add.at(areas, (row[part], col[part]), -dx[part] * (my[part] - ys[row[part]]))
    width = np.zeros((rows + 1, cols))
    np.add.at(width, (row, col), dx)
    below = np.cumsum(width[::-1], axis=0)[::-1][1:]  # widths of the pieces above each row
    return areas - np.diff(ys)[:, None] * below


def _window_sums(
    areas: np.ndarray, xs: np.ndarray, ys: np.ndarray, wx: np.ndarray, wy: np.ndarray, window: float
) -> np.ndarray:
    """Metal area of each window (rows wy, columns wx: origins), summed over its cells.

    Prefix sums along each row, then along each column of window sums: partial sums stay
    within one row or column of the outline, so areas that are multiples of 0.5 dbu^2 add
    up exactly.
    """
    ax, bx = np.searchsorted(xs, wx), np.searchsorted(xs, wx + window)
    ay, by = np.searchsorted(ys, wy), np.searchsorted(ys, wy + window)
    along_x = np.concatenate([np.zeros((len(areas), 1)), np.cumsum(areas, axis=1)], axis=1)
    columns = along_x[:, bx] - along_x[:, ax]
    along_y = np.concatenate([np.zeros((1, len(wx))), np.cumsum(columns, axis=0)], axis=0)
    return along_y[by] - along_y[ay]


def run(layers, layer: str, p: dict):
    w, step = layers.grid.to_dbu(p["window"]), layers.grid.to_dbu(p["step"])
    outline = layers.merged(p["outline"])
    count = window_count(outline, w, step)
    if count > MAX_WINDOWS:
        raise PkgdrcError(
            f"density: {count:,} windows of {p['window']:g} um stepped {p['step']:g} um in outline "
            f"{p['outline']}, more than {MAX_WINDOWS:,}; check the window, the step and the layout's "
            "units"
        )
    metal = layers.merged(layer)
    tree, outlines = shapely.STRtree(metal), shapely.STRtree(outline)
    box_parts, density_parts = [EMPTY], [np.empty(0)]
    for shape, (x0, y0, x1, y1) in zip(outline, shapely.bounds(outline).reshape(-1, 4)):
        wx, wy = _starts(x0, x1, w, step), _starts(y0, y1, w, step)
        if len(wx) == 0 or len(wy) == 0:
            continue
        xs, ys = np.unique(np.r_[wx, wx + w]), np.unique(np.r_[wy, wy + w])
        near = metal[tree.query(shapely.box(x0, y0, x1, y1))]
        covered = _window_sums(_cell_areas(near, xs, ys), xs, ys, wx, wy, w).ravel()
        gx, gy = np.meshgrid(wx, wy)
        gx, gy = gx.ravel(), gy.ravel()
        if shapely.area(shape) < (x1 - x0) * (y1 - y0):  # not a rectangle: windows in an outline shape only
            inside = np.unique(outlines.query(shapely.box(gx, gy, gx + w, gy + w), predicate="within")[0])
            gx, gy, covered = gx[inside], gy[inside], covered[inside]
        d = covered / (w * w)
        bad = (d < p["min"] - 1e-12) | (d > p["max"] + 1e-12)
        box_parts.append(shapely.box(gx[bad], gy[bad], gx[bad] + w, gy[bad] + w))
        density_parts.append(d[bad])
    boxes, density = np.concatenate(box_parts), np.concatenate(density_parts)
    low = density < p["min"] - 1e-12
    msgs = np.where(low, f"density below min {p['min']:g}", f"density above max {p['max']:g}").astype(object)
    return [Violations.polygons(boxes, density, "none", msgs)]


KIND = CheckKind(
    "density",
    __doc__,
    PARAMS,
    run,
    limit,
    validate=validate,
    reach=reach,
    local=True,
    example={"layer": "A", "outline": "D", "window": 10.0, "step": 5.0, "min": 0.1},
)
