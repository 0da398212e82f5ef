"""Pieces every edge-pair check shares."""

from __future__ import annotations

import numpy as np

from pkgdrc.deck.params import Param
from pkgdrc.geometry.pairs import EdgePairs
from pkgdrc.markers import Violations

LAYERS = Param("layers", "the layer to check; a list runs the rule on each listed layer separately")


def edge_pair_violations(ep: EdgePairs, message: str | np.ndarray = "") -> Violations:
    """Edge pairs as violations: the pair is the marker, its distance the value; `message` one
    for all, or one per pair."""
    return Violations("edge_pair", ep.pairs, ep.distance, "length", message)


def limits(p: dict, *names: str):
    """The limit of a check that tests several things: its set parameters by name.

    Unset and zero parameters (zero means "not checked") are left out. A range
    parameter, (lo, hi), reads as {"min": lo, "max": hi} without an infinite end. A single
    set parameter is returned as its plain value.
    """
    found = {}
    for k in names:
        v = p.get(k)
        if v is None or (isinstance(v, float) and v == 0.0):
            continue
        if isinstance(v, tuple):
            lo, hi = v
            v = lo if lo == hi else {b: x for b, x in (("min", lo), ("max", hi)) if x not in (0.0, float("inf"))}
        found[k] = v
    return next(iter(found.values())) if len(found) == 1 else found
