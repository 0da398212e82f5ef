"""Time and peak memory of writing the JSON and lyrdb reports of a run with many markers.

    python benchmarks/report_writers.py [MARKERS]      # default 500,000

A Report is built in memory (edge-pair markers with a value, as width/space checks make
them, over 5 rules), then each writer streams it into a file through
`files.write_atomic`, as `pkgdrc check --json/--lyrdb` does. Each writer runs in its own
child process so that its peak is not hidden by the previous one's: the peak is the
child's maximum resident set size after writing less the one after building the report.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

from pkgdrc.markers import Marker
from pkgdrc.report import json_report, lyrdb
from pkgdrc.report.files import write_atomic
from pkgdrc.result import Report, RuleResult

RULES = 5


def build(n: int) -> Report:
    rules = []
    per = n // RULES
    for k in range(RULES):
        markers = []
        for i in range(per):
            x, y = 0.001 * (i % 100_000) + k, 0.5 * (i // 100_000)
            markers.append(
                Marker(
                    (x, y, x + 1.5, y + 0.001 * (i % 7)),
                    1.5 - 0.001 * (i % 7),
                    "RDL1",
                    edge_pair=(((x, y), (x, y + 0.001 * (i % 7))), ((x + 1.5, y + 0.001 * (i % 7)), (x + 1.5, y))),
                )
            )
        rules.append(RuleResult(f"R{k}.W", "width", "minimum width", 2.0, ["RDL1"], markers))
    return Report("pkgdrc", "bench", "bench", "bench.yaml", "bench.gds", "TOP", 0.001, rules)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one(kind: str, n: int, queue) -> None:
    report = build(n)
    before = _rss_mb()
    writer = {
        "json": json_report.write,
        "lyrdb": lyrdb.write,
        "json-indent1": lambda report, out: json_report.write(report, out, indent=1),
    }[kind]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report"
        t = time.perf_counter()
        write_atomic(str(path), lambda out: writer(report, out))
        seconds = time.perf_counter() - t
        size = path.stat().st_size
    queue.put((kind, seconds, _rss_mb() - before, size / 2**20))


def main(n: int) -> None:
    ctx = mp.get_context("fork")
    print(f"{n:,} markers")
    for kind in ("json", "json-indent1", "lyrdb"):
        queue = ctx.Queue()
        p = ctx.Process(target=_one, args=(kind, n, queue))
        p.start()
        kind, seconds, peak, size = queue.get()
        p.join()
        print(f"{kind:12} {seconds:7.2f} s  peak +{peak:7.0f} MB  file {size:6.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500_000)
