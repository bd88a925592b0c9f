"""``melograph catalog check | backup | restore [--from FILE] [--json]``: the catalog file itself.

* ``check``: SQLite's integrity check of the catalog, and a quick check of each of its rolling
  backups (exit status 1 when the catalog is damaged or missing).
* ``backup``: a backup now, beside the catalog (``<file>.bak-v<version>-<date>-<time>``).  The
  catalog also takes one itself before a migration and once a day; the newest three are kept.
* ``restore``: replace the catalog with its newest good backup (or ``--from FILE``), keeping the
  replaced file beside it (renamed, never deleted) and carrying over the likes and profiles it
  still holds that are newer than the backup; says what it could not read.  Close the app first.
"""
from __future__ import annotations

import argparse

from cli.common import CliError, emit, existing_file, print_error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("check", "backup", "restore"), help="what to do")
    parser.add_argument("--from", dest="source", metavar="FILE", default=None, type=existing_file,
                        help="restore: the copy to restore (default: the newest good backup)")


def _check(args, path) -> int:
    from core.catalog.recovery import check_catalog

    doc = check_catalog(path)
    lines = [f"Catalog {path}: " + ("sound" if doc["ok"] else "missing" if not doc["exists"] else "DAMAGED")]
    lines += [f"  {p}" for p in doc["problems"][:10]]
    lines.append(f"backups: {len(doc['backups'])}" + ("" if doc["backups"] else " (one is taken at the next open)"))
    for b in doc["backups"]:
        state = "sound" if b["ok"] else f"damaged ({b['problems'][0] if b['problems'] else '?'})"
        lines.append(f"  {b['path']} (taken {b['taken_at']}, schema {b['schema_version']}): {state}")
    emit(args, doc, "\n".join(lines))
    if doc["ok"]:
        return 0
    if not doc["exists"]:
        print_error(f"{path}: there is no catalog here yet")
    else:
        way = "python main.py catalog restore" + ("" if doc["newest_good_backup"] else
                                                   " (no good backup: it keeps the likes it can still read)")
        print_error(f"{path}: the catalog is damaged ({doc['problems'][0]}); restore it with: {way}")
    return 1


def _restore_text(r: dict) -> str:
    c, p = r["ratings"], r["profiles"]
    if r["restored_from"]:
        lines = [f"Restored {r['catalog']} from {r['restored_from']} (taken {r['backup_taken_at']})"]
    else:
        lines = [f"Replaced {r['catalog']} with a new catalog (there was no good backup)"]
    if r["kept_aside"]:
        lines.append(f"the replaced file is kept as {r['kept_aside']}")
    lines.append(f"likes/dislikes: {c['in_backup']} in the backup; {c['carried_over']} newer ones carried over "
                 f"from the replaced file (of {c['read']} read there)")
    if c["waiting_for_their_track"]:
        lines.append(f"  {c['waiting_for_their_track']} of them wait for their track: scan your music folder "
                     "(python main.py scan FOLDER) and they come back with it")
    if p["carried_over"]:
        lines.append(f"profiles carried over: {', '.join(p['carried_over'])}")
    pl, h = r.get("playlists") or {}, r.get("history") or {}
    if pl.get("carried_over"):
        lines.append(f"playlists carried over as the replaced file had them: {', '.join(pl['carried_over'])}")
    if h.get("carried_over"):
        lines.append(f"listening history: {h['carried_over']} plays/skips counts newer than the backup carried over")
    for what, part in (("playlists", pl), ("listening history", h)):
        if part.get("error"):
            lines.append(f"warning: could not read the {what} of the replaced file ({part['error']}); "
                         f"it is kept as {r['kept_aside']}")
    if c["only_in_backup"] and not c["unreadable"]:
        lines.append(f"{c['only_in_backup']} likes/dislikes of the backup were not in the replaced file "
                     "(taken back since?): kept")
    if c["unreadable"]:
        since = r["backup_taken_at"] or "the damage"
        lines.append("warning: could not read all the likes/dislikes and profiles of the replaced file "
                     f"({c['error']}): those made after {since} and not counted above are lost; "
                     f"the replaced file is kept as {r['kept_aside']}")
    lines.append("tracks and genre results newer than the backup come back with: python main.py scan FOLDER, "
                 "then python main.py analyze")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from core.catalog import KEEP_BACKUPS, CatalogError
    from core.catalog.db import backup_files
    from core.catalog.recovery import backup_catalog, restore_catalog
    from core.paths import catalog_path

    path = catalog_path(args.data_dir)
    if args.source is not None and args.action != "restore":
        raise CliError("--from is for restore", 2)
    try:
        if args.action == "check":
            return _check(args, path)
        if args.action == "backup":
            made = backup_catalog(path)
            kept = [str(b) for b in backup_files(path)]
            emit(args, {"catalog": str(path), "backup": str(made), "backups": kept},
                 f"backed up {path} to {made} (backups kept: {len(kept)}, the newest {KEEP_BACKUPS} at most)")
            return 0
        report = restore_catalog(path, args.source)
    except CatalogError as exc:
        raise CliError(str(exc)) from exc
    emit(args, report, _restore_text(report))
    return 0
