"""Report files of one assembly run: the assembly's, and with {part} in a path one per part.

A path with `{part}` is written once per part with `part_report` (the rules that concern
that part, markers in its own coordinates), so that `--lyrdb 'out/{part}.lyrdb'` gives
a marker database that opens over each part's layout in KLayout. `{stem}` is the
assembly file's name without suffix. JUnit is one file for the whole assembly.
"""

from __future__ import annotations

from pkgdrc.assembly.run import AssemblyReport, part_report
from pkgdrc.config import Settings, report_path
from pkgdrc.errors import PkgdrcError
from pkgdrc.report import html, json_report, junit, lyrdb
from pkgdrc.report.files import target, write_atomic

PER_LAYOUT = {"json": json_report.write, "lyrdb": lyrdb.write, "html": html.write}
KEYS = (*PER_LAYOUT, "junit")


def paths(assembly: str, settings: Settings, parts: list[str]) -> dict[tuple[str, str | None], str]:
    """(report kind, part or None for the whole assembly) -> path, checked writable before the run."""
    out: dict[tuple[str, str | None], str] = {}
    for key in KEYS:
        template = settings.get(key)
        if not template:
            continue
        template = report_path(str(template), assembly, False, key)
        if "{part}" in template and key == "junit":
            raise PkgdrcError("--junit is one file for the assembly: {part} is not allowed in its path",
                              path=template)
        for part in parts if "{part}" in template else [None]:
            out[(key, part)] = template.replace("{part}", part) if part else template
            target(out[(key, part)])
    return out


def write(result: AssemblyReport, where: dict[tuple[str, str | None], str]) -> None:
    for (key, part), path in where.items():
        report = result.report if part is None else part_report(result, part)
        if key == "junit":
            write_atomic(path, lambda out, r=report: junit.write([r], out))
        else:
            write_atomic(path, lambda out, w=PER_LAYOUT[key], r=report: w(r, out))
