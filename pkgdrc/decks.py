"""Load a deck for checking: read and validated wholly, its rules against the check kinds.

The entry point above `pkgdrc.deck` (which never imports the check kinds) and
`pkgdrc.checks` (which reads decks): every error names the file, the line and what was
expected, and comes before any geometry is read.
"""

from __future__ import annotations

from pathlib import Path

from pkgdrc.checks import CHECKS
from pkgdrc.deck import Deck, bundled_decks, read_deck

__all__ = ["bundled_decks", "load_deck"]


def load_deck(deck: str | Path) -> Deck:
    """Read and validate a deck (a path or a bundled deck's name) against the registered check kinds."""
    return read_deck(deck, CHECKS)
