"""The interaction distance of a rule: how far from a marker a shape can change it.

One idea used by every engine that splits a layout: tiles grow each band's window by the
run's halo (`halo_um`), cell by cell isolates a placement farther than a rule's
`interaction_dbu` from everything else, and repetition (`geometry.repeats`) compares the
neighbourhoods within the rule's distance plus the same pad (`REACH_PAD_DBU`: pairs and
shields are tested rounded to the grid).
"""

from __future__ import annotations

from pkgdrc.checks import kind_of
from pkgdrc.deck import Deck, Rule
from pkgdrc.deck import expr as dexpr
from pkgdrc.geometry.pairs import REACH_PAD_DBU
from pkgdrc.units import Grid


def reach_um(rule: Rule) -> float:
    """How far from a marker a shape can change it: the kind's reach (`CheckKind.reach_um`)."""
    return kind_of(rule).reach_um(rule.params)


def sizing_um(deck: Deck) -> float:
    """How far the deck's derived layers may grow or shrink shapes, in all."""
    return sum(_sizing(e) for e in deck.derived.values())


def _sizing(e: dexpr.Expr) -> float:
    if isinstance(e, dexpr.Name):
        return 0.0
    if isinstance(e, dexpr.Size):
        return abs(e.distance) + _sizing(e.arg)
    return _sizing(e.left) + _sizing(e.right)


def halo_um(deck: Deck, rules: list[Rule]) -> float:
    """The interaction range of a tiled run: the largest rule reach plus the derived-layer sizing."""
    return max((reach_um(rule) for rule in rules), default=0.0) + sizing_um(deck)


def interaction_um(deck: Deck, rule: Rule) -> float:
    """The range within which shapes interact for one rule, cell by cell: its reach plus twice
    the sizing (two shapes a derived layer grows by g each come 2 g closer)."""
    return reach_um(rule) + 2 * sizing_um(deck)


def interaction_dbu(deck: Deck, rule: Rule, grid: Grid) -> float:
    """`interaction_um` in dbu, plus `REACH_PAD_DBU`: the distance within which shapes interact
    for one rule on the grid."""
    return float(grid.to_dbu(interaction_um(deck, rule))) + REACH_PAD_DBU
