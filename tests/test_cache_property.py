"""The cache never changes a verdict (issue 18), as a property: on random hierarchical layouts
(tests/test_cellwise.py's builder: a cell placed many times, in arrays, turned and mirrored, plus
an outline D and labels in the placed cell), random sequences of edits, each written to the same
file, checked with the cache after every edit: the markers equal a run without cache.

Edits: move, add or delete a shape in the top cell or in the placed cell; move or add a label;
change a rule's value; change the derived layer's definition; swap the file for another layout.
The deck has one rule per registered kind (tests/test_check_kinds.py's deck) plus labels on A and
two rules on a derived layer. CI size: EXAMPLES (PKGDRC_CACHE_EXAMPLES=1000 for the long run).
"""

from __future__ import annotations

import copy
import os

import gdstk
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.test_cellwise import UM, build, layouts, random_shape
from tests.test_check_kinds import deck_text, markers

import pkgdrc
from pkgdrc import incremental
from pkgdrc.cache.store import Store
from pkgdrc.decks import load_deck

EXAMPLES = int(os.environ.get("PKGDRC_CACHE_EXAMPLES", "4"))
DERIVED = ["A | B", "grow(A, 0.3) - B", "A & grow(B, 1)", "shrink(A, 0.2) ^ C"]
VALUES = [("R.space", "min", 2.0), ("R.width", "min", 1.2), ("R.separation", "min", 0.4), ("R.space", "min", 1.0)]

where = st.sampled_from(["cell", "parent"])
shift = st.integers(-15, 15).map(lambda v: v * 100)
edits = st.lists(
    st.one_of(
        st.tuples(st.just("move"), where, st.integers(0, 99), shift, shift),
        st.tuples(st.just("add"), where, random_shape()),
        st.tuples(st.just("delete"), where, st.integers(0, 99)),
        st.tuples(st.just("label"), st.integers(0, 99), shift, shift, st.sampled_from(["N1", "N2", "N3"])),
        st.tuples(st.just("value"), st.sampled_from(VALUES)),
        st.tuples(st.just("derived"), st.sampled_from(DERIVED)),
        st.tuples(st.just("swap"), layouts()),
    ),
    min_size=1,
    max_size=4,
)


def deck_yaml(derived: str, values: dict[tuple[str, str], float]) -> str:
    deck = yaml.safe_load(deck_text())
    deck["labels"] = {"A": "1/0"}
    deck["derived"] = {"E": derived}
    deck["rules"]["R.derived.width"] = {"check": "width", "layer": "E", "min": 0.8}
    deck["rules"]["R.derived.space"] = {"check": "space", "layer": "E", "min": 1.1}
    for (rule, name), v in values.items():
        deck["rules"][rule][name] = v
    return yaml.safe_dump(deck, sort_keys=False)


def write(spec: dict, path) -> None:
    lib = build(spec)
    cell = next(c for c in lib.cells if c.name == "CELL")
    for text, x, y in spec["labels"]:
        cell.add(gdstk.Label(text, (x * UM, y * UM), layer=1, texttype=0))
    top = next(c for c in lib.cells if c.name == "TOP")
    (x0, y0), (x1, y1) = top.bounding_box()
    top.add(gdstk.rectangle((x0 - 5, y0 - 5), (x1 + 5, y1 + 5), layer=4))  # the outline D, 5 um around all
    lib.write_gds(str(path))


def apply(edit: tuple, spec: dict, deck: dict) -> dict:
    """The spec after `edit` (a new dict); deck edits change `deck` in place."""
    spec = copy.deepcopy(spec)
    kind = edit[0]
    if kind == "move" and spec[edit[1]]:
        shapes = spec[edit[1]]
        lay, pts = shapes[edit[2] % len(shapes)]
        shapes[edit[2] % len(shapes)] = (lay, [(x + edit[3], y + edit[4]) for x, y in pts])
    elif kind == "add":
        spec[edit[1]].append(edit[2])
    elif kind == "delete" and spec[edit[1]]:
        del spec[edit[1]][edit[2] % len(spec[edit[1]])]
    elif kind == "label":
        labels = spec["labels"]
        if edit[1] % 2 and labels:
            text, x, y = labels[edit[1] % len(labels)]
            labels[edit[1] % len(labels)] = (text, x + edit[2], y + edit[3])
        else:
            labels.append((edit[4], 450 + edit[2], 3000 + edit[3]))
    elif kind == "value":
        rule, name, v = edit[1]
        deck["values"][(rule, name)] = v
    elif kind == "derived":
        deck["derived"] = edit[1]
    elif kind == "swap":
        spec = {**edit[1], "labels": spec["labels"][:1]}
    return spec


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(spec=layouts(), steps=edits)
def test_after_every_edit_the_cached_run_gives_the_fresh_markers(spec, steps, tmp_path_factory, monkeypatch):
    # Every change is updated in place, however large (on these small layouts most changes
    # reach a third of the shapes, where a run computes the rule whole).
    monkeypatch.setattr(incremental, "MAX_DIRTY_SHARE", float("inf"))
    tmp = tmp_path_factory.mktemp("edits")
    gds, deck_path = tmp / "t.gds", tmp / "deck.yaml"
    spec = {**spec, "labels": [("N1", 450, 3000), ("N2", 3300, 1500)]}  # on A shapes of the planted cell
    deck = {"derived": DERIVED[0], "values": {}}
    for step, edit in enumerate([("start",), *steps]):
        spec = apply(edit, spec, deck)
        write(spec, gds)
        deck_path.write_text(deck_yaml(deck["derived"], deck["values"]))
        rules = load_deck(deck_path)
        cached = pkgdrc.check(gds, rules, allow_empty=True, cache=Store(tmp / "cache"))
        fresh = pkgdrc.check(gds, rules, allow_empty=True)
        assert markers(cached.rules) == markers(fresh.rules), f"after edit {step}: {edit}"
        assert [r.status for r in cached.rules] == [r.status for r in fresh.rules]
