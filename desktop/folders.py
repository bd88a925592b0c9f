"""The library folders page: every folder of the library with its state (watched, rescanned
every few minutes, unavailable) and its number of tracks, and Add… / Remove.  Shown by File ▸
Library folders… (:class:`LibraryFoldersDialog`) and as the first page of the settings dialog::

    page = LibraryFoldersPage(library_presenter)

It only shows what ``library_presenter.folders`` (``desktop.presenters.folders``) knows and
asks it to change things; it follows ``foldersChanged``.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from desktop.presenters.folders import POLLED, UNAVAILABLE

ROOT_ROLE = Qt.ItemDataRole.UserRole + 1
_COLOURS = {UNAVAILABLE: QColor("#ffb347"), POLLED: QColor("#c0c0d0")}


class LibraryFoldersPage(QWidget):
    """The library's folders, their state, Add… and Remove."""

    def __init__(self, library_presenter, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("libraryFoldersPage")
        self.folders = library_presenter.folders

        intro = QLabel("Every folder here is in the library: its music is shown together in the table and "
                       "followed as files are added, changed or deleted. Removing a folder hides its "
                       "tracks; their likes, playlists and analysis are kept.")
        intro.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("libraryFoldersList")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Folder", "Tracks", "State"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        hh = self.tree.header()
        hh.setStretchLastSection(True)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(0, 320)
        hh.resizeSection(1, 60)
        self.empty_label = QLabel("No folders yet: add the folders that hold your music.")
        self.empty_label.setObjectName("libraryFoldersEmpty")

        self.add_button = QPushButton("Add…")
        self.add_button.setObjectName("addFolderButton")
        self.add_button.clicked.connect(self.folders.choose_and_add)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeFolderButton")
        self.remove_button.setToolTip("Take the selected folders out of the library (nothing is deleted)")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(intro)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.empty_label)
        lay.addLayout(buttons)

        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.folders.foldersChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        selected = set(self.selected_roots())
        self.tree.clear()
        for f in self.folders.folders():
            item = QTreeWidgetItem([f.root, "" if f.tracks is None else f"{f.tracks:,}", f.state_text()])
            item.setData(0, ROOT_ROLE, f.root)
            item.setToolTip(0, f.root)
            item.setToolTip(2, f.state_text())
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            colour = _COLOURS.get(f.state)
            if colour is not None:
                item.setForeground(2, colour)
            self.tree.addTopLevelItem(item)
            item.setSelected(f.root in selected)
        self.empty_label.setVisible(self.tree.topLevelItemCount() == 0)
        self._update_buttons()

    def rows(self) -> list[tuple[str, str]]:
        """(folder, state text) of every row, as shown."""
        return [(self.tree.topLevelItem(i).text(0), self.tree.topLevelItem(i).text(2))
                for i in range(self.tree.topLevelItemCount())]

    def selected_roots(self) -> list[str]:
        return [item.data(0, ROOT_ROLE) for item in self.tree.selectedItems()]

    def select(self, root: str) -> None:
        root = os.path.abspath(root)
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setSelected(item.data(0, ROOT_ROLE) == root)

    def remove_selected(self) -> None:
        for root in self.selected_roots():
            self.folders.remove_folder(root)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.tree.selectedItems()))


class LibraryFoldersDialog(QDialog):
    """File ▸ Library folders…: the folders page in a window of its own."""

    def __init__(self, library_presenter, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("libraryFoldersDialog")
        self.setWindowTitle("Library folders")
        self.resize(760, 340)
        lay = QVBoxLayout(self)
        self.page = LibraryFoldersPage(library_presenter)
        lay.addWidget(self.page)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
