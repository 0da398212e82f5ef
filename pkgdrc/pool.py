"""One forked worker pool for the engines that split a run (cell by cell, tiles).

`forked_map(work, state, n, jobs)` calls `work(state, i)` for i in range(n) on up to `jobs`
processes forked from this one (copy on write: `state`, the loaded layout and deck, is
inherited, never pickled) and yields `(i, result)` as each finishes. The heap is frozen
(`gc.freeze`) while they run: the workers' collections never walk the inherited objects (a
loaded layout is a million tracked shapely geometries), which would cost time and copy their
pages. A worker that dies (killed, out of memory) raises PkgdrcError at once
(concurrent.futures' BrokenProcessPool) instead of the pool waiting forever. Under
--max-memory the workers enlist on a board the run's watcher reads
(`pkgdrc.process.worker_board`). Signals and children: `pkgdrc.process`.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pkgdrc.errors import PkgdrcError
from pkgdrc.process import enlist, settle, worker_board


def default_jobs() -> int:
    """The cores this process may run on (`--jobs 0`)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_STATE: tuple[Callable[[Any, int], Any], Any] | None = None  # (work, state): inherited by forked workers


def _call(i: int) -> tuple[int, Any]:
    assert _STATE is not None
    work, state = _STATE
    return i, work(state, i)


def forked_map(work: Callable[[Any, int], Any], state: Any, n: int, jobs: int) -> Iterator[tuple[int, Any]]:
    """(i, work(state, i)) for i in range(n), in the order they finish, on `jobs` forked processes."""
    global _STATE
    _STATE = (work, state)
    fork = multiprocessing.get_context("fork")
    gc.freeze()
    try:
        with (
            worker_board(min(jobs, n)) as board,
            ProcessPoolExecutor(min(jobs, n), fork, initializer=enlist, initargs=(board,)) as pool,
        ):
            pending = {pool.submit(_call, i) for i in range(n)}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
            except BaseException:  # a failed item: the rest is not waited for
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    except BrokenProcessPool:
        settle()  # killed by a stop (SIGINT/SIGTERM, --max-memory): that one ends the run, with its own line
        raise PkgdrcError("a worker process died (killed, or out of memory): the run could not be done") from None
    finally:
        _STATE = None
        gc.unfreeze()
