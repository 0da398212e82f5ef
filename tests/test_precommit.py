"""The pre-commit hook end to end: the real `pre-commit` runs the hook from this checkout.

pre-commit clones this checkout (try-repo: with its uncommitted changes to tracked
files; the config: at HEAD) and pip-installs it into the hook's own virtualenv, twice
(try-repo keeps no environment). By default pip installs pkgdrc alone (PIP_NO_DEPS) and
the hook finds the dependencies on PYTHONPATH, from the interpreter running the tests:
no package index needed beyond pkgdrc's build backend.
PKGDRC_PRECOMMIT_FULL_INSTALL=1 lets pip install every dependency as a user's machine
would (about 60 s here, needs an index or the pip cache). Skipped when git or pre-commit
is missing, or when pip cannot install (no index reachable).
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from signoff import write_signoff_deck, write_signoff_layout

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")

pytestmark = pytest.mark.skipif(
    not (PRE_COMMIT and shutil.which("git")), reason="needs git and pre-commit (pip install '.[test]')"
)


def _run(args, cwd, env, check=False):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if (
        "Installing environment" in done.stdout + done.stderr
        and "No matching distribution" in done.stdout + done.stderr
    ):
        pytest.skip("pip could not install the hook's dependencies here (no package index reachable)")
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _repo(tmp_path):
    """An empty git repository and the environment to run git and pre-commit in it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    env.pop("PRE_COMMIT_ALLOW_NO_CONFIG", None)
    if not os.environ.get("PKGDRC_PRECOMMIT_FULL_INSTALL"):
        # the site directories and what their .pth files add (a venv on top of another one)
        site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        site |= {p for p in sys.path if p.endswith("site-packages")}
        env.update(PIP_NO_DEPS="1", PYTHONPATH=os.pathsep.join(sorted(site)))
    _run(["git", "init", "-q"], repo, env, check=True)
    return repo, env


def test_commit_fails_on_violations_and_passes_after_a_waiver_or_fix(tmp_path):
    repo, env = _repo(tmp_path)
    git = lambda *a, **kw: _run(["git", *a], repo, env, **kw)  # noqa: E731
    write_signoff_layout(repo / "pkg.gds")
    (repo / "notes.txt").write_text("not a layout\n")
    write_signoff_deck(repo / "drc.yaml")
    (repo / "pkgdrc.toml").write_text('deck = "drc.yaml"\ntop = "TOP"\n')
    git("add", "pkg.gds", "notes.txt", "pkgdrc.toml", "drc.yaml", check=True)

    # try-repo: the hook as defined in this checkout's .pre-commit-hooks.yaml
    tried = _run([PRE_COMMIT, "try-repo", str(ROOT), "pkgdrc", "--files", "pkg.gds", "notes.txt"], repo, env)
    assert tried.returncode == 1, tried.stdout + tried.stderr
    assert "pkgdrc design-rule check" in tried.stdout and "Failed" in tried.stdout
    assert "FAIL  RDL2.W  width: 2 violations, worst 1 vs limit 2" in tried.stdout
    assert "notes.txt" not in tried.stdout.split("Using config")[-1].split("hook id")[-1]

    # a real commit through the installed git hook
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    # the repo spelt as try-repo spells it (relative), so a clean checkout reuses its environment
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {os.path.relpath(ROOT, repo)}\n  rev: {head}\n  hooks:\n  - id: pkgdrc\n"
    )
    git("add", ".pre-commit-config.yaml", check=True)
    _run([PRE_COMMIT, "install"], repo, env, check=True)
    failed = git("commit", "-m", "layout with violations")
    assert failed.returncode != 0
    shown = failed.stdout + failed.stderr  # git shows the hook's output on stderr
    assert "at (400.75, 450) um bbox [400, 400, 401.5, 500] on RDL1 value 1.5" in shown
    assert "4 violations in 3 rules" in shown

    # accept RDL2.W (the logo) with a waiver, fix the RDL1 violations: the commit passes
    (repo / "waivers.yaml").write_text("- rule: RDL2.W\n  cell: LOGO\n  reason: logo artwork, not metal\n")
    (repo / "pkgdrc.toml").write_text('deck = "drc.yaml"\ntop = "TOP"\nwaivers = "waivers.yaml"\n')
    write_signoff_layout(repo / "pkg.gds", fixed=True)
    git("add", "pkg.gds", "pkgdrc.toml", "waivers.yaml", check=True)
    passed = git("commit", "-m", "fixed layout")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    shown = passed.stdout + passed.stderr
    assert "pkgdrc design-rule check" in shown and "Passed" in shown


def test_hook_checks_layouts_named_in_any_case_and_gzip_compressed(tmp_path):
    """`.GDS` was not matched (the pattern was case-sensitive), `.gds.gz` was matched and then refused."""
    repo, env = _repo(tmp_path)
    write_signoff_layout(repo / "PKG.GDS")
    write_signoff_layout(repo / "fixed.gds", fixed=True)
    (repo / "FIXED.gds.gz").write_bytes(gzip.compress((repo / "fixed.gds").read_bytes()))
    (repo / "fixed.gds").unlink()
    (repo / "notes.txt").write_text("not a layout\n")
    write_signoff_deck(repo / "drc.yaml")
    (repo / "pkgdrc.toml").write_text('deck = "drc.yaml"\ntop = "TOP"\n')
    _run(["git", "add", "."], repo, env, check=True)
    tried = _run([PRE_COMMIT, "try-repo", str(ROOT), "pkgdrc", "--all-files"], repo, env)
    assert tried.returncode == 1, tried.stdout + tried.stderr
    shown = tried.stdout
    assert "pkgdrc 0.1.0: PKG.GDS (top TOP) against deck signoff" in shown
    assert "4 violations in 3 rules" in shown
    assert "pkgdrc 0.1.0: FIXED.gds.gz (top TOP) against deck signoff" in shown
    assert "clean (6 rules" in shown
    assert "notes.txt" not in shown.split("hook id")[-1]
