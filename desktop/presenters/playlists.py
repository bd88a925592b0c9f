"""Playlists: the Playlists panel, "Add to playlist ▸" menus, saving the queue or the
recommendations as a playlist, and M3U import / export.

The catalog keeps the playlists (``core/catalog/playlists.py``); every change goes through the
app's writer thread (as likes do), every read through a reader thread; the GUI thread only
shows what comes back.  An error (a name that is taken, a file that cannot be read) is one line
in the status bar and changes nothing.

``add_tracks(playlist_id, track_ids)`` and ``build_add_menu(track_ids) -> QMenu`` are what the
other features use: the library table's, the queue's and the recommendations' context menus
each get the submenu.

Signal:
    playlistsChanged()   a playlist was made, renamed, deleted or its entries changed (stored)
"""
from __future__ import annotations

import logging
import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu

from desktop.tasks import TaskRunner

log = logging.getLogger(__name__)


class PlaylistsPresenter(QObject):
    playlistsChanged = Signal()

    def __init__(self, window, settings, *, reader: TaskRunner, writer: TaskRunner, library, playback):
        """``library``: track ids to rows; ``playback``: plays from an entry."""
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.reader, self.writer = reader, writer
        self.library, self.playback = library, playback
        self.catalog = None
        self.playlists: list = []  # core.catalog.Playlist, as last read
        self.entries: list = []  # the selected playlist's core.catalog.PlaylistEntry, as last read
        self._selected = 0
        self._select_next = 0  # a playlist just made: selected once the list is read again
        self._closing = False
        panel = self.panel = window.playlists_panel
        panel.playlistSelected.connect(self._on_selected)
        panel.createRequested.connect(self.create)
        panel.renameRequested.connect(self.rename)
        panel.deleteRequested.connect(self.delete)
        panel.importRequested.connect(self.import_file)
        panel.exportRequested.connect(self.export_file)
        panel.entryActivated.connect(self.play_from)
        panel.entriesRemoveRequested.connect(self.remove_entries)
        panel.entriesMoved.connect(self.move_entries)
        panel.saveQueueRequested.connect(self.save_queue)
        panel.saveRecommendationsRequested.connect(self.save_recommendations)
        # the other panels' context menus get "Add to playlist ▸" (and "Save … as playlist…")
        window.queue_panel.menu_extension = self._extend_queue_menu
        window.recommendations.menu_extension = self._extend_recommendations_menu

    def set_catalog(self, catalog) -> None:
        self.catalog = catalog
        self.reload()

    # --- reading ----------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the playlists again (and the selected one's entries)."""
        if self.catalog is None or self._closing:
            return
        self.reader.submit(self.catalog.playlists, on_result=self._on_playlists,
                           on_error=lambda exc, tb: self.window.show_error("Cannot read the playlists", exc))

    def _on_playlists(self, playlists) -> None:
        if self._closing:
            return
        self.playlists = list(playlists)
        ids = {p.id for p in playlists}
        if self._select_next in ids:
            self._selected = self._select_next
        self._select_next = 0
        if self._selected not in ids:
            self._selected = 0
        self.panel.set_playlists([(p.id, p.name, p.entries, p.missing) for p in playlists], self._selected)
        self._load_entries()

    def _on_selected(self, playlist_id: int) -> None:
        self._selected = int(playlist_id)
        self._select_next = 0  # the user's pick wins over a playlist just made
        self._load_entries()

    def _load_entries(self) -> None:
        pid = self._selected
        if self.catalog is None or not pid:
            self.entries = []
            return
        self.reader.submit(self.catalog.playlist_entries, pid,
                           on_result=lambda entries, pid=pid: self._on_entries(pid, entries),
                           on_error=lambda exc, tb: self.panel.show_message(f"Cannot read this playlist: {exc}"))

    def _on_entries(self, playlist_id: int, entries) -> None:
        if self._closing or playlist_id != self._selected:
            return
        self.entries = list(entries)
        p = next((p for p in self.playlists if p.id == playlist_id), None)
        total = sum(_seconds(e) or 0.0 for e in entries)
        missing = sum(e.missing for e in entries)
        title = (p.name if p else "") + f" — {len(entries)} track{'s' if len(entries) != 1 else ''}"
        if total:
            title += f", {_length(total)}"
        if missing:
            title += f" ({missing} missing)"
        rows = [(e.id, f"{e.display_title} — {e.display_artist}" if e.display_artist else e.display_title,
                 _seconds(e), e.missing) for e in entries]
        self.panel.set_entries(playlist_id, title, rows)

    def name_of(self, playlist_id: int) -> str:
        return next((p.name for p in self.playlists if p.id == playlist_id), "")

    # --- writing: one job each on the writer thread -----------------------------------------------
    def _write(self, job, what: str, *, done=None, message=None) -> None:
        """Run ``job(catalog)`` on the writer thread; then ``done(result)``, the status bar says
        ``message(result)``, and the panel reads the playlists again.  An error: one line."""
        if self.catalog is None:
            self.window.statusBar().showMessage("The library is not open yet.", 5000)
            return
        catalog = self.catalog

        def ok(result):
            if self._closing:
                return
            if done is not None:
                done(result)
            if message is not None:
                self.window.statusBar().showMessage(message(result), 6000)
            self.reload()
            self.playlistsChanged.emit()

        def failed(exc, tb):
            log.debug("%s failed:\n%s", what, tb)
            self.window.statusBar().showMessage(f"{what}: {exc}", 10000)
            self.reload()

        self.writer.submit(job, catalog, on_result=ok, on_error=failed)

    def _select_later(self, playlist_id: int) -> None:
        self._select_next = int(playlist_id)

    def create(self, name: str, track_ids: list[int] | None = None) -> None:
        """A new playlist (with ``track_ids`` in it, if given), selected once made."""
        ids = [int(t) for t in track_ids or []]

        def job(catalog):
            with catalog.transaction():
                p = catalog.create_playlist(name)
                if ids:
                    catalog.add_to_playlist(p.id, ids)
            return p

        self._write(job, f"Cannot make the playlist “{name}”", done=lambda p: self._select_later(p.id),
                    message=lambda p: f"Made the playlist “{p.name}”" + (f" of {_tracks(len(ids))}." if ids else "."))

    def rename(self, playlist_id: int, name: str) -> None:
        self._write(lambda c: c.rename_playlist(int(playlist_id), name), "Cannot rename the playlist",
                    message=lambda p: f"Renamed the playlist to “{p.name}”.")

    def delete(self, playlist_id: int) -> None:
        old = self.name_of(playlist_id)
        self._write(lambda c: c.delete_playlist(int(playlist_id)), "Cannot delete the playlist",
                    message=lambda n: f"Deleted the playlist “{old}” ({n} entries); the music stays.")

    def add_tracks(self, playlist_id: int, track_ids: list[int]) -> None:
        """Add ``track_ids`` at the end of playlist ``playlist_id`` (stored on the writer thread)."""
        ids = [int(t) for t in track_ids if t is not None]
        if not ids:
            return
        name = self.name_of(playlist_id)
        self._write(lambda c: c.add_to_playlist(int(playlist_id), ids), f"Cannot add to “{name}”",
                    message=lambda _r: f"Added {_tracks(len(ids))} to “{name}”.")

    def remove_entries(self, entry_ids: list[int]) -> None:
        pid = self._selected
        if pid and entry_ids:
            ids = [int(e) for e in entry_ids]
            self._write(lambda c: c.remove_playlist_entries(pid, ids), "Cannot remove the entries",
                        message=lambda n: f"Removed {_tracks(n)} from “{self.name_of(pid)}”.")

    def move_entries(self, entry_ids: list[int], before) -> None:
        """Entries dragged to stand before entry ``before`` (None: at the end); stored at once."""
        pid = self._selected
        if not pid or not entry_ids:
            return
        ids = [int(e) for e in entry_ids]

        def job(catalog):
            order = [e.id for e in catalog.playlist_entries(pid)]
            at = order.index(before) if before in order else len(order)
            return catalog.move_playlist_entries(pid, ids, at)

        self._write(job, "Cannot move the entries")

    def import_file(self, path: str) -> None:
        """Make a playlist of an M3U/M3U8 file (the matching and the fingerprints of moved files
        on the writer thread); the status bar says how many entries came in and why the others
        did not (the first reason; every one in a window that does not block, and in the log)."""
        from core.playlists import import_m3u

        def done(report):
            if report.playlist is not None:
                self._select_later(report.playlist.id)
            for s in report.skipped:
                log.info("%s, line %d: %s: %s", path, s.line_no, s.entry, s.reason)
            if report.skipped:
                self.panel.show_skipped(message(report), [f"line {s.line_no}: {s.entry}: {s.reason}"
                                                          for s in report.skipped])

        def message(report):
            name = os.path.basename(path)
            if report.playlist is None:
                first = report.skipped[0] if report.skipped else None
                return f"Nothing imported from {name}" + (f": line {first.line_no}: {first.reason}." if first else
                                                          ": it lists no files.")
            text = f"Imported {_tracks(len(report.added))} from {name} into “{report.playlist.name}”"
            if report.skipped:
                s = report.skipped[0]
                text += (f"; skipped {len(report.skipped)} (line {s.line_no}: {s.reason}"
                         + (", …" if len(report.skipped) > 1 else "") + ")")
            return text + "."

        self._write(lambda c: import_m3u(c, path), f"Cannot import {os.path.basename(path)}", done=done,
                    message=message)

    def export_file(self, playlist_id: int, path: str) -> None:
        """Write a playlist as M3U8 (a reader thread: it changes nothing in the catalog)."""
        from core.playlists import export_m3u

        if self.catalog is None:
            return

        def done(report):
            text = f"Wrote {_tracks(report.written)} to {report.path}"
            if report.left_out:
                text += f"; left out {len(report.left_out)} with no file known"
            self.window.statusBar().showMessage(text + ".", 8000)

        self.reader.submit(export_m3u, self.catalog, int(playlist_id), path, on_result=done,
                           on_error=lambda exc, tb: self.window.statusBar().showMessage(
                               f"Cannot export the playlist: {exc}", 10000))

    # --- playing ----------------------------------------------------------------------------------
    def play_from(self, entry_id: int) -> None:
        """Play the playlist from entry ``entry_id``: that track now, the rest next (entries
        whose file is gone are passed over)."""
        ids = [e.id for e in self.entries]
        if entry_id not in ids:
            return
        rest = [e for e in self.entries[ids.index(entry_id):] if not e.missing]
        playable = [e.track_id for e in rest if self.library.row(e.track_id) is not None]
        if not playable:
            self.window.statusBar().showMessage("That track's file is gone; nothing to play from there.", 5000)
            return
        if len(playable) < len(rest):
            self.window.statusBar().showMessage(
                f"{_tracks(len(rest) - len(playable))} of this playlist are outside the library shown.", 5000)
        self.playback.play_ids(playable)

    # --- the menus other panels show ----------------------------------------------------------------
    def build_add_menu(self, track_ids: list[int]) -> QMenu:
        """"Add to playlist ▸": each playlist, then "New playlist…" (asks the name, makes it with
        these tracks)."""
        ids = [int(t) for t in track_ids if t is not None]
        menu = QMenu("Add to playlist", self.window)
        menu.setObjectName("addToPlaylistMenu")
        for p in self.playlists:
            action = menu.addAction(p.name.replace("&", "&&"), lambda pid=p.id: self.add_tracks(pid, ids))
            action.setObjectName(f"addToPlaylist{p.id}")
        if self.playlists:
            menu.addSeparator()
        menu.addAction("New playlist…", lambda: self._ask_and_create(ids)).setObjectName("addToNewPlaylist")
        menu.setEnabled(bool(ids))
        return menu

    def _ask_and_create(self, track_ids: list[int], title: str = "New playlist") -> None:
        name = self.panel.ask_name(title, "Name of the new playlist:")
        if name:
            self.create(name, track_ids)

    def save_queue(self) -> None:
        ids = [k.id for k in self.window.queue_panel.keys() if hasattr(k, "id")]
        if not ids:
            self.window.statusBar().showMessage("The queue is empty: nothing to save.", 5000)
            return
        self._ask_and_create(ids, "Save queue as playlist")

    def save_recommendations(self) -> None:
        ids = [int(k) for k in self.window.recommendations.keys()]
        if not ids:
            self.window.statusBar().showMessage("No recommendations to save yet.", 5000)
            return
        self._ask_and_create(ids, "Save recommendations as playlist")

    def _extend_queue_menu(self, menu: QMenu, keys: list) -> None:
        menu.addSeparator()
        menu.addMenu(self.build_add_menu([k.id for k in keys if hasattr(k, "id")]))
        menu.addAction("Save queue as playlist…", self.save_queue).setObjectName("queueSaveAsPlaylist")

    def _extend_recommendations_menu(self, menu: QMenu, keys: list) -> None:
        menu.addSeparator()
        menu.addMenu(self.build_add_menu([int(k) for k in keys]))
        menu.addAction("Save recommendations as playlist…", self.save_recommendations).setObjectName(
            "recommendationsSaveAsPlaylist")

    def shutdown(self) -> None:
        self._closing = True


def _seconds(entry) -> float | None:
    if entry.track is not None and entry.track.duration:
        return entry.track.duration
    return entry.duration


def _length(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600} h {s % 3600 // 60:02d} min" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _tracks(n: int) -> str:
    return f"{n} track{'s' if n != 1 else ''}"
