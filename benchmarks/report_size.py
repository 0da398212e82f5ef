"""What a Report keeps after a run: `Report.drawing` (plain arrays for the HTML report).

    python benchmarks/report_size.py [LAYOUT] [DECK]   # default /work/data/realistic_100k.gds, fowlp-2l

Runs `pkgdrc.check(..., drawing=True)` on a layout read beforehand, then measures the
resident memory the Report's drawing holds (RSS with it, less RSS once it is dropped,
after a garbage collection and `malloc_trim`), the drawing's parts, the CPU seconds of
`make_drawing` alone, and that the Layout is freed when the run ends (a weak reference).
"""

from __future__ import annotations

import ctypes
import gc
import sys
import time
import weakref

from pkgdrc.checks import CHECKS
from pkgdrc.decks import load_deck
from pkgdrc.drawing import make_drawing
from pkgdrc.layout import read_layout
from pkgdrc.run import check


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def settle() -> None:
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/work/data/realistic_100k.gds"
    deck = load_deck(sys.argv[2] if len(sys.argv) > 2 else "fowlp-2l")
    layout = read_layout(path, deck.layers, label_map=deck.labels)
    report = check(layout, deck)
    reads = {r.id: CHECKS[r.check].reads(r.params) for r in deck.rules}
    start = time.process_time()
    make_drawing(layout, deck, report.rules, reads)
    cpu = time.process_time() - start
    settle()
    with_layout = rss_mb()
    gone = weakref.ref(layout)
    report = check(layout, deck, drawing=True)
    del layout
    settle()
    drawing = report.drawing
    assert drawing is not None
    kept = rss_mb()
    wkb = sum(len(b) for found in drawing.near.values() for _, shapes in found for b in shapes)
    centres = drawing.shape_centres.nbytes
    del drawing
    report.drawing = None
    settle()
    print(
        f"{path}: {report.shapes:,} shapes, {report.violations} markers; layout freed after the run: "
        f"{gone() is None}; RSS with the layout {with_layout:.0f} MB, after the run {kept:.0f} MB, "
        f"held by Report.drawing {kept - rss_mb():.1f} MB (shape centres "
        f"{centres / 2**20:.2f} MB, {wkb / 2**10:.1f} KiB of shapes near markers); "
        f"make_drawing {cpu:.2f} s CPU"
    )


if __name__ == "__main__":
    main()
