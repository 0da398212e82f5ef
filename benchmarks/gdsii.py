"""What validating the GDSII record grammar costs (pkgdrc.gdsii), against gdstk reading the same file.

    python benchmarks/gdsii.py [PATH]

Writes (once) a ~117 MB GDSII file: 40 cells of 40,000 rectangles and 5,000 pentagons
each, coordinates up to 20 mm on a 1 nm grid (so coordinate words look like record
headers often enough to exercise the walk), placed in a top cell. Then, each in a fresh
process (the reading child is one: the file's pages are mapped and the arrays allocated
anew; modules imported before timing, as in the child): `validate_file` on it, and
`gdstk.read_gds` for scale. Best of 3, wall and CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gdstk
import numpy as np

TIMED = """
import sys, time
import gdstk
from pkgdrc.gdsii import validate_file
t, c = time.perf_counter(), time.process_time()
if sys.argv[2] == "validate":
    records = len(validate_file(sys.argv[1]).pos)
else:
    records = len(gdstk.read_gds(sys.argv[1]).cells)
print(time.perf_counter() - t, time.process_time() - c, records)
"""


def write(path: Path) -> None:
    rng = np.random.default_rng(1)
    lib = gdstk.Library()
    cells = []
    for c in range(40):
        cell = lib.new_cell(f"C{c}")
        xy = rng.uniform(0, 20000, (40000, 2))
        cell.add(*[gdstk.rectangle((x, y), (x + 1.5, y + 0.7), layer=c % 5 + 1) for x, y in xy])
        cell.add(
            *[
                gdstk.Polygon([(x, y), (x + 3, y), (x + 4, y + 2), (x + 1, y + 5), (x - 1, y + 2)], layer=7)
                for x, y in xy[:5000]
            ]
        )
        cells.append(cell)
    top = lib.new_cell("TOP")
    top.add(*[gdstk.Reference(c, (i * 100.0, 0)) for i, c in enumerate(cells)])
    lib.write_gds(str(path))


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pkgdrc-bench-100mb.gds")
    if not path.exists():
        write(path)
    print(f"{path}: {os.path.getsize(path) / 1e6:.1f} MB")
    for what in ("validate", "gdstk"):
        runs = [
            subprocess.run(
                [sys.executable, "-c", TIMED, str(path), what], capture_output=True, text=True, check=True
            ).stdout.split()
            for _ in range(3)
        ]
        wall, cpu, count = min(runs, key=lambda r: float(r[0]))
        print(
            f"{what:8s} wall {float(wall):.2f} s  cpu {float(cpu):.2f} s  "
            f"({count} {'records' if what == 'validate' else 'cells'})"
        )


if __name__ == "__main__":
    main()
