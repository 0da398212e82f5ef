"""Minimum enclosure of `layer` (inner) by `by` (outer), and full coverage.

What it checks, on merged layers:
1. Edge pairs: an inner edge and an outer edge violate when the outer edge lies on the
   exterior side of the inner edge, the inner edge lies on the interior side of the
   outer edge, they face the same way, and their Euclidean distance is less than `min`.
   The value is the enclosure measured; a via flush with the pad's edge is an
   enclosure of 0. This is KLayout's `enclosed_check(by, min)` with its 0.30 defaults
   (shielded, zero distance counted where edges touch); see docs/semantics.md.
2. Coverage: every part of `layer` not covered by `by` is a polygon marker with the
   message "not covered by BY" and no value (an unlanded via is one marker covering
   the whole via; a partly landed via marks the part off the pad, plus the edge pairs
   where the pad's edge runs inside the via). KLayout's enclosed_check does not report
   uncovered parts; pkgdrc does, on purpose: an unlanded via is the worst enclosure error.

An enclosure exactly `min` passes; one database unit less fails.

Example: `VIA1.EN.PAD: {check: enclosure, layer: VIA1, by: DIE_PAD, min: 1.0}`.
"""

from __future__ import annotations

from pkgdrc.checks.common import LAYERS, edge_pair_violations
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.geometry.booleans import boolean_not
from pkgdrc.geometry.repeats import relate_repeated
from pkgdrc.markers import Violations

PARAMS = {
    "layer": LAYERS,
    "by": Param("layer", "the enclosing (outer) layer"),
    "min": Param("distance", "minimum enclosure in um"),
}


def cover_layers(p: dict) -> list[str]:
    """A placement deep inside `by` is enclosed, whatever the rest of `by` looks like."""
    return [p["by"]]


def limit(p: dict) -> float:
    return p["min"]


def run(layers, layer: str, p: dict):
    d = layers.grid.to_dbu(p["min"])
    pairs = relate_repeated(layers.subject_edges(layer), layers.edges(p["by"]), d, "outside", "inside")
    uncovered = boolean_not(layers.merged(layer), layers.merged(p["by"]))
    return [edge_pair_violations(pairs), Violations.polygons(uncovered, messages=f"not covered by {p['by']}")]


KIND = CheckKind(
    "enclosure",
    __doc__,
    PARAMS,
    run,
    limit,
    cover_layers=cover_layers,
    local=True,
    example={"layer": "B", "by": "A", "min": 0.5},
)
