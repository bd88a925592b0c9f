"""Library scan: walk a folder, read new and changed audio files, keep the catalog in step.

    result = scan(catalog, "/music", progress=callback, cancel=event)
    result.counts()   # {"added": .., "updated": .., "unchanged": .., "moved": .., "restored": ..,
                      #  "missing": .., "newly_missing": .., "failed": ..}
    result.failures   # [{"path", "kind", "reason"}, ...]
    scan_paths(catalog, ["/music/a.mp3", "/music/New album"])   # only these files and folders

How it decides (DESIGN.md, "How data flows" 1):

1. **Walk** the folder (``os.scandir``, iterative, entries in name order).  Symlinked folders are
   followed; a folder already on the way down (same ``st_dev, st_ino``) is a loop, recorded and
   not entered; one reached twice by different links is scanned once.  Only files with an audio
   extension (``EXTENSIONS``, any case) are considered.
2. **Unchanged** files (same size and ``mtime_ns`` as their row, or as their recorded failure) are
   not opened.  A row flagged missing whose file is back is un-flagged ("restored").
3. **Changed** files are re-read in place (same row, same like): "updated".
4. **New** paths are fingerprinted (core/audio/fingerprint.py) and read.  If the fingerprint equals the
   one of a row whose file vanished from its path (in this folder) or that is flagged missing
   (anywhere), that row moves to the new path: "moved" -- it keeps its id and its like.
   Otherwise a row is added.
5. Rows below the folder whose file was not found are flagged **missing** (never deleted; likes
   stay), unless the scan was cancelled: a cancelled scan flags nothing missing.
6. A like or dislike left on a missing file (or detached) moves to a present file of the same song
   -- a re-encode, a retagged copy: same artist and title and a duration within 1 s
   (``Catalog.follow_ratings``).

A file that cannot be used is recorded in the catalog's failures with its kind (core/errors.py)
and a one-line reason; the scan goes on.  A failure is cleared when the file later reads fine or
is gone.  A file deleted while the scan runs is reported (not kept as a failure) and, if it had a
row, flagged missing.  An existing row is never changed by a failed read.

Files are read outside the database lock and written in batches of ``batch_size`` per
transaction, so readers (the UI) and other writers (a like) are never blocked for long.
"""
from __future__ import annotations

import dataclasses
import errno
import io
import os
import stat as stat_mod
import threading
import time
from typing import Any, Callable, Iterable

from core.audio import tags
from core.audio.files import open_readable
from core.audio.fingerprint import CHUNK, fingerprint_file
from core.catalog import TRACK_FIELDS, Catalog
from core.errors import ERROR_KINDS, DecodeFailed, FileError, UnreadableFile, reason_of

EXTENSIONS = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wav", ".aiff", ".aif", ".wma"}
)
WHOLE_FILE_LIMIT = 512 * 1024  # files up to this size are read into memory once


@dataclasses.dataclass(frozen=True)
class ScanProgress:
    phase: str  # "walk" (total not known yet: 0) or "read"
    done: int
    total: int
    path: str


@dataclasses.dataclass
class ScanResult:
    root: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    restored: int = 0  # rows flagged missing whose file is back at the same path
    missing: int = 0  # rows below root flagged missing after this scan
    newly_missing: int = 0  # of which flagged by this scan
    failures: list[dict] = dataclasses.field(default_factory=list)
    files: int = 0  # audio files found
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "moved": self.moved, "restored": self.restored, "missing": self.missing,
            "newly_missing": self.newly_missing, "failed": self.failed,
        }

    def as_dict(self) -> dict:
        return {"root": self.root, **self.counts(), "files": self.files, "cancelled": self.cancelled,
                "seconds": round(self.seconds, 3), "failures": self.failures}


class ScanCancelled(Exception):
    pass


def _display(path: str) -> str:
    """A path that can be printed and stored (undecodable bytes shown as U+FFFD)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# walking
# --------------------------------------------------------------------------------------------


def _name(entry: os.DirEntry) -> str:
    return entry.name


def walk(
    root: str, on_failure: Callable[[str, str, str], None], *,
    should_stop: Callable[[], bool] = lambda: False,
    on_folder: Callable[[str], None] | None = None,
) -> list[tuple[str, int, int]]:
    """(path, size, mtime_ns) of every audio file below ``root``; problems go to
    ``on_failure(path, kind, reason)``."""
    found: list[tuple[str, int, int]] = []
    st = os.stat(root)
    root_key = (st.st_dev, st.st_ino)
    visited = {root_key}
    # A folder's identity is (st_dev, st_ino).  For a plain (non-link) subfolder it is the
    # parent's device and the inode readdir gave us, so only symlinks cost a stat().
    # stack of (folder, its device, chain of identities from root down to it, inclusive)
    stack: list[tuple[str, int, tuple]] = [(root, st.st_dev, (root_key,))]
    extensions = EXTENSIONS
    while stack:
        if should_stop():
            raise ScanCancelled
        folder, dev, chain = stack.pop()
        if on_folder is not None:
            on_folder(folder)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=_name)
        except OSError as exc:
            on_failure(folder, "unreadable", f"cannot open folder: {reason_of(exc)}")
            continue
        subfolders = []
        for entry in entries:
            name = entry.name
            try:
                is_link = entry.is_symlink()
                if not is_link:
                    if entry.is_dir(follow_symlinks=False):
                        key = (dev, entry.inode())
                        if key not in visited:
                            visited.add(key)
                            subfolders.append((entry.path, dev, chain + (key,)))
                        continue
                elif entry.is_dir(follow_symlinks=True):
                    dst = entry.stat(follow_symlinks=True)
                    key = (dst.st_dev, dst.st_ino)
                    if key in chain:
                        on_failure(entry.path, "unreadable",
                                   f"symlink loop: leads back to {os.path.realpath(entry.path)}, not followed")
                        continue
                    if key in visited:
                        continue  # the same folder reached through another link: scanned once
                    visited.add(key)
                    subfolders.append((entry.path, dst.st_dev, chain + (key,)))
                    continue
                dot = name.rfind(".")
                if dot < 0 or name[dot:].lower() not in extensions or name.startswith("._"):
                    continue
                if is_link and not os.path.exists(entry.path):
                    on_failure(entry.path, "unreadable", f"broken symbolic link to {os.readlink(entry.path)}")
                    continue
                s = entry.stat()
                if not stat_mod.S_ISREG(s.st_mode):
                    on_failure(entry.path, "unreadable", "not a regular file")
                    continue
                found.append((entry.path, s.st_size, s.st_mtime_ns))
            except FileNotFoundError:
                continue  # vanished while we walk: nothing to say
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    on_failure(entry.path, "unreadable", "symlink loop: too many levels of symbolic links")
                else:
                    on_failure(entry.path, "unreadable", reason_of(exc))
        stack.extend(reversed(subfolders))
    return found


# --------------------------------------------------------------------------------------------
# reading one file
# --------------------------------------------------------------------------------------------


def read_file(path: str) -> dict:
    """Fingerprint, stat, tags and stream info of one file (opened once, and only if it is a
    regular file: core.audio.files.open_readable).  Raises FileError."""
    try:
        with open_readable(path) as f:
            st = os.fstat(f.fileno())
            size = st.st_size
            if stat_mod.S_ISDIR(st.st_mode):
                raise UnreadableFile(path, "is a folder, not a file")
            if size <= WHOLE_FILE_LIMIT:
                data = f.read()
                size = len(data)
                src: Any = io.BytesIO(data)
                head = data[:CHUNK]
                fp = fingerprint_file(src, size, data)
            else:
                head = f.read(CHUNK)
                src = f
                fp = fingerprint_file(f, size, head)
            info = tags.read(src, path=path, size=size, head=head)
    except FileError:
        raise
    except FileNotFoundError as exc:
        raise UnreadableFile(path, "file disappeared during the scan") from exc
    except OSError as exc:
        raise UnreadableFile(path, reason_of(exc)) from exc
    info.update(path=path, size=size, mtime_ns=st.st_mtime_ns, fingerprint=fp)
    return info


POOL_THRESHOLD = 400  # files to open before a scan reads in worker processes
_CHUNK = 32  # files per task sent to a worker
_AHEAD = 6  # tasks in flight per worker


def _outcome(reader: Callable[[str], dict], path: str):
    try:
        return reader(path)
    except Exception as exc:
        return exc


def _read_chunk(paths: list[str]) -> list:
    """In a worker process: read each file; errors travel as (kind, reason) tuples (a FileError
    does not pickle back with its fields)."""
    out = []
    for path in paths:
        r = _outcome(read_file, path)
        if isinstance(r, FileError):
            r = ("file-error", r.kind, r.reason)
        elif isinstance(r, BaseException):
            r = ("bug", "", reason_of(r))
        out.append(r)
    return out


def _revive(path: str, r):
    if isinstance(r, tuple):
        tag, kind, reason = r
        if tag == "file-error":
            return ERROR_KINDS.get(kind, DecodeFailed)(path, reason)
        return RuntimeError(reason)
    return r


def _worker_init() -> None:  # pragma: no cover - runs in the worker
    import signal

    from core.childproc import die_with_parent

    die_with_parent()  # a reader blocks on a pipe it holds both ends of: it would outlive a kill -9
    # Ctrl-C reaches the whole process group: the parent decides (it cancels the scan cleanly)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _read_ahead(paths: list[str], reader: Callable[[str], dict], workers: int):
    """Yield (path, info dict or exception) for ``paths`` in order; with ``workers`` > 1 the files
    are read by a pool of processes a few chunks ahead of the consumer."""
    if workers <= 1 or len(paths) < 2 * _CHUNK:
        for path in paths:
            yield path, _outcome(reader, path)
        return
    import collections
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # "spawn": safe from a process that has threads (the desktop app scans from one).  The readers
    # are started by pool.submit below, on the thread that runs this generator and shuts the pool
    # down: it outlives them, as core.childproc requires.
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_init)
    except Exception:  # no processes here (sandbox, limits): read in this thread
        for path in paths:
            yield path, _outcome(reader, path)
        return

    def submit(chunk):
        try:
            return pool.submit(_read_chunk, chunk)
        except Exception:  # the pool broke (a worker was killed): None means "read it here"
            return None

    try:
        chunks = [paths[i:i + _CHUNK] for i in range(0, len(paths), _CHUNK)]
        queue: collections.deque = collections.deque()
        it = iter(chunks)
        for chunk in it:
            queue.append((chunk, submit(chunk)))
            if len(queue) >= workers * _AHEAD:
                break
        while queue:
            chunk, fut = queue.popleft()
            nxt = next(it, None)
            if nxt is not None:
                queue.append((nxt, submit(nxt)))
            try:
                results = fut.result() if fut is not None else None
            except Exception:  # the worker died (killed, out of memory)
                results = None
            if results is None:
                results = [_outcome(reader, p) for p in chunk]
            for path, r in zip(chunk, results):
                yield path, _revive(path, r)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


# --------------------------------------------------------------------------------------------
# the scan
# --------------------------------------------------------------------------------------------


def _stopper(cancel) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event) or hasattr(cancel, "is_set"):
        return cancel.is_set
    return cancel


def scan(
    catalog: Catalog,
    root: str | os.PathLike,
    *,
    progress: Callable[[ScanProgress], None] | None = None,
    cancel: threading.Event | Callable[[], bool] | None = None,
    batch_size: int = 500,
    reader: Callable[[str], dict] = read_file,
    workers: int | None = None,
    add_library: bool = True,
) -> ScanResult:
    """Scan ``root`` into ``catalog``.  ``progress(ScanProgress)`` is called for every folder
    walked and every file handled (keep it cheap; throttle in the UI).  ``cancel`` (an Event, or
    a callable returning True) stops the scan between two files: work done so far is kept,
    nothing is flagged missing, ``result.cancelled`` is True.

    ``workers``: processes reading files in parallel (default: up to 4 when at least
    ``POOL_THRESHOLD`` files must be opened, else the calling thread reads them).
    ``add_library``: put ``root`` in the catalog's library folders (False: the caller keeps
    that list itself, as the app does).

    Raises ``UnreadableFile`` when ``root`` does not exist or is not a folder."""
    t0 = time.perf_counter()
    root = os.path.abspath(os.fspath(root))
    if not os.path.exists(root):
        raise UnreadableFile(root, "folder does not exist")
    if not os.path.isdir(root):
        raise UnreadableFile(root, "not a folder")
    should_stop = _stopper(cancel)
    result = ScanResult(root=root)
    now = time.time()
    if add_library:
        catalog.add_library(root)

    walk_failures: list[tuple[str, str, str]] = []
    try:
        files = walk(
            root, lambda p, k, r: walk_failures.append((p, k, r)), should_stop=should_stop,
            on_folder=(lambda d: progress(ScanProgress("walk", 0, 0, d))) if progress else None,
        )
    except ScanCancelled:
        result.cancelled = True
        result.seconds = time.perf_counter() - t0
        return result
    result.files = len(files)

    known = catalog.rows_under(root)  # path -> (id, size, mtime_ns, missing, fingerprint)
    failmap = catalog.failure_map(root)
    failures_now, transient = _reconcile(
        catalog, result, files, walk_failures, known, failmap, now=now, should_stop=should_stop,
        progress=progress, batch_size=batch_size, reader=reader, workers=workers,
        forget_failures=lambda keep: catalog.clear_failures_except(root, keep),
        completed=lambda: catalog.mark_library_scanned(root, now))
    result.missing = catalog.missing_count(root)
    return _finish(result, failures_now, transient, t0)


def scan_paths(
    catalog: Catalog,
    paths: Iterable[str | os.PathLike],
    *,
    progress: Callable[[ScanProgress], None] | None = None,
    cancel: threading.Event | Callable[[], bool] | None = None,
    batch_size: int = 500,
    reader: Callable[[str], dict] = read_file,
    workers: int | None = None,
) -> ScanResult:
    """Bring the catalog in step with ``paths`` only (what a file watcher reports): an audio
    file there is read if it is new or changed, a path whose file is gone has its row flagged
    missing, a folder is walked as :func:`scan` walks a library folder, and the rows below a
    folder that is gone are flagged missing.  A file renamed or moved between two of the
    paths keeps its row and its like (the same fingerprint rule as :func:`scan`).  Library
    folders are not added; ``result.root`` is the paths' common folder.  Other arguments as
    for :func:`scan`."""
    t0 = time.perf_counter()
    targets = sorted({os.path.abspath(os.fspath(p)) for p in paths})
    # a path below another one in the list is covered by that folder's walk
    kept: list[str] = []
    for p in targets:
        if not any(p.startswith(k.rstrip(os.sep) + os.sep) for k in kept):
            kept.append(p)
    targets = kept
    should_stop = _stopper(cancel)
    result = ScanResult(root=os.path.commonpath(targets) if targets else "")
    if not targets:
        return result
    now = time.time()
    walk_failures: list[tuple[str, str, str]] = []
    files: list[tuple[str, int, int]] = []
    known: dict[str, tuple[int, int, int, bool, str]] = {}
    folders: list[str] = []
    single: list[str] = []
    try:
        for p in targets:
            if should_stop():
                raise ScanCancelled
            known.update(catalog.rows_under(p))  # rows below it, if it is (or was) a folder
            try:
                st = os.stat(p)
            except OSError:
                st = None
            if st is not None and stat_mod.S_ISDIR(st.st_mode):
                folders.append(p)
                files += walk(p, lambda fp, k, r: walk_failures.append((fp, k, r)), should_stop=should_stop,
                              on_folder=(lambda d: progress(ScanProgress("walk", 0, 0, d))) if progress else None)
                continue
            single.append(p)
            t = catalog.track_by_path(p)
            if t is not None:
                known[t.path] = (t.id, t.size, t.mtime_ns, t.missing, t.fingerprint)
            name = os.path.basename(p)
            dot = name.rfind(".")
            if st is None or dot < 0 or name[dot:].lower() not in EXTENSIONS or name.startswith("._"):
                continue  # gone (or not audio): its row, if any, is flagged missing
            if not stat_mod.S_ISREG(st.st_mode):
                walk_failures.append((p, "unreadable", "not a regular file"))
                continue
            files.append((p, st.st_size, st.st_mtime_ns))
    except ScanCancelled:
        result.cancelled = True
        result.seconds = time.perf_counter() - t0
        return result
    result.files = len(files)
    single_set = set(single)
    prefixes = tuple(f.rstrip(os.sep) + os.sep for f in folders + single)
    failmap = {f.path: f for f in catalog.failures() if f.path in single_set or f.path.startswith(prefixes)}

    def forget(keep):
        keep = set(keep)
        with catalog.transaction():
            for path in failmap:
                if path not in keep:
                    catalog.clear_failure(path)

    failures_now, transient = _reconcile(
        catalog, result, files, walk_failures, known, failmap, now=now, should_stop=should_stop,
        progress=progress, batch_size=batch_size, reader=reader, workers=workers, forget_failures=forget)
    result.missing = sum(catalog.missing_count(f) for f in folders + single)
    for p in single:
        t = catalog.track_by_path(p)
        result.missing += bool(t is not None and t.missing)
    return _finish(result, failures_now, transient, t0)


def _finish(result: ScanResult, failures_now: dict[str, dict], transient: list[dict], t0: float) -> ScanResult:
    result.failures = [{k: v for k, v in item.items() if k in ("path", "kind", "reason")}
                       for item in failures_now.values()] + transient
    result.failures.sort(key=lambda d: d["path"])
    result.seconds = time.perf_counter() - t0
    return result


def _reconcile(
    catalog: Catalog, result: ScanResult, files: list[tuple[str, int, int]],
    walk_failures: list[tuple[str, str, str]], known: dict, failmap: dict, *, now: float,
    should_stop: Callable[[], bool], progress, batch_size: int, reader: Callable[[str], dict],
    workers: int | None, forget_failures: Callable[[Iterable[str]], Any],
    completed: Callable[[], Any] | None = None,
) -> tuple[dict[str, dict], list[dict]]:
    """Bring the catalog's rows ``known`` (path -> (id, size, mtime_ns, missing, fingerprint):
    every row of the part of the library that was looked at) in step with ``files`` (what is
    on disk there), steps 2-6 of the module's docstring.  ``forget_failures(keep)`` clears the
    failures of that part whose path is not in ``keep``; ``completed()`` runs in the last
    transaction unless the scan was cancelled.  Returns (failures of this scan by path, the
    failures reported but not stored)."""
    on_disk = {p for p, _, _ in files}
    vanished: dict[str, list[int]] = {}  # fingerprint -> ids of rows whose file left its path
    vanished_ids: set[int] = set()
    # what the walk could not look at (a folder it could not list, an entry it could not stat)
    # is not "gone": its rows are not flagged missing
    blind_paths = {p for p, _, _ in walk_failures}
    blind_dirs = tuple(p + os.sep for p in blind_paths)
    for path, (tid, _s, _m, missing, fp) in known.items():
        if path not in on_disk and not missing and path not in blind_paths and not path.startswith(blind_dirs):
            vanished.setdefault(fp, []).append(tid)
            vanished_ids.add(tid)
    missing_by_fp = catalog.missing_by_fingerprint()

    failures_now: dict[str, dict] = {}  # path -> failure of this scan (for the DB and the report)
    transient: list[dict] = []  # reported, not stored (file deleted while scanning)

    def fail(path: str, kind: str, reason: str, size=None, mtime_ns=None, store=True):
        shown = _display(path)
        item = {"path": shown, "kind": kind, "reason": " ".join(str(reason).split())}
        if store:
            failures_now[shown] = item | {"size": size, "mtime_ns": mtime_ns}
        else:
            transient.append(item)

    for p, k, r in walk_failures:
        fail(p, k, r)

    seen_ids: list[int] = []
    pending: list[tuple[str, Any, Any]] = []  # (action, payload...) written in one transaction
    gone_ids: list[int] = []

    def flush():
        if not pending and not gone_ids:
            return
        with catalog.transaction():
            for action, a, b in pending:
                if action == "add":
                    catalog.add_track(a, now=now, reattach=False)  # likes follow at the end (follow_ratings)
                    result.added += 1
                elif action == "update":
                    catalog.update_track(a, b, now=now)
                    result.updated += 1
                elif action == "move":
                    catalog.move_track(a, b["path"], b, now=now)
                    result.moved += 1
                if action in ("add", "update", "move"):
                    path = (b if action != "add" else a)["path"]
                    if path in failmap:
                        catalog.clear_failure(path)
            if gone_ids:
                result.newly_missing += catalog.mark_missing(gone_ids, now=now)
        pending.clear()
        gone_ids.clear()

    # which files must be opened (new, changed, and not a failure left untouched since)?
    to_read: list[str] = []
    for path, size, mtime_ns in files:
        row = known.get(path)
        if row is not None and row[1] == size and row[2] == mtime_ns:
            continue
        old = failmap.get(path)
        if old is not None and old.size == size and old.mtime_ns == mtime_ns:
            continue
        if _display(path) == path:
            to_read.append(path)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(to_read) >= POOL_THRESHOLD and reader is read_file else 1
    outcomes = _read_ahead(to_read, reader, workers)

    total = len(files)
    done = 0
    try:
        for path, size, mtime_ns in files:
            if should_stop():
                result.cancelled = True
                break
            done += 1
            if progress is not None:
                progress(ScanProgress("read", done, total, path))
            shown = _display(path)
            if shown != path:
                fail(path, "unreadable", "the file name is not valid UTF-8; rename the file to add it")
                continue
            row = known.get(path)
            if row is not None and row[1] == size and row[2] == mtime_ns:
                seen_ids.append(row[0])
                result.unchanged += 1
                continue
            old = failmap.get(path)
            if old is not None and old.size == size and old.mtime_ns == mtime_ns:
                # failed before and not touched since: do not open it again
                failures_now[path] = {"path": path, "kind": old.kind, "reason": old.reason,
                                      "size": size, "mtime_ns": mtime_ns, "_keep": True}
                continue
            read_path, info = next(outcomes)
            assert read_path == path, (read_path, path)
            if isinstance(info, UnreadableFile):
                if not os.path.lexists(path):  # deleted while we scan
                    fail(path, info.kind, "file disappeared during the scan", store=False)
                    if row is not None and not row[3]:
                        gone_ids.append(row[0])
                else:
                    fail(path, info.kind, info.reason, size, mtime_ns)
                continue
            if isinstance(info, FileError):
                fail(path, info.kind, info.reason, size, mtime_ns)
                continue
            if isinstance(info, BaseException):  # a reader bug must not stop the scan or lose the rest
                fail(path, DecodeFailed.kind, f"unexpected error: {reason_of(info)}", size, mtime_ns)
                continue
            fields = {k: info.get(k) for k in info if k in _FIELDS}
            if row is not None:
                pending.append(("update", row[0], fields))
            else:
                fp = fields["fingerprint"]
                target = None
                for pool in (vanished, missing_by_fp):
                    ids = pool.get(fp)
                    if ids:
                        target = ids.pop(0)
                        break
                if target is not None:
                    vanished_ids.discard(target)
                    pending.append(("move", target, fields))
                else:
                    pending.append(("add", fields, None))
            if len(pending) >= batch_size:
                flush()
    finally:
        outcomes.close()  # stops the read-ahead workers (on cancel too)
    flush()

    with catalog.transaction():
        result.restored = catalog.mark_seen(seen_ids, now=now)
        for path, item in failures_now.items():
            if not item.get("_keep"):
                catalog.record_failure(path, item["kind"], item["reason"], size=item["size"],
                                       mtime_ns=item["mtime_ns"], now=now)
        if not result.cancelled:
            result.newly_missing += catalog.mark_missing(vanished_ids, now=now)
            # failures of files that are gone (or read fine now) are forgotten
            forget_failures(failures_now.keys())
            if completed is not None:
                completed()
        catalog.follow_ratings()  # a like left on a missing file follows its song to a file here
    return failures_now, transient


_FIELDS = frozenset(TRACK_FIELDS)
