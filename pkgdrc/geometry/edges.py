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


KEEP_TREES = 1  # edge STRtrees kept alive (`Edges.tree`): 2 cost the 1M run 0.8 GB more, no faster


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
    _tree: shapely.STRtree | None = field(default=None, init=False, repr=False, compare=False)

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

    def tree(self) -> shapely.STRtree:
        """STRtree of `lines()`, built on first use and kept while it is one of the last
        `KEEP_TREES` built (a layer's edges are queried by several rules in a row; a tree
        takes about 250 bytes per edge, so only the last one is kept)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.lines())
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


def box_pairs(tree: shapely.STRtree, lo: np.ndarray, hi: np.ndarray, size: int | None = None):
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
