"""Running a single-layout check kind across parts: its layers are placed PART.LAYERs."""

from __future__ import annotations

import functools

from pkgdrc.assembly.kinds.kind import AssemblyKind
from pkgdrc.checks.kind import CheckKind
from pkgdrc.markers import Violations


def run_on_placed(kind: CheckKind, ctx, p: dict) -> list[tuple[str, Violations]]:
    """`kind.run` on the assembly's placed layers, once per `layer`."""
    layers = p["layer"] if isinstance(p["layer"], list) else [p["layer"]]
    return [(name, v) for name in layers for v in kind.run(ctx.layers, name, p) if len(v)]


def across_parts(name: str, doc: str | None, kind: CheckKind) -> AssemblyKind:
    """The assembly kind `name` that runs the single-layout `kind` (its parameters and limit) across parts."""
    return AssemblyKind(name, doc or "", kind.params, functools.partial(run_on_placed, kind), kind.limit)
