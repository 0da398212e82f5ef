"""The geometry state of a layout: a 128-bit content hash and the bounds of every shape, per layer.

A shape's hash covers its vertices (integer dbu, in order), its vertex count and its number
of holes; two lanes of a splitmix64-style mix with different seeds give 128 bits. It is
computed in bulk: every vertex is mixed with its index in its polygon, and the vertices of
a polygon are summed (`np.add.reduceat`, modulo 2**64). A label (`deck labels:`) is hashed
from its text and place and has a point as its bounds; the labels of layer L are the state
layer `L@labels`.

A layer's digest is a hash of its shape hashes as a multiset (`multiset_digest`): it does
not depend on the order the layout was flattened in. `changed` is the multiset
difference of two states of a layer: the bounds of the shapes removed and of those added.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
import shapely

from pkgdrc.geometry.hashing import label_hashes, multiset_digest, placed_hashes, polygon_hashes
from pkgdrc.geometry.polygons import EMPTY
from pkgdrc.hierarchy import CellTree, apply
from pkgdrc.layout import Layout

LABELS = "@labels"  # suffix of the state layer holding a layer's labels


@dataclass(frozen=True)
class LayerState:
    """One layer's shapes: `hashes` (N, 2) uint64, `bounds` (N, 4) float dbu, and the digest."""

    hashes: np.ndarray
    bounds: np.ndarray
    digest: str

    @classmethod
    def of(cls, hashes: np.ndarray, bounds: np.ndarray) -> LayerState:
        return cls(hashes, bounds, multiset_digest(hashes))

    def to_bytes(self) -> bytes:
        """An .npz payload (numbers only: read back without pickle)."""
        out = io.BytesIO()
        np.savez(out, hashes=self.hashes, bounds=self.bounds)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, digest: str) -> LayerState | None:
        """The state stored by `to_bytes`, or None when the payload is not one or its digest is not `digest`."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                hashes, bounds = z["hashes"], z["bounds"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error):
            return None
        if hashes.dtype != np.uint64 or hashes.ndim != 2 or hashes.shape[1] != 2:
            return None
        if bounds.dtype != np.float64 or bounds.shape != (len(hashes), 4):
            return None
        state = cls.of(hashes, bounds)
        return state if state.digest == digest else None


def layer_state(polys: np.ndarray) -> LayerState:
    return LayerState.of(polygon_hashes(polys), shapely.bounds(polys).reshape(-1, 4).astype(np.float64))


def tree_state(tree: CellTree, layer: str) -> LayerState:
    """The state of a layer of a cell hierarchy, in the order of `CellTree.flatten`, without
    flattening: each cell's own shapes (`Cell.own_state`) mixed with each of its placements
    (`placed_hashes`), their bounds turned and moved."""
    hashes, bounds = [], []
    for name, orient in tree.instances().items():
        own, box = tree.cells[name].own_state(layer)
        if not len(own):
            continue
        for m, offs in orient.items():
            hashes.append(placed_hashes(own, m, offs))
            lo, hi = apply(m, box[:, :2]), apply(m, box[:, 2:])
            turned = np.hstack([np.minimum(lo, hi), np.maximum(lo, hi)])
            bounds.append((turned[None, :, :] + np.hstack([offs, offs])[:, None, :]).reshape(-1, 4))
    if not hashes:
        return LayerState.of(np.empty((0, 2), np.uint64), np.empty((0, 4)))
    return LayerState.of(np.concatenate(hashes), np.concatenate(bounds).astype(np.float64))


def geometry_state(layout: Layout, layers: list[str], label_layers: list[str]) -> dict[str, LayerState]:
    """The state of `layers` (drawn) and of the labels of `label_layers` (as `NAME@labels`).

    A layout read from a file is hashed cell by cell (`tree_state`: a placed shape's hash
    depends on its cell's shape and its placement); one built from polygons, shape by shape.
    The two never meet: one layout path is read from a file every time."""
    tree = layout.tree
    if tree is not None:
        out = {name: tree_state(tree, name) for name in layers}
    else:
        out = {name: layer_state(layout.polygons.get(name, EMPTY)) for name in layers}
    for name in label_layers:
        out[name + LABELS] = LayerState.of(*label_hashes(layout.labels.get(name, [])))
    return out


def changed(base: LayerState, now: LayerState) -> np.ndarray:
    """Bounds (K, 4) of the shapes in one state and not the other, counted as multisets
    (a shape drawn twice and now once is one removed shape).

    Both states list a layout in the order it flattens, so a local edit leaves most shapes
    where they were: pairs of equal shapes at the same place in the common prefix, the
    common suffix and (for middles of one length) the middle are set aside first, which
    never changes a multiset difference."""
    a, b = _common_set_aside(base, now)
    both = np.concatenate([base.hashes[a], now.hashes[b]])
    if len(both) == 0:
        return np.empty((0, 4))
    _, group = np.unique(np.ascontiguousarray(both).view(np.dtype((np.void, 16))).ravel(), return_inverse=True)
    group = group.ravel()
    side = np.r_[np.zeros(len(a), np.int64), np.ones(len(b), np.int64)]
    groups = int(group.max()) + 1
    counts = np.stack([np.bincount(group[side == s], minlength=groups) for s in (0, 1)])
    # Rank of each shape among the equal shapes of its side; the first min(count) are common.
    order = np.lexsort((np.arange(len(both)), group, side))
    key = group[order] + side[order] * groups
    first = np.r_[True, key[1:] != key[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))
    rank = np.empty(len(both), np.int64)
    rank[order] = np.arange(len(key)) - start
    common = np.minimum(counts[0], counts[1])
    gone = rank >= common[group]
    return np.concatenate([base.bounds[a], now.bounds[b]])[gone]


def _common_set_aside(base: LayerState, now: LayerState) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the shapes of `base` and of `now` left once equal shapes at equal places
    (from the start, from the end, and in equally long middles) are set aside."""
    x, y = base.hashes, now.hashes
    n = min(len(x), len(y))
    head = (x[:n] == y[:n]).all(axis=1)
    p = n if head.all() else int(np.argmin(head))
    m = n - p
    tail = (x[len(x) - m :] == y[len(y) - m :]).all(axis=1)[::-1] if m else np.zeros(0, bool)
    q = m if tail.all() else int(np.argmin(tail))
    a, b = np.arange(p, len(x) - q), np.arange(p, len(y) - q)
    if len(a) == len(b) and len(a):
        differ = (x[a] != y[b]).any(axis=1)
        a, b = a[differ], b[differ]
    return a, b
