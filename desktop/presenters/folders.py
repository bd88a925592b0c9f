"""The library's folders: the set of folders in the catalog's ``libraries`` table, shown together
in the table, each watched for changes (``core.watcher``).

What the user can do: add a folder (File ▸ Add folder to library…), open one (File ▸ Open
folder…, a folder dropped on the window, ``python main.py FOLDER``: asks "Add to the library"
or "Switch to this folder"), remove one or see every folder's state (File ▸ Library folders…:
:class:`desktop.folders.LibraryFoldersPage`, which calls this presenter).  Switching makes a
folder the only one; removing hides a folder's tracks.  Neither deletes anything: the tracks,
likes, playlist entries and analysis stay in the catalog and come back when the folder is
added again.

Watching: files added, changed, renamed or deleted in a folder reach the table within a few
seconds (the watcher's debounce, then ``LibraryPresenter.scan_paths``).  A folder that cannot
be watched is rescanned every ``POLL_INTERVAL_S`` and the status bar says why, once.  A folder
that is not there (deleted, its disk not mounted) is *unavailable*: its tracks leave the
table, nothing leaves the catalog, and it is rescanned when it is back.

Owned by the library presenter (``library.folders``).  State saved: the folder last opened
(the start of the folder dialog).

A folder image named like a cover (``cover.jpg``...) that the watcher reports goes to the cover
thumbnails, not to the scanner; every reported file or folder also has its covers looked at again
(an embedded picture may have changed with the tags).  A folder rescanned whole (one that is
polled, or back after being unavailable) keeps the covers in memory until the next start.

Signals:
    foldersChanged()         the folders, or one folder's state, changed
    coversChanged(paths)     audio files, or folders (a cover image in them, or reported whole),
                             whose tracks' covers may have changed (``desktop.covers.CoverCache.refresh``)
"""
from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox

from desktop.tasks import Relay

log = logging.getLogger(__name__)

#: a folder that cannot be watched is rescanned this often (seconds)
POLL_INTERVAL_S = 300.0

WATCHED, POLLED, UNAVAILABLE = "watched", "polled", "unavailable"


@dataclasses.dataclass(frozen=True)
class Folder:
    """One library folder as the folders page shows it."""

    root: str
    state: str  # "watched", "polled", "unavailable", or "" until the watcher has looked at it
    reason: str = ""
    tracks: int | None = None

    def state_text(self) -> str:
        if self.state == WATCHED:
            return "Watched"
        if self.state == POLLED:
            return f"Rescanned every {POLL_INTERVAL_S / 60:.0f} min: {self.reason}"
        if self.state == UNAVAILABLE:
            return f"Unavailable: {self.reason}"
        return "Starting…"


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class FoldersPresenter(QObject):
    foldersChanged = Signal()
    coversChanged = Signal(list)

    def __init__(self, library, window, settings, *, watcher_factory=None):
        """``library``: the library presenter (its table, its scans, its threads);
        ``watcher_factory(on_changes, on_status)``: makes the ``core.watcher.LibraryWatcher``
        (tests pass one with shorter delays)."""
        super().__init__(library)
        self.library = library
        self.window = window
        self.settings = settings
        self.catalog = None
        self.watcher = None
        self.watcher_factory = watcher_factory
        self._roots: list[str] = []
        self._counts: dict[str, int] = {}
        self._status: dict[str, tuple[str, str]] = {}  # root -> (state, reason)
        self._said: set[tuple[str, str]] = set()  # (root, state) already said in the status bar
        self._closing = False
        self._making_watcher = False
        self.events = Relay(self, interval_ms=100)
        self.events.delivered.connect(self._on_watch_events)

        self.unavailable_label = QLabel()
        self.unavailable_label.setObjectName("unavailableFoldersLabel")
        self.unavailable_label.hide()
        window.statusBar().addPermanentWidget(self.unavailable_label)
        window.add_folder_action.triggered.connect(self._on_add_action)
        library.scanFinished.connect(self._refresh_counts)

    def _on_add_action(self, _checked: bool = False) -> None:
        self.choose_and_add()

    # --- what the others read ---------------------------------------------------------------------
    def roots(self) -> list[str]:
        """The library's folders (by path)."""
        return list(self._roots)

    def unavailable(self) -> list[str]:
        """The library folders that are not there now."""
        return [r for r in self._roots if self._status.get(r, ("", ""))[0] == UNAVAILABLE]

    def folders(self) -> list[Folder]:
        return [Folder(r, *self._status.get(r, ("", "")), tracks=self._counts.get(r)) for r in self._roots]

    def library_folder_of(self, path: str) -> str | None:
        """The library folder holding ``path``, if any."""
        return next((r for r in self._roots if _inside(os.path.abspath(path), r)), None)

    # --- start ------------------------------------------------------------------------------------
    def set_catalog(self, catalog, folder: str | None = None) -> None:
        """Read the library's folders, show and scan them, start watching them; then open
        ``folder`` (the command line's) if given."""
        self.catalog = catalog
        # settings from when the library was one folder at a time: that folder stays the one shown
        legacy = None if self.settings.library_folders_adopted else self.settings.library_folder

        def load():
            if legacy and len(catalog.library_roots()) > 1 and os.path.isdir(legacy):
                catalog.switch_library(legacy)
            return self._read_roots(catalog)

        def loaded(result):
            self.settings.library_folders_adopted = True
            self._apply(result, scan=self.roots_from(result))
            if folder:
                self.open_folder(folder)

        self.library.writer.submit(
            load, on_result=loaded,
            on_error=lambda exc, tb: self.window.show_error("Cannot read the library folders", exc))

    @staticmethod
    def roots_from(result) -> list[str]:
        return [r for r, _n in result]

    @staticmethod
    def _read_roots(catalog) -> list[tuple[str, int]]:
        return [(lib.root, catalog.track_count(root=lib.root)) for lib in catalog.library_roots()]

    def _refresh_counts(self) -> None:
        """Each folder's number of tracks, read again (after a scan)."""
        if self.catalog is None or self._closing:
            return
        catalog, roots = self.catalog, list(self._roots)

        def done(counts):
            if counts != {r: self._counts.get(r) for r in counts}:
                self._counts.update(counts)
                self.foldersChanged.emit()

        self.library.reader.submit(lambda: {r: catalog.track_count(root=r) for r in roots}, on_result=done)

    def _ensure_watcher(self) -> None:
        """Make the watcher on a worker thread (its imports stay off the GUI thread); it
        watches ``_roots`` as they are when it is ready."""
        if self.watcher is not None or self._making_watcher or self._closing:
            return
        self._making_watcher = True
        relay, factory = self.events, self.watcher_factory
        on_changes = lambda root, paths: relay(("changes", root, paths))  # noqa: E731
        on_status = lambda status: relay(("status", status))  # noqa: E731

        def make():
            if factory is not None:
                return factory(on_changes, on_status)
            from core.watcher import LibraryWatcher

            return LibraryWatcher(on_changes, on_status, poll_interval_s=POLL_INTERVAL_S)

        def made(watcher):
            if self._closing:
                watcher.close()
                return
            self.watcher = watcher
            watcher.set_roots(self._roots)

        def failed(exc, tb):  # the library works without watching
            log.warning("file watcher: %s\n%s", exc, tb)
            self.window.show_error("Library folders are not watched for changes", exc)

        self.library.reader.submit(make, on_result=made, on_error=failed)

    def _apply(self, result: list[tuple[str, int]], *, scan: list[str] = ()) -> None:
        """The folders are ``result`` ((root, tracks) pairs) now: watch them, show their
        tracks, scan those in ``scan``."""
        self._roots = self.roots_from(result)
        self._counts = dict(result)
        self._status = {r: s for r, s in self._status.items() if r in self._roots}
        lib = self.library
        lib.root = self._roots[0] if self._roots else None
        self._ensure_watcher()
        if self.watcher is not None:
            self.watcher.set_roots(self._roots)
        self.window.show_library(bool(self._roots) or lib.has_rows)
        self.window.setWindowFilePath(self._roots[0] if len(self._roots) == 1 else "")
        lib.reload_rows()
        lib.load_failures()
        for root in scan:
            if os.path.isdir(root):
                lib.scan(root)
        self._show_unavailable()
        self.foldersChanged.emit()

    def _change(self, job, *, scan: list[str] = (), message: str | None = None) -> None:
        """Run ``job(catalog)`` on the writer thread, then show the folders as they are."""
        if self.catalog is None:
            self.window.statusBar().showMessage("The library is not open yet.", 5000)
            return
        catalog = self.catalog

        def run():
            job(catalog)
            return self._read_roots(catalog)

        def done(result):
            self._apply(result, scan=scan)
            if message:
                self.window.statusBar().showMessage(message, 6000)

        self.library.writer.submit(
            run, on_result=done,
            on_error=lambda exc, tb: self.window.show_error("The library folders could not be changed", exc))

    # --- what the user asks -----------------------------------------------------------------------
    def open_folder(self, folder: str) -> None:
        """File ▸ Open folder…, a dropped folder, the command line: a folder already in the
        library is rescanned; with an empty library the folder is added; else the user picks
        "Add to the library" or "Switch to this folder"."""
        folder = os.path.abspath(os.path.expanduser(str(folder)))
        self.settings.library_folder = folder
        if self.catalog is None:
            return  # the library presenter keeps it until set_catalog
        if not os.path.isdir(folder):
            self.window.statusBar().showMessage(f"Cannot open {folder}: it is not a folder.", 8000)
            return
        holder = self.library_folder_of(folder)
        if not self._roots:
            self.add_folder(folder)
            return
        if holder is not None and self._roots == [folder]:
            self.window.statusBar().showMessage(f"{folder} is the library: looking for changes.", 6000)
            self.library.scan(holder)
            return
        choice = self.ask_add_or_switch(folder, in_library=holder is not None)
        if choice == "switch":
            self.switch_to(folder)
        elif choice == "add" and holder is not None:
            self.window.statusBar().showMessage(f"{folder} is in the library already: looking for changes.", 6000)
            self.library.scan(holder)
        elif choice == "add":
            self.add_folder(folder)

    def ask_add_or_switch(self, folder: str, *, in_library: bool = False) -> str | None:
        """"add" (for a folder ``in_library`` already: keep every folder), "switch", or None
        (cancelled)."""
        box = QMessageBox(self.window)
        box.setObjectName("addOrSwitchBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Open folder")
        name = os.path.basename(folder) or folder
        if in_library:
            box.setText(f"“{name}” is in the library already. Show only this folder?")
        else:
            box.setText(f"Add “{name}” to the library, or show only this folder?")
        box.setInformativeText(
            "Switching hides the other folders' tracks. Nothing is deleted: their likes, playlists "
            "and analysis are kept and come back when you add the folder again.")
        add = box.addButton("Keep all folders" if in_library else "Add to the library",
                            QMessageBox.ButtonRole.AcceptRole)
        add.setObjectName("addToLibraryButton")
        switch = box.addButton("Switch to this folder", QMessageBox.ButtonRole.ActionRole)
        switch.setObjectName("switchFolderButton")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(add)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        return "add" if clicked is add else "switch" if clicked is switch else None

    def choose_and_add(self) -> None:
        """File ▸ Add folder to library…"""
        start = self.settings.library_folder or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self.window, "Add a folder to the library", start)
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        """Put ``folder`` in the library (folders inside it are covered by it from now on)."""
        folder = os.path.abspath(os.path.expanduser(str(folder)))
        self.settings.library_folder = folder
        if not os.path.isdir(folder):
            self.window.statusBar().showMessage(f"Cannot add {folder}: it is not a folder.", 8000)
            return
        holder = self.library_folder_of(folder)
        if holder is not None:
            self.window.statusBar().showMessage(f"{folder} is in the library already.", 6000)
            return
        inner = [r for r in self._roots if _inside(r, folder)]

        def job(catalog):
            with catalog.transaction():
                catalog.add_library(folder)
                for r in inner:
                    catalog.remove_library(r)

        self._change(job, scan=[folder], message=f"Added {folder} to the library.")

    def remove_folder(self, folder: str) -> None:
        """Take ``folder`` out of the library: its tracks leave the table; nothing is deleted."""
        folder = os.path.abspath(str(folder))
        self.library.cancel_scans_below(folder)
        self._change(lambda catalog: catalog.remove_library(folder),
                     message=f"Removed {folder} from the library (its likes and playlists are kept).")

    def switch_to(self, folder: str) -> None:
        """Make ``folder`` the library's only folder."""
        folder = os.path.abspath(os.path.expanduser(str(folder)))
        self.settings.library_folder = folder
        for r in self._roots:
            if not _inside(folder, r):
                self.library.cancel_scans_below(r)
        self._change(lambda catalog: catalog.switch_library(folder), scan=[folder],
                     message=f"Showing {folder}.")

    def rescan_all(self) -> None:
        """F5: look for changes in every library folder that is there."""
        for r in self._roots:
            if os.path.isdir(r) and r not in self.unavailable():
                self.library.scan(r)

    # --- what the watcher says (GUI thread, batched) ----------------------------------------------
    def _on_watch_events(self, events: list) -> None:
        if self._closing:
            return
        paths: list[str] = []
        full: list[str] = []
        states_changed = False
        availability_changed = False
        for ev in events:
            if ev[0] == "changes":
                _kind, root, changed = ev
                if root not in self._roots:
                    continue  # removed meanwhile
                if changed == [root]:
                    full.append(root)
                else:
                    paths += changed
            elif ev[0] == "status":
                s = ev[1]
                if s.root not in self._roots:
                    continue
                before = self._status.get(s.root, ("", ""))[0]
                self._status[s.root] = (s.state, s.reason)
                states_changed = True
                if (before == UNAVAILABLE) != (s.state == UNAVAILABLE):
                    availability_changed = True
                self._say(s.root, s.state, s.reason)
        from core.audio.covers import is_folder_cover

        images = [p for p in paths if is_folder_cover(p)]
        paths = [p for p in paths if not is_folder_cover(p)]
        if paths:
            self.library.scan_paths(paths)
        for root in dict.fromkeys(full):
            self.library.scan(root)
        touched = paths + [os.path.dirname(p) for p in images]
        if touched:
            self.coversChanged.emit(touched)
        if availability_changed:
            self.library.reload_rows()  # an unavailable folder's tracks leave the table, and come back
        if states_changed:
            self._show_unavailable()
            self.foldersChanged.emit()

    def _say(self, root: str, state: str, reason: str) -> None:
        """The status bar says each folder's trouble once (and when it is over)."""
        name = os.path.basename(root) or root
        if state == POLLED and (root, state) not in self._said:
            self._said.add((root, state))
            self.window.statusBar().showMessage(
                f"“{name}” is not watched for changes: {reason}. It is rescanned every "
                f"{POLL_INTERVAL_S / 60:.0f} minutes.", 15000)
        elif state == UNAVAILABLE:
            self._said.add((root, state))
            self.window.statusBar().showMessage(
                f"“{name}” is unavailable: {reason}. Its tracks are hidden until it is back; "
                "nothing is deleted.", 15000)
        elif state == WATCHED and (root, UNAVAILABLE) in self._said:
            self._said.discard((root, UNAVAILABLE))
            self.window.statusBar().showMessage(f"“{name}” is back.", 6000)

    def _show_unavailable(self) -> None:
        gone = self.unavailable()
        label = self.unavailable_label
        if not gone:
            label.hide()
            return
        label.setText(f"⚠ {len(gone)} folder{'s' if len(gone) > 1 else ''} unavailable")
        label.setToolTip("Not there (deleted, renamed, or the disk is not mounted); their tracks are "
                         "hidden until they are back:\n" + "\n".join(gone))
        label.show()

    # --- stop -------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self._closing = True
        if self.watcher is not None:
            self.watcher.close()
