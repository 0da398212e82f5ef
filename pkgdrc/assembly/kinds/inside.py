"""Inside across parts: every part of `layer` lies inside `of` shrunk by `clearance`.

What it checks: `pkgdrc explain inside` on the placed layers of two parts (PART.LAYER
each): each piece of `layer` outside `of` shrunk by `clearance` is one polygon marker.

Why it matters: a die inside its interposer, an interposer inside its substrate, a die
inside its cavity or substrate opening with clearance for placement and fill.

Example: `IN.1: {check: inside, layer: interposer.OUTLINE, of: substrate.OUTLINE, clearance: 500}`.
"""

from __future__ import annotations

from pkgdrc.assembly.kinds.between import across_parts
from pkgdrc.checks import inside

KIND = across_parts("inside", __doc__, inside.KIND)
