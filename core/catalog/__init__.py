"""The catalog: Melograph's SQLite database.  The only module that imports ``sqlite3``.

Shape (DESIGN.md, "The catalog"):

* WAL mode, foreign keys on, ``busy_timeout`` so several processes (the app, analysis workers,
  the CLI) can share one file; one connection per thread (``threading.local``), so the UI thread
  can read while a scan thread writes.
* ``with catalog.transaction():`` groups writes (``BEGIN IMMEDIATE``; nested blocks join the
  outer one); a crash never leaves half a track.
* The schema version lives in ``PRAGMA user_version``.  ``MIGRATIONS`` is an ordered list; the
  migration at index ``i`` takes the schema from version ``i`` to ``i + 1``, in its own
  transaction, at open.  A migration flagged ``rewrites_data`` gets a backup copy of the database
  first (``catalog.sqlite3.bak-v<k>-<time>``).  Adding one is one decorated function::

      @migration(rewrites_data=False)
      def _v2_analysis(db):
          db.executescript("CREATE TABLE analysis(...);")

* Likes/dislikes (``ratings``) point at the track row (``track_id``; a row keeps its id through a
  rename or a move, and is only marked missing when its file disappears) and also keep the
  track's content fingerprint, artist, title and duration.  If the row is ever deleted
  (:meth:`Catalog.purge_missing`) the rating stays, detached, and is re-attached when a track
  with the same fingerprint -- or failing that the same artist + title and a duration within
  2 s -- is added again.  A rating is never deleted except by ``set_rating(track_id, 0)`` (or by
  deleting its profile).
* Ratings belong to a **profile** (people sharing a computer; schema v3): ``profiles`` holds the
  names, ``ratings`` one row per (profile, track).  The profile named ``default`` always exists
  (likes from before profiles are its), and cannot be removed or renamed.  Every rating call
  takes ``profile=NAME``; without it, the catalog's current profile :attr:`Catalog.profile` is
  meant (``"default"`` unless the app switched it) -- that is also whose rating
  ``Track.rating`` carries.  A detached rating re-attaches per profile.

Timestamps are Unix seconds (float).  Paths are absolute ``str``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

__all__ = [
    "Catalog",
    "CatalogError",
    "Track",
    "Rating",
    "Failure",
    "Library",
    "Profile",
    "DEFAULT_PROFILE",
    "check_profile_name",
    "MIGRATIONS",
    "Migration",
    "migration",
    "TRACK_FIELDS",
    "SORT_KEYS",
]


class CatalogError(Exception):
    """The catalog cannot be opened or used (newer schema, corrupt file, bad argument)."""


# --------------------------------------------------------------------------------------------
# Migrations
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[sqlite3.Connection], None]
    rewrites_data: bool = False


#: Ordered: MIGRATIONS[i] takes user_version i -> i + 1.  Append only; never edit a shipped one.
MIGRATIONS: list[Migration] = []


def migration(*, rewrites_data: bool = False, into: list[Migration] | None = None):
    """Decorator appending ``fn(conn)`` to ``MIGRATIONS`` (or ``into``) as the next version."""

    def register(fn: Callable[[sqlite3.Connection], None]):
        (MIGRATIONS if into is None else into).append(Migration(fn.__name__, fn, rewrites_data))
        return fn

    return register


@migration()
def _v1_core(db: sqlite3.Connection) -> None:
    # executescript would COMMIT; run the statements one by one inside the migration transaction
    for statement in _V1_SQL.split(";"):
        if statement.strip():
            db.execute(statement)


_V1_SQL = """
CREATE TABLE libraries (
    id              INTEGER PRIMARY KEY,
    root            TEXT    NOT NULL UNIQUE,
    added_at        REAL    NOT NULL,
    last_scanned_at REAL
);
CREATE TABLE tracks (
    id              INTEGER PRIMARY KEY,
    path            TEXT    NOT NULL UNIQUE,
    size            INTEGER NOT NULL,
    mtime_ns        INTEGER NOT NULL,
    fingerprint     TEXT    NOT NULL,
    format          TEXT,
    codec           TEXT,
    duration        REAL,
    sample_rate     INTEGER,
    channels        INTEGER,
    bitrate         INTEGER,
    bits_per_sample INTEGER,
    title           TEXT,
    artist          TEXT,
    album           TEXT,
    album_artist    TEXT,
    track_no        INTEGER,
    track_total     INTEGER,
    disc_no         INTEGER,
    disc_total      INTEGER,
    year            INTEGER,
    genre_tag       TEXT,
    search_text     TEXT    NOT NULL DEFAULT '',
    added_at        REAL    NOT NULL,
    updated_at      REAL    NOT NULL,
    last_seen_at    REAL    NOT NULL,
    missing         INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1)),
    missing_since   REAL
);
CREATE INDEX tracks_fingerprint ON tracks(fingerprint);
CREATE INDEX tracks_missing ON tracks(missing);
CREATE TABLE scan_failures (
    path      TEXT    PRIMARY KEY,
    kind      TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    size      INTEGER,
    mtime_ns  INTEGER,
    failed_at REAL    NOT NULL
);
CREATE TABLE ratings (
    id          INTEGER PRIMARY KEY,
    track_id    INTEGER UNIQUE REFERENCES tracks(id) ON DELETE SET NULL,
    rating      INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    rated_at    REAL    NOT NULL,
    fingerprint TEXT,
    artist      TEXT,
    title       TEXT,
    duration    REAL
);
CREATE INDEX ratings_fingerprint ON ratings(fingerprint);
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT
)
"""


@migration()
def _v2_analysis(db: sqlite3.Connection) -> None:
    """Genre analysis results (keyed by the file's content fingerprint + the model's version, so
    a moved file keeps them and a new model re-analyses) and the durable analysis queue."""
    for statement in _V2_SQL.split(";"):
        if statement.strip():
            db.execute(statement)


_V2_SQL = """
CREATE TABLE analysis (
    fingerprint   TEXT    NOT NULL,
    model_version TEXT    NOT NULL,
    classes       TEXT    NOT NULL,
    top_genre     TEXT    NOT NULL,
    confidence    REAL    NOT NULL,
    track_probs   BLOB    NOT NULL,
    window_probs  BLOB    NOT NULL,
    embeddings    BLOB    NOT NULL,
    window_s      REAL    NOT NULL,
    hop_s         REAL    NOT NULL,
    n_windows     INTEGER NOT NULL,
    duration      REAL,
    note          TEXT,
    computed_at   REAL    NOT NULL,
    PRIMARY KEY (fingerprint, model_version)
);
CREATE TABLE analysis_queue (
    track_id      INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    fingerprint   TEXT    NOT NULL,
    model_version TEXT    NOT NULL,
    priority      INTEGER NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    owner         TEXT,
    kind          TEXT,
    last_error    TEXT,
    enqueued_at   REAL    NOT NULL,
    updated_at    REAL    NOT NULL
);
CREATE INDEX analysis_queue_next ON analysis_queue(state, priority DESC, enqueued_at, track_id)
"""


@migration(rewrites_data=True)
def _v3_rating_profiles(db: sqlite3.Connection) -> None:
    """Ratings per profile: a ``profiles`` table (with ``default``, id 1) and ``ratings`` rebuilt
    with a ``profile_id``; every existing rating goes to ``default`` (nothing dropped)."""
    db.execute(
        "CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, "
        "created_at REAL NOT NULL)"
    )
    db.execute("INSERT INTO profiles(id, name, created_at) VALUES (1, 'default', ?)", (time.time(),))
    db.execute(
        "CREATE TABLE ratings_v3 ("
        "id INTEGER PRIMARY KEY, "
        "profile_id INTEGER NOT NULL DEFAULT 1 REFERENCES profiles(id) ON DELETE CASCADE, "
        "track_id INTEGER REFERENCES tracks(id) ON DELETE SET NULL, "
        "rating INTEGER NOT NULL CHECK (rating IN (-1, 1)), "
        "rated_at REAL NOT NULL, fingerprint TEXT, artist TEXT, title TEXT, duration REAL, "
        "UNIQUE (profile_id, track_id))"
    )
    db.execute(
        "INSERT INTO ratings_v3(id, profile_id, track_id, rating, rated_at, fingerprint, artist, title, duration) "
        "SELECT id, 1, track_id, rating, rated_at, fingerprint, artist, title, duration FROM ratings"
    )
    before = db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0]
    after = db.execute("SELECT COUNT(*) FROM ratings_v3").fetchone()[0]
    if before != after:  # cannot happen (no constraint got stricter); never drop a like silently
        raise CatalogError(f"migration v3 would keep {after} of {before} ratings")
    db.execute("DROP TABLE ratings")
    db.execute("ALTER TABLE ratings_v3 RENAME TO ratings")
    db.execute("CREATE INDEX ratings_fingerprint ON ratings(fingerprint)")
    db.execute("CREATE INDEX ratings_track ON ratings(track_id)")


# --------------------------------------------------------------------------------------------
# Row types
# --------------------------------------------------------------------------------------------

#: Columns a caller may give to add_track / update_track.
TRACK_FIELDS = (
    "path", "size", "mtime_ns", "fingerprint", "format", "codec", "duration", "sample_rate",
    "channels", "bitrate", "bits_per_sample", "title", "artist", "album", "album_artist",
    "track_no", "track_total", "disc_no", "disc_total", "year", "genre_tag",
)


@dataclasses.dataclass(frozen=True)
class Track:
    id: int
    path: str
    size: int
    mtime_ns: int
    fingerprint: str
    format: str | None
    codec: str | None
    duration: float | None
    sample_rate: int | None
    channels: int | None
    bitrate: int | None
    bits_per_sample: int | None
    title: str | None
    artist: str | None
    album: str | None
    album_artist: str | None
    track_no: int | None
    track_total: int | None
    disc_no: int | None
    disc_total: int | None
    year: int | None
    genre_tag: str | None
    added_at: float
    updated_at: float
    last_seen_at: float
    missing: bool
    missing_since: float | None
    rating: int = 0  # +1 liked, -1 disliked, 0 neither

    @property
    def display_title(self) -> str:
        return self.title or os.path.splitext(os.path.basename(self.path))[0]


_TRACK_COLUMNS = [f.name for f in dataclasses.fields(Track) if f.name != "rating"]
#: the first parameter is the profile id whose rating ``Track.rating`` carries
_TRACK_FROM = "FROM tracks t LEFT JOIN ratings r ON r.track_id = t.id AND r.profile_id = ?"
_TRACK_SELECT = "SELECT " + ", ".join(f"t.{c}" for c in _TRACK_COLUMNS) + ", COALESCE(r.rating, 0) " + _TRACK_FROM


def _track(row: Sequence) -> Track:
    values = list(row)
    values[_TRACK_COLUMNS.index("missing")] = bool(values[_TRACK_COLUMNS.index("missing")])
    return Track(*values)


@dataclasses.dataclass(frozen=True)
class Rating:
    track_id: int | None  # None: detached (its track row was purged); re-attached on re-add
    rating: int  # +1 or -1
    rated_at: float
    fingerprint: str | None
    artist: str | None
    title: str | None
    duration: float | None
    path: str | None  # the track's current path (None when detached)
    missing: bool


@dataclasses.dataclass(frozen=True)
class Profile:
    id: int
    name: str
    created_at: float
    liked: int = 0
    disliked: int = 0

    def as_dict(self) -> dict:
        return {"name": self.name, "created_at": self.created_at, "liked": self.liked, "disliked": self.disliked}


DEFAULT_PROFILE = "default"
_PROFILE_NAME = re.compile(r"^\w[\w .-]{0,63}$", re.UNICODE)


def check_profile_name(name: str) -> str:
    """The name, stripped; :class:`CatalogError` (a sentence) when it cannot name a profile.  A
    name also names a folder of model files, so: letters, digits, spaces, '.', '-', '_'."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not _PROFILE_NAME.match(name) or name.endswith((".", " ")):
        raise CatalogError(f"invalid profile name {name!r}: use letters, digits, spaces, '.', '-' or '_' "
                           "(at most 64 characters, starting with a letter or digit)")
    return name


@dataclasses.dataclass(frozen=True)
class Failure:
    path: str
    kind: str  # core.errors kinds: unreadable, unsupported, decode_failed, too_short
    reason: str
    failed_at: float
    size: int | None = None
    mtime_ns: int | None = None

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "reason": self.reason, "failed_at": self.failed_at}


@dataclasses.dataclass(frozen=True)
class Library:
    id: int
    root: str
    added_at: float
    last_scanned_at: float | None


#: sort key -> ORDER BY clause (tracks table alias ``t``); NULLs always sort last.
SORT_KEYS: dict[str, str] = {
    "artist": "t.artist IS NULL, t.artist COLLATE NOCASE {d}, t.album COLLATE NOCASE, t.disc_no, t.track_no, t.path",
    "album": "t.album IS NULL, t.album COLLATE NOCASE {d}, t.disc_no, t.track_no, t.path",
    "title": "t.title IS NULL, t.title COLLATE NOCASE {d}, t.path",
    "album_artist": "t.album_artist IS NULL, t.album_artist COLLATE NOCASE {d}, t.album COLLATE NOCASE, t.disc_no, t.track_no",
    "year": "t.year IS NULL, t.year {d}, t.artist COLLATE NOCASE, t.album COLLATE NOCASE, t.track_no",
    "genre": "t.genre_tag IS NULL, t.genre_tag COLLATE NOCASE {d}, t.artist COLLATE NOCASE",
    "duration": "t.duration IS NULL, t.duration {d}, t.path",
    "track_no": "t.disc_no {d}, t.track_no {d}, t.path",
    "added": "t.added_at {d}, t.id {d}",
    "path": "t.path {d}",
    "format": "t.format {d}, t.path",
    "bitrate": "t.bitrate IS NULL, t.bitrate {d}, t.path",
    "rating": "COALESCE(r.rating, 0) {d}, t.artist COLLATE NOCASE, t.title COLLATE NOCASE",
    "id": "t.id {d}",
}

_TEXT_FIELDS = ("title", "artist", "album", "album_artist")


def _search_text(fields: Mapping[str, Any]) -> str:
    parts = [str(fields.get(k) or "") for k in _TEXT_FIELDS]
    parts.append(os.path.basename(str(fields.get("path") or "")))
    return " ".join(p for p in parts if p).casefold()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix_range(root: str) -> tuple[str, str]:
    """(lo, hi) such that lo <= path < hi selects exactly the paths below folder ``root``."""
    root = root.rstrip(os.sep) or os.sep
    prefix = root if root.endswith(os.sep) else root + os.sep
    return prefix, prefix[:-1] + chr(ord(os.sep) + 1)


# --------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------


class Catalog:
    """A catalog file.  Safe to share between threads (each gets its own connection).

    ``Catalog(path)`` opens (creating it if needed) and migrates to the newest schema.
    ``migrations`` and ``target_version`` exist for tests of the migrations themselves.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        migrations: Sequence[Migration] | None = None,
        target_version: int | None = None,
        timeout: float = 15.0,
    ):
        self.path = Path(path)
        self._timeout = float(timeout)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._profile = DEFAULT_PROFILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        target = len(self._migrations) if target_version is None else int(target_version)
        if not 0 <= target <= len(self._migrations):
            raise CatalogError(f"no such schema version {target}")
        try:
            self._migrate(target)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise CatalogError(f"{self.path}: cannot open the catalog: {exc}") from exc
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, data_dir: str | os.PathLike | None = None) -> "Catalog":
        """The catalog in ``data_dir`` (else $MELOGRAPH_DATA_DIR, else the user's data dir)."""
        from core.paths import catalog_path

        return cls(catalog_path(data_dir))

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise CatalogError("the catalog is closed")
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # e.g. a file system without shared memory
                raise CatalogError(f"{self.path}: cannot use WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
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

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Catalog"]:
        """``with catalog.transaction():`` -- all or nothing.  Nested blocks join the outer one."""
        conn = self._conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield self
            finally:
                self._local.depth -= 1
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield self
        except BaseException:
            self._local.depth = 0
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        else:
            self._local.depth = 0
            conn.execute("COMMIT")

    # Generic access for tables added by later migrations (analysis, queue, profiles).  Other
    # modules pass SQL text and plain values; they never import sqlite3.

    def execute(self, sql: str, params: Sequence | Mapping = ()) -> int:
        """Run one statement; returns the row count (or lastrowid for an INSERT)."""
        cur = self._conn().execute(sql, params)
        return cur.lastrowid if sql.lstrip()[:6].upper() == "INSERT" else cur.rowcount

    def executemany(self, sql: str, rows: Iterable[Sequence | Mapping]) -> None:
        self._conn().executemany(sql, rows)

    def fetchall(self, sql: str, params: Sequence | Mapping = ()) -> list[tuple]:
        return self._conn().execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Sequence | Mapping = ()) -> tuple | None:
        return self._conn().execute(sql, params).fetchone()

    # -- schema ------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._conn().execute("PRAGMA user_version").fetchone()[0])

    @property
    def latest_version(self) -> int:
        return len(self._migrations)

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

    # -- libraries ---------------------------------------------------------------------------

    def add_library(self, root: str | os.PathLike) -> int:
        root = os.path.abspath(os.fspath(root))
        with self.transaction():
            row = self.fetchone("SELECT id FROM libraries WHERE root = ?", (root,))
            if row:
                return row[0]
            return self.execute("INSERT INTO libraries(root, added_at) VALUES (?, ?)", (root, time.time()))

    def remove_library(self, root: str | os.PathLike) -> bool:
        """Forget a root folder (its tracks and likes stay)."""
        return bool(self.execute("DELETE FROM libraries WHERE root = ?", (os.path.abspath(os.fspath(root)),)))

    def library_roots(self) -> list[Library]:
        return [Library(*r) for r in self.fetchall("SELECT id, root, added_at, last_scanned_at FROM libraries ORDER BY root")]

    def mark_library_scanned(self, root: str | os.PathLike, when: float | None = None) -> None:
        self.execute(
            "UPDATE libraries SET last_scanned_at = ? WHERE root = ?",
            (time.time() if when is None else when, os.path.abspath(os.fspath(root))),
        )

    # -- tracks ------------------------------------------------------------------------------

    def add_track(self, fields: Mapping[str, Any], *, now: float | None = None, reattach: bool = True) -> int:
        """Insert a track (``path``, ``size``, ``mtime_ns``, ``fingerprint`` required; other
        TRACK_FIELDS optional).  Re-attaches a detached rating that matches (``reattach=False``
        skips the look-up: for bulk inserts when :meth:`has_detached_ratings` is False).
        Returns its id."""
        now = time.time() if now is None else now
        cols = [k for k in TRACK_FIELDS if k in fields]
        for required in ("path", "size", "mtime_ns", "fingerprint"):
            if required not in fields:
                raise CatalogError(f"add_track: {required} is required")
        values = [fields[k] for k in cols]
        cols += ["search_text", "added_at", "updated_at", "last_seen_at"]
        values += [_search_text(fields), now, now, now]
        with self.transaction():
            track_id = self.execute(
                f"INSERT INTO tracks({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values
            )
            if reattach:
                self._reattach_rating(track_id, fields)
        return track_id

    def has_detached_ratings(self) -> bool:
        return self.fetchone("SELECT EXISTS (SELECT 1 FROM ratings WHERE track_id IS NULL)")[0] == 1

    def update_track(self, track_id: int, fields: Mapping[str, Any], *, now: float | None = None) -> None:
        """Change a track's columns (any of TRACK_FIELDS).  Clears its missing flag: the caller
        has just seen the file.  Keeps its rating's fingerprint/artist/title in step."""
        now = time.time() if now is None else now
        bad = set(fields) - set(TRACK_FIELDS)
        if bad:
            raise CatalogError(f"update_track: unknown fields {sorted(bad)}")
        with self.transaction():
            current = self.get_track(track_id)
            if current is None:
                raise CatalogError(f"no track {track_id}")
            merged = dataclasses.asdict(current) | dict(fields)
            cols = list(fields) + ["search_text", "updated_at", "last_seen_at", "missing", "missing_since"]
            values = [fields[k] for k in fields] + [_search_text(merged), now, now, 0, None]
            self.execute(
                f"UPDATE tracks SET {', '.join(c + ' = ?' for c in cols)} WHERE id = ?", values + [track_id]
            )
            self.execute(
                "UPDATE ratings SET fingerprint = ?, artist = ?, title = ?, duration = ? WHERE track_id = ?",
                (merged["fingerprint"], merged["artist"], merged["title"], merged["duration"], track_id),
            )

    def get_track(self, track_id: int, *, profile: str | None = None) -> Track | None:
        """The track (its ``rating`` is ``profile``'s, default the current profile)."""
        row = self.fetchone(_TRACK_SELECT + " WHERE t.id = ?", (self._pid_or_none(profile), int(track_id)))
        return _track(row) if row else None

    def track_by_path(self, path: str | os.PathLike, *, profile: str | None = None) -> Track | None:
        row = self.fetchone(_TRACK_SELECT + " WHERE t.path = ?",
                            (self._pid_or_none(profile), os.path.abspath(os.fspath(path))))
        return _track(row) if row else None

    def tracks_by_fingerprint(self, fingerprint: str, *, profile: str | None = None) -> list[Track]:
        return [_track(r) for r in self.fetchall(_TRACK_SELECT + " WHERE t.fingerprint = ? ORDER BY t.id",
                                                 (self._pid_or_none(profile), fingerprint))]

    def tracks(
        self,
        text: str | None = None,
        *,
        sort: str = "artist",
        descending: bool = False,
        include_missing: bool = False,
        root: str | os.PathLike | None = None,
        rating: int | None = None,
        limit: int | None = None,
        offset: int = 0,
        profile: str | None = None,
    ) -> list[Track]:
        """Tracks matching every word of ``text`` (in title, artist, album, album artist or file
        name; case-insensitive, any script), under ``root`` if given, with ``rating`` (+1/-1/0) if
        given, sorted by one of SORT_KEYS.  Ratings are ``profile``'s (default: the current one)."""
        if sort not in SORT_KEYS:
            raise CatalogError(f"unknown sort key {sort!r}; one of {', '.join(SORT_KEYS)}")
        where, params = self._filters(text, include_missing, root, rating)
        params = [self._pid_or_none(profile), *params]
        sql = _TRACK_SELECT + where + " ORDER BY " + SORT_KEYS[sort].format(d="DESC" if descending else "ASC")
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [int(limit), int(offset)]
        return [_track(r) for r in self.fetchall(sql, params)]

    def track_count(
        self, text: str | None = None, *, include_missing: bool = False,
        root: str | os.PathLike | None = None, rating: int | None = None, profile: str | None = None,
    ) -> int:
        where, params = self._filters(text, include_missing, root, rating)
        return self.fetchone("SELECT COUNT(*) " + _TRACK_FROM + where, [self._pid_or_none(profile), *params])[0]

    def missing_count(self, root: str | os.PathLike | None = None) -> int:
        """Tracks marked missing (below folder ``root`` when given)."""
        return self.track_count(include_missing=True, root=root) - self.track_count(root=root)

    def missing_by_fingerprint(self) -> dict[str, list[int]]:
        """fingerprint -> ids of the tracks marked missing (where a moved file may come back)."""
        out: dict[str, list[int]] = {}
        for tid, fp in self.fetchall("SELECT id, fingerprint FROM tracks WHERE missing = 1"):
            out.setdefault(fp, []).append(tid)
        return out

    @staticmethod
    def _filters(text, include_missing, root, rating) -> tuple[str, list]:
        clauses, params = [], []
        if not include_missing:
            clauses.append("t.missing = 0")
        for word in (text or "").casefold().split():
            clauses.append("t.search_text LIKE ? ESCAPE '\\'")
            params.append(f"%{_like_escape(word)}%")
        if root is not None:
            lo, hi = _prefix_range(os.path.abspath(os.fspath(root)))
            clauses.append("t.path >= ? AND t.path < ?")
            params += [lo, hi]
        if rating is not None:
            clauses.append("COALESCE(r.rating, 0) = ?")
            params.append(int(rating))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def find_track(self, ref: str | int, *, profile: str | None = None) -> Track | None:
        """A track by id (an int, or a string of digits that is not an existing file) or by path."""
        if isinstance(ref, int):
            return self.get_track(ref, profile=profile)
        ref = str(ref)
        found = self.track_by_path(ref, profile=profile)
        if found is None and ref.isdigit() and not os.path.exists(ref):
            found = self.get_track(int(ref), profile=profile)
        return found

    # -- used by the scanner -----------------------------------------------------------------

    def rows_under(self, root: str | os.PathLike) -> dict[str, tuple[int, int, int, bool, str]]:
        """path -> (id, size, mtime_ns, missing, fingerprint) for every track below ``root``."""
        lo, hi = _prefix_range(os.path.abspath(os.fspath(root)))
        rows = self.fetchall(
            "SELECT path, id, size, mtime_ns, missing, fingerprint FROM tracks WHERE path >= ? AND path < ?", (lo, hi)
        )
        return {r[0]: (r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows}

    def move_track(self, track_id: int, new_path: str, fields: Mapping[str, Any], *, now: float | None = None) -> None:
        """The file of ``track_id`` now lives at ``new_path``: same row, same id, same rating."""
        self.update_track(track_id, dict(fields) | {"path": os.path.abspath(new_path)}, now=now)

    def mark_seen(self, track_ids: Iterable[int], *, now: float | None = None) -> int:
        """Files seen unchanged: refresh last_seen_at and clear the missing flag.  Returns how
        many of them were missing before."""
        now = time.time() if now is None else now
        ids = [(int(i),) for i in track_ids]
        with self.transaction():
            conn = self._conn()
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _seen(id INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM _seen")
            conn.executemany("INSERT OR IGNORE INTO _seen(id) VALUES (?)", ids)
            restored = conn.execute(
                "UPDATE tracks SET missing = 0, missing_since = NULL WHERE missing = 1 AND id IN (SELECT id FROM _seen)"
            ).rowcount
            conn.execute("UPDATE tracks SET last_seen_at = ? WHERE id IN (SELECT id FROM _seen)", (now,))
            conn.execute("DELETE FROM _seen")
        return restored

    def mark_missing(self, track_ids: Iterable[int], *, now: float | None = None) -> int:
        """Files that are gone: flag them (rows and ratings stay).  Returns how many were newly flagged."""
        now = time.time() if now is None else now
        with self.transaction():
            n = 0
            for i in track_ids:
                n += self._conn().execute(
                    "UPDATE tracks SET missing = 1, missing_since = ? WHERE id = ? AND missing = 0", (now, int(i))
                ).rowcount
        return n

    def purge_missing(self, root: str | os.PathLike | None = None) -> int:
        """Delete the rows of missing tracks (under ``root``).  Their ratings stay, detached, and
        re-attach if the file is added again.  Returns the number of rows deleted."""
        where, params = "missing = 1", []
        if root is not None:
            lo, hi = _prefix_range(os.path.abspath(os.fspath(root)))
            where += " AND path >= ? AND path < ?"
            params = [lo, hi]
        with self.transaction():
            return self.execute(f"DELETE FROM tracks WHERE {where}", params)

    # -- profiles ----------------------------------------------------------------------------

    @property
    def profile(self) -> str:
        """The current profile: whose ratings a call without ``profile=`` means (and whose
        rating ``Track.rating`` carries).  ``"default"`` until set; setting it to a name that is
        not in the catalog raises :class:`CatalogError` (create it first)."""
        return self._profile

    @profile.setter
    def profile(self, name: str) -> None:
        name = check_profile_name(name)
        if self._profile_id(name) is None:
            raise CatalogError(f"no profile named {name!r} (profiles: {', '.join(self.profile_names())})")
        self._profile = name

    def _profile_id(self, name: str) -> int | None:
        row = self.fetchone("SELECT id FROM profiles WHERE name = ?", (name,))
        return None if row is None else int(row[0])

    def _pid(self, profile: str | None) -> int:
        """The id of ``profile`` (None: the current one); CatalogError when there is none."""
        name = self.profile if profile is None else check_profile_name(profile)
        pid = self._profile_id(name)
        if pid is None:
            raise CatalogError(f"no profile named {name!r} (profiles: {', '.join(self.profile_names())})")
        return pid

    def _pid_or_none(self, profile: str | None) -> int:
        """For reads: an unknown profile simply has no ratings (id -1 matches none)."""
        try:
            return self._pid(profile)
        except CatalogError:
            return -1

    def find_profile(self, name: str | None) -> str:
        """The stored name of profile ``name`` (names match regardless of case; None: the
        current profile).  :class:`CatalogError` saying how to create it when there is none."""
        if name is None:
            return self.profile
        name = check_profile_name(name)
        row = self.fetchone("SELECT name FROM profiles WHERE name = ?", (name,))
        if row is None:
            raise CatalogError(f"no profile named {name!r} (profiles: {', '.join(self.profile_names())}); "
                               f"create it with: python main.py profiles add {name!r}")
        return row[0]

    def profile_names(self) -> list[str]:
        """Profile names, ``default`` first, then by name (case-insensitive)."""
        return [r[0] for r in self.fetchall("SELECT name FROM profiles ORDER BY id != 1, name COLLATE NOCASE")]

    def profiles(self) -> list[Profile]:
        """Every profile with its like and dislike counts, ``default`` first."""
        rows = self.fetchall(
            "SELECT p.id, p.name, p.created_at, COALESCE(SUM(r.rating = 1), 0), COALESCE(SUM(r.rating = -1), 0) "
            "FROM profiles p LEFT JOIN ratings r ON r.profile_id = p.id GROUP BY p.id "
            "ORDER BY p.id != 1, p.name COLLATE NOCASE")
        return [Profile(*r) for r in rows]

    def has_profile(self, name: str) -> bool:
        try:
            return self._profile_id(check_profile_name(name)) is not None
        except CatalogError:
            return False

    def add_profile(self, name: str, *, exist_ok: bool = False, now: float | None = None) -> str:
        """Create a profile (names are unique regardless of case).  Returns its stored name."""
        name = check_profile_name(name)
        with self.transaction():
            row = self.fetchone("SELECT name FROM profiles WHERE name = ?", (name,))
            if row is not None:
                if exist_ok:
                    return row[0]
                raise CatalogError(f"a profile named {row[0]!r} already exists")
            self.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?)",
                         (name, time.time() if now is None else now))
        return name

    def rename_profile(self, old: str, new: str) -> str:
        """Rename a profile (its likes follow).  ``default`` keeps its name."""
        old, new = check_profile_name(old), check_profile_name(new)
        with self.transaction():
            pid = self._pid(old)
            if pid == 1:
                raise CatalogError("the default profile cannot be renamed (create another one instead)")
            clash = self._profile_id(new)
            if clash is not None and clash != pid:
                raise CatalogError(f"a profile named {new!r} already exists")
            self.execute("UPDATE profiles SET name = ? WHERE id = ?", (new, pid))
        if self.profile.casefold() == old.casefold():
            self._profile = new
        return new

    def remove_profile(self, name: str) -> int:
        """Delete a profile and its likes and dislikes (the only way besides ``set_rating(t, 0)``
        that ratings go).  ``default`` cannot be removed.  Returns how many ratings went with it."""
        name = check_profile_name(name)
        with self.transaction():
            pid = self._pid(name)
            if pid == 1:
                raise CatalogError("the default profile cannot be removed")
            n = self.execute("DELETE FROM ratings WHERE profile_id = ?", (pid,))
            self.execute("DELETE FROM profiles WHERE id = ?", (pid,))
        if self.profile.casefold() == name.casefold():
            self._profile = DEFAULT_PROFILE
        return n

    # -- ratings -----------------------------------------------------------------------------

    def set_rating(self, track_id: int, value: int, *, profile: str | None = None, now: float | None = None) -> None:
        """+1 like, -1 dislike, 0 clear, for ``profile`` (default: the current one; it must
        exist).  Stored (committed) before it returns."""
        value = int(value)
        if value not in (-1, 0, 1):
            raise CatalogError(f"a rating is +1, -1 or 0, not {value}")
        now = time.time() if now is None else now
        with self.transaction():
            pid = self._pid(profile)
            track = self.get_track(track_id)
            if track is None:
                raise CatalogError(f"no track {track_id}")
            if value == 0:
                self.execute("DELETE FROM ratings WHERE track_id = ? AND profile_id = ?", (track.id, pid))
                return
            self.execute(
                "INSERT INTO ratings(profile_id, track_id, rating, rated_at, fingerprint, artist, title, duration) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(profile_id, track_id) DO UPDATE SET "
                "rating = excluded.rating, rated_at = excluded.rated_at, fingerprint = excluded.fingerprint, "
                "artist = excluded.artist, title = excluded.title, duration = excluded.duration",
                (pid, track.id, value, now, track.fingerprint, track.artist, track.title, track.duration),
            )

    def rating(self, track_id: int, *, profile: str | None = None) -> int:
        row = self.fetchone("SELECT rating FROM ratings WHERE track_id = ? AND profile_id = ?",
                            (int(track_id), self._pid_or_none(profile)))
        return row[0] if row else 0

    def ratings(self, *, profile: str | None = None, include_detached: bool = True) -> list[Rating]:
        """``profile``'s likes/dislikes (default: the current profile's), newest first.
        ``track_id`` is None for a detached one."""
        sql = (
            "SELECT r.track_id, r.rating, r.rated_at, r.fingerprint, r.artist, r.title, r.duration, "
            "t.path, COALESCE(t.missing, 1) FROM ratings r LEFT JOIN tracks t ON t.id = r.track_id "
            "WHERE r.profile_id = ?"
        )
        if not include_detached:
            sql += " AND r.track_id IS NOT NULL"
        return [
            Rating(*r[:8], missing=bool(r[8]))
            for r in self.fetchall(sql + " ORDER BY r.rated_at DESC, r.id DESC", (self._pid_or_none(profile),))
        ]

    def _reattach_rating(self, track_id: int, fields: Mapping[str, Any]) -> None:
        """Give the new track row each profile's newest matching detached rating (by
        fingerprint, else by artist + title + duration within 2 s)."""
        if not self.has_detached_ratings():  # the usual case: one indexed look-up
            return
        found: dict[int, int] = {}  # profile id -> rating id
        for pid, rid in self.fetchall(
            "SELECT profile_id, id FROM ratings WHERE track_id IS NULL AND fingerprint = ? "
            "ORDER BY rated_at DESC, id DESC", (fields["fingerprint"],),
        ):
            found.setdefault(pid, rid)
        if fields.get("artist") and fields.get("title"):
            duration = fields.get("duration")
            for pid, rid in self.fetchall(
                "SELECT profile_id, id FROM ratings WHERE track_id IS NULL AND lower(artist) = lower(?) "
                "AND lower(title) = lower(?) AND (? IS NULL OR duration IS NULL OR abs(duration - ?) <= 2.0) "
                "ORDER BY rated_at DESC, id DESC",
                (fields["artist"], fields["title"], duration, duration),
            ):
                found.setdefault(pid, rid)  # only for profiles without a fingerprint match
        for rid in found.values():
            self.execute(
                "UPDATE ratings SET track_id = ?, fingerprint = ? WHERE id = ?", (track_id, fields["fingerprint"], rid)
            )

    # -- scan failures -----------------------------------------------------------------------

    def record_failure(
        self, path: str, kind: str, reason: str, *, size: int | None = None,
        mtime_ns: int | None = None, now: float | None = None,
    ) -> None:
        self.execute(
            "INSERT INTO scan_failures(path, kind, reason, size, mtime_ns, failed_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, failed_at = excluded.failed_at",
            (path, kind, " ".join(str(reason).split()), size, mtime_ns, time.time() if now is None else now),
        )

    def clear_failure(self, path: str) -> None:
        self.execute("DELETE FROM scan_failures WHERE path = ?", (path,))

    def clear_failures_except(self, root: str | os.PathLike, keep: Iterable[str]) -> int:
        """Forget failures below ``root`` whose path is not in ``keep`` (the file is gone)."""
        keep = set(keep)
        stale = [p for p in self.failure_map(root) if p not in keep]
        with self.transaction():
            for p in stale:
                self.clear_failure(p)
        return len(stale)

    def failures(self, root: str | os.PathLike | None = None) -> list[Failure]:
        sql = "SELECT path, kind, reason, failed_at, size, mtime_ns FROM scan_failures"
        params: list = []
        if root is not None:
            lo, hi = _prefix_range(os.path.abspath(os.fspath(root)))
            sql += " WHERE path >= ? AND path < ?"
            params = [lo, hi]
        return [Failure(*r) for r in self.fetchall(sql + " ORDER BY path", params)]

    def failure_map(self, root: str | os.PathLike) -> dict[str, Failure]:
        return {f.path: f for f in self.failures(root)}

    # -- settings ----------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self.fetchone("SELECT value FROM settings WHERE key = ?", (key,))
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        self.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    # -- counts ------------------------------------------------------------------------------

    def counts(self, *, profile: str | None = None) -> dict[str, int]:
        """tracks (present), missing, liked, disliked, detached_ratings (these three of
        ``profile``, default the current one), failures, libraries, profiles."""
        one = lambda sql, p=(): self.fetchone(sql, p)[0]  # noqa: E731
        pid = (self._pid_or_none(profile),)
        return {
            "tracks": one("SELECT COUNT(*) FROM tracks WHERE missing = 0"),
            "missing": one("SELECT COUNT(*) FROM tracks WHERE missing = 1"),
            "liked": one("SELECT COUNT(*) FROM ratings WHERE rating = 1 AND profile_id = ?", pid),
            "disliked": one("SELECT COUNT(*) FROM ratings WHERE rating = -1 AND profile_id = ?", pid),
            "detached_ratings": one("SELECT COUNT(*) FROM ratings WHERE track_id IS NULL AND profile_id = ?", pid),
            "failures": one("SELECT COUNT(*) FROM scan_failures"),
            "libraries": one("SELECT COUNT(*) FROM libraries"),
            "profiles": one("SELECT COUNT(*) FROM profiles"),
        }

    def integrity_problems(self) -> list[str]:
        """``PRAGMA integrity_check`` + ``foreign_key_check`` findings (empty when all is well)."""
        out = [r[0] for r in self.fetchall("PRAGMA integrity_check") if r[0] != "ok"]
        out += [f"foreign key: {r}" for r in self.fetchall("PRAGMA foreign_key_check")]
        return out

    # -- genre analysis (results + durable queue; used by analysis/service.py) --------------------
    #
    # ``analysis`` rows are keyed by (content fingerprint, model version): a moved file keeps its
    # result, an unchanged file is never analysed twice, a new model version analyses again.
    # Arrays are stored with :func:`pack_array` (``.npy`` bytes: dtype and shape included).
    # ``analysis_queue`` has one row per track waiting (``queued``), in a worker (``running``,
    # with its ``owner``) or given up on (``failed``, with ``kind`` and a one-line ``last_error``).

    def enqueue_analysis(
        self, model_version: str, track_ids: Iterable[int] | None = None, *, now: float | None = None
    ) -> int:
        """Queue every present track (or those of ``track_ids``) that has no result for
        ``model_version``.  A row left from another model version or another fingerprint of the
        file is queued again with its attempts reset; a failure of this very file with this model
        stays failed (:meth:`retry_analysis_failures` clears them).  Returns the rows (re)queued."""
        now = time.time() if now is None else now
        ids_clause = ""
        with self.transaction():
            conn = self._conn()
            if track_ids is not None:
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS _aq_ids(id INTEGER PRIMARY KEY)")
                conn.execute("DELETE FROM _aq_ids")
                conn.executemany("INSERT OR IGNORE INTO _aq_ids(id) VALUES (?)", [(int(i),) for i in track_ids])
                ids_clause = " AND t.id IN (SELECT id FROM _aq_ids)"
            n = conn.execute(
                "INSERT INTO analysis_queue(track_id, fingerprint, model_version, state, attempts, enqueued_at, updated_at) "
                "SELECT t.id, t.fingerprint, ?, 'queued', 0, ?, ? FROM tracks t WHERE t.missing = 0"
                + ids_clause +
                " AND NOT EXISTS (SELECT 1 FROM analysis a WHERE a.fingerprint = t.fingerprint AND a.model_version = ?) "
                "ON CONFLICT(track_id) DO UPDATE SET fingerprint = excluded.fingerprint, "
                "model_version = excluded.model_version, state = 'queued', attempts = 0, owner = NULL, kind = NULL, "
                "last_error = NULL, enqueued_at = excluded.enqueued_at, updated_at = excluded.updated_at "
                "WHERE analysis_queue.fingerprint != excluded.fingerprint "
                "OR analysis_queue.model_version != excluded.model_version",
                (model_version, now, now, model_version),
            ).rowcount
            # rows whose file got a result meanwhile (a duplicate of an analysed file)
            conn.execute(
                "DELETE FROM analysis_queue WHERE state = 'queued' AND EXISTS (SELECT 1 FROM analysis a "
                "WHERE a.fingerprint = analysis_queue.fingerprint AND a.model_version = analysis_queue.model_version)"
            )
            if track_ids is not None:
                conn.execute("DELETE FROM _aq_ids")
        return n

    def claim_analysis(
        self, model_version: str, n: int = 1, *, owner: str | None = None, now: float | None = None
    ) -> list["AnalysisTask"]:
        """Take up to ``n`` queued tracks (highest priority first, then oldest) and mark them
        ``running`` by ``owner``.  Returns them with their current path and fingerprint."""
        now = time.time() if now is None else now
        with self.transaction():
            rows = self.fetchall(
                "SELECT q.track_id, t.path, t.fingerprint, t.duration, q.attempts, q.priority "
                "FROM analysis_queue q JOIN tracks t ON t.id = q.track_id "
                "WHERE q.state = 'queued' AND q.model_version = ? AND t.missing = 0 "
                "ORDER BY q.priority DESC, q.enqueued_at, q.track_id LIMIT ?",
                (model_version, int(n)),
            )
            self.executemany(
                "UPDATE analysis_queue SET state = 'running', owner = ?, updated_at = ? WHERE track_id = ?",
                [(owner, now, r[0]) for r in rows],
            )
        return [AnalysisTask(*r) for r in rows]

    def store_analysis(self, track_id: int, result: Mapping[str, Any], *, now: float | None = None) -> None:
        """Write one track's result and drop its queue row, in one transaction.

        ``result`` keys: ``fingerprint``, ``model_version``, ``classes`` (list of names),
        ``top_genre``, ``confidence``, ``track_probs`` ``(C,)``, ``window_probs`` ``(W, C)``,
        ``embeddings`` ``(W, D)`` (numpy arrays, or bytes from :func:`pack_array`), ``window_s``,
        ``hop_s``, optional ``duration`` (s analysed), ``note`` and ``computed_at``.  The file's
        result from another model version, if any, is deleted (replaced)."""
        now = time.time() if now is None else now
        blob = lambda v: v if isinstance(v, (bytes, bytearray, memoryview)) else pack_array(v)  # noqa: E731
        window_probs = result["window_probs"]
        n_windows = int(result.get("n_windows") or (unpack_array(window_probs) if isinstance(
            window_probs, (bytes, bytearray, memoryview)) else window_probs).shape[0])
        with self.transaction():
            self.execute(
                "INSERT OR REPLACE INTO analysis(fingerprint, model_version, classes, top_genre, confidence, "
                "track_probs, window_probs, embeddings, window_s, hop_s, n_windows, duration, note, computed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result["fingerprint"], result["model_version"], json.dumps(list(result["classes"])),
                    str(result["top_genre"]), float(result["confidence"]), blob(result["track_probs"]),
                    blob(window_probs), blob(result["embeddings"]), float(result["window_s"]),
                    float(result["hop_s"]), n_windows,
                    None if result.get("duration") is None else float(result["duration"]),
                    result.get("note"), float(result.get("computed_at") or now),
                ),
            )
            self.execute(
                "DELETE FROM analysis_queue WHERE track_id = ? OR (state = 'queued' AND fingerprint = ? "
                "AND model_version = ?)",
                (int(track_id), result["fingerprint"], result["model_version"]),
            )
            # the result of an older model for this file has been replaced (about 170 KB each)
            self.execute("DELETE FROM analysis WHERE fingerprint = ? AND model_version != ?",
                         (result["fingerprint"], result["model_version"]))

    def record_analysis_error(
        self, track_id: int, kind: str, reason: str, *, max_attempts: int = 1, now: float | None = None
    ) -> bool:
        """Count a failed attempt at a track.  It is ``failed`` (kept, with ``kind`` and the
        one-line ``reason``) once it has failed ``max_attempts`` times, else queued again.
        Returns True when it is now failed for good."""
        now = time.time() if now is None else now
        reason = " ".join(str(reason).split())
        with self.transaction():
            row = self.fetchone("SELECT attempts FROM analysis_queue WHERE track_id = ?", (int(track_id),))
            if row is None:
                return False
            attempts = int(row[0]) + 1
            final = attempts >= max(1, int(max_attempts))
            self.execute(
                "UPDATE analysis_queue SET state = ?, attempts = ?, owner = NULL, kind = ?, last_error = ?, "
                "updated_at = ? WHERE track_id = ?",
                ("failed" if final else "queued", attempts, kind, reason, now, int(track_id)),
            )
        return final

    def release_analysis(
        self, track_ids: Iterable[int] | None = None, *, owner: str | None = None, now: float | None = None
    ) -> int:
        """Put ``running`` rows (those of ``track_ids``, or all of ``owner``'s) back in the queue
        without counting an attempt (cancelled, or their process is gone).  Returns how many."""
        now = time.time() if now is None else now
        with self.transaction():
            if track_ids is not None:
                n = 0
                for tid in track_ids:
                    n += self.execute(
                        "UPDATE analysis_queue SET state = 'queued', owner = NULL, updated_at = ? "
                        "WHERE track_id = ? AND state = 'running'", (now, int(tid)))
                return n
            if owner is None:
                raise CatalogError("release_analysis: give track_ids or owner")
            return self.execute(
                "UPDATE analysis_queue SET state = 'queued', owner = NULL, updated_at = ? "
                "WHERE state = 'running' AND owner = ?", (now, owner))

    def analysis_owners(self) -> set[str]:
        """The owners of ``running`` queue rows (to find those left by a killed process)."""
        return {r[0] or "" for r in self.fetchall("SELECT DISTINCT owner FROM analysis_queue WHERE state = 'running'")}

    def prioritize_analysis(self, track_id: int, *, now: float | None = None) -> bool:
        """Move a queued track to the front of the queue (the latest call goes first).  Returns
        False when it is not waiting (already analysed, running, failed or unknown)."""
        now = time.time() if now is None else now
        with self.transaction():
            top = self.fetchone("SELECT COALESCE(MAX(priority), 0) FROM analysis_queue")[0]
            return bool(self.execute(
                "UPDATE analysis_queue SET priority = ?, updated_at = ? WHERE track_id = ? AND state = 'queued'",
                (int(top) + 1, now, int(track_id))))

    def retry_analysis_failures(self, *, now: float | None = None) -> int:
        """Queue every failed track again (attempts reset).  Returns how many."""
        now = time.time() if now is None else now
        return self.execute(
            "UPDATE analysis_queue SET state = 'queued', attempts = 0, kind = NULL, last_error = NULL, "
            "updated_at = ? WHERE state = 'failed'", (now,))

    def analysis_counts(self, model_version: str) -> dict[str, int]:
        """For present tracks: ``tracks``, ``analysed`` (a result for ``model_version``),
        ``queued``, ``running``, ``failed`` (for that version)."""
        one = lambda sql, p=(): self.fetchone(sql, p)[0]  # noqa: E731
        by_state = dict(self.fetchall(
            "SELECT q.state, COUNT(*) FROM analysis_queue q JOIN tracks t ON t.id = q.track_id "
            "WHERE t.missing = 0 AND q.model_version = ? GROUP BY q.state", (model_version,)))
        return {
            "tracks": one("SELECT COUNT(*) FROM tracks WHERE missing = 0"),
            "analysed": one(
                "SELECT COUNT(*) FROM tracks t WHERE t.missing = 0 AND EXISTS (SELECT 1 FROM analysis a "
                "WHERE a.fingerprint = t.fingerprint AND a.model_version = ?)", (model_version,)),
            "queued": int(by_state.get("queued", 0)),
            "running": int(by_state.get("running", 0)),
            "failed": int(by_state.get("failed", 0)),
        }

    def analysis_failures(self, model_version: str | None = None) -> list[Failure]:
        """Tracks the analysis gave up on: path, kind, one-line reason, when (path order)."""
        sql = ("SELECT t.path, COALESCE(q.kind, 'error'), COALESCE(q.last_error, ''), q.updated_at, t.size, "
               "t.mtime_ns FROM analysis_queue q JOIN tracks t ON t.id = q.track_id WHERE q.state = 'failed'")
        params: list = []
        if model_version is not None:
            sql += " AND q.model_version = ?"
            params.append(model_version)
        return [Failure(*r) for r in self.fetchall(sql + " ORDER BY t.path", params)]

    def track_analysis(self, track_id: int, model_version: str | None = None) -> "AnalysisResult | None":
        """The analysis of a track's file (by its fingerprint, so it survives a move): for
        ``model_version``, or the newest one of any version.  None when not analysed."""
        row = self.fetchone("SELECT fingerprint FROM tracks WHERE id = ?", (int(track_id),))
        return None if row is None else self.analysis_by_fingerprint(row[0], model_version)

    def analysis_by_fingerprint(self, fingerprint: str, model_version: str | None = None) -> "AnalysisResult | None":
        sql = "SELECT " + ", ".join(_ANALYSIS_COLUMNS) + " FROM analysis WHERE fingerprint = ?"
        params: list = [fingerprint]
        if model_version is not None:
            sql += " AND model_version = ?"
            params.append(model_version)
        row = self.fetchone(sql + " ORDER BY computed_at DESC LIMIT 1", params)
        return None if row is None else AnalysisResult.from_row(row)

    def analysis_version_counts(self) -> list[tuple[str, int]]:
        """``[(model_version, n_results), ...]``, the most used version first."""
        return [(r[0], r[1]) for r in self.fetchall(
            "SELECT model_version, COUNT(*) FROM analysis GROUP BY model_version ORDER BY COUNT(*) DESC")]

    def analysed_fingerprints(self, model_version: str) -> set[str]:
        """Fingerprints of the files that have a result for ``model_version``."""
        return {r[0] for r in self.fetchall("SELECT fingerprint FROM analysis WHERE model_version = ?", (model_version,))}

    def analysis_arrays(self, model_version: str, fingerprints) -> "Iterator[tuple[str, list, Any, Any]]":
        """``(fingerprint, classes, track_probs, embeddings)`` for the given files' results of
        ``model_version`` (in bulk, for the recommender).  The arrays are read-only views."""
        fingerprints = list(fingerprints)
        for i in range(0, len(fingerprints), 500):
            chunk = fingerprints[i : i + 500]
            rows = self.fetchall(
                "SELECT fingerprint, classes, track_probs, embeddings FROM analysis WHERE model_version = ? "
                f"AND fingerprint IN ({', '.join('?' * len(chunk))})", (model_version, *chunk))
            for fp, classes, probs, emb in rows:
                yield fp, json.loads(classes), unpack_array(probs, copy=False), unpack_array(emb, copy=False)

    def analysis_has_queued(self, model_version: str) -> bool:
        """Is any present track waiting in the analysis queue for ``model_version``?"""
        return self.fetchone(
            "SELECT 1 FROM analysis_queue q JOIN tracks t ON t.id = q.track_id WHERE q.state = 'queued' "
            "AND q.model_version = ? AND t.missing = 0 LIMIT 1", (model_version,)) is not None

    def requeue_crashed(self, track_ids) -> None:
        """Give tracks blamed for a worker crash their attempts back (the set-up was at fault)."""
        with self.transaction():
            for tid in track_ids:
                self.execute(
                    "UPDATE analysis_queue SET state = 'queued', attempts = 0, kind = NULL, last_error = NULL "
                    "WHERE track_id = ? AND kind = 'crashed'", (int(tid),))

    def genre_summary(self, model_version: str | None = None) -> dict[int, tuple[str, float]]:
        """track id -> (top genre, confidence) for every analysed present track (for the table
        view; newest model version when ``model_version`` is None).  Reads no arrays."""
        params: list = []
        version = ""
        if model_version is not None:
            version = " AND a.model_version = ?"
            params.append(model_version)
        rows = self.fetchall(
            "SELECT t.id, a.top_genre, a.confidence, a.computed_at FROM tracks t JOIN analysis a "
            "ON a.fingerprint = t.fingerprint WHERE t.missing = 0" + version + " ORDER BY a.computed_at", params)
        return {r[0]: (r[1], r[2]) for r in rows}


# --------------------------------------------------------------------------------------------
# Analysis rows and array BLOBs
# --------------------------------------------------------------------------------------------

__all__ += ["AnalysisResult", "AnalysisTask", "pack_array", "unpack_array"]


def pack_array(a) -> bytes:
    """A numpy array as BLOB bytes: the ``.npy`` format (dtype, shape and order in its header,
    about 128 bytes, then the raw data).  Read back with :func:`unpack_array`."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


_NPY_HEADERS: dict[bytes, tuple] = {}  # header bytes -> (dtype, shape, fortran_order)


def unpack_array(blob: bytes | bytearray | memoryview, *, copy: bool = True):
    """The array :func:`pack_array` stored (never unpickles anything).

    Each distinct ``.npy`` header is parsed once (numpy's own reader parses every header with
    ``ast``: seconds for 10,000 tracks).  With ``copy=False`` the array is a read-only view of
    ``blob`` (for readers that convert or subsample it anyway)."""
    import io

    import numpy as np

    b = memoryview(blob)
    try:
        if bytes(b[:6]) == b"\x93NUMPY":
            hlen, start = (int.from_bytes(b[8:10], "little"), 10) if b[6] == 1 else (int.from_bytes(b[8:12], "little"), 12)
            header = bytes(b[start : start + hlen])
            info = _NPY_HEADERS.get(header)
            if info is None:
                import ast

                d = ast.literal_eval(header.decode("latin1"))
                info = (np.dtype(d["descr"]), tuple(d["shape"]), bool(d["fortran_order"]))
                if len(_NPY_HEADERS) < 4096 and not info[0].hasobject:
                    _NPY_HEADERS[header] = info
            dtype, shape, fortran = info
            if not dtype.hasobject:
                count = int(np.prod(shape)) if shape else 1
                a = np.frombuffer(b, dtype=dtype, count=count, offset=start + hlen)
                a = a.reshape(shape, order="F" if fortran else "C")
                return a.copy() if copy else a
    except (ValueError, SyntaxError, KeyError, TypeError, IndexError):
        pass
    return np.load(io.BytesIO(bytes(blob)), allow_pickle=False)  # anything unusual: numpy decides


@dataclasses.dataclass(frozen=True)
class AnalysisTask:
    """A queued track handed to an analysis worker."""

    track_id: int
    path: str
    fingerprint: str
    duration: float | None
    attempts: int
    priority: int


_ANALYSIS_COLUMNS = (
    "fingerprint", "model_version", "classes", "top_genre", "confidence", "track_probs", "window_probs",
    "embeddings", "window_s", "hop_s", "n_windows", "duration", "note", "computed_at",
)


@dataclasses.dataclass(frozen=True)
class AnalysisResult:
    """One file's genre analysis.  Arrays are numpy: ``track_probs`` ``(C,)`` float32 (mean of
    the windows), ``window_probs`` ``(W, C)`` float32 (the genre timeline: window ``i`` starts at
    ``i * hop_s`` seconds, except the last, which ends at the end of the track), ``embeddings``
    ``(W, D)`` (float16 as stored; the genre network's trunk), ``classes`` the C genre names."""

    fingerprint: str
    model_version: str
    classes: list
    top_genre: str
    confidence: float
    track_probs: Any
    window_probs: Any
    embeddings: Any
    window_s: float
    hop_s: float
    n_windows: int
    duration: float | None
    note: str | None
    computed_at: float

    @classmethod
    def from_row(cls, row: Sequence) -> "AnalysisResult":
        v = list(row)
        v[2] = json.loads(v[2])
        for i in (5, 6, 7):
            v[i] = unpack_array(v[i])
        return cls(*v)

    def as_dict(self, *, arrays: bool = False) -> dict:
        d = {
            "fingerprint": self.fingerprint, "model_version": self.model_version, "top_genre": self.top_genre,
            "confidence": self.confidence, "genres": dict(zip(self.classes, map(float, self.track_probs))),
            "window_s": self.window_s, "hop_s": self.hop_s, "n_windows": self.n_windows,
            "duration": self.duration, "note": self.note, "computed_at": self.computed_at,
        }
        if arrays:
            d["window_probs"] = self.window_probs.tolist()
            d["embeddings"] = self.embeddings.tolist()
        return d
