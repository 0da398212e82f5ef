"""Markers in normal form: coordinates on the layout grid (item 24), no redundant vertex (item 25).

Item 24: on a 0.0005 um grid, a near part ending off a vertex is rounded to whole dbu
(KLayout's rounding, offsets from the edge's start half away from zero), then printed:
26.2765 um (52553 dbu), not 26.2767 (52553.4 dbu rounded to four decimals).
Item 25: a polygon marker whose boundary another layer's shape touches has no vertex
there (KLayout: (0,10;0,16;10,16;10,10)).
"""

from __future__ import annotations

import json

import gdstk
import klayout.db as kdb
import numpy as np

from cli_run import pkgdrc

ZERO_WHEN_TOUCHING = kdb.ZeroDistanceMode.IncludeZeroDistanceWhenTouching


def _klayout_region(path, layer: int) -> kdb.Region:
    layout = kdb.Layout()
    layout.read(str(path))
    return kdb.Region(layout.top_cell().begin_shapes_rec(layout.find_layer(layer, 0))).merged()


def test_edge_pair_ends_are_on_a_half_nanometre_grid_as_in_klayout(tmp_path):
    lib = gdstk.Library(unit=1e-6, precision=5e-10)
    cell = lib.new_cell("TOP")
    cell.add(
        gdstk.rectangle((0, 0), (72, 10), layer=1), gdstk.Polygon([(0, 11.3), (30, 12.1), (30, 20), (0, 20)], layer=1)
    )  # a slanted side above
    lib.write_gds(str(tmp_path / "g.gds"))
    (tmp_path / "d.yaml").write_text("layers: {A: 1/0}\nrules:\n  S: {check: space, layer: A, min: 2}\n")
    out = pkgdrc(
        "check",
        tmp_path / "g.gds",
        "--deck",
        tmp_path / "d.yaml",
        "--json",
        tmp_path / "r.json",
    )
    assert out.returncode == 1, out.stderr
    (rule,) = json.loads((tmp_path / "r.json").read_text())["rules"]
    (marker,) = rule["violations"]
    assert (marker["edge_pair"], marker["value"]) == (
        [[[0.0, 10.0], [26.2765, 10.0]], [[26.25, 12.0], [0.0, 11.3]]],
        1.3,
    )
    dbu = np.array(marker["edge_pair"]).ravel() / 0.0005
    assert np.abs(dbu - np.rint(dbu)).max() < 1e-6  # whole dbu (up to the float of the division)
    theirs = _klayout_region(tmp_path / "g.gds", 1).space_check(
        4000,
        False,
        kdb.Metrics.Euclidian,
        90,
        None,
        None,
        True,
        kdb.Region.NoOppositeFilter,
        kdb.Region.NoRectFilter,
        False,
        kdb.Region.IgnoreProperties,
        ZERO_WHEN_TOUCHING,
    )
    assert sorted((e.p1.x, e.p1.y, e.p2.x, e.p2.y) for ep in theirs.each() for e in (ep.first, ep.second)) == sorted(
        tuple(np.rint(np.array(e).ravel() / 0.0005).astype(int).tolist()) for e in marker["edge_pair"]
    )


def test_polygon_marker_has_no_vertex_where_another_shape_touches_its_side(tmp_path):
    # Via 0..10 x 0..16 on a pad 0..10 x 0..10; a pad piece -5..0 x 12..14 touches the via's
    # uncovered part from the left.
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.new_cell("TOP").add(
        gdstk.rectangle((0, 0), (10, 16), layer=1),
        gdstk.rectangle((0, 0), (10, 10), layer=2),
        gdstk.rectangle((-5, 12), (0, 14), layer=2),
    )
    lib.write_gds(str(tmp_path / "c.gds"))
    (tmp_path / "d.yaml").write_text(
        "layers: {A: 1/0, B: 2/0}\nrules:\n"
        "  E: {check: enclosure, layer: A, by: B, min: 0}\n"
        "  I: {check: inside, layer: A, of: B, clearance: 0}\n"
    )
    out = pkgdrc(
        "check",
        tmp_path / "c.gds",
        "--deck",
        tmp_path / "d.yaml",
        "--json",
        tmp_path / "r.json",
    )
    assert out.returncode == 1, out.stderr
    ring = [[0.0, 10.0], [0.0, 16.0], [10.0, 16.0], [10.0, 10.0], [0.0, 10.0]]
    assert [
        (r["id"], [(m["polygon"], m["message"]) for m in r["violations"]])
        for r in json.loads((tmp_path / "r.json").read_text())["rules"]
    ] == [("E", [(ring, "not covered by B")]), ("I", [(ring, "outside B less 0 um clearance")])]
    (theirs,) = (_klayout_region(tmp_path / "c.gds", 1) - _klayout_region(tmp_path / "c.gds", 2)).each()
    assert sorted((p.x, p.y) for p in theirs.each_point_hull()) == sorted((x * 1000, y * 1000) for x, y in ring[:-1])
