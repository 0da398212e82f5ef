"""[tool.pkgdrc] / pkgdrc.toml: found upwards from the cwd, overridden by the command line."""

from __future__ import annotations

from click.testing import CliRunner

from pkgdrc.cli import main
from pkgdrc.config import load_settings
from signoff import write_signoff_layout

DECK = """name: tiny
units: um
layers: {RDL1: 11/0}
rules:
  W5: {check: width, layer: RDL1, min: 5.0}
"""


def _project(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "tiny.yaml").write_text(DECK)
    (tmp_path / "chips" / "hbm").mkdir(parents=True)
    write_signoff_layout(tmp_path / "chips" / "a.gds")
    write_signoff_layout(tmp_path / "chips" / "hbm" / "b.gds")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.pkgdrc]\ntop = "TOP"\njunit = "out/junit.xml"\n'
        'waivers = "drc/waivers.yaml"\n\n[tool.pkgdrc.per-file-decks]\n"chips/hbm/*.gds" = "rules/tiny.yaml"\n'
    )
    return tmp_path


def test_found_walking_up_paths_relative_to_the_file(tmp_path, monkeypatch):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path / "chips" / "hbm")
    s = load_settings({}, "b.gds")
    assert s.path == tmp_path / "pyproject.toml"
    assert s.values == {
        "deck": "../../rules/tiny.yaml",
        "top": "TOP",
        "waivers": "../../drc/waivers.yaml",
        "junit": "../../out/junit.xml",
    }
    assert s.source["deck"] == f"{tmp_path / 'pyproject.toml'} [per-file-decks] 'chips/hbm/*.gds'"
    assert s.source["top"] == str(tmp_path / "pyproject.toml")
    assert load_settings({}, "../a.gds").values["deck"] == "fowlp-2l"
    assert load_settings({}, "../a.gds").source["deck"] == "default"


def test_command_line_wins_and_pkgdrc_toml_wins_over_pyproject(tmp_path, monkeypatch):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    s = load_settings({"deck": "fowlp-2l", "top": None}, "chips/hbm/b.gds")
    assert (s.values["deck"], s.source["deck"]) == ("fowlp-2l", "command line")
    (tmp_path / "pkgdrc.toml").write_text('deck = "rules/tiny.yaml"\n')
    s = load_settings({}, "chips/a.gds")
    assert s.path == tmp_path / "pkgdrc.toml"
    assert (s.values["deck"], s.values.get("top")) == ("rules/tiny.yaml", None)


def test_pyproject_without_table_is_skipped(tmp_path, monkeypatch):
    _project(tmp_path)
    (tmp_path / "chips" / "pyproject.toml").write_text('[project]\nname = "y"\n')
    monkeypatch.chdir(tmp_path / "chips")
    assert load_settings({}).path == tmp_path / "pyproject.toml"


def test_config_command_prints_values_and_sources(tmp_path, monkeypatch):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["config", "chips/hbm/b.gds"]).stdout.splitlines()
    cfg = tmp_path / "pyproject.toml"
    assert out[0] == f"config file: {cfg}"
    assert out[1] == f"deck     = {'rules/tiny.yaml':<40} # {cfg} [per-file-decks] 'chips/hbm/*.gds'"
    assert out[2] == f"top      = {'TOP':<40} # {cfg}"
    assert out[4] == f"json     = {'(not set)':<40} # not set"
    assert out[-1] == "per-file-decks: 'chips/hbm/*.gds' -> rules/tiny.yaml"


def test_check_uses_per_file_deck_and_report_paths(tmp_path, monkeypatch):
    _project(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "drc").mkdir()
    (tmp_path / "drc" / "waivers.yaml").write_text("[]\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "chips/a.gds", "chips/hbm/b.gds"])
    assert result.exit_code == 1
    assert "chips/hbm/b.gds (top TOP) against deck tiny" in result.stdout
    assert "chips/a.gds (top TOP) against deck fowlp-2l" in result.stdout
    assert (tmp_path / "out" / "junit.xml").read_text().count("<testsuite ") == 2


def test_unknown_key_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "pkgdrc.toml").write_text('dekc = "x"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["config"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"pkgdrc: error: {tmp_path / 'pkgdrc.toml'}: pkgdrc.toml: unknown key 'dekc'")


def test_rules_and_explain_use_the_configured_deck(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pkgdrc.cli import main

    (tmp_path / "mine.yaml").write_text(
        "name: mine\nlayers:\n  A: 1/0\nrules:\n  MY.W: {check: width, layer: A, min: 3, doc: my own width rule}\n"
    )
    (tmp_path / "pkgdrc.toml").write_text('deck = "mine.yaml"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0 and "deck mine" in result.output and "MY.W" in result.output
    result = CliRunner().invoke(main, ["explain", "MY.W"])
    assert result.exit_code == 0 and "my own width rule" in result.output
    result = CliRunner().invoke(main, ["rules", "--deck", "fowlp-2l"])
    assert "RDL1.W" in result.output
