"""Bad layout files: each one is refused with one line naming the file and the problem.

A layout pkgdrc cannot read completely must never come out "clean": the magic bytes and
the end of the stream are checked before gdstk reads it, gdstk reads it in a child
process (its native crashes become errors), and the hierarchy is checked before it is
flattened (pkgdrc/layout.py, pkgdrc/safe_read.py).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import gdstk
import numpy as np
import pytest

from cli_run import pkgdrc
from pkgdrc.errors import PkgdrcError
from pkgdrc.layout import read_layout

DATA = Path(__file__).parent / "data"
LAYERS = {"RDL1": (11, 0)}


def refused(path, *args, **kw) -> str:
    """The PkgdrcError message of reading `path`, checked to name the file first."""
    with pytest.raises(PkgdrcError) as e:
        read_layout(path, *args or (LAYERS,), **kw)
    assert str(e.value).startswith(f"{path}: ") and "\n" not in str(e.value)
    return str(e.value).removeprefix(f"{path}: ")


def library(tmp_path, name="t.gds", build=None, oasis=False) -> Path:
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((0, 0), (10, 2), layer=11))
    if build:
        build(lib, top)
    path = tmp_path / name
    lib.write_oas(str(path)) if oasis else lib.write_gds(str(path))
    return path


def test_empty_file(tmp_path):
    (tmp_path / "e.gds").write_bytes(b"")
    assert refused(tmp_path / "e.gds") == "empty file, expected a GDSII or OASIS layout"


@pytest.mark.parametrize("oasis", [False, True], ids=["gds", "oasis"])
def test_truncated_at_every_byte(tmp_path, oasis):
    data = library(tmp_path, oasis=oasis).read_bytes()
    cut = tmp_path / ("cut.oas" if oasis else "cut.gds")
    expected = set()
    for n in range(1, len(data) - (0 if oasis else 1)):  # a GDS cut in ENDLIB's last (zero) byte is whole
        cut.write_bytes(data[:n])
        with pytest.raises(PkgdrcError) as e:
            read_layout(cut, LAYERS)
        expected.add(str(e.value).removeprefix(f"{cut}: "))
    assert expected <= {
        "not a GDSII or OASIS file (unknown header bytes)",
        "truncated GDSII file: it does not end with an ENDLIB record",
        "truncated OASIS file: it does not end with an END record",
    }


def test_random_bytes(tmp_path):
    path = tmp_path / "r.gds"
    path.write_bytes(np.random.default_rng(8).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    assert refused(path) == "not a GDSII or OASIS file (unknown header bytes)"


def test_random_bytes_after_a_gds_header_and_before_endlib(tmp_path):
    path = tmp_path / "r.gds"
    noise = np.random.default_rng(8).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    path.write_bytes(b"\x00\x06\x00\x02\x02\x58" + noise + b"\x00\x04\x04\x00")
    assert refused(path) == "record at byte 6 has an unknown record type (0x34)"  # pkgdrc.gdsii, before gdstk


def test_gds_record_with_a_wrong_length(tmp_path):
    data = bytearray(library(tmp_path).read_bytes())
    data[6:8] = b"\x00\x03"  # BGNLIB (28 bytes) now claims 3: shorter than a record header
    path = tmp_path / "len.gds"
    path.write_bytes(bytes(data))
    assert refused(path) == "record at byte 6 has length 3, shorter than its 4-byte header"


def test_oasis_named_gds_is_read_as_oasis(tmp_path):
    path = library(tmp_path, name="really-oasis.gds", oasis=True)
    layout = read_layout(path, LAYERS)
    assert [p.bounds for p in layout.polygons["RDL1"]] == [(0.0, 0.0, 10000.0, 2000.0)]


def test_missing_file(tmp_path):
    assert refused(tmp_path / "nope.gds") == "layout file not found"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    path = library(tmp_path)
    path.chmod(0)
    assert refused(path) == "cannot read layout: Permission denied"


def test_directory(tmp_path):
    assert refused(tmp_path) == "is a directory, expected a GDSII or OASIS file"


def test_no_cells(tmp_path):
    path = tmp_path / "none.gds"
    gdstk.Library().write_gds(str(path))
    assert refused(path) == "layout has no cells"


def test_top_cell_not_there(tmp_path):
    assert refused(library(tmp_path), LAYERS, top="PKG") == "top cell 'PKG' not found; cells: TOP"


def test_reference_cycle(tmp_path):
    def build(lib, top):
        a, b = lib.new_cell("A"), lib.new_cell("B")
        a.add(gdstk.Reference(b)), b.add(gdstk.Reference(a))
        top.add(gdstk.Reference(a))

    assert refused(library(tmp_path, build=build)) == "reference cycle: A -> B -> A"


def test_self_reference(tmp_path):
    assert (
        refused(library(tmp_path, build=lambda lib, top: top.add(gdstk.Reference(top))))
        == "reference cycle: TOP -> TOP"
    )


@pytest.mark.parametrize("oasis", [False, True], ids=["gds", "oasis"])
def test_reference_to_a_missing_cell(tmp_path, oasis):
    path = library(tmp_path, build=lambda lib, top: top.add(gdstk.Reference("GONE", (5, 5))), oasis=oasis)
    assert refused(path) == "cell TOP refers to cell 'GONE', which is not in the file"


def test_magnification_zero(tmp_path):
    def build(lib, top):
        via = lib.new_cell("VIA")
        via.add(gdstk.rectangle((0, 0), (1, 1), layer=11))
        top.add(gdstk.Reference(via, (3, 3), magnification=0))

    assert (
        refused(library(tmp_path, build=build))
        == "cell TOP: reference to VIA has magnification 0; expected a positive number"
    )


@pytest.mark.parametrize("angle", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_rotation_not_a_number(tmp_path, angle):
    """OASIS stores angles as IEEE doubles: a NaN or infinite rotation is refused, not a crash."""

    def build(lib, top):
        via = lib.new_cell("VIA")
        via.add(gdstk.rectangle((0, 0), (1, 1), layer=11))
        top.add(gdstk.Reference(via, (3, 3), rotation=angle))

    assert (
        refused(library(tmp_path, build=build, oasis=True))
        == f"cell TOP: reference to VIA has rotation {angle:g}; expected a finite angle"
    )


def test_billion_element_array_is_refused_before_flattening(tmp_path):
    """The count comes from the array's size: nothing is expanded (were it, the read would
    stop at --read-timeout, and the message would say so)."""

    def build(lib, top):
        via = lib.new_cell("VIA")
        via.add(gdstk.rectangle((0, 0), (1, 1), layer=11))
        top.add(gdstk.Reference(via, (0, 0), columns=32_767, rows=32_767, spacing=(2, 2)))  # GDS's largest

    path = library(tmp_path, build=build)
    assert refused(path, LAYERS, read_timeout=120) == (
        "flattening TOP would make 2,147,352,579 shapes and placements (limit 20,000,000, "
        "--max-shapes); its largest array is 1,073,676,289 copies of VIA in TOP"
    )


def test_nested_arrays_multiply(tmp_path):
    """1000 x 1000 placements of a cell holding a 100-copy array: counted, never expanded."""

    def build(lib, top):
        via, row = lib.new_cell("VIA"), lib.new_cell("ROW")
        via.add(gdstk.rectangle((0, 0), (1, 1), layer=11))
        row.add(gdstk.Reference(via, (0, 0), columns=100, rows=1, spacing=(2, 2)))
        top.add(gdstk.Reference(row, (0, 0), columns=1000, rows=1000, spacing=(300, 3)))

    assert refused(library(tmp_path, build=build), LAYERS, max_shapes=10**8) == (
        "flattening TOP would make 201,000,001 shapes and placements (limit 100,000,000, --max-shapes); "
        "its largest array is 1,000,000 copies of ROW in TOP"
    )


def test_max_shapes_counts_only_what_would_be_flattened(tmp_path):
    def build(lib, top):
        via = lib.new_cell("VIA")
        via.add(gdstk.rectangle((0, 0), (1, 1), layer=11), gdstk.rectangle((0, 0), (1, 1), layer=99))
        top.add(gdstk.Reference(via, (0, 0), columns=10, rows=1, spacing=(2, 2)))

    path = library(tmp_path, build=build)
    assert len(read_layout(path, LAYERS, max_shapes=21).polygons["RDL1"]) == 11  # 1 + 10 shapes, 10 placements
    assert refused(path, LAYERS, max_shapes=20).startswith("flattening TOP would make 21 shapes and placements")


@pytest.mark.parametrize("name", ["gdstk-segfault-1.oas", "gdstk-segfault-2.oas"])
def test_gdstk_segfault_is_exit_2_not_a_dead_run(name):
    """Found by tests/fuzz: gdstk 1.0.2 dies with SIGSEGV reading these (mutated seeds)."""
    assert refused(DATA / name) == "the OASIS reader (gdstk) crashed on this file (signal SIGSEGV); the file is corrupt"


def test_gds_that_crashed_gdstk_is_refused_before_gdstk_reads_it():
    """Found by tests/fuzz: gdstk 1.0.2 died with SIGSEGV; the record grammar check (pkgdrc.gdsii) refuses it first."""
    assert refused(DATA / "gdstk-segfault-3.gds") == "ENDEL record at byte 118 has data type 3, expected 0"


def test_non_utf8_cell_name():
    """Found by tests/fuzz: gdstk raised TypeError reading a cell name byte 0x80."""
    path = DATA / "cellname-not-utf8.gds"
    assert refused(path) == "a cell name is not valid UTF-8 text; the file is corrupt"


def test_oasis_crc_mismatch(tmp_path):
    lib = gdstk.Library()
    lib.new_cell("TOP").add(gdstk.rectangle((0, 0), (10, 2), layer=11))
    path = tmp_path / "crc.oas"
    lib.write_oas(str(path), validation="crc32")
    data = bytearray(path.read_bytes())
    data[20] ^= 0x40
    path.write_bytes(bytes(data))
    assert refused(path).startswith("corrupt OASIS file: CRC32 is 0x")


def test_max_memory_caps_the_reader(tmp_path):
    def build(lib, top):
        top.add(*[gdstk.rectangle((i, 0), (i + 0.5, 1), layer=11) for i in range(50_000)])

    path = library(tmp_path, build=build)
    message = refused(path, LAYERS, max_memory=2**20)
    # Python raises MemoryError; gdstk's C++ does not check its allocations and dies
    assert re.fullmatch(
        r"reading the layout needs more than --max-memory \(1,048,576 bytes\)|the GDS reader "
        r"\(gdstk\) crashed on this file \(signal SIG(SEGV|ABRT)\) or ran out of --max-memory; "
        r"the file is corrupt",
        message,
    ), message
    assert len(read_layout(path, LAYERS, max_memory=2**30).polygons["RDL1"]) == 50_001


def test_cli_exit_2_and_one_line(tmp_path):
    path = DATA / "gdstk-segfault-1.oas"
    p = pkgdrc("check", path, "--quiet")
    assert p.returncode == 2
    assert (
        p.stderr == f"pkgdrc: error: {path}: the OASIS reader (gdstk) crashed on this file (signal SIGSEGV); "
        "the file is corrupt\n"
    )


def test_zero_database_unit(tmp_path):
    """Found by tests/fuzz: a UNITS record of zeros raised ZeroDivisionError."""
    # the fuzzer's file also zeroed UNITS's record type: the record grammar check refuses it now
    assert refused(DATA / "zero-database-unit.gds") == "HEADER record at byte 46 has data type 5, expected 2"
    data = bytearray(library(tmp_path).read_bytes())
    units = data.index(b"\x00\x14\x03\x05")
    data[units + 4 : units + 20] = bytes(16)
    path = tmp_path / "zero-units.gds"
    path.write_bytes(bytes(data))
    assert refused(path) == (
        "unusable library units: database unit 0 m, user unit nan m (expected a database unit from 1e-12 to 1e-3 m)"
    )


def test_a_reader_that_never_returns_is_stopped_by_read_timeout(tmp_path, monkeypatch):
    import pkgdrc.safe_read

    path = library(tmp_path)
    monkeypatch.setattr(pkgdrc.safe_read, "read_tree", lambda *args: time.sleep(60))  # the forked child inherits it
    assert refused(path, LAYERS, read_timeout=1) == "reading the layout took longer than --read-timeout (1 s)"
