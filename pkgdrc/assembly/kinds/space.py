"""Space between parts: outside-facing edges of `layer` and `other` at least `min` apart.

What it checks: `pkgdrc explain separation` on the placed layers of two parts
(PART.LAYER each): edge pairs of `layer` and `other` facing each other from outside,
closer than `min` (Euclidean, KLayout's `separation` metric); edge-pair markers, value
= the distance. Overlapping shapes are not measured here (use `keepout`).

Why it matters: die-to-die spacing on an interposer (underfill flow, pick-and-place
tolerance), die to passive, interposer to the substrate's other components.

Example: `SP.1: {check: space, layer: die_a.DIE, other: die_b.DIE, min: 150}`.
"""

from __future__ import annotations

from pkgdrc.assembly.kinds.between import across_parts
from pkgdrc.checks import separation

KIND = across_parts("space", __doc__, separation.KIND)
