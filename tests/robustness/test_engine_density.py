"""Density windows are bounded: a window count that cannot fit is refused before anything is
allocated (exit 2, one line naming the rule, the count and the bound), at deck load where
the deck alone shows it and at run time from the outline's extent."""

from __future__ import annotations

import subprocess
import sys

import gdstk
import numpy as np
import pytest
import shapely

import pkgdrc
from pkgdrc.checks import density

DECK = (
    "name: t\nunits: um\nlayers:\n  PKG: 0/0\n  M: 1/0\nrules:\n"
    "  DEN.M: {{check: density, layer: M, outline: PKG, window: {window}, step: {step}, min: 0.1}}\n"
)


def _run(tmp_path, outline_um: float, window: float, step: float, precision: float = 1e-9):
    lib = gdstk.Library(unit=1e-6, precision=precision)
    lib.new_cell("TOP").add(
        gdstk.rectangle((0, 0), (outline_um, outline_um), layer=0),
        gdstk.rectangle((0, 0), (outline_um / 2, outline_um), layer=1),
    )
    layout = tmp_path / "t.gds"
    lib.write_gds(str(layout))
    deck = tmp_path / "d.yaml"
    deck.write_text(DECK.format(window=window, step=step))
    return subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", str(layout), "--deck", str(deck), "--quiet"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_tiny_window_refused_at_run_time(tmp_path):
    # window 0.001 um on a 1 mm outline: 10^12 windows (terabytes), refused at once.
    p = _run(tmp_path, 1000, 0.001, 0.001)
    assert p.returncode == 2
    assert p.stderr.splitlines() == [
        (
            "pkgdrc: error: rule DEN.M: density: 1,000,000,000,000 windows of 0.001 um stepped 0.001 um in outline "
            "PKG, more than 10,000,000; check the window, the step and the layout's units"
        )
    ]


def test_layout_in_the_wrong_units_refused(tmp_path):
    # A 30 mm package drawn in nm as if um (1000x too big): 30 m, 500 um windows stepped 250 um.
    p = _run(tmp_path, 30_000_000, 500, 250, precision=1e-6)
    assert p.returncode == 2
    assert p.stderr.splitlines() == [
        (
            "pkgdrc: error: rule DEN.M: density: 14,399,760,001 windows of 500 um stepped 250 um in outline "
            "PKG, more than 10,000,000; check the window, the step and the layout's units"
        )
    ]


def test_window_of_many_steps_refused_at_deck_load(tmp_path):
    p = _run(tmp_path, 1000, 500, 1)
    assert p.returncode == 2
    assert p.stderr.splitlines() == [
        (
            f"pkgdrc: error: {tmp_path / 'd.yaml'}:7: rule DEN.M: window 500 um is more than 100 steps (1 um): "
            "each point would lie in 250,000 windows; expected step >= window / 100"
        )
    ]


def test_window_count_under_the_bound_runs(tmp_path):
    # 1 mm outline, 10 um windows stepped 10 um: 10,000 windows; the half of them over no
    # metal fail min 0.1 (the bound is the rule's, not a memory estimate).
    p = _run(tmp_path, 1000, 10, 10)
    assert p.returncode == 1, p.stderr
    assert density.window_count(np.array([shapely.box(0, 0, 1_000_000, 1_000_000)]), 10_000, 10_000) == 10_000


@pytest.mark.parametrize(
    "window, step, xs, ys",
    [
        (500, 250, [0, 250, 500, 750, 1000, 1200], [0, 250, 500, 600]),  # flush column and row
        (500, 300, [0, 300, 600, 900, 1200], [0, 300, 600]),
        (300, 200, [0, 200, 400, 600, 800, 1000, 1200, 1400], [0, 200, 400, 600, 800]),
    ],
)
def test_every_window_placed_and_counted(tmp_path, window, step, xs, ys):
    """min 1: every window of a 1700 x 1100 um outline is a marker, flush ones included."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.new_cell("TOP").add(
        gdstk.rectangle((0, 0), (1700, 1100), layer=0), gdstk.rectangle((100, 100), (1650, 170), layer=1)
    )
    layout = tmp_path / "t.gds"
    lib.write_gds(str(layout))
    deck = tmp_path / "d.yaml"
    deck.write_text(DECK.format(window=window, step=step).replace("min: 0.1", "min: 1"))
    (result,) = pkgdrc.check(layout, deck).rules
    got = sorted(m.bbox for m in result.markers)
    assert got == sorted((x, y, x + window, y + window) for x in xs for y in ys)
    outline = np.array([shapely.box(0, 0, 1_700_000, 1_100_000)])
    assert density.window_count(outline, window * 1000, step * 1000) == len(got)
