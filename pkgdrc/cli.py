"""The command line: `pkgdrc check` and the small commands (waive, config, rules, explain, decks).

The assembly commands are in `pkgdrc.cli_assembly`; error handling, the exit-code policy
(0 no violations, 1 violations found, 2 the run could not be done) and stdout in
`pkgdrc.cli_common`.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import inspect
import json
import signal
import sys
from typing import cast

import click

from pkgdrc import config
from pkgdrc.cache import Store
from pkgdrc.checks import CHECKS
from pkgdrc.cli_assembly import assembly_group
from pkgdrc.cli_common import (
    allow_empty_option,
    echo,
    empty_policy,
    exit_code,
    stdout_format,
    strict_option,
    user_errors,
)
from pkgdrc.config import load_settings
from pkgdrc.decks import bundled_decks, load_deck
from pkgdrc.errors import PkgdrcError
from pkgdrc.plan import HIERARCHIES, Hierarchy
from pkgdrc.process import Stop, interruptible
from pkgdrc.report import json_report, outputs, text
from pkgdrc.report.files import Staged
from pkgdrc.run import DEFAULT_DECK, check, select_rules
from pkgdrc.safe_read import MAX_SHAPES
from pkgdrc.version import __version__
from pkgdrc.waivers import append_waivers, load_report, load_waivers, waiver_entries

MAX_MEMORY_MB = 2**40  # 1 EiB: setrlimit takes bytes in 63 bits
CACHE_DEFAULT_HELP = "from the config, else .pkgdrc-cache next to the config file or in the current directory"


deck_option = click.option(
    "--deck",
    "-d",
    help=f"Rule deck: a YAML path or the name of a bundled deck [default: from the config, else {DEFAULT_DECK}].",
)


def _deck(deck: str | None):
    """The deck named on the command line, else the project config's, else the default."""
    return load_deck(load_settings({"deck": deck}).get("deck"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pkgdrc")
def main() -> None:
    """pkgdrc: design-rule checks for advanced-package layouts (GDSII, OASIS)."""


@main.command("check")
@click.argument("layouts", metavar="LAYOUT...", nargs=-1, required=True, type=click.Path(dir_okay=True))
@deck_option
@click.option("--top", help="Top cell (needed when the layout has several).")
@click.option("--rule", "rules", multiple=True, help="Run only this rule id (repeatable).")
@click.option("--json", "json_path", type=click.Path(), help="Write the full JSON report here (- for stdout).")
@click.option(
    "--json-indent",
    type=click.IntRange(min=0, max=16),
    metavar="N",
    help="Indent the JSON report (and --format json) by N spaces [default: compact, one line].",
)
@click.option(
    "--junit", "junit_path", type=click.Path(), help="Write JUnit XML here (one testsuite per layout; - for stdout)."
)
@click.option("--lyrdb", "lyrdb_path", type=click.Path(), help="Write a KLayout marker database here (- for stdout).")
@click.option("--html", "html_path", type=click.Path(), help="Write a self-contained HTML report here (- for stdout).")
@click.option("--waivers", "waivers_path", type=click.Path(), help="Waiver file (YAML) of accepted violations.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    help="What to print on stdout: the text summary (default), the JSON report, GitHub annotations.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print no summary on stdout, and no progress bar.")
@strict_option
@allow_empty_option
@click.option(
    "--max-shapes",
    type=click.IntRange(min=1),
    default=MAX_SHAPES,
    show_default=True,
    help="Refuse a layout whose flattening would make more shapes and cell placements.",
)
@click.option(
    "--max-memory",
    type=click.IntRange(min=1, max=MAX_MEMORY_MB),
    metavar="MIB",
    help="Stop the run (exit 2) when one of its processes grows by more than this, in MiB: the "
    "resident memory of this process and of each worker above its start, the address space of "
    "the layout reader above its fork.",
)
@click.option(
    "--read-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Give up reading a layout after this long (exit 2): a corrupt file can make the reader loop.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=0,
    show_default="0: all cores",
    help="Processes to split a large layout across, by tiles (small layouts use one).",
)
@click.option(
    "--dask-scheduler",
    metavar="tcp://HOST:8786",
    help="Run the tiles on this Dask cluster; its workers must see the layout's path.",
)
@click.option(
    "--hierarchy",
    type=click.Choice(HIERARCHIES),
    default=None,
    help="Local rules cell by cell: auto (when the hierarchy at least halves the shapes and the rule "
    "reads 5,000 shapes or more), "
    "cellwise (whenever a cell repeats) or flat (never; same markers, slower) [default: auto].",
)
@click.option("--flat", is_flag=True, help="Same as --hierarchy flat.")
@click.option("--verbose", "-v", is_flag=True, help="Say in the text summary which engine ran each rule.")
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(),
    metavar="DIR",
    help=f"Keep the result cache in DIR [default: {CACHE_DEFAULT_HELP}].",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache: check everything afresh.")
@user_errors
def check_cmd(
    layouts: tuple[str, ...],
    deck: str | None,
    top: str | None,
    rules: tuple[str, ...],
    json_path: str | None,
    json_indent: int | None,
    junit_path: str | None,
    lyrdb_path: str | None,
    html_path: str | None,
    waivers_path: str | None,
    fmt: str | None,
    quiet: bool,
    strict: bool | None,
    allow_empty: bool | None,
    max_shapes: int,
    max_memory: int | None,
    read_timeout: float | None,
    jobs: int,
    dask_scheduler: str | None,
    hierarchy: str | None,
    flat: bool,
    verbose: bool,
    cache_dir: str | None,
    no_cache: bool,
) -> None:
    """Check each LAYOUT against a deck; exit 1 when there are (unwaived) violations.

    Exit 0 only when every selected rule was checked and passed: a rule whose input layer
    has no shape is EMPTY, and a run with EMPTY rules and no violations exits 2 unless
    --allow-empty (with --strict, any EMPTY rule exits 2). Report paths may contain {stem},
    the layout's file name without suffix (needed for --json, --lyrdb and --html with
    several layouts); - is stdout. Everything (decks, rules, waivers, report paths) is
    checked before the first layout is read; the reports are written together at the end.
    Settings not given here come from [tool.pkgdrc] in pyproject.toml or pkgdrc.toml
    (see `pkgdrc config`). Rule results are cached (see `pkgdrc cache --help`); the cache
    never changes a verdict, and a cache that cannot be written is a warning, not an error.
    """
    staged: list[Staged] = []
    with interruptible(functools.partial(_stopped, staged), max_memory * 2**20 if max_memory else None):
        cli = {
            "deck": deck,
            "top": top,
            "waivers": waivers_path,
            "json": json_path,
            "junit": junit_path,
            "lyrdb": lyrdb_path,
            "html": html_path,
            "strict": strict,
            "allow-empty": allow_empty,
            "cache": False if no_cache else cache_dir,
        }
        if no_cache and cache_dir is not None:
            raise PkgdrcError(f"--cache {cache_dir} and --no-cache contradict each other: choose one")
        settings = [load_settings(cli, layout) for layout in layouts]
        for warning in settings[0].warnings:
            click.echo(f"pkgdrc: warning: {warning}", err=True)
        strict, allow_empty = empty_policy(settings[0])
        if flat and hierarchy not in (None, "flat"):
            raise PkgdrcError(f"--flat and --hierarchy {hierarchy} contradict each other: choose one")
        mode = cast(Hierarchy, "flat" if flat else (hierarchy or "auto"))
        decks = {str(s.get("deck")): load_deck(s.get("deck")) for s in settings}
        for s in settings:
            select_rules(decks[str(s.get("deck"))], list(rules) or None)
        waivers = {str(w): load_waivers(w) for w in {s.get("waivers") for s in settings} if w}
        plan = outputs.plan(
            layouts, settings, outputs.inputs(layouts, [d.path for d in decks.values()], settings), json_indent
        )
        staged.append(plan.staged)
        fmt = stdout_format(fmt, plan)
        show = not quiet and fmt is not None
        store = _run_cache(settings[0])
        reports = []
        try:
            for k, (layout, s) in enumerate(zip(layouts, settings)):
                d = decks[str(s.get("deck"))]
                count = len(rules) if rules else len(d.rules)
                with _progress(count, layout, enabled=not quiet and sys.stderr.isatty()) as on_rule:
                    report = check(
                        layout,
                        d,
                        top=s.get("top"),
                        rules=list(rules) or None,
                        waivers=waivers.get(str(s.get("waivers"))),
                        allow_empty=allow_empty,
                        max_shapes=max_shapes,
                        max_memory=max_memory * 2**20 if max_memory else None,
                        read_timeout=read_timeout,
                        on_rule=on_rule,
                        jobs=jobs,
                        dask_scheduler=dask_scheduler,
                        hierarchy=mode,
                        drawing="html" in plan.per_layout[k],
                        cache=store,
                    )
                plan.stage(report, k)
                report.drawing = None  # only the HTML report draws, and it is written
                reports.append(report)
                if show and fmt == "text" and verbose:
                    echo(text.render(report, verbose=True) + outputs.waiver_lines(report))
                elif show and fmt is not None and fmt != "json":
                    echo(outputs.stdout(report, fmt))
            plan.finish(reports)
        finally:
            plan.staged.discard()
            if store is not None:
                store.flush_stats()
                _warn(store.warnings)
        if show and fmt == "json":
            docs = [json_report.to_dict(r) for r in reports]
            echo(json.dumps(docs[0] if len(layouts) == 1 else docs, indent=json_indent, allow_nan=False) + "\n")
        sys.exit(exit_code(reports, strict, allow_empty))


def _warn(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"pkgdrc: warning: {line}", err=True)


def _run_cache(s: config.Settings) -> Store | None:
    """The run's result cache; None when off, or when its folder cannot be written (a warning: a cache
    is an optimization, the run goes on without it)."""
    where = config.cache_dir(s)
    if where is None:
        return None
    store = Store(where, config.cache_max_bytes(s))
    if store.prepare():
        return store
    _warn(store.warnings)
    return None


def _stopped(staged: list[Staged], stop: Stop) -> None:
    """SIGINT/SIGTERM or --max-memory (`pkgdrc.process.interruptible`): remove the staged
    reports, say so in one line."""
    written = any(s.committed for s in staged)
    for s in staged:
        s.discard()
    sys.stdout.flush()
    if stop.signum is None:
        sys.stderr.write(f"pkgdrc: error: {stop.message}\n")
    else:
        sys.stderr.write(
            f"pkgdrc: interrupted by {signal.Signals(stop.signum).name}: the run was stopped; "
            f"{'reports written' if written else 'no report written, old reports kept'}\n"
        )
    sys.stderr.flush()


@contextlib.contextmanager
def _progress(count: int, label: str, enabled: bool):
    """A per-rule progress bar on stderr; yields the `on_rule` callback for `check`."""
    if not enabled:
        yield None
        return
    with click.progressbar(
        length=count, label=label, file=sys.stderr, show_pos=True, item_show_func=lambda rule: rule
    ) as bar:
        started: list[str] = []

        def on_rule(rule) -> None:
            if started:
                bar.update(1, rule.id)
            else:
                bar.update(0, rule.id)
            started.append(rule.id)

        yield on_rule
        bar.update(1)


@main.group("cache")
def cache_group() -> None:
    """The result cache of `pkgdrc check`: how full it is, how often it helped; clear it.

    It lives in .pkgdrc-cache next to the config file (or in the current directory), or
    where `cache = "path"` / --cache DIR say; the folder ignores itself for git.
    """


cache_option = click.option(
    "--cache", "cache_dir", type=click.Path(), metavar="DIR", help=f"The cache folder [default: {CACHE_DEFAULT_HELP}]."
)


def _command_cache(cache_dir: str | None) -> Store | None:
    """The cache `pkgdrc cache ...` works on; None (and a line saying so) when the config turns it off."""
    s = load_settings({"cache": cache_dir})
    where = config.cache_dir(s)
    if where is None:
        click.echo(f"the cache is off (cache = false in {s.path})")
        return None
    return Store(where, config.cache_max_bytes(s))


def _mib(n: int) -> str:
    return f"{n / 2**20:.2f} MiB"


@cache_group.command("info")
@cache_option
@user_errors
def cache_info_cmd(cache_dir: str | None) -> None:
    """Where the cache is, its entries and size, its bound, and the hits and misses since it was cleared."""
    store = _command_cache(cache_dir)
    if store is None:
        return
    i = store.info()
    rate = f"{i.hit_rate:.1%}" if i.hits + i.misses else "n/a (no lookups yet)"
    click.echo(
        f"path      {i.path}{'' if i.path.is_dir() else '  (not created yet)'}\n"
        f"entries   {i.entries}\n"
        f"size      {_mib(i.bytes)} ({i.bytes} bytes)\n"
        f"bound     {i.max_bytes // 2**20} MiB\n"
        f"hits      {i.hits}\n"
        f"misses    {i.misses}\n"
        f"hit rate  {rate}"
    )


@cache_group.command("clear")
@cache_option
@user_errors
def cache_clear_cmd(cache_dir: str | None) -> None:
    """Delete the cache's entries and statistics (the next check computes everything afresh)."""
    store = _command_cache(cache_dir)
    if store is None:
        return
    before = store.info()
    store.clear()
    click.echo(f"{before.path}: cleared {before.entries} entries ({_mib(before.bytes)})")


@main.command("waive")
@click.argument("report_json", metavar="REPORT.json", type=click.Path(exists=True, dir_okay=False))
@click.option("--rule", "rules", multiple=True, help="Waive the markers of this rule (repeatable; default: all).")
@click.option("--reason", required=True, help="Why these violations are accepted (written into each entry).")
@click.option("--owner", default="", help="Who answers for the waivers.")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), help="Last day the waivers apply (YYYY-MM-DD).")
@click.option(
    "--waivers",
    "waivers_path",
    type=click.Path(),
    help="Waiver file to append to [default: from the config, else pkgdrc-waivers.yaml].",
)
@user_errors
def waive_cmd(
    report_json: str, rules: tuple[str, ...], reason: str, owner: str, expires, waivers_path: str | None
) -> None:
    """Write waiver entries for the markers of a JSON report (accept today's state)."""
    data = load_report(report_json)
    path = load_settings({"waivers": waivers_path}).get("waivers") or "pkgdrc-waivers.yaml"
    entries = waiver_entries(data, list(rules), reason, owner, expires.date() if expires else None)
    n = append_waivers(path, entries, f"pkgdrc waive {report_json} on {datetime.date.today().isoformat()}")
    click.echo(
        f"{path}: {n} waiver{'s' if n != 1 else ''} written"
        f"{f' ({len(entries) - n} already there)' if len(entries) > n else ''}"
    )


@main.command("config")
@click.argument("layout", required=False)
@user_errors
def config_cmd(layout: str | None) -> None:
    """Print the effective configuration and where each value comes from (for LAYOUT, if given)."""
    click.echo(config.render(load_settings({}, layout)), nl=False)


@main.command("rules")
@deck_option
@user_errors
def rules_cmd(deck: str | None) -> None:
    """List the rules of a deck: id, check kind, parameters and doc."""
    d = _deck(deck)
    click.echo(f"deck {d.name} ({d.path}): {len(d.rules)} rules")
    for r in d.rules:
        params = ", ".join(f"{k}={v}" for k, v in r.params.items() if v is not None)
        summary = r.doc or _first_line(CHECKS[r.check].doc)
        click.echo(f"{r.id:<14} {r.check:<11} {params}\n{'':<14} {summary}")


@main.command("explain")
@click.argument("rule_or_kind")
@deck_option
@user_errors
def explain_cmd(rule_or_kind: str, deck: str | None) -> None:
    """Explain a rule of the deck (or a check kind): what it checks, precisely."""
    if rule_or_kind in CHECKS:
        click.echo(inspect.cleandoc(CHECKS[rule_or_kind].doc))
        return
    d = _deck(deck)
    r = d.rule(rule_or_kind)
    params = "\n".join(f"  {k}: {v}    # {CHECKS[r.check].params[k].doc}" for k, v in r.params.items())
    click.echo(
        f"{r.id}: {r.doc or '(no doc in the deck)'}\n  deck {d.name}, line {r.line}\n"
        f"  check: {r.check}\n{params}\n\n{inspect.cleandoc(CHECKS[r.check].doc)}"
    )


@main.command("decks")
def decks_cmd() -> None:
    """List the bundled decks."""
    for name, path in sorted(bundled_decks().items()):
        click.echo(f"{name:<16} {path}")


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc else ""


main.add_command(assembly_group)

if __name__ == "__main__":
    main()
