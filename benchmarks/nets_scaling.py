"""Net extraction time vs shape count: `python benchmarks/nets_scaling.py [--max 320000]`.

Builds a grid of die-pad nets in memory (each: DIE_PAD, VIA1, an RDL1 trace drawn as two
overlapping pieces, VIA2, RDL2 pad, PO, UBM: 8 shapes; one net in ten labelled) and
times `Nets.extract` (STRtree pair queries + connected components) plus naming every
net, on the fowlp-2l deck's connect: section. Prints shapes, seconds and microseconds
per shape; about constant microseconds per shape means linear growth.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely

from pkgdrc.decks import load_deck
from pkgdrc.layers import LayerSet
from pkgdrc.layout import Layout
from pkgdrc.nets import Nets
from pkgdrc.units import Grid


def _boxes(cx: np.ndarray, cy: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    k = 1000.0  # um -> dbu on a 1 nm grid
    return shapely.box((cx + x0) * k, (cy + y0) * k, (cx + x1) * k, (cy + y1) * k)


def package(nets: int) -> Layout:
    side = int(np.ceil(np.sqrt(nets)))
    gx, gy = np.meshgrid(np.arange(side) * 200.0, np.arange(side) * 200.0)
    cx, cy = gx.ravel()[:nets], gy.ravel()[:nets]
    polygons = {
        "DIE_PAD": _boxes(cx, cy, -30, -30, 30, 30),
        "VIA1": _boxes(cx, cy, -10, -10, 10, 10),
        "RDL1": np.concatenate([_boxes(cx, cy, -20, -20, 20, 20), _boxes(cx, cy, 15, -5, 120, 5)]),
        "VIA2": _boxes(cx, cy, 110, -10, 130, 10),
        "RDL2": _boxes(cx, cy, 100, -20, 140, 20),
        "PO": _boxes(cx, cy, 105, -15, 135, 15),
        "UBM": _boxes(cx, cy, 102, -18, 138, 18),
    }
    labelled = np.arange(0, nets, 10)
    labels = {"DIE_PAD": [(f"N{i}", cx[i] * 1000.0, cy[i] * 1000.0) for i in labelled]}
    return Layout("bench", "TOP", Grid(0.001), polygons, labels)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=320_000, help="largest shape count")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    deck = load_deck("fowlp-2l")
    print(f"{'shapes':>8} {'nets':>7} {'seconds':>8} {'us/shape':>9}")
    shapes = 10_000
    while shapes <= args.max:
        layout = package(shapes // 8)
        best = np.inf
        for _ in range(args.repeat):
            layers = LayerSet(layout, deck)
            for name in layout.polygons:  # merging is the layer cache's work, not the extraction's
                layers.merged(name)
            t = time.perf_counter()
            nets = Nets.extract(layers)
            names = [nets.name(n) for n in nets.of("DIE_PAD")[::10]]
            best = min(best, time.perf_counter() - t)
        n = layout.shape_count
        assert nets.count == shapes // 8 and len(names) > 0
        print(f"{n:>8} {nets.count:>7} {best:>8.3f} {best / n * 1e6:>9.2f}")
        shapes *= 2


if __name__ == "__main__":
    main()
