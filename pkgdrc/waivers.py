"""Waivers: accepted violations, written down with a reason.

A waiver file is a YAML list; each entry names a rule and a region:

    - rule: RDL1.S                 # rule id (required)
      box: [100, 200, 140, 260]    # x0, y0, x1, y1 in um ...
      reason: "vendor IP, checked by hand 2026-11"   # (required)
      owner: alice                 # optional
      expires: 2027-03-31          # optional: from the day after, the waiver stops waiving
      layout: "*/top_*.gds"        # optional glob on the layout path: waive only there
    - rule: FO.1
      cell: LOGO                   # ... or every placement of a cell (its bounding box)
      reason: artwork, not metal

A marker is waived when its bounding box lies inside a waiver's region (edges included)
and the rule matches. Waived markers are reported as waived, not as failures. A waiver
that waives nothing is stale; an expired one waives nothing and is reported as expired.
Regions are matched with an R-tree (the rtree package): one bulk query of all marker
boxes of a rule against the waiver regions.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import gdstk
import numpy as np
import rtree
import yaml

from pkgdrc.deck.yamlread import LineDict, read_yaml
from pkgdrc.errors import PkgdrcError
from pkgdrc.layout import Layout, _sniff
from pkgdrc.report.files import write_atomic
from pkgdrc.report.format import num
from pkgdrc.result import RuleResult, Waived

KEYS = {"rule", "reason", "box", "cell", "owner", "expires", "layout"}


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

    def describe(self) -> str:
        region = f"cell {self.cell}" if self.cell else "box [" + ", ".join(num(v) for v in self.box) + "]"
        return f"{self.where}: {self.rule} {region} ({self.reason})"

    def applies_to(self, layout_path: str) -> bool:
        if self.layout is None:
            return True
        return fnmatch.fnmatch(layout_path, self.layout) or fnmatch.fnmatch(Path(layout_path).name, self.layout)


def _entry(item: object, path: str, index: int) -> Waiver:
    line = item.line if isinstance(item, LineDict) else None
    if not isinstance(item, dict):
        raise PkgdrcError(f"waiver {index + 1}: expected a mapping with rule, box or cell, reason",
                          path=path, line=line)
    where = lambda key: item.line_of(key) if isinstance(item, LineDict) else None  # noqa: E731
    for key in item:
        if key not in KEYS:
            raise PkgdrcError(f"unknown waiver key {key!r}; expected one of {', '.join(sorted(KEYS))}",
                              path=path, line=where(key))
    for key in ("rule", "reason"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise PkgdrcError(f"waiver needs {key!r} (text)", path=path, line=line)
    if ("box" in item) == ("cell" in item):
        raise PkgdrcError("waiver needs exactly one region: 'box: [x0, y0, x1, y1]' (um) or 'cell: NAME'",
                          path=path, line=line)
    box = None
    if "box" in item:
        b = item["box"]
        ok = isinstance(b, list) and len(b) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                        for v in b)
        if not ok or b[0] > b[2] or b[1] > b[3]:
            raise PkgdrcError(f"box must be [x0, y0, x1, y1] in um with x0 <= x1, y0 <= y1, got {b!r}",
                              path=path, line=where("box"))
        box = tuple(float(v) for v in b)
    expires = item.get("expires")
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            expires = None
            item["expires"] = "bad"
    if "expires" in item and not isinstance(expires, dt.date):
        raise PkgdrcError("expires must be a date, YYYY-MM-DD", path=path, line=where("expires"))
    for key in ("cell", "owner", "layout"):
        if key in item and not isinstance(item[key], str):
            raise PkgdrcError(f"{key} must be text", path=path, line=where(key))
    return Waiver(item["rule"], item["reason"].strip(), box, item.get("cell"), item.get("owner", ""),
                  expires, item.get("layout"), f"{path}:{line}" if line else path)


def load_waivers(path: str | Path) -> list[Waiver]:
    """Read and validate a waiver file; errors name the file and line."""
    path = str(path)
    if not Path(path).is_file():
        raise PkgdrcError("waiver file not found", path=path)
    data = read_yaml(path)
    if data is None:
        return []
    if not isinstance(data, list):
        raise PkgdrcError("a waiver file is a YAML list of entries (- rule: ..., box: ..., reason: ...)",
                          path=path, line=1)
    return [_entry(item, path, i) for i, item in enumerate(data)]


def cell_boxes(layout_path: str, top: str, cells: set[str]) -> dict[str, np.ndarray]:
    """Bounding boxes (um, (K, 4)) of every placement of each named cell in the flattened top.

    Reads the library again (only when a waiver names a cell, and after the run has read it
    safely): each named cell's content is
    replaced by its bounding box on an unused layer, and the top is flattened by gdstk, so
    rotations, reflections, arrays and nesting are applied exactly as for the geometry.
    """
    path = Path(layout_path)  # already read once, safely, in a child process (pkgdrc.safe_read)
    lib = gdstk.read_oas(str(path)) if _sniff(path) == "oasis" else gdstk.read_gds(str(path))
    by_name = {c.name: c for c in lib.cells}
    spare = max((layer for layer, _ in lib.layers_and_datatypes()), default=0) + 1
    order = sorted(cells)
    for k, name in enumerate(order):
        cell = by_name.get(name)
        bb = cell.bounding_box() if cell is not None else None
        if bb is not None:
            cell.remove(*cell.polygons, *cell.paths, *cell.references, *cell.labels)
            cell.add(gdstk.rectangle(*bb, layer=spare, datatype=k))  # datatype k = cell order[k]
    found = {name: np.zeros((0, 4)) for name in cells}
    for k, name in enumerate(order):
        placed = by_name[top].get_polygons(apply_repetitions=True, depth=None, layer=spare, datatype=k)
        if placed:
            pts = np.stack([p.points for p in placed]) * (lib.unit / 1e-6)  # rectangles: 4 points each
            found[name] = np.hstack([pts.min(axis=1), pts.max(axis=1)])
    return found


def apply_waivers(results: list[RuleResult], waivers: list[Waiver], layout: Layout,
                  today: dt.date | None = None) -> tuple[list[str], list[str]]:
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
    boxes = cell_boxes(layout.path, layout.top, {w.cell for w in active if w.cell}) \
        if any(w.cell for w in active) else {}
    regions, owner = [], []
    for k, w in enumerate(active):
        found = np.asarray([w.box]) if w.box else boxes.get(w.cell, np.zeros((0, 4)))
        regions.extend(map(tuple, found))
        owner.extend([k] * len(found))
    used = np.zeros(len(active), dtype=bool)
    tol = layout.grid.dbu_um / 2
    for result in results:
        mask = np.asarray([active[k].rule == result.id for k in owner], dtype=bool)
        if not result.markers or not mask.any():
            continue
        ids = np.flatnonzero(mask)
        region = np.asarray(regions, float)[ids]
        index = rtree.index.Index(((i, tuple(b), None) for i, b in enumerate(region)))
        m = np.asarray([mk.bbox for mk in result.markers], float)
        hits, counts = (a.astype(np.int64) for a in index.intersection_v(m[:, :2], m[:, 2:]))
        marker = np.repeat(np.arange(len(m)), counts)
        r = region[hits]
        inside = ((r[:, 0] <= m[marker, 0] + tol) & (r[:, 1] <= m[marker, 1] + tol)
                  & (r[:, 2] >= m[marker, 2] - tol) & (r[:, 3] >= m[marker, 3] - tol))
        marker, waiver = marker[inside], np.asarray(owner)[ids[hits[inside]]]
        order = np.lexsort((waiver, marker))  # per marker, the first waiver in file order wins
        marker, waiver = marker[order], waiver[order]
        marker, first = np.unique(marker, return_index=True)
        waiver = waiver[first]
        used[waiver] = True
        result.waived = [Waived(result.markers[mi], active[wi].reason, active[wi].owner, active[wi].where)
                         for mi, wi in zip(marker.tolist(), waiver.tolist())]
        keep = np.ones(len(m), dtype=bool)
        keep[marker] = False
        result.markers = [mk for mk, k in zip(result.markers, keep) if k]
    stale = [w.describe() for w, u in zip(active, used) if not u]
    return stale, [f"{w.describe()} expired {w.expires.isoformat()}" for w in expired]


def waiver_entries(report: dict, rules: list[str], reason: str, owner: str = "",
                   expires: dt.date | None = None) -> list[dict]:
    """Waiver entries for the (unwaived) markers of a JSON report, one per marker's box."""
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
    write_atomic(str(path), lambda out: out.write(text))
    return len(new)
