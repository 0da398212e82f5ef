"""The HTML report: page structure (always), and a real render in headless Chromium (if present)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser

import gdstk
import pytest
from click.testing import CliRunner
from signoff import RULES, write_signoff_deck, write_signoff_layout

from pkgdrc.cli import main
from pkgdrc.report.html import MARKER, PICTURES_PER_RULE


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(path) -> _Tags:
    p = _Tags()
    p.feed(path.read_text())
    return p


def _report(tmp_path, layout, *extra):
    out = tmp_path / "r.html"
    deck = write_signoff_deck(tmp_path / "d.yaml")
    CliRunner().invoke(main, ["check", str(layout), "--html", str(out), "-q", "-d", str(deck), *extra])
    return out


def test_page_structure(tmp_path):
    out = _report(tmp_path, write_signoff_layout(tmp_path / "a.gds"))
    page = _parse(out)
    text = "".join(page.text)
    tags = [t for t, _ in page.tags]
    assert not re.search(r"(src|href)=\"https?:", out.read_text())  # self-contained
    rows = [a for t, a in page.tags if t == "tr"]
    assert len(rows) == 1 + RULES  # header + one per rule
    figures = [a["id"] for t, a in page.tags if t == "figure"]
    assert figures == ["RDL1.W-1", "RDL2.W-1", "RDL2.W-2", "RDL1.S-1"]
    assert tags.count("svg") == 1 + 4  # overview + one picture per marker
    # the overview locates every marker, linked to its picture
    links = [a["href"] for t, a in page.tags if t == "a" and a.get("href", "").startswith("#RDL")]
    assert links == ["#RDL1.W-1", "#RDL2.W-1", "#RDL2.W-2", "#RDL1.S-1"]
    assert sum(1 for t, a in page.tags if t == "circle" and a.get("stroke") == MARKER) == 4
    # each picture: layers in distinct colours, the marker, a scale bar in um
    assert "RDL1.W #1: value 1.5 (limit 2) at (400.75, 450) um on RDL1" in text
    assert [t for t in page.text if t.endswith(" um")][:3] == ["200 um", "5 um", "5 um"]
    fills = {a["fill"] for t, a in page.tags if t == "path"}
    assert len(fills) >= 3  # PKG, RDL1, RDL2 in the overview, each its own colour
    assert sum(1 for t, a in page.tags if t == "polyline" and a.get("stroke") == MARKER) == 8  # 2 edges x 4


def test_pictures_capped_per_rule_with_count_of_the_rest(tmp_path):
    def build(lib, cell):
        for k in range(PICTURES_PER_RULE + 3):
            cell.add(gdstk.rectangle((10 * k, 0), (10 * k + 1, 20), layer=11))  # RDL1 1 um wide
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    build(lib, lib.new_cell("TOP"))
    lib.write_gds(str(tmp_path / "m.gds"))
    page = _parse(_report(tmp_path, tmp_path / "m.gds", "--rule", "RDL1.W"))
    assert sum(1 for t, _ in page.tags if t == "figure") == PICTURES_PER_RULE
    assert "... and 3 more violations of RDL1.W not drawn" in "".join(page.text)
    assert sum(1 for t, a in page.tags if t == "circle") == PICTURES_PER_RULE + 3


def test_waivers_listed(tmp_path):
    (tmp_path / "w.yaml").write_text("- rule: RDL2.W\n  cell: LOGO\n  reason: logo art\n  owner: ana\n")
    page = _parse(_report(tmp_path, write_signoff_layout(tmp_path / "a.gds"), "--waivers", str(tmp_path / "w.yaml")))
    text = "".join(page.text)
    assert f"RDL2.W at (600.5, 610) um: logo art ({tmp_path / 'w.yaml'}:1, owner ana)" in text
    assert [a["id"] for t, a in page.tags if t == "figure"] == ["RDL1.W-1", "RDL1.S-1"]


def _png_pixels(path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    return w, h, zlib.decompress(idat)


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="Chromium not installed (apt-get install chromium)")
def test_renders_in_headless_chromium(tmp_path):
    out = _report(tmp_path, write_signoff_layout(tmp_path / "a.gds"))
    png = tmp_path / "r.png"
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}",
                    "--window-size=900,1400", out.as_uri()], check=True, capture_output=True, timeout=120)
    w, h, raw = _png_pixels(png)
    assert (w, h) == (900, 1400)
    assert len(set(raw)) > 50  # drawn, not a blank page
