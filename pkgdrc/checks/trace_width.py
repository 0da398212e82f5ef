"""RDL trace width vs die: every RDL trace at least `ratio` times as wide as the widest on-die trace of its net.

What it checks (needs the deck's `connect:`): the width of a shape is measured with the
edge-pair machinery of the `width` check: the distance of inside-facing edge pairs of
one merged shape. An on-die trace's width is its narrowest such pair (for a straight
trace, the distance between its long sides). For each net, the requirement is `ratio`
times the widest on-die trace (`die_metal`) of that net. Each inside-facing edge pair
of an RDL shape (`layer`) of that net closer than the requirement is an edge-pair
marker; the value is the RDL width there, the message names the net and the on-die
width. Nets without on-die metal have no requirement. A width exactly at the
requirement passes; one database unit less fails.

Cost: on-die shapes are measured up to their smaller bounding-box side, so a die-metal
plane makes the candidate search wide; draw planes on another layer than traces.

Why it matters: in a fan-out package the external circuitry must be wider than the
internal circuitry it continues: an RDL trace narrower than the on-die trace feeding
it becomes the current bottleneck (IR drop, electromigration).

Example: `TW.1: {check: trace_width_vs_die, layer: [RDL1, RDL2], die_metal: DIE_METAL, ratio: 1.0}`:
an 8 um on-die power trace continued by a 6 um RDL1 trace is one marker, value 6, even
though 6 um passes RDL1.W.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS, edge_pair_violations
from pkgdrc.checks.kind import CheckKind
from pkgdrc.checks.pkg_shapes import keep_pairs
from pkgdrc.deck.params import Param
from pkgdrc.geometry.edges import subject_edges
from pkgdrc.geometry.pairs import relate
from pkgdrc.geometry.repeats import relate_repeated
from pkgdrc.units import EPS_DBU


def needs_nets(p: dict) -> bool:
    return True


PARAMS = {
    "layer": LAYERS,
    "die_metal": Param("layer", "the on-die trace layer, e.g. DIE_METAL"),
    "ratio": Param("number", "RDL width / widest on-die trace width of the net", required=False, default=1.0),
}


def limit(p: dict) -> str:
    return f"{p['ratio']:g} x the widest on-die trace of the net"


def trace_widths(layers, name: str) -> np.ndarray:
    """Width of each merged polygon of `name`: its narrowest inside-facing edge pair (inf if none).

    Polygon by polygon: a trace touching another at a corner keeps its own width (the
    zero-width pair at the touching point is not the width of either).
    """
    polys = layers.merged(name)
    width = np.full(len(polys), np.inf)
    if len(polys):
        b = shapely.bounds(polys)
        reach = float(np.max(np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))) + 1.0
        e = subject_edges(polys)
        pairs = relate(e, None, reach, "inside", "inside", same_shape=True)
        np.minimum.at(width, e.polygon[pairs.ia], pairs.distance)
    return width


def run(layers, layer: str, p: dict):
    nets = layers.nets
    die_width = trace_widths(layers, p["die_metal"])
    die_net = nets.of(p["die_metal"])
    widest = np.zeros(nets.count)
    ok = np.isfinite(die_width)
    np.maximum.at(widest, die_net[ok], die_width[ok])
    need = widest[nets.of(layer)] * p["ratio"]
    if not len(need) or need.max() <= 0:
        return []
    e = layers.edges(layer)
    pairs = relate_repeated(e, None, float(need.max()), "inside", "inside", same_shape=True)
    # The pair's first polygon: polygons of one shape touch, so they are on one net.
    polygon = e.polygon[pairs.ia]
    bad = pairs.distance < need[polygon] - EPS_DBU
    pairs = keep_pairs(pairs, bad)
    net = nets.of(layer)[polygon[bad]]
    wide = layers.grid.length_um(widest[net])
    msgs = np.array(
        [f"narrower than {p['ratio']:g} x the {w:g} um on-die trace of net {nets.name(n)}" for w, n in zip(wide, net)],
        dtype=object,
    )
    return [edge_pair_violations(pairs, msgs)]


KIND = CheckKind(
    "trace_width_vs_die",
    __doc__,
    PARAMS,
    run,
    limit,
    needs_nets=needs_nets,
    closed=needs_nets,
    example={"layer": "A", "die_metal": "C"},
)
