"""Report files of one assembly run: the assembly's, and with {part} in a path one per part.

A path with `{part}` is written once per part with `part_report` (the rules that concern
that part, markers in its own coordinates), so that `--lyrdb 'out/{part}.lyrdb'` gives
a marker database that opens over each part's layout in KLayout. `{stem}` is the
assembly file's name without suffix. JUnit is one file for the whole assembly.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from pkgdrc.assembly.model import Assembly
from pkgdrc.assembly.run import AssemblyReport, part_report
from pkgdrc.config import Settings, report_path
from pkgdrc.errors import PkgdrcError
from pkgdrc.report import html, json_report, junit, lyrdb
from pkgdrc.report.files import Staged, Target
from pkgdrc.report.outputs import Claims
from pkgdrc.result import Report

WRITERS: dict[str, Callable[[Report, TextIO], None]] = {
    "json": json_report.write,
    "lyrdb": lyrdb.write,
    "html": html.write,
    "junit": lambda report, out: junit.write([report], out),
}
KEYS = tuple(WRITERS)


def paths(assembly: Assembly, settings: Settings) -> dict[tuple[str, str | None], Target]:
    """(report kind, part or None for the whole assembly) -> target, checked writable before the run;
    no two reports on one file, and none on a file the run reads (`pkgdrc.report.outputs.Claims`)."""
    out: dict[tuple[str, str | None], Target] = {}
    claims = Claims(inputs(assembly, settings))
    for key in KEYS:
        template = settings.get(key)
        if not template:
            continue
        template = report_path(str(template), assembly.path, False, key)
        if "{part}" in template and key == "junit":
            raise PkgdrcError("--junit is one file for the assembly: {part} is not allowed in its path", path=template)
        for part in assembly.parts if "{part}" in template else [None]:
            path = template.replace("{part}", part) if part else template
            out[(key, part)] = claims.claim(path, f"--{key}")
    return out


def inputs(assembly: Assembly, settings: Settings) -> list[str]:
    """The existing files an assembly run reads (which no report may overwrite): the assembly
    file, each part's layout and deck, the waivers and the config file."""
    found: list[str | Path | None] = [assembly.path, settings.get("waivers"), settings.path]
    for part in assembly.parts.values():
        found += [part.layout, part.deck.path]
    return [str(p) for p in found if p and os.path.exists(p)]


def write(result: AssemblyReport, where: dict[tuple[str, str | None], Target]) -> None:
    """Every report staged, then all made visible together (an error keeps the old ones)."""
    staged = Staged()
    try:
        for (key, part), where_to in where.items():
            report = result.report if part is None else part_report(result, part)
            staged.add(where_to, functools.partial(_write, WRITERS[key], report))
        staged.commit()
    finally:
        staged.discard()


def _write(writer: Callable[[Report, TextIO], None], report: Report, out: TextIO) -> None:
    writer(report, out)
