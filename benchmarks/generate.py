"""Generate realistic fan-out (FOWLP) packages and panels as GDSII, for benchmarks.

    python benchmarks/generate.py out.gds --shapes 1000000 --seed 1
    python benchmarks/generate.py out.gds --mode realistic --shapes 1000000 --seed 1

Two modes. `repeated` (the default, described here) is the panel of a few package kinds
placed many times, which cell-by-cell checking handles once per kind. `realistic`
(benchmarks/realistic.py) is a panel of unique packages as adaptive patterning makes
them: die shifts, round pads, dummy fill, planes with holes, GDS paths; it also writes
OUT.planted.json, the markers per rule its planted violations make.

A panel is an array of package cells (a few variants, placed with gdstk arrays). A
package holds one die (cell DIE: outline, peripheral die pads as arrays, on-die traces),
four fan-out quadrants (one cell, placed four times rotated by 90 degrees: VIA1 on the
die pads, RDL1 traces routed out at 45 degrees, VIA2 landings, RDL2 traces to the
bond pads) and an area array of bond pads over the die (cell BUMP: RDL2 pad, PO opening,
UBM; placed as one `rows x columns` array). Some variants carry planted violations of
the fowlp-2l deck (narrow and close traces, an unlanded via, an odd angle, a pad in the
saw street). The output is deterministic per (shapes, seed).

The layer numbers are those of rules/fowlp-2l.yaml.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

import gdstk

import realistic  # benchmarks/ is on sys.path: run as a script, or added by run.py and the tests

PKG, DIE, DIE_PAD, DIE_METAL, VIA1, RDL1, VIA2, RDL2, PO, UBM = 0, 1, 2, 3, 10, 11, 12, 13, 20, 21

PAD_PITCH = 40.0  # die pad pitch on each die side, um
BOND_PITCH = 120.0  # fan-out bond pad pitch, um
BUMP_PITCH = 150.0  # area-array bump pitch over the die, um
TRACE_W = 3.0  # RDL trace width, um
SAW_STREET = 200.0  # gap between package outlines on the panel, um
PER_IO = 10  # flattened shapes per fan-out I/O (see _quadrant)


def _rect(cx: float, cy: float, w: float, h: float, layer: int) -> gdstk.Polygon:
    return gdstk.rectangle((cx - w / 2, cy - h / 2), (cx + w / 2, cy + h / 2), layer=layer)


def _bump_cell(lib: gdstk.Library) -> gdstk.Cell:
    """A bond pad: 60 um RDL2 pad, 40 um passivation opening, 52 um UBM (octagons; 6 um over
    the opening, since octagon vertices rounded to the grid take a few nm off PO.4's 5 um)."""
    cell = lib.new_cell("BUMP")
    for size, layer in ((60.0, RDL2), (40.0, PO), (52.0, UBM)):
        r = size / 2
        c = r * math.tan(math.pi / 8)  # octagon: edges at 0/45/90/135 degrees
        pts = [(c, r), (r, c), (r, -c), (c, -r), (-c, -r), (-r, -c), (-r, c), (-c, r)]
        cell.add(gdstk.Polygon(pts, layer=layer))
    return cell


def _die_cell(lib: gdstk.Library, name: str, n_pads: int, die: float) -> gdstk.Cell:
    """Die outline, n_pads die pads per side (arrays) and short on-die traces."""
    pad = lib.new_cell(f"{name}_PAD")
    pad.add(_rect(0, 0, 24.0, 24.0, DIE_PAD))  # VIA1.L: 7 um around a 10 um via (1 + 5 die shift)
    pad.add(_rect(0, -26.0, 2.5, 30.0, DIE_METAL))  # into the die; TW.1: narrower than the RDL traces
    cell = lib.new_cell(name)
    cell.add(_rect(0, 0, die, die, DIE))
    span = (n_pads - 1) * PAD_PITCH
    edge = die / 2 - 20.0
    for rot in range(4):
        t = rot * math.pi / 2
        x0, y0 = -span / 2, edge
        ox = x0 * math.cos(t) - y0 * math.sin(t)
        oy = x0 * math.sin(t) + y0 * math.cos(t)
        sx, sy = PAD_PITCH * math.cos(t), PAD_PITCH * math.sin(t)
        ref = gdstk.Reference(pad, (round(ox, 6), round(oy, 6)), rotation=t)
        ref.repetition = gdstk.Repetition(columns=n_pads, rows=1, v1=(round(sx, 6), round(sy, 6)), v2=(0, 1))
        cell.add(ref)  # a row of pads: one array reference per die side
    return cell


def _quadrant(lib: gdstk.Library, name: str, n_pads: int, die: float, rng: random.Random, defects: bool) -> gdstk.Cell:
    """Fan-out of one die side: VIA1, RDL1 (45-degree fan-out), VIA2, RDL2 to a bond pad row.

    Trace i leaves its die pad straight out, bends at a common height, runs at 45 degrees
    until it is above its bond pad, then runs straight to the VIA2 landing; RDL2 continues
    to a bond pad. Neighbouring traces stay >= PAD_PITCH/sqrt(2) apart by construction.
    """
    cell = lib.new_cell(name)
    edge = die / 2 - 20.0
    span = (n_pads - 1) * PAD_PITCH
    bond_span = (n_pads - 1) * BOND_PITCH
    bend = edge + 60.0
    reach = bend + (bond_span - span) / 2 + 80.0  # the outermost trace's diagonal ends below here
    bump = lib["BUMP"]
    for i in range(n_pads):
        x = -span / 2 + i * PAD_PITCH
        bx = -bond_span / 2 + i * BOND_PITCH
        dx = bx - x
        up = bend + abs(dx)
        route = [(x, edge), (x, bend), (bx, up), (bx, reach)]
        cell.add(_rect(x, edge, 10.0, 10.0, VIA1))
        cell.add(gdstk.FlexPath(route, TRACE_W, layer=RDL1))
        cell.add(_rect(x, edge, 14.0, 14.0, RDL1))  # landing pad over VIA1
        cell.add(_rect(bx, reach, 14.0, 14.0, RDL1))  # landing pad under VIA2
        cell.add(_rect(bx, reach, 10.0, 10.0, VIA2))  # VIA2.L: 10 um at least
        cell.add(_rect(bx, reach, 14.0, 14.0, RDL2))
        cell.add(gdstk.FlexPath([(bx, reach), (bx, reach + 150.0)], TRACE_W, layer=RDL2))
        cell.add(gdstk.Reference(bump, (bx, reach + 180.0)))
    if defects:
        k = rng.randrange(1, n_pads - 1)
        x = -span / 2 + k * PAD_PITCH
        bx = -bond_span / 2 + k * BOND_PITCH
        cell.add(_rect(x + 3.0, edge + 35.0, 1.6, 20.0, RDL1))  # RDL1.S: 1.5 um from trace k
        cell.add(_rect(bx - 30.0, reach + 60.0, 1.6, 30.0, RDL2))  # RDL2.W: 1.6 um wide stub
        cell.add(_rect(bx + 40.0, reach + 40.0, 8.0, 8.0, VIA2))  # VIA2 lands on nothing
        cell.add(
            gdstk.Polygon(
                [
                    (bx + 60.0, reach),
                    (bx + 80.0, reach),
                    (bx + 80.0, reach + 10.0),
                    (bx + 68.0, reach + 10.0),
                    (bx + 60.0, reach + 5.0),
                ],
                layer=RDL1,
            )
        )  # a 32-degree edge
    return cell


def _package(lib: gdstk.Library, name: str, n_pads: int, rng: random.Random, defects: bool) -> tuple[gdstk.Cell, float]:
    die = n_pads * PAD_PITCH + 200.0
    die_cell = _die_cell(lib, f"{name}_DIE", n_pads, die)
    quad = _quadrant(lib, f"{name}_FANOUT", n_pads, die, rng, defects)
    bond_span = (n_pads - 1) * BOND_PITCH
    size = 2 * ((die / 2 - 20.0) + 60.0 + (bond_span - (n_pads - 1) * PAD_PITCH) / 2 + 80.0 + 260.0) + 100.0
    size = max(size, bond_span + 400.0)
    cell = lib.new_cell(name)
    cell.add(_rect(0, 0, size, size, PKG))
    cell.add(gdstk.Reference(die_cell, (0, 0)))
    for rot in range(4):
        cell.add(gdstk.Reference(quad, (0, 0), rotation=rot * math.pi / 2))
    n_bumps = max(1, int((die - 200.0) // BUMP_PITCH))
    start = -(n_bumps - 1) * BUMP_PITCH / 2
    cell.add(
        gdstk.Reference(lib["BUMP"], (start, start), columns=n_bumps, rows=n_bumps, spacing=(BUMP_PITCH, BUMP_PITCH))
    )
    if defects:
        cell.add(_rect(0, size / 2 - 20.0, 30.0, 30.0, UBM))  # FO.1: in the saw-street keep-out
    return cell, size


def shapes_per_package(n_pads: int) -> int:
    die = n_pads * PAD_PITCH + 200.0
    n_bumps = max(1, int((die - 200.0) // BUMP_PITCH))
    return 2 + 4 * n_pads * (2 + PER_IO) + 3 * n_bumps * n_bumps


def generate(shapes: int, seed: int = 1, variants: int = 4) -> gdstk.Library:
    """A library whose top cell PANEL flattens to about `shapes` polygons and paths."""
    rng = random.Random(seed)
    n_pads = 60
    while n_pads > 4 and shapes_per_package(n_pads) > shapes:
        n_pads -= 4
    per = shapes_per_package(n_pads)
    count = max(1, round(shapes / per))
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / cols))
    lib = gdstk.Library("FOWLP", unit=1e-6, precision=1e-9)
    _bump_cell(lib)
    packages = []
    for v in range(min(variants, rows)):
        cell, size = _package(lib, f"PKG{v}", n_pads, rng, defects=(v % 2 == 1))
        packages.append((cell, size))
    pitch = packages[0][1] + SAW_STREET
    top = lib.new_cell("PANEL")
    placed = 0
    for r in range(rows):  # one array per row, variants cycled per row as a panel is tiled
        n = min(cols, count - placed)
        if n <= 0:
            break
        cell = packages[r % len(packages)][0]
        top.add(gdstk.Reference(cell, (0, r * pitch), columns=n, rows=1, spacing=(pitch, pitch)))
        placed += n
    return lib


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--shapes", type=int, default=100_000, help="approximate flattened shape count")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mode", choices=("repeated", "realistic"), default="repeated")
    a = ap.parse_args()
    if a.mode == "repeated":
        generate(a.shapes, a.seed).write_gds(str(a.out))
        return
    panel = realistic.generate(a.shapes, a.seed)
    realistic.write(panel, str(a.out))
    a.out.with_suffix(".planted.json").write_text(json.dumps(panel.planted, indent=1) + "\n")
    print(f"{a.out}: {panel.packages} packages, {panel.shapes} shapes ({panel.fill} fill), planted {panel.planted}")


if __name__ == "__main__":
    main()
