"""Edge arrays of polygons, oriented like KLayout's: the interior lies right of each edge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from pkgdrc.geometry.polygons import clusters


@dataclass
class Edges:
    """N directed edges: p1 -> p2, shape (N, 2) each; `owner` labels the shape the edge bounds.

    A shape is a group of merged polygons that touch at corners: KLayout's merge keeps
    such a group as one polygon (touching itself at the corner), and pkgdrc follows it
    wherever "the same shape" matters (width).
    """

    p1: np.ndarray
    p2: np.ndarray
    owner: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)

    @property
    def direction(self) -> np.ndarray:
        return self.p2 - self.p1

    def segments(self) -> np.ndarray:
        """(N, 2, 2) array of [p1, p2]."""
        return np.stack([self.p1, self.p2], axis=1)

    def lines(self) -> np.ndarray:
        """Shapely LineStrings, one per edge (for STRtree queries)."""
        return shapely.linestrings(self.segments())

    def take(self, idx: np.ndarray) -> "Edges":
        return Edges(self.p1[idx], self.p2[idx], self.owner[idx])


def polygon_edges(polys: np.ndarray) -> Edges:
    """All edges of merged `polys` (hulls clockwise, holes counter-clockwise: interior on the right).

    `owner` is the label of the group of polygons touching at corners (`clusters`).
    """
    if len(polys) == 0:
        z = np.empty((0, 2))
        return Edges(z, z, np.empty(0, dtype=np.int64))
    oriented = shapely.orient_polygons(polys, exterior_cw=True)
    rings, ring_owner = shapely.get_rings(oriented, return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same = ring_idx[:-1] == ring_idx[1:]
    p1, p2 = coords[:-1][same], coords[1:][same]
    owner = clusters(polys)[ring_owner[ring_idx[:-1][same]]]
    nonzero = np.any(p1 != p2, axis=1)
    return Edges(p1[nonzero], p2[nonzero], owner[nonzero])
