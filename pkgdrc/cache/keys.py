"""Cache keys: everything a rule's markers depend on, hashed (blake2b, 128 bits, hex).

- `rule_key`: pkgdrc's version and the cache format; the rule's kind and parameters
  (canonical JSON); the definitions of the layers it reads, derived layers expanded down
  to drawn layers and their layer/datatype numbers; the stack values it names; for a rule
  that follows nets, the deck's `connect:` chains (expanded the same way) and its label map;
  the layout's database unit and top cell. Not the rule's id or doc: two rules that check
  the same thing share their markers.
- `direct_key(rule key, digests)`: the rule key and the content digests of the state
  layers it reads (`state_layers`): the key of the rule's markers.
- `latest_key(rule key, layout path)`: the key of the pointer to the last run of that rule
  on that layout file (the base an incremental run starts from).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pkgdrc.cache.state import LABELS
from pkgdrc.checks import kind_of
from pkgdrc.deck import Deck, Rule
from pkgdrc.deck import expr as dexpr
from pkgdrc.layout import Layout
from pkgdrc.version import __version__

FORMAT = 2  # of the keys, states and payloads: a change here makes every old entry a miss


def _hash(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _names_read(deck: Deck, rule: Rule) -> list[str]:
    """Layer names the rule reads directly: its layer parameters, and the connect layers of nets."""
    names = list(kind_of(rule).reads(rule.params))
    if kind_of(rule).needs_nets(rule.params):
        names += [n for chain in deck.connect for n in chain]
    return list(dict.fromkeys(names))


def _expanded(deck: Deck, names: list[str]) -> tuple[dict[str, str], dict[str, tuple[int, int]]]:
    """(derived name -> its definition, drawn name -> layer/datatype) under `names`."""
    derived: dict[str, str] = {}
    drawn: dict[str, tuple[int, int]] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in deck.derived and name not in derived:
            derived[name] = deck.derived_text.get(name, repr(deck.derived[name]))
            todo.extend(sorted(dexpr.names(deck.derived[name])))
        elif name in deck.layers:
            drawn[name] = tuple(deck.layers[name])  # type: ignore[assignment]
    return derived, drawn


def rule_layers(deck: Deck, rule: Rule) -> list[str]:
    """The drawn deck layers whose shapes the rule's markers depend on, sorted."""
    return sorted(_expanded(deck, _names_read(deck, rule))[1])


def label_layers(deck: Deck, rule: Rule) -> list[str]:
    """The layers whose labels the rule's markers depend on (net rules: the labelled connect layers)."""
    if not kind_of(rule).needs_nets(rule.params):
        return []
    connected = {n for chain in deck.connect for n in chain}
    return sorted(n for n in deck.labels if n in connected)


def state_layers(deck: Deck, rule: Rule) -> list[str]:
    """The geometry-state layers (`pkgdrc.cache.state`) a rule reads: its drawn layers and labels."""
    return rule_layers(deck, rule) + [n + LABELS for n in label_layers(deck, rule)]


def rule_key(deck: Deck, rule: Rule, layout: Layout) -> str:
    kind = kind_of(rule)
    derived, drawn = _expanded(deck, _names_read(deck, rule))
    nets = kind.needs_nets(rule.params)
    return _hash(
        "rule",
        __version__,
        FORMAT,
        rule.check,
        rule.params,
        derived,
        {k: list(v) for k, v in drawn.items()},
        {n: deck.stack.get(n) for n in kind.stack_names(rule.params)},
        [list(c) for c in deck.connect] if nets else None,
        {n: list(deck.labels[n]) for n in label_layers(deck, rule)},
        layout.grid.dbu_um,
        layout.top,
    )


def direct_key(key: str, digests: dict[str, str]) -> str:
    return _hash("direct", key, digests)


def latest_key(key: str, layout_path: str) -> str:
    return _hash("latest", key, str(Path(layout_path).resolve()))
