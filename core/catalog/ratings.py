"""Likes and dislikes, per profile, that outlive their track row.

A rating points at its track row (``track_id``) and keeps a copy of the track's content
fingerprint, artist, title and duration.  When the row is deleted
(:meth:`~core.catalog.tracks.TrackStore.purge_missing`) the rating stays, detached
(``track_id`` NULL), and is re-attached when a track with the same fingerprint -- or failing
that the same artist + title and a duration within 2 s -- is added again, for each profile.  A
rating goes only by ``set_rating(track_id, 0)`` or with its profile.

:class:`RatingStore` extends the track writes so that ratings follow their tracks: a new row
picks up detached ratings, a changed row updates its ratings' copy.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from core.catalog.db import CatalogError
from core.catalog.rows import Rating
from core.catalog.tracks import TrackStore


class RatingStore(TrackStore):
    """Track rows with their ratings (a part of :class:`core.catalog.Catalog`)."""

    def add_track(self, fields: Mapping[str, Any], *, now: float | None = None, reattach: bool = True) -> int:
        """Insert a track (see :meth:`TrackStore.add_track`) and give it the detached ratings
        that match it.  ``reattach=False`` skips that look-up: for bulk inserts when
        :meth:`has_detached_ratings` is False.  Returns its id."""
        with self.transaction():
            track_id = super().add_track(fields, now=now)
            if reattach:
                self._reattach_ratings(track_id, fields)
        return track_id

    def update_track(self, track_id: int, fields: Mapping[str, Any], *, now: float | None = None) -> None:
        """Change a track's columns (see :meth:`TrackStore.update_track`), keeping its ratings'
        copy of fingerprint, artist, title and duration in step."""
        with self.transaction():
            super().update_track(track_id, fields, now=now)
            self.execute(
                "UPDATE ratings SET (fingerprint, artist, title, duration) = "
                "(SELECT fingerprint, artist, title, duration FROM tracks WHERE id = ?) WHERE track_id = ?",
                (int(track_id), int(track_id)))

    def has_detached_ratings(self) -> bool:
        return self.fetchone("SELECT EXISTS (SELECT 1 FROM ratings WHERE track_id IS NULL)")[0] == 1

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

    def _reattach_ratings(self, track_id: int, fields: Mapping[str, Any]) -> None:
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
