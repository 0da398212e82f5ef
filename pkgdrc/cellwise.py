"""Check each cell once: local rules run down the cell hierarchy instead of on the flat layout.

A check kind is *local* (`LOCAL = True` in its module) when every marker it makes
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
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import shapely

from pkgdrc.cellmerge import content_boxes, crowding, placements
from pkgdrc.checks import drawn_reads, kind_of
from pkgdrc.deck import Deck, Rule
from pkgdrc.flat import rule_violations
from pkgdrc.geometry.polygons import EMPTY
from pkgdrc.hierarchy import IDENTITY, ORIGIN, CellTree, Matrix, place, place_box
from pkgdrc.layers import LayerSet
from pkgdrc.layout import Layout
from pkgdrc.markers import Violations
from pkgdrc.pool import forked_map
from pkgdrc.reach import interaction_dbu

Found = list[tuple[str, Violations]]  # (layer the rule ran on, its violations), in dbu


def is_local(rule: Rule) -> bool:
    """True when the rule's kind makes markers from nearby shapes only (`CheckKind.local`)."""
    return kind_of(rule).local


def _rule_of(state: tuple, i: int) -> tuple[Found, float]:
    layout, deck, rules, groups = state
    start = time.perf_counter()
    return CellwiseRule(layout, deck, rules[i], groups).run(), time.perf_counter() - start


def run_rules(
    layout: Layout,
    deck: Deck,
    rules: list[Rule],
    jobs: int = 1,
    on_rule: Callable[[Rule], None] | None = None,
    seconds: list[float] | None = None,
) -> list[Found]:
    """Each rule's violations, cell by cell; on `jobs` forked processes (a rule each at a time) when > 1.

    `on_rule(rule)` is called as a rule starts (one process) or finishes (several);
    `seconds`, when given, receives the time each rule took where it ran, in order.
    """
    groups: dict = {}  # flat groups shared by the rules (in each process)
    took = seconds if seconds is not None else []
    took[:] = [0.0] * len(rules)
    if jobs <= 1 or len(rules) <= 1:
        out = []
        for k, rule in enumerate(rules):
            if on_rule is not None:
                on_rule(rule)
            start = time.perf_counter()
            out.append(CellwiseRule(layout, deck, rule, groups).run())
            took[k] = time.perf_counter() - start
        return out
    found: list = [None] * len(rules)
    for i, (result, s) in forked_map(_rule_of, (layout, deck, rules, groups), len(rules), jobs):
        found[i], took[i] = result, s
        if on_rule is not None:
            on_rule(rules[i])
    return found


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


class CellwiseRule:
    """One local rule run down a layout's cell tree."""

    def __init__(self, layout: Layout, deck: Deck, rule: Rule, groups: dict | None = None):
        if layout.tree is None:
            raise ValueError("cellwise checking needs a layout read with its hierarchy")
        self.layout, self.deck, self.rule = layout, deck, rule
        self.tree: CellTree = layout.tree
        self.layers = drawn_reads(deck, rule)
        self.halo = interaction_dbu(deck, rule, layout.grid)
        self.boxes = content_boxes(self.tree, self.layers)
        self.cover_layers = set(cover_layers(rule)) & set(self.layers)
        self._done: dict[tuple[str, Matrix, frozenset[str]], Found] = {}
        # Flat groups by their content, shared by the rules of a run: layers merged once.
        self.groups: dict[tuple, LayerSet] = {} if groups is None else groups

    def run(self) -> Found:
        """The rule's violations over the flattened top, in dbu."""
        if self.tree.top not in self.boxes:
            return []
        return self._cell(self.tree.top, IDENTITY)

    def _cell(self, name: str, m: Matrix, cover: frozenset[str] = frozenset()) -> Found:
        key = (name, m, cover)
        if key not in self._done:
            self._done[key] = self._check_cell(name, m, cover)
        return self._done[key]

    def _check_cell(self, name: str, m: Matrix, cover: frozenset[str]) -> Found:
        """Cell `name` turned by `m`; with `cover`, as if it lay deep inside shapes of those layers."""
        mine = self._group(name, m, self._cover_box(name, m, cover), [])
        own = {n: mine[n] for n in self.layers}
        keys, offsets, boxes = placements(self.tree, self.boxes, name, m)
        if not keys:
            return self._within_content(self._check_flat(name, m, cover, []), name, m, cover)
        covers: np.ndarray = self._covers(own, boxes)
        found: Found = []
        rest = []
        start = 0
        for (child, mm), offs in zip(keys, offsets):
            masks = covers[start : start + len(offs)]
            start += len(offs)
            for mask in np.unique(masks[masks >= 0]):
                layers = frozenset(n for k, n in enumerate(self.layers) if mask >> k & 1)
                found += [(layer, translate(v, offs[masks == mask])) for layer, v in self._cell(child, mm, layers)]
            if (masks < 0).any():
                rest.append((child, mm, offs[masks < 0]))
        return self._within_content(found + self._check_flat(name, m, cover, rest), name, m, cover)

    def _covers(self, own: dict[str, np.ndarray], boxes: np.ndarray) -> np.ndarray:
        """Per placement box: -1 when it must be checked flat with its parent, else a bit mask of
        `self.layers`: 0 for an isolated placement, the covering layers for a covered one.

        Isolated: no other box (own shapes, other placements) within the halo. Covered: every
        one within the halo is an own shape, on a layer the check lets cover
        (`cover_layers`), that holds the placement's box grown by the halo.
        """
        shapes = np.concatenate([own[n] for n in self.layers])
        layer_of = np.repeat(np.arange(len(self.layers)), [len(own[n]) for n in self.layers])
        near, other, grown = crowding(shapely.bounds(shapes).reshape(-1, 4), boxes, self.halo)
        every = len(shapes) + len(boxes)
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

    def _within_content(self, found: Found, name: str, m: Matrix, cover: frozenset[str]) -> Found:
        """Under a cover, only the markers on the cell's own content (not on the cover box) count."""
        if not cover:
            return found
        box = place_box(self.boxes[name], m, ORIGIN)[0] + self.halo * np.array([-1, -1, 1, 1])
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
        self, name: str, m: Matrix, cover: frozenset[str], rest: list[tuple[str, Matrix, np.ndarray]]
    ) -> Found:
        """The cell's own shapes plus the crowded placements `rest`, flattened and checked as one flat layout."""
        box = self._cover_box(name, m, cover)
        key = (name, m, box, tuple((c, mm, o.tobytes()) for c, mm, o in rest))
        if key not in self.groups:
            polygons = self._group(name, m, box, rest)
            self.groups[key] = LayerSet(
                Layout(self.layout.path, self.layout.top, self.layout.grid, polygons, {}), self.deck
            )
        layers = self.groups[key]
        if not any(len(layers.layout.polygons[n]) for n in self.layers):
            return []
        return [(layer, v) for layer, v in rule_violations(layers, self.rule) if len(v)]

    def _cover_box(self, name: str, m: Matrix, cover: frozenset[str]) -> tuple | None:
        """Under `cover`: (layers, box) of the cover, reaching 4 h beyond the content on the rule's layers."""
        if not cover:
            return None
        grown = place_box(self.boxes[name], m, ORIGIN)[0] + 4 * self.halo * np.array([-1, -1, 1, 1])
        return cover, tuple(grown.tolist())

    def _group(
        self, name: str, m: Matrix, cover_box: tuple | None, rest: list[tuple[str, Matrix, np.ndarray]]
    ) -> _OnDemand:
        """Shapes per layer of cell `name` turned by `m`: its own, a cover box, and `rest` flattened."""
        tree = self.tree

        def make(layer: str) -> np.ndarray:
            parts = [place(tree.cells[name].polygons.get(layer, EMPTY), m, ORIGIN)]
            if cover_box is not None and layer in cover_box[0]:
                parts.append(np.array([shapely.box(*cover_box[1])], dtype=object))
            parts += [place(tree.content(c, layer), mm, offs) for c, mm, offs in rest]
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
