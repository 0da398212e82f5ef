"""Parameter kinds a check may declare; the deck validates rule values against them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["layer", "layers", "distance", "area", "number", "angles", "text", "choice", "bool", "range"]


@dataclass(frozen=True)
class Param:
    """One rule parameter: its kind, whether it must be given, and what it means."""

    kind: Kind
    doc: str
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()

    def expected(self) -> str:
        return {
            "layer": "a layer name",
            "layers": "a layer name or a list of layer names",
            "distance": "a distance in um (a number >= 0)",
            "area": "an area in um2 (a number >= 0)",
            "number": "a number",
            "angles": "a list of angles in degrees",
            "text": "a string",
            "choice": "one of " + ", ".join(self.choices),
            "bool": "true or false",
            "range": "a distance in um, or {min: A, max: B} in um (either may be left out)",
        }[self.kind]

    def validate(self, value: Any) -> Any:
        """The value normalised, or ValueError naming what was expected."""

        def number(v: Any) -> float:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"expected {self.expected()}, got {v!r}")
            return float(v)

        if self.kind in ("distance", "area"):
            v = number(value)
            if v < 0:
                raise ValueError(f"expected {self.expected()}, got a negative value {value!r}")
            return v
        if self.kind == "number":
            return number(value)
        if self.kind == "layer":
            if not isinstance(value, str):
                raise ValueError(f"expected {self.expected()}, got {value!r}")
            return value
        if self.kind == "layers":
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not items or not all(isinstance(x, str) for x in items):
                raise ValueError(f"expected {self.expected()}, got {value!r}")
            return list(items)
        if self.kind == "angles":
            if not isinstance(value, list) or not value:
                raise ValueError(f"expected {self.expected()}, got {value!r}")
            return [number(v) % 180.0 for v in value]
        if self.kind == "text":
            if not isinstance(value, str):
                raise ValueError(f"expected {self.expected()}, got {value!r}")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"expected {self.expected()}, got {value!r}")
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"expected {self.expected()}, got {value!r}")
            return value
        if self.kind == "range":  # -> (lo, hi) in um; an exact value is lo == hi
            if isinstance(value, dict) and value and set(value) <= {"min", "max"}:
                lo, hi = number(value.get("min", 0.0)), number(value.get("max", float("inf")))
            else:
                lo = hi = number(value)
            if lo < 0 or lo > hi:
                raise ValueError(f"expected {self.expected()} with 0 <= min <= max, got {value!r}")
            return (lo, hi)
        raise AssertionError(self.kind)
