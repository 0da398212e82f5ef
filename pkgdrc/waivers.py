"""Waivers: accepted violations, written down with a reason.

A waiver file is a YAML list; each entry names a rule and a region:

    - rule: RDL1.S                 # rule id (required)
      box: [100, 200, 140, 260]    # x0, y0, x1, y1 in um ...
      reason: "vendor IP, checked by hand 2026-11"   # (required)
      owner: alice                 # optional
      expires: 2027-03-31          # optional: from the day after, the waiver stops waiving
      layout: "*/top_*.gds"        # optional glob on the layout path: waive only there
    - rule: FO.1
      cell: LOGO                   # ... or every placement of a cell (its bounding box on the deck's layers)
      reason: artwork, not metal
    - rule: DEN.RDL1
      box: [-1e6, -1e6, 1e6, 1e6]  # a region holding the whole layout ...
      scope: all                   # ... must say so: the rule is waived everywhere
      reason: density signed off by the foundry

A waiver's rule must be a rule of the deck (a typo would waive nothing, silently: it is
refused, with the closest rule id). A region that holds the whole layout (every shape
of the top cell; a `cell:` waiver naming the top cell) is refused unless the waiver
says `scope: all`: waiving a rule everywhere is a decision to write down, not an
accident of a large box.

A marker is waived when its bounding box lies inside a waiver's region (edges included)
and the rule matches. Waived markers are reported as waived, not as failures. A waiver
that waives nothing is stale; an expired one waives nothing and is reported as expired.
Regions are matched with an R-tree (the rtree package): one bulk query of all marker
boxes of a rule against the waiver regions.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import json
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import rtree
import shapely
import yaml

from pkgdrc.deck.yamlread import LineDict, read_yaml
from pkgdrc.errors import PkgdrcError
from pkgdrc.layout import Layout
from pkgdrc.report.files import write_atomic
from pkgdrc.report.format import num
from pkgdrc.result import RuleResult, Waived

KEYS = {"rule", "reason", "box", "cell", "owner", "expires", "layout", "scope"}
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True)
class Waiver:
    rule: str
    reason: str
    box: tuple[float, float, float, float] | None = None
    cell: str | None = None
    owner: str = ""
    expires: dt.date | None = None
    layout: str | None = None
    where: str = ""  # FILE:LINE
    scope_all: bool = False  # `scope: all`: may hold the whole layout

    def describe(self) -> str:
        region = f"cell {self.cell}" if self.box is None else "box [" + ", ".join(num(v) for v in self.box) + "]"
        return f"{self.where}: {self.rule} {region} ({self.reason})"

    def applies_to(self, layout_path: str) -> bool:
        if self.layout is None:
            return True
        return fnmatch.fnmatch(layout_path, self.layout) or fnmatch.fnmatch(Path(layout_path).name, self.layout)


def _entry(item: object, path: str, index: int) -> Waiver:
    line = item.line if isinstance(item, LineDict) else None
    if not isinstance(item, dict):
        raise PkgdrcError(
            f"waiver {index + 1}: expected a mapping with rule, box or cell, reason", path=path, line=line
        )

    def where(key: str) -> int | None:
        return item.line_of(key) if isinstance(item, LineDict) else None

    for key in item:
        if key not in KEYS:
            raise PkgdrcError(
                f"unknown waiver key {key!r}; expected one of {', '.join(sorted(KEYS))}", path=path, line=where(key)
            )
    for key in ("rule", "reason"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise PkgdrcError(f"waiver needs {key!r} (text)", path=path, line=line)
    if ("box" in item) == ("cell" in item):
        raise PkgdrcError(
            "waiver needs exactly one region: 'box: [x0, y0, x1, y1]' (um) or 'cell: NAME'", path=path, line=line
        )
    box: tuple[float, float, float, float] | None = None
    if "box" in item:
        b = item["box"]
        ok = (
            isinstance(b, list)
            and len(b) == 4
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b)
        )
        if not ok or b[0] > b[2] or b[1] > b[3]:
            raise PkgdrcError(
                f"box must be [x0, y0, x1, y1] in um with x0 <= x1, y0 <= y1, got {b!r}", path=path, line=where("box")
            )
        box = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
    expires = item.get("expires")
    if isinstance(expires, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", expires):
        # the YAML reader keeps a day the calendar lacks (2026-02-30) as text
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError as e:
            raise PkgdrcError(
                f"{expires} is not a date ({e}); expected YYYY-MM-DD", path=path, line=where("expires")
            ) from None
    if "expires" in item and not isinstance(expires, dt.date):
        raise PkgdrcError("expires must be a date, YYYY-MM-DD", path=path, line=where("expires"))
    for key in ("cell", "owner", "layout"):
        if key in item and not isinstance(item[key], str):
            raise PkgdrcError(f"{key} must be text", path=path, line=where(key))
    if "scope" in item and item["scope"] != "all":
        raise PkgdrcError(
            f"scope must be 'all' (the waiver may hold the whole layout), got {item['scope']!r}",
            path=path,
            line=where("scope"),
        )
    return Waiver(
        item["rule"],
        item["reason"].strip(),
        box,
        item.get("cell"),
        item.get("owner", ""),
        expires,
        item.get("layout"),
        f"{path}:{line}" if line else path,
        "scope" in item,
    )


def load_waivers(path: str | Path) -> list[Waiver]:
    """Read and validate a waiver file; errors name the file and line."""
    path = str(path)
    if not Path(path).is_file():
        raise PkgdrcError("waiver file not found", path=path)
    data = read_yaml(path)
    if data is None:
        return []
    if not isinstance(data, list):
        raise PkgdrcError(
            "a waiver file is a YAML list of entries (- rule: ..., box: ..., reason: ...)", path=path, line=1
        )
    return [_entry(item, path, i) for i, item in enumerate(data)]


def _closest(word: str, options: Collection[str]) -> str:
    """ " (did you mean 'X'?)" for the option closest to `word`, case ignored first."""
    by_case = [o for o in options if o.casefold() == word.casefold()]
    close = by_case or difflib.get_close_matches(word.upper(), [o.upper() for o in options], n=1)
    if not close:
        return ""
    match = next(o for o in options if o.upper() == close[0].upper())
    return f" (did you mean {match!r}?)"


def _place(w: Waiver) -> dict:
    """path= and line= of a waiver, for PkgdrcError."""
    path, _, line = w.where.rpartition(":")
    return {"path": path, "line": int(line)} if line.isdigit() else {"path": w.where}


def check_rules(waivers: list[Waiver], rule_ids: Collection[str], deck: str) -> None:
    """Refuse a waiver whose rule is not in the deck: a typo would waive nothing, silently."""
    for w in waivers:
        if w.rule not in rule_ids:
            raise PkgdrcError(
                f"waiver for rule {w.rule!r}: deck {deck} has no such rule{_closest(w.rule, rule_ids)}", **_place(w)
            )


def layout_extent(layout: Layout) -> tuple[float, float, float, float] | None:
    """The box (um) holding every shape of the flattened top cell, or None when it has none.

    On a layout read with its hierarchy, it is the top cell's content box
    (`CellTree.content_boxes`): nothing is flattened."""
    if layout.tree is not None:
        top = layout.tree.content_boxes().get(layout.tree.top)
        b = np.zeros((0, 4)) if top is None else top.reshape(1, 4)
    else:
        b = np.asarray([shapely.total_bounds(p) for p in layout.polygons.values() if len(p)]).reshape(-1, 4)
    if not len(b):
        return None
    return tuple((np.r_[b[:, :2].min(axis=0), b[:, 2:].max(axis=0)] * layout.grid.dbu_um).tolist())


def _refuse_whole_layout(waivers: list[Waiver], layout: Layout) -> None:
    """A waiver whose region holds the whole layout needs `scope: all` (see the module doc)."""
    broad = [w for w in waivers if not w.scope_all and (w.box is not None or w.cell == layout.top)]
    extent = layout_extent(layout) if any(w.box is not None for w in broad) else None
    tol = layout.grid.dbu_um / 2
    for w in broad:
        if w.cell == layout.top:
            region = f"cell {w.cell} is the top cell"
        elif (
            w.box is not None
            and extent is not None
            and w.box[0] <= extent[0] + tol
            and w.box[1] <= extent[1] + tol
            and w.box[2] >= extent[2] - tol
            and w.box[3] >= extent[3] - tol
        ):
            region = "box holds the whole layout [" + ", ".join(num(v) for v in extent) + "]"
        else:
            continue
        raise PkgdrcError(
            f"waiver for {w.rule}: its {region}; write 'scope: all' in it to waive {w.rule} everywhere", **_place(w)
        )


def cell_boxes(layout: Layout, cells: set[str]) -> dict[str, np.ndarray]:
    """Bounding boxes (um, (K, 4)) of every placement of each named cell in the flattened top.

    A cell's box holds its content (its shapes and those of the cells it places) on the
    layers the deck reads, taken from the hierarchy the reading child returned
    (`Layout.tree`): the file is not read again, and rotations, reflections, arrays and
    nesting are applied as for the geometry (`hierarchy.place_box`). A cell the top does not
    place, or without shapes on those layers, has no box (its waiver is stale).
    """
    if layout.tree is None:
        raise PkgdrcError(
            "a cell waiver needs the layout's cell hierarchy, and this layout was built from polygons: use box waivers",
            path=layout.path,
        )
    content = layout.tree.content_boxes()
    found = {name: np.zeros((0, 4)) for name in cells}
    for name in cells & content.keys():
        found[name] = layout.tree.placed_boxes(name, content[name]) * layout.grid.dbu_um
    return found


def apply_waivers(
    results: list[RuleResult], waivers: list[Waiver], layout: Layout, today: dt.date | None = None
) -> tuple[list[str], list[str]]:
    """Move waived markers from `markers` to `waived` in each result.

    Returns (stale, expired): descriptions of waivers that waived nothing, and of those
    past their date (which waive nothing). Only waivers for rules in `results` and for
    this layout are considered.
    """
    today = today or dt.date.today()
    run = {r.id for r in results}
    mine = [w for w in waivers if w.rule in run and w.applies_to(layout.path)]
    expired = [w for w in mine if w.expires is not None and w.expires < today]
    active = [w for w in mine if w not in expired]
    _refuse_whole_layout(active, layout)
    boxes = cell_boxes(layout, {w.cell for w in active if w.cell}) if any(w.cell for w in active) else {}
    regions: list[tuple[float, ...]] = []
    owner: list[int] = []
    for k, w in enumerate(active):
        found = boxes[w.cell] if w.cell is not None else np.asarray([w.box])
        regions.extend(map(tuple, found))
        owner.extend([k] * len(found))
    used = np.zeros(len(active), dtype=bool)
    tol = layout.grid.dbu_um / 2
    for result in results:
        mask = np.asarray([active[k].rule == result.id for k in owner], dtype=bool)
        if not result.markers or not mask.any():
            continue
        ids = np.flatnonzero(mask)
        region = np.asarray(regions, dtype=np.float64)[ids]
        index = rtree.index.Index(((i, tuple(b), None) for i, b in enumerate(region)))
        m = np.asarray([mk.bbox for mk in result.markers], dtype=np.float64)
        hits, counts = (a.astype(np.int64) for a in index.intersection_v(m[:, :2], m[:, 2:]))
        marker = np.repeat(np.arange(len(m)), counts)
        r = region[hits]
        inside = (
            (r[:, 0] <= m[marker, 0] + tol)
            & (r[:, 1] <= m[marker, 1] + tol)
            & (r[:, 2] >= m[marker, 2] - tol)
            & (r[:, 3] >= m[marker, 3] - tol)
        )
        marker, waiver = marker[inside], np.asarray(owner)[ids[hits[inside]]]
        order = np.lexsort((waiver, marker))  # per marker, the first waiver in file order wins
        marker, waiver = marker[order], waiver[order]
        marker, first = np.unique(marker, return_index=True)
        waiver = waiver[first]
        used[waiver] = True
        result.waived = [
            Waived(result.markers[mi], active[wi].reason, active[wi].owner, active[wi].where)
            for mi, wi in zip(marker.tolist(), waiver.tolist())
        ]
        keep = np.ones(len(m), dtype=bool)
        keep[marker] = False
        result.markers = [mk for mk, k in zip(result.markers, keep) if k]
    stale = [w.describe() for w, u in zip(active, used) if not u]
    return stale, [f"{w.describe()} expired {w.expires}" for w in expired]


def _is_box(b: object) -> bool:
    """[x0, y0, x1, y1]: finite numbers with x0 <= x1, y0 <= y1."""
    return (
        isinstance(b, list)
        and len(b) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in b)
        and b[0] <= b[2]
        and b[1] <= b[3]
    )


def load_report(path: str) -> dict:
    """Read the JSON report `pkgdrc waive` makes waivers from; what is not one is refused,
    naming the file and the place in it (rules[2].violations[0].bbox)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise PkgdrcError(f"cannot read JSON report: {e}", path=path) from None
    if not isinstance(data, dict) or data.get("tool") != "pkgdrc":
        raise PkgdrcError("not a pkgdrc JSON report (from pkgdrc check --json)", path=path)

    def bad(place: str, expected: str):
        return PkgdrcError(f"not a pkgdrc JSON report: {place}: expected {expected}", path=path)

    if not isinstance(data.get("layout"), str):
        raise bad("layout", "the layout's path (text)")
    if not isinstance(data.get("rules"), list):
        raise bad("rules", "a list of rules")
    for i, r in enumerate(data["rules"]):
        if not isinstance(r, dict) or not isinstance(r.get("id"), str):
            raise bad(f"rules[{i}]", "a rule with an id (text)")
        if not isinstance(r.get("violations"), list):
            raise bad(f"rules[{i}].violations", "a list of markers")
        for k, m in enumerate(r["violations"]):
            if not _is_box(m.get("bbox") if isinstance(m, dict) else None):
                raise bad(f"rules[{i}].violations[{k}].bbox", "[x0, y0, x1, y1] in um with x0 <= x1, y0 <= y1")
    return data


def waiver_entries(
    report: dict, rules: list[str], reason: str, owner: str = "", expires: dt.date | None = None
) -> list[dict]:
    """Waiver entries for the (unwaived) markers of a JSON report (`load_report`), one per marker's box."""
    known = {r["id"] for r in report.get("rules", [])}
    for rule in rules:
        if rule not in known:
            raise PkgdrcError(f"no rule {rule!r} in the report; rules: {', '.join(sorted(known))}")
    out = []
    for r in report.get("rules", []):
        if rules and r["id"] not in rules:
            continue
        for v in r.get("violations", []):
            entry = {"rule": r["id"], "box": list(v["bbox"]), "reason": reason, "layout": report["layout"]}
            if owner:
                entry["owner"] = owner
            if expires:
                entry["expires"] = expires
            out.append(entry)
    return out


def append_waivers(path: str | Path, entries: list[dict], note: str) -> int:
    """Append entries to a waiver file (created if missing), skipping ones already there.

    The file stays a YAML list, and what is in it (comments included) is kept.
    Returns how many entries were written.
    """
    path = Path(path)
    existing = load_waivers(path) if path.is_file() else []
    have = {(w.rule, w.box, w.layout) for w in existing}
    new = [e for e in entries if (e["rule"], tuple(map(float, e["box"])), e.get("layout")) not in have]
    if not new:
        return 0
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    text += f"# {note}\n" + yaml.safe_dump(new, sort_keys=False, default_flow_style=None, width=120)

    def fill(out: TextIO) -> None:
        out.write(text)

    write_atomic(str(path), fill)
    return len(new)
