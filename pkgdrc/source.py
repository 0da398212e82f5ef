"""A layout file as gdstk can read it: the file itself, or its gzip-decompressed copy in memory.

KLayout reads `.gds.gz` and `.oas.gz`; gdstk reads a path. So a compressed layout is
decompressed, in the reading child, into an unnamed in-memory file that gdstk opens as
/proc/self/fd/N (Linux: memfd; elsewhere a temporary file), at most a given number of
bytes: a small file can expand without end.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from pkgdrc import oasis
from pkgdrc.errors import PkgdrcError

GDS_MAGIC = b"\x00\x06\x00\x02"
GZIP_MAGIC = b"\x1f\x8b"


def _decompress(path: str, limit: int) -> tuple[int, str]:
    """A gzip-compressed file decompressed, at most `limit` bytes: (descriptor, path to open it by).

    Linux: an unnamed in-memory file (memfd), gone with the process however it ends;
    elsewhere a temporary file, which the caller removes.
    """
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("layout")
        name = f"/proc/self/fd/{fd}"
    else:
        fd, name = tempfile.mkstemp(suffix=".layout")
    total = 0
    try:
        with gzip.open(path, "rb") as src:
            while chunk := src.read(1 << 22):
                total += len(chunk)
                if total > limit:
                    raise PkgdrcError(
                        f"gzip-compressed layout expands to more than {limit:,} bytes "
                        "(the reader's memory limit, --max-memory)",
                        path=path,
                    )
                os.write(fd, chunk)
    except BaseException as e:
        _release(fd, name)
        if isinstance(e, (OSError, EOFError, zlib.error)):
            raise PkgdrcError(f"corrupt gzip-compressed layout: {e}", path=path) from None
        raise
    return fd, name


def _release(fd: int, name: str) -> None:
    os.close(fd)
    if not name.startswith("/proc/"):
        os.unlink(name)


@contextmanager
def readable(path: str, kind: str, max_memory: int | None) -> Iterator[tuple[str, str]]:
    """(a path gdstk can read, 'gds' | 'oasis'): the file itself, or its decompressed copy."""
    if kind != "gzip":
        yield path, kind
        return
    limit = max_memory or os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    fd, name = _decompress(path, limit)
    try:
        head = os.pread(fd, 16, 0)
        if not head.startswith((GDS_MAGIC, oasis.MAGIC)):
            raise PkgdrcError("gzip-compressed, but not a GDSII or OASIS layout inside", path=path)
        yield name, "oasis" if head.startswith(oasis.MAGIC) else "gds"
    finally:
        _release(fd, name)
