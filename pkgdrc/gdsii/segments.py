"""A GDSII stream split into its library header, one byte range per structure, and ENDLIB.

Structures are found by their byte patterns (`split_buffer`: BGNSTR after ENDSTR), in
~0.1 s on 158 MB where following every record's length from byte 0 (`pkgdrc.gdsii.scan`)
takes ~0.6 s. Each structure's bytes are hashed (SHA-256, 128 bits kept; hardware-assisted,
twice blake2b's speed here): a structure with the same bytes under the same library units
reads into the same cell (`pkgdrc.cache.cells`).
`write_part` writes a library of the header, some structures and ENDLIB, which gdstk reads
like any file. A stream the split does not trust gives None: the whole-file read gives the
authoritative result or error.
"""

from __future__ import annotations

import hashlib
import mmap
import os
from dataclasses import dataclass

import numpy as np

from pkgdrc.gdsii.grammar import check_library
from pkgdrc.gdsii.scan import CODE, GdsiiError, records

ENDLIB_RECORD = b"\x00\x04\x04\x00"
BGNSTR_HEADER = b"\x00\x1c\x05\x02"  # 28 bytes, record type 5, data type 2
ENDSTR_RECORD = b"\x00\x04\x07\x00"
STRNAME_TYPE = b"\x06\x06"
RELEASE = 64 * 2**20


@dataclass(frozen=True)
class Structure:
    """One structure: bytes [start, end) of the file (BGNSTR to ENDSTR included), its STRNAME, and
    the hash of its bytes after BGNSTR (whose dates a writer sets anew each time it saves)."""

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


class _Pages:
    """Drops the mapped pages behind a reader of `data` from this process (MADV_DONTNEED) every
    `RELEASE` bytes: the file stays in the page cache, the process's resident memory does not
    grow with it (a 1.5 GB file read through a map counts 1.5 GB in RSS otherwise)."""

    def __init__(self, data: mmap.mmap | bytes):
        self.data = data if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED") else None
        self.done = 0

    def behind(self, at: int) -> None:
        upto = at // mmap.PAGESIZE * mmap.PAGESIZE
        if self.data is not None and upto - self.done >= RELEASE:
            self.data.madvise(mmap.MADV_DONTNEED, self.done, upto - self.done)
            self.done = upto

    def all(self) -> None:
        if self.data is not None and len(self.data):
            self.data.madvise(mmap.MADV_DONTNEED)
        self.done = 0


def _boundaries(data: mmap.mmap | bytes) -> list[int]:
    """Offsets of the BGNSTR patterns that follow an ENDSTR pattern, and the first BGNSTR pattern."""
    found: list[int] = []
    pages = _Pages(data)
    at = data.find(BGNSTR_HEADER)
    while at >= 0:
        if not found or data[at - 4 : at] == ENDSTR_RECORD:
            found.append(at)
        pages.behind(at - 4)
        at = data.find(BGNSTR_HEADER, at + 1)
    pages.all()
    return found


def _units(header: bytes) -> bytes | None:
    """The UNITS record of a library header that is a valid chain of header records, else None."""
    try:
        rec = records(np.frombuffer(header + ENDLIB_RECORD, dtype=np.uint8))
        check_library(rec)
    except GdsiiError:
        return None
    units = np.flatnonzero(rec.kind == CODE["UNITS"])
    if len(units) != 1 or rec.kind[-1] != CODE["ENDLIB"]:
        return None
    u = int(rec.pos[units[0]])
    return header[u : u + 20]


def split_buffer(data: mmap.mmap | bytes) -> Segments | None:
    """A whole GDSII stream split at its structures; None when it is not one the split trusts.

    Found by byte patterns: a structure starts at a BGNSTR header that follows an ENDSTR record
    (the first one: after the library header, whose records are checked here) and ends at the
    ENDSTR before the next one, the last one right before ENDLIB (then only zero padding). A
    pattern inside coordinates can make a false boundary; then a part is no whole structure,
    and the reader refuses it (`pkgdrc.safe_read.read_tree` checks that each part starts a
    record) or its bytes match no cached structure, which was checked whole when it was read.
    """
    starts = _boundaries(data)
    last = data.rfind(ENDSTR_RECORD + ENDLIB_RECORD)
    if not starts or last < starts[-1] or data[last + 8 :].strip(b"\0"):
        return None
    units = _units(bytes(data[: starts[0]]))
    if units is None:
        return None
    ends = [*starts[1:], last + 4]
    structures = []
    pages = _Pages(data)
    for s, e in zip(starts, ends):
        pages.behind(s)
        n = int.from_bytes(data[s + 28 : s + 30], "big")
        if data[s + 30 : s + 32] != STRNAME_TYPE or n < 4 or s + 28 + n > e - 4:
            return None
        name = bytes(data[s + 32 : s + 28 + n]).rstrip(b"\0")
        digest = hashlib.sha256(memoryview(data)[s + 28 : e]).hexdigest()[:32]  # no BGNSTR dates
        structures.append(Structure(s, e, name, digest))
    pages.all()
    return Segments(starts[0], units, structures)


def mapped(path: str) -> mmap.mmap | None:
    """The file's bytes, mapped into memory (None: empty or not mappable)."""
    try:
        with open(path, "rb") as f:
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # empty, unreadable, or the address space is capped
        return None


def write_part(data: mmap.mmap | bytes, segments: Segments, which: list[int], fd: int) -> list[int]:
    """Write to `fd` a GDSII library of the stream `data`'s header, its structures numbered
    `which` (in that order) and ENDLIB; returns where each structure starts in it."""
    view = memoryview(data)
    _write_all(fd, view[: segments.header_end])
    at, starts = segments.header_end, []
    for i in which:
        s = segments.structures[i]
        starts.append(at)
        _write_all(fd, view[s.start : s.end])
        at += s.end - s.start
    _write_all(fd, memoryview(ENDLIB_RECORD))
    _Pages(data).all()
    return starts


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]
