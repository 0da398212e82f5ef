"""GDSII streams that break the record grammar are refused before gdstk reads them (issue 15, items 3, 4, 27).

gdstk reads such files into something and pkgdrc used to check that something: a BOUNDARY
before the first structure was dropped, a second structure with a name already used was
never checked, an XY record whose length swallowed the next ENDEL and BOUNDARY gave a
polygon with a bogus vertex. KLayout refuses each of these files (asserted here with
klayout.db); pkgdrc refuses them too, naming the byte offset or the cell (pkgdrc/gdsii.py).
Each file is written record by record here, so the bytes are exactly the case.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import gdstk
import klayout.db as kdb
import pytest

DECK = "name: t\nunits: um\nlayers:\n  RDL1: 11/0\nrules:\n  RDL1.W: {check: width, layer: RDL1, min: 2}\n"
TYPES = {
    "HEADER": (0x00, 2),
    "BGNLIB": (0x01, 2),
    "LIBNAME": (0x02, 6),
    "UNITS": (0x03, 5),
    "ENDLIB": (0x04, 0),
    "BGNSTR": (0x05, 2),
    "STRNAME": (0x06, 6),
    "ENDSTR": (0x07, 0),
    "BOUNDARY": (0x08, 0),
    "SREF": (0x0A, 0),
    "LAYER": (0x0D, 2),
    "DATATYPE": (0x0E, 2),
    "XY": (0x10, 3),
    "ENDEL": (0x11, 0),
    "SNAME": (0x12, 6),
}
XY_TYPE = bytes([0x10, 0x03])
UM_NM = bytes.fromhex("3E4189374BC6A7F0") + bytes.fromhex("3944B82FA09B5A54")  # UNITS: 1e-3 user, 1e-9 m


def rec(name: str, data: bytes = b"") -> bytes:
    rt, dt = TYPES[name]
    return struct.pack(">HBB", 4 + len(data), rt, dt) + data


def text(s: str) -> bytes:
    data = s.encode()
    return data + b"\0" * (len(data) % 2)


def xy(*points: tuple[int, int]) -> bytes:
    return rec("XY", b"".join(struct.pack(">ii", x, y) for x, y in points))


def boundary(x0: int, y0: int, x1: int, y1: int, layer: int = 11) -> bytes:
    ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return (
        rec("BOUNDARY") + rec("LAYER", struct.pack(">h", layer)) + rec("DATATYPE", b"\0\0") + xy(*ring) + rec("ENDEL")
    )


def structure(name: str, body: bytes) -> bytes:
    return rec("BGNSTR", bytes(24)) + rec("STRNAME", text(name)) + body + rec("ENDSTR")


def stream(body: bytes, header: bytes = b"") -> bytes:
    """A whole GDSII stream: library header (plus `header`), `body`, ENDLIB."""
    return (
        rec("HEADER", struct.pack(">h", 600))
        + rec("BGNLIB", bytes(24))
        + rec("LIBNAME", text("LIB"))
        + rec("UNITS", UM_NM)
        + header
        + body
        + rec("ENDLIB")
    )


def check(tmp_path: Path, data: bytes, *args: str) -> tuple[Path, subprocess.CompletedProcess]:
    layout = tmp_path / "t.gds"
    layout.write_bytes(data)
    deck = tmp_path / "d.yaml"
    deck.write_text(DECK)
    done = subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", str(layout), "--deck", str(deck), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return layout, done


def klayout_refuses(path: Path) -> str:
    with pytest.raises(RuntimeError) as e:
        kdb.Layout().read(str(path))
    return str(e.value)


def test_a_good_stream_is_read(tmp_path):
    """The same writer, without a fault: read, and the 1 um line is a width violation."""
    _, done = check(tmp_path, stream(structure("TOP", boundary(0, 0, 1000, 10000))), "--quiet")
    assert (done.returncode, done.stderr) == (1, "")


def test_boundary_before_the_first_structure(tmp_path):
    data = stream(structure("TOP", boundary(0, 0, 3000, 10000)), header=boundary(0, 0, 1000, 10000))
    layout, done = check(tmp_path, data)
    at = data.index(rec("BOUNDARY"))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: BOUNDARY record at byte {at}: outside a structure, before "
        "the first BGNSTR; expected a library header record (LIBNAME, UNITS, ...), BGNSTR or "
        "ENDLIB\n"
    )
    assert "Invalid record or data type" in klayout_refuses(layout)


@pytest.mark.parametrize("top", [None, "TOP"], ids=["no-top", "top-given"])
def test_two_structures_with_one_name(tmp_path, top):
    """The second TOP (with a 1 um line) was never checked: clean, even with --top TOP."""
    data = stream(structure("TOP", boundary(0, 0, 3000, 10000)) + structure("TOP", boundary(0, 0, 1000, 10000)))
    layout, done = check(tmp_path, data, *(["--top", top] if top else []))
    first, second = (i for i in range(len(data)) if data.startswith(rec("STRNAME", text("TOP")), i))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: two structures named 'TOP' (STRNAME at bytes {first} and "
        f"{second}); a cell name must be unique\n"
    )
    assert "A cell with name TOP already exists" in klayout_refuses(layout)


def test_xy_record_that_swallows_the_next_endel_and_boundary(tmp_path):
    """The XY length grows by 8: ENDEL and BOUNDARY become two more 'points' of the first polygon."""
    two = boundary(0, 0, 3000, 10000) + boundary(5000, 0, 8000, 10000)
    at = two.index(XY_TYPE) - 2  # the first XY record
    size = struct.unpack(">H", two[at : at + 2])[0]
    bad = two[:at] + struct.pack(">H", size + 8) + two[at + 2 :]
    data = stream(structure("TOP", bad))
    layout, done = check(tmp_path, data)
    base = data.index(bad)
    layer = base + at + size + 8  # the second element's LAYER record, now right after the long XY
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: LAYER record at byte {layer}: out of place in the BOUNDARY "
        f"element at byte {base}; expected BOUNDARY [ELFLAGS | PLEX...] LAYER DATATYPE XY... "
        "[PROPATTR | PROPVALUE...] ENDEL\n"
    )
    assert "ENDEL, PROPATTR or PROPVALUE record expected" in klayout_refuses(layout)
    # gdstk alone reads this file and returns a polygon with the bogus vertices
    assert len(gdstk.read_gds(str(layout)).cells[0].polygons[0].points) > 5


def test_element_without_endel(tmp_path):
    body = boundary(0, 0, 3000, 10000)[:-4] + boundary(5000, 0, 8000, 10000)
    data = stream(structure("TOP", body))
    layout, done = check(tmp_path, data)
    first = data.index(rec("BOUNDARY"))
    second = data.index(rec("BOUNDARY"), first + 4)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: BOUNDARY record at byte {first}: the element has no ENDEL "
        f"(the BOUNDARY at byte {second} comes first)\n"
    )


def test_boundary_without_datatype(tmp_path):
    body = boundary(0, 0, 3000, 10000).replace(rec("DATATYPE", b"\0\0"), b"")
    data = stream(structure("TOP", body))
    layout, done = check(tmp_path, data)
    at, points = data.index(rec("BOUNDARY")), data.index(XY_TYPE) - 2
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: BOUNDARY record at byte {at}: the element has no DATATYPE "
        f"record before the XY at byte {points}; expected BOUNDARY [ELFLAGS | PLEX...] LAYER "
        "DATATYPE XY... [PROPATTR | PROPVALUE...] ENDEL\n"
    )


def test_sref_with_two_points(tmp_path):
    sref = rec("SREF") + rec("SNAME", text("PAD")) + xy((0, 0), (100, 100)) + rec("ENDEL")
    data = stream(structure("PAD", boundary(0, 0, 3000, 3000)) + structure("TOP", sref))
    layout, done = check(tmp_path, data)
    at = data.index(xy((0, 0), (100, 100)))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: XY record at byte {at}: 2 points in the XY record of a SREF; expected 1\n"
    )


def test_xy_with_a_partial_point(tmp_path):
    body = boundary(0, 0, 3000, 10000)
    at = body.index(XY_TYPE) - 2
    size = struct.unpack(">H", body[at : at + 2])[0]
    body = body[:at] + struct.pack(">H", size + 4) + body[at + 2 : at + size] + b"\0\0\0\0" + body[at + size :]
    data = stream(structure("TOP", body))
    layout, done = check(tmp_path, data)
    xy_at = data.index(body[at : at + 4])
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: XY record at byte {xy_at}: 44 bytes of coordinates, not a "
        "whole number of points (8 bytes each)\n"
    )


def test_element_between_structures(tmp_path):
    data = stream(structure("TOP", boundary(0, 0, 3000, 10000)) + boundary(0, 0, 1000, 10000))
    layout, done = check(tmp_path, data)
    at = data.rindex(rec("BOUNDARY"))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: BOUNDARY record at byte {at}: outside a structure (after an "
        "ENDSTR, before the next BGNSTR or ENDLIB)\n"
    )


def test_record_that_runs_past_the_end(tmp_path):
    data = stream(structure("TOP", boundary(0, 0, 3000, 10000)))
    at = data.index(XY_TYPE) - 2
    data = data[:at] + b"\xff\xf4" + data[at + 2 :]  # XY claims 65524 bytes
    layout, done = check(tmp_path, data)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: XY record at byte {at} is 65524 bytes long and runs past "
        f"the end of the file ({len(data)} bytes)\n"
    )


def test_odd_length_records_are_read_as_klayout_reads_them(tmp_path):
    """A STRNAME of odd length (no padding): KLayout warns and reads it; the records after it start at odd offsets."""
    odd = rec("BGNSTR", bytes(24)) + rec("STRNAME", b"TOP") + boundary(0, 0, 1000, 10000) + rec("ENDSTR")
    layout, done = check(tmp_path, stream(odd), "--quiet")
    assert (done.returncode, done.stderr) == (1, "")
    ly = kdb.Layout()
    ly.read(str(layout))
    assert [c.name for c in ly.top_cells()] == ["TOP"]


def test_klayout_context_info_cell_is_ignored(tmp_path):
    """KLayout writes $$$CONTEXT_INFO$$$ (here: for a library cell, which it places too); not a second top cell."""
    library = kdb.Library()
    pads = library.layout()
    pads.dbu = 0.001
    pads.create_cell("PAD").shapes(pads.layer(11, 0)).insert(kdb.Box(0, 0, 3000, 3000))
    library.register("PKGDRC_TEST_PADS")
    ly = kdb.Layout()
    ly.dbu = 0.001
    top = ly.create_cell("TOP")
    top.shapes(ly.layer(11, 0)).insert(kdb.Box(0, 0, 1000, 10000))
    top.insert(
        kdb.CellInstArray(ly.create_cell("PAD", "PKGDRC_TEST_PADS").cell_index(), kdb.Trans(kdb.Point(50000, 0)))
    )
    layout = tmp_path / "t.gds"
    ly.write(str(layout))
    assert sorted(c.name for c in gdstk.read_gds(str(layout)).top_level()) == ["$$$CONTEXT_INFO$$$", "TOP"]
    layout, done = check(tmp_path, layout.read_bytes(), "--format", "json")
    assert (done.returncode, done.stderr) == (1, "")
    report = json.loads(done.stdout)
    assert (report["top"], report["summary"]["shapes"]) == ("TOP", 2)  # the line and the placed PAD
    assert [(r["id"], v["bbox"]) for r in report["rules"] for v in r["violations"]] == [("RDL1.W", [0, 0, 1, 10])]


def test_structure_without_endstr(tmp_path):
    data = stream(rec("BGNSTR", bytes(24)) + rec("STRNAME", text("TOP")) + boundary(0, 0, 3000, 10000))
    layout, done = check(tmp_path, data)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: ENDLIB record at byte {len(data) - 4}: inside a structure that has no ENDSTR\n"
    )


def test_last_element_without_endel(tmp_path):
    """KLayout warns and assumes the ENDEL; pkgdrc refuses: the record that was lost may be anything."""
    data = stream(structure("TOP", boundary(0, 0, 3000, 10000)[:-4]))
    layout, done = check(tmp_path, data)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {layout}: BOUNDARY record at byte {data.index(rec('BOUNDARY'))}: the "
        f"element has no ENDEL (the ENDSTR at byte {len(data) - 8} comes first)\n"
    )
