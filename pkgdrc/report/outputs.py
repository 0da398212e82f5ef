"""All report files of one `pkgdrc check` run: planned and checked before any layout is read,
staged as each layout is checked, written together at the end.

JSON, lyrdb and HTML are one file per layout (with several layouts the path needs
`{stem}`); JUnit is one file for the run, with a testsuite per layout. `-` is stdout,
for one report at a time (the text summary is then not printed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pkgdrc.config import Settings, report_path
from pkgdrc.errors import PkgdrcError
from pkgdrc.process import uninterrupted
from pkgdrc.report import github, html, json_report, junit, lyrdb, text
from pkgdrc.report.files import STDOUT, Staged, Target, identity, target
from pkgdrc.result import Report

KINDS = ("json", "lyrdb", "html", "junit")


@dataclass
class Plan:
    """Report kind -> target, per layout (in the order given), and the JUnit target of the run."""

    per_layout: list[dict[str, Target]]
    junit: Target | None
    json_indent: int | None = None
    staged: Staged = field(default_factory=Staged)

    @property
    def to_stdout(self) -> bool:
        """Whether a report goes to stdout (then nothing else may)."""
        return (self.junit is not None and self.junit.stdout) or any(
            t.stdout for where in self.per_layout for t in where.values()
        )

    def stage(self, report: Report, index: int) -> None:
        """Stage the per-layout reports of layout `index` (the HTML writer draws from the run's layers)."""
        where = self.per_layout[index]
        writers = {
            "json": lambda out: json_report.write(report, out, self.json_indent),
            "lyrdb": lambda out: lyrdb.write(report, out),
            "html": lambda out: html.write(report, out),
        }
        for key, fill in writers.items():
            if key in where:
                self.staged.add(where[key], fill)

    def finish(self, reports: list[Report]) -> None:
        """Stage the JUnit report and write everything."""
        if self.junit is not None:
            self.staged.add(self.junit, lambda out: junit.write(reports, out))
        with uninterrupted():  # all reports or none: an interrupt waits for the renames
            self.staged.commit()


class Claims:
    """The report paths of one run (`pkgdrc check` or `pkgdrc assembly check`), each checked when
    claimed: writable, not one of the run's `inputs`, and not a path another report has."""

    def __init__(self, inputs: list[str]):
        self.protected = {identity(p): p for p in inputs}
        self.taken: dict[tuple, str] = {}  # identity -> what writes there

    def claim(self, path: str, what: str) -> Target:
        """The target of `path`, written by `what` (e.g. "--json"), named in the errors."""
        key = identity(path)
        if key in self.protected:
            raise PkgdrcError(f"{what} would overwrite the input file {self.protected[key]}", path=path)
        if key in self.taken:
            raise PkgdrcError(f"{what} and {self.taken[key]} would write to the same file", path=path)
        self.taken[key] = what
        return target(path)


def plan(layouts: tuple[str, ...], settings: list[Settings], inputs: list[str], json_indent: int | None = None) -> Plan:
    """Every report target of the run, checked now: writable, not an input (`inputs`: layouts,
    decks, waiver and config files), and no two reports on one path."""
    several = len(layouts) > 1
    per_layout: list[dict[str, Target]] = []
    junit_target = None
    claim = Claims(inputs).claim

    for layout, s in zip(layouts, settings):
        where = {}
        for key in ("json", "lyrdb", "html"):
            template = s.get(key)
            if not template:
                continue
            if template == STDOUT and several:
                raise PkgdrcError(
                    f"--{key} -: stdout takes one report, and {len(layouts)} layouts make one each"
                    f"{' (--format json prints them as one array)' if key == 'json' else ''}"
                )
            path = report_path(str(template), layout, several, key)
            where[key] = claim(path, f"the --{key} report of {layout}" if several else f"--{key}")
        per_layout.append(where)
        if junit_target is None and s.get("junit"):
            junit_target = claim(str(s.get("junit")), "--junit")
    return Plan(per_layout, junit_target, json_indent)


def stdout(report: Report, fmt: str) -> str:
    """What `--format` prints for one layout (JSON is printed by the caller, for all at once)."""
    if fmt == "github":
        return github.render(report)
    return text.render(report) + waiver_lines(report)


def waiver_lines(report: Report) -> str:
    lines = []
    if report.waived:
        per_rule = ", ".join(f"{r.id} {len(r.waived)}" for r in report.rules if r.waived)
        lines.append(f"  waived: {report.waived} markers ({per_rule})")
    lines += [f"  stale waiver (waives nothing): {w}" for w in report.stale_waivers]
    lines += [f"  expired waiver (no longer waives): {w}" for w in report.expired_waivers]
    return "".join(line + "\n" for line in lines)


def inputs(layouts: tuple[str, ...], decks: list[str], settings: list[Settings]) -> list[str]:
    """The existing files a run reads, which no report may overwrite."""
    found: list[str | Path] = [*layouts, *decks]
    for s in settings:
        found += [p for p in (s.get("waivers"), s.path) if p]
    return [str(p) for p in found if os.path.exists(p)]
