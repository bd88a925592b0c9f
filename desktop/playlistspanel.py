"""The Playlists panel: the playlists on the left, the selected one's entries on the right.

A view (the presenter is ``desktop/presenters/playlists.py``): it shows what it is given and
emits what the user asked for.

``set_playlists([(id, name, entries, missing), ...], selected_id)``; ``set_entries(id, title,
[(entry_id, text, seconds, missing), ...])``.

Signals:
    playlistSelected(int)            a playlist picked in the list (0: none)
    createRequested(str)             "New…" with the name given
    renameRequested(int, str)        "Rename…" (F2) with the new name
    deleteRequested(int)             "Delete…" (Delete on the list), after the user confirmed
    importRequested(str)             "Import…" with the M3U/M3U8 file chosen
    exportRequested(int, str)        "Export…" with the file to write
    entryActivated(int)              an entry double-clicked (or Return): play from there
    entriesRemoveRequested(list)     entry ids, on Delete in the entries list or "Remove"
    entriesMoved(list, object)       entry ids dragged to another place, and the entry id they now
                                     stand before (None: the end)
    saveQueueRequested(), saveRecommendationsRequested()   from the "More" menu
"""
from __future__ import annotations

import html
import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.fmt import format_time
from desktop.panels import QueuePanel, _DurationDelegate, _placeholder, _QueueList

#: an entry whose file is gone
MISSING_COLOR = QColor("#8a8a9a")
M3U_FILTER = "Playlists (*.m3u8 *.m3u);;All files (*)"


def _emit(signal, *args) -> None:
    signal.emit(*args)


class _EntryKey:
    """An entry's item data: an object, so that the list's drag and drop (``_QueueList``, which
    tells entries apart by identity) knows it again after the drop."""

    __slots__ = ("id",)

    def __init__(self, entry_id: int):
        self.id = int(entry_id)


def _eid(item) -> int:
    return item.data(Qt.ItemDataRole.UserRole).id


class PlaylistsPanel(QWidget):
    playlistSelected = Signal(int)
    createRequested = Signal(str)
    renameRequested = Signal(int, str)
    deleteRequested = Signal(int)
    importRequested = Signal(str)
    exportRequested = Signal(int, str)
    entryActivated = Signal(int)
    entriesRemoveRequested = Signal(list)
    entriesMoved = Signal(list, object)
    saveQueueRequested = Signal()
    saveRecommendationsRequested = Signal()

    NO_PLAYLISTS = "No playlists yet. Make one with “New…”, import an M3U file, or right-click tracks and "\
                   "choose “Add to playlist”."
    NONE_SELECTED = "Select a playlist to see its tracks."
    EMPTY = "This playlist is empty. Right-click tracks in the library, the queue or the recommendations and "\
            "choose “Add to playlist”."

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._names: dict[int, str] = {}
        self._counts: dict[int, int] = {}
        self._current = 0
        self._filling = False
        self.import_report: QMessageBox | None = None  # the last import's skipped entries, if any

        # left: the playlists
        self.playlist_list = QListWidget()
        self.playlist_list.setObjectName("playlistList")
        self.playlist_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.playlist_list.currentItemChanged.connect(self._on_current_changed)
        self.playlist_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.playlist_list.customContextMenuRequested.connect(self._playlist_menu)
        self.playlist_list.installEventFilter(self)
        self.no_playlists = _placeholder(self.NO_PLAYLISTS)
        self.left_stack = QStackedWidget()
        self.left_stack.addWidget(self.no_playlists)
        self.left_stack.addWidget(self.playlist_list)

        self.new_button = self._button("New…", "playlistNew", "Make an empty playlist", self.ask_create)
        self.import_button = self._button("Import…", "playlistImport", "Make a playlist of an M3U / M3U8 file",
                                          self.ask_import)
        self.export_button = self._button("Export…", "playlistExport", "Write the selected playlist as an M3U8 file",
                                          self.ask_export)
        self.more_button = QToolButton()
        self.more_button.setObjectName("playlistMore")
        self.more_button.setText("More")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_menu = QMenu(self.more_button)
        self.rename_action = self.more_menu.addAction("Rename…", self.ask_rename)
        self.rename_action.setObjectName("playlistRename")
        self.delete_action = self.more_menu.addAction("Delete…", self.ask_delete)
        self.delete_action.setObjectName("playlistDelete")
        self.more_menu.addSeparator()
        self.more_menu.addAction("Save queue as playlist…", lambda: _emit(self.saveQueueRequested)).setObjectName(
            "playlistSaveQueue")
        self.more_menu.addAction("Save recommendations as playlist…",
                                 lambda: _emit(self.saveRecommendationsRequested)).setObjectName(
            "playlistSaveRecommendations")
        self.more_button.setMenu(self.more_menu)
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for b in (self.new_button, self.import_button, self.export_button, self.more_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.left_stack, 1)
        ll.addLayout(buttons)

        # right: the entries of the selected playlist
        self.title = QLabel()
        self.title.setObjectName("playlistTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.entries = _QueueList()
        self.entries.setObjectName("playlistEntries")
        self.entries.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.entries.setItemDelegate(_DurationDelegate(self.entries))
        self.entries.itemDoubleClicked.connect(self._on_entry_double_click)
        self.entries.moved.connect(self._on_moved)
        self.entries.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.entries.customContextMenuRequested.connect(self._entry_menu)
        self.entries.installEventFilter(self)
        self.entries_message = _placeholder(self.NONE_SELECTED)
        self.right_stack = QStackedWidget()
        self.right_stack.addWidget(self.entries_message)
        self.right_stack.addWidget(self.entries)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.title)
        rl.addWidget(self.right_stack, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 600])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.splitter)
        rename = QShortcut(QKeySequence("F2"), self.playlist_list, self.ask_rename)
        rename.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.set_playlists([], 0)

    def _button(self, text: str, name: str, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setObjectName(name)
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    # --- what the presenter shows -----------------------------------------------------------------
    def set_playlists(self, playlists, selected: int) -> None:
        """``[(id, name, entries, missing), ...]`` in order; ``selected``: the id to select (0: none)."""
        self._filling = True
        try:
            self.playlist_list.clear()
            self._names = {pid: name for pid, name, *_ in playlists}
            self._counts = {pid: n for pid, _name, n, *_ in playlists}
            for pid, name, n, missing in playlists:
                note = f"{n} track{'s' if n != 1 else ''}" + (f", {missing} missing" if missing else "")
                it = QListWidgetItem(f"{name}  ({note})")
                it.setData(Qt.ItemDataRole.UserRole, pid)
                it.setToolTip(f"{name}: {note}")
                self.playlist_list.addItem(it)
                if pid == selected:
                    self.playlist_list.setCurrentItem(it)
            self.left_stack.setCurrentWidget(self.playlist_list if playlists else self.no_playlists)
        finally:
            self._filling = False
        now = self.current_playlist()
        for w in (self.export_button, self.rename_action, self.delete_action):
            w.setEnabled(bool(now))
        if now != self._current:
            self._current = now
            self.playlistSelected.emit(now)
        if not now:
            self.show_message(self.NONE_SELECTED)

    def set_entries(self, playlist_id: int, title: str, entries) -> None:
        """The entries of ``playlist_id``: ``[(entry_id, text, seconds, missing), ...]``."""
        if playlist_id != self.current_playlist():
            return  # another one was picked meanwhile
        selected = set(self.selected_entries())
        self.title.setText(f"<b>{html.escape(title)}</b>")
        self.entries.clear()
        for entry_id, text, seconds, missing in entries:
            it = QListWidgetItem(text + (" (missing)" if missing else ""))
            it.setData(Qt.ItemDataRole.UserRole, _EntryKey(entry_id))
            if seconds:
                it.setData(QueuePanel.DURATION_ROLE, format_time(seconds))
            if missing:
                it.setForeground(MISSING_COLOR)
                font = QFont(it.font())
                font.setItalic(True)
                it.setFont(font)
                it.setToolTip("The file is gone; the entry comes back to life when the song is in the library again.")
            self.entries.addItem(it)
            if entry_id in selected:
                it.setSelected(True)
        if entries:
            self.right_stack.setCurrentWidget(self.entries)
        else:
            self.entries_message.setText(self.EMPTY)
            self.right_stack.setCurrentWidget(self.entries_message)

    def show_message(self, text: str) -> None:
        self.title.setText("")
        self.entries.clear()
        self.entries_message.setText(text)
        self.right_stack.setCurrentWidget(self.entries_message)

    # --- reading the view -------------------------------------------------------------------------
    def current_playlist(self) -> int:
        it = self.playlist_list.currentItem()
        return int(it.data(Qt.ItemDataRole.UserRole)) if it is not None else 0

    def select_playlist(self, playlist_id: int) -> None:
        for i in range(self.playlist_list.count()):
            if self.playlist_list.item(i).data(Qt.ItemDataRole.UserRole) == playlist_id:
                self.playlist_list.setCurrentRow(i)
                return

    def playlist_names(self) -> list[str]:
        return [self._names[self.playlist_list.item(i).data(Qt.ItemDataRole.UserRole)]
                for i in range(self.playlist_list.count())]

    def entry_ids(self) -> list[int]:
        return [k.id for k in self.entries.keys()]

    def entry_texts(self) -> list[str]:
        return [self.entries.item(i).text() for i in range(self.entries.count())]

    def selected_entries(self) -> list[int]:
        rows = sorted(self.entries.row(it) for it in self.entries.selectedItems())
        return [_eid(self.entries.item(r)) for r in rows]

    # --- dialogs (tests replace these) ------------------------------------------------------------
    def ask_name(self, title: str, label: str, text: str = "") -> str | None:
        value, ok = QInputDialog.getText(self, title, label, text=text)
        return value.strip() if ok and value.strip() else None

    def confirm_delete(self, name: str, entries: int) -> bool:
        what = f"its {entries} entr{'ies' if entries != 1 else 'y'}" if entries else "it"
        answer = QMessageBox.question(
            self, "Delete playlist", f"Delete the playlist “{name}” and {what}? The music stays in the library.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def choose_import_file(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a playlist", os.path.expanduser("~"), M3U_FILTER)
        return path or None

    def choose_export_file(self, name: str) -> str | None:
        safe = "".join(c if c.isalnum() or c in " -_.()" else "_" for c in name).strip() or "playlist"
        path, _ = QFileDialog.getSaveFileName(self, f"Export “{name}”",
                                              os.path.join(os.path.expanduser("~"), safe + ".m3u8"), M3U_FILTER)
        return path or None

    def show_skipped(self, summary: str, lines: list[str]) -> None:
        """What an import left out, one line per entry with its reason, in a window that does
        not block (its "Show Details…" has every line)."""
        box = QMessageBox(QMessageBox.Icon.Information, "Playlist import", summary, QMessageBox.StandardButton.Ok,
                          self)
        box.setObjectName("importReport")
        box.setInformativeText(f"{len(lines)} entr{'ies' if len(lines) != 1 else 'y'} could not be used.")
        box.setDetailedText("\n".join(lines))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setModal(False)
        box.show()
        self.import_report = box

    # --- what the user does -----------------------------------------------------------------------
    def ask_create(self) -> None:
        name = self.ask_name("New playlist", "Name of the new playlist:")
        if name:
            self.createRequested.emit(name)

    def ask_rename(self) -> None:
        pid = self.current_playlist()
        if not pid:
            return
        old = self._names.get(pid, "")
        new = self.ask_name("Rename playlist", f"New name for “{old}”:", old)
        if new and new != old:
            self.renameRequested.emit(pid, new)

    def ask_delete(self) -> None:
        pid = self.current_playlist()
        if pid and self.confirm_delete(self._names.get(pid, ""), self._counts.get(pid, 0)):
            self.deleteRequested.emit(pid)

    def ask_import(self) -> None:
        path = self.choose_import_file()
        if path:
            self.importRequested.emit(path)

    def ask_export(self) -> None:
        pid = self.current_playlist()
        if not pid:
            return
        path = self.choose_export_file(self._names.get(pid, "playlist"))
        if path:
            self.exportRequested.emit(pid, path)

    def _on_current_changed(self, current, _previous) -> None:
        if self._filling:
            return
        pid = int(current.data(Qt.ItemDataRole.UserRole)) if current is not None else 0
        for w in (self.export_button, self.rename_action, self.delete_action):
            w.setEnabled(bool(pid))
        if pid != self._current:
            self._current = pid
            self.show_message("Loading…" if pid else self.NONE_SELECTED)
            self.playlistSelected.emit(pid)

    def _on_entry_double_click(self, item) -> None:
        self.entryActivated.emit(_eid(item))

    def _on_moved(self, moved: list, before) -> None:
        self.entriesMoved.emit([k.id for k in moved], None if before is None else before.id)

    def _playlist_menu(self, pos) -> None:
        item = self.playlist_list.itemAt(pos)
        if item is None:
            return
        self.playlist_list.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction("Rename…", self.ask_rename)
        menu.addAction("Export…", self.ask_export)
        menu.addSeparator()
        menu.addAction("Delete…", self.ask_delete)
        menu.exec(self.playlist_list.viewport().mapToGlobal(pos))

    def _entry_menu(self, pos) -> None:
        item = self.entries.itemAt(pos)
        if item is None:
            return
        if not item.isSelected():
            self.entries.setCurrentItem(item)
        menu = QMenu(self)
        entry = _eid(item)
        menu.addAction("Play from here", lambda: _emit(self.entryActivated, entry))
        menu.addAction("Remove from playlist", lambda: _emit(self.entriesRemoveRequested, self.selected_entries()))
        menu.exec(self.entries.viewport().mapToGlobal(pos))

    def eventFilter(self, obj, event):  # noqa: N802
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if obj is self.entries:
                if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                    ids = self.selected_entries()
                    if ids:
                        self.entriesRemoveRequested.emit(ids)
                    return True
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.entries.currentItem() is not None:
                    self.entryActivated.emit(_eid(self.entries.currentItem()))
                    return True
            elif obj is self.playlist_list and key == Qt.Key.Key_Delete:
                self.ask_delete()
                return True
        return super().eventFilter(obj, event)
