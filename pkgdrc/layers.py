"""Build layers: drawn layers from the layout, derived layers from the deck's expressions.

Each layer is computed once per run and cached, with its merged form and its edges, until
the run says no later rule reads it (`LayerSet.keep`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import numpy as np

from pkgdrc.cellmerge import merged_by_cell
from pkgdrc.deck import Deck
from pkgdrc.deck import expr as dexpr
from pkgdrc.geometry import booleans
from pkgdrc.geometry.edges import Edges, polygon_edges, subject_edges
from pkgdrc.geometry.polygons import EMPTY, merge
from pkgdrc.layout import Layout
from pkgdrc.nets import Nets
from pkgdrc.units import Grid


class LayerSet:
    """The layers of one run, by name, in database units.

    With `merge_by_cell` a drawn layer of a layout read with its hierarchy is merged cell by
    cell (`pkgdrc.cellmerge.merged_by_cell`: the same polygons, each cell merged once).
    """

    def __init__(self, layout: Layout, deck: Deck, merge_by_cell: bool = False):
        self.layout = layout
        self.deck = deck
        self.merge_by_cell = merge_by_cell and layout.tree is not None
        self.grid: Grid = layout.grid
        self._raw: dict[str, np.ndarray] = {}
        self._merged: dict[str, np.ndarray] = {}
        self._edges: dict[str, Edges] = {}
        self._subject_edges: dict[str, Edges] = {}

    def polygons(self, name: str) -> np.ndarray:
        """Shapes of a layer as drawn (or as derived), not merged."""
        if name not in self._raw:
            if name in self.deck.derived:
                self._raw[name] = self._evaluate(self.deck.derived[name])
            else:
                self._raw[name] = self.layout.polygons.get(name, EMPTY)
        return self._raw[name]

    def merged(self, name: str) -> np.ndarray:
        """Shapes of a layer merged: overlapping or touching shapes are one polygon."""
        if name not in self._merged:
            if self.merge_by_cell and self.layout.tree is not None and name in self.deck.layers:
                self._merged[name] = merged_by_cell(self.layout.tree, name)
            else:
                self._merged[name] = merge(self.polygons(name))
        return self._merged[name]

    def has_merged(self, name: str) -> bool:
        """Whether `merged(name)` is made already (a check may then use it for free)."""
        return name in self._merged

    def edges(self, name: str) -> Edges:
        """Edges of the merged layer, interior on the right."""
        if name not in self._edges:
            self._edges[name] = polygon_edges(self.merged(name))
        return self._edges[name]

    def subject_edges(self, name: str) -> Edges:
        """Edges of the merged layer polygon by polygon (`geometry.edges.subject_edges`): the
        first layer of a two-layer check."""
        if name not in self._subject_edges:
            self._subject_edges[name] = subject_edges(self.merged(name))
        return self._subject_edges[name]

    def _evaluate(self, e: dexpr.Expr) -> np.ndarray:
        """Shapes of a derived-layer expression (not merged)."""
        if isinstance(e, dexpr.Name):
            return self.merged(e.name)
        if isinstance(e, dexpr.Size):
            d = float(self.grid.to_dbu(e.distance))
            return booleans.sized(self._evaluate_merged(e.arg), d if e.func == "grow" else -d)
        op = {
            "|": booleans.boolean_or,
            "&": booleans.boolean_and,
            "-": booleans.boolean_not,
            "^": booleans.boolean_xor,
        }[e.op]
        return op(self._evaluate_merged(e.left), self._evaluate_merged(e.right))

    def _evaluate_merged(self, e: dexpr.Expr) -> np.ndarray:
        """Merged shapes of an operand (the booleans take merged inputs; layers are merged once)."""
        return self.merged(e.name) if isinstance(e, dexpr.Name) else merge(self._evaluate(e))

    def keep(self, names: Iterable[str], nets: bool) -> None:
        """Forget what only earlier rules read: the merged shapes, edges and derived shapes of every
        layer outside `names` (the layers later rules read) and the operands of those not made yet,
        and the nets unless `nets` (a later rule reads them).

        On a 1M-shape panel a merged layer with its edges is hundreds of MB, and a run reads
        each layer in a few rules. A layer forgotten and read again is made again, the same
        shapes: this trades time for memory, never a result.
        """
        wanted, todo = set[str](), list(names)
        if nets and "nets" not in self.__dict__:
            todo += [n for chain in self.deck.connect for n in chain]
        while todo:
            name = todo.pop()
            if name in wanted:
                continue
            wanted.add(name)
            if name in self.deck.derived and name not in self._merged:
                todo += dexpr.names(self.deck.derived[name])
        for cache in (self._raw, self._merged, self._edges, self._subject_edges):
            for name in [n for n in cache if n not in wanted]:
                del cache[name]
        for name in [n for n in self._raw if n in self.deck.derived and n in self._merged]:
            del self._raw[name]  # a derived layer is read merged
        if not nets:
            self.__dict__.pop("nets", None)

    @cached_property
    def nets(self) -> Nets:
        """Nets of the deck's `connect:` layers, extracted once per run on first use."""
        return Nets.extract(self)

    @cached_property
    def empty_layers(self) -> list[str]:
        """Drawn deck layers with no shapes in the layout."""
        return [n for n in self.deck.layers if self.layout.count(n) == 0]
