"""Assembly check kinds: one module each, listed explicitly here.

A kind module has a docstring (what `pkgdrc assembly explain` prints), `PARAMS` (name ->
Param; layer parameters name PART.LAYER), `limit(params)`, and
`run(ctx, params) -> list[(layer, Violations)]` on a `pkgdrc.assembly.layers.AssemblyLayers`,
in assembly dbu. Optional: `validate(params) -> str | None`, `stack_names(params)`,
`needs_nets = True` (each part it reads needs a deck with `connect:`).
"""

from __future__ import annotations

from types import ModuleType

from pkgdrc.assembly.kinds import (
    align,
    covers,
    inside,
    keepout,
    net_match,
    space,
    stack,
)

KINDS: dict[str, ModuleType] = {
    "align": align,
    "net_match": net_match,
    "keepout": keepout,
    "space": space,
    "inside": inside,
    "covers": covers,
    "stack": stack,
}
