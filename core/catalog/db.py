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
* The schema version is ``PRAGMA user_version``.  Opening runs the missing :class:`Migration` s
  in order: the one at index ``i`` takes version ``i`` to ``i + 1`` in its own transaction.  One
  flagged ``rewrites_data`` gets a copy of the file first (SQLite's online backup API), named
  ``<file>.bak-v<i>-<date>-<time>`` beside it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence


class CatalogError(Exception):
    """The catalog cannot be opened or used (newer schema, damaged file, full disk, bad
    argument): one sentence, with what to do where there is something to do."""


@dataclasses.dataclass(frozen=True)
class Migration:
    """One step of the schema: ``apply(conn)`` runs inside the step's transaction."""

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
    ("not a database", "the file is damaged or is not a Melograph catalog; move it aside "
                       "(Melograph then starts a new one) or use another --data-dir"),
    ("malformed", "the file is damaged; move it aside (Melograph then starts a new one) "
                  "or restore a copy of it (a .bak-v* file beside it)"),
    ("disk i/o", "the disk could not be read or written; check it and try again"),
)


def _error(exc: sqlite3.Error, path: Path, doing: str | None = None) -> CatalogError:
    """``exc`` as one line: ``<path>: [<doing>: ]<SQLite's words> (<advice>)``."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    advice = next((a for words, a in _ADVICE if words in text.lower()), None)
    return CatalogError(f"{path}: {doing + ': ' if doing else ''}{text}" + (f" ({advice})" if advice else ""))


class Database:
    """A SQLite file, safe to share between threads (each gets its own connection).

    ``Database(path, migrations)`` opens it (creating it if needed) and migrates it to
    ``target_version`` (default: the newest of ``migrations``).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        migrations: Sequence[Migration],
        *,
        target_version: int | None = None,
        timeout: float = 15.0,
    ):
        self.path = Path(path)
        self._timeout = float(timeout)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._migrations = list(migrations)
        target = len(self._migrations) if target_version is None else int(target_version)
        if not 0 <= target <= len(self._migrations):
            raise CatalogError(f"no such schema version {target}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._migrate(target)
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

    def integrity_problems(self) -> list[str]:
        """``PRAGMA integrity_check`` + ``foreign_key_check`` findings (empty when all is well)."""
        out = [r[0] for r in self.fetchall("PRAGMA integrity_check") if r[0] != "ok"]
        out += [f"foreign key: {r}" for r in self.fetchall("PRAGMA foreign_key_check")]
        return out

    # -- schema ------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self.fetchone("PRAGMA user_version")[0])

    def _migrate(self, target: int) -> None:
        conn = self._conn()
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if current > len(self._migrations):
            raise CatalogError(
                f"{self.path} has schema version {current}, newer than this Melograph knows "
                f"({len(self._migrations)}); update Melograph or use another --data-dir"
            )
        if current >= target:
            return
        conn.execute("PRAGMA foreign_keys = OFF")  # migrations may rebuild tables
        try:
            for version in range(current, target):
                step = self._migrations[version]
                if step.rewrites_data and version > 0:
                    # outside any transaction (the backup API reads a consistent snapshot itself)
                    self._backup(conn, version)
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

    def _backup(self, conn: sqlite3.Connection, version: int) -> Path:
        """Copy the file (at schema ``version``) beside it before a migration rewrites data."""
        dest = self.path.with_name(f"{self.path.name}.bak-v{version}-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while dest.exists():
            dest = dest.with_name(dest.name.split("~")[0] + f"~{n}")
            n += 1
        target = sqlite3.connect(dest)
        try:
            conn.backup(target)
        finally:
            target.close()
        return dest
