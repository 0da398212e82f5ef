"""Derived-layer expressions: a tiny grammar of its own, never eval'd.

    expr   := term (('|' | '^') term)*          or, xor     (lowest precedence)
    term   := factor (('&' | '-') factor)*      and, not
    factor := NAME | '(' expr ')' | ('grow' | 'shrink') '(' expr ',' NUMBER ')'

So `A | B - C` means `A | (B - C)`. NUMBER is a distance in um.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<op>[|&^\-(),]))")


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class BinOp:
    op: str  # one of | & - ^
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Size:
    func: str  # grow | shrink
    arg: Expr
    distance: float


Expr = Name | BinOp | Size


class ExprError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"unexpected character {text[pos:].strip()[:1]!r} at column {pos + 1}")
        kind = m.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse(text: str) -> Expr:
    """Parse a derived-layer expression; raises ExprError saying what was expected."""
    toks = _tokens(str(text))
    pos = 0

    def peek() -> tuple[str, str] | None:
        return toks[pos] if pos < len(toks) else None

    def ahead() -> str | None:
        """The next token's text, None at the end."""
        return toks[pos][1] if pos < len(toks) else None

    def take(value: str | None = None, kind: str | None = None) -> str:
        nonlocal pos
        t = peek()
        if t is None or (value is not None and t[1] != value) or (kind is not None and t[0] != kind):
            want = repr(value) if value else (kind or "token")
            raise ExprError(f"expected {want}, found {t[1]!r}" if t else f"expected {want}, found end of expression")
        pos += 1
        return t[1]

    def factor() -> Expr:
        if ahead() == "(":
            take("(")
            e = expr()
            take(")")
            return e
        name = take(kind="name")
        if name in ("grow", "shrink") and ahead() == "(":
            take("(")
            arg = expr()
            take(",")
            d = float(take(kind="num"))
            take(")")
            return Size(name, arg, d)
        return Name(name)

    def level(sub: Callable[[], Expr], ops: tuple[str, ...]) -> Callable[[], Expr]:
        def parse_level() -> Expr:
            left = sub()
            while ahead() in ops:
                op = take()
                left = BinOp(op, left, sub())
            return left

        return parse_level

    term = level(factor, ("&", "-"))
    expr = level(term, ("|", "^"))
    result = expr()
    if (rest := ahead()) is not None:
        raise ExprError(f"unexpected {rest!r} after a complete expression")
    return result


def names(e: Expr) -> set[str]:
    """Layer names an expression refers to."""
    if isinstance(e, Name):
        return {e.name}
    if isinstance(e, Size):
        return names(e.arg)
    return names(e.left) | names(e.right)
