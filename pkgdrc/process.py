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
import threading
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


def stop_children(reap: bool = False) -> None:
    """Kill every child process now (workers hold nothing that needs cleaning up); with `reap`,
    wait until each is gone (only when nothing else, such as a pool, will wait for them)."""
    pids = children()
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids if reap else []:
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)


def _in_child() -> None:
    """After a fork, in the child: die with the parent (a parent that dies must not leave a pool
    worker waiting forever), default SIGINT/SIGTERM (die at once, even inside C code)."""
    if not _handling[0]:
        return
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked in the thread that forked


_hook_installed = [False]
_on_stop: list[Callable[[int], None] | None] = [None]  # the running `interruptible`'s callback
_watcher: list[threading.Thread] = []
_commit = threading.Lock()  # held while reports are made visible: a stop waits for it


def _watch() -> None:
    """The thread that takes SIGINT/SIGTERM (blocked in every other thread): it acts at once,
    whatever the main thread is doing (waiting on a pool, inside C code)."""
    while True:
        signum = signal.sigwait(STOP_SIGNALS)
        on_stop = _on_stop[0]
        if on_stop is None:  # no run under way: the signal's usual effect, in the main thread
            os.kill(os.getpid(), signum)
            continue
        with _commit:
            stop_children(reap=True)
            try:
                on_stop(signum)
            finally:
                os._exit(128 + signum)


@contextlib.contextmanager
def interruptible(on_stop: Callable[[int], None]) -> Iterator[None]:
    """On SIGINT or SIGTERM: kill the child processes, call `on_stop(signum)` (remove temporary
    files, say so on stderr) and exit at once with 128 + the signal's number (130, 143).

    The signals are blocked in this thread (and so in every thread it starts) and taken by
    one watcher thread with sigwait: a Python signal handler runs only in the main thread,
    which cannot run it while it waits on a lock woken by no signal (a pool's results). And
    no unwinding: a multiprocessing pool whose worker was killed while holding its task
    queue's lock hangs forever in `terminate()`.
    """
    _install_hook()
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    if not _watcher:
        _watcher.append(threading.Thread(target=_watch, name="pkgdrc-signals", daemon=True))
        _watcher[0].start()  # started with the signals blocked, as sigwait needs
    _on_stop[0] = on_stop
    _handling[0] = True
    try:
        yield
    finally:
        stop_children()  # none after a clean run; after an error, a pool may leave one behind
        _handling[0] = False
        _on_stop[0] = None
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def _install_hook() -> None:
    if not _hook_installed[0]:
        os.register_at_fork(after_in_child=_in_child)
        _hook_installed[0] = True


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """A short critical section (making reports visible) that SIGINT/SIGTERM wait for."""
    with _commit:
        yield


def settle() -> None:
    """Wait while a stop is under way: the watcher kills the children holding `_commit`, then
    exits the process; a caller that saw its workers die returns only when that was not it."""
    with _commit:
        pass
