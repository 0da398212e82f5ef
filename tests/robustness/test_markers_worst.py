"""A rule's worst is of one quantity (issue 15 item 6).

A marker whose number is of another quantity than the rule's limit (a count of openings
in a rule about distances) carries no value; the number is in its message.
"""

from __future__ import annotations

import json
from pathlib import Path

import gdstk

import pkgdrc
from cli_run import pkgdrc as run_cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_passivation_worst_is_the_enclosure_not_the_count_of_openings(tmp_path):
    out = run_cli(
        "check",
        FIXTURES / "demo_fowlp.gds",
        "--rule",
        "PO.4",
        "--json",
        tmp_path / "r.json",
    )
    assert out.returncode == 1, out.stderr
    assert "  FAIL  PO.4  passivation: 3 violations, worst 3 vs limit 5\n" in out.stdout
    (rule,) = json.loads((tmp_path / "r.json").read_text())["rules"]
    assert (rule["worst"], rule["limit"]) == (3.0, 5.0)
    assert [(m["bbox"], m["value"], m["message"]) for m in rule["violations"]] == [
        ([20.0, 5000.0, 80.0, 5060.0], None, "UBM on buried metal: no opening"),
        ([3247.0, 2456.0, 3250.0, 2694.0], 3.0, "UBM enclosure"),
        ([5000.0, 2450.0, 5250.0, 2700.0], None, "UBM holds 2 openings"),
    ]


def test_one_to_one_worst_counts_what_a_shape_holds_not_what_holds_a_shape(gds, deck):
    # count 2: A at 0 holds 1 B; the B at 200 lies in no A (it is not a count `count` limits).
    def build(lib, c):
        c.add(
            gdstk.rectangle((0, 0), (100, 100), layer=1),
            gdstk.rectangle((10, 10), (20, 20), layer=2),
            gdstk.rectangle((200, 0), (210, 10), layer=2),
        )

    report = pkgdrc.check(gds(build), deck("O: {check: one_to_one, layer: A, other: B, count: 2}"))
    (rule,) = report.rules
    assert [(m.bbox, m.value, m.message) for m in rule.markers] == [
        ((0.0, 0.0, 100.0, 100.0), 1.0, "holds 1 B, expected 2"),
        ((200.0, 0.0, 210.0, 10.0), None, "B in 0 A shapes, expected 1"),
    ]
    assert (rule.worst, rule.limit) == (1.0, 2.0)
