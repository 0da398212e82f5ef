"""Shared test helpers: build small GDS layouts on the fly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gdstk
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
DECK_2L = ROOT / "rules" / "fowlp-2l.yaml"


def write_gds(
    path: Path, build: Callable[[gdstk.Library, gdstk.Cell], None], top: str = "TOP", precision: float = 1e-9
) -> Path:
    """A GDS with one top cell filled by `build(lib, cell)`; units um, grid `precision` m."""
    lib = gdstk.Library(unit=1e-6, precision=precision)
    cell = lib.new_cell(top)
    build(lib, cell)
    lib.write_gds(str(path))
    return path


@pytest.fixture(autouse=True)
def _own_result_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's runs cache in their own folder (PKGDRC_CACHE_DIR, beside the test's tmp_path,
    not in it), never in the repository's .pkgdrc-cache where one test's results would serve
    another's; tests of the cache's default place remove the variable."""
    monkeypatch.setenv("PKGDRC_CACHE_DIR", str(tmp_path_factory.mktemp("result-cache")))


@pytest.fixture
def gds(tmp_path: Path):
    """`gds(build, name="t.gds")` writes a layout in tmp_path and returns its path."""

    def make(build, name: str = "t.gds", **kw) -> Path:
        return write_gds(tmp_path / name, build, **kw)

    return make


def write_deck(path: Path, rules: str, layers: str = "A: 1/0\n  B: 2/0\n  C: 3/0", derived: str = "") -> Path:
    """A small deck: `rules` is the YAML body of the rules: mapping (indented two spaces)."""
    text = f"name: t\nunits: um\nlayers:\n  {layers}\n"
    if derived:
        text += f"derived:\n  {derived}\n"
    text += f"rules:\n  {rules}\n"
    path.write_text(text)
    return path


@pytest.fixture
def deck(tmp_path: Path):
    """`deck(rules_yaml, **kw)` writes a deck in tmp_path and returns its path."""
    count = iter(range(10_000))

    def make(rules: str, **kw) -> Path:
        return write_deck(tmp_path / f"deck{next(count)}.yaml", rules, **kw)

    return make
