"""Minimum overlap: where `layer` and `other` overlap, the overlap must be at least `min` wide.

What it checks: both layers merged; an edge of `layer` and an edge of `other` violate
when each lies on the interior side of the other (the overlap lies between them), they
face each other and their distance is less than `min`. Shapes that only abut are an
overlap of 0; shapes apart are not reported. Same as KLayout `overlap_check(other, min)`
with its 0.30 defaults; see docs/semantics.md.

Why it matters: a via or UBM that overlaps its metal by a sliver has a weak joint.

Example: `UBM.OV: {check: overlap, layer: UBM, other: RDL2, min: 5}`.
"""

from __future__ import annotations

from pkgdrc.checks.common import LAYERS, edge_pair_violations
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.geometry.repeats import relate_repeated

PARAMS = {
    "layer": LAYERS,
    "other": Param("layer", "the other layer"),
    "min": Param("distance", "minimum overlap width in um"),
}


def limit(p: dict) -> float:
    return p["min"]


def run(layers, layer: str, p: dict):
    d = layers.grid.to_dbu(p["min"])
    return [
        edge_pair_violations(
            relate_repeated(layers.subject_edges(layer), layers.edges(p["other"]), d, "inside", "inside")
        )
    ]


KIND = CheckKind("overlap", __doc__, PARAMS, run, limit, local=True, example={"layer": "A", "other": "B", "min": 0.5})
