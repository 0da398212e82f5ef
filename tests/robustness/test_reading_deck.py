"""Deck values a user can write, read as meant or refused in one line (issue 15, items 5, 12, 15, 28).

A layer number above 65535 checked nothing (GDSII layers are 16-bit); a 401-digit integer
and a date that does not exist raised tracebacks; `1e-06` was a string to YAML 1.1; a deck
of 150,000 plain rules was refused after 212 s as "an alias bomb".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gdstk
import pytest

from pkgdrc.decks import load_deck

HEAD = "name: t\nunits: um\nlayers:\n  RDL1: 11/0\n"


def check(tmp_path: Path, deck_text: str, *args: str) -> tuple[Path, subprocess.CompletedProcess]:
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.new_cell("TOP").add(
        gdstk.rectangle((0, 0), (1, 10), layer=11), gdstk.rectangle((5, 0), (5.001, 0.001), layer=11)
    )
    layout = tmp_path / "t.gds"
    lib.write_gds(str(layout))
    deck = tmp_path / "d.yaml"
    deck.write_text(deck_text)
    done = subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", str(layout), "--deck", str(deck), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return deck, done


@pytest.mark.parametrize(("spec", "what"), [("70000/0", "layer number 70000"), ("11/65536", "datatype number 65536")])
def test_layer_or_datatype_above_65535(tmp_path, spec, what):
    deck, done = check(
        tmp_path,
        f"name: t\nunits: um\nlayers:\n  RDL1: {spec}\nrules:\n  RDL1.W: {{check: width, layer: RDL1, min: 2}}\n",
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {deck}:4: layer RDL1: {what} is above 65535 (GDSII layers and "
        f"datatypes are 16-bit: no layout can have it), in '{spec}'\n"
    )


def test_401_digit_integer(tmp_path):
    deck, done = check(tmp_path, HEAD + "rules:\n  RDL1.W: {check: width, layer: RDL1, min: 1" + "0" * 400 + "}\n")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {deck}:6: integer of 401 characters is too large; expected a number below 2**63\n"
    )


def test_integer_just_beyond_64_bits(tmp_path):
    deck, done = check(tmp_path, HEAD + f"rules:\n  RDL1.W: {{check: width, layer: RDL1, min: {2**63}}}\n")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"pkgdrc: error: {deck}:6: integer {2**63} is too large; expected a number below 2**63\n")


def test_date_that_does_not_exist(tmp_path):
    """YAML reads 2026-02-30 as a date, and Python raised ValueError constructing it: now it is the string."""
    deck, done = check(tmp_path, HEAD + "rules:\n  RDL1.W: {check: width, layer: RDL1, min: 2026-02-30}\n")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {deck}:6: rule RDL1.W: min: expected a distance in um (a number >= 0), got '2026-02-30'\n"
    )


def test_number_in_exponent_notation(tmp_path):
    """`2e-06` um2: the 1 nm square (1e-06 um2) is below it, the 1 x 10 um line is not; `5E-1` um likewise."""
    deck, done = check(
        tmp_path,
        HEAD + "rules:\n  RDL1.A: {check: area, layer: RDL1, min: 2e-06}\n"
        "  RDL1.W: {check: width, layer: RDL1, min: 5E-1}\n",
        "--format",
        "json",
    )
    assert load_deck(deck).rule("RDL1.A").params["min"] == 2e-06
    assert load_deck(deck).rule("RDL1.W").params["min"] == 0.5
    assert (done.returncode, done.stderr) == (1, "")
    found = {r["id"]: [(v["value"], v["bbox"]) for v in r["violations"]] for r in json.loads(done.stdout)["rules"]}
    assert found["RDL1.A"] == [(1e-06, [5.0, 0.0, 5.001, 0.001])]
    assert found["RDL1.W"] and set(map(str, found["RDL1.W"])) == {str((0.001, [5.0, 0.0, 5.001, 0.001]))}


def test_big_plain_deck_is_not_an_alias_bomb(tmp_path):
    """150,000 rules (1.2 million values, no alias) load; they were refused after 212 s."""
    rules = "".join(f"  RDL1.W{i}: {{check: width, layer: RDL1, min: {i % 7 + 1}}}\n" for i in range(150_000))
    path = tmp_path / "big.yaml"
    path.write_text(HEAD + "rules:\n" + rules)
    deck = load_deck(path)
    assert len(deck.rules) == 150_000
    assert deck.rules[-1].id == "RDL1.W149999" and deck.rules[-1].params["min"] == 149_999 % 7 + 1


def test_alias_bomb_is_still_refused(tmp_path):
    """Billion laughs: 9 levels of 9 aliases is 9**9 values from a 1 kB file."""
    lines = ["stack:", "  s0: &a0 [l, l, l, l, l, l, l, l, l]"]
    lines += [f"  s{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    deck, done = check(tmp_path, HEAD + "\n".join(lines) + "\nrules:\n  RDL1.W: {check: width, layer: RDL1, min: 2}\n")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pkgdrc: error: {deck}: the YAML expands to 490,329,084 values through aliases (*name); "
        "the limit is 1,000,000 (an alias bomb?)\n"
    )


def test_alias_that_contains_itself(tmp_path):
    deck, done = check(
        tmp_path, HEAD + "description: &loop [a, *loop]\nrules:\n  RDL1.W: {check: width, layer: RDL1, min: 2}\n"
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"pkgdrc: error: {deck}:5: an alias (*name) refers to the node that contains it\n"


def test_a_few_aliases_are_fine(tmp_path):
    deck, done = check(
        tmp_path, HEAD + "rules:\n  RDL1.W: &w {check: width, layer: RDL1, min: 2}\n  RDL1.W2: *w\n", "--quiet"
    )
    assert (done.returncode, done.stderr) == (1, "")
    assert [r.params for r in load_deck(deck).rules] == [{"layer": ["RDL1"], "min": 2.0}] * 2
