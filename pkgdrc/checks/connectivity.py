"""Connectivity: every die pad's net reaches a bond pad; no two labelled nets are shorted.

What it checks (needs the deck's `connect:`; see `pkgdrc.nets` for how nets are made):
1. Opens: each die pad (a merged shape of `layer`) whose net has no shape on any of
   the `bond` layers (PO, UBM) is a polygon marker on the die pad, "open: net NAME
   reaches no bond pad".
2. Shorts: a net carrying two different label texts (deck `labels:`) is one marker per
   pair of texts, "short: nets A and B meet", placed where the shapes reached from
   the two labels meet (see `pkgdrc.nets`).
3. Floating metal, only with `floating: report`: each shape of the `metal` layers on a
   net with neither a die pad nor a bond pad, "floating: LAYER connected to nothing".
   Dummy fill floats by design, so the default (`floating: ignore`) does not report it.
Shorts and floating metal are reported once per rule, under its first layer.

Why it matters: the structure's claim is that each bonding pad is electrically
connected to its die pad; an open leaves a die pad unreachable, a short joins two
signals, floating metal that is not fill is usually a broken route.

Example: `CONN.1: {check: connectivity, layer: DIE_PAD, bond: [PO, UBM]}` flags a die pad
whose RDL1 trace stops short of its VIA2: "open: net VDD reaches no bond pad".
"""

from __future__ import annotations

import numpy as np

from pkgdrc.checks.common import LAYERS
from pkgdrc.checks.kind import CheckKind
from pkgdrc.checks.pkg_shapes import first_layer
from pkgdrc.deck.params import Param
from pkgdrc.geometry.polygons import EMPTY
from pkgdrc.markers import Violations


def needs_nets(p: dict) -> bool:
    return True


PARAMS = {
    "layer": LAYERS,
    "bond": Param("layers", "the bond-pad layers a die pad's net must reach, e.g. [PO, UBM]"),
    "floating": Param(
        "choice",
        "report metal connected to nothing (fill floats by design)",
        required=False,
        default="ignore",
        choices=("ignore", "report"),
    ),
    "metal": Param("layers", "layers checked for floating metal, e.g. [RDL1, RDL2]", required=False),
}


def validate(p: dict) -> str | None:
    if p["floating"] == "report" and not p["metal"]:
        return "floating: report needs metal (the layers to check, e.g. [RDL1, RDL2])"
    return None


def limit(p: dict) -> str:
    return "every die pad's net reaches a bond pad; one label per net"


def run(layers, layer: str, p: dict):
    nets = layers.nets
    reach = nets.on(p["bond"])
    pad_net = nets.of(layer)
    opens = np.flatnonzero(~reach[pad_net])
    msgs = np.array(
        [f"open: net {nets.name(n)} reaches no bond pad ({', '.join(p['bond'])})" for n in pad_net[opens]], dtype=object
    )
    out = [Violations.polygons(layers.merged(layer)[opens], messages=msgs)]
    if layer != first_layer(p):
        return out
    shorts = nets.shorts
    out.append(
        Violations.polygons(
            np.array([s.place for s in shorts], dtype=object) if shorts else EMPTY,
            messages=np.array([f"short: nets {a} and {b} meet" for a, b in (s.texts for s in shorts)], dtype=object),
        )
    )
    if p["floating"] == "report":
        anchored = reach | nets.on(p["layer"])
        for name in p["metal"]:
            loose = ~anchored[nets.of(name)]
            out.append(
                Violations.polygons(layers.merged(name)[loose], messages=f"floating: {name} connected to nothing")
            )
    return out


KIND = CheckKind(
    "connectivity",
    __doc__,
    PARAMS,
    run,
    limit,
    validate=validate,
    needs_nets=needs_nets,
    closed=needs_nets,
    example={"layer": "C", "bond": ["A"]},
)
