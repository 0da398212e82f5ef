"""The placement of a part that lands most of its bumps on pads: 8 orientations, offsets by vote.

For each of the 8 orientations (`place.ORIENTATIONS`) the part's bump centres are turned
about the part's origin; a few sample bumps (the extreme ones in 4 directions, which a
shift by one pitch moves off the array, plus a few chosen at random with a fixed seed)
vote for every offset that puts them on some pad (pad centre - bump centre, binned by
the tolerance); the most voted offsets are scored by counting the bumps of a sample
that then have a pad centre within the tolerance (one KD-tree query each,
scipy.spatial.cKDTree); the best candidate is refined (the median pad - bump difference
of its matches, on the grid) and scored on all bumps. Ties go to the placement closest
to the written one. Everything is numpy; no loop runs per bump.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from pkgdrc.assembly.place import ORIENTATIONS, matrix

SAMPLE_VOTERS = 12
CANDIDATES = 6  # offsets scored per orientation
SCORE_SAMPLE = 2000


@dataclass(frozen=True)
class Fit:
    """A placement of the part (orientation and offset, assembly dbu) and the bumps it matches."""

    flip: bool
    rotate: int
    offset: tuple[float, float]
    matched: int


def within(tree: cKDTree, points: np.ndarray, tol: float) -> np.ndarray:
    """Index of the nearest tree point within `tol` (distance <= tol) of each point, -1 where none."""
    if len(points) == 0 or tree.n == 0:
        return np.full(len(points), -1)
    d, i = tree.query(points, distance_upper_bound=tol * (1 + 1e-12) + 1e-9)
    return np.where(np.isfinite(d), i, -1)


def _voters(b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    extremes = [int(np.argmax(b @ np.array(v))) for v in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
    extra = rng.choice(len(b), size=min(len(b), SAMPLE_VOTERS - len(extremes)), replace=False)
    return np.unique(np.r_[extremes, extra])


def best_fit(local: np.ndarray, pads: np.ndarray, tol: float, written: tuple[bool, int, np.ndarray]) -> Fit:
    """The placement that matches most bump centres `local` (part frame, assembly dbu) to `pads`."""
    tree = cKDTree(pads)
    rng = np.random.default_rng(0)
    sample = local if len(local) <= SCORE_SAMPLE else local[rng.choice(len(local), SCORE_SAMPLE, replace=False)]
    bin_size = max(2.0 * tol, 1.0)
    w_flip, w_rot, w_at = written
    best: tuple | None = None
    for flip, rotate in ORIENTATIONS:
        m = matrix(flip, rotate)
        b = local @ m.T
        voters = b[_voters(b, rng)]
        diffs = (pads[None, :, :] - voters[:, None, :]).reshape(-1, 2)
        cells = np.floor(diffs / bin_size).astype(np.int64)
        keys = cells[:, 0] * (1 << 32) + cells[:, 1]
        uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        top = np.argsort(-counts, kind="stable")[:CANDIDATES]
        sums = np.zeros((len(uniq), 2))
        np.add.at(sums, inverse, diffs)
        offsets = sums[top] / counts[top, None]
        s = sample @ m.T
        for off in offsets:
            score = int((within(tree, s + off, tol) >= 0).sum())
            key = (score, -float(np.hypot(*(off - w_at))), (flip, rotate) == (w_flip, w_rot))
            if best is None or key > best[0]:
                best = (key, flip, rotate, off)
    _, flip, rotate, off = best
    b = local @ matrix(flip, rotate).T
    hit = within(tree, b + off, tol)
    if (hit >= 0).any():
        off = np.round(np.median(pads[hit[hit >= 0]] - b[hit >= 0], axis=0))
        hit = within(tree, b + off, tol)
    return Fit(flip, rotate, (float(off[0]), float(off[1])), int((hit >= 0).sum()))
