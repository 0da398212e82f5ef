"""Validate a GDSII stream's record grammar before gdstk reads it, in bulk over the record headers.

gdstk reads records leniently: an XY record whose length swallows the next ENDEL and
BOUNDARY, a BOUNDARY before the first structure, two structures with one name are all
read into something, and then checked as if they were the layout. KLayout refuses such
files; so does `validate`, naming the byte offset (or the cell), before gdstk runs.

Checked: every record header (length >= 4, known record and data type, long enough for
its type, inside the file), the chain of records from byte 0 to ENDLIB (only zero
padding after it), the library header, structures (BGNSTR STRNAME ... ENDSTR,
names unique), records only inside structures, and each element's grammar as KLayout
reads it: BOUNDARY/PATH/SREF/AREF/TEXT/NODE/BOX, its records in order, ENDEL, and its XY
point count (SREF and TEXT 1, AREF 3, BOX 5, NODE 1 to 50; BOUNDARY and PATH may continue
in further XY records, as KLayout's multi-XY reading allows).

How it is fast: records cannot be found without following the lengths from byte 0, but
nearly every even byte offset that looks like a valid header (`_candidates`, numpy over
all offsets at once) is a real record, and where a candidate ends exactly at the next
candidate, the chain runs through it. So the chain is walked in Python only at the few
candidates where that fails (a header-like pattern inside coordinates or text), and the
grammar is checked with array operations over the records: one transition-table lookup
per record. About 0.6 s CPU per 100 MB, as long as gdstk's own read (benchmarks/RESULTS.md).
Records of odd length (KLayout warns, reads them) make records start at odd offsets:
those are found by a second pass over odd offsets, run only when the chain reaches one.
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
LIBRARY_HEADER = {
    "LIBNAME",
    "UNITS",
    "REFLIBS",
    "FONTS",
    "ATTRTABLE",
    "GENERATIONS",
    "FORMAT",
    "MASK",
    "ENDMASKS",
    "LIBDIRSIZE",
    "SRFNAME",
    "LIBSECUR",
    "PROPATTR",
    "PROPVALUE",
}

# Each element kind: its records in order, as slots (record names, required, repeatable).
_ELFLAGS = (("ELFLAGS", "PLEX"), False, True)
_PROPS = (("PROPATTR", "PROPVALUE"), False, True)
_TRANS = (("STRANS", "MAG", "ANGLE"), False, True)
ELEMENTS = {
    "BOUNDARY": [_ELFLAGS, (("LAYER",), True, False), (("DATATYPE",), True, False), (("XY",), True, True), _PROPS],
    "PATH": [
        _ELFLAGS,
        (("LAYER",), True, False),
        (("DATATYPE",), True, False),
        (("PATHTYPE",), False, False),
        (("WIDTH",), False, False),
        (("BGNEXTN",), False, False),
        (("ENDEXTN",), False, False),
        (("XY",), True, True),
        _PROPS,
    ],
    "SREF": [_ELFLAGS, (("SNAME",), True, False), _TRANS, (("XY",), True, False), _PROPS],
    "AREF": [_ELFLAGS, (("SNAME",), True, False), _TRANS, (("COLROW",), True, False), (("XY",), True, False), _PROPS],
    "TEXT": [
        _ELFLAGS,
        (("LAYER",), True, False),
        (("TEXTTYPE",), True, False),
        (("PRESENTATION",), False, False),
        (("PATHTYPE",), False, False),
        (("WIDTH",), False, False),
        _TRANS,
        (("XY",), True, False),
        (("STRING",), True, False),
        _PROPS,
    ],
    "NODE": [_ELFLAGS, (("LAYER",), True, False), (("NODETYPE",), True, False), (("XY",), True, False), _PROPS],
    "BOX": [_ELFLAGS, (("LAYER",), True, False), (("BOXTYPE",), True, False), (("XY",), True, False), _PROPS],
}
# XY points per element kind: (fewest, most) in one XY record
POINTS = {
    "BOUNDARY": (1, 8191),
    "PATH": (1, 8191),
    "SREF": (1, 1),
    "AREF": (3, 3),
    "TEXT": (1, 1),
    "NODE": (1, 50),
    "BOX": (5, 5),
}
LEAST_POINTS = np.array([POINTS[k][0] for k in ELEMENTS])
MOST_POINTS = np.array([POINTS[k][1] for k in ELEMENTS])

KINDS = list(ELEMENTS)
PROPERTY = np.zeros(256, dtype=bool)
PROPERTY[[0x2B, 0x2C]] = True  # PROPATTR, PROPVALUE
KIND_OF = np.full(256, -1, dtype=np.int8)  # record type -> element kind index
for _k, _kname in enumerate(KINDS):
    KIND_OF[CODE[_kname]] = _k


def _transitions() -> np.ndarray:
    """(element kind, record type before, record type) -> allowed, as a flat table (`_key`).

    Within an element, a record may follow the one before it when its slot comes later
    (or is the same, repeatable slot) and no required slot lies between them; ENDEL may
    follow when no required slot is left. The kind record itself stands before every slot.
    """
    table = np.zeros(len(KINDS) << 12, dtype=bool)
    for k, (kname, slots) in enumerate(ELEMENTS.items()):
        slot_of = {CODE[nm]: s for s, (names, _, _) in enumerate(slots) for nm in names}
        required = [s for s, (_, req, _) in enumerate(slots) if req]
        before = {CODE[kname]: -1, **slot_of}
        after = {**slot_of, ENDEL: len(slots)}
        for prev, sp in before.items():
            for nxt, sn in after.items():
                skipped = any(sp < s < sn for s in required)
                ok = (sn > sp and not skipped) or (sn == sp and nxt != ENDEL and slots[sn][2])
                table[_key(k, prev, nxt)] = ok
    return table


def _key(kind, before, record):
    """Index into the transition table (record types are below 64: it fits 16 bits)."""
    return (kind << 12) | (before << 6) | record


VARIABLE = {rt for rt, (_, dt, size) in RECORDS.items() if dt and size == 4}
# (record type << 8 | data type) -> the lengths a record may have; an unknown pair has none
LEAST_LENGTH = np.full(1 << 16, 1 << 16, dtype=np.int32)
MOST_LENGTH = np.zeros(1 << 16, dtype=np.int32)
for _rt, (_, _dt, _size) in RECORDS.items():
    LEAST_LENGTH[_rt << 8 | _dt] = _size
    MOST_LENGTH[_rt << 8 | _dt] = 0xFFFF if _rt in VARIABLE else _size
TRANSITIONS = _transitions()


class GdsiiError(PkgdrcError):
    """A GDSII stream that breaks the record grammar (the message names the byte offset)."""


@dataclass
class Records:
    """The records of a stream, in order: byte offsets, lengths and record types."""

    pos: np.ndarray  # byte offsets (int32 in files under 2 GB, else int64)
    length: np.ndarray  # record lengths, header included (same type)
    kind: np.ndarray  # uint8 record types


def _name(rt: int) -> str:
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


def _fail(rec: Records, i: int, problem: str) -> GdsiiError:
    return GdsiiError(f"{_name(int(rec.kind[i]))} record at byte {int(rec.pos[i])}: {problem}")


def _grammar(kind_name: str) -> str:
    parts = []
    for names, required, repeats in ELEMENTS[kind_name]:
        text = " | ".join(names) + ("..." if repeats else "")
        parts.append(text if required else f"[{text}]")
    return f"{kind_name} {' '.join(parts)} ENDEL"


def _check_library(rec: Records) -> None:
    """HEADER BGNLIB, then library header records until the first BGNSTR (or ENDLIB)."""
    rt = rec.kind
    for i, want in enumerate(("HEADER", "BGNLIB")):
        if rt[i] != CODE[want]:
            raise _fail(rec, i, f"expected {want} here")
    header_ok = np.zeros(256, dtype=bool)
    header_ok[[CODE[n] for n in LIBRARY_HEADER]] = True
    body = int(np.flatnonzero((rt == BGNSTR) | (rt == ENDLIB))[0])
    bad = np.flatnonzero(~header_ok[rt[2:body]])
    if len(bad):
        raise _fail(
            rec,
            2 + int(bad[0]),
            "outside a structure, before the first BGNSTR; expected a library "
            "header record (LIBNAME, UNITS, ...), BGNSTR or ENDLIB",
        )


def _first_unpaired(opens: np.ndarray, closes: np.ndarray) -> tuple[int, str] | None:
    """Where opening and closing records (sorted indices) stop alternating open, close, open...

    Returns (record index, what) of the first record out of turn: "open", an opening record
    before the previous one was closed; "close", a closing record with nothing open; or
    "unclosed", the last opening record, never closed.
    """
    m = min(len(opens), len(closes))
    worst = []
    early = np.flatnonzero(closes[:m] < opens[:m])  # a close before its open: nothing was open
    if len(early):
        worst.append((int(closes[early[0]]), "close"))
    unclosed = np.flatnonzero(opens[1 : m + 1] < closes[: len(opens[1 : m + 1])])  # next open before the close
    if len(unclosed):
        worst.append((int(opens[unclosed[0] + 1]), "open"))
    if len(opens) > len(closes):
        worst.append((int(opens[m]), "unclosed"))
    elif len(closes) > len(opens):
        worst.append((int(closes[m]), "close"))
    return min(worst) if worst else None


def _check_structures(rec: Records, buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(BGNSTR STRNAME ... ENDSTR)... ENDLIB, names unique; returns (BGNSTR, ENDSTR) indices."""
    rt = rec.kind
    last = len(rt) - 1  # ENDLIB: the chain ends at the first one
    begin, end = np.flatnonzero(rt == BGNSTR), np.flatnonzero(rt == ENDSTR)
    unpaired = _first_unpaired(begin, end)
    if unpaired is not None:
        i, what = unpaired
        if what == "close":
            raise _fail(rec, i, "without a BGNSTR")
        raise _fail(rec, i if what == "open" else last, "inside a structure that has no ENDSTR")
    gaps = np.flatnonzero(begin[1:] != end[:-1] + 1)
    if len(gaps) or (len(end) and end[-1] != last - 1):
        i = int(end[gaps[0]]) + 1 if len(gaps) else int(end[-1]) + 1
        raise _fail(rec, i, "outside a structure (after an ENDSTR, before the next BGNSTR or ENDLIB)")
    named = rt[begin + 1] == STRNAME  # a BGNSTR is never last: ENDLIB is
    if not named.all():
        raise _fail(rec, int(begin[np.flatnonzero(~named)[0]]) + 1, "expected STRNAME right after BGNSTR")
    _check_names(rec, begin + 1, buf)
    return begin, end


def _check_names(rec: Records, where: np.ndarray, buf: np.ndarray) -> None:
    """Structure names (STRNAME records) are unique and not empty."""
    seen: dict[bytes, int] = {}
    for i in where.tolist():
        name = buf[int(rec.pos[i]) + 4 : int(rec.pos[i] + rec.length[i])].tobytes().rstrip(b"\0")
        if not name:
            raise _fail(rec, i, "empty structure name")
        if name in seen:
            text = name.decode("utf-8", "replace")
            raise GdsiiError(
                f"two structures named {text!r} (STRNAME at bytes {seen[name]} and "
                f"{int(rec.pos[i])}); a cell name must be unique"
            )
        seen[name] = int(rec.pos[i])


def _element_error(rec: Records, e: int, i: int) -> GdsiiError:
    """The message for record `i`, which may not follow the one before it in the element at `e`."""
    kname = _name(int(rec.kind[e]))
    slots = ELEMENTS[kname]
    slot_of = {CODE[nm]: s for s, (names, _, _) in enumerate(slots) for nm in names}
    sp = slot_of.get(int(rec.kind[i - 1]), -1)
    sn = len(slots) if rec.kind[i] == ENDEL else slot_of.get(int(rec.kind[i]), -2)
    missing = [names[0] for s, (names, req, _) in enumerate(slots) if req and sp < s < sn]
    if missing and sn > sp:
        return _fail(
            rec,
            e,
            f"the element has no {' or '.join(missing)} record before the "
            f"{_name(int(rec.kind[i]))} at byte {int(rec.pos[i])}; expected {_grammar(kname)}",
        )
    return _fail(rec, i, f"out of place in the {kname} element at byte {int(rec.pos[e])}; expected {_grammar(kname)}")


def _check_elements(rec: Records, begin: np.ndarray, end: np.ndarray) -> None:
    """Each element: its kind record, its records in their order, ENDEL; XY point counts."""
    rt = rec.kind
    kind = KIND_OF[rt]
    starts, closes = np.flatnonzero(kind >= 0), np.flatnonzero(rt == ENDEL)
    unpaired = _first_unpaired(starts, closes)
    if unpaired is not None:
        i, what = unpaired
        if what == "close":
            raise _fail(rec, i, "outside an element (no BOUNDARY, PATH, SREF, AREF, TEXT, NODE or BOX before it)")
        if what == "open":  # the element before this one is not closed
            e = int(starts[np.searchsorted(starts, i) - 1])
        else:  # the last element is not closed: the next structure record comes first
            e, i = i, i + int(np.flatnonzero(np.isin(rt[i:], (BGNSTR, ENDSTR, ENDLIB)))[0])
        raise _fail(rec, e, f"the element has no ENDEL (the {_name(int(rt[i]))} at byte {int(rec.pos[i])} comes first)")
    if not len(starts):
        return
    # from each kind record to just before its ENDEL: alternating runs, laid out with np.repeat
    bounds = np.empty(2 * len(starts) + 2, dtype=np.int64)
    bounds[0], bounds[1:-1:2], bounds[2:-1:2], bounds[-1] = 0, starts, closes, len(rt)
    runs = np.zeros(len(bounds) - 1, dtype=bool)
    runs[1::2] = True
    inside = np.repeat(runs, np.diff(bounds))
    structural = np.flatnonzero(inside[np.concatenate([begin, begin + 1, end])])
    if len(structural) or inside[-1]:
        i = int(np.concatenate([begin, begin + 1, end])[structural].min()) if len(structural) else len(rt) - 1
        e = int(starts[np.searchsorted(starts, i) - 1])
        raise _fail(rec, e, f"the element has no ENDEL (the {_name(int(rt[i]))} at byte {int(rec.pos[i])} comes first)")
    loose = ~inside
    loose[closes] = loose[begin] = loose[begin + 1] = loose[end] = False
    loose[: int(begin[0]) if len(begin) else len(rt)] = False  # the library header: checked before
    loose[-1] = False
    bare = np.flatnonzero(loose & ~PROPERTY[rt])
    if len(bare):
        raise _fail(
            rec,
            int(bare[0]),
            "out of place in a structure; expected an element (BOUNDARY, PATH, SREF, "
            "AREF, TEXT, NODE, BOX), PROPATTR, PROPVALUE or ENDSTR",
        )
    # each record of an element (and its ENDEL) against the record before it, over all records at once
    inside[closes] = True
    inside[starts] = False
    # the kind of the last element started at or before each record
    k = np.repeat(np.concatenate([[0], kind[starts]]).astype(np.uint16), np.diff(starts, prepend=0, append=len(rt)))
    before = np.empty_like(rt)
    before[0], before[1:] = 0, rt[:-1]
    bad = np.flatnonzero(inside & ~TRANSITIONS[_key(k, before.astype(np.uint16), rt)])
    if len(bad):
        i = int(bad[0])
        raise _element_error(rec, int(starts[np.searchsorted(starts, i) - 1]), i)
    xy = np.flatnonzero(rt == XY)  # all inside elements: checked above
    xk = k[xy]
    coords = rec.length[xy].astype(np.int64) - 4
    points = coords // 8
    lo, hi = LEAST_POINTS[xk], MOST_POINTS[xk]
    bad = np.flatnonzero((coords % 8 != 0) | (points < lo) | (points > hi))
    if len(bad):
        b = int(bad[0])
        i, kname = int(xy[b]), KINDS[int(xk[b])]
        if coords[b] % 8:
            raise _fail(rec, i, f"{int(coords[b])} bytes of coordinates, not a whole number of points (8 bytes each)")
        want = f"{lo[b]}" if lo[b] == hi[b] else f"{lo[b]} to {hi[b]}"
        raise _fail(rec, i, f"{int(points[b])} points in the XY record of a {kname}; expected {want}")


def validate(buf: np.ndarray) -> Records:
    """Check a whole GDSII stream (uint8 array); GdsiiError names the first problem's byte offset."""
    rec = records(buf)
    _check_library(rec)
    _check_elements(rec, *_check_structures(rec, buf))
    return rec


def check_complete(path: str, shown: str | None = None) -> None:
    """A GDSII stream ends with an ENDLIB record (00 04 04 00), maybe padded with zeros.

    A cheap first test (the file's last 4 KB): gdstk returns partial libraries for some
    truncated files. `shown` is the path errors name.
    """
    with open(path, "rb") as f:
        f.seek(max(0, f.seek(0, 2) - 4096))
        tail = f.read().rstrip(b"\0")
    if not tail.endswith(b"\x00\x04\x04"):  # ENDLIB's own last byte is a zero, stripped above
        raise PkgdrcError("truncated GDSII file: it does not end with an ENDLIB record", path=shown or path)


def validate_file(path: str, shown: str | None = None) -> Records:
    """`validate` on a file, mapped into memory; errors name `shown` (default: `path`)."""
    try:
        buf = np.memmap(path, dtype=np.uint8, mode="r")
    except OSError as e:  # ENOMEM: the address space is capped (--max-memory)
        raise MemoryError(str(e)) from None
    try:
        return validate(buf)
    except GdsiiError as e:
        raise GdsiiError(str(e), path=shown or path) from None
