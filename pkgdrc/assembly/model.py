"""The assembly file: its parts, where each sits, the stack, the cross-part rules. Validated whole.

```yaml
name: two-die-25d
units: um
grid: 0.001                      # optional: the assembly grid in um (default: the finest part dbu)
parts:
  substrate:
    layout: substrate.gds        # relative to this file
    top: SUBSTRATE               # optional when the layout has one top cell
    deck: substrate.yaml         # the part's deck (layers, connect:, labels:, stack:, its own rules)
  die_a:
    layout: die.gds
    layers: {BUMP: 23/0, DIE: 1/0}   # instead of a deck: a layer map only
    at: [1000, 2000]             # um: where the part's origin goes
    rotate: 90                   # degrees counter-clockwise, a multiple of 90
    flip: true                   # face down: mirrored about its own y axis before rotating
    sits_on: interposer          # the part it sits on (`on:` would be YAML's true)
    stack: {THICKNESS: 100}      # its heights in um, named die_a.THICKNESS in relations
    checks: false                # do not run the part deck's own rules (default: run them)
stack: {UNDERFILL: 30}           # assembly-wide heights in um
rules:
  ALIGN.1: {check: align, layer: die_a.BUMP, other: interposer.PAD, tolerance: 5}
```

Layer names in rules are `PART.LAYER` (a drawn or derived layer of that part). Every error
names the assembly file and line (`PkgdrcError`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pkgdrc.assembly.kinds import KINDS
from pkgdrc.deck import Deck
from pkgdrc.deck.load import bundled_decks
from pkgdrc.deck.parse import did_you_mean, layer_spec, refuse_non_finite, rule_kind, rule_params, stack_heights
from pkgdrc.deck.yamlread import LineDict, read_yaml
from pkgdrc.decks import load_deck
from pkgdrc.errors import PkgdrcError

TOP_KEYS = {
    "name": "assembly name",
    "units": "'um'",
    "description": "text",
    "grid": "assembly grid in um",
    "parts": "NAME: {layout: PATH, ...}",
    "stack": "NAME: height in um",
    "rules": "ID: {check: KIND, ...}",
}
PART_KEYS = {
    "layout": "the part's GDSII or OASIS file, relative to the assembly file",
    "top": "its top cell",
    "deck": "its deck (path relative to the assembly file, or a bundled name)",
    "layers": "NAME: layer/datatype (instead of a deck)",
    "at": "[x, y] in um",
    "rotate": "0, 90, 180 or 270",
    "flip": "true or false",
    "sits_on": "the part it sits on",
    "stack": "NAME: height in um",
    "checks": "true or false: run the part deck's rules",
}
RULE_KEYS = ("check", "doc")


@dataclass
class PartSpec:
    """One part as the assembly file declares it (validated, nothing read yet)."""

    name: str
    layout: Path
    top: str | None
    deck: Deck
    at: tuple[float, float] = (0.0, 0.0)
    rotate: int = 0
    flip: bool = False
    on: str | None = None
    stack: dict[str, float] = field(default_factory=dict)
    checks: bool = True
    line: int = 0


@dataclass(frozen=True)
class AssemblyRule:
    id: str
    check: str
    params: dict[str, Any]
    doc: str = ""
    line: int = 0

    @property
    def layers(self) -> list[str]:
        """Every PART.LAYER the rule reads, in parameter order."""
        return KINDS[self.check].reads(self.params)

    @property
    def parts(self) -> list[str]:
        """The parts the rule concerns (those of its layers and stack names), in order."""
        names = [n.split(".", 1)[0] for n in self.layers]
        names += [n.split(".", 1)[0] for n in KINDS[self.check].stack_names(self.params) if "." in n]
        return list(dict.fromkeys(names))


@dataclass
class Assembly:
    name: str
    path: str
    parts: dict[str, PartSpec]
    rules: list[AssemblyRule]
    stack: dict[str, float]  # assembly-wide names, and PART.NAME for each part's heights
    grid_um: float
    description: str = ""


def _mapping(value: Any, what: str, path: str, line: int) -> LineDict:
    if not isinstance(value, LineDict):
        raise PkgdrcError(f"{what} must be a mapping, got {value!r}", path=path, line=line)
    return value


def _unknown_keys(raw: LineDict, known, what: str, path: str) -> None:
    for key in raw:
        if key is True or key is False:  # YAML 1.1 reads a bare on/off/yes/no key as a boolean
            raise PkgdrcError(
                f"{what}: key {key!r} (YAML reads a bare on, off, yes or no as true or false)"
                f"; expected one of {', '.join(known)}",
                path=path,
                line=raw.line_of(key),
            )
        if key not in known:
            raise PkgdrcError(
                f"{what}: unknown key {key!r}{did_you_mean(key, known)}; expected one of {', '.join(known)}",
                path=path,
                line=raw.line_of(key),
            )


def _part_deck(name: str, raw: LineDict, base: Path, path: str) -> Deck:
    """The part's deck (a file beside the assembly, or a bundled deck), or one built from `layers:`."""
    if ("deck" in raw) == ("layers" in raw):
        raise PkgdrcError(
            f"part {name}: give either deck: (a deck file or bundled deck) or layers: (NAME: layer/datatype)",
            path=path,
            line=raw.line,
        )
    if "deck" in raw:
        value = raw["deck"]
        if not isinstance(value, str):
            raise PkgdrcError(
                f"part {name}: deck: expected a path or a bundled deck name, got {value!r}",
                path=path,
                line=raw.line_of("deck"),
            )
        file = base / value
        if not file.is_file() and value not in bundled_decks():
            raise PkgdrcError(
                f"part {name}: deck {value!r} not found: no file {file}, nor a bundled deck"
                + did_you_mean(value, bundled_decks()),
                path=path,
                line=raw.line_of("deck"),
            )
        return load_deck(str(file) if file.is_file() else value)
    layers = _mapping(raw["layers"], f"part {name}: layers", path, raw.line_of("layers"))
    out = {}
    for lname, spec in layers.items():
        try:
            out[str(lname)] = layer_spec(spec)
        except ValueError as e:
            raise PkgdrcError(f"part {name}: layer {lname}: {e}", path=path, line=layers.line_of(lname)) from None
    if not out:
        raise PkgdrcError(f"part {name}: layers: is empty", path=path, line=raw.line_of("layers"))
    return Deck(f"{name} layers", path, out)


def _part(name: str, raw: Any, base: Path, path: str, line: int) -> PartSpec:
    raw = _mapping(raw, f"part {name}", path, line)
    _unknown_keys(raw, PART_KEYS, f"part {name}", path)
    if "layout" not in raw:
        raise PkgdrcError(f"part {name}: missing layout: (its GDSII or OASIS file)", path=path, line=raw.line)
    if not isinstance(raw["layout"], str):
        raise PkgdrcError(
            f"part {name}: layout: expected a path, got {raw['layout']!r}", path=path, line=raw.line_of("layout")
        )
    layout = base / raw["layout"]
    if not layout.is_file():
        raise PkgdrcError(f"part {name}: layout file not found: {layout}", path=path, line=raw.line_of("layout"))
    top = raw.get("top")
    if top is not None and not isinstance(top, str):
        raise PkgdrcError(f"part {name}: top: expected a cell name, got {top!r}", path=path, line=raw.line_of("top"))
    at = raw.get("at", [0, 0])
    if not (
        isinstance(at, list)
        and len(at) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in at)
    ):
        raise PkgdrcError(f"part {name}: at: expected [x, y] in um, got {at!r}", path=path, line=raw.line_of("at"))
    rotate = raw.get("rotate", 0)
    if isinstance(rotate, bool) or not isinstance(rotate, (int, float)) or rotate % 90 != 0:
        raise PkgdrcError(
            f"part {name}: rotate: expected a multiple of 90 degrees, got {rotate!r}",
            path=path,
            line=raw.line_of("rotate"),
        )
    for key in ("flip", "checks"):
        if key in raw and not isinstance(raw[key], bool):
            raise PkgdrcError(
                f"part {name}: {key}: expected true or false, got {raw[key]!r}", path=path, line=raw.line_of(key)
            )
    on = raw.get("sits_on")
    if on is not None and not isinstance(on, str):
        raise PkgdrcError(
            f"part {name}: sits_on: expected a part name, got {on!r}", path=path, line=raw.line_of("sits_on")
        )
    stack = stack_heights(
        _mapping(raw.get("stack", _empty(raw.line)), f"part {name}: stack", path, raw.line_of("stack")), path
    )
    deck = _part_deck(name, raw, base, path)
    return PartSpec(
        name,
        layout,
        top,
        deck,
        (float(at[0]), float(at[1])),
        int(rotate) % 360,
        raw.get("flip", False),
        on,
        {**deck.stack, **stack},
        raw.get("checks", True),
        raw.line,
    )


def _empty(line: int) -> LineDict:
    out = LineDict()
    out.line, out.key_lines = line, {}
    return out


def _check_on(parts: dict[str, PartSpec], raw: LineDict, path: str) -> None:
    """Every `sits_on:` names another part, and following them never comes back to a part."""
    for name, part in parts.items():
        if part.on is None:
            continue
        where = raw[name].line_of("sits_on")
        if part.on not in parts:
            raise PkgdrcError(
                f"part {name}: sits_on: unknown part {part.on!r}{did_you_mean(part.on, parts)}", path=path, line=where
            )
        trail = [name]
        while (below := parts[trail[-1]].on) is not None:
            trail.append(below)
            if trail[-1] in trail[:-1]:
                cycle = " -> ".join(trail[trail.index(trail[-1]) :])
                raise PkgdrcError(f"parts sit on each other in a circle: {cycle}", path=path, line=where)


def _grid(raw: LineDict, path: str) -> float | None:
    value = raw.get("grid")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        raise PkgdrcError(
            f"grid: expected the assembly grid in um (a number > 0), got {value!r}", path=path, line=raw.line_of("grid")
        )
    return float(value) if value is not None else None


def load_assembly(path: str | Path) -> Assembly:
    """Read and validate an assembly file; nothing is read from the layouts but their names."""
    path = str(path)
    if not Path(path).is_file():
        raise PkgdrcError("assembly file not found", path=path)
    data = read_yaml(path)
    if not isinstance(data, LineDict):
        raise PkgdrcError("an assembly must be a YAML mapping with parts: and rules:", path=path, line=1)
    refuse_non_finite(data, path)
    _unknown_keys(data, TOP_KEYS, "assembly", path)
    if data.get("units", "um") != "um":
        raise PkgdrcError(f"units must be 'um', got {data['units']!r}", path=path, line=data.line_of("units"))
    name = data.get("name", Path(path).stem)
    if not isinstance(name, str):
        raise PkgdrcError(f"name must be a string, got {name!r}", path=path, line=data.line_of("name"))
    base = Path(path).parent
    raw_parts = _mapping(data.get("parts"), "parts", path, data.line_of("parts"))
    if not raw_parts:
        raise PkgdrcError("the assembly declares no parts", path=path, line=data.line_of("parts"))
    parts = {}
    for pname, body in raw_parts.items():
        if not isinstance(pname, str) or not pname.isidentifier():
            raise PkgdrcError(
                f"part name {pname!r} must be an identifier like die_a", path=path, line=raw_parts.line_of(pname)
            )
        parts[pname] = _part(pname, body, base, path, raw_parts.line_of(pname))
    _check_on(parts, raw_parts, path)
    stack = stack_heights(_mapping(data.get("stack", _empty(data.line)), "stack", path, data.line_of("stack")), path)
    for part in parts.values():
        stack.update({f"{part.name}.{k}": v for k, v in part.stack.items()})
    rules = _rules(
        _mapping(data.get("rules", _empty(data.line)), "rules", path, data.line_of("rules")), parts, stack, path
    )
    return Assembly(name, path, parts, rules, stack, _grid(data, path) or 0.0, str(data.get("description", "")))


def _layer_ref(value: str, parts: dict[str, PartSpec]) -> str | None:
    """Why `value` is not a PART.LAYER of this assembly, or None."""
    part, _, layer = value.partition(".")
    if part not in parts or not layer:
        return f"expected PART.LAYER with a part of this assembly ({', '.join(parts)}), got {value!r}" + did_you_mean(
            part, parts
        )
    deck = parts[part].deck
    known = list(deck.layers) + list(deck.derived)
    if layer not in known:
        return f"part {part} has no layer {layer!r}{did_you_mean(layer, known)}"
    return None


def _rules(raw: LineDict, parts: dict[str, PartSpec], stack: dict[str, float], path: str) -> list[AssemblyRule]:
    rules = []
    for rid, body in raw.items():
        line = raw.line_of(rid)
        kind = rule_kind(rid, body, KINDS, path, line, "assembly check kind")
        spec = KINDS[kind].params
        _unknown_keys(body, list(spec) + list(RULE_KEYS), f"rule {rid} ({kind})", path)
        params = rule_params(rid, body, spec, path, lambda ref: _layer_ref(ref, parts))
        problem = KINDS[kind].validate(params)
        if problem:
            raise PkgdrcError(f"rule {rid}: {problem}", path=path, line=body.line)
        for ref in KINDS[kind].stack_names(params):
            if ref not in stack:
                raise PkgdrcError(
                    f"rule {rid}: {ref!r} is not a stack height of the assembly or of a part"
                    + did_you_mean(ref, stack),
                    path=path,
                    line=body.line,
                )
        rule = AssemblyRule(str(rid), kind, params, str(body.get("doc", "")), line)
        for ref in rule.layers if KINDS[kind].needs_nets else []:
            if not parts[ref.split(".")[0]].deck.connect:
                raise PkgdrcError(
                    f"rule {rid}: check {kind} needs the nets of {ref}; part {ref.split('.')[0]} "
                    "needs a deck with connect:",
                    path=path,
                    line=line,
                )
        rules.append(rule)
    return rules


def finest_grid(dbus: dict[str, float], grid_um: float, path: str) -> float:
    """The assembly grid: `grid_um` if given, else the finest part dbu; each part dbu a multiple of it."""
    grid = grid_um or min(dbus.values())
    for name, dbu in dbus.items():
        ratio = dbu / grid
        if ratio < 1 - 1e-9 or not math.isclose(ratio, round(ratio), rel_tol=0, abs_tol=1e-6):
            raise PkgdrcError(
                f"part {name}: its database unit {dbu:g} um is not a whole multiple of the "
                f"assembly grid {grid:g} um; set grid: to a common divisor",
                path=path,
            )
    return grid
