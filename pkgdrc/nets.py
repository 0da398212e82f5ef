"""Nets: shapes of connected layers that meet are one net (the deck's `connect:` section).

Semantics:

* The nodes are the shapes as drawn (as KLayout's netlist extractor does; a shape drawn
  several times at one place is one node): shapes of one
  layer that overlap or touch are one net, and a short between two drawn shapes can be
  placed where they meet. `Nets.of(layer)` gives the net of each merged shape.
* In a chain `A - B - C` neighbours join: a shape of A and a shape of B are one net where
  they intersect (overlap, or touch along an edge or at a point), and so are B and C.
  A and C are never joined directly: a via layer between two metals joins them only
  through its own shapes. Chains may share layers (`DIE_PAD - VIA1 - RDL1`, `RDL1 - VIA2 - RDL2`).
* Candidate pairs come from one STRtree bulk query per joined pair of layers; the nets
  are the connected components of that graph (`geometry.graphs`). No Python loop
  runs per shape; time grows about linearly with the shape count (benchmarks/nets_scaling.py).
* Names: a net is named by the texts of the labels (deck `labels:`) lying on or inside
  its shapes of the labelled layer, joined by `+` when there are several; a net without
  a label is named by the place of its lowest, then leftmost, shape on the first
  labelled layer it has (else on the first connect layer it has), as `LAYER@(x,y)` with
  the shape's bounding-box centre in um, e.g. `DIE_PAD@(430,1000)`.
* Shorts: a net carrying two different label texts. Where they meet is found by growing
  every labelled shape's reach one connection at a time (shortest paths; a shape reached
  as soon from two texts takes the first by name); the meeting place is the overlap of the
  two shapes on the connection whose ends were reached from different texts in the fewest
  connections (of such, the first by the overlap of their boxes), or the shape itself when
  two texts lie on one shape. Every choice is by geometry and names, never by the order
  the shapes come in: cell by cell, tiled and flat runs place a short alike.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

from pkgdrc.errors import PkgdrcError
from pkgdrc.geometry.graphs import components, distances
from pkgdrc.geometry.polygons import EMPTY, intersecting, on_grid, polygon_parts, unique_polygons


@dataclass(frozen=True)
class Short:
    """Two label texts on one net, and the polygon (dbu) where their shapes meet."""

    net: int
    texts: tuple[str, str]
    place: shapely.Polygon


class Nets:
    """The nets of one run: every drawn shape of a connect layer is a node with a net id."""

    def __init__(
        self,
        layers: tuple[str, ...],
        shapes: dict[str, np.ndarray],
        pairs: np.ndarray,
        labels: list[tuple[str, str, float, float]],
        grid,
        deck_path: str = "",
    ):
        self.layers = layers
        self.grid = grid
        self.deck_path = deck_path
        counts = np.array([len(shapes[n]) for n in layers], dtype=np.int64)
        self.start = dict(zip(layers, np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist()))
        self.size = dict(zip(layers, counts.tolist()))
        self.shapes = np.concatenate([shapes[n] for n in layers]) if counts.sum() else EMPTY
        self.layer_of = np.repeat(np.arange(len(layers)), counts)
        n = len(self.shapes)
        self.pairs = pairs
        self.count: int
        self.net: np.ndarray
        self.count, self.net = components(n, pairs[:, 0], pairs[:, 1])
        self._merged: dict[str, np.ndarray] = {n: shapes[n] for n in layers}
        self._of: dict[str, np.ndarray] = {}
        self._labels(labels)

    @classmethod
    def extract(cls, layers) -> Nets:
        """Nets of a LayerSet's deck `connect:` layers, with its layout's labels."""
        deck = layers.deck
        order: list[str] = []
        for chain in deck.connect:
            order += [n for n in chain if n not in order]
        label_first = [n for n in deck.labels if n in order]
        order = label_first + [n for n in order if n not in label_first]
        # Exact repeats are one node: a shape drawn 10,000 times at one place is not 10^8 pairs.
        shapes = {n: unique_polygons(polygon_parts(layers.polygons(n))) for n in order}
        start = np.concatenate([[0], np.cumsum([len(shapes[n]) for n in order])])
        offset = dict(zip(order, start[:-1].tolist()))
        found = [np.empty((0, 2), dtype=np.int64)]
        joined = {(a, b) for chain in deck.connect for a, b in itertools.pairwise(chain)} | {(n, n) for n in order}
        for a, b in sorted(joined):
            if len(shapes[a]) and len(shapes[b]):
                ia, ib = intersecting(shapes[a], shapes[b])
                found.append(np.stack([ia + offset[a], ib + offset[b]], axis=1))
        labels = [(layer, text, x, y) for layer in label_first for text, x, y in layers.layout.labels.get(layer, [])]
        nets = cls(tuple(order), shapes, np.concatenate(found), labels, layers.grid, deck.path)
        nets._merged = {n: layers.merged(n) for n in order}
        return nets

    def _labels(self, labels: list[tuple[str, str, float, float]]) -> None:
        """Attach each label to every shape of its layer it lies on, inside or on the edge (shapes
        that touch there are one net; labels on no shape are ignored)."""
        nodes, texts = [np.empty(0, np.int64)], [np.empty(0, dtype=object)]
        for layer in dict.fromkeys(lb[0] for lb in labels):
            mine = [lb for lb in labels if lb[0] == layer]
            pts = shapely.points([(lb[2], lb[3]) for lb in mine])
            shapes = self.shapes[self.start[layer] : self.start[layer] + self.size[layer]]
            ip, ishape = shapely.STRtree(shapes).query(pts, predicate="intersects")
            nodes.append(ishape + self.start[layer])
            texts.append(np.array([mine[i][1] for i in ip], dtype=object))
        self.label_node = np.concatenate(nodes)
        self.label_text = np.concatenate(texts)

    def drawn(self, layer: str) -> np.ndarray:
        """Net id of each drawn shape of `layer` (the nodes)."""
        if layer not in self.start:
            raise PkgdrcError(
                f"layer {layer} is not in the deck's connect: section, so it has no nets", path=self.deck_path or None
            )
        return self.net[self.start[layer] : self.start[layer] + self.size[layer]]

    def of(self, layer: str) -> np.ndarray:
        """Net id of each merged shape of `layer` (aligned with `LayerSet.merged(layer)`).

        A merged shape holds whole drawn shapes of one net: it takes the net of a drawn
        shape whose interior point lies in it.
        """
        if layer not in self._of:
            drawn, merged = self.drawn(layer), self._merged[layer]
            out = np.zeros(len(merged), dtype=np.int64)
            if len(merged):
                start, size = self.start[layer], self.size[layer]
                inner = shapely.point_on_surface(self.shapes[start : start + size])
                idrawn, imerged = shapely.STRtree(merged).query(inner)
                shapely.prepare(merged)  # a plane with 40,000 holes: each point test O(log n), not O(n)
                hit = shapely.intersects(merged[imerged], inner[idrawn])
                out[imerged[hit]] = drawn[idrawn[hit]]
            self._of[layer] = out
        return self._of[layer]

    def on(self, layers: str | list[str]) -> np.ndarray:
        """Boolean per net: the net has a shape on any of `layers`."""
        out = np.zeros(self.count, bool)
        for layer in [layers] if isinstance(layers, str) else layers:
            out[self.of(layer)] = True
        return out

    @cached_property
    def _texts(self) -> dict[int, tuple[str, ...]]:
        pairs = sorted(set(zip(self.net[self.label_node].tolist(), self.label_text.tolist())))
        out: dict[int, list[str]] = {}
        for net, text in pairs:
            out.setdefault(net, []).append(text)
        return {net: tuple(texts) for net, texts in out.items()}

    @cached_property
    def _anchor(self) -> np.ndarray:
        """Per net, the node that names it: first layer in order, then lowest, then leftmost."""
        b = shapely.bounds(self.shapes)
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        order = np.lexsort((cx, cy, self.layer_of, self.net))
        _, first = np.unique(self.net[order], return_index=True)
        return order[first]

    def texts(self, net: int) -> tuple[str, ...]:
        """The distinct label texts on a net, sorted."""
        return self._texts.get(int(net), ())

    def name(self, net: int) -> str:
        """A stable name: the net's label text(s), else the place of its anchor shape."""
        texts = self.texts(net)
        if texts:
            return "+".join(texts)
        node = self._anchor[int(net)]
        return place_names(self.layers[self.layer_of[node]], self.shapes[node : node + 1], self.grid)[0]

    def _meeting_place(self, a: int, b: int) -> shapely.Polygon:
        """Where shapes `a` and `b` meet: the largest part of their overlap (of parts as large,
        the first by geometry); shapes that only touch: the smaller shape (then the first)."""
        pair = [self.shapes[a], self.shapes[b]]
        parts = on_grid(np.array([shapely.intersection(*pair)], dtype=object), lambda _: pair)
        if len(parts):
            return parts[0] if len(parts) == 1 else min(parts, key=lambda g: (-shapely.area(g), _geometry_key(g)))
        return min(pair, key=lambda g: (shapely.area(g), _geometry_key(g)))

    @cached_property
    def shorts(self) -> list[Short]:
        """One Short per pair of texts meeting on a net, where their reaches first meet.

        Every node gets the text that reaches it in the fewest connections, of texts as near
        the first by name (one shortest-path search from a virtual source joined to each
        labelled node by a weight under 1 that grows with the text's rank). Texts on one
        shape meet on that shape (the first by name with each other one); else on a
        connection whose ends have different texts, the one with the fewest connections from
        the two texts, then the first by the box where its two shapes' boxes overlap (min x,
        min y, max x, max y): a choice by geometry and names, the same in every engine
        whatever order the shapes come in.
        """
        if not any(len(t) > 1 for t in self._texts.values()):
            return []
        n = len(self.shapes)
        names, rank = np.unique(self.label_text.astype(str), return_inverse=True)
        eps = 1.0 / (len(names) + 2)  # every source weight under 1: fewer connections always win
        rows = np.r_[self.pairs[:, 0], np.full(len(rank), n)]
        cols = np.r_[self.pairs[:, 1], self.label_node]
        weight = np.r_[np.ones(len(self.pairs)), (rank + 1) * eps]
        order = np.lexsort((weight, cols, rows))  # an edge given twice keeps its least weight (no sum)
        rows, cols, weight = rows[order], cols[order], weight[order]
        once = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
        dist = distances(n + 1, rows[once], cols[once], weight[once], n)[:n]
        reached = np.isfinite(dist)
        steps = np.where(reached, np.floor(dist + eps / 4), -1).astype(np.int64)
        owner = np.where(reached, np.rint((dist - steps) / eps) - 1, -1).astype(np.int64)
        found: dict[tuple[int, str, str], shapely.Polygon] = {}
        # Several texts on one shape: the shape is where the first by name meets each other
        # one (of several such shapes, the first by bounds).
        node_rank = np.unique(np.stack([self.label_node, rank], axis=1), axis=0)  # by node, then rank
        head = np.r_[True, node_rank[1:, 0] != node_rank[:-1, 0]]
        first = np.maximum.accumulate(np.where(head, np.arange(len(node_rank)), 0))
        other = np.flatnonzero(~head)
        node, ta, tb = node_rank[other, 0], node_rank[first[other], 1], node_rank[other, 1]
        b = shapely.bounds(self.shapes[node]) if len(node) else np.empty((0, 4))
        for k in np.lexsort((b[:, 3], b[:, 2], b[:, 1], b[:, 0])).tolist():
            found.setdefault((int(self.net[node[k]]), str(names[ta[k]]), str(names[tb[k]])), self.shapes[node[k]])
        i, j = self.pairs[:, 0], self.pairs[:, 1]
        meet = np.flatnonzero((owner[i] != owner[j]) & (owner[i] >= 0) & (owner[j] >= 0))
        i, j = i[meet], j[meet]
        lo, hi = np.minimum(owner[i], owner[j]), np.maximum(owner[i], owner[j])
        bi, bj = shapely.bounds(self.shapes[i]), shapely.bounds(self.shapes[j])
        box = np.concatenate([np.maximum(bi[:, :2], bj[:, :2]), np.minimum(bi[:, 2:], bj[:, 2:])], axis=1)
        # per (net, text, text): the connections with the fewest steps, then the first box
        key = np.concatenate([np.stack([self.net[i], lo, hi, steps[i] + steps[j]], axis=1), box], axis=1)
        order = np.lexsort(key.T[::-1])
        key = key[order]
        head = np.r_[True, np.any(key[1:, :3] != key[:-1, :3], axis=1)] if len(key) else np.empty(0, bool)
        start = np.maximum.accumulate(np.where(head, np.arange(len(key)), 0))
        best = np.flatnonzero(np.all(key == key[start], axis=1))  # and those tied with it
        for _, rows in itertools.groupby(best.tolist(), key=lambda r: start[r]):
            pairs = [(int(i[order[r]]), int(j[order[r]])) for r in rows]
            a, b = pairs[0]
            places = [self._meeting_place(x, y) for x, y in pairs]
            place = places[0] if len(places) == 1 else min(places, key=_geometry_key)
            ta, tb = sorted((str(names[owner[a]]), str(names[owner[b]])))
            found.setdefault((int(self.net[a]), ta, tb), place)
        return [Short(net, (ta, tb), place) for (net, ta, tb), place in sorted(found.items(), key=lambda kv: kv[0])]


def _geometry_key(g: shapely.Geometry) -> tuple:
    """An order of polygons by geometry alone: bounds, then area, then the normalized form."""
    return (*shapely.bounds(g).tolist(), shapely.area(g), shapely.to_wkb(shapely.normalize(g)))


def place_names(layer: str, polys: np.ndarray, grid) -> list[str]:
    """`LAYER@(x,y)`: each shape named by its bounding-box centre in um (for messages)."""
    if len(polys) == 0:
        return []
    b = shapely.bounds(polys)
    c = grid.to_um(np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1))
    return [f"{layer}@({x:g},{y:g})" for x, y in c]
