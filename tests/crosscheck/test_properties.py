"""Property tests: random package-like layouts, pkgdrc against live klayout.db, every check kind.

Layouts are drawn from the shapes packages are made of: Manhattan and 45-degree traces,
octagonal pads, vias on pads, U shapes (notches), frames (holes), and pairs of shapes
placed exactly at the limit or one dbu either side of it, some inside rotated or
mirrored cell references. Coordinates and limits are whole dbu (1 nm).

Budget: 200 examples in all (derandomized, reproducible) by default; set
PKGDRC_CROSSCHECK_EXAMPLES=2000 for a longer run. A shrunk failure is added to
corpus.py as a `regression_*` case.
"""

from __future__ import annotations

import math
import os

import pytest
from corpus import box, octagon
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from klayout_ref import compare, klayout_result, pkgdrc_result, write_gds

KINDS = ("width", "space", "notch", "separation", "enclosure", "overlap", "inside", "area", "angle")
TOTAL = int(os.environ.get("PKGDRC_CROSSCHECK_EXAMPLES", "200"))
settings.register_profile(
    "crosscheck",
    max_examples=math.ceil(TOTAL / len(KINDS)),
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

GRID = 100  # shapes snap to 100 dbu, offsets around the limit are single dbu
NEAR = st.sampled_from([-1, 0, 1, -GRID, GRID, 7])
limits = st.integers(5, 30).map(lambda v: v * GRID)
coord = st.integers(0, 150).map(lambda v: v * GRID)
size = st.integers(3, 60).map(lambda v: v * GRID)


@st.composite
def rects(draw):
    x, y, w, h = draw(coord), draw(coord), draw(size), draw(size)
    return box(x, y, x + w, y + h)


@st.composite
def diagonal_traces(draw):
    """A 45-degree run, cut horizontally: `w` wide along x, w/sqrt2 across."""
    x, y, w, run = draw(coord), draw(coord), draw(size), draw(size)
    s = draw(st.sampled_from([1, -1]))
    return [[x, y], [x + w, y], [x + w + s * run, y + run], [x + s * run, y + run]]


@st.composite
def octagons(draw):
    cx, cy, r = draw(coord), draw(coord), draw(st.integers(10, 40).map(lambda v: v * GRID))
    return octagon(cx, cy, r, draw(st.integers(1, r // GRID - 1).map(lambda v: v * GRID)))


def shapes():
    return st.one_of(rects(), diagonal_traces(), octagons())


@st.composite
def at_limit_pair(draw, limit):
    """Two rectangles (or a rectangle and a corner neighbour) whose gap is limit + a small offset."""
    x, y, w, h = draw(coord), draw(coord), draw(size), draw(size)
    gap = max(0, limit + draw(NEAR))
    where = draw(st.sampled_from(["right", "above", "diagonal"]))
    w2, h2 = draw(size), draw(size)
    if where == "right":
        other = box(x + w + gap, y + draw(st.integers(-3, 3)) * GRID, x + w + gap + w2, y + h2)
    elif where == "above":
        other = box(x, y + h + gap, x + w2, y + h + gap + h2)
    else:
        dx = draw(st.integers(0, gap))
        dy = gap - dx  # Euclidean gap sqrt(dx^2+dy^2) <= gap: near the limit from below too
        other = box(x + w + dx, y + h + dy, x + w + dx + w2, y + h + dy + h2)
    return [box(x, y, x + w, y + h), other]


@st.composite
def notched(draw, limit):
    """A U shape (slot limit + offset wide) or a frame (hole limit + offset wide)."""
    x, y = draw(coord), draw(coord)
    slot = max(1, limit + draw(NEAR))
    arm, depth = draw(size), draw(size)
    if draw(st.booleans()):
        w = 2 * arm + slot
        return [
            [x, y],
            [x + w, y],
            [x + w, y + depth + arm],
            [x + arm + slot, y + depth + arm],
            [x + arm + slot, y + arm],
            [x + arm, y + arm],
            [x + arm, y + depth + arm],
            [x, y + depth + arm],
        ]
    w = 2 * arm + slot
    return [
        [x, y],
        [x + w, y],
        [x + w, y + w],
        [x, y + w],
        [x, y + arm],
        [x + arm, y + arm],
        [x + arm, y + arm + slot],
        [x + arm + slot, y + arm + slot],
        [x + arm + slot, y + arm],
        [x, y + arm],
    ]


@st.composite
def via_on_pad(draw, limit):
    """A via inside a pad (box or octagon) with enclosure limit + offset on one side."""
    vx, vy, vs = draw(coord), draw(coord), draw(st.integers(5, 20).map(lambda v: v * GRID))
    e = max(0, limit + draw(NEAR))
    big = limit + draw(st.integers(0, 20)) * GRID
    via = box(vx, vy, vx + vs, vy + vs)
    if draw(st.booleans()):
        pad = box(vx - e, vy - big, vx + vs + big, vy + vs + big)
    else:
        r = vs // 2 + big
        pad = octagon(vx + vs // 2, vy + vs // 2, r, draw(st.integers(0, r // 2)))
    return via, pad


@st.composite
def with_refs(draw, layers):
    """Move some shapes into a child cell placed with a rotation and/or mirror (same drawing, new place)."""
    if not draw(st.booleans()):
        return {"layers": layers}
    rotation = draw(st.sampled_from([0, 90, 180, 270]))
    mirror = draw(st.booleans())
    origin = [draw(coord), draw(coord)]
    return {
        "layers": {k: [] for k in layers},
        "refs": [{"layers": layers, "origin": origin, "rotation": rotation, "x_reflection": mirror}],
    }


@st.composite
def cases(draw, kind):
    limit = draw(limits)
    a, b = draw(st.lists(shapes(), max_size=3)), []
    if kind in ("width", "space", "area", "angle"):
        a += draw(at_limit_pair(limit))
    if kind == "notch":
        a = [draw(notched(limit))] + draw(st.lists(shapes(), max_size=1))
    if kind == "width":
        a += [draw(diagonal_traces())]
    if kind in ("separation", "overlap"):
        first, second = draw(at_limit_pair(limit))
        a.append(first)
        b = [second] + draw(st.lists(shapes(), max_size=3))
    if kind == "overlap":
        b = [[[x - limit - draw(NEAR), y] for x, y in b[0]]] + b[1:]  # slide the neighbour into an overlap
    if kind == "enclosure":
        vias = draw(st.lists(via_on_pad(limit), min_size=1, max_size=3))
        a += [v for v, _ in vias]
        b = [p for _, p in vias] + draw(st.lists(shapes(), max_size=1))
    if kind == "inside":
        b = [draw(st.one_of(octagons(), rects()))]
    params = {"min": limit}
    if kind == "inside":
        params = {"clearance": limit}
    elif kind == "area":
        params = {"min": draw(st.integers(1, 40)) * GRID * GRID * 100 + draw(NEAR)}
    elif kind == "angle":
        params = {"allowed": draw(st.sampled_from([[0, 90], [0, 45, 90, 135], [45, 135], [0]]))}
    layers = {"A": a, "B": b} if b else {"A": a}
    drawn = draw(with_refs(layers))
    check = "space" if kind == "notch" else kind
    return {"name": f"generated_{kind}", "check": check, "params": params, **drawn}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("crosscheck")


@pytest.mark.parametrize("kind", KINDS)
def test_pkgdrc_agrees_with_klayout_on_generated_layouts(kind, workdir):
    @settings(settings.get_profile("crosscheck"))
    @given(case=cases(kind))
    def agree(case):
        gds = write_gds(case, workdir)
        assert compare(klayout_result(gds, case), pkgdrc_result(gds, case)) == [], case

    agree()
