"""The layout's layers with shapes that no deck layer maps (issue 15, item 2).

A deck mapping RDL1 to 111/0 on a layout whose RDL is on 11/0 checked nothing and said
clean. `read_layout` lists such layers in `Layout.unmapped` as (layer, datatype, shapes of
the flattened top), counted in the reading child without flattening; the reports show them.
"""

from __future__ import annotations

import gdstk

from pkgdrc.layout import read_layout


def test_layers_no_deck_layer_maps_are_listed_with_their_flat_shape_counts(tmp_path):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    via = lib.new_cell("VIA")
    via.add(gdstk.rectangle((0, 0), (1, 1), layer=11), gdstk.FlexPath([(0, 0), (5, 0)], 1, layer=12, datatype=3))
    unused = lib.new_cell("UNUSED")  # a second top cell, not under TOP: not counted
    unused.add(gdstk.rectangle((0, 0), (1, 1), layer=40))
    top = lib.new_cell("TOP")
    top.add(
        gdstk.rectangle((0, 0), (10, 2), layer=11),
        gdstk.rectangle((0, 5), (10, 7), layer=11),
        gdstk.rectangle((0, 0), (50, 50), layer=13),
    )
    top.add(gdstk.Reference(via, (20, 0), columns=3, rows=2, spacing=(5, 5)))
    path = tmp_path / "rdl-on-11.gds"
    lib.write_gds(str(path))
    layout = read_layout(path, {"RDL1": (111, 0), "PKG": (13, 0)}, top="TOP")
    assert layout.unmapped == [(11, 0, 2 + 6), (12, 3, 6)]
    assert layout.count("RDL1") == 0 and layout.count("PKG") == 1


def test_nothing_unmapped_when_the_deck_maps_every_layer(tmp_path):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.new_cell("TOP").add(gdstk.rectangle((0, 0), (10, 2), layer=11))
    path = tmp_path / "t.gds"
    lib.write_gds(str(path))
    assert read_layout(path, {"RDL1": (11, 0)}).unmapped == []
