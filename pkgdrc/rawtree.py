"""A gdstk library's cells as plain arrays, after checking its hierarchy (runs in the reading child).

Per cell: its metadata (`pkgdrc.cellmeta.CellMeta`: name, references, shapes per layer) and
its content (`RawCell`): its own shapes on the deck's layers in whole dbu, converted to valid
polygons (`pkgdrc.geometry.packed.to_shapely`: repairs and drops counted) and sent back
compact (`Packed`), its labels and its exact placements. `tree_of` reads a whole library:
the hierarchy is checked on the metadata (`pkgdrc.cellmeta.check_hierarchy`) before anything
is converted, and only the cells under the top are. `cells_of` converts every cell of a
library that holds some structures of a file (`pkgdrc.cache.cells`: the others come from
the cache); the hierarchy is checked once all cells are together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import gdstk
import numpy as np

from pkgdrc.cellmeta import CellMeta, LayerKey, Reference, check_hierarchy, check_names, check_units
from pkgdrc.errors import PkgdrcError
from pkgdrc.geometry.packed import Packed, pack, to_shapely

Matrix = tuple[int, int, int, int]  # (a, b, c, d): x' = a x + b y, y' = c x + d y
Label = tuple[str, float, float]


@dataclass
class RawCell:
    """One cell's content: its own shapes per deck layer (`Packed`, whole dbu), labels, placements.

    A placement is (child cell, orientation matrix, offsets): the child, turned by a
    multiple of 90 degrees and maybe mirrored (`Matrix`), placed at each of the `(k, 2)`
    offsets (the origin, or every element of an array), in whole dbu. References that are
    not exact on the grid (other angles, magnification, offsets off the grid) are
    flattened by gdstk into the cell's own shapes here. `repaired` and `dropped` count the
    cell's own polygons repaired and dropped by `to_shapely`.
    """

    layers: dict[str, Packed]
    labels: dict[str, list[Label]]
    placements: list[tuple[str, Matrix, np.ndarray]]
    repaired: int = 0
    dropped: int = 0


@dataclass
class RawTree:
    """What the child sends back: the top cell's hierarchy, cells listed children first."""

    top: str
    unit: float  # user unit, in metres
    precision: float  # database unit, in metres
    cells: dict[str, RawCell]
    # (layer, datatype, shapes in the flattened top) of layers with shapes no deck layer maps
    unmapped: list[tuple[int, int, int]] = field(default_factory=list)


class Unsplittable(PkgdrcError):
    """Some structures cannot be read apart from the others (a reference that is not exact on the
    grid takes the placed cell's shapes; a cell too large to convert before the hierarchy is
    checked): the whole file is read instead."""


def _reps(obj) -> int:
    """How many copies a repetition makes (gdstk reports 0 for none)."""
    return max(int(obj.repetition.size), 1)


def _cells(lib: gdstk.Library) -> list[gdstk.Cell]:
    """The library's cells (gdstk types them Cell | RawCell; a library read from a file holds
    only Cells)."""
    return [c for c in lib.cells if isinstance(c, gdstk.Cell)]


def _usable(ref: Reference) -> bool:
    return math.isfinite(ref.magnification) and ref.magnification > 0 and math.isfinite(ref.rotation)


def _ref_name(ref: gdstk.Reference) -> str:
    return ref.cell if isinstance(ref.cell, str) else ref.cell.name


def meta_of(cell: gdstk.Cell) -> CellMeta:
    """A cell's metadata: references (to any cell, in the library or not) and shape and label counts."""
    own: dict[LayerKey, int] = {}
    for p in cell.polygons:
        own[p.layer, p.datatype] = own.get((p.layer, p.datatype), 0) + _reps(p)
    for path in cell.paths:
        for key in zip(path.layers, path.datatypes):
            own[key] = own.get(key, 0) + _reps(path)
    texts: dict[LayerKey, int] = {}
    for lb in cell.labels:
        texts[lb.layer, lb.texttype] = texts.get((lb.layer, lb.texttype), 0) + _reps(lb)
    refs = [Reference(_ref_name(r), _reps(r), float(r.magnification), float(r.rotation)) for r in cell.references]
    return CellMeta(cell.name, refs, own, texts)


def metas_of(lib: gdstk.Library, path: str) -> list[CellMeta]:
    """Every cell's metadata, in the library's order; a name that is not UTF-8 is an error (after
    the names before it are checked, as a whole-library check meets them first)."""
    metas: list[CellMeta] = []
    try:
        for cell in _cells(lib):
            metas.append(meta_of(cell))
    except TypeError as e:  # gdstk: "Unable to convert cell name to string." (not UTF-8)
        if "to string" not in str(e):
            raise
        check_names(metas, path)
        raise PkgdrcError("a cell name is not valid UTF-8 text; the file is corrupt", path=path) from None
    return metas


def _exact_placement(ref: gdstk.Reference, scale: float) -> tuple[Matrix, np.ndarray] | None:
    """A reference as (orientation, offsets in whole dbu) if it maps the grid onto itself, else None.

    gdstk's transform: mirror in x (y -> -y) first, then magnify, rotate, and translate
    by the origin plus each repetition offset (given in the parent's frame).
    """
    quarter = ref.rotation / (math.pi / 2)
    if abs(ref.magnification - 1.0) > 1e-12 or abs(quarter - round(quarter)) > 1e-9:
        return None
    origin = np.asarray(ref.origin, dtype=float)
    offsets = origin + (
        np.asarray(ref.repetition.get_offsets(), dtype=float).reshape(-1, 2)
        if ref.repetition.size
        else np.zeros((1, 2))
    )
    offsets = offsets * scale
    whole = np.rint(offsets)
    if not (np.isfinite(offsets).all() and np.abs(offsets - whole).max(initial=0.0) <= 1e-6):
        return None
    c, s = ((1, 0), (0, 1), (-1, 0), (0, -1))[round(quarter) % 4]
    f = -1 if ref.x_reflection else 1
    return (c, -s * f, s, c * f), whole


def _vertices(polys: list, scale: float) -> tuple[np.ndarray, np.ndarray]:
    counts = np.fromiter((p.size for p in polys), dtype=np.int64, count=len(polys))
    pts = np.concatenate([p.points for p in polys]) if polys else np.empty((0, 2))
    return np.rint(pts * scale), counts


def _texts(found: list, scale: float, name: str, path: str) -> list[tuple[str, float, float]]:
    try:
        return [(lb.text, float(np.rint(lb.origin[0] * scale)), float(np.rint(lb.origin[1] * scale))) for lb in found]
    except TypeError as e:
        if "string" not in str(e):
            raise
        raise PkgdrcError(f"layer {name}: a label's text is not valid UTF-8; the file is corrupt", path=path) from None


def _raw_cell(
    cell: gdstk.Cell,
    scale: float,
    layer_map: dict[str, LayerKey],
    label_map: dict[str, LayerKey],
    path: str,
    with_state: bool,
    whole: bool = True,
) -> RawCell:
    """A cell's own shapes and labels (with those of its inexact references) and exact placements.

    `with_state`: each shape's hash and bounds too. Not `whole` (the library holds only some
    structures), an inexact reference raises Unsplittable.
    """
    placements, inexact = [], []
    for ref in cell.references:
        exact = _exact_placement(ref, scale)
        if exact is None:
            if not whole:
                raise Unsplittable(f"cell {cell.name}: a reference to {_ref_name(ref)} is not exact on the grid")
            inexact.append(ref)
        else:
            placements.append((_ref_name(ref), *exact))
    layers, repaired, dropped = {}, 0, 0
    for name, (layer, datatype) in layer_map.items():
        raw = cell.get_polygons(apply_repetitions=True, include_paths=True, depth=0, layer=layer, datatype=datatype)
        for ref in inexact:
            raw += ref.get_polygons(
                apply_repetitions=True, include_paths=True, depth=None, layer=layer, datatype=datatype
            )
        coords, counts = _vertices(raw, scale)
        if not np.isfinite(coords).all():
            raise PkgdrcError(f"layer {name}: coordinates are not finite numbers", path=path)
        polys, r, d = to_shapely(coords, counts)
        layers[name] = pack(polys, with_state)
        repaired, dropped = repaired + r, dropped + d
    labels = {}
    for name, (layer, texttype) in label_map.items():
        found = cell.get_labels(apply_repetitions=True, depth=0, layer=layer, texttype=texttype)
        for ref in inexact:
            found += ref.get_labels(apply_repetitions=True, depth=None, layer=layer, texttype=texttype)
        labels[name] = _texts(found, scale, name, path)
    return RawCell(layers, labels, placements, repaired, dropped)


def tree_of(
    lib: gdstk.Library,
    path: str,
    layer_map: dict[str, LayerKey],
    top: str | None,
    label_map: dict[str, LayerKey],
    max_shapes: int,
    with_state: bool = False,
) -> RawTree:
    """A whole library's top cell hierarchy, after `check_hierarchy`; errors name `path`."""
    metas = metas_of(lib, path)
    found = check_hierarchy(
        metas, top, set(layer_map.values()), set(label_map.values()), max_shapes, lib.unit, lib.precision, path
    )
    scale = lib.unit / lib.precision  # user units -> database units
    by_name = {c.name: c for c in _cells(lib)}
    cells = {n: _raw_cell(by_name[n], scale, layer_map, label_map, path, with_state) for n in found.order}
    return RawTree(found.top, lib.unit, lib.precision, cells, found.unmapped)


def cells_of(
    lib: gdstk.Library,
    path: str,
    layer_map: dict[str, LayerKey],
    label_map: dict[str, LayerKey],
    max_shapes: int,
    with_state: bool = True,
) -> tuple[float, float, list[tuple[CellMeta, RawCell]]]:
    """(unit, precision, every cell's metadata and content, with each shape's hash and bounds when
    `with_state`) of a library holding some of a file's structures; Unsplittable when one cannot
    be read apart from the others."""
    metas = metas_of(lib, path)
    layers = set(layer_map.values())
    for meta in metas:  # converting a huge repetition before the hierarchy is checked: the whole read refuses it
        if sum(n for key, n in meta.own.items() if key in layers) > max_shapes:
            raise Unsplittable(f"cell {meta.name} draws more than {max_shapes:,} shapes")
        if not all(_usable(r) for r in meta.refs):  # the whole read names the reference
            raise Unsplittable(f"cell {meta.name}: a reference has an unusable transform")
    check_units(lib.unit, lib.precision, path)
    scale = lib.unit / lib.precision
    out = [(m, _raw_cell(c, scale, layer_map, label_map, path, with_state, False)) for m, c in zip(metas, _cells(lib))]
    return lib.unit, lib.precision, out
