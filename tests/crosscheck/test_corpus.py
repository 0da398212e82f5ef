"""The fixed corpus of classic traps: pkgdrc against KLayout's stored answer, and the answers kept current."""

from __future__ import annotations

import json

import pytest
from corpus import CASES
from klayout_ref import CHECK_KINDS, compare, pkgdrc_result, write_gds
from update_corpus import ANSWERS, derive, dump

STORED = json.loads(ANSWERS.read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_pkgdrc_agrees_with_klayout(case, tmp_path):
    """Every pair and polygon agrees, or differs exactly as the case's `differs` explains."""
    ours = pkgdrc_result(write_gds(case, tmp_path), case)
    assert compare(STORED[case["name"]], ours) == case.get("differs", {}).get("diff", [])


def test_stored_klayout_answers_are_current():
    assert dump(derive()) == ANSWERS.read_text(), "run python tests/crosscheck/update_corpus.py"


def test_corpus_covers_every_kind_with_at_least_30_cases():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)) >= 30
    assert {c["check"] for c in CASES} == set(CHECK_KINDS)


def test_a_corpus_case_that_disagrees_is_caught(tmp_path):
    # The comparison itself can fail: a pkgdrc answer with one edge pair moved by 2 dbu.
    case = next(c for c in CASES if c["name"] == "width_one_dbu_under")
    ours = pkgdrc_result(write_gds(case, tmp_path), case)
    ((e1, e2, value),) = ours["edge_pairs"]
    moved = dict(ours, edge_pairs=[[[[x + 2, y] for x, y in e1], e2, value]])
    assert len(compare(STORED[case["name"]], moved)) == 2
