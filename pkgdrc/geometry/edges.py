"""Edge arrays of polygons, oriented like KLayout's: the interior lies right of each edge."""

from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pkgdrc.geometry.polygons import clean


def cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise 2-D cross product (exact for grid coordinates below 2**26)."""
    return u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]


def dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise scalar product."""
    return np.einsum("ij,ij->i", u, v)


KEEP_TREES = 1  # edge indexes kept alive (`Edges.tree`): 2 cost the 1M run 0.8 GB more, no faster
GROUP = 8  # consecutive edges of one polygon under one entry of an `EdgeIndex`
EXPAND = 1 << 15  # (box, run) pairs of an `EdgeIndex` query expanded to edges at once


class EdgeIndex:
    """Which edges' bounding boxes meet query boxes: `STRtree(lines).query(boxes)` for
    edges, at an eighth of its memory.

    An STRtree holds a GEOS line per edge (about 250 bytes; 1 GB for the 3.8M edges of a
    1M-shape panel's openings). Here the tree holds one box per run of up to `GROUP`
    consecutive edges of one polygon; a query expands the runs it meets to their edges
    and keeps those whose own box meets the query box (closed boxes, touching included,
    as the STRtree). Only box queries without a predicate, which is all that edges are
    queried with.
    """

    def __init__(self, lo: np.ndarray, hi: np.ndarray, polygon: np.ndarray):
        self.lo, self.hi = lo, hi
        n = len(lo)
        new_polygon = np.r_[True, polygon[1:] != polygon[:-1]] if n else np.empty(0, bool)
        start = np.maximum.accumulate(np.where(new_polygon, np.arange(n), 0)) if n else np.empty(0, np.int64)
        self.first = np.flatnonzero(new_polygon | ((np.arange(n) - start) % GROUP == 0))
        self.count = np.diff(np.r_[self.first, n])
        if n:
            glo = np.minimum.reduceat(lo, self.first, axis=0)
            ghi = np.maximum.reduceat(hi, self.first, axis=0)
            self._tree = shapely.STRtree(shapely.linestrings(np.stack([glo, ghi], axis=1)))
        else:
            self._tree = shapely.STRtree(np.empty(0, dtype=object))

    def query(self, boxes: np.ndarray) -> np.ndarray:
        """(2, k) index pairs (box, edge) whose bounding boxes meet, sorted by box, then edge."""
        bi, bg = self._tree.query(boxes)
        qb = shapely.bounds(boxes)
        out_i, out_j = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for k in range(0, len(bi), EXPAND):  # runs expanded a slice at a time: bounded temporaries
            count = self.count[bg[k : k + EXPAND]]
            i = np.repeat(bi[k : k + EXPAND], count)
            j = np.repeat(self.first[bg[k : k + EXPAND]] - np.cumsum(count) + count, count) + np.arange(len(i))
            meet = np.all((self.lo[j] <= qb[i, 2:]) & (self.hi[j] >= qb[i, :2]), axis=1)
            out_i.append(i[meet])
            out_j.append(j[meet])
        i, j = np.concatenate(out_i), np.concatenate(out_j)
        order = np.lexsort((j, i))
        return np.stack([i[order], j[order]])


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
    _tree: EdgeIndex | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.shape)

    @property
    def direction(self) -> np.ndarray:
        return self.p2 - self.p1

    def segments(self) -> np.ndarray:
        """(N, 2, 2) array of [p1, p2]."""
        return np.stack([self.p1, self.p2], axis=1)

    def lines(self) -> np.ndarray:
        """Shapely LineStrings, one per edge (for STRtree queries)."""
        return shapely.linestrings(self.segments())

    def tree(self) -> EdgeIndex:
        """Index of the edges' boxes (`EdgeIndex`: queried as an STRtree of `lines()`), built on
        first use and kept while it is one of the last `KEEP_TREES` built (a layer's edges are
        queried by several rules in a row)."""
        if self._tree is None:
            self._tree = EdgeIndex(np.minimum(self.p1, self.p2), np.maximum(self.p1, self.p2), self.polygon)
            _TREES.append(weakref.ref(self))
            while len(_TREES) > KEEP_TREES:
                old = _TREES.popleft()()
                if old is not None:
                    old._tree = None
        return self._tree

    def take(self, idx: np.ndarray) -> Edges:
        return Edges(self.p1[idx], self.p2[idx], self.shape[idx], self.polygon[idx])


_TREES: deque = deque()  # weak references to the Edges holding a tree, oldest first

QUERY_PAIRS = 1 << 18  # (box, geometry) pairs a bulk query hands out at once: bounds every caller's temporaries


def box_pairs(tree: shapely.STRtree | EdgeIndex, lo: np.ndarray, hi: np.ndarray, size: int | None = None):
    """Index pairs (i, j) of the boxes [lo[i], hi[i]] and the `tree` geometries j whose
    bounding boxes meet, in chunks of at most `size` (`QUERY_PAIRS`), in order of i.

    Bulk STRtree queries, a run of boxes at a time: the run is sized from the pairs per
    box seen so far (growing at most 4-fold per query), so that memory stays bounded
    however far the boxes reach; a single box meeting more than `size` geometries is
    queried alone and its pairs handed out in slices.
    """
    size = size or QUERY_PAIRS
    start, step = 0, 64
    while start < len(lo):
        stop = min(len(lo), start + step)
        i, j = tree.query(shapely.box(lo[start:stop, 0], lo[start:stop, 1], hi[start:stop, 0], hi[start:stop, 1]))
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
    order = np.lexsort((coords[:, 1], coords[:, 0]))
    c, o = coords[order], owner[order]
    same = np.all(c[1:] == c[:-1], axis=1) & (o[1:] != o[:-1])
    i, j = o[:-1][same], o[1:][same]
    n = len(polys)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


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
    oriented = shapely.orient_polygons(polys, exterior_cw=True)
    rings, ring_owner = shapely.get_rings(oriented, return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same = ring_idx[:-1] == ring_idx[1:]
    p1, p2 = coords[:-1][same], coords[1:][same]
    nonzero = np.any(p1 != p2, axis=1)
    polygon = ring_owner[ring_idx[:-1][same]][nonzero]
    return Edges(p1[nonzero], p2[nonzero], polygon, polygon.copy())


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
