"""Differential harness: run one check with KLayout (klayout.db) and with pkgdrc on the same GDS.

A case is plain data (JSON-able), coordinates and limits in database units (1 dbu = 1 nm):

    {"name": ..., "check": "width"|"space"|"separation"|"enclosure"|"overlap"|"inside"|"area"|"angle",
     "params": {"min": 2000} | {"clearance": 500} | {"allowed": [0, 45, 90, 135]},
     "layers": {"A": [[[x, y], ...], ...], "B": [...]},          # drawn in the top cell
     "refs": [{"layers": {...}, "origin": [x, y], "rotation": 90, "x_reflection": false}]}

`write_gds` draws it (refs become instances of their own cell); `klayout_result` and
`pkgdrc_result` read that file back, each with its own reader (KLayout's layers merged
first, see `_region`), and return the same
normalized form: {"edge_pairs": [[e1, e2, value]], "polygons": [[ring]], "edges": [[p, q]]}
in dbu. `compare` lists every item of one side not covered by the other (1 dbu tolerance).

KLayout options are set explicitly (the 0.30 defaults, which pkgdrc follows): Euclidean
metric, whole_edges false, ignore_angle 90 (facing edges only), shielded true,
zero_distance_mode IncludeZeroDistanceWhenTouching.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gdstk
import klayout.db as kdb
import numpy as np
import shapely

import pkgdrc

DBU_UM = 0.001
LAYER_NUMBERS = {"A": (1, 0), "B": (2, 0)}
SECOND_LAYER = {"separation": "other", "overlap": "other", "enclosure": "by", "inside": "of"}
CHECK_KINDS = ("width", "space", "separation", "enclosure", "overlap", "inside", "area", "angle")
TOL = 1.0  # dbu, per coordinate


# ---------------------------------------------------------------------------- GDS


def _cell_from(name: str, layers: dict) -> gdstk.Cell:
    cell = gdstk.Cell(name)
    for lname, polys in layers.items():
        layer, datatype = LAYER_NUMBERS[lname]
        for pts in polys:
            cell.add(gdstk.Polygon([(x * DBU_UM, y * DBU_UM) for x, y in pts], layer=layer, datatype=datatype))
    return cell


def write_gds(case: dict, directory: Path) -> Path:
    """The case as a GDSII file (unit 1 um, 1 nm grid); refs become cell instances."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = _cell_from("TOP", case.get("layers", {}))
    for k, ref in enumerate(case.get("refs", [])):
        child = _cell_from(f"C{k}", ref["layers"])
        lib.add(child)
        ox, oy = ref.get("origin", (0, 0))
        top.add(
            gdstk.Reference(
                child,
                (ox * DBU_UM, oy * DBU_UM),
                rotation=np.radians(ref.get("rotation", 0)),
                x_reflection=bool(ref.get("x_reflection", False)),
            )
        )
    lib.add(top)
    drawn = {k: case[k] for k in ("check", "params", "layers", "refs") if k in case}
    digest = hashlib.sha1(json.dumps(drawn, sort_keys=True).encode()).hexdigest()[:12]
    path = Path(directory) / f"{digest}.gds"
    lib.write_gds(str(path))
    return path


# ---------------------------------------------------------------------------- KLayout

ZD = kdb.ZeroDistanceMode.IncludeZeroDistanceWhenTouching


def _options() -> dict:
    return dict(
        whole_edges=False,
        metrics=kdb.Metrics.Euclidian,
        ignore_angle=90,
        min_projection=None,
        max_projection=None,
        shielded=True,
        zero_distance_mode=ZD,
    )


def _two_layer_options() -> dict:
    return dict(
        _options(), opposite_filter=kdb.Region.NoOppositeFilter, rect_filter=kdb.Region.NoRectFilter, negative=False
    )


def _region(layout: kdb.Layout, top: kdb.Cell, name: str, min_coherence: bool = False) -> kdb.Region:
    """The layer merged. KLayout 0.30's two-layer checks do not merge their first layer
    themselves (overlapping drawn shapes give pairs on inner edges), so every input is
    merged here; the first layer of a two-layer check with min_coherence (parts touching
    at a point stay apart), which is how those checks take it polygon by polygon."""
    layer, datatype = LAYER_NUMBERS[name]
    index = layout.find_layer(layer, datatype)
    region = kdb.Region() if index is None else kdb.Region(top.begin_shapes_rec(index))
    return region.merged(min_coherence, 0)


def _edge(e) -> list:
    return [[e.p1.x, e.p1.y], [e.p2.x, e.p2.y]]


def _distance(ep) -> float:
    """EdgePair.distance, except for a pair with a point-like edge: KLayout's Edge.distance
    of a degenerate edge is 0 ("without a reasonable result"), so measure it here."""
    if not (ep.first.is_degenerate() or ep.second.is_degenerate()):
        return ep.distance()
    lines = [
        shapely.LineString(_edge(e)) if not e.is_degenerate() else shapely.Point(e.p1.x, e.p1.y)
        for e in (ep.first, ep.second)
    ]
    return round(float(shapely.distance(*lines)), 3)


def _polygons(region: kdb.Region, with_area: bool = False) -> list:
    # Hulls only: pkgdrc polygon markers carry the outer ring (areas still count holes).
    return [
        {"hull": [[q.x, q.y] for q in p.each_point_hull()], "value": p.area() if with_area else None}
        for p in region.each()
    ]


def klayout_result(gds: Path, case: dict) -> dict:
    """KLayout's answer for the case, normalized (dbu)."""
    layout = kdb.Layout()
    layout.read(str(gds))
    assert abs(layout.dbu - DBU_UM) < 1e-12
    top = layout.top_cell()
    kind, p = case["check"], case["params"]
    a = _region(layout, top, "A", min_coherence=kind in ("separation", "enclosure", "overlap"))
    b = _region(layout, top, "B")
    out = {"edge_pairs": [], "polygons": [], "edges": []}
    pairs = None
    if kind == "width":
        pairs = a.width_check(p["min"], **_options(), negative=False)
    elif kind == "space":
        pairs = a.space_check(p["min"], **_two_layer_options())
    elif kind == "separation":
        pairs = a.separation_check(b, p["min"], **_two_layer_options())
    elif kind == "overlap":
        pairs = a.overlap_check(b, p["min"], **_two_layer_options())
    elif kind == "enclosure":
        pairs = a.enclosed_check(b, p["min"], **_two_layer_options())
        out["polygons"] = _polygons(a - b)
    elif kind == "inside":
        out["polygons"] = _polygons(a - b.sized(-p["clearance"]))
    elif kind == "area":
        out["polygons"] = _polygons(a.with_area(None, p["min"], False), with_area=True)
    elif kind == "angle":
        edges = a.edges()
        for angle in p["allowed"]:
            angle = angle % 180 - (180 if angle % 180 > 90 else 0)  # KLayout measures in (-90, 90]
            edges = edges.with_angle(angle, True)
        out["edges"] = [_edge(e) for e in edges.each()]
    if pairs is not None:
        out["edge_pairs"] = [[_edge(ep.first), _edge(ep.second), _distance(ep)] for ep in pairs.each()]
    # KLayout's output order varies between runs; store a canonical order.
    return {k: sorted(v, key=json.dumps) for k, v in out.items()}


# ---------------------------------------------------------------------------- pkgdrc


def deck_text(case: dict) -> str:
    """A one-rule pkgdrc deck for the case (limits converted dbu -> um)."""
    kind, p = case["check"], case["params"]
    params = {"layer": "A"}
    if kind in SECOND_LAYER:
        params[SECOND_LAYER[kind]] = "B"
    if kind in ("width", "space", "separation", "overlap", "enclosure"):
        params["min"] = p["min"] * DBU_UM
    elif kind == "inside":
        params["clearance"] = p["clearance"] * DBU_UM
    elif kind == "area":
        params["min"] = p["min"] * DBU_UM**2
    elif kind == "angle":
        params["allowed"] = list(p["allowed"])
    body = ", ".join(f"{k}: {v!r}" if isinstance(v, float) else f"{k}: {v}" for k, v in params.items())
    return f"name: crosscheck\nunits: um\nlayers:\n  A: 1/0\n  B: 2/0\nrules:\n  R: {{check: {kind}, {body}}}\n"


def pkgdrc_result(gds: Path, case: dict) -> dict:
    """pkgdrc's answer for the case through the public API and a generated deck, normalized (dbu)."""
    deck = Path(gds).with_suffix(".yaml")
    deck.write_text(deck_text(case))
    report = pkgdrc.check(gds, deck=deck, top="TOP")
    out = {"edge_pairs": [], "polygons": [], "edges": []}
    scale = 1.0 / DBU_UM
    for m in report.rules[0].markers:
        if m.edge_pair is not None:
            e1, e2 = (np.rint(np.asarray(e) * scale).tolist() for e in m.edge_pair)
            out["edge_pairs"].append([e1, e2, m.value * scale])
        elif m.edge is not None:
            out["edges"].append(np.rint(np.asarray(m.edge) * scale).tolist())
        elif m.polygon is not None:
            value = None if m.value is None else (m.value * scale * scale if case["check"] == "area" else m.value)
            out["polygons"].append({"hull": np.rint(np.asarray(m.polygon) * scale).tolist(), "value": value})
    return out


# ---------------------------------------------------------------------------- comparison


def _same_edge(e, f) -> bool:
    e, f = np.asarray(e, float), np.asarray(f, float)
    return bool(np.abs(e - f).max() <= TOL or np.abs(e - f[::-1]).max() <= TOL)


def _pair_covered(pair, others) -> bool:
    e1, e2, v = pair
    for f1, f2, w in others:
        if abs(v - w) <= TOL and (
            (_same_edge(e1, f1) and _same_edge(e2, f2)) or (_same_edge(e1, f2) and _same_edge(e2, f1))
        ):
            return True
    return False


def _region_of(polys: list) -> shapely.Geometry:
    shapes = [shapely.Polygon(p["hull"]) for p in polys]
    return shapely.union_all(shapes) if shapes else shapely.Polygon()


def compare(klayout: dict, ours: dict) -> list[str]:
    """Human-readable disagreements (empty when pkgdrc and KLayout agree)."""
    out = []
    for pair in klayout["edge_pairs"]:
        if not _pair_covered(pair, ours["edge_pairs"]):
            out.append(f"missed by pkgdrc: edge pair {pair}")
    for pair in ours["edge_pairs"]:
        if not _pair_covered(pair, klayout["edge_pairs"]):
            out.append(f"extra in pkgdrc: edge pair {pair}")
    for e in klayout["edges"]:
        if not any(_same_edge(e, f) for f in ours["edges"]):
            out.append(f"missed by pkgdrc: edge {e}")
    for e in ours["edges"]:
        if not any(_same_edge(e, f) for f in klayout["edges"]):
            out.append(f"extra in pkgdrc: edge {e}")
    ka, oa = _region_of(klayout["polygons"]), _region_of(ours["polygons"])
    # Within one dbu per coordinate (a vertex rounded the other way is sqrt(2) off).
    reach = TOL * 2**0.5 + 1e-6
    if not (ka.difference(oa.buffer(reach)).is_empty and oa.difference(ka.buffer(reach)).is_empty):
        out.append(f"polygon regions differ: klayout {ka.wkt} pkgdrc {oa.wkt}")
    # Distinct values: pkgdrc marks each polygon of a corner-touching group with the
    # group's area, KLayout has one polygon for the group.
    kv = sorted({p["value"] for p in klayout["polygons"] if p["value"] is not None})
    ov = sorted({p["value"] for p in ours["polygons"] if p["value"] is not None})
    if len(kv) != len(ov) or any(abs(x - y) > TOL + 1e-6 for x, y in zip(kv, ov)):
        out.append(f"polygon values differ: klayout {kv} pkgdrc {ov}")
    return out


def crosscheck(case: dict, directory: Path) -> tuple[dict, dict, list[str]]:
    """(KLayout's answer, pkgdrc's answer, disagreements) for one case."""
    gds = write_gds(case, directory)
    k = klayout_result(gds, case)
    o = pkgdrc_result(gds, case)
    return k, o, compare(k, o)
