"""What `--jobs 2` costs and gives, from CPU times (for machines whose cores are not idle).

    python benchmarks/jobs_cpu.py /tmp/pkgdrc-bench/fowlp_1000000_s1.gds   # written by run.py

Reads the layout, plans two bands, runs them forked (each worker reports its own
`process_time`), then runs the same rules in one process. The estimate for two idle
cores is (read + one process) / (read + plan + slowest band); read is wall time, since
the layout is read in a child process (pkgdrc.safe_read).
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from pathlib import Path

from pkgdrc import tiles
from pkgdrc.decks import load_deck
from pkgdrc.flat import run_rule
from pkgdrc.layers import LayerSet
from pkgdrc.layout import read_layout

DECK = Path(__file__).resolve().parents[1] / "rules" / "fowlp-2l.yaml"


def _band_cpu(i: int) -> float:
    layout, deck, rules, plan = tiles._FORKED
    start = time.process_time()
    tiles.run_tile(layout, deck, rules, plan[i])
    return time.process_time() - start


def main(path: str) -> None:
    deck = load_deck(DECK)
    rules = [r for r in deck.rules if r.check in ("width", "space", "enclosure", "inside", "angle")]
    start = time.perf_counter()
    layout = read_layout(path, deck.layers)
    read = time.perf_counter() - start
    start = time.process_time()
    plan = tiles.plan_tiles(layout, tiles.deck_halo_dbu(layout, deck, rules), 2)
    planning = time.process_time() - start
    tiles._FORKED = (layout, deck, rules, plan)
    with multiprocessing.get_context("fork").Pool(len(plan)) as pool:
        bands = pool.map(_band_cpu, range(len(plan)))
    start = time.process_time()
    layers = LayerSet(layout, deck)
    for rule in rules:
        run_rule(layers, rule)
    one = time.process_time() - start
    print(
        f"read {read:.1f} s, plan {planning:.2f} s, bands {', '.join(f'{b:.1f}' for b in bands)} s CPU, "
        f"one process {one:.1f} s CPU; on {len(plan)} idle cores about "
        f"{(read + one) / (read + planning + max(bands)):.2f}x"
    )


if __name__ == "__main__":
    main(sys.argv[1])
