"""Assembly check speed: 4 flip-chip dies with 100,000 bumps in all on one interposer.

    python benchmarks/assembly.py [--bumps 100000] [--repeat 3]

Each die is its own GDS (a 158 x 158 bump array at 40 um pitch, 20 um bumps, origin at
the die's lower-left corner), placed face down (flip: true) on an interposer whose GDS
holds a 28 um pad under every bump. Timed: `check_assembly` end to end (the five GDS
files read in child processes, layers merged, bumps placed, one `align` rule over all
four dies), best of `--repeat`, for three placements:

- aligned: every die placed right (no marker);
- one die unflipped: die 1 written `flip: false` (one whole-part marker, found by the
  8-orientation placement search);
- all dies off: every die unflipped and turned by 180 degrees (unflipped and turned by 90, a square
  array lands on its pads exactly) (4 whole-part searches).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import gdstk
import numpy as np

from pkgdrc.assembly import check_assembly

PITCH, BUMP, PAD = 40.0, 20.0, 28.0
DIE_SIZE = 7000.0


def _squares(cell: gdstk.Cell, centres: np.ndarray, size: float, layer: int) -> None:
    h = size / 2
    cell.add(*(gdstk.rectangle((x - h, y - h), (x + h, y + h), layer=layer) for x, y in centres.tolist()))


def write_parts(folder: Path, per_die: int) -> list[tuple[float, float]]:
    """Four die GDS files and the interposer; returns the dies' assembly positions (um)."""
    n = round(per_die**0.5)
    xs, ys = np.meshgrid(300 + PITCH * np.arange(n), 300 + PITCH * np.arange(n), indexing="ij")
    bumps = np.column_stack([xs.ravel(), ys.ravel()])
    sites = [(8000.0 + 8000.0 * (k % 2), 1000.0 + 8000.0 * (k // 2)) for k in range(4)]
    pads = []
    for k, (sx, sy) in enumerate(sites):
        lib = gdstk.Library(unit=1e-6, precision=1e-9)
        cell = lib.new_cell(f"DIE{k}")
        cell.add(gdstk.rectangle((0, 0), (DIE_SIZE, DIE_SIZE), layer=1))
        _squares(cell, bumps, BUMP, 23)
        lib.write_gds(str(folder / f"die{k}.gds"))
        pads.append(np.column_stack([sx - bumps[:, 0], sy + bumps[:, 1]]))  # face down
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = lib.new_cell("INTERPOSER")
    cell.add(gdstk.rectangle((0, 0), (17000, 17000), layer=80))
    _squares(cell, np.vstack(pads), PAD, 81)
    lib.write_gds(str(folder / "interposer.gds"))
    return sites


def write_assembly(folder: Path, sites, placements: list[str]) -> Path:
    shift = [1010.0 if "shift" in p else 0.0 for p in placements]
    parts = "".join(
        f"  die{k}: {{layout: die{k}.gds, layers: {{DIE: 1/0, BUMP: 23/0}}, "
        f"at: [{x + shift[k]:g}, {y + shift[k]:g}], {placements[k].replace(', shift: true', '')}}}\n"
        for k, (x, y) in enumerate(sites)
    )
    text = (
        "name: bench\nparts:\n  interposer: {layout: interposer.gds, layers: {INTERPOSER: 80/0, PAD: 81/0}}\n"
        f"{parts}rules:\n  AL: {{check: align, layer: [die0.BUMP, die1.BUMP, die2.BUMP, die3.BUMP], "
        "other: interposer.PAD, tolerance: 3, min: 2}\n"
    )
    path = folder / f"bench_{abs(hash(tuple(placements)))}.yaml"
    path.write_text(text)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bumps", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sites = write_parts(folder, args.bumps // 4)
        scenarios = {
            "aligned": ["flip: true"] * 4,
            "one die unflipped": ["flip: true", "flip: false", "flip: true", "flip: true"],
            "all dies off": ["flip: true, shift: true"] * 4,
        }
        print(f"| placement | bumps | markers | check_assembly s (best of {args.repeat}) | align rule s |")
        print("|---|---:|---:|---:|---:|")
        for name, placements in scenarios.items():
            path = write_assembly(folder, sites, placements)
            best, rule_s = float("inf"), 0.0
            for _ in range(args.repeat):
                start = time.perf_counter()
                result = check_assembly(path)
                took = time.perf_counter() - start
                if took < best:
                    best, rule_s = took, result.report.rules[0].seconds
            report = result.report
            bumps = sum(len(result.parts[f"die{k}"].layout.polygons["BUMP"]) for k in range(4))
            print(f"| {name} | {bumps:,} | {report.violations} | {best:.2f} | {rule_s:.2f} |")
            for m in report.rules[0].markers[:4]:
                print(f"|   | | | {m.message[:150]} | |")


if __name__ == "__main__":
    main()
