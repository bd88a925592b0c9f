"""Playlists: named, ordered lists of songs whose entries outlive their track rows.

A playlist has a name, unique regardless of case (Unicode case: "Été" and "ÉTÉ" are one name),
and its entries in order.  An entry points at its track row (``track_id``) and, like a rating
(:mod:`core.catalog.ratings`), keeps a copy of the track's fingerprint, artist, title and
duration.  So an entry survives what a like survives: a moved or renamed file keeps its row; an
entry left behind on a row flagged missing, or detached (``track_id`` NULL) when the row was
purged, moves to a present file of the same song by the ratings' own rule
(:meth:`~core.catalog.ratings.RatingStore.song_files`) whenever ratings follow their songs (a
new track, the end of a scan, an analysis result).  An entry is never dropped because its file
went: :meth:`PlaylistStore.playlist_entries` lists it with ``missing=True``.

A playlist is named by its id (``int``) or its name (``str``) wherever one is asked for.
"""
from __future__ import annotations

import dataclasses
import time
import unicodedata
from typing import Iterable, Sequence

from core.catalog.db import CatalogError
from core.catalog.ratings import RatingStore, SongFiles, Windows
from core.catalog.rows import Track
from core.catalog.tracks import _TRACK_COLUMNS, _track

MAX_NAME = 200  #: characters in a playlist's name

_ENTRY_COLUMNS = "e.id, e.position, e.track_id, e.fingerprint, e.artist, e.title, e.duration, e.added_at"
_ENTRY_SELECT = (
    f"SELECT {_ENTRY_COLUMNS}, " + ", ".join(f"t.{c}" for c in _TRACK_COLUMNS) + ", COALESCE(r.rating, 0) "
    "FROM playlist_entries e LEFT JOIN tracks t ON t.id = e.track_id "
    "LEFT JOIN ratings r ON r.track_id = t.id AND r.profile_id = ? "
    "WHERE e.playlist_id = ? ORDER BY e.position, e.id")


@dataclasses.dataclass(frozen=True)
class Playlist:
    id: int
    name: str
    created_at: float
    updated_at: float
    entries: int = 0  # how many entries
    missing: int = 0  # of them, how many have no present file

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "created_at": self.created_at, "updated_at": self.updated_at,
                "entries": self.entries, "missing": self.missing}


@dataclasses.dataclass(frozen=True)
class PlaylistEntry:
    id: int
    position: int  # 0-based, in the playlist's order
    track_id: int | None  # None: detached (its track row was purged)
    fingerprint: str | None  # the song's copy, as ratings keep it
    artist: str | None
    title: str | None
    duration: float | None
    added_at: float
    track: Track | None  # the track row (None when detached)

    @property
    def missing(self) -> bool:
        """No present file: detached, or its track row is flagged missing."""
        return self.track is None or self.track.missing

    @property
    def path(self) -> str | None:
        """The track's path (its last one when missing); None when detached."""
        return None if self.track is None else self.track.path

    @property
    def display_title(self) -> str:
        if self.track is not None and self.track.title:
            return self.track.title
        return self.title or (self.track.display_title if self.track is not None else "(unknown)")

    @property
    def display_artist(self) -> str:
        return (self.track.artist if self.track is not None and self.track.artist else self.artist) or ""

    def as_dict(self) -> dict:
        return {"id": self.id, "position": self.position, "track_id": self.track_id, "path": self.path,
                "artist": self.display_artist or None, "title": self.display_title,
                "duration": self.track.duration if self.track is not None and self.track.duration else self.duration,
                "missing": self.missing}


def check_playlist_name(name: str) -> str:
    """The name, stripped; :class:`CatalogError` (a sentence) when it cannot name a playlist:
    empty, longer than ``MAX_NAME`` characters, or holding a control character (a line break)."""
    name = unicodedata.normalize("NFC", name.strip()) if isinstance(name, str) else ""
    if not name:
        raise CatalogError("a playlist needs a name")
    if len(name) > MAX_NAME:
        raise CatalogError(f"a playlist's name is at most {MAX_NAME} characters (this one has {len(name)})")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise CatalogError(f"a playlist's name cannot hold control characters or line breaks: {name!r}")
    return name


def name_key(name: str) -> str:
    """What makes two names one: NFC, Unicode case folded."""
    return unicodedata.normalize("NFC", name).casefold()


class PlaylistStore(RatingStore):
    """Playlists and their entries (a part of :class:`core.catalog.Catalog`)."""

    _has_playlists: bool | None = None

    def _playlists_table(self) -> bool:
        """Whether the file has the tables (a catalog opened at an older ``target_version`` by
        the migration tests has not): the track writes then leave playlists alone."""
        if self._has_playlists is None:
            self._has_playlists = self.fetchone(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'playlist_entries')")[0] == 1
        return self._has_playlists

    # -- playlists ---------------------------------------------------------------------------

    def _no_playlist(self, playlist: int | str) -> CatalogError:
        if isinstance(playlist, int):
            return CatalogError(f"no playlist {playlist}")
        names = [p.name for p in self.playlists()]
        known = ", ".join(repr(n) for n in names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        return CatalogError(f"no playlist named {playlist!r} ({'playlists: ' + known if names else 'there are none'})")

    def _playlist_id(self, playlist: int | str) -> int:
        """The id of ``playlist`` (an id or a name); :class:`CatalogError` when there is none."""
        if isinstance(playlist, bool) or not isinstance(playlist, (int, str)):
            raise CatalogError(f"a playlist is named by its id or its name, not {playlist!r}")
        if isinstance(playlist, int):
            row = self.fetchone("SELECT id FROM playlists WHERE id = ?", (playlist,))
        else:
            row = self.fetchone("SELECT id FROM playlists WHERE name_key = ?", (name_key(playlist.strip()),))
        if row is None:
            raise self._no_playlist(playlist)
        return int(row[0])

    def playlists(self) -> list[Playlist]:
        """Every playlist with its entry and missing counts, by name (regardless of case)."""
        rows = self.fetchall(
            "SELECT p.id, p.name, p.created_at, p.updated_at, COUNT(e.id), "
            "COALESCE(SUM(e.id IS NOT NULL AND (t.id IS NULL OR t.missing = 1)), 0) "
            "FROM playlists p LEFT JOIN playlist_entries e ON e.playlist_id = p.id "
            "LEFT JOIN tracks t ON t.id = e.track_id GROUP BY p.id ORDER BY p.name_key, p.id")
        return [Playlist(*r) for r in rows]

    def playlist(self, playlist: int | str) -> Playlist:
        """One playlist (by id or name, regardless of case), with its counts."""
        pid = self._playlist_id(playlist)
        return next(p for p in self.playlists() if p.id == pid)

    def create_playlist(self, name: str, *, now: float | None = None) -> Playlist:
        """A new, empty playlist.  :class:`CatalogError` when the name is taken (regardless of
        case) or cannot name one."""
        name = check_playlist_name(name)
        now = time.time() if now is None else now
        with self.transaction():
            clash = self.fetchone("SELECT name FROM playlists WHERE name_key = ?", (name_key(name),))
            if clash is not None:
                raise CatalogError(f"a playlist named {clash[0]!r} already exists")
            pid = self.execute("INSERT INTO playlists(name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?)",
                               (name, name_key(name), now, now))
        return Playlist(pid, name, now, now)

    def rename_playlist(self, playlist: int | str, new_name: str, *, now: float | None = None) -> Playlist:
        """Rename a playlist (its entries stay).  A change of case alone is a rename too."""
        new_name = check_playlist_name(new_name)
        with self.transaction():
            pid = self._playlist_id(playlist)
            clash = self.fetchone("SELECT id, name FROM playlists WHERE name_key = ?", (name_key(new_name),))
            if clash is not None and clash[0] != pid:
                raise CatalogError(f"a playlist named {clash[1]!r} already exists")
            self.execute("UPDATE playlists SET name = ?, name_key = ?, updated_at = ? WHERE id = ?",
                         (new_name, name_key(new_name), time.time() if now is None else now, pid))
        return self.playlist(pid)

    def delete_playlist(self, playlist: int | str) -> int:
        """Delete a playlist and its entries (the tracks stay).  Returns how many entries went."""
        with self.transaction():
            pid = self._playlist_id(playlist)
            n = self.execute("DELETE FROM playlist_entries WHERE playlist_id = ?", (pid,))
            self.execute("DELETE FROM playlists WHERE id = ?", (pid,))
        return n

    # -- entries -----------------------------------------------------------------------------

    def playlist_entries(self, playlist: int | str) -> list[PlaylistEntry]:
        """The entries in order, each with its track row (the current profile's rating in it);
        an entry whose file is gone is listed with ``missing`` True, never left out."""
        pid = self._playlist_id(playlist)
        n = len(_TRACK_COLUMNS) + 1
        out = []
        for row in self.fetchall(_ENTRY_SELECT, (self._pid_or_none(None), pid)):
            head, track = row[:8], row[8:8 + n]
            out.append(PlaylistEntry(*head, track=None if track[0] is None else _track(track)))
        return out

    def _entry_ids(self, pid: int) -> list[int]:
        return [r[0] for r in self.fetchall(
            "SELECT id FROM playlist_entries WHERE playlist_id = ? ORDER BY position, id", (pid,))]

    def _renumber(self, pid: int, order: Sequence[int], now: float | None) -> None:
        self.executemany("UPDATE playlist_entries SET position = ? WHERE id = ?",
                         [(i, eid) for i, eid in enumerate(order)])
        self.execute("UPDATE playlists SET updated_at = ? WHERE id = ?", (time.time() if now is None else now, pid))

    def add_to_playlist(self, playlist: int | str, track_ids: Iterable[int], *, position: int | None = None,
                        now: float | None = None) -> list[int]:
        """Add tracks (in the order given; a track may be in a playlist more than once) at the
        end, or before the entry at ``position`` (0-based; past the end means the end).
        :class:`CatalogError` naming the first unknown track id, and then nothing is added.
        Returns the new entries' ids."""
        track_ids = [int(t) for t in track_ids]
        now = time.time() if now is None else now
        with self.transaction():
            pid = self._playlist_id(playlist)
            order = self._entry_ids(pid)
            new = []
            for tid in track_ids:
                row = self.fetchone("SELECT fingerprint, artist, title, duration FROM tracks WHERE id = ?", (tid,))
                if row is None:
                    raise CatalogError(f"no track {tid} in the catalog")
                new.append(self.execute(
                    "INSERT INTO playlist_entries(playlist_id, position, track_id, fingerprint, artist, title, "
                    "duration, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (pid, len(order) + len(new), tid, *row, now)))
            at = len(order) if position is None else max(0, min(int(position), len(order)))
            self._renumber(pid, order[:at] + new + order[at:], now)
        return new

    def remove_playlist_entries(self, playlist: int | str, entry_ids: Iterable[int], *,
                                now: float | None = None) -> int:
        """Remove entries (by entry id; ids of other playlists are ignored).  Returns how many went."""
        gone = {int(e) for e in entry_ids}
        with self.transaction():
            pid = self._playlist_id(playlist)
            order = self._entry_ids(pid)
            n = 0
            for eid in gone.intersection(order):
                n += self.execute("DELETE FROM playlist_entries WHERE id = ?", (eid,))
            self._renumber(pid, [e for e in order if e not in gone], now)
        return n

    def move_playlist_entries(self, playlist: int | str, entry_ids: Iterable[int], position: int, *,
                              now: float | None = None) -> list[int]:
        """Move entries (kept in their order) to just before the entry now at ``position``
        (0-based, counted before the move, as a drop between two rows gives it; ``len`` or more:
        the end).  Returns the playlist's entry ids in their new order."""
        moving = {int(e) for e in entry_ids}
        with self.transaction():
            pid = self._playlist_id(playlist)
            order = self._entry_ids(pid)
            unknown = moving.difference(order)
            if unknown:
                raise CatalogError(f"entry {min(unknown)} is not in this playlist")
            block = [e for e in order if e in moving]
            after = [e for e in order[max(0, int(position)):] if e not in moving]
            rest = [e for e in order if e not in moving]
            at = rest.index(after[0]) if after else len(rest)
            new_order = rest[:at] + block + rest[at:]
            self._renumber(pid, new_order, now)
        return new_order

    def replace_playlist_entries(self, playlist: int | str, track_ids: Iterable[int], *,
                                 now: float | None = None) -> list[int]:
        """Make the playlist exactly these tracks, in this order, in one transaction (an
        unknown track id leaves it as it was).  Returns the new entries' ids."""
        with self.transaction():
            pid = self._playlist_id(playlist)
            self.execute("DELETE FROM playlist_entries WHERE playlist_id = ?", (pid,))
            return self.add_to_playlist(pid, track_ids, now=now)

    # -- entries follow their songs, as ratings do ---------------------------------------------

    def update_track(self, track_id: int, fields, *, now: float | None = None) -> None:
        """:meth:`RatingStore.update_track`, keeping the track's playlist entries' copy of its
        fingerprint, artist, title and duration in step too."""
        with self.transaction():
            super().update_track(track_id, fields, now=now)
            if self._playlists_table():
                self.execute(
                    "UPDATE playlist_entries SET (fingerprint, artist, title, duration) = "
                    "(SELECT fingerprint, artist, title, duration FROM tracks WHERE id = ?) WHERE track_id = ?",
                    (int(track_id), int(track_id)))

    def follow_ratings(self, track_ids: Iterable[int] | None = None, *, windows: Windows | None = None) -> int:
        """:meth:`RatingStore.follow_ratings`, and then the playlist entries left behind follow
        their songs by the same rule (:meth:`follow_playlist_entries`).  Returns how many
        ratings moved."""
        with self.transaction():
            moved = super().follow_ratings(track_ids, windows=windows)
            if self._playlists_table():
                self.follow_playlist_entries(track_ids, windows=windows)
        return moved

    def follow_playlist_entries(self, track_ids: Iterable[int] | None = None, *,
                                windows: Windows | None = None) -> int:
        """Move each entry left behind -- detached, or on a track flagged missing -- to a present
        track of its song, as :meth:`RatingStore.follow_ratings` moves ratings (the same
        fingerprint, else :func:`core.songs.same_song`; the closest duration wins).  The entry
        keeps its place in its playlist.  Returns how many entries moved."""
        if not self.fetchone(
                "SELECT EXISTS (SELECT 1 FROM playlist_entries WHERE track_id IS NULL) OR EXISTS "
                "(SELECT 1 FROM tracks t JOIN playlist_entries e ON e.track_id = t.id WHERE t.missing = 1)")[0]:
            return 0
        with self.transaction():
            orphans = self.fetchall(
                "SELECT id, fingerprint, artist, title, duration FROM playlist_entries WHERE track_id IS NULL "
                "UNION ALL SELECT e.id, e.fingerprint, e.artist, e.title, e.duration FROM tracks t "
                "JOIN playlist_entries e ON e.track_id = t.id WHERE t.missing = 1")
            songs: SongFiles = self.song_files(track_ids, windows=windows)
            moved = 0
            for eid, fp, artist, title, duration in orphans:
                fits = songs.fits(fp, artist, title, duration)
                if fits:
                    self._follow_copy("playlist_entries", eid, SongFiles.closest(fits, duration))
                    moved += 1
        return moved

    def has_detached_playlist_entries(self) -> bool:
        return self.fetchone("SELECT EXISTS (SELECT 1 FROM playlist_entries WHERE track_id IS NULL)")[0] == 1
