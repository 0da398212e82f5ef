"""The one boundary between micrometres (deck, reports) and database units (geometry).

Geometry inside pkgdrc lives on the layout's integer database grid, stored as float64
values that are whole numbers (exact up to 2**53). Deck distances arrive in um and are
converted once with `Grid.to_dbu`; markers leave in um through `Grid.to_um`, on the
grid: rounded to whole database units first (`round_half_away`, KLayout's rounding of a
coordinate), then scaled, so that reports are byte-identical for identical inputs and
every printed coordinate is a multiple of the database unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Distances are compared as `measured < limit - EPS_DBU`: a value exactly at the limit is
# not a violation, one database unit under it is. Off-grid distances (45-degree spacing,
# corner-to-corner) are irrational and never fall within EPS_DBU of a whole limit.
EPS_DBU = 1e-7


def round_half_away(x: np.ndarray | float) -> np.ndarray:
    """To whole numbers, a tie (x.5) away from zero: KLayout's `coord_traits::rounded`, how
    it turns a computed coordinate (or an offset along an edge) into database units.

    >>> round_half_away(np.array([2.5, -2.5, 144926.4, -0.4])).tolist()
    [3.0, -3.0, 144926.0, -0.0]
    """
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


@dataclass(frozen=True)
class Grid:
    """The layout's database unit, in um (0.001 for a 1 nm grid)."""

    dbu_um: float

    @property
    def decimals(self) -> int:
        """Decimal places that represent every grid coordinate in um exactly."""
        return max(0, math.ceil(-math.log10(self.dbu_um) - 1e-9))

    def to_dbu(self, um: float | np.ndarray) -> float | np.ndarray:
        """A length in um as database units (not rounded: a limit may lie off the grid)."""
        return np.asarray(um, dtype=float) / self.dbu_um if isinstance(um, np.ndarray) else um / self.dbu_um

    def off_grid(self, um: float) -> bool:
        """True when `um` is not a whole number of database units."""
        dbu = um / self.dbu_um
        return abs(dbu - round(dbu)) > 1e-6

    def distance_warning(self, um: float) -> str | None:
        """Why a deck distance cannot be checked exactly on this grid, or None."""
        if 0 < um < self.dbu_um:
            return (
                f"{um:g} um is smaller than the layout grid ({self.dbu_um:g} um); the rule cannot be "
                "checked exactly (only touching shapes, at distance 0, can fail it)"
            )
        if self.off_grid(um):
            return (
                f"{um:g} um is not a multiple of the layout grid ({self.dbu_um:g} um); "
                "it is compared exactly, off the grid"
            )
        return None

    def to_um(self, dbu: np.ndarray | float) -> np.ndarray:
        """Database-unit coordinates as um on the grid: rounded to whole database units
        (`round_half_away`), then scaled and printed with the grid's decimals.

        >>> Grid(0.0005).to_um(np.array([144926.4, 144926.5, -3.5])).tolist()
        [72.463, 72.4635, -0.002]
        """
        # + 0.0 turns -0.0 into 0.0, so that equal markers print alike whichever path made them
        return np.round(round_half_away(dbu) * self.dbu_um, self.decimals) + 0.0

    def length_um(self, dbu: np.ndarray | float) -> np.ndarray:
        """A measured length (not a coordinate) in um, kept 3 digits finer than the grid."""
        return np.round(np.asarray(dbu, dtype=float) * self.dbu_um, self.decimals + 3)

    def area_um2(self, dbu2: np.ndarray | float) -> np.ndarray:
        """A measured area in um2."""
        return np.round(np.asarray(dbu2, dtype=float) * self.dbu_um**2, 2 * self.decimals)
