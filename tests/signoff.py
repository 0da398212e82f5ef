"""A small layout with known violations of a small deck (rules as in fowlp-2l), for the sign-off tests.

Expected markers (um, 1 nm grid):
  RDL1.S  value 1.5, bbox [100, 103, 300, 104.5]   two RDL1 lines 1.5 apart
  RDL1.W  value 1.5, bbox [400, 400, 401.5, 500]   an RDL1 line 1.5 wide
  RDL2.W  value 1,   bbox [600, 600, 601, 620]     cell LOGO (RDL2 1 x 20) placed at (600, 600)
  RDL2.W  value 1,   bbox [680, 600, 700, 601]     ... and rotated 90 degrees at (700, 600)
"""

from __future__ import annotations

import math
from pathlib import Path

import gdstk

DECK = """name: signoff
units: um
layers: {PKG: 0/0, RDL1: 11/0, RDL2: 13/0}
rules:
  RDL1.W: {check: width, layer: RDL1, min: 2.0, doc: RDL1 minimum line width}
  RDL2.W: {check: width, layer: RDL2, min: 2.0}
  RDL1.S: {check: space, layer: RDL1, min: 2.0, doc: "RDL1 minimum space, notches included"}
  RDL2.S: {check: space, layer: RDL2, min: 2.0}
  FO.1:   {check: inside, layer: [RDL1, RDL2], of: PKG, clearance: 50}
  ANG.1:  {check: angle, layer: [RDL1, RDL2], allowed: [0, 45, 90, 135]}
"""
RULES = 6

EXPECTED = {
    "RDL1.S": [(1.5, (100.0, 103.0, 300.0, 104.5))],
    "RDL1.W": [(1.5, (400.0, 400.0, 401.5, 500.0))],
    "RDL2.W": [(1.0, (600.0, 600.0, 601.0, 620.0)), (1.0, (680.0, 600.0, 700.0, 601.0))],
}


def write_signoff_deck(path: Path) -> Path:
    path.write_text(DECK)
    return path


def write_signoff_layout(path: Path, fixed: bool = False) -> Path:
    """The layout above; `fixed=True` widens and separates everything (no violations)."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    logo = lib.new_cell("LOGO")
    top.add(gdstk.rectangle((0, 0), (1000, 1000), layer=0))
    top.add(gdstk.rectangle((100, 100), (300, 103), layer=11))
    top.add(gdstk.rectangle((100, 104.5 if not fixed else 106), (300, 107.5 if not fixed else 109), layer=11))
    top.add(gdstk.rectangle((400, 400), (401.5 if not fixed else 402, 500), layer=11))
    logo.add(gdstk.rectangle((0, 0), (1 if not fixed else 2, 20), layer=13))
    top.add(gdstk.Reference(logo, (600, 600)))
    top.add(gdstk.Reference(logo, (700, 600), rotation=math.pi / 2))
    lib.write_gds(str(path))
    return path
