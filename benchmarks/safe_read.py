"""What reading a layout in a child process costs (pkgdrc.safe_read), against reading in-process.

    python benchmarks/safe_read.py

In-process = `safe_read.read_tree` (gdstk read + hierarchy checks) then the cell tree
built and flattened (`hierarchy.CellTree`), which is what `read_layout` does without the child process.
Child = `read_layout` as it is: magic bytes and completeness check, fork, the same work
in the child, the vertex arrays pickled back through a pipe, then `to_shapely`.
Best of 5 runs each; the fixed cost per read is the median of 50 reads of a one-polygon
layout. Then how often gdstk crashes on corrupted files: N copies of the fuzz seeds
(tests/fuzz/fuzz_seeds.py) with 1 to 4 random bytes overwritten, each read once.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import gdstk
import numpy as np

from pkgdrc.decks import load_deck
from pkgdrc.errors import PkgdrcError
from pkgdrc.hierarchy import CellTree
from pkgdrc.layout import read_layout, to_shapely
from pkgdrc.safe_read import MAX_SHAPES, read_tree

ROOT = Path(__file__).resolve().parents[1]


def best(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def in_process(path: Path, kind: str, layers: dict) -> None:
    tree, _, _ = CellTree.from_raw(read_tree(str(path), kind, layers, None, {}, MAX_SHAPES), to_shapely)
    for name in layers:
        tree.flatten(name)


def arrayed(path: Path, n: int) -> Path:
    """n x n copies of a 4-vertex RDL1 pad and a 4-vertex VIA1, by one array reference."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    pad = lib.new_cell("PAD")
    pad.add(gdstk.rectangle((0, 0), (10, 10), layer=11), gdstk.rectangle((3, 3), (7, 7), layer=10))
    lib.new_cell("TOP").add(gdstk.Reference(pad, (0, 0), columns=n, rows=n, spacing=(20, 20)))
    lib.write_gds(str(path))
    return path


def fixed_cost(d: Path) -> tuple[float, float]:
    lib = gdstk.Library()
    lib.new_cell("TOP").add(gdstk.rectangle((0, 0), (1, 1), layer=11))
    path = Path(d) / "tiny.gds"
    lib.write_gds(str(path))
    layers = {"RDL1": (11, 0)}

    def median(fn) -> float:
        times = []
        for _ in range(50):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return median(lambda: in_process(path, "gds", layers)), median(lambda: read_layout(path, layers).polygons)


def crash_rates(d: Path, n: int = 1000) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
    from fuzz_seeds import LAYERS, seeds

    rng = np.random.default_rng(8)
    print("\n| seed | corrupted copies | read | refused | gdstk crashed (now exit 2) |")
    print("|---|---:|---:|---:|---:|")
    for name in ("seed.gds", "seed.oas"):
        data = seeds()[name]
        outcome = {"read": 0, "refused": 0, "crashed": 0}
        for _ in range(n):
            buf = bytearray(data)
            for pos in rng.integers(0, len(buf), rng.integers(1, 5)):
                buf[pos] = int(rng.integers(0, 256))
            path = Path(d) / name
            path.write_bytes(bytes(buf))
            try:
                read_layout(path, LAYERS)
                outcome["read"] += 1
            except PkgdrcError as e:
                outcome["crashed" if "crashed" in str(e) else "refused"] += 1
        print(
            f"| {name} ({len(data)} bytes) | {n} | {outcome['read']} | {outcome['refused']} | "
            f"{outcome['crashed']} ({outcome['crashed'] / n:.1%}) |"
        )


def main() -> None:
    layers = load_deck("fowlp-2l").layers
    cases = [("fixtures/demo_fowlp.gds", ROOT / "fixtures" / "demo_fowlp.gds")]
    with tempfile.TemporaryDirectory() as d:
        for n in (100, 300, 700):
            cases.append((f"{n}x{n} array of 2 shapes ({2 * n * n:,} polygons)", arrayed(Path(d) / f"a{n}.gds", n)))
        print("| layout | polygons | in-process s | child s | overhead s | overhead |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, path in cases:
            count = sum(len(p) for p in read_layout(path, layers).polygons.values())
            t_in = best(lambda path=path: in_process(path, "gds", layers))
            t_child = best(lambda path=path: read_layout(path, layers))
            print(
                f"| {label} | {count:,} | {t_in:.4f} | {t_child:.4f} | {t_child - t_in:+.4f} | "
                f"{(t_child / t_in - 1) * 100:+.0f}% |"
            )
        t_in, t_child = fixed_cost(Path(d))
        print(
            f"\nfixed cost per read (one polygon, median of 50): in-process {t_in * 1000:.1f} ms, "
            f"child {t_child * 1000:.1f} ms, overhead {(t_child - t_in) * 1000:.1f} ms"
        )
        crash_rates(Path(d))


if __name__ == "__main__":
    main()
