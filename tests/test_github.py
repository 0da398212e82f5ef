"""--format github: one workflow-command annotation per violated rule."""

from __future__ import annotations

from click.testing import CliRunner

from pkgdrc.cli import main
from signoff import write_signoff_deck, write_signoff_layout


def test_one_error_annotation_per_failed_rule(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_signoff_layout(tmp_path / "a.gds")
    write_signoff_deck(tmp_path / "d.yaml")
    result = CliRunner().invoke(main, ["check", "a.gds", "-d", "d.yaml", "--format", "github"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=a.gds,title=RDL1.W::1 violation, worst 1.5 (limit 2), first marker at 400.75,450 um",
        "::error file=a.gds,title=RDL2.W::2 violations, worst 1 (limit 2), first marker at 600.5,610 um",
        "::error file=a.gds,title=RDL1.S::1 violation, worst 1.5 (limit 2), first marker at 200,103.75 um",
    ]


def test_waivers_show_as_warnings_and_counts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_signoff_layout(tmp_path / "a.gds")
    (tmp_path / "w.yaml").write_text(
        "- rule: RDL2.W\n  box: [599, 599, 602, 621]\n  reason: ok\n"
        "- rule: RDL1.W\n  box: [0, 0, 1, 1]\n  reason: old, fixed\n"
    )
    write_signoff_deck(tmp_path / "d.yaml")
    result = CliRunner().invoke(main, ["check", "a.gds", "-d", "d.yaml", "--format", "github", "--waivers", "w.yaml"])
    lines = result.stdout.splitlines()
    assert lines[1] == (
        "::error file=a.gds,title=RDL2.W::1 violation, worst 1 (limit 2), first marker at 690,600.5 um (1 more waived)"
    )
    assert lines[3] == "::warning file=a.gds,title=stale waiver::w.yaml:4: RDL1.W box [0, 0, 1, 1] (old, fixed)"


def test_properties_are_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_signoff_layout(tmp_path / "a,b:c.gds")
    result = CliRunner().invoke(main, ["check", "a,b:c.gds", "--format", "github", "--rule", "RDL1.W"])
    assert result.stdout.startswith("::error file=a%2Cb%3Ac.gds,title=RDL1.W::1 violation")
