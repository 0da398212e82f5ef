"""Rule decks: YAML reading with line numbers, validation, derived-layer expressions."""

from pkgdrc.deck.load import Deck, Rule, bundled_decks, load_deck, resolve_deck

__all__ = ["Deck", "Rule", "bundled_decks", "load_deck", "resolve_deck"]
