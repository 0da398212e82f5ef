"""The cell hierarchy (pkgdrc/hierarchy.py): CellTree.flatten gives the vertices gdstk's own
flattening gives, on random hierarchies (boxes, 45-degree octagons, paths, arrays and
lattices, 90-degree turns and mirrors, 2-3 levels), and copies / flat_count / repeated /
flat_labels count what gdstk counts.

gdstk is the oracle: `cell.get_polygons(apply_repetitions=True, include_paths=True,
depth=None)` on the file read back, scaled to dbu and rounded once. Exact placements must
give the same polygons as sets of normalized rings; references that are not exact on the
grid (30 degrees, magnification 2, an origin between grid points) within 1 dbu.

Budget: PKGDRC_HIERARCHY_EXAMPLES (default 100) examples per property, derandomized.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

import gdstk
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pkgdrc import safe_read
from pkgdrc.hierarchy import CellTree, Polygons
from pkgdrc.layout import read_layout

EXAMPLES = int(os.environ.get("PKGDRC_HIERARCHY_EXAMPLES", "100"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

LAYERS = {"A": (1, 0), "B": (2, 0)}
LABELS = {"A": (1, 0)}
SCALE = 1000.0  # um -> dbu (unit 1e-6, precision 1e-9)
UM = 1 / SCALE


# --- random hierarchies ---------------------------------------------------------------------

coord = st.integers(-200, 200).map(lambda v: v * 50)  # dbu, on a 50 dbu grid
size = st.integers(4, 80).map(lambda v: v * 50)
layer = st.sampled_from([(1, 0), (2, 0), (1, 0), (1, 5)])  # (1, 5) is not read: must never appear


@st.composite
def shape(draw):
    kind = draw(st.sampled_from(["box", "octagon", "path"]))
    lay = draw(layer)
    x, y = draw(coord), draw(coord)
    if kind == "box":
        return ("box", lay, (x, y, x + draw(size), y + draw(size)))
    if kind == "octagon":
        r = draw(st.integers(4, 40)) * 50
        cut = draw(st.integers(1, r // 50 - 1)) * 50
        return ("octagon", lay, (x, y, r, cut))
    a, b = draw(size), draw(size)
    turn = draw(st.sampled_from([(1, 1), (1, -1), (0, 1), (0, -1)]))  # 45- or 90-degree bend
    pts = [(x, y), (x + a, y), (x + a + turn[0] * b, y + turn[1] * b)]
    width = draw(st.integers(2, 8)) * 50
    ends = draw(st.sampled_from(["flush", "extended", "round"]))
    return ("path", lay, (pts, width, ends))


@st.composite
def label(draw):
    return (draw(st.sampled_from(["n1", "n2", "vdd"])), draw(coord), draw(coord), draw(st.sampled_from([0, 3])))


EXACT_REPS = ["single", "single", "array", "lattice", "offsets"]
INEXACT = ["rot30", "mag2", "offgrid"]


@st.composite
def reference(draw, targets, inexact=False):
    rep = draw(st.sampled_from(EXACT_REPS + (INEXACT if inexact else [])))
    spec = {
        "cell": draw(st.sampled_from(targets)),
        "origin": (draw(coord), draw(coord)),
        "quarter": draw(st.integers(0, 3)),
        "mirror": draw(st.booleans()),
        "rep": rep,
    }
    if rep == "array":
        spec["grid"] = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(size), draw(size))
    elif rep == "lattice":
        spec["grid"] = (
            draw(st.integers(1, 3)),
            draw(st.integers(1, 3)),
            (draw(coord), draw(coord)),
            (draw(coord), draw(coord)),
        )
    elif rep == "offsets":
        spec["offsets"] = draw(st.lists(st.tuples(coord, coord), min_size=1, max_size=3))
    return spec


@st.composite
def hierarchies(draw, inexact=False):
    """{"leaves": [...], "mids": [...], "top": {...}}: cells of shapes, labels and references."""
    leaves = [
        {
            "shapes": draw(st.lists(shape(), min_size=1, max_size=4)),
            "labels": draw(st.lists(label(), max_size=2)),
            "refs": [],
        }
        for _ in range(draw(st.integers(1, 3)))
    ]
    names = [f"LEAF{i}" for i in range(len(leaves))]
    mids = [
        {
            "shapes": draw(st.lists(shape(), max_size=2)),
            "labels": draw(st.lists(label(), max_size=1)),
            "refs": draw(st.lists(reference(names, inexact), min_size=1, max_size=3)),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    names += [f"MID{i}" for i in range(len(mids))]
    top = {
        "shapes": draw(st.lists(shape(), max_size=2)),
        "labels": draw(st.lists(label(), max_size=1)),
        "refs": draw(st.lists(reference(names, inexact), min_size=1, max_size=3)),
    }
    return {"leaves": leaves, "mids": mids, "top": top}


def _shape(spec) -> gdstk.Polygon | gdstk.FlexPath:
    kind, (lay, dt), p = spec
    if kind == "box":
        return gdstk.rectangle((p[0] * UM, p[1] * UM), (p[2] * UM, p[3] * UM), layer=lay, datatype=dt)
    if kind == "octagon":
        x, y, r, c = p
        pts = [
            (x - r + c, y - r),
            (x + r - c, y - r),
            (x + r, y - r + c),
            (x + r, y + r - c),
            (x + r - c, y + r),
            (x - r + c, y + r),
            (x - r, y + r - c),
            (x - r, y - r + c),
        ]
        return gdstk.Polygon([(a * UM, b * UM) for a, b in pts], layer=lay, datatype=dt)
    pts, width, ends = p
    return gdstk.FlexPath([(a * UM, b * UM) for a, b in pts], width * UM, ends=ends, layer=lay, datatype=dt)


def _reference(spec, cells) -> gdstk.Reference:
    rot = spec["quarter"] * math.pi / 2
    mag, origin = 1.0, tuple(v * UM for v in spec["origin"])
    if spec["rep"] == "rot30":
        rot += math.pi / 6
    elif spec["rep"] == "mag2":
        mag = 2.0
    elif spec["rep"] == "offgrid":
        origin = (origin[0] + 0.5 * UM, origin[1] - 0.25 * UM)
    ref = gdstk.Reference(cells[spec["cell"]], origin, rotation=rot, magnification=mag, x_reflection=spec["mirror"])
    if spec["rep"] == "array":
        cols, rows, sx, sy = spec["grid"]
        ref.repetition = gdstk.Repetition(columns=cols, rows=rows, spacing=(sx * UM, sy * UM))
    elif spec["rep"] == "lattice":
        cols, rows, v1, v2 = spec["grid"]
        ref.repetition = gdstk.Repetition(
            columns=cols, rows=rows, v1=(v1[0] * UM, v1[1] * UM), v2=(v2[0] * UM, v2[1] * UM)
        )
    elif spec["rep"] == "offsets":
        ref.repetition = gdstk.Repetition(offsets=[(0, 0)] + [(a * UM, b * UM) for a, b in spec["offsets"]])
    return ref


def build(h) -> gdstk.Library:
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cells = {}
    named = (
        [(f"LEAF{i}", c) for i, c in enumerate(h["leaves"])]
        + [(f"MID{i}", c) for i, c in enumerate(h["mids"])]
        + [("TOP", h["top"])]
    )
    for name, spec in named:
        cell = lib.new_cell(name)
        cells[name] = cell
        for s in spec["shapes"]:
            cell.add(_shape(s))
        for text, x, y, texttype in spec["labels"]:
            cell.add(gdstk.Label(text, (x * UM, y * UM), layer=1, texttype=texttype))
        for r in spec["refs"]:
            cell.add(_reference(r, cells))
    return lib


# --- the oracle: gdstk's own flattening -----------------------------------------------------


def ring(points: np.ndarray) -> tuple:
    """A polygon (dbu vertices) as a canonical ring: repeated and collinear vertices dropped, normalized."""
    poly = shapely.normalize(shapely.simplify(shapely.Polygon(points), 0))
    return tuple(map(tuple, shapely.get_coordinates(poly).tolist()))


def gdstk_flat(top: gdstk.Cell, key) -> list[np.ndarray]:
    polys = top.get_polygons(apply_repetitions=True, include_paths=True, depth=None, layer=key[0], datatype=key[1])
    return [np.rint(p.points * SCALE) for p in polys]


def tree_flat(tree: CellTree, name: str) -> list[np.ndarray]:
    return [shapely.get_coordinates(p.exterior)[:-1] for p in tree.flatten(name)]


def exact(ref: gdstk.Reference) -> bool:
    quarter = ref.rotation / (math.pi / 2)
    on_grid = np.allclose(np.asarray(ref.origin) * SCALE, np.rint(np.asarray(ref.origin) * SCALE), atol=1e-6)
    return ref.magnification == 1.0 and abs(quarter - round(quarter)) < 1e-9 and on_grid


def expected_copies(top: gdstk.Cell) -> Counter:
    """Occurrences of each cell in the flattened top, following exact references only."""
    found: Counter = Counter()

    def walk(cell, times):
        found[cell.name] += times
        for r in cell.references:
            if exact(r):
                walk(r.cell, times * max(r.repetition.size, 1))

    walk(top, 1)
    return found


def own_shapes(cell: gdstk.Cell) -> int:
    """Shapes on the read layers that belong to the cell itself: its own and its inexact references'."""
    n = 0
    for key in LAYERS.values():
        n += len(cell.get_polygons(apply_repetitions=True, include_paths=True, depth=0, layer=key[0], datatype=key[1]))
        n += sum(
            len(r.get_polygons(apply_repetitions=True, include_paths=True, depth=None, layer=key[0], datatype=key[1]))
            for r in cell.references
            if not exact(r)
        )
    return n


def write(lib: gdstk.Library, path: Path) -> Path:
    lib.write_gds(str(path)) if path.suffix == ".gds" else lib.write_oas(str(path))
    return path


def read_back(path: Path) -> gdstk.Library:
    return gdstk.read_gds(str(path)) if path.suffix == ".gds" else gdstk.read_oas(str(path))


def match_within(got: list[np.ndarray], want: list[np.ndarray], tol: float) -> tuple[int, int]:
    """Pair polygons whose Hausdorff distance is <= tol (greedy): (unmatched in got, unmatched in want)."""
    a = shapely.simplify(np.array([shapely.Polygon(p) for p in got], dtype=object), 0)
    b = shapely.simplify(np.array([shapely.Polygon(p) for p in want], dtype=object), 0)
    used = np.zeros(len(b), dtype=bool)
    index = shapely.STRtree(b)
    missing = 0
    for p in a:
        for j in sorted(index.query(p, predicate="dwithin", distance=tol)):
            if (
                not used[j]
                and shapely.hausdorff_distance(p, b[j]) <= tol + 1e-9
                and len(shapely.get_coordinates(p)) == len(shapely.get_coordinates(b[j]))
            ):
                used[j] = True
                break
        else:
            missing += 1
    return missing, int((~used).sum())


# --- properties -----------------------------------------------------------------------------


def _check_against_gdstk(path: Path, inexact: bool):
    layout = read_layout(path, LAYERS, top="TOP", label_map=LABELS)
    tree = layout.tree
    lib = read_back(path)
    top = next(c for c in lib.cells if c.name == "TOP")
    for name, key in LAYERS.items():
        want, got = gdstk_flat(top, key), tree_flat(tree, name)
        if inexact:
            assert match_within(got, want, 1.0) == (0, 0), name
        else:
            assert Counter(map(ring, got)) == Counter(map(ring, want)), name
            # the top's content (placements grouped by cell and orientation) is its flattening too
            content = [shapely.get_coordinates(p.exterior)[:-1] for p in tree.content(tree.top, name)]
            assert Counter(map(ring, content)) == Counter(map(ring, want)), name
        assert tree.flat_count(name) == len(want) == len(got)
    assert tree.flat_count() == sum(tree.flat_count(n) for n in LAYERS)
    assert layout.shape_count == tree.flat_count()

    copies = expected_copies(top)
    assert set(tree.cells) == {"TOP"} | {c.name for c in top.dependencies(True)}
    assert tree.copies() == {n: copies.get(n, 0) for n in tree.cells}
    by_name = {c.name: c for c in lib.cells}
    assert tree.repeated() == any(copies.get(n, 0) > 1 and own_shapes(by_name[n]) for n in tree.cells)

    want_labels = top.get_labels(apply_repetitions=True, depth=None, layer=1, texttype=0)
    want = Counter(
        (lb.text, float(np.rint(lb.origin[0] * SCALE)), float(np.rint(lb.origin[1] * SCALE))) for lb in want_labels
    )
    got = Counter((t, x + 0.0, y + 0.0) for t, x, y in tree.flat_labels("A"))
    if inexact:
        assert sum(got.values()) == sum(want.values())
        g = sorted(got.elements())
        w = sorted(want.elements())
        assert all(a[0] == b[0] and abs(a[1] - b[1]) <= 1 and abs(a[2] - b[2]) <= 1 for a, b in zip(g, w))
    else:
        assert got == want
    # the lazily flattened Layout is the tree's flattening
    assert {n: len(p) for n, p in layout.polygons.items()} == {n: tree.flat_count(n) for n in LAYERS}
    # content boxes (every layer in one pass) are the bounds of each cell's flattened content
    for layers in (["A"], ["B"], None):
        boxes = tree.content_boxes(layers)
        for name in tree.cells:
            content = np.concatenate([tree.content(name, n) for n in (layers or LAYERS)])
            if len(content) == 0:
                assert name not in boxes
            else:
                assert boxes[name].tolist() == shapely.total_bounds(content).tolist()
    points = [(x, y) for _, x, y in tree.flat_labels("A")]
    top_shapes = np.concatenate([tree.content(tree.top, n) for n in LAYERS])
    if len(top_shapes):
        b = shapely.total_bounds(top_shapes)
        points += [(b[0], b[1]), (b[2], b[3])]
    if points:
        every = np.array(points)
        assert tree.content_boxes(None, ["A"])[tree.top].tolist() == [*every.min(axis=0), *every.max(axis=0)]
    return tree


@SETTINGS
@given(h=hierarchies(), suffix=st.sampled_from([".gds", ".oas"]))
def test_flatten_equals_gdstk_on_random_hierarchies(h, suffix, tmp_path):
    path = write(build(h), tmp_path / f"h{suffix}")
    _check_against_gdstk(path, inexact=False)


@SETTINGS
@given(h=hierarchies(inexact=True))
def test_flatten_within_a_dbu_of_gdstk_with_inexact_references(h, tmp_path):
    path = write(build(h), tmp_path / "h.gds")
    _check_against_gdstk(path, inexact=True)


# --- fixed cases ----------------------------------------------------------------------------

L_SHAPE = [(0, 0), (4, 0), (4, 1), (1, 1), (1, 3), (0, 3)]  # asymmetric: any wrong turn shows


def _three_levels() -> gdstk.Library:
    """LEAF (an L and a 45-degree octagon, a label) in MID four ways; MID arrayed, turned and mirrored in TOP."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    leaf = lib.new_cell("LEAF")
    leaf.add(gdstk.Polygon(L_SHAPE, layer=1))
    leaf.add(gdstk.Polygon([(6, 0), (8, 0), (9, 1), (9, 3), (8, 4), (6, 4), (5, 3), (5, 1)], layer=2))
    leaf.add(gdstk.Label("pad", (0.5, 0.5), layer=1))
    mid = lib.new_cell("MID")
    for k in range(4):
        mid.add(gdstk.Reference(leaf, (20 * k, 0), rotation=k * math.pi / 2, x_reflection=bool(k % 2)))
    mid.add(gdstk.FlexPath([(0, -10), (30, -10), (40, 0)], 1.0, layer=1))
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(mid, (0, 0), columns=3, rows=2, spacing=(200, 100)))
    lattice = gdstk.Reference(mid, (1000, 0), rotation=math.pi / 2, x_reflection=True)
    lattice.repetition = gdstk.Repetition(columns=2, rows=2, v1=(150, 20), v2=(-20, 150))
    top.add(lattice)
    top.add(gdstk.Reference(leaf, (-500, -500), rotation=3 * math.pi / 2))
    top.add(gdstk.rectangle((-600, -600), (-550, -550), layer=2))
    return lib


@pytest.mark.parametrize("suffix", [".gds", ".oas"])
def test_three_levels_counts_and_labels(tmp_path, suffix):
    path = write(_three_levels(), tmp_path / f"three{suffix}")
    tree = _check_against_gdstk(path, inexact=False)
    # MID: 6 (array) + 4 (lattice); LEAF: 4 per MID + 1 direct
    assert tree.copies() == {"LEAF": 41, "MID": 10, "TOP": 1}
    assert tree.flat_count("A") == 41 + 10  # an L per LEAF, a path per MID
    assert tree.flat_count("B") == 41 + 1
    assert tree.repeated()
    assert len(tree.flat_labels("A")) == 41
    # LEAF turned 270 degrees at (-500, -500) um: its label (0.5, 0.5) goes to (0.5, -0.5) + origin, in dbu
    assert ("pad", -499500.0, -500500.0) in tree.flat_labels("A")
    inst = tree.instances()
    assert sum(len(o) for o in inst["LEAF"].values()) == 41
    # MID turns LEAF by R0, R90+mirror, R180, R270+mirror, a group: MID's own turns add none; plus R270 in TOP
    assert set(inst["LEAF"]) == {(1, 0, 0, 1), (0, 1, 1, 0), (-1, 0, 0, -1), (0, -1, -1, 0), (0, 1, -1, 0)}
    assert inst["LEAF"][(0, 1, -1, 0)].tolist() == [[-500000.0, -500000.0]]


def test_not_repeated_when_only_empty_cells_repeat(tmp_path):
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    empty = lib.new_cell("EMPTY")
    empty.add(gdstk.rectangle((0, 0), (1, 1), layer=9))  # a layer the deck does not read
    once = lib.new_cell("ONCE")
    once.add(gdstk.rectangle((0, 0), (1, 1), layer=1))
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(empty, (0, 0), columns=5, rows=5, spacing=(3, 3)))
    top.add(gdstk.Reference(once, (100, 0)))
    tree = read_layout(write(lib, tmp_path / "r.gds"), LAYERS).tree
    assert tree.copies() == {"EMPTY": 25, "ONCE": 1, "TOP": 1}
    assert not tree.repeated()
    assert tree.flat_count() == 1
    lib2 = gdstk.Library(unit=1e-6, precision=1e-9)
    once2 = lib2.new_cell("ONCE")
    once2.add(gdstk.rectangle((0, 0), (1, 1), layer=2))
    top2 = lib2.new_cell("TOP")
    top2.add(gdstk.Reference(once2, (0, 0)))
    top2.add(gdstk.Reference(once2, (5, 0), rotation=math.pi))
    assert read_layout(write(lib2, tmp_path / "r2.gds"), LAYERS).tree.repeated()


def _inexact_library() -> gdstk.Library:
    """Each kind of inexact reference, nested under exact arrays that turn and mirror."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    leaf = lib.new_cell("LEAF")
    leaf.add(gdstk.Polygon(L_SHAPE, layer=1))
    leaf.add(gdstk.FlexPath([(0, 5), (3, 5), (5, 7)], 0.4, layer=2))
    leaf.add(gdstk.Label("x", (1.2345, 2.1), layer=1))
    mid = lib.new_cell("MID")
    mid.add(gdstk.Reference(leaf, (0, 0), rotation=math.pi / 6))
    mid.add(gdstk.Reference(leaf, (20, 0), magnification=2, x_reflection=True))
    mid.add(gdstk.Reference(leaf, (40.0003, 0.0007), rotation=math.pi / 2))  # 0.3 / 0.7 dbu off the grid
    mid.add(gdstk.Reference(leaf, (60, 0), rotation=math.pi / 6, columns=2, rows=2, spacing=(10, 10)))
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(mid, (0, 0), columns=2, rows=2, spacing=(100, 50)))
    top.add(gdstk.Reference(mid, (500, 0), rotation=math.pi / 2, x_reflection=True))
    top.add(gdstk.Reference(mid, (0.0005, 700), rotation=math.pi))  # half a dbu off: flattened here
    return lib


def test_inexact_references_in_memory_within_a_dbu():
    """Off-grid origins only exist in memory (a file stores whole dbu): read the library in process."""
    lib = _inexact_library()
    raw = safe_read.tree_of(lib, "mem.gds", LAYERS, "TOP", LABELS, 10**7)
    tree, repaired, dropped = CellTree.from_raw(raw)
    assert (repaired, dropped) == (0, 0)
    top = lib["TOP"]
    for name, key in LAYERS.items():
        want = gdstk_flat(top, key)
        assert len(want) == 5 * (1 + 1 + 1 + 4) + 7  # per MID: 7 LEAF copies; TOP's off-grid MID flattened whole
        assert match_within(tree_flat(tree, name), want, 1.0) == (0, 0), name
        assert tree.flat_count(name) == len(want)
    # MID is placed exactly 5 times; LEAF is never placed exactly (every reference to it is inexact but one)
    assert tree.copies()["MID"] == 5
    assert tree.copies()["LEAF"] == 0
    assert tree.copies()["TOP"] == 1
    labels = tree.flat_labels("A")
    want_labels = top.get_labels(apply_repetitions=True, depth=None, layer=1, texttype=0)
    assert len(labels) == len(want_labels) == 5 * 7 + 7
    g = sorted((x, y) for _, x, y in labels)
    w = sorted((float(np.rint(lb.origin[0] * SCALE)), float(np.rint(lb.origin[1] * SCALE))) for lb in want_labels)
    assert max(max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in zip(g, w)) <= 1


@pytest.mark.parametrize("suffix", [".gds", ".oas"])
def test_inexact_references_from_file_within_a_dbu(tmp_path, suffix):
    path = write(_inexact_library(), tmp_path / f"inexact{suffix}")
    tree = _check_against_gdstk(path, inexact=True)
    # the off-grid origins were rounded by the writer: the 40.0003 LEAF turned 90 degrees is exact now
    assert tree.copies()["LEAF"] == 6
    assert tree.copies()["MID"] == 6


def test_forgotten_polygons_are_decoded_again_alike_and_the_top_is_kept(tmp_path):
    path = write(
        build(
            {
                "leaves": [{"shapes": [("box", (1, 0), (0, 0, 200, 100))], "labels": [], "refs": []}],
                "mids": [],
                "top": {
                    "shapes": [("box", (1, 0), (500, 500, 700, 600))],
                    "labels": [],
                    "refs": [{"cell": "LEAF0", "origin": (0, 0), "quarter": 1, "mirror": False, "rep": "single"}],
                },
            }
        ),
        tmp_path / "f.gds",
    )
    tree = read_layout(path, LAYERS, top="TOP").tree
    top, leaf = tree.cells["TOP"].polygons["A"], tree.cells["LEAF0"].polygons["A"]
    content = tree.content("TOP", "A")
    tree.forget_polygons()
    assert tree.cells["TOP"].polygons["A"] is top  # the top stays decoded
    again = tree.cells["LEAF0"].polygons["A"]
    assert again is not leaf and shapely.equals_exact(again, leaf, tolerance=0).all()
    assert shapely.equals_exact(tree.content("TOP", "A"), content, tolerance=0).all()
    tree.forget_polygons()
    third = tree.cells["LEAF0"].polygons["A"]
    assert third is not again and tree.cells["TOP"].polygons["A"] is top  # forgotten again, the top kept


def test_forgetting_visits_only_the_cells_decoded_since(tmp_path, monkeypatch):
    """A worker forgets after each unit of work: it pays for the cells the unit decoded, never
    for every cell of the layout (at 10M shapes, 2,330 cells after each of 2,326 units)."""
    leaves = [{"shapes": [("box", (1, 0), (0, 0, 200, 100 + k))], "labels": [], "refs": []} for k in range(3)]
    refs = [
        {"cell": f"LEAF{k}", "origin": (1000 * k, 0), "quarter": 0, "mirror": False, "rep": "single"} for k in range(3)
    ]
    path = write(
        build({"leaves": leaves, "mids": [], "top": {"shapes": [], "labels": [], "refs": refs}}), tmp_path / "f.gds"
    )
    tree = read_layout(path, LAYERS, top="TOP").tree
    forgotten: list[str] = []
    names = {id(c.polygons): n for n, c in tree.cells.items()}
    monkeypatch.setattr(Polygons, "forget", lambda self: forgotten.append(names[id(self)]))
    tree.cells["LEAF2"].polygons["A"]
    tree.cells["LEAF0"].polygons["A"]
    tree.cells["LEAF0"].polygons["A"]
    tree.forget_polygons()
    assert forgotten == ["LEAF2", "LEAF0"]
    tree.forget_polygons()
    assert forgotten == ["LEAF2", "LEAF0"]  # nothing decoded since
