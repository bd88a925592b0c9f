"""The catalog: Melograph's SQLite database of library folders, tracks, scan failures,
profiles, likes and genre analysis.  The only package that imports ``sqlite3``.

One module per job:

* :mod:`~core.catalog.db` -- the engine, generic: a connection per thread, transactions,
  statements, SQLite errors turned into one-line :class:`CatalogError` s with advice, the
  damage check at open (:class:`CatalogDamaged`), the migration runner and the rolling backups.
* :mod:`~core.catalog.recovery` -- ``catalog check|backup|restore``: a restore carries over the
  likes and profiles the replaced file still holds (imported by the CLI, not here).
* :mod:`~core.catalog.migrations` -- the schema, as numbered migrations (``MIGRATIONS``).
* :mod:`~core.catalog.rows` -- the row types handed out (:class:`Track`, :class:`Rating`, ...)
  and the profile-name rule.
* :mod:`~core.catalog.profiles`, :mod:`~core.catalog.tracks`, :mod:`~core.catalog.ratings`,
  :mod:`~core.catalog.history`, :mod:`~core.catalog.playlists`,
  :mod:`~core.catalog.failures`, :mod:`~core.catalog.analysis` -- the domain, one part each.
* :mod:`~core.catalog.codec` -- numpy arrays as BLOBs.

:class:`Catalog` is those parts composed as mixins over the engine (beets' ``Library`` over
``dbcore.Database`` has the same shape).  Mixins rather than components (``catalog.tracks.add``)
because the parts share one connection per thread and one transaction -- a scan adds a track
and re-attaches its likes in one ``with catalog.transaction():`` -- and because callers
(the scanner, the analysis service, the CLI, the app) hold one object and call its methods.
Each part is a class over :class:`~core.catalog.db.Database` that uses only the engine and the
parts it inherits: profiles <- tracks <- ratings <- history and playlists; failures and analysis stand alone.

Example::

    with Catalog.open(data_dir) as catalog:
        tid = catalog.add_track({"path": p, "size": n, "mtime_ns": m, "fingerprint": fp})
        catalog.set_rating(tid, 1)          # committed before it returns
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, Sequence

from core.catalog.analysis import AnalysisResult, AnalysisStore, AnalysisTask
from core.catalog.codec import pack_array, unpack_array
from core.catalog.db import KEEP_BACKUPS, CatalogDamaged, CatalogError, Migration
from core.catalog.failures import FailureStore
from core.catalog.history import HistoryStore, PlayStats, RecentPlay
from core.catalog.migrations import MIGRATIONS, migration
from core.catalog.playlists import Playlist, PlaylistEntry, PlaylistStore, check_playlist_name
from core.catalog.ratings import RatingStore, Windows
from core.catalog.rows import (
    DEFAULT_PROFILE,
    TRACK_FIELDS,
    Failure,
    Library,
    Profile,
    Rating,
    Track,
    check_profile_name,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogDamaged",
    "KEEP_BACKUPS",
    "Track",
    "Rating",
    "Failure",
    "Library",
    "Profile",
    "Playlist",
    "PlaylistEntry",
    "check_playlist_name",
    "DEFAULT_PROFILE",
    "check_profile_name",
    "MIGRATIONS",
    "Migration",
    "migration",
    "TRACK_FIELDS",
    "PlayStats",
    "RecentPlay",
    "AnalysisResult",
    "AnalysisTask",
    "pack_array",
    "unpack_array",
]


class Catalog(AnalysisStore, FailureStore, HistoryStore, PlaylistStore):
    """A catalog file.  Safe to share between threads (each gets its own connection).

    ``Catalog(path)`` opens (creating it if needed) and migrates to the newest schema.  A
    damaged file is refused (:class:`CatalogDamaged`) and never written to; an existing file is
    backed up beside it before a migration and once a day (the newest ``keep_backups`` kept;
    see :mod:`core.catalog.db`).  ``migrations`` and ``target_version`` exist for tests of the
    migrations themselves.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        migrations: Sequence[Migration] | None = None,
        target_version: int | None = None,
        timeout: float = 15.0,
        check: bool = True,
        keep_backups: int = KEEP_BACKUPS,
    ):
        super().__init__(path, MIGRATIONS if migrations is None else migrations,
                         target_version=target_version, timeout=timeout, check=check, keep_backups=keep_backups)

    @classmethod
    def open(cls, data_dir: str | os.PathLike | None = None) -> "Catalog":
        """The catalog in ``data_dir`` (else $MELOGRAPH_DATA_DIR, else the user's data dir)."""
        from core.paths import catalog_path

        return cls(catalog_path(data_dir))

    def follow_ratings(self, track_ids: Iterable[int] | None = None, *, windows: Windows | None = None) -> int:
        """:meth:`RatingStore.follow_ratings`, recognising untagged songs by the window
        embeddings of their analysis results."""
        def embeddings(fingerprint: str) -> tuple[str, Any] | None:
            result = self.analysis_by_fingerprint(fingerprint)
            return None if result is None else (result.model_version, result.embeddings)

        return super().follow_ratings(track_ids, windows=windows or embeddings)

    def store_analysis(self, track_id: int, result: Mapping[str, Any], *, now: float | None = None) -> None:
        """:meth:`AnalysisStore.store_analysis`; in the same transaction, a rating left behind
        by the same song, untagged, moves to this track now that its sound is known."""
        with self.transaction():
            super().store_analysis(track_id, result, now=now)
            self.follow_ratings([track_id])

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
