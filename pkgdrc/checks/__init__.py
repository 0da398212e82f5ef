"""Check kinds: one module each, declaring one `KIND = CheckKind(...)` (`pkgdrc.checks.kind`),
registered here, explicitly, one line each.

`CHECKS` maps a deck's `check:` name to its CheckKind; `kind_of(rule)` is the kind a rule runs,
`drawn_reads(deck, rule)` the drawn layers it reads.
"""

from __future__ import annotations

from pkgdrc.checks import (
    angle,
    area,
    connectivity,
    covers,
    density,
    enclosure,
    fanout,
    inside,
    keepout,
    one_to_one,
    overlap,
    passivation,
    pitch,
    separation,
    space,
    stack,
    trace_width,
    via_landing,
    width,
)
from pkgdrc.checks.kind import CheckKind
from pkgdrc.deck import Deck, Rule
from pkgdrc.deck import expr as dexpr

__all__ = ["CHECKS", "CheckKind", "drawn_reads", "kind_of", "register"]

CHECKS: dict[str, CheckKind] = {}


def register(kind: CheckKind) -> None:
    """Add a kind to the registry; a second kind of the same name is refused."""
    if not isinstance(kind, CheckKind):
        raise TypeError(f"register() takes a CheckKind, got {type(kind).__name__}")
    if kind.name in CHECKS:
        raise ValueError(f"check kind {kind.name!r} is registered twice")
    CHECKS[kind.name] = kind


register(width.KIND)
register(space.KIND)
register(separation.KIND)
register(enclosure.KIND)
register(overlap.KIND)
register(inside.KIND)
register(angle.KIND)
register(area.KIND)
register(covers.KIND)
register(one_to_one.KIND)
register(pitch.KIND)
register(keepout.KIND)
register(stack.KIND)
register(via_landing.KIND)
register(fanout.KIND)
register(trace_width.KIND)
register(passivation.KIND)
register(connectivity.KIND)
register(density.KIND)


def kind_of(rule: Rule) -> CheckKind:
    """The CheckKind a rule runs (the deck was validated against the registry)."""
    return CHECKS[rule.check]


def drawn_reads(deck: Deck, rule: Rule) -> list[str]:
    """The drawn deck layers a rule reads, through its layer parameters and derived layers, sorted."""
    return drawn_behind(deck, kind_of(rule).reads(rule.params))


def drawn_behind(deck: Deck, names: list[str]) -> list[str]:
    """The drawn deck layers behind layer `names` (derived layers resolved), sorted."""
    todo, drawn = list(names), set[str]()
    while todo:
        name = todo.pop()
        if name in deck.derived:
            todo.extend(dexpr.names(deck.derived[name]) - drawn)
        else:
            drawn.add(name)
    return sorted(drawn & set(deck.layers))
