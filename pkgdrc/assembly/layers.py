"""The parts of one run, read and placed: PART.LAYER geometry in assembly coordinates.

Each part's layout is read once (`pkgdrc.layout.read_layout`, with its deck's layer and
label maps) and keeps its own `LayerSet` (its derived layers and nets, in its own frame).
`AssemblyLayers.placed("die_a.BUMP")` is that part's merged layer placed in the assembly
(assembly dbu), in the order of the part's `LayerSet.merged`, so that nets found in the
part (`Nets.of`) index it. `AssemblyLayers.layers` is a `LayerSet` over every placed layer
a rule reads, for the single-layout check kinds that run across parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pkgdrc.assembly.place import Placement
from pkgdrc.deck import Deck
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
        layout = Layout(assembly.path, assembly.name, grid, {ref: self.placed(ref) for ref in refs})
        self.layers = LayerSet(layout, Deck(assembly.name, assembly.path, dict.fromkeys(refs, (0, 0)),
                                            stack=dict(assembly.stack)))

    @staticmethod
    def split(ref: str) -> tuple[str, str]:
        part, layer = ref.split(".", 1)
        return part, layer

    def part(self, ref: str) -> Part:
        return self.parts[self.split(ref)[0]]

    def local(self, ref: str) -> np.ndarray:
        """The part's merged layer in its own frame, on the assembly grid (scaled, not placed)."""
        part = self.part(ref)
        return part.placement.local(part.layers.merged(self.split(ref)[1]))

    def placed(self, ref: str) -> np.ndarray:
        """The part's merged layer placed in the assembly (assembly dbu)."""
        if ref not in self._placed:
            part = self.part(ref)
            self._placed[ref] = part.placement.to_assembly(part.layers.merged(self.split(ref)[1]))
        return self._placed[ref]

    def net_names(self, ref: str) -> np.ndarray:
        """Per merged shape of PART.LAYER: the label texts of its net in its part ('' when unlabelled)."""
        part = self.part(ref)
        nets = part.layers.nets
        ids = nets.of(self.split(ref)[1])
        names = np.array(["+".join(nets.texts(i)) for i in range(nets.count)] or [""], dtype=object)
        return names[ids] if len(ids) else np.empty(0, dtype=object)
