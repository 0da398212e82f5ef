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

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS, edge_pair_violations
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck.params import Param
from pkgdrc.geometry.booleans import boolean_not
from pkgdrc.geometry.edges import polygon_edges, subject_edges
from pkgdrc.geometry.pairs import REACH_PAD_DBU
from pkgdrc.geometry.polygons import merge
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
    inner, outer = layers.merged(layer), layers.polygons(p["by"])
    if layers.has_merged(p["by"]) or len(inner) == 0:
        a, b, by = layers.subject_edges(layer), layers.edges(p["by"]), layers.merged(p["by"])
    else:
        inner, by = _near_the_edge(inner, outer, d)
        a, b = subject_edges(inner), polygon_edges(by)
    pairs = relate_repeated(a, b, d, "outside", "inside")
    uncovered = boolean_not(inner, by)
    return [edge_pair_violations(pairs), Violations.polygons(uncovered, messages=f"not covered by {p['by']}")]


def _near_the_edge(inner: np.ndarray, outer: np.ndarray, d: float) -> tuple[np.ndarray, np.ndarray]:
    """The inner shapes that may violate, and `outer` merged around them, when `outer` is not
    merged yet (a rule checked alone, an outer layer no other rule merges).

    An inner shape inside one drawn outer shape, more than `d` (plus a dbu) from its boundary,
    passes: the merged boundary lies outside that shape, so no nearer, and no edge of the
    inner shape can shield a pair elsewhere (every point between a pair's edges is within `d`
    of its outer edge). The others are checked against the drawn outer shapes within their
    reach merged: the same boundary as the whole layer's near them.
    """
    tree = shapely.STRtree(outer)
    i, j = tree.query(inner, predicate="within")
    deep = np.zeros(len(inner), dtype=bool)
    far = shapely.distance(inner[i], shapely.boundary(outer[j])) > d + 1
    deep[i[far]] = True
    rest = inner[~deep]
    reach = shapely.bounds(rest) + np.array([-1, -1, 1, 1]) * (d + REACH_PAD_DBU)
    near = np.unique(tree.query(shapely.box(*reach.T))[1]) if len(rest) else np.empty(0, dtype=int)
    return rest, merge(outer[near])


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
