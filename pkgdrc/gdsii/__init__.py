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

`pkgdrc.gdsii.scan` finds the records (the header scan, the chain to ENDLIB);
`pkgdrc.gdsii.grammar` checks the library, the structures and the elements over them.
"""

from __future__ import annotations

import numpy as np

from pkgdrc.errors import PkgdrcError
from pkgdrc.gdsii.grammar import check_elements, check_library, check_structures
from pkgdrc.gdsii.scan import GdsiiError, Records, records

__all__ = ["GdsiiError", "Records", "check_complete", "records", "validate", "validate_file"]


def validate(buf: np.ndarray) -> Records:
    """Check a whole GDSII stream (uint8 array); GdsiiError names the first problem's byte offset."""
    rec = records(buf)
    check_library(rec)
    check_elements(rec, *check_structures(rec, buf))
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
