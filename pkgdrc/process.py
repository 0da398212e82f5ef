"""The run's process: a memory bound for the whole run, and stopping at once on SIGINT/SIGTERM.

Both are process-wide settings, so they are context managers that restore what they
changed. Worker processes (the tiles and cell-by-cell pools, the layout reader) are
forked from the run's process: they inherit the memory bound, and get the default
SIGINT/SIGTERM action back (die at once, even inside C code) through an at-fork hook.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import resource
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from pkgdrc.errors import PkgdrcError

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None) if sys.platform.startswith("linux") else None
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
THREAD_RESERVE = 64 * 2**20  # beyond the bound, for the stacks of the threads a process starts (pools)
WORKER_DIED = signal.SIGUSR1  # the watchdog's call to the main thread
WATCH_SECONDS = 0.5
# Process-wide, as signal handlers and resource limits are: what forked children must do.
_handling = [False]  # reset STOP_SIGNALS to their default (set while `interruptible` runs)
_bound: list[int | None] = [None]  # cap the child's growth at this many bytes (set by `memory_bound`)


class Interrupted(BaseException):
    """The run was stopped by a signal (a BaseException: nothing may catch it as an error)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


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
    """After a fork, in the child: die with the parent (a parent that aborts must not leave a
    pool worker waiting forever), default SIGINT/SIGTERM (die at once), its own memory cap."""
    if _prctl is not None and (_handling[0] or _bound[0] is not None):
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if _handling[0]:
        for s in (*STOP_SIGNALS, WORKER_DIED):
            signal.signal(s, signal.SIG_DFL)
    if _bound[0] is not None:
        _set_bound(_bound[0])


def _died(pid: int) -> str | None:
    """How a child died, if it is dead and unreaped (without reaping it); None if alive or exited 0."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except OSError:
        return None
    if info is None or (info.si_code == os.CLD_EXITED and info.si_status == 0):
        return None
    if info.si_code == os.CLD_EXITED:
        return f"exit code {info.si_status}"
    return f"signal {signal.Signals(info.si_status).name}"


def _watch(main_ident: int, stop: threading.Event, died: list[str]) -> None:
    """Watchdog thread: a worker that dies (killed, aborted) leaves a multiprocessing pool waiting
    forever; a child seen dead twice in a row is reported to the main thread."""
    seen: set[int] = set()
    while not stop.wait(WATCH_SECONDS):
        dead = {pid: how for pid in children() if (how := _died(pid))}
        again = [how for pid, how in dead.items() if pid in seen]
        seen = set(dead)
        if again:
            died.append(again[0])
            signal.pthread_kill(main_ident, WORKER_DIED)
            return


_hook_installed = [False]


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM kill the child processes at once and raise `Interrupted` in the main thread.

    Everything unwinds as for an error (temporary files are removed, pools terminated);
    the caller decides the exit code (`Interrupted.exit_code`).
    """
    main_pid = os.getpid()
    died: list[str] = []

    def handler(signum, frame):
        if os.getpid() != main_pid:  # a child forked outside os.fork's hooks: just go
            os._exit(128 + signum)
        stop_children()
        if signum == WORKER_DIED:
            bound = f" or exceeded --max-memory ({_bound[0] / 2**20:g} MB)" if _bound[0] is not None else ""
            raise PkgdrcError(f"a worker process died ({died[0]}): it ran out of memory{bound}, or crashed; "
                              "the run could not be done")
        raise Interrupted(signum)

    _install_hook()
    old = {s: signal.signal(s, handler) for s in (*STOP_SIGNALS, WORKER_DIED)}
    _handling[0] = True
    stop = threading.Event()
    watchdog = threading.Thread(target=_watch, args=(threading.get_ident(), stop, died), daemon=True,
                                name="pkgdrc-watchdog")
    watchdog.start()
    try:
        yield
    finally:
        stop.set()
        watchdog.join()
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


def _data_size() -> int | None:
    """This process's data size in bytes (what RLIMIT_DATA counts), None where unknown."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return None


def _set_bound(max_memory: int) -> None:
    size = _data_size()
    if size is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    top = hard if hard != resource.RLIM_INFINITY else 2**63 - 1
    resource.setrlimit(resource.RLIMIT_DATA, (min(size + max_memory + THREAD_RESERVE, top), hard))


@contextlib.contextmanager
def memory_bound(max_memory: int | None) -> Iterator[None]:
    """Cap the memory this process, and each process forked from it, may allocate beyond its
    size now (at the fork, for a child) at `max_memory` bytes, for the block; allocating
    more raises MemoryError (a worker that dies of it instead is caught by `interruptible`).

    RLIMIT_DATA counts what a process writes into (heap and anonymous mappings), not the
    address space it only reserves (allocator arenas), so it bounds real use; thread
    stacks count, so THREAD_RESERVE is added for them (a pool starts three threads).
    """
    if max_memory is None or _data_size() is None:
        yield
        return
    old = resource.getrlimit(resource.RLIMIT_DATA)
    _install_hook()
    _set_bound(max_memory)
    _bound[0] = max_memory
    try:
        yield
    finally:
        _bound[0] = None
        resource.setrlimit(resource.RLIMIT_DATA, old)
