"""Edge arrays of polygons, oriented like KLayout's: the interior lies right of each edge."""

from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import shapely

from pkgdrc.geometry.graphs import components
from pkgdrc.geometry.polygons import clean
from pkgdrc.geometry.union import ring_coordinates


def cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise 2-D cross product (exact for grid coordinates below 2**26)."""
    return u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]


def dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise scalar product."""
    return np.einsum("ij,ij->i", u, v)


KEEP_INDEXES = 1  # edge indexes kept alive (`Edges.index`): 2 LineString trees cost the 1M run 0.8 GB more, no faster


@dataclass
class Edges:
    """N directed edges: p1 -> p2, (N, 2) each, with two labels per edge.

    `shape`: the shape the edge bounds. A shape is a group of merged polygons that touch
    at corners: KLayout's merge keeps such a group as one polygon (touching itself at
    the corner), and pkgdrc follows it wherever "the same shape" matters (width,
    shielding). Labels are ids, not indices into the polygon array.
    `polygon`: the index of the merged polygon the edge bounds, into the polygon array
    the edges were made from: what per-polygon arrays (a via's landing, a die's name, a
    net) are indexed with. An edge joined across a touching point (`polygon_edges`)
    carries the polygon it starts in.
    """

    p1: np.ndarray
    p2: np.ndarray
    shape: np.ndarray
    polygon: np.ndarray
    _index: EdgeIndex | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.shape)

    @property
    def direction(self) -> np.ndarray:
        return self.p2 - self.p1

    def segments(self) -> np.ndarray:
        """(N, 2, 2) array of [p1, p2]."""
        return np.stack([self.p1, self.p2], axis=1)

    def lines(self) -> np.ndarray:
        """Shapely LineStrings, one per edge."""
        return shapely.linestrings(self.segments())

    def index(self) -> EdgeIndex:
        """`EdgeIndex` of these edges, built on first use and kept while it is one of the
        last `KEEP_INDEXES` built (a layer's edges are queried by several rules in a row)."""
        index = self._index
        if index is None:
            self._index = index = EdgeIndex(self)
            _INDEXES.append(weakref.ref(self))
            while len(_INDEXES) > KEEP_INDEXES:
                old = _INDEXES.popleft()()
                if old is not None and old is not self:
                    old._index = None
        return index

    def take(self, idx: np.ndarray) -> Edges:
        return Edges(self.p1[idx], self.p2[idx], self.shape[idx], self.polygon[idx])


_INDEXES: deque = deque()  # weak references to the Edges holding an index, oldest first


def envelopes(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Geometries whose bounding boxes are [lo, hi] ((n, 2) each): the boxes' diagonals, for
    STRtree queries of boxes alone (half the cost of making the boxes as polygons)."""
    return shapely.linestrings(np.stack([lo, hi], axis=1))


SMALL_POLYGON = 256  # edges of a compact polygon indexed in runs (`EdgeIndex`)
RUN_EDGES = 8  # consecutive edges of a polygon indexed as one group
GROUPED_SHARE = 0.8  # share of the edges in runs below which all are indexed one by one
COMPACT = 2.0  # bounding box area per polygon area of a compact polygon: boxes, octagons, round pads
EXPAND_PAIRS = 1 << 20  # (box, edge) rows an `EdgeIndex` query tests at once


class EdgeIndex:
    """Which edges' bounding boxes meet query boxes (touching counts), without a geometry per edge.

    Edges are found in runs of up to `RUN_EDGES` consecutive edges of a polygon (one
    STRtree entry, the run's bounding box, per run): a query box meeting it is paired with
    each of the run's edges, and the pairs are kept where the edge's own box meets the
    query box (numpy). A run is indexed so when its box is tight: all runs of a compact
    polygon (at most `SMALL_POLYGON` edges, its bounding box at most `COMPACT` times its
    area), and any run whose box is no longer on either side than `RUN_EDGES` typical
    edges (the median edge's box): the arcs of round pads merged with their traces. Other
    edges (a plane's outline, whose run box many query boxes would meet) are in an STRtree
    of their own, one entry per edge; so are all edges of a layer with less than
    `GROUPED_SHARE` of them in runs. Building a LineString per edge was most of the time of
    a check on layers of small shapes (round openings) and of indexing merged pads and traces.
    """

    def __init__(self, e: Edges):
        order = np.argsort(e.polygon, kind="stable")
        poly = e.polygon[order]
        starts = np.flatnonzero(np.r_[True, poly[1:] != poly[:-1]]) if len(poly) else np.empty(0, dtype=np.int64)
        counts = np.diff(np.r_[starts, len(order)])
        p1, p2 = e.p1[order], e.p2[order]
        lo, hi = np.minimum(p1, p2), np.maximum(p1, p2)
        # Edge boxes in `order`, x and y apart (contiguous for `_expand`'s gathers).
        self.lo_x, self.lo_y, self.hi_x, self.hi_y = (np.ascontiguousarray(c) for c in (*lo.T, *hi.T))
        nth = np.arange(len(order)) - np.repeat(starts, counts)
        run_start = np.flatnonzero(nth % RUN_EDGES == 0)
        end = np.repeat(starts + counts, counts)[run_start]
        run_count = np.minimum(end - run_start, RUN_EDGES)
        tight = np.zeros(len(run_start), bool)
        rlo, rhi = np.empty((0, 2)), np.empty((0, 2))
        if len(starts):
            glo, ghi = np.minimum.reduceat(lo, starts), np.maximum.reduceat(hi, starts)
            area = np.abs(np.add.reduceat(p1[:, 0] * p2[:, 1] - p1[:, 1] * p2[:, 0], starts)) / 2
            compact = (counts <= SMALL_POLYGON) & (np.prod(ghi - glo, axis=1) <= COMPACT * area)
            rlo, rhi = np.minimum.reduceat(lo, run_start), np.maximum.reduceat(hi, run_start)
            typical = np.median(np.max(hi - lo, axis=1))
            tight = np.repeat(compact, (counts + RUN_EDGES - 1) // RUN_EDGES)
            tight |= np.max(rhi - rlo, axis=1) <= RUN_EDGES * typical
        in_run = np.repeat(tight, run_count)
        if np.count_nonzero(in_run) < GROUPED_SHARE * len(order):  # two trees to query cost more than they save
            tight[:], in_run[:] = False, False
        self.start, self.count = run_start[tight], run_count[tight]
        self.groups: shapely.STRtree | None = None
        if len(self.start):
            self.groups = shapely.STRtree(envelopes(rlo[tight], rhi[tight]))
        self.order = order
        self.big = order[~in_run]
        self.edges: shapely.STRtree | None = None
        if len(self.big):
            self.edges = shapely.STRtree(e.take(self.big).lines())

    def query(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index pairs (i, j), in order of i: box [lo[i], hi[i]] meets edge j's box."""
        boxes = envelopes(lo, hi)
        found_i, found_j = [], []
        if self.groups is not None:
            qi, g = self.groups.query(boxes)
            cum = np.cumsum(self.count[g])
            cuts = np.searchsorted(cum, np.arange(EXPAND_PAIRS, cum[-1] if len(cum) else 0, EXPAND_PAIRS))
            for part in np.split(np.arange(len(g)), cuts):
                i, j = self._expand(qi[part], g[part], lo, hi)
                found_i.append(i)
                found_j.append(j)
        if self.edges is not None:
            i, j = self.edges.query(boxes)
            found_i.append(i)
            found_j.append(self.big[j])
        if not found_i:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        i, j = np.concatenate(found_i), np.concatenate(found_j)
        if self.edges is not None and self.groups is not None:
            by = np.argsort(i, kind="stable")
            i, j = i[by], j[by]
        return i, j

    def _expand(self, qi: np.ndarray, g: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        """(box, group) pairs to the (box, edge) pairs of the group's edges whose boxes meet."""
        k = self.count[g]
        pos = np.repeat(self.start[g] - (np.cumsum(k) - k), k) + np.arange(k.sum())  # into `order`
        i = np.repeat(qi, k)
        meet = self.lo_x[pos] <= np.repeat(hi[qi, 0], k)
        meet &= self.lo_y[pos] <= np.repeat(hi[qi, 1], k)
        meet &= np.repeat(lo[qi, 0], k) <= self.hi_x[pos]
        meet &= np.repeat(lo[qi, 1], k) <= self.hi_y[pos]
        return i[meet], self.order[pos[meet]]


QUERY_PAIRS = 1 << 18  # (box, geometry) pairs a bulk query hands out at once: bounds every caller's temporaries


def box_pairs(index: EdgeIndex, lo: np.ndarray, hi: np.ndarray, size: int | None = None):
    """Index pairs (i, j) of the boxes [lo[i], hi[i]] and the indexed edges j whose
    bounding boxes meet, in chunks of at most `size` (`QUERY_PAIRS`), in order of i.

    Bulk queries, a run of boxes at a time: the run is sized from the pairs per
    box seen so far (growing at most 4-fold per query), so that memory stays bounded
    however far the boxes reach; a single box meeting more than `size` edges is
    queried alone and its pairs handed out in slices.
    """
    size = size or QUERY_PAIRS
    start, step = 0, 64
    while start < len(lo):
        stop = min(len(lo), start + step)
        i, j = index.query(lo[start:stop], hi[start:stop])
        for k in range(0, len(i), size):
            yield i[k : k + size] + start, j[k : k + size]
        step = int(np.clip(size * (stop - start) / max(len(i), 1), 1, 4 * step))
        start = stop


def polygon_edges(polys: np.ndarray, straight: bool = False) -> Edges:
    """All edges of merged `polys` (hulls clockwise, holes counter-clockwise: interior on the right).

    `shape` is the label of the group of polygons touching at corners (`corner_groups`). Where
    an edge of one polygon of a group runs on, straight, into an edge of another at their
    touching point, the two are one edge, as on KLayout's merged contour. `straight`
    also joins the pieces of an edge split where another polygon touches it (KLayout's
    `Region.edges()`: each straight run of the boundary is one edge).
    """
    e = _ring_edges(polys)
    if len(polys) == 0:
        return e
    labels = corner_groups(polys)
    e.shape = labels[e.polygon]
    grouped = (np.bincount(labels) > 1)[e.shape]
    if grouped.any():
        e = _join_across_touches(e, grouped, straight)
    return e


def corner_groups(polys: np.ndarray) -> np.ndarray:
    """Label of the group of each merged polygon: polygons sharing a vertex, transitively.

    Merged polygons (`pkgdrc.geometry.polygons.merge`) meet only at points, and each has a
    vertex at every point where it touches another, so shared vertices are the touches:
    found by sorting all vertices, not by geometric predicates.
    """
    coords, owner = shapely.get_coordinates(polys, return_index=True)
    order = np.argsort(_point_keys(coords), kind="stable")
    c, o = coords[order], owner[order]
    same = (c[1:, 0] == c[:-1, 0]) & (c[1:, 1] == c[:-1, 1]) & (o[1:] != o[:-1])
    i, j = o[:-1][same], o[1:][same]
    return components(len(polys), i, j)[1]


def _point_keys(coords: np.ndarray) -> np.ndarray:
    """One sortable key per point, equal for equal points: x and y packed in 64 bits when they are
    whole numbers below 2**31 (one sort instead of two), else x and y as a row."""
    if len(coords) and np.abs(coords).max() < 2**31 and np.array_equal(coords, np.round(coords)):
        c = (coords.astype(np.int64) + 2**31).astype(np.uint64)
        return (c[:, 0] << np.uint64(32)) | c[:, 1]
    return np.lexsort((coords[:, 1], coords[:, 0])).argsort()


def subject_edges(polys: np.ndarray) -> Edges:
    """Edges of the first layer of a two-layer check (separation, enclosure, overlap).

    KLayout takes that layer's merged polygons one at a time there: polygons touching at
    a point stay apart, with no vertex at the touching point. Each polygon is its own
    shape (`shape` == `polygon`).
    """
    return _ring_edges(clean(polys))


def _ring_edges(polys: np.ndarray) -> Edges:
    """Edges of every ring, interior on the right; `shape` and `polygon` are the polygon index."""
    if len(polys) == 0:
        z, none = np.empty((0, 2)), np.empty(0, dtype=np.int64)
        return Edges(z, z, none, none)
    coords, ring_idx, ring_owner = ring_coordinates(polys)
    oriented = _clockwise(coords, ring_idx, ring_owner)
    if oriented is None:  # a ring of no area: GEOS decides its way round
        oriented = ring_coordinates(shapely.orient_polygons(polys, exterior_cw=True))[0]
    coords = oriented
    keep = ring_idx[:-1] == ring_idx[1:]  # edges within a ring, of non-zero length
    keep &= (coords[:-1, 0] != coords[1:, 0]) | (coords[:-1, 1] != coords[1:, 1])
    at = np.flatnonzero(keep)
    polygon = ring_owner[ring_idx[at]]
    return Edges(coords[at], coords[at + 1], polygon, polygon.copy())


def _clockwise(coords: np.ndarray, ring: np.ndarray, ring_poly: np.ndarray) -> np.ndarray | None:
    """Closed rings' coordinates (`geometry.union.ring_coordinates`) with shells clockwise and
    holes counter-clockwise, a ring the wrong way round reversed whole (its first vertex
    stays first, as `shapely.orient_polygons` reverses); None if a ring is empty or has no area."""
    if len(coords) == 0 or (np.bincount(ring, minlength=len(ring_poly)) == 0).any():
        return None  # an empty ring
    starts = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    x, y = coords[:, 0] - coords[starts, 0][ring], coords[:, 1] - coords[starts, 1][ring]
    step = np.r_[x[:-1] * y[1:] - x[1:] * y[:-1], 0.0]
    step[np.r_[starts[1:], len(coords)] - 1] = 0.0  # no step from a ring's last vertex to the next ring
    area2 = np.bincount(ring, step, minlength=len(ring_poly))
    if (area2 == 0).any():
        return None
    shell = np.r_[True, ring_poly[1:] != ring_poly[:-1]]
    wrong = np.flatnonzero(np.where(shell, area2 > 0, area2 < 0))
    if len(wrong) == 0:
        return coords
    first = starts[wrong]
    size = np.r_[starts[1:], len(coords)][wrong] - first
    t = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
    src = np.arange(len(coords))
    src[np.repeat(first, size) + t] = np.repeat(first + size - 1, size) - t
    return coords[src]


def _join_across_touches(e: Edges, grouped: np.ndarray, same_polygon: bool = False) -> Edges:
    """Join edge e of one polygon with edge f of another (or the same, with `same_polygon`)
    where e ends at f's start, in the same direction; the joined edge keeps e's polygon."""
    p1, p2, shape, poly = e.p1, e.p2, e.shape, e.polygon
    idx = np.flatnonzero(grouped)
    d = (p2[idx] - p1[idx]).astype(np.int64)
    g = np.gcd(np.abs(d[:, 0]), np.abs(d[:, 1]))
    direction = d // g[:, None]
    start = np.column_stack([shape[idx], p1[idx].astype(np.int64), direction])
    end = np.column_stack([shape[idx], p2[idx].astype(np.int64), direction])
    keys, inverse = np.unique(np.concatenate([start, end]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    starting = np.full(len(keys), -1)
    starting[inverse[: len(idx)]] = np.arange(len(idx))
    nxt = starting[inverse[len(idx) :]]
    if not same_polygon:
        nxt = np.where((nxt >= 0) & (poly[idx][np.maximum(nxt, 0)] != poly[idx]), nxt, -1)
    if not (nxt >= 0).any():
        return e
    tail = np.arange(len(idx))
    for _ in range(len(idx)):
        step = nxt[tail]
        if not (step >= 0).any():
            break
        tail = np.where(step >= 0, step, tail)
    head = np.ones(len(idx), bool)
    head[nxt[nxt >= 0]] = False
    p2 = p2.copy()
    p2[idx] = p2[idx[tail]]
    keep = np.ones(len(p1), bool)
    keep[idx[~head]] = False
    return Edges(p1, p2, shape, poly).take(keep)
