"""Issue 15 item 14: SIGINT and SIGTERM stop a `--jobs 2` run at once: exit 130/143 (never 1,
"violations"), one line, the worker processes gone, no report written, the old one kept."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


def _running(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _gone(pids: list[int], seconds: float = 5.0) -> bool:
    """Whether the processes are gone, allowing the kernel `seconds` to finish their exit
    (a worker killed as its parent exits may still be tearing down when the parent is reaped)."""
    deadline = time.monotonic() + seconds
    while any(_running(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    path = tmp_path_factory.mktemp("panel") / "panel.gds"
    generate(60000, seed=3).write_gds(str(path))  # tiles on 2 processes take several seconds
    return path


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_workers_and_keeps_the_old_report(panel, tmp_path, sig, code):
    report = tmp_path / "r.json"
    report.write_text('{"old": true}\n')
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pkgdrc",
            "check",
            str(panel),
            "--jobs",
            "2",
            "--flat",
            "--quiet",
            "--json",
            str(report),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        workers: list[int] = []
        while len(workers) < 2 and p.poll() is None:  # the pool has started: the check is under way
            time.sleep(0.05)
            workers = _children(p.pid)
        assert p.poll() is None, p.stderr.read()
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == code
    assert err == (f"pkgdrc: interrupted by {sig.name}: the run was stopped; no report written, old reports kept\n")
    assert _gone(workers)
    assert report.read_text() == '{"old": true}\n'
    assert [q.name for q in tmp_path.iterdir()] == ["r.json"]  # no temporary left behind
