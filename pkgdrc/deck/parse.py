"""Reading helpers shared by decks and assembly files: layer specs, stack heights, finite
numbers, rule parameters and "did you mean" hints. Every error names the file and line.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from pkgdrc.deck.params import Param
from pkgdrc.deck.yamlread import LineDict
from pkgdrc.errors import PkgdrcError

LAYER_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
MAX_LAYER = 65535


def did_you_mean(word: object, options: Iterable[object]) -> str:
    """The hint ` (did you mean 'RDL1'?)` naming the option closest to `word`, or "" when none is close."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def layer_spec(value: Any) -> tuple[int, int]:
    """`11/0` or `11` -> (11, 0); each number 0 to 65535 (GDSII stores them in 16 bits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        spec = value, 0
    else:
        m = LAYER_SPEC.match(str(value)) if isinstance(value, str) else None
        if not m:
            raise ValueError(f"expected layer/datatype like 11/0, got {value!r}")
        spec = int(m.group(1)), int(m.group(2))
    for what, number in zip(("layer", "datatype"), spec):
        if number > MAX_LAYER:
            raise ValueError(
                f"{what} number {number} is above {MAX_LAYER} (GDSII layers and datatypes are "
                f"16-bit: no layout can have it), in {value!r}"
            )
    return spec


def stack_heights(raw: LineDict, path: str) -> dict[str, float]:
    """The `stack:` section: NAME: thickness, depth or height in um (a number >= 0)."""
    out = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not NAME.match(key):
            raise PkgdrcError(
                f"stack name {key!r} must be an identifier like DIE or RDL1", path=path, line=raw.line_of(key)
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise PkgdrcError(
                f"stack {key}: expected a thickness in um (a number >= 0), got {value!r}",
                path=path,
                line=raw.line_of(key),
            )
        out[key] = float(value)
    return out


def refuse_non_finite(node: Any, path: str, line: int = 1) -> None:
    """No deck value may be .nan or .inf: a NaN limit compares false and would pass everything."""
    if isinstance(node, float) and not math.isfinite(node):
        raise PkgdrcError(f"{node!r} is not a usable number; expected a finite number", path=path, line=line)
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        refuse_non_finite(value, path, node.line_of(key) if isinstance(node, LineDict) else line)


def rule_kind(rid: str, body: object, kinds: Iterable[str], path: str, line: int, noun: str = "check kind") -> str:
    """The `check:` of rule `rid`'s body, which must be a mapping naming one of `kinds`."""
    if not isinstance(body, LineDict):
        raise PkgdrcError(f"rule {rid}: expected a mapping {{check: KIND, ...}}, got {body!r}", path=path, line=line)
    kind = body.get("check")
    names = list(kinds)
    if not isinstance(kind, str) or kind not in names:
        raise PkgdrcError(
            f"rule {rid}: unknown {noun} {kind!r}{did_you_mean(kind, names)}; "
            f"expected one of {', '.join(sorted(names))}",
            path=path,
            line=body.line_of("check"),
        )
    return kind


def rule_params(
    rid: object, body: LineDict, spec: dict[str, Param], path: str, layer_problem: Callable[[str], str | None]
) -> dict[str, Any]:
    """A rule's parameters validated against its kind's `spec` (defaults filled in), each layer
    name checked by `layer_problem` (why it is not a known layer, or None); errors name the line."""
    params: dict[str, Any] = {}
    for pname, param in spec.items():
        if pname not in body:
            if param.required:
                raise PkgdrcError(
                    f"rule {rid}: missing {pname!r} ({param.expected()}: {param.doc})", path=path, line=body.line
                )
            params[pname] = param.default
            continue
        try:
            params[pname] = param.validate(body[pname])
        except ValueError as e:
            raise PkgdrcError(f"rule {rid}: {pname}: {e}", path=path, line=body.line_of(pname)) from None
        if param.kind in ("layer", "layers"):
            for lname in [params[pname]] if param.kind == "layer" else params[pname]:
                problem = layer_problem(lname)
                if problem:
                    raise PkgdrcError(f"rule {rid}: {pname}: {problem}", path=path, line=body.line_of(pname))
    return params
