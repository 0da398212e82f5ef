"""A layer merged cell by cell, and the boxes of cell content that cell-by-cell work is planned on.

Below `pkgdrc.layers` (a LayerSet merges drawn layers with `merged_by_cell` on layouts whose
cells repeat) and used by `pkgdrc.cellwise` (which plans its isolated and covered
placements on the same boxes).
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.geometry.polygons import EMPTY, merge
from pkgdrc.hierarchy import IDENTITY, ORIGIN, CellTree, Matrix, apply, compose, place, place_box


def placed_labels(labels: list[tuple[str, float, float]], m: Matrix, offsets: np.ndarray) -> list:
    """Labels (text, x, y) turned by `m` and copied to each offset ((k, 2)), offset-major."""
    if not labels:
        return []
    xy = apply(m, np.array([(x, y) for _, x, y in labels], dtype=float))
    texts = [t for t, _, _ in labels] * len(offsets)
    points = (offsets[:, None, :] + xy[None, :, :]).reshape(-1, 2)
    return [(t, float(x), float(y)) for t, (x, y) in zip(texts, points.tolist())]


def content_labels(tree: CellTree, name: str, layer: str, done: dict) -> list[tuple[str, float, float]]:
    """Cell `name`'s labels on `layer` with those of everything it places, in its own frame
    (`done` caches them per cell)."""
    key = (name, layer)
    if key not in done:
        cell = tree.cells[name]
        out = list(cell.labels.get(layer, []))
        for p in cell.placements:
            out += placed_labels(content_labels(tree, p.cell, layer, done), p.matrix, p.offsets)
        done[key] = out
    return done[key]


def placements(tree: CellTree, boxes: dict[str, np.ndarray], name: str, m: Matrix):
    """Cell `name`'s placements of cells with content, turned by `m`, grouped by (cell, orientation):
    (keys, offsets per key, every placement's box (n, 4), key by key)."""
    # `m` turns distinct orientations into distinct ones: grouping before turning groups alike.
    groups = [(c, pm, offs) for (c, pm), offs in tree.cells[name].placement_groups().items() if c in boxes]
    keys = [(c, compose(m, pm)) for c, pm, _ in groups]
    offsets = [apply(m, offs) for _, _, offs in groups]
    placed = [place_box(boxes[c], mm, offs) for (c, mm), offs in zip(keys, offsets)]
    return keys, offsets, (np.concatenate(placed) if placed else np.empty((0, 4)))


def crowding(items: np.ndarray, boxes: np.ndarray, h: float):
    """Pairs (placement, item) of placement boxes and other items (shapes or points first, then
    the placements' boxes) whose bounding boxes come closer than `h`, touching included; and
    the placement boxes grown by `h`. One STRtree over the few grown boxes, queried with the
    items themselves (their envelopes: no box is made per shape)."""
    grown = shapely.box(*(boxes + [-h, -h, h, h]).T)
    tree = shapely.STRtree(grown)
    item, near = tree.query(items)
    placed, near_placed = tree.query(shapely.box(*boxes.T))
    other = placed != near_placed
    return np.r_[near, near_placed[other]], np.r_[item, len(items) + placed[other]], grown


def merged_by_cell(tree: CellTree, layer: str) -> np.ndarray:
    """The flattened top's `layer` merged (`geometry.polygons.merge`), each cell merged once.

    A placement whose box is more than 2 dbu from every other box of its parent's content on
    the layer shares no merged polygon with the rest: its cell's merged shapes, moved, are
    its part; the rest of the parent is merged flat. The same polygons as merging the flat
    layer, in another order.
    """
    boxes = tree.content_boxes([layer])
    done: dict[tuple[str, Matrix], np.ndarray] = {}

    def merged(name: str, m: Matrix) -> np.ndarray:
        if (name, m) not in done:
            own = place(tree.cells[name].polygons.get(layer, EMPTY), m, ORIGIN)
            keys, offsets, placed = placements(tree, boxes, name, m)
            near, _, _ = crowding(own, placed, 2.0)
            crowded = np.zeros(len(placed), dtype=bool)
            crowded[near] = True
            parts, flat, start = [], [own], 0
            for (child, mm), offs in zip(keys, offsets):
                crowd = crowded[start : start + len(offs)]
                start += len(offs)
                parts.append(place(merged(child, mm), IDENTITY, offs[~crowd]))
                flat.append(place(tree.content(child, layer), mm, offs[crowd]))
            flat = [f for f in flat if len(f)]
            parts.append(merge(np.concatenate(flat)) if flat else EMPTY)
            parts = [p for p in parts if len(p)]
            done[(name, m)] = np.concatenate(parts) if parts else EMPTY
        return done[(name, m)]

    return merged(tree.top, IDENTITY) if tree.top in boxes else EMPTY
