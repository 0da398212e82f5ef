"""The contract of an assembly check kind: one `AssemblyKind` value per kind module (`KIND = AssemblyKind(...)`).

As `pkgdrc.checks.kind.CheckKind` for a single layout, but a kind runs once per rule on
all the placed parts (`pkgdrc.assembly.layers.AssemblyLayers`), so it has no engine,
scope or reach to declare. Every optional part has a default; a field that is not one of
these is a TypeError where the kind is declared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pkgdrc.deck.params import Param
from pkgdrc.markers import Violations

if TYPE_CHECKING:
    from pkgdrc.assembly.layers import AssemblyLayers

Params = dict[str, Any]


def _no_problem(p: Params) -> str | None:
    return None


def _no_names(p: Params) -> list[str]:
    return []


@dataclass(frozen=True)
class AssemblyKind:
    """One assembly check kind.

    - `name`: the `check:` value in an assembly file; `doc`: what `pkgdrc assembly explain`
      prints (the module docstring).
    - `params`: name -> Param, validated when the assembly loads; layer parameters name
      PART.LAYER. `validate(params)`: a problem between parameters, or None.
    - `run(ctx, params) -> list[(layer, Violations)]` on the placed parts, in assembly dbu;
      `limit(params)`: the limit reports show.
    - `stack_names(params)`: the stack heights it reads (assembly-wide or PART.NAME).
    - `needs_nets`: every part it reads needs a deck with `connect:`.
    """

    name: str
    doc: str
    params: dict[str, Param]
    run: Callable[[AssemblyLayers, Params], list[tuple[str, Violations]]]
    limit: Callable[[Params], Any]
    validate: Callable[[Params], str | None] = _no_problem
    stack_names: Callable[[Params], list[str]] = _no_names
    needs_nets: bool = False

    def __post_init__(self) -> None:
        if not self.doc or not self.doc.strip():
            raise ValueError(f"assembly check kind {self.name}: no doc")

    def reads(self, p: Params) -> list[str]:
        """Every PART.LAYER the rule reads through its layer parameters, in parameter order."""
        out: list[str] = []
        for name, param in self.params.items():
            value = p.get(name)
            if param.kind in ("layer", "layers") and value is not None:
                out += [value] if isinstance(value, str) else list(value)
        return out
