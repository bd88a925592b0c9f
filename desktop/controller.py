"""Wires the core objects to the main window: catalog + scanner (core.catalog, core.scanner),
player (core.playback.engine), library analysis (analysis.service; now-playing fallback in
desktop.analysis), recommender (core.recommend).

Core objects speak plain Python: calls, and callbacks from their own threads.  This controller
turns their callbacks into signals delivered on the GUI thread (``desktop.tasks.Relay``, batched)
and the window's signals into calls; anything that reads in bulk, decodes, trains or waits on a
lock runs on a ``TaskRunner``.  Every optional part is opened inside a function: when it is
missing or fails, the window says why in a sentence and the rest of the app works.

Start-up order (desktop/app.py): window painted -> catalog opened and the last library's rows
shown -> charts (pyqtgraph) built -> scan in the background -> 2 s later the analysis service.

Threads: the GUI thread only does O(visible rows) work; catalog writes (likes) go to a
one-thread writer pool, in order, so a like never waits on a scan's transaction in the UI.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu

from desktop.analysis import Analysis, NowPlayingAnalyser, model_problem
from desktop.librarymodel import COL_ARTIST, COL_TITLE, TRACK_ID_ROLE, LibraryModel, ids_of, load_rows, other_orders
from desktop.mainwindow import MainWindow
from desktop.resources import svg_icon
from desktop.settings import Settings
from desktop.specworker import DisplaySpectrograms
from desktop.tasks import Relay, TaskRunner, warm_imports

log = logging.getLogger(__name__)

GENRES_PENDING = "Not analysed yet — analysing… (the genres appear here in a few seconds)"
#: the scan thread's CPU priority (POSIX nice; Linux: that thread only): while the GUI thread
#: paints the table it gets a core first (desktop.tasks.lower_thread_priority; measured with
#: bench/bench_ui.py: the longest tick per scan halved on a busy machine).  The bulk-read threads
#: stay at 0: the same change there measured no difference, and they load the rows at start-up.
SCAN_NICE = 5
#: the playhead is redrawn this often while playing (ms): 33 frames per second
FRAME_MS = 30
#: while a scan runs, the table is refreshed from the catalog this often (ms)
SCAN_REFRESH_MS = 2500


@dataclasses.dataclass(frozen=True)
class PlayItem:
    """What the desktop hands the player's queue: the player needs ``path``; we need ``id``."""

    id: int
    path: str
    title: str = ""
    artist: str = ""

    def label(self) -> str:
        return f"{self.title} — {self.artist}" if self.artist else self.title


class AppController(QObject):
    #: the library table has received rows for the first time (start-up ordering)
    firstRowsShown = Signal()

    def __init__(
        self,
        window: MainWindow,
        settings: Settings,
        *,
        data_dir: Path,
        folder: str | None = None,
        catalog=None,
        player=None,
        open_player: bool = True,
        analysis_factory=None,
    ):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.initial_folder = folder
        self.catalog = catalog
        self.player = player
        self._open_player_too = open_player
        self.root: str | None = None
        self.current: PlayItem | None = None
        self.player_state = "stopped"
        self._unsubscribe = None
        self._display_for: int | None = None  # track id whose spectrogram is shown / loading
        self._rows_generation = 0
        self._scan_cancel: threading.Event | None = None
        self._scan_pending: str | None = None
        self._scanning = False
        self._closing = False
        self._rows_shown_once = False
        self._queue_restored = False  # the last session's queue (QSettings) goes back to the player once

        self.reader = TaskRunner(self, max_threads=2)  # bulk reads
        self.writer = TaskRunner(self, max_threads=1)  # catalog writes, in order
        self.scanner = TaskRunner(self, max_threads=1, nice=SCAN_NICE)  # one scan at a time
        self.scan_progress = Relay(self, interval_ms=50)
        self.scan_progress.latest.connect(self._on_scan_progress)
        self.player_events = Relay(self, interval_ms=20)
        self.player_events.delivered.connect(self._on_player_events)

        self.analyser = NowPlayingAnalyser(self)
        # the now-playing spectrogram: in a helper process, so it never competes for the GIL
        self.spectrograms = DisplaySpectrograms(self)
        self.spectrograms.ready.connect(self._on_display)
        self.spectrograms.failed.connect(self._on_display_error)
        self.analyser.analysed.connect(self._on_analysis)
        self.analyser.failed.connect(self._on_analysis_failed)
        self.model_problem: str | None = None
        self.analysis = None  # the library analysis service (analysis.service), when there is a model
        self._analysis_factory = analysis_factory
        self._known_genres: set[str] = set()
        self.recommender = TaskRunner(self, max_threads=1)  # one ranking at a time
        self._recommend_timer = QTimer(self)  # debounce: likes come in bursts
        self._recommend_timer.setSingleShot(True)
        self._recommend_timer.setInterval(1200)
        self._recommend_timer.timeout.connect(self._run_recommendations)
        self._recommend_again = False
        self._recommendations_available = True
        self._library_recommender = None  # core.recommend.LibraryRecommender, made on first use
        self.profile = "default"  # whose likes the table shows and the recommendations are for
        self.analysis_events = Relay(self, interval_ms=100)
        self.analysis_events.delivered.connect(self._on_analysis_events)

        self.model = LibraryModel(self, icons={1: svg_icon("heart-filled"), -1: svg_icon("dislike-filled")})
        self.model.countsChanged.connect(self._on_counts)
        window.library_view.setModel(self.model)
        window.library_view.sortByColumn(COL_ARTIST, Qt.SortOrder.AscendingOrder)
        self._size_columns()

        self.frame_timer = QTimer(self)
        self.frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.frame_timer.setInterval(FRAME_MS)
        self.frame_timer.timeout.connect(self._on_frame)
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(SCAN_REFRESH_MS)
        self.refresh_timer.timeout.connect(self.reload_rows)

        w = window
        w.openFolderRequested.connect(self.open_folder)
        w.rescanRequested.connect(self.rescan)
        w.filterTextChanged.connect(lambda t: self.model.set_filter(text=t))
        w.genreFilterChanged.connect(lambda g: self.model.set_filter(genre=g))
        w.playSelectedRequested.connect(self._play_current_row)
        # the selected track jumps the analysis queue too (once the selection settles)
        self._select_timer = QTimer(self)
        self._select_timer.setSingleShot(True)
        self._select_timer.setInterval(400)
        self._select_timer.timeout.connect(self._prioritise_selected)
        w.library_view.selectionModel().currentRowChanged.connect(lambda *_: self._select_timer.start())
        w.library_view.customContextMenuRequested.connect(self._context_menu)
        w.seekRequested.connect(self.seek)
        t = w.transport
        t.playPauseClicked.connect(self.play_pause)
        t.stopClicked.connect(self.stop)
        t.nextClicked.connect(self.next)
        t.previousClicked.connect(self.previous)
        t.volumeChanged.connect(self._on_volume)
        t.ratingChanged.connect(self._rate_current)
        w.analysisPauseRequested.connect(self._on_analysis_pause)
        w.retryAnalysisRequested.connect(self.retry_failed_analysis)
        w.workersChanged.connect(self._on_workers)
        w.failures.showRequested.connect(self._show_path_folder)
        rp = w.recommendations
        rp.activated.connect(self._play_recommendation)
        rp.playAllRequested.connect(self._play_recommendations)
        rp.profileSelected.connect(self.switch_profile)
        rp.profileCreateRequested.connect(self.create_profile)
        rp.profileRenameRequested.connect(self.rename_profile)
        rp.profileRemoveRequested.connect(self.remove_profile)
        q = w.queue_panel
        q.activated.connect(self._play_from_queue)
        q.removeRequested.connect(self._remove_from_queue)
        q.clearRequested.connect(self._clear_queue)

    # Slots return None (PySide6 mishandles a bool returned by a Python slot: see mainwindow.py)
    def _rate_current(self, value: int) -> None:
        if self.current is not None:
            self.rate([self.current.id], value)

    def _on_workers(self, n: int) -> None:
        if self.analysis is not None:
            self.analysis.set_workers(idle=n)

    def _clear_queue(self) -> None:
        if self.player is not None:
            self.player.clear_queue()

    # --- start / stop ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the optional parts (call it once the window is on screen)."""
        self.model_problem = model_problem()
        if self.model_problem:
            self.window.set_notice("model", self.model_problem)
        if self.catalog is None:
            self._open_catalog()
        else:
            self._catalog_ready()
        if self.player is None and self._open_player_too:
            self._open_player()
        elif self.player is not None:
            self._player_ready(self.player)

    def shutdown(self) -> None:
        self._closing = True
        self.analyser.shutdown()
        self.spectrograms.shutdown()
        if self.analysis is not None:
            try:
                self.analysis.close(timeout=5.0)  # in-flight tracks go back to the queue
            except Exception:  # noqa: BLE001
                log.exception("closing the analysis service")
        self.frame_timer.stop()
        self.refresh_timer.stop()
        if self._scan_cancel is not None:
            self._scan_cancel.set()
        self._recommend_timer.stop()
        for r in (self.reader, self.writer, self.scanner, self.recommender):
            r.cancel_all()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.player is not None:
            try:
                self.player.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the player")
        for r in (self.writer, self.scanner, self.reader, self.recommender):
            r.wait(5000)
        if self.catalog is not None:
            try:
                self.catalog.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the catalog")

    def _open_catalog(self) -> None:
        try:
            from core.catalog import Catalog
            from core.paths import catalog_path
        except ImportError as exc:
            log.warning("no catalog: %s", exc)
            self.window.set_notice("catalog", f"The music library is not available in this build ({exc}).")
            return

        path = catalog_path(self.data_dir)
        self.reader.submit(
            Catalog, path,
            on_result=self._on_catalog,
            on_error=lambda exc, tb: self.window.set_notice(
                "catalog", f"The music library cannot be opened: {exc}. Melograph can still play files."
            ),
        )

    def _on_catalog(self, catalog) -> None:
        if self._closing:
            catalog.close()
            return
        self.catalog = catalog
        self._catalog_ready()

    #: imported on a worker thread once the library is on screen (see ``warm_imports``)
    WARM_IMPORTS = ("analysis.worker", "analysis.service", "core.recommend")

    #: the analysis service starts this long after the library is on screen (start-up first)
    ANALYSIS_DELAY_MS = 2000

    def _catalog_ready(self) -> None:
        self._restore_profile()
        folder = self.initial_folder or self.settings.library_folder
        if folder:
            self.open_folder(folder)  # the analysis starts once its rows are shown
        else:
            QTimer.singleShot(self.ANALYSIS_DELAY_MS, self._open_analysis)

    def _open_analysis(self) -> None:
        """Start the library analysis service (worker processes) when there is a model."""
        if self.model_problem or self.catalog is None or self.analysis is not None or self._closing:
            return
        factory = self._analysis_factory
        if factory is None:
            try:
                from analysis.service import AnalysisService as factory
            except ImportError as exc:
                log.info("no analysis service: %s", exc)
                return  # now playing still analyses its track (desktop.analysis)
        from desktop.analysis import model_dir_override

        relay = self.analysis_events
        try:
            self.analysis = factory(
                self.catalog, model_dir=model_dir_override(), workers=self.settings.workers,
                playing=self.player_state == "playing",
                on_progress=lambda p: relay(("progress", p)),
                on_track=lambda ev: relay(("track", ev)),
                on_state=lambda state, reason: relay(("state", state, reason)),
            )
            self.analysis.start()
        except Exception as exc:  # noqa: BLE001
            log.exception("analysis service")
            self.analysis = None
            self.window.set_notice("analysis", f"The library analysis cannot start: {exc}")
            return
        self.window.set_analysis_progress("Genre analysis starting…")

    def _analysis_active(self) -> bool:
        a = self.analysis
        return a is not None and a.state not in ("unavailable", "error", "cancelled")

    def _on_analysis_pause(self, paused: bool) -> None:
        if self.analysis is None:
            return
        (self.analysis.pause if paused else self.analysis.resume)()

    def _on_analysis_events(self, events: list) -> None:
        progress = None
        predictions: dict[int, tuple[str, float]] = {}
        failures: list[tuple[str, str]] = []
        for ev in events:
            kind = ev[0]
            if kind == "progress":
                progress = ev[1]
            elif kind == "track":
                t = ev[1]
                if t.ok and t.top_genre:
                    predictions[t.track_id] = (t.top_genre, float(t.confidence or 0.0))
                    if self.current is not None and t.track_id == self.current.id and not self.window.genre_chart.has_data:
                        self.reader.submit(self._stored_analysis, t.track_id,
                                           on_result=lambda a, tid=t.track_id: self._on_service_result(tid, a))
                elif not t.ok and t.final:
                    row = self.model.by_id(t.track_id)
                    if row is not None:
                        failures.append((row.path, f"genre analysis: {t.reason or t.kind or 'failed'}"))
                    if self.current is not None and t.track_id == self.current.id:
                        self.window.genre_chart.set_placeholder(f"Could not tag the genres of this track: {t.reason or t.kind}")
            elif kind == "state":
                self._on_analysis_state(ev[1], ev[2])
        if predictions:
            self.model.set_predictions(predictions)
            new = {g for g, _c in predictions.values()} - self._known_genres
            if new:
                self._known_genres |= new
                self.window.set_genres(self.model.genres())
        if failures:
            self.window.failures.add_failures(failures)
        if progress is not None and self.analysis is not None and self.analysis.state in ("running", "starting"):
            self._show_analysis_progress(progress)

    def _show_analysis_progress(self, p) -> None:
        text = f"Genres: {p.done:,} of {p.total:,}"
        if p.tracks_per_minute:
            text += f" · {p.tracks_per_minute:.0f}/min"
        if p.eta_s:
            m = int(p.eta_s // 60)
            text += f" · {m} min left" if m else f" · {int(p.eta_s)} s left"
        self.window.set_analysis_progress(text, p.done, p.total)

    def _on_analysis_state(self, state: str, reason: str | None) -> None:
        w = self.window
        if state == "paused":
            w.set_analysis_paused(True)
            w.set_analysis_progress("Genre analysis paused", self.window.analysis_bar.value(), self.window.analysis_bar.maximum())
        elif state in ("running", "starting"):
            w.set_analysis_paused(False)
        elif state in ("idle", "finished"):
            w.set_analysis_paused(False)
            w.finish_analysis_progress("Genre analysis: every track is analysed.")
            self.refresh_recommendations()  # new embeddings: new candidates
        elif state in ("unavailable", "error"):
            w.finish_analysis_progress()
            w.set_notice("analysis", f"Genres cannot be tagged: {reason or state}.")
        elif state == "cancelled":
            w.finish_analysis_progress("Genre analysis stopped.")

    def _on_service_result(self, track_id: int, a: Analysis | None) -> None:
        if a is not None:
            self._fill_duration(a)
            self.analyser.cache[track_id] = a
            self._on_analysis(a)

    def _open_player(self) -> None:
        try:
            from core.playback.engine import Player
        except ImportError as exc:
            log.warning("no player: %s", exc)
            self.window.set_notice("player", f"Playback is not available in this build ({exc}).")
            return
        # PortAudio start-up (device discovery) can take a moment: not on the GUI thread
        self.reader.submit(
            Player, on_result=self._player_ready,
            on_error=lambda exc, tb: self.window.set_notice("player", f"Cannot play: {exc}. Browsing and analysis still work."),
        )

    def _player_ready(self, player) -> None:
        if self._closing:
            player.close()
            return
        self.player = player
        player.volume = self.window.transport.volume() / 100.0
        if not player.available:
            reason = player.unavailable_reason or "no output device"
            self.window.set_notice(
                "player", f"No sound: {reason}. Melograph can still browse, analyse and like tracks."
            )
        self._unsubscribe = player.subscribe(self.player_events)
        self._restore_queue()
        if player.available:  # the spectrogram helper starts before the first track is played
            QTimer.singleShot(self.SPECTROGRAM_WARM_MS, self._warm_spectrograms)

    #: the spectrogram helper process is started this long after the player is ready
    SPECTROGRAM_WARM_MS = 3000

    def _warm_spectrograms(self) -> None:
        if not self._closing:  # spawning a process takes tens of ms: on a worker, not here
            self.reader.submit(self.spectrograms.warm_up)

    # --- library ----------------------------------------------------------------------------------
    def open_folder(self, folder: str) -> None:
        folder = os.path.abspath(os.path.expanduser(str(folder)))
        self.root = folder
        self.settings.library_folder = folder
        self.window.setWindowFilePath(folder)
        self.window.show_library(True)
        if self.catalog is None:
            if "catalog" in self.window.notices():  # it failed to open: say so
                self.window.statusBar().showMessage(f"Cannot open {folder}: the library is not available.", 8000)
            else:  # still opening: _catalog_ready opens the folder saved in the settings
                self.initial_folder = folder
            return
        self.reload_rows()  # what the catalog already knows, at once
        self.load_failures()
        self.scan(folder)  # then look at the disk

    def rescan(self) -> None:
        if self.root:
            self.scan(self.root)

    def reload_rows(self) -> None:
        if self.catalog is None:
            return
        self._rows_generation += 1
        gen = self._rows_generation
        session = {tid: a.top for tid, a in self.analyser.cache.items()}
        catalog = self.catalog
        shown = self.model.rowset()

        def fetch(root, sort_column):
            preds = dict(catalog.genre_summary()) if hasattr(catalog, "genre_summary") else {}
            preds.update(session)
            rows = load_rows(catalog, root, preds, sort_column=sort_column)
            if shown is not None and rows.rows == shown.rows:
                return None  # what the table shows already (a rescan that found no change)
            return rows

        self.reader.submit(fetch, self.root, self.model.sort_column(),
                           on_result=lambda rows: self._on_rows(gen, rows),
                           on_error=lambda exc, tb: self._error("Cannot read the library", exc))

    def _on_rows(self, generation: int, rows) -> None:
        if generation != self._rows_generation or self._closing:
            return  # a newer refresh is on its way
        if rows is None:
            return  # unchanged: no model reset, no repaint of the table, selection untouched
        view = self.window.library_view
        selected = ids_of(view.selectionModel().selectedRows()) if view.selectionModel() else []
        current = view.currentIndex().data(TRACK_ID_ROLE)
        scroll = view.verticalScrollBar().value()
        self.model.set_rows(rows)
        # the other columns' sort orders, off the UI thread, once the rows are on screen
        self.reader.submit(other_orders, rows, on_result=lambda orders, rs=rows: self.model.adopt_orders(rs, orders))
        if not self._rows_shown_once:
            self._rows_shown_once = True
            self.firstRowsShown.emit()
            # what the next seconds import on this thread (analysis, recommender), compiled now on
            # a worker: one module at a time, instead of one long stall inside a handler
            self.reader.submit(warm_imports, self.WARM_IMPORTS)
            self.refresh_recommendations()
            QTimer.singleShot(self.ANALYSIS_DELAY_MS, self._open_analysis)
            self._restore_queue()
        if self.current is not None:
            self.model.set_current(self.current.id)
        self._restore_selection(selected, current)
        view.verticalScrollBar().setValue(scroll)
        self.window.set_genres(self.model.genres())

    def _restore_selection(self, ids: list[int], current: int | None) -> None:
        view = self.window.library_view
        sm = view.selectionModel()
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        sel = QItemSelection()
        for tid in ids:
            row = self.model.row_for(tid)
            if row is not None:
                sel.select(self.model.index(row, 0), self.model.index(row, self.model.columnCount() - 1))
        if not sel.isEmpty():
            sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if current is not None and self.model.row_for(current) is not None:
            sm.setCurrentIndex(self.model.index(self.model.row_for(current), 0), QItemSelectionModel.SelectionFlag.NoUpdate)

    def load_failures(self) -> None:
        """Files the scan could not read, and files the genre analysis gave up on (worker)."""
        if self.catalog is None or self.root is None:
            return
        catalog, root = self.catalog, self.root

        def fetch():
            rows = [(f.path, f.reason) for f in catalog.failures(root)]
            if hasattr(catalog, "analysis_failures"):
                prefix = root.rstrip(os.sep) + os.sep
                rows += [(f.path, f"genre analysis: {f.reason or f.kind}") for f in catalog.analysis_failures()
                         if f.path.startswith(prefix)]
            return rows

        self.reader.submit(fetch, on_result=self._on_failures)

    def _on_failures(self, failures) -> None:
        self.window.failures.clear()
        self.window.failures.add_failures(failures)

    def retry_failed_analysis(self) -> None:
        """Queue again the files the analysis gave up on (after fixing them, or a new model)."""
        cat = self.catalog
        if cat is None or not hasattr(cat, "retry_analysis_failures"):
            return

        def done(n):
            self.window.statusBar().showMessage(f"{n} file{'s' if n != 1 else ''} queued for analysis again.", 5000)
            if self.analysis is not None:
                self.analysis.enqueue()
            self.load_failures()

        self.writer.submit(cat.retry_analysis_failures, on_result=done)

    def scan(self, folder: str) -> None:
        """Scan ``folder`` in the background (a running scan is cancelled first)."""
        if self.catalog is None:
            return
        if self._scanning:
            self._scan_pending = folder
            if self._scan_cancel is not None:
                self._scan_cancel.set()
            return
        self._scanning = True
        self._scan_cancel = threading.Event()
        self.window.set_progress("Looking for music…")
        self.refresh_timer.start()
        t0 = time.perf_counter()
        self.scanner.submit(
            _scan_in_worker, self.catalog, folder, progress=self.scan_progress, cancel=self._scan_cancel,
            on_result=lambda result: self._on_scan_done(result, time.perf_counter() - t0),
            on_error=self._on_scan_error,
            on_finished=self._on_scan_finished,
        )

    def _on_scan_progress(self, p) -> None:
        if not self._scanning:
            return
        if getattr(p, "phase", "") == "walk" or not getattr(p, "total", 0):
            self.window.set_progress("Looking for music…")
        else:
            self.window.set_progress(f"Reading {p.done:,} of {p.total:,}", p.done, p.total)

    def _on_scan_done(self, result, seconds: float) -> None:
        c = result.counts()
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
        self.window.set_notice("scan", f"Cannot scan the library: {exc}")

    def _on_scan_finished(self) -> None:
        self._scanning = False
        self.refresh_timer.stop()
        if self._closing:
            return
        self.reload_rows()
        self.load_failures()
        if self.analysis is not None:
            self.analysis.enqueue()  # new and changed files get their genres
        pending, self._scan_pending = self._scan_pending, None
        if pending:
            self.scan(pending)

    @property
    def scanning(self) -> bool:
        return self._scanning

    def _on_counts(self, shown: int, total: int) -> None:
        self.window.set_track_count(shown, total)

    def _size_columns(self) -> None:
        from PySide6.QtWidgets import QHeaderView

        hh = self.window.library_view.horizontalHeader()
        hh.setMinimumSectionSize(28)
        for col, width in enumerate((220, 140, 140, 48, 90, 110, 30)):
            hh.resizeSection(col, width)
        hh.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)

    # --- likes --------------------------------------------------------------------------------------
    def rate(self, track_ids: list[int], value: int) -> None:
        """Like (+1), dislike (-1) or clear (0): shown at once, stored at once (writer thread)."""
        ids = [int(t) for t in track_ids if t is not None]
        if not ids:
            return
        before = {t: (self.model.by_id(t).rating if self.model.by_id(t) else 0) for t in ids}
        for t in ids:
            self.model.set_rating(t, value)
        if self.current is not None and self.current.id in ids:
            self.window.transport.set_rating(value)
        if self.catalog is None:
            return

        def store(catalog=self.catalog, profile=self.profile):  # the profile shown when clicked
            with catalog.transaction():
                for t in ids:
                    catalog.set_rating(t, value, profile=profile)

        def failed(exc, tb):
            for t, v in before.items():
                self.model.set_rating(t, v)
            self._error("The like could not be saved", exc)

        self.writer.submit(store, on_error=failed, on_finished=self.refresh_recommendations)
        word = {1: "Liked", -1: "Disliked", 0: "Cleared the rating of"}[value]
        what = self._title(ids[0]) if len(ids) == 1 else f"{len(ids)} tracks"
        self.window.statusBar().showMessage(f"{word} {what}.", 3000)

    def _title(self, track_id: int) -> str:
        r = self.model.by_id(track_id)
        return f"“{r.title}”" if r else "the track"

    # --- recommendations (core.recommend) ---------------------------------------------------------
    def refresh_recommendations(self) -> None:
        """Re-rank soon (debounced); the model retrains only when the likes changed."""
        if self.catalog is not None and self._recommendations_available and not self._closing:
            self._recommend_timer.start()

    def _run_recommendations(self) -> None:
        try:
            from core.recommend import LibraryRecommender, RecommenderError
        except ImportError as exc:
            log.info("no recommender: %s", exc)
            self._recommendations_available = False
            return
        if self.recommender.active:
            self._recommend_again = True  # one more pass when this one is done
            return
        self._recommend_again = False
        catalog, data_dir = self.catalog, self.data_dir

        model_problem = self.model_problem

        if self._library_recommender is None:
            # one for the life of the app: it caches library vectors and profile models between
            # calls (a fresh one re-reads every track's embeddings: ~6 s vs ~2 s for 10k tracks)
            self._library_recommender = LibraryRecommender(data_dir)
        library_recommender = self._library_recommender
        profile = self.profile

        def job():
            try:
                return library_recommender.recommend(catalog, profile=profile, top=20)
            except RecommenderError as exc:
                if type(exc).__name__ == "NotAnalysed":  # the CLI's wording names a command
                    if model_problem:
                        return ("Recommendations need analysed tracks, and " + model_problem[0].lower()
                                + model_problem[1:])
                    return ("Recommendations need analysed tracks: they appear here as the genre "
                            "analysis works through your library.")
                return str(exc)

        self.recommender.submit(job, on_result=self._on_recommendations,
                                on_error=lambda exc, tb: self.window.recommendations.set_message(
                                    f"Recommendations are not available: {exc}"),
                                on_finished=self._after_recommendations)

    def _after_recommendations(self) -> None:
        if self._recommend_again:
            self.refresh_recommendations()

    def _on_recommendations(self, result) -> None:
        panel = self.window.recommendations
        if isinstance(result, str):  # a sentence: no likes yet, nothing analysed...
            panel.set_message(result)
            return
        ranking, info = result
        if info.get("profile", self.profile) != self.profile:
            return  # switched meanwhile: the new profile's ranking is on its way
        items = []
        for r in ranking:
            row = self.model.by_id(r.track_id)
            title = f"{row.title} — {row.artist}" if row and row.artist else (row.title if row else f"track {r.track_id}")
            near = [self.model.by_id(t) for t, _sim in r.nearest_liked]
            reasons = []
            if near:
                reasons.append("because you like " + ", ".join(f"“{n.title}”" for n in near if n))
            if r.genres:
                reasons.append(", ".join(f"{g} {p:.0%}" for g, p in r.genres))
            items.append((r.track_id, title, " · ".join(reasons)))
        if not items:
            panel.set_message("Nothing to recommend yet: every analysed track is already liked or disliked.")
            return
        panel.set_items(items)
        note = f"{info.get('not_analysed', 0)} tracks not analysed yet" if info.get("not_analysed") else ""
        panel.setToolTip(f"From {info.get('liked', 0)} liked and {info.get('disliked', 0)} disliked tracks"
                         + (f"; {note}" if note else ""))

    # --- profiles (whose likes; core.catalog) ----------------------------------------------------
    PROFILE_KEY = "recommendations/profile"

    def _restore_profile(self) -> None:
        """The profile of the last session (QSettings), if it still exists, else ``default``."""
        want = str(self.settings.q.value(self.PROFILE_KEY, "") or "default")
        try:
            self.catalog.profile = self.catalog.find_profile(want)
        except Exception as exc:  # noqa: BLE001 - removed meanwhile (CLI): the default profile
            log.info("profile %r: %s", want, exc)
            self.catalog.profile = "default"
        self.profile = self.catalog.profile
        self._show_profiles()

    def _show_profiles(self) -> None:
        self.window.recommendations.set_profiles(self.catalog.profile_names(), self.profile)

    def switch_profile(self, name: str) -> None:
        """Show ``name``'s likes in the table and its recommendations; remembered."""
        if self.catalog is None:
            return
        try:
            self.catalog.profile = self.catalog.find_profile(name)
        except Exception as exc:  # noqa: BLE001 - e.g. removed from the CLI meanwhile
            self._error("Cannot switch profile", exc)
            self._show_profiles()
            return
        self.profile = self.catalog.profile
        self.settings.q.setValue(self.PROFILE_KEY, self.profile)
        self._show_profiles()
        if self.current is not None:
            self.window.transport.set_rating(self.catalog.rating(self.current.id))
        self.window.recommendations.set_message(f"Recommendations for {self.profile}…")
        self.reload_rows()  # the rating column: this profile's likes
        self.refresh_recommendations()
        self.window.statusBar().showMessage(f"Profile: {self.profile}.", 3000)

    def create_profile(self, name: str) -> None:
        """Add a profile (an existing name just switches to it) and switch to it."""
        if self.catalog is None:
            return
        self.writer.submit(self.catalog.add_profile, name, exist_ok=True, on_result=self.switch_profile,
                           on_error=lambda exc, tb: self._error("The profile could not be created", exc))

    def rename_profile(self, old: str, new: str) -> None:
        """Rename a profile (its likes and its recommender model follow) and show it."""
        if self.catalog is None:
            return
        catalog, data_dir = self.catalog, self.data_dir

        def work():
            from core.recommend import ProfileStore

            name = catalog.rename_profile(old, new)
            ProfileStore(data_dir).rename(old, name)  # the saved model follows (a cache)
            return name

        self.writer.submit(work, on_result=self.switch_profile,
                           on_error=lambda exc, tb: self._error("The profile could not be renamed", exc))

    def remove_profile(self, name: str) -> None:
        """Remove a profile with its likes (the panel asked first); the default profile is shown."""
        if self.catalog is None:
            return
        catalog, data_dir = self.catalog, self.data_dir

        def work():
            from core.recommend import ProfileStore

            n = catalog.remove_profile(name)
            ProfileStore(data_dir).remove(name)
            return n

        def done(n):
            self.switch_profile("default")
            self.window.statusBar().showMessage(f"Removed the profile “{name}” and its {n} like(s)/dislike(s).", 6000)

        self.writer.submit(work, on_result=done,
                           on_error=lambda exc, tb: self._error("The profile could not be removed", exc))

    def _play_recommendation(self, track_id) -> None:
        self.play_ids([track_id])

    def _play_recommendations(self, track_ids: list) -> None:
        self.play_ids(list(track_ids))  # the first now, the others next in the queue

    # --- context menu -------------------------------------------------------------------------------
    def _context_menu(self, pos) -> None:
        view = self.window.library_view
        ids = ids_of(view.selectionModel().selectedRows())
        clicked = view.indexAt(pos).data(TRACK_ID_ROLE)
        if clicked is not None and clicked not in ids:
            ids = [clicked]
        if not ids:
            return
        menu = self.build_context_menu(ids)
        menu.exec(view.viewport().mapToGlobal(pos))

    def build_context_menu(self, ids: list[int]) -> QMenu:
        menu = QMenu(self.window)
        menu.addAction("Play", lambda: self.play_ids(ids)).setObjectName("ctxPlay")
        menu.addAction("Play next", lambda: self.enqueue(ids, next_=True)).setObjectName("ctxPlayNext")
        menu.addAction("Add to queue", lambda: self.enqueue(ids)).setObjectName("ctxEnqueue")
        menu.addSeparator()
        menu.addAction(svg_icon("heart-filled"), "Like", lambda: self.rate(ids, 1)).setObjectName("ctxLike")
        menu.addAction(svg_icon("dislike-filled"), "Dislike", lambda: self.rate(ids, -1)).setObjectName("ctxDislike")
        if any(self.model.by_id(i) and self.model.by_id(i).rating for i in ids):
            menu.addAction("Clear like / dislike", lambda: self.rate(ids, 0)).setObjectName("ctxClear")
        menu.addSeparator()
        menu.addAction("Show in folder", lambda: self.show_in_folder(ids[0])).setObjectName("ctxShow")
        return menu

    def show_in_folder(self, track_id: int) -> None:
        r = self.model.by_id(track_id)
        if r is not None:
            self._show_path_folder(r.path)

    def _show_path_folder(self, path: str) -> None:
        folder = path if os.path.isdir(path) else os.path.dirname(path)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
            self.window.statusBar().showMessage(f"Cannot open {folder}", 5000)

    # --- playback -----------------------------------------------------------------------------------
    def _item(self, track_id: int) -> PlayItem | None:
        r = self.model.by_id(track_id)
        return PlayItem(r.id, r.path, r.title, r.artist) if r else None

    def play_ids(self, ids: list[int]) -> None:
        """Play the first track now; the others go to the head of the queue."""
        items = [it for it in (self._item(i) for i in ids if i is not None) if it]
        if not items:
            return
        self.show_track(items[0])
        if self.player is not None and self.player.available:
            self.player.play(items[0])
            if len(items) > 1:
                self.player.play_next(*items[1:])

    def _prioritise_selected(self) -> None:
        tid = self.window.library_view.currentIndex().data(TRACK_ID_ROLE)
        if tid is not None and self._analysis_active():
            self.analysis.prioritize(tid)
            return
        cat = self.catalog
        if tid is not None and cat is not None and hasattr(cat, "prioritize_analysis"):
            self.writer.submit(cat.prioritize_analysis, tid, on_error=lambda exc, tb: None)

    def _play_current_row(self) -> None:
        """Double-click or Return on the table: play the row under the cursor."""
        tid = self.window.library_view.currentIndex().data(TRACK_ID_ROLE)
        if tid is not None:
            self.play_ids([tid])

    def enqueue(self, ids: list[int], *, next_: bool = False) -> None:
        items = [it for it in (self._item(i) for i in ids) if it]
        if not items:
            return
        if self.player is None:
            self.window.statusBar().showMessage("No player: the queue needs playback.", 5000)
            return
        (self.player.play_next if next_ else self.player.enqueue)(*items)
        self.window.queue_dock.raise_()
        self.window.statusBar().showMessage(
            f"{'Playing next' if next_ else 'Queued'}: {items[0].label()}" + (f" and {len(items) - 1} more" if len(items) > 1 else ""),
            3000,
        )

    def _play_from_queue(self, item) -> None:
        if self.player is None:
            return
        q = self.player.queue
        if item in q:
            self.player.remove_from_queue(q.index(item))
        self.player.play(item)
        self.show_track(item)

    def _remove_from_queue(self, item) -> None:
        if self.player is not None and item in self.player.queue:
            self.player.remove_from_queue(self.player.queue.index(item))

    def play_pause(self) -> None:
        p = self.player
        if p is None or not p.available:
            self.window.statusBar().showMessage(self.window.notices().get("player", "Playback is not available."), 5000)
            return
        if self.player_state in ("playing", "paused"):
            p.toggle()
            return
        # stopped: play the selected track, else the first one shown
        view = self.window.library_view
        ids = ids_of(view.selectionModel().selectedRows()) if view.selectionModel() else []
        if not ids and self.current is not None:
            ids = [self.current.id]
        if not ids and self.model.rowCount():
            ids = [self.model.track_id(0)]
        if ids:
            self.play_ids(ids[:1])

    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()

    def next(self) -> None:
        if self.player is None:
            return
        if self.player.queue:
            self.player.next()
            return
        nxt = self._neighbour(+1)
        if nxt is not None:
            self.play_ids([nxt])

    def previous(self) -> None:
        if self.player is None:
            return
        if self.player.history or self.player.position > 3.0:
            self.player.previous()
            return
        prv = self._neighbour(-1)
        if prv is not None:
            self.play_ids([prv])

    def _neighbour(self, step: int) -> int | None:
        """The track after/before the current one in the table as it is sorted and filtered."""
        if self.current is None:
            return None
        row = self.model.row_for(self.current.id)
        if row is None:
            return None
        row += step
        return self.model.track_id(row) if 0 <= row < self.model.rowCount() else None

    def seek(self, seconds: float) -> None:
        seconds = max(0.0, float(seconds))
        if self.player is not None and self.player_state in ("playing", "paused"):
            self.player.seek(seconds)
        self._show_position(seconds)

    def _on_volume(self, percent: int) -> None:
        if self.player is not None:
            self.player.volume = percent / 100.0

    # --- what the player says (GUI thread, batched) ----------------------------------------------
    def _on_player_events(self, events: list) -> None:
        for ev in events:
            name = type(ev).__name__
            handler = getattr(self, f"_on_{name}", None)
            if handler is not None:
                try:
                    handler(ev)
                except Exception:  # noqa: BLE001
                    log.exception("handling %r", ev)

    def _on_StateChanged(self, ev) -> None:  # noqa: N802
        self.player_state = ev.state
        playing = ev.state == "playing"
        if self.analysis is not None:
            self.analysis.set_playing(playing)  # one worker while music plays
        self.window.transport.set_playing(playing)
        if playing:
            self.frame_timer.start()
        else:
            self.frame_timer.stop()
        if ev.state == "no_device":
            self.window.set_notice("player", f"No sound: {ev.reason or 'no output device'}. Melograph can still browse, analyse and like tracks.")
        elif ev.state == "stopped" and ev.previous != "stopped":
            self.window.transport.set_position(0.0)
            self._show_position(0.0)

    def _on_TrackStarted(self, ev) -> None:  # noqa: N802
        item = ev.track
        if not isinstance(item, PlayItem):
            return
        self.show_track(item, duration=getattr(ev.info, "duration", None) or None)

    def _on_TrackEnded(self, ev) -> None:  # noqa: N802
        # the player's queue is empty and the track ran out: go on down the table, like a player does
        if ev.reason != "finished" or self.player is None or self.player.queue:
            return
        item = ev.track
        if isinstance(item, PlayItem) and self.current is not None and self.current.id == item.id:
            nxt = self._neighbour(+1)
            if nxt is not None:
                self.play_ids([nxt])

    def _on_Position(self, ev) -> None:  # noqa: N802
        if ev.duration and abs(ev.duration - self.window.transport._duration) > 0.5:
            self.window.transport.set_duration(ev.duration)
        if self.player_state != "playing":  # the frame timer handles playing
            self._show_position(ev.position)

    def _on_PlaybackError(self, ev) -> None:  # noqa: N802
        self.window.statusBar().showMessage(ev.message, 10000)
        if ev.kind == "device":
            self.window.set_notice("player", ev.message)
        elif isinstance(ev.track, PlayItem):
            self.window.failures.add_failures([(ev.track.path, ev.message)])

    def _on_QueueChanged(self, ev) -> None:  # noqa: N802
        self.window.queue_panel.set_items([(it, it.label() if isinstance(it, PlayItem) else str(it)) for it in ev.queue])
        if self._queue_restored:  # (before that, the new player's empty queue is not the user's)
            self.settings.queue_ids = [it.id for it in ev.queue if isinstance(it, PlayItem)]

    def _restore_queue(self) -> None:
        """Last session's queue, once both the rows (track ids -> files) and the player are here;
        tracks gone from the library since are left out."""
        if self._queue_restored or self.player is None or not self._rows_shown_once:
            return
        self._queue_restored = True
        items = [it for it in (self._item(tid) for tid in self.settings.queue_ids) if it]
        if items and self.player.available:
            self.player.enqueue(*items)

    def _on_frame(self) -> None:
        if self.player is None or self.window.isMinimized() or not self.window.isVisible():
            return  # nothing to draw: save the CPU for the audio and the analysis
        self._show_position(self.player.position)

    def _show_position(self, seconds: float) -> None:
        w = self.window
        w.transport.set_position(seconds)
        w.spectrogram.set_position(seconds)
        w.genre_chart.set_position(seconds)

    # --- now playing ------------------------------------------------------------------------------
    def show_track(self, item: PlayItem, *, duration: float | None = None) -> None:
        """Show ``item`` in the now-playing area (title, like state, spectrogram, genres)."""
        w = self.window
        row = self.model.by_id(item.id)
        same = self.current is not None and self.current.id == item.id
        self.current = item
        w.set_now_playing(item.title, item.artist, row.album if row else None)
        w.transport.set_rating(row.rating if row else 0)
        dur = duration or (row.duration if row else None) or 0.0
        if dur:
            w.transport.set_duration(dur)
        self.model.set_current(item.id)
        if same and self._display_for == item.id:
            return
        self._display_for = item.id
        w.spectrogram.set_placeholder("Drawing the spectrogram…")
        w.genre_chart.set_placeholder(GENRES_PENDING)
        if item.id in self.analyser.cache:
            self._on_analysis(self.analyser.cache[item.id])
        elif self.catalog is not None and hasattr(self.catalog, "track_analysis"):
            # the library analysis may have done it already: look in the catalog first
            self.reader.submit(
                self._stored_analysis, item.id,
                on_result=lambda a, it=item: self._on_stored_analysis(it, a),
                on_error=lambda exc, tb, it=item: self._on_stored_analysis(it, None),
            )
        else:
            self._analyse_now(item)
        self.spectrograms.request(item.id, item.path)

    def _stored_analysis(self, track_id: int) -> Analysis | None:
        """The catalog's analysis of a track as an ``Analysis`` (worker thread)."""
        r = self.catalog.track_analysis(track_id)
        if r is None:
            return None
        return Analysis(
            track_id, list(r.classes), r.window_probs, r.track_probs, float(r.window_s), float(r.hop_s),
            float(r.duration or 0.0) or None,
        )

    def _on_stored_analysis(self, item: PlayItem, a: Analysis | None) -> None:
        if a is not None:
            self._fill_duration(a)
            self.analyser.cache[item.id] = a
            self._on_analysis(a)
            return
        if self.current is None or self.current.id != item.id:
            return
        self._analyse_now(item)

    def _fill_duration(self, a: Analysis) -> None:
        if not a.duration:
            row = self.model.by_id(a.track_id)
            a.duration = (row.duration if row else None) or (
                a.window_probs.shape[0] - 1) * a.hop_seconds + a.window_seconds

    def _analyse_now(self, item: PlayItem) -> None:
        """Not analysed yet: the library analysis takes it next when it runs; otherwise it is
        analysed now in a separate process for the now-playing view."""
        if self._analysis_active():
            self.analysis.prioritize(item.id)
            if self.analysis.state == "paused":
                self.window.genre_chart.set_placeholder("Not analysed yet — the analysis is paused (resume it in the status bar).")
            return
        if self.catalog is not None and hasattr(self.catalog, "prioritize_analysis"):
            self.writer.submit(self.catalog.prioritize_analysis, item.id, on_error=lambda exc, tb: None)
        if self.model_problem:
            self.window.genre_chart.set_placeholder(
                "Not analysed yet, and " + self.model_problem[0].lower() + self.model_problem[1:]
            )
            return
        self.analyser.request(item.id, item.path)

    def _on_analysis(self, a: Analysis) -> None:
        self.model.set_predictions({a.track_id: a.top})
        if self.current is None or self.current.id != a.track_id:
            return
        self.window.genre_chart.set_track(
            a.classes, a.window_probs, a.track_probs, a.window_seconds, a.hop_seconds, duration=a.duration
        )
        self.window.set_genres(self.model.genres())
        if self.player is not None and self.player_state in ("playing", "paused"):
            self._show_position(self.player.position)

    def _on_analysis_failed(self, track_id: int, reason: str) -> None:
        if self.current is not None and self.current.id == track_id:
            self.window.genre_chart.set_placeholder(f"Could not tag the genres of this track: {reason}")

    def _on_display(self, track_id: int, result) -> None:
        if self.current is None or self.current.id != track_id:
            return
        S, duration = result
        self.window.spectrogram.set_spectrogram(S, columns_per_second=S.shape[1] / max(duration, 1e-6), duration=duration)
        if self.player is not None and self.player_state in ("playing", "paused"):
            self._show_position(self.player.position)

    def _on_display_error(self, track_id: int, exc) -> None:
        if self.current is not None and self.current.id == track_id:
            self.window.spectrogram.set_placeholder(f"No spectrogram: {exc}")

    # --- helpers ------------------------------------------------------------------------------------
    def _error(self, what: str, exc: BaseException) -> None:
        log.warning("%s: %s", what, exc)
        self.window.statusBar().showMessage(f"{what}: {exc}", 10000)


def _scan_in_worker(catalog, folder, **kwargs):
    """Runs on the scan thread: the scanner's imports (mutagen, ...) stay off the UI thread."""
    from core import scanner

    return scanner.scan(catalog, folder, **kwargs)
