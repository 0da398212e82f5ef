"""Enclosure checked without the outer layer merged (a rule alone, or an outer layer no other
rule merges): vias deep inside one drawn pad are passed, the others measured against the
drawn pads near them merged. The markers must be those of the whole-layer merge."""

from __future__ import annotations

import json

import gdstk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pkgdrc
from pkgdrc.layers import LayerSet

DECK = """\
units: um
layers: {VIA: 1/0, PAD: 2/0}
rules:
  EN: {check: enclosure, layer: VIA, by: PAD, min: 1.5}
"""

boxes = st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(1, 30), st.integers(1, 30))


def _markers(path, deck, hierarchy="flat"):
    report = pkgdrc.check(path, deck, hierarchy=hierarchy, allow_empty=True)
    return [json.dumps(m.to_dict(), sort_keys=True) for m in report.rules[0].markers]


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pads=st.lists(boxes, min_size=1, max_size=8), vias=st.lists(boxes, min_size=1, max_size=12))
def test_enclosure_alone_gives_the_markers_of_the_whole_merge(pads, vias, tmp_path, monkeypatch):
    """Pads as overlapping and abutting drawn pieces (the merged edge is not a drawn one), vias
    deep inside, near edges, across gaps, off every pad, and next to one another (shields)."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    for x, y, w, h in pads:
        top.add(gdstk.rectangle((x, y), (x + w, y + h), layer=2))
    for x, y, w, h in vias:
        top.add(gdstk.rectangle((x, y), (x + w / 10, y + h / 10), layer=1))
    path, deck = tmp_path / "v.gds", tmp_path / "d.yaml"
    lib.write_gds(str(path))
    deck.write_text(DECK)
    alone = _markers(path, str(deck))
    monkeypatch.setattr(LayerSet, "has_merged", lambda self, name: True)  # the whole layer merged first
    assert alone == _markers(path, str(deck))


def test_a_via_deep_in_a_pad_passes_and_one_near_its_edge_fails(tmp_path):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    top.add(
        gdstk.rectangle((0, 0), (20, 10), layer=2), gdstk.rectangle((20, 0), (40, 10), layer=2)
    )  # one pad, 2 pieces
    top.add(gdstk.rectangle((18, 4), (22, 6), layer=1))  # across the pieces' joint: deep in the merged pad
    top.add(gdstk.rectangle((5, 4), (7, 6), layer=1))  # deep in one piece
    top.add(gdstk.rectangle((37, 4), (39, 6), layer=1))  # 1 um from the right edge: fails
    path, deck = tmp_path / "v.gds", tmp_path / "d.yaml"
    lib.write_gds(str(path))
    deck.write_text(DECK)
    (rule,) = pkgdrc.check(path, str(deck)).rules
    # the pad's edge within 1.5 um of the via's right edge: 6 + sqrt(1.5^2 - 1^2) above, as far below
    assert [(m.value, m.edge_pair) for m in rule.markers] == [
        (1.0, (((39.0, 6.0), (39.0, 4.0)), ((40.0, 7.118), (40.0, 2.882))))
    ]
