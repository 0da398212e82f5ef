"""The check-kind contract (pkgdrc/checks/kind.py) and a generic differential test over every
registered kind: a kind added to the registry is covered here without being named.

- every kind has a doc (what `pkgdrc explain` prints), a name matching its registry key, and
  an `example` rule whose parameters validate in a real deck; its reach, the layers it reads
  and runs on answer for that rule; the registry refuses a duplicate and a non-kind;
- on random hierarchical layouts (tests/test_cellwise.py's builder, plus an outline D and
  net labels), the example rules of all kinds (and the closed forms of fanout and
  connectivity: `CheckKind.closed`) give the same markers, JSON for JSON, run flat, cell by
  cell, cell by cell cut into units of work (`cellwise.units_of_work`, run in this process
  and on 2 forked processes) and in tiles on 2 processes.
"""

from __future__ import annotations

import dataclasses
import json
import math

import gdstk
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from tests.test_cellwise import build, layouts

import pkgdrc
from pkgdrc import cellwise, checks, tiles
from pkgdrc.checks import CHECKS, CheckKind, drawn_reads, kind_of, register
from pkgdrc.decks import load_deck
from pkgdrc.errors import PkgdrcError
from pkgdrc.flat import rule_result
from pkgdrc.layout import read_layout

LAYERS = {"A": "1/0", "B": "2/0", "C": "3/0", "D": "4/0"}
# Rules beyond the examples: fanout and connectivity in their closed forms (nets only, no
# nearest die), which run cell by cell per isolated placement.
EXTRA = {
    "R.fanout.reach": {
        "check": "fanout",
        "layer": "A",
        "outline": "D",
        "die": "C",
        "pads": "B",
        "max_reach": 1.5,
        "die_spacing": 2.0,
    },
    "R.connectivity.floating": {
        "check": "connectivity",
        "layer": "C",
        "bond": ["A"],
        "floating": "report",
        "metal": ["B"],
    },
}


def deck_text() -> str:
    """A deck with one rule per registered kind: its example."""
    rules = {f"R.{name}": {"check": name, **kind.example} for name, kind in CHECKS.items() if kind.example}
    rules.update(EXTRA)
    return yaml.safe_dump(
        {
            "name": "kinds",
            "units": "um",
            "layers": LAYERS,
            "stack": {"T1": 10, "T2": 20},
            "connect": ["A - B - C"],
            "labels": {"A": "1/0"},
            "rules": rules,
        },
        sort_keys=False,
    )


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    path = tmp_path_factory.mktemp("deck") / "kinds.yaml"
    path.write_text(deck_text())
    return load_deck(path)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_kind_keeps_the_contract(name, deck):
    kind = CHECKS[name]
    assert kind.name == name
    assert kind.doc.strip() and kind.doc.strip().splitlines()[0]
    assert kind.example is not None, f"check kind {name}: give an example rule (CheckKind.example)"
    rule = deck.rule(f"R.{name}")  # the example validated in a real deck
    assert kind_of(rule) is kind
    reach = kind.reach_um(rule.params)
    assert math.isfinite(reach) and reach >= 0
    assert set(drawn_reads(deck, rule)) <= set(LAYERS)
    reads = kind.reads(rule.params)
    assert all(name in LAYERS for name in reads)
    on = kind.layers_run_on(rule.params)
    assert on == ([name] if kind.scope == "per_rule" else [x for x in on if x in reads])
    assert kind.validate(rule.params) is None
    assert isinstance(kind.needs_nets(rule.params), bool)
    assert set(kind.cover_layers(rule.params)) <= set(reads)


def test_the_default_reach_is_the_largest_distance():
    assert CHECKS["inside"].reach_um({"layer": "A", "of": "D", "clearance": 2.5}) == 2.5
    assert CHECKS["inside"].reach_um({"layer": "A", "of": "D", "clearance": None}) == 0.0
    assert (
        CHECKS["fanout"].reach_um(
            {"edge_clearance": 1.0, "die_clearance": None, "die_spacing": 3.0, "max_reach": 900.0}
        )
        == 3.0
    )  # its own reach: not max_reach


def test_the_registry_refuses_a_second_kind_of_a_name_and_a_non_kind():
    with pytest.raises(ValueError, match="'width' is registered twice"):
        register(dataclasses.replace(CHECKS["width"]))
    with pytest.raises(TypeError, match="takes a CheckKind"):
        register(checks.width)  # a module is not a kind


def test_a_kind_without_layer_must_run_per_rule():
    with pytest.raises(ValueError, match="per_layer scope needs a `layer` parameter"):
        CheckKind("x", "doc", {}, run=lambda *a: [], limit=lambda p: None)


def test_a_bad_example_value_names_the_file_and_line(tmp_path):
    text = deck_text().replace("min: 4.0", "min: -4.0", 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PkgdrcError) as e:
        load_deck(path)
    assert str(e.value).startswith(f"{path}:")


def markers(results) -> dict[str, list[str]]:
    """Every marker as its JSON text: edges directed (a pitch marker starts at the smaller centre)."""
    return {r.id: [json.dumps(m.to_dict(), sort_keys=True) for m in r.markers] for r in results}


@settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(spec=layouts())
def test_every_kind_gives_the_same_markers_in_every_engine(spec, deck, tmp_path):
    lib = build(spec)
    top = next(c for c in lib.cells if c.name == "TOP")
    x0, y0 = top.bounding_box()[0]
    x1, y1 = top.bounding_box()[1]
    top.add(gdstk.rectangle((x0 - 5, y0 - 5), (x1 + 5, y1 + 5), layer=4))  # the outline D, 5 um around all
    # Net labels on A: one on the cell's first A shape (its copies share a text), one on a shape
    # of the top (two texts on one net are a short).
    for cell, text in ((next(c for c in lib.cells if c.name == "CELL"), "P"), (top, "Q")):
        a = [p for p in cell.polygons if p.layer == 1]
        if a:
            cell.add(gdstk.Label(text, tuple(a[0].points[0]), layer=1))
    path = tmp_path / "t.gds"
    lib.write_gds(str(path))
    flat = markers(pkgdrc.check(path, deck, hierarchy="flat", allow_empty=True).rules)
    cells = markers(pkgdrc.check(path, deck, hierarchy="cellwise", allow_empty=True).rules)
    layout = read_layout(path, deck.layers, label_map=deck.labels)
    tiled = markers(tiles.run_local(layout, deck, [r for r in deck.rules if not kind_of(r).whole_layout], 2))
    by_cell = [r for r in deck.rules if cellwise.by_cell_possible(r)]
    forked = cellwise.run_rules(layout, deck, by_cell, jobs=2)
    checkers = [cellwise.CellwiseRule(layout, deck, r) for r in by_cell]
    units, _ = cellwise.units_of_work(checkers)
    found: list = [[] for _ in by_cell]
    for i in range(len(units)):
        for k, f, _ in cellwise._unit_of((checkers, units), i):
            found[k] += f
    in_units = markers([rule_result(r, f, layout.grid) for r, f in zip(by_cell, found)])
    assert cells == flat
    assert tiled == {k: v for k, v in flat.items() if k in tiled}
    assert markers([rule_result(r, f, layout.grid) for r, f in zip(by_cell, forked)]) == in_units
    assert in_units == {k: v for k, v in flat.items() if k in in_units}
    assert {"R.fanout.reach", "R.connectivity", "R.trace_width_vs_die"} <= set(in_units)
    assert sum(map(len, flat.values())) > 0


@pytest.fixture(scope="module")
def dask_cluster():
    """A local Dask cluster of 2 single-thread worker processes (so the tiles are 2 bands)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    ) as cluster:
        yield cluster


@settings(
    max_examples=3,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(spec=layouts())
def test_every_kind_gives_the_same_markers_on_a_dask_cluster(spec, deck, dask_cluster, tmp_path):
    """The Dask leg of the differential test above: every kind's example rule, on a few random
    hierarchical layouts, gives on a LocalCluster (2 bands) the markers of the flat run."""
    lib = build(spec)
    top = next(c for c in lib.cells if c.name == "TOP")
    (x0, y0), (x1, y1) = top.bounding_box()
    top.add(gdstk.rectangle((x0 - 5, y0 - 5), (x1 + 5, y1 + 5), layer=4))  # the outline D, 5 um around all
    path = tmp_path / "t.gds"
    lib.write_gds(str(path))
    flat = pkgdrc.check(path, deck, hierarchy="flat", allow_empty=True)
    on_dask = pkgdrc.check(
        path, deck, hierarchy="flat", allow_empty=True, dask_scheduler=dask_cluster.scheduler_address
    )
    assert {r.id: r.engine for r in on_dask.rules} == {
        r.id: "flat" if kind_of(r).whole_layout else "dask" for r in deck.rules
    }
    assert markers(on_dask.rules) == markers(flat.rules)
    assert flat.violations > 0
