"""Writing report files: targets checked before the run, contents staged and committed at its end.

A report target is a path or `-` (stdout). A regular file (or a path not there yet) is
written to a temporary file beside it and renamed over it: a killed or interrupted run
leaves the old report or the whole new one, never half. Stdout, a character device
(/dev/null, /dev/full, a terminal) and a FIFO (`--json >(jq .)`) are not files to
replace: they are written as streams, at the end of the run. A path that names the same
file as stdout (/dev/stdout, /proc/self/fd/1) is stdout. Anything else that exists
and is not a regular file (a block device, a socket) is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

from pkgdrc.errors import PkgdrcError

STDOUT = "-"


@dataclass(frozen=True)
class Target:
    """Where one report goes: `path` as given ("-" for stdout); `stream`: written in place, no rename."""

    path: str
    stream: bool

    @property
    def stdout(self) -> bool:
        return self.path == STDOUT

    @property
    def name(self) -> str:
        return "stdout" if self.stdout else self.path


def _same_as_stdout(st: os.stat_result) -> bool:
    with contextlib.suppress(OSError, ValueError):
        return os.path.samestat(st, os.fstat(sys.stdout.fileno()))
    return False


def identity(path: str) -> tuple:
    """What a path writes to, for telling two paths that are one file apart: stdout, (device,
    inode) of an existing file, else the resolved path."""
    if path == STDOUT:
        return ("stdout",)
    try:
        st = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path))
    return ("stdout",) if _same_as_stdout(st) else ("file", st.st_dev, st.st_ino)


def target(path: str) -> Target:
    """The target of a report path, checked writable now (before the run, not after it)."""
    if path == STDOUT:
        return Target(STDOUT, True)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise PkgdrcError(f"cannot write report: {e.strerror}", path=path) from None
    if st is not None and _same_as_stdout(st):
        return Target(STDOUT, True)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise PkgdrcError("cannot write report: path is a directory", path=path)
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        if not os.access(path, os.W_OK):
            raise PkgdrcError("cannot write report: permission denied", path=path)
        return Target(path, True)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise PkgdrcError("cannot write report: not a regular file, a character device or a FIFO", path=path)
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise PkgdrcError(f"cannot write report: folder {folder} does not exist", path=path)
    try:  # by doing: os.access says yes to root everywhere, also on /proc and read-only mounts
        fd, probe = tempfile.mkstemp(prefix=".pkgdrc-", dir=folder)
    except OSError as e:
        reason = "is not writable" if e.errno in (errno.EACCES, errno.EPERM) else f"is not writable ({e.strerror})"
        raise PkgdrcError(f"cannot write report: folder {folder} {reason}", path=path) from None
    os.close(fd)
    os.unlink(probe)
    return Target(path, False)


def write_error(e: OSError, name: str) -> PkgdrcError:
    """The one-line error for a failed write: a full disk says so."""
    if e.errno == errno.ENOSPC:
        return PkgdrcError(f"disk full writing {name}")
    if e.errno == errno.EDQUOT:
        return PkgdrcError(f"disk quota exceeded writing {name}")
    return PkgdrcError(f"cannot write {name}: {e.strerror or e}")


def write_atomic(path: str, fill: Callable[[TextIO], None]) -> None:
    """Write with `fill(stream)` to a temporary file beside `path`, then rename: a killed run
    leaves no half report."""
    staged = Staged()
    try:
        staged.add(Target(path, False), fill)
        staged.commit()
    finally:
        staged.discard()


def _fill(fd: int, fill: Callable[[TextIO], None]) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # a report is an ordinary file, not mkstemp's 0600
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        fill(f)
        f.flush()
        os.fsync(f.fileno())  # on disk before the rename makes it visible


class Staged:
    """Reports written as the run goes, made visible together by `commit` at its end.

    Files go to a hidden temporary beside their path; streams to an anonymous temporary
    file, copied out at commit. `discard` (also after a commit) removes what is left, so
    an error or an interruption before the commit keeps every old report.
    """

    def __init__(self) -> None:
        self._files: list[tuple[Target, str]] = []
        self._streams: list[tuple[Target, IO[str]]] = []
        self.committed = False

    def add(self, target: Target, fill: Callable[[TextIO], None]) -> None:
        try:
            if target.stream:
                out = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed by discard()
                self._streams.append((target, out))
                fill(out)
                out.flush()
            else:
                fd, tmp = tempfile.mkstemp(prefix=".pkgdrc-", dir=str(Path(target.path).resolve().parent))
                self._files.append((target, tmp))  # known before it is filled: `discard` removes it
                _fill(fd, fill)
        except OSError as e:
            raise write_error(e, target.name) from None

    def commit(self) -> None:
        """Streams first (where a write can still fail: a full device, a closed pipe), then the renames."""
        for target, staged in self._streams:
            staged.seek(0)
            try:
                if target.stdout:
                    sys.stdout.flush()
                    shutil.copyfileobj(staged, sys.stdout)
                    sys.stdout.flush()
                else:
                    with open(target.path, "w", encoding="utf-8") as out:
                        shutil.copyfileobj(staged, out)
            except OSError as e:
                raise write_error(e, target.name) from None
        for target, tmp in self._files:
            try:
                os.replace(tmp, target.path)
            except OSError as e:
                raise write_error(e, target.name) from None
        self._files = []
        self.committed = True

    def discard(self) -> None:
        for _, tmp in self._files:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        for _, staged in self._streams:
            staged.close()
        self._files, self._streams = [], []
