"""Pieces every edge-pair check shares."""

from __future__ import annotations

from pkgdrc.deck.params import Param
from pkgdrc.geometry.pairs import EdgePairs
from pkgdrc.markers import Violations

LAYERS = Param("layers", "the layer to check; a list runs the rule on each listed layer separately")


def edge_pair_violations(ep: EdgePairs, message: str = "") -> Violations:
    """Edge pairs as violations: the pair is the marker, its distance the value."""
    return Violations("edge_pair", ep.pairs, ep.distance, "length", message)
