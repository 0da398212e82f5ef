"""Running a single-layout check kind across parts: its layers are placed PART.LAYERs."""

from __future__ import annotations

from pkgdrc.markers import Violations


def run_on_placed(kind, ctx, p: dict) -> list[tuple[str, Violations]]:
    """`kind.run` (a pkgdrc.checks module) on the assembly's placed layers, once per `layer`."""
    layers = p["layer"] if isinstance(p["layer"], list) else [p["layer"]]
    return [(name, v) for name in layers for v in kind.run(ctx.layers, name, p) if len(v)]
