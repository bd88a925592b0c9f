"""The library: the table's rows and filters, scans of the library's folders, the failed-files
panel, likes of the selected rows, the context menu and "show in folder".

State: the library's folders (``folders``: ``desktop.presenters.folders``, which also watches
them), the rows of all of them (``model``), the scans in progress and waiting, the table's column widths and sort (saved at shutdown, restored at start).  Rows are read from the catalog in bulk on a worker thread (``load_rows``); the GUI
thread only swaps them in.  A scan runs on its own thread at a lower priority while the table
refreshes every ``SCAN_REFRESH_MS``.

Signals, for the other features:
    firstRowsShown()              the table holds rows for the first time (start-up ordering)
    rowsShown()                   after every refresh that changed the rows
    rated(list, int)              track ids and their new rating (shown at once, stored next)
    ratingsStored()               a like/dislike is in the catalog
    scanFinished()                new and changed files are in the catalog
    selectionSettled(int)         the track id under the cursor, once it rests there
    playRequested(list)           track ids: play the first now, the others next
    playTheseRequested(list)      track ids ("Play these": several rows): the playback asks what
                                  becomes of the queue
    enqueueRequested(list, bool)  track ids, and whether they play next (else: at the end)
"""
from __future__ import annotations

import logging
import os
import threading
import time

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHeaderView, QMenu

from desktop.librarymodel import (
    COL_ARTIST, COL_RATING, COL_TITLE, COLUMNS, TRACK_ID_ROLE, LibraryModel, Row, ids_of, load_rows, other_orders,
)
from desktop.presenters.folders import FoldersPresenter
from desktop.resources import svg_icon
from desktop.tasks import Relay, TaskRunner

log = logging.getLogger(__name__)

#: the scan thread's CPU priority (POSIX nice; Linux: that thread only): while the GUI thread
#: paints the table it gets a core first (desktop.tasks.lower_thread_priority; measured with
#: bench/bench_ui.py: the longest tick per scan halved on a busy machine).  The bulk-read threads
#: stay at 0: the same change there measured no difference, and they load the rows at start-up.
SCAN_NICE = 5
#: while a scan runs, the table is refreshed from the catalog this often (ms)
SCAN_REFRESH_MS = 2500
#: the track under the cursor is reported (``selectionSettled``) once it rests this long (ms)
SELECTION_SETTLE_MS = 400
COLUMN_WIDTHS = (220, 115, 115, 48, 90, 170, 30)


class LibraryPresenter(QObject):
    firstRowsShown = Signal()
    rowsShown = Signal()
    rated = Signal(list, int)
    ratingsStored = Signal()
    scanFinished = Signal()
    selectionSettled = Signal(int)
    playRequested = Signal(list)
    playTheseRequested = Signal(list)
    enqueueRequested = Signal(list, bool)

    def __init__(self, window, settings, *, reader: TaskRunner, writer: TaskRunner, profiles,
                 folder: str | None = None, covers=None):
        """``profiles``: the profiles presenter (whose likes a like is); ``folder``: the folder to
        open once the catalog is there (default: the last library)."""
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.reader, self.writer = reader, writer
        self.profiles = profiles
        self.covers = covers  # cover thumbnails for the track-info dialog (desktop.covers.CoverCache)
        self.track_info = None  # the track-info dialog opened last
        self.catalog = None
        self.bus = None  # the session bus (set by the composition root), for "show in folder"
        self.playlists = None  # the playlists presenter (set by the composition root): "Add to playlist ▸"
        self.root: str | None = None
        self._waiting_folder = folder  # asked for before the catalog was open
        self._rows_generation = 0
        self._rows_shown_once = False
        self._known_genres: set[str] = set()
        self._scan_cancel: threading.Event | None = None
        self._scan_job: tuple[str, object] | None = None  # ("folder", root) or ("paths", [path, ...])
        self._pending_folders: list[str] = []  # full scans waiting, in order
        self._pending_paths: set[str] = set()  # files and folders the watcher reported
        self._scanning = False
        self._closing = False

        self.scanner = TaskRunner(self, max_threads=1, nice=SCAN_NICE)  # one scan at a time
        self.scan_progress = Relay(self, interval_ms=50)
        self.scan_progress.latest.connect(self._on_scan_progress)
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(SCAN_REFRESH_MS)
        self.refresh_timer.timeout.connect(self.reload_rows)

        self.model = LibraryModel(self, icons={1: svg_icon("heart-filled"), -1: svg_icon("dislike-filled")})
        self.model.countsChanged.connect(window.set_track_count)
        view = window.library_view
        view.setModel(self.model)
        hh = view.horizontalHeader()
        hh.setMinimumSectionSize(28)
        for col, width in enumerate(COLUMN_WIDTHS):
            hh.resizeSection(col, width)
        hh.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)  # the title gets the spare width
        self._restore_table()
        view.clicked.connect(self._on_cell_clicked)
        window.rateSelectedRequested.connect(self.toggle_rating_of_selected)

        self._select_timer = QTimer(self)
        self._select_timer.setSingleShot(True)
        self._select_timer.setInterval(SELECTION_SETTLE_MS)
        self._select_timer.timeout.connect(self._on_selection_settled)
        view.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        view.customContextMenuRequested.connect(self._context_menu)
        window.openFolderRequested.connect(self.open_folder)
        window.rescanRequested.connect(self.rescan)
        window.filterTextChanged.connect(self._on_filter_text)
        window.genreFilterChanged.connect(self._on_genre_filter)
        window.playSelectedRequested.connect(self._play_current_row)
        window.failures.showRequested.connect(self.show_path_folder)
        window.trackInfoRequested.connect(self.show_track_info_of_selection)
        window.showPlayingRequested.connect(self.show_playing)
        self.folders = FoldersPresenter(self, window, settings)

    # --- the catalog and the folders ------------------------------------------------------------
    def set_catalog(self, catalog) -> None:
        """The catalog is open: show the library's folders (and open the folder asked for)."""
        self.catalog = catalog
        # a library to show first (the folders are read on a worker thread)
        self.root = self._waiting_folder or self.settings.library_folder
        self.folders.set_catalog(catalog, self._waiting_folder)
        self._waiting_folder = None

    def open_folder(self, folder: str) -> None:
        """A folder the user opened: added to the library, or the library switched to it
        (``FoldersPresenter.open_folder`` asks which)."""
        folder = os.path.abspath(os.path.expanduser(str(folder)))
        if self.catalog is None:
            if "catalog" in self.window.notices():  # it failed to open: say so
                self.window.statusBar().showMessage(f"Cannot open {folder}: the library is not available.", 8000)
            else:  # still opening: set_catalog opens it
                self._waiting_folder = folder
            return
        self.folders.open_folder(folder)

    def rescan(self) -> None:
        """F5: look for changes in every library folder."""
        self.folders.rescan_all()

    def profile_changed(self, _name: str) -> None:
        self.reload_rows()  # the rating column shows this profile's likes

    # --- rows -------------------------------------------------------------------------------------
    @property
    def has_rows(self) -> bool:
        """Whether the table has shown rows at least once."""
        return self._rows_shown_once

    def reload_rows(self) -> None:
        """Read the rows again (worker thread); the table changes only if they did."""
        if self.catalog is None:
            return
        self._rows_generation += 1
        gen = self._rows_generation
        catalog = self.catalog
        shown = self.model.rowset()

        def fetch(exclude, sort_column):
            rows = load_rows(catalog, None, catalog.genre_summary(), sort_column=sort_column, exclude=exclude)
            if shown is not None and rows.rows == shown.rows:
                return None  # what the table shows already (a rescan that found no change)
            return rows

        self.reader.submit(fetch, self.folders.unavailable(), self.model.sort_column(),
                           on_result=lambda rows: self._on_rows(gen, rows),
                           on_error=lambda exc, tb: self.window.show_error("Cannot read the library", exc))

    def _on_rows(self, generation: int, rows) -> None:
        if generation != self._rows_generation or self._closing:
            return  # a newer refresh is on its way
        if rows is None:
            return  # unchanged: no model reset, no repaint of the table, selection untouched
        view = self.window.library_view
        selected = ids_of(view.selectionModel().selectedRows())
        current = view.currentIndex().data(TRACK_ID_ROLE)
        scroll = view.verticalScrollBar().value()
        self.model.set_rows(rows)
        # the other columns' sort orders, off the UI thread, once the rows are on screen
        self.reader.submit(other_orders, rows, on_result=lambda orders, rs=rows: self.model.adopt_orders(rs, orders))
        self._restore_selection(selected, current)
        view.verticalScrollBar().setValue(scroll)
        self.window.set_genres(self.model.genres())
        if not self._rows_shown_once:
            self._rows_shown_once = True
            self.firstRowsShown.emit()
        self.rowsShown.emit()

    def _restore_selection(self, ids: list[int], current: int | None) -> None:
        sm = self.window.library_view.selectionModel()
        sel = QItemSelection()
        for tid in ids:
            row = self.model.row_for(tid)
            if row is not None:
                sel.select(self.model.index(row, 0), self.model.index(row, self.model.columnCount() - 1))
        if not sel.isEmpty():
            sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if current is not None and self.model.row_for(current) is not None:
            sm.setCurrentIndex(self.model.index(self.model.row_for(current), 0), QItemSelectionModel.SelectionFlag.NoUpdate)

    def row(self, track_id: int) -> Row | None:
        return self.model.by_id(track_id)

    def neighbour(self, track_id: int, step: int) -> int | None:
        """The track ``step`` rows after (before, if negative) ``track_id`` in the table as it is
        sorted and filtered."""
        row = self.model.row_for(track_id)
        if row is None:
            return None
        row += step
        return self.model.track_id(row) if 0 <= row < self.model.rowCount() else None

    def selected_ids(self) -> list[int]:
        return ids_of(self.window.library_view.selectionModel().selectedRows())

    def first_id(self) -> int | None:
        """The first track shown, if any."""
        return self.model.track_id(0) if self.model.rowCount() else None

    def show_playing(self) -> None:
        """View ▸ Show playing track: select the playing track's row and scroll to it.  A filter,
        genre or browser pick that hides it is cleared first; a track no longer in the table, or
        none playing, is said in the status bar."""
        tid = self.model.current_id
        if tid is None:
            self.window.statusBar().showMessage("Nothing is playing", 4000)
            return
        if self.model.by_id(tid) is None:
            self.window.statusBar().showMessage("The playing track is not in the library shown", 4000)
            return
        w = self.window
        if self.model.row_for(tid) is None and w.filter_edit.text():
            w.filter_edit.clear()
            self.model.set_filter(text="")
        if self.model.row_for(tid) is None and w.genre_combo.currentIndex() != 0:
            w.genre_combo.setCurrentIndex(0)  # "All genres" (its handler sets the model's filter)
            self.model.set_filter(genre="")
        if self.model.row_for(tid) is None:
            w.browser.tree.clearSelection()  # the browser's pick
            self.model.set_browse(None)
        row = self.model.row_for(tid)
        if row is None:
            return
        view = w.library_view
        index = self.model.index(row, 0)
        view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        view.scrollTo(index, view.ScrollHint.PositionAtCenter)
        view.setFocus()

    def mark_playing(self, track_id: int | None) -> None:
        """Show the playing track's row in bold."""
        self.model.set_current(track_id)

    def set_loudness(self, loudness: dict[int, tuple]) -> None:
        """The loudness the analysis measured: ``{track id: (LUFS, peak)}`` (the rows' measured gains)."""
        self.model.set_loudness(loudness)

    def set_predictions(self, predictions: dict[int, tuple]) -> None:
        """New genre results ``{track id: (genre, confidence[, label])}`` (``core.genrelabel``:
        the genre may be "Not music"); a new genre joins the filter."""
        self.model.set_predictions(predictions)
        new = {p[0] for p in predictions.values()} - self._known_genres
        if new:
            self._known_genres |= new
            self.window.set_genres(self.model.genres())

    def _on_filter_text(self, text: str) -> None:
        self.model.set_filter(text=text)

    def _on_genre_filter(self, genre: str) -> None:
        self.model.set_filter(genre=genre)

    def _on_current_row_changed(self, *_args) -> None:
        self._select_timer.start()

    def _on_selection_settled(self) -> None:
        tid = self.window.library_view.currentIndex().data(TRACK_ID_ROLE)
        if tid is not None:
            self.selectionSettled.emit(tid)

    def _play_current_row(self) -> None:
        """Double-click or Return on the table: play the row under the cursor; Return on
        several selected rows: "Play these" (in the table's order)."""
        tid = self.window.library_view.currentIndex().data(TRACK_ID_ROLE)
        selected = self.selected_ids()
        if len(selected) > 1 and tid in selected:
            self.request_play_these(selected)
        elif tid is not None:
            self.request_play([tid])

    def request_play(self, ids: list[int]) -> None:
        self.playRequested.emit(list(ids))

    def request_play_these(self, ids: list[int]) -> None:
        self.playTheseRequested.emit(list(ids))

    def request_enqueue(self, ids: list[int], next_: bool) -> None:
        self.enqueueRequested.emit(list(ids), bool(next_))

    # --- failed files -----------------------------------------------------------------------------
    def load_failures(self) -> None:
        """Files the scan could not read, and files the genre analysis gave up on (worker)."""
        roots = self.folders.roots()
        if self.catalog is None or not roots:
            return
        catalog = self.catalog
        prefixes = tuple(r.rstrip(os.sep) + os.sep for r in roots)

        def fetch():
            rows = [(f.path, f.reason) for root in roots for f in catalog.failures(root)]
            rows += [(f.path, f"genre analysis: {f.reason or f.kind}") for f in catalog.analysis_failures()
                     if f.path.startswith(prefixes)]
            return rows

        self.reader.submit(fetch, on_result=self._on_failures)

    def _on_failures(self, failures) -> None:
        self.window.failures.clear()
        self.window.failures.add_failures(failures)

    def add_failures(self, failures: list[tuple[str, str]]) -> None:
        """``(path, reason)`` pairs for the failed-files panel."""
        self.window.failures.add_failures(failures)

    # --- scan -------------------------------------------------------------------------------------
    @property
    def scanning(self) -> bool:
        return self._scanning

    def scan(self, folder: str) -> None:
        """Scan library folder ``folder`` in the background (after the scan running now, if
        any; a folder already waiting is not queued twice)."""
        if self.catalog is None:
            return
        folder = os.path.abspath(folder)
        if self._scanning:
            if folder not in self._pending_folders and self._scan_job != ("folder", folder):
                self._pending_folders.append(folder)
            return
        self._start_scan(("folder", folder))

    def scan_paths(self, paths) -> None:
        """Bring the catalog in step with these files and folders only (what the watcher
        reported), after the scan running now, if any."""
        if self.catalog is None:
            return
        self._pending_paths.update(os.path.abspath(p) for p in paths)
        if not self._scanning:
            self._start_next_scan()

    def cancel_scans_below(self, folder: str) -> None:
        """Forget the scans of ``folder`` (and of anything in it); stop the one running."""
        prefix = folder.rstrip(os.sep) + os.sep
        below = lambda p: p == folder or p.startswith(prefix)  # noqa: E731
        self._pending_folders = [f for f in self._pending_folders if not below(f)]
        self._pending_paths = {p for p in self._pending_paths if not below(p)}
        job = self._scan_job
        if job is not None and self._scan_cancel is not None:
            kind, what = job
            if (kind == "folder" and below(what)) or (kind == "paths" and all(below(p) for p in what)):
                self._scan_cancel.set()

    def _start_next_scan(self) -> None:
        if self._pending_paths:  # a few files: first, so the table follows the folder quickly
            paths, self._pending_paths = sorted(self._pending_paths), set()
            self._start_scan(("paths", paths))
        elif self._pending_folders:
            self._start_scan(("folder", self._pending_folders.pop(0)))

    def _start_scan(self, job: tuple[str, object]) -> None:
        self._scanning = True
        self._scan_job = job
        self._scan_cancel = threading.Event()
        full = job[0] == "folder"
        if full:
            self.window.set_progress("Looking for music…")
            self.refresh_timer.start()
        t0 = time.perf_counter()
        self.scanner.submit(
            _scan_in_worker, self.catalog, job, progress=self.scan_progress if full else None,
            cancel=self._scan_cancel,
            on_result=lambda result: self._on_scan_done(result, time.perf_counter() - t0, full),
            on_error=self._on_scan_error,
            on_finished=self._on_scan_finished,
        )

    def _on_scan_progress(self, p) -> None:
        if not self._scanning:
            return
        if p.phase == "walk" or not p.total:
            self.window.set_progress("Looking for music…")
        else:
            self.window.set_progress(f"Reading {p.done:,} of {p.total:,}", p.done, p.total)

    def _on_scan_done(self, result, seconds: float, full: bool = True) -> None:
        c = result.counts()
        if not full:  # files the watcher reported: a word only when the table changed
            parts = [f"{c[k]:,} {k}" for k in ("added", "updated", "moved", "failed") if c.get(k)]
            if c.get("newly_missing"):
                parts.append(f"{c['newly_missing']:,} gone")
            if parts:
                self.window.statusBar().showMessage("Library updated: " + ", ".join(parts) + ".", 5000)
            return
        if result.cancelled:
            msg = "Scan cancelled."
        else:
            parts = [f"{result.files:,} files"]
            parts += [f"{c[k]:,} {k}" for k in ("added", "updated", "moved", "failed") if c.get(k)]
            if c.get("newly_missing"):
                parts.append(f"{c['newly_missing']:,} gone")
            msg = f"Library scanned in {seconds:.1f} s: " + ", ".join(parts) + "."
        self.window.finish_progress(msg)
        self.window.set_notice("scan", None)

    def _on_scan_error(self, exc, tb) -> None:
        self.window.finish_progress()
        job = self._scan_job
        if job is not None and job[0] == "folder" and not os.path.isdir(job[1]):
            return  # the folder went away meanwhile: the folders presenter calls it unavailable
        self.window.set_notice("scan", f"Cannot scan the library: {exc}")

    def _on_scan_finished(self) -> None:
        self._scanning = False
        self._scan_job = None
        self.refresh_timer.stop()
        if self._closing:
            return
        self.reload_rows()
        self.load_failures()
        self.scanFinished.emit()
        self._start_next_scan()

    # --- likes ------------------------------------------------------------------------------------
    def rate(self, track_ids: list[int], value: int) -> None:
        """Like (+1), dislike (-1) or clear (0) for the current profile: shown at once, stored at
        once (writer thread; put back as it was if that fails)."""
        ids = [int(t) for t in track_ids if t is not None]
        if not ids:
            return
        before = {t: (self.model.by_id(t).rating if self.model.by_id(t) else 0) for t in ids}
        for t in ids:
            self.model.set_rating(t, value)
        self.rated.emit(ids, int(value))
        if self.catalog is None:
            return

        def store(catalog=self.catalog, profile=self.profiles.current):  # the profile shown when clicked
            with catalog.transaction():
                for t in ids:
                    catalog.set_rating(t, value, profile=profile)

        def failed(exc, tb):
            for t, v in before.items():
                self.model.set_rating(t, v)
            self.window.show_error("The like could not be saved", exc)

        self.writer.submit(store, on_error=failed, on_finished=self.ratingsStored)
        word = {1: "Liked", -1: "Disliked", 0: "Cleared the rating of"}[value]
        r = self.model.by_id(ids[0])
        what = (f"“{r.title}”" if r else "the track") if len(ids) == 1 else f"{len(ids)} tracks"
        self.window.statusBar().showMessage(f"{word} {what}.", 3000)

    def toggle_rating(self, track_ids: list[int], value: int) -> None:
        """Like (1) or dislike (-1) ``track_ids``; if every one of them has it already, clear it
        (as the transport's like button does for the playing track)."""
        ids = [t for t in track_ids if self.model.by_id(t) is not None]
        if ids:
            same = all(self.model.by_id(t).rating == value for t in ids)
            self.rate(ids, 0 if same else value)

    def toggle_rating_of_selected(self, value: int) -> None:
        self.toggle_rating(self.selected_ids(), value)

    def _on_cell_clicked(self, index) -> None:
        """A click in the ♥ column likes that row (or takes the like back)."""
        if index.column() == COL_RATING:
            tid = index.data(TRACK_ID_ROLE)
            if tid is not None:
                self.toggle_rating([tid], 1)

    # --- the table's columns ----------------------------------------------------------------------
    def _restore_table(self) -> None:
        """The column widths and the sort of the last session (the defaults the first time)."""
        view = self.window.library_view
        hh = view.horizontalHeader()
        state = self.settings.table_header
        if state is not None and not hh.restoreState(state):
            log.info("the saved table columns do not fit this table: using the defaults")
        hh.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        column, descending = self.settings.table_sort or (COL_ARTIST, False)
        if not 0 <= column < len(COLUMNS):
            column, descending = COL_ARTIST, False
        view.sortByColumn(column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)

    def save_table(self) -> None:
        hh = self.window.library_view.horizontalHeader()
        self.settings.table_header = hh.saveState()
        self.settings.table_sort = (hh.sortIndicatorSection(),
                                    hh.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)
        self.settings.sync()

    # --- context menu, show in folder -------------------------------------------------------------
    def _context_menu(self, pos) -> None:
        view = self.window.library_view
        ids = self.selected_ids()
        clicked = view.indexAt(pos).data(TRACK_ID_ROLE)
        if clicked is not None and clicked not in ids:
            ids = [clicked]
        if ids:
            self.build_context_menu(ids).exec(view.viewport().mapToGlobal(pos))

    def build_context_menu(self, ids: list[int]) -> QMenu:
        menu = QMenu(self.window)
        if len(ids) > 1:
            menu.addAction("Play these", lambda: self.request_play_these(ids)).setObjectName("ctxPlayThese")
        else:
            menu.addAction("Play", lambda: self.request_play(ids)).setObjectName("ctxPlay")
        menu.addAction("Play next", lambda: self.request_enqueue(ids, True)).setObjectName("ctxPlayNext")
        menu.addAction("Add to queue", lambda: self.request_enqueue(ids, False)).setObjectName("ctxEnqueue")
        if self.playlists is not None:
            menu.addMenu(self.playlists.build_add_menu(ids))
        menu.addSeparator()
        menu.addAction(svg_icon("heart-filled"), "Like", lambda: self.rate(ids, 1)).setObjectName("ctxLike")
        menu.addAction(svg_icon("dislike-filled"), "Dislike", lambda: self.rate(ids, -1)).setObjectName("ctxDislike")
        if any(self.model.by_id(i) and self.model.by_id(i).rating for i in ids):
            menu.addAction("Clear like / dislike", lambda: self.rate(ids, 0)).setObjectName("ctxClear")
        menu.addSeparator()
        menu.addAction("Show in folder", lambda: self.show_in_folder(ids[0])).setObjectName("ctxShow")
        menu.addAction("Track info…", lambda: self.show_track_info(ids[0])).setObjectName("ctxTrackInfo")
        return menu

    def show_track_info_of_selection(self) -> None:
        """Ctrl+I: the track info of the row under the cursor (else the first selected row)."""
        view = self.window.library_view
        tid = view.currentIndex().data(TRACK_ID_ROLE) if view.selectionModel().isSelected(view.currentIndex()) else None
        ids = self.selected_ids()
        tid = tid if tid is not None else (ids[0] if ids else None)
        if tid is not None:
            self.show_track_info(tid)

    def show_track_info(self, track_id: int) -> None:
        """Open the track-info dialog of ``track_id`` once its analysis is read (worker thread)."""
        row = self.model.by_id(track_id)
        if row is None:
            return
        if self.catalog is None:
            self._open_track_info(row, None)
            return
        self.reader.submit(self.catalog.track_analysis, track_id,
                           on_result=lambda analysis, r=row: self._open_track_info(r, analysis),
                           on_error=lambda exc, tb, r=row: self._open_track_info(r, None))

    def _open_track_info(self, row: Row, analysis) -> None:
        from desktop.trackinfo import TrackInfoDialog

        if self._closing:
            return
        self.track_info = TrackInfoDialog(row, analysis, self.window, covers=self.covers)
        self.track_info.show()

    def show_in_folder(self, track_id: int) -> None:
        r = self.model.by_id(track_id)
        if r is not None:
            self.show_path_folder(r.path)

    def show_path_folder(self, path: str) -> None:
        """The file manager shows ``path`` selected (or its folder; else the status bar says why)."""
        from desktop.showfile import show_in_folder

        show_in_folder(path, bus=self.bus, tell=lambda text: self.window.statusBar().showMessage(text, 10000))

    # --- stop -------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the scan and the refreshes (returns once the scan thread is done)."""
        self._closing = True
        self.folders.shutdown()
        self.save_table()
        self.refresh_timer.stop()
        self._select_timer.stop()
        if self._scan_cancel is not None:
            self._scan_cancel.set()
        self.scanner.cancel_all()
        self.scanner.wait(5000)


def _scan_in_worker(catalog, job, **kwargs):
    """Runs on the scan thread: the scanner's imports (mutagen, ...) stay off the UI thread.
    ``job``: ("folder", root) scans a library folder, ("paths", [path, ...]) only those."""
    from core import scanner

    kind, what = job
    if kind == "paths":
        return scanner.scan_paths(catalog, what, **kwargs)
    return scanner.scan(catalog, what, add_library=False, **kwargs)  # the folders presenter keeps that list
