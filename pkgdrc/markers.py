"""Markers: what checks find, as plain data.

A check returns `Violations` in database units (arrays, one row per violation). The run
turns them into `Marker`s in um through the grid, once (`to_markers`), in normal form:
coordinates on the grid, polygons without redundant vertices, and no marker twice (the
markers of a rule are a set, as KLayout's edge pairs are). Reporters read markers only.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import shapely

from pkgdrc.geometry.polygons import POLYGON, clean
from pkgdrc.units import Grid, round_half_away

Point = tuple[float, float]
Segment = tuple[Point, Point]
GeometryKind = Literal["edge_pair", "polygon", "edge"]
ValueUnit = Literal["length", "area", "none"]


@dataclass
class Violations:
    """Violations of one rule on one layer, in database units.

    geometry: (N, 2, 2, 2) edge pairs, (N, 2, 2) edges, or an object array of shapely
    polygons. values: (N,) measured values, NaN where the check measures nothing;
    lengths in dbu, areas in dbu2, anything else (degrees, ratios) as is.
    """

    kind: GeometryKind
    geometry: np.ndarray
    values: np.ndarray
    value_unit: ValueUnit = "length"
    messages: np.ndarray | str = ""

    def __len__(self) -> int:
        return len(self.values)

    @classmethod
    def polygons(
        cls,
        polys: np.ndarray,
        values: np.ndarray | None = None,
        value_unit: ValueUnit = "none",
        messages: np.ndarray | str = "",
    ) -> Violations:
        values = np.full(len(polys), np.nan) if values is None else np.asarray(values, float)
        return cls("polygon", np.asarray(polys, dtype=object), values, value_unit, messages)


@dataclass(frozen=True, slots=True)
class Marker:
    """One violation in um. Sorted by place first, so reports are stable."""

    bbox: tuple[float, float, float, float]
    value: float | None
    layer: str
    message: str = ""
    edge_pair: tuple[Segment, Segment] | None = field(default=None, compare=False)
    edge: Segment | None = field(default=None, compare=False)
    polygon: tuple[Point, ...] | None = field(default=None, compare=False)
    holes: tuple[tuple[Point, ...], ...] = field(default=(), compare=False)  # of `polygon`

    def sort_key(self) -> tuple:
        # A marker without a value sorts after one with a value at the same place; the
        # geometry breaks the remaining ties, so that equal marker sets print alike.
        return (
            self.bbox,
            self.value is None,
            self.value or 0.0,
            self.layer,
            self.message,
            self.edge_pair or (),
            self.edge or (),
            self.polygon or (),
            self.holes,
        )

    def __lt__(self, other: Marker) -> bool:
        return self.sort_key() < other.sort_key()

    def to_dict(self) -> dict:
        out: dict = {"bbox": list(self.bbox), "value": self.value, "layer": self.layer}
        if self.message:
            out["message"] = self.message
        if self.edge_pair is not None:
            out["edge_pair"] = [[list(p) for p in seg] for seg in self.edge_pair]
        if self.edge is not None:
            out["edge"] = [list(p) for p in self.edge]
        if self.polygon is not None:
            out["polygon"] = [list(p) for p in self.polygon]
        if self.holes:
            out["holes"] = [[list(p) for p in hole] for hole in self.holes]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Marker:
        """The marker `to_dict` gave (a round trip gives an equal marker, geometry included)."""

        def point(p: list) -> Point:
            return (float(p[0]), float(p[1]))

        def seg(s: list) -> Segment:
            return (point(s[0]), point(s[1]))

        edge_pair = d.get("edge_pair")
        edge = d.get("edge")
        polygon = d.get("polygon")
        return cls(
            (float(d["bbox"][0]), float(d["bbox"][1]), float(d["bbox"][2]), float(d["bbox"][3])),
            None if d["value"] is None else float(d["value"]),
            str(d["layer"]),
            str(d.get("message", "")),
            edge_pair=(seg(edge_pair[0]), seg(edge_pair[1])) if edge_pair is not None else None,
            edge=seg(edge) if edge is not None else None,
            polygon=tuple(point(p) for p in polygon) if polygon is not None else None,
            holes=tuple(tuple(point(p) for p in hole) for hole in d.get("holes", ())),
        )


def _values(v: Violations, grid: Grid) -> np.ndarray:
    """The violations' values in report units, NaN where nothing was measured, in bulk."""
    if v.value_unit == "length":
        return grid.length_um(v.values)
    if v.value_unit == "area":
        return grid.area_um2(v.values)
    return np.round(np.asarray(v.values, dtype=float), 6)


def _as_list(values: np.ndarray) -> list[float | None]:
    return [None if x != x else x for x in values.tolist()]  # NaN -> None


def _sort_order(box: np.ndarray, values: np.ndarray, messages: np.ndarray, geometry: np.ndarray) -> np.ndarray:
    """The rows in `Marker.sort_key` order (markers of one layer): box, value (None last),
    message, then the geometry's coordinates (a fixed number per row; (n, 0) when they do not
    take part)."""
    _, message_code = np.unique(messages.astype(str), return_inverse=True)
    none = np.isnan(values)
    keys = [*geometry.T[::-1], message_code.ravel(), np.where(none, 0.0, values), none, *box.T[::-1]]
    return np.lexsort(keys)


def _normal_form(v: Violations) -> Violations:
    """`v` with its geometry on the grid (whole dbu, `round_half_away`) and each polygon
    without repeated or collinear vertices (`clean`: exact, on the grid), in GEOS normal
    form (each ring from the same vertex, holes in one order) however it was made."""
    if v.kind != "polygon":
        return Violations(v.kind, round_half_away(v.geometry), v.values, v.value_unit, v.messages)
    geoms = np.array(v.geometry, dtype=object)
    coords = shapely.get_coordinates(geoms)
    rounded = round_half_away(coords)
    if not np.array_equal(rounded, coords):
        geoms = shapely.set_coordinates(geoms, rounded)
    redundant = _redundant_vertex(geoms)
    cleaned = clean(geoms[redundant])
    if len(cleaned) == redundant.sum():  # one polygon each (a ring may lose vertices, never its area)
        geoms[redundant] = cleaned
    return Violations(v.kind, shapely.normalize(geoms), v.values, v.value_unit, v.messages)


def _redundant_vertex(geoms: np.ndarray) -> np.ndarray:
    """Per geometry: a polygon with area that has a repeated or collinear vertex (`clean` has work)."""
    out = np.zeros(len(geoms), bool)
    simple = np.flatnonzero((shapely.get_type_id(geoms) == POLYGON) & (shapely.area(geoms) > 0))
    rings, owner = shapely.get_rings(geoms[simple], return_index=True)
    c, ring = shapely.get_coordinates(rings, return_index=True)  # each ring closed: last == first
    last = np.r_[ring[1:] != ring[:-1], True]
    first = np.r_[True, ring[1:] != ring[:-1]]
    k = np.flatnonzero(~last)  # every vertex once
    before = np.where(first[k], np.flatnonzero(last)[ring[k]] - 1, k - 1)  # the closing point's predecessor
    u, w = c[k] - c[before], c[k + 1] - c[k]
    flat = (u[:, 0] * w[:, 1] - u[:, 1] * w[:, 0] == 0) | np.all(u == 0, axis=1)
    out[simple[np.unique(owner[ring[k[flat]]])]] = True
    return out


def _distinct(v: Violations) -> Violations:
    """`v` without repeats: rows with the same geometry and message are one marker, with the
    smallest value (two facing sides of one corner-to-corner gap give the same point pair)."""
    n = len(v)
    if n < 2:
        return v
    messages = np.full(n, v.messages, dtype=object) if isinstance(v.messages, str) else np.asarray(v.messages)
    _, message_code = np.unique(messages.astype(str), return_inverse=True)
    if v.kind == "polygon":
        # Polygons compared by bounds first; only rows with equal bounds are compared whole.
        key = np.column_stack([shapely.bounds(v.geometry), message_code.ravel()])
        order = np.lexsort(key.T[::-1])
        same = np.all(key[order][1:] == key[order][:-1], axis=1)
        if not same.any():
            return v
        shape_code = np.arange(n)
        rows = np.unique(order[np.r_[same, False] | np.r_[False, same]])
        _, code = np.unique(shapely.to_wkb(v.geometry[rows]), return_inverse=True)
        shape_code[rows] = n + code.ravel()
        key = np.column_stack([shape_code, message_code.ravel()]).astype(float)
    else:
        key = np.column_stack([v.geometry.reshape(n, -1), message_code.ravel()])
    order = np.lexsort((v.values, *key.T[::-1]))
    k = key[order]
    first = np.r_[True, np.any(k[1:] != k[:-1], axis=1)]
    if first.all():
        return v
    keep = np.sort(order[first])
    return Violations(
        v.kind,
        v.geometry[keep],
        v.values[keep],
        v.value_unit,
        v.messages if isinstance(v.messages, str) else messages[keep],
    )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: markers are many small objects without cycles (tuples
    of floats), and collections triggered by making them would walk every object of the
    process again and again, for nothing (half the time of making them)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def to_markers(v: Violations, layer: str, grid: Grid) -> list[Marker]:
    """Convert one rule's violations from dbu to um markers (the only dbu -> um step), in
    normal form, each once, sorted (`Marker.sort_key`). The sort and the conversion are array
    work; only the markers themselves are made one by one."""
    if len(v) == 0:
        return []
    with _gc_paused():
        return _to_markers(v, layer, grid)


def _to_markers(v: Violations, layer: str, grid: Grid) -> list[Marker]:
    v = _distinct(_normal_form(v))
    n = len(v)
    messages = np.full(n, v.messages, dtype=object) if isinstance(v.messages, str) else np.asarray(v.messages)
    values = _values(v, grid)
    if v.kind == "polygon":
        return _polygon_markers(v, layer, grid, values, messages)
    um = grid.to_um(v.geometry)  # (N, 2, 2, 2) or (N, 2, 2)
    flat = um.reshape(n, -1)
    xy = flat.reshape(n, -1, 2)
    box = np.hstack([xy.min(axis=1), xy.max(axis=1)])
    order = _sort_order(box, values, messages, flat)
    pts = list(map(tuple, um[order].reshape(-1, 2).tolist()))
    segs = list(zip(pts[0::2], pts[1::2]))
    rows = zip(map(tuple, box[order].tolist()), _as_list(values[order]), messages[order].tolist())
    if v.kind == "edge_pair":
        return [
            Marker(b, value, layer, message, edge_pair=pair)
            for (b, value, message), pair in zip(rows, zip(segs[0::2], segs[1::2]))
        ]
    return [Marker(b, value, layer, message, edge=seg) for (b, value, message), seg in zip(rows, segs)]


def _polygon_markers(v: Violations, layer: str, grid: Grid, values: np.ndarray, messages: np.ndarray) -> list[Marker]:
    """`to_markers` of polygon violations: sorted by box, value and message in bulk; the rows
    equal in those (rare) are then sorted by their vertices, as `Marker.sort_key` does."""
    n = len(v)
    box = grid.to_um(shapely.bounds(v.geometry))
    order = _sort_order(box, values, messages, np.empty((n, 0)))
    box, values, messages = box[order], values[order], messages[order]
    rings, owner = shapely.get_rings(v.geometry[order], return_index=True)  # exterior, then holes
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    pts = list(map(tuple, grid.to_um(coords).tolist()))
    cuts = np.flatnonzero(np.diff(ring)) + 1
    starts, ends = np.r_[0, cuts].tolist(), np.r_[cuts, len(coords)].tolist()
    first = np.searchsorted(owner, np.arange(n + 1)).tolist()
    value_list, message_list = _as_list(values), messages.tolist()
    out = []
    for k, b in enumerate(map(tuple, box.tolist())):
        ext, *holes = (tuple(pts[starts[r] : ends[r]]) for r in range(first[k], first[k + 1]))
        out.append(Marker(b, value_list[k], layer, message_list[k], polygon=ext, holes=tuple(holes)))
    _, message_code = np.unique(messages.astype(str), return_inverse=True)
    key = np.column_stack([box, np.nan_to_num(values, nan=np.inf), message_code.ravel()])
    for first_row, last_row in _runs(np.flatnonzero(np.all(key[1:] == key[:-1], axis=1))):
        out[first_row : last_row + 1] = sorted(out[first_row : last_row + 1], key=Marker.sort_key)
    return out


def _runs(tie: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) rows of each run of equal rows, from `tie`: the rows k equal to row k + 1."""
    if len(tie) == 0:
        return []
    cut = np.flatnonzero(np.diff(tie) > 1)
    return list(zip(tie[np.r_[0, cut + 1]].tolist(), (tie[np.r_[cut, len(tie) - 1]] + 1).tolist()))


def merge_sorted(chunks: list[list[Marker]]) -> list[Marker]:
    """Markers of several `to_markers` calls (each sorted) as one list sorted by `Marker.sort_key`."""
    full = [c for c in chunks if c]
    if len(full) <= 1:
        return full[0] if full else []
    with _gc_paused():
        return sorted((m for c in full for m in c), key=Marker.sort_key)
