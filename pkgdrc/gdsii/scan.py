"""The records of a GDSII stream, found in bulk over the record headers (see `pkgdrc.gdsii`).

Records cannot be found without following the lengths from byte 0, but nearly every even
byte offset that looks like a valid header (`_candidates`, numpy over all offsets at once)
is a real record, and where a candidate ends exactly at the next candidate, the chain runs
through it. So the chain is walked in Python only at the few candidates where that fails
(a header-like pattern inside coordinates or text). Records of odd length (KLayout warns,
reads them) make records start at odd offsets: those are found by a second pass over odd
offsets, run only when the chain reaches one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pkgdrc.errors import PkgdrcError

# record type -> (name, data type, length): the GDSII stream format, release 6; a length of 4
# for a type with data is variable (at least 4: strings, XY), else the exact record length
RECORDS = {
    0x00: ("HEADER", 2, 6),
    0x01: ("BGNLIB", 2, 28),
    0x02: ("LIBNAME", 6, 4),
    0x03: ("UNITS", 5, 20),
    0x04: ("ENDLIB", 0, 4),
    0x05: ("BGNSTR", 2, 28),
    0x06: ("STRNAME", 6, 4),
    0x07: ("ENDSTR", 0, 4),
    0x08: ("BOUNDARY", 0, 4),
    0x09: ("PATH", 0, 4),
    0x0A: ("SREF", 0, 4),
    0x0B: ("AREF", 0, 4),
    0x0C: ("TEXT", 0, 4),
    0x0D: ("LAYER", 2, 6),
    0x0E: ("DATATYPE", 2, 6),
    0x0F: ("WIDTH", 3, 8),
    0x10: ("XY", 3, 4),
    0x11: ("ENDEL", 0, 4),
    0x12: ("SNAME", 6, 4),
    0x13: ("COLROW", 2, 8),
    0x15: ("NODE", 0, 4),
    0x16: ("TEXTTYPE", 2, 6),
    0x17: ("PRESENTATION", 1, 6),
    0x19: ("STRING", 6, 4),
    0x1A: ("STRANS", 1, 6),
    0x1B: ("MAG", 5, 12),
    0x1C: ("ANGLE", 5, 12),
    0x1F: ("REFLIBS", 6, 4),
    0x20: ("FONTS", 6, 4),
    0x21: ("PATHTYPE", 2, 6),
    0x22: ("GENERATIONS", 2, 6),
    0x23: ("ATTRTABLE", 6, 4),
    0x26: ("ELFLAGS", 1, 6),
    0x2A: ("NODETYPE", 2, 6),
    0x2B: ("PROPATTR", 2, 6),
    0x2C: ("PROPVALUE", 6, 4),
    0x2D: ("BOX", 0, 4),
    0x2E: ("BOXTYPE", 2, 6),
    0x2F: ("PLEX", 3, 8),
    0x30: ("BGNEXTN", 3, 8),
    0x31: ("ENDEXTN", 3, 8),
    0x36: ("FORMAT", 2, 6),
    0x37: ("MASK", 6, 4),
    0x38: ("ENDMASKS", 0, 4),
    0x39: ("LIBDIRSIZE", 2, 6),
    0x3A: ("SRFNAME", 6, 4),
    0x3B: ("LIBSECUR", 2, 6),
}
CODE = {name: rt for rt, (name, _, _) in RECORDS.items()}
ENDLIB, BGNSTR, STRNAME, ENDSTR, ENDEL, XY = (CODE[n] for n in ("ENDLIB", "BGNSTR", "STRNAME", "ENDSTR", "ENDEL", "XY"))
VARIABLE = {rt for rt, (_, dt, size) in RECORDS.items() if dt and size == 4}
# (record type << 8 | data type) -> the lengths a record may have; an unknown pair has none
LEAST_LENGTH = np.full(1 << 16, 1 << 16, dtype=np.int32)
MOST_LENGTH = np.zeros(1 << 16, dtype=np.int32)
for _rt, (_, _dt, _size) in RECORDS.items():
    LEAST_LENGTH[_rt << 8 | _dt] = _size
    MOST_LENGTH[_rt << 8 | _dt] = 0xFFFF if _rt in VARIABLE else _size


class GdsiiError(PkgdrcError):
    """A GDSII stream that breaks the record grammar (the message names the byte offset)."""


@dataclass
class Records:
    """The records of a stream, in order: byte offsets, lengths and record types."""

    pos: np.ndarray  # byte offsets (int32 in files under 2 GB, else int64)
    length: np.ndarray  # record lengths, header included (same type)
    kind: np.ndarray  # uint8 record types


def name_of(rt: int) -> str:
    """A record type's name (BOUNDARY), or its number when it has none."""
    return RECORDS[rt][0] if rt in RECORDS else f"record type {rt:#04x}"


def _candidates(buf: np.ndarray, parity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets (of `parity`) holding a plausible record header: (offsets, lengths, record types).

    A header is plausible when its record and data types are known and its length is one
    the type allows (`LEAST_LENGTH`, `MOST_LENGTH`) and stays inside the file. Chunks of
    1 Mi words keep the temporaries small enough for the allocator to reuse.
    """
    n = len(buf)
    offset = np.int32 if n < 2**31 - 2**17 else np.int64  # offsets and ends fit; half the memory traffic
    words = buf[parity : parity + (n - parity) // 2 * 2].view(">u2")
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    step = 1 << 20
    for start in range(0, max(len(words) - 1, 0), step):
        tword = words[start + 1 : start + step + 1]
        size = words[start : start + len(tword)]
        hit = np.flatnonzero((size >= LEAST_LENGTH[tword]) & (size <= MOST_LENGTH[tword]))
        parts[0].append(((hit + start) * 2 + parity).astype(offset))
        parts[1].append(size[hit].astype(offset))
        parts[2].append((tword[hit] >> 8).astype(np.uint8))
    if not parts[0]:
        return np.empty(0, dtype=offset), np.empty(0, dtype=offset), np.empty(0, dtype=np.uint8)
    pos, length, kind = (np.concatenate(p) for p in parts)
    inside = pos + length <= n
    return (pos, length, kind) if inside.all() else (pos[inside], length[inside], kind[inside])


def _header_problem(buf: np.ndarray, at: int) -> str:
    """Why the bytes at `at` are not a record header, in words."""
    n = len(buf)
    if at >= n:
        return f"the file ends at byte {n} without an ENDLIB record"
    if at + 4 > n:
        return f"a record header at byte {at} is cut off by the end of the file"
    length, rt, dt = int(buf[at]) << 8 | int(buf[at + 1]), int(buf[at + 2]), int(buf[at + 3])
    if length < 4:
        return f"record at byte {at} has length {length}, shorter than its 4-byte header"
    if rt not in RECORDS:
        return f"record at byte {at} has an unknown record type ({rt:#04x})"
    if RECORDS[rt][1] != dt:
        return f"{RECORDS[rt][0]} record at byte {at} has data type {dt}, expected {RECORDS[rt][1]}"
    if rt not in VARIABLE and length != RECORDS[rt][2]:
        return f"{RECORDS[rt][0]} record at byte {at} is {length} bytes long, expected {RECORDS[rt][2]}"
    return f"{RECORDS[rt][0]} record at byte {at} is {length} bytes long and runs past the end of the file ({n} bytes)"


def records(buf: np.ndarray) -> Records:
    """The chain of records from byte 0 to the first ENDLIB (GdsiiError if it breaks)."""
    n = len(buf)
    found = [_candidates(buf, 0)]
    while True:
        pos, length, rt = (np.concatenate(a) for a in zip(*found)) if len(found) > 1 else found[0]
        if len(found) > 1:
            order = np.argsort(pos, kind="stable")
            pos, length, rt = pos[order], length[order], rt[order]
        ends = pos + length
        # a candidate whose end is the next candidate passes the chain on; the others are walked
        walk = np.ones(len(pos), dtype=bool)
        walk[:-1] = (ends[:-1] != pos[1:]) | (rt[:-1] == ENDLIB)
        stops = np.flatnonzero(walk)
        runs, at, odd = [], 0, False
        while True:
            k = int(np.searchsorted(pos, pos.dtype.type(at)))  # same type: no conversion of `pos`
            if k == len(pos) or pos[k] != at:
                if at % 2 and len(found) == 1 and at < n:
                    odd = True
                    break
                raise GdsiiError(_header_problem(buf, at))
            j = int(stops[np.searchsorted(stops, k)])
            runs.append((k, j))
            if rt[j] == ENDLIB:
                break
            at = int(ends[j])
        if odd:  # an odd-length record: add the candidates at odd offsets and walk again
            found.append(_candidates(buf, 1))
            continue
        take: slice | np.ndarray
        if len(runs) == 1 and runs[0] == (0, len(pos) - 1):  # no false candidate: all are records
            take = slice(None)
        else:
            take = np.zeros(len(pos), dtype=bool)
            for k, j in runs:
                take[k : j + 1] = True
        end = int(ends[runs[-1][1]])
        if buf[end:].any():
            extra = end + int(np.flatnonzero(buf[end:])[0])
            raise GdsiiError(f"data after the ENDLIB record (byte {extra}); expected only zero padding")
        return Records(pos[take], length[take], rt[take])


def record_error(rec: Records, i: int, problem: str) -> GdsiiError:
    """The error for record `i`: its name and byte offset, then `problem`."""
    return GdsiiError(f"{name_of(int(rec.kind[i]))} record at byte {int(rec.pos[i])}: {problem}")
