"""Issue 15 item 26: --max-memory bounds the whole run, not only the reader. A check that
outgrows it stops the run with exit 2 and one line naming the rule, whether it runs in this
process or in a forked worker (tiles, cell by cell); a run within the bound reports exactly
what a run without it reports. And the end of a run with a forked pool leaves
multiprocessing's resource tracker alone (killed, its successor printed KeyError tracebacks).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gdstk
import pytest

from pkgdrc.process import stop_children

ROOT = Path(__file__).resolve().parents[2]
# Density in 1 um windows over a 2000 x 4000 um outline: 8 million windows, ~400 MB in one
# process and ~200 MB in each worker (two bands, or the rule's own); loading the 40,001
# squares (an array of one cell) takes < 50 MB.
DECK = """\
name: mem
units: um
layers:
  M: 1/0
  PKG: 2/0
rules:
  M.W: {check: width, layer: M, min: 1.0}
  DEN: {check: density, layer: M, outline: PKG, window: 1, step: 1, min: 0.0, max: 1.0}
"""
BOUND_MB = "96"
ENGINES = [("1", "--flat"), ("2", "--flat"), ("2", "--hierarchy=cellwise")]  # flat, tiles, cell by cell


@pytest.fixture(scope="module")
def dense(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("dense")
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    square = lib.new_cell("SQ")
    square.add(gdstk.rectangle((0, 0), (2, 2), layer=1))
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(square, (0, 0), columns=200, rows=200, spacing=(10, 10)))
    top.add(gdstk.rectangle((0, 2500), (0.5, 2510), layer=1))  # 0.5 um wide: the one M.W violation
    top.add(gdstk.rectangle((0, 0), (2000, 4000), layer=2))
    lib.write_gds(str(folder / "dense.gds"))
    (folder / "d.yaml").write_text(DECK)
    return folder / "dense.gds", folder / "d.yaml"


def _check(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", *map(str, args)], capture_output=True, text=True, timeout=600
    )


@pytest.mark.skipif(not Path("/proc/self/statm").is_file(), reason="the bound reads /proc")
@pytest.mark.parametrize("jobs, engine", ENGINES)
def test_a_check_beyond_max_memory_stops_the_run_with_one_line(dense, tmp_path, jobs, engine):
    """The watcher sees this process (one job) or the worker checking DEN (two) outgrow the bound."""
    layout, deck = dense
    report = tmp_path / "r.json"
    report.write_text('{"old": true}\n')
    done = _check(layout, "--deck", deck, engine, "--jobs", jobs, "--max-memory", BOUND_MB, "--json", report, "-q")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "pkgdrc: error: the run needed more than --max-memory (96 MiB) while checking rule DEN\n"
    assert report.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no staged report left behind


def _report(path: Path) -> dict:
    doc = json.loads(path.read_text())
    doc["summary"].pop("seconds")
    for rule in doc["rules"]:
        rule.pop("seconds")
    return doc


@pytest.mark.parametrize("jobs, engine", ENGINES)
def test_a_run_within_max_memory_reports_what_a_run_without_it_does(dense, tmp_path, jobs, engine):
    layout, deck = dense
    bounded, free = tmp_path / "bounded.json", tmp_path / "free.json"
    within = _check(
        layout, "--deck", deck, engine, "--jobs", jobs, "--max-memory", "4096", "--json", bounded, "-q", "--no-cache"
    )
    without = _check(layout, "--deck", deck, engine, "--jobs", jobs, "--json", free, "-q", "--no-cache")
    assert (within.returncode, within.stderr) == (without.returncode, without.stderr) == (1, "")
    assert _report(bounded) == _report(free)
    assert [(r["id"], r["count"]) for r in _report(bounded)["rules"]] == [("M.W", 1), ("DEN", 0)]


TRACKER_SCRIPT = """\
import multiprocessing, os, sys
from multiprocessing import resource_tracker
from click.testing import CliRunner
from pkgdrc import cli

lock = multiprocessing.get_context("spawn").Lock()  # registers a semaphore: the tracker runs
tracker = resource_tracker._resource_tracker._pid
result = CliRunner().invoke(cli.main, ["check", *sys.argv[1:]])
alive = open(f"/proc/{tracker}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
print(result.exit_code, "tracker alive" if alive else "tracker killed")
print(result.output, end="")
del lock  # unregisters its semaphore: a new tracker would not know it (KeyError)
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc")
def test_a_run_that_fails_with_its_pool_alive_leaves_the_resource_tracker_alone(dense, tmp_path):
    """Each band's worker refuses DEN (32 million windows of 0.5 um): the first refusal ends the
    run while the other worker lives; the run's end kills that one, not the tracker of the
    program that called pkgdrc in-process."""
    layout, _ = dense
    deck = tmp_path / "d.yaml"
    deck.write_text(DECK.replace("window: 1, step: 1", "window: 0.5, step: 0.5"))
    script = tmp_path / "embed.py"
    script.write_text(TRACKER_SCRIPT)
    args = [layout, "--deck", deck, "--flat", "--jobs", "2", "-q"]
    done = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True, timeout=600)
    assert done.stderr == ""
    assert done.stdout == (
        "2 tracker alive\npkgdrc: error: rule DEN: density: 32,000,000 windows of 0.5 um stepped 0.5 um in "
        "outline PKG, more than 10,000,000; check the window, the step and the layout's units\n"
    )


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc")
def test_stop_children_kills_forks_and_spares_programs_they_run():
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    fork = os.fork()
    if fork == 0:
        time.sleep(60)
        os._exit(0)
    try:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{helper.pid}/cmdline").read_bytes().count(b"sleep") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the helper has exec'd its program
        stop_children()
        assert os.waitpid(fork, 0)[1] == signal.SIGKILL
        with pytest.raises(subprocess.TimeoutExpired):  # a SIGKILL would end it at once
            helper.wait(timeout=2)
    finally:
        helper.kill()
        helper.wait()
