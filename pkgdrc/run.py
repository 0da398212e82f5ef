"""One run: load layout -> build layers -> run checks -> collect markers."""

from __future__ import annotations

import time
from pathlib import Path

from pkgdrc import __version__
from pkgdrc.checks import CHECKS
from pkgdrc.deck import Deck, Rule, load_deck
from pkgdrc.layers import LayerSet
from pkgdrc.layout import Layout, read_layout
from pkgdrc.markers import to_markers
from pkgdrc.result import Report, RuleResult

DEFAULT_DECK = "fowlp-2l"


def _rule_layers(rule: Rule) -> list[str]:
    value = rule.params.get("layer")
    return list(value) if isinstance(value, list) else [value]


def _distance_warnings(deck: Deck, layout: Layout) -> list[str]:
    out = []
    for rule in deck.rules:
        for name, param in CHECKS[rule.check].PARAMS.items():
            v = rule.params.get(name)
            if param.kind == "distance" and v is not None and layout.grid.off_grid(v):
                out.append(f"{rule.id}: {name} {v:g} um is not a multiple of the layout grid "
                           f"({layout.grid.dbu_um:g} um); it is compared exactly, off the grid")
    return out


def run_rule(layers: LayerSet, rule: Rule) -> RuleResult:
    kind = CHECKS[rule.check]
    names = _rule_layers(rule)
    result = RuleResult(rule.id, rule.check, rule.doc, kind.limit(rule.params), names)
    for name in names:
        for found in kind.run(layers, name, rule.params):
            result.markers.extend(to_markers(found, name, layers.grid))
    result.markers.sort()
    return result


def check(layout: str | Path | Layout, deck: str | Path | Deck = DEFAULT_DECK, top: str | None = None,
          rules: list[str] | None = None) -> Report:
    """Check a layout (a path or a loaded Layout) against a deck (a path, bundled name or Deck).

    `rules` limits the run to those rule ids. Returns a Report; raises PkgdrcError on bad input.
    """
    start = time.perf_counter()
    deck = deck if isinstance(deck, Deck) else load_deck(deck)
    selected = deck.rules if rules is None else [deck.rule(r) for r in rules]
    if not isinstance(layout, Layout):
        layout = read_layout(layout, deck.layers, top)
    layers = LayerSet(layout, deck)
    results = [run_rule(layers, rule) for rule in selected]
    return Report(
        tool="pkgdrc", version=__version__, deck=deck.name, deck_path=deck.path,
        layout=layout.path, top=layout.top, dbu_um=layout.grid.dbu_um, rules=results,
        seconds=round(time.perf_counter() - start, 3), empty_layers=layers.empty_layers,
        shapes=layout.shape_count, repaired=layout.repaired, dropped=layout.dropped,
        warnings=_distance_warnings(deck, layout),
    )
