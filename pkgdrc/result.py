"""The result of a run: per-rule markers plus what was read. Plain data for the reporters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pkgdrc.markers import Marker

if TYPE_CHECKING:
    from pkgdrc.drawing import Drawing


@dataclass(frozen=True)
class Waived:
    """A marker accepted by a waiver: not a failure, still reported."""

    marker: Marker
    reason: str
    owner: str = ""
    waiver: str = ""  # where the waiver is written: FILE:LINE


@dataclass
class RuleResult:
    id: str
    check: str
    doc: str
    limit: Any
    layers: list[str]
    markers: list[Marker] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    waived: list[Waived] = field(default_factory=list)
    # Drawn deck layers this rule reads (directly or through derived layers) that have no
    # shape in the layout: the rule could not check what it was asked to check.
    empty_inputs: list[str] = field(default_factory=list)
    seconds: float = 0.0  # time spent checking this rule (reports: JUnit testcase time)
    nets: bool = False  # the rule reads the deck's nets (the HTML report draws the connect: layers)
    engine: str = ""  # what ran it (`pkgdrc.plan`): "flat", "cellwise", "tiles" or "dask"
    # From the result cache (`pkgdrc.incremental`): "hit" (stored), "updated" (recomputed
    # where the layout changed), or None (computed whole, or no cache).
    cache: str | None = None

    @property
    def status(self) -> str:
        """ "failed" (markers), else "empty" (an input layer had no shape), else "passed"."""
        if self.markers:
            return "failed"
        return "empty" if self.empty_inputs else "passed"

    @property
    def worst(self) -> float | None:
        """The measured value farthest from the limit (the smallest under a minimum, the
        largest over a maximum). None when the rule's limit is not one number (ranges,
        angle lists, relations) or nothing was measured."""
        values = [m.value for m in self.markers if m.value is not None]
        if not values or isinstance(self.limit, bool) or not isinstance(self.limit, (int, float)):
            return None
        return max(values, key=lambda v: (abs(v - self.limit), -v))


@dataclass
class Report:
    tool: str
    version: str
    deck: str
    deck_path: str
    layout: str
    top: str
    dbu_um: float
    rules: list[RuleResult]
    seconds: float = 0.0
    empty_layers: list[str] = field(default_factory=list)
    shapes: int = 0
    repaired: int = 0
    dropped: int = 0
    warnings: list[str] = field(default_factory=list)
    stale_waivers: list[str] = field(default_factory=list)
    expired_waivers: list[str] = field(default_factory=list)
    # (layer, datatype, shapes) of the layout's layers with shapes that no deck layer maps.
    unmapped: list[tuple[int, int, int]] = field(default_factory=list)
    cached: bool = False  # the run used the result cache (`RuleResult.cache` says what it gave)
    # What the HTML report draws (shape centres, shapes near the pictured markers), as plain
    # arrays: `pkgdrc.check(..., drawing=True)` sets it. Not part of the report's data.
    drawing: Drawing | None = field(default=None, repr=False, compare=False)

    @property
    def waived(self) -> int:
        return sum(len(r.waived) for r in self.rules)

    @property
    def violations(self) -> int:
        return sum(len(r.markers) for r in self.rules)

    @property
    def from_cache(self) -> int:
        """Rule results the cache gave, stored or updated."""
        return sum(r.cache is not None for r in self.rules)

    @property
    def updated(self) -> int:
        """Rule results the cache gave updated where the layout changed."""
        return sum(r.cache == "updated" for r in self.rules)

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.rules if r.markers]

    @property
    def empty(self) -> list[RuleResult]:
        """Rules without markers that had an empty input layer (not passed: nothing was checked)."""
        return [r for r in self.rules if r.status == "empty"]
