"""Watching the library folders: files added, changed, renamed or deleted there reach the
catalog within a few seconds, without a full rescan.

    watcher = LibraryWatcher(on_changes=lambda root, paths: scan_paths(catalog, paths),
                             on_status=lambda status: print(status.root, status.state, status.reason))
    watcher.set_roots(["/music", "/media/usb/Music"])
    ...
    watcher.close()

Each folder is in one of three states (:class:`FolderStatus`):

* ``watched``: a recursive `watchdog <https://python-watchdog.readthedocs.io>`_ watch (inotify on
  Linux).  Events on audio files (:data:`core.scanner.EXTENSIONS`), on folder images named like a
  cover (:func:`core.audio.covers.is_folder_cover`) and on folders are collected
  per library folder and handed over once the folder has been quiet for ``debounce_s`` (at the
  latest ``max_delay_s`` after the first one, so a long copy shows up as it goes):
  ``on_changes(root, paths)``, the paths coalesced (a file inside a folder that is reported
  too is left out; more than ``max_paths`` become ``[root]``: rescan it all).
* ``polled``: the watch could not be set up (the inotify watch limit, another ``OSError``) or
  the folder is on a network file system, where changes made by other computers are never
  reported: ``on_changes(root, [root])`` every ``poll_interval_s`` instead.
* ``unavailable``: the folder is not there (deleted, renamed, or the disk holding it is not
  mounted: a folder that was a mount point and is not one any more counts as not there).
  Nothing is reported for it, so nothing in the catalog changes; when it is back it is
  watched again and ``on_changes(root, [root])`` asks for a rescan.

Every folder is looked at every ``check_interval_s`` (a ``stat``).  ``on_status(FolderStatus)``
is called on every change of state.  Both callbacks run on the watcher's own thread, never on
the caller's; they must not block for long.  No Qt here: the app wraps the callbacks itself.
"""
from __future__ import annotations

import dataclasses
import errno
import logging
import os
import threading
import time
from typing import Callable, Iterable

from core.audio.covers import is_folder_cover
from core.scanner import EXTENSIONS

log = logging.getLogger(__name__)

WATCHED, POLLED, UNAVAILABLE = "watched", "polled", "unavailable"

#: file systems whose changes made elsewhere (another computer) inotify does not see
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb3", "smbfs", "ncpfs", "afs", "9p", "ceph", "glusterfs", "lustre",
    "fuse.sshfs", "fuse.rclone", "fuse.gvfsd-fuse", "fuse.s3fs", "davfs", "fuse.davfs2",
})

UNAVAILABLE_REASON = "the folder is not there (deleted, renamed, or its disk is not mounted)"


@dataclasses.dataclass(frozen=True)
class FolderStatus:
    root: str
    state: str  # WATCHED, POLLED or UNAVAILABLE
    reason: str = ""  # why it is polled or unavailable (a sentence fragment)


def filesystem_type(path: str, mounts_file: str = "/proc/self/mounts") -> str | None:
    """The type of the file system holding ``path`` (``"ext4"``, ``"nfs4"``...), from the
    mount table; None where there is none to read."""
    try:
        with open(mounts_file, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    real = os.path.realpath(path)
    best, best_type = "", None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        # the table escapes blanks in mount points as octal (\040)
        point = parts[1].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, best_type = point, parts[2]
    return best_type


def _is_audio(path: str) -> bool:
    name = os.path.basename(path)
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in EXTENSIONS and not name.startswith("._")


def _watch_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the system's limit on watched folders is reached (fs.inotify.max_user_watches)"
    if exc.errno == errno.EMFILE:
        return "the system's limit on file watchers is reached (fs.inotify.max_user_instances)"
    return f"it cannot be watched ({exc.strerror or exc})"


def coalesce(paths: Iterable[str]) -> list[str]:
    """``paths`` sorted, without those inside another one of them."""
    out: list[str] = []
    for p in sorted(set(paths)):
        if not any(p.startswith(k.rstrip(os.sep) + os.sep) for k in out):
            out.append(p)
    return out


class _Folder:
    def __init__(self, root: str):
        self.root = root
        self.state: str | None = None
        self.reason = ""
        self.watch = None
        self.handler = None
        self.was_mount: bool | None = None
        self.next_poll = 0.0
        self.pending: dict[str, None] = {}
        self.first = 0.0
        self.last = 0.0

    def status(self) -> FolderStatus:
        return FolderStatus(self.root, self.state or UNAVAILABLE, self.reason)


class LibraryWatcher:
    """Watches library folders on a thread of its own (see the module's docstring).

    ``observer_factory()`` makes the watchdog observer (default: the platform's native one);
    tests pass one whose ``schedule`` fails to see the fallback.  Times are in seconds.
    """

    def __init__(
        self,
        on_changes: Callable[[str, list[str]], None],
        on_status: Callable[[FolderStatus], None] | None = None,
        *,
        debounce_s: float = 1.5,
        max_delay_s: float = 6.0,
        poll_interval_s: float = 300.0,
        check_interval_s: float = 2.0,
        max_paths: int = 200,
        observer_factory: Callable[[], object] | None = None,
    ):
        self.on_changes = on_changes
        self.on_status = on_status
        self.debounce_s = debounce_s
        self.max_delay_s = max_delay_s
        self.poll_interval_s = poll_interval_s
        self.check_interval_s = check_interval_s
        self.max_paths = max_paths
        self._observer_factory = observer_factory
        self._observer = None
        self._observer_problem: str | None = None
        self._cond = threading.Condition()
        self._wanted: list[str] = []
        self._folders: dict[str, _Folder] = {}
        self._wake = False
        self._check_now = False
        self._closed = False
        self._next_check = 0.0
        self._thread = threading.Thread(target=self._run, name="melograph-watcher", daemon=True)
        self._thread.start()

    # --- the caller's side -------------------------------------------------------------------------
    def set_roots(self, roots: Iterable[str | os.PathLike]) -> None:
        """Watch exactly these folders (the watches are set up on the watcher's thread)."""
        wanted = sorted({os.path.abspath(os.fspath(r)) for r in roots})
        with self._cond:
            self._wanted = wanted
            self._wake = True
            self._cond.notify_all()

    def statuses(self) -> dict[str, FolderStatus]:
        """root -> its status, for the folders set up so far."""
        with self._cond:
            return {r: f.status() for r, f in self._folders.items() if f.state is not None}

    def check_now(self) -> None:
        """Look at every folder's availability now rather than at the next check."""
        with self._cond:
            self._check_now = True
            self._cond.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        """Stop watching (returns once the thread is done, or after ``timeout``)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        obs = self._observer
        if obs is not None:
            try:
                obs.stop()
                obs.join(timeout)
            except Exception:  # noqa: BLE001 - stopping must not fail the caller
                log.exception("stopping the file watcher")

    # --- events (the observer's thread) ------------------------------------------------------------
    def _event(self, root: str, event) -> None:
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if getattr(event, "dest_path", "") else ""
        if event.is_directory:
            if kind == "modified":
                return
            if src == root and kind in ("deleted", "moved"):
                self.check_now()  # the library folder itself went away
                return
            paths = [p for p in (src, dest) if p]
        else:  # audio files, and the folder images that are their covers
            paths = [p for p in (src, dest) if p and (_is_audio(p) or is_folder_cover(p))]
        if not paths:
            return
        now = time.monotonic()
        with self._cond:
            f = self._folders.get(root)
            if f is None or f.state in (POLLED, UNAVAILABLE):
                return
            for p in paths:
                if p == root or p.startswith(root.rstrip(os.sep) + os.sep):
                    f.pending[p] = None
            if f.pending:
                f.first = f.first or now
                f.last = now
                self._cond.notify_all()

    # --- the watcher's thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                if not (self._wake or self._check_now):
                    timeout = self._next_deadline() - time.monotonic()
                    if timeout > 0:
                        self._cond.wait(timeout)
                if self._closed:
                    return
                wanted, self._wake = list(self._wanted), False
                check, self._check_now = self._check_now, False
            try:
                self._step(wanted, check)
            except Exception:  # noqa: BLE001 - the watcher must outlive one bad turn
                log.exception("file watcher")
                time.sleep(0.5)

    def _next_deadline(self) -> float:
        deadline = self._next_check
        for f in self._folders.values():
            if f.pending:
                deadline = min(deadline, f.last + self.debounce_s, f.first + self.max_delay_s)
            if f.state == POLLED:
                deadline = min(deadline, f.next_poll)
        return deadline

    def _step(self, wanted: list[str], check: bool) -> None:
        now = time.monotonic()
        # folders taken out, and folders put in
        for root in [r for r in self._folders if r not in wanted]:
            f = self._folders.pop(root)
            self._unschedule(f)
        for root in wanted:
            if root not in self._folders:
                f = _Folder(root)
                with self._cond:
                    self._folders[root] = f
                self._set_up(f, reappeared=False)
        if check or now >= self._next_check:
            self._next_check = now + self.check_interval_s
            for f in list(self._folders.values()):
                there = self._available(f)
                if f.state == UNAVAILABLE and there:
                    self._set_up(f, reappeared=True)
                elif f.state != UNAVAILABLE and not there:
                    self._unschedule(f)
                    with self._cond:
                        f.pending.clear()
                        f.first = f.last = 0.0
                    self._set_state(f, UNAVAILABLE, UNAVAILABLE_REASON)
        now = time.monotonic()
        for f in list(self._folders.values()):
            if f.state == POLLED and now >= f.next_poll:
                f.next_poll = now + self.poll_interval_s
                self._report(f.root, [f.root])
            with self._cond:
                due = f.pending and (now >= f.last + self.debounce_s or now >= f.first + self.max_delay_s)
                paths = list(f.pending) if due else []
                if due:
                    f.pending.clear()
                    f.first = f.last = 0.0
            if paths and not self._available(f):
                # the folder itself is going away (the events are its files being deleted):
                # nothing is reported, so nothing in the catalog changes
                self._unschedule(f)
                self._set_state(f, UNAVAILABLE, UNAVAILABLE_REASON)
                continue
            if paths:
                paths = coalesce(paths)
                self._report(f.root, [f.root] if len(paths) > self.max_paths else paths)

    def _report(self, root: str, paths: list[str]) -> None:
        try:
            self.on_changes(root, paths)
        except Exception:  # noqa: BLE001
            log.exception("file watcher: on_changes(%s)", root)

    def _set_state(self, f: _Folder, state: str, reason: str = "") -> None:
        if (f.state, f.reason) == (state, reason):
            return
        with self._cond:
            f.state, f.reason = state, reason
        if self.on_status is not None:
            try:
                self.on_status(f.status())
            except Exception:  # noqa: BLE001
                log.exception("file watcher: on_status(%s)", f.root)

    @staticmethod
    def _available(f: _Folder) -> bool:
        if not os.path.isdir(f.root):
            return False
        return not f.was_mount or os.path.ismount(f.root)

    def _set_up(self, f: _Folder, *, reappeared: bool) -> None:
        """Watch ``f`` (or poll it, or call it unavailable)."""
        if not os.path.isdir(f.root):
            self._set_state(f, UNAVAILABLE, UNAVAILABLE_REASON)
            return
        if f.was_mount is None:
            f.was_mount = os.path.ismount(f.root)
        fstype = filesystem_type(f.root)
        if fstype in NETWORK_FILESYSTEMS:
            self._poll(f, f"it is on a network file system ({fstype}), whose changes are not reported")
        else:
            problem = self._schedule(f)
            if problem:
                self._poll(f, problem)
            else:
                self._set_state(f, WATCHED)
        if reappeared:
            self._report(f.root, [f.root])

    def _poll(self, f: _Folder, reason: str) -> None:
        f.next_poll = time.monotonic() + self.poll_interval_s
        self._set_state(f, POLLED, reason)

    def _schedule(self, f: _Folder) -> str | None:
        """Set up ``f``'s watch; the reason it could not be, or None."""
        if self._observer is None and self._observer_problem is None:
            try:
                if self._observer_factory is not None:
                    obs = self._observer_factory()
                else:
                    from watchdog.observers import Observer

                    obs = Observer()
                obs.daemon = True
                obs.start()
                self._observer = obs
            except Exception as exc:  # noqa: BLE001 - no watcher at all: every folder is polled
                log.warning("file watcher unavailable: %s", exc)
                self._observer_problem = (_watch_problem(exc) if isinstance(exc, OSError)
                                          else f"no file watcher is available ({exc})")
        if self._observer is None:
            return self._observer_problem
        from watchdog.events import FileSystemEventHandler

        watcher, root = self, f.root

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                watcher._event(root, event)

        self._unschedule(f)
        handler = Handler()
        try:
            f.watch = self._observer.schedule(handler, f.root, recursive=True)
        except OSError as exc:
            log.info("cannot watch %s: %s", f.root, exc)
            return _watch_problem(exc)
        f.handler = handler
        return None

    def _unschedule(self, f: _Folder) -> None:
        if f.watch is not None and self._observer is not None:
            try:
                self._observer.unschedule(f.watch)
            except (KeyError, OSError, RuntimeError):
                pass  # its emitter already stopped (the folder was deleted)
        f.watch = f.handler = None
