"""Wires the core objects (catalog, player, analyser) to the main window.

Core objects speak plain Python (calls and callbacks from their own threads); this controller
turns their callbacks into queued Qt signals (``desktop.tasks.Relay``/``GuiCaller``) and the
window's signals into calls, running anything slow on a ``TaskRunner``.  Every optional part is
opened inside a function: when it is missing or fails, the window says why and the rest works.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject

from desktop.mainwindow import MainWindow
from desktop.settings import Settings
from desktop.tasks import GuiCaller, Relay, TaskRunner

log = logging.getLogger(__name__)


class AppController(QObject):
    def __init__(
        self,
        window: MainWindow,
        settings: Settings,
        *,
        data_dir: Path,
        folder: str | None = None,
        catalog=None,
        player=None,
    ):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.initial_folder = folder
        self.catalog = catalog
        self.player = player
        self.runner = TaskRunner(self, max_threads=2)
        self.gui = GuiCaller(self)
        self.progress = Relay(self, interval_ms=50)
        window.openFolderRequested.connect(self.open_folder)
        window.rescanRequested.connect(self.rescan)

    # --- start / stop -----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the optional parts (after the window is on screen)."""
        if self.catalog is None:
            self.catalog = self._open_catalog()
        if self.player is None:
            self.player = self._open_player()
        folder = self.initial_folder or self.settings.library_folder
        if folder:
            self.open_folder(folder)

    def shutdown(self) -> None:
        self.runner.cancel_all()
        self.runner.wait(3000)

    def _open_catalog(self):
        try:
            from core import catalog as catalog_module  # noqa: F401
        except ImportError as exc:
            log.warning("no catalog: %s", exc)
            self.window.set_notice("catalog", f"The music library is not available in this build ({exc}).")
            return None
        return None  # phase 2: open it

    def _open_player(self):
        try:
            from core import player as player_module  # noqa: F401
        except ImportError as exc:
            log.warning("no player: %s", exc)
            self.window.set_notice("player", f"Playback is not available in this build ({exc}).")
            return None
        return None  # phase 2

    # --- library ----------------------------------------------------------------------------------
    def open_folder(self, folder: str) -> None:
        folder = str(Path(folder).expanduser())
        self.settings.library_folder = folder
        self.window.statusBar().showMessage(f"Library: {folder}", 5000)

    def rescan(self) -> None:
        if self.settings.library_folder:
            self.open_folder(self.settings.library_folder)
