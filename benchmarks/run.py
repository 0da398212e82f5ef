"""Benchmark: the fowlp-2l deck with pkgdrc and with the same rules in klayout.db, side by side.

    python benchmarks/run.py                       # sizes 10k, 100k, 1M shapes
    python benchmarks/run.py --sizes 10000 100000 --engines pkgdrc klayout-flat

Each engine runs in its own child process on the same generated layout
(benchmarks/generate.py); the parent takes the child's peak resident memory from
`os.wait4` (the child's rusage, which includes the processes it waited for, e.g.
pkgdrc's tile workers: the largest single process, not their sum) and its CPU time
(user + system, children included). Printed: shapes, wall seconds (inside the child:
layout reading and all rules), ratio to pkgdrc with one job, CPU seconds, peak memory,
the machine's 1-minute load average when the child ended (other work skews wall times),
and whether the engine found the same number of markers per rule as pkgdrc.

Engines: pkgdrc (one process; local rules cell by cell where cells repeat), pkgdrc-jN
(N tile processes for the rules run flat), pkgdrc-flat / pkgdrc-flatN (`hierarchy="flat"`: the
flattened layout only, one or N processes), klayout-flat (flat
Regions; klayout.db has no threads in flat mode outside a TilingProcessor),
klayout-deep (hierarchical DeepShapeStore, 1 thread), klayout-deepN (N threads).

The KLayout side is the deck's original 15 rules (width, space, enclosure, inside,
angle), written with klayout.db's Region/Edges calls of the same semantics: merged
layers, Euclidean metric, enclosure = enclosed_check plus the uncovered part
(`layer - by`), inside = `layer - of.sized(-clearance)`, angle = merged edges at none
of the allowed angles. Rules added to the deck later run only on the pkgdrc side when
`--all-rules` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DECK = HERE.parent / "rules" / "fowlp-2l.yaml"
CORE_KINDS = ("width", "space", "enclosure", "inside", "angle")


def core_rules(deck) -> list:
    """The deck's rules that KLayout runs too (the original 15 rules' kinds)."""
    return [r for r in deck.rules if r.check in CORE_KINDS]


# ---------------------------------------------------------------- children

def run_pkgdrc(path: str, jobs: int, all_rules: bool, flat: bool = False) -> dict:
    from pkgdrc.decks import load_deck
    from pkgdrc.run import check

    deck = load_deck(DECK)
    rules = None if all_rules else [r.id for r in core_rules(deck)]
    start = time.perf_counter()
    report = check(path, deck, rules=rules, jobs=jobs, hierarchy="flat" if flat else "auto")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "shapes": report.shapes, "counts": {r.id: len(r.markers) for r in report.rules}}


def run_klayout(path: str, deep: bool, threads: int) -> dict:
    import klayout.db as db

    from pkgdrc.decks import load_deck

    deck = load_deck(DECK)
    start = time.perf_counter()
    layout = db.Layout()
    layout.read(path)
    top = layout.top_cell()
    dbu = layout.dbu
    dss = None
    if deep:
        dss = db.DeepShapeStore()
        dss.threads = threads
    cache: dict[str, db.Region] = {}

    def region(name: str) -> db.Region:
        if name not in cache:
            if name in deck.derived:  # fowlp-2l's only derived layer is an OR
                raise NotImplementedError(f"derived layer {name} in the KLayout benchmark")
            ld = deck.layers[name]
            li = layout.find_layer(ld[0], ld[1])
            if li is None:
                cache[name] = db.Region()
            else:
                it = top.begin_shapes_rec(li)
                cache[name] = db.Region(it, dss) if deep else db.Region(it)
        return cache[name]

    def um(v: float) -> int:
        return int(round(v / dbu))

    euclid = db.Metrics.Euclidian
    counts = {}
    for rule in core_rules(deck):
        p = rule.params
        layers = p["layer"] if isinstance(p["layer"], list) else [p["layer"]]
        n = 0
        for name in layers:
            r = region(name)
            if rule.check == "width":
                n += r.width_check(um(p["min"]), False, euclid).count()
            elif rule.check == "space":
                n += r.space_check(um(p["min"]), False, euclid).count()
            elif rule.check == "enclosure":
                by = region(p["by"])
                n += r.enclosed_check(by, um(p["min"]), False, euclid).count() + (r - by).count()
            elif rule.check == "inside":
                n += (r - region(p["of"]).sized(-um(p["clearance"]))).count()
            elif rule.check == "angle":
                edges = r.edges()
                for a in p["allowed"]:
                    a = a - 180 if a > 90 else a  # KLayout edge angles are in (-90, 90]
                    edges = edges.with_angle(a, True)
                n += edges.count()
        counts[rule.id] = n
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "shapes": None, "counts": counts}


def child_main(engine: str, path: str, all_rules: bool) -> None:
    if engine == "pkgdrc":
        out = run_pkgdrc(path, 1, all_rules)
    elif engine.startswith("pkgdrc-flat"):
        out = run_pkgdrc(path, int(engine[len("pkgdrc-flat"):] or 1), all_rules, flat=True)
    elif engine.startswith("pkgdrc-j"):
        out = run_pkgdrc(path, int(engine[len("pkgdrc-j"):]), all_rules)
    elif engine == "klayout-flat":
        out = run_klayout(path, False, 1)
    elif engine.startswith("klayout-deep"):
        out = run_klayout(path, True, int(engine[len("klayout-deep"):] or 1))
    else:
        raise SystemExit(f"unknown engine {engine}")
    print(json.dumps(out))


# ---------------------------------------------------------------- parent

def run_child(engine: str, path: Path, all_rules: bool, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", engine, str(path)]
    if all_rules:
        cmd.append("--all-rules")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout:
            proc.kill()
            os.wait4(proc.pid, 0)
            return {"engine": engine, "error": f"timeout after {timeout:.0f} s"}
        time.sleep(0.05)
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return {"engine": engine, "error": err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"}
    result = json.loads(out.strip().splitlines()[-1])
    result["engine"] = engine
    result["peak_mib"] = usage.ru_maxrss / 1024  # Linux: KiB
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # with its waited-for children
    result["load"] = os.getloadavg()[0]  # other work on the machine skews the wall time
    return result


def layout_for(shapes: int, seed: int, where: Path) -> Path:
    sys.path.insert(0, str(HERE))
    from generate import generate

    path = where / f"fowlp_{shapes}_s{seed}.gds"
    if not path.exists():
        generate(shapes, seed).write_gds(str(path))
    return path


def bumps_layout(n: int, where: Path) -> Path:
    """n x n bond pads (cell BUMP) as one array reference in a package outline."""
    import gdstk

    sys.path.insert(0, str(HERE))
    from generate import BUMP_PITCH, PKG, _bump_cell, _rect

    path = where / f"bumps_{n}x{n}.gds"
    if not path.exists():
        lib = gdstk.Library("BUMPS", unit=1e-6, precision=1e-9)
        bump = _bump_cell(lib)
        top = lib.new_cell("TOP")
        span = n * BUMP_PITCH
        top.add(_rect(span / 2, span / 2, span + 200.0, span + 200.0, PKG))
        top.add(gdstk.Reference(bump, (BUMP_PITCH / 2, BUMP_PITCH / 2), columns=n, rows=n,
                                spacing=(BUMP_PITCH, BUMP_PITCH)))
        lib.write_gds(str(path))
    return path


def compare(base: dict, other: dict) -> str:
    if "counts" not in other or "counts" not in base:
        return "-"
    diff = [k for k in other["counts"] if base["counts"].get(k) != other["counts"][k]]
    return "yes" if not diff else "no: " + ", ".join(f"{k} {base['counts'].get(k)}/{other['counts'][k]}" for k in diff)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--engines", nargs="+",
                    default=["pkgdrc", f"pkgdrc-j{os.cpu_count()}", "pkgdrc-flat", f"pkgdrc-flat{os.cpu_count()}",
                             "klayout-flat", "klayout-deep", f"klayout-deep{os.cpu_count()}"])
    ap.add_argument("--bumps", type=int, nargs="*", default=[10, 100],
                    help="also n x n arrays of one bond-pad cell (repetition)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "pkgdrc-bench",
                    help="where generated layouts are kept (reused when present)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per child run")
    ap.add_argument("--all-rules", action="store_true", help="pkgdrc runs the whole deck, not only the core 15")
    ap.add_argument("--json", type=Path, help="also write all results here")
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "LAYOUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child_main(a.child[0], a.child[1], a.all_rules)
        return
    a.out.mkdir(parents=True, exist_ok=True)
    cases = [(f"fowlp {s}", layout_for(s, a.seed, a.out)) for s in a.sizes]
    cases += [(f"bumps {n}x{n}", bumps_layout(n, a.out)) for n in a.bumps]
    rows = []
    print(f"{'layout':<16} {'shapes':>9} {'engine':<14} {'seconds':>8} {'x pkgdrc':>8} {'cpu s':>8} {'peak MiB':>9} "
          f"{'load':>5}  same markers")
    for label, path in cases:
        base = None
        for engine in a.engines:
            r = run_child(engine, path, a.all_rules, a.timeout)
            r["layout"] = label
            rows.append(r)
            if "error" in r:
                print(f"{label:<16} {'':>9} {engine:<14} error: {r['error']}", flush=True)
                continue
            if engine == "pkgdrc":
                base = r
            shapes = (base or r).get("shapes") or ""
            ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else ""
            print(f"{label:<16} {shapes:>9} {engine:<14} {r['seconds']:>8.2f} {ratio:>8} {r['cpu_seconds']:>8.1f} "
                  f"{r['peak_mib']:>9.0f} {r['load']:>5.1f}  "
                  f"{compare(base, r) if base and r is not base else ''}", flush=True)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
