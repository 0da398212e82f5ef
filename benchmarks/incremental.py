"""Incremental checking (issue 18) on a realistic panel: what the cache costs and what it saves.

    python benchmarks/incremental.py --shapes 1000000 --work /tmp/inc   # the panel is generated once
    python benchmarks/incremental.py --layout PANEL.gds --work /tmp/inc --steps read readcache nocache cold trace

Every check is the real `pkgdrc check` command in its own process (deck fowlp-2l, -q, JSON
report), timed by wall clock and by the child's CPU seconds (user + system), with its peak
RSS. Steps:

- read: the floor of a re-check: reading the layout (`read_layout`, the child process
  included), flattening every deck layer, and hashing the geometry state (`pkgdrc.cache.state`);
- readcache: the same read by structure through the cache (`read_layout(cache=)`): with an
  empty cache, a warm one, and after a one-trace edit (a copy of the panel; the cache is
  emptied after), then every cell's shape hashes and bounds (`Cell.own_state`);
- nocache: `--no-cache`; cold: an empty cache (target: at most 5 % over nocache);
- trace: move one RDL1 trace of one package by 1 um (gdstk), re-check with the warm cache
  (target: under 3 s and under 10 % of the full run);
- marks: a variant panel with an alignment-mark cell placed 1,000 times in the saw streets:
  checked once with the cache (the rules that do not read RDL2 hit the panel's entries), then
  the mark cell is edited (every placement changes) and re-checked (target: under 20 % of
  the full run, `nocache`);
- hook: the pre-commit hook end to end in a temporary git repository (a local hook running
  `pkgdrc check` on the staged layout, the cache in the repository's `.pkgdrc-cache`): the
  panel committed once, then a one-trace edit staged and committed (target: under 5 s).

Results are printed as one table; the machine's load (`os.getloadavg`) is printed with each row.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import gdstk

HERE = Path(__file__).resolve().parent
PKGDRC = [sys.executable, "-m", "pkgdrc"]
MARKS = 1000


def timed(args: list[str], cwd: Path | None = None) -> dict:
    """Run a command; its wall and CPU seconds, peak RSS (MiB) and exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return {
        "wall": wall,
        "cpu": cpu,
        "rss_mib": after.ru_maxrss / 1024,
        "rc": done.returncode,
        "load": os.getloadavg()[0],
        "out": done.stdout + done.stderr,
    }


def check(layout: Path, cache: Path | None, report: Path) -> dict:
    args = [*PKGDRC, "check", str(layout), "-q", "--json", str(report)]
    args += ["--no-cache"] if cache is None else ["--cache", str(cache)]
    r = timed(args)
    doc = json.loads(report.read_text())
    r["cache"] = dict(Counter(str(rule["cache"]) for rule in doc["rules"]))
    r["violations"] = doc["summary"]["violations"]
    return r


def move_trace(path: Path, dx: float = 1.0) -> str:
    """Move one RDL1 (11/0) trace polygon of the first package cell by dx um, in place."""
    lib = gdstk.read_gds(str(path))
    cell = next(c for c in lib.cells if c.name.startswith("PKG_"))
    trace = max((p for p in cell.polygons if (p.layer, p.datatype) == (11, 0)), key=lambda p: len(p.points))
    trace.translate(dx, 0)
    lib.write_gds(str(path))
    return f"{cell.name}: RDL1 polygon of {len(trace.points)} vertices moved {dx} um"


def normalize(src: Path, dst: Path) -> None:
    """`src` as gdstk writes it: the edits below read and write the panel with gdstk, which
    writes some shapes differently from the generator (about 12 per package); a layout
    tool writes its own shapes alike each time."""
    gdstk.read_gds(str(src)).write_gds(str(dst))


def add_marks(src: Path, dst: Path) -> str:
    """`src` with a cell MARK (an RDL2 cross) placed MARKS times in the saw streets."""
    lib = gdstk.read_gds(str(src))
    top = lib.top_level()[0]
    mark = lib.new_cell("MARK")
    mark.add(gdstk.rectangle((-20, -2), (20, 2), layer=13), gdstk.rectangle((-2, -20), (2, 20), layer=13))
    pkgs = sorted((tuple(r.origin), r.cell.bounding_box()) for r in top.references if r.cell.name.startswith("PKG_"))
    xs = sorted({round(o[0] + b[1][0], 3) for o, b in pkgs})  # right edges of package outlines
    ys = sorted({round(o[1] + b[0][1], 3) for o, b in pkgs})
    (x0, y0), (x1, y1) = top.bounding_box()
    street = [(x + 100.0, y) for x in xs for y in ys]  # the middle of the 200 um street right of each column
    step = (y1 - y0) / max(1, -(-MARKS // max(1, len(xs))))
    places = [(x, y0 + step * (k + 0.5)) for x, _ in street[: len(xs)] for k in range(-(-MARKS // len(xs)))]
    for x, y in places[:MARKS]:
        top.add(gdstk.Reference(mark, (x, y)))
    lib.write_gds(str(dst))
    return f"MARK placed {min(MARKS, len(places))} times in {len(xs)} saw streets"


def edit_marks(path: Path) -> str:
    lib = gdstk.read_gds(str(path))
    mark = next(c for c in lib.cells if c.name == "MARK")
    mark.add(gdstk.rectangle((-6, -6), (6, 6), layer=13))
    lib.write_gds(str(path))
    return "MARK: a 12 um square added at its centre"


def read_floor(layout: Path, cache: Path | None = None) -> dict:
    """Reading the layout (with `cache`: by structure through the cache), then flattening every
    layer and hashing the geometry state (without cache), or taking every cell's shape hashes
    and bounds (`Cell.own_state`, with cache: what the cached engine reads)."""
    code = f"""
import json, resource, time
from pkgdrc.cache.store import Store
from pkgdrc.decks import load_deck
from pkgdrc.layout import read_layout
from pkgdrc.cache.state import geometry_state
def children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
deck = load_deck("fowlp-2l")
cache = {str(cache) if cache else None!r}
t = time.process_time(); w = time.perf_counter(); c = children()
layout = read_layout({str(layout)!r}, deck.layers, label_map=deck.labels, cache=Store(cache) if cache else None)
read = (time.perf_counter() - w, time.process_time() - t, children() - c)
t = time.process_time(); w = time.perf_counter()
if cache:
    [cell.own_state(n) for cell in layout.tree.cells.values() for n in deck.layers]
    flat = (0.0, 0.0)
else:
    layout.polygons
    flat = (time.perf_counter() - w, time.process_time() - t)
t = time.process_time(); w = time.perf_counter()
if not cache:
    geometry_state(layout, list(deck.layers), list(deck.labels))
state = (time.perf_counter() - w, time.process_time() - t)
decoded = sum(len(c.polygons._decoded) for c in layout.tree.cells.values())
print(json.dumps([read, flat, state, layout.shape_count, decoded]))
"""
    r = timed([sys.executable, "-c", code])
    read, flat, state, shapes, decoded = json.loads(r["out"])
    r["detail"] = f"{shapes} shapes; read {read[0]:.2f} s (cpu {read[1]:.2f} + reading child {read[2]:.2f}), " + (
        f"own_state of every cell {state[0]:.2f} s (cpu {state[1]:.2f}), {decoded} cell layers decoded"
        if cache
        else f"flatten {flat[0]:.2f} s, hash state {state[0]:.2f} s (cpu {state[1]:.2f})"
    )
    return r


def hook(layout: Path, work: Path) -> dict:
    repo = work / "repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b"}
    env["GIT_COMMITTER_EMAIL"] = "b@b"
    pkgdrc = _tool("pkgdrc")
    (repo / "pkgdrc.toml").write_text('deck = "fowlp-2l"\n')
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: pkgdrc\n    name: pkgdrc\n"
        f"    entry: {pkgdrc} check -q\n    language: system\n    files: '(?i)\\.gds$'\n    require_serial: true\n"
    )
    normalize(layout, repo / "panel.gds")
    pre_commit = [sys.executable, "-m", "pre_commit"]
    for args in (["git", "init", "-q"], [*pre_commit, "install"], ["git", "add", "-A"]):
        subprocess.run(args, cwd=repo, env=env, check=True, capture_output=True)
    # The panel has planted markers: the hook fails (exit 1) and git refuses the commit, as it should.
    first = timed(["git", "commit", "-q", "-m", "panel"], cwd=repo)
    what = move_trace(repo / "panel.gds")
    subprocess.run(["git", "add", "panel.gds"], cwd=repo, env=env, check=True)
    r = timed(["git", "commit", "-q", "-m", "one trace"], cwd=repo)
    r["detail"] = (
        f"{what}; git commit exit {r['rc']} (first: {first['rc']}, {first['wall']:.1f} s); git status: {_status(repo)}"
    )
    return r


def _tool(name: str) -> str:
    """A command beside this interpreter, else on PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found")
    return found


def _status(repo: Path) -> str:
    out = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    return out.strip().replace("\n", "; ") or "nothing untracked (.pkgdrc-cache ignored)"


def row(name: str, r: dict, base: dict | None = None) -> None:
    share = f"{100 * r['wall'] / base['wall']:5.1f}%" if base else "      "
    extra = f" cache {r['cache']}" if "cache" in r else ""
    extra += f" {r['violations']} violations" if "violations" in r else ""
    extra += f" [{r['detail']}]" if "detail" in r else ""
    print(
        f"{name:<14} wall {r['wall']:7.2f} s  cpu {r['cpu']:7.2f} s  {share}  rss {r['rss_mib']:6.0f} MiB  "
        f"load {r['load']:4.1f}{extra}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", type=Path, help="a realistic panel (else generated: benchmarks/realistic.py)")
    ap.add_argument("--shapes", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/pkgdrc-incremental"))
    ap.add_argument("--steps", nargs="*", default=["read", "nocache", "cold", "trace", "marks", "hook"])
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    if a.layout is None:
        sys.path.insert(0, str(HERE))
        from run import realistic_layout

        a.layout, _ = realistic_layout(a.shapes, 1, a.work)
    panel, cache, report = a.work / "panel.gds", a.work / "cache", a.work / "report.json"
    normalize(a.layout, panel)
    shutil.rmtree(cache, ignore_errors=True)
    print(f"{a.layout} ({panel.stat().st_size / 2**20:.0f} MiB), steps {a.steps}", flush=True)
    base = None
    if "read" in a.steps:
        row("read", read_floor(panel))
    if "readcache" in a.steps:  # reading by structure: cold cache, warm, after a one-trace edit
        row("read cold", read_floor(panel, cache))
        row("read warm", read_floor(panel, cache))
        edited = a.work / "edited.gds"
        shutil.copy(panel, edited)
        what = move_trace(edited)
        r = read_floor(edited, cache)
        r["detail"] += f"; {what}"
        row("read edited", r)
        shutil.rmtree(cache, ignore_errors=True)
    if "nocache" in a.steps:
        base = check(panel, None, report)
        row("nocache", base)
    if "cold" in a.steps:
        cold = check(panel, cache, report)
        row("cold", cold, base)
        base = base or cold
    if "trace" in a.steps:
        what = move_trace(panel)
        r = check(panel, cache, report)
        r["detail"] = what
        row("trace", r, base)
    if "hook" in a.steps:
        row("hook", hook(a.layout, a.work), base)
    if "marks" in a.steps:
        variant = a.work / "marks.gds"
        what = add_marks(a.layout, variant)
        first = check(variant, cache, report)  # rules not reading RDL2 hit the panel's entries
        first["detail"] = what
        row("marks first", first, base)
        what = edit_marks(variant)
        r = check(variant, cache, report)
        r["detail"] = what
        row("marks edit", r, base)


if __name__ == "__main__":
    main()
