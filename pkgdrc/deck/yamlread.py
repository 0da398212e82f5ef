"""Safe YAML reading that remembers the line of every mapping and key, and refuses duplicates."""

from __future__ import annotations

import yaml

from pkgdrc.errors import PkgdrcError


class LineDict(dict):
    """A dict from YAML that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    """SafeLoader: plain data only; tags that would construct objects are refused."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
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


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class _Located(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def read_yaml(path: str) -> object:
    """Parse a YAML file into plain data (LineDict for mappings); errors name file and line."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise PkgdrcError("deck file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as e:
        raise PkgdrcError(f"cannot read deck: {e}", path=path) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _Located as e:
        raise PkgdrcError(str(e), path=path, line=e.line) from None
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise PkgdrcError(f"YAML syntax error: {e.problem}", path=path, line=line) from None
    except yaml.YAMLError as e:
        raise PkgdrcError(f"YAML error: {e}", path=path) from None
    except RecursionError:
        raise PkgdrcError("YAML nested too deeply", path=path) from None
    size = _expanded_size(data, {})
    if size > MAX_VALUES:
        raise PkgdrcError(f"the YAML expands to {size:,} values through aliases (*name); the limit is "
                          f"{MAX_VALUES:,} (an alias bomb?)", path=path)
    return data


# A deck is a few hundred values; aliases (*name) that nest aliases can expand a small
# file into billions ("billion laughs"), which any later str() or loop would hang on.
MAX_VALUES = 1_000_000


def _expanded_size(node: object, seen: dict[int, int]) -> int:
    """Values in `node` with every alias expanded, counted without expanding (memoised by id)."""
    key = id(node)
    if key not in seen:
        children = list(node.keys()) + list(node.values()) if isinstance(node, dict) else \
            node if isinstance(node, list) else ()
        seen[key] = 1 + sum(_expanded_size(c, seen) for c in children)
    return seen[key]
