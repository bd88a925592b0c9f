"""Listening history, per profile, that follows its song like a like does.

``play_history`` holds one row per profile and track: how often the track was played
(``plays``, ``last_played_at``) and skipped (``skips``, ``last_skipped_at``).  What counts as a
play or a skip is decided by the player's listener (:mod:`core.playback.listens`); this part only
stores it.  A row keeps a copy of its track's fingerprint, artist, title and duration, so it
outlives the row and moves on with its song exactly as a rating does
(:meth:`RatingStore.follow_ratings`): a moved file keeps its row (and so its history); a file
replaced by another of the same song (a re-encode, a retagged copy) hands its history to it.
Where the profile already has history on that file, the two are added together.

:class:`HistoryStore` hooks into the track writes (``add_track``, ``update_track``, and
``follow_ratings``, which the scanner and the analysis call once a batch of files is known) so
that history follows at the same moments the likes do.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Iterable, Mapping

from core.catalog.db import CatalogError
from core.catalog.ratings import RatingStore, SongFiles, Windows
from core.catalog.rows import Track
from core.catalog.tracks import _track

PLAY = "play"
SKIP = "skip"


@dataclasses.dataclass(frozen=True)
class PlayStats:
    """A track's listening history for one profile."""

    plays: int = 0
    skips: int = 0
    last_played_at: float | None = None
    last_skipped_at: float | None = None


@dataclasses.dataclass(frozen=True)
class RecentPlay:
    """A track of the "recently played" list: the track (present in the library), its history."""

    track: Track
    stats: PlayStats


class HistoryStore(RatingStore):
    """Plays and skips per profile and track (a part of :class:`core.catalog.Catalog`)."""

    _has_history: bool | None = None

    def _history_table(self) -> bool:
        """Whether the file has the table (a catalog opened at an older ``target_version`` by
        the migration tests has not): the track writes then leave history alone."""
        if self._has_history is None:
            self._has_history = self.fetchone(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'play_history')")[0] == 1
        return self._has_history

    # -- writing ---------------------------------------------------------------------------------

    def record_listen(self, track_id: int, kind: str, *, profile: str | None = None,
                      now: float | None = None) -> PlayStats:
        """Count a ``"play"`` or a ``"skip"`` of ``track_id`` for ``profile`` (default: the
        current one).  Committed before it returns; returns the track's history after it."""
        if kind not in (PLAY, SKIP):
            raise CatalogError(f"a listen is {PLAY!r} or {SKIP!r}, not {kind!r}")
        now = time.time() if now is None else float(now)
        count, at = ("plays", "last_played_at") if kind == PLAY else ("skips", "last_skipped_at")
        with self.transaction():
            pid = self._pid(profile)
            track = self.get_track(track_id)
            if track is None:
                raise CatalogError(f"no track {track_id}")
            self.execute(
                f"INSERT INTO play_history(profile_id, track_id, {count}, {at}, fingerprint, artist, title, duration) "
                "VALUES (?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT(profile_id, track_id) DO UPDATE SET "
                f"{count} = {count} + 1, {at} = excluded.{at}, fingerprint = excluded.fingerprint, "
                "artist = excluded.artist, title = excluded.title, duration = excluded.duration",
                (pid, track.id, now, track.fingerprint, track.artist, track.title, track.duration))
            return self.play_stats_of(track.id, profile=profile)

    def update_track(self, track_id: int, fields: Mapping[str, Any], *, now: float | None = None) -> None:
        """:meth:`RatingStore.update_track`, keeping the history's copy of the song in step."""
        with self.transaction():
            super().update_track(track_id, fields, now=now)
            if self._history_table():
                self.execute(
                    "UPDATE play_history SET (fingerprint, artist, title, duration) = "
                    "(SELECT fingerprint, artist, title, duration FROM tracks WHERE id = ?) WHERE track_id = ?",
                    (int(track_id), int(track_id)))

    def follow_ratings(self, track_ids: Iterable[int] | None = None, *, windows: Windows | None = None) -> int:
        """:meth:`RatingStore.follow_ratings`, and the history left behind follows its song too
        (:meth:`follow_history`).  Returns how many ratings moved."""
        with self.transaction():
            self.follow_history(track_ids, windows=windows)
            return super().follow_ratings(track_ids, windows=windows)

    def follow_history(self, track_ids: Iterable[int] | None = None, *, windows: Windows | None = None) -> int:
        """Move each history row left behind -- detached, or on a track flagged missing -- to a
        present track of its song (the same rule as a rating's: the same fingerprint, else
        :func:`core.songs.same_song`; the closest duration wins).  Where the profile has history
        on that track already, the counts are added up and the newest times kept.
        ``track_ids``: the tracks that may take it (default: every present track).  Returns how
        many rows moved or merged."""
        if not self._history_table() or not self.fetchone(
                "SELECT EXISTS (SELECT 1 FROM play_history WHERE track_id IS NULL) OR EXISTS "
                "(SELECT 1 FROM tracks t JOIN play_history h ON h.track_id = t.id WHERE t.missing = 1)")[0]:
            return 0
        with self.transaction():
            orphans = self.fetchall(
                "SELECT id, profile_id, fingerprint, artist, title, duration FROM play_history "
                "WHERE track_id IS NULL UNION ALL "
                "SELECT h.id, h.profile_id, h.fingerprint, h.artist, h.title, h.duration FROM tracks t "
                "JOIN play_history h ON h.track_id = t.id WHERE t.missing = 1")
            songs = self.song_files(track_ids, windows=windows)
            moved = 0
            for hid, pid, fp, artist, title, duration in orphans:
                fits = songs.fits(fp, artist, title, duration)
                if not fits:
                    continue
                target = SongFiles.closest(fits, duration)
                there = self.fetchone("SELECT id FROM play_history WHERE profile_id = ? AND track_id = ?",
                                      (pid, target.id))
                if there is None:
                    self._follow_copy("play_history", hid, target)
                else:
                    self.execute(
                        "UPDATE play_history SET (plays, skips, last_played_at, last_skipped_at) = "
                        "(SELECT p.plays + o.plays, p.skips + o.skips, "
                        "MAX(COALESCE(p.last_played_at, o.last_played_at), COALESCE(o.last_played_at, p.last_played_at)), "
                        "MAX(COALESCE(p.last_skipped_at, o.last_skipped_at), COALESCE(o.last_skipped_at, p.last_skipped_at)) "
                        "FROM play_history p, play_history o WHERE p.id = ? AND o.id = ?) WHERE id = ?",
                        (there[0], hid, there[0]))
                    self.execute("DELETE FROM play_history WHERE id = ?", (hid,))
                moved += 1
        return moved

    # -- reading ---------------------------------------------------------------------------------

    def play_stats_of(self, track_id: int, *, profile: str | None = None) -> PlayStats:
        row = self.fetchone(
            "SELECT plays, skips, last_played_at, last_skipped_at FROM play_history "
            "WHERE profile_id = ? AND track_id = ?", (self._pid_or_none(profile), int(track_id)))
        return PlayStats(*row) if row else PlayStats()

    def play_stats(self, *, profile: str | None = None) -> dict[int, PlayStats]:
        """track id -> its history, for every track ``profile`` (default: the current one) has
        played or skipped."""
        return {r[0]: PlayStats(*r[1:]) for r in self.fetchall(
            "SELECT track_id, plays, skips, last_played_at, last_skipped_at FROM play_history "
            "WHERE profile_id = ? AND track_id IS NOT NULL", (self._pid_or_none(profile),))}

    def recently_played(self, limit: int = 100, *, profile: str | None = None) -> list[RecentPlay]:
        """The present tracks ``profile`` (default: the current one) played last, newest first."""
        pid = self._pid_or_none(profile)
        rows = self.fetchall(
            self._track_select() + " JOIN play_history h ON h.track_id = t.id AND h.profile_id = ? "
            "WHERE t.missing = 0 AND h.last_played_at IS NOT NULL "
            "ORDER BY h.last_played_at DESC, h.id DESC LIMIT ?", (self._pid_or_none(None), pid, int(limit)))
        stats = self.play_stats(profile=profile)
        return [RecentPlay(t, stats.get(t.id, PlayStats())) for t in map(_track, rows)]
