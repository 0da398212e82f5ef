"""Fan-out extent: metal inside the package outline, dies placed legally, RDL traces within reach of their die.

What it checks (each part only when its parameter is given), on merged layers:
1. `edge_clearance`: every part of `layer` (RDL, UBM, PO) outside `outline` shrunk by
   `edge_clearance` (mitred, as `inside` does) is a polygon marker.
2. `die_clearance`: every part of a `die` outside `outline` shrunk by `die_clearance`.
3. `die_spacing`: outside-facing edge pairs of two dies closer than `die_spacing`
   (Euclidean, as `space`; value = the spacing).
4. `max_reach` (needs the deck's `connect:`): a shape of `layer` on a net that reaches a
   die pad (`pads`) must lie within its die grown by `max_reach` (KLayout `sized`,
   mitred: the reach is measured in x and y, the corners are square). A net with pads
   on several dies may reach to any of them. Each part beyond is a polygon marker; the
   value is the Euclidean distance of its farthest vertex from the die (on a net with
   several dies: the one nearest to the trace; of dies as near, the one whose bounds come
   first by min x, then min y). Metal on nets with no die pad (floating fill) is not a
   trace and is not measured.
Die parts (2, 3) run once per rule and are reported under the rule's first layer.
Every message names its die as `DIE@(x,y)` (the die's bounding-box centre in um): the
nearest die for parts 1 and 2, both dies for 3, the trace's die for 4.

Why it matters: metal in the saw street is cut when the panel is singulated; dies
molded too close to the edge or to each other crack or fill badly; a trace that runs
far from its die is long, slow and lossy, usually a routing error.

Example: `FO.4: {check: fanout, layer: [RDL1, RDL2], outline: PKG, die: DIE, pads: DIE_PAD,
max_reach: 3000}` flags the part of an RDL2 trace running 3200 um from its die, value 3200.
"""

from __future__ import annotations

import functools

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS, edge_pair_violations, limits
from pkgdrc.checks.kind import CheckKind
from pkgdrc.checks.pkg_shapes import first_layer, on_grid_each
from pkgdrc.deck.params import Param
from pkgdrc.geometry.booleans import boolean_not, sized
from pkgdrc.geometry.pairs import relate
from pkgdrc.geometry.polygons import EMPTY, POLYGON
from pkgdrc.markers import Violations
from pkgdrc.nets import place_names

PARAMS = {
    "layer": LAYERS,
    "outline": Param("layer", "the package outline, e.g. PKG"),
    "die": Param("layer", "the die outlines, e.g. DIE"),
    "pads": Param("layer", "the die pads whose nets are traces (for max_reach), e.g. DIE_PAD", required=False),
    "edge_clearance": Param("distance", "clearance of `layer` from the outline's edge, in um", required=False),
    "die_clearance": Param("distance", "clearance of each die from the outline's edge, in um", required=False),
    "die_spacing": Param("distance", "minimum space between dies, in um", required=False),
    "max_reach": Param("distance", "how far a trace may run from its die's edge, in um", required=False),
}


def validate(p: dict) -> str | None:
    if p["max_reach"] is not None and p["pads"] is None:
        return "max_reach needs pads (the die pad layer, e.g. DIE_PAD)"
    if all(p[k] is None for k in ("edge_clearance", "die_clearance", "die_spacing", "max_reach")):
        return "give at least one of edge_clearance, die_clearance, die_spacing, max_reach"
    return None


def needs_nets(p: dict) -> bool:
    """Only `max_reach` follows nets (from die pads to traces)."""
    return p["max_reach"] is not None


def reach(p: dict) -> float:
    """The clearances and the die spacing. Not `max_reach`: a trace is measured against its
    own net's die, and a tile window holds every net it touches whole (`pkgdrc.tiles`)."""
    return max((p[k] or 0.0) for k in ("edge_clearance", "die_clearance", "die_spacing"))


def closed(p: dict) -> bool:
    """Closed per isolated placement (`CheckKind.closed`) unless a part names the *nearest* die
    of a piece (edge and die clearance), which may lie anywhere."""
    return p["edge_clearance"] is None and p["die_clearance"] is None


def limit(p: dict):
    return limits(p, "edge_clearance", "die_clearance", "die_spacing", "max_reach")


def _nearest(pieces: np.ndarray, dies: np.ndarray) -> np.ndarray:
    """Index of the nearest die of each piece."""
    ip, idie = shapely.STRtree(dies).query_nearest(pieces, all_matches=False)
    out = np.zeros(len(pieces), dtype=np.int64)
    out[ip] = idie
    return out


def _outside(layers, name: str, region: np.ndarray, dies: np.ndarray, dnames: list[str], what: str) -> Violations:
    pieces = boolean_not(layers.merged(name), region)
    near = _nearest(pieces, dies) if len(dies) and len(pieces) else np.zeros(len(pieces), dtype=np.int64)
    msgs = np.array([f"{what}, die {dnames[k]}" if dnames else what for k in near], dtype=object)
    return Violations.polygons(pieces, messages=msgs)


def _nearest_die(shape, dies: np.ndarray, candidates: np.ndarray) -> int:
    """The die of `candidates` nearest to `shape`; among dies as near (a trace touching two),
    the one whose bounds (min x, min y, max x, max y) come first: a choice by geometry, the same
    in every engine, whatever order the dies were found in."""
    dist = shapely.distance(shape, dies[candidates])
    near = candidates[dist == dist.min()]
    b = shapely.bounds(dies[near])
    return int(near[np.lexsort((b[:, 3], b[:, 2], b[:, 1], b[:, 0]))[0]])


def _dies_of(shape_net: np.ndarray, pad_net: np.ndarray, pad_die: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(shape, die) for each shape and each die its net has a pad on, by shape then die."""
    net_die = np.unique(np.stack([pad_net, pad_die], axis=1), axis=0)  # sorted by net, then die
    lo = np.searchsorted(net_die[:, 0], shape_net, side="left")
    count = np.searchsorted(net_die[:, 0], shape_net, side="right") - lo
    shape = np.repeat(np.arange(len(shape_net)), count)
    k = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(count.sum())
    return shape, net_die[k, 1]


def _reach(layers, layer: str, p: dict, dies: np.ndarray, dnames: list[str]) -> Violations:
    """Parts of `layer` on die-pad nets beyond their die grown by max_reach."""
    nets = layers.nets
    pads = layers.merged(p["pads"])
    metal = layers.merged(layer)
    if not (len(dies) and len(pads) and len(metal)):
        return Violations.polygons(EMPTY)
    ipad, idie = shapely.STRtree(dies).query(pads, predicate="intersects")
    ishape, jdie = _dies_of(nets.of(layer), nets.of(p["pads"])[ipad], idie)  # each trace with each die of its net
    if len(ishape) == 0:
        return Violations.polygons(EMPTY)
    r = layers.grid.to_dbu(p["max_reach"])
    # One grown region per die (dies are few; sized merges, so one call each keeps them apart).
    regions = np.array([sized(dies[k : k + 1], r)[0] for k in range(len(dies))], dtype=object)
    shapely.prepare(regions)
    within = shapely.covers(regions[jdie], metal[ishape])  # most traces: nothing beyond, no overlay
    beyond = np.full(len(ishape), shapely.Polygon(), dtype=object)
    out = np.flatnonzero(~within)
    beyond[out] = on_grid_each(
        shapely.difference(metal[ishape[out]], regions[jdie[out]]),
        lambda k: [metal[ishape[out[k]]], regions[jdie[out[k]]]],
    )
    # A trace whose net has pads on several dies may reach to any of them: intersect its pieces.
    first = np.flatnonzero(np.r_[True, ishape[1:] != ishape[:-1]])
    for k in np.flatnonzero(np.diff(np.r_[first, len(ishape)]) > 1):  # only multi-die nets loop
        lo, hi = first[k], (first[k + 1] if k + 1 < len(first) else len(ishape))
        beyond[lo] = functools.reduce(
            lambda x, y: on_grid_each(np.array([shapely.intersection(x, y)], dtype=object), lambda _: [x, y])[0],
            beyond[lo:hi],
        )
        jdie[lo] = _nearest_die(metal[ishape[lo]], dies, jdie[lo:hi])
    beyond, jdie = beyond[first], jdie[first]
    parts, owner = shapely.get_parts(beyond, return_index=True)
    keep = (shapely.get_type_id(parts) == POLYGON) & (shapely.area(parts) > 0)
    parts, owner = parts[keep], owner[keep]
    coords, which = shapely.get_coordinates(parts, return_index=True)
    dist = shapely.distance(shapely.points(coords), dies[jdie[owner[which]]])
    value = np.full(len(parts), -np.inf)
    np.maximum.at(value, which, dist)
    vals = layers.grid.length_um(value)
    msgs = np.array(
        [
            f"{layer} reaches {v:g} um from die {dnames[jdie[o]]}, over max_reach {p['max_reach']:g}"
            for v, o in zip(vals, owner)
        ],
        dtype=object,
    )
    return Violations.polygons(parts, value, "length", msgs)


def run(layers, layer: str, p: dict):
    outline = layers.merged(p["outline"])
    dies = layers.merged(p["die"])
    dnames = place_names(p["die"], dies, layers.grid)
    out = []
    if p["edge_clearance"] is not None:
        region = sized(outline, -layers.grid.to_dbu(p["edge_clearance"]))
        out.append(
            _outside(
                layers,
                layer,
                region,
                dies,
                dnames,
                f"outside {p['outline']} less {p['edge_clearance']:g} um edge clearance",
            )
        )
    if layer == first_layer(p):
        if p["die_clearance"] is not None:
            region = sized(outline, -layers.grid.to_dbu(p["die_clearance"]))
            out.append(
                _outside(
                    layers,
                    p["die"],
                    region,
                    dies,
                    dnames,
                    f"die outside {p['outline']} less {p['die_clearance']:g} um die clearance",
                )
            )
        if p["die_spacing"] is not None:
            e = layers.edges(p["die"])
            pairs = relate(e, None, layers.grid.to_dbu(p["die_spacing"]), "outside", "outside")
            msgs = np.array(
                [
                    "die spacing between {} and {}".format(*sorted((dnames[a], dnames[b])))
                    for a, b in zip(e.polygon[pairs.ia], e.polygon[pairs.ib])
                ],
                dtype=object,
            )
            out.append(edge_pair_violations(pairs, msgs))
    if p["max_reach"] is not None:
        out.append(_reach(layers, layer, p, dies, dnames))
    return out


KIND = CheckKind(
    "fanout",
    __doc__,
    PARAMS,
    run,
    limit,
    validate=validate,
    needs_nets=needs_nets,
    reach=reach,
    closed=closed,
    example={"layer": "A", "outline": "D", "die": "C", "edge_clearance": 1.0, "die_spacing": 2.0},
)
