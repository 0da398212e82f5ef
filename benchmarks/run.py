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

Realistic layouts (issue 14; benchmarks/realistic.py: unique packages, round pads, fill,
planes with holes, GDS paths):

    python benchmarks/run.py --realistic 100000 1000000

runs, on each size, the whole fowlp-2l deck in pkgdrc (one job and `--jobs 2`), the
rules KLayout has a counterpart for in pkgdrc ("pkgdrc common") and in KLayout flat,
deep and deep with 2 threads (benchmarks/klayout_rules.py), then every rule alone
(layout read once, each rule making and merging its own layers) in pkgdrc, KLayout flat
and KLayout deep with 2 threads; it prints the whole-deck table (seconds, CPU, peak
memory, load, markers) and the per-rule table (rule, pkgdrc seconds, the KLayout
operations, KLayout seconds, ratios). pkgdrc's markers are checked against the planted
violations (OUT.planted.json next to the layout). `--only RULE ...` runs the per-rule
engines on those rules alone; `--repeat N` times each rule N times and keeps the least
wall and the least CPU time (a loaded machine's noise only ever adds).

Real layouts (KLayout testdata, open PDK cells; fetched, not committed, see RESULTS.md):

    python benchmarks/run.py --real /tmp/real

writes for each .gds/.oas file in the directory a deck of generic checks (width, space,
separation, enclosure, overlap, inside, area, angle) on its most populated layers, with
limits from the layout's own feature sizes, and runs it in pkgdrc and KLayout flat.
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
sys.path.insert(0, str(HERE))
DECK = HERE.parent / "rules" / "fowlp-2l.yaml"
CORE_KINDS = ("width", "space", "enclosure", "inside", "angle")
REALISTIC_ENGINES = ["pkgdrc", "pkgdrc-j2", "pkgdrc-common", "klayout-flat", "klayout-deep", "klayout-deep2"]
RULE_ENGINES = ["pkgdrc-rules", "klayout-flat-rules", "klayout-deep2-rules"]


def core_rules(deck) -> list:
    """The deck's rules that KLayout runs too (the original 15 rules' kinds)."""
    return [r for r in deck.rules if r.check in CORE_KINDS]


# ---------------------------------------------------------------- children


def selected_rules(deck, which: str) -> list:
    """`core`: the original 15 rules; `common`: those KLayout has a counterpart for; `all`: the deck;
    else rule ids, comma-separated (`--only`)."""
    from klayout_rules import has_counterpart

    if which == "core":
        return core_rules(deck)
    if which == "common":
        return [r for r in deck.rules if has_counterpart(r)]
    if which == "all":
        return list(deck.rules)
    ids = which.split(",")
    return [r for r in deck.rules if r.id in ids]


def run_pkgdrc(
    path: str, jobs: int, which: str, flat: bool = False, deck_path: Path = DECK, top: str | None = None
) -> dict:
    import pkgdrc
    from pkgdrc.decks import load_deck
    from pkgdrc.run import check

    deck = load_deck(deck_path)
    rules = None if which == "all" else [r.id for r in selected_rules(deck, which)]
    start = time.perf_counter()
    report = check(path, deck, top=top, rules=rules, jobs=jobs, hierarchy="flat" if flat else "auto")
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "shapes": report.shapes,
        "counts": {r.id: len(r.markers) for r in report.rules},
        "pkgdrc": pkgdrc_version(pkgdrc),
    }


def pkgdrc_version(module) -> str:
    """Where the pkgdrc that ran lives and its git commit (main or a branch's worktree)."""
    where = Path(module.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "describe", "--always", "--dirty"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    return f"{where} @ {commit}"


def run_pkgdrc_rules(path: str, which: str, deck_path: Path = DECK, repeat: int = 1) -> dict:
    """Each rule alone on the layout read once: seconds and markers per rule (the least wall
    and the least CPU time of `repeat` runs)."""
    from pkgdrc.decks import load_deck
    from pkgdrc.layout import read_layout
    from pkgdrc.run import check

    deck = load_deck(deck_path)
    start = time.perf_counter()
    layout = read_layout(path, deck.layers, label_map=deck.labels)
    per_rule = {"(read)": time.perf_counter() - start}
    cpu = {"(read)": time.process_time()}  # with the reading child's time: see rule_table
    counts = {}
    for rule in selected_rules(deck, which):
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            report = check(layout, deck, rules=[rule.id], jobs=1)
            per_rule[rule.id] = min(per_rule.get(rule.id, float("inf")), time.perf_counter() - t)
            cpu[rule.id] = min(cpu.get(rule.id, float("inf")), time.process_time() - c)
        counts[rule.id] = len(report.rules[0].markers)
    return {
        "seconds": time.perf_counter() - start,
        "shapes": layout.shape_count,
        "counts": counts,
        "rule_seconds": per_rule,
        "rule_cpu": cpu,
    }


def run_klayout(
    path: str,
    deep: bool,
    threads: int,
    which: str,
    per_rule: bool = False,
    deck_path: Path = DECK,
    top: str | None = None,
    repeat: int = 1,
) -> dict:
    """The rules with a KLayout counterpart, one after another sharing layers (the whole deck), or
    each alone (`per_rule`: its layers made and merged again, its own seconds; the least wall
    and the least CPU time of `repeat` runs)."""
    from klayout import db

    from klayout_rules import KLayoutDeck, has_counterpart
    from pkgdrc.decks import load_deck

    deck = load_deck(deck_path)
    start = time.perf_counter()
    layout = db.Layout()
    layout.read(path)
    kdeck = KLayoutDeck(layout, deck, deep, threads, top)
    counts, seconds, cpu = {}, {"(read)": time.perf_counter() - start}, {"(read)": time.process_time()}
    for rule in selected_rules(deck, which):
        if not has_counterpart(rule):
            continue
        for _ in range(repeat if per_rule else 1):
            if per_rule:
                kdeck.clear()
            t, c = time.perf_counter(), time.process_time()
            counts[rule.id] = kdeck.count(rule)
            seconds[rule.id] = min(seconds.get(rule.id, float("inf")), time.perf_counter() - t)
            cpu[rule.id] = min(cpu.get(rule.id, float("inf")), time.process_time() - c)  # all threads
    out = {"seconds": time.perf_counter() - start, "shapes": None, "counts": counts}
    if per_rule:
        out["rule_seconds"], out["rule_cpu"] = seconds, cpu
    return out


def child_main(engine: str, path: str, which: str, deck_path: Path, top: str | None, repeat: int = 1) -> None:
    per_rule = engine.endswith("-rules")
    name = engine.removesuffix("-rules")
    if name == "pkgdrc" and per_rule:
        out = run_pkgdrc_rules(path, which, deck_path, repeat)
    elif name == "pkgdrc":
        out = run_pkgdrc(path, 1, which, deck_path=deck_path, top=top)
    elif name == "pkgdrc-common":
        out = run_pkgdrc(path, 1, "common", deck_path=deck_path)
    elif name.startswith("pkgdrc-flat"):
        out = run_pkgdrc(path, int(name[len("pkgdrc-flat") :] or 1), which, flat=True, deck_path=deck_path)
    elif name.startswith("pkgdrc-j"):
        out = run_pkgdrc(path, int(name[len("pkgdrc-j") :]), which, deck_path=deck_path)
    elif name == "klayout-flat":
        out = run_klayout(path, False, 1, which, per_rule, deck_path, top, repeat)
    elif name.startswith("klayout-deep"):
        out = run_klayout(path, True, int(name[len("klayout-deep") :] or 1), which, per_rule, deck_path, None, repeat)
    else:
        raise SystemExit(f"unknown engine {engine}")
    print(json.dumps(out))


# ---------------------------------------------------------------- parent


def run_child(
    engine: str,
    path: Path,
    which: str,
    timeout: float,
    deck_path: Path = DECK,
    top: str | None = None,
    repeat: int = 1,
) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        engine,
        str(path),
        "--rules",
        which,
        "--deck",
        str(deck_path),
        "--repeat",
        str(repeat),
    ] + (["--top", top] if top else [])
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
    from generate import generate

    path = where / f"fowlp_{shapes}_s{seed}.gds"
    if not path.exists():
        generate(shapes, seed).write_gds(str(path))
    return path


def bumps_layout(n: int, where: Path) -> Path:
    """n x n bond pads (cell BUMP) as one array reference in a package outline."""
    import gdstk

    from generate import BUMP_PITCH, PKG, _bump_cell, _rect

    path = where / f"bumps_{n}x{n}.gds"
    if not path.exists():
        lib = gdstk.Library("BUMPS", unit=1e-6, precision=1e-9)
        bump = _bump_cell(lib)
        top = lib.new_cell("TOP")
        span = n * BUMP_PITCH
        top.add(_rect(span / 2, span / 2, span + 200.0, span + 200.0, PKG))
        top.add(
            gdstk.Reference(bump, (BUMP_PITCH / 2, BUMP_PITCH / 2), columns=n, rows=n, spacing=(BUMP_PITCH, BUMP_PITCH))
        )
        lib.write_gds(str(path))
    return path


def compare(base: dict, other: dict) -> str:
    """Same markers per rule as `base`, on the rules both ran."""
    if "counts" not in other or "counts" not in base:
        return "-"
    diff = [k for k in other["counts"] if k in base["counts"] and base["counts"][k] != other["counts"][k]]
    return "yes" if not diff else "no: " + ", ".join(f"{k} {base['counts'].get(k)}/{other['counts'][k]}" for k in diff)


def realistic_layout(shapes: int, seed: int, where: Path) -> tuple[Path, dict]:
    """The realistic panel of about `shapes` shapes (generated once) and its planted markers per rule."""
    import realistic

    path = where / f"realistic_{shapes}_s{seed}.gds"
    planted = path.with_suffix(".planted.json")
    if not path.exists() or not planted.exists():
        panel = realistic.generate(shapes, seed)
        realistic.write(panel, str(path))
        planted.write_text(json.dumps(panel.planted, indent=1) + "\n")
    return path, json.loads(planted.read_text())


def print_row(label: str, r: dict, base: dict | None, check: str) -> None:
    if "error" in r:
        print(f"{label:<18} {r['engine']:<16} error: {r['error']}", flush=True)
        return
    shapes = (base or r).get("shapes") or ""
    ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else ""
    print(
        f"{label:<18} {shapes:>9} {r['engine']:<16} {r['seconds']:>8.2f} {ratio:>8} {r['cpu_seconds']:>8.1f} "
        f"{r['peak_mib']:>9.0f} {r['load']:>5.1f}  {check}",
        flush=True,
    )


HEADER = (
    f"{'layout':<18} {'shapes':>9} {'engine':<16} {'seconds':>8} {'x pkgdrc':>8} {'cpu s':>8} {'peak MiB':>9} "
    f"{'load':>5}  markers"
)


def run_realistic(a) -> list[dict]:
    """Whole deck and per rule on the realistic panels: pkgdrc against KLayout flat and deep."""
    from klayout_rules import OPERATIONS
    from pkgdrc.decks import load_deck

    deck = load_deck(DECK)
    rows = []
    for size in a.realistic:
        path, planted = realistic_layout(size, a.seed, a.out)
        label = f"realistic {size // 1000}k"
        print(
            f"\n{label}: {path} ({path.stat().st_size / 2**20:.0f} MiB), planted {sum(planted.values())} markers; "
            f"python {sys.executable}"
        )
        print(HEADER)
        base, done = None, {}
        for engine in a.realistic_engines + a.rule_engines:
            per_rule = engine in a.rule_engines
            r = run_child(engine, path, ",".join(a.only) if per_rule and a.only else "all", a.timeout, repeat=a.repeat)
            r["layout"] = label
            rows.append(r)
            done[engine] = r
            if engine == "pkgdrc" and "error" not in r:
                base = r
                found = {k: v for k, v in r["counts"].items() if v}
                check = "= planted" if found == planted else f"planted {planted}, found {found}"
                print(f"  pkgdrc: {r.get('pkgdrc', '')}")
            else:
                check = compare(base, r) if base else ""
            if engine in a.realistic_engines:
                print_row(label, r, base, check)
        rule_table(deck, done, OPERATIONS)
    return rows


def rule_table(deck, done: dict, operations: dict) -> None:
    """rule | pkgdrc s | KLayout operation(s) | KLayout s and ratio per KLayout engine (wall; CPU in brackets)."""
    kl = [e for e in done if e.startswith("klayout") and e.endswith("-rules") and "rule_seconds" in done[e]]
    pk = done.get("pkgdrc-rules", {}).get("rule_seconds")
    if not pk:
        return
    pk_cpu = done["pkgdrc-rules"].get("rule_cpu", {})
    head = "".join(f" | {e.removesuffix('-rules')} s (CPU) | ratio (CPU)" for e in kl)
    print(f"\n| rule | pkgdrc s (CPU) | KLayout operation(s){head} |")
    print("|---|---:|---|" + "---:|---:|" * len(kl))

    def cell(wall: float, cpu: float | None) -> str:
        return f"{wall:.2f} ({cpu:.2f})" if cpu is not None else f"{wall:.2f}"

    for rule in [r.id for r in deck.rules]:
        if rule not in pk:
            continue
        ops = operations.get(deck.rule(rule).check, "-") if kl and rule in done[kl[0]]["rule_seconds"] else "-"
        cells = ""
        for e in kl:
            t, c = done[e]["rule_seconds"].get(rule), done[e].get("rule_cpu", {}).get(rule)
            if t:
                ratio = f"{pk[rule] / t:.2f}" + (f" ({pk_cpu[rule] / c:.2f})" if c and rule in pk_cpu else "")
                cells += f" | {cell(t, c)} | {ratio}"
            else:
                cells += " | - | -"
        print(f"| {rule} | {cell(pk[rule], pk_cpu.get(rule))} | {ops}{cells} |")
    both = [r for r in pk if r != "(read)" and kl and all(r in done[e]["rule_seconds"] for e in kl)]
    for e in kl:
        k = sum(done[e]["rule_seconds"][r] for r in both)
        p = sum(pk[r] for r in both)
        kc = sum(done[e].get("rule_cpu", {}).get(r, 0.0) for r in both)
        pc = sum(pk_cpu.get(r, 0.0) for r in both)
        print(
            f"sum over the {len(both)} rules both run, each alone: pkgdrc {p:.2f} s (CPU {pc:.2f}), "
            f"{e.removesuffix('-rules')} {k:.2f} s (CPU {kc:.2f}), ratio {p / k:.2f}"
            + (f" (CPU {pc / kc:.2f})" if kc else "")
        )
    rest = sum(v for r, v in pk.items() if r != "(read)" and r not in both)
    print(f"pkgdrc's rules without a KLayout counterpart, each alone: {rest:.2f} s")


def show(path: Path) -> None:
    """Print the tables of a saved run (--json) again."""
    from klayout_rules import OPERATIONS
    from pkgdrc.decks import load_deck

    deck = load_deck(DECK)
    rows = json.loads(path.read_text())
    for label in dict.fromkeys(r["layout"] for r in rows):
        done = {r["engine"]: r for r in rows if r["layout"] == label}
        print(f"\n{label}")
        print(HEADER)
        base = done.get("pkgdrc") if "error" not in done.get("pkgdrc", {"error": 1}) else None
        for engine, r in done.items():
            if not engine.endswith("-rules"):
                print_row(label, r, base, compare(base, r) if base and r is not base else "")
        if any(e.endswith("-rules") for e in done):
            rule_table(deck, done, OPERATIONS)


def run_real(a) -> list[dict]:
    """Generic checks on real layouts: pkgdrc and KLayout flat, the same rules."""
    from real_decks import write_deck

    rows = []
    files = sorted(p for p in a.real.iterdir() if p.suffix.lower() in (".gds", ".oas", ".gds2"))
    print(HEADER)
    for path in files:
        deck_path = a.out / f"generic_{path.stem}.yaml"
        _, top = write_deck(path, deck_path)
        base = None
        for engine in a.real_engines:
            r = run_child(engine, path, "all", a.timeout, deck_path, top)
            r["layout"] = path.name
            rows.append(r)
            if engine == "pkgdrc" and "error" not in r:
                base = r
            print_row(
                path.name[:18],
                r,
                base,
                compare(base, r) if base and r is not base else f"{sum(r.get('counts', {}).values())} markers",
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument(
        "--engines",
        nargs="+",
        default=[
            "pkgdrc",
            f"pkgdrc-j{os.cpu_count()}",
            "pkgdrc-flat",
            f"pkgdrc-flat{os.cpu_count()}",
            "klayout-flat",
            "klayout-deep",
            f"klayout-deep{os.cpu_count()}",
        ],
    )
    ap.add_argument(
        "--bumps", type=int, nargs="*", default=[10, 100], help="also n x n arrays of one bond-pad cell (repetition)"
    )
    ap.add_argument(
        "--realistic",
        type=int,
        nargs="+",
        metavar="SHAPES",
        help="run the realistic panels of these sizes instead (whole deck and per rule)",
    )
    ap.add_argument("--realistic-engines", nargs="*", default=REALISTIC_ENGINES)
    ap.add_argument("--rule-engines", nargs="*", default=RULE_ENGINES, help="per-rule runs (ENGINE-rules)")
    ap.add_argument("--real", type=Path, metavar="DIR", help="run generic checks on the layouts in DIR instead")
    ap.add_argument("--real-engines", nargs="+", default=["pkgdrc", "klayout-flat"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / "pkgdrc-bench",
        help="where generated layouts are kept (reused when present)",
    )
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per child run")
    ap.add_argument("--all-rules", action="store_true", help="pkgdrc runs the whole deck, not only the core 15")
    ap.add_argument("--json", type=Path, help="also write all results here")
    ap.add_argument("--show", type=Path, metavar="JSON", help="print the tables of a saved run (--json) again")
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "LAYOUT"), help=argparse.SUPPRESS)
    ap.add_argument("--only", nargs="+", metavar="RULE", help="realistic per-rule runs: these rules only")
    ap.add_argument(
        "--repeat", type=int, default=1, help="realistic per-rule runs: each rule N times, the least time kept"
    )
    ap.add_argument("--rules", default="core", help=argparse.SUPPRESS)
    ap.add_argument("--deck", type=Path, default=DECK, help=argparse.SUPPRESS)
    ap.add_argument("--top", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child_main(a.child[0], a.child[1], a.rules, a.deck, a.top, a.repeat)
        return
    if a.show:
        show(a.show)
        return
    a.out.mkdir(parents=True, exist_ok=True)
    if a.realistic or a.real:
        rows = run_realistic(a) if a.realistic else run_real(a)
        if a.json:
            a.json.write_text(json.dumps(rows, indent=1))
        return
    which = "all" if a.all_rules else "core"
    cases = [(f"fowlp {s}", layout_for(s, a.seed, a.out)) for s in a.sizes]
    cases += [(f"bumps {n}x{n}", bumps_layout(n, a.out)) for n in a.bumps]
    rows = []
    print(HEADER)
    for label, path in cases:
        base = None
        for engine in a.engines:
            r = run_child(engine, path, which, a.timeout)
            r["layout"] = label
            rows.append(r)
            if engine == "pkgdrc" and "error" not in r:
                base = r
            print_row(label, r, base, compare(base, r) if base and r is not base else "")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
