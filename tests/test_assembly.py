"""Assemblies: the file, placements (against klayout.db), and each cross-part kind with exact markers."""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path

import gdstk
import klayout.db as kdb
import numpy as np
import pytest

from pkgdrc.assembly import check_assembly, load_assembly, part_report
from pkgdrc.assembly.kinds import KINDS, AssemblyKind, register
from pkgdrc.assembly.kinds import align as align_module
from pkgdrc.assembly.place import ORIENTATIONS, Placement
from pkgdrc.errors import PkgdrcError
from pkgdrc.units import Grid

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def write_part(
    path: Path,
    rects: dict[int, list[tuple[float, float, float, float]]],
    labels: dict[int, list[tuple[str, float, float]]] | None = None,
    precision: float = 1e-9,
    top: str = "TOP",
) -> Path:
    """A GDS with one cell: rectangles (x0, y0, x1, y1 in um) per layer/0, texts per layer/1."""
    lib = gdstk.Library(unit=1e-6, precision=precision)
    cell = lib.new_cell(top)
    for layer, boxes in rects.items():
        for x0, y0, x1, y1 in boxes:
            cell.add(gdstk.rectangle((x0, y0), (x1, y1), layer=layer))
    for layer, texts in (labels or {}).items():
        for text, x, y in texts:
            cell.add(gdstk.Label(text, (x, y), layer=layer, texttype=1))
    lib.write_gds(str(path))
    return path


def square(x: float, y: float, size: float) -> tuple[float, float, float, float]:
    return (x - size / 2, y - size / 2, x + size / 2, y + size / 2)


def write_assembly(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def markers(report, rule: str) -> list[tuple]:
    """(layer, bbox, value, message without the part places) of a rule's markers."""
    r = next(r for r in report.rules if r.id == rule)
    return [(m.layer, m.bbox, m.value, re.sub(r" ?\[[^\[]*\]$", "", m.message)) for m in r.markers]


# --- the 2.5D fixture: clean, and exactly its planted faults -----------------------------


def test_clean_fixture_is_clean():
    result = check_assembly(FIXTURES / "assembly_25d.yaml")
    assert [(r.id, r.status) for r in result.report.rules] == [
        ("ALIGN.DIES", "passed"),
        ("NET.DIES", "passed"),
        ("ALIGN.C4", "passed"),
        ("NET.C4", "passed"),
        ("KO.DIES", "passed"),
        ("IN.DIES", "passed"),
        ("IN.INT", "passed"),
        ("ST.UF", "passed"),
        ("die_a:BUMP.P", "passed"),
        ("die_b:BUMP.P", "passed"),
    ]
    assert result.report.shapes > 2 * 2000


def test_faulty_fixture_gives_exactly_its_planted_faults():
    result = check_assembly(FIXTURES / "assembly_25d_faults.yaml")
    got = sorted(
        (r.id, m.layer, list(m.bbox), m.value, m.message.rsplit(" [", 1)[0])
        for r in result.report.rules
        for m in r.markers
    )
    expected = json.loads((FIXTURES / "assembly_25d_faults.planted.json").read_text())
    assert got == sorted((e["rule"], e["layer"], e["bbox"], e["value"], e["message"]) for e in expected)


def test_fixture_markers_name_their_place_in_each_part():
    result = check_assembly(FIXTURES / "assembly_25d_faults.yaml")
    ((off, _),) = [
        (m, r) for r in result.report.rules for m in r.markers if m.layer == "interposer.C4" and m.value == 12.0
    ]
    # the C4 bump at (2000, 10000) of the interposer, drawn 12 um to the right; edge from its pad's centre
    assert off.message.endswith("[interposer (2006, 10000); substrate (7006, 15000)]")
    sub = part_report(result, "substrate")
    assert sub.layout.endswith("assembly_fault_substrate.gds") and sub.top == "SUBSTRATE"
    assert [r.id for r in sub.rules] == ["ALIGN.C4", "NET.C4", "IN.INT"]
    # in the substrate's own frame (it sits at the origin) and names: its layers as in its deck
    assert [(m.layer, m.bbox) for m in sub.rules[0].markers] == [
        ("interposer.C4", (7000.0, 15000.0, 7012.0, 15000.0)),
        ("PAD", (16440.0, 8440.0, 16560.0, 8560.0)),
    ]
    inter = part_report(result, "interposer")
    assert [(m.layer, m.bbox) for m in next(r for r in inter.rules if r.id == "ALIGN.C4").markers] == [  # 5000 um off
        ("C4", (2000.0, 10000.0, 2012.0, 10000.0)),
        ("substrate.PAD", (11440.0, 3440.0, 11560.0, 3560.0)),
    ]


# --- placements: KLayout's conventions -----------------------------------------------------


@pytest.mark.parametrize("flip,rotate", ORIENTATIONS)
def test_placement_is_klayouts_dcplxtrans(flip, rotate):
    pl = Placement((123.5, -40.25), rotate, flip, Grid(0.001), Grid(0.0005))
    part_dbu = np.array([[1000, 250], [-3, 7]])
    mine = pl.coords_to_assembly(part_dbu) * 0.0005
    t = kdb.DCplxTrans(*pl.klayout())
    theirs = [(q.x, q.y) for q in (t * kdb.DPoint(x * 0.001, y * 0.001) for x, y in part_dbu.tolist())]
    assert np.allclose(mine, theirs, atol=1e-12)
    assert np.allclose(pl.to_part_um(mine), part_dbu * 0.001)
    assert np.allclose(pl.to_assembly_um(part_dbu * 0.001), mine)


def test_flip_mirrors_about_the_parts_y_axis_before_rotating():
    pl = Placement((0.0, 0.0), 90, True, Grid(0.001), Grid(0.001))
    # (x, y) -> mirrored (-x, y) -> turned by +90: (-y, -x)
    assert pl.coords_to_assembly(np.array([[3.0, 1.0]])).tolist() == [[-1.0, -3.0]]


# --- align ----------------------------------------------------------------------------------

PADS = [(x, y) for x in (0, 100, 200, 300) for y in (0, 100, 200)] + [(0, 300)]  # (0, 300): asymmetry


def _die_on_carrier(tmp_path: Path, bumps, pads, die: str = "at: [0, 0]", rule_extra: str = "") -> Path:
    write_part(tmp_path / "die.gds", {23: [square(x, y, 20) for x, y in bumps]})
    write_part(tmp_path / "carrier.gds", {5: [square(x, y, 30) for x, y in pads]})
    return write_assembly(
        tmp_path / "a.yaml",
        f"""
        name: t
        parts:
          carrier: {{layout: carrier.gds, layers: {{PAD: 5/0}}}}
          die: {{layout: die.gds, layers: {{BUMP: 23/0}}, {die}, sits_on: carrier}}
        rules:
          AL: {{check: align, layer: die.BUMP, other: carrier.PAD, tolerance: 5, min: 4{rule_extra}}}
        """,
    )


def test_align_bump_off_its_pad_enclosure_and_pad_without_bump(tmp_path):
    bumps = [(108, 100) if (x, y) == (100, 100) else (203, 0) if (x, y) == (200, 0) else (x, y) for x, y in PADS]
    path = _die_on_carrier(tmp_path, bumps, PADS + [(1000, 0)])
    report = check_assembly(path).report
    assert markers(report, "AL") == [
        (
            "die.BUMP",
            (100.0, 100.0, 108.0, 100.0),
            8.0,
            "bump off its pad of carrier.PAD: centres farther apart than 5 um",
        ),
        ("die.BUMP", (193.0, -10.0, 213.0, 10.0), 2.0, "bump not inside its pad of carrier.PAD by 4 um"),
        ("carrier.PAD", (985.0, -15.0, 1015.0, 15.0), None, "pad without a bump of die.BUMP"),
    ]


def test_align_bump_between_two_pads_and_bump_on_no_pad(tmp_path):
    pads = [(0, 0), (8, 0)]  # 30 um pads 8 apart merge into one 38 x 30 pad centred at (4, 0)
    path = _die_on_carrier(tmp_path, [(4, 0), (500, 0)], pads + [(100, 0), (106, 40)])
    report = check_assembly(path).report
    assert markers(report, "AL") == [
        ("carrier.PAD", (85.0, -15.0, 115.0, 15.0), None, "pad without a bump of die.BUMP"),
        ("carrier.PAD", (91.0, 25.0, 121.0, 55.0), None, "pad without a bump of die.BUMP"),
        (
            "die.BUMP",
            (490.0, -10.0, 510.0, 10.0),
            round(math.hypot(500 - 106, 40), 6),
            "bump on no pad of carrier.PAD: no pad centre within 5 um (value: the nearest)",
        ),
    ]


def test_align_one_bump_meeting_two_pads(tmp_path):
    path = _die_on_carrier(tmp_path, [(0, 0)], [(-4, -40), (4, 40)], rule_extra=", whole_part: 0")
    path.write_text(path.read_text().replace("tolerance: 5", "tolerance: 50"))
    report = check_assembly(path).report
    assert markers(report, "AL") == [
        ("die.BUMP", (-10.0, -10.0, 10.0, 10.0), 2.0, "bump centre within 50 um of several pads of carrier.PAD")
    ]


@pytest.mark.parametrize(
    "placed,trans,drawn,best",
    [
        (
            "at: [57, -23], rotate: 0, flip: false",
            kdb.DCplxTrans(1, 0, False, 57, -23),
            lambda x, y: (x, y),
            "at: [0, 0], rotate: 0, flip: false",
        ),
        (
            "at: [1000, 0], rotate: 0, flip: false",
            kdb.DCplxTrans(1, 0, False, 1000, 0),
            lambda x, y: (-x, y),  # face down, not flipped
            "at: [0, 0], rotate: 0, flip: true",
        ),
        (
            "at: [0, 0], rotate: 0, flip: true",
            kdb.DCplxTrans(1, 180, True, 0, 0),
            lambda x, y: (x, y),
            "at: [0, 0], rotate: 0, flip: false",
        ),
        (
            "at: [500, 500], rotate: 90, flip: false",
            kdb.DCplxTrans(1, 90, False, 500, 500),
            lambda x, y: (y, -x),
            "at: [0, 0], rotate: 90, flip: false",
        ),
        (
            "at: [0, 0], rotate: 270, flip: true",
            kdb.DCplxTrans(1, 90, True, 0, 0),
            lambda x, y: (-y, -x),
            "at: [0, 0], rotate: 90, flip: true",
        ),
    ],
)
def test_align_whole_part_misplaced_is_one_marker_with_the_best_placement(tmp_path, placed, trans, drawn, best):
    bumps = [drawn(x, y) for x, y in PADS]
    path = _die_on_carrier(tmp_path, bumps, PADS, die=placed)
    report = check_assembly(path).report
    (m,) = next(r for r in report.rules if r.id == "AL").markers
    # as placed (KLayout's transformation), some bumps may meet a pad by chance
    landed = [trans * kdb.DPoint(x, y) for x, y in bumps]
    by_chance = sum(min(q.distance(kdb.DPoint(*p)) for p in PADS) <= 5 for q in landed)
    assert m.layer == "die.BUMP"
    assert m.bbox == pytest.approx(
        (
            min(q.x for q in landed) - 10,
            min(q.y for q in landed) - 10,
            max(q.x for q in landed) + 10,
            max(q.y for q in landed) + 10,
        ),
        abs=1e-9,
    )
    assert m.message.startswith(
        f"part die is misplaced: {by_chance} of 13 bumps of die.BUMP meet a pad of carrier.PAD as placed ({placed}"
    )
    assert f"; placed {best}, 13 of 13 would [" in m.message


def test_align_keeps_each_parts_grid(tmp_path):
    # the die on a 0.5 nm grid, its bump 5.0005 um off the pad: the assembly grid is the die's
    write_part(tmp_path / "die.gds", {23: [square(0, 0, 20), square(105.0005, 0, 20)]}, precision=5e-10)
    write_part(tmp_path / "carrier.gds", {5: [square(0, 0, 30), square(100, 0, 30)]})
    path = write_assembly(
        tmp_path / "a.yaml",
        """
        parts:
          carrier: {layout: carrier.gds, layers: {PAD: 5/0}}
          die: {layout: die.gds, layers: {BUMP: 23/0}, at: [0, 0]}
        rules:
          AL: {check: align, layer: die.BUMP, other: carrier.PAD, tolerance: 5, whole_part: 0}
        """,
    )
    report = check_assembly(path).report
    assert report.dbu_um == 0.0005
    assert markers(report, "AL") == [
        (
            "die.BUMP",
            (100.0, 0.0, 105.0005, 0.0),
            5.0005,
            "bump off its pad of carrier.PAD: centres farther apart than 5 um",
        )
    ]
    path.write_text(path.read_text().replace("at: [0, 0]", "at: [0.00025, 0]"))
    with pytest.raises(
        PkgdrcError,
        match=r"a\.yaml:3: part die: at: 0.00025 um is not on the assembly grid "
        r"\(0.0005 um\)",
    ):
        check_assembly(path)


# --- net_match ------------------------------------------------------------------------------


def test_net_match_names_both_nets(tmp_path):
    xy = [(0, 0), (100, 0), (200, 0)]
    write_part(
        tmp_path / "die.gds",
        {23: [square(x, y, 20) for x, y in xy]},
        {23: [("VDD", 0, 0), ("SIG1", 100, 0), ("SIG2", 200, 0)]},
    )
    write_part(
        tmp_path / "carrier.gds", {5: [square(x, y, 30) for x, y in xy]}, {5: [("VDD", 0, 0), ("SIG2", 100, 0)]}
    )  # the pad at (200, 0) carries no label
    for name, layer in (("die", "BUMP: 23/0"), ("carrier", "PAD: 5/0")):
        first = layer.split(":")[0]
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\nlayers: {{{layer}, VIA: 9/0}}\nconnect: [{first} - VIA]\n"
            f"labels: {{{first}: {layer.split(': ')[1].split('/')[0]}/1}}\nrules: {{}}\n"
        )
    path = write_assembly(
        tmp_path / "a.yaml",
        """
        parts:
          carrier: {layout: carrier.gds, deck: carrier.yaml}
          die: {layout: die.gds, deck: die.yaml}
        rules:
          NET: {check: net_match, layer: die.BUMP, other: carrier.PAD, tolerance: 5}
        """,
    )
    report = check_assembly(path).report
    assert markers(report, "NET") == [
        (
            "die.BUMP",
            (90.0, -10.0, 110.0, 10.0),
            None,
            "bump on net SIG1 (die.BUMP) meets a pad on net SIG2 (carrier.PAD)",
        )
    ]


# --- keepout, space, inside, covers, stack across parts --------------------------------------


def test_cross_part_keepout_space_inside_covers_stack(tmp_path):
    write_part(tmp_path / "carrier.gds", {31: [(0, 0, 5000, 5000)], 30: [(1000, 1000, 3000, 3000)]})
    write_part(tmp_path / "die.gds", {1: [(0, 0, 1800, 1800)]})
    write_part(tmp_path / "sink.gds", {40: [(-1100, -1100, 1100, 1100)]})
    path = write_assembly(
        tmp_path / "a.yaml",
        """
        name: cross
        parts:
          carrier: {layout: carrier.gds, layers: {SUB: 31/0, CAVITY: 30/0}, stack: {CAVITY_DEPTH: 290}}
          die: {layout: die.gds, layers: {DIE: 1/0}, at: [1100, 1100], sits_on: carrier, stack: {THICKNESS: 300}}
          die2: {layout: die.gds, layers: {DIE: 1/0}, at: [3050, 1100], sits_on: carrier}
          sink: {layout: sink.gds, layers: {HEATSINK: 40/0}, at: [2000, 2000], sits_on: die, stack: {STANDOFF: 380}}
        stack: {BUMP: 70}
        rules:
          KO: {check: keepout, layer: die2.DIE, other: die.DIE, min: 200}
          SP: {check: space, layer: die.DIE, other: die2.DIE, min: 200}
          IN.OK: {check: inside, layer: die.DIE, of: carrier.CAVITY, clearance: 100}
          IN.BAD: {check: inside, layer: die.DIE, of: carrier.CAVITY, clearance: 150}
          HS: {check: covers, layer: die.DIE, by: sink.HEATSINK, margin: 250}
          ST.CAV: {check: stack, relation: carrier.CAVITY_DEPTH == die.THICKNESS, tolerance: 5}
          ST.SINK: {check: stack, relation: sink.STANDOFF == die.THICKNESS + BUMP, tolerance: 5}
        """,
    )
    report = check_assembly(path).report
    assert markers(report, "KO") == [
        ("die2.DIE", (3050.0, 1100.0, 4850.0, 2900.0), 150.0, "closer than 200 um to die.DIE")
    ]
    assert markers(report, "SP") == [("die.DIE", (2900.0, 1100.0, 3050.0, 2900.0), 150.0, "")]
    assert markers(report, "IN.OK") == []
    assert [(layer, box, value) for layer, box, value, _ in markers(report, "IN.BAD")] == [
        ("die.DIE", (1100.0, 1100.0, 2900.0, 2900.0), None)
    ]
    assert [(layer, box, value) for layer, box, value, _ in markers(report, "HS")] == [
        ("die.DIE", (1100.0, 1100.0, 2900.0, 2900.0), 200.0)
    ]
    assert markers(report, "ST.CAV") == [
        (
            "stack",
            (1000.0, 1000.0, 3000.0, 3000.0),
            None,  # the cavity and the die: the layers the rules read
            "carrier.CAVITY_DEPTH 290 um == die.THICKNESS 300 um does not hold (tolerance 5 um)",
        )
    ]
    assert markers(report, "ST.SINK") == [
        (
            "stack",
            (900.0, 900.0, 3100.0, 3100.0),
            None,
            "sink.STANDOFF 380 um == die.THICKNESS 300 um + BUMP 70 um = 370 um does not hold (tolerance 5 um)",
        )
    ]


# --- the assembly file: every error names file and line --------------------------------------

GOOD = """\
name: t
parts:
  carrier: {layout: carrier.gds, layers: {PAD: 5/0}}
  die:
    layout: die.gds
    layers: {BUMP: 23/0}
    sits_on: carrier
rules:
  AL: {check: align, layer: die.BUMP, other: carrier.PAD, tolerance: 5}
"""


@pytest.mark.parametrize(
    "old,new,line,message",
    [
        (
            "parts:",
            "part:",
            2,
            (
                "assembly: unknown key 'part' (did you mean 'parts'?); expected one of name, units, "
                "description, grid, parts, stack, rules"
            ),
        ),
        (
            "    sits_on: carrier",
            "    sits_on: carier",
            7,
            ("part die: sits_on: unknown part 'carier' (did you mean 'carrier'?)"),
        ),
        (
            "    sits_on: carrier",
            "    on: carrier",
            7,
            (
                "part die: key True (YAML reads a bare on, off, yes or no as "
                "true or false); expected one of layout, top, deck, layers, at, "
                "rotate, flip, sits_on, stack, checks"
            ),
        ),
        (
            "    sits_on: carrier",
            "    flipp: true",
            7,
            (
                "part die: unknown key 'flipp' (did you mean 'flip'?); expected "
                "one of layout, top, deck, layers, at, rotate, flip, sits_on, "
                "stack, checks"
            ),
        ),
        ("    layout: die.gds", "    layout: dye.gds", 5, "part die: layout file not found: {dir}/dye.gds"),
        ("    sits_on: carrier", "    rotate: 45", 7, "part die: rotate: expected a multiple of 90 degrees, got 45"),
        (
            "{layout: carrier.gds, layers: {PAD: 5/0}}",
            "{layout: carrier.gds, layers: {PAD: 5/0}, sits_on: die}",
            3,
            "parts sit on each other in a circle: carrier -> die -> carrier",
        ),
        (
            "layer: die.BUMP,",
            "layer: die.BUMPS,",
            9,
            ("rule AL: layer: part die has no layer 'BUMPS' (did you mean 'BUMP'?)"),
        ),
        (
            "check: align",
            "check: alignn",
            9,
            (
                "rule AL: unknown assembly check kind 'alignn' (did you mean 'align'?); "
                "expected one of align, covers, inside, keepout, net_match, space, stack"
            ),
        ),
        (
            "tolerance: 5}",
            "tolerence: 5}",
            9,
            (
                "rule AL (align): unknown key 'tolerence' (did you mean 'tolerance'?); "
                "expected one of layer, other, tolerance, min, whole_part, check, doc"
            ),
        ),
        (
            "check: align, layer: die.BUMP, other: carrier.PAD, tolerance: 5",
            ("check: net_match, layer: die.BUMP, other: carrier.PAD, tolerance: 5"),
            9,
            ("rule AL: check net_match needs the nets of die.BUMP; part die needs a deck with connect:"),
        ),
        (
            "check: align, layer: die.BUMP, other: carrier.PAD, tolerance: 5",
            "check: stack, relation: die.H > 3",
            9,
            "rule AL: 'die.H' is not a stack height of the assembly or of a part",
        ),
    ],
)
def test_assembly_file_errors_name_file_and_line(tmp_path, old, new, line, message):
    write_part(tmp_path / "die.gds", {23: [square(0, 0, 20)]})
    write_part(tmp_path / "carrier.gds", {5: [square(0, 0, 30)]})
    assert old in GOOD
    path = tmp_path / "a.yaml"
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(PkgdrcError) as e:
        load_assembly(path)
    assert str(e.value) == f"{path}:{line}: " + message.format(dir=tmp_path)


def test_good_assembly_loads(tmp_path):
    write_part(tmp_path / "die.gds", {23: [square(0, 0, 20)]})
    write_part(tmp_path / "carrier.gds", {5: [square(0, 0, 30)]})
    (tmp_path / "a.yaml").write_text(GOOD)
    a = load_assembly(tmp_path / "a.yaml")
    assert list(a.parts) == ["carrier", "die"] and a.parts["die"].on == "carrier"
    assert [(r.id, r.check, r.layers, r.parts) for r in a.rules] == [
        ("AL", "align", ["die.BUMP", "carrier.PAD"], ["die", "carrier"])
    ]


def test_part_dbu_not_a_multiple_of_the_grid(tmp_path):
    write_part(tmp_path / "die.gds", {23: [square(0, 0, 20)]})
    write_part(tmp_path / "carrier.gds", {5: [square(0, 0, 30)]})
    (tmp_path / "a.yaml").write_text("grid: 0.0003\n" + GOOD)
    with pytest.raises(
        PkgdrcError,
        match=r"a\.yaml: part carrier: its database unit 0.001 um is not a whole "
        r"multiple of the assembly grid 0.0003 um; set grid: to a common divisor",
    ):
        check_assembly(tmp_path / "a.yaml")


def test_fixture_files_are_what_the_script_writes(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_assembly_fixtures", FIXTURES / "make_assembly_fixtures.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "HERE", tmp_path)
    monkeypatch.setattr(script, "_picture", lambda micro, c4: None)
    script.main()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert len(written) == 20  # 2.5D: 6 GDS, 3 decks, 2 assemblies, expected markers; 2 structures: 6 GDS, 2
    for name in written:
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), name


# --- the bundled structures as assemblies ------------------------------------------------------


def test_bundled_structures_as_assemblies_are_clean():
    for name, rules in (("assembly_fc_heatsink.yaml", 6), ("assembly_mcm_stacked.yaml", 4)):
        report = check_assembly(FIXTURES / name).report
        assert [r.status for r in report.rules] == ["passed"] * rules, name


def _changed_fixture(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of a fixture assembly with one change, its layouts still those in fixtures/."""
    text = (FIXTURES / name).read_text()
    assert old in text
    text = re.sub(r"layout: (assembly_\w+\.gds)", lambda m: f"layout: {FIXTURES / m.group(1)}", text)
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


def test_fc_heatsink_standoff_height_across_parts(tmp_path):
    path = _changed_fixture(tmp_path, "assembly_fc_heatsink.yaml", "{BUMP: 70, TIM: 30}", "{BUMP: 50, TIM: 30}")
    report = check_assembly(path).report
    assert markers(report, "ST.1") == [
        (
            "stack",
            (4000.0, 4000.0, 16000.0, 16000.0),
            None,
            (
                "sink.STANDOFF 400 um == die.THICKNESS 300 um + BUMP 50 um + TIM 30 um = 380 um does not hold "
                "(tolerance 10 um)"
            ),
        )
    ]


def test_mcm_chip_placed_10_um_off_its_via_holes(tmp_path):
    path = _changed_fixture(tmp_path, "assembly_mcm_stacked.yaml", "at: [2440, 2000]", "at: [2450, 2000]")
    report = check_assembly(path).report
    # 3 via holes (60 um, centres at x = 2440) over 80 um chip pads now centred at x = 2450: 10 um > 5 um
    assert markers(report, "VH2.1") == [
        (
            "module.VIA_HOLE2",
            (2440.0, y, 2450.0, y),
            10.0,
            "bump off its pad of chip.DIE_PAD: centres farther apart than 5 um",
        )
        for y in (1400.0, 2000.0, 2600.0)
    ]


def test_align_whole_part_found_when_a_corner_bump_has_no_pad(tmp_path):
    # the bump map's (1, 1) corner, (300, 200), has no pad: the search anchors on the other diagonal
    pads = [p for p in PADS if p != (300, 200)]
    path = _die_on_carrier(tmp_path, PADS, pads, die="at: [57, -23]")
    report = check_assembly(path).report
    (m,) = next(r for r in report.rules if r.id == "AL").markers
    assert "; placed at: [0, 0], rotate: 0, flip: false, 12 of 13 would [" in m.message


def test_align_against_an_empty_pad_layer(tmp_path):
    path = _die_on_carrier(tmp_path, [(0, 0), (100, 0)], [(0, 0)])
    path.write_text(path.read_text().replace("layers: {PAD: 5/0}", "layers: {PAD: 6/0}"))  # nothing on 6/0
    result = check_assembly(path)
    rule = result.report.rules[0]
    assert (rule.status, rule.empty_inputs) == ("failed", ["carrier.PAD"])
    assert markers(result.report, "AL") == [
        (
            "die.BUMP",
            (-10.0, -10.0, 10.0, 10.0),
            None,
            ("bump on no pad of carrier.PAD: no pad centre within 5 um (value: the nearest)"),
        ),
        (
            "die.BUMP",
            (90.0, -10.0, 110.0, 10.0),
            None,
            ("bump on no pad of carrier.PAD: no pad centre within 5 um (value: the nearest)"),
        ),
    ]


def test_assembly_kinds_have_a_typed_contract():
    """Each kind is one AssemblyKind, registered once; a misspelled field or a module is refused."""
    assert sorted(KINDS) == ["align", "covers", "inside", "keepout", "net_match", "space", "stack"]
    assert all(isinstance(k, AssemblyKind) and k.name == name for name, k in KINDS.items())
    assert [n for n, k in KINDS.items() if k.needs_nets] == ["net_match"]
    assert KINDS["stack"].stack_names({"relation": "UNDERFILL >= die_a.BUMP_HEIGHT + 20"}) == [
        "UNDERFILL",
        "die_a.BUMP_HEIGHT",
    ]
    assert KINDS["covers"].reads({"layer": ["d.DIE", "e.DIE"], "by": "s.SINK"}) == ["d.DIE", "e.DIE", "s.SINK"]
    with pytest.raises(TypeError, match="need_nets"):
        AssemblyKind("x", "doc", {}, lambda ctx, p: [], lambda p: None, need_nets=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes an AssemblyKind, got module"):
        register(align_module)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'align' is registered twice"):
        register(KINDS["align"])
