"""Draw each clean structure fixture as an SVG: python docs/structures/render.py.

One colour per deck layer (gdstk's SVG writer), so the picture shows what the layers are.
"""

from __future__ import annotations

from pathlib import Path

import gdstk

from pkgdrc.deck import load_deck

ROOT = Path(__file__).resolve().parents[2]
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"]


def render(structure: str) -> Path:
    deck = load_deck(structure)
    lib = gdstk.read_gds(str(ROOT / "fixtures" / f"{structure}.gds"))
    style = {key: {"fill": COLOURS[i % len(COLOURS)], "stroke": COLOURS[i % len(COLOURS)],
                   "fill-opacity": "0.35", "stroke-width": "0.5"}
             for i, key in enumerate(deck.layers.values())}
    out = ROOT / "docs" / "structures" / f"{structure}.svg"
    lib.top_level()[0].write_svg(str(out), scaling=0.2 if structure != "fc-heatsink" else 0.04, shape_style=style,
                                 background="#ffffff")
    return out


if __name__ == "__main__":
    for name in ("fowlp-organic", "fowlp-metal", "fc-heatsink", "stiffener", "mcm-stacked"):
        print(render(name))
