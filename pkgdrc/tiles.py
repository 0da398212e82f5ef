"""Split a run across processes by tiles, and merge the tiles' markers exactly.

The layout is cut into `n` bands along its longer side, with cut lines at quantiles of
the shapes' centres so that the bands hold about as many shapes each. A band's *core*
is the half-open interval between two cuts; every marker belongs to exactly one core:
the one holding its reference point (the smallest vertex of the marker, x then y,
after rounding to the grid). That is how markers are merged without duplicates.

A band's *window* is what its worker reads. It is exact, not a guess:

1. the core grown by the halo (the largest distance in the deck, plus the sum of the
   derived layers' grow/shrink distances, plus 2 dbu for rounding);
2. grown until every shape (of every deck layer) whose bounding box meets the window
   lies inside it: then every merged polygon, every connected net and every boolean
   that touches the window is complete inside it;
3. grown by the halo again and closed again, so that every polygon within rule distance
   of those complete polygons is complete too.

A marker whose reference point lies in the core lies on a polygon that meets the core,
so both that polygon and every partner within rule distance are complete in the window,
and the worker computes the marker exactly as a single process would. The price: a
window can be much larger than its core (a package outline pulls in the whole package;
a panel-wide plane pulls in the whole panel, and the run is then as slow as one job).

Workers of the local pool are forked after the layout is loaded (copy on write); the
Dask path (`pkgdrc.distributed`) runs the same `run_tile` on workers that read the
layout from a shared path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from pkgdrc.deck import Deck, Rule
from pkgdrc.flat import run_rule
from pkgdrc.layers import LayerSet
from pkgdrc.layout import Layout
from pkgdrc.markers import Marker
from pkgdrc.pool import default_jobs, forked_map
from pkgdrc.reach import halo_um
from pkgdrc.result import RuleResult

# Below this many shapes a run stays in one process: forking costs more than it saves.
MIN_SHAPES_PER_JOB = 20_000


@dataclass(frozen=True)
class Tile:
    """One band: markers whose reference coordinate on `axis` (0 x, 1 y) lies in [lo, hi) um
    are its own; it reads the shapes meeting `window` (dbu)."""

    index: int
    axis: int
    lo: float  # um, -inf for the first band
    hi: float  # um, +inf for the last band
    window: tuple[float, float, float, float]


def _all_bounds(layout: Layout) -> np.ndarray:
    parts = [shapely.bounds(p).reshape(-1, 4) for p in layout.polygons.values() if len(p)]
    return np.concatenate(parts) if parts else np.empty((0, 4))


def _close(bounds: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Grow box `w` until every box meeting it lies inside it (bounding-box fixed point)."""
    while True:
        meet = (bounds[:, 0] <= w[2]) & (bounds[:, 2] >= w[0]) & (bounds[:, 1] <= w[3]) & (bounds[:, 3] >= w[1])
        if not meet.any():
            return w
        hit = bounds[meet]
        grown = np.array(
            [
                min(w[0], hit[:, 0].min()),
                min(w[1], hit[:, 1].min()),
                max(w[2], hit[:, 2].max()),
                max(w[3], hit[:, 3].max()),
            ]
        )
        if np.array_equal(grown, w):
            return w
        w = grown


def plan_tiles(layout: Layout, halo_dbu: float, n: int) -> list[Tile]:
    """Cut the layout into `n` bands of about equal shape counts, with exact windows."""
    bounds = _all_bounds(layout)
    if len(bounds) == 0 or n <= 1:
        return [Tile(0, 0, -np.inf, np.inf, (-np.inf, -np.inf, np.inf, np.inf))]
    lo, hi = bounds[:, :2].min(axis=0), bounds[:, 2:].max(axis=0)
    axis = 0 if hi[0] - lo[0] >= hi[1] - lo[1] else 1
    centres = (bounds[:, axis] + bounds[:, axis + 2]) / 2
    cuts = np.unique(np.rint(np.quantile(centres, np.linspace(0, 1, n + 1)[1:-1])))
    edges = np.concatenate([[-np.inf], cuts, [np.inf]])
    grow = halo_dbu + 2.0
    tiles = []
    for i in range(len(edges) - 1):
        box = np.array([lo[0], lo[1], hi[0], hi[1]], dtype=float)
        box[axis] = max(lo[axis], edges[i]) - grow
        box[axis + 2] = min(hi[axis], edges[i + 1]) + grow
        box[1 - axis] -= grow
        box[3 - axis] += grow
        w = _close(bounds, _close(bounds, box) + np.array([-grow, -grow, grow, grow]))
        tiles.append(
            Tile(
                i,
                axis,
                float(edges[i] * layout.grid.dbu_um),
                float(edges[i + 1] * layout.grid.dbu_um),
                (float(w[0]), float(w[1]), float(w[2]), float(w[3])),
            )
        )
    return tiles


def sub_layout(layout: Layout, window: tuple[float, float, float, float]) -> Layout:
    """The shapes (and labels) of `layout` whose bounding boxes meet `window` (dbu)."""
    x0, y0, x1, y1 = window
    polygons = {}
    for name, polys in layout.polygons.items():
        b = shapely.bounds(polys).reshape(-1, 4)
        meet = (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
        polygons[name] = polys[meet]
    labels = {
        name: [lb for lb in found if x0 <= lb[1] <= x1 and y0 <= lb[2] <= y1] for name, found in layout.labels.items()
    }
    return Layout(layout.path, layout.top, layout.grid, polygons, labels)


def reference_point(m: Marker) -> tuple[float, float]:
    """The smallest vertex of a marker (x, then y): a point on the geometry it marks."""
    if m.edge_pair is not None:
        return min(p for seg in m.edge_pair for p in seg)
    if m.edge is not None:
        return min(m.edge)
    if m.polygon:
        return min(m.polygon)
    return (m.bbox[0], m.bbox[1])


def owns(tile: Tile, m: Marker) -> bool:
    ref = reference_point(m)
    return tile.lo <= ref[tile.axis] < tile.hi


def run_tile(layout: Layout, deck: Deck, rules: list[Rule], tile: Tile) -> list[RuleResult]:
    """Run `rules` on the tile's window; keep the markers the tile owns."""
    layers = LayerSet(sub_layout(layout, tile.window), deck)
    results = [run_rule(layers, rule) for rule in rules]
    for r in results:
        r.markers = [m for m in r.markers if owns(tile, m)]
    return results


def merge_results(per_tile: list[list[RuleResult]]) -> list[RuleResult]:
    """One RuleResult per rule: the tiles' owned markers, sorted (as one process sorts them)."""
    merged = per_tile[0]
    for results in per_tile[1:]:
        for into, r in zip(merged, results):
            into.markers.extend(r.markers)
            into.seconds += r.seconds  # each band's time on the rule (pkgdrc.flat.share_wall_time)
    for r in merged:
        r.markers.sort(key=Marker.sort_key)
    return merged


def _tile_of(state: tuple, i: int) -> list[RuleResult]:
    layout, deck, rules, tiles = state
    return run_tile(layout, deck, rules, tiles[i])


def jobs_for(layout: Layout, jobs: int) -> int:
    """Processes worth using: `jobs` (0 = all cores), fewer for small layouts."""
    jobs = default_jobs() if jobs <= 0 else jobs
    return max(1, min(jobs, layout.shape_count // MIN_SHAPES_PER_JOB))


def run_local(
    layout: Layout, deck: Deck, rules: list[Rule], jobs: int, on_tile: Callable[[int, int], None] | None = None
) -> list[RuleResult]:
    """Run the rules on `jobs` forked processes, one band each; markers as one process finds them.

    `on_tile(done, total)` is called as each band finishes (progress).
    """
    tiles = plan_tiles(layout, deck_halo_dbu(layout, deck, rules), jobs)
    if len(tiles) == 1:
        results = run_tile(layout, deck, rules, tiles[0])
        if on_tile is not None:
            on_tile(1, 1)
        return results
    per_tile: list = [None] * len(tiles)
    state = (layout, deck, rules, tiles)
    for done, (i, results) in enumerate(forked_map(_tile_of, state, len(tiles), len(tiles)), 1):
        per_tile[i] = results
        if on_tile is not None:
            on_tile(done, len(tiles))
    return merge_results(per_tile)


def deck_halo_dbu(layout: Layout, deck: Deck, rules: list[Rule]) -> float:
    return float(layout.grid.to_dbu(halo_um(deck, rules)))
