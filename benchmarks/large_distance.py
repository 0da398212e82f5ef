"""Benchmark: checks at a large distance among many small shapes (issue 15 item 26).

`python benchmarks/large_distance.py [--out DIR]` draws the case of the issue (IHP's copper
pillar openings among contacts): 12 round openings (64-vertex polygons, 80 um across) and
3,200 octagonal contacts 10 um across on a 30 um pitch (an 80 x 40 field, less the contacts
under an opening), then runs a `separation` of 100 um between contacts and openings and a
`space` of 100 um among the contacts in pkgdrc and in klayout.db (flat: `separation_check`,
`space_check`, Euclidean, 0.30 defaults), each rule alone in one process, and prints
seconds (CPU seconds in brackets), peak memory and the marker counts, which must agree.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from pathlib import Path

import gdstk

DECK = """name: large-distance
units: um
layers:
  OPEN: 1/0
  CONT: 2/0
rules:
  SEP: {check: separation, layer: CONT, other: OPEN, min: 100}
  SP: {check: space, layer: CONT, min: 100}
"""
OPENINGS = [(300.0 + 600.0 * i, 200.0 + 400.0 * j) for i in range(4) for j in range(3)]


def octagon(cx: float, cy: float, size: float) -> list[tuple[float, float]]:
    """A regular-looking octagon `size` across (45-degree corners cut at size / (2 + sqrt 2))."""
    c, h = size / (2 + math.sqrt(2)), size / 2
    pts = [(-h + c, -h), (h - c, -h), (h, -h + c), (h, h - c), (h - c, h), (-h + c, h), (-h, h - c), (-h, -h + c)]
    return [(round(cx + x, 3), round(cy + y, 3)) for x, y in pts]


def build(path: Path) -> int:
    """The layout at `path`; returns the number of contacts."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    for cx, cy in OPENINGS:
        pts = [(cx + 40 * math.cos(2 * math.pi * k / 64), cy + 40 * math.sin(2 * math.pi * k / 64)) for k in range(64)]
        top.add(gdstk.Polygon([(round(x, 3), round(y, 3)) for x, y in pts], layer=1))
    n = 0
    for i in range(80):
        for j in range(40):
            x, y = 15.0 + 30 * i, 15.0 + 30 * j
            if min(math.hypot(x - ox, y - oy) for ox, oy in OPENINGS) < 60:
                continue
            top.add(gdstk.Polygon(octagon(x, y, 10.0), layer=2))
            n += 1
    lib.write_gds(str(path))
    return n


def run_pkgdrc(gds: Path, deck: Path, rule: str) -> int:
    from pkgdrc.run import check

    return len(check(gds, deck, rules=[rule]).rules[0].markers)


def run_klayout(gds: Path, rule: str) -> int:
    from klayout import db

    layout = db.Layout()
    layout.read(str(gds))
    top = layout.top_cell()
    dbu = layout.dbu

    def region(layer: int):
        return db.Region(top.begin_shapes_rec(layout.find_layer(layer, 0)))

    d = round(100 / dbu)
    if rule == "SEP":
        found = region(2).separation_check(region(1), d, False, db.Metrics.Euclidian)
    else:
        found = region(2).space_check(d, False, db.Metrics.Euclidian)
    return found.count()


def child(engine: str, gds: str, deck: str, rule: str) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    n = run_pkgdrc(Path(gds), Path(deck), rule) if engine == "pkgdrc" else run_klayout(Path(gds), rule)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{time.perf_counter() - start:.3f} {time.process_time() - cpu:.3f} {peak:.0f} {n}")


def main() -> None:
    import subprocess

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/large_distance")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    gds, deck = out / "large_distance.gds", out / "large_distance.yaml"
    contacts = build(gds)
    deck.write_text(DECK)
    print(f"12 openings, {contacts} contacts; load {open('/proc/loadavg').read().split()[0]}")
    print("| rule | engine | seconds (CPU) | peak MiB | markers |")
    print("|---|---|---:|---:|---:|")
    for rule in ("SEP", "SP"):
        for engine in ("pkgdrc", "klayout-flat"):
            cmd = [sys.executable, __file__, "--child", engine, str(gds), str(deck), rule]
            wall, cpu, peak, n = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
            print(f"| {rule} | {engine} | {float(wall):.2f} ({float(cpu):.2f}) | {peak} | {n} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
    else:
        main()
