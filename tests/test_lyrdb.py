"""The .lyrdb marker database, loaded back by KLayout's own reader (klayout.rdb)."""

from __future__ import annotations

import klayout.db as kdb
import klayout.rdb as rdb
from click.testing import CliRunner

from pkgdrc.cli import main
from signoff import EXPECTED, RULES, write_signoff_deck, write_signoff_layout


def _load(path) -> rdb.ReportDatabase:
    db = rdb.ReportDatabase("")
    db.load(str(path))
    return db


def _items(db: rdb.ReportDatabase) -> list[tuple[str, str, str, list[str]]]:
    out = []
    for it in db.each_item():
        out.append(
            (
                db.category_by_id(it.category_id()).name(),
                db.cell_by_id(it.cell_id()).name(),
                it.tags_str,
                [str(v) for v in it.each_value()],
            )
        )
    return out


def test_every_marker_comes_back_with_category_and_geometry_in_um(tmp_path):
    a = write_signoff_layout(tmp_path / "a.gds")
    out = tmp_path / "a.lyrdb"
    assert (
        CliRunner()
        .invoke(main, ["check", str(a), "--lyrdb", str(out), "-q", "-d", str(write_signoff_deck(tmp_path / "d.yaml"))])
        .exit_code
        == 1
    )
    db = _load(out)
    assert db.top_cell_name == "TOP"
    assert [c.name() for c in db.each_category()][:3] == ["RDL1.W", "RDL2.W", "RDL1.S"]
    assert len(list(db.each_category())) == RULES  # every rule, '.' in ids not read as sub-categories
    assert _items(db) == [
        ("RDL1.W", "TOP", "", ["edge-pair: (400,400;400,500)/(401.5,500;401.5,400)", "float: 1.5"]),
        ("RDL2.W", "TOP", "", ["edge-pair: (600,600;600,620)/(601,620;601,600)", "float: 1"]),
        ("RDL2.W", "TOP", "", ["edge-pair: (680,601;700,601)/(700,600;680,600)", "float: 1"]),  # smaller edge first
        ("RDL1.S", "TOP", "", ["edge-pair: (100,103;300,103)/(300,104.5;100,104.5)", "float: 1.5"]),
    ]
    # geometry is real KLayout geometry: the edge pair's distance is the measured value
    for it in db.each_item():
        geometry, value = list(it.each_value())
        assert geometry.is_edge_pair()
        assert geometry.edge_pair().distance() == value.float()
    n = sum(len(v) for v in EXPECTED.values())
    assert db.num_items() == n


def test_polygon_and_edge_markers_and_waived_tag(tmp_path, deck):
    import gdstk

    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((0, 0), (10, 10), layer=1))  # A: 10 x 10
    top.add(gdstk.Polygon([(20, 0), (30, 0), (30, 10), (22, 10)], layer=2))  # B: a slanted edge
    lib.write_gds(str(tmp_path / "p.gds"))
    d = deck(
        "A.IN: {check: inside, layer: A, of: C, clearance: 0}\n  B.ANG: {check: angle, layer: B, allowed: [0, 90]}"
    )
    (tmp_path / "w.yaml").write_text("- rule: B.ANG\n  box: [19, -1, 31, 11]\n  reason: taper\n")
    out = tmp_path / "p.lyrdb"
    CliRunner().invoke(
        main,
        [
            "check",
            str(tmp_path / "p.gds"),
            "-d",
            str(d),
            "--lyrdb",
            str(out),
            "-q",
            "--waivers",
            str(tmp_path / "w.yaml"),
        ],
    )
    db = _load(out)
    items = _items(db)
    assert items[0][:3] == ("A.IN", "TOP", "")
    poly = kdb.DPolygon.from_s(items[0][3][0].removeprefix("polygon: "))
    assert poly == kdb.DPolygon(kdb.DBox(0, 0, 10, 10))
    (waived,) = [it for it in db.each_item() if it.tags_str]
    assert waived.tags_str == "#waived"
    assert waived.comment == f"waived by {tmp_path / 'w.yaml'}:1: taper"
    assert [str(v) for v in waived.each_value()][0] in ("edge: (22,10;20,0)", "edge: (20,0;22,10)")


def test_polygon_markers_keep_their_holes(tmp_path, deck):
    import json

    import gdstk

    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((0, 0), (100, 100), layer=1))  # A: a plane
    top.add(gdstk.rectangle((30, 30), (70, 70), layer=3))  # C: the region it must stay in
    lib.write_gds(str(tmp_path / "h.gds"))
    d = deck("A.IN: {check: inside, layer: A, of: C, clearance: 5}")  # inside C less 5: 35..65
    out, js, page = tmp_path / "h.lyrdb", tmp_path / "h.json", tmp_path / "h.html"
    CliRunner().invoke(
        main,
        [
            "check",
            str(tmp_path / "h.gds"),
            "-d",
            str(d),
            "--lyrdb",
            str(out),
            "--json",
            str(js),
            "--html",
            str(page),
            "-q",
        ],
    )
    ((rule, cell, tags, values),) = _items(_load(out))
    poly = kdb.DPolygon.from_s(values[0].removeprefix("polygon: "))
    assert poly.holes() == 1 and poly.area() == 100 * 100 - 30 * 30
    expected = kdb.Region(kdb.Box(0, 0, 100000, 100000)) - kdb.Region(kdb.Box(35000, 35000, 65000, 65000))
    assert (kdb.Region(poly.to_itype(0.001)) ^ expected).is_empty()
    (marker,) = json.loads(js.read_text())["rules"][0]["violations"]
    assert {tuple(p) for p in marker["polygon"]} == {(0.0, 0.0), (0.0, 100.0), (100.0, 100.0), (100.0, 0.0)}
    assert [{tuple(p) for p in hole} for hole in marker["holes"]] == [
        {(35.0, 35.0), (35.0, 65.0), (65.0, 65.0), (65.0, 35.0)}
    ]
    assert 'fill-rule="evenodd"' in page.read_text()
