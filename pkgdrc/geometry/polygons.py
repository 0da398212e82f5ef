"""Polygon arrays: explode to simple parts, snap to the grid, merge overlapping clusters."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import shapely

from pkgdrc.geometry.graphs import components
from pkgdrc.geometry.union import TIE, ring_coordinates, round_half_down, union_clusters

POLYGON = 3  # shapely type id

EMPTY = np.empty(0, dtype=object)
PREPARE_PARTNERS = 2  # a shape tested against more shapes than this (`intersecting`) is prepared first


def _parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-empty polygons inside `geoms` (multi-parts and collections exploded), and the
    index of the geometry each came from."""
    geoms = np.asarray(geoms, dtype=object)
    index = np.arange(len(geoms))
    if not np.all(shapely.get_type_id(geoms) == POLYGON):  # exploding copies every geometry
        geoms, index = shapely.get_parts(geoms, return_index=True)
        # Collections may nest (GeometryCollection of MultiPolygon): explode twice.
        geoms, sub = shapely.get_parts(geoms, return_index=True)
        index = index[sub]
    keep = (shapely.get_type_id(geoms) == POLYGON) & ~shapely.is_empty(geoms)
    keep[keep] = shapely.area(geoms[keep]) > 0
    return geoms[keep], index[keep]


def polygon_parts(geoms: np.ndarray) -> np.ndarray:
    """The non-empty polygons inside `geoms` (multi-parts and collections exploded)."""
    if len(geoms) == 0:
        return EMPTY
    return _parts(geoms)[0]


def unique_polygons(polys: np.ndarray) -> np.ndarray:
    """`polys` without exact repeats (the same rings, from any start vertex, either way round),
    first occurrences kept in order. Only shapes with equal bounds and vertex counts are compared."""
    if len(polys) < 2:
        return polys
    key = np.column_stack([shapely.bounds(polys), shapely.get_num_coordinates(polys)])
    order = np.lexsort(key.T[::-1])
    same = np.all(key[order][1:] == key[order][:-1], axis=1)
    if not same.any():
        return polys
    cand = np.unique(np.r_[order[1:][same], order[:-1][same]])
    _, first = np.unique(shapely.to_wkb(shapely.normalize(polys[cand])), return_index=True)
    keep = np.ones(len(polys), bool)
    keep[cand] = False
    keep[cand[first]] = True
    return polys[keep]


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
    out = round_half_down(points)
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
    return _on_grid(geoms, sources)[0]


def on_grid_indexed(geoms: np.ndarray, sources=None) -> tuple[np.ndarray, np.ndarray]:
    """`on_grid`, and the index into `geoms` each output polygon came from (a result that is
    empty, a line or a point has none)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return EMPTY, np.empty(0, dtype=np.int64)
    return _on_grid(geoms, sources)


def _on_grid(geoms: np.ndarray, sources) -> tuple[np.ndarray, np.ndarray]:
    """`on_grid`, and the index into `geoms` each output polygon came from."""
    # Polygon parts only (an intersection may also hold lines and points), each with the
    # index of the result it came from.
    parts, made_from = _parts(geoms)
    if len(parts) == 0:
        return EMPTY, np.empty(0, dtype=int)
    coords, part = shapely.get_coordinates(parts, return_index=True)
    near = np.abs(coords - np.floor(coords) - 0.5) < TIE
    rounded = round_half_down(coords)
    tie = np.flatnonzero(near.any(axis=1))
    if len(tie):
        if sources is None:
            rounded[tie] = np.where(near[tie], np.floor(coords[tie]), rounded[tie])
        else:
            rounded[tie] = _exact_crossings(coords[tie], made_from[part[tie]], sources)
    out, index = _valid(shapely.set_coordinates(parts.copy(), rounded))
    return out, made_from[index]


def _valid(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygons made valid where rounding to the grid made them invalid (a part collapsed or
    crossed), and the index each output came from."""
    bad = ~shapely.is_valid(polys)
    if bad.any():
        polys = polys.copy()
        polys[bad] = shapely.make_valid(polys[bad])
    return _parts(polys)


def clean(polys: np.ndarray) -> np.ndarray:
    """Drop repeated and collinear vertices (and zero-width spikes) so one straight side is one edge.

    Exact on the integer grid: a vertex goes when the cross product of its two edges is
    zero (GEOS' simplify with tolerance 0 keeps 45-degree collinear vertices, whose
    float distance to the line is not exactly zero).
    """
    if len(polys) == 0:
        return EMPTY
    return _clean(polys)[0]


def _clean(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`clean`, and the index into `polys` each output polygon came from."""
    polys, source = _parts(polys)
    if len(polys) == 0:
        return EMPTY, np.empty(0, dtype=int)
    dirty = _with_collinear(polys)
    if not dirty.any():
        return polys, source
    if dirty.all():
        out, made_from = _clean_parts(polys)
        return out, source[made_from]
    out, made_from = _clean_parts(polys[dirty])
    same = np.flatnonzero(~dirty)
    at = np.r_[same, np.flatnonzero(dirty)[made_from]]
    by = np.argsort(at, kind="stable")
    return np.concatenate([polys[same], out])[by], source[at[by]]


def _with_collinear(polys: np.ndarray) -> np.ndarray:
    """Which polygons have a repeated vertex or one between two collinear edges (one pass over
    the closed rings' coordinates: most layers have none, and `clean` then changes nothing)."""
    coords, ring, ring_poly = ring_coordinates(polys)
    d = coords[1:] - coords[:-1]
    turn = d[:-1, 0] * d[1:, 1] - d[:-1, 1] * d[1:, 0]  # at vertex i + 1
    rings = np.bincount(ring, minlength=len(ring_poly))
    if (rings < 4).any():  # a degenerate ring: left to the full pass
        return np.ones(len(polys), bool)
    ends = np.cumsum(rings) - 1  # each ring's closing vertex
    starts = ends - rings + 1
    inner = np.ones(len(coords), bool)
    inner[starts] = False
    inner[ends] = False
    bad = np.zeros(len(coords), bool)
    bad[1:-1] = turn == 0
    bad &= inner
    bad[starts] = d[ends - 1, 0] * d[starts, 1] - d[ends - 1, 1] * d[starts, 0] == 0
    dirty = np.zeros(len(polys), bool)
    dirty[ring_poly[ring[bad]]] = True
    return dirty


def _clean_parts(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`clean` of polygons (no multi-parts), and the index into `polys` each output came from."""
    source = np.arange(len(polys))
    coords, ring, ring_owner = ring_coordinates(polys)
    closing = np.r_[ring[1:] != ring[:-1], True]
    coords, ring = coords[~closing], ring[~closing]
    drawn = np.bincount(ring, minlength=len(ring_owner))
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
    sizes = np.bincount(ring, minlength=len(ring_owner))
    changed = np.zeros(len(polys), bool)
    changed[ring_owner[sizes != drawn]] = True
    shells = np.r_[True, ring_owner[1:] != ring_owner[:-1]]
    usable = sizes >= 3
    alive = np.zeros(len(polys), bool)
    alive[ring_owner[shells & usable]] = True
    # Only polygons that lost a vertex are rebuilt; the others are kept as they are.
    use = usable & alive[ring_owner] & changed[ring_owner]
    keep_pts = use[ring]
    kept_rings = np.flatnonzero(use)
    same = np.flatnonzero(~changed)
    if len(kept_rings) == 0:
        return polys[same], source[same]
    _, ring_ids = np.unique(ring[keep_pts], return_inverse=True)
    new_rings = shapely.linearrings(coords[keep_pts], indices=ring_ids)
    made_of, poly_ids = np.unique(ring_owner[kept_rings], return_inverse=True)
    rebuilt, index = _parts(shapely.polygons(new_rings, indices=poly_ids))
    at = np.r_[same, made_of[index]]
    by = np.argsort(at, kind="stable")
    return np.concatenate([polys[same], rebuilt])[by], source[at[by]]


def prepare_busy(geoms: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Prepare the shapes of `geoms` that `used` (indices, one per pair to test) names more than
    `PREPARE_PARTNERS` times and are not prepared yet; returns them (for
    `shapely.destroy_prepared`). A prepared shape tests each partner faster, preparing it costs
    about as much as a few unprepared tests."""
    which, count = np.unique(used, return_counts=True)
    busy = geoms[which[count > PREPARE_PARTNERS]]
    fresh = busy[~shapely.is_prepared(busy)]
    shapely.prepare(fresh)
    return fresh


def intersecting(a: np.ndarray, b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (ia, ib) of shapes of `a` and `b` that intersect (touch or overlap); with
    `b` None, the pairs i < j of `a` with itself.

    Pairs of overlapping bounding boxes, each tested once with the shape of more vertices
    prepared when it meets more than `PREPARE_PARTNERS` boxes: a plane with holes is prepared
    once, not met unprepared by every fill square in its box (an STRtree predicate query
    prepares the query side only); preparing a pad met by one trace costs more than it saves.
    """
    ia, ib = shapely.STRtree(a if b is None else b).query(a)
    if b is None:
        once = ia < ib
        ia, ib, b = ia[once], ib[once], a
    first = shapely.get_num_coordinates(a)[ia] >= shapely.get_num_coordinates(b)[ib]
    fresh = np.r_[prepare_busy(a, ia[first]), prepare_busy(b, ib[~first])]
    meet = np.empty(len(ia), bool)
    meet[first] = shapely.intersects(a[ia[first]], b[ib[first]])
    meet[~first] = shapely.intersects(b[ib[~first]], a[ia[~first]])
    shapely.destroy_prepared(fresh)
    return ia[meet], ib[meet]


def clusters(polys: np.ndarray) -> np.ndarray:
    """Label of the connected cluster of each polygon (shapes that touch or overlap)."""
    i, j = intersecting(polys)
    return components(len(polys), i, j)[1]


def merge(polys: np.ndarray) -> np.ndarray:
    """Merged polygons: overlapping or touching shapes become one (KLayout's merged semantics).

    Exact repeats go first (`unique_polygons`: a shape drawn many times at one place is
    one shape), then only clusters of interacting shapes are unioned (STRtree pairs,
    connected components, then a scanline union of batches of clusters, crossings rounded
    to the grid as `on_grid` rounds them: `union.union_clusters`); isolated shapes pass
    through.
    Shapes that touch only at a point come out as separate polygons, each with a vertex
    at the touching point (KLayout keeps them as one polygon touching itself there, so
    its edges end there too); `clusters` groups them again where "one shape" matters.
    """
    polys = unique_polygons(polygon_parts(polys))
    if len(polys) == 0:
        return EMPTY
    labels = clusters(polys)
    single = np.bincount(labels)[labels] == 1
    out, out_labels = [polys[single]], [labels[single]]
    rest = np.flatnonzero(~single)
    if len(rest):
        united, united_labels, unsolved = union_clusters(polys[rest], labels[rest])
        united, made_from = _valid(united)
        out.append(united)
        out_labels.append(united_labels[made_from])
        if len(unsolved):
            united, made_from = _geos_union(polys, labels, unsolved)
            out.append(united)
            out_labels.append(unsolved[made_from])
    polys, made_from = _clean(np.concatenate(out))
    return split_at_touches(polys, np.concatenate(out_labels)[made_from])


def _geos_union(polys: np.ndarray, labels: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The clusters `which` unioned by GEOS, one union per cluster, rounded by `on_grid`; with
    the index into `which` of each output polygon."""
    members = np.flatnonzero(np.isin(labels, which))
    members = members[np.argsort(labels[members], kind="stable")]
    groups = np.split(members, np.flatnonzero(np.diff(labels[members])) + 1)
    unions = np.array([shapely.union_all(polys[g]) for g in groups], dtype=object)
    return _on_grid(unions, lambda k: polys[groups[k]])


def split_at_touches(polys: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Insert a vertex wherever a corner of another polygon of the same cluster touches an edge.

    `labels`: the cluster of each polygon when known (`clusters` otherwise).
    """
    if len(polys) < 2:
        return polys
    if labels is None:
        labels = clusters(polys)
    touching = np.bincount(labels)[labels] > 1
    if not touching.any():
        return polys
    coords, idx = shapely.get_coordinates(polys[touching], return_index=True)
    _, group = np.unique(labels[touching], return_inverse=True)
    by_group = np.argsort(group[idx], kind="stable")
    corners = shapely.multipoints(coords[by_group], indices=group[idx][by_group])
    out = polys.copy()
    # Only exact touches: grid vertices lie on an edge within float rounding, or not at all.
    out[touching] = shapely.snap(polys[touching], corners[group], 1e-6)
    return out
