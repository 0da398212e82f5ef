"""Covers across parts: each shape of `layer` lies inside one shape of `by`, `margin` from its edge.

What it checks: `pkgdrc explain covers` on the placed layers of two parts (PART.LAYER
each): a `layer` shape inside no `by` shape (no value), or closer than `margin` to its
edge (value = the margin it has); a cover with less than `min_area_ratio` times the area
of the shapes it covers.

Why it matters: a heat sink or lid, drawn by the mechanical team as its own part,
overhangs every die it cools by a margin (placement tolerance, thermal spreading).

Example: `HS.1: {check: covers, layer: die.DIE, by: sink.HEATSINK, margin: 300}`.
"""

from __future__ import annotations

from pkgdrc.assembly.kinds.between import across_parts
from pkgdrc.checks import covers

KIND = across_parts("covers", __doc__, covers.KIND)
