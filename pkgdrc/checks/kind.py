"""The contract of a check kind: one `CheckKind` value per kind module (`KIND = CheckKind(...)`).

A kind is data plus one function, as KLayout's local operation: the engines (flat, cell by
cell, tiles, Dask; `pkgdrc.engines`) run the same `run` and read only what the kind declares
here. Every optional part has a default, so a kind states only what differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from pkgdrc.deck.params import Param

Params = dict[str, Any]
Scope = Literal["per_layer", "per_rule"]


def _no_problem(p: Params) -> str | None:
    return None


def _no_names(p: Params) -> list[str]:
    return []


def _no_nets(p: Params) -> bool:
    return False


def _never(p: Params) -> bool:
    return False


def checked_layers(p: Params) -> list[str]:
    """The layers the rule names in `layer` (a cover_layers for kinds whose checked layer may cover)."""
    return list(p["layer"]) if isinstance(p["layer"], list) else [p["layer"]]


@dataclass(frozen=True)
class CheckKind:
    """One check kind.

    - `name`: the `check:` value in a deck; `doc`: what `pkgdrc explain` prints (the module docstring).
    - `params`: name -> Param, validated when the deck loads; `validate(params)`: a problem
      between parameters, or None; `stack_names(params)`: names read from the deck's `stack:`.
    - `run(layers, layer, params) -> list[Violations]`; `limit(params)`: the limit reports show.
    - `scope`: "per_layer" runs `run` once per layer named in `layer`; "per_rule" runs it once,
      with the kind's name as the layer its markers are reported on.
    - `needs_nets(params)`: the rule reads `layers.nets` (the deck must have `connect:`).
    - `local`: every marker depends only on shapes within the rule's reach (may run cell by
      cell, `pkgdrc.cellwise`); `whole_layout`: markers span whole layers (never in tiles).
    - `reach(params)` (um): how far from a marker a shape can change it; default the largest
      distance or range parameter (`reach_um`).
    - `cover_layers(params)`: layers whose shapes may cover a placement (`pkgdrc.cellwise`).
    - `closed(params)`: not local, yet every marker depends only on the shapes of one group of
      shapes farther than the reach from all others (on the layers the rule reads, the
      `connect:` layers when it needs nets, and label points): nets and the dies of a net
      cannot leave an isolated placement. Cell by cell runs such a rule per isolated
      placement, in place (never moved: messages name places), never through a cover.
    - `example`: the parameters of a small valid rule on layers A, B, C (connected A - B - C)
      and the outline D, stack names T1 and T2: tests/test_check_kinds.py runs every kind
      on it in every engine.
    """

    name: str
    doc: str
    params: dict[str, Param]
    run: Callable[..., list]
    limit: Callable[[Params], Any]
    validate: Callable[[Params], str | None] = _no_problem
    stack_names: Callable[[Params], list[str]] = _no_names
    needs_nets: Callable[[Params], bool] = _no_nets
    reach: Callable[[Params], float] | None = None
    cover_layers: Callable[[Params], list[str]] = _no_names
    closed: Callable[[Params], bool] = _never
    scope: Scope = "per_layer"
    local: bool = False
    whole_layout: bool = False
    example: Params | None = None

    def __post_init__(self) -> None:
        if not self.doc or not self.doc.strip():
            raise ValueError(f"check kind {self.name}: no doc")
        if self.scope not in ("per_layer", "per_rule"):
            raise ValueError(f"check kind {self.name}: scope {self.scope!r} is not per_layer or per_rule")
        if self.scope == "per_layer" and "layer" not in self.params:
            raise ValueError(f"check kind {self.name}: per_layer scope needs a `layer` parameter")

    def reach_um(self, p: Params) -> float:
        """The kind's `reach(p)`, else the largest distance or range parameter set, in um."""
        if self.reach is not None:
            return float(self.reach(p))
        largest = 0.0
        for name, param in self.params.items():
            if param.kind in ("distance", "range") and p.get(name) is not None:
                values = np.ravel(np.asarray(p[name], dtype=float))
                values = values[np.isfinite(values)]
                largest = max(largest, float(np.abs(values).max(initial=0.0)))
        return largest

    def layers_run_on(self, p: Params) -> list[str]:
        """The layers `run` is called with: each layer named (per_layer), or the kind's name (per_rule)."""
        return checked_layers(p) if self.scope == "per_layer" else [self.name]

    def reads(self, p: Params) -> list[str]:
        """The layer names (drawn or derived) the rule reads through its layer parameters, in
        parameter order, each once."""
        out: list[str] = []
        for name, param in self.params.items():
            value = p.get(name)
            if param.kind in ("layer", "layers") and value is not None:
                out += [v for v in ([value] if isinstance(value, str) else value) if v not in out]
        return out
