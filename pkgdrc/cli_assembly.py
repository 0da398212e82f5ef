"""`pkgdrc assembly`: several layouts placed together (pkgdrc.assembly), checked across parts.

Same exit codes and EMPTY policy as `pkgdrc check` (`pkgdrc.cli_common.exit_code`).
"""

from __future__ import annotations

import inspect
import json
import sys

import click

from pkgdrc.cli_common import allow_empty_option, empty_policy, exit_code, strict_option, user_errors
from pkgdrc.config import load_settings
from pkgdrc.errors import PkgdrcError
from pkgdrc.report import json_report, outputs


@click.group("assembly")
def assembly_group() -> None:
    """Assemblies: dies, interposer, substrate, heat sink as separate layouts, checked together."""


@assembly_group.command("check")
@click.argument("assembly_file", metavar="ASSEMBLY.yaml", type=click.Path(dir_okay=False))
@click.option("--json", "json_path", type=click.Path(), help="Write the full JSON report here.")
@click.option("--junit", "junit_path", type=click.Path(), help="Write JUnit XML here.")
@click.option(
    "--lyrdb",
    "lyrdb_path",
    type=click.Path(),
    help="Write a KLayout marker database here; with {part} in the path, one per part in its own "
    "coordinates (opens over that part's layout).",
)
@click.option("--html", "html_path", type=click.Path(), help="Write a self-contained HTML report here ({part} too).")
@click.option("--waivers", "waivers_path", type=click.Path(), help="Waiver file (YAML) of accepted violations.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="What to print on stdout: the text summary, the JSON report, GitHub annotations.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on stdout.")
@strict_option
@allow_empty_option
@user_errors
def assembly_check_cmd(
    assembly_file: str,
    json_path: str | None,
    junit_path: str | None,
    lyrdb_path: str | None,
    html_path: str | None,
    waivers_path: str | None,
    fmt: str,
    quiet: bool,
    strict: bool | None,
    allow_empty: bool | None,
) -> None:
    """Check an assembly: its cross-part rules and each part's own deck; exit 1 on violations.

    Exit 0 only when every rule was checked and passed: a rule whose input layer has no
    shape is EMPTY, and a run with EMPTY rules and no violations exits 2 unless
    --allow-empty (with --strict, any EMPTY rule exits 2), as in `pkgdrc check`.
    Report paths may contain {stem} (the assembly file's name without suffix) and, except
    --junit, {part}: one report per part, in that part's own coordinates.
    """
    # Imported here: the assembly engine pulls in scipy.spatial, a quarter of a second that
    # `pkgdrc check` on a small layout need not pay (pkgdrc.cli registers these commands).
    from pkgdrc.assembly import check_assembly, load_assembly
    from pkgdrc.assembly import outputs as assembly_outputs

    cli = {
        "waivers": waivers_path,
        "json": json_path,
        "junit": junit_path,
        "lyrdb": lyrdb_path,
        "html": html_path,
        "strict": strict,
        "allow-empty": allow_empty,
    }
    settings = load_settings(cli, assembly_file)
    strict_run, allow_empty_run = empty_policy(settings)
    where = assembly_outputs.paths(load_assembly(assembly_file), settings)
    result = check_assembly(assembly_file, waivers=settings.get("waivers"))
    assembly_outputs.write(result, where)
    if not quiet:
        click.echo(
            json.dumps(json_report.to_dict(result.report), indent=1)
            if fmt == "json"
            else outputs.stdout(result.report, fmt),
            nl=fmt == "json",
        )
    sys.exit(exit_code([result.report], strict_run, allow_empty_run))


@assembly_group.command("explain")
@click.argument("kind")
@user_errors
def assembly_explain_cmd(kind: str) -> None:
    """Explain an assembly check kind (align, net_match, keepout, space, inside, covers, stack)."""
    from pkgdrc.assembly.kinds import KINDS

    if kind not in KINDS:
        raise PkgdrcError(f"no assembly check kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")
    click.echo(inspect.cleandoc(KINDS[kind].doc))
