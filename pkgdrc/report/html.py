"""A self-contained HTML report to open after a failed run: no network, no server.

The page holds a summary table (one row per rule: FAIL, EMPTY when an input layer had
no shape and nothing was checked, waived or ok), an overview, and per violated rule up to
PICTURES_PER_RULE pictures of the markers' neighbourhoods (the count of the rest is given).

The overview is, per violated rule, a heat map of its markers over the layout: marker
centres binned (numpy) into square cells, HEAT_BINS along the layout's longer side,
each cell's red as strong as the log of its count, over a grey map of where the layout's
shapes are (their centres binned the same way) and the layout's outline. It reads at any
marker or shape count; the pictured markers are circled and link to their pictures.

A picture draws the rule's layers (for a rule on nets, every layer of the deck's
`connect:` chains too) in distinct colours, each clipped to the picture's window, the
marker highlighted, a scale bar in um; the caption gives the marker's message. Pictures
are inline SVG, drawn from the plain data the run hands over (`Report.drawing`, a
`pkgdrc.drawing.Drawing`: shape centres, and the shapes near the pictured markers); derived
layers are drawn as the drawn layers they are made of. Waived markers, stale or expired
waivers and the layout's layers that no deck layer maps are listed.
"""

from __future__ import annotations

import html
import math
from typing import TextIO

import numpy as np
import numpy.typing as npt
import shapely

from pkgdrc.drawing import PICTURES_PER_RULE, Drawing, picture_box, square
from pkgdrc.markers import Marker
from pkgdrc.report.format import (
    centre_text,
    empty_reason,
    limit_text,
    num,
    unmapped_text,
)
from pkgdrc.result import Report, RuleResult
from pkgdrc.units import Grid

PICTURE_PX = 300
OVERVIEW_PX = 320  # one heat map per violated rule
HEAT_BINS = 48  # heat-map cells along the layout's longer side
PALETTE = [
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#bcbd22",
    "#e377c2",
    "#7f7f7f",
    "#393b79",
    "#637939",
    "#8c6d31",
]
MARKER = "#d62728"

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 6px} .sub{color:#555}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f2f2f2} td.num{text-align:right;font-variant-numeric:tabular-nums}
.FAIL{color:#b00;font-weight:600} .ok{color:#080} .waived{color:#a60} .EMPTY{color:#c60;font-weight:600}
.pics{display:flex;flex-wrap:wrap;gap:12px} figure{margin:0;border:1px solid #ddd;padding:6px;background:#fff}
figcaption{font-size:12px;color:#333;max-width:300px} svg{display:block;background:#fcfcfc}
.legend span{display:inline-block;margin-right:10px;font-size:12px}
.legend i{display:inline-block;width:11px;height:11px;margin-right:3px;vertical-align:-1px;border:1px solid #0006}
"""


class _View:
    """um -> pixel transform for a square window (y up in um, down in pixels)."""

    def __init__(self, box: tuple[float, float, float, float], px: int):
        self.box, side = square(box)
        self.scale = px / side
        self.px = px

    def xy(self, pts: npt.ArrayLike) -> np.ndarray:
        pts = np.asarray(pts, float).reshape(-1, 2)
        return np.column_stack([(pts[:, 0] - self.box[0]) * self.scale, (self.box[3] - pts[:, 1]) * self.scale])


def _fmt(pts: np.ndarray) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def _paths(polys: np.ndarray, view: _View, dbu_um: float) -> str:
    """SVG path data of polygons (dbu) in pixels, holes included (fill-rule evenodd)."""
    if len(polys) == 0:
        return ""
    rings = shapely.get_rings(polys)  # exterior and interior rings, in order
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    px = view.xy(coords * dbu_um)
    cuts = np.flatnonzero(np.diff(ring_of)) + 1
    return " ".join(f"M{_fmt(r)}Z" for r in np.split(px, cuts))


def _at(m: Marker, report: Report) -> str:
    return f"({centre_text(m, Grid(report.dbu_um))})"


def _marker_svg(m: Marker, view: _View, width: float) -> str:
    if m.edge_pair is not None:
        segs = [view.xy(s) for s in m.edge_pair]
        a, b = (s.mean(axis=0) for s in segs)
        lines = "".join(
            f'<polyline points="{_fmt(s)}" stroke="{MARKER}" stroke-width="{width}" fill="none"/>' for s in segs
        )
        return lines + (
            f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
            f'stroke="{MARKER}" stroke-dasharray="4 3" stroke-width="1.5"/>'
        )
    if m.edge is not None:
        return f'<polyline points="{_fmt(view.xy(m.edge))}" stroke="{MARKER}" stroke-width="{width}" fill="none"/>'
    if m.polygon is not None:
        d = " ".join(f"M{_fmt(view.xy(r))}Z" for r in (m.polygon, *m.holes))
        return (
            f'<path d="{d}" fill-rule="evenodd" fill="{MARKER}" fill-opacity="0.25" '
            f'stroke="{MARKER}" stroke-width="{width}"/>'
        )
    x0, y0, x1, y1 = m.bbox
    p = view.xy([[x0, y1], [x1, y0]])
    return (
        f'<rect x="{p[0, 0]:.1f}" y="{p[0, 1]:.1f}" width="{p[1, 0] - p[0, 0]:.1f}" '
        f'height="{p[1, 1] - p[0, 1]:.1f}" fill="none" stroke="{MARKER}" stroke-width="{width}"/>'
    )


def _scale_bar(view: _View) -> str:
    target = (view.box[2] - view.box[0]) / 4
    step = 10 ** math.floor(math.log10(target))
    length = max((k * step for k in (1, 2, 5) if k * step <= target), default=step)
    w = length * view.scale
    y = view.px - 12
    label = f"{length:g} um"
    return (
        f'<g><rect x="6" y="{y - 16}" width="{w + 12:.1f}" height="26" fill="#fff" fill-opacity="0.8"/>'
        f'<line x1="12" y1="{y}" x2="{12 + w:.1f}" y2="{y}" stroke="#000" stroke-width="3"/>'
        f'<line x1="12" y1="{y - 4}" x2="12" y2="{y + 4}" stroke="#000"/>'
        f'<line x1="{12 + w:.1f}" y1="{y - 4}" x2="{12 + w:.1f}" y2="{y + 4}" stroke="#000"/>'
        f'<text x="{12 + w / 2:.1f}" y="{y - 5}" font-size="11" text-anchor="middle">{label}</text></g>'
    )


def _layer_svg(shapes: list[tuple[str, np.ndarray]], colors: dict[str, str], view: _View, dbu_um: float) -> str:
    """The layers' shapes in the view (clipped to it, dbu)."""
    out = []
    for name, polys in shapes:
        d = _paths(polys, view, dbu_um)
        out.append(
            f'<path d="{d}" fill="{colors[name]}" fill-opacity="0.35" stroke="{colors[name]}" '
            f'stroke-width="1" fill-rule="evenodd"><title>{html.escape(name)}</title></path>'
        )
    return "".join(out)


def _legend(layers: list[str], colors: dict[str, str]) -> str:
    spans = "".join(f'<span><i style="background:{colors[n]}80"></i>{html.escape(n)}</span>' for n in layers)
    return f'<div class="legend">{spans}<span><i style="background:{MARKER}"></i>marker</span></div>'


def _picture(report: Report, drawing: Drawing, r: RuleResult, k: int, m: Marker, colors: dict[str, str]) -> str:
    view = _View(picture_box(r, m, drawing.dbu_um), PICTURE_PX)
    near = drawing.shapes_near(r.id, k)
    shapes = _layer_svg(near, colors, view, drawing.dbu_um)
    layers = [name for name, _ in near] or list(drawing.rule_layers.get(r.id, ()))
    value = f"value {num(m.value)} " if m.value is not None else ("" if m.message else "no value ")
    message = f"{m.message}; " if m.message and m.value is not None else (f"{m.message} " if m.message else "")
    caption = (
        f"{html.escape(r.id)} #{k + 1}: {html.escape(message)}{value}(limit {html.escape(limit_text(r))}) "
        f"at {_at(m, report)} um on {html.escape(m.layer)}"
    )
    return (
        f'<figure id="{html.escape(r.id)}-{k + 1}"><svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{PICTURE_PX}" height="{PICTURE_PX}" viewBox="0 0 {PICTURE_PX} {PICTURE_PX}">'
        f"{shapes}{_marker_svg(m, view, 3)}{_scale_bar(view)}</svg>"
        f"<figcaption>{caption}</figcaption>{_legend(layers, colors)}</figure>"
    )


def _extent(report: Report, drawing: Drawing) -> tuple[tuple[float, float, float, float], np.ndarray] | None:
    """The box (um) holding every shape of the deck's layers and every marker, and the
    centres (um, (N, 2)) of those shapes. None when there is nothing to draw."""
    shapes = np.asarray([drawing.shape_box] if drawing.shape_box is not None else np.zeros((0, 4)), float)
    boxes = np.concatenate([shapes, *(np.asarray([m.bbox for m in r.markers], float) for r in report.failed)])
    if not len(boxes):
        return None
    return (*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0)), drawing.shape_centres


def _bins(extent: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Square heat-map cell edges (um) over the extent, HEAT_BINS along its longer side."""
    x0, y0, x1, y1 = extent
    side = max(x1 - x0, y1 - y0, 1e-9) / HEAT_BINS
    nx, ny = max(1, math.ceil((x1 - x0) / side)), max(1, math.ceil((y1 - y0) / side))
    xe, ye = x0 + side * np.arange(nx + 1), y0 + side * np.arange(ny + 1)
    xe[-1], ye[-1] = max(xe[-1], x1), max(ye[-1], y1)  # a marker on the far edge is counted, rounding or not
    return xe, ye


def _cells(counts: np.ndarray, xe: np.ndarray, ye: np.ndarray, view: _View, color: str, strength: float) -> str:
    """SVG rects of the non-empty cells, opacity growing with log(count); cell edges on whole
    pixels, so that neighbouring cells meet without a seam."""
    i, j = np.nonzero(counts)
    if not len(i):
        return ""
    alpha = strength * (0.2 + 0.8 * np.log1p(counts[i, j]) / np.log1p(counts.max()))
    px = np.round((xe - view.box[0]) * view.scale)
    py = np.round((view.box[3] - ye) * view.scale)
    rects = "".join(
        f'<rect x="{px[a]:.0f}" y="{py[b + 1]:.0f}" width="{px[a + 1] - px[a]:.0f}" '
        f'height="{py[b] - py[b + 1]:.0f}" fill-opacity="{o:.2f}"/>'
        for a, b, o in zip(i.tolist(), j.tolist(), alpha)
    )
    return f'<g fill="{color}" shape-rendering="crispEdges">{rects}</g>'


def _overview(report: Report, drawing: Drawing) -> str:
    found = _extent(report, drawing)
    if found is None:
        return "<p>The layout has no shapes on the deck's layers.</p>"
    extent, centres = found
    pad = 0.03 * max(extent[2] - extent[0], extent[3] - extent[1], 1e-6)
    view = _View((extent[0] - pad, extent[1] - pad, extent[2] + pad, extent[3] + pad), OVERVIEW_PX)
    xe, ye = _bins(extent)
    shapes, _, _ = np.histogram2d(centres[:, 0], centres[:, 1], bins=[xe, ye])
    o = view.xy([[extent[0], extent[3]], [extent[2], extent[1]]])
    background = (
        _cells(shapes, xe, ye, view, "#555", 0.25)
        + f'<rect x="{o[0, 0]:.1f}" y="{o[0, 1]:.1f}" width="{o[1, 0] - o[0, 0]:.1f}" '
        f'height="{o[1, 1] - o[0, 1]:.1f}" fill="none" stroke="#333" stroke-width="1"/>'
    )
    maps = []
    for r in report.failed:
        b = np.asarray([m.bbox for m in r.markers], float)
        c = (b[:, :2] + b[:, 2:]) / 2
        counts, _, _ = np.histogram2d(c[:, 0], c[:, 1], bins=[xe, ye])
        rid = html.escape(r.id)
        rings = "".join(
            f'<a href="#{rid}-{k + 1}"><circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="none" '
            f'stroke="{MARKER}" stroke-width="2"><title>{rid} #{k + 1}</title></circle></a>'
            for k, (x, y) in enumerate(view.xy(c[:PICTURES_PER_RULE]))
        )
        cell = num(xe[1] - xe[0], 3) if len(xe) > 1 else "0"
        maps.append(
            f'<figure id="overview-{rid}"><svg xmlns="http://www.w3.org/2000/svg" width="{OVERVIEW_PX}" '
            f'height="{OVERVIEW_PX}" viewBox="0 0 {OVERVIEW_PX} {OVERVIEW_PX}">{background}'
            f"{_cells(counts, xe, ye, view, MARKER, 1.0)}{rings}{_scale_bar(view)}</svg>"
            f'<figcaption><a href="#rule-{rid}">{rid}</a>: {len(r.markers)} marker'
            f"{'s' * (len(r.markers) != 1)}, at most {int(counts.max())} in one {cell} um cell "
            f"(red: markers, log scale; grey: the layout's shapes)</figcaption></figure>"
        )
    if not maps:
        return "<p class=sub>No violations: nothing to locate.</p>"
    return f"<div class=pics>{''.join(maps)}</div>"


def _summary(report: Report) -> str:
    rows = []
    for r in report.rules:
        status = {"failed": "FAIL", "empty": "EMPTY"}.get(r.status, "waived" if r.waived else "ok")
        worst = num(r.worst) if r.worst is not None else ""
        name = f'<a href="#rule-{html.escape(r.id)}">{html.escape(r.id)}</a>' if r.markers else html.escape(r.id)
        rows.append(
            f'<tr><td>{name}</td><td>{r.check}</td><td class="{status}">{status}</td>'
            f"<td class=num>{len(r.markers)}</td><td class=num>{len(r.waived)}</td>"
            f"<td class=num>{worst}</td><td class=num>{html.escape(limit_text(r))}</td>"
            f"<td>{html.escape(r.doc)}</td></tr>"
        )
    notes = [f"<li class=EMPTY>{html.escape(r.id)}: {html.escape(empty_reason(r))}</li>" for r in report.empty]
    if report.unmapped:
        notes.append(
            f"<li class=EMPTY>layers with shapes that no deck layer maps: {html.escape(unmapped_text(report))}</li>"
        )
    return (
        "<table class=summary><tr><th>rule</th><th>check</th><th>status</th><th>violations</th>"
        "<th>waived</th><th>worst</th><th>limit</th><th>doc</th></tr>"
        + "".join(rows)
        + "</table>"
        + (f"<ul>{''.join(notes)}</ul>" if notes else "")
    )


def _waivers(report: Report) -> str:
    items = [
        f"<li>{html.escape(r.id)} at {_at(w.marker, report)} um: {html.escape(w.reason)} "
        f"({html.escape(w.waiver)}{', owner ' + html.escape(w.owner) if w.owner else ''})</li>"
        for r in report.rules
        for w in r.waived
    ]
    items += [f"<li class=FAIL>stale waiver (waives nothing): {html.escape(s)}</li>" for s in report.stale_waivers]
    items += [f"<li class=FAIL>expired waiver: {html.escape(s)}</li>" for s in report.expired_waivers]
    return f"<h2 id=waivers>Waivers</h2><ul>{''.join(items)}</ul>" if items else ""


def dumps(report: Report) -> str:
    """The page as one string. Needs `report.drawing` (`pkgdrc.check(..., drawing=True)`)."""
    drawing = report.drawing
    if drawing is None:
        raise ValueError("the HTML report draws geometry: it needs a Report made by pkgdrc.check(..., drawing=True)")
    colors = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(drawing.layers)}
    verdict = (
        "clean"
        if not report.violations and not report.empty
        else "no violations"
        if not report.violations
        else f"{report.violations} violations in {len(report.failed)} rules"
    )
    if report.empty:
        verdict += f", {len(report.empty)} rules not checked (an input layer has no shapes)"
    if report.waived:
        verdict += f", {report.waived} waived"
    sections = []
    for r in report.failed:
        n = len(r.markers)
        pics = "".join(_picture(report, drawing, r, k, m, colors) for k, m in enumerate(r.markers[:PICTURES_PER_RULE]))
        more = (
            f"<p class=sub>... and {n - PICTURES_PER_RULE} more violations of {html.escape(r.id)} not drawn "
            f"(all are in the overview and the JSON report).</p>"
            if n > PICTURES_PER_RULE
            else ""
        )
        worst = f", worst {num(r.worst)}" if r.worst is not None else ""
        sections.append(
            f'<h2 id="rule-{html.escape(r.id)}">{html.escape(r.id)}: {n} violation{"s" * (n != 1)}'
            f"{worst}, limit {html.escape(limit_text(r))}</h2><p class=sub>{html.escape(r.doc)}</p>"
            f"<div class=pics>{pics}</div>{more}"
        )
    title = f"pkgdrc: {report.layout}"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body>"
        f"<h1>pkgdrc {html.escape(report.version)}: {html.escape(report.layout)}</h1>"
        f"<p class=sub>top cell {html.escape(report.top)}, deck {html.escape(report.deck)}, "
        f"{report.shapes} shapes, {report.seconds:.2f} s: <b>{verdict}</b></p>"
        f"{_summary(report)}<h2 id=overview>Overview</h2>{_overview(report, drawing)}"
        f"{''.join(sections)}{_waivers(report)}</body></html>\n"
    )


def write(report: Report, out: TextIO) -> None:
    """Write the document to a text stream."""
    out.write(dumps(report))
