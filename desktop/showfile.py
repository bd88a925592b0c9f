""""Show in folder": the file manager opens the file's folder with the file selected.

First the freedesktop file-manager interface (``org.freedesktop.FileManager1.ShowItems`` on the
session bus: Nautilus, Dolphin, Nemo, Thunar, Caja, PCManFM-Qt... select the file); when no
file manager answers, the folder is opened with ``QDesktopServices.openUrl`` (the desktop's
default for folders, without a selection); when that fails too, the status bar says so.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

from jeepney import DBusAddress, new_method_call
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

log = logging.getLogger(__name__)

FILE_MANAGER = DBusAddress("/org/freedesktop/FileManager1", bus_name="org.freedesktop.FileManager1",
                           interface="org.freedesktop.FileManager1")
#: how long a file manager may take to answer (it may be started for the call)
TIMEOUT_MS = 5000


def show_in_folder(path: str, *, bus, tell: Callable[[str], None],
                   open_url: Callable[[QUrl], bool] | None = None) -> None:
    """Show ``path`` (a file, or a folder) in the file manager; ``bus``: a
    ``desktop.dbus.SessionBus`` or None; ``tell(sentence)``: what the user should read when
    nothing worked (the status bar); ``open_url``: opens a folder (default
    ``QDesktopServices.openUrl``).  Returns at once; the file manager answers later."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    if not os.path.isdir(folder):
        tell(f"Cannot show {path}: its folder {folder} is not there.")
        return

    def fallback(reason: str) -> None:
        if (open_url or QDesktopServices.openUrl)(QUrl.fromLocalFile(folder)):
            return
        tell(f"Cannot show {path}: {reason}, and no application opens the folder {folder}.")

    if bus is None or not bus.connected or not os.path.exists(path):
        fallback("no file manager on D-Bus" if os.path.exists(path) else "the file is not there")
        return

    def failed(err) -> None:
        log.info("FileManager1.ShowItems: %s", err)
        fallback("no file manager answered")

    uri = Path(os.path.abspath(path)).as_uri()
    bus.call(new_method_call(FILE_MANAGER, "ShowItems", "ass", ([uri], "")), lambda _body: None, failed,
             timeout_ms=TIMEOUT_MS)
