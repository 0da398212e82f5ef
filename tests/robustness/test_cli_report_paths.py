"""Issue 15 items 7-10 and issue 14's report options: report paths are checked before anything
is read, no report overwrites an input or another report, devices and FIFOs are streams,
`-` is stdout, a full disk is one line, and with several layouts nothing is written unless
every layout was checked."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import gdstk

DECK = "name: t\nunits: um\nlayers:\n  A: 1/0\nrules:\n  A.W: {check: width, layer: A, min: 2.5}\n"


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def _layout(path: Path, width: float = 2.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.new_cell("TOP").add(gdstk.rectangle((0, 0), (10, width), layer=1))
    lib.write_gds(str(path))
    return path


def _deck(tmp_path: Path) -> Path:
    path = tmp_path / "d.yaml"
    path.write_text(DECK)
    return path


# Item 7: refused before reading anything (the layout named here does not even exist).


def test_two_reports_on_one_path(tmp_path):
    out = tmp_path / "r.out"
    p = _cli(tmp_path / "never-read.gds", "--deck", _deck(tmp_path), "--json", out, "--junit", out)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr == f"pkgdrc: error: {out}: --junit and --json would write to the same file\n"
    assert not out.exists()


def test_a_report_over_the_layout(tmp_path):
    layout = _layout(tmp_path / "chip.gds")
    before = layout.read_bytes()
    p = _cli(layout, "--deck", _deck(tmp_path), "--html", layout)
    assert p.returncode == 2
    assert p.stderr == f"pkgdrc: error: {layout}: --html would overwrite the input file {layout}\n"
    assert layout.read_bytes() == before


def test_a_report_over_the_deck_by_another_name(tmp_path):
    deck = _deck(tmp_path)
    (tmp_path / "link.json").symlink_to(deck)
    p = _cli(_layout(tmp_path / "chip.gds"), "--deck", deck, "--json", tmp_path / "link.json")
    assert p.returncode == 2
    assert p.stderr == f"pkgdrc: error: {tmp_path / 'link.json'}: --json would overwrite the input file {deck}\n"
    assert deck.read_text() == DECK


def test_stem_paths_of_two_layouts_with_one_name(tmp_path):
    a, b = tmp_path / "a" / "chip.gds", tmp_path / "b" / "chip.gds"
    p = _cli(a, b, "--deck", _deck(tmp_path), "--json", tmp_path / "{stem}.json")
    assert p.returncode == 2
    assert p.stderr == (
        f"pkgdrc: error: {tmp_path / 'chip.json'}: the --json report of {b} and the --json "
        f"report of {a} would write to the same file\n"
    )


# Item 8: devices and FIFOs are written as streams, never replaced by a file.


def test_a_full_device_is_one_line_and_stays_a_device(tmp_path):
    p = _cli(_layout(tmp_path / "chip.gds"), "--deck", _deck(tmp_path), "--json", "/dev/full", "--quiet")
    assert (p.returncode, p.stderr) == (2, "pkgdrc: error: disk full writing /dev/full\n")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_fifo_gets_the_report_as_a_stream(tmp_path):
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    p = _cli(_layout(tmp_path / "chip.gds"), "--deck", _deck(tmp_path), "--json", fifo, "--quiet")
    reader.join(timeout=60)
    assert (p.returncode, p.stderr) == (1, "")
    assert json.loads(got[0])["summary"]["violations"] == 1
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_dev_null_stays_a_device(tmp_path):
    p = _cli(_layout(tmp_path / "chip.gds"), "--deck", _deck(tmp_path), "--junit", "/dev/null", "--quiet")
    assert (p.returncode, p.stderr) == (1, "")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# Item 9 and issue 14: stdout, `-`, writability checked before the layout is read, --json-indent.


def test_json_to_dev_stdout_is_stdout(tmp_path):
    p = _cli(_layout(tmp_path / "chip.gds"), "--deck", _deck(tmp_path), "--json", "/dev/stdout")
    assert (p.returncode, p.stderr) == (1, "")
    report = json.loads(p.stdout)  # the JSON only: no text summary mixed in
    assert report["rules"][0]["violations"][0]["value"] == 2.0
    assert p.stdout.count("\n") == 1  # compact by default


def test_dash_is_stdout_and_json_indent(tmp_path):
    p = _cli(_layout(tmp_path / "chip.gds"), "--deck", _deck(tmp_path), "--json", "-", "--json-indent", "2")
    assert (p.returncode, p.stderr) == (1, "")
    assert p.stdout.startswith('{\n  "tool": "pkgdrc",\n') and json.loads(p.stdout)["summary"]["violations"] == 1


def test_stdout_takes_one_output(tmp_path):
    p = _cli(tmp_path / "never-read.gds", "--deck", _deck(tmp_path), "--junit", "-", "--lyrdb", "-")
    assert (p.returncode, p.stderr) == (2, "pkgdrc: error: -: --junit and --lyrdb would write to the same file\n")
    p = _cli(tmp_path / "never-read.gds", "--deck", _deck(tmp_path), "--junit", "-", "--format", "github")
    assert (p.returncode, p.stderr) == (
        2,
        "pkgdrc: error: a report goes to stdout (-), and so would --format github: stdout takes one\n",
    )


def test_a_report_folder_under_proc_fails_before_the_layout_is_read(tmp_path):
    p = _cli(tmp_path / "never-read.gds", "--deck", _deck(tmp_path), "--json", "/proc/r.json")
    assert p.returncode == 2
    assert p.stderr == (
        "pkgdrc: error: /proc/r.json: cannot write report: folder /proc is not writable (No such file or directory)\n"
    )


# Item 10: everything is checked before the first layout, and written only when all were checked.


def test_a_deck_error_for_the_second_layout_comes_first(tmp_path):
    _layout(tmp_path / "a.gds")
    _layout(tmp_path / "b.gds")
    (tmp_path / "bad.yaml").write_text("name: bad\nlayers:\n  A: 1/0\nrules:\n  R: {check: widht, layer: A}\n")
    (tmp_path / "pkgdrc.toml").write_text(
        'deck = "d.yaml"\njunit = "junit.xml"\njson = "{stem}.json"\n[per-file-decks]\n"b.gds" = "bad.yaml"\n'
    )
    _deck(tmp_path)
    (tmp_path / "junit.xml").write_text("old")
    p = _cli("a.gds", "b.gds", cwd=tmp_path)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.startswith("pkgdrc: error: bad.yaml:5: rule R: unknown check kind 'widht'")
    assert p.stderr.count("\n") == 1
    assert (tmp_path / "junit.xml").read_text() == "old" and not (tmp_path / "a.json").exists()


def test_a_second_layout_that_cannot_be_read_writes_no_report(tmp_path):
    _layout(tmp_path / "a.gds")
    (tmp_path / "b.gds").write_bytes(b"not a layout")
    (tmp_path / "junit.xml").write_text("old")
    p = _cli(
        "a.gds",
        "b.gds",
        "--deck",
        _deck(tmp_path),
        "--junit",
        "junit.xml",
        "--json",
        "{stem}.json",
        "--quiet",
        cwd=tmp_path,
    )
    assert p.returncode == 2
    assert p.stderr == "pkgdrc: error: b.gds: not a GDSII or OASIS file (unknown header bytes)\n"
    assert (tmp_path / "junit.xml").read_text() == "old" and not (tmp_path / "a.json").exists()
    staged = [q.name for q in tmp_path.iterdir() if q.name.startswith(".pkgdrc-") and q.name != ".pkgdrc-cache"]
    assert staged == []  # no staged report left (the result cache's folder is no report)
