"""Union of clusters of shapes on the integer grid: a Clipper2 scanline, crossings rounded as KLayout rounds.

Clipper2 (pyclipr) unions integer polygons by a scanline, far faster than GEOS' overlay
on clusters of hundreds of round pads and traces. Its vertices are the input vertices
and the crossings of input edges, truncated or rounded to whole numbers. Each
crossing is then recomputed from the two input edges through it and rounded as
KLayout's edge processor rounds (`round_half_down`): so the result is the exact union
with every new vertex rounded to the nearest grid point, ties towards -infinity, as
`polygons.on_grid` rounds a GEOS overlay.

Every input vertex carries its index as Clipper's Z value; a crossing gets the largest Z
of the two edges' ends (pyclipr's Z callback). So a crossing is an output vertex that is
not where its Z's input vertex is, one of its edges ends at that vertex, and the other
runs along the output contour to a neighbour (both found without a spatial search).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pyclipr
import shapely

TIE = 1e-6  # a crossing this close to x.5 is decided with exact integers
NEAR_LINE = 1.5  # Clipper's crossing lies this close to its edges' lines (sqrt(2) and a margin)
SMALL_CLUSTER = 16  # clusters of at most this many shapes: a crossing's third shapes tried by boxes in numpy
BATCH_VERTICES = 4096  # clusters unioned in one scanline, up to this many vertices (one big cluster alone)


def round_half_down(c: np.ndarray) -> np.ndarray:
    """To the nearest whole number, exact ties towards -infinity (KLayout's `div_exact`)."""
    return np.ceil(c - 0.5)


def ring_coordinates(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates of every ring of polygons `polys` (closed: each ring's first vertex again at
    its end), the ring of each coordinate, and the polygon of each ring (shells before
    their holes, as `shapely.get_rings`). Ring geometries are made only for polygons with holes."""
    xy = shapely.get_coordinates(polys)
    holes = shapely.get_num_interior_rings(polys)
    ring_poly = np.repeat(np.arange(len(polys)), holes + 1)
    if holes.any():
        sizes = np.zeros(len(ring_poly), dtype=np.int64)
        first = np.cumsum(holes + 1) - holes - 1
        plain = holes == 0
        sizes[first[plain]] = shapely.get_num_coordinates(polys[plain])
        holed = np.flatnonzero(~plain)
        rings, owner = shapely.get_rings(polys[holed], return_index=True)
        within = np.arange(len(rings)) - np.repeat(np.cumsum(holes[holed] + 1) - holes[holed] - 1, holes[holed] + 1)
        sizes[first[holed][owner] + within] = shapely.get_num_coordinates(rings)
    else:
        sizes = shapely.get_num_coordinates(polys)
    return xy, np.repeat(np.arange(len(ring_poly)), sizes), ring_poly


def _vertices(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`ring_coordinates` without each ring's closing vertex and repeated vertices."""
    xy, ring, ring_poly = ring_coordinates(polys)
    keep = np.r_[ring[1:] == ring[:-1], False]
    keep[:-1] &= (xy[1:, 0] != xy[:-1, 0]) | (xy[1:, 1] != xy[:-1, 1])  # columns apart: faster than any(axis=1)
    return xy[keep], ring[keep], ring_poly


def _ring_neighbours(ring_starts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(previous, next) index of each vertex of closed rings stored one after another."""
    ends = np.r_[ring_starts[1:], n]
    nxt = np.arange(1, n + 1)
    nxt[ends - 1] = ring_starts
    prv = np.arange(-1, n - 1)
    prv[ring_starts] = ends - 1
    return prv, nxt


def _split(a: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    """Rows of `a` cut before each of `starts` (the first is 0): views, faster than `np.split`."""
    bounds = np.r_[starts, len(a)].tolist()
    return [a[i:j] for i, j in itertools.pairwise(bounds)]


def _spread(v: np.ndarray) -> np.ndarray:
    """The bits of 16-bit integers spread to the even bits (half of a Morton key)."""
    v = v.astype(np.uint64)
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def _batches(polys: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An order of `polys` by cluster, clusters near one another next to each other (Morton
    order of a member's centre), and the cut points of batches of whole clusters.

    A scanline costs more than linearly in the edges it crosses at once: clusters side by
    side in one scanline slow each other down, so batches are small and compact.
    """
    b = shapely.bounds(polys)
    k = labels.max() + 1
    cx, cy = np.zeros(k), np.zeros(k)
    cx[labels], cy[labels] = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    span = max(np.ptp(cx), np.ptp(cy), 1.0)
    key = _spread((cx - cx.min()) / span * 65535) | (_spread((cy - cy.min()) / span * 65535) << np.uint64(1))
    order = np.lexsort((labels, key[labels]))
    lab = labels[order]
    first = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    size = np.add.reduceat(shapely.get_num_coordinates(polys[order]), first)
    batch = (np.cumsum(size) - size) // BATCH_VERTICES
    big = size > BATCH_VERTICES
    cut = np.r_[True, batch[1:] != batch[:-1]] | big | np.r_[True, big[:-1]]
    return order, np.r_[first[cut], len(polys)]


def _oriented(xy: np.ndarray, starts: np.ndarray, nxt: np.ndarray, shell: np.ndarray) -> np.ndarray | None:
    """Vertices of rings (`starts`: where each begins, `nxt`: each vertex's next, `shell`: which
    are outer rings) with shells counter-clockwise and holes clockwise: a ring the wrong way
    round is reversed keeping its first vertex (as `shapely.orient_polygons` reverses). None
    if a ring has no area."""
    slot = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(xy)]))  # ring by position
    x, y = xy[:, 0] - xy[starts, 0][slot], xy[:, 1] - xy[starts, 1][slot]
    area2 = np.bincount(slot, x * y[nxt] - x[nxt] * y, minlength=len(starts))
    if (area2 == 0).any():
        return None
    wrong = np.flatnonzero(np.where(shell, area2 < 0, area2 > 0))
    if len(wrong) == 0:
        return xy
    first, last = starts[wrong], np.r_[starts[1:], len(xy)][wrong] - 1
    size = last - first  # vertices after the first
    k = np.repeat(first + size, size) - np.arange(size.sum()) + np.repeat(np.cumsum(size) - size, size)
    src = np.arange(len(xy))
    src[np.repeat(first + 1, size) + np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)] = k
    return xy[src]


def _exact_round(p: np.ndarray, r: np.ndarray, q: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The crossing of lines p + t r and q + u s rounded half down, in Python integers (for the
    few crossings near a tie)."""
    out = np.empty((len(p), 2))
    for k in range(len(p)):
        (px, py), (rx, ry), (qx, qy), (sx, sy) = (map(int, v[k]) for v in (p, r, q, s))
        t = Fraction((qx - px) * sy - (qy - py) * sx, rx * sy - ry * sx)
        out[k] = math.ceil(px + t * rx - Fraction(1, 2)), math.ceil(py + t * ry - Fraction(1, 2))
    return out


def _off_line(pts: np.ndarray, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Distance of each point from the line p + t r."""
    return np.abs(r[:, 0] * (pts[:, 1] - p[:, 1]) - r[:, 1] * (pts[:, 0] - p[:, 0])) / np.hypot(r[:, 0], r[:, 1])


def _crossings(
    pts: np.ndarray, around: np.ndarray, cand_a: np.ndarray, cand_b: np.ndarray, xy: np.ndarray, nxt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """KLayout-rounded crossings at Clipper's vertices `pts` of an edge of `cand_a` (m, ka) with
    one of `cand_b` (m, kb) (edges as start-vertex indices into `xy`), which points had one,
    and for those (x, y, edge a, edge b) of the exact crossing.

    A pair fits a point when its exact crossing is less than a dbu from it (Clipper2
    truncates crossings, or rounds them on a horizontal edge) and the contour runs along
    the pair's edges: one of the point's neighbours on Clipper's contour (`around`,
    (m, 2, 2)) lies on each edge's line, within a dbu or so. A point no pair fits, or two
    pairs that round apart, is not found: there Clipper's integer crossings made other
    topology than the exact ones (edges less than a dbu apart), which only an exact
    overlay gets right.
    """
    m, ka, kb = len(pts), cand_a.shape[1], cand_b.shape[1]
    s1 = np.repeat(cand_a, kb, axis=1).ravel()
    s2 = np.tile(cand_b, (1, ka)).ravel()
    pid = np.repeat(np.arange(m), ka * kb)
    # x and y apart (contiguous), the same operations as on (n, 2) rows: the same floats.
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    px, py, qx, qy = x[s1], y[s1], x[s2], y[s2]
    rx, ry = x[nxt[s1]] - px, y[nxt[s1]] - py
    sx, sy = x[nxt[s2]] - qx, y[nxt[s2]] - qy
    den = rx * sy - ry * sx
    qpx, qpy = qx - px, qy - py
    tn = qpx * sy - qpy * sx
    un = qpx * ry - qpy * rx
    flip = den < 0
    den, tn, un = np.where(flip, -den, den), np.where(flip, -tn, tn), np.where(flip, -un, un)
    # Pairs whose edges cross, then (few) those whose crossing is near the point.
    k = np.flatnonzero((den != 0) & (tn >= 0) & (tn <= den) & (un >= 0) & (un <= den))
    t = tn[k] / den[k]
    c = np.column_stack([px[k] + t * rx[k], py[k] + t * ry[k]])
    near = np.all(np.abs(c - pts[pid[k]]) < 1 + TIE, axis=1)
    k, c = k[near], c[near]
    p, q = np.column_stack([px[k], py[k]]), np.column_stack([qx[k], qy[k]])
    r, s = np.column_stack([rx[k], ry[k]]), np.column_stack([sx[k], sy[k]])
    s1, s2, pid = s1[k], s2[k], pid[k]
    prev_a, next_a = _off_line(around[pid, 0], p, r), _off_line(around[pid, 1], p, r)
    prev_b, next_b = _off_line(around[pid, 0], q, s), _off_line(around[pid, 1], q, s)
    fits = ((prev_a < NEAR_LINE) & (next_b < NEAR_LINE)) | ((prev_b < NEAR_LINE) & (next_a < NEAR_LINE))
    k = np.flatnonzero(fits)
    rounded = round_half_down(c[k])
    tie = np.flatnonzero((np.abs(c[k] - np.floor(c[k]) - 0.5) < TIE).any(axis=1))
    if len(tie):
        g = k[tie]
        rounded[tie] = _exact_round(p[g], r[g], q[g], s[g])
    low = np.full((m, 2), np.inf)
    high = np.full((m, 2), -np.inf)
    if len(k):  # pid[k] is sorted: the pairs of each point are one run
        at = np.flatnonzero(np.r_[True, pid[k][1:] != pid[k][:-1]])
        low[pid[k][at]] = np.minimum.reduceat(rounded, at)
        high[pid[k][at]] = np.maximum.reduceat(rounded, at)
    found = np.all(low == high, axis=1)
    out = pts.copy()
    out[found] = low[found]
    first = np.zeros(m, dtype=np.int64)
    first[pid[k][::-1]] = k[::-1]  # the first fitting pair of each point (of a point with none: any)
    exact = np.column_stack([c[first], s1[first], s2[first]]) if len(c) else np.zeros((m, 4))
    return out, found, exact


def _scanline(paths: list[np.ndarray], frame: np.ndarray | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Clipper2's union (non-zero fill) of closed (x, y, z) paths: its rings, and each vertex's Z.

    `frame` (2 x 2 integers, determinant 1, from `_frame`): Clipper runs on the paths mapped
    by it, and its output is mapped back.
    """
    clipper = pyclipr.Clipper()
    clipper.scaleFactor = 1
    clipper.preserveCollinear = True  # collinear vertices go in `clean`, after rounding
    if frame is not None:
        paths = [np.column_stack([p[:, :2] @ frame.T, p[:, 2]]) for p in paths]
    clipper.addPaths(paths, pyclipr.Subject)
    rings, zs = clipper.execute(pyclipr.Union, pyclipr.FillRule.NonZero, returnZ=True)
    if frame is not None:
        back = np.round(np.linalg.inv(frame))
        rings = [r @ back.T for r in rings]
    return rings, zs


LONG_LINE = 256  # horizontal edges along one line in a batch beyond which Clipper works in another frame
_SHEAR = np.array([[1.0, 0.0], [1.0, 1.0]])  # (x, y) -> (x, y + x)
_TURN = np.array([[0.0, 1.0], [-1.0, 0.0]])  # (x, y) -> (y, -x)


def _frame(xy: np.ndarray, nxt: np.ndarray) -> np.ndarray | None:
    """The frame Clipper unions a batch in (`xy`: its vertices, `nxt`: each one's next).

    Clipper2 joins horizontal edges that lie along one line in time quadratic in their
    number: a row of 8,000 abutting boxes took 3 s, 20,000 about a minute, where a column
    of 8,000 took 7 ms. With more than LONG_LINE of them along one line, a batch whose
    edges are all horizontal or vertical is sheared, (x, y + x), which leaves no edge
    horizontal and is exact (such edges cross at integer points only); another batch is
    turned a quarter, when fewer vertical edges share a line (a turn is exact on vertices;
    Clipper's rounded crossings, recomputed from Z afterwards, may come out a dbu apart).
    None: as it is.
    """
    d = xy[nxt] - xy
    flat = (d[:, 1] == 0) & (d[:, 0] != 0)
    if np.count_nonzero(flat) <= LONG_LINE:  # most batches: too few horizontal edges to matter
        return None
    upright = (d[:, 0] == 0) & (d[:, 1] != 0)

    def longest(values: np.ndarray) -> int:
        return int(np.unique(values, return_counts=True)[1].max()) if len(values) else 0

    along = longest(xy[flat, 1])
    if along <= LONG_LINE:
        return None
    if np.all(flat | upright):
        return _SHEAR
    return _TURN if longest(xy[upright, 0]) < along else None


def _inside_another(exact: np.ndarray, polys: np.ndarray, owner: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Which exact crossings (x, y, edge a, edge b) lie inside a shape other than the two whose
    edges cross there: no vertex of the exact union does, so Clipper's integer crossings
    took another way there (a sliver under a dbu between three edges).

    Only the shapes of the crossing's cluster can hold it (`labels`: the cluster of each of
    `polys`, whose clusters are runs): a small cluster's members are tried by their boxes
    in numpy, a large one's found by an STRtree.
    """
    a, b = owner[exact[:, 2].astype(int)], owner[exact[:, 3].astype(int)]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    run = np.cumsum(np.r_[True, labels[1:] != labels[:-1]]) - 1  # each polygon's cluster run
    size = np.diff(np.r_[starts, len(labels)])[run[a]]
    small = np.flatnonzero(size <= SMALL_CLUSTER)
    ip = np.repeat(small, size[small])
    ig = (
        np.repeat(starts[run[a[small]]], size[small])
        + np.arange(len(ip))
        - np.repeat(np.cumsum(size[small]) - size[small], size[small])
    )
    large = np.flatnonzero(size > SMALL_CLUSTER)
    if len(large):
        jp, jg = shapely.STRtree(polys).query(shapely.points(exact[large, :2]))
        ip, ig = np.r_[ip, large[jp]], np.r_[ig, jg]
    other = (ig != a[ip]) & (ig != b[ip])
    ip, ig = ip[other], ig[other]
    box = shapely.bounds(polys[ig])
    x, y = exact[ip, 0], exact[ip, 1]
    meet = (box[:, 0] <= x) & (x <= box[:, 2]) & (box[:, 1] <= y) & (y <= box[:, 3])
    ip, ig = ip[meet], ig[meet]
    within = shapely.contains_xy(polys[ig], exact[ip, 0], exact[ip, 1])
    ip, ig = ip[within], ig[within]
    # Not on the other shape's edge either (a float crossing on it may test inside).
    deep = shapely.distance(shapely.points(exact[ip, :2]), shapely.boundary(polys[ig])) > TIE
    inside = np.zeros(len(exact), bool)
    inside[ip[deep]] = True
    return inside


def union_clusters(polys: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The union of each cluster of `polys` (labels: the cluster of each polygon), on the grid.

    Returns (polygons, their cluster labels, labels of clusters left to the caller): a
    cluster with a vertex off the grid (a shape repaired by `make_valid`), one where a
    crossing cannot be traced to two input edges or a hole to its polygon (sub-dbu
    slivers), is not unioned here. Polygons of one cluster touching at a point come out
    apart, each with a vertex there; holes are in their polygons; collinear vertices may
    remain.
    """
    off = shapely.get_coordinates(polys)
    off = off != np.round(off)
    off_grid = np.empty(0, dtype=labels.dtype)
    if off.any():
        off_grid = np.unique(labels[shapely.get_coordinates(polys, return_index=True)[1][off[:, 0] | off[:, 1]]])
        on = ~np.isin(labels, off_grid)
        polys, labels = polys[on], labels[on]
    if len(polys) == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=int), off_grid
    order, cuts = _batches(polys, labels)
    polys, labels = polys[order], labels[order]
    xy, ring, ring_poly = _vertices(polys)
    n = len(xy)
    starts = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    prv, nxt = _ring_neighbours(starts, n)
    oriented = _oriented(xy, starts, nxt, np.r_[True, ring_poly[1:] != ring_poly[:-1]][ring[starts]])
    if oriented is None:  # a ring of no area: GEOS decides its way round (the same vertices)
        xy = _vertices(shapely.orient_polygons(polys))[0]
    else:
        xy = oriented
    owner = ring_poly[ring]
    ids = np.arange(n, dtype=float)
    ring_cuts = np.searchsorted(ring_poly[ring[starts]], cuts)
    batches = list(itertools.pairwise(ring_cuts))
    paths = _split(np.column_stack([xy, ids]), starts)
    out, zs, batch_rings = [], [], []
    for a, b in batches:
        v0, v1 = starts[a], (starts[b] if b < len(starts) else n)
        o, zb = _scanline(paths[a:b], _frame(xy[v0:v1], nxt[v0:v1] - v0))
        out += o
        zs += zb
        batch_rings.append(len(o))
    if not out:
        return np.empty(0, dtype=object), np.empty(0, dtype=int), off_grid
    sizes = np.array([len(o) for o in out])
    oxy, z = np.concatenate(out), np.concatenate(zs).astype(np.int64)
    ostarts = np.r_[0, np.cumsum(sizes)[:-1]]
    oring = np.repeat(np.arange(len(sizes)), sizes)
    moved = oxy != xy[z]
    cross = np.flatnonzero(moved[:, 0] | moved[:, 1])
    unsolved = np.empty(0, dtype=int)
    if len(cross):
        # First the cheap guess: the other edge ends at a neighbour on the output contour.
        oprv, onxt = _ring_neighbours(ostarts, len(oxy))
        zm, zq1, zq2 = z[cross], z[oprv[cross]], z[onxt[cross]]
        cand_a = np.stack([prv[zm], zm], axis=1)
        cand_b = np.stack([prv[zq1], zq1, prv[zq2], zq2], axis=1)
        around = np.stack([oxy[oprv[cross]], oxy[onxt[cross]]], axis=1)
        rounded, found, exact = _crossings(oxy[cross], around, cand_a, cand_b, xy, nxt)
        if not found.all():
            # Where crossings follow one another (edges crossing many edges), the batch is
            # run again with the vertex numbers reversed: Z is then the smallest index of
            # the crossing edges' ends, so the two edges are the largest's and the smallest's.
            miss = cross[~found]
            ring_batch = np.repeat(np.arange(len(batches)), batch_rings)
            vertex_cut = np.r_[0, np.cumsum(np.bincount(ring_batch, sizes, minlength=len(batches)))].astype(int)
            zmin = np.full(len(oxy), -1)
            reversed_paths = _split(np.column_stack([xy, n - 1 - ids]), starts)
            for k in np.unique(ring_batch[oring[miss]]):
                o, zr = _scanline(reversed_paths[slice(*batches[k])])
                lo, hi = vertex_cut[k], vertex_cut[k + 1]
                if o and len(np.concatenate(o)) == hi - lo and np.array_equal(np.concatenate(o), oxy[lo:hi]):
                    zmin[lo:hi] = n - 1 - np.concatenate(zr).astype(np.int64)
            again = np.flatnonzero(zmin[miss] >= 0)
            if len(again):
                zlo = zmin[miss[again]]
                rounded2, found2, exact2 = _crossings(
                    oxy[miss[again]],
                    around[~found][again],
                    cand_a[~found][again],
                    np.stack([prv[zlo], zlo], axis=1),
                    xy,
                    nxt,
                )
                idx = np.flatnonzero(~found)[again]
                rounded[idx], found[idx], exact[idx] = rounded2, found2, exact2
        found[found] = ~_inside_another(exact[found], polys, owner, labels)
        oxy[cross] = rounded
        unsolved = np.unique(labels[owner[z[cross[~found]]]])
    ring_label = labels[owner[z[ostarts]]]
    polys_out, poly_label, orphans = _assemble(oxy, oring, ostarts, sizes, ring_label)
    unsolved = np.union1d(unsolved, orphans)
    keep = ~np.isin(poly_label, unsolved)
    return polys_out[keep], poly_label[keep], np.union1d(unsolved, off_grid)


def _assemble(
    xy: np.ndarray, ring: np.ndarray, starts: np.ndarray, sizes: np.ndarray, ring_label: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polygons with holes from Clipper's rings (outer ones counter-clockwise), their labels,
    and the labels of clusters with a hole that has no outer ring.

    A hole belongs to the outer ring of its cluster; where a cluster has several outer
    rings, to the smallest one that covers it.
    """
    x, y = xy[:, 0] - xy[starts, 0][ring], xy[:, 1] - xy[starts, 1][ring]
    _, nxt = _ring_neighbours(starts, len(xy))
    area2 = np.bincount(ring, x * y[nxt] - x[nxt] * y, minlength=len(sizes))
    lr = shapely.linearrings(xy, indices=ring)
    outer = area2 > 0
    oi, hi = np.flatnonzero(outer), np.flatnonzero(~outer)
    parent = np.full(len(sizes), -1)
    parent[oi] = np.arange(len(oi))
    if len(hi):
        outers_of = np.bincount(ring_label[oi], minlength=ring_label.max() + 1)
        only = np.full(len(outers_of), -1)
        only[ring_label[oi]] = np.arange(len(oi))  # the outer ring of a cluster with one
        simple = outers_of[ring_label[hi]] == 1
        parent[hi[simple]] = only[ring_label[hi[simple]]]
        rest = hi[~simple]
        if len(rest):
            ih, io = shapely.STRtree(shapely.polygons(lr[oi])).query(shapely.polygons(lr[rest]), predicate="covered_by")
            by = np.lexsort((area2[oi][io], ih))
            ih, io = ih[by], io[by]
            first = np.r_[True, ih[1:] != ih[:-1]][: len(ih)]
            parent[rest[ih[first]]] = io[first]
    # A hole no outer ring covers (rounding moved a crossing across) leaves its cluster to GEOS.
    orphans = np.unique(ring_label[parent < 0])
    by = np.lexsort((~outer, parent))
    by = by[parent[by] >= 0]
    return shapely.polygons(lr[by], indices=parent[by]), ring_label[oi], orphans
