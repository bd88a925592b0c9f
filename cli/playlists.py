"""``melograph playlists ACTION ...``: named, ordered lists of tracks, and M3U/M3U8 files.

::

    playlists [list]                        every playlist with its length
    playlists show NAME                     its tracks in order (a missing file is marked, never hidden)
    playlists create NAME
    playlists add NAME TRACK...             TRACK: a file path in the catalog, or a track id
    playlists import FILE.m3u8 [--name NAME]   name: the file's name without extension by default
    playlists export NAME FILE.m3u8         UTF-8 extended M3U, paths relative to the file's folder
    playlists rename OLD NEW
    playlists delete NAME [--yes]           --yes when it has entries (the tracks stay)

Names match regardless of case.  An entry follows its song to a new file as a like does (see
core/catalog/playlists.py).  Import reports each entry it skipped, with the reason
(core/playlists.py).
"""
from __future__ import annotations

import argparse
import os

from cli.common import CliError, data_dir_arg, emit, existing_file, fail, nonempty, open_catalog, print_error, shown


def playlist_name(value: str) -> str:
    """A name a playlist can have (checked before anything is opened)."""
    from core.catalog import CatalogError, check_playlist_name

    nonempty(value)
    try:
        return check_playlist_name(value)
    except CatalogError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def output_file(value: str) -> str:
    """A file to write: not a folder, in a folder that exists."""
    nonempty(value)
    path = os.path.abspath(os.path.expanduser(value))
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{value}: a folder, not a file")
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(
            f"{value}: {'not a folder' if os.path.lexists(folder) else 'no such folder'}: {folder}")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    """--json and --data-dir after the action's name too (kept from before it unless given again)."""
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print machine-readable JSON on stdout")
    p.add_argument("--data-dir", metavar="DIR", type=data_dir_arg, default=argparse.SUPPRESS,
                   help="catalog location (default: $MELOGRAPH_DATA_DIR or the user's data directory)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.default = "list"
    actions = {
        "list": "list the playlists",
        "show": "a playlist's tracks in order",
        "create": "make an empty playlist",
        "add": "add tracks at the end of a playlist",
        "import": "make a playlist of an M3U/M3U8 file's entries",
        "export": "write a playlist as an M3U8 file",
        "rename": "rename a playlist",
        "delete": "delete a playlist (its tracks stay in the library)",
    }
    ps = {name: sub.add_parser(name, help=text, description=text) for name, text in actions.items()}
    for p in ps.values():
        _common(p)
    ps["show"].add_argument("name", metavar="NAME", type=nonempty, help="the playlist")
    ps["create"].add_argument("name", metavar="NEW_NAME", type=playlist_name, help="its name")
    ps["add"].add_argument("name", metavar="NAME", type=nonempty, help="the playlist")
    ps["add"].add_argument("tracks", nargs="+", metavar="TRACK", type=nonempty,
                           help="a file path in the catalog or a track id")
    ps["import"].add_argument("file", metavar="FILE", type=existing_file, help="an .m3u or .m3u8 file")
    ps["import"].add_argument("--name", metavar="NEW_NAME", type=playlist_name, default=None,
                              help="the new playlist's name (default: the file's name without extension)")
    ps["export"].add_argument("name", metavar="NAME", type=nonempty, help="the playlist")
    ps["export"].add_argument("file", metavar="OUT_FILE", type=output_file, help="the .m3u8 file to write")
    ps["rename"].add_argument("name", metavar="NAME", type=nonempty, help="the playlist")
    ps["rename"].add_argument("new_name", metavar="NEW_NAME", type=playlist_name, help="its new name")
    ps["delete"].add_argument("name", metavar="NAME", type=nonempty, help="the playlist")
    ps["delete"].add_argument("--yes", action="store_true", help="delete it even though it has entries")


def _length(seconds: float | None) -> str:
    if seconds is None:
        return "?:??"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _summary(p) -> str:
    missing = f", {p.missing} missing" if p.missing else ""
    return f"{p.name}: {p.entries} track{'s' if p.entries != 1 else ''}{missing}"


def run(args: argparse.Namespace) -> int:
    from core.catalog import CatalogError
    from core.playlists import PlaylistFileError

    action = args.action or "list"
    try:
        with open_catalog(args) as catalog:
            return _ACTIONS[action](args, catalog)
    except (CatalogError, PlaylistFileError) as exc:
        raise CliError(str(exc)) from exc


def _list(args, catalog) -> int:
    rows = catalog.playlists()
    lines = [_summary(p) for p in rows] or ["no playlists yet (make one with: python main.py playlists create NAME)"]
    emit(args, {"playlists": [p.as_dict() for p in rows]}, "\n".join(lines))
    return 0


def _show(args, catalog) -> int:
    p = catalog.playlist(args.name)
    entries = catalog.playlist_entries(p.id)
    total = sum((e.track.duration if e.track and e.track.duration else e.duration) or 0.0 for e in entries)
    lines = [f"{_summary(p)} ({_length(total)})"]
    for i, e in enumerate(entries, 1):
        d = e.track.duration if e.track and e.track.duration else e.duration
        where = "missing, no file known" if e.path is None else shown(e.path) + (" [missing]" if e.missing else "")
        lines.append(f"{i:3d}. {e.display_artist or '?'} - {e.display_title} ({_length(d)})  {where}")
    emit(args, {"playlist": p.as_dict(), "entries": [e.as_dict() for e in entries]}, "\n".join(lines))
    return 0


def _create(args, catalog) -> int:
    p = catalog.create_playlist(args.name)
    emit(args, {"playlist": p.as_dict()},
         f"created playlist '{p.name}': add tracks with  python main.py playlists add '{p.name}' TRACK...")
    return 0


def _add(args, catalog) -> int:
    from cli.like import _resolve

    p = catalog.playlist(args.name)
    ids, errors = [], []
    for ref in args.tracks:
        track, why = _resolve(catalog, ref, add=False)
        if track is None:
            errors.append({"track": ref, "error": "not in the catalog (scan its folder first)"
                           if why == "not in the catalog" else why})
        else:
            ids.append(track.id)
    if ids:
        catalog.add_to_playlist(p.id, ids)
    p = catalog.playlist(p.id)
    if args.json:
        emit(args, {"playlist": p.as_dict(), "added": ids, "errors": errors})
    else:
        if ids:
            print(f"added {len(ids)} track{'s' if len(ids) != 1 else ''} to '{p.name}' ({p.entries} now)")
        for e in errors:
            print_error(f"{shown(e['track'])}: {e['error']}")
    return 1 if errors else 0


def _import(args, catalog) -> int:
    from core.playlists import import_m3u

    report = import_m3u(catalog, args.file, name=args.name)
    total = len(report.added) + len(report.skipped)
    lines = [f"line {s.line_no}: {shown(s.entry)}: {s.reason}" for s in report.skipped]
    if report.playlist is None:  # none made
        message = f"nothing imported from {args.file}: " + (f"all {total} entries skipped" if total
                                                             else "it lists no entries")
        if args.json:
            emit(args, {**report.as_dict(), "error": message})
            print_error(message)
            return 1
        if lines:
            print("\n".join(lines))
        return fail(args, message)
    head = (f"imported {len(report.added)} of {total} entries from {args.file} into '{report.playlist.name}' "
            f"(read as {report.encoding})" + (f"; skipped {len(report.skipped)}:" if report.skipped else ""))
    emit(args, report.as_dict(), "\n".join([head, *lines]))
    return 0


def _export(args, catalog) -> int:
    from core.playlists import export_m3u

    report = export_m3u(catalog, args.name, args.file)
    p = catalog.playlist(args.name)
    lines = [f"wrote {report.written} entr{'y' if report.written == 1 else 'ies'} of '{p.name}' to {report.path}"
             + (f" ({report.missing} of them missing files, kept with their last path)" if report.missing else "")]
    lines += [f"left out (no file known): {name}" for name in report.left_out]
    emit(args, {"playlist": p.name, **report.as_dict()}, "\n".join(lines))
    return 0


def _rename(args, catalog) -> int:
    old = catalog.playlist(args.name)
    p = catalog.rename_playlist(old.id, args.new_name)
    emit(args, {"playlist": p.as_dict()}, f"renamed playlist '{old.name}' to '{p.name}'")
    return 0


def _delete(args, catalog) -> int:
    p = catalog.playlist(args.name)
    if p.entries and not args.yes:
        return fail(args, f"playlist '{p.name}' has {p.entries} entries; add --yes to delete it "
                          "(its tracks stay in the library)", 2)
    n = catalog.delete_playlist(p.id)
    emit(args, {"deleted": p.name, "entries": n}, f"deleted playlist '{p.name}' ({n} entries; the tracks stay)")
    return 0


_ACTIONS = {"list": _list, "show": _show, "create": _create, "add": _add, "import": _import, "export": _export,
            "rename": _rename, "delete": _delete}
