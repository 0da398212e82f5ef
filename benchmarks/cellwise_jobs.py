"""What `--jobs 2` gives cell by cell, from CPU times (for machines whose cores are not idle).

    python benchmarks/cellwise_jobs.py /work/data/realistic_1m.gds [RULE ...]

Reads the layout (wall and CPU: the reader is a child process), runs the rules flat in this
process, flattening included (what `--jobs 1` does on a layout of unique cells), then plans them cell by cell
(`pkgdrc.plan` with 2 jobs) and runs the units of work on 2 forked processes, each unit
reporting its own `process_time`. The estimate for two idle cores is
(read + flat) / (read + planning + the busier worker).
"""

from __future__ import annotations

import os
import resource
import sys
import time

from pkgdrc import cellwalk, cellwise
from pkgdrc.decks import load_deck
from pkgdrc.flat import run_rule
from pkgdrc.layers import LayerSet
from pkgdrc.layout import read_layout
from pkgdrc.plan import Options, plan
from pkgdrc.pool import forked_map


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _unit_cpu(state: tuple, i: int) -> tuple[int, float]:
    start = time.process_time()
    cellwise._unit_of(state, i)
    return os.getpid(), time.process_time() - start


def main(path: str, only: list[str]) -> None:
    deck = load_deck("fowlp-2l")
    rules = [r for r in deck.rules if r.check != "stack" and (not only or r.id in only)]
    wall, cpu = time.perf_counter(), _children_cpu() + time.process_time()
    layout = read_layout(path, deck.layers, label_map=deck.labels)
    read_wall, read_cpu = time.perf_counter() - wall, _children_cpu() + time.process_time() - cpu
    start = time.process_time()
    layers = LayerSet(layout, deck)
    for rule in rules:
        run_rule(layers, rule)
    flat = time.process_time() - start
    del layers
    start = time.process_time()
    engines = plan(rules, layout, Options("auto", 2), deck)
    by_cell = [r for r in rules if engines[r.id] == "cellwise"]
    shared = cellwalk.Shared()
    checkers = [cellwalk.CellwiseRule(layout, deck, r, shared) for r in by_cell]
    units, cost = cellwise.units_of_work(checkers)
    for name in deck.layers:
        shared.has(layout.tree, layout.tree.top, name)
    planning = time.process_time() - start
    per: dict[int, float] = {}
    wall = time.perf_counter()
    for _, (pid, s) in forked_map(_unit_cpu, (checkers, units), len(units), 2):
        per[pid] = per.get(pid, 0.0) + s
    phase = time.perf_counter() - wall
    busier = max(per.values(), default=0.0)
    print(f"{path}: {layout.shape_count} shapes, {len(rules)} rules, {len(by_cell)} cell by cell, {len(units)} units")
    print(f"  read {read_wall:.2f} s wall, {read_cpu:.2f} s CPU (reading child and this process)")
    print(f"  --jobs 1 (flat, this process): {flat:.2f} s CPU")
    print(f"  --jobs 2: planning {planning:.2f} s CPU, workers {', '.join(f'{v:.2f}' for v in per.values())} s CPU")
    load = os.getloadavg()[0]
    print(f"  units: largest {cost[0] / sum(cost):.3f} of the work; phase wall {phase:.2f} s (load {load:.1f})")
    print(f"  estimate on 2 idle cores: {(read_cpu + flat) / (read_cpu + planning + busier):.2f}x")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
