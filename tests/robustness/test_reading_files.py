"""What a layout path may be, and the reader's limits (issue 15, items 11, 12 and 20).

A FIFO or a device as the layout is refused at once (it used to hang, even with
--read-timeout); a gzip-compressed GDSII or OASIS file is read, decompressed in the
reading child within its memory and time limits, as KLayout reads `.gds.gz`; the reader's
limits take any number a user can type: too large is no limit, not a number is refused
in one line.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import gdstk
import pytest

from pkgdrc.layout import read_layout

DECK = "name: t\nunits: um\nlayers:\n  RDL1: 11/0\nrules:\n  RDL1.W: {check: width, layer: RDL1, min: 2}\n"


def pkgdrc(tmp_path: Path, layout: Path | str, *args: str) -> subprocess.CompletedProcess:
    deck = tmp_path / "d.yaml"
    deck.write_text(DECK)
    return subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", str(layout), "--deck", str(deck), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def library() -> gdstk.Library:
    """A 1 um line (a width violation) and a 3 um one on RDL1, in a placed cell."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    line = lib.new_cell("LINE")
    line.add(gdstk.rectangle((0, 0), (1, 10), layer=11))
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((5, 0), (8, 10), layer=11), gdstk.Reference(line, (20, 0)))
    return lib


def violations(done: subprocess.CompletedProcess) -> list[tuple[str, list[float]]]:
    return [(r["id"], v["bbox"]) for r in json.loads(done.stdout)["rules"] for v in r["violations"]]


def test_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "layout.gds"
    os.mkfifo(fifo)
    done = pkgdrc(tmp_path, fifo, "--read-timeout", "5")  # no writer: opening it would block forever
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"pkgdrc: error: {fifo}: not a regular file (a FIFO), expected a GDSII or OASIS file\n"


def test_character_device_is_refused(tmp_path):
    done = pkgdrc(tmp_path, "/dev/zero")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "pkgdrc: error: /dev/zero: not a regular file (a character device), expected a GDSII or OASIS file\n"
    )


@pytest.mark.parametrize("suffix", [".gds.gz", ".oas.gz"])
def test_gzip_compressed_layout_is_read(tmp_path, suffix):
    plain = tmp_path / ("plain" + suffix.removesuffix(".gz"))
    library().write_oas(str(plain)) if suffix.startswith(".oas") else library().write_gds(str(plain))
    packed = tmp_path / ("packed" + suffix)
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    want, got = pkgdrc(tmp_path, plain, "--format", "json"), pkgdrc(tmp_path, packed, "--format", "json")
    assert (got.returncode, got.stderr) == (1, "")
    assert violations(got) == violations(want) == [("RDL1.W", [20.0, 0.0, 21.0, 10.0])]


def test_gzip_bomb_is_bounded_by_max_memory(tmp_path):
    """A GDS padded with 64 MB of zeros after ENDLIB compresses to 64 KB; --max-memory 16 (MB) bounds it."""
    plain = tmp_path / "plain.gds"
    library().write_gds(str(plain))
    packed = tmp_path / "bomb.gds.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes() + bytes(64 << 20)))
    done = pkgdrc(tmp_path, packed, "--max-memory", "16")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {packed}: gzip-compressed layout expands to more than 16,777,216 bytes "
        "(the reader's memory limit, --max-memory)\n"
    )


def test_truncated_gzip_is_refused(tmp_path):
    plain = tmp_path / "plain.gds"
    library().write_gds(str(plain))
    packed = tmp_path / "cut.gds.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes())[:-20])
    done = pkgdrc(tmp_path, packed)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {packed}: corrupt gzip-compressed layout: Compressed file ended before "
        "the end-of-stream marker was reached\n"
    )


def test_gzip_of_something_else_is_refused(tmp_path):
    packed = tmp_path / "notes.gds.gz"
    packed.write_bytes(gzip.compress(b"not a layout\n"))
    done = pkgdrc(tmp_path, packed)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"pkgdrc: error: {packed}: gzip-compressed, but not a GDSII or OASIS layout inside\n"


def test_max_memory_beyond_the_address_space_is_no_limit(tmp_path):
    """99999999999999 MB (about 1e20 bytes) raised OverflowError in setrlimit. Read with such a
    bound, the layout is read as with none; the command line refuses it as out of its range."""
    layout = tmp_path / "t.gds"
    library().write_gds(str(layout))
    read = read_layout(str(layout), {"RDL1": (11, 0)}, max_memory=99999999999999 * 2**20)
    assert len(read.polygons["RDL1"]) == len(read_layout(str(layout), {"RDL1": (11, 0)}).polygons["RDL1"]) > 0
    done = pkgdrc(tmp_path, layout, "--max-memory", "99999999999999")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--max-memory': 99999999999999 is not in the range 1<=x<=1099511627776."
    )


def test_read_timeout_of_1e10_seconds_is_no_limit(tmp_path):
    """signal.alarm takes a C int: 1e10 s used to crash the child ("gdstk crashed ... the file is corrupt")."""
    layout = tmp_path / "t.gds"
    library().write_gds(str(layout))
    done = pkgdrc(tmp_path, layout, "--read-timeout", "1e10", "--format", "json")
    assert (done.returncode, done.stderr) == (1, "")
    assert violations(done) == [("RDL1.W", [20.0, 0.0, 21.0, 10.0])]


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_read_timeout_that_is_not_a_finite_number(tmp_path, value):
    layout = tmp_path / "t.gds"
    library().write_gds(str(layout))
    done = pkgdrc(tmp_path, layout, "--read-timeout", value)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"pkgdrc: error: --read-timeout must be a finite number of seconds > 0, got {value}\n"
