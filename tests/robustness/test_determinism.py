"""The same inputs give byte-identical reports, apart from timing fields.

Hooks to extend: FORMATS (a report option and how to blank its timing fields, e.g.
JUnit `time`) and WAYS (how else the same check may be run: `--jobs`, tile sizes). Every
way's reports are compared byte for byte with the first way's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import gdstk
import numpy as np
import pytest

# Blanked: timings, and the result cache's fields (the later runs take their results from the cache).
CACHE_FIELD = re.compile(r'"cache": ?(null|"hit"|"updated"|\{[^}]*\})')
FORMATS = {
    "json": (
        "--json",
        lambda text: CACHE_FIELD.sub('"cache": null', re.sub(r'"seconds": ?[0-9.e+-]+', '"seconds": 0', text)),
    ),
}
WAYS = {
    "hash-seed-1": ([], {"PYTHONHASHSEED": "1"}),
    "hash-seed-2": ([], {"PYTHONHASHSEED": "2"}),
    "again": ([], {"PYTHONHASHSEED": "random"}),
}


@pytest.fixture(scope="module")
def busy_layout(tmp_path_factory):
    """200 random rectangles on the fowlp-2l metal and opening layers in a package outline: many rules fail.

    (No vias: via_landing crashes sorting its markers, see test_internal_errors.py.)
    """
    rng = np.random.default_rng(2024)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((0, 0), (2000, 2000), layer=0))
    for layer in (11, 13, 20, 21):
        xy = rng.uniform(0, 1950, (50, 2)).round(3)
        wh = rng.uniform(0.5, 40, (50, 2)).round(3)
        top.add(*[gdstk.rectangle(p, p + s, layer=layer) for p, s in zip(xy, wh)])
    path = tmp_path_factory.mktemp("det") / "busy.gds"
    lib.write_gds(str(path), timestamp=__import__("datetime").datetime(2024, 1, 1))
    return path


def _run(layout, out_dir, args, env):
    options = [arg for fmt, (option, _) in FORMATS.items() for arg in (option, out_dir / f"r.{fmt}")]
    p = subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", layout, "--quiet", *options, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )
    assert p.returncode == 1, p.stderr  # the layout has violations
    return {fmt: normalise((out_dir / f"r.{fmt}").read_text()) for fmt, (_, normalise) in FORMATS.items()}


def test_reports_are_byte_identical_across_runs(busy_layout, tmp_path):
    results = {}
    for name, (args, env) in WAYS.items():
        (tmp_path / name).mkdir()
        results[name] = _run(busy_layout, tmp_path / name, args, env)
    first, *rest = WAYS
    assert not re.search(r'"violations": ?0\b', results[first]["json"])
    for name in rest:
        for fmt in FORMATS:
            assert results[name][fmt] == results[first][fmt], f"{fmt} differs between {first} and {name}"
