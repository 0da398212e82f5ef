"""KLayout report database (.lyrdb): open it in KLayout's marker browser over the layout.

One category per rule (description = the rule's doc or check kind), all items in the
top cell, coordinates in um as KLayout's D-types write them: `edge-pair: (x,y;x,y)/(x,y;x,y)`,
`polygon: (x,y;...)`, `edge: (x,y;x,y)`, plus `float: value` when the check measures one.
Waived markers are included with the tag `waived` and the reason as the item comment.
"""

from __future__ import annotations

from typing import TextIO

import xml.etree.ElementTree as ET

from pkgdrc.markers import Marker
from pkgdrc.report.format import num
from pkgdrc.result import Report
from pkgdrc.units import Grid

WAIVED_TAG = "waived"


def _geometry(m: Marker, decimals: int) -> str:
    def _pt(p) -> str:
        return f"{num(p[0], decimals)},{num(p[1], decimals)}"

    if m.edge_pair is not None:
        a, b = m.edge_pair
        return f"edge-pair: ({_pt(a[0])};{_pt(a[1])})/({_pt(b[0])};{_pt(b[1])})"
    if m.edge is not None:
        return f"edge: ({_pt(m.edge[0])};{_pt(m.edge[1])})"
    if m.polygon is not None:
        def ring(pts) -> str:
            pts = pts[:-1] if len(pts) > 1 and pts[0] == pts[-1] else pts
            return ";".join(_pt(p) for p in pts)
        return "polygon: (" + "/".join(ring(r) for r in (m.polygon, *m.holes)) + ")"  # KLayout: holes after '/'
    return f"box: ({_pt(m.bbox[:2])};{_pt(m.bbox[2:])})"


def _category_path(rule_id: str) -> str:
    """KLayout reads '.' in a category name as a sub-category: quote the name."""
    return "'" + rule_id.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    e = ET.SubElement(parent, tag)
    if text is not None:
        e.text = text
    return e


def _item(items: ET.Element, rule_id: str, top: str, decimals: int, m: Marker, comment: str = "",
          waived: bool = False) -> None:
    item = _sub(items, "item")
    _sub(item, "tags", f"#{WAIVED_TAG}" if waived else None)
    _sub(item, "category", _category_path(rule_id))
    _sub(item, "cell", top)
    _sub(item, "visited", "false")
    _sub(item, "multiplicity", "1")
    if comment:
        _sub(item, "comment", comment)
    _sub(item, "image")
    values = _sub(item, "values")
    _sub(values, "value", _geometry(m, decimals))
    if m.value is not None:
        _sub(values, "value", f"float: {m.value!r}")
    if m.message:
        _sub(values, "value", f"text: {m.message}")


def dumps(report: Report) -> str:
    root = ET.Element("report-database")
    _sub(root, "description", f"pkgdrc {report.version}: {report.layout} against deck {report.deck}")
    _sub(root, "original-file", report.layout)
    _sub(root, "generator", f"pkgdrc {report.version}")
    _sub(root, "top-cell", report.top)
    tags = _sub(root, "tags")
    tag = _sub(tags, "tag")
    _sub(tag, "name", WAIVED_TAG)
    _sub(tag, "description", "accepted by a waiver")
    cats = _sub(root, "categories")
    for r in report.rules:
        c = _sub(cats, "category")
        _sub(c, "name", r.id)
        _sub(c, "description", r.doc or f"{r.check} {r.limit}")
        _sub(c, "categories")
    cells = _sub(root, "cells")
    cell = _sub(cells, "cell")
    _sub(cell, "name", report.top)
    _sub(cell, "variant")
    _sub(cell, "layout-name")
    _sub(cell, "references")
    items = _sub(root, "items")
    decimals = Grid(report.dbu_um).decimals
    for r in report.rules:
        for m in r.markers:
            _item(items, r.id, report.top, decimals, m)
        for w in r.waived:
            _item(items, r.id, report.top, decimals, w.marker, f"waived by {w.waiver}: {w.reason}", waived=True)
    ET.indent(root, " ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(report: Report, out: TextIO) -> None:
    """Write the document to a text stream."""
    out.write(dumps(report))
