"""The cache never changes a report (issue 18): for every checked fixture layout with its deck, and
every bundled deck, a run with an empty cache, a run with the warm cache (a new Store on the same
folder, as the next `pkgdrc check` opens it) and a run without cache write the same JSON, JUnit and
lyrdb, byte for byte, once the timings and the cache fields are taken out.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

import pkgdrc
from pkgdrc.cache.store import Store
from pkgdrc.deck import bundled_decks
from pkgdrc.report import json_report, junit, lyrdb, text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# In the compact JSON: the summary's seconds and cache, each rule's seconds and cache.
TIMING = re.compile(r',"seconds":[-0-9.e]+|,"cache":(null|"hit"|"updated"|\{"rules":\d+,"updated":\d+\})')


def cases() -> list[tuple[str, str, str | None]]:
    """(layout, deck, top) of every fixture `pkgdrc check` reads (assembly parts are checked by
    `pkgdrc assembly`, which uses no cache)."""
    out: dict[str, tuple[str, str, str | None]] = {}
    for spec in sorted(FIXTURES.glob("*.expected.json")):
        d = json.loads(spec.read_text())
        out[d["layout"]] = (d["layout"], d["deck"], d.get("top"))
    out["hierarchy.oas"] = ("hierarchy.oas", "fowlp-2l", out["hierarchy.gds"][2])
    for deck in bundled_decks():
        for name in (f"{deck}.gds", f"{deck}_fail_all.gds"):
            if (FIXTURES / name).exists():
                out[name] = (name, deck, None)
    for layout in sorted(FIXTURES.glob("pkg_*.gds")):
        out[layout.name] = (layout.name, str(FIXTURES / "pkg_deck.yaml"), None)
    return sorted(out.values())


def test_the_cases_cover_every_bundled_deck_and_fixture_layout():
    layouts = {c[0] for c in cases()}
    checked = {p.name for p in FIXTURES.glob("*.gds")} | {p.name for p in FIXTURES.glob("*.oas")}
    assert checked - layouts == {p.name for p in FIXTURES.glob("assembly_*.gds")}
    assert set(bundled_decks()) <= {c[1] for c in cases()}


def reports(report: pkgdrc.Report) -> dict[str, str]:
    """JSON, JUnit and lyrdb of a report as written, without timings and cache fields."""
    doc, cut = TIMING.subn("", json_report.dumps(report))
    assert cut == 2 + 2 * len(report.rules)  # the summary's seconds and cache, each rule's seconds and cache
    out = io.StringIO()
    lyrdb.write(report, out)
    return {
        "json": doc,
        "junit": re.sub(r' time="[^"]*"', "", junit.dumps([report])),
        "lyrdb": out.getvalue(),
    }


@pytest.mark.parametrize(("layout", "deck", "top"), cases(), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_cold_warm_and_uncached_runs_write_the_same_reports(layout, deck, top, tmp_path):
    path = FIXTURES / layout
    plain = pkgdrc.check(path, deck, top=top, allow_empty=True)
    cold = pkgdrc.check(path, deck, top=top, allow_empty=True, cache=Store(tmp_path / "c"))
    warm = pkgdrc.check(path, deck, top=top, allow_empty=True, cache=Store(tmp_path / "c"))
    assert [r.cache for r in plain.rules] == [None] * len(plain.rules)
    assert [r.cache for r in cold.rules] == [None] * len(cold.rules)
    assert [r.cache for r in warm.rules] == ["hit"] * len(warm.rules)
    assert reports(cold) == reports(plain)
    assert reports(warm) == reports(plain)
    n = len(plain.rules)
    assert f"  cache: {n} of {n} rule result{'s' if n != 1 else ''} from the cache (0 updated)\n" in text.render(warm)
    assert "cache:" not in text.render(plain)
    assert json.loads(json_report.dumps(warm))["summary"]["cache"] == {"rules": n, "updated": 0}
    assert json.loads(json_report.dumps(plain))["summary"]["cache"] is None
