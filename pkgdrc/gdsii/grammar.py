"""The grammar of a GDSII stream's records, checked with array operations (see `pkgdrc.gdsii`).

The library header, structures (BGNSTR STRNAME ... ENDSTR, names unique), records only
inside structures, and each element's grammar as KLayout reads it: its records in order,
ENDEL, and its XY point count. One transition-table lookup per record, over all records
at once.
"""

from __future__ import annotations

import numpy as np

from pkgdrc.gdsii.scan import (
    BGNSTR,
    CODE,
    ENDEL,
    ENDLIB,
    ENDSTR,
    STRNAME,
    XY,
    GdsiiError,
    Records,
    name_of,
    record_error,
)

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


TRANSITIONS = _transitions()


def _grammar(kind_name: str) -> str:
    parts = []
    for names, required, repeats in ELEMENTS[kind_name]:
        text = " | ".join(names) + ("..." if repeats else "")
        parts.append(text if required else f"[{text}]")
    return f"{kind_name} {' '.join(parts)} ENDEL"


def check_library(rec: Records) -> None:
    """HEADER BGNLIB, then library header records until the first BGNSTR (or ENDLIB)."""
    rt = rec.kind
    for i, want in enumerate(("HEADER", "BGNLIB")):
        if rt[i] != CODE[want]:
            raise record_error(rec, i, f"expected {want} here")
    header_ok = np.zeros(256, dtype=bool)
    header_ok[[CODE[n] for n in LIBRARY_HEADER]] = True
    body = int(np.flatnonzero((rt == BGNSTR) | (rt == ENDLIB))[0])
    bad = np.flatnonzero(~header_ok[rt[2:body]])
    if len(bad):
        raise record_error(
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


def check_structures(rec: Records, buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(BGNSTR STRNAME ... ENDSTR)... ENDLIB, names unique; returns (BGNSTR, ENDSTR) indices."""
    rt = rec.kind
    last = len(rt) - 1  # ENDLIB: the chain ends at the first one
    begin, end = np.flatnonzero(rt == BGNSTR), np.flatnonzero(rt == ENDSTR)
    unpaired = _first_unpaired(begin, end)
    if unpaired is not None:
        i, what = unpaired
        if what == "close":
            raise record_error(rec, i, "without a BGNSTR")
        raise record_error(rec, i if what == "open" else last, "inside a structure that has no ENDSTR")
    gaps = np.flatnonzero(begin[1:] != end[:-1] + 1)
    if len(gaps) or (len(end) and end[-1] != last - 1):
        i = int(end[gaps[0]]) + 1 if len(gaps) else int(end[-1]) + 1
        raise record_error(rec, i, "outside a structure (after an ENDSTR, before the next BGNSTR or ENDLIB)")
    named = rt[begin + 1] == STRNAME  # a BGNSTR is never last: ENDLIB is
    if not named.all():
        raise record_error(rec, int(begin[np.flatnonzero(~named)[0]]) + 1, "expected STRNAME right after BGNSTR")
    _check_names(rec, begin + 1, buf)
    return begin, end


def _check_names(rec: Records, where: np.ndarray, buf: np.ndarray) -> None:
    """Structure names (STRNAME records) are unique and not empty."""
    seen: dict[bytes, int] = {}
    for i in where.tolist():
        name = buf[int(rec.pos[i]) + 4 : int(rec.pos[i] + rec.length[i])].tobytes().rstrip(b"\0")
        if not name:
            raise record_error(rec, i, "empty structure name")
        if name in seen:
            text = name.decode("utf-8", "replace")
            raise GdsiiError(
                f"two structures named {text!r} (STRNAME at bytes {seen[name]} and "
                f"{int(rec.pos[i])}); a cell name must be unique"
            )
        seen[name] = int(rec.pos[i])


def _element_error(rec: Records, e: int, i: int) -> GdsiiError:
    """The message for record `i`, which may not follow the one before it in the element at `e`."""
    kname = name_of(int(rec.kind[e]))
    slots = ELEMENTS[kname]
    slot_of = {CODE[nm]: s for s, (names, _, _) in enumerate(slots) for nm in names}
    sp = slot_of.get(int(rec.kind[i - 1]), -1)
    sn = len(slots) if rec.kind[i] == ENDEL else slot_of.get(int(rec.kind[i]), -2)
    missing = [names[0] for s, (names, req, _) in enumerate(slots) if req and sp < s < sn]
    if missing and sn > sp:
        return record_error(
            rec,
            e,
            f"the element has no {' or '.join(missing)} record before the "
            f"{name_of(int(rec.kind[i]))} at byte {int(rec.pos[i])}; expected {_grammar(kname)}",
        )
    return record_error(
        rec, i, f"out of place in the {kname} element at byte {int(rec.pos[e])}; expected {_grammar(kname)}"
    )


def check_elements(rec: Records, begin: np.ndarray, end: np.ndarray) -> None:
    """Each element: its kind record, its records in their order, ENDEL; XY point counts."""
    rt = rec.kind
    kind = KIND_OF[rt]
    starts, closes = np.flatnonzero(kind >= 0), np.flatnonzero(rt == ENDEL)
    unpaired = _first_unpaired(starts, closes)
    if unpaired is not None:
        i, what = unpaired
        if what == "close":
            raise record_error(
                rec, i, "outside an element (no BOUNDARY, PATH, SREF, AREF, TEXT, NODE or BOX before it)"
            )
        if what == "open":  # the element before this one is not closed
            e = int(starts[np.searchsorted(starts, i) - 1])
        else:  # the last element is not closed: the next structure record comes first
            e, i = i, i + int(np.flatnonzero(np.isin(rt[i:], (BGNSTR, ENDSTR, ENDLIB)))[0])
        raise record_error(
            rec, e, f"the element has no ENDEL (the {name_of(int(rt[i]))} at byte {int(rec.pos[i])} comes first)"
        )
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
        raise record_error(
            rec, e, f"the element has no ENDEL (the {name_of(int(rt[i]))} at byte {int(rec.pos[i])} comes first)"
        )
    loose = ~inside
    loose[closes] = loose[begin] = loose[begin + 1] = loose[end] = False
    loose[: int(begin[0]) if len(begin) else len(rt)] = False  # the library header: checked before
    loose[-1] = False
    bare = np.flatnonzero(loose & ~PROPERTY[rt])
    if len(bare):
        raise record_error(
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
            raise record_error(
                rec, i, f"{int(coords[b])} bytes of coordinates, not a whole number of points (8 bytes each)"
            )
        want = f"{lo[b]}" if lo[b] == hi[b] else f"{lo[b]} to {hi[b]}"
        raise record_error(rec, i, f"{int(points[b])} points in the XY record of a {kname}; expected {want}")
