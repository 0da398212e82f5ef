"""Polygon arrays: explode to simple parts, snap to the grid, merge overlapping clusters."""

from __future__ import annotations

import math
from fractions import Fraction

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


TIE = 1e-6  # a float coordinate this close to x.5 is decided exactly


def _round(c: np.ndarray) -> np.ndarray:
    """To the nearest whole number, exact ties towards -infinity (KLayout's `div_exact`)."""
    return np.ceil(c - 0.5)


def _source_segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, owner) of every ring segment of `geoms`, owner indexing `geoms`."""
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    pts, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    return pts[:-1][same], pts[1:][same], part_owner[ring_part[ring[:-1][same]]]


def _exact_crossings(points: np.ndarray, owner: np.ndarray, sources) -> np.ndarray:
    """Each point (a crossing, near a half-grid tie) rounded exactly.

    The crossing of two segments with integer ends is rational: it is recomputed with
    Python integers from two non-parallel source segments through the point (those of
    `sources(k)`, the polygons output k was made of) and rounded as KLayout's
    `Edge::intersect_point` rounds (nearest, ties towards -infinity). Only near-tie
    vertices come here, so the loop is over a handful of points.
    """
    out = _round(points)
    keys, which = np.unique(owner, return_inverse=True)
    made_of = [np.asarray(sources(k), dtype=object).ravel() for k in keys]
    geoms = np.concatenate(made_of)
    geom_key = np.repeat(np.arange(len(keys)), [len(m) for m in made_of])
    p, q, g = _source_segments(geoms)
    seg_key = geom_key[g]
    tree = shapely.STRtree(shapely.linestrings(np.stack([p, q], axis=1)))
    ipt, iseg = tree.query(shapely.points(points), predicate="dwithin", distance=1e-3)
    same = seg_key[iseg] == which[ipt]
    ipt, iseg = ipt[same], iseg[same]
    for k in np.unique(ipt):
        segs = iseg[ipt == k]
        a = [tuple(int(v) for v in p[s]) for s in segs]
        b = [tuple(int(v) for v in q[s]) for s in segs]
        best = None
        for i in range(len(segs)):
            for j in range(i + 1, len(segs)):
                (x1, y1), (x2, y2), (x3, y3), (x4, y4) = a[i], b[i], a[j], b[j]
                dx1, dy1, dx2, dy2 = x2 - x1, y2 - y1, x4 - x3, y4 - y3
                den = dx1 * dy2 - dy1 * dx2
                if den == 0:
                    continue
                num = (x3 - x1) * dy2 - (y3 - y1) * dx2
                x, y = Fraction(x1) + Fraction(num * dx1, den), Fraction(y1) + Fraction(num * dy1, den)
                miss = abs(float(x) - points[k, 0]) + abs(float(y) - points[k, 1])
                if best is None or miss < best[0]:
                    best = (miss, x, y)
        if best is not None and best[0] < 1e-3:
            out[k] = [math.ceil(best[1] - Fraction(1, 2)), math.ceil(best[2] - Fraction(1, 2))]
    return out


def on_grid(geoms: np.ndarray, sources=None) -> np.ndarray:
    """Exact overlay results rounded to the grid point by point, as KLayout rounds intersections.

    Every new vertex (a crossing of two input edges) goes to the nearest grid point; one
    exactly half-way (in x, y or both) goes towards -infinity, as KLayout's edge
    processor rounds (`Edge::intersect_point`, `div_exact` in dbEdge.cc). GEOS computes
    crossings in floating point, so a tie may arrive as 4886.4999999 or 4886.5000001: the
    few vertices within `TIE` of one are recomputed exactly from the input edges through
    them (`sources(k)`: the polygons output `k` was made of; without it they are taken
    as ties). Input vertices are whole numbers and stay.

    GEOS' `grid_size=1` snap-rounds instead: a segment passing within half a dbu of a
    vertex is bent through it, which moves a 45-degree edge by up to a dbu. Pointwise
    rounding keeps every input vertex and edge; the rare polygon it makes invalid is
    repaired.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return EMPTY
    # Polygon parts only (an intersection may also hold lines and points), each with the
    # index of the result it came from.
    parts, made_from = shapely.get_parts(geoms, return_index=True)
    sub, sub_from = shapely.get_parts(parts, return_index=True)
    parts, made_from = sub, made_from[sub_from]
    keep = (shapely.get_type_id(parts) == POLYGON) & ~shapely.is_empty(parts)
    parts, made_from = parts[keep], made_from[keep]
    if len(parts) == 0:
        return EMPTY
    coords, part = shapely.get_coordinates(parts, return_index=True)
    near = np.abs(coords - np.floor(coords) - 0.5) < TIE
    rounded = _round(coords)
    tie = np.flatnonzero(near.any(axis=1))
    if len(tie):
        if sources is None:
            rounded[tie] = np.where(near[tie], np.floor(coords[tie]), rounded[tie])
        else:
            rounded[tie] = _exact_crossings(coords[tie], made_from[part[tie]], sources)
    out = shapely.set_coordinates(parts.copy(), rounded)
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
        groups = np.split(order, bounds)
        unions = [shapely.union_all(polys[group]) for group in groups]
        out.append(on_grid(np.array(unions, dtype=object), lambda k: polys[groups[k]]))
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
