"""Browsing: the artist / album browser beside the table.

The browser's tree is built from the table's rows on a worker thread after every refresh that
changed them (``desktop.browser.build_tree``); the nodes picked limit the table (on top of the
text and genre filters); a double-click or Enter on a node plays its tracks ("Play these").
State saved: the grouping (artist › album, or genre › artist › album); whether the browser is
shown is part of the window's layout.
"""
from __future__ import annotations

from PySide6.QtCore import QObject

from desktop.browser import build_tree


class BrowsePresenter(QObject):
    def __init__(self, window, settings, *, reader, library, playback, covers=None):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.reader = reader
        self.library = library
        self.panel = window.browser
        self._generation = 0
        self.panel.set_group_by(settings.browser_group_by)
        if covers is not None:
            self.panel.model.set_covers(covers)  # albums show their covers
        self.panel.selectionChanged.connect(self._on_selection)
        self.panel.groupByChanged.connect(self._on_group_by)
        self.panel.playRequested.connect(playback.play_these)
        library.rowsShown.connect(self.refresh)

    def refresh(self) -> None:
        """Build the tree again from the rows the table holds (worker thread)."""
        rs = self.library.model.rowset()
        rows = list(rs.rows) if rs is not None else []
        self._generation += 1
        gen = self._generation
        self.reader.submit(build_tree, rows, self.panel.group_by(),
                           on_result=lambda nodes: self._show(gen, nodes, len(rows)),
                           on_error=lambda exc, tb: self.window.show_error("Cannot group the library", exc))

    def _show(self, generation: int, nodes, total: int) -> None:
        if generation == self._generation:
            self.panel.set_tree(nodes, total)

    def _on_selection(self, ids) -> None:
        self.library.model.set_browse(ids)

    def _on_group_by(self, key: str) -> None:
        self.settings.browser_group_by = key
        self.refresh()
