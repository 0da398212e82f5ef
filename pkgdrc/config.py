"""Project configuration: `[tool.pkgdrc]` in pyproject.toml, or a pkgdrc.toml.

Found by walking up from the current directory, as ruff and pytest do: in each
directory a pkgdrc.toml (top-level keys) wins over a pyproject.toml, and a pyproject.toml
counts only when it has a [tool.pkgdrc] table. The first directory with either is used.

    [tool.pkgdrc]
    deck = "rules/fowlp-2l.yaml"     # path or bundled deck name
    top = "PKG_TOP"
    waivers = "drc/waivers.yaml"
    json = "build/drc/{stem}.json"   # report paths; {stem} = the layout's file name stem
    junit = "build/drc/junit.xml"
    lyrdb = "build/drc/{stem}.lyrdb"
    html = "build/drc/{stem}.html"
    strict = true                    # exit 2 when a rule has an empty input layer (--strict)
    allow-empty = false              # accept rules with an empty input layer (--allow-empty)
    cache = ".pkgdrc-cache"          # the result cache's folder (--cache DIR), or false (--no-cache)
    cache-max-mb = 2048              # its size bound; least recently used entries go first

    [tool.pkgdrc.per-file-decks]     # glob on the layout path (relative to the config's
    "chips/hbm/*.gds" = "fowlp-3l"   # directory) -> deck; the first match wins

A pyproject.toml that is not valid TOML (not UTF-8, a syntax error) is an error when it
mentions pkgdrc; one that does not cannot configure pkgdrc and is skipped with a warning
(`Settings.warnings`), so that a stranger's broken file in a parent folder does not
stop the run. A broken pkgdrc.toml is always an error.

Relative paths in the file are relative to its directory. The result cache is on by
default, in `.pkgdrc-cache/` next to the config file that was found, else in the current
directory (`cache_dir`). Command-line options win over the file, the file over the
defaults; `Settings.source` says where each value came from.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pkgdrc.errors import PkgdrcError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PATH_KEYS = ("waivers", "json", "junit", "lyrdb", "html")
FLAG_KEYS = ("strict", "allow-empty")
CACHE_KEYS = ("cache", "cache-max-mb")
KEYS = ("deck", "top", *PATH_KEYS, *FLAG_KEYS, *CACHE_KEYS)
TABLE_KEYS = ("per-file-decks",)
DEFAULTS = {"deck": "fowlp-2l"}
DEFAULT_SOURCE = "default"
DEFAULT_CACHE_DIR = ".pkgdrc-cache"
DEFAULT_CACHE_MAX_MB = 2048
CLI_SOURCE = "command line"
CACHE_ENV = "PKGDRC_CACHE_DIR"  # the cache folder, below the command line, above the config file


@dataclass
class Settings:
    """Effective settings: value and source ("command line", "FILE", "FILE [per-file-decks] GLOB", "default")."""

    values: dict[str, object] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    path: Path | None = None  # the config file, if one was found
    per_file_decks: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # config files skipped, for the CLI to print

    def get(self, key: str):
        return self.values.get(key)


def find_config(start: Path | None = None, warnings: list[str] | None = None) -> tuple[Path, dict] | None:
    """The nearest config file at or above `start` (default: the cwd) and its pkgdrc table.

    A pyproject.toml that cannot be read as TOML and does not mention pkgdrc is skipped,
    with a line in `warnings`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        own = folder / "pkgdrc.toml"
        if own.is_file():
            return own, _read(own)
        project = folder / "pyproject.toml"
        if project.is_file():
            try:
                table = _read(project).get("tool", {}).get("pkgdrc")
            except PkgdrcError as e:
                if _mentions_pkgdrc(project):
                    raise
                if warnings is not None:
                    warnings.append(f"{e}; skipped (it has no [tool.pkgdrc])")
                continue
            if table is not None:
                return project, table
    return None


def _mentions_pkgdrc(path: Path) -> bool:
    """Whether the file's bytes name pkgdrc (in ASCII/UTF-8, or UTF-16 either way)."""
    try:
        data = path.read_bytes()
    except OSError:
        return True
    return any(w in data for w in (b"pkgdrc", "pkgdrc".encode("utf-16-le"), "pkgdrc".encode("utf-16-be")))


def _read(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise PkgdrcError(f"TOML syntax error: {e}", path=str(path)) from None
    except UnicodeDecodeError as e:
        raise PkgdrcError(
            f"not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}); a TOML file is UTF-8", path=str(path)
        ) from None
    except OSError as e:
        raise PkgdrcError(f"cannot read config: {e.strerror}", path=str(path)) from None


def _validate(path: Path, table: dict) -> None:
    where = "[tool.pkgdrc]" if path.name == "pyproject.toml" else "pkgdrc.toml"
    for key, value in table.items():
        if key in TABLE_KEYS:
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise PkgdrcError(f'{where} {key} must be a table of "glob" = "deck"', path=str(path))
        elif key not in KEYS:
            raise PkgdrcError(
                f"{where}: unknown key {key!r}; expected one of {', '.join(KEYS + TABLE_KEYS)}", path=str(path)
            )
        elif key in FLAG_KEYS:
            if not isinstance(value, bool):
                raise PkgdrcError(f"{where} {key} must be true or false, got {value!r}", path=str(path))
        elif key == "cache":
            if not isinstance(value, (str, bool)) or value == "":
                raise PkgdrcError(f'{where} cache must be a folder ("path") or false, got {value!r}', path=str(path))
        elif key == "cache-max-mb":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise PkgdrcError(f"{where} cache-max-mb must be a whole number >= 1, got {value!r}", path=str(path))
        elif not isinstance(value, str):
            raise PkgdrcError(f"{where} {key} must be a string, got {type(value).__name__}", path=str(path))


def _resolve(base: Path, value: str) -> str:
    """A path from the config file, relative to its directory; bare deck names stay names."""
    p = Path(value)
    return value if p.is_absolute() else os.path.relpath(base / p)


def load_settings(cli: Mapping[str, object], layout: str | None = None, start: Path | None = None) -> Settings:
    """Merge command-line values (None = not given), the config file and the defaults.

    With `layout`, a matching per-file-decks glob sets the deck (unless --deck was given).
    """
    s = Settings()
    found = find_config(start, s.warnings)
    table: dict = {}
    if found:
        s.path, table = found
        _validate(s.path, table)
    base = s.path.parent if s.path else Path.cwd()
    label = str(s.path) if s.path else ""
    s.per_file_decks = dict(table.get("per-file-decks", {}))
    for key in KEYS:
        if cli.get(key) is not None:
            s.values[key], s.source[key] = cli[key], CLI_SOURCE
        elif key in table:
            value = table[key]
            is_path = isinstance(value, str) and (
                key in PATH_KEYS or key == "cache" or (key == "deck" and value.endswith((".yaml", ".yml")))
            )
            s.values[key], s.source[key] = (_resolve(base, value) if is_path else value), label
        elif key in DEFAULTS:
            s.values[key], s.source[key] = DEFAULTS[key], DEFAULT_SOURCE
    if layout is not None and s.source.get("deck") != CLI_SOURCE:
        rel = Path(os.path.relpath(Path(layout).resolve(), base.resolve())).as_posix()
        for glob, deck in s.per_file_decks.items():
            if fnmatch.fnmatch(rel, glob) or fnmatch.fnmatch(Path(layout).name, glob):
                is_path = deck.endswith((".yaml", ".yml"))
                s.values["deck"] = _resolve(base, deck) if is_path else deck
                s.source["deck"] = f"{label} [per-file-decks] {glob!r}"
                break
    return s


def cache_dir(s: Settings) -> str | None:
    """The result cache's folder: --cache / --no-cache, else $PKGDRC_CACHE_DIR (as ruff's
    RUFF_CACHE_DIR: a CI job's persisted folder), else `cache = "path"` / `cache = false`,
    else `.pkgdrc-cache` next to the config file (else in the current directory); None when off."""
    value = s.values.get("cache")
    env = os.environ.get(CACHE_ENV)
    if env and s.source.get("cache") != CLI_SOURCE:
        return env
    if value is False:
        return None
    if isinstance(value, str):
        return value
    return os.path.relpath((s.path.parent if s.path else Path.cwd()) / DEFAULT_CACHE_DIR)


def cache_max_bytes(s: Settings) -> int:
    """The cache's size bound in bytes (`cache-max-mb`, MiB)."""
    mb = s.values.get("cache-max-mb")
    return (mb if isinstance(mb, int) else DEFAULT_CACHE_MAX_MB) * 2**20


def render(s: Settings) -> str:
    """What `pkgdrc config` prints: each key, its value and where it came from."""
    lines = [f"config file: {s.path or '(none found from ' + str(Path.cwd()) + ' upwards)'}"]
    defaults = {"cache": cache_dir(s) or False, "cache-max-mb": DEFAULT_CACHE_MAX_MB}
    for key in KEYS:
        value = defaults[key] if key == "cache" else s.values.get(key, defaults.get(key))
        source = s.source.get(key, DEFAULT_SOURCE if key in defaults else "not set")
        if key == "cache" and os.environ.get(CACHE_ENV) and source != CLI_SOURCE:
            source = f"environment {CACHE_ENV}"
        shown = "(not set)" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        lines.append(f"{key:<8} = {shown:<40} # {source}")
    for glob, deck in s.per_file_decks.items():
        lines.append(f"per-file-decks: {glob!r} -> {deck}")
    return "\n".join(lines) + "\n"


def report_path(template: str, layout: str, several: bool, key: str) -> str:
    """A report path for one layout; `{stem}` is the layout's file name without suffix."""
    if "{stem}" in template:
        return template.replace("{stem}", Path(layout).stem)
    if several and key != "junit":
        raise PkgdrcError(
            f"several layouts but one --{key} path; put {{stem}} in it "
            f"(e.g. drc/{{stem}}.{key}) to write one per layout",
            path=template,
        )
    return template
