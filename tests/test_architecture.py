"""The import layering of pkgdrc, checked on its source (issue 16).

    geometry <- (deck, layout/hierarchy) <- layers <- checks <- engines <- run <- (report, cli)

Imports point down that flow only: geometry imports nothing else of pkgdrc; the report
writers read plain data and never import layers, cellwise, tiles, run or checks; and no
module reaches itself through imports. Every import counts, at module level or inside a
function (an import inside a function to dodge a cycle is a cycle); only imports under
`if TYPE_CHECKING:` are left out (they run for the type checker, never at run time).
Importing pkgdrc.deck.params runs pkgdrc/deck/__init__.py first, so it counts as importing
the package pkgdrc.deck too; the root package pkgdrc (the public API, on top of everything)
is counted only where a module imports it by name.

KNOWN_CYCLES and KNOWN_BREACHES list what the code still does wrong today, so that the
test fails when anything new appears. They must end EMPTY: when a fix removes an entry's
import, the test fails too and names the entry to delete (the lists compare as sets).
"""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import pkgdrc
from pkgdrc.version import __version__

PACKAGE = Path(pkgdrc.__file__).parent

# Imports that lie on an import cycle, importer: {imported, ...}; an import lies on a cycle
# when the imported module reaches the importer back. To be emptied (issue 16).
KNOWN_CYCLES: dict[str, set[str]] = {}

# Imports that break the layering ("importer -> imported"). To be emptied (issue 16).
KNOWN_BREACHES = {
    "pkgdrc.geometry.pairs -> pkgdrc.units",
}

REPORT_MUST_NOT_IMPORT = ("pkgdrc.layers", "pkgdrc.cellwise", "pkgdrc.tiles", "pkgdrc.run", "pkgdrc.checks")


def module_name(path: Path, root: Path) -> str:
    """pkgdrc/geometry/edges.py -> pkgdrc.geometry.edges; a package's __init__.py is the package."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except the body of an `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the package `root` it imports (`from P import X` imports the
    module P.X when there is one, else the package P), with the packages they are in (below
    the root, and not those the importer is in itself)."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    packages = {module_name(p, root) for p in root.rglob("__init__.py")}
    top = root.name
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        deps: set[str] = set()
        here = name if name in packages else name.rpartition(".")[0]  # the package relative imports start from
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            for target in targets:
                while target and target not in files:  # import a.b.c: the deepest module of ours
                    target = target.rpartition(".")[0]
                if target.split(".")[0] != top or target == name:
                    continue
                deps.add(target)
                parts = target.split(".")
                for k in range(2, len(parts)):
                    package = ".".join(parts[:k])
                    if not (name == package or name.startswith(package + ".")):
                        deps.add(package)
        graph[name] = deps
    return graph


def edges_on_cycles(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """Each import a -> b that lies on a cycle, with one shortest cycle through it (a, b, ..., a)."""
    out = {}
    for a in sorted(graph):
        for b in sorted(graph[a]):
            path = _shortest_path(graph, b, a)
            if path is not None:
                out[f"{a} -> {b}"] = [a, *path]
    return out


def _shortest_path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    came: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            if node == goal:
                path = [node]
                while (prev := came[path[-1]]) is not None:
                    path.append(prev)
                return path[::-1]
            for dep in sorted(graph.get(node, ())):
                if dep not in came:
                    came[dep] = node
                    nxt.append(dep)
        frontier = nxt
    return None


def layering_breaches(graph: dict[str, set[str]]) -> set[str]:
    """Imports that point up the flow (see the module docstring)."""
    out = set()
    for a, deps in graph.items():
        for b in deps:
            if a.startswith("pkgdrc.geometry") and not b.startswith("pkgdrc.geometry"):
                out.add(f"{a} -> {b}")
            if a.startswith("pkgdrc.report") and any(b == m or b.startswith(m + ".") for m in REPORT_MUST_NOT_IMPORT):
                out.add(f"{a} -> {b}")
    return out


def _listing(entries, cycles=None) -> str:
    return "".join(
        f"\n  {e}" + (f"   ({' -> '.join(cycles[e])})" if cycles and e in cycles else "") for e in sorted(entries)
    )


def test_no_new_import_cycle_and_known_ones_are_crossed_off():
    cycles = edges_on_cycles(import_graph(PACKAGE))
    known = {f"{a} -> {b}" for a, imported in KNOWN_CYCLES.items() for b in imported}
    new, fixed = set(cycles) - known, known - set(cycles)
    assert not new, "imports that close a new cycle:" + _listing(new, cycles)
    assert not fixed, "not on a cycle (any more): delete from KNOWN_CYCLES" + _listing(fixed)


def test_layering_and_known_breaches_are_crossed_off():
    breaches = layering_breaches(import_graph(PACKAGE))
    new, fixed = breaches - KNOWN_BREACHES, KNOWN_BREACHES - breaches
    assert not new, "imports against the layering:" + _listing(new)
    assert not fixed, "not a breach (any more): delete from KNOWN_BREACHES" + _listing(fixed)


def test_the_walker_sees_every_kind_of_import(tmp_path):
    """On a small package: module-level, in-function, relative and `from P import module`
    imports count; TYPE_CHECKING ones do not; a cycle through a function's import is found."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.run import go\n")
    (pkg / "run.py").write_text("from pkg import sub\nfrom pkg.sub import leaf\n\ndef go():\n    import pkg.engine\n")
    (pkg / "engine.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import run\n"
        "else:\n    import os\nfrom .sub.leaf import f\n\n\ndef g():\n"
        "    from pkg.run import go\n"
    )
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "leaf.py").write_text("import os.path\nfrom .. import engine\n\n\ndef f():\n    pass\n")
    graph = import_graph(pkg)
    assert graph == {
        "pkg": {"pkg.run"},
        "pkg.run": {"pkg.sub", "pkg.sub.leaf", "pkg.engine"},
        "pkg.engine": {"pkg.sub.leaf", "pkg.sub", "pkg.run"},
        "pkg.sub": set(),
        "pkg.sub.leaf": {"pkg.engine"},
    }
    cycles = edges_on_cycles(graph)
    assert set(cycles) == {
        "pkg.run -> pkg.engine",
        "pkg.engine -> pkg.run",
        "pkg.run -> pkg.sub.leaf",
        "pkg.sub.leaf -> pkg.engine",
        "pkg.engine -> pkg.sub.leaf",
    }
    assert cycles["pkg.run -> pkg.engine"] == ["pkg.run", "pkg.engine", "pkg.run"]


def test_one_version():
    """The version pkgdrc reports is the one it was installed as."""
    assert pkgdrc.__version__ == __version__ == importlib.metadata.version("pkgdrc")
