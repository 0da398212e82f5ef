"""The flat engine's primitive: one rule run on a LayerSet, its violations and its RuleResult.

Every engine ends here: the flat run calls `run_rule` on the run's LayerSet; tiles call it
on each band's LayerSet; cell by cell calls `rule_violations` on each flattened group and
`rule_result` on what the cells found.
"""

from __future__ import annotations

import time

from pkgdrc.checks import kind_of
from pkgdrc.deck import Rule
from pkgdrc.errors import PkgdrcError
from pkgdrc.layers import LayerSet
from pkgdrc.markers import Violations, merge_sorted, to_markers
from pkgdrc.process import note_rule
from pkgdrc.result import RuleResult
from pkgdrc.units import Grid


def rule_violations(layers: LayerSet, rule: Rule) -> list[tuple[str, Violations]]:
    """A rule's violations on a LayerSet, per layer it runs on, in dbu."""
    kind = kind_of(rule)
    note_rule(rule.id)  # named if the run outgrows --max-memory (pkgdrc.process)
    try:
        return [
            (name, found) for name in kind.layers_run_on(rule.params) for found in kind.run(layers, name, rule.params)
        ]
    except PkgdrcError as e:  # a check refusing its input (too many density windows): say which rule
        raise PkgdrcError(f"rule {rule.id}: {e}") from None


def rule_result(rule: Rule, found: list[tuple[str, Violations]], grid: Grid) -> RuleResult:
    """The RuleResult of a rule's violations: markers in um, sorted."""
    kind = kind_of(rule)
    result = RuleResult(
        rule.id,
        rule.check,
        rule.doc,
        kind.limit(rule.params),
        kind.layers_run_on(rule.params),
        params=dict(rule.params),
        nets=kind.needs_nets(rule.params),
    )
    result.markers = merge_sorted([to_markers(v, name, grid) for name, v in found])
    return result


def run_rule(layers: LayerSet, rule: Rule) -> RuleResult:
    """A rule's RuleResult on a LayerSet, with the seconds it took (merging the layers it is the
    first to use included: a LayerSet merges each layer once, on first use)."""
    start = time.perf_counter()
    result = rule_result(rule, rule_violations(layers, rule), layers.grid)
    result.seconds = time.perf_counter() - start
    return result


def share_wall_time(results: list[RuleResult], wall: float) -> None:
    """Rules run together on several processes: give each rule its share of the phase's wall
    time, in proportion to the seconds its work took in the workers (summed over tiles), so
    that the rules' seconds add up to the time the run spent on them."""
    work = sum(r.seconds for r in results)
    for r in results:
        r.seconds = wall * r.seconds / work if work > 0 else wall / len(results)
