"""The layers of DESIGN.md, read from the source: which package may import which, and no import loops.

Every import statement counts, at module level or inside a function (also under ``if TYPE_CHECKING``).
``from pkg import name`` is an import of the submodule ``pkg.name`` when there is one, else of ``pkg``.
"""
from __future__ import annotations

import ast
from collections import deque
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "models", "analysis", "cli", "desktop")  # first-party packages; main.py is the entry
QT = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6")

#: package -> top-level names its modules must never import
MAY_NOT_IMPORT = {
    "core": ("models", "analysis", "cli", "desktop", *QT),
    "models": ("analysis", "cli", "desktop", *QT),
    "analysis": ("cli", "desktop"),
    "desktop": ("cli",),
}


class Import(NamedTuple):
    name: str  # as written, made absolute: "PySide6.QtCore", "core.catalog.Catalog"
    module: str | None  # the first-party module it loads ("core.catalog"), None for a third-party one
    lineno: int


def first_party_modules(root: Path) -> dict[str, Path]:
    """Module name -> file, for the packages under ``root`` and its main.py."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    if (root / "main.py").is_file():
        modules["main"] = root / "main.py"
    return modules


def _loaded(name: str, modules) -> str | None:
    """The deepest first-party module that importing ``name`` loads (``core.catalog.Catalog`` -> ``core.catalog``)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in modules:
            return ".".join(parts[:i])
    return None


def imports_of(module: str, path: Path, modules) -> list[Import]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(a.name, _loaded(a.name, modules), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package upwards
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            for alias in node.names:
                name = f"{base}.{alias.name}" if alias.name != "*" else base
                found.append(Import(name, _loaded(name, modules), node.lineno))
    return found


def import_graph(root: Path) -> dict[str, dict[str, int]]:
    """module -> {first-party module it imports: line of the first such import}."""
    modules = first_party_modules(root)
    graph = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        for imp in imports_of(module, path, modules):
            if imp.module is not None and imp.module != module:
                edges.setdefault(imp.module, imp.lineno)
        graph[module] = edges
    return graph


def layer_violations(root: Path) -> list[str]:
    modules = first_party_modules(root)
    found = []
    for module, path in modules.items():
        forbidden = MAY_NOT_IMPORT.get(module.split(".")[0], ())
        for imp in imports_of(module, path, modules):
            if imp.name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(root)}:{imp.lineno} imports {imp.name}")
    return found


def _shortest_cycle_through(start: str, graph) -> list[str] | None:
    parent = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node]):
            if nxt == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return path[::-1] + [start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return None


def import_cycles(root: Path) -> list[str]:
    """Each module that is part of an import loop, with the shortest loop through it, as
    ``a (a.py:3) -> b (b.py:7) -> a``; one line per distinct loop."""
    graph = import_graph(root)
    modules = first_party_modules(root)
    loops = {}
    for module in sorted(graph):
        cycle = _shortest_cycle_through(module, graph)
        if cycle is None:
            continue
        ring = cycle[:-1]
        turn = ring.index(min(ring))
        key = tuple(ring[turn:] + ring[:turn])
        if key not in loops:
            steps = [f"{a} ({modules[a].relative_to(root)}:{graph[a][b]})" for a, b in zip(cycle, cycle[1:])]
            loops[key] = " -> ".join(steps + [cycle[-1]])
    return sorted(loops.values())


# --- the rules, on the real tree ----------------------------------------------------------------

@pytest.mark.parametrize("package", sorted(MAY_NOT_IMPORT))
def test_package_imports_only_the_layers_below(package):
    found = [v for v in layer_violations(ROOT) if v.startswith(f"{package}/")]
    assert not found, f"{package}/ may not import {', '.join(MAY_NOT_IMPORT[package])}:\n" + "\n".join(found)


def test_no_module_imports_itself_through_others():
    loops = import_cycles(ROOT)
    assert not loops, f"{len(loops)} import loops:\n" + "\n".join(loops)


# --- the checker catches what it is meant to --------------------------------------------------

def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in PACKAGES:  # every first-party package exists, possibly empty
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return root


def test_the_checker_catches_a_qt_import(tmp_path):
    root = _tree(tmp_path, {"core/player.py": "import os\nfrom PySide6.QtCore import QObject\n",
                            "desktop/window.py": "from PySide6.QtWidgets import QWidget\n"})
    assert layer_violations(root) == ["core/player.py:2 imports PySide6.QtCore.QObject"]


@pytest.mark.parametrize("package, imported", [(p, f) for p, names in MAY_NOT_IMPORT.items()
                                               for f in names if f not in QT])
def test_the_checker_catches_an_import_from_a_higher_layer(tmp_path, package, imported):
    root = _tree(tmp_path, {f"{package}/low.py": f"def later():\n    from {imported} import high\n",
                            f"{imported}/high.py": ""})
    assert layer_violations(root) == [f"{package}/low.py:2 imports {imported}.high"]


def test_the_checker_allows_the_layers_below(tmp_path):
    root = _tree(tmp_path, {"models/genre.py": "from core import features\n",
                            "analysis/service.py": "import core.catalog\nfrom models import genre\n",
                            "cli/scan.py": "from analysis import service\nfrom core.catalog import Catalog\n",
                            "desktop/app.py": "from analysis import service\nimport PySide6\n",
                            "main.py": "from cli.main import main\nfrom desktop.app import main\n"})
    assert layer_violations(root) == []


def test_the_checker_catches_two_modules_importing_each_other(tmp_path):
    root = _tree(tmp_path, {"models/layers.py": "from models import architectures\n",
                            "models/architectures.py": "import os\n\n\ndef build():\n    from models.layers import Dense\n"})
    assert import_cycles(root) == [
        "models.architectures (models/architectures.py:5) -> models.layers (models/layers.py:1) -> models.architectures"]


def test_the_checker_catches_a_longer_loop_and_a_package_importing_its_own_module(tmp_path):
    root = _tree(tmp_path, {"core/catalog/__init__.py": "from core.catalog.tracks import Track\n",
                            "core/catalog/tracks.py": "from core.catalog import CatalogError\n",
                            "cli/a.py": "import cli.b\n", "cli/b.py": "from . import c\n",
                            "cli/c.py": "def f():\n    from .a import x\n",
                            "cli/d.py": "import cli.a\n"})  # imports the loop, is not part of it
    assert import_cycles(root) == [
        "cli.a (cli/a.py:1) -> cli.b (cli/b.py:1) -> cli.c (cli/c.py:2) -> cli.a",
        "core.catalog (core/catalog/__init__.py:1) -> core.catalog.tracks (core/catalog/tracks.py:1) -> core.catalog",
    ]
