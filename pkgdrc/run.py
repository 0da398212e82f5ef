"""One run: load layout -> build layers -> run checks -> collect markers."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from shapely.errors import GEOSException

from pkgdrc import cellwise, incremental, tiles
from pkgdrc.cache.store import Store
from pkgdrc.checks import drawn_reads, kind_of
from pkgdrc.deck import Deck, Rule
from pkgdrc.decks import load_deck
from pkgdrc.distributed import run_dask
from pkgdrc.drawing import make_drawing
from pkgdrc.errors import PkgdrcError
from pkgdrc.flat import rule_result, run_rule, share_wall_time
from pkgdrc.layers import LayerSet
from pkgdrc.layout import Layout, read_layout
from pkgdrc.plan import HIERARCHIES, Engine, Hierarchy, Options, by_cell, plan_work
from pkgdrc.process import note_rule
from pkgdrc.result import Report, RuleResult
from pkgdrc.safe_read import MAX_SHAPES
from pkgdrc.version import __version__
from pkgdrc.waivers import Waiver, apply_waivers, check_rules, load_waivers

DEFAULT_DECK = "fowlp-2l"


def _distance_warnings(deck: Deck, layout: Layout) -> list[str]:
    out = []
    for rule in deck.rules:
        for name, param in kind_of(rule).params.items():
            v = rule.params.get(name)
            problem = layout.grid.distance_warning(v) if param.kind == "distance" and v is not None else None
            if problem:
                out.append(f"{rule.id}: {name} {problem}")
    return out


def _nothing_to_check(deck: Deck, layout: Layout, layers: LayerSet, allow_empty: bool) -> list[str]:
    """A run in which no deck layer has a shape checked nothing: exit 2 unless allowed."""
    if len(layers.empty_layers) < len(deck.layers):
        return []
    message = (
        f"none of the deck's {len(deck.layers)} layers has a shape in cell {layout.top} "
        f"(deck {deck.name}: {', '.join(f'{n} {a}/{b}' for n, (a, b) in deck.layers.items())}); "
        "the run checked nothing"
    )
    if not allow_empty:
        raise PkgdrcError(message + "; pass --allow-empty if that is expected", path=layout.path)
    return [message]


def select_rules(deck: Deck, rules: list[str] | None) -> list[Rule]:
    """The deck's rules, or those named (each must exist); a run of no rule would check nothing."""
    if rules is None and not deck.rules:
        raise PkgdrcError(f"deck {deck.name} has no rules: the run would check nothing", path=deck.path)
    if rules is not None and not rules:
        raise PkgdrcError(f"no rule of deck {deck.name} selected: the run would check nothing", path=deck.path)
    return deck.rules if rules is None else [deck.rule(r) for r in rules]


def _tile_progress(rules: list[Rule], on_rule: Callable[[Rule], None] | None) -> Callable[[int, int], None] | None:
    """Per-rule progress for rules run in tiles: after k of n tiles, k/n of the rules count as started."""
    if on_rule is None:
        return None
    started = [0]

    def on_tile(done: int, total: int) -> None:
        while started[0] < len(rules) * done // total:
            on_rule(rules[started[0]])
            started[0] += 1

    return on_tile


def check(
    layout: str | Path | Layout,
    deck: str | Path | Deck = DEFAULT_DECK,
    top: str | None = None,
    rules: list[str] | None = None,
    waivers: str | Path | list[Waiver] | None = None,
    on_rule: Callable[[Rule], None] | None = None,
    jobs: int = 1,
    dask_scheduler: str | None = None,
    allow_empty: bool = False,
    max_shapes: int = MAX_SHAPES,
    max_memory: int | None = None,
    read_timeout: float | None = None,
    hierarchy: Hierarchy = "auto",
    drawing: bool = False,
    cache: Store | None = None,
) -> Report:
    """Check a layout (a path or a loaded Layout) against a deck (a path, bundled name or Deck).

    `rules` limits the run to those rule ids (an empty list, or a deck without rules, is
    refused: the run would check nothing); `waivers` (a waiver file or loaded waivers)
    moves accepted markers to `RuleResult.waived`; `on_rule` is called before each rule
    (progress). `jobs` > 1 (0: all cores) splits the run into tiles on that many processes,
    `dask_scheduler` ("tcp://host:8786") runs the tiles on a Dask cluster (`pkgdrc.tiles`,
    `pkgdrc.distributed`); the markers are the same as in one process. Local rules run cell
    by cell (`pkgdrc.cellwise`: each cell checked once, the same markers as the flat run)
    when the hierarchy at least halves the shapes to check (`hierarchy="auto"`), whenever a
    cell repeats ("cellwise"), or never ("flat"); the other rules run on the flattened layout.
    `pkgdrc.plan` decides the engine of each rule; `RuleResult.engine` says which ran it.
    A run where none of the deck's layers has a shape raises PkgdrcError (it would be a
    wrong "clean") unless `allow_empty`. `max_shapes` and `read_timeout` bound reading the
    layout (`pkgdrc.safe_read`), as does `max_memory` (bytes; its reading child). Running out
    of memory while checking raises PkgdrcError. Each RuleResult has the seconds its rule
    took (`run_rule`, `share_wall_time`). `drawing` keeps what the HTML report draws, as plain
    data (`Report.drawing`, `pkgdrc.drawing`). With a `cache` (a `pkgdrc.cache.Store`) each rule's
    markers come from it when their inputs did not change, are updated where the layout
    changed, or are computed and stored (`pkgdrc.incremental`; `RuleResult.cache` says which);
    the markers are the same as without it. Waivers apply after the cache.
    Returns a Report; raises PkgdrcError on bad input.
    """
    start = time.perf_counter()
    note_rule(None)  # loading this layout, not checking the last one's rule (pkgdrc.process)
    deck = deck if isinstance(deck, Deck) else load_deck(deck)
    selected = select_rules(deck, rules)
    if hierarchy not in HIERARCHIES:
        raise PkgdrcError(f"hierarchy must be one of {', '.join(HIERARCHIES)}, got {hierarchy!r}")
    if waivers is not None and not isinstance(waivers, list):
        waivers = load_waivers(waivers)
    if waivers:
        check_rules(waivers, [r.id for r in deck.rules], deck.name)
    path = layout.path if isinstance(layout, Layout) else str(layout)
    try:
        return _check(
            layout,
            deck,
            selected,
            top,
            waivers,
            on_rule,
            jobs,
            dask_scheduler,
            allow_empty,
            max_shapes,
            max_memory,
            read_timeout,
            hierarchy,
            start,
            drawing,
            cache,
        )
    except MemoryError as e:
        raise PkgdrcError(_memory_message(e), path=path) from None
    except GEOSException as e:
        if "bad_alloc" not in str(e):
            raise
        raise PkgdrcError(_memory_message(e), path=path) from None


def _memory_message(e: BaseException) -> str:
    return f"out of memory ({str(e) or type(e).__name__}): the run could not be done"


def _check(
    layout: str | Path | Layout,
    deck: Deck,
    selected: list[Rule],
    top: str | None,
    waivers: list[Waiver] | None,
    on_rule: Callable[[Rule], None] | None,
    jobs: int,
    dask_scheduler: str | None,
    allow_empty: bool,
    max_shapes: int,
    max_memory: int | None,
    read_timeout: float | None,
    hierarchy: Hierarchy,
    start: float,
    drawing: bool,
    cache: Store | None,
) -> Report:
    if not isinstance(layout, Layout):
        layout = read_layout(
            layout,
            deck.layers,
            top,
            label_map=deck.labels,
            max_shapes=max_shapes,
            max_memory=max_memory,
            read_timeout=read_timeout,
            cache=cache,
            jobs=jobs if dask_scheduler is None else 1,
        )
    if deck.dbu_um is not None and not math.isclose(layout.grid.dbu_um, deck.dbu_um, rel_tol=1e-9):
        raise PkgdrcError(
            f"the layout's database unit is {layout.grid.dbu_um:g} um, but deck {deck.name} "
            f"is written for dbu: {deck.dbu_um:g} um",
            path=layout.path,
        )
    n_jobs = tiles.jobs_for(layout, jobs)
    engines, work = plan_work(selected, layout, Options(hierarchy, n_jobs, dask_scheduler), deck)
    layers = LayerSet(layout, deck, merge_by_cell=by_cell(layout, hierarchy))
    empty = _nothing_to_check(deck, layout, layers, allow_empty)

    def run_fresh(rules: list[Rule]) -> list[RuleResult]:
        return _run_engines(layout, deck, rules, engines, layers, n_jobs, dask_scheduler, on_rule, work)

    if cache is None:
        results = run_fresh(selected)
    else:
        results = incremental.run_rules(layout, deck, selected, cache, run_fresh, on_rule)
        for result in results:
            result.engine = engines[result.id]
    empty_layers = set(layers.empty_layers)
    for result, rule in zip(results, selected):
        result.empty_inputs = [n for n in drawn_reads(deck, rule) if n in empty_layers]
    stale, expired = apply_waivers(results, waivers, layout) if waivers else ([], [])
    return Report(
        tool="pkgdrc",
        version=__version__,
        deck=deck.name,
        deck_path=deck.path,
        layout=layout.path,
        top=layout.top,
        dbu_um=layout.grid.dbu_um,
        rules=results,
        seconds=round(time.perf_counter() - start, 3),
        empty_layers=layers.empty_layers,
        shapes=layout.shape_count,
        repaired=layout.repaired,
        dropped=layout.dropped,
        warnings=empty + _distance_warnings(deck, layout),
        stale_waivers=stale,
        expired_waivers=expired,
        unmapped=layout.unmapped,
        cached=cache is not None,
        drawing=make_drawing(layout, deck, results, {r.id: kind_of(r).reads(r.params) for r in selected})
        if drawing
        else None,
    )


def _run_engines(
    layout: Layout,
    deck: Deck,
    selected: list[Rule],
    engines: dict[str, Engine],
    layers: LayerSet,
    n_jobs: int,
    dask_scheduler: str | None,
    on_rule: Callable[[Rule], None] | None,
    work: cellwise.Work | None = None,
) -> list[RuleResult]:
    """The rules' results, in order, each run by the engine the planner chose (`work`: the
    cell-by-cell units it planned)."""
    order = {rule.id: k for k, rule in enumerate(selected)}
    split = [r for r in selected if engines[r.id] in ("tiles", "dask")]
    cellwise_rules = [r for r in selected if engines[r.id] == "cellwise"]
    here = [r for r in selected if engines[r.id] == "flat"]
    here = [r for r in here if not kind_of(r).whole_layout] + [r for r in here if kind_of(r).whole_layout]
    phase = time.perf_counter()
    results: list[RuleResult] = []
    if split and dask_scheduler is not None:
        results = run_dask(layout, deck, split, dask_scheduler, _tile_progress(split, on_rule))
    elif split:
        results = tiles.run_local(layout, deck, split, n_jobs, _tile_progress(split, on_rule))
    if results:
        share_wall_time(results, time.perf_counter() - phase)
    phase = time.perf_counter()
    seconds: list[float] = []
    found = cellwise.run_rules(layout, deck, cellwise_rules, n_jobs, on_rule, seconds=seconds, work=work)
    cell_results = [rule_result(rule, f, layout.grid) for rule, f in zip(cellwise_rules, found)]
    for result, s in zip(cell_results, seconds):
        result.seconds = s
    if cell_results:
        share_wall_time(cell_results, time.perf_counter() - phase)
    results += cell_results
    for k, rule in enumerate(here):
        if on_rule is not None:
            on_rule(rule)
        results.append(run_rule(layers, rule))
        later = [(kind_of(r), r.params) for r in here[k + 1 :]]  # free the layers no later rule reads
        layers.keep([n for kind, p in later for n in kind.reads(p)], nets=any(kind.needs_nets(p) for kind, p in later))
    results.sort(key=lambda r: order[r.id])
    for result in results:
        result.engine = engines[result.id]
    return results
