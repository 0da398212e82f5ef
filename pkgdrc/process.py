"""The run's process: a memory bound for the whole run, and stopping at once on SIGINT/SIGTERM.

Both are process-wide settings, so they are context managers that restore what they
changed. Worker processes (the tiles and cell-by-cell pools, the layout reader) are
forked from the run's process: they inherit the memory bound, and get the default
SIGINT/SIGTERM action back (die at once, even inside C code) through an at-fork hook.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_handling = [False]  # whether forked children must reset STOP_SIGNALS (set while `interruptible` runs)


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


def _default_signals_in_child() -> None:
    if _handling[0]:
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_DFL)


_hook_installed = [False]


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM kill the child processes at once and raise `Interrupted` in the main thread.

    Everything unwinds as for an error (temporary files are removed, pools terminated);
    the caller decides the exit code (`Interrupted.exit_code`).
    """
    main_pid = os.getpid()

    def handler(signum, frame):
        if os.getpid() != main_pid:  # a child forked outside os.fork's hooks: just go
            os._exit(128 + signum)
        stop_children()
        raise Interrupted(signum)

    if not _hook_installed[0]:
        os.register_at_fork(after_in_child=_default_signals_in_child)
        _hook_installed[0] = True
    old = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    _handling[0] = True
    try:
        yield
    finally:
        _handling[0] = False
        for s, h in old.items():
            signal.signal(s, h)


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


@contextlib.contextmanager
def memory_bound(max_memory: int | None) -> Iterator[None]:
    """Cap the memory this process (and every process forked from it) may allocate beyond what
    it holds now at `max_memory` bytes, for the block; allocating more raises MemoryError.

    RLIMIT_DATA counts what a process writes into (heap and anonymous mappings), not the
    address space it only reserves (thread stacks, allocator arenas), so it bounds real use.
    Each forked worker starts from the size of the process at the fork and has the same cap.
    """
    size = _data_size() if max_memory is not None else None
    if size is None:
        yield
        return
    old = resource.getrlimit(resource.RLIMIT_DATA)
    soft_max = old[1] if old[1] != resource.RLIM_INFINITY else 2**63 - 1
    resource.setrlimit(resource.RLIMIT_DATA, (min(size + max_memory, soft_max), old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, old)
