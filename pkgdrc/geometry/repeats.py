"""Repetition: an edge-pair relation computed once per distinct neighbourhood.

A cell placed many times flattens to many shapes whose surroundings are identical up to
a translation, and so are their edge pairs. `relate_repeated` returns exactly what
`pairs.relate` returns (the same pairs, distances and source edges, as a multiset), but
measures each distinct neighbourhood once:

* A pair belongs to the shape (`a.shape`) of its first edge (`ia`).
* The context of a shape is everything `relate` can look at for its pairs: its own
  edges and the edges that may pair with them or shield such a pair: other shapes'
  edges of `a` (one-layer checks without `same_shape`: space) or edges of `b` (two-layer
  checks) whose bounding box comes within d + `REACH_PAD_DBU` (`pairs`) of the bounding box of one of
  its own edges (a pair lies within d of its first edge, so do the shields that cut
  through it), or of the shape's bounding box when that is at most 1.3 times its area
  (one query instead of one per edge).
  Other shapes of `a` neither pair nor shield in width (same shape only) nor in
  two-layer checks (KLayout's shielding: the first edge's own shape and layer b).
* A context is written as integer rows (source layer, own edge or not, end points
  relative to the shape's lower-left corner), in global edge order, since the order
  decides which edge of a pair comes first. Contexts are hashed in bulk and equal
  hashes are confirmed row by row; each distinct context is related once, on one
  representative shape, and its pairs are translated by the whole-dbu offset of every
  other shape with that context.

Before anything else, a two-layer relation drops the edges of b that cannot reach a
shape of a (`_near_edges`: their boxes farther than d + pad from every shape's box), and
a one-layer one looks for neighbours among the crowded shapes only (`_neighbours`).

It is used only where it pays: at least `MIN_SHAPES` shapes and at most `MAX_DISTINCT`
of them distinct (the shapes alone are compared first, cheaply), on whole-dbu
coordinates; otherwise it is `relate` on the whole layer. `relate`'s pairs are on the
grid, so the translated ones are exactly relate's; distances off the grid (corner
distances) are equal up to the last bit of a float.
"""

from __future__ import annotations

import numpy as np
import shapely

from pkgdrc.geometry.edges import Edges, envelopes
from pkgdrc.geometry.pairs import REACH_PAD_DBU, EdgePairs, Side, relate

MAX_DISTINCT = 0.25  # distinct contexts per shape above which the flat relate is used
MIN_SHAPES = 100
SAMPLE, SAMPLE_MIN, SAMPLE_DISTINCT = 0.25, 4000, 0.5  # `_sample_repeats`
SAMPLE_BELOW = 0.02  # shapes alone at most this distinct (vias, openings, pads): no sample, the full pass
QUERY_CHUNK = 1 << 15  # context boxes queried at once
KEEP_ALL = 0.9  # share of b's edges near a above which b is taken whole (a copy saved)
SMALL_POLYGON = 256  # edges of a polygon of b tested one by one against a's boxes (`_near_edges`)
NEAR_PAIRS = 1 << 20  # (edge, box) rows `_near_edges` tests at once
_MUL = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(0xC2B2AE3D27D4EB4F)


def relate_repeated(
    a: Edges, b: Edges | None, d: float, side_a: Side, side_b: Side, same_shape: bool = False
) -> EdgePairs:
    """`relate(a, b, d, side_a, side_b, same_shape)` (shielded), each repeated context once."""
    if len(a) == 0 or (b is not None and len(b) == 0):
        return relate(a, b, d, side_a, side_b, same_shape=same_shape)
    shapes, og = np.unique(a.shape, return_inverse=True)
    box = _boxes(a, og, len(shapes))
    if b is not None:
        near = _near_edges(_asking_boxes(a, og, box), b, d + REACH_PAD_DBU)
        if len(near) < KEEP_ALL * len(b):
            ep = _relate_repeated(a, b.take(near), d, side_a, side_b, same_shape, og, box)
            return EdgePairs(ep.pairs, ep.distance, ep.ia, near[ep.ib])
    return _relate_repeated(a, b, d, side_a, side_b, same_shape, og, box)


def _relate_repeated(
    a: Edges,
    b: Edges | None,
    d: float,
    side_a: Side,
    side_b: Side,
    same_shape: bool,
    og: np.ndarray,
    box: tuple[np.ndarray, np.ndarray],
) -> EdgePairs:
    """`relate_repeated` with a's shapes labelled (`og`) and boxed (`_boxes`)."""
    flat = lambda: relate(a, b, d, side_a, side_b, same_shape=same_shape)  # noqa: E731
    n = len(box[0])
    if n < MIN_SHAPES or (b is not None and len(b) == 0) or not _on_grid(a, b):
        return flat()
    reach = d + REACH_PAD_DBU
    # Shapes alone first: cheap, and a context is never repeated more often than its shape.
    # Two-layer checks need the neighbours anyway: the shapes are only counted, by a signature.
    rows: dict | None = None
    rep: np.ndarray | None = None
    if b is None:
        rows = _contexts(a, b, og, box, reach, None)
        rep = _representatives(rows, n)
        alone = len(np.unique(rep))
    else:
        alone = _distinct_signatures(a, og, box)
    if not same_shape and alone <= MAX_DISTINCT * n:
        # Two-layer checks: nearly every shape has a neighbour on the other layer (a via on its pad).
        crowded = _crowded(a, box, reach) if b is None else np.ones(n, bool)
        if crowded.any():  # else every context is the shape alone
            sample = alone > SAMPLE_BELOW * n
            # After a sample, `relate` may run on the whole layer: then the whole layer's index serves both.
            near = (a if b is None else b, None) if sample else _neighbours(a, b, og, crowded)
            if sample and not _sample_repeats(a, b, og, box, reach, crowded, near):
                return flat()
            rows = _contexts(a, b, og, box, reach, crowded, near=near)
            rep = _representatives(rows, n)
    if rows is None or rep is None or len(np.unique(rep)) > MAX_DISTINCT * n:
        return flat()
    return _expand(a, b, d, side_a, side_b, same_shape, og, rows, rep)


def _boxes(e: Edges, labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounding box (lo, hi) of each of the n groups of edges `labels` (0..n-1, each used) names."""
    order = np.argsort(labels, kind="stable")  # edges come grouped: a fast pass
    starts = np.searchsorted(labels[order], np.arange(n))
    lo = np.minimum.reduceat(np.minimum(e.p1, e.p2)[order], starts)
    hi = np.maximum.reduceat(np.maximum(e.p1, e.p2)[order], starts)
    return lo, hi


def _distinct_signatures(a: Edges, og: np.ndarray, box: tuple[np.ndarray, np.ndarray]) -> int:
    """How many distinct (edge count, width, height, area) the shapes of a have: at most as
    many as distinct shapes (a translated copy has its original's), without their contexts."""
    n = len(box[0])
    u, v = a.p1 - box[0][og], a.p2 - box[0][og]  # whole numbers: sums exact, whatever the place
    area2 = np.bincount(og, weights=u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0], minlength=n)
    signature = np.column_stack([np.bincount(og, minlength=n), box[1] - box[0], area2])
    return len(np.unique(signature, axis=0))


def _compact(a: Edges, og: np.ndarray, box: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per shape of a: whether its box is at most 1.3 times its area (boxes, octagons, round
    pads: 4/pi). A compact shape looks around with its box, a sprawling one (a diagonal
    trace) edge by edge."""
    lo, hi = box
    area = np.bincount(og, weights=a.p1[:, 0] * a.p2[:, 1] - a.p1[:, 1] * a.p2[:, 0], minlength=len(lo)) / -2
    return np.prod(hi - lo, axis=1) <= 1.3 * area


def _asking_boxes(a: Edges, og: np.ndarray, box: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The boxes a's shapes look around with (`_compact`): compact shapes' boxes, sprawling
    shapes' edges' boxes."""
    compact = _compact(a, og, box)
    by_edge = np.flatnonzero(~compact[og])
    return (
        np.concatenate([box[0][compact], np.minimum(a.p1[by_edge], a.p2[by_edge])]),
        np.concatenate([box[1][compact], np.maximum(a.p1[by_edge], a.p2[by_edge])]),
    )


def _near_edges(box: tuple[np.ndarray, np.ndarray], b: Edges, reach: float) -> np.ndarray:
    """Indices (ascending) of the edges of b whose bounding box comes within `reach` of one of
    the boxes `box` (`_asking_boxes` of a): only those can pair with an edge of a or shield such a pair
    (both lie within d of the pair's first edge), so the rest of the layer (fill, far traces,
    the far sides of pads) is neither indexed nor looked at.

    Polygons of b are found by their boxes (one STRtree of a's grown boxes), then the edges
    of each polygon met are tested against the boxes that met it, in numpy; a polygon of
    more than `SMALL_POLYGON` edges (a plane) is kept whole.
    """
    order = np.arange(len(b))
    lo, hi, poly = np.minimum(b.p1, b.p2), np.maximum(b.p1, b.p2), b.polygon
    if (poly[1:] < poly[:-1]).any():  # edges usually come grouped by polygon
        order = np.argsort(poly, kind="stable")
        lo, hi, poly = lo[order], hi[order], poly[order]
    starts = np.flatnonzero(np.r_[True, poly[1:] != poly[:-1]])
    count = np.diff(np.r_[starts, len(poly)])
    glo, ghi = box[0] - reach, box[1] + reach
    pi, ai = shapely.STRtree(envelopes(glo, ghi)).query(
        envelopes(np.minimum.reduceat(lo, starts), np.maximum.reduceat(hi, starts))
    )
    whole = np.zeros(len(starts), bool)
    whole[pi] = True
    whole &= count > SMALL_POLYGON
    keep = np.repeat(whole, count)
    pi, ai = pi[~whole[pi]], ai[~whole[pi]]
    cum = np.cumsum(count[pi])
    for part in np.split(np.arange(len(pi)), np.searchsorted(cum, np.arange(NEAR_PAIRS, cum[-1:].sum(), NEAR_PAIRS))):
        k = count[pi[part]]
        pos = np.repeat(starts[pi[part]] - (np.cumsum(k) - k), k) + np.arange(k.sum())
        q = np.repeat(ai[part], k)
        meet = (lo[pos, 0] <= ghi[q, 0]) & (lo[pos, 1] <= ghi[q, 1])
        meet &= (glo[q, 0] <= hi[pos, 0]) & (glo[q, 1] <= hi[pos, 1])
        keep[pos[meet]] = True
    return np.sort(order[keep], kind="stable")


def _crowded(a: Edges, box: tuple[np.ndarray, np.ndarray], reach: float) -> np.ndarray:
    """Per shape of a: whether its box grown by `reach` meets the box of another shape. Only
    such a shape's context (one-layer checks) holds more than its own edges (a context lies
    within the grown box): the others ask no edge query (round openings far apart)."""
    lo, hi = box
    i, j = shapely.STRtree(envelopes(lo, hi)).query(envelopes(lo - reach, hi + reach))
    crowded = np.zeros(len(lo), bool)
    crowded[i[i != j]] = True
    return crowded


def _neighbours(a: Edges, b: Edges | None, og: np.ndarray, crowded: np.ndarray) -> tuple[Edges, np.ndarray | None]:
    """The edges a context query looks among, and their indices in a (None: all of them):
    b, or in one-layer checks the edges of the `crowded` shapes (`_crowded`) alone, since
    box distance is symmetric: a shape near a crowded one is crowded itself."""
    if b is not None:
        return b, None
    edges = np.flatnonzero(crowded[og])
    return (a.take(edges), edges) if len(edges) < KEEP_ALL * len(a) else (a, None)


def _sample_repeats(
    a: Edges,
    b: Edges | None,
    og: np.ndarray,
    box: tuple[np.ndarray, np.ndarray],
    reach: float,
    ask: np.ndarray,
    near: tuple[Edges, np.ndarray | None],
) -> bool:
    """Whether the contexts of a sample of `SAMPLE` of the shapes (at least `SAMPLE_MIN`
    shapes, else all: True) repeat enough to compute them all: at most
    `SAMPLE_DISTINCT` (or `MAX_DISTINCT`) of the sampled shapes distinct among themselves.

    A sample shows fewer repeats than the whole, so this only spares the full pass where
    most contexts are unique (a layout where every package is drawn apart).
    """
    n = len(box[0])
    if n < SAMPLE_MIN:
        return True
    only = np.random.default_rng(0).random(n) < SAMPLE
    rep = _representatives(_contexts(a, b, og, box, reach, ask, only, near), n)
    return len(np.unique(rep[only])) <= max(SAMPLE_DISTINCT, MAX_DISTINCT) * only.sum()


def _contexts(
    a: Edges,
    b: Edges | None,
    og: np.ndarray,
    box: tuple[np.ndarray, np.ndarray],
    reach: float,
    ask: np.ndarray | None,
    only: np.ndarray | None = None,
    near: tuple[Edges, np.ndarray | None] | None = None,
) -> dict:
    """Context rows of every shape, sorted by `key` = (shape, source, edge): a dict of arrays.
    `box`: each shape's bounding box (`_boxes`). `ask` (a mask over shapes): the shapes whose
    neighbourhood is looked up; the others (all with `ask` None) have their own edges only.
    `near`: the edges the neighbours are found among (`_neighbours` of `ask`).
    `only` (a mask over shapes): the rows of those shapes only, the others have none."""
    lo, hi = box
    n = len(lo)
    n_e = _key_base(a, b)
    mine = np.arange(len(a)) if only is None else np.flatnonzero(only[og])
    key = og[mine] * (2 * n_e) + mine  # own edges (source 0)
    if ask is not None:
        code = 0 if b is None else 1
        other, indexed = near or _neighbours(a, b, og, ask)
        compact = _compact(a, og, box)
        asking = ask if only is None else ask & only
        by_edge = np.flatnonzero(~compact[og] & asking[og])
        compact &= asking
        lo_a, hi_a = np.minimum(a.p1[by_edge], a.p2[by_edge]), np.maximum(a.p1[by_edge], a.p2[by_edge])
        boxes = np.concatenate([np.column_stack([lo, hi])[compact], np.column_stack([lo_a, hi_a])])
        asker = np.concatenate([np.flatnonzero(compact), og[by_edge]])
        boxes += [-reach, -reach, reach, reach]
        index = other.index()
        found = [key]
        for i in range(0, len(boxes), QUERY_CHUNK):  # bounds the temporaries (edges of sprawling shapes overlap)
            qa, qe = index.query(boxes[i : i + QUERY_CHUNK, :2], boxes[i : i + QUERY_CHUNK, 2:])
            # Space: a shape's own edges are found again, and dropped as repeats.
            qe = qe if indexed is None else indexed[qe]
            found.append(_unique_sorted((asker[i + qa] * 2 + code) * n_e + qe))
        key = np.concatenate(found)
    key = _unique_sorted(key)
    e = key % n_e
    g, src = np.divmod(key // n_e, 2)
    ref = lo[g]
    sig = np.empty((len(key), 6), np.int32 if _fits_int32(a, b, lo) else np.int64)
    sig[:, 0] = src
    sig[:, 1] = (src == 0) & (og[np.where(src == 0, e, 0)] == g)  # the shape's own edge
    for source, code in ((a, 0), (b, 1)):
        if source is not None:
            rows = np.flatnonzero(src == code)
            sig[rows, 2:4] = source.p1[e[rows]] - ref[rows]
            sig[rows, 4:6] = source.p2[e[rows]] - ref[rows]
    start = np.searchsorted(g, np.arange(n + 1))
    return {"key": key, "g": g, "src": src, "e": e, "sig": sig, "start": start, "ref": lo}


def _unique_sorted(x: np.ndarray) -> np.ndarray:
    x = np.sort(x, kind="stable")  # keys come in sorted runs, which a stable sort merges
    return x[np.r_[True, x[1:] != x[:-1]]] if len(x) else x


def _on_grid(a: Edges, b: Edges | None) -> bool:
    """Whole database units everywhere: contexts are compared as integers."""
    return all(np.array_equal(p, np.round(p)) for e in (a, b) if e is not None for p in (e.p1, e.p2))


def _fits_int32(a: Edges, b: Edges | None, lo: np.ndarray) -> bool:
    """Coordinates relative to any shape's corner fit in int32 (layouts under 2 m at 1 nm)."""
    points = [p for p in [lo] + [p for e in (a, b) if e is not None for p in (e.p1, e.p2)] if len(p)]
    return max(p.max() for p in points) - min(p.min() for p in points) < 2**31 - 1


def _key_base(a: Edges, b: Edges | None) -> int:
    return max(len(a), 0 if b is None else len(b)) + 1


def _representatives(rows: dict, n: int) -> np.ndarray:
    """Per shape, the shape whose context it repeats exactly (itself when it is the first)."""
    g, sig, start = rows["g"], rows["sig"], rows["start"]
    pos = np.arange(len(g)) - start[g]
    h = np.zeros(len(g), np.uint64)
    with np.errstate(over="ignore"):
        for col in sig.T:
            h = (h ^ col.astype(np.uint64)) * _MUL
        powers = np.cumprod(np.full(int(pos.max(initial=0)) + 1, _BASE, np.uint64))
        shape_hash = np.zeros(n, np.uint64)
        np.add.at(shape_hash, g, h * powers[pos])
    count = np.diff(start)
    key = np.column_stack([shape_hash.view(np.int64), count])
    _, first, cls = np.unique(key, axis=0, return_index=True, return_inverse=True)
    rep = first[cls.ravel()]
    # Equal hashes are confirmed row by row; a shape differing from its representative stands alone.
    same_row = start[rep[g]] + pos
    differs = np.zeros(len(g), bool)
    for col in sig.T:
        differs |= col != col[same_row]
    rep[np.unique(g[differs])] = np.unique(g[differs])
    return rep


def _expand(
    a: Edges,
    b: Edges | None,
    d: float,
    side_a: Side,
    side_b: Side,
    same_shape: bool,
    og: np.ndarray,
    rows: dict,
    rep: np.ndarray,
) -> EdgePairs:
    """Relate the representatives' contexts once; translate their pairs to every repeat."""
    g, src, e, start, ref = rows["g"], rows["src"], rows["e"], rows["start"], rows["ref"]
    is_rep = rep == np.arange(len(rep))
    used = is_rep[g]
    ua = _unique_sorted(e[used & (src == 0)])
    if b is None:
        ep = relate(a.take(ua), None, d, side_a, side_b, same_shape=same_shape)
        ia, ib = ua[ep.ia], ua[ep.ib]
    else:
        ub = _unique_sorted(e[used & (src == 1)])
        ep = relate(a.take(ua), b.take(ub), d, side_a, side_b, same_shape=same_shape)
        ia, ib = ua[ep.ia], ub[ep.ib]
    r = og[ia]
    mine = is_rep[r]  # space: pairs of the neighbours in a representative's context are theirs
    pairs, dist, ia, ib, r = ep.pairs[mine], ep.distance[mine], ia[mine], ib[mine], r[mine]
    # Members of each representative, grouped.
    by_rep = np.argsort(rep, kind="stable")
    count = np.bincount(rep, minlength=len(rep))
    first = np.cumsum(count) - count
    k = count[r]
    out = np.repeat(np.arange(len(r)), k)
    nth = np.arange(len(out)) - np.repeat(np.cumsum(k) - k, k)
    m = by_rep[first[r][out] + nth]
    offset = ref[m] - ref[r[out]]
    # Source edges: the same row of the member's context as of the representative's.
    n_e, key = _key_base(a, b), rows["key"]
    row_a = np.searchsorted(key, (r * 2) * n_e + ia) - start[r]
    row_b = np.searchsorted(key, (r * 2 + (0 if b is None else 1)) * n_e + ib) - start[r]
    return EdgePairs(
        pairs[out] + offset[:, None, None, :], dist[out], e[start[m] + row_a[out]], e[start[m] + row_b[out]]
    )
