"""JSON and lyrdb reports are streamed (issue 14): written in chunks into the output, the
same bytes as the whole document made at once; JSON compact unless an indent is asked for."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from klayout import rdb

import pkgdrc
from pkgdrc.cli import main
from pkgdrc.report import json_report, lyrdb
from pkgdrc.result import Waived

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo_fowlp.gds"


class _Chunks(io.StringIO):
    """A text stream that records each write."""

    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


@pytest.fixture(scope="module")
def report():
    r = pkgdrc.check(DEMO)
    via = next(x for x in r.rules if x.id == "VIA1.L")
    via.waived = [Waived(m, "reason", "ana", "w.yaml:3") for m in via.markers[:2]]
    via.markers = via.markers[2:]
    r.unmapped = [(11, 0, 5)]
    return r


@pytest.mark.parametrize("indent", [None, 1, 2])
def test_json_stream_is_the_document_in_chunks(report, monkeypatch, indent):
    monkeypatch.setattr(json_report, "CHUNK", 1)  # one marker per encoding: the seams are everywhere
    out = _Chunks()
    json_report.write(report, out, indent=indent)
    separators = (",", ":") if indent is None else (",", ": ")
    assert out.getvalue() == json.dumps(json_report.to_dict(report), indent=indent, separators=separators) + "\n"
    assert out.writes > report.violations  # written marker by marker, not as one string


def test_json_is_compact_by_default_and_indent_1_is_the_former_layout(tmp_path, report):
    result = CliRunner().invoke(main, ["check", str(DEMO), "--json", str(tmp_path / "r.json"), "-q"])
    assert (result.exit_code, result.stderr) == (1, "")
    text = (tmp_path / "r.json").read_text()
    assert "\n" not in text[:-1] and text.startswith('{"tool":"pkgdrc","version":')
    data = json.loads(text)
    assert data["summary"]["violations"] == 20
    out = io.StringIO()
    json_report.write(report, out, indent=1)
    assert out.getvalue().startswith('{\n "tool": "pkgdrc",\n "version": ')


def test_lyrdb_stream_does_not_depend_on_the_chunk_and_klayout_reads_it(tmp_path, report, monkeypatch):
    whole = lyrdb.dumps(report)
    monkeypatch.setattr(lyrdb, "CHUNK", 1)
    out = _Chunks()
    lyrdb.write(report, out)
    assert out.getvalue() == whole and out.writes > report.violations
    (tmp_path / "r.lyrdb").write_text(whole, encoding="utf-8")
    db = rdb.ReportDatabase("")
    db.load(str(tmp_path / "r.lyrdb"))
    assert db.num_items() == report.violations + report.waived == 20
    assert [it.tags_str for it in db.each_item()].count("#waived") == 2
