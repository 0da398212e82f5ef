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


def on_grid(geoms: np.ndarray) -> np.ndarray:
    """Exact overlay results rounded to the grid point by point, as KLayout rounds intersections.

    GEOS' `grid_size=1` snap-rounds instead: a segment passing within half a dbu of a
    vertex is bent through it, which moves a 45-degree edge by up to a dbu. Pointwise
    rounding keeps every input vertex and edge; the rare polygon it makes invalid is
    repaired.
    """
    out = shapely.set_precision(np.asarray(geoms, dtype=object), 1.0, mode="pointwise")
    bad = ~shapely.is_valid(out)
    if bad.any():
        out[bad] = shapely.make_valid(out[bad])
    return polygon_parts(out)


def clean(polys: np.ndarray) -> np.ndarray:
    """Drop repeated and collinear vertices (and zero-width spikes) so one straight side is one edge.

    Exact on the integer grid: a vertex goes when the cross product of its two edges is
    zero (GEOS' simplify with tolerance 0 keeps 45-degree collinear vertices, whose
    float distance to the line is not exactly zero).
    """
    polys = polygon_parts(polys)
    if len(polys) == 0:
        return EMPTY
    rings, ring_owner = shapely.get_rings(polys, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    closing = np.r_[ring[1:] != ring[:-1], True]
    coords, ring = coords[~closing], ring[~closing]
    while len(coords):
        first = np.r_[True, ring[1:] != ring[:-1]]
        last = np.r_[ring[1:] != ring[:-1], True]
        starts = np.flatnonzero(first)
        ends = np.flatnonzero(last)
        k = np.arange(len(coords))
        slot = np.cumsum(first) - 1
        prev = np.where(first, ends[slot], k - 1)
        nxt = np.where(last, starts[slot], k + 1)
        u, v = coords - coords[prev], coords[nxt] - coords
        repeated = np.all(u == 0, axis=1)
        # A repeated vertex goes first (alone): both copies look collinear otherwise.
        keep = ~repeated if repeated.any() else u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0] != 0
        if keep.all():
            break
        coords, ring = coords[keep], ring[keep]
    sizes = np.bincount(ring, minlength=len(rings))
    shells = np.r_[True, ring_owner[1:] != ring_owner[:-1]]
    usable = sizes >= 3
    alive = np.zeros(len(polys), bool)
    alive[ring_owner[shells & usable]] = True
    use = usable & alive[ring_owner]
    keep_pts = use[ring]
    kept_rings = np.flatnonzero(use)
    if len(kept_rings) == 0:
        return EMPTY
    _, ring_ids = np.unique(ring[keep_pts], return_inverse=True)
    new_rings = shapely.linearrings(coords[keep_pts], indices=ring_ids)
    _, poly_ids = np.unique(ring_owner[kept_rings], return_inverse=True)
    return polygon_parts(shapely.polygons(new_rings, indices=poly_ids))


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
    then one exact union per cluster, rounded to the grid: `on_grid`); isolated shapes
    pass through.
    Shapes that touch only at a point come out as separate polygons, each with a vertex
    at the touching point (KLayout keeps them as one polygon touching itself there, so
    its edges end there too); `clusters` groups them again where "one shape" matters.
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
        unions = [shapely.union_all(polys[group]) for group in np.split(order, bounds)]
        out.append(on_grid(np.array(unions, dtype=object)))
    return split_at_touches(clean(np.concatenate(out)))


def split_at_touches(polys: np.ndarray) -> np.ndarray:
    """Insert a vertex wherever a corner of another polygon of the same cluster touches an edge."""
    if len(polys) < 2:
        return polys
    labels = clusters(polys)
    touching = np.bincount(labels)[labels] > 1
    if not touching.any():
        return polys
    coords, idx = shapely.get_coordinates(polys[touching], return_index=True)
    _, group = np.unique(labels[touching], return_inverse=True)
    corners = shapely.multipoints(coords, indices=group[idx])
    out = polys.copy()
    # Only exact touches: grid vertices lie on an edge within float rounding, or not at all.
    out[touching] = shapely.snap(polys[touching], corners[group], 1e-6)
    return out
