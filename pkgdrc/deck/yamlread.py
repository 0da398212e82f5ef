"""Safe YAML reading that remembers the line of every mapping and key, and refuses duplicates.

PyYAML's SafeLoader (plain data only: tags that would construct objects are refused),
with libyaml's parser when it is installed and the garbage collector paused (a deck of
150,000 rules is read in seconds, not minutes; on a syntax error the pure-Python parser reads the file again for its
clearer message). Numbers are read as a deck means them: `1e-06` is a number (YAML 1.1
wants `1.0e-06`), an integer beyond 2**63 or a date that does not exist (2026-02-30) is
an error or a string, never a traceback. Aliases (*name) are counted before anything
is built: one that expands the document by more than `MAX_ALIAS_VALUES` values (a
"billion laughs") or refers to itself is refused; a large deck without aliases is not.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from pkgdrc.errors import PkgdrcError

# A deck is a few hundred values; aliases (*name) that nest aliases can expand a small
# file into billions ("billion laughs"), which any later str() or loop would hang on.
MAX_ALIAS_VALUES = 1_000_000
MAX_INT = 2**63 - 1
# YAML 1.2 floats with an exponent and no dot (1e-06, 5E3), which YAML 1.1 reads as strings
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
# an anchor (&name) can only start a node: without one, no alias can expand anything
_ANCHOR = re.compile(r"(?:^|[\s\[{,:?-])&[^\s,\[\]{}]", re.MULTILINE)


class LineDict(dict):
    """A dict from YAML that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class _Located(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)):
            raise _Located(f"mapping key must be a plain value, got {type(key).__name__}", line)
        if key in out:
            raise _Located(f"duplicate key {key!r} (first on line {out.key_lines[key]})", line)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """An integer that fits 64 bits (a longer one would overflow every float conversion later)."""
    text = node.value.replace("_", "")
    if len(text) > 40:  # not even converted: int() refuses strings over 4,300 digits with its own error
        raise _Located(
            f"integer of {len(text)} characters is too large; expected a number below 2**63", node.start_mark.line + 1
        )
    value = loader.construct_yaml_int(node)
    if abs(value) > MAX_INT:
        raise _Located(f"integer {node.value} is too large; expected a number below 2**63", node.start_mark.line + 1)
    return value


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    """A date or time; one that does not exist (2026-02-30) stays the string it was written as."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return node.value


# libyaml's parser when PyYAML was built with it (yaml has no type stubs: Any)
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Aliases(yaml.constructor.SafeConstructor):
    """Counts what aliases add before the document is built (a mixin for both loaders)."""

    def construct_document(self, node):
        if getattr(self, "anchored", True):
            _check_aliases(node)
        return super().construct_document(node)


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return node.value if isinstance(node, yaml.SequenceNode) else []


def _check_aliases(root: yaml.Node) -> None:
    """Refuse a document whose aliases add more than MAX_ALIAS_VALUES values, or refer to themselves.

    Sizes are counted per node, each node once (a DFS without recursion: documents may be
    deep), so a billion-value expansion costs the file's size, not a billion.
    """
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in size:
            stack.pop()
            continue
        children = _children(node)
        if key not in open_nodes:
            open_nodes.add(key)
            todo = [c for c in children if id(c) not in size]
            if any(id(c) in open_nodes for c in todo):
                raise _Located("an alias (*name) refers to the node that contains it", node.start_mark.line + 1)
            if todo:
                stack.extend(todo)
                continue
        size[key] = 1 + sum(size[id(c)] for c in children)
        open_nodes.discard(key)
        stack.pop()
    if size[id(root)] - len(size) > MAX_ALIAS_VALUES:
        raise PkgdrcError(
            f"the YAML expands to {size[id(root)]:,} values through aliases (*name); the limit is "
            f"{MAX_ALIAS_VALUES:,} (an alias bomb?)"
        )


class _PyLoader(_Aliases, yaml.SafeLoader):
    """SafeLoader, pure Python: its error messages name what was expected."""


class _Loader(_Aliases, _FAST_LOADER):
    """SafeLoader with libyaml's parser when there is one."""


for _cls in (_Loader, _PyLoader):
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
    _cls.add_constructor("tag:yaml.org,2002:int", _int)
    _cls.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789"))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: run after every few hundred new containers, it
    made reading a deck of 150,000 rules take minutes (each run scans everything built so far)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _load(text: str, loader: type, anchored: bool) -> object:
    instance = loader(text)
    instance.anchored = anchored
    try:
        with paused_gc():
            return instance.get_single_data()
    finally:
        instance.dispose()


def read_yaml(path: str) -> object:
    """Parse a YAML file into plain data (LineDict for mappings); errors name file and line."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise PkgdrcError("deck file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as e:
        raise PkgdrcError(f"cannot read deck: {e}", path=path) from None
    anchored = bool(_ANCHOR.search(text))
    try:
        try:
            return _load(text, _Loader, anchored)
        except yaml.MarkedYAMLError:
            if _FAST_LOADER is yaml.SafeLoader:  # the same parser: its message is the one to show
                raise
            return _load(text, _PyLoader, anchored)  # for its message (or, should libyaml differ, its data)
    except _Located as e:
        raise PkgdrcError(str(e), path=path, line=e.line) from None
    except PkgdrcError as e:
        raise PkgdrcError(str(e), path=path) from None
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        if "nesting depth" in str(e.problem):
            raise PkgdrcError("YAML nested too deeply", path=path) from None
        raise PkgdrcError(f"YAML syntax error: {e.problem}", path=path, line=line) from None
    except yaml.YAMLError as e:
        raise PkgdrcError(f"YAML error: {e}", path=path) from None
    except RecursionError:
        raise PkgdrcError("YAML nested too deeply", path=path) from None
