"""Bad decks: each is refused before any geometry is read, naming the file, the line and
what was expected; or, for a deck that matches nothing in the layout, the run stops."""

from __future__ import annotations

import subprocess
import sys

import gdstk
import pytest

import pkgdrc
from pkgdrc.decks import load_deck
from pkgdrc.errors import PkgdrcError

HEAD = "name: t\nunits: um\nlayers:\n  A: 1/0\n  B: 2/0\n"


def refused(tmp_path, text: str) -> str:
    path = tmp_path / "d.yaml"
    path.write_text(text)
    with pytest.raises(PkgdrcError) as e:
        load_deck(str(path))
    assert str(e.value).startswith(f"{path}:") and "\n" not in str(e.value)
    return str(e.value).removeprefix(f"{path}:")


def test_yaml_syntax_error(tmp_path):
    assert (
        refused(tmp_path, HEAD + "rules:\n  A.W: {check: width, layer: A, min: 2\n")
        == "8: YAML syntax error: expected ',' or '}', but got '<stream end>'"
    )


def test_unknown_top_level_key_did_you_mean(tmp_path):
    assert refused(tmp_path, HEAD + "rule:\n  A.W: {check: width, layer: A, min: 2}\n").startswith(
        "6: unknown top-level key 'rule' (did you mean 'rules'?); expected one of name, units,"
    )


def test_unknown_rule_key_did_you_mean(tmp_path):
    assert (
        refused(tmp_path, HEAD + "rules:\n  A.W: {check: width, layer: A, mn: 2}\n")
        == "7: rule A.W: unknown key 'mn' for check width (did you mean 'min'?); expected layer, min, check, doc"
    )


def test_unknown_check_kind_did_you_mean(tmp_path):
    assert refused(tmp_path, HEAD + "rules:\n  A.W: {check: widht, layer: A, min: 2}\n").startswith(
        "7: rule A.W: unknown check kind 'widht' (did you mean 'width'?)"
    )


def test_wrong_type(tmp_path):
    assert (
        refused(tmp_path, HEAD + "rules:\n  A.W: {check: width, layer: A, min: two}\n")
        == "7: rule A.W: min: expected a distance in um (a number >= 0), got 'two'"
    )


def test_negative_distance(tmp_path):
    assert (
        refused(tmp_path, HEAD + "rules:\n  A.W: {check: width, layer: A, min: -2}\n")
        == "7: rule A.W: min: expected a distance in um (a number >= 0), got a negative value -2"
    )


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1.0e+400"])
def test_non_finite_number(tmp_path, value):
    """A NaN limit compares false with every distance: the rule would pass everything."""
    number = float(value.replace(".nan", "nan").replace(".inf", "inf"))
    assert (
        refused(tmp_path, HEAD + f"rules:\n  A.W:\n    check: width\n    layer: A\n    min: {value}\n")
        == f"10: {number!r} is not a usable number; expected a finite number"
    )


def test_min_greater_than_max(tmp_path):
    text = HEAD + "rules:\n  D.1: {check: density, layer: A, outline: B, window: 100, step: 50, min: 0.6, max: 0.2}\n"
    assert refused(tmp_path, text) == "7: rule D.1: expected 0 <= min <= max <= 1, got min 0.6, max 0.2"


def test_range_min_greater_than_max(tmp_path):
    text = HEAD + "rules:\n  V.1: {check: via_landing, layer: A, below: B, above: B, size: {min: 5, max: 2}}\n"
    assert refused(tmp_path, text).startswith("7: rule V.1: size: expected a distance in um, or {min: A, max: B}")


def test_derived_expression_that_does_not_parse(tmp_path):
    assert (
        refused(tmp_path, HEAD + "derived:\n  D: A | | B\nrules: {}\n")
        == "7: derived layer D: expected name, found '|' in 'A | | B'"
    )


def test_derived_layer_that_refers_to_itself(tmp_path):
    assert (
        refused(tmp_path, HEAD + "derived:\n  D: A | D\nrules: {}\n") == "7: derived layers refer to themselves: D -> D"
    )


def test_derived_layers_in_a_cycle(tmp_path):
    assert (
        refused(tmp_path, HEAD + "derived:\n  D: A | E\n  E: grow(D, 1)\nrules: {}\n")
        == "7: derived layers refer to themselves: D -> E -> D"
    )


def test_yaml_tags_that_construct_objects_are_refused(tmp_path):
    text = HEAD + "description: !!python/object/apply:os.system ['touch pwned']\nrules: {}\n"
    message = refused(tmp_path, text)
    assert message.startswith(
        "6: YAML error: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'"
    ) or message.startswith("6: YAML syntax error: could not determine a constructor")
    assert not (tmp_path / "pwned").exists()


def test_alias_bomb_is_refused_before_expanding(tmp_path):
    """Billion laughs: 9 levels of 9 aliases is 9**9 values from a 1 kB file (counted, not expanded)."""
    lines = ["stack:", "  s0: &a0 [l, l, l, l, l, l, l, l, l]"]
    lines += [f"  s{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    text = HEAD.replace("units: um\n", "") + "\n".join(lines) + "\nunits: *a8\nrules: {}\n"
    assert (
        refused(tmp_path, text)
        == " the YAML expands to 926,177,127 values through aliases (*name); the limit is 1,000,000 (an alias bomb?)"
    )


def test_deeply_nested_deck(tmp_path):
    assert refused(tmp_path, HEAD + "rules: " + "[" * 50_000 + "]" * 50_000 + "\n") == " YAML nested too deeply"


def test_huge_deck_loads(tmp_path):
    rules = "".join(f"  A.W{i}: {{check: width, layer: A, min: {i % 7 + 1}}}\n" for i in range(5000))
    path = tmp_path / "big.yaml"
    path.write_text(HEAD + "rules:\n" + rules)
    deck = load_deck(str(path))
    assert [(r.id, r.params["min"]) for r in deck.rules] == [(f"A.W{i}", i % 7 + 1) for i in range(5000)]


def _no_deck_layers(tmp_path):
    lib = gdstk.Library()
    lib.new_cell("TOP").add(gdstk.rectangle((0, 0), (10, 1), layer=50))  # a layer the deck does not name
    path = tmp_path / "other.gds"
    lib.write_gds(str(path))
    deck = tmp_path / "d.yaml"
    deck.write_text(HEAD + "rules:\n  A.W: {check: width, layer: A, min: 2}\n")
    return path, deck


def test_deck_layers_all_absent_from_the_layout_is_exit_2(tmp_path):
    layout, deck = _no_deck_layers(tmp_path)
    with pytest.raises(PkgdrcError) as e:
        pkgdrc.check(layout, deck)
    assert str(e.value) == (
        f"{layout}: none of the deck's 2 layers has a shape in cell TOP (deck t: A 1/0, B 2/0); "
        "the run checked nothing; pass --allow-empty if that is expected"
    )
    p = subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", str(layout), "--deck", str(deck), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert (p.returncode, p.stderr.count("\n")) == (2, 1) and "the run checked nothing" in p.stderr


def test_allow_empty_runs_and_warns(tmp_path):
    layout, deck = _no_deck_layers(tmp_path)
    report = pkgdrc.check(layout, deck, allow_empty=True)
    assert report.violations == 0 and report.empty_layers == ["A", "B"]
    assert report.warnings == [
        "none of the deck's 2 layers has a shape in cell TOP (deck t: A 1/0, B 2/0); the run checked nothing"
    ]
