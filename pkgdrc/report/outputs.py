"""All report files of one `pkgdrc check` run: paths checked before it, files written after.

JSON, lyrdb and HTML are one file per layout (with several layouts the path needs
`{stem}`); JUnit is one file for the run, with a testsuite per layout.
"""

from __future__ import annotations

from pkgdrc.config import Settings, report_path
from pkgdrc.report import github, html, json_report, junit, lyrdb, text
from pkgdrc.report.files import check_writable, write_atomic
from pkgdrc.result import Report

# Each writer streams one report into a text stream: write(report, out).
PER_LAYOUT = {"json": json_report.write, "lyrdb": lyrdb.write, "html": html.write}


def paths(layout: str, settings: Settings, several: bool) -> dict[str, str]:
    """Report kind -> path for one layout (checked writable now, before the run)."""
    out = {}
    for key in (*PER_LAYOUT, "junit"):
        template = settings.get(key)
        if template:
            out[key] = report_path(str(template), layout, several, key)
            check_writable(out[key])
    return out


def write(report: Report, where: dict[str, str]) -> None:
    for key, writer in PER_LAYOUT.items():
        if key in where:
            write_atomic(where[key], lambda out: writer(report, out))


def write_junit(reports: list[Report], path: str) -> None:
    write_atomic(path, lambda out: junit.write(reports, out))


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
