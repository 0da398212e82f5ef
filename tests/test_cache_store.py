"""The cache folder (pkgdrc.cache.store, issue 18): entries, faults, concurrency, the size bound, statistics."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import struct
from pathlib import Path

import pytest

from pkgdrc.cache import store as store_module
from pkgdrc.cache.store import DEFAULT_MAX_BYTES, CacheInfo, Store
from pkgdrc.errors import PkgdrcError

KEY = "0123456789abcdef" * 2
OTHER = "fedcba9876543210" * 2


def _entry(root: Path, key: str) -> Path:
    return root / key[:2] / key


def _key(i: int) -> str:
    return hashlib.blake2b(str(i).encode(), digest_size=16).hexdigest()


def test_round_trip_and_the_folder_it_makes(tmp_path):
    root = tmp_path / "cache"
    s = Store(root)
    assert s.get(KEY) is None
    s.put(KEY, b"markers \x00\xff")
    s.put(OTHER, b"")
    assert s.get(KEY) == b"markers \x00\xff"
    assert s.get(OTHER) == b""
    assert (s.hits, s.misses) == (2, 1)
    assert _entry(root, KEY).is_file()
    assert (root / "CACHEDIR.TAG").read_bytes().startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    assert (root / ".gitignore").read_text().splitlines()[-1] == "*"
    assert not [p for p in root.rglob(".tmp-*")]
    assert s.warnings == []
    assert DEFAULT_MAX_BYTES == 2 * 2**30


def _truncated_in_header(blob: bytes) -> bytes:
    return blob[:10]


def _truncated_in_payload(blob: bytes) -> bytes:
    return blob[:-1]


def _flipped_in_payload(blob: bytes) -> bytes:
    return blob[:-3] + bytes([blob[-3] ^ 0x10]) + blob[-2:]


def _flipped_in_digest(blob: bytes) -> bytes:
    at = len(blob) - len(b"payload of the entry") - 5
    return blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1 :]


def _zero_length(blob: bytes) -> bytes:
    return b""


def _other_format(blob: bytes) -> bytes:
    return blob[:8] + struct.pack("<H", store_module.FORMAT + 1) + blob[10:]


def _appended(blob: bytes) -> bytes:
    return blob + b"x"


@pytest.mark.parametrize(
    "damage",
    [
        _truncated_in_header,
        _truncated_in_payload,
        _flipped_in_payload,
        _flipped_in_digest,
        _zero_length,
        _other_format,
        _appended,
    ],
)
def test_a_damaged_entry_is_a_miss_and_the_next_put_replaces_it(tmp_path, damage):
    s = Store(tmp_path)
    s.put(KEY, b"payload of the entry")
    path = _entry(tmp_path, KEY)
    path.write_bytes(damage(path.read_bytes()))
    assert s.get(KEY) is None
    assert (s.hits, s.misses) == (0, 1)
    s.put(KEY, b"fresh payload")
    assert s.get(KEY) == b"fresh payload"


def test_an_entry_of_another_pkgdrc_version_is_a_miss(tmp_path, monkeypatch):
    """Written whole and valid by pkgdrc 0.0.9 (same format): not read by this version."""
    monkeypatch.setattr(store_module, "VERSION", b"0.0.9")
    Store(tmp_path).put(KEY, b"old markers")
    assert Store(tmp_path).get(KEY) == b"old markers"  # readable by 0.0.9 itself
    monkeypatch.undo()
    s = Store(tmp_path)
    assert s.get(KEY) is None
    s.put(KEY, b"new markers")
    assert s.get(KEY) == b"new markers"


def test_an_entry_moved_under_another_key_is_a_miss(tmp_path):
    s = Store(tmp_path)
    s.put(KEY, b"markers of KEY")
    moved = _entry(tmp_path, OTHER)
    moved.parent.mkdir()
    os.replace(_entry(tmp_path, KEY), moved)
    assert s.get(OTHER) is None


@pytest.mark.parametrize("key", ["0123456789abcde", "0123456789ABCDEF", "0123456789abcdeg", "a" * 129, "../" + KEY, 7])
def test_a_bad_key_is_a_value_error(tmp_path, key):
    s = Store(tmp_path / "cache")
    with pytest.raises(ValueError, match="16 to 128 lowercase hex digits"):
        s.get(key)
    with pytest.raises(ValueError, match="16 to 128 lowercase hex digits"):
        s.put(key, b"x")
    assert not (tmp_path / "cache").exists()


def _payload(key: str, n: int) -> bytes:
    """A payload that says which key and version it is, and that a reader can check whole."""
    body = hashlib.blake2b(f"{key}:{n}".encode()).digest() * (n * 97 % 1500)
    return f"{key}:{n}:".encode() + body


def _hammer(root: str, worker: int, rounds: int, keys: list[str], max_bytes: int, out) -> None:
    s = Store(root, max_bytes=max_bytes)
    wrong = gets = 0
    for r in range(rounds):
        key = keys[(r // 3 + worker) % len(keys)]  # put a key, then get it twice (others put it meanwhile)
        if r % 3 == 0:
            s.put(key, _payload(key, r * 10 + worker))
        else:
            got = s.get(key)
            gets += 1
            if got is not None:
                k, n, _ = got.split(b":", 2)
                wrong += k.decode() != key or got != _payload(key, int(n))
        if r % 50 == 49:
            s.flush_stats()
    s.flush_stats()
    out.put((wrong, gets, s.warnings))


def test_processes_hammering_the_same_keys_never_read_a_wrong_payload(tmp_path):
    """4 processes put and get 6 keys at once, with eviction going on (the bound holds ~4 payloads)."""
    ctx = multiprocessing.get_context("fork")
    keys = [_key(i) for i in range(6)]
    out = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path), w, 300, keys, 200_000, out)) for w in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert [wrong for wrong, _, _ in results] == [0, 0, 0, 0]
    assert [warnings for _, _, warnings in results] == [[], [], [], []]
    info = Store(tmp_path).info()
    assert info.hits + info.misses == sum(gets for _, gets, _ in results)  # no lost update of the statistics
    assert info.hits > 0
    assert info.bytes <= 200_000
    for key in keys:  # whatever is left is whole
        got = Store(tmp_path).get(key)
        assert got is None or got == _payload(key, int(got.split(b":")[1]))
    assert not list(tmp_path.rglob(".tmp-*"))


def test_two_processes_putting_one_key_both_succeed_and_leave_one_valid_entry(tmp_path):
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_put_many, args=(str(tmp_path), w, out)) for w in range(2)]
    for p in procs:
        p.start()
    assert sorted(out.get(timeout=60) for _ in procs) == [[], []]
    for p in procs:
        p.join(timeout=60)
    assert Store(tmp_path).get(KEY) in (_payload(KEY, 0), _payload(KEY, 1))
    assert os.listdir(tmp_path / KEY[:2]) == [KEY]


def _put_many(root: str, worker: int, out) -> None:
    s = Store(root)
    for _ in range(200):
        s.put(KEY, _payload(KEY, worker))
    out.put(s.warnings)


def _size(payload: bytes) -> int:
    return len(store_module._encode(KEY, payload))


def test_eviction_keeps_the_bound_and_evicts_the_least_recently_used(tmp_path):
    payload = b"m" * 1000
    one = _size(payload)
    s = Store(tmp_path, max_bytes=int(3.5 * one))
    a, b, c, d, e = (_key(i) for i in range(5))
    for k in (a, b, c):
        s.put(k, payload)
    assert s.get(a) == payload  # a is now used more recently than b and c
    s.put(d, payload)  # 4 entries > 3.5: down to 90% of the bound, so b (the least recently used) goes
    assert s.info().entries == 3 and s.info().bytes <= s.max_bytes
    assert not _entry(tmp_path, b).exists()
    assert {k for k in (a, c, d) if _entry(tmp_path, k).exists()} == {a, c, d}
    s.put(e, payload)  # then c
    assert [k for k in (a, b, c, d, e) if _entry(tmp_path, k).exists()] == [a, d, e]
    assert s.info().bytes <= s.max_bytes


def test_the_bound_holds_for_what_another_run_wrote(tmp_path):
    payload = b"m" * 1000
    first, second = Store(tmp_path, max_bytes=3 * _size(payload)), Store(tmp_path, max_bytes=3 * _size(payload))
    first.put(_key(0), payload)
    second.put(_key(1), payload)  # second scans: 2 entries
    first.put(_key(2), payload)
    first.put(_key(3), payload)  # first counts 3 of its own + 1 scanned = 4... over: evicts
    second.put(_key(4), payload)  # second thinks 2 + 1 = 3, within its count; the folder has more
    second.flush_stats()  # scans again, evicts down to the bound
    assert Store(tmp_path).info().bytes <= 3 * _size(payload)


def test_a_payload_larger_than_the_bound_is_not_stored(tmp_path):
    s = Store(tmp_path, max_bytes=100)
    s.put(KEY, b"x" * 200)
    assert s.get(KEY) is None
    assert s.info().entries == 0


def test_statistics_persist_across_stores(tmp_path):
    s = Store(tmp_path)
    s.put(KEY, b"x")
    s.get(KEY)
    s.get(KEY)
    s.get(OTHER)
    assert s.info() == CacheInfo(tmp_path, 1, _size(b"x"), DEFAULT_MAX_BYTES, 2, 1)  # unflushed ones count
    s.flush_stats()
    assert (s.hits, s.misses) == (0, 0)
    t = Store(tmp_path, max_bytes=10**6)
    t.get(OTHER)
    t.flush_stats()
    info = Store(tmp_path).info()
    assert (info.entries, info.hits, info.misses) == (1, 2, 2)
    assert info.hit_rate == 0.5
    assert Store(tmp_path / "new").info().hit_rate == 0.0


def test_a_corrupt_statistics_file_counts_from_zero(tmp_path):
    s = Store(tmp_path)
    s.get(KEY)
    (tmp_path / "stats.json").write_text('{"hits": -4, "misses": "x"}')
    s.flush_stats()
    assert (Store(tmp_path).info().hits, Store(tmp_path).info().misses) == (0, 1)


def _assert_off(s: Store, warning: str) -> None:
    assert s.prepare() is False
    assert s.warnings == [warning]
    assert s.get(KEY) is None
    s.put(KEY, b"x")
    s.flush_stats()
    assert s.warnings == [warning] and (s.hits, s.misses) == (0, 0)


def test_a_cache_path_under_a_file_is_a_warning_and_the_store_turns_off(tmp_path):
    (tmp_path / "file").write_text("")
    s = Store(tmp_path / "file" / "cache")
    _assert_off(s, f"cache {tmp_path / 'file' / 'cache'} not writable: Not a directory; running without cache")


def test_a_cache_path_that_is_a_file_is_a_warning(tmp_path):
    (tmp_path / "cache").write_text("mine")
    _assert_off(
        Store(tmp_path / "cache"),
        f"cache {tmp_path / 'cache'} not writable: it is a file, not a folder; running without cache",
    )
    assert (tmp_path / "cache").read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_folder_is_a_warning(tmp_path):
    root = tmp_path / "cache"
    Store(root).put(KEY, b"x")
    root.chmod(0o555)
    try:
        _assert_off(Store(root), f"cache {root} not writable: Permission denied; running without cache")
    finally:
        root.chmod(0o755)


def test_a_folder_of_someone_elses_files_is_never_written_into_or_cleared(tmp_path):
    """`--cache .` by mistake: no CACHEDIR.TAG, no `.gitignore` of `*` dropped into a project."""
    (tmp_path / "layout.gds").write_bytes(b"GDS")
    (tmp_path / "ab").mkdir()
    (tmp_path / "ab" / KEY).write_bytes(b"not an entry")
    s = Store(tmp_path)
    assert s.prepare() is False
    assert "no CACHEDIR.TAG, so it is not a pkgdrc cache" in s.warnings[0]
    s.put(KEY, b"x")
    with pytest.raises(PkgdrcError, match="not a pkgdrc cache"):
        s.clear()
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["layout.gds", "ab", KEY])


def test_a_write_failing_mid_run_turns_the_store_off_with_a_warning(tmp_path):
    s = Store(tmp_path)
    s.put(KEY, b"x")
    (tmp_path / OTHER[:2]).write_text("in the way")  # the entry's folder cannot be made
    s.put(OTHER, b"y")
    assert s.warnings == [f"cache {tmp_path} not writable: File exists; running without cache from here on"]
    assert s.get(KEY) is None


def test_clear_deletes_entries_and_statistics_and_keeps_the_tagged_folder(tmp_path):
    s = Store(tmp_path)
    for i in range(5):
        s.put(_key(i), b"x" * i)
    s.get(_key(1))
    s.flush_stats()
    Store(tmp_path).clear()
    info = Store(tmp_path).info()
    assert (info.entries, info.bytes, info.hits, info.misses) == (0, 0, 0, 0)
    assert sorted(os.listdir(tmp_path)) == [".gitignore", ".lock", "CACHEDIR.TAG"]
    Store(tmp_path / "never-made").clear()
    assert not (tmp_path / "never-made").exists()


def test_a_run_goes_on_writing_after_another_process_cleared_the_cache(tmp_path):
    running = Store(tmp_path)
    running.put(KEY, b"x")
    Store(tmp_path).clear()  # `pkgdrc cache clear` meanwhile: the fan-out folder is gone
    running.put(KEY, b"y")
    assert running.warnings == []
    assert Store(tmp_path).get(KEY) == b"y"
