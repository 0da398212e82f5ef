"""Deck validation: the whole deck is checked before geometry, errors name file and line."""

from __future__ import annotations

import pytest

from pkgdrc.deck.expr import BinOp, ExprError, Name, Size, parse
from pkgdrc.decks import bundled_decks, load_deck
from pkgdrc.errors import PkgdrcError


def test_every_bundled_deck_loads():
    decks = bundled_decks()
    assert "fowlp-2l" in decks
    for name in decks:
        deck = load_deck(name)
        assert deck.rules, name


def test_acceptance_deck_as_written():
    deck = load_deck("fowlp-2l")
    ids = [r.id for r in deck.rules]
    for rid in [
        "RDL1.W",
        "RDL2.W",
        "RDL1.S",
        "RDL2.S",
        "VIA1.EN.PAD",
        "VIA1.EN.RDL",
        "VIA2.EN.BOT",
        "VIA2.EN.TOP",
        "FO.1",
        "FO.2",
        "FO.3",
        "PO.1",
        "PO.2",
        "PO.3",
        "ANG.1",
    ]:
        assert rid in ids
    fo1 = deck.rule("FO.1")
    assert fo1.params == {"layer": ["RDL1", "RDL2", "UBM", "PO"], "of": "PKG", "clearance": 50.0}
    assert deck.rule("ANG.1").params["allowed"] == [0.0, 45.0, 90.0, 135.0]
    assert deck.rule("RDL1.S").doc == "RDL1 minimum space, notches included"
    assert deck.layers["UBM"] == (21, 0)


def _deck(tmp_path, text):
    p = tmp_path / "d.yaml"
    p.write_text(text)
    return p


BASE = "name: t\nlayers:\n  A: 1/0\n  B: 2/0\n"


@pytest.mark.parametrize(
    "body, line, message",
    [
        ("rules:\n  R1: {check: widht, layer: A, min: 1}\n", 6, "unknown check kind 'widht' (did you mean 'width'?)"),
        (
            "rules:\n  R1: {check: width, layer: A, mni: 1}\n",
            6,
            "unknown key 'mni' for check width (did you mean 'min'?)",
        ),
        ("rules:\n  R1: {check: width, layer: A}\n", 6, "missing 'min'"),
        ("rules:\n  R1: {check: width, layer: A, min: two}\n", 6, "min: expected a distance in um"),
        ("rules:\n  R1: {check: width, layer: A, min: -1}\n", 6, "negative"),
        ("rules:\n  R1: {check: width, layer: RDL9, min: 1}\n", 6, "unknown layer 'RDL9'"),
        (
            "rules:\n  R1: {check: width, layer: A, min: 1}\n  R1: {check: space, layer: A, min: 1}\n",
            7,
            "duplicate key 'R1' (first on line 6)",
        ),
        ("rules:\n  R1: {check: width, layer: A, min: 1, doc: a, b}\n", 6, "unknown key 'b'"),
        (
            "derived:\n  X: A | Y\n  Y: X & B\nrules:\n  R1: {check: width, layer: X, min: 1}\n",
            6,
            "derived layers refer to themselves: X -> Y -> X",
        ),
        ("derived:\n  X: A | (B\nrules: {}\n", 6, "expected ')'"),
        ("derived:\n  X: A | Q\nrules: {}\n", 6, "unknown layer 'Q'"),
        (
            "rulez:\n  R1: {check: width, layer: A, min: 1}\n",
            5,
            "unknown top-level key 'rulez' (did you mean 'rules'?)",
        ),
        ("rules:\n  R1: {check: width, layer: A, min: 1\n", None, "YAML syntax error"),
        ("rules:\n  R1: !!python/object:os.system {check: width}\n", None, "YAML"),
        ("rules:\n  R1: {check: angle, layer: A, allowed: 45}\n", 6, "expected a list of angles"),
    ],
)
def test_deck_errors_name_file_line_and_expectation(tmp_path, body, line, message):
    path = _deck(tmp_path, BASE + body)
    with pytest.raises(PkgdrcError) as e:
        load_deck(path)
    assert message in str(e.value)
    assert str(e.value).startswith(f"{path}:{line}:" if line else f"{path}:")


def test_bad_layer_spec(tmp_path):
    with pytest.raises(PkgdrcError, match=r"d.yaml:3: layer A: expected layer/datatype like 11/0"):
        load_deck(_deck(tmp_path, "name: t\nlayers:\n  A: one\nrules: {}\n"))


def test_unknown_deck_name():
    with pytest.raises(PkgdrcError, match="deck not found.*fowlp-2l"):
        load_deck("fowlp-2")


def test_expression_grammar_precedence():
    assert parse("A | B - C") == BinOp("|", Name("A"), BinOp("-", Name("B"), Name("C")))
    assert parse("(A | B) & C") == BinOp("&", BinOp("|", Name("A"), Name("B")), Name("C"))
    assert parse("grow(A & B, 1.5)") == Size("grow", BinOp("&", Name("A"), Name("B")), 1.5)
    for bad in ["A |", "A B", "grow(A)", "A + B", "__import__('os')"]:
        with pytest.raises(ExprError):
            parse(bad)


def test_a_fanout_reach_rule_needs_nets_at_load_time(tmp_path):
    layers = "name: t\nlayers:\n  PKG: 0/0\n  DIE: 1/0\n  DIE_PAD: 2/0\n  RDL1: 11/0\nrules:\n"
    clear = "  FO2: {check: fanout, layer: RDL1, outline: PKG, die: DIE, edge_clearance: 50}\n"
    assert [r.id for r in load_deck(_deck(tmp_path, layers + clear)).rules] == ["FO2"]
    reach = "  FO: {check: fanout, layer: RDL1, outline: PKG, die: DIE, pads: DIE_PAD, max_reach: 3000}\n"
    path = _deck(tmp_path, layers + clear + reach)
    with pytest.raises(PkgdrcError, match=r"d.yaml:9: rule FO: check fanout needs nets; declare the deck's connect:"):
        load_deck(path)
