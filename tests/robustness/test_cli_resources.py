"""Issue 15 items 12 (config part), 13 (MemoryError part) and 21 (run side): a broken
pyproject.toml above the project, running out of memory anywhere, and each rule's seconds
on every engine path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gdstk
import pytest
from click.testing import CliRunner

import pkgdrc
from pkgdrc import cli
from pkgdrc.flat import share_wall_time
from pkgdrc.result import RuleResult

ROOT = Path(__file__).resolve().parents[2]
DECK = "name: t\nunits: um\nlayers:\n  A: 1/0\nrules:\n  A.W: {check: width, layer: A, min: 2.5}\n"


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def _project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.new_cell("TOP").add(gdstk.rectangle((0, 0), (10, 3), layer=1))
    lib.write_gds(str(folder / "chip.gds"))
    (folder / "d.yaml").write_text(DECK)
    return folder


def _panel(path: Path, shapes: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    generate(shapes, seed=3).write_gds(str(path))
    return path


def test_a_stranger_non_utf8_pyproject_above_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')  # Latin-1, not ours
    project = _project(tmp_path / "work")
    p = _cli("chip.gds", "--deck", "d.yaml", "--quiet", cwd=project)
    assert p.returncode == 0
    assert p.stderr == (
        f"pkgdrc: warning: {tmp_path / 'pyproject.toml'}: not UTF-8 text (byte 0xe9 at offset "
        "21); a TOML file is UTF-8; skipped (it has no [tool.pkgdrc])\n"
    )


def test_our_non_utf8_pyproject_is_an_error(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.pkgdrc]\ntop = "caf\xe9"\n')
    project = _project(tmp_path / "work")
    p = _cli("chip.gds", "--deck", "d.yaml", cwd=project)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr == (
        f"pkgdrc: error: {tmp_path / 'pyproject.toml'}: not UTF-8 text (byte 0xe9 at offset 24); a TOML file is UTF-8\n"
    )


def test_a_memory_error_anywhere_is_one_line(tmp_path, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.00 GiB for an array with shape (940000000,) and data type float64")

    monkeypatch.setattr(cli, "check", out_of_memory)
    project = _project(tmp_path / "work")
    result = CliRunner().invoke(cli.main, ["check", str(project / "chip.gds"), "--deck", str(project / "d.yaml")])
    assert result.exit_code == 2
    assert result.stderr == (
        "pkgdrc: error: out of memory (Unable to allocate 7.00 GiB for an array with shape "
        "(940000000,) and data type float64): the run could not be done\n"
    )


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> Path:
    return _panel(tmp_path_factory.mktemp("panel") / "panel.gds", 45_000)  # 2 jobs' worth of shapes


@pytest.mark.parametrize("hierarchy", ["flat", "auto"], ids=["flat-tiles", "cell-by-cell"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_every_rule_has_its_seconds(panel, hierarchy, jobs):
    """Each engine path (flat, tiles on 2 processes, cell by cell in one or in a pool) times every
    rule (how rules run together share a phase's time: `test_rules_run_together_share_the_wall_time`)."""
    report = pkgdrc.check(panel, "fowlp-2l", jobs=jobs, hierarchy=hierarchy)
    assert [r.id for r in report.rules if not r.seconds > 0] == []


def test_rules_run_together_share_the_wall_time():
    """Rules run together on several processes get the phase's wall time in proportion to their
    work there, so that their seconds add up to the phase (no clock read: the shares alone)."""
    results = [RuleResult(rid, "width", "", 1.0, ["A"]) for rid in ("A.W", "B.W", "C.W")]
    for r, work in zip(results, [3.0, 1.0, 0.0]):
        r.seconds = work
    share_wall_time(results, 2.0)
    assert [r.seconds for r in results] == [1.5, 0.5, 0.0]
    idle = [RuleResult(rid, "width", "", 1.0, ["A"]) for rid in ("A.W", "B.W")]
    share_wall_time(idle, 1.0)  # no work measured: an equal share each
    assert [r.seconds for r in idle] == [0.5, 0.5]
