"""Load a GDSII or OASIS layout: flatten the top cell, one polygon array per deck layer, in dbu.

Flattening is gdstk's (`Cell.get_polygons` applies rotation, x-reflection, magnification,
arrays and nested references, and turns paths of every end type into polygons). Points
are scaled to the layout's database grid and rounded once, here (`Grid`); everything
downstream is on that integer grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import gdstk
import numpy as np
import rtree
import shapely

from pkgdrc.errors import PkgdrcError
from pkgdrc.geometry.polygons import EMPTY, polygon_parts
from pkgdrc.units import Grid

GDS_MAGIC = b"\x00\x06\x00\x02"
OASIS_MAGIC = b"%SEMI-OASIS\r\n"
GZIP_MAGIC = b"\x1f\x8b"

LayerKey = tuple[int, int]


@dataclass
class Layout:
    """A flattened layout: polygons per named layer, in database units."""

    path: str
    top: str
    grid: Grid
    polygons: dict[str, np.ndarray]
    labels: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)
    repaired: int = 0
    dropped: int = 0
    _indexes: dict[str, rtree.index.Index] = field(default_factory=dict, repr=False)

    @property
    def shape_count(self) -> int:
        return sum(len(p) for p in self.polygons.values())

    def index(self, layer: str) -> rtree.index.Index:
        """R-tree (rtree package) over the layer's shapes, built on first use.

        It serves region queries (what lies in a window, near a marker, under a waiver);
        bulk pair searches inside checks use shapely's STRtree, which is faster there.
        """
        if layer not in self._indexes:
            bounds = shapely.bounds(self.polygons.get(layer, EMPTY)).reshape(-1, 4)
            stream = ((i, tuple(b), None) for i, b in enumerate(bounds))
            self._indexes[layer] = rtree.index.Index(stream) if len(bounds) else rtree.index.Index()
        return self._indexes[layer]

    def query(self, layer: str, box_um: tuple[float, float, float, float]) -> np.ndarray:
        """Shapes of `layer` whose bounding boxes meet a window given in um."""
        box = tuple(float(self.grid.to_dbu(v)) for v in box_um)
        ids = np.fromiter(self.index(layer).intersection(box), dtype=np.int64)
        return self.polygons[layer][np.sort(ids)] if len(ids) else EMPTY


def _sniff(path: Path) -> str:
    if not path.exists():
        raise PkgdrcError("layout file not found", path=str(path))
    if path.is_dir():
        raise PkgdrcError("is a directory, expected a GDSII or OASIS file", path=str(path))
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as e:
        raise PkgdrcError(f"cannot read layout: {e.strerror}", path=str(path)) from None
    if head.startswith(OASIS_MAGIC):
        return "oasis"
    if head.startswith(GDS_MAGIC):
        return "gds"
    if head.startswith(GZIP_MAGIC):
        return "gds"  # gdstk reads gzip-compressed GDSII itself
    if not head:
        raise PkgdrcError("empty file, expected a GDSII or OASIS layout", path=str(path))
    raise PkgdrcError("not a GDSII or OASIS file (unknown header bytes)", path=str(path))


def _read_library(path: Path) -> gdstk.Library:
    kind = _sniff(path)
    try:
        return gdstk.read_oas(str(path)) if kind == "oasis" else gdstk.read_gds(str(path))
    except Exception as e:  # gdstk raises plain RuntimeError/OSError for corrupt files
        raise PkgdrcError(f"cannot read {kind.upper()} layout: {e}", path=str(path)) from None


def _top_cell(lib: gdstk.Library, top: str | None, path: str) -> gdstk.Cell:
    if top is not None:
        for cell in lib.cells:
            if cell.name == top:
                return cell
        raise PkgdrcError(f"top cell {top!r} not found; cells: {', '.join(sorted(c.name for c in lib.cells))}",
                          path=path)
    tops = lib.top_level()
    if not tops:
        raise PkgdrcError("layout has no cells", path=path)
    if len(tops) > 1:
        names = ", ".join(sorted(c.name for c in tops))
        raise PkgdrcError(f"several top cells ({names}); choose one with --top", path=path)
    return tops[0]


def to_shapely(polys: list[gdstk.Polygon], scale: float) -> tuple[np.ndarray, int, int]:
    """gdstk polygons (user units) -> shapely polygons on the dbu grid, in bulk.

    Returns (polygons, repaired, dropped): invalid polygons (self-intersecting, bow-ties)
    are repaired with `shapely.make_valid`; polygons with fewer than 3 vertices or no
    area are dropped. Both are counted, never silent.
    """
    pts = [p.points for p in polys]
    if not pts:
        return EMPTY, 0, 0
    counts = np.fromiter(map(len, pts), dtype=np.int64, count=len(pts))
    usable = counts >= 3
    coords = np.rint(np.concatenate(pts) * scale)
    owner = np.repeat(np.arange(len(pts)), counts)
    keep = usable[owner]
    _, owner = np.unique(owner[keep], return_inverse=True)
    geoms = shapely.polygons(shapely.linearrings(coords[keep], indices=owner))
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    parts = polygon_parts(geoms)
    dropped = int((~usable).sum()) + int(len(geoms) - np.count_nonzero(shapely.area(geoms) > 0))
    return parts, int(invalid.sum()), dropped


def read_layout(path: str | Path, layer_map: dict[str, LayerKey], top: str | None = None,
                label_map: dict[str, LayerKey] | None = None) -> Layout:
    """Read `path`, flatten its top cell and collect the layers named in `layer_map`."""
    path = Path(path)
    lib = _read_library(path)
    cell = _top_cell(lib, top, str(path))
    scale = lib.unit / lib.precision  # user units -> database units
    grid = Grid(lib.precision / 1e-6)
    polygons: dict[str, np.ndarray] = {}
    repaired = dropped = 0
    for name, (layer, datatype) in layer_map.items():
        raw = cell.get_polygons(apply_repetitions=True, include_paths=True, depth=None,
                                layer=layer, datatype=datatype)
        polygons[name], r, d = to_shapely(raw, scale)
        repaired += r
        dropped += d
    labels = {}
    for name, (layer, texttype) in (label_map or {}).items():
        found = cell.get_labels(apply_repetitions=True, depth=None, layer=layer, texttype=texttype)
        labels[name] = [(lb.text, float(np.rint(lb.origin[0] * scale)), float(np.rint(lb.origin[1] * scale)))
                        for lb in found]
    return Layout(str(path), cell.name, grid, polygons, labels, repaired, dropped)
