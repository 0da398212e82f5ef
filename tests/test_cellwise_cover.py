"""Covered placements (pkgdrc/cellwalk.py): a placement deep inside a shape of its parent
reuses its cell's markers only where the check lets that shape cover it, and the
markers are always those of the flat run."""

from __future__ import annotations

import json

import gdstk
import pytest

from pkgdrc.cellwalk import CellwiseRule
from pkgdrc.run import check

DECK = """name: covers
units: um
layers: {PKG: 0/0, VIA: 10/0, RDL: 11/0, PO: 20/0, BIG: 30/0, STIF: 40/0, DIE: 1/0}
rules:
  IN.1: {check: inside, layer: [RDL, PO], of: PKG, clearance: 50}
  EN.1: {check: enclosure, layer: VIA, by: RDL, min: 1}
  W.1: {check: width, layer: RDL, min: 2}
  S.1: {check: space, layer: RDL, min: 2}
  A.1: {check: area, layer: PO, min: 500}
  OO.1: {check: one_to_one, layer: STIF, other: DIE, count: 1}
"""


@pytest.fixture
def deck(tmp_path):
    path = tmp_path / "covers.yaml"
    path.write_text(DECK)
    return path


def _pad(lib: gdstk.Library, narrow: bool = False) -> gdstk.Cell:
    """An RDL pad with a via and a passivation opening; `narrow`: a 1.5 um RDL stub (W.1)."""
    cell = lib.new_cell("PAD_N" if narrow else "PAD")
    cell.add(gdstk.rectangle((0, 0), (40, 40), layer=11))
    cell.add(gdstk.rectangle((10, 10), (20, 20), layer=10))
    cell.add(gdstk.rectangle((25, 25), (30, 30), layer=20))  # 25 um2 opening: A.1
    if narrow:
        cell.add(gdstk.rectangle((40, 10), (60, 11.5), layer=11))
    return cell


def _write(tmp_path, build) -> str:
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    build(lib, top)
    path = tmp_path / "cover.gds"
    lib.write_gds(str(path))
    return str(path)


def _markers(path: str, deck, flat: bool) -> dict[str, list[str]]:
    report = check(path, deck, hierarchy="flat" if flat else "cellwise")
    return {r.id: [json.dumps(m.to_dict(), sort_keys=True) for m in r.markers] for r in report.rules}


@pytest.fixture
def spy(monkeypatch):
    """Every (rule, cell, cover) the cellwise engine computes, in order."""
    seen: list[tuple[str, str, frozenset]] = []
    original = CellwiseRule._check_cell

    def recording(self, name, m, cover, *at):
        seen.append((self.rule.id, name, cover))
        return original(self, name, m, cover, *at)

    monkeypatch.setattr(CellwiseRule, "_check_cell", recording)
    return seen


def test_pads_under_the_package_outline_are_checked_once(tmp_path, deck, spy):
    def build(lib, top):
        top.add(gdstk.rectangle((-200, -200), (1400, 1400), layer=0))
        # 60 um between pads: farther apart than IN.1's reach (50 um + 2 dbu)
        top.add(gdstk.Reference(_pad(lib), (0, 0), columns=12, rows=12, spacing=(100, 100)))
        top.add(gdstk.Reference(_pad(lib, narrow=True), (1300, 0)))  # its stub 40 um from the edge: not covered
        top.add(gdstk.rectangle((1380, 500), (1390, 510), layer=11))  # 10 um from the edge: IN.1

    path = _write(tmp_path, build)
    cells, flat = _markers(path, deck, False), _markers(path, deck, True)
    assert cells == flat
    assert len(flat["IN.1"]) == 2 and len(flat["W.1"]) == 1  # the stub ends 40 um from the edge
    assert len(flat["A.1"]) == 145  # every opening, the 144 arrayed ones too
    assert len(flat["EN.1"]) == 0 and len(flat["S.1"]) == 0
    # The pad cell is computed once per rule: under the outline for IN.1 (and alone for the
    # others, which do not read PKG), never 144 times.
    pad = [(rule, cover) for rule, name, cover in spy if name == "PAD"]
    assert sorted(pad) == sorted(
        [
            ("IN.1", frozenset({"PKG"})),
            ("EN.1", frozenset()),
            ("W.1", frozenset()),
            ("S.1", frozenset()),
            ("A.1", frozenset()),
        ]
    )


def test_pads_closer_than_the_reach_are_checked_flat(tmp_path, deck, spy):
    """20 um between pads, IN.1 reaches 50 um: the pads crowd each other for IN.1 (a
    limitation of the box test: only their RDL-to-PKG distance matters to `inside`)."""

    def build(lib, top):
        top.add(gdstk.rectangle((-200, -200), (1400, 1400), layer=0))
        top.add(gdstk.Reference(_pad(lib), (0, 0), columns=20, rows=20, spacing=(60, 60)))
        top.add(gdstk.rectangle((1380, 500), (1390, 510), layer=11))

    path = _write(tmp_path, build)
    cells, flat = _markers(path, deck, False), _markers(path, deck, True)
    assert cells == flat
    assert len(flat["IN.1"]) == 1 and len(flat["A.1"]) == 400
    assert ("IN.1", "PAD", frozenset({"PKG"})) not in spy and ("W.1", "PAD", frozenset()) in spy


def test_a_shape_of_the_checked_layer_never_covers_for_enclosure(tmp_path, deck, spy):
    """A huge VIA over an array of pads: the VIA is the checked layer of EN.1, so the pads
    under it are checked flat with it (its uncovered part depends on every pad's RDL)."""

    def build(lib, top):
        top.add(gdstk.Reference(_pad(lib), (0, 0), columns=5, rows=5, spacing=(60, 60)))
        top.add(gdstk.rectangle((-100, -100), (400, 400), layer=10))

    path = _write(tmp_path, build)
    cells, flat = _markers(path, deck, False), _markers(path, deck, True)
    assert cells == flat
    assert len(flat["EN.1"]) >= 1  # the big via is not covered by RDL
    assert ("EN.1", "PAD", frozenset({"VIA"})) not in spy


def test_a_hole_in_the_outline_uncovers_what_lies_in_it(tmp_path, deck):
    def build(lib, top):
        outline = gdstk.boolean(
            gdstk.rectangle((-200, -200), (1400, 1400)), gdstk.rectangle((400, 400), (700, 700)), "not", layer=0
        )
        top.add(*outline)
        top.add(gdstk.Reference(_pad(lib), (0, 0), columns=20, rows=20, spacing=(60, 60)))

    path = _write(tmp_path, build)
    cells, flat = _markers(path, deck, False), _markers(path, deck, True)
    assert cells == flat
    # pads wholly or partly in the 300 um hole (and within 50 um of its edge) fail IN.1
    assert len(flat["IN.1"]) > 0


def test_counting_checks_are_never_covered(tmp_path, deck, spy):
    """one_to_one counts what a stiffener opening holds: an opening around many placed dies
    is one marker with their number, found only by checking them together."""

    def build(lib, top):
        die = lib.new_cell("DIE")
        die.add(gdstk.rectangle((0, 0), (100, 100), layer=1))
        top.add(gdstk.rectangle((-500, -500), (2000, 2000), layer=40))
        top.add(gdstk.Reference(die, (0, 0), columns=3, rows=3, spacing=(400, 400)))
        top.add(gdstk.Reference(die, (5000, 0), columns=2, rows=1, spacing=(400, 400)))  # in no opening

    path = _write(tmp_path, build)
    cells, flat = _markers(path, deck, False), _markers(path, deck, True)
    assert cells == flat
    values = [json.loads(m)["value"] for m in flat["OO.1"]]
    # two stray dies (in 0 openings: no value, the count is in the message), one opening holding nine
    assert sorted(values, key=lambda v: v is None) == [9, None, None]
    assert not any(cover for rule, _, cover in spy if rule == "OO.1")


def test_rules_sharing_a_cover_layer_each_get_a_cover_of_their_content(tmp_path):
    """Two inside rules under the same outline: the cell's RDL sits left, its PO 300 um to the
    right. Each rule's cover box must hold that rule's content (flat groups are shared by the
    rules of a run, so a box made for one rule must not serve the other)."""
    deck = tmp_path / "two.yaml"
    deck.write_text(
        "name: two\nunits: um\nlayers: {PKG: 0/0, RDL: 11/0, PO: 20/0}\nrules:\n"
        "  IN.R: {check: inside, layer: RDL, of: PKG, clearance: 5}\n"
        "  IN.P: {check: inside, layer: PO, of: PKG, clearance: 5}\n"
    )

    def build(lib, top):
        cell = lib.new_cell("C")
        cell.add(gdstk.rectangle((0, 0), (10, 10), layer=11), gdstk.rectangle((300, 0), (310, 10), layer=20))
        top.add(gdstk.rectangle((-100, -100), (2000, 2000), layer=0))
        top.add(gdstk.Reference(cell, (0, 0), columns=3, rows=3, spacing=(500, 500)))

    path = _write(tmp_path, build)
    cells, flat = _markers(path, deck, False), _markers(path, deck, True)
    assert flat == {"IN.R": [], "IN.P": []}
    assert cells == flat
