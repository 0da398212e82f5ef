"""Polygon arrays: explode to simple parts, snap to the grid, merge overlapping clusters."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

POLYGON = 3  # shapely type id

EMPTY = np.empty(0, dtype=object)


def polygon_parts(geoms: np.ndarray) -> np.ndarray:
    """The non-empty polygons inside `geoms` (multi-parts and collections exploded)."""
    if len(geoms) == 0:
        return EMPTY
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    # Collections may nest (GeometryCollection of MultiPolygon): explode twice.
    parts = shapely.get_parts(parts)
    keep = (shapely.get_type_id(parts) == POLYGON) & ~shapely.is_empty(parts)
    parts = parts[keep]
    return parts[shapely.area(parts) > 0]


def clean(polys: np.ndarray) -> np.ndarray:
    """Drop collinear and repeated vertices so one straight side is one edge."""
    if len(polys) == 0:
        return EMPTY
    return polygon_parts(shapely.simplify(polys, 0.0, preserve_topology=True))


def clusters(polys: np.ndarray, predicate: str = "intersects") -> np.ndarray:
    """Label of the connected cluster of each polygon (shapes that touch or overlap)."""
    n = len(polys)
    tree = shapely.STRtree(polys)
    i, j = tree.query(polys, predicate=predicate)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def merge(polys: np.ndarray) -> np.ndarray:
    """Merged polygons: overlapping or touching shapes become one (KLayout's merged semantics).

    Only clusters of interacting shapes are unioned (STRtree pairs, connected components,
    then one union per cluster on the integer grid); isolated shapes pass through.
    Shapes that touch only at a corner come out as separate polygons.
    """
    polys = polygon_parts(polys)
    if len(polys) == 0:
        return EMPTY
    labels = clusters(polys)
    counts = np.bincount(labels)
    single = counts[labels] == 1
    out = [polys[single]]
    rest = np.flatnonzero(~single)
    if len(rest):
        order = rest[np.argsort(labels[rest], kind="stable")]
        bounds = np.flatnonzero(np.diff(labels[order])) + 1
        # One union per cluster of interacting shapes, never per shape.
        unions = [shapely.union_all(polys[group], grid_size=1.0) for group in np.split(order, bounds)]
        out.append(polygon_parts(np.array(unions, dtype=object)))
    return clean(np.concatenate(out))
