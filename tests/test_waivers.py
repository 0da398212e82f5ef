"""Waivers: box and cell regions, stale and expired waivers, `pkgdrc waive`, exit codes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from click.testing import CliRunner

import pkgdrc
from pkgdrc.cli import main
from pkgdrc.decks import load_deck
from pkgdrc.errors import PkgdrcError
from pkgdrc.layout import Layout, read_layout
from pkgdrc.waivers import load_waivers
from signoff import write_signoff_deck, write_signoff_layout


@pytest.fixture
def layout(tmp_path):
    return write_signoff_layout(tmp_path / "a.gds")


@pytest.fixture(autouse=True)
def project(tmp_path, monkeypatch):
    """The layouts' deck, set in a pkgdrc.toml found from the working directory."""
    write_signoff_deck(tmp_path / "signoff.yaml")
    (tmp_path / "pkgdrc.toml").write_text('deck = "signoff.yaml"\n')
    monkeypatch.chdir(tmp_path)


def _waived(report):
    return {r.id: [(w.marker.bbox, w.reason, w.owner) for w in r.waived] for r in report.rules if r.waived}


def test_box_waives_markers_inside_it_edges_included(tmp_path, layout):
    w = tmp_path / "w.yaml"
    w.write_text(
        "- rule: RDL1.S\n  box: [100, 103, 300, 104.5]\n  reason: exact box\n  owner: ana\n"
        "- rule: RDL1.W\n  box: [400, 400, 401.5, 499.999]\n  reason: one dbu short\n"
    )
    report = pkgdrc.check(layout, "signoff.yaml", waivers=w)
    assert _waived(report) == {"RDL1.S": [((100.0, 103.0, 300.0, 104.5), "exact box", "ana")]}
    assert [m.bbox for m in report.rules[0].markers] == [(400.0, 400.0, 401.5, 500.0)]  # RDL1.W stays
    assert report.stale_waivers == [f"{w}:5: RDL1.W box [400, 400, 401.5, 499.999] (one dbu short)"]
    assert report.violations == 3 and report.waived == 1


def test_cell_waives_every_placement_rotated_too(tmp_path, layout):
    w = tmp_path / "w.yaml"
    w.write_text("- rule: RDL2.W\n  cell: LOGO\n  reason: logo\n- rule: RDL1.W\n  cell: NOPE\n  reason: gone\n")
    report = pkgdrc.check(layout, "signoff.yaml", waivers=w)
    assert _waived(report) == {
        "RDL2.W": [((600.0, 600.0, 601.0, 620.0), "logo", ""), ((680.0, 600.0, 700.0, 601.0), "logo", "")]
    }
    assert report.stale_waivers == [f"{w}:4: RDL1.W cell NOPE (gone)"]


def test_cell_waiver_uses_the_hierarchy_already_read(tmp_path, layout):
    """The cells' boxes come from the hierarchy the reading child returned: the layout file is
    gone when the waivers are applied, and the cell waiver still waives every placement."""
    deck = load_deck("signoff.yaml")
    loaded = read_layout(layout, deck.layers, label_map=deck.labels)
    layout.unlink()
    w = tmp_path / "w.yaml"
    w.write_text("- rule: RDL2.W\n  cell: LOGO\n  reason: logo\n")
    report = pkgdrc.check(loaded, deck, waivers=w)
    assert _waived(report) == {
        "RDL2.W": [((600.0, 600.0, 601.0, 620.0), "logo", ""), ((680.0, 600.0, 700.0, 601.0), "logo", "")]
    }
    assert report.stale_waivers == []


def test_cell_waiver_on_a_layout_without_hierarchy_is_refused(tmp_path, layout):
    deck = load_deck("signoff.yaml")
    read = read_layout(layout, deck.layers, label_map=deck.labels)
    flat = Layout(read.path, read.top, read.grid, read.polygons, {})
    w = tmp_path / "w.yaml"
    w.write_text("- rule: RDL2.W\n  cell: LOGO\n  reason: logo\n")
    with pytest.raises(PkgdrcError, match=r"cell waiver needs the layout's cell hierarchy"):
        pkgdrc.check(flat, deck, waivers=w)


def test_expired_waiver_stops_waiving(tmp_path, layout):
    w = tmp_path / "w.yaml"
    today = dt.date.today()
    w.write_text(
        f"- rule: RDL2.W\n  cell: LOGO\n  reason: until yesterday\n"
        f"  expires: {today - dt.timedelta(days=1)}\n"
        f"- rule: RDL1.S\n  box: [0, 0, 1000, 1000]\n  scope: all\n  reason: until today\n"
        f"  expires: {today}\n"
    )
    report = pkgdrc.check(layout, "signoff.yaml", waivers=w)
    assert _waived(report) == {"RDL1.S": [((100.0, 103.0, 300.0, 104.5), "until today", "")]}
    assert report.expired_waivers == [
        (f"{w}:1: RDL2.W cell LOGO (until yesterday) expired {today - dt.timedelta(days=1)}")
    ]
    assert len(report.rules[1].markers) == 2


def test_only_waived_markers_left_exits_0(tmp_path, layout):
    w = tmp_path / "w.yaml"
    w.write_text(
        "- rule: RDL2.W\n  cell: LOGO\n  reason: logo\n"
        "- rule: RDL1.W\n  box: [0, 0, 1000, 1000]\n  scope: all\n  reason: r\n"
        "- rule: RDL1.S\n  box: [90, 90, 310, 110]\n  reason: r\n"
    )
    result = CliRunner().invoke(main, ["check", str(layout), "--waivers", str(w)])
    assert result.exit_code == 0
    assert "  waived: 4 markers (RDL1.W 1, RDL2.W 2, RDL1.S 1)\n" in result.stdout


def test_waive_command_accepts_todays_state(tmp_path, layout):
    runner = CliRunner()
    assert runner.invoke(main, ["check", "a.gds", "--json", "r.json", "-q"]).exit_code == 1
    result = runner.invoke(
        main,
        [
            "waive",
            "r.json",
            "--rule",
            "RDL2.W",
            "--reason",
            "logo, accepted",
            "--owner",
            "ana",
            "--expires",
            "2099-12-31",
            "--waivers",
            "w.yaml",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "w.yaml: 2 waivers written\n"
    entries = yaml.safe_load((tmp_path / "w.yaml").read_text())
    assert entries == [
        {
            "rule": "RDL2.W",
            "box": [600.0, 600.0, 601.0, 620.0],
            "reason": "logo, accepted",
            "layout": "a.gds",
            "owner": "ana",
            "expires": dt.date(2099, 12, 31),
        },
        {
            "rule": "RDL2.W",
            "box": [680.0, 600.0, 700.0, 601.0],
            "reason": "logo, accepted",
            "layout": "a.gds",
            "owner": "ana",
            "expires": dt.date(2099, 12, 31),
        },
    ]
    # the rest, appended; the file keeps what was there
    assert (
        runner.invoke(main, ["waive", "r.json", "--reason", "baseline", "--waivers", "w.yaml"]).stdout
        == "w.yaml: 2 waivers written (2 already there)\n"
    )
    assert len(load_waivers(tmp_path / "w.yaml")) == 4
    result = runner.invoke(main, ["check", "a.gds", "--waivers", "w.yaml", "--json", "r2.json"])
    assert result.exit_code == 0
    assert json.loads((tmp_path / "r2.json").read_text())["summary"]["violations"] == 0
    # a new violation elsewhere is not waived
    write_signoff_layout(tmp_path / "b.gds")
    assert runner.invoke(main, ["check", "b.gds", "--waivers", "w.yaml", "-q"]).exit_code == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("- rule: X\n  box: [0, 0, 1, 1]\n", "w.yaml:1: waiver needs 'reason' (text)"),
        ("- rule: X\n  reason: r\n", "w.yaml:1: waiver needs exactly one region"),
        ("- rule: X\n  reason: r\n  box: [2, 0, 1, 1]\n", "w.yaml:3: box must be [x0, y0, x1, y1]"),
        ("- rule: X\n  reason: r\n  cell: C\n  expires: soon\n", "w.yaml:4: expires must be a date"),
        ("- rule: X\n  reason: r\n  cell: C\n  region: 1\n", "w.yaml:4: unknown waiver key 'region'"),
        ("rule: X\n", "w.yaml:1: a waiver file is a YAML list"),
    ],
)
def test_bad_waiver_files_name_file_and_line(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.yaml").write_text(text)
    with pytest.raises(PkgdrcError) as e:
        load_waivers("w.yaml")
    assert str(e.value).startswith(message)


def test_missing_waiver_file_exits_2(tmp_path, layout):
    result = CliRunner().invoke(main, ["check", str(layout), "--waivers", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "none.yaml: waiver file not found" in result.stderr


def test_json_report_lists_waived_markers_and_stale_waivers(tmp_path, layout):
    w = tmp_path / "w.yaml"
    w.write_text(
        "- rule: RDL1.S\n  box: [100, 103, 300, 104.5]\n  reason: exact box\n  owner: ana\n"
        "- rule: RDL1.W\n  cell: NOPE\n  reason: gone\n"
    )
    out = tmp_path / "r.json"
    CliRunner().invoke(main, ["check", str(layout), "--waivers", str(w), "--json", str(out)])
    data = json.loads(out.read_text())
    assert data["summary"]["waived"] == 1
    assert data["summary"]["stale_waivers"] == [f"{w}:5: RDL1.W cell NOPE (gone)"]
    (rule,) = [r for r in data["rules"] if r["id"] == "RDL1.S"]
    assert rule["violations"] == []
    assert [(x["bbox"], x["reason"], x["owner"], x["waiver"]) for x in rule["waived"]] == [
        ([100.0, 103.0, 300.0, 104.5], "exact box", "ana", f"{w}:1")
    ]
