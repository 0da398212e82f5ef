"""The cell-by-cell engine: local (and closed) rules run down the cell hierarchy
(`pkgdrc.cellwalk`: each cell checked once, the flat run's markers), in this process or cut
into units of work on several.

Several processes (`run_rules` with jobs > 1): the top cell's parts of every rule (its
isolated and covered placements, and its flat rest) are grouped into units of work, one per
placed cell (a cell placed once: one per placement) holding every rule that reads it; the
units go to the processes costliest first. Within a unit the rules share each drawn layer's
merge and edges (`Shared`: by content, so a rule whose group also holds crowded vias shares
the RDL merge with one whose group does not). A panel of unique, isolated packages is one
unit per package, where tiles' windows would pull whole packages into both bands.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pkgdrc.cellwalk import CellwiseRule, Found, Part, Shared, by_cell_possible
from pkgdrc.deck import Deck, Rule
from pkgdrc.hierarchy import CellTree
from pkgdrc.layout import Layout
from pkgdrc.pool import forked_map

__all__ = ["CellwiseRule", "Work", "by_cell_possible", "run_rules", "splits_well", "units_of_work"]


def _rule_of(state: tuple, i: int) -> tuple[Found, float]:
    checkers = state[0]
    start = time.perf_counter()
    return checkers[i].run(), time.perf_counter() - start


def _unit_of(state: tuple, i: int) -> list[tuple[int, Found, float]]:
    checkers, units = state
    shared = Shared(checkers[0].shared.layer_boxes)  # a unit's groups are its own
    out = []
    for k, part in units[i]:
        checkers[k].shared = shared
        start = time.perf_counter()
        out.append((k, checkers[k].run_part(part), time.perf_counter() - start))
    checkers[0].tree.forget_polygons()  # a worker holds one unit's cells at a time
    return out


def units_of_work(checkers: list[CellwiseRule]) -> tuple[list[list[tuple[int, Part]]], list[float]]:
    """The top cell's parts of every rule, grouped so that the parts on one placed cell (all
    rules) are one unit (their layers merged once), with each unit's cost (shapes it reads);
    costliest first. A part whose placements are checked in place is split per placement."""
    if not checkers:
        return [], []
    tree = checkers[0].tree
    counts = _shape_counts(tree)
    units: dict[tuple, list[tuple[int, Part]]] = {}
    cost: dict[tuple, float] = {}
    for k, c in enumerate(checkers):
        for part in c.parts():
            pieces: list[tuple[tuple, Part, float]]
            if part[0] == "flat":
                own = tree.cells[tree.top].count()
                pieces = [(("flat",), part, own + sum(counts[ch] * len(o) for ch, _, o in part[1]))]
            else:
                _, child, mm, cover, offs = part
                if c.in_place(offs):
                    pieces = [
                        ((child, mm, tuple(o)), ("cells", child, mm, cover, offs[j : j + 1]), counts[child])
                        for j, o in enumerate(offs.tolist())
                    ]
                else:
                    pieces = [((child, mm), part, counts[child])]
            for key, piece, n_shapes in pieces:
                units.setdefault(key, []).append((k, piece))
                cost[key] = cost.get(key, 0.0) + n_shapes
    order = sorted(units, key=lambda key: -cost[key])
    return [units[key] for key in order], [cost[key] for key in order]


def _shape_counts(tree: CellTree) -> dict[str, int]:
    """Shapes of each cell's content (all layers), without flattening."""
    out: dict[str, int] = {}
    for name, cell in tree.cells.items():  # children first
        out[name] = cell.count() + sum(out[p.cell] * len(p.offsets) for p in cell.placements)
    return out


@dataclass
class Work:
    """Rules cell by cell on a layout, planned once: a checker per rule (sharing one `Shared`),
    the units of work (`units_of_work`, costliest first) and their costs. The planner builds it
    to weigh the split (`splits_well`); the run reuses it (`run_rules(work=...)`)."""

    rules: list[Rule]
    checkers: list[CellwiseRule]
    units: list[list[tuple[int, Part]]]
    cost: list[float]

    @classmethod
    def plan(cls, layout: Layout, deck: Deck, rules: list[Rule]) -> Work:
        shared = Shared()
        checkers = [CellwiseRule(layout, deck, rule, shared) for rule in rules]
        units, cost = units_of_work(checkers)
        return cls(list(rules), checkers, units, cost)

    def for_rules(self, rules: list[Rule]) -> bool:
        """Whether this work is that of `rules` (the same rules, in order)."""
        return [r.id for r in self.rules] == [r.id for r in rules]

    def splits_well(self, jobs: int) -> bool:
        """No unit holds more than 1 / (2 jobs) of the shapes read, and there are several."""
        return jobs > 1 and len(self.cost) > 1 and self.cost[0] <= sum(self.cost) / (2 * jobs)


def splits_well(layout: Layout, deck: Deck, rules: list[Rule], jobs: int) -> Work | None:
    """The work of `rules` cell by cell when it splits into units that `jobs` processes share
    well (`Work.splits_well`: the top's own shapes and crowded placements are one unit), else None."""
    if layout.tree is None or jobs <= 1 or not rules:
        return None
    work = Work.plan(layout, deck, rules)
    return work if work.splits_well(jobs) else None


def run_rules(
    layout: Layout,
    deck: Deck,
    rules: list[Rule],
    jobs: int = 1,
    on_rule: Callable[[Rule], None] | None = None,
    seconds: list[float] | None = None,
    work: Work | None = None,
) -> list[Found]:
    """Each rule's violations, cell by cell; on `jobs` forked processes when > 1.

    With several processes the work is cut into units (`units_of_work`): the top cell's
    placements that are checked on their own, each with every rule that reads it, and the
    top's flat part; units go to the processes costliest first, as each frees up (longest
    processing time first). When one unit would hold more than 1 / (2 jobs) of the work, whole
    rules go to the processes instead, costliest first. `on_rule(rule)` is called as a rule
    starts (one process) or finishes (several); `seconds`, when given, receives the time each
    rule took where it ran, in order. `work`: these rules' units as the planner made them
    (`splits_well`), used when given for the same rules.
    """
    took = seconds if seconds is not None else []
    took[:] = [0.0] * len(rules)
    if jobs <= 1 or len(rules) == 0:
        shared = Shared()
        checkers = [CellwiseRule(layout, deck, rule, shared) for rule in rules]
        out = []
        for k, rule in enumerate(rules):
            if on_rule is not None:
                on_rule(rule)
            start = time.perf_counter()
            out.append(checkers[k].run())
            took[k] = time.perf_counter() - start
        return out
    if work is None or not work.for_rules(rules):
        work = Work.plan(layout, deck, rules)
    checkers, units = work.checkers, work.units
    found: list[Found] = [[] for _ in rules]
    for name in deck.layers:  # computed once here, inherited by the forked workers
        checkers[0].shared.has(checkers[0].tree, checkers[0].tree.top, name)
    if work.splits_well(jobs):
        left = [0] * len(rules)
        for unit in units:
            for k, _ in unit:
                left[k] += 1
        for k in range(len(rules)):
            if left[k] == 0 and on_rule is not None:  # nothing to check: done at once
                on_rule(rules[k])
        for _, done in forked_map(_unit_of, (checkers, units), len(units), jobs):
            for k, f, s in done:
                found[k] += f
                took[k] += s
                left[k] -= 1
                if left[k] == 0 and on_rule is not None:
                    on_rule(rules[k])
        return found
    heavy = sorted(range(len(rules)), key=lambda k: -checkers[k].reads())
    ordered = [checkers[k] for k in heavy]
    for i, (result, s) in forked_map(_rule_of, (ordered,), len(ordered), jobs):
        found[heavy[i]], took[heavy[i]] = result, s
        if on_rule is not None:
            on_rule(rules[heavy[i]])
    return found
