"""Keep-out between parts: each shape of `layer` stays at least `min` from every shape of `other`.

What it checks: `pkgdrc explain keepout` on the placed layers of two parts (PART.LAYER
each): each merged `layer` shape closer than `min` to an `other` shape, overlap
included, is one polygon marker (the `layer` shape), value = its smallest distance (0
when they overlap). A distance exactly `min` passes.

Why it matters: a die's keep-out (its underfill fillet, the dispense lane) must stay
clear of its neighbour die and of passives; a heat sink's standoffs clear of the die.

Example: `KO.1: {check: keepout, layer: die_b.DIE, other: die_a.KEEPOUT, min: 0}`.
"""

from __future__ import annotations

from pkgdrc.assembly.kinds.between import across_parts
from pkgdrc.checks import keepout

KIND = across_parts("keepout", __doc__, keepout.KIND)
