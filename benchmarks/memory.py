"""Where a run's memory goes: resident memory after reading and layer building, and each rule's peak.

    python benchmarks/memory.py LAYOUT.gds [--deck rules/fowlp-2l.yaml] [--rule ID ...]
    python benchmarks/memory.py LAYOUT.gds --whole-deck

`--whole-deck` runs the deck once, in one process (`pkgdrc.check`, one job), and prints
the peak RSS while each rule ran (VmHWM, reset as the next rule starts): where the whole
run's peak is. Otherwise:

Linux only (reads /proc/self/status). Prints resident memory (RSS, MiB) after each stage
of one process: the layout read (the hierarchy as shapely polygons), every drawn layer
flattened, every layer the deck names merged; then, for each rule, a forked child of the
process as it was after reading and flattening (nothing merged) that runs the rule alone
and reports its peak RSS (VmHWM, reset at the fork with /proc/self/clear_refs): what that
rule alone needs on top of the flattened layout, its CPU seconds, and its markers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DECK = HERE.parent / "rules" / "fowlp-2l.yaml"


def status_mib(field: str) -> float:
    """A field of /proc/self/status (VmRSS, VmHWM), in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux 4.0+)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rule_alone(layout, deck, rule_id: str) -> dict:
    """Run one rule in a forked child of this process: its peak RSS, CPU seconds, markers."""
    from pkgdrc.run import check

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        reset_peak()
        start, c0 = time.perf_counter(), cpu()
        report = check(layout, deck, rules=[rule_id], jobs=1)
        out = {
            "rule": rule_id,
            "seconds": time.perf_counter() - start,
            "cpu": cpu() - c0,
            "peak_mib": status_mib("VmHWM"),
            "markers": len(report.rules[0].markers),
        }
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def whole_deck(path: str, deck_path: str) -> None:
    """The deck in one process: peak RSS while reading and while each rule ran."""
    from pkgdrc.run import check

    peaks: list[tuple[str, float]] = []
    current = ["(read, layers)"]

    def on_rule(rule) -> None:
        peaks.append((current[0], status_mib("VmHWM")))
        reset_peak()
        current[0] = rule.id

    c0 = cpu()
    report = check(path, deck_path, jobs=1, on_rule=on_rule)
    peaks.append((current[0], status_mib("VmHWM")))
    print(f"whole deck: {cpu() - c0:.1f} CPU s, {report.violations} markers, load {os.getloadavg()[0]:.1f}")
    print("\n| while | peak RSS MiB |\n|---|---:|")
    for name, peak in peaks:
        print(f"| {name} | {peak:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("layout")
    ap.add_argument("--deck", default=str(DECK))
    ap.add_argument("--rule", action="append", help="only these rules (default: every rule of the deck)")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--whole-deck", action="store_true", help="peak RSS per rule within one run of the deck")
    a = ap.parse_args()
    if a.whole_deck:
        whole_deck(a.layout, a.deck)
        return

    from pkgdrc.decks import load_deck
    from pkgdrc.layers import LayerSet
    from pkgdrc.layout import read_layout

    deck = load_deck(a.deck)
    stages = [("start (pkgdrc imported)", status_mib("VmRSS"), 0.0)]
    c0 = cpu()
    layout = read_layout(a.layout, deck.layers, label_map=deck.labels)
    stages.append((f"read ({layout.shape_count:,} shapes)", status_mib("VmRSS"), cpu() - c0))
    c0 = cpu()
    layout.polygons  # noqa: B018 (flatten every drawn layer)
    stages.append(("drawn layers flattened", status_mib("VmRSS"), cpu() - c0))
    rules = []
    for rule_id in a.rule or [r.id for r in deck.rules]:
        rules.append(rule_alone(layout, deck, rule_id))
        print(json.dumps(rules[-1]), file=sys.stderr, flush=True)
    layers = LayerSet(layout, deck)
    for name in list(deck.layers) + list(deck.derived):
        c0 = cpu()
        layers.merged(name)
        stages.append((f"merged {name} ({len(layers.merged(name)):,})", status_mib("VmRSS"), cpu() - c0))
    print(f"peak RSS of the process: {status_mib('VmHWM'):.0f} MiB; load {os.getloadavg()[0]:.1f}")
    print("\n| stage | RSS MiB | CPU s |\n|---|---:|---:|")
    for name, rss, seconds in stages:
        print(f"| {name} | {rss:.0f} | {seconds:.1f} |")
    base = stages[2][1]
    print("\n| rule | peak MiB | over the flattened layout | CPU s | markers |\n|---|---:|---:|---:|---:|")
    for r in rules:
        print(f"| {r['rule']} | {r['peak_mib']:.0f} | {r['peak_mib'] - base:+.0f} | {r['cpu']:.1f} | {r['markers']} |")
    if a.json:
        a.json.write_text(json.dumps({"stages": stages, "rules": rules}, indent=1))


if __name__ == "__main__":
    main()
