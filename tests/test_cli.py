"""The command line as a user runs it: exit codes, stdout, stderr, the JSON report."""

from __future__ import annotations

import json
import re
import sys

import gdstk

from cli_run import pkgdrc

# The geometric rules of the acceptance deck; its package rules (density, connectivity...)
# need a whole package and have their own tests.
GEOMETRIC = [
    "RDL1.W",
    "RDL2.W",
    "RDL1.S",
    "RDL2.S",
    "VIA1.EN.PAD",
    "VIA1.EN.RDL",
    "VIA2.EN.BOT",
    "VIA2.EN.TOP",
    "FO.1",
    "FO.2",
    "FO.3",
    "PO.1",
    "PO.2",
    "PO.3",
    "ANG.1",
]
ONLY_GEOMETRIC = [a for rid in GEOMETRIC for a in ("--rule", rid)]


def _package(lib, c, bad=True):
    c.add(gdstk.rectangle((0, 0), (1000, 1000), layer=0))  # PKG
    c.add(gdstk.rectangle((100, 100), (200, 101.6 if bad else 102), layer=11))  # RDL1 trace


def test_exit_1_with_violations_and_a_text_summary(gds, tmp_path):
    path = gds(_package)
    out = tmp_path / "r.json"
    p = pkgdrc("check", path, "--json", out, *ONLY_GEOMETRIC)
    assert p.returncode == 1, p.stderr
    assert "FAIL  RDL1.W" in p.stdout and "worst 1.6 vs limit 2" in p.stdout
    assert "at (150, 100.8) um bbox [100, 100, 200, 101.6] on RDL1 value 1.6" in p.stdout
    report = json.loads(out.read_text())
    assert report["tool"] == "pkgdrc" and report["deck"] == "fowlp-2l" and report["top"] == "TOP"
    assert report["units"] == "um" and report["summary"]["violations"] == 1
    (rule,) = [r for r in report["rules"] if r["violations"]]
    assert rule["id"] == "RDL1.W" and rule["limit"] == 2.0
    (marker,) = rule["violations"]
    assert {k: marker[k] for k in ("bbox", "value", "layer")} == {
        "bbox": [100.0, 100.0, 200.0, 101.6],
        "value": 1.6,
        "layer": "RDL1",
    }
    assert sorted(marker["edge_pair"]) == [[[100.0, 101.6], [200.0, 101.6]], [[200.0, 100.0], [100.0, 100.0]]]


def test_exit_0_when_clean_and_quiet_prints_nothing(gds):
    path = gds(lambda lib, c: _package(lib, c, bad=False))
    p = pkgdrc("check", path, "--deck", "fowlp-2l", "--quiet", "--rule", "RDL1.W", "--rule", "RDL1.S")
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")


def test_json_is_byte_identical_across_runs_apart_from_seconds(gds, tmp_path):
    path = gds(_package)
    texts = []
    for i in range(2):
        pkgdrc("check", path, "--json", tmp_path / f"{i}.json", "--quiet", "--no-cache", *ONLY_GEOMETRIC)
        data = json.loads((tmp_path / f"{i}.json").read_text())
        data["summary"]["seconds"] = 0
        for rule in data["rules"]:
            assert isinstance(rule.pop("seconds"), float)
        texts.append(json.dumps(data))
    assert texts[0] == texts[1]


def test_user_errors_exit_2_with_one_line_and_no_traceback(gds, tmp_path):
    path = gds(_package)
    bad_deck = tmp_path / "bad.yaml"
    bad_deck.write_text("name: x\nlayers:\n  A: 1/0\nrules:\n  R: {check: widht, layer: A, min: 1}\n")
    cases = [
        (["check", tmp_path / "missing.gds"], "layout file not found"),
        (["check", path, "--deck", bad_deck], "bad.yaml:5: rule R: unknown check kind 'widht'"),
        (["check", path, "--top", "NOPE"], "top cell 'NOPE' not found"),
        (["check", path, "--json", tmp_path / "no" / "such" / "r.json"], "does not exist"),
        (["check", path, "--rule", "RDL9.W"], "no rule 'RDL9.W'"),
        (["explain", "NOPE.1"], "no rule 'NOPE.1'"),
    ]
    for args, message in cases:
        p = pkgdrc(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert message in p.stderr, (args, p.stderr)
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_not_a_layout(tmp_path):
    junk = tmp_path / "junk.gds"
    junk.write_bytes(b"hello, not a layout")
    p = pkgdrc("check", junk)
    assert p.returncode == 2 and "not a GDSII or OASIS file" in p.stderr


def test_rules_and_explain_document_every_rule():
    p = pkgdrc("rules", "--deck", "fowlp-2l")
    assert p.returncode == 0
    for rid in ["RDL1.W", "VIA1.EN.PAD", "FO.1", "ANG.1"]:
        assert rid in p.stdout
    assert "RDL1 minimum line width" in p.stdout
    p = pkgdrc("explain", "RDL1.S")
    assert p.returncode == 0 and "RDL1 minimum space, notches included" in p.stdout and "notch" in p.stdout
    p = pkgdrc("explain", "enclosure")
    assert p.returncode == 0 and "not covered by" in p.stdout


def test_run_only_selected_rules(gds):
    p = pkgdrc("check", gds(_package), "--rule", "RDL1.S", "--rule", "ANG.1", "--allow-empty")
    assert p.returncode == 0 and "RDL1.W" not in p.stdout and "ok    RDL1.S" in p.stdout
    assert "EMPTY ANG.1   angle [0, 45, 90, 135]: no shape on RDL2, nothing checked" in p.stdout


def test_flat_gives_the_same_reports_as_checking_each_cell_once(tmp_path):
    """A panel of repeated packages (benchmarks/generate.py, planted violations included): the
    whole fowlp-2l deck through the CLI, cell by cell (default) and `--flat`, writes the same
    JSON, lyrdb and JUnit reports, apart from the run time."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from generate import generate

    path = tmp_path / "panel.gds"
    generate(15000, seed=3).write_gds(str(path))  # 2 x 2 packages, one kind with planted violations
    reports = {}
    for how in ("cells", "flat"):
        out = tmp_path / how
        out.mkdir()
        p = pkgdrc(
            "check",
            path,
            "--json",
            out / "r.json",
            "--lyrdb",
            out / "r.lyrdb",
            "--junit",
            out / "r.xml",
            "--quiet",
            "--jobs",
            "1",
            "--no-cache",  # both engines run: the second run would otherwise come from the cache
            *(["--flat"] if how == "flat" else []),
        )
        assert p.returncode == 1, p.stderr
        data = json.loads((out / "r.json").read_text())
        data["summary"]["seconds"] = 0
        engines = {r.pop("engine") for r in data["rules"]}
        assert all(r.pop("seconds") >= 0 for r in data["rules"])
        assert engines == ({"cellwise", "flat"} if how == "cells" else {"flat"})
        junit = re.sub(r'(time|timestamp)="[^"]*"', "", (out / "r.xml").read_text())
        reports[how] = (data, (out / "r.lyrdb").read_text(), junit)
    assert reports["cells"] == reports["flat"]
    counts = {r["id"]: len(r["violations"]) for r in reports["flat"][0]["rules"]}
    assert all(counts[r] > 0 for r in ("RDL1.W", "RDL1.S", "RDL2.W", "VIA2.EN.BOT", "FO.1", "ANG.1"))
