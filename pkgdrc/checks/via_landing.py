"""Via landing: each via lands on `below` metal, is captured by `above` metal, has its size, keeps its space.

What it checks, on merged layers, for each via of `layer`:
1. Landing on `below` (e.g. DIE_PAD for VIA1). A via not overlapping `below` at all is
   one polygon marker "unlanded" (the whole via); one partly off it is "partly landed"
   (the part off `below`). Touching is not landing.
2. Enclosure by `below` of a wholly landed via: edge pairs closer than
   `below_enclosure + die_shift`, as the `enclosure` check measures them (Euclidean,
   facing edges; value = the enclosure). `die_shift` is how far the die may move in any
   direction while it is molded into the reconstituted wafer: the pads move with the
   die, the via does not, so the landing must hold with the pad displaced by up to that
   distance. A pair under `below_enclosure` is "BELOW enclosure"; one that passes
   without the shift but not with it is "BELOW enclosure with S um die shift".
3. Capture by `above` (e.g. RDL1): "no capture pad" (no overlap), "partly captured" (the
   part outside), and edge pairs under `above_enclosure` ("ABOVE capture enclosure").
   The upper metal is patterned after molding, aligned to the via: no die shift there.
4. `size`: the via's bounding-box width and height within `size` (a value for square
   vias of exactly that size, or {min, max}); the marker is the via, the value the
   offending dimension, the message "size: ...".
5. `space`: outside-facing edge pairs of two vias (or a notch) closer than `space`
   ("via space"), as the `space` check measures them.
6. `stacking: forbidden`: where a via of `next_via` (the next level up) overlaps a via
   of this layer, the overlap is a marker "stacked: NEXT over LAYER".

A value exactly at a limit passes; one database unit beyond it fails. Unlanded and
partly landed vias are not also measured for enclosure (one marker per defect).

Why it matters: a via through the polymer dielectric that lands partly on dielectric,
or on a pad the molded die has shifted away from, is an open or a weak, high-resistance
joint; an uncaptured via leaves its copper unconnected above; stacked vias concentrate
stress in the polymer.

Example:
`VIA1.L: {check: via_landing, layer: VIA1, below: DIE_PAD, above: RDL1, below_enclosure: 1,
above_enclosure: 1, die_shift: 5, size: {min: 10, max: 30}, space: 10}` flags a VIA1 whose
DIE_PAD reaches only 4 um past it: "DIE_PAD enclosure with 5 um die shift", value 4.
"""

from __future__ import annotations

import numpy as np

from pkgdrc.checks.common import LAYERS, edge_pair_violations, limits
from pkgdrc.checks.kind import CheckKind
from pkgdrc.checks.pkg_shapes import keep_pairs, landing, size_violations
from pkgdrc.deck.params import Param
from pkgdrc.geometry.booleans import boolean_and, boolean_not
from pkgdrc.geometry.repeats import relate_repeated
from pkgdrc.markers import Violations
from pkgdrc.units import EPS_DBU

PARAMS = {
    "layer": LAYERS,
    "below": Param("layer", "the metal the via lands on, e.g. DIE_PAD for VIA1, RDL1 for VIA2"),
    "above": Param("layer", "the metal that captures the via from above, e.g. RDL1 for VIA1"),
    "below_enclosure": Param("distance", "minimum enclosure of the via by `below`, in um", required=False, default=0.0),
    "above_enclosure": Param("distance", "minimum enclosure of the via by `above`, in um", required=False, default=0.0),
    "size": Param("range", "via width and height in um: a value, or {min, max}", required=False),
    "space": Param("distance", "minimum space between vias in um", required=False),
    "die_shift": Param(
        "distance",
        "die movement in molding (any direction) the landing must survive, in um",
        required=False,
        default=0.0,
    ),
    "stacking": Param(
        "choice",
        "a via of `next_via` directly over this via",
        required=False,
        default="allowed",
        choices=("allowed", "forbidden"),
    ),
    "next_via": Param("layer", "the via layer of the next level up (for stacking)", required=False),
}


def validate(p: dict) -> str | None:
    if p["stacking"] == "forbidden" and p["next_via"] is None:
        return "stacking: forbidden needs next_via (the via layer of the next level up)"
    return None


def reach(p: dict) -> float:
    """The farthest distance measured: the die-shifted landing enclosure, the capture, the size or the space."""
    size = max((v for v in (p["size"] or ()) if v != float("inf")), default=0.0)
    return max(p["below_enclosure"] + p["die_shift"], p["above_enclosure"], size, p["space"] or 0.0)


def limit(p: dict):
    return limits(p, "below_enclosure", "above_enclosure", "die_shift", "size", "space")


def _landing(layers, layer: str, metal: str, enclosure: float, shift: float, words: tuple[str, str, str]):
    """Markers for vias of `layer` on `metal`: not on it, partly on it, enclosure (with shift)."""
    vias = layers.merged(layer)
    off, partly = landing(vias, layers.merged(metal))
    d_enc, d_shift = layers.grid.to_dbu(enclosure), layers.grid.to_dbu(enclosure + shift)
    # Via by via, as `enclosure` measures: vias touching at a corner stay apart.
    e = layers.subject_edges(layer)
    pairs = relate_repeated(e, layers.edges(metal), d_shift, "outside", "inside")
    whole = ~(off | partly)
    pairs = keep_pairs(pairs, whole[e.polygon[pairs.ia]])
    no, part, enc = words
    msgs = np.where(
        pairs.distance < d_enc - EPS_DBU, f"{metal} {enc}", f"{metal} {enc} with {shift:g} um die shift"
    ).astype(object)
    return [
        Violations.polygons(vias[off], messages=f"{no}: not on {metal}"),
        Violations.polygons(boolean_not(vias[partly], layers.merged(metal)), messages=f"{part}: off {metal}"),
        edge_pair_violations(pairs, msgs),
    ]


def run(layers, layer: str, p: dict):
    out = _landing(
        layers, layer, p["below"], p["below_enclosure"], p["die_shift"], ("unlanded", "partly landed", "enclosure")
    )
    out += _landing(
        layers, layer, p["above"], p["above_enclosure"], 0.0, ("no capture pad", "partly captured", "capture enclosure")
    )
    out.append(size_violations(layers.merged(layer), p["size"], layers.grid, "via"))
    if p["space"] is not None:
        d = layers.grid.to_dbu(p["space"])
        pairs = relate_repeated(layers.edges(layer), None, d, "outside", "outside")
        out.append(edge_pair_violations(pairs, "via space"))
    if p["stacking"] == "forbidden":
        stacked = boolean_and(layers.merged(layer), layers.merged(p["next_via"]))
        out.append(Violations.polygons(stacked, messages=f"stacked: {p['next_via']} over {layer}"))
    return out


KIND = CheckKind(
    "via_landing",
    __doc__,
    PARAMS,
    run,
    limit,
    validate=validate,
    reach=reach,
    local=True,
    example={"layer": "B", "below": "A", "above": "C", "below_enclosure": 0.5},
)
