"""The cached engine: a rule's markers from the cache, updated where the layout changed, or computed.

Per rule (`run_rules`), with the keys of `pkgdrc.cache.keys` and the geometry state of
`pkgdrc.cache.state`:

1. *hit*: the direct key (the rule and the content of every layer it reads) is stored:
   its markers, no work;
2. *updated*: the last run of the rule on this layout file (the latest pointer) left its
   markers and the state of its layers; the shapes that differ (a multiset difference of
   shape hashes) give dirty *cores*, and only the markers whose reference point
   (`tiles.reference_point`) lies in a core are recomputed, on the shapes around them;
3. *fresh*: no usable base, a `whole_layout` kind, a short between labelled nets (`_shorts`), or
   windows holding more than a third of the rule's shapes: the rule runs as without the
   cache (the planner's engine).

Cores, and why the other markers cannot change. Let h be the rule's halo (the tiles' halo:
its reach plus the derived layers' sizing, plus 2 dbu) and `close` the tiles' closure
(grow a box until every shape, old or new, whose box meets it lies inside it; the shapes
are those of the layers the rule reads, labels and nets' layers included). A core is
`close(close(D + h) + h)`, D the box of a cluster of changed shapes (old bounds of removed
shapes, new bounds of added ones; boxes within 2 h of each other form one cluster). A
marker depends on the merged polygon K it lies on (one chain of shapes whose boxes meet),
every polygon Q within h of K, and their nets (chains too). If a changed shape s is among
those, then K (or Q, when s is part of Q, and then K is within h of Q) meets s + h, so
the first closure holds all of K (or Q), and the second holds every polygon within h of
it: both K and Q, and so the marker's reference point, lie in the core. A marker whose
reference point is in no core therefore reads no changed shape, in the old layout as in
the new one (the closure runs over both), and is the same in both. A marker with its
reference point in a core is computed exactly on the window `close(close(core + h) + h)`
(the tiles' argument, over the new layout), and a union of closed windows is closed.
So the new markers = old markers outside the cores + markers found in the windows inside
the cores, sorted as one run sorts them.

Payloads are compact JSON (markers) compressed with zlib and .npz states; nothing is
unpickled. An entry that is missing, truncated or corrupt (the store's checksum; a payload
that does not decode) is a miss, and the rule is computed again.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from pkgdrc import tiles
from pkgdrc.cache.keys import direct_key, label_layers, latest_key, rule_key, rule_layers, state_layers
from pkgdrc.cache.state import LABELS, LayerState, changed, geometry_state
from pkgdrc.cache.store import Store
from pkgdrc.checks import kind_of
from pkgdrc.deck import Deck, Rule
from pkgdrc.flat import rule_result, run_rule
from pkgdrc.geometry.graphs import components
from pkgdrc.geometry.polygons import EMPTY
from pkgdrc.hierarchy import CellTree, place
from pkgdrc.layers import LayerSet
from pkgdrc.layout import Layout
from pkgdrc.markers import Marker
from pkgdrc.result import RuleResult

# Above this share of a rule's shapes in its windows, an update costs about what a full run does.
MAX_DIRTY_SHARE = 1 / 3

# Up to this many boxes, a closure or a window test scans the bounds once per box; more: STRtrees.
FEW = 8

# Kinds whose markers include `Nets.shorts`, and how their messages start (see `_shorts`).
SHORT_MESSAGES = {"connectivity": "short: "}


def encode_markers(markers: list[Marker]) -> bytes:
    text = json.dumps([m.to_dict() for m in markers], separators=(",", ":"), allow_nan=False)
    return zlib.compress(text.encode(), 6)


def decode_markers(data: bytes) -> list[Marker] | None:
    """The markers of `encode_markers`, or None when `data` is not such a payload."""
    try:
        rows = json.loads(zlib.decompress(data))
        return [Marker.from_dict(d) for d in rows]
    except (zlib.error, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


@dataclass
class _Base:
    """The last run of a rule on this layout: its markers and the states of its layers."""

    markers: list[Marker]
    states: dict[str, LayerState]


class _Run:
    """One cached run: the geometry state (hashed once, on first need) and the entries to write."""

    def __init__(self, layout: Layout, deck: Deck, store: Store):
        self.layout, self.deck, self.store = layout, deck, store
        self.state: dict[str, LayerState] = {}
        self.stored_states: set[str] = set()
        self._loaded: dict[str, LayerState] = {}  # base states read from the store, by digest
        self._changed: dict[tuple[str, str], np.ndarray] = {}
        self._trees: dict[str, shapely.STRtree] = {}
        self._strips: dict[str, _Strip] = {}

    def need(self, rules: list[Rule]) -> None:
        """Hash the layers these rules read, once for the run."""
        drawn = sorted({n for r in rules for n in rule_layers(self.deck, r)} - set(self.state))
        labels = sorted(
            {n for r in rules for n in label_layers(self.deck, r)} - {n[: -len(LABELS)] for n in self.state}
        )
        self.state.update(geometry_state(self.layout, drawn, labels))

    def digests(self, rule: Rule) -> dict[str, str]:
        return {n: self.state[n].digest for n in state_layers(self.deck, rule)}

    def base(self, latest: str) -> _Base | None:
        """The base of the latest pointer, or None when any part of it is missing or corrupt."""
        data = self.store.get(latest)
        if data is None:
            return None
        try:
            pointer = json.loads(data)
            direct, digests = pointer["direct"], pointer["states"]
            if not isinstance(direct, str) or not isinstance(digests, dict):
                return None
        except (ValueError, TypeError, KeyError):
            return None
        payload = self.store.get(direct)
        markers = decode_markers(payload) if payload is not None else None
        if markers is None:
            return None
        states = {}
        for name, digest in digests.items():
            now = self.state.get(name)
            if now is not None and now.digest == digest:
                states[name] = now
                continue
            old = self._loaded.get(digest) if isinstance(digest, str) else None
            if old is None:
                raw = self.store.get(digest) if isinstance(digest, str) else None
                old = LayerState.from_bytes(raw, digest) if raw is not None else None
                if old is None:
                    return None
                self._loaded[digest] = old
            states[name] = old
        return _Base(markers, states)

    def changed(self, name: str, base: LayerState) -> np.ndarray:
        """Bounds of the shapes of state layer `name` that differ from `base` (`state.changed`), once per pair."""
        now = self.state[name]
        key = (base.digest, now.digest)
        if key not in self._changed:
            self._changed[key] = changed(base, now)
        return self._changed[key]

    def tree(self, s: LayerState) -> shapely.STRtree:
        """An STRtree over a state's shape boxes, built once per run (rules share layers)."""
        if s.digest not in self._trees:
            self._trees[s.digest] = shapely.STRtree(shapely.box(*s.bounds.T))
        return self._trees[s.digest]

    def strip(self, s: LayerState) -> _Strip:
        """A state's `_Strip`, built once per run."""
        if s.digest not in self._strips:
            self._strips[s.digest] = _Strip.of(s.bounds)
        return self._strips[s.digest]

    def meets(self, s: LayerState, windows: np.ndarray) -> np.ndarray:
        """Per shape of `s`: whether its box meets one of `windows`."""
        if len(windows) <= FEW:
            return _meets_any(s.bounds, windows)
        out = np.zeros(len(s.bounds), bool)
        out[self.tree(s).query(shapely.box(*windows.T))[1]] = True
        return out

    def save(self, rule: Rule, key: str, direct: str, markers: list[Marker]) -> None:
        digests = self.digests(rule)
        self.store.put(direct, encode_markers(markers))
        for name, digest in digests.items():
            if digest not in self.stored_states:
                self.store.put(digest, self.state[name].to_bytes())
                self.stored_states.add(digest)
        pointer = json.dumps({"direct": direct, "states": digests}, sort_keys=True).encode()
        self.store.put(latest_key(key, self.layout.path), pointer)


def run_rules(
    layout: Layout,
    deck: Deck,
    rules: list[Rule],
    store: Store,
    run_fresh: Callable[[list[Rule]], list[RuleResult]],
    on_rule: Callable[[Rule], None] | None = None,
) -> list[RuleResult]:
    """The rules' results, in order: from the cache ("hit"), updated from the last run ("updated"),
    or by `run_fresh` (the rules run without the cache; `cache` None). Every result is stored."""
    run = _Run(layout, deck, store)
    run.need(rules)
    done: dict[str, RuleResult] = {}
    keys: dict[str, tuple[str, str]] = {}
    fresh: list[Rule] = []
    for rule in rules:
        start = time.perf_counter()
        key = rule_key(deck, rule, layout)
        direct = direct_key(key, run.digests(rule))
        keys[rule.id] = (key, direct)
        payload = store.get(direct)
        markers = decode_markers(payload) if payload is not None else None
        status = "hit"
        if markers is None and updatable(deck, rule):
            base = run.base(latest_key(key, layout.path))
            markers = _update(run, rule, base) if base is not None else None
            status = "updated"
        if markers is None:
            fresh.append(rule)
            continue
        if on_rule is not None:
            on_rule(rule)
        result = rule_result(rule, [], layout.grid)
        result.markers, result.cache = markers, status
        result.seconds = time.perf_counter() - start
        done[rule.id] = result
        if status == "updated":
            run.save(rule, key, direct, markers)
    for result in run_fresh(fresh) if fresh else []:
        done[result.id] = result
        rule = next(r for r in fresh if r.id == result.id)
        run.save(rule, *keys[rule.id], result.markers)
    return [done[rule.id] for rule in rules]


def updatable(deck: Deck, rule: Rule) -> bool:
    """Whether a rule's markers may be updated in place: not a `whole_layout` kind."""
    return not kind_of(rule).whole_layout


def _shorts(rule: Rule, markers: list[Marker]) -> bool:
    """Whether `markers` hold a short between labelled nets (`Nets.shorts`).

    A short is a property of its net, but its place (the first place two texts meet)
    follows the numbering of the net's shapes, which shapes far from the net change: not
    local. A rule that reports shorts is updated in place only when neither the base nor
    the recomputed windows have one (then no net anywhere carries two texts, and every
    other marker of the kind is local); else it is computed whole.
    """
    prefix = SHORT_MESSAGES.get(rule.check)
    return prefix is not None and any(m.message.startswith(prefix) for m in markers)


def _update(run: _Run, rule: Rule, base: _Base) -> list[Marker] | None:
    """The rule's markers on the run's layout, from its markers on the base layout, or None
    when the change is too large to be worth it (the caller runs the rule whole)."""
    layout, deck, state = run.layout, run.deck, run.state
    names = state_layers(deck, rule)
    if not names or set(base.states) != set(names):
        return None
    if _shorts(rule, base.markers):
        return None
    moved = np.concatenate([run.changed(n, base.states[n]) for n in names])
    if len(moved) == 0:
        return base.markers
    g = np.array([-1.0, -1.0, 1.0, 1.0]) * (tiles.deck_halo_dbu(layout, deck, [rule]) + 2.0)
    # Closed over old and new shapes: a box closed over more shapes is closed over the new ones too.
    close = _Closure([base.states[n] for n in names] + [state[n] for n in names], run.tree, run.strip)
    cores = close(close(_clusters(moved + g)) + g)
    windows = close(close(cores + g) + g)
    meets = {n: run.meets(state[n], windows) for n in names}
    if sum(int(m.sum()) for m in meets.values()) > MAX_DIRTY_SHARE * sum(len(m) for m in meets.values()):
        return None
    part = _sub_layout(layout, meets, rule_layers(deck, rule))
    found = run_rule(LayerSet(part, deck), rule).markers
    if _shorts(rule, found):
        return None
    inside = _in_cores(found, cores, layout)
    kept = _in_cores(base.markers, cores, layout)
    markers = [m for m, k in zip(found, inside.tolist()) if k]
    markers += [m for m, k in zip(base.markers, kept.tolist()) if not k]
    return sorted(markers, key=Marker.sort_key)


class _Closure:
    """Grow boxes until every shape box (of `states`) meeting one lies inside it (`tiles._close`), in bulk.

    A box's closure is the smallest box holding it that no other shape box meets without
    lying inside, so the order in which boxes grow does not change it. A few boxes grow
    pass by pass over each state's `_Strip` (only the shapes whose x-extent can reach the
    box are looked at); many, with one STRtree query per state and pass."""

    def __init__(
        self,
        states: list[LayerState],
        tree: Callable[[LayerState], shapely.STRtree],
        strip: Callable[[LayerState], _Strip],
    ):
        self.states, self.tree, self.strip = states, tree, strip

    def __call__(self, boxes: np.ndarray) -> np.ndarray:
        if len(boxes) <= FEW:
            strips = [self.strip(s) for s in self.states if len(s.bounds)]
            return np.array([_close_one(strips, b) for b in boxes]).reshape(-1, 4)
        while True:  # one STRtree query per layer and pass
            grown = boxes.copy()
            for s in self.states:
                box, shape = self.tree(s).query(shapely.box(*boxes.T))  # bounding boxes that meet
                for k, fn in ((0, np.minimum), (1, np.minimum), (2, np.maximum), (3, np.maximum)):
                    fn.at(grown[:, k], box, s.bounds[shape, k])
            if np.array_equal(grown, boxes):
                return boxes
            boxes = grown


@dataclass(frozen=True)
class _Strip:
    """A state's shape boxes sorted by their left edge, with the running maximum of their right
    edge: the boxes that can meet an x-interval [x0, x1] are one slice of it."""

    bounds: np.ndarray
    reach: np.ndarray

    @classmethod
    def of(cls, bounds: np.ndarray) -> _Strip:
        b = bounds[np.argsort(bounds[:, 0], kind="stable")]
        return cls(b, np.maximum.accumulate(b[:, 2]))

    def meeting(self, w: np.ndarray) -> np.ndarray:
        """The boxes that meet box `w` (closed: touching counts)."""
        lo = int(np.searchsorted(self.reach, w[0], side="left"))
        hi = int(np.searchsorted(self.bounds[:, 0], w[2], side="right"))
        b = self.bounds[lo:hi]
        return b[(b[:, 2] >= w[0]) & (b[:, 1] <= w[3]) & (b[:, 3] >= w[1])]


def _close_one(strips: list[_Strip], w: np.ndarray) -> np.ndarray:
    while True:
        grown = w.copy()
        for strip in strips:
            hit = strip.meeting(w)
            if len(hit):
                grown[:2] = np.minimum(grown[:2], hit[:, :2].min(axis=0))
                grown[2:] = np.maximum(grown[2:], hit[:, 2:].max(axis=0))
        if np.array_equal(grown, w):
            return w
        w = grown


def _clusters(boxes: np.ndarray) -> np.ndarray:
    """The bounding boxes of the groups of `boxes` that meet, transitively."""
    tree = shapely.STRtree(shapely.box(*boxes.T))
    a, b = tree.query(shapely.box(*boxes.T))
    _, label = components(len(boxes), a, b)
    out = np.empty((label.max() + 1, 4))
    for k, fn, start in (
        (0, np.minimum, np.inf),
        (1, np.minimum, np.inf),
        (2, np.maximum, -np.inf),
        (3, np.maximum, -np.inf),
    ):
        out[:, k] = start
        fn.at(out[:, k], label, boxes[:, k])
    return out


def _meets_any(bounds: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Per box of `bounds`: whether it meets one of `windows`."""
    out = np.zeros(len(bounds), bool)
    if len(windows) > FEW:
        tree = shapely.STRtree(shapely.box(*windows.T))
        hit = tree.query(shapely.box(*bounds.T))[0]  # bounding boxes that meet (points too)
        out[hit] = True
        return out
    for x0, y0, x1, y1 in windows:
        out |= (bounds[:, 0] <= x1) & (bounds[:, 2] >= x0) & (bounds[:, 1] <= y1) & (bounds[:, 3] >= y0)
    return out


def _sub_layout(layout: Layout, meets: dict[str, np.ndarray], drawn: list[str]) -> Layout:
    """The rule's shapes (and labels) whose bounding boxes meet the windows (`meets`: per state
    layer, in the order of the layer's state). A layout read from a file is not flattened: only
    the placements holding such shapes are (`_flatten_where`)."""
    tree = layout.tree
    if tree is not None:
        polygons = {n: _flatten_where(tree, n, meets[n]) for n in drawn if n in meets}
    else:
        polygons = {n: layout.polygons[n][meets[n]] for n in drawn if n in layout.polygons}
    labels = {}
    for name, found in layout.labels.items():
        if name + LABELS in meets:
            labels[name] = [lb for lb, k in zip(found, meets[name + LABELS].tolist()) if k]
    return Layout(layout.path, layout.top, layout.grid, polygons, labels)


def _flatten_where(tree: CellTree, layer: str, keep: np.ndarray) -> np.ndarray:
    """`tree.flatten(layer)[keep]`, placing only the copies of cells that hold a kept shape
    (`keep` in the order of `state.tree_state`)."""
    parts, at = [], 0
    for name, orient in tree.instances().items():
        cell = tree.cells[name]
        count = len(cell.own_state(layer)[0])
        if not count:
            continue
        for m, offs in orient.items():
            block = keep[at : at + count * len(offs)].reshape(len(offs), count)
            at += count * len(offs)
            rows = block.any(axis=1)
            if rows.any():
                parts.append(place(cell.polygons[layer], m, offs[rows])[block[rows].ravel()])
    return np.concatenate(parts) if parts else EMPTY


def _in_cores(markers: list[Marker], cores: np.ndarray, layout: Layout) -> np.ndarray:
    """Per marker: whether its reference point (`tiles.reference_point`, on the grid) lies in a core."""
    if not markers:
        return np.zeros(0, bool)
    ref = np.rint(np.array([tiles.reference_point(m) for m in markers]) / layout.grid.dbu_um)
    return _meets_any(np.hstack([ref, ref]), cores)
