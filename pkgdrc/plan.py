"""Which engine runs each rule: decided here, once per run, from the rule's kind and the options.

Engines (named strings, as KLayout's and gdsfactory's modes):

- "flat": the rule on the run's LayerSet (`pkgdrc.flat.run_rule`), in this process;
- "cellwise": down the cell tree, each cell checked once (`pkgdrc.cellwise`), for local
  kinds on layouts whose cells repeat;
- "tiles": the flattened layout cut into bands on forked processes (`pkgdrc.tiles`);
- "dask": the same bands on a Dask cluster (`pkgdrc.distributed`).

`hierarchy` chooses between cell by cell and flat for the rules that may run cell by cell
(local kinds, and kinds closed per isolated placement: `CheckKind.closed`): "auto" runs local
rules cell by cell when the hierarchy at least halves the shapes to check and the rule's drawn
layers hold at least `SMALL_RULE` flattened shapes (each cell's group costs a few ms however
few shapes it has: a rule on fewer shapes is checked flat sooner), and every such
rule when the run has several jobs and cell by cell splits into units of work they share
well (`cellwise.splits_well`: a panel of unique packages, each isolated, is one unit per
package, where tiles would pull whole packages into both windows); "cellwise" whenever a
cell repeats, "flat" never. Every rule not run cell by cell is split into tiles when the run
has several jobs (or a Dask scheduler) and its kind allows it (not `whole_layout`). Every
engine gives the same markers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pkgdrc.cellwalk import by_cell_possible, is_local
from pkgdrc.cellwise import Work, splits_well
from pkgdrc.checks import drawn_reads, kind_of
from pkgdrc.deck import Deck, Rule
from pkgdrc.layout import Layout

Engine = Literal["flat", "cellwise", "tiles", "dask"]
Hierarchy = Literal["auto", "cellwise", "flat"]
HIERARCHIES: tuple[Hierarchy, ...] = ("auto", "cellwise", "flat")
# Flattened shapes on a rule's drawn layers below which `auto` checks it flat on one job: a flat
# check takes ~8 us a shape, each cell's group in a cell-by-cell walk a few ms of set-up
# (KLayout's nets_proc_1: L2 with 1,920 shapes in 16 cells 82 ms by cell, 15 ms flat).
SMALL_RULE = 5_000


@dataclass(frozen=True)
class Options:
    """What the planner reads of a run: the hierarchy mode, the processes (after
    `tiles.jobs_for`) and the Dask scheduler, if any."""

    hierarchy: Hierarchy = "auto"
    jobs: int = 1
    dask_scheduler: str | None = None


def by_cell(layout: Layout, hierarchy: Hierarchy) -> bool:
    """Whether local rules run cell by cell on this layout (see the module docstring)."""
    if hierarchy not in HIERARCHIES:
        raise ValueError(f"hierarchy must be one of {', '.join(HIERARCHIES)}, got {hierarchy!r}")
    if hierarchy == "flat" or layout.tree is None or not layout.tree.repeated():
        return False
    return hierarchy == "cellwise" or layout.tree.flat_count() >= 2 * layout.tree.drawn_count()


def _small(rule: Rule, layout: Layout, deck: Deck | None) -> bool:
    """Whether `auto` checks the rule flat for its few shapes (`SMALL_RULE`); unknown without a deck."""
    return deck is not None and sum(layout.count(n) for n in drawn_reads(deck, rule)) < SMALL_RULE


def plan(rules: list[Rule], layout: Layout, options: Options, deck: Deck | None = None) -> dict[str, Engine]:
    """Rule id -> the engine that runs it (`deck`: needed to weigh cell by cell on several jobs)."""
    return plan_work(rules, layout, options, deck)[0]


def plan_work(
    rules: list[Rule], layout: Layout, options: Options, deck: Deck | None = None
) -> tuple[dict[str, Engine], Work | None]:
    """`plan`, and the cell-by-cell rules' units of work when the planner built them to weigh
    the split (`cellwise.splits_well`), for the run to reuse (`cellwise.run_rules(work=...)`)."""
    cells = by_cell(layout, options.hierarchy)
    split: Engine = "dask" if options.dask_scheduler is not None else ("tiles" if options.jobs > 1 else "flat")
    candidates = [r for r in rules if by_cell_possible(r)]
    work = None
    if options.hierarchy == "cellwise":
        chosen = {r.id for r in candidates} if cells else set()
    elif options.hierarchy == "auto" and split == "tiles" and deck is not None:
        work = splits_well(layout, deck, candidates, options.jobs)
        chosen = {r.id for r in candidates} if work is not None else {r.id for r in candidates if cells and is_local(r)}
    else:
        chosen = {r.id for r in candidates if cells and is_local(r) and not _small(r, layout, deck)}
    out: dict[str, Engine] = {}
    for rule in rules:
        kind = kind_of(rule)
        if rule.id in chosen:
            out[rule.id] = "cellwise"
        elif kind.whole_layout:
            out[rule.id] = "flat"
        else:
            out[rule.id] = split
    return out, work
