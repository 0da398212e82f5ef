"""Seed layouts for the layout fuzzer, and the budget of a fuzz run.

The seeds are real GDSII and OASIS streams written by gdstk: a two-level hierarchy with
arrays, rotated and reflected references, paths and labels on the fowlp-2l layers;
OASIS both plain and with CBLOCK compression and a CRC32.
"""

from __future__ import annotations

import os
from functools import cache

import gdstk
from hypothesis import HealthCheck, settings

# Examples per fuzz test: a few seconds in CI; PKGDRC_FUZZ_EXAMPLES=200000 for a long run.
EXAMPLES = int(os.environ.get("PKGDRC_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=EXAMPLES <= 100,
    suppress_health_check=list(HealthCheck),
)

LAYERS = {"DIE": (1, 0), "DIE_PAD": (2, 0), "VIA1": (10, 0), "RDL1": (11, 0), "RDL2": (13, 0), "PKG": (0, 0)}


def seed_library() -> gdstk.Library:
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    pad = lib.new_cell("PAD")
    pad.add(gdstk.rectangle((0, 0), (40, 40), layer=2), gdstk.rectangle((5, 5), (35, 35), layer=10))
    pad.add(gdstk.Label("P", (20, 20), layer=2))
    die = lib.new_cell("DIE")
    die.add(gdstk.rectangle((0, 0), (1000, 1000), layer=1))
    die.add(gdstk.Reference(pad, (50, 50), columns=4, rows=3, spacing=(100, 100)))
    die.add(gdstk.Reference(pad, (900, 900), rotation=1.5707963267948966, x_reflection=True))
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((-500, -500), (3000, 2000), layer=0))
    top.add(gdstk.Reference(die, (0, 0)), gdstk.Reference(die, (1500, 0), magnification=0.5))
    top.add(gdstk.FlexPath([(0, 0), (200, 0), (300, 100)], 2, layer=11, ends="round"))
    top.add(gdstk.Polygon([(0, 0), (10, 0), (10, 10), (5, 12), (0, 10)], layer=13))
    return lib


@cache
def seeds() -> dict[str, bytes]:
    """name -> bytes of each seed stream (.gds or .oas by its name)."""
    import tempfile
    from pathlib import Path

    lib = seed_library()
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for name, write in [
            ("seed.gds", lambda p: lib.write_gds(p)),
            ("seed.oas", lambda p: lib.write_oas(p, compression_level=0)),
            ("seed-cblock-crc.oas", lambda p: lib.write_oas(p, compression_level=6, validation="crc32")),
        ]:
            path = str(Path(d) / name)
            write(path)
            out[name] = Path(path).read_bytes()
    return out
