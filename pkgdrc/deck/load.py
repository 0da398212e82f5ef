"""Read and validate a rule deck, wholly, before any geometry is touched.

This package sits below the check kinds: `read_deck(path, kinds)` takes the kinds
(name -> RuleKind: their parameters and checks) as an argument and never imports
`pkgdrc.checks`; `pkgdrc.decks.load_deck(path)` passes the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pkgdrc.deck import expr as dexpr
from pkgdrc.deck import repeat
from pkgdrc.deck.params import Param
from pkgdrc.deck.parse import NAME, did_you_mean, layer_spec, refuse_non_finite, rule_kind, rule_params, stack_heights
from pkgdrc.deck.yamlread import LineDict, paused_gc, read_yaml
from pkgdrc.errors import PkgdrcError

TOP_KEYS = {
    "name": "deck name",
    "units": "'um'",
    "description": "text",
    "layers": "NAME: layer/datatype",
    "derived": "NAME: expression",
    "rules": "ID: {check: KIND, ...}",
    "stack": "NAME: thickness or depth in um",
    "repeat": "var: [one value per level]",
    "connect": "a list of chains like 'DIE_PAD - VIA1 - RDL1'",
    "labels": "LAYER: layer/texttype",
    "dbu": "the layout database unit the deck is written for, in um (e.g. 0.001)",
}
RULE_KEYS = ("check", "doc")


class RuleKind(Protocol):
    """What the reader needs of a check kind (`pkgdrc.checks.kind.CheckKind` has it)."""

    @property
    def params(self) -> dict[str, Param]: ...
    @property
    def validate(self) -> Callable[[dict[str, Any]], str | None]: ...
    @property
    def stack_names(self) -> Callable[[dict[str, Any]], list[str]]: ...
    @property
    def needs_nets(self) -> Callable[[dict[str, Any]], bool]: ...


@dataclass(frozen=True)
class Rule:
    """One validated rule: its id, check kind, parameters (um), doc and deck line."""

    id: str
    check: str
    params: dict[str, Any]
    doc: str = ""
    line: int = 0


@dataclass
class Deck:
    name: str
    path: str
    layers: dict[str, tuple[int, int]]
    derived: dict[str, dexpr.Expr] = field(default_factory=dict)
    derived_text: dict[str, str] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    description: str = ""
    stack: dict[str, float] = field(default_factory=dict)
    connect: list[tuple[str, ...]] = field(default_factory=list)  # chains, bottom to top
    labels: dict[str, tuple[int, int]] = field(default_factory=dict)  # layer -> text layer/texttype
    dbu_um: float | None = None  # the layout grid the deck assumes; None: any

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        hint = did_you_mean(rule_id, [r.id for r in self.rules])
        raise PkgdrcError(f"no rule {rule_id!r} in deck {self.name}{hint}", path=self.path)


def _rules_dir() -> Path:
    """rules/ as installed (pkgdrc/rules) or in a source checkout (beside pkgdrc/)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "rules"
    return installed if installed.is_dir() else package.parent / "rules"


def bundled_decks() -> dict[str, Path]:
    """Decks shipped with the package (rules/*.yaml), by bare name."""
    root = _rules_dir()
    return {p.stem: p for p in sorted(root.glob("*.yaml"))} if root.is_dir() else {}


def resolve_deck(deck: str) -> Path:
    """A deck argument as a file: an existing path, or the bare name of a bundled deck."""
    p = Path(deck)
    if p.is_file():
        return p
    bundled = bundled_decks()
    if deck in bundled:
        return bundled[deck]
    raise PkgdrcError(
        f"deck not found: not a file, nor a bundled deck ({', '.join(sorted(bundled))})" + did_you_mean(deck, bundled),
        path=deck,
    )


def _mapping(value: Any, what: str, path: str, line: int) -> LineDict:
    if value is None:
        value = LineDict()
        value.line, value.key_lines = line, {}
    if not isinstance(value, LineDict):
        raise PkgdrcError(f"{what} must be a mapping, got {type(value).__name__}", path=path, line=line)
    return value


def _check_cycles(derived: dict[str, dexpr.Expr], lines: LineDict, path: str) -> None:
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2 or name not in derived:
            return
        if state.get(name) == 1:
            cycle = " -> ".join(trail[trail.index(name) :] + [name])
            raise PkgdrcError(f"derived layers refer to themselves: {cycle}", path=path, line=lines.line_of(name))
        state[name] = 1
        for ref in sorted(dexpr.names(derived[name])):
            visit(ref, trail + [name])
        state[name] = 2

    for name in derived:
        visit(name, [])


def read_deck(deck: str | Path, kinds: Mapping[str, RuleKind]) -> Deck:
    """Read and validate a deck (path or bundled name), its rules against `kinds` (check name ->
    kind). Errors name the file, line and what is expected."""
    with paused_gc():
        return _read_deck(deck, kinds)


def _read_deck(deck: str | Path, kinds: Mapping[str, RuleKind]) -> Deck:
    path = str(resolve_deck(str(deck)))
    data = read_yaml(path)
    if not isinstance(data, LineDict):
        raise PkgdrcError("a deck must be a YAML mapping with layers: and rules:", path=path, line=1)
    refuse_non_finite(data, path)
    for key in data:
        if key not in TOP_KEYS:
            raise PkgdrcError(
                f"unknown top-level key {key!r}{did_you_mean(key, TOP_KEYS)}; expected one of {', '.join(TOP_KEYS)}",
                path=path,
                line=data.line_of(key),
            )
    repeat.expand(data, path)
    units = data.get("units", "um")
    if units != "um":
        raise PkgdrcError(f"units must be 'um', got {units!r}", path=path, line=data.line_of("units"))
    name = data.get("name", Path(path).stem)
    dbu = data.get("dbu")
    if dbu is not None and (isinstance(dbu, bool) or not isinstance(dbu, (int, float)) or dbu <= 0):
        raise PkgdrcError(
            f"dbu must be the database unit in um (a number > 0, e.g. 0.001), got {dbu!r}",
            path=path,
            line=data.line_of("dbu"),
        )
    if not isinstance(name, str):
        raise PkgdrcError(f"name must be a string, got {name!r}", path=path, line=data.line_of("name"))

    raw_layers = _mapping(data.get("layers"), "layers", path, data.line_of("layers"))
    if not raw_layers:
        raise PkgdrcError("the deck declares no layers (layers: NAME: layer/datatype)", path=path, line=data.line)
    layers: dict[str, tuple[int, int]] = {}
    for lname, spec in raw_layers.items():
        if not isinstance(lname, str) or not NAME.match(lname):
            raise PkgdrcError(
                f"layer name {lname!r} must be an identifier like RDL1", path=path, line=raw_layers.line_of(lname)
            )
        try:
            layers[lname] = layer_spec(spec)
        except ValueError as e:
            raise PkgdrcError(f"layer {lname}: {e}", path=path, line=raw_layers.line_of(lname)) from None

    raw_derived = _mapping(data.get("derived"), "derived", path, data.line_of("derived"))
    derived: dict[str, dexpr.Expr] = {}
    for dname, text in raw_derived.items():
        line = raw_derived.line_of(dname)
        if not isinstance(dname, str) or not NAME.match(dname):
            raise PkgdrcError(f"derived layer name {dname!r} must be an identifier", path=path, line=line)
        if dname in layers:
            raise PkgdrcError(f"derived layer {dname} is already a drawn layer", path=path, line=line)
        try:
            derived[dname] = dexpr.parse(text)
        except dexpr.ExprError as e:
            raise PkgdrcError(f"derived layer {dname}: {e} in {text!r}", path=path, line=line) from None
        for ref in dexpr.names(derived[dname]):
            if ref not in layers and ref not in raw_derived:
                raise PkgdrcError(
                    f"derived layer {dname} refers to unknown layer {ref!r}"
                    + did_you_mean(ref, list(layers) + list(raw_derived)),
                    path=path,
                    line=line,
                )
    _check_cycles(derived, raw_derived, path)
    known_layers = set(layers) | set(derived)
    stack = stack_heights(_mapping(data.get("stack"), "stack", path, data.line_of("stack")), path)

    connect, labels = _connectivity(data, known_layers, path)

    raw_rules = _mapping(data.get("rules"), "rules", path, data.line_of("rules"))
    rules = []
    for rid, body in raw_rules.items():
        line = raw_rules.line_of(rid)
        kind = rule_kind(rid, body, kinds, path, line)
        spec = kinds[kind].params
        for key in body:
            if key not in spec and key not in RULE_KEYS:
                raise PkgdrcError(
                    f"rule {rid}: unknown key {key!r} for check {kind}"
                    f"{did_you_mean(key, list(spec) + list(RULE_KEYS))}; "
                    f"expected {', '.join(list(spec) + list(RULE_KEYS))}",
                    path=path,
                    line=body.line_of(key),
                )
        params = rule_params(
            rid,
            body,
            spec,
            path,
            lambda lname: (
                None if lname in known_layers else f"unknown layer {lname!r}" + did_you_mean(lname, known_layers)
            ),
        )
        for ref in kinds[kind].stack_names(params):
            if ref not in stack:
                raise PkgdrcError(
                    f"rule {rid}: {ref!r} is not declared in stack:" + did_you_mean(ref, stack),
                    path=path,
                    line=body.line,
                )
        problem = kinds[kind].validate(params)
        if problem:
            raise PkgdrcError(f"rule {rid}: {problem}", path=path, line=body.line)
        doc = body.get("doc", "")
        if not isinstance(doc, str):
            raise PkgdrcError(f"rule {rid}: doc must be a string", path=path, line=body.line_of("doc"))
        if kinds[kind].needs_nets(params) and not connect:
            raise PkgdrcError(
                f"rule {rid}: check {kind} needs nets; declare the deck's connect: section", path=path, line=line
            )
        rules.append(Rule(str(rid), kind, params, doc, line))
    return Deck(
        name,
        path,
        layers,
        derived,
        {k: str(v) for k, v in raw_derived.items()},
        rules,
        str(data.get("description", "")),
        stack=stack,
        connect=connect,
        labels=labels,
        dbu_um=float(dbu) if dbu is not None else None,
    )


def _connectivity(data: LineDict, known_layers: set[str], path: str):
    """The `connect:` chains (each 'A - B - C': neighbours join where they overlap) and `labels:`."""
    raw = data.get("connect")
    line = data.line_of("connect")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise PkgdrcError(
            f"connect must be a list of chains like 'DIE_PAD - VIA1 - RDL1', got {raw!r}", path=path, line=line
        )
    connect: list[tuple[str, ...]] = []
    for item in raw:
        names = tuple(n.strip() for n in item.split(" - ")) if isinstance(item, str) else ()
        if len(names) < 2 or not all(NAME.match(n) for n in names):
            raise PkgdrcError(
                f"connect: expected a chain of layer names joined by ' - ' like 'DIE_PAD - VIA1 - RDL1', got {item!r}",
                path=path,
                line=line,
            )
        for n in names:
            if n not in known_layers:
                raise PkgdrcError(
                    f"connect: unknown layer {n!r} in {item!r}" + did_you_mean(n, sorted(known_layers)),
                    path=path,
                    line=line,
                )
        connect.append(names)
    raw_labels = _mapping(data.get("labels"), "labels", path, data.line_of("labels"))
    in_chains = {n for chain in connect for n in chain}
    labels: dict[str, tuple[int, int]] = {}
    for lname, spec in raw_labels.items():
        where = raw_labels.line_of(lname)
        if lname not in in_chains:
            raise PkgdrcError(
                f"labels: layer {lname!r} is not in the connect: section; labels name nets on connected layers",
                path=path,
                line=where,
            )
        try:
            labels[str(lname)] = layer_spec(spec)
        except ValueError as e:
            raise PkgdrcError(f"labels: {lname}: {e}", path=path, line=where) from None
    return connect, labels
