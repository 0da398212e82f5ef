"""Two-layer edge relations in bounded pieces: the first layer's shapes a group at a time.

A two-layer relation (`relate_repeated(a, b, ...)` with `b`: enclosure, separation, a
UBM around its opening) builds tables that grow with the layer: neighbourhood rows of
every shape of `a` and an STRtree over every edge of `b` (about 250 bytes an edge). On
a 1M-shape panel these reached gigabytes for one rule. `relate_in_pieces` computes the
same relation on groups of `a`'s shapes, each with only the `b` edges near it, so the
tables are as large as one group, not the layer.

Exact: in a two-layer relation an edge of `a` pairs with edges of `b` within the
distance, and only its own shape's edges and `b`'s edges shield it; every such `b` edge
lies within the distance (plus the shielding pad) of the shape's bounding box, and
belongs to the group's `b` edges.
"""

from __future__ import annotations

import numpy as np

from pkgdrc.geometry.edges import Edges
from pkgdrc.geometry.pairs import REACH_PAD_DBU, EdgePairs, Side
from pkgdrc.geometry.repeats import relate_repeated

EDGES_PER_PIECE = 1 << 16  # edges of `a` in one piece (1,024 round 64-vertex openings): +81 MB at 100k, not +250


def shape_pieces(a: Edges, size: int = EDGES_PER_PIECE) -> list[np.ndarray]:
    """Edge indices of `a` in groups of whole shapes, in order of the shapes' centres in x; a
    group starts every `size` edges (it ends with the whole of its last shape)."""
    if len(a) == 0:
        return []
    shapes, inv, count = np.unique(a.shape, return_inverse=True, return_counts=True)
    lo, hi = np.full(len(shapes), np.inf), np.full(len(shapes), -np.inf)
    np.minimum.at(lo, inv, np.minimum(a.p1[:, 0], a.p2[:, 0]))
    np.maximum.at(hi, inv, np.maximum(a.p1[:, 0], a.p2[:, 0]))
    by_x = np.argsort(lo + hi, kind="stable")
    piece = np.empty(len(shapes), dtype=np.int64)
    piece[by_x] = (np.cumsum(count[by_x]) - count[by_x]) // size  # where the shape's edges start, in x order
    edge_piece = piece[inv]
    order = np.argsort(edge_piece, kind="stable")
    _, first = np.unique(edge_piece[order], return_index=True)
    return np.split(order, first[1:])


def relate_in_pieces(
    a: Edges, b: Edges, d: float, side_a: Side, side_b: Side, size: int = EDGES_PER_PIECE
) -> EdgePairs:
    """`relate_repeated(a, b, d, side_a, side_b)` of two layers, a group of `a`'s shapes at a time
    (`shape_pieces`): the same pairs, `ia` and `ib` indexing `a` and `b`, with memory bounded by
    a group."""
    if len(a) <= size:
        return relate_repeated(a, b, d, side_a, side_b)
    lo_b, hi_b = np.minimum(b.p1, b.p2), np.maximum(b.p1, b.p2)
    reach = d + 2 * REACH_PAD_DBU
    parts = []
    for idx in shape_pieces(a, size):
        lo = np.minimum(a.p1[idx], a.p2[idx]).min(axis=0) - reach
        hi = np.maximum(a.p1[idx], a.p2[idx]).max(axis=0) + reach
        near = np.flatnonzero(np.all((hi_b >= lo) & (lo_b <= hi), axis=1))
        found = relate_repeated(a.take(idx), b.take(near), d, side_a, side_b)
        parts.append(EdgePairs(found.pairs, found.distance, idx[found.ia], near[found.ib]))
    return EdgePairs(
        np.concatenate([p.pairs for p in parts]),
        np.concatenate([p.distance for p in parts]),
        np.concatenate([p.ia for p in parts]),
        np.concatenate([p.ib for p in parts]),
    )
