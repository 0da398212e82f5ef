"""Where `--jobs 2` spends its CPU cell by cell, against `--jobs 1` flat (for shared machines).

    python benchmarks/cellwise_jobs.py /work/data/realistic_1m.gds [--units-only] [RULE ...]

Reads the layout (wall and CPU: the reader is a child process), runs the rules flat in this
process as `--jobs 1` does (each rule's CPU, the layers it is the first to read merged
included), then plans them as `--jobs 2` does (`pkgdrc.plan.plan_work`, the parent's serial
part) and runs the units of work on 2 forked processes as `cellwise.run_rules` does, each unit
reporting its CPU per rule, its worker and when it started and ended. Prints per rule the CPU
flat and in units, per worker its busy CPU and how long it stood idle before the phase ended
(balance), and the estimate for two idle cores: (read + flat) / (read + planning + the busier
worker). The load average is printed with each phase: compare CPU seconds, not wall.
`--units-only` skips the flat run (the workers then fork from a process that has not run
it, as in `pkgdrc check --jobs 2`).
"""

from __future__ import annotations

import os
import resource
import sys
import time

from pkgdrc import cellwalk
from pkgdrc.decks import load_deck
from pkgdrc.flat import run_rule
from pkgdrc.layers import LayerSet
from pkgdrc.layout import read_layout
from pkgdrc.plan import Options, by_cell, plan_work
from pkgdrc.pool import forked_map


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def _unit_cpu(state: tuple, i: int) -> tuple[int, float, float, float, list[tuple[int, float]]]:
    """`cellwise._unit_of` with each part's CPU: (pid, start, end, unit CPU, [(rule, CPU), ...])."""
    checkers, units = state
    shared = cellwalk.Shared(checkers[0].shared.layer_boxes)
    start, cpu = time.perf_counter(), time.process_time()
    per = []
    for k, part in units[i]:
        checkers[k].shared = shared
        c = time.process_time()
        checkers[k].run_part(part)
        per.append((k, time.process_time() - c))
    return os.getpid(), start, time.perf_counter(), time.process_time() - cpu, per


def main(path: str, only: list[str], units_only: bool = False) -> None:
    deck = load_deck("fowlp-2l")
    rules = [r for r in deck.rules if not only or r.id in only]
    wall, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN) + _cpu(resource.RUSAGE_SELF)
    layout = read_layout(path, deck.layers, label_map=deck.labels)
    read_wall = time.perf_counter() - wall
    read_cpu = _cpu(resource.RUSAGE_CHILDREN) + _cpu(resource.RUSAGE_SELF) - cpu
    print(f"{path}: {layout.shape_count} shapes, {len(rules)} rules")
    print(f"  read {read_wall:.2f} s wall, {read_cpu:.2f} s CPU (reading child and this process; {_load()})")
    flat: dict[str, float] = {}
    layers = LayerSet(layout, deck, merge_by_cell=by_cell(layout, "auto"))
    for rule in [] if units_only else rules:
        start = time.process_time()
        run_rule(layers, rule)
        flat[rule.id] = time.process_time() - start
    del layers
    print(f"  --jobs 1 flat: {sum(flat.values()):.2f} s CPU ({_load()})")
    start = time.process_time()
    engines, work = plan_work(rules, layout, Options("auto", 2), deck)
    if work is None:
        print("  --jobs 2 does not run cell by cell on this layout:", sorted(set(engines.values())))
        return
    for name in deck.layers:  # as cellwise.run_rules does before forking
        work.checkers[0].shared.has(layout.tree, layout.tree.top, name)
    planning = time.process_time() - start
    by_cell_rules = work.rules
    units: dict[str, float] = {r.id: 0.0 for r in by_cell_rules}
    workers: dict[int, list[tuple[float, float, float]]] = {}
    phase = time.perf_counter()
    for _, (pid, t0, t1, unit, per) in forked_map(_unit_cpu, (work.checkers, work.units), len(work.units), 2):
        workers.setdefault(pid, []).append((t0 - phase, t1 - phase, unit))
        for k, s in per:
            units[by_cell_rules[k].id] += s
    phase = time.perf_counter() - phase
    largest = work.cost[0] / sum(work.cost)
    print(f"  --jobs 2: planning {planning:.2f} s CPU, {len(work.units)} units, the largest {largest:.4f} of the work")
    for pid, done in workers.items():
        busy = sum(u for _, _, u in done)
        idle = phase - max(t1 for _, t1, _ in done)
        print(f"    worker {pid}: {len(done)} units, {busy:.2f} s CPU, idle {idle:.2f} s at the end")
    print(f"    units phase {phase:.2f} s wall ({_load()})")
    print("  rule        flat CPU s   units CPU s")
    for rule in rules:
        one_rule, in_units = flat.get(rule.id, float("nan")), units.get(rule.id, float("nan"))
        print(f"  {rule.id:11s} {one_rule:10.2f} {in_units:12.2f}  {engines[rule.id]}")
    busier = max(sum(u for _, _, u in done) for done in workers.values())
    one = read_cpu + sum(flat.values())
    print(f"  total: flat {sum(flat.values()):.2f}, units {sum(units.values()):.2f} s CPU")
    two = read_cpu + planning + busier
    print(f"  estimate on 2 idle cores: {one:.1f} / {two:.1f} = {one / two:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1], [a for a in sys.argv[2:] if a != "--units-only"], "--units-only" in sys.argv[2:])
