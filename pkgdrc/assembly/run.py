"""One assembly run: read the parts, place them, run the cross-part rules and each part's own deck.

The result is a `pkgdrc.result.Report` in assembly coordinates (um), which every report
writer takes as it is, and for each part a Report in that part's own coordinates
(`part_report`), whose lyrdb opens over the part's layout in KLayout.

Rule ids: the assembly's rules as written; a part's own deck rules as `PART:RULE`.
Marker layers are PART.LAYER. Every marker's message ends with where it lies in the
layout of each part its rule concerns: `[die_a (x, y); interposer (x, y)]`, the centre
of its bounding box in um in that part's frame.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pkgdrc.assembly.kinds import KINDS
from pkgdrc.assembly.layers import AssemblyLayers, Part
from pkgdrc.assembly.model import Assembly, AssemblyRule, finest_grid, load_assembly
from pkgdrc.assembly.place import Placement
from pkgdrc.checks import CHECKS
from pkgdrc.drawing import make_drawing
from pkgdrc.errors import PkgdrcError
from pkgdrc.layers import LayerSet
from pkgdrc.layout import read_layout
from pkgdrc.markers import Marker, to_markers
from pkgdrc.result import Report, RuleResult
from pkgdrc.run import check
from pkgdrc.units import Grid
from pkgdrc.version import __version__
from pkgdrc.waivers import Waiver, apply_waivers, check_rules, load_waivers

Transform = Callable[[np.ndarray], np.ndarray]  # (N, 2) um -> (N, 2) um


@dataclass
class AssemblyReport:
    """A run's report (assembly frame) with the parts and which parts each rule concerns."""

    report: Report
    assembly: Assembly
    parts: dict[str, Part]
    concerns: dict[str, list[str]]  # rule id -> the parts it concerns


def read_parts(assembly: Assembly) -> tuple[dict[str, Part], Grid]:
    """Each part's layout read once with its deck's layer and label maps, placed on the assembly grid."""
    layouts = {
        name: read_layout(spec.layout, spec.deck.layers, spec.top, label_map=spec.deck.labels)
        for name, spec in assembly.parts.items()
    }
    grid = Grid(finest_grid({n: lay.grid.dbu_um for n, lay in layouts.items()}, assembly.grid_um, assembly.path))
    parts = {}
    for name, spec in assembly.parts.items():
        for v in spec.at:
            if grid.off_grid(v):
                raise PkgdrcError(
                    f"part {name}: at: {v:g} um is not on the assembly grid ({grid.dbu_um:g} um)",
                    path=assembly.path,
                    line=spec.line,
                )
        placement = Placement(spec.at, spec.rotate, spec.flip, layouts[name].grid, grid)
        parts[name] = Part(spec, layouts[name], LayerSet(layouts[name], spec.deck), placement)
    return parts, grid


def _moved(m: Marker, fn: Transform) -> Marker:
    """The marker with every point mapped by `fn` (um to um); its bbox recomputed."""

    def pts(seq) -> tuple:
        return tuple(tuple(p) for p in fn(np.asarray(seq, dtype=float).reshape(-1, 2)).tolist())

    changes: dict = {}
    if m.edge_pair is not None:
        a, b, c, d = pts([q for seg in m.edge_pair for q in seg])
        changes["edge_pair"] = ((a, b), (c, d))
    if m.edge is not None:
        changes["edge"] = pts(m.edge)
    if m.polygon is not None:
        changes["polygon"] = pts(m.polygon)
        changes["holes"] = tuple(pts(h) for h in m.holes)
    corners = fn(np.array([[m.bbox[0], m.bbox[1]], [m.bbox[2], m.bbox[3]]]))
    lo, hi = corners.min(axis=0).tolist(), corners.max(axis=0).tolist()
    return dataclasses.replace(m, bbox=(lo[0], lo[1], hi[0], hi[1]), **changes)


def _where(markers: list[Marker], parts: list[Part]) -> list[Marker]:
    """Markers whose message ends with their place in each part's own layout."""
    if not markers or not parts:
        return markers
    box = np.array([m.bbox for m in markers])
    mid = (box[:, :2] + box[:, 2:]) / 2
    local = [p.placement.to_part_um(mid).tolist() for p in parts]
    out = []
    for k, m in enumerate(markers):
        where = "; ".join(f"{p.name} ({local[j][k][0]:g}, {local[j][k][1]:g})" for j, p in enumerate(parts))
        out.append(dataclasses.replace(m, message=f"{m.message} [{where}]" if m.message else f"[{where}]"))
    return out


def _cross_part(rule: AssemblyRule, ctx: AssemblyLayers) -> RuleResult:
    start = time.perf_counter()
    kind = KINDS[rule.check]
    result = RuleResult(rule.id, rule.check, rule.doc, kind.limit(rule.params), rule.layers, params=dict(rule.params))
    for layer, v in kind.run(ctx, rule.params):
        result.markers.extend(to_markers(v, layer, ctx.grid))
    result.markers = _where(sorted(result.markers, key=Marker.sort_key), [ctx.parts[n] for n in rule.parts])
    result.empty_inputs = sorted({ref for ref in rule.layers if len(ctx.placed(ref)) == 0})
    result.seconds = round(time.perf_counter() - start, 6)
    return result


def _own_rules(part: Part) -> list[RuleResult]:
    """The part's own deck rules on its own layout, ids PART:RULE, markers moved into the assembly."""
    report = check(part.layout, part.spec.deck)
    out = []
    for r in report.rules:
        moved = [_moved(m, part.placement.to_assembly_um) for m in r.markers]
        moved = [dataclasses.replace(m, layer=f"{part.name}.{m.layer}") for m in moved]
        out.append(
            dataclasses.replace(
                r,
                id=f"{part.name}:{r.id}",
                layers=[f"{part.name}.{n}" for n in r.layers],
                markers=_where(sorted(moved, key=Marker.sort_key), [part]),
                empty_inputs=[f"{part.name}.{n}" for n in r.empty_inputs],
            )
        )
    return out


def check_assembly(path: str | Path, waivers: str | Path | list[Waiver] | None = None) -> AssemblyReport:
    """Check an assembly file: its cross-part rules, then each part's own deck rules (unless `checks: false`)."""
    start = time.perf_counter()
    assembly = load_assembly(path)
    parts, grid = read_parts(assembly)
    refs = list(dict.fromkeys(ref for rule in assembly.rules for ref in rule.layers))
    ctx = AssemblyLayers(assembly, parts, grid, refs)
    results = [_cross_part(rule, ctx) for rule in assembly.rules]
    concerns = {rule.id: rule.parts for rule in assembly.rules}
    for part in parts.values():
        if part.spec.checks and part.spec.deck.rules:
            own = _own_rules(part)
            results += own
            concerns.update({r.id: [part.name] for r in own})
    if waivers is not None and not isinstance(waivers, list):
        waivers = load_waivers(waivers)
    if waivers:
        check_rules(waivers, [r.id for r in results], assembly.name)
    stale, expired = apply_waivers(results, waivers, ctx.layers.layout) if waivers else ([], [])
    report = Report(
        tool="pkgdrc",
        version=__version__,
        deck=f"assembly {assembly.name}",
        deck_path=assembly.path,
        layout=assembly.path,
        top=assembly.name,
        dbu_um=grid.dbu_um,
        rules=results,
        seconds=round(time.perf_counter() - start, 3),
        empty_layers=sorted({ref for ref in refs if len(ctx.placed(ref)) == 0}),
        shapes=sum(p.layout.shape_count for p in parts.values()),
        stale_waivers=stale,
        expired_waivers=expired,
        drawing=make_drawing(ctx.layers.layout, ctx.layers.deck, results, _reads(assembly, results)),
    )
    return AssemblyReport(report, assembly, parts, concerns)


def part_report(result: AssemblyReport, name: str) -> Report:
    """The rules that concern part `name`, their markers in that part's own frame (um, its grid);
    the part's own layers named as in its deck (`BUMP`), the other parts' as `PART.LAYER`."""
    part = result.parts[name]
    prefix = f"{name}."

    def own(layer: str) -> str:  # the part's own layers by their names in its deck (HTML draws them)
        return layer.removeprefix(prefix)

    def here(m: Marker) -> Marker:
        return dataclasses.replace(_moved(m, part.placement.to_part_um), layer=own(m.layer))

    rules = []
    for r in result.report.rules:
        if name in result.concerns.get(r.id, []):
            rules.append(
                dataclasses.replace(
                    r,
                    layers=[own(n) for n in r.layers],
                    markers=sorted(map(here, r.markers), key=Marker.sort_key),
                    waived=[dataclasses.replace(w, marker=here(w.marker)) for w in r.waived],
                    empty_inputs=[own(n) for n in r.empty_inputs],
                )
            )
    rep = result.report
    return dataclasses.replace(
        rep,
        deck=f"{rep.deck}, part {name}",
        layout=part.layout.path,
        top=part.layout.top,
        dbu_um=part.layout.grid.dbu_um,
        rules=rules,
        drawing=make_drawing(part.layout, part.spec.deck, rules, _reads(result.assembly, rules)),
    )


def _reads(assembly: Assembly, results: list[RuleResult]) -> dict[str, list[str]]:
    """Rule id -> the layers it reads: PART.LAYERs for a cross-part rule, its deck's layer names
    for a part's own rule (PART:RULE)."""
    cross = {rule.id: rule for rule in assembly.rules}
    return {
        r.id: cross[r.id].layers if r.id in cross else CHECKS[r.check].reads(r.params)
        for r in results
        if r.id in cross or r.check in CHECKS
    }
