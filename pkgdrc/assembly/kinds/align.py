"""Align: the bumps of one part meet the pads of another, one to one, centred and enclosed.

What it checks, with every part placed in the assembly: a bump (a merged shape of
`layer`, PART.LAYER; a list of them is matched together against the same pads) meets
a pad (a merged shape of `other`) when their bounding-box centres are at most
`tolerance` apart. Markers:

- a part placed wrongly as a whole: when fewer than `whole_part` (default 0.5) of its
  bumps are matched and some other placement (one of the 8 orientations, any offset)
  matches more, ONE polygon marker on the extent of its bumps, whose message gives
  that placement as the assembly file would write it (`at: [x, y], rotate: R, flip: F`)
  and how many bumps it matches; that part's bumps and the pads they would meet are
  not reported one by one (`pkgdrc.assembly.search` says how the placement is found);
- a bump off its pad: an unmatched bump and an unmatched pad that are each other's
  nearest and overlap: an edge marker from the pad centre to the bump centre, value =
  that distance;
- a bump on no pad (value = distance to the nearest pad centre), a bump meeting several
  pads (value = their number), a pad without a bump, a pad meeting several bumps (value
  = their number): polygon markers on the bump or the pad;
- a matched bump not inside its pad, or inside it by less than `min` (value = the
  enclosure, the smallest distance from the bump to the pad's edge; 0 when it sticks out).

A centre exactly at `tolerance` meets; an enclosure exactly `min` passes. Messages name
the parts and where each marker lies in each part's own layout.

Why it matters: a flip-chip die is mounted face down, so its bump map, drawn face up,
must be mirrored; a die placed unmirrored, turned, or shifted misses the carrier's
pads with every bump at once, and one bump off its pad is an open or a bridge.

Example: `AL.1: {check: align, layer: [die_a.BUMP, die_b.BUMP], other: interposer.PAD, tolerance: 5, min: 2}`.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

from pkgdrc.assembly.kinds.kind import AssemblyKind
from pkgdrc.assembly.match import centres, match
from pkgdrc.assembly.place import matrix
from pkgdrc.assembly.search import best_fit, within
from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations
from pkgdrc.units import EPS_DBU

PARAMS = {
    "layer": Param("layers", "the bumps, PART.LAYER; a list is matched together against the same pads"),
    "other": Param("layer", "the pads, PART.LAYER"),
    "tolerance": Param("distance", "largest distance between a bump's and its pad's centres, in um"),
    "min": Param("distance", "smallest enclosure of a bump by its pad, in um", required=False, default=0.0),
    "whole_part": Param(
        "number",
        "a part with fewer matched bumps than this fraction is checked for a better placement as a whole",
        required=False,
        default=0.5,
    ),
}
MIN_BUMPS = 4  # fewer bumps than this say nothing about a whole part's placement


def validate(p: dict) -> str | None:
    if not 0 <= p["whole_part"] <= 1:
        return f"whole_part: expected a fraction between 0 and 1, got {p['whole_part']:g}"
    if p["other"] in p["layer"]:
        return f"other: {p['other']} is also a bump layer"
    return None


def limit(p: dict) -> float:
    return p["tolerance"]


def _um(ctx, xy) -> str:
    x, y = ctx.grid.to_um(np.asarray(xy, dtype=float)).tolist()
    return f"[{x:g}, {y:g}]"


def run(ctx, p: dict) -> list[tuple[str, Violations]]:
    refs, pad_ref = p["layer"], p["other"]
    pads = ctx.placed(pad_ref)
    bumps = [ctx.placed(r) for r in refs]
    owner = np.repeat(np.arange(len(refs)), [len(b) for b in bumps])
    allb = np.concatenate(bumps) if len(owner) else np.empty(0, dtype=object)
    cb, cp = centres(allb), centres(pads)
    tol = float(ctx.grid.to_dbu(p["tolerance"]))
    m = match(cb, cp, tol)
    out: list[tuple[str, Violations]] = []
    quiet_bump, quiet_pad = np.zeros(len(cb), bool), np.zeros(len(cp), bool)
    for k, ref in enumerate(refs):
        whole = _whole_part(ctx, ref, pad_ref, owner == k, cb, cp, m, tol, p["whole_part"])
        if whole is not None:
            marker, pads_hit = whole
            quiet_bump[owner == k] = True
            quiet_pad[pads_hit] = True
            out.append((ref, marker))
    loud = ~quiet_bump
    for k, ref in enumerate(refs):
        mine = (owner == k) & loud
        found, paired = _bump_markers(ctx, ref, pad_ref, mine, allb, pads, cb, cp, m, p)
        out += found
        quiet_pad[paired] = True  # reported with its bump ("off its pad")
    out += _pad_markers(", ".join(refs), pad_ref, pads, m, quiet_pad)
    return [(name, v) for name, v in out if len(v)]


def _whole_part(ctx, ref, pad_ref, sel, cb, cp, m, tol, fraction):
    """One marker for a part whose bumps mostly miss, with the placement that matches most; or None."""
    n, got = int(sel.sum()), int(m.matched[sel].sum())
    if n < MIN_BUMPS or got >= fraction * n or not len(cp):
        return None
    taken = np.zeros(len(cp), bool)
    taken[m.pad[~sel & m.matched]] = True
    free = np.flatnonzero(~taken)
    part = ctx.part(ref)
    pl = part.placement
    local = centres(ctx.local(ref))
    fit = best_fit(local, cp[free], tol, (pl.flip, pl.rotate, pl.offset_dbu))
    if fit.matched <= got:
        return None
    placed = local @ matrix(fit.flip, fit.rotate).T + np.asarray(fit.offset)
    hit = within(cKDTree(cp[free]), placed, tol)
    box = shapely.box(*shapely.total_bounds(ctx.placed(ref)))
    message = (
        f"part {part.name} is misplaced: {got} of {n} bumps of {ref} meet a pad of {pad_ref} as placed "
        f"({pl.describe()}); placed at: {_um(ctx, fit.offset)}, rotate: {fit.rotate}, "
        f"flip: {'true' if fit.flip else 'false'}, {fit.matched} of {n} would"
    )
    return Violations.polygons(np.array([box], dtype=object), messages=message), free[hit[hit >= 0]]


def _bump_markers(ctx, ref, pad_ref, mine, allb, pads, cb, cp, m, p) -> tuple[list, np.ndarray]:
    out = []
    several = mine & (m.pads_of_bump >= 2)
    out.append(
        (
            ref,
            Violations.polygons(
                allb[several],
                m.pads_of_bump[several],
                "none",
                f"bump centre within {p['tolerance']:g} um of several pads of {pad_ref}",
            ),
        )
    )
    # a bump and a pad both unmatched, each the other's nearest, overlapping: one "off its pad" marker
    lone_b = np.flatnonzero(mine & (m.pads_of_bump == 0))
    lone_p = np.flatnonzero(m.bumps_of_pad == 0)
    off = np.zeros(len(lone_b), bool)
    pair_p = np.zeros(len(lone_b), np.int64)
    if len(lone_b) and len(lone_p):
        _, j = cKDTree(cp[lone_p]).query(cb[lone_b])
        _, i = cKDTree(cb[lone_b]).query(cp[lone_p])
        off = (i[j] == np.arange(len(lone_b))) & shapely.intersects(allb[lone_b], pads[lone_p[j]])
        pair_p = lone_p[j]
    b_off, p_off = lone_b[off], pair_p[off]
    edges = np.stack([cp[p_off], cb[b_off]], axis=1)
    out.append(
        (
            ref,
            Violations(
                "edge",
                edges,
                np.hypot(*(cb[b_off] - cp[p_off]).T),
                "length",
                f"bump off its pad of {pad_ref}: centres farther apart than {p['tolerance']:g} um",
            ),
        )
    )
    none = lone_b[~off]
    out.append(
        (
            ref,
            Violations.polygons(
                allb[none],
                m.nearest[none],
                "length",
                f"bump on no pad of {pad_ref}: no pad centre within {p['tolerance']:g} um (value: the nearest)",
            ),
        )
    )
    ok = np.flatnonzero(mine & m.matched)
    inner, outer = allb[ok], pads[m.pad[ok]]
    inside = shapely.covers(outer, inner)
    margin = np.where(inside, shapely.distance(inner, shapely.get_exterior_ring(outer)), 0.0)
    bad = ~inside | (margin < ctx.grid.to_dbu(p["min"]) - EPS_DBU)
    out.append(
        (
            ref,
            Violations.polygons(
                inner[bad], margin[bad], "length", f"bump not inside its pad of {pad_ref} by {p['min']:g} um"
            ),
        )
    )
    return out, p_off


def _pad_markers(bump_refs, pad_ref, pads, m, quiet) -> list[tuple[str, Violations]]:
    several = ~quiet & (m.bumps_of_pad >= 2)
    none = ~quiet & (m.bumps_of_pad == 0)
    return [
        (
            pad_ref,
            Violations.polygons(
                pads[several], m.bumps_of_pad[several], "none", f"pad meets several bumps of {bump_refs}"
            ),
        ),
        (pad_ref, Violations.polygons(pads[none], None, "none", f"pad without a bump of {bump_refs}")),
    ]


KIND = AssemblyKind("align", __doc__, PARAMS, run, limit, validate=validate)
