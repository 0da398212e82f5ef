"""Boolean and sizing operations on polygon arrays (derived layers), on the integer grid.

Inputs and outputs are arrays of polygons in dbu; outputs are exact overlays rounded to
the grid (`on_grid`) as KLayout's are, and not merged (callers merge when they need to).
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.geometry.polygons import EMPTY, merge, on_grid, polygon_parts


def _grouped_other(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each polygon of a that meets b: (index into a, multipolygon of the b's it meets)."""
    tree = shapely.STRtree(b)
    ia, ib = tree.query(a, predicate="intersects")
    if len(ia) == 0:
        return np.empty(0, dtype=np.int64), EMPTY
    order = np.lexsort((ib, ia))
    ia, ib = ia[order], ib[order]
    hit, group = np.unique(ia, return_inverse=True)
    return hit, shapely.multipolygons(b[ib], indices=group)


def boolean_or(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([a, b]) if len(a) + len(b) else EMPTY


def boolean_and(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = merge(a), merge(b)
    if len(a) == 0 or len(b) == 0:
        return EMPTY
    ia, ib = shapely.STRtree(b).query(a, predicate="intersects")
    return on_grid(shapely.intersection(a[ia], b[ib]))


def boolean_not(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = merge(a)
    if len(a) == 0 or len(b) == 0:
        return a
    b = merge(b)
    hit, others = _grouped_other(a, b)
    if len(hit) == 0:
        return a
    cut = on_grid(shapely.difference(a[hit], others))
    untouched = np.ones(len(a), bool)
    untouched[hit] = False
    return np.concatenate([a[untouched], cut])


def boolean_xor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([boolean_not(a, b), boolean_not(b, a)])


def sized(a: np.ndarray, d: float) -> np.ndarray:
    """Grow (d > 0) or shrink (d < 0) merged shapes by d dbu, mitred corners (rectangles stay rectangles)."""
    a = merge(a)
    if len(a) == 0 or d == 0:
        return a
    grown = shapely.buffer(a, d, join_style="mitre", mitre_limit=2.0)
    return polygon_parts(shapely.set_precision(grown, 1.0))
