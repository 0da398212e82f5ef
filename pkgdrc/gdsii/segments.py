"""A GDSII stream split into its library header, one byte range per structure, and ENDLIB.

The records are found in bulk and their chain verified from byte 0 to ENDLIB
(`pkgdrc.gdsii.scan.records`), the library header and the structures checked
(`pkgdrc.gdsii.grammar`: BGNSTR STRNAME ... ENDSTR, one after another, names unique): a
BGNSTR or ENDSTR byte pattern inside coordinates or text is never taken for a record. Each
structure's bytes are hashed (blake2b, 128 bits): a structure with the same bytes under the
same library units reads into the same cell (`pkgdrc.cache.cells`). `write_part` writes a
library of the header, some structures and ENDLIB, which gdstk reads like any file.

Anything else (a stream the scan or those checks refuse, no UNITS record) is no split
(`split` returns None): the whole-file read gives the authoritative error.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np

from pkgdrc.gdsii.grammar import check_library, check_structures
from pkgdrc.gdsii.scan import CODE, GdsiiError, records

ENDLIB_RECORD = b"\x00\x04\x04\x00"


@dataclass(frozen=True)
class Structure:
    """One structure: bytes [start, end) of the file (BGNSTR to ENDSTR included), its STRNAME, their hash."""

    start: int
    end: int
    name: bytes
    digest: str


@dataclass(frozen=True)
class Segments:
    """A stream's header (bytes [0, header_end)), its UNITS record's bytes, and its structures in order."""

    header_end: int
    units: bytes
    structures: list[Structure]


def split_buffer(buf: np.ndarray) -> Segments | None:
    """`buf` (a whole GDSII stream, uint8) split; None when the stream is not one the split trusts."""
    try:
        rec = records(buf)
        check_library(rec)
        begin, end = check_structures(rec, buf)
    except GdsiiError:
        return None
    units = np.flatnonzero(rec.kind[: int(begin[0]) if len(begin) else len(rec.kind)] == CODE["UNITS"])
    if len(begin) == 0 or len(units) != 1:
        return None
    u = int(rec.pos[units[0]])
    starts = rec.pos[begin].astype(np.int64).tolist()
    ends = (rec.pos[end].astype(np.int64) + 4).tolist()  # ENDSTR is 4 bytes long
    name_at = rec.pos[begin + 1].astype(np.int64).tolist()
    name_len = rec.length[begin + 1].astype(np.int64).tolist()
    structures = [
        Structure(
            s,
            e,
            buf[n + 4 : n + k].tobytes().rstrip(b"\0"),
            hashlib.blake2b(buf[s:e].data, digest_size=16).hexdigest(),
        )
        for s, e, n, k in zip(starts, ends, name_at, name_len)
    ]
    return Segments(starts[0], buf[u : u + 20].tobytes(), structures)


def mapped(path: str) -> np.ndarray | None:
    """The file's bytes, mapped into memory (None: empty or not mappable)."""
    try:
        return np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError):  # empty, unreadable, or the address space is capped
        return None


def write_part(buf: np.ndarray, segments: Segments, which: list[int], fd: int) -> None:
    """Write to `fd` a GDSII library of the stream `buf`'s header, its structures numbered `which`
    (in that order) and ENDLIB."""
    _write_all(fd, buf[: segments.header_end])
    for i in which:
        _write_all(fd, buf[segments.structures[i].start : segments.structures[i].end])
    _write_all(fd, np.frombuffer(ENDLIB_RECORD, dtype=np.uint8))


def _write_all(fd: int, data: np.ndarray) -> None:
    view = np.ascontiguousarray(data).data.cast("B")
    while view:
        view = view[os.write(fd, view) :]
