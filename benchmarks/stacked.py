"""Shapes stacked on one another (issue 14): N identical shapes at one place, whole deck.

    python benchmarks/stacked.py --counts 1000 10000 --out /tmp/stacked
    python benchmarks/stacked.py --abut --counts 8000 20000 --out /tmp/abut

With --abut, the N pieces of RDL1 (10 x 10 um) abut in one row instead: a bus drawn in
pieces, one merged shape (Clipper2 once took a minute for 20,000 of them).

Each layout holds N identical copies of one RDL1 trace (10 x 100 um) drawn at one place
(plain polygons, not a cell placed N times), in a package outline; the deck's other
layers are empty (`--allow-empty`). Every check is the real `pkgdrc check` command (deck fowlp-2l, --no-cache,
one job, JSON report) in its own process: wall and CPU seconds, peak RSS, markers per rule.
Duplicates are one shape once merged, so the time should not grow with N.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import gdstk


def layout(n: int, path: Path, abut: bool = False) -> None:
    lib = gdstk.Library()
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((-500, -500), (500 + 10 * n * abut, 500), layer=0))  # PKG outline (0/0)
    for k in range(n):
        top.add(
            gdstk.rectangle((10 * k, 0), (10 * k + 10, 10), layer=11)
            if abut
            else gdstk.rectangle((0, 0), (10, 100), layer=11)
        )
    lib.write_gds(str(path))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--out", type=Path, default=Path("/tmp/stacked"))
    ap.add_argument("--abut", action="store_true", help="N pieces abutting in a row, not stacked")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    print(f"{'shapes':>8} {'wall s':>7} {'cpu s':>6} {'MiB':>6}  load  rc  markers")
    for n in a.counts:
        gds, rep = a.out / f"stacked_{n}.gds", a.out / f"stacked_{n}.json"
        layout(n, gds, a.abut)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        args = [sys.executable, "-m", "pkgdrc", "check", str(gds), "--no-cache", "--jobs", "1", "-q", "--allow-empty"]
        args += ["--json", str(rep)]
        done = subprocess.run(args, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        doc = json.loads(rep.read_text())
        found = {r["id"]: r["count"] for r in doc["rules"] if r["count"]}
        mib, load = after.ru_maxrss / 1024, os.getloadavg()[0]
        print(f"{n:>8} {wall:>7.2f} {cpu:>6.2f} {mib:>6.0f}  {load:.1f}  {done.returncode}  {found}")


if __name__ == "__main__":
    main()
