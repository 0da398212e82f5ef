"""The cell walk: one local (or closed) rule run down the cell hierarchy, each cell checked once.

A check kind is *local* (`CheckKind.local`) when every marker it makes
depends only on the shapes within the rule's interaction range `h` of the marker: the
rule's reach (`pkgdrc.reach.interaction_um`: its largest distance, or what the kind declares),
plus twice the sizing of the deck's derived layers (two shapes grown by g each come 2 g
closer), plus 2 dbu (`interaction_dbu`). Shapes farther apart than `h` never merge, pair, shield each other
or meet in a boolean.

For a rule, cell C (in one orientation) is checked so:

1. Each placement of a child cell with shapes on the rule's layers has a bounding box
   (of the child's content on those layers). A placement is *isolated* when no other
   bounding box in C (its own shapes', its other placements') comes within `h` of it
   (touching counts as near). It is *covered* when every box within `h` is one of C's
   own shapes that holds the placement's box grown by `h`, on a layer the kind lets
   cover (`cover_layers(params)`: the `of` of inside, the `by` of enclosure, the checked
   layer of width, space, area and angle; never for kinds that count what a shape
   holds). For an array each element is a placement; both tests are bulk STRtree
   queries for all of them.
2. The markers of an isolated placement are the child's own markers (steps 1-3 for the
   child, in the placement's orientation, computed once per cell and orientation) moved
   by the placement's offset: translations are exact on the grid. A covered placement
   takes the child's markers computed with a box on the covering layers reaching 4 `h`
   beyond its content, keeping only the markers within `h` of the content (none is on
   the box): deep inside a shape, only that the shape is there matters.
3. C's own shapes and the placements that are neither are flattened together and
   checked as one flat layout (`pkgdrc.flat.rule_violations`).

Isolated and covered content lies farther than `h` from every edge of everything else
in C, so the flat run over C finds exactly the markers of steps 2 and 3, no more, no
fewer; applied from the top down this gives the flat run's markers, marker for marker
(tests/test_cellwise.py, tests/test_cellwise_cover.py). A check is only ever computed
on geometry in its final orientation; only translations are applied to results. The
price of the simple box test: placements closer than `h` to each other (a die and its
fan-out quadrants; pads closer than an `inside` clearance) are checked flat, at that
level only.

Closed rules (net rules: `CheckKind.closed`). Fan-out reach, trace width against the die
and connectivity are not local: a net runs as far as its shapes touch. But the nets that
touch an isolated placement cannot leave it: two shapes join only where they meet, and
nothing of the parent (no shape, no label point, no other placement's box) comes within
`h` >= 2 dbu of the placement's box. So for such rules the boxes and the isolation test
take every `connect:` layer and the label points of the labelled layers as content, and an
isolated placement holds whole nets, with their labels and dies: its markers are those of
a run over it alone, and the parent's flat run (its own shapes and the crowded placements)
meets none of its nets. The cover test is never used for them (a covering shape would join
the nets it covers). Their messages name places (`DIE@(x,y)`, unlabelled nets as
`LAYER@(x,y)`), so an isolated placement is computed where it lies, never once and moved;
so is any placement of a cell placed once (nothing to reuse), for every rule. Labels of the
cell and of its crowded placements are flattened into the group as its shapes are.

"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from pkgdrc.cellmerge import content_labels, crowding, placed_labels, placements
from pkgdrc.checks import drawn_behind, drawn_reads, kind_of
from pkgdrc.deck import Deck, Rule
from pkgdrc.flat import rule_violations
from pkgdrc.geometry.edges import Edges, polygon_edges, subject_edges
from pkgdrc.geometry.polygons import EMPTY, merge
from pkgdrc.hierarchy import IDENTITY, CellTree, Matrix, label_boxes, place, place_box
from pkgdrc.layers import LayerSet
from pkgdrc.layout import Layout
from pkgdrc.markers import Violations
from pkgdrc.reach import interaction_dbu

Found = list[tuple[str, Violations]]  # (layer the rule ran on, its violations), in dbu
At = tuple[float, float]  # where a cell's origin lies in the top's frame, dbu
HERE: At = (0.0, 0.0)
# A part of a cell's check: ("cells", child, orientation, cover layers, offsets (k, 2)) or
# ("flat", [(child, orientation, offsets), ...] checked flat with the cell's own shapes).
Part = tuple


def is_local(rule: Rule) -> bool:
    """True when the rule's kind makes markers from nearby shapes only (`CheckKind.local`)."""
    return kind_of(rule).local


def is_closed(rule: Rule) -> bool:
    """True when the rule is not local but closed per isolated placement (`CheckKind.closed`)."""
    kind = kind_of(rule)
    return not kind.local and kind.closed(rule.params)


def by_cell_possible(rule: Rule) -> bool:
    """Whether the rule may run cell by cell at all: local, or closed per isolated placement."""
    return is_local(rule) or is_closed(rule)


def cover_layers(rule: Rule) -> list[str]:
    """Layers whose shapes may cover a placement for this rule: the kind's `cover_layers(params)`."""
    return list(kind_of(rule).cover_layers(rule.params))


def _take(v: Violations, keep: np.ndarray) -> Violations:
    messages = v.messages if isinstance(v.messages, str) else np.asarray(v.messages, dtype=object)[keep]
    return Violations(v.kind, v.geometry[keep], v.values[keep], v.value_unit, messages)


def translate(v: Violations, offsets: np.ndarray) -> Violations:
    """Violations copied to each offset ((k, 2), whole dbu), offset-major."""
    k = len(offsets)
    if k == 1 and not offsets.any():
        return v
    if v.kind == "polygon":
        geometry = place(v.geometry, IDENTITY, offsets)
    else:
        shape = (1,) * (v.geometry.ndim - 1)
        geometry = (offsets.reshape(k, *shape, 2) + v.geometry[None]).reshape(-1, *v.geometry.shape[1:])
    messages = v.messages if isinstance(v.messages, str) else np.tile(np.asarray(v.messages, dtype=object), k)
    return Violations(v.kind, geometry, np.tile(v.values, k), v.value_unit, messages)


class Shared:
    """What the rules of a run (or of one unit of work) share: the flat groups (LayerSets by
    their content) and each drawn layer merged once per content, whichever group asks."""

    def __init__(self, layer_boxes: dict[str, dict[str, np.ndarray]] | None = None) -> None:
        self.groups: dict[tuple, LayerSet] = {}
        self.merged: dict[tuple, Any] = {}  # merged layers and their edges, by content
        self.placed: dict[tuple, np.ndarray] = {}
        self.layer_boxes: dict[str, dict[str, np.ndarray]] = {} if layer_boxes is None else layer_boxes

    def place(self, tree: CellTree, cell: str, m: Matrix, offsets: np.ndarray, layer: str, own: bool) -> np.ndarray:
        """A cell's own shapes (`own`) or its content on `layer`, turned by `m`, at each offset."""
        key = (cell, m, offsets.tobytes(), layer, own)
        if key not in self.placed:
            shapes = tree.cells[cell].polygons.get(layer, EMPTY) if own else tree.content(cell, layer)
            self.placed[key] = place(shapes, m, offsets)
        return self.placed[key]

    def has(self, tree: CellTree, cell: str, layer: str) -> bool:
        """Whether the cell's content has shapes on `layer`."""
        return cell in self.boxes(tree, layer)

    def boxes(self, tree: CellTree, layer: str) -> dict[str, np.ndarray]:
        """Each cell's content box on `layer` (`CellTree.content_boxes`), computed once."""
        if layer not in self.layer_boxes:
            self.layer_boxes[layer] = tree.content_boxes([layer])
        return self.layer_boxes[layer]

    def content_boxes(self, tree: CellTree, layers: list[str], label_layers: list[str]) -> dict[str, np.ndarray]:
        """`CellTree.content_boxes` over several layers, made of the boxes per layer."""
        if label_layers:
            return tree.content_boxes(layers, label_layers)
        per = [self.boxes(tree, n) for n in layers]
        out = {}
        for name in tree.cells:
            found = [b[name] for b in per if name in b]
            if found:
                every = np.array(found)
                out[name] = np.concatenate([every[:, :2].min(axis=0), every[:, 2:].max(axis=0)])
        return out


class _Group(LayerSet):
    """A flattened group's layers; a drawn layer is merged (and cut into edges) once per
    content (`Shared.merged`), whichever group asks."""

    def __init__(self, layout: Layout, deck: Deck, shared: Shared, key_of: Callable[[str], tuple]):
        super().__init__(layout, deck)
        self._shared, self._key_of = shared, key_of

    def _once(self, what: str, name: str, make: Callable[[], Any]) -> Any:
        key = (what, *self._key_of(name))
        if key not in self._shared.merged:
            self._shared.merged[key] = make()
        return self._shared.merged[key]

    def merged(self, name: str) -> np.ndarray:
        if name not in self._merged and name in self.deck.layers:
            self._merged[name] = self._once("merged", name, lambda: merge(self.polygons(name)))
        return super().merged(name)

    def edges(self, name: str) -> Edges:
        if name not in self._edges and name in self.deck.layers:
            self._edges[name] = self._once("edges", name, lambda: polygon_edges(self.merged(name)))
        return super().edges(name)

    def subject_edges(self, name: str) -> Edges:
        if name not in self._subject_edges and name in self.deck.layers:
            self._subject_edges[name] = self._once("subject", name, lambda: subject_edges(self.merged(name)))
        return super().subject_edges(name)


class CellwiseRule:
    """One local (or closed) rule run down a layout's cell tree."""

    def __init__(self, layout: Layout, deck: Deck, rule: Rule, shared: Shared | None = None):
        if layout.tree is None:
            raise ValueError("cellwise checking needs a layout read with its hierarchy")
        self.layout, self.deck, self.rule = layout, deck, rule
        self.tree: CellTree = layout.tree
        self.closed = is_closed(rule)
        layers = drawn_reads(deck, rule)
        self.label_layers: list[str] = []
        self.nets = kind_of(rule).needs_nets(rule.params)
        if self.closed and self.nets:
            connect = [n for chain in deck.connect for n in chain]
            layers = sorted(set(layers) | set(drawn_behind(deck, connect)))
            self.label_layers = [n for n in deck.labels if n in connect]
        self.layers = layers
        self.halo = interaction_dbu(deck, rule, layout.grid)
        self.shared = shared if shared is not None else Shared()
        self.boxes = self.shared.content_boxes(self.tree, self.layers, self.label_layers)
        self.cover_layers = set() if self.closed else set(cover_layers(rule)) & set(self.layers)
        self._done: dict[tuple, Found] = {}
        self._labels: dict = {}

    def in_place(self, offsets: np.ndarray) -> bool:
        """Placements checked where they lie rather than once and moved: always for a closed
        rule (its messages name places), and for a cell placed once (nothing to reuse)."""
        return self.closed or len(offsets) == 1

    def reads(self) -> int:
        """Shapes of the flattened top on the layers the rule reads (for ordering work)."""
        return sum(self.layout.count(n) for n in self.layers)

    def run(self) -> Found:
        """The rule's violations over the flattened top, in dbu."""
        return [f for part in self.parts() for f in self.run_part(part)]

    def parts(self) -> list[Part]:
        """The top cell's parts (see `_parts`)."""
        if self.tree.top not in self.boxes:
            return []
        return self._parts(self.tree.top, IDENTITY, frozenset(), HERE)

    def run_part(self, part: Part, name: str | None = None, m: Matrix = IDENTITY, at: At = HERE) -> Found:
        """The violations of one part of cell `name` (default the top) turned by `m` at `at`."""
        if part[0] == "flat":
            return self._check_flat(self.tree.top if name is None else name, m, frozenset(), at, part[1])
        _, child, mm, layers, offs = part
        if self.in_place(offs):
            return [f for o in offs.tolist() for f in self._cell(child, mm, layers, (o[0], o[1]))]
        return [(layer, translate(v, offs)) for layer, v in self._cell(child, mm, layers, HERE)]

    def _cell(self, name: str, m: Matrix, cover: frozenset[str] = frozenset(), at: At = HERE) -> Found:
        key = (name, m, cover, at)
        if key not in self._done:
            self._done[key] = self._check_cell(name, m, cover, at)
        return self._done[key]

    def _check_cell(self, name: str, m: Matrix, cover: frozenset[str], at: At = HERE) -> Found:
        """Cell `name` turned by `m`, its origin at `at`; with `cover`, as if it lay deep inside
        shapes of those layers."""
        found: Found = []
        for part in self._parts(name, m, cover, at):
            if part[0] == "flat":
                found += self._check_flat(name, m, cover, at, part[1])
            else:
                found += self.run_part(part, name, m, at)
        return self._within_content(found, name, m, cover, at)

    def _parts(self, name: str, m: Matrix, cover: frozenset[str], at: At) -> list[Part]:
        """Cell `name`'s placements checked on their own (isolated or covered: ("cells", child,
        orientation, cover layers, offsets)), and the rest checked flat with its own shapes
        (("flat", [(child, orientation, offsets), ...]), last)."""
        where = np.array([at])
        mine = self._group(name, m, at, self._cover_box(name, m, cover, at), [])
        own = {n: mine[n] for n in self.layers}
        keys, offsets, boxes = placements(self.tree, self.boxes, name, m)
        if not keys:
            return [("flat", [])]
        offsets = [o + where for o in offsets]
        boxes = boxes + np.hstack([where, where])
        points = [label_boxes(self.tree.cells[name].labels.get(n, []), m, where) for n in self.label_layers]
        labels = shapely.points(np.concatenate([np.empty((0, 4)), *points])[:, :2])
        covers: np.ndarray = self._covers(own, labels, boxes)
        parts: list[Part] = []
        rest = []
        start = 0
        for (child, mm), offs in zip(keys, offsets):
            masks = covers[start : start + len(offs)]
            start += len(offs)
            for mask in np.unique(masks[masks >= 0]):
                layers = frozenset(n for k, n in enumerate(self.layers) if mask >> k & 1)
                parts.append(("cells", child, mm, layers, offs[masks == mask]))
            if (masks < 0).any():
                rest.append((child, mm, offs[masks < 0]))
        return parts + [("flat", rest)]

    def _covers(self, own: dict[str, np.ndarray], points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Per placement box: -1 when it must be checked flat with its parent, else a bit mask of
        `self.layers`: 0 for an isolated placement, the covering layers for a covered one.

        Isolated: no other box (own shapes, own label points, other placements) within the
        halo. Covered: every one within the halo is an own shape, on a layer the check lets
        cover (`cover_layers`), that holds the placement's box grown by the halo.
        """
        shapes = np.concatenate([own[n] for n in self.layers])
        layer_of = np.repeat(np.arange(len(self.layers)), [len(own[n]) for n in self.layers])
        items = np.concatenate([shapes, points])
        near, other, grown = crowding(items, boxes, self.halo)
        every = len(items) + len(boxes)
        mask = np.zeros(len(boxes), dtype=np.int64)
        can_cover = np.isin(layer_of, [k for k, n in enumerate(self.layers) if n in self.cover_layers])
        if can_cover.any() and len(near):
            held, by = shapely.STRtree(shapes[can_cover]).query(grown, predicate="within")
            holder = np.flatnonzero(can_cover)[by]
            ok = np.isin(near * every + other, held * every + holder)
            np.bitwise_or.at(mask, near[ok], 1 << layer_of[other[ok]])
            near = near[~ok]
        mask[near] = -1
        return mask

    def _within_content(self, found: Found, name: str, m: Matrix, cover: frozenset[str], at: At) -> Found:
        """Under a cover, only the markers on the cell's own content (not on the cover box) count."""
        if not cover:
            return found
        box = place_box(self.boxes[name], m, np.array([at]))[0] + self.halo * np.array([-1, -1, 1, 1])
        out = []
        for layer, v in found:
            if v.kind == "polygon":
                b = shapely.bounds(v.geometry).reshape(-1, 4)
            else:
                pts = v.geometry.reshape(len(v), -1, 2)
                b = np.hstack([pts.min(axis=1), pts.max(axis=1)])
            keep = (b[:, 0] >= box[0]) & (b[:, 1] >= box[1]) & (b[:, 2] <= box[2]) & (b[:, 3] <= box[3])
            if keep.any():
                out.append((layer, _take(v, keep)))
        return out

    def _check_flat(
        self, name: str, m: Matrix, cover: frozenset[str], at: At, rest: list[tuple[str, Matrix, np.ndarray]]
    ) -> Found:
        """The cell's own shapes plus the crowded placements `rest` (offsets in the top's frame),
        flattened and checked as one flat layout."""
        box = self._cover_box(name, m, cover, at)
        key = (name, m, at, box, tuple((c, mm, o.tobytes()) for c, mm, o in rest), self.nets)
        groups = self.shared.groups
        if key not in groups:
            polygons = self._group(name, m, at, box, rest)
            labels = self._group_labels(name, m, at, rest) if self.nets else {}
            layout = Layout(self.layout.path, self.layout.top, self.layout.grid, polygons, labels)
            groups[key] = _Group(layout, self.deck, self.shared, self._layer_key(name, m, at, box, rest))
        layers = groups[key]
        if not any(len(layers.layout.polygons[n]) for n in self.layers):
            return []
        return [(layer, v) for layer, v in rule_violations(layers, self.rule) if len(v)]

    def _layer_key(self, name: str, m: Matrix, at: At, box: tuple | None, rest: list) -> Callable[[str], tuple]:
        """What a drawn layer of a group is made of: its merge is shared by the groups of the
        same content on that layer."""

        def key(layer: str) -> tuple:
            placed = tuple((c, mm, o.tobytes()) for c, mm, o in rest if self.shared.has(self.tree, c, layer))
            return (layer, name, m, at, box if box is not None and layer in box[0] else None, placed)

        return key

    def _group_labels(self, name: str, m: Matrix, at: At, rest: list) -> dict[str, list[tuple[str, float, float]]]:
        """Labels of the cell's own and of the `rest` placements' content, in the top's frame."""
        out: dict[str, list[tuple[str, float, float]]] = {}
        for layer in self.label_layers:
            placed = [(self.tree.cells[name].labels.get(layer, []), m, np.array([at]))]
            placed += [(content_labels(self.tree, c, layer, self._labels), mm, offs) for c, mm, offs in rest]
            out[layer] = [lb for labels, mm, offs in placed for lb in placed_labels(labels, mm, offs)]
        return out

    def _cover_box(self, name: str, m: Matrix, cover: frozenset[str], at: At) -> tuple | None:
        """Under `cover`: (layers, box) of the cover, reaching 4 h beyond the content on the rule's layers."""
        if not cover:
            return None
        grown = place_box(self.boxes[name], m, np.array([at]))[0] + 4 * self.halo * np.array([-1, -1, 1, 1])
        return cover, tuple(grown.tolist())

    def _group(
        self, name: str, m: Matrix, at: At, cover_box: tuple | None, rest: list[tuple[str, Matrix, np.ndarray]]
    ) -> _OnDemand:
        """Shapes per layer of cell `name` turned by `m` at `at`: its own, a cover box, and `rest` flattened."""
        tree = self.tree
        where = np.array([at])

        shared = self.shared

        def make(layer: str) -> np.ndarray:
            parts = [shared.place(tree, name, m, where, layer, True)]
            if cover_box is not None and layer in cover_box[0]:
                parts.append(np.array([shapely.box(*cover_box[1])], dtype=object))
            parts += [shared.place(tree, c, mm, offs, layer, False) for c, mm, offs in rest]
            parts = [p for p in parts if len(p)]
            return np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else EMPTY)

        return _OnDemand(make)


class _OnDemand(dict):
    """Polygons per layer name, made on first lookup (`get` included), for a Layout read by a LayerSet."""

    def __init__(self, make: Callable[[str], np.ndarray]):
        super().__init__()
        self._make = make

    def __missing__(self, name: str) -> np.ndarray:
        self[name] = self._make(name)
        return self[name]

    def get(self, name: str, default=None) -> np.ndarray:
        return self[name]
