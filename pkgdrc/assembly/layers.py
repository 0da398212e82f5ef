"""The parts of one run, read and placed: PART.LAYER geometry in assembly coordinates.

Each part's layout is read once (`pkgdrc.layout.read_layout`, with its deck's layer and
label maps) and keeps its own `LayerSet` (its derived layers and nets, in its own frame).
`AssemblyLayers.placed("die_a.BUMP")` is that part's merged layer placed in the assembly
(assembly dbu). When no two drawn shapes of a drawn layer even have overlapping bounding
boxes (bumps, pads: by the hundred thousand), the drawn shapes are the merged ones and are
used as drawn (one bulk STRtree query instead of a merge); nets index either form
(`Nets.drawn` or `Nets.of`). `AssemblyLayers.layers` is a `LayerSet` over every placed layer
a rule reads, for the single-layout check kinds that run across parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from pkgdrc.assembly.place import Placement
from pkgdrc.deck import Deck
from pkgdrc.geometry.polygons import polygon_parts
from pkgdrc.layers import LayerSet
from pkgdrc.layout import Layout
from pkgdrc.units import Grid

if TYPE_CHECKING:
    from pkgdrc.assembly.model import Assembly, PartSpec


@dataclass
class Part:
    """A part read from its layout: its own layers and where it sits."""

    spec: PartSpec
    layout: Layout
    layers: LayerSet
    placement: Placement

    @property
    def name(self) -> str:
        return self.spec.name


class AssemblyLayers:
    """Placed geometry of one run (assembly dbu) and the parts it comes from."""

    def __init__(self, assembly: Assembly, parts: dict[str, Part], grid: Grid, refs: list[str]):
        self.assembly, self.parts, self.grid = assembly, parts, grid
        self._placed: dict[str, np.ndarray] = {}
        self._own: dict[str, np.ndarray] = {}
        self._as_drawn: dict[str, bool] = {}
        layout = Layout(assembly.path, assembly.name, grid, {ref: self.placed(ref) for ref in refs})
        self.layers = LayerSet(
            layout, Deck(assembly.name, assembly.path, dict.fromkeys(refs, (0, 0)), stack=dict(assembly.stack))
        )

    @staticmethod
    def split(ref: str) -> tuple[str, str]:
        part, layer = ref.split(".", 1)
        return part, layer

    def part(self, ref: str) -> Part:
        return self.parts[self.split(ref)[0]]

    def own(self, ref: str) -> np.ndarray:
        """The part's merged layer in its own frame (part dbu)."""
        if ref not in self._own:
            part, layer = self.part(ref), self.split(ref)[1]
            self._as_drawn[ref] = False
            if layer in part.spec.deck.layers:
                drawn = polygon_parts(part.layers.polygons(layer))
                i, j = shapely.STRtree(drawn).query(drawn)  # bounding boxes that meet
                self._as_drawn[ref] = bool((i == j).all())
            self._own[ref] = drawn if self._as_drawn[ref] else part.layers.merged(layer)
        return self._own[ref]

    def local(self, ref: str) -> np.ndarray:
        """The part's merged layer in its own frame, on the assembly grid (scaled, not placed)."""
        return self.part(ref).placement.local(self.own(ref))

    def placed(self, ref: str) -> np.ndarray:
        """The part's merged layer placed in the assembly (assembly dbu)."""
        if ref not in self._placed:
            self._placed[ref] = self.part(ref).placement.to_assembly(self.own(ref))
        return self._placed[ref]

    def net_names(self, ref: str) -> np.ndarray:
        """Per shape of `placed(ref)`: the label texts of its net in its part ('' when unlabelled)."""
        nets = self.part(ref).layers.nets
        self.placed(ref)
        layer = self.split(ref)[1]
        ids = nets.drawn(layer) if self._as_drawn[ref] else nets.of(layer)
        unique, inverse = np.unique(ids, return_inverse=True)
        names = np.array(["+".join(nets.texts(i)) for i in unique.tolist()] + [""], dtype=object)  # per net
        return names[inverse] if len(ids) else np.empty(0, dtype=object)
