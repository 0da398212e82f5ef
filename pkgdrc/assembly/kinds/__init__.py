"""Assembly check kinds: one module each, declaring one `KIND = AssemblyKind(...)`
(`pkgdrc.assembly.kinds.kind`), registered here, explicitly, one line each.

`KINDS` maps an assembly rule's `check:` name to its AssemblyKind.
"""

from __future__ import annotations

from pkgdrc.assembly.kinds import (
    align,
    covers,
    inside,
    keepout,
    net_match,
    space,
    stack,
)
from pkgdrc.assembly.kinds.kind import AssemblyKind

__all__ = ["KINDS", "AssemblyKind", "register"]

KINDS: dict[str, AssemblyKind] = {}


def register(kind: AssemblyKind) -> None:
    """Add a kind to the registry; anything but an AssemblyKind, or a second kind of the same name, is refused."""
    if not isinstance(kind, AssemblyKind):
        raise TypeError(f"register() takes an AssemblyKind, got {type(kind).__name__}")
    if kind.name in KINDS:
        raise ValueError(f"assembly check kind {kind.name!r} is registered twice")
    KINDS[kind.name] = kind


register(align.KIND)
register(net_match.KIND)
register(keepout.KIND)
register(space.KIND)
register(inside.KIND)
register(covers.KIND)
register(stack.KIND)
