"""Checking, backing up and restoring a catalog file (``python main.py catalog check|backup|restore``).

* :func:`check_catalog` -- SQLite's ``integrity_check`` of the catalog and ``quick_check`` of
  each rolling backup beside it.
* :func:`backup_catalog` -- a backup now (the rolling ones are taken by :class:`Catalog` itself).
* :func:`restore_catalog` -- the catalog replaced by its newest good backup (or a named copy),
  migrated to the current schema, with what the replaced file still holds carried over: the
  profiles, the likes/dislikes made after the backup, the playlists as it had them, and its
  listening history (plays and skips only grow, so the larger count and the later time win).  A
  like (or a playlist entry, or a history row) whose track the backup does not have yet stays detached and comes back
  with its track at the next scan (by fingerprint, or artist, title and duration).  What could not be read is said, never silently dropped.  The
  replaced file is kept beside it as ``<file>.before-restore-<date>-<time>`` (with its ``-wal``),
  never deleted.  With no good backup, a damaged catalog is replaced by a new one holding the
  profiles and likes it can still read.

Close the app before a restore: a program still holding the old file keeps writing to it.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from core.catalog import Catalog
from core.catalog.db import (
    CatalogDamaged,
    CatalogError,
    backup_files,
    backup_version,
    copy_database,
    file_problems,
    read_rows,
)

_RATING_COLUMNS = "track_id, rating, rated_at, fingerprint, artist, title, duration"


def _when(t: float | None) -> str | None:
    return None if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _exists(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def check_catalog(path: str | os.PathLike) -> dict[str, Any]:
    """``{"catalog", "exists", "ok", "problems", "schema_version", "backups": [{"path",
    "taken_at", "schema_version", "ok", "problems"}, ...] (newest first), "newest_good_backup"}``."""
    path = Path(path)
    exists = _exists(path)
    problems = file_problems(path, full=True) if exists else []
    version = None
    if exists and not problems:
        rows, _ = read_rows(path, "PRAGMA user_version")
        version = int(rows[0][0]) if rows else None
    backups = []
    for b in backup_files(path):
        found = file_problems(b, immutable=True)
        backups.append({"path": str(b), "taken_at": _when(b.stat().st_mtime), "schema_version": backup_version(b),
                        "ok": not found, "problems": found[:3]})
    return {"catalog": str(path), "exists": exists, "ok": exists and not problems, "problems": problems,
            "schema_version": version, "backups": backups,
            "newest_good_backup": next((b["path"] for b in backups if b["ok"]), None)}


def backup_catalog(path: str | os.PathLike) -> Path:
    """Back the catalog up now (a damaged one is refused: :class:`CatalogDamaged`).  Returns
    the backup's path (the one opening it took, if it took one)."""
    path = Path(path)
    if not _exists(path):
        raise CatalogError(f"{path}: there is no catalog here yet, nothing to back up")
    with Catalog(path) as cat:
        return cat.backed_up or cat.backup()


def _read_current(path: Path) -> tuple[list[tuple], list[tuple], list[str]]:
    """What the file still holds: ``(profiles [(id, name, created_at)], ratings [(profile_id,
    track_id, rating, rated_at, fingerprint, artist, title, duration)], reasons it stopped)``."""
    if not _exists(path):
        return [], [], []
    errors = []
    profiles, err = read_rows(path, "SELECT id, name, created_at FROM profiles ORDER BY id")
    if err and "no such table" in err:  # a catalog from before profiles: every like is default's
        profiles, err = [(1, "default", 0.0)], None
    if err:
        errors.append(f"profiles: {err}")
    ratings, err = read_rows(path, f"SELECT profile_id, {_RATING_COLUMNS} FROM ratings ORDER BY id")
    if err and "no such column" in err:
        ratings, err = read_rows(path, f"SELECT 1, {_RATING_COLUMNS} FROM ratings ORDER BY id")
    if err:
        errors.append(f"likes: {err}")
    return profiles, ratings, errors


def _carry_over(cat: Catalog, profiles: list[tuple], ratings: list[tuple]) -> dict[str, Any]:
    """Add to ``cat`` the profiles and ratings (read from the replaced file) it lacks or holds
    with another value.  Runs inside the caller's transaction."""
    known = {name.casefold(): pid for pid, name in cat.fetchall("SELECT id, name FROM profiles")}
    carried_profiles, pid_map = [], {}
    for old_id, name, created_at in profiles:
        if name.casefold() not in known:
            known[name.casefold()] = cat.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?)",
                                                 (name, created_at))
            carried_profiles.append(name)
        pid_map[old_id] = known[name.casefold()]
    pid_map.setdefault(1, 1)  # ``default`` is id 1 in every catalog

    def key(pid, track_id, fingerprint):
        return (pid, fingerprint) if fingerprint else (pid, "track", track_id)

    have = {key(pid, tid, fp): (rid, value) for rid, pid, tid, value, fp in
            cat.fetchall("SELECT id, profile_id, track_id, rating, fingerprint FROM ratings")}
    in_backup = len(have)
    seen, carried, detached, unplaced = set(), 0, 0, 0
    for old_pid, tid, value, rated_at, fp, artist, title, duration in ratings:
        pid = pid_map.get(old_pid)
        if pid is None:  # its profile could not be read
            unplaced += 1
            continue
        k = key(pid, tid, fp)
        seen.add(k)
        if k in have:
            rid, old_value = have[k]
            if old_value != value:
                cat.execute("UPDATE ratings SET rating = ?, rated_at = ? WHERE id = ?", (value, rated_at, rid))
                carried += 1
            continue
        # its track in the restored file: the one with its fingerprint (the same id first)
        row = cat.fetchone("SELECT id FROM tracks WHERE fingerprint = ? ORDER BY id = ? DESC, missing, id",
                           (fp, tid if tid is not None else -1)) if fp else None
        track = row[0] if row else None
        if track is not None and cat.fetchone("SELECT 1 FROM ratings WHERE profile_id = ? AND track_id = ?",
                                              (pid, track)):
            cat.execute("UPDATE ratings SET rating = ?, rated_at = ?, fingerprint = ?, artist = ?, title = ?, "
                        "duration = ? WHERE profile_id = ? AND track_id = ?",
                        (value, rated_at, fp, artist, title, duration, pid, track))
        else:
            cat.execute("INSERT INTO ratings(profile_id, track_id, rating, rated_at, fingerprint, artist, title, "
                        "duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (pid, track, value, rated_at, fp, artist, title, duration))
            detached += track is None
        carried += 1
    return {"in_backup": in_backup, "read": len(ratings), "carried_over": carried,
            "waiting_for_their_track": detached, "profile_unreadable": unplaced,
            "only_in_backup": len(set(have) - seen), "carried_profiles": carried_profiles, "profile_ids": pid_map}


def _read_history(path: Path) -> tuple[list[tuple], str | None]:
    """The replaced file's listening history ``[(profile_id, track_id, plays, skips,
    last_played_at, last_skipped_at, fingerprint, artist, title, duration)]`` and why it could not
    be read (None; a file from before the history has none)."""
    if not _exists(path):
        return [], None
    rows, err = read_rows(path, "SELECT profile_id, track_id, plays, skips, last_played_at, last_skipped_at, "
                                "fingerprint, artist, title, duration FROM play_history ORDER BY id")
    if err and "no such table" in err:
        return [], None
    return rows, err


def _carry_over_history(cat: Catalog, pid_map: dict, rows: list[tuple]) -> int:
    """Put the replaced file's listening history into ``cat``: counts only grow, so for each
    profile and song the larger of the two counts and the later of the two times are kept.  A
    row whose track the restored file lacks stays detached (it follows its song back at the next
    scan).  Returns how many rows changed.  Runs inside the caller's transaction."""
    changed = 0
    for old_pid, tid, plays, skips, played_at, skipped_at, fp, artist, title, duration in rows:
        pid = pid_map.get(old_pid)
        if pid is None:
            continue
        found = cat.fetchone("SELECT id FROM tracks WHERE fingerprint = ? ORDER BY id = ? DESC, missing, id",
                             (fp, tid if tid is not None else -1)) if fp else None
        track = found[0] if found else None
        there = (cat.fetchone("SELECT id, plays, skips, last_played_at, last_skipped_at FROM play_history "
                              "WHERE profile_id = ? AND track_id = ?", (pid, track)) if track is not None else
                 cat.fetchone("SELECT id, plays, skips, last_played_at, last_skipped_at FROM play_history "
                              "WHERE profile_id = ? AND track_id IS NULL AND fingerprint = ?", (pid, fp)))
        if there is None:
            cat.execute("INSERT INTO play_history(profile_id, track_id, plays, skips, last_played_at, last_skipped_at, "
                        "fingerprint, artist, title, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (pid, track, plays, skips, played_at, skipped_at, fp, artist, title, duration))
            changed += 1
            continue
        hid, have_plays, have_skips, have_played, have_skipped = there

        def later(a, b):
            return b if a is None else a if b is None else max(a, b)

        new = (max(have_plays, plays), max(have_skips, skips), later(have_played, played_at),
               later(have_skipped, skipped_at))
        if new != (have_plays, have_skips, have_played, have_skipped):
            cat.execute("UPDATE play_history SET plays = ?, skips = ?, last_played_at = ?, last_skipped_at = ? "
                        "WHERE id = ?", (*new, hid))
            changed += 1
    return changed


def _read_playlists(path: Path) -> tuple[list[tuple], list[tuple], str | None]:
    """The replaced file's playlists ``[(id, name, created_at, updated_at)]`` and entries
    ``[(playlist_id, track_id, fingerprint, artist, title, duration, added_at)]`` in order, and
    why they could not be read (None; a file from before playlists has none)."""
    if not _exists(path):
        return [], [], None
    playlists, err = read_rows(path, "SELECT id, name, created_at, updated_at FROM playlists ORDER BY id")
    if err and "no such table" in err:
        return [], [], None
    entries, err2 = read_rows(path, "SELECT playlist_id, track_id, fingerprint, artist, title, duration, added_at "
                                    "FROM playlist_entries ORDER BY playlist_id, position, id")
    return playlists, entries, err or err2


def _carry_over_playlists(cat: Catalog, playlists: list[tuple], entries: list[tuple]) -> list[str]:
    """Put in ``cat`` each playlist of the replaced file as that file had it (newer than the
    backup), its entries pointing at the restored file's tracks by fingerprint, or detached
    (they follow their song back at the next scan).  A playlist only the backup has stays.
    Returns the names carried over.  Runs inside the caller's transaction."""
    from core.catalog.playlists import name_key

    by_playlist: dict[int, list[tuple]] = {}
    for pid, *rest in entries:
        by_playlist.setdefault(pid, []).append(tuple(rest))
    carried = []
    for old_id, name, created_at, updated_at in playlists:
        mine = by_playlist.get(old_id, [])
        row = cat.fetchone("SELECT id FROM playlists WHERE name_key = ?", (name_key(name),))
        if row is not None:
            have = cat.fetchall("SELECT fingerprint FROM playlist_entries WHERE playlist_id = ? ORDER BY position, id",
                                (row[0],))
            if [h[0] for h in have] == [e[1] for e in mine]:
                continue  # the backup has it as it is
            cat.execute("DELETE FROM playlist_entries WHERE playlist_id = ?", (row[0],))
            cat.execute("UPDATE playlists SET name = ?, updated_at = ? WHERE id = ?", (name, updated_at, row[0]))
            pid = row[0]
        else:
            pid = cat.execute("INSERT INTO playlists(name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?)",
                              (name, name_key(name), created_at, updated_at))
        for position, (tid, fp, artist, title, duration, added_at) in enumerate(mine):
            found = cat.fetchone("SELECT id FROM tracks WHERE fingerprint = ? ORDER BY id = ? DESC, missing, id",
                                 (fp, tid if tid is not None else -1)) if fp else None
            cat.execute("INSERT INTO playlist_entries(playlist_id, position, track_id, fingerprint, artist, title, "
                        "duration, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (pid, position, found[0] if found else None, fp, artist, title, duration, added_at))
        carried.append(name)
    return carried


def _aside_name(path: Path) -> Path:
    aside = path.with_name(f"{path.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while aside.exists():
        aside = aside.with_name(f"{aside.name.split('~')[0]}~{n}")
        n += 1
    return aside


def restore_catalog(path: str | os.PathLike, source: str | os.PathLike | None = None) -> dict[str, Any]:
    """Replace the catalog at ``path`` with ``source`` (default: its newest good backup) and
    carry over what the replaced file still holds (see the module's docstring).  Returns the
    report: ``catalog``, ``restored_from`` (None: a new catalog), ``backup_taken_at``,
    ``kept_aside``, ``ratings`` {``in_backup``, ``read``, ``carried_over``,
    ``waiting_for_their_track``, ``only_in_backup``, ``unreadable``, ``error``}, ``profiles``
    {``carried_over``, ``unreadable``}, ``playlists`` {``carried_over`` (names), ``error``},
    ``history`` {``read``, ``carried_over`` (rows added or raised), ``error``}.
    Raises :class:`CatalogError` (nothing changed) when there is nothing good to restore."""
    path = Path(path)
    if source is not None:
        source = Path(source).expanduser().absolute()
        if not source.is_file():
            raise CatalogError(f"{source}: no such file")
        problems = file_problems(source, immutable=True)
        if problems:
            raise CatalogDamaged(f"{source}: this copy is damaged too ({problems[0]}); name another with --from, "
                                 "or leave --from out to use the newest good backup", problems)
    else:
        source = next((b for b in backup_files(path) if not file_problems(b, immutable=True)), None)
    current_damaged = _exists(path) and bool(file_problems(path))
    if source is None:
        if not _exists(path):
            raise CatalogError(f"{path}: there is no catalog and no backup of it to restore")
        if not current_damaged:
            raise CatalogError(f"{path}: the catalog is sound and has no good backup: nothing to restore "
                               "(take a backup with: python main.py catalog backup)")
    profiles, ratings, errors = _read_current(path)
    playlists, entries, playlists_error = _read_playlists(path)
    history, history_error = _read_history(path)

    work = path.with_name(path.name + ".restoring")
    for leftover in (work, *(Path(f"{work}{s}") for s in ("-journal", "-wal", "-shm"))):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    try:
        if source is not None:
            copy_database(source, work)
        cat = Catalog(work, keep_backups=0)  # migrates an older backup to the current schema
        try:
            with cat.transaction():
                carried = _carry_over(cat, profiles, ratings)
                carried_playlists = _carry_over_playlists(cat, playlists, entries)
                carried_history = _carry_over_history(cat, carried["profile_ids"], history)
            problems = cat.integrity_problems()
            if problems:
                raise CatalogError(f"{path}: the restored copy fails its check ({problems[0]}); nothing was changed")
        finally:
            cat.close()
        # the replaced file (and its -wal, which belongs with it) kept aside, then the swap
        aside = None
        if path.exists():
            aside = _aside_name(path)
            try:
                os.link(path, aside)
            except OSError:
                os.rename(path, aside)
            for side in ("-wal", "-shm"):
                if Path(f"{path}{side}").exists():
                    os.replace(f"{path}{side}", f"{aside}{side}")
        os.replace(work, path)
    except OSError as exc:
        raise CatalogError(f"{path}: cannot restore the catalog: {exc.strerror or exc}") from exc
    finally:
        for leftover in (work, *(Path(f"{work}{s}") for s in ("-journal", "-wal", "-shm"))):
            with contextlib.suppress(OSError):
                leftover.unlink()

    unreadable = bool(errors) or carried["profile_unreadable"] > 0
    return {
        "catalog": str(path),
        "restored_from": None if source is None else str(source),
        "backup_taken_at": None if source is None else _when(source.stat().st_mtime),
        "kept_aside": None if aside is None else str(aside),
        "replaced_was_damaged": current_damaged,
        "ratings": {k: carried[k] for k in ("in_backup", "read", "carried_over", "waiting_for_their_track",
                                             "only_in_backup", "profile_unreadable")}
                   | {"unreadable": unreadable, "error": "; ".join(errors) or None},
        "profiles": {"carried_over": carried["carried_profiles"], "unreadable": any(e.startswith("profiles")
                                                                                    for e in errors)},
        "playlists": {"carried_over": carried_playlists, "error": playlists_error},
        "history": {"read": len(history), "carried_over": carried_history, "error": history_error},
    }
