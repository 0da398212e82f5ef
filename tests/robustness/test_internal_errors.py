"""A bug in pkgdrc must not read as a result: it exits 2 with its traceback, never 1 or 0.

(Python's own exit code for an uncaught exception is 1, which is pkgdrc's "violations".)
"""

from __future__ import annotations

import subprocess
import sys

import gdstk
import numpy as np

import pkgdrc


def _random_vias(tmp_path):
    rng = np.random.default_rng(2024)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell("TOP")
    top.add(gdstk.rectangle((0, 0), (2000, 2000), layer=0))
    for layer in (10, 11, 12, 13):
        xy, wh = rng.uniform(0, 1950, (50, 2)).round(3), rng.uniform(0.5, 40, (50, 2)).round(3)
        top.add(*[gdstk.rectangle(p, p + s, layer=layer) for p, s in zip(xy, wh)])
    path = tmp_path / "vias.gds"
    lib.write_gds(str(path))
    return path


def test_an_internal_error_exits_2_with_its_traceback(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pkgdrc import cli

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(cli, "check", broken)
    lib = gdstk.Library()
    lib.new_cell("TOP").add(gdstk.rectangle((0, 0), (1, 1), layer=11))
    lib.write_gds(str(tmp_path / "t.gds"))
    result = CliRunner().invoke(cli.main, ["check", str(tmp_path / "t.gds"), "--quiet"])
    assert result.exit_code == 2
    assert "ZeroDivisionError: planted" in result.stderr
    assert result.stderr.endswith(
        "pkgdrc: internal error (a bug in pkgdrc, traceback above): the run could not be done\n"
    )


def test_via_landing_markers_sort(tmp_path):
    """Found writing the determinism test: random vias on fowlp-2l crash VIA1.L and VIA2.L."""
    report = pkgdrc.check(_random_vias(tmp_path), "fowlp-2l", rules=["VIA1.L", "VIA2.L"])
    assert report.violations > 0


def test_cli_on_a_crashing_rule_exits_2_not_1(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", str(_random_vias(tmp_path)), "--quiet", "--rule", "VIA1.L"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if p.returncode != 2:  # the via_landing bug is fixed: then it must be a real result
        assert p.returncode in (0, 1) and "Traceback" not in p.stderr
    else:
        assert "Traceback" in p.stderr and "pkgdrc: internal error" in p.stderr
