"""Helpers shared by the package checks: how much of each shape another layer covers, sizes, pairs.

All in database units on merged layers; vectorized over shapes (STRtree pairs, bincount).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely

from pkgdrc.geometry.pairs import EdgePairs
from pkgdrc.geometry.polygons import on_grid
from pkgdrc.markers import Violations
from pkgdrc.units import EPS_DBU, Grid


def first_layer(p: dict) -> str:
    """The first layer a rule names: where once-per-rule markers are reported."""
    return p["layer"][0] if isinstance(p["layer"], list) else p["layer"]


def on_grid_each(geoms: np.ndarray, sources: Callable[[int], list]) -> np.ndarray:
    """Overlay results (exact, GEOS) rounded to the grid one by one, as `geometry.polygons.on_grid`
    rounds (new vertices to the nearest grid point, ties towards -infinity; not GEOS' snap
    rounding, which bends 45-degree edges): aligned with `geoms`, each a MultiPolygon of its
    polygon parts. A result whose vertices are all whole already (most) is kept as it is;
    `sources(k)`: the input polygons result k was made of."""
    out = np.array(geoms, dtype=object)
    coords, owner = shapely.get_coordinates(out, return_index=True)
    for k in np.unique(owner[(coords != np.round(coords)).any(axis=1)]).tolist():
        out[k] = shapely.multipolygons(on_grid(out[k : k + 1], lambda _, k=k: sources(k)))
    return out


def keep_pairs(pairs: EdgePairs, keep: np.ndarray) -> EdgePairs:
    """The edge pairs where `keep` (a mask over them) is true."""
    return EdgePairs(pairs.pairs[keep], pairs.distance[keep], pairs.ia[keep], pairs.ib[keep])


def covered_area(inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """Area of each `inner` shape covered by `outer` (merged, so covers never overlap)."""
    out = np.zeros(len(inner))
    if len(inner) and len(outer):
        ia, ib = shapely.STRtree(outer).query(inner, predicate="intersects")
        # A shape inside one cover is covered whole (its other covers only touch it): the
        # exact boolean runs only on the shapes that are not.
        whole = np.zeros(len(inner), bool)
        whole[ia[covers(outer, inner, ib, ia)]] = True
        out[whole] = shapely.area(inner[whole])
        rest = ~whole[ia]
        ia, ib = ia[rest], ib[rest]
        cut = on_grid_each(shapely.intersection(inner[ia], outer[ib]), lambda k: [inner[ia[k]], outer[ib[k]]])
        np.add.at(out, ia, shapely.area(cut))
    return out


def covers(a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Whether a[ia] covers b[ib], pair by pair, with each `a` shape of a pair prepared once."""
    used = np.unique(ia)
    fresh = used[~shapely.is_prepared(a[used])]
    shapely.prepare(a[fresh])
    try:
        return shapely.covers(a[ia], b[ib])
    finally:
        shapely.destroy_prepared(a[fresh])


def landing(inner: np.ndarray, outer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks over `inner`: (not on `outer` at all, partly on it). Touching is not covering."""
    covered = covered_area(inner, outer)
    area = shapely.area(inner)
    return covered <= 0, (covered > 0) & (covered < area * (1 - 1e-9))


def size_violations(polys: np.ndarray, size: tuple[float, float] | None, grid: Grid, what: str) -> Violations:
    """Shapes whose bounding-box width or height lies outside `size` = (lo, hi) um.

    The value is the offending dimension: the smaller one when under `lo`, else the larger.
    """
    if size is None or len(polys) == 0:
        return Violations.polygons(polys[:0])
    b = shapely.bounds(polys)
    small = np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    large = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    lo, hi = grid.to_dbu(size[0]), grid.to_dbu(size[1])
    under, over = small < lo - EPS_DBU, large > hi + EPS_DBU
    bad = under | over
    value = np.where(under, small, large)[bad]
    w, h = grid.length_um(b[bad, 2] - b[bad, 0]), grid.length_um(b[bad, 3] - b[bad, 1])
    want = f"{size[0]:g}" if size[0] == size[1] else f"{size[0]:g}..{size[1]:g}"
    msgs = np.array([f"size: {what} {x:g} x {y:g} um, expected {want} um" for x, y in zip(w, h)], dtype=object)
    return Violations.polygons(polys[bad], value, "length", msgs)
