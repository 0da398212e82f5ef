"""Bumps to pads by centre: who meets whom within a tolerance, one to one (shared by align and net_match).

A bump and a pad meet when their bounding-box centres are at most `tol` apart
(Euclidean, assembly dbu). A bump is matched to a pad when it meets exactly that pad
and the pad meets exactly that bump. Counts come from KD-tree ball queries
(scipy.spatial.cKDTree), in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree


@dataclass
class Matching:
    pads_of_bump: np.ndarray  # (N,) pads within tol of each bump
    bumps_of_pad: np.ndarray  # (M,) bumps within tol of each pad
    pad: np.ndarray  # (N,) the matched pad of each bump, -1 when not matched one to one
    nearest: np.ndarray  # (N,) distance from each bump centre to the nearest pad centre (NaN: no pads)

    @property
    def matched(self) -> np.ndarray:
        return self.pad >= 0


def centres(polys: np.ndarray) -> np.ndarray:
    """(N, 2) bounding-box centres of polygons."""
    b = shapely.bounds(polys).reshape(-1, 4)
    return (b[:, :2] + b[:, 2:]) / 2


def _radius(tol: float) -> float:
    return tol * (1 + 1e-12) + 1e-9  # a centre exactly at the tolerance meets


def match(bumps: np.ndarray, pads: np.ndarray, tol: float) -> Matching:
    """Match (N, 2) bump centres to (M, 2) pad centres within `tol`."""
    n, m = len(bumps), len(pads)
    if n == 0 or m == 0:
        return Matching(np.zeros(n, np.int64), np.zeros(m, np.int64), np.full(n, -1), np.full(n, np.nan))
    pad_tree, bump_tree = cKDTree(pads), cKDTree(bumps)
    r = _radius(tol)
    pads_of_bump = np.asarray(pad_tree.query_ball_point(bumps, r, return_length=True), dtype=np.int64)
    bumps_of_pad = np.asarray(bump_tree.query_ball_point(pads, r, return_length=True), dtype=np.int64)
    nearest, idx = pad_tree.query(bumps)
    one = (pads_of_bump == 1) & (nearest <= r)
    one[one] &= bumps_of_pad[idx[one]] == 1
    return Matching(pads_of_bump, bumps_of_pad, np.where(one, idx, -1), nearest)
