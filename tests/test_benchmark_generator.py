"""The realistic benchmark generator (benchmarks/realistic.py): deterministic, every trait of issue 14
present, and clean under fowlp-2l except for exactly the violations it plants."""

from __future__ import annotations

import collections
import hashlib
import sys
from pathlib import Path

import gdstk
import pytest
from klayout import db

from pkgdrc.run import check

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import realistic  # noqa: E402 (benchmarks/ is not a package: on sys.path above)

SHAPES = 8_000  # two packages: the second carries the planted defects


@pytest.fixture(scope="module")
def panel_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("realistic") / "panel.gds"
    realistic.write(realistic.generate(SHAPES, seed=3), str(path))
    return path


@pytest.fixture(scope="module")
def flat(panel_path) -> gdstk.Cell:
    lib = gdstk.read_gds(str(panel_path))
    return lib.top_level()[0].copy("FLAT").flatten()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_layout(tmp_path, panel_path):
    again, other = tmp_path / "again.gds", tmp_path / "other.gds"
    realistic.write(realistic.generate(SHAPES, seed=3), str(again))
    realistic.write(realistic.generate(SHAPES, seed=4), str(other))
    assert _digest(again) == _digest(panel_path)
    assert _digest(other) != _digest(panel_path)


def test_every_package_its_own_cell_with_its_own_die_shift(panel_path):
    lib = gdstk.read_gds(str(panel_path))
    top = lib.top_level()[0]
    packages = [ref.cell for ref in top.references]
    assert len(packages) == 2 and len({c.name for c in packages}) == 2  # each placed once
    shifts = []
    for cell in packages:
        (die,) = [r for r in cell.references if r.cell.name == "DIE"]
        shifts.append(die.origin)
        assert all(abs(v) <= realistic.MAX_SHIFT for v in die.origin)
        # the VIA1 rows moved with the die: the first via sits on the first die pad of the top side
        via1 = [r for r in cell.references if r.cell.name == "VIA1_CELL"]
        assert any(
            abs(r.origin[0] - (die.origin[0] - (realistic.N_PADS - 1) * realistic.PAD_PITCH / 2)) < 1e-6 for r in via1
        )
    assert shifts[0] != shifts[1]


def test_die_pads_and_vias_are_arrays(panel_path):
    lib = gdstk.read_gds(str(panel_path))
    arrays = collections.Counter(r.cell.name for c in lib.cells for r in c.references if r.repetition.size > 1)
    assert arrays["DIE_PAD_CELL"] == 4  # one array per die side
    assert arrays["VIA1_CELL"] >= 2 * 4 and arrays["VIA2_CELL"] >= 2 * 5  # per side, and the bumps


def test_paths_with_flush_round_and_extended_ends_some_at_45_degrees(flat):
    ends = collections.Counter((p.layers[0], p.ends[0]) for p in flat.paths)
    for layer in (realistic.RDL1, realistic.RDL2):
        for end in ("flush", "round", "extended"):
            assert ends[(layer, end)] > 10
    diagonal = [
        p
        for p in flat.paths
        if p.layers[0] == realistic.RDL1
        and any(
            abs(abs(dx) - abs(dy)) < 1e-9 and dx != 0
            for dx, dy in (b - a for a, b in zip(p.spine()[:-1], p.spine()[1:]))
        )
    ]
    assert len(diagonal) > 100


def test_round_pads_octagonal_vias(flat):
    vertices = collections.defaultdict(collections.Counter)
    for p in flat.polygons:
        vertices[p.layer][len(p.points)] += 1
    for layer in (realistic.PO, realistic.UBM, realistic.BALL):
        assert set(vertices[layer]) == {64}
    for layer in (realistic.VIA1, realistic.VIA2):
        assert set(vertices[layer]) == {8}


def test_a_ground_plane_with_at_least_200_holes_per_package(panel_path):
    layout = db.Layout()
    layout.read(str(panel_path))
    top = layout.top_cell()
    for inst in top.each_inst():
        rdl1 = db.Region(inst.cell.begin_shapes_rec(layout.layer(realistic.RDL1, 0))).merged()
        plane = max(rdl1.each(), key=lambda p: p.area())
        assert plane.holes() >= 200


def test_fill_is_30_to_50_percent_of_the_shapes(flat):
    sides = {side for passes in realistic.FILL.values() for side, _ in passes}
    deck_layers = {0, 1, 2, 3, 10, 11, 12, 13, 20, 21}
    shapes = [p for p in flat.polygons if p.layer in deck_layers] + list(flat.paths)
    fill = collections.Counter(
        p.layer
        for p in flat.polygons
        if p.layer in (realistic.RDL1, realistic.RDL2)
        and len(p.points) == 4
        and round(p.area(), 6) in {s * s for s in sides}
    )
    assert fill[realistic.RDL1] > 100 and fill[realistic.RDL2] > 100  # fill on every RDL level
    assert 0.30 <= sum(fill.values()) / len(shapes) <= 0.50


def test_fowlp_2l_reports_exactly_the_planted_violations(panel_path):
    panel = realistic.generate(SHAPES, seed=3)
    assert panel.packages == 2 and panel.planted == realistic.DEFECT_MARKERS
    report = check(panel_path, ROOT / "rules" / "fowlp-2l.yaml")
    found = {r.id: len(r.markers) for r in report.rules if r.markers}
    assert found == panel.planted
    assert report.shapes == panel.shapes
