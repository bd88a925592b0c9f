"""The "Recently played" panel: the tracks the current profile played last, newest first, with
when and how often.  Double-click (or Enter) plays one.

``set_items([(track_id, title, artist, last_played, plays), ...])``; ``activated(track_id)``.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStackedWidget, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from desktop.fmt import format_when
from desktop.panels import _placeholder

TRACK_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class RecentlyPlayedPanel(QWidget):
    activated = Signal(int)

    EMPTY = "Nothing played yet. A track counts once it has played for half its length (or 4 minutes)."

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setObjectName("recentlyPlayedList")
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHeaderLabels(["Title", "Artist", "Last played", "Plays"])
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 180)
        for col, width in ((2, 100), (3, 50)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, width)
        self.tree.itemActivated.connect(self._on_activated)  # double-click and Enter
        self.empty = _placeholder(self.EMPTY)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.tree)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.stack)
        self.set_items([])

    def _on_activated(self, item, _column=0) -> None:
        tid = item.data(0, TRACK_ID_ROLE)
        if tid is not None:
            self.activated.emit(int(tid))

    def set_items(self, items) -> None:
        self.tree.clear()
        now = time.time()
        rows = []
        for track_id, title, artist, last_played, plays in items:
            it = QTreeWidgetItem([title, artist, format_when(last_played, now), str(plays)])
            it.setData(0, TRACK_ID_ROLE, int(track_id))
            it.setToolTip(2, time.strftime("%Y-%m-%d %H:%M", time.localtime(last_played)) if last_played else "")
            it.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            rows.append(it)
        self.tree.addTopLevelItems(rows)
        self.stack.setCurrentWidget(self.tree if rows else self.empty)

    def track_ids(self) -> list[int]:
        """The listed tracks, top to bottom."""
        return [int(self.tree.topLevelItem(i).data(0, TRACK_ID_ROLE)) for i in range(self.tree.topLevelItemCount())]
