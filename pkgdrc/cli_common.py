"""What every pkgdrc command shares: errors as one line and exit 2, the exit-code policy
of a check run (EMPTY rules, --strict, --allow-empty), and what goes to stdout.

Exit codes: 0 no violations, 1 violations found, 2 the run could not be done.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Sequence

import click

from pkgdrc.config import Settings
from pkgdrc.errors import PkgdrcError
from pkgdrc.report import outputs, text
from pkgdrc.report.files import write_error
from pkgdrc.result import Report

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2

strict_option = click.option(
    "--strict/--no-strict",
    default=None,
    help="Exit 2 when any selected rule has an empty input layer, even with violations "
    "[default: from the config, else off].",
)
allow_empty_option = click.option(
    "--allow-empty/--no-allow-empty",
    default=None,
    help="Accept rules whose input layers have no shape (reported EMPTY) and a layout in which "
    "no deck layer has a shape: exit 0 if nothing fails [default: from the config, else off: exit 2].",
)


def user_errors(fn):
    """Turn a PkgdrcError into one line on stderr and exit 2 (click's own errors exit 1); a bug exits 2 too.

    Running out of memory is one line and exit 2 (an interrupt: see `pkgdrc.cli._stopped`).
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PkgdrcError as e:
            fail(f"error: {e}", EXIT_ERROR)
        except MemoryError as e:
            fail(f"error: out of memory ({str(e) or 'MemoryError'}): the run could not be done", EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception:  # a bug: keep the traceback, but never let Python's exit 1 read as "violations"
            traceback.print_exc()
            click.echo("pkgdrc: internal error (a bug in pkgdrc, traceback above): the run could not be done", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


def fail(line: str, code: int) -> None:
    click.echo(f"pkgdrc: {line}", err=True)
    sys.exit(code)


def echo(out: str) -> None:
    """Print on stdout; a full disk or a closed pipe is one error line, not a traceback."""
    try:
        click.echo(out, nl=False)
    except OSError as e:
        raise write_error(e, "stdout") from None


def empty_policy(settings: Settings) -> tuple[bool, bool]:
    """(strict, allow_empty) from the command line or the config; both at once is an error."""
    strict, allow_empty = bool(settings.get("strict")), bool(settings.get("allow-empty"))
    if strict and allow_empty:
        raise PkgdrcError(
            "--strict and --allow-empty (or strict and allow-empty in the config) contradict each other: choose one"
        )
    return strict, allow_empty


def exit_code(reports: Sequence[Report], strict: bool, allow_empty: bool) -> int:
    """1 with violations, 0 when every rule passed; 2 (a PkgdrcError) when rules could not check.

    A rule whose input layer has no shape is EMPTY: a run with EMPTY rules and no violations
    exits 2 unless `allow_empty`; with `strict`, any EMPTY rule exits 2.
    """
    several = len(reports) > 1

    def listed(pick) -> tuple[int, str]:
        parts = [(f"{r.layout}: " if several else "") + text.empty_inputs_text(pick(r)) for r in reports if pick(r)]
        return sum(len(pick(r)) for r in reports), "; ".join(parts)

    with_empty = [r for rep in reports for r in rep.rules if r.empty_inputs]
    if strict and with_empty:
        n, which = listed(lambda rep: [r for r in rep.rules if r.empty_inputs])
        raise PkgdrcError(f"{n} rule{'s' * (n != 1)} had an empty input layer ({which}) and --strict is set")
    if any(r.violations for r in reports):
        return EXIT_VIOLATIONS
    if any(r.empty for r in reports) and not allow_empty:
        n, which = listed(lambda rep: rep.empty)
        raise PkgdrcError(
            f"{n} rule{'s' * (n != 1)} could not check: empty input ({which}); the run is not "
            "clean (--allow-empty accepts empty layers)"
        )
    return EXIT_CLEAN


def stdout_format(fmt: str | None, plan: outputs.Plan) -> str | None:
    """What --format prints, None when a report goes to stdout (which takes one thing)."""
    if not plan.to_stdout:
        return fmt or "text"
    if fmt is not None:
        raise PkgdrcError(f"a report goes to stdout (-), and so would --format {fmt}: stdout takes one")
    return None
