"""The JSON report (read by other tools: keep the names).

Markers are sorted and coordinates rounded to the layout grid, so identical inputs give
byte-identical files apart from `summary.seconds` and each rule's `seconds`, and, with the
result cache, the per-rule `cache` ("hit", "updated" or null) and `summary.cache` (rule
results from the cache, how many of them updated; null when the run used no cache).

Each rule says which `engine` ran it (`pkgdrc.plan`) and its `seconds`: the time the run
spent on it, 3 decimals (rules checked together on several processes share the phase's
wall time in proportion to their work, `pkgdrc.flat.share_wall_time`; a cache hit takes
the time of reading it), so per-rule scaling can be read from one report.

Each rule has a `status`: "failed" (markers), "empty" (no markers, but an input layer of
the rule has no shape in the layout: nothing was checked; the layers are in
`empty_inputs`) or "passed". The summary counts the empty rules (`empty_rules`) and lists
the layout's layers with shapes that no deck layer maps (`unmapped`).

`write` streams the document: markers are encoded in chunks of CHUNK, never the whole
document as one string. Its output is exactly `json.dumps(to_dict(report), indent=indent)`
(with the compact separators "," and ":" when `indent` is None) plus a newline.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from typing import TextIO

from pkgdrc.markers import Marker
from pkgdrc.result import Report, RuleResult, Waived

CHUNK = 4096  # markers encoded per json.dumps call


def _waived(w: Waived) -> dict:
    return {**w.marker.to_dict(), "reason": w.reason, "owner": w.owner, "waiver": w.waiver}


def _doc(
    report: Report, violations: Callable[[int, RuleResult], object], waived: Callable[[int, RuleResult], object]
) -> dict:
    return {
        "tool": report.tool,
        "version": report.version,
        "deck": report.deck,
        "layout": report.layout,
        "top": report.top,
        "units": "um",
        "dbu": report.dbu_um,
        "summary": {
            "rules": len(report.rules),
            "violations": report.violations,
            "empty_rules": len(report.empty),
            "seconds": report.seconds,
            "shapes": report.shapes,
            "repaired": report.repaired,
            "dropped": report.dropped,
            "empty_layers": report.empty_layers,
            "unmapped": [
                {"layer": layer, "datatype": datatype, "shapes": shapes} for layer, datatype, shapes in report.unmapped
            ],
            "warnings": report.warnings,
            "waived": report.waived,
            "stale_waivers": report.stale_waivers,
            "expired_waivers": report.expired_waivers,
            "cache": {"rules": report.from_cache, "updated": report.updated} if report.cached else None,
        },
        "rules": [
            {
                "id": r.id,
                "check": r.check,
                "doc": r.doc,
                "limit": r.limit,
                "layers": r.layers,
                "status": r.status,
                "empty_inputs": r.empty_inputs,
                "count": len(r.markers),
                "worst": r.worst,
                "engine": r.engine,
                "seconds": round(r.seconds, 3),
                "cache": r.cache,
                "violations": violations(k, r),
                "waived": waived(k, r),
            }
            for k, r in enumerate(report.rules)
        ],
    }


def to_dict(report: Report) -> dict:
    """The whole document as Python data (for callers that combine documents)."""
    return _doc(report, lambda k, r: [m.to_dict() for m in r.markers], lambda k, r: [_waived(w) for w in r.waived])


def _separators(indent: int | None) -> tuple[str, str]:
    return (",", ":") if indent is None else (",", ": ")


def _chunks(items: list, encode: Callable) -> Iterator[list[dict]]:
    for start in range(0, len(items), CHUNK):
        yield [encode(x) for x in items[start : start + CHUNK]]


def _write_list(out: TextIO, chunks: Iterator[list[dict]], indent: int | None, depth: int) -> None:
    """Write a JSON list exactly as json.dumps lays it out at nesting `depth`, chunk by chunk."""
    pad = "\n" + " " * (indent * depth) if indent is not None else ""
    close = f"{pad}]"
    first = True
    for chunk in chunks:
        text = json.dumps(chunk, indent=indent, separators=_separators(indent), allow_nan=False)
        if pad:
            text = text.replace("\n", pad)  # JSON strings hold no raw newline: only layout ones
        out.write(("[" if first else ",") + text[1 : len(text) - len(close)])
        first = False
    out.write("[]" if first else close)


def write(report: Report, out: TextIO, indent: int | None = None) -> None:
    """Stream the document into a text stream; compact unless `indent` (spaces per level) is given."""
    token = f"pkgdrc-{secrets.token_hex(8)}"  # placeholders for the marker lists, unique to this call
    skeleton = _doc(report, lambda k, r: f"{token}-v{k}", lambda k, r: f"{token}-w{k}")
    text = json.dumps(skeleton, indent=indent, separators=_separators(indent), allow_nan=False)
    parts = re.split(f'"{token}-([vw])(\\d+)"', text)
    out.write(parts[0])
    for i in range(1, len(parts), 3):
        kind, rule = parts[i], report.rules[int(parts[i + 1])]
        line = parts[i - 1][parts[i - 1].rfind("\n") + 1 :]
        depth = (len(line) - len(line.lstrip(" "))) // indent if indent else 0
        if kind == "v":
            _write_list(out, _chunks(rule.markers, Marker.to_dict), indent, depth)
        else:
            _write_list(out, _chunks(rule.waived, _waived), indent, depth)
        out.write(parts[i + 2])
    out.write("\n")


def dumps(report: Report, indent: int | None = None) -> str:
    """The document as one string (small reports, tests); `write` streams it."""
    return json.dumps(to_dict(report), indent=indent, separators=_separators(indent), allow_nan=False) + "\n"
