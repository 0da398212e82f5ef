"""`pkgdrc assembly check` and `explain`: exit codes, report files read by their real consumers."""

from __future__ import annotations

import json
from pathlib import Path

import junitparser
import klayout.db as kdb
from click.testing import CliRunner
from klayout import rdb

from pkgdrc.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FAULTS = str(FIXTURES / "assembly_25d_faults.yaml")


def run(*args: str):
    return CliRunner().invoke(main, ["assembly", *args])


def test_faulty_assembly_exit_1_with_every_report(tmp_path):
    out = run(
        "check",
        FAULTS,
        "--json",
        str(tmp_path / "a.json"),
        "--junit",
        str(tmp_path / "a.xml"),
        "--lyrdb",
        str(tmp_path / "{part}.lyrdb"),
        "--html",
        str(tmp_path / "a.html"),
    )
    assert out.exit_code == 1, out.output
    assert out.output.splitlines()[-1].startswith("7 violations in 4 rules (10 rules, ")
    doc = json.loads((tmp_path / "a.json").read_text())
    assert {r["id"]: r["count"] for r in doc["rules"] if r["count"]} == {
        "ALIGN.DIES": 2,
        "ALIGN.C4": 2,
        "NET.C4": 2,
        "KO.DIES": 1,
    }
    suite = next(iter(junitparser.JUnitXml.fromfile(str(tmp_path / "a.xml"))))
    assert (suite.tests, suite.failures) == (10, 4)
    assert sorted(p.name for p in tmp_path.glob("*.lyrdb")) == [
        "die_a.lyrdb",
        "die_b.lyrdb",
        "interposer.lyrdb",
        "substrate.lyrdb",
    ]
    assert "<svg" in (tmp_path / "a.html").read_text()


def test_part_lyrdb_is_in_the_parts_own_coordinates(tmp_path):
    """The shifted C4 bump's marker opens over the interposer's GDS where that bump is drawn."""
    assert run("check", FAULTS, "-q", "--lyrdb", str(tmp_path / "{part}.lyrdb")).exit_code == 1
    db = rdb.ReportDatabase("")
    db.load(str(tmp_path / "interposer.lyrdb"))
    assert db.top_cell_name == "INTERPOSER"
    assert db.original_file.endswith("assembly_fault_interposer.gds")
    edges = [v.edge() for item in db.each_item() for v in item.each_value() if v.is_edge()]
    assert [str(e) for e in edges] == ["(2000,10000;2012,10000)"]
    layout = kdb.Layout()
    layout.read(db.original_file)
    c4 = kdb.Region(layout.top_cell().begin_shapes_rec(layout.layer(82, 0)))
    centres = {(p.bbox().center().x * layout.dbu, p.bbox().center().y * layout.dbu) for p in c4.each()}
    assert (2012.0, 10000.0) in centres and (2000.0, 10000.0) not in centres  # the bump, drawn 12 um off


def test_clean_assembly_exit_0_and_github_format():
    out = run("check", str(FIXTURES / "assembly_25d.yaml"), "--format", "github")
    assert (out.exit_code, out.output) == (0, "")
    out = run("check", FAULTS, "--format", "github")
    assert out.exit_code == 1
    assert [line.split("::")[1].split(",title=")[1] for line in out.output.splitlines()] == [
        "ALIGN.DIES",
        "ALIGN.C4",
        "NET.C4",
        "KO.DIES",
    ]


def test_bad_assembly_exit_2_one_line(tmp_path):
    bad = tmp_path / "a.yaml"
    bad.write_text("parts:\n  die: {layout: nothere.gds, layers: {BUMP: 23/0}}\n")
    out = run("check", str(bad))
    assert out.exit_code == 2
    assert out.output == f"pkgdrc: error: {bad}:2: part die: layout file not found: {tmp_path}/nothere.gds\n"
    out = run("check", FAULTS, "--junit", str(tmp_path / "{part}.xml"))
    assert out.exit_code == 2
    assert out.output == (
        f"pkgdrc: error: {tmp_path}/{{part}}.xml: --junit is one file for the assembly: "
        "{part} is not allowed in its path\n"
    )


def test_explain_assembly_kinds():
    out = run("explain", "align")
    assert out.exit_code == 0
    assert out.output.startswith("Align: the bumps of one part meet the pads of another, one to one")
    out = run("explain", "alignn")
    assert (out.exit_code, out.output) == (
        2,
        (
            "pkgdrc: error: no assembly check kind 'alignn'; expected one of "
            "align, covers, inside, keepout, net_match, space, stack\n"
        ),
    )


def test_waivers_apply_to_assembly_markers(tmp_path):
    waivers = tmp_path / "w.yaml"
    waivers.write_text("- rule: KO.DIES\n  box: [14000, 8000, 22000, 16000]\n  reason: die B moves back\n")
    out = run("check", FAULTS, "--waivers", str(waivers))
    assert out.exit_code == 1
    assert out.output.splitlines()[-2:] == [out.output.splitlines()[-2], "  waived: 1 markers (KO.DIES 1)"]
    assert out.output.splitlines()[-2].startswith("6 violations in 3 rules (10 rules, ")
    waivers.write_text("- rule: KO.DIE\n  box: [14000, 8000, 22000, 16000]\n  reason: typo\n")
    out = run("check", FAULTS, "--waivers", str(waivers))
    assert out.exit_code == 2
    assert out.output.startswith(
        f"pkgdrc: error: {waivers}:1: waiver for rule 'KO.DIE': deck two-die-25d-faults "
        "has no such rule (did you mean 'KO.DIES'?)"
    )


def _ghost_assembly(tmp_path, clearance: int) -> str:
    """die_a inside the interposer (with `clearance`), and a keepout on die_a.GHOST, a deck layer with no shape."""
    (tmp_path / "die.yaml").write_text("name: die-with-ghost\nunits: um\nlayers: {DIE: 1/0, BUMP: 23/0, GHOST: 99/0}\n")
    path = tmp_path / "ghost.yaml"
    path.write_text(
        "name: ghost\nunits: um\nparts:\n"
        f"  interposer: {{layout: {FIXTURES}/assembly_interposer.gds, deck: {FIXTURES}/assembly_interposer.yaml,"
        " at: [5000, 5000]}\n"
        f"  die_a: {{layout: {FIXTURES}/assembly_die_a.gds, deck: die.yaml, at: [10000, 12000], flip: true,"
        " sits_on: interposer}\n"
        "rules:\n"
        f"  IN.DIE:   {{check: inside, layer: die_a.DIE, of: interposer.INTERPOSER, clearance: {clearance}}}\n"
        "  KO.GHOST: {check: keepout, layer: die_a.GHOST, other: interposer.INTERPOSER, min: 10}\n"
    )
    return str(path)


def test_an_empty_rule_and_no_violations_exit_2_unless_allow_empty(tmp_path, monkeypatch):
    """The EMPTY policy of `pkgdrc check`: nothing failed, but KO.GHOST checked nothing."""
    ghost = _ghost_assembly(tmp_path, 500)
    out = run("check", ghost, "-q")
    assert (out.exit_code, out.output) == (
        2,
        "pkgdrc: error: 1 rule could not check: empty input (no shape on die_a.GHOST for KO.GHOST); "
        "the run is not clean (--allow-empty accepts empty layers)\n",
    )
    out = run("check", ghost, "-q", "--allow-empty")
    assert (out.exit_code, out.output) == (0, "")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkgdrc.toml").write_text("allow-empty = true\n")  # from the config, as for `pkgdrc check`
    assert run("check", ghost, "-q").exit_code == 0
    assert run("check", ghost, "-q", "--no-allow-empty").exit_code == 2


def test_strict_exits_2_on_an_empty_rule_even_with_violations(tmp_path):
    ghost = _ghost_assembly(tmp_path, 50000)  # IN.DIE fails: the die is not 50 mm inside
    out = run("check", ghost, "-q")
    assert (out.exit_code, out.output) == (1, "")
    out = run("check", ghost, "-q", "--strict")
    assert (out.exit_code, out.output) == (
        2,
        "pkgdrc: error: 1 rule had an empty input layer (no shape on die_a.GHOST for KO.GHOST) and --strict is set\n",
    )
    out = run("check", ghost, "-q", "--strict", "--allow-empty")
    assert out.exit_code == 2
    assert out.output.startswith("pkgdrc: error: --strict and --allow-empty")


def test_no_report_overwrites_a_file_the_run_reads(tmp_path):
    """As for `pkgdrc check` (one planner of report paths): the assembly file, a part's deck."""
    ghost = _ghost_assembly(tmp_path, 500)
    out = run("check", ghost, "--json", ghost)
    assert (out.exit_code, out.output) == (
        2,
        f"pkgdrc: error: {ghost}: --json would overwrite the input file {ghost}\n",
    )
    deck = tmp_path / "die.yaml"
    before = deck.read_text()
    out = run("check", ghost, "--allow-empty", "--lyrdb", str(tmp_path / "{part}.lyrdb"), "--html", str(deck))
    assert (out.exit_code, out.output) == (2, f"pkgdrc: error: {deck}: --html would overwrite the input file {deck}\n")
    assert deck.read_text() == before and not list(tmp_path.glob("*.lyrdb"))
    out = run("check", ghost, "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.json"))
    assert (out.exit_code, out.output) == (
        2,
        f"pkgdrc: error: {tmp_path / 'r.json'}: --junit and --json would write to the same file\n",
    )
