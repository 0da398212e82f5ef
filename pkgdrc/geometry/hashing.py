"""Content hashes of shapes and labels: 128 bits each, computed in bulk with numpy.

A shape's hash covers its vertices (integer dbu, in order), its vertex count and its number
of holes; two lanes of a splitmix64-style mix with different seeds give 128 bits. Every
vertex is mixed with its index in its polygon, and the vertices of a polygon are summed
(`np.add.reduceat`, modulo 2**64). A label is hashed from its text and place.
"""

from __future__ import annotations

import hashlib

import numpy as np
import shapely

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SEEDS = (np.uint64(0x243F6A8885A308D3), np.uint64(0x13198A2E03707344))


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, elementwise on uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def polygon_hashes(polys: np.ndarray) -> np.ndarray:
    """(N, 2) uint64: the content hash of each polygon (integer dbu vertices, in order, and its holes)."""
    n = len(polys)
    if n == 0:
        return np.empty((0, 2), np.uint64)
    coords = shapely.get_coordinates(polys)
    counts = shapely.get_num_coordinates(polys)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    index = np.arange(len(coords), dtype=np.int64) - np.repeat(starts, counts)
    xy = np.rint(coords).astype(np.int64).view(np.uint64)
    x, y, i = xy[:, 0], xy[:, 1], index.view(np.uint64)
    holes = shapely.get_num_interior_rings(polys).astype(np.uint64)
    shape = counts.astype(np.uint64) * _GOLDEN + holes
    out = np.empty((n, 2), np.uint64)
    for lane, seed in enumerate(_SEEDS):
        per_vertex = _mix(_mix(_mix(x + seed) ^ y) + i * _GOLDEN)
        out[:, lane] = _mix(np.add.reduceat(per_vertex, starts) + _mix(shape ^ seed))
    return out


def label_hashes(labels: list[tuple[str, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(hashes (N, 2), bounds (N, 4)) of labels (text, x, y dbu): a label's bounds are its point."""
    if not labels:
        return np.empty((0, 2), np.uint64), np.empty((0, 4))
    texts = np.array([t for t, _, _ in labels], dtype=str)
    width = max(texts.dtype.itemsize // 4, 1)
    chars = texts.astype(f"<U{width}").view(np.uint32).reshape(len(texts), width).astype(np.uint64)
    xy = np.array([(x, y) for _, x, y in labels], dtype=float)
    pos = np.rint(xy).astype(np.int64).view(np.uint64)
    step = np.arange(1, width + 1, dtype=np.uint64) * _GOLDEN
    out = np.empty((len(labels), 2), np.uint64)
    for lane, seed in enumerate(_SEEDS):
        h = _mix(_mix(pos[:, 0] + seed) ^ pos[:, 1])
        for k in range(width):  # a loop over characters, not over labels
            h = _mix(h ^ (chars[:, k] + step[k]))
        out[:, lane] = h
    return out, np.hstack([xy, xy])


def placed_hashes(hashes: np.ndarray, matrix: tuple[int, int, int, int], offsets: np.ndarray) -> np.ndarray:
    """(k N, 2) uint64: shapes of hashes `hashes` (N, 2) turned by `matrix` (entries -1, 0, 1) and
    placed at each of `offsets` ((k, 2), whole dbu), offset-major as `hierarchy.place` lists them.

    A placed shape's hash mixes its own hash with the placement's, so the same shape placed
    at two places (or turned two ways) has two hashes, and two different shapes never share
    one (up to a 128-bit collision)."""
    if len(hashes) == 0 or len(offsets) == 0:
        return np.empty((0, 2), np.uint64)
    code = np.array([sum((v + 1) * 3**i for i, v in enumerate(matrix))], np.uint64)  # an array: wraps silently
    xy = np.rint(offsets).astype(np.int64).view(np.uint64)
    out = np.empty((len(offsets), len(hashes), 2), np.uint64)
    for lane, seed in enumerate(_SEEDS):
        where = _mix(_mix(_mix(xy[:, 0] + seed) ^ xy[:, 1]) + code * _GOLDEN)
        out[:, :, lane] = _mix(hashes[None, :, lane] + where[:, None])
    return out.reshape(-1, 2)


def multiset_digest(hashes: np.ndarray) -> str:
    """A 128-bit hex digest of hashes (N, 2) uint64 as a multiset: the same for any order.

    Sums (modulo 2**64) of each lane mixed two ways, and the count, hashed with blake2b: one
    pass, no sort."""
    sums = [len(hashes)]
    for lane in range(2):
        for seed in _SEEDS:
            sums.append(int(_mix(hashes[:, lane] ^ seed).sum(dtype=np.uint64)) if len(hashes) else 0)
    return hashlib.blake2b(np.array(sums, np.uint64).tobytes(), digest_size=16).hexdigest()
