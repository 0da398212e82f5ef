"""KLayout report database (.lyrdb): open it in KLayout's marker browser over the layout.

One category per rule (description = the rule's doc or check kind), all items in the
top cell, coordinates in um as KLayout's D-types write them: `edge-pair: (x,y;x,y)/(x,y;x,y)`,
`polygon: (x,y;...)`, `edge: (x,y;x,y)`, plus `float: value` when the check measures one
and `text: 'message'` when the marker has a message (quoted as KLayout's own writer
quotes it, so that the whole message comes back). Waived markers are included with the
tag `waived` and the reason as the item comment. Characters XML 1.0 cannot hold (control
characters in a cell name or rule id) are written as visible escapes (`format.xml_text`).

The file is streamed item by item into the output (the layout is that of
`xml.etree.ElementTree.indent(root, " ")`); no whole-document string is built.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import TextIO

from pkgdrc.markers import Marker
from pkgdrc.report.format import num, xml_text
from pkgdrc.result import Report
from pkgdrc.units import Grid

WAIVED_TAG = "waived"
CHUNK = 2048  # items written per out.write call


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


_WORD = re.compile(r"[A-Za-z0-9_.$]+")
_BYTE_ESCAPES = {ord("\\"): "\\\\", ord("'"): "\\'", ord("\n"): "\\n", ord("\t"): "\\t", ord("\r"): "\\r"}


def klayout_quoted(s: str) -> str:
    """A string as KLayout writes a text value (tl::to_word_or_quoted_string): a word of
    letters, digits and `_.$` as is; anything else in single quotes, with \\\\ \\' \\n \\t \\r
    and every other byte outside printable ASCII (UTF-8 bytes too) as a 3-digit octal escape.

    >>> klayout_quoted("short: nets R01 and R02 meet")
    "'short: nets R01 and R02 meet'"
    >>> klayout_quoted("R01"), klayout_quoted("it's")
    ('R01', "'it\\\\'s'")
    """
    if _WORD.fullmatch(s):
        return s
    out = []
    for b in s.encode("utf-8", "backslashreplace"):  # lone surrogates: a visible \\udcXX, as in xml_text
        if b in _BYTE_ESCAPES:
            out.append(_BYTE_ESCAPES[b])
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03o}")
    return "'" + "".join(out) + "'"


def _category_path(rule_id: str) -> str:
    """KLayout reads '.' in a category name as a sub-category: quote the name."""
    return "'" + rule_id.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _x(s: str) -> str:
    """Element text: XML-safe characters, then & < > escaped (as ElementTree writes text)."""
    return xml_text(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _element(tag: str, text: str, pad: str) -> str:
    return f"{pad}<{tag}>{_x(text)}</{tag}>\n" if text else f"{pad}<{tag} />\n"


def _item(category: str, cell: str, decimals: int, m: Marker, comment: str = "", waived: bool = False) -> str:
    p = "   "
    values = [f"    <value>{_x(_geometry(m, decimals))}</value>\n"]
    if m.value is not None:
        values.append(f"    <value>float: {m.value!r}</value>\n")
    if m.message:
        values.append(f"    <value>{_x('text: ' + klayout_quoted(m.message))}</value>\n")
    return (
        "  <item>\n"
        + (f"{p}<tags>#{WAIVED_TAG}</tags>\n" if waived else f"{p}<tags />\n")
        + f"{p}<category>{category}</category>\n{p}<cell>{cell}</cell>\n"
        + f"{p}<visited>false</visited>\n{p}<multiplicity>1</multiplicity>\n"
        + (f"{p}<comment>{_x(comment)}</comment>\n" if comment else "")
        + f"{p}<image />\n{p}<values>\n"
        + "".join(values)
        + f"{p}</values>\n  </item>\n"
    )


def _items(report: Report) -> Iterator[str]:
    decimals = Grid(report.dbu_um).decimals
    cell = _x(report.top)
    for r in report.rules:
        category = _x(_category_path(xml_text(r.id)))
        for m in r.markers:
            yield _item(category, cell, decimals, m)
        for w in r.waived:
            yield _item(category, cell, decimals, w.marker, f"waived by {w.waiver}: {w.reason}", waived=True)


def write(report: Report, out: TextIO) -> None:
    """Stream the database into a text stream."""
    head = [
        '<?xml version="1.0" encoding="utf-8"?>\n<report-database>\n',
        _element("description", f"pkgdrc {report.version}: {report.layout} against deck {report.deck}", " "),
        _element("original-file", report.layout, " "),
        _element("generator", f"pkgdrc {report.version}", " "),
        _element("top-cell", report.top, " "),
        (
            f" <tags>\n  <tag>\n   <name>{WAIVED_TAG}</name>\n   <description>accepted by a waiver</description>\n"
            "  </tag>\n </tags>\n"
        ),
    ]
    if report.rules:
        head.append(" <categories>\n")
        for r in report.rules:
            head += [
                "  <category>\n",
                _element("name", r.id, "   "),
                _element("description", r.doc or f"{r.check} {r.limit}", "   "),
                "   <categories />\n  </category>\n",
            ]
        head.append(" </categories>\n")
    else:
        head.append(" <categories />\n")
    head += [
        " <cells>\n  <cell>\n",
        _element("name", report.top, "   "),
        "   <variant />\n   <layout-name />\n   <references />\n  </cell>\n </cells>\n",
    ]
    out.write("".join(head))
    batch: list[str] = []
    started = False
    for item in _items(report):
        batch.append(item)
        if len(batch) == CHUNK:
            out.write(("" if started else " <items>\n") + "".join(batch))
            started, batch = True, []
    if started or batch:
        out.write(("" if started else " <items>\n") + "".join(batch) + " </items>\n")
    else:
        out.write(" <items />\n")
    out.write("</report-database>\n")


def dumps(report: Report) -> str:
    """The database as one string (small reports, tests); `write` streams it."""
    out = io.StringIO()
    write(report, out)
    return out.getvalue()
