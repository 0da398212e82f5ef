"""Run the tiles of a check on a Dask cluster (`pkgdrc check --dask-scheduler tcp://HOST:8786`).

The client plans the same bands as `--jobs` (`pkgdrc.tiles`), one or more per worker
thread, and submits one task per band. Each worker reads the layout itself, from the
path the client was given, so that path must be one all workers see (a shared file
system), within the limits the client read it within (`Layout.limits`: --max-shapes,
--max-memory, --read-timeout); a worker keeps the layout it read for its next tasks.
Only markers travel back.
Needs the `dask` extra: `pip install 'pkgdrc[dask]'`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pkgdrc.deck import Deck, Rule
from pkgdrc.errors import PkgdrcError
from pkgdrc.layout import Layout, read_layout
from pkgdrc.result import RuleResult
from pkgdrc.safe_read import ReadLimits
from pkgdrc.tiles import Tile, deck_halo_dbu, merge_results, plan_tiles, run_tile

CONNECT_TIMEOUT = "20s"
_READ: dict[tuple, Layout] = {}  # per worker process: (path, size, mtime, top, layers, limits) -> layout


def _worker_layout(path: str, deck: Deck, top: str, limits: ReadLimits) -> Layout:
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns, top, tuple(sorted(deck.layers.items())), limits)
    if key not in _READ:
        _READ.clear()  # one layout at a time per worker
        _READ[key] = read_layout(
            path,
            deck.layers,
            top,
            label_map=deck.labels,
            max_shapes=limits.max_shapes,
            max_memory=limits.max_memory,
            read_timeout=limits.read_timeout,
        )
    return _READ[key]


def dask_tile(path: str, top: str, deck: Deck, rules: list[Rule], tile: Tile, limits: ReadLimits) -> list[RuleResult]:
    """One Dask task: read (or reuse) the layout on this worker within `limits`, run the band,
    return its markers."""
    return run_tile(_worker_layout(path, deck, top, limits), deck, rules, tile)


def run_dask(
    layout: Layout, deck: Deck, rules: list[Rule], scheduler: str, on_tile: Callable[[int, int], None] | None = None
) -> list[RuleResult]:
    """Run `rules` as band tasks on the Dask cluster at `scheduler`; markers as one process finds them.

    `on_tile(done, total)` is called as each band finishes (progress).
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise PkgdrcError("--dask-scheduler needs Dask: pip install 'pkgdrc[dask]'") from None
    path = str(Path(layout.path).resolve())
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as e:
        raise PkgdrcError(f"cannot reach the Dask scheduler {scheduler}: {e}") from None
    with client:
        threads = sum(client.nthreads().values()) or 1
        tiles = plan_tiles(layout, deck_halo_dbu(layout, deck, rules), threads)
        futures = [client.submit(dask_tile, path, layout.top, deck, rules, t, layout.limits, pure=False) for t in tiles]
        for done, _ in enumerate(as_completed(futures), 1):
            if on_tile is not None:
                on_tile(done, len(futures))
        return merge_results(client.gather(futures))
