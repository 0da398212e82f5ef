"""The run's process: stopping at once on SIGINT/SIGTERM, workers included.

Signal handlers are process-wide, so `interruptible` is a context manager that restores
them. Worker processes (the tiles and cell-by-cell pools, the layout reader) are forked
from the run's process; an at-fork hook gives them the default SIGINT/SIGTERM action back
(die at once, even inside C code) and ties them to their parent (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None) if sys.platform.startswith("linux") else None
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Process-wide, as signal handlers are: what forked children must do.
_handling = [False]  # reset STOP_SIGNALS to their default (set while `interruptible` runs)


def children() -> list[int]:
    """Process ids of this process's children (every thread's: the pool's helper thread forks too)."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    if not tasks.is_dir():  # not Linux: the multiprocessing workers only
        return [p.pid for p in multiprocessing.active_children() if p.pid]
    pids = []
    for task in tasks.iterdir():
        with contextlib.suppress(OSError):
            pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


def stop_children() -> None:
    """Kill every child process now (workers hold nothing that needs cleaning up)."""
    for pid in children():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _in_child() -> None:
    """After a fork, in the child: die with the parent (a parent that dies must not leave a pool
    worker waiting forever), default SIGINT/SIGTERM (die at once, even inside C code)."""
    if _prctl is not None and _handling[0]:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if _handling[0]:
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_DFL)


_hook_installed = [False]


@contextlib.contextmanager
def interruptible(on_stop: Callable[[int], None]) -> Iterator[None]:
    """On SIGINT or SIGTERM: kill the child processes, call `on_stop(signum)` (remove temporary
    files, say so on stderr) and exit at once with 128 + the signal's number (130, 143).

    Not by raising an exception to unwind: a multiprocessing pool whose worker was killed while
    holding its task queue's lock hangs forever in `terminate()`.
    """
    main_pid = os.getpid()

    def handler(signum, frame):
        if os.getpid() != main_pid:  # a child forked outside os.fork's hooks: just go
            os._exit(128 + signum)
        stop_children()
        try:
            on_stop(signum)
        finally:
            os._exit(128 + signum)

    _install_hook()
    old = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    _handling[0] = True
    try:
        yield
    finally:
        stop_children()  # none after a clean run; after an error, a pool may leave one behind
        _handling[0] = False
        for s, h in old.items():
            signal.signal(s, h)


def _install_hook() -> None:
    if not _hook_installed[0]:
        os.register_at_fork(after_in_child=_in_child)
        _hook_installed[0] = True


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back for a short critical section (they are delivered after it)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
