"""Polygons as compact arrays: vertices and ring and polygon offsets, decoded to shapely on use.

A layer of a cell holds its polygons as `Packed`: the vertices of every ring one after
another (closing vertex included, int32 when all are whole numbers that fit, else float64),
`rings` (offsets of each ring's first vertex, and the end) and `polys` (offsets of each
polygon's first ring, and the end): shapely's ragged layout (`shapely.to_ragged_array`),
about 50 bytes a rectangle instead of ~700 as a shapely polygon. `decode` rebuilds the
same polygons (same vertices, same order) without validating or repairing them.

`to_shapely` turns the vertex arrays a reader gives into valid polygons: repeated vertices
removed, invalid polygons repaired with `shapely.make_valid`, degenerate ones dropped, both
counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from pkgdrc.geometry.hashing import polygon_hashes
from pkgdrc.geometry.polygons import EMPTY, polygon_parts

NO_BOX = np.full(4, np.nan)


@dataclass
class Packed:
    """Polygons of one layer as ragged arrays (see the module docstring), with their bounding box
    (`box`, NaN when empty) and, when asked for, each polygon's content hash (N, 2) and bounds (N, 4)."""

    coords: np.ndarray
    rings: np.ndarray
    polys: np.ndarray
    box: np.ndarray
    hashes: np.ndarray | None = None
    bounds: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.polys) - 1

    @property
    def nbytes(self) -> int:
        extra = [a for a in (self.hashes, self.bounds) if a is not None]
        return sum(a.nbytes for a in (self.coords, self.rings, self.polys, self.box, *extra))

    def decode(self) -> np.ndarray:
        """The polygons as a shapely array (no validation, no repair: they were valid when packed)."""
        if len(self) == 0:
            return EMPTY
        coords = self.coords.astype(np.float64)
        offsets = (self.rings.astype(np.int64), self.polys.astype(np.int64))
        return shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords, offsets)

    def shape_bounds(self) -> np.ndarray:
        """(N, 4) float64: each polygon's bounds, those of its exterior ring (holes lie inside it)."""
        if len(self) == 0:
            return np.empty((0, 4))
        c = self.coords
        lo = np.column_stack(
            [np.minimum.reduceat(c[:, 0], self.rings[:-1]), np.minimum.reduceat(c[:, 1], self.rings[:-1])]
        )
        hi = np.column_stack(
            [np.maximum.reduceat(c[:, 0], self.rings[:-1]), np.maximum.reduceat(c[:, 1], self.rings[:-1])]
        )
        exterior = self.polys[:-1]
        return np.hstack([lo[exterior], hi[exterior]]).astype(np.float64)

    def check(self) -> bool:
        """Whether the arrays are consistent (offsets rising from 0 to the ends, shapes as stated):
        arrays from a cache are checked before they are decoded."""
        c, r, p = self.coords, self.rings, self.polys
        ok = c.ndim == 2 and c.shape[1] == 2 and r.ndim == 1 and p.ndim == 1 and len(r) >= 1 and len(p) >= 1
        ok = ok and c.dtype in (np.int32, np.float64) and r.dtype.kind == "i" and p.dtype.kind == "i"
        ok = ok and bool(r[0] == 0 and r[-1] == len(c) and p[0] == 0 and p[-1] == len(r) - 1)
        ok = ok and bool((np.diff(r) >= 4).all() and (np.diff(p) >= 1).all()) and self.box.shape == (4,)
        n = len(p) - 1
        if self.hashes is not None:
            ok = ok and self.hashes.shape == (n, 2) and self.hashes.dtype == np.uint64
        if self.bounds is not None:
            ok = ok and self.bounds.shape == (n, 4) and self.bounds.dtype == np.float64
        return bool(ok)


def pack(polys: np.ndarray, with_state: bool = False) -> Packed:
    """Shapely polygons -> `Packed` (with hashes and bounds when `with_state`)."""
    if len(polys) == 0:
        empty_state = (np.empty((0, 2), np.uint64), np.empty((0, 4))) if with_state else (None, None)
        zero = np.zeros(1, np.int32)
        return Packed(np.empty((0, 2), np.int32), zero, zero.copy(), NO_BOX.copy(), *empty_state)
    _, coords, (rings, parts) = shapely.to_ragged_array(polys)
    whole = np.rint(coords)
    if (whole == coords).all() and np.abs(coords).max() < 2**31:
        coords = whole.astype(np.int32)
    small = np.int32 if len(coords) < 2**31 else np.int64
    packed = Packed(coords, rings.astype(small), parts.astype(small), NO_BOX)
    bounds = packed.shape_bounds()
    packed.box = np.concatenate([bounds[:, :2].min(axis=0), bounds[:, 2:].max(axis=0)])
    if with_state:
        packed.hashes, packed.bounds = polygon_hashes(polys), bounds
    return packed


def to_shapely(coords: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Polygons given as vertex arrays on the dbu grid -> shapely polygons, in bulk.

    `coords` holds the vertices of all polygons one after another, `counts` how many each
    has. Returns (polygons, repaired, dropped): repeated vertices are removed (not
    counted); invalid polygons (self-intersecting, bow-ties) are repaired with
    `shapely.make_valid`; polygons with fewer than 3 distinct vertices or no area are
    dropped.
    Repairs and drops are counted, never silent.
    """
    if len(counts) == 0:
        return EMPTY, 0, 0
    owner = np.repeat(np.arange(len(counts)), counts)
    # Repeated vertices are harmless in a file but make zero-length edges downstream.
    repeat = np.zeros(len(coords), dtype=bool)
    repeat[1:] = (coords[1:] == coords[:-1]).all(axis=1) & (owner[1:] == owner[:-1])
    coords, owner = coords[~repeat], owner[~repeat]
    kept = np.bincount(owner, minlength=len(counts))
    ends = np.cumsum(kept)
    closed = np.zeros(len(counts), dtype=bool)  # a last vertex equal to the first one
    some = kept > 0
    closed[some] = (coords[ends[some] - 1] == coords[ends[some] - kept[some]]).all(axis=1)
    usable = kept - closed >= 3
    keep = usable[owner]
    _, owner = np.unique(owner[keep], return_inverse=True)
    geoms = shapely.polygons(shapely.linearrings(coords[keep], indices=owner))
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    parts = polygon_parts(geoms)
    dropped = int((~usable).sum()) + int(len(geoms) - np.count_nonzero(shapely.area(geoms) > 0))
    return parts, int(invalid.sum()), dropped
