"""Help ▸ About: the version, the genre model in use and the credits of what Melograph ships
(``resources/CREDITS.txt``)."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from desktop.resources import resource, svg_icon


def model_line() -> str:
    """Which genre model tags the tracks, or why none does (reads only the model's card)."""
    from models import card

    problem = card.model_problem()
    if problem:
        return problem
    return f"Genre model: {card.model_version()} ({', '.join(card.read_card()['classes'])})"


def credits_text() -> str:
    path = resource("CREDITS.txt")
    return path.read_text(encoding="utf-8") if path.exists() else "The credits file (resources/CREDITS.txt) is missing."


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        from core import __version__

        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About Melograph")
        self.setWindowIcon(svg_icon("melograph"))
        icon = QLabel()
        icon.setPixmap(svg_icon("melograph").pixmap(64, 64))
        self.summary = QLabel(
            f"<h3>Melograph {html.escape(__version__)}</h3>"
            "<p>A music player that knows what it is playing: it tags each track's genre with a neural "
            "network on its spectrogram, shows the genres as the track plays, and learns what you like. "
            "Everything runs on this computer.</p>"
            f"<p>{html.escape(model_line())}</p>")
        self.summary.setObjectName("aboutSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.credits = QPlainTextEdit(credits_text())
        self.credits.setObjectName("aboutCredits")
        self.credits.setReadOnly(True)
        self.credits.setAccessibleName("Credits")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(icon)
        lay.addWidget(self.summary)
        lay.addWidget(QLabel("Credits:"))
        lay.addWidget(self.credits, 1)
        lay.addWidget(buttons)
        self.resize(600, 520)
