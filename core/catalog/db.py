"""The database engine under the catalog.  It knows no Melograph table; the catalog's parts are
written over it, and it is the only module of Melograph that imports ``sqlite3``.

* WAL mode, foreign keys on, ``busy_timeout``, so several processes (the app, analysis workers,
  the CLI) share one file; one connection per thread (``threading.local``), so the UI thread
  reads while a scan thread writes.
* ``with db.transaction():`` groups writes (``BEGIN IMMEDIATE``; nested blocks join the outer
  one): all or nothing, so a crash never leaves half a track.
* :meth:`Database.execute`, :meth:`~Database.fetchall` and friends take SQL text and plain
  values.  Every ``sqlite3`` error they (or opening the file) meet becomes a one-line
  :class:`CatalogError` with advice, here and nowhere else.
* Opening an existing file runs SQLite's ``PRAGMA quick_check`` first, on a connection that
  writes nothing: a damaged file is refused (:class:`CatalogDamaged`, naming the way back) and
  never written to.  It reads every page: about 50 ms for a 10,000-track catalog of 56 MB, 0.4
  to 1 s for one of 900 MB (160 stored windows a track).
* The schema version is ``PRAGMA user_version``.  Opening runs the missing :class:`Migration` s
  in order: the one at index ``i`` takes version ``i`` to ``i + 1`` in its own transaction.
* Rolling backups, copies made with SQLite's online backup API (a consistent snapshot while
  others write), named ``<file>.bak-v<version>-<date>-<time>`` beside it: one before a migration
  of an existing file, one at open when the newest is more than a day old, one on request
  (:meth:`Database.backup`); the newest ``keep_backups`` are kept.  A new file gets none, and
  neither does a damaged one.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from core.errors import MelographError

log = logging.getLogger(__name__)

#: how many rolling backups a catalog keeps, and how often one is taken at open (seconds)
KEEP_BACKUPS = 3
BACKUP_EVERY = 24 * 3600.0
#: what the user runs to get a damaged catalog back (the CLI's ``catalog`` command)
RESTORE_COMMAND = "python main.py catalog restore"

_BACKUP_SUFFIX = re.compile(r"\.bak-v(\d+)-(\d{8}-\d{6})(~\d+)?$")
#: a backup being written; one older than an hour was left by a killed process
_PART_SUFFIX = re.compile(r"\.bak-v\d+-\d{8}-\d{6}(~\d+)?\.part$")


class CatalogError(MelographError):
    """The catalog cannot be opened or used (newer schema, damaged file, full disk, bad
    argument): one sentence, with what to do where there is something to do."""


class CatalogDamaged(CatalogError):
    """The file fails SQLite's integrity check; nothing is written to it.  ``problems``: what
    SQLite found, one line each."""

    def __init__(self, message: str, problems: Sequence[str] = ()):
        super().__init__(message)
        self.problems = list(problems)


@dataclasses.dataclass(frozen=True)
class Migration:
    """One step of the schema: ``apply(conn)`` runs inside the step's transaction.
    ``rewrites_data``: never run it without the backup taken before migrating."""

    name: str
    apply: Callable[[sqlite3.Connection], None]
    rewrites_data: bool = False


#: (words in SQLite's message, what the user can do about it); the first match is given.
_ADVICE = (
    ("locked", "another program is writing to the catalog; wait for it or close it, then try again"),
    ("busy", "another program is writing to the catalog; wait for it or close it, then try again"),
    ("full", "the disk is full; free some space, then try again"),
    ("readonly", "the catalog file or its folder is read-only; fix its permissions or use another --data-dir"),
    ("unable to open", "check that its folder exists and is writable, or use another --data-dir"),
    ("not a database", "the file is damaged or is not a Melograph catalog; restore a backup with "
                       f"{RESTORE_COMMAND}, move it aside (Melograph then starts a new one) or use another --data-dir"),
    ("malformed", f"the file is damaged; restore a backup with {RESTORE_COMMAND}"),
    ("disk i/o", "the disk could not be read or written (is it full?); check it and try again"),
)


def _error(exc: sqlite3.Error, path: Path, doing: str | None = None) -> CatalogError:
    """``exc`` as one line: ``<path>: [<doing>: ]<SQLite's words> (<advice>)``."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    advice = next((a for words, a in _ADVICE if words in text.lower()), None)
    return CatalogError(f"{path}: {doing + ': ' if doing else ''}{text}" + (f" ({advice})" if advice else ""))


def backup_files(path: str | os.PathLike) -> list[Path]:
    """The rolling backups of the file at ``path`` (``<name>.bak-v<version>-<date>-<time>[~n]``
    beside it), newest first (by modification time, then by the time and number in the name)."""
    path = Path(path)
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            m = _BACKUP_SUFFIX.fullmatch(entry.name[len(path.name):]) if entry.name.startswith(path.name) else None
            if m:
                with contextlib.suppress(OSError):
                    found.append((entry.stat().st_mtime_ns, m.group(2), int((m.group(3) or "~0")[1:]), entry.name))
    return [path.parent / f[-1] for f in sorted(found, reverse=True)]


def backup_version(path: str | os.PathLike) -> int | None:
    """The schema version a backup's name records (None for another name)."""
    m = _BACKUP_SUFFIX.search(Path(path).name)
    return int(m.group(1)) if m else None


def file_problems(path: str | os.PathLike, *, full: bool = False, immutable: bool = False,
                  timeout: float = 15.0) -> list[str]:
    """What SQLite's ``quick_check`` (``integrity_check`` with ``full``) finds wrong in the
    database file at ``path``: empty when it is sound.  Reads only: on a plain connection that
    sets no pragma, or with ``immutable`` (a file nobody writes, such as a backup) without even
    a lock.  A file SQLite cannot read at all gives its reason as the one problem; a locked or
    unreadable file raises :class:`CatalogError`."""
    path = Path(path)
    if not path.is_file():
        return [f"no such file: {path}"]
    uri = f"file:{path.as_posix()}?{'immutable=1' if immutable else 'mode=ro'}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _error(exc, path, "cannot read the file") from exc
    try:
        rows = conn.execute(f"PRAGMA {'integrity_check' if full else 'quick_check'}(20)").fetchall()
        problems = [" ".join(str(r[0]).split()) for r in rows]
        return [p for p in problems if p != "ok" and not p.startswith("*** in database")]
    except sqlite3.DatabaseError as exc:
        text = " ".join(str(exc).split()).lower()
        if any(w in text for w in ("locked", "busy", "unable to open", "disk i/o", "readonly")):
            raise _error(exc, path, "cannot read the file") from exc
        return [" ".join(str(exc).split())]
    finally:
        conn.close()


def read_rows(path: str | os.PathLike, sql: str, params: Sequence = ()) -> tuple[list[tuple], str | None]:
    """The rows of a query on the file at ``path``, read-only (a damaged file too): as many as
    SQLite gives before it stops at damage.  ``(rows, None)``, or ``(rows read so far, the
    reason it stopped)``."""
    path = Path(path)
    rows: list[tuple] = []
    try:
        conn = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        return rows, " ".join(str(exc).split())
    try:
        cur = conn.execute(sql, params)
        while True:
            row = cur.fetchone()
            if row is None:
                return rows, None
            rows.append(row)
    except sqlite3.Error as exc:
        return rows, " ".join(str(exc).split())
    finally:
        conn.close()


def _backup_to_file(conn: sqlite3.Connection, dest: Path) -> None:
    """Copy the database behind ``conn`` into the new file ``dest`` with SQLite's backup API, in
    rollback-journal mode (one self-contained file).  On any failure nothing is left at ``dest``."""
    try:
        target = sqlite3.connect(dest)
        try:
            conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
    except BaseException:
        for leftover in (dest, Path(f"{dest}-journal"), Path(f"{dest}-wal"), Path(f"{dest}-shm")):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise


def copy_database(source: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Copy the database file ``source`` (read as immutable: a backup nobody writes) to a new
    file ``dest``.  CatalogError on failure (nothing left at ``dest``)."""
    source, dest = Path(source), Path(dest)
    try:
        src = sqlite3.connect(f"file:{source.as_posix()}?immutable=1", uri=True)
        try:
            _backup_to_file(src, dest)
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise _error(exc, source, "cannot copy it") from exc


def damaged_message(path: Path, problems: Sequence[str]) -> str:
    """One line: the file is damaged, what SQLite found first, and the way back."""
    first = problems[0] if problems else "integrity check failed"
    more = f" and {len(problems) - 1} more problem(s)" if len(problems) > 1 else ""
    backups = backup_files(path)
    if backups:
        taken = time.strftime("%Y-%m-%d %H:%M", time.localtime(backups[0].stat().st_mtime))
        way = f"restore the newest good backup (from {taken} or earlier) with: {RESTORE_COMMAND}"
    else:
        way = (f"it has no backup: {RESTORE_COMMAND} starts a new catalog with the likes and profiles "
               "it can still read")
    return f"{path}: the catalog is damaged ({first}{more}); nothing was written to it; {way}"


class Database:
    """A SQLite file, safe to share between threads (each gets its own connection).

    ``Database(path, migrations)`` opens it (creating it if needed) and migrates it to
    ``target_version`` (default: the newest of ``migrations``).  ``check``: refuse a damaged
    file (:class:`CatalogDamaged`).  ``keep_backups``: how many rolling backups to keep beside
    it (0: take none, not even before a migration).  ``backed_up`` is the backup taken while
    opening, if one was.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        migrations: Sequence[Migration],
        *,
        target_version: int | None = None,
        timeout: float = 15.0,
        check: bool = True,
        keep_backups: int = KEEP_BACKUPS,
    ):
        self.path = Path(path)
        self._timeout = float(timeout)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._migrations = list(migrations)
        # a backup opened as a catalog gets no backups of its own
        self._keep_backups = 0 if _BACKUP_SUFFIX.search(self.path.name) else max(0, int(keep_backups))
        self.backed_up: Path | None = None
        target = len(self._migrations) if target_version is None else int(target_version)
        if not 0 <= target <= len(self._migrations):
            raise CatalogError(f"no such schema version {target}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            existed = self.path.is_file() and self.path.stat().st_size > 0
            if check and existed:
                problems = file_problems(self.path, timeout=self._timeout)
                if problems and any(w in problems[0].lower() for w in ("not a database", "encrypted")):
                    raise sqlite3.DatabaseError(problems[0])  # not (or no longer) an SQLite file at all
                if problems:
                    raise CatalogDamaged(damaged_message(self.path, problems), problems)
            migrated = self._migrate(target)
            if existed and not migrated and self._keep_backups:
                self._backup_if_due()
        except (sqlite3.Error, OSError) as exc:
            self.close()
            if isinstance(exc, OSError):
                raise CatalogError(f"{self.path}: cannot open the catalog: {exc.strerror or exc} "
                                   "(check that its folder is writable, or use another --data-dir)") from exc
            raise _error(exc, self.path, "cannot open the catalog") from exc
        except BaseException:
            self.close()
            raise

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise CatalogError("the catalog is closed")
            try:
                conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                                       check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":  # e.g. a file system without shared memory
                    conn.close()
                    raise CatalogError(f"{self.path}: cannot use WAL mode (got {mode}); "
                                       "put the catalog on a local disk (--data-dir)")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
            except sqlite3.Error as exc:
                raise _error(exc, self.path, "cannot open the catalog") from exc
            self._local.conn = conn
            self._local.depth = 0
            with self._all_lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection.  Call once, when nothing else uses the catalog."""
        self._closed = True
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()

    def release_thread(self) -> None:
        """Close the calling thread's connection (call at the end of a short-lived worker thread;
        the next use from this thread opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions and statements ---------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator:
        """``with db.transaction():`` -- all or nothing.  Nested blocks join the outer one."""
        conn = self._conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield self
            finally:
                self._local.depth -= 1
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _error(exc, self.path) from exc
        self._local.depth = 1
        try:
            yield self
        except BaseException:
            self._local.depth = 0
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        self._local.depth = 0
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise _error(exc, self.path) from exc

    def execute(self, sql: str, params: Sequence | Mapping = ()) -> int:
        """Run one statement; returns the row count (or lastrowid for an INSERT)."""
        try:
            cur = self._conn().execute(sql, params)
        except sqlite3.Error as exc:
            raise _error(exc, self.path) from exc
        return cur.lastrowid if sql.lstrip()[:6].upper() == "INSERT" else cur.rowcount

    def executemany(self, sql: str, rows: Iterable[Sequence | Mapping]) -> None:
        try:
            self._conn().executemany(sql, rows)
        except sqlite3.Error as exc:
            raise _error(exc, self.path) from exc

    def fetchall(self, sql: str, params: Sequence | Mapping = ()) -> list[tuple]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _error(exc, self.path) from exc

    def fetchone(self, sql: str, params: Sequence | Mapping = ()) -> tuple | None:
        try:
            return self._conn().execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise _error(exc, self.path) from exc

    def backup(self) -> Path:
        """Copy the file now (SQLite's online backup API: a consistent snapshot while others
        write) to ``<file>.bak-v<version>-<date>-<time>`` beside it, and drop the oldest beyond
        ``keep_backups`` (at least one is kept: this one).  Returns the copy's path."""
        try:
            return self._backup(self._conn(), self.schema_version, keep=max(1, self._keep_backups))
        except (sqlite3.Error, OSError) as exc:
            if isinstance(exc, OSError):
                raise CatalogError(f"{self.path}: cannot back up the catalog: {exc.strerror or exc}") from exc
            raise _error(exc, self.path, "cannot back up the catalog") from exc

    def integrity_problems(self) -> list[str]:
        """``PRAGMA integrity_check`` + ``foreign_key_check`` findings (empty when all is well)."""
        out = [r[0] for r in self.fetchall("PRAGMA integrity_check") if r[0] != "ok"]
        out += [f"foreign key: {r}" for r in self.fetchall("PRAGMA foreign_key_check")]
        return out

    # -- schema ------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self.fetchone("PRAGMA user_version")[0])

    def _migrate(self, target: int) -> bool:
        """Run the missing migrations; True when there were any.  An existing file (version
        above 0) is backed up first; if that fails, steps flagged ``rewrites_data`` do not run."""
        conn = self._conn()
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if current > len(self._migrations):
            raise CatalogError(
                f"{self.path} has schema version {current}, newer than this Melograph knows "
                f"({len(self._migrations)}); update Melograph or use another --data-dir"
            )
        if current >= target:
            return False
        if current > 0 and self._keep_backups:
            try:  # outside any transaction (the backup API reads a consistent snapshot itself)
                self.backed_up = self._backup(conn, current, keep=self._keep_backups)
            except (sqlite3.Error, OSError) as exc:
                if any(step.rewrites_data for step in self._migrations[current:target]):
                    raise CatalogError(f"{self.path}: cannot back up the catalog before updating it "
                                       f"({' '.join(str(exc).split())}); free some space, then try again") from exc
                log.warning("%s: no backup before updating the catalog: %s", self.path, exc)
        conn.execute("PRAGMA foreign_keys = OFF")  # migrations may rebuild tables
        try:
            for version in range(current, target):
                step = self._migrations[version]
                conn.execute("BEGIN IMMEDIATE")
                # another process may have migrated while we waited for the lock
                now = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if now > version:
                    conn.execute("COMMIT")
                    continue
                try:
                    step.apply(conn)
                    bad = conn.execute("PRAGMA foreign_key_check").fetchall()
                    if bad:
                        raise CatalogError(f"migration {step.name} broke foreign keys: {bad[:3]}")
                    conn.execute(f"PRAGMA user_version = {version + 1}")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        finally:
            conn.execute("PRAGMA foreign_keys = ON")
        return True

    def _backup_if_due(self) -> None:
        """The daily backup: taken when the newest is more than :data:`BACKUP_EVERY` old (or
        there is none).  A failure (a full disk, a read-only folder) does not stop the open;
        ``catalog check`` shows how old the newest backup is."""
        newest = backup_files(self.path)[:1]
        with contextlib.suppress(OSError):
            if newest and time.time() - newest[0].stat().st_mtime < BACKUP_EVERY:
                return
        try:
            conn = self._conn()
            self.backed_up = self._backup(conn, int(conn.execute("PRAGMA user_version").fetchone()[0]),
                                          keep=self._keep_backups)
        except (sqlite3.Error, OSError) as exc:
            log.info("%s: no daily backup this time: %s", self.path, exc)

    def _backup(self, conn: sqlite3.Connection, version: int, *, keep: int) -> Path:
        """Copy the file (at schema ``version``) beside it, then keep the newest ``keep``
        backups.  The copy is written under a ``.part`` name and renamed when complete; a failed
        copy leaves nothing."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        dest = self.path.with_name(f"{self.path.name}.bak-v{version}-{stamp}")
        # several in one second: numbered after the highest number that second has
        taken = [int((m.group(3) or "~0")[1:]) for m in map(_BACKUP_SUFFIX.search, map(str, backup_files(self.path)))
                 if m and m.group(2) == stamp]
        if taken or dest.exists():
            dest = dest.with_name(f"{dest.name}~{max(taken, default=0) + 1}")
        part = dest.with_name(dest.name + ".part")
        _backup_to_file(conn, part)
        os.replace(part, dest)
        for old in backup_files(self.path)[max(1, keep):]:
            if old != dest:
                with contextlib.suppress(OSError):
                    old.unlink()
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.path.parent):
                if (entry.name.startswith(self.path.name) and _PART_SUFFIX.fullmatch(entry.name[len(self.path.name):])
                        and time.time() - entry.stat().st_mtime > 3600):
                    os.unlink(entry.path)
        return dest
