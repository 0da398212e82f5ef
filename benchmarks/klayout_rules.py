"""The deck's rules written with klayout.db, for the benchmarks: the KLayout operations doing the same check.

`KLayoutDeck(layout, deck, deep, threads)` runs one rule at a time (`count(rule)`: the
number of markers KLayout reports for it) on Regions made from the layout, flat or in a
DeepShapeStore. Every kind has its operations spelt out in `OPERATIONS` (printed in the
benchmark's per-rule table). Semantics follow pkgdrc's docstrings: merged layers,
Euclidean metric, KLayout's 0.30 check defaults.

- width / space / separation / overlap: `width_check`, `space_check`, `separation_check`,
  `overlap_check`.
- enclosure: `enclosed_check` plus the uncovered part (`layer - by`), which pkgdrc reports too.
- inside: `layer - of.sized(-clearance)`.
- area: `with_area(0, min)` on the merged layer.
- angle: merged edges at none of the allowed angles (`with_angle(a, inverse=True)` chained).
- via_landing: enclosure by `below` with the die shift and by `above` as enclosure, plus
  `with_bbox_width/height` outside the size range, `space_check` and `&` with the next via.
- passivation (`ubm` part): UBMs interacting with other than one opening
  (all minus `interacting(po, 1, 1)`), openings' parts off their UBM, `enclosed_check` in UBM.
- density: a TilingProcessor per outline shape, tiles of `step` with a border of
  (window - step) / 2, each tile's window area of the merged layer (`area(box)`); windows
  from the outline's lower-left corner, as pkgdrc places them, but without pkgdrc's last
  row and column flush with the far edge (a 5,780 um package: 22 x 22 windows, pkgdrc 23 x 23).
Kinds that follow nets (fanout `max_reach`, trace_width_vs_die, connectivity) have no
counterpart here: pkgdrc's time only.
"""

from __future__ import annotations

import math

from klayout import db

OPERATIONS = {
    "width": "width_check",
    "space": "space_check",
    "separation": "separation_check",
    "overlap": "overlap_check",
    "enclosure": "enclosed_check + (layer - by)",
    "inside": "layer - of.sized(-c)",
    "area": "with_area(0, min)",
    "angle": "edges.with_angle(a, inverse) x4",
    "via_landing": "2x enclosed_check + 2x NOT + with_bbox_width/height + space_check + AND",
    "passivation": "interacting(1, 1) + NOT + enclosed_check",
    "density": "TilingProcessor per PKG: area(window) per tile",
}
EUCLID = db.Metrics.Euclidian


def has_counterpart(rule) -> bool:
    if rule.check == "passivation":
        return rule.params.get("ubm") is not None and not rule.params.get("metal")
    if rule.check == "fanout":
        return False
    return rule.check in OPERATIONS


class KLayoutDeck:
    """A deck's rules on one klayout.db Layout, flat or deep (`threads` for the DeepShapeStore and tiles)."""

    def __init__(self, layout: db.Layout, deck, deep: bool, threads: int = 1, top: str | None = None):
        self.layout, self.deck, self.deep, self.threads = layout, deck, deep, threads
        self.top = layout.cell(top) if top else layout.top_cell()
        self.dbu = layout.dbu
        self.dss = None
        if deep:
            self.dss = db.DeepShapeStore()
            self.dss.threads = threads
        self.cache: dict[str, db.Region] = {}

    def clear(self) -> None:
        """Forget the layers made so far (each rule alone pays for making and merging its layers)."""
        self.cache.clear()

    def um(self, v: float) -> int:
        return round(v / self.dbu)

    def layer_index(self, name: str) -> int | None:
        ld = self.deck.layers[name]
        return self.layout.find_layer(ld[0], ld[1])

    def region(self, name: str) -> db.Region:
        if name not in self.cache:
            if name in self.deck.derived:
                raise NotImplementedError(f"derived layer {name} in the KLayout benchmark")
            li = self.layer_index(name)
            if li is None:
                self.cache[name] = db.Region()
            else:
                it = self.top.begin_shapes_rec(li)
                self.cache[name] = db.Region(it, self.dss) if self.deep else db.Region(it)
        return self.cache[name]

    def count(self, rule) -> int:
        p = rule.params
        layers = p["layer"] if isinstance(p["layer"], list) else [p["layer"]]
        return sum(getattr(self, "_" + rule.check)(self.region(name), p) for name in layers)

    # ------------------------------------------------------------ one method per kind

    def _width(self, r, p) -> int:
        return r.width_check(self.um(p["min"]), False, EUCLID).count()

    def _space(self, r, p) -> int:
        return r.space_check(self.um(p["min"]), False, EUCLID).count()

    def _separation(self, r, p) -> int:
        return r.separation_check(self.region(p["other"]), self.um(p["min"]), False, EUCLID).count()

    def _overlap(self, r, p) -> int:
        return r.overlap_check(self.region(p["other"]), self.um(p["min"]), False, EUCLID).count()

    def _enclosed(self, r, by, d: float) -> int:
        return r.enclosed_check(by, self.um(d), False, EUCLID).count() + (r - by).count()

    def _enclosure(self, r, p) -> int:
        return self._enclosed(r, self.region(p["by"]), p["min"])

    def _inside(self, r, p) -> int:
        return (r - self.region(p["of"]).sized(-self.um(p["clearance"] or 0.0))).count()

    def _area(self, r, p) -> int:
        a = round(p["min"] / (self.dbu * self.dbu), 6)  # 0.0256 um2 is 25600 dbu2, not 25600.000000000004
        return r.with_area(0, math.ceil(a), False).count()  # an area exactly min passes

    def _angle(self, r, p) -> int:
        edges = r.edges()
        for a in p["allowed"]:
            a = a % 180
            edges = edges.with_angle(a - 180 if a > 90 else a, True)  # KLayout edge angles are in (-90, 90]
        return edges.count()

    def _via_landing(self, r, p) -> int:
        n = self._enclosed(r, self.region(p["below"]), (p["below_enclosure"] or 0.0) + (p.get("die_shift") or 0.0))
        n += self._enclosed(r, self.region(p["above"]), p["above_enclosure"] or 0.0)
        size = p.get("size")
        if size is not None:
            lo, hi = (size, size) if isinstance(size, (int, float)) else size  # the deck's (min, max)
            lo, hi = self.um(lo), self.um(hi) + 1
            n += r.with_bbox_width(lo, hi, True).count() + r.with_bbox_height(lo, hi, True).count()
        if p.get("space"):
            n += r.space_check(self.um(p["space"]), False, EUCLID).count()
        if p.get("stacking") == "forbidden" and p.get("next_via"):
            n += (r & self.region(p["next_via"])).count()
        return n

    def _passivation(self, r, p) -> int:
        ubm = self.region(p["ubm"])
        n = ubm.count() - ubm.interacting(r, 1, 1).count()  # UBMs holding no opening, or several
        held = r.interacting(ubm)
        n += (held - ubm).count()
        n += held.enclosed_check(ubm, self.um(p.get("ubm_enclosure") or 0.0), False, EUCLID).count()
        return n

    def _density(self, r, p) -> int:
        window, step = self.um(p["window"]), self.um(p["step"])
        border = (window - step) // 2
        li = self.layer_index(p["layer"] if isinstance(p["layer"], str) else p["layer"][0])
        n = 0
        for outline in self.region(p["outline"]).merged().each():
            box = outline.bbox()
            if box.width() < window or box.height() < window:
                continue
            nx = (box.width() - window) // step + 1
            ny = (box.height() - window) // step + 1
            tp = db.TilingProcessor()
            tp.dbu = self.dbu
            tp.threads = self.threads
            tp.input("m", self.layout, self.top.cell_index(), li)
            tp.tile_size(step * self.dbu, step * self.dbu)
            tp.tile_border(border * self.dbu, border * self.dbu)
            tp.tile_origin((box.left + border) * self.dbu, (box.bottom + border) * self.dbu)
            tp.tiles(nx, ny)
            tp.var("lo", p["min"])
            tp.var("hi", p["max"])
            out = db.Region()
            tp.output("out", out)
            tp.queue(
                f"var w = _tile.bbox.enlarged(Vector.new({border}, {border})); "
                "var d = to_f(m.area(w)) / to_f(w.area); (d < lo || d > hi) && _output(out, w)"
            )
            tp.execute("density")
            n += out.count()
        return n
