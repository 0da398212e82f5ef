"""Check that an OASIS file is complete: its END record is there and its CRC32 or checksum holds.

gdstk returns partial libraries for some truncated files, so this runs before gdstk reads one.
"""

from __future__ import annotations

import zlib

import numpy as np

from pkgdrc.errors import PkgdrcError

MAGIC = b"%SEMI-OASIS\r\n"
END_LEN = 256


def _uint(data: bytes, pos: int) -> tuple[int, int]:
    """An OASIS unsigned integer (7 bits per byte, low first) at `pos`: (value, next pos)."""
    value = shift = 0
    while pos < len(data):
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos
    return -1, len(data) + 1


def end_record_scheme(end: bytes) -> int | None:
    """The validation scheme of a 256-byte OASIS END record, or None if `end` is not one.

    END = 0x02, [6 table offsets (flag, offset) when START did not hold them], padding
    b-string, validation scheme (0 none, 1 CRC32, 2 checksum32), [4-byte signature].
    """
    if len(end) != END_LEN or end[0] != 2:
        return None
    for n_offsets in (0, 12):
        pos = 1
        for _ in range(n_offsets):
            _, pos = _uint(end, pos)
        pad, pos = _uint(end, pos)
        scheme, pos = _uint(end, pos + max(pad, 0))
        if scheme in (0, 1, 2) and pos + (4 if scheme else 0) == END_LEN:
            return scheme
    return None


def check_complete(path: str, shown: str | None = None) -> None:
    """An OASIS file ends with a 256-byte END record; its CRC32 or checksum is verified.

    `shown` is the path errors name (the compressed file when `path` is its decompressed copy).
    """
    shown = shown or path
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - END_LEN))
        end = f.read()
        scheme = end_record_scheme(end)
        if scheme is None:
            raise PkgdrcError("truncated OASIS file: it does not end with an END record", path=shown)
        if scheme == 0:
            return
        f.seek(0)
        remaining, crc, total = size - 4, 0, 0
        while remaining > 0:
            chunk = f.read(min(remaining, 1 << 24))
            remaining -= len(chunk)
            if scheme == 1:
                crc = zlib.crc32(chunk, crc)
            else:
                total += int(np.frombuffer(chunk, dtype=np.uint8).sum(dtype=np.uint64))
    want = int.from_bytes(end[-4:], "little")
    got = crc if scheme == 1 else total & 0xFFFFFFFF
    if got != want:
        name = "CRC32" if scheme == 1 else "checksum32"
        raise PkgdrcError(f"corrupt OASIS file: {name} is {got:#010x}, the END record says {want:#010x}", path=shown)
