"""core/ and models/ must never import Qt or pyqtgraph (DESIGN.md: the one rule between layers)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6", "desktop")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


@pytest.mark.parametrize("package", ["core", "models"])
def test_package_does_not_import_qt(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for lineno, name in _imports(path):
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(ROOT)}:{lineno} imports {name}")
    assert not offenders, "Qt/desktop imported from a Qt-free layer:\n" + "\n".join(offenders)


def test_the_checker_catches_a_qt_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom PySide6.QtCore import QObject\n")
    assert [n for _, n in _imports(bad) if n.split(".")[0] in FORBIDDEN] == ["PySide6.QtCore"]
