"""The catalog's schema, as numbered migrations.

``MIGRATIONS[i]`` takes a catalog from schema version ``i`` to ``i + 1`` (the runner is
:class:`core.catalog.db.Database`).  Append only; never edit a shipped one.  Adding one is one
decorated function::

    @migration(rewrites_data=False)
    def _v5_something(db):
        db.execute("CREATE TABLE something(...)")

An existing file is backed up before any migration runs; ``rewrites_data=True`` makes that
backup a condition: the step does not run if it could not be taken.  A step gets the raw
connection inside its transaction: it runs its statements one by one (``executescript`` would
commit).

The tables: ``libraries`` (the library's folders; one taken out of the library keeps its row), ``tracks`` (one row per file; a row keeps its
id through a move), ``scan_failures`` (files a scan could not read, with the reason),
``profiles`` and ``ratings`` (likes and dislikes per profile; a rating keeps its track's
fingerprint, artist, title and duration so it can outlive the row), ``analysis`` (genre results
keyed by file fingerprint + model version), ``analysis_queue`` (the durable work queue),
``playlists`` and ``playlist_entries`` (ordered; an entry keeps its song's copy as a rating does),
``play_history`` (plays and skips per profile and track; it keeps its song's copy too).
A track's ReplayGain values are columns of ``tracks`` (``rg_track_gain`` ...).
"""
from __future__ import annotations

import sqlite3
import time
from typing import Callable

from core.catalog.db import CatalogError, Migration

#: Ordered: MIGRATIONS[i] takes user_version i -> i + 1.
MIGRATIONS: list[Migration] = []


def migration(*, rewrites_data: bool = False, into: list[Migration] | None = None):
    """Decorator appending ``fn(conn)`` to ``MIGRATIONS`` (or ``into``) as the next version."""

    def register(fn: Callable[[sqlite3.Connection], None]):
        (MIGRATIONS if into is None else into).append(Migration(fn.__name__, fn, rewrites_data))
        return fn

    return register


def _run_script(db: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migration()
def _v1_core(db: sqlite3.Connection) -> None:
    _run_script(db, """
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
""")


@migration()
def _v2_analysis(db: sqlite3.Connection) -> None:
    """Genre analysis results (keyed by the file's content fingerprint + the model's version, so
    a moved file keeps them and a new model re-analyses) and the durable analysis queue."""
    _run_script(db, """
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
""")


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


@migration(rewrites_data=True)
def _v4_drop_unread_columns(db: sqlite3.Connection) -> None:
    """Drop what nothing reads: the ``settings`` table and ``tracks.search_text`` (the library
    view filters and sorts in memory).  No index was ever made on ``search_text``; the ratings
    table is not touched."""
    db.execute("DROP TABLE settings")
    db.execute("ALTER TABLE tracks DROP COLUMN search_text")


@migration()
def _playlists(db: sqlite3.Connection) -> None:
    """Playlists: ``playlists`` (a name unique regardless of case: ``name_key`` is its NFC
    casefold, which also folds non-ASCII letters) and ``playlist_entries``, ordered by
    ``position``.  An entry keeps its song's identity like a rating does (fingerprint, artist,
    title, duration, beside ``track_id``), so it follows its song to a new file
    (:mod:`core.catalog.playlists`); existing tables are not touched."""
    _run_script(db, """
CREATE TABLE playlists (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    created_at  REAL    NOT NULL,
    updated_at  REAL    NOT NULL
);
CREATE TABLE playlist_entries (
    id          INTEGER PRIMARY KEY,
    playlist_id INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    track_id    INTEGER REFERENCES tracks(id) ON DELETE SET NULL,
    fingerprint TEXT,
    artist      TEXT,
    title       TEXT,
    duration    REAL,
    added_at    REAL    NOT NULL
);
CREATE INDEX playlist_entries_order ON playlist_entries(playlist_id, position);
CREATE INDEX playlist_entries_track ON playlist_entries(track_id)
""")


@migration()
def _play_history(db: sqlite3.Connection) -> None:
    """Listening history per profile and song: ``play_history`` counts the plays and skips of a
    track (``last_played_at``, ``last_skipped_at``) and keeps its song's identity like a rating
    does (fingerprint, artist, title, duration beside ``track_id``), so it follows its song to a
    new file (:mod:`core.catalog.history`); existing tables are not touched."""
    _run_script(db, """
CREATE TABLE play_history (
    id              INTEGER PRIMARY KEY,
    profile_id      INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    track_id        INTEGER REFERENCES tracks(id) ON DELETE SET NULL,
    plays           INTEGER NOT NULL DEFAULT 0 CHECK (plays >= 0),
    skips           INTEGER NOT NULL DEFAULT 0 CHECK (skips >= 0),
    last_played_at  REAL,
    last_skipped_at REAL,
    fingerprint     TEXT,
    artist          TEXT,
    title           TEXT,
    duration        REAL,
    UNIQUE (profile_id, track_id)
);
CREATE INDEX play_history_track ON play_history(track_id);
CREATE INDEX play_history_recent ON play_history(profile_id, last_played_at)
""")


@migration()
def _library_folders_removed_at(db: sqlite3.Connection) -> None:
    """Library folders the user took out of the library: ``libraries.removed_at`` (NULL: in the
    library).  A removed folder's row stays, so its tracks (with their likes, playlist entries
    and analysis) stay in the catalog, hidden, and come back when the folder is added again."""
    db.execute("ALTER TABLE libraries ADD COLUMN removed_at REAL")


@migration()
def _analysis_music(db: sqlite3.Connection) -> None:
    """The music / not-music detector's result beside each genre result: ``music_probability``
    (the track's), ``is_music`` (1/0), ``music_kind`` (``speech`` / ``sound`` for non-music),
    ``music_cells`` (one music probability per 3 s cell, a packed float32 array; NaN for a silent
    cell) and ``music_version`` (the detector's card version).  NULL in rows analysed before: the
    analysis service queues those files again (:meth:`core.catalog.analysis.AnalysisStore.enqueue_analysis`)."""
    for column in ("music_probability REAL", "is_music INTEGER", "music_kind TEXT", "music_cells BLOB",
                   "music_version TEXT"):
        db.execute(f"ALTER TABLE analysis ADD COLUMN {column}")


@migration()
def _track_replaygain(db: sqlite3.Connection) -> None:
    """Each track's ReplayGain tags (``core.audio.tags``): ``rg_track_gain``, ``rg_track_peak``,
    ``rg_album_gain``, ``rg_album_peak`` (NULL: the file has none).  The files scanned before
    were read without them: their recorded modification time is cleared, so the next scan reads
    every file's tags again (a song keeps its row, likes and analysis: those follow the
    fingerprint, which does not change)."""
    for column in ("rg_track_gain REAL", "rg_track_peak REAL", "rg_album_gain REAL", "rg_album_peak REAL"):
        db.execute(f"ALTER TABLE tracks ADD COLUMN {column}")
    db.execute("UPDATE tracks SET mtime_ns = -1")


@migration()
def _analysis_loudness(db: sqlite3.Connection) -> None:
    """The loudness the analysis measures (``core.audio.loudness``) beside each result:
    ``loudness`` (integrated, LUFS, of the decoded mono mix; NULL for silence) and ``sample_peak``.
    NULL in rows analysed before: those tracks play at the level set for untagged files until
    they are analysed again."""
    for column in ("loudness REAL", "sample_peak REAL"):
        db.execute(f"ALTER TABLE analysis ADD COLUMN {column}")
