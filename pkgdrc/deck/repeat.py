"""The deck's `repeat:` table: one template entry written once per level (RDL1..RDLn).

    repeat:                          # one column per level; every entry with $var is copied per column
      n:     [1, 2, 3]
      below: [DIE_PAD, RDL1, RDL2]
      via:   [10/0, 12/0, 14/0]
    layers:
      VIA$n: $via                    # -> VIA1: 10/0, VIA2: 12/0, VIA3: 14/0
    rules:
      VIA$n.EN.BOT: {check: enclosure, layer: VIA$n, by: $below, min: 1.0}

Variables are lower-case names (`[a-z][a-z0-9]*`), so `RDL$n_TRACE` reads as `RDL` +
`$n` + `_TRACE`. An entry of `layers`, `derived`, `stack` or `rules` whose key holds a
`$var` is a template: it is replaced by one entry per column, with every `$var` in the
key and in its string values (nested lists and mappings too) replaced by that column's
value. A value that is exactly `$var` takes the column's value as is (a number stays a
number). Expanded entries keep the template's line, so errors point at the template.
Adding a level is adding one value to each column.
"""

from __future__ import annotations

import re
from typing import Any

from pkgdrc.deck.yamlread import LineDict
from pkgdrc.errors import PkgdrcError

SECTIONS = ("layers", "derived", "stack", "rules")
_VAR = re.compile(r"\$([a-z][a-z0-9]*)")


def _columns(table: Any, path: str, line: int) -> list[dict[str, Any]]:
    """The repeat table as one {var: value} dict per level."""
    if not isinstance(table, LineDict) or not table:
        raise PkgdrcError(
            "repeat must be a mapping of lower-case variables to equal-length lists, "
            "e.g. {n: [1, 2], below: [DIE_PAD, RDL1]}",
            path=path,
            line=line,
        )
    lengths = set()
    for var, values in table.items():
        if not isinstance(var, str) or not re.fullmatch(r"[a-z][a-z0-9]*", var):
            raise PkgdrcError(
                f"repeat variable {var!r} must be a lower-case name like n or below", path=path, line=table.line_of(var)
            )
        if not isinstance(values, list) or not values:
            raise PkgdrcError(
                f"repeat variable {var}: expected a non-empty list, got {values!r}", path=path, line=table.line_of(var)
            )
        lengths.add(len(values))
    if len(lengths) != 1:
        sizes = ", ".join(f"{v}: {len(x)}" for v, x in table.items())
        raise PkgdrcError(f"repeat lists must have equal lengths ({sizes})", path=path, line=line)
    return [{var: values[i] for var, values in table.items()} for i in range(lengths.pop())]


def _substitute(value: Any, column: dict[str, Any], path: str, line: int) -> Any:
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        for var in _VAR.findall(value):
            if var not in column:
                raise PkgdrcError(
                    f"unknown repeat variable ${var} (repeat declares {', '.join('$' + v for v in column)})",
                    path=path,
                    line=line,
                )
        if whole:
            return column[whole.group(1)]
        return _VAR.sub(lambda m: str(column[m.group(1)]), value)
    if isinstance(value, list):
        return [_substitute(v, column, path, line) for v in value]
    if isinstance(value, LineDict):
        out = LineDict()
        out.line, out.key_lines = value.line, dict(value.key_lines)
        for k, v in value.items():
            out[k] = _substitute(v, column, path, line)
        return out
    return value


def expand(data: LineDict, path: str) -> None:
    """Replace template entries of the deck's sections in place (no-op without `repeat:`)."""
    if "repeat" not in data:
        for section in SECTIONS:
            body = data.get(section)
            if not isinstance(body, LineDict):
                continue
            for key in body:
                if isinstance(key, str) and (var := _VAR.search(key)):
                    raise PkgdrcError(
                        f"{section} entry {key!r} uses ${var.group(1)} but the deck has no repeat: table",
                        path=path,
                        line=body.line_of(key),
                    )
        return
    columns = _columns(data["repeat"], path, data.line_of("repeat"))
    for section in SECTIONS:
        body = data.get(section)
        if not isinstance(body, LineDict):
            continue
        out = LineDict()
        out.line, out.key_lines = body.line, {}
        for key, value in body.items():
            line = body.line_of(key)
            copies = (
                [(key, value)]
                if not (isinstance(key, str) and _VAR.search(key))
                else [(_substitute(key, c, path, line), _substitute(value, c, path, line)) for c in columns]
            )
            for k, v in copies:
                if k in out:
                    raise PkgdrcError(
                        f"{section} entry {k!r} is defined twice (first on line {out.key_lines[k]})",
                        path=path,
                        line=line,
                    )
                out[k] = v
                out.key_lines[k] = line
        data[section] = out
