"""The result cache from the command line (issue 18): where it lives, --cache / --no-cache, the config keys,
`pkgdrc cache info|clear`, a cache that cannot be written, and git never seeing it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pkgdrc.cache import Store
from pkgdrc.cache.store import TAG_SIGNATURE, _encode
from pkgdrc.cli import main
from signoff import write_signoff_deck, write_signoff_layout

KEYS = ["a1" * 16, "b2" * 16, "c3" * 16]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A layout with violations (signoff.py) and its deck in tmp_path, the current directory; no config."""
    write_signoff_layout(tmp_path / "pkg.gds")
    write_signoff_deck(tmp_path / "drc.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PKGDRC_CACHE_DIR")  # conftest's per-test folder: here the default places are tested
    return tmp_path


def _check(*args: str):
    return CliRunner().invoke(main, ["check", "pkg.gds", "--deck", "drc.yaml", "--quiet", *args])


def _assert_cache_folder(path: Path) -> None:
    assert (path / "CACHEDIR.TAG").read_bytes().startswith(TAG_SIGNATURE)
    assert "*" in (path / ".gitignore").read_text().splitlines()


def test_on_by_default_in_the_current_directory_without_a_config(project):
    result = _check()
    assert (result.exit_code, result.stderr) == (1, "")
    _assert_cache_folder(project / ".pkgdrc-cache")


def test_no_cache_writes_no_folder(project):
    result = _check("--no-cache")
    assert (result.exit_code, result.stderr) == (1, "")
    assert sorted(os.listdir(project)) == ["drc.yaml", "pkg.gds"]


def test_next_to_the_config_file_when_run_from_below_it(project, monkeypatch):
    (project / "pkgdrc.toml").write_text('deck = "drc.yaml"\n')
    (project / "chips").mkdir()
    shutil.move(project / "pkg.gds", project / "chips" / "pkg.gds")
    monkeypatch.chdir(project / "chips")
    result = CliRunner().invoke(main, ["check", "pkg.gds", "--quiet"])
    assert (result.exit_code, result.stderr) == (1, "")
    _assert_cache_folder(project / ".pkgdrc-cache")
    assert sorted(os.listdir(project / "chips")) == ["pkg.gds"]


def test_config_keys_and_the_command_line(project):
    (project / "pyproject.toml").write_text('[tool.pkgdrc]\ncache = "build/drc-cache"\ncache-max-mb = 64\n')
    assert _check().exit_code == 1
    _assert_cache_folder(project / "build" / "drc-cache")
    assert not (project / ".pkgdrc-cache").exists()
    out = CliRunner().invoke(main, ["config"]).stdout.splitlines()
    assert f"{'cache':<8} = {'build/drc-cache':<40} # {project / 'pyproject.toml'}" in out
    assert f"{'cache-max-mb':<8} = {'64':<40} # {project / 'pyproject.toml'}" in out
    info = CliRunner().invoke(main, ["cache", "info"])
    assert "bound     64 MiB" in info.stdout.splitlines()

    assert _check("--cache", "elsewhere").exit_code == 1  # the command line wins
    _assert_cache_folder(project / "elsewhere")

    (project / "pyproject.toml").write_text("[tool.pkgdrc]\ncache = false\n")
    shutil.rmtree(project / "build")
    assert _check().exit_code == 1
    assert not (project / "build").exists() and not (project / ".pkgdrc-cache").exists()
    assert CliRunner().invoke(main, ["cache", "info"]).stdout == (
        f"the cache is off (cache = false in {project / 'pyproject.toml'})\n"
    )


def test_the_environment_names_the_folder_below_the_command_line(project, monkeypatch):
    (project / "pyproject.toml").write_text('[tool.pkgdrc]\ncache = "build/drc-cache"\n')
    monkeypatch.setenv("PKGDRC_CACHE_DIR", str(project / "ci-cache"))
    assert _check().exit_code == 1
    _assert_cache_folder(project / "ci-cache")  # above the config file
    assert not (project / "build").exists()
    out = CliRunner().invoke(main, ["config"]).stdout.splitlines()
    assert f"{'cache':<8} = {str(project / 'ci-cache'):<40} # environment PKGDRC_CACHE_DIR" in out
    assert _check("--cache", "elsewhere").exit_code == 1  # the command line wins
    _assert_cache_folder(project / "elsewhere")
    shutil.rmtree(project / "ci-cache")
    assert _check("--no-cache").exit_code == 1
    assert not (project / "ci-cache").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("cache = 3", 'pkgdrc.toml cache must be a folder ("path") or false, got 3'),
        ('cache = ""', "pkgdrc.toml cache must be a folder (\"path\") or false, got ''"),
        ("cache-max-mb = 0", "pkgdrc.toml cache-max-mb must be a whole number >= 1, got 0"),
        ('cache-max-mb = "2G"', "pkgdrc.toml cache-max-mb must be a whole number >= 1, got '2G'"),
    ],
)
def test_bad_cache_keys_in_the_config_are_errors(project, line, message):
    (project / "pkgdrc.toml").write_text(line + "\n")
    result = _check()
    assert result.exit_code == 2
    assert result.stderr == f"pkgdrc: error: {project / 'pkgdrc.toml'}: {message}\n"


def test_cache_and_no_cache_contradict(project):
    result = _check("--cache", "c", "--no-cache")
    assert result.exit_code == 2
    assert result.stderr == "pkgdrc: error: --cache c and --no-cache contradict each other: choose one\n"


@pytest.mark.parametrize("where", ["file/cache", "file"])
def test_an_unwritable_cache_is_a_warning_and_the_run_goes_on(project, where):
    (project / "file").write_text("")
    plain = _check("--no-cache", "--json", "plain.json")
    result = _check("--cache", where, "--json", "cached.json")
    reason = "Not a directory" if where == "file/cache" else "it is a file, not a folder"
    assert result.stderr == f"pkgdrc: warning: cache {where} not writable: {reason}; running without cache\n"
    assert result.exit_code == plain.exit_code == 1
    reports = [json.loads((project / name).read_text()) for name in ("plain.json", "cached.json")]
    for r in reports:
        r["summary"]["seconds"] = 0
        for rule in r["rules"]:
            rule.pop("seconds")
    assert reports[0] == reports[1]


def test_cache_info_and_clear(project):
    assert _check().exit_code == 1
    assert _check().exit_code == 1
    Store(project / ".pkgdrc-cache").clear()  # the runs' entries and counts: the numbers below are the test's
    store = Store(project / ".pkgdrc-cache")  # entries as the engine writes them
    for k in KEYS:
        store.put(k, b"m" * 1000)
    store.get(KEYS[0])
    store.get("d4" * 16)
    store.flush_stats()
    info = Store(project / ".pkgdrc-cache").info()
    size = len(_encode(KEYS[0], b"m" * 1000)) * 3
    result = CliRunner().invoke(main, ["cache", "info"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"path      .pkgdrc-cache\n"
        f"entries   3\n"
        f"size      0.00 MiB ({size} bytes)\n"
        f"bound     2048 MiB\n"
        f"hits      {info.hits}\n"
        f"misses    {info.misses}\n"
        f"hit rate  {info.hit_rate:.1%}\n"
    )
    assert (info.entries, info.bytes) == (3, size)
    assert info.hits >= 1 and info.misses >= 1

    result = CliRunner().invoke(main, ["cache", "clear"])
    assert (result.exit_code, result.stdout) == (0, ".pkgdrc-cache: cleared 3 entries (0.00 MiB)\n")
    info = Store(project / ".pkgdrc-cache").info()
    assert (info.entries, info.hits, info.misses) == (0, 0, 0)
    _assert_cache_folder(project / ".pkgdrc-cache")


def test_cache_info_of_a_folder_not_made_yet_and_clear_of_a_foreign_one(project):
    result = CliRunner().invoke(main, ["cache", "info", "--cache", "nowhere"])
    assert result.stdout.splitlines()[0] == "path      nowhere  (not created yet)"
    assert result.stdout.splitlines()[-1] == "hit rate  n/a (no lookups yet)"
    assert not (project / "nowhere").exists()
    result = CliRunner().invoke(main, ["cache", "clear", "--cache", "."])
    assert result.exit_code == 2
    assert result.stderr == (
        "pkgdrc: error: .: not a pkgdrc cache folder (no CACHEDIR.TAG, other files in it): not clearing it\n"
    )
    assert sorted(os.listdir(project)) == ["drc.yaml", "pkg.gds"]


def test_second_run_is_served_from_the_cache_with_the_same_report(project):
    for name in ("first", "second"):
        assert _check("--json", f"{name}.json").exit_code == 1
    reports = [json.loads((project / f"{n}.json").read_text()) for n in ("first", "second")]
    summaries = [r.pop("summary") for r in reports]  # timings, and how many results came from the cache
    status = [[rule.pop("cache") for rule in r["rules"]] for r in reports]
    assert all(rule.pop("seconds") >= 0 for r in reports for rule in r["rules"])
    assert reports[0] == reports[1]
    assert set(status[0]) == {None} and set(status[1]) == {"hit"}
    assert summaries[1]["cache"] == {"rules": len(status[1]), "updated": 0}
    assert summaries[0]["violations"] == summaries[1]["violations"] == 4
    info = Store(project / ".pkgdrc-cache").info()
    assert info.entries > 0 and info.hits > 0


@pytest.mark.skipif(not shutil.which("git"), reason="needs git")
def test_in_a_git_repository_the_cache_sits_next_to_the_config_and_is_never_staged(project):
    """What the pre-commit hook does: `pkgdrc check FILES` from the repository's root."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@x"
    git = lambda *a: subprocess.run(["git", *a], cwd=project, env=env, capture_output=True, text=True, check=True)  # noqa: E731
    git("init", "-q")
    (project / "pkgdrc.toml").write_text('deck = "drc.yaml"\n')
    done = subprocess.run(
        [sys.executable, "-m", "pkgdrc", "check", "pkg.gds", "--quiet"], cwd=project, capture_output=True, text=True
    )
    assert (done.returncode, done.stderr) == (1, "")
    _assert_cache_folder(project / ".pkgdrc-cache")
    git("add", "-A")
    assert git("status", "--porcelain").stdout.splitlines() == ["A  drc.yaml", "A  pkg.gds", "A  pkgdrc.toml"]
    assert git("check-ignore", ".pkgdrc-cache/CACHEDIR.TAG").stdout == ".pkgdrc-cache/CACHEDIR.TAG\n"
