"""Hostile input on the read by structure (`pkgdrc.gdsii.segments`, `pkgdrc.cache.cells`): the
same cells or the same error as the whole-file read, whatever the cache holds.

Each file is written record by record, so the bytes are exactly the case: BGNSTR and ENDSTR
byte patterns inside coordinates, truncated files, duplicate names, missing cells,
structures reordered; and cache entries that are corrupt, forged or moved under another key.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from test_reading_gdsii import rec, structure, text
from test_reading_gdsii import stream as one_stream

from pkgdrc.cache import cells
from pkgdrc.cache.store import Store
from pkgdrc.errors import PkgdrcError
from pkgdrc.gdsii import segments
from pkgdrc.layout import read_layout
from test_read_segments import assert_same

LAYERS = {"RDL1": (11, 0)}
ENDSTR_AS_X, BGNSTR_AS_Y = 0x00040700, 0x001C0502  # a vertex whose bytes read ENDSTR, then a BGNSTR header


def polygon(*ring: tuple[int, int]) -> bytes:
    xy = rec("XY", b"".join(struct.pack(">ii", x, y) for x, y in [*ring, ring[0]]))
    return rec("BOUNDARY") + rec("LAYER", struct.pack(">h", 11)) + rec("DATATYPE", b"\0\0") + xy + rec("ENDEL")


def sref(name: str, x: int, y: int) -> bytes:
    return rec("SREF") + rec("SNAME", text(name)) + rec("XY", struct.pack(">ii", x, y)) + rec("ENDEL")


def stream(*structures: bytes) -> bytes:
    return one_stream(b"".join(structures))


# A vertex whose bytes read ENDSTR and a BGNSTR header; then zeros (BGNSTR's dates) and a STRNAME "AB"
TRAP = polygon((0, 0), (ENDSTR_AS_X, BGNSTR_AS_Y), (0, 0), (0, 0), (0, 0), (0x00080606, 0x41420000), (0, 0x41420000))
BARE_TRAP = polygon((0, 0), (ENDSTR_AS_X, BGNSTR_AS_Y), (0, BGNSTR_AS_Y))  # no STRNAME after the pattern
LEAF = structure("LEAF", polygon((0, 0), (3000, 0), (3000, 1000), (0, 1000)) + TRAP)
TOP = structure("TOP", sref("LEAF", 0, 0) + sref("LEAF", 10000, 0) + polygon((0, -9), (9, -9), (9, -1)))


def outcome(path: Path, store: Store | None) -> object:
    """The read's layout, or its error's text."""
    try:
        return read_layout(path, LAYERS, cache=store)
    except PkgdrcError as e:
        return f"error: {e}"


def assert_same_outcome(path: Path, store: Store) -> None:
    whole, cached = outcome(path, None), outcome(path, store)
    if isinstance(whole, str) or isinstance(cached, str):
        assert cached == whole
    else:
        assert_same(whole, cached)  # type: ignore[arg-type]


def write(tmp_path: Path, data: bytes, name: str = "t.gds") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("trap", ["named", "bare"])
def test_record_patterns_inside_coordinates_make_no_false_structure(tmp_path, trap):
    """A vertex whose bytes read ENDSTR and a BGNSTR header: followed by a STRNAME, the split
    sees a third 'structure' inside LEAF's XY record, and the child finds that this part starts
    no record; without one, the split gives up. Either way the whole file is read: the same
    cells, cold and warm."""
    leaf = (
        LEAF if trap == "named" else structure("LEAF", polygon((0, 0), (3000, 0), (3000, 1000), (0, 1000)) + BARE_TRAP)
    )
    data = stream(leaf, TOP)
    found = segments.split_buffer(data)
    if trap == "named":
        assert found is not None and [s.name for s in found.structures] == [b"LEAF", b"AB", b"TOP"]
    else:
        assert found is None
    path = write(tmp_path, data)
    store = Store(tmp_path / "cache")
    for _ in range(2):
        assert_same_outcome(path, store)
    layout = read_layout(path, LAYERS, cache=store)
    assert layout.tree is not None and layout.tree.cells["LEAF"].count("RDL1") == 2
    assert (store.hits, len(list((tmp_path / "cache").glob("*/*")))) == (0, 0)  # nothing cached from a false split


def test_the_pattern_in_a_structure_that_is_cached_alone(tmp_path):
    """The trap in a structure that once was read whole (its own file) changes nothing."""
    store = Store(tmp_path / "cache")
    plain = structure("LEAF", polygon((0, 0), (3000, 0), (3000, 1000), (0, 1000)))
    assert_same_outcome(write(tmp_path, stream(plain, TOP), "a.gds"), store)
    assert_same_outcome(write(tmp_path, stream(LEAF, TOP), "b.gds"), store)


@pytest.mark.parametrize("cut", [10, 200, -40, -6, -2, -1])
def test_truncated_files_give_the_whole_reads_error(tmp_path, cut):
    store = Store(tmp_path / "cache")
    data = stream(structure("A", polygon((0, 0), (9, 0), (9, 9))), structure("TOP", sref("A", 0, 0)))
    assert_same_outcome(write(tmp_path, data, "whole.gds"), store)  # the cache holds A and TOP
    path = write(tmp_path, data[:cut])
    assert_same_outcome(path, store)
    assert isinstance(outcome(path, store), str)


def _keys(path: Path) -> list[str]:
    found = segments.split_buffer(path.read_bytes())
    assert found is not None
    return [cells.cell_key(s.digest, found.units, LAYERS, {}) for s in found.structures]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "swapped", "huge", "offsets"])
def test_corrupt_or_forged_cache_entries_are_misses(tmp_path, damage):
    """Entries whose checksum is right but whose payload is not an entry for that structure
    (random bytes, cut short, another structure's, absurd sizes, offsets out of range) are read
    again, and stored again: the same cells."""
    data = stream(structure("A", polygon((0, 0), (9, 0), (9, 9))), structure("TOP", sref("A", 0, 0) + sref("A", 50, 0)))
    path = write(tmp_path, data)
    store = Store(tmp_path / "cache")
    read_layout(path, LAYERS, cache=store)
    key_a, key_top = _keys(path)
    good = store.get(key_a)
    assert good is not None
    if damage == "garbage":
        bad = bytes(range(256)) * 4
    elif damage == "truncated":
        bad = good[: len(good) // 2]
    elif damage == "swapped":
        bad = store.get(key_top)
    elif damage == "huge":
        bad = np.array([3, 0, 2**40, 0] * 3, dtype="<i8").tobytes()
    else:  # the first ring offset of layer RDL1 made to point past the vertices
        arrays = cells._unpack_arrays(good)
        names = cells._fields(LAYERS, {})
        arrays = [a.copy() for a in arrays]
        arrays[names.index("L0r")][1] = 10**6
        bad = cells._pack_arrays(arrays)
    store.put(key_a, bad)
    assert_same_outcome(path, store)
    assert store.get(key_a) == good  # read again and stored again


def test_reordered_structures_come_from_the_cache(tmp_path):
    a = structure("A", polygon((0, 0), (9, 0), (9, 9)))
    b = structure("B", polygon((0, 0), (5, 0), (5, 5)))
    top = structure("TOP", sref("A", 0, 0) + sref("B", 100, 0))
    store = Store(tmp_path / "cache")
    assert_same_outcome(write(tmp_path, stream(a, b, top), "a.gds"), store)
    hits = store.hits
    path = write(tmp_path, stream(top, b, a), "b.gds")
    assert_same_outcome(path, store)
    assert store.hits - hits == 3


@pytest.mark.parametrize(
    "body",
    [
        "duplicate",  # a second A, its bytes those of a cached structure
        "missing",  # TOP places a cell that no structure defines
        "cycle",  # A places TOP
        "two tops",
        "empty name",
    ],
)
def test_hierarchy_errors_with_cached_structures_are_the_whole_reads(tmp_path, body):
    a = structure("A", polygon((0, 0), (9, 0), (9, 9)))
    top = structure("TOP", sref("A", 0, 0))
    store = Store(tmp_path / "cache")
    assert_same_outcome(write(tmp_path, stream(a, top), "good.gds"), store)
    bad = {
        "duplicate": stream(a, top, a),
        "missing": stream(a, structure("TOP", sref("A", 0, 0) + sref("NOPE", 5, 5))),
        "cycle": stream(structure("A", sref("TOP", 0, 0)), top),
        "two tops": stream(a, top, structure("OTHER", sref("A", 0, 0))),
        "empty name": stream(a, top, structure("", polygon((0, 0), (9, 0), (9, 9)))),
    }[body]
    path = write(tmp_path, bad)
    assert_same_outcome(path, store)
    assert isinstance(outcome(path, store), str)
