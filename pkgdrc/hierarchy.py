"""The cell hierarchy of a layout, in dbu: cells, their own shapes, their placements.

A placement puts a child cell at one or more offsets (an array is one placement with k
offsets, never expanded into copies here), turned by a multiple of 90 degrees and maybe
mirrored: an orientation `Matrix` of integers, so every placed vertex stays exactly on
the grid. Flattening (`CellTree.flatten`) composes the placements down from the top and
places each cell's own shapes once per orientation, in bulk: the same vertices the
layout's flattened view has, however deep the hierarchy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import shapely

from pkgdrc.geometry.hashing import polygon_hashes
from pkgdrc.geometry.packed import Packed
from pkgdrc.geometry.polygons import EMPTY
from pkgdrc.rawtree import Matrix, RawTree

IDENTITY: Matrix = (1, 0, 0, 1)
ORIGIN = np.zeros((1, 2))


def compose(outer: Matrix, inner: Matrix) -> Matrix:
    """The orientation of `inner` applied first, then `outer`."""
    a, b, c, d = outer
    e, f, g, h = inner
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)


def apply(m: Matrix, xy: np.ndarray) -> np.ndarray:
    """Points (n, 2) turned by orientation `m`."""
    a, b, c, d = m
    return np.column_stack([a * xy[:, 0] + b * xy[:, 1], c * xy[:, 0] + d * xy[:, 1]])


def place(geoms: np.ndarray, m: Matrix, offsets: np.ndarray) -> np.ndarray:
    """Shapely geometries turned by `m`, one copy per offset (offset-major), in bulk."""
    if len(geoms) == 0 or len(offsets) == 0:
        return EMPTY
    if m == IDENTITY and len(offsets) == 1 and not offsets.any():
        return geoms
    n_coords = int(shapely.get_num_coordinates(geoms).sum())
    shift = np.repeat(offsets, n_coords, axis=0)
    return shapely.transform(np.tile(geoms, len(offsets)), lambda xy: apply(m, xy) + shift)


def place_box(box: np.ndarray, m: Matrix, offsets: np.ndarray) -> np.ndarray:
    """Bounding boxes (k, 4) of box (x0, y0, x1, y1) turned by `m` and moved to each offset."""
    corners = apply(m, np.array([[box[0], box[1]], [box[2], box[3]]]))
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    return np.hstack([offsets + lo, offsets + hi])


@dataclass
class Placement:
    """Cell `cell` turned by `matrix` and placed at each of `offsets` ((k, 2), whole dbu)."""

    cell: str
    matrix: Matrix
    offsets: np.ndarray


def grouped(placements: list[Placement]) -> dict[tuple[str, Matrix], np.ndarray]:
    """Placements by (cell, orientation), first met first: their offsets, in placement order. A
    cell may place thousands of single cells in a few orientations: work per group, not per
    placement."""
    groups: dict[tuple[str, Matrix], list[np.ndarray]] = {}
    for p in placements:
        groups.setdefault((p.cell, p.matrix), []).append(p.offsets)
    return {k: np.concatenate(v) if len(v) > 1 else v[0] for k, v in groups.items()}


class Polygons(Mapping[str, np.ndarray]):
    """A cell's own shapes per layer as shapely arrays, decoded from `Packed` on first use and
    kept; `in_use`, when given, is told (appended this object) as it first decodes a layer
    after being made or forgotten."""

    def __init__(self, packed: dict[str, Packed], in_use: list[Polygons] | None = None):
        self._packed = packed
        self._decoded: dict[str, np.ndarray] = {}
        self.in_use = in_use

    def __getitem__(self, layer: str) -> np.ndarray:
        if layer not in self._decoded:
            if not self._decoded and self.in_use is not None:
                self.in_use.append(self)
            self._decoded[layer] = self._packed[layer].decode()
        return self._decoded[layer]

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def forget(self) -> None:
        """Drop the decoded polygons (decoded again on next use)."""
        self._decoded.clear()

    def __len__(self) -> int:
        return len(self._packed)


class Cell:
    """A cell's own shapes (dbu) and labels per layer, and its placements.

    Its shapes are kept compact (`Packed` per layer) and become shapely polygons on first use
    (`polygons`); counts, boxes and `own_state` (when the reader hashed the shapes) need no
    polygon.
    """

    def __init__(
        self,
        name: str,
        packed: dict[str, Packed],
        labels: dict[str, list[tuple[str, float, float]]],
        placements: list[Placement],
    ):
        self.name, self.packed, self.labels, self.placements = name, packed, labels, placements
        self.polygons = Polygons(packed)
        self._states: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._groups: dict[tuple[str, Matrix], np.ndarray] | None = None

    def placement_groups(self) -> dict[tuple[str, Matrix], np.ndarray]:
        """The placements by (cell, orientation) (`grouped`), made once."""
        if self._groups is None:
            self._groups = grouped(self.placements)
        return self._groups

    def count(self, layer: str | None = None) -> int:
        """Own shapes on `layer` (None: on every layer read)."""
        return sum(len(p) for k, p in self.packed.items() if layer in (None, k))

    def box(self, layers: list[str] | None = None) -> np.ndarray | None:
        """Bounding box (x0, y0, x1, y1) of the own shapes on `layers` (None: every layer), or None."""
        boxes = [p.box for k, p in self.packed.items() if len(p) and (layers is None or k in layers)]
        if not boxes:
            return None
        every = np.array(boxes)
        return np.concatenate([every[:, :2].min(axis=0), every[:, 2:].max(axis=0)])

    def own_state(self, layer: str) -> tuple[np.ndarray, np.ndarray]:
        """(hashes (N, 2) uint64, bounds (N, 4) float64) of the cell's own shapes on `layer`, in
        its own frame and in the order of `polygons[layer]` (`pkgdrc.geometry.hashing`): the
        reader's when it hashed them, else computed from the polygons; kept."""
        if layer not in self._states:
            packed = self.packed.get(layer)
            if packed is not None and packed.hashes is not None and packed.bounds is not None:
                self._states[layer] = (packed.hashes, packed.bounds)
            else:
                polys = self.polygons.get(layer, EMPTY)
                bounds = shapely.bounds(polys).reshape(-1, 4).astype(np.float64)
                self._states[layer] = (polygon_hashes(polys), bounds)
        return self._states[layer]


def label_boxes(labels: list[tuple[str, float, float]], m: Matrix, at: np.ndarray) -> np.ndarray:
    """Labels (text, x, y) as point boxes (n, 4), turned by `m` and moved by `at` ((1, 2))."""
    if not labels:
        return np.empty((0, 4))
    xy = apply(m, np.array([(x, y) for _, x, y in labels], dtype=float)) + at
    return np.hstack([xy, xy])


class CellTree:
    """The cells under a top cell, each listed after the cells it places."""

    def __init__(self, top: str, cells: dict[str, Cell]):
        self.top = top
        self.cells = cells
        self._in_use: list[Polygons] = []  # the cells' polygons decoded since made or forgotten
        for cell in cells.values():
            cell.polygons.in_use = self._in_use
        self._instances: dict[str, dict[Matrix, np.ndarray]] | None = None
        self._content: dict[tuple[str, str], np.ndarray] = {}
        self._boxes: tuple[list[tuple[str, str]], dict[str, np.ndarray]] | None = None

    @classmethod
    def from_raw(cls, raw: RawTree) -> tuple[CellTree, int, int]:
        """Build from the reader's cells; returns (tree, repaired, dropped), the counts taken over
        the flattened layout (each cell's counts times its copies)."""
        cells = {
            name: Cell(name, rc.layers, rc.labels, [Placement(c, m, off) for c, m, off in rc.placements])
            for name, rc in raw.cells.items()
        }
        tree = cls(raw.top, cells)
        copies = tree.copies()
        repaired = sum(rc.repaired * copies[n] for n, rc in raw.cells.items())
        dropped = sum(rc.dropped * copies[n] for n, rc in raw.cells.items())
        return tree, repaired, dropped

    def instances(self) -> dict[str, dict[Matrix, np.ndarray]]:
        """Every cell's placements in the top's frame: orientation -> offsets (k, 2).

        Composed from the top down, parents before children; each cell has at most 8
        orientations, and its offsets are those of the flattening (arrays multiplied out as
        offsets, the shapes never copied).
        """
        if self._instances is None:
            found: dict[str, dict[Matrix, list[np.ndarray]]] = {self.top: {IDENTITY: [ORIGIN]}}
            done: dict[str, dict[Matrix, np.ndarray]] = {}
            for name in reversed(list(self.cells)):  # parents first
                if name not in found:
                    continue
                mine = done[name] = {m: np.concatenate(offs) for m, offs in found[name].items()}
                for (cell, matrix), offsets in self.cells[name].placement_groups().items():
                    child = found.setdefault(cell, {})
                    for m, offs in mine.items():
                        placed = (offs[:, None, :] + apply(m, offsets)[None, :, :]).reshape(-1, 2)
                        child.setdefault(compose(m, matrix), []).append(placed)
            self._instances = {name: done[name] for name in found}  # in the order first found
        return self._instances

    def copies(self) -> dict[str, int]:
        """How many times each cell occurs in the flattened top."""
        inst = self.instances()
        return {n: sum(len(o) for o in inst.get(n, {}).values()) for n in self.cells}

    def repeated(self) -> bool:
        """True when some cell with shapes occurs more than once in the flattened top."""
        copies = self.copies()
        return any(copies[n] > 1 and c.count() > 0 for n, c in self.cells.items())

    def flat_count(self, layer: str | None = None) -> int:
        """Shapes of the flattened top on `layer` (None: on all layers read), without flattening."""
        copies = self.copies()
        return sum(copies[n] * c.count(layer) for n, c in self.cells.items())

    def drawn_count(self) -> int:
        """Shapes the cells draw, each counted once (what checking each cell once has to look at)."""
        return sum(c.count() for c in self.cells.values())

    def flatten(self, layer: str) -> np.ndarray:
        """The flattened top's shapes on `layer`, in dbu."""
        parts = [
            place(self.cells[n].polygons.get(layer, EMPTY), m, offs)
            for n, orient in self.instances().items()
            for m, offs in orient.items()
        ]
        parts = [p for p in parts if len(p)]
        return np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else EMPTY)

    def content(self, name: str, layer: str) -> np.ndarray:
        """Cell `name`'s shapes on `layer` with everything it places, flattened, in its own frame (kept)."""
        key = (name, layer)
        if key not in self._content:
            cell = self.cells[name]
            parts = [cell.polygons.get(layer, EMPTY)]
            parts += [place(self.content(c, layer), m, offs) for (c, m), offs in cell.placement_groups().items()]
            parts = [p for p in parts if len(p)]
            self._content[key] = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else EMPTY)
        return self._content[key]

    def forget_polygons(self) -> None:
        """Drop the decoded polygons of every cell but the top, and every flattened content
        (made again on next use): a worker that checks one placement after another keeps only
        the one at hand. Only the cells decoded since the last time are visited, so a unit of
        work pays for its own cells, not for the layout's."""
        top = self.cells[self.top].polygons
        for polygons in self._in_use:
            if polygons is not top:
                polygons.forget()
        self._in_use[:] = [top] if any(p is top for p in self._in_use) else []  # by identity: a Mapping's == decodes
        self._content.clear()

    def content_boxes(
        self, layers: list[str] | None = None, label_layers: list[str] | tuple = ()
    ) -> dict[str, np.ndarray]:
        """Bounding box (x0, y0, x1, y1), dbu, of each cell's content (its own shapes and those
        of the cells it places) on `layers` (None: every layer read), and the points of its
        labels on `label_layers`, in the cell's own frame; cells without any are left out.
        Made of the boxes per layer (`_layer_boxes`, one pass for every layer, kept): nothing
        is flattened or decoded."""
        names, boxes = self._layer_boxes()
        rows = [i for i, (kind, n) in enumerate(names) if kind == "labels" and n in label_layers]
        rows += [i for i, (kind, n) in enumerate(names) if kind == "shapes" and (layers is None or n in layers)]
        out: dict[str, np.ndarray] = {}
        for name, b in boxes.items():
            pick = b[rows]
            pick = pick[~np.isnan(pick[:, 0])]
            if len(pick):
                out[name] = np.concatenate([pick[:, :2].min(axis=0), pick[:, 2:].max(axis=0)])
        return out

    def _layer_boxes(self) -> tuple[list[tuple[str, str]], dict[str, np.ndarray]]:
        """Per cell, the box of its content on each layer and of its labels on each label layer:
        rows named by `("shapes" | "labels", layer)`, NaN where it has none. One pass, children
        first; a placement adds its cell's rows turned and spread over its offsets."""
        if self._boxes is None:
            names = sorted({("shapes", k) for c in self.cells.values() for k in c.packed})
            names += sorted({("labels", k) for c in self.cells.values() for k in c.labels if c.labels[k]})
            row = {n: i for i, n in enumerate(names)}
            boxes: dict[str, np.ndarray] = {}
            for name, cell in self.cells.items():  # children first
                b = np.full((len(names), 4), np.nan)
                for k, packed in cell.packed.items():
                    if len(packed):
                        b[row["shapes", k]] = packed.box
                for k, found in cell.labels.items():
                    if found:
                        pts = label_boxes(found, IDENTITY, ORIGIN)
                        b[row["labels", k]] = np.concatenate([pts[:, :2].min(axis=0), pts[:, 2:].max(axis=0)])
                for (c, m), offsets in cell.placement_groups().items():
                    if c in boxes and len(offsets):
                        child = boxes[c]
                        lo, hi = apply(m, child[:, :2]), apply(m, child[:, 2:])
                        spread = np.concatenate([offsets.min(axis=0), offsets.max(axis=0)])
                        placed = np.hstack([np.minimum(lo, hi), np.maximum(lo, hi)]) + spread
                        b[:, :2], b[:, 2:] = np.fmin(b[:, :2], placed[:, :2]), np.fmax(b[:, 2:], placed[:, 2:])
                boxes[name] = b
            self._boxes = (names, boxes)
        return self._boxes

    def placed_boxes(self, name: str, box: np.ndarray) -> np.ndarray:
        """`box` (a box in cell `name`'s frame, dbu) at every placement of the cell in the top's
        frame: (k, 4), k = 0 when the top does not place the cell."""
        parts = [place_box(box, m, offs) for m, offs in self.instances().get(name, {}).items()]
        return np.concatenate(parts) if parts else np.zeros((0, 4))

    def flat_labels(self, layer: str) -> list[tuple[str, float, float]]:
        """The flattened top's labels on `layer`: (text, x, y) in dbu."""
        out: list[tuple[str, float, float]] = []
        for n, orient in self.instances().items():
            own = self.cells[n].labels.get(layer, [])
            if not own:
                continue
            xy = np.array([(x, y) for _, x, y in own], dtype=float)
            for m, offs in orient.items():
                placed = (offs[:, None, :] + apply(m, xy)[None, :, :]).reshape(-1, 2)
                texts = [t for t, _, _ in own] * len(offs)
                out.extend((t, float(x), float(y)) for t, (x, y) in zip(texts, placed.tolist()))
        return out
