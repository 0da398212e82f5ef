"""One forked worker pool for the engines that split a run (cell by cell, tiles).

`forked_map(work, state, n, jobs)` calls `work(state, i)` for i in range(n) on up to `jobs`
processes forked from this one (copy on write: `state`, the loaded layout and deck, is
inherited, never pickled) and yields `(i, result)` as each finishes. A worker that dies
(killed, out of memory) raises PkgdrcError at once (concurrent.futures' BrokenProcessPool)
instead of the pool waiting forever. Under a memory bound (`pkgdrc.process.memory_bound`,
--max-memory) each worker's address space may grow by that much above its size at the fork;
a worker that needs more raises PkgdrcError naming the rule it was checking. Signals and
children: `pkgdrc.process`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from shapely.errors import GEOSException

from pkgdrc.errors import PkgdrcError
from pkgdrc.process import bound_text, exceeded, limit_address_space, memory_bound, note_rule, settle

_STATE: tuple[Callable[[Any, int], Any], Any] | None = None  # (work, state): inherited by forked workers
_BOUND: list[int | None] = [None]  # in a worker: the bytes it may grow by (set at its start)


def _start_worker(bound: int | None) -> None:
    _BOUND[0] = bound
    limit_address_space(bound)


def _call(i: int) -> tuple[int, Any]:
    assert _STATE is not None
    work, state = _STATE
    bound = _BOUND[0]
    note_rule(None)  # not the rule the parent ran last
    try:
        return i, work(state, i)
    except MemoryError:
        if bound is None:
            raise
        raise PkgdrcError(exceeded(bound)) from None
    except GEOSException as e:  # GEOS's std::bad_alloc
        if bound is None or "bad_alloc" not in str(e):
            raise
        raise PkgdrcError(exceeded(bound)) from None


def forked_map(work: Callable[[Any, int], Any], state: Any, n: int, jobs: int) -> Iterator[tuple[int, Any]]:
    """(i, work(state, i)) for i in range(n), in the order they finish, on `jobs` forked processes."""
    global _STATE
    _STATE = (work, state)
    bound = memory_bound()
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(min(jobs, n), context, initializer=_start_worker, initargs=(bound,)) as pool:
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
        settle()  # killed by a stop (SIGINT/SIGTERM): that one ends the run, with its own line
        why = "out of memory" if bound is None else f"it needed more than --max-memory ({bound_text(bound)})"
        raise PkgdrcError(f"a worker process died (killed, or {why}): the run could not be done") from None
    finally:
        _STATE = None
