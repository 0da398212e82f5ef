"""What the HTML report draws, handed over by the run as plain data (`Report.drawing`).

The report writers never see the run's layers or layout (issue 16): the run builds a
`Drawing` once its markers are final (`make_drawing`), holding only what the page needs:

- the deck's drawn layers in deck order (the page colours them by that order);
- the overview's background: the box of every shape on those layers and each shape's
  bounding-box centre, in um (the heat map bins them);
- per violated rule, the drawn layers its pictures show: the layers the rule reads
  (`CheckKind.reads`, given by the caller), derived layers as the drawn layers they are
  made of, and for a rule on nets every layer of the deck's `connect:` chains;
- per pictured marker (the first PICTURES_PER_RULE of each violated rule), the shapes of
  those layers meeting its picture's window (`picture_box`), clipped to it, as WKB in dbu.

So a Report keeps a few arrays, never the layout: its size is that of the shape centres
(16 bytes a shape) and of the shapes near at most PICTURES_PER_RULE markers per rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely

from pkgdrc.deck import expr as dexpr
from pkgdrc.markers import Marker

if TYPE_CHECKING:
    from pkgdrc.deck import Deck
    from pkgdrc.layout import Layout
    from pkgdrc.result import RuleResult

PICTURES_PER_RULE = 12

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Drawing:
    """The geometry the HTML report draws (see the module docstring); plain arrays, no layout."""

    dbu_um: float
    layers: tuple[str, ...]  # the deck's drawn layers, in deck order
    shape_box: Box | None  # um: the box of every shape on `layers`, None without shapes
    shape_centres: np.ndarray  # (N, 2) um: each shape's bounding-box centre
    rule_layers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # violated rule id -> drawn layers
    # (rule id, marker index) -> [(layer, WKB of its shapes clipped to the picture, dbu)], the
    # layers with shapes there, in the rule's layer order.
    near: dict[tuple[str, int], list[tuple[str, np.ndarray]]] = field(default_factory=dict)

    def shapes_near(self, rule_id: str, k: int) -> list[tuple[str, np.ndarray]]:
        """The layers with shapes in picture `k` of rule `rule_id`, with those shapes (dbu, clipped)."""
        return [(name, shapely.from_wkb(wkb)) for name, wkb in self.near.get((rule_id, k), [])]


def square(box: Box) -> tuple[Box, float]:
    """The square window with the same centre whose side is the box's longer side; and that side."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0, 1e-9)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), side


def picture_box(r: RuleResult, m: Marker, dbu_um: float) -> Box:
    """The window (um, square) a picture of marker `m` of rule `r` shows: the marker with context
    around it; a long thin marker is shown at its middle, zoomed on its width."""
    x0, y0, x1, y1 = m.bbox
    limit = r.limit if isinstance(r.limit, (int, float)) and r.check != "angle" else 0.0
    small, big = sorted((x1 - x0, y1 - y0))
    context = max(2.5 * limit, 3.0 * small, 20 * dbu_um, 1.0)
    half = (min(big, 12 * max(small, limit, 1.0)) + 2 * context) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return square((cx - half, cy - half, cx + half, cy + half))[0]


def drawn_layers(deck: Deck, names: list[str]) -> list[str]:
    """Drawn layers behind layer names, in order (derived layers expand to their drawn sources)."""
    out: list[str] = []
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name in deck.derived:
            todo.extend(sorted(dexpr.names(deck.derived[name])))
        elif name in deck.layers and name not in out:
            out.append(name)
    return out


def picture_layers(deck: Deck, r: RuleResult, reads: list[str]) -> list[str]:
    """The drawn layers a picture of rule `r` shows: its marker layers and the layers it reads
    (`reads`, those of the deck), and for a rule on nets the deck's `connect:` layers."""
    known = set(deck.layers) | set(deck.derived)
    names = list(r.layers)
    names += [n for n in dict.fromkeys(reads) if n in known and n not in names]
    if r.nets:
        names += [name for chain in deck.connect for name in chain if name not in names]
    return drawn_layers(deck, names)


def make_drawing(layout: Layout, deck: Deck, rules: list[RuleResult], reads: Mapping[str, list[str]]) -> Drawing:
    """The Drawing of a run's final `rules` on `layout` (checked against `deck`); `reads` maps a
    rule id to the layer names (drawn or derived) the rule reads."""
    dbu = layout.grid.dbu_um
    polys = [layout.polygons[n] for n in deck.layers if len(layout.polygons.get(n, []))]
    bounds = shapely.bounds(np.concatenate(polys)) * dbu if polys else np.zeros((0, 4))
    box: Box | None = None
    if len(bounds):
        (x0, y0), (x1, y1) = bounds[:, :2].min(axis=0).tolist(), bounds[:, 2:].max(axis=0).tolist()
        box = (x0, y0, x1, y1)
    rule_layers: dict[str, tuple[str, ...]] = {}
    near: dict[tuple[str, int], list[tuple[str, np.ndarray]]] = {}
    for r in rules:
        if not r.markers:
            continue
        layers = picture_layers(deck, r, reads.get(r.id, []))
        rule_layers[r.id] = tuple(layers)
        for k, m in enumerate(r.markers[:PICTURES_PER_RULE]):
            window = picture_box(r, m, dbu)
            found = []
            for name in layers:
                clipped = shapely.clip_by_rect(layout.query(name, window), *[v / dbu for v in window])
                clipped = clipped[~shapely.is_empty(clipped)]
                if len(clipped):
                    found.append((name, shapely.to_wkb(clipped)))
            near[(r.id, k)] = found
    return Drawing(
        dbu,
        tuple(deck.layers),
        box,
        (bounds[:, :2] + bounds[:, 2:]) / 2,
        rule_layers,
        near,
    )
