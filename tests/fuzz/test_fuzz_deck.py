"""Fuzz the deck loader: mutated text of the bundled fowlp-2l deck, and random YAML trees.

Every input must give a Deck or a PkgdrcError naming the deck file, never another
exception. Long run: PKGDRC_FUZZ_EXAMPLES=200000 python -m pytest tests/fuzz -q.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from fuzz_seeds import FUZZ
from hypothesis import example, given
from hypothesis import strategies as st

from pkgdrc.deck import Deck
from pkgdrc.decks import load_deck
from pkgdrc.errors import PkgdrcError

DECK = Path(__file__).resolve().parents[2] / "rules" / "fowlp-2l.yaml"
TEXT = DECK.read_text()
LINES = TEXT.splitlines(keepends=True)
WORK = Path(tempfile.mkdtemp(prefix="pkgdrc-fuzz-deck-"))
# Pieces a mutation may insert: YAML syntax, deck vocabulary, hostile values.
TOKENS = [
    ":",
    "{",
    "}",
    "[",
    "]",
    ",",
    "-",
    "|",
    "&",
    "(",
    ")",
    "'",
    '"',
    "\n",
    "  ",
    "#",
    "*a",
    "&a ",
    "!!python/object:os.system",
    "!!binary",
    "~",
    "null",
    "-1",
    "0",
    "1e400",
    "nan",
    ".inf",
    "true",
    "check: width",
    "layer: RDL1",
    "min: ",
    "max: ",
    "grow(",
    "shrink(",
    "RDL1",
    "RDL2",
    "PKG",
    "rules:",
    "layers:",
    "derived:",
    "<<: *a",
    "\t",
    "\x00",
    "é",
    "RDL1 | RDL1",
]


def _load(text: str) -> Deck | None:
    path = WORK / "deck.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        return load_deck(str(path))
    except PkgdrcError as e:
        assert str(e).startswith(str(path)), str(e)
        assert "\n" not in str(e).rstrip("\n") or "YAML" in str(e), str(e)
        return None


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 1 << 16), st.integers(0, 1 << 16), st.sampled_from(TOKENS)),
        min_size=1,
        max_size=5,
    )
)
def test_mutated_deck_loads_or_refuses(edits):
    text = TEXT
    for kind, a, b, token in edits:
        i = a % (len(text) + 1)
        if kind == 0:
            text = text[:i] + token + text[i:]
        elif kind == 1:
            text = text[:i] + text[i + b % 40 :]
        elif kind == 2:
            lines = text.splitlines(keepends=True) or [""]
            k = a % len(lines)
            lines.insert(b % (len(lines) + 1), lines[k])
            text = "".join(lines)
        else:
            text = text[:i] + token + text[i + b % 10 :]
    _load(text)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["RDL1", "RDL2", "width", "space", "RDL1 - RDL2"]),
)
trees = st.recursive(
    scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["check", "layer", "min", "max", "other", "by", "of", "allowed", "doc", "RDL1", "X", "clearance"]
            ),
            kids,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


@FUZZ
@given(
    layers=st.dictionaries(st.sampled_from(["RDL1", "RDL2", "PKG", "1x", "A.B"]), scalars | trees, max_size=3),
    derived=st.dictionaries(st.sampled_from(["D", "E", "RDL1"]), scalars | trees, max_size=2),
    rules=st.dictionaries(st.text(min_size=1, max_size=6), trees, max_size=3),
)
@example(layers={"RDL1": 0}, derived={}, rules={"0": {"check": []}})  # found: TypeError, unhashable list
def test_random_deck_trees_load_or_refuse(layers, derived, rules):
    text = yaml.safe_dump(
        {"name": "fz", "units": "um", "layers": layers, "derived": derived, "rules": rules}, allow_unicode=True
    )
    _load(text)
