"""Likes and dislikes, per profile, that outlive their track row and follow their song.

A rating points at its track row (``track_id``) and keeps a copy of the track's content
fingerprint, artist, title and duration.  A rating left behind -- on a row flagged missing, or
detached (``track_id`` NULL) when the row was deleted
(:meth:`~core.catalog.tracks.TrackStore.purge_missing`) -- moves to a present track of the same
song (:meth:`RatingStore.follow_ratings`): the same fingerprint, else the same song by
:func:`core.songs.same_song` (artist and title, normalised, and a duration within 1 s; or, when
either is untagged, the same sound by their analysis results).  A rating goes only by
``set_rating(track_id, 0)`` or with its profile.

:class:`RatingStore` extends the track writes so that ratings follow their tracks: a new row
picks up ratings left behind, a changed row updates its ratings' copy.  The rule that finds a
song's file (:class:`SongFiles`, from :meth:`RatingStore.song_files`) and the move of a copy
(``_follow_copy``) serve every other row that keeps a song's copy too (playlist entries, play
history): they follow at the same moments, by the same rule.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from core.catalog.db import CatalogError
from core.catalog.rows import Rating
from core.catalog.tracks import TrackStore
from core.songs import SAME_SONG_SECONDS, same_song, song_key

#: ``fingerprint -> (model version, window embeddings (W, D))`` of a file's analysis result, or None
Windows = Callable[[str], "tuple[str, Any] | None"]


class RatingStore(TrackStore):
    """Track rows with their ratings (a part of :class:`core.catalog.Catalog`)."""

    def add_track(self, fields: Mapping[str, Any], *, now: float | None = None, reattach: bool = True) -> int:
        """Insert a track (see :meth:`TrackStore.add_track`) and give it the ratings left behind
        that belong to its song (:meth:`follow_ratings`).  ``reattach=False`` skips that look-up
        (a bulk insert that calls :meth:`follow_ratings` once at its end).  Returns its id."""
        with self.transaction():
            track_id = super().add_track(fields, now=now)
            if reattach:
                self.follow_ratings([track_id])
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

    def follow_ratings(self, track_ids: Iterable[int] | None = None, *, windows: Windows | None = None) -> int:
        """Move each rating left behind -- detached, or on a track flagged missing -- to a present
        track of its song: one with the same fingerprint, else :func:`core.songs.same_song` of the
        rating's copy and the track (artist and title, normalised, and a duration within 1 s; when
        either is untagged, the same sound: ``windows(fingerprint)`` gives the window embeddings
        of a file's analysis result, compared within one model version).  The closest duration
        wins; the newest of a profile's ratings moves first; where the profile has rated a file
        of the song itself, that rating stands and the one left behind stays where it is.

        ``track_ids``: the tracks that may take a rating (default: every present track).
        Returns how many ratings moved."""
        if not self.fetchone(  # the usual case: none, in two indexed look-ups
                "SELECT EXISTS (SELECT 1 FROM ratings WHERE track_id IS NULL) OR EXISTS "
                "(SELECT 1 FROM tracks t JOIN ratings r ON r.track_id = t.id WHERE t.missing = 1)")[0]:
            return 0
        with self.transaction():  # one look at the ratings, and the moves, together
            orphans = self.fetchall(
                "SELECT id, profile_id, rated_at, fingerprint, artist, title, duration FROM ratings "
                "WHERE track_id IS NULL UNION ALL "
                "SELECT r.id, r.profile_id, r.rated_at, r.fingerprint, r.artist, r.title, r.duration FROM tracks t "
                "JOIN ratings r ON r.track_id = t.id WHERE t.missing = 1")
            songs = self.song_files(track_ids, windows=windows)
            moved = 0
            for rid, pid, _at, fp, artist, title, duration in sorted(orphans, key=lambda o: (-o[2], -o[0])):
                fits = songs.fits(fp, artist, title, duration)
                if not fits or any(self.fetchone("SELECT 1 FROM ratings WHERE profile_id = ? AND track_id = ?",
                                                 (pid, t.id)) for t in fits):
                    continue  # no file of the song, or the profile has rated one itself
                self._follow_copy("ratings", rid, SongFiles.closest(fits, duration))
                moved += 1
        return moved

    def song_files(self, track_ids: Iterable[int] | None = None, *, windows: Windows | None = None) -> "SongFiles":
        """The present tracks (of ``track_ids``, default every one) that a rating or anything
        else keeping a song's copy (a playlist entry) may follow to: see :class:`SongFiles`."""
        sql = "SELECT id, fingerprint, artist, title, duration FROM tracks WHERE missing = 0"
        if track_ids is None:
            tracks = [_Tags(*row) for row in self.fetchall(sql)]
        else:
            ids = sorted({int(t) for t in track_ids})
            tracks = [_Tags(*row) for i in range(0, len(ids), 500) for row in self.fetchall(
                sql + f" AND id IN ({', '.join('?' * len(ids[i:i + 500]))})", ids[i:i + 500])]
        return SongFiles(tracks, windows)

    def _follow_copy(self, table: str, row_id: int, track: "_Tags") -> None:
        """Point row ``row_id`` of ``table`` (a song's copy: ``track_id, fingerprint, artist,
        title, duration``) at ``track``; the copy takes the track's tags, and keeps its own where
        the track has none."""
        self.execute(
            f"UPDATE {table} SET (track_id, fingerprint, artist, title, duration) = "
            f"(SELECT t.id, t.fingerprint, COALESCE(t.artist, {table}.artist), "
            f"COALESCE(t.title, {table}.title), COALESCE(t.duration, {table}.duration) "
            "FROM tracks t WHERE t.id = ?) WHERE id = ?",
            (track.id, int(row_id)))


class SongFiles:
    """Present tracks indexed for :meth:`fits`: which of them is a song, known by a copy of its
    identity (fingerprint, artist, title, duration), in a file.  ``windows(fingerprint)`` gives
    the window embeddings of a file's analysis result, for untagged songs (see
    :meth:`RatingStore.follow_ratings`)."""

    def __init__(self, tracks: Iterable["_Tags"], windows: Windows | None = None):
        self._windows = windows
        self._by_fingerprint: dict[str, list[_Tags]] = {}
        self._by_second: dict[int, list[_Tags]] = {}
        for t in tracks:
            self._by_fingerprint.setdefault(t.fingerprint, []).append(t)
            if t.duration is not None:
                self._by_second.setdefault(math.floor(t.duration), []).append(t)
        self._sounds: dict[str, Any] = {}
        self._keys: dict[int, tuple[str, str] | None] = {}  # each track's, computed once: the slow part

    def _sound(self, fp: str | None):
        if self._windows is None or not fp:
            return None
        if fp not in self._sounds:
            self._sounds[fp] = self._windows(fp)
        return self._sounds[fp]

    def _same(self, o: "_Tags", ko: tuple[str, str] | None, t: "_Tags") -> bool:
        """core.songs.same_song(o, t, with their sounds), without normalising t's tags twice."""
        if t.id not in self._keys:
            self._keys[t.id] = song_key(t)
        if ko is not None and self._keys[t.id] is not None:
            return ko == self._keys[t.id] and same_song(o, t)
        so, st = self._sound(o.fingerprint), self._sound(t.fingerprint)
        return so is not None and st is not None and so[0] == st[0] and same_song(o, t, so[1], st[1])

    def fits(self, fingerprint: str | None, artist: str | None, title: str | None,
             duration: float | None) -> list["_Tags"]:
        """The tracks holding this song: those of the same fingerprint, else those that are
        :func:`core.songs.same_song` of it."""
        fits = list(self._by_fingerprint.get(fingerprint, ()))
        if not fits and duration is not None:
            o = _Tags(None, fingerprint, artist, title, duration)
            seconds = [s for s in range(math.floor(duration - SAME_SONG_SECONDS),
                                        math.floor(duration + SAME_SONG_SECONDS) + 1) if s in self._by_second]
            ko = song_key(o) if seconds else None
            fits = [t for s in seconds for t in self._by_second[s] if self._same(o, ko, t)]
        return fits

    @staticmethod
    def closest(fits: list["_Tags"], duration: float | None) -> "_Tags":
        """Of ``fits``, the closest in duration (the newest row on a tie)."""
        return min(fits, key=lambda t: (abs((t.duration or 0.0) - (duration or 0.0)), -t.id))


class _Tags(NamedTuple):
    """A track's (or a rating's copy of it) identity, as :func:`core.songs.same_song` reads it."""

    id: int | None
    fingerprint: str | None
    artist: str | None
    title: str | None
    duration: float | None
