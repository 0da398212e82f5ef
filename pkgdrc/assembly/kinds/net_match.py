"""Net match: each bump matched to a pad carries the same net as that pad.

What it checks: bumps (`layer`, PART.LAYER, or a list matched together) are matched to
pads (`other`) as `align` matches them (bounding-box centres at most `tolerance` apart,
one to one).
The net of a bump is the net of its shape in its own part, the net of a pad in the
pad's part (each part's deck `connect:` and `labels:`, `pkgdrc.nets`), named by the
texts of its labels. Each matched pair whose names differ is one polygon marker on the
bump, whose message names both nets. A bump or pad whose net has no label is not
compared (there is no name to compare); unmatched bumps and pads are `align`'s to report,
and so is a part with fewer than `whole_part` of its bumps matched (a part placed wrongly
as a whole meets pads only by chance): its bumps are not compared.

Why it matters: a bump on a pad of another net is a short between two nets of the
package (swapped signals, power on ground) that no single layout shows: each part's
own nets are right.

Example: `NET.1: {check: net_match, layer: die_a.BUMP, other: interposer.PAD, tolerance: 5}`.
"""

from __future__ import annotations

import numpy as np

from pkgdrc.assembly.kinds import align
from pkgdrc.assembly.kinds.kind import AssemblyKind
from pkgdrc.assembly.match import centres, match
from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations

PARAMS = {
    "layer": Param("layers", "the bumps, PART.LAYER (in its part's connect: section)"),
    "other": Param("layer", "the pads, PART.LAYER (in its part's connect: section)"),
    "tolerance": Param("distance", "largest distance between a bump's and its pad's centres, in um"),
    "whole_part": align.PARAMS["whole_part"],
}


def limit(p: dict) -> float:
    return p["tolerance"]


def run(ctx, p: dict) -> list[tuple[str, Violations]]:
    refs, pads = p["layer"], ctx.placed(p["other"])
    bumps = [ctx.placed(r) for r in refs]
    owner = np.repeat(np.arange(len(refs)), [len(b) for b in bumps])
    allb = np.concatenate(bumps) if len(owner) else np.empty(0, dtype=object)
    m = match(centres(allb), centres(pads), float(ctx.grid.to_dbu(p["tolerance"])))  # as align matches
    names = np.concatenate([ctx.net_names(r) for r in refs] or [np.empty(0, dtype=object)])
    pad_net = ctx.net_names(p["other"])
    out = []
    for k, ref in enumerate(refs):
        mine = owner == k
        ok = np.flatnonzero(mine & m.matched)
        if len(ok) < p["whole_part"] * mine.sum():
            continue  # placed wrongly as a whole: align reports it
        a, b = names[ok], pad_net[m.pad[ok]]
        bad = (a != b) & (a != "") & (b != "")
        messages = np.array(
            [f"bump on net {x} ({ref}) meets a pad on net {y} ({p['other']})" for x, y in zip(a[bad], b[bad])],
            dtype=object,
        )
        out.append((ref, Violations.polygons(allb[ok[bad]], messages=messages)))
    return [(name, v) for name, v in out if len(v)]


KIND = AssemblyKind("net_match", __doc__, PARAMS, run, limit, needs_nets=True)
