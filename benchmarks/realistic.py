"""The `realistic` benchmark panel: every package unique, round pads, dummy fill, planes with holes.

    python benchmarks/generate.py out.gds --mode realistic --shapes 1000000 --seed 1

What a panel of adaptive-patterned fan-out packages looks like (issue 14), drawn so that
rules/fowlp-2l.yaml is clean on it except for a few planted violations whose marker
counts are returned (`Panel.planted`):

- Each package is its own cell (PKG_r_c). Its die (one shared DIE cell: outline, die
  pads and on-die traces as one array reference per side) sits where pick-and-place put
  it, moved by its own die shift of up to 5 um in x and y (to the nm). The RDL is drawn
  for that die: the VIA1 arrays and RDL1 capture pads move with the die, the traces
  absorb the shift on their way to bond pads that stay on the package grid; so no two
  packages share their fan-out.
- Fan-out per die side: VIA1 (octagon, one array reference per side), RDL1 capture pad
  (octagon), an RDL1 trace leaving the die straight, bending to 45 degrees and running
  straight again to its VIA2 landing, VIA2 (octagon), RDL2 capture pad, a straight RDL2
  lane to an octagonal RDL2 bond pad with a round (64-vertex) passivation opening, UBM
  and solder ball. Traces and lanes are written partly as GDS paths with flush, round
  and extended ends (ends buried in their pads, so round ends add no odd angles), the
  rest as polygons.
- Over the die: an RDL1 ground plane with degassing holes (at least 200 per package),
  tied to an area array of bumps on RDL2 by VIA2s (one array reference).
- Dummy fill squares on RDL1 and RDL2 wherever they keep clear of other metal, so that
  every 500 um density window holds 10-85 % metal; fill is 30-50 % of the shapes.
- Round shapes are the openings, UBM and balls: RDL pads are octagons because ANG.1
  allows 0/45/90/135 degree edges only. Balls are on layer 30/0, which the deck does
  not map (read and dropped, as a real layout's extra layers are).

Deterministic per (shapes, seed): the die shifts and path end types come from
`random.Random(seed)`.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass, field

import gdstk
import numpy as np
import shapely

PKG, DIE, DIE_PAD, DIE_METAL, VIA1, RDL1, VIA2, RDL2, PO, UBM = 0, 1, 2, 3, 10, 11, 12, 13, 20, 21
BALL = 30  # solder balls: not a layer of fowlp-2l

PAD_PITCH = 40.0  # die pad pitch, um
BOND_PITCH = 120.0  # bond pad pitch along a fan-out row, um
BUMP_PITCH = 150.0  # area-array bump pitch over the die, um
TRACE_W = 5.0  # RDL trace and lane width, um (5 um: 18 % of the 45-degree fan-out region)
SAW_STREET = 200.0  # gap between package outlines, um
MAX_SHIFT = 5.0  # die shift, um, in x and in y
ROUND_VERTICES = 64
# dummy fill squares (side, pitch) per level, large ones first, then smaller ones in the gaps,
# centred on multiples of the pitch (the 60 um RDL1 squares sit between the lanes at 60 + 120 i)
FILL = {11: ((120.0, 240.0), (60.0, 120.0)), 13: ((120.0, 240.0), (80.0, 160.0))}
FILL_CLEAR = 8.0  # fill's clearance from other metal on its level
FILL_EDGE = 60.0  # fill's distance from the package edge (FO.1 keep-out is 50)
HOLE, HOLE_PITCH = 40.0, 75.0  # plane degassing holes (72 % metal left)
N_PADS = 40  # die pads per die side
DEFECT_EVERY = 7  # package k carries the planted defects when k % DEFECT_EVERY == 1


def octagon(cx: float, cy: float, across: float) -> np.ndarray:
    """A regular octagon (edges at 0/45/90/135 degrees), `across` wide between flats."""
    r = across / 2
    c = r * math.tan(math.pi / 8)
    return np.array([(c, r), (r, c), (r, -c), (c, -r), (-c, -r), (-r, -c), (-r, c), (-c, r)]) + (cx, cy)


_CIRCLE = np.exp(2j * np.pi * np.arange(ROUND_VERTICES) / ROUND_VERTICES)


def round_pad(cx: float, cy: float, diameter: float) -> np.ndarray:
    """A 64-vertex round pad (vertices on the circle)."""
    z = _CIRCLE * diameter / 2
    return np.column_stack([z.real + cx, z.imag + cy])


def nm(v: float) -> float:
    """v rounded to the 1 nm grid (so that diagonals stay exactly 45 degrees)."""
    return round(v * 1000) / 1000


@dataclass
class Panel:
    lib: gdstk.Library
    packages: int
    shapes: int  # flattened polygons and paths on the deck's layers
    fill: int  # of which dummy fill squares
    planted: dict[str, int] = field(default_factory=dict)  # rule -> markers fowlp-2l reports


# Markers each defective package adds, per rule (what fowlp-2l reports on the defects
# drawn by `_defects`; tests/test_benchmark_generator.py checks it).
DEFECT_MARKERS = {
    "RDL1.S": 1,  # two floating RDL1 bars 1.5 um apart
    "RDL2.W": 1,  # a 1.6 um wide floating RDL2 stub
    "VIA2.EN.BOT": 1,  # a VIA2 on nothing: not covered by RDL1...
    "VIA2.EN.TOP": 1,  # ... nor by RDL2
    "VIA2.L": 2,  # ... unlanded, no capture pad
    "ANG.1": 1,  # an RDL1 shape with a 32-degree edge
    "FO.1": 1,  # an RDL1 fill square 40 um from the package edge
    "VIA1.L": 3,  # one VIA1 (and its capture pad) 3 um off its die pad: 4 um < 1 + 5 die shift
    # from the pad's side to the via's side and its two diagonal edges
    "CONN.1": 1,  # one RDL1 trace broken: its die pad reaches no bond pad
}


def _rot(points: np.ndarray, k: int) -> np.ndarray:
    """Points turned by k * 90 degrees about the origin (exactly)."""
    x, y = points[:, 0], points[:, 1]
    for _ in range(k % 4):
        x, y = -y, x
    return np.column_stack([x, y])


class _Package:
    """One package cell being drawn: gdstk elements plus shapely copies of the RDL metal (for fill)."""

    def __init__(self, cell: gdstk.Cell):
        self.cell = cell
        self.metal: dict[int, list] = {RDL1: [], RDL2: []}
        self.keepout: list = []  # boxes fill stays out of (the planted defects)
        self.count = 0

    def polygon(self, pts: np.ndarray, layer: int) -> None:
        self.cell.add(gdstk.Polygon(pts, layer=layer))
        self.count += 1
        if layer in self.metal:
            self.metal[layer].append(shapely.Polygon(pts))

    def path(self, route: np.ndarray, layer: int, ends: str, as_path: bool) -> None:
        p = gdstk.FlexPath(route, TRACE_W, ends=ends, simple_path=as_path, layer=layer)
        self.cell.add(p)
        self.count += 1
        if layer in self.metal:
            self.metal[layer].append(shapely.buffer(shapely.LineString(route), TRACE_W / 2, cap_style="square"))


def _die_cell(lib: gdstk.Library, die: float) -> gdstk.Cell:
    """The die (shared by all packages): outline, N_PADS die pads and on-die traces per side (arrays)."""
    pad = lib.new_cell("DIE_PAD_CELL")
    pad.add(gdstk.rectangle((-12, -12), (12, 12), layer=DIE_PAD))  # 7 um around a 10 um via: 1 + 5 die shift
    pad.add(gdstk.rectangle((-1.25, -41), (1.25, -11), layer=DIE_METAL))  # TW.1: narrower than the RDL
    cell = lib.new_cell("DIE")
    cell.add(gdstk.rectangle((-die / 2, -die / 2), (die / 2, die / 2), layer=DIE))
    span = (N_PADS - 1) * PAD_PITCH
    edge = die / 2 - 20.0
    for k in range(4):
        (ox, oy), (sx, sy) = _rot(np.array([(-span / 2, edge), (PAD_PITCH, 0.0)]), k)
        ref = gdstk.Reference(pad, (ox, oy), rotation=k * math.pi / 2)
        ref.repetition = gdstk.Repetition(columns=N_PADS, rows=1, v1=(sx, sy), v2=(-sy, sx))  # v2 not along v1: an AREF
        cell.add(ref)
    return cell


def _via_cell(lib: gdstk.Library, name: str, layer: int) -> gdstk.Cell:
    cell = lib.new_cell(name)
    cell.add(gdstk.Polygon(octagon(0, 0, 10.0), layer=layer))
    return cell


def _array(cell: gdstk.Cell, via: gdstk.Cell, origin, step, n: int) -> None:
    """n placements of `via` from origin by step (one array reference; nothing when n == 0)."""
    if n <= 0:
        return
    ref = gdstk.Reference(via, (nm(origin[0]), nm(origin[1])))
    if n > 1:
        v1 = (nm(step[0]), nm(step[1]))
        ref.repetition = gdstk.Repetition(columns=n, rows=1, v1=v1, v2=(-v1[1], v1[0]))  # v2 not along v1: an AREF
    cell.add(ref)


def _geometry(die: float) -> dict[str, float]:
    edge = die / 2 - 20.0
    span = (N_PADS - 1) * PAD_PITCH
    bond_span = (N_PADS - 1) * BOND_PITCH
    bend = edge + 60.0
    reach = bend + (bond_span - span) / 2 + 80.0
    size = 2 * (reach + 260.0) + 100.0
    return {
        "edge": edge,
        "span": span,
        "bond_span": bond_span,
        "bend": bend,
        "reach": reach,
        "size": max(size, bond_span + 400.0),
    }


def _fanout(
    pk: _Package, lib: gdstk.Library, g: dict, shift: tuple[float, float], rng: random.Random, defect: bool
) -> None:
    """Four die sides of fan-out, drawn for a die moved by `shift`."""
    via1, via2 = lib["VIA1_CELL"], lib["VIA2_CELL"]
    edge, span, bond_span, bend, reach = g["edge"], g["span"], g["bond_span"], g["bend"], g["reach"]
    for k in range(4):
        sx, sy = _rot(np.array([shift]), -k)[0]  # the die shift in this side's frame
        odd = rng.randrange(2, N_PADS - 2) if defect and k == 0 else None  # VIA1 3 um off its pad
        broken = rng.randrange(2, N_PADS - 2) if defect and k == 1 else None  # an open RDL1 trace
        x0 = -span / 2 + sx
        # VIA1 rows: one array per side (split around the misplaced via of a defective package)
        first, step = _rot(np.array([(x0, edge + sy), (PAD_PITCH, 0.0)]), k)
        if odd is None:
            _array(pk.cell, via1, first, step, N_PADS)
        else:
            _array(pk.cell, via1, first, step, odd)
            _array(pk.cell, via1, first + (odd + 1) * step, step, N_PADS - odd - 1)
            _array(pk.cell, via1, first + odd * step + _rot(np.array([(3.0, 0.0)]), k)[0], step, 1)
        bond0, bstep = _rot(np.array([(-bond_span / 2, reach), (BOND_PITCH, 0.0)]), k)
        _array(pk.cell, via2, bond0, bstep, N_PADS)
        pk.count += 2 * N_PADS
        for i in range(N_PADS):
            x = nm(x0 + i * PAD_PITCH + (3.0 if i == odd else 0.0))
            y = nm(edge + sy)
            bx = nm(-bond_span / 2 + i * BOND_PITCH)
            up = nm(bend + abs(bx - x))
            route = np.array([(x, y), (x, bend), (bx, up), (bx, reach)])
            pk.polygon(_rot(octagon(x, y, 16.0), k), RDL1)  # capture pad over VIA1
            pk.polygon(_rot(octagon(bx, reach, 16.0), k), RDL1)  # landing under VIA2
            pk.polygon(_rot(octagon(bx, reach, 16.0), k), RDL2)  # capture pad over VIA2
            if i == broken:  # two flush pieces with a 10 um gap in the first straight run
                mid = nm((y + bend) / 2)
                pk.path(_rot(np.array([(x, y), (x, mid - 5.0)]), k), RDL1, "flush", False)
                pk.path(_rot(np.array([(x, mid + 5.0), (x, bend), (bx, up), (bx, reach)]), k), RDL1, "flush", False)
            else:
                pk.path(_rot(route, k), RDL1, rng.choice(("flush", "round", "extended")), rng.random() < 0.5)
            lane = np.array([(bx, reach), (bx, reach + 180.0)])
            pk.path(_rot(lane, k), RDL2, rng.choice(("flush", "round", "extended")), rng.random() < 0.5)
            _bond_pad(pk, _rot(np.array([(bx, reach + 180.0)]), k)[0])


def _bond_pad(pk: _Package, c: np.ndarray) -> None:
    """Octagonal RDL2 pad (60 um), round opening (40), UBM (52) and ball (80)."""
    x, y = float(c[0]), float(c[1])
    pk.polygon(octagon(x, y, 60.0), RDL2)
    pk.polygon(round_pad(x, y, 40.0), PO)
    pk.polygon(round_pad(x, y, 52.0), UBM)
    pk.cell.add(gdstk.Polygon(round_pad(x, y, 80.0), layer=BALL))


def _plane(pk: _Package, lib: gdstk.Library, die: float) -> int:
    """The RDL1 ground plane over the die with degassing holes, and the bump array tied to it; returns holes."""
    n_bumps = max(1, int((die - 200.0) // BUMP_PITCH))
    start = -(n_bumps - 1) * BUMP_PITCH / 2
    bumps = start + BUMP_PITCH * np.arange(n_bumps)
    via2 = lib["VIA2_CELL"]
    ref = gdstk.Reference(via2, (start, start), columns=n_bumps, rows=n_bumps, spacing=(BUMP_PITCH, BUMP_PITCH))
    pk.cell.add(ref)
    pk.count += n_bumps * n_bumps
    for bx in bumps:
        for by in bumps:
            pk.polygon(octagon(bx, by, 60.0), RDL2)
            pk.polygon(round_pad(bx, by, 40.0), PO)
            pk.polygon(round_pad(bx, by, 52.0), UBM)
            pk.cell.add(gdstk.Polygon(round_pad(bx, by, 80.0), layer=BALL))
    h = die / 2 - 32.0 - MAX_SHIFT - 25.0
    n = int((2 * h - HOLE_PITCH) // HOLE_PITCH)
    centres = -(n - 1) * HOLE_PITCH / 2 + HOLE_PITCH * np.arange(n)
    hx, hy = np.meshgrid(centres, centres)
    hx, hy = hx.ravel(), hy.ravel()
    near = np.abs(hx[:, None] - bumps[None, :]) < HOLE / 2 + 7.0
    near_y = np.abs(hy[:, None] - bumps[None, :]) < HOLE / 2 + 7.0
    keep = ~(near.any(axis=1) & near_y.any(axis=1))  # the plane holds every VIA2 with 1.5 um to spare
    holes = [
        gdstk.rectangle((x - HOLE / 2, y - HOLE / 2), (x + HOLE / 2, y + HOLE / 2)) for x, y in zip(hx[keep], hy[keep])
    ]
    plane = gdstk.boolean(gdstk.rectangle((-h, -h), (h, h)), holes, "not", layer=RDL1)
    for p in plane:  # one polygon, holes joined to its outline by cut lines (as GDSII stores them)
        pk.cell.add(p)
        pk.count += 1
    outline = shapely.box(-h, -h, h, h)
    pk.metal[RDL1].append(outline)  # fill keeps clear of the whole plane, holes included
    return len(holes)


def _defects(pk: _Package, g: dict) -> None:
    """The planted violations in the package's lower-right corner (DEFECT_MARKERS; VIA1.L and
    CONN.1 are drawn in `_fanout`)."""
    half = g["size"] / 2
    x, y = half - 300.0, -half + 150.0  # clear of the fan-out, inside the keep-out
    pk.keepout.append(shapely.box(x - 60, y - 60, x + 200, y + 120))
    pk.polygon(np.array([(x, y), (x + 3, y), (x + 3, y + 20), (x, y + 20)]), RDL1)
    pk.polygon(np.array([(x + 4.5, y), (x + 7.5, y), (x + 7.5, y + 20), (x + 4.5, y + 20)]), RDL1)
    pk.polygon(np.array([(x + 40, y), (x + 41.6, y), (x + 41.6, y + 30), (x + 40, y + 30)]), RDL2)
    pk.polygon(octagon(x + 80, y + 10, 10.0), VIA2)
    pk.polygon(np.array([(x + 110, y), (x + 130, y), (x + 130, y + 10), (x + 118, y + 10), (x + 110, y + 5)]), RDL1)
    e, f = -half + 40.0, 20.0  # a fill square 40 um from the package's bottom edge (keep-out 50)
    pk.polygon(np.array([(x + 150, e), (x + 150 + f, e), (x + 150 + f, e + f), (x + 150, e + f)]), RDL1)


def _fill(pk: _Package, half: float) -> int:
    """Dummy fill squares on RDL1 and RDL2 wherever they keep FILL_CLEAR from the level's metal."""
    placed = 0
    for layer, passes in FILL.items():
        for side, pitch in passes:
            n = int((half - FILL_EDGE - side / 2) // pitch)
            cx, cy = (a.ravel() for a in np.meshgrid(pitch * np.arange(-n, n + 1), pitch * np.arange(-n, n + 1)))
            boxes = shapely.box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
            tree = shapely.STRtree(pk.metal[layer] + pk.keepout)
            keep = np.ones(len(boxes), bool)
            keep[tree.query(boxes, predicate="dwithin", distance=FILL_CLEAR)[0]] = False
            for x, y in zip(cx[keep], cy[keep]):
                pk.cell.add(gdstk.rectangle((x - side / 2, y - side / 2), (x + side / 2, y + side / 2), layer=layer))
            pk.metal[layer].extend(boxes[keep])
            placed += int(keep.sum())
    pk.count += placed
    return placed


def _package(
    lib: gdstk.Library, name: str, die_cell: gdstk.Cell, die: float, rng: random.Random, defect: bool
) -> tuple[gdstk.Cell, int, int, int]:
    g = _geometry(die)
    shift = (nm(rng.uniform(-MAX_SHIFT, MAX_SHIFT)), nm(rng.uniform(-MAX_SHIFT, MAX_SHIFT)))
    pk = _Package(lib.new_cell(name))
    half = g["size"] / 2
    pk.cell.add(gdstk.rectangle((-half, -half), (half, half), layer=PKG))
    pk.cell.add(gdstk.Reference(die_cell, shift))
    pk.count += 1 + 1 + 8 * N_PADS  # outline, die, pads and on-die traces
    _fanout(pk, lib, g, shift, rng, defect)
    holes = _plane(pk, lib, die)
    if defect:
        _defects(pk, g)
    fill = _fill(pk, half)
    return pk.cell, pk.count, fill, holes


def generate(shapes: int, seed: int = 1) -> Panel:
    """A panel of unique packages flattening to about `shapes` polygons and paths on the deck's layers."""
    rng = random.Random(seed)
    lib = gdstk.Library("FOWLP_REALISTIC", unit=1e-6, precision=1e-9)
    die = N_PADS * PAD_PITCH + 200.0
    die_cell = _die_cell(lib, die)
    _via_cell(lib, "VIA1_CELL", VIA1)
    _via_cell(lib, "VIA2_CELL", VIA2)
    pitch = _geometry(die)["size"] + SAW_STREET
    top = lib.new_cell("PANEL")
    total = fill = defects = k = cols = 0
    while True:
        defect = k % DEFECT_EVERY == 1
        cell, count, f, _ = _package(lib, f"PKG_{k}", die_cell, die, rng, defect)
        cols = cols or max(1, math.ceil(math.sqrt(shapes / count)))  # about square, from the first package
        top.add(gdstk.Reference(cell, ((k % cols) * pitch, (k // cols) * pitch)))
        total, fill, defects, k = total + count, fill + f, defects + defect, k + 1
        if total + count / 2 > shapes:
            break
    planted = {rule: n * defects for rule, n in DEFECT_MARKERS.items()} if defects else {}
    return Panel(lib, k, total, fill, planted)


def write(panel: Panel, path: str) -> None:
    """The panel as GDSII (polygons up to 8190 vertices: a plane stays one polygon), byte for byte
    the same per (shapes, seed): the library's timestamp is fixed."""
    panel.lib.write_gds(path, max_points=8190, timestamp=datetime.datetime(2026, 1, 1))
