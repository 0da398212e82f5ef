"""The JSON report (read by other tools: keep the names).

Markers are sorted and coordinates rounded to the layout grid, so identical inputs give
byte-identical files apart from `summary.seconds`.
"""

from __future__ import annotations

from typing import TextIO

import json

from pkgdrc.result import Report


def to_dict(report: Report) -> dict:
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
            "seconds": report.seconds,
            "shapes": report.shapes,
            "repaired": report.repaired,
            "dropped": report.dropped,
            "empty_layers": report.empty_layers,
            "warnings": report.warnings,
            "waived": report.waived,
            "stale_waivers": report.stale_waivers,
            "expired_waivers": report.expired_waivers,
        },
        "rules": [
            {"id": r.id, "check": r.check, "doc": r.doc, "limit": r.limit, "layers": r.layers,
             "count": len(r.markers), "worst": r.worst,
             "violations": [m.to_dict() for m in r.markers],
             "waived": [{**w.marker.to_dict(), "reason": w.reason, "owner": w.owner, "waiver": w.waiver}
                        for w in r.waived]}
            for r in report.rules
        ],
    }


def dumps(report: Report) -> str:
    return json.dumps(to_dict(report), indent=1, allow_nan=False) + "\n"  # strict JSON: no Infinity/NaN


def write(report: Report, out: TextIO) -> None:
    """Write the document to a text stream."""
    out.write(dumps(report))
