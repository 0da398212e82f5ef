"""Check kinds: one module each, listed explicitly here.

A check module has a docstring (what `pkgdrc explain` prints), `PARAMS` (name -> Param),
`limit(params)` (the value reports show as the limit) and
`run(layers, layer, params) -> list[Violations]`, called once per layer named in the rule.
It may define `validate(params) -> str | None` for relations between parameters, and
`stack_names(params)`: names it reads from the deck's `stack:` section (checked at load).
A check that reads `layers.nets` defines `needs_nets(params) -> bool` (then the deck must have `connect:`).
A kind without `layer` runs once per rule, its markers on a pseudo-layer named for the kind;
one whose markers depend on whole layers sets `WHOLE_LAYOUT = True` (never split into tiles).
A kind whose markers depend only on shapes within the rule's reach sets `LOCAL = True`:
on layouts with repeated cells it runs cell by cell (`pkgdrc.cellwise`). The reach is the
largest distance or range parameter, unless the module defines `reach(params) -> um`.
"""

from __future__ import annotations

from types import ModuleType

from pkgdrc.checks import angle, area, enclosure, inside, overlap, separation, space, width
from pkgdrc.checks import covers, keepout, one_to_one, pitch, stack
from pkgdrc.checks import connectivity, density, fanout, passivation, trace_width, via_landing

CHECKS: dict[str, ModuleType] = {
    "width": width,
    "space": space,
    "separation": separation,
    "enclosure": enclosure,
    "overlap": overlap,
    "inside": inside,
    "angle": angle,
    "area": area,
    "covers": covers,
    "one_to_one": one_to_one,
    "pitch": pitch,
    "keepout": keepout,
    "stack": stack,
    "via_landing": via_landing,
    "fanout": fanout,
    "trace_width_vs_die": trace_width,
    "passivation": passivation,
    "connectivity": connectivity,
    "density": density,
}
