"""A deck of generic checks for any layout, for `benchmarks/run.py --real`.

The deck covers the layout's four layers with the most shapes, L0..L3 (fewer if it has
fewer), with limits taken from the layout itself: f is the median of the smaller
bounding-box side of a layer's shapes (rounded to the database unit), so every rule
sits at the layer's typical feature size and finds some markers, as a real deck does on
a layout it was not written for.

- per layer: width f * 0.9, space f, area f * f, angle 0/45/90/135;
- per neighbouring pair (Li, Lj): separation max(fi, fj) / 2, enclosure of Lj by Li fi / 4,
  overlap fj / 2;
- inside: every other layer inside the layer with the largest shape (clearance 0).
Both tools run exactly these rules (benchmarks/klayout_rules.py for KLayout).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import yaml
from klayout import db

MAX_LAYERS = 4
SAMPLE = 20_000  # shapes looked at per layer


def _layer_stats(layout: db.Layout, top: db.Cell, li: int) -> tuple[int, float, float]:
    """(shapes up to SAMPLE, median smaller bbox side in um, largest bbox area in um2) of a layer."""
    sides, largest, n = [], 0.0, 0
    it = top.begin_shapes_rec(li)
    it.shape_flags = db.Shapes.SBoxes | db.Shapes.SPolygons | db.Shapes.SPaths
    while not it.at_end() and n < SAMPLE:
        box = it.shape().bbox().transformed(it.trans())
        w, h = box.width() * layout.dbu, box.height() * layout.dbu
        sides.append(min(w, h))
        largest = max(largest, w * h)
        n += 1
        it.next()
    return n, float(np.median(sides)) if sides else 0.0, largest


def write_deck(layout_path: Path, deck_path: Path) -> tuple[dict, str]:
    """Write the generic deck for `layout_path` to `deck_path`; returns it as a dict, and the top cell
    checked: the top cell with the largest extent ($$$CONTEXT_INFO$$$ and the like left out)."""
    layout = db.Layout()
    layout.read(str(layout_path))
    tops = [c for c in layout.top_cells() if not c.name.startswith("$$$")] or layout.top_cells()
    top = max(tops, key=lambda c: (c.bbox().area(), c.name))
    dbu = layout.dbu
    stats = []
    for li in layout.layer_indexes():
        info = layout.get_info(li)
        n, f, largest = _layer_stats(layout, top, li)
        if n and f > 0:
            stats.append((n, info.layer, info.datatype, round(f / dbu) * dbu, largest))
    stats.sort(key=lambda s: (-s[0], s[1], s[2]))
    chosen = stats[:MAX_LAYERS]
    names = [f"L{layer}_{datatype}" for _, layer, datatype, _, _ in chosen]
    feature = {name: s[3] for name, s in zip(names, chosen)}

    def um(v: float) -> float:
        return round(round(v / dbu) * dbu, 6)

    rules: dict[str, dict] = {}
    for name in names:
        f = feature[name]
        rules[f"{name}.W"] = {"check": "width", "layer": name, "min": um(0.9 * f)}
        rules[f"{name}.S"] = {"check": "space", "layer": name, "min": um(f)}
        rules[f"{name}.A"] = {"check": "area", "layer": name, "min": round(um(f) ** 2, 6)}
        rules[f"{name}.ANG"] = {"check": "angle", "layer": name, "allowed": [0, 45, 90, 135]}
    for a, b in itertools.pairwise(names):
        fa, fb = feature[a], feature[b]
        rules[f"{a}.{b}.SEP"] = {"check": "separation", "layer": a, "other": b, "min": um(max(fa, fb) / 2)}
        rules[f"{b}.{a}.EN"] = {"check": "enclosure", "layer": b, "by": a, "min": um(fa / 4)}
        rules[f"{b}.{a}.OV"] = {"check": "overlap", "layer": b, "other": a, "min": um(fb / 2)}
    outline = names[int(np.argmax([s[4] for s in chosen]))] if chosen else None
    for name in names:
        if name != outline:
            rules[f"{name}.IN"] = {"check": "inside", "layer": name, "of": outline}
    deck = {
        "name": f"generic-{layout_path.stem}",
        "units": "um",
        "layers": {name: f"{s[1]}/{s[2]}" for name, s in zip(names, chosen)},
        "rules": rules,
    }
    deck_path.write_text(yaml.safe_dump(deck, sort_keys=False))
    return deck, top.name
