"""The cache folder: checksummed entries under hex keys, a size bound, hit statistics.

    .pkgdrc-cache/
      CACHEDIR.TAG   .gitignore (*)   .lock   stats.json
      ab/abcdef0123456789...           one entry per key, fanned out by its first two digits

An entry is a header and an opaque payload:

    magic (8 bytes) | format (u16) | n (u8) | pkgdrc version (n bytes) | payload length (u64)
    | SHA-256 of key, version and payload (32 bytes) | payload

`get` returns the payload only when every field checks out: a missing, truncated,
bit-flipped, zero-length entry, one written by another pkgdrc version or format, or one
moved under another key is a miss (None), and the next `put` replaces it. Payloads are
bytes and stay bytes here: nothing read from the folder is unpickled or evaluated (the
folder may come from a stranger's commit).

Concurrency: `put` writes a temporary file in the entry's folder and renames it over the
entry (`os.replace`, atomic), so a reader sees a whole old entry, a whole new one or none,
and two runs putting the same key both succeed and leave one valid entry. Eviction, the
statistics file and `clear` take an exclusive `fcntl.flock` on `.lock`.

Size bound: entries are least-recently-used first to go. An entry's mtime is its last use
(`put` and every hit set it); when the entries' total size passes `max_bytes`, the oldest
are deleted until the total is at most 90% of it (so that a full cache does not rescan the
folder at every put). Each Store counts what it wrote since its one scan of the folder, and
`flush_stats` scans again, for what other runs wrote meanwhile.

A cache is an optimization: a folder that cannot be created or written, or a write that
fails (disk full), turns the store off with a line in `warnings` and the run goes on.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import os
import re
import struct
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pkgdrc.errors import PkgdrcError
from pkgdrc.version import __version__

DEFAULT_MAX_BYTES = 2 * 2**30
FORMAT = 2  # 2: SHA-256 digests (hardware-assisted: twice blake2b's speed on large entries)
MAGIC = b"PKGDRC\x00C"
VERSION = __version__.encode("utf-8")
KEY = re.compile(r"[0-9a-f]{16,128}")
LOW_WATER = 0.9  # eviction goes down to this fraction of max_bytes
STALE_TEMP_NS = 3600 * 10**9  # a temporary file this old was left by a crashed run

TAG_NAME, IGNORE_NAME, LOCK_NAME, STATS_NAME, TEMP_PREFIX = "CACHEDIR.TAG", ".gitignore", ".lock", "stats.json", ".tmp-"
TAG_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
TAG = TAG_SIGNATURE + (
    b"\n# This file is a cache directory tag created by pkgdrc.\n"
    b"# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
IGNORE = b"# Created by pkgdrc: everything in this folder is a cache.\n*\n"

_HEAD = struct.Struct("<8sHB")  # magic, format, length of the version
_TAIL = struct.Struct("<Q32s")  # payload length, digest
if len(VERSION) > 255:  # pragma: no cover - a version string is short
    raise ImportError(f"pkgdrc version {__version__!r} is too long for the cache header")


@dataclass(frozen=True)
class CacheInfo:
    """What `pkgdrc cache info` shows: the folder, its entries and their size, the bound, the lookups."""

    path: Path
    entries: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float:
        """Hits per lookup, 0.0 before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class Store:
    """The cache folder `root`, bounded to `max_bytes` of entries (headers included).

    `hits` and `misses` count this Store's lookups since the last `flush_stats`;
    `warnings` collects the lines the caller prints (the folder is not writable...).
    """

    def __init__(self, root: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self.hits = 0
        self.misses = 0
        self.warnings: list[str] = []
        self._usable: bool | None = None  # None: the folder not tried yet
        self._written: int | None = None  # bytes in the folder as this Store knows them, once it wrote
        self._made: set[Path] = set()  # fan-out folders known to exist

    def prepare(self) -> bool:
        """Create the folder (tagged, self-ignoring) and check that it can be written; False turns the store off.

        Called by the first get or put; call it first to know before a run. A folder that
        exists with files of its own and is not tagged as a cache is never written into.
        """
        if self._usable is None:
            try:
                if self.root.exists() and not self.root.is_dir():
                    raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder")
                self.root.mkdir(parents=True, exist_ok=True)
                if not _is_cache_folder(self.root):
                    raise _NotOurs
                for name, content in ((TAG_NAME, TAG), (IGNORE_NAME, IGNORE)):
                    if not (self.root / name).is_file():
                        _write_atomic(self.root / name, content)
                fd, probe = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.root)
                os.close(fd)
                os.unlink(probe)
                self._usable = True
            except (OSError, _NotOurs) as e:
                self._stop(e, "running without cache")
        return bool(self._usable)

    def get(self, key: str) -> bytes | None:
        """The payload stored under `key`, or None (missing, truncated, corrupt, another version or format).

        Counts a hit or a miss, and a hit makes the entry the most recently used.
        """
        path = self._path(key)
        if not self.prepare():
            return None
        try:
            with open(path, "rb") as f:
                payload = _decode(key, f.read())
        except OSError:  # missing, evicted meanwhile, unreadable
            payload = None
        if payload is None:
            self.misses += 1
            return None
        self.hits += 1
        with contextlib.suppress(OSError):
            now = time.time_ns()
            os.utime(path, ns=(now, now))
        return payload

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` (atomically, replacing what was there), then keep the size bound.

        A payload larger than the bound is not stored.
        """
        path = self._path(key)
        if not self.prepare():
            return
        blob = _encode(key, bytes(data))
        if len(blob) > self.max_bytes:
            return
        try:
            if path.parent not in self._made:
                path.parent.mkdir(exist_ok=True)
                self._made.add(path.parent)
            try:
                _write_atomic(path, blob)
            except FileNotFoundError:  # its fan-out folder removed meanwhile (`pkgdrc cache clear`)
                path.parent.mkdir(exist_ok=True)
                _write_atomic(path, blob)
            if self._written is None:
                self._written = sum(size for _, size, _ in _entries(self.root))
            else:
                self._written += len(blob)
            if self._written > self.max_bytes:
                with self._locked():
                    self._evict()
        except OSError as e:
            self._stop(e, "running without cache from here on")

    def info(self) -> CacheInfo:
        """Entries, their size, the bound and the lookups (persisted ones plus this Store's)."""
        found = _entries(self.root)
        hits, misses = _read_stats(self.root / STATS_NAME)
        return CacheInfo(
            self.root,
            len(found),
            sum(size for _, size, _ in found),
            self.max_bytes,
            hits + self.hits,
            misses + self.misses,
        )

    def clear(self) -> None:
        """Delete every entry and the statistics; the tagged folder stays. Refuses a folder that is not a cache."""
        self.hits = self.misses = 0
        self._written = None
        self._made.clear()
        if not self.root.exists():
            return
        if not _is_cache_folder(self.root):
            raise PkgdrcError(
                "not a pkgdrc cache folder (no CACHEDIR.TAG, other files in it): not clearing it", path=str(self.root)
            )
        try:
            with self._locked():
                for _, _, path in _entries(self.root, temps=True):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                for sub in os.scandir(self.root):
                    if _is_fanout(sub.name):
                        with contextlib.suppress(OSError):  # not empty: a file of someone else's
                            os.rmdir(sub.path)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.root / STATS_NAME)
        except OSError as e:
            raise PkgdrcError(f"cannot clear the cache: {_reason(e)}", path=str(self.root)) from None

    def flush_stats(self) -> None:
        """Add this Store's hits and misses to the folder's statistics (under the lock) and reset them.

        Also enforces the size bound once more when this Store wrote, for what other runs wrote meanwhile.
        """
        if not self._usable or not (self.hits or self.misses or self._written is not None):
            return
        try:
            with self._locked():
                if self.hits or self.misses:
                    hits, misses = _read_stats(self.root / STATS_NAME)
                    stats = {"hits": hits + self.hits, "misses": misses + self.misses}
                    _write_atomic(self.root / STATS_NAME, json.dumps(stats).encode())
                    self.hits = self.misses = 0
                if self._written is not None:
                    self._written = sum(size for _, size, _ in _entries(self.root))
                    if self._written > self.max_bytes:
                        self._evict()
        except OSError as e:
            self._stop(e, "statistics not saved")

    def _path(self, key: str) -> Path:
        if not isinstance(key, str) or not KEY.fullmatch(key):
            raise ValueError(f"cache key must be 16 to 128 lowercase hex digits, got {key!r}")
        return self.root / key[:2] / key

    def _evict(self) -> None:
        """Delete least-recently-used entries down to LOW_WATER of the bound, and stale temporary files (locked)."""
        found = _entries(self.root, temps=True)
        now = time.time_ns()
        for mtime, _, path in found:
            if os.path.basename(path).startswith(TEMP_PREFIX) and now - mtime > STALE_TEMP_NS:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        entries = sorted(e for e in found if not os.path.basename(e[2]).startswith(TEMP_PREFIX))
        total = sum(size for _, size, _ in entries)
        if total > self.max_bytes:
            for _, size, path in entries:
                if total <= self.max_bytes * LOW_WATER:
                    break
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                total -= size
        self._written = total

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _stop(self, e: Exception, consequence: str) -> None:
        self._usable = False
        what = "not writable" if isinstance(e, OSError) else "not used"
        self.warnings.append(f"cache {self.root} {what}: {_reason(e)}; {consequence}")


class _NotOurs(Exception):
    def __str__(self) -> str:
        return "the folder has files of its own and no CACHEDIR.TAG, so it is not a pkgdrc cache"


def _reason(e: Exception) -> str:
    return (e.strerror or str(e)) if isinstance(e, OSError) else str(e)


def _digest(key: str, version: bytes, payload: bytes) -> bytes:
    h = hashlib.sha256(b"pkgdrc-cache")
    for part in (key.encode("ascii"), version):
        h.update(struct.pack("<I", len(part)))
        h.update(part)
    h.update(payload)
    return h.digest()


def _encode(key: str, payload: bytes) -> bytes:
    head = _HEAD.pack(MAGIC, FORMAT, len(VERSION)) + VERSION
    return head + _TAIL.pack(len(payload), _digest(key, VERSION, payload)) + payload


def _decode(key: str, blob: bytes) -> bytes | None:
    """The payload of an entry read under `key`, None unless every header field and the digest check out."""
    if len(blob) < _HEAD.size:
        return None
    magic, fmt, n = _HEAD.unpack_from(blob)
    start = _HEAD.size + n + _TAIL.size
    if magic != MAGIC or fmt != FORMAT or len(blob) < start or blob[_HEAD.size : _HEAD.size + n] != VERSION:
        return None
    length, digest = _TAIL.unpack_from(blob, _HEAD.size + n)
    payload = blob[start:]
    if len(payload) != length or not hmac.compare_digest(digest, _digest(key, VERSION, payload)):
        return None
    return payload


def _write_atomic(path: Path, blob: bytes) -> None:
    """Write a temporary file next to `path`, stamp it now (its last use) and rename it over `path`.

    No fsync: after a crash an entry may be cut short, which its checksum catches.
    """
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            now = time.time_ns()
            os.utime(f.fileno(), ns=(now, now))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _is_fanout(name: str) -> bool:
    return len(name) == 2 and all(c in "0123456789abcdef" for c in name)


def _is_cache_folder(root: Path) -> bool:
    """Tagged by a CACHEDIR.TAG, or holding nothing but what a Store writes (a new folder, a race with another run)."""
    try:
        with open(root / TAG_NAME, "rb") as f:
            if f.read(len(TAG_SIGNATURE)) == TAG_SIGNATURE:
                return True
    except OSError:
        pass
    ours = {TAG_NAME, IGNORE_NAME, LOCK_NAME, STATS_NAME}
    try:
        with os.scandir(root) as names:
            return all(n.name in ours or n.name.startswith(TEMP_PREFIX) or _is_fanout(n.name) for n in names)
    except OSError:  # a file, not a folder; unreadable
        return False


def _entries(root: Path, temps: bool = False) -> list[tuple[int, int, str]]:
    """(mtime in ns, size, path) of each entry in the fan-out folders (and of temporary files, with `temps`)."""
    found: list[tuple[int, int, str]] = []
    try:
        subs = [s.path for s in os.scandir(root) if _is_fanout(s.name) and s.is_dir(follow_symlinks=False)]
    except OSError:
        return found
    for sub in subs:
        try:
            with os.scandir(sub) as names:
                listed = [
                    n
                    for n in names
                    if (KEY.fullmatch(n.name) and n.name[:2] == os.path.basename(sub))
                    or (temps and n.name.startswith(TEMP_PREFIX))
                ]
        except OSError:
            continue
        for n in listed:
            try:
                st = n.stat(follow_symlinks=False)
            except OSError:  # evicted or replaced meanwhile
                continue
            found.append((st.st_mtime_ns, st.st_size, n.path))
    return found


def _read_stats(path: Path) -> tuple[int, int]:
    """The persisted hits and misses; (0, 0) when the file is missing or not what this module writes."""
    try:
        stats = json.loads(path.read_bytes())
        hits, misses = stats["hits"], stats["misses"]
    except (OSError, ValueError, TypeError, KeyError):
        return 0, 0
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (hits, misses)):
        return 0, 0
    return hits, misses
