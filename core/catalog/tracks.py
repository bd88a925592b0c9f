"""Library folders and tracks: one row per file, found again after a move.

A track row keeps its id through a rename or a move (:meth:`TrackStore.move_track`); when its
file disappears it is only marked missing (hidden from :meth:`~TrackStore.tracks`, kept with its
ratings and analysis) until :meth:`~TrackStore.purge_missing` deletes it.  ``Track.rating`` is
the current profile's rating (:mod:`core.catalog.profiles`).

The library is the set of folders in ``libraries`` that are not removed.  A folder taken out of
the library (:meth:`~TrackStore.remove_library`, :meth:`~TrackStore.switch_library`) keeps its row
and its tracks: they are *hidden* (left out of :meth:`~TrackStore.tracks` unless a folder still in
the library holds them) and come back when the folder is added again.
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Iterable, Mapping, Sequence

from core.catalog.db import CatalogError
from core.catalog.profiles import ProfileStore
from core.catalog.rows import TRACK_FIELDS, Library, Track, below

_TRACK_COLUMNS = [f.name for f in dataclasses.fields(Track) if f.name != "rating"]
_MISSING = _TRACK_COLUMNS.index("missing")

#: ``tracks(sort=...)``: the orders callers ask for (the library view sorts in memory itself).
_ORDER_BY = {
    "artist": "t.artist IS NULL, t.artist COLLATE NOCASE, t.album COLLATE NOCASE, t.disc_no, t.track_no, t.path",
    "id": "t.id",
}


def _track(row: Sequence) -> Track:
    values = list(row)
    values[_MISSING] = bool(values[_MISSING])
    return Track(*values)


def _is_below(path: str, root: str) -> bool:
    lo, hi = below(root)
    return lo <= path < hi


def _hidden_clauses(active: list[str], removed: list[str]) -> tuple[list[str], list]:
    """SQL leaving out the tracks below a removed folder that no folder in the library holds."""
    clauses, params = [], []
    for r in removed:
        if any(r == a or _is_below(r, a) for a in active):
            continue  # a folder in the library holds all of it
        inner = [a for a in active if _is_below(a, r)]  # sub-folders still in the library
        sql = "t.path >= ? AND t.path < ?"
        ps = list(below(r))
        for a in inner:
            sql += " AND NOT (t.path >= ? AND t.path < ?)"
            ps += below(a)
        clauses.append(f"NOT ({sql})")
        params += ps
    return clauses, params


class TrackStore(ProfileStore):
    """Library roots and track rows (a part of :class:`core.catalog.Catalog`)."""

    def _track_select(self) -> str:
        """``SELECT`` of every :class:`Track` column and the rating of the profile given as its
        parameter.  A catalog held at an older schema version (``target_version``) reads NULL
        for the columns added since."""
        sql = self.__dict__.get("_track_select_sql")
        if sql is None:
            have = {r[1] for r in self.fetchall("PRAGMA table_info(tracks)")}
            cols = ", ".join(f"t.{c}" if c in have else f"NULL AS {c}" for c in _TRACK_COLUMNS)
            sql = self._track_select_sql = (
                f"SELECT {cols}, COALESCE(r.rating, 0) "
                "FROM tracks t LEFT JOIN ratings r ON r.track_id = t.id AND r.profile_id = ?")
        return sql

    # -- libraries ---------------------------------------------------------------------------

    def add_library(self, root: str | os.PathLike) -> int:
        """Put folder ``root`` in the library (again, if it was removed: its tracks come back).
        Returns its id."""
        root = os.path.abspath(os.fspath(root))
        with self.transaction():
            row = self.fetchone("SELECT id, removed_at FROM libraries WHERE root = ?", (root,))
            if row:
                if row[1] is not None:
                    self.execute("UPDATE libraries SET removed_at = NULL WHERE id = ?", (row[0],))
                return row[0]
            return self.execute("INSERT INTO libraries(root, added_at) VALUES (?, ?)", (root, time.time()))

    def remove_library(self, root: str | os.PathLike, *, now: float | None = None) -> bool:
        """Take folder ``root`` out of the library: its tracks are hidden, nothing is deleted
        (likes, playlist entries and analysis stay).  False if it was not in the library."""
        root = os.path.abspath(os.fspath(root))
        return bool(self.execute("UPDATE libraries SET removed_at = ? WHERE root = ? AND removed_at IS NULL",
                                 (time.time() if now is None else now, root)))

    def switch_library(self, root: str | os.PathLike) -> int:
        """Make ``root`` the only folder of the library (the others are removed, as by
        :meth:`remove_library`).  Returns its id."""
        root = os.path.abspath(os.fspath(root))
        with self.transaction():
            lid = self.add_library(root)
            self.execute("UPDATE libraries SET removed_at = ? WHERE id != ? AND removed_at IS NULL", (time.time(), lid))
        return lid

    def library_roots(self, *, include_removed: bool = False) -> list[Library]:
        """The library's folders (also the removed ones with ``include_removed``), by path."""
        where = "" if include_removed else " WHERE removed_at IS NULL"
        return [Library(*r) for r in self.fetchall(
            "SELECT id, root, added_at, last_scanned_at, removed_at FROM libraries" + where + " ORDER BY root")]

    def _where(self, include_missing: bool, root: str | os.PathLike | None, include_hidden: bool,
               exclude: Iterable[str | os.PathLike] = ()) -> tuple[str, list]:
        clauses, params = [], []
        if not include_missing:
            clauses.append("t.missing = 0")
        if root is not None:
            clauses.append("t.path >= ? AND t.path < ?")
            params += below(root)
        if not include_hidden:
            active, removed = [], []
            for r, gone in self.fetchall("SELECT root, removed_at FROM libraries"):
                (active if gone is None else removed).append(r)
            if removed:
                c, p = _hidden_clauses(active, removed)
                clauses += c
                params += p
        for folder in exclude:
            clauses.append("NOT (t.path >= ? AND t.path < ?)")
            params += below(folder)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def mark_library_scanned(self, root: str | os.PathLike, when: float | None = None) -> None:
        self.execute(
            "UPDATE libraries SET last_scanned_at = ? WHERE root = ?",
            (time.time() if when is None else when, os.path.abspath(os.fspath(root))),
        )

    # -- writing tracks ----------------------------------------------------------------------

    def add_track(self, fields: Mapping[str, Any], *, now: float | None = None) -> int:
        """Insert a track (``path``, ``size``, ``mtime_ns``, ``fingerprint`` required; other
        TRACK_FIELDS optional).  Returns its id."""
        now = time.time() if now is None else now
        for required in ("path", "size", "mtime_ns", "fingerprint"):
            if required not in fields:
                raise CatalogError(f"add_track: {required} is required")
        cols = [k for k in TRACK_FIELDS if k in fields]
        values = [fields[k] for k in cols] + [now, now, now]
        cols += ["added_at", "updated_at", "last_seen_at"]
        return self.execute(f"INSERT INTO tracks({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)

    def update_track(self, track_id: int, fields: Mapping[str, Any], *, now: float | None = None) -> None:
        """Change a track's columns (any of TRACK_FIELDS).  Clears its missing flag: the caller
        has just seen the file."""
        now = time.time() if now is None else now
        bad = set(fields) - set(TRACK_FIELDS)
        if bad:
            raise CatalogError(f"update_track: unknown fields {sorted(bad)}")
        cols = list(fields) + ["updated_at", "last_seen_at", "missing", "missing_since"]
        values = [fields[k] for k in fields] + [now, now, 0, None, int(track_id)]
        if not self.execute(f"UPDATE tracks SET {', '.join(c + ' = ?' for c in cols)} WHERE id = ?", values):
            raise CatalogError(f"no track {track_id}")

    def move_track(self, track_id: int, new_path: str, fields: Mapping[str, Any], *, now: float | None = None) -> None:
        """The file of ``track_id`` now lives at ``new_path``: same row, same id, same rating."""
        self.update_track(track_id, dict(fields) | {"path": os.path.abspath(new_path)}, now=now)

    def mark_seen(self, track_ids: Iterable[int], *, now: float | None = None) -> int:
        """Files seen unchanged: refresh last_seen_at and clear the missing flag.  Returns how
        many of them were missing before."""
        now = time.time() if now is None else now
        with self.transaction():
            self.execute("CREATE TEMP TABLE IF NOT EXISTS _seen(id INTEGER PRIMARY KEY)")
            self.execute("DELETE FROM _seen")
            self.executemany("INSERT OR IGNORE INTO _seen(id) VALUES (?)", [(int(i),) for i in track_ids])
            restored = self.execute(
                "UPDATE tracks SET missing = 0, missing_since = NULL WHERE missing = 1 AND id IN (SELECT id FROM _seen)")
            self.execute("UPDATE tracks SET last_seen_at = ? WHERE id IN (SELECT id FROM _seen)", (now,))
            self.execute("DELETE FROM _seen")
        return restored

    def mark_missing(self, track_ids: Iterable[int], *, now: float | None = None) -> int:
        """Files that are gone: flag them (rows and ratings stay).  Returns how many were newly flagged."""
        now = time.time() if now is None else now
        with self.transaction():
            return sum(self.execute("UPDATE tracks SET missing = 1, missing_since = ? WHERE id = ? AND missing = 0",
                                    (now, int(i))) for i in track_ids)

    def purge_missing(self, root: str | os.PathLike | None = None) -> int:
        """Delete the rows of missing tracks (under ``root``).  Their ratings stay, detached, and
        re-attach if the file is added again.  Returns the number of rows deleted."""
        where, params = "missing = 1", []
        if root is not None:
            where += " AND path >= ? AND path < ?"
            params = below(root)
        with self.transaction():
            return self.execute(f"DELETE FROM tracks WHERE {where}", params)

    # -- reading tracks ----------------------------------------------------------------------

    def get_track(self, track_id: int) -> Track | None:
        row = self.fetchone(self._track_select() + " WHERE t.id = ?", (self._pid_or_none(None), int(track_id)))
        return _track(row) if row else None

    def track_by_path(self, path: str | os.PathLike) -> Track | None:
        row = self.fetchone(self._track_select() + " WHERE t.path = ?",
                            (self._pid_or_none(None), os.path.abspath(os.fspath(path))))
        return _track(row) if row else None

    def tracks_by_fingerprint(self, fingerprint: str) -> list[Track]:
        return [_track(r) for r in self.fetchall(self._track_select() + " WHERE t.fingerprint = ? ORDER BY t.id",
                                                 (self._pid_or_none(None), fingerprint))]

    def tracks(self, *, root: str | os.PathLike | None = None, include_missing: bool = False,
               include_hidden: bool = False, exclude: Iterable[str | os.PathLike] = (),
               sort: str = "artist") -> list[Track]:
        """Every present track (also the missing ones with ``include_missing``), below folder
        ``root`` if given; ``sort="artist"`` (artist, album, disc, track number; untagged last)
        or ``"id"`` (the order they were added).  Tracks of folders removed from the library
        are left out unless ``include_hidden``, and those below the folders in ``exclude``
        always (folders that cannot be reached now)."""
        if sort not in _ORDER_BY:
            raise CatalogError(f"unknown sort key {sort!r}; one of {', '.join(_ORDER_BY)}")
        where, params = self._where(include_missing, root, include_hidden, exclude)
        return [_track(r) for r in self.fetchall(self._track_select() + where + " ORDER BY " + _ORDER_BY[sort],
                                                 [self._pid_or_none(None), *params])]

    def track_count(self, *, root: str | os.PathLike | None = None, include_missing: bool = False,
                    include_hidden: bool = False) -> int:
        where, params = self._where(include_missing, root, include_hidden)
        return self.fetchone("SELECT COUNT(*) FROM tracks t" + where, params)[0]

    def missing_count(self, root: str | os.PathLike | None = None) -> int:
        """Tracks marked missing (below folder ``root`` when given)."""
        return (self.track_count(root=root, include_missing=True, include_hidden=True)
                - self.track_count(root=root, include_hidden=True))

    def missing_by_fingerprint(self) -> dict[str, list[int]]:
        """fingerprint -> ids of the tracks marked missing (where a moved file may come back)."""
        out: dict[str, list[int]] = {}
        for tid, fp in self.fetchall("SELECT id, fingerprint FROM tracks WHERE missing = 1"):
            out.setdefault(fp, []).append(tid)
        return out

    def rows_under(self, root: str | os.PathLike) -> dict[str, tuple[int, int, int, bool, str]]:
        """path -> (id, size, mtime_ns, missing, fingerprint) for every track below ``root``
        (what a scan compares the folder with)."""
        rows = self.fetchall(
            "SELECT path, id, size, mtime_ns, missing, fingerprint FROM tracks WHERE path >= ? AND path < ?", below(root))
        return {r[0]: (r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows}
