"""Draw each clean structure fixture as a small SVG: python docs/structures/render.py.

One colour per deck layer, drawn in deck order with a legend naming the layers, and a
scale bar. A layer covering most of the layout (package, substrate) is drawn as a dashed
outline only, and the picture is cropped to the other layers' shapes, so the dies, wiring
and balls are drawn as large as the width allows. Round balls and bumps (regular polygons of 16 or more vertices) are written as
SVG circles and coordinates are rounded to 0.1 px, so a picture of a few hundred balls
stays a few tens of kB.
"""

from __future__ import annotations

from pathlib import Path

import gdstk
import numpy as np

from pkgdrc.decks import load_deck

ROOT = Path(__file__).resolve().parents[2]
STRUCTURES = ("fowlp-organic", "fowlp-metal", "fc-heatsink", "stiffener", "mcm-stacked")
COLOURS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
]
WIDTH_PX = 560  # the drawing; the legend goes to its right
LEGEND_PX = 150
MARGIN_PX = 10


def _circle(points: np.ndarray) -> tuple[float, float, float] | None:
    """(cx, cy, r) when the polygon is a regular polygon of 16 or more vertices."""
    if len(points) < 16:
        return None
    centre = points.mean(axis=0)
    r = np.hypot(*(points - centre).T)
    return (*centre, r.mean()) if np.ptp(r) <= 0.01 * r.mean() else None


def _scale_bar(span_um: float) -> float:
    """A round length (1, 2 or 5 x 10^k um) about a fifth of the drawing."""
    k = 10 ** np.floor(np.log10(span_um / 5))  # k <= span / 5, so 1 x k always fits
    return float(max(m * k for m in (1, 2, 5) if m * k <= span_um / 4))


def svg(structure: str) -> str:
    deck = load_deck(structure)
    cell = gdstk.read_gds(str(ROOT / "fixtures" / f"{structure}.gds")).top_level()[0]
    by_spec: dict[tuple[int, int], list[np.ndarray]] = {}
    for p in cell.polygons:
        by_spec.setdefault((p.layer, p.datatype), []).append(p.points)
    everything = np.concatenate([pts for group in by_spec.values() for pts in group])
    lo, hi = everything.min(axis=0), everything.max(axis=0)
    area = {spec: sum(abs(gdstk.Polygon(p).area()) for p in group) for spec, group in by_spec.items()}
    outline = {spec for spec, a in area.items() if a >= 0.6 * np.prod(hi - lo)}
    content = [pts for spec, group in by_spec.items() if spec not in outline for pts in group]
    if content:
        content = np.concatenate(content)
        pad = 0.04 * np.ptp(content, axis=0).max()
        lo, hi = np.maximum(lo, content.min(axis=0) - pad), np.minimum(hi, content.max(axis=0) + pad)
    (x0, y0), (x1, y1) = lo, hi
    s = (WIDTH_PX - 2 * MARGIN_PX) / (x1 - x0)
    draw_h = int(np.ceil((y1 - y0) * s)) + 2 * MARGIN_PX
    height = draw_h + 24

    def xy(pts: np.ndarray) -> np.ndarray:  # um -> px, y down
        return np.round(np.column_stack([(pts[:, 0] - x0) * s + MARGIN_PX, (y1 - pts[:, 1]) * s + MARGIN_PX]), 1)

    body, legend = [], []
    drawn = [(name, spec) for name, spec in deck.layers.items() if spec in by_spec]
    for k, (name, spec) in enumerate(drawn):
        colour = COLOURS[k % len(COLOURS)]
        fill = 'fill="none" stroke-dasharray="6 3"' if spec in outline else f'fill="{colour}" fill-opacity="0.35"'
        shapes = []
        for pts in by_spec[spec]:
            round_shape = _circle(pts)
            if round_shape:
                (cx, cy), r = xy(np.array([round_shape[:2]]))[0], round(round_shape[2] * s, 1)
                shapes.append(f'<circle cx="{cx:g}" cy="{cy:g}" r="{r:g}"/>')
            else:
                d = " ".join(f"{x:g},{y:g}" for x, y in xy(pts))
                shapes.append(f'<path d="M{d}Z"/>')
        body.append(
            f'<g {fill} stroke="{colour}" stroke-width="{1.5 if spec in outline else 0.6}">' + "".join(shapes) + "</g>"
        )
        ly = MARGIN_PX + 18 * k
        legend.append(
            f'<rect x="{WIDTH_PX + 8}" y="{ly}" width="12" height="12" {fill} '
            f'stroke="{colour}"/><text x="{WIDTH_PX + 26}" y="{ly + 10}">{name}</text>'
        )
    bar = _scale_bar(x1 - x0)
    by_ = height - 12
    label = f"{bar / 1000:g} mm" if bar >= 1000 else f"{bar:g} um"
    scale = (
        f'<path d="M{MARGIN_PX},{by_}h{bar * s:.1f}" stroke="#000" stroke-width="2"/>'
        f'<text x="{MARGIN_PX + bar * s + 6:.1f}" y="{by_ + 4}">{label}</text>'
    )
    total_h = max(height, MARGIN_PX + 18 * len(drawn) + 8)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX + LEGEND_PX}" height="{total_h}" '
        f'font-family="sans-serif" font-size="11"><title>{structure}</title>'
        f'<rect width="100%" height="100%" fill="#fff"/><svg width="{WIDTH_PX}" height="{draw_h}">'
        f"{''.join(body)}</svg>{''.join(legend)}{scale}</svg>\n"
    )


def render(structure: str) -> Path:
    out = ROOT / "docs" / "structures" / f"{structure}.svg"
    out.write_text(svg(structure))
    return out


if __name__ == "__main__":
    for name in STRUCTURES:
        path = render(name)
        print(f"{path} {path.stat().st_size // 1024} kB")
