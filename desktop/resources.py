"""Icons and the style sheet from ``resources/`` (SVG, so they scale and need no font)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QStyle, QWidget

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def resource(*parts: str) -> Path:
    return RESOURCES.joinpath(*parts)


def svg_icon(name: str, checked_name: str | None = None) -> QIcon:
    """``resources/icons/<name>.svg``; ``checked_name`` is shown when a checkable button is on."""
    icon = QIcon()
    icon.addFile(str(resource("icons", f"{name}.svg")), state=QIcon.State.Off)
    if checked_name:
        icon.addFile(str(resource("icons", f"{checked_name}.svg")), state=QIcon.State.On)
    return icon


def std_icon(widget: QWidget, which: QStyle.StandardPixmap) -> QIcon:
    return widget.style().standardIcon(which)


def style_sheet() -> str:
    path = resource("style.qss")
    return path.read_text(encoding="utf-8") if path.exists() else ""
