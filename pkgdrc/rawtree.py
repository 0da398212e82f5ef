"""A gdstk library's top cell as plain arrays (`RawTree`), after checking its hierarchy.

Runs in the reading child (`pkgdrc.safe_read`). Before anything is flattened the
hierarchy is checked: two cells with one name, references to missing cells, reference
cycles, magnification <= 0, rotations that are not numbers, and the number of shapes and
cell placements the flattening would make (arrays multiply through the hierarchy) against
`max_shapes`, counted without expanding anything. KLayout's `$$$CONTEXT_INFO$$$` cell
(PCell and library context, no layout) is ignored, as KLayout does. Per cell, its own
shapes in whole dbu and its placements come back (`pkgdrc.hierarchy` flattens them).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import gdstk
import numpy as np

from pkgdrc.errors import PkgdrcError

LayerKey = tuple[int, int]

# KLayout writes PCell and library context into this cell and reads it as no cell at all
CONTEXT_CELL = "$$$CONTEXT_INFO$$$"

Matrix = tuple[int, int, int, int]  # (a, b, c, d): x' = a x + b y, y' = c x + d y


@dataclass
class RawCell:
    """One cell as drawn: its own shapes as vertex arrays in whole dbu, and its placements.

    A placement is (child cell, orientation matrix, offsets): the child, turned by a
    multiple of 90 degrees and maybe mirrored (`Matrix`), placed at each of the `(k, 2)`
    offsets (the origin, or every element of an array), in whole dbu. References that are
    not exact on the grid (other angles, magnification, offsets off the grid) are
    flattened by gdstk into the cell's own shapes here.
    """

    coords: dict[str, np.ndarray]  # layer name -> (n, 2) vertices, whole dbu (int32 where they fit, else float64)
    counts: dict[str, np.ndarray]  # layer name -> vertices per polygon
    labels: dict[str, list[tuple[str, float, float]]]
    placements: list[tuple[str, Matrix, np.ndarray]]


@dataclass
class RawTree:
    """What the child sends back: the top cell's hierarchy, cells listed children first."""

    top: str
    unit: float  # user unit, in metres
    precision: float  # database unit, in metres
    cells: dict[str, RawCell]
    # (layer, datatype, shapes in the flattened top) of layers with shapes no deck layer maps
    unmapped: list[tuple[int, int, int]] = field(default_factory=list)


def _reps(obj) -> int:
    """How many copies a repetition makes (gdstk reports 0 for none)."""
    return max(int(obj.repetition.size), 1)


def _cells(lib: gdstk.Library) -> list[gdstk.Cell]:
    """The library's cells (gdstk types them Cell | RawCell; a library read from a file holds
    only Cells)."""
    return [c for c in lib.cells if isinstance(c, gdstk.Cell)]


def _check_references(lib: gdstk.Library, path: str) -> None:
    for cell in _cells(lib):
        for ref in cell.references:
            if isinstance(ref.cell, (str, gdstk.RawCell)):
                name = ref.cell if isinstance(ref.cell, str) else ref.cell.name
                raise PkgdrcError(f"cell {cell.name} refers to cell {name!r}, which is not in the file", path=path)
            mag = ref.magnification
            if not (math.isfinite(mag) and mag > 0):
                raise PkgdrcError(
                    f"cell {cell.name}: reference to {ref.cell.name} has magnification {mag:g}; "
                    "expected a positive number",
                    path=path,
                )
            if not math.isfinite(ref.rotation):
                raise PkgdrcError(
                    f"cell {cell.name}: reference to {ref.cell.name} has rotation {ref.rotation:g}; "
                    "expected a finite angle",
                    path=path,
                )


def _postorder(lib: gdstk.Library, path: str) -> list[gdstk.Cell]:
    """Cells, each after every cell it refers to; a reference cycle is an error."""
    state: dict[str, int] = {}
    order: list[gdstk.Cell] = []
    for root in _cells(lib):
        if root.name in state:
            continue
        stack = [(root, iter({r.cell.name: r.cell for r in root.references}.values()))]
        state[root.name] = 1
        while stack:  # iterative DFS: hierarchies may be deeper than Python's recursion limit
            cell, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[cell.name] = 2
                order.append(cell)
            elif state.get(child.name) == 1:
                trail = [c.name for c, _ in stack]
                cycle = " -> ".join(trail[trail.index(child.name) :] + [child.name])
                raise PkgdrcError(f"reference cycle: {cycle}", path=path)
            elif child.name not in state:
                state[child.name] = 1
                stack.append((child, iter({r.cell.name: r.cell for r in child.references}.values())))
    return order


def _own_shapes(cell: gdstk.Cell) -> Counter:
    """(layer, datatype) -> shapes the cell draws itself (repetitions counted)."""
    own: Counter = Counter()
    for p in cell.polygons:
        own[p.layer, p.datatype] += _reps(p)
    for path in cell.paths:
        for key in zip(path.layers, path.datatypes):
            own[key] += _reps(path)
    return own


def _expanded_sizes(
    order: list[gdstk.Cell], own: dict[str, Counter], layers: set[LayerKey], texts: set[LayerKey]
) -> dict[str, int]:
    """Per cell: shapes on `layers`, labels on `texts` and placements its flattening makes."""
    size: dict[str, int] = {}
    for cell in order:
        n = sum(count for key, count in own[cell.name].items() if key in layers)
        n += sum(_reps(lb) for lb in cell.labels if (lb.layer, lb.texttype) in texts)
        n += sum(_reps(r) * (1 + size[r.cell.name]) for r in cell.references)
        size[cell.name] = n
    return size


def _unmapped(
    order: list[gdstk.Cell], own: dict[str, Counter], top: str, used: set[str], layers: set[LayerKey]
) -> list[tuple[int, int, int]]:
    """(layer, datatype, shapes in the flattened `top`) of the layers with shapes outside `layers`.

    `used` is `top` and the cells under it; counts multiply through placements and arrays.
    """
    flat: dict[str, Counter] = {}
    for cell in order:
        if cell.name not in used:
            continue
        total = Counter({k: v for k, v in own[cell.name].items() if k not in layers})
        placed: Counter = Counter()
        for r in cell.references:
            placed[r.cell.name] += _reps(r)
        for child, copies in placed.items():
            for key, count in flat[child].items():
                total[key] += copies * count
        flat[cell.name] = total
    return sorted((layer, datatype, n) for (layer, datatype), n in flat[top].items() if n)


def _top_cell(lib: gdstk.Library, order: list[gdstk.Cell], top: str | None, path: str) -> gdstk.Cell:
    if not order:
        raise PkgdrcError("layout has no cells", path=path)
    if top is not None:
        for cell in order:
            if cell.name == top:
                return cell
        raise PkgdrcError(f"top cell {top!r} not found; cells: {', '.join(sorted(c.name for c in order))}", path=path)
    placed = {r.cell.name for c in order if c.name != CONTEXT_CELL for r in c.references}
    tops = [c for c in order if c.name not in placed and c.name != CONTEXT_CELL]
    if not tops:
        raise PkgdrcError(f"layout has no cells besides {CONTEXT_CELL}", path=path)
    if len(tops) > 1:
        names = ", ".join(sorted(c.name for c in tops))
        raise PkgdrcError(f"several top cells ({names}); choose one with --top", path=path)
    return tops[0]


def _largest_array(order: list[gdstk.Cell]) -> str:
    best = max(((_reps(r), c.name, r.cell.name) for c in order for r in c.references), default=None)
    return f"; its largest array is {best[0]:,} copies of {best[2]} in {best[1]}" if best else ""


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


def _compact(v: np.ndarray) -> np.ndarray:
    """Whole-dbu vertices as int32 when they all fit (half the bytes to send to the parent and
    keep until they are polygons), else as they are."""
    if len(v) and np.abs(v).max() < 2**31:
        return v.astype(np.int32)
    return v


def _texts(found: list, scale: float, name: str, path: str) -> list[tuple[str, float, float]]:
    try:
        return [(lb.text, float(np.rint(lb.origin[0] * scale)), float(np.rint(lb.origin[1] * scale))) for lb in found]
    except TypeError as e:
        if "string" not in str(e):
            raise
        raise PkgdrcError(f"layer {name}: a label's text is not valid UTF-8; the file is corrupt", path=path) from None


def _raw_cell(
    cell: gdstk.Cell, scale: float, layer_map: dict[str, LayerKey], label_map: dict[str, LayerKey], path: str
) -> RawCell:
    """A cell's own shapes and labels (with those of its inexact references) and exact placements."""
    placements, inexact = [], []
    for ref in cell.references:
        exact = _exact_placement(ref, scale)
        if exact is None:
            inexact.append(ref)
        else:
            placements.append((ref.cell.name, *exact))
    coords, counts = {}, {}
    for name, (layer, datatype) in layer_map.items():
        raw = cell.get_polygons(apply_repetitions=True, include_paths=True, depth=0, layer=layer, datatype=datatype)
        for ref in inexact:
            raw += ref.get_polygons(
                apply_repetitions=True, include_paths=True, depth=None, layer=layer, datatype=datatype
            )
        coords[name], counts[name] = _vertices(raw, scale)
        if not np.isfinite(coords[name]).all():
            raise PkgdrcError(f"layer {name}: coordinates are not finite numbers", path=path)
        coords[name] = _compact(coords[name])
    labels = {}
    for name, (layer, texttype) in label_map.items():
        found = cell.get_labels(apply_repetitions=True, depth=0, layer=layer, texttype=texttype)
        for ref in inexact:
            found += ref.get_labels(apply_repetitions=True, depth=None, layer=layer, texttype=texttype)
        labels[name] = _texts(found, scale, name, path)
    return RawCell(coords, counts, labels, placements)


def tree_of(
    lib: gdstk.Library,
    path: str,
    layer_map: dict[str, LayerKey],
    top: str | None,
    label_map: dict[str, LayerKey],
    max_shapes: int,
) -> RawTree:
    """A library's top cell hierarchy, after the checks above; errors name `path`."""
    try:
        _check_names(lib, path)
        _check_references(lib, path)
        order = _postorder(lib, path)
        cell = _top_cell(lib, order, top, path)
        own = {c.name: _own_shapes(c) for c in order}
        layers = set(layer_map.values())
        sizes = _expanded_sizes(order, own, layers, set(label_map.values()))
    except TypeError as e:  # gdstk: "Unable to convert cell name to string." (not UTF-8)
        if "to string" not in str(e):
            raise
        raise PkgdrcError("a cell name is not valid UTF-8 text; the file is corrupt", path=path) from None
    if sizes[cell.name] > max_shapes:
        raise PkgdrcError(
            f"flattening {cell.name} would make {sizes[cell.name]:,} shapes and placements "
            f"(limit {max_shapes:,}, --max-shapes){_largest_array(order)}",
            path=path,
        )
    if not (1e-12 <= lib.precision <= 1e-3 and 0 < lib.unit < math.inf):
        raise PkgdrcError(
            f"unusable library units: database unit {lib.precision:g} m, user unit {lib.unit:g} m "
            "(expected a database unit from 1e-12 to 1e-3 m)",
            path=path,
        )
    scale = lib.unit / lib.precision  # user units -> database units
    used = {cell.name} | {c.name for c in cell.dependencies(True)}
    cells = {c.name: _raw_cell(c, scale, layer_map, label_map, path) for c in order if c.name in used}
    unmapped = _unmapped(order, own, cell.name, used, layers)
    return RawTree(cell.name, lib.unit, lib.precision, cells, unmapped)


def _check_names(lib: gdstk.Library, path: str) -> None:
    """Two cells with one name would be read as one (the second never checked): refused, as KLayout does."""
    seen: set[str] = set()
    for cell in lib.cells:
        if cell.name in seen:
            raise PkgdrcError(f"two cells named {cell.name!r}; a cell name must be unique", path=path)
        seen.add(cell.name)
