"""Writing report files: paths checked before the run, contents written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, TextIO

from pkgdrc.errors import PkgdrcError


def check_writable(path: str) -> None:
    """Fail before the run, not after it, when a report cannot be written to `path`."""
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise PkgdrcError(f"cannot write report: folder {folder} does not exist", path=path)
    if Path(path).is_dir():
        raise PkgdrcError("cannot write report: path is a directory", path=path)
    if not os.access(folder, os.W_OK):
        raise PkgdrcError(f"cannot write report: folder {folder} is not writable", path=path)


def write_atomic(path: str, fill: Callable[[TextIO], None]) -> None:
    """Write with `fill(stream)` to a temporary file beside `path`, then rename: a killed run
    leaves no half report."""
    folder = str(Path(path).resolve().parent)
    fd, tmp = tempfile.mkstemp(prefix=".pkgdrc-", dir=folder)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # a report is an ordinary file, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it visible
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
