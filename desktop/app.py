"""The composition root: ``python main.py [FOLDER] [--data-dir DIR]`` opens the app (FOLDER and
``--data-dir`` in either order).

``build()`` makes the settings, the main window and an ``App``: one presenter per feature
(``desktop/presenters/``), each given the views and the few other presenters it asks things of,
and the signals by which they tell each other what happened, all connected here (``App.__init__``
is the map).  The window is shown at once; ``App.start()``, on the first turn of the event loop
after the first paint, opens the catalog and the player on worker threads and hands them to the
presenters; a part that is missing or fails to open becomes a sentence in the window, not a
crash.  No TensorFlow or librosa is imported here (``python -X importtime main.py`` shows it).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from desktop.covers import CoverCache
from desktop.presenters.analysis import AnalysisPresenter
from desktop.presenters.browse import BrowsePresenter
from desktop.presenters.history import HistoryPresenter
from desktop.presenters.library import LibraryPresenter
from desktop.presenters.nowplaying import NowPlayingPresenter
from desktop.presenters.playback import PlaybackPresenter
from desktop.presenters.playlists import PlaylistsPresenter
from desktop.presenters.profiles import ProfilesPresenter
from desktop.presenters.recommendations import RecommendationsPresenter
from desktop.tasks import TaskRunner, warm_imports

log = logging.getLogger("melograph.desktop")

#: set by tests and the benchmark: quit right after the window is on screen and started
ENV_QUIT_AFTER_START = "MELOGRAPH_QUIT_AFTER_START"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="melograph", description="Melograph, the music player that knows what it plays.")
    p.add_argument("folder", nargs="?", help="a music folder to open (default: the last one)")
    p.add_argument("--data-dir", metavar="DIR", default=None, type=_data_dir_arg, help="catalog and settings location")
    return p.parse_args(argv)


def _data_dir_arg(value: str) -> str:
    from core.paths import data_dir_problem

    problem = data_dir_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


class App:
    """The running app's parts: the window, the catalog and the player once open, and the
    presenters ``profiles``, ``library``, ``browse``, ``playback``, ``history``, ``analysis``, ``now_playing``,
    ``recommendations``, ``playlists``; ``covers``, the cover thumbnails (``desktop.covers.CoverCache``).

    ``catalog`` / ``player``: use these instead of opening the default ones (tests and the
    benchmark set ``player`` before ``start()``); ``open_player=False``: no player at all;
    ``analysis_factory``: makes the analysis service (see ``AnalysisPresenter``).
    """

    #: imported on a worker thread once the library is on screen (see ``warm_imports``)
    WARM_IMPORTS = ("analysis.worker", "analysis.service", "core.recommend")

    def __init__(self, window, settings, *, data_dir: Path, folder: str | None = None, catalog=None, player=None,
                 open_player: bool = True, analysis_factory=None):
        self.window = window
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.catalog = catalog
        self.player = player
        self._open_player = open_player
        self._closing = False
        # shared background threads: bulk reads, and catalog writes (one thread: in order)
        self.reader = TaskRunner(window, max_threads=2)
        self.writer = TaskRunner(window, max_threads=1)
        # cover thumbnails: found, scaled and kept in <data dir>/covers/ on a thread of their own
        self.covers = CoverCache(self.data_dir, window)
        # the session bus (MPRIS, the file manager): connected in start(); None without one
        self.bus = None
        self.mpris = None
        self.preferences = None  # the open Preferences dialog, if any
        window.preferencesRequested.connect(self.open_preferences)

        self.profiles = ProfilesPresenter(window, settings, writer=self.writer, data_dir=self.data_dir)
        self.library = LibraryPresenter(window, settings, reader=self.reader, writer=self.writer,
                                        profiles=self.profiles, folder=folder, covers=self.covers)
        self.playback = PlaybackPresenter(window, settings, library=self.library)
        self.browse = BrowsePresenter(window, settings, reader=self.reader, library=self.library,
                                      playback=self.playback, covers=self.covers)
        self.history = HistoryPresenter(window, settings, reader=self.reader, writer=self.writer,
                                        library=self.library, playback=self.playback, profiles=self.profiles)
        self.analysis = AnalysisPresenter(window, settings, reader=self.reader, writer=self.writer,
                                          library=self.library, service_factory=analysis_factory)
        self.now_playing = NowPlayingPresenter(window, reader=self.reader, library=self.library,
                                               playback=self.playback, analysis=self.analysis, covers=self.covers)
        self.recommendations = RecommendationsPresenter(window, data_dir=self.data_dir, library=self.library,
                                                        profiles=self.profiles, analysis=self.analysis,
                                                        covers=self.covers)
        self.playlists = PlaylistsPresenter(window, settings, reader=self.reader, writer=self.writer,
                                            library=self.library, playback=self.playback)
        self.library.playlists = self.playlists  # the table's context menu: "Add to playlist ▸"

        # who tells whom what
        library, playback, analysis = self.library, self.playback, self.analysis
        now_playing, recommendations = self.now_playing, self.recommendations
        library.firstRowsShown.connect(self._on_first_rows)
        library.rowsShown.connect(now_playing.rows_shown)
        library.rowsShown.connect(recommendations.rows_changed)
        library.folders.foldersChanged.connect(recommendations.refresh)  # another library: other candidates
        library.folders.coversChanged.connect(self.covers.refresh)  # a new cover.jpg, a re-tagged file
        library.playRequested.connect(playback.play_ids)
        library.playTheseRequested.connect(playback.play_these)
        library.enqueueRequested.connect(playback.enqueue)
        library.rated.connect(now_playing.on_rated)
        library.ratingsStored.connect(recommendations.refresh)
        library.scanFinished.connect(analysis.enqueue)
        library.selectionSettled.connect(analysis.prioritize)
        playback.trackChanged.connect(now_playing.show)
        playback.stateChanged.connect(now_playing.player_state_changed)
        playback.stateChanged.connect(analysis.player_state_changed)
        playback.positionChanged.connect(now_playing.show_position)
        analysis.tracksAnalysed.connect(now_playing.on_analysed)
        analysis.trackFailed.connect(now_playing.on_analysis_failed)
        analysis.modelProblem.connect(now_playing.on_model_problem)
        analysis.libraryAnalysed.connect(recommendations.refresh)  # new embeddings: new candidates
        library.scanFinished.connect(self.playlists.reload)  # entries follow moved and re-encoded songs
        recommendations.playRequested.connect(playback.play_ids)
        recommendations.playTheseRequested.connect(playback.play_these)
        self.profiles.profileChanged.connect(library.profile_changed)
        self.profiles.profileChanged.connect(recommendations.profile_changed)
        self.profiles.profileChanged.connect(self.history.profile_changed)
        self.folders_dialog = None  # File ▸ Library folders…, made on first use
        window.folders_action.triggered.connect(self.show_library_folders)

    # --- start ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the catalog and the player (call it once the window is on screen)."""
        self._start_desktop_integration()
        self.covers.runner.submit(self.covers.prune)  # thumbnails no run has used for months
        if self.catalog is None:
            from core.catalog import Catalog
            from core.paths import catalog_path

            self.reader.submit(
                Catalog, catalog_path(self.data_dir), on_result=self._on_catalog,
                on_error=lambda exc, tb: self.window.set_notice(
                    "catalog", f"The music library cannot be opened: {exc}. Melograph can still play files."),
            )
        else:
            self._catalog_ready()
        if self.player is None and self._open_player:
            from desktop.outputdevice import open_player

            # PortAudio start-up (device discovery) can take a moment: not on the GUI thread
            self.reader.submit(
                open_player, self.settings.output_device, on_result=self._on_opened_player,
                on_error=lambda exc, tb: self.window.set_notice(
                    "player", f"Cannot play: {exc}. Browsing and analysis still work."),
            )
        elif self.player is not None:
            self._player_ready()

    def _on_catalog(self, catalog) -> None:
        if self._closing:
            catalog.close()
            return
        self.catalog = catalog
        self._catalog_ready()

    def _catalog_ready(self) -> None:
        for p in (self.profiles, self.library, self.analysis, self.now_playing, self.recommendations, self.history,
                  self.playlists):
            p.set_catalog(self.catalog)
        if self.library.root is None:  # no library to show first: the analysis need not wait
            self.analysis.start_later()

    def _on_player(self, player) -> None:
        if self._closing:
            player.close()
            return
        self.player = player
        self._player_ready()

    def _on_opened_player(self, opened) -> None:
        player, missing = opened
        self._on_player(player)
        if missing and not self._closing:
            from desktop.outputdevice import missing_device_message

            self.window.statusBar().showMessage(missing_device_message(missing), 15000)

    def open_preferences(self) -> None:
        """Edit ▸ Preferences…: the library's folders, the output device, the analysis."""
        from desktop.settingsdialog import SettingsDialog

        if self.preferences is not None:
            self.preferences.raise_()
            self.preferences.activateWindow()
            return
        dialog = self.preferences = SettingsDialog(self.settings, library=self.library, parent=self.window)
        dialog.outputDeviceChanged.connect(self.switch_output_device)
        dialog.rescanDevicesRequested.connect(self.rescan_output_devices)
        dialog.workersChanged.connect(self._workers_chosen)
        dialog.pauseWhilePlayingChanged.connect(self.analysis.set_pause_while_playing)
        dialog.levellingChanged.connect(self.set_levelling)
        dialog.finished.connect(self._preferences_closed)
        dialog.open()

    def set_levelling(self, levelling) -> None:
        """Edit ▸ Preferences ▸ Playback ▸ Volume levelling (the dialog has saved it): from the
        audio not decoded yet on."""
        if self.player is not None:
            self.player.levelling = levelling
            self.playback.show_levelling()

    def _preferences_closed(self, _result: int) -> None:
        if self.preferences is not None:
            self.preferences.deleteLater()
            self.preferences = None

    def _workers_chosen(self, n: int) -> None:
        self.window.set_workers(n)  # the View ▸ Genre analysis ▸ Workers menu shows it too
        self.window.workersChanged.emit(n)

    def switch_output_device(self, device: str | None) -> None:
        """Play on ``device`` (None: the system's default) from now on: the player is opened
        again there, with the queue, and the track that was playing goes on where it was."""
        self.settings.output_device = device
        self._reopen_player(device)

    def rescan_output_devices(self) -> None:
        """Edit ▸ Preferences ▸ Look for new devices: PortAudio knows only the devices that were
        there when it started, so it is started again (no stream may be open: the player is
        closed, then opened again as :meth:`switch_output_device` does, on the chosen device if it
        is there now), and the dialog's list is filled again."""
        self._reopen_player(self.settings.output_device, rescan=True)

    def _devices_found(self) -> None:
        if self.preferences is not None:
            from desktop.outputdevice import output_choices

            self.preferences.set_device_choices(output_choices())

    def _reopen_player(self, device: str | None, *, rescan: bool = False) -> None:
        """Close the player and open it again on ``device`` (re-scanning the devices first with
        ``rescan``), with its queue and the playing track where it was."""
        from core.playback import reinitialize
        from desktop.outputdevice import missing_device_message, open_player

        old = self.player
        if old is None:
            if rescan:  # nothing is open: look again, and the list follows
                self.reader.submit(reinitialize, on_result=lambda _r: self._devices_found(),
                                   on_error=lambda exc, tb: self._devices_found())
            return  # not open yet (or never): start() opens it on the chosen device
        playing = self.playback.current if self.playback.state in ("playing", "paused") else None
        resume = (playing, old.position, self.playback.state == "paused") if playing is not None else None
        queue = list(old.queue)
        self.player = None
        old.close()

        def opened(result):
            player, missing = result
            if self._closing:
                player.close()
                return
            self.player = player
            self._player_ready()
            if queue and player.available:
                player.enqueue(*queue)
            if resume is not None and player.available:
                track, position, paused = resume
                player.play(track, start=position)
                if paused:
                    player.pause()
            self.window.statusBar().showMessage(
                missing_device_message(missing) if missing else f"Playing on {device or 'the system default output'}.",
                15000)
            if rescan:
                self._devices_found()

        def reopen():
            if rescan:
                reinitialize()  # on this worker: the old stream is closed
            return open_player(device)

        def failed(exc, tb):
            self.window.set_notice("player", f"Cannot play: {exc}.")
            if rescan:
                self._devices_found()

        self.reader.submit(reopen, on_result=opened, on_error=failed)

    def _start_desktop_integration(self) -> None:
        """MPRIS (media keys, the sound menu) and the file manager, over the session bus;
        without one the app says nothing and works as before."""
        from desktop.dbus import SessionBus
        from desktop.mpris import MprisService

        self.bus = SessionBus.open(self.window)
        self.library.bus = self.bus
        self.mpris = MprisService.start(self.bus, window=self.window, playback=self.playback, library=self.library,
                                        covers=self.covers, reader=self.reader)
        if self.mpris is not None:
            self.analysis.tracksAnalysed.connect(self.mpris.refresh)  # the playing track's genre

    def _player_ready(self) -> None:
        self.player.levelling = self.settings.levelling
        self.playback.set_player(self.player)
        self.now_playing.player_ready(self.player.available)

    def show_library_folders(self, _checked: bool = False) -> None:
        """File ▸ Library folders…: the library's folders, their state, Add… and Remove."""
        from desktop.folders import LibraryFoldersDialog

        if self.folders_dialog is None:
            self.folders_dialog = LibraryFoldersDialog(self.library, self.window)
        self.folders_dialog.show()
        self.folders_dialog.raise_()

    def _on_first_rows(self) -> None:
        # what the next seconds import on the GUI thread (analysis, recommender), compiled now on
        # a worker: one module at a time, instead of one long stall inside a handler
        self.reader.submit(warm_imports, self.WARM_IMPORTS)
        self.recommendations.refresh()
        self.analysis.start_later()
        self.playback.restore_queue()

    # --- stop -------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop everything in order: the presenters' own work, the player, the background
        threads, the catalog last."""
        self._closing = True
        for p in (self.library, self.playback, self.history, self.analysis, self.now_playing, self.recommendations,
                  self.playlists):
            p.shutdown()
        self.covers.shutdown()
        for r in (self.reader, self.writer):
            r.cancel_all()
        if self.player is not None:
            try:
                self.player.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the player")
        for r in (self.writer, self.reader):
            r.wait(5000)
            r.close()  # what the player's closing handed in has run; later outcomes go nowhere
        if self.catalog is not None:
            try:
                self.catalog.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the catalog")
        if self.bus is not None:
            self.bus.close()


def build(argv: list[str] | None = None, *, app=None, lazy_charts: bool = False):
    """Create the QApplication (unless given), settings, window and ``App``; returns
    ``(qapplication, window, app)`` without showing anything (tests drive this)."""
    from PySide6.QtWidgets import QApplication

    from core.paths import data_dir
    from desktop.mainwindow import MainWindow
    from desktop.settings import Settings
    from desktop.theme import apply_theme

    args = parse_args(list(argv or []))
    if app is None:
        app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "melograph"])
    app.setApplicationName("Melograph")
    app.setOrganizationName("Melograph")
    app.setDesktopFileName("melograph")
    apply_theme(app)
    ddir = data_dir(args.data_dir)
    settings = Settings.at(ddir / "settings.ini")
    window = MainWindow(settings, lazy_charts=lazy_charts)
    return app, window, App(window, settings, data_dir=ddir, folder=args.folder)


def when_painted(widget, fn) -> None:
    """Call ``fn()`` once ``widget`` has been painted for the first time (so the slow parts of
    start-up never delay the first frame).  Falls back to a timer if no paint comes."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class _FirstPaint(QObject):
        done = False

        def fire(self):
            if not self.done:
                self.done = True
                widget.removeEventFilter(self)
                QTimer.singleShot(0, fn)

        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                self.fire()
            return False

    f = _FirstPaint(widget)
    widget.installEventFilter(f)
    QTimer.singleShot(1000, f.fire)


def start_after_show(window, app: App) -> None:
    """What happens once the window is on screen: background tasks first (catalog, player,
    scan), then, once the table shows the library (or after 1.5 s), the charts: importing
    pyqtgraph is the slowest part of start-up and would hold up the rows' loading thread."""
    from PySide6.QtCore import QTimer

    app.library.firstRowsShown.connect(lambda: QTimer.singleShot(0, window.build_charts))
    app.start()
    QTimer.singleShot(1500, window.build_charts)  # no library to show: build them anyway


def main(argv: list[str] | None = None) -> int:
    """Run the app; ``argv`` as on the command line: ``[FOLDER] [--data-dir DIR]``, any order."""
    t0 = time.perf_counter()
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=os.environ.get("MELOGRAPH_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    from PySide6.QtCore import QTimer

    qapp, window, app = build(argv, lazy_charts=True)
    window.show()

    def started():
        start_after_show(window, app)
        log.info("window on screen and started in %.3f s", time.perf_counter() - t0)
        if os.environ.get(ENV_QUIT_AFTER_START):
            print(f"melograph: started in {time.perf_counter() - t0:.3f} s", flush=True)
            QTimer.singleShot(int(os.environ[ENV_QUIT_AFTER_START]), window.close)

    when_painted(window, started)
    qapp.aboutToQuit.connect(app.shutdown)
    return int(qapp.exec())
