"""The look: Fusion with a dark palette (the spectrogram and charts are dark) plus resources/style.qss."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from desktop.resources import style_sheet


def apply_theme(app: QApplication) -> None:
    app.setStyle(QStyleFactory.create("Fusion"))
    p = QPalette()
    C = QPalette.ColorRole
    base, window, text = QColor("#1b1b22"), QColor("#24242d"), QColor("#e6e6ee")
    p.setColor(C.Window, window)
    p.setColor(C.WindowText, text)
    p.setColor(C.Base, base)
    p.setColor(C.AlternateBase, QColor("#212129"))
    p.setColor(C.ToolTipBase, QColor("#2e2e3a"))
    p.setColor(C.ToolTipText, text)
    p.setColor(C.PlaceholderText, QColor("#8a8a9a"))
    p.setColor(C.Text, text)
    p.setColor(C.Button, QColor("#2c2c37"))
    p.setColor(C.ButtonText, text)
    p.setColor(C.BrightText, QColor("#ff6b6b"))
    p.setColor(C.Highlight, QColor("#3d5a80"))
    p.setColor(C.HighlightedText, QColor("#ffffff"))
    p.setColor(C.Link, QColor("#4fd1ff"))
    p.setColor(C.Mid, QColor("#34343f"))
    p.setColor(C.Dark, QColor("#15151b"))
    for role in (C.WindowText, C.Text, C.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6d6d7d"))
    app.setPalette(p)
    app.setStyleSheet(style_sheet())
