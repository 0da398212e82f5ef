"""One forked worker pool for the engines that split a run (cell by cell, tiles).

`forked_map(work, state, n, jobs)` calls `work(state, i)` for i in range(n) on up to `jobs`
processes forked from this one (copy on write: `state`, the loaded layout and deck, is
inherited, never pickled) and yields `(i, result)` as each finishes. Items start in order
(i = 0 first), a few ahead per process (`AHEAD`), so the parent's cost per item stays the
same however many there are. The heap is frozen (`gc.freeze`) while they run: the workers'
collections never walk the inherited objects (a loaded layout is a million tracked shapely
geometries), which would cost time and copy their pages. A worker that dies (killed, out of
memory) raises PkgdrcError at once (concurrent.futures' BrokenProcessPool) instead of the
pool waiting forever. Under --max-memory the workers enlist on a board the run's watcher reads
(`pkgdrc.process.worker_board`). Signals and children: `pkgdrc.process`.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from typing import Any

from pkgdrc.errors import PkgdrcError
from pkgdrc.process import enlist, settle, worker_board


def default_jobs() -> int:
    """The cores this process may run on (`--jobs 0`)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_STATE: tuple[Callable[[Any, int], Any], Any] | None = None  # (work, state): inherited by forked workers

# Items submitted ahead per process: enough that none waits for the next, few enough that
# waiting for the first to finish watches a handful of futures, not all n (`wait` visits
# every pending future: all n submitted at once made the run's waits O(n^2)).
AHEAD = 2


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
            items = iter(range(n))
            pending = {pool.submit(_call, i) for i in islice(items, AHEAD * min(jobs, n))}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        pending.update(pool.submit(_call, i) for i in islice(items, 1))
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
