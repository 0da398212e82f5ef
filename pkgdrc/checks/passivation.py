"""Passivation openings: each opening exposes bond-pad metal only; each UBM holds exactly one opening.

What it checks, on merged layers, for the openings of `layer` (PO); each part runs
only when its parameter is given:
1. `metal` (the top RDL): an opening must lie wholly on `metal`. An opening with no
   metal under it is "exposes dielectric"; one partly on metal is "exposes a trace"
   when the metal crosses it from one side to the opposite side without reaching the
   other two, else "exposes the edge of a pad". The marker is the whole opening.
   A wholly landed opening is measured for enclosure: edge pairs closer than
   `pad_enclosure` (as the `enclosure` check) are "pad enclosure".
2. `size`: the opening's bounding-box width and height within `size` (value or {min, max}).
3. `space`: outside-facing edge pairs of openings closer than `space` ("opening space").
4. `ubm`: every UBM must hold exactly one opening (an opening overlapping it): a UBM
   with none sits on buried metal ("UBM on buried metal: no opening"), one with
   several is "UBM holds N openings" (no value: the rule's values are distances); both
   mark the UBM. An opening that a
   UBM overlaps but does not cover marks its uncovered part ("opening not covered by
   UBM"); a covered one is measured for `ubm_enclosure` ("UBM enclosure").
   An opening without any UBM is allowed (probe and test pads) unless
   `require_ubm: true` ("no UBM over the opening").
Values exactly at a limit pass.

Why it matters: an opening that exposes a trace, dielectric or a pad edge lets solder
or moisture reach what should stay sealed; a UBM over no opening is not connected;
two openings under one UBM trap voids.

Example: `PO.4: {check: passivation, layer: PO, ubm: UBM, ubm_enclosure: 5}` flags a UBM
with two openings: one marker on the UBM, "UBM holds 2 openings".
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.checks.common import LAYERS, edge_pair_violations, limits
from pkgdrc.checks.kind import CheckKind
from pkgdrc.checks.pkg_shapes import covers, keep_pairs, landing, size_violations
from pkgdrc.deck.params import Param
from pkgdrc.geometry.booleans import boolean_not
from pkgdrc.geometry.pieces import relate_in_pieces
from pkgdrc.geometry.polygons import on_grid_indexed
from pkgdrc.geometry.repeats import relate_repeated
from pkgdrc.markers import Violations

PARAMS = {
    "layer": LAYERS,
    "metal": Param("layer", "the bond-pad metal the openings must lie on (the top RDL)", required=False),
    "pad_enclosure": Param(
        "distance", "minimum enclosure of an opening by `metal`, in um", required=False, default=0.0
    ),
    "size": Param("range", "opening width and height in um: a value, or {min, max}", required=False),
    "space": Param("distance", "minimum space between openings in um", required=False),
    "ubm": Param("layer", "under-bump metal: each must hold exactly one opening", required=False),
    "ubm_enclosure": Param(
        "distance", "minimum enclosure of an opening by its UBM, in um", required=False, default=0.0
    ),
    "require_ubm": Param(
        "bool", "every opening must have a UBM (false: probe pads may be open)", required=False, default=False
    ),
}


def validate(p: dict) -> str | None:
    if p["require_ubm"] and p["ubm"] is None:
        return "require_ubm needs ubm (the under-bump metal layer)"
    return None


def limit(p: dict):
    return limits(p, "pad_enclosure", "ubm_enclosure", "size", "space")


def _enclosed(layers, layer: str, by: str, whole: np.ndarray, d_um: float, message: str) -> Violations:
    """Enclosure edge pairs of the openings in `whole` (a mask over merged `layer`) by `by`,
    opening by opening as `enclosure` measures (openings touching at a corner stay apart), a
    group of openings at a time (`relate_in_pieces`: a panel's openings and UBM are millions of edges)."""
    e = layers.subject_edges(layer)
    pairs = relate_in_pieces(e, layers.edges(by), layers.grid.to_dbu(d_um), "outside", "inside")
    return edge_pair_violations(keep_pairs(pairs, whole[e.polygon[pairs.ia]]), message)


def _overlaps(a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The overlap polygons of the pairs (a[ia], b[ib]) on the grid (`on_grid_indexed`), and the
    pair each came from; a pair that only touches has none."""
    return on_grid_indexed(shapely.intersection(a[ia], b[ib]), lambda k: [a[ia[k]], b[ib[k]]])


def _on_metal(layers, layer: str, p: dict) -> list[Violations]:
    po, metal = layers.merged(layer), layers.merged(p["metal"])
    off, partly = landing(po, metal)
    # Bounds of the covered part of each partly landed opening: does metal cross it?
    idx = np.flatnonzero(partly)
    ia, ib = shapely.STRtree(metal).query(po[idx], predicate="intersects") if len(idx) else (idx, idx)
    # The overlap on the grid (`on_grid`, as the booleans round); metal only touching the
    # opening has no overlap and covers nothing.
    parts, pair = _overlaps(po[idx], metal, ia, ib)
    cov = shapely.bounds(parts).reshape(-1, 4)
    lo = np.full((len(idx), 2), np.inf)
    hi = np.full((len(idx), 2), -np.inf)
    np.minimum.at(lo, ia[pair], cov[:, :2])
    np.maximum.at(hi, ia[pair], cov[:, 2:])
    b = shapely.bounds(po[idx]).reshape(-1, 4)
    spans = (lo <= b[:, :2] + 0.5) & (hi >= b[:, 2:] - 0.5)  # per axis: covered from side to side
    inside = (lo > b[:, :2] + 0.5) & (hi < b[:, 2:] - 0.5)  # per axis: reaches neither side
    trace = (spans[:, 1] & inside[:, 0]) | (spans[:, 0] & inside[:, 1])
    msgs = np.where(trace, "exposes a trace", "exposes the edge of a pad").astype(object)
    return [
        Violations.polygons(po[off], messages=f"exposes dielectric: no {p['metal']} under the opening"),
        Violations.polygons(po[idx], messages=msgs),
        _enclosed(layers, layer, p["metal"], ~(off | partly), p["pad_enclosure"], f"{p['metal']} pad enclosure"),
    ]


def _ubm(layers, layer: str, p: dict) -> list[Violations]:
    po, ubm = layers.merged(layer), layers.merged(p["ubm"])
    holds = np.zeros(len(ubm), dtype=np.int64)
    under = np.zeros(len(po), bool)
    if len(po) and len(ubm):
        iu, ip = shapely.STRtree(po).query(ubm, predicate="intersects")
        # An opening inside its UBM overlaps it: the exact boolean runs on the other pairs only.
        real = covers(ubm, po, iu, ip)
        rest = np.flatnonzero(~real)
        parts, pair = _overlaps(ubm, po, iu[rest], ip[rest])
        real[rest] = np.bincount(pair, weights=shapely.area(parts), minlength=len(rest)) > 0
        np.add.at(holds, iu[real], 1)
        under[ip[real]] = True
    none, many = holds == 0, holds > 1
    out = [
        Violations.polygons(ubm[none], messages=f"{p['ubm']} on buried metal: no opening"),
        # A count is not a distance: it goes in the message, and the rule's worst stays a distance.
        Violations.polygons(
            ubm[many], messages=np.array([f"{p['ubm']} holds {n} openings" for n in holds[many]], dtype=object)
        ),
    ]
    _, partly = landing(po, ubm)
    uncovered = boolean_not(po[partly & under], ubm)
    out.append(Violations.polygons(uncovered, messages=f"opening not covered by {p['ubm']}"))
    out.append(_enclosed(layers, layer, p["ubm"], under & ~partly, p["ubm_enclosure"], f"{p['ubm']} enclosure"))
    if p["require_ubm"]:
        out.append(Violations.polygons(po[~under], messages=f"no {p['ubm']} over the opening"))
    return out


def run(layers, layer: str, p: dict):
    out: list[Violations] = []
    if p["metal"] is not None:
        out += _on_metal(layers, layer, p)
    out.append(size_violations(layers.merged(layer), p["size"], layers.grid, "opening"))
    if p["space"] is not None:
        d = layers.grid.to_dbu(p["space"])
        pairs = relate_repeated(layers.edges(layer), None, d, "outside", "outside")
        out.append(edge_pair_violations(pairs, "opening space"))
    if p["ubm"] is not None:
        out += _ubm(layers, layer, p)
    return out


KIND = CheckKind(
    "passivation",
    __doc__,
    PARAMS,
    run,
    limit,
    validate=validate,
    local=True,
    example={"layer": "B", "metal": "A", "pad_enclosure": 0.5},
)
