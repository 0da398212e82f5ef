"""The cached engine (pkgdrc/incremental.py) and its parts: shape hashes and state differences
(pkgdrc/cache/state.py), marker payloads (Marker.from_dict), an edit updated in place, and
faults (a corrupt result, state or pointer entry is recomputed with the right markers).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gdstk
import numpy as np
import pytest
import shapely

import pkgdrc
from pkgdrc import tiles
from pkgdrc.cache import keys
from pkgdrc.cache.state import LayerState, changed, layer_state
from pkgdrc.cache.store import Store
from pkgdrc.decks import load_deck
from pkgdrc.geometry.hashing import label_hashes, polygon_hashes
from pkgdrc.incremental import FEW, _Closure, decode_markers, encode_markers
from pkgdrc.layout import read_layout
from pkgdrc.report import json_report, text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO = FIXTURES / "demo_fowlp.gds"


def box(x0, y0, x1, y1):
    return shapely.box(x0, y0, x1, y1)


def test_a_shape_hash_sees_every_vertex_and_hole_and_a_digest_ignores_order():
    a, b = box(0, 0, 10, 10), box(0, 0, 10, 11)
    holed = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (4, 2), (4, 4), (2, 4)]])
    h = polygon_hashes(np.array([a, b, holed, box(0, 0, 10, 10)], dtype=object))
    assert h.dtype == np.uint64 and h.shape == (4, 2)
    assert (h[0] == h[3]).all()
    assert len({tuple(x) for x in h[:3].tolist()}) == 3
    assert layer_state(np.array([a, b], dtype=object)).digest == layer_state(np.array([b, a], dtype=object)).digest
    assert layer_state(np.array([a, a], dtype=object)).digest != layer_state(np.array([a], dtype=object)).digest


def test_a_label_hash_sees_its_text_and_place():
    h, bounds = label_hashes([("VDD", 5.0, 7.0), ("VSS", 5.0, 7.0), ("VDD", 5.0, 8.0), ("VDD", 5.0, 7.0)])
    assert (h[0] == h[3]).all() and len({tuple(x) for x in h[:3].tolist()}) == 3
    assert bounds[0].tolist() == [5.0, 7.0, 5.0, 7.0]


def test_changed_is_a_multiset_difference_with_old_and_new_bounds():
    a, b, c = box(0, 0, 1, 1), box(5, 5, 6, 6), box(9, 9, 12, 12)
    base = layer_state(np.array([a, a, b], dtype=object))
    now = layer_state(np.array([c, a], dtype=object))
    got = sorted(map(tuple, changed(base, now).tolist()))
    assert got == [(0, 0, 1, 1), (5, 5, 6, 6), (9, 9, 12, 12)]
    assert len(changed(now, now)) == 0


def test_a_state_payload_round_trips_and_a_damaged_one_is_refused():
    state = layer_state(np.array([box(0, 0, 1, 1), box(2, 0, 3, 5)], dtype=object))
    data = state.to_bytes()
    back = LayerState.from_bytes(data, state.digest)
    assert back is not None and (back.hashes == state.hashes).all() and (back.bounds == state.bounds).all()
    assert LayerState.from_bytes(data[: len(data) // 2], state.digest) is None
    assert LayerState.from_bytes(data, "0" * 32) is None  # not the state it claims to be
    assert LayerState.from_bytes(b"garbage", state.digest) is None


def test_markers_round_trip_exactly_through_a_payload():
    report = pkgdrc.check(FIXTURES / "mcm-stacked_fail_all.gds", "mcm-stacked")
    report2 = pkgdrc.check(FIXTURES / "pkg_passivation.gds", FIXTURES / "pkg_deck.yaml")
    markers = [m for r in report.rules + report2.rules for m in r.markers]
    kinds = {("edge_pair" if m.edge_pair else "edge" if m.edge else "polygon") for m in markers}
    assert kinds >= {"edge_pair", "polygon"}
    back = decode_markers(encode_markers(markers))
    assert back is not None and [m.sort_key() for m in back] == [m.sort_key() for m in markers]
    assert decode_markers(b"not zlib") is None
    assert decode_markers(b"x\x9c" + b"\x00" * 5) is None


def moved_copy(src: Path, dst: Path, dx: float) -> None:
    """`src` with the first RDL2 (13/0) polygon of the top cell moved by dx um."""
    lib = gdstk.read_gds(str(src))
    top = next(c for c in lib.cells if c.name == "PKG_TOP")
    poly = next(p for p in top.polygons if (p.layer, p.datatype) == (13, 0))
    poly.translate(dx, 0)
    lib.write_gds(str(dst))


def markers(report) -> dict[str, list[dict]]:
    return {r.id: [m.to_dict() for m in r.markers] for r in report.rules}


def test_an_edit_updates_the_rules_that_read_the_edited_layer(tmp_path):
    path = tmp_path / "demo.gds"
    shutil.copy(DEMO, path)
    store = Store(tmp_path / "cache")
    before = pkgdrc.check(path, "fowlp-2l", cache=store)
    moved_copy(DEMO, path, 3.0)
    after = pkgdrc.check(path, "fowlp-2l", cache=Store(tmp_path / "cache"))
    fresh = pkgdrc.check(path, "fowlp-2l")
    assert markers(after) == markers(fresh)
    assert markers(before) != markers(fresh)  # the edit changed markers, and the update found that
    deck = load_deck("fowlp-2l")
    status = {r.id: r.cache for r in after.rules}
    for rule in deck.rules:  # rules that do not read RDL2 come from the cache as they were
        assert (status[rule.id] == "hit") == ("RDL2" not in keys.rule_layers(deck, rule)), rule.id
    # the rest is updated, or computed whole when the package outline pulls every shape into the window
    assert {k: v for k, v in status.items() if v != "hit"} == UPDATED
    assert "\n  cache: 19 of 23 rule results from the cache (7 updated)\n" in text.render(after)
    assert json.loads(json_report.dumps(after))["summary"]["cache"] == {"rules": 19, "updated": 7}


# On demo_fowlp, after moving one RDL2 polygon of the top cell: FO.1 (inside PKG), FO.4 (fanout
# from the die) and DEN.RDL2 (windows over PKG) read the package outline, whose window is the
# whole package, and CONN.1 has a short between labelled nets (R01 and R02), whose place is not
# local (`incremental._shorts`): they run whole.
UPDATED = {
    **dict.fromkeys(["RDL2.W", "RDL2.S", "VIA2.EN.TOP", "PO.1", "ANG.1", "VIA2.L", "TW.1"], "updated"),
    **dict.fromkeys(["FO.1", "FO.4", "DEN.RDL2", "CONN.1"]),
}


def entry(store: Store, key: str) -> Path:
    return store.root / key[:2] / key


@pytest.mark.parametrize("damage", ["truncated result", "garbage result", "garbage state", "garbage pointer"])
def test_a_damaged_entry_is_recomputed_with_the_right_markers(tmp_path, damage):
    path = tmp_path / "demo.gds"
    shutil.copy(DEMO, path)
    pkgdrc.check(path, "fowlp-2l", cache=Store(tmp_path / "cache"))
    store = Store(tmp_path / "cache")
    deck = load_deck("fowlp-2l")
    layout = read_layout(path, deck.layers, label_map=deck.labels)
    pointers = [keys.latest_key(keys.rule_key(deck, rule, layout), str(path)) for rule in deck.rules]
    targets = [json.loads(store.get(p) or b"{}") for p in pointers]
    if damage == "truncated result":
        for t in targets:
            f = entry(store, t["direct"])
            f.write_bytes(f.read_bytes()[:-7])
    elif damage == "garbage result":
        for t in targets:
            store.put(t["direct"], b"\x78\x9cgarbage")
    else:
        moved_copy(DEMO, path, 3.0)  # a base is needed: the update reads the pointer and the states
        for t, p in zip(targets, pointers):
            if damage == "garbage state":
                for digest in t["states"].values():
                    store.put(digest, b"PK\x03\x04 not an npz")
            else:
                store.put(p, b'{"direct": 5}')
    got = pkgdrc.check(path, "fowlp-2l", cache=Store(tmp_path / "cache"))
    fresh = pkgdrc.check(path, "fowlp-2l")
    assert markers(got) == markers(fresh)
    if damage in ("truncated result", "garbage result"):
        assert [r.cache for r in got.rules] == [None] * len(got.rules)  # recomputed whole: no base markers
    else:
        assert "updated" not in [r.cache for r in got.rules]  # no usable base: recomputed whole
    again = pkgdrc.check(path, "fowlp-2l", cache=Store(tmp_path / "cache"))
    assert [r.cache for r in again.rules] == ["hit"] * len(again.rules)  # the damage was replaced
    assert markers(again) == markers(fresh)


def test_the_bulk_closure_equals_closing_each_box_alone():
    rng = np.random.default_rng(5)
    lo = rng.integers(0, 10_000, size=(3000, 2)).astype(float)
    bounds = np.hstack([lo, lo + rng.integers(1, 400, size=(3000, 2))])
    boxes = np.hstack([lo[:40] - 50, lo[:40] + 50])
    one_by_one = np.array([tiles._close(bounds, b) for b in boxes])
    halves = [
        LayerState.of(polygon_hashes(np.array([box(*b) for b in part], dtype=object)), part)
        for part in (bounds[:1000], bounds[1000:])
    ]
    bulk = _Closure(halves, lambda s: shapely.STRtree(shapely.box(*s.bounds.T)))
    assert len(boxes) > FEW
    assert (bulk(boxes) == one_by_one).all()
    assert (one_by_one[:, :2] <= boxes[:, :2]).all() and (one_by_one != boxes).any()
