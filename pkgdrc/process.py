"""The run's process: stopping at once on SIGINT/SIGTERM or beyond --max-memory, workers included.

Signal handlers are process-wide, so `interruptible` is a context manager that restores
them. Worker processes (the tiles and cell-by-cell pools, the layout reader) are forked
from the run's process; an at-fork hook gives them the default SIGINT/SIGTERM action back
(die at once, even inside C code) and ties them to their parent (PR_SET_PDEATHSIG).

The memory bound (`interruptible(..., max_memory=N)`) holds per process, on resident memory:
this process may grow by N bytes above its size when the run started, each pool worker by N
above its size when it started (it writes its pid, that size and the rule it checks on a
`WorkerBoard` shared with this process). The watcher thread samples them every
`WATCH_SECONDS` (/proc/PID/statm) and stops the run as a signal does, exit 2, naming the
rule (`note_rule`). The reading child has its own cap (`pkgdrc.safe_read`).
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import multiprocessing
import os
import resource
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None) if sys.platform.startswith("linux") else None
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
WATCH_SECONDS = 0.05  # how often the watcher samples the run's memory under a bound
EXIT_ERROR = 2  # the CLI's "could not run"
# Process-wide, as signal handlers are: what forked children must do.
_handling = [False]  # reset STOP_SIGNALS to their default (set while `interruptible` runs)
_forking = [0]  # the pid of the process that forks (set just before each fork)


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


_KILL_ROUNDS = 5  # listings of the children while stopping: until one finds none


def stop_children(reap: bool = False) -> None:
    """Kill the forks of this process now (workers hold nothing that needs cleaning up); with
    `reap`, wait until each is gone (only when nothing else, such as a pool, will wait for them).

    The resource tracker multiprocessing starts (a program of its own) is left alone: killed,
    it was replaced by a new one that printed `KeyError: '/mp-...'` tracebacks when the
    semaphores the old one knew were released.
    """
    for _ in range(_KILL_ROUNDS if reap else 1):  # again: a fork may have been under way
        pids = _forks(children())
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in pids if reap else []:
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
        if not pids:
            return


def _in_child() -> None:
    """After a fork, in the child: die with the parent (a parent that dies must not leave a pool
    worker waiting forever), default SIGINT/SIGTERM (die at once, even inside C code)."""
    if not _handling[0]:
        return
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != _forking[0]:  # the parent died before the line above: nobody waits for us
            os._exit(EXIT_ERROR)
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
_bound: list[tuple[int, int] | None] = [None]  # (bytes a process may grow by, this one's size at the start)
_rule: list[str | None] = [None]  # the rule under way in this process (`note_rule`)
_board: list[WorkerBoard | None] = [None]  # the running pool's workers (`worker_board`)
_enlisted: list[tuple[WorkerBoard, int] | None] = [None]  # in a worker: its board and slot
_watcher: list[threading.Thread] = []
_commit = threading.Lock()  # held while reports are made visible: a stop waits for it


def resident_bytes(pid: int | str = "self") -> int | None:
    """A process's resident memory (/proc/PID/statm: two counters, ~20 us); None if it is gone
    or off Linux."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except (OSError, IndexError, ValueError):
        return None


class WorkerBoard:
    """Memory this process shares with the pool workers it forks (an anonymous shared mapping):
    per worker its pid, its resident size when it started and the rule it is checking."""

    _SLOT = struct.Struct("qq240s")  # pid, resident bytes at its start, rule id (UTF-8, NUL-padded)
    _RULE = struct.Struct("240s")

    def __init__(self, workers: int) -> None:
        self._memory = mmap.mmap(-1, workers * self._SLOT.size)  # MAP_SHARED: the forks write here
        self._claim = multiprocessing.get_context("fork").Lock()
        self._slots = workers

    def enlist(self) -> None:
        """In a worker, as it starts: take a free slot (none left: the worker is not watched)."""
        with self._claim:
            for k in range(self._slots):
                if self._SLOT.unpack_from(self._memory, k * self._SLOT.size)[0] == 0:
                    self._SLOT.pack_into(self._memory, k * self._SLOT.size, os.getpid(), resident_bytes() or 0, b"")
                    _enlisted[0] = (self, k)
                    return

    def note(self, slot: int, rule_id: str | None) -> None:
        """In a worker: the rule it starts checking (a longer id is cut at 240 bytes)."""
        self._RULE.pack_into(self._memory, slot * self._SLOT.size + 16, (rule_id or "").encode())

    def workers(self) -> list[tuple[int, int, str | None]]:
        """(pid, resident bytes at its start, rule under way or None) of each enlisted worker."""
        rows = []
        for k in range(self._slots):
            pid, start, name = self._SLOT.unpack_from(self._memory, k * self._SLOT.size)
            if pid:
                rows.append((pid, start, name.rstrip(b"\0").decode(errors="replace") or None))
        return rows


@contextlib.contextmanager
def worker_board(workers: int) -> Iterator[WorkerBoard | None]:
    """A board for a pool of `workers`, watched while the block runs; None without a memory bound."""
    if _bound[0] is None:
        yield None
        return
    _board[0] = WorkerBoard(workers)
    try:
        yield _board[0]
    finally:
        _board[0] = None


def enlist(board: WorkerBoard | None) -> None:
    """A pool worker's initializer: put itself on the board, if there is one."""
    if board is not None:
        board.enlist()


def note_rule(rule_id: str | None) -> None:
    """Record the rule this process is checking (None: none yet), named when it runs out of memory."""
    _rule[0] = rule_id
    if _enlisted[0] is not None:
        board, slot = _enlisted[0]
        board.note(slot, rule_id)


def bound_text(max_memory: int) -> str:
    """A bound as --max-memory was given: whole MiB ("64 MiB"), else bytes."""
    return f"{max_memory // 2**20} MiB" if max_memory % 2**20 == 0 else f"{max_memory:,} bytes"


def exceeded(max_memory: int, rule_id: str | None) -> str:
    """The one line for a run beyond --max-memory while checking `rule_id` (None: before any rule)."""
    doing = f"checking rule {rule_id}" if rule_id is not None else "loading the layout"
    return f"the run needed more than --max-memory ({bound_text(max_memory)}) while {doing}"


def _over_bound() -> str | None:
    """The line to stop with, when this process or a pool worker has grown beyond the bound."""
    bound = _bound[0]
    if bound is None:
        return None
    now = resident_bytes()
    if now is not None and now - bound[1] > bound[0]:
        return exceeded(bound[0], _rule[0])
    board = _board[0]
    for pid, start, rule_id in board.workers() if board is not None else []:
        now = resident_bytes(pid)
        if now is not None and now - start > bound[0]:
            return exceeded(bound[0], rule_id)
    return None


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
        on_stop = _on_stop[0]
        if signum is not None and on_stop is None:  # no run under way: the signal's usual effect
            os.kill(os.getpid(), signum.si_signo)
        elif signum is not None and on_stop is not None:
            _stop(on_stop, Stop(signum.si_signo))
        elif on_stop is not None and (line := _over_bound()) is not None:
            _stop(on_stop, Stop(None, line))


@contextlib.contextmanager
def interruptible(on_stop: Callable[[Stop], None], max_memory: int | None = None) -> Iterator[None]:
    """On SIGINT or SIGTERM: kill the child processes, call `on_stop(Stop(signum))` (remove
    temporary files, say so on stderr) and exit at once with 128 + the signal's number (130, 143).
    With `max_memory` (bytes): the same, exit 2, with `Stop(None, the line to print)`, when
    this process or a pool worker grows its resident memory by more than that (see above).

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


def _before_fork() -> None:
    _forking[0] = os.getpid()


def _install_hook() -> None:
    if not _hook_installed[0]:
        os.register_at_fork(before=_before_fork, after_in_child=_in_child)
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
