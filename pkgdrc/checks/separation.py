"""Minimum separation between two layers: outside-facing edge pairs of `layer` and `other` closer than `min`.

What it checks: both layers merged; an edge of `layer` and an edge of `other` violate
when each lies on the exterior side of the other, they face each other and their
Euclidean distance is less than `min`. Shapes that abut or touch at a corner are a
separation of 0; shapes that overlap are not measured here (use a boolean AND, or
`overlap`). A pair with an edge of `other` (or of the same `layer` shape) between them
is not reported (shielding). Same as KLayout `separation_check(other, min)` with its
0.30 defaults; see docs/semantics.md.

Why it matters: keeps e.g. UBM clear of a neighbouring layer's metal.

Example: `UBM.SEP: {check: separation, layer: UBM, other: RDL2, min: 10}`.
"""

from __future__ import annotations

from pkgdrc.checks.common import LAYERS, edge_pair_violations
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.geometry.repeats import relate_repeated

PARAMS = {
    "layer": LAYERS,
    "other": Param("layer", "the other layer"),
    "min": Param("distance", "minimum separation in um"),
}


def limit(p: dict) -> float:
    return p["min"]


def run(layers, layer: str, p: dict):
    d = layers.grid.to_dbu(p["min"])
    return [
        edge_pair_violations(
            relate_repeated(layers.subject_edges(layer), layers.edges(p["other"]), d, "outside", "outside")
        )
    ]


KIND = CheckKind(
    "separation", __doc__, PARAMS, run, limit, local=True, example={"layer": "A", "other": "B", "min": 1.0}
)
