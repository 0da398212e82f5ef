"""Boolean and sizing operations on merged polygon arrays (derived layers), on the integer grid.

Inputs are merged polygon arrays in dbu (`LayerSet.merged`, or `merge` of anything
else): they are trusted, not merged again. Outputs are exact overlays rounded to the
grid (`on_grid`) as KLayout's are; `sized` returns merged shapes, the others do not
(`boolean_or` is a concatenation; pieces of `boolean_and`/`boolean_not` may touch).
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.geometry.polygons import EMPTY, merge, on_grid, polygon_parts, prepare_busy


def _grouped_other(a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each polygon of a in the pairs (ia, ib): (index into a, multipolygon of the b's it meets)."""
    order = np.lexsort((ib, ia))
    ia, ib = ia[order], ib[order]
    hit, group = np.unique(ia, return_inverse=True)
    return hit, shapely.multipolygons(b[ib], indices=group)


def boolean_or(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([a, b]) if len(a) + len(b) else EMPTY


def boolean_and(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a AND b, for merged a and b."""
    if len(a) == 0 or len(b) == 0:
        return EMPTY
    ia, ib = shapely.STRtree(b).query(a, predicate="intersects")
    return on_grid(shapely.intersection(a[ia], b[ib]), lambda k: [a[ia[k]], b[ib[k]]])


def boolean_not(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a NOT b, for merged a and b: shapes of a meeting no b pass through, shapes within one
    b are gone, only the rest is cut (one GEOS difference per cut shape)."""
    if len(a) == 0 or len(b) == 0:
        return a
    ia, ib = shapely.STRtree(b).query(a)
    # Most pairs are a via within its pad: `within` first, `intersects` only for the others;
    # a shape of b met by many of a (a plane) is prepared.
    fresh = prepare_busy(b, ib)
    inside = shapely.contains(b[ib], a[ia])
    meet = inside.copy()
    meet[~inside] = shapely.intersects(b[ib[~inside]], a[ia[~inside]])
    shapely.destroy_prepared(fresh)
    ia, ib, inside = ia[meet], ib[meet], inside[meet]
    if len(ia) == 0:
        return a
    touched = np.zeros(len(a), bool)
    touched[ia] = True
    gone = np.zeros(len(a), bool)
    gone[ia[inside]] = True
    cut_pair = ~gone[ia]
    hit, others = _grouped_other(a, b, ia[cut_pair], ib[cut_pair])
    cut = on_grid(shapely.difference(a[hit], others), lambda k: [a[hit[k]], others[k]]) if len(hit) else EMPTY
    return np.concatenate([a[~touched], cut])


def boolean_xor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a XOR b, for merged a and b."""
    return np.concatenate([boolean_not(a, b), boolean_not(b, a)])


def sized(a: np.ndarray, d: float) -> np.ndarray:
    """Merged shapes of merged `a` grown (d > 0) or shrunk (d < 0) by d dbu, mitred corners
    (rectangles stay rectangles)."""
    if len(a) == 0 or d == 0:
        return a
    grown = shapely.buffer(a, d, join_style="mitre", mitre_limit=2.0)
    return merge(polygon_parts(shapely.set_precision(grown, 1.0)))
