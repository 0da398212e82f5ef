"""Where a part sits in the assembly: its placement and the one place coordinates change frame.

A placement is `flip`, then `rotate`, then `at`, applied to the part's own coordinates:

1. `flip: true` mirrors the part about its own y axis (x -> -x): a die drawn face up
   (as its designers see it, from above) and mounted face down is seen mirrored from
   above the assembly;
2. `rotate` turns it counter-clockwise about its own origin by 0, 90, 180 or 270 degrees;
3. `at: [x, y]` moves its origin to (x, y) um in the assembly.

In KLayout's terms this is `DCplxTrans(1, rotate, False, x, y)` without flip and
`DCplxTrans(1, (rotate + 180) % 360, True, x, y)` with it (KLayout mirrors about the x
axis before rotating; mirroring about the y axis is that followed by a half turn), so
`placement.klayout()` gives the transformation a test can apply with klayout.db.

Units: a part's coordinates are integers on its own grid (its dbu); the assembly works
on one integer grid (`grid_um`), of which every part's dbu must be a whole multiple, so
a part's coordinates become assembly coordinates exactly (`to_assembly`). Markers leave
in um and go back into a part's frame with `to_part_um`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from pkgdrc.units import Grid

ROTATIONS = (0, 90, 180, 270)
# The 8 orientations of a part: (flip, rotate).
ORIENTATIONS: tuple[tuple[bool, int], ...] = tuple((f, r) for f in (False, True) for r in ROTATIONS)


def matrix(flip: bool, rotate: int) -> np.ndarray:
    """The 2x2 integer matrix of an orientation: rotation after the mirror x -> -x."""
    c, s = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[rotate]
    rot = np.array([[c, -s], [s, c]], dtype=float)
    return rot @ np.diag([-1.0, 1.0]) if flip else rot


@dataclass(frozen=True)
class Placement:
    """A part's orientation and offset (um) in the assembly, and the grids of both frames."""

    at: tuple[float, float]
    rotate: int
    flip: bool
    part_grid: Grid
    grid: Grid  # the assembly's

    @property
    def scale(self) -> int:
        """Assembly grid units per part database unit (a whole number, checked at load)."""
        return round(self.part_grid.dbu_um / self.grid.dbu_um)

    @property
    def offset_dbu(self) -> np.ndarray:
        return np.round(np.asarray(self.at, dtype=float) / self.grid.dbu_um)

    def describe(self) -> str:
        """The placement as the assembly file writes it."""
        x, y = (f"{v:g}" for v in self.at)
        return f"at: [{x}, {y}], rotate: {self.rotate}, flip: {'true' if self.flip else 'false'}"

    def klayout(self) -> tuple[float, float, bool, float, float]:
        """(magnification, angle, mirror, x, y) for klayout.db.DCplxTrans: the same placement."""
        angle = (self.rotate + 180) % 360 if self.flip else self.rotate
        return 1.0, float(angle), self.flip, float(self.at[0]), float(self.at[1])

    def coords_to_assembly(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) part coordinates (part dbu) -> assembly coordinates (assembly dbu), exactly."""
        return (np.asarray(xy, dtype=float) * self.scale) @ matrix(self.flip, self.rotate).T + self.offset_dbu

    def to_assembly(self, polys: np.ndarray) -> np.ndarray:
        """Part polygons (part dbu) placed in the assembly (assembly dbu), in bulk."""
        if len(polys) == 0:
            return polys
        return shapely.transform(polys, self.coords_to_assembly)

    def local(self, polys: np.ndarray) -> np.ndarray:
        """Part polygons (part dbu) on the assembly grid but unplaced (scaled only)."""
        if len(polys) == 0 or self.scale == 1:
            return polys
        return shapely.transform(polys, lambda xy: xy * self.scale)

    def to_part_um(self, xy_um: np.ndarray) -> np.ndarray:
        """(N, 2) assembly coordinates in um -> the part's own coordinates in um (its grid)."""
        m = matrix(self.flip, self.rotate)
        local = (np.asarray(xy_um, dtype=float) - np.asarray(self.at, dtype=float)) @ m  # m is orthogonal
        return np.round(local, self.part_grid.decimals) + 0.0

    def to_assembly_um(self, xy_um: np.ndarray) -> np.ndarray:
        """(N, 2) part coordinates in um -> assembly coordinates in um."""
        out = np.asarray(xy_um, dtype=float) @ matrix(self.flip, self.rotate).T + np.asarray(self.at, dtype=float)
        return np.round(out, self.grid.decimals) + 0.0
