"""Units (layout grid against the deck) and report outputs (checked before the run, written atomically)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gdstk
import pytest

import pkgdrc
from pkgdrc.errors import PkgdrcError
from pkgdrc.report.files import write_atomic

DECK = "name: t\nunits: um\n{extra}layers:\n  A: 1/0\nrules:\n  A.W: {{check: width, layer: A, min: {min}}}\n"


def layout(tmp_path, precision=1e-9, name="t.gds") -> Path:
    lib = gdstk.Library(unit=1e-6, precision=precision)
    lib.new_cell("TOP").add(gdstk.rectangle((0, 0), (10, 2), layer=1))
    path = tmp_path / name
    lib.write_gds(str(path))
    return path


def deck(tmp_path, min_um=2.5, extra="") -> Path:
    path = tmp_path / "d.yaml"
    path.write_text(DECK.format(extra=extra, min=min_um))
    return path


def test_layout_dbu_differs_from_the_deck(tmp_path):
    path = layout(tmp_path, precision=1e-8)  # a 10 nm grid
    with pytest.raises(PkgdrcError) as e:
        pkgdrc.check(path, deck(tmp_path, extra="dbu: 0.001\n"))
    assert str(e.value) == f"{path}: the layout's database unit is 0.01 um, but deck t is written for dbu: 0.001 um"


def test_layout_dbu_as_the_deck_says(tmp_path):
    report = pkgdrc.check(layout(tmp_path), deck(tmp_path, extra="dbu: 0.001\n"))
    assert [(m.bbox, m.value) for m in report.rules[0].markers] == [((0.0, 0.0, 10.0, 2.0), 2.0)]


def test_deck_dbu_must_be_a_positive_number(tmp_path):
    with pytest.raises(PkgdrcError) as e:
        pkgdrc.check(layout(tmp_path), deck(tmp_path, extra="dbu: 0\n"))
    assert str(e.value).endswith("d.yaml:3: dbu must be the database unit in um (a number > 0, e.g. 0.001), got 0")


def test_distance_smaller_than_the_grid_warns(tmp_path):
    report = pkgdrc.check(layout(tmp_path, precision=1e-8), deck(tmp_path, min_um=0.004))
    assert report.warnings == [
        "A.W: min 0.004 um is smaller than the layout grid (0.01 um); the rule cannot be "
        "checked exactly (only touching shapes, at distance 0, can fail it)"
    ]
    assert report.violations == 0


def test_distance_off_the_grid_warns(tmp_path):
    report = pkgdrc.check(layout(tmp_path, precision=1e-8), deck(tmp_path, min_um=2.005))
    assert report.warnings == [
        "A.W: min 2.005 um is not a multiple of the layout grid (0.01 um); it is compared exactly, off the grid"
    ]
    assert [m.value for m in report.rules[0].markers] == [2.0]


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_report_in_a_missing_folder_fails_before_the_layout_is_read(tmp_path):
    missing = tmp_path / "no" / "r.json"
    p = _cli(tmp_path / "not-even-there.gds", "--json", missing)  # the layout error would come later
    assert p.returncode == 2
    assert p.stderr == f"pkgdrc: error: {missing}: cannot write report: folder {missing.parent} does not exist\n"


def test_report_path_that_is_a_directory(tmp_path):
    p = _cli(layout(tmp_path), "--json", tmp_path)
    assert (p.returncode, p.stderr) == (2, f"pkgdrc: error: {tmp_path}: cannot write report: path is a directory\n")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_report_in_a_folder_that_is_not_writable(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    p = _cli(layout(tmp_path), "--json", ro / "r.json")
    assert (p.returncode, p.stderr) == (
        2,
        f"pkgdrc: error: {ro / 'r.json'}: cannot write report: folder {ro} is not writable\n",
    )


def test_an_interrupted_write_leaves_the_old_report_and_no_temporary(tmp_path, monkeypatch):
    report = tmp_path / "r.json"
    report.write_text('{"old": true}')

    class Killed(BaseException):
        pass

    real_fdopen = os.fdopen

    class DiesMidway:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, text):
            self.f.write(text[:10])
            self.f.flush()
            raise Killed

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: DiesMidway(real_fdopen(fd, *a, **k)))
    with pytest.raises(Killed):
        write_atomic(str(report), lambda out: out.write('{"new": "a long report that never finishes"}'))
    monkeypatch.undo()
    assert report.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_a_killed_run_leaves_no_report(tmp_path):
    """SIGKILL while the report is written: the path holds the old report or the whole new one, never half."""
    report = tmp_path / "r.json"
    code = (
        "import os, signal; from pkgdrc.report import files\n"
        "real = os.replace\n"
        "def kill(*a): os.kill(os.getpid(), signal.SIGKILL)\n"
        "files.os.replace = kill\n"
        f"files.write_atomic({str(report)!r}, lambda out: out.write('x' * 10_000_000))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert p.returncode == -9
    assert not report.exists()
    leftovers = [q.name for q in tmp_path.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".pkgdrc-")  # a hidden temporary, never r.json


def test_reports_are_ordinary_files_readable_by_others(tmp_path):
    import os
    import stat

    from pkgdrc.report.files import write_atomic

    old = os.umask(0o022)
    try:
        write_atomic(str(tmp_path / "r.json"), lambda out: out.write("{}\n"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644
    assert (tmp_path / "r.json").read_text() == "{}\n"
