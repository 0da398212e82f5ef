"""The placement of a part that lands most of its bumps on pads: 8 orientations, offsets by filtering.

For each of the 8 orientations (`place.ORIENTATIONS`) the part's bump centres are turned
about the part's origin. Candidate offsets put an anchor bump (an extreme corner of the
bump map) on some pad centre, pad - anchor, one per pad, and keep those that put the
opposite corner on a pad too. The other voter bumps (the other two corners, which a
shift by one pitch moves off the array, and some chosen at random with a fixed seed)
filter them: a candidate is dropped as soon as more than `MAX_MISSES` voters land on no
pad centre within the tolerance (one KD-tree query per voter over the surviving
candidates, scipy.spatial.cKDTree). When one diagonal's corners find nothing good (a
corner bump itself off its pad), the other diagonal's are tried. The survivors
are scored on a sample of bumps, the best on all of them after refining its offset (the
median pad - bump difference of its matches, on the grid). Ties (a bump map symmetric
under some orientation, identical dies) go to the written orientation, then to the
offset closest to the written one: the smallest change that aligns the part. Everything is
numpy; no loop runs per bump or per pad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from pkgdrc.assembly.place import ORIENTATIONS, matrix

VOTERS = 16
MAX_MISSES = 2  # voters allowed to miss (a bump that is itself off its pad must not hide the placement)
MAX_SURVIVORS = 256
SCORE_SAMPLES = (256, 2000)  # survivors scored on the first; the best few (FINALISTS) on the second
FINALISTS = 8


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
    """Indices of the extreme bumps in 4 diagonal directions, then random ones (no repeats)."""
    extremes = [int(np.argmax(b @ np.array(v))) for v in ((1, 1), (-1, -1), (1, -1), (-1, 1))]
    extra = rng.choice(len(b), size=min(len(b), VOTERS), replace=False)
    order = np.r_[extremes, extra]
    _, first = np.unique(order, return_index=True)
    return order[np.sort(first)][:VOTERS]


def _candidates(
    b: np.ndarray, tree: cKDTree, pads: np.ndarray, tol: float, voters: np.ndarray, anchor: int, partner: int
) -> np.ndarray:
    """Offsets putting bump `anchor` on a pad and bump `partner` (the opposite corner) on a pad
    too, that no more than MAX_MISSES of the other voters contradict."""
    offsets = pads - b[anchor]
    offsets = offsets[within(tree, b[partner] + offsets, tol) >= 0]
    misses = np.zeros(len(offsets), np.int64)
    for j in voters[(voters != anchor) & (voters != partner)]:  # a few voters, one bulk query each
        misses += within(tree, b[j] + offsets, tol) < 0
        keep = misses <= MAX_MISSES
        offsets, misses = offsets[keep], misses[keep]
    offsets = offsets[np.argsort(misses, kind="stable")[:MAX_SURVIVORS]]
    _, first = np.unique(np.round(offsets / max(tol, 1.0)), axis=0, return_index=True)  # one per tolerance cell
    return offsets[np.sort(first)]


def _scores(tree: cKDTree, points: np.ndarray, offsets: np.ndarray, tol: float) -> np.ndarray:
    """Points that land within `tol` of a pad, for each offset: one bulk query."""
    placed = (points[None, :, :] + offsets[:, None, :]).reshape(-1, 2)
    return (within(tree, placed, tol) >= 0).reshape(len(offsets), len(points)).sum(axis=1)


def _search(
    local: np.ndarray,
    tree: cKDTree,
    pads: np.ndarray,
    tol: float,
    written: tuple,
    samples: tuple,
    diagonal: int,
    rng: np.random.Generator,
) -> tuple | None:
    """The best (key, flip, rotate, offset) over the 8 orientations, anchored on one diagonal's corners."""
    small, large = samples
    w_flip, w_rot, w_at = written
    best: tuple | None = None
    for flip, rotate in ORIENTATIONS:
        m = matrix(flip, rotate)
        b = local @ m.T
        voters = _voters(b, rng)
        anchor, partner = voters[2 * diagonal], voters[2 * diagonal + 1]
        offsets = _candidates(b, tree, pads, tol, voters, anchor, partner)
        if not len(offsets):
            continue
        offsets = offsets[np.argsort(-_scores(tree, small @ m.T, offsets, tol), kind="stable")[:FINALISTS]]
        for off, score in zip(offsets, _scores(tree, large @ m.T, offsets, tol).tolist()):
            key = (score, (flip, rotate) == (w_flip, w_rot), -float(np.hypot(*(off - w_at))))
            if best is None or key > best[0]:
                best = (key, flip, rotate, off)
    return best


def best_fit(local: np.ndarray, pads: np.ndarray, tol: float, written: tuple[bool, int, np.ndarray]) -> Fit:
    """The placement that matches most bump centres `local` (part frame, assembly dbu) to `pads`.

    Anchored on the corners of one diagonal of the bump map; when that finds no placement
    matching half of the sampled bumps (a corner bump itself off its pad), on the other.
    """
    tree = cKDTree(pads)
    rng = np.random.default_rng(0)
    samples = tuple(
        local if len(local) <= n else local[rng.choice(len(local), n, replace=False)] for n in SCORE_SAMPLES
    )
    best = _search(local, tree, pads, tol, written, samples, 0, rng)
    if best is None or best[0][0] < len(samples[1]) / 2:
        other = _search(local, tree, pads, tol, written, samples, 1, rng)
        best = other if best is None or (other is not None and other[0] > best[0]) else best
    if best is None:
        return Fit(written[0], written[1], (float(written[2][0]), float(written[2][1])), 0)
    _, flip, rotate, off = best
    b = local @ matrix(flip, rotate).T
    hit = within(tree, b + off, tol)
    if (hit >= 0).any():
        off = np.round(np.median(pads[hit[hit >= 0]] - b[hit >= 0], axis=0))
        hit = within(tree, b + off, tol)
    return Fit(flip, rotate, (float(off[0]), float(off[1])), int((hit >= 0).sum()))
