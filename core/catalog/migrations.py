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

The tables: ``libraries`` (scanned root folders), ``tracks`` (one row per file; a row keeps its
id through a move), ``scan_failures`` (files a scan could not read, with the reason),
``profiles`` and ``ratings`` (likes and dislikes per profile; a rating keeps its track's
fingerprint, artist, title and duration so it can outlive the row), ``analysis`` (genre results
keyed by file fingerprint + model version) and ``analysis_queue`` (the durable work queue).
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
