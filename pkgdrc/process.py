"""The run's process: stopping at once on SIGINT/SIGTERM or beyond --max-memory, workers included.

Signal handlers are process-wide, so `interruptible` is a context manager that restores
them. Worker processes (the tiles and cell-by-cell pools, the layout reader) are forked
from the run's process; an at-fork hook gives them the default SIGINT/SIGTERM action back
(die at once, even inside C code) and ties them to their parent (PR_SET_PDEATHSIG).

The memory bound (`interruptible(..., max_memory=N)`) holds per process: this process's
resident memory may grow by N bytes above its size when the run started (sampled every
`WATCH_SECONDS` by the watcher thread, which stops the run as a signal does, exit 2); a
forked process (a pool worker, the reading child) may grow its address space by N bytes
above its size at the fork (`limit_address_space`: allocating more raises MemoryError
there). `note_rule` records the rule under way, for the message.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None) if sys.platform.startswith("linux") else None
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
WATCH_SECONDS = 0.05  # how often the watcher samples this process's memory under a bound
EXIT_ERROR = 2  # the CLI's "could not run"
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


def _forks(pids: list[int]) -> list[int]:
    """Those of `pids` that are forks of this process (they run its command line): pool
    workers and the reading child, not a program a child exec'd (multiprocessing's resource
    tracker, a Dask worker) nor a zombie (its command line is empty)."""
    try:
        ours = Path("/proc/self/cmdline").read_bytes()
    except OSError:  # not Linux: `children` listed the multiprocessing workers only
        return pids
    forks = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes() == ours:
                forks.append(pid)
    return forks


def stop_children(reap: bool = False) -> None:
    """Kill the forks of this process now (workers hold nothing that needs cleaning up); with
    `reap`, wait until each is gone (only when nothing else, such as a pool, will wait for them).

    The resource tracker multiprocessing starts (a program of its own) is left alone: killed,
    it was replaced by a new one that printed `KeyError: '/mp-...'` tracebacks when the
    semaphores the old one knew were released.
    """
    pids = _forks(children())
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


@dataclass(frozen=True)
class Stop:
    """Why a run stops at once: a signal (`signum`, exit 128 + it: 130, 143) or the memory
    bound (`signum` None, exit 2; `message` says so)."""

    signum: int | None
    message: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_ERROR if self.signum is None else 128 + self.signum


_hook_installed = [False]
_on_stop: list[Callable[[Stop], None] | None] = [None]  # the running `interruptible`'s callback
_bound: list[tuple[int, int] | None] = [None]  # (bytes this process may grow by, its size at the start)
_rule: list[str | None] = [None]  # the rule under way in this process (`note_rule`)
_watcher: list[threading.Thread] = []
_commit = threading.Lock()  # held while reports are made visible: a stop waits for it


def resident_bytes() -> int | None:
    """This process's resident memory (/proc/self/statm: a read of two counters, ~20 us); None off Linux."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except OSError:
        return None


def note_rule(rule_id: str | None) -> None:
    """Record the rule this process is checking (None: none yet), named when it runs out of memory."""
    _rule[0] = rule_id


def bound_text(max_memory: int) -> str:
    """A bound as --max-memory was given: whole MiB ("64 MiB"), else bytes."""
    return f"{max_memory // 2**20} MiB" if max_memory % 2**20 == 0 else f"{max_memory:,} bytes"


def exceeded(max_memory: int) -> str:
    """The one line for a run beyond --max-memory, naming the rule under way in this process."""
    bound = bound_text(max_memory)
    doing = f"checking rule {_rule[0]}" if _rule[0] is not None else "loading the layout"
    return f"the run needed more than --max-memory ({bound}) while {doing}"


def _stop(on_stop: Callable[[Stop], None], stop: Stop) -> None:
    """Kill the children, let `on_stop` clean up and say why, and exit at once (from any thread)."""
    with _commit:
        stop_children(reap=True)
        try:
            on_stop(stop)
        finally:
            os._exit(stop.exit_code)


def _watch() -> None:
    """The thread that takes SIGINT/SIGTERM (blocked in every other thread) and watches the
    memory bound: it acts at once, whatever the main thread is doing (waiting on a pool,
    inside C code)."""
    while True:
        signum = signal.sigtimedwait(STOP_SIGNALS, WATCH_SECONDS)
        on_stop, bound = _on_stop[0], _bound[0]
        if signum is not None and on_stop is None:  # no run under way: the signal's usual effect
            os.kill(os.getpid(), signum.si_signo)
        elif signum is not None and on_stop is not None:
            _stop(on_stop, Stop(signum.si_signo))
        elif on_stop is not None and bound is not None:
            now = resident_bytes()
            if now is not None and now - bound[1] > bound[0]:
                _stop(on_stop, Stop(None, exceeded(bound[0])))


@contextlib.contextmanager
def interruptible(on_stop: Callable[[Stop], None], max_memory: int | None = None) -> Iterator[None]:
    """On SIGINT or SIGTERM: kill the child processes, call `on_stop(Stop(signum))` (remove
    temporary files, say so on stderr) and exit at once with 128 + the signal's number (130, 143).
    With `max_memory` (bytes): the same, exit 2, when this process's resident memory grows by
    more than that (`Stop(None, message)`); the pool's workers get the bound at their fork
    (`memory_bound`).

    The signals are blocked in this thread (and so in every thread it starts) and taken by
    one watcher thread with sigtimedwait: a Python signal handler runs only in the main
    thread, which cannot run it while it waits on a lock woken by no signal (a pool's
    results) or computes inside C code. And no unwinding: a multiprocessing pool whose
    worker was killed while holding its task queue's lock hangs forever in `terminate()`.
    """
    _install_hook()
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    start = resident_bytes()
    _bound[0] = (max_memory, start) if max_memory is not None and start is not None else None
    _rule[0] = None
    if not _watcher:
        _watcher.append(threading.Thread(target=_watch, name="pkgdrc-watcher", daemon=True))
        _watcher[0].start()  # started with the signals blocked, as sigwait needs
    _on_stop[0] = on_stop
    _handling[0] = True
    try:
        yield
    finally:
        stop_children()  # none after a clean run; after an error, a pool may leave one behind
        _handling[0] = False
        _on_stop[0] = None
        _bound[0] = None
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def memory_bound() -> int | None:
    """The bytes a process forked now may grow by (the running `interruptible`'s max_memory)."""
    bound = _bound[0]
    return bound[0] if bound is not None else None


def limit_address_space(max_memory: int | None) -> None:
    """Cap this process's address space at its current size plus `max_memory` bytes (in a
    forked child: allocating more raises MemoryError, or GEOS's bad_alloc).

    A cap beyond what the system allows (the hard limit, or what a C long holds) limits
    nothing more than that, so it is left at the system's.
    """
    if max_memory is None or not os.path.exists("/proc/self/statm"):
        return
    with open("/proc/self/statm") as f:  # the child's start-up footprint is not counted
        current = int(f.read().split()[0]) * resource.getpagesize()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = 2**63 - 1 if hard == resource.RLIM_INFINITY else hard
    if current + max_memory < ceiling:
        resource.setrlimit(resource.RLIMIT_AS, (current + max_memory, hard))


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
