"""The command line: parse options, call the library, map errors to exit codes.

Exit codes: 0 no violations, 1 violations found, 2 the run could not be done.
"""

from __future__ import annotations

import functools
import inspect
import sys

import click

from pkgdrc import __version__
from pkgdrc.checks import CHECKS
from pkgdrc.deck import bundled_decks, load_deck
from pkgdrc.errors import PkgdrcError
from pkgdrc.report import json_report, text
from pkgdrc.report.files import check_writable, write_atomic
from pkgdrc.run import DEFAULT_DECK, check

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2


def _user_errors(fn):
    """Turn a PkgdrcError into one line on stderr and exit 2 (click's own errors exit 1)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PkgdrcError as e:
            click.echo(f"pkgdrc: error: {e}", err=True)
            sys.exit(EXIT_ERROR)
    return wrapper


deck_option = click.option("--deck", "-d", default=DEFAULT_DECK, show_default=True,
                           help="Rule deck: a YAML path or the name of a bundled deck.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pkgdrc")
def main() -> None:
    """pkgdrc: design-rule checks for advanced-package layouts (GDSII, OASIS)."""


@main.command("check")
@click.argument("layout", type=click.Path(dir_okay=True))
@deck_option
@click.option("--top", help="Top cell (needed when the layout has several).")
@click.option("--rule", "rules", multiple=True, help="Run only this rule id (repeatable).")
@click.option("--json", "json_path", type=click.Path(), help="Write the full JSON report here.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on stdout.")
@_user_errors
def check_cmd(layout: str, deck: str, top: str | None, rules: tuple[str, ...], json_path: str | None,
              quiet: bool) -> None:
    """Check LAYOUT against a deck; exit 1 when there are violations."""
    if json_path:
        check_writable(json_path)
    report = check(layout, deck, top=top, rules=list(rules) or None)
    if json_path:
        write_atomic(json_path, json_report.dumps(report))
    if not quiet:
        click.echo(text.render(report), nl=False)
    sys.exit(EXIT_VIOLATIONS if report.violations else EXIT_CLEAN)


@main.command("rules")
@deck_option
@_user_errors
def rules_cmd(deck: str) -> None:
    """List the rules of a deck: id, check kind, parameters and doc."""
    d = load_deck(deck)
    click.echo(f"deck {d.name} ({d.path}): {len(d.rules)} rules")
    for r in d.rules:
        params = ", ".join(f"{k}={v}" for k, v in r.params.items() if v is not None)
        summary = r.doc or _first_line(CHECKS[r.check].__doc__)
        click.echo(f"{r.id:<14} {r.check:<11} {params}\n{'':<14} {summary}")


@main.command("explain")
@click.argument("rule_or_kind")
@deck_option
@_user_errors
def explain_cmd(rule_or_kind: str, deck: str) -> None:
    """Explain a rule of the deck (or a check kind): what it checks, precisely."""
    if rule_or_kind in CHECKS:
        click.echo(inspect.cleandoc(CHECKS[rule_or_kind].__doc__))
        return
    d = load_deck(deck)
    r = d.rule(rule_or_kind)
    params = "\n".join(f"  {k}: {v}    # {CHECKS[r.check].PARAMS[k].doc}" for k, v in r.params.items())
    click.echo(f"{r.id}: {r.doc or '(no doc in the deck)'}\n  deck {d.name}, line {r.line}\n"
               f"  check: {r.check}\n{params}\n\n{inspect.cleandoc(CHECKS[r.check].__doc__)}")


@main.command("decks")
def decks_cmd() -> None:
    """List the bundled decks."""
    for name, path in sorted(bundled_decks().items()):
        click.echo(f"{name:<16} {path}")


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc else ""


if __name__ == "__main__":
    main()
