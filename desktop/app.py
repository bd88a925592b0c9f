"""The composition root: ``python main.py [FOLDER] [--data-dir DIR]`` opens the app.

Builds the settings, the main window and the controller, shows the window at once, and only
then (on the first turn of the event loop) opens the catalog, the player and the analyser, each
inside a function so that a missing or broken optional part becomes a message, not a crash.
No TensorFlow or librosa is imported here (``python -X importtime main.py`` proves it).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time

log = logging.getLogger("melograph.desktop")

#: set by tests and the benchmark: quit right after the window is on screen and started
ENV_QUIT_AFTER_START = "MELOGRAPH_QUIT_AFTER_START"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="melograph", description="Melograph, the music player that knows what it plays.")
    p.add_argument("folder", nargs="?", help="a music folder to open (default: the last one)")
    p.add_argument("--data-dir", metavar="DIR", default=None, help="catalog and settings location")
    return p.parse_args(argv)


def build(argv: list[str] | None = None, *, app=None, lazy_charts: bool = False):
    """Create the QApplication (unless given), settings, window and controller; returns
    ``(app, window, controller)`` without showing anything (tests drive this)."""
    from PySide6.QtWidgets import QApplication

    from core.paths import data_dir
    from desktop.controller import AppController
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
    controller = AppController(window, settings, data_dir=ddir, folder=args.folder)
    return app, window, controller


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


def start_after_show(window, controller) -> None:
    """What happens once the window is on screen: background tasks first (catalog, player,
    scan), then, once the table shows the library (or after 1.5 s), the charts: importing
    pyqtgraph is the slowest part of start-up and would hold up the rows' loading thread."""
    from PySide6.QtCore import QTimer

    controller.firstRowsShown.connect(lambda: QTimer.singleShot(0, window.build_charts))
    controller.start()
    QTimer.singleShot(1500, window.build_charts)  # no library to show: build them anyway


def main(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=os.environ.get("MELOGRAPH_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    from PySide6.QtCore import QTimer

    app, window, controller = build(argv, lazy_charts=True)
    window.show()

    def started():
        start_after_show(window, controller)
        log.info("window on screen and started in %.3f s", time.perf_counter() - t0)
        if os.environ.get(ENV_QUIT_AFTER_START):
            print(f"melograph: started in {time.perf_counter() - t0:.3f} s", flush=True)
            QTimer.singleShot(int(os.environ[ENV_QUIT_AFTER_START]), window.close)

    when_painted(window, started)
    app.aboutToQuit.connect(controller.shutdown)
    return int(app.exec())
