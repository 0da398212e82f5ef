"""Every fixture in fixtures/*.expected.json that lists "markers" is checked end to end.

The expected files are written by fixtures/make_fixtures.py from the drawn geometry
(not from a checker run). Format:

    {"layout": "NAME.gds", "deck": "fowlp-2l", "top": "TOPCELL",
     "rules": ["RDL1.W", "RDL2.W"],             # optional: run only these rules
     "markers": [{"rule": "RDL1.W", "layer": "RDL1", "bbox": [x0, y0, x1, y1], "value": 1.6}, ...],
     "partial_rules": ["VIA2.EN.BOT"]}          # optional

The run (of "rules" when given, else of the whole deck) must produce exactly the listed
multiset of (rule, layer, bbox, value), within 0.001 um on every coordinate and value
(value null = a marker without a measurement), except for rules named in
"partial_rules", whose listed markers must be present but which may report more.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pkgdrc

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOL = 1e-3


def _marker_fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*.expected.json") if "markers" in json.loads(p.read_text()))


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOL


def _same(exp: dict, got: dict) -> bool:
    return (
        exp["rule"] == got["rule"]
        and exp["layer"] == got["layer"]
        and all(_close(x, y) for x, y in zip(exp["bbox"], got["bbox"]))
        and _close(exp["value"], got["value"])
    )


def _fmt(m: dict) -> str:
    v = "None" if m["value"] is None else f"{m['value']:.6g}"
    box = ", ".join(f"{c:.3f}" for c in m["bbox"])
    return f"{m['rule']:12s} {m['layer']:8s} [{box}] value={v}"


def _run(spec: dict) -> list[dict]:
    report = pkgdrc.check(FIXTURES / spec["layout"], deck=spec["deck"], top=spec.get("top"), rules=spec.get("rules"))
    if "rules" in spec:  # the run is exactly the named rules, every one of them
        assert [r.id for r in report.rules] == spec["rules"]
    out = []
    for rule in report.rules:
        for m in rule.markers:
            out.append(
                {
                    "rule": rule.id,
                    "layer": m.layer,
                    "bbox": [float(c) for c in m.bbox],
                    "value": None if m.value is None else float(m.value),
                }
            )
    return out


@pytest.mark.parametrize("expected_file", _marker_fixtures(), ids=lambda p: p.name.split(".")[0])
def test_fixture_markers(expected_file: Path) -> None:
    spec = json.loads(expected_file.read_text())
    partial = set(spec.get("partial_rules", []))
    got = _run(spec)
    missing = []
    unmatched = list(got)
    for exp in spec["markers"]:
        hit = next((g for g in unmatched if _same(exp, g)), None)
        if hit is None:
            missing.append(exp)
        else:
            unmatched.remove(hit)
    extra = [g for g in unmatched if g["rule"] not in partial]
    lines = []
    if missing:
        lines.append("expected but not reported:")
        lines += ["  " + _fmt(m) for m in missing]
    if extra:
        lines.append("reported but not expected:")
        lines += ["  " + _fmt(m) for m in extra]
    assert not lines, f"{spec['layout']}:\n" + "\n".join(lines)


def test_fixture_files_present() -> None:
    """Each expected file names a layout that exists (catches a stale regeneration)."""
    files = sorted(FIXTURES.glob("*.expected.json"))
    assert files
    for f in files:
        spec = json.loads(f.read_text())
        for name in spec.get("layouts", [spec["layout"]]):
            assert (FIXTURES / name).is_file(), f"{f.name}: {name} missing"
