"""Fuzz the layout loader with mutated real GDSII and OASIS streams.

Every input must give a Layout or a PkgdrcError (exit 2), never another exception or a
dead process (gdstk's own crashes happen in the reader's child process). And no wrong
"clean": a truncated file is refused, or, when it still holds the whole library (GDSII
cut inside ENDLIB's last byte), it reads exactly as the original.

Long run: PKGDRC_FUZZ_EXAMPLES=200000 python -m pytest tests/fuzz -q; with
PKGDRC_FUZZ_SAVE=DIR, inputs that crashed gdstk are saved there (regression fixtures).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from fuzz_seeds import FUZZ, LAYERS, seeds
from hypothesis import given
from hypothesis import strategies as st

from pkgdrc.errors import PkgdrcError
from pkgdrc.layout import read_layout

SEED_NAMES = sorted(seeds())
WORK = Path(tempfile.mkdtemp(prefix="pkgdrc-fuzz-"))


def _mutate(data: bytes, edits: list[tuple[int, int, int, int]]) -> bytes:
    buf = bytearray(data)
    for kind, a, b, value in edits:
        if not buf:
            break
        i, j = a % len(buf), b % (len(buf) + 1)
        if kind == 0:  # overwrite one byte
            buf[i] = value
        elif kind == 1:  # flip one bit
            buf[i] ^= 1 << (value % 8)
        elif kind == 2:  # delete a range
            del buf[i : max(i, j)]
        elif kind == 3:  # duplicate a range
            buf[i:i] = buf[min(i, j) : max(i, j)][:4096]
        elif kind == 4:  # a 16-bit big-endian value (GDS record lengths, OASIS varints)
            buf[i : i + 2] = (value * 257 + b).to_bytes(4, "big")[-2:]
        else:  # truncate
            del buf[i:]
    return bytes(buf)


def _read(name: str, data: bytes):
    path = WORK / f"{hashlib.sha1(data).hexdigest()}{Path(name).suffix}"
    path.write_bytes(data)
    try:
        return read_layout(path, LAYERS, label_map={"PADS": (2, 0)})
    except PkgdrcError as e:
        if "crashed" in str(e) and os.environ.get("PKGDRC_FUZZ_SAVE"):
            (Path(os.environ["PKGDRC_FUZZ_SAVE"]) / path.name).write_bytes(data)
        assert str(e).startswith(str(path)), str(e)  # one line naming the file
        return None
    finally:
        path.unlink()


def _same(a, b) -> bool:
    return a.top == b.top and all(
        len(a.polygons[k]) == len(b.polygons[k])
        and shapely.equals(shapely.union_all(a.polygons[k]), shapely.union_all(b.polygons[k]))
        for k in LAYERS
    )


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seeds_read(name):
    layout = _read(name, seeds()[name])
    assert layout.top == "TOP"
    assert {k: len(v) for k, v in layout.polygons.items()} == {
        "DIE": 2,
        "DIE_PAD": 26,
        "VIA1": 26,
        "RDL1": 1,
        "RDL2": 1,
        "PKG": 1,
    }


@FUZZ
@given(
    name=st.sampled_from(SEED_NAMES),
    edits=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 1 << 20), st.integers(0, 1 << 20), st.integers(0, 255)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_layouts_read_or_refuse(name, edits):
    layout = _read(name, _mutate(seeds()[name], edits))
    if layout is not None:
        for polys in layout.polygons.values():
            assert shapely.is_valid(polys).all()
            assert np.isfinite(shapely.bounds(polys)).all()


@FUZZ
@given(name=st.sampled_from(SEED_NAMES), cut=st.integers(1, 1 << 20))
def test_truncated_layouts_are_refused(name, cut):
    data = seeds()[name]
    cut = cut % len(data)
    layout = _read(name, data[:cut])
    if layout is not None:  # only a cut inside ENDLIB's final zero byte keeps the library whole
        assert name.endswith(".gds") and cut == len(data) - 1
        assert _same(layout, _read(name, data))
