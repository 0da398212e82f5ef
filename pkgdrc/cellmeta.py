"""The checks of a layout's hierarchy, on its cells' metadata: names, references, counts.

A cell's metadata (`CellMeta`) is what it says about the hierarchy: its name, its references
(the cell placed, how many copies, magnification, rotation) and how many shapes and labels it
draws per layer/datatype. Whether the cells came from one read of the whole file or from
several structures (some from the cache, `pkgdrc.cache.cells`), `check_hierarchy` refuses
the same layouts with the same messages: two cells with one name, references to missing
cells, magnification <= 0, rotations that are not numbers, reference cycles, no or several
top cells (KLayout's `$$$CONTEXT_INFO$$$` cell is no cell), the number of shapes and cell
placements the flattening would make (arrays multiply through the hierarchy) against
`max_shapes`, counted without expanding anything, and unusable library units. It also
counts the shapes on layers the deck does not map (`unmapped`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pkgdrc.errors import PkgdrcError

LayerKey = tuple[int, int]

# KLayout writes PCell and library context into this cell and reads it as no cell at all
CONTEXT_CELL = "$$$CONTEXT_INFO$$$"


@dataclass
class Reference:
    """One reference as drawn: the placed cell's name, its copies (an array's elements), its transform."""

    cell: str
    copies: int
    magnification: float
    rotation: float


@dataclass
class CellMeta:
    """A cell's part in the hierarchy: its references in order, and the shapes (`own`: per
    layer/datatype) and labels (`texts`: per layer/texttype) it draws, repetitions counted."""

    name: str
    refs: list[Reference] = field(default_factory=list)
    own: dict[LayerKey, int] = field(default_factory=dict)
    texts: dict[LayerKey, int] = field(default_factory=dict)


@dataclass
class Hierarchy:
    """What the checks found: the top cell, the cells under it (each after the cells it places),
    and (layer, datatype, shapes in the flattened top) of the layers with shapes no deck layer maps."""

    top: str
    order: list[str]
    unmapped: list[tuple[int, int, int]]


def check_names(metas: list[CellMeta], path: str) -> None:
    """Two cells with one name would be read as one (the second never checked): refused, as KLayout does."""
    seen: set[str] = set()
    for cell in metas:
        if cell.name in seen:
            raise PkgdrcError(f"two cells named {cell.name!r}; a cell name must be unique", path=path)
        seen.add(cell.name)


def _check_references(metas: list[CellMeta], path: str) -> None:
    names = {c.name for c in metas}
    for cell in metas:
        for ref in cell.refs:
            if ref.cell not in names:
                raise PkgdrcError(f"cell {cell.name} refers to cell {ref.cell!r}, which is not in the file", path=path)
            mag = ref.magnification
            if not (math.isfinite(mag) and mag > 0):
                raise PkgdrcError(
                    f"cell {cell.name}: reference to {ref.cell} has magnification {mag:g}; expected a positive number",
                    path=path,
                )
            if not math.isfinite(ref.rotation):
                raise PkgdrcError(
                    f"cell {cell.name}: reference to {ref.cell} has rotation {ref.rotation:g}; expected a finite angle",
                    path=path,
                )


def _children(cell: CellMeta) -> list[str]:
    return list(dict.fromkeys(r.cell for r in cell.refs))


def _postorder(metas: list[CellMeta], path: str) -> list[CellMeta]:
    """Cells, each after every cell it refers to; a reference cycle is an error."""
    by_name = {c.name: c for c in metas}
    state: dict[str, int] = {}
    order: list[CellMeta] = []
    for root in metas:
        if root.name in state:
            continue
        stack = [(root, iter(_children(root)))]
        state[root.name] = 1
        while stack:  # iterative DFS: hierarchies may be deeper than Python's recursion limit
            cell, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[cell.name] = 2
                order.append(cell)
            elif state.get(child) == 1:
                trail = [c.name for c, _ in stack]
                cycle = " -> ".join(trail[trail.index(child) :] + [child])
                raise PkgdrcError(f"reference cycle: {cycle}", path=path)
            elif child not in state:
                state[child] = 1
                stack.append((by_name[child], iter(_children(by_name[child]))))
    return order


def _top_cell(order: list[CellMeta], top: str | None, path: str) -> CellMeta:
    if not order:
        raise PkgdrcError("layout has no cells", path=path)
    if top is not None:
        for cell in order:
            if cell.name == top:
                return cell
        raise PkgdrcError(f"top cell {top!r} not found; cells: {', '.join(sorted(c.name for c in order))}", path=path)
    placed = {r.cell for c in order if c.name != CONTEXT_CELL for r in c.refs}
    tops = [c for c in order if c.name not in placed and c.name != CONTEXT_CELL]
    if not tops:
        raise PkgdrcError(f"layout has no cells besides {CONTEXT_CELL}", path=path)
    if len(tops) > 1:
        names = ", ".join(sorted(c.name for c in tops))
        raise PkgdrcError(f"several top cells ({names}); choose one with --top", path=path)
    return tops[0]


def _expanded_sizes(order: list[CellMeta], layers: set[LayerKey], texts: set[LayerKey]) -> dict[str, int]:
    """Per cell: shapes on `layers`, labels on `texts` and placements its flattening makes."""
    size: dict[str, int] = {}
    for cell in order:
        n = sum(count for key, count in cell.own.items() if key in layers)
        n += sum(count for key, count in cell.texts.items() if key in texts)
        n += sum(r.copies * (1 + size[r.cell]) for r in cell.refs)
        size[cell.name] = n
    return size


def _largest_array(order: list[CellMeta]) -> str:
    best = max(((r.copies, c.name, r.cell) for c in order for r in c.refs), default=None)
    return f"; its largest array is {best[0]:,} copies of {best[2]} in {best[1]}" if best else ""


def check_units(unit: float, precision: float, path: str) -> None:
    if not (1e-12 <= precision <= 1e-3 and 0 < unit < math.inf):
        raise PkgdrcError(
            f"unusable library units: database unit {precision:g} m, user unit {unit:g} m "
            "(expected a database unit from 1e-12 to 1e-3 m)",
            path=path,
        )


def _under(top: CellMeta, by_name: dict[str, CellMeta]) -> set[str]:
    """`top` and every cell it places, at any depth."""
    used, todo = {top.name}, [top]
    while todo:
        for r in todo.pop().refs:
            if r.cell not in used:
                used.add(r.cell)
                todo.append(by_name[r.cell])
    return used


def _unmapped(order: list[CellMeta], top: str, used: set[str], layers: set[LayerKey]) -> list[tuple[int, int, int]]:
    """(layer, datatype, shapes in the flattened `top`) of the layers with shapes outside `layers`.

    `used` is `top` and the cells under it; counts multiply through placements and arrays.
    """
    flat: dict[str, dict[LayerKey, int]] = {}
    for cell in order:
        if cell.name not in used:
            continue
        total = {k: v for k, v in cell.own.items() if k not in layers}
        placed: dict[str, int] = {}
        for r in cell.refs:
            placed[r.cell] = placed.get(r.cell, 0) + r.copies
        for child, copies in placed.items():
            for key, count in flat[child].items():
                total[key] = total.get(key, 0) + copies * count
        flat[cell.name] = total
    return sorted((layer, datatype, n) for (layer, datatype), n in flat[top].items() if n)


def check_hierarchy(
    metas: list[CellMeta],
    top: str | None,
    layers: set[LayerKey],
    texts: set[LayerKey],
    max_shapes: int,
    unit: float,
    precision: float,
    path: str,
) -> Hierarchy:
    """The checks of the module docstring, in this order, on the cells in file order; errors name `path`."""
    check_names(metas, path)
    _check_references(metas, path)
    order = _postorder(metas, path)
    cell = _top_cell(order, top, path)
    sizes = _expanded_sizes(order, layers, texts)
    if sizes[cell.name] > max_shapes:
        raise PkgdrcError(
            f"flattening {cell.name} would make {sizes[cell.name]:,} shapes and placements "
            f"(limit {max_shapes:,}, --max-shapes){_largest_array(order)}",
            path=path,
        )
    check_units(unit, precision, path)
    used = _under(cell, {c.name: c for c in metas})
    return Hierarchy(cell.name, [c.name for c in order if c.name in used], _unmapped(order, cell.name, used, layers))
