"""Rule decks: YAML reading with line numbers, validation, derived-layer expressions.

`read_deck(path, kinds)` validates rules against the kinds it is given; users load a deck
with `pkgdrc.decks.load_deck(path)` (or `pkgdrc.load_deck`), which gives it the check kinds.
"""

from pkgdrc.deck.load import Deck, Rule, RuleKind, bundled_decks, read_deck, resolve_deck

__all__ = ["Deck", "Rule", "RuleKind", "bundled_decks", "read_deck", "resolve_deck"]
