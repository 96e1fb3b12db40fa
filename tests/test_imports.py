"""No import circles inside ``ratingdist``: a static walk over every module's import statements.

Every ``import`` and ``from … import`` counts, wherever it stands: at module level, inside
functions, and inside ``if TYPE_CHECKING:`` blocks (a type-only import still says which module
knows about which). An import of ``a.b.c`` also runs the packages ``a.b`` and ``a``; those count
too, except the packages that contain the importing module (they are already being imported
when it runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ratingdist"


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file of the package."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _ancestors(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _targets(importer: str, node: ast.AST, modules: dict[str, Path], package: str) -> set[str]:
    """Modules of the package that the import statement ``node`` in ``importer`` names."""
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    else:
        assert isinstance(node, ast.ImportFrom)
        if node.level:
            base = importer if _is_package(importer, modules) else importer.rpartition(".")[0]
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            source = f"{base}.{node.module}" if node.module else base
        else:
            source = node.module or ""
        # ``from p import m`` names the submodule p.m where there is one, else p itself
        names = {f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                 for alias in node.names}
    out = set()
    for name in names:
        if name != package and not name.startswith(package + "."):
            continue
        # the module (or the deepest package of the package that it lies in), and the packages
        # above it that the importer does not lie in
        while name not in modules:
            name = name.rpartition(".")[0]
        out |= {name, *(_ancestors(name) - _ancestors(importer) - {importer})}
    out.discard(importer)
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the package's modules that it imports (all import statements, any depth)."""
    modules = module_files(root)
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[name] |= _targets(name, node, modules, root.name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_ratingdist_has_no_import_circles():
    graph = import_graph()
    assert {"ratingdist.fitting", "ratingdist.gof", "ratingdist.families.base"} <= set(graph)
    assert circles(graph) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a function-level import closes a circle
        ({"a.py": "from . import b\n", "b.py": "def f():\n    from .a import x\n"},
         [["pkg.a", "pkg.b"]]),
        # so does an import under TYPE_CHECKING
        ({"a.py": "from . import b\n",
          "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"},
         [["pkg.a", "pkg.b"]]),
        # importing pkg.sub.m runs pkg/sub/__init__.py, which imports the importer
        ({"a.py": "from .sub.m import x\n", "sub/__init__.py": "from .. import a\n",
          "sub/m.py": ""},
         [["pkg.a", "pkg.sub"]]),
        # a package importing its submodules, which import each other one way: no circle
        ({"__init__.py": "from . import a, b\nfrom .a import x\n", "a.py": "from .b import y\n",
          "b.py": "import numpy\n"},
         []),
        # a submodule importing a sibling through its package is no circle with the package
        ({"sub/__init__.py": "from ._x import f\n", "sub/_x.py": "from ._y import g\n",
          "sub/_y.py": "from .. import c\n", "c.py": ""},
         []),
    ],
)
def test_the_walk_finds_circles(tmp_path, files, expected):
    """The analysis itself, on small packages written to a temporary folder."""
    root = tmp_path / "pkg"
    for rel, text in {"__init__.py": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    assert circles(import_graph(root)) == expected
